//! The loop every agent daemon runs: one step, then a pause, until shutdown. A failed step is logged
//! and retried on the next tick (every step is idempotent against the chain).

use std::{fmt, future::Future, time::Duration};
use tokio_util::sync::CancellationToken;

/// A daemon that makes progress one idempotent step at a time (the worker, the challenger).
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
        match agent.step().await {
            Ok(r) if r != A::Report::default() => tracing::debug!(agent = name, ?r, "step"),
            Ok(_) => {}
            Err(e) => tracing::warn!(agent = name, error = %e, "step failed; will retry"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}
