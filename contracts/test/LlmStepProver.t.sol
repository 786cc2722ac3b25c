// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {LlmStepProver} from "../src/LlmStepProver.sol";
import {
    ILlmStepProver,
    LlmParamProof,
    LlmRunProof,
    LlmSlotProof,
    LlmWitness
} from "../src/interfaces/ILlmStepProver.sol";
import {IModelRegistry} from "../src/interfaces/IModelRegistry.sol";
import {
    ElementOutOfRange,
    EmptyTree,
    InvalidLlmLayout,
    LeafIndexOutOfRange,
    LlmExtraParams,
    LlmExtraRuns,
    LlmParamMismatch,
    LlmParamMissing,
    LlmParamRootMismatch,
    LlmRunMismatch,
    LlmRunMissing,
    LlmRunRootMismatch,
    LlmSlotNotProven,
    LlmSlotNotRead,
    LlmSlotNotReadable,
    LlmSlotOutOfRange,
    LlmSlotRootMismatch,
    LlmSlotsNotIncreasing,
    ModelNotActive,
    NotLlm,
    RangeProofLengthMismatch,
    ZeroRegistry
} from "../src/lib/Errors.sol";
import {LibLlmTrace, SlotGeometry} from "../src/lib/LibLlmTrace.sol";
import {LibMerkle} from "../src/lib/LibMerkle.sol";
import {LlmConfig, LlmLayout, ModelStatus} from "../src/lib/Types.sol";
import {Base} from "./Base.t.sol";
import {LlmJobsFixture} from "./LlmJobs.t.sol";
import {LlmFixture} from "./utils/LlmFixture.sol";
import {Reference} from "./utils/Reference.sol";

/// @notice Exposes `LibMerkle.climbRange` as an external call.
contract RangeHarness {
    function climbRange(
        uint8 tag,
        bytes32[] memory nodes,
        uint256 first,
        bytes32[] calldata siblings,
        uint256 leafCount
    ) external pure returns (bytes32) {
        return LibMerkle.climbRange(tag, nodes, first, siblings, leafCount);
    }
}

