//! A fake Discord for the integration tests. **Home-made**: no third-party
//! Discord emulator exists in any reachable registry, so this is our own
//! imitation, written from serenity 0.12.5's source (what it calls and
//! parses) and the payload shapes of npm `discord-api-types` v10. It is not
//! a captured protocol dump and it is proven only against serenity's own
//! models (`tests/it/discord_fake.rs`).
//!
//! It serves, on random 127.0.0.1 ports:
//! - the REST API under `/api/v10`, both over plain HTTP (the URL to give
//!   `HttpBuilder::proxy`) and over TLS as `discord.com` (see below):
//!   gateway discovery, the application and bot user, global and guild
//!   command registration, DM channel creation, channel messages (create,
//!   get, edit, delete), interaction callbacks, follow-ups and the
//!   `@original` response. Unknown routes answer 404 with a Discord error
//!   body; nothing hangs. A wrong or missing bot token answers 401 (except
//!   on the interaction and webhook routes, which Discord authenticates by
//!   the interaction token);
//! - a gateway websocket: Hello, Identify → READY, heartbeat → ACK, Resume
//!   → RESUMED (known session) or op 9 (unknown), and dispatches the test
//!   pushes (`INTERACTION_CREATE`, or any event) with increasing `s`.
//!
//! **Why TLS.** serenity's ratelimiter builds every request without the
//! proxy (serenity issue #1739): with the ratelimiter on, `proxy(url)` alone
//! sends REST calls to the real `https://discord.com`. [`FakeDiscord::http_builder`]
//! therefore also installs a reqwest client that resolves `discord.com` to
//! the fake's TLS port and trusts only the test CA in `discord_tls/`
//! (test-only material, a 100-year certificate for `discord.com`; the CA
//! key was thrown away). Both paths reach the same handlers.
//!
//! It records every REST call (method, path, query, whether the token was
//! right, JSON body or multipart parts, time) and every gateway frame
//! (tokens redacted), keeps messages per channel, interaction callbacks and
//! registered commands, and can make the next calls to a route fail (429
//! with Discord's headers, 403/50007, 500, any status).
//!
//! Not covered: guilds, members, roles, channels other than DMs (any channel
//! id is accepted for messages), reactions, threads, attachments beyond
//! recording the multipart parts, voice, sharding beyond one shard,
//! transport compression, rate-limit headers on successful responses (so
//! serenity never throttles pre-emptively), and replaying missed events on
//! resume. Fixtures (the free functions at the end) are shaped like
//! `discord-api-types` v10 `APIInteraction`; the Ed25519 helpers sign
//! requests for the HTTP interactions endpoint.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use serenity::http::HttpBuilder;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response as WsResponse};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// The bot token the fake accepts (REST `Authorization: Bot …`, Identify).
pub const TOKEN: &str = "MTMwMDAwMDAwMDAwMDAwMDAwMQ.fake.alfabot-discord-tests";
/// The application id; as on Discord, the bot user has the same id.
pub const APP_ID: u64 = 1_300_000_000_000_000_001;
pub const BOT_NAME: &str = "alfabot";
/// Discord's default heartbeat interval.
pub const HEARTBEAT_MS: u64 = 41_250;

const CA_PEM: &str = include_str!("discord_tls/ca.pem");
const LEAF_PEM: &str = include_str!("discord_tls/discord.com.pem");
const LEAF_KEY: &str = include_str!("discord_tls/discord.com.key");

/// Discord's epoch (2015-01-01) in Unix milliseconds.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;
/// Message flags.
pub const EPHEMERAL: u64 = 1 << 6;
const LOADING: u64 = 1 << 7;

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// A fresh snowflake: now since Discord's epoch, with a process-wide
/// increment so ids are unique and increasing.
pub fn snowflake() -> u64 {
    let ms = u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis(),
    )
    .unwrap_or(u64::MAX);
    ((ms.saturating_sub(DISCORD_EPOCH_MS)) << 22)
        | (SEQUENCE.fetch_add(1, Ordering::Relaxed) & 0x3F_FFFF)
}

fn now_iso() -> String {
    serenity::model::Timestamp::now().to_string()
}

// ---------------------------------------------------------------- records

/// How a REST call authenticated. The token itself is never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Missing,
    /// `Bot <token>`; `valid` when it is [`TOKEN`].
    Bot {
        valid: bool,
    },
    Other,
}

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

/// One REST call as the fake received it.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    /// Path after `/api/v10`, e.g. `/channels/1/messages`.
    pub route: String,
    pub query: Option<String>,
    pub auth: Auth,
    /// Headers of interest (`content-type`, `user-agent`,
    /// `x-audit-log-reason`), lower-case names.
    pub headers: BTreeMap<String, String>,
    /// The JSON body, or the `payload_json` part of a multipart body.
    pub json: Option<Value>,
    pub parts: Vec<Part>,
    /// Came over TLS as `discord.com` (serenity's ratelimiter) rather than
    /// the plain proxy URL.
    pub tls: bool,
    pub status: u16,
    pub at: Instant,
}

impl Call {
    /// `method` and `route` match; `*` in `pattern` matches one segment.
    pub fn is(&self, method: &Method, pattern: &str) -> bool {
        self.method == *method && route_matches(pattern, &self.route)
    }
}

fn route_matches(pattern: &str, route: &str) -> bool {
    let p: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let r: Vec<&str> = route.trim_matches('/').split('/').collect();
    p.len() == r.len() && p.iter().zip(&r).all(|(p, r)| *p == "*" || p == r)
}

/// A message as the fake holds it (the bot's messages and interaction
/// responses), current after edits.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub id: u64,
    pub channel_id: u64,
    /// The message object as Discord returns it.
    pub object: Value,
    pub edits: u32,
    pub deleted: bool,
    /// The interaction token when the message is an interaction response or
    /// follow-up.
    pub interaction_token: Option<String>,
}

impl StoredMessage {
    pub fn content(&self) -> &str {
        self.object["content"].as_str().unwrap_or_default()
    }

    pub fn flags(&self) -> u64 {
        self.object["flags"].as_u64().unwrap_or_default()
    }

    /// `custom_id` of every component, row by row.
    pub fn custom_ids(&self) -> Vec<String> {
        self.object["components"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
            .filter_map(|c| c["custom_id"].as_str().map(str::to_owned))
            .collect()
    }
}

/// A `POST /interactions/{id}/{token}/callback`.
#[derive(Debug, Clone)]
pub struct Callback {
    pub interaction_id: u64,
    /// 1 pong, 4 message, 5 deferred message, 6 deferred update, 7 update,
    /// 8 autocomplete result, 9 modal.
    pub kind: u64,
    pub data: Value,
    pub at: Instant,
}

impl Callback {
    pub fn flags(&self) -> u64 {
        self.data["flags"].as_u64().unwrap_or_default()
    }

