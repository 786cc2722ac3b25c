//! `vouch dev`: a whole local network in one process, with demo jobs.

use alloy::primitives::{U256, utils::format_ether};
use anyhow::{Context, bail};
use clap::Args;
use rand::{SeedableRng, rngs::StdRng};
use std::{net::SocketAddr, path::PathBuf, time::Duration};
use tokio_util::sync::CancellationToken;
use vouch_chain::{ChainClient, ChainConfig, MarketParams, anvil::LocalChain, registry};
use vouch_coordinator::{CoordinatorConfig, client::ApiClient};
use vouch_core::{Model, burn_exec::BurnBackend, commit::model_root, random, reference, tensor};
use vouch_import::{Dataset, quantize_input};
use vouch_worker::{Worker, WorkerConfig};

/// Run a local Vouch network and show jobs settle.
///
/// Starts anvil, deploys the contracts, lists the example model (publishing its weights on chain),
/// starts the coordinator (HTTP API + SQLite) and a worker, posts demo jobs over HTTP, and prints each
/// settled output next to the reference interpreter's. Then keeps serving until Ctrl-C (or exits with
/// `--once`). Everything lives in `--data-dir`, wiped at start.
#[derive(Debug, Args)]
pub(crate) struct DevArgs {
    /// Port for anvil's JSON-RPC (0 picks a free port).
    #[arg(long, default_value_t = 8545)]
    anvil_port: u16,
    /// Address of the coordinator's HTTP API (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    http: SocketAddr,
    /// Model to list (`.vouch`); default: the built-in digits CNN (`models/digits-cnn.vouch`).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Float inputs for the demo jobs (JSON or `.npy`, see `vouch model import --help`); default: the
    /// built-in held-out digits when the model is the built-in one, random int8 inputs otherwise.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Number of demo jobs to post.
    #[arg(long, default_value_t = 3)]
    jobs: usize,
    /// Challenge window in seconds.
    #[arg(long, default_value_t = 5)]
    window_secs: u64,
    /// Directory for the database, worker state and traces (wiped at start).
    #[arg(long, default_value = ".vouch/dev")]
    data_dir: PathBuf,
    /// Exit once the demo jobs have settled instead of serving until Ctrl-C.
    #[arg(long)]
    once: bool,
}

/// The example model `vouch dev` lists by default: the digits CNN imported from ONNX.
const EXAMPLE_MODEL: &[u8] = include_bytes!("../../../models/digits-cnn.vouch");
/// Held-out 8×8 digits (never seen in training or calibration) for the demo jobs.
const EXAMPLE_DATA: &str = include_str!("../../../models/data/digits-test.json");

const OWNER: usize = 0;
const POSTER: usize = 1;
const WORKER: usize = 2;

impl DevArgs {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        if self.data_dir.exists() {
            std::fs::remove_dir_all(&self.data_dir)
                .with_context(|| format!("wiping {}", self.data_dir.display()))?;
        }
        std::fs::create_dir_all(&self.data_dir)?;
        let model = match &self.model {
            Some(p) => Model::load(p).with_context(|| format!("loading {}", p.display()))?,
            None => Model::from_bytes(EXAMPLE_MODEL).context("decoding the built-in model")?,
        };
        let data = match (&self.data, &self.model) {
            (Some(p), _) => {
                Some(Dataset::load(p).with_context(|| format!("reading {}", p.display()))?)
            }
            (None, None) => {
                Some(Dataset::from_json(EXAMPLE_DATA).context("decoding the built-in digits")?)
            }
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
        let params = MarketParams {
            challenge_window: self.window_secs,
            result_bond: U256::from(10u64.pow(17)),
        };
        let deployment = vouch_chain::deploy(&owner, params)
            .await
            .context("deploying contracts")?;
        std::fs::write(
            self.data_dir.join("deployment.json"),
            serde_json::to_string_pretty(&deployment)?,
        )?;
        println!("chain        {} (anvil)", chain.endpoint());
        println!(
            "registry     {}\nmarket       {}",
            deployment.registry, deployment.market
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

        let mut coordinator = CoordinatorConfig::new(
            format!(
                "sqlite://{}",
                self.data_dir.join("coordinator.db").display()
            ),
            self.http,
            config.clone(),
            deployment,
            chain.signer(POSTER),
        );
        coordinator.default_job_ttl = Duration::from_secs(600);
        let coordinator = vouch_coordinator::serve(coordinator)
            .await
            .context("starting the coordinator")?;
        let api_url = format!("http://{}", coordinator.local_addr());
        println!("coordinator  {api_url}  (GET /v1/jobs, /v1/models, /metrics)");

        let shutdown = CancellationToken::new();
        let worker_config = WorkerConfig {
            chain: config.clone(),
            deployment,
            data_dir: self.data_dir.join("worker"),
            confirmations: 0,
            poll_interval: Duration::from_millis(200),
            models: None,
            backend: BurnBackend::Flex,
        };
        let worker = Worker::new(worker_config, chain.signer(WORKER))
            .await
            .context("starting the worker")?;
        let worker_address = worker.address();
        let worker_task = tokio::spawn(worker.run(shutdown.clone()));

        let api = ApiClient::new(&api_url)?;
        let mut rng = StdRng::seed_from_u64(7);
        let mut posted = Vec::new();
        for i in 0..self.jobs {
            let (input, label) = match &data {
                Some(d) => {
                    let k = i % d.inputs.len();
                    (
                        quantize_input(&model, &d.inputs[k])?,
                        d.labels.as_ref().map(|l| l[k]),
                    )
                }
                None => (random::random_input(&mut rng, &model), None),
            };
            let job = api
                .post_job(model_id.to::<u64>(), serde_json::to_value(&input)?, None)
                .await?;
            let truth = label
                .map(|l| format!(" (a handwritten {l})"))
                .unwrap_or_default();
            println!("posted job {} over HTTP{truth}", job.job_id);
            posted.push((job.job_id, input));
        }
        let mut mismatches = 0;
        let timeout = Duration::from_secs(self.window_secs * 4 + 60);
        for (id, input) in &posted {
            let job = api.wait_settled(*id, timeout).await?;
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

        if self.once {
            shutdown.cancel();
        } else {
            println!("serving; Ctrl-C to stop");
            tokio::signal::ctrl_c().await?;
            shutdown.cancel();
        }
        worker_task
            .await
            .context("worker task")?
            .context("worker")?;
        coordinator.shutdown().await;
        drop(chain);
        if mismatches > 0 {
            bail!("{mismatches} settled outputs differ from the reference interpreter");
        }
        Ok(())
    }
}
