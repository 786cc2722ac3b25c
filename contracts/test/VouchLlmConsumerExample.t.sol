// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {VouchLlmConsumerExample} from "../src/examples/VouchLlmConsumerExample.sol";
import {IJobMarket} from "../src/interfaces/IJobMarket.sol";
import {TokenBudget} from "../src/lib/Errors.sol";
import {LlmLayout} from "../src/lib/Types.sol";
import {Vm} from "./Base.t.sol";
import {LlmJobsFixture} from "./LlmJobs.t.sol";
import {LlmFixture} from "./utils/LlmFixture.sol";
import {Reference} from "./utils/Reference.sol";

/// @notice The language model's example consumer (PROTOCOL §5.4, §7.2): it posts a prompt's ids as the int32 row
/// `[maxNew, ids…]` with a callback, and keeps the settled answer's token ids, from the callback or, when that failed,
/// from anyone's `deliver` of the settled bytes; nothing but a settled answer of its own jobs is ever kept.
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
        vm.expectRevert(abi.encodeWithSelector(VouchLlmConsumerExample.OnlyMarket.selector, anyone));
        example.onVouchResult(1, LlmFixture.row(LlmFixture.ids(EOS)), bytes32(0));
    }

    function test_deliver_afterFailedCallback_succeeds() public {
        // 1,000 gas is too little to store the ids: the callback fails, and the answer comes through `deliver`.
        VouchLlmConsumerExample starved = new VouchLlmConsumerExample(market, 1000);
        uint256 jobId = _ask(starved, 4);
        bytes memory output = LlmFixture.row(LlmFixture.ids(5, 7, EOS));
        _submit(jobId, output, keccak256("trace"));
        vm.expectRevert(abi.encodeWithSelector(VouchLlmConsumerExample.NotSettledOutput.selector, jobId));
        starved.deliver(jobId, output);
        (bool delivered, bool success) = _settle(jobId);
        assertTrue(delivered && !success, "callback starved by its own limit");
        (, bool known) = starved.answerIds(jobId);
        assertTrue(!known, "not yet");

        bytes memory other = LlmFixture.row(LlmFixture.ids(5, 8, EOS));
        vm.expectRevert(abi.encodeWithSelector(VouchLlmConsumerExample.NotSettledOutput.selector, jobId));
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
        vm.expectRevert(abi.encodeWithSelector(VouchLlmConsumerExample.NotAsked.selector, jobId));
        example.deliver(jobId, output);
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
