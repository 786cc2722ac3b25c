//! The ops of one forward pass, each with its per-element formula (docs/LLM_INT.md §3). Inputs are
//! rows of int16/int32 tensors; every intermediate is exact in i64.

use super::{
    ARGMAX_CHUNK, Dense, Gain, P_Q, PROB_FRAC, RES_MAX, ROPE_FRAC,
    arith::{bit_length, div_round, isqrt, round_half_up},
};
use crate::gguf::BLOCK;
use rayon::prelude::*;
use vouch_core::quant::Requant;

/// Embedding gather → residual: `r[i] = clamp(round_shift(E[id][i] · M_id, s_id), ±RES_MAX)`.
pub fn embed(table: &Dense, requant: &[Requant], id: usize, out: &mut [i32]) {
    let k = table.cols;
    let q = &table.q[id * k..][..k];
    let nb = k / BLOCK;
    let (d, n) = (&table.d[id * nb..][..nb], &table.n[id * nb..][..nb]);
    let r = requant[id];
    for (i, o) in out.iter_mut().enumerate() {
        let e = i64::from(d[i / BLOCK]) * i64::from(q[i]) + i64::from(n[i / BLOCK]);
        *o = round_half_up(e * i64::from(r.multiplier), r.shift).clamp(-RES_MAX, RES_MAX) as i32;
    }
}

/// RMSNorm of one residual row: `ss = Σ r² + E`, `D = isqrt(ss)`,
/// `y_i = clamp(div_round(r_i · G_i, D · 2^F), ±bound)`.
pub fn rmsnorm(r: &[i32], gain: &Gain, eps_term: i64, bound: i64, out: &mut [i16]) {
    let ss: i64 = r.iter().map(|&v| i64::from(v) * i64::from(v)).sum::<i64>() + eps_term;
    let den = isqrt(ss) << gain.frac;
    for ((o, &v), &g) in out.iter_mut().zip(r).zip(&gain.g) {
        *o = div_round(i64::from(v) * i64::from(g), den).clamp(-bound, bound) as i16;
    }
}

/// Sums of each block of 32 inputs (the `N_b · Σ x` term of a dense; rows are whole blocks).
fn block_sums(x: &[i16]) -> Vec<i32> {
    x.chunks(BLOCK)
        .map(|b| b.iter().map(|&v| i32::from(v)).sum())
        .collect()
}

/// Dense over `t` input rows `x` (`[t × cols]`): `acc_n = Σ_k x[k] · W[n][k]` in i64 and
/// `y[n] = clamp(round_shift(acc_n · M_n, s_n − e), ±bound)`, `e` the row's exponent (0 if none).
///
/// Returns `[t × rows]`.
pub fn dense(x: &[i16], exps: Option<&[u8]>, w: &Dense, bound: i64) -> Vec<i32> {
    let (k, nb) = (w.cols, w.cols / BLOCK);
    let t = x.len() / k;
    let sums = block_sums(x);
    let mut by_row = vec![0i32; w.rows * t];
    by_row
        .par_chunks_mut(t)
        .with_min_len(16)
        .enumerate()
        .for_each(|(n, col)| {
            for (ti, y) in col.iter_mut().enumerate() {
                let e = exps.map_or(0, |e| e[ti]);
                *y = output(&x[ti * k..][..k], &sums[ti * nb..][..nb], e, w, n, bound);
            }
        });
    if t == 1 {
        return by_row;
    }
    let mut out = vec![0i32; t * w.rows];
    for (n, col) in by_row.chunks(t).enumerate() {
        for (ti, v) in col.iter().enumerate() {
            out[ti * w.rows + n] = *v;
        }
    }
    out
}

/// Output `n` of the dense for one input row `x` with exponent `e`: one element, as the one-step
/// prover computes it.
pub fn dense_element(x: &[i16], e: u8, w: &Dense, n: usize, bound: i64) -> i32 {
    output(x, &block_sums(x), e, w, n, bound)
}

/// Output `n` for the input row `x` whose block sums are `sx`.
fn output(x: &[i16], sx: &[i32], e: u8, w: &Dense, n: usize, bound: i64) -> i32 {
    let (k, nb) = (w.cols, w.cols / BLOCK);
    let q = &w.q[n * k..][..k];
    let (d, off) = (&w.d[n * nb..][..nb], &w.n[n * nb..][..nb]);
    let mut acc = 0i64;
    for b in 0..nb {
        let dot: i32 = x[b * BLOCK..][..BLOCK]
            .iter()
            .zip(&q[b * BLOCK..][..BLOCK])
            .map(|(&a, &c)| i32::from(a) * i32::from(c))
            .sum();
        acc += i64::from(d[b]) * i64::from(dot) + i64::from(off[b]) * i64::from(sx[b]);
    }
    let r = w.requant[n];
    round_half_up(acc * i64::from(r.multiplier), r.shift - e).clamp(-bound, bound) as i32
}

