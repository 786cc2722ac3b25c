//! Dispute parties kept across polls: one [`Party`] per trace (a result, keyed by job and attempt),
//! built once from the stored trace and reused for every move of every game on that result, in a
//! cache bounded by count (least recently used first out).
//!
//! A `Party` borrows its model. The models it borrows are interned for the life of the process, one
//! per model id: an agent only plays on models its policy admitted, so this is bounded by the
//! operator's choice of models, and it holds the canonical model only (never the Burn weights).

use crate::error::Result;
use alloy::primitives::U256;
use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
};
use vouch_core::{Model, Trace, dispute::Party};

/// Which result a trace backs: (job, attempt).
pub type ResultKey = (U256, u32);

/// Parties by result, at most `capacity` of them.
#[derive(Debug)]
pub struct Parties {
    capacity: usize,
    models: HashMap<U256, &'static Model>,
    /// Least recently used first.
    entries: VecDeque<(ResultKey, Party<'static>)>,
    built: u64,
}

impl Parties {
    /// An empty cache holding at most `capacity` parties (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            models: HashMap::new(),
            entries: VecDeque::new(),
            built: 0,
        }
    }

    /// How many parties were built so far (each is one full read of a trace and its trees).
    pub fn built(&self) -> u64 {
        self.built
    }

    /// The party of result `key` on model `model_id`: from the cache, or built from `load()` (the
    /// stored trace) and `model`, evicting the least recently used one past capacity.
    pub fn get(
        &mut self,
        key: ResultKey,
        model_id: U256,
        model: &Arc<Model>,
        load: impl FnOnce() -> Result<Trace>,
    ) -> Result<&Party<'static>> {
        if let Some(i) = self.entries.iter().position(|(k, _)| *k == key) {
            let entry = self.entries.remove(i).expect("index from position");
            self.entries.push_back(entry);
        } else {
            let model: &'static Model = *self
                .models
                .entry(model_id)
                .or_insert_with(|| Box::leak(Box::new(Model::clone(model))));
            let trace = load()?;
            let party = Party::new(model, &trace)?;
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
    use vouch_core::{random, reference};

    #[test]
    fn builds_each_party_once_and_evicts_the_least_recently_used() {
        let mut rng = StdRng::seed_from_u64(3);
        let model = Arc::new(random::random_model(&mut rng, &[8, 4]));
        let input = random::random_input(&mut rng, &model);
        let trace = reference::run(&model, &input).unwrap();
        let mut parties = Parties::new(2);
        let key = |j: u64, a: u32| (U256::from(j), a);
        let root = parties
            .get(key(1, 1), U256::ZERO, &model, || Ok(trace.clone()))
            .unwrap()
            .trace_root();
        assert_eq!(root, trace.commitments().trace_root);
        // Cached: the loader is not called again.
        parties
            .get(key(1, 1), U256::ZERO, &model, || panic!("rebuilt"))
            .unwrap();
        parties
            .get(key(1, 2), U256::ZERO, &model, || Ok(trace.clone()))
            .unwrap();
        // Full at two: (2, 1) evicts (1, 1), the least recently used.
        parties
            .get(key(2, 1), U256::ZERO, &model, || Ok(trace.clone()))
            .unwrap();
        assert_eq!(parties.built(), 3);
        parties
            .get(key(1, 2), U256::ZERO, &model, || {
                panic!("evicted too early")
            })
            .unwrap();
        parties
            .get(key(1, 1), U256::ZERO, &model, || Ok(trace.clone()))
            .unwrap();
        assert_eq!(parties.built(), 4, "(1, 1) was the least recently used");
        parties.forget(key(1, 1));
        parties
            .get(key(1, 1), U256::ZERO, &model, || Ok(trace.clone()))
            .unwrap();
        assert_eq!(parties.built(), 5);
        // A missing trace is an error, and nothing is cached for it.
        let missing = parties.get(key(9, 1), U256::ZERO, &model, || {
            Err(std::io::Error::from(std::io::ErrorKind::NotFound).into())
        });
        assert!(missing.unwrap_err().is_not_found());
    }
}
