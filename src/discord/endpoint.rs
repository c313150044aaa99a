//! `POST /discord/interactions`: Discord's HTTP way in, served on
//! `ALFABOT_HTTP_ADDR` when `DISCORD_PUBLIC_KEY` is set. Every post is
//! checked before anything is read from it: the Ed25519 signature in
//! `X-Signature-Ed25519` over `X-Signature-Timestamp` + the body (serenity's
//! `Verifier`), and a timestamp within five minutes of now; otherwise 401.
//! A PING is answered `{"type":1}`; anything else gets its first answer
//! as the response body (a command's deferral at once, a press's answer
//! within two seconds), the rest through the interaction's webhook.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serenity::all::{CreateInteractionResponse, Interaction};
use serenity::interactions_endpoint::Verifier;
use tokio::sync::oneshot;

use super::interactions::{Handler, HttpReply};

/// The route.
pub const PATH: &str = "/discord/interactions";
/// Oldest (and furthest ahead) timestamp accepted, in seconds.
const MAX_SKEW_S: i64 = 300;
/// Largest body accepted (interactions are a few KiB).
const MAX_BODY: usize = 64 * 1024;
/// How long the post waits for the first answer before deferring itself
/// (Discord allows 3 s).
const FIRST_ANSWER_WITHIN: Duration = Duration::from_millis(2_500);

/// Parses the public key (64 hex digits).
pub fn verifier(hex: &str) -> anyhow::Result<Verifier> {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect::<Option<_>>()
        .ok_or_else(|| anyhow::anyhow!("not hex"))?;
    let key: [u8; 32] = bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("not 32 bytes"))?;
    Verifier::try_new(key).map_err(|_| anyhow::anyhow!("not a valid Ed25519 point"))
}

#[derive(Clone)]
pub struct Endpoint {
    verifier: Arc<Verifier>,
    handler: Arc<Handler>,
}

impl Endpoint {
    pub fn new(public_key: &str, handler: Arc<Handler>) -> anyhow::Result<Self> {
        Ok(Self {
            verifier: Arc::new(verifier(public_key)?),
            handler,
        })
    }

    /// The route, to merge into the HTTP server.
    pub fn router(self) -> Router {
        Router::new()
            .route(PATH, post(interactions))
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(self)
    }
}

fn unauthorized(why: &'static str) -> Response {
    tracing::info!(why, "Discord interaction refused");
    (StatusCode::UNAUTHORIZED, why).into_response()
}

/// Whether the signed timestamp is close enough to now.
fn fresh(timestamp: &str, now_s: i64) -> bool {
    timestamp
        .parse::<i64>()
        .is_ok_and(|ts| (now_s - ts).abs() <= MAX_SKEW_S)
}

async fn interactions(State(e): State<Endpoint>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(signature), Some(timestamp)) = (
        header("x-signature-ed25519"),
        header("x-signature-timestamp"),
    ) else {
        return unauthorized("missing signature");
    };
    if e.verifier.verify(signature, timestamp, &body).is_err() {
        return unauthorized("bad signature");
    }
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    if !fresh(timestamp, now_s) {
        return unauthorized("stale timestamp");
    }
    let interaction: Interaction = match serde_json::from_slice(&body) {
        Ok(i) => i,
        Err(err) => {
            tracing::warn!(error = %err, "a signed Discord interaction could not be read");
            return (StatusCode::BAD_REQUEST, "unreadable interaction").into_response();
        }
    };
    if matches!(interaction, Interaction::Ping(_)) {
        return axum::Json(serde_json::json!({ "type": 1 })).into_response();
    }
    let is_command = matches!(interaction, Interaction::Command(_));
    let (tx, rx) = oneshot::channel();
    let handler = Arc::clone(&e.handler);
    tokio::spawn(async move { handler.interaction(interaction, HttpReply(tx)).await });
    let answer = match tokio::time::timeout(FIRST_ANSWER_WITHIN, rx).await {
        Ok(Ok(answer)) => answer,
        // The handler gave up or is slow: defer, so Discord does not show
        // a failure; its later answer goes nowhere and is logged.
        _ if is_command => CreateInteractionResponse::Defer(Default::default()),
        _ => CreateInteractionResponse::Acknowledge,
    };
    axum::Json(answer).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_more_than_five_minutes_off_are_stale() {
        assert!(fresh("1000", 1000));
        assert!(fresh("700", 1000));
        assert!(!fresh("699", 1000));
        assert!(!fresh("1301", 1000));
        assert!(!fresh("soon", 1000));
    }

    #[test]
    fn public_keys_must_be_32_bytes_of_hex_on_the_curve() {
        assert!(verifier(&"00".repeat(31)).is_err());
        assert!(verifier("zz").is_err());
        // The Ed25519 base point's compressed form is a valid key.
        assert!(
            verifier("5866666666666666666666666666666666666666666666666666666666666666").is_ok()
        );
    }
}
