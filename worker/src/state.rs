//! What a worker must remember across restarts: for its jobs, the event cursor and its results in
//! their window; for its defence (a loop of its own), the defence cursor and the games it defends.

use alloy::primitives::U256;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use vouch_agent::Cursor;

/// A result this worker posted that has not settled yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingResult {
    /// Unix time at which the challenge window closes and the job can be finalized.
    pub window_ends_at: u64,
    /// Which result of the job it is (its trace is `traces/job-<id>-<attempt>.trace`).
    pub attempt: u32,
}

/// What this worker's results brought, counted from the events its job loop follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Earnings {
    /// Results settled.
    pub settled: u64,
    /// The fees they paid after the model owners' royalties, wei.
    pub fees_wei: U256,
    /// Results overturned in a dispute.
    pub overturned: u64,
    /// The bonds lost with them, wei.
    pub bonds_lost_wei: U256,
}

/// The job loop's durable state (`state.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerState {
    /// Event cursor, failed events, the inference in progress.
    pub cursor: Cursor,
    /// Job id (decimal) → its pending result.
    pub pending: BTreeMap<String, PendingResult>,
    /// What the settled and overturned results brought.
    #[serde(default)]
    pub earnings: Earnings,
}

/// A game opened against one of this worker's results, defended until it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefendedGame {
    /// The disputed job.
    pub job: u64,
    /// The disputed result of the job (its trace is `traces/job-<job>-<attempt>.trace`).
    pub attempt: u32,
    /// The job's model.
    pub model: u64,
}

/// The defence loop's durable state (`defence.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefenceState {
    /// Event cursor over `ChallengeOpened`.
    pub cursor: Cursor,
    /// Game id (decimal) → a game against one of the results, still being defended.
    pub games: BTreeMap<String, DefendedGame>,
}
