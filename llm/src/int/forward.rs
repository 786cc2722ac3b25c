//! The integer forward pass: embedding, the blocks, the final norm, the head and the argmax, with a
//! key/value cache so that a decode step computes exactly the row a full pass would.

use super::{
    CONTEXT, GU_Q, IntModel, LOGIT_MAX, NORM_Q, QK_Q, V_Q,
    ops::{self, add, rmsnorm},
};
use crate::{
    error::Result,
    lm::{LanguageModel, Logits, check_pass},
    trace::program::{BlockOp, Op},
};
use rayon::prelude::*;

/// Keys (after RoPE) and values of the tokens seen so far, per block: `[len × kv_width]` int16.
#[derive(Debug, Clone, Default)]
pub struct IntCache {
    k: Vec<Vec<i16>>,
    v: Vec<Vec<i16>>,
    len: usize,
}

impl IntCache {
    /// Tokens held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no token is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

fn narrow(x: Vec<i32>) -> Vec<i16> {
    // Every caller's values are already clamped to an int16 bound.
    x.into_iter().map(|v| v as i16).collect()
}

impl IntModel {
    fn norm_rows(&self, r: &[i32], gain: &super::Gain) -> Vec<i16> {
        let k = self.config.hidden;
        let mut h = vec![0i16; r.len()];
        h.chunks_mut(k)
            .zip(r.chunks(k))
            .for_each(|(o, row)| rmsnorm(row, gain, self.eps_term, NORM_Q, o));
        h
    }

    /// Integer logits (units 2^-12) of every position of `ids` after `cache`, `[T × vocab]`.
    pub fn logits(&self, ids: &[u32], cache: &mut IntCache) -> Result<Vec<i32>> {
        self.run(ids, cache, &mut ())
    }

