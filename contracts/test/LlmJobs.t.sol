// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {DisputeGame} from "../src/DisputeGame.sol";
import {JobMarket} from "../src/JobMarket.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {IDisputeGame} from "../src/interfaces/IDisputeGame.sol";
import {IJobMarket} from "../src/interfaces/IJobMarket.sol";
import {ILlmStepProver, LlmWitness} from "../src/interfaces/ILlmStepProver.sol";
import {IModelRegistry} from "../src/interfaces/IModelRegistry.sol";
import {IOneStepProver, StepWitness} from "../src/interfaces/IOneStepProver.sol";
import {
    AnswerLength,
    AnswerToken,
    InputLengthMismatch,
    InvalidLlmConfig,
    LlmSpecMismatch,
    MisalignedElement,
    ModelNotActive,
    ModelRootMismatch,
    NotLlm,
    OffsetOutOfRange,
    OutputLengthMismatch,
    OutputRootMismatch,
    PromptLength,
    RevealMismatch,
    RoyaltyTooHigh,
    TokenBudget,
    TokenOutOfRange,
    UnknownJob,
    UnknownModel,
    WrongModelKind,
    WrongPhase
} from "../src/lib/Errors.sol";
import {LibLimits} from "../src/lib/LibLimits.sol";
import {LibLlmTrace} from "../src/lib/LibLlmTrace.sol";
import {LibModel} from "../src/lib/LibModel.sol";
import {
    Game,
    GamePhase,
    GameStatus,
    Job,
    JobStatus,
    LlmConfig,
    LlmLayout,
    Model,
    ModelKind,
    ModelStatus,
    ResultDispute,
    RevealKind,
    TensorShape,
    Tree
} from "../src/lib/Types.sol";
import {Base} from "./Base.t.sol";
import {Configs} from "./utils/Configs.sol";
import {LlmFixture, LlmGeometryStub} from "./utils/LlmFixture.sol";
import {DenseReluModel, ModelFixture} from "./utils/ModelFixture.sol";
import {Reference} from "./utils/Reference.sol";

/// @notice Shared setup: a registry with an Active language model (`LlmFixture.small`, 43 ops of 3-byte specs) and an
/// Active dense(64 → 10) + relu tensor model, and a market whose LLM prover is `_llmProver()` (none by default).
abstract contract LlmJobsFixture is Base {
    ModelRegistry internal registry;
    JobMarket internal market;
    DisputeGame internal game;
    address internal owner;
    address internal poster;
    address internal worker;
    address internal challenger;
    uint256 internal llmId;
    uint256 internal tensorId;

    uint64 internal constant WINDOW = 2 hours;
    uint256 internal constant BOND = 0.5 ether;
    /// @dev The tensor model's fee per job.
    uint256 internal constant FEE = 0.01 ether;
    /// @dev The language model's prices per prompt token and per generated token (odd, so royalties round).
    uint256 internal constant PER_INPUT = 0.0001 ether + 7;
    uint256 internal constant PER_OUTPUT = 0.0003 ether + 11;
    uint16 internal constant ROYALTY_BPS = 1500;
    string internal constant URI = "ipfs://vouch/tiny-llm";
    uint64 internal constant START = 1_800_000_000;
    uint64 internal constant DEADLINE = START + 10 days;
    uint256 internal constant CB = Configs.CHALLENGE_BOND;

    /// @dev Ops per pass of `LlmFixture.small`: 1 + 19·2 + 4.
    uint256 internal constant OPS = 43;
    int256 internal constant EOS = 2;
    uint256 internal constant VOCAB = 300;
    uint256 internal constant CONTEXT = 32;

    function setUp() public virtual {
        vm.warp(START);
        registry = new ModelRegistry();
        market = new JobMarket(registry, IOneStepProver(address(0x5eed)), _llmProver(), Configs.market(WINDOW, BOND));
        game = DisputeGame(payable(address(market.game())));
        owner = makeAddr("owner");
        poster = makeAddr("poster");
        worker = makeAddr("worker");
        challenger = makeAddr("challenger");
        vm.deal(poster, 100 ether);
        vm.deal(worker, 100 ether);
        vm.deal(challenger, 100 ether);
        llmId = _activateLlm(LlmFixture.small(), LlmFixture.specOnlyOps(LlmFixture.small()));
        tensorId = _activateTensor(ModelFixture.denseRelu(1, 64, 10));
    }

    /// @dev The market's LLM prover: none (any nonzero address) unless a suite needs the slot geometry.
    function _llmProver() internal virtual returns (ILlmStepProver) {
        return Configs.NO_LLM_PROVER;
    }

    // ----- models -----

    function _registerLlm(LlmConfig memory c, bytes32 root) internal returns (uint256 id) {
        vm.prank(owner);
        id = registry.registerLlm(root, c, PER_INPUT, PER_OUTPUT, ROYALTY_BPS, URI);
    }

    /// @dev Publishes ops `from … to − 1` of `opLeaves`, each in two calls when it has more than one leaf, and seals them.
    function _publish(uint256 id, bytes[][] memory opLeaves, uint256 from, uint256 to) internal {
        vm.startPrank(owner);
        for (uint256 o = from; o < to; ++o) {
            bytes[] memory leaves = opLeaves[o];
            uint256 half = (leaves.length + 1) / 2;
            registry.publishLeaves(id, uint32(o), ModelFixture.slice(leaves, 0, half));
            if (half < leaves.length) {
                registry.publishLeaves(id, uint32(o), ModelFixture.slice(leaves, half, leaves.length));
            }
            registry.sealOp(id, uint32(o));
        }
        vm.stopPrank();
    }

    function _activateLlm(LlmConfig memory c, bytes[][] memory opLeaves) internal returns (uint256 id) {
        id = _registerLlm(c, LlmFixture.modelRoot(c, opLeaves));
        _publish(id, opLeaves, 0, opLeaves.length);
    }

    function _activateTensor(DenseReluModel memory m) internal returns (uint256 id) {
        vm.startPrank(owner);
        id = registry.registerModel(m.root, 2, m.input, m.inputZero, m.output, FEE, ROYALTY_BPS, URI);
        registry.publishLeaves(id, 0, m.ops[0]);
        registry.sealOp(id, 0);
        registry.publishLeaves(id, 1, m.ops[1]);
        registry.sealOp(id, 1);
        vm.stopPrank();
    }

    // ----- jobs -----

    /// @dev The default job: budget 4, prompt [17, 42, 299] (P = 3).
    function _input() internal pure returns (bytes memory) {
        return LlmFixture.input(4, LlmFixture.ids(17, 42, 299));
    }

    /// @dev What a job of `prompt` tokens and budget `maxNew` escrows at the fixture's prices.
    function _escrow(uint256 prompt, uint256 maxNew) internal pure returns (uint256) {
        return prompt * PER_INPUT + maxNew * PER_OUTPUT;
    }

    /// @dev What the input row `[maxNew, ids…]` escrows at the fixture's prices.
    function _escrowOf(bytes memory input) internal pure returns (uint256) {
        return _escrow(input.length / 4 - 1, uint32(bytes4(input)));
    }

    function _post(bytes memory input) internal returns (uint256 jobId) {
        vm.prank(poster);
        jobId = market.postJob{value: _escrowOf(input)}(llmId, input, DEADLINE);
    }

    function _submit(uint256 jobId, bytes memory output, bytes32 traceRoot) internal {
        vm.prank(worker);
        market.submitResult{value: BOND}(jobId, Reference.tensorRoot(output), traceRoot, output);
    }

    function _expectSubmitReverts(uint256 jobId, bytes memory output, bytes memory revertData) internal {
        bytes32 root = Reference.tensorRoot(output.length == 0 ? new bytes(1) : output);
        vm.expectRevert(revertData);
        vm.prank(worker);
        market.submitResult{value: BOND}(jobId, root, keccak256("trace"), output);
    }

    function _assertLayout(uint256 jobId, uint256 prompt, uint256 maxNew, uint256 generated) internal view {
        LlmLayout memory l = market.llmLayout(jobId);
        assertEq(l.prompt, prompt, "layout.prompt");
        assertEq(l.maxNew, maxNew, "layout.maxNew");
        assertEq(l.generated, generated, "layout.generated");
    }
}

// =====================================================================================================================
// Registry: registerLlm, llmConfig, the bounds of validConfig
// =====================================================================================================================