/// @notice `LibMerkle.climbRange` against trees and range proofs built level by level here (the proof as
/// `vouch_core::merkle::MerkleTree::range_proof` builds it).
contract LibMerkleClimbRangeTest is Base {
    RangeHarness internal harness;

    uint8 internal constant TAG = 0x01;

    function setUp() public {
        harness = new RangeHarness();
    }

    /// @dev `n` leaves from `seed`, and every level of their tree padded with `leaf(0x01, 0)` (level 0 the leaves).
    function _tree(uint256 seed, uint256 n) internal pure returns (bytes32[] memory leaves, bytes32[][] memory levels) {
        leaves = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            leaves[i] = keccak256(abi.encode(seed, i));
        }
        uint256 width = 1;
        uint256 depth = 0;
        while (width < n) (width, depth) = (width * 2, depth + 1);
        levels = new bytes32[][](depth + 1);
        levels[0] = new bytes32[](width);
        bytes32 pad = Reference.leaf(TAG, abi.encodePacked(bytes32(0)));
        for (uint256 i = 0; i < width; ++i) {
            levels[0][i] = i < n ? leaves[i] : pad;
        }
        for (uint256 d = 1; d <= depth; ++d) {
            levels[d] = new bytes32[](levels[d - 1].length / 2);
            for (uint256 i = 0; i < levels[d].length; ++i) {
                levels[d][i] = Reference.node(TAG, levels[d - 1][2 * i], levels[d - 1][2 * i + 1]);
            }
        }
    }

    /// @dev The range proof of leaves [first, first + count): at each level the sibling left of the run when its first
    /// node is a right child, then the one right of it when its last node is a left child.
    function _rangeProof(bytes32[][] memory levels, uint256 first, uint256 count)
        internal
        pure
        returns (bytes32[] memory proof)
    {
        bytes32[] memory buf = new bytes32[](2 * levels.length);
        uint256 m;
        (uint256 lo, uint256 hi) = (first, first + count - 1);
        for (uint256 d = 0; d + 1 < levels.length; ++d) {
            if (lo % 2 == 1) buf[m++] = levels[d][lo - 1];
            if (hi % 2 == 0) buf[m++] = levels[d][hi + 1];
            (lo, hi) = (lo / 2, hi / 2);
        }
        proof = new bytes32[](m);
        for (uint256 i = 0; i < m; ++i) {
            proof[i] = buf[i];
        }
    }

    function _run(bytes32[] memory leaves, uint256 first, uint256 count) internal pure returns (bytes32[] memory run) {
        run = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            run[i] = leaves[first + i];
        }
    }

    function testFuzz_climbRange_everyRun_succeeds(uint256 seed, uint256 n, uint256 first, uint256 count) public view {
        n = bound(n, 1, 70);
        first = bound(first, 0, n - 1);
        count = bound(count, 1, n - first);
        (bytes32[] memory leaves, bytes32[][] memory levels) = _tree(seed, n);
        bytes32 root = levels[levels.length - 1][0];
        bytes32[] memory proof = _rangeProof(levels, first, count);
        assertEq(harness.climbRange(TAG, _run(leaves, first, count), first, proof, n), root, "run climbs to the root");
        if (count == 1) {
            // One leaf's range proof is its path.
            assertEq(LibMerkle.ceilLog2(n), proof.length, "a single leaf's proof is its path");
        }
    }

    function test_climbRange_everyRunOfSmallTrees_succeeds() public view {
        for (uint256 n = 1; n <= 9; ++n) {
            (bytes32[] memory leaves, bytes32[][] memory levels) = _tree(n, n);
            for (uint256 first = 0; first < n; ++first) {
                for (uint256 count = 1; first + count <= n; ++count) {
                    bytes32[] memory proof = _rangeProof(levels, first, count);
                    assertEq(
                        harness.climbRange(TAG, _run(leaves, first, count), first, proof, n),
                        levels[levels.length - 1][0],
                        "run climbs to the root"
                    );
                }
            }
        }
    }

    function test_climbRange_changedSiblingOrLeaf_succeedsToAnotherRoot() public view {
        (bytes32[] memory leaves, bytes32[][] memory levels) = _tree(7, 13);
        bytes32 root = levels[levels.length - 1][0];
        bytes32[] memory proof = _rangeProof(levels, 3, 6);
        proof[1] = bytes32(uint256(proof[1]) ^ 1);
        assertTrue(harness.climbRange(TAG, _run(leaves, 3, 6), 3, proof, 13) != root, "a changed sibling");
        proof = _rangeProof(levels, 3, 6);
        bytes32[] memory run = _run(leaves, 3, 6);
        run[5] = bytes32(uint256(run[5]) ^ 1);
        assertTrue(harness.climbRange(TAG, run, 3, proof, 13) != root, "a changed leaf");
        // The same leaves named one place later.
        assertTrue(harness.climbRange(TAG, _run(leaves, 3, 6), 4, _rangeProof(levels, 4, 6), 13) != root, "moved");
    }

    function test_climbRange_extraSibling_reverts() public {
        (bytes32[] memory leaves, bytes32[][] memory levels) = _tree(1, 10);
        bytes32[] memory proof = _rangeProof(levels, 2, 3);
        bytes32[] memory longer = new bytes32[](proof.length + 1);
        for (uint256 i = 0; i < proof.length; ++i) {
            longer[i] = proof[i];
        }
        vm.expectRevert(abi.encodeWithSelector(RangeProofLengthMismatch.selector, proof.length + 1, proof.length));
        harness.climbRange(TAG, _run(leaves, 2, 3), 2, longer, 10);
    }

    function test_climbRange_missingSibling_reverts() public {
        (bytes32[] memory leaves, bytes32[][] memory levels) = _tree(1, 10);
        bytes32[] memory proof = _rangeProof(levels, 2, 3);
        bytes32[] memory shorter = new bytes32[](proof.length - 1);
        for (uint256 i = 0; i < shorter.length; ++i) {
            shorter[i] = proof[i];
        }
        vm.expectRevert(abi.encodeWithSelector(RangeProofLengthMismatch.selector, proof.length - 1, proof.length));
        harness.climbRange(TAG, _run(leaves, 2, 3), 2, shorter, 10);
    }

    function test_climbRange_runPastLastLeaf_reverts() public {
        (bytes32[] memory leaves,) = _tree(1, 10);
        bytes32[] memory run = new bytes32[](3);
        (run[0], run[1], run[2]) = (leaves[8], leaves[9], Reference.leaf(TAG, abi.encodePacked(bytes32(0))));
        vm.expectRevert(abi.encodeWithSelector(LeafIndexOutOfRange.selector, 10, 10));
        harness.climbRange(TAG, run, 8, new bytes32[](0), 10);
    }

    function test_climbRange_emptyRun_reverts() public {
        vm.expectRevert(EmptyTree.selector);
        harness.climbRange(TAG, new bytes32[](0), 0, new bytes32[](0), 4);
    }
}

