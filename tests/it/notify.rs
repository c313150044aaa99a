//! Outbox delivery against a real store: order within a chat, a chat
//! that refuses messages for good parks them at once, a transient failure
//! backs the chat off without parking, a platform's "retry after" holds
//! the chat without counting attempts, and no failing chat holds up the
//! others.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alfabot::chat::View;
use alfabot::domain::ports::{NewMessage, OutboxPayload};
use alfabot::domain::{ChatRef, Platform, ProfileSettings, UserRef, WalletAddress};
use alfabot::notify::{ChatSender, Delivery, GIVE_UP_AFTER, Undeliverable};
use alfabot::service::{Core, NoSubscriptions};

use crate::support::core::paper_core;

const BACKOFF: Duration = Duration::from_millis(500);

/// What the next send to a chat does.
#[derive(Debug, Clone)]
enum Next {
    Fail,
    Refuse,
    Wait(Duration),
}

/// Sends succeed unless a scripted failure is queued for the chat.
#[derive(Default)]
struct Scripted {
    script: Mutex<HashMap<ChatRef, VecDeque<Next>>>,
    sent: Mutex<Vec<(ChatRef, String)>>,
    tries: Mutex<Vec<ChatRef>>,
}

impl Scripted {
    fn queue(&self, chat: ChatRef, next: &[Next]) {
        self.script
            .lock()
            .unwrap()
            .entry(chat)
            .or_default()
            .extend(next.iter().cloned());
    }

    fn sent_to(&self, chat: ChatRef) -> Vec<String> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .filter(|(c, _)| *c == chat)
            .map(|(_, t)| t.clone())
            .collect()
    }

    fn tries_of(&self, chat: ChatRef) -> usize {
        self.tries
            .lock()
            .unwrap()
            .iter()
            .filter(|c| **c == chat)
            .count()
    }
}

#[async_trait::async_trait]
impl ChatSender for Scripted {
    async fn send(&self, chat: ChatRef, view: &View, _silent: bool) -> anyhow::Result<()> {
        self.tries.lock().unwrap().push(chat);
        let next = self
            .script
            .lock()
            .unwrap()
            .get_mut(&chat)
            .and_then(VecDeque::pop_front);
        match next {
            None => {
                self.sent.lock().unwrap().push((chat, view.text.clone()));
                Ok(())
            }
            Some(Next::Fail) => anyhow::bail!("connection reset"),
            Some(Next::Refuse) => Err(anyhow::Error::new(Undeliverable::Refused(
                "Forbidden: bot was blocked by the user".into(),
            ))
            .context("sendMessage")),
            // As the Telegram sender does: the reason as the context.
            Some(Next::Wait(d)) => Err(anyhow::anyhow!("Too Many Requests")
                .context("sendMessage")
                .context(Undeliverable::RetryAfter(d))),
        }
    }
}

struct Rig {
    _dir: tempfile::TempDir,
    core: Arc<Core>,
    sender: Arc<Scripted>,
    delivery: Delivery,
}

async fn rig() -> Rig {
    rig_with(BACKOFF, BACKOFF * 4).await
}

/// A rig whose chats back off from `first` doubling to `max`.
async fn rig_with(first: Duration, max: Duration) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("n.db").display());
    let core = paper_core(&db, ProfileSettings::default(), Arc::new(NoSubscriptions)).await;
    let sender = Arc::new(Scripted::default());
    let senders: HashMap<Platform, Arc<dyn ChatSender>> = [(
        Platform::Telegram,
        Arc::clone(&sender) as Arc<dyn ChatSender>,
    )]
    .into();
    let delivery = Delivery::new(Arc::clone(&core), senders).with_backoff(first, max);
    Rig {
        _dir: dir,
        core,
        sender,
        delivery,
    }
}

/// A tier change of wallet `n` for the chat's user (a payload whose text
/// names the wallet, so messages are told apart).
fn note(chat: ChatRef, n: u8) -> NewMessage {
    NewMessage {
        chat,
        user: UserRef::new(chat.platform, chat.id),
        payload: OutboxPayload::TierChanged {
            wallet: WalletAddress::from_bytes([n; 32]),
            from: None,
            to: None,
            win_rate_before_bps: 0,
            win_rate_after_bps: 0,
            at_ms: 1,
        },
        silent: false,
    }
}

fn wallet(n: u8) -> String {
    WalletAddress::from_bytes([n; 32]).to_string()
}

/// The wallets named by the texts, in order.
fn order(texts: &[String], of: &[u8]) -> Vec<u8> {
    texts
        .iter()
        .filter_map(|t| of.iter().copied().find(|n| t.contains(&wallet(*n))))
        .collect()
}

async fn queue(core: &Core, msgs: &[NewMessage]) {
    core.store().enqueue(msgs, 1).await.unwrap();
}

async fn pending_of(core: &Core, chat: ChatRef) -> Vec<i32> {
    core.store()
        .pending(1_000)
        .await
        .unwrap()
        .iter()
        .filter(|m| m.chat == chat)
        .map(|m| m.attempts)
        .collect()
}

