//! The challenger's error type.

/// What can stop a challenger step.
#[derive(Debug, thiserror::Error)]
pub enum ChallengerError {
    /// Talking to the chain failed.
    #[error(transparent)]
    Chain(#[from] vouch_chain::ChainError),
    /// A model or trace failed to load or run, or a witness failed its pre-flight check.
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

impl ChallengerError {
    /// Errors worth retrying the whole step for (the node is down or slow, the disk hiccuped).
    pub fn is_transient(&self) -> bool {
        use vouch_chain::ChainError;
        matches!(
            self,
            ChallengerError::Chain(ChainError::Rpc(_) | ChainError::Timeout { .. })
                | ChallengerError::Io(_)
        )
    }
}

/// `Result` with [`ChallengerError`].
pub type Result<T, E = ChallengerError> = std::result::Result<T, E>;
