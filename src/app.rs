//! The composition root: the only place that knows concrete adapters. It
//! builds the store, sessions, engine, feed and transports, spawns the
//! workers (engine, analytics flush, delivery, transports, HTTP), and stops
//! them all on one shutdown signal, saving wallet analytics one last time.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context as _;
use secrecy::ExposeSecret as _;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::chat::ChatService;
use crate::config::Settings;
use crate::console::{CONSOLE_USER, Console};
use crate::domain::ports::SystemClock;
use crate::domain::{Platform, ProfileSettings, TradeEvent};
use crate::engine::analytics::AnalyticsConfig;
use crate::engine::curve::Fees;
use crate::engine::{Engine, EngineConfig};
use crate::exec::paper::PaperExecutor;
use crate::feed::{self, FeedHandle, FeedSpec};
use crate::notify::{ChatSender, Delivery};
use crate::service::{Core, CoreParts, Executors};
use crate::web::WebState;
use crate::{session, store, telegram};

pub struct App {
    settings: Settings,
    core: Arc<Core>,
    feed: FeedHandle,
    events: mpsc::Receiver<TradeEvent>,
    http: tokio::net::TcpListener,
    shutdown_tx: watch::Sender<bool>,
}

impl App {
    /// Connects and migrates the store, connects sessions, starts the feed
    /// and restores the engine. Fails with a clear error on any
    /// misconfiguration, before anything is served.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = store::connect(settings.database_url.expose_secret())
            .await
            .context("open the database (DATABASE_URL)")?;
        let sessions = session::connect(settings.redis_url.as_ref().map(|u| u.expose_secret()))
            .await
            .context("connect the session store (REDIS_URL)")?;
        let http = tokio::net::TcpListener::bind(settings.http_addr)
            .await
            .with_context(|| format!("listen on ALFABOT_HTTP_ADDR {}", settings.http_addr))?;

        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let (tx, events) = mpsc::channel(65_536);
        let feed = feed::spawn(
            settings.feed.clone(),
            settings.feed_settings.clone(),
            tx,
            shutdown_rx,
        )
        .context("start the trade feed (ALFABOT_FEED)")?;

