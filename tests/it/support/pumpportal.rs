//! A fake PumpPortal data socket for end-to-end tests. Home-made: it mimics
//! the behaviour DESIGN §3 describes (acks, account-trade subscriptions,
//! frames only for subscribed traders), not a captured protocol dump.
//!
//! It listens on 127.0.0.1 on a random port, records every client frame,
//! tracks each connection's subscriptions (a dropped connection loses them,
//! as with the real service), and pushes PumpPortal-shaped trade frames to
//! the connections subscribed to the trader or to the token (create frames
//! also go to `subscribeNewToken` connections).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alfabot::domain::{Signature, TradeEvent};
use alfabot::feed::frame::trade_frame;
use alfabot::feed::read_replay;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

/// When a frame left the fake server, for latency measurements.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    pub at: Instant,
    /// Unix milliseconds.
    pub wall_ms: i64,
}

impl Sent {
    fn now() -> Self {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Self {
            at: Instant::now(),
            wall_ms: i64::try_from(wall.as_millis()).unwrap_or(i64::MAX),
        }
    }
}

struct Conn {
    out: mpsc::UnboundedSender<Message>,
    keys: BTreeSet<String>,
    /// `subscribeTokenTrade` mints.
    mints: BTreeSet<String>,
    new_tokens: bool,
    task: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct State {
    received: Vec<String>,
    request_uris: Vec<String>,
    conns: BTreeMap<u64, Conn>,
    accepted: u64,
}

type Shared = Arc<Mutex<State>>;

pub struct FakePumpPortal {
    addr: SocketAddr,
    state: Shared,
    accept: JoinHandle<()>,
}

impl FakePumpPortal {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Shared::default();
        let accept = tokio::spawn(accept_loop(listener, Arc::clone(&state)));
        Self {
            addr,
            state,
            accept,
        }
    }

    /// `ws://127.0.0.1:PORT/api/data`
    pub fn url(&self) -> String {
        format!("ws://{}/api/data", self.addr)
    }

    /// The account keys subscribed on the open connections.
    pub fn subscriptions(&self) -> BTreeSet<String> {
        let s = self.state.lock().unwrap();
        s.conns
            .values()
            .flat_map(|c| c.keys.iter().cloned())
            .collect()
    }

    /// Open connections subscribed to new tokens.
    pub fn new_token_subscribers(&self) -> usize {
        let s = self.state.lock().unwrap();
        s.conns.values().filter(|c| c.new_tokens).count()
    }

    /// Every text frame clients sent, in order.
    pub fn received(&self) -> Vec<String> {
        self.state.lock().unwrap().received.clone()
    }

    /// The request URI of every accepted connection (path and query).
    pub fn request_uris(&self) -> Vec<String> {
        self.state.lock().unwrap().request_uris.clone()
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.state.lock().unwrap().accepted
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.state.lock().unwrap().conns.len()
    }

    /// The token-trade mints subscribed on the open connections.
    pub fn token_subscriptions(&self) -> BTreeSet<String> {
        let s = self.state.lock().unwrap();
        s.conns
            .values()
            .flat_map(|c| c.mints.iter().cloned())
            .collect()
    }

    /// Pushes a trade as a PumpPortal frame to the subscribed connections;
    /// `None` when nobody is subscribed to its trader or its mint.
    pub fn send_trade(&self, ev: &TradeEvent) -> Option<Sent> {
        self.send_frame(&trade_frame(ev))
    }

    /// Pushes a trade frame to the connections subscribed to its
    /// `traderPublicKey` (and, for `create` frames, to `subscribeNewToken`
    /// connections); `None` when nobody got it.
    pub fn send_frame(&self, frame: &Value) -> Option<Sent> {
        let trader = frame["traderPublicKey"].as_str().unwrap_or_default();
        let mint = frame["mint"].as_str().unwrap_or_default();
        let create = frame["txType"] == "create";
        let text = frame.to_string();
        let s = self.state.lock().unwrap();
        let sent = Sent::now();
        let mut delivered = false;
        for c in s.conns.values() {
            if c.keys.contains(trader) || c.mints.contains(mint) || (create && c.new_tokens) {
                delivered |= c.out.send(Message::text(text.clone())).is_ok();
            }
        }
        delivered.then_some(sent)
    }

    /// Pushes the trades in order, like [`Self::send_trade`]; returns the
    /// ones delivered with their send times.
    pub fn play_wallet(&self, trades: &[TradeEvent]) -> Vec<(Signature, Sent)> {
        trades
            .iter()
            .filter_map(|ev| self.send_trade(ev).map(|s| (ev.signature.clone(), s)))
            .collect()
    }

