//! The play loop: a loop of its own (no re-run the check loop does can delay a move on the clock)
//! that finds every game this challenger opened and plays one move in each per poll, then
//! withdraws what it won. A tensor model's game is played from the trace the check loop stored; a
//! language model's from the job generated again at the result's claimed length, once per result
//! (kept in `Parties` across polls, rebuilt after a restart).

use crate::{
    error::{ChallengerError, Result},
    play::{Played, play, play_llm},
    state::{PlayState, PlayedGame},
    strategy::Strategy,
};
use alloy::primitives::U256;
use rand::rngs::StdRng;
use std::{path::Path, sync::Arc};
use vouch_agent::{
    Cursor, LoadedLm, ModelCache, Parties, Standing, StateFile, TraceStore, blocking, lm_job,
};
use vouch_chain::{
    EventStream, GameStatus, Market, Side, VouchEvent, bindings::DisputeGame::DisputeGameEvents,
    registry::ModelKind,
};
use vouch_llm::trace::{LmParty, Stop, generate, program::Program};

/// Results whose language-model parties stay built across polls.
const PARTIES: usize = 8;

/// What one play poll did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PlayReport {
    /// Games found (opened by this challenger).
    pub opened: usize,
    /// Moves sent (the one step included).
    pub moves: usize,
    /// Games won (the defender lost).
    pub won: usize,
    /// Games lost.
    pub lost: usize,
    /// Wei withdrawn.
    pub withdrawn: U256,
}

/// The id of a game as `games.json` keys it (decimal).
fn game_id(id: &str) -> Result<U256> {
    id.parse().map_err(|_| ChallengerError::State {
        path: "games.json".into(),
        reason: format!("bad game id {id}"),
    })
}

/// The challenger's standing: its games are those in `data_dir/games.json`.
pub async fn standing(market: &Market, data_dir: &Path) -> Result<Standing> {
    let play = StateFile::load_or(&data_dir.join("games.json"), PlayState::default)?;
    let games = play
        .state
        .games
        .keys()
        .map(|id| game_id(id))
        .collect::<Result<Vec<_>>>()?;
    vouch_agent::standing::read(market, Side::Challenger, games).await
}

/// The challenger's play loop.
#[derive(Debug)]
pub struct Player {
    market: Market,
    confirmations: u64,
    strategy: Strategy,
    models: ModelCache,
    traces: TraceStore,
    parties: Parties<LmParty>,
    state: StateFile<PlayState>,
    rng: StdRng,
}

/// The challenger's party for result `attempt` of `job` on language model `lm`: the job generated at
/// the length G the result claims, read from the dispute's `n = 1 + (P + G − 1)·OPS` (the job's
/// layout holds only its latest result's G), off the event loop.
async fn claimed_party(
    market: &Market,
    lm: Arc<LoadedLm>,
    job: U256,
    attempt: u32,
) -> Result<LmParty> {
    let (j, input, dispute) = tokio::try_join!(
        market.job(job),
        market.job_input(job),
        market.dispute(job, attempt)
    )?;
    let lm_job = lm_job(&j, &input)?;
    let (ops, n) = (
        Program::new(lm.model.config).ops(),
        dispute.op_count as usize,
    );
    let claimed = n
        .checked_sub(1)
        .filter(|t| t.is_multiple_of(ops))
        .and_then(|t| (t / ops + 1).checked_sub(lm_job.prompt.len()))
        .filter(|g| (1..=lm_job.max_new).contains(g))
        .ok_or_else(|| {
            ChallengerError::Inconsistent(format!(
                "job {job} attempt {attempt}: a game of {n} slots, {ops} per pass"
            ))
        })?;
    let party = blocking(move || -> Result<LmParty> {
        let trace = generate(&lm.model, &lm_job, Stop::Length(claimed), |_| ())?;
        Ok(LmParty::new(trace))
    })
    .await??;
    tracing::info!(job = %job, attempt, claimed, "generated the disputed job again at the claimed length");
    Ok(party)
}

