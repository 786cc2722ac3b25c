// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {JobMarket} from "../src/JobMarket.sol";
import {IModelRegistry} from "../src/interfaces/IModelRegistry.sol";
import {IOneStepProver} from "../src/interfaces/IOneStepProver.sol";
import {EmptyTree, RaggedTensor} from "../src/lib/Errors.sol";
import {LibTensor} from "../src/lib/LibTensor.sol";
import {Base} from "./Base.t.sol";
import {Configs} from "./utils/Configs.sol";
import {Reference} from "./utils/Reference.sol";

/// @notice Tensor roots through `JobMarket.tensorRoot` (the function clients cross-check against).
/// Fixed vectors: written out by hand below, and pinned to the values `node scripts/tensor-vectors.js`
/// prints (js-sha3, independent of Solidity). A 1-D tensor is one row (`rowLen = length`).
contract LibTensorTest is Base {
    JobMarket internal market;

    function setUp() public {
        // tensorRoot is pure: any nonzero registry address will do.
        market = new JobMarket(
            IModelRegistry(address(0xbeef)),
            IOneStepProver(address(0xbeef)),
            Configs.NO_LLM_PROVER,
            Configs.market(1, 1)
        );
    }

    function test_tensorRoot_threeBytes_succeeds() public view {
        // One leaf, so d = 0 and the root is the leaf: leaf(0x01, 01 02 03 ‖ 29 zero bytes).
        bytes32 expected = keccak256(abi.encodePacked(uint8(0x00), uint8(0x01), bytes32(hex"010203")));
        assertEq(market.tensorRoot(hex"010203", 3), expected, "by hand");
        assertEq(
            market.tensorRoot(hex"010203", 3),
            0x6fa256c7cbfbeb864dbcb8ffb3b3cf75f840192a7de26d77d700f70f00e997ed,
            "js-sha3"
        );
    }

    function test_tensorRoot_bytes0To63_succeeds() public view {
        bytes memory data = new bytes(64);
        for (uint256 i = 0; i < 64; ++i) {
            data[i] = bytes1(uint8(i));
        }
        bytes32 first;
        bytes32 second;
        assembly {
            first := mload(add(data, 0x20))
            second := mload(add(data, 0x40))
        }
        bytes32 leaf0 = keccak256(abi.encodePacked(uint8(0x00), uint8(0x01), first));
        bytes32 leaf1 = keccak256(abi.encodePacked(uint8(0x00), uint8(0x01), second));
        bytes32 expected = keccak256(abi.encodePacked(uint8(0x01), uint8(0x01), leaf0, leaf1));
        assertEq(market.tensorRoot(data, data.length), expected, "by hand");
        assertEq(
            market.tensorRoot(data, data.length),
            0xed77bb2faccb23488f56e1facd1bd39903518c1310c752e771fb625ad6e3a9c9,
            "js-sha3"
        );
    }

    function test_tensorRoot_bytes0To99_paddedToFourLeaves_succeeds() public view {
        bytes memory data = new bytes(100);
        for (uint256 i = 0; i < 100; ++i) {
            data[i] = bytes1(uint8(i));
        }
        bytes32[4] memory leaves;
        for (uint256 j = 0; j < 4; ++j) {
            bytes32 word;
            for (uint256 b = 0; b < 32 && 32 * j + b < 100; ++b) {
                word |= bytes32(data[32 * j + b]) >> (8 * b);
            }
            leaves[j] = keccak256(abi.encodePacked(uint8(0x00), uint8(0x01), word));
        }
        // Leaf 3 holds elements 96..99 and 28 zero bytes; there is no padding leaf (4 is a power of two).
        bytes32 expected = keccak256(
            abi.encodePacked(
                uint8(0x01),
                uint8(0x01),
                keccak256(abi.encodePacked(uint8(0x01), uint8(0x01), leaves[0], leaves[1])),
                keccak256(abi.encodePacked(uint8(0x01), uint8(0x01), leaves[2], leaves[3]))
            )
        );
        assertEq(market.tensorRoot(data, data.length), expected, "by hand");
        assertEq(
            market.tensorRoot(data, data.length),
            0x5388b4953b3ec1aa1359631b6288283b39f841dcc1a4f0d8f7ab664ca00da3bf,
            "js-sha3"
        );
    }

    function test_tensorRoot_zeroLeafConstant_succeeds() public pure {
        assertEq(LibTensor.ZERO_LEAF, 0x369d7c01e026e750d616303e0fa4ac262c55e4ebe19a54cbf15d814b03b1182b, "zero leaf");
    }

    function test_tensorRoot_trailingZerosAreNotPadding_succeeds() public view {
        // 33 bytes have two leaves, 32 bytes one: the length is not committed, but the leaf count is.
        assertTrue(market.tensorRoot(new bytes(33), 33) != market.tensorRoot(new bytes(32), 32), "33 vs 32 zero bytes");
        // 64 zero bytes = two zero leaves = one zero leaf padded to two: the padding rule (index ≥ count is 0).
        assertEq(
            market.tensorRoot(new bytes(64), 64),
            keccak256(abi.encodePacked(uint8(0x01), uint8(0x01), LibTensor.ZERO_LEAF, LibTensor.ZERO_LEAF)),
            "64 zero bytes"
        );
    }

    function test_tensorRoot_empty_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(EmptyTree.selector));
        market.tensorRoot("", 1);
    }

    function test_tensorRoot_dirtyCalldataPadding_succeeds() public view {
        // Non-standard ABI encoding: the 29 bytes after 0x010203 are nonzero garbage. They are not part of the
        // tensor and must not reach its last leaf.
        bytes memory payload = abi.encodePacked(
            JobMarket.tensorRoot.selector,
            uint256(0x40),
            uint256(3),
            uint256(3),
            bytes32(hex"010203ffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")
        );
        (bool ok, bytes memory ret) = address(market).staticcall(payload);
        assertTrue(ok, "call");
        assertEq(abi.decode(ret, (bytes32)), Reference.tensorRoot(hex"010203"), "dirty padding ignored");
    }

    // ----- v2: rows -----

    function _leaf(bytes32 word) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(0x00), uint8(0x01), word));
    }

    function _node(bytes32 l, bytes32 r) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(0x01), uint8(0x01), l, r));
    }

    /// @dev Bytes `from`, `from + 1`, … (mod 256), `n` of them.
    function _range(uint256 from, uint256 n) internal pure returns (bytes memory data) {
        data = new bytes(n);
        for (uint256 i = 0; i < n; ++i) {
            data[i] = bytes1(uint8(from + i));
        }
    }

    function test_tensorRoot_fourRowsOfThree_succeeds() public view {
        // [1, 4, 3] = bytes 1..12: every row of 3 starts its own leaf, so 4 leaves (not 1).
        bytes memory data = _range(1, 12);
        bytes32 expected = _node(
            _node(_leaf(bytes32(hex"010203")), _leaf(bytes32(hex"040506"))),
            _node(_leaf(bytes32(hex"070809")), _leaf(bytes32(hex"0a0b0c")))
        );
        assertEq(market.tensorRoot(data, 3), expected, "by hand");
        assertEq(
            market.tensorRoot(data, 3), 0xebb9c7509190ead719a1a095f3657e781c8e54d777d748c8e6497179b9f385d5, "js-sha3"
        );
        assertTrue(market.tensorRoot(data, 3) != market.tensorRoot(data, 12), "not the 1-D root");
        assertTrue(market.tensorRoot(data, 3) != market.tensorRoot(data, 6), "not rows of 6");
    }

    function test_tensorRoot_threeRowsOfFive_paddedToFour_succeeds() public view {
        // bytes 1..15 in rows of 5: 3 leaves and one padding leaf.
        bytes memory data = _range(1, 15);
        bytes32 expected = _node(
            _node(_leaf(bytes32(hex"0102030405")), _leaf(bytes32(hex"060708090a"))),
            _node(_leaf(bytes32(hex"0b0c0d0e0f")), LibTensor.ZERO_LEAF)
        );
        assertEq(market.tensorRoot(data, 5), expected, "by hand");
        assertEq(
            market.tensorRoot(data, 5), 0x870a247ec04337a7cdbd5b2845d29e7605fc64a5bb969a58bc44846e6a86ab8d, "js-sha3"
        );
    }

    function test_tensorRoot_twoRowsOfForty_succeeds() public view {
        // bytes 0..79 in rows of 40: row 0 = leaves [0..31], [32..39 ‖ 24 zeros]; row 1 = [40..71], [72..79 ‖ 0].
        bytes memory data = _range(0, 80);
        bytes32 expected = _node(
            _node(
                _leaf(hex"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
                _leaf(bytes32(hex"2021222324252627"))
            ),
            _node(
                _leaf(hex"28292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f4041424344454647"),
                _leaf(bytes32(hex"48494a4b4c4d4e4f"))
            )
        );
        assertEq(market.tensorRoot(data, 40), expected, "by hand");
        assertEq(
            market.tensorRoot(data, 40), 0x39b6092a7e2f6e1b2b2331189af48e6d83106e3f0810b0281c79e497f6dcb811, "js-sha3"
        );
    }

    function test_tensorRoot_shape2x2x33_succeeds() public view {
        // [2, 2, 33] = bytes 0..131: 4 rows of 33, each a full leaf and a leaf of one byte: 8 leaves.
        bytes memory data = _range(0, 132);
        bytes32[8] memory leaves;
        for (uint256 r = 0; r < 4; ++r) {
            bytes32 full;
            for (uint256 b = 0; b < 32; ++b) {
                full |= bytes32(bytes1(uint8(33 * r + b))) >> (8 * b);
            }
            leaves[2 * r] = _leaf(full);
            leaves[2 * r + 1] = _leaf(bytes32(bytes1(uint8(33 * r + 32))));
        }
        bytes32 expected = _node(
            _node(_node(leaves[0], leaves[1]), _node(leaves[2], leaves[3])),
            _node(_node(leaves[4], leaves[5]), _node(leaves[6], leaves[7]))
        );
        assertEq(market.tensorRoot(data, 33), expected, "by hand");
        assertEq(
            market.tensorRoot(data, 33), 0xea40006ef863370bfe4c2e1ee7b05265a4c9c2199b5d77bbbe2f70b310def151, "js-sha3"
        );
        assertEq(market.tensorRoot(data, 33), Reference.tensorRoot(data, 33), "reference");
    }

    function test_tensorRoot_image8x8x1_succeeds() public view {
        // [8, 8, 1] = bytes 0..63: 64 one-byte rows, 64 leaves.
        bytes memory data = _range(0, 64);
        bytes32[] memory level = new bytes32[](64);
        for (uint256 i = 0; i < 64; ++i) {
            level[i] = _leaf(bytes32(bytes1(uint8(i))));
        }
        for (uint256 width = 32; width >= 1; width /= 2) {
            for (uint256 i = 0; i < width; ++i) {
                level[i] = _node(level[2 * i], level[2 * i + 1]);
            }
        }
        assertEq(market.tensorRoot(data, 1), level[0], "by hand");
        assertEq(
            market.tensorRoot(data, 1), 0x533bfe76d6632f7d23c931e9e614731652b3a88e18fc81ff5ab1a2301f5cff86, "js-sha3"
        );
    }

    function test_tensorRoot_rowsOf32_sameAsOneRow_succeeds() public view {
        // Rows that are whole leaves do not change the leaves: [2, 1, 32] commits as [1, 1, 64].
        bytes memory data = _range(7, 64);
        assertEq(market.tensorRoot(data, 32), market.tensorRoot(data, 64), "32 | 64");
        assertEq(market.tensorRoot(_range(7, 96), 32), market.tensorRoot(_range(7, 96), 96), "32 | 96");
    }

    function test_tensorRoot_ragged_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(RaggedTensor.selector, 10, 3));
        market.tensorRoot(new bytes(10), 3);
        vm.expectRevert(abi.encodeWithSelector(RaggedTensor.selector, 10, 11));
        market.tensorRoot(new bytes(10), 11);
        vm.expectRevert(abi.encodeWithSelector(RaggedTensor.selector, 64, 0));
        market.tensorRoot(new bytes(64), 0);
        vm.expectRevert(abi.encodeWithSelector(RaggedTensor.selector, 1, type(uint256).max));
        market.tensorRoot(new bytes(1), type(uint256).max);
    }

    function test_tensorRoot_emptyAnyRowLen_reverts() public {
        // Empty data is EmptyTree whatever the row length (0 included).
        vm.expectRevert(abi.encodeWithSelector(EmptyTree.selector));
        market.tensorRoot("", 0);
        vm.expectRevert(abi.encodeWithSelector(EmptyTree.selector));
        market.tensorRoot("", 33);
    }

    function test_tensorRoot_dirtyCalldataPaddingMultiRow_succeeds() public view {
        // rows of 3 in 6 bytes, followed by 26 bytes of nonzero garbage: neither the next row's bytes nor the
        // garbage may reach a row's leaf.
        bytes memory payload = abi.encodePacked(
            JobMarket.tensorRoot.selector,
            uint256(0x40),
            uint256(3),
            uint256(6),
            bytes32(hex"010203040506ffffffffffffffffffffffffffffffffffffffffffffffffffff")
        );
        (bool ok, bytes memory ret) = address(market).staticcall(payload);
        assertTrue(ok, "call");
        assertEq(
            abi.decode(ret, (bytes32)),
            _node(_leaf(bytes32(hex"010203")), _leaf(bytes32(hex"040506"))),
            "dirty padding ignored"
        );
    }

    // ----- fuzz -----

    function testFuzz_tensorRoot_matchesReference_succeeds(bytes calldata data) public view {
        vm.assume(data.length > 0);
        assertEq(market.tensorRoot(data, data.length), Reference.tensorRoot(data), "tensor root");
    }

    function testFuzz_tensorRoot_lengths1To2100_succeeds(uint256 seed, uint256 len) public view {
        len = bound(len, 1, 2100);
        bytes memory data = randomBytes(seed, len);
        assertEq(market.tensorRoot(data, len), Reference.tensorRoot(data), "tensor root");
    }

    function testFuzz_tensorRoot_rowsMatchReference_succeeds(uint256 seed, uint256 rowLen, uint256 rows) public view {
        // Row lengths around the leaf boundaries (1, 31, 32, 33, 64, 65 …) and many rows.
        rowLen = bound(rowLen, 1, 200);
        rows = bound(rows, 1, 2100 / rowLen + 1);
        bytes memory data = randomBytes(seed, rowLen * rows);
        assertEq(market.tensorRoot(data, rowLen), Reference.tensorRoot(data, rowLen), "tensor root");
    }

    function testFuzz_tensorRoot_anyRowLen_succeedsOrReverts(bytes calldata data, uint256 rowLen) public {
        if (data.length == 0) {
            vm.expectRevert(abi.encodeWithSelector(EmptyTree.selector));
            market.tensorRoot(data, rowLen);
        } else if (rowLen == 0 || data.length % rowLen != 0) {
            vm.expectRevert(abi.encodeWithSelector(RaggedTensor.selector, data.length, rowLen));
            market.tensorRoot(data, rowLen);
        } else {
            assertEq(market.tensorRoot(data, rowLen), Reference.tensorRoot(data, rowLen), "tensor root");
        }
    }

    function testFuzz_tensorRoot_divisorRowLens_succeeds(bytes calldata data, uint256 pick) public view {
        // Some divisor of the length as the row length, so that random byte strings hit the success path.
        vm.assume(data.length > 0);
        uint256 rowLen = bound(pick, 1, data.length);
        while (data.length % rowLen != 0) ++rowLen;
        assertEq(market.tensorRoot(data, rowLen), Reference.tensorRoot(data, rowLen), "tensor root");
    }
}
