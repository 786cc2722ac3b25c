//! The challenger: a check loop (follow results, re-run the sampled ones off the event loop,
//! challenge the wrong ones) and a play loop of its own ([`Player`]: one move per game per poll,
//! withdrawals). An event that fails for good is recorded and skipped, never retried into a crash
//! loop.
//!
//! A tensor model's result is re-run on Burn and the trace stored before the challenge; a language
//! model's is generated at the claimed length (`Stop::Length(G)`, so both state trees have one shape)
//! and nothing is stored: the play loop generates it again when it first moves in the game.

use crate::{
    error::{ChallengerError, Result},
    player::{self, PlayReport, Player},
    sample::Sampler,
    state::{ChallengerState, PlayedGame},
    strategy::Strategy,
};
use alloy::{
    primitives::{Address, B256, U256},
    signers::local::PrivateKeySigner,
};
use rand::{SeedableRng, rngs::StdRng};
use std::{net::SocketAddr, path::PathBuf, time::Duration};
use tokio_util::sync::CancellationToken;
use vouch_agent::{
    Counters, Cursor, Generated, Inference, ModelCache, Policy, Run, StateFile, TraceStore,
};
use vouch_burn::BurnBackend;
use vouch_chain::{
    ChainClient, ChainConfig, Deployment, EventStream, JobStatus, JobView, Market, VouchEvent,
    bindings::JobMarket::JobMarketEvents, registry::ModelKind,
};
use vouch_core::Trace;
use vouch_llm::trace::{Stop, generate};

/// How a challenger runs.
#[derive(Debug, Clone)]
pub struct ChallengerConfig {
    /// Chain endpoint and timeouts.
    pub chain: ChainConfig,
    /// Contract addresses.
    pub deployment: Deployment,
    /// Where state, traces and cached models live.
    pub data_dir: PathBuf,
    /// Blocks an event must have on top before the challenger acts on it.
    pub confirmations: u64,
    /// Pause between steps.
    pub poll_interval: Duration,
    /// Share of results re-run, in [0, 1].
    pub sample_rate: f64,
    /// Secret key of the sampler (workers must not learn it).
    pub sample_key: B256,
    /// Which models and jobs it re-runs, and what one model may cost.
    pub policy: Policy,
    /// Burn backend that re-runs the models.
    pub backend: BurnBackend,
    /// How it plays (honest outside tests and the demo).
    pub strategy: Strategy,
}

/// What one step did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StepReport {
    /// Results re-run.
    pub checked: usize,
    /// Games opened.
    pub challenged: usize,
    /// Results skipped by the operator's policy (model or fee).
    pub skipped: usize,
    /// Events that failed for good, recorded and skipped.
    pub failed: usize,
    /// Moves sent (the one step included).
    pub moves: usize,
    /// Games won (the defender lost).
    pub won: usize,
    /// Games lost.
    pub lost: usize,
    /// Wei withdrawn.
    pub withdrawn: U256,
}

/// A running challenger: its check loop and its play loop.
#[derive(Debug)]
pub struct Challenger {
    checker: Checker,
    player: Player,
}

/// The check loop.
#[derive(Debug)]
struct Checker {
    config: ChallengerConfig,
    market: Market,
    inference: Inference,
    traces: TraceStore,
    state: StateFile<ChallengerState>,
    sampler: Sampler,
    bond: U256,
    window: u64,
    counters: Counters,
}

impl Challenger {
    /// Connects, reads the market's parameters and loads both loops' state from `data_dir`.
    pub async fn new(config: ChallengerConfig, signer: PrivateKeySigner) -> Result<Self> {
        std::fs::create_dir_all(&config.data_dir)?;
        let client = ChainClient::connect(&config.chain, signer).await?;
        let market = Market::new(client, config.deployment);
        let params = market.params().await?;
        let state = StateFile::load_or(&config.data_dir.join("state.json"), || ChallengerState {
            cursor: Cursor::at(config.deployment.start_block),
        })?;
        let traces = TraceStore::new(config.data_dir.join("traces"));
        let models = |policy: Policy| {
            ModelCache::new(config.data_dir.join("models"), config.backend, policy)
        };
        let player = Player::new(
            market.clone(),
            config.confirmations,
            config.strategy,
            &config.data_dir,
            traces.clone(),
            models(Policy::default()),
            state.state.cursor.next_block,
            StdRng::seed_from_u64(u64::from_be_bytes(
                config.sample_key[..8].try_into().expect("8 bytes"),
            )),
        )?;
        tracing::info!(
            address = %market.client().address(),
            challenge_bond = %params.challenge_bond,
            sample_rate = config.sample_rate,
            strategy = ?config.strategy,
            games = player.games().count(),
            policy = ?config.policy,
            "challenger ready"
        );
        Ok(Self {
            checker: Checker {
                sampler: Sampler::new(config.sample_key, config.sample_rate),
                inference: Inference::new(models(config.policy.clone())),
                config,
                market,
                traces,
                state,
                bond: params.challenge_bond,
                window: params.challenge_window,
                counters: Counters::default(),
            },
            player,
        })
    }

