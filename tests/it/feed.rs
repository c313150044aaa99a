//! The feeds end to end: the real PumpPortal client against the fake
//! socket, and replay/sim through `feed::spawn`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use alfabot::domain::{
    Platform, ProfileName, ProfileSettings, Side, TradeEvent, UserRef, WalletAddress,
};
use alfabot::feed::{
    self, FeedHandle, FeedSettings, FeedSpec, PumpPortalSettings, Speed, read_replay,
};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::support::core::paper_core;
use crate::support::pumpportal::{FakePumpPortal, frames_from_jsonl};

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/pumpfun_onchain_swaps_2025-10-20.jsonl"
);
const WAIT: Duration = Duration::from_secs(5);

struct Live {
    handle: FeedHandle,
    rx: mpsc::Receiver<TradeEvent>,
    stop: watch::Sender<bool>,
}

fn settings(url: String, key: Option<&str>) -> FeedSettings {
    let mut pp = PumpPortalSettings::new(url, key.map(SecretString::from));
    pp.timing.backoff_initial = Duration::from_millis(20);
    pp.timing.backoff_max = Duration::from_millis(200);
    FeedSettings {
        pumpportal: pp,
        speed: Speed::REAL_TIME,
    }
}

fn start(settings: FeedSettings) -> Live {
    let (tx, rx) = mpsc::channel(2_048);
    let (stop, shutdown) = watch::channel(false);
    let handle = feed::spawn(FeedSpec::PumpPortal, settings, tx, shutdown).unwrap();
    Live { handle, rx, stop }
}

async fn recv(rx: &mut mpsc::Receiver<TradeEvent>) -> TradeEvent {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("no event in time")
        .expect("feed ended")
}

/// Nothing more arrives for a short while.
async fn quiet(rx: &mut mpsc::Receiver<TradeEvent>) {
    if let Ok(Some(ev)) = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await {
        panic!("unexpected event {ev:?}");
    }
}

fn frame_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn keys(wallets: &[WalletAddress]) -> BTreeSet<String> {
    wallets.iter().map(ToString::to_string).collect()
}

fn real_events() -> Vec<TradeEvent> {
    read_replay(DATA).unwrap()
}

/// The two wallets with the most trades in the recorded file.
fn busiest(events: &[TradeEvent]) -> (WalletAddress, WalletAddress) {
    let mut counts = std::collections::HashMap::new();
    for e in events {
        *counts.entry(e.trader).or_insert(0) += 1;
    }
    let mut v: Vec<_> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    (v[0].0, v[1].0)
}

#[tokio::test]
async fn subscribes_on_connect_and_sends_follow_deltas() {
    let fake = FakePumpPortal::start().await;
    let w: Vec<WalletAddress> = (1..=5_u8)
        .map(|b| WalletAddress::from_bytes([b; 32]))
        .collect();
    let live = start(settings(fake.url(), Some("k3y")));
    live.handle.set_followed([w[1], w[0]]);
    fake.wait_for("initial subscriptions", WAIT, |f| {
        f.subscriptions() == keys(&w[..2]) && f.new_token_subscribers() == 1
    })
    .await;
    let got = fake.received();
    assert_eq!(frame_json(&got[0]), json!({"method": "subscribeNewToken"}));
    let mut first_keys: Vec<String> = vec![w[0].to_string(), w[1].to_string()];
    first_keys.sort();
    assert_eq!(
        frame_json(&got[1]),
        json!({"method": "subscribeAccountTrade", "keys": first_keys})
    );
    assert_eq!(
        fake.request_uris(),
        vec!["/api/data?api-key=k3y".to_owned()]
    );

    live.handle.follow(w[2]);
    live.handle.follow(w[2]); // already followed: nothing sent
    live.handle.unfollow(w[4]); // never followed: nothing sent
    live.handle.unfollow(w[0]);
    live.handle.unfollow(w[0]);
    live.handle.follow(w[3]);
    fake.wait_for("follow deltas", WAIT, |f| f.received().len() == 5)
        .await;
    let got: Vec<Value> = fake.received()[2..].iter().map(|t| frame_json(t)).collect();
    assert_eq!(
        got,
        vec![
            json!({"method": "subscribeAccountTrade", "keys": [w[2].to_string()]}),
            json!({"method": "unsubscribeAccountTrade", "keys": [w[0].to_string()]}),
            json!({"method": "subscribeAccountTrade", "keys": [w[3].to_string()]}),
        ]
    );
    assert_eq!(fake.subscriptions(), keys(&[w[1], w[2], w[3]]));
    assert!(live.handle.is_connected());
    assert_eq!(live.handle.kind(), "pumpportal");

    live.stop.send(true).unwrap();
    tokio::time::timeout(WAIT, live.handle.join())
        .await
        .unwrap()
        .unwrap();
    assert!(live.handle.is_finished());
}

