//! Everything a coordinator needs to run: where its database and chain are, and its limits.

use alloy::{primitives::U256, signers::local::PrivateKeySigner};
use axum::http::HeaderValue;
use std::{net::SocketAddr, str::FromStr, time::Duration};
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
    /// The HTTP API's limits.
    pub api: ApiConfig,
}

impl CoordinatorConfig {
    /// Settings with the usual limits ([`ApiConfig::default`]) and no confirmations (dev chains).
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
            api: ApiConfig::default(),
        }
    }
}

/// The HTTP API's limits (`docs/API.md`, "Limits").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// Time to live of a job whose request names none.
    pub default_job_ttl: Duration,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Longest request target (path and query) accepted, in bytes.
    pub max_uri_bytes: usize,
    /// Highest model fee the coordinator pays for one job, in wei: jobs on dearer models are refused
    /// whatever the API key's cap.
    pub max_fee_wei: U256,
    /// Time a client has to send a request's headers (and that an idle keep-alive connection is
    /// kept); the connection is closed after it.
    pub header_read_timeout: Duration,
    /// Longest pause allowed while a request body arrives; then `408`.
    pub body_timeout: Duration,
    /// Origins (`https://app.example`) allowed to call the API from a browser; none by default.
    pub cors_origins: Vec<CorsOrigin>,
    /// Most `GET /v1/events` streams open at once; one more gets `503`.
    pub max_event_streams: usize,
    /// How often an idle event stream gets a keep-alive comment.
    pub event_keep_alive: Duration,
}

impl Default for ApiConfig {
    /// 1 hour job TTL, 1 MiB bodies, 8 KiB request targets, 0.01 ETH per job, 5 s to send headers,
    /// 10 s body pauses, no CORS origins, 64 event streams kept alive every 15 s.
    fn default() -> Self {
        Self {
            default_job_ttl: Duration::from_secs(3600),
            max_body_bytes: 1 << 20,
            max_uri_bytes: 8 << 10,
            max_fee_wei: U256::from(10u64.pow(16)),
            header_read_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(10),
            cors_origins: Vec::new(),
            max_event_streams: 64,
            event_keep_alive: Duration::from_secs(15),
        }
    }
}

/// A browser origin allowed to call the API (`https://app.example`, `http://localhost:3000`):
/// scheme, host and port only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsOrigin(HeaderValue);

impl CorsOrigin {
    /// The origin as a header value.
    pub fn header_value(&self) -> &HeaderValue {
        &self.0
    }
}

impl FromStr for CorsOrigin {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| format!("{s:?} is not a CORS origin like https://app.example: {why}");
        let url = url::Url::parse(s).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("the scheme must be http or https"));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(bad("an origin has no path, query or fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("an origin has no user name or password"));
        }
        HeaderValue::from_str(&url.origin().ascii_serialization())
            .map(Self)
            .map_err(|e| bad(&e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_origins_are_scheme_host_and_port() {
        let o: CorsOrigin = "https://App.example:8443".parse().unwrap();
        assert_eq!(o.header_value(), "https://app.example:8443");
        let o: CorsOrigin = "http://localhost:3000/".parse().unwrap();
        assert_eq!(o.header_value(), "http://localhost:3000");
        for bad in [
            "app.example",
            "ftp://app.example",
            "https://app.example/path",
            "https://app.example/?q=1",
            "https://u:p@app.example",
            "*",
        ] {
            assert!(bad.parse::<CorsOrigin>().is_err(), "{bad}");
        }
    }
}
