//! The requantization formula (PROTOCOL.md §1.1) and its fixed-point parameters.

use serde::{Deserialize, Serialize};

/// Smallest allowed shift.
pub const MIN_SHIFT: u8 = 1;
/// Largest allowed shift.
pub const MAX_SHIFT: u8 = 62;

/// The fixed-point multiplier `M` and shift `s` that approximate a real scale `M / 2^s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requant {
    /// `1 ≤ M ≤ 2^31 − 1`.
    pub multiplier: i32,
    /// `1 ≤ s ≤ 62`.
    pub shift: u8,
}

impl Requant {
    /// Whether `M` and `s` are inside the ranges the protocol allows.
    pub fn is_valid(&self) -> bool {
        self.multiplier >= 1 && (MIN_SHIFT..=MAX_SHIFT).contains(&self.shift)
    }

    /// The closest `(M, s)` to a positive real scale, with `M` as large as the ranges allow
    /// (so the approximation keeps ~31 significant bits).
    ///
    /// Returns `None` for a scale that is not positive and finite or cannot be represented
    /// (`scale ≥ 2^30` or `scale < 2^-62`).
    pub fn from_scale(scale: f64) -> Option<Self> {
        Self::from_scale_bits(scale, 31)
    }

    /// The closest `(M, s)` to a positive real scale with `M` in `[2^(bits−1), 2^bits)` where the
    /// shift range allows: 31 bits for int32 accumulators, 16 for the int64 accumulators of the
    /// language model's exact-weight denses (docs/LLM_INT.md §2.1), so that `|acc · M| < 2^62`.
    ///
    /// Returns `None` for a scale that is not positive and finite, cannot be represented, or for
    /// `bits` outside `1..=31`.
    pub fn from_scale_bits(scale: f64, bits: u32) -> Option<Self> {
        if !(scale.is_finite() && scale > 0.0 && (1..=31).contains(&bits)) {
            return None;
        }
        let bits = bits as i32;
        // Pick s so that scale·2^s lands in [2^(bits−1), 2^bits).
        let exp = scale.log2().floor() as i32; // scale in [2^exp, 2^(exp+1))
        let mut shift = (bits - 1 - exp).min(i32::from(MAX_SHIFT));
        if shift < i32::from(MIN_SHIFT) {
            return None;
        }
        let mut m = (scale * 2f64.powi(shift)).round();
        if m >= 2f64.powi(bits) {
            // Rounding carried into bit `bits`: halve.
            if shift == i32::from(MIN_SHIFT) {
                return None;
            }
            shift -= 1;
            m = (scale * 2f64.powi(shift)).round();
        }
        if m < 1.0 {
            return None;
        }
        Some(Self {
            multiplier: m as i32,
            shift: shift as u8,
        })
    }

    /// The real scale this pair stands for.
    pub fn scale(&self) -> f64 {
        f64::from(self.multiplier) / 2f64.powi(i32::from(self.shift))
    }

    /// `clamp(zero + ((acc·M + 2^(s−1)) >> s), lo, hi)`, the one formula.
    ///
    /// `acc` must satisfy the registration bound `|acc| < 2^31` (it is an `i32`), so `acc·M` fits
    /// i64 with room for the rounding term. The shift is arithmetic: ties round towards +∞.
    pub fn apply(&self, acc: i32, zero: i8, lo: i8, hi: i8) -> i8 {
        round_shift(
            i64::from(acc) * i64::from(self.multiplier),
            self.shift,
            zero,
            lo,
            hi,
        )
    }
}

/// `clamp(zero + ((acc + 2^(s−1)) >> s), lo, hi)` on an accumulator that is already multiplied:
/// the tail of the one formula, shared by every op (a residual add sums two multiplied terms first).
///
/// `acc` must leave room for the rounding term (|acc| < 2^62); the shift is arithmetic.
pub fn round_shift(acc: i64, shift: u8, zero: i8, lo: i8, hi: i8) -> i8 {
    (round_half_up(acc, shift) + i64::from(zero)).clamp(i64::from(lo), i64::from(hi)) as i8
}

