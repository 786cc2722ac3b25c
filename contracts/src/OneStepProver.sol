// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IOneStepProver, RowProof, SlotProof, StepWitness} from "./interfaces/IOneStepProver.sol";
import {
    AccumulatorOverflow,
    AvgPoolTapOutside,
    ElementOutOfRange,
    InputRootMismatch,
    InvalidClamp,
    InvalidRequant,
    ModelNotActive,
    OpOutOfRange,
    OperandShapeMismatch,
    RowLengthMismatch,
    RowPathLengthMismatch,
    RowRootMismatch,
    SlotNotReadable,
    SlotRootMismatch,
    UnexpectedWitnessData,
    WeightRootMismatch,
    WeightRowLengthMismatch,
    WitnessInputLength,
    WrongRowCount,
    WrongSlotCount,
    ZeroRegistry
} from "./lib/Errors.sol";
import {LibMerkle} from "./lib/LibMerkle.sol";
import {LibOp, OpSpec} from "./lib/LibOp.sol";
import {LibTensor} from "./lib/LibTensor.sol";
import {ModelStatus, TensorShape} from "./lib/Types.sol";

/// @title OneStepProver
/// @notice The on-chain one-step executor (phase 3 of a dispute, PROTOCOL §6.5): recomputes one output element of
/// one op with exactly the reference interpreter's per-element formula (`core/src/reference.rs`, `element`), from
/// data proven against the agreed state σ_k and the model's op roots in the registry. Every index is derived here
/// from the element index and the model's shapes; the witness supplies data only.
/// @dev Stateless: it reads the registry and the witness, and writes nothing. The dense and conv MAC loop is in
/// assembly (`_dot`); everything else is plain Solidity.
contract OneStepProver is IOneStepProver {
    /// @notice Bytes of a weight row before its weights: bias i32 ‖ M i32 ‖ s u8 (PROTOCOL §3.1).
    uint256 internal constant ROW_HEADER = 9;

    /// @notice What every check of one call needs: the op's place in the model and the agreed state.
    struct Context {
        uint256 modelId;
        uint32 k;
        /// @dev Leaves of the state tree: the model's n + 1 slots.
        uint256 slotCount;
        bytes32 stateRoot;
        /// @dev Shape of slot 0, the model's input.
        TensorShape input;
    }

    /// @notice An operand slot proven against σ_k, and the geometry of its tensor tree (PROTOCOL §3).
    struct Operand {
        uint16 slot;
        bytes32 root;
        TensorShape shape;
        /// @dev Leaves per row ⌈C/32⌉.
        uint256 leavesPerRow;
        /// @dev Leaves of the tensor tree before padding: H·W·⌈C/32⌉.
        uint256 leafCount;
        /// @dev ⌈log2 leafCount⌉: siblings on each leaf's path.
        uint256 depth;
    }

    /// @notice Output element e of op k: channel c, pixel (oy, ox) = row oy·W_out + ox of the output.
    struct Element {
        uint256 index;
        uint256 c;
        uint256 pixel;
        uint256 oy;
        uint256 ox;
    }

    /// @notice The window of one output pixel: its taps inside the input, kernel rows [i0, i1) × columns [j0, j1).
    struct Window {
        /// @dev oy·sh and ox·sw: the window's top-left corner in padded coordinates.
        uint256 y0;
        uint256 x0;
        uint256 pt;
        uint256 pl;
        uint256 i0;
        uint256 i1;
        uint256 j0;
        uint256 j1;
        /// @dev (i1 − i0)·(j1 − j0).
        uint256 taps;
    }

    /// @inheritdoc IOneStepProver
    IModelRegistry public immutable registry;

    /// @notice Deploys a prover reading op specs, op roots and shapes from `registry_`.
    constructor(IModelRegistry registry_) {
        // INVARIANT: the prover always has a registry to read models from.
        if (address(registry_) == address(0)) revert ZeroRegistry();
        registry = registry_;
    }

    /// @inheritdoc IOneStepProver
    function trueElement(uint256 modelId, uint32 k, bytes32 stateRoot, uint256 e, StepWitness calldata witness)
        external
        view
        returns (int8)
    {
        Context memory ctx = _context(modelId, k, stateRoot);
        OpSpec memory op = LibOp.decode(registry.opSpec(modelId, k));
        uint256 count = LibOp.elementCount(op.out);
        // INVARIANT: e is an element of op k's output (slot k + 1).
        if (e >= count) revert ElementOutOfRange(e, count);
        Element memory el = _element(op.out, e);

        uint8 code = op.code;
        bool weighted = code == LibOp.DENSE || code == LibOp.CONV2D;
        // INVARIANT: the witness carries only what the op reads: the whole input for dense, a weight row for dense
        // and conv2d (one canonical witness per element).
        if (
            (code != LibOp.DENSE && witness.input.length != 0)
                || (!weighted && (witness.weights.length != 0 || witness.weightPath.length != 0))
        ) revert UnexpectedWitnessData(code);
        uint256 operands = code == LibOp.ADD ? 2 : 1;
        // INVARIANT: exactly one slot proof per operand, in spec order.
        if (witness.slots.length != operands) revert WrongSlotCount(witness.slots.length, operands);
        Operand memory x = _operand(ctx, op.input, witness.slots[0]);

        if (code == LibOp.DENSE) return _dense(ctx, op, x, el, witness);
        if (code == LibOp.CONV2D) return _conv2d(ctx, op, x, el, witness);
        if (code == LibOp.CLAMP) return _clampOp(op, x, el, witness.rows);
        if (code == LibOp.MAXPOOL) return _maxPool(op, x, el, witness.rows);
        if (code == LibOp.AVGPOOL) return _avgPool(op, x, el, witness.rows);
        if (code == LibOp.ADD) return _add(op, x, _operand(ctx, op.inputB, witness.slots[1]), el, witness.rows);
        // LibOp.decode accepts no other code.
        return _reshape(op, x, el, witness.rows);
    }

    // -----------------------------------------------------------------------------------------------------
    // Ops (PROTOCOL §2; core/src/reference.rs `element`)
    // -----------------------------------------------------------------------------------------------------

    /// @notice y[e] = requant_e(bias[e] + Σ_j (x[j] − z_x)·W[e][j]) over the whole input flattened (H, W, C).
    function _dense(Context memory ctx, OpSpec memory op, Operand memory x, Element memory el, StepWitness calldata w)
        internal
        view
        returns (int8)
    {
        // INVARIANT: a dense witness has no rows: it carries the whole input tensor instead.
        if (w.rows.length != 0) revert WrongRowCount(w.rows.length, 0);
        uint256 kk = LibOp.elementCount(x.shape);
        // INVARIANT: the input is the whole slot tensor …
        if (w.input.length != kk) revert WitnessInputLength(w.input.length, kk);
        bytes32 root = LibTensor.tensorRoot(w.input, x.shape.c);
        // INVARIANT: … and exactly the agreed one.
        if (root != x.root) revert InputRootMismatch(root, x.root);
        // Weight row e is leaf 1 + e of the op tree of 1 + N leaves (N = the output's element count).
        (int256 acc, int32 m, uint8 s) = _weightRow(ctx, 1 + el.index, 1 + LibOp.elementCount(op.out), kk, w);
        acc += _dot(_offset(w.input), _offset(w.weights) + ROW_HEADER, kk, op.zX);
        return _requantAcc(acc, m, s, op);
    }

    /// @notice y[oy, ox, c] = requant_c(bias[c] + Σ_{taps inside} Σ_ci (x[iy, ix, ci] − z_x)·W[c][i][j][ci]);
    /// taps in the padding hold z_x and contribute nothing.
    function _conv2d(Context memory ctx, OpSpec memory op, Operand memory x, Element memory el, StepWitness calldata w)
        internal
        view
        returns (int8)
    {
        Window memory win = _window(op, x, el);
        // INVARIANT: one row per tap inside the input, no more.
        if (w.rows.length != win.taps) revert WrongRowCount(w.rows.length, win.taps);
        // Weight row c is leaf 1 + c of the op tree of 1 + C_out leaves; kh·kw·C_in weights in [kh][kw][C_in].
        (int256 acc, int32 m, uint8 s) =
            _weightRow(ctx, 1 + el.c, 1 + uint256(op.out.c), uint256(op.kh) * op.kw * x.shape.c, w);
        acc += _convTaps(op, x, win, w.rows, _offset(w.weights) + ROW_HEADER);
        return _requantAcc(acc, m, s, op);
    }

    /// @notice Σ over the window's taps (rows in kernel row-major order) of Σ_ci (x[iy, ix, ci] − z_x)·W[i][j][ci],
    /// the weights [kh][kw][C_in] at calldata offset `weights`; every row proven against x.
    function _convTaps(OpSpec memory op, Operand memory x, Window memory win, RowProof[] calldata rows, uint256 weights)
        internal
        pure
        returns (int256 acc)
    {
        uint256 t;
        for (uint256 i = win.i0; i < win.i1; ++i) {
            for (uint256 j = win.j0; j < win.j1; ++j) {
                acc += _convTap(op, x, win, rows[t], t, i, j, weights);
                ++t;
            }
        }
    }

    /// @notice One tap (i, j), witness row t: Σ_ci (x[iy, ix, ci] − z_x)·W[i][j][ci] over the proven row.
    function _convTap(
        OpSpec memory op,
        Operand memory x,
        Window memory win,
        RowProof calldata proof,
        uint256 t,
        uint256 i,
        uint256 j,
        uint256 weights
    ) internal pure returns (int256) {
        bytes calldata row = _verifyRow(x, _tapRow(win, x, i, j), t, proof);
        uint256 cin = x.shape.c;
        return _dot(_offset(row), weights + (i * op.kw + j) * cin, cin, op.zX);
    }

    /// @notice y[e] = clamp(x[e], lo, hi), reading pixel p of the input (same shape).
    function _clampOp(OpSpec memory op, Operand memory x, Element memory el, RowProof[] calldata rows)
        internal
        pure
        returns (int8)
    {
        // INVARIANT: clamp keeps the shape, so output pixel p is input pixel p.
        if (!_sameShape(x.shape, op.out)) _shapeMismatch(op, x);
        // INVARIANT: exactly one row, pixel p.
        if (rows.length != 1) revert WrongRowCount(rows.length, 1);
        return _clamp(_byte(_verifyRow(x, el.pixel, 0, rows[0]), el.c), op.lo, op.hi);
    }

    /// @notice y[oy, ox, c] = max over the taps inside the input of x[iy, ix, c]; padding is −128, never above a
    /// real element.
    function _maxPool(OpSpec memory op, Operand memory x, Element memory el, RowProof[] calldata rows)
        internal
        pure
        returns (int8)
    {
        // INVARIANT: pooling keeps the channels, so channel c of a row is element c.
        if (x.shape.c != op.out.c) _shapeMismatch(op, x);
        Window memory win = _window(op, x, el);
        // INVARIANT: one row per tap inside the input, no more.
        if (rows.length != win.taps) revert WrongRowCount(rows.length, win.taps);
        int8 m = type(int8).min;
        uint256 t;
        for (uint256 i = win.i0; i < win.i1; ++i) {
            for (uint256 j = win.j0; j < win.j1; ++j) {
                int8 v = _byte(_verifyRow(x, _tapRow(win, x, i, j), t, rows[t]), el.c);
                if (v > m) m = v;
                ++t;
            }
        }
        return m;
    }

    /// @notice y[oy, ox, c] = clamp(z_out + ((Σ_taps (x[iy, ix, c] − z_x))·M + 2^(s−1)) >> s, lo, hi) over the
    /// whole window, which lies inside the input.
    function _avgPool(OpSpec memory op, Operand memory x, Element memory el, RowProof[] calldata rows)
        internal
        pure
        returns (int8)
    {
        // INVARIANT: pooling keeps the channels, so channel c of a row is element c.
        if (x.shape.c != op.out.c) _shapeMismatch(op, x);
        Window memory win = _window(op, x, el);
        // INVARIANT: every tap of an average-pool window lies inside the input (no padding to average over).
        if (win.i0 != 0 || win.i1 != op.kh || win.j0 != 0 || win.j1 != op.kw) revert AvgPoolTapOutside(el.oy, el.ox);
        // INVARIANT: one row per tap, the whole window.
        if (rows.length != win.taps) revert WrongRowCount(rows.length, win.taps);
        int256 acc;
        uint256 t;
        for (uint256 i = 0; i < op.kh; ++i) {
            for (uint256 j = 0; j < op.kw; ++j) {
                acc += int256(_byte(_verifyRow(x, _tapRow(win, x, i, j), t, rows[t]), el.c)) - op.zX;
                ++t;
            }
        }
        _requireRequant(op.multiplier, op.shift);
        return _roundShift(acc * op.multiplier, op.shift, op.zOut, op.lo, op.hi);
    }

    /// @notice y[e] = clamp(z_out + (((a[e] − z_a)·M_a + (b[e] − z_b)·M_b + 2^(s−1)) >> s), lo, hi); a, b and y
    /// have the same shape, so the element is pixel p, channel c of each.
    function _add(OpSpec memory op, Operand memory a, Operand memory b, Element memory el, RowProof[] calldata rows)
        internal
        pure
        returns (int8)
    {
        // INVARIANT: both operands have the output's shape.
        if (!_sameShape(a.shape, op.out)) _shapeMismatch(op, a);
        if (!_sameShape(b.shape, op.out)) _shapeMismatch(op, b);
        // INVARIANT: exactly two rows: pixel p of a, then pixel p of b.
        if (rows.length != 2) revert WrongRowCount(rows.length, 2);
        int256 va = _byte(_verifyRow(a, el.pixel, 0, rows[0]), el.c);
        int256 vb = _byte(_verifyRow(b, el.pixel, 1, rows[1]), el.c);
        _requireRequant(op.multiplier, op.shift);
        _requireRequant(op.multiplierB, op.shift);
        int256 sum = (va - op.zX) * op.multiplier + (vb - op.zB) * op.multiplierB;
        return _roundShift(sum, op.shift, op.zOut, op.lo, op.hi);
    }

    /// @notice y[e] = x[e]: the same elements in the same row-major order, read as input pixel e / C_in, element
    /// e % C_in.
    function _reshape(OpSpec memory op, Operand memory x, Element memory el, RowProof[] calldata rows)
        internal
        pure
        returns (int8)
    {
        // INVARIANT: a reshape keeps the element count, so input element e exists.
        if (LibOp.elementCount(x.shape) != LibOp.elementCount(op.out)) _shapeMismatch(op, x);
        // INVARIANT: exactly one row, the input pixel holding element e.
        if (rows.length != 1) revert WrongRowCount(rows.length, 1);
        uint256 cin = x.shape.c;
        return _byte(_verifyRow(x, el.index / cin, 0, rows[0]), el.index % cin);
    }

    // -----------------------------------------------------------------------------------------------------
    // Proofs
    // -----------------------------------------------------------------------------------------------------

    /// @notice Reads the model and checks that disputes on it can be decided: the model is Active, or Retired after
    /// it was Active (jobs posted before retirement run to completion, their disputes too), and k is one of its ops.
    /// @dev An Active model has sealed all its ops (`publication().op == opCount`, IModelRegistry). `modelTerms` and
    /// `publication` are read instead of `getModel`, whose `uri` an owner could make arbitrarily expensive to copy.
    function _context(uint256 modelId, uint32 k, bytes32 stateRoot) internal view returns (Context memory ctx) {
        (ModelStatus status,, TensorShape memory input,,,,) = registry.modelTerms(modelId);
        (uint32 sealedOps,) = registry.publication(modelId);
        // INVARIANT: only a model whose every op was published and matched its registered root is executed. A Retired
        // model was Active iff all its ops are sealed: sealing the last op activates the model or reverts.
        if (status != ModelStatus.Active && !(status == ModelStatus.Retired && sealedOps == registry.opCount(modelId)))
        {
            revert ModelNotActive(modelId, status);
        }
        // INVARIANT: op k exists (n = sealedOps ops).
        if (k >= sealedOps) revert OpOutOfRange(modelId, k, sealedOps);
        ctx = Context({modelId: modelId, k: k, slotCount: uint256(sealedOps) + 1, stateRoot: stateRoot, input: input});
    }

    /// @notice Proves operand slot `slot`'s tensor root against σ_k and derives its tree geometry.
    function _operand(Context memory ctx, uint16 slot, SlotProof calldata proof)
        internal
        view
        returns (Operand memory x)
    {
        // INVARIANT: op k reads only slots written before it (0 … k); later slots are empty in σ_k.
        if (slot > ctx.k) revert SlotNotReadable(slot, ctx.k);
        bytes32 computed = LibMerkle.climb(
            LibMerkle.TAG_STATE, LibMerkle.leafWord(LibMerkle.TAG_STATE, proof.root), slot, proof.path, ctx.slotCount
        );
        // INVARIANT: the operand's tensor root is slot `slot` of the agreed state.
        if (computed != ctx.stateRoot) revert SlotRootMismatch(slot, computed, ctx.stateRoot);
        x.slot = slot;
        x.root = proof.root;
        // Slot 0 is the model's input; slot s > 0 is op s − 1's output.
        x.shape = slot == 0 ? ctx.input : LibOp.outShape(registry.opSpec(ctx.modelId, slot - 1));
        x.leavesPerRow = (uint256(x.shape.c) + 31) >> 5;
        x.leafCount = uint256(x.shape.h) * x.shape.w * x.leavesPerRow;
        x.depth = LibMerkle.ceilLog2(x.leafCount);
    }

    /// @notice Proves that `proof.data` is row `row` of operand `x`: each of its ⌈C/32⌉ leaves (the 32-byte chunk,
    /// zero-filled past C) climbs to x's root from leaf row·⌈C/32⌉ + j. `pos` is the row's place in the witness.
    /// Returns the proven row.
    function _verifyRow(Operand memory x, uint256 row, uint256 pos, RowProof calldata proof)
        internal
        pure
        returns (bytes calldata data)
    {
        // Each access to a member of a calldata struct re-validates its offset: read both once.
        data = proof.data;
        bytes32[] calldata path = proof.path;
        // INVARIANT: a row is exactly C bytes (the leaves' zero fill is added here, never supplied).
        if (data.length != x.shape.c) revert RowLengthMismatch(pos, data.length, x.shape.c);
        uint256 depth = x.depth;
        uint256 perRow = x.leavesPerRow;
        // INVARIANT: one path of the tree's depth per leaf of the row, concatenated leaf by leaf.
        if (path.length != perRow * depth) revert RowPathLengthMismatch(pos, path.length, perRow * depth);
        for (uint256 j = 0; j < perRow; ++j) {
            _verifyLeaf(x, pos, _chunk(data, j), row * perRow + j, path[j * depth:(j + 1) * depth]);
        }
    }

    /// @notice Proves one 32-byte leaf `word` of witness row `pos` at leaf `index` of x's tensor tree.
    function _verifyLeaf(Operand memory x, uint256 pos, bytes32 word, uint256 index, bytes32[] calldata path)
        internal
        pure
    {
        bytes32 leafHash = LibMerkle.leafWord(LibMerkle.TAG_TENSOR, word);
        bytes32 computed = LibMerkle.climb(LibMerkle.TAG_TENSOR, leafHash, index, path, x.leafCount);
        // INVARIANT: every leaf of the row is the agreed tensor's, at the row's place.
        if (computed != x.root) revert RowRootMismatch(pos, computed, x.root);
    }

    /// @notice Proves the witness's weight row against op k's root (leaf `index` of `leafCount`) and returns its
    /// bias (as the accumulator's start), M and s. `kk` is the reduction size: the row holds 9 + kk bytes.
    function _weightRow(Context memory ctx, uint256 index, uint256 leafCount, uint256 kk, StepWitness calldata w)
        internal
        view
        returns (int256 bias, int32 m, uint8 s)
    {
        bytes calldata row = w.weights;
        // INVARIANT: the row has exactly one weight per input element of the reduction.
        if (row.length != ROW_HEADER + kk) revert WeightRowLengthMismatch(row.length, ROW_HEADER + kk);
        bytes32 opRoot = registry.opRoot(ctx.modelId, ctx.k);
        bytes32 computed = LibMerkle.climb(
            LibMerkle.TAG_OP, LibMerkle.leafCalldata(LibMerkle.TAG_OP, row), index, w.weightPath, leafCount
        );
        // INVARIANT: the row is the model's: leaf `index` of op k's tree, committed by the model root.
        if (computed != opRoot) revert WeightRootMismatch(computed, opRoot);
        bias = int32(uint32(bytes4(row[0:4])));
        m = int32(uint32(bytes4(row[4:8])));
        s = uint8(row[8]);
    }

    // -----------------------------------------------------------------------------------------------------
    // Arithmetic (PROTOCOL §1.1)
    // -----------------------------------------------------------------------------------------------------

    /// @notice Σ_{i<n} (x[i] − z)·w[i] over n int8 elements at calldata offsets `xOff` and `wOff`.
    /// @dev The multiply-accumulate loop, in assembly (the design targets ~46 gas per MAC; plain Solidity spends
    /// ~10x that on bounds checks and byte conversions). Reads calldata only (no memory at all), so it is
    /// memory-safe. How one MAC is computed from 32-byte words `x` and `w`:
    /// - `w`'s byte i is a signed weight: `signextend(0, byte(i, w))`.
    /// - `x` is first xored with 0x80 in every byte, which maps a signed byte v to the unsigned byte v + 128; so
    ///   `byte(i, x) − (z + 128)` is x[i] − z with one opcode less than a sign extension.
    /// - The products are summed as a balanced tree of `add`s, 8 per statement, so partial sums stay on the stack.
    /// EVM arithmetic is mod 2^256, which is exact two's complement for these magnitudes (|acc| ≤ n·255·128 plus a
    /// bias, far below 2^255). Words may extend past the end of either array (into other calldata, or zeros past
    /// calldatasize): bytes past n are never used.
    function _dot(uint256 xOff, uint256 wOff, uint256 n, int8 z) internal pure returns (int256 acc) {
        assembly ("memory-safe") {
            let flip := 0x8080808080808080808080808080808080808080808080808080808080808080
            let zz := add(signextend(0, z), 128) // z + 128 ∈ [0, 255]
            // ----- whole words: 32 MACs each, unrolled -----
            for { let end := add(xOff, and(n, not(31))) } lt(xOff, end) {
                xOff := add(xOff, 32)
                wOff := add(wOff, 32)
            } {
                let x := xor(calldataload(xOff), flip)
                let w := calldataload(wOff)
                acc := add(
                    acc,
                    add(
                        add(
                            add(
                                mul(sub(byte(0, x), zz), signextend(0, byte(0, w))),
                                mul(sub(byte(1, x), zz), signextend(0, byte(1, w)))
                            ),
                            add(
                                mul(sub(byte(2, x), zz), signextend(0, byte(2, w))),
                                mul(sub(byte(3, x), zz), signextend(0, byte(3, w)))
                            )
                        ),
                        add(
                            add(
                                mul(sub(byte(4, x), zz), signextend(0, byte(4, w))),
                                mul(sub(byte(5, x), zz), signextend(0, byte(5, w)))
                            ),
                            add(
                                mul(sub(byte(6, x), zz), signextend(0, byte(6, w))),
                                mul(sub(byte(7, x), zz), signextend(0, byte(7, w)))
                            )
                        )
                    )
                )
                acc := add(
                    acc,
                    add(
                        add(
                            add(
                                mul(sub(byte(8, x), zz), signextend(0, byte(8, w))),
                                mul(sub(byte(9, x), zz), signextend(0, byte(9, w)))
                            ),
                            add(
                                mul(sub(byte(10, x), zz), signextend(0, byte(10, w))),
                                mul(sub(byte(11, x), zz), signextend(0, byte(11, w)))
                            )
                        ),
                        add(
                            add(
                                mul(sub(byte(12, x), zz), signextend(0, byte(12, w))),
                                mul(sub(byte(13, x), zz), signextend(0, byte(13, w)))
                            ),
                            add(
                                mul(sub(byte(14, x), zz), signextend(0, byte(14, w))),
                                mul(sub(byte(15, x), zz), signextend(0, byte(15, w)))
                            )
                        )
                    )
                )
                acc := add(
                    acc,
                    add(
                        add(
                            add(
                                mul(sub(byte(16, x), zz), signextend(0, byte(16, w))),
                                mul(sub(byte(17, x), zz), signextend(0, byte(17, w)))
                            ),
                            add(
                                mul(sub(byte(18, x), zz), signextend(0, byte(18, w))),
                                mul(sub(byte(19, x), zz), signextend(0, byte(19, w)))
                            )
                        ),
                        add(
                            add(
                                mul(sub(byte(20, x), zz), signextend(0, byte(20, w))),
                                mul(sub(byte(21, x), zz), signextend(0, byte(21, w)))
                            ),
                            add(
                                mul(sub(byte(22, x), zz), signextend(0, byte(22, w))),
                                mul(sub(byte(23, x), zz), signextend(0, byte(23, w)))
                            )
                        )
                    )
                )
                acc := add(
                    acc,
                    add(
                        add(
                            add(
                                mul(sub(byte(24, x), zz), signextend(0, byte(24, w))),
                                mul(sub(byte(25, x), zz), signextend(0, byte(25, w)))
                            ),
                            add(
                                mul(sub(byte(26, x), zz), signextend(0, byte(26, w))),
                                mul(sub(byte(27, x), zz), signextend(0, byte(27, w)))
                            )
                        ),
                        add(
                            add(
                                mul(sub(byte(28, x), zz), signextend(0, byte(28, w))),
                                mul(sub(byte(29, x), zz), signextend(0, byte(29, w)))
                            ),
                            add(
                                mul(sub(byte(30, x), zz), signextend(0, byte(30, w))),
                                mul(sub(byte(31, x), zz), signextend(0, byte(31, w)))
                            )
                        )
                    )
                )
            }
            // ----- the last n mod 32 elements: 8 at a time, then one by one, consuming the words from the top -----
            let rem := and(n, 31)
            if rem {
                let x := xor(calldataload(xOff), flip)
                let w := calldataload(wOff)
                for {} gt(rem, 7) { rem := sub(rem, 8) } {
                    acc := add(
                        acc,
                        add(
                            add(
                                add(
                                    mul(sub(byte(0, x), zz), signextend(0, byte(0, w))),
                                    mul(sub(byte(1, x), zz), signextend(0, byte(1, w)))
                                ),
                                add(
                                    mul(sub(byte(2, x), zz), signextend(0, byte(2, w))),
                                    mul(sub(byte(3, x), zz), signextend(0, byte(3, w)))
                                )
                            ),
                            add(
                                add(
                                    mul(sub(byte(4, x), zz), signextend(0, byte(4, w))),
                                    mul(sub(byte(5, x), zz), signextend(0, byte(5, w)))
                                ),
                                add(
                                    mul(sub(byte(6, x), zz), signextend(0, byte(6, w))),
                                    mul(sub(byte(7, x), zz), signextend(0, byte(7, w)))
                                )
                            )
                        )
                    )
                    x := shl(64, x)
                    w := shl(64, w)
                }
                for {} rem { rem := sub(rem, 1) } {
                    acc := add(acc, mul(sub(byte(0, x), zz), signextend(0, byte(0, w))))
                    x := shl(8, x)
                    w := shl(8, w)
                }
            }
        }
    }

    /// @notice Dense/conv requantization: y = clamp(z_out + ((acc·M + 2^(s−1)) >> s), lo, hi).
    function _requantAcc(int256 acc, int32 m, uint8 s, OpSpec memory op) internal pure returns (int8) {
        // INVARIANT: the accumulator fits i32, as the registration bound guarantees for every valid model (the
        // reference interpreter refuses anything else, so the chain does too).
        if (acc < type(int32).min || acc > type(int32).max) revert AccumulatorOverflow(acc);
        _requireRequant(m, s);
        return _roundShift(acc * m, s, op.zOut, op.lo, op.hi);
    }

    /// @notice clamp(zero + ((v + 2^(s−1)) >> s), lo, hi) (`quant::round_shift`): rounds half up, also for
    /// negative ties. `s` was checked to be in [1, 62].
    function _roundShift(int256 v, uint8 s, int8 zero, int8 lo, int8 hi) internal pure returns (int8) {
        // `>>` on an int256 is an arithmetic shift: floor division by 2^s (towards −∞), as PROTOCOL §1.1 requires.
        // (`/` would truncate towards zero and differ on negative values.) No overflow: |v| < 2^72 here.
        return _clamp(int256(zero) + ((v + (int256(1) << (s - 1))) >> s), lo, hi);
    }

    /// @notice Reverts unless `1 ≤ M` and `1 ≤ s ≤ 62` (M ≤ 2^31 − 1 as an i32).
    function _requireRequant(int32 m, uint8 s) internal pure {
        // INVARIANT: the one formula's parameter ranges (PROTOCOL §1.1): a shift of 0 would make 2^(s−1) undefined.
        if (m < 1 || s < 1 || s > 62) revert InvalidRequant(m, s);
    }

    /// @notice v clamped to [lo, hi].
    function _clamp(int256 v, int8 lo, int8 hi) internal pure returns (int8) {
        // INVARIANT: clamp bounds are ordered (the reference's `clamp` refuses lo > hi too).
        if (lo > hi) revert InvalidClamp(lo, hi);
        if (v < lo) return lo;
        if (v > hi) return hi;
        // casting to 'int8' is safe because lo ≤ v ≤ hi are int8 bounds.
        // forge-lint: disable-next-line(unsafe-typecast)
        return int8(v);
    }

    // -----------------------------------------------------------------------------------------------------
    // Geometry and data
    // -----------------------------------------------------------------------------------------------------

    /// @notice Channel, pixel and pixel coordinates of output element e (shape `out`, e < its element count).
    function _element(TensorShape memory out, uint256 e) internal pure returns (Element memory el) {
        el.index = e;
        el.c = e % out.c;
        el.pixel = e / out.c;
        el.oy = el.pixel / out.w;
        el.ox = el.pixel % out.w;
    }

    /// @notice The taps of output pixel (oy, ox)'s window that land inside input x: kernel rows [i0, i1) × columns
    /// [j0, j1), a rectangle since each axis is independent.
    function _window(OpSpec memory op, Operand memory x, Element memory el) internal pure returns (Window memory win) {
        win.y0 = el.oy * op.sh;
        win.x0 = el.ox * op.sw;
        win.pt = op.pt;
        win.pl = op.pl;
        (win.i0, win.i1) = _taps(win.y0, op.pt, op.kh, x.shape.h);
        (win.j0, win.j1) = _taps(win.x0, op.pl, op.kw, x.shape.w);
        win.taps = (win.i1 - win.i0) * (win.j1 - win.j0);
    }

    /// @notice The input row (pixel iy·W + ix, iy = oy·sh + i − pt, ix = ox·sw + j − pl) of tap (i, j) inside.
    function _tapRow(Window memory win, Operand memory x, uint256 i, uint256 j) internal pure returns (uint256) {
        return (win.y0 + i - win.pt) * x.shape.w + (win.x0 + j - win.pl);
    }

    /// @notice The kernel taps t ∈ [t0, t1) along one axis that land inside the input for a window starting at
    /// `base` = o·stride: 0 ≤ base + t − pad < extent (an empty range when there are none).
    function _taps(uint256 base, uint8 pad, uint8 kernel, uint32 extent)
        internal
        pure
        returns (uint256 t0, uint256 t1)
    {
        t0 = pad > base ? pad - base : 0;
        uint256 limit = uint256(extent) + pad; // t < limit − base
        t1 = limit > base ? limit - base : 0;
        if (t1 > kernel) t1 = kernel;
        if (t1 < t0) t1 = t0;
    }

    function _sameShape(TensorShape memory a, TensorShape memory b) internal pure returns (bool) {
        return a.h == b.h && a.w == b.w && a.c == b.c;
    }

    function _shapeMismatch(OpSpec memory op, Operand memory x) internal pure {
        revert OperandShapeMismatch(op.code, x.slot, x.shape.h, x.shape.w, x.shape.c);
    }

    /// @notice Element `i` of a proven row, as int8.
    function _byte(bytes calldata row, uint256 i) internal pure returns (int8) {
        return int8(uint8(row[i]));
    }

    /// @notice Leaf `j` of a row: its 32 bytes from 32·j, zero-filled past the row's end.
    function _chunk(bytes calldata data, uint256 j) internal pure returns (bytes32 word) {
        assembly ("memory-safe") {
            let start := shl(5, j)
            word := calldataload(add(data.offset, start))
            let rest := sub(data.length, start) // ≥ 1: j < ⌈len/32⌉
            // Keep the first `rest` bytes (the high-order ones) of a partial last leaf.
            if lt(rest, 32) { word := and(word, not(shr(shl(3, rest), not(0)))) }
        }
    }

    /// @notice Calldata offset of a calldata byte array's first byte.
    function _offset(bytes calldata data) internal pure returns (uint256 off) {
        assembly ("memory-safe") {
            off := data.offset
        }
    }
}
