//! The live PumpPortal feed: one websocket, new tokens plus the account
//! trades of every followed wallet, plus the token trades of young tokens
//! and of tokens followed wallets trade (for `TOKEN_WATCH`, at most
//! `MAX_WATCHED_TOKENS` at once, oldest dropped first). Without those the
//! engine would see a token only through the followed wallet's own trades,
//! and could neither price its curve between them nor tell whether anyone
//! but its creator can sell it.
//!
//! The connection is supervised: it reconnects with jittered exponential
//! backoff and re-subscribes everything, and a socket that delivers no frame
//! for `stale_after` (30 s) counts as dead, because health is "a frame in the
//! last 30 s", not "socket open". Reconnects replay frames, so trades are
//! deduplicated on (signature, side): one transaction can hold a buy and a
//! sell. Bad frames are logged and skipped, never fatal. The API key is
//! appended to the URL and never logged.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures_util::{SinkExt as _, StreamExt as _};
use rand::rngs::SmallRng;
use rand::{Rng as _, SeedableRng as _};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::frame::{Frame, parse_frame};
use super::{Command, Health, deliver, shutdown_requested, truncate};
use crate::domain::ports::{Clock as _, SystemClock};
use crate::domain::{Mint, Side, Signature, TradeEvent, WalletAddress};
use crate::engine::recent::RecentSet;

/// The public data socket.
pub const DEFAULT_URL: &str = "wss://pumpportal.fun/api/data";
/// Keys per `subscribeAccountTrade` frame.
pub const KEYS_PER_FRAME: usize = 500;
/// Trades remembered for dedup.
pub const DEDUP_CAPACITY: usize = 100_000;
/// Tokens whose trades are subscribed at once.
pub const MAX_WATCHED_TOKENS: usize = 2_000;

/// Where and how to connect (`PUMPPORTAL_WS_URL`, `PUMPPORTAL_API_KEY`).
#[derive(Debug, Clone)]
pub struct PumpPortalSettings {
    pub url: String,
    pub api_key: Option<SecretString>,
    pub timing: PumpPortalTiming,
}

impl PumpPortalSettings {
    #[must_use]
    pub fn new(url: impl Into<String>, api_key: Option<SecretString>) -> Self {
        Self {
            url: url.into(),
            api_key,
            timing: PumpPortalTiming::default(),
        }
    }
}

impl Default for PumpPortalSettings {
    fn default() -> Self {
        Self::new(DEFAULT_URL, None)
    }
}

/// Reconnect and liveness timing. The defaults are production values; tests
/// shorten them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PumpPortalTiming {
    /// First reconnect delay; doubles on each failure.
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// A connection that lived this long resets the backoff.
    pub healthy_after: Duration,
    /// No frame for this long: the connection is dead.
    pub stale_after: Duration,
    pub connect_timeout: Duration,
    /// How long a token's trades stay subscribed after it launched or a
    /// followed wallet traded it.
    pub token_watch: Duration,
}

impl Default for PumpPortalTiming {
    fn default() -> Self {
        Self {
            backoff_initial: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            healthy_after: Duration::from_secs(60),
            stale_after: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            token_watch: Duration::from_secs(30 * 60),
        }
    }
}

/// Exponential backoff with "equal jitter": each delay is drawn from
/// `[d/2, d]` where `d` doubles from `initial` up to `max`.
#[derive(Debug)]
struct Backoff {
    initial: Duration,
    max: Duration,
    current: Duration,
    rng: SmallRng,
}

impl Backoff {
    fn new(initial: Duration, max: Duration, seed: u64) -> Self {
        Self {
            initial,
            max,
            current: initial,
            rng: SmallRng::seed_from_u64(seed),
        }
    }

    fn next_delay(&mut self) -> Duration {
        let d = self.current;
        self.current = (self.current * 2).min(self.max);
        d.mul_f64(self.rng.random_range(0.5..=1.0))
    }

