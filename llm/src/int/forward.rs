//! The integer forward pass: embedding, the blocks, the final norm, the head and the argmax, with a
//! key/value cache so that a decode step computes exactly the row a full pass would.

use super::{
    CONTEXT, GU_Q, IntModel, LOGIT_MAX, NORM_Q, QK_Q, V_Q,
    ops::{self, add, rmsnorm},
};
use crate::{
    error::Result,
    lm::{LanguageModel, Logits, check_pass},
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
        self.run(ids, cache, None)
    }

    /// [`Self::logits`], also collecting the residual stream (as real numbers) after the embedding
    /// and after each block if asked.
    fn run(
        &self,
        ids: &[u32],
        cache: &mut IntCache,
        mut residuals: Option<&mut Vec<Vec<f32>>>,
    ) -> Result<Vec<i32>> {
        let unit = 2f32.powi(-super::RES_FRAC);
        let mut observe = |r: &[i32]| {
            if let Some(res) = residuals.as_deref_mut() {
                res.push(r.iter().map(|&v| v as f32 * unit).collect());
            }
        };
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
        observe(&r);
        for (l, b) in self.blocks.iter().enumerate() {
            let h = self.norm_rows(&r, &b.attn_norm);
            let mut q = narrow(ops::dense(&h, None, &b.q, QK_Q));
            let mut kk = narrow(ops::dense(&h, None, &b.k, QK_Q));
            let vv = narrow(ops::dense(&h, None, &b.v, V_Q));
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
            cache.k[l].extend_from_slice(&kk);
            cache.v[l].extend_from_slice(&vv);
            let (keys, values) = (&cache.k[l], &cache.v[l]);
            let mut att = vec![0i16; t * k];
            att.par_chunks_mut(d)
                .enumerate()
                .for_each(|(row_head, out)| {
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
                });
            add(&mut r, &ops::dense(&att, None, &b.o, super::RES_MAX));
            let h = self.norm_rows(&r, &b.ffn_norm);
            let gate = ops::dense(&h, None, &b.gate, GU_Q);
            let up = ops::dense(&h, None, &b.up, GU_Q);
            let act = ops::lookup(&gate, &b.silu, GU_Q);
            let mut y = vec![0i16; act.len()];
            let exps: Vec<u8> = y
                .chunks_mut(c.ffn)
                .zip(act.chunks(c.ffn).zip(up.chunks(c.ffn)))
                .map(|(o, (a, u))| ops::product(a, u, o))
                .collect();
            add(
                &mut r,
                &ops::dense(&y, Some(&exps), &b.down, super::RES_MAX),
            );
            observe(&r);
        }
        cache.len += t;
        let h = self.norm_rows(&r, &self.out_norm);
        Ok(ops::dense(&h, None, &self.embed, LOGIT_MAX))
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
        let mut res = Vec::new();
        self.run(ids, &mut IntCache::default(), Some(&mut res))?;
        Ok(res)
    }

    fn forward(&self, ids: &[u32], cache: &mut IntCache) -> Result<Logits> {
        Ok(Logits::from_int(
            self.config.vocab,
            &self.logits(ids, cache)?,
        ))
    }
}