contract LlmRegistryTest is LlmJobsFixture {
    function _expectInvalid(LlmConfig memory c) internal {
        vm.expectRevert(
            abi.encodeWithSelector(InvalidLlmConfig.selector, c.blocks, c.hidden, c.ffn, c.vocab, c.context)
        );
        registry.registerLlm(keccak256("root"), c, PER_INPUT, PER_OUTPUT, ROYALTY_BPS, URI);
    }

    function _expectValid(LlmConfig memory c) internal {
        uint256 id = registry.registerLlm(keccak256("root"), c, PER_INPUT, PER_OUTPUT, ROYALTY_BPS, URI);
        assertEq(registry.opCount(id), 1 + 19 * uint256(c.blocks) + 4, "opCount = 1 + 19 blocks + 4");
        assertEq(uint256(registry.getModel(id).kind), uint256(ModelKind.Llm), "kind");
    }

    function _small() internal pure returns (LlmConfig memory) {
        return LlmFixture.small();
    }

    function _assertConfig(LlmConfig memory a, LlmConfig memory b) internal pure {
        assertEq(a.blocks, b.blocks, "blocks");
        assertEq(a.hidden, b.hidden, "hidden");
        assertEq(a.heads, b.heads, "heads");
        assertEq(a.kvHeads, b.kvHeads, "kvHeads");
        assertEq(a.headDim, b.headDim, "headDim");
        assertEq(a.ffn, b.ffn, "ffn");
        assertEq(a.vocab, b.vocab, "vocab");
        assertEq(a.context, b.context, "context");
        assertEq(a.eos, b.eos, "eos");
    }

    // ----- registerLlm -----

    function test_registerLlm_validConfig_succeeds() public {
        LlmConfig memory c = _small();
        bytes32 root = keccak256("an llm root");
        vm.expectEmit(address(registry));
        emit IModelRegistry.LlmRegistered(3, owner, root, uint32(OPS), c, PER_INPUT, PER_OUTPUT, ROYALTY_BPS, URI);
        uint256 id = _registerLlm(c, root);
        assertEq(id, 3, "third model");

        Model memory m = registry.getModel(id);
        assertEq(m.owner, owner, "owner");
        assertEq(m.root, root, "root");
        assertEq(m.opCount, 1 + 19 * 2 + 4, "opCount");
        assertEq(uint256(m.status), uint256(ModelStatus.Pending), "Pending");
        assertEq(uint256(m.kind), uint256(ModelKind.Llm), "kind Llm");
        assertEq(m.fee, 0, "no flat fee");
        (uint256 perInput, uint256 perOutput) = registry.llmPrices(id);
        assertEq(perInput, PER_INPUT, "perInputToken");
        assertEq(perOutput, PER_OUTPUT, "perOutputToken");
        assertEq(m.royaltyBps, ROYALTY_BPS, "royalty");
        assertEq(m.uri, URI, "uri");
        assertEq(uint256(m.input.h) + m.input.w + m.input.c + m.output.h + m.output.w + m.output.c, 0, "no shapes");
        _assertConfig(registry.llmConfig(id), c);
        (uint32 op, uint32 leaves) = registry.publication(id);
        assertEq(op + leaves, 0, "nothing published");
    }

    function test_registerLlm_opCountPerBlocks_succeeds() public {
        LlmConfig memory c = _small();
        c.blocks = 1;
        _expectValid(c);
        c.blocks = 30;
        _expectValid(c);
    }

    function test_registerLlm_maxRoyalty_succeeds() public {
        uint256 id = registry.registerLlm(bytes32(0), _small(), 0, 0, 10_000, "");
        assertEq(registry.getModel(id).royaltyBps, 10_000, "100 %");
    }

    function test_registerLlm_royaltyAbove100Percent_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(RoyaltyTooHigh.selector, 10_001, 10_000));
        registry.registerLlm(bytes32(0), _small(), PER_INPUT, PER_OUTPUT, 10_001, URI);
    }

    function test_llmConfig_tensorModel_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(NotLlm.selector, tensorId));
        registry.llmConfig(tensorId);
    }

    function test_llmConfig_unknownModel_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownModel.selector, 99));
        registry.llmConfig(99);
    }

    // ----- validConfig, at and past each edge -----

    function test_registerLlm_zeroBlocks_reverts() public {
        LlmConfig memory c = _small();
        c.blocks = 0;
        _expectInvalid(c);
    }

    function test_registerLlm_longestTraceAtStateCap_succeeds() public {
        // OPS·context + 2 ≤ 2^20 (the longest trace's state tree at most 20 deep): with 32 positions, 1 + 19·1724 + 4 =
        // 32,761 ops (32,761·32 + 2 = 1,048,354); with 1024, 53. (With one position the u16 op index binds first.)
        LlmConfig memory c = _small();
        c.blocks = 1724;
        _expectValid(c);
        (c.blocks, c.context) = (53, 1024);
        _expectValid(c);
        vm.assertLe((1 + 19 * uint256(53) + 4) * 1024 + 2, 1 << LibLimits.MAX_STATE_DEPTH, "at the cap");
    }

    function test_registerLlm_longestTracePastStateCap_reverts() public {
        // 32,780·32 + 2, 1,048,577·1 + 2 and 1,031·1024 + 2 all exceed 2^20.
        LlmConfig memory c = _small();
        c.blocks = 1725;
        _expectInvalid(c);
        (c.blocks, c.context) = (55_188, 1);
        _expectInvalid(c);
        (c.blocks, c.context) = (54, 1024);
        _expectInvalid(c);
        (c.blocks, c.context) = (type(uint32).max, 1);
        _expectInvalid(c);
    }

    /// @dev Every op's spec carries its index as `o u16` (docs/LLM_INT.md §9.1), so a pass has at most 2^16 ops even
    /// where the state bound would allow more (a short context): 3,450 blocks make 65,555 ops (65,555·15 + 2 < 2^20),
    /// refused at registration rather than never sealable.
    function test_registerLlm_opIndexPastU16_reverts() public {
        LlmConfig memory c = _small();
        (c.blocks, c.context) = (3450, 15);
        _expectInvalid(c);
    }

    function test_registerLlm_opIndexAtU16_succeeds() public {
        // 1 + 19·3449 + 4 = 65,536 ops: the last, 65,535, still fits `o u16`.
        LlmConfig memory c = _small();
        (c.blocks, c.context) = (3449, 15);
        _expectValid(c);
    }

    function test_registerLlm_zeroHidden_reverts() public {
        LlmConfig memory c = _small();
        c.hidden = 0;
        _expectInvalid(c);
    }

    function test_registerLlm_hiddenAtMax_succeeds() public {
        LlmConfig memory c = _small();
        c.hidden = 8192;
        _expectValid(c);
        c.hidden = 1;
        _expectValid(c);
    }

    function test_registerLlm_hiddenPastMax_reverts() public {
        LlmConfig memory c = _small();
        c.hidden = 8193;
        _expectInvalid(c);
    }

    function test_registerLlm_zeroFfn_reverts() public {
        LlmConfig memory c = _small();
        c.ffn = 0;
        _expectInvalid(c);
    }

    function test_registerLlm_ffnAtMax_succeeds() public {
        LlmConfig memory c = _small();
        c.ffn = 8192;
        _expectValid(c);
        c.ffn = 1;
        _expectValid(c);
    }

    function test_registerLlm_ffnPastMax_reverts() public {
        LlmConfig memory c = _small();
        c.ffn = 8193;
        _expectInvalid(c);
    }

    function test_registerLlm_queryWidthAtMax_succeeds() public {
        LlmConfig memory c = _small();
        (c.heads, c.headDim) = (512, 16);
        _expectValid(c);
        (c.heads, c.kvHeads, c.headDim) = (1, 1, 8192);
        _expectValid(c);
    }

    function test_registerLlm_queryWidthPastMax_reverts() public {
        LlmConfig memory c = _small();
        // 8193 = 8193 · 1 (its headDim odd as well): every factorization of 8193 is odd.
        (c.heads, c.kvHeads, c.headDim) = (8193, 1, 1);
        _expectInvalid(c);
        // The first even-headDim width past the edge: 8194 = 4097 · 2 and 1 · 8194.
        (c.heads, c.kvHeads, c.headDim) = (4097, 1, 2);
        _expectInvalid(c);
        (c.heads, c.kvHeads, c.headDim) = (1, 1, 8194);
        _expectInvalid(c);
    }

    function test_registerLlm_zeroQueryWidth_reverts() public {
        LlmConfig memory c = _small();
        c.heads = 0;
        _expectInvalid(c);
        c = _small();
        c.headDim = 0;
        _expectInvalid(c);
    }

    function test_registerLlm_oddHeadDim_reverts() public {
        LlmConfig memory c = _small();
        c.headDim = 15;
        _expectInvalid(c);
        c.headDim = 1;
        _expectInvalid(c);
    }

    function test_registerLlm_evenHeadDim_succeeds() public {
        LlmConfig memory c = _small();
        c.headDim = 2;
        _expectValid(c);
    }

    function test_registerLlm_zeroKvHeads_reverts() public {
        // Refused by the bound, not by a division by zero (`heads % kvHeads` is never reached).
        LlmConfig memory c = _small();
        c.kvHeads = 0;
        _expectInvalid(c);
    }

    function test_registerLlm_headsNotMultipleOfKvHeads_reverts() public {
        LlmConfig memory c = _small();
        c.kvHeads = 3;
        _expectInvalid(c);
        c.kvHeads = 8;
        _expectInvalid(c);
    }

    function test_registerLlm_kvHeadsDividingHeads_succeeds() public {
        LlmConfig memory c = _small();
        c.kvHeads = 1;
        _expectValid(c);
        c.kvHeads = 4;
        _expectValid(c);
    }

    function test_registerLlm_zeroVocab_reverts() public {
        LlmConfig memory c = _small();
        (c.vocab, c.eos) = (0, 0);
        _expectInvalid(c);
    }

    function test_registerLlm_vocabAtMax_succeeds() public {
        LlmConfig memory c = _small();
        c.vocab = 1 << 18;
        _expectValid(c);
        (c.vocab, c.eos) = (1, 0);
        _expectValid(c);
    }

    function test_registerLlm_vocabPastMax_reverts() public {
        LlmConfig memory c = _small();
        c.vocab = (1 << 18) + 1;
        _expectInvalid(c);
    }

    function test_registerLlm_zeroContext_reverts() public {
        LlmConfig memory c = _small();
        c.context = 0;
        _expectInvalid(c);
    }

    function test_registerLlm_contextAtMax_succeeds() public {
        LlmConfig memory c = _small();
        c.context = 1024;
        _expectValid(c);
        c.context = 1;
        _expectValid(c);
    }

    function test_registerLlm_contextPastMax_reverts() public {
        LlmConfig memory c = _small();
        c.context = 1025;
        _expectInvalid(c);
    }

    function test_registerLlm_eosIsVocab_reverts() public {
        LlmConfig memory c = _small();
        c.eos = c.vocab;
        _expectInvalid(c);
    }

    function test_registerLlm_eosLastId_succeeds() public {
        LlmConfig memory c = _small();
        c.eos = c.vocab - 1;
        _expectValid(c);
    }

    function test_registerLlm_invalidConfigBeforeRoyalty_reverts() public {
        LlmConfig memory c = _small();
        c.context = 0;
        vm.expectRevert(
            abi.encodeWithSelector(InvalidLlmConfig.selector, c.blocks, c.hidden, c.ffn, c.vocab, c.context)
        );
        registry.registerLlm(bytes32(0), c, PER_INPUT, PER_OUTPUT, 10_001, URI);
    }

    /// @dev Accepts exactly the configs IModelRegistry.registerLlm lists (blocks kept small: the op index has its own
    /// edge tests).
    function testFuzz_registerLlm_listedBounds_succeeds(LlmConfig memory c) public {
        c.blocks = uint32(bound(c.blocks, 0, 64));
        c.hidden = uint32(bound(c.hidden, 0, 8200));
        c.heads = uint32(bound(c.heads, 0, 600));
        c.kvHeads = uint32(bound(c.kvHeads, 0, 9));
        c.headDim = uint32(bound(c.headDim, 0, 20));
        c.ffn = uint32(bound(c.ffn, 0, 8200));
        c.vocab = uint32(bound(c.vocab, 0, (1 << 18) + 4));
        c.context = uint32(bound(c.context, 0, 1030));
        c.eos = uint32(bound(c.eos, 0, uint256(c.vocab) + 2));
        uint256 q = uint256(c.heads) * c.headDim;
        bool listed = c.blocks >= 1 && c.hidden >= 1 && c.hidden <= 8192 && c.ffn >= 1 && c.ffn <= 8192 && q >= 1
            && q <= 8192 && c.headDim % 2 == 0 && c.kvHeads >= 1 && c.heads % c.kvHeads == 0 && c.vocab >= 1
            && c.vocab <= 1 << 18 && c.context >= 1 && c.context <= 1024 && c.eos < c.vocab
            && (1 + 19 * uint256(c.blocks) + 4) * c.context + 2 <= 1 << 20;
        if (listed) _expectValid(c);
        else _expectInvalid(c);
    }

    // ----- the pass program's spec codes -----

    function test_opCode_passProgram_succeeds() public pure {
        LlmConfig memory c = _small();
        uint32[4] memory blocks = [uint32(1), 2, 3, 30];
        for (uint256 b = 0; b < blocks.length; ++b) {
            c.blocks = blocks[b];
            uint256 n = LlmFixture.ops(c);
            assertEq(LibLlmTrace.ops(c), n, "ops");
            for (uint256 o = 0; o < n; ++o) {
                assertEq(LibLlmTrace.opCode(c, o), LlmFixture.code(c, o), "code of op o");
            }
        }
    }
}

