//! Typed calls to the deployment's `DisputeGame` (PROTOCOL §6): challenge, the defender's reveals,
//! the challenger's moves, the one step, timeouts, moot claims, and the reads both sides play from.

use crate::{
    bindings::DisputeGame,
    error::{ChainError, Result},
    market::{Market, call_err},
};
use alloy::{
    primitives::{Address, B256, U256},
    providers::DynProvider,
    rpc::types::TransactionReceipt,
};
use serde::{Deserialize, Serialize};
use vouch_core::dispute::StepWitness;

/// A game's lifecycle on chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GameStatus {
    /// Being played.
    Active,
    /// The defender lost: the result was overturned.
    ChallengerWon,
    /// The challenger lost.
    DefenderWon,
    /// Another game overturned the result first; the bond and a share were (or can be) claimed.
    Moot,
}

impl GameStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [Self; 4] = [
        Self::Active,
        Self::ChallengerWon,
        Self::DefenderWon,
        Self::Moot,
    ];

    /// From the contract's `GameStatus` enum value.
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(Self::Active),
            2 => Some(Self::ChallengerWon),
            3 => Some(Self::DefenderWon),
            4 => Some(Self::Moot),
            _ => None,
        }
    }

    /// A name from [`GameStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// Lower-case name, as logged and served.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::ChallengerWon => "challenger_won",
            Self::DefenderWon => "defender_won",
            Self::Moot => "moot",
        }
    }
}

/// Where an Active game stands (PROTOCOL §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GamePhase {
    /// Walking the defender's final state down to one slot.
    Slots,
    /// Walking the disputed slot's tensor down to one leaf, then naming an element of it.
    Tensor,
    /// Waiting for the one-step proof of the named element.
    Step,
}

impl GamePhase {
    /// Every phase, in game order.
    pub const ALL: [Self; 3] = [Self::Slots, Self::Tensor, Self::Step];

    /// A name from [`GamePhase::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// From the contract's `GamePhase` enum value.
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::Slots),
            1 => Some(Self::Tensor),
            2 => Some(Self::Step),
            _ => None,
        }
    }

    /// Lower-case name, as logged and served.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Slots => "slots",
            Self::Tensor => "tensor",
            Self::Step => "step",
        }
    }
}

/// Which of the defender's trees a node belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tree {
    /// The final state: one leaf per slot.
    State,
    /// A slot's tensor.
    Tensor,
}

impl Tree {
    /// From the contract's `Tree` enum value.
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::State),
            1 => Some(Self::Tensor),
            _ => None,
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            Self::State => 0,
            Self::Tensor => 1,
        }
    }
}

/// What a game waits for from its defender (`pendingReveal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingReveal {
    /// The final state σ_n, with the output binding.
    Opening,
    /// The children of a node of the final state or of a tensor.
    Node(Tree, B256),
    /// The tensor root a slot leaf of the final state holds.
    Slot(B256),
    /// The 32 bytes of a tensor leaf.
    Leaf(B256),
}

/// A game as the contract stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GameView {
    /// Game id.
    pub id: U256,
    /// The disputed job.
    pub job_id: U256,
    /// Which result of the job (`Job.attempt` when the game opened).
    pub attempt: u32,
    /// Lifecycle status.
    pub status: GameStatus,
    /// Phase (meaningful while Active).
    pub phase: GamePhase,
    /// Who challenged.
    pub challenger: Address,
    /// The result's worker.
    pub defender: Address,
    /// The challenger's bond.
    pub bond: U256,
    /// Challenger moves made (the next move must name this number).
    pub moves: u32,
    /// The slot the final-state walk reached (zero before): op `slot − 1` is disputed.
    pub slot: u32,
    /// Depth of the tree being walked.
    pub leaf_depth: u8,
    /// Position in it: depth from the root …
    pub depth: u8,
    /// … and index at that depth.
    pub index: u64,
    /// The defender's hash at that position (zero at depth 0 of the state walk; the slot leaf at
    /// depth 0 of the tensor walk).
    pub node: B256,
    /// Phase Step: the named byte in the leaf.
    pub offset: u8,
    /// When the last challenger move (or the challenge) landed.
    pub last_move_at: u64,
    /// Defender's clock, seconds.
    pub defender_left: u64,
    /// Challenger's clock, seconds.
    pub challenger_left: u64,
}

