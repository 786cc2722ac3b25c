//! A language model rebuilt from its published op trees and card: the inverse of [`super::commit`],
//! what an agent runs when all it has is an RPC endpoint. Every leaf is read field by field with its
//! length checked, the result validated as a model file is; the caller compares the rebuilt model's
//! [`ModelCommitment`](super::commit::ModelCommitment) with the registered root, which also catches a
//! spec whose parameters the rebuilt model would not reproduce.

use super::program::{BlockOp, Op, Program};
use crate::{
    card::{Card, LlmConfig},
    error::{LlmError, Result},
    gguf::BLOCK,
    int::{Block, CONTEXT, Dense, GU_Q, Gain, IntModel, rows::SILU_PER_LEAF},
};
use vouch_core::quant::Requant;

fn bad(what: impl std::fmt::Display) -> LlmError {
    LlmError::Format(format!("published model: {what}"))
}

/// One leaf's big-endian fields, read front to back, every read bounds-checked.
struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
    what: String,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8], what: String) -> Self {
        Self { bytes, at: 0, what }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| {
            bad(format_args!(
                "{}: {} bytes, more read",
                self.what,
                self.bytes.len()
            ))
        })?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        Ok(self.take(N)?.try_into().expect("took N bytes"))
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn i16s(&mut self, n: usize) -> Result<Vec<i16>> {
        Ok(self
            .take(2 * n)?
            .chunks(2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .collect())
    }

    fn i32s(&mut self, n: usize) -> Result<Vec<i32>> {
        Ok(self
            .take(4 * n)?
            .chunks(4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    fn requant(&mut self) -> Result<Requant> {
        Ok(Requant {
            multiplier: i32::from_be_bytes(self.array()?),
            shift: self.u8()?,
        })
    }

    /// Checks every byte was read.
    fn end(self) -> Result<()> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(bad(format_args!(
                "{}: {} stray bytes",
                self.what,
                self.bytes.len() - self.at
            )))
        }
    }
}

/// The published op trees of one model, read op by op.
struct Published<'a> {
    program: Program,
    ops: &'a [Vec<Vec<u8>>],
}

