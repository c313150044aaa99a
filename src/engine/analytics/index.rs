//! Address → slot index keyed by the address's first 8 bytes (12-byte
//! entries instead of 36: the table stays in cache). Public keys are
//! uniformly random, so prefixes collide essentially never by chance; a
//! ground collision is still correct: the slot's full address is checked
//! and colliding addresses live in a small exact map.

use super::hash::FxHashMap;
use crate::domain::Address;

#[derive(Debug, Default)]
pub(crate) struct AddrIndex {
    by_prefix: FxHashMap<u64, u32>,
    collided: FxHashMap<Address, u32>,
}

#[inline]
fn prefix(a: &Address) -> u64 {
    u64::from_le_bytes(a.as_bytes()[..8].try_into().unwrap())
}

impl AddrIndex {
    /// The slot of `a`; `addr_of` gives the full address held by a slot.
    #[inline]
    pub fn get(&self, a: &Address, addr_of: impl Fn(u32) -> Address) -> Option<u32> {
        if let Some(&i) = self.by_prefix.get(&prefix(a))
            && addr_of(i) == *a
        {
            return Some(i);
        }
        if self.collided.is_empty() {
            return None;
        }
        self.collided.get(a).copied()
    }

    /// Adds an address known to be absent.
    pub fn insert(&mut self, a: Address, slot: u32) {
        match self.by_prefix.entry(prefix(&a)) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(slot);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.collided.insert(a, slot);
            }
        }
    }

    pub fn remove(&mut self, a: &Address, slot: u32) {
        let p = prefix(a);
        if self.by_prefix.get(&p) == Some(&slot) {
            self.by_prefix.remove(&p);
        } else {
            self.collided.remove(a);
        }
    }

    pub fn len(&self) -> usize {
        self.by_prefix.len() + self.collided.len()
    }

    /// Bytes of the tables (one control byte per bucket, 8/7 buckets per
    /// entry).
    pub fn bytes(&self) -> usize {
        (self.by_prefix.capacity() * (size_of::<(u64, u32)>() + 1)
            + self.collided.capacity() * (size_of::<(Address, u32)>() + 1))
            * 8
            / 7
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colliding_prefixes_stay_exact() {
        let mut slots: Vec<Address> = Vec::new();
        let mut idx = AddrIndex::default();
        let mk = |last: u8| {
            let mut b = [9u8; 32];
            b[31] = last;
            Address::from_bytes(b)
        };
        for i in 0..3u8 {
            let a = mk(i);
            assert_eq!(idx.get(&a, |s| slots[s as usize]), None);
            idx.insert(a, u32::from(i));
            slots.push(a);
        }
        assert_eq!(idx.len(), 3);
        for i in 0..3u8 {
            assert_eq!(idx.get(&mk(i), |s| slots[s as usize]), Some(u32::from(i)));
        }
        // Remove the one holding the prefix: the others are still found.
        idx.remove(&mk(0), 0);
        assert_eq!(idx.get(&mk(0), |s| slots[s as usize]), None);
        assert_eq!(idx.get(&mk(2), |s| slots[s as usize]), Some(2));
        idx.remove(&mk(2), 2);
        assert_eq!(idx.get(&mk(1), |s| slots[s as usize]), Some(1));
        assert_eq!(idx.len(), 1);
    }
}
