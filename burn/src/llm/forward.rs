//! The forward pass on the device, with a key/value cache that stays there.

use super::{
    BurnLm,
    ops::{self, add, attention, download, upload},
};
use burn::tensor::{Int, Tensor};
use vouch_llm::{
    Result,
    int::{GU_Q, LOGIT_MAX, NORM_Q, QK_Q, RES_FRAC, RES_MAX, V_Q},
    lm::{LanguageModel, Logits, check_pass},
};

/// Keys (after RoPE) and values of the positions seen so far, per block, on the device:
/// `[kv_heads, len, head_dim]` each.
#[derive(Debug, Clone, Default)]
pub struct BurnCache {
    k: Vec<Tensor<3, Int>>,
    v: Vec<Tensor<3, Int>>,
    len: usize,
}

impl BurnCache {
    /// Positions held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no position is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl BurnLm {
    /// Integer logits (units 2^-12) of every position of `ids` after `cache`, `[T × vocab]`:
    /// bit-identical to [`vouch_llm::IntModel::logits`].
    pub fn logits(&self, ids: &[u32], cache: &mut BurnCache) -> Result<Vec<i32>> {
        self.run(ids, cache, None)
    }

    /// [`Self::logits`], also collecting the residual stream (as real numbers) after the embedding
    /// and after each block if asked.
    fn run(
        &self,
        ids: &[u32],
        cache: &mut BurnCache,
        mut residuals: Option<&mut Vec<Vec<f32>>>,
    ) -> Result<Vec<i32>> {
        let c = self.config;
        let (t, start) = (ids.len(), cache.len);
        check_pass(ids, c.vocab, start, self.context)?;
        if t == 0 {
            return Ok(Vec::new());
        }
        let unit = 2f32.powi(-RES_FRAC);
        let mut observe = |r: &Tensor<2, Int>| {
            if let Some(res) = residuals.as_deref_mut() {
                res.push(
                    download(r.clone())
                        .iter()
                        .map(|&v| v as f32 * unit)
                        .collect(),
                );
            }
        };
        let (d, kv_heads) = (c.head_dim, c.kv_heads);
        // [T, kv_heads · d] → [kv_heads, T, d], the cache's layout.
        let by_head = |x: Tensor<2, Int>| x.reshape([t, kv_heads, d]).swap_dims(0, 1);
        let ids = upload(ids.to_vec(), [t], &self.device);
        let mut r = self.embed.gather(ids);
        observe(&r);
        for (l, b) in self.blocks.iter().enumerate() {
            let h = b.attn_norm.apply(r.clone(), self.eps_term, NORM_Q);
            let q = b.q.apply(h.clone(), None, QK_Q);
            let k = b.k.apply(h.clone(), None, QK_Q);
            let v = b.v.apply(h, None, V_Q);
            let q = self.rope.apply(q, start, d, QK_Q);
            let k = by_head(self.rope.apply(k, start, d, QK_Q));
            let v = by_head(v);
            if l == cache.k.len() {
                cache.k.push(k);
                cache.v.push(v);
            } else {
                cache.k[l] = Tensor::cat(vec![cache.k[l].clone(), k], 1);
                cache.v[l] = Tensor::cat(vec![cache.v[l].clone(), v], 1);
            }
            let att = attention(
                q,
                cache.k[l].clone(),
                cache.v[l].clone(),
                (c.heads, start),
                b.qk,
                &self.exp,
                V_Q,
            );
            r = add(r, b.o.apply(att, None, RES_MAX));
            let h = b.ffn_norm.apply(r.clone(), self.eps_term, NORM_Q);
            let gate = b.gate.apply(h.clone(), None, GU_Q);
            let up = b.up.apply(h, None, GU_Q);
            let (y, e) = ops::product(b.silu.lookup(gate), up);
            r = add(r, b.down.apply(y, Some(e), RES_MAX));
            observe(&r);
        }
        cache.len += t;
        let h = self.out_norm.apply(r, self.eps_term, NORM_Q);
        let logits = self.embed.head.apply(h, None, LOGIT_MAX);
        // Every logit is clamped to ±(2^31 − 1).
        Ok(download(logits).into_iter().map(|v| v as i32).collect())
    }
}

impl LanguageModel for BurnLm {
    type Cache = BurnCache;

    fn vocab(&self) -> usize {
        self.config.vocab
    }

    fn context(&self) -> usize {
        self.context
    }

    fn new_cache(&self) -> BurnCache {
        BurnCache::default()
    }

    fn forward(&self, ids: &[u32], cache: &mut BurnCache) -> Result<Logits> {
        Ok(Logits::from_int(
            self.config.vocab,
            &self.logits(ids, cache)?,
        ))
    }

    fn residuals(&self, ids: &[u32]) -> Result<Vec<Vec<f32>>> {
        let mut res = Vec::new();
        self.run(ids, &mut BurnCache::default(), Some(&mut res))?;
        Ok(res)
    }
}
