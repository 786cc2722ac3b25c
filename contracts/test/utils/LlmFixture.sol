// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {ILlmStepProver, LlmWitness} from "../../src/interfaces/ILlmStepProver.sol";
import {IModelRegistry} from "../../src/interfaces/IModelRegistry.sol";
import {LibLlmTrace, SlotGeometry} from "../../src/lib/LibLlmTrace.sol";
import {LlmConfig, LlmLayout} from "../../src/lib/Types.sol";
import {Reference} from "./Reference.sol";

/// @notice Language models and their jobs for tests, written from docs/LLM_INT.md §8.1 and §9.1 without src/lib: the
/// pass program's spec codes, the LLM1 model root, int32 rows and hand-built state trees.
library LlmFixture {
    /// @notice Ops of one block (§8.1).
    uint256 internal constant PER_BLOCK = 19;

    /// @notice A small transformer: 2 blocks, hidden 64, 4 query heads of 16 over 2 kv heads, ffn 128, a vocabulary of
    /// 300, 32 positions, eos 2. Its pass runs 43 ops.
    function small() internal pure returns (LlmConfig memory) {
        return LlmConfig({
            blocks: 2, hidden: 64, heads: 4, kvHeads: 2, headDim: 16, ffn: 128, vocab: 300, context: 32, eos: 2
        });
    }

    /// @notice Ops per pass: EMBED, 19 per block, OUT_NORM, HEAD, ARGMAX1, ARGMAX2.
    function ops(LlmConfig memory c) internal pure returns (uint256) {
        return 1 + PER_BLOCK * c.blocks + 4;
    }

    /// @notice The spec code of op `o` of the pass program (§8.1's table, §9.1's codes).
    function code(LlmConfig memory c, uint256 o) internal pure returns (uint8) {
        uint256 last = 1 + PER_BLOCK * c.blocks;
        if (o == 0) return 0x10; // EMBED
        if (o == last) return 0x11; // NORM (out)
        if (o == last + 1) return 0x1b; // HEAD
        if (o == last + 2) return 0x1c; // ARGMAX1
        if (o == last + 3) return 0x1d; // ARGMAX2
        // NORM, q, k, v, ROPE q, ROPE k, APPEND, SCORE, SOFTMAX, PV, o, ADD, NORM, gate, up, SiLU, PRODUCT, down, ADD.
        bytes memory block_ = hex"111212121313141516171218111212191a1218";
        return uint8(block_[(o - 1) % PER_BLOCK]);
    }

    /// @notice The shortest spec leaf of op `o`: `code u8 | o u16`.
    function spec(LlmConfig memory c, uint256 o) internal pure returns (bytes memory) {
        return abi.encodePacked(code(c, o), uint16(o));
    }

    /// @notice Every op's tree as just its 3-byte spec.
    function specOnlyOps(LlmConfig memory c) internal pure returns (bytes[][] memory opLeaves) {
        opLeaves = new bytes[][](ops(c));
        for (uint256 o = 0; o < opLeaves.length; ++o) {
            opLeaves[o] = new bytes[](1);
            opLeaves[o][0] = spec(c, o);
        }
    }

    /// @notice Every op's tree as a longer spec (the prefix, then 9 parameter bytes) and `o % 3` rows of 40 bytes.
    function richOps(LlmConfig memory c) internal pure returns (bytes[][] memory opLeaves) {
        opLeaves = new bytes[][](ops(c));
        for (uint256 o = 0; o < opLeaves.length; ++o) {
            opLeaves[o] = new bytes[](1 + o % 3);
            opLeaves[o][0] = abi.encodePacked(spec(c, o), uint8(4), uint32(64), uint32(o));
            for (uint256 r = 1; r < opLeaves[o].length; ++r) {
                opLeaves[o][r] = abi.encodePacked(keccak256(abi.encode(o, r)), uint64(r));
            }
        }
    }

    /// @notice merkle(0x05, leaf(0x05, opRoot_o), leaf(0x05, 32 zero bytes)) over the ops' raw leaves.
    function opsRoot(bytes[][] memory opLeaves) internal pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](opLeaves.length);
        for (uint256 o = 0; o < opLeaves.length; ++o) {
            hashes[o] = Reference.leaf(0x05, abi.encodePacked(Reference.opRoot(opLeaves[o])));
        }
        return Reference.merkle(0x05, hashes, Reference.leaf(0x05, abi.encodePacked(bytes32(0))));
    }

    /// @notice The model root (§9.1) of a model without a card: keccak256(0x02 ‖ 0x05 ‖ "LLM1" ‖ the nine u32 of `c` ‖
    /// 0 ‖ opsRoot).
    function modelRoot(LlmConfig memory c, bytes32 opsRoot_) internal pure returns (bytes32) {
        return modelRoot(c, bytes32(0), opsRoot_);
    }

    /// @notice The model root of `c` with card hash `cardHash` over `opsRoot_`, computed independently of
    /// `LibLlmTrace`.
    function modelRoot(LlmConfig memory c, bytes32 cardHash, bytes32 opsRoot_) internal pure returns (bytes32) {
        bytes memory config =
            abi.encodePacked(c.blocks, c.hidden, c.heads, c.kvHeads, c.headDim, c.ffn, c.vocab, c.context, c.eos);
        return keccak256(abi.encodePacked(hex"0205", "LLM1", config, cardHash, opsRoot_));
    }

    /// @notice The model root of `c` over the ops' raw leaves.
    function modelRoot(LlmConfig memory c, bytes[][] memory opLeaves) internal pure returns (bytes32) {
        return modelRoot(c, opsRoot(opLeaves));
    }

    // ----- rows of int32 (§8.1) -----

    /// @notice `values` as big-endian int32s.
    function row(int256[] memory values) internal pure returns (bytes memory out) {
        for (uint256 i = 0; i < values.length; ++i) {
            out = abi.encodePacked(out, int32(values[i]));
        }
    }

    function ids(int256 a) internal pure returns (int256[] memory v) {
        v = new int256[](1);
        v[0] = a;
    }

    function ids(int256 a, int256 b) internal pure returns (int256[] memory v) {
        v = new int256[](2);
        (v[0], v[1]) = (a, b);
    }

    function ids(int256 a, int256 b, int256 c) internal pure returns (int256[] memory v) {
        v = new int256[](3);
        (v[0], v[1], v[2]) = (a, b, c);
    }

    function ids(int256 a, int256 b, int256 c, int256 d) internal pure returns (int256[] memory v) {
        v = new int256[](4);
        (v[0], v[1], v[2], v[3]) = (a, b, c, d);
    }

    function ids(int256 a, int256 b, int256 c, int256 d, int256 e) internal pure returns (int256[] memory v) {
        v = new int256[](5);
        (v[0], v[1], v[2], v[3], v[4]) = (a, b, c, d, e);
    }

    /// @notice The job input `[maxNew, prompt…]`.
    function input(int256 maxNew, int256[] memory prompt) internal pure returns (bytes memory) {
        return abi.encodePacked(int32(maxNew), row(prompt));
    }

    // ----- state trees (PROTOCOL §3, tag 0x02), every leaf explicit -----

    /// @notice The leaves of a final state over `slotRoots` (slots 0 … n), padded with leaf(0x02, 0) to `width`.
    function stateLeaves(bytes32[] memory slotRoots, uint256 width) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](width);
        for (uint256 s = 0; s < width; ++s) {
            leaves[s] = Reference.leaf(0x02, abi.encodePacked(s < slotRoots.length ? slotRoots[s] : bytes32(0)));
        }
    }

    /// @notice Node `index` at `depth` (0 the root) of the tree over `leaves` (a power of two of them), tag `tag`.
    function node(uint8 tag, bytes32[] memory leaves, uint256 depth, uint256 index) internal pure returns (bytes32) {
        uint256 leafDepth = 0;
        while ((uint256(1) << leafDepth) < leaves.length) ++leafDepth;
        if (depth == leafDepth) return leaves[index];
        return Reference.node(tag, node(tag, leaves, depth + 1, 2 * index), node(tag, leaves, depth + 1, 2 * index + 1));
    }

    /// @notice The trace root a worker posts: leaf(0x03, worker ‖ finalState).
    function traceRoot(address worker, bytes32 finalState) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(0x00), uint8(0x03), worker, finalState));
    }
}

/// @notice Not a step prover: the geometry half of `ILlmStepProver` only (`LibLlmTrace.geometry` over the registry's
/// config), so a game can walk a language model's trace to phase Step. `trueElement` always reverts: a game decided
/// by it must be one whose element is padding (true value 0, no witness needed).
contract LlmGeometryStub is ILlmStepProver {
    /// @notice `trueElement` was called: the stub computes no element.
    error StubComputesNothing(uint256 slot, uint256 e);

    IModelRegistry public immutable registry;

    constructor(IModelRegistry registry_) {
        registry = registry_;
    }

    function slotGeometry(uint256 modelId, LlmLayout calldata trace, uint256 slot)
        external
        view
        returns (SlotGeometry memory)
    {
        return LibLlmTrace.geometry(registry.llmConfig(modelId), trace, slot);
    }

    function trueElement(uint256, LlmLayout calldata, bytes32, uint256 slot, uint256 e, LlmWitness calldata)
        external
        pure
        returns (int256)
    {
        revert StubComputesNothing(slot, e);
    }
}
