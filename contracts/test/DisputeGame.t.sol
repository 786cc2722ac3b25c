// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {JobMarket} from "../src/JobMarket.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {OneStepProver} from "../src/OneStepProver.sol";
import {IDisputeGame} from "../src/interfaces/IDisputeGame.sol";
import {IOneStepProver, StepWitness} from "../src/interfaces/IOneStepProver.sol";
import {
    BurnTooLow,
    ChallengeWindowClosed,
    ChallengerOutOfTime,
    DefenderOutOfTime,
    GameNotActive,
    GamesOpen,
    NoDispute,
    NotChallenger,
    NotTimedOut,
    NothingRevealed,
    PathLengthMismatch,
    ResultNotOverturned,
    ResultNotSubmitted,
    ResultOverturnedAlready,
    RevealMismatch,
    RowRootMismatch,
    SelfChallenge,
    SlotRootMismatch,
    StaleMove,
    StateIndexOutOfRange,
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
    RevealKind
} from "../src/lib/Types.sol";
import {ClampChain, ClampModel, Trace} from "./utils/ClampChain.sol";
import {Configs} from "./utils/Configs.sol";
import {GameDriver} from "./utils/GameDriver.sol";
import {Reference} from "./utils/Reference.sol";

/// @notice The cheatcode test/Base.t.sol does not declare: expect a custom error by its selector, whatever its arguments.
interface VmPartialRevert {
    function expectPartialRevert(bytes4 selector) external;
}

