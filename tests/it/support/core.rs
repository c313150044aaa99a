//! An application core on a real store, restored, with no chain: the base
//! of the core-level tests.

use std::sync::Arc;

use alfabot::domain::ProfileSettings;
use alfabot::domain::ports::{Clock, SessionStore, SystemClock};
use alfabot::engine::curve::Fees;
use alfabot::engine::{Engine, EngineConfig};
use alfabot::exec::Executor;
use alfabot::exec::paper::PaperExecutor;
use alfabot::service::{Core, CoreParts, Executors, FeedControl, NoSubscriptions};
use alfabot::vault::Vault;

/// A restored core on the store at `db` with the paper executor only, new
/// profiles made with `defaults`, feed subscriptions going to `feed`.
pub async fn paper_core(
    db: &str,
    defaults: ProfileSettings,
    feed: Arc<dyn FeedControl>,
) -> Arc<Core> {
    core_of(db, defaults, feed, None, None).await
}

/// A paper core whose engine clock is `clock` (or the last trade's time,
/// if later): time moves without trades.
pub async fn paper_core_at(
    db: &str,
    defaults: ProfileSettings,
    feed: Arc<dyn FeedControl>,
    clock: Arc<dyn Clock>,
) -> Arc<Core> {
    build(db, defaults, feed, None, None, Some(clock)).await
}

/// A paper core on `clock` whose session store is `sessions` (shared by
/// several instances).
pub async fn paper_core_sharing(
    db: &str,
    clock: Arc<dyn Clock>,
    sessions: Arc<dyn SessionStore>,
) -> Arc<Core> {
    build_with(
        db,
        ProfileSettings::default(),
        Arc::new(NoSubscriptions),
        (None, None),
        Some(clock),
        Some(sessions),
    )
    .await
}

/// A restored core with a live executor and a vault of the caller's
/// choosing.
pub async fn core_of(
    db: &str,
    defaults: ProfileSettings,
    feed: Arc<dyn FeedControl>,
    live: Option<Arc<dyn Executor>>,
    vault: Option<Arc<Vault>>,
) -> Arc<Core> {
    build(db, defaults, feed, live, vault, None).await
}

async fn build(
    db: &str,
    defaults: ProfileSettings,
    feed: Arc<dyn FeedControl>,
    live: Option<Arc<dyn Executor>>,
    vault: Option<Arc<Vault>>,
    clock: Option<Arc<dyn Clock>>,
) -> Arc<Core> {
    build_with(db, defaults, feed, (live, vault), clock, None).await
}

async fn build_with(
    db: &str,
    defaults: ProfileSettings,
    feed: Arc<dyn FeedControl>,
    (live, vault): (Option<Arc<dyn Executor>>, Option<Arc<Vault>>),
    clock: Option<Arc<dyn Clock>>,
    sessions: Option<Arc<dyn SessionStore>>,
) -> Arc<Core> {
    let wall_clock = clock.is_some();
    let store = alfabot::store::connect(db).await.expect("store");
    let sessions = match sessions {
        Some(s) => s,
        None => alfabot::session::connect(None).await.expect("sessions"),
    };
    let core = Arc::new(Core::new(CoreParts {
        engine: Engine::new(EngineConfig::default()),
        store: Arc::new(store),
        sessions,
        feed,
        clock: clock.unwrap_or_else(|| Arc::new(SystemClock)),
        executors: Executors {
            paper: Arc::new(PaperExecutor::new(Fees::default())),
            live,
        },
        defaults,
        wall_clock,
        vault,
        chain: None,
    }));
    core.restore().await.expect("restore");
    core
}
