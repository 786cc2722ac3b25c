// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {JobMarket} from "../src/JobMarket.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {IJobMarket} from "../src/interfaces/IJobMarket.sol";
import {IModelRegistry} from "../src/interfaces/IModelRegistry.sol";
import {IOneStepProver} from "../src/interfaces/IOneStepProver.sol";
import {
    ChallengeWindowOpen,
    DeadlineInPast,
    DeadlineNotReached,
    EmptyTree,
    InputLengthMismatch,
    JobExpired,
    JobNotOpen,
    JobNotSubmitted,
    ModelNotActive,
    NothingToWithdraw,
    OutputLengthMismatch,
    OutputRootMismatch,
    RaggedTensor,
    Reentrancy,
    TransferFailed,
    UnknownJob,
    UnknownModel,
    WrongBond,
    WrongFee,
    ZeroRegistry
} from "../src/lib/Errors.sol";
import {Job, JobStatus, ModelStatus, TensorShape} from "../src/lib/Types.sol";
import {Base} from "./Base.t.sol";
import {ReentrantWithdrawer, RejectingReceiver} from "./utils/Actors.sol";
import {Configs} from "./utils/Configs.sol";
import {DenseReluModel, ModelFixture} from "./utils/ModelFixture.sol";
import {Reference} from "./utils/Reference.sol";

/// @notice Shared setup: a registry with an Active dense(64 → 10) + relu model, and a market.
abstract contract JobMarketFixture is Base {
    ModelRegistry internal registry;
    JobMarket internal market;
    address internal owner;
    address internal poster;
    address internal worker;
    address internal anyone;
    uint256 internal modelId;

    uint64 internal constant WINDOW = 1 hours;
    uint256 internal constant BOND = 0.5 ether;
    uint256 internal constant FEE = 0.01 ether;
    uint16 internal constant ROYALTY_BPS = 1500;
    uint64 internal constant START = 1_800_000_000;

    function setUp() public virtual {
        vm.warp(START);
        registry = new ModelRegistry();
        market = new JobMarket(
            registry, IOneStepProver(address(0x5eed)), Configs.NO_LLM_PROVER, Configs.market(WINDOW, BOND)
        );
        owner = makeAddr("owner");
        poster = makeAddr("poster");
        worker = makeAddr("worker");
        anyone = makeAddr("anyone");
        vm.deal(poster, 100 ether);
        vm.deal(worker, 100 ether);
        modelId = _activate(ModelFixture.denseRelu(1, 64, 10), FEE);
    }

    function _activate(DenseReluModel memory m, uint256 fee) internal returns (uint256 id) {
        vm.startPrank(owner);
        id = registry.registerModel(m.root, 2, m.input, m.inputZero, m.output, fee, ROYALTY_BPS, "ipfs://model");
        uint256 half = m.ops[0].length / 2;
        registry.publishLeaves(id, 0, ModelFixture.slice(m.ops[0], 0, half));
        registry.publishLeaves(id, 0, ModelFixture.slice(m.ops[0], half, m.ops[0].length));
        registry.sealOp(id, 0);
        registry.publishLeaves(id, 1, m.ops[1]);
        registry.sealOp(id, 1);
        vm.stopPrank();
    }

    function _input() internal pure returns (bytes memory) {
        return randomBytes(0x1a, 64);
    }

    function _output() internal pure returns (bytes memory) {
        return hex"fb000c1efbfb4f0002fb";
    }

    function _post() internal returns (uint256 jobId) {
        vm.prank(poster);
        jobId = market.postJob{value: FEE}(modelId, _input(), START + 1 days);
    }

    function _submit(uint256 jobId) internal {
        bytes memory output = _output();
        vm.prank(worker);
        market.submitResult{value: BOND}(jobId, Reference.tensorRoot(output), keccak256("trace"), output);
    }
}

