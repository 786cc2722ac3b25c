// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {IModelRegistry} from "../src/interfaces/IModelRegistry.sol";
import {
    CardTooLarge,
    EmptyCardChunk,
    ModelNotPending,
    ModelRootMismatch,
    NotLlm,
    NotModelOwner
} from "../src/lib/Errors.sol";
import {LlmConfig, ModelStatus} from "../src/lib/Types.sol";
import {LlmJobsFixture} from "./LlmJobs.t.sol";
import {LlmFixture} from "./utils/LlmFixture.sol";

/// @notice A language model's card (PROTOCOL §7.1): published in chunks by the owner of a Pending model, chained into
/// the hash the model root commits to, cleared by a reset, refused for tensor models, when empty, past
/// `MAX_CARD_BYTES`, from anyone but the owner and once the model is Active.
contract LlmCardTest is LlmJobsFixture {
    function _chunks() internal pure returns (bytes[] memory c) {
        c = new bytes[](3);
        c[0] = hex"0102030405";
        c[1] = bytes("the tokenizer's merges, and the chat template");
        c[2] = hex"ff";
    }

    /// @dev The chained hash of `chunks`, computed independently: h = keccak256(h ‖ chunk) from zero.
    function _chain(bytes[] memory chunks) internal pure returns (bytes32 h) {
        for (uint256 i = 0; i < chunks.length; ++i) {
            h = keccak256(bytes.concat(h, chunks[i]));
        }
    }

    function _pendingWithCard(bytes32 root, bytes[] memory chunks) internal returns (uint256 id) {
        id = _registerLlm(LlmFixture.small(), root);
        vm.startPrank(owner);
        for (uint256 i = 0; i < chunks.length; ++i) {
            registry.publishCard(id, chunks[i]);
        }
        vm.stopPrank();
    }

    function test_publishCard_chainsTheChunksIntoTheRoot_succeeds() public {
        LlmConfig memory c = LlmFixture.small();
        bytes[][] memory opLeaves = LlmFixture.specOnlyOps(c);
        bytes[] memory chunks = _chunks();
        bytes32 root = LlmFixture.modelRoot(c, _chain(chunks), LlmFixture.opsRoot(opLeaves));
        uint256 id = _registerLlm(c, root);
        vm.startPrank(owner);
        for (uint256 i = 0; i < chunks.length; ++i) {
            vm.expectEmit(address(registry));
            emit IModelRegistry.ModelCardPublished(id, uint32(i), chunks[i]);
            registry.publishCard(id, chunks[i]);
        }
        vm.stopPrank();
        (bytes32 hash, uint32 count, uint32 length) = registry.card(id);
        assertEq(hash, _chain(chunks), "chained hash");
        assertEq(count, 3, "chunks");
        assertEq(length, 5 + chunks[1].length + 1, "bytes");
        _publish(id, opLeaves, 0, OPS);
        assertEq(uint256(registry.getModel(id).status), uint256(ModelStatus.Active), "Active");
    }

    function test_sealOp_cardMissingOrReordered_reverts() public {
        LlmConfig memory c = LlmFixture.small();
        bytes[][] memory opLeaves = LlmFixture.specOnlyOps(c);
        bytes32 opsRoot = LlmFixture.opsRoot(opLeaves);
        bytes[] memory chunks = _chunks();
        bytes32 root = LlmFixture.modelRoot(c, _chain(chunks), opsRoot);

        // No card: the root over a zero card hash is not the registered one.
        _expectMismatch(_registerLlm(c, root), opLeaves, LlmFixture.modelRoot(c, bytes32(0), opsRoot), root);

        // The same chunks in another order chain to another hash.
        (chunks[0], chunks[2]) = (chunks[2], chunks[0]);
        uint256 id = _pendingWithCard(root, chunks);
        _expectMismatch(id, opLeaves, LlmFixture.modelRoot(c, _chain(chunks), opsRoot), root);
    }

    function _expectMismatch(uint256 id, bytes[][] memory opLeaves, bytes32 computed, bytes32 registered) internal {
        _publish(id, opLeaves, 0, OPS - 1);
        vm.startPrank(owner);
        registry.publishLeaves(id, uint32(OPS - 1), opLeaves[OPS - 1]);
        vm.expectRevert(abi.encodeWithSelector(ModelRootMismatch.selector, computed, registered));
        registry.sealOp(id, uint32(OPS - 1));
        vm.stopPrank();
    }

    function test_resetPublication_clearsTheCard_succeeds() public {
        uint256 id = _pendingWithCard(bytes32(uint256(1)), _chunks());
        vm.prank(owner);
        registry.resetPublication(id);
        (bytes32 hash, uint32 count, uint32 length) = registry.card(id);
        assertEq(hash, bytes32(0), "hash cleared");
        assertEq(count, 0, "chunks cleared");
        assertEq(length, 0, "bytes cleared");
    }

    function test_publishCard_refusals_reverts() public {
        uint256 id = _registerLlm(LlmFixture.small(), bytes32(uint256(1)));

        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(EmptyCardChunk.selector, id));
        registry.publishCard(id, "");

        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(NotModelOwner.selector, id, poster));
        registry.publishCard(id, hex"01");

        // A tensor model has no card.
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(NotLlm.selector, tensorId));
        registry.publishCard(tensorId, hex"01");
        vm.expectRevert(abi.encodeWithSelector(NotLlm.selector, tensorId));
        registry.card(tensorId);

        // An Active model's card is final.
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(ModelNotPending.selector, llmId, ModelStatus.Active));
        registry.publishCard(llmId, hex"01");
    }

    function test_publishCard_pastTheCap_reverts() public {
        uint256 id = _registerLlm(LlmFixture.small(), bytes32(uint256(1)));
        uint256 max = registry.MAX_CARD_BYTES();
        bytes memory big = new bytes(max / 2);
        vm.startPrank(owner);
        registry.publishCard(id, big);
        registry.publishCard(id, big);
        // Exactly the cap is allowed; one byte more is not.
        vm.expectRevert(abi.encodeWithSelector(CardTooLarge.selector, id, max + 1, max));
        registry.publishCard(id, hex"01");
        vm.stopPrank();
        (, uint32 count, uint32 length) = registry.card(id);
        assertEq(count, 2, "the refused chunk is not counted");
        assertEq(length, max, "at the cap");
    }
}
