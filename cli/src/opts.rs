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

/// Where an agent serves its Prometheus metrics.
#[derive(Debug, Clone, Args)]
pub(crate) struct MetricsOpts {
    /// Serve Prometheus metrics on `http://ADDR/metrics` (e.g. `127.0.0.1:9100`): games open, seconds
    /// left on the most urgent clock, balance and credit in wei, results answered or challenged,
    /// failures. Off by default.
    #[arg(long, env = "VOUCH_METRICS_ADDR")]
    pub(crate) metrics_addr: Option<std::net::SocketAddr>,
}

/// Parses a wei amount given in decimal.
pub(crate) fn parse_wei(s: &str) -> Result<alloy::primitives::U256, String> {
    s.parse().map_err(|e| format!("not a wei amount: {e}"))
}

/// Which models and jobs an agent serves, and the most one model may cost it. A model is measured
/// from its published shapes and ops before anything is allocated for it; a model over any limit is
/// never loaded, and each skipped model or job gets one log line that says why.
#[derive(Debug, Clone, Args)]
pub(crate) struct PolicyOpts {
    /// Serve only these model ids (repeat the flag, or a comma-separated list in the environment
    /// variable). Default: every model within the limits below.
    #[arg(long = "model", env = "VOUCH_MODELS", value_delimiter = ',')]
    pub(crate) models: Vec<alloy::primitives::U256>,
    /// Refuse models with more weights than this.
    #[arg(long, env = "VOUCH_MAX_PARAMS")]
    pub(crate) max_params: Option<u64>,
    /// Refuse models whose one run needs more multiply-accumulates (pool taps included) than this.
    #[arg(long, env = "VOUCH_MAX_MACS")]
    pub(crate) max_macs: Option<u64>,
    /// Refuse models that could need more memory than this to load and run once, trace, commitments
    /// and dispute trees included (MiB; estimated from the model's shapes, an upper bound). Keep it
    /// below the memory the process may use.
    #[arg(long, env = "VOUCH_MAX_MEMORY_MIB", default_value_t = 4096)]
    pub(crate) max_memory_mib: u64,
    /// Refuse models whose trace (every intermediate tensor of one run, kept on disk until the
    /// result settles) is larger than this (MiB).
    #[arg(long, env = "VOUCH_MAX_TRACE_MIB", default_value_t = 1024)]
    pub(crate) max_trace_mib: u64,
    /// Seconds one inference may take: models estimated slower are refused, and a run past it is
    /// abandoned (the job is recorded as failed and skipped).
    #[arg(long, env = "VOUCH_INFERENCE_TIMEOUT_SECS", default_value_t = 60)]
    pub(crate) inference_timeout_secs: u64,
    /// Elementary operations per second this machine sustains at the least on a tensor model run
    /// on Burn (MACs, gathered taps, elementwise ops): turns a tensor model's work into its time
    /// estimate.
    #[arg(long, env = "VOUCH_WORK_PER_SEC", default_value_t = vouch_agent::budget::DEFAULT_WORK_PER_SEC)]
    pub(crate) work_per_sec: u64,
    /// Operations per second this machine sustains at the least on a language model's traced
    /// generation (its multiply-adds plus the trace bytes it hashes): turns a language-model job's
    /// work into its time estimate. The default is half the rate measured for SmolLM2-135M on two
    /// cores (~136 M operations a token at 13–16 tokens/s): at 60 s it takes a job of ~380 prompt
    /// and answer tokens. Measure yours with `vouch-bench --bin llm` ("integer + trace").
    #[arg(long, env = "VOUCH_LLM_WORK_PER_SEC", default_value_t = vouch_agent::budget::DEFAULT_LLM_WORK_PER_SEC)]
    pub(crate) llm_work_per_sec: u64,
    /// Skip jobs that pay less than this (wei).
    #[arg(long, env = "VOUCH_MIN_FEE", default_value = "0", value_parser = parse_wei)]
    pub(crate) min_fee: alloy::primitives::U256,
    /// Skip jobs that pay less than this per multiply-accumulate of their model (wei).
    #[arg(long, env = "VOUCH_MIN_FEE_PER_MAC", default_value = "0", value_parser = parse_wei)]
    pub(crate) min_fee_per_mac: alloy::primitives::U256,
    /// Serve one shard of the jobs, `INDEX/COUNT` (e.g. `0/3`): the jobs whose id is INDEX modulo
    /// COUNT. Give each of a fleet's COUNT workers its own INDEX so each job is run once instead of
    /// by every worker racing (a job re-opened after an overturn is open to all); challengers split
    /// the results they check the same way.
    #[arg(long, env = "VOUCH_SHARD")]
    pub(crate) shard: Option<vouch_agent::Shard>,
}

impl PolicyOpts {
    pub(crate) fn policy(&self) -> vouch_agent::Policy {
        vouch_agent::Policy {
            models: (!self.models.is_empty()).then(|| self.models.clone()),
            max_params: self.max_params,
            max_macs: self.max_macs,
            budget: vouch_agent::Budget {
                memory_bytes: self.max_memory_mib.saturating_mul(1 << 20),
                trace_bytes: self.max_trace_mib.saturating_mul(1 << 20),
                time: Duration::from_secs(self.inference_timeout_secs),
                work_per_sec: self.work_per_sec,
                llm_work_per_sec: self.llm_work_per_sec,
            },
            min_fee: self.min_fee,
            min_fee_per_mac: self.min_fee_per_mac,
            shard: self.shard,
        }
    }
}
