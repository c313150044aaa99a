//! The paper executor: fills priced on the bonding curve as it stood a
//! configurable latency after the leader's trade (the application runs the
//! order when the engine clock reaches [`Executor::ready_at`] and passes the
//! curve then), with the curve's fee table, the network and priority fees a
//! live swap would pay, and the slippage cap: a fill worse than the order's
//! `min_out` is a skip with its reason. Paper fills do not move the curve.

use async_trait::async_trait;

use super::{Executor, Market};
use crate::domain::ports::{OrderRecord, OrderStatus};
use crate::domain::{Execution, Lamports, Order, Side, SkipReason, TokenAmount};
use crate::engine::RiskApproved;
use crate::engine::curve::{Curve, Fees};

/// Solana's base fee for one signature.
pub const BASE_FEE: Lamports = Lamports(5_000);

#[derive(Debug, Clone, Copy)]
pub struct PaperExecutor {
    fees: Fees,
}

impl PaperExecutor {
    #[must_use]
    pub const fn new(fees: Fees) -> Self {
        Self { fees }
    }

    /// The fill of `order` on `curve` at `at_ms` (pure).
    #[must_use]
    pub fn fill(&self, order: &Order, curve: Option<Curve>, at_ms: i64) -> Execution {
        let reject = |reason| Execution::Rejected { reason, at_ms };
        let Some(curve) = curve else {
            return reject(SkipReason::OffCurve);
        };
        let network = BASE_FEE.0.saturating_add(order.priority_fee.0);
        match order.side {
            Side::Buy => {
                if curve.is_complete() {
                    return reject(SkipReason::CurveComplete);
                }
                let q = curve.quote_buy(order.sol_in, self.fees);
                if q.tokens.0 == 0 {
                    return reject(SkipReason::TooSmall);
                }
                if q.tokens.0 < order.min_out {
                    return reject(SkipReason::Slippage {
                        expected: order.expected_out,
                        got: q.tokens.0,
                    });
                }
                Execution::Filled {
                    sol: Lamports(q.sol.0.saturating_add(network)),
                    tokens: q.tokens,
                    fee: Lamports(q.fee.0.saturating_add(network)),
                    tx: None,
                    at_ms,
                }
            }
            Side::Sell => {
                let q = curve.quote_sell(order.tokens_in, self.fees);
                if q.sol.0 < order.min_out {
                    return reject(SkipReason::Slippage {
                        expected: order.expected_out,
                        got: q.sol.0,
                    });
                }
                Execution::Filled {
                    sol: Lamports(q.sol.0.saturating_sub(network)),
                    tokens: TokenAmount(order.tokens_in.0),
                    fee: Lamports(q.fee.0.saturating_add(network)),
                    tx: None,
                    at_ms,
                }
            }
        }
    }
}

#[async_trait]
impl Executor for PaperExecutor {
    fn ready_at(&self, order: &Order) -> Option<i64> {
        Some(order.trigger_ms + i64::from(order.latency_ms))
    }

    async fn execute(
        &self,
        order: &RiskApproved<Order>,
        market: &Market,
    ) -> anyhow::Result<Execution> {
        let at = market
            .now_ms
            .max(self.ready_at(order).unwrap_or(market.now_ms));
        Ok(self.fill(order, market.curve, at))
    }

    /// A paper order left unfinished by a stopped process is not filled
    /// late at a price it never saw.
    async fn reconcile(
        &self,
        record: &OrderRecord,
        market: &Market,
    ) -> anyhow::Result<Option<Execution>> {
        Ok(match record.status {
            OrderStatus::Pending | OrderStatus::Sent => Some(Execution::Rejected {
                reason: SkipReason::Interrupted,
                at_ms: market.now_ms,
            }),
            OrderStatus::Filled | OrderStatus::Rejected => None,
        })
    }
}
