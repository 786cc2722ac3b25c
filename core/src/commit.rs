//! Commitments to tensors, the final state, the trace root and models (PROTOCOL.md §3).

use crate::{
    merkle::{LEAF_PREFIX, MerkleTree, Tag, depth_for, leaf_hash, merkle_root, node_hash},
    model::{Model, Op},
};
use alloy_primitives::{Address, B256, Keccak256, keccak256};
use std::sync::OnceLock;

/// Elements (bytes) per tensor leaf.
pub const TENSOR_LEAF_BYTES: usize = 32;

/// Leaves one row of `row_len` elements occupies (rows are aligned to leaves).
pub fn leaves_per_row(row_len: usize) -> usize {
    row_len.div_ceil(TENSOR_LEAF_BYTES)
}

/// The 32-byte leaves of a tensor whose rows hold `row_len` int8 elements: each row starts a new leaf
/// and its last leaf is zero-filled.
pub fn tensor_leaves(data: &[i8], row_len: usize) -> Vec<[u8; TENSOR_LEAF_BYTES]> {
    let bytes: Vec<u8> = data.iter().map(|&x| x as u8).collect();
    byte_row_leaves(&bytes, row_len)
}

/// The 32-byte leaves of a tensor held as encoded bytes, `row_bytes` bytes a row (its elements'
/// big-endian bytes, docs/LLM_INT.md §8.2): each row starts a new leaf, its last leaf zero-filled. At
/// least one leaf, zero for an empty tensor.
pub fn byte_row_leaves(bytes: &[u8], row_bytes: usize) -> Vec<[u8; TENSOR_LEAF_BYTES]> {
    let mut leaves: Vec<[u8; TENSOR_LEAF_BYTES]> = bytes
        .chunks(row_bytes.max(1))
        .flat_map(|row| row.chunks(TENSOR_LEAF_BYTES))
        .map(|chunk| {
            let mut leaf = [0u8; TENSOR_LEAF_BYTES];
            leaf[..chunk.len()].copy_from_slice(chunk);
            leaf
        })
        .collect();
    if leaves.is_empty() {
        leaves.push([0; TENSOR_LEAF_BYTES]);
    }
    leaves
}

/// The hash of one tensor leaf ([`leaf_hash`]`(Tag::Tensor, leaf)`, its 34-byte preimage hashed in one
/// call).
pub fn tensor_leaf_hash(leaf: &[u8; TENSOR_LEAF_BYTES]) -> B256 {
    let mut preimage = [0u8; 2 + TENSOR_LEAF_BYTES];
    preimage[0] = LEAF_PREFIX;
    preimage[1] = Tag::Tensor as u8;
    preimage[2..].copy_from_slice(leaf);
    keccak256(preimage)
}

/// The padding leaf of every tensor tree: the leaf of 32 zero bytes.
pub fn tensor_pad() -> B256 {
    tensor_leaf_hash(&[0; TENSOR_LEAF_BYTES])
}

/// The roots of the all-padding subtrees of tensor trees by height: `pads[0]` the padding leaf,
/// `pads[h + 1] = node(pads[h], pads[h])`; hashed once per process.
fn tensor_pads() -> &'static [B256] {
    static PADS: OnceLock<Vec<B256>> = OnceLock::new();
    PADS.get_or_init(|| {
        let mut pads = vec![tensor_pad()];
        for h in 0..usize::BITS as usize {
            pads.push(node_hash(Tag::Tensor, &pads[h], &pads[h]));
        }
        pads
    })
}

/// Subtrees of this many leaves or more are hashed on two threads by [`byte_row_root`].
const PARALLEL_LEAVES: usize = 1 << 10;

