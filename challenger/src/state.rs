//! What a challenger must remember across restarts: the event cursor and the games it plays.

use crate::error::{ChallengerError, Result};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, io::Write, path::Path};

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
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| ChallengerError::State {
                path: path.display().to_string(),
                reason: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self {
                next_block: start_block,
                ..Self::default()
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes the state durably: temporary file, fsync, rename.
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&serde_json::to_vec_pretty(self).expect("state serialises"))?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        Ok(())
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
