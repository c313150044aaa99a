//! The application core and chat layer against a real store (SQLite file):
//! outbox delivery and resend after a restart, no double copy of a replayed
//! trade, per-user locales, group privacy, tier alerts to followers, wallet
//! analytics surviving a restart, the /alfa and /score flows, and the copy
//! pipeline's durable parts: the skip log, risk state and exit state across
//! restarts, unfinished orders reconciled, notification switches.

use std::sync::{Arc, Mutex};

use alfabot::chat::{ChatRequest, ChatService, Input, View};
use alfabot::domain::ports::{Discovered, OrderStatus, OutboxMessage, OutboxPayload, SystemClock};
use alfabot::domain::{
    ChatKind, ChatRef, Lamports, NotifyKind, NotifyLevel, NotifyPrefs, Platform, ProfileSettings,
    Side, Signature, SkipReason, TokenAmount, TradeEvent, UserRef, Verdict, WalletAddress,
};
use alfabot::engine::analytics::{AnalyticsEvent, LeaderRow, Metric, Tier, WalletCard, Window};
use alfabot::engine::curve::{Curve, Fees};
use alfabot::engine::{Engine, EngineConfig};
use alfabot::exec::Executor;
use alfabot::notify::{ChatSender, Delivery};
use alfabot::service::{Core, NoSubscriptions, SettingChange};
use alfabot::vault::{MasterKeys, Vault, keys};

use crate::support::core::{core_of, paper_core_sharing};
use crate::support::market::{Market, pump_market};
use crate::support::tape::Tape;

const LEADER: &str = "8jGai9a8U4RSzDnweCgeVZJBLxMTrNsrhHbGrCF8F3Ks";
const T0: i64 = 1_760_978_515_000;

/// New profiles copy at once (no paper latency) and without the
/// sellability check, so one trade is enough to see a copy.
fn defaults() -> ProfileSettings {
    ProfileSettings {
        latency_ms: 0,
        sellability: false,
        ..ProfileSettings::default()
    }
}

async fn core_with(db: &str, defaults: ProfileSettings) -> Arc<Core> {
    core_from(db, defaults, None, None).await
}

/// A core with a live executor and a vault of its own choosing.
async fn core_from(
    db: &str,
    defaults: ProfileSettings,
    live: Option<Arc<dyn Executor>>,
    vault: Option<Arc<Vault>>,
) -> Arc<Core> {
    core_of(db, defaults, Arc::new(NoSubscriptions), live, vault).await
}

async fn core(db: &str) -> Arc<Core> {
    core_with(db, defaults()).await
}

/// A leader trade on a fresh curve of mint `n` (a buy of 1 SOL, or a sell
/// of `tokens` after such a buy), at `T0 + n` seconds.
fn trade_at(n: u8, leader: WalletAddress, side: Side, at_ms: i64) -> TradeEvent {
    let mut c = Curve::fresh();
    let q = c.quote_buy(Lamports(1_000_000_000), Fees::default());
    c.apply(true, q.sol.0 - q.fee.0, q.tokens.0);
    let (sol, tokens) = match side {
        Side::Buy => (q.sol.0 - q.fee.0, q.tokens.0),
        Side::Sell => {
            let t = q.tokens.0 / 2;
            let s = c.gross_sol_for_tokens(t);
            c.apply(false, s, t);
            (s, t)
        }
    };
    let mut sig = [n; 64];
    sig[63] = u8::from(side == Side::Sell);
    TradeEvent {
        signature: Signature::from_bytes(&sig),
        mint: WalletAddress::from_bytes([n; 32]),
        trader: leader,
        side,
        sol: Lamports(sol),
        tokens: TokenAmount(tokens),
        timestamp_ms: at_ms,
        slot: None,
        virtual_sol: Lamports(c.virtual_sol),
        virtual_tokens: TokenAmount(c.virtual_tokens),
        trader_balance_after: None,
        created: false,
        on_curve: true,
    }
}

fn buy(n: u8, leader: WalletAddress) -> TradeEvent {
    trade_at(n, leader, Side::Buy, T0 + i64::from(n) * 1_000)
}

/// Ingests a trade and runs the paper orders it made.
async fn ingest(core: &Arc<Core>, ev: &TradeEvent) {
    core.ingest(ev).await.unwrap();
    core.tick().await.unwrap();
}

/// Records what it is asked to send, or fails every send.
#[derive(Default)]
struct Recorder {
    fail: bool,
    sent: Mutex<Vec<(ChatRef, String, bool)>>,
}

#[async_trait::async_trait]
impl ChatSender for Recorder {
    async fn send(&self, chat: ChatRef, view: &View, silent: bool) -> anyhow::Result<()> {
        if self.fail {
            anyhow::bail!("platform down");
        }
        self.sent
            .lock()
            .unwrap()
            .push((chat, view.text.clone(), silent));
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
        private_reply: false,
    }
}

fn db_in(dir: &tempfile::TempDir, name: &str) -> String {
    format!("sqlite://{}?mode=rwc", dir.path().join(name).display())
}

#[tokio::test]
async fn outbox_survives_restart_and_replays_do_not_copy_twice() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir, "a.db");
    let user = UserRef::new(Platform::Telegram, 77);
    let leader = WalletAddress::parse(LEADER).unwrap();
    {
        let core = core(&db).await;
        let rec = core.user(user, Some("en")).await.unwrap();
        assert!(core.follow(&rec, leader).await.unwrap().2);
        ingest(&core, &buy(1, leader)).await;
        // The platform is down: nothing is delivered, nothing is lost.
        let down = Arc::new(Recorder {
            fail: true,
            ..Recorder::default()
        });
        assert_eq!(delivery(&core, down).drain().await.unwrap(), 0);
        // The alert and the fill notice.
        assert_eq!(core.store().pending(10).await.unwrap().len(), 2);
    }
    // Restart on the same database.
    let core = core(&db).await;
    let up = Arc::new(Recorder::default());
    let d = delivery(&core, Arc::clone(&up));
    assert_eq!(d.drain().await.unwrap(), 2);
    {
        let sent = up.sent.lock().unwrap();
        assert_eq!(sent[0].0, ChatRef::new(Platform::Telegram, 77));
        assert!(
            sent[0].1.contains(LEADER) && sent[0].1.contains("bought"),
            "{}",
            sent[0].1
        );
        assert!(sent[0].1.contains("copying with 0.1 SOL"), "{}", sent[0].1);
        assert!(
            sent[1].1.contains("📝 Paper copy (main): bought"),
            "{}",
            sent[1].1
        );
    }
    assert_eq!(d.drain().await.unwrap(), 0, "sent messages are not resent");

    // The feed replays the same trade after the restart: the order's key is
    // stored, so nothing is executed again.
    let held = |core: &Core| {
        core.positions_of(user)
            .into_iter()
            .map(|v| (v.position.tokens, v.position.cost, v.position.opened_ms))
            .collect::<Vec<_>>()
    };
    let before = held(&core);
    ingest(&core, &buy(1, leader)).await;
    assert_eq!(before.len(), 1);
    assert_eq!(held(&core), before);
    assert_eq!(core.store().fills_of(user, 10).await.unwrap().len(), 1);
    let why = core.why(user, None).await.unwrap();
    assert!(
        why.iter().any(|d| matches!(
            d.verdict,
            Verdict::Rejected {
                reason: SkipReason::Duplicate,
                ..
            }
        )),
        "{why:?}"
    );
}

