// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {Job, JobStatus} from "../lib/Types.sol";
import {IDisputeGame} from "./IDisputeGame.sol";
import {IModelRegistry} from "./IModelRegistry.sol";

/// @title IJobMarket
/// @notice Inference jobs with optimistic verification (PROTOCOL §5.2). A poster escrows the model's fee
/// with the input bytes; a worker posts the output (hashed on chain), a trace root and a bond; after the
/// challenge window anyone finalizes: the worker is credited the fee minus the owner's royalty plus its bond.
/// Results are disputed in the market's own `DisputeGame` (`game()`, deployed by the constructor), which credits
/// its parties here. Money leaves only through `withdraw` (pull payments).
interface IJobMarket {
    /// @notice A job was posted; `input` is the full input tensor, `inputRoot` its tensor root (rows of the
    /// model's input `c` bytes).
    event JobPosted(
        uint256 indexed jobId,
        uint256 indexed modelId,
        address indexed poster,
        uint256 fee,
        uint64 deadline,
        bytes32 inputRoot,
        bytes input
    );

    /// @notice A worker submitted result number `attempt` of the job with its bond; the challenge window runs from
    /// `submittedAt`.
    event ResultSubmitted(
        uint256 indexed jobId,
        uint32 attempt,
        address indexed worker,
        bytes32 outputRoot,
        bytes32 traceRoot,
        bytes output,
        uint64 submittedAt
    );

    /// @notice The result settled: the worker was credited `workerPayout` (fee − royalty + bond) and the model
    /// owner `royalty`.
    event JobSettled(uint256 indexed jobId, address indexed worker, uint256 workerPayout, uint256 royalty);

    /// @notice A job expired without a result and its fee was credited back to the poster.
    event JobRefunded(uint256 indexed jobId, address indexed poster, uint256 amount);

    /// @notice `account` withdrew its whole credit.
    event Withdrawn(address indexed account, uint256 amount);

    /// @notice The model registry jobs are posted against.
    function registry() external view returns (IModelRegistry);

    /// @notice Seconds after `submittedAt` during which a result can be challenged.
    function challengeWindow() external view returns (uint64);

    /// @notice The bond, in wei, a worker escrows with every result.
    function resultBond() external view returns (uint256);

    /// @notice Posts a job on an Active model, escrowing its fee (`msg.value` must equal it).
    /// @param input The input tensor, row-major: exactly `h·w·c` bytes of the model's input shape (else
    /// `InputLengthMismatch`); the contract computes its root `tensorRoot(input, c)`.
    /// @param deadline A result must be submitted before this timestamp; must lie in the future.
    /// @return jobId The new job's id; ids start at 1.
    function postJob(uint256 modelId, bytes calldata input, uint64 deadline) external payable returns (uint256 jobId);

    /// @notice Submits the result of an Open job before its deadline, escrowing the result bond
    /// (`msg.value` must equal `resultBond`). The caller becomes the job's worker.
    /// @param outputRoot Must equal `tensorRoot(output, c)`, `c` the model's output row length when the job was
    /// posted (else `OutputRootMismatch`).
    /// @param traceRoot leaf(0x03, worker ‖ σ_n), σ_n the final state of the run (PROTOCOL §3); checked only in a
    /// dispute, where only the account that posted it can open it.
    /// @param output The output tensor, row-major: exactly `h·w·c` bytes of the model's output shape when the job
    /// was posted (else `OutputLengthMismatch`).
    function submitResult(uint256 jobId, bytes32 outputRoot, bytes32 traceRoot, bytes calldata output) external payable;

    /// @notice Settles a submitted result once `block.timestamp >= submittedAt + challengeWindow` and no game on it is
    /// open (else `GamesOpen`). Anyone.
    function finalize(uint256 jobId) external;

    /// @notice Credits the fee of an Open job back to its poster once `block.timestamp >= deadline`. Anyone.
    function refundExpired(uint256 jobId) external;

    /// @notice Sends the caller its whole credit.
    function withdraw() external;

    /// @notice The amount `account` can withdraw, in wei.
    function credits(address account) external view returns (uint256);

    /// @notice The job with this id; reverts `UnknownJob` for an id never posted.
    function getJob(uint256 jobId) external view returns (Job memory);

    /// @notice The number of jobs ever posted (the highest id).
    function jobCount() external view returns (uint256);

    /// @notice What the dispute game reads of a job on every reveal and step (cheaper than `getJob`): its status,
    /// its current result number and its model. Reverts `UnknownJob` for an id never posted.
    function jobState(uint256 jobId) external view returns (JobStatus status, uint32 attempt, uint256 modelId);

    /// @notice The dispute game of this market (PROTOCOL §6), deployed by its constructor.
    function game() external view returns (IDisputeGame);

    /// @notice Game only: adds `msg.value` to what `account` can withdraw (the game pays its parties here).
    function creditFromGame(address account) external payable;

    /// @notice Game only, when the worker of result `attempt` of `jobId` lost a game: voids the result, re-opens the
    /// job (the fee stays escrowed, the deadline stands) and sends the worker's bond to the game.
    /// @return bond The worker's bond, in wei, sent to the game.
    function overturn(uint256 jobId, uint32 attempt) external returns (uint256 bond);

    /// @notice The tensor root (PROTOCOL §3) of `data` in rows of `rowLen` bytes (a shape's `c`), as the contract
    /// computes it. Reverts `EmptyTree` for empty data, `RaggedTensor` if `rowLen` is zero or does not divide
    /// `data.length`.
    function tensorRoot(bytes calldata data, uint256 rowLen) external pure returns (bytes32);
}
