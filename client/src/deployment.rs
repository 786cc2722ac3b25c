//! `GET /v1/deployment`: the chain and contracts a coordinator follows.

use serde::{Deserialize, Serialize};

/// `GET /v1/deployment` answer: where the contracts are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentInfo {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// The `ModelRegistry`.
    pub registry: String,
    /// The `JobMarket`.
    pub market: String,
    /// The `DisputeGame` (deployed by the market; PROTOCOL §6).
    pub game: String,
    /// The `OneStepProver`.
    pub prover: String,
    /// The `LlmStepProver` (the one step of a language model's result).
    pub llm_prover: String,
    /// Block of the first deployment transaction (where indexing starts).
    pub start_block: u64,
}