#[tokio::test]
async fn locales_are_per_user_and_groups_see_no_private_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir, "b.db");
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
    assert!(!en.messages[0].buttons.is_empty());

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
    ingest(&core, &buy(5, WalletAddress::parse(LEADER).unwrap())).await;

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

// ------------------------------------------------------------ analytics --

fn market() -> Market {
    pump_market(1_760_978_515_000, 8, 20)
}

fn button(user: UserRef, chat: i64, data: &str) -> ChatRequest {
    let mut req = request(user, chat, "", "en");
    req.input = Input::Button(data.into());
    req
}

#[tokio::test]
async fn tier_changes_reach_every_follower_in_their_language() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir, "t.db");
    let core = core(&db).await;
    let leader = WalletAddress::parse(LEADER).unwrap();
    let (ana, bob, carol) = (
        UserRef::new(Platform::Telegram, 11),
        UserRef::new(Platform::Telegram, 12),
        UserRef::new(Platform::Telegram, 13),
    );
    for (u, lang, follows) in [
        (ana, "es", leader),
        (bob, "en", leader),
        (carol, "en", WalletAddress::from_bytes([4; 32])),
    ] {
        let rec = core.user(u, Some(lang)).await.unwrap();
        core.follow(&rec, follows).await.unwrap();
    }
    let unfollowed = WalletAddress::from_bytes([5; 32]);
    let queued = core
        .publish(&[
            AnalyticsEvent::TierChanged {
                wallet: leader,
                from: Some(Tier::A),
                to: Some(Tier::S),
                win_rate_before: 0.55,
                win_rate_after: 0.7125,
                at_ms: 1,
            },
            AnalyticsEvent::TierChanged {
                wallet: unfollowed,
                from: Some(Tier::B),
                to: Some(Tier::C),
                win_rate_before: 0.5,
                win_rate_after: 0.3,
                at_ms: 2,
            },
            AnalyticsEvent::Discovered {
                wallet: unfollowed,
                metric: Metric::Pnl,
                window: Window::D7,
                rank: 4,
                at_ms: 3,
            },
        ])
        .await
        .unwrap();
    assert_eq!(
        queued, 2,
        "one alert per follower of the wallet, none for others"
    );
    let pending = core.store().pending(10).await.unwrap();
    let mut to: Vec<UserRef> = pending.iter().map(|m| m.user).collect();
    to.sort();
    assert_eq!(to, vec![ana, bob]);
    assert!(pending.iter().all(|m| m.payload
        == OutboxPayload::TierChanged {
            wallet: leader,
            from: Some(Tier::A),
            to: Some(Tier::S),
            win_rate_before_bps: 5_500,
            win_rate_after_bps: 7_125,
            at_ms: 1,
        }));
    let discovered = core.recent_discoveries();
    assert_eq!(discovered.len(), 1);
    assert_eq!((discovered[0].wallet, discovered[0].rank), (unfollowed, 4));

    let up = Arc::new(Recorder::default());
    assert_eq!(delivery(&core, Arc::clone(&up)).drain().await.unwrap(), 2);
    let sent = up.sent.lock().unwrap().clone();
    let text_for = |id: i64| {
        sent.iter()
            .find(|(c, _, _)| c.id == id)
            .map(|(_, t, _)| t.clone())
            .unwrap()
    };
    assert_eq!(
        text_for(12),
        format!("⭐ new S-tier: {leader} (55% → 71% WR)")
    );
    assert!(
        text_for(11).starts_with("⭐ nueva de nivel S"),
        "{}",
        text_for(11)
    );
}

/// Trades of many wallets go through the core; whatever tier changes the
/// engine reports become one queued alert per follower. (The count comes
/// from a twin engine fed the same trades, so this holds for any analytics.)
#[tokio::test]
async fn ingested_trades_queue_tier_alerts_for_followers() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir, "i.db");
    let core = core(&db).await;
    let m = market();
    let followed: Vec<WalletAddress> = m
        .skilled
        .iter()
        .chain(&m.crowd)
        .step_by(3)
        .copied()
        .collect();
    let mut followers: std::collections::HashMap<WalletAddress, usize> = Default::default();
    for (i, w) in followed.iter().enumerate() {
        let user = UserRef::new(Platform::Telegram, 100 + i64::try_from(i % 4).unwrap());
        let rec = core.user(user, Some("en")).await.unwrap();
        core.follow(&rec, *w).await.unwrap();
        *followers.entry(*w).or_default() += 1;
    }
    let mut twin = Engine::new(EngineConfig::default());
    let mut expected = 0;
    for ev in &m.events {
        core.ingest(ev).await.unwrap();
        for a in twin.on_trade(ev).analytics {
            if let AnalyticsEvent::TierChanged { wallet, .. } = a {
                expected += followers.get(&wallet).copied().unwrap_or(0);
            }
        }
    }
    let tier_alerts = take_queued(&core)
        .await
        .into_iter()
        .filter(|msg| matches!(msg.payload, OutboxPayload::TierChanged { .. }))
        .count();
    assert!(expected > 0, "the market promotes followed wallets");
    assert_eq!(tier_alerts, expected);
}

/// Time alone moves wallet analytics: a week with no trades ages a
/// followed S-tier wallet out of its tier, and the core's tick (no trade)
/// queues its followers' alert, as a twin engine reports it.
#[tokio::test]
async fn a_quiet_week_demotes_a_followed_wallet_and_tells_its_followers() {
    const SOL: u64 = 1_000_000_000;
    const WEEK_AND_A_DAY: i64 = 8 * 24 * 3_600_000;
    let dir = tempfile::tempdir().unwrap();
    let start = 1_760_918_400_000; // a Monday, 00:00 UTC
    let clock = crate::support::clock::ManualClock::at(start);
    let core = crate::support::core::paper_core_at(
        &db_in(&dir, "q.db"),
        defaults(),
        Arc::new(NoSubscriptions),
        clock.clone(),
    )
    .await;
    let leader = WalletAddress::parse(LEADER).unwrap();
    let whale = WalletAddress::from_bytes([0x77; 32]);
    let users = [
        UserRef::new(Platform::Telegram, 300),
        UserRef::new(Platform::Telegram, 301),
    ];
    for user in users {
        let rec = core.user(user, Some("en")).await.unwrap();
        core.follow(&rec, leader).await.unwrap();
    }
    // Winning round trips, two minutes apart: the leader buys, a whale
    // pumps the token past +20% ten seconds later, the leader sells.
    let mut tape = Tape::new(start);
    let mut twin = Engine::new(EngineConfig::default());
    let mut last = start;
    for round in 0..8u8 {
        let mint = WalletAddress::from_bytes([0x40 + round; 32]);
        let buy = tape.trade_after(1_000, mint, leader, Side::Buy, 2 * SOL);
        let pump = tape.trade_after(10_000, mint, whale, Side::Buy, 30 * SOL);
        let sell = tape.trade_after(50_000, mint, leader, Side::Sell, buy.tokens.0);
        last = sell.timestamp_ms;
        for ev in [buy, pump, sell] {
            core.ingest(&ev).await.unwrap();
            twin.on_trade(&ev);
        }
        tape.wait(60_000);
    }
    assert_eq!(
        twin.card(&leader).and_then(|c| c.tier),
        Some(Tier::S),
        "eight wins make the leader S-tier"
    );
    // Run the copies due now and deliver what the trades brought, so only
    // the clock's alerts are left.
    core.tick().await.unwrap();
    take_queued(&core).await;

    let later = last + WEEK_AND_A_DAY;
    clock.advance(later - start);
    core.tick().await.unwrap();
    twin.tick(later);
    let demoted: Vec<AnalyticsEvent> = twin
        .take_clock_events()
        .into_iter()
        .filter(|a| matches!(a, AnalyticsEvent::TierChanged { wallet, .. } if *wallet == leader))
        .collect();
    assert_eq!(demoted.len(), 1, "{demoted:?}");
    let AnalyticsEvent::TierChanged { from, to, .. } = demoted[0] else {
        unreachable!()
    };
    assert_eq!(from, Some(Tier::S));
    let queued = take_queued(&core).await;
    let mut told: Vec<UserRef> = queued
        .iter()
        .filter(|msg| {
            matches!(&msg.payload,
                OutboxPayload::TierChanged { wallet, from: f, to: t, at_ms, .. }
                    if *wallet == leader && *f == from && *t == to && *at_ms == later)
        })
        .map(|msg| msg.user)
        .collect();
    told.sort_by_key(|u| u.id);
    assert_eq!(
        told, users,
        "each follower is told, without a trade: {queued:?}"
    );
    assert_eq!(queued.len(), users.len(), "{queued:?}");
}

