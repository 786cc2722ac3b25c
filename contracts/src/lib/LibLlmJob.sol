// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {AnswerLength, AnswerToken, PromptLength, TokenBudget, TokenOutOfRange} from "./Errors.sol";
import {LlmConfig} from "./Types.sol";

/// @title LibLlmJob
/// @notice The rows a language-model job is made of (docs/LLM_INT.md §8.1): the input `[maxNew, ids…]` and the
/// output, the generated ids, all int32 big-endian. The market checks both before it takes them, so every job has a
/// trace of the shape its layout says and every posted answer is one greedy decoding could produce.
library LibLlmJob {
    /// @notice The prompt length P and token budget `maxNew` of the input row `[maxNew, ids…]`: at least one id,
    /// `maxNew` ≥ 1, `P + maxNew − 1` ≤ the model's context, every id below the vocabulary.
    function checkPrompt(LlmConfig memory c, bytes calldata input)
        internal
        pure
        returns (uint32 prompt, uint32 maxNew)
    {
        // INVARIANT: the input is whole int32s: a budget and at least one prompt token.
        if (input.length % 4 != 0 || input.length < 8) revert PromptLength(input.length);
        uint256 p = input.length / 4 - 1;
        uint256 budget = _word(input, 0);
        // INVARIANT: every position a job may need fits the model's context (and so every witness its caps).
        if (budget == 0 || p + budget - 1 > c.context) revert TokenBudget(p, budget, c.context);
        for (uint256 i = 1; i <= p; ++i) {
            uint256 id = _word(input, i);
            // INVARIANT: every prompt token has an embedding row.
            if (id >= c.vocab) revert TokenOutOfRange(i - 1, id, c.vocab);
        }
        // casting to 'uint32' is safe because both are at most the context (≤ 1024).
        // forge-lint: disable-next-line(unsafe-typecast)
        return (uint32(p), uint32(budget));
    }

    /// @notice The length G of an answer to a job with budget `maxNew`: 1 ≤ G ≤ maxNew ids below the vocabulary, none
    /// of them `eos` but the last, and the last `eos` unless the budget ran out (G = maxNew).
    function checkAnswer(LlmConfig memory c, uint256 maxNew, bytes calldata output) internal pure returns (uint32) {
        // INVARIANT: an answer is 1 to maxNew whole int32s.
        if (output.length % 4 != 0 || output.length == 0 || output.length / 4 > maxNew) {
            revert AnswerLength(output.length, maxNew);
        }
        uint256 g = output.length / 4;
        for (uint256 i = 0; i < g; ++i) {
            uint256 id = _word(output, i);
            bool stops = i + 1 == g ? id == c.eos || g == maxNew : id != c.eos;
            // INVARIANT: greedy decoding stops at the first eos, and only at eos or the budget.
            if (id >= c.vocab || !stops) revert AnswerToken(i, id);
        }
        // casting to 'uint32' is safe because g ≤ maxNew ≤ 1024.
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint32(g);
    }

    /// @notice Int32 number `i` of `row` read as an unsigned 32-bit word (a negative id is ≥ 2^31, above any vocab).
    function _word(bytes calldata row, uint256 i) private pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := shr(224, calldataload(add(row.offset, mul(i, 4))))
        }
    }
}
