//! The worker loop: follow jobs, run them on Burn, persist the trace, post the result with a bond,
//! finalize when the window closes, withdraw. Everything it does is idempotent against the chain,
//! so a restart at any point (even between sending a result and saving its state) loses nothing.

use crate::{
    defence::{Defended, defend},
    error::{Result, WorkerError},
    lie::Lie,
    state::{DefendedGame, PendingResult, WorkerState},
};
use alloy::{
    primitives::{Address, U256},
    signers::local::PrivateKeySigner,
};
use std::{path::PathBuf, time::Duration};
use tokio_util::sync::CancellationToken;
use vouch_chain::{
    ChainClient, ChainConfig, ChainError, Deployment, EventStream, JobStatus, Market, Revert,
    VouchEvent, agent,
    bindings::JobMarket::{JobMarketErrors, JobMarketEvents},
    models::ModelCache,
};
use vouch_core::{Trace, burn_exec::BurnBackend, commit::tensor_root, tensor};

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Chain endpoint and timeouts.
    pub chain: ChainConfig,
    /// Contract addresses.
    pub deployment: Deployment,
    /// Where state, traces and cached models live.
    pub data_dir: PathBuf,
    /// Blocks an event must have on top before the worker acts on it.
    pub confirmations: u64,
    /// Pause between steps.
    pub poll_interval: Duration,
    /// Models to serve; `None` serves every model.
    pub models: Option<Vec<U256>>,
    /// Burn backend that runs the models.
    pub backend: BurnBackend,
    /// Cheat this way (tests and the demo only): post what the lie commits to and defend that.
    pub lie: Option<Lie>,
}

/// What one step did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StepReport {
    /// Results posted.
    pub submitted: usize,
    /// Jobs finalized.
    pub finalized: usize,
    /// Wei withdrawn.
    pub withdrawn: U256,
    /// Reveals sent in games against this worker's results.
    pub revealed: usize,
}

/// A running worker's state.
#[derive(Debug)]
pub struct Worker {
    config: WorkerConfig,
    market: Market,
    models: ModelCache,
    state: WorkerState,
    bond: U256,
    window: u64,
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Errors worth retrying the whole batch for (the node is down or slow), as opposed to a job that
/// can never be served (it is taken, the model is broken), which is logged and skipped.
fn is_transient(e: &WorkerError) -> bool {
    matches!(
        e,
        WorkerError::Chain(ChainError::Rpc(_) | ChainError::Timeout { .. }) | WorkerError::Io(_)
    )
}

fn market_revert(e: &ChainError) -> Option<&JobMarketErrors> {
    match e.revert() {
        Some(Revert::Market(m)) => Some(m),
        _ => None,
    }
}

impl Worker {
    /// Connects, reads the market's bond and window, and loads the state from `data_dir`.
    pub async fn new(config: WorkerConfig, signer: PrivateKeySigner) -> Result<Self> {
        std::fs::create_dir_all(&config.data_dir)?;
        let client = ChainClient::connect(&config.chain, signer).await?;
        let market = Market::new(client, config.deployment);
        let params = market.params().await?;
        let state = WorkerState::load_or_new(
            &config.data_dir.join("state.json"),
            config.deployment.start_block,
        )?;
        let models = ModelCache::new(config.data_dir.join("models"), config.backend);
        tracing::info!(
            address = %market.client().address(),
            bond = %params.result_bond,
            window_secs = params.challenge_window,
            from_block = state.next_block,
            pending = state.pending.len(),
            "worker ready"
        );
        Ok(Self {
            config,
            market,
            models,
            state,
            bond: params.result_bond,
            window: params.challenge_window,
        })
    }

    /// The worker's account.
    pub fn address(&self) -> Address {
        self.market.client().address()
    }

    fn trace_path(&self, job: U256) -> PathBuf {
        self.config
            .data_dir
            .join("traces")
            .join(format!("job-{job}.trace"))
    }

    fn serves(&self, model: U256) -> bool {
        self.config
            .models
            .as_ref()
            .is_none_or(|ids| ids.contains(&model))
    }

    /// Runs steps until `shutdown` is cancelled. A failed step is logged and retried.
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        let interval = self.config.poll_interval;
        agent::run(self, "worker", interval, shutdown).await;
        Ok(())
    }

