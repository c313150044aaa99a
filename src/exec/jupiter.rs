//! `Jupiter`: the swap API client (`GET /swap/v1/quote`,
//! `POST /swap/v1/swap`). It owns Jupiter's wire shapes: amounts are JSON
//! strings, the quote goes back to `/swap` verbatim (we keep the raw JSON),
//! and the swap transaction is base64 bincode of a `VersionedTransaction`
//! whose signature slots are zeroed for us to fill.
//!
//! The API key travels in the `x-api-key` header, never in a URL, and no
//! error or `Debug` output contains it. Errors name the endpoint, the HTTP
//! status and a short excerpt of the body.

use std::fmt;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use solana_transaction::versioned::VersionedTransaction;

use crate::domain::Address;

/// Wrapped SOL, the mint Jupiter uses for SOL.
pub const WSOL_MINT: Address = Address::from_bytes([
    6, 155, 136, 87, 254, 171, 129, 132, 251, 104, 127, 99, 70, 24, 192, 53, 218, 196, 57, 220, 26,
    235, 59, 85, 152, 160, 240, 0, 0, 0, 0, 1,
]);

/// How much of an error body goes into an error message.
const BODY_EXCERPT: usize = 300;

/// Why a Jupiter call failed.
#[derive(Debug, thiserror::Error)]
pub enum JupiterError {
    #[error("jupiter {endpoint}: HTTP {status}: {body}")]
    Status {
        endpoint: &'static str,
        status: u16,
        body: String,
    },
    #[error("jupiter {endpoint}: unexpected response: {reason}")]
    Malformed {
        endpoint: &'static str,
        reason: String,
    },
    #[error("jupiter {endpoint}: request failed")]
    Transport {
        endpoint: &'static str,
        #[source]
        source: reqwest::Error,
    },
}

/// A quote: the fields we read, and the raw JSON to pass back to `/swap`.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    pub input_mint: Address,
    pub output_mint: Address,
    /// Raw units of the input mint (lamports for SOL).
    pub in_amount: u64,
    /// Expected raw units of the output mint.
    pub out_amount: u64,
    /// The least output the route accepts (`out_amount` less slippage).
    pub other_amount_threshold: u64,
    pub slippage_bps: u32,
    raw: Value,
}

impl Quote {
    /// The quote exactly as Jupiter sent it.
    #[must_use]
    pub const fn raw(&self) -> &Value {
        &self.raw
    }
}

/// A swap transaction to sign, with the block height after which it can no
/// longer land.
#[derive(Debug, Clone)]
pub struct SwapTx {
    pub tx: VersionedTransaction,
    pub last_valid_block_height: u64,
}

/// The Jupiter swap API.
pub struct Jupiter {
    http: reqwest::Client,
    base: String,
    api_key: Option<SecretString>,
}

