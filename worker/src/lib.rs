//! The Vouch worker: watches the market for jobs, fetches and verifies models from the chain, serves
//! those its operator opted into (within a resource budget checked before loading), runs them off the
//! event loop — a tensor model with Burn, storing and fsyncing each trace; a language model generating
//! its answer with the canonical integer model, nothing stored (the defence generates it again) —,
//! posts results with a bond, then finalizes and withdraws when the challenge window has passed. A defence loop of its own answers every game
//! against its results. Restart-safe: state lives in its data directory and every action is checked
//! against the chain first. Built on `vouch-agent`.

pub mod defence;
pub mod defender;
pub mod error;
pub mod lie;
pub mod state;
pub mod status;
pub mod worker;

pub use defender::{DefenceReport, Defender};
pub use error::{Result, WorkerError};
pub use lie::Lie;
pub use status::WorkerStatus;
pub use vouch_agent::{Budget, Policy};
pub use worker::{StepReport, Worker, WorkerConfig};
