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

/// @notice Lifecycle of a job. Open --(submitResult)--> Submitted --(finalize, no game open)--> Settled;
/// Submitted --(a game lost by the worker)--> Open (the result is overturned, the job re-opens);
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
    /// @dev How many results were ever submitted for this job (the current one is number `attempt`); games and
    /// reveals belong to one attempt.
    uint32 attempt;
}

/// @notice Deployment parameters of a market (PROTOCOL §6.7). All amounts in wei, all durations in seconds.
struct MarketConfig {
    /// @dev A result can be challenged while `block.timestamp < submittedAt + challengeWindow`.
    uint64 challengeWindow;
    /// @dev The bond a worker escrows with every result.
    uint256 resultBond;
    /// @dev The bond a challenger escrows with every game (sized from the defender's gas for a whole game).
    uint256 challengeBond;
    /// @dev Each side's chess clock at the start of a game.
    uint64 gameClock;
    /// @dev The least time a side always has for one move, even when its clock is (nearly) spent.
    uint64 clockExtension;
    /// @dev Share of a losing bond that is burned, in basis points (≥ 5_000).
    uint16 burnBps;
}

/// @notice Lifecycle of a dispute game. Active --(defender loses)--> ChallengerWon;
/// Active --(challenger loses)--> DefenderWon; Active --(another game overturned the result)--> Moot (bond
/// refunded with a share of the worker's bond, `claimMoot`).
enum GameStatus {
    None,
    Active,
    ChallengerWon,
    DefenderWon,
    Moot
}

/// @notice Where an Active game stands (PROTOCOL §6): bisecting the trace, bisecting the disputed tensor down to a
/// leaf (and naming an element of it), or waiting for the one-step proof of the named element.
enum GamePhase {
    Bisect,
    Tensor,
    Step
}

/// @notice What the position of an Active game waits for from the defender before the challenger can move.
/// `State`: σ_index (`revealState`); `Transition`: the tensor root of slot index + 1 (`revealTransition`);
/// `Node`: the children of tensor node `hash` (`revealNode`); `Leaf`: the 32 bytes of leaf `hash` (`revealLeaf`).
enum RevealKind {
    None,
    State,
    Transition,
    Node,
    Leaf
}

/// @notice One dispute over one result (PROTOCOL §6). The defender is the result's worker.
struct Game {
    uint256 jobId;
    /// @dev The result disputed: `Job.attempt` when the game was opened.
    uint32 attempt;
    GameStatus status;
    GamePhase phase;
    address challenger;
    address defender;
    /// @dev The challenger's escrowed bond.
    uint256 bond;
    /// @dev Phase 1: σ_lo is agreed, σ_hi disputed (σ_0 is the contract's own). Afterwards the disputed op is `lo`.
    uint32 lo;
    uint32 hi;
    /// @dev The number of challenger moves made; every challenger move names the move it makes, so a stale or
    /// reorged transaction cannot land on another position.
    uint32 moves;
    /// @dev Phase 2: depth D of slot lo + 1's tensor tree, and the position (depth, index) reached.
    uint8 leafDepth;
    uint8 depth;
    uint64 index;
    /// @dev Phase 2: the defender's hash at (depth, index); zero at depth 0 (the revealed transition holds it).
    bytes32 node;
    /// @dev Phase 3: the named element's byte offset in its leaf.
    uint8 offset;
    /// @dev Chess clocks: when the last challenger move (or the challenge) happened and each side's time left.
    uint64 lastMoveAt;
    uint64 defenderLeft;
    uint64 challengerLeft;
}

/// @notice The dispute state of one result (job, attempt), shared by all its games.
struct ResultDispute {
    /// @dev The model's op count n (the state table has n + 1 slots, the trace n + 1 states); zero until the
    /// first challenge.
    uint32 opCount;
    /// @dev Games on this result that are still Active.
    uint32 openGames;
    /// @dev Set when the worker lost a game: the job re-opened and every other Active game is Moot.
    bool overturned;
    /// @dev σ_0, computed by the contract from the job's input root at the first challenge.
    bytes32 sigma0;
    /// @dev Once overturned: what each game open at that moment receives on top of its own bond.
    uint256 share;
}
