//! What the Vouch worker and challenger share: the agent loop and its shutdown, the durable state
//! (event cursor, failed events, save-if-changed), the trace store keyed by (job, attempt), the model
//! cache of tensor and language models with the operator's policy and the resource budget checked
//! before a model is loaded (and before a language model's job runs), the re-run of a job off the
//! event loop with a timeout, the dispute parties kept across polls, error classification, and
//! withdrawal; where an agent stands on chain (balance, credit, the clocks of its games) and its
//! Prometheus metrics.

pub mod budget;
pub mod daemon;
pub mod error;
pub mod inference;
pub mod metrics;
pub mod models;
pub mod parties;
pub mod policy;
pub mod standing;
pub mod state;
pub mod traces;

pub use budget::{Budget, Footprint};
pub use daemon::{Agent, DaemonFailed, Daemons, run, shutdown_on_signal, withdraw};
pub use error::{AgentError, Result};
pub use inference::{Generated, Inference, Run, Skip, blocking, lm_job};
pub use metrics::Counters;
pub use models::{Admission, LoadedLm, LoadedModel, ModelCache};
pub use parties::Parties;
pub use policy::{Policy, Shard};
pub use standing::{Clock, Standing};
pub use state::{Cursor, StateFile};
pub use traces::TraceStore;
