// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {DisputeGame} from "../src/DisputeGame.sol";
import {JobMarket} from "../src/JobMarket.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {OneStepProver} from "../src/OneStepProver.sol";
import {IDisputeGame} from "../src/interfaces/IDisputeGame.sol";
import {IOneStepProver, StepWitness} from "../src/interfaces/IOneStepProver.sol";
import {
    AmountTooLarge,
    BurnTooLow,
    ChallengeWindowClosed,
    ChallengerOutOfTime,
    DefenderOutOfTime,
    GameNotActive,
    GamesOpen,
    NoDispute,
    NotChallenger,
    NotCurrentResult,
    NotGame,
    NotMarket,
    NotTimedOut,
    NothingRevealed,
    OffsetOutOfRange,
    PathLengthMismatch,
    ResultNotOverturned,
    ResultNotSubmitted,
    ResultOverturnedAlready,
    RevealMismatch,
    RowRootMismatch,
    SelfChallenge,
    SlotRootMismatch,
    StaleMove,
    UnknownGame,
    UnknownJob,
    WrongBond,
    WrongPhase,
    ZeroClockExtension,
    ZeroProver
} from "../src/lib/Errors.sol";
import {
    Game,
    GamePhase,
    GameStatus,
    Job,
    JobStatus,
    MarketConfig,
    ResultDispute,
    RevealKind,
    Tree
} from "../src/lib/Types.sol";
import {ClampChain, ClampModel, Trace} from "./utils/ClampChain.sol";
import {Configs} from "./utils/Configs.sol";
import {GameDriver} from "./utils/GameDriver.sol";
import {Reference} from "./utils/Reference.sol";

/// @notice The cheatcode test/Base.t.sol does not declare: expect a custom error by its selector, whatever its arguments.
interface VmPartialRevert {
    function expectPartialRevert(bytes4 selector) external;
}

/// @notice Shared setup: a real registry, prover, market and its game, four Active clamp-chain models (5 ops over
/// [1, 1, 40]: 6 state slots, 2 of them padding; 1 and 2 ops over [1, 1, 40]; 3 ops over [2, 3, 5]: 4 slots, a tensor
/// of 6 leaves padded to 8), and the accounts whose credits the solvency check sums.
abstract contract DisputeGameFixture is GameDriver {
    VmPartialRevert internal constant vmx = VmPartialRevert(address(vm));

    ModelRegistry internal registry;
    OneStepProver internal prover;

    address internal owner;
    address internal poster;
    address internal worker;
    address internal worker2;
    address internal challenger;
    address internal challenger2;
    address internal challenger3;
    address internal relayer;
    address internal anyone;
    address[] internal accounts;

    uint256 internal m5Id;
    uint256 internal m1Id;
    uint256 internal m2Id;
    uint256 internal imgId;

    uint64 internal constant WINDOW = 2 hours;
    uint256 internal constant BOND = 0.5 ether;
    uint256 internal constant FEE = 0.01 ether;
    uint16 internal constant ROYALTY_BPS = 1500;
    uint64 internal constant START = 1_800_000_000;
    uint64 internal constant DEADLINE = START + 10 days;

    uint256 internal constant CB = Configs.CHALLENGE_BOND;
    uint64 internal constant CLOCK = Configs.GAME_CLOCK;
    uint64 internal constant EXT = Configs.CLOCK_EXTENSION;
    uint256 internal constant MR = Configs.MOVE_REWARD;
    /// @dev The pool of an overturned result: the unburned half of the worker's bond.
    uint256 internal constant POOL = BOND / 2;

    function setUp() public virtual {
        vm.warp(START);
        registry = new ModelRegistry();
        prover = new OneStepProver(registry);
        useMarket(new JobMarket(registry, prover, Configs.NO_LLM_PROVER, Configs.market(WINDOW, BOND)));
        owner = _account("owner");
        poster = _account("poster");
        worker = _account("worker");
        worker2 = _account("worker2");
        challenger = _account("challenger");
        challenger2 = _account("challenger2");
        challenger3 = _account("challenger3");
        relayer = _account("relayer");
        anyone = _account("anyone");
        m5Id = _activate(_m5());
        m1Id = _activate(_m1());
        m2Id = _activate(_m2());
        imgId = _activate(_mImg());
    }

    // ----- models -----

    function _m5() internal pure returns (ClampModel memory) {
        return ClampChain.narrowing(ClampChain.shape(1, 1, 40), 5);
    }

    function _m1() internal pure returns (ClampModel memory) {
        return ClampChain.narrowing(ClampChain.shape(1, 1, 40), 1);
    }

    function _m2() internal pure returns (ClampModel memory) {
        return ClampChain.narrowing(ClampChain.shape(1, 1, 40), 2);
    }

    function _mImg() internal pure returns (ClampModel memory) {
        return ClampChain.narrowing(ClampChain.shape(2, 3, 5), 3);
    }

    function _activate(ClampModel memory m) internal returns (uint256 id) {
        uint32 n = ClampChain.opCount(m);
        vm.startPrank(owner);
        id = registry.registerModel(m.root, n, m.shape, m.zero, m.shape, FEE, ROYALTY_BPS, "");
        for (uint32 k = 0; k < n; ++k) {
            registry.publishLeaves(id, k, m.ops[k]);
            registry.sealOp(id, k);
        }
        vm.stopPrank();
    }

    function _account(string memory name) internal returns (address a) {
        a = makeAddr(name);
        vm.deal(a, 100 ether);
        accounts.push(a);
    }

    // ----- jobs and results -----

    /// @notice A random input for `m` (element 7 is 5, inside every op's bounds, so a lie there propagates).
    function _input(ClampModel memory m, uint256 seed) internal pure returns (bytes memory input) {
        input = randomBytes(seed, ClampChain.elementCount(m.shape));
        input[7] = 0x05;
    }

    function _post(uint256 modelId, bytes memory input) internal returns (uint256 jobId) {
        vm.prank(poster);
        jobId = market.postJob{value: FEE}(modelId, input, DEADLINE);
    }

    /// @notice Submits trace `t` by `by`: its own slot n as the output, its trace root bound to `by`.
    function _submit(uint256 jobId, Trace memory t, address by) internal {
        _submitAs(jobId, t, ClampChain.decode(t.shape, t.words[t.n]), ClampChain.traceRoot(t, by), by);
    }

    function _submitAs(uint256 jobId, Trace memory t, bytes memory output, bytes32 traceRoot, address by) internal {
        vm.prank(by);
        market.submitResult{value: BOND}(jobId, Reference.tensorRoot(output, t.shape.c), traceRoot, output);
    }

    function _challenge(uint256 jobId, address by) internal returns (uint256 gameId) {
        vm.prank(by);
        gameId = game.challenge{value: CB}(jobId);
    }

    /// @notice A posted job on the 5-op model with its honest trace (the worker's lie is built by the test).
    function _job5() internal returns (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) {
        m = _m5();
        input = _input(m, 0x5eed);
        h = ClampChain.honest(m, input);
        jobId = _post(m5Id, input);
    }

    /// @notice An honest result on the 5-op model, submitted by `worker` and challenged by `challenger`.
    function _honestGame5() internal returns (uint256 jobId, uint256 gameId, Trace memory h) {
        (jobId,,, h) = _job5();
        _submit(jobId, h, worker);
        gameId = _challenge(jobId, challenger);
    }

    /// @notice A result on the 5-op model whose last slot lies at element 3, challenged by `challenger`.
    function _lyingGame5() internal returns (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) {
        ClampModel memory m;
        bytes memory input;
        (jobId, m, input, h) = _job5();
        lie = _lieAt(m, input, 5, 3, false);
        _submit(jobId, lie, worker);
        gameId = _challenge(jobId, challenger);
    }

    /// @notice The honest trace of `m` on `input` with element `e` of slot `slot` changed (to another value), the
    /// later slots recomputed from it when `propagate`.
    function _lieAt(ClampModel memory m, bytes memory input, uint32 slot, uint256 e, bool propagate)
        internal
        pure
        returns (Trace memory t)
    {
        t = ClampChain.honest(m, input);
        int8 v = ClampChain.element(t.shape, t.words[slot], e);
        ClampChain.setElement(t.shape, t.words[slot], e, v == 127 ? int8(126) : v + 1);
        if (propagate) ClampChain.propagate(t, m, slot);
        ClampChain.seal(t);
    }

    /// @notice The honest trace of `m` on `input` with junk in padding slot `slot` (> n) of its final state.
    function _baitAt(ClampModel memory m, bytes memory input, uint256 slot, bytes32 junk)
        internal
        pure
        returns (Trace memory t)
    {
        t = ClampChain.honest(m, input);
        t.stateLeaves[slot] = Reference.leaf(2, abi.encodePacked(junk));
        ClampChain.sealState(t);
    }

    // ----- money -----

    function _credit(address a) internal view returns (uint256) {
        return market.credits(a);
    }

    /// @notice Both contracts hold exactly what their books say. Market: Σ credits + Σ fees of Open/Submitted jobs +
    /// Σ bonds of Submitted jobs. Game: Σ bonds of Active games + Σ pool left of overturned results + burned.
    function _assertSolvent() internal view {
        uint256 marketSum;
        for (uint256 i = 0; i < accounts.length; ++i) {
            marketSum += market.credits(accounts[i]);
        }
        uint256 gameSum = game.burned();
        for (uint256 id = 1; id <= market.jobCount(); ++id) {
            Job memory job = market.getJob(id);
            if (job.status == JobStatus.Open) marketSum += job.fee;
            if (job.status == JobStatus.Submitted) marketSum += job.fee + job.bond;
            for (uint32 a = 1; a <= job.attempt; ++a) {
                gameSum += game.getDispute(id, a).poolLeft;
            }
        }
        for (uint256 id = 1; id <= game.gameCount(); ++id) {
            Game memory g = game.getGame(id);
            if (g.status == GameStatus.Active) gameSum += g.bond;
        }
        assertEq(address(market).balance, marketSum, "market balance = credits + fees + result bonds");
        assertEq(address(game).balance, gameSum, "game balance = active bonds + pools left + burned");
    }

    function _status(uint256 gameId) internal view returns (GameStatus) {
        return game.getGame(gameId).status;
    }

    /// @notice The worker lost the only game on job `jobId`: the job is Open again (attempt kept), half the bond
    /// burned, the other half (the whole pool) and its bond to the challenger.
    function _assertOverturnedSingle(uint256 jobId, uint256 gameId, address winner, uint256 burnedBefore)
        internal
        view
    {
        assertEq(uint256(_status(gameId)), uint256(GameStatus.ChallengerWon), "challenger won");
        Job memory job = market.getJob(jobId);
        assertEq(uint256(job.status), uint256(JobStatus.Open), "job re-opened");
        assertEq(job.worker, address(0), "no worker");
        assertEq(job.bond, 0, "bond released");
        assertEq(job.fee, FEE, "fee still escrowed");
        ResultDispute memory d = game.getDispute(jobId, job.attempt);
        assertTrue(d.overturned, "overturned");
        assertEq(d.openGames, 0, "no game open");
        assertEq(d.sharers, 1, "one game shares");
        assertEq(d.pool, POOL, "the pool is the unburned half");
        assertEq(d.poolLeft, 0, "paid out");
        assertEq(_credit(winner), CB + POOL, "challenger: bond back + the whole pool");
        assertEq(game.burned() - burnedBefore, BOND / 2, "half the worker's bond burned");
        _assertSolvent();
    }

    /// @notice The challenger lost game `gameId`: half its bond burned, half to the defender.
    function _assertDefended(uint256 gameId, address defender, uint256 defenderBefore, uint256 burnedBefore)
        internal
        view
    {
        assertEq(uint256(_status(gameId)), uint256(GameStatus.DefenderWon), "defender won");
        assertEq(_credit(defender) - defenderBefore, CB / 2, "defender: half the challenger's bond");
        assertEq(game.burned() - burnedBefore, CB / 2, "half the challenger's bond burned");
        _assertSolvent();
    }

    /// @notice After the window, the job settles: the worker gets fee − royalty + bond, the owner the royalty.
    function _finalizeAndCheck(uint256 jobId, address by, uint256 workerBefore) internal {
        Job memory job = market.getJob(jobId);
        if (block.timestamp < job.submittedAt + WINDOW) vm.warp(job.submittedAt + WINDOW);
        uint256 ownerBefore = _credit(owner);
        market.finalize(jobId);
        uint256 royalty = FEE * ROYALTY_BPS / 10_000;
        assertEq(_credit(by) - workerBefore, FEE - royalty + BOND, "worker paid fee - royalty + bond");
        assertEq(_credit(owner) - ownerBefore, royalty, "royalty");
        assertEq(uint256(market.getJob(jobId).status), uint256(JobStatus.Settled), "settled");
        _assertSolvent();
    }

    /// @notice Plays until the game reaches `phase` (the defender's reveals for it not yet sent).
    function _playUntil(uint256 gameId, Trace memory theirs, Trace memory mine, GamePhase phase) internal {
        for (uint256 i = 0; i < MAX_TURNS; ++i) {
            if (game.getGame(gameId).phase == phase) return;
            vm.warp(block.timestamp + 1);
            defend(gameId, theirs);
            attack(gameId, mine);
        }
        revert("phase not reached");
    }

    /// @notice Plays until the tensor walk reached the leaf (the leaf not yet revealed).
    function _playUntilLeaf(uint256 gameId, Trace memory theirs, Trace memory mine) internal {
        _playUntil(gameId, theirs, mine, GamePhase.Tensor);
        for (uint256 i = 0; i < MAX_TURNS; ++i) {
            Game memory g = game.getGame(gameId);
            if (g.depth == g.leafDepth) {
                // At the leaf: send what is missing before it (the slot's root, at depth 0), not the leaf.
                (RevealKind kind, Tree tree, bytes32 hash) = game.pendingReveal(gameId);
                while (kind != RevealKind.Leaf) {
                    if (kind == RevealKind.None) revert("leaf already revealed");
                    reveal(gameId, theirs, kind, tree, hash);
                    (kind, tree, hash) = game.pendingReveal(gameId);
                }
                return;
            }
            vm.warp(block.timestamp + 1);
            defend(gameId, theirs);
            attack(gameId, mine);
        }
        revert("leaf not reached");
    }

    /// @notice Opens `count` games on `jobId`, each by a fresh account.
    function _openMany(uint256 jobId, uint256 count) internal returns (uint256[] memory games) {
        games = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            address c = _account(string(abi.encodePacked("challenger-", bytes1(uint8(65 + i)))));
            games[i] = _challenge(jobId, c);
        }
    }
}

