// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {JobMarket} from "../../src/JobMarket.sol";
import {ModelRegistry} from "../../src/ModelRegistry.sol";
import {OneStepProver} from "../../src/OneStepProver.sol";
import {DefenderOutOfTime} from "../../src/lib/Errors.sol";
import {Game, GamePhase, GameStatus, Job, JobStatus, ResultDispute, RevealKind} from "../../src/lib/Types.sol";
import {Base} from "../Base.t.sol";
import {ClampChain, ClampModel, Trace} from "../utils/ClampChain.sol";
import {Configs} from "../utils/Configs.sol";
import {GameDriver} from "../utils/GameDriver.sol";
import {Reference} from "../utils/Reference.sol";

/// @notice Drives the market and its dispute games with the actors of a real deployment: a poster, honest and lying
/// workers, honest and lying challengers. Honest parties always answer at once (before any time passes); lying ones
/// answer from their lying traces, or stall, as the fuzzer picks. A lie is a recipe (kind, seed) from which every
/// trace is rebuilt when needed. Ghost variables record what went in and out and every property violation.
contract DisputeHandler is GameDriver {
    /// @dev Worker lies. ELEMENT: one element of one slot changed (the later slots recomputed or not); PADDING: a
    /// nonzero padding byte (a channel ≥ C or a padding leaf) in a middle slot; INPUT: the trace of another input;
    /// OUTPUT: honest output posted with a trace whose slot n differs; GARBAGE: a trace root that is no trace at all.
    uint8 internal constant HONEST = 0;
    uint8 internal constant ELEMENT = 1;
    uint8 internal constant PADDING = 2;
    uint8 internal constant INPUT = 3;
    uint8 internal constant OUTPUT = 4;
    uint8 internal constant GARBAGE = 5;

    uint256 internal constant FEE = 0.01 ether;
    uint256 internal constant MAX_JOBS = 6;
    uint256 internal constant MAX_GAMES = 16;

    struct JobInfo {
        uint8 model;
        uint256 inputSeed;
    }

    struct Lie {
        uint8 kind;
        uint256 seed;
    }

    struct GameInfo {
        bool honestChallenger;
        Lie lie;
        uint64 openedAt;
    }

    ModelRegistry internal immutable registry;
    uint256[2] internal modelIds;
    address internal immutable poster;
    address internal immutable owner;
    address[2] internal honestWorkers;
    address[2] internal lyingWorkers;
    address[2] internal honestChallengers;
    address[2] internal lyingChallengers;
    address[] internal actors;

    mapping(uint256 jobId => JobInfo) internal jobs;
    mapping(bytes32 result => Lie) internal results;
    mapping(uint256 gameId => GameInfo) internal games;
    mapping(uint256 jobId => uint256) internal settlements;

    uint256 public ghostDeposited;
    uint256 public ghostWithdrawn;
    /// @dev A job settled twice, or while a game on its result was Active.
    uint256 public ghostBadSettlement;
    /// @dev An honest party's reveal or move failed (other than by the other side's timeout).
    uint256 public ghostHonestMoveFailed;
    /// @dev A game older than 2·(gameClock + (moves + 1)·clockExtension) could not be timed out.
    uint256 public ghostStuck;
    /// @dev Games resolved by `_checkClocks` (for the run summary).
    uint256 public ghostTimedOut;
    uint256 public calls;

    constructor(JobMarket market_, ModelRegistry registry_, uint256[2] memory modelIds_, address owner_) {
        market = market_;
        registry = registry_;
        modelIds = modelIds_;
        owner = owner_;
        poster = vm.addr(0xb0b);
        actors.push(owner_);
        actors.push(poster);
        for (uint256 i = 0; i < 2; ++i) {
            honestWorkers[i] = vm.addr(0x1000 + i);
            lyingWorkers[i] = vm.addr(0x2000 + i);
            honestChallengers[i] = vm.addr(0x3000 + i);
            lyingChallengers[i] = vm.addr(0x4000 + i);
            actors.push(honestWorkers[i]);
            actors.push(lyingWorkers[i]);
            actors.push(honestChallengers[i]);
            actors.push(lyingChallengers[i]);
        }
    }

    // ======================================================================================================
    // Models, inputs, traces
    // ======================================================================================================

    /// @notice Model 0: 5 clamps over [1, 1, 40] (two leaves a row, channels 40..63 padding); model 1: 3 clamps
    /// over [2, 3, 5] (six one-leaf rows, two padding leaves).
    function model(uint8 index) public pure returns (ClampModel memory) {
        if (index == 0) return ClampChain.narrowing(ClampChain.shape(1, 1, 40), 5);
        return ClampChain.narrowing(ClampChain.shape(2, 3, 5), 3);
    }

    function _input(ClampModel memory m, uint256 seed) internal pure returns (bytes memory) {
        return randomBytes(seed, ClampChain.elementCount(m.shape));
    }

    function _key(uint256 jobId, uint32 attempt) internal pure returns (bytes32) {
        return keccak256(abi.encode(jobId, attempt));
    }

    function _honestTrace(uint256 jobId) internal view returns (Trace memory) {
        JobInfo memory info = jobs[jobId];
        ClampModel memory m = model(info.model);
        return ClampChain.honest(m, _input(m, info.inputSeed));
    }

    /// @notice The trace of `lie` on job `jobId` and the output its holder posts.
    function _trace(uint256 jobId, Lie memory lie) internal view returns (Trace memory t, bytes memory output) {
        JobInfo memory info = jobs[jobId];
        ClampModel memory m = model(info.model);
        bytes memory input = _input(m, info.inputSeed);
        t = ClampChain.honest(m, input);
        output = ClampChain.decode(t.shape, t.words[t.n]);
        uint256 s = lie.seed;
        if (lie.kind == ELEMENT) {
            // forge-lint: disable-next-line(unsafe-typecast)
            uint32 slot = uint32(1 + s % t.n);
            uint256 e = (s >> 8) % ClampChain.elementCount(t.shape);
            int8 v = ClampChain.element(t.shape, t.words[slot], e);
            // forge-lint: disable-next-line(unsafe-typecast)
            int8 w = int8(uint8(s >> 16));
            ClampChain.setElement(t.shape, t.words[slot], e, w == v ? v ^ int8(1) : w);
            if ((s >> 24) & 1 == 1) ClampChain.propagate(t, m, slot);
            ClampChain.seal(t);
            output = ClampChain.decode(t.shape, t.words[t.n]);
        } else if (lie.kind == PADDING) {
            // A middle slot (the posted output's padding is zeroed by the contract itself).
            uint256 slot = 1 + s % (t.n - 1);
            uint256 bytesTotal = t.words[slot].length * 32;
            uint256 pos = (s >> 8) % bytesTotal;
            for (uint256 i = 0; i < bytesTotal; ++i) {
                (bool padding,) = ClampChain.elementAt(t.shape, pos / 32, pos % 32);
                if (padding) break;
                pos = (pos + 1) % bytesTotal;
            }
            // forge-lint: disable-next-line(unsafe-typecast)
            ClampChain.setByte(t.words[slot], pos / 32, pos % 32, uint8(1 + (s >> 32) % 255));
            ClampChain.seal(t);
        } else if (lie.kind == INPUT) {
            uint256 at = s % input.length;
            // forge-lint: disable-next-line(unsafe-typecast)
            input[at] = bytes1(uint8(input[at]) ^ uint8(1 + (s >> 8) % 255));
            t = ClampChain.honest(m, input);
            output = ClampChain.decode(t.shape, t.words[t.n]);
        } else if (lie.kind == OUTPUT) {
            uint256 e = (s >> 8) % ClampChain.elementCount(t.shape);
            int8 v = ClampChain.element(t.shape, t.words[t.n], e);
            ClampChain.setElement(t.shape, t.words[t.n], e, v ^ int8(1));
            ClampChain.seal(t);
        } else if (lie.kind == GARBAGE) {
            t.traceRoot = keccak256(abi.encode("garbage", s));
        }
    }

    function _workerTrace(uint256 jobId, uint32 attempt) internal view returns (Trace memory t) {
        (t,) = _trace(jobId, results[_key(jobId, attempt)]);
    }

    function _challengerTrace(uint256 gameId, uint256 jobId) internal view returns (Trace memory t) {
        (t,) = _trace(jobId, games[gameId].lie);
    }

    // ======================================================================================================
    // Actions (the fuzzer's targets)
    // ======================================================================================================

    function postJob(uint256 modelSeed, uint256 inputSeed) public {
        if (market.jobCount() >= MAX_JOBS) return;
        // forge-lint: disable-next-line(unsafe-typecast)
        uint8 which = uint8(modelSeed % 2);
        vm.deal(poster, poster.balance + FEE);
        vm.prank(poster);
        uint256 jobId = market.postJob{value: FEE}(
            modelIds[which], _input(model(which), inputSeed), uint64(block.timestamp + 3 days)
        );
        jobs[jobId] = JobInfo({model: which, inputSeed: inputSeed});
        ghostDeposited += FEE;
        ++calls;
    }

    /// @notice A worker submits a result to an Open job (posting one first if there is none).
    function submitResult(uint256 jobSeed, uint256 workerSeed, uint256 lieSeed) public {
        uint256 jobId = _findJob(jobSeed, JobStatus.Open);
        if (jobId == 0) {
            postJob(jobSeed >> 64, jobSeed >> 128);
            jobId = _findJob(jobSeed, JobStatus.Open);
            if (jobId == 0) return;
        }
        Job memory job = market.getJob(jobId);
        if (block.timestamp >= job.deadline) return;
        bool honest = workerSeed % 2 == 0;
        address worker = honest ? honestWorkers[(workerSeed >> 1) % 2] : lyingWorkers[(workerSeed >> 1) % 2];
        // forge-lint: disable-next-line(unsafe-typecast)
        Lie memory lie = Lie({kind: honest ? HONEST : uint8(1 + lieSeed % 5), seed: lieSeed >> 8});
        (Trace memory t, bytes memory output) = _trace(jobId, lie);
        uint256 bond = market.resultBond();
        vm.deal(worker, worker.balance + bond);
        vm.prank(worker);
        market.submitResult{value: bond}(jobId, Reference.tensorRoot(output, t.shape.c), t.traceRoot, output);
        results[_key(jobId, job.attempt + 1)] = lie;
        ghostDeposited += bond;
        ++calls;
    }

    /// @notice A challenger disputes a result inside its window (one is submitted first if there is none).
    function challenge(uint256 jobSeed, uint256 challengerSeed, uint256 lieSeed) external {
        if (market.gameCount() >= MAX_GAMES) return;
        uint256 jobId = _findChallengeable(jobSeed);
        if (jobId == 0) {
            submitResult(jobSeed, lieSeed >> 128, lieSeed >> 64);
            jobId = _findChallengeable(jobSeed);
            if (jobId == 0) return;
        }
        Job memory job = market.getJob(jobId);
        // An honest challenger disputes only a result whose trace is not its own; a lying one disputes anything.
        bool honest = challengerSeed % 2 == 0 && job.traceRoot != _honestTrace(jobId).traceRoot;
        Lie memory lie;
        if (!honest) {
            // forge-lint: disable-next-line(unsafe-typecast)
            lie = Lie({kind: uint8(1 + lieSeed % 2), seed: lieSeed >> 8});
        }
        address who =
            honest ? honestChallengers[(challengerSeed >> 1) % 2] : lyingChallengers[(challengerSeed >> 1) % 2];
        uint256 bond = market.challengeBond();
        vm.deal(who, who.balance + bond);
        vm.prank(who);
        uint256 gameId = market.challenge{value: bond}(jobId);
        games[gameId] = GameInfo({honestChallenger: honest, lie: lie, openedAt: uint64(block.timestamp)});
        ghostDeposited += bond;
        ++calls;
    }

    /// @notice Up to four moves in a live game by whichever side is to move, honest or not (a lying side may fail,
    /// and then stalls).
    function move(uint256 gameSeed) external {
        uint256 gameId = _findLiveGame(gameSeed);
        if (gameId == 0) return;
        uint256 count = 1 + (gameSeed >> 128) % 4;
        for (uint256 i = 0; i < count && live(gameId); ++i) {
            try this.oneMove(gameId) {
                ++calls;
            } catch {
                return;
            }
        }
    }

    /// @notice Anyone times out a game (it may not be due).
    function timeout(uint256 gameSeed) external {
        uint256 gameId = _findLiveGame(gameSeed);
        if (gameId == 0) return;
        try market.timeout(gameId) {
            ++calls;
        } catch {}
    }

    function claimMoot(uint256 gameSeed) external {
        uint256 gameId = _pickGame(gameSeed);
        if (gameId == 0) return;
        Game memory g = market.getGame(gameId);
        if (g.status != GameStatus.Active || !market.getDispute(g.jobId, g.attempt).overturned) return;
        market.claimMoot(gameId);
        ++calls;
    }

    /// @notice A lying challenger re-sends data the defender already revealed for a game (it is public: events).
    function replay(uint256 gameSeed) external {
        uint256 gameId = _findLiveGame(gameSeed);
        if (gameId == 0) return;
        try this.replayOne(gameId) {
            ++calls;
        } catch {}
    }

    function finalize(uint256 jobSeed) external {
        uint256 jobId = _findJob(jobSeed, JobStatus.Submitted);
        if (jobId == 0) return;
        Job memory job = market.getJob(jobId);
        uint256 endsAt = job.submittedAt + market.challengeWindow();
        if (block.timestamp < endsAt) _advance(endsAt - block.timestamp);
        job = market.getJob(jobId);
        if (job.status != JobStatus.Submitted) return; // a game overturned it meanwhile
        try market.finalize(jobId) {
            ++calls;
            ++settlements[jobId];
            if (settlements[jobId] > 1) ++ghostBadSettlement;
            for (uint256 id = 1; id <= market.gameCount(); ++id) {
                Game memory g = market.getGame(id);
                if (g.jobId == jobId && g.attempt == job.attempt && g.status == GameStatus.Active) {
                    ++ghostBadSettlement;
                }
            }
        } catch {}
    }

    function refundExpired(uint256 jobSeed) external {
        uint256 jobId = _findJob(jobSeed, JobStatus.Open);
        if (jobId == 0) return;
        Job memory job = market.getJob(jobId);
        if (block.timestamp < job.deadline) return;
        market.refundExpired(jobId);
        ++calls;
    }

    function withdraw(uint256 actorSeed) external {
        address account = actors[actorSeed % actors.length];
        uint256 amount = market.credits(account);
        if (amount == 0) return;
        uint256 before = account.balance;
        vm.prank(account);
        market.withdraw();
        vm.assertEq(account.balance, before + amount, "paid exactly the credit");
        ghostWithdrawn += amount;
        ++calls;
    }

    /// @notice Time passes (after every honest party has answered what it can).
    function warp(uint256 delta) external {
        _advance(bound(delta, 1, 30 minutes));
        ++calls;
    }

    // ======================================================================================================
    // Self-calls (external so a failure reverts only the move, and memory starts afresh)
    // ======================================================================================================

    /// @notice The side to move in game `gameId` makes one move from its own trace.
    function oneMove(uint256 gameId) external {
        require(msg.sender == address(this), "self only");
        Game memory g = market.getGame(gameId);
        (RevealKind kind, uint32 index, bytes32 hash) = market.pendingReveal(gameId);
        if (kind != RevealKind.None) reveal(gameId, _workerTrace(g.jobId, g.attempt), kind, index, hash);
        else attack(gameId, _challengerTrace(gameId, g.jobId));
    }

    /// @notice Every move the honest parties of game `gameId` can make now (an honest challenger also times out a
    /// defender whose data came too late). Reverts if one of them fails: that is a violation.
    function honestMoves(uint256 gameId) external {
        require(msg.sender == address(this), "self only");
        Game memory g = market.getGame(gameId);
        bool honestDefender = results[_key(g.jobId, g.attempt)].kind == HONEST;
        bool honestChallenger = games[gameId].honestChallenger;
        if (!honestDefender && !honestChallenger) return;
        Trace memory theirs = _workerTrace(g.jobId, g.attempt);
        Trace memory mine = _challengerTrace(gameId, g.jobId);
        for (uint256 i = 0; i < MAX_TURNS && live(gameId); ++i) {
            (RevealKind kind, uint32 index, bytes32 hash) = market.pendingReveal(gameId);
            if (kind != RevealKind.None) {
                if (!honestDefender) return;
                reveal(gameId, theirs, kind, index, hash);
            } else {
                if (!honestChallenger) return;
                try this.challengerMove(gameId, mine) {}
                catch (bytes memory err) {
                    if (bytes4(err) != DefenderOutOfTime.selector) revert("honest challenger move failed");
                    market.timeout(gameId);
                }
            }
        }
    }

    function challengerMove(uint256 gameId, Trace memory mine) external {
        require(msg.sender == address(this), "self only");
        attack(gameId, mine);
    }

    /// @notice Re-sends one already revealed piece of the current position of game `gameId`.
    function replayOne(uint256 gameId) external {
        require(msg.sender == address(this), "self only");
        Game memory g = market.getGame(gameId);
        Trace memory theirs = _workerTrace(g.jobId, g.attempt);
        address sender = lyingChallengers[gameId % 2];
        if (g.phase == GamePhase.Bisect) {
            uint32 mid = (g.lo + g.hi) / 2;
            uint32 index = market.revealedState(g.jobId, g.attempt, mid) != bytes32(0) ? mid : g.hi;
            if (market.revealedState(g.jobId, g.attempt, index) == bytes32(0)) return;
            bytes32[] memory outputPath =
                index == theirs.n ? ClampChain.statePath(theirs, index, index) : new bytes32[](0);
            vm.prank(sender);
            market.revealState(g.jobId, index, theirs.sigma[index], ClampChain.tracePath(theirs, index), outputPath);
        } else if (g.phase == GamePhase.Tensor) {
            bytes32 node = g.depth == 0 ? market.revealedTransition(g.jobId, g.attempt, g.lo) : g.node;
            if (node == bytes32(0)) return;
            if (g.depth < g.leafDepth) {
                (bytes32 l, bytes32 r) = market.revealedNode(g.jobId, g.attempt, node);
                if (l == bytes32(0) && r == bytes32(0)) return;
                vm.prank(sender);
                market.revealNode(g.jobId, node, l, r);
            } else {
                (bool known, bytes32 data) = market.revealedLeaf(g.jobId, g.attempt, node);
                if (!known) return;
                vm.prank(sender);
                market.revealLeaf(g.jobId, node, data);
            }
        }
    }

    // ======================================================================================================
    // Time
    // ======================================================================================================

    /// @notice Lets every honest party answer, then lets `delta` seconds pass, then times out every game that has
    /// outlived its clocks (it must be possible).
    function _advance(uint256 delta) internal {
        _honestCatchUp();
        vm.warp(block.timestamp + delta);
        _checkClocks();
    }

    function _honestCatchUp() internal {
        for (uint256 id = 1; id <= market.gameCount(); ++id) {
            if (!live(id)) continue;
            try this.honestMoves(id) {}
            catch {
                ++ghostHonestMoveFailed;
            }
        }
    }

    /// @notice The longest a game can stay undecided: each side's clock, plus an extension per challenger move and
    /// one for the move pending (see `DisputeGame._allowance`).
    function maxAge(Game memory g) public view returns (uint256) {
        return 2 * (uint256(market.gameClock()) + (uint256(g.moves) + 1) * market.clockExtension());
    }

    function _checkClocks() internal {
        for (uint256 id = 1; id <= market.gameCount(); ++id) {
            if (!live(id)) continue;
            Game memory g = market.getGame(id);
            if (block.timestamp - games[id].openedAt <= maxAge(g)) continue;
            try market.timeout(id) {
                ++ghostTimedOut;
            } catch {
                ++ghostStuck;
            }
        }
    }

    // ======================================================================================================
    // Views for the invariants
    // ======================================================================================================

    function sumCredits() external view returns (uint256 sum) {
        for (uint256 i = 0; i < actors.length; ++i) {
            sum += market.credits(actors[i]);
        }
    }

    /// @notice Σ fee of Open and Submitted jobs + Σ bond of Submitted jobs.
    function jobEscrow() external view returns (uint256 sum) {
        for (uint256 id = 1; id <= market.jobCount(); ++id) {
            Job memory job = market.getJob(id);
            if (job.status == JobStatus.Open) sum += job.fee;
            if (job.status == JobStatus.Submitted) sum += job.fee + job.bond;
        }
    }

    /// @notice Σ bond of Active games + Σ share of Active games on overturned results (unclaimed moot payouts).
    function gameEscrow() external view returns (uint256 sum) {
        for (uint256 id = 1; id <= market.gameCount(); ++id) {
            Game memory g = market.getGame(id);
            if (g.status != GameStatus.Active) continue;
            ResultDispute memory d = market.getDispute(g.jobId, g.attempt);
            sum += g.bond + (d.overturned ? d.share : 0);
        }
    }

    /// @notice Games an honest side lost: an honest worker against a lying challenger ended ChallengerWon, or a lying
    /// worker against an honest challenger ended DefenderWon.
    function honestLosses() external view returns (uint256 count) {
        for (uint256 id = 1; id <= market.gameCount(); ++id) {
            Game memory g = market.getGame(id);
            bool honestDefender = results[_key(g.jobId, g.attempt)].kind == HONEST;
            bool honestChallenger = games[id].honestChallenger;
            if (honestDefender && !honestChallenger && g.status == GameStatus.ChallengerWon) ++count;
            if (!honestDefender && honestChallenger && g.status == GameStatus.DefenderWon) ++count;
        }
    }

    /// @notice Active games whose result is neither current (job Submitted with the game's attempt) nor overturned.
    function orphanGames() external view returns (uint256 count) {
        for (uint256 id = 1; id <= market.gameCount(); ++id) {
            Game memory g = market.getGame(id);
            if (g.status != GameStatus.Active) continue;
            Job memory job = market.getJob(g.jobId);
            bool current = job.status == JobStatus.Submitted && job.attempt == g.attempt;
            if (!current && !market.getDispute(g.jobId, g.attempt).overturned) ++count;
        }
    }

    /// @notice Live games older than their clocks allow (`_checkClocks` resolves them whenever time passes).
    function overdueGames() external view returns (uint256 count) {
        for (uint256 id = 1; id <= market.gameCount(); ++id) {
            if (!live(id)) continue;
            if (block.timestamp - games[id].openedAt > maxAge(market.getGame(id))) ++count;
        }
    }

    /// @notice Resolved games by outcome (for the run summary).
    function outcomes() external view returns (uint256 challengerWon, uint256 defenderWon, uint256 moot) {
        for (uint256 id = 1; id <= market.gameCount(); ++id) {
            GameStatus s = market.getGame(id).status;
            if (s == GameStatus.ChallengerWon) ++challengerWon;
            if (s == GameStatus.DefenderWon) ++defenderWon;
            if (s == GameStatus.Moot) ++moot;
        }
    }

    /// @notice A job in `status`, searched from a random one on (0 if there is none).
    function _findJob(uint256 seed, JobStatus status) internal view returns (uint256) {
        uint256 count = market.jobCount();
        for (uint256 i = 0; i < count; ++i) {
            uint256 id = 1 + (seed % count + i) % count;
            if (market.getJob(id).status == status) return id;
        }
        return 0;
    }

    /// @notice A Submitted job inside its challenge window, searched from a random one on (0 if there is none).
    function _findChallengeable(uint256 seed) internal view returns (uint256) {
        uint256 count = market.jobCount();
        for (uint256 i = 0; i < count; ++i) {
            uint256 id = 1 + (seed % count + i) % count;
            Job memory job = market.getJob(id);
            if (job.status == JobStatus.Submitted && block.timestamp < job.submittedAt + market.challengeWindow()) {
                return id;
            }
        }
        return 0;
    }

    function _pickGame(uint256 seed) internal view returns (uint256) {
        uint256 count = market.gameCount();
        return count == 0 ? 0 : 1 + seed % count;
    }

    /// @notice A live game, searched from a random one on (0 if there is none).
    function _findLiveGame(uint256 seed) internal view returns (uint256) {
        uint256 count = market.gameCount();
        for (uint256 i = 0; i < count; ++i) {
            uint256 id = 1 + (seed % count + i) % count;
            if (live(id)) return id;
        }
        return 0;
    }
}