#[tokio::test]
async fn recorded_trades_arrive_as_exact_events() {
    let fake = FakePumpPortal::start().await;
    let events = real_events();
    let (a, b) = busiest(&events);
    let mut live = start(settings(fake.url(), None));
    live.handle.follow(a);
    fake.wait_for("subscription", WAIT, |f| f.subscriptions() == keys(&[a]))
        .await;

    // Only the followed wallet's trades (and every token creation, for the
    // new-token subscription) are delivered, like the service.
    let before = now_ms();
    let sent = fake.play_wallet(&events);
    let expected: Vec<&TradeEvent> = events
        .iter()
        .filter(|e| e.trader == a || e.created)
        .collect();
    assert_eq!(sent.len(), expected.len());
    assert!(expected.len() >= 20, "{}", expected.len());
    for (want, (signature, sent_at)) in expected.into_iter().zip(&sent) {
        assert_eq!(&want.signature, signature);
        let got = recv(&mut live.rx).await;
        assert!(got.timestamp_ms >= sent_at.wall_ms);
        assert!(sent_at.at.elapsed() < WAIT, "delivered promptly");
        assert!(
            (before..=now_ms()).contains(&got.timestamp_ms),
            "receive time"
        );
        let mut want = want.clone();
        want.timestamp_ms = got.timestamp_ms;
        want.slot = None; // live frames carry no slot
        assert_eq!(got, want, "amounts and reserves convert exactly");
    }
    quiet(&mut live.rx).await;
    let unfollowed = events.iter().find(|e| e.trader == b && !e.created).unwrap();
    assert!(fake.send_trade(unfollowed).is_none());
    assert!(live.handle.last_frame_ms().is_some());
    assert!(live.handle.is_healthy(now_ms()));
    assert_eq!(live.handle.events(), u64::try_from(sent.len()).unwrap());
}

#[tokio::test]
async fn duplicate_signatures_are_dropped_but_buy_and_sell_in_one_tx_pass() {
    let fake = FakePumpPortal::start().await;
    let events = real_events();
    // The recorded file holds transactions with a buy and a sell.
    let (buy, sell) = events
        .windows(2)
        .find(|p| p[0].signature == p[1].signature && p[0].side != p[1].side)
        .map(|p| (p[0].clone(), p[1].clone()))
        .unwrap();
    let mut live = start(settings(fake.url(), None));
    live.handle.follow(buy.trader);
    fake.wait_for("subscription", WAIT, |f| !f.subscriptions().is_empty())
        .await;
    for ev in [&buy, &buy, &sell, &buy, &sell] {
        fake.send_trade(ev).unwrap();
    }
    assert_eq!(recv(&mut live.rx).await.side, Side::Buy);
    assert_eq!(recv(&mut live.rx).await.side, Side::Sell);
    quiet(&mut live.rx).await;
}

#[tokio::test]
async fn malformed_frames_are_skipped() {
    let fake = FakePumpPortal::start().await;
    let frames = frames_from_jsonl(DATA).unwrap();
    assert_eq!(frames.len(), 1_292);
    let good = frames[1].clone();
    let trader = WalletAddress::parse(good["traderPublicKey"].as_str().unwrap()).unwrap();
    let mut live = start(settings(fake.url(), None));
    live.handle.follow(trader);
    fake.wait_for("subscription", WAIT, |f| !f.subscriptions().is_empty())
        .await;

    let mut bad_mint = good.clone();
    bad_mint["mint"] = json!("not-a-mint");
    let mut bad_amount = good.clone();
    bad_amount["solAmount"] = json!(-1.5);
    let mut unknown_type = good.clone();
    unknown_type["txType"] = json!("migrate");
    for text in [
        "garbage".to_owned(),
        "{}".to_owned(),
        "[1,2,3]".to_owned(),
        json!({"errors": "Invalid message"}).to_string(),
        bad_mint.to_string(),
        bad_amount.to_string(),
        unknown_type.to_string(),
        "x".repeat(10_000),
    ] {
        assert_eq!(fake.send_raw(&text), 1);
    }
    fake.send_frame(&good).unwrap();
    let got = recv(&mut live.rx).await;
    assert_eq!(got.signature.as_str(), good["signature"].as_str().unwrap());
    quiet(&mut live.rx).await;
    assert!(
        live.handle.is_connected(),
        "bad frames never drop the socket"
    );
    assert_eq!(fake.accepted(), 1);
}

