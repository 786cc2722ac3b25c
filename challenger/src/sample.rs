//! Which results to re-run: a keyed random sample workers cannot predict.
//!
//! A result is checked when `keccak256(key ‖ jobId ‖ attempt)`, read as a number in [0, 2^64), falls
//! below `rate · 2^64`. The key is the challenger's secret, so a worker cannot tell which of its
//! results will be re-run, and a restart samples the same results again.

use alloy_primitives::{B256, Keccak256, U256};

/// A keyed sampler of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sampler {
    key: B256,
    threshold: u128,
}

impl Sampler {
    /// Checks a share `rate` ∈ [0, 1] of results (clamped), chosen by `key`.
    pub fn new(key: B256, rate: f64) -> Self {
        let rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        Self {
            key,
            threshold: (rate * (1u128 << 64) as f64) as u128,
        }
    }

    /// Whether result `attempt` of `job` is re-run.
    pub fn picks(&self, job: U256, attempt: u32) -> bool {
        let mut h = Keccak256::new();
        h.update(self.key);
        h.update(job.to_be_bytes::<32>());
        h.update(attempt.to_be_bytes());
        let d = h.finalize();
        let x = u64::from_be_bytes(d[..8].try_into().expect("8 bytes"));
        u128::from(x) < self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_respected_and_keyed() {
        let a = Sampler::new(B256::repeat_byte(1), 0.25);
        let b = Sampler::new(B256::repeat_byte(2), 0.25);
        let picked: Vec<bool> = (0..4000u64).map(|j| a.picks(U256::from(j), 1)).collect();
        let n = picked.iter().filter(|&&p| p).count();
        assert!((800..1200).contains(&n), "{n} of 4000 at 25 %");
        let other: Vec<bool> = (0..4000u64).map(|j| b.picks(U256::from(j), 1)).collect();
        assert_ne!(picked, other, "another key picks other results");
        assert!((0..100u64).all(|j| Sampler::new(B256::ZERO, 1.0).picks(U256::from(j), 1)));
        assert!((0..100u64).all(|j| !Sampler::new(B256::ZERO, 0.0).picks(U256::from(j), 1)));
    }
}
