//! A local chain with a language model listed, saved after the first run. Listing SmolLM2 is ~2,700
//! transactions (a minute or more), so the chain is saved whole (`anvil_dumpState`: state, blocks and
//! logs) in Vouch's cache and loaded into a fresh anvil by later runs — keyed by everything it
//! depends on: the model root, the contracts' code, the market parameters, the price and the anvil
//! version. The demo (`vouch dev --model smollm2`) and the scale benchmark start from it.

use super::{LlmPrice, list_llm};
use crate::{
    ChainClient, ChainConfig, ChainError, Deployment, MarketParams, Result,
    anvil::{self, LocalChain},
    code_hash, deploy,
};
use alloy::primitives::{B256, U256, keccak256};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use vouch_llm::{IntModel, trace::ModelCommitment};

/// What a saved chain holds besides the state itself.
#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    deployment: Deployment,
    model_id: U256,
}

/// How the chain came to hold the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Loaded from the state an earlier run saved in this file.
    Loaded(PathBuf),
    /// Deployed and listed now in this many transactions, then saved (this many bytes) in this file.
    Listed {
        /// The listing's transactions.
        transactions: usize,
        /// Where the state was saved.
        saved: PathBuf,
        /// Its size, gzipped.
        bytes: usize,
    },
}

/// What [`listed_chain`] reports while it works.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// Starting anvil from the state saved in this file.
    Loading(&'a Path),
    /// Listing: this many of the listing's transactions are done, of this many.
    Listing(usize, usize),
}

/// A running local chain with the contracts deployed and a language model listed.
pub struct ListedChain {
    /// The running anvil.
    pub chain: LocalChain,
    /// How to reach it.
    pub config: ChainConfig,
    /// The contracts.
    pub deployment: Deployment,
    /// The listed model.
    pub model_id: U256,
    /// Whether it was loaded or listed now.
    pub origin: Origin,
}

/// What the saved chain depends on besides the model and the price.
pub struct ListingTerms<'a> {
    /// The market's parameters at deployment.
    pub params: MarketParams,
    /// Wei per prompt token and per generated token.
    pub price: LlmPrice,
    /// The owner's royalty, in basis points.
    pub royalty_bps: u16,
    /// The listing's metadata URI.
    pub uri: &'a str,
}

/// The saved chain's state and description files for this model root and these terms.
fn cache_files(root: B256, terms: &ListingTerms<'_>) -> Result<(PathBuf, PathBuf)> {
    let version = std::process::Command::new(anvil::anvil_path()?)
        .arg("--version")
        .output()
        .map_err(|e| ChainError::Node(format!("asking anvil its version: {e}")))?
        .stdout;
    let params = serde_json::to_string(&terms.params)
        .map_err(|e| ChainError::Node(format!("encoding the market parameters: {e}")))?;
    let key = keccak256(
        [
            root.as_slice(),
            code_hash().as_slice(),
            params.as_bytes(),
            &terms.price.per_input.to_be_bytes::<32>(),
            &terms.price.per_output.to_be_bytes::<32>(),
            &terms.royalty_bps.to_be_bytes(),
            terms.uri.as_bytes(),
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

/// Starts anvil (on `port`, `None` for any free one) with the contracts deployed and `model` listed
/// by the dev account `owner` — continuing the chain an earlier run saved for the same model, code,
/// terms and anvil build, or deploying and listing it now and saving it.
pub async fn listed_chain(
    port: Option<u16>,
    owner: usize,
    model: &IntModel,
    terms: &ListingTerms<'_>,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<ListedChain> {
    let root = ModelCommitment::new(model).root;
    let (state_file, saved_file) = cache_files(root, terms)?;
    let io = |what: &str, path: &Path, e: &dyn std::fmt::Display| {
        ChainError::Node(format!("{what} {}: {e}", path.display()))
    };
    if let (Ok(state), Ok(saved)) = (std::fs::read(&state_file), std::fs::read(&saved_file)) {
        let saved: Saved =
            serde_json::from_slice(&saved).map_err(|e| io("reading", &saved_file, &e))?;
        progress(Progress::Loading(&state_file));
        let chain = LocalChain::start_loaded(port, &state, &state_file)?;
        return Ok(ListedChain {
            config: ChainConfig::local(chain.endpoint()),
            chain,
            deployment: saved.deployment,
            model_id: saved.model_id,
            origin: Origin::Loaded(state_file),
        });
    }

    let chain = LocalChain::start(port)?;
    let config = ChainConfig::local(chain.endpoint());
    let client = ChainClient::connect(&config, chain.signer(owner)).await?;
    let deployment = deploy(&client, terms.params).await?;
    let mut transactions = 0;
    let model_id = list_llm(
        &client,
        &deployment,
        model,
        terms.price,
        terms.royalty_bps,
        terms.uri,
        &mut |done, total| {
            transactions = total;
            progress(Progress::Listing(done, total));
        },
    )
    .await?;
    let state = anvil::dump_state(client.provider()).await?;
    if let Some(dir) = state_file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io("creating", dir, &e))?;
    }
    vouch_core::durable::write(&state_file, &state)
        .map_err(|e| io("saving the chain to", &state_file, &e))?;
    vouch_core::durable::write_json(
        &saved_file,
        &Saved {
            deployment,
            model_id,
        },
    )
    .map_err(|e| io("saving", &saved_file, &e))?;
    Ok(ListedChain {
        chain,
        config,
        deployment,
        model_id,
        origin: Origin::Listed {
            transactions,
            saved: state_file,
            bytes: state.len(),
        },
    })
}