/// One side of a dispute game.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The result's worker: it reveals.
    Defender,
    /// Who challenged: it picks, names the element and steps.
    Challenger,
}

impl Side {
    /// `"defender"` or `"challenger"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Defender => "defender",
            Side::Challenger => "challenger",
        }
    }
}

impl GameView {
    /// Seconds `side` has for its next move: what is left on its clock, never less than the
    /// market's `clock_extension` (the contract's `_allowance`).
    pub fn allowance(&self, side: Side, clock_extension: u64) -> u64 {
        match side {
            Side::Defender => self.defender_left,
            Side::Challenger => self.challenger_left,
        }
        .max(clock_extension)
    }

    /// Unix time at which `side`'s clock runs out if it is to move and does not: its allowance from
    /// the last challenger move. Exact for the defender; for the challenger a lower bound (its clock
    /// starts when the reveal it answers landed, at or after that move).
    pub fn deadline(&self, side: Side, clock_extension: u64) -> u64 {
        self.last_move_at
            .saturating_add(self.allowance(side, clock_extension))
    }

    /// The op whose output is disputed (the walk reached its slot `k + 1`), once known.
    pub fn disputed_op(&self) -> Option<usize> {
        (self.phase != GamePhase::Slots && self.slot > 0).then(|| self.slot as usize - 1)
    }
}

/// The dispute state of one result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultDispute {
    /// The final state's last slot n: a tensor model's op count, a language model's output slot
    /// (zero until the first challenge).
    pub op_count: u32,
    /// Whether the result is a language model's (its step is `stepLlm`).
    pub llm: bool,
    /// Games still Active.
    pub open_games: u32,
    /// Whether the worker lost a game.
    pub overturned: bool,
    /// Once overturned: the games that share the pool.
    pub sharers: u32,
    /// Σ moves of the Active games (frozen at the overturn).
    pub active_moves: u64,
    /// Once overturned: the worker's bond less the burn.
    pub pool: U256,
    /// What is left of the pool, owed to moot games not yet claimed.
    pub pool_left: U256,
}

impl Market {
    pub(crate) fn game_contract(&self) -> DisputeGame::DisputeGameInstance<&DynProvider> {
        DisputeGame::new(self.deployment().game, self.client().provider())
    }

    /// Challenges the current result of `job_id` with `bond`; returns the game id.
    pub async fn challenge(&self, job_id: U256, bond: U256) -> Result<(U256, TransactionReceipt)> {
        let tx = self
            .game_contract()
            .challenge(job_id)
            .value(bond)
            .into_transaction_request();
        let receipt = self.client().send(tx).await?;
        let id = receipt
            .decoded_log::<DisputeGame::ChallengeOpened>()
            .ok_or_else(|| ChainError::Decode("no ChallengeOpened log".into()))?
            .gameId;
        Ok((id, receipt))
    }

    /// Wei burned by the dispute game so far (slashed bonds' burned parts).
    pub async fn burned(&self) -> Result<U256> {
        self.game_contract().burned().call().await.map_err(call_err)
    }

