// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {JobMarket} from "../../src/JobMarket.sol";
import {ModelRegistry} from "../../src/ModelRegistry.sol";
import {IOneStepProver} from "../../src/interfaces/IOneStepProver.sol";
import {Job, JobStatus, LlmConfig, LlmLayout} from "../../src/lib/Types.sol";
import {Base} from "../Base.t.sol";
import {Configs} from "../utils/Configs.sol";
import {GasBombConsumer, RecordingConsumer, ReentrantConsumer, RevertingConsumer} from "../utils/Consumers.sol";
import {LlmFixture} from "../utils/LlmFixture.sol";
import {DenseReluModel, ModelFixture} from "../utils/ModelFixture.sol";
import {Reference} from "../utils/Reference.sol";

/// @notice Drives the market with valid moves of a few actors: post (plain, or with a callback to a recording, a
/// reverting, a gas-burning or a reentrant consumer; or a prompt to a language model priced per token), submit (a
/// language model's answer of any length up to the budget), finalize, refund, withdraw, reprice, and the passing of
/// time. Ghost variables count the money that went in and out, and the settled jobs of the recording consumer.
contract MarketHandler is Base {
    using LlmFixture for int256[];

    JobMarket internal immutable market;
    ModelRegistry internal immutable registry;
    uint256 internal immutable modelId;
    /// @dev A language model (`LlmFixture.small`: 300 tokens, 32 positions, eos 2).
    uint256 internal immutable llmId;
    address internal immutable owner;
    address[] internal actors;
    address[] internal consumers;
    RecordingConsumer public immutable recording;

    uint256 public ghostDeposited;
    uint256 public ghostWithdrawn;
    uint256 public calls;
    uint256 public ghostRecordingSettled;

    constructor(JobMarket market_, ModelRegistry registry_, uint256 modelId_, uint256 llmId_, address owner_) {
        market = market_;
        registry = registry_;
        modelId = modelId_;
        llmId = llmId_;
        owner = owner_;
        actors.push(owner_);
        for (uint256 i = 0; i < 4; ++i) {
            actors.push(vm.addr(0xa11ce + i));
        }
        recording = new RecordingConsumer(market_);
        consumers.push(address(recording));
        consumers.push(address(new RevertingConsumer(market_)));
        consumers.push(address(new GasBombConsumer(market_, false)));
        consumers.push(address(new ReentrantConsumer(market_, modelId_, false)));
        // Consumers hold credits too (refunds) and withdraw them like anyone.
        for (uint256 i = 0; i < consumers.length; ++i) {
            actors.push(consumers[i]);
        }
    }

    function postCallbackJob(uint256 consumerSeed, uint256 inputSeed, uint256 deadlineDelta, uint256 gasSeed) external {
        address consumer = consumers[consumerSeed % consumers.length];
        uint256 fee = registry.getModel(modelId).fee;
        uint64 deadline = uint64(block.timestamp + bound(deadlineDelta, 1, 3 days));
        // The recording consumer asks for enough gas to record; the others for anything the market allows.
        uint32 gasLimit = consumer == address(recording) ? 500_000 : uint32(bound(gasSeed, 1, market.maxCallbackGas()));
        vm.deal(consumer, consumer.balance + fee);
        vm.prank(consumer);
        market.postJobWithCallback{value: fee}(modelId, randomBytes(inputSeed, 64), deadline, gasLimit);
        ghostDeposited += fee;
        ++calls;
    }

    function postJob(uint256 actorSeed, uint256 inputSeed, uint256 deadlineDelta) external {
        address poster = _actor(actorSeed);
        uint256 fee = registry.getModel(modelId).fee;
        uint64 deadline = uint64(block.timestamp + bound(deadlineDelta, 1, 3 days));
        vm.deal(poster, poster.balance + fee);
        vm.prank(poster);
        market.postJob{value: fee}(modelId, randomBytes(inputSeed, 64), deadline);
        ghostDeposited += fee;
        ++calls;
    }

    /// @notice A prompt of 1 to 8 tokens with a budget of 1 to 8, escrowing `P·perInputToken + maxNew·perOutputToken`.
    function postLlmJob(uint256 actorSeed, uint256 promptSeed, uint256 budgetSeed, uint256 deadlineDelta) external {
        address poster = _actor(actorSeed);
        uint256 prompt = bound(promptSeed, 1, 8);
        uint256 maxNew = bound(budgetSeed, 1, 8);
        int256[] memory ids = new int256[](prompt);
        for (uint256 i = 0; i < prompt; ++i) {
            ids[i] = int256(uint256(keccak256(abi.encode(promptSeed, i))) % 300);
        }
        (uint256 perInput, uint256 perOutput) = registry.llmPrices(llmId);
        uint256 fee = prompt * perInput + maxNew * perOutput;
        uint64 deadline = uint64(block.timestamp + bound(deadlineDelta, 1, 3 days));
        vm.deal(poster, poster.balance + fee);
        vm.prank(poster);
        market.postJob{value: fee}(llmId, LlmFixture.input(int256(maxNew), ids), deadline);
        ghostDeposited += fee;
        ++calls;
    }

    function submitResult(uint256 jobSeed, uint256 actorSeed, uint256 outputSeed) external {
        uint256 jobId = _job(jobSeed);
        if (jobId == 0) return;
        Job memory job = market.getJob(jobId);
        if (job.status != JobStatus.Open || block.timestamp >= job.deadline) return;
        address worker = _actor(actorSeed);
        uint256 bond = market.resultBond();
        LlmLayout memory layout = market.llmLayout(jobId);
        bytes memory output =
            layout.prompt != 0 ? _answer(outputSeed, layout.maxNew) : randomBytes(outputSeed, job.outputLen);
        uint256 rowLen = layout.prompt != 0 ? output.length : job.outputRowLen;
        vm.deal(worker, worker.balance + bond);
        vm.prank(worker);
        market.submitResult{value: bond}(jobId, Reference.tensorRoot(output, rowLen), keccak256(output), output);
        ghostDeposited += bond;
        ++calls;
    }

    function finalize(uint256 jobSeed) external {
        uint256 jobId = _job(jobSeed);
        if (jobId == 0) return;
        Job memory job = market.getJob(jobId);
        if (job.status != JobStatus.Submitted) return;
        uint256 endsAt = job.submittedAt + market.challengeWindow();
        if (block.timestamp < endsAt) vm.warp(endsAt);
        market.finalize(jobId);
        // The recording consumer also posts plain jobs (it is an actor): only its callback jobs call it back.
        if (job.poster == address(recording) && market.callbackGasLimit(jobId) != 0) ++ghostRecordingSettled;
        ++calls;
    }

    function refundExpired(uint256 jobSeed) external {
        uint256 jobId = _job(jobSeed);
        if (jobId == 0) return;
        Job memory job = market.getJob(jobId);
        if (job.status != JobStatus.Open) return;
        if (block.timestamp < job.deadline) vm.warp(job.deadline);
        market.refundExpired(jobId);
        ++calls;
    }

    function withdraw(uint256 actorSeed) external {
        address account = _actor(actorSeed);
        uint256 amount = market.credits(account);
        if (amount == 0) return;
        uint256 before = account.balance;
        vm.prank(account);
        market.withdraw();
        vm.assertEq(account.balance, before + amount, "paid exactly the credit");
        ghostWithdrawn += amount;
        ++calls;
    }

    function setPrice(uint256 fee, uint256 bps) external {
        vm.prank(owner);
        registry.setPrice(modelId, bound(fee, 0, 10 ether), uint16(bound(bps, 0, 10_000)));
    }

    function setLlmPrice(uint256 perInput, uint256 perOutput, uint256 bps) external {
        vm.prank(owner);
        registry.setLlmPrice(
            llmId, bound(perInput, 0, 1 ether), bound(perOutput, 0, 1 ether), uint16(bound(bps, 0, 10_000))
        );
    }

    function warp(uint256 delta) external {
        vm.warp(block.timestamp + bound(delta, 0, 2 days));
    }

    /// @notice Σ credits of every account that can hold one.
    function sumCredits() external view returns (uint256 sum) {
        for (uint256 i = 0; i < actors.length; ++i) {
            sum += market.credits(actors[i]);
        }
    }

    /// @notice Σ fee of Open and Submitted jobs + Σ bond of Submitted jobs.
    function escrow() external view returns (uint256 sum) {
        uint256 count = market.jobCount();
        for (uint256 id = 1; id <= count; ++id) {
            Job memory job = market.getJob(id);
            if (job.status == JobStatus.Open) sum += job.fee;
            if (job.status == JobStatus.Submitted) sum += job.fee + job.bond;
        }
    }

    /// @notice An answer of 1 to `maxNew` ids greedy decoding could produce: ids other than eos (2), the last one eos
    /// unless the budget is spent.
    function _answer(uint256 seed, uint256 maxNew) internal pure returns (bytes memory) {
        uint256 generated = bound(seed, 1, maxNew);
        int256[] memory ids = new int256[](generated);
        for (uint256 i = 0; i < generated; ++i) {
            ids[i] = int256(3 + uint256(keccak256(abi.encode(seed, i))) % 297);
        }
        if (generated < maxNew) ids[generated - 1] = 2;
        return ids.row();
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function _job(uint256 seed) internal view returns (uint256) {
        uint256 count = market.jobCount();
        return count == 0 ? 0 : 1 + seed % count;
    }
}

/// @notice Solvency: the market holds exactly the credits plus the escrow, and exactly what went in minus what
/// went out, after any sequence of moves.
contract JobMarketSolvencyInvariantTest is Base {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    JobMarket internal market;
    MarketHandler internal handler;

    function setUp() public {
        vm.warp(1_800_000_000);
        ModelRegistry registry = new ModelRegistry();
        market = new JobMarket(
            registry, IOneStepProver(address(0x5eed)), Configs.NO_LLM_PROVER, Configs.market(1 hours, 0.3 ether)
        );
        address owner = makeAddr("owner");
        // An image model: inputs are 64 rows of one byte, outputs one row of 10.
        DenseReluModel memory m = ModelFixture.denseRelu(3, ModelFixture.shape(8, 8, 1), 10);
        vm.startPrank(owner);
        uint256 id = registry.registerModel(m.root, 2, m.input, m.inputZero, m.output, 0.01 ether, 1234, "");
        registry.publishLeaves(id, 0, m.ops[0]);
        registry.sealOp(id, 0);
        registry.publishLeaves(id, 1, m.ops[1]);
        registry.sealOp(id, 1);
        // A language model at 0.001 ether per prompt token and 0.003 per generated token, royalty 12.34 %.
        LlmConfig memory c = LlmFixture.small();
        bytes[][] memory opLeaves = LlmFixture.specOnlyOps(c);
        uint256 llmId = registry.registerLlm(LlmFixture.modelRoot(c, opLeaves), c, 0.001 ether, 0.003 ether, 1234, "");
        for (uint256 o = 0; o < opLeaves.length; ++o) {
            registry.publishLeaves(llmId, uint32(o), opLeaves[o]);
            registry.sealOp(llmId, uint32(o));
        }
        vm.stopPrank();
        handler = new MarketHandler(market, registry, id, llmId, owner);
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](10);
        selectors[0] = MarketHandler.postJob.selector;
        selectors[1] = MarketHandler.submitResult.selector;
        selectors[2] = MarketHandler.finalize.selector;
        selectors[3] = MarketHandler.refundExpired.selector;
        selectors[4] = MarketHandler.withdraw.selector;
        selectors[5] = MarketHandler.setPrice.selector;
        selectors[6] = MarketHandler.warp.selector;
        selectors[7] = MarketHandler.postCallbackJob.selector;
        selectors[8] = MarketHandler.postLlmJob.selector;
        selectors[9] = MarketHandler.setLlmPrice.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: selectors});
    }

    function invariant_balanceEqualsCreditsPlusEscrow() public view {
        assertEq(address(market).balance, handler.sumCredits() + handler.escrow(), "balance = credits + escrow");
    }

    /// @notice Every settled callback job called its consumer exactly once, and nothing else did.
    function invariant_callbackOncePerSettledJob() public view {
        assertEq(handler.recording().calls(), handler.ghostRecordingSettled(), "one callback per settlement");
    }

    function invariant_balanceEqualsDepositsMinusWithdrawals() public view {
        assertEq(address(market).balance, handler.ghostDeposited() - handler.ghostWithdrawn(), "balance = in - out");
    }
}