/// @notice After any sequence of posts, results (honest or lying), challenges (honest or lying), moves, stalls,
/// replays, timeouts, moot claims, settlements and withdrawals: ether is conserved to the wei, a job settles at most
/// once and never under an Active game, no game outlives its clocks, and the honest side of a game always wins.
contract DisputeSolvencyInvariantTest is Base {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    JobMarket internal market;
    DisputeHandler internal handler;

    function setUp() public {
        vm.warp(1_800_000_000);
        ModelRegistry registry = new ModelRegistry();
        market = new JobMarket(registry, new OneStepProver(registry), Configs.market(2 hours, 0.5 ether));
        address owner = makeAddr("owner");
        uint256[2] memory ids;
        for (uint8 i = 0; i < 2; ++i) {
            ClampModel memory m = _model(i);
            uint32 n = ClampChain.opCount(m);
            vm.startPrank(owner);
            ids[i] = registry.registerModel(m.root, n, m.shape, m.zero, m.shape, 0.01 ether, 1234, "");
            for (uint32 k = 0; k < n; ++k) {
                registry.publishLeaves(ids[i], k, m.ops[k]);
                registry.sealOp(ids[i], k);
            }
            vm.stopPrank();
        }
        handler = new DisputeHandler(market, registry, ids, owner);
    }

    function _model(uint8 index) internal pure returns (ClampModel memory) {
        if (index == 0) return ClampChain.narrowing(ClampChain.shape(1, 1, 40), 5);
        return ClampChain.narrowing(ClampChain.shape(2, 3, 5), 3);
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        // Moves and challenges are weighted: a game is many moves, and results need challengers to be disputed.
        bytes4[] memory selectors = new bytes4[](15);
        selectors[0] = DisputeHandler.postJob.selector;
        selectors[1] = DisputeHandler.submitResult.selector;
        selectors[2] = DisputeHandler.challenge.selector;
        selectors[3] = DisputeHandler.challenge.selector;
        selectors[4] = DisputeHandler.move.selector;
        selectors[5] = DisputeHandler.move.selector;
        selectors[6] = DisputeHandler.move.selector;
        selectors[7] = DisputeHandler.timeout.selector;
        selectors[8] = DisputeHandler.claimMoot.selector;
        selectors[9] = DisputeHandler.replay.selector;
        selectors[10] = DisputeHandler.finalize.selector;
        selectors[11] = DisputeHandler.refundExpired.selector;
        selectors[12] = DisputeHandler.withdraw.selector;
        selectors[13] = DisputeHandler.warp.selector;
        selectors[14] = DisputeHandler.warp.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: selectors});
    }

    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 48
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_etherConserved() public view {
        uint256 held = handler.sumCredits() + handler.jobEscrow() + handler.gameEscrow() + market.burned();
        assertEq(address(market).balance, held, "balance = credits + job escrow + game bonds + moot shares + burned");
        assertEq(address(market).balance, handler.ghostDeposited() - handler.ghostWithdrawn(), "balance = in - out");
    }

    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 48
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_settlesOnceNeverUnderActiveGame() public view {
        assertEq(handler.ghostBadSettlement(), 0, "a job settled twice or under an Active game");
        assertEq(handler.orphanGames(), 0, "an Active game on a result that is neither current nor overturned");
    }

    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 48
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_noGameOutlivesItsClocks() public view {
        assertEq(handler.ghostStuck(), 0, "an overdue game could not be timed out");
        assertEq(handler.overdueGames(), 0, "a live game older than its clocks allow");
    }

    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 48
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_honestSideWins() public view {
        assertEq(handler.ghostHonestMoveFailed(), 0, "an honest party could not make its move");
        assertEq(handler.honestLosses(), 0, "the honest side of a game lost");
    }

    function afterInvariant() public view {
        (uint256 challengerWon, uint256 defenderWon, uint256 moot) = handler.outcomes();
        log("games", market.gameCount());
        log("challenger won", challengerWon);
        log("defender won", defenderWon);
        log("moot", moot);
        log("timed out by the clock check", handler.ghostTimedOut());
        log("handler calls", handler.calls());
    }
}
