// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {LibMerkle} from "./LibMerkle.sol";

/// @title LibTensor
/// @notice Tensor commitments (PROTOCOL §3, tree tag 0x01). A tensor root commits to data only: the bytes
/// in row-major order, 32 int8 elements per leaf, every row starting a new leaf and the last leaf of a row
/// zero-filled, padded to a power of two with leaf(0x01, 32 zero bytes). Every element index ≥ the element
/// count has true value 0, so a padding leaf is exactly the leaf of 32 zero elements.
/// v1 tensors are 1-D: the whole tensor is one row.
library LibTensor {
    /// @notice leaf(0x01, 32 zero bytes): the padding leaf of every tensor tree.
    bytes32 internal constant ZERO_LEAF = keccak256(abi.encodePacked(uint8(0x00), uint8(0x01), bytes32(0)));

    /// @notice The tensor root of a 1-D tensor of `data.length` int8 elements (`data.length` ≥ 1).
    function tensorRoot(bytes calldata data) internal pure returns (bytes32) {
        uint256 len = data.length;
        uint256 count = (len + 31) >> 5;
        bytes32[] memory leaves = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            uint256 start = i << 5;
            bytes32 word;
            assembly ("memory-safe") {
                word := calldataload(add(data.offset, start))
            }
            uint256 rest = len - start;
            if (rest < 32) {
                // Zero-fill the last leaf: calldata past `data` belongs to other arguments.
                word &= ~bytes32(type(uint256).max >> (rest << 3));
            }
            leaves[i] = LibMerkle.leafWord(LibMerkle.TAG_TENSOR, word);
        }
        // An empty tensor has no leaf: `root` reverts EmptyTree.
        return LibMerkle.root(LibMerkle.TAG_TENSOR, leaves, ZERO_LEAF);
    }
}