    /// One step: handle new events, finalize what is due, withdraw, save state.
    pub async fn step(&mut self) -> Result<StepReport> {
        let mut report = StepReport::default();
        let mut saved = self.state.clone();
        let provider = self.market.client().provider().clone();
        let mut stream = EventStream::new(
            provider,
            self.config.deployment,
            self.state.next_block,
            self.config.confirmations,
        );
        let events = stream.poll().await?;
        for ev in events {
            let VouchEvent::Market(event) = ev.event else {
                continue;
            };
            let handled = match event {
                JobMarketEvents::JobPosted(e) if self.serves(e.modelId) => self
                    .take_job(e.jobId, e.modelId, &e.input)
                    .await
                    .map(|took| report.submitted += usize::from(took)),
                JobMarketEvents::ResultSubmitted(e) if e.worker == self.address() => {
                    self.track(e.jobId, e.submittedAt);
                    Ok(())
                }
                JobMarketEvents::JobSettled(e) if e.worker == self.address() => {
                    self.forget(e.jobId);
                    Ok(())
                }
                JobMarketEvents::ChallengeOpened(e)
                    if self.state.pending.contains_key(&e.jobId.to_string()) =>
                {
                    self.watch_game(e.gameId, e.jobId, e.attempt).await
                }
                JobMarketEvents::ResultOverturned(e) => self
                    .on_overturned(e.jobId, e.attempt, e.burned)
                    .await
                    .map(|took| report.submitted += usize::from(took)),
                _ => Ok(()),
            };
            match handled {
                Err(e) if is_transient(&e) => return Err(e),
                Err(e) => tracing::warn!(error = %e, block = ev.block, "skipping event"),
                Ok(()) => {}
            }
        }
        self.state.next_block = stream.next_block();
        // The cursor and results are durable before any finalize transaction is sent.
        self.save_if_changed(&mut saved)?;
        report.revealed = self.defend_games().await?;
        report.finalized = self.finalize_due().await?;
        if report.finalized > 0 {
            report.withdrawn = self.withdraw().await?;
        }
        self.save_if_changed(&mut saved)?;
        Ok(report)
    }

    /// Writes the state file only when the state differs from what was last written (an idle
    /// worker polls every few hundred milliseconds and should not fsync each time).
    fn save_if_changed(&self, saved: &mut WorkerState) -> Result<()> {
        if self.state != *saved {
            self.state.save(&self.config.data_dir.join("state.json"))?;
            *saved = self.state.clone();
        }
        Ok(())
    }

    fn track(&mut self, job: U256, submitted_at: u64) {
        self.state.pending.insert(
            job.to_string(),
            PendingResult {
                window_ends_at: submitted_at + self.window,
            },
        );
    }

    /// A result was overturned and its job re-opened: forget it if it was ours, and answer the job
    /// again if this (honest) worker serves its model. Returns whether a result was posted.
    async fn on_overturned(&mut self, id: U256, attempt: u32, burned: U256) -> Result<bool> {
        let job = self.market.job(id).await?;
        // Only the overturned attempt is forgotten: a later result of ours on the job still stands.
        if self.state.pending.contains_key(&id.to_string()) && job.attempt == attempt {
            tracing::warn!(job = %id, burned_wei = %burned, "our result was overturned: bond lost");
            self.forget(id);
        }
        if self.config.lie.is_some() || job.status != JobStatus::Open || !self.serves(job.model_id)
        {
            return Ok(false);
        }
        let input = self.market.job_input(id).await?;
        self.take_job(id, job.model_id, &input).await
    }

    async fn watch_game(&mut self, game: U256, job: U256, attempt: u32) -> Result<()> {
        let j = self.market.job(job).await?;
        if j.worker != self.address() || j.attempt != attempt {
            return Ok(());
        }
        let as_u64 = |v: U256, what: &str| {
            u64::try_from(v).map_err(|_| WorkerError::Inconsistent(format!("{what} id {v}")))
        };
        tracing::warn!(game = %game, job = %job, "challenged: defending from the stored trace");
        self.state.games.insert(
            game.to_string(),
            DefendedGame {
                job: as_u64(job, "job")?,
                model: as_u64(j.model_id, "model")?,
            },
        );
        Ok(())
    }

    /// Answers every game against this worker's results once. Returns the reveals sent.
    async fn defend_games(&mut self) -> Result<usize> {
        if self.config.lie.is_some_and(|l| !l.defends()) {
            return Ok(0);
        }
        let mut revealed = 0;
        let games: Vec<(String, DefendedGame)> = self
            .state
            .games
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        for (id, g) in games {
            let game: U256 = id.parse().map_err(|_| WorkerError::State {
                path: "state.json".into(),
                reason: format!("bad game id {id}"),
            })?;
            let provider = self.market.client().provider().clone();
            let loaded = self
                .models
                .get(&provider, &self.config.deployment, U256::from(g.model))
                .await?;
            let trace = self.trace_path(U256::from(g.job));
            match defend(&self.market, &loaded.model, &trace, game).await {
                Ok(Defended::Playing { revealed: r }) => revealed += usize::from(r),
                Ok(Defended::Over(status)) => {
                    tracing::info!(game = %game, job = g.job, status = status.as_str(), "game over");
                    self.state.games.remove(&id);
                }
                Err(WorkerError::Core(vouch_core::CoreError::Io(e)))
                    if e.kind() == std::io::ErrorKind::NotFound =>
                {
                    tracing::error!(game = %game, job = g.job, error = %e, "no stored trace: cannot defend");
                    self.state.games.remove(&id);
                }
                Err(e) if is_transient(&e) => return Err(e),
                Err(e) => {
                    tracing::warn!(game = %game, error = %e, "defence step failed; will retry")
                }
            }
        }
        Ok(revealed)
    }

