//! The one error type of the agents (worker and challenger), and which errors are worth retrying.

use std::time::Duration;

/// What can stop an agent step, or the handling of one event.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// Talking to the chain failed.
    #[error(transparent)]
    Chain(#[from] vouch_chain::ChainError),
    /// A model or trace failed to load, or a witness failed its pre-flight check.
    #[error(transparent)]
    Core(#[from] vouch_core::CoreError),
    /// A language model failed to run, or its trace or witness failed a check.
    #[error(transparent)]
    Llm(#[from] vouch_llm::LlmError),
    /// A model failed to run on Burn.
    #[error(transparent)]
    Burn(#[from] vouch_burn::BurnError),
    /// Reading or writing the data directory failed.
    #[error("data directory: {0}")]
    Io(#[from] std::io::Error),
    /// The state file is corrupt.
    #[error("state file {path}: {reason}")]
    State {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The chain says something a correct contract never would.
    #[error("inconsistent chain data: {0}")]
    Inconsistent(String),
    /// An inference ran past its time budget (the run was abandoned).
    #[error("inference of job {job} ran past its {:?} budget", limit)]
    InferenceTimeout {
        /// The job.
        job: String,
        /// The time it was given.
        limit: Duration,
    },
    /// An inference task panicked or was cancelled.
    #[error("inference task failed: {0}")]
    Task(String),
}

impl AgentError {
    /// Errors worth retrying the whole step for (the node is down or slow, the disk hiccuped), as
    /// opposed to an event that can never be handled (the job is taken, the model is refused or
    /// broken, the run timed out), which is recorded and skipped.
    pub fn is_transient(&self) -> bool {
        use vouch_chain::ChainError;
        matches!(
            self,
            AgentError::Chain(ChainError::Rpc(_) | ChainError::Timeout { .. }) | AgentError::Io(_)
        )
    }

    /// Whether this is a missing file (a trace that is not on disk).
    pub fn is_not_found(&self) -> bool {
        match self {
            AgentError::Io(e) => e.kind() == std::io::ErrorKind::NotFound,
            AgentError::Core(vouch_core::CoreError::Io(e)) => {
                e.kind() == std::io::ErrorKind::NotFound
            }
            _ => false,
        }
    }
}

/// `Result` with [`AgentError`].
pub type Result<T, E = AgentError> = std::result::Result<T, E>;
