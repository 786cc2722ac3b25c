//! Domain-separated keccak256 Merkle trees (PROTOCOL.md §3).
//!
//! `leaf(tag, data) = keccak256(0x00 ‖ tag ‖ data)`, `node(tag, l, r) = keccak256(0x01 ‖ tag ‖ l ‖ r)`.
//! Every tree type has its own [`Tag`], and the leaf/node prefixes differ, so a 64-byte leaf can never
//! pose as an inner node and a node of one tree never verifies in another.

use alloy_primitives::{B256, Keccak256, keccak256};

/// Prefix byte of a leaf preimage.
pub(crate) const LEAF_PREFIX: u8 = 0x00;
/// Prefix byte of an inner-node preimage.
const NODE_PREFIX: u8 = 0x01;

/// The domain tag of each tree type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Tag {
    /// Tensor data: 32 int8 elements per leaf.
    Tensor = 0x01,
    /// State table: one leaf per slot, holding that slot's tensor root.
    State = 0x02,
    /// Trace root: one leaf, no tree, `leaf(0x03, worker ‖ σ_n)`.
    Trace = 0x03,
    /// One op of a model: its spec, then its weight rows.
    Op = 0x04,
    /// A model: one leaf per op root.
    Model = 0x05,
}

/// Hashes one leaf of a `tag` tree.
pub fn leaf_hash(tag: Tag, data: &[u8]) -> B256 {
    let mut h = Keccak256::new();
    h.update([LEAF_PREFIX, tag as u8]);
    h.update(data);
    h.finalize()
}

/// Hashes an inner node of a `tag` tree from its two children (its 66-byte preimage in one call).
pub fn node_hash(tag: Tag, left: &B256, right: &B256) -> B256 {
    let mut preimage = [0u8; 66];
    preimage[0] = NODE_PREFIX;
    preimage[1] = tag as u8;
    preimage[2..34].copy_from_slice(left.as_slice());
    preimage[34..].copy_from_slice(right.as_slice());
    keccak256(preimage)
}

/// Depth of a tree over `leaf_count` leaves: `⌈log2 leaf_count⌉` (0 for one leaf).
pub fn depth_for(leaf_count: usize) -> u32 {
    leaf_count.max(1).next_power_of_two().trailing_zeros()
}

/// A fully materialised tree: every level, leaves first, padded to a power of two.
#[derive(Debug, Clone)]
pub struct MerkleTree {
    tag: Tag,
    leaf_count: usize,
    /// `levels[0]` are the (padded) leaves, the last level is `[root]`.
    levels: Vec<Vec<B256>>,
}

impl MerkleTree {
    /// Builds the tree over `leaves` (already hashed), padding with `pad` to a power of two.
    ///
    /// # Panics
    /// If `leaves` is empty: every tree in the protocol has at least one leaf.
    pub fn new(tag: Tag, mut leaves: Vec<B256>, pad: B256) -> Self {
        assert!(!leaves.is_empty(), "a Merkle tree needs at least one leaf");
        let leaf_count = leaves.len();
        leaves.resize(leaf_count.next_power_of_two(), pad);
        let mut levels = vec![leaves];
        // Nodes over padding alone are the padding subtree's hash, one per level: hashed once.
        let (mut real, mut pad) = (leaf_count, pad);
        while levels.last().map_or(0, Vec::len) > 1 {
            let below = levels.last().expect("at least one level");
            real = real.div_ceil(2);
            pad = node_hash(tag, &pad, &pad);
            let mut above: Vec<B256> = below[..2 * real]
                .chunks_exact(2)
                .map(|pair| node_hash(tag, &pair[0], &pair[1]))
                .collect();
            above.resize(below.len() / 2, pad);
            levels.push(above);
        }
        Self {
            tag,
            leaf_count,
            levels,
        }
    }

    /// The root.
    pub fn root(&self) -> B256 {
        self.levels.last().expect("at least one level")[0]
    }

    /// Number of leaves before padding.
    pub fn leaf_count(&self) -> usize {
        self.leaf_count
    }

