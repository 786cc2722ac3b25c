// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {LibMerkle} from "./LibMerkle.sol";
import {LibOp, OpSpec} from "./LibOp.sol";
import {TensorShape} from "./Types.sol";

/// @notice What the one-step transaction of an op's worst element carries and does (PROTOCOL §6.4, §6.8), counted
/// from the shapes alone. The Rust mirror is `vouch_core::dispute::gas::StepCost`.
struct StepCost {
    /// @dev Exact ABI-encoded calldata of `DisputeGame.step(uint256 gameId, StepWitness witness)`, selector included.
    uint256 calldataBytes;
    /// @dev Merkle path steps the prover climbs (slot, row and weight paths).
    uint256 pathSteps;
    /// @dev Multiply-accumulates (or taps) of the element.
    uint256 macs;
    /// @dev Tensor leaves hashed to check a dense input, counted twice (leaf and tree).
    uint256 rehashed;
}

/// @title LibLimits
/// @notice The limits that keep every dispute on a listed model decidable and its bonds sufficient (PROTOCOL §6.8):
/// at most `MAX_OPS` ops, every tensor at most `MAX_TENSOR_ELEMENTS` elements (so its tree is at most
/// `MAX_TENSOR_DEPTH` deep), and every op's worst one-step transaction at most `MAX_STEP_CALLDATA` bytes of calldata
/// and `MAX_STEP_GAS` gas. Every number here is the one `vouch_core` computes (`core/src/dispute/gas.rs`); a test on
/// anvil (`chain/tests/witness_cap.rs`) checks that they agree.
library LibLimits {
    /// @notice Most calldata bytes a step may need: 96 KiB, under the 128 KiB geth-family txpools accept.
    uint256 internal constant MAX_STEP_CALLDATA = 98_304;
    /// @notice Most gas the bound of a step may reach: half a 30M block, under EIP-7825's 2^24 per transaction.
    uint256 internal constant MAX_STEP_GAS = 15_000_000;
    /// @notice Most ops of a model: 2^20 − 1, so the state tree (n + 1 leaves) is at most 20 deep.
    uint256 internal constant MAX_OPS = (1 << 20) - 1;
    /// @notice Deepest final state tree, of a tensor model (`MAX_OPS`) or a language model (its config's longest trace).
    uint256 internal constant MAX_STATE_DEPTH = 20;
    /// @notice Most elements of any tensor (input, every op's output): 2^22, 4 MiB of int8.
    uint256 internal constant MAX_TENSOR_ELEMENTS = 1 << 22;
    /// @notice Deepest tensor tree: ⌈log2⌉ of at most 2^22 leaves (a tensor has no more leaves than elements).
    uint256 internal constant MAX_TENSOR_DEPTH = 22;

    /// @notice Fixed part of the gas bound: the game, the registry reads, the transaction.
    uint256 internal constant GAS_FIXED = 450_000;
    /// @notice Calldata at EIP-7623's floor, every byte counted as non-zero.
    uint256 internal constant GAS_PER_CALLDATA_BYTE = 40;
    uint256 internal constant GAS_PER_LEAF_REHASHED = 500;
    uint256 internal constant GAS_PER_PATH_STEP = 200;
    uint256 internal constant GAS_PER_MAC = 80;

    /// @dev Selector, gameId and the witness offset (4 + 2·32), the witness's five head words, and the length words
    /// of its five dynamic members.
    uint256 private constant CALL_HEAD = 4 + 64 + 160 + 160;
    /// @dev One SlotProof: its offset in the array, root and path offset, path length (plus 32 per sibling).
    uint256 private constant SLOT_FIXED = 128;
    /// @dev One RowProof: its offset in the array, data and path offsets, data and path lengths (plus 32 per data
    /// word and per sibling).
    uint256 private constant ROW_FIXED = 160;
    /// @dev Bytes of a weight row leaf before its weights: bias i32, M i32, s u8.
    uint256 private constant ROW_HEADER = 9;

    /// @notice The worst element's step of op `op` (decoded spec), reading operand slots of shapes `a` and (Add only)
    /// `b`, in a model of `opCount` ops whose op tree has `opLeaves` leaves.
    function worstStep(OpSpec memory op, TensorShape memory a, TensorShape memory b, uint256 opCount, uint256 opLeaves)
        internal
        pure
        returns (StepCost memory cost)
    {
        uint256 stateDepth = LibMerkle.ceilLog2(opCount + 1);
        uint256 slots = op.code == LibOp.ADD ? 2 : 1;
        cost.calldataBytes = CALL_HEAD + slots * (SLOT_FIXED + 32 * stateDepth);
        cost.pathSteps = slots * stateDepth;
        uint256 rows;
        if (op.code == LibOp.DENSE || op.code == LibOp.CONV2D) {
            uint256 k = op.code == LibOp.DENSE ? LibOp.elementCount(a) : uint256(op.kh) * op.kw * a.c;
            uint256 weightDepth = LibMerkle.ceilLog2(opLeaves);
            cost.calldataBytes += _pad32(ROW_HEADER + k) + 32 * weightDepth;
            cost.pathSteps += weightDepth;
            cost.macs = k;
            if (op.code == LibOp.DENSE) {
                // The whole input, re-hashed as a tensor.
                cost.calldataBytes += _pad32(k);
                cost.rehashed = 2 * tensorLeaves(a);
            } else {
                rows = _windowRows(op, a);
            }
        } else if (op.code == LibOp.MAXPOOL) {
            rows = _windowRows(op, a);
            cost.macs = uint256(op.kh) * op.kw;
        } else if (op.code == LibOp.AVGPOOL) {
            rows = uint256(op.kh) * op.kw;
            cost.macs = rows;
        } else if (op.code == LibOp.ADD) {
            _addRows(cost, b, 1);
            rows = 1;
            cost.macs = 2;
        } else {
            // Clamp, Reshape: one input pixel.
            rows = 1;
            cost.macs = 1;
        }
        _addRows(cost, a, rows);
    }

    /// @notice An upper bound on the gas of a step that costs `cost`: calldata at the floor, the witness copied into
    /// memory twice, per-unit costs rounded up from measured steps (docs/GAS.md), then a quarter on top.
    function stepGas(StepCost memory cost) internal pure returns (uint256) {
        uint256 words = (cost.calldataBytes + 31) / 32;
        uint256 memoryGas = 3 * words + words * words / 512;
        uint256 estimate = GAS_FIXED + cost.calldataBytes * GAS_PER_CALLDATA_BYTE + 2 * memoryGas + cost.rehashed
            * GAS_PER_LEAF_REHASHED + cost.pathSteps * GAS_PER_PATH_STEP + cost.macs * GAS_PER_MAC;
        return estimate + estimate / 4;
    }

    /// @notice Leaves of a tensor of shape `s`: h·w rows of ⌈c/32⌉ leaves each (PROTOCOL §3).
    function tensorLeaves(TensorShape memory s) internal pure returns (uint256) {
        return uint256(s.h) * s.w * ((uint256(s.c) + 31) / 32);
    }

    /// @notice The most kernel taps along one axis that lie inside an input of extent `x`, over the `out` output
    /// positions of a window of size `k`, stride `s` and leading padding `p`.
    /// @dev Output `o` starts at `a = o·s − p`; its taps inside are `min(k, x, k + o·s − p, x + p − o·s)` (at least
    /// 0). That rises until `o·s = (x + 2p − k) / 2`, then falls, so the maximum is at the output just below or
    /// just above that point (clamped to the outputs).
    function maxTaps(uint256 x, uint256 k, uint256 s, uint256 p, uint256 out) internal pure returns (uint256) {
        uint256 last = out == 0 ? 0 : out - 1;
        uint256 o = x + 2 * p > k ? (x + 2 * p - k) / (2 * (s == 0 ? 1 : s)) : 0;
        if (o > last) o = last;
        uint256 best = _taps(x, k, s * o, p);
        if (o < last) {
            uint256 next = _taps(x, k, s * (o + 1), p);
            if (next > best) best = next;
        }
        return best;
    }

    /// @dev Taps of a window of size `k` starting at `a − p` inside [0, x): min(k, x, k + a − p, x + p − a), ≥ 0.
    function _taps(uint256 x, uint256 k, uint256 a, uint256 p) private pure returns (uint256 t) {
        if (k + a <= p || x + p <= a) return 0;
        t = k < x ? k : x;
        if (k + a - p < t) t = k + a - p;
        if (x + p - a < t) t = x + p - a;
    }

    /// @dev The most input pixels inside the input that one window of `op` covers (Conv2d, MaxPool).
    function _windowRows(OpSpec memory op, TensorShape memory a) private pure returns (uint256) {
        return maxTaps(a.h, op.kh, op.sh, op.pt, op.out.h) * maxTaps(a.w, op.kw, op.sw, op.pl, op.out.w);
    }

    /// @dev Adds `rows` rows of a tensor of shape `s` (each its bytes and one path per leaf) to `cost`.
    function _addRows(StepCost memory cost, TensorShape memory s, uint256 rows) private pure {
        uint256 lpr = (uint256(s.c) + 31) / 32;
        uint256 depth = LibMerkle.ceilLog2(tensorLeaves(s));
        cost.calldataBytes += rows * (ROW_FIXED + 32 * lpr * (1 + depth));
        cost.pathSteps += rows * lpr * depth;
    }

    /// @dev `n` rounded up to whole 32-byte words.
    function _pad32(uint256 n) private pure returns (uint256) {
        return (n + 31) / 32 * 32;
    }
}
