//! The Vouch worker: watches the market for jobs, fetches and verifies models from the chain, runs
//! them with Burn, stores and fsyncs each trace, posts results with a bond, then finalizes and
//! withdraws when the challenge window has passed. Restart-safe: state lives in its data directory
//! and every action is checked against the chain first.

pub mod defence;
pub mod error;
pub mod lie;
pub mod state;
pub mod worker;

pub use error::{Result, WorkerError};
pub use lie::Lie;
pub use worker::{StepReport, Worker, WorkerConfig};
