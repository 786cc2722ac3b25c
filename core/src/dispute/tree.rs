//! Walks down one party's Merkle trees (PROTOCOL.md §6.2–6.3), whatever its model: the node at a
//! position, the children it reveals by hash, the leftmost child that differs from the other side's,
//! its own walk to a state leaf, the check that a revealed walk chains, and the state path of an
//! earlier slot seen through the defender's walk. Every party ([`super::Party`] for tensor models,
//! the language models' party in `vouch-llm`) answers and decides with these.

use super::position::{Position, Side};
use crate::{
    error::{CoreError, Result},
    merkle::{MerkleTree, Tag, node_hash},
};
use alloy_primitives::B256;

/// The revealed children `(left, right)` of each node on a walk down the state tree, root first: the
/// defender's values the challenger saw, `D_s` pairs for a walk that reached a leaf.
pub type Walk = [(B256, B256)];

/// The node at `pos` of `tree`, or an error naming what is out of range.
pub fn node_at(tree: &MerkleTree, pos: Position) -> Result<B256> {
    tree.node(pos.depth, pos.index).ok_or_else(|| {
        if pos.depth > tree.depth() {
            CoreError::OutOfRange {
                what: "node depth",
                index: pos.depth as usize,
                limit: tree.depth() as usize + 1,
            }
        } else {
            CoreError::OutOfRange {
                what: "node index",
                index: pos.index,
                limit: 1 << pos.depth,
            }
        }
    })
}

/// Replaces leaf `j` of a party's final state tree by `leaf`, any hash (a liar's junk in a padding or
/// input slot, or a slot it cannot open); an error past the tree's leaves.
pub fn replace_leaf(state: &mut MerkleTree, j: usize, leaf: B256) -> Result<()> {
    if state.set_leaf(j, leaf) {
        return Ok(());
    }
    Err(CoreError::OutOfRange {
        what: "state leaf",
        index: j,
        limit: 1 << state.depth(),
    })
}

/// The children of the inner node with hash `node` in `tree` (a defender's reveal by hash); `what`
/// names the tree in the error ([`CoreError::NotOurs`]) when it holds no such inner node.
pub fn children_of(tree: &MerkleTree, node: &B256, what: &str) -> Result<(B256, B256)> {
    tree.find(node)
        .and_then(|(d, i)| tree.children(d, i))
        .ok_or_else(|| CoreError::NotOurs(format!("inner node {node} of the {what} tree")))
}

/// The first child of the inner node `pos` of `tree` whose hash differs from the revealed one, left
/// first (a challenger's pick); [`CoreError::NoDifference`] if neither does, `what` naming the tree.
pub fn pick(tree: &MerkleTree, pos: Position, left: B256, right: B256, what: &str) -> Result<Side> {
    node_at(tree, pos)?;
    if pos.is_leaf(tree.depth()) {
        return Err(CoreError::OutOfRange {
            what: "inner-node depth",
            index: pos.depth as usize,
            limit: tree.depth() as usize,
        });
    }
    let (own_left, own_right) = tree
        .children(pos.depth, pos.index)
        .expect("an inner node in the tree");
    if left != own_left {
        Ok(Side::Left)
    } else if right != own_right {
        Ok(Side::Right)
    } else {
        Err(CoreError::NoDifference(format!(
            "both children of node ({}, {}) of {what} are ours",
            pos.depth, pos.index
        )))
    }
}

/// `tree`'s own walk to leaf `j`: the children of each node on its path, root first (what an honest
/// defender reveals on the way to `j`).
pub fn walk_to(tree: &MerkleTree, j: usize) -> Result<Vec<(B256, B256)>> {
    let depth = tree.depth();
    let leaf = Position { depth, index: j };
    if !leaf.is_in(depth) {
        return Err(CoreError::OutOfRange {
            what: "state leaf",
            index: j,
            limit: 1 << depth,
        });
    }
    Ok((0..depth)
        .map(|d| {
            let pos = leaf.ancestor(d).expect("above the leaf");
            tree.children(pos.depth, pos.index)
                .expect("an inner node on the path")
        })
        .collect())
}

/// Checks that `walk` is a walk down a state tree of depth `depth` to leaf `j`: `depth` pairs, each
/// pair hashing to the child the walk took from the pair above.
pub fn check_walk(depth: u32, j: usize, walk: &Walk) -> Result<()> {
    if walk.len() != depth as usize {
        return Err(CoreError::InvalidMove(format!(
            "a walk of {} pairs to a state leaf, the state tree has depth {depth}",
            walk.len()
        )));
    }
    let leaf = Position { depth, index: j };
    for d in 1..depth {
        let (l, r) = walk[d as usize - 1];
        let taken = match leaf.ancestor(d).and_then(Position::side) {
            Some(Side::Right) => r,
            _ => l,
        };
        let (cl, cr) = walk[d as usize];
        if node_hash(Tag::State, &cl, &cr) != taken {
            return Err(CoreError::ProofMismatch(format!(
                "revealed state children at depth {d} of the walk to slot {j}"
            )));
        }
    }
    Ok(())
}

/// The state path (siblings, leaf first) of slot `s ≤ j` in the defender's σ_n, seen through its
/// `walk` to leaf `j` (checked with [`check_walk`]) and this party's own state tree `own`: where
/// `s`'s parent lies on the walk, the sibling is the revealed child opposite `s`'s ancestor; below
/// that, `s`'s subtree is left of the walk and this party's own (the leftmost-difference walk went
/// right of it, so it was agreed).
pub fn state_path_beside(own: &MerkleTree, s: usize, j: usize, walk: &Walk) -> Vec<B256> {
    let depth = own.depth();
    let (slot, target) = (Position { depth, index: s }, Position { depth, index: j });
    (1..=depth)
        .rev()
        .map(|d| {
            let node = slot.ancestor(d).expect("above the leaf");
            if slot.ancestor(d - 1) == target.ancestor(d - 1) {
                let (l, r) = walk[d as usize - 1];
                if node.side() == Some(Side::Left) {
                    r
                } else {
                    l
                }
            } else {
                own.node(d, node.index ^ 1).expect("a sibling in the tree")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commit::state_tree;

    #[test]
    fn paths_beside_an_honest_walk_are_the_trees_own() {
        let roots: Vec<B256> = (1..=11u8).map(B256::repeat_byte).collect();
        let tree = state_tree(&roots);
        for j in 0..16 {
            let walk = walk_to(&tree, j).unwrap();
            check_walk(tree.depth(), j, &walk).unwrap();
            for s in 0..=j.min(roots.len() - 1) {
                assert_eq!(
                    state_path_beside(&tree, s, j, &walk),
                    tree.proof(s).unwrap()
                );
            }
        }
        assert!(walk_to(&tree, 16).is_err());
        let walk = walk_to(&tree, 5).unwrap();
        assert!(matches!(
            check_walk(tree.depth(), 5, &walk[1..]),
            Err(CoreError::InvalidMove(_))
        ));
        assert!(matches!(
            check_walk(tree.depth(), 6, &walk),
            Err(CoreError::ProofMismatch(_))
        ));
    }
}