    pub fn ephemeral(&self) -> bool {
        self.flags() & EPHEMERAL != 0
    }
}

/// An Identify the gateway received.
#[derive(Debug, Clone)]
pub struct Identify {
    pub token_valid: bool,
    pub intents: u64,
    pub shard: Option<Value>,
    pub properties: Value,
    pub at: Instant,
}

/// What the next matching calls answer instead of succeeding.
#[derive(Debug, Clone)]
pub enum Failure {
    /// 429 with Discord's body and headers (`Retry-After` rounded up to
    /// whole seconds as Discord sends it; the body keeps the fraction).
    RateLimited { retry_after: f64, global: bool },
    /// 403 `{"code":50007,"message":"Cannot send messages to this user"}`.
    CannotDm,
    /// Any status with a Discord error body.
    Status {
        status: u16,
        code: u64,
        message: String,
    },
}

impl Failure {
    pub fn server_error() -> Self {
        Self::Status {
            status: 500,
            code: 0,
            message: "500: Internal Server Error".to_owned(),
        }
    }
}

struct Injection {
    method: Method,
    pattern: String,
    failure: Failure,
    left: u32,
}

/// An interaction the fake knows (pushed over the gateway or remembered for
/// an HTTP-endpoint test), so its callbacks and webhooks resolve.
#[derive(Debug, Clone)]
struct Known {
    id: u64,
    kind: u64,
    channel_id: u64,
    guild_id: Option<u64>,
    user: Value,
    name: Option<String>,
    /// The message a component was on.
    message_id: Option<u64>,
    /// The `@original` response message.
    original: Option<u64>,
    acknowledged: bool,
}

struct Conn {
    out: mpsc::UnboundedSender<Message>,
    session: Option<String>,
}

#[derive(Default)]
struct St {
    calls: Vec<Call>,
    injections: Vec<Injection>,
    messages: Vec<StoredMessage>,
    dm_channels: BTreeMap<u64, u64>,
    callbacks: Vec<Callback>,
    interactions: HashMap<String, Known>,
    global_commands: Vec<Value>,
    guild_commands: BTreeMap<u64, Vec<Value>>,
    frames: Vec<Value>,
    identifies: Vec<Identify>,
    gateway_uris: Vec<String>,
    conns: BTreeMap<u64, Conn>,
    /// Session id → last sequence number sent.
    sessions: HashMap<String, u64>,
    next_conn: u64,
    heartbeat_ms: u64,
}

struct Ctx {
    st: Mutex<St>,
    gateway_url: String,
}

#[derive(Clone)]
struct Srv {
    ctx: Arc<Ctx>,
    tls: bool,
}

pub struct FakeDiscord {
    http_addr: SocketAddr,
    tls_addr: SocketAddr,
    ctx: Arc<Ctx>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        for conn in self.ctx.st.lock().unwrap().conns.values() {
            let _ = conn.out.send(Message::Close(None));
        }
    }
}

impl FakeDiscord {
    pub async fn start() -> Self {
        let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tls = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gateway = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let http_addr = http.local_addr().unwrap();
        let tls_addr = tls.local_addr().unwrap();
        let ctx = Arc::new(Ctx {
            st: Mutex::new(St {
                heartbeat_ms: HEARTBEAT_MS,
                ..St::default()
            }),
            gateway_url: format!("ws://{}", gateway.local_addr().unwrap()),
        });
        let router = |tls| {
            axum::Router::new().fallback(rest).with_state(Srv {
                ctx: Arc::clone(&ctx),
                tls,
            })
        };
        let plain_app = router(false);
        let tls_app = router(true);
        let tasks = vec![
            tokio::spawn(async move { axum::serve(http, plain_app).await.unwrap() }),
            tokio::spawn(async move {
                axum::serve(TlsListener::new(tls), tls_app).await.unwrap();
            }),
            tokio::spawn(gateway_accept(gateway, Arc::clone(&ctx))),
        ];
        Self {
            http_addr,
            tls_addr,
            ctx,
            tasks,
        }
    }