    /// The tree's depth (number of siblings in a proof).
    pub fn depth(&self) -> u32 {
        (self.levels.len() - 1) as u32
    }

    /// The node at `depth` levels below the root (0 is the root, [`MerkleTree::depth`] the leaves) and
    /// `index` from the left on that level; `None` outside the padded tree (`index ≥ 2^depth`).
    pub fn node(&self, depth: u32, index: usize) -> Option<B256> {
        let level = self.depth().checked_sub(depth)?;
        self.levels[level as usize].get(index).copied()
    }

    /// The two children `(2·index, 2·index + 1)` of the inner node `(depth, index)`; `None` for a leaf or
    /// a position outside the tree.
    pub fn children(&self, depth: u32, index: usize) -> Option<(B256, B256)> {
        if depth >= self.depth() || self.node(depth, index).is_none() {
            return None;
        }
        Some((
            self.node(depth + 1, 2 * index)?,
            self.node(depth + 1, 2 * index + 1)?,
        ))
    }

    /// The shallowest, then leftmost, position `(depth, index)` of a node or leaf whose hash is `hash`,
    /// or `None` if the tree holds none. Equal hashes have equal preimages, so any occurrence has the
    /// same children (or leaf data). A scan of the levels from the root down: cost proportional to the
    /// nodes above and on the level found.
    pub fn find(&self, hash: &B256) -> Option<(u32, usize)> {
        self.levels
            .iter()
            .rev()
            .enumerate()
            .find_map(|(d, level)| level.iter().position(|h| h == hash).map(|i| (d as u32, i)))
    }

    /// Replaces leaf `index` of the padded tree (`index < 2^depth`, padding positions included) with
    /// `leaf` and rehashes its ancestors (`depth` hashes). The leaf count is unchanged. `false` (and
    /// nothing changed) when `index` is outside the padded tree.
    pub fn set_leaf(&mut self, index: usize, leaf: B256) -> bool {
        self.set_leaves(&[(index, leaf)])
    }

    /// Replaces several leaves of the padded tree at once and rehashes each changed ancestor once:
    /// `k` leaves spread over the tree cost at most `k · depth` hashes, fewer where their paths meet.
    /// `false` (and nothing changed) when any index is outside the padded tree.
    pub fn set_leaves(&mut self, updates: &[(usize, B256)]) -> bool {
        if updates.iter().any(|&(i, _)| i >= self.levels[0].len()) {
            return false;
        }
        let mut dirty: Vec<usize> = updates.iter().map(|&(i, _)| i).collect();
        for &(i, leaf) in updates {
            self.levels[0][i] = leaf;
        }
        for level in 1..self.levels.len() {
            dirty.iter_mut().for_each(|i| *i >>= 1);
            dirty.sort_unstable();
            dirty.dedup();
            let (below, above) = self.levels.split_at_mut(level);
            let below = &below[level - 1];
            for &i in &dirty {
                above[0][i] = node_hash(self.tag, &below[2 * i], &below[2 * i + 1]);
            }
        }
        true
    }

    /// The siblings from leaf `index` up to the root, or `None` if `index` is not a real leaf.
    pub fn proof(&self, index: usize) -> Option<Vec<B256>> {
        if index >= self.leaf_count {
            return None;
        }
        let mut i = index;
        let siblings = self.levels[..self.levels.len() - 1]
            .iter()
            .map(|level| {
                let s = level[i ^ 1];
                i >>= 1;
                s
            })
            .collect();
        Some(siblings)
    }

    /// The proof of the run of leaves `[first, first + count)`: the siblings its climb needs, level by
    /// level from the leaves up, at most two a level (the one left of the run's first node when that
    /// node is a right child, then the one right of its last when that is a left child). `None` unless
    /// `count ≥ 1` and the run lies within the real leaves.
    pub fn range_proof(&self, first: usize, count: usize) -> Option<Vec<B256>> {
        if count == 0 || first.checked_add(count)? > self.leaf_count {
            return None;
        }
        let (mut lo, mut hi) = (first, first + count - 1);
        let mut siblings = Vec::new();
        for level in &self.levels[..self.levels.len() - 1] {
            if lo & 1 == 1 {
                siblings.push(level[lo - 1]);
            }
            if hi & 1 == 0 {
                siblings.push(level[hi + 1]);
            }
            (lo, hi) = (lo >> 1, hi >> 1);
        }
        Some(siblings)
    }
}

