// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {TensorShape} from "../../src/lib/Types.sol";
import {Reference} from "./Reference.sol";

/// @notice One weight row of a dense or conv op: bias, requantization and weights (dense: [K]; conv:
/// [kh][kw][C_in]), as the test writes it down before encoding.
struct TestRow {
    int32 bias;
    int32 m;
    uint8 s;
    bytes weights;
}

/// @notice An op with its parameters as fields, independent of the byte encoding (PROTOCOL §2, §3.1). The same
/// names as `OpKind` in core/src/model.rs; fields an op does not have are ignored by `spec`.
struct TestOp {
    uint8 code;
    TensorShape out;
    int8 zOut;
    /// @dev The slot read (Add: a) and its zero point (Dense, Conv2d, AvgPool: z_x; Add: z_a).
    uint16 a;
    int8 zA;
    /// @dev Add only: operand b.
    uint16 b;
    int8 zB;
    int8 lo;
    int8 hi;
    uint8 kh;
    uint8 kw;
    uint8 sh;
    uint8 sw;
    uint8 pt;
    uint8 pl;
    /// @dev AvgPool: M; Add: M_a.
    int32 mA;
    /// @dev Add: M_b.
    int32 mB;
    /// @dev AvgPool, Add: s.
    uint8 s;
    /// @dev Dense: N rows; Conv2d: C_out rows.
    TestRow[] rows;
}

/// @notice A model as the test builds it: input shape and zero point, and its ops.
struct TestModel {
    TensorShape input;
    int8 inputZero;
    TestOp[] ops;
}

