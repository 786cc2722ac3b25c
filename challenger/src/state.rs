//! What a challenger must remember across restarts: the event cursor and the games it plays.

use crate::error::{ChallengerError, Result};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, path::Path};
use vouch_core::durable;

/// A game this challenger opened and plays until it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlayedGame {
    /// The disputed job (the challenger's own trace is `traces/job-<id>.trace`).
    pub job: u64,
    /// The job's model.
    pub model: u64,
}

/// The challenger's durable state (a JSON file, replaced atomically).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengerState {
    /// First block whose events have not been handled yet.
    pub next_block: u64,
    /// Game id (decimal) → the game.
    pub games: BTreeMap<String, PlayedGame>,
}

impl ChallengerState {
    /// Loads the state file, or a fresh state starting at `start_block` if there is none.
    pub fn load_or_new(path: &Path, start_block: u64) -> Result<Self> {
        let loaded = durable::read_json(path).map_err(|e| ChallengerError::State {
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
    fn round_trips_and_rejects_garbage() {
        let dir =
            std::env::temp_dir().join(format!("vouch-challenger-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        assert_eq!(
            ChallengerState::load_or_new(&path, 5).unwrap().next_block,
            5
        );
        let mut s = ChallengerState {
            next_block: 9,
            ..Default::default()
        };
        s.games.insert("4".into(), PlayedGame { job: 2, model: 1 });
        s.save(&path).unwrap();
        assert_eq!(ChallengerState::load_or_new(&path, 0).unwrap(), s);
        std::fs::write(&path, b"[").unwrap();
        assert!(ChallengerState::load_or_new(&path, 0).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
