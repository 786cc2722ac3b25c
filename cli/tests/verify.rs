//! `vouch verify` (the real binary) against a real anvil: an honest settled job verifies; a wrong
//! result that nobody challenged settles anyway and is reported as not matching, with the first
//! differing element; an unknown job and an unsettled one are said to be so.
mod common;

use common::LocalMarket;

use alloy::primitives::U256;
use rand::{SeedableRng, rngs::StdRng};
use serde_json::Value;
use std::{path::Path, process::Command, time::Duration};
use vouch_burn::BurnBackend;
use vouch_chain::{
    ChainClient, JobStatus, Market, MarketParams, anvil, anvil::LocalChain, registry,
};
use vouch_core::{
    random, reference,
    tensor::{self, Tensor},
};
use vouch_worker::{Lie, Policy, Worker, WorkerConfig};

const ETH: u64 = 1_000_000_000_000_000_000;
const WINDOW: u64 = 600;

/// Runs `vouch verify <job> …`: exit code, stdout, stderr.
fn verify(chain: &LocalChain, deployment: &Path, job: u64, json: bool) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vouch"));
    cmd.arg("verify")
        .arg(job.to_string())
        .arg("--rpc-url")
        .arg(chain.endpoint())
        .arg("--deployment")
        .arg(deployment)
        .env("RUST_LOG", "warn");
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().expect("the vouch binary");
    (
        out.status.code().expect("exited"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn hex0x(b: &[u8]) -> String {
    format!("0x{}", alloy::hex::encode(b))
}

#[tokio::test]
async fn verify_passes_an_honest_result_and_names_the_first_wrong_element_of_a_lie() {
    let seed = vouch_core::random::test_seed("verify");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = common::fresh_dir(&format!("verify-{seed}"));
    let LocalMarket {
        chain,
        config,
        owner,
        deployment,
        deployment_file,
    } = LocalMarket::start(
        &dir,
        MarketParams::new(WINDOW, U256::from(ETH), 1_000_000_000),
    )
    .await;

    // One model, listed twice: the honest worker serves the first listing, the liar the second.
    let model = random::random_any_model(&mut rng);
    let fee = U256::from(ETH / 100);
    let mut ids = Vec::new();
    for _ in 0..2 {
        ids.push(
            registry::list_model(&owner, &deployment, &model, fee, 500)
                .await
                .unwrap(),
        );
    }
    let worker = |listing: U256, account: usize, lie: Option<Lie>| {
        let config = WorkerConfig {
            chain: config.clone(),
            deployment,
            data_dir: dir.join(format!("worker-{account}")),
            confirmations: 0,
            poll_interval: Duration::from_millis(50),
            policy: Policy {
                models: Some(vec![listing]),
                ..Policy::default()
            },
            backend: BurnBackend::Flex,
            lie,
        };
        Worker::new(config, chain.signer(account))
    };
    let mut honest = worker(ids[0], 2, None).await.unwrap();
    let mut liar = worker(ids[1], 3, Some(Lie::WrongOutput)).await.unwrap();

    let poster = Market::new(
        ChainClient::connect(&config, chain.signer(1))
            .await
            .unwrap(),
        deployment,
    );
    let deadline = poster.chain_time().await.unwrap() + 3_600;
    let input = random::random_input(&mut rng, &model);
    let mut jobs = Vec::new();
    for &listing in &ids {
        let (job, _) = poster
            .post_job(
                listing,
                &Tensor::new(model.input, input.clone()).unwrap(),
                deadline,
                fee,
            )
            .await
            .unwrap();
        jobs.push(job);
    }
    assert_eq!(honest.step().await.unwrap().submitted, 1);
    assert_eq!(liar.step().await.unwrap().submitted, 1);

    // Nobody challenges: once the window has passed, both results settle.
    let (code, _, err) = verify(&chain, &deployment_file, jobs[0].to(), false);
    assert_eq!(code, 2, "a submitted job is not settled yet: {err}");
    assert!(err.contains("is submitted, not settled"), "{err}");
    anvil::increase_time(owner.provider(), WINDOW + 1)
        .await
        .unwrap();
    assert_eq!(honest.step().await.unwrap().finalized, 1);
    assert_eq!(liar.step().await.unwrap().finalized, 1);
    for &job in &jobs {
        assert_eq!(poster.job(job).await.unwrap().status, JobStatus::Settled);
    }
    let computed = reference::run(&model, &input).unwrap();

    // The honest result verifies, and its receipt names what happened on chain.
    let (code, out, err) = verify(&chain, &deployment_file, jobs[0].to(), true);
    assert_eq!(code, 0, "{out}\n{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["verdict"], "matches", "{report}");
    assert_eq!(report["status"], "settled");
    let receipt = &report["receipt"];
    assert_eq!(receipt["job_id"], jobs[0].to::<u64>());
    assert_eq!(receipt["model_id"], ids[0].to::<u64>());
    assert_eq!(
        receipt["model_root"],
        hex0x(vouch_core::commit::model_root(&model).as_slice())
    );
    assert_eq!(receipt["worker"], hex0x(honest.address().as_slice()));
    assert_eq!(receipt["output"], serde_json::json!(computed.output()));
    assert_eq!(
        receipt["output_bytes"],
        hex0x(&tensor::to_bytes(computed.output()))
    );
    assert_eq!(
        receipt["attempts"].as_array().unwrap().len(),
        1,
        "{receipt}"
    );
    assert_eq!(receipt["games"], serde_json::json!([]));
    let block = |v: &Value| v["block"].as_u64().unwrap();
    assert!(block(&receipt["posted"]) < block(&receipt["attempts"][0]["submitted"]));
    assert!(block(&receipt["attempts"][0]["submitted"]) < block(&receipt["settled"]));
    assert_eq!(report["trace_root"], receipt["trace_root"]);

    // The lie settled too, and is reported with its first wrong element (the liar flips
    // the output's first element).
    let (code, out, err) = verify(&chain, &deployment_file, jobs[1].to(), true);
    assert_eq!(code, 1, "{out}\n{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["verdict"], "output_differs", "{report}");
    let d = &report["first_difference"];
    assert_eq!(d["index"], 0, "{report}");
    assert_eq!(d["computed"], computed.output()[0]);
    assert_ne!(d["settled"], d["computed"]);
    assert_eq!(
        report["receipt"]["worker"],
        hex0x(liar.address().as_slice())
    );
    let (code, out, _) = verify(&chain, &deployment_file, jobs[1].to(), false);
    assert_eq!(code, 1);
    assert!(
        out.contains("NOT MATCHING") && out.contains("element 0 is"),
        "{out}"
    );
    assert!(out.contains("receipt of job"), "{out}");

    // Nothing to check: a job never posted.
    let (code, out, err) = verify(&chain, &deployment_file, 99, true);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("never posted"), "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["status"], "unknown");
}
