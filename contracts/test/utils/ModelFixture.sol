// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {TensorShape} from "../../src/lib/Types.sol";
import {Reference} from "./Reference.sol";

/// @notice A real v2 model, encoded as PROTOCOL §3.1 lays out its op leaves: Dense [H, W, C] -> [1, 1, N]
/// (K = H·W·C), then Clamp (ReLU) [1, 1, N].
struct DenseReluModel {
    TensorShape input;
    int8 inputZero;
    TensorShape output;
    /// @dev ops[0] = [dense spec, row 0 … row N−1]; ops[1] = [relu spec].
    bytes[][] ops;
    bytes32 root;
}

library ModelFixture {
    /// @notice [h, w, c].
    function shape(uint32 h, uint32 w, uint32 c) internal pure returns (TensorShape memory) {
        return TensorShape({h: h, w: w, c: c});
    }

    /// @notice The vector shape [1, 1, n].
    function vec(uint32 n) internal pure returns (TensorShape memory) {
        return TensorShape({h: 1, w: 1, c: n});
    }

    /// @notice Element count h·w·c.
    function len(TensorShape memory s) internal pure returns (uint256) {
        return uint256(s.h) * s.w * s.c;
    }

    /// @notice Dense(K → N, weights from `seed`, reads slot 0) then ReLU(N, reads slot 1), input [1, 1, K].
    function denseRelu(uint256 seed, uint32 k, uint32 n) internal pure returns (DenseReluModel memory m) {
        return denseRelu(seed, vec(k), n);
    }

    /// @notice Dense(input → [1, 1, N], weights from `seed`, reads slot 0) then ReLU(N, reads slot 1).
    function denseRelu(uint256 seed, TensorShape memory input, uint32 n)
        internal
        pure
        returns (DenseReluModel memory m)
    {
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 k = uint32(len(input));
        m.input = input;
        m.inputZero = -128;
        m.output = vec(n);
        m.ops = new bytes[][](2);

        bytes[] memory dense = new bytes[](1 + n);
        // code u8 | out H W C u32 | z_out i8 | in u16 | z_x i8 | lo i8 | hi i8
        dense[0] = abi.encodePacked(
            uint8(0x01), uint32(1), uint32(1), n, int8(-5), uint16(0), int8(-128), int8(-5), int8(127)
        );
        for (uint32 r = 0; r < n; ++r) {
            // bias i32 | M i32 | s u8 | W[r][0..K] i8
            dense[1 + r] = abi.encodePacked(
                int32(int256(uint256(r)) * 37 - 100), int32(1_518_500_250), uint8(38), _weights(seed, r, k)
            );
        }
        m.ops[0] = dense;

        bytes[] memory relu = new bytes[](1);
        // code u8 | out H W C u32 | z_out i8 | in u16 | lo i8 | hi i8   (Clamp with lo = z: ReLU)
        relu[0] = abi.encodePacked(uint8(0x03), uint32(1), uint32(1), n, int8(-5), uint16(1), int8(-5), int8(127));
        m.ops[1] = relu;

        m.root = Reference.modelRoot(m.input, m.inputZero, m.output, m.ops);
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
