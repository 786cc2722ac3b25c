//! The crate's error type.

use vouch_core::CoreError;

/// Everything that can go wrong running a model on Burn.
#[derive(Debug, thiserror::Error)]
pub enum BurnError {
    /// The input does not fit the model (its length).
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The backend failed to execute or read back a tensor.
    #[error("burn execution failed: {0}")]
    Device(String),
}

/// `Result` with [`BurnError`].
pub type Result<T, E = BurnError> = std::result::Result<T, E>;