    fn reset(&mut self) {
        self.current = self.initial;
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Why a connection ended.
#[derive(Debug)]
enum Ended {
    /// Shutdown was requested or the engine stopped listening: stop for good.
    Stop,
    /// The connection failed or went quiet: reconnect.
    Lost(String),
}

/// State that outlives one connection.
struct Client {
    settings: PumpPortalSettings,
    tx: mpsc::Sender<TradeEvent>,
    commands: mpsc::UnboundedReceiver<Command>,
    commands_open: bool,
    shutdown: watch::Receiver<bool>,
    health: Arc<Health>,
    followed: BTreeSet<WalletAddress>,
    seen: RecentSet<(Signature, Side)>,
    tokens: TokenWatch,
}

/// The tokens whose trades are subscribed, oldest first.
#[derive(Debug, Default)]
struct TokenWatch {
    order: VecDeque<(Mint, Instant)>,
    set: HashSet<Mint>,
}

impl TokenWatch {
    /// Watches `mint` (again: its time restarts); returns the frames.
    fn watch(&mut self, mint: Mint, now: Instant, max: usize) -> Vec<String> {
        let mut frames = Vec::new();
        if self.set.insert(mint) {
            frames.push(token_frame(true, &[mint.to_string()]));
        } else {
            self.order.retain(|(m, _)| *m != mint);
        }
        self.order.push_back((mint, now));
        while self.order.len() > max {
            if let Some((old, _)) = self.order.pop_front() {
                self.set.remove(&old);
                frames.push(token_frame(false, &[old.to_string()]));
            }
        }
        frames
    }

    /// Stops watching tokens older than `ttl`; returns the frame.
    fn expire(&mut self, now: Instant, ttl: Duration) -> Vec<String> {
        let mut gone = Vec::new();
        while let Some((m, at)) = self.order.front() {
            if now.duration_since(*at) < ttl {
                break;
            }
            gone.push(m.to_string());
            self.set.remove(m);
            self.order.pop_front();
        }
        gone.chunks(KEYS_PER_FRAME)
            .map(|keys| token_frame(false, keys))
            .collect()
    }

    fn keys(&self) -> Vec<String> {
        self.order.iter().map(|(m, _)| m.to_string()).collect()
    }
}

pub(crate) async fn run(
    settings: PumpPortalSettings,
    tx: mpsc::Sender<TradeEvent>,
    commands: mpsc::UnboundedReceiver<Command>,
    shutdown: watch::Receiver<bool>,
    health: Arc<Health>,
) -> anyhow::Result<()> {
    let seed = u64::try_from(SystemClock.now_ms()).unwrap_or_default();
    let timing = settings.timing;
    let mut backoff = Backoff::new(timing.backoff_initial, timing.backoff_max, seed);
    let mut client = Client {
        settings,
        tx,
        commands,
        commands_open: true,
        shutdown,
        health,
        followed: BTreeSet::new(),
        seen: RecentSet::new(DEDUP_CAPACITY),
        tokens: TokenWatch::default(),
    };
    let url = redacted(&client.settings.url);
    loop {
        if *client.shutdown.borrow() {
            break;
        }
        let connected = tokio::select! {
            () = shutdown_requested(&mut client.shutdown) => break,
            r = connect(&client.settings) => r,
        };
        match connected {
            Ok(socket) => {
                tracing::info!(
                    url,
                    followed = client.followed.len(),
                    "pumpportal connected"
                );
                client.health.set_connected(true);
                let started = Instant::now();
                let ended = client.session(socket).await;
                client.health.set_connected(false);
                match ended {
                    Ended::Stop => break,
                    Ended::Lost(reason) => {
                        tracing::warn!(url, reason, "pumpportal connection lost; reconnecting");
                    }
                }
                if started.elapsed() >= timing.healthy_after {
                    backoff.reset();
                }
            }
            Err(e) => {
                tracing::warn!(url, error = format!("{e:#}"), "pumpportal connect failed");
            }
        }
        let delay = backoff.next_delay();
        tracing::debug!(?delay, "pumpportal reconnect backoff");
        tokio::select! {
            () = shutdown_requested(&mut client.shutdown) => break,
            () = tokio::time::sleep(delay) => {}
        }
    }
    tracing::info!(url, "pumpportal feed stopped");
    Ok(())
}

/// The configured URL for logs: without query or credentials, in case a key
/// was put there by hand.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            let _ = u.set_password(None);
            let _ = u.set_username("");
            u.into()
        }
        Err(_) => "(invalid URL)".to_owned(),
    }
}

/// The URL to dial: the configured one plus `?api-key=` when a key is set.
fn request_url(settings: &PumpPortalSettings) -> anyhow::Result<String> {
    let mut url = url::Url::parse(&settings.url)
        .with_context(|| format!("invalid PumpPortal URL {:?}", settings.url))?;
    if let Some(key) = &settings.api_key {
        url.query_pairs_mut()
            .append_pair("api-key", key.expose_secret());
    }
    Ok(url.into())
}

async fn connect(settings: &PumpPortalSettings) -> anyhow::Result<Socket> {
    let request = request_url(settings)?;
    let timeout = settings.timing.connect_timeout;
    // Errors are mapped without the request URL: it carries the key.
    let (socket, _response) =
        tokio::time::timeout(timeout, tokio_tungstenite::connect_async(request))
            .await
            .map_err(|_| anyhow::anyhow!("no handshake within {timeout:?}"))?
            .map_err(|e| anyhow::anyhow!("websocket handshake: {e}"))?;
    Ok(socket)
}