/// @notice `LlmStepProver` on a listed language model whose ops are their 3-byte specs only (`LlmFixture.small`): the
/// elements that read no parameter row (COLLECT, APPEND past the position) end to end over a hand-built final state,
/// and every refusal of a witness, a slot, an element, a layout and a model. The elements of every op are checked
/// against the Rust reference on anvil (`chain/tests/llm_step.rs`).
contract LlmStepProverTest is LlmJobsFixture {
    LlmStepProver internal prover;

    /// @dev P = 2 prompt tokens, a budget of 3, an answer of 2: passes 0 … 2, n = 1 + 3·43 = 130.
    uint256 internal constant N = 130;
    /// @dev Pass 2's ARGMAX2 (op 42): the answer's second token.
    uint256 internal constant ARGMAX2_SLOT = 1 + 2 * OPS + 42;
    /// @dev Block 0's APPEND (op 7) of pass 0.
    uint256 internal constant APPEND_SLOT = 1 + 7;
    int256 internal constant TOKEN = 257;

    bytes32[] internal slotRoots;

    function setUp() public override {
        super.setUp();
        prover = new LlmStepProver(registry);
        slotRoots = new bytes32[](N + 1);
        for (uint256 s = 0; s <= N; ++s) {
            slotRoots[s] = keccak256(abi.encode("slot", s));
        }
        slotRoots[ARGMAX2_SLOT] = LibMerkle.leafWord(LibMerkle.TAG_TENSOR, _tokenLeaf());
    }

    function _layout() internal pure returns (LlmLayout memory) {
        return LlmLayout({prompt: 2, maxNew: 3, generated: 2});
    }

    /// @dev The one leaf of pass 2's ARGMAX2 slot: the token, big-endian, zero-filled.
    function _tokenLeaf() internal pure returns (bytes32) {
        return bytes32(uint256(uint32(int32(TOKEN))) << 224);
    }

    function _state() internal view returns (bytes32) {
        return LlmFixture.node(0x02, LlmFixture.stateLeaves(slotRoots, 256), 0, 0);
    }

    function _slotProof(uint256 s) internal view returns (LlmSlotProof memory) {
        bytes32[] memory leaves = LlmFixture.stateLeaves(slotRoots, 256);
        return LlmSlotProof({slot: s, root: slotRoots[s], path: Reference.path(0x02, leaves, leaves[N], s)});
    }

    /// @dev The honest witness of the output's element 1: pass 2's ARGMAX2 slot, its one leaf, no model leaf.
    function _collectWitness() internal view returns (LlmWitness memory w) {
        w.slots = new LlmSlotProof[](1);
        w.slots[0] = _slotProof(ARGMAX2_SLOT);
        w.runs = new LlmRunProof[](1);
        bytes32[] memory leaves = new bytes32[](1);
        leaves[0] = _tokenLeaf();
        w.runs[0] = LlmRunProof({slot: ARGMAX2_SLOT, firstLeaf: 0, leaves: leaves, siblings: new bytes32[](0)});
    }

    function _collect(LlmWitness memory w) internal view returns (int256) {
        return prover.trueElement(llmId, _layout(), _state(), N, 1, w);
    }

    /// @dev The witness of APPEND element (r, j) with j past pass 0: only the op's spec (a one-leaf tree).
    function _appendWitness() internal pure returns (LlmWitness memory w) {
        w.params = new LlmParamProof[](1);
        w.params[0] =
            LlmParamProof({op: 7, leaf: 0, data: LlmFixture.spec(LlmFixture.small(), 7), path: new bytes32[](0)});
    }

    // ----- construction and geometry -----

    function test_constructor_zeroRegistry_reverts() public {
        vm.expectRevert(ZeroRegistry.selector);
        new LlmStepProver(IModelRegistry(address(0)));
    }

    function test_slotGeometry_isTheTraceGeometry_succeeds() public view {
        LlmConfig memory c = LlmFixture.small();
        for (uint256 s = 0; s <= N; s += 7) {
            SlotGeometry memory got = prover.slotGeometry(llmId, _layout(), s);
            SlotGeometry memory want = LibLlmTrace.geometry(c, _layout(), s);
            assertEq(keccak256(abi.encode(got)), keccak256(abi.encode(want)), "geometry");
        }
    }

    function test_slotGeometry_pastOutput_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(LlmSlotOutOfRange.selector, N + 1, N));
        prover.slotGeometry(llmId, _layout(), N + 1);
    }

    // ----- elements end to end -----

    function test_trueElement_collect_succeeds() public view {
        assertEqInt(_collect(_collectWitness()), TOKEN, "the output's token is pass 2's argmax");
    }

    function test_trueElement_appendPastPosition_succeeds() public view {
        // Row 5, position 3 of pass 0's Vᵀ cache (N = P + maxNew − 1 = 4 positions): not written yet, 0.
        uint256 e = 5 * 4 + 3;
        assertEqInt(prover.trueElement(llmId, _layout(), _state(), APPEND_SLOT, e, _appendWitness()), 0, "empty");
    }

    // ----- the witness's slots -----

    function test_trueElement_wrongSlotRoot_reverts() public {
        LlmWitness memory w = _collectWitness();
        w.slots[0].root = bytes32(uint256(w.slots[0].root) ^ 1);
        bytes32 computed = Reference.climb(
            0x02, Reference.leaf(0x02, abi.encodePacked(w.slots[0].root)), ARGMAX2_SLOT, w.slots[0].path
        );
        vm.expectRevert(abi.encodeWithSelector(LlmSlotRootMismatch.selector, ARGMAX2_SLOT, computed, _state()));
        _collect(w);
    }

    function test_trueElement_missingSlotProof_reverts() public {
        LlmWitness memory w = _collectWitness();
        w.slots = new LlmSlotProof[](0);
        vm.expectRevert(abi.encodeWithSelector(LlmSlotNotProven.selector, ARGMAX2_SLOT));
        _collect(w);
    }

    function test_trueElement_slotNotRead_reverts() public {
        LlmWitness memory w = _collectWitness();
        LlmSlotProof[] memory slots = new LlmSlotProof[](2);
        (slots[0], slots[1]) = (_slotProof(0), w.slots[0]);
        w.slots = slots;
        vm.expectRevert(abi.encodeWithSelector(LlmSlotNotRead.selector, 0));
        _collect(w);
    }

    function test_trueElement_slotAtOrPastStep_reverts() public {
        LlmWitness memory w = _collectWitness();
        LlmSlotProof[] memory slots = new LlmSlotProof[](2);
        (slots[0], slots[1]) = (w.slots[0], _slotProof(N));
        w.slots = slots;
        vm.expectRevert(abi.encodeWithSelector(LlmSlotNotReadable.selector, N, N));
        _collect(w);
    }

    function test_trueElement_slotProvenTwice_reverts() public {
        LlmWitness memory w = _collectWitness();
        LlmSlotProof[] memory slots = new LlmSlotProof[](2);
        (slots[0], slots[1]) = (w.slots[0], w.slots[0]);
        w.slots = slots;
        vm.expectRevert(abi.encodeWithSelector(LlmSlotsNotIncreasing.selector, 1, ARGMAX2_SLOT));
        _collect(w);
    }

    // ----- the witness's runs -----

    function test_trueElement_changedRunLeaf_reverts() public {
        LlmWitness memory w = _collectWitness();
        w.runs[0].leaves[0] = bytes32(uint256(w.runs[0].leaves[0]) ^ 1);
        bytes32 computed = LibMerkle.leafWord(LibMerkle.TAG_TENSOR, w.runs[0].leaves[0]);
        vm.expectRevert(abi.encodeWithSelector(LlmRunRootMismatch.selector, 0, computed, slotRoots[ARGMAX2_SLOT]));
        _collect(w);
    }

    function test_trueElement_runOfAnotherPlace_reverts() public {
        LlmWitness memory w = _collectWitness();
        w.runs[0].firstLeaf = 1;
        vm.expectRevert(abi.encodeWithSelector(LlmRunMismatch.selector, 0, ARGMAX2_SLOT, 0, 1));
        _collect(w);
        w.runs[0].firstLeaf = 0;
        w.runs[0].slot = ARGMAX2_SLOT - OPS;
        vm.expectRevert(abi.encodeWithSelector(LlmRunMismatch.selector, 0, ARGMAX2_SLOT, 0, 1));
        _collect(w);
    }

    function test_trueElement_missingRun_reverts() public {
        LlmWitness memory w = _collectWitness();
        w.runs = new LlmRunProof[](0);
        vm.expectRevert(abi.encodeWithSelector(LlmRunMissing.selector, 0));
        _collect(w);
    }

    function test_trueElement_extraRun_reverts() public {
        LlmWitness memory w = _collectWitness();
        LlmRunProof[] memory runs = new LlmRunProof[](2);
        (runs[0], runs[1]) = (w.runs[0], w.runs[0]);
        w.runs = runs;
        vm.expectRevert(abi.encodeWithSelector(LlmExtraRuns.selector, 2, 1));
        _collect(w);
    }

    // ----- the witness's model leaves -----

    function test_trueElement_extraParam_reverts() public {
        LlmWitness memory w = _collectWitness();
        w.params = _appendWitness().params;
        vm.expectRevert(abi.encodeWithSelector(LlmExtraParams.selector, 1, 0));
        _collect(w);
    }

    function test_trueElement_missingParam_reverts() public {
        LlmWitness memory none;
        vm.expectRevert(abi.encodeWithSelector(LlmParamMissing.selector, 0));
        prover.trueElement(llmId, _layout(), _state(), APPEND_SLOT, 23, none);
    }

    function test_trueElement_changedParam_reverts() public {
        LlmWitness memory w = _appendWitness();
        w.params[0].data[2] ^= 0x01;
        bytes32 computed = Reference.leaf(0x04, w.params[0].data);
        bytes32 opRoot = registry.opRoot(llmId, 7);
        vm.expectRevert(abi.encodeWithSelector(LlmParamRootMismatch.selector, 0, computed, opRoot));
        prover.trueElement(llmId, _layout(), _state(), APPEND_SLOT, 23, w);
    }

    function test_trueElement_paramOfAnotherOp_reverts() public {
        LlmWitness memory w = _appendWitness();
        w.params[0].op = 8;
        w.params[0].data = LlmFixture.spec(LlmFixture.small(), 8);
        vm.expectRevert(abi.encodeWithSelector(LlmParamMismatch.selector, 0, 7, 0));
        prover.trueElement(llmId, _layout(), _state(), APPEND_SLOT, 23, w);
    }

    // ----- slots, elements, layouts and models -----

    function test_trueElement_inputSlot_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(LlmSlotOutOfRange.selector, 0, N));
        prover.trueElement(llmId, _layout(), _state(), 0, 0, _collectWitness());
    }

    function test_trueElement_pastOutput_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(LlmSlotOutOfRange.selector, N + 1, N));
        prover.trueElement(llmId, _layout(), _state(), N + 1, 0, _collectWitness());
    }

    function test_trueElement_elementPastSlot_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(ElementOutOfRange.selector, 2, 2));
        prover.trueElement(llmId, _layout(), _state(), N, 2, _collectWitness());
    }

    function test_trueElement_noAnswer_reverts() public {
        LlmLayout memory l = LlmLayout({prompt: 2, maxNew: 3, generated: 0});
        vm.expectRevert(abi.encodeWithSelector(InvalidLlmLayout.selector, 2, 3, 0));
        prover.trueElement(llmId, l, _state(), N, 0, _collectWitness());
    }

    function test_trueElement_pastContext_reverts() public {
        LlmLayout memory l = LlmLayout({prompt: 30, maxNew: 4, generated: 1});
        vm.expectRevert(abi.encodeWithSelector(InvalidLlmLayout.selector, 30, 4, 1));
        prover.trueElement(llmId, l, _state(), 1, 0, _collectWitness());
    }

    function test_trueElement_tensorModel_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(NotLlm.selector, tensorId));
        prover.trueElement(tensorId, _layout(), _state(), N, 1, _collectWitness());
    }

    function test_trueElement_pendingModel_reverts() public {
        uint256 id = _registerLlm(LlmFixture.small(), keccak256("pending"));
        vm.expectRevert(abi.encodeWithSelector(ModelNotActive.selector, id, ModelStatus.Pending));
        prover.trueElement(id, _layout(), _state(), N, 1, _collectWitness());
    }

    function test_trueElement_retiredAfterActive_succeeds() public {
        vm.prank(owner);
        registry.retire(llmId);
        assertEqInt(_collect(_collectWitness()), TOKEN, "a retired model's disputes are still decided");
    }
}