#[tokio::test]
async fn transient_failures_back_the_chat_off_and_keep_order() {
    let r = rig().await;
    let chat = ChatRef::new(Platform::Telegram, 10);
    let other = ChatRef::new(Platform::Telegram, 11);
    queue(&r.core, &[note(chat, 1), note(chat, 2), note(other, 3)]).await;
    r.sender.queue(chat, &[Next::Fail, Next::Fail]);

    // The first send fails: the chat is held, its messages stay queued in
    // order with one attempt counted; the other chat is served.
    assert_eq!(r.delivery.drain().await.unwrap(), 1);
    assert_eq!(order(&r.sender.sent_to(other), &[3]), [3]);
    assert_eq!(pending_of(&r.core, chat).await, [1, 0]);
    // While held, passes do not touch the chat.
    for _ in 0..5 {
        assert_eq!(r.delivery.drain().await.unwrap(), 0);
    }
    assert_eq!(
        r.sender.tries_of(chat),
        1,
        "no retry before the backoff ends"
    );

    // After the first backoff: fails again, and the next wait is longer.
    tokio::time::sleep(BACKOFF + Duration::from_millis(50)).await;
    assert_eq!(r.delivery.drain().await.unwrap(), 0);
    assert_eq!(r.sender.tries_of(chat), 2);
    tokio::time::sleep(BACKOFF + Duration::from_millis(50)).await;
    r.delivery.drain().await.unwrap();
    assert_eq!(
        r.sender.tries_of(chat),
        2,
        "the second wait is twice the first"
    );
    tokio::time::sleep(BACKOFF + Duration::from_millis(50)).await;

    // Then both go out, in order, none parked.
    assert_eq!(r.delivery.drain().await.unwrap(), 2);
    assert_eq!(order(&r.sender.sent_to(chat), &[1, 2]), [1, 2]);
    assert!(pending_of(&r.core, chat).await.is_empty());
}

#[tokio::test]
async fn a_chat_that_refuses_parks_at_once_and_the_rest_still_go() {
    let r = rig().await;
    let blocked = ChatRef::new(Platform::Telegram, 20);
    let fine = ChatRef::new(Platform::Telegram, 21);
    queue(
        &r.core,
        &[note(blocked, 1), note(blocked, 2), note(fine, 3)],
    )
    .await;
    // The first is refused for good; the second goes out after it.
    r.sender.queue(blocked, &[Next::Refuse]);
    assert_eq!(r.delivery.drain().await.unwrap(), 3, "one parked, two sent");
    assert_eq!(order(&r.sender.sent_to(blocked), &[1, 2]), [2]);
    assert_eq!(order(&r.sender.sent_to(fine), &[3]), [3]);
    assert!(
        pending_of(&r.core, blocked).await.is_empty(),
        "the refused message is parked, not retried"
    );
    r.delivery.drain().await.unwrap();
    assert_eq!(r.sender.tries_of(blocked), 2);
}

#[tokio::test]
async fn retry_after_holds_the_chat_without_counting_an_attempt() {
    let r = rig().await;
    let chat = ChatRef::new(Platform::Telegram, 30);
    queue(&r.core, &[note(chat, 1)]).await;
    r.sender
        .queue(chat, &[Next::Wait(Duration::from_millis(300))]);
    assert_eq!(r.delivery.drain().await.unwrap(), 0);
    assert_eq!(
        pending_of(&r.core, chat).await,
        [0],
        "not the message's fault"
    );
    r.delivery.drain().await.unwrap();
    assert_eq!(r.sender.tries_of(chat), 1, "held for the time asked");
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(r.delivery.drain().await.unwrap(), 1);
    assert_eq!(order(&r.sender.sent_to(chat), &[1]), [1]);
}

#[tokio::test]
async fn transient_failures_park_only_after_the_attempt_budget() {
    let step = Duration::from_millis(10);
    let r = rig_with(step, step * 2).await;
    let chat = ChatRef::new(Platform::Telegram, 40);
    queue(&r.core, &[note(chat, 1)]).await;
    let budget = usize::try_from(GIVE_UP_AFTER).unwrap();
    r.sender.queue(chat, &vec![Next::Fail; budget]);
    let mut tries = 0;
    while tries < budget {
        r.delivery.drain().await.unwrap();
        let now = r.sender.tries_of(chat);
        if now == tries {
            // Held: wait out the backoff.
            tokio::time::sleep(step * 2).await;
            continue;
        }
        tries = now;
        if tries < budget {
            assert_eq!(
                pending_of(&r.core, chat).await,
                [i32::try_from(tries).unwrap()],
                "still queued after {tries} failures"
            );
        }
    }
    assert!(
        pending_of(&r.core, chat).await.is_empty(),
        "parked at the budget"
    );
}

/// A chat with a long failing queue does not starve the others: each
/// chat's share of a load is capped.
#[tokio::test]
async fn a_long_failing_queue_does_not_hide_other_chats() {
    let r = rig().await;
    let stuck = ChatRef::new(Platform::Telegram, 50);
    let fine = ChatRef::new(Platform::Telegram, 51);
    let many: Vec<NewMessage> = (0..250).map(|_| note(stuck, 1)).collect();
    queue(&r.core, &many).await;
    queue(&r.core, &[note(fine, 201)]).await;
    r.sender.queue(stuck, &[Next::Fail]);
    r.delivery.drain().await.unwrap();
    assert_eq!(order(&r.sender.sent_to(fine), &[201]), [201]);
}