#[tokio::test]
async fn wallet_analytics_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir, "r.db");
    let m = market();
    let wallets: Vec<WalletAddress> = m.skilled.iter().chain(&m.crowd).copied().collect();
    // Whole boards (100 rows > 28 wallets), compared without the order of
    // ties: values in rank order, and rows by wallet.
    let boards = |core: &Core| {
        let mut all = Vec::new();
        for metric in Metric::ALL {
            for window in Window::ALL {
                let b = core.leaderboard(metric, window, 0, 100);
                let values: Vec<f64> = b.rows.iter().map(|r| r.value).collect();
                let mut rows: Vec<LeaderRow> = b
                    .rows
                    .into_iter()
                    .map(|r| LeaderRow { rank: 0, ..r })
                    .collect();
                rows.sort_by_key(|r| r.wallet);
                all.push((b.total, values, rows));
            }
        }
        all
    };
    let (cards, before, saved) = {
        let core = core(&db).await;
        for ev in &m.events {
            core.ingest(ev).await.unwrap();
        }
        let saved = core.flush().await.unwrap();
        assert_eq!(core.flush().await.unwrap(), 0, "nothing new to save");
        let stored = core.store().load_wallet_states().await.unwrap();
        assert_eq!(stored.len(), saved, "one row per changed wallet");
        for s in &stored {
            assert!(wallets.contains(&s.wallet), "{} never traded", s.wallet);
        }
        // Every wallet the analytics knows about was saved.
        for w in &wallets {
            if core.card(w).is_some() {
                assert!(stored.iter().any(|s| s.wallet == *w), "{w} not saved");
            }
        }
        let cards: Vec<_> = wallets.iter().map(|w| settled(core.card(w))).collect();
        (cards, boards(&core), saved)
    };

    let core = core(&db).await;
    // `core()` restored already; a second look at what it loads:
    assert_eq!(
        core.store().load_wallet_states().await.unwrap().len(),
        saved
    );
    let after: Vec<_> = wallets.iter().map(|w| settled(core.card(w))).collect();
    assert_eq!(after, cards, "cards after the restart");
    assert_eq!(boards(&core), before, "leaderboards after the restart");
    eprintln!(
        "analytics restart: {saved} wallet states saved and restored, {} ranked (score, 24h)",
        before[0].0
    );
}

#[tokio::test]
async fn alfa_and_score_answer_anywhere_and_buttons_edit_the_board() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir, "c.db");
    let core = core(&db).await;
    let m = market();
    for ev in &m.events {
        core.ingest(ev).await.unwrap();
    }
    let chat = ChatService::new(Arc::clone(&core), Some("alfabot".into()));
    let bob = UserRef::new(Platform::Telegram, 2);

    // /alfa in private and in a group: a board with its controls.
    for chat_id in [2, -100] {
        let r = chat.handle(request(bob, chat_id, "/alfa", "en")).await;
        let board = &r.messages[0];
        assert!(board.text.starts_with("🏆"), "{}", board.text);
        let data: Vec<String> = board
            .buttons
            .iter()
            .flatten()
            .map(|b| b.action.encode())
            .collect();
        assert!(data.contains(&"a:score:7d:0".to_owned()), "{data:?}");
        assert!(data.contains(&"a:vol:24h:0".to_owned()), "{data:?}");
    }
    let r = chat
        .handle(request(bob, 2, "/leaderboard 30d wr", "en"))
        .await;
    assert!(
        r.messages[0].buttons[0][2].label.starts_with('•'),
        "30d is marked"
    );
    assert!(
        r.messages[0].buttons[1][3].label.starts_with('•'),
        "wr is marked"
    );
    let r = chat.handle(request(bob, 2, "/alfa moon", "en")).await;
    assert!(r.messages[0].text.contains("“moon”") && r.messages[0].text.contains("/alfa pnl 7d"));

    // A timeframe button edits the board in place, in groups too.
    for chat_id in [2, -100] {
        let r = chat.handle(button(bob, chat_id, "a:pnl:7d:0")).await;
        assert!(r.messages.is_empty() && r.toast.is_none());
        let edit = r.edit.expect("the board is edited");
        assert!(edit.text.contains("PnL · 7d"), "{}", edit.text);
        assert!(edit.buttons[0][1].label.starts_with('•'));
    }
    // A page past the end shows the last page.
    let r = chat.handle(button(bob, 2, "a:score:24h:999")).await;
    assert!(r.edit.is_some());

    // /score: bad address as /track says it; unknown wallets clearly.
    let r = chat
        .handle(request(bob, -100, "/score not-a-wallet", "en"))
        .await;
    assert!(
        r.messages[0].text.contains("position 4"),
        "{}",
        r.messages[0].text
    );
    let nobody = WalletAddress::from_bytes([77; 32]);
    let r = chat
        .handle(request(bob, -100, &format!("/score {nobody}"), "en"))
        .await;
    assert!(
        r.messages[0].text.starts_with("I have not seen"),
        "{}",
        r.messages[0].text
    );
    let missing = chat.handle(request(bob, 2, "/score", "en")).await;
    assert!(missing.messages[0].text.contains("/score needs <wallet>"));

    // A skilled wallet's card, in any group or chat.
    let skilled = m.skilled[0];
    let card = core.card(&skilled).expect("the skilled wallet traded");
    let r = chat
        .handle(request(bob, -100, &format!("/score {skilled}"), "en"))
        .await;
    let text = &r.messages[0].text;
    assert!(
        text.contains(&skilled.to_string()) && text.contains("Bayesian"),
        "{text}"
    );
    assert!(
        text.contains(&format!("Bayesian {:.2}:", card.scores.bayesian)),
        "the card's score: {text}"
    );
    assert_eq!(
        r.messages[0].buttons[0][0].action.encode(),
        format!("f:{skilled}")
    );

    // Follow from a button: privately it follows and toasts; in a group it
    // only explains (the toast is seen by the presser alone).
    let data = format!("f:{skilled}");
    let r = chat.handle(button(bob, -100, &data)).await;
    assert!(r.toast.unwrap().contains("private chat"));
    assert!(core.follows(bob).await.unwrap().is_empty());
    let r = chat.handle(button(bob, 2, &data)).await;
    assert!(r.toast.unwrap().starts_with("✅ Following"));
    let follows: Vec<WalletAddress> = core
        .follows(bob)
        .await
        .unwrap()
        .iter()
        .map(|f| f.wallet)
        .collect();
    assert_eq!(follows, vec![skilled]);
    let r = chat.handle(button(bob, 2, &data)).await;
    assert!(r.toast.unwrap().contains("already follow"));
}

