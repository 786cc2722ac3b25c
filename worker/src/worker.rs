//! The worker: a job loop (follow jobs, run them off the event loop — a tensor model on Burn, its
//! trace persisted; a language model generating until eos with the canonical integer model —, post
//! the result with a bond, finalize when the window closes, withdraw) and a defence loop of its own
//! ([`Defender`]). Everything it does is idempotent against the chain, so a restart at any point
//! (even between sending a result and saving its state) loses nothing; an event that fails for good
//! is recorded and skipped, never retried into a crash loop.
//!
//! A language model's trace is not stored: generation is deterministic, so the defence loop
//! generates it again when a game on the result opens, and checks it against the posted trace root.
//! (A trace is ~1 MiB per token on SmolLM2, and games are rare; the chain holds everything needed
//! to rebuild it.)

use crate::{
    defender::{DefenceReport, Defender},
    error::{Result, WorkerError},
    lie::Lie,
    state::{PendingResult, WorkerState},
    status,
};
use alloy::{
    primitives::{Address, B256, U256},
    signers::local::PrivateKeySigner,
};
use std::{net::SocketAddr, path::PathBuf, time::Duration};
use tokio_util::sync::CancellationToken;
use vouch_agent::{
    Counters, Cursor, Generated, Inference, ModelCache, Policy, Run, StateFile, TraceStore,
};
use vouch_burn::BurnBackend;
use vouch_chain::{
    ChainClient, ChainConfig, ChainError, Deployment, EventStream, JobStatus, JobView, Market,
    Revert, VouchEvent,
    bindings::{
        DisputeGame::DisputeGameEvents,
        JobMarket::{JobMarketErrors, JobMarketEvents},
    },
    registry::ModelKind,
};
use vouch_core::{dispute::Party, tensor::Tensor};
use vouch_llm::{
    IntModel,
    trace::{Job, LmTrace, Stop, generate},
};

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
    /// Which models and jobs it serves, and what one model may cost.
    pub policy: Policy,
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
    /// Jobs skipped by the operator's policy (model or fee).
    pub skipped: usize,
    /// Events that failed for good, recorded and skipped.
    pub failed: usize,
    /// Jobs finalized.
    pub finalized: usize,
    /// Wei withdrawn.
    pub withdrawn: U256,
    /// Reveals sent in games against this worker's results.
    pub revealed: usize,
    /// Games that could not be answered for want of their trace (retried every poll).
    pub missing_traces: usize,
}

/// A running worker: its job loop and its defence loop.
#[derive(Debug)]
pub struct Worker {
    jobs: Jobs,
    defender: Defender,
}

/// The job loop.
#[derive(Debug)]
struct Jobs {
    config: WorkerConfig,
    market: Market,
    inference: Inference,
    traces: TraceStore,
    state: StateFile<WorkerState>,
    bond: U256,
    window: u64,
    counters: Counters,
}

/// What a worker posts for a job: the output's bytes and the two commitments.
#[derive(Debug)]
struct Answer {
    output: Vec<u8>,
    output_root: B256,
    trace_root: B256,
}

