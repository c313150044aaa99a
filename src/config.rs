//! Typed settings: `alfabot.toml` (or the file named by `ALFABOT_CONFIG`),
//! then environment variables, which win. Keys in the file are the variable
//! names in lower case (`database_url = "…"`). Validated once at start with
//! errors that name the variable; secrets are wrapped and never printed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use secrecy::SecretString;
use url::Url;

pub use crate::domain::Mode;
use crate::domain::{Bps, Lamports};
use crate::engine::analytics::AnalyticsConfig;
use crate::feed::pumpportal::PumpPortalSettings;
use crate::feed::{FeedSettings, FeedSpec, Speed};

/// Every variable alfabot reads, with its meaning (for errors and docs).
pub const VARIABLES: &[(&str, &str)] = &[
    ("DATABASE_URL", "sqlite://… or postgres://…"),
    ("REDIS_URL", "Redis for sessions; unset = in memory"),
    ("TELEGRAM_BOT_TOKEN", "enables Telegram"),
    ("TELEGRAM_API_URL", "Bot API base URL"),
    ("DISCORD_BOT_TOKEN", "enables Discord"),
    ("DISCORD_API_URL", "Discord REST/gateway base"),
    (
        "DISCORD_APPLICATION_ID",
        "Discord application id (asked from Discord when unset)",
    ),
    (
        "DISCORD_PUBLIC_KEY",
        "Discord app public key (hex): serve HTTP interactions",
    ),
    (
        "DISCORD_GUILD_ID",
        "register Discord commands in this server only",
    ),
    ("ALFABOT_FEED", "pumpportal, replay:PATH or sim[:SEED]"),
    (
        "ALFABOT_REPLAY_SPEED",
        "1 = real time, 0 = as fast as possible",
    ),
    ("PUMPPORTAL_WS_URL", "PumpPortal data socket"),
    ("PUMPPORTAL_API_KEY", "PumpPortal API key"),
    ("SOLANA_RPC_URL", "JSON-RPC for live mode"),
    ("JUPITER_API_URL", "Jupiter swap API"),
    ("JUPITER_API_KEY", "Jupiter API key"),
    ("ALFABOT_MASTER_KEY", "base64 32-byte vault key(s)"),
    ("ALFABOT_MASTER_KEY_FILE", "file holding the vault key(s)"),
    ("ALFABOT_HTTP_ADDR", "health, metrics and dashboard address"),
    ("ALFABOT_MODE", "paper or live, default for new profiles"),
    ("ALFABOT_CONSOLE", "auto, on or off: the stdin/stdout chat"),
    ("ALFABOT_COPY_SOL", "default paper copy size in SOL"),
    ("ALFABOT_FEE_BPS", "pump.fun fee in basis points"),
    (
        "ALFABOT_DEMO_FOLLOWS",
        "wallets the console demo follows on the simulator",
    ),
    (
        "ALFABOT_ANALYTICS_FLUSH_SECS",
        "seconds between batched saves of wallet analytics",
    ),
    (
        "ALFABOT_ANALYTICS_MIN_OUTCOMES",
        "decided trades a wallet needs before it is ranked",
    ),
    (
        "ALFABOT_KEY_RECOVERY_DAYS",
        "days a deleted wallet key can be restored before it is purged",
    ),
];

/// The longest recovery period for deleted keys (a year): longer keeps
/// secrets users meant to drop.
pub const MAX_KEY_RECOVERY_DAYS: u64 = 365;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleMode {
    /// On when no chat platform is configured.
    Auto,
    On,
    Off,
}

#[derive(Debug, Clone)]
pub struct TelegramSettings {
    pub token: SecretString,
    pub api_url: Url,
}