/// The root of a tensor held as encoded bytes, `row_bytes` a row: the root of
/// [`tensor_tree_of_leaves`]`(&`[`byte_row_leaves`]`(bytes, row_bytes))`, hashed straight from
/// `bytes` without cutting the leaves or holding the tree (the padding's subtrees hashed once per
/// process), subtrees of [`PARALLEL_LEAVES`] leaves and more on rayon's threads.
pub fn byte_row_root(bytes: &[u8], row_bytes: usize) -> B256 {
    let row_bytes = row_bytes.max(1);
    let per_row = leaves_per_row(row_bytes);
    let tail = bytes.len() % row_bytes;
    let count = (bytes.len() / row_bytes * per_row + tail.div_ceil(TENSOR_LEAF_BYTES)).max(1);
    let leaf = |i: usize| {
        let row = i / per_row * row_bytes;
        let end = (row + row_bytes).min(bytes.len());
        let start = (row + i % per_row * TENSOR_LEAF_BYTES).min(end);
        let chunk = &bytes[start..(start + TENSOR_LEAF_BYTES).min(end)];
        let mut leaf = [0u8; TENSOR_LEAF_BYTES];
        leaf[..chunk.len()].copy_from_slice(chunk);
        tensor_leaf_hash(&leaf)
    };
    subtree_root(depth_for(count), 0, count, &leaf)
}

/// The root of the tensor subtree of `height` over leaves `first..first + 2^height` of a tree of
/// `count` real leaves, leaf `i` hashing to `leaf(i)`.
fn subtree_root(
    height: u32,
    first: usize,
    count: usize,
    leaf: &(impl Fn(usize) -> B256 + Sync),
) -> B256 {
    if first >= count {
        return tensor_pads()[height as usize];
    }
    if height == 0 {
        return leaf(first);
    }
    let half = 1 << (height - 1);
    let (left, right) = if half >= PARALLEL_LEAVES {
        rayon::join(
            || subtree_root(height - 1, first, count, leaf),
            || subtree_root(height - 1, first + half, count, leaf),
        )
    } else {
        (
            subtree_root(height - 1, first, count, leaf),
            subtree_root(height - 1, first + half, count, leaf),
        )
    };
    node_hash(Tag::Tensor, &left, &right)
}

/// The Merkle tree over a tensor's leaves, padded with zero leaves.
pub fn tensor_tree(data: &[i8], row_len: usize) -> MerkleTree {
    tensor_tree_of_leaves(&tensor_leaves(data, row_len))
}

/// The tensor tree over already cut 32-byte leaves (at least one), padded with zero leaves.
pub fn tensor_tree_of_leaves(leaves: &[[u8; TENSOR_LEAF_BYTES]]) -> MerkleTree {
    MerkleTree::new(
        Tag::Tensor,
        leaves.iter().map(tensor_leaf_hash).collect(),
        tensor_pad(),
    )
}

/// Root of a tensor's data, rows of `row_len` elements (its shape and zero point are fixed by the model).
pub fn tensor_root(data: &[i8], row_len: usize) -> B256 {
    tensor_tree(data, row_len).root()
}

/// The leaf of a slot in the state tree: `leaf(0x02, slotRoot)` (an empty or padding slot is
/// `slotRoot = 0`).
pub fn state_leaf(slot_root: &B256) -> B256 {
    leaf_hash(Tag::State, slot_root.as_slice())
}

/// The final state tree σ_n over the `n + 1` slot roots of a whole run (slot 0 the input, slot `i`
/// what op `i − 1` wrote), padded with [`state_leaf`]`(0)`.
pub fn state_tree(slot_roots: &[B256]) -> MerkleTree {
    let leaves = slot_roots.iter().map(state_leaf).collect();
    MerkleTree::new(Tag::State, leaves, state_leaf(&B256::ZERO))
}

