//! `SessionStore` conformance: one set of checks, run against every backend.
//!
//! Memory always runs. Redis runs when `REDIS_URL` is set, each test under
//! its own random key prefix (so parallel tests and parallel runs never
//! collide) whose keys are deleted afterwards, pass or fail; every key has a
//! TTL anyway. Without `REDIS_URL` the Redis cases print that they are
//! skipped, except under `CI=true`, where a missing or unreachable Redis
//! fails them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use alfabot::domain::ports::SessionStore;
use alfabot::domain::{ChatRef, Platform, UserRef};
use alfabot::session::{MemorySessions, RedisSessions};
use rand::Rng as _;

type Store = Arc<dyn SessionStore>;

const LONG: Duration = Duration::from_mins(1);
/// Short enough to wait out, long enough that a loaded 2-core machine does
/// not expire it between the write and the first read.
const SHORT: Duration = Duration::from_millis(200);
const PAST_SHORT: Duration = Duration::from_millis(450);

const CHAT: ChatRef = ChatRef::new(Platform::Telegram, -100_500);
const USER: UserRef = UserRef::new(Platform::Telegram, 42);

// ---------------------------------------------------------------- checks

async fn dialogue_get_set_overwrite_clear(s: Store) {
    assert_eq!(s.get_dialogue(CHAT, USER).await.unwrap(), None);
    s.set_dialogue(CHAT, USER, r#"{"step":"amount"}"#, LONG)
        .await
        .unwrap();
    assert_eq!(
        s.get_dialogue(CHAT, USER).await.unwrap().as_deref(),
        Some(r#"{"step":"amount"}"#)
    );
    s.set_dialogue(CHAT, USER, "second ✓", LONG).await.unwrap();
    assert_eq!(
        s.get_dialogue(CHAT, USER).await.unwrap().as_deref(),
        Some("second ✓")
    );
    s.clear_dialogue(CHAT, USER).await.unwrap();
    assert_eq!(s.get_dialogue(CHAT, USER).await.unwrap(), None);
    // Clearing what is not there is fine.
    s.clear_dialogue(CHAT, USER).await.unwrap();
}

async fn dialogue_is_per_chat_and_user(s: Store) {
    let other_chat = ChatRef::new(Platform::Telegram, 42);
    let other_user = UserRef::new(Platform::Telegram, 43);
    // Same numeric ids on another platform are other people.
    let discord_chat = ChatRef::new(Platform::Discord, CHAT.id);
    let discord_user = UserRef::new(Platform::Discord, USER.id);
    let cases = [
        (CHAT, USER, "a"),
        (other_chat, USER, "b"),
        (CHAT, other_user, "c"),
        (discord_chat, USER, "d"),
        (CHAT, discord_user, "e"),
    ];
    for (chat, user, state) in cases {
        s.set_dialogue(chat, user, state, LONG).await.unwrap();
    }
    for (chat, user, state) in cases {
        assert_eq!(
            s.get_dialogue(chat, user).await.unwrap().as_deref(),
            Some(state),
            "{chat} {user}"
        );
    }
    s.clear_dialogue(CHAT, USER).await.unwrap();
    assert_eq!(s.get_dialogue(CHAT, USER).await.unwrap(), None);
    for (chat, user, state) in &cases[1..] {
        assert_eq!(
            s.get_dialogue(*chat, *user).await.unwrap().as_deref(),
            Some(*state)
        );
    }
}

async fn dialogue_expires_after_ttl(s: Store) {
    s.set_dialogue(CHAT, USER, "soon gone", SHORT)
        .await
        .unwrap();
    assert_eq!(
        s.get_dialogue(CHAT, USER).await.unwrap().as_deref(),
        Some("soon gone")
    );
    tokio::time::sleep(PAST_SHORT).await;
    assert_eq!(s.get_dialogue(CHAT, USER).await.unwrap(), None);
}

async fn dialogue_overwrite_resets_ttl(s: Store) {
    s.set_dialogue(CHAT, USER, "short", SHORT).await.unwrap();
    s.set_dialogue(CHAT, USER, "long", LONG).await.unwrap();
    tokio::time::sleep(PAST_SHORT).await;
    assert_eq!(
        s.get_dialogue(CHAT, USER).await.unwrap().as_deref(),
        Some("long")
    );
}

async fn callback_round_trip(s: Store) {
    // Payloads are the ones too big for 64-byte callback data.
    let big = format!(
        "follow:{}:size=0.25",
        "8jGai9a8U4RSzDnweCgeVZJBLxMTrNsrhHbGrCF8F3Ks".repeat(3)
    );
    let t1 = s.put_callback(&big, LONG).await.unwrap();
    let t2 = s.put_callback("ünïcode ✓", LONG).await.unwrap();
    assert_ne!(t1, t2);
    assert_eq!(s.get_callback(&t1).await.unwrap(), Some(big.clone()));
    assert_eq!(
        s.get_callback(&t2).await.unwrap().as_deref(),
        Some("ünïcode ✓")
    );
    // Reading does not consume.
    assert_eq!(s.get_callback(&t1).await.unwrap(), Some(big));
}

async fn unknown_callback_token_is_none(s: Store) {
    let issued = s.put_callback("x", LONG).await.unwrap();
    let mut unknown = issued.clone();
    let last = if unknown.ends_with('a') { "b" } else { "a" };
    unknown.replace_range(unknown.len() - 1.., last);
    for token in [
        unknown.as_str(),
        "",
        "nope",
        "*",
        "cb:*",
        "abcdefghijklmnopqrstuvwxyz",
        "ñññññññññññ",
        &"x".repeat(10_000),
    ] {
        assert_eq!(s.get_callback(token).await.unwrap(), None, "{token:?}");
    }
}

async fn callback_tokens_are_short_url_safe_ascii(s: Store) {
    let mut seen = std::collections::HashSet::new();
    for i in 0..50 {
        let t = s.put_callback(&format!("p{i}"), LONG).await.unwrap();
        assert!(!t.is_empty() && t.len() <= 16, "{t:?}");
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{t:?}"
        );
        assert!(seen.insert(t), "token issued twice");
    }
}

async fn callback_expires_after_ttl(s: Store) {
    let t = s.put_callback("soon gone", SHORT).await.unwrap();
    assert_eq!(
        s.get_callback(&t).await.unwrap().as_deref(),
        Some("soon gone")
    );
    tokio::time::sleep(PAST_SHORT).await;
    assert_eq!(s.get_callback(&t).await.unwrap(), None);
}

async fn claim_true_once_then_false(s: Store) {
    let sig =
        "5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW";
    assert!(s.claim(sig, LONG).await.unwrap());
    assert!(!s.claim(sig, LONG).await.unwrap());
    assert!(!s.claim(sig, LONG).await.unwrap());
    // Other keys are independent, and dedup keys do not collide with
    // dialogue or callback keys.
    assert!(s.claim("other", LONG).await.unwrap());
    assert!(
        s.claim("dlg:telegram:-100500:telegram:42", LONG)
            .await
            .unwrap()
    );
    assert_eq!(s.get_dialogue(CHAT, USER).await.unwrap(), None);
}

async fn claim_exactly_one_of_concurrent_claimers(s: Store) {
    for round in 0..5 {
        let key = format!("race-{round}");
        let start = Arc::new(tokio::sync::Barrier::new(16));
        let claimers: Vec<_> = (0..16)
            .map(|_| {
                let (s, key, start) = (s.clone(), key.clone(), start.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    s.claim(&key, LONG).await.unwrap()
                })
            })
            .collect();
        let mut winners = 0;
        for c in claimers {
            winners += usize::from(c.await.unwrap());
        }
        assert_eq!(winners, 1, "round {round}");
    }
}