// =====================================================================================================================
// Registry: publication of a language model (spec prefixes checked at seal, the LLM1 root at the last seal)
// =====================================================================================================================

contract LlmPublicationTest is LlmJobsFixture {
    /// @dev A Pending copy of the listed model, registered with `root`.
    function _pending(bytes32 root) internal returns (uint256) {
        return _registerLlm(LlmFixture.small(), root);
    }

    function _leaves(bytes memory spec) internal pure returns (bytes[] memory leaves) {
        leaves = new bytes[](1);
        leaves[0] = spec;
    }

    function _expectSealMismatch(uint256 id, uint32 op, bytes memory spec) internal {
        vm.startPrank(owner);
        registry.publishLeaves(id, op, _leaves(spec));
        vm.expectRevert(
            abi.encodeWithSelector(LlmSpecMismatch.selector, id, op, LlmFixture.code(LlmFixture.small(), op))
        );
        registry.sealOp(id, op);
        registry.resetPublication(id);
        vm.stopPrank();
    }

    function test_sealOp_llmSpecOnlyOpsActivate_succeeds() public {
        LlmConfig memory c = LlmFixture.small();
        bytes[][] memory opLeaves = LlmFixture.specOnlyOps(c);
        bytes32 opsRoot = LlmFixture.opsRoot(opLeaves);
        bytes32 root = LlmFixture.modelRoot(c, opsRoot);
        assertEq(root, LibLlmTrace.modelRoot(c, bytes32(0), opsRoot), "fixture root = LibLlmTrace.modelRoot");
        uint256 id = _pending(root);
        _publish(id, opLeaves, 0, OPS - 1);
        assertEq(uint256(registry.getModel(id).status), uint256(ModelStatus.Pending), "Pending before the last seal");

        vm.startPrank(owner);
        registry.publishLeaves(id, uint32(OPS - 1), opLeaves[OPS - 1]);
        vm.expectEmit(address(registry));
        emit IModelRegistry.ModelActivated(id);
        registry.sealOp(id, uint32(OPS - 1));
        vm.stopPrank();

        assertEq(uint256(registry.getModel(id).status), uint256(ModelStatus.Active), "Active");
        for (uint256 o = 0; o < OPS; ++o) {
            // A one-leaf op tree's root is its leaf.
            assertEq(registry.opRoot(id, uint32(o)), Reference.leaf(0x04, opLeaves[o][0]), "opRoot = leaf(0x04, spec)");
            assertEq(registry.opSpec(id, uint32(o)), opLeaves[o][0], "opSpec");
        }
    }

    function test_sealOp_llmLongSpecsAndRowsActivate_succeeds() public {
        LlmConfig memory c = LlmFixture.small();
        bytes[][] memory opLeaves = LlmFixture.richOps(c);
        uint256 id = _pending(LlmFixture.modelRoot(c, opLeaves));
        _publish(id, opLeaves, 0, OPS);
        assertEq(uint256(registry.getModel(id).status), uint256(ModelStatus.Active), "Active");
        assertEq(registry.opRoot(id, 2), Reference.opRoot(opLeaves[2]), "opRoot of a 3-leaf op");
        assertEq(registry.opSpec(id, 2), opLeaves[2][0], "the long spec kept");
    }

    function test_sealOp_llmWrongCode_reverts() public {
        uint256 id = _pending(bytes32(0));
        // EMBED published as a NORM.
        _expectSealMismatch(id, 0, abi.encodePacked(uint8(0x11), uint16(0)));
    }

    function test_sealOp_llmWrongCodeInBlock_reverts() public {
        LlmConfig memory c = LlmFixture.small();
        uint256 id = _pending(bytes32(0));
        _publish(id, LlmFixture.specOnlyOps(c), 0, 5);
        // Op 5 is block 0's ROPE q (0x13), published as a DENSE.
        vm.startPrank(owner);
        registry.publishLeaves(id, 5, _leaves(abi.encodePacked(uint8(0x12), uint16(5))));
        vm.expectRevert(abi.encodeWithSelector(LlmSpecMismatch.selector, id, 5, 0x13));
        registry.sealOp(id, 5);
        vm.stopPrank();
    }

    function test_sealOp_llmWrongCodeInTail_reverts() public {
        LlmConfig memory c = LlmFixture.small();
        uint256 id = _pending(bytes32(0));
        _publish(id, LlmFixture.specOnlyOps(c), 0, 41);
        // Op 41 is ARGMAX1 (0x1c), published as ARGMAX2.
        vm.startPrank(owner);
        registry.publishLeaves(id, 41, _leaves(abi.encodePacked(uint8(0x1d), uint16(41), uint32(8192))));
        vm.expectRevert(abi.encodeWithSelector(LlmSpecMismatch.selector, id, 41, 0x1c));
        registry.sealOp(id, 41);
        vm.stopPrank();
    }

    function test_sealOp_llmWrongIndex_reverts() public {
        uint256 id = _pending(bytes32(0));
        // EMBED's code with another op's index, in the low byte and in the high byte.
        _expectSealMismatch(id, 0, abi.encodePacked(uint8(0x10), uint16(1)));
        _expectSealMismatch(id, 0, abi.encodePacked(uint8(0x10), uint16(0x0100)));
    }

    function test_sealOp_llmWrongIndexLaterOp_reverts() public {
        uint256 id = _pending(bytes32(0));
        _publish(id, LlmFixture.specOnlyOps(LlmFixture.small()), 0, 1);
        // Op 1 (block 0's ATTN_NORM, 0x11) naming op 0x0101 = 257, and op 1 written little-endian.
        _expectSealMismatch(id, 1, abi.encodePacked(uint8(0x11), uint16(0x0101)));
        _publish(id, LlmFixture.specOnlyOps(LlmFixture.small()), 0, 1);
        _expectSealMismatch(id, 1, abi.encodePacked(uint8(0x11), uint16(0x0100)));
    }

    function test_sealOp_llmSpecTooShort_reverts() public {
        uint256 id = _pending(bytes32(0));
        _expectSealMismatch(id, 0, hex"1000");
        _expectSealMismatch(id, 0, hex"10");
        _expectSealMismatch(id, 0, "");
    }

    function test_sealOp_llmSpecIsLeafZero_reverts() public {
        // Only the op's first leaf is its spec: a right spec as leaf 1 does not help.
        uint256 id = _pending(bytes32(0));
        bytes[] memory leaves = new bytes[](2);
        leaves[0] = hex"ff0000";
        leaves[1] = LlmFixture.spec(LlmFixture.small(), 0);
        vm.startPrank(owner);
        registry.publishLeaves(id, 0, leaves);
        vm.expectRevert(abi.encodeWithSelector(LlmSpecMismatch.selector, id, 0, 0x10));
        registry.sealOp(id, 0);
        vm.stopPrank();
    }

    function test_sealOp_llmRootOfOtherConfig_reverts() public {
        LlmConfig memory c = LlmFixture.small();
        bytes[][] memory opLeaves = LlmFixture.specOnlyOps(c);
        bytes32 right = LlmFixture.modelRoot(c, opLeaves);
        // The same ops under another eos: the config is committed.
        LlmConfig memory other = LlmFixture.small();
        other.eos = 3;
        bytes32 wrong = LlmFixture.modelRoot(other, opLeaves);
        _expectRootMismatch(opLeaves, right, wrong);
    }

    function test_sealOp_llmRootOfOtherOps_reverts() public {
        LlmConfig memory c = LlmFixture.small();
        bytes[][] memory opLeaves = LlmFixture.specOnlyOps(c);
        _expectRootMismatch(opLeaves, LlmFixture.modelRoot(c, opLeaves), LlmFixture.modelRoot(c, LlmFixture.richOps(c)));
    }

    function test_sealOp_llmTensorStyleRoot_reverts() public {
        // The v2 tensor-model root over the same op tree (no "LLM1", shapes zero) is not the language model's root.
        LlmConfig memory c = LlmFixture.small();
        bytes[][] memory opLeaves = LlmFixture.specOnlyOps(c);
        TensorShape memory none;
        bytes32 wrong = LibModel.modelRoot(uint32(OPS), none, 0, none, LlmFixture.opsRoot(opLeaves));
        _expectRootMismatch(opLeaves, LlmFixture.modelRoot(c, opLeaves), wrong);
    }

    function _expectRootMismatch(bytes[][] memory opLeaves, bytes32 computed, bytes32 registered) internal {
        uint256 id = _pending(registered);
        _publish(id, opLeaves, 0, OPS - 1);
        vm.startPrank(owner);
        registry.publishLeaves(id, uint32(OPS - 1), opLeaves[OPS - 1]);
        vm.expectRevert(abi.encodeWithSelector(ModelRootMismatch.selector, computed, registered));
        registry.sealOp(id, uint32(OPS - 1));
        vm.stopPrank();
        assertEq(uint256(registry.getModel(id).status), uint256(ModelStatus.Pending), "still Pending");
    }
}

