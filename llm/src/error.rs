//! The crate's one error type.

/// Why a model could not be read, imported or run.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// A file could not be read or written.
    #[error("I/O: {0}")]
    Io(String),
    /// A file is malformed or inconsistent.
    #[error("malformed model: {0}")]
    Format(String),
    /// A well-formed file uses something this importer does not implement.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The tokenizer could not be built or failed on a text.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// A request the model cannot serve (bad token id, context exhausted, …).
    #[error("invalid request: {0}")]
    Request(String),
    /// Quantization found a value it cannot represent in the canonical format.
    #[error("quantization: {0}")]
    Quantize(String),
}

/// Result with [`LlmError`].
pub type Result<T> = std::result::Result<T, LlmError>;
