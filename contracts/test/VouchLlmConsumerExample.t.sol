// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {VouchConsumerBase} from "../src/examples/VouchConsumerBase.sol";
import {VouchLlmConsumerExample} from "../src/examples/VouchLlmConsumerExample.sol";
import {IJobMarket} from "../src/interfaces/IJobMarket.sol";
import {NothingToWithdraw, TokenBudget} from "../src/lib/Errors.sol";
import {LlmLayout} from "../src/lib/Types.sol";
import {Vm} from "./Base.t.sol";
import {LlmJobsFixture} from "./LlmJobs.t.sol";
import {LlmFixture} from "./utils/LlmFixture.sol";
import {Reference} from "./utils/Reference.sol";

/// @notice The language model's example consumer (PROTOCOL §5.4, §7.2): it posts a prompt's ids as the int32 row
/// `[maxNew, ids…]` with a callback, and keeps the settled answer's token ids, from the callback or, when that failed,
/// from anyone's `deliver` of the settled bytes; nothing but a settled answer of its own jobs is ever kept. The unused
/// tokens' refund comes back to it as market credit, which only its owner withdraws, to the wei.
contract VouchLlmConsumerExampleTest is LlmJobsFixture {
    uint32 internal constant GAS = 200_000;
    bytes32 internal constant DELIVERED = keccak256("CallbackDelivered(uint256,address,bool)");

    VouchLlmConsumerExample internal example;
    address internal anyone;

    function setUp() public override {
        super.setUp();
        example = new VouchLlmConsumerExample(market, GAS);
        anyone = makeAddr("anyone");
    }

    /// @dev The prompt [17, 42, 299] (P = 3).
    function _prompt() internal pure returns (uint32[] memory ids) {
        ids = new uint32[](3);
        (ids[0], ids[1], ids[2]) = (17, 42, 299);
    }

    function _ask(VouchLlmConsumerExample consumer, uint32 maxNew) internal returns (uint256 jobId) {
        vm.prank(poster);
        jobId = consumer.ask{value: _escrow(3, maxNew)}(llmId, _prompt(), maxNew, DEADLINE);
    }

    /// @dev Settles `jobId` and returns whether a callback was delivered, and whether it succeeded.
    function _settle(uint256 jobId) internal returns (bool delivered, bool success) {
        vm.warp(block.timestamp + WINDOW);
        vm.recordLogs();
        vm.prank(anyone);
        market.finalize{gas: 2_000_000}(jobId);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].topics[0] != DELIVERED) continue;
            delivered = true;
            success = abi.decode(logs[i].data, (bool));
        }
    }

    function _assertIds(uint32[] memory got, int256[] memory want) internal pure {
        assertEq(got.length, want.length, "answer length");
        for (uint256 i = 0; i < want.length; ++i) {
            assertEq(uint256(got[i]), uint256(want[i]), "answer id");
        }
    }

    function test_ask_postsPromptRowWithCallback_succeeds() public {
        vm.expectEmit(address(market));
        emit IJobMarket.CallbackRequested(1, address(example), GAS);
        uint256 jobId = _ask(example, 4);
        assertEq(example.askedBy(jobId), poster, "asker");
        assertEq(market.callbackGasLimit(jobId), GAS, "callback gas");
        assertEq(market.getJob(jobId).inputRoot, Reference.tensorRoot(_input()), "the row [4, 17, 42, 299]");
        LlmLayout memory layout = market.llmLayout(jobId);
        assertEq(layout.prompt, 3, "P");
        assertEq(layout.maxNew, 4, "maxNew");
    }

    function test_ask_promptPastContext_reverts() public {
        // P + maxNew − 1 = 3 + 31 − 1 > 32.
        uint256 escrow = _escrow(3, 31);
        vm.deal(poster, escrow);
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(TokenBudget.selector, 3, 31, CONTEXT));
        example.ask{value: escrow}(llmId, _prompt(), 31, DEADLINE);
    }

    function test_onVouchResult_keepsAnswerIds_succeeds() public {
        uint256 jobId = _ask(example, 4);
        bytes memory output = LlmFixture.row(LlmFixture.ids(5, 7, EOS));
        _submit(jobId, output, keccak256("trace"));
        (bool delivered, bool success) = _settle(jobId);
        assertTrue(delivered && success, "delivered");
        (uint32[] memory ids, bool known) = example.answerIds(jobId);
        assertTrue(known, "known");
        _assertIds(ids, LlmFixture.ids(5, 7, EOS));
    }

    function test_onVouchResult_answerAtBudget_succeeds() public {
        // No eos: the answer used its whole budget of 4 tokens.
        uint256 jobId = _ask(example, 4);
        _submit(jobId, LlmFixture.row(LlmFixture.ids(5, 299, 0, 7)), keccak256("trace"));
        (, bool success) = _settle(jobId);
        assertTrue(success, "delivered");
        (uint32[] memory ids,) = example.answerIds(jobId);
        _assertIds(ids, LlmFixture.ids(5, 299, 0, 7));
    }

    function test_onVouchResult_notMarket_reverts() public {
        vm.prank(anyone);
        vm.expectRevert(abi.encodeWithSelector(VouchConsumerBase.OnlyMarket.selector, anyone));
        example.onVouchResult(1, LlmFixture.row(LlmFixture.ids(EOS)), bytes32(0));
    }

    function test_deliver_afterFailedCallback_succeeds() public {
        // 1,000 gas is too little to store the ids: the callback fails, and the answer comes through `deliver`.
        VouchLlmConsumerExample starved = new VouchLlmConsumerExample(market, 1000);
        uint256 jobId = _ask(starved, 4);
        bytes memory output = LlmFixture.row(LlmFixture.ids(5, 7, EOS));
        _submit(jobId, output, keccak256("trace"));
        vm.expectRevert(abi.encodeWithSelector(VouchConsumerBase.NotSettledOutput.selector, jobId));
        starved.deliver(jobId, output);
        (bool delivered, bool success) = _settle(jobId);
        assertTrue(delivered && !success, "callback starved by its own limit");
        (, bool known) = starved.answerIds(jobId);
        assertTrue(!known, "not yet");

        bytes memory other = LlmFixture.row(LlmFixture.ids(5, 8, EOS));
        vm.expectRevert(abi.encodeWithSelector(VouchConsumerBase.NotSettledOutput.selector, jobId));
        starved.deliver(jobId, other);
        vm.prank(anyone);
        starved.deliver(jobId, output);
        (uint32[] memory ids, bool known2) = starved.answerIds(jobId);
        assertTrue(known2, "known");
        _assertIds(ids, LlmFixture.ids(5, 7, EOS));
    }

    function test_deliver_notAsked_reverts() public {
        // A job posted straight to the market, not through the example.
        uint256 jobId = _post(_input());
        bytes memory output = LlmFixture.row(LlmFixture.ids(EOS));
        _submit(jobId, output, keccak256("trace"));
        _settle(jobId);
        vm.expectRevert(abi.encodeWithSelector(VouchConsumerBase.NotAsked.selector, jobId));
        example.deliver(jobId, output);
    }

    // ----- the refund of unused tokens -----

    function _payee(string memory name) internal returns (address payable) {
        return payable(makeAddr(name));
    }

    function test_withdraw_unusedTokensToOwnersPayee_succeeds() public {
        // Two jobs with budgets of 4 and 6 answered in 3 and 1 tokens: (4 − 3) + (6 − 1) unused tokens refunded.
        uint256 first = _ask(example, 4);
        uint256 second = _ask(example, 6);
        _submit(first, LlmFixture.row(LlmFixture.ids(5, 7, EOS)), keccak256("first"));
        _submit(second, LlmFixture.row(LlmFixture.ids(EOS)), keccak256("second"));
        uint256 refund = (_escrow(3, 4) - _escrow(3, 3)) + (_escrow(3, 6) - _escrow(3, 1));
        vm.expectEmit(address(market));
        emit IJobMarket.UnusedTokensRefunded(first, address(example), 1, _escrow(3, 4) - _escrow(3, 3));
        _settle(first);
        _settle(second);
        assertEq(market.credits(address(example)), refund, "the example's market credit");
        assertEq(address(example).balance, 0, "nothing held before the withdrawal");

        address payable to = _payee("treasury");
        uint256 marketBefore = address(market).balance;
        vm.expectEmit(address(example));
        emit VouchConsumerBase.Withdrawn(to, refund);
        example.withdraw(to); // the test contract deployed it: its owner
        assertEq(to.balance, refund, "paid to the wei");
        assertEq(marketBefore - address(market).balance, refund, "out of the market");
        assertEq(market.credits(address(example)), 0, "credit spent");
        assertEq(address(example).balance, 0, "nothing kept");
        // Nothing left: the market's own refusal passes through.
        vm.expectRevert(NothingToWithdraw.selector);
        example.withdraw(to);
    }

    function test_withdraw_expiredJobEscrow_succeeds() public {
        uint256 jobId = _ask(example, 4);
        vm.warp(DEADLINE);
        market.refundExpired(jobId);
        address payable to = _payee("treasury");
        example.withdraw(to);
        assertEq(to.balance, _escrow(3, 4), "the whole escrow");
    }

    function test_withdraw_notOwner_reverts() public {
        uint256 jobId = _ask(example, 4);
        _submit(jobId, LlmFixture.row(LlmFixture.ids(EOS)), keccak256("trace"));
        _settle(jobId);
        uint256 credit = market.credits(address(example));
        assertEq(credit, _escrow(3, 4) - _escrow(3, 1), "three tokens unused");
        // Not even the poster the example asked for: the owner decides.
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(VouchConsumerBase.OnlyOwner.selector, poster));
        example.withdraw(payable(poster));
        assertEq(market.credits(address(example)), credit, "credit untouched");
    }

    function test_withdraw_payeeRefuses_reverts() public {
        uint256 jobId = _ask(example, 4);
        _submit(jobId, LlmFixture.row(LlmFixture.ids(EOS)), keccak256("trace"));
        _settle(jobId);
        uint256 credit = market.credits(address(example));
        // The market refuses plain money: a payee that reverts.
        address payable to = payable(address(market));
        vm.expectRevert(abi.encodeWithSelector(VouchConsumerBase.WithdrawalFailed.selector, to, credit));
        example.withdraw(to);
        assertEq(market.credits(address(example)), credit, "the credit is back in the market");
    }

    function test_receive_notMarket_reverts() public {
        vm.deal(anyone, 1 ether);
        vm.prank(anyone);
        (bool ok, bytes memory err) = address(example).call{value: 1}("");
        assertTrue(!ok, "refused");
        assertEq(err, abi.encodeWithSelector(VouchConsumerBase.OnlyMarket.selector, anyone), "OnlyMarket");
    }

    function test_decodeAnswer_partialWord_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(VouchLlmConsumerExample.NotTokenIds.selector, 5));
        example.decodeAnswer(hex"0000000102");
    }

    function testFuzz_encodeInput_decodesBack(uint32 maxNew, uint32[] calldata ids) public view {
        bytes memory row = example.encodeInput(maxNew, ids);
        assertEq(row.length, 4 * (ids.length + 1), "length");
        uint32[] memory back = example.decodeAnswer(row);
        assertEq(uint256(back[0]), uint256(maxNew), "maxNew first");
        for (uint256 i = 0; i < ids.length; ++i) {
            assertEq(uint256(back[i + 1]), uint256(ids[i]), "id");
        }
        // The row is exactly what the fixture encodes (int32 big-endian).
        int256[] memory values = new int256[](ids.length + 1);
        values[0] = int256(uint256(maxNew));
        for (uint256 i = 0; i < ids.length; ++i) {
            values[i + 1] = int256(uint256(ids[i]));
        }
        if (maxNew < 2 ** 31) {
            bool small = true;
            for (uint256 i = 0; i < ids.length; ++i) {
                small = small && ids[i] < 2 ** 31;
            }
            if (small) assertEq(row, LlmFixture.row(values), "the fixture's row");
        }
    }
}
