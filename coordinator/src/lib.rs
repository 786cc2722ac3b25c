//! The Vouch coordinator: indexes the contracts' events into SQL (SQLite or PostgreSQL), serves
//! models and jobs over HTTP, and posts jobs on users' behalf, paying the fee from its own account,
//! or prepares the transaction for a user's own wallet to send and pay.
//!
//! [`serve`] runs everything; [`router`] is the HTTP API alone, for tests and embedding;
//! [`keys`] makes the API keys that authorize spending.

pub mod api;
pub mod columns;
pub mod config;
pub mod db;
pub mod error;
pub mod games;
pub mod http;
pub mod indexer;
pub mod jobs;
pub mod keys;
pub mod metrics;
pub mod models;
pub mod prepare;

pub use api::{AppState, router};
pub use config::{ApiConfig, CoordinatorConfig};
pub use error::{ApiError, CoordinatorError, Result};
pub use indexer::Indexer;

use anyhow::Context;
use std::net::SocketAddr;
use tokio::{sync::watch, task::JoinHandle};
use vouch_chain::{ChainClient, Market};

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
    let indexer = Indexer::new(
        pool.clone(),
        client.provider().clone(),
        config.deployment,
        config.confirmations,
    )
    .await
    .context("loading the indexer cursor")?;
    let market = Market::new(client, config.deployment);
    let state = AppState::new(pool, market, config.api.clone());

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
