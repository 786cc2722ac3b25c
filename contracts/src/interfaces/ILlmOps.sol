// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

/// @title ILlmOps
/// @notice One output element of each op of the language model (docs/LLM_INT.md §3), computed on chain exactly as
/// the Rust reference `vouch_llm::int::ops` does, from rows in the byte encodings of docs/LLM_INT.md §8.2
/// (big-endian two's complement; weight rows `M i32 | s u8 | D i16 × nb | N i16 × nb | q`, q 4-bit in GGUF's Q4
/// nibble order or int8). Every function is pure: the rows are taken as given (the dispute game proves them against
/// the state and model roots before it calls these). A row whose length cannot be the op's operand reverts with a
/// typed error (`OperandLengthMismatch`, `RaggedOperand`, `OperandTooLong`, `InvalidWeightShape`), as does an index
/// outside the op's output (`ElementOutOfRange`) and a model constant outside what the model's validation allows.
interface ILlmOps {
    /// @notice Embedding gather (§3.1): element `i` of `clamp(round_shift(E[i]·Me, se), ±(2^26 − 1))`, E[i] = D·q + N,
    /// from the embedding table row `Me i32 | se u8 |` weight row of `cols` inputs in `bits`-bit (4 or 8) blocks.
    function embed(bytes calldata tableRow, uint256 cols, uint8 bits, uint256 i) external pure returns (int256);

    /// @notice RMSNorm (§3.2): element `i` of `clamp(div_round(r_i·G_i, D·2^F), ±bound)` with
    /// `D = isqrt(Σ r² + epsTerm)`, from the residual row (i32 × K) and the gain row (`F u8 | G i32 × K`).
    /// @dev Reverts `InvalidGainFrac` for F > 24 and `ZeroNorm` when Σ r² + epsTerm < 1.
    function rmsnorm(bytes calldata residual, bytes calldata gainRow, int64 epsTerm, uint256 i, uint32 bound)
        external
        pure
        returns (int256);

    /// @notice Dense (§3.3): `clamp(round_shift(acc·M, s − e), ±bound)` with `acc = Σ_k x_k·(D·q_k + N)`, from the
    /// input row `x` (i16 × cols; when `scaled`, one more i16, the row's exponent e, as the down projection reads
    /// the SwiGLU product; else e = 0) and one weight row of `cols` inputs in `bits`-bit (4 or 8) blocks.
    /// @dev Reverts `InvalidExponent` unless 0 ≤ e ≤ s.
    function dense(bytes calldata x, bytes calldata weightRow, uint256 cols, uint8 bits, bool scaled, uint32 bound)
        external
        pure
        returns (int256);

    /// @notice RoPE (§3.4): element `i` of a head row, whose pair m = (i/2) mod half is `pair` = (a, b) (2 × i16),
    /// with the position's RoPE row `C i16 × half | S i16 × half`: `clamp(round_shift(a·C_m − b·S_m, 14), ±bound)`
    /// for even i, `clamp(round_shift(a·S_m + b·C_m, 14), ±bound)` for odd i.
    function rope(bytes calldata pair, bytes calldata ropeRow, uint256 i, uint32 bound) external pure returns (int256);

    /// @notice Attention score (§3.6): `clamp(round_shift((Σ_d q_d·k_d)·multiplier, shift), ±2^30)` from the q and
    /// k head rows (i16 × head_dim each).
    function score(bytes calldata q, bytes calldata k, int32 multiplier, uint8 shift) external pure returns (int256);

    /// @notice Softmax (§3.7): probability `j` (units 2^-15) of the score row (i32 × (p + 1)) with the EXP table
    /// (i32 × T): `m = max S`, `E_k = EXP[m − S_k]` (0 when m − S_k ≥ T), `Z = Σ E`, `div_round(E_j·2^15, Z)`.
    /// @dev Reverts `ZeroSoftmaxSum` when Z < 1 (an EXP table with entries below 1).
    function softmax(bytes calldata scores, bytes calldata expRow, uint256 j) external pure returns (int256);

    /// @notice P·V (§3.8): `clamp(round_shift(Σ_j P_j·V_j, 15), ±bound)` over the probability row (u16 × (p + 1))
    /// and the first p + 1 elements of the Vᵀ row (i16 × its capacity, at least p + 1).
    function pv(bytes calldata probs, bytes calldata values, uint32 bound) external pure returns (int256);

    /// @notice Residual add (§3.9): `clamp(a + b, ±(2^26 − 1))`.
    function add(int32 a, int32 b) external pure returns (int256);

    /// @notice SiLU lookup (§3.10): table entry `x + 32767` of the SiLU table, from the table leaf `leafIndex`
    /// (entries 16·leafIndex … 16·leafIndex + 15, i16 each).
    /// @dev Reverts `LookupOutOfRange` for x = −32768 and `LeafIndexMismatch` unless leafIndex = (x + 32767) / 16.
    function lookup(bytes32 leaf, uint256 leafIndex, int16 x) external pure returns (int256);

    /// @notice SwiGLU product (§3.11) of the rows a (SiLU of the gate) and u (up), i16 × F each: element `i < F` is
    /// `clamp(round_shift(a_i·u_i, e), ±32767)`, element F is the row's exponent `e = max(0, bitlen(max |a·u|) − 15)`.
    function product(bytes calldata a, bytes calldata u, uint256 i) external pure returns (int256);

    /// @notice Argmax stage 1 (§3.12): of logits chunk `chunk` (i32 × 1 … 8192), the largest value and the lowest
    /// index holding it, as an index into the whole logits row (chunk·8192 + position).
    function argmax1(bytes calldata logits, uint32 chunk) external pure returns (int256 value, int256 index);

    /// @notice Argmax stage 2 (§3.12): of the chunk results (`[value i32, index i32]` × C), the index of the
    /// largest value, ties to the earliest chunk (so to the lowest token id).
    function argmax2(bytes calldata pairs) external pure returns (int256);
}