    /// The challenger's account.
    pub fn address(&self) -> Address {
        self.checker.market.client().address()
    }

    /// The games being played (id → game).
    pub fn games(&self) -> impl Iterator<Item = (&String, &PlayedGame)> {
        self.player.games()
    }

    /// How many language-model parties its play loop built so far ([`Player::parties_built`]).
    pub fn parties_built(&self) -> u64 {
        self.player.parties_built()
    }

    /// Serves its Prometheus metrics on `GET /metrics` at `addr` until `shutdown`
    /// ([`vouch_agent::metrics`]; the games and clocks from its play state and the chain).
    /// Returns the address it listens on.
    pub async fn serve_metrics(
        &self,
        addr: SocketAddr,
        shutdown: CancellationToken,
    ) -> Result<SocketAddr> {
        let market = self.checker.market.clone();
        let data_dir = self.checker.config.data_dir.clone();
        let counters = self.checker.counters.clone();
        let scrape = move || {
            let (market, data_dir, counters) = (market.clone(), data_dir.clone(), counters.clone());
            async move {
                let standing = player::standing(&market, &data_dir).await?;
                Ok::<_, ChallengerError>(vouch_agent::metrics::render(&standing, &counters))
            }
        };
        vouch_agent::metrics::serve(addr, scrape, shutdown).await
    }

    /// Runs the check loop and the play loop, each on its own task, until `shutdown` is cancelled.
    /// A failed step is logged and retried.
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        let interval = self.checker.config.poll_interval;
        let play = tokio::spawn(vouch_agent::run(
            self.player,
            "play",
            interval,
            shutdown.clone(),
        ));
        vouch_agent::run(self.checker, "challenger", interval, shutdown).await;
        play.await
            .map_err(|e| ChallengerError::Task(format!("play loop: {e}")))
    }

    /// One step of each loop, one after the other (tests and tools that drive it by hand).
    pub async fn step(&mut self) -> Result<StepReport> {
        let mut report = self.checker.step().await?;
        let p: PlayReport = self.player.step().await?;
        report.moves = p.moves;
        report.won = p.won;
        report.lost = p.lost;
        report.withdrawn = p.withdrawn;
        Ok(report)
    }
}

impl Checker {
    fn address(&self) -> Address {
        self.market.client().address()
    }

    /// One step (see [`Checker::poll`]), counted in the metrics.
    async fn step(&mut self) -> Result<StepReport> {
        let report = self.poll().await?;
        self.counters.challenged(report.challenged);
        self.counters.failed(report.failed);
        Ok(report)
    }

    /// Checks the new results.
    async fn poll(&mut self) -> Result<StepReport> {
        let mut report = StepReport::default();
        let mut stream = EventStream::new(
            self.market.client().provider().clone(),
            self.config.deployment,
            self.state.state.cursor.next_block,
            self.config.confirmations,
        );
        for ev in stream.poll().await? {
            let VouchEvent::Market(JobMarketEvents::ResultSubmitted(e)) = ev.event else {
                continue;
            };
            if e.worker == self.address()
                || !self.config.policy.serves_job(e.jobId)
                || !self.sampler.picks(e.jobId, e.attempt)
            {
                continue;
            }
            let key = format!("result-{}-{}", e.jobId, e.attempt);
            match self
                .check(
                    &key,
                    e.jobId,
                    e.attempt,
                    e.traceRoot,
                    e.outputRoot,
                    &mut report,
                )
                .await
            {
                Ok(()) => {}
                Err(err) if err.is_transient() => return Err(err),
                Err(err) => {
                    tracing::error!(event = key, block = ev.block, error = %err, "result check failed: recorded and skipped");
                    self.state.state.cursor.fail(&key, &err);
                    report.failed += 1;
                }
            }
        }
        self.state.state.cursor.next_block = stream.next_block();
        self.state.save_if_changed()?;
        Ok(report)
    }

