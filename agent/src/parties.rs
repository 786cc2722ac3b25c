//! Dispute parties kept across polls: one party per trace (a result, keyed by job and attempt), built
//! once and reused for every move of every game on that result, in a cache bounded by count (least
//! recently used first out). A tensor model's [`vouch_core::dispute::Party`] is built from its stored
//! trace; a language model's `vouch_llm::trace::LmParty` from its generation run again (it is
//! deterministic), which takes as long as the answer did: seconds to minutes.
//!
//! So a party is never built inside the poll that needs it. [`Parties::poll`] returns a built party at
//! once, or starts its build on a task of its own and says so; the poll answers the games whose party
//! is ready and comes back for the others on a later poll (or after [`Parties::wait_until`], a bounded
//! wait). At most `builds` parties are under way at once, so a flood of games on many results cannot
//! start unbounded work: the others wait for a free build slot, poll after poll.

use crate::error::{AgentError, Result};
use alloy::primitives::U256;
use futures::FutureExt;
use std::{
    collections::{HashMap, HashSet, VecDeque},
    future::Future,
    panic::AssertUnwindSafe,
    sync::Arc,
};
use tokio::{
    sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel},
    time::Instant,
};

/// Which result a trace backs: (job, attempt).
pub type ResultKey = (U256, u32);

/// Where a party stands after [`Parties::poll`].
#[derive(Debug)]
pub enum Ready<P> {
    /// Built: play from it.
    Built(Arc<P>),
    /// Its build is under way on a task of its own: come back later.
    Building,
    /// Every build slot is taken: its build starts on a later poll.
    Queued,
}

/// Parties `P` by result, at most `capacity` of them built and `builds` under way.
#[derive(Debug)]
pub struct Parties<P> {
    capacity: usize,
    builds: usize,
    /// Least recently used first.
    entries: VecDeque<(ResultKey, Arc<P>)>,
    /// Builds under way (a forgotten one's result is dropped when it arrives).
    building: HashSet<ResultKey>,
    /// Builds that failed, each error returned once by [`Parties::poll`].
    failed: HashMap<ResultKey, AgentError>,
    done_tx: UnboundedSender<(ResultKey, Result<P>)>,
    done_rx: UnboundedReceiver<(ResultKey, Result<P>)>,
    started: u64,
}

