// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {VouchConsumerBase} from "../src/examples/VouchConsumerBase.sol";
import {VouchConsumerExample} from "../src/examples/VouchConsumerExample.sol";
import {IJobMarket} from "../src/interfaces/IJobMarket.sol";
import {
    CallbackGasOutOfRange,
    InsufficientCallbackGas,
    JobNotSettled,
    JobNotSubmitted,
    Reentrancy,
    UnknownJob
} from "../src/lib/Errors.sol";
import {JobStatus} from "../src/lib/Types.sol";
import {Vm} from "./Base.t.sol";
import {JobMarketFixture} from "./JobMarket.t.sol";
import {
    ConsumerBase,
    GasBombConsumer,
    GasProbeConsumer,
    RecordingConsumer,
    ReentrantConsumer,
    RevertingConsumer
} from "./utils/Consumers.sol";
import {Reference} from "./utils/Reference.sol";

/// @notice Callback jobs (PROTOCOL §5.4): whatever the consumer does, the job settles exactly once with every wei
/// where it belongs, and the callback gets the settled output with its whole gas limit, or finalize reverts.
contract JobMarketCallbackTest is JobMarketFixture {
    uint32 internal constant GAS = 200_000;
    uint256 internal constant ROYALTY = FEE * ROYALTY_BPS / 10_000;

    bytes32 internal constant DELIVERED = keccak256("CallbackDelivered(uint256,address,bool)");

    function _postFrom(ConsumerBase consumer, uint32 gasLimit) internal returns (uint256 jobId) {
        vm.deal(address(this), FEE);
        jobId = consumer.post{value: FEE}(modelId, _input(), START + 1 days, gasLimit);
    }

    function _settle(uint256 jobId) internal returns (bool delivered, bool success) {
        vm.warp(block.timestamp + WINDOW);
        vm.recordLogs();
        vm.prank(anyone);
        market.finalize{gas: 2_000_000}(jobId);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].topics[0] != DELIVERED) continue;
            assertTrue(!delivered, "one CallbackDelivered");
            delivered = true;
            assertEq(uint256(logs[i].topics[1]), jobId, "delivered job");
            success = abi.decode(logs[i].data, (bool));
        }
    }

    /// @notice The books after settling one job whose worker is `worker`: exact to the wei, and paid out exactly.
    function _assertPaid() internal {
        assertEq(market.credits(worker), FEE - ROYALTY + BOND, "worker credit");
        assertEq(market.credits(owner), ROYALTY, "owner credit");
        assertEq(address(market).balance, FEE + BOND, "market holds the credits");
        uint256 before = worker.balance;
        vm.prank(worker);
        market.withdraw();
        assertEq(worker.balance - before, FEE - ROYALTY + BOND, "worker paid");
        vm.prank(owner);
        market.withdraw();
        assertEq(owner.balance, ROYALTY, "owner paid");
        assertEq(address(market).balance, 0, "market empty");
    }

    // ----- postJobWithCallback -----

    function test_postJobWithCallback_recordsGasLimit_succeeds() public {
        RecordingConsumer consumer = new RecordingConsumer(market);
        vm.deal(address(this), FEE);
        vm.expectEmit(address(market));
        emit IJobMarket.CallbackRequested(1, address(consumer), GAS);
        uint256 jobId = consumer.post{value: FEE}(modelId, _input(), START + 1 days, GAS);
        assertEq(market.callbackGasLimit(jobId), GAS, "gas limit");
        assertEq(market.getJob(jobId).poster, address(consumer), "consumer posts");
        assertEq(market.callbackGasLimit(_post()), 0, "plain job has no callback");
    }

    function test_postJobWithCallback_zeroGas_reverts() public {
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(CallbackGasOutOfRange.selector, 0, market.maxCallbackGas()));
        market.postJobWithCallback{value: FEE}(modelId, _input(), START + 1 days, 0);
    }

    function test_postJobWithCallback_gasAboveMax_reverts() public {
        uint32 max = market.maxCallbackGas();
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(CallbackGasOutOfRange.selector, max + 1, max));
        market.postJobWithCallback{value: FEE}(modelId, _input(), START + 1 days, max + 1);
    }

    function test_postJobWithCallback_unknownModel_reverts() public {
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.UnknownModel.selector, 77));
        market.postJobWithCallback{value: FEE}(77, _input(), START + 1 days, GAS);
    }

    // ----- finalize with a callback -----

    function test_finalize_callbackGetsSettledOutput_succeeds() public {
        RecordingConsumer consumer = new RecordingConsumer(market);
        uint256 jobId = _postFrom(consumer, GAS);
        _submit(jobId);
        (bool delivered, bool success) = _settle(jobId);
        assertTrue(delivered && success, "delivered");
        assertEq(consumer.calls(), 1, "once");
        assertEq(consumer.lastJob(), jobId, "job");
        assertEq(consumer.lastOutput(), _output(), "output");
        assertEq(consumer.lastRoot(), Reference.tensorRoot(_output()), "root");
        assertTrue(consumer.sawSettled(), "settled when called");
        assertTrue(consumer.gasAtEntry() <= GAS && consumer.gasAtEntry() + 2000 >= GAS, "whole gas limit");
        _assertPaid();
    }

    function test_finalize_plainJobNoCallback_succeeds() public {
        uint256 jobId = _post();
        _submit(jobId);
        (bool delivered,) = _settle(jobId);
        assertTrue(!delivered, "no callback event");
        _assertPaid();
    }

    function test_finalize_revertingCallback_succeeds() public {
        uint256 jobId = _postFrom(new RevertingConsumer(market), GAS);
        _submit(jobId);
        (bool delivered, bool success) = _settle(jobId);
        assertTrue(delivered && !success, "failed callback reported");
        assertEq(uint256(market.getJob(jobId).status), uint256(JobStatus.Settled), "settled");
        _assertPaid();
    }

    function test_finalize_gasBombCallback_succeeds() public {
        uint32 max = market.maxCallbackGas();
        uint256 jobId = _postFrom(new GasBombConsumer(market, false), max);
        _submit(jobId);
        vm.warp(block.timestamp + WINDOW);
        uint256 before = gasleft();
        vm.prank(anyone);
        market.finalize{gas: max + max / 63 + 200_000}(jobId);
        // The bomb burns its cap and no more: the finalizer's cost is bounded by the cap it agreed to.
        vm.assertLe(before - gasleft(), uint256(max) + 200_000, "bounded by the cap");
        assertEq(uint256(market.getJob(jobId).status), uint256(JobStatus.Settled), "settled");
        _assertPaid();
    }

    function test_finalize_returnDataBombCallback_succeeds() public {
        uint256 jobId = _postFrom(new GasBombConsumer(market, true), GAS);
        _submit(jobId);
        (bool delivered, bool success) = _settle(jobId);
        assertTrue(delivered && success, "returned");
        _assertPaid();
    }

    function test_finalize_reentrantCallback_succeeds() public {
        ReentrantConsumer consumer = new ReentrantConsumer(market, modelId, false);
        uint256 jobId = _postFrom(consumer, 500_000);
        vm.deal(address(consumer), FEE);
        _submit(jobId);
        (bool delivered, bool success) = _settle(jobId);
        assertTrue(delivered && success, "callback ran");
        bytes memory reentrancy = abi.encodeWithSelector(Reentrancy.selector);
        assertEq(consumer.finalizeRevert(), reentrancy, "finalize locked");
        assertEq(consumer.withdrawRevert(), reentrancy, "withdraw locked");
        assertEq(consumer.postRevert(), reentrancy, "postJob locked");
        assertEq(market.jobCount(), 1, "no job posted from the callback");
        assertEq(address(consumer).balance, FEE, "consumer kept its ether");
        _assertPaid();
    }

    function test_finalize_reentrantCallbackBubbles_succeeds() public {
        ReentrantConsumer consumer = new ReentrantConsumer(market, modelId, true);
        uint256 jobId = _postFrom(consumer, GAS);
        _submit(jobId);
        (bool delivered, bool success) = _settle(jobId);
        assertTrue(delivered && !success, "reverted callback");
        assertEq(consumer.calls(), 0, "its effects rolled back");
        _assertPaid();
    }

    function test_finalize_underSuppliedGas_reverts() public {
        RecordingConsumer consumer = new RecordingConsumer(market);
        uint256 jobId = _postFrom(consumer, 900_000);
        _submit(jobId);
        vm.warp(block.timestamp + WINDOW);
        vm.prank(anyone);
        (bool ok, bytes memory data) = address(market).call{gas: 600_000}(abi.encodeCall(market.finalize, (jobId)));
        assertTrue(!ok, "reverts");
        assertEq(bytes4(data), InsufficientCallbackGas.selector, "says why");
        assertEq(uint256(market.getJob(jobId).status), uint256(JobStatus.Submitted), "not settled");
        assertEq(consumer.calls(), 0, "not called");
        (bool delivered, bool success) = _settle(jobId);
        assertTrue(delivered && success, "settles with enough gas");
        assertEq(consumer.calls(), 1, "once");
    }

    /// @notice Whatever gas a finalizer sends, finalize either reverts (the job stays Submitted) or settles with the
    /// callback run on its whole gas limit: a finalizer cannot starve the callback on purpose.
    function testFuzz_finalize_cannotStarveCallback_succeeds(uint256 gasLimitSeed, uint256 gasSeed) public {
        uint32 gasLimit = uint32(bound(gasLimitSeed, 60_000, 400_000));
        uint256 sent = bound(gasSeed, 40_000, 520_000);
        log("gasLimit", gasLimit);
        log("sent", sent);
        GasProbeConsumer probe = new GasProbeConsumer(market);
        uint256 jobId = _postFrom(probe, gasLimit);
        _submit(jobId);
        vm.warp(block.timestamp + WINDOW);
        (bool ok,) = address(market).call{gas: sent}(abi.encodeCall(market.finalize, (jobId)));
        JobStatus status = market.getJob(jobId).status;
        if (!ok) {
            assertEq(uint256(status), uint256(JobStatus.Submitted), "a revert settles nothing");
            assertEq(probe.gasAtEntry(), 0, "and calls nothing");
            return;
        }
        assertEq(uint256(status), uint256(JobStatus.Settled), "settled");
        assertTrue(probe.gasAtEntry() + 2000 >= gasLimit, "called with its whole gas limit");
    }

    function test_finalize_overturnedThenSettled_callbackGetsSettledOnly_succeeds() public {
        RecordingConsumer consumer = new RecordingConsumer(market);
        uint256 jobId = _postFrom(consumer, GAS);
        // Attempt 1: a wrong output, overturned by the game (which takes the worker's bond).
        bytes memory wrong = randomBytes(0xbad, 10);
        address liar = makeAddr("liar");
        vm.deal(liar, BOND);
        vm.prank(liar);
        market.submitResult{value: BOND}(jobId, Reference.tensorRoot(wrong), keccak256("t1"), wrong);
        vm.expectRevert(abi.encodeWithSelector(JobNotSettled.selector, jobId, JobStatus.Submitted));
        market.settledOutputRoot(jobId);
        address gameAddr = address(market.game());
        vm.prank(gameAddr);
        assertEq(market.overturn(jobId, 1), BOND, "bond to the game");
        assertEq(consumer.calls(), 0, "no callback on an overturn");
        assertTrue(!market.isSettledOutput(jobId, wrong), "overturned output is not settled");
        // Attempt 2: the right output settles.
        _submit(jobId);
        (bool delivered, bool success) = _settle(jobId);
        assertTrue(delivered && success, "delivered");
        assertEq(consumer.calls(), 1, "exactly once");
        assertEq(consumer.lastOutput(), _output(), "the settled output");
        assertEq(market.getJob(jobId).attempt, 2, "second attempt");
        assertEq(market.settledOutputRoot(jobId), Reference.tensorRoot(_output()), "settled root");
        assertTrue(market.isSettledOutput(jobId, _output()), "settled output checks");
        assertTrue(!market.isSettledOutput(jobId, wrong), "the overturned one does not");
        vm.expectRevert(abi.encodeWithSelector(JobNotSubmitted.selector, jobId, JobStatus.Settled));
        market.finalize(jobId);
        assertEq(consumer.calls(), 1, "still once");
        assertEq(gameAddr.balance, BOND, "liar's bond in the game");
        assertEq(market.credits(liar), 0, "liar gets nothing");
        _assertPaid();
    }

    // ----- settled output views -----

    function test_isSettledOutput_wrongBytes_succeeds() public {
        uint256 jobId = _post();
        assertTrue(!market.isSettledOutput(jobId, _output()), "open");
        _submit(jobId);
        assertTrue(!market.isSettledOutput(jobId, _output()), "submitted");
        _settle(jobId);
        bytes memory flipped = _output();
        flipped[3] ^= bytes1(0x01);
        assertTrue(market.isSettledOutput(jobId, _output()), "settled");
        assertTrue(!market.isSettledOutput(jobId, flipped), "one bit off");
        assertTrue(!market.isSettledOutput(jobId, bytes.concat(_output(), hex"00")), "too long");
        assertTrue(!market.isSettledOutput(jobId, ""), "empty");
        assertTrue(!market.isSettledOutput(99, _output()), "unknown job");
    }

    function test_settledOutputRoot_unknownJob_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownJob.selector, 5));
        market.settledOutputRoot(5);
    }

    function test_settledOutputRoot_expiredJob_reverts() public {
        uint256 jobId = _post();
        vm.warp(START + 1 days);
        market.refundExpired(jobId);
        vm.expectRevert(abi.encodeWithSelector(JobNotSettled.selector, jobId, JobStatus.Expired));
        market.settledOutputRoot(jobId);
    }

    // ----- the example consumer -----

    function test_example_callbackKeepsAnswer_succeeds() public {
        VouchConsumerExample example = new VouchConsumerExample(market, 100_000);
        vm.prank(poster);
        uint256 jobId = example.ask{value: FEE}(modelId, _input(), START + 1 days);
        _submit(jobId);
        (bool delivered, bool success) = _settle(jobId);
        assertTrue(delivered && success, "delivered");
        (bool known, uint256 label, bytes32 root) = example.answers(jobId);
        // _output() = fb 00 0c 1e fb fb 4f 00 02 fb: the highest score 0x4f is at index 6.
        assertTrue(known, "known");
        assertEq(label, 6, "label");
        assertEq(root, Reference.tensorRoot(_output()), "root");
        assertEq(example.askedBy(jobId), poster, "asker");
        _assertPaid();
    }

    function test_example_deliverAfterFailedCallback_succeeds() public {
        // 1,000 gas is too little for the example's callback: it fails, and the answer comes through the view.
        VouchConsumerExample example = new VouchConsumerExample(market, 1000);
        vm.prank(poster);
        uint256 jobId = example.ask{value: FEE}(modelId, _input(), START + 1 days);
        _submit(jobId);
        vm.expectRevert(abi.encodeWithSelector(VouchConsumerBase.NotSettledOutput.selector, jobId));
        example.deliver(jobId, _output());
        (bool delivered, bool success) = _settle(jobId);
        assertTrue(delivered && !success, "callback starved by its own limit");
        (bool known,,) = example.answers(jobId);
        assertTrue(!known, "not yet");
        bytes memory flipped = _output();
        flipped[0] ^= bytes1(0x80);
        vm.expectRevert(abi.encodeWithSelector(VouchConsumerBase.NotSettledOutput.selector, jobId));
        example.deliver(jobId, flipped);
        vm.prank(anyone);
        example.deliver(jobId, _output());
        (bool known2, uint256 label,) = example.answers(jobId);
        assertTrue(known2, "known");
        assertEq(label, 6, "label");
        _assertPaid();
    }

    function test_example_withdrawExpiredFee_succeeds() public {
        // The job expires unanswered: its fee is the example's market credit, which only its owner takes out.
        VouchConsumerExample example = new VouchConsumerExample(market, 100_000);
        vm.prank(poster);
        uint256 jobId = example.ask{value: FEE}(modelId, _input(), START + 1 days);
        vm.warp(START + 1 days);
        market.refundExpired(jobId);
        assertEq(market.credits(address(example)), FEE, "credit");
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(VouchConsumerBase.OnlyOwner.selector, poster));
        example.withdraw(payable(poster));
        address payable to = payable(makeAddr("treasury"));
        example.withdraw(to);
        assertEq(to.balance, FEE, "paid to the wei");
        assertEq(market.credits(address(example)), 0, "credit spent");
        assertEq(address(example).balance, 0, "nothing kept");
        assertEq(address(market).balance, 0, "market empty");
    }

    function test_example_foreignCallback_reverts() public {
        VouchConsumerExample example = new VouchConsumerExample(market, 100_000);
        vm.prank(anyone);
        vm.expectRevert(abi.encodeWithSelector(VouchConsumerBase.OnlyMarket.selector, anyone));
        example.onVouchResult(1, _output(), bytes32(0));
    }
}