/// Discord: the bot token, where its API is, and how interactions come in.
#[derive(Debug, Clone)]
pub struct DiscordSettings {
    pub token: SecretString,
    /// REST and gateway base (serenity's proxy); Discord's own when unset.
    pub api_url: Option<Url>,
    /// Asked from Discord (`GET /oauth2/applications/@me`) when unset.
    pub application_id: Option<u64>,
    /// The application's Ed25519 public key (64 hex digits): interactions
    /// come as signed HTTP posts to `/discord/interactions` instead of the
    /// gateway.
    pub public_key: Option<String>,
    /// Commands are registered in this server only (they appear at once),
    /// not globally.
    pub guild_id: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: SecretString,
    pub redis_url: Option<SecretString>,
    pub telegram: Option<TelegramSettings>,
    pub discord: Option<DiscordSettings>,
    pub feed: FeedSpec,
    /// Replay/simulation pace and the PumpPortal connection.
    pub feed_settings: FeedSettings,
    pub solana_rpc_url: Url,
    pub jupiter_api_url: Url,
    pub jupiter_api_key: Option<SecretString>,
    pub master_key: Option<SecretString>,
    pub master_key_file: Option<PathBuf>,
    pub http_addr: SocketAddr,
    pub mode: Mode,
    pub console: ConsoleMode,
    pub copy_size: Lamports,
    pub fee_bps: Bps,
    pub demo_follows: usize,
    /// How often changed wallet analytics are saved (also at shutdown).
    pub analytics_flush: Duration,
    /// Decided trades (outcomes) before a wallet is ranked.
    pub analytics_min_outcomes: u32,
    /// How long a deleted wallet key can be restored (whole days).
    pub key_recovery: Duration,
}

