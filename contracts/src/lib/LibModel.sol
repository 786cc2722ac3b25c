// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {LibMerkle} from "./LibMerkle.sol";

/// @title LibModel
/// @notice Model commitments (PROTOCOL §3, op tree tag 0x04, model tree tag 0x05):
///   opRoot_k   = merkle(0x04, [leaf(0x04, spec), leaf(0x04, row_0), …], leaf(0x04, empty))
///   model root = keccak256(0x02 ‖ 0x05 ‖ u32 n ‖ u32 inputLen ‖ u32 outputLen ‖
///                          merkle(0x05, [leaf(0x05, opRoot_k) for k in 0..n), leaf(0x05, 32 zero bytes)))
/// The 0x02 prefix keeps the model root apart from every leaf (0x00) and node (0x01).
library LibModel {
    /// @notice leaf(0x04, empty): the padding leaf of every op tree.
    bytes32 internal constant OP_PAD_LEAF = keccak256(abi.encodePacked(uint8(0x00), uint8(0x04)));

    /// @notice leaf(0x05, 32 zero bytes): the padding leaf of the model tree.
    bytes32 internal constant MODEL_PAD_LEAF = keccak256(abi.encodePacked(uint8(0x00), uint8(0x05), bytes32(0)));

    /// @notice The model root over the op tree root `opsRoot` = merkle(0x05, op leaves, MODEL_PAD_LEAF).
    function modelRoot(uint32 opCount, uint32 inputLen, uint32 outputLen, bytes32 opsRoot)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encodePacked(uint8(0x02), LibMerkle.TAG_MODEL, opCount, inputLen, outputLen, opsRoot));
    }
}