/// The trace root a worker posts: `leaf(0x03, worker ‖ σ_n)`, the final state bound to the account
/// that posts it (PROTOCOL.md §3).
pub fn trace_root(worker: Address, final_state: B256) -> B256 {
    let mut data = [0u8; 52];
    data[..20].copy_from_slice(worker.as_slice());
    data[20..].copy_from_slice(final_state.as_slice());
    leaf_hash(Tag::Trace, &data)
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
    use crate::merkle::climb;
    use rand::{Rng, SeedableRng};

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
    fn byte_rows_cut_like_int8_rows() {
        // Width 1 is the int8 cut; wider rows start new leaves after their own byte length.
        let data: Vec<i8> = (0..70).map(|i| i as i8 - 35).collect();
        let bytes: Vec<u8> = data.iter().map(|&x| x as u8).collect();
        assert_eq!(byte_row_leaves(&bytes, 35), tensor_leaves(&data, 35));
        let leaves = byte_row_leaves(&[7; 80], 40);
        assert_eq!((leaves.len(), leaves[1][7], leaves[1][8]), (4, 7, 0));
        assert_eq!(byte_row_leaves(&[], 4), [[0; 32]]);
    }

    #[test]
    fn byte_row_root_is_the_tree_of_the_cut_leaves() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(crate::random::test_seed(
            "byte_row_root_is_the_tree_of_the_cut_leaves",
        ));
        // Sizes around leaf and row boundaries, a partial last row, one leaf, none, and tensors
        // large enough to be hashed in parallel (more than PARALLEL_LEAVES leaves, padded).
        let mut cases = vec![
            (0, 4),
            (1, 1),
            (32, 32),
            (33, 32),
            (40, 40),
            (70, 35),
            (96, 7),
        ];
        cases.extend([
            (3 * 1024 * 32 + 5, 3072),
            (1 << 16, 1 << 16),
            (49152 * 4, 49152 * 4),
        ]);
        for _ in 0..200 {
            cases.push((rng.random_range(0..5000), rng.random_range(1..700)));
        }
        for _ in 0..20 {
            let leaf: [u8; TENSOR_LEAF_BYTES] = rng.random();
            assert_eq!(tensor_leaf_hash(&leaf), leaf_hash(Tag::Tensor, &leaf));
        }
        for (len, row_bytes) in cases {
            let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            assert_eq!(
                byte_row_root(&bytes, row_bytes),
                tensor_tree_of_leaves(&byte_row_leaves(&bytes, row_bytes)).root(),
                "{len} bytes, rows of {row_bytes}"
            );
        }
    }

    #[test]
    fn trace_root_by_hand() {
        let worker = Address::repeat_byte(0xab);
        let sigma = B256::repeat_byte(0x17);
        let mut pre = vec![0x00, 0x03];
        pre.extend([0xab; 20]);
        pre.extend([0x17; 32]);
        assert_eq!(trace_root(worker, sigma), alloy_primitives::keccak256(&pre));
        assert_ne!(
            trace_root(Address::repeat_byte(0xac), sigma),
            trace_root(worker, sigma)
        );
        assert_ne!(
            trace_root(worker, B256::repeat_byte(0x18)),
            trace_root(worker, sigma)
        );
    }

    #[test]
    fn the_state_tree_pads_with_the_empty_slot() {
        // Three slots pad to four with leaf(0x02, 0).
        let slots: Vec<B256> = (1..=3u8).map(B256::repeat_byte).collect();
        let l = |s: &B256| leaf_hash(Tag::State, s.as_slice());
        let expect = node_hash(
            Tag::State,
            &node_hash(Tag::State, &l(&slots[0]), &l(&slots[1])),
            &node_hash(Tag::State, &l(&slots[2]), &l(&B256::ZERO)),
        );
        assert_eq!(state_tree(&slots).root(), expect);
        assert_eq!(state_leaf(&slots[1]), l(&slots[1]));
        // Every slot opens against the root at exactly the tree's depth.
        let tree = state_tree(&slots);
        for (i, s) in slots.iter().enumerate() {
            let path = tree.proof(i).unwrap();
            assert_eq!(climb(Tag::State, state_leaf(s), i, &path, 3), Some(expect));
        }
        assert_eq!(tree.proof(3), None);
    }
}