    /// `http://127.0.0.1:PORT`, for `HttpBuilder::proxy`.
    pub fn url(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// `ws://127.0.0.1:PORT`, what `GET /gateway` answers.
    pub fn gateway_url(&self) -> String {
        self.ctx.gateway_url.clone()
    }

    /// A reqwest client that sends `https://discord.com` to the fake (and
    /// trusts nothing but the test CA).
    pub fn reqwest_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(CA_PEM.as_bytes()).unwrap())
            .resolve("discord.com", self.tls_addr)
            .build()
            .unwrap()
    }

    /// serenity's `Http` pointed at the fake with [`TOKEN`]: the proxy URL
    /// (used when the ratelimiter is disabled) and the client of
    /// [`Self::reqwest_client`] (used by the ratelimiter, which ignores the
    /// proxy).
    pub fn http_builder(&self) -> HttpBuilder {
        HttpBuilder::new(TOKEN)
            .proxy(self.url())
            .client(self.reqwest_client())
    }

    fn with<T>(&self, f: impl FnOnce(&mut St) -> T) -> T {
        f(&mut self.ctx.st.lock().unwrap())
    }

    // ------------------------------------------------------------ REST

    pub fn calls(&self) -> Vec<Call> {
        self.with(|s| s.calls.clone())
    }

    /// The calls to a route (`*` matches one segment).
    pub fn calls_to(&self, method: &Method, pattern: &str) -> Vec<Call> {
        self.with(|s| {
            s.calls
                .iter()
                .filter(|c| c.is(method, pattern))
                .cloned()
                .collect()
        })
    }

    /// Waits for a call matching `pred`; panics after `timeout` listing the
    /// calls received.
    pub async fn wait_for_call(&self, timeout: Duration, pred: impl Fn(&Call) -> bool) -> Call {
        self.wait("a matching REST call", timeout, |s| {
            s.calls.iter().find(|c| pred(c)).cloned()
        })
        .await
    }

    /// The next `times` calls to `method pattern` answer `failure`.
    pub fn fail_next(&self, method: Method, pattern: &str, failure: Failure, times: u32) {
        self.with(|s| {
            s.injections.push(Injection {
                method,
                pattern: pattern.to_owned(),
                failure,
                left: times,
            });
        });
    }

    /// Messages in a channel (deleted ones included, flagged), in order.
    pub fn messages(&self, channel_id: u64) -> Vec<StoredMessage> {
        self.with(|s| {
            s.messages
                .iter()
                .filter(|m| m.channel_id == channel_id)
                .cloned()
                .collect()
        })
    }

    pub fn message(&self, id: u64) -> Option<StoredMessage> {
        self.with(|s| s.messages.iter().find(|m| m.id == id).cloned())
    }

    /// The DM channel id the fake gave (or will give) a user.
    pub fn dm_channel(&self, user_id: u64) -> Option<u64> {
        self.with(|s| s.dm_channels.get(&user_id).copied())
    }

    /// Every interaction callback, in order.
    pub fn callbacks(&self) -> Vec<Callback> {
        self.with(|s| s.callbacks.clone())
    }

    /// Waits for the callback to an interaction.
    pub async fn wait_for_callback(&self, interaction_id: u64, timeout: Duration) -> Callback {
        self.wait("the interaction callback", timeout, |s| {
            s.callbacks
                .iter()
                .find(|c| c.interaction_id == interaction_id)
                .cloned()
        })
        .await
    }

    /// The `@original` response of an interaction, by its token.
    pub fn original_response(&self, token: &str) -> Option<StoredMessage> {
        self.with(|s| {
            let id = s.interactions.get(token)?.original?;
            s.messages.iter().find(|m| m.id == id).cloned()
        })
    }

    pub fn global_commands(&self) -> Vec<Value> {
        self.with(|s| s.global_commands.clone())
    }

    pub fn guild_commands(&self, guild_id: u64) -> Vec<Value> {
        self.with(|s| s.guild_commands.get(&guild_id).cloned().unwrap_or_default())
    }

    /// Makes an interaction known without the gateway (for the HTTP
    /// interactions endpoint), so its callback and webhooks resolve.
    pub fn remember_interaction(&self, interaction: &Value) {
        self.with(|s| remember(s, interaction));
    }

    // ------------------------------------------------------------ gateway

    /// Heartbeat interval the next Hello announces.
    pub fn set_heartbeat_interval(&self, ms: u64) {
        self.with(|s| s.heartbeat_ms = ms);
    }

    /// Every frame clients sent (tokens redacted), in order.
    pub fn gateway_frames(&self) -> Vec<Value> {
        self.with(|s| s.frames.clone())
    }

    pub fn identifies(&self) -> Vec<Identify> {
        self.with(|s| s.identifies.clone())
    }

    /// Request URI (path and query) of every gateway connection.
    pub fn gateway_uris(&self) -> Vec<String> {
        self.with(|s| s.gateway_uris.clone())
    }

    /// Waits until a connection has had its READY.
    pub async fn wait_ready(&self, timeout: Duration) {
        self.wait("a READY gateway session", timeout, |s| {
            s.conns.values().any(|c| c.session.is_some()).then_some(())
        })
        .await;
    }

    /// Sends a dispatch (`op 0`) to every READY connection; returns how many.
    pub fn dispatch(&self, event: &str, d: &Value) -> usize {
        self.with(|s| {
            let St {
                conns, sessions, ..
            } = s;
            let mut sent = 0;
            for conn in conns.values() {
                let Some(session) = &conn.session else {
                    continue;
                };
                let seq = sessions.entry(session.clone()).or_default();
                *seq += 1;
                let frame = json!({"op": 0, "t": event, "s": *seq, "d": d});
                if conn.out.send(Message::text(frame.to_string())).is_ok() {
                    sent += 1;
                }
            }
            sent
        })
    }

    /// Remembers `interaction` and dispatches it as `INTERACTION_CREATE`.
    pub fn push_interaction(&self, interaction: &Value) -> usize {
        self.remember_interaction(interaction);
        self.dispatch("INTERACTION_CREATE", interaction)
    }

    /// Closes every gateway connection with `code` (4000 lets serenity
    /// resume).
    pub fn close_gateway(&self, code: u16) {
        self.with(|s| {
            for conn in s.conns.values() {
                let _ = conn.out.send(Message::Close(Some(CloseFrame {
                    code: CloseCode::from(code),
                    reason: "closed by the test".into(),
                })));
            }
        });
    }

    async fn wait<T>(&self, what: &str, timeout: Duration, f: impl Fn(&St) -> Option<T>) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(t) = f(&self.ctx.st.lock().unwrap()) {
                return t;
            }
            if Instant::now() >= deadline {
                let calls: Vec<String> = self.with(|s| {
                    s.calls
                        .iter()
                        .map(|c| format!("{} {} -> {}", c.method, c.route, c.status))
                        .collect()
                });
                panic!("timed out after {timeout:?} waiting for {what}; REST calls: {calls:#?}");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn remember(s: &mut St, interaction: &Value) {
    let id = id_of(&interaction["id"]);
    let token = interaction["token"].as_str().unwrap_or_default().to_owned();
    let user = if interaction["member"].is_object() {
        interaction["member"]["user"].clone()
    } else {
        interaction["user"].clone()
    };
    s.interactions.insert(
        token,
        Known {
            id,
            kind: interaction["type"].as_u64().unwrap_or_default(),
            channel_id: id_of(&interaction["channel"]["id"]),
            guild_id: interaction["guild_id"]
                .as_str()
                .and_then(|g| g.parse().ok()),
            user,
            name: interaction["data"]["name"].as_str().map(str::to_owned),
            message_id: interaction["message"]["id"]
                .as_str()
                .and_then(|m| m.parse().ok()),
            original: None,
            acknowledged: false,
        },
    );
}

fn id_of(v: &Value) -> u64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_u64())
        .unwrap_or_default()
}

// ------------------------------------------------------------ REST handlers

fn error(status: u16, code: u64, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        axum::Json(json!({"message": message, "code": code})),
    )
        .into_response()
}