/// `(acc + 2^(s−1)) >> s` for `s ≥ 1`, and `acc` itself for `s = 0`: division by `2^s` rounded half
/// up (towards +∞, also for negative ties), the rounding of every op (PROTOCOL.md §1.1).
///
/// `acc` must leave room for the rounding term (|acc| < 2^62) and `s ≤ 62`.
pub fn round_half_up(acc: i64, shift: u8) -> i64 {
    match shift {
        0 => acc,
        s => (acc + (1i64 << (s - 1))) >> s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(multiplier: i32, shift: u8) -> Requant {
        Requant { multiplier, shift }
    }

    #[test]
    fn worked_examples_from_the_protocol() {
        // PROTOCOL.md §1.1, row by row.
        assert_eq!(r(1, 1).apply(5, 0, -128, 127), 3);
        assert_eq!(r(1, 1).apply(-5, 0, -128, 127), -2);
        assert_eq!(r(1, 1).apply(-7, 0, -128, 127), -3);
        assert_eq!(r(1, 2).apply(-6, 0, -128, 127), -1);
        assert_eq!(r(1, 2).apply(-10, 0, -128, 127), -2);
        assert_eq!(r(3, 3).apply(100, 0, -128, 127), 38);
        assert_eq!(r(1 << 30, 40).apply(-1000, 0, -128, 127), -1);
    }

    #[test]
    fn zero_point_and_clamp() {
        assert_eq!(r(1, 1).apply(5, 10, -128, 127), 13);
        assert_eq!(r(1, 1).apply(1000, 0, -128, 127), 127);
        assert_eq!(r(1, 1).apply(-1000, 0, -128, 127), -128);
        // Fused ReLU: lo = zero point.
        assert_eq!(r(1, 1).apply(-9, -20, -20, 127), -20);
    }

    #[test]
    fn extreme_accumulators_do_not_overflow() {
        let q = r(i32::MAX, 1);
        assert_eq!(q.apply(i32::MAX, 0, -128, 127), 127);
        assert_eq!(q.apply(i32::MIN + 1, 0, -128, 127), -128);
        let q = r(i32::MAX, 62);
        assert_eq!(q.apply(i32::MIN + 1, 0, -128, 127), -1);
    }

    proptest! {
        #[test]
        fn apply_is_round_half_up_of_the_exact_product(acc in -(1i64<<31)+1..(1i64<<31), m in 1i32..=i32::MAX, s in 1u8..=62) {
            let q = r(m, s);
            let got = q.apply(acc as i32, 0, -128, 127);
            // Exact rational reference: floor(acc·M / 2^s + 1/2) in i128.
            let num = i128::from(acc) * i128::from(m);
            let den = 1i128 << s;
            let exact = (2 * num + den).div_euclid(2 * den);
            prop_assert_eq!(i128::from(got), exact.clamp(-128, 127));
        }

        #[test]
        fn from_scale_bits_keeps_the_multiplier_in_its_range(scale in 1e-12f64..1.0, bits in 2u32..=31) {
            let q = Requant::from_scale_bits(scale, bits).unwrap();
            prop_assert!(q.is_valid());
            prop_assert!(i64::from(q.multiplier) < 1i64 << bits);
            if q.shift < MAX_SHIFT {
                prop_assert!(i64::from(q.multiplier) >= 1i64 << (bits - 1));
            }
            // M is scale·2^s rounded to the nearest integer.
            prop_assert!((f64::from(q.multiplier) - scale * 2f64.powi(i32::from(q.shift))).abs() <= 0.5);
        }

        #[test]
        fn from_scale_is_close(scale in 1e-9f64..1e6) {
            let q = Requant::from_scale(scale).unwrap();
            prop_assert!(q.is_valid());
            prop_assert!(((q.scale() - scale) / scale).abs() < 1e-8);
        }
    }
}
