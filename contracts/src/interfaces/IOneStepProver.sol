// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {IModelRegistry} from "./IModelRegistry.sol";

/// @notice A slot's tensor root in the agreed state σ_k, with its path in the state tree (n + 1 leaves,
/// PROTOCOL §3). The slot index is never supplied: the prover derives it from the op spec.
struct SlotProof {
    bytes32 root;
    bytes32[] path;
}

/// @notice One row (pixel) of an input slot tensor: its `C` bytes and, for each of its ⌈C/32⌉ leaves in order,
/// that leaf's path in the tensor tree (`depth` siblings each, concatenated). The row index is derived on chain.
struct RowProof {
    bytes data;
    bytes32[] path;
}

/// @notice The data one element of op k needs (PROTOCOL §6.5). It supplies data only; every index (op, slots,
/// rows, weight row) is derived on chain from the element index and the model's shapes.
/// - `slots`: one proof per operand of the op, in spec order (Add: a then b; every other op: its input).
/// - `rows`: the input rows the element reads, in the order §6.5 fixes per op; empty for Dense. For element e of an
///   output [H, W, C] (c = e mod C, pixel p = e / C = oy·W + ox): Conv2d and MaxPool: the input pixel of every
///   kernel tap (i, j) that lies inside the input, i then j (row-major over the kernel); AvgPool: all kh·kw taps,
///   likewise; Clamp: pixel p; Add: pixel p of a, then pixel p of b; Reshape: input pixel e / C_in.
/// - `input`: Dense only, the whole input tensor (its tensor root is recomputed and checked).
/// - `weights`, `weightPath`: Dense and Conv2d only, the weight row leaf (`bias ‖ M ‖ s ‖ weights`) of the
///   element's output channel and its path in op k's tree (leaf index 1 + channel).
struct StepWitness {
    SlotProof[] slots;
    RowProof[] rows;
    bytes input;
    bytes weights;
    bytes32[] weightPath;
}

/// @title IOneStepProver
/// @notice Computes the true value of one element of one op on chain (phase 3 of a dispute, PROTOCOL §6.5),
/// from the agreed state σ_k and a witness of data proven against σ_k and the model's op roots.
interface IOneStepProver {
    /// @notice Passed through from `ModelRegistry` (same signature as in lib/Errors.sol): no model has this id.
    error UnknownModel(uint256 modelId);

    /// @notice The registry whose op specs, op roots and shapes the prover reads.
    function registry() external view returns (IModelRegistry);

    /// @notice The true value of element `e` (row-major index into the output of op `k`, i.e. slot k + 1) of model
    /// `modelId`, when the state after k ops is `stateRoot`.
    /// @dev Reverts with a typed error when the witness does not prove what it must (a wrong slot root, row,
    /// input tensor or weight row), when `k` is not an op of the model or `e` is not an element of its output.
    /// The model must be Active, or Retired after it was Active (disputes on jobs posted before retirement must
    /// stay decidable); else `ModelNotActive`. The result is the reference interpreter's (`core/src/reference.rs`
    /// `element`) for every model `Model::validate` accepts. Where the reference would panic or read past a tensor
    /// (a malformed spec, a requantization or clamp outside its ranges, operand shapes that do not fit, an
    /// accumulator outside i32, an average-pool window past the input: models `validate` refuses), it reverts.
    function trueElement(uint256 modelId, uint32 k, bytes32 stateRoot, uint256 e, StepWitness calldata witness)
        external
        view
        returns (int8);
}