fn ok(v: Value) -> Response {
    axum::Json(v).into_response()
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

fn not_found() -> Response {
    error(404, 0, "404: Not Found")
}

fn rate_limited(route: &str, retry_after: f64, global: bool) -> Response {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    let mut headers = vec![
        ("retry-after", format!("{}", retry_after.ceil())),
        ("x-ratelimit-limit", "5".to_owned()),
        ("x-ratelimit-remaining", "0".to_owned()),
        ("x-ratelimit-reset", format!("{:.3}", now + retry_after)),
        ("x-ratelimit-reset-after", format!("{retry_after:.3}")),
        (
            "x-ratelimit-bucket",
            format!("{:016x}", route.len() as u64 * 0x9E37_79B9),
        ),
        (
            "x-ratelimit-scope",
            if global { "global" } else { "user" }.to_owned(),
        ),
    ];
    // serenity treats the mere presence of this header as a global limit.
    if global {
        headers.push(("x-ratelimit-global", "true".to_owned()));
    }
    let body = json!({"message": "You are being rate limited.", "retry_after": retry_after, "global": global});
    let mut resp = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    for (k, v) in headers {
        resp.headers_mut()
            .insert(k, HeaderValue::from_str(&v).unwrap());
    }
    resp
}

fn auth_of(headers: &HeaderMap) -> Auth {
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        None => Auth::Missing,
        Some(v) => match v.strip_prefix("Bot ") {
            Some(token) => Auth::Bot {
                valid: token == TOKEN,
            },
            None => Auth::Other,
        },
    }
}

async fn rest(
    State(srv): State<Srv>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = uri
        .path()
        .strip_prefix("/api/v10")
        .unwrap_or(uri.path())
        .to_owned();
    let mut parts = Vec::new();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let json = if let Some(boundary) = content_type
        .strip_prefix("multipart/form-data")
        .and_then(|rest| rest.split("boundary=").nth(1))
    {
        parts = parse_multipart(&body, boundary.trim_matches('"'));
        parts
            .iter()
            .find(|p| p.name == "payload_json")
            .and_then(|p| serde_json::from_slice(&p.data).ok())
    } else if body.is_empty() {
        None
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => Some(v),
            Err(_) => Some(Value::String(String::from_utf8_lossy(&body).into_owned())),
        }
    };
    let mut call = Call {
        method: method.clone(),
        route: route.clone(),
        query: uri.query().map(str::to_owned),
        auth: auth_of(&headers),
        headers: ["content-type", "user-agent", "x-audit-log-reason"]
            .into_iter()
            .filter_map(|k| {
                let v = headers.get(k)?.to_str().ok()?;
                Some((k.to_owned(), v.to_owned()))
            })
            .collect(),
        json,
        parts,
        tls: srv.tls,
        status: 0,
        at: Instant::now(),
    };
    let mut st = srv.ctx.st.lock().unwrap();
    let resp = answer(&mut st, &srv.ctx.gateway_url, &call, uri.path());
    call.status = resp.status().as_u16();
    st.calls.push(call);
    resp
}

