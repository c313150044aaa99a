//! End to end, as a user: the real `alfabot` binary against the Telegram
//! Bot API emulator (behind our compatibility front) and a local PumpPortal
//! websocket playing real recorded pump.fun trades (or a synthetic market
//! with known roles, for the leaderboard), on random ports with a fresh
//! database.

use std::collections::HashMap;
use std::time::Duration;

use alfabot::domain::ports::{Expiring, Store as _};
use alfabot::domain::{ChatRef, Platform, Side, TradeEvent, WalletAddress};
use alfabot::engine::analytics::{AnalyticsConfig, Metric, Window};
use alfabot::engine::{Engine, EngineConfig};
use alfabot::feed::frame::{Frame, parse_frame, recorded_frame, trade_frame};

use crate::support::app::AppProcess;
use crate::support::market::{market_span_ms, pump_market};
use crate::support::pumpportal::FakePumpPortal;
use crate::support::telegram::{BotMessage, TOKEN, TelegramFront};

const USER: i64 = 424_242;
const GROUP: i64 = -100_777;

pub(crate) fn data_file() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/pumpfun_onchain_swaps_2025-10-20.jsonl")
}

/// The wallet to follow: the one with the most on-curve trades that buys a
/// mint and later sells it, so both copy directions are exercised.
pub(crate) fn pick_leader(events: &[TradeEvent]) -> (String, Vec<TradeEvent>) {
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

pub(crate) fn percentile(sorted: &[i64], p: f64) -> i64 {
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
    assert_eq!(welcome.buttons(), ["ct", "l", "s", "h"], "{welcome:?}");

    // The recorded file's tokens launched before the app started, so it has
    // seen no one sell them: the user turns the sellability check off,
    // through the keyboard (🤖 Copytrader → the profile → 🔎 Filters).
    let settings = open_profile(&front, USER, welcome.message_id, "main").await;
    let page = press_until(
        &front,
        USER,
        settings.0,
        &format!("pg:{}:flt", settings.1),
        |m| m.text.contains("Filters"),
    )
    .await;
    assert!(page.text.contains("Sellability check: on"), "{}", page.text);
    let page = press_until(
        &front,
        USER,
        settings.0,
        &format!("ps:{}:sell", settings.1),
        |m| m.text.contains("Sellability check: off"),
    )
    .await;
    assert!(has_button(&page, &format!("ps:{}:sell", settings.1)));
    let seen_after_setup = front.messages(USER).await.len();

    // A bad wallet gets a clear error naming what was wrong.
    front.send(USER, USER, "/track not-a-wallet").await;
    let err = front
        .wait_for(USER, seen_after_setup, "address error", |m| {
            m.text.contains("not-a-wallet")
        })
        .await;
    assert!(err.text.contains("position 4"), "{}", err.text);

    // /track → confirmation, and the feed subscribes to that wallet.
    front.send(USER, USER, &format!("/track {wallet}")).await;
    front
        .wait_for(USER, seen_after_setup, "track confirmation", |m| {
            m.text.contains("Tracking") && m.text.contains(&wallet)
        })
        .await;
    pp.wait_for("the wallet's subscription", Duration::from_secs(10), |p| {
        p.subscriptions().contains(&wallet)
    })
    .await;

    // The wallet trades: each frame → one alert saying what the profile
    // did, and for a copy, the paper fill in a second message. After its
    // first buy, /status shows the paper position (privately only).
    let mut latencies = Vec::new();
    let mut seen = front.messages(USER).await.len();
    let mut sold_copies = 0;
    for (i, ev) in trades.iter().enumerate() {
        // Telegram allows about one message per second per chat, and a
        // trade may bring two.
        tokio::time::sleep(Duration::from_millis(2200)).await;
        let sent_ms = pp.send_trade(ev).expect("the app is subscribed").wall_ms;
        let side = if ev.side == Side::Buy {
            "bought"
        } else {
            "sold"
        };
        let mint = ev.mint.to_string();
        let msg = front
            .wait_for(USER, seen, "alert", |m| {
                m.text.contains(&wallet) && m.text.contains(&mint)
            })
            .await;
        latencies.push(msg.received_at_ms - sent_ms);
        assert!(msg.text.contains(side), "{}", msg.text);
        assert!(msg.text.contains(" SOL"), "{}", msg.text);
        assert!(
            msg.text.contains("main"),
            "the profile's note: {}",
            msg.text
        );
        if i == 0 {
            assert!(msg.text.contains("copying with 0.1 SOL"), "{}", msg.text);
        }
        let copied = msg.text.contains("copying with") || msg.text.contains("selling");
        if copied {
            let verb = if ev.side == Side::Buy {
                "bought"
            } else {
                "sold"
            };
            let fill = front
                .wait_for(USER, seen, "paper fill", |m| {
                    m.text.contains(&format!("Paper copy (main): {verb}")) && m.text.contains(&mint)
                })
                .await;
            if ev.side == Side::Sell {
                assert!(fill.text.contains("realized PnL"), "{}", fill.text);
                assert!(fill.text.contains("the leader sold"), "{}", fill.text);
                sold_copies += 1;
            }
        }
        seen = front.messages(USER).await.len();
        if i == 0 {
            let mint = ev.mint.to_string();
            tokio::time::sleep(Duration::from_millis(1100)).await;
            front.send(USER, USER, "/status").await;
            let status = front
                .wait_for(USER, seen, "status", |m| m.text.starts_with("📁 main"))
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
    latency_phase(&front, &pp, &app, &events, &wallet, &mut latencies).await;

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

/// Followers of the leader besides the main user, for the latency sample.
const FOLLOWERS: [i64; 5] = [434_341, 434_342, 434_343, 434_344, 434_345];
/// Frames of the latency sample, and their spacing: more than Telegram's
/// one message per second and chat plus an alert's latency, so the sample
/// times the pipeline, not the throttle's queue.
const LATENCY_FRAMES: usize = 16;
const LATENCY_SPACING: Duration = Duration::from_millis(1_600);

/// Frame → alert latency over many frames and several chats: five more
/// users track the leader, everyone pauses copying (one alert per frame
/// and chat, no fill notices), and the leader trades the file's other
/// trades every 1.6 s. Every alert is timed from the frame's send to its
/// arrival at the Bot API. The figures go to stderr and to
/// `e2e-latency.txt` under the test target directory (CI prints it). The
/// followers untrack at the end.
async fn latency_phase(
    front: &TelegramFront,
    pp: &FakePumpPortal,
    app: &AppProcess,
    events: &[TradeEvent],
    wallet: &str,
    latencies: &mut Vec<i64>,
) {
    let leader: WalletAddress = wallet.parse().unwrap();
    pace().await;
    let seen = front.messages(USER).await.len();
    front.send(USER, USER, "/pause").await;
    front
        .wait_for(USER, seen, "paused", |m| m.text.contains("is paused"))
        .await;
    for user in FOLLOWERS {
        front.send(user, user, "/start").await;
    }
    for user in FOLLOWERS {
        front
            .wait_for(user, 0, "welcome", |m| m.text.contains("Welcome"))
            .await;
        front.send(user, user, &format!("/track {wallet}")).await;
    }
    for user in FOLLOWERS {
        front
            .wait_for(user, 0, "tracking", |m| m.text.contains("Tracking"))
            .await;
    }
    pace().await;
    for user in FOLLOWERS {
        front.send(user, user, "/pause").await;
    }
    for user in FOLLOWERS {
        front
            .wait_for(user, 0, "paused", |m| m.text.contains("is paused"))
            .await;
    }
    let chats: Vec<i64> = std::iter::once(USER).chain(FOLLOWERS).collect();
    let others = events
        .iter()
        .filter(|e| e.on_curve && e.trader != leader)
        .take(LATENCY_FRAMES);
    for (i, ev) in others.enumerate() {
        tokio::time::sleep(LATENCY_SPACING).await;
        let mut seen = Vec::new();
        for &chat in &chats {
            seen.push(front.messages(chat).await.len());
        }
        let mut frame = ev.clone();
        frame.trader = leader;
        let mut sig = [0xee; 64];
        sig[0] = u8::try_from(i).unwrap();
        frame.signature = alfabot::domain::Signature::from_bytes(&sig);
        let sent_ms = pp.send_trade(&frame).expect("subscribed").wall_ms;
        let mint = frame.mint.to_string();
        for (&chat, &seen) in chats.iter().zip(&seen) {
            let alert = front
                .wait_for(chat, seen, "a paused follower's alert", |m| {
                    m.text.contains(wallet) && m.text.contains(&mint)
                })
                .await;
            assert!(alert.text.contains("paused"), "{}", alert.text);
            latencies.push(alert.received_at_ms - sent_ms);
        }
    }
    latencies.sort_unstable();
    let report = format!(
        "frame → alert over {} alerts ({} chats): min {} ms, median {} ms, p90 {} ms, p99 {} ms, max {} ms\n",
        latencies.len(),
        chats.len(),
        latencies.first().copied().unwrap_or_default(),
        percentile(latencies, 0.5),
        percentile(latencies, 0.9),
        percentile(latencies, 0.99),
        latencies.last().copied().unwrap_or_default()
    );
    eprint!("{report}");
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-latency.txt");
    std::fs::write(&out, report).expect("write the latency report");
    // Delivery when Telegram refuses: the alert to a follower who blocked
    // the bot (403) is dropped, not retried (a retry would pass: the
    // refusal is injected once), and holds up no one; a rate-limited chat
    // (429, retry after 1 s) gets its alert once the wait is over.
    let (blocked, limited) = (FOLLOWERS[0], FOLLOWERS[1]);
    front.fail_sends(blocked, 403, 0, 1).await;
    front.fail_sends(limited, 429, 1, 1).await;
    tokio::time::sleep(LATENCY_SPACING).await;
    let mut seen = Vec::new();
    for &chat in &chats {
        seen.push(front.messages(chat).await.len());
    }
    let mut frame = events
        .iter()
        .find(|e| e.on_curve && e.trader != leader)
        .expect("a trade")
        .clone();
    frame.trader = leader;
    frame.signature = alfabot::domain::Signature::from_bytes(&[0xef; 64]);
    let sent = pp.send_trade(&frame).expect("subscribed");
    let mint = frame.mint.to_string();
    for (&chat, &seen) in chats.iter().zip(&seen) {
        if chat == blocked {
            continue;
        }
        let alert = front
            .wait_for(chat, seen, "the alert past a refusal", |m| {
                m.text.contains(&mint) && m.text.contains(wallet)
            })
            .await;
        if chat == limited {
            assert!(
                alert.received_at_ms - sent.wall_ms >= 1_000,
                "sent again after the 1 s Telegram asked for"
            );
        }
    }
    // Longer than a transient failure's backoff (2 s) plus the outbox's
    // idle poll (5 s): a retry would have come by now.
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(
        front.messages(blocked).await.len(),
        seen[1],
        "the refused alert is not sent again: {:?}\n{}",
        front.messages(blocked).await.last().map(|m| m.text.clone()),
        app.log_text()
    );
    for user in FOLLOWERS {
        let seen = front.messages(user).await.len();
        front.send(user, user, &format!("/untrack {wallet}")).await;
        front
            .wait_for(user, seen, "untracked", |m| {
                m.text.contains("Stopped tracking")
            })
            .await;
    }
    // Resume, so the rest of the test sees the main user copying again.
    let seen = front.messages(USER).await.len();
    front.send(USER, USER, "/resume").await;
    front
        .wait_for(USER, seen, "resumed", |m| m.text.contains("copies again"))
        .await;
}

/// The README's first command as a fresh machine runs it: no configuration
/// at all (SQLite in the working directory, the simulator, the console
/// chat). Within a minute the console shows followed wallets' alerts and a
/// paper copy, and `/status` typed on the console shows that position.
/// Only the HTTP port is moved off 8080, so tests can run side by side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_run_shows_alerts_and_paper_copies_within_a_minute() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (app, mut console) = AppProcess::start_console(dir.path(), &[]).await;
    let started = std::time::Instant::now();
    let minute = Duration::from_secs(60);
    console
        .wait_for("its greeting", 0, minute, |l| {
            l.contains("alfabot console: type /help")
        })
        .await;
    console
        .wait_for("an alert", 0, minute, |l| {
            (l.starts_with("🟢 ") && l.contains(" bought "))
                || (l.starts_with("🔴 ") && l.contains(" sold "))
        })
        .await;
    let copy = console
        .wait_for(
            "a paper copy",
            0,
            minute.saturating_sub(started.elapsed()),
            |l| l.starts_with("📝 Paper copy (main): bought"),
        )
        .await;
    let line = console.printed()[copy].clone();
    let mint = line
        .split(" of ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the copy names its mint")
        .to_owned();
    assert!(WalletAddress::parse(&mint).is_ok(), "{line}");

    console.type_line("/status").await;
    let status = console
        .wait_for("the status", copy, Duration::from_secs(10), |l| {
            l.starts_with("📁 main")
        })
        .await;
    console
        .wait_for("the position", status, Duration::from_secs(5), |l| {
            l.contains(&mint[..4]) && l.contains("copying")
        })
        .await;
    assert!(
        dir.path().join("alfabot.db").exists(),
        "the default database is alfabot.db in the working directory"
    );
    assert!(
        !app.log_text().contains(" ERROR "),
        "no errors: {}",
        app.log_text()
    );
}

/// Opens a profile's page through the keyboard: 🤖 Copytrader on the
/// message `from`, then the profile named `name`. Returns the message that
/// shows the page (later presses edit it) and the profile's id.
async fn open_profile(front: &TelegramFront, user: i64, from: i64, name: &str) -> (i64, String) {
    pace().await;
    let before = front.messages(user).await.len();
    front.press(user, user, from, "ct").await;
    let list = front
        .wait_for(user, before, "the profiles", |m| m.text.starts_with("🤖"))
        .await;
    let data = list
        .buttons()
        .into_iter()
        .find(|b| b.starts_with("p:"))
        .expect("a profile button");
    let id = data.trim_start_matches("p:").to_owned();
    let page = press_until(front, user, list.message_id, &data, |m| {
        m.text.contains(name) && m.text.starts_with("📁")
    })
    .await;
    (page.message_id, id)
}

/// Presses `data` on message `id` and waits until that message reads as
/// `done` (buttons edit in place).
async fn press_until(
    front: &TelegramFront,
    user: i64,
    id: i64,
    data: &str,
    done: impl Fn(&BotMessage) -> bool,
) -> BotMessage {
    pace().await;
    let before = front
        .messages(user)
        .await
        .into_iter()
        .find(|m| m.message_id == id)
        .map_or(0, |m| m.edit_count);
    front.press(user, user, id, data).await;
    front
        .wait_for(user, 0, data, |m| {
            m.message_id == id && m.edit_count > before && done(m)
        })
        .await
}

// ------------------------------------------------------------ /alfa, /score --

/// Telegram allows about one message per second in a chat.
async fn pace() {
    tokio::time::sleep(Duration::from_millis(1100)).await;
}

/// The app's `alfabot_trades_total`.
pub(crate) async fn trades_processed(http: &str) -> u64 {
    let text = reqwest::get(format!("{http}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|l| l.strip_prefix("alfabot_trades_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn has_button(m: &BotMessage, data: &str) -> bool {
    m.buttons().iter().any(|b| b == data)
}

/// A board page in Telegram against the twin engine's board: the
/// ranked count, one ➕ per row, only wallets the twin ranks, and every
/// wallet the twin puts on that page — up to ties at the page's edges, which
/// an implementation may order either way. Returns the wallets shown.
fn assert_page(
    twin: &Engine,
    m: &BotMessage,
    metric: Metric,
    window: Window,
    page: usize,
) -> Vec<String> {
    let total = twin.leaderboard_len(metric, window);
    let all = twin.leaderboard(metric, window, 0, total);
    let shown: Vec<String> = m
        .buttons()
        .into_iter()
        .filter_map(|b| b.strip_prefix("f:").map(str::to_owned))
        .collect();
    assert!(m.text.contains(&format!("({total} ranked)")), "{}", m.text);
    let (lo, hi) = (page * 10, (page * 10 + 10).min(total));
    assert_eq!(shown.len(), hi - lo, "{}", m.text);
    for w in &shown {
        assert!(
            all.iter().any(|r| r.wallet.to_string() == *w),
            "{w} is not ranked"
        );
        assert!(
            m.text
                .contains(&w.parse::<WalletAddress>().unwrap().short())
        );
    }
    let before = lo.checked_sub(1).map(|i| all[i].value);
    let after = all.get(hi).map(|r| r.value);
    for r in &all[lo..hi] {
        if Some(r.value) != before && Some(r.value) != after {
            assert!(
                shown.contains(&r.wallet.to_string()),
                "{} missing:\n{}",
                r.wallet,
                m.text
            );
        }
    }
    shown
}

/// `/alfa` and `/score` in Telegram: the board with its buttons, buttons
/// that edit the same message in place, a row's ➕ that follows the wallet,
/// and the wallet card. The app sees a synthetic market of many wallets
/// through PumpPortal (recorded frames keep their event times).
///
/// What the board must contain is computed by a twin engine fed the same
/// frames in process; the market is large enough that the boards have
/// several pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_alfa_board_edits_in_place_follows_and_score_shows_the_card() {
    const USER2: i64 = 515_151;
    const GROUP2: i64 = -100_888;
    let (tokens, crowd) = (12, 25);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let now_ms = i64::try_from(now.as_millis()).unwrap();
    // The market ends a minute ago: inside every window, outcomes decided.
    let market = pump_market(
        now_ms - market_span_ms(tokens, crowd) - 60_000,
        tokens,
        crowd,
    );
    let frames: Vec<String> = market
        .events
        .iter()
        .map(|e| recorded_frame(e).to_string())
        .collect();

    let min_outcomes = 1;
    let mut twin = Engine::new(EngineConfig {
        analytics: AnalyticsConfig {
            min_outcomes,
            ..AnalyticsConfig::default()
        },
        ..EngineConfig::default()
    });
    for f in &frames {
        match parse_frame(f, 0) {
            Ok(Frame::Trade(ev)) => {
                twin.on_trade(&ev);
            }
            other => panic!("not a trade frame: {other:?}"),
        }
    }
    let ranked_pnl_7d = twin.leaderboard_len(Metric::Pnl, Window::D7);
    assert!(
        twin.leaderboard_len(Metric::Score, Window::H24) > 0 && ranked_pnl_7d > 10,
        "the synthetic market ranks wallets onto a second page ({ranked_pnl_7d} on PnL 7d)"
    );

    let front = TelegramFront::start().await;
    let pp = FakePumpPortal::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("alfa.db").display());
    let app = AppProcess::start(
        dir.path(),
        &[
            ("DATABASE_URL", db),
            ("TELEGRAM_BOT_TOKEN", TOKEN.to_owned()),
            ("TELEGRAM_API_URL", front.url.clone()),
            ("ALFABOT_FEED", "pumpportal".to_owned()),
            ("PUMPPORTAL_WS_URL", pp.url()),
            ("ALFABOT_CONSOLE", "off".to_owned()),
            ("ALFABOT_ANALYTICS_MIN_OUTCOMES", min_outcomes.to_string()),
            ("ALFABOT_ANALYTICS_FLUSH_SECS", "1".to_owned()),
        ],
    )
    .await;

    // The market: every trader, not only followed ones (PumpPortal's new
    // token and token streams carry them all).
    pp.wait_for("the feed's connection", Duration::from_secs(10), |p| {
        p.new_token_subscribers() > 0
    })
    .await;
    for f in &frames {
        assert_eq!(pp.send_raw(f), 1, "one connection gets the frame");
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while trades_processed(&app.http).await < frames.len() as u64 {
        assert!(
            std::time::Instant::now() < deadline,
            "the app did not process {} trades; log:\n{}",
            frames.len(),
            app.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // /alfa → the board (score, 24h) with timeframe and metric buttons.
    front.send(USER2, USER2, "/alfa").await;
    let msg = front
        .wait_for(USER2, 0, "the board", |m| m.text.starts_with("🏆"))
        .await;
    for data in [
        "a:score:24h:0",
        "a:score:7d:0",
        "a:score:30d:0",
        "a:pnl:24h:0",
        "a:vol:24h:0",
    ] {
        assert!(has_button(&msg, data), "{data} in {:?}", msg.buttons());
    }
    // The app ranks what the twin ranks, with a ➕ per row.
    assert_page(&twin, &msg, Metric::Score, Window::H24, 0);

    // A timeframe button edits that same message in place...
    pace().await;
    front
        .press(USER2, USER2, msg.message_id, "a:score:7d:0")
        .await;
    let edited = front
        .wait_for(USER2, 0, "the board edited to 7d", |m| {
            m.message_id == msg.message_id && m.edit_count >= 1
        })
        .await;
    assert!(edited.text.contains("Score · 7d"), "{}", edited.text);
    assert!(has_button(&edited, "a:pnl:7d:0"), "{:?}", edited.buttons());
    assert_page(&twin, &edited, Metric::Score, Window::D7, 0);
    // ...and so does a metric button.
    pace().await;
    front
        .press(USER2, USER2, msg.message_id, "a:pnl:7d:0")
        .await;
    let edited = front
        .wait_for(USER2, 0, "the board edited to PnL", |m| {
            m.message_id == msg.message_id && m.edit_count >= 2
        })
        .await;
    assert!(edited.text.contains("PnL · 7d"), "{}", edited.text);
    let page1 = assert_page(&twin, &edited, Metric::Pnl, Window::D7, 0);
    assert_eq!(
        front.messages(USER2).await.len(),
        1,
        "buttons edit, they do not send new messages"
    );
    // Pressing the current choice again changes nothing: Telegram refuses
    // the identical edit ("message is not modified") and that is no error.
    pace().await;
    let answered = front.callback_answers().await.len();
    front
        .press(USER2, USER2, msg.message_id, "a:pnl:7d:0")
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while front.callback_answers().await.len() == answered {
        assert!(
            std::time::Instant::now() < deadline,
            "the press was not answered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let same = front.messages(USER2).await.remove(0);
    assert_eq!(same.edit_count, 2, "{same:?}");
    assert!(
        !app.log_text().contains("telegram handler failed"),
        "{}",
        app.log_text()
    );
    // The next page.
    pace().await;
    front
        .press(USER2, USER2, msg.message_id, "a:pnl:7d:1")
        .await;
    let page2 = front
        .wait_for(USER2, 0, "page 2", |m| {
            m.message_id == msg.message_id && m.edit_count >= 3
        })
        .await;
    let pages = ranked_pnl_7d.div_ceil(10);
    assert!(
        page2.text.contains(&format!("page 2/{pages}")),
        "{}",
        page2.text
    );
    let shown = assert_page(&twin, &page2, Metric::Pnl, Window::D7, 1);
    assert!(shown.iter().all(|w| !page1.contains(w)), "pages overlap");

    // A row's ➕ follows its wallet, with a toast; /list shows it and the
    // feed subscribes to it.
    let board_now = front.messages(USER2).await.remove(0);
    let data = board_now
        .buttons()
        .into_iter()
        .find(|b| b.starts_with("f:"))
        .expect("a ➕ on every row");
    let wallet = data.trim_start_matches("f:").to_owned();
    pace().await;
    front.press(USER2, USER2, msg.message_id, &data).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let answers = front.callback_answers().await;
        if answers.iter().any(|a| {
            a["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("✅ Following"))
        }) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no follow toast: {answers:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pp.wait_for(
        "the followed wallet's subscription",
        Duration::from_secs(10),
        |p| p.subscriptions().contains(&wallet),
    )
    .await;
    pace().await;
    let seen = front.messages(USER2).await.len();
    front.send(USER2, USER2, "/list").await;
    let list = front
        .wait_for(USER2, seen, "list", |m| {
            m.text.contains("You track 1 wallet")
        })
        .await;
    assert!(list.text.contains(&wallet), "{}", list.text);

    // /score of a skilled wallet: its card.
    let skilled: WalletAddress = market.skilled[0];
    pace().await;
    let seen = front.messages(USER2).await.len();
    front.send(USER2, USER2, &format!("/score {skilled}")).await;
    let card = front
        .wait_for(USER2, seen, "the card", |m| {
            m.text.contains(&skilled.to_string())
        })
        .await;
    assert!(twin.card(&skilled).is_some(), "the twin knows {skilled}");
    for want in [
        "📇 Wallet",
        "Tier:",
        "• Bayesian",
        "• Performance",
        "• Wilson",
        "Average hold",
        "last active",
    ] {
        assert!(card.text.contains(want), "{want:?} in {}", card.text);
    }
    assert!(has_button(&card, &format!("f:{skilled}")));
    // A wallet never seen gets the clear "not seen yet" note.
    let unseen = WalletAddress::from_bytes([0xab; 32]);
    pace().await;
    let seen = front.messages(USER2).await.len();
    front.send(USER2, USER2, &format!("/score {unseen}")).await;
    let note = front
        .wait_for(USER2, seen, "the unseen note", |m| {
            m.text.contains(&unseen.to_string())
        })
        .await;
    assert!(note.text.starts_with("I have not seen"), "{}", note.text);

    // Both work in a group (public data); a bad address reads as in /track.
    front.send(GROUP2, USER2, "/alfa 30d").await;
    let group_board = front
        .wait_for(GROUP2, 0, "the group board", |m| m.text.starts_with("🏆"))
        .await;
    assert!(group_board.text.contains("30d"), "{}", group_board.text);
    pace().await;
    front.send(GROUP2, USER2, "/score not-a-wallet").await;
    let err = front
        .wait_for(GROUP2, 1, "the address error", |m| {
            m.text.contains("not-a-wallet")
        })
        .await;
    assert!(err.text.contains("position 4"), "{}", err.text);
    drop(app);
}

// ------------------------------------------------------------ copytrader --

/// A buy (or a sale of `amount` tokens) by `trader` on `curve`.
fn fresh_trade(
    trader: WalletAddress,
    mint: WalletAddress,
    curve: &mut alfabot::engine::curve::Curve,
    side: Side,
    amount: u64,
    n: u8,
) -> TradeEvent {
    let sig = alfabot::domain::Signature::from_bytes(&[n; 64]);
    crate::support::tape::trade_on(curve, mint, trader, side, amount, sig)
}

/// The copytrader flow in Telegram: a profile created through the
/// keyboard, a wallet followed from /alfa into it, the wallet's trade
/// copied on paper, the position in /status, the closed round trip in
/// /profit, the decisions in /why; and a wallet key imported with its
/// message deleted, exported behind a confirmation, the secret never in
/// the logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_copytrader_profile_follow_copy_and_reports() {
    const ANA: i64 = 626_262;
    let (tokens, crowd) = (6, 12);
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let market = pump_market(
        now_ms - market_span_ms(tokens, crowd) - 60_000,
        tokens,
        crowd,
    );
    let front = TelegramFront::start().await;
    let pp = FakePumpPortal::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("ct.db").display());
    let vars = [
        ("DATABASE_URL", db.clone()),
        ("TELEGRAM_BOT_TOKEN", TOKEN.to_owned()),
        ("TELEGRAM_API_URL", front.url.clone()),
        ("ALFABOT_FEED", "pumpportal".to_owned()),
        ("PUMPPORTAL_WS_URL", pp.url()),
        ("ALFABOT_CONSOLE", "off".to_owned()),
        ("ALFABOT_ANALYTICS_MIN_OUTCOMES", "1".to_owned()),
        // The secret must not reach the logs even at debug level.
        ("RUST_LOG", "debug".to_owned()),
        // No public hosts: balances come from a closed local port
        // (shown as unknown), at once.
        ("SOLANA_RPC_URL", "http://127.0.0.1:9".to_owned()),
        ("JUPITER_API_URL", "http://127.0.0.1:9".to_owned()),
    ];
    let app = AppProcess::start(dir.path(), &vars).await;
    pp.wait_for("the feed's connection", Duration::from_secs(10), |p| {
        p.new_token_subscribers() > 0
    })
    .await;
    for e in &market.events {
        assert_eq!(pp.send_raw(&recorded_frame(e).to_string()), 1);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while trades_processed(&app.http).await < market.events.len() as u64 {
        assert!(std::time::Instant::now() < deadline, "{}", app.log_text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A new profile through the keyboard: 🤖 → ➕ New profile → a name.
    front.send(ANA, ANA, "/start").await;
    let welcome = front
        .wait_for(ANA, 0, "welcome", |m| m.text.contains("Welcome"))
        .await;
    pace().await;
    front.press(ANA, ANA, welcome.message_id, "ct").await;
    let list = front
        .wait_for(ANA, 0, "the profiles", |m| m.text.starts_with("🤖"))
        .await;
    assert!(has_button(&list, "pn"), "{:?}", list.buttons());
    pace().await;
    front.press(ANA, ANA, list.message_id, "pn").await;
    front
        .wait_for(ANA, 0, "the name question", |m| {
            m.text.contains("name for the new profile")
        })
        .await;
    pace().await;
    front.send(ANA, ANA, "degen").await;
    front
        .wait_for(ANA, 0, "created", |m| {
            m.text.contains("Profile “degen” created")
        })
        .await;
    let page = front
        .wait_for(ANA, 0, "the profile page", |m| {
            m.text.starts_with("📁 degen")
        })
        .await;
    let id = page
        .buttons()
        .into_iter()
        .find_map(|b| {
            b.strip_prefix("pa:")
                .or(b.strip_prefix("pr:"))
                .map(str::to_owned)
        })
        .expect("the profile's id in its buttons");
    // Its rules: no sellability check (the test market's tokens launched
    // before the app started), no adaptive spacing.
    press_until(&front, ANA, page.message_id, &format!("pg:{id}:flt"), |m| {
        m.text.contains("Filters")
    })
    .await;
    press_until(
        &front,
        ANA,
        page.message_id,
        &format!("ps:{id}:sell"),
        |m| m.text.contains("Sellability check: off"),
    )
    .await;
    press_until(&front, ANA, page.message_id, &format!("p:{id}"), |m| {
        m.text.starts_with("📁 degen")
    })
    .await;
    press_until(&front, ANA, page.message_id, &format!("pg:{id}:lim"), |m| {
        m.text.contains("Limits")
    })
    .await;
    press_until(
        &front,
        ANA,
        page.message_id,
        &format!("ps:{id}:adapt"),
        |m| m.text.contains("Adaptive risk: off"),
    )
    .await;

    // /alfa → ➕ on the first row: followed into the active profile.
    pace().await;
    front.send(ANA, ANA, "/alfa").await;
    let board = front
        .wait_for(ANA, 0, "the board", |m| m.text.starts_with("🏆"))
        .await;
    let follow = board
        .buttons()
        .into_iter()
        .find(|b| b.starts_with("f:"))
        .expect("a ranked wallet to follow");
    let leader: WalletAddress = follow.trim_start_matches("f:").parse().unwrap();
    pace().await;
    front.press(ANA, ANA, board.message_id, &follow).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !front.callback_answers().await.iter().any(|a| {
        a["text"]
            .as_str()
            .is_some_and(|t| t.contains("Following") && t.contains("degen"))
    }) {
        assert!(std::time::Instant::now() < deadline, "no follow toast");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let key = leader.to_string();
    pp.wait_for("the leader's subscription", Duration::from_secs(10), |p| {
        p.subscriptions().contains(&key)
    })
    .await;

    // The leader buys a new token: the alert, then the paper fill.
    let mint = WalletAddress::from_bytes([201; 32]);
    let mut curve = alfabot::engine::curve::Curve::fresh();
    let buy = fresh_trade(leader, mint, &mut curve, Side::Buy, 1_000_000_000, 201);
    pace().await;
    let seen = front.messages(ANA).await.len();
    assert!(pp.send_trade(&buy).is_some());
    let alert = front
        .wait_for(ANA, seen, "the alert", |m| m.text.contains(&key))
        .await;
    assert!(
        alert.text.contains("degen (paper): copying with 0.1 SOL"),
        "{}",
        alert.text
    );
    front
        .wait_for(ANA, seen, "the fill", |m| {
            m.text.contains("Paper copy (degen): bought") && m.text.contains(&mint.to_string())
        })
        .await;
    // The app watches the token's own trades from now on.
    pp.wait_for("the token's subscription", Duration::from_secs(10), |p| {
        p.token_subscriptions().contains(&mint.to_string())
    })
    .await;

    // /status shows the position under its profile.
    pace().await;
    let seen = front.messages(ANA).await.len();
    front.send(ANA, ANA, "/status").await;
    let status = front
        .wait_for(ANA, seen, "status", |m| m.text.contains("📁 degen"))
        .await;
    assert!(status.text.contains(&mint.to_string()), "{}", status.text);
    assert!(status.text.contains("paper"), "{}", status.text);

    // The leader sells everything: the copy sells, the round trip closes.
    let sell = fresh_trade(leader, mint, &mut curve, Side::Sell, buy.tokens.0, 202);
    pace().await;
    let seen = front.messages(ANA).await.len();
    assert!(pp.send_trade(&sell).is_some());
    front
        .wait_for(ANA, seen, "the sell fill", |m| {
            m.text.contains("Paper copy (degen): sold") && m.text.contains("the leader sold")
        })
        .await;

    // /profit and /why.
    pace().await;
    pace().await;
    let seen = front.messages(ANA).await.len();
    front.send(ANA, ANA, "/profit").await;
    let profit = front
        .wait_for(ANA, seen, "profit", |m| {
            m.text.contains("Results of “degen”")
        })
        .await;
    assert!(profit.text.contains("Round trips: 1"), "{}", profit.text);
    pace().await;
    let seen = front.messages(ANA).await.len();
    front.send(ANA, ANA, &format!("/why {mint}")).await;
    let why = front
        .wait_for(ANA, seen, "why", |m| m.text.starts_with("🔍"))
        .await;
    for want in ["order placed", "filled: bought", "filled: sold", "degen"] {
        assert!(why.text.contains(want), "{want:?} in {}", why.text);
    }

    // A wallet key: imported (the message holding it is deleted at once),
    // exported behind a confirmation; the secret never reaches the logs.
    let (addr, secret) = alfabot::vault::keys::generate();
    let secret = alfabot::vault::keys::export_base58(&secret);
    pace().await;
    let seen = front.messages(ANA).await.len();
    front.send(ANA, ANA, "/wallet").await;
    let wallets = front
        .wait_for(ANA, seen, "wallet", |m| m.text.starts_with("👛"))
        .await;
    pace().await;
    front.press(ANA, ANA, wallets.message_id, "wi").await;
    front
        .wait_for(ANA, seen, "the import question", |m| {
            m.text.contains("Send the secret key")
        })
        .await;
    pace().await;
    front.send(ANA, ANA, &secret).await;
    front
        .wait_for(ANA, seen, "imported", |m| {
            m.text.contains(&format!("Imported {addr}"))
        })
        .await;
    let user_messages = front.user_messages(ANA).await;
    let pasted = user_messages
        .iter()
        .find(|m| m["text"] == secret.as_str())
        .expect("the message with the key");
    assert_eq!(
        pasted["deleted"], true,
        "the message holding the key is deleted"
    );
    pace().await;
    let seen = front.messages(ANA).await.len();
    front.send(ANA, ANA, "/wallet").await;
    let wallets = front
        .wait_for(ANA, seen, "wallet", |m| m.text.contains(&addr.to_string()))
        .await;
    pace().await;
    front
        .press(ANA, ANA, wallets.message_id, &format!("we:{addr}"))
        .await;
    let confirm = front
        .wait_for(ANA, seen, "the warning", |m| {
            m.text.contains("Anyone who sees")
        })
        .await;
    assert!(!confirm.text.contains(secret.as_str()));
    pace().await;
    front
        .press(ANA, ANA, confirm.message_id, &format!("wey:{addr}"))
        .await;
    let shown = front
        .wait_for(ANA, seen, "the secret", |m| {
            m.text.contains(secret.as_str())
        })
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log = app.log_text();
    assert!(log.contains("wallet key imported"), "debug log captured");
    assert!(
        !log.contains(secret.as_str()),
        "the secret key is in the log"
    );

    // The message showing the key deletes itself after a minute, even when
    // the process stops inside that minute: the deletion is stored. Kill
    // the app, let the minute pass while it is down, start it again.
    drop(app);
    let store = alfabot::store::connect(&db).await.expect("store");
    let chat = ChatRef::new(Platform::Telegram, ANA);
    let stored = store
        .expiring_due(Platform::Telegram, i64::MAX, 10)
        .await
        .unwrap();
    assert_eq!(
        stored
            .iter()
            .map(|m| (m.chat, m.message_id))
            .collect::<Vec<_>>(),
        vec![(chat, shown.message_id)]
    );
    let due_in = stored[0].delete_at_ms - shown.received_at_ms;
    assert!((59_000..=61_000).contains(&due_in), "{due_in}");
    store
        .add_expiring(&Expiring {
            delete_at_ms: stored[0].delete_at_ms - 60_000,
            ..stored[0]
        })
        .await
        .unwrap();
    store.close().await;
    assert!(!front.messages(ANA).await.iter().any(|m| m.deleted));
    let app = AppProcess::start(dir.path(), &vars).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let gone: Vec<i64> = front
            .messages(ANA)
            .await
            .into_iter()
            .filter(|m| m.deleted)
            .map(|m| m.message_id)
            .collect();
        if !gone.is_empty() {
            assert_eq!(gone, vec![shown.message_id], "only the key's message");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the key's message was not deleted after the restart:\n{}",
            app.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let store = alfabot::store::connect(&db).await.expect("store");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !store
        .expiring_due(Platform::Telegram, i64::MAX, 10)
        .await
        .unwrap()
        .is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "forgotten once deleted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(app);
}

// ---------------------------------------------------------------- /wallet --

/// Deleting a wallet key in Telegram, against a local Solana RPC node that
/// knows the new wallet's balance: 🗑 asks first (the key stays until
/// "Yes"), "Keep it" keeps it, a never-exported key holding SOL is refused
/// with the way out, and once exported it is deleted, leaves the list, and
/// comes back with ♻️.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_wallet_delete_asks_first_refuses_unbacked_funds_and_restores() {
    const ADA: i64 = 737_373;
    let solana = crate::support::svm::FakeSolana::start().await;
    let front = TelegramFront::start().await;
    let pp = FakePumpPortal::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("keys.db").display());
    let vars = [
        ("DATABASE_URL", db),
        ("TELEGRAM_BOT_TOKEN", TOKEN.to_owned()),
        ("TELEGRAM_API_URL", front.url.clone()),
        ("ALFABOT_FEED", "pumpportal".to_owned()),
        ("PUMPPORTAL_WS_URL", pp.url()),
        ("ALFABOT_CONSOLE", "off".to_owned()),
        ("SOLANA_RPC_URL", solana.url()),
        ("JUPITER_API_URL", "http://127.0.0.1:9".to_owned()),
    ];
    let app = AppProcess::start(dir.path(), &vars).await;

    // /start, /wallet, ➕ Create a wallet.
    front.send(ADA, ADA, "/start").await;
    front
        .wait_for(ADA, 0, "welcome", |m| m.text.contains("Welcome"))
        .await;
    pace().await;
    let seen = front.messages(ADA).await.len();
    front.send(ADA, ADA, "/wallet").await;
    let empty = front
        .wait_for(ADA, seen, "wallet", |m| {
            m.text.contains("no wallet key yet")
        })
        .await;
    pace().await;
    let seen = front.messages(ADA).await.len();
    front.press(ADA, ADA, empty.message_id, "wn").await;
    let list = front
        .wait_for(ADA, seen, "the list with the new key", |m| {
            m.text.starts_with("👛") && m.buttons().iter().any(|b| b.starts_with("wd:"))
        })
        .await;
    let wallet: WalletAddress = list
        .buttons()
        .iter()
        .find_map(|b| b.strip_prefix("wd:"))
        .expect("a delete button")
        .parse()
        .unwrap();
    let (export, delete, restore) = (
        format!("we:{wallet}"),
        format!("wd:{wallet}"),
        format!("wr:{wallet}"),
    );
    assert!(list.text.contains("balance 0.0 SOL"), "{}", list.text);
    assert!(list.text.contains("never exported"), "{}", list.text);

    // 🗑 asks, in place: the wallet, its balance, never exported.
    let question = press_until(&front, ADA, list.message_id, &delete, |m| {
        m.text.contains("Delete the key of")
    })
    .await;
    for want in [
        wallet.to_string().as_str(),
        "Balance: 0.0 SOL",
        "never exported",
        "for 7 day(s)",
    ] {
        assert!(
            question.text.contains(want),
            "{want:?} in {}",
            question.text
        );
    }
    assert_eq!(
        question.buttons(),
        vec![
            format!("wdy:{wallet}"),
            "wl".to_owned(),
            format!("wa:{wallet}")
        ]
    );
    // Nothing changed: a new /wallet still lists the key.
    pace().await;
    let seen = front.messages(ADA).await.len();
    front.send(ADA, ADA, "/wallet").await;
    front
        .wait_for(ADA, seen, "the key still listed", |m| {
            m.text.starts_with("👛") && has_button(m, &export)
        })
        .await;
    // "Keep it": the list again, in place, with the key.
    let kept = press_until(&front, ADA, question.message_id, "wl", |m| {
        m.text.starts_with("👛")
    })
    .await;
    assert!(has_button(&kept, &export), "{:?}", kept.buttons());

    // The wallet is funded; the key was never exported: refused, with
    // the ways out (export, archive) as buttons.
    let pubkey: solana_pubkey::Pubkey = wallet.to_string().parse().unwrap();
    solana.airdrop(&pubkey, 1_000_000_000);
    let refused = press_until(&front, ADA, kept.message_id, &delete, |m| {
        m.text.starts_with("🛑")
    })
    .await;
    assert!(
        refused.text.contains("never exported and holds 1.0 SOL"),
        "{}",
        refused.text
    );
    assert!(has_button(&refused, &export) && has_button(&refused, "wl"));

    // Exported (behind its own confirmation).
    pace().await;
    let seen = front.messages(ADA).await.len();
    front.press(ADA, ADA, refused.message_id, &export).await;
    let warning = front
        .wait_for(ADA, seen, "the export warning", |m| {
            m.text.contains("Anyone who sees")
        })
        .await;
    pace().await;
    front
        .press(ADA, ADA, warning.message_id, &format!("wey:{wallet}"))
        .await;
    front
        .wait_for(ADA, seen, "the secret", |m| {
            m.text.contains("Secret key of")
        })
        .await;

    // Now 🗑 asks, saying when it was exported; "Yes" deletes.
    let list = press_until(&front, ADA, refused.message_id, "wl", |m| {
        m.text.starts_with("👛")
    })
    .await;
    assert!(list.text.contains("exported 20"), "{}", list.text);
    let question = press_until(&front, ADA, list.message_id, &delete, |m| {
        m.text.contains("Delete the key of")
    })
    .await;
    assert!(
        question.text.contains("Balance: 1.0 SOL"),
        "{}",
        question.text
    );
    assert!(
        question.text.contains("exported on 20"),
        "{}",
        question.text
    );
    let after = press_until(
        &front,
        ADA,
        question.message_id,
        &format!("wdy:{wallet}"),
        |m| m.text.starts_with("👛"),
    )
    .await;
    assert!(!has_button(&after, &export), "gone: {:?}", after.buttons());
    assert!(after.text.contains("Recently deleted"), "{}", after.text);
    assert!(has_button(&after, &restore), "{:?}", after.buttons());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !front.callback_answers().await.iter().any(|a| {
        a["text"]
            .as_str()
            .is_some_and(|t| t.contains("is deleted") && t.contains("restores it until"))
    }) {
        assert!(std::time::Instant::now() < deadline, "no deletion toast");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // ♻️ brings it back, still exported, and the deleted list is empty.
    let back = press_until(&front, ADA, after.message_id, &restore, |m| {
        m.text.starts_with("👛")
    })
    .await;
    assert!(has_button(&back, &export), "{:?}", back.buttons());
    assert!(!has_button(&back, &restore));
    assert!(!back.text.contains("Recently deleted"), "{}", back.text);
    assert!(back.text.contains("balance 1.0 SOL"), "{}", back.text);
    assert!(
        !app.log_text().contains(" ERROR "),
        "no errors: {}",
        app.log_text()
    );
    drop(app);
}