contract JobMarketTest is JobMarketFixture {
    // ----- constructor -----

    function test_constructor_zeroRegistry_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(ZeroRegistry.selector));
        new JobMarket(
            IModelRegistry(address(0)),
            IOneStepProver(address(0x5eed)),
            Configs.NO_LLM_PROVER,
            Configs.market(WINDOW, BOND)
        );
    }

    function test_constructor_getters_succeeds() public view {
        assertEq(address(market.registry()), address(registry), "registry");
        assertEq(market.challengeWindow(), WINDOW, "window");
        assertEq(market.resultBond(), BOND, "bond");
        assertEq(market.jobCount(), 0, "no jobs");
    }

    // ----- happy path -----

    function test_lifecycle_registerPublishPostSubmitFinalizeWithdraw_succeeds() public {
        // A fresh 2-op model published in two chunks (the fixture does it again to be self-contained).
        DenseReluModel memory m = ModelFixture.denseRelu(0xd161, 64, 10);
        uint256 id = _activate(m, 1 ether);
        assertEq(uint256(registry.getModel(id).status), uint256(ModelStatus.Active), "active");

        uint256 posterBefore = poster.balance;
        uint256 workerBefore = worker.balance;
        uint256 ownerBefore = owner.balance;
        bytes memory input = _input();
        uint64 deadline = START + 1 days;

        vm.expectEmit(address(market));
        emit IJobMarket.JobPosted(1, id, poster, 1 ether, deadline, Reference.tensorRoot(input), input);
        vm.prank(poster);
        uint256 jobId = market.postJob{value: 1 ether}(id, input, deadline);
        assertEq(jobId, 1, "first job id");
        assertEq(address(market).balance, 1 ether, "fee escrowed");

        vm.warp(START + 10);
        bytes memory output = _output();
        bytes32 outputRoot = Reference.tensorRoot(output);
        vm.expectEmit(address(market));
        emit IJobMarket.ResultSubmitted(jobId, 1, worker, outputRoot, keccak256("trace"), output, START + 10);
        vm.prank(worker);
        market.submitResult{value: BOND}(jobId, outputRoot, keccak256("trace"), output);
        assertEq(address(market).balance, 1 ether + BOND, "bond escrowed");

        Job memory job = market.getJob(jobId);
        assertEq(job.modelId, id, "modelId");
        assertEq(job.poster, poster, "poster");
        assertEq(job.deadline, deadline, "deadline");
        assertEq(uint256(job.status), uint256(JobStatus.Submitted), "status");
        assertEq(job.worker, worker, "worker");
        assertEq(job.submittedAt, START + 10, "submittedAt");
        assertEq(job.modelOwner, owner, "modelOwner");
        assertEq(job.royaltyBps, ROYALTY_BPS, "royaltyBps");
        assertEq(job.outputLen, 10, "outputLen");
        assertEq(job.outputRowLen, 10, "outputRowLen");
        assertEq(job.fee, 1 ether, "fee");
        assertEq(job.bond, BOND, "bond");
        assertEq(job.inputRoot, Reference.tensorRoot(input), "inputRoot");
        assertEq(job.outputRoot, outputRoot, "outputRoot");
        assertEq(job.traceRoot, keccak256("trace"), "traceRoot");

        vm.warp(START + 10 + WINDOW);
        uint256 royalty = 0.15 ether;
        vm.expectEmit(address(market));
        emit IJobMarket.JobSettled(jobId, 1, worker, outputRoot, 1 ether - royalty + BOND, royalty);
        vm.prank(anyone);
        market.finalize(jobId);
        assertEq(uint256(market.getJob(jobId).status), uint256(JobStatus.Settled), "settled");
        assertEq(market.credits(worker), 0.85 ether + BOND, "worker credit");
        assertEq(market.credits(owner), royalty, "owner credit");

        vm.expectEmit(address(market));
        emit IJobMarket.Withdrawn(worker, 0.85 ether + BOND);
        vm.prank(worker);
        market.withdraw();
        vm.prank(owner);
        market.withdraw();

        assertEq(poster.balance, posterBefore - 1 ether, "poster paid the fee");
        assertEq(worker.balance, workerBefore + 0.85 ether, "worker earned fee - royalty, bond back");
        assertEq(owner.balance, ownerBefore + royalty, "owner earned the royalty");
        assertEq(address(market).balance, 0, "market empty");
        assertEq(market.credits(worker), 0, "worker credit zeroed");
        assertEq(market.credits(owner), 0, "owner credit zeroed");
    }

    function test_refundExpired_thenWithdraw_succeeds() public {
        uint256 before = poster.balance;
        uint256 jobId = _post();
        vm.warp(START + 1 days);
        vm.expectEmit(address(market));
        emit IJobMarket.JobRefunded(jobId, poster, FEE);
        vm.prank(anyone);
        market.refundExpired(jobId);
        assertEq(uint256(market.getJob(jobId).status), uint256(JobStatus.Expired), "expired");
        vm.prank(poster);
        market.withdraw();
        assertEq(poster.balance, before, "fee back");
        assertEq(address(market).balance, 0, "market empty");
    }

    function test_finalize_termsSnapshottedAtPost_succeeds() public {
        uint256 jobId = _post();
        vm.startPrank(owner);
        registry.setPrice(modelId, 5 ether, 10_000);
        registry.retire(modelId);
        vm.stopPrank();
        _submit(jobId);
        vm.warp(START + WINDOW);
        market.finalize(jobId);
        uint256 royalty = FEE * ROYALTY_BPS / 10_000;
        assertEq(market.credits(worker), FEE - royalty + BOND, "old terms for the worker");
        assertEq(market.credits(owner), royalty, "old terms for the owner");
    }

    function test_finalize_workerIsModelOwner_succeeds() public {
        uint256 jobId = _post();
        vm.deal(owner, BOND);
        bytes memory output = _output();
        vm.prank(owner);
        market.submitResult{value: BOND}(jobId, Reference.tensorRoot(output), 0, output);
        vm.warp(START + WINDOW);
        market.finalize(jobId);
        assertEq(market.credits(owner), FEE + BOND, "both shares");
    }

    function testFuzz_finalize_payoutSplitsExactly_succeeds(uint256 fee, uint16 bps) public {
        fee = bound(fee, 0, 1000 ether);
        bps = uint16(bound(bps, 0, 10_000));
        vm.prank(owner);
        registry.setPrice(modelId, fee, bps);
        vm.deal(poster, fee);
        vm.prank(poster);
        uint256 jobId = market.postJob{value: fee}(modelId, _input(), START + 1);
        _submit(jobId);
        vm.warp(START + WINDOW);
        market.finalize(jobId);
        uint256 royalty = fee * bps / 10_000;
        assertEq(market.credits(owner), royalty, "royalty rounds down");
        assertEq(market.credits(worker), fee - royalty + BOND, "worker gets the rest and the bond");
        assertEq(market.credits(owner) + market.credits(worker), address(market).balance, "all of it");
    }

    // ----- postJob -----

    function test_postJob_unknownModel_reverts() public {
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(UnknownModel.selector, 99));
        market.postJob{value: FEE}(99, _input(), START + 1);
    }

    function test_postJob_pendingModel_reverts() public {
        vm.prank(owner);
        uint256 pending =
            registry.registerModel(keccak256("x"), 2, ModelFixture.vec(64), 0, ModelFixture.vec(10), FEE, 0, "");
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(ModelNotActive.selector, pending, ModelStatus.Pending));
        market.postJob{value: FEE}(pending, _input(), START + 1);
    }

    function test_postJob_retiredModel_reverts() public {
        vm.prank(owner);
        registry.retire(modelId);
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(ModelNotActive.selector, modelId, ModelStatus.Retired));
        market.postJob{value: FEE}(modelId, _input(), START + 1);
    }

    function test_postJob_feeTooLow_reverts() public {
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(WrongFee.selector, FEE - 1, FEE));
        market.postJob{value: FEE - 1}(modelId, _input(), START + 1);
    }

    function test_postJob_feeTooHigh_reverts() public {
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(WrongFee.selector, FEE + 1, FEE));
        market.postJob{value: FEE + 1}(modelId, _input(), START + 1);
    }

    function test_postJob_inputLengthMismatch_reverts() public {
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(InputLengthMismatch.selector, 63, 64));
        market.postJob{value: FEE}(modelId, new bytes(63), START + 1);
    }

    function test_postJob_deadlineNow_reverts() public {
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(DeadlineInPast.selector, START, START));
        market.postJob{value: FEE}(modelId, _input(), START);
    }

    function test_postJob_deadlineInPast_reverts() public {
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(DeadlineInPast.selector, START - 1, START));
        market.postJob{value: FEE}(modelId, _input(), START - 1);
    }

    function test_postJob_idsIncrease_succeeds() public {
        assertEq(_post(), 1, "first");
        assertEq(_post(), 2, "second");
        assertEq(market.jobCount(), 2, "count");
        assertEq(address(market).balance, 2 * FEE, "two fees");
    }

    // ----- submitResult -----

    function test_submitResult_unknownJob_reverts() public {
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(UnknownJob.selector, 1));
        market.submitResult{value: BOND}(1, 0, 0, _output());
    }

    function test_submitResult_twice_reverts() public {
        uint256 jobId = _post();
        _submit(jobId);
        bytes memory output = _output();
        vm.prank(anyone);
        vm.deal(anyone, BOND);
        vm.expectRevert(abi.encodeWithSelector(JobNotOpen.selector, jobId, JobStatus.Submitted));
        market.submitResult{value: BOND}(jobId, Reference.tensorRoot(output), 0, output);
    }

    function test_submitResult_afterRefund_reverts() public {
        uint256 jobId = _post();
        vm.warp(START + 1 days);
        market.refundExpired(jobId);
        bytes memory output = _output();
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(JobNotOpen.selector, jobId, JobStatus.Expired));
        market.submitResult{value: BOND}(jobId, Reference.tensorRoot(output), 0, output);
    }

    function test_submitResult_atDeadline_reverts() public {
        uint256 jobId = _post();
        vm.warp(START + 1 days);
        bytes memory output = _output();
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(JobExpired.selector, jobId, START + 1 days));
        market.submitResult{value: BOND}(jobId, Reference.tensorRoot(output), 0, output);
    }

    function test_submitResult_justBeforeDeadline_succeeds() public {
        uint256 jobId = _post();
        vm.warp(START + 1 days - 1);
        _submit(jobId);
        assertEq(uint256(market.getJob(jobId).status), uint256(JobStatus.Submitted), "submitted");
    }

    function test_submitResult_bondTooLow_reverts() public {
        uint256 jobId = _post();
        bytes memory output = _output();
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(WrongBond.selector, BOND - 1, BOND));
        market.submitResult{value: BOND - 1}(jobId, Reference.tensorRoot(output), 0, output);
    }

    function test_submitResult_bondTooHigh_reverts() public {
        uint256 jobId = _post();
        bytes memory output = _output();
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(WrongBond.selector, BOND + 1, BOND));
        market.submitResult{value: BOND + 1}(jobId, Reference.tensorRoot(output), 0, output);
    }

    function test_submitResult_outputLengthMismatch_reverts() public {
        uint256 jobId = _post();
        bytes memory output = hex"0102";
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(OutputLengthMismatch.selector, 2, 10));
        market.submitResult{value: BOND}(jobId, Reference.tensorRoot(output), 0, output);
    }

    function test_submitResult_outputRootMismatch_reverts() public {
        uint256 jobId = _post();
        bytes memory output = _output();
        bytes32 claimed = keccak256("some other output");
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(OutputRootMismatch.selector, Reference.tensorRoot(output), claimed));
        market.submitResult{value: BOND}(jobId, claimed, 0, output);
    }

    // ----- finalize -----

    function test_finalize_unknownJob_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownJob.selector, 4));
        market.finalize(4);
    }

    function test_finalize_openJob_reverts() public {
        uint256 jobId = _post();
        vm.expectRevert(abi.encodeWithSelector(JobNotSubmitted.selector, jobId, JobStatus.Open));
        market.finalize(jobId);
    }

    function test_finalize_beforeWindowEnds_reverts() public {
        uint256 jobId = _post();
        _submit(jobId);
        vm.warp(START + WINDOW - 1);
        vm.expectRevert(abi.encodeWithSelector(ChallengeWindowOpen.selector, jobId, START + WINDOW));
        market.finalize(jobId);
    }

    function test_finalize_exactlyAtWindowEnd_succeeds() public {
        uint256 jobId = _post();
        _submit(jobId);
        vm.warp(START + WINDOW);
        market.finalize(jobId);
        assertEq(uint256(market.getJob(jobId).status), uint256(JobStatus.Settled), "settled");
    }

    function test_finalize_twice_reverts() public {
        uint256 jobId = _post();
        _submit(jobId);
        vm.warp(START + WINDOW);
        market.finalize(jobId);
        vm.expectRevert(abi.encodeWithSelector(JobNotSubmitted.selector, jobId, JobStatus.Settled));
        market.finalize(jobId);
    }

    function test_finalize_expiredJob_reverts() public {
        uint256 jobId = _post();
        vm.warp(START + 1 days);
        market.refundExpired(jobId);
        vm.expectRevert(abi.encodeWithSelector(JobNotSubmitted.selector, jobId, JobStatus.Expired));
        market.finalize(jobId);
    }

    // ----- refundExpired -----

    function test_refundExpired_unknownJob_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownJob.selector, 1));
        market.refundExpired(1);
    }

    function test_refundExpired_beforeDeadline_reverts() public {
        uint256 jobId = _post();
        vm.warp(START + 1 days - 1);
        vm.expectRevert(abi.encodeWithSelector(DeadlineNotReached.selector, jobId, START + 1 days));
        market.refundExpired(jobId);
    }

    function test_refundExpired_submittedJob_reverts() public {
        uint256 jobId = _post();
        _submit(jobId);
        vm.warp(START + 2 days);
        vm.expectRevert(abi.encodeWithSelector(JobNotOpen.selector, jobId, JobStatus.Submitted));
        market.refundExpired(jobId);
    }

    function test_refundExpired_twice_reverts() public {
        uint256 jobId = _post();
        vm.warp(START + 1 days);
        market.refundExpired(jobId);
        vm.expectRevert(abi.encodeWithSelector(JobNotOpen.selector, jobId, JobStatus.Expired));
        market.refundExpired(jobId);
    }

    // ----- withdraw -----

    function test_withdraw_nothing_reverts() public {
        vm.prank(anyone);
        vm.expectRevert(abi.encodeWithSelector(NothingToWithdraw.selector));
        market.withdraw();
    }

    function test_withdraw_twice_reverts() public {
        uint256 jobId = _post();
        vm.warp(START + 1 days);
        market.refundExpired(jobId);
        vm.startPrank(poster);
        market.withdraw();
        vm.expectRevert(abi.encodeWithSelector(NothingToWithdraw.selector));
        market.withdraw();
        vm.stopPrank();
    }

    function test_withdraw_receiverRejects_reverts() public {
        RejectingReceiver receiver = new RejectingReceiver();
        _creditTo(address(receiver));
        vm.expectRevert(abi.encodeWithSelector(TransferFailed.selector));
        receiver.withdrawFrom(market);
        assertEq(market.credits(address(receiver)), FEE, "credit restored");
    }

    function test_withdraw_reentrantAttacker_reverts() public {
        // The attacker's receive hook calls withdraw again and lets it fail the transfer.
        ReentrantWithdrawer attacker = new ReentrantWithdrawer(market, true);
        _creditTo(address(attacker));
        vm.expectRevert(abi.encodeWithSelector(TransferFailed.selector));
        attacker.attack();
        assertEq(market.credits(address(attacker)), FEE, "credit restored");
        assertEq(address(market).balance, FEE, "nothing left the market");
    }

    function test_withdraw_reentrantAttackerGetsItsCreditOnce_succeeds() public {
        // The attacker swallows the failed re-entry: it gets exactly its credit, once.
        ReentrantWithdrawer attacker = new ReentrantWithdrawer(market, false);
        _creditTo(address(attacker));
        _post(); // another job's fee sits in the market
        attacker.attack();
        assertEq(attacker.innerRevert(), abi.encodeWithSelector(Reentrancy.selector), "re-entry refused");
        assertEq(attacker.received(), FEE, "one credit");
        assertEq(address(attacker).balance, FEE, "balance");
        assertEq(market.credits(address(attacker)), 0, "credit zeroed");
        assertEq(address(market).balance, FEE, "the other job's fee stays");
    }

    /// @dev Gives `account` a credit of FEE through a refunded job it posted.
    function _creditTo(address account) internal {
        vm.deal(account, FEE);
        vm.prank(account);
        uint256 jobId = market.postJob{value: FEE}(modelId, _input(), START + 1);
        vm.warp(START + 1);
        market.refundExpired(jobId);
        vm.warp(START);
    }

    // ----- views -----

    function test_getJob_unknownJob_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownJob.selector, 0));
        market.getJob(0);
    }
}

