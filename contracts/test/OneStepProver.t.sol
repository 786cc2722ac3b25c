// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {ModelRegistry} from "../src/ModelRegistry.sol";
import {OneStepProver} from "../src/OneStepProver.sol";
import {IModelRegistry} from "../src/interfaces/IModelRegistry.sol";
import {IOneStepProver, RowProof, SlotProof, StepWitness} from "../src/interfaces/IOneStepProver.sol";
import {
    AccumulatorOverflow,
    AvgPoolTapOutside,
    BadSpecLength,
    ElementOutOfRange,
    InputRootMismatch,
    InvalidClamp,
    InvalidRequant,
    LeafIndexOutOfRange,
    ModelNotActive,
    OpOutOfRange,
    OperandNotWritten,
    OperandShapeMismatch,
    PathLengthMismatch,
    RowLengthMismatch,
    RowPathLengthMismatch,
    RowRootMismatch,
    SlotRootMismatch,
    UnexpectedWitnessData,
    UnknownModel,
    UnknownOpCode,
    WeightRootMismatch,
    WeightRowLengthMismatch,
    WitnessInputLength,
    WrongRowCount,
    WrongSlotCount,
    ZeroRegistry
} from "../src/lib/Errors.sol";
import {ModelStatus, TensorShape} from "../src/lib/Types.sol";
import {Base} from "./Base.t.sol";
import {OpFixture, TestModel, TestOp, TestRow} from "./utils/OpFixture.sol";
import {Reference} from "./utils/Reference.sol";
import {ReferenceExec} from "./utils/ReferenceExec.sol";
import {Agreed, Witness} from "./utils/Witness.sol";

/// @notice Shared setup: a real registry and prover, and helpers to activate test models and check elements.
abstract contract ProverFixture is Base {
    ModelRegistry internal registry;
    OneStepProver internal prover;
    address internal owner;

    function setUp() public virtual {
        registry = new ModelRegistry();
        prover = new OneStepProver(registry);
        owner = makeAddr("owner");
    }

    /// @notice Registers, publishes (each op in two chunks where it has several leaves) and seals `m`.
    function _activate(TestModel memory m) internal returns (uint256 id) {
        return _activateRaw(m.input, m.inputZero, OpFixture.output(m), OpFixture.allLeaves(m));
    }

    /// @notice Registers a 1-op model given as raw leaves and publishes them, without sealing.
    function _publishRaw(TensorShape memory input, int8 inputZero, TensorShape memory output, bytes[][] memory ops)
        internal
        returns (uint256 id)
    {
        vm.startPrank(owner);
        id = registry.registerModel(
            Reference.modelRoot(input, inputZero, output, ops), 1, input, inputZero, output, 0, 0, ""
        );
        registry.publishLeaves(id, 0, ops[0]);
        vm.stopPrank();
    }

    /// @notice Activates a model given as raw op leaves (specs that decode; the registry parses no more than that).
    function _activateRaw(TensorShape memory input, int8 inputZero, TensorShape memory output, bytes[][] memory ops)
        internal
        returns (uint256 id)
    {
        bytes32 root = Reference.modelRoot(input, inputZero, output, ops);
        vm.startPrank(owner);
        // forge-lint: disable-next-line(unsafe-typecast)
        id = registry.registerModel(root, uint32(ops.length), input, inputZero, output, 0, 0, "");
        for (uint256 k = 0; k < ops.length; ++k) {
            // forge-lint: disable-next-line(unsafe-typecast)
            uint32 op = uint32(k);
            uint256 half = (ops[k].length + 1) / 2;
            registry.publishLeaves(id, op, _slice(ops[k], 0, half));
            if (half < ops[k].length) registry.publishLeaves(id, op, _slice(ops[k], half, ops[k].length));
            registry.sealOp(id, op);
        }
        vm.stopPrank();
        assertEq(uint256(registry.getModel(id).status), uint256(ModelStatus.Active), "active");
    }

    function _slice(bytes[] memory a, uint256 from, uint256 to) internal pure returns (bytes[] memory out) {
        out = new bytes[](to - from);
        for (uint256 i = from; i < to; ++i) {
            out[i - from] = a[i];
        }
    }

    /// @notice The prover's element e of op a.k, checked against the reference interpreter's.
    function _check(uint256 id, Agreed memory a, uint256 e) internal view returns (int8 got) {
        got = _prove(id, a, e, Witness.build(a, e));
        assertEqInt(got, Witness.expected(a, e), "element vs reference");
    }

    function _prove(uint256 id, Agreed memory a, uint256 e, StepWitness memory w) internal view returns (int8) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return prover.trueElement(id, uint32(a.k), a.stateRoot, e, w);
    }

    /// @notice Random slot tensors of the model's shapes (the prover only checks data against σ_k, never that
    /// earlier slots follow from earlier ops).
    function _randomSlots(TestModel memory m, uint256 seed) internal pure returns (bytes[] memory slots) {
        TensorShape[] memory shapes = OpFixture.slotShapes(m);
        slots = new bytes[](shapes.length);
        for (uint256 i = 0; i < shapes.length; ++i) {
            slots[i] = randomBytes(uint256(keccak256(abi.encode(seed, i))), OpFixture.count(shapes[i]));
        }
    }

    function _r(uint256 seed, uint256 i) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, i)));
    }

    /// @notice A random int8 from (seed, i).
    function _i8(uint256 seed, uint256 i) internal pure returns (int8) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return int8(int256(_r(seed, i) % 256) - 128);
    }

    /// @notice Random ordered clamp bounds.
    function _bounds(uint256 seed, uint256 i) internal pure returns (int8 lo, int8 hi) {
        lo = _i8(seed, i);
        hi = _i8(seed, i + 1);
        if (lo > hi) (lo, hi) = (hi, lo);
    }

    /// @notice A requantization: half the time anywhere in the allowed ranges (mostly saturating), half the time
    /// with a multiplier near 2^30 and a shift that keeps typical outputs inside int8.
    function _requant(uint256 seed, uint256 i, uint8 sLo, uint8 sSpan) internal pure returns (int32 m, uint8 s) {
        if (_r(seed, i) % 2 == 0) {
            // forge-lint: disable-next-line(unsafe-typecast)
            m = int32(int256(1 + _r(seed, i + 1) % uint256(uint32(type(int32).max))));
            // forge-lint: disable-next-line(unsafe-typecast)
            s = uint8(1 + _r(seed, i + 2) % 62);
        } else {
            // forge-lint: disable-next-line(unsafe-typecast)
            m = int32(int256((1 << 30) + _r(seed, i + 1) % (1 << 30)));
            // forge-lint: disable-next-line(unsafe-typecast)
            s = uint8(sLo + _r(seed, i + 2) % sSpan);
        }
    }

    /// @notice `n` in [1, max] from (seed, i).
    function _n(uint256 seed, uint256 i, uint256 max) internal pure returns (uint32) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint32(1 + _r(seed, i) % max);
    }
}

