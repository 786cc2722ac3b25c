//! One element of a trace recomputed from the slots it reads and the model (docs/LLM_INT.md §8.1's
//! "reads" column): what the one-step prover computes on chain, and the reference its tests compare
//! against.

use super::{
    LmTrace,
    program::{BlockOp, Dtype, Op},
};
use std::cmp::Ordering;

use crate::{
    IntModel,
    error::{LlmError, Result},
    int::{
        GU_Q, LOGIT_MAX, NORM_Q, QK_Q, RES_MAX, V_Q,
        ops::{self, argmax_chunks, argmax_pairs},
    },
};

impl LmTrace {
    /// Element `i` of slot `s` as stored (a value cache's from the value slot that wrote it).
    pub fn value(&self, s: usize, i: usize) -> i64 {
        if let Some((p, o)) = self.layout.locate(s)
            && let Op::Block(b, BlockOp::Append) = self.program.op(o)
        {
            let n = self.layout.positions();
            let (r, j) = (i / n, i % n);
            let v = self.program.index(Op::Block(b, BlockOp::V));
            return if j <= p {
                self.value(self.layout.slot(j, v), r)
            } else {
                0
            };
        }
        let bytes = &self.slots[s];
        match self.shape(s).dtype {
            Dtype::I16 => i64::from(i16::from_be_bytes([bytes[2 * i], bytes[2 * i + 1]])),
            Dtype::U16 => i64::from(u16::from_be_bytes([bytes[2 * i], bytes[2 * i + 1]])),
            Dtype::I32 => {
                let b: [u8; 4] = bytes[4 * i..][..4].try_into().expect("four bytes");
                i64::from(i32::from_be_bytes(b))
            }
        }
    }

    /// Overwrites element `i` of slot `s` (not a value cache's) with `v` in the slot's type, leaving
    /// every root as it was: a liar's trace, for the tests of the game.
    pub fn tamper(&mut self, s: usize, i: usize, v: i64) {
        let width = self.shape(s).dtype.width();
        let bytes = &mut self.slots[s][width * i..][..width];
        bytes.copy_from_slice(&v.to_be_bytes()[8 - width..]);
    }

    /// `len` elements of slot `s` from element `start`.
    fn values(&self, s: usize, start: usize, len: usize) -> Vec<i64> {
        (start..start + len).map(|i| self.value(s, i)).collect()
    }

    /// Slot `s`'s elements as int16 (for ops whose stored values are int16).
    fn i16s(&self, s: usize, start: usize, len: usize) -> Vec<i16> {
        self.values(s, start, len)
            .into_iter()
            .map(|v| v as i16)
            .collect()
    }

    /// Slot `s`'s elements as int32.
    fn i32s(&self, s: usize, start: usize, len: usize) -> Vec<i32> {
        self.values(s, start, len)
            .into_iter()
            .map(|v| v as i32)
            .collect()
    }

