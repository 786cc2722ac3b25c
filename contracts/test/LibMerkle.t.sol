// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {EmptyTree, LeafIndexOutOfRange, PathLengthMismatch, TreeFull} from "../src/lib/Errors.sol";
import {Frontier, LibMerkle} from "../src/lib/LibMerkle.sol";
import {LibModel} from "../src/lib/LibModel.sol";
import {Base} from "./Base.t.sol";
import {Reference} from "./utils/Reference.sol";

/// @notice Exposes LibMerkle's storage accumulator and list root as external calls.
contract MerkleHarness {
    using LibMerkle for Frontier;

    Frontier internal _tree;

    function append(uint8 tag, bytes32 leafHash) external returns (uint256) {
        return _tree.append(tag, leafHash);
    }

    function root(uint8 tag, bytes32 pad) external view returns (bytes32) {
        return _tree.root(tag, pad);
    }

    function reset() external {
        _tree.reset();
    }

    function count() external view returns (uint256) {
        return _tree.count;
    }

    function listRoot(uint8 tag, bytes32[] memory leaves, bytes32 pad) external pure returns (bytes32) {
        return LibMerkle.root(tag, leaves, pad);
    }

    function climb(uint8 tag, bytes32 leafHash, uint256 index, bytes32[] calldata path, uint256 leafCount)
        external
        pure
        returns (bytes32)
    {
        return LibMerkle.climb(tag, leafHash, index, path, leafCount);
    }
}

