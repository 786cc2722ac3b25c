//! The generation, recorded: each pass runs one token through [`IntModel::run`] with an observer
//! that encodes every op's output into its slot and, as each block finishes, hands the block's slots
//! to a rayon task that hashes them while the next blocks compute; the value caches keep their trees
//! across passes and update one leaf per row; the argmaxes are computed from the logits.

use super::{
    Job,
    program::{BlockOp, Dtype, Layout, Op, Program, SlotShape},
};
use crate::{
    IntModel,
    error::{LlmError, Result},
    int::{
        IntCache,
        forward::{Observer, Values},
        ops::{argmax_chunks, argmax_pairs},
    },
    lm::LanguageModel,
};
use alloy_primitives::{Address, B256};
use rayon::{Scope, prelude::*};
use std::{borrow::Cow, sync::OnceLock};
use vouch_core::{
    commit::{
        TENSOR_LEAF_BYTES, byte_row_root, state_tree, tensor_leaf_hash, tensor_pad, trace_root,
    },
    merkle::{MerkleTree, Tag},
};

/// When a generation ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// After this eos token or the job's `max_new` tokens, whichever comes first (a worker's run).
    Eos(u32),
    /// After exactly this many tokens, eos or not (the trace of a claimed output's length).
    Length(usize),
}

/// A recorded generation: every slot's bytes and root, and the output.
#[derive(Debug, Clone)]
pub struct LmTrace {
    /// The pass program.
    pub program: Program,
    /// Where the slots lie.
    pub layout: Layout,
    /// The generated token ids.
    pub output: Vec<u32>,
    /// Every slot's canonical bytes, slot 0 (the input) to `n` (the output); the value caches'
    /// slots are empty here and derived on demand ([`LmTrace::slot_bytes`]).
    pub(super) slots: Vec<Vec<u8>>,
    /// Every slot's tensor root.
    pub(super) roots: Vec<B256>,
    /// The state tree over the roots, built when first asked for.
    pub(super) state: OnceLock<MerkleTree>,
}

impl LmTrace {
    /// Slots `0..=n`.
    pub fn slot_count(&self) -> usize {
        self.roots.len()
    }

    /// The tensor roots of every slot.
    pub fn roots(&self) -> &[B256] {
        &self.roots
    }

    /// The shape of slot `s`.
    pub fn shape(&self, s: usize) -> SlotShape {
        self.program.slot_shape(self.layout, s)
    }

    /// The bytes of slot `s` (a value cache's rebuilt from the value slots of its passes).
    pub fn slot_bytes(&self, s: usize) -> Cow<'_, [u8]> {
        let Some((p, o)) = self.layout.locate(s) else {
            return Cow::Borrowed(&self.slots[s]);
        };
        let Op::Block(b, BlockOp::Append) = self.program.op(o) else {
            return Cow::Borrowed(&self.slots[s]);
        };
        let v = self.program.index(Op::Block(b, BlockOp::V));
        let (rows, n) = (self.program.config.kv_width(), self.layout.positions());
        let mut bytes = vec![0u8; rows * n * 2];
        for j in 0..=p {
            let values = &self.slots[self.layout.slot(j, v)];
            for (r, pair) in values.chunks(2).enumerate() {
                bytes[(r * n + j) * 2..][..2].copy_from_slice(pair);
            }
        }
        Cow::Owned(bytes)
    }

    /// The final state σ_n: the state tree over every slot root (PROTOCOL §3).
    pub fn final_state(&self) -> B256 {
        self.state_tree().root()
    }

    /// The state tree σ_n over every slot root.
    pub fn state_tree(&self) -> &MerkleTree {
        self.state.get_or_init(|| state_tree(&self.roots))
    }

    /// The trace root `worker` posts.
    pub fn trace_root(&self, worker: Address) -> B256 {
        trace_root(worker, self.final_state())
    }

    /// The output's tensor root (slot `n`).
    pub fn output_root(&self) -> B256 {
        *self.roots.last().expect("a trace has an output slot")
    }

    /// The output slot's bytes: the answer as a result posts it (`submitResult`'s `output`, the ids
    /// int32 big-endian), what [`LmTrace::output_root`] commits to.
    pub fn output_bytes(&self) -> &[u8] {
        &self.slots[self.layout.output_slot()]
    }

    /// Bytes held for the dispute: every slot's data except the derivable value caches.
    pub fn held_bytes(&self) -> usize {
        self.slots.iter().map(Vec::len).sum()
    }

    /// Recomputes every slot's root from its bytes and forgets σ_n. A liar's tool, for the tests of
    /// the game: after [`LmTrace::tamper`] the trace commits to its lie, every root consistent with
    /// its bytes (a changed value slot changes the value caches of its pass and every later one too),
    /// and the computation is not continued from it (later slots keep their honest values).
    pub fn recommit(&mut self) {
        let roots = (0..self.slot_count())
            .into_par_iter()
            .map(|s| slot_root(&self.slot_bytes(s), self.shape(s)))
            .collect();
        self.roots = roots;
        self.state = OnceLock::new();
    }
}