    /// Re-runs result `attempt` of `job` and challenges it if its commitments differ from ours (or
    /// always, for a lying strategy).
    async fn check(
        &mut self,
        key: &str,
        job: U256,
        attempt: u32,
        trace_root: B256,
        output_root: B256,
        report: &mut StepReport,
    ) -> Result<()> {
        let j = self.market.job(job).await?;
        if j.status != JobStatus::Submitted || j.attempt != attempt {
            return Ok(());
        }
        let input = self.market.job_input(job).await?;
        let kind = self
            .inference
            .models()
            .kind(
                self.market.client().provider(),
                &self.config.deployment,
                j.model_id,
            )
            .await?;
        // The re-run may take the process down: mark it first (see `vouch_agent::state`).
        if !self.state.state.cursor.start(key) {
            report.failed += 1;
            return Ok(());
        }
        self.state.save_if_changed()?;
        let run = match kind {
            ModelKind::Tensor => self.run_tensor(&j, &input).await,
            ModelKind::Llm => self.run_lm(&j, &input).await,
        };
        self.state.state.cursor.finish(key);
        let Some(ours) = run? else {
            report.skipped += 1;
            return Ok(());
        };
        report.checked += 1;
        // Our trace root is bound to the result's worker, as its own must be (PROTOCOL §3).
        let honest = ours.trace_root == trace_root && ours.output_root == output_root;
        tracing::info!(job = %job, attempt, honest, "re-ran result");
        if honest && !self.config.strategy.challenges_correct() {
            return Ok(());
        }
        let now = self.market.chain_time().await?;
        if now >= j.submitted_at + self.window {
            tracing::warn!(job = %job, "window closed before the re-run finished");
            return Ok(());
        }
        // A tensor model's trace is on disk before the game exists: the play loop may pick the game
        // up at once.
        if let Some(trace) = &ours.trace {
            self.traces.persist(job, attempt, trace)?;
        }
        // A restart replays the events after the last saved cursor: a result challenged just before a
        // crash is found again on chain (and played by the play loop), never challenged twice.
        let mine = self.market.games_opened_by(self.address(), job).await?;
        if let Some((game, _)) = mine.iter().find(|(_, a)| *a == attempt) {
            tracing::info!(game = %game, job = %job, "already challenged this result");
            return Ok(());
        }
        let (game, _) = self.market.challenge(job, self.bond).await?;
        tracing::warn!(game = %game, job = %job, attempt, worker = %j.worker, "challenged: commitments differ from our re-run");
        report.challenged += 1;
        Ok(())
    }

    /// Re-runs a tensor model's result on Burn: our commitments for `j`'s worker, and the trace the
    /// play loop walks from; `None` when the policy skips it.
    async fn run_tensor(&mut self, j: &JobView, input: &[u8]) -> Result<Option<Ours>> {
        match self.inference.run_job(&self.market, j, input).await? {
            Run::Ran { trace, .. } => {
                let c = trace.commitments();
                Ok(Some(Ours {
                    trace_root: c.trace_root(j.worker),
                    output_root: c.output_root,
                    trace: Some(trace),
                }))
            }
            Run::Skipped(skip) => {
                skip.log(j.id);
                Ok(None)
            }
        }
    }

    /// Generates a language model's answer to `j` at the result's claimed length G: our commitments
    /// for `j`'s worker (the play loop generates the trace again); `None` when the policy skips it.
    async fn run_lm(&mut self, j: &JobView, input: &[u8]) -> Result<Option<Ours>> {
        let (_, _, claimed) = self.market.llm_layout(j.id).await?;
        let worker = j.worker;
        let run = self
            .inference
            .run_lm_job(&self.market, j, input, move |model, job| {
                let trace = generate(model, job, Stop::Length(claimed as usize), |_| ())?;
                Ok(Ours {
                    trace_root: trace.trace_root(worker),
                    output_root: trace.output_root(),
                    trace: None,
                })
            })
            .await?;
        match run {
            Generated::Ran(ours) => Ok(Some(ours)),
            Generated::Skipped(skip) => {
                skip.log(j.id);
                Ok(None)
            }
        }
    }
}

/// What the challenger's own run of a result commits to.
struct Ours {
    /// Its trace root for the result's worker.
    trace_root: B256,
    /// Its output root.
    output_root: B256,
    /// A tensor model's trace, stored before the challenge (a language model's is generated again).
    trace: Option<Trace>,
}

impl vouch_agent::Agent for Checker {
    type Report = StepReport;
    type Error = ChallengerError;

    async fn step(&mut self) -> Result<StepReport> {
        Checker::step(self).await
    }
}