/// RoPE on one head row at position `p`, pairs `(2i, 2i+1)`:
/// `y_2i = clamp(round_shift(x_2i·C − x_2i+1·S, 14), ±bound)`,
/// `y_2i+1 = clamp(round_shift(x_2i·S + x_2i+1·C, 14), ±bound)`.
pub fn rope(head: &mut [i16], cos: &[i16], sin: &[i16], bound: i64) {
    for i in 0..head.len() / 2 {
        let (a, b) = (i64::from(head[2 * i]), i64::from(head[2 * i + 1]));
        let (c, s) = (i64::from(cos[i]), i64::from(sin[i]));
        head[2 * i] = round_half_up(a * c - b * s, ROPE_FRAC).clamp(-bound, bound) as i16;
        head[2 * i + 1] = round_half_up(a * s + b * c, ROPE_FRAC).clamp(-bound, bound) as i16;
    }
}

/// One attention score: `clamp(round_shift((Σ_d q_d · k_d) · M, s), ±2^30)` (units 2^-5 nat).
pub fn score(q: &[i16], k: &[i16], requant: Requant) -> i32 {
    let dot: i64 = q
        .iter()
        .zip(k)
        .map(|(&a, &b)| i64::from(a) * i64::from(b))
        .sum();
    round_half_up(dot * i64::from(requant.multiplier), requant.shift).clamp(-(1 << 30), 1 << 30)
        as i32
}

/// Softmax of the unmasked scores of one row: `m = max S`, `E_j = EXP[m − S_j]` (0 past the table),
/// `Z = Σ E`, `P_j = div_round(E_j · 2^15, Z)`.
pub fn softmax(scores: &[i32], exp: &[i32], out: &mut [u16]) {
    let m = scores.iter().copied().max().unwrap_or(0);
    let e = |s: i32| {
        exp.get((i64::from(m) - i64::from(s)) as usize)
            .map_or(0, |&v| i64::from(v))
    };
    let z: i64 = scores.iter().map(|&s| e(s)).sum();
    for (o, &s) in out.iter_mut().zip(scores) {
        *o = div_round(e(s) << PROB_FRAC, z) as u16;
    }
}

/// One attention output element: `clamp(round_shift(Σ_j P_j · V_j, 15), ±bound)`.
pub fn pv(p: &[u16], v: impl Iterator<Item = i16>, bound: i64) -> i16 {
    let acc: i64 = p
        .iter()
        .zip(v)
        .map(|(&a, b)| i64::from(a) * i64::from(b))
        .sum();
    round_half_up(acc, PROB_FRAC).clamp(-bound, bound) as i16
}

/// Residual add: `clamp(a + b, ±RES_MAX)`.
pub fn add(r: &mut [i32], delta: &[i32]) {
    for (a, &b) in r.iter_mut().zip(delta) {
        *a = (i64::from(*a) + i64::from(b)).clamp(-RES_MAX, RES_MAX) as i32;
    }
}

/// Elementwise table lookup: `y = table[x + offset]`.
pub fn lookup(x: &[i32], table: &[i16], offset: i64) -> Vec<i16> {
    x.iter()
        .map(|&v| table[(i64::from(v) + offset) as usize])
        .collect()
}

/// SwiGLU product with a per-token power-of-two scale: `P_i = a_i · u_i`, `A = max |P_i|`,
/// `e = max(0, bitlen(A) − 15)`, `y_i = clamp(round_shift(P_i, e), ±32767)`. Returns `e`.
pub fn product(a: &[i16], u: &[i32], out: &mut [i16]) -> u8 {
    let p: Vec<i64> = a
        .iter()
        .zip(u)
        .map(|(&x, &y)| i64::from(x) * i64::from(y))
        .collect();
    let big = p.iter().map(|v| v.abs()).max().unwrap_or(0);
    let e = bit_length(big).saturating_sub(bit_length(P_Q)) as u8;
    for (o, &v) in out.iter_mut().zip(&p) {
        *o = round_half_up(v, e).clamp(-P_Q, P_Q) as i16;
    }
    e
}

