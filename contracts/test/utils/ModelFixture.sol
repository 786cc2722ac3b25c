// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {Reference} from "./Reference.sol";

/// @notice A real v1 model, encoded as PROTOCOL §3.1 lays out its op leaves: Dense [K] -> [N], then Relu [N].
struct DenseReluModel {
    uint32 inputLen;
    uint32 outputLen;
    /// @dev ops[0] = [dense spec, row 0 … row N−1]; ops[1] = [relu spec].
    bytes[][] ops;
    bytes32 root;
}

library ModelFixture {
    /// @notice Dense(K → N, weights from `seed`, reads slot 0) then Relu(N, reads slot 1).
    function denseRelu(uint256 seed, uint32 k, uint32 n) internal pure returns (DenseReluModel memory m) {
        m.inputLen = k;
        m.outputLen = n;
        m.ops = new bytes[][](2);

        bytes[] memory dense = new bytes[](1 + n);
        // 0x01 | inputSlot u16 | K u32 | N u32 | z_x i8 | z_y i8 | lo i8 | hi i8
        dense[0] = abi.encodePacked(uint8(0x01), uint16(0), k, n, int8(-128), int8(-5), int8(-5), int8(127));
        for (uint32 r = 0; r < n; ++r) {
            // bias i32 | M i32 | s u8 | W[r][0..K] i8
            dense[1 + r] = abi.encodePacked(
                int32(int256(uint256(r)) * 37 - 100), int32(1_518_500_250), uint8(38), _weights(seed, r, k)
            );
        }
        m.ops[0] = dense;

        bytes[] memory relu = new bytes[](1);
        // 0x02 | inputSlot u16 | L u32 | z i8
        relu[0] = abi.encodePacked(uint8(0x02), uint16(1), n, int8(-5));
        m.ops[1] = relu;

        m.root = Reference.modelRoot(k, n, m.ops);
    }

    /// @notice Leaves `from … to−1` of `leaves`.
    function slice(bytes[] memory leaves, uint256 from, uint256 to) internal pure returns (bytes[] memory out) {
        out = new bytes[](to - from);
        for (uint256 i = from; i < to; ++i) {
            out[i - from] = leaves[i];
        }
    }

    function _weights(uint256 seed, uint32 row, uint32 k) private pure returns (bytes memory w) {
        w = new bytes(k);
        bytes32 word;
        for (uint256 i = 0; i < k; ++i) {
            if (i % 32 == 0) word = keccak256(abi.encode(seed, row, i));
            // Weights in [-126, 126] (symmetric int8), as two's complement bytes.
            int8 v = int8(int256(uint256(uint8(word[i % 32]) % 253)) - 126);
            w[i] = bytes1(uint8(v));
        }
    }
}
