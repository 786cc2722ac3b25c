//! The crate's error type.

/// Everything that can go wrong in `vouch-core`.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// A model file or op encoding could not be decoded.
    #[error("malformed model encoding: {0}")]
    Decode(String),
    /// A model decoded but breaks a registration rule.
    #[error("invalid model, op {op}: {reason}")]
    InvalidOp {
        /// Index of the offending op.
        op: usize,
        /// What rule it breaks.
        reason: String,
    },
    /// A model-level rule is broken (no ops, bad header).
    #[error("invalid model: {0}")]
    InvalidModel(String),
    /// An input tensor does not have the model's input length.
    #[error("input has {actual} elements, the model takes {expected}")]
    InputLength {
        /// Elements the model expects.
        expected: usize,
        /// Elements given.
        actual: usize,
    },
    /// A trace file is malformed or does not fit the model.
    #[error("malformed trace: {0}")]
    Trace(String),
    /// Tensor text (JSON) could not be parsed into an int8 tensor.
    #[error("malformed tensor: {0}")]
    Tensor(String),
    /// The Burn backend failed to execute or read back a tensor.
    #[error("burn execution failed: {0}")]
    Burn(String),
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// `Result` with [`CoreError`].
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
