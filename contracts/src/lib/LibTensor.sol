// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {EmptyTree, RaggedTensor} from "./Errors.sol";

/// @title LibTensor
/// @notice Tensor commitments (PROTOCOL §3, tree tag 0x01). A tensor root commits to data only: the bytes in
/// row-major order, cut into rows of `rowLen` (= C) bytes; each row occupies ⌈rowLen/32⌉ consecutive 32-byte
/// leaves leaf(0x01, 32 bytes) (a row always starts a new leaf, its last leaf is zero-filled), rows in order;
/// the leaf list is padded to a power of two with leaf(0x01, 32 zero bytes). Every element index ≥ the element
/// count has true value 0, so a padding leaf is exactly the leaf of 32 zero elements.
/// A vector `[1, 1, N]` is one row of N bytes and commits exactly as a v1 (1-D) tensor.
library LibTensor {
    /// @notice leaf(0x01, 32 zero bytes): the padding leaf of every tensor tree.
    bytes32 internal constant ZERO_LEAF = keccak256(abi.encodePacked(uint8(0x00), uint8(0x01), bytes32(0)));

    /// @notice The tensor root of `data` (`data.length` ≥ 1 int8 elements) cut into rows of `rowLen` bytes.
    /// @dev Reverts `EmptyTree` for empty data and `RaggedTensor` if `rowLen` is zero or does not divide
    /// `data.length`.
    function tensorRoot(bytes calldata data, uint256 rowLen) internal pure returns (bytes32 root) {
        uint256 len = data.length;
        // INVARIANT: a tree has at least one leaf (m ≥ 1).
        if (len == 0) revert EmptyTree();
        // INVARIANT: the data is a whole number of rows (and the row loop below advances).
        if (rowLen == 0 || len % rowLen != 0) revert RaggedTensor(len, rowLen);
        bytes32 zeroLeaf = ZERO_LEAF; // inline assembly cannot read a computed constant

        assembly ("memory-safe") {
            // Memory use: the leaf hashes are written as a word array from the free memory pointer `base` on,
            // and the 66-byte node preimage just past them. Neither is allocated: both are temporary, nothing
            // else runs in between, and the function returns only a stack value ("memory-safe" permits memory
            // past the free memory pointer as scratch). The 34-byte leaf preimage 0x00 ‖ 0x01 ‖ word lives in
            // the scratch space 0x00..0x21.
            let base := mload(0x40)
            let out := base

            // ----- leaves -----
            // Bytes 0x00..0x01 hold the leaf prefix 0x00 ‖ 0x01 for the whole loop: `mstore(0x02, word)`
            // writes 0x02..0x21 only.
            mstore(0x00, shl(240, 0x0001))
            let fullEnd := shl(5, shr(5, rowLen)) // bytes of a row that fill whole leaves: 32·⌊rowLen/32⌋
            let rem := and(rowLen, 31) // bytes in a row's last, partial leaf (0: there is none)
            // Keeps the first `rem` bytes of a word (big-endian: the high-order ones), zeroes the rest.
            let mask := not(shr(shl(3, rem), not(0)))
            let end := add(data.offset, len)
            // `rowLen` divides `len` (checked above), so `row` steps exactly onto `end`.
            for { let row := data.offset } lt(row, end) { row := add(row, rowLen) } {
                let rowFullEnd := add(row, fullEnd)
                for { let p := row } lt(p, rowFullEnd) { p := add(p, 0x20) } {
                    mstore(0x02, calldataload(p)) // 32 bytes, all inside this row
                    mstore(out, keccak256(0x00, 0x22))
                    out := add(out, 0x20)
                }
                if rem {
                    // The row's last `rem` bytes; the word's other bytes belong to the next row (or to other
                    // calldata past `data`, or read as zero past calldatasize) and must be zero in the leaf.
                    mstore(0x02, and(calldataload(rowFullEnd), mask))
                    mstore(out, keccak256(0x00, 0x22))
                    out := add(out, 0x20)
                }
            }

            // ----- merkle(0x01, leaves, ZERO_LEAF) -----
            // Level by level, in place: node i of the next level = node(0x01, node 2i, node 2i + 1) overwrites
            // slot i (slot i is read as part of pair i before any write to it, since i ≤ 2i). An odd last node
            // is paired with `zero`, the root of the all-padding subtree of the current height, which is what
            // padding to a power of two puts there; subtrees of padding only are never hashed.
            let n := shr(5, sub(out, base)) // m ≥ 1 leaves, since len ≥ 1
            let s := out // node preimage 0x01 ‖ 0x01 ‖ left ‖ right at s..s+0x41
            mstore(s, shl(240, 0x0101))
            let zero := zeroLeaf
            for {} gt(n, 1) {} {
                let pairsEnd := add(base, shl(6, shr(1, n))) // ⌊n/2⌋ full pairs of 64 bytes
                let dst := base
                for { let src := base } lt(src, pairsEnd) { src := add(src, 0x40) } {
                    mstore(add(s, 0x02), mload(src))
                    mstore(add(s, 0x22), mload(add(src, 0x20)))
                    mstore(dst, keccak256(s, 0x42))
                    dst := add(dst, 0x20)
                }
                if and(n, 1) {
                    mstore(add(s, 0x02), mload(pairsEnd))
                    mstore(add(s, 0x22), zero)
                    mstore(dst, keccak256(s, 0x42))
                }
                n := shr(1, add(n, 1))
                if gt(n, 1) {
                    mstore(add(s, 0x02), zero)
                    mstore(add(s, 0x22), zero)
                    zero := keccak256(s, 0x42)
                }
            }
            root := mload(base)
        }
    }
}