/// A card without its unrealized PnL: open lots are not persisted (see
/// `Analytics::restore`), so that figure restarts from the next trade.
fn settled(card: Option<WalletCard>) -> Option<WalletCard> {
    card.map(|mut c| {
        c.all_time.unrealized_pnl = 0;
        c
    })
}

// ------------------------------------------------------------ copy pipeline --

/// One trade copied by more followers than one write holds: every order
/// is stored, handed over and filled exactly once across the batches, and
/// each follower's /why reads the decision, then the fill; the followers
/// who skip are logged too.
#[tokio::test]
async fn a_trade_with_hundreds_of_followers_is_copied_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let core = core(&db_in(&dir, "many.db")).await;
    let leader = WalletAddress::parse(LEADER).unwrap();
    let (copying, watching) = (600, 40);
    for i in 0..copying + watching {
        let user = UserRef::new(Platform::Telegram, 10_000 + i);
        let rec = core.user(user, Some("en")).await.unwrap();
        let (profile, _, _) = core.follow(&rec, leader).await.unwrap();
        if i >= copying {
            core.change_setting(
                user,
                profile.id,
                alfabot::domain::Setting::NotifyOnly,
                SettingChange::Next,
            )
            .await
            .unwrap();
        }
    }
    let ev = buy(3, leader);
    ingest(&core, &ev).await;
    assert_eq!(core.due_len().await, 0, "every paper order ran");
    for i in [0, 255, 256, 511, 512, copying - 1] {
        let user = UserRef::new(Platform::Telegram, 10_000 + i);
        let fills = core.store().fills_of(user, 10).await.unwrap();
        assert_eq!(fills.len(), 1, "follower {i}");
        let why = core.why(user, Some(ev.mint)).await.unwrap();
        let kinds: Vec<&str> = why
            .iter()
            .map(|d| match &d.verdict {
                Verdict::Placed { .. } => "placed",
                Verdict::Filled { .. } => "filled",
                Verdict::Skipped { .. } => "skipped",
                Verdict::Rejected { .. } => "rejected",
            })
            .collect();
        assert_eq!(kinds, ["filled", "placed"], "follower {i}: newest first");
    }
    let watcher = UserRef::new(Platform::Telegram, 10_000 + copying);
    let why = core.why(watcher, Some(ev.mint)).await.unwrap();
    assert!(
        matches!(
            why.as_slice(),
            [d] if matches!(d.verdict, Verdict::Skipped { reason: SkipReason::NotifyOnly, .. })
        ),
        "{why:?}"
    );
    let fills = take_queued(&core)
        .await
        .into_iter()
        .filter(|m| matches!(m.payload, OutboxPayload::Fill { .. }))
        .count();
    assert_eq!(
        fills,
        usize::try_from(copying).unwrap(),
        "one notice per copy"
    );
    // Replayed, nothing is copied again.
    ingest(&core, &ev).await;
    assert_eq!(core.due_len().await, 0);
    assert!(
        take_queued(&core)
            .await
            .iter()
            .all(|m| !matches!(m.payload, OutboxPayload::Fill { .. })),
        "no second copy"
    );
}

#[tokio::test]
async fn every_decision_is_in_the_skip_log() {
    let dir = tempfile::tempdir().unwrap();
    let core = core(&db_in(&dir, "w.db")).await;
    let user = UserRef::new(Platform::Telegram, 5);
    let leader = WalletAddress::parse(LEADER).unwrap();
    let rec = core.user(user, Some("en")).await.unwrap();
    let (profile, _, _) = core.follow(&rec, leader).await.unwrap();
    // A second profile that only notifies.
    let notify = core
        .create_profile(&rec, &alfabot::domain::ProfileName::parse("watch").unwrap())
        .await
        .unwrap();
    core.change_setting(
        user,
        notify.id,
        alfabot::domain::Setting::NotifyOnly,
        SettingChange::Next,
    )
    .await
    .unwrap();
    core.follow_into(&notify, leader).await.unwrap();
    ingest(&core, &buy(3, leader)).await;
    // The leader sells a mint the profiles never bought.
    ingest(&core, &trade_at(9, leader, Side::Sell, T0 + 20_000)).await;
    let mint3 = WalletAddress::from_bytes([3; 32]);
    let about3 = core.why(user, Some(mint3)).await.unwrap();
    let kinds: Vec<(i64, &str)> = about3
        .iter()
        .map(|d| {
            (
                d.profile.0,
                match &d.verdict {
                    Verdict::Placed { .. } => "placed",
                    Verdict::Skipped { .. } => "skipped",
                    Verdict::Filled { .. } => "filled",
                    Verdict::Rejected { .. } => "rejected",
                },
            )
        })
        .collect();
    // Newest first: the fill, then the two decisions on the trade.
    assert_eq!(kinds[0], (profile.id.0, "filled"), "{about3:?}");
    assert!(kinds.contains(&(profile.id.0, "placed")));
    assert!(kinds.contains(&(notify.id.0, "skipped")));
    let by_leader = core.why(user, Some(leader)).await.unwrap();
    assert!(by_leader.iter().any(|d| matches!(
        d.verdict,
        Verdict::Skipped {
            reason: SkipReason::NoPosition
        }
    )));
    assert!(by_leader.len() > about3.len());
}

#[tokio::test]
async fn caps_and_positions_hold_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir, "k.db");
    let user = UserRef::new(Platform::Telegram, 6);
    let leader = WalletAddress::parse(LEADER).unwrap();
    // Today's risk state is rebuilt from today's fills (UTC, wall clock):
    // these trades happen now.
    let now = alfabot::domain::ports::Clock::now_ms(&SystemClock);
    let settings = ProfileSettings {
        daily_cap: Lamports(250_000_000),
        adaptive: false,
        ..defaults()
    };
    {
        let core = core_with(&db, settings.clone()).await;
        let rec = core.user(user, Some("en")).await.unwrap();
        core.follow(&rec, leader).await.unwrap();
        ingest(&core, &trade_at(1, leader, Side::Buy, now)).await;
        ingest(&core, &trade_at(2, leader, Side::Buy, now + 1)).await;
        core.flush().await.unwrap();
    }
    let core = core_with(&db, settings).await;
    assert_eq!(core.positions_of(user).len(), 2, "positions restored");
    // Today's spend (0.2 SOL + fees) is restored: a third 0.1 SOL buy would
    // pass the 0.25 SOL cap.
    ingest(&core, &trade_at(4, leader, Side::Buy, now + 2)).await;
    let latest = core.why(user, None).await.unwrap();
    assert!(
        matches!(
            latest[0].verdict,
            Verdict::Skipped {
                reason: SkipReason::DailyCap { .. }
            }
        ),
        "{latest:?}"
    );
    assert_eq!(core.positions_of(user).len(), 2);
}

#[tokio::test]
async fn an_order_left_unfinished_is_reconciled_not_executed() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir, "u.db");
    let user = UserRef::new(Platform::Telegram, 8);
    let leader = WalletAddress::parse(LEADER).unwrap();
    // Paper latency of a minute: the process stops with the order pending.
    let slow = ProfileSettings {
        latency_ms: 60_000,
        ..defaults()
    };
    {
        let core = core_with(&db, slow.clone()).await;
        let rec = core.user(user, Some("en")).await.unwrap();
        core.follow(&rec, leader).await.unwrap();
        ingest(&core, &buy(1, leader)).await;
        assert_eq!(core.due_len().await, 1);
        assert_eq!(core.store().unfinished_orders().await.unwrap().len(), 1);
    }
    let core = core_with(&db, slow).await;
    assert!(core.store().unfinished_orders().await.unwrap().is_empty());
    assert!(core.positions_of(user).is_empty(), "never filled late");
    let why = core.why(user, None).await.unwrap();
    assert!(matches!(
        why[0].verdict,
        Verdict::Rejected {
            reason: SkipReason::Interrupted,
            ..
        }
    ));
    // The replayed trade is not copied again either.
    ingest(&core, &buy(1, leader)).await;
    assert_eq!(core.due_len().await, 0);
}

