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
    /// @notice The SwiGLU product's bound (the down projection's input): ±8191.
    int256 internal constant PRODUCT_MAX = 8191;
    /// @notice bitlen(8191): a product row's exponent is max(0, bitlen(max |a·u|) − 13).
    uint256 internal constant PRODUCT_BITS = 13;
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
        uint256 wLen = weightRowLength(cols, bits);
        // INVARIANT: the weight row is exactly one row of this shape.
        if (w.length != wLen) revert OperandLengthMismatch(1, w.length, wLen);
        uint256 xLen = 2 * cols + (scaled ? 2 : 0);
        // INVARIANT: one input per weight column, and the exponent iff the input is scaled.
        if (x.length != xLen) revert OperandLengthMismatch(0, x.length, xLen);
        uint8 s = uint8(w[4]);
        int256 e = scaled ? _i16(x, 2 * cols) : int256(0);
        // INVARIANT: s − e is a shift (the model registers s ≥ 18 > 17 ≥ e for the down projection).
        if (e < 0 || e > int256(uint256(s))) revert InvalidExponent(e, s);
        int256 acc = _mac(x, w, cols / BLOCK, bits);
        // casting to 'uint8' is safe because 0 ≤ e ≤ s ≤ 255.
        // forge-lint: disable-next-line(unsafe-typecast)
        return _clamp(roundShift(acc * _i32(w, 0), s - uint8(uint256(e))), _bound(bound));
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
        int256 m;
        int256 z;
        assembly ("memory-safe") {
            let p := scores.offset
            let end := add(p, scores.length)
            m := signextend(3, shr(224, calldataload(p)))
            for { p := add(p, 4) } lt(p, end) { p := add(p, 4) } {
                let v := signextend(3, shr(224, calldataload(p)))
                if sgt(v, m) { m := v }
            }
            let base := table.offset
            for { p := scores.offset } lt(p, end) { p := add(p, 4) } {
                // d = m − S_k ≥ 0, and < 2^33: `lt` as unsigned is the table's bound check.
                let d := sub(m, signextend(3, shr(224, calldataload(p))))
                if lt(d, t) { z := add(z, signextend(3, shr(224, calldataload(add(base, shl(2, d)))))) }
            }
        }
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
        int256 acc;
        assembly ("memory-safe") {
            let vp := values.offset
            for {
                let p := probs.offset
                let end := add(p, probs.length)
            } lt(p, end) {
                p := add(p, 2)
                vp := add(vp, 2)
            } {
                acc := add(acc, mul(shr(240, calldataload(p)), signextend(1, shr(240, calldataload(vp)))))
            }
        }
        return _clamp(roundShift(acc, PROB_FRAC), _bound(bound));
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
    /// `clamp(round_shift(a_i·u_i, e), ±8191)`; for i = F, the row's exponent `e = max(0, bitlen(max |a·u|) − 13)`.
    function product(bytes calldata a, bytes calldata u, uint256 i) internal pure returns (int256) {
        uint256 f = _count(a, 0, 2);
        // INVARIANT: a and u are rows of the same width.
        if (u.length != a.length) revert OperandLengthMismatch(1, u.length, a.length);
        // INVARIANT: i is an element of the output row (F products, then e).
        if (i > f) revert ElementOutOfRange(i, f + 1);
        uint256 big;
        assembly ("memory-safe") {
            let up := u.offset
            for {
                let p := a.offset
                let end := add(p, a.length)
            } lt(p, end) {
                p := add(p, 2)
                up := add(up, 2)
            } {
                let v := mul(signextend(1, shr(240, calldataload(p))), signextend(1, shr(240, calldataload(up))))
                if slt(v, 0) { v := sub(0, v) }
                if gt(v, big) { big := v }
            }
        }
        uint256 bits = bitLength(big);
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
        assembly ("memory-safe") {
            let start := logits.offset
            let end := add(start, logits.length)
            let top := start
            value := signextend(3, shr(224, calldataload(start)))
            for { let p := add(start, 4) } lt(p, end) { p := add(p, 4) } {
                let v := signextend(3, shr(224, calldataload(p)))
                // Strictly greater: a tie keeps the lower index.
                if sgt(v, value) {
                    value := v
                    top := p
                }
            }
            best := shr(2, sub(top, start))
        }
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
    /// @dev The multiply-accumulate loop, in assembly (plain Solidity spends several times as much on bounds checks
    /// and conversions). Reads calldata only, so it is memory-safe. Per block of 32: the inputs are two words x0
    /// (elements 0–15) and x1 (16–31), element j of a word `signextend(1, shr(240 − 16j, word))`.
    /// - 4-bit q: one 16-byte run; byte j holds q_j (low nibble) and q_{j+16} (high nibble), so
    ///   `and(qw, 0x0f…)` pairs byte for byte with x0's lanes and `and(shr(4, qw), 0x0f…)` with x1's.
    /// - 8-bit q: one word, xored with 0x80 in every byte: byte j is then q_j + 128 (unsigned, no sign extension
    ///   per element), and Σ x·q = Σ x·(q + 128) − 128·Σ x.
    /// - Σ x of a word in a few operations (`sum16`): the lanes biased to unsigned (xor 0x8000), even and odd lanes
    ///   added into eight 32-bit lanes (each < 2^17), and those summed by one multiplication with 0x00000001 in
    ///   every 32-bit lane, whose top lane is then the total (< 2^21: no carries between lanes).
    /// EVM arithmetic is mod 2^256, exact two's complement at these magnitudes (|acc| < 2^64). Words read past a
    /// row's end (the last 4-bit run) use only the row's own bytes.
    function _mac(bytes calldata x, bytes calldata w, uint256 nb, uint8 bits) private pure returns (int256 acc) {
        assembly ("memory-safe") {
            // Σ_{j<16} x_j·(byte j of q) for the 16 i16 lanes of x.
            function dot16(xw, q) -> s {
                s := add(
                    add(
                        add(
                            add(
                                mul(signextend(1, shr(240, xw)), byte(0, q)),
                                mul(signextend(1, shr(224, xw)), byte(1, q))
                            ),
                            add(
                                mul(signextend(1, shr(208, xw)), byte(2, q)),
                                mul(signextend(1, shr(192, xw)), byte(3, q))
                            )
                        ),
                        add(
                            add(
                                mul(signextend(1, shr(176, xw)), byte(4, q)),
                                mul(signextend(1, shr(160, xw)), byte(5, q))
                            ),
                            add(
                                mul(signextend(1, shr(144, xw)), byte(6, q)),
                                mul(signextend(1, shr(128, xw)), byte(7, q))
                            )
                        )
                    ),
                    add(
                        add(
                            add(
                                mul(signextend(1, shr(112, xw)), byte(8, q)),
                                mul(signextend(1, shr(96, xw)), byte(9, q))
                            ),
                            add(
                                mul(signextend(1, shr(80, xw)), byte(10, q)),
                                mul(signextend(1, shr(64, xw)), byte(11, q))
                            )
                        ),
                        add(
                            add(
                                mul(signextend(1, shr(48, xw)), byte(12, q)),
                                mul(signextend(1, shr(32, xw)), byte(13, q))
                            ),
                            add(mul(signextend(1, shr(16, xw)), byte(14, q)), mul(signextend(1, xw), byte(15, q)))
                        )
                    )
                )
            }
            // Σ of the 16 i16 lanes of x.
            function sum16(xw) -> s {
                let biased := xor(xw, 0x8000800080008000800080008000800080008000800080008000800080008000)
                let lanes := 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff
                let pairs := add(and(biased, lanes), and(shr(16, biased), lanes))
                // 16 lanes biased by 2^15 each: subtract 2^19.
                s := sub(
                    shr(224, mul(pairs, 0x0000000100000001000000010000000100000001000000010000000100000001)),
                    0x80000
                )
            }
            let nibbles := 0x0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f
            let xp := x.offset
            let dp := add(w.offset, 5)
            let np := add(dp, shl(1, nb))
            let qp := add(np, shl(1, nb))
            let dEnd := np
            let qStep := 16
            if eq(bits, 8) { qStep := 32 }
            for {} lt(dp, dEnd) {
                xp := add(xp, 64)
                dp := add(dp, 2)
                np := add(np, 2)
                qp := add(qp, qStep)
            } {
                let x0 := calldataload(xp)
                let x1 := calldataload(add(xp, 32))
                let sx := add(sum16(x0), sum16(x1))
                let qw := calldataload(qp)
                let dot
                switch bits
                case 4 { dot := add(dot16(x0, and(qw, nibbles)), dot16(x1, and(shr(4, qw), nibbles))) }
                default {
                    let biased := xor(qw, 0x8080808080808080808080808080808080808080808080808080808080808080)
                    dot := sub(add(dot16(x0, biased), dot16(x1, shl(128, biased))), shl(7, sx))
                }
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

    /// @notice Σ r_i² over a row of i32.
    function _sumOfSquares(bytes calldata r) private pure returns (int256 ss) {
        assembly ("memory-safe") {
            for {
                let p := r.offset
                let end := add(p, r.length)
            } lt(p, end) { p := add(p, 4) } {
                let v := signextend(3, shr(224, calldataload(p)))
                ss := add(ss, mul(v, v))
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
