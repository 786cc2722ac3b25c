//! The ops of docs/LLM_INT.md §3 as Burn tensor ops on i64 tensors, each the per-element formula of
//! `vouch_llm::int::ops` (the exactness argument of each is in the module docs of [`crate::llm`]).
//!
//! Every tensor here is an i64 integer tensor; shapes are written where they are used.

use crate::backend::int_tensor;
use burn::tensor::{DType, Device, Element, Float, FloatDType, Int, IntDType, Tensor};
use vouch_core::quant::Requant;
use vouch_llm::{
    gguf::BLOCK,
    int::{Dense, GU_Q, Gain, P_Q, PROB_FRAC, RES_MAX, ROPE_FRAC, arith::bit_length},
};

/// A masked attention score (below every unmasked one, which are clamped to ±2^30).
pub const MASKED: i64 = -(1 << 31);
/// Bound of an attention score.
pub const SCORE_MAX: i64 = 1 << 30;

/// An i64 tensor of `shape` on `device` from integers of any width.
pub fn upload<E: Element, const D: usize>(
    values: Vec<E>,
    shape: [usize; D],
    device: &Device,
) -> Tensor<D, Int> {
    int_tensor(values, shape, DType::I64, device)
}

/// The elements of an integer tensor, row-major.
pub fn download<const D: usize>(t: Tensor<D, Int>) -> Vec<i64> {
    t.cast(IntDType::I64)
        .into_data()
        .try_into_vec::<i64>()
        .expect("an i64 tensor reads back as i64")
}

/// `round_shift(a, s) = (a + 2^(s−1)) >> s` (`a` for `s = 0`) with the shifts `s` a tensor
/// broadcast against `a`: the rounding term is `(1 << s) >> 1`, which is 0 for `s = 0`.
pub fn round_shift<const D: usize>(a: Tensor<D, Int>, s: Tensor<D, Int>) -> Tensor<D, Int> {
    let half = s
        .ones_like()
        .bitwise_left_shift(s.clone())
        .bitwise_right_shift_scalar(1);
    (a + half).bitwise_right_shift(s)
}

/// [`round_shift`] by one shift `s` for every element.
pub fn round_shift_scalar<const D: usize>(a: Tensor<D, Int>, s: u8) -> Tensor<D, Int> {
    match s {
        0 => a,
        s => a
            .add_scalar(1i64 << (s - 1))
            .bitwise_right_shift_scalar(i64::from(s)),
    }
}

/// `⌊a / b⌋` for `b > 0` (broadcast), whichever way the backend's integer division rounds a
/// negative quotient (towards zero or down): a quotient `q` with `q·b > a` is one too large.
fn floor_div<const D: usize>(a: Tensor<D, Int>, b: Tensor<D, Int>) -> Tensor<D, Int> {
    let q = a.clone().div(b.clone());
    let over = (q.clone() * b).greater(a);
    q.clone().mask_where(over, q.sub_scalar(1))
}

/// `div_round(a, b) = ⌊(2a + b) / (2b)⌋` for `b > 0` (broadcast): `a / b` rounded half up.
pub fn div_round<const D: usize>(a: Tensor<D, Int>, b: Tensor<D, Int>) -> Tensor<D, Int> {
    floor_div(a.mul_scalar(2) + b.clone(), b.mul_scalar(2))
}

/// The exact floor square root of `0 ≤ n ≤ i64::MAX`: an f32 estimate, then one integer Newton step
/// and one step down (`isqrt_refine`).
pub fn isqrt<const D: usize>(n: Tensor<D, Int>) -> Tensor<D, Int> {
    let estimate = n.clone().cast(FloatDType::F32).sqrt().cast(IntDType::I64);
    isqrt_refine(n, estimate)
}

/// `isqrt(n)` from an estimate `r`, raised to at least 1, with `(r − √n)² < 2r` (an f32 estimate
/// is off by less than `√n · 2^-22 + 1`, far inside this): one integer Newton step
/// `r' = ⌊(r + ⌊n/r⌋) / 2⌋`, which lands on `⌊√n⌋` or one above, then one step down where
/// `r' > ⌊n/r'⌋` (⇔ `r'² > n`), decided by a division so that no square can overflow near
/// `i64::MAX`.
fn isqrt_refine<const D: usize>(n: Tensor<D, Int>, r: Tensor<D, Int>) -> Tensor<D, Int> {
    let r = r.clamp_min(1);
    let r = (r.clone() + n.clone().div(r)).bitwise_right_shift_scalar(1);
    // r = 0 (only for n = 0) is never too large.
    let over = r.clone().greater(n.div(r.clone().clamp_min(1)));
    r.clone().mask_where(over, r.sub_scalar(1))
}

