//! An application core on a real store with the paper executor only and
//! no feed subscriptions: the base of the core-level tests.

use std::sync::Arc;

use alfabot::domain::ProfileSettings;
use alfabot::domain::ports::SystemClock;
use alfabot::engine::curve::Fees;
use alfabot::engine::{Engine, EngineConfig};
use alfabot::exec::paper::PaperExecutor;
use alfabot::service::{Core, CoreParts, Executors, FeedControl};

/// A restored core on the store at `db`, new profiles made with
/// `defaults`, feed subscriptions going to `feed`.
pub async fn paper_core(
    db: &str,
    defaults: ProfileSettings,
    feed: Arc<dyn FeedControl>,
) -> Arc<Core> {
    let store = alfabot::store::connect(db).await.expect("store");
    let sessions = alfabot::session::connect(None).await.expect("sessions");
    let core = Arc::new(Core::new(CoreParts {
        engine: Engine::new(EngineConfig::default()),
        store: Arc::new(store),
        sessions,
        feed,
        clock: Arc::new(SystemClock),
        executors: Executors {
            paper: Arc::new(PaperExecutor::new(Fees::default())),
            live: None,
        },
        defaults,
        wall_clock: false,
        vault: None,
        chain: None,
    }));
    core.restore().await.expect("restore");
    core
}