#[tokio::test]
async fn reconnects_after_a_server_disconnect_and_resubscribes() {
    let fake = FakePumpPortal::start().await;
    let events = real_events();
    let (a, b) = busiest(&events);
    let mut live = start(settings(fake.url(), None));
    live.handle.set_followed([a, b]);
    fake.wait_for("subscriptions", WAIT, |f| {
        f.subscriptions() == keys(&[a, b])
    })
    .await;
    let first = events.iter().find(|e| e.trader == a).unwrap();
    fake.send_trade(first).unwrap();
    assert_eq!(&recv(&mut live.rx).await.signature, &first.signature);

    fake.disconnect_all();
    assert!(fake.subscriptions().is_empty());
    assert_eq!(fake.open_connections(), 0);
    // A change made while disconnected is part of the re-subscription.
    live.handle.unfollow(b);
    fake.wait_for("re-subscription", WAIT, |f| {
        f.accepted() == 2 && f.subscriptions() == keys(&[a]) && f.new_token_subscribers() == 1
    })
    .await;
    assert_eq!(fake.open_connections(), 1);
    // The service replays recent frames after a reconnect: dropped.
    fake.send_trade(first).unwrap();
    let next = events.iter().filter(|e| e.trader == a).nth(1).unwrap();
    fake.send_trade(next).unwrap();
    assert_eq!(&recv(&mut live.rx).await.signature, &next.signature);
    quiet(&mut live.rx).await;
}

#[tokio::test]
async fn a_silent_connection_is_replaced() {
    let fake = FakePumpPortal::start().await;
    let mut s = settings(fake.url(), None);
    s.pumpportal.timing.stale_after = Duration::from_millis(300);
    let live = start(s);
    // A second connection, which subscribed afresh.
    fake.wait_for("a second, re-subscribed connection", WAIT, |f| {
        let hellos = f
            .received()
            .iter()
            .filter(|t| t.contains("subscribeNewToken"))
            .count();
        f.accepted() >= 2 && hellos >= 2
    })
    .await;
    live.stop.send(true).unwrap();
    tokio::time::timeout(WAIT, live.handle.join())
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn connect_failures_retry_until_the_server_appears() {
    // Reserve a port, release it, and point the client at it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let live = start(settings(format!("ws://{addr}/api/data"), None));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!live.handle.is_connected());
    assert!(live.handle.last_frame_ms().is_none());
    assert!(!live.handle.is_healthy(now_ms()));
    assert!(!live.handle.is_finished(), "connect failures are not fatal");
    live.stop.send(true).unwrap();
    tokio::time::timeout(WAIT, live.handle.join())
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn replay_feed_sends_the_whole_file_then_ends() {
    let (tx, mut rx) = mpsc::channel(256);
    let (_stop, shutdown) = watch::channel(false);
    let settings = FeedSettings {
        speed: Speed::UNLIMITED,
        ..FeedSettings::default()
    };
    let spec = FeedSpec::parse(&format!("replay:{DATA}")).unwrap();
    let handle = feed::spawn(spec, settings, tx, shutdown).unwrap();
    handle.follow(WalletAddress::from_bytes([1; 32])); // a no-op for replay
    let mut got = Vec::new();
    while let Some(ev) = tokio::time::timeout(WAIT, rx.recv()).await.unwrap() {
        got.push(ev);
    }
    handle.join().await.unwrap();
    assert_eq!(got, real_events());
    assert!(handle.is_finished());
    assert_eq!(handle.events(), 1_292);

    let (tx, _rx) = mpsc::channel(1);
    let (_stop, shutdown) = watch::channel(false);
    let missing = FeedSpec::Replay("/nonexistent/trades.jsonl".into());
    let err = feed::spawn(missing, FeedSettings::default(), tx, shutdown).unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/trades.jsonl"),
        "{err}"
    );
}

#[tokio::test]
async fn sim_feed_runs_until_shutdown() {
    let (tx, mut rx) = mpsc::channel(64);
    let (stop, shutdown) = watch::channel(false);
    let settings = FeedSettings {
        speed: Speed::UNLIMITED,
        ..FeedSettings::default()
    };
    let handle = feed::spawn(FeedSpec::parse("sim:7").unwrap(), settings, tx, shutdown).unwrap();
    let mut sim = feed::Simulator::new(7);
    for _ in 0..500 {
        let got = recv(&mut rx).await;
        let want = sim.next_event();
        // The running feed starts at the wall clock; the stream is the same.
        assert_eq!(got.signature, want.signature);
        assert_eq!(
            (got.sol, got.tokens, got.trader),
            (want.sol, want.tokens, want.trader)
        );
    }
    stop.send(true).unwrap();
    tokio::time::timeout(WAIT, handle.join())
        .await
        .unwrap()
        .unwrap();
    assert!(handle.is_finished());
}

fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(d.as_millis()).unwrap()
}

