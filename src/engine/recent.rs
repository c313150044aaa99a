//! A bounded "seen recently" set: feeds replay frames after a reconnect and
//! the engine must not act twice on one trade. Memory stays flat: the oldest keys are
//! forgotten first.

use std::collections::{HashSet, VecDeque};
use std::hash::Hash;

/// Remembers the last `capacity` keys inserted.
#[derive(Debug, Clone)]
pub struct RecentSet<K> {
    capacity: usize,
    set: HashSet<K>,
    order: VecDeque<K>,
}

impl<K: Hash + Eq + Clone> RecentSet<K> {
    /// A set remembering at most `capacity` keys (at least one).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            capacity,
            set: HashSet::with_capacity(capacity.min(1 << 16)),
            order: VecDeque::with_capacity(capacity.min(1 << 16)),
        }
    }

    /// Records `key`; `true` when it was not seen recently (pass it on).
    pub fn insert(&mut self, key: K) -> bool {
        if self.set.contains(&key) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.set.insert(key.clone());
        self.order.push_back(key);
        true
    }

    #[must_use]
    pub fn contains(&self, key: &K) -> bool {
        self.set.contains(key)
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.order.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_the_oldest_beyond_capacity() {
        let mut s = RecentSet::new(3);
        assert!(s.insert(1));
        assert!(!s.insert(1));
        assert!(s.insert(2));
        assert!(s.insert(3));
        assert!(s.insert(4));
        assert_eq!(s.len(), 3);
        assert!(!s.contains(&1));
        assert!(s.insert(1), "1 was forgotten");
        assert!(!s.insert(4));
    }
}