fn answer(st: &mut St, gateway_url: &str, call: &Call, path: &str) -> Response {
    if !path.starts_with("/api/v10/") {
        return not_found();
    }
    if let Some(inj) = st
        .injections
        .iter_mut()
        .find(|i| i.left > 0 && call.is(&i.method, &i.pattern))
    {
        inj.left -= 1;
        return match inj.failure.clone() {
            Failure::RateLimited {
                retry_after,
                global,
            } => rate_limited(&call.route, retry_after, global),
            Failure::CannotDm => error(403, 50007, "Cannot send messages to this user"),
            Failure::Status {
                status,
                code,
                message,
            } => error(status, code, &message),
        };
    }
    let segs: Vec<&str> = call.route.trim_matches('/').split('/').collect();
    // Interaction callbacks and webhooks are authorised by their token.
    let token_routed = matches!(segs.first(), Some(&"interactions" | &"webhooks"));
    if !token_routed && call.auth != (Auth::Bot { valid: true }) {
        return error(401, 0, "401: Unauthorized");
    }
    let body = call.json.clone().unwrap_or(Value::Null);
    let m = &call.method;
    match segs.as_slice() {
        ["gateway"] if m == Method::GET => ok(json!({"url": gateway_url})),
        ["gateway", "bot"] if m == Method::GET => ok(json!({
            "url": gateway_url,
            "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        })),
        ["oauth2", "applications", "@me"] | ["applications", "@me"] if m == Method::GET => {
            ok(application())
        }
        ["users", "@me"] if m == Method::GET => ok(current_user()),
        ["users", "@me", "channels"] if m == Method::POST => {
            let recipient = id_of(&body["recipient_id"]);
            if recipient == 0 {
                return invalid_body("recipient_id");
            }
            let next = snowflake();
            let channel = *st.dm_channels.entry(recipient).or_insert(next);
            ok(dm_channel(
                channel,
                &user(recipient, &format!("user{recipient}")),
            ))
        }
        ["applications", app, "commands"] if *app == APP_ID.to_string() => match *m {
            Method::GET => ok(Value::Array(st.global_commands.clone())),
            Method::PUT => {
                let Some(list) = body.as_array() else {
                    return invalid_body("commands");
                };
                st.global_commands = list.iter().map(|c| command(c, None)).collect();
                ok(Value::Array(st.global_commands.clone()))
            }
            Method::POST => {
                let c = command(&body, None);
                st.global_commands.push(c.clone());
                (StatusCode::CREATED, axum::Json(c)).into_response()
            }
            _ => not_found(),
        },
        ["applications", app, "guilds", guild, "commands"] if *app == APP_ID.to_string() => {
            let Ok(guild) = guild.parse::<u64>() else {
                return not_found();
            };
            match *m {
                Method::GET => ok(Value::Array(
                    st.guild_commands.get(&guild).cloned().unwrap_or_default(),
                )),
                Method::PUT => {
                    let Some(list) = body.as_array() else {
                        return invalid_body("commands");
                    };
                    let cmds: Vec<Value> = list.iter().map(|c| command(c, Some(guild))).collect();
                    st.guild_commands.insert(guild, cmds.clone());
                    ok(Value::Array(cmds))
                }
                _ => not_found(),
            }
        }
        ["channels", channel, "messages"] if m == Method::POST => {
            let Ok(channel) = channel.parse::<u64>() else {
                return not_found();
            };
            if !has_content(&body) {
                return error(400, 50006, "Cannot send an empty message");
            }
            let object = message_object(channel, &body, &call.parts, None);
            ok(store(st, channel, object, None))
        }
        ["channels", channel, "messages", mid] => {
            let (Ok(channel), Ok(mid)) = (channel.parse::<u64>(), mid.parse::<u64>()) else {
                return not_found();
            };
            message_route(
                st,
                m,
                |msg| msg.channel_id == channel && msg.id == mid,
                &body,
            )
        }
        ["interactions", id, token, "callback"] if m == Method::POST => {
            interaction_callback(st, id, token, &body, &call.parts)
        }
        ["webhooks", app, token] if m == Method::POST && *app == APP_ID.to_string() => {
            let Some(known) = st.interactions.get(*token).cloned() else {
                return error(404, 10015, "Unknown Webhook");
            };
            if !has_content(&body) {
                return error(400, 50006, "Cannot send an empty message");
            }
            let object = message_object(known.channel_id, &body, &call.parts, Some(&known));
            ok(store(st, known.channel_id, object, Some(token)))
        }
        ["webhooks", app, token, "messages", mid] if *app == APP_ID.to_string() => {
            let Some(known) = st.interactions.get(*token).cloned() else {
                return error(404, 10015, "Unknown Webhook");
            };
            let mid = if *mid == "@original" {
                known.original
            } else {
                mid.parse().ok()
            };
            let Some(mid) = mid else {
                return error(404, 10008, "Unknown Message");
            };
            message_route(st, m, |msg| msg.id == mid, &body)
        }
        _ => not_found(),
    }
}

fn invalid_body(field: &str) -> Response {
    error(400, 50035, &format!("Invalid Form Body ({field})"))
}

fn has_content(body: &Value) -> bool {
    let non_empty = |k: &str| match &body[k] {
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    };
    [
        "content",
        "embeds",
        "components",
        "attachments",
        "sticker_ids",
    ]
    .into_iter()
    .any(non_empty)
        || body["poll"].is_object()
}

fn message_route(
    st: &mut St,
    m: &Method,
    find: impl Fn(&StoredMessage) -> bool,
    body: &Value,
) -> Response {
    let Some(msg) = st.messages.iter_mut().find(|msg| !msg.deleted && find(msg)) else {
        return error(404, 10008, "Unknown Message");
    };
    match *m {
        Method::GET => ok(msg.object.clone()),
        Method::PATCH => {
            edit(msg, body);
            ok(msg.object.clone())
        }
        Method::DELETE => {
            msg.deleted = true;
            no_content()
        }
        _ => error(405, 0, "405: Method Not Allowed"),
    }
}

fn edit(msg: &mut StoredMessage, body: &Value) {
    for key in ["content", "embeds", "components", "attachments"] {
        if let Some(v) = body.get(key) {
            msg.object[key] = match (v, key) {
                (Value::Null, "content") => json!(""),
                (Value::Null, _) => json!([]),
                _ => v.clone(),
            };
        }
    }
    // An edit resolves a deferred ("thinking…") response.
    let flags = msg.flags() & !LOADING;
    msg.object["flags"] = json!(flags);
    msg.object["edited_timestamp"] = json!(now_iso());
    msg.edits += 1;
}

fn store(st: &mut St, channel_id: u64, object: Value, token: Option<&str>) -> Value {
    let id = id_of(&object["id"]);
    st.messages.push(StoredMessage {
        id,
        channel_id,
        object: object.clone(),
        edits: 0,
        deleted: false,
        interaction_token: token.map(str::to_owned),
    });
    object
}

fn interaction_callback(
    st: &mut St,
    id: &str,
    token: &str,
    body: &Value,
    parts: &[Part],
) -> Response {
    let Some(known) = st.interactions.get(token).cloned() else {
        return error(404, 10062, "Unknown interaction");
    };
    if known.id.to_string() != id {
        return error(404, 10062, "Unknown interaction");
    }
    if known.acknowledged {
        return error(400, 40060, "Interaction has already been acknowledged.");
    }
    let Some(kind) = body["type"].as_u64() else {
        return invalid_body("type");
    };
    let data = body.get("data").cloned().unwrap_or(Value::Null);
    let original = match kind {
        4 => {
            if !has_content(&data) {
                return error(400, 50006, "Cannot send an empty message");
            }
            let object = message_object(known.channel_id, &data, parts, Some(&known));
            let object = store(st, known.channel_id, object, Some(token));
            Some(id_of(&object["id"]))
        }
        5 => {
            let flags = data["flags"].as_u64().unwrap_or_default() & EPHEMERAL | LOADING;
            let object = message_object(
                known.channel_id,
                &json!({"flags": flags}),
                &[],
                Some(&known),
            );
            let object = store(st, known.channel_id, object, Some(token));
            Some(id_of(&object["id"]))
        }
        6 => known.message_id,
        7 => {
            if let Some(msg) = known
                .message_id
                .and_then(|mid| st.messages.iter_mut().find(|m| m.id == mid))
            {
                edit(msg, &data);
            }
            known.message_id
        }
        1 | 8 | 9 => None,
        _ => return invalid_body("type"),
    };
    let entry = st.interactions.get_mut(token).unwrap();
    entry.acknowledged = true;
    entry.original = original;
    st.callbacks.push(Callback {
        interaction_id: known.id,
        kind,
        data,
        at: Instant::now(),
    });
    no_content()
}

// ------------------------------------------------------------ REST shapes

/// An `APIUser`.
pub fn user(id: u64, username: &str) -> Value {
    json!({
        "id": id.to_string(),
        "username": username,
        "discriminator": "0",
        "global_name": username,
        "avatar": null,
        "avatar_decoration_data": null,
        "banner": null,
        "accent_color": null,
        "public_flags": 0,
        "flags": 0,
        "clan": null,
        "primary_guild": null,
        "collectibles": null,
    })
}

fn bot_user() -> Value {
    let mut u = user(APP_ID, BOT_NAME);
    u["discriminator"] = json!("4821");
    u["global_name"] = Value::Null;
    u["bot"] = json!(true);
    u
}

fn current_user() -> Value {
    let mut u = bot_user();
    u["verified"] = json!(true);
    u["mfa_enabled"] = json!(false);
    u["email"] = Value::Null;
    u["locale"] = json!("en-US");
    u["premium_type"] = json!(0);
    u
}

/// An `APIApplication` as `GET /oauth2/applications/@me` returns it.
fn application() -> Value {
    json!({
        "id": APP_ID.to_string(),
        "name": BOT_NAME,
        "icon": null,
        "description": "",
        "summary": "",
        "type": null,
        "hook": true,
        "bot_public": true,
        "bot_require_code_grant": false,
        "verify_key": "0000000000000000000000000000000000000000000000000000000000000000",
        "flags": 0,
        "owner": user(APP_ID + 1, "alfabot-owner"),
        "team": null,
        "bot": bot_user(),
        "redirect_uris": [],
        "interactions_endpoint_url": null,
        "role_connections_verification_url": null,
        "tags": [],
        "integration_types_config": {"0": {}},
        "approximate_guild_count": 1,
        "approximate_user_install_count": 0,
        "is_monetized": false,
    })
}

fn dm_channel(id: u64, recipient: &Value) -> Value {
    json!({
        "id": id.to_string(),
        "type": 1,
        "last_message_id": null,
        "flags": 0,
        "recipients": [recipient],
    })
}

/// An `APIApplicationCommand` from what the bot sent.
fn command(sent: &Value, guild: Option<u64>) -> Value {
    let mut c = json!({
        "id": snowflake().to_string(),
        "application_id": APP_ID.to_string(),
        "version": snowflake().to_string(),
        "type": 1,
        "description": "",
        "default_member_permissions": null,
        "nsfw": false,
        "integration_types": [0],
        "contexts": null,
    });
    if let Some(g) = guild {
        c["guild_id"] = json!(g.to_string());
    } else {
        c["dm_permission"] = json!(true);
    }
    if let Some(obj) = sent.as_object() {
        for (k, v) in obj {
            if !v.is_null() {
                c[k] = v.clone();
            }
        }
    }
    c
}

/// An `APIMessage` from a create body; `via` is the interaction when the
/// bot answers one.
fn message_object(channel_id: u64, body: &Value, parts: &[Part], via: Option<&Known>) -> Value {
    let id = snowflake();
    let attachments: Vec<Value> = parts
        .iter()
        .filter(|p| p.filename.is_some())
        .map(|p| {
            json!({
                "id": snowflake().to_string(),
                "filename": p.filename,
                "size": p.data.len(),
                "url": format!("https://cdn.discordapp.com/attachments/{channel_id}/{id}/{}", p.filename.as_deref().unwrap_or_default()),
                "proxy_url": format!("https://media.discordapp.net/attachments/{channel_id}/{id}/{}", p.filename.as_deref().unwrap_or_default()),
                "content_type": p.content_type,
            })
        })
        .collect();
    let or = |k: &str, d: Value| match body.get(k) {
        Some(v) if !v.is_null() => v.clone(),
        _ => d,
    };
    let mut m = json!({
        "id": id.to_string(),
        "type": 0,
        "content": or("content", json!("")),
        "channel_id": channel_id.to_string(),
        "author": bot_user(),
        "attachments": attachments,
        "embeds": or("embeds", json!([])),
        "mentions": [],
        "mention_roles": [],
        "pinned": false,
        "mention_everyone": false,
        "tts": or("tts", json!(false)),
        "timestamp": now_iso(),
        "edited_timestamp": null,
        "flags": or("flags", json!(0)),
        "components": or("components", json!([])),
    });
    if let Some(k) = via {
        m["webhook_id"] = json!(APP_ID.to_string());
        m["application_id"] = json!(APP_ID.to_string());
        if k.kind == 2 {
            m["type"] = json!(20);
        }
        let owners = match k.guild_id {
            Some(g) => json!({"0": g.to_string()}),
            None => json!({"0": "0"}),
        };
        m["interaction_metadata"] = json!({
            "id": k.id.to_string(),
            "type": k.kind,
            "user": k.user,
            "authorizing_integration_owners": owners,
        });
        if let Some(name) = &k.name {
            m["interaction_metadata"]["name"] = json!(name);
        }
        // Per discord-api-types: a component interaction's metadata names
        // the message it came from, a modal's the interaction that opened
        // it (serenity requires both fields).
        match k.kind {
            3 => {
                m["interaction_metadata"]["interacted_message_id"] =
                    json!(k.message_id.unwrap_or_default().to_string());
            }
            5 => {
                m["interaction_metadata"]["triggering_interaction_metadata"] = json!({
                    "id": k.id.to_string(),
                    "type": 2,
                    "user": k.user,
                    "authorizing_integration_owners": {},
                });
            }
            _ => {}
        }
        if let Some(g) = k.guild_id {
            m["guild_id"] = json!(g.to_string());
        }
    }
    m
}

fn parse_multipart(body: &[u8], boundary: &str) -> Vec<Part> {
    let delim = format!("--{boundary}");
    let mut parts = Vec::new();
    for chunk in split(body, delim.as_bytes()).into_iter().skip(1) {
        if chunk.starts_with(b"--") {
            break;
        }
        let chunk = chunk.strip_prefix(b"\r\n").unwrap_or(chunk);
        let Some(split_at) = find(chunk, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&chunk[..split_at]);
        let data = &chunk[split_at + 4..];
        let data = data.strip_suffix(b"\r\n").unwrap_or(data);
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .unwrap_or_default();
        let attr = |name: &str| {
            disposition
                .split(';')
                .filter_map(|kv| kv.trim().strip_prefix(&format!("{name}=")))
                .map(|v| v.trim_matches('"').to_owned())
                .next()
        };
        let content_type = head.lines().find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_owned())
        });
        parts.push(Part {
            name: attr("name").unwrap_or_default(),
            filename: attr("filename"),
            content_type,
            data: data.to_vec(),
        });
    }
    parts
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn split<'a>(mut hay: &'a [u8], delim: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    while let Some(i) = find(hay, delim) {
        out.push(&hay[..i]);
        hay = &hay[i + delim.len()..];
    }
    out.push(hay);
    out
}

