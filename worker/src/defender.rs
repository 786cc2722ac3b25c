//! The defence loop: a loop of its own (nothing the job loop does, an inference included, can delay
//! an answer on the clock) that finds every game opened against this worker's results and answers
//! them all each poll.
//!
//! Each poll reads every game concurrently, computes the answers from one cached party per result
//! (`vouch_agent::Parties`: a tensor model's [`Party`] from its stored trace, a language model's
//! [`LmParty`] from its generation run again, checked against the posted trace root), orders them
//! by the time left on the defender's clock (most urgent first), drops answers another game on the
//! same result already needs (reveals are cached per result), and sends them all at once with
//! pipelined nonces ([`vouch_chain::ChainClient::send_all`]). A game whose trace is missing is never
//! dropped: it is retried every poll, with an error log and a count in
//! [`DefenceReport::missing_traces`].

use crate::{
    defence::{self, Next},
    error::{Result, WorkerError},
    lie::Lie,
    state::{DefenceState, DefendedGame},
    worker::lm_answer,
};
use alloy::{
    primitives::{B256, U256},
    rpc::types::TransactionRequest,
};
use futures::future::join_all;
use std::{collections::HashSet, path::Path};
use vouch_agent::{Parties, StateFile, TraceStore, blocking, lm_job, models::ModelCache};
use vouch_chain::{
    EventStream, GameView, Market, PendingReveal, Revert, Side, VouchEvent,
    bindings::DisputeGame::{DisputeGameErrors, DisputeGameEvents},
    registry::ModelKind,
};
use vouch_core::{
    commit::TENSOR_LEAF_BYTES,
    dispute::{Disputant, Party},
    merkle::MerkleTree,
};
use vouch_llm::trace::LmParty;

/// Traces whose parties stay built across polls.
const PARTIES: usize = 8;

/// What one defence poll did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DefenceReport {
    /// Games newly found against this worker's results.
    pub opened: usize,
    /// Reveals that landed.
    pub revealed: usize,
    /// Timeout wins claimed.
    pub claimed: usize,
    /// Games that ended.
    pub over: usize,
    /// Games that could not be answered because their trace is missing (retried every poll).
    pub missing_traces: usize,
}

/// One answer due this poll.
#[derive(Debug)]
struct Due {
    deadline: u64,
    id: U256,
    game: DefendedGame,
    view: GameView,
    need: PendingReveal,
}

/// Orders answers most urgent first: by the defender's deadline, then by game id (deterministic).
fn by_urgency(due: &mut [Due]) {
    due.sort_by_key(|d| (d.deadline, d.id));
}

/// The worker's side of a game on one of its results, either kind of model.
#[derive(Debug)]
enum Defended {
    /// A tensor model's result, from its stored trace.
    Tensor(Party),
    /// A language model's result, from its generation run again.
    Llm(LmParty),
}

impl Disputant for Defended {
    fn state(&self) -> &MerkleTree {
        match self {
            Defended::Tensor(p) => p.state(),
            Defended::Llm(p) => p.state(),
        }
    }

    fn output_slot(&self) -> usize {
        match self {
            Defended::Tensor(p) => p.output_slot(),
            Defended::Llm(p) => p.output_slot(),
        }
    }

    fn slot_roots(&self) -> &[B256] {
        match self {
            Defended::Tensor(p) => p.slot_roots(),
            Defended::Llm(p) => p.slot_roots(),
        }
    }

    fn tensor_tree(&self, slot: usize) -> vouch_core::Result<&MerkleTree> {
        match self {
            Defended::Tensor(p) => p.tensor_tree(slot),
            Defended::Llm(p) => p.tensor_tree(slot),
        }
    }

    fn leaf(&self, slot: usize, index: usize) -> vouch_core::Result<[u8; TENSOR_LEAF_BYTES]> {
        match self {
            Defended::Tensor(p) => p.leaf(slot, index),
            Defended::Llm(p) => p.leaf(slot, index),
        }
    }

    fn element_width(&self, slot: usize) -> usize {
        match self {
            Defended::Tensor(p) => p.element_width(slot),
            Defended::Llm(p) => p.element_width(slot),
        }
    }
}

