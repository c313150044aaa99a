//! TODO: replaced by the feed branch.
use std::sync::Arc;
use std::sync::atomic::AtomicI64;
#[derive(Clone)]
pub struct FeedHandle;
impl FeedHandle {
    pub fn follow(&self, _: crate::domain::WalletAddress) {}
    pub fn unfollow(&self, _: crate::domain::WalletAddress) {}
    pub fn last_frame(&self) -> Arc<AtomicI64> {
        todo!()
    }
}
pub fn spawn(
    _: &crate::config::Settings,
    _: tokio::sync::mpsc::Sender<crate::domain::TradeEvent>,
    _: tokio::sync::watch::Receiver<bool>,
) -> FeedHandle {
    todo!()
}
pub mod sim {
    pub struct Simulator;
    impl Simulator {
        pub fn new(_: u64) -> Self {
            Self
        }
        pub fn demo_wallets(&self, _: usize) -> Vec<crate::domain::WalletAddress> {
            todo!()
        }
    }
}
