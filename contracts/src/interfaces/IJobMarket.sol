// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {Job, JobStatus, LlmLayout} from "../lib/Types.sol";
import {IDisputeGame} from "./IDisputeGame.sol";
import {IModelRegistry} from "./IModelRegistry.sol";

/// @title IJobMarket
/// @notice Inference jobs with optimistic verification (PROTOCOL §5.2). A poster escrows the model's fee
/// with the input bytes; a worker posts the output (hashed on chain), a trace root and a bond; after the
/// challenge window anyone finalizes: the worker is credited the fee minus the owner's royalty plus its bond.
/// Results are disputed in the market's own `DisputeGame` (`game()`, deployed by the constructor), which credits
/// its parties here. Money leaves only through `withdraw` (pull payments). A contract can post a job with a callback
/// (`postJobWithCallback`, `IVouchConsumer`) and anyone can check output bytes against a settled job
/// (`isSettledOutput`, `settledOutputRoot`), PROTOCOL §5.4.
/// @dev Every error a market call can return is in this contract's ABI: the market's own (lib/Errors.sol, used in
/// its code) and, declared below with the same signatures, the ones it passes through unchanged from the contracts it
/// calls (`scripts/check-errors.js` checks the list is complete).
interface IJobMarket {
    // -----------------------------------------------------------------------------------------------------
    // Errors passed through from the contracts the market calls (same signatures as in lib/Errors.sol)
    // -----------------------------------------------------------------------------------------------------

    /// @notice `postJob`/`postJobWithCallback`: no model has this id (from `ModelRegistry.modelTerms`).
    error UnknownModel(uint256 modelId);

    /// @notice From `ModelRegistry.llmConfig`, read only for language models (so never raised): not a language model.
    error NotLlm(uint256 modelId);

    /// @notice Constructor: the prover address is zero (from the `DisputeGame` constructor).
    error ZeroProver();

    /// @notice Constructor: `burnBps` must lie in [min, 10_000] (from the `DisputeGame` constructor).
    error BurnTooLow(uint16 burnBps, uint16 min);

    /// @notice Constructor: the clock extension is zero (from the `DisputeGame` constructor).
    error ZeroClockExtension();

    /// @notice Constructor: `resultBond` or `moveReward` is 2^128 wei or more (from the `DisputeGame` constructor).
    error AmountTooLarge(uint256 amount);

    // -----------------------------------------------------------------------------------------------------
    // Events
    // -----------------------------------------------------------------------------------------------------

    /// @notice A job was posted.
    /// @param fee The escrowed fee, in wei: the model's fee when posted, or for a language model the job's most,
    /// `P·perInputToken + maxNew·perOutputToken` at its prices when posted.
    /// @param deadline A result must be submitted while `block.timestamp < deadline`.
    /// @param inputRoot `tensorRoot(input, c)`, `c` the model's input row length.
    /// @param input The full input tensor, row-major.
    event JobPosted(
        uint256 indexed jobId,
        uint256 indexed modelId,
        address indexed poster,
        uint256 fee,
        uint64 deadline,
        bytes32 inputRoot,
        bytes input
    );

    /// @notice Job `jobId` (just posted, `JobPosted` precedes this in the same transaction) will call
    /// `IVouchConsumer(consumer).onVouchResult` with `gasLimit` gas when it settles. Its worker stores the output
    /// bytes with the result (`submitResult` costs about 22,100 gas more per 32 bytes of output).
    event CallbackRequested(uint256 indexed jobId, address indexed consumer, uint32 gasLimit);

    /// @notice A worker submitted result number `attempt` of the job with its bond; the challenge window runs from
    /// `submittedAt`. After an overturn the job has several of these: the settled one is the one whose `attempt`
    /// and `outputRoot` `JobSettled` names.
    /// @param outputRoot `tensorRoot(output, c)`, `c` the model's output row length.
    /// @param traceRoot leaf(0x03, worker ‖ σ_n) (PROTOCOL §3).
    /// @param output The full output tensor, row-major.
    event ResultSubmitted(
        uint256 indexed jobId,
        uint32 attempt,
        address indexed worker,
        bytes32 outputRoot,
        bytes32 traceRoot,
        bytes output,
        uint64 submittedAt
    );

    /// @notice Result number `attempt` of the job settled: `outputRoot` is final (`isSettledOutput` checks bytes
    /// against it), the worker was credited `workerPayout` (fee − royalty + bond) and the model owner `royalty`. For a
    /// language-model job the fee is what the settled answer of G tokens costs, `P·perInputToken + G·perOutputToken`;
    /// the rest of the escrow was credited to the poster (`UnusedTokensRefunded`, just before, when nonzero).
    event JobSettled(
        uint256 indexed jobId,
        uint32 attempt,
        address indexed worker,
        bytes32 outputRoot,
        uint256 workerPayout,
        uint256 royalty
    );

    /// @notice The settled job's callback ran (`success`) or reverted, ran out of gas or re-entered the market
    /// (`!success`); either way the job stays Settled and every credit stands. Emitted once, by `finalize`, for a job
    /// posted with `postJobWithCallback`.
    event CallbackDelivered(uint256 indexed jobId, address indexed consumer, bool success);