/// The worker's party for result `game.attempt` of `game.job`: a tensor model's from its stored trace
/// (a bait liar's dressed), a language model's generated again as it was answered and checked
/// against the trace root the result posted (off the event loop; it takes as long as the answer did).
async fn defended(
    market: &Market,
    models: &mut ModelCache,
    traces: &TraceStore,
    lie: Option<Lie>,
    game: DefendedGame,
) -> Result<Defended> {
    let (job, attempt, model) = (U256::from(game.job), game.attempt, U256::from(game.model));
    let (provider, deployment) = (market.client().provider(), market.deployment());
    match models.kind(provider, deployment, model).await? {
        ModelKind::Tensor => {
            let model = models.model(provider, deployment, model).await?;
            let party = Party::new(&model, traces.load(job, attempt)?)?;
            Ok(Defended::Tensor(match lie {
                Some(lie) => lie.dress(party)?,
                None => party,
            }))
        }
        ModelKind::Llm => {
            let lm = models.llm(provider, deployment, model).await?;
            let (j, input) = tokio::try_join!(market.job(job), market.job_input(job))?;
            let lm_job = lm_job(&j, &input)?;
            let party = blocking(move || lm_answer(&lm.model, &lm_job, lie))
                .await??
                .map(LmParty::new)
                .ok_or_else(|| {
                    WorkerError::Inconsistent(format!("job {job}: answered with a tensor lie"))
                })?;
            let me = market.client().address();
            if j.attempt == attempt && party.trace_root(me) != j.trace_root {
                return Err(WorkerError::Inconsistent(format!(
                    "job {job}: the answer generated again does not hash to the posted trace root"
                )));
            }
            tracing::info!(job = %job, attempt, slots = party.output_slot() + 1, "generated the disputed answer again");
            Ok(Defended::Llm(party))
        }
    }
}

/// The worker's defence loop.
#[derive(Debug)]
pub struct Defender {
    market: Market,
    confirmations: u64,
    clock_extension: u64,
    models: ModelCache,
    traces: TraceStore,
    parties: Parties<Defended>,
    state: StateFile<DefenceState>,
    /// The lie it defends (tests and the demo only): a silent liar does not answer at all, a bait
    /// liar defends its planted junk.
    lie: Option<Lie>,
}

/// The id of a game as `defence.json` keys it (decimal).
pub(crate) fn game_id(id: &str) -> Result<U256> {
    id.parse().map_err(|_| WorkerError::State {
        path: "defence.json".into(),
        reason: format!("bad game id {id}"),
    })
}

impl Defender {
    #[allow(clippy::too_many_arguments)]
    /// A defence loop for `market`'s account, its state in `data_dir/defence.json` (a fresh one
    /// starts at block `start_block`), its traces in `traces`, models cached in `data_dir/models`.
    pub(crate) fn new(
        market: Market,
        confirmations: u64,
        clock_extension: u64,
        data_dir: &Path,
        traces: TraceStore,
        models: ModelCache,
        start_block: u64,
        lie: Option<Lie>,
    ) -> Result<Self> {
        let state = StateFile::load_or(&data_dir.join("defence.json"), || DefenceState {
            cursor: vouch_agent::Cursor::at(start_block),
            ..DefenceState::default()
        })?;
        Ok(Self {
            market,
            confirmations,
            clock_extension,
            models,
            traces,
            parties: Parties::new(PARTIES),
            state,
            lie,
        })
    }

    /// The games being defended (id → game).
    pub fn games(&self) -> impl Iterator<Item = (&String, &DefendedGame)> {
        self.state.state.games.iter()
    }

    /// One poll: find new games, answer every game that waits for the defender, claim timeouts.
    pub async fn step(&mut self) -> Result<DefenceReport> {
        let mut report = DefenceReport {
            opened: self.find_games().await?,
            ..DefenceReport::default()
        };
        self.state.save_if_changed()?;
        if self.lie.is_none_or(Lie::defends) && !self.state.state.games.is_empty() {
            self.answer_all(&mut report).await?;
        }
        self.state.save_if_changed()?;
        Ok(report)
    }

