//! Which models and jobs an operator serves: an explicit list of models, or limits on what a model
//! may cost (parameters, MACs, and the [`Budget`] of memory, trace bytes and time), and the fee a job
//! must pay. Anything else is skipped, with one log line that says why.

use crate::budget::{Budget, Footprint};
use alloy::primitives::U256;
use serde::{Deserialize, Serialize};

/// What an operator opted into.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Policy {
    /// Serve only these model ids; `None` serves every model within the limits.
    pub models: Option<Vec<U256>>,
    /// Most weights a served model may have.
    pub max_params: Option<u64>,
    /// Most multiply-accumulates (and pool taps) one run may take.
    pub max_macs: Option<u64>,
    /// Memory, trace bytes and time one model may cost; applies to listed models too.
    pub budget: Budget,
    /// Least fee a job must pay, in wei.
    pub min_fee: U256,
    /// Least fee per multiply-accumulate a job must pay, in wei.
    pub min_fee_per_mac: U256,
    /// One operator's fleet splitting the jobs: serve only the jobs of this shard.
    pub shard: Option<Shard>,
}

/// Shard `index` of `count`: the jobs whose id is `index` modulo `count`. A fleet of `count` workers
/// run by one operator answers each job once instead of racing to answer every job (the first result
/// wins; the others' runs are wasted); a job re-opened after an overturn is open to the whole fleet.
/// Challengers split the results they check the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This member's index, below `count`.
    pub index: u64,
    /// The fleet's size, at least 1.
    pub count: u64,
}

impl Shard {
    /// Shard `index` of `count`; `None` unless `index < count`.
    pub fn new(index: u64, count: u64) -> Option<Self> {
        (index < count).then_some(Self { index, count })
    }

    /// Whether job `id` is in this shard.
    pub fn holds(&self, id: U256) -> bool {
        id % U256::from(self.count) == U256::from(self.index)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// `INDEX/COUNT`, e.g. `0/3`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad =
            || format!("{s:?} is not a shard: write INDEX/COUNT with INDEX < COUNT, e.g. 0/3");
        let (index, count) = s.split_once('/').ok_or_else(bad)?;
        let number = |n: &str| n.trim().parse::<u64>().map_err(|_| bad());
        Self::new(number(index)?, number(count)?).ok_or_else(bad)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Policy {
    /// Why model `id` with footprint `f` is not served, or `None` when it is.
    pub fn refuses_model(&self, id: U256, f: &Footprint) -> Option<String> {
        if let Some(ids) = &self.models
            && !ids.contains(&id)
        {
            return Some("not in this operator's list of models".into());
        }
        if let Some(max) = self.max_params
            && f.params > max
        {
            return Some(format!("{} parameters, the limit is {max}", f.params));
        }
        self.refuses_run(f)
    }

    /// Whether job `id` is this operator's to serve (its [`Shard`], if any).
    pub fn serves_job(&self, id: U256) -> bool {
        self.shard.is_none_or(|s| s.holds(id))
    }

    /// Why one run with footprint `f` is not served (its MACs or the budget), or `None` when it is:
    /// part of [`Policy::refuses_model`], and on its own the check of one language-model job, whose
    /// cost depends on its prompt and token budget.
    pub fn refuses_run(&self, f: &Footprint) -> Option<String> {
        if let Some(max) = self.max_macs
            && f.macs > max
        {
            return Some(format!("{} MACs per run, the limit is {max}", f.macs));
        }
        self.budget.check(f)
    }

    /// Why a job paying `fee` on a model with footprint `f` is not served, or `None` when it is.
    pub fn refuses_fee(&self, fee: U256, f: &Footprint) -> Option<String> {
        if fee < self.min_fee {
            return Some(format!(
                "fee {fee} wei, the minimum is {} wei",
                self.min_fee
            ));
        }
        let floor = self.min_fee_per_mac.saturating_mul(U256::from(f.macs));
        if fee < floor {
            return Some(format!(
                "fee {fee} wei for {} MACs, the minimum is {} wei per MAC ({floor} wei)",
                f.macs, self.min_fee_per_mac
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_the_jobs_between_a_fleet() {
        let fleet: Vec<Shard> = (0..3).map(|i| format!("{i}/3").parse().unwrap()).collect();
        for id in 0..300u64 {
            let holders = fleet.iter().filter(|s| s.holds(U256::from(id))).count();
            assert_eq!(holders, 1, "job {id} is held by exactly one member");
        }
        let huge = U256::MAX;
        assert_eq!(fleet.iter().filter(|s| s.holds(huge)).count(), 1);
        for bad in ["3/3", "1/0", "a/2", "1", "-1/2", "1/2/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad} is refused");
        }
        assert_eq!("2/5".parse::<Shard>().unwrap().to_string(), "2/5");
        assert!(Policy::default().serves_job(U256::from(7)));
        let one = Policy {
            shard: Shard::new(1, 2),
            ..Policy::default()
        };
        assert!(one.serves_job(U256::from(7)) && !one.serves_job(U256::from(8)));
    }

    fn footprint(params: u64, macs: u64) -> Footprint {
        Footprint {
            params,
            macs,
            work: macs,
            ..Footprint::default()
        }
    }

    #[test]
    fn each_limit_refuses_with_its_reason() {
        let f = footprint(1_000, 50_000);
        let open = Policy::default();
        assert_eq!(open.refuses_model(U256::from(3), &f), None);
        let listed = Policy {
            models: Some(vec![U256::from(1)]),
            ..Policy::default()
        };
        assert!(
            listed
                .refuses_model(U256::from(3), &f)
                .unwrap()
                .contains("list")
        );
        assert_eq!(listed.refuses_model(U256::from(1), &f), None);
        let params = Policy {
            max_params: Some(999),
            ..Policy::default()
        };
        assert!(
            params
                .refuses_model(U256::ZERO, &f)
                .unwrap()
                .contains("1000 parameters")
        );
        let macs = Policy {
            max_macs: Some(50_000),
            ..Policy::default()
        };
        assert_eq!(
            macs.refuses_model(U256::ZERO, &f),
            None,
            "the limit is inclusive"
        );
        let fees = Policy {
            min_fee: U256::from(10),
            min_fee_per_mac: U256::from(2),
            ..Policy::default()
        };
        assert!(
            fees.refuses_fee(U256::from(9), &f)
                .unwrap()
                .contains("minimum is 10")
        );
        assert!(
            fees.refuses_fee(U256::from(99_999), &f)
                .unwrap()
                .contains("per MAC")
        );
        assert_eq!(fees.refuses_fee(U256::from(100_000), &f), None);
    }
}