// =====================================================================================================================
// Market: prompts, answers, settlement
// =====================================================================================================================

contract LlmMarketTest is LlmJobsFixture {
    using LlmFixture for int256[];

    /// @dev Posts `input` (sending nothing: a prompt is checked before its price) and expects `revertData`.
    function _expectPostReverts(bytes memory input, bytes memory revertData) internal {
        vm.expectRevert(revertData);
        vm.prank(poster);
        market.postJob(llmId, input, DEADLINE);
    }

    // ----- postJob -----

    function test_postJob_llm_succeeds() public {
        bytes memory input = _input();
        assertEq(input, hex"00000004" hex"00000011" hex"0000002a" hex"0000012b", "[maxNew, ids...] as int32 BE");
        bytes32 inputRoot = Reference.tensorRoot(input);
        vm.expectEmit(address(market));
        emit IJobMarket.JobPosted(1, llmId, poster, _escrow(3, 4), DEADLINE, inputRoot, input);
        uint256 jobId = _post(input);

        _assertLayout(jobId, 3, 4, 0);
        Job memory job = market.getJob(jobId);
        assertEq(job.inputRoot, inputRoot, "inputRoot over one row");
        assertEq(job.inputRoot, market.tensorRoot(input, input.length), "inputRoot = tensorRoot(input, input.length)");
        assertEq(job.outputLen, 0, "no output shape");
        assertEq(uint256(job.status), uint256(JobStatus.Open), "Open");
        assertEq(job.fee, 3 * PER_INPUT + 4 * PER_OUTPUT, "the most escrowed: 3 prompt tokens, 4 budgeted");
        assertEq(market.outputTokenPrice(jobId), PER_OUTPUT, "per-output price snapshotted");
    }

    function test_postJob_llmFullContext_succeeds() public {
        // P + maxNew − 1 = 3 + 30 − 1 = context.
        uint256 a = _post(LlmFixture.input(30, LlmFixture.ids(17, 42, 299)));
        _assertLayout(a, 3, 30, 0);
        // A prompt of the whole context and a budget of one.
        int256[] memory prompt = new int256[](CONTEXT);
        for (uint256 i = 0; i < prompt.length; ++i) {
            prompt[i] = int256(i);
        }
        uint256 b = _post(LlmFixture.input(1, prompt));
        _assertLayout(b, CONTEXT, 1, 0);
        // The smallest job: one token, budget one, the last id of the vocabulary.
        uint256 d = _post(LlmFixture.input(1, LlmFixture.ids(int256(VOCAB) - 1)));
        _assertLayout(d, 1, 1, 0);
    }

    function test_postJob_llmPromptLength_reverts() public {
        _expectPostReverts("", abi.encodeWithSelector(PromptLength.selector, 0));
        _expectPostReverts(hex"00000004", abi.encodeWithSelector(PromptLength.selector, 4));
        _expectPostReverts(hex"00000004000000", abi.encodeWithSelector(PromptLength.selector, 7));
        _expectPostReverts(hex"000000040000001100", abi.encodeWithSelector(PromptLength.selector, 9));
    }

    function test_postJob_llmZeroBudget_reverts() public {
        _expectPostReverts(
            LlmFixture.input(0, LlmFixture.ids(17, 42, 299)),
            abi.encodeWithSelector(TokenBudget.selector, 3, 0, CONTEXT)
        );
    }

    function test_postJob_llmBudgetPastContext_reverts() public {
        // P + maxNew − 1 = 3 + 31 − 1 = context + 1.
        _expectPostReverts(
            LlmFixture.input(31, LlmFixture.ids(17, 42, 299)),
            abi.encodeWithSelector(TokenBudget.selector, 3, 31, CONTEXT)
        );
        // A prompt longer than the context, budget one.
        int256[] memory prompt = new int256[](CONTEXT + 1);
        _expectPostReverts(
            LlmFixture.input(1, prompt), abi.encodeWithSelector(TokenBudget.selector, CONTEXT + 1, 1, CONTEXT)
        );
    }

    function test_postJob_llmNegativeBudget_reverts() public {
        // 0xffffffff is −1 as an int32, read as 2^32 − 1.
        _expectPostReverts(
            LlmFixture.input(-1, LlmFixture.ids(17, 42, 299)),
            abi.encodeWithSelector(TokenBudget.selector, 3, type(uint32).max, CONTEXT)
        );
    }

    function test_postJob_llmTokenPastVocab_reverts() public {
        _expectPostReverts(
            LlmFixture.input(4, LlmFixture.ids(17, 42, int256(VOCAB))),
            abi.encodeWithSelector(TokenOutOfRange.selector, 2, VOCAB, VOCAB)
        );
    }

    function test_postJob_llmNegativeToken_reverts() public {
        _expectPostReverts(
            LlmFixture.input(4, LlmFixture.ids(17, -1, 299)),
            abi.encodeWithSelector(TokenOutOfRange.selector, 1, type(uint32).max, VOCAB)
        );
        _expectPostReverts(
            LlmFixture.input(4, LlmFixture.ids(type(int32).min, 1)),
            abi.encodeWithSelector(TokenOutOfRange.selector, 0, uint256(1) << 31, VOCAB)
        );
    }

    function test_postJob_llmBudgetCheckedBeforeTokens_reverts() public {
        _expectPostReverts(
            LlmFixture.input(0, LlmFixture.ids(int256(VOCAB))),
            abi.encodeWithSelector(TokenBudget.selector, 1, 0, CONTEXT)
        );
    }

    function test_postJob_llmPending_reverts() public {
        uint256 id = _registerLlm(LlmFixture.small(), bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ModelNotActive.selector, id, ModelStatus.Pending));
        vm.prank(poster);
        market.postJob{value: _escrowOf(_input())}(id, _input(), DEADLINE);
    }

    function test_postJob_tensorModelInputUnchanged_reverts() public {
        // A prompt row is no input for a tensor model: its input is still h·w·c bytes.
        vm.expectRevert(abi.encodeWithSelector(InputLengthMismatch.selector, 16, 64));
        vm.prank(poster);
        market.postJob{value: FEE}(tensorId, _input(), DEADLINE);

        vm.prank(poster);
        uint256 jobId = market.postJob{value: FEE}(tensorId, randomBytes(1, 64), DEADLINE);
        _assertLayout(jobId, 0, 0, 0);
        assertEq(market.getJob(jobId).inputRoot, Reference.tensorRoot(randomBytes(1, 64), 64), "tensor inputRoot");
    }

    function test_llmLayout_unknownJob_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownJob.selector, 7));
        market.llmLayout(7);
    }

    // ----- submitResult -----

    function _acceptsAnswer(int256[] memory answer, uint256 generated) internal {
        uint256 jobId = _post(_input());
        bytes memory output = answer.row();
        bytes32 root = Reference.tensorRoot(output);
        assertEq(root, market.tensorRoot(output, output.length), "outputRoot over one row");
        vm.expectEmit(address(market));
        emit IJobMarket.ResultSubmitted(jobId, 1, worker, root, keccak256("trace"), output, START);
        _submit(jobId, output, keccak256("trace"));
        _assertLayout(jobId, 3, 4, generated);
        Job memory job = market.getJob(jobId);
        assertEq(uint256(job.status), uint256(JobStatus.Submitted), "Submitted");
        assertEq(job.outputRoot, root, "outputRoot");
    }

    function test_submitResult_llmEndsInEos_succeeds() public {
        _acceptsAnswer(LlmFixture.ids(5, 7, EOS), 3);
    }

    function test_submitResult_llmOnlyEos_succeeds() public {
        _acceptsAnswer(LlmFixture.ids(EOS), 1);
    }

    function test_submitResult_llmBudgetSpentNoEos_succeeds() public {
        _acceptsAnswer(LlmFixture.ids(5, 7, 8, 299), 4);
    }

    function test_submitResult_llmBudgetSpentEndsInEos_succeeds() public {
        _acceptsAnswer(LlmFixture.ids(5, 7, 8, EOS), 4);
    }

    function test_submitResult_llmAnswerLength_reverts() public {
        uint256 jobId = _post(_input());
        _expectSubmitReverts(jobId, "", abi.encodeWithSelector(AnswerLength.selector, 0, 4));
        _expectSubmitReverts(jobId, hex"000000050000", abi.encodeWithSelector(AnswerLength.selector, 6, 4));
        _expectSubmitReverts(
            jobId, LlmFixture.ids(5, 7, 8, 9, EOS).row(), abi.encodeWithSelector(AnswerLength.selector, 20, 4)
        );
    }

    function test_submitResult_llmEosBeforeLast_reverts() public {
        uint256 jobId = _post(_input());
        _expectSubmitReverts(
            jobId, LlmFixture.ids(5, EOS, EOS).row(), abi.encodeWithSelector(AnswerToken.selector, 1, 2)
        );
        // Also when the budget ran out.
        _expectSubmitReverts(
            jobId, LlmFixture.ids(EOS, 7, 8, 9).row(), abi.encodeWithSelector(AnswerToken.selector, 0, 2)
        );
    }

    function test_submitResult_llmShortWithoutEos_reverts() public {
        uint256 jobId = _post(_input());
        _expectSubmitReverts(jobId, LlmFixture.ids(5, 7).row(), abi.encodeWithSelector(AnswerToken.selector, 1, 7));
        _expectSubmitReverts(jobId, LlmFixture.ids(5, 7, 8).row(), abi.encodeWithSelector(AnswerToken.selector, 2, 8));
    }

    function test_submitResult_llmTokenPastVocab_reverts() public {
        uint256 jobId = _post(_input());
        _expectSubmitReverts(
            jobId, LlmFixture.ids(5, int256(VOCAB), EOS).row(), abi.encodeWithSelector(AnswerToken.selector, 1, VOCAB)
        );
        _expectSubmitReverts(
            jobId, LlmFixture.ids(-1, EOS).row(), abi.encodeWithSelector(AnswerToken.selector, 0, type(uint32).max)
        );
        // The last id too, even when the budget ran out.
        _expectSubmitReverts(
            jobId, LlmFixture.ids(5, 7, 8, int256(VOCAB)).row(), abi.encodeWithSelector(AnswerToken.selector, 3, VOCAB)
        );
    }

    function test_submitResult_llmWrongRoot_reverts() public {
        uint256 jobId = _post(_input());
        bytes memory output = LlmFixture.ids(5, 7, EOS).row();
        bytes32 wrong = Reference.tensorRoot(LlmFixture.ids(5, 8, EOS).row());
        vm.expectRevert(abi.encodeWithSelector(OutputRootMismatch.selector, Reference.tensorRoot(output), wrong));
        vm.prank(worker);
        market.submitResult{value: BOND}(jobId, wrong, keccak256("trace"), output);
        // A root over rows of 4 bytes (one id a row) is not the answer's root either.
        bytes32 perId = Reference.tensorRoot(output, 4);
        vm.expectRevert(abi.encodeWithSelector(OutputRootMismatch.selector, Reference.tensorRoot(output), perId));
        vm.prank(worker);
        market.submitResult{value: BOND}(jobId, perId, keccak256("trace"), output);
    }

    function test_submitResult_tensorOutputUnchanged_reverts() public {
        vm.prank(poster);
        uint256 jobId = market.postJob{value: FEE}(tensorId, randomBytes(1, 64), DEADLINE);
        bytes memory answer = LlmFixture.ids(5, 7, EOS).row();
        vm.expectRevert(abi.encodeWithSelector(OutputLengthMismatch.selector, 12, 10));
        vm.prank(worker);
        market.submitResult{value: BOND}(jobId, Reference.tensorRoot(answer), keccak256("trace"), answer);
    }

    // ----- isSettledOutput -----

    function test_isSettledOutput_llm_succeeds() public {
        uint256 jobId = _post(_input());
        bytes memory output = LlmFixture.ids(5, 7, EOS).row();
        _submit(jobId, output, keccak256("trace"));
        assertEq(market.isSettledOutput(jobId, output), false, "not before settlement");

        vm.warp(START + WINDOW);
        market.finalize(jobId);
        assertEq(market.isSettledOutput(jobId, output), true, "the exact ids");
        assertEq(market.isSettledOutput(jobId, LlmFixture.ids(5, 7).row()), false, "a prefix");
        assertEq(market.isSettledOutput(jobId, LlmFixture.ids(5, 8, EOS).row()), false, "a changed id");
        assertEq(market.isSettledOutput(jobId, LlmFixture.ids(5, 7, EOS, EOS).row()), false, "an extension");
        assertEq(market.isSettledOutput(jobId, abi.encodePacked(output, bytes1(0))), false, "a trailing byte");
        assertEq(market.isSettledOutput(jobId, ""), false, "nothing");
    }

    function test_isSettledOutput_llmUnsettled_succeeds() public {
        uint256 jobId = _post(_input());
        bytes memory output = LlmFixture.ids(5, 7, EOS).row();
        assertEq(market.isSettledOutput(jobId, output), false, "Open");
        assertEq(market.isSettledOutput(99, output), false, "no job");
    }
}