/// Wallets new to the top lists go out once a day, when the clock passes
/// the day's end: to every user whose switch is not off, each wallet once
/// at its best rank, best placed first. A second instance sharing the
/// session store does not send the same day again.
#[tokio::test]
async fn the_days_discoveries_go_out_once_after_midnight() {
    const HOUR: i64 = 3_600_000;
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir, "d.db");
    let midnight = 1_760_918_400_000;
    let clock = crate::support::clock::ManualClock::at(midnight + 10 * HOUR);
    let sessions = alfabot::session::connect(None).await.unwrap();
    let one = paper_core_sharing(&db, clock.clone(), Arc::clone(&sessions)).await;
    let two = paper_core_sharing(&db, clock.clone(), sessions).await;
    let [on, silent, off] = [700, 701, 702].map(|id| UserRef::new(Platform::Telegram, id));
    for (user, level) in [
        (on, NotifyLevel::On),
        (silent, NotifyLevel::Silent),
        (off, NotifyLevel::Off),
    ] {
        one.user(user, Some("en")).await.unwrap();
        let mut prefs = NotifyPrefs::default();
        prefs.set(NotifyKind::Discoveries, level);
        one.set_notify(user, &prefs).await.unwrap();
    }
    let [a, b, c] = [0x61, 0x62, 0x63].map(|n| WalletAddress::from_bytes([n; 32]));
    let found = |wallet, metric, window, rank, at_ms| AnalyticsEvent::Discovered {
        wallet,
        metric,
        window,
        rank,
        at_ms,
    };
    let listed = |wallet, metric, window, rank| Discovered {
        wallet,
        metric,
        window,
        rank,
    };
    let today = [
        found(a, Metric::Pnl, Window::D7, 4, midnight + 10 * HOUR),
        found(b, Metric::Score, Window::H24, 9, midnight + 11 * HOUR),
        found(a, Metric::WinRate, Window::D30, 2, midnight + 12 * HOUR),
    ];
    // Seen late on the first day, stamped just after its end.
    let tomorrow = [found(
        c,
        Metric::Volume,
        Window::D7,
        1,
        midnight + 24 * HOUR,
    )];
    for core in [&one, &two] {
        core.tick().await.unwrap();
        core.publish(&today).await.unwrap();
        core.publish(&tomorrow).await.unwrap();
    }
    clock.advance(14 * HOUR - 1);
    for core in [&one, &two] {
        core.tick().await.unwrap();
    }
    assert_eq!(take_queued(&one).await, vec![], "the day is not over");

    clock.advance(1);
    for core in [&one, &two] {
        core.tick().await.unwrap();
        core.tick().await.unwrap();
    }
    let digest = |day_ms, wallets| OutboxPayload::Discoveries { day_ms, wallets };
    let sent: Vec<(UserRef, OutboxPayload, bool)> = take_queued(&one)
        .await
        .into_iter()
        .map(|m| (m.user, m.payload, m.silent))
        .collect();
    let first = digest(
        midnight,
        vec![
            listed(a, Metric::WinRate, Window::D30, 2),
            listed(b, Metric::Score, Window::H24, 9),
        ],
    );
    assert_eq!(
        sent,
        vec![(on, first.clone(), false), (silent, first, true)],
        "once, to the users who want it"
    );

    clock.advance(24 * HOUR);
    for core in [&one, &two] {
        core.tick().await.unwrap();
    }
    let second = digest(
        midnight + 24 * HOUR,
        vec![listed(c, Metric::Volume, Window::D7, 1)],
    );
    let sent: Vec<OutboxPayload> = take_queued(&one)
        .await
        .into_iter()
        .map(|m| m.payload)
        .collect();
    assert_eq!(sent, vec![second.clone(), second]);

    // A day without discoveries sends nothing; nor does a day the clock
    // jumped over (a process stopped for days): stale news.
    clock.advance(24 * HOUR);
    one.tick().await.unwrap();
    one.publish(&[found(c, Metric::Pnl, Window::H24, 3, one.now_ms())])
        .await
        .unwrap();
    clock.advance(2 * 24 * HOUR);
    one.tick().await.unwrap();
    assert_eq!(take_queued(&one).await, vec![]);
}

#[tokio::test]
async fn notification_switches_drop_or_silence_messages() {
    let dir = tempfile::tempdir().unwrap();
    let core = core(&db_in(&dir, "n.db")).await;
    let user = UserRef::new(Platform::Telegram, 9);
    let leader = WalletAddress::parse(LEADER).unwrap();
    let rec = core.user(user, Some("en")).await.unwrap();
    core.follow(&rec, leader).await.unwrap();
    let mut prefs = NotifyPrefs::default();
    prefs.set(NotifyKind::Alerts, NotifyLevel::Off);
    prefs.set(NotifyKind::Fills, NotifyLevel::Silent);
    core.set_notify(user, &prefs).await.unwrap();
    ingest(&core, &buy(1, leader)).await;
    let pending = core.store().pending(10).await.unwrap();
    assert_eq!(pending.len(), 1, "the alert is off");
    assert!(matches!(pending[0].payload, OutboxPayload::Fill { .. }));
    assert!(pending[0].silent);
    let up = Arc::new(Recorder::default());
    delivery(&core, Arc::clone(&up)).drain().await.unwrap();
    assert!(up.sent.lock().unwrap()[0].2, "sent silently");
    assert_eq!(
        core.store().get_user(user).await.unwrap().unwrap().notify,
        prefs
    );
}

#[tokio::test]
async fn live_mode_needs_one_of_the_users_keys() {
    let dir = tempfile::tempdir().unwrap();
    let core = core(&db_in(&dir, "l.db")).await;
    let user = UserRef::new(Platform::Telegram, 10);
    let leader = WalletAddress::parse(LEADER).unwrap();
    let rec = core.user(user, Some("en")).await.unwrap();
    let (profile, _, _) = core.follow(&rec, leader).await.unwrap();
    // Live mode needs one of the user's keys as its wallet.
    let err = core
        .change_setting(
            user,
            profile.id,
            alfabot::domain::Setting::Mode,
            SettingChange::Next,
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        alfabot::service::ProfileError::Setting(alfabot::domain::SettingError::LiveNeedsWallet)
    ));
    let stranger = WalletAddress::from_bytes([3; 32]);
    let err = core
        .change_setting(
            user,
            profile.id,
            alfabot::domain::Setting::Wallet,
            SettingChange::Typed(&stranger.to_string()),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, alfabot::service::ProfileError::UnknownWallet));
}

fn vault() -> Arc<Vault> {
    Arc::new(Vault::new(
        MasterKeys::parse(&MasterKeys::generate_base64()).unwrap(),
    ))
}