impl<'a> Published<'a> {
    /// Op `op`'s leaves: its spec, then `rows` rows.
    fn leaves(&self, op: Op, rows: usize) -> Result<&'a [Vec<u8>]> {
        let leaves = &self.ops[self.program.index(op)];
        if leaves.len() != 1 + rows {
            return Err(bad(format_args!(
                "{op:?}: {} leaves, its tree has {}",
                leaves.len(),
                1 + rows
            )));
        }
        Ok(leaves)
    }

    /// Op `op`'s spec past its `code u8 | o u16`.
    fn spec(&self, op: Op) -> Result<Fields<'a>> {
        let spec = self.ops[self.program.index(op)]
            .first()
            .ok_or_else(|| bad(format_args!("{op:?} has no spec")))?;
        let mut f = Fields::new(spec, format!("{op:?} spec"));
        f.take(3)?;
        Ok(f)
    }

    /// A dense's matrix from its spec (`bits u8 | rows u32 | cols u32 | bound u32 | exponent u8`) and
    /// rows ([`crate::int::rows::Packed::row`]); each embedding row starts with the gather's `(M, s)`,
    /// collected into `gathers`.
    fn dense(&self, op: Op, mut gathers: Option<&mut Vec<Requant>>) -> Result<Dense> {
        let mut spec = self.spec(op)?;
        let bits = spec.u8()?;
        let (rows, cols) = (spec.u32()? as usize, spec.u32()? as usize);
        if !matches!(bits, 4 | 8) || cols == 0 || !cols.is_multiple_of(BLOCK) {
            return Err(bad(format_args!(
                "{op:?}: {bits}-bit rows of {cols} columns"
            )));
        }
        let leaves = &self.leaves(op, rows)?[1..];
        let nb = cols / BLOCK;
        // Grown row by row: each row is read from a leaf that exists, so a spec claiming huge
        // widths fails on its first row instead of reserving memory.
        let mut w = Dense {
            rows,
            cols,
            q: Vec::new(),
            d: Vec::new(),
            n: Vec::new(),
            requant: Vec::with_capacity(rows),
        };
        for (r, leaf) in leaves.iter().enumerate() {
            let mut f = Fields::new(leaf, format!("{op:?} row {r}"));
            if let Some(g) = gathers.as_deref_mut() {
                g.push(f.requant()?);
            }
            w.requant.push(f.requant()?);
            w.d.extend(f.i16s(nb)?);
            w.n.extend(f.i16s(nb)?);
            if bits == 4 {
                for block in f.take(cols / 2)?.chunks(BLOCK / 2) {
                    w.q.extend(block.iter().map(|&b| i16::from(b & 15)));
                    w.q.extend(block.iter().map(|&b| i16::from(b >> 4)));
                }
            } else {
                w.q.extend(f.take(cols)?.iter().map(|&b| i16::from(b as i8)));
            }
            f.end()?;
        }
        Ok(w)
    }

    /// An RMSNorm's gains (`F u8 | G i32 × K`).
    fn gain(&self, op: Op, k: usize) -> Result<Gain> {
        let mut f = Fields::new(&self.leaves(op, 1)?[1], format!("{op:?} gains"));
        let gain = Gain {
            frac: f.u8()?,
            g: f.i32s(k)?,
        };
        f.end()?;
        Ok(gain)
    }

    /// The `E` term of an RMSNorm's spec (`E i64 | bound u32`).
    fn eps_term(&self, op: Op) -> Result<i64> {
        Ok(i64::from_be_bytes(self.spec(op)?.array()?))
    }

    /// The scores' requantization from SCORE's spec (`head_dim u16 | group u16 | M i32 | s u8`).
    fn score(&self, op: Op) -> Result<Requant> {
        let mut spec = self.spec(op)?;
        spec.take(4)?;
        let r = spec.requant()?;
        spec.end()?;
        Ok(r)
    }

    /// The RoPE tables: `positions` rows of `C i16 × half | S i16 × half`, zero past them (rows no
    /// position of the context reads).
    fn rope(&self, op: Op, positions: usize, half: usize) -> Result<(Vec<i16>, Vec<i16>)> {
        let (mut cos, mut sin) = (vec![0; CONTEXT * half], vec![0; CONTEXT * half]);
        for (p, leaf) in self.leaves(op, positions)?[1..].iter().enumerate() {
            let mut f = Fields::new(leaf, format!("RoPE row {p}"));
            cos[p * half..][..half].copy_from_slice(&f.i16s(half)?);
            sin[p * half..][..half].copy_from_slice(&f.i16s(half)?);
            f.end()?;
        }
        Ok((cos, sin))
    }

    /// The exp table (`i32 × T`, one row).
    fn exp(&self, op: Op) -> Result<Vec<i32>> {
        let row = &self.leaves(op, 1)?[1];
        if row.len() % 4 != 0 {
            return Err(bad(format_args!("exp row of {} bytes", row.len())));
        }
        Fields::new(row, "exp row".into()).i32s(row.len() / 4)
    }

    /// A SiLU table: `2·GU_Q + 1` i16 entries, 16 a leaf, the last leaf's unused entry zero.
    fn silu(&self, op: Op) -> Result<Vec<i16>> {
        let len = 2 * GU_Q as usize + 1;
        let mut table = Vec::with_capacity(len.next_multiple_of(SILU_PER_LEAF));
        for (j, leaf) in self.leaves(op, len.div_ceil(SILU_PER_LEAF))?[1..]
            .iter()
            .enumerate()
        {
            let mut f = Fields::new(leaf, format!("SiLU leaf {j}"));
            table.extend(f.i16s(SILU_PER_LEAF)?);
            f.end()?;
        }
        if table[len..].iter().any(|&v| v != 0) {
            return Err(bad("the SiLU table's padding is not zero"));
        }
        table.truncate(len);
        Ok(table)
    }

    fn block(&self, b: usize, k: usize) -> Result<Block> {
        let op = |i| Op::Block(b, i);
        Ok(Block {
            attn_norm: self.gain(op(BlockOp::AttnNorm), k)?,
            q: self.dense(op(BlockOp::Q), None)?,
            k: self.dense(op(BlockOp::K), None)?,
            v: self.dense(op(BlockOp::V), None)?,
            qk: self.score(op(BlockOp::Score))?,
            o: self.dense(op(BlockOp::O), None)?,
            ffn_norm: self.gain(op(BlockOp::FfnNorm), k)?,
            gate: self.dense(op(BlockOp::Gate), None)?,
            up: self.dense(op(BlockOp::Up), None)?,
            silu: self.silu(op(BlockOp::Silu))?,
            down: self.dense(op(BlockOp::Down), None)?,
        })
    }
}

/// Rebuilds the model whose card is `card`, registered with `chain`, from its op trees' leaves
/// (`ops[o]`: op `o`'s leaves in order, its spec first), validated as a model file is. The caller
/// checks its commitment against the registered root.
pub fn rebuild(card: Card, chain: &LlmConfig, ops: &[Vec<Vec<u8>>]) -> Result<IntModel> {
    card.check(chain)?;
    card.config.check()?;
    let c = card.config;
    let program = Program::new(c);
    if ops.len() != program.ops() {
        return Err(bad(format_args!(
            "{} op trees, the pass program has {}",
            ops.len(),
            program.ops()
        )));
    }
    let published = Published { program, ops };
    let mut embed_requant = Vec::with_capacity(c.vocab);
    let embed = published.dense(Op::Embed, Some(&mut embed_requant))?;
    let (rope_cos, rope_sin) =
        published.rope(Op::Block(0, BlockOp::RopeQ), chain.context, c.head_dim / 2)?;
    let model = IntModel {
        config: c,
        eps_term: published.eps_term(Op::OutNorm)?,
        embed,
        embed_requant,
        rope_cos,
        rope_sin,
        exp: published.exp(Op::Block(0, BlockOp::Softmax))?,
        blocks: (0..c.blocks)
            .map(|b| published.block(b, c.hidden))
            .collect::<Result<_>>()?,
        out_norm: published.gain(Op::OutNorm, c.hidden)?,
        tokenizer: card.tokenizer,
    };
    model.validate()?;
    Ok(model)
}
