// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

/// @notice Lifecycle of a listed model. `None` is the value of an id that was never registered. ABI `uint8`:
/// 0 None, 1 Pending, 2 Active, 3 Retired.
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
    /// @dev Fee a job poster pays, in wei; zero for a language model (priced per token, `IModelRegistry.llmPrices`).
    uint256 fee;
    /// @dev Where the model file and its metadata can be found (not committed; the chain holds the leaves).
    string uri;
    /// @dev What the model computes: a tensor network (its shapes above) or a language model (shapes zero, see
    /// `IModelRegistry.llmConfig`).
    ModelKind kind;
}

/// @notice Lifecycle of a job. Open --(submitResult)--> Submitted --(finalize, no game open)--> Settled;
/// Submitted --(a game lost by the worker)--> Open (the result is overturned, the job re-opens);
/// Open --(refundExpired)--> Expired. ABI `uint8`: 0 None (never posted), 1 Open, 2 Submitted, 3 Settled, 4 Expired.
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
    /// @dev Escrowed fee, in wei: the model's fee, or a language-model job's most, `P·perInputToken +
    /// maxNew·perOutputToken` (the unused tokens' part goes back to the poster at `finalize`).
    uint256 fee;
    /// @dev Escrowed result bond, in wei (zero until a result is submitted).
    uint256 bond;
    /// @dev `tensorRoot(input, input.c)`, computed by the contract.
    bytes32 inputRoot;
    /// @dev `tensorRoot(output, outputRowLen)`, checked by the contract against the posted output bytes.
    bytes32 outputRoot;
    /// @dev The worker's trace root `leaf(0x03, worker ‖ σ_n)` (PROTOCOL §3; checked only in a dispute).
    bytes32 traceRoot;
    /// @dev How many results were ever submitted for this job (the current one is number `attempt`); games and
    /// reveals belong to one attempt.
    uint32 attempt;
}

/// @notice Deployment parameters of a market and its dispute game (PROTOCOL §6.6). All amounts in wei, all durations
/// in seconds.
struct MarketConfig {
    /// @dev A result can be challenged while `block.timestamp < submittedAt + challengeWindow`.
    uint64 challengeWindow;
    /// @dev The bond a worker escrows with every result (< 2^128).
    uint256 resultBond;
    /// @dev The bond a challenger escrows with every game (sized from the defender's gas for a whole game).
    uint256 challengeBond;
    /// @dev Each side's chess clock at the start of a game.
    uint64 gameClock;
    /// @dev The least time a side always has for one move, even when its clock is (nearly) spent.
    uint64 clockExtension;
    /// @dev Share of a losing bond that is burned, in basis points (≥ 5_000).
    uint16 burnBps;
    /// @dev What the share rule (PROTOCOL §6.5) repays a game per challenger move, in wei (< 2^128): the gas of the
    /// costliest challenger move times an assumed gas price.
    uint256 moveReward;
}

/// @notice Lifecycle of a dispute game. Active --(defender loses)--> ChallengerWon;
/// Active --(challenger loses)--> DefenderWon; Active --(another game overturned the result)--> Moot (bond
/// refunded with its share of the worker's bond, `claimMoot`).
enum GameStatus {
    None,
    Active,
    ChallengerWon,
    DefenderWon,
    Moot
}

/// @notice The two trees a game walks (PROTOCOL §6): the defender's final state σ_n (tag 0x02, one leaf per slot) and
/// the tensor of the disputed slot (tag 0x01).
enum Tree {
    State,
    Tensor
}

/// @notice Where an Active game stands (PROTOCOL §6): walking the final state down to one slot, walking that slot's
/// tensor down to one leaf (and naming an element of it), or waiting for the one-step proof of the named element.
enum GamePhase {
    Slots,
    Tensor,
    Step
}

