//! One side of a dispute over a language model's trace (PROTOCOL.md §6, docs/LLM_INT.md §9): the
//! generation it stands by, with every value it reveals as defender and every choice it makes as
//! challenger. The walk is the tensor models' ([`vouch_core::dispute::Party`], whose tree helpers it
//! shares); what differs is the geometry: a slot is `[rows][cols]` elements of 2 or 4 bytes, each row
//! cut into 32-byte leaves, so a leaf holds `32/width` elements and one is named by its first byte.

use super::{
    LmTrace,
    program::{Layout, Program, SlotShape},
    witness::{LlmWitness, RunProof},
};
use crate::IntModel;
use alloy_primitives::{Address, B256};
use std::sync::OnceLock;
use vouch_core::{
    commit::{TENSOR_LEAF_BYTES, byte_row_leaves, state_leaf, tensor_tree_of_leaves},
    dispute::{
        Disputant, Element, Position, SlotProof, Walk, check_walk, node_at, replace_leaf,
        state_path_beside, walk_to,
    },
    error::{CoreError, Result},
    merkle::{MerkleTree, depth_for},
};

/// One 32-byte tensor leaf.
type Leaf = [u8; TENSOR_LEAF_BYTES];

/// A slot's committed leaves and their tensor tree.
#[derive(Debug, Clone)]
struct Tensor {
    leaves: Vec<Leaf>,
    tree: MerkleTree,
}

/// One party's view of a generation: its trace (every slot's bytes and root) and its final state
/// tree σ_n. The worker defends from its own trace (which may lie), a challenger decides from its
/// honest trace of the claimed output's length (`Stop::Length(G)`, so both state trees have one
/// shape); both use this type, and neither side's values are trusted by the other.
///
/// The trace's roots must be its bytes' (a liar's after [`LmTrace::recommit`]). A slot's leaves and
/// tensor tree are built from its bytes the first time the game needs them and kept. Slots are
/// numbered as in the trace: 0 the job's input, `1 + p·OPS + o` op `o` of pass `p`, `n` the output
/// ([`Layout::output_slot`]); state leaves past `n` are padding. `Send + Sync`, so one party can
/// answer many games at once.
#[derive(Debug, Clone)]
pub struct LmParty {
    /// The generation (its roots are this party's slot roots).
    trace: LmTrace,
    /// Each slot's leaves and tensor tree, built on first use (or committed junk).
    tensors: Vec<OnceLock<Tensor>>,
    /// The final state's tree over the slot roots (a leaf may be replaced:
    /// [`LmParty::with_state_leaf`]).
    state: MerkleTree,
}

impl LmParty {
    /// The party that stands by `trace`.
    pub fn new(mut trace: LmTrace) -> Self {
        // The party keeps the state tree (a liar's may be changed); the trace rebuilds its own if asked.
        let state = std::mem::take(&mut trace.state)
            .into_inner()
            .unwrap_or_else(|| vouch_core::commit::state_tree(&trace.roots));
        Self {
            tensors: (0..trace.slot_count()).map(|_| OnceLock::new()).collect(),
            trace,
            state,
        }
    }

    /// The party whose leaf `j` of its final state's tree is `leaf`, any hash: junk in a padding slot
    /// (`j > n`) or in the input slot 0, or a slot it cannot open. A liar's tool, for the tests of the
    /// game; `j < 2^D_s`.
    pub fn with_state_leaf(mut self, j: usize, leaf: B256) -> Result<Self> {
        replace_leaf(&mut self.state, j, leaf)?;
        Ok(self)
    }

    /// The party that commits to `leaves` for slot `slot` instead of its bytes' leaves: the same
    /// elements with junk in their padding (a row's tail past its last element, or leaves past the
    /// last row). Its slot root and state leaf follow; its elements ([`LmParty::value`]) are still the
    /// trace's. A liar's tool, for the tests of the game. The list holds at least the slot's
    /// `rows·⌈cols·width/32⌉` leaves and at most the padded tree's `2^D_t`.
    pub fn with_slot_leaves(mut self, slot: usize, leaves: Vec<Leaf>) -> Result<Self> {
        let shape = self.shape(slot)?;
        let real = shape.rows * leaves_per_row(shape);
        if leaves.len() < real || leaves.len() > real.next_power_of_two() {
            return Err(CoreError::Trace(format!(
                "slot {slot} has {real} leaves, {} given",
                leaves.len()
            )));
        }
        let tree = tensor_tree_of_leaves(&leaves);
        let root = tree.root();
        self.trace.roots[slot] = root;
        self.trace.state = OnceLock::new();
        self.state.set_leaf(slot, state_leaf(&root));
        self.tensors[slot] = OnceLock::from(Tensor { leaves, tree });
        Ok(self)
    }

