// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {IDisputeGame} from "./interfaces/IDisputeGame.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IOneStepProver, StepWitness} from "./interfaces/IOneStepProver.sol";
import {
    BurnTooLow,
    ChallengeWindowClosed,
    ChallengerOutOfTime,
    DefenderOutOfTime,
    GameNotActive,
    NoDispute,
    NotChallenger,
    NotTimedOut,
    NothingRevealed,
    ResultNotOverturned,
    ResultNotSubmitted,
    ResultOverturnedAlready,
    RevealMismatch,
    SelfChallenge,
    StaleMove,
    StateIndexOutOfRange,
    UnknownGame,
    WrongBond,
    WrongPhase,
    ZeroClockExtension,
    ZeroProver
} from "./lib/Errors.sol";
import {Guarded} from "./lib/Guarded.sol";
import {LibMerkle} from "./lib/LibMerkle.sol";
import {LibOp} from "./lib/LibOp.sol";
import {
    Game,
    GamePhase,
    GameStatus,
    Job,
    JobStatus,
    MarketConfig,
    ResultDispute,
    RevealKind,
    TensorShape
} from "./lib/Types.sol";

/// @title DisputeGame
/// @notice The dissection game of PROTOCOL §6, over the results of the market that inherits it. The market
/// provides the jobs, the ledger of credits and the re-opening of a job whose result is overturned.
/// @dev Money: a game holds its challenger's `bond` while Active. Resolution moves it (and, when the worker loses,
/// the worker's bond) into credits and `burned`; see `_challengerLoses`, `_defenderLoses`, `claimMoot`. Reveals
/// are cached per result (job, attempt) with the time they landed, so the chess clocks charge each side exactly
/// the time its data was missing even when another game's transaction supplied it.
abstract contract DisputeGame is IDisputeGame, Guarded {
    /// @notice Basis points in 100 %.
    uint256 internal constant BPS = 10_000;

    /// @notice The least share of a losing bond that is burned (DESIGN: at least half).
    uint16 public constant MIN_BURN_BPS = 5000;

    /// @notice Bytes in a tensor leaf.
    uint256 internal constant LEAF_BYTES = 32;

    /// @notice A revealed value and when it landed (`at` is zero while nothing was revealed).
    struct Revealed {
        bytes32 value;
        uint64 at;
    }

    /// @notice Revealed children of a tensor node.
    struct Children {
        bytes32 left;
        bytes32 right;
        uint64 at;
    }

    /// @inheritdoc IDisputeGame
    IOneStepProver public immutable prover;

    /// @inheritdoc IDisputeGame
    uint256 public immutable challengeBond;

    /// @inheritdoc IDisputeGame
    uint64 public immutable gameClock;

    /// @inheritdoc IDisputeGame
    uint64 public immutable clockExtension;

    /// @inheritdoc IDisputeGame
    uint16 public immutable burnBps;

    /// @inheritdoc IDisputeGame
    uint256 public burned;

    /// @inheritdoc IDisputeGame
    uint256 public gameCount;

    mapping(uint256 gameId => Game) internal _games;
    mapping(bytes32 result => ResultDispute) internal _disputes;
    mapping(bytes32 result => mapping(uint256 index => Revealed)) internal _states;
    mapping(bytes32 result => mapping(uint256 k => Revealed)) internal _transitions;
    mapping(bytes32 result => mapping(bytes32 node => Children)) internal _children;
    mapping(bytes32 result => mapping(bytes32 leaf => Revealed)) internal _leaves;

    constructor(IOneStepProver prover_, MarketConfig memory config) {
        // INVARIANT: phase 3 can always be decided.
        if (address(prover_) == address(0)) revert ZeroProver();
        // INVARIANT: at least half of every losing bond is burned (self-challenges and sock puppets lose money).
        if (config.burnBps < MIN_BURN_BPS || config.burnBps > BPS) revert BurnTooLow(config.burnBps, MIN_BURN_BPS);
        // INVARIANT: every move has time to land (in production the clocks must also exceed the chain's
        // forced-inclusion delay, PROTOCOL §6.6; that is the deployer's to check).
        if (config.clockExtension == 0) revert ZeroClockExtension();
        prover = prover_;
        challengeBond = config.challengeBond;
        gameClock = config.gameClock;
        clockExtension = config.clockExtension;
        burnBps = config.burnBps;
    }

    // -----------------------------------------------------------------------------------------------------
    // Hooks the market implements
    // -----------------------------------------------------------------------------------------------------

    /// @notice The job with this id (reverts `UnknownJob` for an unknown id).
    function _job(uint256 jobId) internal view virtual returns (Job storage);

    /// @notice The registry the market's models live in.
    function _registry() internal view virtual returns (IModelRegistry);

    /// @notice The market's challenge window.
    function _challengeWindow() internal view virtual returns (uint64);

    /// @notice Adds `amount` to what `account` can withdraw.
    function _credit(address account, uint256 amount) internal virtual;

    /// @notice Voids the job's current result and re-opens the job; returns the worker's bond it released.
    function _reopen(Job storage job) internal virtual returns (uint256 bond);

    // -----------------------------------------------------------------------------------------------------
    // Opening
    // -----------------------------------------------------------------------------------------------------

    /// @inheritdoc IDisputeGame
    function challenge(uint256 jobId) external payable nonReentrant returns (uint256 gameId) {
        Job storage job = _job(jobId);
        // INVARIANT: only a submitted, unsettled result is disputed.
        if (job.status != JobStatus.Submitted) revert ResultNotSubmitted(jobId, job.status);
        uint64 endsAt = job.submittedAt + _challengeWindow();
        // INVARIANT: challenges open strictly inside the window (`<` challenges, `>=` settles).
        if (block.timestamp >= endsAt) revert ChallengeWindowClosed(jobId, endsAt);
        // INVARIANT: every game is backed by exactly one challenger bond.
        if (msg.value != challengeBond) revert WrongBond(msg.value, challengeBond);
        // INVARIANT: a worker cannot dispute its own result from its own account (it would stall for free).
        if (msg.sender == job.worker) revert SelfChallenge(jobId);

        bytes32 key = _resultKey(jobId, job.attempt);
        ResultDispute storage d = _disputes[key];
        if (d.opCount == 0) {
            uint32 n = _registry().opCount(job.modelId);
            d.opCount = n;
            d.sigma0 = _sigma0(job.inputRoot, n);
        }
        d.openGames += 1;

        gameId = ++gameCount;
        Game storage g = _games[gameId];
        g.jobId = jobId;
        g.attempt = job.attempt;
        g.status = GameStatus.Active;
        g.challenger = msg.sender;
        g.defender = job.worker;
        g.bond = msg.value;
        g.hi = d.opCount;
        g.lastMoveAt = uint64(block.timestamp);
        g.defenderLeft = gameClock;
        g.challengerLeft = gameClock;
        emit ChallengeOpened(gameId, jobId, job.attempt, msg.sender, msg.value);
        // A one-op model has nothing to bisect: the disputed op is op 0.
        if (d.opCount == 1) _enterTensorPhase(g, job.modelId);
    }

    // -----------------------------------------------------------------------------------------------------
    // Defender reveals (anyone; cached per result)
    // -----------------------------------------------------------------------------------------------------

    /// @inheritdoc IDisputeGame
    function revealState(
        uint256 jobId,
        uint32 index,
        bytes32 stateRoot,
        bytes32[] calldata tracePath,
        bytes32[] calldata outputPath
    ) external {
        (Job storage job, bytes32 key, ResultDispute storage d) = _disputedResult(jobId);
        uint256 n = d.opCount;
        // INVARIANT: σ_0 is the contract's own; only σ_1 … σ_n are the worker's claims.
        if (index == 0 || index > n) revert StateIndexOutOfRange(index, n);
        bytes32 leaf = LibMerkle.leafWord(LibMerkle.TAG_TRACE, stateRoot);
        // INVARIANT: the revealed state is the worker's, at exactly this index of its trace.
        _expect(LibMerkle.climb(LibMerkle.TAG_TRACE, leaf, index, tracePath, n + 1), job.traceRoot);
        if (index == n) {
            bytes32 output = LibMerkle.leafWord(LibMerkle.TAG_STATE, job.outputRoot);
            // INVARIANT: the output follows from the trace: slot n of σ_n is the posted output root.
            _expect(LibMerkle.climb(LibMerkle.TAG_STATE, output, n, outputPath, n + 1), stateRoot);
        }
        // INVARIANT: a repeated reveal keeps the first landing time (replaying the defender's own data must
        // not make it look late, nor buy a stalling challenger time).
        if (_states[key][index].at == 0) _states[key][index] = Revealed(stateRoot, uint64(block.timestamp));
        emit StateRevealed(jobId, job.attempt, index, stateRoot);
    }

    /// @inheritdoc IDisputeGame
    function revealTransition(uint256 jobId, uint32 k, bytes32 tensorRoot, bytes32[] calldata statePath) external {
        (Job storage job, bytes32 key, ResultDispute storage d) = _disputedResult(jobId);
        uint256 n = d.opCount;
        // INVARIANT: op k exists (it writes slot k + 1 ≤ n).
        if (k >= n) revert StateIndexOutOfRange(k, n);
        Revealed storage next = _states[key][k + 1];
        // INVARIANT: σ_{k+1} is the worker's revealed claim.
        if (next.at == 0) revert NothingRevealed(RevealKind.State, k + 1);
        _checkSlotUpdate(_agreedState(key, d, k), next.value, k + 1, tensorRoot, statePath, n + 1);
        // INVARIANT: a repeated reveal keeps the first landing time.
        if (_transitions[key][k].at == 0) _transitions[key][k] = Revealed(tensorRoot, uint64(block.timestamp));
        emit TransitionRevealed(jobId, job.attempt, k, tensorRoot);
    }

    /// @notice Checks that `before` and `afterwards` differ exactly in slot `slot`, which is empty in `before`
    /// and holds `tensorRoot` in `afterwards` (one path serves both, so no other slot changed).
    function _checkSlotUpdate(
        bytes32 before,
        bytes32 afterwards,
        uint32 slot,
        bytes32 tensorRoot,
        bytes32[] calldata statePath,
        uint256 slots
    ) internal pure {
        bytes32 empty = LibMerkle.leafWord(LibMerkle.TAG_STATE, bytes32(0));
        // INVARIANT: slot k + 1 was empty in σ_k: the path reproduces σ_k with an empty slot …
        _expect(LibMerkle.climb(LibMerkle.TAG_STATE, empty, slot, statePath, slots), before);
        bytes32 written = LibMerkle.leafWord(LibMerkle.TAG_STATE, tensorRoot);
        // INVARIANT: … and the same path gives σ_{k+1} with `tensorRoot` there, so no other slot changed.
        _expect(LibMerkle.climb(LibMerkle.TAG_STATE, written, slot, statePath, slots), afterwards);
    }

    /// @inheritdoc IDisputeGame
    function revealNode(uint256 jobId, bytes32 node, bytes32 left, bytes32 right) external {
        (Job storage job, bytes32 key,) = _disputedResult(jobId);
        // INVARIANT: the children are the node's preimage in the tensor tree.
        _expect(LibMerkle.node(LibMerkle.TAG_TENSOR, left, right), node);
        // INVARIANT: a repeated reveal keeps the first landing time.
        if (_children[key][node].at == 0) _children[key][node] = Children(left, right, uint64(block.timestamp));
        emit NodeRevealed(jobId, job.attempt, node, left, right);
    }

    /// @inheritdoc IDisputeGame
    function revealLeaf(uint256 jobId, bytes32 leaf, bytes32 data) external {
        (Job storage job, bytes32 key,) = _disputedResult(jobId);
        // INVARIANT: the data is the leaf's preimage in the tensor tree.
        _expect(LibMerkle.leafWord(LibMerkle.TAG_TENSOR, data), leaf);
        // INVARIANT: a repeated reveal keeps the first landing time.
        if (_leaves[key][leaf].at == 0) _leaves[key][leaf] = Revealed(data, uint64(block.timestamp));
        emit LeafRevealed(jobId, job.attempt, leaf, data);
    }

    // -----------------------------------------------------------------------------------------------------
    // Challenger moves
    // -----------------------------------------------------------------------------------------------------

    /// @inheritdoc IDisputeGame
    function bisect(uint256 gameId, uint32 move, bool agree) external nonReentrant {
        Game storage g = _challengerMove(gameId, move, GamePhase.Bisect);
        if (agree) g.lo = (g.lo + g.hi) / 2;
        else g.hi = (g.lo + g.hi) / 2;
        emit TraceBisected(gameId, g.lo, g.hi);
        if (g.hi - g.lo == 1) _enterTensorPhase(g, _job(g.jobId).modelId);
    }

    /// @inheritdoc IDisputeGame
    function pick(uint256 gameId, uint32 move, bool right) external nonReentrant {
        Game storage g = _challengerMove(gameId, move, GamePhase.Tensor);
        // INVARIANT: phase 2 stops at the leaf level; the leaf is named, not split.
        if (g.depth >= g.leafDepth) revert WrongPhase(gameId, g.phase);
        Children storage c = _children[_resultKey(g.jobId, g.attempt)][_tensorNode(g)];
        g.node = right ? c.right : c.left;
        g.depth += 1;
        g.index = (g.index << 1) | (right ? 1 : 0);
        emit TensorBisected(gameId, g.depth, g.index, g.node);
    }

    /// @inheritdoc IDisputeGame
    function nameElement(uint256 gameId, uint32 move, uint8 offset) external nonReentrant {
        Game storage g = _challengerMove(gameId, move, GamePhase.Tensor);
        // INVARIANT: an element is named only in a revealed leaf, and inside it.
        if (g.depth != g.leafDepth) revert WrongPhase(gameId, g.phase);
        if (offset >= LEAF_BYTES) revert StateIndexOutOfRange(offset, LEAF_BYTES - 1);
        g.offset = offset;
        g.phase = GamePhase.Step;
        emit ElementNamed(gameId, offset);
    }

    /// @inheritdoc IDisputeGame
    function step(uint256 gameId, StepWitness calldata witness) external nonReentrant {
        Game storage g = _activeGame(gameId);
        // INVARIANT: the one step runs only on a named element.
        if (g.phase != GamePhase.Step) revert WrongPhase(gameId, g.phase);
        // INVARIANT: phase 3 is the challenger's move, on its clock.
        uint64 spent = uint64(block.timestamp) - g.lastMoveAt;
        if (spent > _allowance(g.challengerLeft)) revert ChallengerOutOfTime(gameId);

        bytes32 key = _resultKey(g.jobId, g.attempt);
        uint32 k = g.lo;
        int8 claimed = int8(uint8(_leaves[key][_tensorNode(g)].value[g.offset]));
        uint256 modelId = _job(g.jobId).modelId;
        (bool padding, uint256 e) = _element(modelId, k, g.index, g.offset);
        int8 actual =
            padding ? int8(0) : prover.trueElement(modelId, k, _agreedState(key, _disputes[key], k), e, witness);
        emit StepProven(gameId, k, padding ? type(uint256).max : e, claimed, actual);
        if (claimed != actual) _defenderLoses(gameId, g);
        else _challengerLoses(gameId, g);
    }

    // -----------------------------------------------------------------------------------------------------
    // Resolution
    // -----------------------------------------------------------------------------------------------------

    /// @inheritdoc IDisputeGame
    function timeout(uint256 gameId) external nonReentrant {
        Game storage g = _activeGame(gameId);
        (bool ready, uint64 readyAt) = _ready(g);
        uint64 now_ = uint64(block.timestamp);
        if (!ready) {
            // INVARIANT: the defender loses once its data has been missing for longer than it had.
            if (now_ - g.lastMoveAt > _allowance(g.defenderLeft)) return _defenderLoses(gameId, g);
            revert NotTimedOut(gameId);
        }
        uint64 start = readyAt > g.lastMoveAt ? readyAt : g.lastMoveAt;
        // INVARIANT: data that landed after the defender's time ran out does not save it.
        if (start - g.lastMoveAt > _allowance(g.defenderLeft)) return _defenderLoses(gameId, g);
        // INVARIANT: the challenger loses once it has had the move for longer than it had.
        if (now_ - start > _allowance(g.challengerLeft)) return _challengerLoses(gameId, g);
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
        uint256 paid = g.bond + d.share;
        g.status = GameStatus.Moot;
        d.openGames -= 1;
        _credit(g.challenger, paid);
        emit GameResolved(gameId, GameStatus.Moot, paid, 0, 0);
    }

    /// @notice The challenger lost: half (`burnBps`) of its bond is burned, the rest goes to the defender.
    function _challengerLoses(uint256 gameId, Game storage g) internal {
        uint256 burn = g.bond * burnBps / BPS;
        uint256 toDefender = g.bond - burn;
        g.status = GameStatus.DefenderWon;
        _disputes[_resultKey(g.jobId, g.attempt)].openGames -= 1;
        burned += burn;
        _credit(g.defender, toDefender);
        emit GameResolved(gameId, GameStatus.DefenderWon, 0, toDefender, burn);
    }

    /// @notice The defender lost: its result is overturned and the job re-opened. `burnBps` of the worker's bond is
    /// burned; the rest is split equally among the games open now (this one included; the others claim with
    /// `claimMoot`), the division's remainder burned too.
    function _defenderLoses(uint256 gameId, Game storage g) internal {
        Job storage job = _job(g.jobId);
        bytes32 key = _resultKey(g.jobId, g.attempt);
        ResultDispute storage d = _disputes[key];
        uint256 workerBond = _reopen(job);
        uint256 shared = workerBond - workerBond * burnBps / BPS;
        uint256 share = shared / d.openGames;
        uint256 burn = workerBond - share * d.openGames;
        d.overturned = true;
        d.share = share;
        d.openGames -= 1;
        burned += burn;
        g.status = GameStatus.ChallengerWon;
        uint256 paid = g.bond + share;
        _credit(g.challenger, paid);
        emit ResultOverturned(g.jobId, g.attempt, share, burn);
        emit GameResolved(gameId, GameStatus.ChallengerWon, paid, 0, burn);
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
    function pendingReveal(uint256 gameId) external view returns (RevealKind kind, uint32 index, bytes32 hash) {
        Game storage g = _games[gameId];
        if (g.status != GameStatus.Active || _disputes[_resultKey(g.jobId, g.attempt)].overturned) {
            return (RevealKind.None, 0, bytes32(0));
        }
        return _missing(g);
    }

    /// @inheritdoc IDisputeGame
    function revealedState(uint256 jobId, uint32 attempt, uint32 index) external view returns (bytes32) {
        return _states[_resultKey(jobId, attempt)][index].value;
    }

    /// @inheritdoc IDisputeGame
    function revealedTransition(uint256 jobId, uint32 attempt, uint32 k) external view returns (bytes32) {
        return _transitions[_resultKey(jobId, attempt)][k].value;
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
    function revealedLeaf(uint256 jobId, uint32 attempt, bytes32 leaf) external view returns (bool, bytes32) {
        Revealed storage r = _leaves[_resultKey(jobId, attempt)][leaf];
        return (r.at != 0, r.value);
    }

    // -----------------------------------------------------------------------------------------------------
    // Internals
    // -----------------------------------------------------------------------------------------------------

    /// @notice The key of result `attempt` of `jobId` in every per-result mapping.
    function _resultKey(uint256 jobId, uint32 attempt) internal pure returns (bytes32) {
        return keccak256(abi.encode(jobId, attempt));
    }

    /// @notice How many games on result `attempt` of `jobId` are still Active (a result settles only at zero).
    function _openGames(uint256 jobId, uint32 attempt) internal view returns (uint32) {
        return _disputes[_resultKey(jobId, attempt)].openGames;
    }

    /// @notice The job's current result, its key and its dispute, which must have been challenged.
    function _disputedResult(uint256 jobId)
        internal
        view
        returns (Job storage job, bytes32 key, ResultDispute storage d)
    {
        job = _job(jobId);
        // INVARIANT: reveals concern a live, challenged result (they are cached for its games only).
        if (job.status != JobStatus.Submitted) revert ResultNotSubmitted(jobId, job.status);
        key = _resultKey(jobId, job.attempt);
        d = _disputes[key];
        if (d.opCount == 0) revert NoDispute(jobId, job.attempt);
    }

    /// @notice An Active game on a result that still stands.
    function _activeGame(uint256 gameId) internal view returns (Game storage g) {
        g = _games[gameId];
        // INVARIANT: only Active games move or resolve.
        if (g.status != GameStatus.Active) revert GameNotActive(gameId, g.status);
        // INVARIANT: once a result is overturned its other games can only be claimed as moot.
        if (_disputes[_resultKey(g.jobId, g.attempt)].overturned) revert ResultOverturnedAlready(g.jobId, g.attempt);
    }

    /// @notice Checks a challenger move (`move` names the position, the phase is `phase`, the defender's data is
    /// there), charges both clocks and counts the move.
    function _challengerMove(uint256 gameId, uint32 move, GamePhase phase) internal returns (Game storage g) {
        g = _activeGame(gameId);
        // INVARIANT: only the challenger chooses where the game goes.
        if (msg.sender != g.challenger) revert NotChallenger(gameId, msg.sender);
        // INVARIANT: the move answers the position it names (no stale or reorged move lands elsewhere).
        if (move != g.moves) revert StaleMove(gameId, move, g.moves);
        if (g.phase != phase) revert WrongPhase(gameId, g.phase);
        (bool ready, uint64 readyAt) = _ready(g);
        if (!ready) {
            (RevealKind kind, uint32 index,) = _missing(g);
            revert NothingRevealed(kind, index);
        }
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
    }

    /// @notice The most a side with `left` seconds on its clock may take for one move.
    function _allowance(uint64 left) internal view returns (uint64) {
        return left > clockExtension ? left : clockExtension;
    }

    /// @notice `left − spent`, floored at zero (a move inside the extension empties the clock).
    function _spend(uint64 left, uint64 spent) internal pure returns (uint64) {
        return spent < left ? left - spent : 0;
    }

    /// @notice Whether the defender's data for the current position is all revealed, and when the last of it landed.
    function _ready(Game storage g) internal view returns (bool ready, uint64 readyAt) {
        bytes32 key = _resultKey(g.jobId, g.attempt);
        if (g.phase == GamePhase.Step) return (true, g.lastMoveAt);
        if (g.phase == GamePhase.Bisect) {
            uint64 hiAt = _states[key][g.hi].at;
            uint64 midAt = _states[key][(g.lo + g.hi) / 2].at;
            if (hiAt == 0 || midAt == 0) return (false, 0);
            return (true, hiAt > midAt ? hiAt : midAt);
        }
        uint64 rootAt = g.lastMoveAt;
        if (g.depth == 0) {
            rootAt = _transitions[key][g.lo].at;
            if (rootAt == 0) return (false, 0);
        }
        bytes32 node = _tensorNode(g);
        uint64 at = g.depth < g.leafDepth ? _children[key][node].at : _leaves[key][node].at;
        if (at == 0) return (false, 0);
        return (true, at > rootAt ? at : rootAt);
    }

    /// @notice The first reveal the current position lacks (`RevealKind.None` when the challenger is to move).
    function _missing(Game storage g) internal view returns (RevealKind kind, uint32 index, bytes32 hash) {
        bytes32 key = _resultKey(g.jobId, g.attempt);
        if (g.phase == GamePhase.Step) return (RevealKind.None, 0, bytes32(0));
        if (g.phase == GamePhase.Bisect) {
            if (_states[key][g.hi].at == 0) return (RevealKind.State, g.hi, bytes32(0));
            uint32 mid = (g.lo + g.hi) / 2;
            if (_states[key][mid].at == 0) return (RevealKind.State, mid, bytes32(0));
            return (RevealKind.None, 0, bytes32(0));
        }
        if (g.depth == 0 && _transitions[key][g.lo].at == 0) {
            // The transition is proven against the revealed σ_{k+1} (σ_n, with the output, for k + 1 = n).
            if (_states[key][g.lo + 1].at == 0) return (RevealKind.State, g.lo + 1, bytes32(0));
            return (RevealKind.Transition, g.lo, bytes32(0));
        }
        bytes32 node = _tensorNode(g);
        if (g.depth < g.leafDepth) {
            if (_children[key][node].at == 0) return (RevealKind.Node, 0, node);
        } else if (_leaves[key][node].at == 0) {
            return (RevealKind.Leaf, 0, node);
        }
        return (RevealKind.None, 0, bytes32(0));
    }

    /// @notice The defender's hash at the game's tensor position (the revealed transition at depth 0).
    function _tensorNode(Game storage g) internal view returns (bytes32) {
        if (g.depth == 0) return _transitions[_resultKey(g.jobId, g.attempt)][g.lo].value;
        return g.node;
    }

    /// @notice Phase 1 is over (σ_lo agreed, σ_lo+1 disputed): phase 2 starts at the root of slot lo + 1's tensor.
    function _enterTensorPhase(Game storage g, uint256 modelId) internal {
        TensorShape memory out = LibOp.outShape(_registry().opSpec(modelId, g.lo));
        uint256 leafCount = uint256(out.h) * out.w * _leavesPerRow(out.c);
        g.phase = GamePhase.Tensor;
        g.leafDepth = uint8(LibMerkle.ceilLog2(leafCount));
    }

    /// @notice The element at byte `offset` of leaf `leafIndex` of op k's output: `padding` when it lies past the
    /// tensor (a padding leaf, or a channel ≥ C in a row's last leaf), whose true value is 0; else its index `e`.
    function _element(uint256 modelId, uint32 k, uint64 leafIndex, uint8 offset)
        internal
        view
        returns (bool padding, uint256 e)
    {
        TensorShape memory out = LibOp.outShape(_registry().opSpec(modelId, k));
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

    /// @notice The agreed state σ_k: the contract's σ_0, or the defender's revealed σ_k the challenger agreed to.
    function _agreedState(bytes32 key, ResultDispute storage d, uint32 k) internal view returns (bytes32) {
        if (k == 0) return d.sigma0;
        Revealed storage r = _states[key][k];
        // INVARIANT: an agreed state was revealed (bisection only agrees to revealed states).
        if (r.at == 0) revert NothingRevealed(RevealKind.State, k);
        return r.value;
    }

    /// @notice σ_0: the state tree over n + 1 slots with slot 0 = `inputRoot` and every other slot empty.
    function _sigma0(bytes32 inputRoot, uint256 n) internal pure returns (bytes32 h) {
        uint256 depth = LibMerkle.ceilLog2(n + 1);
        h = LibMerkle.leafWord(LibMerkle.TAG_STATE, inputRoot);
        bytes32 empty = LibMerkle.leafWord(LibMerkle.TAG_STATE, bytes32(0));
        for (uint256 i = 0; i < depth; ++i) {
            h = LibMerkle.node(LibMerkle.TAG_STATE, h, empty);
            empty = LibMerkle.node(LibMerkle.TAG_STATE, empty, empty);
        }
    }

    /// @notice Reverts `RevealMismatch` unless `computed == expected`.
    function _expect(bytes32 computed, bytes32 expected) internal pure {
        if (computed != expected) revert RevealMismatch(computed, expected);
    }
}
