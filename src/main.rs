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
}

fn main() -> anyhow::Result<()> {
    alfabot::telemetry::init();
    let cli = Cli::parse();
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
        }
    })
}
