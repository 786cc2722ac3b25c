// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {IDisputeGame} from "./interfaces/IDisputeGame.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {ILlmStepProver, LlmWitness} from "./interfaces/ILlmStepProver.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IOneStepProver, StepWitness} from "./interfaces/IOneStepProver.sol";
import {
    AmountTooLarge,
    BurnTooLow,
    ChallengeWindowClosed,
    ChallengerOutOfTime,
    DefenderOutOfTime,
    GameNotActive,
    MisalignedElement,
    NoDispute,
    NotChallenger,
    NotMarket,
    NotTimedOut,
    NothingRevealed,
    OffsetOutOfRange,
    ResultNotOverturned,
    ResultNotSubmitted,
    ResultOverturnedAlready,
    RevealMismatch,
    SelfChallenge,
    StaleMove,
    UnknownGame,
    WrongBond,
    WrongModelKind,
    WrongPhase,
    ZeroClockExtension,
    ZeroProver
} from "./lib/Errors.sol";
import {Guarded} from "./lib/Guarded.sol";
import {LibLlmTrace, SlotGeometry} from "./lib/LibLlmTrace.sol";
import {LibMerkle} from "./lib/LibMerkle.sol";
import {LibOp} from "./lib/LibOp.sol";
import {
    Game,
    GamePhase,
    GameStatus,
    Job,
    JobStatus,
    LlmLayout,
    MarketConfig,
    ModelKind,
    ResultDispute,
    RevealKind,
    TensorShape,
    Tree
} from "./lib/Types.sol";

