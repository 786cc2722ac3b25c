//! `cargo run --release -p vouch-bench --bin llm-listing -- --model smollm2.vlm`: what listing a
//! language model on chain costs, measured on a fresh anvil (PROTOCOL §7.1, docs/GAS.md): the
//! transactions, their gas, the bytes of calldata and the wall time of `list_llm`, then the time to
//! read the model back from events alone (`fetch_llm`) and the check that it is the listed model.

use alloy::{eips::BlockNumberOrTag, primitives::U256, providers::Provider};
use anyhow::Context;
use clap::Parser;
use std::{path::PathBuf, time::Instant};
use vouch_chain::{
    ChainClient, ChainConfig, MarketParams,
    anvil::LocalChain,
    deploy,
    llm::{LlmPublication, fetch_llm, list_llm},
};
use vouch_llm::{int, trace::ModelCommitment};

/// List a language model on a fresh anvil and read it back: transactions, gas, bytes, time.
#[derive(Debug, Parser)]
struct Args {
    /// The imported integer model (`vouch model import`).
    #[arg(long)]
    model: PathBuf,
}

/// Gas of every block in `from..=to` (a fresh dev chain: only the listing's transactions).
async fn gas_used(provider: &impl Provider, from: u64, to: u64) -> anyhow::Result<u64> {
    let mut gas = 0;
    for n in from..=to {
        let block = provider
            .get_block_by_number(BlockNumberOrTag::Number(n))
            .await?
            .with_context(|| format!("block {n}"))?;
        gas += block.header.gas_used;
    }
    Ok(gas)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let model = int::load(&args.model).with_context(|| {
        format!(
            "loading {} (import one: vouch model import \"$(scripts/fetch-smollm2.sh)\" --calibration models/llm/calibration.txt --out {0})",
            args.model.display()
        )
    })?;
    let publication = LlmPublication::of(&model);
    let (leaves, bytes) = publication.size();
    println!(
        "model: {} ops, {leaves} leaves, {bytes} bytes of rows, a card of {} bytes, root {}",
        publication.ops.len(),
        publication.card.len(),
        publication.root
    );

    let chain = LocalChain::start(None)?;
    let client =
        ChainClient::connect(&ChainConfig::local(chain.endpoint()), chain.signer(0)).await?;
    let deployment = deploy(
        &client,
        MarketParams::new(3600, U256::from(10u64.pow(18)), 1_000_000_000),
    )
    .await?;
    let provider = client.provider();
    let first = provider.get_block_number().await? + 1;

    let began = Instant::now();
    let mut last = 0;
    let mut transactions = 0;
    let id = list_llm(
        &client,
        &deployment,
        &model,
        vouch_chain::llm::LlmPrice::default(),
        0,
        "smollm2",
        &mut |done, total| {
            transactions = total;
            if done * 20 / total != last * 20 / total || done == total {
                eprintln!(
                    "  {done}/{total} transactions, {:.0} s",
                    began.elapsed().as_secs_f64()
                );
            }
            last = done;
        },
    )
    .await?;
    let listed = began.elapsed().as_secs_f64();
    let head = provider.get_block_number().await?;
    let gas = gas_used(provider, first, head).await?;
    println!(
        "listed as model {id}: {transactions} transactions in {listed:.1} s, {gas} gas ({:.1} gas a byte of rows)",
        gas as f64 / bytes as f64
    );

    let began = Instant::now();
    let back = fetch_llm(provider, &deployment, id, &mut |_, _| ()).await?;
    let fetched = began.elapsed().as_secs_f64();
    anyhow::ensure!(
        ModelCommitment::new(&back).root == publication.root,
        "the model read back is not the listed one"
    );
    println!("read back from events alone and root-checked in {fetched:.1} s");
    Ok(())
}
