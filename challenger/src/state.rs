//! What a challenger must remember across restarts: for its checks, the event cursor over submitted
//! results; for its play (a loop of its own), the cursor over the games it opened and those games.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use vouch_agent::Cursor;

/// The check loop's durable state (`state.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengerState {
    /// Event cursor over `ResultSubmitted`, failed events, the inference in progress.
    pub cursor: Cursor,
}

/// A game this challenger opened and plays until it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlayedGame {
    /// The disputed job.
    pub job: u64,
    /// The disputed result (the challenger's own trace is `traces/job-<job>-<attempt>.trace`).
    pub attempt: u32,
    /// The job's model.
    pub model: u64,
}

/// The play loop's durable state (`games.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlayState {
    /// Event cursor over `ChallengeOpened`.
    pub cursor: Cursor,
    /// Game id (decimal) → the game.
    pub games: BTreeMap<String, PlayedGame>,
}