/// Imports a fresh key for `user`, makes it the active profile's wallet and
/// the profile live, and follows `leader`.
async fn live_profile(core: &Arc<Core>, user: UserRef, leader: WalletAddress) -> WalletAddress {
    let rec = core.user(user, Some("en")).await.unwrap();
    let (_, secret) = keys::generate();
    let wallet = core
        .import_key(user, &keys::export_base58(&secret))
        .await
        .unwrap();
    let (profile, _, _) = core.follow(&rec, leader).await.unwrap();
    core.change_setting(
        user,
        profile.id,
        alfabot::domain::Setting::Wallet,
        SettingChange::Typed(&wallet.to_string()),
    )
    .await
    .unwrap();
    let p = core
        .change_setting(
            user,
            profile.id,
            alfabot::domain::Setting::Mode,
            SettingChange::Next,
        )
        .await
        .unwrap();
    assert_eq!(p.settings.mode, alfabot::domain::Mode::Live);
    wallet
}

/// Every message queued since the last look, oldest first. The store
/// hands out a few of a chat's messages at a time, so each page is marked
/// sent to reach the next.
async fn take_queued(core: &Core) -> Vec<OutboxMessage> {
    let mut all = Vec::new();
    loop {
        let page = core.store().pending(1_000).await.unwrap();
        if page.is_empty() {
            return all;
        }
        for m in &page {
            core.store().mark_sent(m.id, 0).await.unwrap();
        }
        all.extend(page);
    }
}

/// The messages queued for `user` since the last look, by kind: (fills,
/// rejections, others).
async fn notices(core: &Core, user: UserRef) -> (Vec<OutboxPayload>, Vec<OutboxPayload>, usize) {
    let mut fills = Vec::new();
    let mut rejected = Vec::new();
    let mut others = 0;
    for m in take_queued(core).await {
        assert_eq!(m.user, user);
        match m.payload {
            p @ OutboxPayload::Fill { .. } => fills.push(p),
            p @ OutboxPayload::Rejected { .. } => rejected.push(p),
            _ => others += 1,
        }
    }
    (fills, rejected, others)
}

#[tokio::test]
async fn live_orders_without_a_live_executor_are_rejected_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let core = core_from(&db_in(&dir, "nl.db"), defaults(), None, Some(vault())).await;
    let user = UserRef::new(Platform::Telegram, 10);
    let leader = WalletAddress::parse(LEADER).unwrap();
    live_profile(&core, user, leader).await;
    let ev = buy(1, leader);
    ingest(&core, &ev).await;

    let key = alfabot::domain::IdempotencyKey::copy(
        core.profiles(user).await.unwrap()[0].id,
        &ev.signature,
        Side::Buy,
    );
    let order = core.store().get_order(&key).await.unwrap().unwrap();
    assert_eq!(
        (order.status, order.reason, order.order.mode),
        (
            OrderStatus::Rejected,
            Some(SkipReason::LiveOff),
            alfabot::domain::Mode::Live
        ),
        "recorded first, then rejected with its reason"
    );
    assert!(core.store().fills_of(user, 10).await.unwrap().is_empty());
    assert!(core.positions_of(user).is_empty());
    let (fills, rejected, alerts) = notices(&core, user).await;
    assert!(fills.is_empty());
    assert_eq!(alerts, 1, "the leader's trade");
    assert!(
        matches!(
            rejected.as_slice(),
            [OutboxPayload::Rejected {
                reason: SkipReason::LiveOff,
                order,
                ..
            }] if order.key == key
        ),
        "{rejected:?}"
    );
    let why = core.why(user, None).await.unwrap();
    assert!(
        matches!(
            why[0].verdict,
            Verdict::Rejected {
                reason: SkipReason::LiveOff,
                ..
            }
        ),
        "{why:?}"
    );
    // Nothing is left for reconciling, and the reservation was given back:
    // the next trade of the leader is decided afresh (spacing aside).
    assert!(core.store().unfinished_orders().await.unwrap().is_empty());
    assert_eq!(core.reconcile().await.unwrap(), 0);
}

// ------------------------------------------------------ orders in flight --

#[tokio::test]
async fn a_paper_order_waiting_out_its_latency_is_left_alone_by_reconcile() {
    let dir = tempfile::tempdir().unwrap();
    let slow = ProfileSettings {
        latency_ms: 2_000,
        ..defaults()
    };
    let core = core_with(&db_in(&dir, "race.db"), slow).await;
    let user = UserRef::new(Platform::Telegram, 21);
    let leader = WalletAddress::parse(LEADER).unwrap();
    let rec = core.user(user, Some("en")).await.unwrap();
    let (profile, _, _) = core.follow(&rec, leader).await.unwrap();
    let ev = buy(1, leader);
    ingest(&core, &ev).await;
    let key = alfabot::domain::IdempotencyKey::copy(profile.id, &ev.signature, Side::Buy);

    // Waiting in the due queue, stored as pending: the periodic reconcile
    // pass comes now and must not settle it.
    assert_eq!(core.due_len().await, 1);
    let stored = core.store().get_order(&key).await.unwrap().unwrap();
    assert_eq!(stored.status, OrderStatus::Pending);
    assert_eq!(core.reconcile().await.unwrap(), 0);
    let stored = core.store().get_order(&key).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.reason), (OrderStatus::Pending, None));
    assert_eq!(core.due_len().await, 1);
    let (fills, rejected, _) = notices(&core, user).await;
    assert!(fills.is_empty() && rejected.is_empty(), "{rejected:?}");

    // The clock reaches its latency (another mint's trade): it fills.
    let other = WalletAddress::from_bytes([8; 32]);
    ingest(
        &core,
        &trade_at(2, other, Side::Buy, ev.timestamp_ms + 2_500),
    )
    .await;
    assert_eq!(core.due_len().await, 0);
    let stored = core.store().get_order(&key).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.reason), (OrderStatus::Filled, None));
    assert_eq!(core.store().fills_of(user, 10).await.unwrap().len(), 1);
    let (fills, rejected, _) = notices(&core, user).await;
    assert_eq!(fills.len(), 1, "exactly one notice of the order");
    assert!(rejected.is_empty(), "{rejected:?}");
    let why = core.why(user, Some(ev.mint)).await.unwrap();
    assert!(
        !why.iter()
            .any(|d| matches!(d.verdict, Verdict::Rejected { .. })),
        "{why:?}"
    );
    assert_eq!(core.reconcile().await.unwrap(), 0, "nothing unfinished");
}

/// A live executor the test holds: the moment the core routes an order
/// (stored, not yet running) it runs a reconcile pass of the core; then it
/// waits for the test to let it fill. Its `reconcile` says what a live
/// executor says of a pending order: interrupted.
struct Held {
    core: std::sync::OnceLock<std::sync::Weak<Core>>,
    running: tokio::sync::Notify,
    release: tokio::sync::Semaphore,
    /// What the reconcile passes at routing settled.
    at_routing: Mutex<Vec<usize>>,
    reconciled: std::sync::atomic::AtomicUsize,
}

impl Held {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            core: std::sync::OnceLock::new(),
            running: tokio::sync::Notify::new(),
            release: tokio::sync::Semaphore::new(0),
            at_routing: Mutex::new(Vec::new()),
            reconciled: std::sync::atomic::AtomicUsize::new(0),
        })
    }
}