// =====================================================================================================================
// Game: an LLM result walked over its trace's geometry, without an LLM prover (slots 0, n and the padding)
// =====================================================================================================================

/// @notice A hand-built final state of a language-model result: slot 0 the input root, slots 1 … n − 1 made-up roots,
/// slot n the output root, padded with leaf(0x02, 0) to a power of two.
abstract contract LlmGameFixture is LlmJobsFixture {
    struct State {
        bytes32[] slotRoots;
        bytes32[] leaves;
        uint256 depth;
        bytes32 root;
    }

    uint256 internal jobId;
    bytes internal answer;

    function setUp() public virtual override {
        super.setUp();
        vm.deal(makeAddr("challenger2"), 100 ether);
    }

    /// @dev Slot roots of a result with n = 1 + (P + G − 1)·OPS (P = 3).
    function _slotRoots(uint256 generated) internal view returns (bytes32[] memory roots) {
        uint256 n = 1 + (3 + generated - 1) * OPS;
        roots = new bytes32[](n + 1);
        roots[0] = market.getJob(jobId).inputRoot;
        for (uint256 s = 1; s < n; ++s) {
            roots[s] = keccak256(abi.encode("slot", s));
        }
        roots[n] = Reference.tensorRoot(answer);
    }

    function _state(bytes32[] memory slotRoots) internal pure returns (State memory st) {
        st.slotRoots = slotRoots;
        uint256 width = 1;
        while (width < slotRoots.length) {
            width *= 2;
            ++st.depth;
        }
        st.leaves = LlmFixture.stateLeaves(slotRoots, width);
        st.root = Reference.merkle(0x02, st.leaves, bytes32(0));
    }

    /// @dev Posts the default job and submits `answer_` with the trace root of `_slotRoots`' state (built once the
    /// job, and so its input root, is known).
    function _postAndSubmit(int256[] memory answer_) internal returns (State memory st) {
        jobId = _post(_input());
        answer = LlmFixture.row(answer_);
        st = _state(_slotRoots(answer_.length));
        _submit(jobId, answer, LlmFixture.traceRoot(worker, st.root));
    }

    function _challenge() internal returns (uint256 gameId) {
        return _challengeAs(challenger);
    }

    function _challengeAs(address who) internal returns (uint256 gameId) {
        vm.prank(who);
        gameId = game.challenge{value: CB}(jobId);
    }

    function _revealOpening(State memory st) internal {
        uint256 n = st.slotRoots.length - 1;
        game.revealOpening(jobId, st.root, Reference.path(0x02, st.leaves, bytes32(0), n));
    }

    /// @dev Walks game `gameId` down the final state to slot `target`: the defender reveals each node on the way, the
    /// challenger picks toward the target.
    function _walkTo(uint256 gameId, State memory st, uint256 target) internal {
        address who = game.getGame(gameId).challenger;
        for (uint256 d = 0; d < st.depth; ++d) {
            uint256 index = target >> (st.depth - d);
            bytes32 parent = LlmFixture.node(0x02, st.leaves, d, index);
            game.revealNode(
                jobId,
                Tree.State,
                parent,
                LlmFixture.node(0x02, st.leaves, d + 1, 2 * index),
                LlmFixture.node(0x02, st.leaves, d + 1, 2 * index + 1)
            );
            vm.prank(who);
            game.pick(gameId, uint32(d), (target >> (st.depth - d - 1)) & 1 == 1);
        }
    }

    function _assertStatus(uint256 gameId, GameStatus status, string memory what) internal view {
        assertEq(uint256(game.getGame(gameId).status), uint256(status), what);
    }
}