        let fees = Fees {
            protocol: settings.fee_bps,
            creator: crate::domain::Bps::default(),
        };
        let engine = Engine::new(EngineConfig {
            fees,
            analytics: AnalyticsConfig {
                fee_bps: u32::from(settings.fee_bps.get()),
                min_outcomes: settings.analytics_min_outcomes,
                ..AnalyticsConfig::default()
            },
            ..EngineConfig::default()
        });
        let defaults = ProfileSettings {
            mode: settings.mode,
            buy_sol: settings.copy_size,
            ..ProfileSettings::default()
        };
        let (vault, source) = crate::vault::load_or_create(
            settings.master_key.as_ref().map(|k| k.expose_secret()),
            settings.master_key_file.as_deref(),
            std::path::Path::new("."),
        )
        .context("open the key vault (ALFABOT_MASTER_KEY / ALFABOT_MASTER_KEY_FILE)")?;
        match &source {
            crate::vault::KeySource::Generated(path) => tracing::warn!(
                file = %path.display(),
                "generated a new master key for the wallet vault: back this file up and keep it \
                 private; without it stored wallet keys cannot be opened"
            ),
            other => tracing::info!(source = ?other, "wallet vault ready"),
        }
        let vault = Arc::new(vault);
        let store: Arc<dyn crate::domain::ports::Store> = Arc::new(store);
        let chain = Arc::new(crate::exec::chain::Chain::new(
            settings.solana_rpc_url.as_str(),
            RPC_TIMEOUT,
        ));
        let jupiter = crate::exec::jupiter::Jupiter::new(
            settings.jupiter_api_url.as_str(),
            settings.jupiter_api_key.clone(),
            RPC_TIMEOUT,
        )
        .context("set up the Jupiter client (JUPITER_API_URL)")?;
        let live = crate::exec::live::LiveExecutor::new(
            crate::exec::swap::Swapper::new(
                crate::exec::chain::Chain::new(settings.solana_rpc_url.as_str(), RPC_TIMEOUT),
                jupiter,
            ),
            Arc::clone(&vault),
            Arc::clone(&store),
            Arc::new(SystemClock),
        );
        let core = Arc::new(
            Core::new(CoreParts {
                engine,
                store,
                sessions,
                feed: Arc::new(feed.clone()),
                clock: Arc::new(SystemClock),
                executors: Executors {
                    paper: Arc::new(PaperExecutor::new(fees)),
                    live: Some(Arc::new(live)),
                },
                defaults,
                wall_clock: matches!(settings.feed, FeedSpec::PumpPortal),
                vault: Some(vault),
                chain: Some(chain),
            })
            .with_key_recovery(settings.key_recovery),
        );
        // Before `run_until_stopped` starts the engine worker: the feed's
        // first events wait in the channel until analytics is restored.
        let restored = core.restore().await.context("restore state")?;
        tracing::info!(
            follows = restored.follows,
            positions = restored.positions,
            wallets = restored.wallets,
            "state restored"
        );
        Ok(Self {
            settings,
            core,
            feed,
            events,
            http,
            shutdown_tx,
        })
    }

    /// The address the HTTP server listens on.
    pub fn http_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.http.local_addr()
    }

    /// Runs every worker until Ctrl-C / SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            settings,
            core,
            feed,
            mut events,
            http,
            shutdown_tx,
        } = self;
        let shutdown = shutdown_tx.subscribe();
        let mut tasks = JoinSet::new();
        let mut senders: HashMap<Platform, Arc<dyn ChatSender>> = HashMap::new();

        // Engine worker: one consumer, so trades are processed in order.
        {
            let core = Arc::clone(&core);
            tasks.spawn(async move {
                while let Some(ev) = events.recv().await {
                    if let Err(e) = core.ingest(&ev).await {
                        tracing::error!(error = format!("{e:#}"), sig = %ev.signature, "ingest failed");
                    }
                }
            });
        }

        // Persistence of analytics and exit states: batches every few
        // seconds, never per event.
        {
            let core = Arc::clone(&core);
            tasks.spawn(every(
                settings.analytics_flush,
                false,
                shutdown.clone(),
                move || {
                    let core = Arc::clone(&core);
                    async move { flush(&core).await }
                },
            ));
        }

        // The clock between trades: paper latency, time-based exits, day
        // roll-overs; and, less often, live orders whose outcome is unknown.
        {
            let core = Arc::clone(&core);
            let mut n: u64 = 0;
            tasks.spawn(every(TICK, true, shutdown.clone(), move || {
                n += 1;
                let reconcile = n.is_multiple_of(RECONCILE_EVERY_TICKS);
                let core = Arc::clone(&core);
                async move {
                    if let Err(e) = core.tick().await {
                        tracing::error!(error = format!("{e:#}"), "tick failed");
                    }
                    if reconcile && let Err(e) = core.reconcile().await {
                        tracing::error!(error = format!("{e:#}"), "reconciling orders failed");
                    }
                }
            }));
        }

        // Deleted wallet keys past their recovery period are purged, at
        // start and then every few minutes (idempotent; several instances
        // may run it).
        {
            let core = Arc::clone(&core);
            tasks.spawn(every(PURGE_KEYS_EVERY, true, shutdown.clone(), move || {
                let core = Arc::clone(&core);
                async move {
                    if let Err(e) = core.purge_deleted_keys().await {
                        tracing::error!(error = format!("{e:#}"), "purging deleted keys failed");
                    }
                }
            }));
        }

        let mut bot_username = None;
        let tg_bot = match &settings.telegram {
            Some(tg) => {
                let bot = telegram::bot(tg);
                bot_username = telegram::prepare(&bot).await?;
                tracing::info!(username = ?bot_username, "Telegram connected");
                senders.insert(
                    Platform::Telegram,
                    Arc::new(telegram::TelegramSender::new(bot.clone())),
                );
                Some(bot)
            }
            None => None,
        };
        let discord = match &settings.discord {
            Some(d) => {
                let discord = crate::discord::prepare(d).await?;
                senders.insert(Platform::Discord, Arc::new(discord.sender()));
                Some(discord)
            }
            None => None,
        };
        let service = Arc::new(ChatService::new(Arc::clone(&core), bot_username));
        if let Some(bot) = tg_bot {
            tasks.spawn(telegram::run(bot, Arc::clone(&service), shutdown.clone()));
        }
        let mut extra_routes = None;
        if let Some(discord) = discord {
            let handler = discord.handler(Arc::clone(&service));
            extra_routes = discord.endpoint(Arc::clone(&handler)).map(|e| e.router());
            tracing::info!(http_interactions = discord.over_http(), "Discord connected");
            tasks.spawn(discord.run(handler, Arc::clone(&service), shutdown.clone()));
        }

        if settings.console_enabled() {
            let console = Arc::new(Console::default());
            senders.insert(Platform::Console, console.clone());
            if let FeedSpec::Sim { seed } = settings.feed {
                demo_follows(&core, seed, settings.demo_follows).await?;
            }
            tasks.spawn(console.run(Arc::clone(&service), shutdown.clone()));
            println!("alfabot console: type /help (Ctrl-C to quit)\n");
        }

        tasks.spawn(Delivery::new(Arc::clone(&core), senders).run(shutdown.clone()));

        let web = WebState {
            core: Arc::clone(&core),
            feed: feed.clone(),
        };
        tracing::info!(addr = %http.local_addr()?, "HTTP listening");
        tasks.spawn(async move {
            if let Err(e) = crate::web::serve(http, web, extra_routes, shutdown).await {
                tracing::error!(error = format!("{e:#}"), "HTTP server stopped");
            }
        });

        wait_for_signal().await;
        tracing::info!("shutting down");
        let _ = shutdown_tx.send(true);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        // After the engine worker stopped: nothing changes behind this save.
        flush(&core).await;
        Ok(())
    }
}

