// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {RowProof, SlotProof, StepWitness} from "../../src/interfaces/IOneStepProver.sol";
import {TensorShape} from "../../src/lib/Types.sol";
import {OpFixture, TestModel, TestOp} from "./OpFixture.sol";
import {Reference} from "./Reference.sol";
import {ReferenceExec} from "./ReferenceExec.sol";

/// @notice The agreed state σ_k of a model run, with everything needed to write witnesses against it.
struct Agreed {
    TestModel m;
    uint256 k;
    TensorShape[] shapes;
    /// @dev Every slot tensor (slots > k are not in σ_k).
    bytes[] slots;
    /// @dev Tensor leaf hashes (before padding) and roots of slots 0 … k; zero root for the others.
    bytes32[][] tensorLeaves;
    bytes32[] roots;
    bytes32[] stateLeaves;
    bytes32 stateRoot;
}

/// @notice Writes one-step witnesses the way the protocol fixes them (IOneStepProver: one slot proof per operand,
/// the rows in the normative order, the dense input, the weight row and its op tree path), with plain reference
/// hashing (test/utils/Reference.sol).
library Witness {
    bytes32 internal constant ZERO = bytes32(0);

    /// @notice σ_k of `m` run on slots `slots` (slots 0 … k are used).
    function agree(TestModel memory m, bytes[] memory slots, uint256 k) internal pure returns (Agreed memory a) {
        a.m = m;
        a.k = k;
        a.shapes = OpFixture.slotShapes(m);
        a.slots = slots;
        uint256 n = m.ops.length;
        a.tensorLeaves = new bytes32[][](n + 1);
        a.roots = new bytes32[](n + 1);
        a.stateLeaves = new bytes32[](n + 1);
        for (uint256 i = 0; i <= n; ++i) {
            if (i <= k) {
                a.tensorLeaves[i] = Reference.tensorLeaves(slots[i], a.shapes[i].c);
                a.roots[i] = Reference.merkle(0x01, a.tensorLeaves[i], tensorPad());
            }
            a.stateLeaves[i] = Reference.leaf(0x02, abi.encodePacked(a.roots[i]));
        }
        a.stateRoot = Reference.merkle(0x02, a.stateLeaves, statePad());
    }

    /// @notice Runs `m` on `input` with the reference interpreter and agrees on σ_k.
    function run(TestModel memory m, bytes memory input, uint256 k) internal pure returns (Agreed memory) {
        return agree(m, ReferenceExec.run(m, input), k);
    }

    function statePad() internal pure returns (bytes32) {
        return Reference.leaf(0x02, abi.encodePacked(ZERO));
    }

    function tensorPad() internal pure returns (bytes32) {
        return Reference.leaf(0x01, new bytes(32));
    }

    /// @notice The true element e of op k (the reference interpreter's).
    function expected(Agreed memory a, uint256 e) internal pure returns (int8) {
        return ReferenceExec.element(a.m.ops[a.k], a.slots, a.shapes, e);
    }

    /// @notice Slot `s`'s root and path in σ_k.
    function slotProof(Agreed memory a, uint256 s) internal pure returns (SlotProof memory) {
        return SlotProof({root: a.roots[s], path: Reference.path(0x02, a.stateLeaves, statePad(), s)});
    }

    /// @notice Row (pixel) `r` of slot `s`: its C bytes and its ⌈C/32⌉ leaves' paths, concatenated.
    function rowProof(Agreed memory a, uint256 s, uint256 r) internal pure returns (RowProof memory p) {
        uint256 c = a.shapes[s].c;
        p.data = new bytes(c);
        for (uint256 i = 0; i < c; ++i) {
            p.data[i] = a.slots[s][r * c + i];
        }
        uint256 lpr = (c + 31) / 32;
        bytes32[] memory leaves = a.tensorLeaves[s];
        uint256 depth = 0;
        while ((uint256(1) << depth) < leaves.length) ++depth;
        p.path = new bytes32[](lpr * depth);
        for (uint256 j = 0; j < lpr; ++j) {
            bytes32[] memory one = Reference.path(0x01, leaves, tensorPad(), r * lpr + j);
            for (uint256 d = 0; d < depth; ++d) {
                p.path[j * depth + d] = one[d];
            }
        }
    }

    /// @notice The witness for element e of op k.
    function build(Agreed memory a, uint256 e) internal pure returns (StepWitness memory w) {
        TestOp memory op = a.m.ops[a.k];
        uint256 c = e % op.out.c;
        uint256 pixel = e / op.out.c;
        w.slots = new SlotProof[](op.code == OpFixture.ADD ? 2 : 1);
        w.slots[0] = slotProof(a, op.a);
        if (op.code == OpFixture.ADD) w.slots[1] = slotProof(a, op.b);

        if (op.code == OpFixture.DENSE) {
            w.input = a.slots[op.a];
            _weights(w, op, 1 + e);
        } else if (op.code == OpFixture.CONV2D || op.code == OpFixture.MAXPOOL || op.code == OpFixture.AVGPOOL) {
            w.rows = _windowRows(a, op, pixel / op.out.w, pixel % op.out.w);
            if (op.code == OpFixture.CONV2D) _weights(w, op, 1 + c);
        } else if (op.code == OpFixture.ADD) {
            w.rows = new RowProof[](2);
            w.rows[0] = rowProof(a, op.a, pixel);
            w.rows[1] = rowProof(a, op.b, pixel);
        } else if (op.code == OpFixture.RESHAPE) {
            w.rows = new RowProof[](1);
            w.rows[0] = rowProof(a, op.a, e / a.shapes[op.a].c);
        } else {
            w.rows = new RowProof[](1);
            w.rows[0] = rowProof(a, op.a, pixel);
        }
    }

    /// @notice The weight row leaf `index` of op k and its path in the op tree.
    function _weights(StepWitness memory w, TestOp memory op, uint256 index) private pure {
        bytes[] memory raw = OpFixture.leaves(op);
        w.weights = raw[index];
        w.weightPath = Reference.path(0x04, Reference.opLeafHashes(raw), Reference.leaf(0x04, ""), index);
    }

    /// @notice Rows of the window taps inside the input, kernel row-major (every tap for avg-pool, whose windows
    /// lie inside).
    function _windowRows(Agreed memory a, TestOp memory op, uint256 oy, uint256 ox)
        private
        pure
        returns (RowProof[] memory rows)
    {
        TensorShape memory xs = a.shapes[op.a];
        rows = new RowProof[](uint256(op.kh) * op.kw);
        uint256 t;
        for (uint256 i = 0; i < op.kh; ++i) {
            for (uint256 j = 0; j < op.kw; ++j) {
                (bool inY, uint256 iy) = ReferenceExec.tap(oy, op.sh, i, op.pt, xs.h);
                (bool inX, uint256 ix) = ReferenceExec.tap(ox, op.sw, j, op.pl, xs.w);
                if (inY && inX) rows[t++] = rowProof(a, op.a, iy * xs.w + ix);
            }
        }
        // Shrink to the taps found.
        assembly ("memory-safe") {
            mstore(rows, t)
        }
    }
}