    /// Sends any text to every open connection (malformed frames, acks);
    /// returns how many got it.
    pub fn send_raw(&self, text: &str) -> usize {
        let s = self.state.lock().unwrap();
        s.conns
            .values()
            .filter(|c| c.out.send(Message::text(text.to_owned())).is_ok())
            .count()
    }

    /// Drops every open connection without a close frame (a network cut).
    pub fn disconnect_all(&self) {
        let mut s = self.state.lock().unwrap();
        for (_, mut c) in std::mem::take(&mut s.conns) {
            if let Some(task) = c.task.take() {
                task.abort();
            }
        }
    }

    /// Polls `check` until it holds, panicking after `timeout`.
    pub async fn wait_for(&self, what: &str, timeout: Duration, check: impl Fn(&Self) -> bool) {
        let deadline = Instant::now() + timeout;
        while !check(self) {
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what}; received {:?}",
                self.received()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for FakePumpPortal {
    fn drop(&mut self) {
        self.accept.abort();
        self.disconnect_all();
    }
}

/// PumpPortal trade frames for the recorded on-chain file, reserves rebuilt
/// by the replay logic (live-shaped: no timestamp).
pub fn frames_from_jsonl(path: impl AsRef<Path>) -> anyhow::Result<Vec<Value>> {
    Ok(read_replay(path)?.iter().map(trade_frame).collect())
}

async fn accept_loop(listener: TcpListener, state: Shared) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let st = Arc::clone(&state);
        let uri = Arc::new(Mutex::new(String::new()));
        let uri_cb = Arc::clone(&uri);
        // The `Err` type is tungstenite's; this callback never returns it.
        #[allow(clippy::result_large_err, reason = "signature fixed by tungstenite")]
        let callback = move |req: &Request, resp: Response| {
            *uri_cb.lock().unwrap() = req.uri().to_string();
            Ok(resp)
        };
        let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
            continue;
        };
        let (out, rx) = mpsc::unbounded_channel();
        let id = {
            let mut s = st.lock().unwrap();
            s.accepted += 1;
            s.request_uris.push(uri.lock().unwrap().clone());
            let id = s.accepted;
            s.conns.insert(
                id,
                Conn {
                    out,
                    keys: BTreeSet::new(),
                    mints: BTreeSet::new(),
                    new_tokens: false,
                    task: None,
                },
            );
            id
        };
        let task = tokio::spawn(serve(ws, rx, id, Arc::clone(&st)));
        if let Some(c) = st.lock().unwrap().conns.get_mut(&id) {
            c.task = Some(task);
        }
    }
}

async fn serve(
    mut ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    mut rx: mpsc::UnboundedReceiver<Message>,
    id: u64,
    state: Shared,
) {
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(msg) => if ws.send(msg).await.is_err() { break },
                None => break,
            },
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    if let Some(ack) = on_client_frame(&state, id, text.as_str())
                        && ws.send(Message::text(ack)).await.is_err()
                    {
                        break;
                    }
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    state.lock().unwrap().conns.remove(&id);
}

/// Records a client frame and updates its subscriptions; returns the ack.
fn on_client_frame(state: &Shared, id: u64, text: &str) -> Option<String> {
    let mut s = state.lock().unwrap();
    s.received.push(text.to_owned());
    let v: Value = serde_json::from_str(text).ok()?;
    let keys: Vec<String> = v["keys"]
        .as_array()
        .map(|ks| {
            ks.iter()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let conn = s.conns.get_mut(&id)?;
    let message = match v["method"].as_str()? {
        "subscribeNewToken" => {
            conn.new_tokens = true;
            "Successfully subscribed to token creation events."
        }
        "unsubscribeNewToken" => {
            conn.new_tokens = false;
            "Unsubscribed from token creation events."
        }
        "subscribeAccountTrade" => {
            conn.keys.extend(keys);
            "Successfully subscribed to keys."
        }
        "unsubscribeAccountTrade" => {
            for k in &keys {
                conn.keys.remove(k);
            }
            "Unsubscribed from keys."
        }
        "subscribeTokenTrade" => {
            conn.mints.extend(keys);
            "Successfully subscribed to keys."
        }
        "unsubscribeTokenTrade" => {
            for k in &keys {
                conn.mints.remove(k);
            }
            "Unsubscribed from keys."
        }
        _ => return None,
    };
    Some(json!({ "message": message }).to_string())
}
