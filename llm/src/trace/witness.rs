//! The one-step witness of a language-model element: the operand rows its op reads, each a run of
//! leaves proven against its slot's root, and each slot root proven against the defender's σ_n — and
//! the verifier that checks them and recomputes the element as the on-chain prover will
//! (docs/LLM_INT.md §9). The rows read are exactly what [`element`] reads: the witness is built by
//! running it against the trace and recording each read, and verified by running it against the
//! witness.

use super::{
    LmTrace,
    commit::{self, ModelCommitment},
    element::{Source, element},
    program::{Layout, Program, SlotShape},
};
use crate::{
    IntModel,
    error::{LlmError, Result},
};
use alloy_primitives::B256;
use std::cell::{Cell, RefCell};
use vouch_core::{
    commit::{
        TENSOR_LEAF_BYTES, byte_row_leaves, state_leaf, tensor_leaf_hash, tensor_tree_of_leaves,
    },
    dispute::SlotProof,
    merkle::{Tag, climb, climb_range, leaf_hash},
};

/// A run of consecutive leaves of an operand slot and its range proof in the slot's tensor tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunProof {
    /// The slot.
    pub slot: usize,
    /// The run's first leaf in the slot's tensor tree.
    pub first_leaf: usize,
    /// The leaves, in order.
    pub leaves: Vec<[u8; TENSOR_LEAF_BYTES]>,
    /// [`vouch_core::merkle::MerkleTree::range_proof`] of the run.
    pub siblings: Vec<B256>,
}

/// A leaf of an op's tree (its spec or a row of parameters) and its path to the op's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamProof {
    /// The op whose tree holds it.
    pub op: usize,
    /// Its index in that tree (0 the spec).
    pub leaf: usize,
    /// Its bytes.
    pub data: Vec<u8>,
    /// Siblings up to the op's root.
    pub path: Vec<B256>,
}

/// What one element's step needs: its operand slots with their state paths, the runs it reads, and
/// the model's leaves it reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LlmWitness {
    /// Every slot read, with its root and path in σ_n, in increasing slot order.
    pub slots: Vec<(usize, SlotProof)>,
    /// Every run read, in reading order.
    pub runs: Vec<RunProof>,
    /// Every leaf of the model read, in reading order (the op's spec first).
    pub params: Vec<ParamProof>,
}

impl LlmWitness {
    /// Bytes of data it carries (32 per hash), a proxy for its calldata size.
    pub fn data_len(&self) -> usize {
        let slots: usize = self
            .slots
            .iter()
            .map(|(_, p)| 32 * (1 + p.path.len()))
            .sum();
        let runs: usize = self
            .runs
            .iter()
            .map(|r| 32 * (r.leaves.len() + r.siblings.len()))
            .sum();
        let params: usize = self
            .params
            .iter()
            .map(|p| p.data.len() + 32 * p.path.len())
            .sum();
        slots + runs + params
    }
}

/// The leaves `[first, last]` of slot `shape` holding elements `[start, start + len)`, which lie in one
/// row.
fn leaf_span(shape: SlotShape, start: usize, len: usize) -> Result<(usize, usize)> {
    let (row, col) = (start / shape.cols.max(1), start % shape.cols.max(1));
    if len == 0 || col + len > shape.cols || row >= shape.rows {
        return Err(LlmError::Request(format!(
            "elements {start}..{} are not within one row of a {}×{} slot",
            start + len,
            shape.rows,
            shape.cols
        )));
    }
    let (width, per_row) = (
        shape.dtype.width(),
        shape.row_bytes().div_ceil(TENSOR_LEAF_BYTES),
    );
    let first = row * per_row + col * width / TENSOR_LEAF_BYTES;
    let last = row * per_row + ((col + len) * width - 1) / TENSOR_LEAF_BYTES;
    Ok((first, last))
}

/// Elements `[start, start + len)` decoded from a run of leaves starting at `first_leaf`.
fn decode(shape: SlotShape, run: &RunProof, start: usize, len: usize) -> Vec<i64> {
    let width = shape.dtype.width();
    let col = start % shape.cols;
    let skip = col * width % TENSOR_LEAF_BYTES;
    let bytes: Vec<u8> = run.leaves.concat();
    (0..len)
        .map(|i| shape.dtype.get(&bytes[skip + i * width..]))
        .collect()
}

