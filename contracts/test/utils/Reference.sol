// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {TensorShape} from "../../src/lib/Types.sol";

/// @notice PROTOCOL §3 written out the plain way (recursion, abi.encodePacked, byte loops), independent of
/// src/lib, so the optimized libraries are checked against the text of the spec.
library Reference {
    function leaf(uint8 tag, bytes memory data) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(0x00), tag, data));
    }

    function node(uint8 tag, bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(0x01), tag, left, right));
    }

    /// @notice merkle(tag, leaves, pad): pad to the next power of two, then hash pairs recursively.
    function merkle(uint8 tag, bytes32[] memory leaves, bytes32 pad) internal pure returns (bytes32) {
        require(leaves.length > 0, "no leaves");
        uint256 width = 1;
        while (width < leaves.length) width *= 2;
        return _subtree(tag, leaves, pad, 0, width);
    }

    function _subtree(uint8 tag, bytes32[] memory leaves, bytes32 pad, uint256 start, uint256 width)
        private
        pure
        returns (bytes32)
    {
        if (width == 1) return start < leaves.length ? leaves[start] : pad;
        uint256 half = width / 2;
        return node(tag, _subtree(tag, leaves, pad, start, half), _subtree(tag, leaves, pad, start + half, half));
    }

    /// @notice Tensor root of a 1-D tensor (one row): 32 bytes per leaf, the last one zero-filled.
    function tensorRoot(bytes memory data) internal pure returns (bytes32) {
        return tensorRoot(data, data.length);
    }

    /// @notice Tensor root of `data` in rows of `rowLen` bytes: each row in ⌈rowLen/32⌉ leaves of 32 bytes, the
    /// last one of each row zero-filled, rows in order (the Rust `tensor_leaves`, written out).
    function tensorRoot(bytes memory data, uint256 rowLen) internal pure returns (bytes32) {
        require(rowLen > 0 && data.length % rowLen == 0, "ragged");
        uint256 perRow = (rowLen + 31) / 32;
        uint256 rows = data.length / rowLen;
        bytes32[] memory leaves = new bytes32[](rows * perRow);
        for (uint256 r = 0; r < rows; ++r) {
            for (uint256 i = 0; i < perRow; ++i) {
                bytes memory chunk = new bytes(32);
                for (uint256 j = 0; j < 32 && 32 * i + j < rowLen; ++j) {
                    chunk[j] = data[r * rowLen + 32 * i + j];
                }
                leaves[r * perRow + i] = leaf(0x01, chunk);
            }
        }
        return merkle(0x01, leaves, leaf(0x01, new bytes(32)));
    }

    /// @notice The op tree root over an op's raw leaves (spec, rows).
    function opRoot(bytes[] memory opLeaves) internal pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](opLeaves.length);
        for (uint256 i = 0; i < opLeaves.length; ++i) {
            hashes[i] = leaf(0x04, opLeaves[i]);
        }
        return merkle(0x04, hashes, leaf(0x04, ""));
    }

    /// @notice The v2 model root over every op's raw leaves.
    function modelRoot(TensorShape memory input, int8 inputZero, TensorShape memory output, bytes[][] memory ops)
        internal
        pure
        returns (bytes32)
    {
        bytes32[] memory hashes = new bytes32[](ops.length);
        for (uint256 k = 0; k < ops.length; ++k) {
            hashes[k] = leaf(0x05, abi.encodePacked(opRoot(ops[k])));
        }
        bytes32 opsRoot = merkle(0x05, hashes, leaf(0x05, abi.encodePacked(bytes32(0))));
        bytes memory shapes = abi.encodePacked(input.h, input.w, input.c, inputZero, output.h, output.w, output.c);
        return keccak256(abi.encodePacked(uint8(0x02), uint8(0x05), uint32(ops.length), shapes, opsRoot));
    }

    // ----- Merkle paths (for the one-step prover's witnesses) -----

    /// @notice The path of leaf `index` in merkle(tag, leaves, pad): its sibling at every height, from the leaf up.
    function path(uint8 tag, bytes32[] memory leaves, bytes32 pad, uint256 index)
        internal
        pure
        returns (bytes32[] memory siblings)
    {
        require(index < leaves.length, "index");
        uint256 width = 1;
        uint256 depth = 0;
        while (width < leaves.length) {
            width *= 2;
            ++depth;
        }
        bytes32[] memory level = new bytes32[](width);
        for (uint256 i = 0; i < width; ++i) {
            level[i] = i < leaves.length ? leaves[i] : pad;
        }
        siblings = new bytes32[](depth);
        for (uint256 d = 0; d < depth; ++d) {
            siblings[d] = level[index % 2 == 0 ? index + 1 : index - 1];
            bytes32[] memory up = new bytes32[](level.length / 2);
            for (uint256 i = 0; i < up.length; ++i) {
                up[i] = node(tag, level[2 * i], level[2 * i + 1]);
            }
            level = up;
            index /= 2;
        }
    }

    /// @notice The root leaf `index` climbs to along `siblings` (no depth or index checks: the plain formula).
    function climb(uint8 tag, bytes32 leafHash, uint256 index, bytes32[] memory siblings)
        internal
        pure
        returns (bytes32 h)
    {
        h = leafHash;
        for (uint256 d = 0; d < siblings.length; ++d) {
            h = index % 2 == 0 ? node(tag, h, siblings[d]) : node(tag, siblings[d], h);
            index /= 2;
        }
    }

    /// @notice The leaf hashes of a tensor in rows of `rowLen` bytes (before padding), as `tensorRoot` builds them.
    function tensorLeaves(bytes memory data, uint256 rowLen) internal pure returns (bytes32[] memory leaves) {
        require(rowLen > 0 && data.length % rowLen == 0, "ragged");
        uint256 perRow = (rowLen + 31) / 32;
        uint256 rows = data.length / rowLen;
        leaves = new bytes32[](rows * perRow);
        for (uint256 r = 0; r < rows; ++r) {
            for (uint256 i = 0; i < perRow; ++i) {
                bytes memory chunk = new bytes(32);
                for (uint256 j = 0; j < 32 && 32 * i + j < rowLen; ++j) {
                    chunk[j] = data[r * rowLen + 32 * i + j];
                }
                leaves[r * perRow + i] = leaf(0x01, chunk);
            }
        }
    }

    /// @notice The leaf hashes leaf(0x04, ·) of an op's raw leaves (spec, rows).
    function opLeafHashes(bytes[] memory raw) internal pure returns (bytes32[] memory hashes) {
        hashes = new bytes32[](raw.length);
        for (uint256 i = 0; i < raw.length; ++i) {
            hashes[i] = leaf(0x04, raw[i]);
        }
    }
}