/// Elements of the tensors `ts`.
fn elements<const D: usize>(ts: &[&Tensor<D, Int>]) -> usize {
    ts.iter().map(|t| t.shape().num_elements()).sum()
}

/// `table[idx]` elementwise: a gather from a 1-D table.
fn gather<const D: usize>(table: &Tensor<1, Int>, idx: Tensor<D, Int>) -> Tensor<D, Int> {
    let shape = idx.dims();
    table
        .clone()
        .select(0, idx.reshape([shape.iter().product::<usize>()]))
        .reshape(shape)
}

/// How a projection's `W · xᵀ` is computed; both are exact (module docs of [`crate::llm`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Matmul {
    /// i64 integer matmul.
    I64,
    /// f64 matmul of the same integers: every product and partial sum is an integer below 2^53,
    /// which f64 holds exactly (the registration bound), in any order and with or without FMA.
    #[default]
    F64,
}

impl Matmul {
    /// Both modes.
    pub const ALL: [Matmul; 2] = [Matmul::I64, Matmul::F64];

    /// The name [`FromStr`](std::str::FromStr) accepts.
    pub fn name(self) -> &'static str {
        match self {
            Matmul::I64 => "i64",
            Matmul::F64 => "f64",
        }
    }
}

impl std::str::FromStr for Matmul {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown matmul {s:?} (i64 or f64)"))
    }
}

/// A projection's `[N, K]` weights in the matmul's dtype.
#[derive(Debug, Clone)]
enum Weights {
    I64(Tensor<2, Int>),
    F64(Tensor<2, Float>),
}

/// A projection on the device: the weights `W[n][k] = D[n][k/32]·q[n][k] + N[n][k/32]`
/// (`|W| < 2^22`, exact in either dtype), and each row's `(M_n, s_n)`.
#[derive(Debug, Clone)]
pub struct Projection {
    w: Weights,
    /// `[N, 1]`.
    multiplier: Tensor<2, Int>,
    /// `[N, 1]`.
    shift: Tensor<2, Int>,
}

impl Projection {
    /// Uploads `dense` (its blocks, then `W` built on the device) for `matmul`.
    pub fn new(dense: &Dense, matmul: Matmul, device: &Device) -> Self {
        let (n, k) = (dense.rows, dense.cols);
        let nb = k / BLOCK;
        let q = upload(dense.q.clone(), [n, nb, BLOCK], device);
        let d = upload(dense.d.clone(), [n, nb, 1], device);
        let offset = upload(dense.n.clone(), [n, nb, 1], device);
        let w = (q * d + offset).reshape([n, k]);
        let column =
            |f: fn(&Requant) -> i64| upload(dense.requant.iter().map(f).collect(), [n, 1], device);
        Self {
            w: match matmul {
                Matmul::I64 => Weights::I64(w),
                Matmul::F64 => Weights::F64(w.cast(FloatDType::F64)),
            },
            multiplier: column(|r| i64::from(r.multiplier)),
            shift: column(|r| i64::from(r.shift)),
        }
    }

    /// Elements held on the device.
    pub fn elements(&self) -> usize {
        let w = match &self.w {
            Weights::I64(w) => w.shape(),
            Weights::F64(w) => w.shape(),
        };
        w.num_elements() + elements(&[&self.multiplier, &self.shift])
    }

    /// `[T]` row indices → `[T, K]` weight rows.
    fn rows(&self, ids: Tensor<1, Int>) -> Tensor<2, Int> {
        match &self.w {
            Weights::I64(w) => w.clone().select(0, ids),
            Weights::F64(w) => w.clone().select(0, ids).cast(IntDType::I64),
        }
    }

    /// `[T, K]` inputs → `[T, N]`: `clamp(round_shift(acc_n · M_n, s_n − e_t), ±bound)` with
    /// `acc = W·x` and `e_t` the input row's exponent (`exps`: `[T, 1]`, none for 0).
    pub fn apply(
        &self,
        x: Tensor<2, Int>,
        exps: Option<Tensor<2, Int>>,
        bound: i64,
    ) -> Tensor<2, Int> {
        // [N, K] · [K, T]: the weights are read row by row, contiguously.
        let acc = match &self.w {
            Weights::I64(w) => w.clone().matmul(x.transpose()),
            Weights::F64(w) => w
                .clone()
                .matmul(x.transpose().cast(FloatDType::F64))
                .cast(IntDType::I64),
        };
        let shift = match exps {
            None => self.shift.clone(),
            Some(e) => self.shift.clone() - e.transpose(),
        };
        round_shift(acc * self.multiplier.clone(), shift)
            .clamp(-bound, bound)
            .transpose()
    }
}