#[async_trait::async_trait]
impl Executor for Held {
    fn ready_at(&self, _order: &alfabot::domain::Order) -> Option<i64> {
        let core = self.core.get().unwrap().upgrade().unwrap();
        let settled = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(core.reconcile())
        })
        .unwrap();
        self.at_routing.lock().unwrap().push(settled);
        None
    }

    async fn execute(
        &self,
        order: &alfabot::engine::RiskApproved<alfabot::domain::Order>,
        _market: &alfabot::exec::Market,
    ) -> anyhow::Result<alfabot::domain::Execution> {
        self.running.notify_one();
        self.release.acquire().await.unwrap().forget();
        Ok(alfabot::domain::Execution::Filled {
            sol: Lamports(order.sol_in.0 + 15_000),
            tokens: TokenAmount(order.expected_out),
            fee: Lamports(15_000),
            tx: Some(Signature::from_bytes(&[0xee; 64])),
            at_ms: order.trigger_ms + 500,
        })
    }

    async fn reconcile(
        &self,
        _record: &alfabot::domain::ports::OrderRecord,
        market: &alfabot::exec::Market,
    ) -> anyhow::Result<Option<alfabot::domain::Execution>> {
        self.reconciled
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Some(alfabot::domain::Execution::Rejected {
            reason: SkipReason::Interrupted,
            at_ms: market.now_ms,
        }))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_order_is_left_alone_by_reconcile_from_storing_to_recording() {
    let dir = tempfile::tempdir().unwrap();
    let held = Held::new();
    let core = core_from(
        &db_in(&dir, "held.db"),
        defaults(),
        Some(Arc::clone(&held) as Arc<dyn Executor>),
        Some(vault()),
    )
    .await;
    held.core.set(Arc::downgrade(&core)).unwrap();
    let user = UserRef::new(Platform::Telegram, 22);
    let leader = WalletAddress::parse(LEADER).unwrap();
    live_profile(&core, user, leader).await;
    let ev = buy(1, leader);
    let running = held.running.notified();
    core.ingest(&ev).await.unwrap();
    running.await;
    let key = alfabot::domain::IdempotencyKey::copy(
        core.profiles(user).await.unwrap()[0].id,
        &ev.signature,
        Side::Buy,
    );

    // Stored, routed, running: reconcile passes at routing and now leave it.
    assert_eq!(*held.at_routing.lock().unwrap(), vec![0]);
    assert_eq!(core.reconcile().await.unwrap(), 0);
    assert_eq!(
        held.reconciled.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the executor was never asked to reconcile its own order"
    );
    let stored = core.store().get_order(&key).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.reason), (OrderStatus::Pending, None));

    held.release.add_permits(1);
    let mut status = stored.status;
    for _ in 0..400 {
        status = core.store().get_order(&key).await.unwrap().unwrap().status;
        if status.is_final() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(status, OrderStatus::Filled);
    let (fills, rejected, _) = notices(&core, user).await;
    assert_eq!(fills.len(), 1, "exactly one notice of the order");
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(core.positions_of(user).len(), 1);
    assert_eq!(core.reconcile().await.unwrap(), 0);
    assert_eq!(held.reconciled.load(std::sync::atomic::Ordering::SeqCst), 0);
}

// ------------------------------------------------------ paper latency --

/// Tokens a buy of `gross` lamports gets on reserves `(vs, vt)`: the curve
/// math of DESIGN §3 (1.25% fee from the SOL side), written out here.
fn tokens_on(curve: Curve, gross: u64) -> u64 {
    let net = u128::from(gross) * 10_000 / (10_000 + 125);
    let (vs, vt) = (
        u128::from(curve.virtual_sol),
        u128::from(curve.virtual_tokens),
    );
    u64::try_from(net * vt / (vs + net)).unwrap()
}

const SOL: u64 = 1_000_000_000;

/// A core whose profiles fill on paper 400 ms after the leader, a user
/// following the leader, and a tape.
async fn latency_setup(db: &str) -> (Arc<Core>, UserRef, WalletAddress, Tape) {
    let settings = ProfileSettings {
        latency_ms: 400,
        slippage_bps: 500,
        ..defaults()
    };
    let core = core_with(db, settings).await;
    let user = UserRef::new(Platform::Telegram, 31);
    let leader = WalletAddress::parse(LEADER).unwrap();
    let rec = core.user(user, Some("en")).await.unwrap();
    core.follow(&rec, leader).await.unwrap();
    (core, user, leader, Tape::new(T0))
}

/// The order placed for `user`'s (only) profile.
async fn only_order(core: &Core, user: UserRef) -> alfabot::domain::ports::OrderRecord {
    let mut orders = Vec::new();
    for d in core.why(user, None).await.unwrap() {
        if let Verdict::Placed { key, .. } = d.verdict {
            orders.push(core.store().get_order(&key).await.unwrap().unwrap());
        }
    }
    assert_eq!(orders.len(), 1, "{orders:?}");
    orders.remove(0)
}

#[tokio::test]
async fn paper_fills_are_priced_on_the_curve_at_the_trigger_plus_the_latency() {
    let dir = tempfile::tempdir().unwrap();
    let (core, user, leader, mut tape) = latency_setup(&db_in(&dir, "lat.db")).await;
    let mint = WalletAddress::from_bytes([0x41; 32]);
    let crowd = WalletAddress::from_bytes([9; 32]);

    let lead = tape.trade(mint, leader, Side::Buy, SOL / 2);
    let at_leader = tape.curve(&mint);
    ingest(&core, &lead).await;
    assert_eq!(core.due_len().await, 1, "waiting out its latency");
    // Inside the latency: the copy will pay this trade's price.
    let inside = tape.trade_after(200, mint, crowd, Side::Buy, SOL * 4 / 10);
    let priced_on = tape.curve(&mint);
    ingest(&core, &inside).await;
    assert_eq!(core.due_len().await, 1);
    // After it: the order runs first, on the curve as it stood then.
    let after = tape.trade_after(400, mint, crowd, Side::Buy, 3 * SOL);
    ingest(&core, &after).await;
    assert_eq!(core.due_len().await, 0);

    let order = only_order(&core, user).await;
    assert_eq!(order.status, OrderStatus::Filled);
    assert_eq!(order.order.sol_in, Lamports(SOL / 10));
    assert_eq!(order.order.expected_out, tokens_on(at_leader, SOL / 10));
    let fills = core.store().fills_of(user, 10).await.unwrap();
    assert_eq!(fills.len(), 1);
    let got = tokens_on(priced_on, SOL / 10);
    assert!(
        got < order.order.expected_out && got >= order.order.min_out,
        "the move cost tokens, within the slippage"
    );
    let network = 5_000 + 100_000;
    let curve_fee = SOL / 10 - SOL / 10 * 10_000 / 10_125;
    assert_eq!(
        (
            fills[0].tokens.0,
            fills[0].sol.0,
            fills[0].fee.0,
            fills[0].timestamp_ms
        ),
        (
            got,
            SOL / 10 + network,
            curve_fee + network,
            lead.timestamp_ms + 400
        )
    );
    assert_eq!(core.positions_of(user)[0].position.tokens.0, got);
}

