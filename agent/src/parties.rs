//! Dispute parties kept across polls: one party per trace (a result, keyed by job and attempt), built
//! once and reused for every move of every game on that result, in a cache bounded by count (least
//! recently used first out). A tensor model's [`vouch_core::dispute::Party`] is built from its stored
//! trace; a language model's `vouch_llm::trace::LmParty` from its generation run again (it is
//! deterministic), which is why building one may take a while and is awaited.

use crate::error::Result;
use alloy::primitives::U256;
use std::{collections::VecDeque, future::Future};

/// Which result a trace backs: (job, attempt).
pub type ResultKey = (U256, u32);

/// Parties `P` by result, at most `capacity` of them.
#[derive(Debug)]
pub struct Parties<P> {
    capacity: usize,
    /// Least recently used first.
    entries: VecDeque<(ResultKey, P)>,
    built: u64,
}

impl<P> Parties<P> {
    /// An empty cache holding at most `capacity` parties (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            entries: VecDeque::new(),
            built: 0,
        }
    }

    /// How many parties were built so far (each is one full read of a trace and its trees).
    pub fn built(&self) -> u64 {
        self.built
    }

    /// The party of result `key`: from the cache, or built by `build()`, evicting the least recently
    /// used one past capacity. A build that fails caches nothing.
    pub async fn get<F: Future<Output = Result<P>>>(
        &mut self,
        key: ResultKey,
        build: impl FnOnce() -> F,
    ) -> Result<&P> {
        if let Some(i) = self.entries.iter().position(|(k, _)| *k == key) {
            let entry = self.entries.remove(i).expect("index from position");
            self.entries.push_back(entry);
        } else {
            let party = build().await?;
            self.built += 1;
            if self.entries.len() == self.capacity {
                self.entries.pop_front();
            }
            self.entries.push_back((key, party));
        }
        Ok(&self.entries.back().expect("just pushed").1)
    }

    /// Drops the party of result `key` (its games are over).
    pub fn forget(&mut self, key: ResultKey) {
        self.entries.retain(|(k, _)| *k != key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};
    use vouch_core::{dispute::Party, random, reference};

    /// A build that must not happen.
    async fn unbuilt(why: &str) -> Result<Party> {
        panic!("{why}")
    }

    #[tokio::test]
    async fn builds_each_party_once_and_evicts_the_least_recently_used() {
        let mut rng = StdRng::seed_from_u64(3);
        let model = random::random_model(&mut rng, &[8, 4]);
        let input = random::random_input(&mut rng, &model);
        let trace = reference::run(&model, &input).unwrap();
        let mut parties = Parties::new(2);
        let key = |j: u64, a: u32| (U256::from(j), a);
        let build = || async { Ok(Party::new(&model, trace.clone())?) };
        let root = parties.get(key(1, 1), build).await.unwrap().final_state();
        assert_eq!(root, trace.commitments().final_state);
        // Cached: the loader is not called again.
        parties.get(key(1, 1), || unbuilt("rebuilt")).await.unwrap();
        parties.get(key(1, 2), build).await.unwrap();
        // Full at two: (2, 1) evicts (1, 1), the least recently used.
        parties.get(key(2, 1), build).await.unwrap();
        assert_eq!(parties.built(), 3);
        parties
            .get(key(1, 2), || unbuilt("evicted too early"))
            .await
            .unwrap();
        parties.get(key(1, 1), build).await.unwrap();
        assert_eq!(parties.built(), 4, "(1, 1) was the least recently used");
        parties.forget(key(1, 1));
        parties.get(key(1, 1), build).await.unwrap();
        assert_eq!(parties.built(), 5);
        // A missing trace is an error, and nothing is cached for it.
        let missing = parties
            .get(key(9, 1), || async {
                Err(std::io::Error::from(std::io::ErrorKind::NotFound).into())
            })
            .await;
        assert!(missing.unwrap_err().is_not_found());
    }
}
