//! Commitments to tensors, states, traces and models (PROTOCOL.md §3).

use crate::{
    merkle::{MerkleTree, Tag, leaf_hash, merkle_root},
    model::{Model, Op},
};
use alloy_primitives::{B256, Keccak256};

/// Elements (bytes) per tensor leaf.
pub const TENSOR_LEAF_BYTES: usize = 32;

/// Leaves one row of `row_len` elements occupies (rows are aligned to leaves).
pub fn leaves_per_row(row_len: usize) -> usize {
    row_len.div_ceil(TENSOR_LEAF_BYTES)
}

/// The 32-byte leaves of a tensor whose rows hold `row_len` elements: each row starts a new leaf and
/// its last leaf is zero-filled.
pub fn tensor_leaves(data: &[i8], row_len: usize) -> Vec<[u8; TENSOR_LEAF_BYTES]> {
    let row_len = row_len.max(1);
    let mut leaves: Vec<[u8; TENSOR_LEAF_BYTES]> = data
        .chunks(row_len)
        .flat_map(|row| row.chunks(TENSOR_LEAF_BYTES))
        .map(|chunk| {
            let mut leaf = [0u8; TENSOR_LEAF_BYTES];
            for (dst, &src) in leaf.iter_mut().zip(chunk) {
                *dst = src as u8;
            }
            leaf
        })
        .collect();
    if leaves.is_empty() {
        leaves.push([0; TENSOR_LEAF_BYTES]);
    }
    leaves
}

/// The Merkle tree over a tensor's leaves, padded with zero leaves.
pub fn tensor_tree(data: &[i8], row_len: usize) -> MerkleTree {
    tensor_tree_of_leaves(&tensor_leaves(data, row_len))
}

/// The tensor tree over already cut 32-byte leaves (at least one), padded with zero leaves.
pub fn tensor_tree_of_leaves(leaves: &[[u8; TENSOR_LEAF_BYTES]]) -> MerkleTree {
    let leaves = leaves.iter().map(|l| leaf_hash(Tag::Tensor, l)).collect();
    MerkleTree::new(
        Tag::Tensor,
        leaves,
        leaf_hash(Tag::Tensor, &[0; TENSOR_LEAF_BYTES]),
    )
}

/// Root of a tensor's data, rows of `row_len` elements (its shape and zero point are fixed by the model).
pub fn tensor_root(data: &[i8], row_len: usize) -> B256 {
    tensor_tree(data, row_len).root()
}

/// The state tree over `slots` (slot roots; `B256::ZERO` marks an empty slot).
pub fn state_tree(slots: &[B256]) -> MerkleTree {
    let leaves = slots
        .iter()
        .map(|s| leaf_hash(Tag::State, s.as_slice()))
        .collect();
    MerkleTree::new(
        Tag::State,
        leaves,
        leaf_hash(Tag::State, B256::ZERO.as_slice()),
    )
}

/// The state table after `k` ops: the `n + 1` slot roots of a full run with slots `k + 1..=n` emptied.
///
/// # Panics
/// If `k` is not a slot index (`k ≥ slot_roots.len()`).
pub fn state_table(slot_roots: &[B256], k: usize) -> Vec<B256> {
    let mut slots = vec![B256::ZERO; slot_roots.len()];
    slots[..=k].copy_from_slice(&slot_roots[..=k]);
    slots
}

/// σ_k for every k = 0..=n, given the `n + 1` slot tensor roots of a full run.
pub fn state_roots(slot_roots: &[B256]) -> Vec<B256> {
    (0..slot_roots.len())
        .map(|k| state_tree(&state_table(slot_roots, k)).root())
        .collect()
}

/// σ_0 of a model with `n` ops on an input whose tensor root is `input_root`: what the contract
/// computes itself from the job's input.
pub fn sigma0(input_root: B256, n: usize) -> B256 {
    let mut slots = vec![B256::ZERO; n + 1];
    slots[0] = input_root;
    state_tree(&slots).root()
}

/// The state-tree path (siblings) of `slot` in the state whose table is `slots` (`n + 1` roots, see
/// [`state_table`]), or `None` if `slot` is not a slot.
pub fn state_path(slots: &[B256], slot: usize) -> Option<Vec<B256>> {
    state_tree(slots).proof(slot)
}

/// The path `P` of the phase 1→2 transition at step `k` (op `k` writes slot `k + 1`): the siblings of
/// slot `k + 1`, identical in σ_k and σ_{k+1}, so that `climb(leaf(0x02, 0…0), k + 1, P) = σ_k` and
/// `climb(leaf(0x02, T), k + 1, P) = σ_{k+1}`. `None` unless `k + 1` is a slot of `slot_roots` (the
/// `n + 1` slot roots of a full run).
pub fn transition_path(slot_roots: &[B256], k: usize) -> Option<Vec<B256>> {
    if k + 1 >= slot_roots.len() {
        return None;
    }
    state_path(&state_table(slot_roots, k), k + 1)
}

/// The trace tree over σ_0 … σ_n.
pub fn trace_tree(state_roots: &[B256]) -> MerkleTree {
    let leaves = state_roots
        .iter()
        .map(|s| leaf_hash(Tag::Trace, s.as_slice()))
        .collect();
    MerkleTree::new(
        Tag::Trace,
        leaves,
        leaf_hash(Tag::Trace, B256::ZERO.as_slice()),
    )
}

/// The tree of one op: leaf 0 is its spec, leaf `1 + r` its weight row `r` ([`Op::leaves`]), padded
/// with `leaf(0x04, empty)`.
pub fn op_tree(op: &Op) -> MerkleTree {
    let leaves = op.leaves().iter().map(|l| leaf_hash(Tag::Op, l)).collect();
    MerkleTree::new(Tag::Op, leaves, leaf_hash(Tag::Op, &[]))
}

