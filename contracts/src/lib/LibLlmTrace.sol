// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {LlmConfig, LlmLayout} from "./Types.sol";

/// @notice A language-model slot's geometry: `rows` rows of `cols` elements of `width` bytes (2 or 4), big-endian,
/// two's complement when `signed` (docs/LLM_INT.md §8.2). Each row is cut into ⌈cols·width/32⌉ tensor leaves.
struct SlotGeometry {
    /// @dev The pass p of an op slot (zero for the input and output slots).
    uint256 pass;
    /// @dev The op o of the pass program (`OUTSIDE` for the input and output slots).
    uint256 op;
    uint256 rows;
    uint256 cols;
    uint8 width;
    bool signed;
}

/// @title LibLlmTrace
/// @notice The geometry of a language-model trace (docs/LLM_INT.md §8.1), the Solidity mirror of
/// `vouch_llm::trace::program`: the pass program's ops, where each slot lies and what shape it has.
library LibLlmTrace {
    /// @notice Ops of one block.
    uint256 internal constant PER_BLOCK = 19;

    /// @notice Logits per chunk of the vocabulary argmax's first stage.
    uint256 internal constant ARGMAX_CHUNK = 8192;

    /// @notice `SlotGeometry.op` of the input and output slots.
    uint256 internal constant OUTSIDE = type(uint256).max;

    // Block ops (their index in a block), in program order.
    uint256 internal constant ATTN_NORM = 0;
    uint256 internal constant Q = 1;
    uint256 internal constant K = 2;
    uint256 internal constant V = 3;
    uint256 internal constant ROPE_Q = 4;
    uint256 internal constant ROPE_K = 5;
    uint256 internal constant APPEND = 6;
    uint256 internal constant SCORE = 7;
    uint256 internal constant SOFTMAX = 8;
    uint256 internal constant PV = 9;
    uint256 internal constant O = 10;
    uint256 internal constant ATTN_ADD = 11;
    uint256 internal constant FFN_NORM = 12;
    uint256 internal constant GATE = 13;
    uint256 internal constant UP = 14;
    uint256 internal constant SILU = 15;
    uint256 internal constant PRODUCT = 16;
    uint256 internal constant DOWN = 17;
    uint256 internal constant FFN_ADD = 18;

    // Spec codes (docs/LLM_INT.md §9.1): the first byte of every op's spec leaf.
    uint8 internal constant CODE_EMBED = 0x10;
    uint8 internal constant CODE_NORM = 0x11;
    uint8 internal constant CODE_DENSE = 0x12;
    uint8 internal constant CODE_ROPE = 0x13;
    uint8 internal constant CODE_APPEND = 0x14;
    uint8 internal constant CODE_SCORE = 0x15;
    uint8 internal constant CODE_SOFTMAX = 0x16;
    uint8 internal constant CODE_PV = 0x17;
    uint8 internal constant CODE_ADD = 0x18;
    uint8 internal constant CODE_LOOKUP = 0x19;
    uint8 internal constant CODE_PRODUCT = 0x1a;
    uint8 internal constant CODE_HEAD = 0x1b;
    uint8 internal constant CODE_ARGMAX1 = 0x1c;
    uint8 internal constant CODE_ARGMAX2 = 0x1d;

    /// @notice The largest hidden, feed-forward and query width a listed model may have (a DENSE or PRODUCT witness
    /// reads rows of it).
    uint256 internal constant MAX_WIDTH = 8192;

    /// @notice The largest vocabulary (ARGMAX2 reads one pair per 8192-logit chunk: at most 32).
    uint256 internal constant MAX_VOCAB = 1 << 18;

    /// @notice The most ops of a pass: a spec leaf names its op in a u16 (`code u8 | o u16`).
    uint256 internal constant MAX_OPS = 1 << 16;

    /// @notice The most positions of a job (SCORE, SOFTMAX and PV read rows of one element per position).
    uint256 internal constant MAX_CONTEXT = 1024;

    /// @notice Whether every one-step witness of a model of config `c` fits the caps and every game on it the bonds
    /// (IModelRegistry.registerLlm): besides the widths, a trace of `context` passes has at most `2^stateDepth` state
    /// leaves (`1 + context·OPS + 1`), so its final state tree is no deeper than a tensor model's; and at most 2^16 ops,
    /// as spec leaves name their op in a u16.
    function validConfig(LlmConfig memory c, uint256 stateDepth) internal pure returns (bool) {
        uint256 qWidth = uint256(c.heads) * c.headDim;
        return c.blocks >= 1 && ops(c) <= MAX_OPS && ops(c) * c.context + 2 <= 2 ** stateDepth && c.hidden >= 1
            && c.hidden <= MAX_WIDTH && c.ffn >= 1 && c.ffn <= MAX_WIDTH && qWidth >= 1 && qWidth <= MAX_WIDTH
            && c.headDim % 2 == 0 && c.kvHeads >= 1 && c.heads % c.kvHeads == 0 && c.vocab >= 1 && c.vocab <= MAX_VOCAB
            && c.context >= 1 && c.context <= MAX_CONTEXT && c.eos < c.vocab;
    }

    /// @notice The spec code of op `o` of the pass program.
    function opCode(LlmConfig memory c, uint256 o) internal pure returns (uint8) {
        uint256 last = tail(c);
        if (o == 0) return CODE_EMBED;
        if (o == last) return CODE_NORM;
        if (o == last + 1) return CODE_HEAD;
        if (o == last + 2) return CODE_ARGMAX1;
        if (o == last + 3) return CODE_ARGMAX2;
        uint256 i = (o - 1) % PER_BLOCK;
        if (i == ATTN_NORM || i == FFN_NORM) return CODE_NORM;
        if (i == ROPE_Q || i == ROPE_K) return CODE_ROPE;
        if (i == APPEND) return CODE_APPEND;
        if (i == SCORE) return CODE_SCORE;
        if (i == SOFTMAX) return CODE_SOFTMAX;
        if (i == PV) return CODE_PV;
        if (i == ATTN_ADD || i == FFN_ADD) return CODE_ADD;
        if (i == SILU) return CODE_LOOKUP;
        if (i == PRODUCT) return CODE_PRODUCT;
        return CODE_DENSE;
    }

    /// @notice The model root of a language model with card hash `cardHash` over the op tree root `opsRoot`
    /// (docs/LLM_INT.md §9.1): `keccak256(0x02 ‖ 0x05 ‖ "LLM1" ‖ the nine u32 of c ‖ cardHash ‖ opsRoot)`.
    function modelRoot(LlmConfig memory c, bytes32 cardHash, bytes32 opsRoot) internal pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                uint8(0x02),
                uint8(0x05),
                "LLM1",
                c.blocks,
                c.hidden,
                c.heads,
                c.kvHeads,
                c.headDim,
                c.ffn,
                c.vocab,
                c.context,
                c.eos,
                cardHash,
                opsRoot
            )
        );
    }

    /// @notice Ops per pass: `1 + 19·blocks + 4` (EMBED, the blocks, OUT_NORM, HEAD, ARGMAX1, ARGMAX2).
    function ops(LlmConfig memory c) internal pure returns (uint256) {
        return 1 + PER_BLOCK * c.blocks + 4;
    }

    /// @notice The output slot n = `1 + (P + G − 1)·OPS`, the last of the trace (its state tree has n + 1 leaves).
    function outputSlot(LlmConfig memory c, LlmLayout memory l) internal pure returns (uint256) {
        return 1 + (uint256(l.prompt) + l.generated - 1) * ops(c);
    }

    /// @notice Positions every value-cache row holds: `N = P + maxNew − 1`.
    function positions(LlmLayout memory l) internal pure returns (uint256) {
        return uint256(l.prompt) + l.maxNew - 1;
    }

    /// @notice Chunks of the vocabulary argmax: ⌈vocab / 8192⌉.
    function chunks(LlmConfig memory c) internal pure returns (uint256) {
        return (uint256(c.vocab) + ARGMAX_CHUNK - 1) / ARGMAX_CHUNK;
    }

    /// @notice The first op after the blocks (OUT_NORM); HEAD, ARGMAX1 and ARGMAX2 follow it.
    function tail(LlmConfig memory c) internal pure returns (uint256) {
        return 1 + PER_BLOCK * c.blocks;
    }

    /// @notice The slot op `o` of pass `p` writes: `1 + p·OPS + o`.
    function slot(LlmConfig memory c, uint256 p, uint256 o) internal pure returns (uint256) {
        return 1 + p * ops(c) + o;
    }

    /// @notice The geometry of slot `s ≤ n` of a trace laid out by `l` (`s` past the output is the caller's to refuse).
    function geometry(LlmConfig memory c, LlmLayout memory l, uint256 s) internal pure returns (SlotGeometry memory g) {
        if (s == 0 || s == outputSlot(c, l)) {
            return SlotGeometry({
                pass: 0,
                op: OUTSIDE,
                rows: 1,
                cols: s == 0 ? 1 + uint256(l.prompt) : l.generated,
                width: 4,
                signed: true
            });
        }
        uint256 n = ops(c);
        g.pass = (s - 1) / n;
        g.op = (s - 1) % n;
        g.rows = 1;
        g.width = 2;
        g.signed = true;
        uint256 last = tail(c);
        if (g.op == 0) {
            (g.cols, g.width) = (c.hidden, 4);
        } else if (g.op < last) {
            _blockShape(c, l, g, (g.op - 1) % PER_BLOCK);
        } else if (g.op == last) {
            g.cols = c.hidden;
        } else if (g.op == last + 1) {
            (g.cols, g.width) = (c.vocab, 4);
        } else if (g.op == last + 2) {
            (g.rows, g.cols, g.width) = (chunks(c), 2, 4);
        } else {
            (g.cols, g.width) = (1, 4);
        }
    }

    /// @notice The shape of block op `i` at pass `g.pass`.
    function _blockShape(LlmConfig memory c, LlmLayout memory l, SlotGeometry memory g, uint256 i) private pure {
        uint256 qWidth = uint256(c.heads) * c.headDim;
        uint256 kvWidth = uint256(c.kvHeads) * c.headDim;
        if (i == ATTN_NORM || i == FFN_NORM) {
            g.cols = c.hidden;
        } else if (i == Q || i == ROPE_Q || i == PV) {
            g.cols = qWidth;
        } else if (i == K || i == V || i == ROPE_K) {
            g.cols = kvWidth;
        } else if (i == APPEND) {
            (g.rows, g.cols) = (kvWidth, positions(l));
        } else if (i == SCORE || i == SOFTMAX) {
            (g.rows, g.cols) = (c.heads, g.pass + 1);
            if (i == SCORE) g.width = 4;
            else g.signed = false;
        } else if (i == O || i == ATTN_ADD || i == DOWN || i == FFN_ADD) {
            (g.cols, g.width) = (c.hidden, 4);
        } else if (i == PRODUCT) {
            g.cols = uint256(c.ffn) + 1;
        } else {
            // GATE, UP, SILU.
            g.cols = c.ffn;
        }
    }

    /// @notice Leaves a row of the slot occupies: ⌈cols·width / 32⌉.
    function leavesPerRow(SlotGeometry memory g) internal pure returns (uint256) {
        return (g.cols * g.width + 31) / 32;
    }

    /// @notice Element at byte `offset` of leaf `leafIndex` of the slot: `padding` when it lies past the tensor (a
    /// padding leaf, or past a row's last element), else its row-major index `e`. `offset` must be a multiple of the
    /// width (the caller's to check).
    function elementAt(SlotGeometry memory g, uint256 leafIndex, uint256 offset)
        internal
        pure
        returns (bool padding, uint256 e)
    {
        uint256 lpr = leavesPerRow(g);
        uint256 row = leafIndex / lpr;
        uint256 col = ((leafIndex % lpr) * 32 + offset) / g.width;
        if (row >= g.rows || col >= g.cols) return (true, 0);
        return (false, row * g.cols + col);
    }

    /// @notice The element whose big-endian bytes start at byte `offset` of `leaf` (`offset + width ≤ 32`).
    function decode(SlotGeometry memory g, bytes32 leaf, uint256 offset) internal pure returns (int256 v) {
        uint256 raw = uint256(leaf) << (8 * offset) >> (256 - 8 * uint256(g.width));
        uint256 top = uint256(1) << (8 * uint256(g.width) - 1);
        // casting to 'int256' is safe because raw < 2^32.
        // forge-lint: disable-next-line(unsafe-typecast)
        v = int256(raw);
        // casting to 'int256' is safe because top < 2^32.
        // forge-lint: disable-next-line(unsafe-typecast)
        if (g.signed && raw >= top) v -= int256(top << 1);
    }
}
