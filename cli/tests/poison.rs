//! Poison models (hardening issue, item 4), with the real `vouch worker` and `vouch challenger` as
//! child processes under a real memory ceiling (`prlimit --as`).
//!
//! A model that passes `Model::validate` but whose one run needs gigabytes (a 1×1 conv widening a
//! 4 KiB input to 4 MiB, hundreds of clamps, a 1×1 conv back to 4 KiB: a 1.2 GiB trace, ~5 GiB on the
//! device) is listed, a job is posted on it, and an attacker posts a bogus result to lure
//! challengers. The budgeted agents refuse the model before allocating anything, each with one log
//! line, and stay up; meanwhile the challenger catches a lying worker on another job and the liar is
//! slashed to the wei. A worker with no budget dies under the same ceiling, and after a few restarts
//! records the job as failed and stays up: no crash loop.
mod common;

use common::LocalMarket;

use alloy::{primitives::U256, providers::Provider};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use vouch_burn::BurnBackend;
use vouch_chain::{ChainClient, JobStatus, Market, MarketParams, anvil::LocalChain, registry};
use vouch_core::{
    Model, Shape,
    model::{ModelMeta, Op, OpKind, WeightRow, Window},
    quant::Requant,
    random,
    tensor::{self, Tensor},
};
use vouch_worker::{Lie, Policy, Worker, WorkerConfig};

const ETH: u64 = 1_000_000_000_000_000_000;
/// The address-space ceiling of every agent process.
const CEILING: u64 = 3 << 30;
/// Clamps after the widening conv.
const CLAMPS: usize = 300;

/// A 1×1 convolution from `slot` to `rows.len()` channels of `out`'s size.
fn conv1x1(slot: u16, out: Shape, rows: Vec<WeightRow>) -> Op {
    Op {
        out,
        z_out: 0,
        kind: OpKind::Conv2d {
            input: slot,
            z_x: 0,
            lo: -128,
            hi: 127,
            window: Window {
                kh: 1,
                kw: 1,
                sh: 1,
                sw: 1,
                pt: 0,
                pl: 0,
            },
            rows,
        },
    }
}

fn row(weights: Vec<i8>) -> WeightRow {
    WeightRow {
        bias: 0,
        requant: Requant {
            multiplier: 1 << 30,
            shift: 40,
        },
        weights,
    }
}

/// Input [64, 64, 1] → 1×1 conv to 1024 channels ([64, 64, 1024], 4 MiB) → `clamps` clamps → 1×1
/// conv back to [64, 64, 1] (a 4 KiB output, small enough to post).
fn poison(clamps: usize) -> Model {
    let wide = Shape::new(64, 64, 1024);
    let widen = (0..1024).map(|i| row(vec![1 + (i % 100) as i8])).collect();
    let mut ops = vec![conv1x1(0, wide, widen)];
    for k in 0..clamps {
        ops.push(Op {
            out: wide,
            z_out: 0,
            kind: OpKind::Clamp {
                input: (k + 1) as u16,
                lo: -100,
                hi: 100,
            },
        });
    }
    let narrow = vec![row((0..1024).map(|i| (i % 7) as i8 - 3).collect())];
    ops.push(conv1x1((clamps + 1) as u16, Shape::new(64, 64, 1), narrow));
    Model {
        input: Shape::new(64, 64, 1),
        input_zero: 0,
        ops,
        meta: ModelMeta {
            name: "poison".into(),
            input_scale: 1.0,
            output_scale: 1.0,
            labels: Vec::new(),
        },
    }
}

/// A `vouch` daemon under the memory ceiling, its log in `<dir>/log`.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(
        chain: &LocalChain,
        deployment: &Path,
        account: usize,
        dir: &Path,
        args: &[&str],
    ) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let log = dir.join("log");
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let key = alloy::hex::encode(chain.signer(account).to_bytes());
        let child = Command::new("prlimit")
            .arg(format!("--as={CEILING}"))
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_vouch"))
            .args(args)
            .arg("--rpc-url")
            .arg(chain.endpoint())
            .arg("--deployment")
            .arg(deployment)
            .arg("--data-dir")
            .arg(dir)
            .args(["--poll-ms", "100"])
            .env("VOUCH_PRIVATE_KEY", key)
            .env("RUST_LOG", "info,alloy=warn")
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .expect("prlimit (util-linux) and the vouch binary");
        Self { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    fn stop(self) {
        drop(self);
    }
}

