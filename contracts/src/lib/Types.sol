// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

/// @notice Lifecycle of a listed model. `None` is the value of an id that was never registered.
/// Pending --(last op sealed with the registered root)--> Active; Pending | Active --(retire)--> Retired.
enum ModelStatus {
    None,
    Pending,
    Active,
    Retired
}

/// @notice The shape `[H, W, C]` of a tensor (PROTOCOL §2): row-major, NHWC with the batch of one dropped; a vector
/// is `[1, 1, N]`. Its rows are its `h·w` pixels of `c` int8 elements each (one byte per element).
struct TensorShape {
    uint32 h;
    uint32 w;
    uint32 c;
}

/// @notice A listed model: its commitment (PROTOCOL §3), its tensor shapes and its price.
struct Model {
    /// @dev Receives the royalty of every job on this model and may publish, reprice and retire it.
    address owner;
    /// @dev The model root the owner registered; publication must reproduce it exactly.
    bytes32 root;
    /// @dev Number of ops `n` (≥ 1); the state table has `n + 1` slots.
    uint32 opCount;
    /// @dev Input tensor shape (`h·w·c` ≥ 1 elements, at most 2^22); an input has `h·w·c` bytes.
    TensorShape input;
    /// @dev Zero point of the input tensor (committed in the model root).
    int8 inputZero;
    /// @dev Output tensor shape (`h·w·c` ≥ 1 elements, at most 2^22).
    TensorShape output;
    /// @dev Share of the fee paid to the owner, in basis points (≤ 10_000).
    uint16 royaltyBps;
    ModelStatus status;
    /// @dev Fee a job poster pays, in wei.
    uint256 fee;
    /// @dev Where the model file and its metadata can be found (not committed; the chain holds the leaves).
    string uri;
}

/// @notice Lifecycle of a job. Open --(submitResult)--> Submitted --(finalize)--> Settled;
/// Open --(refundExpired)--> Expired.
enum JobStatus {
    None,
    Open,
    Submitted,
    Settled,
    Expired
}

/// @notice An inference job and, once submitted, its result. Terms are snapshotted when the job is posted.
struct Job {
    uint256 modelId;
    address poster;
    /// @dev A result must be submitted while `block.timestamp < deadline`.
    uint64 deadline;
    JobStatus status;
    /// @dev Zero until a result is submitted.
    address worker;
    uint64 submittedAt;
    /// @dev The model owner when the job was posted: the royalty goes here.
    address modelOwner;
    uint16 royaltyBps;
    /// @dev The model's output length `h·w·c` in bytes when the job was posted (a submitted output must have it).
    uint32 outputLen;
    /// @dev The model's output row length `c` when the job was posted (the output root is over rows of it).
    uint32 outputRowLen;
    /// @dev Escrowed fee, in wei.
    uint256 fee;
    /// @dev Escrowed result bond, in wei (zero until a result is submitted).
    uint256 bond;
    /// @dev `tensorRoot(input, input.c)`, computed by the contract.
    bytes32 inputRoot;
    /// @dev `tensorRoot(output, outputRowLen)`, checked by the contract against the posted output bytes.
    bytes32 outputRoot;
    /// @dev The worker's trace root over σ_0 … σ_n (checked only in a dispute).
    bytes32 traceRoot;
}
