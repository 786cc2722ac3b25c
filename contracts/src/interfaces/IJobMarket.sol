// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {Job} from "../lib/Types.sol";
import {IModelRegistry} from "./IModelRegistry.sol";

/// @title IJobMarket
/// @notice Inference jobs with optimistic verification (PROTOCOL §5.2). A poster escrows the model's fee
/// with the input bytes; a worker posts the output (hashed on chain), a trace root and a bond; after the
/// challenge window anyone finalizes: the worker is credited the fee minus the owner's royalty plus its bond.
/// Money leaves only through `withdraw` (pull payments).
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
    /// @param traceRoot The root over the states σ_0 … σ_n (PROTOCOL §3); checked only in a dispute.
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

    /// @notice The tensor root (PROTOCOL §3) of `data` in rows of `rowLen` bytes (a shape's `c`), as the contract
    /// computes it. Reverts `EmptyTree` for empty data, `RaggedTensor` if `rowLen` is zero or does not divide
    /// `data.length`.
    function tensorRoot(bytes calldata data, uint256 rowLen) external pure returns (bytes32);
}
