//! The language-model demo's chain: anvil with the contracts deployed and the model listed. Listing
//! SmolLM2 is ~2,700 transactions (minutes), so the chain is saved whole after the first run
//! (`anvil_dumpState`: state, blocks and logs) in Vouch's cache and loaded into a fresh anvil on the
//! next — keyed by everything it depends on: the model root, the contracts' code, the market
//! parameters, the price and the anvil version.

use alloy::primitives::{B256, U256, keccak256};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::{path::PathBuf, time::Instant};
use vouch_chain::{
    ChainClient, ChainConfig, Deployment, MarketParams,
    anvil::{self, LocalChain},
    code_hash, deploy,
    llm::{self, LlmPrice},
};
use vouch_llm::IntModel;

/// What a saved chain holds besides the state itself.
#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    deployment: Deployment,
    model_id: U256,
}

/// A chain ready for the demo.
pub(crate) struct DemoChain {
    /// The running anvil.
    pub(crate) chain: LocalChain,
    /// How to reach it.
    pub(crate) config: ChainConfig,
    /// The contracts.
    pub(crate) deployment: Deployment,
    /// The listed model.
    pub(crate) model_id: U256,
}

/// The saved chain's files for this model, contracts, parameters, prices and anvil build.
fn cache_files(
    root: B256,
    params: &MarketParams,
    price: LlmPrice,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let version = std::process::Command::new(anvil::anvil_path()?)
        .arg("--version")
        .output()
        .context("asking anvil its version")?
        .stdout;
    let key = keccak256(
        [
            root.as_slice(),
            code_hash().as_slice(),
            serde_json::to_string(params)?.as_bytes(),
            &price.per_input.to_be_bytes::<32>(),
            &price.per_output.to_be_bytes::<32>(),
            &version,
        ]
        .concat(),
    );
    let dir = vouch_llm::cache_dir().join("dev");
    let stem = format!("llm-{}", &alloy::hex::encode(key)[..16]);
    Ok((
        dir.join(format!("{stem}.state.gz")),
        dir.join(format!("{stem}.json")),
    ))
}

/// Starts anvil (on `port`, 0 for any) with the contracts deployed and `model` listed by the
/// account `owner` of the chain's dev accounts — continuing the chain a previous run saved for the
/// same model, code, parameters and price, or deploying and listing it now (minutes for SmolLM2, a
/// progress bar) and saving it.
pub(crate) async fn prepare(
    port: u16,
    owner: usize,
    model: &IntModel,
    params: MarketParams,
    price: LlmPrice,
) -> anyhow::Result<DemoChain> {
    let publication = llm::LlmPublication::of(model);
    let (state_file, saved_file) = cache_files(publication.root, &params, price)?;
    let port_hint =
        || format!("starting anvil on port {port} (pass --anvil-port 0 for a free port)");
    if let (Ok(state), Ok(saved)) = (std::fs::read(&state_file), std::fs::read(&saved_file)) {
        let saved: Saved = serde_json::from_slice(&saved)
            .with_context(|| format!("reading {}", saved_file.display()))?;
        let began = Instant::now();
        let spinner = crate::progress::spinner();
        spinner.set_message(format!("loading the saved chain {}", state_file.display()));
        let chain =
            LocalChain::start_loaded(Some(port), &state, &state_file).with_context(port_hint)?;
        spinner.finish_and_clear();
        println!(
            "chain        {} (anvil), loaded in {:.0} s from {} (the model was listed by an earlier run)",
            chain.endpoint(),
            began.elapsed().as_secs_f64(),
            state_file.display(),
        );
        return Ok(DemoChain {
            config: ChainConfig::local(chain.endpoint()),
            chain,
            deployment: saved.deployment,
            model_id: saved.model_id,
        });
    }

    let chain = LocalChain::start(Some(port)).with_context(port_hint)?;
    let config = ChainConfig::local(chain.endpoint());
    println!("chain        {} (anvil)", chain.endpoint());
    let client = ChainClient::connect(&config, chain.signer(owner)).await?;
    let deployment = deploy(&client, params)
        .await
        .context("deploying contracts")?;
    let (leaves, bytes) = publication.size();
    println!(
        "listing      {} op trees, {leaves} leaves, {:.1} MB of weights and a {:.1} MB card on chain (once: the chain is saved for the next run)",
        publication.ops.len(),
        bytes as f64 / 1e6,
        publication.card.len() as f64 / 1e6
    );
    let began = Instant::now();
    let (model_id, _) = super::llm::list_with_bar(
        &client,
        &deployment,
        model,
        price,
        1_000,
        "SmolLM2-135M-Instruct",
    )
    .await
    .context("listing the language model")?;
    println!(
        "listed       model {model_id} in {:.0} s",
        began.elapsed().as_secs_f64()
    );
    let state = anvil::dump_state(client.provider()).await?;
    if let Some(dir) = state_file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    vouch_core::durable::write(&state_file, &state)
        .with_context(|| format!("saving the chain to {}", state_file.display()))?;
    vouch_core::durable::write_json(
        &saved_file,
        &Saved {
            deployment,
            model_id,
        },
    )?;
    println!(
        "chain saved  {} ({:.0} MB)",
        state_file.display(),
        state.len() as f64 / 1e6
    );
    Ok(DemoChain {
        chain,
        config,
        deployment,
        model_id,
    })
}
