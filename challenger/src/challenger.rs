//! The challenger loop: follow results, re-run the sampled ones, challenge the wrong ones, play
//! every game one move per step, withdraw the winnings.

use crate::{
    error::{ChallengerError, Result},
    play::{Played, play},
    sample::Sampler,
    state::{ChallengerState, PlayedGame},
    strategy::Strategy,
};
use alloy::{
    primitives::{Address, B256, U256},
    signers::local::PrivateKeySigner,
};
use rand::{SeedableRng, rngs::StdRng};
use std::{path::PathBuf, time::Duration};
use tokio_util::sync::CancellationToken;
use vouch_chain::{
    ChainClient, ChainConfig, Deployment, EventStream, GameStatus, JobStatus, Market, VouchEvent,
    agent, bindings::JobMarket::JobMarketEvents, models::ModelCache,
};
use vouch_core::{Trace, burn_exec::BurnBackend, commit::tensor_root, tensor};

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
    /// Moves sent (the one step included).
    pub moves: usize,
    /// Games won (the defender lost).
    pub won: usize,
    /// Games lost.
    pub lost: usize,
    /// Wei withdrawn.
    pub withdrawn: U256,
}

/// A running challenger.
#[derive(Debug)]
pub struct Challenger {
    config: ChallengerConfig,
    market: Market,
    models: ModelCache,
    state: ChallengerState,
    sampler: Sampler,
    bond: U256,
    window: u64,
    rng: StdRng,
}

impl Challenger {
    /// Connects, reads the market's parameters and loads the state from `data_dir`.
    pub async fn new(config: ChallengerConfig, signer: PrivateKeySigner) -> Result<Self> {
        std::fs::create_dir_all(&config.data_dir)?;
        let client = ChainClient::connect(&config.chain, signer).await?;
        let market = Market::new(client, config.deployment);
        let params = market.params().await?;
        let state = ChallengerState::load_or_new(
            &config.data_dir.join("state.json"),
            config.deployment.start_block,
        )?;
        let models = ModelCache::new(config.data_dir.join("models"), config.backend);
        tracing::info!(
            address = %market.client().address(),
            challenge_bond = %params.challenge_bond,
            sample_rate = config.sample_rate,
            strategy = ?config.strategy,
            games = state.games.len(),
            "challenger ready"
        );
        Ok(Self {
            sampler: Sampler::new(config.sample_key, config.sample_rate),
            rng: StdRng::seed_from_u64(u64::from_be_bytes(
                config.sample_key[..8].try_into().expect("8 bytes"),
            )),
            config,
            market,
            models,
            state,
            bond: params.challenge_bond,
            window: params.challenge_window,
        })
    }

    /// The challenger's account.
    pub fn address(&self) -> Address {
        self.market.client().address()
    }

    /// The games being played (id → game).
    pub fn games(&self) -> impl Iterator<Item = (&String, &PlayedGame)> {
        self.state.games.iter()
    }

    fn trace_path(&self, job: U256) -> PathBuf {
        self.config
            .data_dir
            .join("traces")
            .join(format!("job-{job}.trace"))
    }

