//! One element of a trace recomputed from the slots it reads and the model (docs/LLM_INT.md §8.1's
//! "reads" column): what the one-step prover computes on chain, and the reference its tests compare
//! against.

use super::{
    LmTrace,
    commit::owner,
    program::{BlockOp, Layout, Op, Program},
};
use std::cmp::Ordering;

use crate::{
    IntModel,
    error::{LlmError, Result},
    int::{
        ARGMAX_CHUNK, GU_Q, LOGIT_MAX, NORM_Q, QK_Q, RES_MAX, V_Q,
        ops::{self, argmax_chunks, argmax_pairs},
        rows::SILU_PER_LEAF,
    },
};

/// Where an element's operands come from: the trace itself, or a one-step witness whose rows were
/// proven against the state.
pub trait Source {
    /// `len` elements of slot `s` from element `start`, within one row.
    fn read(&self, s: usize, start: usize, len: usize) -> Result<Vec<i64>>;

    /// The element reads leaf `leaf` of op `op`'s tree (its spec, or a row of parameters; the values
    /// come from the model). The trace ignores it; a witness proves it against the op's root.
    fn param(&self, _op: usize, _leaf: usize) -> Result<()> {
        Ok(())
    }
}

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
        let dtype = self.shape(s).dtype;
        dtype.get(&self.slots[s][i * dtype.width()..])
    }

    /// Overwrites element `i` of slot `s` with `v` in the slot's type, leaving every root as it was: a
    /// liar's trace, for the tests of the game. A value cache's elements are its value slots' (a liar
    /// changes those), and an element past the slot is not there: both are errors.
    pub fn tamper(&mut self, s: usize, i: usize, v: i64) -> Result<()> {
        let shape = self.shape(s);
        let cache = matches!(
            self.layout.locate(s).map(|(_, o)| self.program.op(o)),
            Some(Op::Block(_, BlockOp::Append))
        );
        if cache || s >= self.slot_count() || i >= shape.rows * shape.cols {
            return Err(LlmError::Request(format!(
                "slot {s} element {i} is not stored in the trace"
            )));
        }
        self.state = Default::default();
        let mut bytes = Vec::new();
        shape.dtype.put(v, &mut bytes);
        self.slots[s][bytes.len() * i..][..bytes.len()].copy_from_slice(&bytes);
        Ok(())
    }

    /// The true value of element `e` of slot `s ≥ 1`, from this trace's operand slots and the model
    /// ([`element`]).
    pub fn element(&self, model: &IntModel, s: usize, e: usize) -> Result<i64> {
        element(model, self.program, self.layout, self, s, e)
    }
}

impl Source for LmTrace {
    fn read(&self, s: usize, start: usize, len: usize) -> Result<Vec<i64>> {
        Ok((start..start + len).map(|i| self.value(s, i)).collect())
    }
}

/// Slot `s`'s elements as int16 (for ops whose stored values are int16).
fn i16s(src: &impl Source, s: usize, start: usize, len: usize) -> Result<Vec<i16>> {
    Ok(src
        .read(s, start, len)?
        .into_iter()
        .map(|v| v as i16)
        .collect())
}

/// Slot `s`'s elements as int32.
fn i32s(src: &impl Source, s: usize, start: usize, len: usize) -> Result<Vec<i32>> {
    Ok(src
        .read(s, start, len)?
        .into_iter()
        .map(|v| v as i32)
        .collect())
}

/// One element.
fn one(src: &impl Source, s: usize, i: usize) -> Result<i64> {
    Ok(src.read(s, i, 1)?[0])
}