async fn claim_again_after_ttl(s: Store) {
    assert!(s.claim("k", SHORT).await.unwrap());
    assert!(!s.claim("k", SHORT).await.unwrap());
    tokio::time::sleep(PAST_SHORT).await;
    assert!(s.claim("k", SHORT).await.unwrap());
    assert!(!s.claim("k", SHORT).await.unwrap());
}

// --------------------------------------------------------------- backends

/// Runs `check` on its own task so a failed assertion still lets the
/// caller clean up, then re-raises it.
async fn run_isolated<F, Fut>(check: F, store: Store) -> Result<(), Box<dyn std::any::Any + Send>>
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    match tokio::spawn(check(store)).await {
        Ok(()) => Ok(()),
        Err(e) => Err(e.into_panic()),
    }
}

async fn on_memory<F, Fut>(check: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    check(Arc::new(MemorySessions::new())).await;
}

/// `Some(url)` when the Redis cases should run, `None` (after saying so)
/// when they are skipped.
fn redis_url(test: &str) -> Option<String> {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
            "CI=true but REDIS_URL is not set: the Redis session conformance \
             suite must run in CI (e.g. REDIS_URL=redis://127.0.0.1:6379)"
        ),
        _ => {
            eprintln!("skipped: Redis session test {test} (REDIS_URL is not set)");
            None
        }
    }
}

