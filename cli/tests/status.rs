//! `vouch worker status` and the agents' Prometheus metrics on a real anvil with the real contracts:
//! a worker with a settled result, a pending one and a game against it (opened by a challenger that
//! disputes correct results), read back by the real `vouch` binary and by scraping `/metrics`.
mod common;

use common::LocalMarket;

use alloy::primitives::U256;
use rand::{SeedableRng, rngs::StdRng};
use std::{process::Command, time::Duration};
use tokio_util::sync::CancellationToken;
use vouch_burn::BurnBackend;
use vouch_chain::{ChainClient, Market, MarketParams, anvil, registry};
use vouch_challenger::{Challenger, ChallengerConfig, Strategy};
use vouch_core::{random, tensor::Tensor};
use vouch_worker::{Policy, Worker, WorkerConfig};

const ETH: u64 = 1_000_000_000_000_000_000;

async fn scrape(addr: std::net::SocketAddr) -> String {
    let response = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert!(response.status().is_success());
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    response.text().await.unwrap()
}

/// The value of the sample `name` (with its labels) in `text`.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

#[tokio::test]
async fn worker_status_and_metrics_show_earnings_pending_results_and_game_clocks() {
    let seed = vouch_core::random::test_seed("status");
    let dir = common::fresh_dir(&format!("status-{seed}"));
    let window = 600;
    let mut params = MarketParams::new(window, U256::from(ETH), 1_000_000_000);
    params.game_clock = 300;
    params.clock_extension = 30;
    let LocalMarket {
        chain,
        config,
        owner,
        deployment,
        deployment_file,
    } = LocalMarket::start(&dir, params).await;
    let poster = ChainClient::connect(&config, chain.signer(1))
        .await
        .unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let model = random::random_model(&mut rng, &[16, 8, 4]);
    let fee = U256::from(ETH / 100);
    let model_id = registry::list_model(&owner, &deployment, &model, fee, 1_000)
        .await
        .unwrap();
    let market = Market::new(poster, deployment);
    let post = async |market: &Market| {
        let input = Tensor::new(
            model.input,
            random::random_input(&mut StdRng::seed_from_u64(3), &model),
        )
        .unwrap();
        let deadline = market.chain_time().await.unwrap() + 3_600;
        market
            .post_job(model_id, &input, deadline, fee)
            .await
            .unwrap()
            .0
    };

    // One result settles (and is withdrawn), the next is answered and challenged.
    let worker_dir = dir.join("worker");
    let mut worker = Worker::new(
        WorkerConfig {
            chain: config.clone(),
            deployment,
            data_dir: worker_dir.clone(),
            confirmations: 0,
            poll_interval: Duration::from_millis(50),
            policy: Policy::default(),
            backend: BurnBackend::Flex,
            lie: None,
        },
        chain.signer(2),
    )
    .await
    .unwrap();
    let settled = post(&market).await;
    assert_eq!(worker.step().await.unwrap().submitted, 1);
    anvil::increase_time(owner.provider(), window)
        .await
        .unwrap();
    assert_eq!(worker.step().await.unwrap().finalized, 1);
    let pending = post(&market).await;
    assert_eq!(worker.step().await.unwrap().submitted, 1);
    let mut challenger = Challenger::new(
        ChallengerConfig {
            chain: config.clone(),
            deployment,
            data_dir: dir.join("challenger"),
            confirmations: 0,
            poll_interval: Duration::from_millis(50),
            sample_rate: 1.0,
            sample_key: Default::default(),
            policy: Policy::default(),
            backend: BurnBackend::Flex,
            strategy: Strategy::DisputeCorrect,
        },
        chain.signer(3),
    )
    .await
    .unwrap();
    assert_eq!(challenger.step().await.unwrap().challenged, 1);
    // The worker finds the game and reveals its final state; it owes the root's children next, so
    // its clock runs.
    assert_eq!(worker.step().await.unwrap().revealed, 1);

    let out = Command::new(env!("CARGO_BIN_EXE_vouch"))
        .args(["worker", "status", "--rpc-url", &chain.endpoint()])
        .arg("--deployment")
        .arg(&deployment_file)
        .arg("--data-dir")
        .arg(&worker_dir)
        .env(
            "VOUCH_PRIVATE_KEY",
            alloy::hex::encode(chain.signer(2).to_bytes()),
        )
        .env_remove("VOUCH_CONFIG")
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{status}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{status}");
    let earned = fee - fee * U256::from(1_000) / U256::from(10_000);
    for line in [
        format!("worker    {}", chain.signer(2).address()),
        "credits   0 wei (withdrawable)".to_owned(),
        format!("bonds     {ETH} wei locked in 1 pending result(s)"),
        format!("earned    {earned} wei in fees (after royalties) over 1 settled result(s)"),
        format!("  job {pending} result 1: window ends in "),
        format!("on job {pending} result 1: defender to move; defender "),
    ] {
        assert!(status.contains(&line), "{line:?} in\n{status}");
    }
    assert!(
        !status.contains(&format!("job {settled} result")),
        "{status}"
    );

    // Both agents' metrics, scraped.
    let shutdown = CancellationToken::new();
    let at = worker
        .serve_metrics("127.0.0.1:0".parse().unwrap(), shutdown.clone())
        .await
        .unwrap();
    let text = scrape(at).await;
    assert_eq!(
        sample(&text, "vouch_agent_games_open{side=\"defender\"}"),
        1.0
    );
    assert_eq!(sample(&text, "vouch_agent_jobs_answered_total"), 2.0);
    assert_eq!(sample(&text, "vouch_agent_failures_total"), 0.0);
    assert_eq!(sample(&text, "vouch_agent_credits_wei"), 0.0);
    assert!(sample(&text, "vouch_agent_balance_wei") > 9_000.0 * ETH as f64);
    // The defender is to move: less than its 300 s clock, more than the 30 s extension.
    let defender_left = sample(&text, "vouch_agent_clock_seconds_left");
    assert!((30.0..=300.0).contains(&defender_left), "{text}");
    let at = challenger
        .serve_metrics("127.0.0.1:0".parse().unwrap(), shutdown.clone())
        .await
        .unwrap();
    let text = scrape(at).await;
    assert_eq!(
        sample(&text, "vouch_agent_games_open{side=\"challenger\"}"),
        1.0
    );
    assert_eq!(sample(&text, "vouch_agent_results_challenged_total"), 1.0);
    assert_eq!(
        sample(&text, "vouch_agent_clock_seconds_left"),
        300.0,
        "the challenger waits: its whole clock\n{text}"
    );
    shutdown.cancel();
    std::fs::remove_dir_all(dir).unwrap();
}
