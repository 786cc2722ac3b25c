// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {JobMarket} from "../src/JobMarket.sol";
import {IModelRegistry} from "../src/interfaces/IModelRegistry.sol";
import {EmptyTree} from "../src/lib/Errors.sol";
import {LibTensor} from "../src/lib/LibTensor.sol";
import {Base} from "./Base.t.sol";
import {Reference} from "./utils/Reference.sol";

/// @notice Tensor roots through `JobMarket.tensorRoot` (the function clients cross-check against).
/// Fixed vectors: written out by hand below, and pinned to the values `node scripts/tensor-vectors.js`
/// prints (js-sha3, independent of Solidity).
contract LibTensorTest is Base {
    JobMarket internal market;

    function setUp() public {
        // tensorRoot is pure: any nonzero registry address will do.
        market = new JobMarket(IModelRegistry(address(0xbeef)), 1, 1);
    }

    function test_tensorRoot_threeBytes_succeeds() public view {
        // One leaf, so d = 0 and the root is the leaf: leaf(0x01, 01 02 03 ‖ 29 zero bytes).
        bytes32 expected = keccak256(abi.encodePacked(uint8(0x00), uint8(0x01), bytes32(hex"010203")));
        assertEq(market.tensorRoot(hex"010203"), expected, "by hand");
        assertEq(
            market.tensorRoot(hex"010203"),
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
        assertEq(market.tensorRoot(data), expected, "by hand");
        assertEq(market.tensorRoot(data), 0xed77bb2faccb23488f56e1facd1bd39903518c1310c752e771fb625ad6e3a9c9, "js-sha3");
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
        assertEq(market.tensorRoot(data), expected, "by hand");
        assertEq(market.tensorRoot(data), 0x5388b4953b3ec1aa1359631b6288283b39f841dcc1a4f0d8f7ab664ca00da3bf, "js-sha3");
    }

    function test_tensorRoot_zeroLeafConstant_succeeds() public pure {
        assertEq(LibTensor.ZERO_LEAF, 0x369d7c01e026e750d616303e0fa4ac262c55e4ebe19a54cbf15d814b03b1182b, "zero leaf");
    }

    function test_tensorRoot_trailingZerosAreNotPadding_succeeds() public view {
        // 33 bytes have two leaves, 32 bytes one: the length is not committed, but the leaf count is.
        assertTrue(market.tensorRoot(new bytes(33)) != market.tensorRoot(new bytes(32)), "33 vs 32 zero bytes");
        // 64 zero bytes = two zero leaves = one zero leaf padded to two: the padding rule (index ≥ count is 0).
        assertEq(
            market.tensorRoot(new bytes(64)),
            keccak256(abi.encodePacked(uint8(0x01), uint8(0x01), LibTensor.ZERO_LEAF, LibTensor.ZERO_LEAF)),
            "64 zero bytes"
        );
    }

    function test_tensorRoot_empty_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(EmptyTree.selector));
        market.tensorRoot("");
    }

    function test_tensorRoot_dirtyCalldataPadding_succeeds() public view {
        // Non-standard ABI encoding: the 29 bytes after 0x010203 are nonzero garbage. They are not part of the
        // tensor and must not reach its last leaf.
        bytes memory payload = abi.encodePacked(
            JobMarket.tensorRoot.selector,
            uint256(0x20),
            uint256(3),
            bytes32(hex"010203ffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")
        );
        (bool ok, bytes memory ret) = address(market).staticcall(payload);
        assertTrue(ok, "call");
        assertEq(abi.decode(ret, (bytes32)), Reference.tensorRoot(hex"010203"), "dirty padding ignored");
    }

    function testFuzz_tensorRoot_matchesReference_succeeds(bytes calldata data) public view {
        vm.assume(data.length > 0);
        assertEq(market.tensorRoot(data), Reference.tensorRoot(data), "tensor root");
    }

    function testFuzz_tensorRoot_lengths1To2100_succeeds(uint256 seed, uint256 len) public view {
        len = bound(len, 1, 2100);
        bytes memory data = randomBytes(seed, len);
        assertEq(market.tensorRoot(data), Reference.tensorRoot(data), "tensor root");
    }
}