impl Settings {
    /// Reads the file (if any) and the process environment.
    pub fn load() -> anyhow::Result<Self> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let path = env
            .get("ALFABOT_CONFIG")
            .map_or_else(|| PathBuf::from("alfabot.toml"), PathBuf::from);
        let file = if path.exists() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("read {}", path.display()))?;
            Some(text)
        } else if env.contains_key("ALFABOT_CONFIG") {
            bail!(
                "ALFABOT_CONFIG names {}, which does not exist",
                path.display()
            );
        } else {
            None
        };
        Self::from_sources(file.as_deref(), &env)
            .with_context(|| format!("invalid configuration (file {})", path.display()))
    }

    /// Builds settings from a TOML text and an environment map.
    pub fn from_sources(file: Option<&str>, env: &HashMap<String, String>) -> anyhow::Result<Self> {
        let mut values: HashMap<String, String> = HashMap::new();
        if let Some(text) = file {
            let table: toml::Table =
                toml::from_str(text).context("alfabot.toml is not valid TOML")?;
            for (k, v) in table {
                let var = k.to_ascii_uppercase();
                if !VARIABLES.iter().any(|(name, _)| *name == var) {
                    bail!("unknown setting {k:?} in alfabot.toml");
                }
                let v = match v {
                    toml::Value::String(s) => s,
                    other => other.to_string(),
                };
                values.insert(var, v);
            }
        }
        for (name, _) in VARIABLES {
            if let Some(v) = env.get(*name) {
                values.insert((*name).to_owned(), v.clone());
            }
        }
        values.retain(|_, v| !v.trim().is_empty());
        let get = |k: &str| values.get(k).map(String::as_str);
        let secret = |k: &str| get(k).map(|v| SecretString::from(v.to_owned()));
        let url = |k: &str, default: &str| -> anyhow::Result<Url> {
            let v = get(k).unwrap_or(default);
            Url::parse(v).with_context(|| format!("{k} is not a URL"))
        };

        let database_url = get("DATABASE_URL").unwrap_or("sqlite://alfabot.db?mode=rwc");
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres:")
            || database_url.starts_with("postgresql:"))
        {
            bail!("DATABASE_URL must start with sqlite: or postgres:");
        }
        if let Some(r) = get("REDIS_URL")
            && !(r.starts_with("redis://") || r.starts_with("rediss://"))
        {
            bail!("REDIS_URL must start with redis:// or rediss://");
        }
        let telegram = match secret("TELEGRAM_BOT_TOKEN") {
            None => None,
            Some(token) => Some(TelegramSettings {
                token,
                api_url: url("TELEGRAM_API_URL", "https://api.telegram.org")?,
            }),
        };
        let snowflake = |k: &str| -> anyhow::Result<Option<u64>> {
            get(k)
                .map(|v| {
                    v.trim()
                        .parse::<u64>()
                        .ok()
                        .filter(|id| *id > 0)
                        .with_context(|| format!("{k} must be a Discord id (digits), got {v:?}"))
                })
                .transpose()
        };
        let discord = match secret("DISCORD_BOT_TOKEN") {
            None => {
                if let Some((k, _)) = [
                    "DISCORD_API_URL",
                    "DISCORD_APPLICATION_ID",
                    "DISCORD_PUBLIC_KEY",
                    "DISCORD_GUILD_ID",
                ]
                .iter()
                .filter_map(|k| get(k).map(|v| (*k, v)))
                .next()
                {
                    bail!("{k} is set but DISCORD_BOT_TOKEN is not: Discord needs the bot token");
                }
                None
            }
            Some(token) => {
                let api_url = get("DISCORD_API_URL")
                    .map(|_| url("DISCORD_API_URL", ""))
                    .transpose()?;
                if let Some(u) = &api_url
                    && !matches!(u.scheme(), "http" | "https")
                {
                    bail!("DISCORD_API_URL must be an http:// or https:// URL");
                }
                let public_key = get("DISCORD_PUBLIC_KEY")
                    .map(|k| {
                        let k = k.trim();
                        if k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit()) {
                            Ok(k.to_ascii_lowercase())
                        } else {
                            Err(anyhow::anyhow!(
                                "DISCORD_PUBLIC_KEY must be the application's public key: 64 hex digits"
                            ))
                        }
                    })
                    .transpose()?;
                Some(DiscordSettings {
                    token,
                    api_url,
                    application_id: snowflake("DISCORD_APPLICATION_ID")?,
                    public_key,
                    guild_id: snowflake("DISCORD_GUILD_ID")?,
                })
            }
        };
        let feed = get("ALFABOT_FEED").map_or(Ok(FeedSpec::Sim { seed: 42 }), |f| {
            FeedSpec::parse(f).context("ALFABOT_FEED")
        })?;
        let speed = Speed::parse(get("ALFABOT_REPLAY_SPEED").unwrap_or("1"))
            .context("ALFABOT_REPLAY_SPEED")?;
        let ws = url("PUMPPORTAL_WS_URL", "wss://pumpportal.fun/api/data")?;
        if !matches!(ws.scheme(), "ws" | "wss") {
            bail!("PUMPPORTAL_WS_URL must be a ws:// or wss:// URL");
        }
        let feed_settings = FeedSettings {
            pumpportal: PumpPortalSettings::new(ws.as_str(), secret("PUMPPORTAL_API_KEY")),
            speed,
        };
        let http_addr = get("ALFABOT_HTTP_ADDR")
            .unwrap_or("127.0.0.1:8080")
            .parse()
            .context("ALFABOT_HTTP_ADDR must be host:port, e.g. 127.0.0.1:8080")?;
        let mode = match get("ALFABOT_MODE").unwrap_or("paper") {
            "paper" => Mode::Paper,
            "live" => Mode::Live,
            other => bail!("ALFABOT_MODE must be paper or live, got {other:?}"),
        };
        let console = match get("ALFABOT_CONSOLE").unwrap_or("auto") {
            "auto" => ConsoleMode::Auto,
            "on" | "true" | "1" => ConsoleMode::On,
            "off" | "false" | "0" => ConsoleMode::Off,
            other => bail!("ALFABOT_CONSOLE must be auto, on or off, got {other:?}"),
        };
        let copy_size = Lamports::parse_sol(get("ALFABOT_COPY_SOL").unwrap_or("0.1"))
            .context("ALFABOT_COPY_SOL")?;
        let fee_bps = get("ALFABOT_FEE_BPS")
            .unwrap_or("125")
            .parse::<u32>()
            .context("ALFABOT_FEE_BPS must be a whole number")
            .and_then(|b| Bps::new(b).context("ALFABOT_FEE_BPS"))?;
        let demo_follows = get("ALFABOT_DEMO_FOLLOWS")
            .unwrap_or("5")
            .parse()
            .context("ALFABOT_DEMO_FOLLOWS must be a whole number")?;
        let analytics_flush = match get("ALFABOT_ANALYTICS_FLUSH_SECS").map(str::parse::<u64>) {
            None => Duration::from_secs(10),
            Some(Ok(secs)) if secs > 0 => Duration::from_secs(secs),
            Some(_) => {
                bail!("ALFABOT_ANALYTICS_FLUSH_SECS must be a whole number of seconds, at least 1")
            }
        };
        let analytics_min_outcomes = get("ALFABOT_ANALYTICS_MIN_OUTCOMES")
            .map_or(Ok(AnalyticsConfig::default().min_outcomes), str::parse)
            .context("ALFABOT_ANALYTICS_MIN_OUTCOMES must be a whole number")?;
        let key_recovery = match get("ALFABOT_KEY_RECOVERY_DAYS").map(str::parse::<u64>) {
            None => crate::service::DEFAULT_KEY_RECOVERY,
            Some(Ok(days)) if (1..=MAX_KEY_RECOVERY_DAYS).contains(&days) => {
                Duration::from_secs(days * 86_400)
            }
            Some(_) => bail!(
                "ALFABOT_KEY_RECOVERY_DAYS must be a whole number of days from 1 to \
                 {MAX_KEY_RECOVERY_DAYS}"
            ),
        };
        if let Some(key) = get("ALFABOT_MASTER_KEY") {
            validate_master_keys(key)?;
        }
        Ok(Self {
            database_url: SecretString::from(database_url.to_owned()),
            redis_url: secret("REDIS_URL"),
            telegram,
            discord,
            feed,
            feed_settings,
            solana_rpc_url: url("SOLANA_RPC_URL", "https://api.mainnet-beta.solana.com")?,
            jupiter_api_url: url("JUPITER_API_URL", "https://api.jup.ag")?,
            jupiter_api_key: secret("JUPITER_API_KEY"),
            master_key: secret("ALFABOT_MASTER_KEY"),
            master_key_file: get("ALFABOT_MASTER_KEY_FILE").map(PathBuf::from),
            http_addr,
            mode,
            console,
            copy_size,
            fee_bps,
            demo_follows,
            analytics_flush,
            analytics_min_outcomes,
            key_recovery,
        })
    }

    /// Whether the console chat runs.
    #[must_use]
    pub fn console_enabled(&self) -> bool {
        match self.console {
            ConsoleMode::On => true,
            ConsoleMode::Off => false,
            ConsoleMode::Auto => self.telegram.is_none() && self.discord.is_none(),
        }
    }
}