    /// The true value of element `e` of slot `s ≥ 1`: recomputed from the slots its op reads and
    /// the model, never from the slot itself. Slot 0, the job's input, is given, not computed.
    pub fn element(&self, model: &IntModel, s: usize, e: usize) -> Result<i64> {
        let shape = self.shape(s);
        if s == 0 || e >= shape.rows * shape.cols {
            return Err(LlmError::Request(format!(
                "slot {s} has no computed element {e}"
            )));
        }
        let layout = self.layout;
        let Some((p, o)) = layout.locate(s) else {
            // The output: element i is the token of pass P − 1 + i.
            let argmax = self.program.index(Op::Argmax2);
            return Ok(self.value(layout.slot(layout.prompt - 1 + e, argmax), 0));
        };
        let c = model.config;
        let (k, d, ffn) = (c.hidden, c.head_dim, c.ffn);
        let at = |op| layout.slot(p, self.program.index(op));
        // The residual a block reads: the embedding, or the previous block's output.
        let residual_in = |b: usize| match b {
            0 => at(Op::Embed),
            b => at(Op::Block(b - 1, BlockOp::FfnAdd)),
        };
        let norm = |r: usize, gain| {
            let mut y = vec![0i16; k];
            ops::rmsnorm(&self.i32s(r, 0, k), gain, model.eps_term, NORM_Q, &mut y);
            i64::from(y[e])
        };
        let dense = |x: usize, cols, exp, w, bound| {
            i64::from(ops::dense_element(&self.i16s(x, 0, cols), exp, w, e, bound))
        };
        Ok(match self.program.op(o) {
            Op::Embed => {
                let token = if p < layout.prompt {
                    self.value(0, 1 + p)
                } else {
                    self.value(layout.slot(p - 1, self.program.index(Op::Argmax2)), 0)
                };
                let mut row = vec![0i32; k];
                ops::embed(&model.embed, &model.embed_requant, token as usize, &mut row);
                i64::from(row[e])
            }
            Op::Block(b, op) => {
                let blk = &model.blocks[b];
                let here = |i| at(Op::Block(b, i));
                match op {
                    BlockOp::AttnNorm => norm(residual_in(b), &blk.attn_norm),
                    BlockOp::Q => dense(here(BlockOp::AttnNorm), k, 0, &blk.q, QK_Q),
                    BlockOp::K => dense(here(BlockOp::AttnNorm), k, 0, &blk.k, QK_Q),
                    BlockOp::V => dense(here(BlockOp::AttnNorm), k, 0, &blk.v, V_Q),
                    BlockOp::RopeQ | BlockOp::RopeK => {
                        let from = if op == BlockOp::RopeQ {
                            BlockOp::Q
                        } else {
                            BlockOp::K
                        };
                        let (pair, half) = (e % d / 2, d / 2);
                        let mut two = self.i16s(here(from), e / 2 * 2, 2);
                        let table = p * half + pair;
                        let (cos, sin) =
                            (&model.rope_cos[table..][..1], &model.rope_sin[table..][..1]);
                        ops::rope(&mut two, cos, sin, QK_Q);
                        i64::from(two[e % 2])
                    }
                    BlockOp::Append => {
                        let (r, j) = (e / layout.positions(), e % layout.positions());
                        match j.cmp(&p) {
                            Ordering::Less => self.value(layout.slot(p - 1, o), e),
                            Ordering::Equal => self.value(here(BlockOp::V), r),
                            Ordering::Greater => 0,
                        }
                    }
                    BlockOp::Score => {
                        let (h, j) = (e / (p + 1), e % (p + 1));
                        let q = self.i16s(here(BlockOp::RopeQ), h * d, d);
                        let key = layout.slot(j, self.program.index(Op::Block(b, BlockOp::RopeK)));
                        let kk = self.i16s(key, h / c.group() * d, d);
                        i64::from(ops::score(&q, &kk, blk.qk))
                    }
                    BlockOp::Softmax => {
                        let (h, j) = (e / (p + 1), e % (p + 1));
                        let scores = self.i32s(here(BlockOp::Score), h * (p + 1), p + 1);
                        let mut probs = vec![0u16; p + 1];
                        ops::softmax(&scores, &model.exp, &mut probs);
                        i64::from(probs[j])
                    }
                    BlockOp::Pv => {
                        let (h, dd) = (e / d, e % d);
                        let probs: Vec<u16> = self
                            .values(here(BlockOp::Softmax), h * (p + 1), p + 1)
                            .into_iter()
                            .map(|v| v as u16)
                            .collect();
                        let n = layout.positions();
                        let row = (h / c.group() * d + dd) * n;
                        let v = self.i16s(here(BlockOp::Append), row, p + 1);
                        i64::from(ops::pv(&probs, v.into_iter(), V_Q))
                    }
                    BlockOp::O => dense(here(BlockOp::Pv), k, 0, &blk.o, RES_MAX),
                    BlockOp::AttnAdd | BlockOp::FfnAdd => {
                        let (a, delta) = match op {
                            BlockOp::AttnAdd => (residual_in(b), here(BlockOp::O)),
                            _ => (here(BlockOp::AttnAdd), here(BlockOp::Down)),
                        };
                        let mut r = [self.value(a, e) as i32];
                        ops::add(&mut r, &[self.value(delta, e) as i32]);
                        i64::from(r[0])
                    }
                    BlockOp::FfnNorm => norm(here(BlockOp::AttnAdd), &blk.ffn_norm),
                    BlockOp::Gate => dense(here(BlockOp::FfnNorm), k, 0, &blk.gate, GU_Q),
                    BlockOp::Up => dense(here(BlockOp::FfnNorm), k, 0, &blk.up, GU_Q),
                    BlockOp::Silu => {
                        let gate = self.i32s(here(BlockOp::Gate), e, 1);
                        i64::from(ops::lookup(&gate, &blk.silu, GU_Q)[0])
                    }
                    BlockOp::Product => {
                        let a = self.i16s(here(BlockOp::Silu), 0, ffn);
                        let u = self.i32s(here(BlockOp::Up), 0, ffn);
                        let mut y = vec![0i16; ffn];
                        let exp = ops::product(&a, &u, &mut y);
                        if e == ffn {
                            i64::from(exp)
                        } else {
                            i64::from(y[e])
                        }
                    }
                    BlockOp::Down => {
                        let y = here(BlockOp::Product);
                        let exp = self.value(y, ffn) as u8;
                        dense(y, ffn, exp, &blk.down, RES_MAX)
                    }
                }
            }
            Op::OutNorm => norm(
                at(Op::Block(c.blocks - 1, BlockOp::FfnAdd)),
                &model.out_norm,
            ),
            Op::Head => dense(at(Op::OutNorm), k, 0, &model.embed, LOGIT_MAX),
            Op::Argmax1 => {
                let logits = self.i32s(at(Op::Head), 0, c.vocab);
                let (v, i) = argmax_chunks(&logits)[e / 2];
                i64::from(if e.is_multiple_of(2) { v } else { i })
            }
            Op::Argmax2 => {
                let chunks = self.program.chunks();
                let flat = self.i32s(at(Op::Argmax1), 0, 2 * chunks);
                let pairs: Vec<(i32, i32)> = flat.chunks(2).map(|c| (c[0], c[1])).collect();
                argmax_pairs(&pairs) as i64
            }
        })
    }
}
