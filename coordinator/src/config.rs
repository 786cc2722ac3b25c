//! Everything a coordinator needs to run: where its database and chain are, and its limits.

use alloy::signers::local::PrivateKeySigner;
use std::{net::SocketAddr, time::Duration};
use vouch_chain::{ChainConfig, Deployment};

/// A coordinator's settings.
#[derive(Debug, Clone)]
pub struct CoordinatorConfig {
    /// `sqlite://path/to/file.db` (created if missing) or `postgres://…`.
    pub database_url: String,
    /// Address the HTTP server binds (port 0 picks a free one).
    pub listen: SocketAddr,
    /// How to reach the chain.
    pub chain: ChainConfig,
    /// The contracts to follow and post to.
    pub deployment: Deployment,
    /// Blocks an event needs on top of it before it is indexed.
    pub confirmations: u64,
    /// The account that sends `postJob` and pays the fees.
    pub poster_key: PrivateKeySigner,
    /// Time to live of a job whose request names none.
    pub default_job_ttl: Duration,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl CoordinatorConfig {
    /// Settings with the usual limits: 1 hour job TTL, 1 MiB bodies, no confirmations (dev chains).
    pub fn new(
        database_url: impl Into<String>,
        listen: SocketAddr,
        chain: ChainConfig,
        deployment: Deployment,
        poster_key: PrivateKeySigner,
    ) -> Self {
        Self {
            database_url: database_url.into(),
            listen,
            chain,
            deployment,
            confirmations: 0,
            poster_key,
            default_job_ttl: Duration::from_secs(3600),
            max_body_bytes: 1 << 20,
        }
    }
}