/// @notice Shaped tensors (v2): an image model [8, 8, 1] -> [1, 1, 10], and outputs of several rows.
contract JobMarketShapesTest is JobMarketFixture {
    uint256 internal imageId;

    function setUp() public override {
        super.setUp();
        imageId = _activate(ModelFixture.denseRelu(0x1a6e, ModelFixture.shape(8, 8, 1), 10), FEE);
    }

    /// @dev A model whose only op is a reshape of the input into the output shape: enough for the market, which
    /// reads only shapes (the registry refuses a spec that does not decode).
    function _activateShapes(TensorShape memory input, TensorShape memory output) internal returns (uint256 id) {
        bytes[][] memory ops = new bytes[][](1);
        ops[0] = new bytes[](1);
        ops[0][0] = abi.encodePacked(uint8(7), output.h, output.w, output.c, int8(0), uint16(0));
        vm.startPrank(owner);
        id = registry.registerModel(Reference.modelRoot(input, 0, output, ops), 1, input, 0, output, FEE, 0, "");
        registry.publishLeaves(id, 0, ops[0]);
        registry.sealOp(id, 0);
        vm.stopPrank();
    }

    function test_imageModel_postSubmitFinalize_succeeds() public {
        // 64 rows of one byte: 64 leaves, one pixel each.
        bytes memory input = randomBytes(0x8801, 64);
        bytes32 inputRoot = Reference.tensorRoot(input, 1);
        assertTrue(inputRoot != Reference.tensorRoot(input), "rows matter: not the 1-D root");
        uint64 deadline = START + 1 days;

        vm.expectEmit(address(market));
        emit IJobMarket.JobPosted(1, imageId, poster, FEE, deadline, inputRoot, input);
        vm.prank(poster);
        uint256 jobId = market.postJob{value: FEE}(imageId, input, deadline);
        Job memory job = market.getJob(jobId);
        assertEq(job.inputRoot, inputRoot, "inputRoot");
        assertEq(job.inputRoot, market.tensorRoot(input, 1), "helper agrees");
        assertEq(job.outputLen, 10, "outputLen");
        assertEq(job.outputRowLen, 10, "outputRowLen");

        bytes memory output = _output();
        bytes32 outputRoot = Reference.tensorRoot(output, 10);
        vm.warp(START + 5);
        vm.expectEmit(address(market));
        emit IJobMarket.ResultSubmitted(jobId, 1, worker, outputRoot, keccak256("trace"), output, START + 5);
        vm.prank(worker);
        market.submitResult{value: BOND}(jobId, outputRoot, keccak256("trace"), output);

        vm.warp(START + 5 + WINDOW);
        market.finalize(jobId);
        uint256 royalty = FEE * ROYALTY_BPS / 10_000;
        assertEq(market.credits(worker), FEE - royalty + BOND, "worker");
        assertEq(market.credits(owner), royalty, "owner");
        assertEq(uint256(market.getJob(jobId).status), uint256(JobStatus.Settled), "settled");
    }

    function test_imageModel_inputLengthMismatch_reverts() public {
        vm.startPrank(poster);
        vm.expectRevert(abi.encodeWithSelector(InputLengthMismatch.selector, 63, 64));
        market.postJob{value: FEE}(imageId, new bytes(63), START + 1);
        vm.expectRevert(abi.encodeWithSelector(InputLengthMismatch.selector, 65, 64));
        market.postJob{value: FEE}(imageId, new bytes(65), START + 1);
        vm.expectRevert(abi.encodeWithSelector(InputLengthMismatch.selector, 8, 64));
        market.postJob{value: FEE}(imageId, new bytes(8), START + 1);
        vm.stopPrank();
    }

    function test_multiRowOutput_rootOverRows_succeeds() public {
        // [2, 2, 33] out: 4 rows of 33 bytes = 8 leaves; [3, 4, 2] in: 12 rows of 2 bytes = 12 leaves (16 padded).
        uint256 id = _activateShapes(ModelFixture.shape(3, 4, 2), ModelFixture.shape(2, 2, 33));
        bytes memory input = randomBytes(0x342, 24);
        vm.prank(poster);
        uint256 jobId = market.postJob{value: FEE}(id, input, START + 1 days);
        assertEq(market.getJob(jobId).inputRoot, Reference.tensorRoot(input, 2), "input in rows of 2");
        assertEq(market.getJob(jobId).outputLen, 132, "outputLen");
        assertEq(market.getJob(jobId).outputRowLen, 33, "outputRowLen");

        bytes memory output = randomBytes(0x2233, 132);
        // The 1-D root (5 leaves) is not the output root: it must be over rows of 33.
        bytes32 flat = Reference.tensorRoot(output);
        bytes32 rows = Reference.tensorRoot(output, 33);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(OutputRootMismatch.selector, rows, flat));
        market.submitResult{value: BOND}(jobId, flat, 0, output);

        vm.prank(worker);
        market.submitResult{value: BOND}(jobId, rows, 0, output);
        assertEq(market.getJob(jobId).outputRoot, rows, "outputRoot");
    }

    function test_multiRowOutput_lengthMismatch_reverts() public {
        uint256 id = _activateShapes(ModelFixture.vec(5), ModelFixture.shape(2, 2, 33));
        vm.prank(poster);
        uint256 jobId = market.postJob{value: FEE}(id, randomBytes(5, 5), START + 1 days);
        // 99 bytes are 3 whole rows of 33, still not the output.
        bytes memory output = randomBytes(0x99, 99);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(OutputLengthMismatch.selector, 99, 132));
        market.submitResult{value: BOND}(jobId, Reference.tensorRoot(output, 33), 0, output);
    }

    function test_tensorRoot_helperReverts_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(EmptyTree.selector));
        market.tensorRoot("", 1);
        vm.expectRevert(abi.encodeWithSelector(RaggedTensor.selector, 10, 3));
        market.tensorRoot(new bytes(10), 3);
        vm.expectRevert(abi.encodeWithSelector(RaggedTensor.selector, 10, 0));
        market.tensorRoot(new bytes(10), 0);
    }

    function testFuzz_postJob_anyShape_succeeds(uint256 hwc, uint256 seed) public {
        TensorShape memory input = ModelFixture.shape(
            uint32(bound(hwc & 0xff, 1, 8)), uint32(bound((hwc >> 8) & 0xff, 1, 8)), uint32(bound(hwc >> 16, 1, 70))
        );
        uint256 id = _activateShapes(input, ModelFixture.vec(3));
        bytes memory data = randomBytes(seed, ModelFixture.len(input));
        vm.prank(poster);
        uint256 jobId = market.postJob{value: FEE}(id, data, START + 1);
        assertEq(market.getJob(jobId).inputRoot, Reference.tensorRoot(data, input.c), "inputRoot");
    }
}
