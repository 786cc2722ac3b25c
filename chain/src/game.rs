//! Typed calls to the market's dispute game (PROTOCOL §6): challenge, the defender's reveals, the
//! challenger's moves, the one step, timeouts, moot claims, and the reads both sides play from.

use crate::{
    bindings::JobMarket,
    error::{ChainError, Result},
    market::{Market, call_err},
};
use alloy::{
    primitives::{Address, B256, U256},
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

/// Where an Active game stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GamePhase {
    /// Phase 1: bisecting the trace.
    Bisect,
    /// Phase 2: bisecting the disputed tensor, then naming an element of its leaf.
    Tensor,
    /// Phase 3: waiting for the one-step proof of the named element.
    Step,
}

/// What a game waits for from its defender (`pendingReveal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingReveal {
    /// σ_index (for index n, with the output binding).
    State(u32),
    /// The tensor root of slot k + 1 with its one-slot update path.
    Transition(u32),
    /// The children of a tensor node.
    Node(B256),
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
    /// Phase 1: σ_lo agreed (afterwards: the disputed op k).
    pub lo: u32,
    /// Phase 1: σ_hi disputed.
    pub hi: u32,
    /// Challenger moves made (the next move must name this number).
    pub moves: u32,
    /// Depth of the disputed tensor's tree.
    pub leaf_depth: u8,
    /// Phase 2 position: depth from the root …
    pub depth: u8,
    /// … and index at that depth.
    pub index: u64,
    /// The defender's hash at that position (zero at depth 0).
    pub node: B256,
    /// Phase 3: the named byte in the leaf.
    pub offset: u8,
    /// When the last challenger move (or the challenge) landed.
    pub last_move_at: u64,
    /// Defender's clock, seconds.
    pub defender_left: u64,
    /// Challenger's clock, seconds.
    pub challenger_left: u64,
}

/// The dispute state of one result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultDispute {
    /// The model's op count (zero until the first challenge).
    pub op_count: u32,
    /// Games still Active.
    pub open_games: u32,
    /// Whether the worker lost a game.
    pub overturned: bool,
    /// σ_0 as the contract computed it.
    pub sigma0: B256,
    /// What each game open at the overturn receives on top of its bond.
    pub share: U256,
}

impl Market {
    /// Challenges the current result of `job_id` with `bond`; returns the game id.
    pub async fn challenge(&self, job_id: U256, bond: U256) -> Result<(U256, TransactionReceipt)> {
        let tx = self
            .contract()
            .challenge(job_id)
            .value(bond)
            .into_transaction_request();
        let receipt = self.client().send(tx).await?;
        let id = receipt
            .decoded_log::<JobMarket::ChallengeOpened>()
            .ok_or_else(|| ChainError::Decode("no ChallengeOpened log".into()))?
            .gameId;
        Ok((id, receipt))
    }

