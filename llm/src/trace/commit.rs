//! The model as the game commits to it (docs/LLM_INT.md §9.1): one op tree per op of the pass
//! program — leaf 0 its spec, then the rows its elements read, in the encodings of §8.2 — and the
//! model root over the op roots. Tables shared by many ops live in one op's tree (the embedding in
//! EMBED's, read by HEAD; RoPE in block 0's ROPE q; EXP in block 0's SOFTMAX) and the others' specs
//! name that op.

use super::program::{BlockOp, Op, Program};
use crate::{
    IntModel,
    card::{Card, LlmConfig, card_hash},
    int::{
        ARGMAX_CHUNK, GU_Q, LOGIT_MAX, NORM_Q, QK_Q, RES_MAX, V_Q,
        rows::{Packed, SILU_PER_LEAF, bits, exp_row, gain_row, rope_row, silu_leaf},
    },
    lm::LanguageModel,
};
use alloy_primitives::{B256, Keccak256};
use rayon::prelude::*;
use std::ops::Range;
use vouch_core::merkle::{MerkleTree, Tag, leaf_hash, merkle_root};

/// The op codes of the spec leaves.
pub mod code {
    /// EMBED.
    pub const EMBED: u8 = 0x10;
    /// RMSNorm.
    pub const NORM: u8 = 0x11;
    /// A block-quantized dense.
    pub const DENSE: u8 = 0x12;
    /// RoPE.
    pub const ROPE: u8 = 0x13;
    /// The value cache's append.
    pub const APPEND: u8 = 0x14;
    /// Attention scores.
    pub const SCORE: u8 = 0x15;
    /// Softmax.
    pub const SOFTMAX: u8 = 0x16;
    /// Probabilities times values.
    pub const PV: u8 = 0x17;
    /// Residual add.
    pub const ADD: u8 = 0x18;
    /// SiLU by table.
    pub const LOOKUP: u8 = 0x19;
    /// SwiGLU product.
    pub const PRODUCT: u8 = 0x1a;
    /// The logits.
    pub const HEAD: u8 = 0x1b;
    /// Argmax per chunk.
    pub const ARGMAX1: u8 = 0x1c;
    /// Argmax over the chunks.
    pub const ARGMAX2: u8 = 0x1d;
}

/// The op holding the rows `op` reads, when another op's tree holds them.
pub fn owner(program: Program, op: Op) -> Option<usize> {
    match op {
        Op::Head => Some(program.index(Op::Embed)),
        Op::Block(_, BlockOp::RopeQ | BlockOp::RopeK) => {
            Some(program.index(Op::Block(0, BlockOp::RopeQ)))
        }
        Op::Block(_, BlockOp::Softmax) => Some(program.index(Op::Block(0, BlockOp::Softmax))),
        _ => None,
    }
    .filter(|&o| o != program.index(op))
}

