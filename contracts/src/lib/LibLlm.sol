// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {
    ElementOutOfRange,
    InvalidExponent,
    InvalidGainFrac,
    InvalidWeightShape,
    LeafIndexMismatch,
    LookupOutOfRange,
    OperandLengthMismatch,
    OperandTooLong,
    RaggedOperand,
    ZeroNorm,
    ZeroSoftmaxSum
} from "./Errors.sol";

/// @title LibLlm
/// @notice The language model's ops, one output element each, exactly as the Rust reference computes them
/// (`vouch_llm::int::ops`, docs/LLM_INT.md §3), from rows in the byte encodings of docs/LLM_INT.md §8.2: every
/// element big-endian two's complement (i16/u16 2 bytes, i32 4 bytes); a weight row
/// `M i32 | s u8 | D i16 × nb | N i16 × nb | q` (nb = cols/32; q 4-bit as GGUF's Q4 within each 32-block, element
/// j < 16 the low nibble of byte j, j ≥ 16 the high nibble of byte j − 16, or int8), the weight
/// `W[k] = D[k/32]·q[k] + N[k/32]`; an embedding table row `Me i32 | se u8 |` weight row; a gain row
/// `F u8 | G i32 × K`; a RoPE row `C i16 × half | S i16 × half`; SiLU leaves of 16 i16 entries.
/// @dev Stateless and pure: the rows are proven elsewhere (against state and model roots); here only their lengths
/// are checked, each op reverting with a typed error on a row that cannot be its operand. All arithmetic is exact
/// in int256 for every row a valid model produces (docs/LLM_INT.md §5: no intermediate reaches 2^64). Rounding:
/// `roundShift` is an arithmetic shift (half up, towards +∞, also for negative ties), `divRound` a floor division.
library LibLlm {
    /// @notice The residual stream's clamp: ±(2^26 − 1).
    int256 internal constant RES_MAX = (1 << 26) - 1;
    /// @notice Attention scores are clamped to ±2^30.
    int256 internal constant SCORE_MAX = 1 << 30;
    /// @notice The SwiGLU product's bound (the down projection's input): ±32767.
    int256 internal constant PRODUCT_MAX = 32_767;
    /// @notice bitlen(32767): a product row's exponent is max(0, bitlen(max |a·u|) − 15).
    uint256 internal constant PRODUCT_BITS = 15;
    /// @notice Probabilities are in units of 2^-15 (and P·V shifts by 15).
    uint256 internal constant PROB_FRAC = 15;
    /// @notice RoPE tables are in units of 2^-14.
    uint256 internal constant ROPE_FRAC = 14;
    /// @notice The most fractional bits of an RMSNorm gain row (`vouch_llm::int::NORM_FRAC`).
    uint8 internal constant NORM_FRAC = 24;
    /// @notice Logits per argmax chunk.
    uint256 internal constant ARGMAX_CHUNK = 8192;
    /// @notice SiLU's table entry of x is entry x + 32767 (x in [−32767, 32767]).
    int256 internal constant SILU_OFFSET = 32_767;
    /// @notice Elements per weight block (one D, one N).
    uint256 internal constant BLOCK = 32;
    /// @notice The most inputs a weight row may have (far above any calldata that could carry one).
    uint256 internal constant MAX_COLS = 1 << 20;

    // -----------------------------------------------------------------------------------------------------
    // Ops (docs/LLM_INT.md §3)
    // -----------------------------------------------------------------------------------------------------

    /// @notice §3.1 embedding gather: element `i` of `clamp(round_shift(E[i]·Me, se), ±RES_MAX)` from an embedding
    /// table row of `cols` inputs in `bits`-bit blocks, E[i] = D·q + N.
    function embed(bytes calldata row, uint256 cols, uint8 bits, uint256 i) internal pure returns (int256) {
        uint256 expected = 5 + weightRowLength(cols, bits);
        // INVARIANT: the row is exactly `Me | se |` one weight row of this shape.
        if (row.length != expected) revert OperandLengthMismatch(0, row.length, expected);
        // INVARIANT: i is an element of the row.
        if (i >= cols) revert ElementOutOfRange(i, cols);
        int256 w = _weight(row[5:], cols, bits, i);
        return _clamp(roundShift(w * _i32(row, 0), uint8(row[4])), RES_MAX);
    }

    /// @notice §3.2 RMSNorm: element `i` of `clamp(div_round(r_i·G_i, D·2^F), ±bound)`, `D = isqrt(Σ r² + E)`, from
    /// the residual row (i32 × K) and the gain row (`F u8 | G i32 × K`).
    function rmsnorm(bytes calldata residual, bytes calldata gain, int64 epsTerm, uint256 i, uint32 bound)
        internal
        pure
        returns (int256)
    {
        uint256 k = _count(residual, 0, 4);
        // INVARIANT: one gain per residual element, after F.
        if (gain.length != 1 + 4 * k) revert OperandLengthMismatch(1, gain.length, 1 + 4 * k);
        // INVARIANT: i is an element of the row.
        if (i >= k) revert ElementOutOfRange(i, k);
        uint8 frac = uint8(gain[0]);
        // INVARIANT: D·2^F stays far inside int256 (and is what the model's validation allows).
        if (frac > NORM_FRAC) revert InvalidGainFrac(frac, NORM_FRAC);
        int256 ss = _sumOfSquares(residual) + epsTerm;
        // INVARIANT: the divisor D·2^F is positive.
        if (ss < 1) revert ZeroNorm(ss);
        // casting to 'int256' is safe because isqrt(ss) < 2^128.
        // forge-lint: disable-next-line(unsafe-typecast)
        int256 den = int256(isqrt(uint256(ss))) << frac;
        return _clamp(divRound(_i32(residual, 4 * i) * _i32(gain, 1 + 4 * i), den), _bound(bound));
    }

    /// @notice §3.3 dense: `clamp(round_shift(acc·M, s − e), ±bound)`, `acc = Σ_k x_k·(D·q_k + N)`, from the input
    /// row (i16 × cols; with `scaled`, one more i16: the row's exponent e, else e = 0) and one weight row of `cols`
    /// inputs in `bits`-bit blocks.
    function dense(bytes calldata x, bytes calldata w, uint256 cols, uint8 bits, bool scaled, uint32 bound)
        internal
        pure
        returns (int256)
    {
        {
            uint256 wLen = weightRowLength(cols, bits);
            // INVARIANT: the weight row is exactly one row of this shape.
            if (w.length != wLen) revert OperandLengthMismatch(1, w.length, wLen);
            uint256 xLen = 2 * cols + (scaled ? 2 : 0);
            // INVARIANT: one input per weight column, and the exponent iff the input is scaled.
            if (x.length != xLen) revert OperandLengthMismatch(0, x.length, xLen);
        }
        int256 e = scaled ? _i16(x, 2 * cols) : int256(0);
        return _dense(x, w, cols, bits, e, bound);
    }

    /// @notice §3.3 dense with the input's exponent `e` given apart from the row: `clamp(round_shift(acc·M, s − e),
    /// ±bound)` from the input row (i16 × cols, without e) and one weight row (the one-step prover reads the down
    /// projection's e as an element of its own, `dense(…, scaled = true, …)` with e appended computes the same).
    function denseScaled(bytes calldata x, bytes calldata w, uint256 cols, uint8 bits, int256 e, uint32 bound)
        internal
        pure
        returns (int256)
    {
        {
            uint256 wLen = weightRowLength(cols, bits);
            // INVARIANT: the weight row is exactly one row of this shape.
            if (w.length != wLen) revert OperandLengthMismatch(1, w.length, wLen);
        }
        // INVARIANT: one input per weight column.
        if (x.length != 2 * cols) revert OperandLengthMismatch(0, x.length, 2 * cols);
        return _dense(x, w, cols, bits, e, bound);
    }

    /// @notice §3.4 RoPE: element `i` of a head row (pair m = (i/2) mod half) from the input pair
    /// `(x_2m, x_2m+1)` (2 × i16) and the position's RoPE row (`C i16 × half | S i16 × half`):
    /// even i: `clamp(round_shift(a·C − b·S, 14), ±bound)`, odd i: `clamp(round_shift(a·S + b·C, 14), ±bound)`.
    function rope(bytes calldata pair, bytes calldata table, uint256 i, uint32 bound) internal pure returns (int256) {
        // INVARIANT: the pair is two i16.
        if (pair.length != 4) revert OperandLengthMismatch(0, pair.length, 4);
        uint256 half = _count(table, 1, 4);
        uint256 m = (i >> 1) % half;
        (int256 a, int256 b) = (_i16(pair, 0), _i16(pair, 2));
        (int256 c, int256 s) = (_i16(table, 2 * m), _i16(table, 2 * (half + m)));
        int256 v = (i & 1) == 0 ? a * c - b * s : a * s + b * c;
        return _clamp(roundShift(v, ROPE_FRAC), _bound(bound));
    }

    /// @notice §3.6 one attention score: `clamp(round_shift((Σ_d q_d·k_d)·M, s), ±2^30)` from the q and k rows
    /// (i16 × head_dim each).
    function score(bytes calldata q, bytes calldata k, int32 multiplier, uint8 shift) internal pure returns (int256) {
        _count(q, 0, 2);
        // INVARIANT: q and k have the same head dimension.
        if (k.length != q.length) revert OperandLengthMismatch(1, k.length, q.length);
        int256 dot;
        assembly ("memory-safe") {
            let kp := k.offset
            for {
                let p := q.offset
                let end := add(p, q.length)
            } lt(p, end) {
                p := add(p, 2)
                kp := add(kp, 2)
            } {
                dot := add(
                    dot,
                    mul(signextend(1, shr(240, calldataload(p))), signextend(1, shr(240, calldataload(kp))))
                )
            }
        }
        return _clamp(roundShift(dot * multiplier, shift), SCORE_MAX);
    }

    /// @notice §3.7 softmax: probability `j` of a score row (i32 × (p + 1)) with the EXP table (i32 × T):
    /// `m = max S`, `E_k = EXP[m − S_k]` (0 when m − S_k ≥ T), `Z = Σ E`, `P_j = div_round(E_j·2^15, Z)`.
    function softmax(bytes calldata scores, bytes calldata table, uint256 j) internal pure returns (int256) {
        uint256 n = _count(scores, 0, 4);
        uint256 t = _count(table, 1, 4);
        // INVARIANT: j is an element of the row.
        if (j >= n) revert ElementOutOfRange(j, n);
        (int256 m,) = _argmax(scores);
        int256 z = _expSum(scores, table, m);
        // INVARIANT: Z is a positive divisor (EXP[0] ≥ 1 is in the sum).
        if (z < 1) revert ZeroSoftmaxSum(z);
        int256 dj = m - _i32(scores, 4 * j);
        // casting to 'uint256' is safe because 0 ≤ dj < 2^33.
        // forge-lint: disable-next-line(unsafe-typecast)
        int256 ej = uint256(dj) < t ? _i32(table, 4 * uint256(dj)) : int256(0);
        return divRound(ej << PROB_FRAC, z);
    }

    /// @notice §3.8 one attention output: `clamp(round_shift(Σ_j P_j·V_j, 15), ±bound)` over the probabilities
    /// (u16 × (p + 1)) and the first p + 1 elements of the Vᵀ row (i16 × capacity).
    function pv(bytes calldata probs, bytes calldata values, uint32 bound) internal pure returns (int256) {
        _count(probs, 0, 2);
        _count(values, 1, 2);
        // INVARIANT: every probability has its value.
        if (probs.length > values.length) revert OperandTooLong(0, probs.length, values.length);
        return _clamp(roundShift(_pvDot(probs, values), PROB_FRAC), _bound(bound));
    }

    /// @notice §3.9 residual add: `clamp(a + b, ±RES_MAX)`.
    function add(int32 a, int32 b) internal pure returns (int256) {
        return _clamp(int256(a) + b, RES_MAX);
    }

    /// @notice §3.10 SiLU: table entry x + 32767, from table leaf `leafIndex` (16 i16 entries: entry j is in leaf
    /// j / 16, at j mod 16), which must be the leaf that holds it.
    function lookup(bytes32 leaf, uint256 leafIndex, int16 x) internal pure returns (int256) {
        // INVARIANT: x is in the table's domain (the gate is clamped to ±32767).
        if (x < -SILU_OFFSET) revert LookupOutOfRange(x);
        // casting to 'uint256' is safe because 0 ≤ x + 32767 < 65535.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint256 j = uint256(int256(x) + SILU_OFFSET);
        // INVARIANT: the leaf supplied is the one holding entry j.
        if (j >> 4 != leafIndex) revert LeafIndexMismatch(leafIndex, j >> 4);
        // casting to 'int16' is intended: entry j mod 16 of the leaf, two bytes read as an i16.
        // forge-lint: disable-next-line(unsafe-typecast)
        return int16(uint16(bytes2(leaf << (16 * (j & 15)))));
    }

    /// @notice §3.11 SwiGLU product of the rows a and u (i16 × F each): for i < F,
    /// `clamp(round_shift(a_i·u_i, e), ±32767)`; for i = F, the row's exponent `e = max(0, bitlen(max |a·u|) − 15)`.
    function product(bytes calldata a, bytes calldata u, uint256 i) internal pure returns (int256) {
        uint256 f = _count(a, 0, 2);
        // INVARIANT: a and u are rows of the same width.
        if (u.length != a.length) revert OperandLengthMismatch(1, u.length, a.length);
        // INVARIANT: i is an element of the output row (F products, then e).
        if (i > f) revert ElementOutOfRange(i, f + 1);
        uint256 bits = bitLength(_absMax(a, u));
        uint256 e = bits > PRODUCT_BITS ? bits - PRODUCT_BITS : 0;
        // casting to 'int256' is safe because e ≤ 256.
        // forge-lint: disable-next-line(unsafe-typecast)
        if (i == f) return int256(e);
        return _clamp(roundShift(_i16(a, 2 * i) * _i16(u, 2 * i), e), PRODUCT_MAX);
    }

    /// @notice §3.12 argmax, stage 1: over one chunk of logits (i32 × 1 … 8192) with chunk index `chunk`, the
    /// largest value and the lowest index holding it, as an index into the whole logits row (chunk·8192 + offset).
    function argmax1(bytes calldata logits, uint32 chunk) internal pure returns (int256 value, int256 index) {
        uint256 n = _count(logits, 0, 4);
        // INVARIANT: a chunk holds at most 8192 logits.
        if (n > ARGMAX_CHUNK) revert OperandTooLong(0, logits.length, 4 * ARGMAX_CHUNK);
        uint256 best;
        (value, best) = _argmax(logits);
        // casting to 'int256' is safe because the index is below 2^32 · 8192.
        // forge-lint: disable-next-line(unsafe-typecast)
        index = int256(uint256(chunk) * ARGMAX_CHUNK + best);
    }

    /// @notice §3.12 argmax, stage 2: over the chunk results (`[value i32, index i32]` × C), the index of the
    /// largest value, ties to the earliest chunk.
    function argmax2(bytes calldata pairs) internal pure returns (int256 index) {
        _count(pairs, 0, 8);
        assembly ("memory-safe") {
            let p := pairs.offset
            let end := add(p, pairs.length)
            let value := signextend(3, shr(224, calldataload(p)))
            index := signextend(3, shr(224, calldataload(add(p, 4))))
            for { p := add(p, 8) } lt(p, end) { p := add(p, 8) } {
                let v := signextend(3, shr(224, calldataload(p)))
                if sgt(v, value) {
                    value := v
                    index := signextend(3, shr(224, calldataload(add(p, 4))))
                }
            }
        }
    }

    // -----------------------------------------------------------------------------------------------------
    // Rows (docs/LLM_INT.md §8.2)
    // -----------------------------------------------------------------------------------------------------

    /// @notice Bytes of a weight row of `cols` inputs in `bits`-bit blocks:
    /// `M i32 | s u8 | D i16 × nb | N i16 × nb | q` (q: cols/2 bytes at 4 bits, cols at 8), nb = cols/32.
    function weightRowLength(uint256 cols, uint8 bits) internal pure returns (uint256) {
        // INVARIANT: whole blocks, a bounded row, and one of the two packings.
        if (cols == 0 || cols % BLOCK != 0 || cols > MAX_COLS || (bits != 4 && bits != 8)) {
            revert InvalidWeightShape(cols, bits);
        }
        return 5 + cols / 8 + (bits == 4 ? cols / 2 : cols);
    }

    /// @notice `clamp(round_shift(acc·M, s − e), ±bound)` over an input row and a weight row whose lengths were
    /// checked.
    function _dense(bytes calldata x, bytes calldata w, uint256 cols, uint8 bits, int256 e, uint32 bound)
        private
        pure
        returns (int256)
    {
        uint8 s = uint8(w[4]);
        // INVARIANT: s − e is a shift (the model registers s ≥ 16 > 15 ≥ e for the down projection).
        if (e < 0 || e > int256(uint256(s))) revert InvalidExponent(e, s);
        int256 acc = _mac(x, w, cols / BLOCK, bits);
        // casting to 'uint8' is safe because 0 ≤ e ≤ s ≤ 255.
        // forge-lint: disable-next-line(unsafe-typecast)
        return _clamp(roundShift(acc * _i32(w, 0), s - uint8(uint256(e))), _bound(bound));
    }

    /// @notice The weight W[i] = D·q[i] + N of a weight row whose shape was checked.
    function _weight(bytes calldata w, uint256 cols, uint8 bits, uint256 i) private pure returns (int256) {
        uint256 nb = cols / BLOCK;
        uint256 b = i / BLOCK;
        uint256 qOff = 5 + 4 * nb;
        int256 q;
        if (bits == 8) {
            q = int8(uint8(w[qOff + i]));
        } else {
            uint8 packed = uint8(w[qOff + 16 * b + (i & 15)]);
            q = int256(uint256((i & 16) == 0 ? packed & 15 : packed >> 4));
        }
        return _i16(w, 5 + 2 * b) * q + _i16(w, 5 + 2 * (nb + b));
    }

    /// @notice Σ_k x_k·W[k] = Σ_b (D_b·Σ_{k∈b} x_k·q_k + N_b·Σ_{k∈b} x_k) over `nb` blocks of the input row x
    /// (i16) and the weight row w, whose lengths were checked.
    /// @dev The multiply-accumulate loop, in assembly, the 32 products of a block in a few word operations: ~29 gas
    /// a product at K = 1536 (a multiply per element, extracted from its word, cost ~51). Reads calldata only, so it
    /// is memory-safe.
    /// - Lanes: x's 16 elements of a word are biased to unsigned, x' = x + 2^15 (xor 0x8000 in every 16-bit lane),
    ///   and split into two words of eight 32-bit lanes, lane a (counted from the least significant) holding x'
    ///   of element 15 − 2a (`xe`) or 14 − 2a (`xo`). q is likewise unsigned: 4-bit as it is, 8-bit biased to
    ///   q' = q + 128 (xor 0x80 in every byte).
    /// - A dot product by one multiplication: with q laid out in the opposite order, lane b of `qo` holding q of
    ///   element 2b + 1 and lane b of `qe` of element 2b, the product's 32-bit lane 7 (its top) is
    ///   Σ_{a+b=7} xe_a·qo_b = Σ over the word's odd elements of x'·q (likewise xo·qe over the even ones): every
    ///   lane of the product is a sum of at most 8 products < 2^24, so no lane carries into the next, and the
    ///   lanes above 7 fall off the word.
    /// - `spread` lays 16 q bytes out so: from the top half of a word, byte j to the low byte of 16-bit lane j
    ///   (lane 0 least significant), in four mask-and-shift steps that halve the groups; lane b of the 32-bit
    ///   lanes then holds bytes 2b and 2b + 1 (`qe`, `qo`: a mask, a shift). A 4-bit run is one spread: byte j's
    ///   low nibble is q of element j (paired with x0), its high nibble element j + 16 (with x1).
    /// - Sums of lanes by a multiplication with 1 in every 32-bit lane, whose top lane is then the total.
    /// - Unbiased: with b the q bias (0 or 128), Σ x·q = Σ x'·q' − 2^15·Σ q' − b·Σ x, and Σ x = Σ x' − 32·2^15.
    /// EVM arithmetic is mod 2^256, exact two's complement at these magnitudes (|acc| < 2^60 for any row).
    /// Words read past a row's end (the last 4-bit run) use only the row's own bytes.
    function _mac(bytes calldata x, bytes calldata w, uint256 nb, uint8 bits) private pure returns (int256 acc) {
        assembly ("memory-safe") {
            // The 16 bytes of v's top half, byte j to the low byte of 16-bit lane j (lane 0 least significant).
            function spread(v) -> s {
                // Bytes 0–7 to the low 64 bits of the low 128-bit half, bytes 8–15 to those of the high half.
                s := or(shr(192, v), and(v, 0x0000000000000000ffffffffffffffff00000000000000000000000000000000))
                // In each half, 8 bytes in its low 64 bits: the first 4 to the low 32 bits of its low quarter,
                // the last 4 to those of its high quarter.
                s := or(
                    shr(32, and(s, 0x0000000000000000ffffffff000000000000000000000000ffffffff00000000)),
                    shl(64, and(s, 0x000000000000000000000000ffffffff000000000000000000000000ffffffff))
                )
                // Likewise, 4 bytes in each 64-bit quarter to two 32-bit lanes.
                s := or(
                    shr(16, and(s, 0x00000000ffff000000000000ffff000000000000ffff000000000000ffff0000)),
                    shl(32, and(s, 0x000000000000ffff000000000000ffff000000000000ffff000000000000ffff))
                )
                // And 2 bytes in each 32-bit lane to two 16-bit lanes.
                s := or(
                    shr(8, and(s, 0x0000ff000000ff000000ff000000ff000000ff000000ff000000ff000000ff00)),
                    shl(16, and(s, 0x000000ff000000ff000000ff000000ff000000ff000000ff000000ff000000ff))
                )
            }
            // x' = x + 2^15 of a word of 16 i16, in 32-bit lanes: element 15 − 2a in lane a of `e`, 14 − 2a of `o`.
            function lanes(word) -> e, o {
                let biased := xor(word, 0x8000800080008000800080008000800080008000800080008000800080008000)
                e := and(biased, 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff)
                o := and(shr(16, biased), 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff)
            }
            // q (4-bit) or q + 128 (8-bit) of a block in 32-bit lanes: lane b of qe0 / qo0 holds element 2b / 2b + 1,
            // of qe1 / qo1 element 16 + 2b / 17 + 2b.
            function qLanes(qAt, packing) -> qe0, qo0, qe1, qo1 {
                switch packing
                case 4 {
                    let nibble := 0x0000000f0000000f0000000f0000000f0000000f0000000f0000000f0000000f
                    let s := spread(calldataload(qAt))
                    qe0 := and(s, nibble)
                    qo0 := and(shr(16, s), nibble)
                    qe1 := and(shr(4, s), nibble)
                    qo1 := and(shr(20, s), nibble)
                }
                default {
                    let byte8 := 0x000000ff000000ff000000ff000000ff000000ff000000ff000000ff000000ff
                    let q := xor(calldataload(qAt), 0x8080808080808080808080808080808080808080808080808080808080808080)
                    let s := spread(q)
                    qe0 := and(s, byte8)
                    qo0 := and(shr(16, s), byte8)
                    s := spread(shl(128, q))
                    qe1 := and(s, byte8)
                    qo1 := and(shr(16, s), byte8)
                }
            }
            // Σ x·q and Σ x over the block whose inputs start at xAt and whose q at qAt.
            function block(xAt, qAt, packing) -> dot, sx {
                let qe0, qo0, qe1, qo1 := qLanes(qAt, packing)
                let xe0, xo0 := lanes(calldataload(xAt))
                let xe1, xo1 := lanes(calldataload(add(xAt, 32)))
                // Lane sums: a multiplication by 1 in every 32-bit lane puts the total in the top lane.
                let ones := 0x0000000100000001000000010000000100000001000000010000000100000001
                sx := sub(shr(224, mul(add(add(xe0, xo0), add(xe1, xo1)), ones)), 0x100000)
                dot := add(
                    add(shr(224, mul(xe0, qo0)), shr(224, mul(xo0, qe0))),
                    add(shr(224, mul(xe1, qo1)), shr(224, mul(xo1, qe1)))
                )
                dot := sub(dot, shl(15, shr(224, mul(add(add(qe0, qo0), add(qe1, qo1)), ones))))
                if eq(packing, 8) { dot := sub(dot, shl(7, sx)) }
            }
            let xp := x.offset
            let dp := add(w.offset, 5)
            let np := add(dp, shl(1, nb))
            let qp := add(np, shl(1, nb))
            // A block's q: 16 bytes at 4 bits, 32 at 8.
            let qStep := shl(2, bits)
            for { let dEnd := np } lt(dp, dEnd) {
                xp := add(xp, 64)
                dp := add(dp, 2)
                np := add(np, 2)
                qp := add(qp, qStep)
            } {
                let dot, sx := block(xp, qp, bits)
                acc := add(
                    acc,
                    add(
                        mul(signextend(1, shr(240, calldataload(dp))), dot),
                        mul(signextend(1, shr(240, calldataload(np))), sx)
                    )
                )
            }
        }
    }

    /// @notice Elements of `width` bytes in byte operand `operand`; reverts unless there is at least one and the
    /// length is a whole number of them.
    function _count(bytes calldata data, uint256 operand, uint256 width) private pure returns (uint256) {
        // INVARIANT: a row has at least one element, and no partial one.
        if (data.length == 0 || data.length % width != 0) revert RaggedOperand(operand, data.length, width);
        return data.length / width;
    }

    /// @notice The big-endian i16 at byte `off` of `data` (in bounds: the caller checked the length).
    function _i16(bytes calldata data, uint256 off) private pure returns (int256 v) {
        assembly ("memory-safe") {
            v := signextend(1, shr(240, calldataload(add(data.offset, off))))
        }
    }

    /// @notice The big-endian i32 at byte `off` of `data` (in bounds: the caller checked the length).
    function _i32(bytes calldata data, uint256 off) private pure returns (int256 v) {
        assembly ("memory-safe") {
            v := signextend(3, shr(224, calldataload(add(data.offset, off))))
        }
    }

    // -----------------------------------------------------------------------------------------------------
    // Row loops, in assembly: a calldata word (8 i32 or 16 i16) per step, then the row's last elements one by
    // one. Each reads its rows only (lengths checked by the caller), so it is memory-safe; a straight run of
    // word operations costs about half of a loop step per element.
    // -----------------------------------------------------------------------------------------------------

    /// @notice Σ r_i² over a row of i32.
    function _sumOfSquares(bytes calldata r) private pure returns (int256 ss) {
        assembly ("memory-safe") {
            // Σ v² over the 8 i32 of a word.
            function squares8(w) -> t {
                let v := sar(224, w)
                t := mul(v, v)
                v := sar(224, shl(32, w))
                t := add(t, mul(v, v))
                v := sar(224, shl(64, w))
                t := add(t, mul(v, v))
                v := sar(224, shl(96, w))
                t := add(t, mul(v, v))
                v := sar(224, shl(128, w))
                t := add(t, mul(v, v))
                v := sar(224, shl(160, w))
                t := add(t, mul(v, v))
                v := sar(224, shl(192, w))
                t := add(t, mul(v, v))
                v := sar(224, shl(224, w))
                t := add(t, mul(v, v))
            }
            let p := r.offset
            let end := add(p, r.length)
            for { let whole := add(p, and(r.length, not(31))) } lt(p, whole) { p := add(p, 32) } {
                ss := add(ss, squares8(calldataload(p)))
            }
            for {} lt(p, end) { p := add(p, 4) } {
                let v := sar(224, calldataload(p))
                ss := add(ss, mul(v, v))
            }
        }
    }

    /// @notice The largest i32 of a non-empty row and the position of its first occurrence.
    function _argmax(bytes calldata row) private pure returns (int256 value, uint256 at) {
        assembly ("memory-safe") {
            // The running maximum v (at element b) after the 8 i32 of a word whose first element is element `first`;
            // strictly greater, so a tie keeps the earlier element.
            function argmax8(w, first, v0, b0) -> v, b {
                v := v0
                b := b0
                let x := sar(224, w)
                if sgt(x, v) {
                    v := x
                    b := first
                }
                x := sar(224, shl(32, w))
                if sgt(x, v) {
                    v := x
                    b := add(first, 1)
                }
                x := sar(224, shl(64, w))
                if sgt(x, v) {
                    v := x
                    b := add(first, 2)
                }
                x := sar(224, shl(96, w))
                if sgt(x, v) {
                    v := x
                    b := add(first, 3)
                }
                x := sar(224, shl(128, w))
                if sgt(x, v) {
                    v := x
                    b := add(first, 4)
                }
                x := sar(224, shl(160, w))
                if sgt(x, v) {
                    v := x
                    b := add(first, 5)
                }
                x := sar(224, shl(192, w))
                if sgt(x, v) {
                    v := x
                    b := add(first, 6)
                }
                x := sar(224, shl(224, w))
                if sgt(x, v) {
                    v := x
                    b := add(first, 7)
                }
            }
            let start := row.offset
            let end := add(start, row.length)
            // Element 0 to start with (the first word meets it again, and keeps it: not greater).
            value := sar(224, calldataload(start))
            let p := start
            for { let whole := add(start, and(row.length, not(31))) } lt(p, whole) { p := add(p, 32) } {
                value, at := argmax8(calldataload(p), shr(2, sub(p, start)), value, at)
            }
            for {} lt(p, end) { p := add(p, 4) } {
                let x := sar(224, calldataload(p))
                if sgt(x, value) {
                    value := x
                    at := shr(2, sub(p, start))
                }
            }
        }
    }

    /// @notice Z = Σ_k EXP[m − S_k] over a score row whose maximum is m, the entries past the table 0.
    function _expSum(bytes calldata scores, bytes calldata table, int256 m) private pure returns (int256 z) {
        assembly ("memory-safe") {
            // Σ EXP[top − S] over the 8 scores S of a word, for the entries top − S < size of the table at `from`
            // (top is the row's maximum, so top − S ≥ 0 and `lt` as unsigned is the bound check).
            function exp8(w, top, size, from) -> sum {
                let d := sub(top, sar(224, w))
                if lt(d, size) { sum := add(sum, sar(224, calldataload(add(from, shl(2, d))))) }
                d := sub(top, sar(224, shl(32, w)))
                if lt(d, size) { sum := add(sum, sar(224, calldataload(add(from, shl(2, d))))) }
                d := sub(top, sar(224, shl(64, w)))
                if lt(d, size) { sum := add(sum, sar(224, calldataload(add(from, shl(2, d))))) }
                d := sub(top, sar(224, shl(96, w)))
                if lt(d, size) { sum := add(sum, sar(224, calldataload(add(from, shl(2, d))))) }
                d := sub(top, sar(224, shl(128, w)))
                if lt(d, size) { sum := add(sum, sar(224, calldataload(add(from, shl(2, d))))) }
                d := sub(top, sar(224, shl(160, w)))
                if lt(d, size) { sum := add(sum, sar(224, calldataload(add(from, shl(2, d))))) }
                d := sub(top, sar(224, shl(192, w)))
                if lt(d, size) { sum := add(sum, sar(224, calldataload(add(from, shl(2, d))))) }
                d := sub(top, sar(224, shl(224, w)))
                if lt(d, size) { sum := add(sum, sar(224, calldataload(add(from, shl(2, d))))) }
            }
            let t := shr(2, table.length)
            let base := table.offset
            let p := scores.offset
            let end := add(p, scores.length)
            for { let whole := add(p, and(scores.length, not(31))) } lt(p, whole) { p := add(p, 32) } {
                z := add(z, exp8(calldataload(p), m, t, base))
            }
            for {} lt(p, end) { p := add(p, 4) } {
                let d := sub(m, sar(224, calldataload(p)))
                if lt(d, t) { z := add(z, sar(224, calldataload(add(base, shl(2, d))))) }
            }
        }
    }

    /// @notice Σ_j P_j·V_j over the probabilities (u16) and as many values (i16) from the start of `values`.
    function _pvDot(bytes calldata probs, bytes calldata values) private pure returns (int256 acc) {
        assembly ("memory-safe") {
            // Σ P·V over the 16 u16 P and 16 i16 V of two words.
            function pv16(pw, vw) -> t {
                t := mul(shr(240, pw), sar(240, vw))
                t := add(t, mul(shr(240, shl(16, pw)), sar(240, shl(16, vw))))
                t := add(t, mul(shr(240, shl(32, pw)), sar(240, shl(32, vw))))
                t := add(t, mul(shr(240, shl(48, pw)), sar(240, shl(48, vw))))
                t := add(t, mul(shr(240, shl(64, pw)), sar(240, shl(64, vw))))
                t := add(t, mul(shr(240, shl(80, pw)), sar(240, shl(80, vw))))
                t := add(t, mul(shr(240, shl(96, pw)), sar(240, shl(96, vw))))
                t := add(t, mul(shr(240, shl(112, pw)), sar(240, shl(112, vw))))
                t := add(t, mul(shr(240, shl(128, pw)), sar(240, shl(128, vw))))
                t := add(t, mul(shr(240, shl(144, pw)), sar(240, shl(144, vw))))
                t := add(t, mul(shr(240, shl(160, pw)), sar(240, shl(160, vw))))
                t := add(t, mul(shr(240, shl(176, pw)), sar(240, shl(176, vw))))
                t := add(t, mul(shr(240, shl(192, pw)), sar(240, shl(192, vw))))
                t := add(t, mul(shr(240, shl(208, pw)), sar(240, shl(208, vw))))
                t := add(t, mul(shr(240, shl(224, pw)), sar(240, shl(224, vw))))
                t := add(t, mul(shr(240, shl(240, pw)), sar(240, shl(240, vw))))
            }
            let vp := values.offset
            let p := probs.offset
            let end := add(p, probs.length)
            for { let whole := add(p, and(probs.length, not(31))) } lt(p, whole) {
                p := add(p, 32)
                vp := add(vp, 32)
            } { acc := add(acc, pv16(calldataload(p), calldataload(vp))) }
            for {} lt(p, end) {
                p := add(p, 2)
                vp := add(vp, 2)
            } { acc := add(acc, mul(shr(240, calldataload(p)), sar(240, calldataload(vp)))) }
        }
    }

    /// @notice max_i |a_i·u_i| over two i16 rows of the same length.
    function _absMax(bytes calldata a, bytes calldata u) private pure returns (uint256 big) {
        assembly ("memory-safe") {
            // The running maximum m of |a·u| after the 16 i16 a and u of two words (|v| = (v + s) xor s, s = v >> 255).
            function absMax16(aw, uw, m0) -> m {
                m := m0
                let v := mul(sar(240, aw), sar(240, uw))
                let s := sar(255, v)
                v := xor(add(v, s), s)
                if gt(v, m) { m := v }
                v := mul(sar(240, shl(16, aw)), sar(240, shl(16, uw)))
                s := sar(255, v)
                v := xor(add(v, s), s)
                if gt(v, m) { m := v }
                v := mul(sar(240, shl(32, aw)), sar(240, shl(32, uw)))
                s := sar(255, v)
                v := xor(add(v, s), s)
                if gt(v, m) { m := v }
                v := mul(sar(240, shl(48, aw)), sar(240, shl(48, uw)))
                s := sar(255, v)
                v := xor(add(v, s), s)
                if gt(v, m) { m := v }
                v := mul(sar(240, shl(64, aw)), sar(240, shl(64, uw)))
                s := sar(255, v)
                v := xor(add(v, s), s)
                if gt(v, m) { m := v }
                v := mul(sar(240, shl(80, aw)), sar(240, shl(80, uw)))
                s := sar(255, v)
                v := xor(add(v, s), s)
                if gt(v, m) { m := v }
                v := mul(sar(240, shl(96, aw)), sar(240, shl(96, uw)))
                s := sar(255, v)
                v := xor(add(v, s), s)
                if gt(v, m) { m := v }
                v := mul(sar(240, shl(112, aw)), sar(240, shl(112, uw)))
                s := sar(255, v)
                v := xor(add(v, s), s)
                if gt(v, m) { m := v }
                v := mul(sar(240, shl(128, aw)), sar(240, shl(128, uw)))
                s := sar(255, v)
                v := xor(add(v, s), s)
                if gt(v, m) { m := v }
                v := mul(sar(240, shl(144, aw)), sar(240, shl(144, uw)))
                s := sar(255, v)
                v := xor(add(v, s), s)
                if gt(v, m) { m := v }
                v := mul(sar(240, shl(160, aw)), sar(240, shl(160, uw)))
                s := sar(255, v)
                v := xor(add(v, s), s)
                if gt(v, m) { m := v }
                v := mul(sar(240, shl(176, aw)), sar(240, shl(176, uw)))
                s := sar(255, v)
                v := xor(add(v, s), s)
                if gt(v, m) { m := v }
                v := mul(sar(240, shl(192, aw)), sar(240, shl(192, uw)))
                s := sar(255, v)
                v := xor(add(v, s), s)
                if gt(v, m) { m := v }
                v := mul(sar(240, shl(208, aw)), sar(240, shl(208, uw)))
                s := sar(255, v)
                v := xor(add(v, s), s)
                if gt(v, m) { m := v }
                v := mul(sar(240, shl(224, aw)), sar(240, shl(224, uw)))
                s := sar(255, v)
                v := xor(add(v, s), s)
                if gt(v, m) { m := v }
                v := mul(sar(240, shl(240, aw)), sar(240, shl(240, uw)))
                s := sar(255, v)
                v := xor(add(v, s), s)
                if gt(v, m) { m := v }
            }
            let up := u.offset
            let p := a.offset
            let end := add(p, a.length)
            for { let whole := add(p, and(a.length, not(31))) } lt(p, whole) {
                p := add(p, 32)
                up := add(up, 32)
            } { big := absMax16(calldataload(p), calldataload(up), big) }
            for {} lt(p, end) {
                p := add(p, 2)
                up := add(up, 2)
            } {
                let v := mul(sar(240, calldataload(p)), sar(240, calldataload(up)))
                if slt(v, 0) { v := sub(0, v) }
                if gt(v, big) { big := v }
            }
        }
    }

    // -----------------------------------------------------------------------------------------------------
    // Arithmetic (docs/LLM_INT.md §2.1)
    // -----------------------------------------------------------------------------------------------------

    /// @notice `round_shift(a, s) = (a + 2^(s−1)) >> s` for s ≥ 1 (an arithmetic shift: floor, so half rounds up,
    /// also for negative ties), `a` for s = 0 (`vouch_core::quant::round_half_up`).
    function roundShift(int256 a, uint256 s) internal pure returns (int256) {
        if (s == 0) return a;
        return (a + (int256(1) << (s - 1))) >> s;
    }

    /// @notice `div_round(a, b) = ⌊(2a + b) / (2b)⌋` for b > 0: a/b rounded half up, with floor division
    /// (Solidity's `/` truncates towards zero, so an inexact negative quotient is lowered by one).
    function divRound(int256 a, int256 b) internal pure returns (int256 q) {
        int256 num = 2 * a + b;
        int256 den = 2 * b;
        q = num / den;
        if (num < 0 && q * den != num) --q;
    }

    /// @notice The exact floor square root: r with r² ≤ n < (r + 1)².
    /// @dev Newton's iteration from above: z_0 = 2^⌈bitlen(n)/2⌉ ≥ √n, then z ← ⌊(z + ⌊n/z⌋)/2⌋, which decreases
    /// strictly while z > ⌊√n⌋ and never goes below it; the first step that does not decrease ends at ⌊√n⌋.
    function isqrt(uint256 n) internal pure returns (uint256 z) {
        if (n == 0) return 0;
        z = uint256(1) << ((bitLength(n) + 1) / 2);
        while (true) {
            uint256 y = (z + n / z) >> 1;
            if (y >= z) return z;
            z = y;
        }
    }

    /// @notice Bits of v: 0 for 0, else ⌊log2 v⌋ + 1.
    function bitLength(uint256 v) internal pure returns (uint256 n) {
        for (uint256 s = 128; s > 0; s >>= 1) {
            if (v >> s != 0) {
                v >>= s;
                n += s;
            }
        }
        n += v;
    }

    /// @notice v clamped to [−bound, bound].
    function _clamp(int256 v, int256 bound) private pure returns (int256) {
        if (v > bound) return bound;
        if (v < -bound) return -bound;
        return v;
    }

    /// @notice A clamp bound given as uint32, as int256.
    function _bound(uint32 bound) private pure returns (int256) {
        return int256(uint256(bound));
    }
}