/// Timeout of one RPC or swap API request.
const RPC_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);
/// How often the clock ticks between trades.
const TICK: std::time::Duration = std::time::Duration::from_millis(250);
/// How often deleted wallet keys past their recovery period are purged.
const PURGE_KEYS_EVERY: std::time::Duration = std::time::Duration::from_secs(300);
/// Unfinished live orders are reconciled every this many ticks (30 s).
const RECONCILE_EVERY_TICKS: u64 = 120;

/// Runs `job` every `period` until shutdown: the first time at once if
/// `at_start`, else after one period. A late run delays the next ones
/// rather than bunching them.
async fn every<F, Fut>(
    period: std::time::Duration,
    at_start: bool,
    mut shutdown: watch::Receiver<bool>,
    mut job: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    if !at_start {
        tick.tick().await; // the first tick is immediate
    }
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => break,
        }
        job().await;
    }
}

/// Saves changed analytics and exit states; a failure is logged and
/// retried by the next flush (the core keeps the states).
async fn flush(core: &Core) {
    match core.flush().await {
        Ok(0) => {}
        Ok(saved) => tracing::debug!(saved, "wallet analytics saved"),
        Err(e) => tracing::error!(error = format!("{e:#}"), "saving state failed"),
    }
}

/// On the simulator, the console user follows a few of its busiest wallets
/// so the demo shows alerts and paper copies within a minute.
async fn demo_follows(core: &Core, seed: u64, n: usize) -> anyhow::Result<()> {
    if n == 0 || !core.follows(CONSOLE_USER).await?.is_empty() {
        return Ok(());
    }
    let user = core.user(CONSOLE_USER, None).await?;
    for wallet in feed::Simulator::new(seed).demo_wallets(n) {
        core.follow(&user, wallet).await?;
        println!("demo: following simulated wallet {wallet}");
    }
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