/// ARGMAX1: `(max, lowest index attaining it)` of each chunk of [`ARGMAX_CHUNK`] logits, indices
/// into the whole row.
pub fn argmax_chunks(logits: &[i32]) -> Vec<(i32, i32)> {
    logits
        .chunks(ARGMAX_CHUNK)
        .enumerate()
        .map(|(c, chunk)| {
            let mut best = 0;
            for (i, &v) in chunk.iter().enumerate() {
                if v > chunk[best] {
                    best = i;
                }
            }
            (chunk[best], (c * ARGMAX_CHUNK + best) as i32)
        })
        .collect()
}

/// ARGMAX2: the index of the chunk pair with the largest value, ties to the lowest chunk.
pub fn argmax_pairs(pairs: &[(i32, i32)]) -> usize {
    let mut winner = pairs[0];
    for &pair in &pairs[1..] {
        if pair.0 > winner.0 {
            winner = pair;
        }
    }
    winner.1 as usize
}

/// The greedy token: [`argmax_pairs`] of [`argmax_chunks`] (ties to the lowest index).
pub fn argmax(logits: &[i32]) -> usize {
    argmax_pairs(&argmax_chunks(logits))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rq(multiplier: i32, shift: u8) -> Requant {
        Requant { multiplier, shift }
    }

    #[test]
    fn embed_example() {
        // docs/LLM_INT.md §3.1: E = 4096 · 57, (M, s) = (1,125,899,907, 40) → 239.
        let mut q = vec![0i16; 32];
        q[0] = 57;
        let table = Dense {
            rows: 1,
            cols: 32,
            q,
            d: vec![4096],
            n: vec![0],
            requant: vec![],
        };
        let mut out = [0i32; 32];
        embed(&table, &[rq(1_125_899_907, 40)], 0, &mut out);
        assert_eq!(out[0], 239);
    }

    #[test]
    fn rmsnorm_example() {
        // §3.2 with K = 4: E = 42, F = 17.
        let g = Gain {
            g: vec![1_073_676_288, 536_838_144, 2_147_352_576, 1_073_676_288],
            frac: 17,
        };
        let mut y = [0i16; 4];
        rmsnorm(&[1024, -2048, 512, 3072], &g, 42, 16383, &mut y);
        assert_eq!(y, [2170, -2170, 2170, 6511]);
    }

    #[test]
    fn dense_example() {
        // §3.3: one block, D = 4096, N = −32767, q = [3, 15], x = [1000, −2000] → acc = −77,825,000.
        let mut q = vec![0i16; 32];
        (q[0], q[1]) = (3, 15);
        let mut x = vec![0i16; 32];
        (x[0], x[1]) = (1000, -2000);
        let w = Dense {
            rows: 1,
            cols: 32,
            q,
            d: vec![4096],
            n: vec![-32767],
            requant: vec![rq(1, 1)],
        };
        // M = 1, s = 1: y = round_shift(acc, 1) = acc / 2.
        assert_eq!(dense(&x, None, &w, 1 << 40), vec![-38_912_500]);
        // An exponent of 1 shifts one bit less.
        assert_eq!(dense(&x, Some(&[1]), &w, 1 << 40), vec![-77_825_000]);
    }

    #[test]
    fn rope_example() {
        // §3.4: p = 3, i = 0: C = −16220, S = 2312; x = (100, −50) → (−92, 64).
        let mut h = [100i16, -50];
        rope(&mut h, &[-16220], &[2312], 4095);
        assert_eq!(h, [-92, 64]);
    }

    #[test]
    fn softmax_example() {
        // §3.7: scores [100, 68, 0] (the masked fourth left out) → [23210, 8538, 1020].
        let exp: Vec<i32> = (0..466)
            .map(|d| (2f64.powi(20) * (-(d as f64) / 32.0).exp()).round_ties_even() as i32)
            .collect();
        let mut p = [0u16; 3];
        softmax(&[100, 68, 0], &exp, &mut p);
        assert_eq!(p, [23210, 8538, 1020]);
    }

    #[test]
    fn product_example() {
        // §3.11: e = 15, y = [610, −18, −29999, 0].
        let mut y = [0i16; 4];
        let e = product(&[1000, -200, 30000, 5], &[20000, 3000, -32767, 7], &mut y);
        assert_eq!((e, y), (15, [610, -18, -29999, 0]));
    }

    #[test]
    fn argmax_ties_go_to_the_lowest_index() {
        let mut l = vec![0i32; 3 * ARGMAX_CHUNK];
        l[ARGMAX_CHUNK + 5] = 9;
        l[2 * ARGMAX_CHUNK + 1] = 9;
        assert_eq!(argmax(&l), ARGMAX_CHUNK + 5);
        assert_eq!(argmax(&[-3, -1, -1]), 1);
    }
}
