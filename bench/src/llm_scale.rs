//! `cargo run -p vouch-bench --bin llm-scale`: language-model jobs through the whole stack on a local
//! chain, measured. A dApp asks questions as text over HTTP; the coordinator tokenizes them with the
//! model's card and posts the jobs; a fleet of honest workers (one shard of the jobs each) answers
//! them with every commitment; a challenger re-runs a sample; every answer settles after the
//! challenge window. Printed: jobs and tokens per second, latency percentiles (post → answer, post →
//! settled), gas per job by transaction, CPU seconds of the whole stack and of one answer, and the
//! all-in cost of one verified answer. The figures and their reading: `docs/SCALE.md`.

use alloy::{
    primitives::{B256, U256, keccak256},
    providers::{DynProvider, Provider},
};
use anyhow::{Context, bail, ensure};
use candle_core::quantized::GgmlDType;
use clap::Parser;
use rand::{SeedableRng, rngs::StdRng};
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};
use vouch_agent::{Daemons, Policy, Shard};
use vouch_burn::BurnBackend;
use vouch_chain::{
    ChainConfig, Deployment, MarketParams,
    llm::{
        LlmPrice,
        devnet::{self, ListingTerms, Origin, Progress},
    },
    receipt::{Receipt, TxRef},
    registry::ModelStatus,
};
use vouch_challenger::{Challenger, ChallengerConfig, Sampler, Strategy};
use vouch_client::{ApiClient, JobRecord};
use vouch_llm::{
    IntModel,
    random::{self, Dims},
    trace::{self, Job, Stop},
};
use vouch_worker::{Worker, WorkerConfig};

const OWNER: usize = 0;
const POSTER: usize = 1;
const CHALLENGER: usize = 2;
const FIRST_WORKER: usize = 3;

/// The dApp's questions, asked in turn.
const QUESTIONS: [&str; 12] = [
    "What is the capital of France?",
    "Name the three primary colors.",
    "What is 12 plus 30?",
    "Why is the sky blue?",
    "Give me a synonym for happy.",
    "What do bees make?",
    "How many days are in a week?",
    "What is the opposite of cold?",
    "Which planet is closest to the sun?",
    "What language is spoken in Brazil?",
    "Name a fruit that is yellow.",
    "What is water made of?",
];

/// Wei per prompt token and per generated token (the demo's).
const PRICE: LlmPrice = LlmPrice {
    per_input: U256::from_limbs([1_000_000_000_000, 0, 0, 0]),
    per_output: U256::from_limbs([3_000_000_000_000, 0, 0, 0]),
};

/// Language-model jobs through the coordinator, a fleet of workers and a challenger on anvil:
/// throughput, latency, gas and CPU seconds per verified answer.
#[derive(Debug, Parser)]
struct Args {
    /// The imported integer model (`vouch model import`), imported here from `--gguf` when the file
    /// is missing [default: SmolLM2-135M-Instruct in Vouch's cache].
    #[arg(long)]
    model: Option<PathBuf>,
    /// The GGUF to import [default: where scripts/fetch-smollm2.sh caches SmolLM2-135M-Instruct].
    #[arg(long)]
    gguf: Option<PathBuf>,
    /// Calibration text for an import.
    #[arg(long, default_value = "models/llm/calibration.txt")]
    calibration: PathBuf,
    /// Run a random tiny transformer instead (2 blocks, hidden 64): what the stack itself sustains
    /// (chain, coordinator, agents) when the model costs next to nothing.
    #[arg(long, conflicts_with_all = ["model", "gguf"])]
    tiny: bool,
    /// Workers in the fleet, each answering its own shard of the jobs (`--shard i/n`).
    #[arg(long, default_value_t = 3)]
    workers: usize,
    /// Jobs the dApp posts, all at once.
    #[arg(long, default_value_t = 24)]
    jobs: usize,
    /// Each job's token budget (`max_tokens`).
    #[arg(long, default_value_t = 16)]
    max_tokens: u64,
    /// Share of results the challenger re-runs.
    #[arg(long, default_value_t = 0.25)]
    sample: f64,
    /// The challenge window, seconds.
    #[arg(long, default_value_t = 30)]
    window: u64,
    /// Gas price for the cost of one answer, gwei.
    #[arg(long, default_value_t = 1.0)]
    gas_gwei: f64,
}