// ------------------------------------------------------------ TLS

/// Accepts TCP connections and completes TLS handshakes off the accept
/// loop, so one slow client cannot stall the others.
struct TlsListener {
    rx: mpsc::Receiver<(tokio_rustls::server::TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    _accept: JoinHandle<()>,
}

impl TlsListener {
    fn new(listener: TcpListener) -> Self {
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(LEAF_PEM.as_bytes())
                .collect::<Result<_, _>>()
                .unwrap();
        let key = PrivateKeyDer::from_pem_slice(LEAF_KEY.as_bytes()).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let local = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::channel(16);
        let accept = tokio::spawn(async move {
            while let Ok((tcp, peer)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        let _ = tx.send((tls, peer)).await;
                    }
                });
            }
        });
        Self {
            rx,
            local,
            _accept: accept,
        }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

// ------------------------------------------------------------ gateway

async fn gateway_accept(listener: TcpListener, ctx: Arc<Ctx>) {
    while let Ok((tcp, _)) = listener.accept().await {
        tokio::spawn(gateway_conn(tcp, Arc::clone(&ctx)));
    }
}

async fn gateway_conn(tcp: TcpStream, ctx: Arc<Ctx>) {
    let cb_ctx = Arc::clone(&ctx);
    // The `Err` type is tungstenite's; this callback never returns it.
    #[allow(clippy::result_large_err, reason = "signature fixed by tungstenite")]
    let record_uri = move |req: &Request, resp: WsResponse| {
        let uri = req.uri().to_string();
        cb_ctx.st.lock().unwrap().gateway_uris.push(uri);
        Ok(resp)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, record_uri).await else {
        return;
    };
    let (mut sink, mut source) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    let conn_id = {
        let mut st = ctx.st.lock().unwrap();
        st.next_conn += 1;
        let id = st.next_conn;
        st.conns.insert(
            id,
            Conn {
                out: tx.clone(),
                session: None,
            },
        );
        let hello = json!({"op": 10, "s": null, "t": null,
            "d": {"heartbeat_interval": st.heartbeat_ms, "_trace": ["[\"fake-gateway\",{}]"]}});
        let _ = tx.send(Message::text(hello.to_string()));
        id
    };
    let writer = tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            let close = matches!(msg, Message::Close(_));
            if sink.send(msg).await.is_err() || close {
                break;
            }
        }
    });
    while let Some(Ok(msg)) = source.next().await {
        let Message::Text(text) = msg else {
            if matches!(msg, Message::Close(_)) {
                break;
            }
            continue;
        };
        let Ok(frame) = serde_json::from_str::<Value>(&text) else {
            let _ = tx.send(close(4002, "Error while decoding payload."));
            break;
        };
        let mut st = ctx.st.lock().unwrap();
        let mut recorded = frame.clone();
        if recorded["d"]["token"].is_string() {
            recorded["d"]["token"] = json!("<redacted>");
        }
        st.frames.push(recorded);
        let d = &frame["d"];
        match frame["op"].as_u64() {
            Some(1) => {
                let _ = tx.send(Message::text(
                    json!({"op": 11, "s": null, "t": null, "d": null}).to_string(),
                ));
            }
            Some(2) => {
                let token = d["token"].as_str().unwrap_or_default();
                let valid = token == TOKEN || token.strip_prefix("Bot ") == Some(TOKEN);
                st.identifies.push(Identify {
                    token_valid: valid,
                    intents: d["intents"].as_u64().unwrap_or_default(),
                    shard: d.get("shard").cloned(),
                    properties: d["properties"].clone(),
                    at: Instant::now(),
                });
                if !valid {
                    let _ = tx.send(close(4004, "Authentication failed."));
                    break;
                }
                let session = format!("{:032x}", u128::from(snowflake()) * 0x9E37_79B9_7F4A_7C15);
                st.sessions.insert(session.clone(), 1);
                if let Some(conn) = st.conns.get_mut(&conn_id) {
                    conn.session = Some(session.clone());
                }
                let ready = json!({"op": 0, "t": "READY", "s": 1, "d": {
                    "v": 10,
                    "user_settings": {},
                    "user": current_user(),
                    "guilds": [],
                    "session_type": "normal",
                    "session_id": session,
                    "resume_gateway_url": ctx.gateway_url,
                    "shard": d.get("shard").cloned().unwrap_or(json!([0, 1])),
                    "application": {"id": APP_ID.to_string(), "flags": 0},
                    "private_channels": [],
                    "relationships": [],
                    "presences": [],
                    "guild_join_requests": [],
                    "geo_ordered_rtc_regions": [],
                    "auth": {},
                    "_trace": ["[\"fake-gateway\",{}]"],
                }});
                let _ = tx.send(Message::text(ready.to_string()));
            }
            Some(6) => {
                let session = d["session_id"].as_str().unwrap_or_default().to_owned();
                let token = d["token"].as_str().unwrap_or_default();
                let valid = token == TOKEN || token.strip_prefix("Bot ") == Some(TOKEN);
                match st.sessions.get_mut(&session) {
                    Some(seq) if valid => {
                        *seq += 1;
                        let resumed =
                            json!({"op": 0, "t": "RESUMED", "s": *seq, "d": {"_trace": []}});
                        if let Some(conn) = st.conns.get_mut(&conn_id) {
                            conn.session = Some(session);
                        }
                        let _ = tx.send(Message::text(resumed.to_string()));
                    }
                    _ => {
                        let _ = tx.send(Message::text(
                            json!({"op": 9, "s": null, "t": null, "d": false}).to_string(),
                        ));
                    }
                }
            }
            // Presence updates, member requests, voice: recorded only.
            Some(3 | 4 | 8 | 31) => {}
            _ => {
                let _ = tx.send(close(4001, "Unknown opcode."));
                break;
            }
        }
    }
    ctx.st.lock().unwrap().conns.remove(&conn_id);
    drop(tx);
    let _ = writer.await;
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    }))
}