/// The root of a slot tensor held as its canonical bytes.
pub fn slot_root(bytes: &[u8], shape: SlotShape) -> B256 {
    byte_row_root(bytes, shape.row_bytes())
}

/// Runs `job` on `model` one token per pass and records its trace; `on_token` sees each generated
/// token as it comes.
pub fn generate(
    model: &IntModel,
    job: &Job,
    stop: Stop,
    on_token: impl FnMut(u32),
) -> Result<LmTrace> {
    generate_forcing(model, job, stop, &[], on_token)
}

/// [`generate`], except that for each `(pass, token)` of `forced` the ARGMAX2 of that pass is
/// `token` instead of the logits' argmax, and the generation goes on from it as if the model had
/// chosen it (a later pass embeds it, the output holds it, an eos stops). A liar's tool, for the
/// tests of the game: the worker that changes one token of an answer and commits to a trace
/// consistent with it everywhere else. A forced pass before the prompt's last changes only its own
/// ARGMAX2 (the next pass reads the prompt), and one past the end of the run changes nothing.
pub fn generate_forcing(
    model: &IntModel,
    job: &Job,
    stop: Stop,
    forced: &[(usize, u32)],
    mut on_token: impl FnMut(u32),
) -> Result<LmTrace> {
    let (prompt, max_new) = (&job.prompt, job.max_new);
    if prompt.is_empty() || max_new == 0 {
        return Err(LlmError::Request(
            "a job needs a prompt and at least one new token".into(),
        ));
    }
    if let Stop::Length(g) = stop
        && !(1..=max_new).contains(&g)
    {
        return Err(LlmError::Request(format!(
            "an output of {g} tokens is not within 1..={max_new}"
        )));
    }
    let positions = prompt.len() + max_new - 1;
    if positions > model.context() {
        return Err(LlmError::Request(format!(
            "{} prompt tokens and {max_new} new ones need {positions} positions; the context is {}",
            prompt.len(),
            model.context()
        )));
    }
    let program = Program::new(model.config);
    let input_bytes = crate::int::rows::row_bytes(&job.input());
    let input_root = slot_root(
        &input_bytes,
        SlotShape {
            rows: 1,
            cols: 1 + prompt.len(),
            dtype: Dtype::I32,
        },
    );
    let mut recorder = Recorder::new(program, positions);
    let (mut slots, mut roots) = (vec![input_bytes], vec![input_root]);
    let mut cache = model.new_cache();
    let mut output = Vec::new();
    for p in 0.. {
        let token = prompt
            .get(p)
            .copied()
            .unwrap_or_else(|| output[output.len() - 1]);
        let force = forced.iter().find(|&&(pass, _)| pass == p).map(|&(_, t)| t);
        let (pass, next) = recorder.pass(model, &mut cache, p, token, force)?;
        for slot in pass {
            slots.push(slot.bytes);
            roots.push(slot.root);
        }
        if p + 1 < prompt.len() {
            continue;
        }
        output.push(next);
        on_token(next);
        let done = match stop {
            Stop::Eos(eos) => next == eos || output.len() == max_new,
            Stop::Length(g) => output.len() == g,
        };
        if done {
            break;
        }
    }
    let ids: Vec<i32> = output.iter().map(|&t| t as i32).collect();
    let bytes = crate::int::rows::row_bytes(&ids);
    roots.push(slot_root(
        &bytes,
        SlotShape {
            rows: 1,
            cols: ids.len(),
            dtype: Dtype::I32,
        },
    ));
    slots.push(bytes);
    let layout = Layout {
        ops: program.ops(),
        prompt: prompt.len(),
        max_new,
        generated: output.len(),
    };
    Ok(LmTrace {
        program,
        layout,
        output,
        slots,
        roots,
        state: OnceLock::new(),
    })
}

