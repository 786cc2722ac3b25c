//! The language-model demo's chain: anvil with the contracts deployed and the model listed. Listing
//! SmolLM2 is ~2,700 transactions (minutes), so the chain is saved whole after the first run
//! (`anvil_dumpState`: state, blocks and logs) in Vouch's cache and loaded into a fresh anvil on the
//! next — keyed by everything it depends on: the model root, the contracts' code, the market
//! parameters, the price and the anvil version.

use alloy::{
    primitives::{B256, Bytes, U256, keccak256},
    providers::Provider,
};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::{path::PathBuf, time::Instant};
use vouch_chain::{ChainClient, Deployment, MarketParams, anvil, code_hash, deploy, llm};
use vouch_llm::IntModel;

/// What a saved chain holds besides the state itself.
#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    deployment: Deployment,
    model_id: U256,
}

/// A chain ready for the demo.
pub(crate) struct DemoChain {
    /// The contracts.
    pub(crate) deployment: Deployment,
    /// The listed model.
    pub(crate) model_id: U256,
}

/// The saved chain's files for this model, contracts, parameters, price and anvil.
async fn cache_files(
    owner: &ChainClient,
    root: B256,
    params: &MarketParams,
    fee: U256,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let anvil: String = owner
        .provider()
        .raw_request("web3_clientVersion".into(), ())
        .await
        .context("asking anvil its version")?;
    let key = keccak256(
        [
            root.as_slice(),
            code_hash().as_slice(),
            serde_json::to_string(params)?.as_bytes(),
            &fee.to_be_bytes::<32>(),
            anvil.as_bytes(),
        ]
        .concat(),
    );
    let dir = vouch_llm::cache_dir().join("dev");
    let stem = format!("llm-{}", &alloy::hex::encode(key)[..16]);
    Ok((
        dir.join(format!("{stem}.state")),
        dir.join(format!("{stem}.json")),
    ))
}

/// Deploys the contracts and lists `model` on the fresh anvil `owner` talks to — or loads the chain a
/// previous run saved for the same model, code, parameters and price (before `owner` sends anything,
/// so its nonces come from the loaded chain).
pub(crate) async fn prepare(
    owner: &ChainClient,
    model: &IntModel,
    params: MarketParams,
    fee: U256,
) -> anyhow::Result<DemoChain> {
    let publication = llm::LlmPublication::of(model);
    let (state_file, saved_file) = cache_files(owner, publication.root, &params, fee).await?;
    if let (Ok(state), Ok(saved)) = (std::fs::read(&state_file), std::fs::read(&saved_file)) {
        let saved: Saved = serde_json::from_slice(&saved)
            .with_context(|| format!("reading {}", saved_file.display()))?;
        let began = Instant::now();
        anvil::load_state(owner.provider(), Bytes::from(state))
            .await
            .with_context(|| format!("loading the saved chain {}", state_file.display()))?;
        println!(
            "chain state  loaded from {} in {:.1} s (the model was listed by an earlier run)",
            state_file.display(),
            began.elapsed().as_secs_f64()
        );
        return Ok(DemoChain {
            deployment: saved.deployment,
            model_id: saved.model_id,
        });
    }

    let deployment = deploy(owner, params).await.context("deploying contracts")?;
    let (leaves, bytes) = publication.size();
    println!(
        "listing      {} op trees, {leaves} leaves, {:.1} MB of weights and a {:.1} MB card on chain (once: the chain is saved for the next run)",
        publication.ops.len(),
        bytes as f64 / 1e6,
        publication.card.len() as f64 / 1e6
    );
    let bar = crate::progress::bar("listing (transactions)");
    let began = Instant::now();
    let model_id = llm::list_llm(
        owner,
        &deployment,
        model,
        fee,
        1_000,
        "SmolLM2-135M-Instruct",
        &mut |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    )
    .await
    .context("listing the language model")?;
    bar.finish_and_clear();
    println!(
        "listed       model {model_id} in {:.0} s",
        began.elapsed().as_secs_f64()
    );
    let state = anvil::dump_state(owner.provider()).await?;
    if let Some(dir) = state_file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    vouch_core::durable::write(&state_file, &state)
        .with_context(|| format!("saving the chain to {}", state_file.display()))?;
    vouch_core::durable::write(
        &saved_file,
        serde_json::to_vec_pretty(&Saved {
            deployment,
            model_id,
        })?
        .as_slice(),
    )?;
    println!(
        "chain saved  {} ({:.0} MB)",
        state_file.display(),
        state.len() as f64 / 1e6
    );
    Ok(DemoChain {
        deployment,
        model_id,
    })
}
