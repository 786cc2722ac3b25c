// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {IJobMarket} from "../src/interfaces/IJobMarket.sol";
import {IModelRegistry} from "../src/interfaces/IModelRegistry.sol";
import {
    ModelAlreadyRetired,
    NotLlm,
    NotModelOwner,
    NotTensor,
    RoyaltyTooHigh,
    TokenPriceTooHigh,
    UnknownModel,
    WrongFee
} from "../src/lib/Errors.sol";
import {GameStatus, JobStatus, LlmConfig} from "../src/lib/Types.sol";
import {Vm} from "./Base.t.sol";
import {LlmGameFixture} from "./LlmJobs.t.sol";
import {LlmFixture} from "./utils/LlmFixture.sol";
import {Reference} from "./utils/Reference.sol";

/// @notice Per-token prices of language-model jobs (PROTOCOL §7.2): the registry's `llmPrices` and `setLlmPrice`, the
/// escrow of the most a job can cost, and `finalize`'s split of it into the worker's share, the owner's royalty and
/// the poster's refund of unused tokens, exact to the wei. The fixture's model charges `PER_INPUT` per prompt token and
/// `PER_OUTPUT` per generated token with a royalty of 15 %; its default job has 3 prompt tokens and a budget of 4.
contract LlmPricingTest is LlmGameFixture {
    using LlmFixture for int256[];

    uint256 internal constant MAX_PRICE = type(uint128).max;

    address internal worker2;

    /// @notice What `finalize` credits, by the formulas of PROTOCOL §7.2.
    struct Split {
        uint256 charged;
        uint256 royalty;
        uint256 workerPayout;
        uint256 refund;
    }

    function setUp() public override {
        super.setUp();
        worker2 = makeAddr("worker2");
        vm.deal(worker2, 100 ether);
    }

    function _split(uint256 prompt, uint256 maxNew, uint256 generated, uint256 perIn, uint256 perOut, uint256 bps)
        internal
        pure
        returns (Split memory s)
    {
        s.charged = prompt * perIn + generated * perOut;
        s.royalty = s.charged * bps / 10_000;
        s.workerPayout = s.charged - s.royalty + BOND;
        s.refund = (maxNew - generated) * perOut;
    }

    /// @dev Asserts the credits of the poster, `paid` (the settled worker) and the owner, and that the market holds
    /// exactly them (every job of the test settled or refunded).
    function _assertCredits(address paid, uint256 refund, uint256 workerPayout, uint256 royalty) internal view {
        assertEq(market.credits(poster), refund, "poster: the unused tokens");
        assertEq(market.credits(paid), workerPayout, "worker: charged - royalty + bond");
        assertEq(market.credits(owner), royalty, "owner: royalty of the charged fee");
    }

    function _settle(uint256 id, bytes memory output) internal {
        vm.warp(market.getJob(id).submittedAt + WINDOW);
        market.finalize(id);
        assertEq(uint256(market.getJob(id).status), uint256(JobStatus.Settled), "Settled");
        assertTrue(market.isSettledOutput(id, output), "the settled answer");
    }

    function _assertNoRefundLog() internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            assertTrue(logs[i].topics[0] != IJobMarket.UnusedTokensRefunded.selector, "no UnusedTokensRefunded");
        }
    }

    // ----- registry: llmPrices, setLlmPrice, setPrice, the price bound -----

    function test_llmPrices_registered_succeeds() public view {
        (uint256 perInput, uint256 perOutput) = registry.llmPrices(llmId);
        assertEq(perInput, PER_INPUT, "perInputToken");
        assertEq(perOutput, PER_OUTPUT, "perOutputToken");
        assertEq(registry.getModel(llmId).fee, 0, "no flat fee");
        assertEq(registry.MAX_TOKEN_PRICE(), MAX_PRICE, "2^128 - 1");
    }

    function test_llmPrices_tensorModel_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(NotLlm.selector, tensorId));
        registry.llmPrices(tensorId);
    }

    function test_llmPrices_unknownModel_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownModel.selector, 99));
        registry.llmPrices(99);
    }

    function test_registerLlm_pricesAtMax_succeeds() public {
        uint256 id = registry.registerLlm(bytes32(0), LlmFixture.small(), MAX_PRICE, MAX_PRICE, ROYALTY_BPS, URI);
        (uint256 perInput, uint256 perOutput) = registry.llmPrices(id);
        assertEq(perInput, MAX_PRICE, "perInputToken at the bound");
        assertEq(perOutput, MAX_PRICE, "perOutputToken at the bound");
    }

    function test_registerLlm_perInputPastMax_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(TokenPriceTooHigh.selector, MAX_PRICE + 1, MAX_PRICE));
        registry.registerLlm(bytes32(0), LlmFixture.small(), MAX_PRICE + 1, 0, ROYALTY_BPS, URI);
    }

    function test_registerLlm_perOutputPastMax_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(TokenPriceTooHigh.selector, type(uint256).max, MAX_PRICE));
        registry.registerLlm(bytes32(0), LlmFixture.small(), 0, type(uint256).max, ROYALTY_BPS, URI);
    }

    function test_setLlmPrice_owner_succeeds() public {
        vm.expectEmit(address(registry));
        emit IModelRegistry.LlmPriceUpdated(llmId, 5, MAX_PRICE, 10_000);
        vm.prank(owner);
        registry.setLlmPrice(llmId, 5, MAX_PRICE, 10_000);
        (uint256 perInput, uint256 perOutput) = registry.llmPrices(llmId);
        assertEq(perInput, 5, "perInputToken");
        assertEq(perOutput, MAX_PRICE, "perOutputToken");
        assertEq(registry.getModel(llmId).royaltyBps, 10_000, "royalty");
        assertEq(registry.getModel(llmId).fee, 0, "still no flat fee");
    }

    function test_setLlmPrice_pastMax_reverts() public {
        vm.startPrank(owner);
        vm.expectRevert(abi.encodeWithSelector(TokenPriceTooHigh.selector, MAX_PRICE + 1, MAX_PRICE));
        registry.setLlmPrice(llmId, MAX_PRICE + 1, 0, ROYALTY_BPS);
        vm.expectRevert(abi.encodeWithSelector(TokenPriceTooHigh.selector, MAX_PRICE + 1, MAX_PRICE));
        registry.setLlmPrice(llmId, 0, MAX_PRICE + 1, ROYALTY_BPS);
        vm.stopPrank();
    }

    function test_setLlmPrice_royaltyAbove100Percent_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(RoyaltyTooHigh.selector, 10_001, 10_000));
        vm.prank(owner);
        registry.setLlmPrice(llmId, PER_INPUT, PER_OUTPUT, 10_001);
    }

    function test_setLlmPrice_notOwner_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(NotModelOwner.selector, llmId, poster));
        vm.prank(poster);
        registry.setLlmPrice(llmId, 0, 0, 0);
    }

    function test_setLlmPrice_retired_reverts() public {
        vm.startPrank(owner);
        registry.retire(llmId);
        vm.expectRevert(abi.encodeWithSelector(ModelAlreadyRetired.selector, llmId));
        registry.setLlmPrice(llmId, 0, 0, 0);
        vm.stopPrank();
    }

    function test_setLlmPrice_tensorModel_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(NotLlm.selector, tensorId));
        vm.prank(owner);
        registry.setLlmPrice(tensorId, 1, 1, 0);
    }

    function test_setPrice_llm_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(NotTensor.selector, llmId));
        vm.prank(owner);
        registry.setPrice(llmId, 1 ether, 0);
    }

    // ----- postJob: the escrow -----

    function test_postJob_llmWrongValue_reverts() public {
        bytes memory input = _input();
        // 3 prompt tokens, a budget of 4: 3 · (10^14 + 7) + 4 · (3 · 10^14 + 11).
        uint256 escrow = 1_500_000_000_000_065;
        assertEq(_escrowOf(input), escrow, "P * perInputToken + maxNew * perOutputToken");
        uint256[4] memory wrong = [escrow - 1, escrow + 1, 0, 3 * PER_INPUT + 3 * PER_OUTPUT];
        for (uint256 i = 0; i < wrong.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(WrongFee.selector, wrong[i], escrow));
            vm.prank(poster);
            market.postJob{value: wrong[i]}(llmId, input, DEADLINE);
        }
        uint256 jobId = _post(input);
        assertEq(market.getJob(jobId).fee, escrow, "exactly the most escrowed");
        assertEq(address(market).balance, escrow, "the market holds it");
    }

    function test_postJob_llmFreeModel_succeeds() public {
        vm.prank(owner);
        registry.setLlmPrice(llmId, 0, 0, ROYALTY_BPS);
        vm.expectRevert(abi.encodeWithSelector(WrongFee.selector, 1, 0));
        vm.prank(poster);
        market.postJob{value: 1}(llmId, _input(), DEADLINE);
        vm.prank(poster);
        uint256 jobId = market.postJob(llmId, _input(), DEADLINE);
        _submit(jobId, LlmFixture.ids(5, EOS).row(), keccak256("trace"));
        _settle(jobId, LlmFixture.ids(5, EOS).row());
        _assertCredits(worker, 0, BOND, 0);
    }

    // ----- finalize: charged for the tokens generated -----

    function test_finalize_llmShortAnswer_succeeds() public {
        uint256 id = _post(_input());
        bytes memory output = LlmFixture.ids(5, 7, EOS).row();
        _submit(id, output, keccak256("trace"));
        // G = 3 of 4: charged 3 · (10^14 + 7) + 3 · (3 · 10^14 + 11) = 1,200,000,000,000,054; royalty 15 % of it,
        // rounded down (180,000,000,000,008.1); one unused token refunded.
        uint256 royalty = 180_000_000_000_008;
        uint256 workerPayout = 1_200_000_000_000_054 - royalty + BOND;
        uint256 refund = 300_000_000_000_011;
        Split memory s = _split(3, 4, 3, PER_INPUT, PER_OUTPUT, ROYALTY_BPS);
        assertEq(s.royalty, royalty, "royalty formula");
        assertEq(s.workerPayout, workerPayout, "worker formula");
        assertEq(s.refund, refund, "refund formula");

        vm.warp(START + WINDOW);
        vm.expectEmit(address(market));
        emit IJobMarket.UnusedTokensRefunded(id, poster, 1, refund);
        vm.expectEmit(address(market));
        emit IJobMarket.JobSettled(id, 1, worker, Reference.tensorRoot(output), workerPayout, royalty);
        market.finalize(id);

        _assertCredits(worker, refund, workerPayout, royalty);
        assertEq(refund + workerPayout + royalty, _escrow(3, 4) + BOND, "escrow + bond, to the wei");
        assertEq(address(market).balance, _escrow(3, 4) + BOND, "the market holds exactly the credits");
        assertEq(market.getJob(id).fee, _escrow(3, 4), "the job keeps its escrow on record");
    }

    function test_finalize_llmFullBudget_succeeds() public {
        uint256 id = _post(_input());
        bytes memory output = LlmFixture.ids(5, 7, 8, 9).row();
        _submit(id, output, keccak256("trace"));
        // G = maxNew = 4: the whole escrow, 1,500,000,000,000,065, is charged; royalty 225,000,000,000,009.75 → …009.
        uint256 royalty = 225_000_000_000_009;
        uint256 workerPayout = 1_500_000_000_000_065 - royalty + BOND;
        vm.recordLogs();
        _settle(id, output);
        _assertNoRefundLog();
        _assertCredits(worker, 0, workerPayout, royalty);
        assertEq(address(market).balance, workerPayout + royalty, "the market holds exactly the credits");
    }

    /// @dev The first worker answers `first` with a lie at slot 0 and loses the game; `worker2` answers `second` and it
    /// settles: the charge follows the settled answer's length.
    function _overturnThenSettle(int256[] memory first, int256[] memory second) internal {
        jobId = _post(_input());
        answer = first.row();
        bytes32[] memory roots = _slotRoots(first.length);
        roots[0] = keccak256("not the input");
        State memory st = _state(roots);
        _submit(jobId, answer, LlmFixture.traceRoot(worker, st.root));
        uint256 gameId = _challenge();
        _revealOpening(st);
        _walkTo(gameId, st, 0);
        _assertStatus(gameId, GameStatus.ChallengerWon, "overturned");
        assertEq(uint256(market.getJob(jobId).status), uint256(JobStatus.Open), "re-opened");
        assertEq(market.getJob(jobId).fee, _escrow(3, 4), "the escrow stays whole");

        bytes memory output = second.row();
        vm.prank(worker2);
        market.submitResult{value: BOND}(jobId, Reference.tensorRoot(output), keccak256("trace 2"), output);
        _assertLayout(jobId, 3, 4, second.length);
        _settle(jobId, output);
        assertEq(market.credits(worker), 0, "the overturned worker earns nothing");
    }

    function test_finalize_llmOverturnedShorterAnswer_succeeds() public {
        // G = 3 overturned, G = 1 settles: charged 3 · (10^14 + 7) + (3 · 10^14 + 11) = 600,000,000,000,032, royalty
        // 90,000,000,000,004.8 → …004; three unused tokens refunded.
        _overturnThenSettle(LlmFixture.ids(5, 7, EOS), LlmFixture.ids(EOS));
        uint256 royalty = 90_000_000_000_004;
        _assertCredits(worker2, 900_000_000_000_033, 600_000_000_000_032 - royalty + BOND, royalty);
        Split memory s = _split(3, 4, 1, PER_INPUT, PER_OUTPUT, ROYALTY_BPS);
        assertEq(s.refund + s.workerPayout + s.royalty, _escrow(3, 4) + BOND, "conserved");
        assertEq(s.royalty, royalty, "royalty formula");
    }

    function test_finalize_llmOverturnedLongerAnswer_succeeds() public {
        // G = 1 overturned, G = 4 settles: the whole escrow is charged, nothing refunded.
        _overturnThenSettle(LlmFixture.ids(EOS), LlmFixture.ids(5, 7, 8, 9));
        uint256 royalty = 225_000_000_000_009;
        _assertCredits(worker2, 0, 1_500_000_000_000_065 - royalty + BOND, royalty);
    }

    // ----- refundExpired: the whole escrow -----

    function test_refundExpired_llm_succeeds() public {
        uint256 id = _post(_input());
        vm.warp(DEADLINE);
        vm.expectEmit(address(market));
        emit IJobMarket.JobRefunded(id, poster, 1_500_000_000_000_065);
        market.refundExpired(id);
        _assertCredits(worker, 1_500_000_000_000_065, 0, 0);
        assertEq(address(market).balance, 1_500_000_000_000_065, "the market holds exactly the credit");
    }

    // ----- repricing never touches a posted job -----

    function test_setLlmPrice_afterPosting_keepsPostedJob_succeeds() public {
        uint256 a = _post(_input());
        uint256 newIn = 5 gwei;
        vm.prank(owner);
        registry.setLlmPrice(llmId, newIn, 0, 0);
        // A new job pays the new prices (3 prompt tokens, output free now); the old escrow is refused.
        vm.expectRevert(abi.encodeWithSelector(WrongFee.selector, _escrow(3, 4), 3 * newIn));
        vm.prank(poster);
        market.postJob{value: _escrow(3, 4)}(llmId, _input(), DEADLINE);
        vm.prank(poster);
        uint256 b = market.postJob{value: 3 * newIn}(llmId, _input(), DEADLINE);
        assertEq(market.outputTokenPrice(a), PER_OUTPUT, "job a: the price it was posted at");
        assertEq(market.outputTokenPrice(b), 0, "job b: the new price");
        assertEq(market.getJob(a).fee, _escrow(3, 4), "job a: its escrow");

        // Job a settles with G = 2 at its own prices and royalty: two unused tokens at the old output price.
        bytes memory output = LlmFixture.ids(5, EOS).row();
        _submit(a, output, keccak256("trace"));
        _settle(a, output);
        Split memory s = _split(3, 4, 2, PER_INPUT, PER_OUTPUT, ROYALTY_BPS);
        _assertCredits(worker, s.refund, s.workerPayout, s.royalty);
        assertEq(s.refund, 2 * PER_OUTPUT, "two unused tokens");

        // Job b settles with G = 2 at the new prices: nothing to refund, no royalty.
        vm.prank(worker2);
        market.submitResult{value: BOND}(b, Reference.tensorRoot(output), keccak256("trace"), output);
        vm.recordLogs();
        _settle(b, output);
        _assertNoRefundLog();
        assertEq(market.credits(worker2), 3 * newIn + BOND, "job b: the whole fee to its worker");
        assertEq(market.credits(poster), s.refund, "job b: nothing refunded");
        assertEq(market.credits(owner), s.royalty, "job b: no royalty");
    }

    // ----- the bound: the largest escrow at the largest prices -----

    function test_finalize_llmMaxPricesFullContext_succeeds() public {
        // A model of the largest context, 1024 positions, at the largest prices: a prompt of 512 tokens and a budget
        // of 513 (P + maxNew − 1 = 1024) escrow 1025 · (2^128 − 1) < 2^139.
        LlmConfig memory c = LlmFixture.small();
        c.context = 1024;
        uint256 id = _activateLlm(c, LlmFixture.specOnlyOps(c));
        vm.prank(owner);
        registry.setLlmPrice(id, MAX_PRICE, MAX_PRICE, 10_000);
        int256[] memory prompt = new int256[](512);
        for (uint256 i = 0; i < prompt.length; ++i) {
            prompt[i] = int256(i % VOCAB);
        }
        bytes memory input = LlmFixture.input(513, prompt);
        uint256 escrow = 1025 * MAX_PRICE;
        vm.deal(poster, escrow);
        vm.prank(poster);
        uint256 jobId_ = market.postJob{value: escrow}(id, input, DEADLINE);
        assertEq(market.getJob(jobId_).fee, escrow, "1025 tokens at 2^128 - 1");

        bytes memory output = LlmFixture.ids(EOS).row();
        _submit(jobId_, output, keccak256("trace"));
        _settle(jobId_, output);
        // G = 1, royalty 100 %: the owner gets 513 tokens' price, the poster 512, the worker its bond.
        _assertCredits(worker, 512 * MAX_PRICE, BOND, 513 * MAX_PRICE);
    }

    // ----- conservation, fuzzed -----

    /// @dev Any prompt length, budget, answer length, prices up to the bound and royalty: the escrow is split exactly
    /// into the worker's share of the charged fee, the owner's royalty on it and the poster's refund of unused tokens.
    function testFuzz_finalize_llmEscrowConserved_succeeds(
        uint256 prompt,
        uint256 maxNew,
        uint256 generated,
        uint256 perIn,
        uint256 perOut,
        uint256 bps
    ) public {
        prompt = bound(prompt, 1, CONTEXT);
        maxNew = bound(maxNew, 1, CONTEXT + 1 - prompt);
        generated = bound(generated, 1, maxNew);
        perIn = bound(perIn, 0, MAX_PRICE);
        perOut = bound(perOut, 0, MAX_PRICE);
        bps = bound(bps, 0, 10_000);
        vm.prank(owner);
        registry.setLlmPrice(llmId, perIn, perOut, uint16(bps));

        uint256 escrow = prompt * perIn + maxNew * perOut;
        uint256 id = _postOf(prompt, maxNew, escrow);
        _answerAndSettle(id, generated, maxNew);
        _assertSplit(_split(prompt, maxNew, generated, perIn, perOut, bps), escrow);
    }

    /// @dev Posts a job of `prompt` ids and budget `maxNew`, escrowing `escrow`.
    function _postOf(uint256 prompt, uint256 maxNew, uint256 escrow) internal returns (uint256 id) {
        int256[] memory ids = new int256[](prompt);
        for (uint256 i = 0; i < prompt; ++i) {
            ids[i] = int256((7 * i + 3) % VOCAB);
        }
        vm.deal(poster, escrow);
        vm.prank(poster);
        id = market.postJob{value: escrow}(llmId, LlmFixture.input(int256(maxNew), ids), DEADLINE);
        assertEq(market.getJob(id).fee, escrow, "escrowed");
    }

    /// @dev Answers job `id` with `generated` ids other than eos, the last one eos unless the budget is spent, and
    /// settles it.
    function _answerAndSettle(uint256 id, uint256 generated, uint256 maxNew) internal {
        int256[] memory ids = new int256[](generated);
        for (uint256 i = 0; i < generated; ++i) {
            ids[i] = int256(5 + i);
        }
        if (generated < maxNew) ids[generated - 1] = EOS;
        _submit(id, ids.row(), keccak256("trace"));
        _settle(id, ids.row());
    }

    function _assertSplit(Split memory s, uint256 escrow) internal view {
        uint256 refund = market.credits(poster);
        uint256 royalty = market.credits(owner);
        uint256 workerShare = market.credits(worker) - BOND;
        assertEq(workerShare + royalty + refund, escrow, "escrow = worker's share + royalty + refund");
        assertEq(refund, s.refund, "refund: the unused tokens");
        assertEq(royalty, s.royalty, "royalty of the charged fee");
        assertEq(workerShare + royalty, s.charged, "charged: the tokens used");
        assertEq(address(market).balance, escrow + BOND, "the market holds exactly the credits");
    }

    // ----- gas (docs/GAS.md): forge test --match-test test_gas_llm -vv -----

    function test_gas_llmPostFinalize_succeeds() public {
        bytes memory input = _input();
        uint256 value = _escrowOf(input);
        vm.prank(poster);
        uint256 g = gasleft();
        uint256 id = market.postJob{value: value}(llmId, input, DEADLINE);
        log("postJob LLM (P 3, maxNew 4) gas", g - gasleft());
        _submit(id, LlmFixture.ids(5, 7, EOS).row(), keccak256("trace"));
        vm.warp(START + WINDOW);
        g = gasleft();
        market.finalize(id);
        log("finalize LLM (G 3 < maxNew 4) gas", g - gasleft());
    }
}
