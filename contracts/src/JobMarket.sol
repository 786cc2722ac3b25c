// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {DisputeGame} from "./DisputeGame.sol";
import {IDisputeGame} from "./interfaces/IDisputeGame.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {ILlmStepProver} from "./interfaces/ILlmStepProver.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IOneStepProver} from "./interfaces/IOneStepProver.sol";
import {IVouchConsumer} from "./interfaces/IVouchConsumer.sol";
import {
    CallbackGasOutOfRange,
    ChallengeWindowOpen,
    DeadlineInPast,
    DeadlineNotReached,
    GamesOpen,
    InputLengthMismatch,
    InsufficientCallbackGas,
    JobExpired,
    JobNotOpen,
    JobNotSettled,
    JobNotSubmitted,
    ModelNotActive,
    NotCurrentResult,
    NotGame,
    NothingToWithdraw,
    OutputLengthMismatch,
    OutputRootMismatch,
    TransferFailed,
    UnknownJob,
    WrongBond,
    WrongFee,
    ZeroRegistry
} from "./lib/Errors.sol";
import {Guarded} from "./lib/Guarded.sol";
import {LibLlmJob} from "./lib/LibLlmJob.sol";
import {LibTensor} from "./lib/LibTensor.sol";
import {Job, JobStatus, LlmLayout, MarketConfig, ModelKind, ModelStatus, TensorShape} from "./lib/Types.sol";