/// CPU seconds a process has used (user + system, all its threads), from `/proc/<pid>/stat`.
fn cpu_secs(pid: &str) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    // The fields after the command name (which may hold spaces) start at state, field 3.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("no command name in /proc/…/stat")?
        .1
        .split_whitespace()
        .collect();
    let ticks = |i: usize| -> anyhow::Result<f64> {
        Ok(fields
            .get(i - 3)
            .context("short /proc/…/stat")?
            .parse::<u64>()? as f64)
    };
    // utime and stime are fields 14 and 15, in clock ticks: USER_HZ, 100 on Linux.
    Ok((ticks(14)? + ticks(15)?) / 100.0)
}

/// The agents' policy: shard `shard` of the fleet, within the default budget.
fn policy(shard: Option<Shard>) -> Policy {
    Policy {
        shard,
        ..Policy::default()
    }
}

/// One job as the dApp saw it.
struct Timed {
    id: u64,
    question: &'static str,
    asked: Instant,
    answered: Option<Instant>,
    settled: Option<JobRecord>,
    settled_at: Option<Instant>,
}

/// The `q`-quantile (nearest rank) of `xs`, sorted.
fn quantile(xs: &[f64], q: f64) -> f64 {
    let rank = ((q * xs.len() as f64).ceil() as usize).clamp(1, xs.len());
    xs[rank - 1]
}

fn percentiles(label: &str, mut xs: Vec<f64>) -> String {
    xs.sort_by(f64::total_cmp);
    format!(
        "{label:<16} p50 {:6.1} s | p90 {:6.1} s | p99 {:6.1} s | max {:6.1} s",
        quantile(&xs, 0.5),
        quantile(&xs, 0.9),
        quantile(&xs, 0.99),
        xs[xs.len() - 1]
    )
}

/// Gas used by the transaction `tx`.
async fn gas(provider: &DynProvider, tx: TxRef) -> anyhow::Result<u64> {
    Ok(provider
        .get_transaction_receipt(tx.tx_hash)
        .await?
        .with_context(|| format!("no receipt for {}", tx.tx_hash))?
        .gas_used)
}

/// Starts the challenger and the workers.
async fn start_agents(
    chain: &devnet::ListedChain,
    dir: &Path,
    args: &Args,
    sample_key: B256,
) -> anyhow::Result<Daemons> {
    let (config, deployment): (&ChainConfig, Deployment) = (&chain.config, chain.deployment);
    let mut agents = Daemons::default();
    let challenger = Challenger::new(
        ChallengerConfig {
            chain: config.clone(),
            deployment,
            data_dir: dir.join("challenger"),
            confirmations: 0,
            poll_interval: Duration::from_millis(200),
            sample_rate: args.sample,
            sample_key,
            policy: policy(None),
            backend: BurnBackend::Flex,
            strategy: Strategy::Honest,
        },
        chain.chain.signer(CHALLENGER),
    )
    .await
    .context("starting the challenger")?;
    agents.spawn("challenger", |stop| challenger.run(stop));
    for i in 0..args.workers {
        let worker = Worker::new(
            WorkerConfig {
                chain: config.clone(),
                deployment,
                data_dir: dir.join(format!("worker-{i}")),
                confirmations: 0,
                poll_interval: Duration::from_millis(200),
                policy: policy(Shard::new(i as u64, args.workers as u64)),
                backend: BurnBackend::Flex,
                lie: None,
            },
            chain.chain.signer(FIRST_WORKER + i),
        )
        .await
        .with_context(|| format!("starting worker {i}"))?;
        agents.spawn(format!("worker {i}"), |stop| worker.run(stop));
    }
    Ok(agents)
}

/// Posts the questions `range` of the dApp's (in turn) all at once.
async fn post(
    api: &ApiClient,
    model_id: u64,
    range: std::ops::Range<usize>,
    max_tokens: u64,
) -> anyhow::Result<Vec<Timed>> {
    let posts = range.map(|i| async move {
        let question = QUESTIONS[i % QUESTIONS.len()];
        let asked = Instant::now();
        let posted = api
            .post_text(model_id, question, Some(max_tokens), None)
            .await
            .with_context(|| format!("posting {question:?}"))?;
        anyhow::Ok(Timed {
            id: posted.job_id,
            question,
            asked,
            answered: None,
            settled: None,
            settled_at: None,
        })
    });
    futures::future::try_join_all(posts).await
}

