//! What every side of a game does, whatever the model: the defender's reveals and the challenger's
//! choices over the two trees of PROTOCOL §6. A tensor model's [`super::Party`] and a language
//! model's party (`vouch_llm::trace::LmParty`) both implement it, so the agents' walk code (the worker's
//! answers, the challenger's moves) is written once; only the one step differs by kind.

use super::{moves::Opening, position::Position, position::Side};
use crate::{commit::TENSOR_LEAF_BYTES, error::Result};
use alloy_primitives::B256;

/// One side's view of its own run in a dispute: every reveal it sends as defender and every choice
/// it makes as challenger.
pub trait Disputant: Send + Sync {
    /// The opening reveal: σ_n and the state path of the output slot.
    fn opening(&self) -> Opening;

    /// The children of the inner node `node` of the final state tree.
    fn state_children(&self, node: &B256) -> Result<(B256, B256)>;

    /// The tensor root under the state leaf `leaf`.
    fn slot_root(&self, leaf: &B256) -> Result<B256>;

    /// The children of the inner node `node` of slot `slot`'s tensor tree.
    fn tensor_children(&self, slot: usize, node: &B256) -> Result<(B256, B256)>;

    /// The 32 bytes of the leaf `node` of slot `slot`'s tensor tree.
    fn tensor_leaf(&self, slot: usize, node: &B256) -> Result<[u8; TENSOR_LEAF_BYTES]>;

    /// The depth of the final state tree.
    fn state_depth(&self) -> u32;

    /// Bytes per element of slot `slot` (an element is named by its first byte).
    fn element_width(&self, slot: usize) -> usize;

    /// Phase Slots: the leftmost side whose revealed hash differs from this side's
    /// ([`crate::CoreError::NoDifference`] if neither does).
    fn pick_state(&self, pos: Position, left: B256, right: B256) -> Result<Side>;

    /// Phase Tensor: a side of slot `slot`'s tree whose revealed hash differs from this side's.
    fn pick_tensor(&self, slot: usize, pos: Position, left: B256, right: B256) -> Result<Side>;

    /// At a tensor leaf: the byte offset to name, the first byte of the first element whose revealed
    /// bytes differ from this side's.
    fn differing_offset(
        &self,
        slot: usize,
        leaf: usize,
        bytes: &[u8; TENSOR_LEAF_BYTES],
    ) -> Result<usize>;
}
