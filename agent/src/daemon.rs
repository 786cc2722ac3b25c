//! The loop every agent daemon runs: one step, then a pause, until shutdown. A failed step is logged
//! and retried on the next tick (every step is idempotent against the chain). Also the shutdown
//! signal and the withdrawal every agent ends its steps with.

use crate::error::Result;
use alloy::primitives::U256;
use std::{fmt, future::Future, time::Duration};
use tokio_util::sync::CancellationToken;
use vouch_chain::Market;

/// A daemon that makes progress one idempotent step at a time (a worker's jobs, its defence, a
/// challenger).
pub trait Agent {
    /// What one step did; the default value means "nothing".
    type Report: Default + PartialEq + fmt::Debug;
    /// Why a step failed.
    type Error: fmt::Display;

    /// One step.
    fn step(&mut self) -> impl Future<Output = Result<Self::Report, Self::Error>> + Send;
}

/// Runs `agent` (named `name` in the logs) one step every `interval` until `shutdown` is cancelled.
pub async fn run<A: Agent + Send>(
    mut agent: A,
    name: &str,
    interval: Duration,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            r = agent.step() => match r {
                Ok(r) if r != A::Report::default() => tracing::debug!(agent = name, ?r, "step"),
                Ok(_) => {}
                Err(e) => tracing::warn!(agent = name, error = %e, "step failed; will retry"),
            },
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// A token cancelled on Ctrl-C or SIGTERM: the daemons stop between steps (a step cut short is
/// redone after a restart; nothing is lost).
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let stop = token.clone();
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
        stop.cancel();
    });
    token
}

/// Withdraws the account's credit in `market`, if any. Returns the amount.
pub async fn withdraw(market: &Market) -> Result<U256> {
    let credit = market.credits(market.client().address()).await?;
    if credit.is_zero() {
        return Ok(credit);
    }
    market.withdraw().await?;
    tracing::info!(amount_wei = %credit, "withdrew earnings");
    Ok(credit)
}

/// A daemon that failed or panicked, by name.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {reason}")]
pub struct DaemonFailed {
    /// The name it was spawned under.
    pub name: String,
    /// Its error, or the panic.
    pub reason: String,
}

/// Daemons spawned on the tokio runtime and stopped together by one token: how the demos and the
/// benchmarks run a whole network in one process.
#[derive(Debug, Default)]
pub struct Daemons {
    shutdown: CancellationToken,
    tasks: Vec<(String, tokio::task::JoinHandle<Result<(), String>>)>,
}

impl Daemons {
    /// Spawns the daemon `run(shutdown)` under `name`.
    pub fn spawn<F, E>(&mut self, name: impl Into<String>, run: impl FnOnce(CancellationToken) -> F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: fmt::Display,
    {
        let daemon = run(self.shutdown.clone());
        let task = tokio::spawn(async move { daemon.await.map_err(|e| e.to_string()) });
        self.tasks.push((name.into(), task));
    }

    /// Cancels every daemon and waits for each to finish; the first that failed is the error.
    pub async fn stop(self) -> Result<(), DaemonFailed> {
        self.shutdown.cancel();
        let mut failed = None;
        for (name, task) in self.tasks {
            let reason = match task.await {
                Ok(Ok(())) => continue,
                Ok(Err(e)) => e,
                Err(e) => e.to_string(),
            };
            failed.get_or_insert(DaemonFailed { name, reason });
        }
        failed.map_or(Ok(()), Err)
    }
}