/// The trace a worker with `lie` (honest: `None`) commits to for language-model job `job`: its own
/// generation until eos or the job's budget, or the lie's ([`Lie::fabricate_lm`]; `None` for a lie
/// told about tensor models only). Deterministic, so the defence generates it again.
pub(crate) fn lm_answer(
    model: &IntModel,
    job: &Job,
    lie: Option<Lie>,
) -> vouch_llm::Result<Option<LmTrace>> {
    match lie {
        Some(lie) => lie.fabricate_lm(model, job),
        None => generate(model, job, Stop::Eos(model.tokenizer.eos), |_| ()).map(Some),
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn market_revert(e: &ChainError) -> Option<&JobMarketErrors> {
    match e.revert() {
        Some(Revert::Market(m)) => Some(m),
        _ => None,
    }
}

impl Worker {
    /// Connects, reads the market's parameters, and loads both loops' state from `data_dir`.
    pub async fn new(config: WorkerConfig, signer: PrivateKeySigner) -> Result<Self> {
        std::fs::create_dir_all(&config.data_dir)?;
        let client = ChainClient::connect(&config.chain, signer).await?;
        let market = Market::new(client, config.deployment);
        let params = market.params().await?;
        let state = StateFile::load_or(&config.data_dir.join("state.json"), || WorkerState {
            cursor: Cursor::at(config.deployment.start_block),
            ..WorkerState::default()
        })?;
        let traces = TraceStore::new(config.data_dir.join("traces"));
        let models = |policy: Policy| {
            ModelCache::new(config.data_dir.join("models"), config.backend, policy)
        };
        let defender = Defender::new(
            market.clone(),
            config.confirmations,
            params.clock_extension,
            &config.data_dir,
            traces.clone(),
            models(Policy::default()),
            state.state.cursor.next_block,
            config.lie,
        )?;
        tracing::info!(
            address = %market.client().address(),
            bond = %params.result_bond,
            window_secs = params.challenge_window,
            from_block = state.state.cursor.next_block,
            pending = state.state.pending.len(),
            games = defender.games().count(),
            policy = ?config.policy,
            "worker ready"
        );
        Ok(Self {
            jobs: Jobs {
                inference: Inference::new(models(config.policy.clone())),
                config,
                market,
                traces,
                state,
                bond: params.result_bond,
                window: params.challenge_window,
                counters: Counters::default(),
            },
            defender,
        })
    }

    /// The worker's account.
    pub fn address(&self) -> Address {
        self.jobs.market.client().address()
    }

    /// The defence loop (its games).
    pub fn defender(&self) -> &Defender {
        &self.defender
    }

    #[cfg(test)]
    pub(crate) fn defender_mut(&mut self) -> &mut Defender {
        &mut self.defender
    }

    /// Runs the job loop and the defence loop, each on its own task, until `shutdown` is cancelled.
    /// A failed step is logged and retried.
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        let interval = self.jobs.config.poll_interval;
        let defence = tokio::spawn(vouch_agent::run(
            self.defender,
            "defence",
            interval,
            shutdown.clone(),
        ));
        vouch_agent::run(self.jobs, "worker", interval, shutdown).await;
        defence
            .await
            .map_err(|e| WorkerError::Task(format!("defence loop: {e}")))
    }

    /// One step of each loop, one after the other (tests and tools that drive the worker by hand).
    pub async fn step(&mut self) -> Result<StepReport> {
        let mut report = self.jobs.step().await?;
        let d: DefenceReport = self.defender.step().await?;
        report.revealed = d.revealed;
        report.missing_traces = d.missing_traces;
        Ok(report)
    }

    /// Withdraws this worker's credit, if any. Returns the amount.
    pub async fn withdraw(&self) -> Result<U256> {
        vouch_agent::withdraw(&self.jobs.market).await
    }

    /// Serves its Prometheus metrics on `GET /metrics` at `addr` until `shutdown`
    /// ([`vouch_agent::metrics`]; the games and clocks from its defence state and the chain).
    /// Returns the address it listens on.
    pub async fn serve_metrics(
        &self,
        addr: SocketAddr,
        shutdown: CancellationToken,
    ) -> Result<SocketAddr> {
        let market = self.jobs.market.clone();
        let data_dir = self.jobs.config.data_dir.clone();
        let counters = self.jobs.counters.clone();
        let scrape = move || {
            let (market, data_dir, counters) = (market.clone(), data_dir.clone(), counters.clone());
            async move {
                let standing = status::standing(&market, &data_dir).await?;
                Ok::<_, WorkerError>(vouch_agent::metrics::render(&standing, &counters))
            }
        };
        vouch_agent::metrics::serve(addr, scrape, shutdown).await
    }
}

impl Jobs {
    fn address(&self) -> Address {
        self.market.client().address()
    }

    /// One step (see [`Jobs::poll`]), counted in the metrics.
    async fn step(&mut self) -> Result<StepReport> {
        let report = self.poll().await?;
        self.counters.answered(report.submitted);
        self.counters.failed(report.failed);
        Ok(report)
    }

    /// Handles new events, finalizes what is due, withdraws, saves state.
    async fn poll(&mut self) -> Result<StepReport> {
        let mut report = StepReport::default();
        let mut stream = EventStream::new(
            self.market.client().provider().clone(),
            self.config.deployment,
            self.state.state.cursor.next_block,
            self.config.confirmations,
        );
        for ev in stream.poll().await? {
            let (key, handled) = match ev.event {
                VouchEvent::Market(JobMarketEvents::JobPosted(e)) => (
                    format!("job-{}", e.jobId),
                    self.take_job(e.jobId, &e.input, &mut report).await,
                ),
                VouchEvent::Market(JobMarketEvents::ResultSubmitted(e))
                    if e.worker == self.address() =>
                {
                    self.track(e.jobId, e.attempt, e.submittedAt);
                    continue;
                }
                VouchEvent::Market(JobMarketEvents::JobSettled(e))
                    if e.worker == self.address() =>
                {
                    let earnings = &mut self.state.state.earnings;
                    earnings.settled += 1;
                    earnings.fees_wei += e.workerPayout.saturating_sub(self.bond);
                    self.forget(e.jobId);
                    continue;
                }
                VouchEvent::Game(DisputeGameEvents::ResultOverturned(e)) => (
                    format!("overturned-{}-{}", e.jobId, e.attempt),
                    self.on_overturned(e.jobId, e.attempt, e.burned, &mut report)
                        .await,
                ),
                _ => continue,
            };
            match handled {
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => {
                    tracing::error!(event = key, block = ev.block, error = %e, "event failed: recorded and skipped");
                    self.state.state.cursor.fail(&key, &e);
                    report.failed += 1;
                }
                Ok(()) => {}
            }
        }
        self.state.state.cursor.next_block = stream.next_block();
        // The cursor and results are durable before any finalize transaction is sent.
        self.state.save_if_changed()?;
        report.finalized = self.finalize_due().await?;
        if report.finalized > 0 {
            report.withdrawn = vouch_agent::withdraw(&self.market).await?;
        }
        self.state.save_if_changed()?;
        Ok(report)
    }

    fn track(&mut self, job: U256, attempt: u32, submitted_at: u64) {
        self.state.state.pending.insert(
            job.to_string(),
            PendingResult {
                window_ends_at: submitted_at + self.window,
                attempt,
            },
        );
    }

    /// A result was overturned and its job re-opened: forget it if it was ours, and answer the job
    /// again if the policy serves it (a lying worker: unless it was its own lie).
    async fn on_overturned(
        &mut self,
        id: U256,
        attempt: u32,
        burned: U256,
        report: &mut StepReport,
    ) -> Result<()> {
        // Only the overturned attempt is forgotten: a later result of ours on the job still stands.
        let ours = self
            .state
            .state
            .pending
            .get(&id.to_string())
            .is_some_and(|p| p.attempt == attempt);
        if ours {
            tracing::warn!(job = %id, attempt, burned_wei = %burned, "our result was overturned: bond lost");
            let earnings = &mut self.state.state.earnings;
            earnings.overturned += 1;
            earnings.bonds_lost_wei += self.bond;
            self.forget(id);
        }
        // A liar does not answer again the job it was caught lying on (it would only lie again).
        if (ours && self.config.lie.is_some())
            || self.market.job(id).await?.status != JobStatus::Open
        {
            return Ok(());
        }
        let input = self.market.job_input(id).await?;
        self.take_job(id, &input, report).await
    }

    /// Forgets a pending result and drops its trace (the result is final or overturned).
    fn forget(&mut self, job: U256) {
        if let Some(p) = self.state.state.pending.remove(&job.to_string()) {
            self.traces.remove(job, p.attempt);
        }
    }

    /// Runs and answers one job if it is still open and the policy serves it.
    async fn take_job(&mut self, id: U256, input: &[u8], report: &mut StepReport) -> Result<()> {
        let job = self.market.job(id).await?;
        if job.status != JobStatus::Open {
            if job.status == JobStatus::Submitted && job.worker == self.address() {
                self.track(id, job.attempt, job.submitted_at);
            }
            return Ok(());
        }
        if now_secs() >= job.deadline {
            tracing::info!(job = %id, "deadline passed; skipping");
            return Ok(());
        }
        // A fleet splits first answers by shard; a job re-opened after an overturn is everyone's.
        if job.attempt == 0 && !self.config.policy.serves_job(id) {
            tracing::debug!(job = %id, "another shard's job");
            report.skipped += 1;
            return Ok(());
        }
        let kind = self
            .inference
            .models()
            .kind(
                self.market.client().provider(),
                &self.config.deployment,
                job.model_id,
            )
            .await?;
        // The run may take the process down (a model past any estimate): mark it first, so a
        // restart gives up on it after a few tries instead of dying on it forever.
        let key = format!("job-{id}-{}", job.attempt + 1);
        if !self.state.state.cursor.start(&key) {
            report.failed += 1;
            return Ok(());
        }
        self.state.save_if_changed()?;
        let answer = match kind {
            ModelKind::Tensor => self.run_tensor(&job, input).await,
            ModelKind::Llm => self.run_lm(&job, input).await,
        };
        self.state.state.cursor.finish(&key);
        let Some(answer) = answer? else {
            report.skipped += 1;
            return Ok(());
        };
        let attempt = job.attempt + 1;
        let Answer {
            output,
            output_root,
            trace_root,
        } = answer;
        match self
            .market
            .submit_result(id, output_root, trace_root, &output, self.bond)
            .await
        {
            Ok(_) => {
                let job = self.market.job(id).await?;
                self.track(id, job.attempt, job.submitted_at);
                tracing::info!(job = %id, attempt = job.attempt, model = %job.model_id, output_root = %output_root, trace_root = %trace_root, "result submitted");
                report.submitted += 1;
                Ok(())
            }
            Err(e) if matches!(market_revert(&e), Some(JobMarketErrors::JobNotOpen(_))) => {
                tracing::info!(job = %id, "another worker answered first");
                self.traces.remove(id, attempt);
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A tensor model's answer to `job` (run on Burn), its trace persisted before it is posted;
    /// `None` when the policy skips the job (or the lie is not a tensor model's).
    async fn run_tensor(&mut self, job: &JobView, input: &[u8]) -> Result<Option<Answer>> {
        let (loaded, trace) = match self.inference.run_job(&self.market, job, input).await? {
            Run::Ran { loaded, trace } => (loaded, trace),
            Run::Skipped(skip) => {
                skip.log(job.id);
                return Ok(None);
            }
        };
        let (trace, output) = match self.config.lie {
            Some(lie) => {
                let Some(f) = lie.fabricate(&loaded.model, &trace) else {
                    tracing::info!(job = %job.id, ?lie, "job skipped: a lie told about language models only");
                    return Ok(None);
                };
                tracing::warn!(job = %job.id, ?lie, "posting a fabricated result");
                (f.trace, f.output)
            }
            None => {
                let output = trace.output().to_vec();
                (trace, output)
            }
        };
        // A bait lie plants its junk in the final state's tree, which only a party holds; every other
        // trace (a lie's too, even one with slots of the wrong shape) commits through its slot roots.
        let trace_root = match self.config.lie {
            Some(lie) if lie.bait(loaded.model.op_count()).is_some() => lie
                .dress(Party::new(&loaded.model, trace.clone())?)?
                .trace_root(self.address()),
            _ => trace.commitments().trace_root(self.address()),
        };
        // The trace must be on disk before the result that it backs is posted.
        self.traces.persist(job.id, job.attempt + 1, &trace)?;
        let output = Tensor::new(loaded.model.output(), output)?;
        Ok(Some(Answer {
            output_root: output.root(),
            output: output.to_bytes(),
            trace_root,
        }))
    }

    /// A language model's answer to `job`: the ids generated until eos or the job's budget (or the
    /// lie's), with the trace's commitments; nothing is stored (see the module doc). `None` when the
    /// policy skips the job (or the lie is not a language model's).
    async fn run_lm(&mut self, job: &JobView, input: &[u8]) -> Result<Option<Answer>> {
        let (lie, me) = (self.config.lie, self.address());
        let run = self
            .inference
            .run_lm_job(&self.market, job, input, move |model, job| {
                Ok(lm_answer(model, job, lie)?.map(|trace| Answer {
                    output: trace.output_bytes().to_vec(),
                    output_root: trace.output_root(),
                    trace_root: trace.trace_root(me),
                }))
            })
            .await?;
        match run {
            Generated::Ran(Some(answer)) => {
                if let Some(lie) = lie {
                    tracing::warn!(job = %job.id, ?lie, "posting a fabricated answer");
                }
                Ok(Some(answer))
            }
            Generated::Ran(None) => {
                tracing::info!(job = %job.id, ?lie, "job skipped: a lie told about tensor models only");
                Ok(None)
            }
            Generated::Skipped(skip) => {
                skip.log(job.id);
                Ok(None)
            }
        }
    }

    /// Finalizes every pending result whose window has closed. Returns how many settled.
    async fn finalize_due(&mut self) -> Result<usize> {
        if self.state.state.pending.is_empty() {
            return Ok(0);
        }
        // The next block's timestamp is at least the wall clock and at least the head's timestamp.
        let now = now_secs().max(self.market.chain_time().await?);
        let due: Vec<String> = self
            .state
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
}

impl vouch_agent::Agent for Jobs {
    type Report = StepReport;
    type Error = WorkerError;

    async fn step(&mut self) -> Result<StepReport> {
        Jobs::step(self).await
    }
}