/// The spec leaf of op `o`: `code u8 | o u16 |` its parameters, big-endian.
pub fn spec(model: &IntModel, program: Program, o: usize) -> Vec<u8> {
    let op = program.op(o);
    let c = model.config;
    let mut out = Vec::new();
    let u16 = |v: usize, out: &mut Vec<u8>| out.extend((v as u16).to_be_bytes());
    let u32 = |v: i64, out: &mut Vec<u8>| out.extend((v as u32).to_be_bytes());
    let owner_of = |out: &mut Vec<u8>| u16(owner(program, op).unwrap_or(o), out);
    let dense = |w: &crate::int::Dense, bound: i64, exponent: bool, out: &mut Vec<u8>| {
        out.push(bits(w));
        u32(w.rows as i64, out);
        u32(w.cols as i64, out);
        u32(bound, out);
        out.push(u8::from(exponent));
    };
    let push_code = |code: u8, out: &mut Vec<u8>| {
        out.push(code);
        u16(o, out);
    };
    match op {
        Op::Embed => {
            push_code(code::EMBED, &mut out);
            dense(&model.embed, RES_MAX, false, &mut out);
        }
        Op::OutNorm => {
            push_code(code::NORM, &mut out);
            out.extend(model.eps_term.to_be_bytes());
            u32(NORM_Q, &mut out);
        }
        Op::Head => {
            push_code(code::HEAD, &mut out);
            owner_of(&mut out);
            dense(&model.embed, LOGIT_MAX, false, &mut out);
        }
        Op::Argmax1 => {
            push_code(code::ARGMAX1, &mut out);
            u32(ARGMAX_CHUNK as i64, &mut out);
        }
        Op::Argmax2 => push_code(code::ARGMAX2, &mut out),
        Op::Block(b, i) => {
            let blk = &model.blocks[b];
            match i {
                BlockOp::AttnNorm | BlockOp::FfnNorm => {
                    push_code(code::NORM, &mut out);
                    out.extend(model.eps_term.to_be_bytes());
                    u32(NORM_Q, &mut out);
                }
                BlockOp::Q | BlockOp::K | BlockOp::V | BlockOp::O => {
                    push_code(code::DENSE, &mut out);
                    let (w, bound) = match i {
                        BlockOp::Q => (&blk.q, QK_Q),
                        BlockOp::K => (&blk.k, QK_Q),
                        BlockOp::V => (&blk.v, V_Q),
                        _ => (&blk.o, RES_MAX),
                    };
                    dense(w, bound, false, &mut out);
                }
                BlockOp::Gate | BlockOp::Up | BlockOp::Down => {
                    push_code(code::DENSE, &mut out);
                    let (w, bound) = match i {
                        BlockOp::Gate => (&blk.gate, GU_Q),
                        BlockOp::Up => (&blk.up, GU_Q),
                        _ => (&blk.down, RES_MAX),
                    };
                    dense(w, bound, i == BlockOp::Down, &mut out);
                }
                BlockOp::RopeQ | BlockOp::RopeK => {
                    push_code(code::ROPE, &mut out);
                    owner_of(&mut out);
                    u16(c.head_dim / 2, &mut out);
                    u32(QK_Q, &mut out);
                }
                BlockOp::Append => push_code(code::APPEND, &mut out),
                BlockOp::Score => {
                    push_code(code::SCORE, &mut out);
                    u16(c.head_dim, &mut out);
                    u16(c.group(), &mut out);
                    out.extend(blk.qk.multiplier.to_be_bytes());
                    out.push(blk.qk.shift);
                }
                BlockOp::Softmax => {
                    push_code(code::SOFTMAX, &mut out);
                    owner_of(&mut out);
                }
                BlockOp::Pv => {
                    push_code(code::PV, &mut out);
                    u32(V_Q, &mut out);
                }
                BlockOp::AttnAdd | BlockOp::FfnAdd => {
                    push_code(code::ADD, &mut out);
                    u32(RES_MAX, &mut out);
                }
                BlockOp::Silu => {
                    push_code(code::LOOKUP, &mut out);
                    u32(GU_Q, &mut out);
                }
                BlockOp::Product => {
                    push_code(code::PRODUCT, &mut out);
                    u32(crate::int::P_Q, &mut out);
                }
            }
        }
    }
    out
}

/// Leaves of op `o`'s tree in a model of `program`'s shape running `context` positions: 1 + its
/// rows (`LlmStepProver._leafCount`). Read from the shape alone, so a reader can bound what a
/// listing may publish before holding any of it.
pub fn leaf_count(program: Program, context: usize, o: usize) -> usize {
    let c = program.config;
    let silu = (2 * GU_Q as usize + 1).div_ceil(SILU_PER_LEAF);
    1 + match program.op(o) {
        Op::Embed => c.vocab,
        Op::OutNorm | Op::Block(_, BlockOp::AttnNorm | BlockOp::FfnNorm) => 1,
        op @ Op::Block(_, i) if owner(program, op).is_none() => match i {
            BlockOp::Q => c.heads * c.head_dim,
            BlockOp::O | BlockOp::Down => c.hidden,
            BlockOp::K | BlockOp::V => c.kv_width(),
            BlockOp::Gate | BlockOp::Up => c.ffn,
            BlockOp::RopeQ => context,
            BlockOp::Softmax => 1,
            BlockOp::Silu => silu,
            _ => 0,
        },
        _ => 0,
    }
}