/// A daemon is killed when its handle goes, also when a failed assertion unwinds the test.
impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn poison_models_are_refused_under_a_memory_ceiling_while_a_liar_is_slashed() {
    let seed = vouch_core::random::test_seed("poison");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = common::fresh_dir(&format!("poison-{seed}"));
    let mut params = MarketParams::new(600, U256::from(ETH), 1_000_000_000);
    params.game_clock = 300;
    params.clock_extension = 30;
    let LocalMarket {
        chain,
        config,
        owner,
        deployment,
        deployment_file,
    } = LocalMarket::start(&dir, params).await;

    let poison = poison(CLAMPS);
    poison.validate().expect("the poison passes validation");
    let fee = U256::from(ETH / 100);
    let poison_id = registry::list_model(&owner, &deployment, &poison, fee, 0)
        .await
        .unwrap();
    let model = random::random_any_model(&mut rng);
    let model_id = registry::list_model(&owner, &deployment, &model, fee, 1_000)
        .await
        .unwrap();
    let provider = owner.provider().clone();
    let start = provider.get_block_number().await.unwrap() + 1;

    // The budgeted agents: an honest worker that even opted into the poison model by id, and a
    // challenger that checks everything; both with a memory budget below their ceiling.
    let poison_arg = poison_id.to_string();
    let mut challenger = Daemon::start(
        &chain,
        &deployment_file,
        2,
        &dir.join("challenger"),
        &[
            "challenger",
            "--sample-rate",
            "1",
            "--max-memory-mib",
            "1024",
        ],
    );
    let mut worker = Daemon::start(
        &chain,
        &deployment_file,
        3,
        &dir.join("worker"),
        &["worker", "--model", &poison_arg, "--max-memory-mib", "1024"],
    );
    // The liar serves the other model alone, in this process.
    let mut liar = Worker::new(
        WorkerConfig {
            chain: config.clone(),
            deployment,
            data_dir: dir.join("liar"),
            confirmations: 0,
            poll_interval: Duration::from_millis(50),
            policy: Policy {
                models: Some(vec![model_id]),
                ..Policy::default()
            },
            backend: BurnBackend::Flex,
            lie: Some(Lie::WrongOutput),
        },
        chain.signer(4),
    )
    .await
    .unwrap();
    let accounts = [chain.signer(2).address(), liar.address()];
    let mut before = Vec::new();
    for a in accounts {
        before.push(provider.get_balance(a).await.unwrap());
    }

    let poster = Market::new(
        ChainClient::connect(&config, chain.signer(1))
            .await
            .unwrap(),
        deployment,
    );
    let deadline = poster.chain_time().await.unwrap() + 3_600;
    let poison_input: Vec<i8> = (0..poison.input.len()).map(|_| rng.random()).collect();
    let (poison_job, _) = poster
        .post_job(
            poison_id,
            &Tensor::new(poison.input, poison_input.clone()).unwrap(),
            deadline,
            fee,
        )
        .await
        .unwrap();
    // The worker judges the poison job while it is still open: it refuses the model by its budget
    // (once the job is answered it is no longer the worker's to judge, so without this wait the
    // worker's refusal would depend on when its first poll lands).
    let judging = Instant::now();
    while !worker.log().contains("model refused") {
        assert!(
            judging.elapsed() < Duration::from_secs(120),
            "the worker never judged the poison model:\n{}",
            worker.log()
        );
        assert!(worker.alive(), "the worker died:\n{}", worker.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // An attacker answers the poison job with a bogus result, to lure challengers into running it.
    let attacker = Market::new(
        ChainClient::connect(&config, chain.signer(6))
            .await
            .unwrap(),
        deployment,
    );
    let bogus: Vec<i8> = (0..poison.output().len()).map(|_| rng.random()).collect();
    attacker
        .submit_result(
            poison_job,
            vouch_core::commit::tensor_root(&bogus, 1),
            alloy::primitives::B256::repeat_byte(7),
            &tensor::to_bytes(&bogus),
            params.result_bond,
        )
        .await
        .unwrap();
    let input = random::random_input(&mut rng, &model);
    let (job, _) = poster
        .post_job(
            model_id,
            &Tensor::new(model.input, input.clone()).unwrap(),
            deadline,
            fee,
        )
        .await
        .unwrap();

    // The liar answers and defends; the challenger (another process) catches it.
    let began = Instant::now();
    let mut submitted = 0;
    loop {
        submitted += liar.step().await.unwrap().submitted;
        let j = poster.job(job).await.unwrap();
        if submitted == 1 && j.status == JobStatus::Open {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(300),
            "the lie was not overturned in time\nchallenger:\n{}",
            challenger.log()
        );
        assert!(worker.alive(), "the worker died:\n{}", worker.log());
        assert!(
            challenger.alive(),
            "the challenger died:\n{}",
            challenger.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(poster.dispute(job, 1).await.unwrap().overturned);
    // Let the challenger withdraw, then stop it.
    let bond = params.result_bond;
    let share = bond - bond * U256::from(params.burn_bps) / U256::from(10_000);
    let games = poster.games_opened_by(accounts[0], job).await.unwrap();
    assert_eq!(games.len(), 1, "{games:?}");
    while poster.game(games[0].0).await.unwrap().status == vouch_chain::GameStatus::Active
        || poster.credits(accounts[0]).await.unwrap() > U256::ZERO
    {
        assert!(
            began.elapsed() < Duration::from_secs(300),
            "{}",
            challenger.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Both budgeted agents are up, refused the poison once each with the reason, never ran it: the
    // worker did not answer the job, the challenger did not dispute the bogus result.
    assert!(worker.alive() && challenger.alive());
    let p = poster.job(poison_job).await.unwrap();
    assert_eq!(
        p.worker,
        attacker.client().address(),
        "only the bogus answer"
    );
    assert!(
        poster
            .games_opened_by(accounts[0], poison_job)
            .await
            .unwrap()
            .is_empty(),
        "the bogus result was not disputed"
    );
    for (name, daemon) in [("worker", &worker), ("challenger", &challenger)] {
        let log = daemon.log();
        assert_eq!(
            log.matches("model refused").count(),
            1,
            "{name}: one line for the model:\n{log}"
        );
        assert!(log.contains("memory"), "{name}: says why:\n{log}");
    }
    worker.stop();
    challenger.stop();

    // Money to the wei: the liar lost its bond, the challenger won the unburned half.
    let gas = vouch_chain::anvil::gas_spent(&provider, start, &accounts)
        .await
        .unwrap();
    let mut after = Vec::new();
    for a in accounts {
        after.push(provider.get_balance(a).await.unwrap());
    }
    assert_eq!(after[0], before[0] + share - gas[0], "challenger");
    assert_eq!(after[1], before[1] - bond - gas[1], "liar");

    // Without a budget, the same worker dies under the ceiling on the poison job. It counts the run
    // before starting it, so restarts give it up after three deaths and stay up, even though each
    // restart first replays harmless events (the overturned job, which it does not serve) whose own
    // starts must not reset the poison job's count.
    let unbudgeted = dir.join("unbudgeted");
    let args = [
        "worker",
        "--model",
        &poison_arg,
        "--max-memory-mib",
        "1000000",
        "--max-trace-mib",
        "1000000",
        "--inference-timeout-secs",
        "3600",
    ];
    let (second_job, _) = poster
        .post_job(
            poison_id,
            &Tensor::new(poison.input, poison_input.clone()).unwrap(),
            deadline,
            fee,
        )
        .await
        .unwrap();
    let key = format!("job-{second_job}");
    let gave_up = |state: &Path| -> bool {
        let Ok(bytes) = std::fs::read(state) else {
            return false;
        };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            return false;
        };
        let cursor = &v["cursor"];
        cursor["started"].as_object().is_some_and(|s| s.is_empty())
            && cursor["failed"].as_object().is_some_and(|f| {
                f.keys()
                    .any(|k| *k == key || k.starts_with(&format!("{key}-")))
            })
    };
    let mut deaths = 0;
    loop {
        let mut w = Daemon::start(&chain, &deployment_file, 5, &unbudgeted, &args);
        let began = Instant::now();
        let gave_up = loop {
            if !w.alive() {
                break false;
            }
            if gave_up(&unbudgeted.join("state.json")) {
                break true;
            }
            assert!(began.elapsed() < Duration::from_secs(240), "{}", w.log());
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        if gave_up {
            tokio::time::sleep(Duration::from_secs(1)).await;
            assert!(
                w.alive(),
                "it stays up after giving the job up:\n{}",
                w.log()
            );
            w.stop();
            break;
        }
        deaths += 1;
        assert!(deaths <= 3, "a crash loop:\n{}", w.log());
    }
    eprintln!("the unbudgeted worker died {deaths} times under the ceiling, then gave the job up");
    assert!(
        deaths >= 1,
        "the ceiling never bit: the test would prove nothing"
    );
    assert_eq!(
        poster.job(second_job).await.unwrap().status,
        JobStatus::Open
    );
    std::fs::remove_dir_all(dir).unwrap();
}
