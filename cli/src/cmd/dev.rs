//! `vouch dev`: a whole local network in one process, with demo jobs.

use alloy::primitives::{U256, utils::format_ether};
use anyhow::{Context, bail};
use clap::Args;
use rand::{SeedableRng, rngs::StdRng};
use std::{net::SocketAddr, path::PathBuf, time::Duration};
use vouch_agent::Daemons;
use vouch_burn::BurnBackend;
use vouch_chain::{
    ChainClient, ChainConfig, JobStatus, Market, MarketParams, anvil::LocalChain, registry,
};
use vouch_challenger::{Challenger, ChallengerConfig, Strategy};
use vouch_client::ApiClient;
use vouch_core::{
    Model,
    commit::model_root,
    random, reference,
    tensor::{self, Tensor},
};
use vouch_import::{Dataset, layout::onnx_shape, quantize_input};
use vouch_worker::{Lie, Worker, WorkerConfig};

/// Run a local Vouch network, show jobs settle and a fraudulent result get caught.
///
/// Starts anvil, deploys the contracts, lists the example model (publishing its weights on chain),
/// starts the coordinator (HTTP API + SQLite, with its dashboard at `/`), an honest worker and an
/// honest challenger, posts demo jobs over HTTP, and prints each settled output next to the reference interpreter's. Unless
/// `--no-fraud`, a dishonest worker also answers one job with a consistent but wrong trace (the same
/// model, listed a second time for it alone): the challenger re-runs it, challenges it, bisects the
/// trace and the disputed tensor down to one element (the moves are logged), the contract computes
/// that element itself, the liar's bond is slashed and the honest worker answers the re-opened job.
/// Then keeps serving until Ctrl-C (or exits with `--once`). Everything lives in `--data-dir`, wiped
/// at start.
#[derive(Debug, Args)]
pub(crate) struct DevArgs {
    /// Port for anvil's JSON-RPC (0 picks a free port).
    #[arg(long, default_value_t = 8545)]
    pub(crate) anvil_port: u16,
    /// Address of the coordinator's HTTP API (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) http: SocketAddr,
    /// Model to list: a `.vouch` file (default: the built-in digits CNN, `models/digits-cnn.vouch`), or
    /// a language model — `smollm2` (SmolLM2-135M-Instruct from the pinned GGUF that
    /// `scripts/fetch-smollm2.sh` caches), a llama GGUF, or a `.vlm` from `vouch model import`. A
    /// language model is listed once (minutes for SmolLM2, with a progress bar) and the chain saved in
    /// the cache, so later runs start in seconds; a dApp then asks questions over HTTP, one answered
    /// by a dishonest worker with a token changed, caught, bisected and slashed, and every answer
    /// settles as text.
    #[arg(long)]
    pub(crate) model: Option<PathBuf>,
    /// Float inputs for the demo jobs (JSON or `.npy`, see `vouch model import --help`); default: the
    /// built-in held-out digits when the model is the built-in one, random int8 inputs otherwise.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Number of demo jobs to post.
    #[arg(long, default_value_t = 3)]
    jobs: usize,
    /// Challenge window in seconds.
    #[arg(long, default_value_t = 10)]
    pub(crate) window_secs: u64,
    /// Skip the fraudulent result (no dishonest worker).
    #[arg(long)]
    no_fraud: bool,
    /// Directory for the database, worker state and traces (wiped at start).
    #[arg(long, default_value = ".vouch/dev")]
    pub(crate) data_dir: PathBuf,
    /// Exit once the demo jobs have settled instead of serving until Ctrl-C.
    #[arg(long)]
    pub(crate) once: bool,
}

/// The example model `vouch dev` lists by default: the digits CNN imported from ONNX.
const EXAMPLE_MODEL: &[u8] = include_bytes!("../../../models/digits-cnn.vouch");
/// Held-out 8×8 digits (never seen in training or calibration) for the demo jobs.
const EXAMPLE_DATA: &str = include_str!("../../../models/data/digits-test.json");

const OWNER: usize = 0;
const POSTER: usize = 1;
const WORKER: usize = 2;
const LIAR: usize = 3;
const CHALLENGER: usize = 4;
const DAPP: usize = 5;