/// @notice What the position of an Active game waits for from the defender before the challenger can move.
/// `Opening`: the final state (`revealOpening`); `Node`: the children of node `hash` (`revealNode`); `Slot`: the
/// tensor root in state leaf `hash` (`revealSlot`); `Leaf`: the 32 bytes of tensor leaf `hash` (`revealLeaf`).
enum RevealKind {
    None,
    Opening,
    Node,
    Slot,
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
    /// @dev The number of challenger moves made (picks, the naming and the step); every move names the count it
    /// answers, so a stale or reorged transaction cannot land on another position. The share rule pays per move.
    uint32 moves;
    /// @dev The slot j the final-state walk reached (zero before): an op slot (1 ≤ j ≤ n, op k = j − 1 wrote it) in
    /// phases Tensor and Step; slot 0 or a padding slot (j > n) only in a game it decided.
    uint32 slot;
    /// @dev The depth of the tree being walked (Slots: ⌈log2(n + 1)⌉; Tensor: ⌈log2⌉ of the slot tensor's leaves),
    /// and the position (depth, index) reached in it.
    uint8 leafDepth;
    uint8 depth;
    uint64 index;
    /// @dev The defender's hash at (depth, index). At depth 0 of Slots: zero (the revealed final state is the
    /// position); at depth 0 of Tensor: the slot's state leaf (its revealed tensor root is the position).
    bytes32 node;
    /// @dev Phase Step: the named element's byte offset in its leaf.
    uint8 offset;
    /// @dev Chess clocks: when the last challenger move (or the challenge) happened and each side's time left.
    uint64 lastMoveAt;
    uint64 defenderLeft;
    uint64 challengerLeft;
}

/// @notice The dispute state of one result (job, attempt), shared by all its games.
struct ResultDispute {
    /// @dev The final state's last slot n (it has n + 1 slots): a tensor model's op count, a language model's output
    /// slot `1 + (P + G − 1)·OPS`; zero until the first challenge.
    uint32 opCount;
    /// @dev The disputed model's kind (which prover computes the step, how slots are shaped).
    ModelKind kind;
    /// @dev Games on this result that are still Active.
    uint32 openGames;
    /// @dev Set when the worker lost a game: the job re-opened and every other Active game is Moot.
    bool overturned;
    /// @dev Once overturned: N, the games Active at that moment (the winner included), each owed a share.
    uint32 sharers;
    /// @dev Σ moves of the Active games; frozen at the overturn (M of the share rule).
    uint64 activeMoves;
    /// @dev Once overturned: the pool P (the worker's bond less the burn) the share rule splits.
    uint256 pool;
    /// @dev What is left of the pool: owed to the moot games not yet claimed, and the division's dust, burned when
    /// the last of them is paid.
    uint256 poolLeft;
}

/// @notice What a listed model computes, and so how its jobs, results and disputes are shaped. ABI `uint8`: 0 Tensor
/// (an int8 network over one input tensor, PROTOCOL §2–§6), 1 Llm (a language model generating tokens,
/// docs/LLM_INT.md §8–§9).
enum ModelKind {
    Tensor,
    Llm
}

/// @notice A language model's hyper-parameters, as its model root commits them (docs/LLM_INT.md §9.1, in this order).
/// A pass runs `1 + 19·blocks + 4` ops; `context` bounds a job's positions `P + maxNew − 1`; `eos` ends an answer.
struct LlmConfig {
    uint32 blocks;
    uint32 hidden;
    uint32 heads;
    uint32 kvHeads;
    uint32 headDim;
    uint32 ffn;
    uint32 vocab;
    uint32 context;
    uint32 eos;
}

/// @notice Where a language-model job's slots lie (docs/LLM_INT.md §8.1): `prompt` tokens P ≥ 1, the job's token
/// budget `maxNew` ≥ 1 and the claimed output's length `generated` G (1 ≤ G ≤ maxNew; zero before a result). The
/// trace has `P + G − 1` passes; slot `1 + p·OPS + o` is what op o of pass p wrote; slot 0 is the input row
/// `[maxNew, ids…]` and the last slot `1 + (P + G − 1)·OPS` the output row of G token ids (all int32).
struct LlmLayout {
    uint32 prompt;
    uint32 maxNew;
    uint32 generated;
}
