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
