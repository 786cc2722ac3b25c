//! `vouch coordinator`: the coordinator daemon, and `vouch coordinator key …` for its API keys.

use crate::opts::{DeploymentOpts, KeyOpts, RpcOpts, parse_wei};
use alloy::primitives::U256;
use anyhow::Context;
use clap::{Args, Subcommand};
use std::{
    net::SocketAddr,
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use vouch_coordinator::{ApiConfig, CoordinatorConfig, config::CorsOrigin, db, keys};

/// Run the coordinator: the HTTP API (`docs/API.md`), the chain indexer and the job poster.
///
/// It follows the contracts' events into the database and posts jobs on users' behalf, paying each
/// fee from its own account (`VOUCH_PRIVATE_KEY`). Posting needs an API key (`vouch coordinator
/// key create`); each key has a rate limit and a spending cap, and no job on a model priced above
/// `--max-fee-wei` is posted. Several coordinators can share one PostgreSQL database (and its keys).
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct CoordinatorArgs {
    #[command(subcommand)]
    command: Option<CoordinatorCommand>,
    #[command(flatten)]
    rpc: RpcOpts,
    /// Hex private key of the account that posts jobs and pays their fees (prefer the
    /// environment variable to the flag). Required to run the daemon, not for `key`.
    #[arg(long, env = "VOUCH_PRIVATE_KEY", hide_env_values = true)]
    private_key: Option<String>,
    #[command(flatten)]
    deployment: DeploymentOpts,
    #[command(flatten)]
    db: DatabaseOpts,
    /// Address the HTTP API listens on.
    #[arg(long, env = "VOUCH_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Blocks an event needs on top of it before it is indexed.
    #[arg(long, env = "VOUCH_CONFIRMATIONS", default_value_t = 0)]
    confirmations: u64,
    /// Time to live of jobs posted without one, in seconds.
    #[arg(long, env = "VOUCH_JOB_TTL_SECS", default_value_t = ApiConfig::default().default_job_ttl.as_secs())]
    job_ttl_secs: u64,
    /// Largest HTTP request body, in bytes.
    #[arg(long, env = "VOUCH_MAX_BODY_BYTES", default_value_t = ApiConfig::default().max_body_bytes)]
    max_body_bytes: usize,
    /// Longest request target (path and query), in bytes.
    #[arg(long, env = "VOUCH_MAX_URI_BYTES", default_value_t = ApiConfig::default().max_uri_bytes)]
    max_uri_bytes: usize,
    /// Highest model fee the coordinator pays for one job, in wei, whatever the API key.
    #[arg(long, env = "VOUCH_MAX_FEE_WEI", value_parser = parse_wei, default_value_t = ApiConfig::default().max_fee_wei)]
    max_fee_wei: U256,
    /// Milliseconds a client has to send a request's headers (also the keep-alive idle limit).
    #[arg(long, env = "VOUCH_HEADER_TIMEOUT_MS", default_value_t = ApiConfig::default().header_read_timeout.as_millis() as u64)]
    header_timeout_ms: u64,
    /// Longest pause, in milliseconds, while a request body arrives.
    #[arg(long, env = "VOUCH_BODY_TIMEOUT_MS", default_value_t = ApiConfig::default().body_timeout.as_millis() as u64)]
    body_timeout_ms: u64,
    /// Browser origins allowed to call the API (CORS), comma-separated, e.g.
    /// `https://app.example`; none by default.
    #[arg(
        long = "cors-origin",
        env = "VOUCH_CORS_ORIGINS",
        value_delimiter = ','
    )]
    cors_origins: Vec<CorsOrigin>,
    /// Most `GET /v1/events` streams (dashboards) open at once; one more gets `503`.
    #[arg(long, env = "VOUCH_MAX_EVENT_STREAMS", default_value_t = ApiConfig::default().max_event_streams)]
    max_event_streams: usize,
    /// Seconds between keep-alive comments on an idle event stream.
    #[arg(long, env = "VOUCH_EVENT_KEEP_ALIVE_SECS", default_value_t = ApiConfig::default().event_keep_alive.as_secs())]
    event_keep_alive_secs: u64,
}

/// Where the coordinator's database is.
#[derive(Debug, Clone, Args)]
struct DatabaseOpts {
    /// Database: `sqlite://file.db` (created if missing) or `postgres://user:pass@host/db`.
    #[arg(long, env = "VOUCH_DATABASE_URL", default_value = "sqlite://vouch.db")]
    database_url: String,
}

