//! Traces on disk, one file per result: `traces/job-<job>-<attempt>.trace`.
//!
//! A job can have several results (a result overturned by a game re-opens the job, and the next
//! worker's answer is the next attempt), and games on different attempts can be open at once: a
//! trace belongs to exactly one (job, attempt), so the end of one game never takes the trace another
//! still plays from.

use crate::error::Result;
use alloy::primitives::U256;
use std::path::{Path, PathBuf};
use vouch_core::Trace;

/// The traces of one agent, under one directory.
#[derive(Debug, Clone)]
pub struct TraceStore {
    dir: PathBuf,
}

impl TraceStore {
    /// Traces under `dir`.
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// Where the trace of result `attempt` of `job` lives.
    pub fn path(&self, job: U256, attempt: u32) -> PathBuf {
        self.dir.join(format!("job-{job}-{attempt}.trace"))
    }

    /// Writes a trace durably (fsynced before this returns: a result may be posted on it).
    pub fn persist(&self, job: U256, attempt: u32, trace: &Trace) -> Result<PathBuf> {
        let path = self.path(job, attempt);
        trace.persist(&path)?;
        Ok(path)
    }

    /// Reads the trace of result `attempt` of `job` (an `Io` error of kind `NotFound` when missing).
    pub fn load(&self, job: U256, attempt: u32) -> Result<Trace> {
        Ok(Trace::load(&self.path(job, attempt))?)
    }

    /// Whether the trace of result `attempt` of `job` is on disk.
    pub fn exists(&self, job: U256, attempt: u32) -> bool {
        self.path(job, attempt).is_file()
    }

    /// Drops the trace of result `attempt` of `job` (no error if it is gone already).
    pub fn remove(&self, job: U256, attempt: u32) {
        remove_quietly(&self.path(job, attempt));
    }
}

fn remove_quietly(path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "could not remove a trace");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vouch_core::Shape;

    #[test]
    fn each_attempt_has_its_own_trace() {
        let dir = std::env::temp_dir().join(format!("vouch-agent-traces-{}", std::process::id()));
        let store = TraceStore::new(dir.clone());
        let t = |v| Trace::new(vec![Shape::vector(3)], vec![vec![v; 3]]);
        let job = U256::from(5);
        store.persist(job, 1, &t(1)).unwrap();
        store.persist(job, 2, &t(2)).unwrap();
        store.remove(job, 1);
        assert!(!store.exists(job, 1));
        assert_eq!(store.load(job, 2).unwrap().slots(), t(2).slots());
        let missing = store.load(job, 1).unwrap_err();
        assert!(missing.is_not_found(), "{missing}");
        store.remove(job, 1);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
