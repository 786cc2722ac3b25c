//! The defender's reveals and what the contract checks of each, and the decisions the contract takes
//! itself (PROTOCOL.md §6). The challenger runs the same checks before answering: a reveal that fails
//! one can never land, so the defender loses on its clock.

use super::position::{Slot, Tree, slot_of_leaf};
use crate::{
    commit::{TENSOR_LEAF_BYTES, state_leaf, trace_root},
    error::{CoreError, Result},
    merkle::{Tag, climb, leaf_hash, node_hash},
};
use alloy_primitives::{Address, B256};

/// The defender's opening reveal: its final state σ_n and the state path proving that slot `n` of
/// σ_n holds the posted output root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    /// σ_n.
    pub final_state: B256,
    /// Siblings of slot `n` in the state tree of σ_n (`⌈log2(n + 1)⌉` of them).
    pub output_path: Vec<B256>,
}

/// Who wins a game the contract decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Winner {
    /// The result's worker.
    Defender,
    /// Whoever opened the game.
    Challenger,
}

/// What happens when the walk down the state tree reaches a leaf (PROTOCOL.md §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateLeaf {
    /// The input slot or a padding slot: the contract decides at once.
    Decided(Winner),
    /// The output of op `k` (slot `k + 1`): phase Tensor starts once the defender reveals its root.
    Op(usize),
}

/// Checks the opening of a result posted by `worker` with `posted_trace_root` and `output_root`, for a model
/// of `n` ops: `leaf(0x03, worker ‖ σ_n) = traceRoot` and `climb(leaf(0x02, outputRoot), n, path)
/// = σ_n` over `n + 1` leaves. A result copied from another worker cannot pass the first check.
pub fn check_opening(
    n: usize,
    worker: Address,
    posted_trace_root: B256,
    output_root: B256,
    opening: &Opening,
) -> Result<()> {
    if trace_root(worker, opening.final_state) != posted_trace_root {
        return Err(CoreError::ProofMismatch(format!(
            "final state bound to worker {worker}"
        )));
    }
    let leaf = state_leaf(&output_root);
    if climb(Tag::State, leaf, n, &opening.output_path, n + 1) != Some(opening.final_state) {
        return Err(CoreError::ProofMismatch(format!(
            "state path of the output slot {n} in σ_n"
        )));
    }
    Ok(())
}

/// Checks revealed children against their parent in `tree`: `node(tag, left, right) = parent`.
pub fn check_node(tree: Tree, parent: B256, left: B256, right: B256) -> Result<()> {
    if node_hash(tree.tag(), &left, &right) != parent {
        return Err(CoreError::ProofMismatch(format!(
            "revealed children in the {tree:?} tree"
        )));
    }
    Ok(())
}

/// Checks a revealed slot root against its state leaf: `leaf(0x02, tensorRoot) = leaf`.
pub fn check_slot(leaf: B256, tensor_root: B256) -> Result<()> {
    if state_leaf(&tensor_root) != leaf {
        return Err(CoreError::ProofMismatch("revealed slot root".into()));
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

/// What the contract does when the walk reaches the defender's state leaf `leaf` at index `j`, for a
/// model of `n` ops on a job whose input has tensor root `input_root`: slot 0 must be
/// `leaf(0x02, inputRoot)` and a padding slot `leaf(0x02, 0)`, decided at once; an op's slot goes on
/// to phase Tensor. An error for `j` outside the padded tree.
pub fn decide_state_leaf(n: usize, j: usize, leaf: B256, input_root: B256) -> Result<StateLeaf> {
    let expected = match slot_of_leaf(n, j)? {
        Slot::Op(k) => return Ok(StateLeaf::Op(k)),
        Slot::Input => input_root,
        Slot::Padding => B256::ZERO,
    };
    Ok(StateLeaf::Decided(if leaf == state_leaf(&expected) {
        Winner::Defender
    } else {
        Winner::Challenger
    }))
}

/// The end of a game at one element: the defender's byte `claimed` against the `truth` (the one step's
/// value, or 0 for padding). Any difference loses the defender the game.
pub fn decide_element(claimed: i8, truth: i8) -> Winner {
    if claimed == truth {
        Winner::Defender
    } else {
        Winner::Challenger
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commit::state_tree;

    #[test]
    fn state_leaves_are_decided_as_the_contract_does() {
        let input = B256::repeat_byte(3);
        let good_input = state_leaf(&input);
        let zero = state_leaf(&B256::ZERO);
        // n = 5: six slots, depth 3, leaves 6 and 7 are padding.
        let d = |j, leaf| decide_state_leaf(5, j, leaf, input).unwrap();
        assert_eq!(d(0, good_input), StateLeaf::Decided(Winner::Defender));
        assert_eq!(d(0, zero), StateLeaf::Decided(Winner::Challenger));
        assert_eq!(d(0, input), StateLeaf::Decided(Winner::Challenger));
        assert_eq!(d(6, zero), StateLeaf::Decided(Winner::Defender));
        assert_eq!(d(7, good_input), StateLeaf::Decided(Winner::Challenger));
        assert_eq!(d(1, zero), StateLeaf::Op(0));
        assert_eq!(d(5, zero), StateLeaf::Op(4));
        assert!(decide_state_leaf(5, 8, zero, input).is_err());
        assert_eq!(decide_element(-3, -3), Winner::Defender);
        assert_eq!(decide_element(-3, 4), Winner::Challenger);
    }

    #[test]
    fn an_opening_binds_the_worker_and_the_output() {
        let slots: Vec<B256> = (1..=4u8).map(B256::repeat_byte).collect();
        let tree = state_tree(&slots);
        let worker = Address::repeat_byte(0x11);
        let posted = trace_root(worker, tree.root());
        let opening = Opening {
            final_state: tree.root(),
            output_path: tree.proof(3).unwrap(),
        };
        check_opening(3, worker, posted, slots[3], &opening).unwrap();
        // Another worker, another output, another op count, a path one short: refused.
        let other = Address::repeat_byte(0x12);
        assert!(check_opening(3, other, posted, slots[3], &opening).is_err());
        assert!(check_opening(3, worker, posted, slots[2], &opening).is_err());
        assert!(check_opening(2, worker, posted, slots[3], &opening).is_err());
        let mut short = opening.clone();
        short.output_path.pop();
        assert!(check_opening(3, worker, posted, slots[3], &short).is_err());
        // Children, slot roots and leaves under their tags.
        let (l, r) = tree.children(0, 0).unwrap();
        check_node(Tree::State, tree.root(), l, r).unwrap();
        assert!(check_node(Tree::Tensor, tree.root(), l, r).is_err());
        assert!(check_node(Tree::State, tree.root(), r, l).is_err());
        check_slot(tree.node(2, 1).unwrap(), slots[1]).unwrap();
        assert!(check_slot(tree.node(2, 1).unwrap(), slots[2]).is_err());
        let bytes = [7u8; TENSOR_LEAF_BYTES];
        check_leaf(leaf_hash(Tag::Tensor, &bytes), &bytes).unwrap();
        assert!(check_leaf(leaf_hash(Tag::State, &bytes), &bytes).is_err());
    }
}