    /// Runs steps until `shutdown` is cancelled. A failed step is logged and retried.
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        let interval = self.config.poll_interval;
        agent::run(self, "challenger", interval, shutdown).await;
        Ok(())
    }

    /// One step: check new results, play one move in every game, withdraw, save state.
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
        for ev in stream.poll().await? {
            let VouchEvent::Market(JobMarketEvents::ResultSubmitted(e)) = ev.event else {
                continue;
            };
            if e.worker == self.address() || !self.sampler.picks(e.jobId, e.attempt) {
                continue;
            }
            match self
                .check(e.jobId, e.attempt, e.traceRoot, e.outputRoot)
                .await
            {
                Ok(opened) => {
                    report.checked += 1;
                    report.challenged += usize::from(opened);
                }
                Err(e) if e.is_transient() => return Err(e),
                Err(err) => tracing::warn!(job = %e.jobId, error = %err, "skipping result"),
            }
        }
        self.state.next_block = stream.next_block();
        self.save_if_changed(&mut saved)?;
        self.play_games(&mut report).await?;
        self.save_if_changed(&mut saved)?;
        let credit = self.market.credits(self.address()).await?;
        if !credit.is_zero() {
            self.market.withdraw().await?;
            tracing::info!(amount_wei = %credit, "withdrew winnings");
            report.withdrawn = credit;
        }
        Ok(report)
    }

    fn save_if_changed(&self, saved: &mut ChallengerState) -> Result<()> {
        if self.state != *saved {
            self.state.save(&self.config.data_dir.join("state.json"))?;
            *saved = self.state.clone();
        }
        Ok(())
    }

    /// Re-runs result `attempt` of `job` and challenges it if its commitments differ from ours (or
    /// always, for a lying strategy). Returns whether a game was opened.
    async fn check(
        &mut self,
        job: U256,
        attempt: u32,
        trace_root: B256,
        output_root: B256,
    ) -> Result<bool> {
        let j = self.market.job(job).await?;
        if j.status != JobStatus::Submitted || j.attempt != attempt {
            return Ok(false);
        }
        let provider = self.market.client().provider().clone();
        let loaded = self
            .models
            .get(&provider, &self.config.deployment, j.model_id)
            .await?;
        let input = tensor::from_bytes(&self.market.job_input(job).await?);
        if tensor_root(&input, loaded.model.input.c as usize) != j.input_root {
            return Err(ChallengerError::Inconsistent(format!(
                "job {job}: input does not hash to its input root"
            )));
        }
        let run = loaded.clone();
        let trace: Trace = tokio::task::spawn_blocking(move || run.burn.run(&input))
            .await
            .map_err(|e| ChallengerError::Inconsistent(format!("re-run failed: {e}")))??;
        let ours = trace.commitments();
        let honest = ours.trace_root == trace_root && ours.output_root == output_root;
        tracing::info!(job = %job, attempt, honest, "re-ran result");
        if honest && !self.config.strategy.challenges_correct() {
            return Ok(false);
        }
        let now = self.market.chain_time().await?;
        if now >= j.submitted_at + self.window {
            tracing::warn!(job = %job, "window closed before the re-run finished");
            return Ok(false);
        }
        trace.persist(&self.trace_path(job))?;
        // A restart replays the events after the last saved cursor: a result challenged just before a
        // crash is found again on chain and played, never challenged twice.
        let mine = self.market.games_opened_by(self.address(), job).await?;
        let game = match mine.iter().find(|(_, a)| *a == attempt) {
            Some(&(game, _)) => {
                tracing::info!(game = %game, job = %job, "resuming our game on this result");
                game
            }
            None => {
                let (game, _) = self.market.challenge(job, self.bond).await?;
                tracing::warn!(game = %game, job = %job, worker = %j.worker, "challenged: commitments differ from our re-run");
                game
            }
        };
        let as_u64 = |v: U256| {
            u64::try_from(v).map_err(|_| ChallengerError::Inconsistent(format!("id {v}")))
        };
        self.state.games.insert(
            game.to_string(),
            PlayedGame {
                job: as_u64(job)?,
                model: as_u64(j.model_id)?,
            },
        );
        Ok(true)
    }

    /// Plays one move in every game.
    async fn play_games(&mut self, report: &mut StepReport) -> Result<()> {
        let games: Vec<(String, PlayedGame)> = self
            .state
            .games
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        for (id, g) in games {
            let game: U256 = id.parse().map_err(|_| ChallengerError::State {
                path: "state.json".into(),
                reason: format!("bad game id {id}"),
            })?;
            let provider = self.market.client().provider().clone();
            let loaded = self
                .models
                .get(&provider, &self.config.deployment, U256::from(g.model))
                .await?;
            let played = play(
                &self.market,
                &loaded.model,
                &self.trace_path(U256::from(g.job)),
                game,
                self.config.strategy,
                &mut self.rng,
            )
            .await;
            match played {
                Ok(Played::Moved) => report.moves += 1,
                Ok(Played::Waiting) => {}
                Ok(Played::Over(status)) => {
                    match status {
                        GameStatus::ChallengerWon => report.won += 1,
                        GameStatus::DefenderWon => report.lost += 1,
                        GameStatus::Active | GameStatus::Moot => {}
                    }
                    tracing::info!(game = %game, job = g.job, status = status.as_str(), "game over");
                    self.state.games.remove(&id);
                    let _ = std::fs::remove_file(self.trace_path(U256::from(g.job)));
                }
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => tracing::warn!(game = %game, error = %e, "move failed; will retry"),
            }
        }
        Ok(())
    }
}

impl agent::Agent for Challenger {
    type Report = StepReport;
    type Error = ChallengerError;

    async fn step(&mut self) -> Result<StepReport> {
        Challenger::step(self).await
    }
}
