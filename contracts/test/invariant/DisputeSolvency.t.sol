// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {DisputeGame} from "../../src/DisputeGame.sol";
import {JobMarket} from "../../src/JobMarket.sol";
import {ModelRegistry} from "../../src/ModelRegistry.sol";
import {OneStepProver} from "../../src/OneStepProver.sol";
import {DefenderOutOfTime} from "../../src/lib/Errors.sol";
import {Game, GamePhase, GameStatus, Job, JobStatus, RevealKind, Tree} from "../../src/lib/Types.sol";
import {Base} from "../Base.t.sol";
import {ClampChain, ClampModel, Trace} from "../utils/ClampChain.sol";
import {Configs} from "../utils/Configs.sol";
import {GameDriver} from "../utils/GameDriver.sol";
import {Reference} from "../utils/Reference.sol";

/// @notice Drives the market and its dispute games with the actors of a real deployment: a poster, honest and lying
/// workers (bait and copied results among the lies), honest and lying challengers. Honest parties always answer at once (before any time passes); lying ones
/// answer from their lying traces, or stall, as the fuzzer picks. A lie is a recipe (kind, seed) from which every
/// trace is rebuilt when needed. Ghost variables record what went in and out and every property violation.
contract DisputeHandler is GameDriver {
    /// @dev Lies. ELEMENT: one element of one slot changed (the later slots recomputed or not); PADDING: a nonzero
    /// padding byte (a channel ≥ C or a padding leaf) in a middle slot's tensor; INPUT: the trace of another input
    /// (slot 0 wrong); OUTPUT: honest output posted with a final state whose slot n differs; GARBAGE: a trace root that
    /// is no trace at all; BAIT: the honest slots and output with junk in a padding slot of the final state; COPY: an
    /// honest worker's trace root (bound to that worker) posted by another account. Challengers lie with ELEMENT,
    /// PADDING, INPUT or BAIT (their own trace).
    uint8 internal constant HONEST = 0;
    uint8 internal constant ELEMENT = 1;
    uint8 internal constant PADDING = 2;
    uint8 internal constant INPUT = 3;
    uint8 internal constant OUTPUT = 4;
    uint8 internal constant GARBAGE = 5;
    uint8 internal constant BAIT = 6;
    uint8 internal constant COPY = 7;

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
        useMarket(market_);
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

    /// @notice Model 0: 5 clamps over [1, 1, 40] (two leaves a row, channels 40..63 padding; 6 state slots of 8);
    /// model 1: 4 clamps over [2, 3, 5] (six one-leaf rows, two padding leaves; 5 state slots of 8).
    function model(uint8 index) public pure returns (ClampModel memory) {
        if (index == 0) return ClampChain.narrowing(ClampChain.shape(1, 1, 40), 5);
        return ClampChain.narrowing(ClampChain.shape(2, 3, 5), 4);
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
        } else if (lie.kind == BAIT) {
            uint256 padding = t.stateLeaves.length - (uint256(t.n) + 1);
            t.stateLeaves[t.n + 1 + s % padding] = keccak256(abi.encode("bait", s));
            ClampChain.sealState(t);
        }
    }

    /// @notice The trace root `worker` posts for trace `t` of `lie`.
    function _postedRoot(Trace memory t, Lie memory lie, address worker) internal view returns (bytes32) {
        if (lie.kind == GARBAGE) return keccak256(abi.encode("garbage", lie.seed));
        if (lie.kind == COPY) return ClampChain.traceRoot(t, honestWorkers[lie.seed % 2]);
        return ClampChain.traceRoot(t, worker);
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
        Lie memory lie = Lie({kind: honest ? HONEST : uint8(1 + lieSeed % 7), seed: lieSeed >> 8});
        (Trace memory t, bytes memory output) = _trace(jobId, lie);
        bytes32 root = _postedRoot(t, lie, worker);
        uint256 bond = market.resultBond();
        vm.deal(worker, worker.balance + bond);
        vm.prank(worker);
        market.submitResult{value: bond}(jobId, Reference.tensorRoot(output, t.shape.c), root, output);
        results[_key(jobId, job.attempt + 1)] = lie;
        ghostDeposited += bond;
        ++calls;
    }

    /// @notice A challenger disputes a result inside its window (one is submitted first if there is none).
    function challenge(uint256 jobSeed, uint256 challengerSeed, uint256 lieSeed) external {
        if (game.gameCount() >= MAX_GAMES) return;
        uint256 jobId = _findChallengeable(jobSeed);
        if (jobId == 0) {
            submitResult(jobSeed, lieSeed >> 128, lieSeed >> 64);
            jobId = _findChallengeable(jobSeed);
            if (jobId == 0) return;
        }
        Job memory job = market.getJob(jobId);
        // An honest challenger disputes only a result whose trace root is not leaf(0x03, worker ‖ its own σ_n); a lying
        // one disputes anything.
        bool honest = challengerSeed % 2 == 0 && job.traceRoot != ClampChain.traceRoot(_honestTrace(jobId), job.worker);
        Lie memory lie;
        if (!honest) {
            uint8[4] memory kinds = [ELEMENT, PADDING, INPUT, BAIT];
            lie = Lie({kind: kinds[lieSeed % 4], seed: lieSeed >> 8});
        }
        address who =
            honest ? honestChallengers[(challengerSeed >> 1) % 2] : lyingChallengers[(challengerSeed >> 1) % 2];
        uint256 bond = game.challengeBond();
        vm.deal(who, who.balance + bond);
        vm.prank(who);
        uint256 gameId = game.challenge{value: bond}(jobId);
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
        try game.timeout(gameId) {
            ++calls;
        } catch {}
    }

    function claimMoot(uint256 gameSeed) external {
        uint256 gameId = _pickGame(gameSeed);
        if (gameId == 0) return;
        Game memory g = game.getGame(gameId);
        if (g.status != GameStatus.Active || !game.getDispute(g.jobId, g.attempt).overturned) return;
        game.claimMoot(gameId);
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
            for (uint256 id = 1; id <= game.gameCount(); ++id) {
                Game memory g = game.getGame(id);
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
        Game memory g = game.getGame(gameId);
        (RevealKind kind, Tree tree, bytes32 hash) = game.pendingReveal(gameId);
        if (kind != RevealKind.None) reveal(gameId, _workerTrace(g.jobId, g.attempt), kind, tree, hash);
        else attack(gameId, _challengerTrace(gameId, g.jobId));
    }

    /// @notice Every move the honest parties of game `gameId` can make now (an honest challenger also times out a
    /// defender whose data came too late). Reverts if one of them fails: that is a violation.
    function honestMoves(uint256 gameId) external {
        require(msg.sender == address(this), "self only");
        Game memory g = game.getGame(gameId);
        bool honestDefender = results[_key(g.jobId, g.attempt)].kind == HONEST;
        bool honestChallenger = games[gameId].honestChallenger;
        if (!honestDefender && !honestChallenger) return;
        Trace memory theirs = _workerTrace(g.jobId, g.attempt);
        Trace memory mine = _challengerTrace(gameId, g.jobId);
        for (uint256 i = 0; i < MAX_TURNS && live(gameId); ++i) {
            (RevealKind kind, Tree tree, bytes32 hash) = game.pendingReveal(gameId);
            if (kind != RevealKind.None) {
                if (!honestDefender) return;
                reveal(gameId, theirs, kind, tree, hash);
            } else {
                if (!honestChallenger) return;
                try this.challengerMove(gameId, mine) {}
                catch (bytes memory err) {
                    if (bytes4(err) != DefenderOutOfTime.selector) revert("honest challenger move failed");
                    game.timeout(gameId);
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
        Game memory g = game.getGame(gameId);
        Trace memory theirs = _workerTrace(g.jobId, g.attempt);
        address sender = lyingChallengers[gameId % 2];
        if (g.phase == GamePhase.Step) return;
        bytes32 node = g.node;
        if (g.depth == 0 && g.phase == GamePhase.Slots) {
            node = game.revealedOpening(g.jobId, g.attempt);
            if (node == bytes32(0)) return;
            bytes32[] memory outputPath = ClampChain.statePath(theirs, theirs.n);
            vm.prank(sender);
            game.revealOpening(g.jobId, node, outputPath);
        } else if (g.depth == 0) {
            bool known;
            (known, node) = game.revealedSlot(g.jobId, g.attempt, g.node);
            if (!known) return;
            vm.prank(sender);
            game.revealSlot(g.jobId, g.node, node);
        }
        if (g.depth < g.leafDepth) {
            (bytes32 l, bytes32 r) = game.revealedNode(g.jobId, g.attempt, node);
            if (l == bytes32(0) && r == bytes32(0)) return;
            vm.prank(sender);
            game.revealNode(g.jobId, g.phase == GamePhase.Slots ? Tree.State : Tree.Tensor, node, l, r);
        } else {
            (bool known, bytes32 data) = game.revealedLeaf(g.jobId, g.attempt, node);
            if (!known) return;
            vm.prank(sender);
            game.revealLeaf(g.jobId, node, data);
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
        for (uint256 id = 1; id <= game.gameCount(); ++id) {
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
        return 2 * (uint256(game.gameClock()) + (uint256(g.moves) + 1) * game.clockExtension());
    }

    function _checkClocks() internal {
        for (uint256 id = 1; id <= game.gameCount(); ++id) {
            if (!live(id)) continue;
            Game memory g = game.getGame(id);
            if (block.timestamp - games[id].openedAt <= maxAge(g)) continue;
            try game.timeout(id) {
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

    /// @notice Σ bond of Active games.
    function gameBonds() public view returns (uint256 sum) {
        for (uint256 id = 1; id <= game.gameCount(); ++id) {
            Game memory g = game.getGame(id);
            if (g.status == GameStatus.Active) sum += g.bond;
        }
    }

    /// @notice Σ pool left of every result (owed to moot games not yet claimed, and dust not yet burned).
    function poolsLeft() public view returns (uint256 sum) {
        for (uint256 id = 1; id <= market.jobCount(); ++id) {
            uint32 attempts = market.getJob(id).attempt;
            for (uint32 a = 1; a <= attempts; ++a) {
                sum += game.getDispute(id, a).poolLeft;
            }
        }
    }

    /// @notice Ends every game: lets time pass until each live game is decided (honest parties keep answering, the
    /// rest time out), then claims every moot game.
    function resolveAll() external {
        for (uint256 round = 0; round < 64; ++round) {
            bool any;
            for (uint256 id = 1; id <= game.gameCount(); ++id) {
                if (live(id)) any = true;
            }
            if (!any) break;
            _advance(game.gameClock() + game.clockExtension());
        }
        for (uint256 id = 1; id <= game.gameCount(); ++id) {
            Game memory g = game.getGame(id);
            if (g.status == GameStatus.Active && game.getDispute(g.jobId, g.attempt).overturned) game.claimMoot(id);
        }
    }

    /// @notice Games an honest side lost: an honest worker against a lying challenger ended ChallengerWon, or a lying
    /// worker against an honest challenger ended DefenderWon.
    function honestLosses() external view returns (uint256 count) {
        for (uint256 id = 1; id <= game.gameCount(); ++id) {
            Game memory g = game.getGame(id);
            bool honestDefender = results[_key(g.jobId, g.attempt)].kind == HONEST;
            bool honestChallenger = games[id].honestChallenger;
            if (honestDefender && !honestChallenger && g.status == GameStatus.ChallengerWon) ++count;
            if (!honestDefender && honestChallenger && g.status == GameStatus.DefenderWon) ++count;
        }
    }

    /// @notice Active games whose result is neither current (job Submitted with the game's attempt) nor overturned.
    function orphanGames() external view returns (uint256 count) {
        for (uint256 id = 1; id <= game.gameCount(); ++id) {
            Game memory g = game.getGame(id);
            if (g.status != GameStatus.Active) continue;
            Job memory job = market.getJob(g.jobId);
            bool current = job.status == JobStatus.Submitted && job.attempt == g.attempt;
            if (!current && !game.getDispute(g.jobId, g.attempt).overturned) ++count;
        }
    }

    /// @notice Live games older than their clocks allow (`_checkClocks` resolves them whenever time passes).
    function overdueGames() external view returns (uint256 count) {
        for (uint256 id = 1; id <= game.gameCount(); ++id) {
            if (!live(id)) continue;
            if (block.timestamp - games[id].openedAt > maxAge(game.getGame(id))) ++count;
        }
    }

    /// @notice Resolved games by outcome (for the run summary).
    function outcomes() external view returns (uint256 challengerWon, uint256 defenderWon, uint256 moot) {
        for (uint256 id = 1; id <= game.gameCount(); ++id) {
            GameStatus s = game.getGame(id).status;
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
        uint256 count = game.gameCount();
        return count == 0 ? 0 : 1 + seed % count;
    }

    /// @notice A live game, searched from a random one on (0 if there is none).
    function _findLiveGame(uint256 seed) internal view returns (uint256) {
        uint256 count = game.gameCount();
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
    DisputeGame internal game;
    DisputeHandler internal handler;

    function setUp() public {
        vm.warp(1_800_000_000);
        ModelRegistry registry = new ModelRegistry();
        market = new JobMarket(
            registry, new OneStepProver(registry), Configs.NO_LLM_PROVER, Configs.market(2 hours, 0.5 ether)
        );
        game = DisputeGame(payable(address(market.game())));
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
        return ClampChain.narrowing(ClampChain.shape(2, 3, 5), 4);
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
        uint256 marketHeld = handler.sumCredits() + handler.jobEscrow();
        assertEq(address(market).balance, marketHeld, "market balance = credits + fees + result bonds");
        uint256 gameHeld = handler.gameBonds() + handler.poolsLeft() + game.burned();
        assertEq(address(game).balance, gameHeld, "game balance = active bonds + pools left + burned");
        assertEq(
            address(market).balance + address(game).balance,
            handler.ghostDeposited() - handler.ghostWithdrawn(),
            "balances = in - out"
        );
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

    /// @notice After every run, full resolution: every game decided and claimed, and the game holds nothing but
    /// burned wei (0 wei unaccounted), while the market still holds exactly its books.
    function afterInvariant() public {
        (uint256 challengerWon, uint256 defenderWon, uint256 moot) = handler.outcomes();
        log("games", game.gameCount());
        log("challenger won", challengerWon);
        log("defender won", defenderWon);
        log("moot", moot);
        log("timed out by the clock check", handler.ghostTimedOut());
        log("handler calls", handler.calls());
        handler.resolveAll();
        assertEq(handler.gameBonds(), 0, "no Active game left");
        assertEq(handler.poolsLeft(), 0, "every pool paid out, its dust burned");
        assertEq(address(game).balance, game.burned(), "the game holds only burned wei");
        assertEq(address(market).balance, handler.sumCredits() + handler.jobEscrow(), "market books");
        assertEq(handler.honestLosses(), 0, "the honest side of a game lost");
        assertEq(handler.ghostHonestMoveFailed(), 0, "an honest party could not make its move");
    }
}
