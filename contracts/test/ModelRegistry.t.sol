// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {ModelRegistry} from "../src/ModelRegistry.sol";
import {IModelRegistry} from "../src/interfaces/IModelRegistry.sol";
import {
    EmptyOp,
    InvalidModelShape,
    ModelAlreadyRetired,
    ModelNotPending,
    ModelRootMismatch,
    NoLeaves,
    NotModelOwner,
    RoyaltyTooHigh,
    UnknownModel,
    WrongOp
} from "../src/lib/Errors.sol";
import {Model, ModelStatus} from "../src/lib/Types.sol";
import {Base} from "./Base.t.sol";
import {DenseReluModel, ModelFixture} from "./utils/ModelFixture.sol";
import {Reference} from "./utils/Reference.sol";

contract ModelRegistryTest is Base {
    ModelRegistry internal registry;
    address internal owner;
    address internal stranger;
    DenseReluModel internal model;

    uint256 internal constant FEE = 0.01 ether;
    uint16 internal constant ROYALTY_BPS = 1500;
    string internal constant URI = "ipfs://vouch/digits-64-10";

    function setUp() public {
        registry = new ModelRegistry();
        owner = makeAddr("owner");
        stranger = makeAddr("stranger");
        DenseReluModel memory m = ModelFixture.denseRelu(1, 64, 10);
        model.inputLen = m.inputLen;
        model.outputLen = m.outputLen;
        model.root = m.root;
        model.ops = m.ops;
    }

    // ----- helpers -----

    function _register() internal returns (uint256 id) {
        vm.prank(owner);
        id = registry.registerModel(model.root, 2, model.inputLen, model.outputLen, FEE, ROYALTY_BPS, URI);
    }

    function _publishAll(uint256 id) internal {
        vm.startPrank(owner);
        registry.publishLeaves(id, 0, ModelFixture.slice(model.ops[0], 0, 4));
        registry.publishLeaves(id, 0, ModelFixture.slice(model.ops[0], 4, model.ops[0].length));
        registry.sealOp(id, 0);
        registry.publishLeaves(id, 1, model.ops[1]);
        registry.sealOp(id, 1);
        vm.stopPrank();
    }

    function _registerActive() internal returns (uint256 id) {
        id = _register();
        _publishAll(id);
    }

    function _oneLeaf() internal pure returns (bytes[] memory leaves) {
        leaves = new bytes[](1);
        leaves[0] = hex"02000100000000fb";
    }

    // ----- registerModel -----

    function test_registerModel_firstIdIsOne_succeeds() public {
        vm.expectEmit(address(registry));
        emit IModelRegistry.ModelRegistered(1, owner, model.root, 2, 64, 10, FEE, ROYALTY_BPS, URI);
        assertEq(_register(), 1, "first id");
        assertEq(_register(), 2, "second id");
        assertEq(registry.modelCount(), 2, "count");

        Model memory m = registry.getModel(1);
        assertEq(m.owner, owner, "owner");
        assertEq(m.root, model.root, "root");
        assertEq(m.opCount, 2, "opCount");
        assertEq(m.inputLen, 64, "inputLen");
        assertEq(m.outputLen, 10, "outputLen");
        assertEq(m.royaltyBps, ROYALTY_BPS, "royalty");
        assertEq(uint256(m.status), uint256(ModelStatus.Pending), "status");
        assertEq(m.fee, FEE, "fee");
        assertEq(m.uri, URI, "uri");
    }

    function test_registerModel_maxRoyalty_succeeds() public {
        registry.registerModel(model.root, 1, 1, 1, 0, 10_000, "");
        assertEq(registry.getModel(1).royaltyBps, 10_000, "100 %");
    }

    function test_registerModel_zeroOpCount_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(InvalidModelShape.selector, 0, 64, 10));
        registry.registerModel(model.root, 0, 64, 10, FEE, ROYALTY_BPS, URI);
    }

    function test_registerModel_zeroInputLen_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(InvalidModelShape.selector, 2, 0, 10));
        registry.registerModel(model.root, 2, 0, 10, FEE, ROYALTY_BPS, URI);
    }

    function test_registerModel_zeroOutputLen_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(InvalidModelShape.selector, 2, 64, 0));
        registry.registerModel(model.root, 2, 64, 0, FEE, ROYALTY_BPS, URI);
    }

    function test_registerModel_royaltyAbove100Percent_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(RoyaltyTooHigh.selector, 10_001, 10_000));
        registry.registerModel(model.root, 2, 64, 10, FEE, 10_001, URI);
    }

    // ----- publication: happy path -----

    function test_publishLeaves_twoChunksThenSeal_succeeds() public {
        uint256 id = _register();
        bytes[] memory first = ModelFixture.slice(model.ops[0], 0, 4);
        bytes[] memory rest = ModelFixture.slice(model.ops[0], 4, 11);

        vm.startPrank(owner);
        vm.expectEmit(address(registry));
        emit IModelRegistry.ModelLeavesPublished(id, 0, 0, first);
        registry.publishLeaves(id, 0, first);
        vm.expectEmit(address(registry));
        emit IModelRegistry.ModelLeavesPublished(id, 0, 4, rest);
        registry.publishLeaves(id, 0, rest);
        (uint32 op, uint32 leafCount) = registry.publication(id);
        assertEq(op, 0, "op");
        assertEq(leafCount, 11, "leaves");

        bytes32 op0 = Reference.opRoot(model.ops[0]);
        vm.expectEmit(address(registry));
        emit IModelRegistry.OpSealed(id, 0, op0);
        registry.sealOp(id, 0);
        assertEq(registry.opRoot(id, 0), op0, "op 0 root");
        assertEq(registry.opRoot(id, 1), bytes32(0), "op 1 not sealed");

        registry.publishLeaves(id, 1, model.ops[1]);
        vm.expectEmit(address(registry));
        emit IModelRegistry.OpSealed(id, 1, Reference.opRoot(model.ops[1]));
        vm.expectEmit(address(registry));
        emit IModelRegistry.ModelActivated(id);
        registry.sealOp(id, 1);
        vm.stopPrank();

        assertEq(uint256(registry.getModel(id).status), uint256(ModelStatus.Active), "active");
        (op, leafCount) = registry.publication(id);
        assertEq(op, 2, "all ops sealed");
        assertEq(leafCount, 0, "no open op");
    }

    function testFuzz_publishLeaves_anyShapeAnyChunking_succeeds(uint256 seed, uint32 k, uint32 n, uint256 cut) public {
        k = uint32(bound(k, 1, 100));
        n = uint32(bound(n, 1, 40));
        DenseReluModel memory m = ModelFixture.denseRelu(seed, k, n);
        cut = bound(cut, 1, m.ops[0].length);

        vm.startPrank(owner);
        uint256 id = registry.registerModel(m.root, 2, k, n, FEE, ROYALTY_BPS, URI);
        registry.publishLeaves(id, 0, ModelFixture.slice(m.ops[0], 0, cut));
        if (cut < m.ops[0].length) {
            registry.publishLeaves(id, 0, ModelFixture.slice(m.ops[0], cut, m.ops[0].length));
        }
        registry.sealOp(id, 0);
        registry.publishLeaves(id, 1, m.ops[1]);
        registry.sealOp(id, 1);
        vm.stopPrank();
        assertEq(uint256(registry.getModel(id).status), uint256(ModelStatus.Active), "active");
    }

    function test_sealOp_rootMismatch_reverts() public {
        bytes32 wrongRoot = keccak256("not this model");
        vm.startPrank(owner);
        uint256 id = registry.registerModel(wrongRoot, 2, 64, 10, FEE, ROYALTY_BPS, URI);
        registry.publishLeaves(id, 0, model.ops[0]);
        registry.sealOp(id, 0);
        registry.publishLeaves(id, 1, model.ops[1]);
        vm.expectRevert(abi.encodeWithSelector(ModelRootMismatch.selector, model.root, wrongRoot));
        registry.sealOp(id, 1);
        vm.stopPrank();
    }

    function test_sealOp_shapeIsCommitted_reverts() public {
        // Same leaves, another registered input length: the model root differs.
        vm.startPrank(owner);
        uint256 id = registry.registerModel(model.root, 2, 65, 10, FEE, ROYALTY_BPS, URI);
        registry.publishLeaves(id, 0, model.ops[0]);
        registry.sealOp(id, 0);
        registry.publishLeaves(id, 1, model.ops[1]);
        bytes32 computed = Reference.modelRoot(65, 10, model.ops);
        vm.expectRevert(abi.encodeWithSelector(ModelRootMismatch.selector, computed, model.root));
        registry.sealOp(id, 1);
        vm.stopPrank();
    }

    function test_resetPublication_afterWrongLeaf_succeeds() public {
        uint256 id = _register();
        vm.startPrank(owner);
        registry.publishLeaves(id, 0, _oneLeaf()); // a wrong leaf
        registry.sealOp(id, 0);
        vm.expectEmit(address(registry));
        emit IModelRegistry.PublicationReset(id);
        registry.resetPublication(id);
        (uint32 op, uint32 leafCount) = registry.publication(id);
        assertEq(op, 0, "op");
        assertEq(leafCount, 0, "leaves");
        assertEq(registry.opRoot(id, 0), bytes32(0), "sealed roots forgotten");
        vm.stopPrank();
        _publishAll(id);
        assertEq(uint256(registry.getModel(id).status), uint256(ModelStatus.Active), "active");
    }

    // ----- publication: reverts -----

    function test_publishLeaves_unknownModel_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownModel.selector, 7));
        registry.publishLeaves(7, 0, _oneLeaf());
    }

    function test_publishLeaves_notOwner_reverts() public {
        uint256 id = _register();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(NotModelOwner.selector, id, stranger));
        registry.publishLeaves(id, 0, _oneLeaf());
    }

    function test_publishLeaves_noLeaves_reverts() public {
        uint256 id = _register();
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(NoLeaves.selector, id, 0));
        registry.publishLeaves(id, 0, new bytes[](0));
    }

    function test_publishLeaves_futureOp_reverts() public {
        uint256 id = _register();
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(WrongOp.selector, id, 1, 0));
        registry.publishLeaves(id, 1, _oneLeaf());
    }

    function test_publishLeaves_sealedOp_reverts() public {
        uint256 id = _register();
        vm.startPrank(owner);
        registry.publishLeaves(id, 0, model.ops[0]);
        registry.sealOp(id, 0);
        vm.expectRevert(abi.encodeWithSelector(WrongOp.selector, id, 0, 1));
        registry.publishLeaves(id, 0, _oneLeaf());
        vm.stopPrank();
    }

    function test_publishLeaves_activeModel_reverts() public {
        uint256 id = _registerActive();
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(ModelNotPending.selector, id, ModelStatus.Active));
        registry.publishLeaves(id, 0, _oneLeaf());
    }

    function test_publishLeaves_retiredModel_reverts() public {
        uint256 id = _register();
        vm.startPrank(owner);
        registry.retire(id);
        vm.expectRevert(abi.encodeWithSelector(ModelNotPending.selector, id, ModelStatus.Retired));
        registry.publishLeaves(id, 0, _oneLeaf());
        vm.stopPrank();
    }

    function test_sealOp_unknownModel_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownModel.selector, 3));
        registry.sealOp(3, 0);
    }

    function test_sealOp_notOwner_reverts() public {
        uint256 id = _register();
        vm.prank(owner);
        registry.publishLeaves(id, 0, model.ops[0]);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(NotModelOwner.selector, id, stranger));
        registry.sealOp(id, 0);
    }

    function test_sealOp_emptyOp_reverts() public {
        uint256 id = _register();
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(EmptyOp.selector, id, 0));
        registry.sealOp(id, 0);
    }

    function test_sealOp_wrongOp_reverts() public {
        uint256 id = _register();
        vm.startPrank(owner);
        registry.publishLeaves(id, 0, model.ops[0]);
        vm.expectRevert(abi.encodeWithSelector(WrongOp.selector, id, 1, 0));
        registry.sealOp(id, 1);
        vm.stopPrank();
    }

    function test_sealOp_activeModel_reverts() public {
        uint256 id = _registerActive();
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(ModelNotPending.selector, id, ModelStatus.Active));
        registry.sealOp(id, 1);
    }

    function test_resetPublication_notOwner_reverts() public {
        uint256 id = _register();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(NotModelOwner.selector, id, stranger));
        registry.resetPublication(id);
    }

    function test_resetPublication_activeModel_reverts() public {
        uint256 id = _registerActive();
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(ModelNotPending.selector, id, ModelStatus.Active));
        registry.resetPublication(id);
    }

    function test_resetPublication_unknownModel_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownModel.selector, 1));
        registry.resetPublication(1);
    }

    // ----- price and retirement -----

    function test_setPrice_owner_succeeds() public {
        uint256 id = _registerActive();
        vm.prank(owner);
        vm.expectEmit(address(registry));
        emit IModelRegistry.ModelPriceUpdated(id, 2 ether, 250);
        registry.setPrice(id, 2 ether, 250);
        Model memory m = registry.getModel(id);
        assertEq(m.fee, 2 ether, "fee");
        assertEq(m.royaltyBps, 250, "royalty");
    }

    function test_setPrice_notOwner_reverts() public {
        uint256 id = _registerActive();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(NotModelOwner.selector, id, stranger));
        registry.setPrice(id, 0, 0);
    }

    function test_setPrice_royaltyAbove100Percent_reverts() public {
        uint256 id = _registerActive();
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyTooHigh.selector, 20_000, 10_000));
        registry.setPrice(id, 1, 20_000);
    }

    function test_setPrice_retiredModel_reverts() public {
        uint256 id = _registerActive();
        vm.startPrank(owner);
        registry.retire(id);
        vm.expectRevert(abi.encodeWithSelector(ModelAlreadyRetired.selector, id));
        registry.setPrice(id, 1, 0);
        vm.stopPrank();
    }

    function test_setPrice_unknownModel_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownModel.selector, 9));
        registry.setPrice(9, 1, 0);
    }

    function test_retire_owner_succeeds() public {
        uint256 id = _registerActive();
        vm.prank(owner);
        vm.expectEmit(address(registry));
        emit IModelRegistry.ModelRetired(id);
        registry.retire(id);
        assertEq(uint256(registry.getModel(id).status), uint256(ModelStatus.Retired), "retired");
    }

    function test_retire_notOwner_reverts() public {
        uint256 id = _registerActive();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(NotModelOwner.selector, id, stranger));
        registry.retire(id);
    }

    function test_retire_twice_reverts() public {
        uint256 id = _registerActive();
        vm.startPrank(owner);
        registry.retire(id);
        vm.expectRevert(abi.encodeWithSelector(ModelAlreadyRetired.selector, id));
        registry.retire(id);
        vm.stopPrank();
    }

    function test_retire_unknownModel_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownModel.selector, 1));
        registry.retire(1);
    }

    // ----- views -----

    function test_getModel_unknownModel_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownModel.selector, 0));
        registry.getModel(0);
    }

    function test_modelTerms_matchesGetModel_succeeds() public {
        uint256 id = _registerActive();
        (ModelStatus status, address o, uint32 inputLen, uint32 outputLen, uint256 fee, uint16 royaltyBps) =
            registry.modelTerms(id);
        assertEq(uint256(status), uint256(ModelStatus.Active), "status");
        assertEq(o, owner, "owner");
        assertEq(inputLen, 64, "inputLen");
        assertEq(outputLen, 10, "outputLen");
        assertEq(fee, FEE, "fee");
        assertEq(royaltyBps, ROYALTY_BPS, "royalty");
    }

    function test_modelTerms_unknownModel_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownModel.selector, 5));
        registry.modelTerms(5);
    }

    function test_publication_unknownModel_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownModel.selector, 5));
        registry.publication(5);
    }

    function test_opRoot_unknownModel_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownModel.selector, 5));
        registry.opRoot(5, 0);
    }
}
