//! What a worker must remember across restarts: the event cursor and its results in their window.

use crate::error::{Result, WorkerError};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, path::Path};
use vouch_core::durable;

/// A result this worker posted that has not settled yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingResult {
    /// Unix time at which the challenge window closes and the job can be finalized.
    pub window_ends_at: u64,
}

/// A game opened against one of this worker's results, defended until it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefendedGame {
    /// The disputed job (its trace is `traces/job-<id>.trace`).
    pub job: u64,
    /// The job's model.
    pub model: u64,
}

/// The worker's durable state (a JSON file, replaced atomically).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerState {
    /// First block whose events have not been handled yet.
    pub next_block: u64,
    /// Job id (decimal) → its pending result.
    pub pending: BTreeMap<String, PendingResult>,
    /// Game id (decimal) → a game against one of the results, still being defended.
    #[serde(default)]
    pub games: BTreeMap<String, DefendedGame>,
}

impl WorkerState {
    /// Loads the state file, or a fresh state starting at `start_block` if there is none.
    pub fn load_or_new(path: &Path, start_block: u64) -> Result<Self> {
        let loaded = durable::read_json(path).map_err(|e| WorkerError::State {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Ok(loaded.unwrap_or(Self {
            next_block: start_block,
            ..Self::default()
        }))
    }

    /// Writes the state durably (temporary file, fsync, rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        Ok(durable::write_json(path, self)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_starts_fresh() {
        let dir = std::env::temp_dir().join(format!("vouch-worker-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        assert_eq!(WorkerState::load_or_new(&path, 7).unwrap().next_block, 7);
        let mut s = WorkerState {
            next_block: 42,
            ..Default::default()
        };
        s.pending
            .insert("3".into(), PendingResult { window_ends_at: 99 });
        s.save(&path).unwrap();
        assert_eq!(WorkerState::load_or_new(&path, 0).unwrap(), s);
        std::fs::write(&path, b"{not json").unwrap();
        assert!(
            WorkerState::load_or_new(&path, 0)
                .unwrap_err()
                .to_string()
                .contains("state.json")
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