    /// The games `challenger` opened on `job_id`, as (game id, attempt), from the `ChallengeOpened`
    /// events (so an agent that crashed right after challenging finds its game again).
    pub async fn games_opened_by(
        &self,
        challenger: Address,
        job_id: U256,
    ) -> Result<Vec<(U256, u32)>> {
        use alloy::{providers::Provider, rpc::types::Filter, sol_types::SolEvent};
        let filter = Filter::new()
            .address(self.deployment().game)
            .event_signature(DisputeGame::ChallengeOpened::SIGNATURE_HASH)
            .topic2(B256::from(job_id))
            .topic3(challenger.into_word())
            .from_block(self.deployment().start_block);
        let logs = self
            .client()
            .provider()
            .get_logs(&filter)
            .await
            .map_err(crate::client::classify)?;
        logs.iter()
            .map(|log| {
                let e = DisputeGame::ChallengeOpened::decode_log_data(log.data())
                    .map_err(|e| ChainError::Decode(e.to_string()))?;
                Ok((e.gameId, e.attempt))
            })
            .collect()
    }

    /// Reads a game.
    pub async fn game(&self, id: U256) -> Result<GameView> {
        let g = self
            .game_contract()
            .getGame(id)
            .call()
            .await
            .map_err(call_err)?;
        Ok(GameView {
            id,
            job_id: g.jobId,
            attempt: g.attempt,
            status: GameStatus::from_u8(g.status)
                .ok_or_else(|| ChainError::Decode(format!("game status {}", g.status)))?,
            phase: GamePhase::from_u8(g.phase)
                .ok_or_else(|| ChainError::Decode(format!("game phase {}", g.phase)))?,
            challenger: g.challenger,
            defender: g.defender,
            bond: g.bond,
            moves: g.moves,
            slot: g.slot,
            leaf_depth: g.leafDepth,
            depth: g.depth,
            index: g.index,
            node: g.node,
            offset: g.offset,
            last_move_at: g.lastMoveAt,
            defender_left: g.defenderLeft,
            challenger_left: g.challengerLeft,
        })
    }

    /// The dispute state of result `attempt` of `job_id`.
    pub async fn dispute(&self, job_id: U256, attempt: u32) -> Result<ResultDispute> {
        let d = self
            .game_contract()
            .getDispute(job_id, attempt)
            .call()
            .await
            .map_err(call_err)?;
        Ok(ResultDispute {
            op_count: d.opCount,
            llm: d.kind == 1,
            open_games: d.openGames,
            overturned: d.overturned,
            sharers: d.sharers,
            active_moves: d.activeMoves,
            pool: d.pool,
            pool_left: d.poolLeft,
        })
    }

    /// What game `id` waits for from its defender, or `None` when the challenger is to move (or the
    /// game is over).
    pub async fn pending_reveal(&self, id: U256) -> Result<Option<PendingReveal>> {
        let r = self
            .game_contract()
            .pendingReveal(id)
            .call()
            .await
            .map_err(call_err)?;
        let tree =
            Tree::from_u8(r.tree).ok_or_else(|| ChainError::Decode(format!("tree {}", r.tree)))?;
        Ok(match r.kind {
            0 => None,
            1 => Some(PendingReveal::Opening),
            2 => Some(PendingReveal::Node(tree, r.hash)),
            3 => Some(PendingReveal::Slot(r.hash)),
            4 => Some(PendingReveal::Leaf(r.hash)),
            k => return Err(ChainError::Decode(format!("reveal kind {k}"))),
        })
    }

    /// Reveals the final state σ_n of the current result of `job_id`, with the path of the output
    /// (slot n) in it.
    pub async fn reveal_opening(
        &self,
        job_id: U256,
        final_state: B256,
        output_path: Vec<B256>,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .game_contract()
            .revealOpening(job_id, final_state, output_path)
            .into_transaction_request();
        self.client().send(tx).await
    }

    /// Reveals the children of a node of the final state or of a tensor.
    pub async fn reveal_node(
        &self,
        job_id: U256,
        tree: Tree,
        node: B256,
        left: B256,
        right: B256,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .game_contract()
            .revealNode(job_id, tree.to_u8(), node, left, right)
            .into_transaction_request();
        self.client().send(tx).await
    }