/// `subscribeAccountTrade` follows the set of wallets anyone follows: two
/// users and two profiles of one user on the same wallet make one
/// subscription, dropped only when the last follow goes (an untrack, or a
/// deleted profile), and taken again by the next follower.
#[tokio::test]
async fn account_subscription_lasts_until_the_last_follower_leaves() {
    let server = FakePumpPortal::start().await;
    let live = start(settings(server.url(), None));
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("subs.db").display());
    let core = paper_core(
        &db,
        ProfileSettings::default(),
        Arc::new(live.handle.clone()),
    )
    .await;
    let wallet = WalletAddress::parse("8jGai9a8U4RSzDnweCgeVZJBLxMTrNsrhHbGrCF8F3Ks").unwrap();
    let key = wallet.to_string();
    let subscribed = |on: bool| {
        let key = key.clone();
        move |p: &FakePumpPortal| p.subscriptions().contains(&key) == on
    };
    let ada = core
        .user(UserRef::new(Platform::Telegram, 1), None)
        .await
        .unwrap();
    let bob = core
        .user(UserRef::new(Platform::Telegram, 2), None)
        .await
        .unwrap();

    core.follow(&ada, wallet).await.unwrap();
    server
        .wait_for("the first follow", WAIT, subscribed(true))
        .await;
    core.follow(&bob, wallet).await.unwrap();
    let bob_second = core
        .create_profile(&bob, &ProfileName::parse("swing").unwrap())
        .await
        .unwrap();
    core.follow_into(&bob_second, wallet).await.unwrap();

    // Ada leaves; Bob still follows in two profiles.
    assert!(core.unfollow(ada.user, wallet).await.unwrap());
    // Bob's second profile goes with its follow; his first still follows.
    core.delete_profile(bob.user, bob_second.id).await.unwrap();
    // A marker after those changes: once the server has it, every request
    // the changes made has arrived too (one socket, in order).
    let marker = WalletAddress::from_bytes([7; 32]);
    core.follow(&ada, marker).await.unwrap();
    server
        .wait_for("the marker", WAIT, |p| {
            p.subscriptions().contains(&marker.to_string())
        })
        .await;
    assert!(
        server.subscriptions().contains(&key),
        "still followed by Bob: {:?}",
        server.received()
    );
    let unsubscribes = |p: &FakePumpPortal| {
        p.received()
            .iter()
            .filter(|r| r.contains("unsubscribeAccountTrade") && r.contains(&key))
            .count()
    };
    assert_eq!(unsubscribes(&server), 0, "{:?}", server.received());

    // The last follower leaves: unsubscribed once.
    assert!(core.unfollow(bob.user, wallet).await.unwrap());
    server
        .wait_for("the last unfollow", WAIT, subscribed(false))
        .await;
    assert_eq!(unsubscribes(&server), 1, "{:?}", server.received());
    // A new follower subscribes it again.
    core.follow(&bob, wallet).await.unwrap();
    server
        .wait_for("a new follower", WAIT, subscribed(true))
        .await;
    live.stop.send(true).unwrap();
}
