//! The requantization formula (PROTOCOL.md §1.2) as tensor ops: in i64 verbatim, or in i32 only for
//! devices without 64-bit integers (thresholds for one-input ops, 16-bit limbs for adds).

use crate::backend::int_tensor;
use burn::tensor::{DType, Device, Int, IntDType, Tensor};
use vouch_core::quant::Requant;

/// Integer width of the requantization arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntArith {
    /// i64: the protocol's formula verbatim.
    I64,
    /// i32 only, for devices without 64-bit integers (wgpu adapters lacking `SHADER_INT64`).
    I32,
}

impl IntArith {
    /// The integer dtype of this width.
    pub(crate) fn dtype(self) -> IntDType {
        match self {
            IntArith::I64 => IntDType::I64,
            IntArith::I32 => IntDType::I32,
        }
    }
}

/// `clamp(z + ((acc·M + 2^(s−1)) >> s), lo, hi)` per channel, on `[rows, N]` accumulators.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // One per op, built at load time: boxing would buy nothing.
pub(crate) enum Requantizer {
    /// i64 `[1, N]` multipliers, rounding terms `2^(s−1)` and shifts.
    Wide {
        multiplier: Tensor<2, Int>,
        rounding: Tensor<2, Int>,
        shift: Tensor<2, Int>,
        z: i64,
        lo: i64,
        hi: i64,
    },
    /// i32 `[N·256]` ascending thresholds `U` (see [`Requantizer::thresholds`]) and `[1, N]`
    /// channel offsets `256·j`.
    Narrow {
        thresholds: Tensor<1, Int>,
        offsets: Tensor<2, Int>,
        lo: i32,
    },
}

impl Requantizer {
    pub(crate) fn new(
        params: &[Requant],
        z: i8,
        lo: i8,
        hi: i8,
        arith: IntArith,
        device: &Device,
    ) -> Self {
        let n = params.len();
        let row = |values: Vec<i64>, dtype| int_tensor(values, [1, n], dtype, device);
        let per = |f: fn(&Requant) -> i64| params.iter().map(f).collect();
        match arith {
            IntArith::I64 => Self::Wide {
                multiplier: row(per(|r| i64::from(r.multiplier)), DType::I64),
                rounding: row(per(|r| 1i64 << (r.shift - 1)), DType::I64),
                shift: row(per(|r| i64::from(r.shift)), DType::I64),
                z: i64::from(z),
                lo: i64::from(lo),
                hi: i64::from(hi),
            },
            IntArith::I32 => Self::Narrow {
                thresholds: int_tensor(
                    params
                        .iter()
                        .flat_map(|r| Self::thresholds(r, z, lo, hi))
                        .collect(),
                    [n * 256],
                    DType::I32,
                    device,
                ),
                offsets: row((0..n as i64).map(|j| 256 * j).collect(), DType::I32),
                lo: i32::from(lo),
            },
        }
    }

    /// `U_k = T_k − 1` for `k = 1..=255`, where `T_k` is the least accumulator whose output is at
    /// least `lo + k` (`i32::MAX`, never exceeded, once `lo + k > hi`), plus one unused pad entry.
    ///
    /// The output is `lo + #{k : acc > U_k}`, and the clamped i32 thresholds keep that exact for
    /// every `|acc| < 2^31`: a clamped `i32::MAX` is never exceeded, a clamped `i32::MIN` always is.
    fn thresholds(r: &Requant, z: i8, lo: i8, hi: i8) -> Vec<i64> {
        let (m, s) = (i128::from(r.multiplier), u32::from(r.shift));
        (1..=256)
            .map(|k| {
                let v = i128::from(lo) + k;
                if k == 256 || v > i128::from(hi) {
                    return i64::from(i32::MAX);
                }
                // z + ((acc·M + 2^(s−1)) >> s) ≥ v  ⇔  acc·M ≥ (v − z)·2^s − 2^(s−1)  ⇔  acc ≥ ⌈·/M⌉.
                let num = (v - i128::from(z)) * (1i128 << s) - (1i128 << (s - 1));
                let t = -((-num).div_euclid(m));
                (t - 1).clamp(i128::from(i32::MIN), i128::from(i32::MAX)) as i64
            })
            .collect()
    }

    /// `[rows, N]` accumulators (i64 when wide, i32 when narrow) → `[rows, N]` i32 outputs.
    pub(crate) fn apply(&self, acc: Tensor<2, Int>) -> Tensor<2, Int> {
        match self {
            Self::Wide {
                multiplier,
                rounding,
                shift,
                z,
                lo,
                hi,
            } => (acc * multiplier.clone() + rounding.clone())
                .bitwise_right_shift(shift.clone())
                .add_scalar(*z)
                .clamp(*lo, *hi)
                .cast(IntDType::I32),
            // Binary search for the number of thresholds below `acc`: they ascend in k, so the
            // passed ones are a prefix, found in 8 halving probes of at most 255 entries.
            Self::Narrow {
                thresholds,
                offsets,
                lo,
            } => {
                let [rows, n] = acc.dims();
                let mut count = acc.zeros_like();
                for step in [128, 64, 32, 16, 8, 4, 2, 1] {
                    let probe = (count.clone() + offsets.clone())
                        .add_scalar(step - 1)
                        .reshape([rows * n]);
                    let u = thresholds.clone().select(0, probe).reshape([rows, n]);
                    let passed = acc.clone().greater(u);
                    count = count.clone().mask_where(passed, count.add_scalar(step));
                }
                count.add_scalar(*lo)
            }
        }
    }
}