    /// Reveals the tensor root held by a slot leaf of the final state.
    pub async fn reveal_slot(
        &self,
        job_id: U256,
        leaf: B256,
        tensor_root: B256,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .game_contract()
            .revealSlot(job_id, leaf, tensor_root)
            .into_transaction_request();
        self.client().send(tx).await
    }

    /// Reveals the 32 bytes of a tensor leaf.
    pub async fn reveal_leaf(
        &self,
        job_id: U256,
        leaf: B256,
        data: [u8; 32],
    ) -> Result<TransactionReceipt> {
        let tx = self
            .game_contract()
            .revealLeaf(job_id, leaf, B256::from(data))
            .into_transaction_request();
        self.client().send(tx).await
    }

    /// The revealed final state of a result (zero when not revealed).
    pub async fn revealed_opening(&self, job_id: U256, attempt: u32) -> Result<B256> {
        self.game_contract()
            .revealedOpening(job_id, attempt)
            .call()
            .await
            .map_err(call_err)
    }

    /// The revealed children of a node of a result (zeros when not revealed).
    pub async fn revealed_node(
        &self,
        job_id: U256,
        attempt: u32,
        node: B256,
    ) -> Result<(B256, B256)> {
        let r = self
            .game_contract()
            .revealedNode(job_id, attempt, node)
            .call()
            .await
            .map_err(call_err)?;
        Ok((r.left, r.right))
    }

    /// The revealed tensor root of a slot leaf of a result, if it was revealed.
    pub async fn revealed_slot(
        &self,
        job_id: U256,
        attempt: u32,
        leaf: B256,
    ) -> Result<Option<B256>> {
        let r = self
            .game_contract()
            .revealedSlot(job_id, attempt, leaf)
            .call()
            .await
            .map_err(call_err)?;
        Ok(r._0.then_some(r._1))
    }

    /// The revealed data of a tensor leaf of a result, if it was revealed.
    pub async fn revealed_leaf(
        &self,
        job_id: U256,
        attempt: u32,
        leaf: B256,
    ) -> Result<Option<[u8; 32]>> {
        let r = self
            .game_contract()
            .revealedLeaf(job_id, attempt, leaf)
            .call()
            .await
            .map_err(call_err)?;
        Ok(r._0.then_some(r._1.0))
    }

    /// Goes down to the right (or left) child, in either walk.
    pub async fn pick(&self, game: U256, mv: u32, right: bool) -> Result<TransactionReceipt> {
        let tx = self
            .game_contract()
            .pick(game, mv, right)
            .into_transaction_request();
        self.client().send(tx).await
    }

    /// At the tensor leaf: names the element at byte `offset`.
    pub async fn name_element(
        &self,
        game: U256,
        mv: u32,
        offset: u8,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .game_contract()
            .nameElement(game, mv, offset)
            .into_transaction_request();
        self.client().send(tx).await
    }

    /// The one step, with its witness (empty for a padding element).
    pub async fn step(&self, game: U256, witness: &StepWitness) -> Result<TransactionReceipt> {
        let tx = self
            .game_contract()
            .step(game, witness.into())
            .into_transaction_request();
        self.client().send(tx).await
    }

    /// The one step of a language model's result, with its witness (empty for a padding element).
    pub async fn step_llm(
        &self,
        game: U256,
        witness: DisputeGame::LlmWitness,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .game_contract()
            .stepLlm(game, witness)
            .into_transaction_request();
        self.client().send(tx).await
    }

    /// Resolves a game whose side to move ran out of time.
    pub async fn timeout(&self, game: U256) -> Result<TransactionReceipt> {
        let tx = self
            .game_contract()
            .timeout(game)
            .into_transaction_request();
        self.client().send(tx).await
    }

    /// Claims the bond and share of a game made moot by another game's win.
    pub async fn claim_moot(&self, game: U256) -> Result<TransactionReceipt> {
        let tx = self
            .game_contract()
            .claimMoot(game)
            .into_transaction_request();
        self.client().send(tx).await
    }
}
