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
    /// Where to write the deployment file.
    #[arg(long, short, default_value = "deployment.json")]
    out: PathBuf,
}

impl DeployArgs {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        let client = ChainClient::connect(&self.rpc.config(), self.key.signer()?)
            .await
            .context("connecting to the chain")?;
        let params = MarketParams {
            challenge_window: self.window_secs,
            result_bond: self.bond_wei,
        };
        let deployment = vouch_chain::deploy(&client, params)
            .await
            .context("deploying contracts")?;
        std::fs::write(&self.out, serde_json::to_string_pretty(&deployment)?)
            .with_context(|| format!("writing {}", self.out.display()))?;
        println!(
            "registry {}\nmarket   {}\nwrote    {}",
            deployment.registry,
            deployment.market,
            self.out.display()
        );
        Ok(())
    }
}