impl Client {
    /// Runs one connection until it ends.
    async fn session(&mut self, mut socket: Socket) -> Ended {
        // Apply changes queued while disconnected before the full subscribe.
        while let Ok(cmd) = self.commands.try_recv() {
            let _ = self.apply(cmd);
        }
        let mut hello = vec![json!({"method": "subscribeNewToken"}).to_string()];
        let keys: Vec<String> = self.followed.iter().map(ToString::to_string).collect();
        hello.extend(
            keys.chunks(KEYS_PER_FRAME)
                .map(|chunk| account_frame(true, chunk)),
        );
        let mints = self.tokens.keys();
        hello.extend(
            mints
                .chunks(KEYS_PER_FRAME)
                .map(|chunk| token_frame(true, chunk)),
        );
        for text in hello {
            if let Err(e) = socket.send(Message::text(text)).await {
                return Ended::Lost(format!("subscribe failed: {e}"));
            }
        }
        let stale_after = self.settings.timing.stale_after;
        let mut last_frame = Instant::now();
        loop {
            tokio::select! {
                biased;
                () = shutdown_requested(&mut self.shutdown) => {
                    let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(None)).await;
                    return Ended::Stop;
                }
                cmd = self.commands.recv(), if self.commands_open => {
                    let Some(cmd) = cmd else {
                        self.commands_open = false;
                        continue;
                    };
                    for text in self.apply(cmd) {
                        if let Err(e) = socket.send(Message::text(text)).await {
                            return Ended::Lost(format!("send failed: {e}"));
                        }
                    }
                }
                msg = socket.next() => {
                    let text = match msg {
                        Some(Ok(Message::Text(text))) => text.as_str().to_owned(),
                        Some(Ok(Message::Binary(bytes))) => {
                            String::from_utf8_lossy(&bytes).into_owned()
                        }
                        Some(Ok(Message::Close(frame))) => {
                            return Ended::Lost(format!("server closed the socket: {frame:?}"));
                        }
                        // Pings are answered by tungstenite; they are not data.
                        Some(Ok(_)) => continue,
                        Some(Err(e)) => return Ended::Lost(format!("read failed: {e}")),
                        None => return Ended::Lost("socket ended".to_owned()),
                    };
                    last_frame = Instant::now();
                    self.health.frame();
                    let Some(frames) = self.handle_text(&text).await else {
                        return Ended::Stop;
                    };
                    for f in frames {
                        if let Err(e) = socket.send(Message::text(f)).await {
                            return Ended::Lost(format!("send failed: {e}"));
                        }
                    }
                }
                // Logged once, as the reason, by the reconnect loop.
                () = tokio::time::sleep_until(last_frame + stale_after) => {
                    return Ended::Lost(format!("no frame for {stale_after:?}; treating the connection as dead"));
                }
            }
        }
    }

    /// Updates the followed set; returns the frames to send now.
    fn apply(&mut self, cmd: Command) -> Vec<String> {
        let (add, remove): (Vec<WalletAddress>, Vec<WalletAddress>) = match cmd {
            Command::Follow(w) => (
                self.followed.insert(w).then_some(w).into_iter().collect(),
                vec![],
            ),
            Command::Unfollow(w) => (
                vec![],
                self.followed.remove(&w).then_some(w).into_iter().collect(),
            ),
            Command::SetFollowed(ws) => {
                let new: BTreeSet<WalletAddress> = ws.into_iter().collect();
                let add = new.difference(&self.followed).copied().collect();
                let remove = self.followed.difference(&new).copied().collect();
                self.followed = new;
                (add, remove)
            }
        };
        let mut frames = Vec::new();
        for (subscribe, keys) in [(true, add), (false, remove)] {
            let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
            frames.extend(
                keys.chunks(KEYS_PER_FRAME)
                    .map(|chunk| account_frame(subscribe, chunk)),
            );
        }
        frames
    }

    /// Handles one data frame; returns the subscription frames to send, or
    /// `None` when the engine stopped listening.
    async fn handle_text(&mut self, text: &str) -> Option<Vec<String>> {
        let now = Instant::now();
        let mut frames = self.tokens.expire(now, self.settings.timing.token_watch);
        match parse_frame(text, SystemClock.now_ms()) {
            Ok(Frame::Ack(message)) => tracing::debug!(message, "pumpportal ack"),
            Ok(Frame::CreateWithoutBuy { mint }) => {
                tracing::debug!(%mint, "token created without a buy; watching its trades");
                frames.extend(self.tokens.watch(mint, now, MAX_WATCHED_TOKENS));
            }
            Ok(Frame::Trade(ev)) => {
                if !self.seen.insert((ev.signature.clone(), ev.side)) {
                    tracing::debug!(signature = %ev.signature, "duplicate trade frame dropped");
                    return Some(frames);
                }
                if ev.created || self.followed.contains(&ev.trader) {
                    frames.extend(self.tokens.watch(ev.mint, now, MAX_WATCHED_TOKENS));
                }
                self.health.event();
                if !deliver(&self.tx, ev, &mut self.shutdown).await {
                    return None;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, frame = truncate(text, 200), "skipped a pumpportal frame");
            }
        }
        Some(frames)
    }
}

