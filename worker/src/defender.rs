//! The defence loop: a loop of its own (nothing the job loop does, an inference included, can delay
//! an answer on the clock) that finds every game opened against this worker's results and answers
//! them all each poll.
//!
//! Each poll reads every game concurrently, computes the answers from one cached party per result
//! (`vouch_agent::Parties`: a tensor model's [`Party`] from its stored trace, a language model's
//! [`LmParty`] from its generation run again, checked against the posted trace root), orders them
//! by the time left on the defender's clock (most urgent first), drops answers another game on the
//! same result already needs (reveals are cached per result), and sends them all at once with
//! pipelined nonces ([`vouch_chain::ChainClient::send_all`]).
//!
//! A party is never built inside the poll: its build runs on a task of its own ([`Parties::poll`],
//! at most [`BUILDS`] at once), so regenerating a language model's answer (seconds to minutes) delays
//! no other game's answer. The poll sends the answers whose party is ready, waits for the builds
//! under way at most [`BUILD_PATIENCE`] (a party built from a stored trace is ready well within it),
//! sends the answers that became ready, and leaves the rest to a later poll
//! ([`DefenceReport::building`]). A game whose trace is missing is never dropped: it is retried every
//! poll, with an error log and a count in [`DefenceReport::missing_traces`].

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
use std::{collections::HashSet, path::Path, sync::Arc, time::Duration};
use tokio::sync::{Mutex, Semaphore};
use vouch_agent::{
    Parties, StateFile, TraceStore, blocking, lm_job, models::ModelCache, parties::Ready,
};
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

/// Parties built at once, each on a task of its own (a language model's is a generation on the
/// blocking pool): a flood of games on many results waits for a free slot, poll after poll.
pub const BUILDS: usize = 2;