contract LlmGameTest is LlmGameFixture {
    function test_challenge_llmResultOutputSlot_succeeds() public {
        _postAndSubmit(LlmFixture.ids(5, 7, EOS));
        uint256 gameId = _challenge();
        ResultDispute memory d = game.getDispute(jobId, 1);
        // n = 1 + (P + G − 1)·OPS = 1 + (3 + 3 − 1)·43.
        assertEq(d.opCount, 216, "n");
        assertEq(d.opCount, LibLlmTrace.outputSlot(LlmFixture.small(), market.llmLayout(jobId)), "outputSlot");
        assertEq(uint256(d.kind), uint256(ModelKind.Llm), "kind Llm");
        assertEq(d.openGames, 1, "one game");
        Game memory g = game.getGame(gameId);
        assertEq(g.leafDepth, 8, "ceil(log2 217)");
        assertEq(uint256(g.phase), uint256(GamePhase.Slots), "Slots");
        (RevealKind kind,,) = game.pendingReveal(gameId);
        assertEq(uint256(kind), uint256(RevealKind.Opening), "waits for the opening");
    }

    function test_challenge_llmFullBudgetOutputSlot_succeeds() public {
        _postAndSubmit(LlmFixture.ids(5, 7, 8, 9));
        uint256 gameId = _challenge();
        // 1 + (3 + 4 − 1)·43 = 259: 260 slots, 9 levels.
        assertEq(game.getDispute(jobId, 1).opCount, 259, "n");
        assertEq(game.getGame(gameId).leafDepth, 9, "ceil(log2 260)");
    }

    function test_challenge_llmOneTokenOutputSlot_succeeds() public {
        // P = 3, G = 1: the passes over the prompt only, 1 + 3·43.
        _postAndSubmit(LlmFixture.ids(EOS));
        _challenge();
        assertEq(game.getDispute(jobId, 1).opCount, 130, "n");
    }

    function test_challenge_tensorResultOpCount_succeeds() public {
        vm.prank(poster);
        uint256 id = market.postJob{value: FEE}(tensorId, randomBytes(1, 64), DEADLINE);
        bytes memory output = randomBytes(2, 10);
        vm.prank(worker);
        market.submitResult{value: BOND}(id, Reference.tensorRoot(output), keccak256("trace"), output);
        vm.prank(challenger);
        game.challenge{value: CB}(id);
        ResultDispute memory d = game.getDispute(id, 1);
        assertEq(d.opCount, 2, "the op count");
        assertEq(uint256(d.kind), uint256(ModelKind.Tensor), "kind Tensor");
    }

    function test_revealOpening_llmOutputAtSlotN_succeeds() public {
        State memory st = _postAndSubmit(LlmFixture.ids(5, 7, EOS));
        uint256 gameId = _challenge();
        vm.expectEmit(address(game));
        emit IDisputeGame.OpeningRevealed(jobId, 1, st.root);
        _revealOpening(st);
        assertEq(game.revealedOpening(jobId, 1), st.root, "opening");
        (RevealKind kind, Tree tree, bytes32 hash) = game.pendingReveal(gameId);
        assertEq(uint256(kind), uint256(RevealKind.Node), "then the root's children");
        assertEq(uint256(tree), uint256(Tree.State), "of the state");
        assertEq(hash, st.root, "the final state");
    }

    function test_revealOpening_llmOutputOffByOne_reverts() public {
        // The worker's state puts the output at slot n − 1 (one op short): slot n of it is not the output root.
        jobId = _post(_input());
        answer = LlmFixture.row(LlmFixture.ids(5, 7, EOS));
        bytes32[] memory full = _slotRoots(3);
        bytes32[] memory short_ = new bytes32[](full.length - 1);
        for (uint256 s = 0; s < short_.length; ++s) {
            short_[s] = full[s];
        }
        short_[short_.length - 1] = full[full.length - 1];
        State memory st = _state(short_);
        _submit(jobId, answer, LlmFixture.traceRoot(worker, st.root));
        _challenge();

        uint256 n = 216;
        bytes32[] memory path = Reference.path(0x02, st.leaves, bytes32(0), n - 1);
        bytes32 outLeaf = Reference.leaf(0x02, abi.encodePacked(Reference.tensorRoot(answer)));
        bytes32 computed = Reference.climb(0x02, outLeaf, n, path);
        vm.expectRevert(abi.encodeWithSelector(RevealMismatch.selector, computed, st.root));
        game.revealOpening(jobId, st.root, path);
    }

    function test_step_llmGameBeforeStep_reverts() public {
        _postAndSubmit(LlmFixture.ids(5, 7, EOS));
        uint256 gameId = _challenge();
        StepWitness memory w;
        vm.expectRevert(abi.encodeWithSelector(WrongPhase.selector, gameId, GamePhase.Slots));
        game.step(gameId, w);
        LlmWitness memory lw;
        vm.expectRevert(abi.encodeWithSelector(WrongPhase.selector, gameId, GamePhase.Slots));
        game.stepLlm(gameId, lw);
    }

    function test_pick_llmInputSlotHonestDefenderWins_succeeds() public {
        State memory st = _postAndSubmit(LlmFixture.ids(5, 7, EOS));
        uint256 gameId = _challenge();
        _revealOpening(st);
        _walkTo(gameId, st, 0);
        // Slot 0 is leaf(0x02, inputRoot), the input row's root over one row: the contract decides for the defender.
        _assertStatus(gameId, GameStatus.DefenderWon, "DefenderWon");
        assertEq(game.getGame(gameId).slot, 0, "slot 0");
        assertEq(market.credits(worker), CB / 2, "the unburned half of the challenger's bond");
        assertEq(uint256(market.getJob(jobId).status), uint256(JobStatus.Submitted), "the result stands");
    }

    function test_pick_llmInputSlotWrongChallengerWins_succeeds() public {
        jobId = _post(_input());
        answer = LlmFixture.row(LlmFixture.ids(5, 7, EOS));
        bytes32[] memory roots = _slotRoots(3);
        // The input row in rows of one int32 is not the committed input root.
        roots[0] = Reference.tensorRoot(_input(), 4);
        State memory st = _state(roots);
        _submit(jobId, answer, LlmFixture.traceRoot(worker, st.root));
        uint256 gameId = _challenge();
        _revealOpening(st);
        _walkTo(gameId, st, 0);
        _assertStatus(gameId, GameStatus.ChallengerWon, "ChallengerWon");
        assertEq(uint256(market.getJob(jobId).status), uint256(JobStatus.Open), "the job re-opens");
        assertTrue(game.getDispute(jobId, 1).overturned, "overturned");
    }

    function test_pick_llmPaddingSlotHonestDefenderWins_succeeds() public {
        State memory st = _postAndSubmit(LlmFixture.ids(5, 7, EOS));
        uint256 gameId = _challenge();
        _revealOpening(st);
        // n = 216: slot 217 is the first padding slot of the 256.
        _walkTo(gameId, st, 217);
        _assertStatus(gameId, GameStatus.DefenderWon, "DefenderWon");
        assertEq(game.getGame(gameId).slot, 217, "slot 217");
    }

    function test_pick_llmPaddingSlotWrongChallengerWins_succeeds() public {
        jobId = _post(_input());
        answer = LlmFixture.row(LlmFixture.ids(5, 7, EOS));
        State memory st = _state(_slotRoots(3));
        // A defender whose tree has something in padding slot 255.
        st.leaves[255] = Reference.leaf(0x02, abi.encodePacked(keccak256("junk")));
        st.root = Reference.merkle(0x02, st.leaves, bytes32(0));
        _submit(jobId, answer, LlmFixture.traceRoot(worker, st.root));
        uint256 gameId = _challenge();
        _revealOpening(st);
        _walkTo(gameId, st, 255);
        _assertStatus(gameId, GameStatus.ChallengerWon, "ChallengerWon");
        assertEq(uint256(market.getJob(jobId).status), uint256(JobStatus.Open), "the job re-opens");
    }

    function test_challenge_llmResubmittedAnswerNewLength_succeeds() public {
        // A result overturned at slot 0, then another answer of another length: the new result's n follows it.
        jobId = _post(_input());
        answer = LlmFixture.row(LlmFixture.ids(5, 7, EOS));
        bytes32[] memory roots = _slotRoots(3);
        roots[0] = keccak256("not the input");
        State memory st = _state(roots);
        _submit(jobId, answer, LlmFixture.traceRoot(worker, st.root));
        uint256 gameId = _challenge();
        _revealOpening(st);
        _walkTo(gameId, st, 0);
        _assertStatus(gameId, GameStatus.ChallengerWon, "overturned");

        _submit(jobId, LlmFixture.row(LlmFixture.ids(5, 7, 8, 9)), keccak256("trace 2"));
        _assertLayout(jobId, 3, 4, 4);
        _challenge();
        assertEq(game.getDispute(jobId, 2).opCount, 259, "n of the second result");
        assertEq(game.getDispute(jobId, 1).opCount, 216, "n of the first");
    }
}

