// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {TensorShape} from "../../src/lib/Types.sol";
import {OpFixture, TestModel, TestOp, TestRow} from "./OpFixture.sol";

/// @notice PROTOCOL §1.1 and §2 written out the plain way over whole tensors (the loops of
/// core/src/reference.rs `element`), independent of the prover: no witness, no assembly, no shifts (floor
/// division is written with `/` and a correction), parameters read from the op's fields, not its bytes.
library ReferenceExec {
    /// @notice floor(v / 2^s + 1/2), clamped: clamp(zero + ((v + 2^(s−1)) >> s), lo, hi) with a floor shift.
    function roundShift(int256 v, uint8 s, int8 zero, int8 lo, int8 hi) internal pure returns (int8) {
        int256 d = int256(2) ** uint256(s);
        int256 num = v + d / 2;
        int256 q = num / d; // truncates towards zero …
        if (num % d != 0 && num < 0) q -= 1; // … so step down for negative non-multiples: floor
        int256 y = int256(zero) + q;
        if (y < lo) y = lo;
        if (y > hi) y = hi;
        // forge-lint: disable-next-line(unsafe-typecast)
        return int8(y);
    }

    function val(bytes memory t, uint256 i) internal pure returns (int256) {
        return int256(int8(uint8(t[i])));
    }

    /// @notice Input coordinate of tap k for output coordinate o, and whether it lies inside [0, extent).
    function tap(uint256 o, uint8 stride, uint256 k, uint8 pad, uint32 extent)
        internal
        pure
        returns (bool inside, uint256 pos)
    {
        int256 p = int256(o * stride + k) - int256(uint256(pad));
        inside = p >= 0 && p < int256(uint256(extent));
        pos = inside ? uint256(p) : 0;
    }

    /// @notice Output coordinates of element e: channel c, pixel (oy, ox).
    struct Pos {
        uint256 e;
        uint256 c;
        uint256 oy;
        uint256 ox;
    }

    /// @notice Element e of op `op`'s output, given every slot tensor and its shape.
    function element(TestOp memory op, bytes[] memory slots, TensorShape[] memory shapes, uint256 e)
        internal
        pure
        returns (int8)
    {
        Pos memory p = Pos({e: e, c: e % op.out.c, oy: (e / op.out.c) / op.out.w, ox: (e / op.out.c) % op.out.w});
        bytes memory x = slots[op.a];
        if (op.code == OpFixture.DENSE) return _dense(op, x, e);
        if (op.code == OpFixture.CONV2D) return _conv2d(op, x, shapes[op.a], p);
        if (op.code == OpFixture.CLAMP) {
            int256 v = val(x, e);
            if (v < op.lo) v = op.lo;
            if (v > op.hi) v = op.hi;
            // forge-lint: disable-next-line(unsafe-typecast)
            return int8(v);
        }
        if (op.code == OpFixture.MAXPOOL) return _maxPool(op, x, shapes[op.a], p);
        if (op.code == OpFixture.AVGPOOL) return _avgPool(op, x, shapes[op.a], p);
        if (op.code == OpFixture.ADD) {
            int256 sum = (val(x, e) - op.zA) * op.mA + (val(slots[op.b], e) - op.zB) * op.mB;
            return roundShift(sum, op.s, op.zOut, op.lo, op.hi);
        }
        require(op.code == OpFixture.RESHAPE, "unknown op code");
        // forge-lint: disable-next-line(unsafe-typecast)
        return int8(val(x, e));
    }

    function _dense(TestOp memory op, bytes memory x, uint256 e) private pure returns (int8) {
        TestRow memory r = op.rows[e];
        int256 acc = r.bias;
        for (uint256 j = 0; j < r.weights.length; ++j) {
            acc += (val(x, j) - op.zA) * val(r.weights, j);
        }
        return roundShift(acc * r.m, r.s, op.zOut, op.lo, op.hi);
    }

    function _conv2d(TestOp memory op, bytes memory x, TensorShape memory xs, Pos memory p)
        private
        pure
        returns (int8)
    {
        TestRow memory r = op.rows[p.c];
        int256 acc = r.bias;
        for (uint256 i = 0; i < op.kh; ++i) {
            for (uint256 j = 0; j < op.kw; ++j) {
                acc += _convTap(op, x, xs, r.weights, p, i, j);
            }
        }
        return roundShift(acc * r.m, r.s, op.zOut, op.lo, op.hi);
    }

    /// @notice Σ_ci (x[iy, ix, ci] − z_x)·W[i][j][ci] for kernel tap (i, j); 0 in the padding (it holds z_x).
    function _convTap(
        TestOp memory op,
        bytes memory x,
        TensorShape memory xs,
        bytes memory w,
        Pos memory p,
        uint256 i,
        uint256 j
    ) private pure returns (int256 acc) {
        (bool inside, uint256 xBase) = _pixel(op, xs, p, i, j);
        if (!inside) return 0;
        uint256 wBase = (i * op.kw + j) * xs.c;
        for (uint256 ci = 0; ci < xs.c; ++ci) {
            acc += (val(x, xBase + ci) - op.zA) * val(w, wBase + ci);
        }
    }

    /// @notice Whether tap (i, j) of output pixel p lies inside the input, and the index of its first element.
    function _pixel(TestOp memory op, TensorShape memory xs, Pos memory p, uint256 i, uint256 j)
        private
        pure
        returns (bool inside, uint256 base)
    {
        (bool inY, uint256 iy) = tap(p.oy, op.sh, i, op.pt, xs.h);
        (bool inX, uint256 ix) = tap(p.ox, op.sw, j, op.pl, xs.w);
        inside = inY && inX;
        base = (iy * xs.w + ix) * xs.c;
    }

    function _maxPool(TestOp memory op, bytes memory x, TensorShape memory xs, Pos memory p)
        private
        pure
        returns (int8)
    {
        int256 m = -128;
        for (uint256 i = 0; i < op.kh; ++i) {
            for (uint256 j = 0; j < op.kw; ++j) {
                (bool inY, uint256 iy) = tap(p.oy, op.sh, i, op.pt, xs.h);
                (bool inX, uint256 ix) = tap(p.ox, op.sw, j, op.pl, xs.w);
                if (!inY || !inX) continue; // padding counts as −128
                int256 v = val(x, (iy * xs.w + ix) * xs.c + p.c);
                if (v > m) m = v;
            }
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        return int8(m);
    }

    function _avgPool(TestOp memory op, bytes memory x, TensorShape memory xs, Pos memory p)
        private
        pure
        returns (int8)
    {
        int256 acc;
        for (uint256 i = 0; i < op.kh; ++i) {
            for (uint256 j = 0; j < op.kw; ++j) {
                (bool inY, uint256 iy) = tap(p.oy, op.sh, i, op.pt, xs.h);
                (bool inX, uint256 ix) = tap(p.ox, op.sw, j, op.pl, xs.w);
                require(inY && inX, "avg-pool windows lie inside the input");
                acc += val(x, (iy * xs.w + ix) * xs.c + p.c) - op.zA;
            }
        }
        return roundShift(acc * op.mA, op.s, op.zOut, op.lo, op.hi);
    }

    /// @notice Runs op `k` on `slots` (slots 0 … k filled): its whole output tensor.
    function step(TestModel memory m, bytes[] memory slots, uint256 k) internal pure returns (bytes memory out) {
        TensorShape[] memory shapes = OpFixture.slotShapes(m);
        TestOp memory op = m.ops[k];
        out = new bytes(OpFixture.count(op.out));
        for (uint256 e = 0; e < out.length; ++e) {
            out[e] = bytes1(uint8(element(op, slots, shapes, e)));
        }
    }

    /// @notice Runs the whole model: every slot, input first.
    function run(TestModel memory m, bytes memory input) internal pure returns (bytes[] memory slots) {
        slots = new bytes[](m.ops.length + 1);
        slots[0] = input;
        for (uint256 k = 0; k < m.ops.length; ++k) {
            slots[k + 1] = step(m, slots, k);
        }
    }
}