/// How long one poll waits for the party builds under way, after sending the answers that were
/// ready, before it leaves the games still waiting to a later poll.
pub const BUILD_PATIENCE: Duration = Duration::from_millis(500);

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
    /// Games left for a later poll because their party is still being built (or waits for a
    /// build slot).
    pub building: usize,
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
/// against the trace root the result posted (it takes as long as the answer did). Runs on a task of
/// its own ([`Parties::poll`]), the heavy work on the blocking pool; `gate` (tests only) holds a
/// language model's build until it gets a permit.
async fn defended(
    market: Market,
    models: Arc<Mutex<ModelCache>>,
    traces: TraceStore,
    lie: Option<Lie>,
    game: DefendedGame,
    gate: Option<Arc<Semaphore>>,
) -> Result<Defended> {
    let (job, attempt, model) = (U256::from(game.job), game.attempt, U256::from(game.model));
    let (provider, deployment) = (market.client().provider(), market.deployment());
    let kind = models
        .lock()
        .await
        .kind(provider, deployment, model)
        .await?;
    match kind {
        ModelKind::Tensor => {
            let model = models
                .lock()
                .await
                .model(provider, deployment, model)
                .await?;
            let party = blocking(move || -> Result<Party> {
                let party = Party::new(&model, traces.load(job, attempt)?)?;
                match lie {
                    Some(lie) => Ok(lie.dress(party)?),
                    None => Ok(party),
                }
            })
            .await??;
            Ok(Defended::Tensor(party))
        }
        ModelKind::Llm => {
            let lm = models.lock().await.llm(provider, deployment, model).await?;
            let (j, input) = tokio::try_join!(market.job(job), market.job_input(job))?;
            let lm_job = lm_job(&j, &input)?;
            if let Some(gate) = gate {
                let _permit = gate
                    .acquire()
                    .await
                    .map_err(|e| WorkerError::Task(e.to_string()))?;
            }
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
    /// Shared with the party builds under way.
    models: Arc<Mutex<ModelCache>>,
    traces: TraceStore,
    parties: Parties<Defended>,
    /// Tests only: language-model party builds wait for a permit of it (a generation held open).
    llm_gate: Option<Arc<Semaphore>>,
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
            models: Arc::new(Mutex::new(models)),
            traces,
            parties: Parties::new(PARTIES, BUILDS),
            llm_gate: None,
            state,
            lie,
        })
    }

    /// The games being defended (id → game).
    pub fn games(&self) -> impl Iterator<Item = (&String, &DefendedGame)> {
        self.state.state.games.iter()
    }

    /// How many party builds were started so far, and how many are under way.
    pub fn party_builds(&self) -> (u64, usize) {
        (self.parties.built(), self.parties.building())
    }

    /// Holds every language-model party build until `gate` gives it a permit (tests: a generation
    /// that takes as long as the test wants).
    #[cfg(test)]
    pub(crate) fn hold_llm_builds(&mut self, gate: Arc<Semaphore>) {
        self.llm_gate = Some(gate);
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
            tracing::warn!(game = %e.gameId, job = %e.jobId, attempt = e.attempt, challenger = %e.challenger, "challenged: defending the result");
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
        // Answers whose party is ready go at once (with the timeout claims); then a bounded wait for
        // the builds under way, and the answers that became ready; the rest wait for a later poll.
        let deadline = tokio::time::Instant::now() + BUILD_PATIENCE;
        let mut seen = HashSet::new();
        for round in 0..2 {
            let mut later = Vec::new();
            let mut txs: Vec<(U256, TransactionRequest)> = Vec::new();
            for d in due {
                match self.party(&d, report) {
                    Some(party) => self.answer(&d, &party, &mut seen, &mut txs),
                    None => later.push(d),
                }
            }
            self.send(txs, std::mem::take(&mut claims), report).await?;
            due = later;
            if due.is_empty() || round == 1 {
                break;
            }
            self.parties.wait_until(deadline).await;
        }
        report.building = due.len();
        if !due.is_empty() {
            tracing::debug!(
                games = due.len(),
                "party builds under way: answering those games on a later poll"
            );
        }
        Ok(())
    }

    /// The party of `d`'s result if it is built (else its build started, or under way: `None`).
    fn party(&mut self, d: &Due, report: &mut DefenceReport) -> Option<Arc<Defended>> {
        let (job, attempt) = (U256::from(d.game.job), d.game.attempt);
        let (market, models, traces) = (
            self.market.clone(),
            self.models.clone(),
            self.traces.clone(),
        );
        let (lie, game, gate) = (self.lie, d.game, self.llm_gate.clone());
        let build = move || defended(market, models, traces, lie, game, gate);
        match self.parties.poll((job, attempt), build) {
            Ok(Ready::Built(p)) => Some(p),
            Ok(Ready::Building | Ready::Queued) => None,
            Err(e) if e.is_not_found() => {
                report.missing_traces += 1;
                tracing::error!(game = %d.id, job = %job, attempt, path = %self.traces.path(job, attempt).display(), "the trace of this result is missing: cannot answer; retrying every poll until it is restored or the game ends");
                None
            }
            Err(e) => {
                tracing::warn!(game = %d.id, error = %e, "could not build the answer; will retry");
                None
            }
        }
    }

    /// Adds the transactions of `d`'s answer from `party` to `txs`, but those another game already
    /// sends (reveals are cached per result: another game on it may need the very same one).
    fn answer(
        &self,
        d: &Due,
        party: &Defended,
        seen: &mut HashSet<Option<alloy::primitives::Bytes>>,
        txs: &mut Vec<(U256, TransactionRequest)>,
    ) {
        match defence::answer(self.market.deployment().game, party, &d.view, d.need) {
            Ok(answer) => {
                for tx in answer {
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

    /// Sends `txs` (answers) and the timeout `claims` at once, with pipelined nonces.
    async fn send(
        &mut self,
        mut txs: Vec<(U256, TransactionRequest)>,
        claims: Vec<U256>,
        report: &mut DefenceReport,
    ) -> Result<()> {
        if txs.is_empty() && claims.is_empty() {
            return Ok(());
        }
        let game_contract = self.market.deployment().game;
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

    /// Two games open at once against one honest worker, one on a tensor model and one on a
    /// language model whose party build (the answer generated again) is held open: the tensor game is
    /// answered, move after move, while that build is still under way, and the language model's game
    /// is answered once it ends. Order by the chain's state and the build counts, not by wall time.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slow_party_build_delays_no_other_game() {
        use crate::{Policy, Worker, WorkerConfig};
        use rand::{SeedableRng, rngs::StdRng};
        use std::time::Duration;
        use vouch_chain::{
            ChainClient, ChainConfig, MarketParams,
            anvil::LocalChain,
            deploy,
            llm::{self, LlmPrice},
            registry,
        };
        use vouch_core::{random, tensor::Tensor};
        use vouch_llm::{random as lm, trace::Job};

        const ETH: u64 = 1_000_000_000_000_000_000;
        let seed = vouch_core::random::test_seed("a_slow_party_build_delays_no_other_game");
        let mut rng = StdRng::seed_from_u64(seed);
        let chain = LocalChain::start(None).expect("anvil (run `npm ci --prefix contracts`)");
        let config = ChainConfig::local(chain.endpoint());
        let owner = ChainClient::connect(&config, chain.signer(0))
            .await
            .unwrap();
        let params = MarketParams::new(600, U256::from(ETH), 1_000_000_000);
        let deployment = deploy(&owner, params).await.unwrap();
        let fee = U256::from(ETH / 10);
        let tensor = random::random_model(&mut rng, &[64, 32, 10]);
        let tensor_id = registry::list_model(&owner, &deployment, &tensor, fee, 0)
            .await
            .unwrap();
        let model = lm::model(
            &mut rng,
            lm::Dims::TINY,
            candle_core::quantized::GgmlDType::Q8_0,
        )
        .unwrap();
        let price = LlmPrice {
            per_input: U256::from(ETH / 1000),
            per_output: U256::from(ETH / 500),
        };
        let lm_id = llm::list_llm(
            &owner,
            &deployment,
            &model,
            price,
            0,
            "random",
            &mut |_, _| (),
        )
        .await
        .unwrap();

        let poster = Market::new(
            ChainClient::connect(&config, chain.signer(1))
                .await
                .unwrap(),
            deployment,
        );
        let deadline = poster.chain_time().await.unwrap() + 6_000;
        let input = Tensor::new(tensor.input, random::random_input(&mut rng, &tensor)).unwrap();
        let (tensor_job, _) = poster
            .post_job(tensor_id, &input, deadline, fee)
            .await
            .unwrap();
        let job = Job {
            prompt: lm::ids(&mut rng, 3),
            max_new: 4,
        };
        let (lm_job, _) = poster
            .post_llm_job(lm_id, &job, deadline, price)
            .await
            .unwrap();

        let dir = std::env::temp_dir().join(format!("vouch-defence-builds-{seed}"));
        let _ = std::fs::remove_dir_all(&dir);
        let mut worker = Worker::new(
            WorkerConfig {
                chain: config.clone(),
                deployment,
                data_dir: dir.clone(),
                confirmations: 0,
                poll_interval: Duration::from_millis(50),
                policy: Policy::default(),
                backend: vouch_burn::BurnBackend::Flex,
                lie: None,
            },
            chain.signer(2),
        )
        .await
        .unwrap();
        let mut submitted = 0;
        for _ in 0..20 {
            submitted += worker.step().await.unwrap().submitted;
            if submitted == 2 {
                break;
            }
        }
        assert_eq!(submitted, 2, "both jobs answered");
        let gate = Arc::new(Semaphore::new(0));
        worker.defender_mut().hold_llm_builds(gate.clone());

        // A challenger disputes both (honest) results at once.
        let challenger = Market::new(
            ChainClient::connect(&config, chain.signer(3))
                .await
                .unwrap(),
            deployment,
        );
        let (tensor_game, _) = challenger
            .challenge(tensor_job, params.challenge_bond)
            .await
            .unwrap();
        let (lm_game, _) = challenger
            .challenge(lm_job, params.challenge_bond)
            .await
            .unwrap();
        let owes = |game: U256| {
            let market = challenger.clone();
            async move { market.pending_reveal(game).await.unwrap() }
        };
        let defender = |w: &Worker| w.defender().party_builds();

        // Polls until the tensor game is answered; the language model's build is under way all along.
        let answer = async |worker: &mut Worker| {
            for _ in 0..20 {
                // (A poll that waited for the held build would never end: the bound only turns that
                // hang into a failure.)
                tokio::time::timeout(Duration::from_secs(120), worker.step())
                    .await
                    .expect("a poll waited for the held party build")
                    .unwrap();
                assert_eq!(owes(lm_game).await, Some(PendingReveal::Opening));
                if owes(tensor_game).await.is_none() {
                    return;
                }
            }
            panic!("the tensor game was not answered");
        };
        answer(&mut worker).await;
        assert_eq!(
            defender(&worker),
            (2, 1),
            "both builds started, one under way"
        );
        // The challenger moves in the tensor game (down the final state, which has 4 leaves or more);
        // the defender answers again, the language model's game still waiting for its party, which is
        // not built twice.
        let g = challenger.game(tensor_game).await.unwrap();
        challenger.pick(tensor_game, g.moves, false).await.unwrap();
        assert!(owes(tensor_game).await.is_some());
        answer(&mut worker).await;
        assert_eq!(defender(&worker), (2, 1));

        // The generation ends: the language model's game is answered.
        gate.add_permits(1);
        let mut answered = false;
        for _ in 0..40 {
            worker.step().await.unwrap();
            if owes(lm_game).await.is_none() {
                answered = true;
                break;
            }
        }
        assert!(answered, "the language model's game was not answered");
        assert_eq!(defender(&worker), (2, 0));
        assert_eq!(
            challenger.game(lm_game).await.unwrap().status,
            vouch_chain::GameStatus::Active
        );
        std::fs::remove_dir_all(&dir).unwrap();
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
