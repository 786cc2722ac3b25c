// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {JobStatus, ModelStatus} from "./Types.sol";

// ---------------------------------------------------------------------------------------------------------
// Merkle commitments
// ---------------------------------------------------------------------------------------------------------

/// @notice A Merkle root was asked of zero leaves (PROTOCOL §3 requires m ≥ 1).
error EmptyTree();

/// @notice An incremental tree already holds the most leaves its frontier can fold.
error TreeFull(uint256 count);

/// @notice A tensor's byte length is not a whole number of rows of `rowLen` bytes (or `rowLen` is zero).
error RaggedTensor(uint256 length, uint256 rowLen);

// ---------------------------------------------------------------------------------------------------------
// ModelRegistry
// ---------------------------------------------------------------------------------------------------------

/// @notice No model has this id.
error UnknownModel(uint256 modelId);

/// @notice Only the model's owner may do this.
error NotModelOwner(uint256 modelId, address caller);

/// @notice A model needs at least one op, and input and output tensors of 1 to 2^22 elements (`h·w·c`, every
/// dimension ≥ 1). `inputLen` and `outputLen` are the element counts `h·w·c`, saturated at 2^64 − 1.
error InvalidModelShape(uint32 opCount, uint64 inputLen, uint64 outputLen);

/// @notice A royalty above 100 %.
error RoyaltyTooHigh(uint16 royaltyBps, uint16 max);

/// @notice Publication is only possible while the model is Pending.
error ModelNotPending(uint256 modelId, ModelStatus status);

/// @notice Ops are published and sealed in order; `expected` is the op being published now.
error WrongOp(uint256 modelId, uint32 op, uint32 expected);

/// @notice `publishLeaves` was called without leaves.
error NoLeaves(uint256 modelId, uint32 op);

/// @notice An op can only be sealed once it has at least one leaf (its spec).
error EmptyOp(uint256 modelId, uint32 op);

/// @notice The model root computed from the published leaves differs from the registered one.
error ModelRootMismatch(bytes32 computed, bytes32 registered);

/// @notice The model was retired; it can no longer be repriced or retired again.
error ModelAlreadyRetired(uint256 modelId);

// ---------------------------------------------------------------------------------------------------------
// JobMarket
// ---------------------------------------------------------------------------------------------------------

/// @notice The registry address given to the market is zero.
error ZeroRegistry();

/// @notice Jobs can only be posted to Active models.
error ModelNotActive(uint256 modelId, ModelStatus status);

/// @notice `msg.value` of `postJob` must be the model's fee exactly.
error WrongFee(uint256 sent, uint256 expected);

/// @notice The input must have the model's input length `h·w·c` exactly.
error InputLengthMismatch(uint256 actual, uint256 expected);

/// @notice A job's deadline must lie in the future.
error DeadlineInPast(uint64 deadline, uint256 timestamp);

/// @notice No job has this id.
error UnknownJob(uint256 jobId);

/// @notice The job must be Open (no result yet, not refunded).
error JobNotOpen(uint256 jobId, JobStatus status);

/// @notice The job's deadline has passed: no result can be submitted any more.
error JobExpired(uint256 jobId, uint64 deadline);

/// @notice `msg.value` of `submitResult` must be the result bond exactly.
error WrongBond(uint256 sent, uint256 expected);

/// @notice The output must have the model's output length `h·w·c` exactly.
error OutputLengthMismatch(uint256 actual, uint256 expected);

/// @notice The claimed output root is not the tensor root of the posted output bytes.
error OutputRootMismatch(bytes32 computed, bytes32 claimed);

/// @notice Only a job with a submitted result can be finalized.
error JobNotSubmitted(uint256 jobId, JobStatus status);

/// @notice The challenge window is still open until `endsAt` (finalize at `block.timestamp >= endsAt`).
error ChallengeWindowOpen(uint256 jobId, uint64 endsAt);

/// @notice A job can only be refunded once its deadline has passed.
error DeadlineNotReached(uint256 jobId, uint64 deadline);

/// @notice The caller has no credit.
error NothingToWithdraw();

/// @notice Sending the credit to the caller failed (the credit was restored by the revert).
error TransferFailed();

/// @notice A guarded function was re-entered.
error Reentrancy();
