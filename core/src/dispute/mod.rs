//! The dispute game, off chain (PROTOCOL.md §6): positions, what each party reveals and decides, the
//! checks and decisions the contract makes of every move, and the one-step witness with a Rust
//! verifier of it.
//!
//! A model has `n` ops and the state table `n + 1` slots (slot 0 the input, slot `j = k + 1` what op
//! `k` wrote). A result posts the output root and the trace root `leaf(0x03, worker ‖ σ_n)`, σ_n the
//! root of the state tree over every slot's tensor root ([`crate::commit::trace_root`]). A game,
//! defender (the worker) against challenger, is one walk down two trees:
//! 1. **Opening** ([`Party::opening`], [`check_opening`]): σ_n, bound to the worker by the trace root,
//!    and the state path proving slot `n` of σ_n holds the posted output root.
//! 2. **Phase Slots** ([`Tree::State`], [`Position`], depth [`state_depth`]): from σ_n, the defender
//!    reveals a node's children ([`Party::state_children`], [`check_node`]) and the challenger picks
//!    the leftmost that differs from its own ([`Party::pick_state`]), down to leaf `j`. Slot 0 and
//!    padding are decided at once ([`decide_state_leaf`]); for an op's slot the defender reveals its
//!    tensor root ([`Party::slot_root`], [`check_slot`]).
//! 3. **Phase Tensor** ([`Tree::Tensor`], depth [`tensor_depth`]): down slot `j`'s tensor the
//!    defender reveals children ([`Party::tensor_children`]) and the challenger picks a side that
//!    differs ([`Party::pick_tensor`]); at the leaf the defender reveals its 32 bytes
//!    ([`Party::tensor_leaf`], [`check_leaf`]) and the challenger names a differing byte
//!    ([`Party::differing_offset`]): an element of op `k = j − 1`'s output or padding
//!    ([`element_of_leaf`]).
//! 4. **Phase Step** ([`Party::witness`], [`verify_step`]): the contract computes the true element
//!    from a [`StepWitness`] whose operand slots are proven against the defender's σ_n (padding is 0);
//!    a claimed byte that differs loses the defender the game ([`decide_element`]).
//!
//! [`Party`] is one side's view of its own run, the same type for the defender (which may be lying)
//! and the challenger; [`Disputant`] is what every kind of model's party does in the walk (a language
//! model's is `vouch_llm::trace::LmParty`). The walks down its trees ([`pick`], [`children_of`],
//! [`walk_to`], [`check_walk`], [`state_path_beside`]) are free functions of a `MerkleTree`, shared by
//! both parties. Everything here is pure: no I/O, no clocks, no chain.

mod disputant;
mod gas;
mod moves;
mod party;
mod position;
mod tree;
mod witness;

pub use disputant::Disputant;
pub use gas::{
    CHALLENGER_MOVE_GAS, DEFENDER_GAME_GAS, LEAF_REVEAL_GAS, MAX_STEP_CALLDATA, MAX_STEP_GAS,
    NAME_ELEMENT_GAS, NODE_REVEAL_GAS, OPENING_GAS, OPENING_GAS_PER_LEVEL, PICK_GAS,
    SLOT_REVEAL_GAS, StepCost, defender_game_gas, step_calldata_bytes, step_gas_bound, worst_step,
};
pub use moves::{
    Opening, StateLeaf, Winner, check_leaf, check_node, check_opening, check_slot, decide_element,
    decide_state_leaf,
};
pub use party::Party;
pub use position::{
    Element, Position, Side, Slot, Tree, element_of_leaf, slot_of_leaf, state_depth, tensor_depth,
};
pub use tree::{
    Walk, check_walk, children_of, node_at, pick, replace_leaf, state_path_beside, walk_to,
};
pub use witness::{RowProof, SlotProof, StepWitness, verify_step};
