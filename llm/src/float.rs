//! The model in plain float32: the calibration source of the import, the accuracy reference of
//! `vouch model eval`, and the float baseline of the benchmark (the same weights, dequantized).

use crate::{
    config::LlamaConfig,
    error::Result,
    gguf::Gguf,
    lm::{LanguageModel, Logits},
};
use rayon::prelude::*;

/// A dense weight matrix, `rows` × `cols`, row-major.
pub struct Matrix {
    rows: usize,
    cols: usize,
    w: Vec<f32>,
}

impl Matrix {
    fn load(g: &Gguf, name: &str, rows: usize, cols: usize) -> Result<Self> {
        let t = g.tensor(name)?;
        crate::lm::expect_shape(&t.name, (t.rows, t.cols), (rows, cols))?;
        Ok(Self {
            rows,
            cols,
            w: t.to_f32(),
        })
    }

    /// `x · Wᵀ` for `x` of `t` rows: `[t × rows]`.
    fn apply(&self, x: &[f32]) -> Vec<f32> {
        let t = x.len() / self.cols;
        let per_row: Vec<Vec<f32>> = self
            .w
            .par_chunks(self.cols)
            .map(|w| x.chunks(self.cols).map(|xr| dot(xr, w)).collect())
            .collect();
        let mut out = vec![0f32; t * self.rows];
        for (n, col) in per_row.iter().enumerate() {
            for (i, v) in col.iter().enumerate() {
                out[i * self.rows + n] = *v;
            }
        }
        out
    }
}

/// A dot product with eight independent sums (vectorizes; the order is fixed, so results repeat).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

struct Block {
    attn_norm: Vec<f32>,
    q: Matrix,
    k: Matrix,
    v: Matrix,
    o: Matrix,
    ffn_norm: Vec<f32>,
    gate: Matrix,
    up: Matrix,
    down: Matrix,
}

/// The dequantized model.
pub struct FloatModel {
    /// Its hyper-parameters.
    pub config: LlamaConfig,
    embd: Matrix,
    out_norm: Vec<f32>,
    blocks: Vec<Block>,
}

/// Keys and values of the tokens seen so far, per block: `[len × kv_width]`.
#[derive(Default)]
pub struct FloatCache {
    k: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    len: usize,
}

/// The largest magnitude each quantized activation reached on the calibration text, per block
/// (one number per tensor: the integer model's activation scales are per tensor).
#[derive(Debug, Clone, Default)]
pub struct Calibration {
    /// Attention RMSNorm output.
    pub attn_norm: Vec<f32>,
    /// Queries, before and after RoPE.
    pub q: Vec<f32>,
    /// Keys, before and after RoPE.
    pub k: Vec<f32>,
    /// Values.
    pub v: Vec<f32>,
    /// Feed-forward RMSNorm output.
    pub ffn_norm: Vec<f32>,
    /// Gate projection.
    pub gate: Vec<f32>,
    /// Up projection.
    pub up: Vec<f32>,
    /// Final RMSNorm output.
    pub out_norm: f32,
}

impl Calibration {
    fn sized(blocks: usize) -> Self {
        let z = vec![0f32; blocks];
        Self {
            attn_norm: z.clone(),
            q: z.clone(),
            k: z.clone(),
            v: z.clone(),
            ffn_norm: z.clone(),
            gate: z.clone(),
            up: z,
            out_norm: 0.0,
        }
    }

    /// Widens every maximum to cover `other`'s too.
    fn cover(&mut self, other: &Self) {
        for (mine, theirs) in [
            (&mut self.attn_norm, &other.attn_norm),
            (&mut self.q, &other.q),
            (&mut self.k, &other.k),
            (&mut self.v, &other.v),
            (&mut self.ffn_norm, &other.ffn_norm),
            (&mut self.gate, &other.gate),
            (&mut self.up, &other.up),
        ] {
            mine.iter_mut()
                .zip(theirs)
                .for_each(|(a, &b)| *a = a.max(b));
        }
        self.out_norm = self.out_norm.max(other.out_norm);
    }
}

fn absmax(x: &[f32]) -> f32 {
    x.iter().fold(0f32, |a, v| a.max(v.abs()))
}

fn note(slot: &mut f32, x: &[f32]) {
    *slot = slot.max(absmax(x));
}

