//! The happy path on a real anvil with the real contracts and the real worker loop:
//! post → submit → window → finalize → withdraw, with every balance checked to the wei.

use alloy::{primitives::U256, providers::Provider};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::time::Duration;
use vouch_burn::BurnBackend;
use vouch_chain::{
    ChainClient, ChainConfig, JobStatus, Market, MarketParams, Revert, anvil, anvil::LocalChain,
    bindings::JobMarket::JobMarketErrors, deploy, registry,
};
use vouch_core::{Shape, random, reference, tensor::Tensor};
use vouch_worker::{Policy, Worker, WorkerConfig};

const ETH: u64 = 1_000_000_000_000_000_000;

#[tokio::test]
async fn a_job_settles_and_everyone_is_paid_to_the_wei() {
    let seed = vouch_core::random::test_seed("settlement");
    let mut rng = StdRng::seed_from_u64(seed);

    let chain = LocalChain::start(None).unwrap();
    let config = ChainConfig::local(chain.endpoint());
    let owner = ChainClient::connect(&config, chain.signer(0))
        .await
        .unwrap();
    let poster = ChainClient::connect(&config, chain.signer(1))
        .await
        .unwrap();
    let window = 3_600;
    let bond = U256::from(ETH);
    let deployment = deploy(&owner, MarketParams::new(window, bond, 1_000_000_000))
        .await
        .unwrap();

    let model = random::random_model(&mut rng, &[64, 32, 10]);
    let fee = U256::from(ETH / 10) + U256::from(rng.random_range(0..1_000_000u64));
    let royalty_bps = 1_234;
    let model_id = registry::list_model(&owner, &deployment, &model, fee, royalty_bps)
        .await
        .unwrap();

    let provider = owner.provider().clone();
    let accounts = [owner.address(), poster.address(), chain.signer(2).address()];
    let start = provider.get_block_number().await.unwrap() + 1;
    let mut before = Vec::new();
    for a in accounts {
        before.push(provider.get_balance(a).await.unwrap());
    }

    // The poster posts a job.
    let market = Market::new(poster.clone(), deployment);
    let input = random::random_input(&mut rng, &model);
    let deadline = market.chain_time().await.unwrap() + 600;
    let (job_id, _) = market
        .post_job(
            model_id,
            &Tensor::new(model.input, input.clone()).unwrap(),
            deadline,
            fee,
        )
        .await
        .unwrap();

    // The worker picks it up and answers with the reference interpreter's output.
    let dir = std::env::temp_dir().join(format!("vouch-settlement-{seed}"));
    let _ = std::fs::remove_dir_all(&dir);
    let worker_config = WorkerConfig {
        chain: config.clone(),
        deployment,
        data_dir: dir.clone(),
        confirmations: 0,
        poll_interval: Duration::from_millis(50),
        policy: Policy::default(),
        backend: BurnBackend::Flex,
        lie: None,
    };
    let mut worker = Worker::new(worker_config.clone(), chain.signer(2))
        .await
        .unwrap();
    let report = worker.step().await.unwrap();
    assert_eq!(report.submitted, 1);
    let job = market.job(job_id).await.unwrap();
    assert_eq!(job.status, JobStatus::Submitted);
    assert_eq!(job.worker, accounts[2]);
    let expected = reference::run(&model, &input).unwrap().commitments();
    assert_eq!(job.output_root, expected.output_root);
    assert_eq!(job.trace_root, expected.trace_root(accounts[2]));
    assert!(
        dir.join(format!("traces/job-{job_id}-1.trace")).is_file(),
        "trace persisted"
    );

    // Inside the window nobody can finalize: a typed revert, and the worker waits.
    let err = market.finalize(job_id).await.unwrap_err();
    assert!(
        matches!(
            err.revert(),
            Some(Revert::Market(JobMarketErrors::ChallengeWindowOpen(_)))
        ),
        "{err}"
    );
    // A second submission is refused too.
    let err = market
        .submit_result(
            job_id,
            expected.output_root,
            expected.trace_root(accounts[2]),
            &[0; 10],
            bond,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.revert(),
            Some(Revert::Market(JobMarketErrors::JobNotOpen(_)))
        ),
        "{err}"
    );
    drop(worker);

    // A restarted worker (fresh process, same data dir) still settles it once the window passes.
    anvil::increase_time(&provider, window).await.unwrap();
    let mut worker = Worker::new(worker_config, chain.signer(2)).await.unwrap();
    let report = worker.step().await.unwrap();
    assert_eq!(report.finalized, 1);
    let royalty = fee * U256::from(royalty_bps) / U256::from(10_000);
    assert_eq!(report.withdrawn, fee - royalty + bond);
    assert_eq!(market.job(job_id).await.unwrap().status, JobStatus::Settled);
    assert!(
        !dir.join(format!("traces/job-{job_id}-1.trace")).exists(),
        "trace dropped after settlement"
    );

    // The owner withdraws the royalty.
    let owner_market = Market::new(owner.clone(), deployment);
    assert_eq!(
        owner_market.credits(owner.address()).await.unwrap(),
        royalty
    );
    owner_market.withdraw().await.unwrap();

    // Balances to the wei: each account's change is its payout minus its own gas.
    let gas = anvil::gas_spent(&provider, start, &accounts).await.unwrap();
    let mut after = Vec::new();
    for a in accounts {
        after.push(provider.get_balance(a).await.unwrap());
    }
    assert_eq!(after[0], before[0] + royalty - gas[0], "owner");
    assert_eq!(after[1], before[1] - fee - gas[1], "poster");
    assert_eq!(after[2], before[2] + fee - royalty - gas[2], "worker");
    assert_eq!(
        provider.get_balance(deployment.market).await.unwrap(),
        U256::ZERO,
        "market holds nothing"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn an_unanswered_job_refunds_its_poster() {
    let chain = LocalChain::start(None).unwrap();
    let config = ChainConfig::local(chain.endpoint());
    let owner = ChainClient::connect(&config, chain.signer(0))
        .await
        .unwrap();
    let poster = ChainClient::connect(&config, chain.signer(1))
        .await
        .unwrap();
    let deployment = deploy(
        &owner,
        MarketParams::new(10, U256::from(ETH), 1_000_000_000),
    )
    .await
    .unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    let model = random::random_model(&mut rng, &[16, 4]);
    let fee = U256::from(12_345u64);
    let model_id = registry::list_model(&owner, &deployment, &model, fee, 0)
        .await
        .unwrap();
    let market = Market::new(poster.clone(), deployment);
    let deadline = market.chain_time().await.unwrap() + 100;
    let (job, _) = market
        .post_job(
            model_id,
            &Tensor::new(model.input, vec![0; 16]).unwrap(),
            deadline,
            fee,
        )
        .await
        .unwrap();
    // Malformed input (a tensor of another shape): a typed revert naming both lengths, nothing taken.
    let err = market
        .post_job(
            model_id,
            &Tensor::new(Shape::vector(15), vec![0; 15]).unwrap(),
            deadline,
            fee,
        )
        .await
        .unwrap_err();
    match err.revert() {
        Some(Revert::Market(JobMarketErrors::InputLengthMismatch(e))) => {
            assert_eq!((e.actual, e.expected), (U256::from(15), U256::from(16)));
        }
        other => panic!("{other:?}"),
    }
    let err = market.refund_expired(job).await.unwrap_err();
    assert!(
        matches!(
            err.revert(),
            Some(Revert::Market(JobMarketErrors::DeadlineNotReached(_)))
        ),
        "{err}"
    );
    anvil::increase_time(owner.provider(), 100).await.unwrap();
    market.refund_expired(job).await.unwrap();
    assert_eq!(market.credits(poster.address()).await.unwrap(), fee);
    assert_eq!(market.job(job).await.unwrap().status, JobStatus::Expired);
}
