//! Prometheus metrics of an agent (`--metrics-addr`): its games and most urgent clock, balance and
//! credit, read from the chain on each scrape ([`crate::standing`]); what its loops did since it
//! started, counted in memory ([`Counters`]). Served on `GET /metrics` in the text format
//! ([`vouch_core::metrics`], the coordinator's too).

use crate::{error::Result, standing::Standing};
use axum::{Router, http::header, response::IntoResponse, routing::get};
use std::{
    future::Future,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};
use tokio_util::sync::CancellationToken;
use vouch_core::metrics::{CONTENT_TYPE, Exposition, Kind};

/// What an agent's loops did since the process started (shared by its loops and its metrics).
#[derive(Debug, Clone, Default)]
pub struct Counters(Arc<[AtomicU64; 3]>);

const ANSWERED: usize = 0;
const CHALLENGED: usize = 1;
const FAILED: usize = 2;

impl Counters {
    /// Counts `n` results posted (a worker's answers).
    pub fn answered(&self, n: usize) {
        self.0[ANSWERED].fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Counts `n` games opened (a challenger's challenges).
    pub fn challenged(&self, n: usize) {
        self.0[CHALLENGED].fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Counts `n` events that failed for good (recorded and skipped).
    pub fn failed(&self, n: usize) {
        self.0[FAILED].fetch_add(n as u64, Ordering::Relaxed);
    }

    fn get(&self, i: usize) -> u64 {
        self.0[i].load(Ordering::Relaxed)
    }
}

/// The text exposition of an agent's `standing` and `counters`.
pub fn render(standing: &Standing, counters: &Counters) -> String {
    let mut out = Exposition::default();
    let side = standing.side.as_str();
    out.family(
        "vouch_agent_games_open",
        "Dispute games the agent plays that are still active.",
        Kind::Gauge,
    )
    .sample(
        "vouch_agent_games_open",
        &[("side", side)],
        standing.games.len(),
    );
    if let Some(secs) = standing.most_urgent() {
        out.single(
            "vouch_agent_clock_seconds_left",
            "Seconds left on the agent's own clock in its most urgent game.",
            Kind::Gauge,
            secs,
        );
    }
    out.single(
        "vouch_agent_balance_wei",
        "The account's balance, wei.",
        Kind::Gauge,
        standing.balance,
    )
    .single(
        "vouch_agent_credits_wei",
        "The account's credit in the market (withdrawable), wei.",
        Kind::Gauge,
        standing.credits,
    )
    .single(
        "vouch_agent_jobs_answered_total",
        "Results posted (worker).",
        Kind::Counter,
        counters.get(ANSWERED),
    )
    .single(
        "vouch_agent_results_challenged_total",
        "Results challenged (challenger).",
        Kind::Counter,
        counters.get(CHALLENGED),
    )
    .single(
        "vouch_agent_failures_total",
        "Events that failed for good, recorded in the state file and skipped.",
        Kind::Counter,
        counters.get(FAILED),
    );
    out.finish()
}

/// Serves `GET /metrics` on `addr` until `shutdown`, each scrape answered with what `scrape`
/// renders (a failed scrape is logged and answered 503). Returns the address it listens on.
pub async fn serve<F, Fut>(
    addr: SocketAddr,
    scrape: F,
    shutdown: CancellationToken,
) -> Result<SocketAddr>
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<String>> + Send,
{
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let scrape = scrape.clone();
            async move {
                match scrape().await {
                    Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
                    Err(e) => {
                        tracing::warn!(error = %e, "metrics scrape failed");
                        axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response()
                    }
                }
            }
        }),
    );
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "metrics server failed");
        }
    });
    tracing::info!(%local, "serving metrics on /metrics");
    Ok(local)
}