/// `clamp(z + ((a·M_a + b·M_b + 2^(s−1)) >> s), lo, hi)` on i32 only, for centred `|a|, |b| ≤ 255`.
///
/// With `M = h·2^16 + l` (`h < 2^15`, `l < 2^16`): `H = a·h_a + b·h_b` (`|H| < 2^24`) and
/// `L = a·l_a + b·l_b` (`|L| < 2^25`), renormalised to `H' = H + (L >> 16)`, `L' = L & 0xFFFF`, so the
/// sum is exactly `H'·2^16 + L'` with `|H'| < 2^25`. Then, exactly:
/// - `s ≤ 16`: `H'·2^(16−s) + ((L' + 2^(s−1)) >> s)`, with `H'` first clamped to `±2^9`; a larger
///   `|H'|` puts the shifted value beyond `±511` either way, so the final clamp is unchanged.
/// - `s > 16`: `(H' + 2^(s−17)) >> (s − 16)` (the shifted-out `L'` cannot carry), with `s` capped at
///   42: from there on `0 < H' + 2^(s−17) < 2^(s−16)`, so the value is 0 for every larger `s` too.
#[allow(clippy::too_many_arguments)]
pub(crate) fn add_narrow(
    a: Tensor<2, Int>,
    m_a: i64,
    b: Tensor<2, Int>,
    m_b: i64,
    s: i64,
    z: i64,
    lo: i64,
    hi: i64,
) -> Tensor<2, Int> {
    let split = |m: i64| (m >> 16, m & 0xFFFF);
    let ((h_a, l_a), (h_b, l_b)) = (split(m_a), split(m_b));
    let high = a.clone().mul_scalar(h_a) + b.clone().mul_scalar(h_b);
    let low = a.mul_scalar(l_a) + b.mul_scalar(l_b);
    let high = high + low.clone().bitwise_right_shift_scalar(16);
    let low = low.bitwise_and_scalar(0xFFFF);
    let shifted = if s <= 16 {
        high.clamp(-512, 512).mul_scalar(1i64 << (16 - s))
            + low
                .add_scalar(1i64 << (s - 1))
                .bitwise_right_shift_scalar(s)
    } else {
        let s = s.min(42);
        high.add_scalar(1i64 << (s - 17))
            .bitwise_right_shift_scalar(s - 16)
    };
    shifted.add_scalar(z).clamp(lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BurnBackend;
    use proptest::prelude::*;
    use vouch_core::quant::round_shift;

    proptest! {
        #[test]
        fn thresholds_count_the_formula(
            m in 1..=i32::MAX,
            s in 1u8..=62,
            (z, a, b) in any::<(i8, i8, i8)>(),
            k in 0usize..255,
            delta in -2i64..=2,
            acc in -i32::MAX..=i32::MAX,
        ) {
            let (lo, hi) = (a.min(b), a.max(b));
            let r = Requant { multiplier: m, shift: s };
            let u = Requantizer::thresholds(&r, z, lo, hi);
            // A random accumulator, and one right at a threshold.
            let near = (u[k] + delta).clamp(-i64::from(i32::MAX), i64::from(i32::MAX)) as i32;
            for acc in [acc, near] {
                let got = i64::from(lo) + u.iter().filter(|&&u| i64::from(acc) > u).count() as i64;
                prop_assert_eq!(got, i64::from(r.apply(acc, z, lo, hi)), "acc {}", acc);
            }
        }
    }

    #[test]
    fn narrow_add_matches_the_formula_at_the_extremes() {
        let device = BurnBackend::Flex.device();
        let vals = [-255i64, -254, -129, -1, 0, 1, 128, 254, 255];
        let (a, b): (Vec<i64>, Vec<i64>) = vals
            .iter()
            .flat_map(|&a| vals.iter().map(move |&b| (a, b)))
            .unzip();
        let n = a.len();
        let ta = int_tensor(a.clone(), [1, n], DType::I32, &device);
        let tb = int_tensor(b.clone(), [1, n], DType::I32, &device);
        let ms = [
            1i64,
            2,
            0x7FFF,
            0xFFFF,
            0x1_0000,
            0x1234_5678,
            i64::from(i32::MAX),
        ];
        for &m_a in &ms {
            for &m_b in &ms {
                for s in 1..=62i64 {
                    for (z, lo, hi) in [(0i8, -128i8, 127i8), (-128, -128, 127), (127, -5, 9)] {
                        let got = add_narrow(
                            ta.clone(),
                            m_a,
                            tb.clone(),
                            m_b,
                            s,
                            z.into(),
                            lo.into(),
                            hi.into(),
                        )
                        .into_data()
                        .convert::<i32>()
                        .try_to_vec::<i32>()
                        .unwrap();
                        for i in 0..n {
                            let want = round_shift(a[i] * m_a + b[i] * m_b, s as u8, z, lo, hi);
                            assert_eq!(
                                got[i],
                                i32::from(want),
                                "a {} b {} m_a {m_a} m_b {m_b} s {s} z {z}",
                                a[i],
                                b[i]
                            );
                        }
                    }
                }
            }
        }
    }
}
