//! What every agent remembers across restarts: its event cursor, the events it gave up on, and the
//! one risky event it is handling right now; kept in a JSON file written only when it changed.
//!
//! An event that fails for good (its model is refused, its run timed out, it reverts) is recorded
//! in [`Cursor::failed`] and skipped; the cursor moves on. An event whose handling may take the process
//! down (an inference) is marked in [`Cursor::running`] durably before it starts: a process that
//! dies on it and restarts sees the mark, and after [`MAX_TRIES`] starts records the event as failed
//! instead of dying on it again. No event can put an agent in a crash loop.

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

/// An event being handled, marked before a step that could take the process down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Running {
    /// The event ("job-7", "result-7-2", …).
    pub key: String,
    /// How many times its handling started.
    pub tries: u32,
}

/// The event cursor of an agent and its record of failed events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// First block whose events have not been handled yet.
    pub next_block: u64,
    /// Event key → why it was skipped.
    #[serde(default)]
    pub failed: BTreeMap<String, String>,
    /// The risky event being handled, if any.
    #[serde(default)]
    pub running: Option<Running>,
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
        if self.running.as_ref().is_some_and(|r| r.key == key) {
            self.running = None;
        }
    }

    /// Marks `key` as running. Returns `false` (and records it as failed) when it already started
    /// [`MAX_TRIES`] times without finishing: the process died on it each time.
    pub fn start(&mut self, key: &str) -> bool {
        let tries = match &self.running {
            Some(r) if r.key == key => r.tries + 1,
            _ => 1,
        };
        if tries > MAX_TRIES {
            tracing::error!(
                event = key,
                tries = MAX_TRIES,
                "the agent died handling this event every time: skipping it"
            );
            self.fail(key, format!("the agent died handling it {MAX_TRIES} times"));
            return false;
        }
        self.running = Some(Running {
            key: key.to_string(),
            tries,
        });
        true
    }

    /// Clears the running mark of `key`.
    pub fn finish(&mut self, key: &str) {
        if self.running.as_ref().is_some_and(|r| r.key == key) {
            self.running = None;
        }
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
        assert_eq!(c.running, None);
        // Another event starts afresh, and a finished one leaves no mark.
        assert!(c.start("job-10"));
        c.finish("job-10");
        assert_eq!(c.running, None);
        assert!(c.start("job-10"));
        assert_eq!(c.running.as_ref().unwrap().tries, 1);
    }
}
