//! The application core and chat layer against a real store (SQLite file):
//! outbox delivery and resend after a restart, no double copy of a replayed
//! trade, per-user locales, and group privacy.

use std::sync::{Arc, Mutex};

use alfabot::chat::{ChatRequest, ChatService, Input, View};
use alfabot::domain::ports::SystemClock;
use alfabot::domain::{
    ChatKind, ChatRef, Lamports, Platform, Side, Signature, TokenAmount, TradeEvent, UserRef,
    WalletAddress,
};
use alfabot::engine::curve::{Curve, Fees};
use alfabot::engine::{Engine, EngineConfig};
use alfabot::notify::{ChatSender, Delivery};
use alfabot::service::{Core, NoSubscriptions};

const LEADER: &str = "8jGai9a8U4RSzDnweCgeVZJBLxMTrNsrhHbGrCF8F3Ks";

async fn core(db: &str) -> Arc<Core> {
    let store = alfabot::store::connect(db).await.expect("store");
    let sessions = alfabot::session::connect(None).await.expect("sessions");
    let core = Arc::new(Core::new(
        Engine::new(EngineConfig::default()),
        Arc::new(store),
        sessions,
        Arc::new(NoSubscriptions),
        Arc::new(SystemClock),
    ));
    core.restore().await.expect("restore");
    core
}

fn buy(n: u8, leader: WalletAddress) -> TradeEvent {
    let mut c = Curve::fresh();
    let q = c.quote_buy(Lamports(1_000_000_000), Fees::default());
    c.apply(true, q.sol.0 - q.fee.0, q.tokens.0);
    TradeEvent {
        signature: Signature::from_bytes(&[n; 64]),
        mint: WalletAddress::from_bytes([n; 32]),
        trader: leader,
        side: Side::Buy,
        sol: Lamports(q.sol.0 - q.fee.0),
        tokens: q.tokens,
        timestamp_ms: 1_760_978_515_000,
        slot: None,
        virtual_sol: Lamports(c.virtual_sol),
        virtual_tokens: TokenAmount(c.virtual_tokens),
        trader_balance_after: None,
        created: false,
        on_curve: true,
    }
}

/// Records what it is asked to send, or fails every send.
#[derive(Default)]
struct Recorder {
    fail: bool,
    sent: Mutex<Vec<(ChatRef, String)>>,
}

#[async_trait::async_trait]
impl ChatSender for Recorder {
    async fn send(&self, chat: ChatRef, view: &View) -> anyhow::Result<()> {
        if self.fail {
            anyhow::bail!("platform down");
        }
        self.sent.lock().unwrap().push((chat, view.text.clone()));
        Ok(())
    }
}

fn delivery(core: &Arc<Core>, sender: Arc<Recorder>) -> Delivery {
    let senders: std::collections::HashMap<Platform, Arc<dyn ChatSender>> =
        [(Platform::Telegram, sender as Arc<dyn ChatSender>)].into();
    Delivery::new(Arc::clone(core), senders)
}

fn request(user: UserRef, chat: i64, text: &str, lang: &str) -> ChatRequest {
    ChatRequest {
        user,
        chat: ChatRef::new(Platform::Telegram, chat),
        kind: if chat == user.id {
            ChatKind::Private
        } else {
            ChatKind::Group
        },
        name: "Ada".into(),
        language: Some(lang.into()),
        input: Input::Text(text.into()),
    }
}

#[tokio::test]
async fn outbox_survives_restart_and_replays_do_not_copy_twice() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("a.db").display());
    let user = UserRef::new(Platform::Telegram, 77);
    let leader = WalletAddress::parse(LEADER).unwrap();
    {
        let core = core(&db).await;
        let rec = core.user(user, Some("en")).await.unwrap();
        assert!(core.follow(&rec, leader).await.unwrap());
        core.ingest(&buy(1, leader)).await.unwrap();
        // The platform is down: nothing is delivered, nothing is lost.
        let down = Arc::new(Recorder {
            fail: true,
            ..Recorder::default()
        });
        assert_eq!(delivery(&core, down).drain().await.unwrap(), 0);
        assert_eq!(core.store().pending(10).await.unwrap().len(), 1);
    }
    // Restart on the same database.
    let core = core(&db).await;
    let up = Arc::new(Recorder::default());
    let d = delivery(&core, Arc::clone(&up));
    assert_eq!(d.drain().await.unwrap(), 1);
    {
        let sent = up.sent.lock().unwrap();
        assert_eq!(sent[0].0, ChatRef::new(Platform::Telegram, 77));
        assert!(
            sent[0].1.contains(LEADER) && sent[0].1.contains("bought"),
            "{}",
            sent[0].1
        );
        assert!(sent[0].1.contains("📝 Paper copy: bought"), "{}", sent[0].1);
    }
    assert_eq!(d.drain().await.unwrap(), 0, "sent messages are not resent");

    // The feed replays the same trade after the restart: no second copy.
    let before = core.status(user).await.unwrap();
    core.ingest(&buy(1, leader)).await.unwrap();
    let after = core.status(user).await.unwrap();
    assert_eq!(before.positions.len(), 1);
    assert_eq!(after.positions[0].position, before.positions[0].position);
    assert_eq!(core.store().fills_of(user, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn locales_are_per_user_and_groups_see_no_private_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display());
    let core = core(&db).await;
    let chat = ChatService::new(Arc::clone(&core), Some("alfabot".into()));
    let ana = UserRef::new(Platform::Telegram, 1);
    let bob = UserRef::new(Platform::Telegram, 2);

    let es = chat.handle(request(ana, 1, "/start", "es-AR")).await;
    assert!(
        es.messages[0].text.contains("Bienvenido"),
        "{:?}",
        es.messages
    );
    let en = chat.handle(request(bob, 2, "/start", "en")).await;
    assert!(en.messages[0].text.contains("Welcome"));
    assert_eq!(en.messages[0].buttons.len(), 2);

    let bad = chat
        .handle(request(ana, 1, "/track not-a-wallet", "es"))
        .await;
    assert!(
        bad.messages[0].text.contains("not-a-wallet")
            && bad.messages[0].text.contains("posición 4"),
        "{}",
        bad.messages[0].text
    );
    let ok = chat
        .handle(request(bob, 2, &format!("/follow {LEADER}"), "en"))
        .await;
    assert!(ok.messages[0].text.contains("Tracking"));
    core.ingest(&buy(5, WalletAddress::parse(LEADER).unwrap()))
        .await
        .unwrap();

    let private = chat.handle(request(bob, 2, "/status", "en")).await;
    let mint = WalletAddress::from_bytes([5; 32]).to_string();
    assert!(
        private.messages[0].text.contains(&mint),
        "{}",
        private.messages[0].text
    );
    let group = chat.handle(request(bob, -100, "/status", "en")).await;
    assert!(!group.messages[0].text.contains(&mint));
    assert!(group.messages[0].text.contains("private chat"));
    // Chatter in a group is not answered; in private it gets a hint.
    assert!(
        chat.handle(request(bob, -100, "gm", "en"))
            .await
            .messages
            .is_empty()
    );
    assert!(
        !chat
            .handle(request(bob, 2, "gm", "en"))
            .await
            .messages
            .is_empty()
    );
    // Unknown commands and stale buttons get a clear answer.
    let unknown = chat.handle(request(bob, 2, "/moon", "en")).await;
    assert!(unknown.messages[0].text.contains("/moon"));
    let mut stale = request(bob, 2, "", "en");
    stale.input = Input::Button("zz".into());
    assert!(chat.handle(stale).await.toast.is_some());
}
