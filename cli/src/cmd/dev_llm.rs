//! `vouch dev --model smollm2`: the language-model demo. SmolLM2-135M-Instruct imported into
//! canonical integers and listed on chain (once: the chain is saved and loaded on later runs), the
//! coordinator, a challenger, a dishonest worker and an honest one. A dApp asks questions over HTTP
//! and reads the settled answers as text; the first question is answered by the dishonest worker
//! with one token changed, challenged, bisected down to one element the contract recomputes, and
//! the liar's bond slashed; the honest worker's answer then settles.

use super::dev::{DevArgs, start_coordinator};
use alloy::primitives::U256;
use anyhow::{Context, bail};
use std::{
    path::Path,
    time::{Duration, Instant},
};
use vouch_agent::Daemons;
use vouch_burn::BurnBackend;
use vouch_chain::{
    ChainConfig, Deployment, JobStatus, MarketParams,
    llm::{
        LlmPrice,
        devnet::{self, ListedChain, ListingTerms, Origin, Progress},
    },
};
use vouch_challenger::{Challenger, ChallengerConfig, Strategy};
use vouch_client::{ApiClient, JobRecord};
use vouch_llm::{IntModel, int, lm::generate, tokenizer::ChatTokenizer};
use vouch_worker::{Lie, Worker, WorkerConfig};

const OWNER: usize = 0;
const POSTER: usize = 1;
const WORKER: usize = 2;
const LIAR: usize = 3;
const CHALLENGER: usize = 4;

/// Calibration text for the import (never the evaluation text).
const CALIBRATION: &str = include_str!("../../../models/llm/calibration.txt");
/// Calibration tokens, as `vouch model import` takes by default.
const CALIBRATION_TOKENS: usize = 512;

/// The question the dishonest worker answers, with one token changed.
const FRAUD_QUESTION: &str = "What is the capital of France?";
/// Its token budget: larger than the others', so its escrow is the highest and only the dishonest
/// worker, whose minimum fee is that escrow, takes it.
const FRAUD_TOKENS: usize = 24;
/// The dApp's other questions, answered by the honest worker.
const QUESTIONS: [&str; 2] = ["Name the three primary colors.", "What is 12 plus 30?"];
/// Their token budget.
const TOKENS: usize = 16;

/// The least challenge window for a model of SmolLM2's size, in seconds: a challenger fetches it
/// from chain events once (~10 s) and re-runs a job traced (seconds on two cores shared with the
/// workers), all before the window ends.
const LARGE_MODEL_WINDOW_SECS: u64 = 90;
/// Weights above which a model is large for the window, in bytes.
const LARGE_MODEL_BYTES: usize = 16 << 20;

/// Wei per prompt token and per generated token.
const PRICE: LlmPrice = LlmPrice {
    per_input: U256::from_limbs([1_000_000_000_000, 0, 0, 0]),
    per_output: U256::from_limbs([3_000_000_000_000, 0, 0, 0]),
};

/// The demo's model: `smollm2` (SmolLM2-135M-Instruct from the pinned GGUF that
/// `scripts/fetch-smollm2.sh` caches, imported once into `smollm2.vlm` beside it), another llama
/// GGUF, or a model file from `vouch model import`.
fn load_model(name: &Path) -> anyhow::Result<IntModel> {
    if name == Path::new("smollm2") {
        let gguf = vouch_llm::smollm2_path();
        anyhow::ensure!(
            gguf.exists(),
            "{} is missing: fetch it with scripts/fetch-smollm2.sh (./scripts/dev.sh --model smollm2 does)",
            gguf.display()
        );
        let cached = gguf.with_file_name("smollm2.vlm");
        // A file of an older format (or a torn write) is imported again.
        if let Ok(model) = int::load(&cached) {
            return Ok(model);
        }
        let model = import(&gguf)?;
        int::save(&model, &cached)?;
        return Ok(model);
    }
    if super::llm::is_llm(name) {
        return int::load(name).with_context(|| format!("loading {}", name.display()));
    }
    import(name)
}

/// The GGUF at `path` imported with the demo's calibration.
fn import(path: &Path) -> anyhow::Result<IntModel> {
    let (model, _) = super::llm::import_model(path, CALIBRATION, CALIBRATION_TOKENS, None)?;
    Ok(model)
}