/// The embedding table: its rows are the head's weights, with a gather requantization per row.
#[derive(Debug, Clone)]
pub struct Embedding {
    /// The tied head: `[vocab, K]` weights and the logits' `(M, s)` per row.
    pub head: Projection,
    /// `[vocab, 1]`: the gather's multipliers.
    multiplier: Tensor<2, Int>,
    /// `[vocab, 1]`: the gather's shifts.
    shift: Tensor<2, Int>,
}

impl Embedding {
    /// Uploads the table (for `matmul` as the head) and the per-row gather requantizations.
    pub fn new(table: &Dense, requant: &[Requant], matmul: Matmul, device: &Device) -> Self {
        let column = |f: fn(&Requant) -> i64| {
            upload(requant.iter().map(f).collect(), [requant.len(), 1], device)
        };
        Self {
            head: Projection::new(table, matmul, device),
            multiplier: column(|r| i64::from(r.multiplier)),
            shift: column(|r| i64::from(r.shift)),
        }
    }

    /// Elements held on the device.
    pub fn elements(&self) -> usize {
        self.head.elements() + elements(&[&self.multiplier, &self.shift])
    }

    /// `[T]` token ids → `[T, K]` residual rows: `clamp(round_shift(E[id] · M_id, s_id), ±RES_MAX)`.
    pub fn gather(&self, ids: Tensor<1, Int>) -> Tensor<2, Int> {
        let rows = self.head.rows(ids.clone());
        let m = self.multiplier.clone().select(0, ids.clone());
        let s = self.shift.clone().select(0, ids);
        round_shift(rows * m, s).clamp(-RES_MAX, RES_MAX)
    }
}

/// An RMSNorm's gains on the device.
#[derive(Debug, Clone)]
pub struct Norm {
    /// `[1, K]`.
    g: Tensor<2, Int>,
    frac: u8,
}

impl Norm {
    /// Uploads the gains.
    pub fn new(gain: &Gain, device: &Device) -> Self {
        Self {
            g: upload(gain.g.clone(), [1, gain.g.len()], device),
            frac: gain.frac,
        }
    }

    /// Elements held on the device.
    pub fn elements(&self) -> usize {
        elements(&[&self.g])
    }

    /// `[T, K]` residual rows → `[T, K]`: `ss = Σ r² + E`, `D = isqrt(ss)`,
    /// `y = clamp(div_round(r · G, D · 2^F), ±bound)`.
    pub fn apply(&self, r: Tensor<2, Int>, eps_term: i64, bound: i64) -> Tensor<2, Int> {
        let ss = r.clone().square().sum_dim(1).add_scalar(eps_term);
        let den = isqrt(ss).bitwise_left_shift_scalar(i64::from(self.frac));
        div_round(r * self.g.clone(), den).clamp(-bound, bound)
    }
}

/// RoPE's tables on the device.
#[derive(Debug, Clone)]
pub struct Rope {
    /// `[positions, d/2]`: `round(2^14 cos(p θ_i))`.
    cos: Tensor<2, Int>,
    /// `[positions, d/2]`: `round(2^14 sin(p θ_i))`.
    sin: Tensor<2, Int>,
}

impl Rope {
    /// Uploads the tables (`half = d/2` entries a position).
    pub fn new(cos: &[i16], sin: &[i16], half: usize, device: &Device) -> Self {
        let rows = cos.len() / half;
        Self {
            cos: upload(cos.to_vec(), [rows, half], device),
            sin: upload(sin.to_vec(), [rows, half], device),
        }
    }

    /// Elements held on the device.
    pub fn elements(&self) -> usize {
        elements(&[&self.cos, &self.sin])
    }

