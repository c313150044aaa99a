//! HTTP: `/healthz` (feed liveness: a frame in the last 30 s) and
//! `/metrics` (Prometheus text). The dashboard comes later.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::sync::watch;

use crate::service::Core;

/// A live feed is unhealthy after this long without a frame.
pub const FEED_STALE_MS: i64 = 30_000;

#[derive(Clone)]
pub struct WebState {
    pub core: Arc<Core>,
    /// Unix ms of the last feed frame (0 = none yet).
    pub last_frame_ms: Arc<AtomicI64>,
    /// Whether staleness matters (live feeds; a finished replay is fine).
    pub live_feed: bool,
}

pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn healthz(State(s): State<WebState>) -> impl IntoResponse {
    let last = s.last_frame_ms.load(Relaxed);
    let age = if last == 0 {
        None
    } else {
        Some(s.core.now_ms() - last)
    };
    let healthy = !s.live_feed || age.is_some_and(|a| a <= FEED_STALE_MS);
    let body = serde_json::json!({
        "status": if healthy { "ok" } else { "feed_stale" },
        "feed_last_frame_age_ms": age,
    });
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(body))
}

async fn metrics(State(s): State<WebState>) -> impl IntoResponse {
    let c = &s.core.counters;
    let mut out = String::new();
    for (name, help, v) in [
        (
            "alfabot_trades_total",
            "Trades processed by the engine",
            c.trades.load(Relaxed),
        ),
        (
            "alfabot_alerts_total",
            "Alerts queued",
            c.alerts.load(Relaxed),
        ),
        (
            "alfabot_paper_fills_total",
            "Paper fills recorded",
            c.fills.load(Relaxed),
        ),
        (
            "alfabot_copy_skips_total",
            "Copies skipped",
            c.skips.load(Relaxed),
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
        );
    }
    ([("content-type", "text/plain; version=0.0.4")], out)
}

/// Serves until shutdown.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: WebState,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            let _ = shutdown.changed().await;
        })
        .await?;
    Ok(())
}