    /// The generation this party stands by.
    pub fn trace(&self) -> &LmTrace {
        &self.trace
    }

    /// Where the trace's slots lie.
    pub fn layout(&self) -> Layout {
        self.trace.layout
    }

    /// σ_n, the root of this party's final state tree.
    pub fn final_state(&self) -> B256 {
        self.state.root()
    }

    /// The tensor root of the output, slot `n`.
    pub fn output_root(&self) -> B256 {
        self.trace.output_root()
    }

    /// The trace root `worker` posts (defender) or would post (challenger): `leaf(0x03, worker ‖ σ_n)`.
    pub fn trace_root(&self, worker: Address) -> B256 {
        vouch_core::commit::trace_root(worker, self.final_state())
    }

    /// The shape of slot `slot`.
    pub fn shape(&self, slot: usize) -> Result<SlotShape> {
        Ok(self.trace.shape(self.slot(slot)?))
    }

    /// Depth `D_t = ⌈log2(rows·⌈cols·width/32⌉)⌉` of the tree of slot `slot` (the game's geometry).
    pub fn tensor_depth(&self, slot: usize) -> Result<u32> {
        let shape = self.shape(slot)?;
        Ok(depth_for(shape.rows * leaves_per_row(shape)))
    }

    /// This party's value of element `e` of slot `slot`: what it claims there.
    pub fn value(&self, slot: usize, e: usize) -> Result<i64> {
        let shape = self.shape(slot)?;
        let count = shape.rows * shape.cols;
        if e >= count {
            return Err(CoreError::OutOfRange {
                what: "element",
                index: e,
                limit: count,
            });
        }
        Ok(self.trace.value(slot, e))
    }

    /// The committed leaves of slot `slot` (its bytes' leaves unless junk was committed).
    pub fn slot_leaves(&self, slot: usize) -> Result<&[Leaf]> {
        Ok(&self.tensor(slot)?.leaves)
    }

    /// The node at `pos` of the final state tree.
    pub fn state_node(&self, pos: Position) -> Result<B256> {
        node_at(&self.state, pos)
    }

    /// The node at `pos` of the tree of slot `slot`.
    pub fn tensor_node(&self, slot: usize, pos: Position) -> Result<B256> {
        node_at(&self.tensor(slot)?.tree, pos)
    }

    // ----- the defender's reveals -----

    // ----- the challenger's decisions -----

    /// The element whose first byte is `offset` in leaf `leaf` of slot `slot` (as the contract's
    /// `LibLlmTrace.elementAt`): row `leaf / lpr`, column `((leaf mod lpr)·32 + offset) / width`
    /// (`lpr` the leaves of a row), [`Element::Padding`] past the last row or column (its true value
    /// is 0). An error for a leaf past the tree or an offset not a multiple of the width.
    pub fn element_of_leaf(&self, slot: usize, leaf: usize, offset: usize) -> Result<Element> {
        let shape = self.shape(slot)?;
        let leaves = 1usize << self.tensor_depth(slot)?;
        let width = shape.dtype.width();
        if leaf >= leaves {
            return Err(CoreError::OutOfRange {
                what: "tensor leaf",
                index: leaf,
                limit: leaves,
            });
        }
        check_offset(offset, width)?;
        let lpr = leaves_per_row(shape);
        let (row, col) = (
            leaf / lpr,
            ((leaf % lpr) * TENSOR_LEAF_BYTES + offset) / width,
        );
        Ok(if row >= shape.rows || col >= shape.cols {
            Element::Padding
        } else {
            Element::Index(row * shape.cols + col)
        })
    }

    /// The value the leaf `bytes` of slot `slot` claims for the element at `offset` (as the contract's
    /// `LibLlmTrace.decode`): its `width` big-endian bytes, two's complement except the softmax's u16
    /// probabilities. What the step compares with the true value; a challenger checks they differ
    /// before it names the element.
    pub fn decode(&self, slot: usize, bytes: &Leaf, offset: usize) -> Result<i64> {
        let dtype = self.shape(slot)?.dtype;
        check_offset(offset, dtype.width())?;
        Ok(dtype.get(&bytes[offset..]))
    }

    /// This party's own walk to state leaf `j`: the children of each node on its path, root first.
    /// What an honest defender reveals on the way to `j`; with it [`LmParty::witness`] proves against
    /// this party's own σ_n.
    pub fn state_walk(&self, j: usize) -> Result<Vec<(B256, B256)>> {
        walk_to(&self.state, j)
    }

