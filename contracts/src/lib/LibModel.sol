// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {LibMerkle} from "./LibMerkle.sol";
import {TensorShape} from "./Types.sol";

/// @title LibModel
/// @notice Model commitments (PROTOCOL §3, op tree tag 0x04, model tree tag 0x05):
///   opRoot_k   = merkle(0x04, [leaf(0x04, spec), leaf(0x04, row_0), …], leaf(0x04, empty))
///   model root = keccak256(0x02 ‖ 0x05 ‖ u32 n ‖ u32 inH ‖ u32 inW ‖ u32 inC ‖ i8 z_in ‖
///                          u32 outH ‖ u32 outW ‖ u32 outC ‖
///                          merkle(0x05, [leaf(0x05, opRoot_k) for k in 0..n), leaf(0x05, 32 zero bytes)))
/// All integers big-endian (abi.encodePacked). The 0x02 prefix keeps the model root apart from every leaf (0x00)
/// and node (0x01).
library LibModel {
    /// @notice leaf(0x04, empty): the padding leaf of every op tree.
    bytes32 internal constant OP_PAD_LEAF = keccak256(abi.encodePacked(uint8(0x00), uint8(0x04)));

    /// @notice leaf(0x05, 32 zero bytes): the padding leaf of the model tree.
    bytes32 internal constant MODEL_PAD_LEAF = keccak256(abi.encodePacked(uint8(0x00), uint8(0x05), bytes32(0)));

    /// @notice The v2 model root over the op tree root `opsRoot` = merkle(0x05, op leaves, MODEL_PAD_LEAF).
    function modelRoot(
        uint32 opCount,
        TensorShape memory input,
        int8 inputZero,
        TensorShape memory output,
        bytes32 opsRoot
    ) internal pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                uint8(0x02),
                LibMerkle.TAG_MODEL,
                opCount,
                input.h,
                input.w,
                input.c,
                inputZero,
                output.h,
                output.w,
                output.c,
                opsRoot
            )
        );
    }
}
