//! Option groups shared by several subcommands (flattened into each `XxxArgs`).

use alloy::signers::local::PrivateKeySigner;
use anyhow::Context;
use clap::Args;
use std::{path::PathBuf, time::Duration};
use vouch_chain::{ChainConfig, Deployment};

/// Which chain to talk to.
#[derive(Debug, Clone, Args)]
pub(crate) struct RpcOpts {
    /// JSON-RPC endpoint of the chain.
    #[arg(long, env = "VOUCH_RPC_URL", default_value = "http://127.0.0.1:8545")]
    pub(crate) rpc_url: String,
    /// Seconds to wait for a transaction to be mined before giving up on it.
    #[arg(long, env = "VOUCH_TX_TIMEOUT_SECS", default_value_t = 60)]
    pub(crate) tx_timeout_secs: u64,
    /// Milliseconds between polls for receipts and new blocks.
    #[arg(long, env = "VOUCH_POLL_MS", default_value_t = 500)]
    pub(crate) poll_ms: u64,
}

impl RpcOpts {
    pub(crate) fn config(&self) -> ChainConfig {
        ChainConfig {
            rpc_url: self.rpc_url.clone(),
            tx_timeout: Duration::from_secs(self.tx_timeout_secs),
            poll_interval: Duration::from_millis(self.poll_ms),
        }
    }
}

/// The account that signs transactions.
#[derive(Debug, Clone, Args)]
pub(crate) struct KeyOpts {
    /// Hex private key of the signing account (prefer the environment variable to the flag).
    #[arg(long, env = "VOUCH_PRIVATE_KEY", hide_env_values = true)]
    pub(crate) private_key: String,
}

impl KeyOpts {
    pub(crate) fn signer(&self) -> anyhow::Result<PrivateKeySigner> {
        self.private_key
            .trim()
            .parse()
            .context("VOUCH_PRIVATE_KEY / --private-key is not a valid hex private key")
    }
}

/// Where the contracts are.
#[derive(Debug, Clone, Args)]
pub(crate) struct DeploymentOpts {
    /// Deployment file written by `vouch deploy` (contract addresses and start block).
    #[arg(long, env = "VOUCH_DEPLOYMENT", default_value = "deployment.json")]
    pub(crate) deployment: PathBuf,
}

impl DeploymentOpts {
    pub(crate) fn load(&self) -> anyhow::Result<Deployment> {
        let text = std::fs::read_to_string(&self.deployment).with_context(|| {
            format!(
                "reading deployment file {} (run `vouch deploy` first)",
                self.deployment.display()
            )
        })?;
        serde_json::from_str(&text)
            .with_context(|| format!("parsing deployment file {}", self.deployment.display()))
    }
}

/// Parses a wei amount given in decimal.
pub(crate) fn parse_wei(s: &str) -> Result<alloy::primitives::U256, String> {
    s.parse().map_err(|e| format!("not a wei amount: {e}"))
}
