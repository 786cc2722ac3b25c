// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {LlmOps} from "../src/LlmOps.sol";
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
} from "../src/lib/Errors.sol";
import {LibLlm} from "../src/lib/LibLlm.sol";
import {Base} from "./Base.t.sol";

/// @notice The language-model ops against the worked examples of docs/LLM_INT.md §3 (the same numbers as the unit
/// tests of `vouch_llm::int::ops`), their typed reverts on rows of the wrong length, and fuzzed agreement of the
/// assembly loops and the rounding primitives with plain Solidity. The differential test against the Rust reference
/// on random rows at SmolLM2's sizes is `chain/tests/llm_ops.rs`.
contract LlmOpsTest is Base {
    LlmOps internal ops;

    function setUp() public {
        ops = new LlmOps();
    }

    // -----------------------------------------------------------------------------------------------------
    // Encodings (docs/LLM_INT.md §8.2)
    // -----------------------------------------------------------------------------------------------------

    function _i16s(int256[] memory v) internal pure returns (bytes memory out) {
        for (uint256 i = 0; i < v.length; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            out = abi.encodePacked(out, int16(v[i]));
        }
    }

    function _i32s(int256[] memory v) internal pure returns (bytes memory out) {
        for (uint256 i = 0; i < v.length; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            out = abi.encodePacked(out, int32(v[i]));
        }
    }

    /// @notice `M i32 | s u8 | D i16 × nb | N i16 × nb | q`, q packed as `bits` says (4: GGUF Q4 order).
    function _weightRow(int32 m, uint8 s, int256[] memory d, int256[] memory n, int256[] memory q, uint8 bits)
        internal
        pure
        returns (bytes memory out)
    {
        out = abi.encodePacked(m, s, _i16s(d), _i16s(n));
        for (uint256 b = 0; b < q.length / 32; ++b) {
            if (bits == 4) {
                for (uint256 j = 0; j < 16; ++j) {
                    // forge-lint: disable-next-line(unsafe-typecast)
                    out = abi.encodePacked(out, uint8(uint256(q[32 * b + j] | (q[32 * b + j + 16] << 4))));
                }
            } else {
                for (uint256 j = 0; j < 32; ++j) {
                    // forge-lint: disable-next-line(unsafe-typecast)
                    out = abi.encodePacked(out, int8(q[32 * b + j]));
                }
            }
        }
    }

    function _zeros(uint256 n) internal pure returns (int256[] memory) {
        return new int256[](n);
    }

    function _one(int256 a) internal pure returns (int256[] memory v) {
        v = new int256[](1);
        v[0] = a;
    }

    function _list(int256 a, int256 b) internal pure returns (int256[] memory v) {
        v = new int256[](2);
        (v[0], v[1]) = (a, b);
    }

    function _list(int256 a, int256 b, int256 c, int256 d) internal pure returns (int256[] memory v) {
        v = new int256[](4);
        (v[0], v[1], v[2], v[3]) = (a, b, c, d);
    }

    /// @notice The §3.3 example's block: D = 4096, N = −32767, q = [3, 15, 0, …].
    function _exampleBlock(uint8 bits) internal pure returns (bytes memory) {
        int256[] memory q = _zeros(32);
        (q[0], q[1]) = (3, 15);
        return _weightRow(1, 1, _one(4096), _one(-32_767), q, bits);
    }

    /// @notice x = [1000, −2000, 0, …] (32 elements), with the exponent `e` appended when given.
    function _exampleInput(bool scaled, int256 e) internal pure returns (bytes memory x) {
        int256[] memory v = _zeros(32);
        (v[0], v[1]) = (1000, -2000);
        x = _i16s(v);
        // forge-lint: disable-next-line(unsafe-typecast)
        if (scaled) x = abi.encodePacked(x, int16(e));
    }

    // -----------------------------------------------------------------------------------------------------
    // Worked examples (docs/LLM_INT.md §3)
    // -----------------------------------------------------------------------------------------------------

    function test_embed_workedExample_succeeds() public view {
        // §3.1: E = 4096 · 57, (Me, se) = (1,125,899,907, 40) → 239. One 8-bit block, N = 0.
        int256[] memory q = _zeros(32);
        q[5] = 57;
        bytes memory row =
            abi.encodePacked(int32(1_125_899_907), uint8(40), _weightRow(7, 20, _one(4096), _one(0), q, 8));
        assertEqInt(ops.embed(row, 32, 8, 5), 239, "239");
        assertEqInt(ops.embed(row, 32, 8, 0), 0, "q = 0");
    }

    function test_rmsnorm_workedExample_succeeds() public view {
        // §3.2 with K = 4: E = 42, F = 17 → [2170, −2170, 2170, 6511].
        bytes memory r = _i32s(_list(1024, -2048, 512, 3072));
        bytes memory g =
            abi.encodePacked(uint8(17), _i32s(_list(1_073_676_288, 536_838_144, 2_147_352_576, 1_073_676_288)));
        int256[4] memory want = [int256(2170), -2170, 2170, 6511];
        for (uint256 i = 0; i < 4; ++i) {
            assertEqInt(ops.rmsnorm(r, g, 42, i, 16_383), want[i], "y_i");
        }
        // The same row clamped to ±2000.
        assertEqInt(ops.rmsnorm(r, g, 42, 1, 2000), -2000, "clamped");
    }

    function test_dense_workedExample_succeeds() public view {
        // §3.3: acc = 1000·(−20479) + (−2000)·28673 = −77,825,000; M = 1, s = 1 halves it.
        for (uint8 bits = 4; bits <= 8; bits += 4) {
            bytes memory w = _exampleBlock(bits);
            assertEqInt(ops.dense(_exampleInput(false, 0), w, 32, bits, false, type(uint32).max), -38_912_500, "e=0");
            // An exponent of 1 shifts one bit less.
            assertEqInt(ops.dense(_exampleInput(true, 1), w, 32, bits, true, type(uint32).max), -77_825_000, "e=1");
            assertEqInt(ops.dense(_exampleInput(true, 0), w, 32, bits, true, 16_383), -16_383, "clamped");
        }
    }

    function test_rope_workedExample_succeeds() public view {
        // §3.4: p = 3, pair 0: C = −16220, S = 2312; x = (100, −50) → (−92, 64). A row of half = 32.
        int256[] memory c = _zeros(32);
        int256[] memory s = _zeros(32);
        (c[0], s[0]) = (-16_220, 2312);
        bytes memory row = abi.encodePacked(_i16s(c), _i16s(s));
        bytes memory pair = _i16s(_list(100, -50));
        assertEqInt(ops.rope(pair, row, 0, 4095), -92, "y_0");
        assertEqInt(ops.rope(pair, row, 1, 4095), 64, "y_1");
        // Element 64 + 1 of a row of heads is pair 0 of head 1.
        assertEqInt(ops.rope(pair, row, 65, 4095), 64, "head 1");
        assertEqInt(ops.rope(pair, row, 0, 50), -50, "clamped");
    }

    function test_softmax_workedExample_succeeds() public view {
        // §3.7: scores [100, 68, 0] → [23210, 8538, 1020]. The EXP entries read: d = 0, 32, 100.
        int256[] memory table = _zeros(466);
        (table[0], table[32], table[100]) = (1_048_576, 385_750, 46_071);
        bytes memory exp = _i32s(table);
        bytes memory scores = abi.encodePacked(int32(100), int32(68), int32(0));
        int256[3] memory want = [int256(23_210), 8538, 1020];
        for (uint256 j = 0; j < 3; ++j) {
            assertEqInt(ops.softmax(scores, exp, j), want[j], "P_j");
        }
        // A score 466 or more below the max gets probability 0.
        assertEqInt(ops.softmax(abi.encodePacked(int32(500), int32(34)), exp, 1), 0, "past the table");
    }

    function test_product_workedExample_succeeds() public view {
        // §3.11: e = 15, y = [610, −18, −29999, 0].
        bytes memory a = _i16s(_list(1000, -200, 30_000, 5));
        bytes memory u = _i16s(_list(20_000, 3000, -32_767, 7));
        int256[5] memory want = [int256(610), -18, -29_999, 0, 15];
        for (uint256 i = 0; i < 5; ++i) {
            assertEqInt(ops.product(a, u, i), want[i], "y_i, then e");
        }
        // Small products: e = 0, the values unchanged.
        assertEqInt(ops.product(_i16s(_list(-3, 2)), _i16s(_list(5, 1)), 0), -15, "e = 0");
        assertEqInt(ops.product(_i16s(_list(-3, 2)), _i16s(_list(5, 1)), 2), 0, "e");
    }

    function test_pv_negativeTieRoundsUp_succeeds() public view {
        // acc = 16384·(−3) = −1.5·2^15 → −1 (half up), not −2 (half away from zero); the values row is longer.
        bytes memory probs = abi.encodePacked(uint16(16_384));
        assertEqInt(ops.pv(probs, _i16s(_list(-3, 7)), 16_383), -1, "-1.5");
        assertEqInt(ops.pv(probs, _i16s(_list(-1, 7)), 16_383), 0, "-0.5");
        // 2^15 · 16383 with the bound at 100.
        assertEqInt(ops.pv(abi.encodePacked(uint16(32_768)), _i16s(_list(16_383, 0)), 100), 100, "clamped");
    }

    function test_score_roundsAndClamps_succeeds() public view {
        bytes memory q = _i16s(_list(3, -4));
        bytes memory k = _i16s(_list(5, 2));
        // dot = 7, ·M = 7·3 = 21, >> 2 with half up: 5.25 → 5; dot·1 >> 1 = 3.5 → 4.
        assertEqInt(ops.score(q, k, 3, 2), 5, "21/4");
        assertEqInt(ops.score(q, k, 1, 1), 4, "7/2");
        // −7/2 = −3.5 → −3.
        assertEqInt(ops.score(q, _i16s(_list(-5, -2)), 1, 1), -3, "-7/2");
        assertEqInt(ops.score(q, k, type(int32).max, 0), 1 << 30, "clamped");
    }

    function test_add_clampsToTheResidualBound_succeeds() public view {
        assertEqInt(ops.add(3, -5), -2, "small");
        assertEqInt(ops.add(type(int32).max, 1), LibLlm.RES_MAX, "high");
        assertEqInt(ops.add(type(int32).min, type(int32).min), -LibLlm.RES_MAX, "low");
    }

    function test_lookup_readsTheEntryOfItsLeaf_succeeds() public view {
        // Leaf 2047 holds entries 32752 … 32767 (x = −15 … 0); entry j mod 16 = 14 is x = −1.
        bytes32 leaf = bytes32(abi.encodePacked(_i16s(_seq(16, -100))));
        assertEqInt(ops.lookup(leaf, 2047, -1), -86, "entry 14");
        assertEqInt(ops.lookup(leaf, 2047, -15), -100, "entry 0");
        assertEqInt(ops.lookup(leaf, 4095, 32_767), -86, "the last entry");
    }

    function test_argmax_tiesGoToTheLowestIndex_succeeds() public view {
        int256[] memory v = _zeros(8);
        (v[2], v[5], v[7]) = (9, 9, -3);
        (int256 value, int256 index) = ops.argmax1(_i32s(v), 0);
        assertEqInt(value, 9, "value");
        assertEqInt(index, 2, "first of the tie");
        (, index) = ops.argmax1(_i32s(v), 3);
        assertEqInt(index, 3 * 8192 + 2, "chunk offset");
        // All equal: index 0.
        (value, index) = ops.argmax1(_i32s(_list(-5, -5)), 0);
        assertEqInt(index, 0, "all equal");
        // Stage 2: the largest value, ties to the earliest chunk.
        bytes memory pairs = abi.encodePacked(int32(4), int32(17), int32(9), int32(8197), int32(9), int32(16_390));
        assertEqInt(ops.argmax2(pairs), 8197, "earliest chunk of the tie");
        assertEqInt(ops.argmax2(abi.encodePacked(int32(-1), int32(3))), 3, "one chunk");
    }

    // -----------------------------------------------------------------------------------------------------
    // Typed reverts
    // -----------------------------------------------------------------------------------------------------

    function test_embed_wrongLength_reverts() public {
        bytes memory row = new bytes(5 + 5 + 4 + 32);
        vm.expectRevert(abi.encodeWithSelector(OperandLengthMismatch.selector, 0, row.length, 5 + 5 + 4 + 16));
        ops.embed(row, 32, 4, 0);
        vm.expectRevert(abi.encodeWithSelector(ElementOutOfRange.selector, 32, 32));
        ops.embed(row, 32, 8, 32);
        vm.expectRevert(abi.encodeWithSelector(InvalidWeightShape.selector, 33, 8));
        ops.embed(row, 33, 8, 0);
        vm.expectRevert(abi.encodeWithSelector(InvalidWeightShape.selector, 32, 5));
        ops.embed(row, 32, 5, 0);
    }

    function test_dense_wrongLength_reverts() public {
        bytes memory w = _exampleBlock(4);
        vm.expectRevert(abi.encodeWithSelector(OperandLengthMismatch.selector, 1, w.length, 5 + 4 + 32));
        ops.dense(_exampleInput(false, 0), w, 32, 8, false, 100);
        // The exponent is missing, or present where none is read.
        vm.expectRevert(abi.encodeWithSelector(OperandLengthMismatch.selector, 0, 64, 66));
        ops.dense(_exampleInput(false, 0), w, 32, 4, true, 100);
        vm.expectRevert(abi.encodeWithSelector(OperandLengthMismatch.selector, 0, 66, 64));
        ops.dense(_exampleInput(true, 0), w, 32, 4, false, 100);
        vm.expectRevert(abi.encodeWithSelector(InvalidWeightShape.selector, 0, 4));
        ops.dense(_exampleInput(false, 0), w, 0, 4, false, 100);
    }

    function test_dense_exponentAboveShift_reverts() public {
        // The example row has s = 1.
        vm.expectRevert(abi.encodeWithSelector(InvalidExponent.selector, int256(2), uint8(1)));
        ops.dense(_exampleInput(true, 2), _exampleBlock(4), 32, 4, true, 100);
        vm.expectRevert(abi.encodeWithSelector(InvalidExponent.selector, int256(-1), uint8(1)));
        ops.dense(_exampleInput(true, -1), _exampleBlock(4), 32, 4, true, 100);
    }

    function test_rmsnorm_wrongLengthOrConstants_reverts() public {
        bytes memory r = _i32s(_list(1, 2, 3, 4));
        vm.expectRevert(abi.encodeWithSelector(RaggedOperand.selector, 0, 3, 4));
        ops.rmsnorm(hex"000001", new bytes(5), 1, 0, 10);
        vm.expectRevert(abi.encodeWithSelector(RaggedOperand.selector, 0, 0, 4));
        ops.rmsnorm("", hex"00", 1, 0, 10);
        vm.expectRevert(abi.encodeWithSelector(OperandLengthMismatch.selector, 1, 16, 17));
        ops.rmsnorm(r, new bytes(16), 1, 0, 10);
        vm.expectRevert(abi.encodeWithSelector(ElementOutOfRange.selector, 4, 4));
        ops.rmsnorm(r, new bytes(17), 1, 4, 10);
        bytes memory g = new bytes(17);
        g[0] = bytes1(uint8(25));
        vm.expectRevert(abi.encodeWithSelector(InvalidGainFrac.selector, uint8(25), uint8(24)));
        ops.rmsnorm(r, g, 1, 0, 10);
        vm.expectRevert(abi.encodeWithSelector(ZeroNorm.selector, int256(0)));
        ops.rmsnorm(new bytes(16), new bytes(17), 0, 0, 10);
    }

    function test_rope_wrongLength_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(OperandLengthMismatch.selector, 0, 2, 4));
        ops.rope(hex"0001", new bytes(128), 0, 10);
        vm.expectRevert(abi.encodeWithSelector(RaggedOperand.selector, 1, 126, 4));
        ops.rope(hex"00010002", new bytes(126), 0, 10);
    }

    function test_score_wrongLength_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(OperandLengthMismatch.selector, 1, 126, 128));
        ops.score(new bytes(128), new bytes(126), 1, 1);
        vm.expectRevert(abi.encodeWithSelector(RaggedOperand.selector, 0, 127, 2));
        ops.score(new bytes(127), new bytes(127), 1, 1);
    }

    function test_softmax_wrongLengthOrTable_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(RaggedOperand.selector, 0, 6, 4));
        ops.softmax(new bytes(6), new bytes(8), 0);
        vm.expectRevert(abi.encodeWithSelector(RaggedOperand.selector, 1, 0, 4));
        ops.softmax(new bytes(8), "", 0);
        vm.expectRevert(abi.encodeWithSelector(ElementOutOfRange.selector, 2, 2));
        ops.softmax(new bytes(8), new bytes(8), 2);
        // EXP[0] = 0: Z = 0.
        vm.expectRevert(abi.encodeWithSelector(ZeroSoftmaxSum.selector, int256(0)));
        ops.softmax(new bytes(8), new bytes(8), 0);
    }

    function test_pv_wrongLength_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(OperandTooLong.selector, 0, 6, 4));
        ops.pv(new bytes(6), new bytes(4), 10);
        vm.expectRevert(abi.encodeWithSelector(RaggedOperand.selector, 1, 5, 2));
        ops.pv(new bytes(4), new bytes(5), 10);
    }

    function test_lookup_wrongLeafOrDomain_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(LeafIndexMismatch.selector, 2046, 2047));
        ops.lookup(bytes32(0), 2046, 0);
        vm.expectRevert(abi.encodeWithSelector(LookupOutOfRange.selector, int256(-32_768)));
        ops.lookup(bytes32(0), 0, -32_768);
    }

    function test_product_wrongLength_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(OperandLengthMismatch.selector, 1, 6, 4));
        ops.product(new bytes(4), new bytes(6), 0);
        vm.expectRevert(abi.encodeWithSelector(ElementOutOfRange.selector, 3, 3));
        ops.product(new bytes(4), new bytes(4), 3);
    }

    function test_argmax_wrongLength_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(OperandTooLong.selector, 0, 4 * 8193, 4 * 8192));
        ops.argmax1(new bytes(4 * 8193), 0);
        vm.expectRevert(abi.encodeWithSelector(RaggedOperand.selector, 0, 0, 4));
        ops.argmax1("", 0);
        vm.expectRevert(abi.encodeWithSelector(RaggedOperand.selector, 0, 12, 8));
        ops.argmax2(new bytes(12));
    }

    // -----------------------------------------------------------------------------------------------------
    // Fuzz: the assembly loops against plain Solidity, the rounding primitives against their definitions
    // -----------------------------------------------------------------------------------------------------

    /// @notice A dense element over random blocks equals the plain loop Σ_k x_k·(D·q_k + N) (4- and 8-bit rows).
    function testFuzz_dense_matchesThePlainLoop_succeeds(uint256 seed, uint8 blocks, bool eightBit, uint8 s)
        public
        view
    {
        uint256 cols = 32 * bound(blocks, 1, 8);
        uint8 bits = eightBit ? 8 : 4;
        // forge-lint: disable-next-line(unsafe-typecast)
        uint8 shift = uint8(bound(s, 0, 40));
        // forge-lint: disable-next-line(unsafe-typecast)
        uint8 e = uint8(bound(seed, 0, shift));
        (bytes memory x, bytes memory w, int256 acc) = _randomDense(seed, cols, bits, shift, e);
        int256 want = LibLlm.roundShift(acc * 40_000, shift - e);
        int256 top = int256(uint256(type(uint32).max));
        want = want > top ? top : want < -top ? -top : want;
        assertEqInt(ops.dense(x, w, cols, bits, true, type(uint32).max), want, "dense");
    }

    /// @notice A random input row (any int16, then the exponent `e`), a random weight row (M = 40000, s = `shift`)
    /// and their Σ_k x_k·(D·q_k + N), by the plain loop.
    function _randomDense(uint256 seed, uint256 cols, uint8 bits, uint8 shift, uint8 e)
        internal
        pure
        returns (bytes memory x, bytes memory w, int256 acc)
    {
        int256[] memory xs = _random(seed, cols, 0);
        int256[] memory q = _random(seed ^ 1, cols, 0);
        int256[] memory d = _random(seed ^ 2, cols / 32, 0);
        int256[] memory n = _random(seed ^ 3, cols / 32, 0);
        for (uint256 k = 0; k < cols; ++k) {
            q[k] = bits == 8 ? q[k] % 128 : (q[k] % 16 + 16) % 16;
            acc += xs[k] * (d[k / 32] * q[k] + n[k / 32]);
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        x = abi.encodePacked(_i16s(xs), int16(uint16(e)));
        w = _weightRow(40_000, shift, d, n, q, bits);
    }

    /// @notice Stage 1 of the argmax equals a plain loop (random chunk lengths, few distinct values for ties).
    function testFuzz_argmax1_matchesThePlainLoop_succeeds(uint256 seed, uint16 len, uint32 chunk) public view {
        uint256 n = bound(len, 1, 300);
        int256[] memory v = _random(seed, n, 3);
        uint256 best;
        for (uint256 i = 1; i < n; ++i) {
            if (v[i] > v[best]) best = i;
        }
        (int256 value, int256 index) = ops.argmax1(_i32s(v), chunk);
        assertEqInt(value, v[best], "value");
        // forge-lint: disable-next-line(unsafe-typecast)
        assertEqInt(index, int256(uint256(chunk) * 8192 + best), "index");
    }

    /// @notice Every int16 decodes exactly: a one-element score with M = 1, s = 0 is the product.
    function testFuzz_score_decodesEveryInt16_succeeds(int16 a, int16 b) public view {
        int256 want = int256(a) * b;
        if (want > 1 << 30) want = 1 << 30;
        assertEqInt(ops.score(abi.encodePacked(a), abi.encodePacked(b), 1, 0), want, "a * b");
    }

    /// @notice round_shift(a, s) = div_round(a, 2^s): the shift and the floor division agree.
    function testFuzz_roundShift_isDivRoundByAPowerOfTwo_succeeds(int128 a, uint8 s) public pure {
        uint256 shift = bound(s, 1, 120);
        assertEqInt(LibLlm.roundShift(a, shift), LibLlm.divRound(a, int256(1) << shift), "shift vs division");
    }

    /// @notice div_round(a, b) = q with q − 1/2 ≤ a/b < q + 1/2.
    function testFuzz_divRound_isTheNearestHalfUp_succeeds(int128 a, uint128 b) public pure {
        // forge-lint: disable-next-line(unsafe-typecast)
        int256 den = int256(bound(b, 1, type(uint128).max));
        int256 q = LibLlm.divRound(a, den);
        assertTrue(2 * int256(a) >= (2 * q - 1) * den && 2 * int256(a) < (2 * q + 1) * den, "bracket");
    }

    /// @notice isqrt(n)² ≤ n < (isqrt(n) + 1)².
    function testFuzz_isqrt_brackets_succeeds(uint128 n) public pure {
        uint256 r = LibLlm.isqrt(n);
        assertTrue(r * r <= n && (r + 1) * (r + 1) > n, "bracket");
    }

    /// @notice bitLength(v) is the position of the highest set bit, plus one.
    function testFuzz_bitLength_succeeds(uint256 v) public pure {
        uint256 n = LibLlm.bitLength(v);
        assertTrue(n == 0 ? v == 0 : (v >> (n - 1)) == 1, "highest bit");
    }

    // -----------------------------------------------------------------------------------------------------
    // Helpers
    // -----------------------------------------------------------------------------------------------------

    /// @notice `n` pseudo-random values in [−range, range), or any int16 when `range` is 0.
    function _random(uint256 seed, uint256 n, int256 range) internal pure returns (int256[] memory v) {
        v = new int256[](n);
        for (uint256 i = 0; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            // forge-lint: disable-next-line(unsafe-typecast)
            v[i] = range == 0 ? int256(int16(uint16(r))) : int256(r % uint256(2 * range)) - range;
        }
    }

    /// @notice `n` consecutive values from `start`.
    function _seq(uint256 n, int256 start) internal pure returns (int256[] memory v) {
        v = new int256[](n);
        for (uint256 i = 0; i < n; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            v[i] = start + int256(i);
        }
    }
}