    /// Follows `ChallengeOpened` and records the games on this worker's current results.
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
            let j = self.market.job(e.jobId).await?;
            if j.worker != self.market.client().address() || j.attempt != e.attempt {
                continue;
            }
            let as_u64 = |v: U256, what: &str| {
                u64::try_from(v).map_err(|_| WorkerError::Inconsistent(format!("{what} id {v}")))
            };
            let game = DefendedGame {
                job: as_u64(e.jobId, "job")?,
                attempt: e.attempt,
                model: as_u64(j.model_id, "model")?,
            };
            tracing::warn!(game = %e.gameId, job = %e.jobId, attempt = e.attempt, challenger = %e.challenger, "challenged: defending from the stored trace");
            self.state.state.games.insert(e.gameId.to_string(), game);
            opened += 1;
        }
        self.state.state.cursor.next_block = stream.next_block();
        Ok(opened)
    }

    async fn answer_all(&mut self, report: &mut DefenceReport) -> Result<()> {
        let games: Vec<(U256, DefendedGame)> = self
            .state
            .state
            .games
            .iter()
            .map(|(id, g)| Ok((game_id(id)?, *g)))
            .collect::<Result<_>>()?;
        let positions =
            join_all(games.iter().map(|(id, _)| defence::read(&self.market, *id))).await;
        let mut due = Vec::new();
        let mut claims = Vec::new();
        for ((id, game), position) in games.into_iter().zip(positions) {
            let position = match position {
                Ok(p) => p,
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => {
                    tracing::warn!(game = %id, error = %e, "could not read the game; will retry");
                    continue;
                }
            };
            match position.next() {
                Next::Over(status) => {
                    tracing::info!(game = %id, job = game.job, attempt = game.attempt, status = status.as_str(), "game over");
                    self.state.state.games.remove(&id.to_string());
                    self.forget_if_done(game);
                    report.over += 1;
                }
                Next::ClaimTimeout => claims.push(id),
                Next::Answer(need) => due.push(Due {
                    deadline: position.game.deadline(Side::Defender, self.clock_extension),
                    id,
                    game,
                    view: position.game,
                    need,
                }),
            }
        }
        by_urgency(&mut due);
        let game_contract = self.market.deployment().game;
        let mut txs: Vec<(U256, TransactionRequest)> = Vec::new();
        let mut seen = HashSet::new();
        for d in &due {
            let (job, attempt) = (U256::from(d.game.job), d.game.attempt);
            let (market, models, traces) = (&self.market, &mut self.models, &self.traces);
            let (lie, game) = (self.lie, d.game);
            // `models` moves into the builder (a reborrow could not outlive the closure).
            let build = move || {
                let models = models;
                defended(market, models, traces, lie, game)
            };
            let party = match self.parties.get((job, attempt), build).await {
                Ok(p) => p,
                Err(e) if e.is_not_found() => {
                    report.missing_traces += 1;
                    tracing::error!(game = %d.id, job = %job, attempt, path = %traces.path(job, attempt).display(), "the trace of this result is missing: cannot answer; retrying every poll until it is restored or the game ends");
                    continue;
                }
                Err(e) => {
                    tracing::warn!(game = %d.id, error = %e, "could not build the answer; will retry");
                    continue;
                }
            };
            match defence::answer(game_contract, party, &d.view, d.need) {
                Ok(answer) => {
                    for tx in answer {
                        // Another game on the same result may need the very same reveal.
                        if seen.insert(tx.input.input().cloned()) {
                            txs.push((d.id, tx));
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(game = %d.id, error = %e, "could not build the answer; will retry")
                }
            }
        }
        let answers = txs.len();
        txs.extend(
            claims
                .into_iter()
                .map(|id| (id, defence::claim_timeout(game_contract, id))),
        );
        let (ids, txs): (Vec<U256>, Vec<TransactionRequest>) = txs.into_iter().unzip();
        let results = self.market.client().send_all(txs).await;
        for (i, (id, result)) in ids.into_iter().zip(results).enumerate() {
            let is_answer = i < answers;
            match result {
                Ok(_) if is_answer => report.revealed += 1,
                Ok(_) => {
                    let status = self.market.game(id).await?.status;
                    tracing::info!(game = %id, status = status.as_str(), "the challenger ran out of time: win claimed");
                    report.claimed += 1;
                }
                Err(e) if !is_answer && not_timed_out(&e) => {}
                Err(e) => {
                    tracing::warn!(game = %id, error = %e, "transaction did not land; will retry next poll")
                }
            }
        }
        Ok(())
    }

    /// Drops the cached party of a result once no game on it is left.
    fn forget_if_done(&mut self, game: DefendedGame) {
        let still = self
            .state
            .state
            .games
            .values()
            .any(|g| g.job == game.job && g.attempt == game.attempt);
        if !still {
            self.parties.forget((U256::from(game.job), game.attempt));
        }
    }
}

fn not_timed_out(e: &vouch_chain::ChainError) -> bool {
    matches!(
        e.revert(),
        Some(Revert::Game(DisputeGameErrors::NotTimedOut(_)))
    )
}

impl vouch_agent::Agent for Defender {
    type Report = DefenceReport;
    type Error = WorkerError;

    async fn step(&mut self) -> Result<DefenceReport> {
        Defender::step(self).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{Address, B256};
    use vouch_chain::{GamePhase, GameStatus};

    fn position(id: u64, last_move_at: u64, defender_left: u64) -> Due {
        let game = GameView {
            id: U256::from(id),
            job_id: U256::from(1),
            attempt: 1,
            status: GameStatus::Active,
            phase: GamePhase::Slots,
            challenger: Address::ZERO,
            defender: Address::ZERO,
            bond: U256::ZERO,
            moves: 0,
            slot: 0,
            leaf_depth: 0,
            depth: 0,
            index: 0,
            node: B256::ZERO,
            offset: 0,
            last_move_at,
            defender_left,
            challenger_left: 100,
        };
        Due {
            deadline: game.deadline(Side::Defender, 30),
            id: U256::from(id),
            game: DefendedGame {
                job: 1,
                attempt: 1,
                model: 1,
            },
            view: game,
            need: PendingReveal::Opening,
        }
    }

    #[test]
    fn the_most_urgent_clock_is_answered_first() {
        // (id, last move, defender's time left): deadlines 1300, 1100, 1030 (the extension floors
        // a nearly empty clock), 1100 again (ties go by id).
        let mut due = vec![
            position(1, 1_000, 300),
            position(2, 1_000, 100),
            position(3, 1_000, 5),
            position(0, 900, 200),
        ];
        by_urgency(&mut due);
        let order: Vec<u64> = due.iter().map(|d| d.id.to::<u64>()).collect();
        assert_eq!(order, vec![3, 0, 2, 1]);
        assert_eq!(due[0].deadline, 1_030);
    }
}
