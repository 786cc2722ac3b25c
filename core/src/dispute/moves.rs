//! The defender's reveals and what the contract checks of each (PROTOCOL.md §6). The challenger runs
//! the same checks before answering: a reveal that fails one loses the defender the game on chain.

use crate::{
    commit::TENSOR_LEAF_BYTES,
    error::{CoreError, Result},
    merkle::{Tag, climb, leaf_hash, node_hash},
};
use alloy_primitives::B256;

/// A state root σ_i of the defender's trace with its trace-tree path (`⌈log2(n + 1)⌉` siblings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateReveal {
    /// `i`, the number of ops applied.
    pub index: usize,
    /// σ_i.
    pub root: B256,
    /// Siblings of leaf `i` in the trace tree over σ_0 … σ_n.
    pub path: Vec<B256>,
}

/// The defender's opening move: σ_n in its trace and the proof that slot `n` of σ_n is the posted
/// output root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    /// σ_n at index `n` of the trace.
    pub state: StateReveal,
    /// Siblings of slot `n` in the state tree of σ_n (`⌈log2(n + 1)⌉` of them).
    pub output_path: Vec<B256>,
}

/// The phase 1→2 transition at step `k`: the tensor root `T` op `k` wrote into slot `k + 1`, and the
/// siblings `P` of that slot, shared by σ_k (where the slot is empty) and σ_{k+1} (where it holds `T`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// `k`.
    pub step: usize,
    /// `T`, the tensor root of slot `k + 1`.
    pub tensor_root: B256,
    /// `P`, the siblings of slot `k + 1` in the state tree (`⌈log2(n + 1)⌉` of them).
    pub path: Vec<B256>,
}

/// Checks a reveal of σ_i against the defender's `trace_root`, for a model of `n` ops.
pub fn check_state_reveal(n: usize, trace_root: B256, reveal: &StateReveal) -> Result<()> {
    let leaf = leaf_hash(Tag::Trace, reveal.root.as_slice());
    if climb(Tag::Trace, leaf, reveal.index, &reveal.path, n + 1) != Some(trace_root) {
        return Err(CoreError::ProofMismatch(format!(
            "trace path of σ_{}",
            reveal.index
        )));
    }
    Ok(())
}

/// Checks the opening move: σ_n sits at index `n` of `trace_root`, and slot `n` of σ_n holds
/// `output_root`.
pub fn check_opening(
    n: usize,
    trace_root: B256,
    output_root: B256,
    opening: &Opening,
) -> Result<()> {
    if opening.state.index != n {
        return Err(CoreError::InvalidMove(format!(
            "the opening reveals σ_{}, not σ_{n}",
            opening.state.index
        )));
    }
    check_state_reveal(n, trace_root, &opening.state)?;
    let leaf = leaf_hash(Tag::State, output_root.as_slice());
    if climb(Tag::State, leaf, n, &opening.output_path, n + 1) != Some(opening.state.root) {
        return Err(CoreError::ProofMismatch(format!(
            "state path of the output slot {n} in σ_{n}"
        )));
    }
    Ok(())
}

/// Checks the transition at step `k = transition.step` of a model of `n` ops:
/// `climb(leaf(0x02, 0…0), k + 1, P) = σ_k` and `climb(leaf(0x02, T), k + 1, P) = σ_{k+1}`, so op `k`
/// changed slot `k + 1` and nothing else.
pub fn check_transition(
    n: usize,
    sigma_k: B256,
    sigma_next: B256,
    transition: &Transition,
) -> Result<()> {
    let k = transition.step;
    if k >= n {
        return Err(CoreError::OutOfRange {
            what: "step",
            index: k,
            limit: n,
        });
    }
    let empty = leaf_hash(Tag::State, B256::ZERO.as_slice());
    if climb(Tag::State, empty, k + 1, &transition.path, n + 1) != Some(sigma_k) {
        return Err(CoreError::ProofMismatch(format!(
            "transition path of step {k}: empty slot {} against σ_{k}",
            k + 1
        )));
    }
    let written = leaf_hash(Tag::State, transition.tensor_root.as_slice());
    if climb(Tag::State, written, k + 1, &transition.path, n + 1) != Some(sigma_next) {
        return Err(CoreError::ProofMismatch(format!(
            "transition path of step {k}: slot {} against σ_{}",
            k + 1,
            k + 1
        )));
    }
    Ok(())
}

/// Checks revealed children against their parent in a tensor tree: `node(0x01, left, right) = parent`.
pub fn check_children(parent: B256, left: B256, right: B256) -> Result<()> {
    if node_hash(Tag::Tensor, &left, &right) != parent {
        return Err(CoreError::ProofMismatch("revealed children".into()));
    }
    Ok(())
}

/// Checks revealed leaf bytes against their node in a tensor tree: `leaf(0x01, bytes) = node`.
pub fn check_leaf(node: B256, bytes: &[u8; TENSOR_LEAF_BYTES]) -> Result<()> {
    if leaf_hash(Tag::Tensor, bytes) != node {
        return Err(CoreError::ProofMismatch("revealed leaf bytes".into()));
    }
    Ok(())
}
