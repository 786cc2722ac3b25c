// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {ILlmOps} from "./interfaces/ILlmOps.sol";
import {LibLlm} from "./lib/LibLlm.sol";

/// @title LlmOps
/// @notice The language model's ops on chain, one output element per call (docs/LLM_INT.md §3, encodings §8.2).
/// @dev Stateless and pure: a thin entry point over `LibLlm`, which holds the formulas (the dispute game can link
/// them directly once it proves the rows).
contract LlmOps is ILlmOps {
    /// @inheritdoc ILlmOps
    function embed(bytes calldata tableRow, uint256 cols, uint8 bits, uint256 i) external pure returns (int256) {
        return LibLlm.embed(tableRow, cols, bits, i);
    }

    /// @inheritdoc ILlmOps
    function rmsnorm(bytes calldata residual, bytes calldata gainRow, int64 epsTerm, uint256 i, uint32 bound)
        external
        pure
        returns (int256)
    {
        return LibLlm.rmsnorm(residual, gainRow, epsTerm, i, bound);
    }

    /// @inheritdoc ILlmOps
    function dense(bytes calldata x, bytes calldata weightRow, uint256 cols, uint8 bits, bool scaled, uint32 bound)
        external
        pure
        returns (int256)
    {
        return LibLlm.dense(x, weightRow, cols, bits, scaled, bound);
    }

    /// @inheritdoc ILlmOps
    function rope(bytes calldata pair, bytes calldata ropeRow, uint256 i, uint32 bound) external pure returns (int256) {
        return LibLlm.rope(pair, ropeRow, i, bound);
    }

    /// @inheritdoc ILlmOps
    function score(bytes calldata q, bytes calldata k, int32 multiplier, uint8 shift) external pure returns (int256) {
        return LibLlm.score(q, k, multiplier, shift);
    }

    /// @inheritdoc ILlmOps
    function softmax(bytes calldata scores, bytes calldata expRow, uint256 j) external pure returns (int256) {
        return LibLlm.softmax(scores, expRow, j);
    }

    /// @inheritdoc ILlmOps
    function pv(bytes calldata probs, bytes calldata values, uint32 bound) external pure returns (int256) {
        return LibLlm.pv(probs, values, bound);
    }

    /// @inheritdoc ILlmOps
    function add(int32 a, int32 b) external pure returns (int256) {
        return LibLlm.add(a, b);
    }

    /// @inheritdoc ILlmOps
    function lookup(bytes32 leaf, uint256 leafIndex, int16 x) external pure returns (int256) {
        return LibLlm.lookup(leaf, leafIndex, x);
    }

    /// @inheritdoc ILlmOps
    function product(bytes calldata a, bytes calldata u, uint256 i) external pure returns (int256) {
        return LibLlm.product(a, u, i);
    }

    /// @inheritdoc ILlmOps
    function argmax1(bytes calldata logits, uint32 chunk) external pure returns (int256 value, int256 index) {
        return LibLlm.argmax1(logits, chunk);
    }

    /// @inheritdoc ILlmOps
    function argmax2(bytes calldata pairs) external pure returns (int256) {
        return LibLlm.argmax2(pairs);
    }
}