// =====================================================================================================================
// Game: down to phase Step, with the slot geometry from a stub (LlmGeometryStub: geometry only, no element computed)
// =====================================================================================================================

contract LlmGameStepTest is LlmGameFixture {
    function _llmProver() internal override returns (ILlmStepProver) {
        return new LlmGeometryStub(registry);
    }

    /// @dev Reveals slot `s`'s tensor root and walks its tensor (leaves `words`, padded with zero words) to leaf
    /// `leafIndex`, revealing that leaf.
    function _walkTensor(uint256 gameId, State memory st, uint256 s, bytes32[] memory words, uint256 leafIndex)
        internal
    {
        Game memory g = game.getGame(gameId);
        uint256 width = uint256(1) << g.leafDepth;
        bytes32[] memory leaves = new bytes32[](width);
        for (uint256 i = 0; i < width; ++i) {
            leaves[i] = Reference.leaf(0x01, abi.encodePacked(i < words.length ? words[i] : bytes32(0)));
        }
        assertEq(Reference.merkle(0x01, leaves, bytes32(0)), st.slotRoots[s], "the slot's tensor root");
        (RevealKind kind,, bytes32 hash) = game.pendingReveal(gameId);
        assertEq(uint256(kind), uint256(RevealKind.Slot), "waits for the slot");
        assertEq(hash, st.leaves[s], "the slot's state leaf");
        game.revealSlot(jobId, st.leaves[s], st.slotRoots[s]);
        for (uint256 d = 0; d < g.leafDepth; ++d) {
            uint256 index = leafIndex >> (g.leafDepth - d);
            game.revealNode(
                jobId,
                Tree.Tensor,
                LlmFixture.node(0x01, leaves, d, index),
                LlmFixture.node(0x01, leaves, d + 1, 2 * index),
                LlmFixture.node(0x01, leaves, d + 1, 2 * index + 1)
            );
            vm.prank(g.challenger);
            game.pick(gameId, g.moves + uint32(d), (leafIndex >> (g.leafDepth - d - 1)) & 1 == 1);
        }
        game.revealLeaf(jobId, leaves[leafIndex], words[leafIndex]);
    }

    /// @dev Tensor root of `words` as a tensor's leaves.
    function _tensorRoot(bytes32[] memory words) internal pure returns (bytes32) {
        bytes memory data;
        for (uint256 i = 0; i < words.length; ++i) {
            data = abi.encodePacked(data, words[i]);
        }
        return Reference.tensorRoot(data, 32);
    }

    function _words(uint256 count, uint256 seed) internal pure returns (bytes32[] memory words) {
        words = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            words[i] = keccak256(abi.encode(seed, i));
        }
    }

    function _name(uint256 gameId, uint8 offset) internal {
        Game memory g = game.getGame(gameId);
        vm.prank(g.challenger);
        game.nameElement(gameId, g.moves, offset);
    }

    function _expectName(uint256 gameId, uint8 offset, bytes memory revertData) internal {
        Game memory g = game.getGame(gameId);
        vm.expectRevert(revertData);
        vm.prank(g.challenger);
        game.nameElement(gameId, g.moves, offset);
    }

    function _outputWords() internal view returns (bytes32[] memory words) {
        words = new bytes32[](1);
        words[0] = bytes32(answer);
    }

    function test_pick_llmOpSlotsTensorDepthFromGeometry_succeeds() public {
        State memory st = _postAndSubmit(LlmFixture.ids(5, 7, EOS));
        address challenger2 = makeAddr("challenger2");
        // Slot 1 + p·43 + o. Slot 1: EMBED of pass 0, [1][64] i32 = 8 leaves. Slot 7: block 0's ROPE k, [1][W = 32]
        // i16 = 2 leaves. Slot 8: APPEND, [W = 32][N = 6] i16, one leaf a row. Slot 95: SCORE of pass 2, [H = 4][3]
        // i32, one leaf a row. Slot 216 = n: the output, [1][3] i32 in one leaf.
        uint256[5] memory slots = [uint256(1), 7, 8, 95, 216];
        uint256[5] memory depths = [uint256(3), 1, 5, 2, 0];
        for (uint256 i = 0; i < slots.length; ++i) {
            uint256 gameId = _challengeAs(i % 2 == 0 ? challenger : challenger2);
            // The opening is revealed once per result, for all its games (a node revealed again keeps its first time).
            if (i == 0) _revealOpening(st);
            _walkTo(gameId, st, slots[i]);
            Game memory g = game.getGame(gameId);
            assertEq(uint256(g.phase), uint256(GamePhase.Tensor), "Tensor");
            assertEq(g.slot, slots[i], "slot");
            assertEq(g.leafDepth, depths[i], "ceil(log2 leaves)");
        }
    }

    function test_nameElement_llmOutputSlotAligned_succeeds() public {
        State memory st = _postAndSubmit(LlmFixture.ids(5, 7, EOS));
        uint256 gameId = _challenge();
        _revealOpening(st);
        _walkTo(gameId, st, 216);
        _walkTensor(gameId, st, 216, _outputWords(), 0);
        _expectName(gameId, 2, abi.encodeWithSelector(MisalignedElement.selector, 2, 4));
        _expectName(gameId, 31, abi.encodeWithSelector(MisalignedElement.selector, 31, 4));
        _expectName(gameId, 32, abi.encodeWithSelector(OffsetOutOfRange.selector, 32));
        vm.expectEmit(address(game));
        emit IDisputeGame.ElementNamed(gameId, 4);
        _name(gameId, 4);
        Game memory g = game.getGame(gameId);
        assertEq(uint256(g.phase), uint256(GamePhase.Step), "Step");
        assertEq(g.offset, 4, "offset");
    }

    function test_step_llmGame_reverts() public {
        State memory st = _postAndSubmit(LlmFixture.ids(5, 7, EOS));
        uint256 gameId = _challenge();
        _revealOpening(st);
        _walkTo(gameId, st, 216);
        _walkTensor(gameId, st, 216, _outputWords(), 0);
        _name(gameId, 4);
        StepWitness memory w;
        vm.expectRevert(abi.encodeWithSelector(WrongModelKind.selector, gameId, ModelKind.Llm));
        game.step(gameId, w);
    }

    function test_stepLlm_outputPaddingDefenderWins_succeeds() public {
        // Byte 12 of the output's leaf is column 3 of a row of G = 3 ids: padding, true value 0, no witness needed.
        State memory st = _postAndSubmit(LlmFixture.ids(5, 7, EOS));
        uint256 gameId = _challenge();
        _revealOpening(st);
        _walkTo(gameId, st, 216);
        _walkTensor(gameId, st, 216, _outputWords(), 0);
        _name(gameId, 12);
        LlmWitness memory w;
        vm.expectEmit(address(game));
        emit IDisputeGame.LlmStepProven(gameId, 216, type(uint256).max, 0, 0);
        game.stepLlm(gameId, w);
        _assertStatus(gameId, GameStatus.DefenderWon, "DefenderWon");
    }

    function test_stepLlm_lyingPaddingChallengerWins_succeeds() public {
        // Slot 43 is ARGMAX2 of pass 0: [1][1] i32, bytes 4 … 31 of its leaf are padding. This defender put 5 there.
        jobId = _post(_input());
        answer = LlmFixture.row(LlmFixture.ids(5, 7, EOS));
        bytes32[] memory words = new bytes32[](1);
        words[0] = bytes32((uint256(7) << 224) | (uint256(5) << 192));
        bytes32[] memory roots = _slotRoots(3);
        roots[43] = _tensorRoot(words);
        State memory st = _state(roots);
        _submit(jobId, answer, LlmFixture.traceRoot(worker, st.root));
        uint256 gameId = _challenge();
        _revealOpening(st);
        _walkTo(gameId, st, 43);
        _walkTensor(gameId, st, 43, words, 0);
        _name(gameId, 4);
        LlmWitness memory w;
        vm.expectEmit(address(game));
        emit IDisputeGame.LlmStepProven(gameId, 43, type(uint256).max, 5, 0);
        game.stepLlm(gameId, w);
        _assertStatus(gameId, GameStatus.ChallengerWon, "ChallengerWon");
        assertEq(uint256(market.getJob(jobId).status), uint256(JobStatus.Open), "the job re-opens");
    }

    function test_stepLlm_computedElementAsksLlmProver_reverts() public {
        // Offset 0 of slot 43 is element 0, a computed one: the game hands (slot, e) to the LLM prover.
        jobId = _post(_input());
        answer = LlmFixture.row(LlmFixture.ids(5, 7, EOS));
        bytes32[] memory words = new bytes32[](1);
        words[0] = bytes32(uint256(7) << 224);
        bytes32[] memory roots = _slotRoots(3);
        roots[43] = _tensorRoot(words);
        State memory st = _state(roots);
        _submit(jobId, answer, LlmFixture.traceRoot(worker, st.root));
        uint256 gameId = _challenge();
        _revealOpening(st);
        _walkTo(gameId, st, 43);
        _walkTensor(gameId, st, 43, words, 0);
        _name(gameId, 0);
        LlmWitness memory w;
        vm.expectRevert(abi.encodeWithSelector(LlmGeometryStub.StubComputesNothing.selector, 43, 0));
        game.stepLlm(gameId, w);
    }

    function test_nameElement_llmTwoByteSlotMisaligned_reverts() public {
        // Slot 2 is block 0's ATTN_NORM of pass 0: [1][64] i16, 4 leaves of 16 elements.
        jobId = _post(_input());
        answer = LlmFixture.row(LlmFixture.ids(5, 7, EOS));
        bytes32[] memory words = _words(4, 2);
        bytes32[] memory roots = _slotRoots(3);
        roots[2] = _tensorRoot(words);
        State memory st = _state(roots);
        _submit(jobId, answer, LlmFixture.traceRoot(worker, st.root));
        uint256 gameId = _challenge();
        _revealOpening(st);
        _walkTo(gameId, st, 2);
        assertEq(game.getGame(gameId).leafDepth, 2, "4 leaves");
        _walkTensor(gameId, st, 2, words, 1);
        _expectName(gameId, 3, abi.encodeWithSelector(MisalignedElement.selector, 3, 2));
        _expectName(gameId, 31, abi.encodeWithSelector(MisalignedElement.selector, 31, 2));
        _name(gameId, 30);
        assertEq(uint256(game.getGame(gameId).phase), uint256(GamePhase.Step), "Step");
    }

    function test_stepLlm_tensorGame_reverts() public {
        // A tensor model's result (dense → relu, 3 slots) walked to slot 1 and an element named there.
        bytes memory input = randomBytes(1, 64);
        bytes memory output = randomBytes(2, 10);
        vm.prank(poster);
        jobId = market.postJob{value: FEE}(tensorId, input, DEADLINE);
        bytes32[] memory words = new bytes32[](1);
        words[0] = bytes32(bytes10(randomBytes(3, 10)));
        bytes32[] memory roots = new bytes32[](3);
        (roots[0], roots[1], roots[2]) =
        (Reference.tensorRoot(input, 64), _tensorRoot(words), Reference.tensorRoot(output));
        State memory st = _state(roots);
        vm.prank(worker);
        market.submitResult{value: BOND}(jobId, roots[2], LlmFixture.traceRoot(worker, st.root), output);
        uint256 gameId = _challenge();
        _revealOpening(st);
        _walkTo(gameId, st, 1);
        _walkTensor(gameId, st, 1, words, 0);
        _name(gameId, 3);
        LlmWitness memory w;
        vm.expectRevert(abi.encodeWithSelector(WrongModelKind.selector, gameId, ModelKind.Tensor));
        game.stepLlm(gameId, w);
    }
}