impl<P: Send + Sync + 'static> Parties<P> {
    /// An empty cache holding at most `capacity` parties (at least one), building at most `builds`
    /// at once (at least one).
    pub fn new(capacity: usize, builds: usize) -> Self {
        let (done_tx, done_rx) = unbounded_channel();
        Self {
            capacity: capacity.max(1),
            builds: builds.max(1),
            entries: VecDeque::new(),
            building: HashSet::new(),
            failed: HashMap::new(),
            done_tx,
            done_rx,
            started: 0,
        }
    }

    /// How many builds were started so far (each one full read of a trace and its trees, or a
    /// generation of a language model's job).
    pub fn built(&self) -> u64 {
        self.started
    }

    /// How many builds are under way.
    pub fn building(&self) -> usize {
        self.building.len()
    }

    /// The party of result `key` if it is built; else its build started (by `build()`, spawned on a
    /// task of its own, unless `builds` are under way already) or still under way. A build that
    /// failed caches nothing: its error is returned once, and the next poll starts it again. Must be
    /// called within a Tokio runtime.
    pub fn poll<F>(&mut self, key: ResultKey, build: impl FnOnce() -> F) -> Result<Ready<P>>
    where
        F: Future<Output = Result<P>> + Send + 'static,
    {
        self.harvest();
        if let Some(i) = self.entries.iter().position(|(k, _)| *k == key) {
            let entry = self.entries.remove(i).expect("index from position");
            let party = entry.1.clone();
            self.entries.push_back(entry);
            return Ok(Ready::Built(party));
        }
        if let Some(e) = self.failed.remove(&key) {
            return Err(e);
        }
        if self.building.contains(&key) {
            return Ok(Ready::Building);
        }
        if self.building.len() >= self.builds {
            return Ok(Ready::Queued);
        }
        let done = self.done_tx.clone();
        let future = build();
        tokio::spawn(async move {
            let party = AssertUnwindSafe(future)
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err(AgentError::Task("a party's build panicked".into())));
            // The receiver lives as long as the cache; a dropped cache wants nothing.
            let _ = done.send((key, party));
        });
        self.building.insert(key);
        self.started += 1;
        Ok(Ready::Building)
    }

    /// Waits until every build under way has ended or `deadline` has passed, whichever is first.
    pub async fn wait_until(&mut self, deadline: Instant) {
        self.harvest();
        while !self.building.is_empty() {
            match tokio::time::timeout_at(deadline, self.done_rx.recv()).await {
                Ok(Some(done)) => self.store(done),
                Ok(None) | Err(_) => return,
            }
        }
    }

    /// Drops the party of result `key` (its games are over), and its build's result if one is under
    /// way.
    pub fn forget(&mut self, key: ResultKey) {
        self.entries.retain(|(k, _)| *k != key);
        self.building.remove(&key);
        self.failed.remove(&key);
    }

    /// Takes in the builds that ended.
    fn harvest(&mut self) {
        while let Ok(done) = self.done_rx.try_recv() {
            self.store(done);
        }
    }

    fn store(&mut self, (key, party): (ResultKey, Result<P>)) {
        if !self.building.remove(&key) {
            return; // forgotten meanwhile
        }
        match party {
            Ok(party) => {
                if self.entries.len() == self.capacity {
                    self.entries.pop_front();
                }
                self.entries.push_back((key, Arc::new(party)));
            }
            Err(e) => {
                self.failed.insert(key, e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};
    use std::time::Duration;
    use tokio::sync::oneshot;
    use vouch_core::{dispute::Party, random, reference};

    fn key(j: u64, a: u32) -> ResultKey {
        (U256::from(j), a)
    }

    /// A build that must not happen.
    async fn unbuilt(why: &'static str) -> Result<Party> {
        panic!("{why}")
    }

    /// Polls `key` until it is built (waiting on the builds in between).
    async fn built<P: Send + Sync + 'static>(parties: &mut Parties<P>, key: ResultKey) -> Arc<P> {
        for _ in 0..100 {
            match parties
                .poll(key, || async { unreachable!("started already") })
                .unwrap()
            {
                Ready::Built(p) => return p,
                Ready::Building => {
                    parties
                        .wait_until(Instant::now() + Duration::from_secs(5))
                        .await
                }
                Ready::Queued => panic!("queued"),
            }
        }
        panic!("never built")
    }

    #[tokio::test]
    async fn builds_each_party_once_and_evicts_the_least_recently_used() {
        let mut rng = StdRng::seed_from_u64(3);
        let model = Arc::new(random::random_model(&mut rng, &[8, 4]));
        let input = random::random_input(&mut rng, &model);
        let trace = reference::run(&model, &input).unwrap();
        let mut parties = Parties::new(2, 4);
        let build = || {
            let (model, trace) = (model.clone(), trace.clone());
            async move { Ok(Party::new(&model, trace)?) }
        };
        assert!(matches!(
            parties.poll(key(1, 1), build).unwrap(),
            Ready::Building
        ));
        let root = built(&mut parties, key(1, 1)).await.final_state();
        assert_eq!(root, trace.commitments().final_state);
        // Cached: the loader is not called again.
        assert!(matches!(
            parties.poll(key(1, 1), || unbuilt("rebuilt")).unwrap(),
            Ready::Built(_)
        ));
        parties.poll(key(1, 2), build).unwrap();
        built(&mut parties, key(1, 2)).await;
        // Full at two: (2, 1) evicts (1, 1), the least recently used.
        parties.poll(key(2, 1), build).unwrap();
        built(&mut parties, key(2, 1)).await;
        assert_eq!(parties.built(), 3);
        assert!(matches!(
            parties
                .poll(key(1, 2), || unbuilt("evicted too early"))
                .unwrap(),
            Ready::Built(_)
        ));
        parties.poll(key(1, 1), build).unwrap();
        built(&mut parties, key(1, 1)).await;
        assert_eq!(parties.built(), 4, "(1, 1) was the least recently used");
        parties.forget(key(1, 1));
        parties.poll(key(1, 1), build).unwrap();
        built(&mut parties, key(1, 1)).await;
        assert_eq!(parties.built(), 5);
        // A missing trace is an error, returned once, and nothing is cached for it: the next poll
        // tries again.
        let missing = || async { Err(std::io::Error::from(std::io::ErrorKind::NotFound).into()) };
        parties.poll(key(9, 1), missing).unwrap();
        parties
            .wait_until(Instant::now() + Duration::from_secs(5))
            .await;
        assert!(
            parties
                .poll(key(9, 1), || unbuilt("failed: reported first"))
                .unwrap_err()
                .is_not_found()
        );
        assert!(matches!(
            parties.poll(key(9, 1), missing).unwrap(),
            Ready::Building
        ));
        assert_eq!(parties.built(), 7);
    }

    /// A build held open (as a language model's generation is long) until its gate is opened.
    async fn gated(gate: oneshot::Receiver<()>, value: u32) -> Result<u32> {
        gate.await.map_err(|e| AgentError::Task(e.to_string()))?;
        Ok(value)
    }

    #[tokio::test]
    async fn a_slow_build_holds_up_no_other_party_and_builds_are_bounded() {
        let mut parties: Parties<u32> = Parties::new(8, 2);
        let (open_slow, slow) = oneshot::channel();
        assert!(matches!(
            parties.poll(key(1, 1), || gated(slow, 1)).unwrap(),
            Ready::Building
        ));
        // Another result's party is built and served while the slow one is still under way.
        let fast = parties.poll(key(2, 1), || async { Ok(2) }).unwrap();
        assert!(matches!(fast, Ready::Building));
        let two = built(&mut parties, key(2, 1)).await;
        assert_eq!(*two, 2);
        assert!(matches!(
            parties
                .poll(key(1, 1), || async { unreachable!() })
                .unwrap(),
            Ready::Building
        ));
        // A bounded wait returns with the slow build still under way.
        parties
            .wait_until(Instant::now() + Duration::from_millis(20))
            .await;
        assert_eq!(parties.building(), 1);
        // At most two builds at once: a third result waits for a free slot, and starts nothing.
        let (open_second, second) = oneshot::channel();
        parties.poll(key(3, 1), || gated(second, 3)).unwrap();
        assert!(matches!(
            parties
                .poll(key(4, 1), || async { unreachable!("over the bound") })
                .unwrap(),
            Ready::Queued
        ));
        assert_eq!((parties.building(), parties.built()), (2, 3));
        open_slow.send(()).unwrap();
        assert_eq!(*built(&mut parties, key(1, 1)).await, 1);
        // The slot is free again.
        assert!(matches!(
            parties.poll(key(4, 1), || async { Ok(4) }).unwrap(),
            Ready::Building
        ));
        // A forgotten build's result is dropped when it arrives, and a new build may start.
        parties.forget(key(3, 1));
        open_second.send(()).unwrap();
        assert_eq!(*built(&mut parties, key(4, 1)).await, 4);
        parties
            .wait_until(Instant::now() + Duration::from_millis(50))
            .await;
        assert!(matches!(
            parties.poll(key(3, 1), || async { Ok(33) }).unwrap(),
            Ready::Building
        ));
        assert_eq!(*built(&mut parties, key(3, 1)).await, 33);
        // A build that panics is an error of its own, not a lost slot.
        parties
            .poll(key(5, 1), || async { panic!("boom") })
            .unwrap();
        parties
            .wait_until(Instant::now() + Duration::from_secs(5))
            .await;
        assert_eq!(parties.building(), 0);
        assert!(matches!(
            parties.poll(key(5, 1), || async { Ok(5) }),
            Err(AgentError::Task(_))
        ));
    }
}