impl fmt::Debug for Jupiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jupiter")
            .field("base", &self.base)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QuoteWire {
    input_mint: String,
    output_mint: String,
    in_amount: String,
    out_amount: String,
    other_amount_threshold: String,
    slippage_bps: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SwapWire {
    swap_transaction: String,
    last_valid_block_height: u64,
    #[serde(default)]
    simulation_error: Option<Value>,
}

impl Jupiter {
    /// A client for `base` (e.g. `https://api.jup.ag`), with an optional API
    /// key and a per-request timeout.
    pub fn new(
        base: impl Into<String>,
        api_key: Option<SecretString>,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .context("building the Jupiter HTTP client")?;
        Ok(Self {
            http,
            base: base.into().trim_end_matches('/').to_owned(),
            api_key,
        })
    }

    /// Quotes swapping `amount` raw units of `input_mint` into `output_mint`.
    pub async fn quote(
        &self,
        input_mint: Address,
        output_mint: Address,
        amount: u64,
        slippage_bps: u32,
    ) -> Result<Quote, JupiterError> {
        const ENDPOINT: &str = "quote";
        let request = self
            .http
            .get(format!("{}/swap/v1/quote", self.base))
            .query(&[
                ("inputMint", input_mint.to_string()),
                ("outputMint", output_mint.to_string()),
                ("amount", amount.to_string()),
                ("slippageBps", slippage_bps.to_string()),
            ]);
        let raw = self.call(ENDPOINT, request).await?;
        let wire: QuoteWire =
            serde_json::from_value(raw.clone()).map_err(|e| malformed(ENDPOINT, e))?;
        let quote = Quote {
            input_mint: Address::parse(&wire.input_mint).map_err(|e| malformed(ENDPOINT, e))?,
            output_mint: Address::parse(&wire.output_mint).map_err(|e| malformed(ENDPOINT, e))?,
            in_amount: amount_field(ENDPOINT, "inAmount", &wire.in_amount)?,
            out_amount: amount_field(ENDPOINT, "outAmount", &wire.out_amount)?,
            other_amount_threshold: amount_field(
                ENDPOINT,
                "otherAmountThreshold",
                &wire.other_amount_threshold,
            )?,
            slippage_bps: wire.slippage_bps,
            raw,
        };
        if quote.input_mint != input_mint || quote.output_mint != output_mint {
            return Err(JupiterError::Malformed {
                endpoint: ENDPOINT,
                reason: format!(
                    "quoted {} → {}, asked {input_mint} → {output_mint}",
                    quote.input_mint, quote.output_mint
                ),
            });
        }
        Ok(quote)
    }

    /// Builds the swap transaction for `quote`, paid and signed by `user`.
    pub async fn swap(
        &self,
        quote: &Quote,
        user: Address,
        priority_fee_lamports: u64,
    ) -> Result<SwapTx, JupiterError> {
        const ENDPOINT: &str = "swap";
        let body = json!({
            "quoteResponse": quote.raw,
            "userPublicKey": user.to_string(),
            "prioritizationFeeLamports": priority_fee_lamports,
            "dynamicComputeUnitLimit": true,
        });
        let request = self
            .http
            .post(format!("{}/swap/v1/swap", self.base))
            .json(&body);
        let raw = self.call(ENDPOINT, request).await?;
        let wire: SwapWire = serde_json::from_value(raw).map_err(|e| malformed(ENDPOINT, e))?;
        if let Some(err) = wire.simulation_error.filter(|e| !e.is_null()) {
            return Err(JupiterError::Malformed {
                endpoint: ENDPOINT,
                reason: format!("simulation failed: {}", excerpt(&err.to_string())),
            });
        }
        let bytes = B64
            .decode(wire.swap_transaction.trim())
            .map_err(|e| malformed(ENDPOINT, e))?;
        let tx: VersionedTransaction =
            bincode::deserialize(&bytes).map_err(|e| malformed(ENDPOINT, e))?;
        Ok(SwapTx {
            tx,
            last_valid_block_height: wire.last_valid_block_height,
        })
    }

    /// Sends a request with the key header; a JSON body on 2xx, otherwise
    /// an error with the status and a body excerpt.
    async fn call(
        &self,
        endpoint: &'static str,
        mut request: reqwest::RequestBuilder,
    ) -> Result<Value, JupiterError> {
        if let Some(key) = &self.api_key {
            request = request.header("x-api-key", key.expose_secret());
        }
        let transport = |source: reqwest::Error| JupiterError::Transport {
            endpoint,
            source: source.without_url(),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let text = response.text().await.map_err(transport)?;
        if !status.is_success() {
            return Err(JupiterError::Status {
                endpoint,
                status: status.as_u16(),
                body: excerpt(&text),
            });
        }
        serde_json::from_str(&text).map_err(|e| JupiterError::Malformed {
            endpoint,
            reason: format!("{e}: {}", excerpt(&text)),
        })
    }
}

fn malformed(endpoint: &'static str, err: impl fmt::Display) -> JupiterError {
    JupiterError::Malformed {
        endpoint,
        reason: err.to_string(),
    }
}

fn amount_field(endpoint: &'static str, field: &str, value: &str) -> Result<u64, JupiterError> {
    value.parse().map_err(|_| JupiterError::Malformed {
        endpoint,
        reason: format!("{field} {:?} is not an integer amount", excerpt(value)),
    })
}

/// The first characters of a body, on one line.
fn excerpt(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let one_line = one_line.trim();
    match one_line.char_indices().nth(BODY_EXCERPT) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wsol_is_the_wrapped_sol_mint() {
        assert_eq!(
            WSOL_MINT.to_string(),
            "So11111111111111111111111111111111111111112"
        );
    }

    #[test]
    fn excerpts_are_short_and_single_line() {
        assert_eq!(excerpt(" a\nb "), "a b");
        let long = "x".repeat(1000);
        let e = excerpt(&long);
        assert_eq!(e.chars().count(), BODY_EXCERPT + 1);
        assert!(e.ends_with('…'));
        assert_eq!(excerpt(&"é".repeat(400)).chars().count(), BODY_EXCERPT + 1);
    }

    #[test]
    fn debug_hides_the_key() {
        let j = Jupiter::new(
            "https://api.jup.ag/",
            Some(SecretString::from("super-secret-key")),
            Duration::from_secs(1),
        )
        .unwrap();
        let shown = format!("{j:?}");
        assert!(!shown.contains("super-secret-key"));
        assert!(shown.contains("https://api.jup.ag\""));
    }
}