impl DevArgs {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        if self.data_dir.exists() {
            std::fs::remove_dir_all(&self.data_dir)
                .with_context(|| format!("wiping {}", self.data_dir.display()))?;
        }
        std::fs::create_dir_all(&self.data_dir)?;
        if let Some(name) = self.model.as_deref().filter(|m| is_language_model(m)) {
            return super::dev_llm::run(&self, name).await;
        }
        let model = match &self.model {
            Some(p) => Model::load(p).with_context(|| format!("loading {}", p.display()))?,
            None => Model::from_bytes(EXAMPLE_MODEL).context("decoding the built-in model")?,
        };
        let shape = onnx_shape(model.input).dims();
        let data = match (&self.data, &self.model) {
            (Some(p), _) => Some(
                Dataset::load(p, None, &shape)
                    .with_context(|| format!("reading {}", p.display()))?,
            ),
            (None, None) => Some(
                Dataset::from_json(EXAMPLE_DATA, &shape).context("decoding the built-in digits")?,
            ),
            (None, Some(_)) => None,
        };

        let chain = LocalChain::start(Some(self.anvil_port)).with_context(|| {
            format!(
                "starting anvil on port {} (pass --anvil-port 0 for a free port)",
                self.anvil_port
            )
        })?;
        let config = ChainConfig::local(chain.endpoint());
        let owner = ChainClient::connect(&config, chain.signer(OWNER)).await?;
        let params = MarketParams::new(self.window_secs, U256::from(10u64.pow(17)), 1_000_000_000);
        let deployment = vouch_chain::deploy(&owner, params)
            .await
            .context("deploying contracts")?;
        std::fs::write(
            self.data_dir.join("deployment.json"),
            serde_json::to_string_pretty(&deployment)?,
        )?;
        println!("chain        {} (anvil)", chain.endpoint());
        println!(
            "registry     {}\nmarket       {}\nprover       {}\nLLM prover   {}",
            deployment.registry, deployment.market, deployment.prover, deployment.llm_prover
        );

        let fee = U256::from(10u64.pow(15));
        let model_id = registry::list_model(&owner, &deployment, &model, fee, 1_000)
            .await
            .context("listing the model")?;
        println!(
            "model {model_id}      {} (root {}), weights published on chain",
            model.meta.name,
            model_root(&model)
        );

        let (coordinator, api_url, api_key) = start_coordinator(
            &self.data_dir,
            self.http,
            &config,
            deployment,
            chain.signer(POSTER),
        )
        .await?;

        let mut agents = Daemons::default();
        let worker_config =
            |name: &str, models: Option<Vec<U256>>, lie: Option<Lie>| WorkerConfig {
                chain: config.clone(),
                deployment,
                data_dir: self.data_dir.join(name),
                confirmations: 0,
                poll_interval: Duration::from_millis(200),
                policy: vouch_agent::Policy {
                    models,
                    ..vouch_agent::Policy::default()
                },
                backend: BurnBackend::Flex,
                lie,
            };
        let challenger = Challenger::new(
            ChallengerConfig {
                chain: config.clone(),
                deployment,
                data_dir: self.data_dir.join("challenger"),
                confirmations: 0,
                poll_interval: Duration::from_millis(200),
                sample_rate: 1.0,
                sample_key: alloy::primitives::keccak256(b"vouch dev challenger"),
                policy: vouch_agent::Policy::default(),
                backend: BurnBackend::Flex,
                strategy: Strategy::Honest,
            },
            chain.signer(CHALLENGER),
        )
        .await
        .context("starting the challenger")?;
        let challenger_address = challenger.address();
        agents.spawn("challenger", |stop| challenger.run(stop));