    /// Wei burned by the market so far (slashed bonds' burned halves).
    pub async fn burned(&self) -> Result<U256> {
        self.contract().burned().call().await.map_err(call_err)
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
            .address(self.deployment().market)
            .event_signature(JobMarket::ChallengeOpened::SIGNATURE_HASH)
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
                let e = JobMarket::ChallengeOpened::decode_log_data(log.data())
                    .map_err(|e| ChainError::Decode(e.to_string()))?;
                Ok((e.gameId, e.attempt))
            })
            .collect()
    }

    /// Reads a game.
    pub async fn game(&self, id: U256) -> Result<GameView> {
        let g = self.contract().getGame(id).call().await.map_err(call_err)?;
        let phase = match g.phase {
            0 => GamePhase::Bisect,
            1 => GamePhase::Tensor,
            2 => GamePhase::Step,
            p => return Err(ChainError::Decode(format!("game phase {p}"))),
        };
        Ok(GameView {
            id,
            job_id: g.jobId,
            attempt: g.attempt,
            status: GameStatus::from_u8(g.status)
                .ok_or_else(|| ChainError::Decode(format!("game status {}", g.status)))?,
            phase,
            challenger: g.challenger,
            defender: g.defender,
            bond: g.bond,
            lo: g.lo,
            hi: g.hi,
            moves: g.moves,
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
            .contract()
            .getDispute(job_id, attempt)
            .call()
            .await
            .map_err(call_err)?;
        Ok(ResultDispute {
            op_count: d.opCount,
            open_games: d.openGames,
            overturned: d.overturned,
            sigma0: d.sigma0,
            share: d.share,
        })
    }

    /// What game `id` waits for from its defender, or `None` when the challenger is to move (or the
    /// game is over).
    pub async fn pending_reveal(&self, id: U256) -> Result<Option<PendingReveal>> {
        let r = self
            .contract()
            .pendingReveal(id)
            .call()
            .await
            .map_err(call_err)?;
        Ok(match r.kind {
            0 => None,
            1 => Some(PendingReveal::State(r.index)),
            2 => Some(PendingReveal::Transition(r.index)),
            3 => Some(PendingReveal::Node(r.hash)),
            4 => Some(PendingReveal::Leaf(r.hash)),
            k => return Err(ChainError::Decode(format!("reveal kind {k}"))),
        })
    }

    /// Reveals σ_index of the current result of `job_id` (`output_path` only for index n).
    pub async fn reveal_state(
        &self,
        job_id: U256,
        index: u32,
        state_root: B256,
        trace_path: Vec<B256>,
        output_path: Vec<B256>,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .contract()
            .revealState(job_id, index, state_root, trace_path, output_path)
            .into_transaction_request();
        self.client().send(tx).await
    }

    /// Reveals the tensor root of slot k + 1 with its one-slot update path.
    pub async fn reveal_transition(
        &self,
        job_id: U256,
        k: u32,
        tensor_root: B256,
        state_path: Vec<B256>,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .contract()
            .revealTransition(job_id, k, tensor_root, state_path)
            .into_transaction_request();
        self.client().send(tx).await
    }

    /// Reveals the children of a tensor node.
    pub async fn reveal_node(
        &self,
        job_id: U256,
        node: B256,
        left: B256,
        right: B256,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .contract()
            .revealNode(job_id, node, left, right)
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
            .contract()
            .revealLeaf(job_id, leaf, B256::from(data))
            .into_transaction_request();
        self.client().send(tx).await
    }

    /// The revealed σ_index of a result (zero when not revealed).
    pub async fn revealed_state(&self, job_id: U256, attempt: u32, index: u32) -> Result<B256> {
        self.contract()
            .revealedState(job_id, attempt, index)
            .call()
            .await
            .map_err(call_err)
    }

    /// The revealed children of a tensor node of a result.
    pub async fn revealed_node(
        &self,
        job_id: U256,
        attempt: u32,
        node: B256,
    ) -> Result<(B256, B256)> {
        let r = self
            .contract()
            .revealedNode(job_id, attempt, node)
            .call()
            .await
            .map_err(call_err)?;
        Ok((r.left, r.right))
    }

    /// The revealed data of a tensor leaf of a result, if it was revealed.
    pub async fn revealed_leaf(
        &self,
        job_id: U256,
        attempt: u32,
        leaf: B256,
    ) -> Result<Option<[u8; 32]>> {
        let r = self
            .contract()
            .revealedLeaf(job_id, attempt, leaf)
            .call()
            .await
            .map_err(call_err)?;
        Ok(r._0.then_some(r._1.0))
    }

    /// The revealed tensor root of slot k + 1 of a result (zero when not revealed).
    pub async fn revealed_transition(&self, job_id: U256, attempt: u32, k: u32) -> Result<B256> {
        self.contract()
            .revealedTransition(job_id, attempt, k)
            .call()
            .await
            .map_err(call_err)
    }

    /// Phase 1: agree or disagree with the revealed σ_mid.
    pub async fn bisect(&self, game: U256, mv: u32, agree: bool) -> Result<TransactionReceipt> {
        let tx = self
            .contract()
            .bisect(game, mv, agree)
            .into_transaction_request();
        self.client().send(tx).await
    }

    /// Phase 2: go down to the right (or left) child.
    pub async fn pick(&self, game: U256, mv: u32, right: bool) -> Result<TransactionReceipt> {
        let tx = self
            .contract()
            .pick(game, mv, right)
            .into_transaction_request();
        self.client().send(tx).await
    }

    /// Phase 2 at the leaf: name the element at byte `offset`.
    pub async fn name_element(
        &self,
        game: U256,
        mv: u32,
        offset: u8,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .contract()
            .nameElement(game, mv, offset)
            .into_transaction_request();
        self.client().send(tx).await
    }

    /// Phase 3: the one step, with its witness (empty for a padding element).
    pub async fn step(&self, game: U256, witness: &StepWitness) -> Result<TransactionReceipt> {
        let tx = self
            .contract()
            .step(game, witness.into())
            .into_transaction_request();
        self.client().send(tx).await
    }

    /// Resolves a game whose side to move ran out of time.
    pub async fn timeout(&self, game: U256) -> Result<TransactionReceipt> {
        self.client()
            .send(self.contract().timeout(game).into_transaction_request())
            .await
    }

    /// Claims the bond and share of a game made moot by another game's win.
    pub async fn claim_moot(&self, game: U256) -> Result<TransactionReceipt> {
        self.client()
            .send(self.contract().claimMoot(game).into_transaction_request())
            .await
    }
}