fn token_frame(subscribe: bool, keys: &[String]) -> String {
    let method = if subscribe {
        "subscribeTokenTrade"
    } else {
        "unsubscribeTokenTrade"
    };
    json!({"method": method, "keys": keys}).to_string()
}

fn account_frame(subscribe: bool, keys: &[String]) -> String {
    let method = if subscribe {
        "subscribeAccountTrade"
    } else {
        "unsubscribeAccountTrade"
    };
    json!({"method": method, "keys": keys}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wallet(b: u8) -> WalletAddress {
        WalletAddress::from_bytes([b; 32])
    }

    fn client() -> Client {
        let (tx, _rx) = mpsc::channel(1);
        let (_ctx, commands) = mpsc::unbounded_channel();
        let (_stx, shutdown) = watch::channel(false);
        Client {
            settings: PumpPortalSettings::new(
                "ws://127.0.0.1:1/api/data",
                Some(SecretString::from("s3cret")),
            ),
            tx,
            commands,
            commands_open: true,
            shutdown,
            health: Arc::default(),
            followed: BTreeSet::new(),
            seen: RecentSet::new(10),
            tokens: TokenWatch::default(),
        }
    }

    #[test]
    fn young_tokens_are_watched_for_a_while_and_capped() {
        let mut t = TokenWatch::default();
        let now = Instant::now();
        let (a, b, c) = (wallet(1), wallet(2), wallet(3));
        assert_eq!(
            t.watch(a, now, 2),
            vec![token_frame(true, &[a.to_string()])]
        );
        assert!(t.watch(a, now, 2).is_empty(), "already watched");
        t.watch(b, now + Duration::from_secs(10), 2);
        // A third token drops the oldest.
        assert_eq!(
            t.watch(c, now + Duration::from_secs(20), 2),
            vec![
                token_frame(true, &[c.to_string()]),
                token_frame(false, &[a.to_string()])
            ]
        );
        assert_eq!(t.keys(), vec![b.to_string(), c.to_string()]);
        let ttl = Duration::from_secs(60);
        assert!(t.expire(now + Duration::from_secs(69), ttl).is_empty());
        assert_eq!(
            t.expire(now + Duration::from_secs(75), ttl),
            vec![token_frame(false, &[b.to_string()])]
        );
        assert_eq!(t.keys(), vec![c.to_string()]);
    }

    #[test]
    fn follow_changes_send_only_deltas() {
        let mut c = client();
        let a = wallet(1);
        let b = wallet(2);
        assert_eq!(
            c.apply(Command::Follow(a)),
            vec![account_frame(true, &[a.to_string()])]
        );
        assert!(c.apply(Command::Follow(a)).is_empty(), "already followed");
        assert!(c.apply(Command::Unfollow(b)).is_empty(), "never followed");
        assert_eq!(
            c.apply(Command::SetFollowed(vec![b])),
            vec![
                account_frame(true, &[b.to_string()]),
                account_frame(false, &[a.to_string()])
            ]
        );
        assert_eq!(
            c.apply(Command::Unfollow(b)),
            vec![account_frame(false, &[b.to_string()])]
        );
        let many: Vec<_> = (0..1_200_u32)
            .map(|i| {
                let mut bytes = [0_u8; 32];
                bytes[..4].copy_from_slice(&i.to_le_bytes());
                WalletAddress::from_bytes(bytes)
            })
            .collect();
        assert_eq!(
            c.apply(Command::SetFollowed(many)).len(),
            3,
            "500 keys per frame"
        );
    }

    #[test]
    fn api_key_goes_in_the_query() {
        let c = client();
        assert_eq!(
            request_url(&c.settings).unwrap(),
            "ws://127.0.0.1:1/api/data?api-key=s3cret"
        );
        assert!(!format!("{:?}", c.settings).contains("s3cret"));
        assert_eq!(
            redacted("wss://u:p@pumpportal.fun/api/data?api-key=x"),
            "wss://pumpportal.fun/api/data"
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(250), Duration::from_secs(30), 1);
        let delays: Vec<Duration> = (0..10).map(|_| b.next_delay()).collect();
        assert!(delays[0] >= Duration::from_millis(125) && delays[0] <= Duration::from_millis(250));
        assert!(
            delays[3] >= Duration::from_millis(1_000) && delays[3] <= Duration::from_millis(2_000)
        );
        assert!(delays[9] >= Duration::from_secs(15) && delays[9] <= Duration::from_secs(30));
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(250));
    }
}
