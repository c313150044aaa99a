//! End to end, as a user: the real `alfabot` binary against the Telegram
//! Bot API emulator (behind our compatibility front) and a local PumpPortal
//! websocket playing real recorded pump.fun trades, on random ports with a
//! fresh database.

use std::collections::HashMap;
use std::time::Duration;

use alfabot::domain::{Side, TradeEvent};
use alfabot::feed::frame::trade_frame;

use crate::support::app::AppProcess;
use crate::support::pumpportal::FakePumpPortal;
use crate::support::telegram::{TOKEN, TelegramFront};

const USER: i64 = 424_242;
const GROUP: i64 = -100_777;

fn data_file() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/pumpfun_onchain_swaps_2025-10-20.jsonl")
}

/// The wallet to follow: the one with the most on-curve trades that buys a
/// mint and later sells it, so both copy directions are exercised.
fn pick_leader(events: &[TradeEvent]) -> (String, Vec<TradeEvent>) {
    let mut by_wallet: HashMap<String, Vec<TradeEvent>> = HashMap::new();
    for ev in events.iter().filter(|e| e.on_curve) {
        by_wallet
            .entry(ev.trader.to_string())
            .or_default()
            .push(ev.clone());
    }
    let mut candidates: Vec<(String, Vec<TradeEvent>)> = by_wallet
        .into_iter()
        .filter(|(_, trades)| {
            trades.iter().enumerate().any(|(i, b)| {
                b.side == Side::Buy
                    && trades[i + 1..]
                        .iter()
                        .any(|s| s.side == Side::Sell && s.mint == b.mint)
            })
        })
        .collect();
    candidates.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    let (wallet, trades) = candidates
        .into_iter()
        .next()
        .expect("a buy-then-sell wallet");
    // Keep it to a handful of trades: Telegram allows ~1 message/s per chat.
    let first_buy = trades.iter().position(|t| t.side == Side::Buy).unwrap_or(0);
    let trades: Vec<TradeEvent> = trades.into_iter().skip(first_buy).take(6).collect();
    (wallet, trades)
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_user_tracks_a_wallet_and_gets_alerts_and_paper_copies() {
    let events = alfabot::feed::read_replay(data_file()).expect("read recorded trades");
    let (wallet, trades) = pick_leader(&events);
    let front = TelegramFront::start().await;
    let pp = FakePumpPortal::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("e2e.db").display());
    let app = AppProcess::start(
        dir.path(),
        &[
            ("DATABASE_URL", db),
            ("TELEGRAM_BOT_TOKEN", TOKEN.to_owned()),
            ("TELEGRAM_API_URL", front.url.clone()),
            ("ALFABOT_FEED", "pumpportal".to_owned()),
            ("PUMPPORTAL_WS_URL", pp.url()),
            ("ALFABOT_CONSOLE", "off".to_owned()),
        ],
    )
    .await;

    // /start → welcome with buttons.
    front.send(USER, USER, "/start").await;
    let welcome = front
        .wait_for(USER, 0, "welcome", |m| {
            m.text.contains("Welcome to alfabot")
        })
        .await;
    assert_eq!(welcome.buttons(), ["l", "s", "h"], "{welcome:?}");

    // A bad wallet gets a clear error naming what was wrong.
    front.send(USER, USER, "/track not-a-wallet").await;
    let err = front
        .wait_for(USER, 1, "address error", |m| {
            m.text.contains("not-a-wallet")
        })
        .await;
    assert!(err.text.contains("position 4"), "{}", err.text);

    // /track → confirmation, and the feed subscribes to that wallet.
    front.send(USER, USER, &format!("/track {wallet}")).await;
    front
        .wait_for(USER, 2, "track confirmation", |m| {
            m.text.contains("Tracking") && m.text.contains(&wallet)
        })
        .await;
    pp.wait_for("the wallet's subscription", Duration::from_secs(10), |p| {
        p.subscriptions().contains(&wallet)
    })
    .await;

    // The wallet trades: each frame → one alert with the paper copy. After
    // its first buy, /status shows the paper position (privately only).
    let mut latencies = Vec::new();
    let mut seen = front.messages(USER).await.len();
    let mut sold_copies = 0;
    for (i, ev) in trades.iter().enumerate() {
        // Telegram allows about one message per second per chat.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let sent_ms = pp.send_trade(ev).expect("the app is subscribed").wall_ms;
        let side = if ev.side == Side::Buy {
            "bought"
        } else {
            "sold"
        };
        let msg = front
            .wait_for(USER, seen, "alert", |m| {
                m.text.contains(&wallet) && m.text.contains(&ev.mint.to_string())
            })
            .await;
        latencies.push(msg.received_at_ms - sent_ms);
        assert!(msg.text.contains(side), "{}", msg.text);
        assert!(msg.text.contains(" SOL"), "{}", msg.text);
        if ev.side == Side::Buy {
            assert!(msg.text.contains("Paper copy: bought"), "{}", msg.text);
        } else if msg.text.contains("Paper copy: sold") {
            assert!(msg.text.contains("realized PnL"), "{}", msg.text);
            sold_copies += 1;
        }
        seen = front.messages(USER).await.len();
        if i == 0 {
            let mint = ev.mint.to_string();
            tokio::time::sleep(Duration::from_millis(1100)).await;
            front.send(USER, USER, "/status").await;
            let status = front
                .wait_for(USER, seen, "status", |m| {
                    m.text.contains("Open paper positions")
                })
                .await;
            assert!(status.text.contains(&mint), "{}", status.text);
            assert!(status.text.contains("PnL"), "{}", status.text);
            front.send(GROUP, USER, "/status").await;
            let group = front
                .wait_for(GROUP, 0, "group refusal", |m| {
                    m.text.contains("private chat")
                })
                .await;
            assert!(!group.text.contains(&mint), "{}", group.text);
            seen = front.messages(USER).await.len();
        }
    }
    assert!(sold_copies > 0, "a leader sell was copied on paper");
    latencies.sort_unstable();
    eprintln!(
        "e2e alert latency over {} frames: median {} ms, p99 {} ms, max {} ms",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or_default()
    );

    // /list → press "untrack" → confirmation, the list is edited, the feed
    // unsubscribes, and no more alerts arrive.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let seen = front.messages(USER).await.len();
    front.send(USER, USER, "/list").await;
    let list = front
        .wait_for(USER, seen, "list", |m| {
            m.text.contains("You track 1 wallet")
        })
        .await;
    let untrack = format!("u:{wallet}");
    assert_eq!(list.buttons(), std::slice::from_ref(&untrack));
    front.press(USER, USER, list.message_id, &untrack).await;
    front
        .wait_for(USER, seen, "untrack confirmation", |m| {
            m.text.contains("Stopped tracking")
        })
        .await;
    let edited = front
        .wait_for(USER, seen, "edited list", |m| {
            m.message_id == list.message_id && m.edit_count > 0
        })
        .await;
    assert!(edited.text.contains("no wallets"), "{}", edited.text);
    assert!(edited.buttons().is_empty());
    assert!(
        front
            .callback_answers()
            .await
            .iter()
            .any(|a| a["text"] == "Done"),
        "the button press was answered"
    );
    pp.wait_for("the unsubscription", Duration::from_secs(10), |p| {
        !p.subscriptions().contains(&wallet)
    })
    .await;

    let after = front.messages(USER).await.len();
    let mut late = trades[0].clone();
    late.signature = alfabot::domain::Signature::from_bytes(&[9; 64]);
    // Even if a frame of the wallet still arrives, it is not alerted.
    assert_eq!(pp.send_raw(&trade_frame(&late).to_string()), 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        front.messages(USER).await.len(),
        after,
        "no alert after untrack"
    );
    drop(app);
}
