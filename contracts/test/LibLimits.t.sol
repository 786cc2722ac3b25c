// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {StepWitness} from "../src/interfaces/IOneStepProver.sol";
import {LibLimits, StepCost} from "../src/lib/LibLimits.sol";
import {LibOp} from "../src/lib/LibOp.sol";
import {TensorShape} from "../src/lib/Types.sol";
import {Base} from "./Base.t.sol";
import {OpFixture, TestModel, TestOp, TestRow} from "./utils/OpFixture.sol";
import {Agreed, Witness} from "./utils/Witness.sol";

/// @notice The one-step transaction whose calldata LibLimits counts (`DisputeGame.step`, PROTOCOL §6.4).
interface IStep {
    function step(uint256 gameId, StepWitness calldata witness) external;
}

contract LibLimitsTest is Base {
    uint256 internal constant SEED = 0x5eed;

    /// @dev The worst step of op `k` of `m`, as the registry computes it at `sealOp`.
    function _worst(TestModel memory m, uint256 k) internal pure returns (StepCost memory) {
        TestOp memory op = m.ops[k];
        TensorShape[] memory shapes = OpFixture.slotShapes(m);
        TensorShape memory b = op.code == OpFixture.ADD ? shapes[op.b] : shapes[op.a];
        return LibLimits.worstStep(LibOp.decode(OpFixture.spec(op)), shapes[op.a], b, m.ops.length, 1 + op.rows.length);
    }

    function _oneOp(TensorShape memory input, TestOp memory op) internal pure returns (TestModel memory) {
        return OpFixture.model(input, 0, OpFixture.one(op));
    }

    function _rows(uint256 k) internal pure returns (TestRow[] memory) {
        return OpFixture.makeRows(SEED, 1, k, 0, 1, 20);
    }

    function _dense(TensorShape memory input) internal pure returns (TestModel memory) {
        return _oneOp(input, OpFixture.dense(0, 0, _rows(OpFixture.count(input)), 0, -128, 127));
    }

    /// @dev An s×s window, stride 1, no padding, over an [s, s, c] input: one output pixel reading every tap.
    function _window(uint8 code, uint8 s, uint32 c) internal pure returns (TestModel memory) {
        TensorShape memory input = OpFixture.shape(s, s, c);
        uint8[6] memory win = [s, s, 1, 1, 0, 0];
        if (code == OpFixture.CONV2D) {
            TestRow[] memory rows = _rows(uint256(s) * s * c);
            return _oneOp(input, OpFixture.conv2d(0, 0, win, OpFixture.shape(1, 1, 1), rows, 0, -128, 127));
        }
        return _oneOp(input, OpFixture.maxPool(0, win, OpFixture.shape(1, 1, c), 0));
    }

    /// @notice The count is the exact ABI length of the step call: for every op of a model of every kind, the
    /// largest `abi.encodeCall(step, …)` over its output pixels (the witness does not depend on the channel) equals
    /// `worstStep`'s `calldataBytes`. The conv and the max-pool have padding, so edge pixels read fewer rows.
    function test_worstStep_everyOpEqualsLargestEncodedStep_succeeds() public pure {
        TestModel memory m = OpFixture.everyOp(SEED);
        for (uint256 k = 0; k < m.ops.length; ++k) {
            Agreed memory a = Witness.agree(m, _slots(m), k);
            TensorShape memory out = m.ops[k].out;
            uint256 largest;
            uint256 smallest = type(uint256).max;
            for (uint256 p = 0; p < uint256(out.h) * out.w; ++p) {
                uint256 len = abi.encodeCall(IStep.step, (type(uint256).max, Witness.build(a, p * out.c))).length;
                if (len > largest) largest = len;
                if (len < smallest) smallest = len;
            }
            assertEq(_worst(m, k).calldataBytes, largest, string(abi.encodePacked("op ", bytes1(uint8(48 + k)))));
            if (k == 0 || k == 3) assertTrue(smallest < largest, "padded windows: edges read fewer rows");
        }
    }

    /// @notice The step calldata measured on anvil for the limit probes of docs/GAS.md (one-op models, one output
    /// element; `cargo run -p vouch-bench --bin dispute-gas`), reproduced from the shapes alone.
    function test_worstStep_measuredProbes_succeeds() public pure {
        assertEq(_worst(_dense(OpFixture.vec(4096)), 0).calldataBytes, 8804, "dense [1,1,4096]");
        assertEq(_worst(_dense(OpFixture.vec(65_536)), 0).calldataBytes, 131_684, "dense [1,1,65536]");
        assertEq(_worst(_window(OpFixture.CONV2D, 3, 7281), 0).calldataBytes, 921_220, "conv 3x3 [3,3,7281]");
        assertEq(_worst(_window(OpFixture.CONV2D, 8, 1), 0).calldataBytes, 25_252, "conv 8x8");
        assertEq(_worst(_window(OpFixture.CONV2D, 16, 1), 0).calldataBytes, 115_556, "conv 16x16");
        assertEq(_worst(_window(OpFixture.MAXPOOL, 8, 1), 0).calldataBytes, 25_124, "maxpool 8x8");
        assertEq(_worst(_window(OpFixture.MAXPOOL, 32, 1), 0).calldataBytes, 524_836, "maxpool 32x32");
        TensorShape memory deep = OpFixture.shape(512, 512, 1);
        TestModel memory add = _oneOp(deep, OpFixture.add(0, 0, 1, 0, 0, 1, 1, deep, 0, -128, 127));
        assertEq(_worst(add, 0).calldataBytes, 2244, "add [512,512,1]");
    }

    /// @notice The gas bound of a dense layer over 48,128 one-byte rows ([256, 188, 1]), pinned: its calldata fits
    /// the cap (96,868 bytes) but re-hashing the input does not fit the gas cap. `vouch_core`'s unit test pins the
    /// same two numbers.
    function test_stepGas_denseOnOneByteRows_succeeds() public pure {
        StepCost memory cost = _worst(_dense(OpFixture.shape(256, 188, 1)), 0);
        assertEq(cost.calldataBytes, 96_868, "calldata");
        assertEq(LibLimits.stepGas(cost), 70_446_677, "gas bound");
    }

    /// @notice The closed form of the most taps inside the input equals a brute-force maximum over every output.
    function testFuzz_maxTaps_equalsBruteForce_succeeds(uint256 x, uint256 k, uint256 s, uint256 p, uint256 out)
        public
        pure
    {
        x = bound(x, 1, 40);
        k = bound(k, 1, 12);
        s = bound(s, 1, 5);
        p = bound(p, 0, k - 1);
        out = bound(out, 1, (x + p - 1) / s + 1);
        uint256 best;
        for (uint256 o = 0; o < out; ++o) {
            uint256 inside;
            for (uint256 i = 0; i < k; ++i) {
                if (o * s + i >= p && o * s + i - p < x) ++inside;
            }
            if (inside > best) best = inside;
        }
        assertEq(LibLimits.maxTaps(x, k, s, p, out), best, "max taps");
    }

    /// @notice Every limit constant is what PROTOCOL §6.8 states, and the tensor depth follows from the element cap.
    function test_limits_constants_succeeds() public pure {
        assertEq(LibLimits.MAX_STEP_CALLDATA, 96 * 1024, "96 KiB");
        assertEq(LibLimits.MAX_OPS, 1_048_575, "ops");
        assertEq(1 << LibLimits.MAX_TENSOR_DEPTH, LibLimits.MAX_TENSOR_ELEMENTS, "depth of the largest tensor");
    }

    function _slots(TestModel memory m) internal pure returns (bytes[] memory slots) {
        TensorShape[] memory shapes = OpFixture.slotShapes(m);
        slots = new bytes[](shapes.length);
        for (uint256 i = 0; i < shapes.length; ++i) {
            slots[i] = randomBytes(uint256(keccak256(abi.encode(SEED, i))), OpFixture.count(shapes[i]));
        }
    }
}
