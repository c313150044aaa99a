//! HTTP: `/healthz` (feed liveness: a frame in the last 30 s) and
//! `/metrics` (Prometheus text). The dashboard comes later.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::sync::watch;

use crate::feed::FeedHandle;
use crate::service::Core;

#[derive(Clone)]
pub struct WebState {
    pub core: Arc<Core>,
    pub feed: FeedHandle,
}

pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn healthz(State(s): State<WebState>) -> impl IntoResponse {
    let now = s.core.now_ms();
    let age = s.feed.last_frame_ms().map(|last| now - last);
    let healthy = s.feed.is_healthy(now);
    let body = serde_json::json!({
        "status": if healthy { "ok" } else { "feed_unhealthy" },
        "feed": s.feed.kind(),
        "feed_connected": s.feed.is_connected(),
        "feed_finished": s.feed.is_finished(),
        "feed_last_frame_age_ms": age,
        "feed_events": s.feed.events(),
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
            "alfabot_orders_total",
            "Approved orders recorded and handed to an executor",
            c.orders.load(Relaxed),
        ),
        (
            "alfabot_fills_total",
            "Fills recorded (paper and live)",
            c.fills.load(Relaxed),
        ),
        (
            "alfabot_order_rejects_total",
            "Orders an executor did not execute",
            c.rejects.load(Relaxed),
        ),
        (
            "alfabot_copy_skips_total",
            "Copies skipped (with a reason in the skip log)",
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
    extra: Option<Router>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let app = match extra {
        Some(more) => router(state).merge(more),
        None => router(state),
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = shutdown.changed().await;
        })
        .await?;
    Ok(())
}
