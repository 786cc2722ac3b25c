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
    /// Tensor data is not int8 elements (JSON), or not as many as its shape holds.
    #[error("malformed tensor: {0}")]
    Tensor(String),
    /// JSON int8 numbers are not arranged as the tensor's shape: flat, or nested as `[H][W][C]`.
    #[error("tensor {0}")]
    Nesting(crate::tensor::Nesting),
    /// A dispute position or index lies outside the game: a step past the last op, an element past the
    /// end of a tensor, a node below the leaves, a byte offset past a leaf.
    #[error("{what} {index} is out of range (limit {limit})")]
    OutOfRange {
        /// What kind of index.
        what: &'static str,
        /// The index given.
        index: usize,
        /// The smallest index that is out of range.
        limit: usize,
    },
    /// A dispute move or one-step witness names data its commitment does not hold: a Merkle path that
    /// does not climb to its root, revealed children or leaf bytes that do not hash to their node.
    #[error("{0} does not match its commitment")]
    ProofMismatch(String),
    /// A one-step witness has the wrong parts: a missing or extra slot or row, data of the wrong length,
    /// or data this op does not read.
    #[error("malformed one-step witness: {0}")]
    MalformedWitness(String),
    /// A move that the game's position does not allow (a walk of the wrong length).
    #[error("invalid move: {0}")]
    InvalidMove(String),
    /// The other party revealed exactly our own values where the game needs a difference: an honest
    /// party never meets this against a commitment it disputes.
    #[error("nothing to dispute: {0}")]
    NoDifference(String),
    /// The other side asked for a node, leaf or slot this party's trees do not hold or cannot open
    /// (a replaced state leaf): the game asks about a commitment that is not this party's.
    #[error("not in our commitment: {0}")]
    NotOurs(String),
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// `Result` with [`CoreError`].
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