    /// `[T, heads · d]` at positions `start..start + T` → the same shape, on the pairs `(2i, 2i+1)`
    /// of each head: `y_2i = clamp(round_shift(x_2i·C − x_2i+1·S, 14), ±bound)`,
    /// `y_2i+1 = clamp(round_shift(x_2i·S + x_2i+1·C, 14), ±bound)`.
    pub fn apply(
        &self,
        x: Tensor<2, Int>,
        start: usize,
        head_dim: usize,
        bound: i64,
    ) -> Tensor<2, Int> {
        let [t, width] = x.dims();
        let half = head_dim / 2;
        let x = x.reshape([t, width / head_dim, half, 2]);
        let (a, b) = (x.clone().narrow(3, 0, 1), x.narrow(3, 1, 1));
        let table = |tab: &Tensor<2, Int>| tab.clone().narrow(0, start, t).reshape([t, 1, half, 1]);
        let (c, s) = (table(&self.cos), table(&self.sin));
        let even = a.clone() * c.clone() - b.clone() * s.clone();
        let odd = a * s + b * c;
        let y = [even, odd].map(|v| round_shift_scalar(v, ROPE_FRAC).clamp(-bound, bound));
        Tensor::cat(Vec::from(y), 3).reshape([t, width])
    }
}

/// The exp table with one extra 0 at its end, where every difference past the table points.
#[derive(Debug, Clone)]
pub struct ExpTable {
    /// `[len + 1]`.
    values: Tensor<1, Int>,
    len: usize,
}

impl ExpTable {
    /// Uploads `EXP[d] = round(2^20 exp(−d/32))` and its trailing 0.
    pub fn new(exp: &[i32], device: &Device) -> Self {
        let values: Vec<i32> = exp.iter().copied().chain([0]).collect();
        Self {
            values: upload(values, [exp.len() + 1], device),
            len: exp.len(),
        }
    }

    /// Elements held on the device.
    pub fn elements(&self) -> usize {
        elements(&[&self.values])
    }
}

/// Attention scores of grouped queries against their key/value head's keys: `[G, R, d]` queries,
/// `[G, n, d]` keys → `[G, R, n]`: `clamp(round_shift((Σ_d q·k) · M, s), ±2^30)`.
pub fn scores(q: Tensor<3, Int>, keys: Tensor<3, Int>, qk: Requant) -> Tensor<3, Int> {
    let dot = q.matmul(keys.swap_dims(1, 2));
    round_shift_scalar(dot.mul_scalar(qk.multiplier), qk.shift).clamp(-SCORE_MAX, SCORE_MAX)
}

/// Softmax along the last dimension (masked scores are [`MASKED`]): `m = max S`,
/// `E_j = EXP[m − S_j]` (0 from the table's length on, which every masked score reaches),
/// `Z = Σ E`, `P_j = div_round(E_j · 2^15, Z)`.
pub fn softmax<const D: usize>(s: Tensor<D, Int>, exp: &ExpTable) -> Tensor<D, Int> {
    let m = s.clone().max_dim(D - 1);
    let e = gather(&exp.values, (m - s).clamp_max(exp.len as i64));
    let z = e.clone().sum_dim(D - 1);
    div_round(e.bitwise_left_shift_scalar(i64::from(PROB_FRAC)), z)
}

/// `[G, R, n]` probabilities times `[G, n, d]` values → `[G, R, d]`:
/// `clamp(round_shift(Σ_j P_j · V_j, 15), ±bound)`.
pub fn pv(p: Tensor<3, Int>, values: Tensor<3, Int>, bound: i64) -> Tensor<3, Int> {
    round_shift_scalar(p.matmul(values), PROB_FRAC).clamp(-bound, bound)
}

/// Causal attention of `[T, heads · d]` queries at positions `start..start + T` over the cached
/// `[kv_heads, n, d]` keys and values (`n = start + T`) → `[T, heads · d]`.
pub fn attention(
    q: Tensor<2, Int>,
    keys: Tensor<3, Int>,
    values: Tensor<3, Int>,
    (heads, start): (usize, usize),
    qk: Requant,
    exp: &ExpTable,
    bound: i64,
) -> Tensor<2, Int> {
    let [t, width] = q.dims();
    let [kv_heads, n, d] = keys.dims();
    let group = heads / kv_heads;
    // Query head h = kv · group + j reads key/value head kv: rows (j, t) of group kv.
    let q = q
        .reshape([t, kv_heads, group, d])
        .permute([1, 2, 0, 3])
        .reshape([kv_heads, group * t, d]);
    let mut s = scores(q, keys, qk);
    if t > 1 {
        // Row (j, t) sees the keys at positions up to start + t.
        let device = s.device();
        let position = Tensor::<1, Int>::arange(start as i64..(start + t) as i64, &device)
            .reshape([1, t])
            .repeat_dim(0, group)
            .reshape([group * t, 1])
            .expand([group * t, n]);
        let key = Tensor::<1, Int>::arange(0..n as i64, &device)
            .reshape([1, n])
            .expand([group * t, n]);
        let future = key
            .greater(position)
            .unsqueeze_dim::<3>(0)
            .expand([kv_heads, group * t, n]);
        s = s.mask_fill(future, MASKED);
    }
    pv(softmax(s, exp), values, bound)
        .reshape([kv_heads, group, t, d])
        .permute([2, 0, 1, 3])
        .reshape([t, width])
}

