//! Dispute games: `GET /v1/games`, `GET /v1/games/{id}`.

use serde::{Deserialize, Serialize};
use vouch_chain::{GamePhase, GameStatus};

/// A game as served by the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameRecord {
    /// Game id.
    pub game_id: u64,
    /// The disputed job.
    pub job_id: u64,
    /// Which of the job's results (1 for the first).
    pub attempt: u64,
    /// Who challenged.
    pub challenger: String,
    /// The challenger's bond, in wei.
    pub bond_wei: String,
    /// Lifecycle status.
    pub status: GameStatus,
    /// Where the game stands: walking the final state, walking the disputed tensor, or the one step.
    pub phase: GamePhase,
    /// The slot the final-state walk reached (op `slot − 1` is disputed); absent before.
    pub slot: Option<u64>,
    /// Depth reached in the tree being walked.
    pub depth: u64,
    /// Index of the node reached at that depth.
    pub index: u64,
    /// The named byte of the disputed leaf.
    pub element_offset: Option<u64>,
    /// Phase 3: the op the contract executed.
    pub step_op: Option<u64>,
    /// Phase 3: the element (absent for a padding element, whose true value is 0).
    pub step_element: Option<u64>,
    /// Phase 3: the defender's value.
    pub claimed: Option<i64>,
    /// Phase 3: the true value.
    pub actual: Option<i64>,
    /// Credited to the challenger at resolution, in wei.
    pub challenger_paid_wei: Option<String>,
    /// Credited to the defender at resolution, in wei.
    pub defender_paid_wei: Option<String>,
    /// Burned at resolution, in wei.
    pub burned_wei: Option<String>,
    /// Block of the challenge.
    pub opened_block: u64,
    /// Block of the resolution.
    pub resolved_block: Option<u64>,
}

/// One move of a game, in chain order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameMove {
    /// Block of the move.
    pub block: u64,
    /// `opened`, `descended`, `slot_disputed`, `element_named`, `step_proven` or `resolved`.
    pub kind: String,
    /// What the move says.
    pub detail: String,
}

/// `GET /v1/games/{id}` answer: the game and its moves in chain order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameDetail {
    /// The game's current state.
    #[serde(flatten)]
    pub game: GameRecord,
    /// Every move so far, oldest first.
    pub moves: Vec<GameMove>,
}