/// One block's value cache `Vᵀ[W][N]` in its canonical bytes and its tensor tree, updated in place.
struct ValueCache {
    /// Bytes of a row: `N` values, two bytes each.
    row_bytes: usize,
    bytes: Vec<u8>,
    leaves_per_row: usize,
    tree: MerkleTree,
}

impl ValueCache {
    fn new(rows: usize, positions: usize) -> Self {
        let row_bytes = positions * 2;
        let leaves_per_row = row_bytes.div_ceil(TENSOR_LEAF_BYTES);
        let leaves = vec![tensor_pad(); rows * leaves_per_row];
        Self {
            row_bytes,
            bytes: vec![0; rows * row_bytes],
            leaves_per_row,
            tree: MerkleTree::new(Tag::Tensor, leaves, tensor_pad()),
        }
    }

    /// Writes position `p`'s values (one per row, the V slot's bytes) and returns the new root: the
    /// leaf holding `p` of every row rehashed, then their ancestors once each.
    fn append(&mut self, p: usize, values: &[u8]) -> B256 {
        let leaf = p * 2 / TENSOR_LEAF_BYTES;
        let updates: Vec<(usize, B256)> = self
            .bytes
            .chunks_mut(self.row_bytes)
            .zip(values.chunks(2))
            .enumerate()
            .map(|(r, (row, value))| {
                row[p * 2..][..2].copy_from_slice(value);
                let chunk = &row[leaf * TENSOR_LEAF_BYTES..];
                let chunk = &chunk[..chunk.len().min(TENSOR_LEAF_BYTES)];
                let mut bytes = [0u8; TENSOR_LEAF_BYTES];
                bytes[..chunk.len()].copy_from_slice(chunk);
                (r * self.leaves_per_row + leaf, tensor_leaf_hash(&bytes))
            })
            .collect();
        self.tree.set_leaves(&updates);
        self.tree.root()
    }
}

/// One slot of a pass as recorded: its canonical bytes and its tensor root.
#[derive(Default)]
struct Slot {
    bytes: Vec<u8>,
    root: B256,
}

/// What stays from pass to pass: the value caches and their trees.
struct Recorder {
    program: Program,
    positions: usize,
    caches: Vec<ValueCache>,
}

impl Recorder {
    fn new(program: Program, positions: usize) -> Self {
        let c = program.config;
        Self {
            program,
            positions,
            caches: (0..c.blocks)
                .map(|_| ValueCache::new(c.kv_width(), positions))
                .collect(),
        }
    }

    /// Runs pass `p` on `token` and records it: each block's slots are hashed (and its value cache
    /// appended to) on rayon's threads as soon as the block is computed, while the next blocks
    /// compute; returns the pass's slots and its token (ARGMAX2, or `forced`).
    fn pass(
        &mut self,
        model: &IntModel,
        cache: &mut IntCache,
        p: usize,
        token: u32,
        forced: Option<u32>,
    ) -> Result<(Vec<Slot>, u32)> {
        let (program, positions) = (self.program, self.positions);
        let mut slots: Vec<Slot> = std::iter::repeat_with(Slot::default)
            .take(program.ops())
            .collect();
        let caches = &mut self.caches;
        let next = rayon::scope(|scope| {
            let mut pass = Pass {
                scope,
                program,
                positions,
                pass: p,
                first: 0,
                unhashed: &mut slots,
                caches: caches.iter_mut(),
                chunks: Vec::new(),
            };
            model.run(&[token], cache, &mut pass)?;
            Ok::<_, LlmError>(pass.finish(forced))
        })?;
        Ok((slots, next))
    }
}