// ------------------------------------------------------------ fixtures

/// Where an interaction happens.
#[derive(Debug, Clone, Copy)]
pub enum Place {
    /// A text channel of a guild.
    Guild { guild_id: u64, channel_id: u64 },
    /// The user's DM with the bot.
    Dm { channel_id: u64 },
}

/// Who triggers an interaction.
#[derive(Debug, Clone)]
pub struct Invoker {
    pub id: u64,
    pub username: String,
    /// Discord locale, e.g. `en-US`, `ru`.
    pub locale: String,
}

impl Invoker {
    pub fn new(id: u64) -> Self {
        Self {
            id,
            username: format!("user{id}"),
            locale: "en-US".to_owned(),
        }
    }

    #[must_use]
    pub fn locale(mut self, locale: &str) -> Self {
        locale.clone_into(&mut self.locale);
        self
    }
}

/// A typed option of a slash command.
#[derive(Debug, Clone)]
pub struct Opt {
    pub name: String,
    /// 3 string, 4 integer, 10 number.
    pub kind: u8,
    pub value: Value,
    pub focused: bool,
}

impl Opt {
    pub fn string(name: &str, value: &str) -> Self {
        Self::new(name, 3, json!(value))
    }

    pub fn integer(name: &str, value: i64) -> Self {
        Self::new(name, 4, json!(value))
    }

    pub fn number(name: &str, value: f64) -> Self {
        Self::new(name, 10, json!(value))
    }

    /// The option being typed (autocomplete).
    #[must_use]
    pub fn focused(mut self) -> Self {
        self.focused = true;
        self
    }

    fn new(name: &str, kind: u8, value: Value) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            value,
            focused: false,
        }
    }

    fn to_json(&self) -> Value {
        let mut o = json!({"name": self.name, "type": self.kind, "value": self.value});
        if self.focused {
            o["focused"] = json!(true);
        }
        o
    }
}

/// Permissions Discord reports for a bot with the usual text rights.
const APP_PERMISSIONS: &str = "2248473465835073";
const MEMBER_PERMISSIONS: &str = "2248473465835073";

