//! `vouch worker`: the worker daemon.

use crate::opts::{DeploymentOpts, KeyOpts, PolicyOpts, RpcOpts};
use anyhow::Context;
use clap::Args;
use std::{path::PathBuf, time::Duration};
use vouch_core::burn_exec::BurnBackend;
use vouch_worker::{Worker, WorkerConfig};

/// Run a worker: answer jobs with results computed on Burn, post bonds, collect fees.
///
/// State (event cursor, pending results, games being defended, events that failed), traces and
/// cached models live in `--data-dir`; the worker can be stopped and restarted at any time, also in
/// the middle of a dispute: it answers every challenge to its results from the stored trace, on a
/// loop of its own that no inference can delay.
///
/// It serves only the models and jobs its policy admits (`--model`, the `--max-*` limits, the
/// minimum fees); anything else gets one log line saying why and is skipped.
#[derive(Debug, Args)]
pub(crate) struct WorkerArgs {
    #[command(flatten)]
    rpc: RpcOpts,
    #[command(flatten)]
    key: KeyOpts,
    #[command(flatten)]
    deployment: DeploymentOpts,
    /// Directory for state, traces and cached models.
    #[arg(long, env = "VOUCH_WORKER_DATA_DIR", default_value = ".vouch/worker")]
    data_dir: PathBuf,
    /// Blocks an event needs on top of it before the worker acts on it.
    #[arg(long, env = "VOUCH_CONFIRMATIONS", default_value_t = 0)]
    confirmations: u64,
    #[command(flatten)]
    policy: PolicyOpts,
}

impl WorkerArgs {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        let config = WorkerConfig {
            chain: self.rpc.config(),
            deployment: self.deployment.load()?,
            data_dir: self.data_dir,
            confirmations: self.confirmations,
            poll_interval: Duration::from_millis(self.rpc.poll_ms),
            policy: self.policy.policy(),
            backend: BurnBackend::Flex,
            lie: None,
        };
        let worker = Worker::new(config, self.key.signer()?)
            .await
            .context("starting the worker")?;
        worker
            .run(vouch_agent::shutdown_on_signal())
            .await
            .context("worker stopped")?;
        Ok(())
    }
}
