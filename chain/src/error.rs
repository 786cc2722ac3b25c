//! The crate's error type, with contract reverts decoded into the contracts' own custom errors.

use crate::bindings::{
    DisputeGame::DisputeGameErrors, JobMarket::JobMarketErrors, LlmOps::LlmOpsErrors,
    LlmStepProver::LlmStepProverErrors, ModelRegistry::ModelRegistryErrors,
    OneStepProver::OneStepProverErrors,
};
use alloy::primitives::{B256, Bytes};

/// A revert, decoded against the custom errors of every Vouch contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revert {
    /// A `JobMarket` custom error.
    Market(JobMarketErrors),
    /// A `DisputeGame` custom error of its own (one no other contract's ABI declares).
    Game(DisputeGameErrors),
    /// A `ModelRegistry` custom error.
    Registry(ModelRegistryErrors),
    /// A `OneStepProver` custom error (a phase-3 witness that does not prove what it must).
    Prover(OneStepProverErrors),
    /// An `LlmOps` custom error (a language-model row that cannot be its op's operand).
    LlmOps(LlmOpsErrors),
    /// An `LlmStepProver` custom error of its own (a language-model witness that does not prove
    /// what it must); the op arithmetic's errors it passes through decode as [`Revert::LlmOps`].
    LlmProver(LlmStepProverErrors),
    /// Revert data that matches no known error.
    Unknown(Bytes),
}

impl Revert {
    /// Decodes raw revert data.
    pub fn decode(data: &Bytes) -> Self {
        use alloy::sol_types::SolInterface;
        // The game's ABI also declares every error it passes through from the prover, the registry and
        // the market (so a client holding only that ABI decodes them); it is tried last, so those
        // decode as the contract that raises them.
        if let Ok(e) = JobMarketErrors::abi_decode(data) {
            Revert::Market(e)
        } else if let Ok(e) = ModelRegistryErrors::abi_decode(data) {
            Revert::Registry(e)
        } else if let Ok(e) = OneStepProverErrors::abi_decode(data) {
            Revert::Prover(e)
        } else if let Ok(e) = LlmOpsErrors::abi_decode(data) {
            Revert::LlmOps(e)
        } else if let Ok(e) = LlmStepProverErrors::abi_decode(data) {
            Revert::LlmProver(e)
        } else if let Ok(e) = DisputeGameErrors::abi_decode(data) {
            Revert::Game(e)
        } else {
            Revert::Unknown(data.clone())
        }
    }
}

impl std::fmt::Display for Revert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Revert::Market(e) => write!(f, "{e:?}"),
            Revert::Game(e) => write!(f, "{e:?}"),
            Revert::Registry(e) => write!(f, "{e:?}"),
            Revert::Prover(e) => write!(f, "{e:?}"),
            Revert::LlmOps(e) => write!(f, "{e:?}"),
            Revert::LlmProver(e) => write!(f, "{e:?}"),
            Revert::Unknown(d) => write!(f, "unknown revert data {d}"),
        }
    }
}

/// Everything that can go wrong talking to the chain.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The call would revert (found by gas estimation, before anything was sent).
    #[error("transaction would revert: {0}")]
    Reverted(Revert),
    /// The transaction was mined but reverted.
    #[error("transaction {0} reverted on chain")]
    RevertedOnChain(B256),
    /// No receipt within the timeout.
    #[error("transaction {hash} not mined within {secs} s")]
    Timeout {
        /// The pending transaction.
        hash: B256,
        /// The timeout that passed.
        secs: u64,
    },
    /// The RPC endpoint failed or could not be reached.
    #[error("rpc: {0}")]
    Rpc(String),
    /// A contract call's return data or a log could not be decoded.
    #[error("decode: {0}")]
    Decode(String),
    /// Data published on chain does not match its commitment.
    #[error("published data does not match its commitment: {0}")]
    Mismatch(String),
    /// Starting a local node failed.
    #[error("local node: {0}")]
    Node(String),
    /// Reading or writing an agent's cache on disk failed.
    #[error("cache: {0}")]
    Io(#[from] std::io::Error),
    /// A model published on chain does not decode or validate.
    #[error(transparent)]
    Core(#[from] vouch_core::CoreError),
}

impl ChainError {
    /// The decoded revert, if this error is one.
    pub fn revert(&self) -> Option<&Revert> {
        match self {
            ChainError::Reverted(r) => Some(r),
            _ => None,
        }
    }
}

/// `Result` with [`ChainError`].
pub type Result<T, E = ChainError> = std::result::Result<T, E>;
