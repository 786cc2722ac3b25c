//! What every side of a game does, whatever the model: the defender's reveals and the challenger's
//! choices over the two trees of PROTOCOL §6. A party gives its trees and leaves; the walk is written
//! here once. A tensor model's [`super::Party`] and a language model's party
//! (`vouch_llm::trace::LmParty`) both implement it, so the agents' walk code (the worker's answers,
//! the challenger's moves) serves both; only the one step differs by kind.

use super::{
    moves::Opening,
    position::{Position, Side},
    tree::{children_of, pick},
};
use crate::{
    commit::{TENSOR_LEAF_BYTES, state_leaf},
    error::{CoreError, Result},
    merkle::MerkleTree,
};
use alloy_primitives::B256;

/// One 32-byte tensor leaf.
type Leaf = [u8; TENSOR_LEAF_BYTES];

/// One side's view of its own run in a dispute: every reveal it sends as defender and every choice
/// it makes as challenger, from its final state tree and its slots' tensor trees.
pub trait Disputant: Send + Sync {
    /// The final state's tree (a liar's may have a replaced leaf).
    fn state(&self) -> &MerkleTree;

    /// The last slot n, the output (the final state has `n + 1` slot leaves).
    fn output_slot(&self) -> usize;

    /// The tensor root of every slot `0..=n`.
    fn slot_roots(&self) -> &[B256];

    /// The tensor tree of slot `slot` (built on first use).
    fn tensor_tree(&self, slot: usize) -> Result<&MerkleTree>;

    /// The committed bytes of leaf `index` of slot `slot`'s tensor tree (zero past its leaves).
    fn leaf(&self, slot: usize, index: usize) -> Result<Leaf>;

    /// Bytes per element of slot `slot` (an element is named by its first byte).
    fn element_width(&self, slot: usize) -> usize;

    /// The opening reveal: σ_n and the state path of the output slot.
    fn opening(&self) -> Opening {
        Opening {
            final_state: self.state().root(),
            output_path: self
                .state()
                .proof(self.output_slot())
                .expect("slot n is a leaf"),
        }
    }

    /// The depth of the final state tree.
    fn state_depth(&self) -> u32 {
        self.state().depth()
    }

    /// The children of the inner node `node` of the final state tree.
    fn state_children(&self, node: &B256) -> Result<(B256, B256)> {
        children_of(self.state(), node, "state")
    }

    /// The tensor root under the state leaf `leaf`: an error for a leaf this side cannot open (a
    /// padding leaf, or one replaced by a liar).
    fn slot_root(&self, leaf: &B256) -> Result<B256> {
        let (state, roots) = (self.state(), self.slot_roots());
        match state.find(leaf) {
            Some((d, j))
                if d == state.depth()
                    && j < roots.len()
                    && state.node(d, j) == Some(state_leaf(&roots[j])) =>
            {
                Ok(roots[j])
            }
            _ => Err(CoreError::NotOurs(format!("slot leaf {leaf}"))),
        }
    }

    /// The children of the inner node `node` of slot `slot`'s tensor tree.
    fn tensor_children(&self, slot: usize, node: &B256) -> Result<(B256, B256)> {
        children_of(self.tensor_tree(slot)?, node, "tensor")
    }

    /// The 32 bytes of the leaf `node` of slot `slot`'s tensor tree.
    fn tensor_leaf(&self, slot: usize, node: &B256) -> Result<Leaf> {
        let tree = self.tensor_tree(slot)?;
        match tree.find(node) {
            Some((d, i)) if d == tree.depth() => self.leaf(slot, i),
            _ => Err(CoreError::NotOurs(format!(
                "tensor leaf {node} of slot {slot}"
            ))),
        }
    }

    /// Phase Slots: the leftmost side whose revealed hash differs from this side's
    /// ([`CoreError::NoDifference`] if neither does).
    fn pick_state(&self, pos: Position, left: B256, right: B256) -> Result<Side> {
        pick(self.state(), pos, left, right, "the state tree")
    }

    /// Phase Tensor: a side of slot `slot`'s tree whose revealed hash differs from this side's.
    fn pick_tensor(&self, slot: usize, pos: Position, left: B256, right: B256) -> Result<Side> {
        pick(
            self.tensor_tree(slot)?,
            pos,
            left,
            right,
            &format!("the tree of slot {slot}"),
        )
    }

    /// At a tensor leaf: the byte offset to name, the first byte of the first element whose revealed
    /// `bytes` differ from this side's ([`CoreError::NoDifference`] if none does).
    fn differing_offset(&self, slot: usize, leaf: usize, bytes: &Leaf) -> Result<usize> {
        let leaves = 1usize << self.tensor_tree(slot)?.depth();
        if leaf >= leaves {
            return Err(CoreError::OutOfRange {
                what: "tensor leaf",
                index: leaf,
                limit: leaves,
            });
        }
        let width = self.element_width(slot);
        self.leaf(slot, leaf)?
            .iter()
            .zip(bytes)
            .position(|(a, b)| a != b)
            .map(|o| o - o % width)
            .ok_or_else(|| {
                CoreError::NoDifference(format!(
                    "leaf {leaf} of slot {slot} is ours, byte for byte"
                ))
            })
    }
}
