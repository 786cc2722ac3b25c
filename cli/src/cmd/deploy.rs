//! `vouch deploy`: deploy the registry and market and write the deployment file.

use crate::opts::{KeyOpts, RpcOpts, parse_wei};
use alloy::primitives::U256;
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use vouch_chain::{ChainClient, MarketParams};

/// Deploy the Vouch contracts to a chain and write their addresses to a deployment file.
#[derive(Debug, Args)]
pub(crate) struct DeployArgs {
    #[command(flatten)]
    rpc: RpcOpts,
    #[command(flatten)]
    key: KeyOpts,
    /// Challenge window in seconds: how long a result can be disputed before it settles.
    #[arg(long, env = "VOUCH_CHALLENGE_WINDOW_SECS", default_value_t = 86_400)]
    window_secs: u64,
    /// Bond a worker posts with every result, in wei.
    #[arg(long, env = "VOUCH_RESULT_BOND_WEI", default_value = "100000000000000000", value_parser = parse_wei)]
    bond_wei: U256,
    /// Gas price, in wei, the challenger bond is sized at: it pays a defender's gas for a whole game
    /// at this price, plus 1 % of the result bond (see `docs/PROTOCOL.md` §6.7).
    #[arg(long, env = "VOUCH_GAS_PRICE_WEI", default_value_t = 20_000_000_000)]
    gas_price_wei: u128,
    /// Each side's chess clock in a dispute game, in seconds (default: the challenge window, at least
    /// 60). In production, no shorter than the chain's forced-inclusion delay.
    #[arg(long, env = "VOUCH_GAME_CLOCK_SECS")]
    game_clock_secs: Option<u64>,
    /// The least time a side always has for one move, in seconds.
    #[arg(long, env = "VOUCH_CLOCK_EXTENSION_SECS", default_value_t = 600)]
    clock_extension_secs: u64,
    /// Where to write the deployment file.
    #[arg(long, short, default_value = "deployment.json")]
    out: PathBuf,
}

impl DeployArgs {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        let client = ChainClient::connect(&self.rpc.config(), self.key.signer()?)
            .await
            .context("connecting to the chain")?;
        let mut params = MarketParams::new(self.window_secs, self.bond_wei, self.gas_price_wei);
        params.clock_extension = self.clock_extension_secs;
        if let Some(clock) = self.game_clock_secs {
            params.game_clock = clock;
        }
        let deployment = vouch_chain::deploy(&client, params)
            .await
            .context("deploying contracts")?;
        std::fs::write(&self.out, serde_json::to_string_pretty(&deployment)?)
            .with_context(|| format!("writing {}", self.out.display()))?;
        println!(
            "registry {}\nmarket   {}\nprover   {}\nLLM prover {}\nchallenge bond {} wei, game clock {} s\nwrote    {}",
            deployment.registry,
            deployment.market,
            deployment.prover,
            deployment.llm_prover,
            params.challenge_bond,
            params.game_clock,
            self.out.display()
        );
        Ok(())
    }
}