/// Leaves `range` of op `o`'s tree (within [`leaf_count`]).
fn leaves(model: &IntModel, program: Program, o: usize, range: Range<usize>) -> Vec<Vec<u8>> {
    let half = model.config.head_dim / 2;
    let rows = |f: &dyn Fn(usize) -> Vec<u8>| -> Vec<Vec<u8>> {
        range
            .clone()
            .map(|l| {
                if l == 0 {
                    spec(model, program, o)
                } else {
                    f(l - 1)
                }
            })
            .collect()
    };
    match program.op(o) {
        Op::Embed => {
            let packed = Packed::new(&model.embed);
            rows(&|r| packed.table_row(&model.embed_requant, r))
        }
        Op::OutNorm => rows(&|_| gain_row(&model.out_norm)),
        Op::Block(b, i) => {
            let blk = &model.blocks[b];
            let dense = |w| {
                let packed = Packed::new(w);
                rows(&|r| packed.row(r))
            };
            match i {
                BlockOp::AttnNorm => rows(&|_| gain_row(&blk.attn_norm)),
                BlockOp::FfnNorm => rows(&|_| gain_row(&blk.ffn_norm)),
                BlockOp::Q => dense(&blk.q),
                BlockOp::K => dense(&blk.k),
                BlockOp::V => dense(&blk.v),
                BlockOp::O => dense(&blk.o),
                BlockOp::Gate => dense(&blk.gate),
                BlockOp::Up => dense(&blk.up),
                BlockOp::Down => dense(&blk.down),
                BlockOp::RopeQ => rows(&|r| rope_row(&model.rope_cos, &model.rope_sin, r, half)),
                BlockOp::Softmax => rows(&|_| exp_row(&model.exp)),
                BlockOp::Silu => rows(&|r| silu_leaf(&blk.silu, r).to_vec()),
                _ => rows(&|_| unreachable!("leaf_count gives this op no rows")),
            }
        }
        _ => rows(&|_| unreachable!("leaf_count gives this op no rows")),
    }
}

/// Every leaf of op `o`'s tree, in order (what the registry's `publishLeaves` takes; each matrix's
/// packing is found once, where [`leaf`] finds it again for every leaf).
pub fn op_leaves(model: &IntModel, program: Program, o: usize) -> Vec<Vec<u8>> {
    leaves(
        model,
        program,
        o,
        0..leaf_count(program, model.context(), o),
    )
}

/// Leaf `leaf` of op `o`'s tree (`None` past its last).
pub fn leaf(model: &IntModel, program: Program, o: usize, leaf: usize) -> Option<Vec<u8>> {
    (leaf < leaf_count(program, model.context(), o))
        .then(|| leaves(model, program, o, leaf..leaf + 1).remove(0))
}

/// Op `o`'s tree: `leaf(0x04, ·)` of its spec and rows, padded with `leaf(0x04, empty)` (PROTOCOL §3).
pub fn op_tree(model: &IntModel, program: Program, o: usize) -> MerkleTree {
    let hashes = op_leaves(model, program, o)
        .iter()
        .map(|l| leaf_hash(Tag::Op, l))
        .collect();
    MerkleTree::new(Tag::Op, hashes, leaf_hash(Tag::Op, &[]))
}

/// The commitment to a language model: every op's root and the model root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelCommitment {
    /// The root of each op of the pass program.
    pub op_roots: Vec<B256>,
    /// `keccak256(0x02 ‖ 0x05 ‖ "LLM1" ‖ blocks ‖ hidden ‖ heads ‖ kv_heads ‖ head_dim ‖ ffn ‖ vocab ‖
    /// context ‖ eos ‖ cardHash ‖ merkle(0x05, leaf(0x05, opRoot_o)))`, the integers u32 big-endian,
    /// `cardHash` the chained hash of the model's [`Card`](crate::card::Card).
    pub root: B256,
}

impl ModelCommitment {
    /// Commits to `model` (its op trees hashed in parallel).
    pub fn new(model: &IntModel) -> Self {
        let program = Program::new(model.config);
        let op_roots: Vec<B256> = (0..program.ops())
            .into_par_iter()
            .map(|o| op_tree(model, program, o).root())
            .collect();
        let leaves = op_roots
            .iter()
            .map(|r| leaf_hash(Tag::Model, r.as_slice()))
            .collect();
        let ops = merkle_root(
            Tag::Model,
            leaves,
            leaf_hash(Tag::Model, B256::ZERO.as_slice()),
        );
        let c = LlmConfig::of(model);
        let mut h = Keccak256::new();
        h.update([0x02, Tag::Model as u8]);
        h.update(b"LLM1");
        for v in [
            c.blocks, c.hidden, c.heads, c.kv_heads, c.head_dim, c.ffn, c.vocab, c.context,
        ] {
            h.update((v as u32).to_be_bytes());
        }
        h.update(c.eos.to_be_bytes());
        h.update(card_hash(&Card::of(model).to_bytes()));
        h.update(ops);
        Self {
            op_roots,
            root: h.finalize(),
        }
    }
}