/// Master keys are comma-separated base64 strings of 32 bytes each.
fn validate_master_keys(keys: &str) -> anyhow::Result<()> {
    crate::vault::MasterKeys::parse(keys)
        .map(drop)
        .context("ALFABOT_MASTER_KEY")
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_are_the_embedded_demo() {
        let s = Settings::from_sources(None, &env(&[])).unwrap();
        assert_eq!(
            s.database_url.expose_secret(),
            "sqlite://alfabot.db?mode=rwc"
        );
        assert_eq!(s.feed, FeedSpec::Sim { seed: 42 });
        assert!(s.telegram.is_none() && s.redis_url.is_none());
        assert!(s.console_enabled());
        assert_eq!(s.copy_size, Lamports(100_000_000));
        assert_eq!(s.fee_bps.get(), 125);
        assert_eq!(s.analytics_flush, Duration::from_secs(10));
        assert_eq!(
            s.analytics_min_outcomes,
            AnalyticsConfig::default().min_outcomes
        );
        assert_eq!(s.key_recovery, Duration::from_secs(7 * 86_400));
    }

    #[test]
    fn key_recovery_days() {
        let s = Settings::from_sources(Some("alfabot_key_recovery_days = 3"), &env(&[])).unwrap();
        assert_eq!(s.key_recovery, Duration::from_secs(3 * 86_400));
        let s =
            Settings::from_sources(None, &env(&[("ALFABOT_KEY_RECOVERY_DAYS", "365")])).unwrap();
        assert_eq!(s.key_recovery, Duration::from_secs(365 * 86_400));
    }

    #[test]
    fn discord_settings_are_validated_with_the_variable_named() {
        let s = Settings::from_sources(
            None,
            &env(&[
                ("DISCORD_BOT_TOKEN", "x.y.z"),
                ("DISCORD_API_URL", "http://127.0.0.1:9"),
                ("DISCORD_APPLICATION_ID", "1100"),
                ("DISCORD_GUILD_ID", "2200"),
                ("DISCORD_PUBLIC_KEY", &"AB".repeat(32)),
            ]),
        )
        .unwrap();
        let d = s.discord.as_ref().unwrap();
        assert_eq!(d.application_id, Some(1100));
        assert_eq!(d.guild_id, Some(2200));
        assert_eq!(d.public_key.as_deref(), Some("ab".repeat(32).as_str()));
        assert!(
            !s.console_enabled(),
            "Discord is a chat: the console is off"
        );
        for (vars, names) in [
            (vec![("DISCORD_GUILD_ID", "1")], "DISCORD_GUILD_ID"),
            (
                vec![("DISCORD_BOT_TOKEN", "t"), ("DISCORD_GUILD_ID", "abc")],
                "DISCORD_GUILD_ID",
            ),
            (
                vec![("DISCORD_BOT_TOKEN", "t"), ("DISCORD_APPLICATION_ID", "0")],
                "DISCORD_APPLICATION_ID",
            ),
            (
                vec![("DISCORD_BOT_TOKEN", "t"), ("DISCORD_PUBLIC_KEY", "abcd")],
                "DISCORD_PUBLIC_KEY",
            ),
            (
                vec![("DISCORD_BOT_TOKEN", "t"), ("DISCORD_API_URL", "ws://x")],
                "DISCORD_API_URL",
            ),
        ] {
            let e = Settings::from_sources(None, &env(&vars)).unwrap_err();
            assert!(format!("{e:#}").contains(names), "{e:#}");
        }
    }

    #[test]
    fn analytics_settings() {
        let s = Settings::from_sources(
            Some("alfabot_analytics_flush_secs = 3"),
            &env(&[("ALFABOT_ANALYTICS_MIN_OUTCOMES", "1")]),
        )
        .unwrap();
        assert_eq!(s.analytics_flush, Duration::from_secs(3));
        assert_eq!(s.analytics_min_outcomes, 1);
    }

    #[test]
    fn environment_overrides_file() {
        let file =
            "alfabot_feed = \"sim:7\"\ntelegram_bot_token = \"123:abc\"\nalfabot_replay_speed = 0";
        let s =
            Settings::from_sources(Some(file), &env(&[("ALFABOT_FEED", "pumpportal")])).unwrap();
        assert_eq!(s.feed, FeedSpec::PumpPortal);
        assert!(s.telegram.is_some());
        assert!(!s.console_enabled());
        assert!(s.feed_settings.speed.is_unlimited());
    }

    #[test]
    fn errors_name_the_variable() {
        for (k, v) in [
            ("ALFABOT_FEED", "kafka"),
            ("DATABASE_URL", "mysql://x"),
            ("ALFABOT_HTTP_ADDR", "nowhere"),
            ("ALFABOT_MODE", "yolo"),
            ("ALFABOT_COPY_SOL", "-1"),
            ("ALFABOT_MASTER_KEY", "c2hvcnQ="),
            ("PUMPPORTAL_WS_URL", "http://x"),
            ("ALFABOT_ANALYTICS_FLUSH_SECS", "0"),
            ("ALFABOT_ANALYTICS_FLUSH_SECS", "soon"),
            ("ALFABOT_ANALYTICS_MIN_OUTCOMES", "-2"),
            ("ALFABOT_KEY_RECOVERY_DAYS", "0"),
            ("ALFABOT_KEY_RECOVERY_DAYS", "366"),
            ("ALFABOT_KEY_RECOVERY_DAYS", "1.5"),
            ("ALFABOT_KEY_RECOVERY_DAYS", "a week"),
        ] {
            let err = Settings::from_sources(None, &env(&[(k, v)])).unwrap_err();
            assert!(
                format!("{err:#}").contains(k.split('_').next_back().unwrap_or(k))
                    || format!("{err:#}").contains(k),
                "{k}: {err:#}"
            );
        }
        let err = Settings::from_sources(Some("bogus = 1"), &env(&[])).unwrap_err();
        assert!(err.to_string().contains("bogus"));
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Settings::from_sources(None, &env(&[("TELEGRAM_BOT_TOKEN", "123:supersecret")]))
            .unwrap();
        assert!(!format!("{s:?}").contains("supersecret"));
    }

    #[test]
    fn master_key_shape() {
        let key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        assert!(validate_master_keys(key).is_ok());
        let other = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
        assert!(validate_master_keys(&format!("{key},{other}")).is_ok());
        assert!(
            validate_master_keys(&format!("{key},{key}")).is_err(),
            "a key listed twice"
        );
        assert!(validate_master_keys("!!!!").is_err());
    }
}
