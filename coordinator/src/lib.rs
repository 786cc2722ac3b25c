//! The Vouch coordinator: indexes the contracts' events into SQL (SQLite or PostgreSQL), serves
//! models, jobs, games and accounts over HTTP (with a live event stream and a dashboard), and posts
//! jobs on users' behalf, paying the fee from its own account, or prepares the transaction for a
//! user's own wallet to send and pay.
//!
//! [`serve`] runs everything; [`router`] is the HTTP API alone, for tests and embedding;
//! [`keys`] makes the API keys that authorize spending.

pub mod accounts;
pub mod api;
pub mod cards;
pub mod columns;
pub mod config;
mod dashboard;
pub mod db;
pub mod error;
pub mod events;
pub mod games;
pub mod http;
pub mod indexer;
pub mod input;
pub mod jobs;
pub mod keys;
pub mod metrics;
pub mod models;
pub mod prepare;
mod stream;

pub use api::{AppState, router};
pub use config::{ApiConfig, CoordinatorConfig};
pub use error::{ApiError, CoordinatorError, Result};
pub use indexer::Indexer;

use alloy::{primitives::U256, signers::local::PrivateKeySigner};
use anyhow::Context;
use std::{net::SocketAddr, path::Path, time::Duration};
use tokio::{sync::watch, task::JoinHandle};
use vouch_chain::{ChainClient, ChainConfig, Deployment, Market};

/// A running coordinator: its HTTP server and indexer tasks.
#[derive(Debug)]
pub struct CoordinatorHandle {
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    indexer: JoinHandle<()>,
}

impl CoordinatorHandle {
    /// Where the HTTP server listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting requests, lets in-flight ones finish, stops the indexer after its current
    /// batch, and waits for both.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        match self.server.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "HTTP server failed"),
            Err(e) => tracing::error!(error = %e, "HTTP server task panicked"),
        }
        if let Err(e) = self.indexer.await {
            tracing::error!(error = %e, "indexer task panicked");
        }
    }
}

/// Connects to the database (migrating it) and the chain, then spawns the indexer and the HTTP
/// server on `config.listen`.
pub async fn serve(config: CoordinatorConfig) -> anyhow::Result<CoordinatorHandle> {
    let pool = db::connect(&config.database_url)
        .await
        .context("opening the database")?;
    let client = ChainClient::connect(&config.chain, config.poster_key.clone())
        .await
        .context("connecting to the chain")?;
    let provider = client.provider().clone();
    let market = Market::new(client, config.deployment);
    let state = AppState::new(pool.clone(), market, config.api.clone());
    let indexer = Indexer::new(pool, provider, config.deployment, config.confirmations)
        .await
        .context("loading the indexer cursor")?
        .with_feed(state.events.clone())
        .with_cards(state.cards.clone());
    let feed = state.events.clone();

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let local_addr = listener.local_addr()?;
    let (shutdown, signal) = watch::channel(false);

    let indexer = tokio::spawn(indexer.run(config.chain.poll_interval, signal.clone()));
    let mut server_signal = signal;
    let server = tokio::spawn(http::serve_http(
        listener,
        router(state),
        config.api.header_read_timeout,
        async move {
            let _ = server_signal.wait_for(|stop| *stop).await;
            // Open event streams end, so they do not hold up the graceful shutdown.
            feed.close();
        },
    ));
    tracing::info!(%local_addr, "coordinator listening");
    Ok(CoordinatorHandle {
        local_addr,
        shutdown,
        server,
        indexer,
    })
}

/// A running local coordinator and the API key made for it.
#[derive(Debug)]
pub struct LocalCoordinator {
    /// The coordinator.
    pub handle: CoordinatorHandle,
    /// Its base URL (`http://127.0.0.1:…`).
    pub url: String,
    /// The secret of its API key (`Authorization: Bearer …`).
    pub api_key: String,
}

/// A coordinator for local runs (the demos, the scale benchmark): SQLite in `dir`, HTTP on `listen`,
/// posting as `poster`, jobs open 10 minutes by default, and one API key named `key_name` for 600
/// requests a minute and `fees` wei of fees in all.
pub async fn serve_local(
    dir: &Path,
    listen: SocketAddr,
    chain: &ChainConfig,
    deployment: Deployment,
    poster: PrivateKeySigner,
    key_name: &str,
    fees: U256,
) -> anyhow::Result<LocalCoordinator> {
    let database_url = format!("sqlite://{}", dir.join("coordinator.db").display());
    let mut config = CoordinatorConfig::new(
        database_url.clone(),
        listen,
        chain.clone(),
        deployment,
        poster,
    );
    config.api.default_job_ttl = Duration::from_secs(600);
    let handle = serve(config).await.context("starting the coordinator")?;
    let url = format!("http://{}", handle.local_addr());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let api_key = keys::create(&db::connect(&database_url).await?, key_name, 600, fees, now)
        .await
        .context("creating the API key")?
        .secret;
    Ok(LocalCoordinator {
        handle,
        url,
        api_key,
    })
}