/// Root of a tree over `leaves` padded with `pad` (see [`MerkleTree::new`]).
pub fn merkle_root(tag: Tag, leaves: Vec<B256>, pad: B256) -> B256 {
    MerkleTree::new(tag, leaves, pad).root()
}

/// Recomputes the root from a leaf, its index and its siblings.
///
/// Checks what the contract checks: the path has exactly the tree's depth and the index is below the
/// leaf count. Returns `None` when either check fails.
pub fn climb(
    tag: Tag,
    leaf: B256,
    index: usize,
    siblings: &[B256],
    leaf_count: usize,
) -> Option<B256> {
    if index >= leaf_count || siblings.len() as u32 != depth_for(leaf_count) {
        return None;
    }
    let mut i = index;
    let mut acc = leaf;
    for s in siblings {
        acc = if i & 1 == 0 {
            node_hash(tag, &acc, s)
        } else {
            node_hash(tag, s, &acc)
        };
        i >>= 1;
    }
    Some(acc)
}

/// Recomputes the root from a run of consecutive leaves starting at `first` and its
/// [`MerkleTree::range_proof`], checking what the contract checks: the run lies within the
/// `leaf_count` real leaves and the proof has exactly the siblings the climb takes. `None` otherwise.
pub fn climb_range(
    tag: Tag,
    leaves: &[B256],
    first: usize,
    siblings: &[B256],
    leaf_count: usize,
) -> Option<B256> {
    if leaves.is_empty() || first + leaves.len() > leaf_count {
        return None;
    }
    let mut nodes = leaves.to_vec();
    let mut lo = first;
    let mut proof = siblings.iter();
    for _ in 0..depth_for(leaf_count) {
        if lo & 1 == 1 {
            nodes.insert(0, *proof.next()?);
            lo -= 1;
        }
        if nodes.len() % 2 == 1 {
            nodes.push(*proof.next()?);
        }
        nodes = nodes
            .chunks_exact(2)
            .map(|pair| node_hash(tag, &pair[0], &pair[1]))
            .collect();
        lo >>= 1;
    }
    (proof.next().is_none() && nodes.len() == 1).then(|| nodes[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: usize, salt: u8) -> Vec<B256> {
        (0..n)
            .map(|i| leaf_hash(Tag::Tensor, &[salt, i as u8, (i >> 8) as u8]))
            .collect()
    }

    #[test]
    fn leaf_and_node_are_domain_separated() {
        let l = B256::repeat_byte(1);
        let r = B256::repeat_byte(2);
        let mut concat = l.to_vec();
        concat.extend_from_slice(r.as_slice());
        assert_ne!(
            leaf_hash(Tag::Tensor, &concat),
            node_hash(Tag::Tensor, &l, &r)
        );
        assert_ne!(
            node_hash(Tag::Tensor, &l, &r),
            node_hash(Tag::State, &l, &r)
        );
        assert_ne!(leaf_hash(Tag::Tensor, &[]), leaf_hash(Tag::Op, &[]));
    }

    #[test]
    fn hashes_are_keccak_of_their_preimages() {
        let (l, r) = (B256::repeat_byte(0x11), B256::repeat_byte(0x22));
        let mut node = vec![0x01, Tag::Op as u8];
        node.extend_from_slice(l.as_slice());
        node.extend_from_slice(r.as_slice());
        assert_eq!(node_hash(Tag::Op, &l, &r), keccak256(&node));
        let mut leaf = vec![0x00, Tag::State as u8];
        leaf.extend_from_slice(&[7; 40]);
        assert_eq!(leaf_hash(Tag::State, &[7; 40]), keccak256(&leaf));
    }

    #[test]
    fn known_vector_single_leaf_is_root() {
        // One leaf: depth 0, the root is the leaf itself.
        let l = leaf_hash(Tag::Tensor, &[7; 32]);
        assert_eq!(merkle_root(Tag::Tensor, vec![l], B256::ZERO), l);
        // Three leaves pad to four with the padding leaf.
        let ls = leaves(3, 9);
        let pad = B256::repeat_byte(0xaa);
        let expect = node_hash(
            Tag::Tensor,
            &node_hash(Tag::Tensor, &ls[0], &ls[1]),
            &node_hash(Tag::Tensor, &ls[2], &pad),
        );
        assert_eq!(merkle_root(Tag::Tensor, ls, pad), expect);
    }

    proptest! {
        #[test]
        fn every_proof_climbs_to_the_root(n in 1usize..300, salt: u8, pick in 0usize..300) {
            let tree = MerkleTree::new(Tag::Trace, leaves(n, salt), B256::ZERO);
            let i = pick % n;
            let proof = tree.proof(i).unwrap();
            prop_assert_eq!(proof.len() as u32, depth_for(n));
            let leaf = leaves(n, salt)[i];
            prop_assert_eq!(climb(Tag::Trace, leaf, i, &proof, n), Some(tree.root()));
        }

        #[test]
        fn nodes_and_children_are_the_tree(n in 1usize..300, salt: u8) {
            let tree = MerkleTree::new(Tag::Tensor, leaves(n, salt), B256::repeat_byte(7));
            let depth = tree.depth();
            prop_assert_eq!(tree.node(0, 0), Some(tree.root()));
            prop_assert_eq!(tree.node(0, 1), None);
            prop_assert_eq!(tree.node(depth + 1, 0), None);
            for (i, leaf) in leaves(n, salt).into_iter().enumerate() {
                prop_assert_eq!(tree.node(depth, i), Some(leaf));
            }
            prop_assert_eq!(tree.node(depth, n.next_power_of_two() - 1).is_some(), true);
            prop_assert_eq!(tree.node(depth, n.next_power_of_two()), None);
            prop_assert_eq!(tree.children(depth, 0), None);
            for d in 0..depth {
                for i in 0..1usize << d {
                    let (l, r) = tree.children(d, i).unwrap();
                    prop_assert_eq!(node_hash(Tag::Tensor, &l, &r), tree.node(d, i).unwrap());
                }
                prop_assert_eq!(tree.children(d, 1 << d), None);
            }
        }

        #[test]
        fn find_and_set_leaf_agree_with_a_rebuilt_tree(n in 1usize..300, salt: u8, pick: usize) {
            let mut tree = MerkleTree::new(Tag::State, leaves(n, salt), B256::repeat_byte(7));
            let depth = tree.depth();
            let padded = n.next_power_of_two();
            let i = pick % padded;
            // Every node is found where it is, or at an earlier position with the same hash.
            let (d, j) = tree.find(&tree.node(depth, i).unwrap()).unwrap();
            prop_assert_eq!(tree.node(d, j), tree.node(depth, i));
            prop_assert_eq!(tree.find(&tree.root()), Some((0, 0)));
            prop_assert_eq!(tree.find(&B256::repeat_byte(8)), None);
            // Replacing a leaf (padding included) is rebuilding the tree with it.
            let junk = B256::repeat_byte(9);
            let mut all = leaves(n, salt);
            all.resize(padded, B256::repeat_byte(7));
            all[i] = junk;
            let rebuilt = MerkleTree::new(Tag::State, all, B256::ZERO);
            prop_assert!(tree.set_leaf(i, junk));
            prop_assert_eq!(tree.root(), rebuilt.root());
            prop_assert_eq!(tree.leaf_count(), n);
            prop_assert_eq!(tree.find(&junk), Some((depth, i)));
            prop_assert!(!tree.set_leaf(padded, junk));
            prop_assert_eq!(tree.root(), rebuilt.root());
        }

        #[test]
        fn set_leaves_is_a_rebuilt_tree(n in 1usize..300, salt: u8, picks in proptest::collection::vec(0usize..512, 0..20)) {
            let mut tree = MerkleTree::new(Tag::Tensor, leaves(n, salt), B256::repeat_byte(7));
            let padded = n.next_power_of_two();
            let mut all = leaves(n, salt);
            all.resize(padded, B256::repeat_byte(7));
            let updates: Vec<(usize, B256)> = picks
                .iter()
                .map(|&p| (p % padded, B256::repeat_byte(p as u8)))
                .collect();
            for &(i, leaf) in &updates {
                all[i] = leaf;
            }
            prop_assert!(tree.set_leaves(&updates));
            prop_assert_eq!(tree.root(), MerkleTree::new(Tag::Tensor, all, B256::ZERO).root());
            prop_assert!(!tree.set_leaves(&[(0, B256::ZERO), (padded, B256::ZERO)]));
        }

        #[test]
        fn every_range_proof_climbs_to_the_root(n in 1usize..300, salt: u8, a in 0usize..300, len in 1usize..40) {
            let all = leaves(n, salt);
            let tree = MerkleTree::new(Tag::Tensor, all.clone(), B256::repeat_byte(7));
            let first = a % n;
            let count = len.min(n - first);
            let proof = tree.range_proof(first, count).unwrap();
            prop_assert!(proof.len() <= 2 * depth_for(n) as usize);
            let run = &all[first..first + count];
            prop_assert_eq!(climb_range(Tag::Tensor, run, first, &proof, n), Some(tree.root()));
            // One leaf is the single-leaf proof.
            if count == 1 {
                prop_assert_eq!(Some(proof.clone()), tree.proof(first));
            }
            // A shifted run, a changed leaf, a short or long proof, a run past the leaves: refused.
            if first + count < n {
                prop_assert_ne!(climb_range(Tag::Tensor, run, first + 1, &proof, n), Some(tree.root()));
            }
            let mut changed = run.to_vec();
            changed[count - 1] = B256::repeat_byte(9);
            prop_assert_ne!(climb_range(Tag::Tensor, &changed, first, &proof, n), Some(tree.root()));
            if !proof.is_empty() {
                prop_assert_eq!(climb_range(Tag::Tensor, run, first, &proof[1..], n), None);
            }
            let mut long = proof.clone();
            long.push(B256::ZERO);
            prop_assert_eq!(climb_range(Tag::Tensor, run, first, &long, n), None);
            prop_assert_eq!(climb_range(Tag::Tensor, run, n - count + 1, &proof, n), None);
            prop_assert_eq!(tree.range_proof(first, 0), None);
            prop_assert_eq!(tree.range_proof(first, n - first + 1), None);
        }

        #[test]
        fn proofs_fail_for_wrong_index_depth_or_tag(n in 2usize..200, salt: u8, pick in 0usize..200) {
            let tree = MerkleTree::new(Tag::Trace, leaves(n, salt), B256::ZERO);
            let i = pick % n;
            let proof = tree.proof(i).unwrap();
            let leaf = leaves(n, salt)[i];
            // Out of range index (a padding position) is refused outright.
            prop_assert_eq!(climb(Tag::Trace, leaf, n, &proof, n), None);
            // A path one level short or long is refused.
            prop_assert_eq!(climb(Tag::Trace, leaf, i, &proof[1..], n), None);
            let mut long = proof.clone();
            long.push(B256::ZERO);
            prop_assert_eq!(climb(Tag::Trace, leaf, i, &long, n), None);
            // Another tree's tag does not reach this root.
            prop_assert_ne!(climb(Tag::State, leaf, i, &proof, n), Some(tree.root()));
            // Another index with the same leaf does not reach it either.
            let j = (i + 1) % n;
            prop_assert_ne!(climb(Tag::Trace, leaf, j, &proof, n), Some(tree.root()));
        }
    }
}