/// @notice Shared setup: a real registry, prover and market, four Active clamp-chain models (5 ops over [1, 1, 40],
/// 1 and 2 ops over [1, 1, 40], 3 ops over [2, 3, 5]), and the accounts whose credits the solvency check sums.
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

    function setUp() public virtual {
        vm.warp(START);
        registry = new ModelRegistry();
        prover = new OneStepProver(registry);
        market = new JobMarket(registry, prover, Configs.market(WINDOW, BOND));
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

    /// @notice Submits trace `t` with its own slot n as the output.
    function _submit(uint256 jobId, Trace memory t, address by) internal {
        _submitOutput(jobId, t, ClampChain.decode(t.shape, t.words[t.n]), by);
    }

    function _submitOutput(uint256 jobId, Trace memory t, bytes memory output, address by) internal {
        vm.prank(by);
        market.submitResult{value: BOND}(jobId, Reference.tensorRoot(output, t.shape.c), t.traceRoot, output);
    }

    function _challenge(uint256 jobId, address by) internal returns (uint256 gameId) {
        vm.prank(by);
        gameId = market.challenge{value: CB}(jobId);
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

    // ----- money -----

    function _credit(address a) internal view returns (uint256) {
        return market.credits(a);
    }

    /// @notice balance == Σ credits + Σ fees of Open/Submitted jobs + Σ bonds of Submitted jobs + Σ bonds of Active
    /// games + Σ unclaimed moot shares + burned.
    function _assertSolvent() internal view {
        uint256 sum = market.burned();
        for (uint256 i = 0; i < accounts.length; ++i) {
            sum += market.credits(accounts[i]);
        }
        for (uint256 id = 1; id <= market.jobCount(); ++id) {
            Job memory job = market.getJob(id);
            if (job.status == JobStatus.Open) sum += job.fee;
            if (job.status == JobStatus.Submitted) sum += job.fee + job.bond;
        }
        for (uint256 id = 1; id <= market.gameCount(); ++id) {
            Game memory g = market.getGame(id);
            if (g.status != GameStatus.Active) continue;
            ResultDispute memory d = market.getDispute(g.jobId, g.attempt);
            sum += g.bond + (d.overturned ? d.share : 0);
        }
        assertEq(address(market).balance, sum, "balance = credits + escrows + bonds + moot shares + burned");
    }

    function _status(uint256 gameId) internal view returns (GameStatus) {
        return market.getGame(gameId).status;
    }

    /// @notice The worker lost the only game on job `jobId`: the job is Open again (attempt kept), half the bond
    /// burned, the other half and the bond to the challenger.
    function _assertOverturnedSingle(uint256 jobId, uint256 gameId, address winner, uint256 burnedBefore)
        internal
        view
    {
        assertEq(uint256(_status(gameId)), uint256(GameStatus.ChallengerWon), "challenger won");
        Job memory job = market.getJob(jobId);
        assertEq(uint256(job.status), uint256(JobStatus.Open), "job re-opened");
        assertEq(job.attempt, 1, "attempt kept");
        assertEq(job.worker, address(0), "no worker");
        assertEq(job.bond, 0, "bond released");
        assertEq(job.fee, FEE, "fee still escrowed");
        ResultDispute memory d = market.getDispute(jobId, 1);
        assertTrue(d.overturned, "overturned");
        assertEq(d.openGames, 0, "no game open");
        assertEq(d.share, BOND / 2, "one game takes the whole unburned half");
        assertEq(_credit(winner), CB + BOND / 2, "challenger: bond back + half the worker's bond");
        assertEq(market.burned() - burnedBefore, BOND / 2, "half the worker's bond burned");
        _assertSolvent();
    }

    /// @notice The challenger lost game `gameId`: half its bond burned, half to the defender.
    function _assertDefended(uint256 gameId, address defender, uint256 defenderBefore, uint256 burnedBefore)
        internal
        view
    {
        assertEq(uint256(_status(gameId)), uint256(GameStatus.DefenderWon), "defender won");
        assertEq(_credit(defender) - defenderBefore, CB / 2, "defender: half the challenger's bond");
        assertEq(market.burned() - burnedBefore, CB / 2, "half the challenger's bond burned");
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
}

/// @notice Opening, every reveal, every move, the one step, timeouts, moot claims and their revert paths.
contract DisputeGameTest is DisputeGameFixture {
    // =====================================================================================================
    // constructor
    // =====================================================================================================

    function test_constructor_zeroProver_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(ZeroProver.selector));
        new JobMarket(registry, IOneStepProver(address(0)), Configs.market(WINDOW, BOND));
    }

    function test_constructor_burnBelowHalf_reverts() public {
        MarketConfig memory c = Configs.market(WINDOW, BOND);
        c.burnBps = 4999;
        vm.expectRevert(abi.encodeWithSelector(BurnTooLow.selector, uint16(4999), uint16(5000)));
        new JobMarket(registry, prover, c);
    }

    function test_constructor_burnAboveAll_reverts() public {
        MarketConfig memory c = Configs.market(WINDOW, BOND);
        c.burnBps = 10_001;
        vm.expectRevert(abi.encodeWithSelector(BurnTooLow.selector, uint16(10_001), uint16(5000)));
        new JobMarket(registry, prover, c);
    }

    function test_constructor_zeroClockExtension_reverts() public {
        MarketConfig memory c = Configs.market(WINDOW, BOND);
        c.clockExtension = 0;
        vm.expectRevert(abi.encodeWithSelector(ZeroClockExtension.selector));
        new JobMarket(registry, prover, c);
    }

    function test_constructor_gameGetters_succeeds() public view {
        assertEq(address(market.prover()), address(prover), "prover");
        assertEq(address(prover.registry()), address(registry), "prover reads the market's registry");
        assertEq(market.challengeBond(), CB, "challenge bond");
        assertEq(market.gameClock(), CLOCK, "clock");
        assertEq(market.clockExtension(), EXT, "extension");
        assertEq(market.burnBps(), Configs.BURN_BPS, "burn");
        assertEq(market.MIN_BURN_BPS(), 5000, "min burn");
        assertEq(market.burned(), 0, "nothing burned");
        assertEq(market.gameCount(), 0, "no games");
    }

    // =====================================================================================================
    // challenge
    // =====================================================================================================

    function test_challenge_opensGame_succeeds() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.warp(START + 100);
        uint256 balanceBefore = address(market).balance;
        vm.expectEmit(address(market));
        emit IDisputeGame.ChallengeOpened(1, jobId, 1, challenger, CB);
        uint256 gameId = _challenge(jobId, challenger);
        assertEq(gameId, 1, "first game id");
        assertEq(market.gameCount(), 1, "count");
        assertEq(address(market).balance, balanceBefore + CB, "bond escrowed");

        Game memory g = market.getGame(gameId);
        assertEq(g.jobId, jobId, "job");
        assertEq(g.attempt, 1, "attempt");
        assertEq(uint256(g.status), uint256(GameStatus.Active), "active");
        assertEq(uint256(g.phase), uint256(GamePhase.Bisect), "bisect");
        assertEq(g.challenger, challenger, "challenger");
        assertEq(g.defender, worker, "defender");
        assertEq(g.bond, CB, "bond");
        assertEq(g.lo, 0, "lo");
        assertEq(g.hi, 5, "hi = n");
        assertEq(g.moves, 0, "moves");
        assertEq(g.lastMoveAt, START + 100, "clock starts");
        assertEq(g.defenderLeft, CLOCK, "defender clock");
        assertEq(g.challengerLeft, CLOCK, "challenger clock");

        ResultDispute memory d = market.getDispute(jobId, 1);
        assertEq(d.opCount, 5, "n");
        assertEq(d.openGames, 1, "one open");
        assertTrue(!d.overturned, "stands");
        assertEq(d.sigma0, h.sigma[0], "sigma0 = the honest state 0");
        assertEq(d.sigma0, ClampChain.sigma0(market.getJob(jobId).inputRoot, 5), "sigma0 from the input root");

        (RevealKind kind, uint32 index, bytes32 hash) = market.pendingReveal(gameId);
        assertEq(uint256(kind), uint256(RevealKind.State), "waits for a state");
        assertEq(index, 5, "the opening reveal: sigma_n");
        assertEq(hash, bytes32(0), "no hash");
        _assertSolvent();
    }

    function test_challenge_oneOpModel_startsInTensorPhase_succeeds() public {
        ClampModel memory m = _m1();
        Trace memory h = ClampChain.honest(m, _input(m, 1));
        uint256 jobId = _post(m1Id, _input(m, 1));
        _submit(jobId, h, worker);
        uint256 gameId = _challenge(jobId, challenger);
        Game memory g = market.getGame(gameId);
        assertEq(uint256(g.phase), uint256(GamePhase.Tensor), "nothing to bisect");
        assertEq(g.lo, 0, "op 0 disputed");
        assertEq(g.hi, 1, "hi");
        assertEq(g.leafDepth, 1, "[1,1,40]: two leaves");
        (RevealKind kind, uint32 index,) = market.pendingReveal(gameId);
        assertEq(uint256(kind), uint256(RevealKind.State), "sigma_1 first (the transition is proven against it)");
        assertEq(index, 1, "sigma_n");
    }

    function test_challenge_bondTooLow_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(WrongBond.selector, CB - 1, CB));
        market.challenge{value: CB - 1}(jobId);
    }

    function test_challenge_bondTooHigh_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(WrongBond.selector, CB + 1, CB));
        market.challenge{value: CB + 1}(jobId);
    }

    function test_challenge_atWindowEnd_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.warp(START + WINDOW);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(ChallengeWindowClosed.selector, jobId, START + WINDOW));
        market.challenge{value: CB}(jobId);
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
        market.challenge{value: CB}(jobId);
    }

    function test_challenge_openJob_reverts() public {
        (uint256 jobId,,,) = _job5();
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(ResultNotSubmitted.selector, jobId, JobStatus.Open));
        market.challenge{value: CB}(jobId);
    }

    function test_challenge_settledJob_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.warp(START + WINDOW);
        market.finalize(jobId);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(ResultNotSubmitted.selector, jobId, JobStatus.Settled));
        market.challenge{value: CB}(jobId);
    }

    function test_challenge_unknownJob_reverts() public {
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(UnknownJob.selector, 99));
        market.challenge{value: CB}(99);
    }

    function test_challenge_overturnedResult_reverts() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        play(gameId, lie, h);
        vm.prank(challenger2);
        vm.expectRevert(abi.encodeWithSelector(ResultNotSubmitted.selector, jobId, JobStatus.Open));
        market.challenge{value: CB}(jobId);
    }

    function test_challenge_severalGamesOneResult_succeeds() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        uint256 a = _challenge(jobId, challenger);
        uint256 b = _challenge(jobId, challenger);
        uint256 c = _challenge(jobId, challenger2);
        assertEq(b, a + 1, "ids");
        assertEq(c, a + 2, "ids");
        assertEq(market.getDispute(jobId, 1).openGames, 3, "each game independent, even the same challenger's");
        _assertSolvent();
    }

    // =====================================================================================================
    // revealState
    // =====================================================================================================

    function test_revealState_unknownJob_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownJob.selector, 99));
        market.revealState(99, 1, bytes32(0), new bytes32[](0), new bytes32[](0));
    }

    function test_revealState_openJob_reverts() public {
        (uint256 jobId,,,) = _job5();
        vm.expectRevert(abi.encodeWithSelector(ResultNotSubmitted.selector, jobId, JobStatus.Open));
        market.revealState(jobId, 1, bytes32(0), new bytes32[](0), new bytes32[](0));
    }

    function test_revealState_noDispute_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.expectRevert(abi.encodeWithSelector(NoDispute.selector, jobId, uint32(1)));
        market.revealState(jobId, 2, h.sigma[2], ClampChain.tracePath(h, 2), new bytes32[](0));
    }

    function test_revealState_indexZero_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        vm.expectRevert(abi.encodeWithSelector(StateIndexOutOfRange.selector, 0, 5));
        market.revealState(jobId, 0, h.sigma[0], ClampChain.tracePath(h, 0), new bytes32[](0));
    }

    function test_revealState_indexPastOpCount_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        vm.expectRevert(abi.encodeWithSelector(StateIndexOutOfRange.selector, 6, 5));
        market.revealState(jobId, 6, h.sigma[5], ClampChain.tracePath(h, 5), new bytes32[](0));
    }

    function test_revealState_wrongRoot_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        bytes32 wrong = keccak256("not sigma 2");
        bytes32 computed = _traceRootWith(h, 2, wrong);
        vm.expectRevert(abi.encodeWithSelector(RevealMismatch.selector, computed, h.traceRoot));
        market.revealState(jobId, 2, wrong, ClampChain.tracePath(h, 2), new bytes32[](0));
    }

    function test_revealState_otherIndex_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        // σ_3 with its own path, claimed at index 2.
        vmx.expectPartialRevert(RevealMismatch.selector);
        market.revealState(jobId, 2, h.sigma[3], ClampChain.tracePath(h, 3), new bytes32[](0));
    }

    function test_revealState_shortPath_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        bytes32[] memory full = ClampChain.tracePath(h, 2);
        bytes32[] memory short = new bytes32[](2);
        short[0] = full[0];
        short[1] = full[1];
        vm.expectRevert(abi.encodeWithSelector(PathLengthMismatch.selector, 2, 3));
        market.revealState(jobId, 2, h.sigma[2], short, new bytes32[](0));
    }

    function test_revealState_outputPathWrong_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        // σ_5 is in the trace, but the output path is slot 4's: slot 5 of σ_5 is not shown to be the output.
        vmx.expectPartialRevert(RevealMismatch.selector);
        market.revealState(jobId, 5, h.sigma[5], ClampChain.tracePath(h, 5), ClampChain.statePath(h, 5, 4));
    }

    function test_revealState_outputPathMissing_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        vm.expectRevert(abi.encodeWithSelector(PathLengthMismatch.selector, 0, 3));
        market.revealState(jobId, 5, h.sigma[5], ClampChain.tracePath(h, 5), new bytes32[](0));
    }

    function test_revealState_byAnyone_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory h) = _honestGame5();
        vm.expectEmit(address(market));
        emit IDisputeGame.StateRevealed(jobId, 1, 5, h.sigma[5]);
        vm.prank(anyone);
        market.revealState(jobId, 5, h.sigma[5], ClampChain.tracePath(h, 5), ClampChain.statePath(h, 5, 5));
        assertEq(market.revealedState(jobId, 1, 5), h.sigma[5], "cached");
        (RevealKind kind, uint32 index,) = market.pendingReveal(gameId);
        assertEq(uint256(kind), uint256(RevealKind.State), "then the midpoint");
        assertEq(index, 2, "mid = (0 + 5) / 2");
    }

    // =====================================================================================================
    // revealTransition
    // =====================================================================================================

    function test_revealTransition_noDispute_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.expectRevert(abi.encodeWithSelector(NoDispute.selector, jobId, uint32(1)));
        market.revealTransition(jobId, 0, h.slotRoots[1], ClampChain.statePath(h, 1, 1));
    }

    function test_revealTransition_opPastLast_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        vm.expectRevert(abi.encodeWithSelector(StateIndexOutOfRange.selector, 5, 5));
        market.revealTransition(jobId, 5, h.slotRoots[5], ClampChain.statePath(h, 5, 5));
    }

    function test_revealTransition_afterStateMissing_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        vm.expectRevert(abi.encodeWithSelector(NothingRevealed.selector, RevealKind.State, 1));
        market.revealTransition(jobId, 0, h.slotRoots[1], ClampChain.statePath(h, 1, 1));
    }

    function test_revealTransition_beforeStateMissing_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        market.revealState(jobId, 2, h.sigma[2], ClampChain.tracePath(h, 2), new bytes32[](0));
        vm.expectRevert(abi.encodeWithSelector(NothingRevealed.selector, RevealKind.State, 1));
        market.revealTransition(jobId, 1, h.slotRoots[2], ClampChain.statePath(h, 2, 2));
    }

    function test_revealTransition_slotNotEmptyBefore_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        market.revealState(jobId, 2, h.sigma[2], ClampChain.tracePath(h, 2), new bytes32[](0));
        market.revealState(jobId, 1, h.sigma[1], ClampChain.tracePath(h, 1), new bytes32[](0));
        // A path whose siblings are not σ_1's: an empty slot 2 does not climb to σ_1.
        bytes32[] memory p = ClampChain.statePath(h, 2, 2);
        p[0] = keccak256("other sibling");
        vmx.expectPartialRevert(RevealMismatch.selector);
        market.revealTransition(jobId, 1, h.slotRoots[2], p);
    }

    function test_revealTransition_wrongTensorRoot_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        market.revealState(jobId, 2, h.sigma[2], ClampChain.tracePath(h, 2), new bytes32[](0));
        market.revealState(jobId, 1, h.sigma[1], ClampChain.tracePath(h, 1), new bytes32[](0));
        bytes32[] memory p = ClampChain.statePath(h, 2, 2);
        bytes32 wrong = keccak256("other tensor");
        // The empty slot climbs to σ_1; `wrong` climbs to something else than σ_2.
        h.slotRoots[2] = wrong;
        bytes32 computed = ClampChain.merkle(2, ClampChain.stateLeaves(h, 2));
        vm.expectRevert(abi.encodeWithSelector(RevealMismatch.selector, computed, h.sigma[2]));
        market.revealTransition(jobId, 1, wrong, p);
    }

    function test_revealTransition_changesAnotherSlot_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        // A trace whose σ_2 also rewrote slot 0 (every other state honest).
        Trace memory bad = ClampChain.honest(_m5(), _input(_m5(), 0x5eed));
        bad.slotRoots[0] = keccak256("rewritten input");
        bytes32 sigma2 = ClampChain.merkle(2, ClampChain.stateLeaves(bad, 2));
        bytes32[] memory traceLeaves = new bytes32[](8);
        for (uint256 i = 0; i < 8; ++i) {
            bytes32 s = i == 2 ? sigma2 : (i <= 5 ? h.sigma[i] : bytes32(0));
            traceLeaves[i] = Reference.leaf(3, abi.encodePacked(s));
        }
        Trace memory posted = ClampChain.honest(_m5(), _input(_m5(), 0x5eed));
        posted.traceRoot = ClampChain.merkle(3, traceLeaves);
        _submit(jobId, posted, worker);
        _challenge(jobId, challenger);
        market.revealState(jobId, 1, h.sigma[1], ClampChain.path(3, traceLeaves, 1), new bytes32[](0));
        market.revealState(jobId, 2, sigma2, ClampChain.path(3, traceLeaves, 2), new bytes32[](0));
        // The path of slot 2 in the posted σ_2 does not give σ_1 with slot 2 empty …
        vmx.expectPartialRevert(RevealMismatch.selector);
        market.revealTransition(jobId, 1, bad.slotRoots[2], ClampChain.statePath(bad, 2, 2));
        // … and σ_1's path gives σ_1, but not the posted σ_2: no single-slot write explains it.
        vmx.expectPartialRevert(RevealMismatch.selector);
        market.revealTransition(jobId, 1, h.slotRoots[2], ClampChain.statePath(h, 2, 2));
    }

    // =====================================================================================================
    // revealNode / revealLeaf
    // =====================================================================================================

    function test_revealNode_noDispute_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.expectRevert(abi.encodeWithSelector(NoDispute.selector, jobId, uint32(1)));
        market.revealNode(jobId, bytes32(0), bytes32(0), bytes32(0));
    }

    function test_revealNode_wrongChildren_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        bytes32 node = h.slotRoots[3];
        bytes32 left = ClampChain.tensorNode(h.words[3], 1, 0);
        bytes32 wrongRight = keccak256("right");
        vm.expectRevert(abi.encodeWithSelector(RevealMismatch.selector, Reference.node(1, left, wrongRight), node));
        market.revealNode(jobId, node, left, wrongRight);
    }

    function test_revealNode_swappedChildren_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        bytes32 left = ClampChain.tensorNode(h.words[3], 1, 0);
        bytes32 right = ClampChain.tensorNode(h.words[3], 1, 1);
        vmx.expectPartialRevert(RevealMismatch.selector);
        market.revealNode(jobId, h.slotRoots[3], right, left);
    }

    function test_revealNode_cached_succeeds() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        bytes32 left = ClampChain.tensorNode(h.words[3], 1, 0);
        bytes32 right = ClampChain.tensorNode(h.words[3], 1, 1);
        vm.expectEmit(address(market));
        emit IDisputeGame.NodeRevealed(jobId, 1, h.slotRoots[3], left, right);
        market.revealNode(jobId, h.slotRoots[3], left, right);
        (bytes32 l, bytes32 r) = market.revealedNode(jobId, 1, h.slotRoots[3]);
        assertEq(l, left, "left");
        assertEq(r, right, "right");
    }

    function test_revealLeaf_noDispute_reverts() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        vm.expectRevert(abi.encodeWithSelector(NoDispute.selector, jobId, uint32(1)));
        market.revealLeaf(jobId, bytes32(0), bytes32(0));
    }

    function test_revealLeaf_wrongData_reverts() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        bytes32 leaf = ClampChain.tensorNode(h.words[3], 1, 1);
        bytes32 wrong = h.words[3][1] ^ bytes32(uint256(1));
        vm.expectRevert(
            abi.encodeWithSelector(RevealMismatch.selector, Reference.leaf(1, abi.encodePacked(wrong)), leaf)
        );
        market.revealLeaf(jobId, leaf, wrong);
    }

    function test_revealLeaf_cached_succeeds() public {
        (uint256 jobId,, Trace memory h) = _honestGame5();
        bytes32 leaf = ClampChain.tensorNode(h.words[3], 1, 1);
        (bool known,) = market.revealedLeaf(jobId, 1, leaf);
        assertTrue(!known, "not yet");
        market.revealLeaf(jobId, leaf, h.words[3][1]);
        bytes32 data;
        (known, data) = market.revealedLeaf(jobId, 1, leaf);
        assertTrue(known, "revealed");
        assertEq(data, h.words[3][1], "data");
    }

    // =====================================================================================================
    // bisect
    // =====================================================================================================

    function test_getGame_unknownGame_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownGame.selector, 99));
        market.getGame(99);
    }

    function test_bisect_unknownGame_reverts() public {
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(GameNotActive.selector, 99, GameStatus.None));
        market.bisect(99, 0, true);
    }

    function test_bisect_notChallenger_reverts() public {
        (, uint256 gameId, Trace memory h) = _honestGame5();
        defend(gameId, h);
        vm.prank(anyone);
        vm.expectRevert(abi.encodeWithSelector(NotChallenger.selector, gameId, anyone));
        market.bisect(gameId, 0, true);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(NotChallenger.selector, gameId, worker));
        market.bisect(gameId, 0, true);
    }

    function test_bisect_staleMove_reverts() public {
        (, uint256 gameId, Trace memory h) = _honestGame5();
        defend(gameId, h);
        vm.prank(challenger);
        market.bisect(gameId, 0, true);
        defend(gameId, h);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(StaleMove.selector, gameId, 0, 1));
        market.bisect(gameId, 0, true);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(StaleMove.selector, gameId, 2, 1));
        market.bisect(gameId, 2, true);
    }

    function test_bisect_nothingRevealed_reverts() public {
        (uint256 jobId, uint256 gameId, Trace memory h) = _honestGame5();
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(NothingRevealed.selector, RevealKind.State, 5));
        market.bisect(gameId, 0, true);
        market.revealState(jobId, 5, h.sigma[5], ClampChain.tracePath(h, 5), ClampChain.statePath(h, 5, 5));
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(NothingRevealed.selector, RevealKind.State, 2));
        market.bisect(gameId, 0, true);
    }

    function test_bisect_tensorPhase_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Tensor);
        defend(gameId, lie);
        uint32 moves = market.getGame(gameId).moves;
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(WrongPhase.selector, gameId, GamePhase.Tensor));
        market.bisect(gameId, moves, true);
    }

    function test_bisect_chargesClocks_succeeds() public {
        (, uint256 gameId, Trace memory h) = _honestGame5();
        vm.warp(START + 100);
        defend(gameId, h);
        vm.warp(START + 300);
        vm.expectEmit(address(market));
        emit IDisputeGame.TraceBisected(gameId, 2, 5);
        vm.prank(challenger);
        market.bisect(gameId, 0, true);
        Game memory g = market.getGame(gameId);
        assertEq(g.defenderLeft, CLOCK - 100, "defender charged until its data landed");
        assertEq(g.challengerLeft, CLOCK - 200, "challenger charged from then");
        assertEq(g.lastMoveAt, START + 300, "last move");
        assertEq(g.moves, 1, "one move");
        assertEq(g.lo, 2, "agreed sigma_2");
        assertEq(g.hi, 5, "hi");
    }

    function test_bisect_defenderOutOfTime_reverts() public {
        (uint256 jobId, uint256 gameId, Trace memory h) = _honestGame5();
        vm.warp(START + CLOCK + 1);
        defend(gameId, h); // the reveals still land (they are cached), but too late for this game
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(DefenderOutOfTime.selector, gameId));
        market.bisect(gameId, 0, true);
        uint256 burnedBefore = market.burned();
        market.timeout(gameId);
        _assertOverturnedSingle(jobId, gameId, challenger, burnedBefore);
    }

    function test_bisect_defenderJustInTime_succeeds() public {
        (, uint256 gameId, Trace memory h) = _honestGame5();
        vm.warp(START + CLOCK);
        defend(gameId, h);
        vm.prank(challenger);
        market.bisect(gameId, 0, true);
        assertEq(market.getGame(gameId).defenderLeft, 0, "spent its whole clock");
    }

    function test_bisect_challengerOutOfTime_reverts() public {
        (, uint256 gameId, Trace memory h) = _honestGame5();
        defend(gameId, h);
        vm.warp(START + CLOCK + 1);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(ChallengerOutOfTime.selector, gameId));
        market.bisect(gameId, 0, true);
    }

    function test_bisect_resolvedGame_reverts() public {
        (, uint256 gameId, Trace memory h) = _honestGame5();
        play(gameId, h, h);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(GameNotActive.selector, gameId, GameStatus.DefenderWon));
        market.bisect(gameId, 0, true);
    }

    function test_bisect_mootGame_reverts() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        uint256 other = _challenge(jobId, challenger2);
        play(gameId, lie, h);
        vm.prank(challenger2);
        vm.expectRevert(abi.encodeWithSelector(ResultOverturnedAlready.selector, jobId, uint32(1)));
        market.bisect(other, 0, true);
    }

    // =====================================================================================================
    // pick / nameElement
    // =====================================================================================================

    function test_pick_bisectPhase_reverts() public {
        (, uint256 gameId, Trace memory h) = _honestGame5();
        defend(gameId, h);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(WrongPhase.selector, gameId, GamePhase.Bisect));
        market.pick(gameId, 0, true);
    }

    function test_pick_nothingRevealed_reverts() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Tensor);
        Game memory g = market.getGame(gameId);
        assertEq(g.lo, 4, "op 4 disputed");
        // σ_5 is revealed already (opening move), so the transition is what is missing.
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(NothingRevealed.selector, RevealKind.Transition, 4));
        market.pick(gameId, g.moves, false);
        market.revealTransition(jobId, 4, lie.slotRoots[5], ClampChain.statePath(lie, 5, 5));
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(NothingRevealed.selector, RevealKind.Node, 0));
        market.pick(gameId, g.moves, false);
    }

    function test_pick_atLeafDepth_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntilLeaf(gameId, lie, h);
        defend(gameId, lie);
        uint32 moves = market.getGame(gameId).moves;
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(WrongPhase.selector, gameId, GamePhase.Tensor));
        market.pick(gameId, moves, false);
    }

    function test_pick_movesDown_succeeds() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Tensor);
        defend(gameId, lie);
        Game memory g = market.getGame(gameId);
        // The lie is at element 3: leaf 0, the left child.
        bytes32 left = ClampChain.tensorNode(lie.words[5], 1, 0);
        vm.expectEmit(address(market));
        emit IDisputeGame.TensorBisected(gameId, 1, 0, left);
        vm.prank(challenger);
        market.pick(gameId, g.moves, false);
        g = market.getGame(gameId);
        assertEq(g.depth, 1, "depth");
        assertEq(g.index, 0, "index");
        assertEq(g.node, left, "node");
    }

    function test_pick_notChallenger_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Tensor);
        defend(gameId, lie);
        uint32 moves = market.getGame(gameId).moves;
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(NotChallenger.selector, gameId, worker));
        market.pick(gameId, moves, false);
    }

    function test_pick_staleMove_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Tensor);
        defend(gameId, lie);
        uint32 moves = market.getGame(gameId).moves;
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(StaleMove.selector, gameId, moves - 1, moves));
        market.pick(gameId, moves - 1, false);
    }

    function test_pick_defenderOutOfTime_reverts() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Tensor);
        Game memory g = market.getGame(gameId);
        // The transition and the root's children land after the defender's clock ran out.
        vm.warp(g.lastMoveAt + g.defenderLeft + 1);
        defend(gameId, lie);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(DefenderOutOfTime.selector, gameId));
        market.pick(gameId, g.moves, false);
        market.timeout(gameId);
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
    }

    function test_nameElement_staleMove_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntilLeaf(gameId, lie, h);
        defend(gameId, lie);
        uint32 moves = market.getGame(gameId).moves;
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(StaleMove.selector, gameId, moves + 1, moves));
        market.nameElement(gameId, moves + 1, 3);
        vm.prank(anyone);
        vm.expectRevert(abi.encodeWithSelector(NotChallenger.selector, gameId, anyone));
        market.nameElement(gameId, moves, 3);
    }

    function test_nameElement_aboveLeafDepth_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Tensor);
        defend(gameId, lie);
        uint32 moves = market.getGame(gameId).moves;
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(WrongPhase.selector, gameId, GamePhase.Tensor));
        market.nameElement(gameId, moves, 0);
    }

    function test_nameElement_leafNotRevealed_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntilLeaf(gameId, lie, h);
        uint32 moves = market.getGame(gameId).moves;
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(NothingRevealed.selector, RevealKind.Leaf, 0));
        market.nameElement(gameId, moves, 3);
    }

    function test_nameElement_offsetOutOfRange_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntilLeaf(gameId, lie, h);
        defend(gameId, lie);
        uint32 moves = market.getGame(gameId).moves;
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(StateIndexOutOfRange.selector, 32, 31));
        market.nameElement(gameId, moves, 32);
    }

    function test_nameElement_stepPhase_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Step);
        uint32 moves = market.getGame(gameId).moves;
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(WrongPhase.selector, gameId, GamePhase.Step));
        market.nameElement(gameId, moves, 3);
    }

    function test_nameElement_entersStep_succeeds() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntilLeaf(gameId, lie, h);
        defend(gameId, lie);
        uint32 moves = market.getGame(gameId).moves;
        vm.expectEmit(address(market));
        emit IDisputeGame.ElementNamed(gameId, 3);
        vm.prank(challenger);
        market.nameElement(gameId, moves, 3);
        Game memory g = market.getGame(gameId);
        assertEq(uint256(g.phase), uint256(GamePhase.Step), "step");
        assertEq(g.offset, 3, "offset");
        (RevealKind kind,,) = market.pendingReveal(gameId);
        assertEq(uint256(kind), uint256(RevealKind.None), "the defender has nothing to do");
    }

    // =====================================================================================================
    // step
    // =====================================================================================================

    function test_step_unknownGame_reverts() public {
        StepWitness memory w;
        vm.expectRevert(abi.encodeWithSelector(GameNotActive.selector, 99, GameStatus.None));
        market.step(99, w);
    }

    function test_step_beforeElementNamed_reverts() public {
        (, uint256 gameId,) = _honestGame5();
        StepWitness memory w;
        vm.expectRevert(abi.encodeWithSelector(WrongPhase.selector, gameId, GamePhase.Bisect));
        market.step(gameId, w);
    }

    function test_step_challengerOutOfTime_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Step);
        Game memory g = market.getGame(gameId);
        StepWitness memory w = witness(h, g);
        uint64 allowance = g.challengerLeft > EXT ? g.challengerLeft : EXT;
        vm.warp(g.lastMoveAt + allowance + 1);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(ChallengerOutOfTime.selector, gameId));
        market.step(gameId, w);
        // Even against a liar: the defender wins by the challenger's timeout.
        uint256 burnedBefore = market.burned();
        market.timeout(gameId);
        _assertDefended(gameId, worker, 0, burnedBefore);
    }

    function test_step_justInTime_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Step);
        Game memory g = market.getGame(gameId);
        uint64 allowance = g.challengerLeft > EXT ? g.challengerLeft : EXT;
        vm.warp(g.lastMoveAt + allowance);
        uint256 burnedBefore = market.burned();
        attack(gameId, h);
        _assertOverturnedSingle(jobId, gameId, challenger, burnedBefore);
    }

    function test_step_wrongSlotProof_reverts() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Step);
        Game memory g = market.getGame(gameId);
        StepWitness memory w = witness(h, g);
        w.slots[0].root = h.slotRoots[3]; // slot 3's root posing as slot 4's
        vmx.expectPartialRevert(SlotRootMismatch.selector);
        market.step(gameId, w);
        assertEq(uint256(_status(gameId)), uint256(GameStatus.Active), "a bad witness decides nothing");
        // The right witness still wins.
        uint256 burnedBefore = market.burned();
        attack(gameId, h);
        _assertOverturnedSingle(jobId, gameId, challenger, burnedBefore);
    }

    function test_step_wrongRow_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Step);
        StepWitness memory w = witness(h, market.getGame(gameId));
        w.rows[0].data[3] = bytes1(uint8(w.rows[0].data[3]) ^ 0x40); // not slot 4's row
        vmx.expectPartialRevert(RowRootMismatch.selector);
        market.step(gameId, w);
        assertEq(uint256(_status(gameId)), uint256(GameStatus.Active), "still active");
    }

    function test_step_emitsProof_succeeds() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Step);
        int8 claimed = ClampChain.element(lie.shape, lie.words[5], 3);
        int8 actual = ClampChain.element(h.shape, h.words[5], 3);
        vm.expectEmit(address(market));
        emit IDisputeGame.StepProven(gameId, 4, 3, claimed, actual);
        attack(gameId, h);
    }

    // =====================================================================================================
    // timeout
    // =====================================================================================================

    function test_timeout_unknownGame_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(GameNotActive.selector, 99, GameStatus.None));
        market.timeout(99);
    }

    function test_timeout_defenderSilentNotYet_reverts() public {
        (, uint256 gameId,) = _honestGame5();
        vm.warp(START + CLOCK);
        vm.expectRevert(abi.encodeWithSelector(NotTimedOut.selector, gameId));
        market.timeout(gameId);
    }

    function test_timeout_challengerToMoveNotYet_reverts() public {
        (, uint256 gameId, Trace memory h) = _honestGame5();
        vm.warp(START + 50);
        defend(gameId, h);
        vm.warp(START + 50 + CLOCK);
        vm.expectRevert(abi.encodeWithSelector(NotTimedOut.selector, gameId));
        market.timeout(gameId);
    }

    function test_timeout_resolvedGame_reverts() public {
        (, uint256 gameId, Trace memory h) = _honestGame5();
        play(gameId, h, h);
        vm.expectRevert(abi.encodeWithSelector(GameNotActive.selector, gameId, GameStatus.DefenderWon));
        market.timeout(gameId);
    }

    function test_timeout_mootGame_reverts() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        uint256 other = _challenge(jobId, challenger2);
        play(gameId, lie, h);
        vm.warp(block.timestamp + 10 * CLOCK);
        vm.expectRevert(abi.encodeWithSelector(ResultOverturnedAlready.selector, jobId, uint32(1)));
        market.timeout(other);
    }

    function test_timeout_lateRevealStillLoses_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory h) = _honestGame5();
        vm.warp(START + CLOCK + 1);
        defend(gameId, h); // lands after the defender's time ran out
        vm.warp(START + CLOCK + 5);
        uint256 burnedBefore = market.burned();
        market.timeout(gameId);
        _assertOverturnedSingle(jobId, gameId, challenger, burnedBefore);
    }

    function test_timeout_stepPhaseChallengerLoses_succeeds() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Step);
        Game memory g = market.getGame(gameId);
        uint64 allowance = g.challengerLeft > EXT ? g.challengerLeft : EXT;
        vm.warp(g.lastMoveAt + allowance);
        vm.expectRevert(abi.encodeWithSelector(NotTimedOut.selector, gameId));
        market.timeout(gameId);
        vm.warp(g.lastMoveAt + allowance + 1);
        uint256 burnedBefore = market.burned();
        market.timeout(gameId);
        _assertDefended(gameId, worker, 0, burnedBefore);
    }

    /// @notice A reveal that is already cached, sent again later by anyone (here: the challenger, replaying the
    /// defender's own data from its events), must not move the time the data landed: the defender answered on time
    /// and the challenger, who then sat on its move past its clock, must lose.
    function test_timeout_replayedRevealDoesNotChargeDefender_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory h) = _honestGame5();
        vm.warp(START + 10);
        defend(gameId, h); // σ_5 and σ_2, on time
        vm.warp(START + 10 + CLOCK + 1);
        // The challenger re-sends σ_2 (public data): it is the same value, revealed again.
        vm.prank(challenger);
        market.revealState(jobId, 2, h.sigma[2], ClampChain.tracePath(h, 2), new bytes32[](0));
        uint256 burnedBefore = market.burned();
        market.timeout(gameId);
        assertEq(uint256(_status(gameId)), uint256(GameStatus.DefenderWon), "the stalling challenger loses");
        _assertDefended(gameId, worker, 0, burnedBefore);
    }

    /// @notice The same for a node reveal replayed in phase 2.
    function test_timeout_replayedNodeDoesNotChargeDefender_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Tensor);
        defend(gameId, lie); // transition and the root's children, on time
        Game memory g = market.getGame(gameId);
        vm.warp(g.lastMoveAt + CLOCK + EXT + 1);
        bytes32 root = lie.slotRoots[5];
        (bytes32 l, bytes32 r) = market.revealedNode(jobId, 1, root);
        vm.prank(challenger);
        market.revealNode(jobId, root, l, r);
        market.timeout(gameId);
        assertEq(uint256(_status(gameId)), uint256(GameStatus.DefenderWon), "the stalling challenger loses");
    }

    // =====================================================================================================
    // claimMoot / finalize
    // =====================================================================================================

    function test_claimMoot_unknownGame_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(GameNotActive.selector, 99, GameStatus.None));
        market.claimMoot(99);
    }

    function test_claimMoot_standingResult_reverts() public {
        (uint256 jobId, uint256 gameId,) = _honestGame5();
        vm.expectRevert(abi.encodeWithSelector(ResultNotOverturned.selector, jobId, uint32(1)));
        market.claimMoot(gameId);
    }

    function test_claimMoot_winnerGame_reverts() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        play(gameId, lie, h);
        vm.expectRevert(abi.encodeWithSelector(GameNotActive.selector, gameId, GameStatus.ChallengerWon));
        market.claimMoot(gameId);
    }

    function test_claimMoot_twice_reverts() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        uint256 other = _challenge(jobId, challenger2);
        play(gameId, lie, h);
        market.claimMoot(other);
        vm.expectRevert(abi.encodeWithSelector(GameNotActive.selector, other, GameStatus.Moot));
        market.claimMoot(other);
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

    // =====================================================================================================
    // Full games
    // =====================================================================================================

    function test_game_lieInLastSlot_challengerWins_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        uint256 balanceBefore = address(market).balance;
        assertEq(uint256(play(gameId, lie, h)), uint256(GameStatus.ChallengerWon), "liar loses");
        Game memory g = market.getGame(gameId);
        assertEq(g.lo, 4, "disputed op: the last");
        assertEq(uint256(g.phase), uint256(GamePhase.Step), "decided by the step");
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
        assertEq(market.burned(), BOND / 2, "burned()");
        assertEq(_credit(worker), 0, "liar gets nothing");
        assertEq(address(market).balance, balanceBefore, "nothing left the market");

        // The job is open again: another worker submits the honest result, which settles.
        _submit(jobId, h, worker2);
        Job memory job = market.getJob(jobId);
        assertEq(job.attempt, 2, "second attempt");
        assertEq(job.worker, worker2, "new worker");
        _finalizeAndCheck(jobId, worker2, 0);

        vm.prank(challenger);
        market.withdraw();
        assertEq(challenger.balance, 100 ether - CB + CB + BOND / 2, "challenger withdrew its winnings");
        _assertSolvent();
    }

    function test_game_lieInMiddleSlotPropagates_challengerWins_succeeds() public {
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        Trace memory lie = _lieAt(m, input, 2, 7, true);
        assertTrue(lie.slotRoots[5] != h.slotRoots[5], "the lie reached the output");
        for (uint32 k = 3; k < 5; ++k) {
            assertEq(
                ClampChain.tensorRoot(ClampChain.clampStep(m.shape, lie.words[k], m.lo[k], m.hi[k])),
                lie.slotRoots[k + 1],
                "consistent after the lie"
            );
        }
        _submit(jobId, lie, worker);
        uint256 gameId = _challenge(jobId, challenger);
        assertEq(uint256(play(gameId, lie, h)), uint256(GameStatus.ChallengerWon), "liar loses");
        Game memory g = market.getGame(gameId);
        assertEq(g.lo, 1, "disputed op 1 (writes slot 2, the first wrong one)");
        assertEq(g.hi, 2, "hi");
        assertEq(g.index, 0, "leaf 0 (element 7)");
        assertEq(g.offset, 7, "element 7");
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
    }

    function test_game_traceOnOtherInput_defenderCannotRevealTransition_succeeds() public {
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        bytes memory other = bytes.concat(input);
        other[0] = bytes1(uint8(other[0]) ^ 0x01);
        Trace memory lie = ClampChain.honest(m, other);
        _submit(jobId, lie, worker);
        uint256 gameId = _challenge(jobId, challenger);
        // Every σ_k ≥ 1 holds the wrong input: the challenger disagrees down to op 0.
        _playUntil(gameId, lie, h, GamePhase.Tensor);
        Game memory g = market.getGame(gameId);
        assertEq(g.lo, 0, "op 0");
        (RevealKind kind, uint32 index,) = market.pendingReveal(gameId);
        assertEq(uint256(kind), uint256(RevealKind.Transition), "transition 0 asked");
        assertEq(index, 0, "k = 0");
        // σ_1 of the lie does not follow from the contract's σ_0 by writing slot 1 only.
        vm.prank(worker);
        vmx.expectPartialRevert(RevealMismatch.selector);
        market.revealTransition(jobId, 0, lie.slotRoots[1], ClampChain.statePath(lie, 1, 1));
        vm.prank(worker);
        vmx.expectPartialRevert(RevealMismatch.selector);
        market.revealTransition(jobId, 0, lie.slotRoots[1], ClampChain.statePath(h, 1, 1));
        vm.warp(g.lastMoveAt + g.defenderLeft);
        vm.expectRevert(abi.encodeWithSelector(NotTimedOut.selector, gameId));
        market.timeout(gameId);
        vm.warp(g.lastMoveAt + g.defenderLeft + 1);
        market.timeout(gameId);
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
    }

    function test_game_outputNotInTrace_defenderTimesOut_succeeds() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        // The worker posts the honest output with a trace whose σ_5 holds something else in slot 5.
        Trace memory lie = ClampChain.honest(_m5(), _input(_m5(), 0x5eed));
        ClampChain.setElement(lie.shape, lie.words[5], 0, ClampChain.element(lie.shape, lie.words[5], 0) ^ int8(1));
        ClampChain.seal(lie);
        _submitOutput(jobId, lie, ClampChain.decode(h.shape, h.words[5]), worker);
        uint256 gameId = _challenge(jobId, challenger);
        // The opening reveal is impossible: σ_5 is in the trace, but its slot 5 is not the posted output.
        vm.prank(worker);
        vmx.expectPartialRevert(RevealMismatch.selector);
        market.revealState(jobId, 5, lie.sigma[5], ClampChain.tracePath(lie, 5), ClampChain.statePath(lie, 5, 5));
        // Other states can be revealed, but the game waits for σ_5.
        vm.prank(worker);
        market.revealState(jobId, 2, lie.sigma[2], ClampChain.tracePath(lie, 2), new bytes32[](0));
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(NothingRevealed.selector, RevealKind.State, 5));
        market.bisect(gameId, 0, true);
        vm.warp(START + CLOCK + 1);
        market.timeout(gameId);
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
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
        Game memory g = market.getGame(gameId);
        assertEq(g.lo, 2, "op 2 wrote slot 3");
        assertEq(g.index, 1, "leaf 1");
        assertEq(g.offset, 18, "channel 50");
        StepWitness memory empty;
        vm.expectEmit(address(market));
        emit IDisputeGame.StepProven(gameId, 2, type(uint256).max, 0x2a, 0);
        vm.prank(challenger);
        market.step(gameId, empty);
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
        Game memory g = market.getGame(gameId);
        assertEq(g.lo, 1, "op 1 wrote slot 2");
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
        Game memory g = market.getGame(gameId);
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
        Game memory g = market.getGame(gameId);
        assertEq(g.moves, 2, "one pick, one name: nothing to bisect");
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

    function test_game_twoOpModel_bothOutcomes_succeeds() public {
        ClampModel memory m = _m2();
        bytes memory input = _input(m, 12);
        Trace memory h = ClampChain.honest(m, input);
        Trace memory lie = _lieAt(m, input, 1, 7, true);
        uint256 jobId = _post(m2Id, input);
        _submit(jobId, lie, worker);
        uint256 gameId = _challenge(jobId, challenger);
        assertEq(uint256(play(gameId, lie, h)), uint256(GameStatus.ChallengerWon), "liar loses");
        assertEq(market.getGame(gameId).lo, 0, "op 0");
        _assertOverturnedSingle(jobId, gameId, challenger, 0);

        _submit(jobId, h, worker2);
        uint256 again = _challenge(jobId, challenger2);
        assertEq(uint256(play(again, h, lie)), uint256(GameStatus.DefenderWon), "honest worker wins");
        _assertDefended(again, worker2, 0, BOND / 2);
    }

    function test_game_challengerDisputesCorrectResult_loses_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory h) = _honestGame5();
        // The challenger holds the same (honest) trace: it agrees everywhere and names an element that is right.
        assertEq(uint256(play(gameId, h, h)), uint256(GameStatus.DefenderWon), "challenger loses at the step");
        Game memory g = market.getGame(gameId);
        assertEq(g.lo, 4, "agreed down to the last op");
        assertEq(uint256(g.phase), uint256(GamePhase.Step), "decided by the step");
        _assertDefended(gameId, worker, 0, 0);
        assertEq(market.burned(), CB / 2, "burned()");
        _finalizeAndCheck(jobId, worker, CB / 2);
    }

    function test_game_lyingChallenger_loses_succeeds() public {
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        uint256 gameId = _challenge(jobId, challenger);
        Trace memory mine = _lieAt(m, input, 3, 30, true);
        assertEq(uint256(play(gameId, h, mine)), uint256(GameStatus.DefenderWon), "lying challenger loses");
        assertEq(market.getGame(gameId).lo, 2, "narrowed to its own lie");
        _assertDefended(gameId, worker, 0, 0);
        _finalizeAndCheck(jobId, worker, CB / 2);
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
        Game memory g = market.getGame(gameId);
        assertEq(g.challengerLeft, CLOCK - 120, "charged its two minutes");
        uint256 readyAt = block.timestamp;
        vm.warp(readyAt + g.challengerLeft);
        vm.expectRevert(abi.encodeWithSelector(NotTimedOut.selector, gameId));
        market.timeout(gameId);
        vm.warp(readyAt + g.challengerLeft + 1);
        vm.prank(anyone);
        market.timeout(gameId);
        _assertDefended(gameId, worker, 0, 0);
        assertEq(_credit(anyone), 0, "the caller of timeout gets nothing");
        // Nothing else is open: the lying result settles (nobody else checked it in time).
        _finalizeAndCheck(jobId, worker, CB / 2);
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
        Game memory g = market.getGame(gameId);
        assertEq(g.defenderLeft, CLOCK - 200, "charged its 200 s");
        vm.warp(g.lastMoveAt + g.defenderLeft);
        vm.expectRevert(abi.encodeWithSelector(NotTimedOut.selector, gameId));
        market.timeout(gameId);
        vm.warp(g.lastMoveAt + g.defenderLeft + 1);
        vm.prank(anyone);
        market.timeout(gameId);
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
        assertEq(_credit(anyone), 0, "the caller of timeout gets nothing");
    }

    // ----- several games on one result -----

    function test_game_overturnedWithThreeOpen_sharesSplit_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        uint256 b = _challenge(jobId, challenger2);
        uint256 c = _challenge(jobId, challenger3);
        assertEq(uint256(play(gameId, lie, h)), uint256(GameStatus.ChallengerWon), "first game overturns");
        uint256 share = (BOND - BOND / 2) / 3;
        uint256 burn = BOND - 3 * share;
        assertEq(burn, BOND / 2 + 1, "half the bond and the division's remainder");
        ResultDispute memory d = market.getDispute(jobId, 1);
        assertEq(d.share, share, "share");
        assertEq(d.openGames, 2, "two left to claim");
        assertEq(market.burned(), burn, "burned");
        assertEq(_credit(challenger), CB + share, "winner: bond + share");
        assertEq(_credit(challenger2), 0, "not yet claimed");
        _assertSolvent();

        // The others can no longer move, only claim.
        vm.prank(challenger2);
        vm.expectRevert(abi.encodeWithSelector(ResultOverturnedAlready.selector, jobId, uint32(1)));
        market.bisect(b, 0, true);
        (RevealKind kind,,) = market.pendingReveal(b);
        assertEq(uint256(kind), uint256(RevealKind.None), "nothing pending on a moot game");

        // Anyone can claim for them; the money goes to the challengers.
        vm.expectEmit(address(market));
        emit IDisputeGame.GameResolved(b, GameStatus.Moot, CB + share, 0, 0);
        vm.prank(anyone);
        market.claimMoot(b);
        assertEq(_credit(challenger2), CB + share, "b: bond + share");
        _assertSolvent();
        market.claimMoot(c);
        assertEq(_credit(challenger3), CB + share, "c: bond + share");
        assertEq(market.getDispute(jobId, 1).openGames, 0, "all claimed");
        assertEq(_credit(anyone), 0, "claimer gets nothing");
        assertEq(_credit(worker), 0, "liar gets nothing");
        _assertSolvent();

        // The job re-opened with its attempt kept; the next result is a new dispute.
        Job memory job = market.getJob(jobId);
        assertEq(uint256(job.status), uint256(JobStatus.Open), "open");
        assertEq(job.attempt, 1, "attempt kept");
        _submit(jobId, h, worker2);
        assertEq(market.getJob(jobId).attempt, 2, "attempt 2");
        assertEq(market.getDispute(jobId, 2).opCount, 0, "no dispute on attempt 2 yet");
        _finalizeAndCheck(jobId, worker2, 0);
    }

    function test_game_decidedGamesBeforeOverturnKeepTheirOutcome_succeeds() public {
        // Game a: a lying challenger loses against the lying worker (its lie is elsewhere); then game b overturns.
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        Trace memory lie = _lieAt(m, input, 5, 3, false);
        _submit(jobId, lie, worker);
        uint256 a = _challenge(jobId, challenger);
        uint256 b = _challenge(jobId, challenger2);
        // Challenger a agrees with the lie (it holds the same lying trace) and loses at the step.
        assertEq(uint256(play(a, lie, lie)), uint256(GameStatus.DefenderWon), "a loses");
        assertEq(_credit(worker), CB / 2, "liar won game a");
        assertEq(uint256(play(b, lie, h)), uint256(GameStatus.ChallengerWon), "b overturns");
        ResultDispute memory d = market.getDispute(jobId, 1);
        assertEq(d.share, BOND / 2, "only b was open: it takes the whole half");
        assertEq(_credit(challenger2), CB + BOND / 2, "b paid");
        assertEq(market.burned(), CB / 2 + BOND / 2, "a's half and the worker's half");
        _assertSolvent();
    }

    function test_game_twentyChallengersSameLie_defenderRevealsOnce_succeeds() public {
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        Trace memory mine = _lieAt(m, input, 3, 9, true);
        uint256[] memory games = _openTwenty(jobId);
        uint256 first;
        for (uint256 i = 0; i < 20; ++i) {
            uint256 before = defenderReveals;
            assertEq(uint256(play(games[i], h, mine)), uint256(GameStatus.DefenderWon), "every challenger loses");
            if (i == 0) first = defenderReveals - before;
            else assertEq(defenderReveals - before, 0, "later games are answered by the cache");
        }
        // One game: σ_5, σ_2, σ_3, transition 2, the root's children, the leaf.
        assertEq(first, 6, "one game's reveals");
        assertEq(defenderReveals, 6, "twenty games cost the defender one game's reveals");
        assertEq(_credit(worker), 20 * (CB / 2), "half of every bond");
        assertEq(market.burned(), 20 * (CB / 2), "half of every bond burned");
        _assertSolvent();
        _finalizeAndCheck(jobId, worker, 20 * (CB / 2));
    }

    function test_game_twentyChallengersDifferentLies_revealsBoundedByPositions_succeeds() public {
        (uint256 jobId, ClampModel memory m, bytes memory input, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        uint256[] memory games = _openTwenty(jobId);
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
                (RevealKind kind,,) = market.pendingReveal(games[i]);
                if (kind != RevealKind.None) defend(games[i], h);
                else attack(games[i], mine[i]);
            }
        }
        for (uint256 i = 0; i < 20; ++i) {
            assertEq(uint256(_status(games[i])), uint256(GameStatus.DefenderWon), "every challenger loses");
        }
        // Distinct positions: σ_1..σ_5, transitions 0..4, each slot's root (one inner node) and its two leaves.
        uint256 positions = 5 + 5 + 5 + 5 * 2;
        log("defender reveals for 20 games", defenderReveals);
        vm.assertLe(defenderReveals, positions, "bounded by the distinct positions");
        assertTrue(defenderReveals < 20 * 6, "far below one game's reveals per game");
        _assertSolvent();
        _finalizeAndCheck(jobId, worker, 20 * (CB / 2));
    }

    // ----- relaying, clocks, self-challenges -----

    function test_step_relayedWinningStep_paysChallenger_succeeds() public {
        (uint256 jobId, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        _playUntil(gameId, lie, h, GamePhase.Step);
        attackAs(gameId, h, relayer);
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
        assertEq(_credit(relayer), 0, "the relayer earns nothing");
    }

    function test_step_relayedLosingStep_paysDefender_succeeds() public {
        (, uint256 gameId, Trace memory h) = _honestGame5();
        _playUntil(gameId, h, h, GamePhase.Step);
        attackAs(gameId, h, relayer);
        _assertDefended(gameId, worker, 0, 0);
        assertEq(_credit(relayer), 0, "the relayer earns nothing");
        assertEq(_credit(challenger), 0, "the challenger lost");
    }

    function test_clock_challengerBelowExtension_getsExtension_succeeds() public {
        (, uint256 gameId, Trace memory lie, Trace memory h) = _lyingGame5();
        defend(gameId, lie);
        // The challenger spends all but 60 s of its clock on its first move.
        vm.warp(START + CLOCK - 60);
        attack(gameId, h);
        assertEq(market.getGame(gameId).challengerLeft, 60, "60 s left");
        defend(gameId, lie);
        // Its next move may still take the whole extension (more than the 60 s left) …
        vm.warp(block.timestamp + EXT);
        attack(gameId, h);
        Game memory g = market.getGame(gameId);
        assertEq(g.challengerLeft, 0, "a move inside the extension empties the clock");
        // … and every further move gets the extension again, but no more.
        defend(gameId, lie);
        uint256 readyAt = block.timestamp;
        vm.warp(readyAt + EXT + 1);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(ChallengerOutOfTime.selector, gameId));
        market.bisect(gameId, g.moves, true);
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
        assertEq(market.getGame(gameId).defenderLeft, 30, "30 s left");
        // It still has the whole extension for its next reveal.
        uint64 last = market.getGame(gameId).lastMoveAt;
        vm.warp(last + EXT);
        vm.expectRevert(abi.encodeWithSelector(NotTimedOut.selector, gameId));
        market.timeout(gameId);
        defend(gameId, h);
        attack(gameId, mine);
        Game memory g = market.getGame(gameId);
        assertEq(g.defenderLeft, 0, "emptied");
        // Past the extension it loses.
        vm.warp(g.lastMoveAt + EXT + 1);
        market.timeout(gameId);
        assertEq(uint256(_status(gameId)), uint256(GameStatus.ChallengerWon), "out of extension");
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
        assertEq(market.burned(), CB / 2, "burned");
        _assertSolvent();
    }

    function test_game_workerChallengesItselfAndConcedes_losesMoney_succeeds() public {
        (uint256 jobId,,, Trace memory h) = _job5();
        _submit(jobId, h, worker);
        // The worker lets its second account win (it never answers): it loses half its bond and the job.
        uint256 wealthBefore = worker.balance + worker2.balance + BOND; // the bond is the worker's money
        uint256 gameId = _challenge(jobId, worker2);
        vm.warp(START + CLOCK + 1);
        market.timeout(gameId);
        vm.prank(worker2);
        market.withdraw();
        assertEq(worker.balance + worker2.balance, wealthBefore - BOND / 2, "half the worker's bond lost");
        assertEq(uint256(market.getJob(jobId).status), uint256(JobStatus.Open), "and the job");
        assertEq(market.burned(), BOND / 2, "burned");
        _assertSolvent();
    }

    // ----- fuzz -----

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
        assertEq(market.getGame(gameId).lo, slot - 1, "the op that wrote the lie");
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
        uint32 slot = uint32(bound(slotSeed, 1, 5));
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
        Game memory g = market.getGame(gameId);
        assertEq(g.lo, slot - 1, "the op that wrote the lie");
        assertEq(g.index, leaf, "the lying leaf");
        assertEq(g.offset, offset, "the lying byte");
        _assertOverturnedSingle(jobId, gameId, challenger, 0);
    }

    // =====================================================================================================
    // helpers
    // =====================================================================================================

    /// @notice The trace root of `t` with σ_index replaced by `value` (what a wrong state reveal climbs to).
    function _traceRootWith(Trace memory t, uint256 index, bytes32 value) internal pure returns (bytes32) {
        bytes32[] memory leaves = new bytes32[](t.n + 1);
        for (uint256 i = 0; i <= t.n; ++i) {
            leaves[i] = Reference.leaf(3, abi.encodePacked(i == index ? value : t.sigma[i]));
        }
        return ClampChain.merkle(3, ClampChain.pad(leaves, Reference.leaf(3, abi.encodePacked(bytes32(0)))));
    }

    /// @notice Plays until the game reaches `phase` (the defender's reveals for it not yet sent).
    function _playUntil(uint256 gameId, Trace memory theirs, Trace memory mine, GamePhase phase) internal {
        for (uint256 i = 0; i < MAX_TURNS; ++i) {
            if (market.getGame(gameId).phase == phase) return;
            vm.warp(block.timestamp + 1);
            defend(gameId, theirs);
            attack(gameId, mine);
        }
        revert("phase not reached");
    }

    /// @notice Plays until phase 2 reached the leaf (the leaf not yet revealed).
    function _playUntilLeaf(uint256 gameId, Trace memory theirs, Trace memory mine) internal {
        _playUntil(gameId, theirs, mine, GamePhase.Tensor);
        for (uint256 i = 0; i < MAX_TURNS; ++i) {
            Game memory g = market.getGame(gameId);
            if (g.depth == g.leafDepth) {
                // At the leaf: send what is missing before it (the transition, at depth 0), not the leaf.
                (RevealKind kind, uint32 index, bytes32 hash) = market.pendingReveal(gameId);
                while (kind != RevealKind.Leaf) {
                    if (kind == RevealKind.None) revert("leaf already revealed");
                    reveal(gameId, theirs, kind, index, hash);
                    (kind, index, hash) = market.pendingReveal(gameId);
                }
                return;
            }
            vm.warp(block.timestamp + 1);
            defend(gameId, theirs);
            attack(gameId, mine);
        }
        revert("leaf not reached");
    }

    function _openTwenty(uint256 jobId) internal returns (uint256[] memory games) {
        games = new uint256[](20);
        for (uint256 i = 0; i < 20; ++i) {
            address c = _account(string(abi.encodePacked("challenger-", bytes1(uint8(65 + i)))));
            games[i] = _challenge(jobId, c);
        }
    }
}
