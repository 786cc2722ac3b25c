//! `vouch challenger`: the challenger daemon.

use crate::opts::{DeploymentOpts, KeyOpts, MetricsOpts, PolicyOpts, RpcOpts};
use alloy::primitives::B256;
use anyhow::Context;
use clap::Args;
use std::{path::PathBuf, time::Duration};
use vouch_burn::BurnBackend;
use vouch_challenger::{Challenger, ChallengerConfig, Strategy};

/// Run a challenger: re-run a sample of submitted results on this CPU, dispute the wrong ones with a
/// bond, play each dissection game down to the one step the contract executes, collect the winnings.
///
/// Which results are re-run is decided by `--sample-rate` and the secret `--sample-key`, so workers
/// cannot predict it. State (event cursor, games), our own traces and cached models live in
/// `--data-dir`; the challenger can be stopped and restarted at any time, also in the middle of a game.
/// Games are played on a loop of their own that no re-run can delay.
///
/// It re-runs only the models and jobs its policy admits (`--model`, the `--max-*` limits, the
/// minimum fees); anything else gets one log line saying why and is skipped.
#[derive(Debug, Args)]
pub(crate) struct ChallengerArgs {
    #[command(flatten)]
    rpc: RpcOpts,
    #[command(flatten)]
    key: KeyOpts,
    #[command(flatten)]
    deployment: DeploymentOpts,
    /// Directory for state, traces and cached models.
    #[arg(
        long,
        env = "VOUCH_CHALLENGER_DATA_DIR",
        default_value = ".vouch/challenger"
    )]
    data_dir: PathBuf,
    /// Blocks an event needs on top of it before the challenger acts on it.
    #[arg(long, env = "VOUCH_CONFIRMATIONS", default_value_t = 0)]
    confirmations: u64,
    /// Share of submitted results to re-run, from 0 to 1.
    #[arg(long, env = "VOUCH_SAMPLE_RATE", default_value_t = 1.0)]
    sample_rate: f64,
    /// Secret 32-byte hex key that picks the sample (default: derived from the signing key).
    #[arg(long, env = "VOUCH_SAMPLE_KEY", hide_env_values = true)]
    sample_key: Option<B256>,
    #[command(flatten)]
    metrics: MetricsOpts,
    #[command(flatten)]
    policy: PolicyOpts,
}

impl ChallengerArgs {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        if !(0.0..=1.0).contains(&self.sample_rate) {
            anyhow::bail!("--sample-rate must lie in [0, 1], got {}", self.sample_rate);
        }
        let signer = self.key.signer()?;
        let sample_key = self
            .sample_key
            .unwrap_or_else(|| alloy::primitives::keccak256(signer.to_bytes()));
        let config = ChallengerConfig {
            chain: self.rpc.config(),
            deployment: self.deployment.load()?,
            data_dir: self.data_dir,
            confirmations: self.confirmations,
            poll_interval: Duration::from_millis(self.rpc.poll_ms),
            sample_rate: self.sample_rate,
            sample_key,
            policy: self.policy.policy(),
            backend: BurnBackend::Flex,
            strategy: Strategy::Honest,
        };
        let challenger = Challenger::new(config, signer)
            .await
            .context("starting the challenger")?;
        let shutdown = vouch_agent::shutdown_on_signal();
        if let Some(addr) = self.metrics.metrics_addr {
            challenger
                .serve_metrics(addr, shutdown.clone())
                .await
                .with_context(|| format!("serving metrics on {addr}"))?;
        }
        challenger
            .run(shutdown)
            .await
            .context("challenger stopped")?;
        Ok(())
    }
}