/// The demo's chain: anvil with the contracts deployed and `model` listed, or the chain an earlier
/// run saved for it loaded (`devnet::listed_chain`), behind a spinner or a progress bar.
async fn listed_chain(
    port: u16,
    model: &IntModel,
    params: MarketParams,
) -> anyhow::Result<ListedChain> {
    let began = Instant::now();
    let spinner = crate::progress::spinner();
    spinner.set_message("starting the chain");
    let mut bar = None;
    let terms = ListingTerms {
        params,
        price: PRICE,
        royalty_bps: 1_000,
        uri: "SmolLM2-135M-Instruct",
    };
    let chain = devnet::listed_chain(Some(port), OWNER, model, &terms, &mut |p| match p {
        Progress::Loading(file) => {
            spinner.set_message(format!("loading the saved chain {}", file.display()));
        }
        Progress::Listing(done, total) => {
            let bar = bar.get_or_insert_with(|| {
                spinner.finish_and_clear();
                crate::progress::bar("listing the model on chain (transactions)")
            });
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    })
    .await
    .with_context(|| {
        format!("starting anvil on port {port} (pass --anvil-port 0 for a free port)")
    })?;
    spinner.finish_and_clear();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let secs = began.elapsed().as_secs_f64();
    println!("chain        {} (anvil)", chain.chain.endpoint());
    match &chain.origin {
        Origin::Loaded(file) => println!(
            "             loaded in {secs:.0} s from {} (the model was listed by an earlier run)",
            file.display()
        ),
        Origin::Listed {
            transactions,
            saved,
            bytes,
        } => println!(
            "listed       model {} in {secs:.0} s ({transactions} transactions: the card and every op's weights); chain saved in {} ({:.0} MB) for the next run",
            chain.model_id,
            saved.display(),
            *bytes as f64 / 1e6
        ),
    }
    Ok(chain)
}

/// The agents' policy: every job that pays at least `min_fee`, within the default budget (its
/// language-model rate fits a chat answer of SmolLM2's size).
fn policy(min_fee: U256) -> vouch_agent::Policy {
    vouch_agent::Policy {
        min_fee,
        ..vouch_agent::Policy::default()
    }
}

fn worker_config(
    config: &ChainConfig,
    deployment: Deployment,
    dir: &Path,
    min_fee: U256,
    lie: Option<Lie>,
) -> WorkerConfig {
    WorkerConfig {
        chain: config.clone(),
        deployment,
        data_dir: dir.to_path_buf(),
        confirmations: 0,
        poll_interval: Duration::from_millis(200),
        policy: policy(min_fee),
        backend: BurnBackend::Flex,
        lie,
    }
}

/// Prints a settled answer beside what the integer model generates here for the same ids.
fn report(model: &IntModel, question: &str, job: &JobRecord) -> anyhow::Result<bool> {
    let text = job.text.as_ref().context("not a language model's job")?;
    let answer = text.answer.clone().unwrap_or_default();
    let local = generate(
        model,
        &text.prompt_ids,
        text.max_tokens as usize,
        model.tokenizer.eos,
        |_| (),
    )?;
    let same = text.answer_ids.as_deref() == Some(local.as_slice());
    println!("  Q: {question}\n  A: {}", answer.trim());
    println!(
        "     job {} settled: {} tokens, output root {}, {}",
        job.job_id,
        text.answer_ids.as_ref().map_or(0, Vec::len),
        job.output_root.as_deref().unwrap_or("-"),
        if same {
            "the answer this machine's integer model generates"
        } else {
            "DIFFERS from this machine's integer model"
        }
    );
    Ok(same)
}

pub(crate) async fn run(args: &DevArgs, name: &Path) -> anyhow::Result<()> {
    let model = load_model(name)?;
    let tokenizer = ChatTokenizer::new(&model.tokenizer)?;
    let window = if model.weight_bytes() > LARGE_MODEL_BYTES {
        args.window_secs.max(LARGE_MODEL_WINDOW_SECS)
    } else {
        args.window_secs
    };
    let params = MarketParams::new(window, U256::from(10u64.pow(17)), 1_000_000_000);
    let chain = listed_chain(args.anvil_port, &model, params).await?;
    let (config, deployment, model_id) = (chain.config.clone(), chain.deployment, chain.model_id);
    println!(
        "registry     {}\nmarket       {}\nLLM prover   {}",
        deployment.registry, deployment.market, deployment.llm_prover
    );
    println!(
        "model {model_id}      SmolLM2-135M-Instruct in canonical integers, {} wei a prompt token, {} wei an answer token",
        PRICE.per_input, PRICE.per_output
    );
    let (coordinator, api_url, api_key) = start_coordinator(
        &args.data_dir,
        args.http,
        &config,
        deployment,
        chain.chain.signer(POSTER),
    )
    .await?;
    let api = ApiClient::new(&api_url)?.with_api_key(api_key);
    // The coordinator indexes the listing's events (the weights are ~100 MB of them) before it knows
    // the model.
    let spinner = crate::progress::spinner();
    spinner.set_message("the coordinator indexes the listing");
    while !api
        .model(model_id.to::<u64>())
        .await
        .is_ok_and(|m| m.status == vouch_chain::registry::ModelStatus::Active)
    {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    spinner.finish_and_clear();

    // Only the dishonest worker takes the fraud question: its escrow is its minimum fee, and every
    // other question escrows less.
    let escrow = |q: &str, tokens: usize| -> anyhow::Result<U256> {
        Ok(PRICE.escrow(tokenizer.chat(q)?.len(), tokens))
    };
    let fraud_fee = escrow(FRAUD_QUESTION, FRAUD_TOKENS)?;
    for q in QUESTIONS {
        if escrow(q, TOKENS)? >= fraud_fee {
            bail!("the question {q:?} escrows as much as the dishonest worker's");
        }
    }

    let mut agents = Daemons::default();
    let challenger = Challenger::new(
        ChallengerConfig {
            chain: config.clone(),
            deployment,
            data_dir: args.data_dir.join("challenger"),
            confirmations: 0,
            poll_interval: Duration::from_millis(200),
            sample_rate: 1.0,
            sample_key: alloy::primitives::keccak256(b"vouch dev challenger"),
            policy: policy(U256::ZERO),
            backend: BurnBackend::Flex,
            strategy: Strategy::Honest,
        },
        chain.chain.signer(CHALLENGER),
    )
    .await
    .context("starting the challenger")?;
    let challenger_address = challenger.address();
    agents.spawn("challenger", |stop| challenger.run(stop));
    let lie = Lie::WrongToken { index: 2 };
    let liar = Worker::new(
        worker_config(
            &config,
            deployment,
            &args.data_dir.join("liar"),
            fraud_fee,
            Some(lie),
        ),
        chain.chain.signer(LIAR),
    )
    .await
    .context("starting the dishonest worker")?;
    let liar_address = liar.address();
    let mut dishonest = Daemons::default();
    dishonest.spawn("dishonest worker", |stop| liar.run(stop));

    let listed = model_id.to::<u64>();
    let fraud = api
        .post_text(listed, FRAUD_QUESTION, Some(FRAUD_TOKENS as u64), None)
        .await
        .context("posting the first question")?;
    println!(
        "\na dApp asks over HTTP (job {}): {FRAUD_QUESTION:?} — a DISHONEST worker {liar_address} takes it ({lie:?})",
        fraud.job_id
    );
    let lied = wait_until(&api, fraud.job_id, |j| j.status != JobStatus::Open).await?;
    if let Some(text) = &lied.text {
        println!(
            "  its answer, one token changed: {:?}",
            text.answer.as_deref().unwrap_or_default().trim()
        );
    }
    println!(
        "  the challenger {challenger_address} re-runs the job, sees another trace root and challenges"
    );

    let worker = Worker::new(
        worker_config(
            &config,
            deployment,
            &args.data_dir.join("worker"),
            U256::ZERO,
            None,
        ),
        chain.chain.signer(WORKER),
    )
    .await
    .context("starting the honest worker")?;
    let worker_address = worker.address();
    agents.spawn("honest worker", |stop| worker.run(stop));
    let mut posted = vec![(FRAUD_QUESTION, fraud.job_id)];
    for q in QUESTIONS {
        let job = api.post_text(listed, q, Some(TOKENS as u64), None).await?;
        println!(
            "a dApp asks over HTTP (job {}): {q:?} — the honest worker {worker_address} answers",
            job.job_id
        );
        posted.push((q, job.job_id));
    }

    let timeout = Duration::from_secs(window * 8 + 900);
    let mut differing = 0;
    println!();
    for (q, id) in &posted {
        let job = api.wait_settled(*id, timeout, &mut |_| {}).await?;
        if *id == fraud.job_id {
            for game in api.games_of_job(*id).await? {
                let detail = api.game(game.game_id).await?;
                println!(
                    "game {} on job {id}: {} moves down the trace to slot {} (one element of one op, recomputed by the contract) — {:?}; the dishonest worker's bond slashed ({} wei burned)",
                    game.game_id,
                    detail.moves.len(),
                    game.slot.unwrap_or_default(),
                    game.status,
                    game.burned_wei.as_deref().unwrap_or("?"),
                );
            }
        }
        differing += usize::from(!report(&model, q, &job)?);
    }
    // The dishonest worker leaves: questions asked from now on are the honest worker's.
    dishonest.stop().await?;
    if !args.once {
        println!(
            "serving: the honest worker and the challenger answer further questions (POST {api_url}/v1/jobs with the api key, or the SDK's postText); Ctrl-C to stop"
        );
        tokio::signal::ctrl_c().await?;
    }
    agents.stop().await?;
    coordinator.shutdown().await;
    if differing > 0 {
        bail!("{differing} settled answers differ from this machine's integer model");
    }
    Ok(())
}

/// Polls job `id` until `done` holds.
async fn wait_until(
    api: &ApiClient,
    id: u64,
    done: impl Fn(&JobRecord) -> bool,
) -> anyhow::Result<JobRecord> {
    loop {
        let job = api.job(id).await?;
        if done(&job) {
            return Ok(job);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