        let api = ApiClient::new(&api_url)?.with_api_key(api_key);
        let mut rng = StdRng::seed_from_u64(7);
        let mut inputs = (0..self.jobs + 1).map(|i| match &data {
            Some(d) => {
                let k = i % d.inputs.len();
                anyhow::Ok((
                    quantize_input(&model, &d.inputs[k])?,
                    d.labels.as_ref().map(|l| l[k]),
                ))
            }
            None => Ok((random::random_input(&mut rng, &model), None)),
        });
        let truth = |label: Option<usize>| {
            label
                .map(|l| format!(" (a handwritten {l})"))
                .unwrap_or_default()
        };
        let mut posted = Vec::new();
        let mut fraud = None;
        if !self.no_fraud {
            // The same model listed again, served by the dishonest worker alone, so the fraud is
            // deterministic: no honest worker races it to the first answer.
            let liar_model = registry::list_model(&owner, &deployment, &model, fee, 1_000)
                .await
                .context("listing the model for the dishonest worker")?;
            let lie = Lie::Consistent {
                step: model.op_count() / 2,
            };
            let liar = Worker::new(
                worker_config("liar", Some(vec![liar_model]), Some(lie)),
                chain.signer(LIAR),
            )
            .await
            .context("starting the dishonest worker")?;
            let liar_address = liar.address();
            agents.spawn("dishonest worker", |stop| liar.run(stop));
            let (input, label) = inputs.next().expect("one input per job")?;
            // A dApp posting straight to the contract (the coordinator indexes it like any job).
            let dapp = Market::new(
                ChainClient::connect(&config, chain.signer(DAPP)).await?,
                deployment,
            );
            let deadline = dapp.chain_time().await? + 600;
            let (id, _) = dapp
                .post_job(
                    liar_model,
                    &Tensor::new(model.input, input.clone())?,
                    deadline,
                    fee,
                )
                .await
                .context("posting the job the dishonest worker answers")?;
            println!(
                "posted job {id} on chain{} on model {liar_model}, served by a DISHONEST worker {liar_address} ({lie:?})",
                truth(label)
            );
            while dapp.job(id).await?.status != JobStatus::Submitted {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            println!(
                "job {id} answered with a fabricated trace; the challenger {challenger_address} re-runs it"
            );
            let id = id.to::<u64>();
            fraud = Some((id, liar_address));
            posted.push((id, input));
        }
        let worker = Worker::new(worker_config("worker", None, None), chain.signer(WORKER))
            .await
            .context("starting the worker")?;
        let worker_address = worker.address();
        agents.spawn("worker", |stop| worker.run(stop));

        for _ in 0..self.jobs {
            let (input, label) = inputs.next().expect("one input per job")?;
            let job = api
                .post_job(model_id.to::<u64>(), serde_json::to_value(&input)?, None)
                .await?;
            println!("posted job {} over HTTP{}", job.job_id, truth(label));
            posted.push((job.job_id, input));
        }
        let mut mismatches = 0;
        let timeout = Duration::from_secs(self.window_secs * 8 + 180);
        for (id, input) in &posted {
            let job = api.wait_settled(*id, timeout, &mut |_| {}).await?;
            let output = job.output.clone().unwrap_or_default();
            let expected = reference::run(&model, input)?;
            let ok = output == expected.output()
                && job.output_root.as_deref()
                    == Some(&expected.commitments().output_root.to_string());
            mismatches += usize::from(!ok);
            let label = tensor::argmax(&output).map(|i| {
                model
                    .meta
                    .labels
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| i.to_string())
            });
            if let Some((fraud_id, liar)) = fraud.filter(|(f, _)| f == id) {
                let market = Market::new(owner.clone(), deployment);
                let settled = market.job(U256::from(fraud_id)).await?;
                println!(
                    "job {id}: the fabricated result of {liar} was overturned on chain and its bond slashed; answer {} by {} settled",
                    settled.attempt, settled.worker
                );
            }
            println!(
                "job {id} settled: output {output:?} → class {} — {}",
                label.unwrap_or_default(),
                if ok {
                    "matches the reference interpreter"
                } else {
                    "DIFFERS from the reference interpreter"
                }
            );
        }
        let earned = owner.provider().clone();
        let balance = alloy::providers::Provider::get_balance(&earned, worker_address).await?;
        println!(
            "worker {worker_address} balance {} ETH",
            format_ether(balance)
        );

        if !self.once {
            println!("serving; Ctrl-C to stop");
            tokio::signal::ctrl_c().await?;
        }
        agents.stop().await?;
        coordinator.shutdown().await;
        drop(chain);
        if mismatches > 0 {
            bail!("{mismatches} settled outputs differ from the reference interpreter");
        }
        Ok(())
    }
}

/// Starts the coordinator (SQLite in `data_dir`, HTTP on `http`, posting as `poster`) with an API
/// key for the demo jobs (and the user's own `POST /v1/jobs`) with 1 ETH of fees, and says where.
pub(crate) async fn start_coordinator(
    data_dir: &std::path::Path,
    http: SocketAddr,
    config: &ChainConfig,
    deployment: vouch_chain::Deployment,
    poster: alloy::signers::local::PrivateKeySigner,
) -> anyhow::Result<(vouch_coordinator::CoordinatorHandle, String, String)> {
    let local = vouch_coordinator::serve_local(
        data_dir,
        http,
        config,
        deployment,
        poster,
        "vouch dev",
        U256::from(10u64.pow(18)),
    )
    .await?;
    let api_url = local.url;
    println!(
        "coordinator  {api_url}  (GET /v1/jobs, /v1/games, /v1/accounts, /v1/events, /metrics)"
    );
    println!("dashboard    {api_url}/  (jobs, disputes move by move, earnings and slashes, live)");
    println!(
        "api key      {}  (POST /v1/jobs: Authorization: Bearer …)",
        local.api_key
    );
    Ok((local.handle, api_url, local.api_key))
}

/// Whether `--model` names a language model: `smollm2`, a GGUF, or an imported `.vlm`.
fn is_language_model(name: &std::path::Path) -> bool {
    name == std::path::Path::new("smollm2") || super::llm::is_gguf(name) || super::llm::is_llm(name)
}