    /// @notice A language-model job settled with an answer of G < maxNew tokens: the poster was credited `amount` =
    /// `unusedTokens · perOutputToken` (`unusedTokens` = maxNew − G, at the price the job was posted at) of its escrow.
    /// Emitted by `finalize`, before `JobSettled`, when `amount` is nonzero; `workerPayout + royalty + amount` of the
    /// two events is the job's escrow plus the worker's bond, to the wei.
    event UnusedTokensRefunded(uint256 indexed jobId, address indexed poster, uint32 unusedTokens, uint256 amount);

    /// @notice A job expired without a result and its fee was credited back to the poster.
    event JobRefunded(uint256 indexed jobId, address indexed poster, uint256 amount);

    /// @notice `account` withdrew its whole credit.
    event Withdrawn(address indexed account, uint256 amount);

    // -----------------------------------------------------------------------------------------------------
    // Jobs
    // -----------------------------------------------------------------------------------------------------

    /// @notice The model registry jobs are posted against.
    function registry() external view returns (IModelRegistry);

    /// @notice Seconds after `submittedAt` during which a result can be challenged.
    function challengeWindow() external view returns (uint64);

    /// @notice The bond, in wei, a worker escrows with every result.
    function resultBond() external view returns (uint256);

    /// @notice The most gas a job's callback may ask for (`postJobWithCallback`).
    function maxCallbackGas() external view returns (uint32);

    /// @notice Posts a job on an Active model, escrowing its fee (`msg.value` must equal it, else `WrongFee`): a
    /// tensor model's fee, or for a language model the job's most, `P·perInputToken + maxNew·perOutputToken` at the
    /// model's `llmPrices` (PROTOCOL §7.2). Reverts `UnknownModel` for an id never registered, `ModelNotActive` for a Pending or Retired model.
    /// @param modelId The model to run.
    /// @param input The input tensor, row-major: exactly `h·w·c` bytes of the model's input shape (else
    /// `InputLengthMismatch`); the contract computes its root `tensorRoot(input, c)`. For a language model
    /// (docs/LLM_INT.md §8.1): the int32 row `[maxNew, ids…]` (big-endian) with at least one id (else `PromptLength`),
    /// `maxNew` ≥ 1 and `P + maxNew − 1` ≤ the model's context (else `TokenBudget`), every id below its vocabulary
    /// (else `TokenOutOfRange`); its root is `tensorRoot(input, input.length)`, one row.
    /// @param deadline A result must be submitted before this timestamp; must lie in the future (else
    /// `DeadlineInPast`).
    /// @return jobId The new job's id; ids start at 1.
    function postJob(uint256 modelId, bytes calldata input, uint64 deadline) external payable returns (uint256 jobId);

    /// @notice `postJob`, and when the job settles `finalize` calls `IVouchConsumer(msg.sender).onVouchResult` with
    /// exactly `gasLimit` gas (PROTOCOL §5.4). The caller is the job's poster and consumer (a refund is credited to
    /// it). Reverts `CallbackGasOutOfRange` unless `1 ≤ gasLimit ≤ maxCallbackGas()`, and as `postJob`.
    /// @param gasLimit The gas the callback gets; the finalizer must send enough for it (`InsufficientCallbackGas`).
    /// @return jobId The new job's id.
    function postJobWithCallback(uint256 modelId, bytes calldata input, uint64 deadline, uint32 gasLimit)
        external
        payable
        returns (uint256 jobId);

    /// @notice Submits the result of an Open job before its deadline, escrowing the result bond
    /// (`msg.value` must equal `resultBond`, else `WrongBond`). The caller becomes the job's worker. Reverts
    /// `UnknownJob`, `JobNotOpen` (status not Open), `JobExpired` (at or past the deadline).
    /// @param jobId The job answered.
    /// @param outputRoot Must equal `tensorRoot(output, c)`, `c` the model's output row length when the job was
    /// posted (else `OutputRootMismatch`).
    /// @param traceRoot leaf(0x03, worker ‖ σ_n), σ_n the final state of the run (PROTOCOL §3); checked only in a
    /// dispute, where only the account that posted it can open it.
    /// @param output The output tensor, row-major: exactly `h·w·c` bytes of the model's output shape when the job
    /// was posted (else `OutputLengthMismatch`). Stored for a callback job (the callback receives it). For a language
    /// model: the generated ids, int32 big-endian, 1 to `maxNew` of them (else `AnswerLength`), each in the vocabulary,
    /// only the last one eos, and the last one eos unless there are `maxNew` (else `AnswerToken`); its root is over one
    /// row, `tensorRoot(output, output.length)`.
    function submitResult(uint256 jobId, bytes32 outputRoot, bytes32 traceRoot, bytes calldata output) external payable;