/// The observer of one pass: encodes each op's output into its slot and hands every finished
/// block's slots to a hashing task of `scope`.
struct Pass<'a, 'scope> {
    scope: &'a Scope<'scope>,
    program: Program,
    positions: usize,
    pass: usize,
    /// The op of `unhashed[0]`.
    first: usize,
    /// The slots of ops `first..`, not yet handed to a task.
    unhashed: &'scope mut [Slot],
    /// The value caches of the blocks not yet handed to a task.
    caches: std::slice::IterMut<'scope, ValueCache>,
    /// ARGMAX1 of this pass's logits, taken when HEAD is seen.
    chunks: Vec<(i32, i32)>,
}

impl<'scope> Pass<'_, 'scope> {
    /// Adds the argmaxes (ARGMAX2 `forced` when given) and hands the last ops to a task; returns
    /// the pass's token.
    fn finish(mut self, forced: Option<u32>) -> u32 {
        let pairs = std::mem::take(&mut self.chunks);
        let token = forced.unwrap_or_else(|| argmax_pairs(&pairs) as u32);
        let flat: Vec<i32> = pairs.iter().flat_map(|&(v, i)| [v, i]).collect();
        self.slot(Op::Argmax1, Values::I32(&flat));
        self.slot(Op::Argmax2, Values::I32(&[token as i32]));
        self.hand_off(self.program.ops());
        token
    }

    /// Hands ops `first..end` to a hashing task, with the value cache of the block they hold an
    /// APPEND of.
    fn hand_off(&mut self, end: usize) {
        let (ready, rest) = std::mem::take(&mut self.unhashed).split_at_mut(end - self.first);
        self.unhashed = rest;
        let first = std::mem::replace(&mut self.first, end);
        let (program, positions, pass) = (self.program, self.positions, self.pass);
        let append = (first..end).find_map(|o| match program.op(o) {
            Op::Block(b, BlockOp::Append) => Some(b),
            _ => None,
        });
        let cache = append.map(|_| self.caches.next().expect("a value cache per block"));
        self.scope.spawn(move |_| {
            for (o, slot) in (first..).zip(ready.iter_mut()) {
                let op = program.op(o);
                if !matches!(op, Op::Block(_, BlockOp::Append)) {
                    let row_bytes = program.shape(op, pass, positions).row_bytes();
                    slot.root = byte_row_root(&slot.bytes, row_bytes);
                }
            }
            if let (Some(b), Some(cache)) = (append, cache) {
                let at = |i| program.index(Op::Block(b, i)) - first;
                let root = cache.append(pass, &ready[at(BlockOp::V)].bytes);
                ready[at(BlockOp::Append)].root = root;
            }
        });
    }
}

/// `values` in `dtype`'s big-endian bytes ([`Dtype::put`] of each, written in place).
fn encode(values: Values<'_>, dtype: Dtype) -> Vec<u8> {
    fn each<T: Copy + Into<i64>>(v: &[T], dtype: Dtype) -> Vec<u8> {
        fn cells<const W: usize, T: Copy>(v: &[T], cell: impl Fn(T) -> [u8; W]) -> Vec<u8> {
            let mut out = vec![0; v.len() * W];
            let (chunks, _) = out.as_chunks_mut::<W>();
            chunks.iter_mut().zip(v).for_each(|(o, &x)| *o = cell(x));
            out
        }
        match dtype {
            Dtype::I16 => cells(v, |x| (x.into() as i16).to_be_bytes()),
            Dtype::U16 => cells(v, |x| (x.into() as u16).to_be_bytes()),
            Dtype::I32 => cells(v, |x| (x.into() as i32).to_be_bytes()),
        }
    }
    match values {
        Values::I16(v) => each(v, dtype),
        Values::U16(v) => each(v, dtype),
        Values::I32(v) => each(v, dtype),
    }
}

impl Observer for Pass<'_, '_> {
    const ATTENTION: bool = true;

    fn slot(&mut self, op: Op, values: Values<'_>) {
        let o = self.program.index(op);
        let shape = self.program.shape(op, self.pass, self.positions);
        let bytes = encode(values, shape.dtype);
        debug_assert_eq!(bytes.len(), shape.bytes(), "{op:?}");
        if let (Op::Head, Values::I32(logits)) = (op, values) {
            self.chunks = argmax_chunks(logits);
        }
        self.unhashed[o - self.first].bytes = bytes;
        if let Op::Block(_, BlockOp::FfnAdd) = op {
            self.hand_off(o + 1);
        }
    }
}
