//! Deploying the contracts and describing where they live.

use crate::{
    bindings::{JobMarket, LlmStepProver, ModelRegistry, OneStepProver},
    client::ChainClient,
    error::{ChainError, Result},
    market::call_err,
};
use alloy::primitives::{Address, U256};
use serde::{Deserialize, Serialize};
use vouch_core::dispute::CHALLENGER_MOVE_GAS;

/// Deployment parameters of the market (PROTOCOL.md §5.2, §6.6, §6.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketParams {
    /// Seconds after submission during which a result can be challenged.
    pub challenge_window: u64,
    /// Bond a worker posts with each result, in wei.
    pub result_bond: U256,
    /// Bond a challenger posts with each game, in wei.
    pub challenge_bond: U256,
    /// Each side's chess clock at the start of a game, in seconds.
    pub game_clock: u64,
    /// The least time a side always has for one move, in seconds.
    pub clock_extension: u64,
    /// Share of a losing bond that is burned, in basis points (≥ 5000).
    pub burn_bps: u16,
    /// What the share rule repays a game per challenger move when a result is overturned, in wei
    /// (PROTOCOL §6.5): the gas of the costliest challenger move at the assumed gas price.
    pub move_reward: U256,
}

/// Gas a defender spends on a whole game at worst, derived from the limits every listed model keeps
/// (PROTOCOL §6.8, `vouch_core::dispute::defender_game_gas`).
pub use vouch_core::dispute::DEFENDER_GAME_GAS;

impl MarketParams {
    /// A market with this window and result bond, and game parameters derived from them: half of every
    /// losing bond burned, a challenger bond whose unburned half pays the defender's gas for a whole game
    /// at `gas_price_wei` plus 1 % of the result bond (the cost of having it locked for the game), clocks
    /// of one window each with a 10-minute extension.
    pub fn new(challenge_window: u64, result_bond: U256, gas_price_wei: u128) -> Self {
        let burn_bps = 5000;
        Self {
            challenge_window,
            result_bond,
            challenge_bond: Self::challenge_bond_for(result_bond, gas_price_wei, burn_bps),
            game_clock: challenge_window.max(60),
            clock_extension: 600,
            burn_bps,
            move_reward: U256::from(CHALLENGER_MOVE_GAS) * U256::from(gas_price_wei),
        }
    }

    /// The challenger bond whose part that reaches the defender when the challenger loses (all but
    /// `burn_bps`) covers the defender's whole game at `gas_price_wei` plus 1 % of the worker's bond for
    /// locking it while the game runs: `(gas · price + bond / 100) · 10000 / (10000 − burn_bps)`, rounded up.
    pub fn challenge_bond_for(result_bond: U256, gas_price_wei: u128, burn_bps: u16) -> U256 {
        let cost = U256::from(DEFENDER_GAME_GAS) * U256::from(gas_price_wei)
            + result_bond / U256::from(100);
        let kept = U256::from(10_000 - u64::from(burn_bps.min(9_999)));
        (cost * U256::from(10_000)).div_ceil(kept)
    }
}

/// Addresses of a Vouch deployment, plus the block it starts at (where indexers begin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The `ModelRegistry`.
    pub registry: Address,
    /// The `JobMarket`.
    pub market: Address,
    /// The `DisputeGame` the market deployed in its constructor.
    pub game: Address,
    /// The `OneStepProver` the market's games call in phase 3.
    pub prover: Address,
    /// The `LlmStepProver` the games call in phase 3 of a language model's result.
    pub llm_prover: Address,
    /// Block of the first deployment transaction.
    pub start_block: u64,
}

/// The hash of the code [`deploy`] deploys (the registry, both provers, the market with its game's
/// creation code inside): a saved chain is reused only with the same contracts.
pub fn code_hash() -> alloy::primitives::B256 {
    alloy::primitives::keccak256(
        [
            &ModelRegistry::BYTECODE[..],
            &OneStepProver::BYTECODE[..],
            &LlmStepProver::BYTECODE[..],
            &JobMarket::BYTECODE[..],
        ]
        .concat(),
    )
}

/// Deploys a registry, the two one-step provers reading it (tensor models, language models), and a
/// market bound to them (which deploys its dispute game).
pub async fn deploy(client: &ChainClient, params: MarketParams) -> Result<Deployment> {
    let provider = client.provider();
    let created = |receipt: alloy::rpc::types::TransactionReceipt, what: &str| {
        receipt
            .contract_address
            .ok_or_else(|| ChainError::Decode(format!("{what}: no contract address")))
    };
    let receipt = client
        .send(ModelRegistry::deploy_builder(provider).into_transaction_request())
        .await?;
    let start_block = receipt.block_number.unwrap_or_default();
    let registry = created(receipt, "registry")?;
    let receipt = client
        .send(OneStepProver::deploy_builder(provider, registry).into_transaction_request())
        .await?;
    let prover = created(receipt, "prover")?;
    let receipt = client
        .send(LlmStepProver::deploy_builder(provider, registry).into_transaction_request())
        .await?;
    let llm_prover = created(receipt, "language-model prover")?;
    let config = JobMarket::MarketConfig {
        challengeWindow: params.challenge_window,
        resultBond: params.result_bond,
        challengeBond: params.challenge_bond,
        gameClock: params.game_clock,
        clockExtension: params.clock_extension,
        burnBps: params.burn_bps,
        moveReward: params.move_reward,
    };
    let tx = JobMarket::deploy_builder(provider, registry, prover, llm_prover, config)
        .into_transaction_request();
    let market = created(client.send(tx).await?, "market")?;
    let game = JobMarket::new(market, provider)
        .game()
        .call()
        .await
        .map_err(call_err)?;
    Ok(Deployment {
        registry,
        market,
        game,
        prover,
        llm_prover,
        start_block,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unburned_part_of_a_lost_challenger_bond_pays_the_defence() {
        let result_bond = U256::from(10u64.pow(18));
        for (price, burn) in [
            (1u128, 5000u16),
            (10_000_000_000, 5000),
            (10_000_000_000, 7500),
        ] {
            let bond = MarketParams::challenge_bond_for(result_bond, price, burn);
            let to_defender = bond - bond * U256::from(burn) / U256::from(10_000);
            let cost =
                U256::from(DEFENDER_GAME_GAS) * U256::from(price) + result_bond / U256::from(100);
            assert!(
                to_defender >= cost,
                "{to_defender} < {cost} at {price} wei, {burn} bps"
            );
            // …and not much more: the gross-up is exact up to rounding.
            assert!(
                to_defender - cost <= U256::from(1),
                "{to_defender} vs {cost}"
            );
        }
    }
}