contract OneStepProverTest is ProverFixture {
    uint256 internal constant SEED = 0x5eed;

    uint256 internal everyOpId;

    function setUp() public override {
        super.setUp();
        everyOpId = _activate(OpFixture.everyOp(SEED));
    }

    // ----- construction -----

    function test_constructor_registry_succeeds() public view {
        assertEq(address(prover.registry()), address(registry), "registry");
    }

    function test_constructor_zeroRegistry_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(ZeroRegistry.selector));
        new OneStepProver(IModelRegistry(address(0)));
    }

    // ----- every op of a real model, run by the reference interpreter -----

    function test_trueElement_everyOpOfARealModel_succeeds() public {
        TestModel memory m = OpFixture.everyOp(SEED);
        bytes[] memory slots = ReferenceExec.run(m, randomBytes(0x1a, 108));
        for (uint256 k = 0; k < m.ops.length; ++k) {
            Agreed memory a = Witness.agree(m, slots, k);
            TensorShape memory out = m.ops[k].out;
            uint256 count = OpFixture.count(out);
            // The corners (padding taps for the windowed ops), the last element, and a few others.
            uint256[6] memory es = [
                0,
                count - 1,
                (out.w - 1) * out.c + 1 % out.c,
                ((out.h - 1) * out.w) * out.c + 2 % out.c,
                _r(k, 1) % count,
                _r(k, 2) % count
            ];
            for (uint256 i = 0; i < es.length; ++i) {
                int8 got = _check(everyOpId, a, es[i]);
                // The reference run's own output at slot k + 1.
                // forge-lint: disable-next-line(unsafe-typecast)
                assertEqInt(got, int8(uint8(slots[k + 1][es[i]])), "element vs the run's slot");
            }
        }
    }

    // ----- per-op fuzz tests against the plain formula -----

    function testFuzz_trueElement_dense_matchesReference_succeeds(uint256 seed) public {
        _fuzzOne(_denseModel(seed), seed, 0);
    }

    function testFuzz_trueElement_conv2d_matchesReference_succeeds(uint256 seed) public {
        _fuzzOne(_convModel(seed), seed, 0);
    }

    function _denseModel(uint256 seed) internal pure returns (TestModel memory) {
        TensorShape memory input = OpFixture.shape(_n(seed, 0, 3), _n(seed, 1, 3), _n(seed, 2, 40));
        (int32 m, uint8 s) = _requant(seed, 3, 36, 16);
        // |bias| < 2^30 keeps |acc| < 2^31 (K·255·127 ≤ 360·255·127 < 2^24).
        int32 biasRange = _r(seed, 6) % 2 == 0 ? int32(1000) : int32(1 << 30);
        TestRow[] memory rows = OpFixture.makeRows(seed, _n(seed, 7, 8), OpFixture.count(input), biasRange, m, s);
        (int8 lo, int8 hi) = _bounds(seed, 8);
        TestOp memory op = OpFixture.dense(0, _i8(seed, 10), rows, _i8(seed, 11), lo, hi);
        return OpFixture.model(input, _i8(seed, 10), OpFixture.one(op));
    }

    function _convModel(uint256 seed) internal pure returns (TestModel memory) {
        TensorShape memory input = OpFixture.shape(_n(seed, 0, 6), _n(seed, 1, 6), _n(seed, 2, 40));
        uint8[6] memory win = _window(seed, input, 3, true);
        TensorShape memory out = _windowOut(seed, input, win, _n(seed, 20, 5), false);
        TestRow[] memory rows = _convRows(seed, out.c, uint256(win[0]) * win[1] * input.c);
        (int8 lo, int8 hi) = _bounds(seed, 24);
        TestOp memory op = OpFixture.conv2d(0, _i8(seed, 26), win, out, rows, _i8(seed, 27), lo, hi);
        return OpFixture.model(input, _i8(seed, 26), OpFixture.one(op));
    }

    function _convRows(uint256 seed, uint256 n, uint256 kk) internal pure returns (TestRow[] memory) {
        (int32 m, uint8 s) = _requant(seed, 21, 36, 16);
        int32 biasRange = _r(seed, 23) % 2 == 0 ? int32(1000) : int32(1 << 30);
        return OpFixture.makeRows(seed, n, kk, biasRange, m, s);
    }

    function testFuzz_trueElement_clamp_matchesReference_succeeds(uint256 seed) public {
        TensorShape memory s = OpFixture.shape(_n(seed, 0, 5), _n(seed, 1, 5), _n(seed, 2, 70));
        (int8 lo, int8 hi) = _bounds(seed, 3);
        int8 z = _i8(seed, 5);
        _fuzzOne(OpFixture.model(s, z, OpFixture.one(OpFixture.clamp(0, s, z, lo, hi))), seed, 0);
    }

    function testFuzz_trueElement_maxPool_matchesReference_succeeds(uint256 seed) public {
        TensorShape memory input = OpFixture.shape(_n(seed, 0, 6), _n(seed, 1, 6), _n(seed, 2, 40));
        uint8[6] memory win = _window(seed, input, 3, true);
        TensorShape memory out = _windowOut(seed, input, win, input.c, false);
        int8 z = _i8(seed, 21);
        _fuzzOne(OpFixture.model(input, z, OpFixture.one(OpFixture.maxPool(0, win, out, z))), seed, 0);
    }

    function testFuzz_trueElement_avgPool_matchesReference_succeeds(uint256 seed) public {
        TensorShape memory input = OpFixture.shape(_n(seed, 0, 6), _n(seed, 1, 6), _n(seed, 2, 40));
        uint8[6] memory win = _window(seed, input, 3, false);
        TensorShape memory out = _windowOut(seed, input, win, input.c, true);
        (int32 m, uint8 s) = _requant(seed, 21, 30, 14);
        (int8 lo, int8 hi) = _bounds(seed, 24);
        TestOp memory op = OpFixture.avgPool(
            0, _i8(seed, 26), win, out, TestRow({bias: 0, m: m, s: s, weights: ""}), _i8(seed, 27), lo, hi
        );
        _fuzzOne(OpFixture.model(input, _i8(seed, 26), OpFixture.one(op)), seed, 0);
    }

    function testFuzz_trueElement_add_matchesReference_succeeds(uint256 seed) public {
        TensorShape memory s = OpFixture.shape(_n(seed, 0, 5), _n(seed, 1, 5), _n(seed, 2, 70));
        (int8 lo0, int8 hi0) = _bounds(seed, 3);
        int8 z0 = _i8(seed, 5);
        // op 0 makes a second tensor of the same shape (slot 1); op 1 adds two of slots 0 and 1, in either order.
        TestOp[] memory ops = OpFixture.two(OpFixture.clamp(0, s, z0, lo0, hi0), _addOp(seed, s, z0));
        _fuzzOne(OpFixture.model(s, z0, ops), seed, 1);
    }

    function _addOp(uint256 seed, TensorShape memory s, int8 z0) internal pure returns (TestOp memory op) {
        // forge-lint: disable-next-line(unsafe-typecast)
        op = OpFixture.add(uint16(_r(seed, 14) % 2), z0, 1, uint16(_r(seed, 15) % 2), z0, 1, 1, s, _i8(seed, 16), 0, 0);
        (op.mA,) = _requant(seed, 6, 1, 1);
        (op.mB, op.s) = _requant(seed, 9, 28, 8);
        (op.lo, op.hi) = _bounds(seed, 12);
    }

    function testFuzz_trueElement_reshape_matchesReference_succeeds(uint256 seed) public {
        uint32 h = _n(seed, 0, 5);
        uint32 w = _n(seed, 1, 5);
        uint32 c = _n(seed, 2, 40);
        TensorShape[6] memory outs = [
            OpFixture.shape(h, w, c),
            OpFixture.shape(w, c, h),
            OpFixture.shape(c, h, w),
            OpFixture.shape(1, 1, h * w * c),
            OpFixture.shape(h * w * c, 1, 1),
            OpFixture.shape(1, h * w, c)
        ];
        int8 z = _i8(seed, 3);
        TestOp memory op = OpFixture.reshape(0, outs[_r(seed, 4) % 6], z);
        _fuzzOne(OpFixture.model(OpFixture.shape(h, w, c), z, OpFixture.one(op)), seed, 0);
    }

    /// @notice Activates `m`, runs it on a random input and checks a random element of op k (and element 0 and the
    /// last one).
    function _fuzzOne(TestModel memory m, uint256 seed, uint256 k) internal {
        uint256 id = _activate(m);
        Agreed memory a = Witness.run(m, randomBytes(seed, OpFixture.count(m.input)), k);
        uint256 count = OpFixture.count(m.ops[k].out);
        _check(id, a, _r(seed, 99) % count);
        _check(id, a, 0);
        _check(id, a, count - 1);
    }

    /// @notice A random valid window on `input`: kernel 1 … maxK (at most the input for `padded` = false, which
    /// has no padding), strides 1 … 3, padding < kernel.
    function _window(uint256 seed, TensorShape memory input, uint256 maxK, bool padded)
        internal
        pure
        returns (uint8[6] memory win)
    {
        uint256 kh = 1 + _r(seed, 10) % (padded ? maxK : _min(maxK, input.h));
        uint256 kw = 1 + _r(seed, 11) % (padded ? maxK : _min(maxK, input.w));
        // forge-lint: disable-next-line(unsafe-typecast)
        win[0] = uint8(kh);
        // forge-lint: disable-next-line(unsafe-typecast)
        win[1] = uint8(kw);
        // forge-lint: disable-next-line(unsafe-typecast)
        win[2] = uint8(1 + _r(seed, 12) % 3);
        // forge-lint: disable-next-line(unsafe-typecast)
        win[3] = uint8(1 + _r(seed, 13) % 3);
        // forge-lint: disable-next-line(unsafe-typecast)
        win[4] = padded ? uint8(_r(seed, 14) % kh) : 0;
        // forge-lint: disable-next-line(unsafe-typecast)
        win[5] = padded ? uint8(_r(seed, 15) % kw) : 0;
    }

    /// @notice A random valid output shape for the window: every window overlaps the input ((out − 1)·stride <
    /// in + pad), or lies inside it for `inside` ((out − 1)·stride + kernel ≤ in).
    function _windowOut(uint256 seed, TensorShape memory input, uint8[6] memory win, uint32 c, bool inside)
        internal
        pure
        returns (TensorShape memory)
    {
        uint256 maxH = inside ? (input.h - win[0]) / win[2] + 1 : (input.h + win[4] - 1) / win[2] + 1;
        uint256 maxW = inside ? (input.w - win[1]) / win[3] + 1 : (input.w + win[5] - 1) / win[3] + 1;
        return OpFixture.shape(_n(seed, 16, maxH), _n(seed, 17, maxW), c);
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    // ----- padding taps -----

    function test_trueElement_conv2dCornerSkipsPadding_succeeds() public {
        TestModel memory m = OpFixture.everyOp(SEED);
        Agreed memory a = Witness.run(m, randomBytes(0x2b, 108), 0);
        // Output pixel (0, 0) of a 3×3, padding-1 conv: only the 2×2 taps at (1, 1) … (2, 2) of the kernel are
        // inside; (0, 5) and (5, 5): likewise 2×2; an edge pixel (0, 2): 2×3; an interior pixel: all 9.
        uint256[5] memory pixels = [uint256(0), 5, 35, 2, 14];
        uint256[5] memory taps = [uint256(4), 4, 4, 6, 9];
        for (uint256 i = 0; i < pixels.length; ++i) {
            uint256 e = pixels[i] * 40 + 7;
            assertEq(Witness.build(a, e).rows.length, taps[i], "taps inside");
            _check(everyOpId, a, e);
        }
    }

    function test_trueElement_maxPoolPaddingNeverWins_succeeds() public {
        // Every input element is −120: with padding counted as −128 the max is −120 at the corners too.
        TensorShape memory s = OpFixture.shape(4, 4, 3);
        TestOp memory op = OpFixture.maxPool(0, [uint8(3), 3, 2, 2, 1, 1], OpFixture.shape(2, 2, 3), -120);
        TestModel memory m = OpFixture.model(s, -120, OpFixture.one(op));
        uint256 id = _activate(m);
        bytes memory input = new bytes(48);
        for (uint256 i = 0; i < 48; ++i) {
            input[i] = bytes1(uint8(136)); // −120
        }
        Agreed memory a = Witness.run(m, input, 0);
        for (uint256 e = 0; e < 12; ++e) {
            assertEqInt(_check(id, a, e), -120, "max of -120s");
        }
        assertEq(Witness.build(a, 0).rows.length, 4, "corner window: 2x2 taps inside");
    }

    function test_trueElement_conv2dPaddingHoldsZeroPoint_succeeds() public {
        // A 3×3 conv with padding 1 and all weights 1 over an input of z_x everywhere but one element: every output
        // is bias + (x − z_x) where the window covers it, bias elsewhere; the padding adds nothing.
        TensorShape memory s = OpFixture.shape(3, 3, 1);
        TestRow[] memory rows = new TestRow[](1);
        rows[0] = TestRow({bias: 10, m: 1, s: 1, weights: hex"010101010101010101"});
        TestOp memory op =
            OpFixture.conv2d(0, 40, [uint8(3), 3, 1, 1, 1, 1], OpFixture.shape(3, 3, 1), rows, 0, -128, 127);
        TestModel memory m = OpFixture.model(s, 40, OpFixture.one(op));
        uint256 id = _activate(m);
        bytes memory input = new bytes(9);
        for (uint256 i = 0; i < 9; ++i) {
            input[i] = bytes1(uint8(40));
        }
        input[0] = bytes1(uint8(50)); // x − z_x = 10 at (0, 0)
        Agreed memory a = Witness.run(m, input, 0);
        // (acc·1 + 1) >> 1: acc = 20 → 10 at (0,0), (0,1), (1,0), (1,1); acc = 10 → 5 elsewhere.
        int8[9] memory want = [int8(10), 10, 5, 10, 10, 5, 5, 5, 5];
        for (uint256 e = 0; e < 9; ++e) {
            assertEqInt(_check(id, a, e), want[e], "padding contributes 0");
        }
    }

    // ----- rounding: half up, also for negative ties (PROTOCOL §1.1 worked examples) -----

    function test_trueElement_denseWorkedExamples_succeeds() public {
        // Weight 0: acc = bias. Rows: (acc, M, s) of every PROTOCOL §1.1 example.
        int32[7] memory acc = [int32(5), -5, -7, -6, -10, 100, -1000];
        int32[7] memory mult = [int32(1), 1, 1, 1, 1, 3, 1 << 30];
        uint8[7] memory shift = [uint8(1), 1, 1, 2, 2, 3, 40];
        int8[7] memory want = [int8(3), -2, -3, -1, -2, 38, -1];
        TestRow[] memory rows = new TestRow[](7);
        for (uint256 i = 0; i < 7; ++i) {
            rows[i] = TestRow({bias: acc[i], m: mult[i], s: shift[i], weights: hex"00"});
        }
        TestModel memory m =
            OpFixture.model(OpFixture.vec1(), 0, OpFixture.one(OpFixture.dense(0, 0, rows, 0, -128, 127)));
        uint256 id = _activate(m);
        Agreed memory a = Witness.run(m, hex"17", 0);
        for (uint256 e = 0; e < 7; ++e) {
            assertEqInt(_check(id, a, e), want[e], "worked example");
        }
    }

    function test_trueElement_addNegativeTie_succeeds() public {
        // y = (2v + 2) >> 2 for v = a = b: v = −5 → −2.5 → −2 (gemmlowp: −3); −3 → −1; 5 → 3; −1 → 0.
        TensorShape memory s = OpFixture.shape(1, 1, 4);
        TestModel memory m = OpFixture.model(s, 0, OpFixture.one(OpFixture.add(0, 0, 1, 0, 0, 1, 2, s, 0, -128, 127)));
        uint256 id = _activate(m);
        Agreed memory a = Witness.run(m, hex"fbfd05ff", 0);
        int8[4] memory want = [int8(-2), -1, 3, 0];
        for (uint256 e = 0; e < 4; ++e) {
            assertEqInt(_check(id, a, e), want[e], "add tie");
        }
    }

    function test_trueElement_avgPoolNegativeTie_succeeds() public {
        // Σ(x − 0) = −5 over a 2×2 window, M = 1, s = 1: (−5 + 1) >> 1 = −2 (−2.5 rounds up).
        TestOp memory op = OpFixture.avgPool(
            0,
            0,
            [uint8(2), 2, 1, 1, 0, 0],
            OpFixture.shape(1, 1, 1),
            TestRow({bias: 0, m: 1, s: 1, weights: ""}),
            0,
            -128,
            127
        );
        TestModel memory m = OpFixture.model(OpFixture.shape(2, 2, 1), 0, OpFixture.one(op));
        uint256 id = _activate(m);
        assertEqInt(_check(id, Witness.run(m, hex"fffeffff", 0), 0), -2, "avg tie");
    }

    // ----- model and indices -----

    function test_trueElement_unknownModel_reverts() public {
        Agreed memory a = _agreedEveryOp(0);
        vm.expectRevert(abi.encodeWithSelector(UnknownModel.selector, 99));
        _prove(99, a, 0, Witness.build(a, 0));
    }

    function test_trueElement_pendingModel_reverts() public {
        TestModel memory m = OpFixture.everyOp(SEED);
        bytes[][] memory ops = OpFixture.allLeaves(m);
        vm.startPrank(owner);
        uint256 id = registry.registerModel(OpFixture.root(m), 7, m.input, m.inputZero, OpFixture.output(m), 0, 0, "");
        registry.publishLeaves(id, 0, ops[0]);
        registry.sealOp(id, 0);
        vm.stopPrank();
        Agreed memory a = _agreedEveryOp(0);
        vm.expectRevert(abi.encodeWithSelector(ModelNotActive.selector, id, ModelStatus.Pending));
        _prove(id, a, 0, Witness.build(a, 0));
    }

    function test_trueElement_retiredAfterActivation_succeeds() public {
        // Jobs posted before retirement run to completion, so their disputes must still be decidable.
        vm.prank(owner);
        registry.retire(everyOpId);
        _check(everyOpId, _agreedEveryOp(2), 17);
    }

    function test_trueElement_retiredWhilePending_reverts() public {
        TestModel memory m = OpFixture.everyOp(SEED);
        bytes[][] memory ops = OpFixture.allLeaves(m);
        vm.startPrank(owner);
        uint256 id = registry.registerModel(OpFixture.root(m), 7, m.input, m.inputZero, OpFixture.output(m), 0, 0, "");
        for (uint32 k = 0; k < 6; ++k) {
            registry.publishLeaves(id, k, ops[k]);
            registry.sealOp(id, k);
        }
        registry.retire(id);
        vm.stopPrank();
        Agreed memory a = _agreedEveryOp(0);
        vm.expectRevert(abi.encodeWithSelector(ModelNotActive.selector, id, ModelStatus.Retired));
        _prove(id, a, 0, Witness.build(a, 0));
    }

    function test_trueElement_opOutOfRange_reverts() public {
        Agreed memory a = _agreedEveryOp(6);
        StepWitness memory w = Witness.build(a, 0);
        vm.expectRevert(abi.encodeWithSelector(OpOutOfRange.selector, everyOpId, 7, 7));
        prover.trueElement(everyOpId, 7, a.stateRoot, 0, w);
    }

    function test_trueElement_elementOutOfRange_reverts() public {
        Agreed memory a = _agreedEveryOp(3);
        StepWitness memory w = Witness.build(a, 0);
        vm.expectRevert(abi.encodeWithSelector(ElementOutOfRange.selector, 360, 360));
        _prove(everyOpId, a, 360, w);
        vm.expectRevert(abi.encodeWithSelector(ElementOutOfRange.selector, type(uint256).max, 360));
        _prove(everyOpId, a, type(uint256).max, w);
    }

    // ----- slot proofs -----

    function test_trueElement_wrongSlotRoot_reverts() public {
        Agreed memory a = _agreedEveryOp(1);
        StepWitness memory w = Witness.build(a, 5);
        bytes32 fake = keccak256("another tensor");
        w.slots[0].root = fake;
        bytes32 computed = Reference.climb(0x02, Reference.leaf(0x02, abi.encodePacked(fake)), 1, w.slots[0].path);
        vm.expectRevert(abi.encodeWithSelector(SlotRootMismatch.selector, 1, computed, a.stateRoot));
        _prove(everyOpId, a, 5, w);
    }

    function test_trueElement_otherSlotsProof_reverts() public {
        // Op 2 (add) reads slots 2 and 1; a valid proof of slot 1 offered for operand a climbs from index 2.
        Agreed memory a = _agreedEveryOp(2);
        StepWitness memory w = Witness.build(a, 5);
        w.slots[0] = w.slots[1];
        bytes32 computed = Reference.climb(0x02, Reference.leaf(0x02, abi.encodePacked(a.roots[1])), 2, w.slots[0].path);
        vm.expectRevert(abi.encodeWithSelector(SlotRootMismatch.selector, 2, computed, a.stateRoot));
        _prove(everyOpId, a, 5, w);
    }

    function test_trueElement_slotPathTooShort_reverts() public {
        Agreed memory a = _agreedEveryOp(1);
        StepWitness memory w = Witness.build(a, 5);
        w.slots[0].path = _drop(w.slots[0].path);
        // 8 slots: depth 3.
        vm.expectRevert(abi.encodeWithSelector(PathLengthMismatch.selector, 2, 3));
        _prove(everyOpId, a, 5, w);
    }

    function test_trueElement_slotPathTooLong_reverts() public {
        Agreed memory a = _agreedEveryOp(1);
        StepWitness memory w = Witness.build(a, 5);
        w.slots[0].path = _push(w.slots[0].path, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(PathLengthMismatch.selector, 4, 3));
        _prove(everyOpId, a, 5, w);
    }

    function test_sealOp_slotNotReadable_reverts() public {
        // Op 0 claims to read slot 1, which it writes itself: the registry refuses it at seal time, so the
        // prover's own `SlotNotReadable` check is defence in depth, unreachable through the registry.
        TensorShape memory s = OpFixture.shape(1, 1, 4);
        TestModel memory m = OpFixture.model(s, 0, OpFixture.one(OpFixture.clamp(1, s, 0, -128, 127)));
        bytes[][] memory ops = OpFixture.allLeaves(m);
        uint256 id = _publishRaw(s, 0, OpFixture.output(m), ops);
        vm.expectRevert(abi.encodeWithSelector(OperandNotWritten.selector, id, 0, 1));
        vm.prank(owner);
        registry.sealOp(id, 0);
    }

    function test_trueElement_tooFewSlots_reverts() public {
        Agreed memory a = _agreedEveryOp(2); // add: two operands
        StepWitness memory w = Witness.build(a, 5);
        SlotProof[] memory one = new SlotProof[](1);
        one[0] = w.slots[0];
        w.slots = one;
        vm.expectRevert(abi.encodeWithSelector(WrongSlotCount.selector, 1, 2));
        _prove(everyOpId, a, 5, w);
    }

    function test_trueElement_tooManySlots_reverts() public {
        Agreed memory a = _agreedEveryOp(1); // clamp: one operand
        StepWitness memory w = Witness.build(a, 5);
        SlotProof[] memory two = new SlotProof[](2);
        two[0] = w.slots[0];
        two[1] = w.slots[0];
        w.slots = two;
        vm.expectRevert(abi.encodeWithSelector(WrongSlotCount.selector, 2, 1));
        _prove(everyOpId, a, 5, w);
    }

    // ----- row proofs -----

    function test_trueElement_tamperedRowByte_reverts() public {
        // Conv2d (op 0): rows of 3 bytes, one leaf each. Interior pixel 14: 9 taps; tamper tap 4's row.
        Agreed memory a = _agreedEveryOp(0);
        uint256 e = 14 * 40 + 3;
        StepWitness memory w = Witness.build(a, e);
        w.rows[4].data[1] ^= 0x01;
        // Tap 4 is the kernel centre (1, 1): input pixel (2, 2) = row 14 of the [6, 6, 3] input (36 leaves).
        bytes32 computed = _leafRoot(w.rows[4], 0, 14, 6);
        vm.expectRevert(abi.encodeWithSelector(RowRootMismatch.selector, 4, computed, a.roots[0]));
        _prove(everyOpId, a, e, w);
    }

    function test_trueElement_tamperedSecondLeafOfRow_reverts() public {
        // Add (op 2): rows of 40 bytes in 2 leaves; byte 35 is in the second leaf of row p of operand b (slot 1).
        Agreed memory a = _agreedEveryOp(2);
        uint256 e = 9 * 40 + 30;
        StepWitness memory w = Witness.build(a, e);
        w.rows[1].data[35] ^= 0x80;
        // Slot 1 [6, 6, 40]: 72 leaves, depth 7; pixel 9's second leaf is leaf 19.
        bytes32 computed = _leafRoot(w.rows[1], 1, 19, 7);
        vm.expectRevert(abi.encodeWithSelector(RowRootMismatch.selector, 1, computed, a.roots[1]));
        _prove(everyOpId, a, e, w);
    }

    function test_trueElement_rowOfAnotherPixel_reverts() public {
        // Clamp (op 1) at pixel 9 given pixel 10's (valid) row: its leaves climb from pixel 9's indices.
        Agreed memory a = _agreedEveryOp(1);
        StepWitness memory w = Witness.build(a, 9 * 40);
        w.rows[0] = Witness.rowProof(a, 1, 10);
        bytes32 computed = _leafRoot(w.rows[0], 0, 18, 7);
        vm.expectRevert(abi.encodeWithSelector(RowRootMismatch.selector, 0, computed, a.roots[1]));
        _prove(everyOpId, a, 9 * 40, w);
    }

    function test_trueElement_tooFewRows_reverts() public {
        Agreed memory a = _agreedEveryOp(3); // max-pool: 3×3 window, interior pixel 4 of [3, 3, 40] → 9 taps
        uint256 e = 4 * 40 + 1;
        StepWitness memory w = Witness.build(a, e);
        w.rows = _dropRow(w.rows);
        vm.expectRevert(abi.encodeWithSelector(WrongRowCount.selector, 8, 9));
        _prove(everyOpId, a, e, w);
    }

    function test_trueElement_tooManyRows_reverts() public {
        Agreed memory a = _agreedEveryOp(0); // conv corner pixel: 4 taps
        StepWitness memory w = Witness.build(a, 0);
        w.rows = _pushRow(w.rows, w.rows[0]);
        vm.expectRevert(abi.encodeWithSelector(WrongRowCount.selector, 5, 4));
        _prove(everyOpId, a, 0, w);
    }

    function test_trueElement_denseWithRows_reverts() public {
        Agreed memory a = _agreedEveryOp(6);
        StepWitness memory w = Witness.build(a, 3);
        w.rows = _pushRow(w.rows, Witness.rowProof(a, 6, 0));
        vm.expectRevert(abi.encodeWithSelector(WrongRowCount.selector, 1, 0));
        _prove(everyOpId, a, 3, w);
    }

    function test_trueElement_rowTooShort_reverts() public {
        Agreed memory a = _agreedEveryOp(5); // reshape of [2, 2, 40]: rows of 40
        StepWitness memory w = Witness.build(a, 77);
        w.rows[0].data = _cut(w.rows[0].data, 39);
        vm.expectRevert(abi.encodeWithSelector(RowLengthMismatch.selector, 0, 39, 40));
        _prove(everyOpId, a, 77, w);
    }

    function test_trueElement_rowTooLong_reverts() public {
        Agreed memory a = _agreedEveryOp(4); // avg-pool: 4 rows of 40
        StepWitness memory w = Witness.build(a, 77);
        w.rows[3].data = bytes.concat(w.rows[3].data, hex"00");
        vm.expectRevert(abi.encodeWithSelector(RowLengthMismatch.selector, 3, 41, 40));
        _prove(everyOpId, a, 77, w);
    }

    function test_trueElement_rowPathLength_reverts() public {
        Agreed memory a = _agreedEveryOp(1); // rows of 2 leaves, depth 7: 14 siblings
        StepWitness memory w = Witness.build(a, 100);
        w.rows[0].path = _drop(w.rows[0].path);
        vm.expectRevert(abi.encodeWithSelector(RowPathLengthMismatch.selector, 0, 13, 14));
        _prove(everyOpId, a, 100, w);
    }

    // ----- dense input and weight rows -----

    function test_trueElement_denseWrongInput_reverts() public {
        Agreed memory a = _agreedEveryOp(6);
        StepWitness memory w = Witness.build(a, 3);
        w.input[159] ^= 0x01;
        bytes32 computed = Reference.tensorRoot(w.input, 8);
        vm.expectRevert(abi.encodeWithSelector(InputRootMismatch.selector, computed, a.roots[6]));
        _prove(everyOpId, a, 3, w);
    }

    function test_trueElement_denseInputLength_reverts() public {
        Agreed memory a = _agreedEveryOp(6);
        StepWitness memory w = Witness.build(a, 3);
        w.input = _cut(w.input, 152);
        vm.expectRevert(abi.encodeWithSelector(WitnessInputLength.selector, 152, 160));
        _prove(everyOpId, a, 3, w);
    }

    function test_trueElement_tamperedWeightRow_reverts() public {
        Agreed memory a = _agreedEveryOp(6);
        StepWitness memory w = Witness.build(a, 3);
        w.weights[100] ^= 0x01;
        bytes32 computed = Reference.climb(0x04, Reference.leaf(0x04, w.weights), 4, w.weightPath);
        vm.expectRevert(abi.encodeWithSelector(WeightRootMismatch.selector, computed, registry.opRoot(everyOpId, 6)));
        _prove(everyOpId, a, 3, w);
    }

    function test_trueElement_tamperedBias_reverts() public {
        Agreed memory a = _agreedEveryOp(0);
        StepWitness memory w = Witness.build(a, 41);
        w.weights[3] ^= 0x01;
        bytes32 computed = Reference.climb(0x04, Reference.leaf(0x04, w.weights), 2, w.weightPath);
        vm.expectRevert(abi.encodeWithSelector(WeightRootMismatch.selector, computed, registry.opRoot(everyOpId, 0)));
        _prove(everyOpId, a, 41, w);
    }

    function test_trueElement_weightRowOfAnotherOutput_reverts() public {
        // Conv element of channel 1 given channel 2's (valid) row and path: it climbs from leaf 1 + 1.
        Agreed memory a = _agreedEveryOp(0);
        StepWitness memory w = Witness.build(a, 41);
        StepWitness memory other = Witness.build(a, 42);
        w.weights = other.weights;
        w.weightPath = other.weightPath;
        bytes32 computed = Reference.climb(0x04, Reference.leaf(0x04, w.weights), 2, w.weightPath);
        vm.expectRevert(abi.encodeWithSelector(WeightRootMismatch.selector, computed, registry.opRoot(everyOpId, 0)));
        _prove(everyOpId, a, 41, w);
    }

    function test_trueElement_weightPathWrongDepth_reverts() public {
        // Dense: 1 + 10 leaves, depth 4.
        Agreed memory a = _agreedEveryOp(6);
        StepWitness memory w = Witness.build(a, 3);
        w.weightPath = _drop(w.weightPath);
        vm.expectRevert(abi.encodeWithSelector(PathLengthMismatch.selector, 3, 4));
        _prove(everyOpId, a, 3, w);
        w.weightPath = _push(_push(w.weightPath, bytes32(0)), bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(PathLengthMismatch.selector, 5, 4));
        _prove(everyOpId, a, 3, w);
    }

    function test_trueElement_weightRowLength_reverts() public {
        Agreed memory a = _agreedEveryOp(0); // conv: 9 + 27 bytes
        StepWitness memory w = Witness.build(a, 41);
        w.weights = bytes.concat(w.weights, hex"00");
        vm.expectRevert(abi.encodeWithSelector(WeightRowLengthMismatch.selector, 37, 36));
        _prove(everyOpId, a, 41, w);
    }

    function test_trueElement_unexpectedWitnessData_reverts() public {
        Agreed memory a = _agreedEveryOp(1); // clamp reads no input tensor, no weights
        StepWitness memory w = Witness.build(a, 5);
        w.weightPath = new bytes32[](1);
        vm.expectRevert(abi.encodeWithSelector(UnexpectedWitnessData.selector, 3));
        _prove(everyOpId, a, 5, w);
        a = _agreedEveryOp(0); // conv reads no whole input
        w = Witness.build(a, 5);
        w.input = hex"00";
        vm.expectRevert(abi.encodeWithSelector(UnexpectedWitnessData.selector, 2));
        _prove(everyOpId, a, 5, w);
    }

    // ----- invalid models (the registry refuses specs that do not decode; the prover refuses what the reference
    // refuses) -----

    function test_sealOp_unknownOpCode_reverts() public {
        bytes[][] memory ops = new bytes[][](1);
        ops[0] = new bytes[](1);
        ops[0][0] = hex"08000000010000000100000004000000";
        _expectRefusedAtSeal(ops, abi.encodeWithSelector(UnknownOpCode.selector, 8));
    }

    function test_sealOp_badSpecLength_reverts() public {
        TensorShape memory s = OpFixture.shape(1, 1, 4);
        bytes[][] memory ops = new bytes[][](1);
        ops[0] = new bytes[](1);
        ops[0][0] = bytes.concat(OpFixture.spec(OpFixture.clamp(0, s, 0, -1, 1)), hex"00");
        _expectRefusedAtSeal(ops, abi.encodeWithSelector(BadSpecLength.selector, 3, 19, 18));
    }

    function test_trueElement_invalidClamp_reverts() public {
        TensorShape memory s = OpFixture.shape(1, 1, 4);
        _expectInvalid(
            OpFixture.model(s, 0, OpFixture.one(OpFixture.clamp(0, s, 0, 1, -1))),
            abi.encodeWithSelector(InvalidClamp.selector, 1, -1)
        );
    }

    function test_trueElement_clampShapeMismatch_reverts() public {
        TestModel memory m = OpFixture.model(
            OpFixture.shape(2, 1, 4), 0, OpFixture.one(OpFixture.clamp(0, OpFixture.shape(1, 2, 4), 0, -1, 1))
        );
        _expectInvalid(m, abi.encodeWithSelector(OperandShapeMismatch.selector, 3, 0, 2, 1, 4));
    }

    function test_trueElement_addShapeMismatch_reverts() public {
        TensorShape memory s = OpFixture.shape(1, 1, 4);
        TestOp memory reshape = OpFixture.reshape(0, OpFixture.shape(1, 2, 2), 0);
        TestOp memory add = OpFixture.add(0, 0, 1, 1, 0, 1, 1, s, 0, -128, 127);
        TestModel memory m = OpFixture.model(s, 0, OpFixture.two(reshape, add));
        _expectInvalidAt(m, 1, abi.encodeWithSelector(OperandShapeMismatch.selector, 6, 1, 1, 2, 2));
    }

    function test_trueElement_poolChannelMismatch_reverts() public {
        TestModel memory m = OpFixture.model(
            OpFixture.shape(2, 2, 4),
            0,
            OpFixture.one(OpFixture.maxPool(0, [uint8(2), 2, 1, 1, 0, 0], OpFixture.shape(1, 1, 3), 0))
        );
        _expectInvalid(m, abi.encodeWithSelector(OperandShapeMismatch.selector, 4, 0, 2, 2, 4));
    }

    function test_trueElement_reshapeCountMismatch_reverts() public {
        TestModel memory m = OpFixture.model(
            OpFixture.shape(2, 2, 4), 0, OpFixture.one(OpFixture.reshape(0, OpFixture.shape(1, 1, 15), 0))
        );
        _expectInvalid(m, abi.encodeWithSelector(OperandShapeMismatch.selector, 7, 0, 2, 2, 4));
    }

    function test_trueElement_avgPoolTapOutside_reverts() public {
        // Padding 1: output pixel (0, 0)'s window starts above and left of the input.
        TestOp memory op = OpFixture.avgPool(
            0,
            0,
            [uint8(2), 2, 1, 1, 1, 1],
            OpFixture.shape(2, 2, 1),
            TestRow({bias: 0, m: 1, s: 1, weights: ""}),
            0,
            -128,
            127
        );
        _expectInvalid(
            OpFixture.model(OpFixture.shape(2, 2, 1), 0, OpFixture.one(op)),
            abi.encodeWithSelector(AvgPoolTapOutside.selector, 0, 0)
        );
    }

    function test_trueElement_invalidRequant_reverts() public {
        int32[4] memory mult = [int32(0), -1, 1, 1];
        uint8[4] memory shift = [uint8(1), 1, 0, 63];
        for (uint256 i = 0; i < 4; ++i) {
            TestRow[] memory rows = new TestRow[](1);
            rows[0] = TestRow({bias: 0, m: mult[i], s: shift[i], weights: hex"01"});
            TestModel memory m =
                OpFixture.model(OpFixture.vec1(), 0, OpFixture.one(OpFixture.dense(0, 0, rows, 0, -128, 127)));
            _expectInvalid(m, abi.encodeWithSelector(InvalidRequant.selector, mult[i], shift[i]));
        }
        TensorShape memory s = OpFixture.shape(1, 1, 4);
        _expectInvalid(
            OpFixture.model(s, 0, OpFixture.one(OpFixture.add(0, 0, 1, 0, 0, 0, 4, s, 0, -128, 127))),
            abi.encodeWithSelector(InvalidRequant.selector, 0, 4)
        );
    }

    function test_trueElement_accumulatorOverflow_reverts() public {
        // bias 2^31 − 1 plus (x − z_x)·w = 1·1: outside i32 (the registration bound refuses this row).
        TestRow[] memory rows = new TestRow[](1);
        rows[0] = TestRow({bias: type(int32).max, m: 1, s: 1, weights: hex"01"});
        TestModel memory m =
            OpFixture.model(OpFixture.vec1(), 0, OpFixture.one(OpFixture.dense(0, 0, rows, 0, -128, 127)));
        uint256 id = _activate(m);
        Agreed memory a = Witness.run(m, hex"01", 0);
        vm.expectRevert(abi.encodeWithSelector(AccumulatorOverflow.selector, int256(type(int32).max) + 1));
        _prove(id, a, 0, Witness.build(a, 0));
    }

    // ----- helpers -----

    /// @notice σ_k of the every-op model over random slots, with real shapes.
    function _agreedEveryOp(uint256 k) internal pure returns (Agreed memory) {
        TestModel memory m = OpFixture.everyOp(SEED);
        return Witness.agree(m, _randomSlots(m, k + 1), k);
    }

    /// @notice The root leaf j of a witness row climbs to from leaf `index` (depth siblings per leaf).
    function _leafRoot(RowProof memory row, uint256 j, uint256 index, uint256 depth) internal pure returns (bytes32) {
        bytes memory chunk = new bytes(32);
        for (uint256 i = 0; i < 32 && 32 * j + i < row.data.length; ++i) {
            chunk[i] = row.data[32 * j + i];
        }
        bytes32[] memory p = new bytes32[](depth);
        for (uint256 d = 0; d < depth; ++d) {
            p[d] = row.path[j * depth + d];
        }
        return Reference.climb(0x01, Reference.leaf(0x01, chunk), index, p);
    }

    function _expectInvalid(TestModel memory m, bytes memory err) internal {
        _expectInvalidAt(m, 0, err);
    }

    /// @notice Activates `m` and expects element 0 of op k to revert with `err`.
    function _expectInvalidAt(TestModel memory m, uint256 k, bytes memory err) internal {
        uint256 id = _activate(m);
        Agreed memory a = Witness.agree(m, _randomSlots(m, 7), k);
        StepWitness memory w = Witness.build(a, 0);
        vm.expectRevert(err);
        _prove(id, a, 0, w);
    }

    /// @notice Publishes a 1-op model given as raw leaves over a [1, 1, 4] input and expects its seal to revert with
    /// `err`: a spec that does not decode never reaches the prover.
    function _expectRefusedAtSeal(bytes[][] memory ops, bytes memory err) internal {
        TensorShape memory s = OpFixture.shape(1, 1, 4);
        uint256 id = _publishRaw(s, 0, s, ops);
        vm.expectRevert(err);
        vm.prank(owner);
        registry.sealOp(id, 0);
    }

    function _drop(bytes32[] memory a) internal pure returns (bytes32[] memory b) {
        b = new bytes32[](a.length - 1);
        for (uint256 i = 0; i < b.length; ++i) {
            b[i] = a[i];
        }
    }

    function _push(bytes32[] memory a, bytes32 x) internal pure returns (bytes32[] memory b) {
        b = new bytes32[](a.length + 1);
        for (uint256 i = 0; i < a.length; ++i) {
            b[i] = a[i];
        }
        b[a.length] = x;
    }

    function _dropRow(RowProof[] memory a) internal pure returns (RowProof[] memory b) {
        b = new RowProof[](a.length - 1);
        for (uint256 i = 0; i < b.length; ++i) {
            b[i] = a[i];
        }
    }

    function _pushRow(RowProof[] memory a, RowProof memory x) internal pure returns (RowProof[] memory b) {
        b = new RowProof[](a.length + 1);
        for (uint256 i = 0; i < a.length; ++i) {
            b[i] = a[i];
        }
        b[a.length] = x;
    }

    function _cut(bytes memory a, uint256 len) internal pure returns (bytes memory b) {
        b = new bytes(len);
        for (uint256 i = 0; i < len; ++i) {
            b[i] = a[i];
        }
    }
}