    /// Phase Step: the witness for element `e` of slot `s ≥ 1` of a generation of `model` (the model
    /// this party ran), proven against the defender's σ_n seen through `walk`, its revealed children
    /// on the way down to leaf `s` (root first, `D_s` pairs). Each operand slot (`< s`) gets this
    /// party's root and a state path that takes, at each level, the defender's revealed child where
    /// the path meets the walk and this party's own node where it runs left of it (those subtrees were
    /// agreed: the walk went right of them). Verifies against the defender's σ_n when this party's
    /// slots left of `s` are the defender's, which the leftmost-difference walk guarantees.
    pub fn witness(&self, model: &IntModel, s: usize, e: usize, walk: &Walk) -> Result<LlmWitness> {
        if Program::new(model.config) != self.trace.program {
            return Err(CoreError::Trace(
                "the model's program is not this party's".into(),
            ));
        }
        if s == 0 {
            return Err(CoreError::Trace(
                "slot 0 is the job's input, no op's output".into(),
            ));
        }
        self.value(s, e)?;
        check_walk(self.state.depth(), s, walk)?;
        let roots = self.trace.roots();
        self.trace
            .witness_with(
                model,
                s,
                e,
                |slot| SlotProof {
                    root: roots[slot],
                    path: state_path_beside(&self.state, slot, s, walk),
                },
                |slot, first, last| {
                    let tensor = self.tensor(slot).expect("an operand is a slot");
                    RunProof {
                        slot,
                        first_leaf: first,
                        leaves: tensor.leaves[first..=last].to_vec(),
                        siblings: tensor
                            .tree
                            .range_proof(first, last + 1 - first)
                            .expect("a run within the slot"),
                    }
                },
            )
            .map_err(|err| CoreError::Trace(format!("element {e} of slot {s}: {err}")))
    }

    // ----- helpers -----

    /// `slot` if it is one (`≤ n`), else an error.
    fn slot(&self, slot: usize) -> Result<usize> {
        let count = self.trace.slot_count();
        if slot >= count {
            return Err(CoreError::OutOfRange {
                what: "slot",
                index: slot,
                limit: count,
            });
        }
        Ok(slot)
    }

    /// The leaves and tensor tree of `slot`, built on first use.
    fn tensor(&self, slot: usize) -> Result<&Tensor> {
        let slot = self.slot(slot)?;
        Ok(self.tensors[slot].get_or_init(|| {
            let leaves = byte_row_leaves(
                &self.trace.slot_bytes(slot),
                self.trace.shape(slot).row_bytes(),
            );
            let tree = tensor_tree_of_leaves(&leaves);
            Tensor { leaves, tree }
        }))
    }
}

impl Disputant for LmParty {
    fn state(&self) -> &MerkleTree {
        &self.state
    }

    fn output_slot(&self) -> usize {
        self.trace.layout.output_slot()
    }

    fn slot_roots(&self) -> &[B256] {
        self.trace.roots()
    }

    fn tensor_tree(&self, slot: usize) -> Result<&MerkleTree> {
        Ok(&self.tensor(slot)?.tree)
    }

    fn leaf(&self, slot: usize, index: usize) -> Result<Leaf> {
        Ok(leaf_at(self.tensor(slot)?, index))
    }

    fn element_width(&self, slot: usize) -> usize {
        self.shape(slot).map_or(1, |s| s.dtype.width())
    }
}

/// Leaves a row of `shape` occupies: `⌈cols·width/32⌉`.
fn leaves_per_row(shape: SlotShape) -> usize {
    shape.row_bytes().div_ceil(TENSOR_LEAF_BYTES)
}

/// The committed bytes of leaf `index` of `tensor` (`index < 2^D_t`): zero past its leaves.
fn leaf_at(tensor: &Tensor, index: usize) -> Leaf {
    tensor
        .leaves
        .get(index)
        .copied()
        .unwrap_or([0; TENSOR_LEAF_BYTES])
}

/// Checks that `offset` names an element of `width` bytes in a leaf: inside it and aligned.
fn check_offset(offset: usize, width: usize) -> Result<()> {
    if offset + width > TENSOR_LEAF_BYTES {
        return Err(CoreError::OutOfRange {
            what: "leaf offset",
            index: offset,
            limit: TENSOR_LEAF_BYTES + 1 - width,
        });
    }
    if !offset.is_multiple_of(width) {
        return Err(CoreError::InvalidMove(format!(
            "offset {offset} is not a multiple of the element width {width}"
        )));
    }
    Ok(())
}