/// @notice Builds real v2 models op by op and encodes them exactly as PROTOCOL §3.1 lays out op leaves (with
/// abi.encodePacked, independent of src/lib/LibOp.sol, which decodes them).
library OpFixture {
    uint8 internal constant DENSE = 0x01;
    uint8 internal constant CONV2D = 0x02;
    uint8 internal constant CLAMP = 0x03;
    uint8 internal constant MAXPOOL = 0x04;
    uint8 internal constant AVGPOOL = 0x05;
    uint8 internal constant ADD = 0x06;
    uint8 internal constant RESHAPE = 0x07;

    function shape(uint32 h, uint32 w, uint32 c) internal pure returns (TensorShape memory) {
        return TensorShape({h: h, w: w, c: c});
    }

    /// @notice The vector shape [1, 1, n].
    function vec(uint32 n) internal pure returns (TensorShape memory) {
        return TensorShape({h: 1, w: 1, c: n});
    }

    /// @notice [1, 1, 1].
    function vec1() internal pure returns (TensorShape memory) {
        return vec(1);
    }

    function count(TensorShape memory s) internal pure returns (uint256) {
        return uint256(s.h) * s.w * s.c;
    }

    // ----- ops -----

    function dense(uint16 input, int8 zX, TestRow[] memory rows, int8 zOut, int8 lo, int8 hi)
        internal
        pure
        returns (TestOp memory op)
    {
        op.code = DENSE;
        // forge-lint: disable-next-line(unsafe-typecast)
        op.out = shape(1, 1, uint32(rows.length));
        op.zOut = zOut;
        op.a = input;
        op.zA = zX;
        op.lo = lo;
        op.hi = hi;
        op.rows = rows;
    }

    /// @param win kh, kw, sh, sw, pt, pl.
    function conv2d(
        uint16 input,
        int8 zX,
        uint8[6] memory win,
        TensorShape memory out,
        TestRow[] memory rows,
        int8 zOut,
        int8 lo,
        int8 hi
    ) internal pure returns (TestOp memory op) {
        op.code = CONV2D;
        op.out = out;
        op.zOut = zOut;
        op.a = input;
        op.zA = zX;
        op.lo = lo;
        op.hi = hi;
        _setWindow(op, win);
        op.rows = rows;
    }

    function clamp(uint16 input, TensorShape memory s, int8 z, int8 lo, int8 hi)
        internal
        pure
        returns (TestOp memory op)
    {
        op.code = CLAMP;
        op.out = s;
        op.zOut = z;
        op.a = input;
        op.lo = lo;
        op.hi = hi;
    }

    function maxPool(uint16 input, uint8[6] memory win, TensorShape memory out, int8 z)
        internal
        pure
        returns (TestOp memory op)
    {
        op.code = MAXPOOL;
        op.out = out;
        op.zOut = z;
        op.a = input;
        _setWindow(op, win);
    }

    /// @param q M, s as (int32 M, uint8 s) packed: m = q.m, s = q.s of a TestRow (bias and weights unused).
    function avgPool(
        uint16 input,
        int8 zX,
        uint8[6] memory win,
        TensorShape memory out,
        TestRow memory q,
        int8 zOut,
        int8 lo,
        int8 hi
    ) internal pure returns (TestOp memory op) {
        op.code = AVGPOOL;
        op.out = out;
        op.zOut = zOut;
        op.a = input;
        op.zA = zX;
        _setWindow(op, win);
        op.mA = q.m;
        op.s = q.s;
        op.lo = lo;
        op.hi = hi;
    }

    function add(
        uint16 a,
        int8 zA,
        int32 mA,
        uint16 b,
        int8 zB,
        int32 mB,
        uint8 s,
        TensorShape memory out,
        int8 zOut,
        int8 lo,
        int8 hi
    ) internal pure returns (TestOp memory op) {
        op.code = ADD;
        op.out = out;
        op.zOut = zOut;
        op.a = a;
        op.zA = zA;
        op.mA = mA;
        op.b = b;
        op.zB = zB;
        op.mB = mB;
        op.s = s;
        op.lo = lo;
        op.hi = hi;
    }

    function reshape(uint16 input, TensorShape memory out, int8 z) internal pure returns (TestOp memory op) {
        op.code = RESHAPE;
        op.out = out;
        op.zOut = z;
        op.a = input;
    }

    function _setWindow(TestOp memory op, uint8[6] memory win) private pure {
        op.kh = win[0];
        op.kw = win[1];
        op.sh = win[2];
        op.sw = win[3];
        op.pt = win[4];
        op.pl = win[5];
    }

    /// @notice `n` weight rows of `k` weights in [-127, 127] from `seed`, with biases in ±`biasRange` and the
    /// requantization (m, s).
    function makeRows(uint256 seed, uint256 n, uint256 k, int32 biasRange, int32 m, uint8 s)
        internal
        pure
        returns (TestRow[] memory out)
    {
        out = new TestRow[](n);
        for (uint256 r = 0; r < n; ++r) {
            bytes memory w = new bytes(k);
            for (uint256 i = 0; i < k; ++i) {
                // forge-lint: disable-next-line(unsafe-typecast)
                w[i] = bytes1(uint8(int8(int256(uint256(keccak256(abi.encode(seed, r, i))) % 255) - 127)));
            }
            int256 span = 2 * int256(biasRange) + 1;
            // forge-lint: disable-next-line(unsafe-typecast)
            int32 bias = int32(int256(uint256(keccak256(abi.encode(seed, r, "bias"))) % uint256(span)) - biasRange);
            out[r] = TestRow({bias: bias, m: m, s: s, weights: w});
        }
    }

    // ----- encoding (PROTOCOL §3.1) -----

    /// @notice The op's spec leaf: header `code | out.H | out.W | out.C | z_out`, then the per-op fields.
    function spec(TestOp memory op) internal pure returns (bytes memory) {
        bytes memory h = abi.encodePacked(op.code, op.out.h, op.out.w, op.out.c, op.zOut);
        bytes memory win = abi.encodePacked(op.kh, op.kw, op.sh, op.sw, op.pt, op.pl);
        if (op.code == DENSE) return abi.encodePacked(h, op.a, op.zA, op.lo, op.hi);
        if (op.code == CONV2D) return abi.encodePacked(h, op.a, op.zA, op.lo, op.hi, win);
        if (op.code == CLAMP) return abi.encodePacked(h, op.a, op.lo, op.hi);
        if (op.code == MAXPOOL) return abi.encodePacked(h, op.a, win);
        if (op.code == AVGPOOL) return abi.encodePacked(h, op.a, op.zA, win, op.mA, op.s, op.lo, op.hi);
        if (op.code == ADD) return abi.encodePacked(h, op.a, op.zA, op.mA, op.b, op.zB, op.mB, op.s, op.lo, op.hi);
        if (op.code == RESHAPE) return abi.encodePacked(h, op.a);
        revert("unknown op code");
    }

    /// @notice Weight row leaf: bias i32 | M i32 | s u8 | weights.
    function row(TestRow memory r) internal pure returns (bytes memory) {
        return abi.encodePacked(r.bias, r.m, r.s, r.weights);
    }

    /// @notice The op's leaves: spec, then its weight rows.
    function leaves(TestOp memory op) internal pure returns (bytes[] memory out) {
        out = new bytes[](1 + op.rows.length);
        out[0] = spec(op);
        for (uint256 r = 0; r < op.rows.length; ++r) {
            out[1 + r] = row(op.rows[r]);
        }
    }

    function allLeaves(TestModel memory m) internal pure returns (bytes[][] memory ops) {
        ops = new bytes[][](m.ops.length);
        for (uint256 k = 0; k < m.ops.length; ++k) {
            ops[k] = leaves(m.ops[k]);
        }
    }

    function output(TestModel memory m) internal pure returns (TensorShape memory) {
        return m.ops[m.ops.length - 1].out;
    }

    function root(TestModel memory m) internal pure returns (bytes32) {
        return Reference.modelRoot(m.input, m.inputZero, output(m), allLeaves(m));
    }

    /// @notice The shape of every slot: the input, then each op's output.
    function slotShapes(TestModel memory m) internal pure returns (TensorShape[] memory shapes) {
        shapes = new TensorShape[](m.ops.length + 1);
        shapes[0] = m.input;
        for (uint256 k = 0; k < m.ops.length; ++k) {
            shapes[k + 1] = m.ops[k].out;
        }
    }

    function model(TensorShape memory input, int8 inputZero, TestOp[] memory ops)
        internal
        pure
        returns (TestModel memory m)
    {
        m.input = input;
        m.inputZero = inputZero;
        m.ops = ops;
    }

    function one(TestOp memory op) internal pure returns (TestOp[] memory ops) {
        ops = new TestOp[](1);
        ops[0] = op;
    }

    function two(TestOp memory op0, TestOp memory op1) internal pure returns (TestOp[] memory ops) {
        ops = new TestOp[](2);
        ops[0] = op0;
        ops[1] = op1;
    }

    // ----- a real model with every op -----

    /// @notice A 7-op model using every op, with realistic quantization (outputs mostly inside the clamp range):
    ///   slot 0 [6, 6, 3] z = 5
    ///   op 0 Conv2d 3×3, stride 1, padding 1, 40 channels  -> slot 1 [6, 6, 40] z = −7 (2 leaves per row)
    ///   op 1 Clamp (ReLU, lo = z = −7, hi = 100)            -> slot 2 [6, 6, 40] z = −7
    ///   op 2 Add slot 2 (M_a = 2^30) + slot 1 (M_b = 2^29), s = 31 -> slot 3 [6, 6, 40] z = 3
    ///   op 3 MaxPool 3×3, stride 2, padding 1               -> slot 4 [3, 3, 40] z = 3
    ///   op 4 AvgPool 2×2, stride 1 (M = 2^30, s = 32: /4)   -> slot 5 [2, 2, 40] z = 0
    ///   op 5 Reshape                                        -> slot 6 [4, 5, 8] z = 0
    ///   op 6 Dense K = 160 -> 10                            -> slot 7 [1, 1, 10] z = −5
    function everyOp(uint256 seed) internal pure returns (TestModel memory m) {
        m.input = shape(6, 6, 3);
        m.inputZero = 5;
        m.ops = new TestOp[](7);
        m.ops[0] = conv2d(
            0,
            5,
            [uint8(3), 3, 1, 1, 1, 1],
            shape(6, 6, 40),
            makeRows(seed, 40, 27, 5000, 1_100_000_000, 41),
            -7,
            -128,
            127
        );
        m.ops[1] = clamp(1, shape(6, 6, 40), -7, -7, 100);
        m.ops[2] = add(2, -7, 1 << 30, 1, -7, 1 << 29, 31, shape(6, 6, 40), 3, -128, 127);
        m.ops[3] = maxPool(3, [uint8(3), 3, 2, 2, 1, 1], shape(3, 3, 40), 3);
        m.ops[4] = avgPool(
            4,
            3,
            [uint8(2), 2, 1, 1, 0, 0],
            shape(2, 2, 40),
            TestRow({bias: 0, m: 1 << 30, s: 32, weights: ""}),
            0,
            -128,
            127
        );
        m.ops[5] = reshape(5, shape(4, 5, 8), 0);
        m.ops[6] = dense(6, 0, makeRows(seed + 1, 10, 160, 20_000, 1_759_218_604, 44), -5, -128, 127);
    }
}