impl FloatModel {
    /// Dequantizes every weight of a llama GGUF.
    pub fn load(g: &Gguf, config: LlamaConfig) -> Result<Self> {
        let c = config;
        let vector = |name: &str, len: usize| -> Result<Vec<f32>> {
            let t = g.tensor(name)?;
            crate::lm::expect_shape(&t.name, (t.rows, t.cols), (1, len))?;
            Ok(t.to_f32())
        };
        let blocks = (0..c.blocks)
            .map(|b| {
                let m = |n: &str, r, k| Matrix::load(g, &format!("blk.{b}.{n}.weight"), r, k);
                Ok(Block {
                    attn_norm: vector(&format!("blk.{b}.attn_norm.weight"), c.hidden)?,
                    q: m("attn_q", c.hidden, c.hidden)?,
                    k: m("attn_k", c.kv_width(), c.hidden)?,
                    v: m("attn_v", c.kv_width(), c.hidden)?,
                    o: m("attn_output", c.hidden, c.hidden)?,
                    ffn_norm: vector(&format!("blk.{b}.ffn_norm.weight"), c.hidden)?,
                    gate: m("ffn_gate", c.ffn, c.hidden)?,
                    up: m("ffn_up", c.ffn, c.hidden)?,
                    down: m("ffn_down", c.hidden, c.ffn)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            config,
            embd: Matrix::load(g, "token_embd.weight", c.vocab, c.hidden)?,
            out_norm: vector("output_norm.weight", c.hidden)?,
            blocks,
        })
    }

    /// Bytes the model's weights occupy in memory.
    pub fn weight_bytes(&self) -> usize {
        let blocks: usize = self
            .blocks
            .iter()
            .map(|b| {
                [&b.q, &b.k, &b.v, &b.o, &b.gate, &b.up, &b.down]
                    .iter()
                    .map(|m| m.w.len())
                    .sum::<usize>()
                    + b.attn_norm.len()
                    + b.ffn_norm.len()
            })
            .sum();
        4 * (blocks + self.embd.w.len() + self.out_norm.len())
    }

    fn rms(&self, x: &[f32], g: &[f32]) -> Vec<f32> {
        let k = g.len();
        x.chunks(k)
            .flat_map(|row| {
                let ms = row.iter().map(|v| v * v).sum::<f32>() / k as f32;
                let inv = 1.0 / (ms + self.config.eps).sqrt();
                row.iter().zip(g).map(move |(v, w)| v * inv * w)
            })
            .collect()
    }

    fn rope(&self, x: &mut [f32], width: usize, start: usize) {
        let d = self.config.head_dim;
        let thetas: Vec<f64> = (0..d / 2).map(|i| self.config.rope_theta(i)).collect();
        for (t, row) in x.chunks_mut(width).enumerate() {
            let p = (start + t) as f64;
            let turns: Vec<(f32, f32)> = thetas
                .iter()
                .map(|theta| {
                    let (s, c) = (p * theta).sin_cos();
                    (s as f32, c as f32)
                })
                .collect();
            for head in row.chunks_mut(d) {
                for (i, &(s, c)) in turns.iter().enumerate() {
                    let (a, b) = (head[2 * i], head[2 * i + 1]);
                    head[2 * i] = a * c - b * s;
                    head[2 * i + 1] = a * s + b * c;
                }
            }
        }
    }

    /// Logits of every position of `ids` after `cache`, recording calibration maxima and the
    /// residual stream after the embedding and after each block if asked.
    pub fn forward_calibrated(
        &self,
        ids: &[u32],
        cache: &mut FloatCache,
        mut cal: Option<&mut Calibration>,
        mut residuals: Option<&mut Vec<Vec<f32>>>,
    ) -> Result<Vec<f32>> {
        let c = self.config;
        crate::lm::check_ids(ids, c.vocab)?;
        let t = ids.len();
        let start = cache.len;
        if cache.k.is_empty() {
            cache.k = vec![Vec::new(); c.blocks];
            cache.v = vec![Vec::new(); c.blocks];
        }
        let mut x: Vec<f32> = ids
            .iter()
            .flat_map(|&id| {
                self.embd.w[id as usize * c.hidden..][..c.hidden]
                    .iter()
                    .copied()
            })
            .collect();
        let (d, kvw) = (c.head_dim, c.kv_width());
        let scale = 1.0 / (d as f32).sqrt();
        if let Some(res) = residuals.as_deref_mut() {
            res.push(x.clone());
        }
        for (l, b) in self.blocks.iter().enumerate() {
            let h = self.rms(&x, &b.attn_norm);
            let mut q = b.q.apply(&h);
            let mut k = b.k.apply(&h);
            let v = b.v.apply(&h);
            if let Some(cal) = cal.as_deref_mut() {
                note(&mut cal.attn_norm[l], &h);
                note(&mut cal.q[l], &q);
                note(&mut cal.k[l], &k);
                note(&mut cal.v[l], &v);
            }
            self.rope(&mut q, c.hidden, start);
            self.rope(&mut k, kvw, start);
            if let Some(cal) = cal.as_deref_mut() {
                note(&mut cal.q[l], &q);
                note(&mut cal.k[l], &k);
            }
            cache.k[l].extend_from_slice(&k);
            cache.v[l].extend_from_slice(&v);
            let (keys, values) = (&cache.k[l], &cache.v[l]);
            let mut att = vec![0f32; t * c.hidden];
            att.par_chunks_mut(c.hidden)
                .enumerate()
                .for_each(|(i, out)| {
                    let pos = start + i;
                    for hd in 0..c.heads {
                        let kv = hd / c.group();
                        let qr = &q[i * c.hidden + hd * d..][..d];
                        let mut s: Vec<f32> = (0..=pos)
                            .map(|j| dot(qr, &keys[j * kvw + kv * d..][..d]) * scale)
                            .collect();
                        let m = s.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
                        s.iter_mut().for_each(|v| *v = (*v - m).exp());
                        let z: f32 = s.iter().sum();
                        let o = &mut out[hd * d..][..d];
                        for (j, p) in s.iter().enumerate() {
                            let vr = &values[j * kvw + kv * d..][..d];
                            o.iter_mut().zip(vr).for_each(|(a, v)| *a += p / z * v);
                        }
                    }
                });
            x.iter_mut().zip(b.o.apply(&att)).for_each(|(a, v)| *a += v);
            let h = self.rms(&x, &b.ffn_norm);
            let gate = b.gate.apply(&h);
            let up = b.up.apply(&h);
            if let Some(cal) = cal.as_deref_mut() {
                note(&mut cal.ffn_norm[l], &h);
                note(&mut cal.gate[l], &gate);
                note(&mut cal.up[l], &up);
            }
            let act: Vec<f32> = gate
                .iter()
                .zip(&up)
                .map(|(g, u)| g / (1.0 + (-g).exp()) * u)
                .collect();
            x.iter_mut()
                .zip(b.down.apply(&act))
                .for_each(|(a, v)| *a += v);
            if let Some(res) = residuals.as_deref_mut() {
                res.push(x.clone());
            }
        }
        cache.len += t;
        let h = self.rms(&x, &self.out_norm);
        if let Some(cal) = cal {
            note(&mut cal.out_norm, &h);
        }
        Ok(self.embd.apply(&h))
    }

    /// Runs each sequence from an empty cache and returns the activation maxima over all of them.
    pub fn calibrate(&self, sequences: &[Vec<u32>]) -> Result<Calibration> {
        let mut all = Calibration::sized(self.config.blocks);
        for ids in sequences {
            let mut cal = Calibration::sized(self.config.blocks);
            self.forward_calibrated(ids, &mut FloatCache::default(), Some(&mut cal), None)?;
            all.cover(&cal);
        }
        Ok(all)
    }
}

impl LanguageModel for FloatModel {
    type Cache = FloatCache;

    fn vocab(&self) -> usize {
        self.config.vocab
    }

    fn context(&self) -> usize {
        self.config.context
    }

    fn new_cache(&self) -> FloatCache {
        FloatCache::default()
    }

    fn residuals(&self, ids: &[u32]) -> Result<Vec<Vec<f32>>> {
        let mut res = Vec::new();
        self.forward_calibrated(ids, &mut FloatCache::default(), None, Some(&mut res))?;
        Ok(res)
    }

    fn forward(&self, ids: &[u32], cache: &mut FloatCache) -> Result<Logits> {
        let values = self.forward_calibrated(ids, cache, None, None)?;
        let argmax = values
            .chunks(self.config.vocab)
            .map(|row| {
                let mut best = 0;
                for (i, v) in row.iter().enumerate() {
                    if *v > row[best] {
                        best = i;
                    }
                }
                best as u32
            })
            .collect();
        Ok(Logits {
            vocab: self.config.vocab,
            values,
            argmax,
        })
    }
}