/// The true value of element `e` of slot `s ≥ 1` of a trace laid out by `layout`: recomputed from the
/// slots its op reads (from `src`) and the model, never from the slot itself. Slot 0, the job's input, is given, not computed.
pub fn element(
    model: &IntModel,
    program: Program,
    layout: Layout,
    src: &impl Source,
    s: usize,
    e: usize,
) -> Result<i64> {
    let shape = program.slot_shape(layout, s);
    if s == 0 || s > layout.output_slot() || e >= shape.rows * shape.cols {
        return Err(LlmError::Request(format!(
            "slot {s} has no computed element {e}"
        )));
    }
    let Some((p, o)) = layout.locate(s) else {
        // The output: element i is the token of pass P − 1 + i.
        let argmax = program.index(Op::Argmax2);
        return one(src, layout.slot(layout.prompt - 1 + e, argmax), 0);
    };
    let c = model.config;
    let (k, d, ffn) = (c.hidden, c.head_dim, c.ffn);
    let op = program.op(o);
    // Every element opens its op's spec; the rows it reads are opened where they are used.
    src.param(o, 0)?;
    let rows = |r: usize| src.param(owner(program, op).unwrap_or(o), r);
    let at = |op| layout.slot(p, program.index(op));
    // The residual a block reads: the embedding, or the previous block's output.
    let residual_in = |b: usize| match b {
        0 => at(Op::Embed),
        b => at(Op::Block(b - 1, BlockOp::FfnAdd)),
    };
    let norm = |r: usize, gain| -> Result<i64> {
        rows(1)?;
        let mut y = vec![0i16; k];
        ops::rmsnorm(&i32s(src, r, 0, k)?, gain, model.eps_term, NORM_Q, &mut y);
        Ok(i64::from(y[e]))
    };
    let dense = |x: usize, cols, exp, w, bound| -> Result<i64> {
        rows(1 + e)?;
        Ok(i64::from(ops::dense_element(
            &i16s(src, x, 0, cols)?,
            exp,
            w,
            e,
            bound,
        )))
    };
    Ok(match op {
        Op::Embed => {
            let token = if p < layout.prompt {
                one(src, 0, 1 + p)?
            } else {
                one(src, layout.slot(p - 1, program.index(Op::Argmax2)), 0)?
            };
            rows(1 + token as usize)?;
            let mut row = vec![0i32; k];
            ops::embed(&model.embed, &model.embed_requant, token as usize, &mut row);
            i64::from(row[e])
        }
        Op::Block(b, op) => {
            let blk = &model.blocks[b];
            let here = |i| at(Op::Block(b, i));
            match op {
                BlockOp::AttnNorm => norm(residual_in(b), &blk.attn_norm)?,
                BlockOp::Q => dense(here(BlockOp::AttnNorm), k, 0, &blk.q, QK_Q)?,
                BlockOp::K => dense(here(BlockOp::AttnNorm), k, 0, &blk.k, QK_Q)?,
                BlockOp::V => dense(here(BlockOp::AttnNorm), k, 0, &blk.v, V_Q)?,
                BlockOp::RopeQ | BlockOp::RopeK => {
                    let from = if op == BlockOp::RopeQ {
                        BlockOp::Q
                    } else {
                        BlockOp::K
                    };
                    let (pair, half) = (e % d / 2, d / 2);
                    let mut two = i16s(src, here(from), e / 2 * 2, 2)?;
                    rows(1 + p)?;
                    let table = p * half + pair;
                    let (cos, sin) = (&model.rope_cos[table..][..1], &model.rope_sin[table..][..1]);
                    ops::rope(&mut two, cos, sin, QK_Q);
                    i64::from(two[e % 2])
                }
                BlockOp::Append => {
                    let (r, j) = (e / layout.positions(), e % layout.positions());
                    match j.cmp(&p) {
                        Ordering::Less => one(src, layout.slot(p - 1, o), e)?,
                        Ordering::Equal => one(src, here(BlockOp::V), r)?,
                        Ordering::Greater => 0,
                    }
                }
                BlockOp::Score => {
                    let (h, j) = (e / (p + 1), e % (p + 1));
                    let q = i16s(src, here(BlockOp::RopeQ), h * d, d)?;
                    let key = layout.slot(j, program.index(Op::Block(b, BlockOp::RopeK)));
                    let kk = i16s(src, key, h / c.group() * d, d)?;
                    i64::from(ops::score(&q, &kk, blk.qk))
                }
                BlockOp::Softmax => {
                    let (h, j) = (e / (p + 1), e % (p + 1));
                    let scores = i32s(src, here(BlockOp::Score), h * (p + 1), p + 1)?;
                    rows(1)?;
                    let mut probs = vec![0u16; p + 1];
                    ops::softmax(&scores, &model.exp, &mut probs);
                    i64::from(probs[j])
                }
                BlockOp::Pv => {
                    let (h, dd) = (e / d, e % d);
                    let probs: Vec<u16> = src
                        .read(here(BlockOp::Softmax), h * (p + 1), p + 1)?
                        .into_iter()
                        .map(|v| v as u16)
                        .collect();
                    let n = layout.positions();
                    let row = (h / c.group() * d + dd) * n;
                    let v = i16s(src, here(BlockOp::Append), row, p + 1)?;
                    i64::from(ops::pv(&probs, v.into_iter(), V_Q))
                }
                BlockOp::O => dense(here(BlockOp::Pv), k, 0, &blk.o, RES_MAX)?,
                BlockOp::AttnAdd | BlockOp::FfnAdd => {
                    let (a, delta) = match op {
                        BlockOp::AttnAdd => (residual_in(b), here(BlockOp::O)),
                        _ => (here(BlockOp::AttnAdd), here(BlockOp::Down)),
                    };
                    let mut r = [one(src, a, e)? as i32];
                    ops::add(&mut r, &[one(src, delta, e)? as i32]);
                    i64::from(r[0])
                }
                BlockOp::FfnNorm => norm(here(BlockOp::AttnAdd), &blk.ffn_norm)?,
                BlockOp::Gate => dense(here(BlockOp::FfnNorm), k, 0, &blk.gate, GU_Q)?,
                BlockOp::Up => dense(here(BlockOp::FfnNorm), k, 0, &blk.up, GU_Q)?,
                BlockOp::Silu => {
                    let gate = i32s(src, here(BlockOp::Gate), e, 1)?;
                    rows(1 + (i64::from(gate[0]) + GU_Q) as usize / SILU_PER_LEAF)?;
                    i64::from(ops::lookup(&gate, &blk.silu, GU_Q)[0])
                }
                BlockOp::Product => {
                    let a = i16s(src, here(BlockOp::Silu), 0, ffn)?;
                    let u = i32s(src, here(BlockOp::Up), 0, ffn)?;
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
                    let exp = one(src, y, ffn)? as u8;
                    dense(y, ffn, exp, &blk.down, RES_MAX)?
                }
            }
        }
        Op::OutNorm => norm(
            at(Op::Block(c.blocks - 1, BlockOp::FfnAdd)),
            &model.out_norm,
        )?,
        Op::Head => dense(at(Op::OutNorm), k, 0, &model.embed, LOGIT_MAX)?,
        Op::Argmax1 => {
            // Chunk `e / 2` of the logits only (a whole row would not fit a step).
            let first = e / 2 * ARGMAX_CHUNK;
            let len = ARGMAX_CHUNK.min(c.vocab - first);
            let (v, i) = argmax_chunks(&i32s(src, at(Op::Head), first, len)?)[0];
            i64::from(if e.is_multiple_of(2) {
                v
            } else {
                first as i32 + i
            })
        }
        Op::Argmax2 => {
            // One read per chunk: the pairs are the rows of ARGMAX1's `[C][2]`.
            let pairs = (0..program.chunks())
                .map(|c| i32s(src, at(Op::Argmax1), 2 * c, 2).map(|p| (p[0], p[1])))
                .collect::<Result<Vec<_>>>()?;
            argmax_pairs(&pairs) as i64
        }
    })
}