/// Records what [`element`] reads from a trace.
struct Recording<'a> {
    trace: &'a LmTrace,
    reads: RefCell<Vec<(usize, usize, usize)>>,
    params: RefCell<Vec<(usize, usize)>>,
}

impl Source for Recording<'_> {
    fn read(&self, s: usize, start: usize, len: usize) -> Result<Vec<i64>> {
        self.reads.borrow_mut().push((s, start, len));
        self.trace.read(s, start, len)
    }

    fn param(&self, op: usize, leaf: usize) -> Result<()> {
        self.params.borrow_mut().push((op, leaf));
        Ok(())
    }
}

impl LmTrace {
    /// The witness of element `e` of slot `s`, from this trace (its rows and the paths to its own σ_n).
    pub fn witness(&self, model: &IntModel, s: usize, e: usize) -> Result<LlmWitness> {
        let state = self.state_tree();
        let mut trees = std::collections::HashMap::new();
        self.witness_with(
            model,
            s,
            e,
            |slot| SlotProof {
                root: self.roots[slot],
                path: state.proof(slot).expect("a slot of the trace"),
            },
            |slot, first, last| {
                let (leaves, tree) = trees.entry(slot).or_insert_with(|| {
                    let leaves =
                        byte_row_leaves(&self.slot_bytes(slot), self.shape(slot).row_bytes());
                    let tree = tensor_tree_of_leaves(&leaves);
                    (leaves, tree)
                });
                RunProof {
                    slot,
                    first_leaf: first,
                    leaves: leaves[first..=last].to_vec(),
                    siblings: tree
                        .range_proof(first, last + 1 - first)
                        .expect("a span within the slot"),
                }
            },
        )
    }

    /// The witness of element `e` of slot `s` with each slot read proven by `slot_proof(slot)` and
    /// each run of leaves `first..=last` of a slot by `run(slot, first, last)`: the rows and model
    /// leaves [`element`] reads, in its order, from this trace.
    pub(super) fn witness_with(
        &self,
        model: &IntModel,
        s: usize,
        e: usize,
        slot_proof: impl Fn(usize) -> SlotProof,
        mut run: impl FnMut(usize, usize, usize) -> RunProof,
    ) -> Result<LlmWitness> {
        let recording = Recording {
            trace: self,
            reads: RefCell::new(Vec::new()),
            params: RefCell::new(Vec::new()),
        };
        element(model, self.program, self.layout, &recording, s, e)?;
        let (reads, params) = (recording.reads.into_inner(), recording.params.into_inner());
        let mut trees = std::collections::HashMap::new();
        let params = params
            .into_iter()
            .map(|(op, leaf)| {
                let tree = trees
                    .entry(op)
                    .or_insert_with(|| commit::op_tree(model, self.program, op));
                let path = tree.proof(leaf).expect("a leaf the element reads");
                let data = commit::leaf(model, self.program, op, leaf).expect("the same leaf");
                ParamProof {
                    op,
                    leaf,
                    data,
                    path,
                }
            })
            .collect();
        let mut slots: Vec<usize> = reads.iter().map(|r| r.0).collect();
        slots.sort_unstable();
        slots.dedup();
        let slots = slots
            .into_iter()
            .map(|slot| (slot, slot_proof(slot)))
            .collect();
        let runs = reads
            .into_iter()
            .map(|(slot, start, len)| {
                let (first, last) = leaf_span(self.shape(slot), start, len)?;
                Ok(run(slot, first, last))
            })
            .collect::<Result<_>>()?;
        Ok(LlmWitness {
            slots,
            runs,
            params,
        })
    }
}

/// Serves [`element`]'s reads from a witness, checking each against the state.
struct Proven<'a> {
    model: &'a IntModel,
    commitment: &'a ModelCommitment,
    program: Program,
    layout: Layout,
    final_state: B256,
    slot: usize,
    witness: &'a LlmWitness,
    next_run: Cell<usize>,
    next_param: Cell<usize>,
}

impl Proven<'_> {
    fn check_slot(&self, s: usize) -> Result<B256> {
        let bad = |why: String| LlmError::Request(format!("witness: {why}"));
        if s >= self.slot {
            return Err(bad(format!(
                "slot {} reads slot {s}, not an earlier one",
                self.slot
            )));
        }
        let (_, proof) = self
            .witness
            .slots
            .iter()
            .find(|(slot, _)| *slot == s)
            .ok_or_else(|| bad(format!("no proof of slot {s}")))?;
        let slots = self.layout.output_slot() + 1;
        if climb(Tag::State, state_leaf(&proof.root), s, &proof.path, slots)
            != Some(self.final_state)
        {
            return Err(bad(format!("slot {s}'s root is not in the state")));
        }
        Ok(proof.root)
    }
}