/// @title DisputeGame
/// @notice The walk game of PROTOCOL §6 over the results of the market that deploys it: down the defender's final
/// state σ_n to the first slot the challenger disputes, down that slot's tensor to one leaf, then one element
/// recomputed on chain. Results of language models (docs/LLM_INT.md §9) are walked the same way over their trace's
/// geometry (`LibLlmTrace`: the slot count and each slot's rows, columns and element width follow from the job's layout)
/// and their element is proven by `llmProver` (`stepLlm`). The market keeps the jobs and the one ledger of credits; this contract keeps the games.
/// @dev Money: `address(this).balance` == Σ bond of Active games + Σ `poolLeft` of overturned results + `burned`.
/// A challenge brings a bond in; `market.overturn` sends the worker's bond in (burned part to `burned`, the rest to
/// the pool); every payment leaves through `market.creditFromGame`, by exactly what it takes off a term. The pool's
/// division dust is burned when the last game owed a share is paid, so a fully resolved result leaves nothing.
/// Reveals are cached per result (job, attempt) with the time they first landed, so the chess clocks charge each side
/// exactly the time its data was missing even when another game's transaction supplied it.
contract DisputeGame is IDisputeGame, Guarded {
    /// @notice Basis points in 100 %.
    uint256 internal constant BPS = 10_000;

    /// @notice The least share of a losing bond that is burned (DESIGN: at least half).
    uint16 public constant MIN_BURN_BPS = 5000;

    /// @notice Bytes in a tensor leaf.
    uint256 internal constant LEAF_BYTES = 32;

    /// @notice Amounts the share rule multiplies by move counts stay below this bound, so no product overflows.
    uint256 internal constant MAX_AMOUNT = type(uint128).max;

    /// @notice A revealed value and when it landed (`landedAt` is zero while nothing was revealed).
    struct Revealed {
        bytes32 value;
        uint64 landedAt;
    }

    /// @notice Revealed children of a node and when they landed.
    struct Children {
        bytes32 left;
        bytes32 right;
        uint64 landedAt;
    }

    /// @inheritdoc IDisputeGame
    IJobMarket public immutable market;

    /// @notice The registry the market's models live in (op specs give the disputed tensor's shape).
    IModelRegistry internal immutable registry;

    /// @inheritdoc IDisputeGame
    IOneStepProver public immutable prover;

    /// @inheritdoc IDisputeGame
    ILlmStepProver public immutable llmProver;

    /// @notice The market's challenge window (a copy: games open while `block.timestamp < submittedAt + window`).
    uint64 internal immutable challengeWindow;

    /// @inheritdoc IDisputeGame
    uint256 public immutable challengeBond;

    /// @inheritdoc IDisputeGame
    uint64 public immutable gameClock;

    /// @inheritdoc IDisputeGame
    uint64 public immutable clockExtension;

    /// @inheritdoc IDisputeGame
    uint16 public immutable burnBps;

    /// @inheritdoc IDisputeGame
    uint256 public immutable moveReward;

    /// @inheritdoc IDisputeGame
    uint256 public burned;

    /// @inheritdoc IDisputeGame
    uint256 public gameCount;

    mapping(uint256 gameId => Game) internal _games;
    mapping(bytes32 result => ResultDispute) internal _disputes;
    mapping(bytes32 result => Revealed) internal _openings;
    mapping(bytes32 result => mapping(bytes32 node => Children)) internal _children;
    mapping(bytes32 result => mapping(bytes32 leaf => Revealed)) internal _slots;
    mapping(bytes32 result => mapping(bytes32 leaf => Revealed)) internal _leaves;

    /// @notice Deployed by the market (`msg.sender`), whose results it disputes and whose ledger it credits.
    constructor(
        IModelRegistry registry_,
        IOneStepProver prover_,
        ILlmStepProver llmProver_,
        MarketConfig memory config
    ) {
        // INVARIANT: phase Step can always be decided, for both kinds of model.
        if (address(prover_) == address(0) || address(llmProver_) == address(0)) revert ZeroProver();
        // INVARIANT: at least half of every losing bond is burned (self-challenges and sock puppets lose money).
        if (config.burnBps < MIN_BURN_BPS || config.burnBps > BPS) revert BurnTooLow(config.burnBps, MIN_BURN_BPS);
        // INVARIANT: every move has time to land (in production the clocks must also exceed the chain's
        // forced-inclusion delay, PROTOCOL §6.5; that is the deployer's to check).
        if (config.clockExtension == 0) revert ZeroClockExtension();
        // INVARIANT: the share rule's products (an amount times a move count < 2^64) cannot overflow.
        if (config.resultBond > MAX_AMOUNT) revert AmountTooLarge(config.resultBond);
        if (config.moveReward > MAX_AMOUNT) revert AmountTooLarge(config.moveReward);
        market = IJobMarket(msg.sender);
        registry = registry_;
        prover = prover_;
        llmProver = llmProver_;
        challengeWindow = config.challengeWindow;
        challengeBond = config.challengeBond;
        gameClock = config.gameClock;
        clockExtension = config.clockExtension;
        burnBps = config.burnBps;
        moveReward = config.moveReward;
    }

    /// @notice The worker's bond of an overturned result, sent by `market.overturn`.
    receive() external payable {
        // INVARIANT: no wei arrives that the books do not count (a bond comes with `challenge`, a pool from here).
        if (msg.sender != address(market)) revert NotMarket(msg.sender);
    }

    // -----------------------------------------------------------------------------------------------------
    // Opening
    // -----------------------------------------------------------------------------------------------------

    /// @inheritdoc IDisputeGame
    function challenge(uint256 jobId) external payable nonReentrant returns (uint256 gameId) {
        Job memory job = market.getJob(jobId);
        // INVARIANT: only a submitted, unsettled result is disputed.
        if (job.status != JobStatus.Submitted) revert ResultNotSubmitted(jobId, job.status);
        uint64 endsAt = job.submittedAt + challengeWindow;
        // INVARIANT: challenges open strictly inside the window (`<` challenges, `>=` settles).
        if (block.timestamp >= endsAt) revert ChallengeWindowClosed(jobId, endsAt);
        // INVARIANT: every game is backed by exactly one challenger bond.
        if (msg.value != challengeBond) revert WrongBond(msg.value, challengeBond);
        // INVARIANT: a worker cannot dispute its own result from its own account (it would stall for free).
        if (msg.sender == job.worker) revert SelfChallenge(jobId);

        ResultDispute storage d = _disputes[_resultKey(jobId, job.attempt)];
        if (d.opCount == 0) _describe(d, jobId, job.modelId);
        d.openGames += 1;

        gameId = ++gameCount;
        Game storage g = _games[gameId];
        g.jobId = jobId;
        g.attempt = job.attempt;
        g.status = GameStatus.Active;
        g.challenger = msg.sender;
        g.defender = job.worker;
        g.bond = msg.value;
        g.leafDepth = uint8(LibMerkle.ceilLog2(uint256(d.opCount) + 1));
        g.lastMoveAt = uint64(block.timestamp);
        g.defenderLeft = gameClock;
        g.challengerLeft = gameClock;
        emit ChallengeOpened(gameId, jobId, job.attempt, msg.sender, msg.value);
    }

    // -----------------------------------------------------------------------------------------------------
    // Defender reveals (anyone; cached per result)
    // -----------------------------------------------------------------------------------------------------

    /// @inheritdoc IDisputeGame
    function revealOpening(uint256 jobId, bytes32 finalState, bytes32[] calldata outputPath) external {
        Job memory job = market.getJob(jobId);
        bytes32 key = _disputed(jobId, job.status, job.attempt);
        // INVARIANT: the final state is the one the result's worker committed to (a copied trace root opens for nobody
        // but the account that first posted it).
        _expect(LibMerkle.traceLeaf(job.worker, finalState), job.traceRoot);
        uint256 n = _disputes[key].opCount;
        bytes32 output = LibMerkle.leafWord(LibMerkle.TAG_STATE, job.outputRoot);
        // INVARIANT: the output follows from the trace: slot n of σ_n is the posted output root.
        _expect(LibMerkle.climb(LibMerkle.TAG_STATE, output, n, outputPath, n + 1), finalState);
        // INVARIANT: a repeated reveal keeps the first landing time (replaying the defender's own data must not make
        // it look late, nor buy a stalling challenger time).
        if (_openings[key].landedAt == 0) _openings[key] = Revealed(finalState, uint64(block.timestamp));
        emit OpeningRevealed(jobId, job.attempt, finalState);
    }

    /// @inheritdoc IDisputeGame
    function revealNode(uint256 jobId, Tree tree, bytes32 node, bytes32 left, bytes32 right) external {
        (uint32 attempt, bytes32 key) = _current(jobId);
        uint8 tag = tree == Tree.State ? LibMerkle.TAG_STATE : LibMerkle.TAG_TENSOR;
        // INVARIANT: the children are the node's preimage in its tree (the tags keep the two trees apart).
        _expect(LibMerkle.node(tag, left, right), node);
        // INVARIANT: a repeated reveal keeps the first landing time.
        if (_children[key][node].landedAt == 0) _children[key][node] = Children(left, right, uint64(block.timestamp));
        emit NodeRevealed(jobId, attempt, tree, node, left, right);
    }

    /// @inheritdoc IDisputeGame
    function revealSlot(uint256 jobId, bytes32 leaf, bytes32 tensorRoot) external {
        (uint32 attempt, bytes32 key) = _current(jobId);
        // INVARIANT: the tensor root is the state leaf's preimage.
        _expect(LibMerkle.leafWord(LibMerkle.TAG_STATE, tensorRoot), leaf);
        // INVARIANT: a repeated reveal keeps the first landing time.
        if (_slots[key][leaf].landedAt == 0) _slots[key][leaf] = Revealed(tensorRoot, uint64(block.timestamp));
        emit SlotRevealed(jobId, attempt, leaf, tensorRoot);
    }

    /// @inheritdoc IDisputeGame
    function revealLeaf(uint256 jobId, bytes32 leaf, bytes32 data) external {
        (uint32 attempt, bytes32 key) = _current(jobId);
        // INVARIANT: the data is the leaf's preimage in the tensor tree.
        _expect(LibMerkle.leafWord(LibMerkle.TAG_TENSOR, data), leaf);
        // INVARIANT: a repeated reveal keeps the first landing time.
        if (_leaves[key][leaf].landedAt == 0) _leaves[key][leaf] = Revealed(data, uint64(block.timestamp));
        emit LeafRevealed(jobId, attempt, leaf, data);
    }

    // -----------------------------------------------------------------------------------------------------
    // Challenger moves
    // -----------------------------------------------------------------------------------------------------

    /// @inheritdoc IDisputeGame
    function pick(uint256 gameId, uint32 move, bool right) external nonReentrant {
        (Game storage g, bytes32 key) = _challengerMove(gameId, move);
        // INVARIANT: a walk stops at its tree's leaves: a tensor leaf is named, not split.
        if (g.depth == g.leafDepth) revert WrongPhase(gameId, g.phase);
        Children storage c = _children[key][_position(g, key)];
        bytes32 child = right ? c.right : c.left;
        g.node = child;
        g.depth += 1;
        g.index = (g.index << 1) | (right ? 1 : 0);
        emit Descended(gameId, g.phase, g.depth, g.index, child);
        if (g.phase == GamePhase.Slots && g.depth == g.leafDepth) _reachSlot(gameId, g, key);
    }

    /// @inheritdoc IDisputeGame
    function nameElement(uint256 gameId, uint32 move, uint8 offset) external nonReentrant {
        (Game storage g,) = _challengerMove(gameId, move);
        // INVARIANT: an element is named only in a revealed tensor leaf, and inside it.
        if (g.phase != GamePhase.Tensor || g.depth != g.leafDepth) revert WrongPhase(gameId, g.phase);
        if (offset >= LEAF_BYTES) revert OffsetOutOfRange(offset);
        if (_disputes[_resultKey(g.jobId, g.attempt)].kind == ModelKind.Llm) {
            (,, SlotGeometry memory geo) = _llmSlot(g.jobId, g.slot);
            // INVARIANT: a language model's element is named by its first byte (its leaves hold 2- or 4-byte values).
            if (offset % geo.width != 0) revert MisalignedElement(offset, geo.width);
        }
        g.offset = offset;
        g.phase = GamePhase.Step;
        emit ElementNamed(gameId, offset);
    }

    /// @inheritdoc IDisputeGame
    function step(uint256 gameId, StepWitness calldata witness) external nonReentrant {
        (Game storage g, bytes32 key) = _stepMove(gameId, ModelKind.Tensor);
        uint32 k = g.slot - 1;
        int8 claimed = int8(uint8(_leaves[key][_position(g, key)].value[g.offset]));
        (,, uint256 modelId) = market.jobState(g.jobId);
        (bool padding, uint256 e) = _element(modelId, k, g.index, g.offset);
        // The operand slots (≤ k < slot) are proven against the defender's own final state.
        int8 actual = padding ? int8(0) : prover.trueElement(modelId, k, _openings[key].value, e, witness);
        emit StepProven(gameId, k, padding ? type(uint256).max : e, claimed, actual);
        if (claimed != actual) _defenderLoses(gameId, g, key);
        else _challengerLoses(gameId, g, key);
    }

    /// @inheritdoc IDisputeGame
    function stepLlm(uint256 gameId, LlmWitness calldata witness) external nonReentrant {
        (Game storage g, bytes32 key) = _stepMove(gameId, ModelKind.Llm);
        (,, SlotGeometry memory geo) = _llmSlot(g.jobId, g.slot);
        int256 claimed = LibLlmTrace.decode(geo, _leaves[key][_position(g, key)].value, g.offset);
        (bool padding, uint256 e) = LibLlmTrace.elementAt(geo, g.index, g.offset);
        int256 actual = padding ? int256(0) : _llmTruth(g, key, e, witness);
        emit LlmStepProven(gameId, g.slot, padding ? type(uint256).max : e, claimed, actual);
        if (claimed != actual) _defenderLoses(gameId, g, key);
        else _challengerLoses(gameId, g, key);
    }

    /// @notice The true value of element `e` of game `g`'s slot, proven from `witness` against the defender's own final
    /// state (its operand slots, before the slot, are the ones the walk agreed on).
    function _llmTruth(Game storage g, bytes32 key, uint256 e, LlmWitness calldata witness)
        internal
        view
        returns (int256)
    {
        (,, uint256 modelId) = market.jobState(g.jobId);
        return llmProver.trueElement(modelId, market.llmLayout(g.jobId), _openings[key].value, g.slot, e, witness);
    }

    // -----------------------------------------------------------------------------------------------------
    // Resolution
    // -----------------------------------------------------------------------------------------------------

    /// @inheritdoc IDisputeGame
    function timeout(uint256 gameId) external nonReentrant {
        (Game storage g, bytes32 key) = _activeGame(gameId);
        (RevealKind kind,,, uint64 readyAt) = _wait(g, key);
        uint64 now_ = uint64(block.timestamp);
        if (kind != RevealKind.None) {
            // INVARIANT: the defender loses once its data has been missing for longer than it had.
            if (now_ - g.lastMoveAt > _allowance(g.defenderLeft)) return _defenderLoses(gameId, g, key);
            revert NotTimedOut(gameId);
        }
        uint64 start = readyAt > g.lastMoveAt ? readyAt : g.lastMoveAt;
        // INVARIANT: data that landed after the defender's time ran out does not save it.
        if (start - g.lastMoveAt > _allowance(g.defenderLeft)) return _defenderLoses(gameId, g, key);
        // INVARIANT: the challenger loses once it has had the move for longer than it had.
        if (now_ - start > _allowance(g.challengerLeft)) return _challengerLoses(gameId, g, key);
        revert NotTimedOut(gameId);
    }

    /// @inheritdoc IDisputeGame
    function claimMoot(uint256 gameId) external nonReentrant {
        Game storage g = _games[gameId];
        // INVARIANT: only an Active game is settled, exactly once.
        if (g.status != GameStatus.Active) revert GameNotActive(gameId, g.status);
        ResultDispute storage d = _disputes[_resultKey(g.jobId, g.attempt)];
        // INVARIANT: a game becomes moot only when another game overturned its result.
        if (!d.overturned) revert ResultNotOverturned(g.jobId, g.attempt);
        g.status = GameStatus.Moot;
        (uint256 paid, uint256 dust) = _payShare(d, g);
        emit GameResolved(gameId, GameStatus.Moot, paid, 0, dust);
    }

    /// @notice Walk reached leaf j = `g.index` of the final state. Slot 0 must be leaf(0x02, inputRoot) and a padding
    /// slot (j > n) leaf(0x02, 0): decided here. An op slot starts the walk down its tensor (op j − 1's output).
    function _reachSlot(uint256 gameId, Game storage g, bytes32 key) internal {
        // casting to 'uint32' is safe because the index is below 2^leafDepth = 2^⌈log2(n + 1)⌉ ≤ 2^32 (n is a uint32).
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 j = uint32(g.index);
        uint32 n = _disputes[key].opCount;
        g.slot = j;
        emit SlotDisputed(gameId, j);
        if (j == 0 || j > n) {
            bytes32 slotRoot = j == 0 ? market.getJob(g.jobId).inputRoot : bytes32(0);
            // INVARIANT: a slot no op writes holds what the contract knows it must (the input, or nothing).
            if (g.node == LibMerkle.leafWord(LibMerkle.TAG_STATE, slotRoot)) _challengerLoses(gameId, g, key);
            else _defenderLoses(gameId, g, key);
            return;
        }
        g.phase = GamePhase.Tensor;
        g.leafDepth = uint8(LibMerkle.ceilLog2(_tensorLeaves(_disputes[key].kind, g.jobId, j)));
        g.depth = 0;
        g.index = 0;
    }

    /// @notice The leaves of slot `j`'s tensor: a tensor model's op j − 1's output, or a language model's slot geometry.
    function _tensorLeaves(ModelKind kind, uint256 jobId, uint32 j) internal view returns (uint256) {
        if (kind == ModelKind.Llm) {
            (,, SlotGeometry memory geo) = _llmSlot(jobId, j);
            return geo.rows * LibLlmTrace.leavesPerRow(geo);
        }
        (,, uint256 modelId) = market.jobState(jobId);
        TensorShape memory out = LibOp.outShape(registry.opSpec(modelId, j - 1));
        return uint256(out.h) * out.w * _leavesPerRow(out.c);
    }

    /// @notice The challenger lost: `burnBps` of its bond is burned, the rest goes to the defender.
    function _challengerLoses(uint256 gameId, Game storage g, bytes32 key) internal {
        uint256 burn = g.bond * burnBps / BPS;
        uint256 toDefender = g.bond - burn;
        g.status = GameStatus.DefenderWon;
        ResultDispute storage d = _disputes[key];
        d.openGames -= 1;
        d.activeMoves -= g.moves;
        burned += burn;
        market.creditFromGame{value: toDefender}(g.defender);
        emit GameResolved(gameId, GameStatus.DefenderWon, 0, toDefender, burn);
    }

    /// @notice The defender lost: its result is overturned, the job re-opened and the worker's bond sent here.
    /// `burnBps` of it is burned; the rest is the pool the share rule splits among the games Active now (this one,
    /// paid at once, and the others, paid by `claimMoot`).
    function _defenderLoses(uint256 gameId, Game storage g, bytes32 key) internal {
        ResultDispute storage d = _disputes[key];
        uint256 workerBond = market.overturn(g.jobId, g.attempt);
        uint256 burn = workerBond * burnBps / BPS;
        uint256 pool = workerBond - burn;
        d.overturned = true;
        d.sharers = d.openGames;
        d.pool = pool;
        d.poolLeft = pool;
        burned += burn;
        g.status = GameStatus.ChallengerWon;
        emit ResultOverturned(g.jobId, g.attempt, pool, burn);
        (uint256 paid, uint256 dust) = _payShare(d, g);
        emit GameResolved(gameId, GameStatus.ChallengerWon, paid, 0, burn + dust);
    }

    /// @notice Pays game `g` of overturned result `d` its bond and its share; the last game paid also burns the pool's
    /// division dust. Returns what was paid and burned.
    function _payShare(ResultDispute storage d, Game storage g) internal returns (uint256 paid, uint256 dust) {
        uint256 share = _share(d, g.moves);
        // No underflow: the shares of the N games sum to at most the pool (PROTOCOL §6.5).
        d.poolLeft -= share;
        d.openGames -= 1;
        if (d.openGames == 0) {
            dust = d.poolLeft;
            d.poolLeft = 0;
            burned += dust;
        }
        paid = g.bond + share;
        market.creditFromGame{value: paid}(g.challenger);
    }

    /// @notice The share rule (PROTOCOL §6.5): what a game with `moves` challenger moves is owed of an overturned
    /// result's pool P, shared by N games with M moves in all, C = M·moveReward: `moves·moveReward + ⌊(P − C)/N⌋` if
    /// C ≤ P, else `⌊moves·P/M⌋` (then M > 0).
    function _share(ResultDispute storage d, uint64 moves) internal view returns (uint256) {
        uint256 cost = uint256(d.activeMoves) * moveReward;
        if (cost <= d.pool) return uint256(moves) * moveReward + (d.pool - cost) / d.sharers;
        return uint256(moves) * d.pool / d.activeMoves;
    }

    // -----------------------------------------------------------------------------------------------------
    // Views
    // -----------------------------------------------------------------------------------------------------

    /// @inheritdoc IDisputeGame
    function getGame(uint256 gameId) external view returns (Game memory) {
        Game storage g = _games[gameId];
        // INVARIANT: only opened games are read.
        if (g.status == GameStatus.None) revert UnknownGame(gameId);
        return g;
    }

    /// @inheritdoc IDisputeGame
    function getDispute(uint256 jobId, uint32 attempt) external view returns (ResultDispute memory) {
        return _disputes[_resultKey(jobId, attempt)];
    }

    /// @inheritdoc IDisputeGame
    function openGames(uint256 jobId, uint32 attempt) external view returns (uint32) {
        return _disputes[_resultKey(jobId, attempt)].openGames;
    }

    /// @inheritdoc IDisputeGame
    function pendingReveal(uint256 gameId) external view returns (RevealKind kind, Tree tree, bytes32 hash) {
        Game storage g = _games[gameId];
        bytes32 key = _resultKey(g.jobId, g.attempt);
        if (g.status != GameStatus.Active || _disputes[key].overturned) return (RevealKind.None, Tree.State, 0);
        (kind, tree, hash,) = _wait(g, key);
    }

    /// @inheritdoc IDisputeGame
    function revealedOpening(uint256 jobId, uint32 attempt) external view returns (bytes32) {
        return _openings[_resultKey(jobId, attempt)].value;
    }

    /// @inheritdoc IDisputeGame
    function revealedNode(uint256 jobId, uint32 attempt, bytes32 node)
        external
        view
        returns (bytes32 left, bytes32 right)
    {
        Children storage c = _children[_resultKey(jobId, attempt)][node];
        return (c.left, c.right);
    }

    /// @inheritdoc IDisputeGame
    function revealedSlot(uint256 jobId, uint32 attempt, bytes32 leaf) external view returns (bool, bytes32) {
        Revealed storage r = _slots[_resultKey(jobId, attempt)][leaf];
        return (r.landedAt != 0, r.value);
    }

    /// @inheritdoc IDisputeGame
    function revealedLeaf(uint256 jobId, uint32 attempt, bytes32 leaf) external view returns (bool, bytes32) {
        Revealed storage r = _leaves[_resultKey(jobId, attempt)][leaf];
        return (r.landedAt != 0, r.value);
    }

    // -----------------------------------------------------------------------------------------------------
    // Internals
    // -----------------------------------------------------------------------------------------------------

    /// @notice The key of result `attempt` of `jobId` in every per-result mapping.
    function _resultKey(uint256 jobId, uint32 attempt) internal pure returns (bytes32) {
        return keccak256(abi.encode(jobId, attempt));
    }

    /// @notice The key of the job's current result, which must be submitted and challenged.
    function _disputed(uint256 jobId, JobStatus status, uint32 attempt) internal view returns (bytes32 key) {
        // INVARIANT: reveals concern a live, challenged result (they are cached for its games only).
        if (status != JobStatus.Submitted) revert ResultNotSubmitted(jobId, status);
        key = _resultKey(jobId, attempt);
        if (_disputes[key].opCount == 0) revert NoDispute(jobId, attempt);
    }

    /// @notice The job's current result number and key (it must be submitted and challenged).
    function _current(uint256 jobId) internal view returns (uint32 attempt, bytes32 key) {
        JobStatus status;
        (status, attempt,) = market.jobState(jobId);
        key = _disputed(jobId, status, attempt);
    }

    /// @notice An Active game on a result that still stands, and its result's key.
    function _activeGame(uint256 gameId) internal view returns (Game storage g, bytes32 key) {
        g = _games[gameId];
        // INVARIANT: only Active games move or resolve.
        if (g.status != GameStatus.Active) revert GameNotActive(gameId, g.status);
        key = _resultKey(g.jobId, g.attempt);
        // INVARIANT: once a result is overturned its other games can only be claimed as moot.
        if (_disputes[key].overturned) revert ResultOverturnedAlready(g.jobId, g.attempt);
    }

    /// @notice Records what result `jobId`'s games walk, at its first challenge: the model's kind and the final state's
    /// last slot n (a tensor model's op count; a language model's output slot, from the job's layout).
    function _describe(ResultDispute storage d, uint256 jobId, uint256 modelId) internal {
        LlmLayout memory jobLayout = market.llmLayout(jobId);
        if (jobLayout.prompt == 0) {
            d.opCount = registry.opCount(modelId);
            return;
        }
        d.kind = ModelKind.Llm;
        // casting to 'uint32' is safe because n ≤ 1 + context·OPS < 2^20 (registry and market bounds).
        // forge-lint: disable-next-line(unsafe-typecast)
        d.opCount = uint32(LibLlmTrace.outputSlot(registry.llmConfig(modelId), jobLayout));
    }

    /// @notice A language-model job's model, layout and the geometry of its slot `slot`.
    function _llmSlot(uint256 jobId, uint256 slot)
        internal
        view
        returns (uint256 modelId, LlmLayout memory jobLayout, SlotGeometry memory geo)
    {
        (,, modelId) = market.jobState(jobId);
        jobLayout = market.llmLayout(jobId);
        geo = llmProver.slotGeometry(modelId, jobLayout, slot);
    }

    /// @notice Checks the step of game `gameId` (phase Step, a result of a `kind` model, on the challenger's clock) and
    /// counts it as a challenger move (whoever relays it: the share rule pays for it).
    function _stepMove(uint256 gameId, ModelKind kind) internal returns (Game storage g, bytes32 key) {
        (g, key) = _activeGame(gameId);
        // INVARIANT: the one step runs only on a named element.
        if (g.phase != GamePhase.Step) revert WrongPhase(gameId, g.phase);
        // INVARIANT: each kind of model's element is computed by its own prover.
        if (_disputes[key].kind != kind) revert WrongModelKind(gameId, _disputes[key].kind);
        // INVARIANT: the step is the challenger's move, on its clock.
        if (uint64(block.timestamp) - g.lastMoveAt > _allowance(g.challengerLeft)) revert ChallengerOutOfTime(gameId);
        g.moves += 1;
        _disputes[key].activeMoves += 1;
    }

    /// @notice Checks a challenger walk move (`move` names the position, the game is walking, the defender's data is
    /// there), charges both clocks and counts the move.
    function _challengerMove(uint256 gameId, uint32 move) internal returns (Game storage g, bytes32 key) {
        (g, key) = _activeGame(gameId);
        // INVARIANT: only the challenger chooses where the game goes.
        if (msg.sender != g.challenger) revert NotChallenger(gameId, msg.sender);
        // INVARIANT: the move answers the position it names (no stale or reorged move lands elsewhere).
        if (move != g.moves) revert StaleMove(gameId, move, g.moves);
        // INVARIANT: the walk is over once an element is named (only the step is left).
        if (g.phase == GamePhase.Step) revert WrongPhase(gameId, g.phase);
        (RevealKind kind,, bytes32 hash, uint64 readyAt) = _wait(g, key);
        // INVARIANT: the challenger moves only on the defender's revealed data.
        if (kind != RevealKind.None) revert NothingRevealed(kind, hash);
        uint64 start = readyAt > g.lastMoveAt ? readyAt : g.lastMoveAt;
        uint64 defenderSpent = start - g.lastMoveAt;
        uint64 challengerSpent = uint64(block.timestamp) - start;
        // INVARIANT: a defender whose data came too late has lost (anyone may call `timeout`).
        if (defenderSpent > _allowance(g.defenderLeft)) revert DefenderOutOfTime(gameId);
        // INVARIANT: a challenger that took too long has lost.
        if (challengerSpent > _allowance(g.challengerLeft)) revert ChallengerOutOfTime(gameId);
        g.defenderLeft = _spend(g.defenderLeft, defenderSpent);
        g.challengerLeft = _spend(g.challengerLeft, challengerSpent);
        g.lastMoveAt = uint64(block.timestamp);
        g.moves += 1;
        _disputes[key].activeMoves += 1;
    }

    /// @notice The most a side with `left` seconds on its clock may take for one move.
    function _allowance(uint64 left) internal view returns (uint64) {
        return left > clockExtension ? left : clockExtension;
    }

    /// @notice `left − spent`, floored at zero (a move inside the extension empties the clock).
    function _spend(uint64 left, uint64 spent) internal pure returns (uint64) {
        return spent < left ? left - spent : 0;
    }

    /// @notice The defender's hash at the game's position: at depth 0 the revealed final state (Slots) or the revealed
    /// tensor root of the disputed slot (Tensor, Step); below it the node the challenger picked.
    function _position(Game storage g, bytes32 key) internal view returns (bytes32) {
        if (g.depth != 0) return g.node;
        if (g.phase == GamePhase.Slots) return _openings[key].value;
        return _slots[key][g.node].value;
    }

    /// @notice What the position waits for from the defender: the first missing reveal (`kind`, the `tree` of a node,
    /// the `hash` to reveal), or `RevealKind.None` and `readyAt`, when the last of its data landed.
    function _wait(Game storage g, bytes32 key)
        internal
        view
        returns (RevealKind kind, Tree tree, bytes32 hash, uint64 readyAt)
    {
        if (g.phase == GamePhase.Step) return (RevealKind.None, Tree.State, 0, g.lastMoveAt);
        tree = g.phase == GamePhase.Slots ? Tree.State : Tree.Tensor;
        bytes32 node = g.node;
        if (g.depth == 0) {
            Revealed storage root = tree == Tree.State ? _openings[key] : _slots[key][node];
            if (root.landedAt == 0) {
                return tree == Tree.State
                    ? (RevealKind.Opening, Tree.State, bytes32(0), uint64(0))
                    : (RevealKind.Slot, Tree.State, node, uint64(0));
            }
            node = root.value;
            readyAt = root.landedAt;
        }
        uint64 landedAt = g.depth < g.leafDepth ? _children[key][node].landedAt : _leaves[key][node].landedAt;
        if (landedAt == 0) {
            return g.depth < g.leafDepth
                ? (RevealKind.Node, tree, node, uint64(0))
                : (RevealKind.Leaf, Tree.Tensor, node, uint64(0));
        }
        return (RevealKind.None, Tree.State, 0, landedAt > readyAt ? landedAt : readyAt);
    }

    /// @notice The element at byte `offset` of leaf `leafIndex` of op k's output: `padding` when it lies past the
    /// tensor (a padding leaf, or a channel ≥ C in a row's last leaf), whose true value is 0; else its index `e`.
    function _element(uint256 modelId, uint32 k, uint64 leafIndex, uint8 offset)
        internal
        view
        returns (bool padding, uint256 e)
    {
        TensorShape memory out = LibOp.outShape(registry.opSpec(modelId, k));
        uint256 lpr = _leavesPerRow(out.c);
        uint256 row = leafIndex / lpr;
        uint256 channel = (leafIndex % lpr) * LEAF_BYTES + offset;
        if (row >= uint256(out.h) * out.w || channel >= out.c) return (true, 0);
        return (false, row * out.c + channel);
    }

    /// @notice Leaves a row of `c` elements occupies: ⌈c / 32⌉.
    function _leavesPerRow(uint32 c) internal pure returns (uint256) {
        return (uint256(c) + LEAF_BYTES - 1) / LEAF_BYTES;
    }

    /// @notice Reverts `RevealMismatch` unless `computed == expected`.
    function _expect(bytes32 computed, bytes32 expected) internal pure {
        if (computed != expected) revert RevealMismatch(computed, expected);
    }
}