/// @notice The split of market and game, opening, every reveal, every move, the one step, timeouts, moot claims and
/// their revert paths.
contract DisputeGameTest is DisputeGameFixture {
    // =====================================================================================================
    // constructor and the market/game split
    // =====================================================================================================

    function test_constructor_zeroProver_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(ZeroProver.selector));
        new JobMarket(registry, IOneStepProver(address(0)), Configs.NO_LLM_PROVER, Configs.market(WINDOW, BOND));
    }

    function test_constructor_burnBelowHalf_reverts() public {
        MarketConfig memory c = Configs.market(WINDOW, BOND);
        c.burnBps = 4999;
        vm.expectRevert(abi.encodeWithSelector(BurnTooLow.selector, uint16(4999), uint16(5000)));
        new JobMarket(registry, prover, Configs.NO_LLM_PROVER, c);
    }

    function test_constructor_burnAboveAll_reverts() public {
        MarketConfig memory c = Configs.market(WINDOW, BOND);
        c.burnBps = 10_001;
        vm.expectRevert(abi.encodeWithSelector(BurnTooLow.selector, uint16(10_001), uint16(5000)));
        new JobMarket(registry, prover, Configs.NO_LLM_PROVER, c);
    }

    function test_constructor_zeroClockExtension_reverts() public {
        MarketConfig memory c = Configs.market(WINDOW, BOND);
        c.clockExtension = 0;
        vm.expectRevert(abi.encodeWithSelector(ZeroClockExtension.selector));
        new JobMarket(registry, prover, Configs.NO_LLM_PROVER, c);
    }

    function test_constructor_resultBondTooLarge_reverts() public {
        uint256 tooLarge = uint256(type(uint128).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(AmountTooLarge.selector, tooLarge));
        new JobMarket(registry, prover, Configs.NO_LLM_PROVER, Configs.market(WINDOW, tooLarge));
    }

    function test_constructor_moveRewardTooLarge_reverts() public {
        MarketConfig memory c = Configs.market(WINDOW, BOND);
        c.moveReward = uint256(type(uint128).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(AmountTooLarge.selector, c.moveReward));
        new JobMarket(registry, prover, Configs.NO_LLM_PROVER, c);
        c.moveReward = type(uint128).max;
        new JobMarket(registry, prover, Configs.NO_LLM_PROVER, c);
    }

    function test_constructor_gameGetters_succeeds() public view {
        assertEq(address(market.game()), address(game), "the market's game");
        assertEq(address(game.market()), address(market), "the game's market");
        assertEq(address(game.prover()), address(prover), "prover");
        assertEq(address(prover.registry()), address(registry), "prover reads the market's registry");
        assertEq(game.challengeBond(), CB, "challenge bond");
        assertEq(game.gameClock(), CLOCK, "clock");
        assertEq(game.clockExtension(), EXT, "extension");
        assertEq(game.burnBps(), Configs.BURN_BPS, "burn");
        assertEq(game.moveReward(), MR, "move reward");
        assertEq(game.MIN_BURN_BPS(), 5000, "min burn");
        assertEq(game.burned(), 0, "nothing burned");
        assertEq(game.gameCount(), 0, "no games");
    }

    function test_receive_notMarket_reverts() public {
        vm.prank(anyone);
        (bool ok, bytes memory err) = address(game).call{value: 1}("");
        assertTrue(!ok, "refused");
        assertEq(err, abi.encodeWithSelector(NotMarket.selector, anyone), "NotMarket");
        assertEq(address(game).balance, 0, "nothing arrived");
    }

    function test_creditFromGame_notGame_reverts() public {
        vm.prank(anyone);
        vm.expectRevert(abi.encodeWithSelector(NotGame.selector, anyone));
        market.creditFromGame{value: 1}(anyone);
    }

    function test_overturn_notGame_reverts() public {
        (uint256 jobId,,) = _honestGame5();
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(NotGame.selector, challenger));
        market.overturn(jobId, 1);
    }

    function test_overturn_notCurrentResult_reverts() public {
        (uint256 jobId,,) = _honestGame5();
        vm.startPrank(address(game));
        vm.expectRevert(abi.encodeWithSelector(NotCurrentResult.selector, jobId, uint32(2)));
        market.overturn(jobId, 2);
        vm.stopPrank();
        (uint256 open,,,) = _job5();
        vm.prank(address(game));
        vm.expectRevert(abi.encodeWithSelector(NotCurrentResult.selector, open, uint32(0)));
        market.overturn(open, 0);
    }

    function test_jobState_unknownJob_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownJob.selector, 99));
        market.jobState(99);
    }

    function test_jobState_readsCurrentResult_succeeds() public {
        (uint256 jobId,,) = _honestGame5();
        (JobStatus status, uint32 attempt, uint256 modelId) = market.jobState(jobId);
        assertEq(uint256(status), uint256(JobStatus.Submitted), "status");
        assertEq(attempt, 1, "attempt");
        assertEq(modelId, m5Id, "model");
    }

    // =====================================================================================================
    // challenge
    // =====================================================================================================

    function test_challenge_opensGame_succeeds() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.warp(START + 100);
        uint256 balanceBefore = address(game).balance;
        vm.expectEmit(address(game));
        emit IDisputeGame.ChallengeOpened(1, jobId, 1, challenger, CB);
        uint256 gameId = _challenge(jobId, challenger);
        assertEq(gameId, 1, "first game id");
        assertEq(game.gameCount(), 1, "count");
        assertEq(address(game).balance, balanceBefore + CB, "bond escrowed in the game");

        Game memory g = game.getGame(gameId);
        assertEq(g.jobId, jobId, "job");
        assertEq(g.attempt, 1, "attempt");
        assertEq(uint256(g.status), uint256(GameStatus.Active), "active");
        assertEq(uint256(g.phase), uint256(GamePhase.Slots), "walks the final state");
        assertEq(g.challenger, challenger, "challenger");
        assertEq(g.defender, worker, "defender");
        assertEq(g.bond, CB, "bond");
        assertEq(g.moves, 0, "moves");
        assertEq(g.slot, 0, "no slot yet");
        assertEq(g.leafDepth, 3, "6 slots: depth 3");
        assertEq(g.depth, 0, "at the root");
        assertEq(g.index, 0, "index");
        assertEq(g.node, bytes32(0), "the opening holds the root");
        assertEq(g.lastMoveAt, START + 100, "clock starts");
        assertEq(g.defenderLeft, CLOCK, "defender clock");
        assertEq(g.challengerLeft, CLOCK, "challenger clock");

        ResultDispute memory d = game.getDispute(jobId, 1);
        assertEq(d.opCount, 5, "n");
        assertEq(d.openGames, 1, "one open");
        assertEq(game.openGames(jobId, 1), 1, "openGames view");
        assertTrue(!d.overturned, "stands");
        assertEq(d.activeMoves, 0, "no moves");

        (RevealKind kind, Tree tree, bytes32 hash) = game.pendingReveal(gameId);
        assertEq(uint256(kind), uint256(RevealKind.Opening), "waits for the opening");
        assertEq(uint256(tree), uint256(Tree.State), "state tree");
        assertEq(hash, bytes32(0), "no hash");
        _assertSolvent();
    }

    function test_challenge_oneOpModel_walksTwoSlots_succeeds() public {
        ClampModel memory m = _m1();
        Trace memory h = ClampChain.honest(m, _input(m, 1));
        uint256 jobId = _post(m1Id, _input(m, 1));
        _submit(jobId, h, worker);
        uint256 gameId = _challenge(jobId, challenger);
        Game memory g = game.getGame(gameId);
        assertEq(uint256(g.phase), uint256(GamePhase.Slots), "slots first");
        assertEq(g.leafDepth, 1, "2 slots: one pick");
    }

    function test_challenge_bondTooLow_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(WrongBond.selector, CB - 1, CB));
        game.challenge{value: CB - 1}(jobId);
    }

    function test_challenge_bondTooHigh_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(WrongBond.selector, CB + 1, CB));
        game.challenge{value: CB + 1}(jobId);
    }

    function test_challenge_atWindowEnd_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.warp(START + WINDOW);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(ChallengeWindowClosed.selector, jobId, START + WINDOW));
        game.challenge{value: CB}(jobId);
    }

    function test_challenge_justBeforeWindowEnd_succeeds() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.warp(START + WINDOW - 1);
        uint256 gameId = _challenge(jobId, challenger);
        assertEq(uint256(_status(gameId)), uint256(GameStatus.Active), "opened inside the window");
    }

    function test_challenge_selfChallenge_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(SelfChallenge.selector, jobId));
        game.challenge{value: CB}(jobId);
    }

    function test_challenge_openJob_reverts() public {
        (uint256 jobId,,,) = _job5();
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(ResultNotSubmitted.selector, jobId, JobStatus.Open));
        game.challenge{value: CB}(jobId);
    }

    function test_challenge_settledJob_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.warp(START + WINDOW);
        market.finalize(jobId);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(ResultNotSubmitted.selector, jobId, JobStatus.Settled));
        game.challenge{value: CB}(jobId);
    }

    function test_challenge_unknownJob_reverts() public {
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(UnknownJob.selector, 99));
        game.challenge{value: CB}(99);
    }

    function test_challenge_overturnedResult_reverts() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        play(gameId, lie, h);
        vm.prank(challenger2);
        vm.expectRevert(abi.encodeWithSelector(ResultNotSubmitted.selector, jobId, JobStatus.Open));
        game.challenge{value: CB}(jobId);
    }

    function test_challenge_severalGamesOneResult_succeeds() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        uint256 a = _challenge(jobId, challenger);
        uint256 b = _challenge(jobId, challenger);
        uint256 c = _challenge(jobId, challenger2);
        assertEq(b, a + 1, "ids");
        assertEq(c, a + 2, "ids");
        assertEq(game.getDispute(jobId, 1).openGames, 3, "each game independent, even the same challenger's");
        _assertSolvent();
    }

    // =====================================================================================================
    // revealOpening
    // =====================================================================================================

    function test_revealOpening_unknownJob_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownJob.selector, 99));
        game.revealOpening(99, bytes32(0), new bytes32[](0));
    }

    function test_revealOpening_openJob_reverts() public {
        (uint256 jobId,,,) = _job5();
        vm.expectRevert(abi.encodeWithSelector(ResultNotSubmitted.selector, jobId, JobStatus.Open));
        game.revealOpening(jobId, bytes32(0), new bytes32[](0));
    }

    function test_revealOpening_noDispute_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.expectRevert(abi.encodeWithSelector(NoDispute.selector, jobId, uint32(1)));
        game.revealOpening(jobId, h.finalState, ClampChain.statePath(h, 5));
    }

    function test_revealOpening_wrongFinalState_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        bytes32 wrong = keccak256("not sigma n");
        vm.expectRevert(
            abi.encodeWithSelector(
                RevealMismatch.selector,
                Reference.leaf(3, abi.encodePacked(worker, wrong)),
                ClampChain.traceRoot(h, worker)
            )
        );
        game.revealOpening(jobId, wrong, ClampChain.statePath(h, 5));
    }

    function test_revealOpening_otherWorkersRoot_reverts() public {
        // The result's trace root binds σ_n to worker2, but worker posted it: nobody can open it.
        (uint256 jobId,,, Trace memory h) = _job5();
        bytes32 root = ClampChain.traceRoot(h, worker2);
        _submitAs(jobId, h, ClampChain.decode(h.shape, h.words[5]), root, worker);
        _challenge(jobId, challenger);
        bytes32[] memory p = ClampChain.statePath(h, 5);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(RevealMismatch.selector, ClampChain.traceRoot(h, worker), root));
        game.revealOpening(jobId, h.finalState, p);
        vm.prank(worker2);
        vm.expectRevert(abi.encodeWithSelector(RevealMismatch.selector, ClampChain.traceRoot(h, worker), root));
        game.revealOpening(jobId, h.finalState, p);
    }

    function test_revealOpening_outputPathWrong_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        // σ_5 is the worker's, but the path is slot 4's: slot 5 of σ_5 is not shown to be the output.
        vmx.expectPartialRevert(RevealMismatch.selector);
        game.revealOpening(jobId, h.finalState, ClampChain.statePath(h, 4));
    }

    function test_revealOpening_outputPathMissing_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        vm.expectRevert(abi.encodeWithSelector(PathLengthMismatch.selector, 0, 3));
        game.revealOpening(jobId, h.finalState, new bytes32[](0));
    }

    function test_revealOpening_byAnyone_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory h) = _honestGame5();
        vm.expectEmit(address(game));
        emit IDisputeGame.OpeningRevealed(jobId, 1, h.finalState);
        vm.prank(anyone);
        game.revealOpening(jobId, h.finalState, ClampChain.statePath(h, 5));
        assertEq(game.revealedOpening(jobId, 1), h.finalState, "cached");
        (RevealKind kind, Tree tree, bytes32 hash) = game.pendingReveal(gameId);
        assertEq(uint256(kind), uint256(RevealKind.Node), "then the root's children");
        assertEq(uint256(tree), uint256(Tree.State), "of the state tree");
        assertEq(hash, h.finalState, "the root");
    }

    // =====================================================================================================
    // revealNode / revealSlot / revealLeaf
    // =====================================================================================================

    function test_revealNode_noDispute_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.expectRevert(abi.encodeWithSelector(NoDispute.selector, jobId, uint32(1)));
        game.revealNode(jobId, Tree.State, h.finalState, ClampChain.stateNode(h, 1, 0), ClampChain.stateNode(h, 1, 1));
    }

    function test_revealNode_wrongChildren_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        bytes32 left = ClampChain.stateNode(h, 1, 0);
        bytes32 right = ClampChain.stateNode(h, 1, 1);
        vm.expectRevert(abi.encodeWithSelector(RevealMismatch.selector, Reference.node(2, right, left), h.finalState));
        game.revealNode(jobId, Tree.State, h.finalState, right, left);
        bytes32 root = h.slotRoots[3];
        vmx.expectPartialRevert(RevealMismatch.selector);
        game.revealNode(jobId, Tree.Tensor, root, keccak256("l"), keccak256("r"));
    }

    function test_revealNode_otherTreesTag_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        bytes32 left = ClampChain.stateNode(h, 1, 0);
        bytes32 right = ClampChain.stateNode(h, 1, 1);
        // A state node's children, claimed as a tensor node's: the tags keep the trees apart.
        vm.expectRevert(abi.encodeWithSelector(RevealMismatch.selector, Reference.node(1, left, right), h.finalState));
        game.revealNode(jobId, Tree.Tensor, h.finalState, left, right);
    }

    function test_revealNode_cached_succeeds() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        bytes32 left = ClampChain.tensorNode(h.words[3], 1, 0);
        bytes32 right = ClampChain.tensorNode(h.words[3], 1, 1);
        vm.expectEmit(address(game));
        emit IDisputeGame.NodeRevealed(jobId, 1, Tree.Tensor, h.slotRoots[3], left, right);
        game.revealNode(jobId, Tree.Tensor, h.slotRoots[3], left, right);
        (bytes32 l, bytes32 r) = game.revealedNode(jobId, 1, h.slotRoots[3]);
        assertEq(l, left, "left");
        assertEq(r, right, "right");
    }

    function test_revealNode_unknownJob_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownJob.selector, 99));
        game.revealNode(99, Tree.State, bytes32(0), bytes32(0), bytes32(0));
    }

    function test_revealSlot_overturnedResult_reverts() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        play(gameId, lie, h);
        vm.expectRevert(abi.encodeWithSelector(ResultNotSubmitted.selector, jobId, JobStatus.Open));
        game.revealSlot(jobId, lie.stateLeaves[5], lie.slotRoots[5]);
    }

    function test_revealLeaf_settledResult_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.warp(START + WINDOW);
        market.finalize(jobId);
        vm.expectRevert(abi.encodeWithSelector(ResultNotSubmitted.selector, jobId, JobStatus.Settled));
        game.revealLeaf(jobId, bytes32(0), bytes32(0));
    }

    function test_revealSlot_noDispute_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.expectRevert(abi.encodeWithSelector(NoDispute.selector, jobId, uint32(1)));
        game.revealSlot(jobId, h.stateLeaves[2], h.slotRoots[2]);
    }

    function test_revealSlot_wrongRoot_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        vm.expectRevert(
            abi.encodeWithSelector(
                RevealMismatch.selector, Reference.leaf(2, abi.encodePacked(h.slotRoots[3])), h.stateLeaves[2]
            )
        );
        game.revealSlot(jobId, h.stateLeaves[2], h.slotRoots[3]);
    }

    function test_revealSlot_cached_succeeds() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        (bool known,) = game.revealedSlot(jobId, 1, h.stateLeaves[2]);
        assertTrue(!known, "not yet");
        vm.expectEmit(address(game));
        emit IDisputeGame.SlotRevealed(jobId, 1, h.stateLeaves[2], h.slotRoots[2]);
        game.revealSlot(jobId, h.stateLeaves[2], h.slotRoots[2]);
        bytes32 root;
        (known, root) = game.revealedSlot(jobId, 1, h.stateLeaves[2]);
        assertTrue(known, "revealed");
        assertEq(root, h.slotRoots[2], "tensor root");
    }

    function test_revealLeaf_noDispute_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.expectRevert(abi.encodeWithSelector(NoDispute.selector, jobId, uint32(1)));
        game.revealLeaf(jobId, bytes32(0), bytes32(0));
    }

    function test_revealLeaf_wrongData_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        bytes32 leaf = ClampChain.tensorNode(h.words[3], 1, 1);
        bytes32 wrong = h.words[3][1] ^ bytes32(uint256(1));
        vm.expectRevert(
            abi.encodeWithSelector(RevealMismatch.selector, Reference.leaf(1, abi.encodePacked(wrong)), leaf)
        );
        game.revealLeaf(jobId, leaf, wrong);
    }

    function test_revealLeaf_cached_succeeds() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        bytes32 leaf = ClampChain.tensorNode(h.words[3], 1, 1);
        (bool known,) = game.revealedLeaf(jobId, 1, leaf);
        assertTrue(!known, "not yet");
        vm.expectEmit(address(game));
        emit IDisputeGame.LeafRevealed(jobId, 1, leaf, h.words[3][1]);
        game.revealLeaf(jobId, leaf, h.words[3][1]);
        bytes32 data;
        (known, data) = game.revealedLeaf(jobId, 1, leaf);
        assertTrue(known, "revealed");
        assertEq(data, h.words[3][1], "data");
    }

    // =====================================================================================================
    // pick (both walks)
    // =====================================================================================================

    function test_getGame_unknownGame_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownGame.selector, 99));
        game.getGame(99);
    }

    function test_pick_unknownGame_reverts() public {
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(GameNotActive.selector, 99, GameStatus.None));
        game.pick(99, 0, true);
    }

    function test_pick_notChallenger_reverts() public {
        (, uint256 gameId, Trace memory h) = _honestGame5();
        defend(gameId, h);
        vm.prank(anyone);
        vm.expectRevert(abi.encodeWithSelector(NotChallenger.selector, gameId, anyone));
        game.pick(gameId, 0, true);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(NotChallenger.selector, gameId, worker));
        game.pick(gameId, 0, true);
    }

    function test_pick_staleMove_reverts() public {
        (, uint256 gameId, Trace memory h) = _honestGame5();
        defend(gameId, h);
        vm.prank(challenger);
        game.pick(gameId, 0, true);
        defend(gameId, h);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(StaleMove.selector, gameId, 0, 1));
        game.pick(gameId, 0, true);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(StaleMove.selector, gameId, 2, 1));
        game.pick(gameId, 2, true);
    }

    function test_pick_nothingRevealed_reverts() public {
        (uint256 jobId, uint256 gameId, Trace memory h) = _honestGame5();
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(NothingRevealed.selector, RevealKind.Opening, bytes32(0)));
        game.pick(gameId, 0, true);
        game.revealOpening(jobId, h.finalState, ClampChain.statePath(h, 5));
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(NothingRevealed.selector, RevealKind.Node, h.finalState));
        game.pick(gameId, 0, true);
    }

    function test_pick_tensorWalkNothingRevealed_reverts() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Tensor);
        Game memory g = game.getGame(gameId);
        assertEq(g.slot, 5, "slot 5 disputed");
        assertEq(g.node, lie.stateLeaves[5], "at its state leaf");
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(NothingRevealed.selector, RevealKind.Slot, lie.stateLeaves[5]));
        game.pick(gameId, g.moves, false);
        (RevealKind kind, Tree tree, bytes32 hash) = game.pendingReveal(gameId);
        assertEq(uint256(kind), uint256(RevealKind.Slot), "pending: the slot");
        assertEq(uint256(tree), uint256(Tree.State), "a state leaf");
        assertEq(hash, lie.stateLeaves[5], "its hash");
        game.revealSlot(jobId, lie.stateLeaves[5], lie.slotRoots[5]);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(NothingRevealed.selector, RevealKind.Node, lie.slotRoots[5]));
        game.pick(gameId, g.moves, false);
        (kind, tree, hash) = game.pendingReveal(gameId);
        assertEq(uint256(tree), uint256(Tree.Tensor), "then a tensor node");
    }

    function test_pick_stepPhase_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Step);
        uint32 moves = game.getGame(gameId).moves;
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(WrongPhase.selector, gameId, GamePhase.Step));
        game.pick(gameId, moves, false);
    }

    function test_pick_atLeafDepth_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntilLeaf(gameId, lie, h);
        defend(gameId, lie);
        uint32 moves = game.getGame(gameId).moves;
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(WrongPhase.selector, gameId, GamePhase.Tensor));
        game.pick(gameId, moves, false);
    }

    function test_pick_chargesClocks_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory h) = _honestGame5();
        vm.warp(START + 100);
        defend(gameId, h);
        vm.warp(START + 300);
        vm.expectEmit(address(game));
        emit IDisputeGame.Descended(gameId, GamePhase.Slots, 1, 1, ClampChain.stateNode(h, 1, 1));
        vm.prank(challenger);
        game.pick(gameId, 0, true);
        Game memory g = game.getGame(gameId);
        assertEq(g.defenderLeft, CLOCK - 100, "defender charged until its data landed");
        assertEq(g.challengerLeft, CLOCK - 200, "challenger charged from then");
        assertEq(g.lastMoveAt, START + 300, "last move");
        assertEq(g.moves, 1, "one move");
        assertEq(g.depth, 1, "depth");
        assertEq(g.index, 1, "right");
        assertEq(g.node, ClampChain.stateNode(h, 1, 1), "node");
        assertEq(game.getDispute(jobId, 1).activeMoves, 1, "counted for the share rule");
    }

    function test_pick_defenderOutOfTime_reverts() public {
        (uint256 jobId, uint256 gameId, Trace memory h) = _honestGame5();
        vm.warp(START + CLOCK + 1);
        defend(gameId, h); // the reveals still land (they are cached), but too late for this game
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(DefenderOutOfTime.selector, gameId));
        game.pick(gameId, 0, true);
        uint256 burnedBefore = game.burned();
        game.timeout(gameId);
        _assertOverturnedSingle(jobId, gameId, challenger, burnedBefore);
    }

    function test_pick_defenderJustInTime_succeeds() public {
        (, uint256 gameId, Trace memory h) = _honestGame5();
        vm.warp(START + CLOCK);
        defend(gameId, h);
        vm.prank(challenger);
        game.pick(gameId, 0, true);
        assertEq(game.getGame(gameId).defenderLeft, 0, "spent its whole clock");
    }

    function test_pick_challengerOutOfTime_reverts() public {
        (, uint256 gameId, Trace memory h) = _honestGame5();
        defend(gameId, h);
        vm.warp(START + CLOCK + 1);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(ChallengerOutOfTime.selector, gameId));
        game.pick(gameId, 0, true);
    }

    function test_pick_resolvedGame_reverts() public {
        (, uint256 gameId, Trace memory h) = _honestGame5();
        play(gameId, h, h);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(GameNotActive.selector, gameId, GameStatus.DefenderWon));
        game.pick(gameId, 0, true);
    }

    function test_pick_mootGame_reverts() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        uint256 other = _challenge(jobId, challenger2);
        play(gameId, lie, h);
        vm.prank(challenger2);
        vm.expectRevert(abi.encodeWithSelector(ResultOverturnedAlready.selector, jobId, uint32(1)));
        game.pick(other, 0, true);
    }

    function test_pick_reachesOpSlot_startsTensorWalk_succeeds() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        for (uint256 i = 0; i < 2; ++i) {
            defend(gameId, lie);
            attack(gameId, h);
        }
        defend(gameId, lie);
        vm.expectEmit(address(game));
        emit IDisputeGame.Descended(gameId, GamePhase.Slots, 3, 5, lie.stateLeaves[5]);
        vm.expectEmit(address(game));
        emit IDisputeGame.SlotDisputed(gameId, 5);
        attack(gameId, h);
        Game memory g = game.getGame(gameId);
        assertEq(uint256(g.phase), uint256(GamePhase.Tensor), "tensor walk");
        assertEq(g.slot, 5, "the output slot: op 4's");
        assertEq(g.leafDepth, 1, "[1, 1, 40]: two leaves");
        assertEq(g.depth, 0, "at the tensor's root");
        assertEq(g.index, 0, "index");
        assertEq(g.moves, 3, "three picks down six slots");
    }

    function test_pick_tensorMovesDown_succeeds() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Tensor);
        defend(gameId, lie);
        Game memory g = game.getGame(gameId);
        // The lie is at element 3: leaf 0, the left child.
        bytes32 left = ClampChain.tensorNode(lie.words[5], 1, 0);
        vm.expectEmit(address(game));
        emit IDisputeGame.Descended(gameId, GamePhase.Tensor, 1, 0, left);
        vm.prank(challenger);
        game.pick(gameId, g.moves, false);
        g = game.getGame(gameId);
        assertEq(g.depth, 1, "depth");
        assertEq(g.index, 0, "index");
        assertEq(g.node, left, "node");
    }

    // =====================================================================================================
    // nameElement
    // =====================================================================================================

    function test_nameElement_staleMove_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntilLeaf(gameId, lie, h);
        defend(gameId, lie);
        uint32 moves = game.getGame(gameId).moves;
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(StaleMove.selector, gameId, moves + 1, moves));
        game.nameElement(gameId, moves + 1, 3);
        vm.prank(anyone);
        vm.expectRevert(abi.encodeWithSelector(NotChallenger.selector, gameId, anyone));
        game.nameElement(gameId, moves, 3);
    }

    function test_nameElement_slotsPhase_reverts() public {
        (, uint256 gameId, Trace memory h) = _honestGame5();
        defend(gameId, h);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(WrongPhase.selector, gameId, GamePhase.Slots));
        game.nameElement(gameId, 0, 0);
    }

    function test_nameElement_aboveLeafDepth_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Tensor);
        defend(gameId, lie);
        uint32 moves = game.getGame(gameId).moves;
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(WrongPhase.selector, gameId, GamePhase.Tensor));
        game.nameElement(gameId, moves, 0);
    }

    function test_nameElement_leafNotRevealed_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntilLeaf(gameId, lie, h);
        uint32 moves = game.getGame(gameId).moves;
        bytes32 leaf = ClampChain.tensorNode(lie.words[5], 1, 0);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(NothingRevealed.selector, RevealKind.Leaf, leaf));
        game.nameElement(gameId, moves, 3);
    }

    function test_nameElement_offsetOutOfRange_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntilLeaf(gameId, lie, h);
        defend(gameId, lie);
        uint32 moves = game.getGame(gameId).moves;
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(OffsetOutOfRange.selector, uint8(32)));
        game.nameElement(gameId, moves, 32);
    }

    function test_nameElement_stepPhase_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Step);
        uint32 moves = game.getGame(gameId).moves;
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(WrongPhase.selector, gameId, GamePhase.Step));
        game.nameElement(gameId, moves, 3);
    }

    function test_nameElement_entersStep_succeeds() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntilLeaf(gameId, lie, h);
        defend(gameId, lie);
        uint32 moves = game.getGame(gameId).moves;
        vm.expectEmit(address(game));
        emit IDisputeGame.ElementNamed(gameId, 3);
        vm.prank(challenger);
        game.nameElement(gameId, moves, 3);
        Game memory g = game.getGame(gameId);
        assertEq(uint256(g.phase), uint256(GamePhase.Step), "step");
        assertEq(g.offset, 3, "offset");
        (RevealKind kind,,) = game.pendingReveal(gameId);
        assertEq(uint256(kind), uint256(RevealKind.None), "the defender has nothing to do");
    }

    // =====================================================================================================
    // step
    // =====================================================================================================

    function test_step_unknownGame_reverts() public {
        StepWitness memory w;
        vm.expectRevert(abi.encodeWithSelector(GameNotActive.selector, 99, GameStatus.None));
        game.step(99, w);
    }

    function test_step_beforeElementNamed_reverts() public {
        (, uint256 gameId,) = _honestGame5();
        StepWitness memory w;
        vm.expectRevert(abi.encodeWithSelector(WrongPhase.selector, gameId, GamePhase.Slots));
        game.step(gameId, w);
    }

    function test_step_challengerOutOfTime_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Step);
        Game memory g = game.getGame(gameId);
        StepWitness memory w = witness(h, g);
        uint64 allowance = g.challengerLeft > EXT ? g.challengerLeft : EXT;
        vm.warp(g.lastMoveAt + allowance + 1);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(ChallengerOutOfTime.selector, gameId));
        game.step(gameId, w);
        // Even against a liar: the defender wins by the challenger's timeout.
        uint256 burnedBefore = game.burned();
        game.timeout(gameId);
        _assertDefended(gameId, worker, 0, burnedBefore);
    }

    function test_step_justInTime_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Step);
        Game memory g = game.getGame(gameId);
        uint64 allowance = g.challengerLeft > EXT ? g.challengerLeft : EXT;
        vm.warp(g.lastMoveAt + allowance);
        uint256 burnedBefore = game.burned();
        attack(gameId, h);
        _assertOverturnedSingle(jobId, gameId, challenger, burnedBefore);
        assertEq(game.getGame(gameId).moves, 6, "three slot picks, a tensor pick, the naming and the step");
    }

    function test_step_wrongSlotProof_reverts() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Step);
        Game memory g = game.getGame(gameId);
        StepWitness memory w = witness(h, g);
        w.slots[0].root = h.slotRoots[3]; // slot 3's root posing as slot 4's
        vmx.expectPartialRevert(SlotRootMismatch.selector);
        game.step(gameId, w);
        assertEq(uint256(_status(gameId)), uint256(GameStatus.Active), "a bad witness decides nothing");
        // The right witness still wins.
        uint256 burnedBefore = game.burned();
        attack(gameId, h);
        _assertOverturnedSingle(jobId, gameId, challenger, burnedBefore);
    }

    function test_step_pathInOwnFinalState_reverts() public {
        // A lie in slot 3 propagated to 4 and 5: the defender's σ_n differs right of the walk to slot 3, so the
        // operand slot 2 must be proven with the defender's revealed nodes, not the challenger's own tree.
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        Trace memory lie = _lieAt(m, input, 3, 7, true);
        _submit(jobId, lie, worker);
        uint256 gameId = _challenge(jobId, challenger);
        _playUntil(gameId, lie, h, GamePhase.Step);
        Game memory g = game.getGame(gameId);
        assertEq(g.slot, 3, "slot 3");
        StepWitness memory w = witness(h, g);
        w.slots[0].path = ClampChain.statePath(h, 2);
        vm.expectRevert(abi.encodeWithSelector(SlotRootMismatch.selector, uint16(2), h.finalState, lie.finalState));
        game.step(gameId, w);
        attack(gameId, h);
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
    }

    function test_step_wrongRow_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Step);
        StepWitness memory w = witness(h, game.getGame(gameId));
        w.rows[0].data[3] = bytes1(uint8(w.rows[0].data[3]) ^ 0x40); // not slot 4's row
        vmx.expectPartialRevert(RowRootMismatch.selector);
        game.step(gameId, w);
        assertEq(uint256(_status(gameId)), uint256(GameStatus.Active), "still active");
    }

    function test_step_emitsProof_succeeds() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Step);
        int8 claimed = ClampChain.element(lie.shape, lie.words[5], 3);
        int8 actual = ClampChain.element(h.shape, h.words[5], 3);
        vm.expectEmit(address(game));
        emit IDisputeGame.StepProven(gameId, 4, 3, claimed, actual);
        attack(gameId, h);
    }

    function test_step_relayedWinningStep_paysChallenger_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Step);
        attackAs(gameId, h, relayer);
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
        assertEq(_credit(relayer), 0, "the relayer earns nothing");
    }

    function test_step_relayedLosingStep_paysDefender_succeeds() public {
        // A challenger holding a lie in slot 3 disputes an honest result and loses at the step.
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        uint256 gameId = _challenge(jobId, challenger);
        Trace memory mine = _lieAt(m, input, 3, 30, true);
        _playUntil(gameId, h, mine, GamePhase.Step);
        attackAs(gameId, mine, relayer);
        _assertDefended(gameId, worker, 0, 0);
        assertEq(_credit(relayer), 0, "the relayer earns nothing");
        assertEq(_credit(challenger), 0, "the challenger lost");
    }

    // =====================================================================================================
    // timeout
    // =====================================================================================================

    function test_timeout_unknownGame_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(GameNotActive.selector, 99, GameStatus.None));
        game.timeout(99);
    }

    function test_timeout_defenderSilentNotYet_reverts() public {
        (, uint256 gameId,) = _honestGame5();
        vm.warp(START + CLOCK);
        vm.expectRevert(abi.encodeWithSelector(NotTimedOut.selector, gameId));
        game.timeout(gameId);
    }

    function test_timeout_challengerToMoveNotYet_reverts() public {
        (, uint256 gameId, Trace memory h) = _honestGame5();
        vm.warp(START + 50);
        defend(gameId, h);
        vm.warp(START + 50 + CLOCK);
        vm.expectRevert(abi.encodeWithSelector(NotTimedOut.selector, gameId));
        game.timeout(gameId);
    }

    function test_timeout_resolvedGame_reverts() public {
        (, uint256 gameId, Trace memory h) = _honestGame5();
        play(gameId, h, h);
        vm.expectRevert(abi.encodeWithSelector(GameNotActive.selector, gameId, GameStatus.DefenderWon));
        game.timeout(gameId);
    }

    function test_timeout_mootGame_reverts() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        uint256 other = _challenge(jobId, challenger2);
        play(gameId, lie, h);
        vm.warp(block.timestamp + 10 * CLOCK);
        vm.expectRevert(abi.encodeWithSelector(ResultOverturnedAlready.selector, jobId, uint32(1)));
        game.timeout(other);
    }

    function test_timeout_lateRevealStillLoses_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory h) = _honestGame5();
        vm.warp(START + CLOCK + 1);
        defend(gameId, h); // lands after the defender's time ran out
        vm.warp(START + CLOCK + 5);
        uint256 burnedBefore = game.burned();
        game.timeout(gameId);
        _assertOverturnedSingle(jobId, gameId, challenger, burnedBefore);
    }

    function test_timeout_stepPhaseChallengerLoses_succeeds() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Step);
        Game memory g = game.getGame(gameId);
        uint64 allowance = g.challengerLeft > EXT ? g.challengerLeft : EXT;
        vm.warp(g.lastMoveAt + allowance);
        vm.expectRevert(abi.encodeWithSelector(NotTimedOut.selector, gameId));
        game.timeout(gameId);
        vm.warp(g.lastMoveAt + allowance + 1);
        uint256 burnedBefore = game.burned();
        game.timeout(gameId);
        _assertDefended(gameId, worker, 0, burnedBefore);
    }

    /// @notice A reveal that is already cached, sent again later by anyone (here: the challenger, replaying the
    /// defender's own data from its events), must not move the time the data landed: the defender answered on time
    /// and the challenger, who then sat on its move past its clock, must lose.
    function test_timeout_replayedOpeningDoesNotChargeDefender_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory h) = _honestGame5();
        vm.warp(START + 10);
        defend(gameId, h); // the opening and the root's children, on time
        vm.warp(START + 10 + CLOCK + 1);
        bytes32[] memory p = ClampChain.statePath(h, 5);
        vm.prank(challenger);
        game.revealOpening(jobId, h.finalState, p);
        vm.prank(challenger);
        game.revealNode(jobId, Tree.State, h.finalState, ClampChain.stateNode(h, 1, 0), ClampChain.stateNode(h, 1, 1));
        uint256 burnedBefore = game.burned();
        game.timeout(gameId);
        assertEq(uint256(_status(gameId)), uint256(GameStatus.DefenderWon), "the stalling challenger loses");
        _assertDefended(gameId, worker, 0, burnedBefore);
    }

    /// @notice The same for a slot and a tensor node replayed in the tensor walk.
    function test_timeout_replayedSlotDoesNotChargeDefender_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Tensor);
        defend(gameId, lie); // the slot's root and its children, on time
        Game memory g = game.getGame(gameId);
        vm.warp(g.lastMoveAt + CLOCK + EXT + 1);
        (, bytes32 root) = game.revealedSlot(jobId, 1, g.node);
        (bytes32 l, bytes32 r) = game.revealedNode(jobId, 1, root);
        vm.startPrank(challenger);
        game.revealSlot(jobId, g.node, root);
        game.revealNode(jobId, Tree.Tensor, root, l, r);
        vm.stopPrank();
        game.timeout(gameId);
        assertEq(uint256(_status(gameId)), uint256(GameStatus.DefenderWon), "the stalling challenger loses");
    }

    // =====================================================================================================
    // claimMoot / finalize
    // =====================================================================================================

    function test_claimMoot_unknownGame_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(GameNotActive.selector, 99, GameStatus.None));
        game.claimMoot(99);
    }

    function test_claimMoot_standingResult_reverts() public {
        (uint256 jobId, uint256 gameId,) = _honestGame5();
        vm.expectRevert(abi.encodeWithSelector(ResultNotOverturned.selector, jobId, uint32(1)));
        game.claimMoot(gameId);
    }

    function test_claimMoot_winnerGame_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        play(gameId, lie, h);
        vm.expectRevert(abi.encodeWithSelector(GameNotActive.selector, gameId, GameStatus.ChallengerWon));
        game.claimMoot(gameId);
    }

    function test_claimMoot_twice_reverts() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        uint256 other = _challenge(jobId, challenger2);
        play(gameId, lie, h);
        game.claimMoot(other);
        vm.expectRevert(abi.encodeWithSelector(GameNotActive.selector, other, GameStatus.Moot));
        game.claimMoot(other);
    }

    function test_finalize_gameOpen_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.warp(START + WINDOW - 10);
        uint256 gameId = _challenge(jobId, challenger);
        vm.warp(START + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(GamesOpen.selector, jobId, uint32(1)));
        market.finalize(jobId);
        // Once the game is decided the result settles.
        play(gameId, h, h);
        _finalizeAndCheck(jobId, worker, _credit(worker));
    }

    function test_finalize_oneOfTwoGamesOpen_reverts() public {
        (uint256 jobId, uint256 gameId, Trace memory h) = _honestGame5();
        play(gameId, h, h);
        vm.warp(START + WINDOW - 1);
        uint256 other = _challenge(jobId, challenger2);
        vm.warp(START + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(GamesOpen.selector, jobId, uint32(1)));
        market.finalize(jobId);
        play(other, h, h);
        _finalizeAndCheck(jobId, worker, _credit(worker));
    }
}