impl Player {
    /// A play loop for `market`'s account, its state in `data_dir/games.json` (a fresh one starts at
    /// block `start_block`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        market: Market,
        confirmations: u64,
        strategy: Strategy,
        data_dir: &Path,
        traces: TraceStore,
        models: ModelCache,
        start_block: u64,
        rng: StdRng,
    ) -> Result<Self> {
        let state = StateFile::load_or(&data_dir.join("games.json"), || PlayState {
            cursor: Cursor::at(start_block),
            ..PlayState::default()
        })?;
        Ok(Self {
            market,
            confirmations,
            strategy,
            models,
            traces,
            parties: Parties::new(PARTIES),
            state,
            rng,
        })
    }

    /// The games being played (id → game).
    pub fn games(&self) -> impl Iterator<Item = (&String, &PlayedGame)> {
        self.state.state.games.iter()
    }

    /// One poll: find the games this challenger opened, play one move in each, withdraw.
    pub async fn step(&mut self) -> Result<PlayReport> {
        let mut report = PlayReport {
            opened: self.find_games().await?,
            ..PlayReport::default()
        };
        self.state.save_if_changed()?;
        self.play_games(&mut report).await?;
        self.state.save_if_changed()?;
        report.withdrawn = vouch_agent::withdraw(&self.market).await?;
        Ok(report)
    }

    /// Follows `ChallengeOpened` by this account (so a game opened just before a crash is found).
    async fn find_games(&mut self) -> Result<usize> {
        let mut stream = EventStream::new(
            self.market.client().provider().clone(),
            *self.market.deployment(),
            self.state.state.cursor.next_block,
            self.confirmations,
        );
        let mut opened = 0;
        for ev in stream.poll().await? {
            let VouchEvent::Game(DisputeGameEvents::ChallengeOpened(e)) = ev.event else {
                continue;
            };
            if e.challenger != self.market.client().address() {
                continue;
            }
            let j = self.market.job(e.jobId).await?;
            let as_u64 = |v: U256| {
                u64::try_from(v).map_err(|_| ChallengerError::Inconsistent(format!("id {v}")))
            };
            self.state.state.games.insert(
                e.gameId.to_string(),
                PlayedGame {
                    job: as_u64(e.jobId)?,
                    attempt: e.attempt,
                    model: as_u64(j.model_id)?,
                },
            );
            opened += 1;
        }
        self.state.state.cursor.next_block = stream.next_block();
        Ok(opened)
    }

    /// Plays one move in every game.
    async fn play_games(&mut self, report: &mut PlayReport) -> Result<()> {
        let games: Vec<(String, PlayedGame)> = self
            .state
            .state
            .games
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        for (id, g) in games {
            let game = game_id(&id)?;
            let (job, attempt) = (U256::from(g.job), g.attempt);
            let played = self.play_one(game, g).await;
            match played {
                Ok(Played::Moved) => report.moves += 1,
                Ok(Played::Waiting) => {}
                Ok(Played::Over(status)) => {
                    match status {
                        GameStatus::ChallengerWon => report.won += 1,
                        GameStatus::DefenderWon => report.lost += 1,
                        GameStatus::Active | GameStatus::Moot => {}
                    }
                    tracing::info!(game = %game, job = g.job, attempt, status = status.as_str(), "game over");
                    self.state.state.games.remove(&id);
                    // The trace belongs to this result only; another game on it may still need it.
                    if !self
                        .state
                        .state
                        .games
                        .values()
                        .any(|o| o.job == g.job && o.attempt == attempt)
                    {
                        self.traces.remove(job, attempt);
                        self.parties.forget((job, attempt));
                    }
                }
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => tracing::warn!(game = %game, error = %e, "move failed; will retry"),
            }
        }
        Ok(())
    }
}

impl Player {
    /// One move in game `game` on `g`, from the party of its kind of model.
    async fn play_one(&mut self, game: U256, g: PlayedGame) -> Result<Played> {
        let (job, attempt, model) = (U256::from(g.job), g.attempt, U256::from(g.model));
        let (provider, deployment) = (self.market.client().provider(), self.market.deployment());
        match self.models.kind(provider, deployment, model).await? {
            ModelKind::Tensor => {
                let model = self.models.model(provider, deployment, model).await?;
                let trace = self.traces.path(job, attempt);
                play(
                    &self.market,
                    &model,
                    &trace,
                    game,
                    self.strategy,
                    &mut self.rng,
                )
                .await
            }
            ModelKind::Llm => {
                let lm = self.models.llm(provider, deployment, model).await?;
                let (market, built) = (&self.market, lm.clone());
                let party = self
                    .parties
                    .get((job, attempt), || {
                        claimed_party(market, built, job, attempt)
                    })
                    .await?;
                play_llm(
                    &self.market,
                    &lm.model,
                    &lm.commitment,
                    party,
                    game,
                    self.strategy,
                    &mut self.rng,
                )
                .await
            }
        }
    }
}

impl vouch_agent::Agent for Player {
    type Report = PlayReport;
    type Error = ChallengerError;

    async fn step(&mut self) -> Result<PlayReport> {
        Player::step(self).await
    }
}
