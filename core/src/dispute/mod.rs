//! The dispute game, off chain (PROTOCOL.md §6): positions, what each party reveals and decides, the
//! checks the contract makes of every move, and the one-step witness with a Rust verifier of it.
//!
//! A model has `n` ops and the state table `n + 1` slots; σ_k is the state root after `k` ops and the
//! trace root commits to σ_0 … σ_n. A game, defender (the worker) against challenger:
//! 1. **Opening** ([`Party::opening`], [`check_opening`]): σ_n at index `n` of the trace and a state
//!    path proving slot `n` of σ_n holds the posted output root.
//! 2. **Phase 1** ([`TraceBisection`]): σ_lo agreed, σ_hi disputed, from `(0, n)` (σ_0 is computed by
//!    the contract from the input root, [`crate::commit::sigma0`]); the defender reveals σ_mid
//!    ([`Party::state_reveal`], [`check_state_reveal`]), the challenger agrees or not
//!    ([`Party::agrees_with_state`]), until `hi = lo + 1`: step `k = lo` (op `k`, slot `k + 1`).
//! 3. **Transition** ([`Party::transition`], [`check_transition`]): the tensor root `T` of slot `k + 1`
//!    and one state path `P` that climbs from an empty slot to σ_k and from `T` to σ_{k+1}.
//! 4. **Phase 2** ([`TensorPosition`]): down `T`'s tree, the defender reveals a node's children
//!    ([`Party::children`], [`check_children`]), the challenger picks the side that differs
//!    ([`Party::pick`]); at the leaf the defender reveals its 32 bytes ([`Party::leaf`],
//!    [`check_leaf`]) and the challenger names a differing byte ([`Party::differing_offset`]), which
//!    is one element of the output of op `k` or padding ([`element_of_leaf`]).
//! 5. **Phase 3** ([`Party::witness`], [`verify_step`]): the contract computes the true element from
//!    σ_k and a [`StepWitness`]; padding is 0. A claimed byte that differs loses the defender its bond.
//!
//! [`Party`] is one side's view of its own run, the same type for the defender (which may be lying)
//! and the challenger. Everything here is pure: no I/O, no clocks, no chain.

mod gas;
mod moves;
mod party;
mod position;
mod witness;

pub use gas::{
    CHALLENGER_MOVE_GAS, DEFENDER_GAME_GAS, MAX_STEP_CALLDATA, MAX_STEP_GAS, StepCost,
    defender_game_gas, step_calldata_bytes, step_gas_bound, worst_step,
};
pub use moves::{
    Opening, StateReveal, Transition, check_children, check_leaf, check_opening,
    check_state_reveal, check_transition,
};
pub use party::Party;
pub use position::{Element, Side, TensorPosition, TraceBisection, element_of_leaf, tensor_depth};
pub use witness::{RowProof, SlotProof, StepWitness, verify_step};