/// Root of one op's tree: its spec leaf, then its weight rows.
pub fn op_root(op: &Op) -> B256 {
    op_tree(op).root()
}

/// The model root: `keccak256(0x02 ‖ 0x05 ‖ u32 n ‖ input shape ‖ i8 z_in ‖ output shape ‖ opsRoot)`,
/// shapes as `u32 H ‖ u32 W ‖ u32 C`.
pub fn model_root(model: &Model) -> B256 {
    let leaves = model
        .ops
        .iter()
        .map(|op| leaf_hash(Tag::Model, op_root(op).as_slice()))
        .collect();
    let ops_root = merkle_root(
        Tag::Model,
        leaves,
        leaf_hash(Tag::Model, B256::ZERO.as_slice()),
    );
    let mut h = Keccak256::new();
    h.update([0x02, Tag::Model as u8]);
    h.update((model.ops.len() as u32).to_be_bytes());
    h.update(model.input.to_bytes());
    h.update([model.input_zero as u8]);
    h.update(model.output().to_bytes());
    h.update(ops_root);
    h.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{climb, node_hash};
    use proptest::prelude::*;

    #[test]
    fn tensor_root_by_hand() {
        // 40 bytes: two leaves, the second zero-filled after 8 bytes; depth 1.
        let data: Vec<i8> = (0..40).map(|i| (i as i8).wrapping_sub(20)).collect();
        let mut l0 = [0u8; 32];
        let mut l1 = [0u8; 32];
        for i in 0..32 {
            l0[i] = data[i] as u8;
        }
        for i in 0..8 {
            l1[i] = data[32 + i] as u8;
        }
        let expect = node_hash(
            Tag::Tensor,
            &leaf_hash(Tag::Tensor, &l0),
            &leaf_hash(Tag::Tensor, &l1),
        );
        assert_eq!(tensor_root(&data, 40), expect);
    }

    #[test]
    fn zero_padding_is_the_zero_leaf() {
        // Three leaves of data pad to four: the padding leaf equals a leaf of 32 zero elements, so a
        // tensor of 96 elements equals one of 128 elements whose last 32 are zero.
        let a = vec![5i8; 96];
        let mut b = a.clone();
        b.extend([0; 32]);
        assert_eq!(tensor_root(&a, 96), tensor_root(&b, 128));
        // …but trailing zeros inside the last leaf do matter only through the leaf bytes, which are
        // zero-filled the same way: 10 elements and the same 10 plus 22 zeros commit equally.
        assert_eq!(
            tensor_root(&[1; 10], 10),
            tensor_root(&[&[1i8; 10][..], &[0i8; 22][..]].concat(), 32)
        );
    }

    #[test]
    fn rows_start_new_leaves() {
        // 4 rows of 3: four leaves, each holding one row and 29 zeros.
        let data: Vec<i8> = (1..=12).collect();
        let leaves = tensor_leaves(&data, 3);
        assert_eq!(leaves.len(), 4);
        assert_eq!(&leaves[2][..4], &[7, 8, 9, 0]);
        // Rows of 40: two leaves per row.
        assert_eq!(tensor_leaves(&[1; 80], 40).len(), 4);
        assert_ne!(tensor_root(&data, 3), tensor_root(&data, 12));
    }

    #[test]
    fn sigma0_is_the_first_state_root() {
        let slots: Vec<B256> = (1..=5u8).map(B256::repeat_byte).collect();
        assert_eq!(sigma0(slots[0], 4), state_roots(&slots)[0]);
        assert_ne!(sigma0(slots[0], 3), state_roots(&slots)[0]);
    }

    proptest! {
        #[test]
        fn transition_path_climbs_to_both_states(n in 1usize..40, salt: u8, pick in 0usize..40) {
            let slots: Vec<B256> = (0..=n)
                .map(|i| leaf_hash(Tag::Tensor, &[salt, i as u8]))
                .collect();
            let sigma = state_roots(&slots);
            let k = pick % n;
            let path = transition_path(&slots, k).unwrap();
            let empty = leaf_hash(Tag::State, B256::ZERO.as_slice());
            let t = leaf_hash(Tag::State, slots[k + 1].as_slice());
            prop_assert_eq!(climb(Tag::State, empty, k + 1, &path, n + 1), Some(sigma[k]));
            prop_assert_eq!(climb(Tag::State, t, k + 1, &path, n + 1), Some(sigma[k + 1]));
            prop_assert_eq!(transition_path(&slots, n), None);
            // Every filled slot of σ_k opens against σ_k.
            let table = state_table(&slots, k);
            for (s, root) in slots.iter().enumerate().take(k + 1) {
                let p = state_path(&table, s).unwrap();
                let leaf = leaf_hash(Tag::State, root.as_slice());
                prop_assert_eq!(climb(Tag::State, leaf, s, &p, n + 1), Some(sigma[k]));
            }
            prop_assert_eq!(state_path(&table, n + 1), None);
        }
    }

    #[test]
    fn state_roots_fill_one_slot_per_step() {
        let slots: Vec<B256> = (1..=4u8).map(B256::repeat_byte).collect();
        let roots = state_roots(&slots);
        assert_eq!(roots.len(), 4);
        let expect1 = state_tree(&[slots[0], slots[1], B256::ZERO, B256::ZERO]).root();
        assert_eq!(roots[1], expect1);
        assert_eq!(roots[3], state_tree(&slots).root());
        assert!(roots.windows(2).all(|w| w[0] != w[1]));
    }
}
