//! Executors: what turns an approved order into a fill. One trait, two
//! implementations chosen by the order's mode: [`paper::PaperExecutor`]
//! prices fills on the bonding curve, [`live::LiveExecutor`] signs and sends
//! swaps. The decision path before them is one and the same (the engine);
//! an executor never decides whether to trade, only how the trade went.
//!
//! Contract for every executor:
//! - `execute` runs after the order's idempotency key is stored, once per
//!   key; it returns `Filled` or `Rejected` (nothing happened), or an error
//!   when the outcome is unknown (the order stays unfinished and is
//!   reconciled later, never sent again blindly);
//! - `reconcile` settles an order a previous process left unfinished.
//!
//! The live side's building blocks: the Solana RPC wrapper (`chain`), the
//! Jupiter swap API client (`jupiter`) and the swap flow that ties them
//! together (`swap`). This is the adapter side: it may use solana and HTTP
//! crates; `src/engine` and `src/domain` never import anything from here or
//! from a solana crate (CI greps for it).

pub mod chain;
pub mod jupiter;
pub mod live;
pub mod paper;
pub mod swap;

use async_trait::async_trait;

use crate::domain::ports::OrderRecord;
use crate::domain::{Execution, Order};
use crate::engine::RiskApproved;
use crate::engine::curve::Curve;

/// What an executor sees of the market when it runs: the order's mint's
/// curve on the engine clock (paper fills are priced on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Market {
    pub curve: Option<Curve>,
    pub now_ms: i64,
}

#[async_trait]
pub trait Executor: Send + Sync {
    /// The earliest engine time the order may run (paper latency); `None`
    /// runs it at once.
    fn ready_at(&self, order: &Order) -> Option<i64>;

    /// Executes an approved order (see the module contract).
    async fn execute(
        &self,
        order: &RiskApproved<Order>,
        market: &Market,
    ) -> anyhow::Result<Execution>;

    /// Settles an order left pending or sent by an earlier process; `None`
    /// when its outcome cannot be known yet (try again later).
    async fn reconcile(
        &self,
        record: &OrderRecord,
        market: &Market,
    ) -> anyhow::Result<Option<Execution>>;
}