#[derive(Debug, Subcommand)]
enum CoordinatorCommand {
    /// Manage the API keys that authorize posting jobs (stored hashed in the database).
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Create a key and print it (once: only its hash is stored).
    Create(KeyCreateArgs),
    /// List the keys with their limits and spending (never the keys themselves).
    List(KeyListArgs),
    /// Revoke a key: it is refused from then on.
    Revoke(KeyRevokeArgs),
}

#[derive(Debug, Args)]
struct KeyCreateArgs {
    #[command(flatten)]
    db: DatabaseOpts,
    /// Who the key is for, in words.
    #[arg(long, default_value = "")]
    name: String,
    /// Spending requests (`POST /v1/jobs`) allowed per minute.
    #[arg(long, default_value_t = 60)]
    rate: u32,
    /// Total fees, in wei, the key may make the coordinator pay.
    #[arg(long, value_parser = parse_wei)]
    cap_wei: U256,
}

#[derive(Debug, Args)]
struct KeyListArgs {
    #[command(flatten)]
    db: DatabaseOpts,
}

#[derive(Debug, Args)]
struct KeyRevokeArgs {
    #[command(flatten)]
    db: DatabaseOpts,
    /// The key's id (the part after `vk_`, shown by `key list`).
    id: String,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl KeyCommand {
    async fn run(self) -> anyhow::Result<()> {
        match self {
            KeyCommand::Create(a) => {
                let pool = db::connect(&a.db.database_url)
                    .await
                    .context("opening the database")?;
                let new = keys::create(&pool, &a.name, a.rate, a.cap_wei, unix_now())
                    .await
                    .context("creating the key")?;
                eprintln!(
                    "API key {} ({:?}): {} requests per minute, cap {} wei. It is shown once; only its hash is stored.",
                    new.key.id, new.key.name, new.key.rate_per_minute, new.key.cap_wei
                );
                println!("{}", new.secret);
            }
            KeyCommand::List(a) => {
                let pool = db::connect(&a.db.database_url)
                    .await
                    .context("opening the database")?;
                for k in keys::list(&pool).await.context("listing keys")? {
                    println!(
                        "{}  {:>5}/min  spent {} of {} wei  {}{}",
                        k.id,
                        k.rate_per_minute,
                        k.spent_wei,
                        k.cap_wei,
                        if k.revoked_at.is_some() {
                            "REVOKED  "
                        } else {
                            ""
                        },
                        k.name
                    );
                }
            }
            KeyCommand::Revoke(a) => {
                let pool = db::connect(&a.db.database_url)
                    .await
                    .context("opening the database")?;
                if !keys::revoke(&pool, &a.id, unix_now()).await? {
                    anyhow::bail!("no active API key {}", a.id);
                }
                eprintln!("API key {} revoked", a.id);
            }
        }
        Ok(())
    }
}

impl CoordinatorArgs {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        if let Some(CoordinatorCommand::Key(key)) = self.command {
            return key.run().await;
        }
        let mut config = CoordinatorConfig::new(
            self.db.database_url,
            self.listen,
            self.rpc.config(),
            self.deployment.load()?,
            KeyOpts {
                private_key: self.private_key.context(
                    "VOUCH_PRIVATE_KEY / --private-key is required to run the coordinator",
                )?,
            }
            .signer()?,
        );
        config.confirmations = self.confirmations;
        config.api = ApiConfig {
            default_job_ttl: Duration::from_secs(self.job_ttl_secs),
            max_body_bytes: self.max_body_bytes,
            max_uri_bytes: self.max_uri_bytes,
            max_fee_wei: self.max_fee_wei,
            header_read_timeout: Duration::from_millis(self.header_timeout_ms),
            body_timeout: Duration::from_millis(self.body_timeout_ms),
            cors_origins: self.cors_origins,
            max_event_streams: self.max_event_streams,
            event_keep_alive: Duration::from_secs(self.event_keep_alive_secs.max(1)),
        };
        let handle = vouch_coordinator::serve(config)
            .await
            .context("starting the coordinator")?;
        eprintln!(
            "coordinator listening on http://{0} (dashboard: http://{0}/)",
            handle.local_addr()
        );
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        handle.shutdown().await;
        Ok(())
    }
}