    fn forget(&mut self, job: U256) {
        self.state.pending.remove(&job.to_string());
        // The result is final: the trace is no longer needed to defend it.
        let _ = std::fs::remove_file(self.trace_path(job));
    }

    /// Runs and answers one job if it is still open. Returns whether a result was posted.
    async fn take_job(&mut self, id: U256, model_id: U256, input: &[u8]) -> Result<bool> {
        let job = self.market.job(id).await?;
        if job.status != JobStatus::Open {
            if job.status == JobStatus::Submitted && job.worker == self.address() {
                self.track(id, job.submitted_at);
            }
            return Ok(false);
        }
        if now_secs() >= job.deadline {
            tracing::info!(job = %id, "deadline passed; skipping");
            return Ok(false);
        }
        let provider = self.market.client().provider().clone();
        let loaded = self
            .models
            .get(&provider, &self.config.deployment, model_id)
            .await?;
        let input = tensor::from_bytes(input);
        if tensor_root(&input, loaded.model.input.c as usize) != job.input_root {
            return Err(WorkerError::Inconsistent(format!(
                "job {id}: input does not hash to its input root"
            )));
        }
        let run = loaded.clone();
        let trace: Trace = tokio::task::spawn_blocking(move || run.burn.run(&input))
            .await
            .map_err(|e| WorkerError::Inconsistent(format!("inference task failed: {e}")))??;
        let (trace, output) = match self.config.lie {
            Some(lie) => {
                let f = lie.fabricate(&loaded.model, &trace);
                tracing::warn!(job = %id, ?lie, "posting a fabricated result");
                (f.trace, f.output)
            }
            None => {
                let output = trace.output().to_vec();
                (trace, output)
            }
        };
        let c = trace.commitments();
        // The trace must be on disk before the result that it backs is posted.
        let path = self.trace_path(id);
        trace.persist(&path)?;
        let output_root = tensor_root(&output, loaded.model.output().c as usize);
        let output = tensor::to_bytes(&output);
        match self
            .market
            .submit_result(id, output_root, c.trace_root, &output, self.bond)
            .await
        {
            Ok(_) => {
                let job = self.market.job(id).await?;
                self.track(id, job.submitted_at);
                tracing::info!(job = %id, model = %model_id, output_root = %output_root, trace_root = %c.trace_root, "result submitted");
                Ok(true)
            }
            Err(e) if matches!(market_revert(&e), Some(JobMarketErrors::JobNotOpen(_))) => {
                tracing::info!(job = %id, "another worker answered first");
                let _ = std::fs::remove_file(path);
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Finalizes every pending result whose window has closed. Returns how many settled.
    async fn finalize_due(&mut self) -> Result<usize> {
        if self.state.pending.is_empty() {
            return Ok(0);
        }
        // The next block's timestamp is at least the wall clock and at least the head's timestamp.
        let now = now_secs().max(self.market.chain_time().await?);
        let due: Vec<String> = self
            .state
            .pending
            .iter()
            .filter(|(_, p)| p.window_ends_at <= now)
            .map(|(id, _)| id.clone())
            .collect();
        let mut settled = 0;
        for id in due {
            let job: U256 = id.parse().map_err(|_| WorkerError::State {
                path: "state.json".into(),
                reason: format!("bad job id {id}"),
            })?;
            match self.market.finalize(job).await {
                Ok(_) => {
                    tracing::info!(job = %job, "finalized");
                    self.forget(job);
                    settled += 1;
                }
                Err(e) => match market_revert(&e) {
                    // The chain's clock lags the wall clock: try again next step.
                    Some(JobMarketErrors::ChallengeWindowOpen(_)) => {}
                    // A game on the result is still being played: settle once it is decided.
                    Some(JobMarketErrors::GamesOpen(_)) => {}
                    // Someone else finalized it already, or a game overturned it.
                    Some(JobMarketErrors::JobNotSubmitted(_)) => self.forget(job),
                    _ => return Err(e.into()),
                },
            }
        }
        Ok(settled)
    }

    /// Withdraws this worker's credit, if any. Returns the amount.
    pub async fn withdraw(&self) -> Result<U256> {
        let credit = self.market.credits(self.address()).await?;
        if credit.is_zero() {
            return Ok(credit);
        }
        self.market.withdraw().await?;
        tracing::info!(amount_wei = %credit, "withdrew earnings");
        Ok(credit)
    }
}

impl agent::Agent for Worker {
    type Report = StepReport;
    type Error = WorkerError;

    async fn step(&mut self) -> Result<StepReport> {
        Worker::step(self).await
    }
}