impl Source for Proven<'_> {
    fn read(&self, s: usize, start: usize, len: usize) -> Result<Vec<i64>> {
        let bad = |why: String| LlmError::Request(format!("witness: {why}"));
        let root = self.check_slot(s)?;
        let index = self.next_run.get();
        self.next_run.set(index + 1);
        let run = self
            .witness
            .runs
            .get(index)
            .ok_or_else(|| bad(format!("run {index} is missing")))?;
        let shape = self.program.slot_shape(self.layout, s);
        let (first, last) = leaf_span(shape, start, len)?;
        if run.slot != s || run.first_leaf != first || run.leaves.len() != last + 1 - first {
            return Err(bad(format!(
                "run {index} is not leaves {first}..={last} of slot {s}"
            )));
        }
        let hashes: Vec<B256> = run.leaves.iter().map(tensor_leaf_hash).collect();
        let count = shape.rows * shape.row_bytes().div_ceil(TENSOR_LEAF_BYTES);
        if climb_range(Tag::Tensor, &hashes, first, &run.siblings, count.max(1)) != Some(root) {
            return Err(bad(format!("run {index} is not in slot {s}'s tensor")));
        }
        Ok(decode(shape, run, start, len))
    }

    fn param(&self, op: usize, leaf: usize) -> Result<()> {
        let bad = |why: String| LlmError::Request(format!("witness: {why}"));
        let index = self.next_param.get();
        self.next_param.set(index + 1);
        let proof = self
            .witness
            .params
            .get(index)
            .ok_or_else(|| bad(format!("model leaf {index} is missing")))?;
        let count = commit::leaf_count(
            self.program,
            crate::lm::LanguageModel::context(self.model),
            op,
        );
        let root = self.commitment.op_roots.get(op).copied();
        // The contract decodes the bytes; here they must be the model's own encoding.
        let expected = commit::leaf(self.model, self.program, op, leaf);
        if proof.op != op
            || proof.leaf != leaf
            || expected.as_ref() != Some(&proof.data)
            || climb(
                Tag::Op,
                leaf_hash(Tag::Op, &proof.data),
                leaf,
                &proof.path,
                count,
            ) != root
        {
            return Err(bad(format!(
                "model leaf {index} is not leaf {leaf} of op {op}'s tree"
            )));
        }
        Ok(())
    }
}

/// The true value of element `e` of slot `s` given the defender's final state σ_n, computed from
/// `witness` alone after checking every proof in it, as the one-step prover does: each operand slot's
/// root against σ_n (only slots before `s`, the ones the walk agreed on), each run against its slot's
/// root, each model leaf against its op's root in `commitment`, the runs and leaves in exactly the
/// order the op reads them and none left over.
pub fn verify(
    model: &IntModel,
    commitment: &ModelCommitment,
    layout: Layout,
    final_state: B256,
    s: usize,
    e: usize,
    witness: &LlmWitness,
) -> Result<i64> {
    let program = Program::new(model.config);
    let proven = Proven {
        model,
        commitment,
        program,
        layout,
        final_state,
        slot: s,
        witness,
        next_run: Cell::new(0),
        next_param: Cell::new(0),
    };
    let value = element(model, program, layout, &proven, s, e)?;
    let mut read: Vec<usize> = witness.runs.iter().map(|r| r.slot).collect();
    read.sort_unstable();
    read.dedup();
    let proven_slots: Vec<usize> = witness.slots.iter().map(|(slot, _)| *slot).collect();
    if proven.next_param.get() != witness.params.len() {
        return Err(LlmError::Request(format!(
            "witness: {} model leaves, the element reads {}",
            witness.params.len(),
            proven.next_param.get()
        )));
    }
    if proven.next_run.get() != witness.runs.len() || read != proven_slots {
        return Err(LlmError::Request(format!(
            "witness: {} runs over slots {proven_slots:?}, the element reads {} over {read:?}",
            witness.runs.len(),
            proven.next_run.get()
        )));
    }
    Ok(value)
}
