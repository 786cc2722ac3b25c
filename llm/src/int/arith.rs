//! The integer primitives of the language model's ops (docs/LLM_INT.md §2.1), beside the one
//! rounding rule of every op ([`vouch_core::quant::round_half_up`]).

pub use vouch_core::quant::round_half_up;

/// `a / b` rounded half up with floor division: `⌊(2a + b) / (2b)⌋` for `b > 0`
/// (`div_round(7, 2) = 4`, `div_round(−7, 2) = −3`, `div_round(−8, 3) = −3`).
///
/// Needs `|2a + b| < 2^63`.
pub fn div_round(a: i64, b: i64) -> i64 {
    debug_assert!(b > 0);
    (2 * a + b).div_euclid(2 * b)
}

/// The exact floor square root of `0 ≤ n < 2^63`: `r² ≤ n < (r + 1)²`.
pub fn isqrt(n: i64) -> i64 {
    debug_assert!(n >= 0);
    (n as u64).isqrt() as i64
}

/// Bits of `|a|`: 0 for 0, else `⌊log2 |a|⌋ + 1`.
pub fn bit_length(a: i64) -> u32 {
    64 - a.unsigned_abs().leading_zeros()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn worked_examples() {
        assert_eq!(div_round(7, 2), 4);
        assert_eq!(div_round(-7, 2), -3);
        assert_eq!(div_round(-8, 3), -3);
        assert_eq!(round_half_up(-5, 1), -2);
        assert_eq!(round_half_up(17, 0), 17);
        assert_eq!(isqrt(14_942_250), 3865);
        assert_eq!(isqrt((1 << 62) - 1), (1 << 31) - 1);
        assert_eq!(
            (bit_length(0), bit_length(8191), bit_length(-983_010_000)),
            (0, 13, 30)
        );
        // A product |a·u| ≤ 32767² has 30 bits; the exponent leaves P_Q's.
        assert_eq!(
            super::super::MAX_EXPONENT,
            (bit_length(32767 * 32767) - bit_length(super::super::P_Q)) as u8
        );
    }

    proptest! {
        #[test]
        fn isqrt_brackets(n in 0i64..(1 << 62)) {
            let r = isqrt(n) as i128;
            prop_assert!(r * r <= n as i128 && (r + 1) * (r + 1) > n as i128);
        }

        #[test]
        fn div_round_is_the_nearest_integer_half_up(a in -(1i64 << 56)..(1 << 56), b in 1i64..(1 << 55)) {
            let q = div_round(a, b) as i128;
            // q − 1/2 ≤ a/b < q + 1/2
            let (a, b) = (a as i128, b as i128);
            prop_assert!(2 * a >= (2 * q - 1) * b && 2 * a < (2 * q + 1) * b);
        }
    }
}
