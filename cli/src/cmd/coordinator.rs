//! `vouch coordinator`: the coordinator daemon.

use crate::opts::{DeploymentOpts, KeyOpts, RpcOpts};
use anyhow::Context;
use clap::Args;
use std::{net::SocketAddr, time::Duration};
use vouch_coordinator::CoordinatorConfig;

/// Run the coordinator: the HTTP API (`docs/API.md`), the chain indexer and the job poster.
///
/// It follows the contracts' events into the database and posts jobs on users' behalf, paying each
/// fee from its own account (`VOUCH_PRIVATE_KEY`). Several coordinators can share one PostgreSQL
/// database.
#[derive(Debug, Args)]
pub(crate) struct CoordinatorArgs {
    #[command(flatten)]
    rpc: RpcOpts,
    #[command(flatten)]
    key: KeyOpts,
    #[command(flatten)]
    deployment: DeploymentOpts,
    /// Address the HTTP API listens on.
    #[arg(long, env = "VOUCH_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Database: `sqlite://file.db` (created if missing) or `postgres://user:pass@host/db`.
    #[arg(long, env = "VOUCH_DATABASE_URL", default_value = "sqlite://vouch.db")]
    database_url: String,
    /// Blocks an event needs on top of it before it is indexed.
    #[arg(long, env = "VOUCH_CONFIRMATIONS", default_value_t = 0)]
    confirmations: u64,
    /// Time to live of jobs posted without one, in seconds.
    #[arg(long, env = "VOUCH_JOB_TTL_SECS", default_value_t = 3600)]
    job_ttl_secs: u64,
    /// Largest HTTP request body, in bytes.
    #[arg(long, env = "VOUCH_MAX_BODY_BYTES", default_value_t = 1 << 20)]
    max_body_bytes: usize,
}

impl CoordinatorArgs {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        let mut config = CoordinatorConfig::new(
            self.database_url,
            self.listen,
            self.rpc.config(),
            self.deployment.load()?,
            self.key.signer()?,
        );
        config.confirmations = self.confirmations;
        config.default_job_ttl = Duration::from_secs(self.job_ttl_secs);
        config.max_body_bytes = self.max_body_bytes;
        let handle = vouch_coordinator::serve(config)
            .await
            .context("starting the coordinator")?;
        eprintln!("coordinator listening on http://{}", handle.local_addr());
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        handle.shutdown().await;
        Ok(())
    }
}