    /// [`Self::logits`], showing `observer` every op's output as it is computed, in program order
    /// (docs/LLM_INT.md §8.1; not the value cache's append or the argmaxes, which observers derive
    /// from the values and the logits).
    pub(crate) fn run<O: Observer>(
        &self,
        ids: &[u32],
        cache: &mut IntCache,
        observer: &mut O,
    ) -> Result<Vec<i32>> {
        let c = self.config;
        let (t, start) = (ids.len(), cache.len);
        check_pass(ids, c.vocab, start, self.context())?;
        if cache.k.is_empty() {
            cache.k = vec![Vec::new(); c.blocks];
            cache.v = vec![Vec::new(); c.blocks];
        }
        let (k, d, kvw, half) = (c.hidden, c.head_dim, c.kv_width(), c.head_dim / 2);
        let mut r = vec![0i32; t * k];
        for (row, &id) in r.chunks_mut(k).zip(ids) {
            ops::embed(&self.embed, &self.embed_requant, id as usize, row);
        }
        observer.slot(Op::Embed, Values::I32(&r));
        for (l, b) in self.blocks.iter().enumerate() {
            let at = |i| Op::Block(l, i);
            let h = self.norm_rows(&r, &b.attn_norm);
            observer.slot(at(BlockOp::AttnNorm), Values::I16(&h));
            let mut q = narrow(ops::dense(&h, None, &b.q, QK_Q));
            observer.slot(at(BlockOp::Q), Values::I16(&q));
            let mut kk = narrow(ops::dense(&h, None, &b.k, QK_Q));
            observer.slot(at(BlockOp::K), Values::I16(&kk));
            let vv = narrow(ops::dense(&h, None, &b.v, V_Q));
            observer.slot(at(BlockOp::V), Values::I16(&vv));
            for (rows, width) in [(&mut q, k), (&mut kk, kvw)] {
                for (ti, row) in rows.chunks_mut(width).enumerate() {
                    let p = start + ti;
                    let (cos, sin) = (
                        &self.rope_cos[p * half..][..half],
                        &self.rope_sin[p * half..][..half],
                    );
                    row.chunks_mut(d)
                        .for_each(|head| ops::rope(head, cos, sin, QK_Q));
                }
            }
            observer.slot(at(BlockOp::RopeQ), Values::I16(&q));
            observer.slot(at(BlockOp::RopeK), Values::I16(&kk));
            cache.k[l].extend_from_slice(&kk);
            cache.v[l].extend_from_slice(&vv);
            let (keys, values) = (&cache.k[l], &cache.v[l]);
            let mut att = vec![0i16; t * k];
            let attention: Vec<Option<(Vec<i32>, Vec<u16>)>> = att
                .par_chunks_mut(d)
                .enumerate()
                .map(|(row_head, out)| {
                    let (ti, hd) = (row_head / c.heads, row_head % c.heads);
                    let kv = hd / c.group();
                    let pos = start + ti;
                    let qr = &q[ti * k + hd * d..][..d];
                    let scores: Vec<i32> = (0..=pos)
                        .map(|j| ops::score(qr, &keys[j * kvw + kv * d..][..d], b.qk))
                        .collect();
                    let mut p = vec![0u16; scores.len()];
                    ops::softmax(&scores, &self.exp, &mut p);
                    for (dd, o) in out.iter_mut().enumerate() {
                        let column = (0..=pos).map(|j| values[j * kvw + kv * d + dd]);
                        *o = ops::pv(&p, column, V_Q);
                    }
                    O::ATTENTION.then_some((scores, p))
                })
                .collect();
            if O::ATTENTION {
                let rows = attention.into_iter().flatten();
                let (scores, p): (Vec<Vec<i32>>, Vec<Vec<u16>>) = rows.unzip();
                observer.slot(at(BlockOp::Score), Values::I32(&scores.concat()));
                observer.slot(at(BlockOp::Softmax), Values::U16(&p.concat()));
            }
            observer.slot(at(BlockOp::Pv), Values::I16(&att));
            let o = ops::dense(&att, None, &b.o, super::RES_MAX);
            observer.slot(at(BlockOp::O), Values::I32(&o));
            add(&mut r, &o);
            observer.slot(at(BlockOp::AttnAdd), Values::I32(&r));
            let h = self.norm_rows(&r, &b.ffn_norm);
            observer.slot(at(BlockOp::FfnNorm), Values::I16(&h));
            let gate = ops::dense(&h, None, &b.gate, GU_Q);
            observer.slot(at(BlockOp::Gate), Values::I32(&gate));
            let up = ops::dense(&h, None, &b.up, GU_Q);
            observer.slot(at(BlockOp::Up), Values::I32(&up));
            let act = ops::lookup(&gate, &b.silu, GU_Q);
            observer.slot(at(BlockOp::Silu), Values::I16(&act));
            let mut y = vec![0i16; act.len()];
            let exps: Vec<u8> = y
                .chunks_mut(c.ffn)
                .zip(act.chunks(c.ffn).zip(up.chunks(c.ffn)))
                .map(|(o, (a, u))| ops::product(a, u, o))
                .collect();
            let product: Vec<i16> = y
                .chunks(c.ffn)
                .zip(&exps)
                .flat_map(|(row, &e)| row.iter().copied().chain([i16::from(e)]))
                .collect();
            observer.slot(at(BlockOp::Product), Values::I16(&product));
            let down = ops::dense(&y, Some(&exps), &b.down, super::RES_MAX);
            observer.slot(at(BlockOp::Down), Values::I32(&down));
            add(&mut r, &down);
            observer.slot(at(BlockOp::FfnAdd), Values::I32(&r));
        }
        cache.len += t;
        let h = self.norm_rows(&r, &self.out_norm);
        observer.slot(Op::OutNorm, Values::I16(&h));
        let logits = ops::dense(&h, None, &self.embed, LOGIT_MAX);
        observer.slot(Op::Head, Values::I32(&logits));
        Ok(logits)
    }
}

/// One op's output values, `[T × width]` (as computed; the program's dtype says how they are stored).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Values<'a> {
    I16(&'a [i16]),
    U16(&'a [u16]),
    I32(&'a [i32]),
}

/// Sees each op's output of a forward pass.
pub(crate) trait Observer {
    /// Whether the pass shows the attention scores and probabilities, one row per (token, head)
    /// (`[T·H × (p + 1)]`: rectangular for one-token passes, which are what ask for them).
    const ATTENTION: bool = false;

    /// `op` computed `values`.
    fn slot(&mut self, op: Op, values: Values<'_>);
}

/// No observer: a plain forward pass.
impl Observer for () {
    fn slot(&mut self, _: Op, _: Values<'_>) {}
}

/// Collects the residual stream as real numbers: after the embedding and after each block.
struct Residuals(Vec<Vec<f32>>);

impl Observer for Residuals {
    fn slot(&mut self, op: Op, values: Values<'_>) {
        if let (Op::Embed | Op::Block(_, BlockOp::FfnAdd), Values::I32(r)) = (op, values) {
            let unit = 2f32.powi(-super::RES_FRAC);
            self.0.push(r.iter().map(|&v| v as f32 * unit).collect());
        }
    }
}

impl LanguageModel for IntModel {
    type Cache = IntCache;

    fn vocab(&self) -> usize {
        self.config.vocab
    }

    fn context(&self) -> usize {
        CONTEXT.min(self.config.context)
    }

    fn new_cache(&self) -> IntCache {
        IntCache::default()
    }

    fn residuals(&self, ids: &[u32]) -> Result<Vec<Vec<f32>>> {
        let mut residuals = Residuals(Vec::new());
        self.run(ids, &mut IntCache::default(), &mut residuals)?;
        Ok(residuals.0)
    }

    fn forward(&self, ids: &[u32], cache: &mut IntCache) -> Result<Logits> {
        Ok(Logits::from_int(
            self.config.vocab,
            &self.logits(ids, cache)?,
        ))
    }
}