    /// @notice Settles a submitted result once `block.timestamp >= submittedAt + challengeWindow` (else
    /// `ChallengeWindowOpen`) and no game on it is open (else `GamesOpen`). Anyone. Reverts `UnknownJob`,
    /// `JobNotSubmitted` (status not Submitted). For a callback job, after every credit is booked, calls the
    /// consumer with its gas limit; the transaction must carry enough gas for that (else `InsufficientCallbackGas`),
    /// and whatever the callback does, the settlement stands (`CallbackDelivered`). A language-model job whose answer
    /// has G < maxNew tokens is charged `P·perInputToken + G·perOutputToken` (the royalty is on that) and the rest of
    /// its escrow is credited to the poster in the same call (`UnusedTokensRefunded`).
    function finalize(uint256 jobId) external;

    /// @notice Credits the whole escrowed fee of an Open job back to its poster once `block.timestamp >= deadline` (else
    /// `DeadlineNotReached`). Anyone. Reverts `UnknownJob`, `JobNotOpen` (status not Open).
    function refundExpired(uint256 jobId) external;

    /// @notice Sends the caller its whole credit. Reverts `NothingToWithdraw` for a zero credit, `TransferFailed` if
    /// the caller refuses the ether (the credit stays).
    function withdraw() external;

    /// @notice The amount `account` can withdraw, in wei.
    function credits(address account) external view returns (uint256);

    /// @notice The job with this id; reverts `UnknownJob` for an id never posted. `Job.status` is a `JobStatus`
    /// (ABI `uint8`): 0 None (never posted), 1 Open (waiting for a result), 2 Submitted (in its challenge window or
    /// disputed), 3 Settled (final), 4 Expired (refunded).
    function getJob(uint256 jobId) external view returns (Job memory);

    /// @notice The number of jobs ever posted (the highest id).
    function jobCount() external view returns (uint256);

    /// @notice What the dispute game reads of a job on every reveal and step (cheaper than `getJob`): its status,
    /// its current result number and its model. Reverts `UnknownJob` for an id never posted.
    /// @return status 0 None, 1 Open, 2 Submitted, 3 Settled, 4 Expired (`JobStatus`, ABI `uint8`).
    function jobState(uint256 jobId) external view returns (JobStatus status, uint32 attempt, uint256 modelId);

    /// @notice A language-model job's layout (docs/LLM_INT.md §8.1): its prompt length P and token budget `maxNew`,
    /// and the current result's length G (zero while the job has no result). All zero for a tensor job. Reverts
    /// `UnknownJob` for an id never posted.
    function llmLayout(uint256 jobId) external view returns (LlmLayout memory);

    /// @notice The callback gas limit of a job posted with `postJobWithCallback`; zero for a job without a callback.
    function callbackGasLimit(uint256 jobId) external view returns (uint32);

    /// @notice The per-generated-token price, in wei, a language-model job escrowed at when posted (the model's
    /// `perOutputToken` then; later repricing does not change it): `finalize` refunds the poster this much per unused
    /// token of the budget. Zero for a tensor job and for a job never posted.
    function outputTokenPrice(uint256 jobId) external view returns (uint256);

    // -----------------------------------------------------------------------------------------------------
    // Settled outputs (what a consumer contract reads)
    // -----------------------------------------------------------------------------------------------------

    /// @notice The output root of a settled job: `tensorRoot(output, c)` of the settled output. Reverts `UnknownJob`
    /// for an id never posted, `JobNotSettled` for any other status (an Open or Submitted result can still be
    /// overturned).
    function settledOutputRoot(uint256 jobId) external view returns (bytes32);

    /// @notice Whether `output` is exactly the settled output of job `jobId`: true iff the job is Settled, `output`
    /// has the model's output length and its tensor root is the settled output root. Never reverts: false for an
    /// unknown, unsettled or expired job. A contract handed the bytes off chain (e.g. from the `ResultSubmitted` log
    /// of the settled attempt) checks them here.
    function isSettledOutput(uint256 jobId, bytes calldata output) external view returns (bool);

    /// @notice The tensor root (PROTOCOL §3) of `data` in rows of `rowLen` bytes (a shape's `c`), as the contract
    /// computes it. Reverts `EmptyTree` for empty data, `RaggedTensor` if `rowLen` is zero or does not divide
    /// `data.length`.
    function tensorRoot(bytes calldata data, uint256 rowLen) external pure returns (bytes32);

    // -----------------------------------------------------------------------------------------------------
    // Dispute game
    // -----------------------------------------------------------------------------------------------------

    /// @notice The dispute game of this market (PROTOCOL §6), deployed by its constructor.
    function game() external view returns (IDisputeGame);

    /// @notice Game only (else `NotGame`): adds `msg.value` to what `account` can withdraw (the game pays its parties
    /// here).
    function creditFromGame(address account) external payable;

    /// @notice Game only (else `NotGame`), when the worker of result `attempt` of `jobId` lost a game: voids the
    /// result, re-opens the job (the fee stays escrowed, the deadline stands) and sends the worker's bond to the game.
    /// Reverts `NotCurrentResult` unless that result is the job's current, Submitted one.
    /// @return bond The worker's bond, in wei, sent to the game.
    function overturn(uint256 jobId, uint32 attempt) external returns (uint256 bond);
}
