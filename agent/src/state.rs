//! What every agent remembers across restarts: its event cursor, the events it gave up on, and the
//! one risky event it is handling right now; kept in a JSON file written only when it changed.
//!
//! An event that fails for good (its model is refused, its run timed out, it reverts) is recorded
//! in [`Cursor::failed`] and skipped; the cursor moves on. An event whose handling may take the process
//! down (an inference) is counted in [`Cursor::started`] durably before it starts and uncounted when it
//! ends: a process that dies on it and restarts sees the count, and after [`MAX_TRIES`] starts records
//! the event as failed instead of dying on it again. Counts are kept per event, so the safe events a
//! restart handles before the fatal one cannot reset it. No event can put an agent in a crash loop.

use crate::error::{AgentError, Result};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};
use vouch_core::durable;

/// Starts of one event's handling before it is given up (the process died on it every time).
pub const MAX_TRIES: u32 = 3;

/// Events recorded as failed, at most; the oldest are forgotten first.
const MAX_FAILED: usize = 1_000;

/// The event cursor of an agent and its record of failed events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// First block whose events have not been handled yet.
    pub next_block: u64,
    /// Event key → why it was skipped.
    #[serde(default)]
    pub failed: BTreeMap<String, String>,
    /// Risky events whose handling started and never ended (the process died on them), with how
    /// many times it started. Empty while the agent is idle, unless it died.
    #[serde(default)]
    pub started: BTreeMap<String, u32>,
}

impl Cursor {
    /// A cursor at `block`.
    pub fn at(block: u64) -> Self {
        Self {
            next_block: block,
            ..Self::default()
        }
    }

    /// Records that handling `key` failed for good.
    pub fn fail(&mut self, key: &str, reason: impl std::fmt::Display) {
        if self.failed.len() >= MAX_FAILED
            && let Some(first) = self.failed.keys().next().cloned()
        {
            self.failed.remove(&first);
        }
        self.failed.insert(key.to_string(), reason.to_string());
        self.started.remove(key);
    }

    /// Counts a start of `key`. Returns `false` (and records it as failed) when it already started
    /// [`MAX_TRIES`] times without finishing: the process died on it each time.
    pub fn start(&mut self, key: &str) -> bool {
        let tries = self.started.get(key).copied().unwrap_or(0) + 1;
        if tries > MAX_TRIES {
            tracing::error!(
                event = key,
                tries = MAX_TRIES,
                "the agent died handling this event every time: skipping it"
            );
            self.fail(key, format!("the agent died handling it {MAX_TRIES} times"));
            return false;
        }
        self.started.insert(key.to_string(), tries);
        true
    }

    /// Clears the starts of `key`: its handling ended (well or not) without taking the process down.
    pub fn finish(&mut self, key: &str) {
        self.started.remove(key);
    }
}

/// An agent's durable state: a value written to a JSON file (temporary file, fsync, rename) only
/// when it differs from what was last written.
#[derive(Debug)]
pub struct StateFile<S> {
    path: PathBuf,
    saved: S,
    /// The current state.
    pub state: S,
}

impl<S: Serialize + DeserializeOwned + Clone + PartialEq> StateFile<S> {
    /// Loads `path`, or starts from `fresh()` when there is no file.
    pub fn load_or(path: &Path, fresh: impl FnOnce() -> S) -> Result<Self> {
        let loaded: Option<S> = durable::read_json(path).map_err(|e| AgentError::State {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let state = loaded.unwrap_or_else(fresh);
        Ok(Self {
            path: path.to_path_buf(),
            saved: state.clone(),
            state,
        })
    }

    /// Writes the state if it changed since the last write (an idle agent polls every few hundred
    /// milliseconds and should not fsync each time). Returns whether it wrote.
    pub fn save_if_changed(&mut self) -> Result<bool> {
        if self.state == self.saved {
            return Ok(false);
        }
        durable::write_json(&self.path, &self.state)?;
        self.saved = self.state.clone();
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_saves_only_changes_and_rejects_garbage() {
        let dir = std::env::temp_dir().join(format!("vouch-agent-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        let mut f = StateFile::load_or(&path, || Cursor::at(7)).unwrap();
        assert_eq!(f.state.next_block, 7);
        assert!(!f.save_if_changed().unwrap(), "nothing changed");
        assert!(!path.exists());
        f.state.next_block = 42;
        f.state.fail("job-3", "refused");
        assert!(f.save_if_changed().unwrap());
        assert!(!f.save_if_changed().unwrap());
        let again: StateFile<Cursor> = StateFile::load_or(&path, Cursor::default).unwrap();
        assert_eq!(again.state, f.state);
        std::fs::write(&path, b"{not json").unwrap();
        let err = StateFile::<Cursor>::load_or(&path, Cursor::default).unwrap_err();
        assert!(err.to_string().contains("state.json"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_event_the_process_dies_on_is_given_up_after_max_tries() {
        let mut c = Cursor::at(0);
        for _ in 0..MAX_TRIES {
            // Each start is a process that died before `finish`.
            assert!(c.start("job-9"));
        }
        assert!(!c.start("job-9"), "the fourth start gives up");
        assert!(c.failed.contains_key("job-9"));
        assert!(c.started.is_empty());
        // Another event starts afresh, and a finished one leaves no mark.
        assert!(c.start("job-10"));
        c.finish("job-10");
        assert!(c.started.is_empty());
        assert!(c.start("job-10"));
        assert_eq!(c.started["job-10"], 1);
    }

    #[test]
    fn safe_events_handled_before_the_fatal_one_do_not_reset_its_count() {
        let mut c = Cursor::at(0);
        // Each restart replays the same blocks: a harmless event, then the one the process dies on.
        for _ in 0..MAX_TRIES {
            assert!(c.start("job-1"));
            c.finish("job-1");
            assert!(c.start("job-2"));
        }
        assert!(c.start("job-1"));
        c.finish("job-1");
        assert!(!c.start("job-2"), "given up after {MAX_TRIES} deaths");
        assert!(c.failed.contains_key("job-2") && !c.failed.contains_key("job-1"));
        assert!(c.started.is_empty());
    }
}
