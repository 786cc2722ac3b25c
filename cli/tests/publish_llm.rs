//! `vouch model publish` for a language model on anvil: a random transformer's `.vlm` listed with a
//! progress bar, its card and op trees on chain; run again, it reports the same Active listing and
//! sends nothing; the model read back from chain data alone is the file's.
//!
//! Every random choice comes from a printed seed; replay a failure with `VOUCH_SEED=<seed>`.

// The shared harness; this test reads the chain through its owner, not its config.
#[allow(dead_code)]
mod common;

use alloy::{primitives::U256, providers::Provider};
use candle_core::quantized::GgmlDType;
use common::{LocalMarket, fresh_dir};
use rand::{SeedableRng, rngs::StdRng};
use std::process::Command;
use vouch_chain::{MarketParams, llm::fetch_llm};
use vouch_llm::{
    int,
    random::{self, Dims},
    trace::ModelCommitment,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_language_model_publishes_and_republishing_sends_nothing() {
    let mut rng = StdRng::seed_from_u64(vouch_core::random::test_seed("cli_publish_llm"));
    let dir = fresh_dir("publish-llm");
    let model = random::model(&mut rng, Dims::TINY, GgmlDType::Q4_0).unwrap();
    let file = dir.join("tiny.vlm");
    int::save(&model, &file).unwrap();
    let market = LocalMarket::start(
        &dir,
        MarketParams::new(60, U256::from(10u64.pow(18)), 1_000_000_000),
    )
    .await;
    let key = format!(
        "0x{}",
        alloy::hex::encode(market.chain.signer(0).to_bytes())
    );
    let publish = || {
        let out = Command::new(env!("CARGO_BIN_EXE_vouch"))
            .args([
                "model",
                "publish",
                file.to_str().unwrap(),
                "--input-token-wei",
                "10",
                "--output-token-wei",
                "30",
            ])
            .args([
                "--royalty-bps",
                "500",
                "--rpc-url",
                &market.chain.endpoint(),
            ])
            .args(["--private-key", &key, "--deployment"])
            .arg(&market.deployment_file)
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        assert!(out.status.success(), "{stdout}{stderr}");
        stdout
    };
    let root = ModelCommitment::new(&model).root;
    let first = publish();
    assert!(
        first.contains(&format!("model 1 active (root {root})")),
        "{first}"
    );
    let blocks = market.owner.provider().get_block_number().await.unwrap();
    let again = publish();
    assert!(again.contains("model 1 active"), "{again}");
    assert_eq!(
        market.owner.provider().get_block_number().await.unwrap(),
        blocks,
        "republishing an Active listing sends nothing"
    );
    let back = fetch_llm(
        market.owner.provider(),
        &market.deployment,
        U256::from(1),
        &mut |_, _| (),
    )
    .await
    .unwrap();
    assert_eq!(ModelCommitment::new(&back).root, root);
}