/// @notice Whole games: every lie class loses to an honest challenger and every lying challenger to an honest worker,
/// with every balance exact to the wei; copied results; the share rule against sock puppets; many games on one result;
/// clocks and extensions.
contract DisputeGameGamesTest is DisputeGameFixture {
    // =====================================================================================================
    // Lying workers
    // =====================================================================================================

    function test_game_wrongOutput_challengerWins_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        uint256 before = address(market).balance + address(game).balance;
        assertEq(uint256(play(gameId, lie, h)), uint256(GameStatus.ChallengerWon), "liar loses");
        Game memory g = game.getGame(gameId);
        assertEq(g.slot, 5, "disputed slot: the output");
        assertEq(uint256(g.phase), uint256(GamePhase.Step), "decided by the step");
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
        assertEq(game.burned(), BOND / 2, "burned()");
        assertEq(_credit(worker), 0, "liar gets nothing");
        assertEq(address(market).balance + address(game).balance, before, "nothing left the contracts");

        // The job is open again: another worker submits the honest result, which settles.
        _submit(jobId, h, worker2);
        Job memory job = market.getJob(jobId);
        assertEq(job.attempt, 2, "second attempt");
        assertEq(job.worker, worker2, "new worker");
        _finalizeAndCheck(jobId, worker2, 0);

        vm.prank(challenger);
        market.withdraw();
        assertEq(challenger.balance, 100 ether - CB + CB + POOL, "challenger withdrew its winnings");
        _assertSolvent();
    }

    function test_game_lieInMiddleSlotPropagates_challengerWins_succeeds() public {
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        Trace memory lie = _lieAt(m, input, 2, 7, true);
        assertTrue(lie.slotRoots[5] != h.slotRoots[5], "the lie reached the output");
        _submit(jobId, lie, worker);
        uint256 gameId = _challenge(jobId, challenger);
        assertEq(uint256(play(gameId, lie, h)), uint256(GameStatus.ChallengerWon), "liar loses");
        Game memory g = game.getGame(gameId);
        assertEq(g.slot, 2, "the first wrong slot: op 1's");
        assertEq(g.index, 0, "leaf 0 (element 7)");
        assertEq(g.offset, 7, "element 7");
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
    }

    function test_game_junkInMiddleSlotLaterSlotsRight_challengerWins_succeeds() public {
        // Slot 2 holds junk, but slots 3..5 (the output included) are the honest ones: only the walk's leftmost rule
        // finds the junk, and op 1 recomputed on the honest slot 1 exposes it.
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        Trace memory lie = _lieAt(m, input, 2, 7, false);
        for (uint256 j = 3; j <= 5; ++j) {
            assertEq(lie.slotRoots[j], h.slotRoots[j], "later slots honest");
        }
        _submit(jobId, lie, worker);
        uint256 gameId = _challenge(jobId, challenger);
        assertEq(uint256(play(gameId, lie, h)), uint256(GameStatus.ChallengerWon), "liar loses");
        assertEq(game.getGame(gameId).slot, 2, "the junk slot");
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
    }

    function test_game_wrongInputSlot_decidedAtSlotZero_succeeds() public {
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        bytes memory other = bytes.concat(input);
        other[0] = bytes1(uint8(other[0]) ^ 0x01);
        Trace memory lie = ClampChain.honest(m, other);
        _submit(jobId, lie, worker);
        uint256 gameId = _challenge(jobId, challenger);
        _playUntilSlotLeaf(gameId, lie, h);
        vm.expectEmit(address(game));
        emit IDisputeGame.SlotDisputed(gameId, 0);
        vm.expectEmit(address(game));
        emit IDisputeGame.ResultOverturned(jobId, 1, POOL, BOND / 2);
        attack(gameId, h);
        Game memory g = game.getGame(gameId);
        assertEq(g.index, 0, "leaf 0");
        assertEq(g.slot, 0, "slot 0");
        assertEq(uint256(g.phase), uint256(GamePhase.Slots), "decided without a tensor walk");
        assertEq(g.moves, 3, "three picks");
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
    }

    function test_game_baitInPaddingSlot_decidedAtOnce_succeeds() public {
        // Honest output and honest slots 0..5; junk in padding slot 6 of the 8-leaf state tree.
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        Trace memory bait = _baitAt(m, input, 6, keccak256("bait"));
        assertEq(bait.slotRoots[5], h.slotRoots[5], "the output is right");
        _submit(jobId, bait, worker);
        assertTrue(market.getJob(jobId).traceRoot != ClampChain.traceRoot(h, worker), "the root differs: challenge");
        uint256 gameId = _challenge(jobId, challenger);
        _playUntilSlotLeaf(gameId, bait, h);
        vm.expectEmit(address(game));
        emit IDisputeGame.SlotDisputed(gameId, 6);
        attack(gameId, h);
        assertEq(game.getGame(gameId).slot, 6, "padding slot 6");
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
        // The honest result settles afterwards.
        _submit(jobId, h, worker2);
        _finalizeAndCheck(jobId, worker2, 0);
    }

    function test_game_unopenableTraceRoot_defenderTimesOut_succeeds() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submitAs(jobId, h, ClampChain.decode(h.shape, h.words[5]), keccak256("junk"), worker);
        uint256 gameId = _challenge(jobId, challenger);
        bytes32[] memory p = ClampChain.statePath(h, 5);
        vm.prank(worker);
        vmx.expectPartialRevert(RevealMismatch.selector);
        game.revealOpening(jobId, h.finalState, p);
        vm.warp(START + CLOCK);
        vm.expectRevert(abi.encodeWithSelector(NotTimedOut.selector, gameId));
        game.timeout(gameId);
        vm.warp(START + CLOCK + 1);
        game.timeout(gameId);
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
    }

    function test_game_outputNotInTrace_defenderTimesOut_succeeds() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        // The worker posts the honest output with a final state whose slot 5 holds something else.
        Trace memory lie = ClampChain.honest(_m5(), _input(_m5(), 0x5eed));
        ClampChain.setElement(lie.shape, lie.words[5], 0, ClampChain.element(lie.shape, lie.words[5], 0) ^ int8(1));
        ClampChain.seal(lie);
        _submitAs(jobId, lie, ClampChain.decode(h.shape, h.words[5]), ClampChain.traceRoot(lie, worker), worker);
        uint256 gameId = _challenge(jobId, challenger);
        // The opening is impossible: σ_n is the worker's, but its slot n is not the posted output.
        bytes32[] memory p = ClampChain.statePath(lie, 5);
        vm.prank(worker);
        vmx.expectPartialRevert(RevealMismatch.selector);
        game.revealOpening(jobId, lie.finalState, p);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(NothingRevealed.selector, RevealKind.Opening, bytes32(0)));
        game.pick(gameId, 0, false);
        vm.warp(START + CLOCK + 1);
        game.timeout(gameId);
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
    }

    function test_game_copiedResult_copierSlashed_honestSettles_succeeds() public {
        address copier = _account("copier");
        (uint256 jobId,,, Trace memory h) = _job5();
        bytes memory output = ClampChain.decode(h.shape, h.words[5]);
        bytes32 honestRoot = ClampChain.traceRoot(h, worker);
        // The copier front-runs the honest worker's submitResult with the same (outputRoot, traceRoot).
        _submitAs(jobId, h, output, honestRoot, copier);
        assertEq(market.getJob(jobId).worker, copier, "the copy landed first");
        // The honest challenger's own root for this worker is leaf(0x03, copier ‖ σ_n): it differs, so it challenges.
        assertTrue(ClampChain.traceRoot(h, copier) != honestRoot, "the copy commits to nothing the copier can open");
        uint256 gameId = _challenge(jobId, challenger);
        bytes32[] memory p = ClampChain.statePath(h, 5);
        vm.prank(copier);
        vm.expectRevert(abi.encodeWithSelector(RevealMismatch.selector, ClampChain.traceRoot(h, copier), honestRoot));
        game.revealOpening(jobId, h.finalState, p);
        // The copier runs out of clock and is slashed; the job re-opens.
        vm.warp(START + CLOCK + 1);
        game.timeout(gameId);
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
        assertEq(_credit(copier), 0, "the copier gets nothing");
        assertEq(copier.balance, 100 ether - BOND, "the copier lost its whole bond");
        // The honest worker submits again; its root is its own, nobody challenges, and it settles.
        _submit(jobId, h, worker);
        assertEq(market.getJob(jobId).traceRoot, ClampChain.traceRoot(h, worker), "bound to the honest worker");
        _finalizeAndCheck(jobId, worker, 0);
        assertEq(market.getJob(jobId).attempt, 2, "settled on the second result");
    }

    function test_game_lieInPaddingChannel_emptyWitness_succeeds() public {
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        // Slot 3, leaf 1 holds channels 32..63 of [1, 1, 40]; byte 18 is channel 50, padding.
        Trace memory lie = ClampChain.honest(m, input);
        ClampChain.setByte(lie.words[3], 1, 18, 0x2a);
        ClampChain.seal(lie);
        assertEq(lie.slotRoots[4], h.slotRoots[4], "padding does not propagate");
        _submit(jobId, lie, worker);
        uint256 gameId = _challenge(jobId, challenger);
        _playUntil(gameId, lie, h, GamePhase.Step);
        Game memory g = game.getGame(gameId);
        assertEq(g.slot, 3, "op 2 wrote slot 3");
        assertEq(g.index, 1, "leaf 1");
        assertEq(g.offset, 18, "channel 50");
        StepWitness memory empty;
        vm.expectEmit(address(game));
        emit IDisputeGame.StepProven(gameId, 2, type(uint256).max, 0x2a, 0);
        vm.prank(challenger);
        game.step(gameId, empty);
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
    }

    function test_game_lieInPaddingLeaf_emptyWitness_succeeds() public {
        // [2, 3, 5]: 6 rows of one leaf, padded to 8 leaves; leaf 7 is padding.
        ClampModel memory m = _mImg();
        bytes memory input = _input(m, 9);
        Trace memory h = ClampChain.honest(m, input);
        Trace memory lie = ClampChain.honest(m, input);
        ClampChain.setByte(lie.words[2], 7, 0, 0x01);
        ClampChain.seal(lie);
        uint256 jobId = _post(imgId, input);
        _submit(jobId, lie, worker);
        uint256 gameId = _challenge(jobId, challenger);
        _playUntil(gameId, lie, h, GamePhase.Step);
        Game memory g = game.getGame(gameId);
        assertEq(g.slot, 2, "op 1 wrote slot 2");
        assertEq(g.leafDepth, 3, "8 leaves");
        assertEq(g.index, 7, "the padding leaf");
        assertEq(uint256(play(gameId, lie, h)), uint256(GameStatus.ChallengerWon), "liar loses");
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
    }

    function test_game_imageModelLieInElement_challengerWins_succeeds() public {
        ClampModel memory m = _mImg();
        bytes memory input = _input(m, 10);
        Trace memory h = ClampChain.honest(m, input);
        // Element 23 = row 4, channel 3 of slot 3 (the output).
        Trace memory lie = _lieAt(m, input, 3, 23, false);
        uint256 jobId = _post(imgId, input);
        _submit(jobId, lie, worker);
        uint256 gameId = _challenge(jobId, challenger);
        assertEq(uint256(play(gameId, lie, h)), uint256(GameStatus.ChallengerWon), "liar loses");
        Game memory g = game.getGame(gameId);
        assertEq(g.index, 4, "row 4's leaf");
        assertEq(g.offset, 3, "channel 3");
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
    }

    function test_game_oneOpModel_bothOutcomes_succeeds() public {
        ClampModel memory m = _m1();
        bytes memory input = _input(m, 11);
        Trace memory h = ClampChain.honest(m, input);
        // A lie in channel 35 (leaf 1, byte 3).
        Trace memory lie = _lieAt(m, input, 1, 35, false);
        uint256 jobId = _post(m1Id, input);
        _submit(jobId, lie, worker);
        uint256 gameId = _challenge(jobId, challenger);
        assertEq(uint256(play(gameId, lie, h)), uint256(GameStatus.ChallengerWon), "liar loses");
        Game memory g = game.getGame(gameId);
        assertEq(g.moves, 4, "one slot pick, one tensor pick, the naming, the step");
        assertEq(g.index, 1, "leaf 1");
        assertEq(g.offset, 3, "channel 35");
        _assertOverturnedSingle(jobId, gameId, challenger, 0);

        // The honest resubmission survives a challenge.
        _submit(jobId, h, worker2);
        uint256 again = _challenge(jobId, challenger2);
        assertEq(uint256(play(again, h, lie)), uint256(GameStatus.DefenderWon), "honest worker wins");
        _assertDefended(again, worker2, 0, BOND / 2);
        _finalizeAndCheck(jobId, worker2, CB / 2);
    }

    function test_game_oneLeafTensor_leafIsTheRoot_succeeds() public {
        // [1, 1, 16]: one tensor leaf, so the tensor walk has no pick: the slot's root is the leaf to name.
        ClampModel memory m = ClampChain.narrowing(ClampChain.shape(1, 1, 16), 2);
        uint256 id = _activate(m);
        bytes memory input = _input(m, 14);
        Trace memory h = ClampChain.honest(m, input);
        Trace memory lie = _lieAt(m, input, 2, 4, false);
        uint256 jobId = _post(id, input);
        _submit(jobId, lie, worker);
        uint256 gameId = _challenge(jobId, challenger);
        _playUntil(gameId, lie, h, GamePhase.Tensor);
        Game memory g = game.getGame(gameId);
        assertEq(g.slot, 2, "slot 2");
        assertEq(g.leafDepth, 0, "one leaf");
        vm.prank(worker);
        game.revealSlot(jobId, g.node, lie.slotRoots[2]);
        (RevealKind kind,, bytes32 hash) = game.pendingReveal(gameId);
        assertEq(uint256(kind), uint256(RevealKind.Leaf), "the root is the leaf");
        assertEq(hash, lie.slotRoots[2], "its hash");
        assertEq(uint256(play(gameId, lie, h)), uint256(GameStatus.ChallengerWon), "liar loses");
        g = game.getGame(gameId);
        assertEq(g.offset, 4, "element 4");
        assertEq(g.moves, 4, "two slot picks, the naming, the step");
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
    }

    function test_game_twoOpModel_bothOutcomes_succeeds() public {
        ClampModel memory m = _m2();
        bytes memory input = _input(m, 12);
        Trace memory h = ClampChain.honest(m, input);
        Trace memory lie = _lieAt(m, input, 1, 7, true);
        uint256 jobId = _post(m2Id, input);
        _submit(jobId, lie, worker);
        uint256 gameId = _challenge(jobId, challenger);
        assertEq(uint256(play(gameId, lie, h)), uint256(GameStatus.ChallengerWon), "liar loses");
        assertEq(game.getGame(gameId).slot, 1, "op 0");
        _assertOverturnedSingle(jobId, gameId, challenger, 0);

        _submit(jobId, h, worker2);
        uint256 again = _challenge(jobId, challenger2);
        assertEq(uint256(play(again, h, lie)), uint256(GameStatus.DefenderWon), "honest worker wins");
        _assertDefended(again, worker2, 0, BOND / 2);
    }

    function test_game_defenderStalls_timesOut_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory h) = _honestGame5();
        Trace memory mine = _lieAt(_m5(), _input(_m5(), 0x5eed), 4, 1, true);
        // The (honest) defender answers twice, then goes silent; even an honest worker loses by its clock.
        for (uint256 i = 0; i < 2; ++i) {
            vm.warp(block.timestamp + 100);
            defend(gameId, h);
            attack(gameId, mine);
        }
        Game memory g = game.getGame(gameId);
        assertEq(g.defenderLeft, CLOCK - 200, "charged its 200 s");
        vm.warp(g.lastMoveAt + g.defenderLeft);
        vm.expectRevert(abi.encodeWithSelector(NotTimedOut.selector, gameId));
        game.timeout(gameId);
        vm.warp(g.lastMoveAt + g.defenderLeft + 1);
        vm.prank(anyone);
        game.timeout(gameId);
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
        assertEq(_credit(anyone), 0, "the caller of timeout gets nothing");
    }

    // =====================================================================================================
    // Lying challengers
    // =====================================================================================================

    function test_game_challengerDisputesCorrectResult_loses_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory h) = _honestGame5();
        // The challenger holds the same (honest) trace: every side agrees, it walks right to padding slot 7.
        assertEq(uint256(play(gameId, h, h)), uint256(GameStatus.DefenderWon), "challenger loses at the padding slot");
        Game memory g = game.getGame(gameId);
        assertEq(g.slot, 7, "padding slot 7");
        assertEq(g.moves, 3, "three picks");
        assertEq(uint256(g.phase), uint256(GamePhase.Slots), "decided in the walk");
        assertEq(game.getDispute(jobId, 1).activeMoves, 0, "a lost game's moves leave the sum");
        _assertDefended(gameId, worker, 0, 0);
        assertEq(game.burned(), CB / 2, "burned()");
        _finalizeAndCheck(jobId, worker, CB / 2);
    }

    function test_game_lyingChallenger_loses_succeeds() public {
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        uint256 gameId = _challenge(jobId, challenger);
        Trace memory mine = _lieAt(m, input, 3, 30, true);
        assertEq(uint256(play(gameId, h, mine)), uint256(GameStatus.DefenderWon), "lying challenger loses");
        assertEq(game.getGame(gameId).slot, 3, "walked to its own lie");
        _assertDefended(gameId, worker, 0, 0);
        _finalizeAndCheck(jobId, worker, CB / 2);
    }

    function test_game_lyingChallengerWrongInput_losesAtSlotZero_succeeds() public {
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        uint256 gameId = _challenge(jobId, challenger);
        bytes memory other = bytes.concat(input);
        other[3] = bytes1(uint8(other[3]) ^ 0x10);
        Trace memory mine = ClampChain.honest(m, other);
        assertEq(uint256(play(gameId, h, mine)), uint256(GameStatus.DefenderWon), "lying challenger loses");
        assertEq(game.getGame(gameId).index, 0, "slot 0 holds the job's input");
        _assertDefended(gameId, worker, 0, 0);
    }

    function test_game_lyingChallengerBait_losesAtPaddingSlot_succeeds() public {
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        uint256 gameId = _challenge(jobId, challenger);
        Trace memory mine = _baitAt(m, input, 6, keccak256("my bait"));
        assertEq(uint256(play(gameId, h, mine)), uint256(GameStatus.DefenderWon), "lying challenger loses");
        assertEq(game.getGame(gameId).index, 6, "the defender's padding slot is empty");
        _assertDefended(gameId, worker, 0, 0);
    }

    function test_game_challengerStalls_timesOut_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        // Two honest moves, then the challenger goes silent.
        for (uint256 i = 0; i < 2; ++i) {
            defend(gameId, lie);
            vm.warp(block.timestamp + 60);
            attack(gameId, h);
        }
        vm.warp(block.timestamp + 5);
        defend(gameId, lie);
        Game memory g = game.getGame(gameId);
        assertEq(g.challengerLeft, CLOCK - 120, "charged its two minutes");
        uint256 readyAt = block.timestamp;
        vm.warp(readyAt + g.challengerLeft);
        vm.expectRevert(abi.encodeWithSelector(NotTimedOut.selector, gameId));
        game.timeout(gameId);
        vm.warp(readyAt + g.challengerLeft + 1);
        vm.prank(anyone);
        game.timeout(gameId);
        _assertDefended(gameId, worker, 0, 0);
        assertEq(_credit(anyone), 0, "the caller of timeout gets nothing");
        // Nothing else is open: the lying result settles (nobody else checked it in time).
        _finalizeAndCheck(jobId, worker, CB / 2);
    }

    function test_game_workerChallengesItselfAndDefends_losesMoney_succeeds() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        // worker2 is the worker's second account: it challenges (to stall others, say) and the worker defends.
        uint256 wealthBefore = worker.balance + worker2.balance;
        uint256 gameId = _challenge(jobId, worker2);
        assertEq(uint256(play(gameId, h, h)), uint256(GameStatus.DefenderWon), "the sock puppet loses");
        vm.warp(START + WINDOW);
        market.finalize(jobId);
        vm.prank(worker);
        market.withdraw();
        uint256 royalty = FEE * ROYALTY_BPS / 10_000;
        assertEq(worker.balance + worker2.balance, wealthBefore + BOND + FEE - royalty - CB / 2, "half a bond lost");
        assertEq(_credit(worker2), 0, "nothing for the puppet");
        assertEq(game.burned(), CB / 2, "burned");
        _assertSolvent();
    }

    function test_game_workerChallengesItselfAndConcedes_losesMoney_succeeds() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        // The worker lets its second account win (it never answers): it loses half its bond and the job.
        uint256 wealthBefore = worker.balance + worker2.balance + BOND; // the bond is the worker's money
        uint256 gameId = _challenge(jobId, worker2);
        vm.warp(START + CLOCK + 1);
        game.timeout(gameId);
        vm.prank(worker2);
        market.withdraw();
        assertEq(worker.balance + worker2.balance, wealthBefore - BOND / 2, "half the worker's bond lost");
        assertEq(uint256(market.getJob(jobId).status), uint256(JobStatus.Open), "and the job");
        assertEq(game.burned(), BOND / 2, "burned");
        _assertSolvent();
    }

    // =====================================================================================================
    // Several games on one result: the share rule
    // =====================================================================================================

    function test_game_overturnedWithThreeOpen_shareRule_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        uint256 b = _challenge(jobId, challenger2);
        uint256 c = _challenge(jobId, challenger3);
        _playUntil(gameId, lie, h, GamePhase.Step);
        vm.expectEmit(address(game));
        emit IDisputeGame.ResultOverturned(jobId, 1, POOL, BOND / 2);
        vm.expectEmit(address(game));
        emit IDisputeGame.GameResolved(gameId, GameStatus.ChallengerWon, CB + 123_333_333_333_333_333, 0, BOND / 2);
        attack(gameId, h);
        // N = 3, M = 6 (the winner's), C = 0.06 ether ≤ P = 0.25 ether: moves·r + ⌊(P − C)/3⌋ each.
        ResultDispute memory d = game.getDispute(jobId, 1);
        assertEq(d.sharers, 3, "N");
        assertEq(d.activeMoves, 6, "M");
        assertEq(d.pool, POOL, "P");
        assertEq(d.openGames, 2, "two left to claim");
        assertEq(_credit(challenger), CB + 123_333_333_333_333_333, "winner: bond + 6 moves + a third of the rest");
        assertEq(d.poolLeft, POOL - 123_333_333_333_333_333, "owed to the moot games");
        assertEq(_credit(challenger2), 0, "not yet claimed");
        assertEq(game.burned(), BOND / 2, "the dust is not burned yet");
        _assertSolvent();

        // The others can no longer move, only claim.
        vm.prank(challenger2);
        vm.expectRevert(abi.encodeWithSelector(ResultOverturnedAlready.selector, jobId, uint32(1)));
        game.pick(b, 0, true);
        (RevealKind kind,,) = game.pendingReveal(b);
        assertEq(uint256(kind), uint256(RevealKind.None), "nothing pending on a moot game");

        // Anyone can claim for them; the money goes to the challengers; the last claim burns the dust.
        vm.expectEmit(address(game));
        emit IDisputeGame.GameResolved(b, GameStatus.Moot, CB + 63_333_333_333_333_333, 0, 0);
        vm.prank(anyone);
        game.claimMoot(b);
        assertEq(_credit(challenger2), CB + 63_333_333_333_333_333, "b: bond + a third of the rest");
        _assertSolvent();
        vm.expectEmit(address(game));
        emit IDisputeGame.GameResolved(c, GameStatus.Moot, CB + 63_333_333_333_333_333, 0, 1);
        game.claimMoot(c);
        assertEq(_credit(challenger3), CB + 63_333_333_333_333_333, "c: bond + a third of the rest");
        d = game.getDispute(jobId, 1);
        assertEq(d.openGames, 0, "all claimed");
        assertEq(d.poolLeft, 0, "nothing left of the pool");
        assertEq(game.burned(), BOND / 2 + 1, "half the bond and one wei of dust");
        assertEq(address(game).balance, game.burned(), "the game holds only burned wei");
        assertEq(_credit(anyone), 0, "claimer gets nothing");
        assertEq(_credit(worker), 0, "liar gets nothing");
        _assertSolvent();

        // The job re-opened with its attempt kept; the next result is a new dispute.
        Job memory job = market.getJob(jobId);
        assertEq(uint256(job.status), uint256(JobStatus.Open), "open");
        assertEq(job.attempt, 1, "attempt kept");
        _submit(jobId, h, worker2);
        assertEq(market.getJob(jobId).attempt, 2, "attempt 2");
        assertEq(game.getDispute(jobId, 2).opCount, 0, "no dispute on attempt 2 yet");
        _finalizeAndCheck(jobId, worker2, 0);
    }

    function test_game_decidedGamesBeforeOverturnKeepTheirOutcome_succeeds() public {
        // Game a: a challenger holding the liar's own trace loses; then game b overturns.
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        Trace memory lie = _lieAt(m, input, 5, 3, false);
        _submit(jobId, lie, worker);
        uint256 a = _challenge(jobId, challenger);
        uint256 b = _challenge(jobId, challenger2);
        assertEq(uint256(play(a, lie, lie)), uint256(GameStatus.DefenderWon), "a loses");
        assertEq(_credit(worker), CB / 2, "liar won game a");
        assertEq(game.getDispute(jobId, 1).activeMoves, 0, "a's three moves left the sum");
        assertEq(uint256(play(b, lie, h)), uint256(GameStatus.ChallengerWon), "b overturns");
        ResultDispute memory d = game.getDispute(jobId, 1);
        assertEq(d.sharers, 1, "only b was open");
        assertEq(d.activeMoves, 6, "b's moves only");
        assertEq(_credit(challenger2), CB + POOL, "b takes the whole pool");
        assertEq(game.burned(), CB / 2 + BOND / 2, "a's half and the worker's half");
        _assertSolvent();
    }

    /// @notice Sock puppets that make few moves: C ≤ P, so the honest challenger is repaid all its moves and more.
    function test_game_sockPuppetsFewMoves_honestRepaidItsMoves_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        address puppet = _account("puppet");
        uint256[] memory puppets = new uint256[](2);
        puppets[0] = _challenge(jobId, puppet);
        puppets[1] = _challenge(jobId, puppet);
        _movePuppet(puppets[0], lie, h, 3);
        _movePuppet(puppets[1], lie, h, 5);
        assertEq(uint256(play(gameId, lie, h)), uint256(GameStatus.ChallengerWon), "honest challenger overturns");
        // N = 3, M = 6 + 3 + 5 = 14, C = 0.14 ether ≤ P: moves·r + ⌊0.11 ether / 3⌋ each, 2 wei of dust.
        assertEq(_credit(challenger), CB + 96_666_666_666_666_666, "honest: bond + 6 moves + a third of the rest");
        vm.assertLe(6 * MR, _credit(challenger) - CB, "at least its moves' worth");
        game.claimMoot(puppets[0]);
        game.claimMoot(puppets[1]);
        assertEq(_credit(puppet), 2 * CB + 66_666_666_666_666_666 + 86_666_666_666_666_666, "puppets: bonds + shares");
        assertEq(game.burned(), BOND / 2 + 2, "half the bond and the dust");
        assertEq(address(game).balance, game.burned(), "0 wei unaccounted");
        _assertSolvent();
    }

    /// @notice Sock puppets that make many moves: C > P, pro rata. The honest challenger gets less than its moves'
    /// worth only because the puppets made moves worth more than the pool less the honest moves, and every puppet is
    /// repaid less than its own moves' worth.
    function test_game_sockPuppetsManyMoves_proRata_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        address puppet = _account("puppet");
        uint256[] memory puppets = new uint256[](5);
        for (uint256 i = 0; i < 5; ++i) {
            puppets[i] = _challenge(jobId, puppet);
            _movePuppet(puppets[i], lie, h, 5);
        }
        assertEq(uint256(play(gameId, lie, h)), uint256(GameStatus.ChallengerWon), "honest challenger overturns");
        // N = 6, M = 6 + 25 = 31, C = 0.31 ether > P = 0.25 ether: ⌊moves·P/M⌋ each, 2 wei of dust.
        assertEq(_credit(challenger), CB + 48_387_096_774_193_548, "honest: bond + 6/31 of the pool");
        // The puppets' 25 moves are worth 0.25 ether, more than the pool less the honest moves (0.19 ether).
        for (uint256 i = 0; i < 5; ++i) {
            game.claimMoot(puppets[i]);
        }
        assertEq(_credit(puppet), 5 * (CB + 40_322_580_645_161_290), "puppets: bonds + 5/31 of the pool each");
        assertTrue(40_322_580_645_161_290 < 5 * MR, "each puppet is repaid less than its moves' worth");
        assertEq(game.burned(), BOND / 2 + 2, "half the bond and the dust");
        assertEq(address(game).balance, game.burned(), "0 wei unaccounted");
        _assertSolvent();
    }

    /// @notice The share rule for any number of puppets making any number of moves: payouts sum to the pool less the
    /// dust (burned, < N wei), and the honest challenger is repaid its moves' worth unless the puppets' moves are worth
    /// more than the pool less that.
    function testFuzz_game_sockPuppets_shareRule_succeeds(uint256 count, uint256 movesSeed) public {
        count = bound(count, 1, 6);
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        uint256[] memory puppets = new uint256[](count);
        uint256 puppetMoves;
        for (uint256 i = 0; i < count; ++i) {
            puppets[i] = _challenge(jobId, _account(string(abi.encodePacked("puppet-", bytes1(uint8(65 + i))))));
            uint256 s = (movesSeed >> (8 * i)) % 6;
            _movePuppet(puppets[i], lie, h, s);
            puppetMoves += s;
        }
        play(gameId, lie, h);
        uint256 honestShare = _credit(challenger) - CB;
        uint256 total = honestShare;
        bool cheap = (6 + puppetMoves) * MR <= POOL;
        for (uint256 i = 0; i < count; ++i) {
            game.claimMoot(puppets[i]);
            Game memory g = game.getGame(puppets[i]);
            uint256 share = _credit(g.challenger) - CB;
            total += share;
            // A puppet is repaid its moves' worth while C ≤ P, and less once its side made C > P.
            if (cheap) vm.assertLe(g.moves * MR, share, "puppet repaid its moves");
            else if (g.moves > 0) assertTrue(share < g.moves * MR, "puppet repaid less than its moves' worth");
        }
        uint256 dust = game.burned() - BOND / 2;
        assertEq(total + dust, POOL, "shares + dust = the pool");
        vm.assertLe(dust, count, "dust below N");
        // The honest challenger is repaid its moves' worth unless the puppets' moves are worth more than the rest.
        if (cheap) vm.assertLe(6 * MR, honestShare, "honest repaid its moves");
        else assertEq(honestShare, 6 * POOL / (6 + puppetMoves), "pro rata");
        assertEq(address(game).balance, game.burned(), "0 wei unaccounted");
        _assertSolvent();
    }

    function test_game_twentyChallengersSameLie_defenderRevealsOnce_succeeds() public {
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        Trace memory mine = _lieAt(m, input, 3, 9, true);
        uint256[] memory games = _openMany(jobId, 20);
        uint256 first;
        for (uint256 i = 0; i < 20; ++i) {
            uint256 before = defenderReveals;
            assertEq(uint256(play(games[i], h, mine)), uint256(GameStatus.DefenderWon), "every challenger loses");
            if (i == 0) first = defenderReveals - before;
            else assertEq(defenderReveals - before, 0, "later games are answered by the cache");
        }
        // One game: the opening, three state nodes, slot 3's root, its root's children, the leaf.
        assertEq(first, 7, "one game's reveals");
        assertEq(defenderReveals, 7, "twenty games cost the defender one game's reveals");
        assertEq(_credit(worker), 20 * (CB / 2), "half of every bond");
        assertEq(game.burned(), 20 * (CB / 2), "half of every bond burned");
        _assertSolvent();
        _finalizeAndCheck(jobId, worker, 20 * (CB / 2));
    }

    function test_game_twentyChallengersDifferentLies_revealsBoundedByPositions_succeeds() public {
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        uint256[] memory games = _openMany(jobId, 20);
        // Played round-robin, one turn per game per round, so the reveals of different games interleave.
        Trace[] memory mine = new Trace[](20);
        for (uint256 i = 0; i < 20; ++i) {
            // Lies in slots 1..5, in both leaves.
            // forge-lint: disable-next-line(unsafe-typecast)
            mine[i] = _lieAt(m, input, uint32(1 + i % 5), (i * 7) % 40, i % 2 == 0);
        }
        for (uint256 round = 0; round < 50; ++round) {
            vm.warp(block.timestamp + 1);
            for (uint256 i = 0; i < 20; ++i) {
                if (!live(games[i])) continue;
                (RevealKind kind,,) = game.pendingReveal(games[i]);
                if (kind != RevealKind.None) defend(games[i], h);
                else attack(games[i], mine[i]);
            }
        }
        for (uint256 i = 0; i < 20; ++i) {
            assertEq(uint256(_status(games[i])), uint256(GameStatus.DefenderWon), "every challenger loses");
        }
        // Distinct positions: the opening, 7 inner state nodes, slots 1..5, each slot's root and its two leaves.
        uint256 positions = 1 + 7 + 5 + 5 + 5 * 2;
        log("defender reveals for 20 games", defenderReveals);
        vm.assertLe(defenderReveals, positions, "bounded by the distinct positions");
        _assertSolvent();
        _finalizeAndCheck(jobId, worker, 20 * (CB / 2));
    }

    // =====================================================================================================
    // Clocks
    // =====================================================================================================

    function test_clock_challengerBelowExtension_getsExtension_succeeds() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        defend(gameId, lie);
        // The challenger spends all but 60 s of its clock on its first move.
        vm.warp(START + CLOCK - 60);
        attack(gameId, h);
        assertEq(game.getGame(gameId).challengerLeft, 60, "60 s left");
        defend(gameId, lie);
        // Its next move may still take the whole extension (more than the 60 s left) …
        vm.warp(block.timestamp + EXT);
        attack(gameId, h);
        Game memory g = game.getGame(gameId);
        assertEq(g.challengerLeft, 0, "a move inside the extension empties the clock");
        // … and every further move gets the extension again, but no more.
        defend(gameId, lie);
        uint256 readyAt = block.timestamp;
        vm.warp(readyAt + EXT + 1);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(ChallengerOutOfTime.selector, gameId));
        game.pick(gameId, g.moves, true);
        vm.warp(readyAt + EXT);
        attack(gameId, h);
        assertEq(uint256(_status(gameId)), uint256(GameStatus.Active), "still playing on extensions");
        assertEq(uint256(play(gameId, lie, h)), uint256(GameStatus.ChallengerWon), "and wins");
    }

    function test_clock_defenderBelowExtension_getsExtension_succeeds() public {
        (, uint256 gameId, Trace memory h) = _honestGame5();
        Trace memory mine = _lieAt(_m5(), _input(_m5(), 0x5eed), 4, 1, true);
        // The defender spends all but 30 s of its clock on the opening reveals.
        vm.warp(START + CLOCK - 30);
        defend(gameId, h);
        attack(gameId, mine);
        assertEq(game.getGame(gameId).defenderLeft, 30, "30 s left");
        // It still has the whole extension for its next reveal.
        uint64 last = game.getGame(gameId).lastMoveAt;
        vm.warp(last + EXT);
        vm.expectRevert(abi.encodeWithSelector(NotTimedOut.selector, gameId));
        game.timeout(gameId);
        defend(gameId, h);
        attack(gameId, mine);
        Game memory g = game.getGame(gameId);
        assertEq(g.defenderLeft, 0, "emptied");
        // Past the extension it loses.
        vm.warp(g.lastMoveAt + EXT + 1);
        game.timeout(gameId);
        assertEq(uint256(_status(gameId)), uint256(GameStatus.ChallengerWon), "out of extension");
    }

    // =====================================================================================================
    // Fuzz
    // =====================================================================================================

    function testFuzz_game_workerLiesAnywhere_challengerWins_succeeds(
        uint256 slotSeed,
        uint256 e,
        uint8 value,
        bool propagate
    ) public {
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 slot = uint32(bound(slotSeed, 1, 5));
        e = bound(e, 0, 39);
        Trace memory lie = ClampChain.honest(m, input);
        vm.assume(int8(value) != ClampChain.element(lie.shape, lie.words[slot], e));
        ClampChain.setElement(lie.shape, lie.words[slot], e, int8(value));
        if (propagate) ClampChain.propagate(lie, m, slot);
        ClampChain.seal(lie);
        _submit(jobId, lie, worker);
        uint256 gameId = _challenge(jobId, challenger);
        assertEq(uint256(play(gameId, lie, h)), uint256(GameStatus.ChallengerWon), "liar loses");
        assertEq(game.getGame(gameId).slot, slot, "the slot that holds the lie");
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
    }

    function testFuzz_game_baitAnyPaddingSlot_challengerWins_succeeds(bool seven, bytes32 junk) public {
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        vm.assume(junk != bytes32(0));
        uint256 slot = seven ? 7 : 6;
        Trace memory bait = _baitAt(m, input, slot, junk);
        _submit(jobId, bait, worker);
        uint256 gameId = _challenge(jobId, challenger);
        assertEq(uint256(play(gameId, bait, h)), uint256(GameStatus.ChallengerWon), "bait loses");
        assertEq(game.getGame(gameId).slot, slot, "the bait slot");
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
    }

    function testFuzz_game_challengerLiesAnywhere_defenderWins_succeeds(
        uint256 slotSeed,
        uint256 e,
        uint8 value,
        bool propagate
    ) public {
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 slot = uint32(bound(slotSeed, 0, 5));
        e = bound(e, 0, 39);
        Trace memory mine = ClampChain.honest(m, input);
        vm.assume(int8(value) != ClampChain.element(mine.shape, mine.words[slot], e));
        ClampChain.setElement(mine.shape, mine.words[slot], e, int8(value));
        if (propagate) ClampChain.propagate(mine, m, slot);
        ClampChain.seal(mine);
        _submit(jobId, h, worker);
        uint256 gameId = _challenge(jobId, challenger);
        assertEq(uint256(play(gameId, h, mine)), uint256(GameStatus.DefenderWon), "lying challenger loses");
        _assertDefended(gameId, worker, 0, 0);
    }

    function testFuzz_game_imageModelAnyByteLie_challengerWins_succeeds(
        uint256 slotSeed,
        uint256 leaf,
        uint256 offset,
        uint8 delta
    ) public {
        // Any byte of any leaf of [2, 3, 5] (8 leaves): real elements, padding channels 5..31, padding leaves 6, 7.
        ClampModel memory m = _mImg();
        bytes memory input = _input(m, 13);
        Trace memory h = ClampChain.honest(m, input);
        // Slots 1..2 (slot 3 is the posted output, whose padding the contract zeroes itself).
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 slot = uint32(bound(slotSeed, 1, 2));
        leaf = bound(leaf, 0, 7);
        offset = bound(offset, 0, 31);
        vm.assume(delta != 0);
        Trace memory lie = ClampChain.honest(m, input);
        ClampChain.setByte(lie.words[slot], leaf, offset, uint8(lie.words[slot][leaf][offset]) ^ delta);
        ClampChain.propagate(lie, m, slot);
        ClampChain.seal(lie);
        uint256 jobId = _post(imgId, input);
        _submit(jobId, lie, worker);
        uint256 gameId = _challenge(jobId, challenger);
        assertEq(uint256(play(gameId, lie, h)), uint256(GameStatus.ChallengerWon), "liar loses");
        Game memory g = game.getGame(gameId);
        assertEq(g.slot, slot, "the slot that holds the lie");
        assertEq(g.index, leaf, "the lying leaf");
        assertEq(g.offset, offset, "the lying byte");
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
    }

    // =====================================================================================================
    // helpers
    // =====================================================================================================

    /// @notice Plays the final-state walk until one pick is left (the defender's reveals for it sent).
    function _playUntilSlotLeaf(uint256 gameId, Trace memory theirs, Trace memory mine) internal {
        for (uint256 i = 0; i < MAX_TURNS; ++i) {
            vm.warp(block.timestamp + 1);
            defend(gameId, theirs);
            Game memory g = game.getGame(gameId);
            if (g.depth + 1 == g.leafDepth) return;
            attack(gameId, mine);
        }
        revert("slot leaf not reached");
    }

    /// @notice A sock puppet's game: `count` (≤ 5) challenger moves toward the real lie, never the winning step.
    function _movePuppet(uint256 gameId, Trace memory lie, Trace memory h, uint256 count) internal {
        for (uint256 i = 0; i < count; ++i) {
            vm.warp(block.timestamp + 1);
            defend(gameId, lie);
            attack(gameId, h);
        }
        assertEq(game.getGame(gameId).moves, count, "puppet moves");
    }
}