async fn on_redis<F, Fut>(test: &str, check: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(url) = redis_url(test) else { return };
    let prefix = format!("alfabot-test:{}:{test}:", random_id());
    let store = RedisSessions::connect(&url, &prefix)
        .await
        .unwrap_or_else(|e| panic!("REDIS_URL is set but Redis is not usable: {e:#}"));
    let conn = ::redis::Client::open(url.as_str()).unwrap();
    let mut conn = conn.get_multiplexed_async_connection().await.unwrap();

    let outcome = run_isolated(check, Arc::new(store)).await;

    let leftover = keys_under(&mut conn, &prefix).await;
    if !leftover.is_empty() {
        ::redis::Cmd::del(&leftover)
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
    }
    assert!(keys_under(&mut conn, &prefix).await.is_empty());
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn keys_under(conn: &mut ::redis::aio::MultiplexedConnection, prefix: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut cursor = 0_u64;
    loop {
        let (next, batch): (u64, Vec<String>) = ::redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .unwrap();
        keys.extend(batch);
        if next == 0 {
            return keys;
        }
        cursor = next;
    }
}

fn random_id() -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(10)
        .map(char::from)
        .collect()
}

macro_rules! conformance {
    ($($check:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    super::on_memory(super::$check).await;
                }
            )*
        }

        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    super::on_redis(stringify!($check), super::$check).await;
                }
            )*
        }
    };
}

conformance!(
    dialogue_get_set_overwrite_clear,
    dialogue_is_per_chat_and_user,
    dialogue_expires_after_ttl,
    dialogue_overwrite_resets_ttl,
    callback_round_trip,
    unknown_callback_token_is_none,
    callback_tokens_are_short_url_safe_ascii,
    callback_expires_after_ttl,
    claim_true_once_then_false,
    claim_exactly_one_of_concurrent_claimers,
    claim_again_after_ttl,
);

// ------------------------------------------------------- redis specifics

/// The key layout and TTLs other tools (and operators) rely on.
#[tokio::test]
async fn redis_keys_live_under_the_prefix_with_ttls() {
    let Some(url) = redis_url("redis_keys_live_under_the_prefix_with_ttls") else {
        return;
    };
    let prefix = format!("alfabot-test:{}:layout:", random_id());
    let store = RedisSessions::connect(&url, &prefix).await.unwrap();
    assert_eq!(store.prefix(), prefix);
    store.set_dialogue(CHAT, USER, "s", LONG).await.unwrap();
    let token = store.put_callback("p", LONG).await.unwrap();
    store.claim("sig1", LONG).await.unwrap();

    let mut conn = ::redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut keys = keys_under(&mut conn, &prefix).await;
    keys.sort();
    let mut expected = vec![
        format!("{prefix}cb:{token}"),
        format!("{prefix}dd:sig1"),
        format!("{prefix}dlg:telegram:-100500:telegram:42"),
    ];
    expected.sort();
    let pttls: Vec<i64> = {
        let mut v = Vec::new();
        for k in &keys {
            v.push(
                ::redis::cmd("PTTL")
                    .arg(k)
                    .query_async(&mut conn)
                    .await
                    .unwrap(),
            );
        }
        v
    };
    ::redis::Cmd::del(&keys)
        .query_async::<()>(&mut conn)
        .await
        .unwrap();

    assert_eq!(keys, expected);
    for (k, pttl) in keys.iter().zip(pttls) {
        assert!(pttl > 50_000 && pttl <= 60_000, "{k}: PTTL {pttl}");
    }
}

