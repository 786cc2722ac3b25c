// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {EmptyTree, LeafIndexOutOfRange, PathLengthMismatch, RangeProofLengthMismatch, TreeFull} from "./Errors.sol";

/// @notice The leaves folded so far into an append-only Merkle tree (PROTOCOL §3), in O(depth) storage.
/// @dev `branch[i]` holds the root of the last complete subtree of height `i` whose right sibling has not
/// been appended yet; it is meaningful only while bit `i` of `count` is set. Entries are never cleared:
/// `append` reads `branch[i]` only after writing it since the last `reset`.
struct Frontier {
    uint256 count;
    bytes32[32] branch;
}

/// @title LibMerkle
/// @notice The commitment hashes of PROTOCOL §3:
///   leaf(tag, data) = keccak256(0x00 ‖ tag ‖ data)
///   node(tag, l, r) = keccak256(0x01 ‖ tag ‖ l ‖ r)
///   merkle(tag, leaves[0..m), pad): pad to 2^⌈log2 m⌉ leaves with `pad`, hash pairs with node(tag, ·, ·).
/// A one-byte domain tag per tree type and distinct leaf/node prefixes keep every tree apart from every
/// other, and a leaf from ever posing as a node.
library LibMerkle {
    uint8 internal constant TAG_TENSOR = 0x01;
    uint8 internal constant TAG_STATE = 0x02;
    uint8 internal constant TAG_TRACE = 0x03;
    uint8 internal constant TAG_OP = 0x04;
    uint8 internal constant TAG_MODEL = 0x05;

    /// @dev A frontier of 32 branches folds at most 2^32 − 1 leaves.
    uint256 internal constant MAX_LEAVES = (1 << 32) - 1;

    /// @notice leaf(tag, data) for data in memory.
    function leaf(uint8 tag, bytes memory data) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40) // scratch past the free memory pointer, never allocated
            let len := mload(data)
            mstore(ptr, shl(240, and(tag, 0xff))) // 0x00 ‖ tag
            mcopy(add(ptr, 2), add(data, 0x20), len)
            h := keccak256(ptr, add(len, 2))
        }
    }

    /// @notice leaf(tag, data) for data in calldata.
    function leafCalldata(uint8 tag, bytes calldata data) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, shl(240, and(tag, 0xff)))
            calldatacopy(add(ptr, 2), data.offset, data.length)
            h := keccak256(ptr, add(data.length, 2))
        }
    }

    /// @notice leaf(tag, word) for a 32-byte datum (a root, or 32 tensor elements).
    function leafWord(uint8 tag, bytes32 word) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, shl(240, and(tag, 0xff)))
            mstore(add(ptr, 2), word)
            h := keccak256(ptr, 34)
        }
    }

    /// @notice The trace root of a result (PROTOCOL §3): leaf(0x03, worker ‖ finalState), 54 bytes hashed, so the
    /// final state a result commits to is bound to the account that posted it.
    function traceLeaf(address worker, bytes32 finalState) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, shl(240, TAG_TRACE)) // 0x00 ‖ 0x03
            mstore(add(ptr, 2), shl(96, worker)) // bytes 2..21: the address
            mstore(add(ptr, 22), finalState) // bytes 22..53
            h := keccak256(ptr, 54)
        }
    }

    /// @notice node(tag, left, right).
    function node(uint8 tag, bytes32 left, bytes32 right) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, shl(240, or(0x0100, and(tag, 0xff)))) // 0x01 ‖ tag
            mstore(add(ptr, 2), left)
            mstore(add(ptr, 34), right)
            h := keccak256(ptr, 66)
        }
    }

    /// @notice merkle(tag, leaves, pad): the root of `leaves` padded with `pad` to the next power of two.
    /// @dev Overwrites `leaves` (it is used as the work buffer). Hashes only the nodes that are not all
    /// padding: at each level an odd last node is paired with the all-padding subtree of that height.
    function root(uint8 tag, bytes32[] memory leaves, bytes32 pad) internal pure returns (bytes32) {
        uint256 n = leaves.length;
        // INVARIANT: a tree has at least one leaf (m ≥ 1).
        if (n == 0) revert EmptyTree();
        bytes32 zero = pad; // the root of an all-padding subtree of the current height
        while (n > 1) {
            uint256 half = (n + 1) >> 1;
            for (uint256 i = 0; i < half; ++i) {
                uint256 l = i << 1;
                bytes32 right = l + 1 < n ? leaves[l + 1] : zero;
                leaves[i] = node(tag, leaves[l], right);
            }
            n = half;
            if (n > 1) zero = node(tag, zero, zero);
        }
        return leaves[0];
    }

    /// @notice Appends `leafHash` to the incremental tree; returns its index.
    function append(Frontier storage f, uint8 tag, bytes32 leafHash) internal returns (uint256 index) {
        index = f.count;
        // INVARIANT: the frontier has a branch for every height the new leaf can complete.
        if (index >= MAX_LEAVES) revert TreeFull(index);
        uint256 size = index + 1;
        f.count = size;
        bytes32 h = leafHash;
        for (uint256 i = 0;; ++i) {
            if (size & 1 == 1) {
                f.branch[i] = h;
                return index;
            }
            h = node(tag, f.branch[i], h);
            size >>= 1;
        }
    }

    /// @notice merkle(tag, appended leaves, pad): the root of every leaf appended since the last reset.
    function root(Frontier storage f, uint8 tag, bytes32 pad) internal view returns (bytes32) {
        uint256 m = f.count;
        // INVARIANT: a tree has at least one leaf (m ≥ 1).
        if (m == 0) revert EmptyTree();
        uint256 depth = ceilLog2(m);
        // A full tree is complete: its root is the branch of height `depth`.
        if (m == 2 ** depth) return f.branch[depth];
        // Otherwise climb from the first padding leaf (index m): at height i the node on the path is the
        // subtree with index ⌊m / 2^i⌋, whose left sibling (if any) is branch[i].
        bytes32 h = pad;
        bytes32 zero = pad;
        uint256 size = m;
        for (uint256 i = 0; i < depth; ++i) {
            h = size & 1 == 1 ? node(tag, f.branch[i], h) : node(tag, h, zero);
            zero = node(tag, zero, zero);
            size >>= 1;
        }
        return h;
    }

    /// @notice The root that leaf `index` of a tree of `leafCount` leaves climbs to along `path`: hash `leafHash`
    /// with `path[0]`, the result with `path[1]`, … with node(tag, ·, ·), the sibling on the left where the index's
    /// bit at that height is 1. The caller compares the result with the root it trusts.
    /// @dev Reverts `LeafIndexOutOfRange` unless `index < leafCount` and `PathLengthMismatch` unless the path has
    /// exactly the tree's depth ⌈log2 leafCount⌉, so a proof can name neither a padding leaf nor an inner node.
    function climb(uint8 tag, bytes32 leafHash, uint256 index, bytes32[] calldata path, uint256 leafCount)
        internal
        pure
        returns (bytes32 h)
    {
        // INVARIANT: the index names a real leaf of the tree (never a padding leaf, never past the tree).
        if (index >= leafCount) revert LeafIndexOutOfRange(index, leafCount);
        uint256 depth = path.length;
        uint256 last = leafCount - 1; // no underflow: index < leafCount
        // INVARIANT: the path has exactly the tree's depth ⌈log2 leafCount⌉, the bit length of leafCount − 1: no bit
        // of `last` at or above `depth`, and (unless depth = 0) bit depth − 1 set. (A shift by ≥ 256 gives 0.)
        if ((last >> depth) != 0 || (depth != 0 && (last >> (depth - 1)) == 0)) {
            revert PathLengthMismatch(depth, ceilLog2(leafCount));
        }
        assembly ("memory-safe") {
            // The 66-byte node preimage 0x01 ‖ tag ‖ left ‖ right is built past the free memory pointer (scratch,
            // never allocated; nothing else runs in between). Bytes 0..1 keep the prefix: the two word stores
            // write bytes 2..65 only.
            let ptr := mload(0x40)
            mstore(ptr, shl(240, or(0x0100, and(tag, 0xff))))
            let left := add(ptr, 2)
            let right := add(ptr, 34)
            h := leafHash
            let end := add(path.offset, shl(5, depth))
            for { let p := path.offset } lt(p, end) { p := add(p, 0x20) } {
                // Branch-free: with b = 32·(index bit), h goes left (b = 0) or right (b = 32), the sibling opposite.
                let b := shl(5, and(index, 1))
                mstore(add(left, b), h)
                mstore(sub(right, b), calldataload(p))
                h := keccak256(ptr, 66)
                index := shr(1, index)
            }
        }
    }

    /// @notice The root that the run of consecutive leaves `nodes` (their hashes), from leaf `first` of a tree of
    /// `leafCount` leaves, climbs to with its range proof `siblings` (`vouch_core::merkle::MerkleTree::range_proof`):
    /// level by level from the leaves up, the sibling left of the run's first node when that node is a right child,
    /// then the one right of its last node when that is a left child. The caller compares the result with the root it
    /// trusts.
    /// @dev Overwrites `nodes` (the work buffer). Reverts `EmptyTree` for an empty run, `LeafIndexOutOfRange` unless
    /// the run lies within the `leafCount` real leaves (never a padding leaf) and `RangeProofLengthMismatch` unless
    /// the proof has exactly the siblings the climb takes, as `vouch_core::merkle::climb_range` refuses them.
    function climbRange(
        uint8 tag,
        bytes32[] memory nodes,
        uint256 first,
        bytes32[] calldata siblings,
        uint256 leafCount
    ) internal pure returns (bytes32) {
        uint256 m = nodes.length;
        // INVARIANT: a run has at least one leaf …
        if (m == 0) revert EmptyTree();
        // INVARIANT: … and every one of them is a real leaf of the tree.
        if (first + m > leafCount) revert LeafIndexOutOfRange(first + m - 1, leafCount);
        uint256 depth = ceilLog2(leafCount);
        {
            uint256 expected = _rangeSiblings(first, first + m - 1, depth);
            // INVARIANT: the proof has exactly the siblings the climb takes (none unused, none missing).
            if (siblings.length != expected) revert RangeProofLengthMismatch(siblings.length, expected);
        }
        uint256 used;
        for (; depth > 0; --depth) {
            (m, used) = _rangeLevel(tag, nodes, m, first & 1 == 1, siblings, used);
            first >>= 1;
        }
        return nodes[0];
    }

    /// @notice One level of `climbRange`: the `m` nodes of the run (from a right child when `odd`) hashed in place into
    /// their parents, taking siblings from `used` on; returns the parents' count and the siblings used so far.
    function _rangeLevel(
        uint8 tag,
        bytes32[] memory nodes,
        uint256 m,
        bool odd,
        bytes32[] calldata siblings,
        uint256 used
    ) private pure returns (uint256 out, uint256) {
        // Pairs are hashed in place: each parent is written after both its children were read.
        uint256 i;
        if (odd) {
            nodes[0] = node(tag, siblings[used++], nodes[0]);
            (i, out) = (1, 1);
        }
        for (; i + 1 < m; i += 2) {
            nodes[out++] = node(tag, nodes[i], nodes[i + 1]);
        }
        if (i < m) nodes[out++] = node(tag, nodes[i], siblings[used++]);
        return (out, used);
    }

    /// @notice Siblings of the range proof of leaves [lo, hi] in a tree of `depth` levels: at each level one when the
    /// run's first node is a right child, one when its last node is a left child.
    function _rangeSiblings(uint256 lo, uint256 hi, uint256 depth) private pure returns (uint256 count) {
        for (uint256 level = 0; level < depth; ++level) {
            count += (lo & 1) + (~hi & 1);
            lo >>= 1;
            hi >>= 1;
        }
    }

    /// @notice Forgets every appended leaf.
    function reset(Frontier storage f) internal {
        f.count = 0;
    }

    /// @notice ⌈log2 m⌉ for m ≥ 1 (0 for m = 1; also 0 for m = 0).
    /// @dev ⌈log2 m⌉ is the bit length of m − 1 for m ≥ 2; found by binary search over the bit length (constant
    /// gas, no loop).
    function ceilLog2(uint256 m) internal pure returns (uint256 d) {
        if (m < 2) return 0;
        assembly ("memory-safe") {
            let x := sub(m, 1)
            // d = ⌊log2 x⌋: test the upper half of the remaining bits, shift them down if any is set.
            d := shl(7, lt(0xffffffffffffffffffffffffffffffff, x))
            d := or(d, shl(6, lt(0xffffffffffffffff, shr(d, x))))
            d := or(d, shl(5, lt(0xffffffff, shr(d, x))))
            d := or(d, shl(4, lt(0xffff, shr(d, x))))
            d := or(d, shl(3, lt(0xff, shr(d, x))))
            d := or(d, shl(2, lt(0xf, shr(d, x))))
            d := or(d, shl(1, lt(0x3, shr(d, x))))
            d := or(d, lt(0x1, shr(d, x)))
            // The bit length of x ≥ 1 is ⌊log2 x⌋ + 1.
            d := add(d, 1)
        }
    }
}
