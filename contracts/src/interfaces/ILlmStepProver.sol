// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {SlotGeometry} from "../lib/LibLlmTrace.sol";
import {LlmLayout} from "../lib/Types.sol";
import {IModelRegistry} from "./IModelRegistry.sol";

/// @notice An operand slot's tensor root and its path in the defender's final state σ_n (n + 1 leaves, tag 0x02).
struct LlmSlotProof {
    uint256 slot;
    bytes32 root;
    bytes32[] path;
}

/// @notice A run of consecutive 32-byte leaves of an operand slot's tensor tree, from leaf `firstLeaf`, and its range
/// proof (`vouch_core::merkle::MerkleTree::range_proof`: at most two siblings a level, bottom up).
struct LlmRunProof {
    uint256 slot;
    uint256 firstLeaf;
    bytes32[] leaves;
    bytes32[] siblings;
}

/// @notice Leaf `leaf` of op `op`'s tree (0 the spec, else a row of parameters), its bytes and its path to the op's
/// root (tag 0x04).
struct LlmParamProof {
    uint256 op;
    uint256 leaf;
    bytes data;
    bytes32[] path;
}

/// @notice What one element's step needs (docs/LLM_INT.md §9): every operand slot read, in increasing slot order;
/// every run read, in the order the op reads them; every model leaf read, in reading order (the op's spec first).
/// The Rust builder is `vouch_llm::trace::LmTrace::witness`, its Rust verifier `vouch_llm::trace::verify`.
struct LlmWitness {
    LlmSlotProof[] slots;
    LlmRunProof[] runs;
    LlmParamProof[] params;
}

/// @title ILlmStepProver
/// @notice Computes the true value of one element of one slot of a language-model trace on chain (the one step of a
/// dispute over an LLM result, docs/LLM_INT.md §9), from a witness proven against the defender's final state σ_n and
/// the model's op roots, with the op arithmetic of `LlmOps`.
/// @dev Every error a call can return is in the prover's ABI: its own (lib/Errors.sol, used in its code) and, declared
/// below, the one it passes through from the registry (`scripts/check-errors.js` checks the list is complete).
interface ILlmStepProver {
    /// @notice No model has this id (from the registry's `modelTerms`, `llmConfig`, `opRoot`).
    error UnknownModel(uint256 modelId);

    /// @notice The registry whose LLM configs and op roots the prover reads.
    function registry() external view returns (IModelRegistry);

    /// @notice The geometry of slot `slot` (0 ≤ slot ≤ n) of model `modelId`'s trace laid out by `trace`
    /// (`LibLlmTrace.geometry` over the model's registered config): its pass and op, rows, columns and element width.
    function slotGeometry(uint256 modelId, LlmLayout calldata trace, uint256 slot)
        external
        view
        returns (SlotGeometry memory);

    /// @notice The true value of element `e` (row-major) of slot `slot` (1 ≤ slot ≤ n) of model `modelId`'s trace
    /// laid out by `trace`, when the defender's final state is `finalState`.
    /// @dev Reads only operand slots before `slot` (the ones the game's walk agreed on). Reverts with a typed error
    /// when the witness does not prove what it must (a slot root not in σ_n, a run not in its slot or not the leaves
    /// the op reads, a model leaf not in its op's tree, runs or leaves missing or left over) or when `slot`/`e` is
    /// not a computed element of the trace.
    function trueElement(
        uint256 modelId,
        LlmLayout calldata trace,
        bytes32 finalState,
        uint256 slot,
        uint256 e,
        LlmWitness calldata witness
    ) external view returns (int256);
}
