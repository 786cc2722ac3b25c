//! How chain values are stored in portable columns: ids and block numbers as BIGINT, wei as decimal
//! TEXT, addresses, hashes and byte strings as `0x`-prefixed lower-case hex TEXT.

use crate::error::{CoordinatorError, Result};
use alloy::primitives::U256;
use vouch_chain::{JobStatus, registry::ModelStatus};

/// A chain id or number as a BIGINT.
pub fn to_i64(v: impl TryInto<i64> + Copy + std::fmt::Display) -> Result<i64> {
    v.try_into()
        .map_err(|_| CoordinatorError::Invalid(format!("{v} does not fit a BIGINT column")))
}

/// A `uint256` id or number as a BIGINT.
pub fn u256_to_i64(v: U256) -> Result<i64> {
    i64::try_from(v)
        .map_err(|_| CoordinatorError::Invalid(format!("{v} does not fit a BIGINT column")))
}

/// A BIGINT column that holds a non-negative number.
pub fn to_u64(v: i64) -> Result<u64> {
    u64::try_from(v)
        .map_err(|_| CoordinatorError::Invalid(format!("negative value {v} in an unsigned column")))
}

/// Bytes as `0x`-prefixed hex.
pub fn hex_bytes(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

/// The inverse of [`hex_bytes`], read as int8 elements.
pub fn tensor_from_hex(s: &str) -> Result<Vec<i8>> {
    let bytes = hex::decode(s.strip_prefix("0x").unwrap_or(s))
        .map_err(|e| CoordinatorError::Invalid(format!("stored tensor is not hex: {e}")))?;
    Ok(vouch_core::tensor::from_bytes(&bytes))
}

/// Stored bytes read as int32 big-endian numbers (a language model's job rows), or `None` when
/// their length is not a multiple of 4.
pub fn int32_row_from_hex(s: &str) -> Result<Option<Vec<i32>>> {
    let bytes = hex::decode(s.strip_prefix("0x").unwrap_or(s))
        .map_err(|e| CoordinatorError::Invalid(format!("stored row is not hex: {e}")))?;
    if bytes.len() % 4 != 0 {
        return Ok(None);
    }
    Ok(Some(
        bytes
            .chunks_exact(4)
            .map(|w| i32::from_be_bytes([w[0], w[1], w[2], w[3]]))
            .collect(),
    ))
}

/// A model status as stored.
pub fn model_status_str(s: ModelStatus) -> &'static str {
    match s {
        ModelStatus::Pending => "pending",
        ModelStatus::Active => "active",
        ModelStatus::Retired => "retired",
    }
}

/// The model statuses, in lifecycle order.
pub const MODEL_STATUSES: [ModelStatus; 3] = [
    ModelStatus::Pending,
    ModelStatus::Active,
    ModelStatus::Retired,
];

/// The job statuses, in lifecycle order.
pub const JOB_STATUSES: [JobStatus; 4] = [
    JobStatus::Open,
    JobStatus::Submitted,
    JobStatus::Settled,
    JobStatus::Expired,
];

/// A stored model status.
pub fn parse_model_status(s: &str) -> Option<ModelStatus> {
    MODEL_STATUSES
        .into_iter()
        .find(|m| model_status_str(*m) == s)
}

/// A stored (or requested) job status.
pub fn parse_job_status(s: &str) -> Option<JobStatus> {
    JOB_STATUSES.into_iter().find(|j| j.as_str() == s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for s in MODEL_STATUSES {
            assert_eq!(parse_model_status(model_status_str(s)), Some(s));
        }
        for s in JOB_STATUSES {
            assert_eq!(parse_job_status(s.as_str()), Some(s));
        }
        assert_eq!(parse_job_status("done"), None);
    }

    #[test]
    fn numbers_and_tensors() {
        assert_eq!(u256_to_i64(U256::from(7)).unwrap(), 7);
        assert!(u256_to_i64(U256::MAX).is_err());
        assert!(to_i64(u64::MAX).is_err());
        assert_eq!(
            tensor_from_hex(&hex_bytes(&[0x01, 0xff, 0x80])).unwrap(),
            vec![1, -1, -128]
        );
        assert_eq!(
            int32_row_from_hex("0x00000040fffffffe00000101").unwrap(),
            Some(vec![64, -2, 257])
        );
        assert_eq!(int32_row_from_hex("0x000001").unwrap(), None);
    }
}