/// @notice Gas of one element (docs/GAS.md). Run: forge test --match-contract OneStepProverGasTest -vv
/// The models are activated and the witnesses encoded in setUp, so the measured call runs in a fresh transaction
/// (cold prover, registry and storage, as in a real dispute). Logged: the execution gas of the call (gasleft around
/// a staticcall of the pre-encoded calldata, so it includes the cold-account call overhead but not the encoding)
/// and an estimate of a transaction carrying the witness: 21000 + calldata (16 gas per nonzero byte, 4 per zero
/// byte) + execution. In a dispute the witness goes to the game's `step`, which calls the prover; the game's own
/// overhead is not included.
contract OneStepProverGasTest is ProverFixture {
    bytes internal denseK64;
    bytes internal denseK784;
    bytes internal denseK784Image;
    bytes internal conv3x3x8;
    mapping(bytes32 callHash => int8) internal expectedOf;

    function setUp() public override {
        super.setUp();
        denseK64 = _dense(0x64, OpFixture.vec(64));
        denseK784 = _dense(0x784, OpFixture.vec(784));
        denseK784Image = _dense(0x785, OpFixture.shape(28, 28, 1));
        conv3x3x8 = _conv();
    }

    /// @notice Dense [K elements] → [1, 1, 10] then ReLU (a two-op model: the state tree has 3 slots); element 3.
    function _dense(uint256 seed, TensorShape memory input) internal returns (bytes memory) {
        TestRow[] memory rows = OpFixture.makeRows(seed, 10, OpFixture.count(input), 1000, 1_518_500_250, 38);
        TestOp[] memory ops = OpFixture.two(
            OpFixture.dense(0, -128, rows, -5, -5, 127), OpFixture.clamp(1, OpFixture.vec(10), -5, -5, 127)
        );
        TestModel memory m = OpFixture.model(input, -128, ops);
        return _encode(_activate(m), Witness.run(m, randomBytes(seed, OpFixture.count(input)), 0), 3);
    }

    /// @notice Conv2d 3×3, stride 1, padding 1, [8, 8, 8] → [8, 8, 8], then ReLU; an interior element reads 9 rows.
    function _conv() internal returns (bytes memory) {
        TensorShape memory s = OpFixture.shape(8, 8, 8);
        TestRow[] memory rows = OpFixture.makeRows(0xc0, 8, 72, 1000, 1_100_000_000, 38);
        TestOp[] memory ops = OpFixture.two(
            OpFixture.conv2d(0, -128, [uint8(3), 3, 1, 1, 1, 1], s, rows, -5, -5, 127),
            OpFixture.clamp(1, s, -5, -5, 127)
        );
        TestModel memory m = OpFixture.model(s, -128, ops);
        return _encode(_activate(m), Witness.run(m, randomBytes(0xc0, 512), 0), (3 * 8 + 4) * 8 + 5);
    }

    function _encode(uint256 id, Agreed memory a, uint256 e) internal returns (bytes memory callData) {
        // forge-lint: disable-next-line(unsafe-typecast)
        callData = abi.encodeCall(IOneStepProver.trueElement, (id, uint32(a.k), a.stateRoot, e, Witness.build(a, e)));
        expectedOf[keccak256(callData)] = Witness.expected(a, e);
    }

    function _report(string memory what, bytes memory callData) internal view {
        uint256 g = gasleft();
        (bool ok, bytes memory ret) = address(prover).staticcall(callData);
        uint256 used = g - gasleft();
        assertTrue(ok, "call succeeds");
        assertEqInt(abi.decode(ret, (int8)), expectedOf[keccak256(callData)], "element");
        uint256 calldataGas;
        for (uint256 i = 0; i < callData.length; ++i) {
            calldataGas += callData[i] == 0 ? 4 : 16;
        }
        log(string.concat(what, " execution gas"), used);
        log(string.concat(what, " calldata bytes"), callData.length);
        log(string.concat(what, " tx gas (21000 + calldata + execution)"), 21_000 + calldataGas + used);
    }

    function test_gas_denseElementK64_succeeds() public view {
        _report("trueElement(dense, K = 64)", denseK64);
    }

    function test_gas_denseElementK784_succeeds() public view {
        _report("trueElement(dense, K = 784, input [1,1,784])", denseK784);
    }

    function test_gas_denseElementK784Image_succeeds() public view {
        // The same K as a [28, 28, 1] image: 784 one-byte rows, so 784 leaves to hash for the input root.
        _report("trueElement(dense, K = 784, input [28,28,1])", denseK784Image);
    }

    function test_gas_conv3x3x8Element_succeeds() public view {
        _report("trueElement(conv2d 3x3x8, interior)", conv3x3x8);
    }
}