/// @title JobMarket
/// @notice Posts jobs, takes results with bonds and settles the ones that stand after the challenge window
/// (PROTOCOL §5.2). Results are disputed in the market's own `DisputeGame` (PROTOCOL §6), which the constructor deploys.
/// @dev Solvency: `address(this).balance` == Σ credits + Σ fee of Open and Submitted jobs + Σ bond of Submitted
/// jobs, a job's fee being all it escrowed (a language-model job's most, `P·perInputToken + maxNew·perOutputToken`).
/// Every transition moves an amount from one term to another (`finalize` splits fee + bond exactly into the worker's,
/// the owner's and, for unused tokens, the poster's credits; `refundExpired` moves the whole fee to the poster's);
/// only `postJob`, `submitResult`, `creditFromGame` (in), `overturn` (out, to the game) and `withdraw` (out) change
/// the balance, each by exactly the term it changes. The game keeps its own books (challenger bonds, pools owed,
/// burned wei). A consumer callback (PROTOCOL §5.4) runs last in `finalize`, after every state change and credit,
/// under the reentrancy lock, with exactly its gas limit and no return data copied: nothing it does can undo or block
/// a settlement.
contract JobMarket is IJobMarket, Guarded {
    /// @notice Basis points in 100 %.
    uint256 internal constant BPS = 10_000;

    /// @notice The most gas a job's callback may ask for (`maxCallbackGas()`).
    uint32 internal constant MAX_CALLBACK_GAS = 1_000_000;

    /// @notice Gas kept on top of a callback's limit and its 1/64 (EIP-150) when `finalize` checks `gasleft()`: the
    /// CALL itself (a cold account, 2,600) and what follows it (the `CallbackDelivered` log).
    uint256 internal constant CALLBACK_GAS_RESERVE = 10_000;

    /// @notice A language-model job as stored: its layout (`LlmLayout`'s fields) and the per-output-token price it
    /// escrowed at, in one slot (the registry bounds every price by 2^128 − 1).
    struct LlmJobRecord {
        uint32 prompt;
        uint32 maxNew;
        uint32 generated;
        uint128 perOutputToken;
    }

    /// @inheritdoc IJobMarket
    IModelRegistry public immutable registry;

    /// @inheritdoc IJobMarket
    uint64 public immutable challengeWindow;

    /// @inheritdoc IJobMarket
    uint256 public immutable resultBond;

    /// @inheritdoc IJobMarket
    IDisputeGame public immutable game;

    /// @inheritdoc IJobMarket
    uint256 public jobCount;

    /// @inheritdoc IJobMarket
    mapping(address account => uint256) public credits;

    /// @inheritdoc IJobMarket
    mapping(uint256 jobId => uint32) public callbackGasLimit;

    mapping(uint256 jobId => Job) internal _jobs;

    /// @notice The layout of every language-model job (zero for a tensor job): prompt, budget and per-output-token
    /// price when posted, the current result's length when submitted.
    mapping(uint256 jobId => LlmJobRecord) internal _llmJobs;

    /// @notice The output of the current result of a callback job (what `finalize` hands the consumer).
    mapping(uint256 jobId => bytes) internal _callbackOutput;

    /// @notice Deploys the market and its dispute game (which checks the game parameters of `config`).
    constructor(
        IModelRegistry registry_,
        IOneStepProver prover_,
        ILlmStepProver llmProver_,
        MarketConfig memory config
    ) {
        // INVARIANT: the market always has a registry to read models from.
        if (address(registry_) == address(0)) revert ZeroRegistry();
        registry = registry_;
        challengeWindow = config.challengeWindow;
        resultBond = config.resultBond;
        game = new DisputeGame(registry_, prover_, llmProver_, config);
    }

    modifier onlyGame() {
        // INVARIANT: only the market's own game moves game money into credits or voids a result.
        if (msg.sender != address(game)) revert NotGame(msg.sender);
        _;
    }

    /// @inheritdoc IJobMarket
    function postJob(uint256 modelId, bytes calldata input, uint64 deadline)
        external
        payable
        nonReentrant
        returns (uint256 jobId)
    {
        return _post(modelId, input, deadline);
    }

    /// @inheritdoc IJobMarket
    function postJobWithCallback(uint256 modelId, bytes calldata input, uint64 deadline, uint32 gasLimit)
        external
        payable
        nonReentrant
        returns (uint256 jobId)
    {
        // INVARIANT: a callback has some gas and never more than a finalizer can be asked to supply.
        if (gasLimit == 0 || gasLimit > MAX_CALLBACK_GAS) revert CallbackGasOutOfRange(gasLimit, MAX_CALLBACK_GAS);
        jobId = _post(modelId, input, deadline);
        callbackGasLimit[jobId] = gasLimit;
        emit CallbackRequested(jobId, msg.sender, gasLimit);
    }

    /// @inheritdoc IJobMarket
    function submitResult(uint256 jobId, bytes32 outputRoot, bytes32 traceRoot, bytes calldata output)
        external
        payable
        nonReentrant
    {
        Job storage job = _requireJob(jobId);
        // INVARIANT: one result per job.
        if (job.status != JobStatus.Open) revert JobNotOpen(jobId, job.status);
        // INVARIANT: a result arrives strictly before the deadline (refunds start at the deadline).
        if (block.timestamp >= job.deadline) revert JobExpired(jobId, job.deadline);
        // INVARIANT: every result is backed by exactly one bond.
        if (msg.value != resultBond) revert WrongBond(msg.value, resultBond);
        uint256 rowLen = job.outputRowLen;
        LlmJobRecord storage layout = _llmJobs[jobId];
        if (layout.prompt != 0) {
            // INVARIANT: a language model's answer is one row of ids greedy decoding could produce.
            layout.generated = LibLlmJob.checkAnswer(registry.llmConfig(job.modelId), layout.maxNew, output);
            rowLen = output.length;
        } else if (output.length != job.outputLen) {
            // INVARIANT: the output has the model's shape.
            revert OutputLengthMismatch(output.length, job.outputLen);
        }
        bytes32 computed = LibTensor.tensorRoot(output, rowLen);
        // INVARIANT: the output root is the output's, so the posted bytes are what a dispute is about.
        if (computed != outputRoot) revert OutputRootMismatch(computed, outputRoot);

        uint64 submittedAt = uint64(block.timestamp);
        job.attempt += 1;
        job.status = JobStatus.Submitted;
        job.worker = msg.sender;
        job.submittedAt = submittedAt;
        job.bond = msg.value;
        job.outputRoot = outputRoot;
        job.traceRoot = traceRoot;
        // A callback job keeps its output for `finalize` to hand over (overwritten by the next attempt's).
        if (callbackGasLimit[jobId] != 0) _callbackOutput[jobId] = output;
        emit ResultSubmitted(jobId, job.attempt, msg.sender, outputRoot, traceRoot, output, submittedAt);
    }

    /// @inheritdoc IJobMarket
    function finalize(uint256 jobId) external nonReentrant {
        Job storage job = _requireJob(jobId);
        // INVARIANT: only a submitted result settles, and exactly once.
        if (job.status != JobStatus.Submitted) revert JobNotSubmitted(jobId, job.status);
        uint64 endsAt = job.submittedAt + challengeWindow;
        // INVARIANT: a result settles only after its whole challenge window (`<` challenges, `>=` settles).
        if (block.timestamp < endsAt) revert ChallengeWindowOpen(jobId, endsAt);
        uint32 open = game.openGames(jobId, job.attempt);
        // INVARIANT: a result settles only once every game on it is decided (a lost game re-opens the job).
        if (open != 0) revert GamesOpen(jobId, open);

        uint256 fee = job.fee;
        // A language-model job (no output shape: its output is as long as its answer) is charged for the tokens its
        // settled answer generated; the rest of its escrow goes back to the poster.
        if (job.outputLen == 0) fee -= _refundUnusedTokens(jobId, job.poster);
        uint256 royalty = fee * job.royaltyBps / BPS;
        uint256 workerPayout = fee - royalty + job.bond;
        address worker = job.worker;
        bytes32 outputRoot = job.outputRoot;
        job.status = JobStatus.Settled;
        credits[worker] += workerPayout;
        credits[job.modelOwner] += royalty;
        emit JobSettled(jobId, job.attempt, worker, outputRoot, workerPayout, royalty);
        uint32 gasLimit = callbackGasLimit[jobId];
        // Last, after every state change and credit: the consumer's callback (PROTOCOL §5.4).
        if (gasLimit != 0) _deliver(jobId, job.poster, gasLimit, outputRoot);
    }

    /// @inheritdoc IJobMarket
    function refundExpired(uint256 jobId) external nonReentrant {
        Job storage job = _requireJob(jobId);
        // INVARIANT: only a job without a result is refunded, and exactly once.
        if (job.status != JobStatus.Open) revert JobNotOpen(jobId, job.status);
        // INVARIANT: the poster gets its fee back only once no result can arrive any more.
        if (block.timestamp < job.deadline) revert DeadlineNotReached(jobId, job.deadline);

        uint256 amount = job.fee;
        job.status = JobStatus.Expired;
        credits[job.poster] += amount;
        emit JobRefunded(jobId, job.poster, amount);
    }

    /// @inheritdoc IJobMarket
    function withdraw() external nonReentrant {
        uint256 amount = credits[msg.sender];
        // INVARIANT: a withdrawal moves money.
        if (amount == 0) revert NothingToWithdraw();
        // INVARIANT: the credit is gone before any money leaves (checks-effects-interactions).
        credits[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        // INVARIANT: a failed transfer reverts, restoring the credit.
        if (!ok) revert TransferFailed();
    }

    /// @inheritdoc IJobMarket
    function getJob(uint256 jobId) external view returns (Job memory) {
        return _requireJob(jobId);
    }

    /// @inheritdoc IJobMarket
    function maxCallbackGas() external pure returns (uint32) {
        return MAX_CALLBACK_GAS;
    }

    /// @inheritdoc IJobMarket
    function settledOutputRoot(uint256 jobId) external view returns (bytes32) {
        Job storage job = _requireJob(jobId);
        // INVARIANT: only a settled output is final (an Open or Submitted one can still be overturned).
        if (job.status != JobStatus.Settled) revert JobNotSettled(jobId, job.status);
        return job.outputRoot;
    }

    /// @inheritdoc IJobMarket
    function isSettledOutput(uint256 jobId, bytes calldata output) external view returns (bool) {
        Job storage job = _jobs[jobId];
        uint256 generated = _llmJobs[jobId].generated;
        // The length check first: the tensor root of bytes of the output's length cannot revert.
        if (generated != 0) {
            return job.status == JobStatus.Settled && output.length == 4 * generated
                && LibTensor.tensorRoot(output, output.length) == job.outputRoot;
        }
        return job.status == JobStatus.Settled && output.length == job.outputLen
            && LibTensor.tensorRoot(output, job.outputRowLen) == job.outputRoot;
    }

    /// @inheritdoc IJobMarket
    function llmLayout(uint256 jobId) external view returns (LlmLayout memory) {
        _requireJob(jobId);
        LlmJobRecord storage record = _llmJobs[jobId];
        return LlmLayout({prompt: record.prompt, maxNew: record.maxNew, generated: record.generated});
    }

    /// @inheritdoc IJobMarket
    function outputTokenPrice(uint256 jobId) external view returns (uint256) {
        return _llmJobs[jobId].perOutputToken;
    }

    /// @inheritdoc IJobMarket
    function tensorRoot(bytes calldata data, uint256 rowLen) external pure returns (bytes32) {
        return LibTensor.tensorRoot(data, rowLen);
    }

    /// @inheritdoc IJobMarket
    function jobState(uint256 jobId) external view returns (JobStatus status, uint32 attempt, uint256 modelId) {
        Job storage job = _requireJob(jobId);
        return (job.status, job.attempt, job.modelId);
    }

    /// @inheritdoc IJobMarket
    function creditFromGame(address account) external payable onlyGame nonReentrant {
        credits[account] += msg.value;
    }

    /// @inheritdoc IJobMarket
    function overturn(uint256 jobId, uint32 attempt) external onlyGame nonReentrant returns (uint256 bond) {
        Job storage job = _requireJob(jobId);
        // INVARIANT: only the job's current, submitted result is voided (its bond is still escrowed here).
        if (job.status != JobStatus.Submitted || job.attempt != attempt) revert NotCurrentResult(jobId, attempt);
        bond = job.bond;
        // The fee stays escrowed for the next worker (or the poster's refund at the deadline).
        job.status = JobStatus.Open;
        job.worker = address(0);
        job.submittedAt = 0;
        job.bond = 0;
        job.outputRoot = bytes32(0);
        job.traceRoot = bytes32(0);
        (bool ok,) = address(game).call{value: bond}("");
        // INVARIANT: the bond reaches the game, or nothing changes.
        if (!ok) revert TransferFailed();
    }

    /// @notice Posts a job for `msg.sender` (PROTOCOL §5.2): checks the model's terms, escrows the fee, snapshots
    /// the terms and commits to the input.
    function _post(uint256 modelId, bytes calldata input, uint64 deadline) internal returns (uint256 jobId) {
        // INVARIANT: a worker has time to answer.
        if (deadline <= block.timestamp) revert DeadlineInPast(deadline, block.timestamp);
        jobId = ++jobCount;
        Job storage job = _jobs[jobId];
        (ModelKind kind, TensorShape memory inShape) = _snapshotTerms(job, modelId);
        bytes32 inputRoot =
            kind == ModelKind.Llm ? _postPrompt(job, jobId, modelId, input) : _tensorInputRoot(inShape, input);
        job.modelId = modelId;
        job.poster = msg.sender;
        job.deadline = deadline;
        job.status = JobStatus.Open;
        job.inputRoot = inputRoot;
        emit JobPosted(jobId, modelId, msg.sender, job.fee, deadline, inputRoot, input);
    }

    /// @notice Checks that model `modelId` takes jobs and, for a tensor model, that `msg.value` is its fee, and
    /// snapshots its terms into `job` (later repricing or retirement does not touch the job), a tensor model's fee
    /// escrowed (a language model's job is priced by its prompt, `_postPrompt`). Returns the model's kind and input
    /// shape.
    function _snapshotTerms(Job storage job, uint256 modelId)
        internal
        returns (ModelKind kind, TensorShape memory inShape)
    {
        ModelStatus status;
        address owner;
        TensorShape memory outShape;
        uint256 fee;
        uint16 royaltyBps;
        (status, owner, inShape, outShape, fee, royaltyBps, kind) = registry.modelTerms(modelId);
        // INVARIANT: jobs run only on models whose published weights reproduce their root.
        if (status != ModelStatus.Active) revert ModelNotActive(modelId, status);
        if (kind == ModelKind.Tensor) {
            // INVARIANT: the escrow holds exactly the model's fee.
            if (msg.value != fee) revert WrongFee(msg.value, fee);
            job.fee = fee;
        }
        job.modelOwner = owner;
        job.royaltyBps = royaltyBps;
        job.outputLen = outShape.h * outShape.w * outShape.c;
        job.outputRowLen = outShape.c;
    }

    /// @notice Checks a tensor job's input against the model's input shape and returns its root, over rows of `c`.
    function _tensorInputRoot(TensorShape memory inShape, bytes calldata input) internal pure returns (bytes32) {
        // INVARIANT: the input has the model's shape (its root commits to data only). The registry bounds every
        // element count by 2^22, so neither product overflows, and the output's fits uint32.
        uint256 inputLen = uint256(inShape.h) * inShape.w * inShape.c;
        if (input.length != inputLen) revert InputLengthMismatch(input.length, inputLen);
        return LibTensor.tensorRoot(input, inShape.c);
    }

    /// @notice Checks language-model job `jobId`'s prompt against model `modelId`, records its layout, escrows its most
    /// `P·perInputToken + maxNew·perOutputToken` at the model's current prices (snapshotting the per-output price
    /// for `finalize`'s refund of unused tokens) and returns the input's root, over one row.
    function _postPrompt(Job storage job, uint256 jobId, uint256 modelId, bytes calldata input)
        internal
        returns (bytes32)
    {
        // INVARIANT: a language-model job is a prompt whose every position fits the model (its input is one row of
        // int32s; its output's length is the answer's, checked at submission).
        (uint32 prompt, uint32 maxNew) = LibLlmJob.checkPrompt(registry.llmConfig(modelId), input);
        (uint256 perInput, uint256 perOutput) = registry.llmPrices(modelId);
        // The registry bounds both prices by 2^128 − 1 and P + maxNew ≤ 1025: no overflow.
        uint256 escrow = prompt * perInput + maxNew * perOutput;
        // INVARIANT: the escrow holds exactly the most the job can cost (every budgeted token generated).
        if (msg.value != escrow) revert WrongFee(msg.value, escrow);
        job.fee = escrow;
        // casting to 'uint128' is safe because the registry bounds every price by 2^128 − 1 (MAX_TOKEN_PRICE).
        // forge-lint: disable-next-line(unsafe-typecast)
        uint128 perOutputToken = uint128(perOutput);
        _llmJobs[jobId] = LlmJobRecord({prompt: prompt, maxNew: maxNew, generated: 0, perOutputToken: perOutputToken});
        return LibTensor.tensorRoot(input, input.length);
    }

    /// @notice For a language-model job being settled, credits `poster` the price of the tokens its budget allowed but
    /// the settled answer did not use, `(maxNew − G)·perOutputToken` at the posted price (`UnusedTokensRefunded`,
    /// when nonzero), and returns it.
    function _refundUnusedTokens(uint256 jobId, address poster) internal returns (uint256 refund) {
        LlmJobRecord storage record = _llmJobs[jobId];
        // A submitted answer has 1 ≤ G ≤ maxNew ids (`checkAnswer`), so this never underflows.
        uint32 unused = record.maxNew - record.generated;
        // At most the escrow's `maxNew·perOutputToken` part.
        refund = uint256(unused) * record.perOutputToken;
        if (refund != 0) {
            credits[poster] += refund;
            emit UnusedTokensRefunded(jobId, poster, unused, refund);
        }
    }

    /// @notice Calls the consumer of settled job `jobId` with exactly `gasLimit` gas and reports the outcome. The call
    /// is raw (no code-size check, no return data copied), so neither a missing contract, a revert, a return-data
    /// bomb nor an out-of-gas can make `finalize` revert; re-entering the market fails on the lock.
    function _deliver(uint256 jobId, address consumer, uint256 gasLimit, bytes32 outputRoot) internal {
        bytes memory data = abi.encodeCall(IVouchConsumer.onVouchResult, (jobId, _callbackOutput[jobId], outputRoot));
        // INVARIANT: the finalizer cannot starve the callback: the CALL forwards at most 63/64 of what is left
        // (EIP-150), so it needs `gasLimit + gasLimit / 63 + 1` after its own cost, which the reserve covers.
        uint256 required = gasLimit + gasLimit / 63 + CALLBACK_GAS_RESERVE;
        if (gasleft() < required) revert InsufficientCallbackGas(gasleft(), required);
        bool success;
        assembly ("memory-safe") {
            success := call(gasLimit, consumer, 0, add(data, 0x20), mload(data), 0, 0)
        }
        emit CallbackDelivered(jobId, consumer, success);
    }

    /// @notice The job with this id; reverts `UnknownJob` for an id never posted.
    function _requireJob(uint256 jobId) internal view returns (Job storage job) {
        job = _jobs[jobId];
        // INVARIANT: only posted jobs are read or changed.
        if (job.status == JobStatus.None) revert UnknownJob(jobId);
    }
}
