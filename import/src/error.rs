//! The crate's one error type.

/// Everything that can go wrong while importing, quantizing or evaluating a model.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The ONNX file could not be read or parsed.
    #[error("reading ONNX: {0}")]
    Onnx(String),
    /// A node uses an operator or attribute the importer does not support.
    #[error("ONNX node {node:?} ({op_type}): {reason}")]
    Unsupported {
        /// The node's name in the ONNX file.
        node: String,
        /// Its ONNX operator type.
        op_type: String,
        /// What about it is unsupported.
        reason: String,
    },
    /// The graph as a whole does not fit (inputs, outputs, shapes).
    #[error("graph: {0}")]
    Graph(String),
    /// Quantization could not produce a valid model.
    #[error("quantization: {0}")]
    Quantize(String),
    /// A data set file is malformed.
    #[error("data set: {0}")]
    Dataset(String),
    /// An input of a data set does not have the model's input shape.
    #[error(
        "input {sample} has shape {actual:?}, the model takes {expected:?} (nested that way, or flat)"
    )]
    SampleShape {
        /// Index of the input in its data set.
        sample: usize,
        /// Its dimensions as written (a flat list: one).
        actual: Vec<usize>,
        /// The model's input shape (ONNX order, no batch dimension).
        expected: Vec<usize>,
    },
    /// An input has the wrong length.
    #[error("input has {actual} values, the model takes {expected}")]
    InputLength {
        /// Elements the model takes.
        expected: usize,
        /// Elements given.
        actual: usize,
    },
    /// An error from the core crate (validation, execution).
    #[error(transparent)]
    Core(#[from] vouch_core::CoreError),
    /// File I/O.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// `Result` with [`ImportError`].
pub type Result<T, E = ImportError> = std::result::Result<T, E>;
