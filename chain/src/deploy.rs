//! Deploying the contracts and describing where they live.

use crate::{
    bindings::{JobMarket, ModelRegistry},
    client::ChainClient,
    error::{ChainError, Result},
};
use alloy::primitives::{Address, U256};
use serde::{Deserialize, Serialize};

/// Deployment parameters of the market (PROTOCOL.md §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketParams {
    /// Seconds after submission during which a result can be challenged.
    pub challenge_window: u64,
    /// Bond a worker posts with each result, in wei.
    pub result_bond: U256,
}

/// Addresses of a Vouch deployment, plus the block it starts at (where indexers begin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The `ModelRegistry`.
    pub registry: Address,
    /// The `JobMarket`.
    pub market: Address,
    /// Block of the first deployment transaction.
    pub start_block: u64,
}

/// Deploys a registry and a market bound to it.
pub async fn deploy(client: &ChainClient, params: MarketParams) -> Result<Deployment> {
    let provider = client.provider();
    let tx = ModelRegistry::deploy_builder(provider).into_transaction_request();
    let receipt = client.send(tx).await?;
    let registry = receipt
        .contract_address
        .ok_or_else(|| ChainError::Decode("registry: no contract address".into()))?;
    let start_block = receipt.block_number.unwrap_or_default();
    let tx = JobMarket::deploy_builder(
        provider,
        registry,
        params.challenge_window,
        params.result_bond,
    )
    .into_transaction_request();
    let receipt = client.send(tx).await?;
    let market = receipt
        .contract_address
        .ok_or_else(|| ChainError::Decode("market: no contract address".into()))?;
    Ok(Deployment {
        registry,
        market,
        start_block,
    })
}