/// Residual add: `clamp(a + b, ±RES_MAX)`.
pub fn add(a: Tensor<2, Int>, b: Tensor<2, Int>) -> Tensor<2, Int> {
    (a + b).clamp(-RES_MAX, RES_MAX)
}

/// A lookup table on the device (SiLU over the gate's range).
#[derive(Debug, Clone)]
pub struct Table {
    values: Tensor<1, Int>,
    offset: i64,
}

impl Table {
    /// Uploads `table`, indexed by `x + offset`.
    pub fn new(table: &[i16], offset: i64, device: &Device) -> Self {
        Self {
            values: upload(table.to_vec(), [table.len()], device),
            offset,
        }
    }

    /// Elements held on the device.
    pub fn elements(&self) -> usize {
        elements(&[&self.values])
    }

    /// `y = table[x + offset]` elementwise.
    pub fn lookup<const D: usize>(&self, x: Tensor<D, Int>) -> Tensor<D, Int> {
        gather(&self.values, x.add_scalar(self.offset))
    }
}

/// SwiGLU product with a per-row power-of-two scale: `[T, F]` SiLU outputs and up projections →
/// (`[T, F]` `y = clamp(round_shift(a·u, e), ±32767)`, `[T, 1]` exponents
/// `e = max(0, bitlen(max |a·u|) − 15)`).
///
/// `e` is counted as `#{j : 15 ≤ j < 30, A ≥ 2^j}`, which is `max(0, bitlen(A) − 15)` for every
/// `A < 2^30`, and `A ≤ 2^15 · GU_Q < 2^30` (`|a| ≤ 2^15` in int16, `|u| ≤ GU_Q`).
pub fn product(a: Tensor<2, Int>, u: Tensor<2, Int>) -> (Tensor<2, Int>, Tensor<2, Int>) {
    let [t, _] = a.dims();
    let p = a * u;
    let big = p.clone().abs().max_dim(1);
    let (low, high) = (bit_length(P_Q), bit_length((GU_Q + 1) * GU_Q));
    let powers: Vec<i64> = (low..high).map(|j| 1i64 << j).collect();
    let m = powers.len();
    let powers = upload(powers, [1, m], &big.device()).expand([t, m]);
    let e = big
        .expand([t, m])
        .greater_equal(powers)
        .int()
        .cast(IntDType::I64)
        .sum_dim(1);
    (round_shift(p, e.clone()).clamp(-P_Q, P_Q), e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BurnBackend;
    use vouch_llm::int::arith;

    #[test]
    fn the_square_root_refinement_is_exact_from_any_estimate_within_its_bound() {
        // The f32 estimate's error depends on how the device rounds, so the refinement is
        // checked on its own, from estimates off by as much as the bound allows either way.
        let r_max = arith::isqrt(i64::MAX);
        let n: Vec<i64> = [0, 1, 2, 3, 4, 8, 9, 10, 99, 1 << 24, (1 << 48) - 1, 1 << 62]
            .into_iter()
            .chain([
                i64::MAX,
                r_max * r_max,
                r_max * r_max - 1,
                46_340 * 46_340 - 1,
            ])
            .collect();
        let roots: Vec<i64> = n.iter().map(|&v| arith::isqrt(v)).collect();
        for backend in BurnBackend::ALL {
            let device = backend.device();
            for offset in [-2i64, -1, 0, 1, 2] {
                // Off by up to √n · 2^-22 + 2, where the bound allows.
                let estimate: Vec<i64> = roots
                    .iter()
                    .map(|&r| {
                        let off = offset.signum() * ((r >> 22) + offset.abs());
                        let e = (r + off).max(1);
                        if (off.abs() + 1).pow(2) < 2 * e { e } else { r }
                    })
                    .collect();
                let got = isqrt_refine(
                    upload(n.clone(), [n.len()], &device),
                    upload(estimate.clone(), [n.len()], &device),
                );
                assert_eq!(
                    download(got),
                    roots,
                    "from {estimate:?} on {}",
                    backend.name()
                );
            }
        }
    }
}