/// A stable command id for a name, as if Discord had registered it.
pub fn command_id(name: &str) -> u64 {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    1_200_000_000_000_000_000 + h % 100_000_000_000_000_000
}

/// A message the bot sent, as Discord returns it, for component fixtures
/// when the fake did not see the message.
pub fn bot_message(channel_id: u64, content: &str, components: &Value) -> Value {
    message_object(
        channel_id,
        &json!({"content": content, "components": components}),
        &[],
        None,
    )
}

/// The fields every `APIInteraction` carries, for `place` and `who`.
fn base(kind: u8, place: Place, who: &Invoker) -> Value {
    let id = snowflake();
    let token = format!(
        "aW50ZXJhY3Rpb246{id}:{}",
        u128::from(snowflake()) * 0x2545_F491_4F6C_DD1D
    );
    let person = user(who.id, &who.username);
    let mut i = json!({
        "id": id.to_string(),
        "application_id": APP_ID.to_string(),
        "type": kind,
        "token": token,
        "version": 1,
        "app_permissions": APP_PERMISSIONS,
        "locale": who.locale,
        "entitlements": [],
        "attachment_size_limit": 10_485_760,
    });
    match place {
        Place::Guild {
            guild_id,
            channel_id,
        } => {
            i["guild_id"] = json!(guild_id.to_string());
            i["guild"] = json!({"id": guild_id.to_string(), "locale": "en-US", "features": []});
            i["guild_locale"] = json!("en-US");
            i["channel_id"] = json!(channel_id.to_string());
            i["channel"] = json!({
                "id": channel_id.to_string(),
                "type": 0,
                "guild_id": guild_id.to_string(),
                "name": "trading",
                "parent_id": null,
                "position": 0,
                "topic": null,
                "nsfw": false,
                "last_message_id": null,
                "rate_limit_per_user": 0,
                "flags": 0,
                "permissions": MEMBER_PERMISSIONS,
            });
            i["member"] = json!({
                "user": person,
                "roles": [],
                "premium_since": null,
                "permissions": MEMBER_PERMISSIONS,
                "pending": false,
                "nick": null,
                "mute": false,
                "joined_at": "2025-01-01T00:00:00.000000+00:00",
                "flags": 0,
                "deaf": false,
                "communication_disabled_until": null,
                "avatar": null,
                "banner": null,
                "unusual_dm_activity_until": null,
            });
            i["authorizing_integration_owners"] = json!({"0": guild_id.to_string()});
            i["context"] = json!(0);
        }
        Place::Dm { channel_id } => {
            i["channel_id"] = json!(channel_id.to_string());
            i["channel"] = dm_channel(channel_id, &person);
            i["user"] = person;
            // A guild-installed app in its bot DM: the owner id is "0".
            i["authorizing_integration_owners"] = json!({"0": "0"});
            i["context"] = json!(1);
        }
    }
    i
}

fn command_data(place: Place, name: &str, options: &[Opt]) -> Value {
    let mut d = json!({
        "id": command_id(name).to_string(),
        "name": name,
        "type": 1,
        "options": options.iter().map(Opt::to_json).collect::<Vec<_>>(),
    });
    if let Place::Guild { guild_id, .. } = place {
        d["guild_id"] = json!(guild_id.to_string());
    }
    d
}

/// A slash command (`type 2`, chat input).
pub fn slash_command(place: Place, who: &Invoker, name: &str, options: &[Opt]) -> Value {
    let mut i = base(2, place, who);
    i["data"] = command_data(place, name, options);
    i
}

/// An autocomplete request (`type 4`); mark the typed option with
/// [`Opt::focused`].
pub fn autocomplete(place: Place, who: &Invoker, name: &str, options: &[Opt]) -> Value {
    let mut i = base(4, place, who);
    i["data"] = command_data(place, name, options);
    i
}

/// A button press (`type 3`, component 2) on `message` (a message object,
/// e.g. [`StoredMessage::object`]).
pub fn button_press(place: Place, who: &Invoker, message: &Value, custom_id: &str) -> Value {
    let mut i = base(3, place, who);
    i["message"] = message.clone();
    i["data"] = json!({"custom_id": custom_id, "component_type": 2});
    i
}

/// A string select choice (`type 3`, component 3) on `message`.
pub fn select_choice(
    place: Place,
    who: &Invoker,
    message: &Value,
    custom_id: &str,
    values: &[&str],
) -> Value {
    let mut i = base(3, place, who);
    i["message"] = message.clone();
    i["data"] = json!({"custom_id": custom_id, "component_type": 3, "values": values});
    i
}

/// A modal submit (`type 5`): one text input (`type 4`) per field, each in
/// its own action row.
pub fn modal_submit(
    place: Place,
    who: &Invoker,
    custom_id: &str,
    fields: &[(&str, &str)],
) -> Value {
    let mut i = base(5, place, who);
    let rows: Vec<Value> = fields
        .iter()
        .map(|(id, value)| json!({"type": 1, "components": [{"type": 4, "custom_id": id, "value": value}]}))
        .collect();
    i["data"] = json!({"custom_id": custom_id, "components": rows});
    i
}

// ------------------------------------------------------------ signing

/// An Ed25519 key pair standing in for an application's, for the HTTP
/// interactions endpoint. Seeded, so tests are deterministic.
pub struct Signer {
    key: ed25519_dalek::SigningKey,
}

impl Signer {
    pub fn from_seed(seed: u64) -> Self {
        let mut secret = [0_u8; 32];
        for (i, chunk) in secret.chunks_mut(8).enumerate() {
            let word = seed
                .wrapping_add(i as u64)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(17);
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        Self {
            key: ed25519_dalek::SigningKey::from_bytes(&secret),
        }
    }

    /// The public key as the developer portal shows it (64 hex digits).
    pub fn public_key_hex(&self) -> String {
        hex(self.key.verifying_key().as_bytes())
    }

    /// Hex signature of `timestamp + body`.
    pub fn sign(&self, timestamp: &str, body: &[u8]) -> String {
        use ed25519_dalek::Signer as _;
        let msg = [timestamp.as_bytes(), body].concat();
        hex(&self.key.sign(&msg).to_bytes())
    }

    /// `X-Signature-Ed25519` and `X-Signature-Timestamp` for `body`, signed
    /// now.
    pub fn headers(&self, body: &[u8]) -> [(&'static str, String); 2] {
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
            .to_string();
        [
            ("X-Signature-Ed25519", self.sign(&ts, body)),
            ("X-Signature-Timestamp", ts),
        ]
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
