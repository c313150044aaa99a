//! Bootstrap only: telemetry, configuration, build the app, run until
//! stopped. Subcommands for operations.
#![forbid(unsafe_code)]

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use secrecy::ExposeSecret as _;

use alfabot::app::App;
use alfabot::config::Settings;

#[derive(Parser)]
#[command(
    name = "alfabot",
    version,
    about = "Chat-first Solana copy trading and smart-money tracking"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the bot (the default).
    Run,
    /// Apply database migrations and exit.
    Migrate,
    /// Run the simulator through the analytics engine and score the
    /// leaderboard and flags against the simulator's wallet labels.
    Sim {
        #[arg(long, default_value_t = alfabot::feed::DEFAULT_SIM_SEED)]
        seed: u64,
        /// Simulated (event-time) minutes (60 by default: the Bayesian
        /// window, as the acceptance runs it).
        #[arg(long, default_value_t = 60)]
        minutes: u32,
        /// Print the report and exit (no chat, no database).
        #[arg(long, required = true)]
        report: bool,
    },
    /// Wallet key custody.
    Keys {
        #[command(subcommand)]
        action: KeysCmd,
    },
    /// Run a replay file through the analytics engine at full speed.
    Replay {
        path: std::path::PathBuf,
        /// Print the report and exit (no chat, no database).
        #[arg(long, required = true)]
        report: bool,
    },
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Re-encrypt every stored wallet key under the newest master key (the
    /// last of ALFABOT_MASTER_KEY or the key file; keep the old keys listed
    /// until this has run).
    Rotate,
    /// Print a fresh random master key (base64) to append for a rotation.
    New,
}

fn main() -> anyhow::Result<()> {
    alfabot::telemetry::init();
    let cli = Cli::parse();
    match cli.command {
        Some(Cmd::Sim { seed, minutes, .. }) => {
            let cfg = alfabot::engine::analytics::AnalyticsConfig::default();
            print!("{}", alfabot::backtest::sim_report(seed, minutes, cfg));
            return Ok(());
        }
        Some(Cmd::Replay { path, .. }) => {
            print!("{}", alfabot::backtest::replay_report(&path)?);
            return Ok(());
        }
        _ => {}
    }
    let settings = Settings::load()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?;
    rt.block_on(async move {
        match cli.command.unwrap_or(Cmd::Run) {
            Cmd::Run => App::build(settings).await?.run_until_stopped().await,
            Cmd::Migrate => {
                alfabot::store::migrate(settings.database_url.expose_secret()).await?;
                tracing::info!("migrations applied");
                Ok(())
            }
            Cmd::Keys {
                action: KeysCmd::New,
            } => {
                println!("{}", alfabot::vault::MasterKeys::generate_base64().as_str());
                Ok(())
            }
            Cmd::Keys {
                action: KeysCmd::Rotate,
            } => {
                let report = alfabot::vault::rotate_all(&settings).await?;
                println!("{report}");
                Ok(())
            }
            Cmd::Sim { .. } | Cmd::Replay { .. } => unreachable!("handled before the runtime"),
        }
    })
}
