//! The worker's error type.

/// What can stop a worker step.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// Talking to the chain failed.
    #[error(transparent)]
    Chain(#[from] vouch_chain::ChainError),
    /// A model or trace failed to load or run.
    #[error(transparent)]
    Core(#[from] vouch_core::CoreError),
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
}

/// `Result` with [`WorkerError`].
pub type Result<T, E = WorkerError> = std::result::Result<T, E>;