contract LibMerkleTest is Base {
    MerkleHarness internal harness;

    function setUp() public {
        harness = new MerkleHarness();
    }

    function _leaves(uint256 seed, uint256 count) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            leaves[i] = keccak256(abi.encode(seed, i));
        }
    }

    function _copy(bytes32[] memory a) internal pure returns (bytes32[] memory b) {
        b = new bytes32[](a.length);
        for (uint256 i = 0; i < a.length; ++i) {
            b[i] = a[i];
        }
    }

    // ----- hashes -----

    function test_leaf_prefixAndTag_succeeds() public pure {
        bytes memory data = hex"deadbeef";
        assertEq(LibMerkle.leaf(0x04, data), keccak256(hex"0004deadbeef"), "leaf(0x04, deadbeef)");
        assertEq(LibMerkle.leaf(0x04, ""), keccak256(hex"0004"), "leaf(0x04, empty)");
        assertEq(LibMerkle.leaf(0x04, ""), LibModel.OP_PAD_LEAF, "op padding leaf");
    }

    function test_leafWord_matchesLeafOfBytes_succeeds() public pure {
        bytes32 w = keccak256("w");
        assertEq(LibMerkle.leafWord(0x05, w), keccak256(abi.encodePacked(hex"0005", w)), "leafWord");
        assertEq(LibMerkle.leafWord(0x05, w), LibMerkle.leaf(0x05, abi.encodePacked(w)), "leafWord == leaf");
        assertEq(LibMerkle.leafWord(0x05, 0), LibModel.MODEL_PAD_LEAF, "model padding leaf");
    }

    function test_node_prefixAndTag_succeeds() public pure {
        bytes32 l = keccak256("l");
        bytes32 r = keccak256("r");
        assertEq(LibMerkle.node(0x03, l, r), keccak256(abi.encodePacked(hex"0103", l, r)), "node");
        // A 64-byte leaf can never pose as a node: the prefixes differ.
        assertTrue(LibMerkle.node(0x03, l, r) != LibMerkle.leaf(0x03, abi.encodePacked(l, r)), "leaf != node");
    }

    function test_traceLeaf_pinnedVector_succeeds() public pure {
        // js-sha3: keccak256(0x00 ‖ 0x03 ‖ 0xabab…ab (20 bytes) ‖ 0x00…2a (32 bytes)), 54 bytes.
        address worker = 0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB;
        bytes32 expected = 0x0e29968cbe18699914ad7c34c29f7ba31205ea8a3d928993d1f10220adeeb411;
        assertEq(LibMerkle.traceLeaf(worker, bytes32(uint256(0x2a))), expected, "trace leaf");
    }

    function testFuzz_traceLeaf_isLeafOfWorkerAndState_succeeds(address worker, bytes32 finalState) public pure {
        assertEq(
            LibMerkle.traceLeaf(worker, finalState),
            Reference.leaf(0x03, abi.encodePacked(worker, finalState)),
            "leaf(0x03, worker, finalState)"
        );
    }

    function testFuzz_leafCalldata_matchesMemory_succeeds(uint8 tag, bytes calldata data) public pure {
        assertEq(LibMerkle.leafCalldata(tag, data), Reference.leaf(tag, data), "calldata leaf");
        assertEq(LibMerkle.leaf(tag, data), Reference.leaf(tag, data), "memory leaf");
    }

    // ----- root of a list -----

    function test_root_empty_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(EmptyTree.selector));
        harness.listRoot(0x01, new bytes32[](0), 0);
    }

    function test_root_oneLeaf_isTheLeaf_succeeds() public pure {
        bytes32[] memory leaves = new bytes32[](1);
        leaves[0] = keccak256("only");
        assertEq(LibMerkle.root(0x02, leaves, keccak256("pad")), keccak256("only"), "d = 0");
    }

    function test_root_threeLeaves_paddedToFour_succeeds() public pure {
        bytes32[] memory leaves = _leaves(7, 3);
        bytes32 pad = keccak256("pad");
        bytes32 expected = keccak256(
            abi.encodePacked(
                hex"0102",
                keccak256(abi.encodePacked(hex"0102", leaves[0], leaves[1])),
                keccak256(abi.encodePacked(hex"0102", leaves[2], pad))
            )
        );
        assertEq(LibMerkle.root(0x02, _copy(leaves), pad), expected, "3 leaves");
    }

    function testFuzz_root_matchesReference_succeeds(uint256 seed, uint256 count, uint8 tag) public pure {
        count = bound(count, 1, 70);
        bytes32[] memory leaves = _leaves(seed, count);
        bytes32 pad = keccak256(abi.encode(seed));
        assertEq(LibMerkle.root(tag, _copy(leaves), pad), Reference.merkle(tag, leaves, pad), "list root");
    }

    // ----- incremental accumulator -----

    function test_frontierRoot_empty_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(EmptyTree.selector));
        harness.root(0x04, 0);
    }

    function test_frontierAppend_returnsIndex_succeeds() public {
        assertEq(harness.append(0x04, keccak256("a")), 0, "first index");
        assertEq(harness.append(0x04, keccak256("b")), 1, "second index");
        assertEq(harness.count(), 2, "count");
    }

    function test_frontierRoot_everyCountUpTo70_succeeds() public {
        bytes32 pad = LibModel.OP_PAD_LEAF;
        bytes32[] memory all = _leaves(42, 70);
        for (uint256 m = 1; m <= 70; ++m) {
            harness.append(0x04, all[m - 1]);
            bytes32[] memory prefix = new bytes32[](m);
            for (uint256 i = 0; i < m; ++i) {
                prefix[i] = all[i];
            }
            assertEq(harness.root(0x04, pad), Reference.merkle(0x04, prefix, pad), "prefix root");
        }
    }

    function testFuzz_frontierRoot_matchesReference_succeeds(uint256 seed, uint256 count, uint8 tag) public {
        count = bound(count, 1, 70);
        bytes32[] memory leaves = _leaves(seed, count);
        bytes32 pad = keccak256(abi.encode(seed, "pad"));
        for (uint256 i = 0; i < count; ++i) {
            harness.append(tag, leaves[i]);
        }
        assertEq(harness.root(tag, pad), Reference.merkle(tag, leaves, pad), "frontier root");
        assertEq(harness.root(tag, pad), LibMerkle.root(tag, _copy(leaves), pad), "frontier == list root");
    }

    function testFuzz_frontierReset_forgetsEverything_succeeds(uint256 seed, uint256 before, uint256 count) public {
        before = bound(before, 1, 40);
        count = bound(count, 1, 40);
        bytes32[] memory stale = _leaves(seed, before);
        for (uint256 i = 0; i < before; ++i) {
            harness.append(0x04, stale[i]);
        }
        harness.reset();
        assertEq(harness.count(), 0, "count after reset");
        bytes32[] memory leaves = _leaves(uint256(keccak256(abi.encode(seed))), count);
        for (uint256 i = 0; i < count; ++i) {
            harness.append(0x04, leaves[i]);
        }
        assertEq(harness.root(0x04, 0), Reference.merkle(0x04, leaves, 0), "root after reset");
    }

    function test_frontierAppend_full_reverts() public {
        // Frontier.count is the harness's slot 0; 2^32 − 1 leaves is the most 32 branches can fold.
        vm.store(address(harness), 0, bytes32(LibMerkle.MAX_LEAVES));
        vm.expectRevert(abi.encodeWithSelector(TreeFull.selector, LibMerkle.MAX_LEAVES));
        harness.append(0x04, keccak256("one too many"));
    }

    function test_ceilLog2_values_succeeds() public pure {
        assertEq(LibMerkle.ceilLog2(1), 0, "1");
        assertEq(LibMerkle.ceilLog2(2), 1, "2");
        assertEq(LibMerkle.ceilLog2(3), 2, "3");
        assertEq(LibMerkle.ceilLog2(4), 2, "4");
        assertEq(LibMerkle.ceilLog2(5), 3, "5");
        assertEq(LibMerkle.ceilLog2(1 << 20), 20, "2^20");
        assertEq(LibMerkle.ceilLog2((1 << 20) + 1), 21, "2^20 + 1");
    }

    /// @notice ⌈log2 m⌉ the plain way (the original loop).
    function _ceilLog2Loop(uint256 m) internal pure returns (uint256 d) {
        while (2 ** d < m) ++d;
    }

    function testFuzz_ceilLog2_matchesLoop_succeeds(uint256 m) public pure {
        m = bound(m, 0, 1 << 255);
        assertEq(LibMerkle.ceilLog2(m), _ceilLog2Loop(m), "ceilLog2");
        // Around every power of two as well.
        uint256 p = 1 << (m % 255);
        assertEq(LibMerkle.ceilLog2(p), _ceilLog2Loop(p), "2^k");
        assertEq(LibMerkle.ceilLog2(p + 1), _ceilLog2Loop(p + 1), "2^k + 1");
        if (p > 1) assertEq(LibMerkle.ceilLog2(p - 1), _ceilLog2Loop(p - 1), "2^k - 1");
    }

    function test_ceilLog2_extremes_succeeds() public pure {
        assertEq(LibMerkle.ceilLog2(0), 0, "0");
        assertEq(LibMerkle.ceilLog2((1 << 255) + 1), 256, "2^255 + 1");
        assertEq(LibMerkle.ceilLog2(type(uint256).max), 256, "max");
    }

    // ----- climbing a path -----

    function testFuzz_climb_everyLeafReachesTheRoot_succeeds(uint256 seed, uint256 count, uint256 index, uint8 tag)
        public
        view
    {
        count = bound(count, 1, 70);
        index = bound(index, 0, count - 1);
        bytes32[] memory leaves = _leaves(seed, count);
        bytes32 pad = keccak256(abi.encode(seed, "pad"));
        bytes32[] memory path = Reference.path(tag, leaves, pad, index);
        assertEq(path.length, LibMerkle.ceilLog2(count), "path depth");
        assertEq(harness.climb(tag, leaves[index], index, path, count), Reference.merkle(tag, leaves, pad), "root");
    }

    function test_climb_oneLeaf_isTheLeaf_succeeds() public view {
        assertEq(harness.climb(0x02, keccak256("only"), 0, new bytes32[](0), 1), keccak256("only"), "d = 0");
    }

    function test_climb_siblingOrderFollowsIndexBits_succeeds() public view {
        // Leaf 2 of 4: its sibling (leaf 3) is on the right, then the left subtree (0, 1) on the left.
        bytes32[] memory leaves = _leaves(3, 4);
        bytes32[] memory path = new bytes32[](2);
        path[0] = leaves[3];
        path[1] = LibMerkle.node(0x01, leaves[0], leaves[1]);
        bytes32 expected = LibMerkle.node(0x01, path[1], LibMerkle.node(0x01, leaves[2], leaves[3]));
        assertEq(harness.climb(0x01, leaves[2], 2, path, 4), expected, "leaf 2 of 4");
        assertEq(harness.climb(0x01, leaves[2], 2, path, 3), expected, "leaf 2 of 3 (same depth)");
    }

    function test_climb_pathTooShort_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(PathLengthMismatch.selector, 2, 3));
        harness.climb(0x01, 0, 0, new bytes32[](2), 5);
        vm.expectRevert(abi.encodeWithSelector(PathLengthMismatch.selector, 0, 1));
        harness.climb(0x01, 0, 0, new bytes32[](0), 2);
    }

    function test_climb_pathTooLong_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(PathLengthMismatch.selector, 3, 2));
        harness.climb(0x01, 0, 0, new bytes32[](3), 4);
        vm.expectRevert(abi.encodeWithSelector(PathLengthMismatch.selector, 1, 0));
        harness.climb(0x01, 0, 0, new bytes32[](1), 1);
        // A path of 256 siblings is longer than any tree's.
        vm.expectRevert(abi.encodeWithSelector(PathLengthMismatch.selector, 256, 2));
        harness.climb(0x01, 0, 0, new bytes32[](256), 3);
    }

    function testFuzz_climb_wrongDepth_reverts(uint256 count, uint256 depth) public {
        count = bound(count, 1, 1 << 40);
        depth = bound(depth, 0, 60);
        uint256 want = LibMerkle.ceilLog2(count);
        vm.assume(depth != want);
        vm.expectRevert(abi.encodeWithSelector(PathLengthMismatch.selector, depth, want));
        harness.climb(0x01, 0, 0, new bytes32[](depth), count);
    }

    function test_climb_indexOutOfRange_reverts() public {
        // Index 3 of a 3-leaf tree is a padding leaf: its path has the right depth, but it is no leaf of the tree.
        vm.expectRevert(abi.encodeWithSelector(LeafIndexOutOfRange.selector, 3, 3));
        harness.climb(0x01, 0, 3, new bytes32[](2), 3);
        vm.expectRevert(abi.encodeWithSelector(LeafIndexOutOfRange.selector, 4, 4));
        harness.climb(0x01, 0, 4, new bytes32[](2), 4);
        vm.expectRevert(abi.encodeWithSelector(LeafIndexOutOfRange.selector, 0, 0));
        harness.climb(0x01, 0, 0, new bytes32[](0), 0);
    }
}