#[tokio::test]
async fn a_paper_fill_moved_past_the_slippage_cap_is_skipped_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (core, user, leader, mut tape) = latency_setup(&db_in(&dir, "slip.db")).await;
    let mint = WalletAddress::from_bytes([0x42; 32]);
    let crowd = WalletAddress::from_bytes([9; 32]);

    let lead = tape.trade(mint, leader, Side::Buy, SOL / 2);
    let at_leader = tape.curve(&mint);
    ingest(&core, &lead).await;
    // A big buy inside the latency moves the price past the 5% cap.
    let inside = tape.trade_after(300, mint, crowd, Side::Buy, 3 * SOL);
    let priced_on = tape.curve(&mint);
    ingest(&core, &inside).await;
    ingest(
        &core,
        &tape.trade_after(
            300,
            WalletAddress::from_bytes([0x43; 32]),
            crowd,
            Side::Buy,
            SOL,
        ),
    )
    .await;
    assert_eq!(core.due_len().await, 0);

    let expected = tokens_on(at_leader, SOL / 10);
    let got = tokens_on(priced_on, SOL / 10);
    let order = only_order(&core, user).await;
    assert!(got < order.order.min_out, "{got} < {}", order.order.min_out);
    let reason = SkipReason::Slippage { expected, got };
    assert_eq!(
        (order.status, order.reason),
        (OrderStatus::Rejected, Some(reason))
    );
    assert!(core.store().fills_of(user, 10).await.unwrap().is_empty());
    assert!(core.positions_of(user).is_empty());
    let why = core.why(user, None).await.unwrap();
    assert!(
        matches!(&why[0].verdict, Verdict::Rejected { reason: r, .. } if *r == reason),
        "{why:?}"
    );
    let (fills, rejected, _) = notices(&core, user).await;
    assert!(fills.is_empty());
    assert!(
        matches!(rejected.as_slice(), [OutboxPayload::Rejected { reason: r, .. }] if *r == reason),
        "{rejected:?}"
    );
}

// ------------------------------------------------------- notifications --

/// Three users copy the same leader with the same rules and get the same
/// events: a big winner, three stop losses, then a risk tier change and a
/// cooldown. Each has each of those kinds at a different level (on, silent,
/// off), so every kind is seen at every level.
#[tokio::test]
async fn big_wins_stop_losses_and_risk_notices_follow_each_users_levels() {
    use alfabot::domain::{ExitReason, RiskEvent, RiskTier};
    let dir = tempfile::tempdir().unwrap();
    let settings = ProfileSettings {
        bankroll: Lamports(2_500_000_000),
        stop_loss_bps: 2_500,
        tp1_bps: 0,
        trailing: false,
        break_even: false,
        max_hold_s: 0,
        ..defaults()
    };
    let core = core_with(&db_in(&dir, "notes.db"), settings).await;
    let leader = WalletAddress::parse(LEADER).unwrap();
    let crowd = WalletAddress::from_bytes([9; 32]);
    let (on, silent, off) = (NotifyLevel::On, NotifyLevel::Silent, NotifyLevel::Off);
    let kinds = [
        NotifyKind::BigWins,
        NotifyKind::StopLosses,
        NotifyKind::Risk,
    ];
    let users = [
        (UserRef::new(Platform::Telegram, 41), [on, silent, off]),
        (UserRef::new(Platform::Telegram, 42), [silent, off, on]),
        (UserRef::new(Platform::Telegram, 43), [off, on, silent]),
    ];
    for (user, levels) in &users {
        let rec = core.user(*user, Some("en")).await.unwrap();
        core.follow(&rec, leader).await.unwrap();
        let mut prefs = NotifyPrefs::default();
        for (kind, level) in kinds.iter().zip(levels) {
            prefs.set(*kind, *level);
        }
        core.set_notify(*user, &prefs).await.unwrap();
    }

    let mut tape = Tape::new(T0);
    let mint = |n: u8| WalletAddress::from_bytes([0x60 + n; 32]);
    // A winner: the crowd pumps after the entry, the leader sells out.
    let entry = tape.trade(mint(1), leader, Side::Buy, SOL / 2);
    ingest(&core, &entry).await;
    ingest(&core, &tape.trade(mint(1), crowd, Side::Buy, 10 * SOL)).await;
    ingest(
        &core,
        &tape.trade(mint(1), leader, Side::Sell, entry.tokens.0),
    )
    .await;
    // Three losers: the entry at the top of a pump, then the crowd dumps.
    for n in 2..=4 {
        tape.wait(130_000);
        let pump = tape.trade(mint(n), crowd, Side::Buy, 10 * SOL);
        ingest(&core, &pump).await;
        ingest(&core, &tape.trade(mint(n), leader, Side::Buy, SOL / 2)).await;
        ingest(
            &core,
            &tape.trade(mint(n), crowd, Side::Sell, pump.tokens.0),
        )
        .await;
    }

    let messages = take_queued(&core).await;
    for (user, levels) in &users {
        let profile = core.profiles(*user).await.unwrap()[0].id;
        let trips = core.store().round_trips(Some(profile), 0).await.unwrap();
        assert_eq!(trips.len(), 4);
        assert!(trips[0].roi_bps() >= 5_000, "{:?}", trips[0]);
        assert!(trips[1..].iter().all(|t| t.exit == ExitReason::StopLoss));
        let day_pnl: i64 = trips.iter().map(|t| t.pnl).sum();
        let before_last: i64 = trips[..3].iter().map(|t| t.pnl).sum();
        assert!(
            before_last > -50_000_000 && day_pnl <= -50_000_000 && day_pnl > -100_000_000,
            "the last loss crosses 2% of the bankroll, not 4%: {before_last} → {day_pnl}"
        );

        let mine: Vec<_> = messages.iter().filter(|m| m.user == *user).collect();
        let of = |kind: NotifyKind| -> Vec<_> {
            mine.iter()
                .filter(|m| m.payload.kind() == kind)
                .copied()
                .collect()
        };
        for (kind, level) in kinds.iter().zip(levels) {
            let got = of(*kind);
            let expected = match kind {
                NotifyKind::BigWins => 1,
                NotifyKind::StopLosses => 3,
                _ => 2,
            };
            if *level == NotifyLevel::Off {
                assert!(got.is_empty(), "{user}: {kind:?} is off: {got:?}");
                continue;
            }
            assert_eq!(got.len(), expected, "{user}: {kind:?}: {got:?}");
            assert!(
                got.iter()
                    .all(|m| m.silent == (*level == NotifyLevel::Silent)),
                "{user}: {kind:?} {level:?}"
            );
            match kind {
                NotifyKind::BigWins => assert!(
                    matches!(&got[0].payload, OutboxPayload::Closed { trip, profile_name }
                        if *trip == trips[0] && profile_name == "main"),
                    "{got:?}"
                ),
                NotifyKind::StopLosses => {
                    for (m, n) in got.iter().zip(2..) {
                        assert!(
                            matches!(&m.payload, OutboxPayload::Fill { fill, .. }
                                if fill.reason == Some(ExitReason::StopLoss)
                                    && fill.side == Side::Sell
                                    && fill.mint == mint(n)),
                            "{m:?}"
                        );
                    }
                }
                _ => {
                    let events: Vec<(RiskEvent, i64)> = got
                        .iter()
                        .map(|m| match &m.payload {
                            OutboxPayload::Risk {
                                event,
                                at_ms,
                                profile_name,
                            } => {
                                assert_eq!(profile_name, "main");
                                (*event, *at_ms)
                            }
                            other => panic!("{other:?}"),
                        })
                        .collect();
                    let at = trips[3].closed_ms;
                    assert!(
                        events.contains(&(
                            RiskEvent::TierChanged {
                                from: RiskTier::Normal,
                                to: RiskTier::Caution,
                                daily_pnl: day_pnl,
                            },
                            at
                        )),
                        "{events:?}"
                    );
                    assert!(
                        events.contains(&(
                            RiskEvent::Cooldown {
                                until_ms: at + 30 * 60_000,
                                losses: 3,
                            },
                            at
                        )),
                        "{events:?}"
                    );
                }
            }
        }
        // The switches under test leave the others alone: every fill but
        // the stop losses (four entries and the winner's sale) is told.
        assert_eq!(of(NotifyKind::Fills).len(), 5, "{user}");
        assert!(of(NotifyKind::Fills).iter().all(|m| !m.silent));
    }
}