/// Two stores on one server (two alfabot processes) share claims and
/// callbacks: the point of using Redis.
#[tokio::test]
async fn redis_instances_share_claims_and_callbacks() {
    let Some(url) = redis_url("redis_instances_share_claims_and_callbacks") else {
        return;
    };
    let prefix = format!("alfabot-test:{}:shared:", random_id());
    let a = RedisSessions::connect(&url, &prefix).await.unwrap();
    let b = RedisSessions::connect(&url, &prefix).await.unwrap();
    let claimed_a = a.claim("sig", LONG).await.unwrap();
    let claimed_b = b.claim("sig", LONG).await.unwrap();
    let token = a.put_callback("from a", LONG).await.unwrap();
    let seen_by_b = b.get_callback(&token).await.unwrap();

    let mut conn = ::redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys = keys_under(&mut conn, &prefix).await;
    ::redis::Cmd::del(&keys)
        .query_async::<()>(&mut conn)
        .await
        .unwrap();

    assert!(claimed_a && !claimed_b);
    assert_eq!(seen_by_b.as_deref(), Some("from a"));
}

// ------------------------------------------------------- Redis over TLS

/// A `redis-server` of the test's own, TLS only, with a self-signed
/// certificate made by `openssl`; killed on drop.
struct TlsRedis {
    _dir: tempfile::TempDir,
    child: std::process::Child,
    port: u16,
}

impl TlsRedis {
    /// `None` (after saying so) when redis-server or openssl is missing
    /// outside CI; in CI both are required.
    fn start() -> Option<Self> {
        use std::process::{Command, Stdio};
        let have = |bin: &str, arg: &str| {
            Command::new(bin)
                .arg(arg)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !(have("redis-server", "--version") && have("openssl", "version")) {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but redis-server or openssl is missing: the TLS Redis test must run"
            );
            eprintln!("skipped: Redis over TLS (redis-server or openssl missing)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let made = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args([
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(made.success(), "openssl made no certificate");
        let port = crate::support::app::free_port();
        let child = Command::new("redis-server")
            .args(["--port", "0", "--tls-port", &port.to_string()])
            .arg("--tls-cert-file")
            .arg(&cert)
            .arg("--tls-key-file")
            .arg(&key)
            .arg("--tls-ca-cert-file")
            .arg(&cert)
            .args(["--tls-auth-clients", "no", "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Some(Self {
            _dir: dir,
            child,
            port,
        })
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `rediss://` URLs work: the session store over TLS passes the same
/// cases as over plain TCP. (`#insecure` skips certificate checks, since
/// no public authority signed the test's certificate; a real server's is
/// checked against the web's root authorities.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_over_tls_serves_sessions() {
    let Some(server) = TlsRedis::start() else {
        return;
    };
    let url = format!("rediss://127.0.0.1:{}/#insecure", server.port);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let store = loop {
        match RedisSessions::connect(&url, "alfabot-test:tls:").await {
            Ok(s) => break s,
            Err(e) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no TLS connection: {e:#}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    };
    let store: Store = Arc::new(store);
    dialogue_get_set_overwrite_clear(Arc::clone(&store)).await;
    callback_round_trip(Arc::clone(&store)).await;
    claim_true_once_then_false(store).await;
    // Without TLS the same server refuses (it has no plain port).
    let plain = format!("redis://127.0.0.1:{}", server.port);
    assert!(RedisSessions::connect(&plain, "x:").await.is_err());
}
