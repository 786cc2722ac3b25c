//! `vouch worker`: the worker daemon, and `vouch worker status`.

use crate::opts::{DeploymentOpts, KeyOpts, MetricsOpts, PolicyOpts, RpcOpts};
use anyhow::Context;
use clap::{Args, Subcommand};
use std::{path::PathBuf, time::Duration};
use vouch_burn::BurnBackend;
use vouch_chain::{ChainClient, Market};
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
///
/// `vouch worker status` shows what it has at stake and has earned.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct WorkerArgs {
    #[command(subcommand)]
    command: Option<WorkerCommand>,
    #[command(flatten)]
    rpc: RpcOpts,
    #[command(flatten)]
    key: Option<KeyOpts>,
    #[command(flatten)]
    deployment: DeploymentOpts,
    #[command(flatten)]
    data: DataDirOpts,
    /// Blocks an event needs on top of it before the worker acts on it.
    #[arg(long, env = "VOUCH_CONFIRMATIONS", default_value_t = 0)]
    confirmations: u64,
    #[command(flatten)]
    metrics: MetricsOpts,
    #[command(flatten)]
    policy: PolicyOpts,
}

/// Where a worker keeps its state.
#[derive(Debug, Clone, Args)]
struct DataDirOpts {
    /// Directory for state, traces and cached models.
    #[arg(long, env = "VOUCH_WORKER_DATA_DIR", default_value = ".vouch/worker")]
    data_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
enum WorkerCommand {
    /// Show the worker's balance and credit, the bonds of its pending results and when their
    /// windows end, what it earned, and the games against its results with both clocks; from its
    /// data directory and the chain.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
struct StatusArgs {
    #[command(flatten)]
    rpc: RpcOpts,
    #[command(flatten)]
    key: KeyOpts,
    #[command(flatten)]
    deployment: DeploymentOpts,
    #[command(flatten)]
    data: DataDirOpts,
}

impl StatusArgs {
    async fn run(self) -> anyhow::Result<()> {
        let deployment = self.deployment.load()?;
        let client = ChainClient::connect(&self.rpc.config(), self.key.signer()?)
            .await
            .context("connecting to the chain")?;
        let status =
            vouch_worker::status::read(&Market::new(client, deployment), &self.data.data_dir)
                .await
                .with_context(|| {
                    format!(
                        "reading the worker's status from {}",
                        self.data.data_dir.display()
                    )
                })?;
        print!("{status}");
        Ok(())
    }
}

impl WorkerArgs {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        if let Some(WorkerCommand::Status(status)) = self.command {
            return status.run().await;
        }
        let config = WorkerConfig {
            chain: self.rpc.config(),
            deployment: self.deployment.load()?,
            data_dir: self.data.data_dir,
            confirmations: self.confirmations,
            poll_interval: Duration::from_millis(self.rpc.poll_ms),
            policy: self.policy.policy(),
            backend: BurnBackend::Flex,
            lie: None,
        };
        let key = self
            .key
            .context("VOUCH_PRIVATE_KEY / --private-key is required to run the worker")?;
        let worker = Worker::new(config, key.signer()?)
            .await
            .context("starting the worker")?;
        let shutdown = vouch_agent::shutdown_on_signal();
        if let Some(addr) = self.metrics.metrics_addr {
            worker
                .serve_metrics(addr, shutdown.clone())
                .await
                .with_context(|| format!("serving metrics on {addr}"))?;
        }
        worker.run(shutdown).await.context("worker stopped")?;
        Ok(())
    }
}