/// Follows `jobs` until all settle (or `timeout` passes), noting when each is answered and settled.
async fn follow(api: &ApiClient, jobs: &mut [Timed], timeout: Duration) -> anyhow::Result<()> {
    let began = Instant::now();
    let (mut answered, mut settled) = (0, 0);
    let mut shown = (0, 0);
    while settled < jobs.len() {
        if began.elapsed() > timeout {
            bail!("{settled} of {} jobs settled in {timeout:?}", jobs.len());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        for job in jobs.iter_mut().filter(|j| j.settled.is_none()) {
            let record = api.job(job.id).await?;
            let now = Instant::now();
            if job.answered.is_none() && record.output_root.is_some() {
                job.answered = Some(now);
                answered += 1;
            }
            if record.settled {
                if job.answered.is_none() {
                    job.answered = Some(now);
                    answered += 1;
                }
                job.settled_at = Some(now);
                job.settled = Some(record);
                settled += 1;
            }
        }
        if (answered, settled) != shown {
            shown = (answered, settled);
            eprintln!("{answered} of {} answered, {settled} settled", jobs.len());
        }
    }
    Ok(())
}

/// Warms the agents up: one job per worker (each fetches the model from chain events and caches
/// it), more until the challenger samples one of them, all settled. Returns how many it took.
async fn warm_up(
    api: &ApiClient,
    model_id: u64,
    args: &Args,
    sampler: &Sampler,
) -> anyhow::Result<usize> {
    let mut jobs = post(api, model_id, 0..args.workers, args.max_tokens).await?;
    while args.sample > 0.0 && !jobs.iter().any(|j| sampler.picks(U256::from(j.id), 1)) {
        let n = jobs.len();
        jobs.extend(post(api, model_id, n..n + 1, args.max_tokens).await?);
    }
    eprintln!("warming up: {} jobs", jobs.len());
    let n = jobs.len();
    follow(api, &mut jobs, timeout(args, n)).await?;
    Ok(n)
}

/// How long `jobs` jobs may take to settle.
fn timeout(args: &Args, jobs: usize) -> Duration {
    Duration::from_secs(args.window * 4 + 120 * jobs as u64)
}

/// Gas of each kind of transaction, summed over the jobs; and whether any was disputed.
async fn gas_of(
    api: &ApiClient,
    provider: &DynProvider,
    jobs: &[Timed],
) -> anyhow::Result<(BTreeMap<&'static str, u64>, usize)> {
    let mut sums = BTreeMap::new();
    let mut disputed = 0;
    for job in jobs {
        let r: Receipt = api.receipt(job.id).await?;
        disputed += usize::from(!r.games.is_empty() || r.attempts.len() != 1);
        *sums.entry("postJob").or_default() += gas(provider, r.posted).await?;
        for a in &r.attempts {
            *sums.entry("submitResult").or_default() += gas(provider, a.submitted).await?;
        }
        *sums.entry("finalize").or_default() += gas(provider, r.settled).await?;
    }
    Ok((sums, disputed))
}

/// CPU seconds and wall seconds of one worker's answer to each distinct prompt (generated alone,
/// every commitment computed, as a worker does for a job), checked against the settled answers.
fn answer_cost(model: &IntModel, jobs: &[Timed]) -> anyhow::Result<(f64, f64, usize, usize)> {
    let mut seen = BTreeMap::new();
    for job in jobs {
        let text = job
            .settled
            .as_ref()
            .and_then(|r| r.text.clone())
            .context("a settled job without its text")?;
        let answer = text.answer_ids.context("a settled job without an answer")?;
        if let Some(earlier) =
            seen.insert(text.prompt_ids.clone(), (text.max_tokens, answer.clone()))
        {
            ensure!(
                earlier.1 == answer,
                "two settled answers to one prompt differ (job {})",
                job.id
            );
        }
    }
    let me = std::process::id().to_string();
    let (mut cpu, mut wall, mut tokens) = (0.0, 0.0, 0);
    for (prompt, (max_tokens, settled)) in &seen {
        let job = Job {
            prompt: prompt.clone(),
            max_new: *max_tokens as usize,
        };
        let (c0, t0) = (cpu_secs(&me)?, Instant::now());
        let traced = trace::generate(model, &job, Stop::Eos(model.tokenizer.eos), |_| ())?;
        cpu += cpu_secs(&me)? - c0;
        wall += t0.elapsed().as_secs_f64();
        tokens += traced.output.len();
        ensure!(
            &traced.output == settled,
            "a settled answer differs from this machine's integer model"
        );
    }
    Ok((cpu, wall, tokens, seen.len()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(
        (1..=32).contains(&args.workers),
        "--workers must be 1 to 32"
    );
    ensure!(args.jobs > 0, "--jobs must be at least 1");
    let (model, name) = if args.tiny {
        let dims = Dims {
            context: 256,
            ..Dims::TINY
        };
        let mut rng = StdRng::seed_from_u64(7);
        let model = random::model(&mut rng, dims, GgmlDType::Q8_0)?;
        (model, "a random tiny transformer".to_string())
    } else {
        let gguf = args.gguf.clone().unwrap_or_else(vouch_llm::smollm2_path);
        let path = args
            .model
            .clone()
            .unwrap_or_else(|| vouch_llm::cache_dir().join("models").join("smollm2.vlm"));
        let model = vouch_bench::load_or_import(&path, &gguf, &args.calibration)?;
        let name = path
            .file_stem()
            .map_or("model".into(), |s| s.to_string_lossy());
        (model, name.into_owned())
    };

    let terms = ListingTerms {
        params: MarketParams::new(args.window, U256::from(10u64.pow(17)), 1_000_000_000),
        price: PRICE,
        royalty_bps: 1_000,
        uri: "vouch-bench llm-scale",
    };
    let mut last = 0;
    let chain = devnet::listed_chain(None, OWNER, &model, &terms, &mut |p| match p {
        Progress::Loading(file) => eprintln!("loading the saved chain {}", file.display()),
        Progress::Listing(done, total) if done * 10 / total.max(1) > last => {
            last = done * 10 / total.max(1);
            eprintln!("listing: {done} of {total} transactions");
        }
        Progress::Listing(..) => {}
    })
    .await?;
    if let Origin::Listed { saved, .. } = &chain.origin {
        eprintln!("listed; the chain is saved in {}", saved.display());
    }
    let dir = std::env::temp_dir().join(format!("vouch-llm-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let coordinator = vouch_coordinator::serve_local(
        &dir,
        "127.0.0.1:0".parse()?,
        &chain.config,
        chain.deployment,
        chain.chain.signer(POSTER),
        "llm-scale",
        U256::from(10u64.pow(18)) * U256::from(1_000_000),
    )
    .await?;
    let api = ApiClient::new(&coordinator.url)?.with_api_key(coordinator.api_key.clone());
    let model_id = chain.model_id.to::<u64>();
    while !api
        .model(model_id)
        .await
        .is_ok_and(|m| m.status == ModelStatus::Active)
    {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let sample_key = keccak256(b"vouch-bench llm-scale challenger");
    let agents = start_agents(&chain, &dir, &args, sample_key).await?;
    let sampler = Sampler::new(sample_key, args.sample);
    let warm = warm_up(&api, model_id, &args, &sampler).await?;
    let (me, anvil) = (
        std::process::id().to_string(),
        chain.chain.pid().to_string(),
    );
    let (cpu0, anvil0) = (cpu_secs(&me)?, cpu_secs(&anvil)?);
    let began = Instant::now();
    let mut jobs = post(&api, model_id, 0..args.jobs, args.max_tokens).await?;
    follow(&api, &mut jobs, timeout(&args, args.jobs)).await?;
    let (cpu, anvil_cpu) = (cpu_secs(&me)? - cpu0, cpu_secs(&anvil)? - anvil0);
    agents.stop().await?;

    let provider = vouch_chain::connect_reader(&chain.config).await?;
    let (gas_sums, disputed) = gas_of(&api, &provider, &jobs).await?;
    coordinator.handle.shutdown().await;
    let (answer_cpu, answer_wall, answer_tokens, prompts) = answer_cost(&model, &jobs)?;
    let _ = std::fs::remove_dir_all(&dir);

    let n = jobs.len() as f64;
    let since = |t: Instant| t.duration_since(began).as_secs_f64();
    let last_answer = jobs.iter().filter_map(|j| j.answered).map(since);
    let last_answer = last_answer.fold(0.0, f64::max);
    let last_settled = jobs.iter().filter_map(|j| j.settled_at).map(since);
    let last_settled = last_settled.fold(0.0, f64::max);
    let texts = jobs
        .iter()
        .filter_map(|j| j.settled.as_ref()?.text.as_ref());
    let (prompt_tokens, answer_tokens_all) = texts.fold((0, 0), |(p, a), t| {
        (
            p + t.prompt_ids.len(),
            a + t.answer_ids.as_ref().map_or(0, Vec::len),
        )
    });
    let rerun = jobs
        .iter()
        .filter(|j| sampler.picks(U256::from(j.id), 1))
        .count();
    let total_gas: u64 = gas_sums.values().sum();
    let per_job = |g: u64| g as f64 / n;

    println!(
        "{name}: {} jobs of ≤ {} tokens posted at once over HTTP (after {warm} to warm up), {} workers (one shard each), a challenger re-running {:.0} %, a {} s window; {} cores",
        jobs.len(),
        args.max_tokens,
        args.workers,
        args.sample * 100.0,
        args.window,
        std::thread::available_parallelism().map_or(1, usize::from),
    );
    println!(
        "throughput       {:.3} jobs/s answered ({} in {last_answer:.1} s): {:.2} generated tokens/s, {:.2} prompt tokens/s; all settled in {last_settled:.1} s ({:.3} jobs/s)",
        n / last_answer,
        jobs.len(),
        answer_tokens_all as f64 / last_answer,
        prompt_tokens as f64 / last_answer,
        n / last_settled,
    );
    let latency = |f: &dyn Fn(&Timed) -> Option<Instant>| -> Vec<f64> {
        jobs.iter()
            .filter_map(|j| Some(f(j)?.duration_since(j.asked).as_secs_f64()))
            .collect()
    };
    println!("{}", percentiles("post → answer", latency(&|j| j.answered)));
    println!(
        "{}",
        percentiles("post → settled", latency(&|j| j.settled_at))
    );
    let kinds: Vec<String> = gas_sums
        .iter()
        .map(|(k, g)| format!("{k} {:.0}", per_job(*g)))
        .collect();
    println!(
        "gas per job      {} | all {:.0} = {:.6} ETH at {} gwei",
        kinds.join(" | "),
        per_job(total_gas),
        per_job(total_gas) * args.gas_gwei * 1e-9,
        args.gas_gwei,
    );
    println!(
        "CPU per job      {:.2} CPU-s for the whole stack (workers, challenger, coordinator, dApp: {:.2}; anvil: {:.2})",
        (cpu + anvil_cpu) / n,
        cpu / n,
        anvil_cpu / n,
    );
    println!(
        "one answer       {:.2} CPU-s, {:.2} s wall, {:.3} CPU-s per generated token (each of {prompts} distinct prompts generated alone with every commitment)",
        answer_cpu / prompts as f64,
        answer_wall / prompts as f64,
        answer_cpu / answer_tokens.max(1) as f64,
    );
    println!(
        "checked          {} settled answers equal this machine's integer model; {rerun} results re-run by the challenger; {disputed} disputed",
        jobs.len(),
    );
    // A random model's answers are noise; a real one's are worth reading.
    for job in jobs.iter().take(QUESTIONS.len()).filter(|_| !args.tiny) {
        if let Some(answer) = job
            .settled
            .as_ref()
            .and_then(|r| r.text.as_ref()?.answer.clone())
        {
            println!(
                "  {:<40} {}",
                job.question,
                answer.trim().replace('\n', " ")
            );
        }
    }
    ensure!(disputed == 0, "{disputed} honest answers were disputed");
    Ok(())
}
