// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {ILlmStepProver, LlmParamProof, LlmRunProof, LlmSlotProof, LlmWitness} from "./interfaces/ILlmStepProver.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {
    ElementOutOfRange,
    InvalidLlmLayout,
    LlmExtraParams,
    LlmExtraRuns,
    LlmLeafLength,
    LlmParamMismatch,
    LlmParamMissing,
    LlmParamRootMismatch,
    LlmRunMismatch,
    LlmRunMissing,
    LlmRunRootMismatch,
    LlmSlotNotProven,
    LlmSlotNotRead,
    LlmSlotNotReadable,
    LlmSlotOutOfRange,
    LlmSlotRootMismatch,
    LlmSlotsNotIncreasing,
    LlmTokenOutOfRange,
    LookupOutOfRange,
    ModelNotActive,
    NotLlm,
    ZeroRegistry
} from "./lib/Errors.sol";
import {LibLlm} from "./lib/LibLlm.sol";
import {LibLlmTrace, SlotGeometry} from "./lib/LibLlmTrace.sol";
import {LibMerkle} from "./lib/LibMerkle.sol";
import {LlmConfig, LlmLayout, ModelKind, ModelStatus} from "./lib/Types.sol";

/// @title LlmStepProver
/// @notice The one-step prover of language-model traces (docs/LLM_INT.md §9): recomputes one element of one slot with
/// the op arithmetic of `LibLlm`, from operand rows proven against the defender's final state σ_n and model leaves
/// proven against the op roots in the registry. Every index (the element's pass and op, the slots and elements it
/// reads, the model leaves it opens) is derived here from the slot, the element and the model's config; the witness
/// supplies data only. The Rust mirror is `vouch_llm::trace::verify` (what is read: `vouch_llm::trace::element`).
/// @dev Stateless: it reads the registry and the witness and writes nothing. Operand rows are read in place, as
/// calldata slices of the witness's runs of leaves, and handed to `LibLlm` without a copy.
contract LlmStepProver is ILlmStepProver {
    /// @notice Leaves of a SiLU op's tree: its spec, then the table's 65,535 i16 entries 16 a leaf (4,096 leaves).
    uint256 internal constant SILU_LEAVES = 1 + 4096;

    /// @notice Entries of the SiLU table per leaf.
    uint256 internal constant SILU_PER_LEAF = 16;

    /// @notice An embedding table row starts with the gather's requantization `Me i32 | se u8`; HEAD's weight row
    /// follows it.
    uint256 internal constant TABLE_HEADER = 5;

    /// @notice One element's step: where it lies, and how far the witness has been read.
    struct Step {
        uint256 modelId;
        LlmConfig c;
        LlmLayout l;
        bytes32 finalState;
        /// @dev The slot s whose element is computed, and the trace's output slot n.
        uint256 slot;
        uint256 n;
        /// @dev The element e (row-major) of slot s.
        uint256 e;
        /// @dev Slot s's pass p and op o (o = `LibLlmTrace.OUTSIDE` for the output slot).
        uint256 pass;
        uint256 op;
        /// @dev The first op of o's block, `1 + 19·b` (block ops only).
        uint256 base;
        /// @dev The next run and model leaf the element reads.
        uint256 nextRun;
        uint256 nextParam;
        /// @dev Bit i is set once a run of the slot of `witness.slots[i]` was read.
        uint256 read;
    }

    /// @notice Where a read lies in its slot's tensor tree.
    struct Span {
        uint256 slot;
        /// @dev The run: `count` leaves from leaf `first`, of the tree's `leafCount`.
        uint256 first;
        uint256 count;
        uint256 leafCount;
        /// @dev The elements' bytes: `length` bytes from byte `skip` of the run.
        uint256 skip;
        uint256 length;
    }

    /// @inheritdoc ILlmStepProver
    IModelRegistry public immutable registry;

    /// @notice Deploys a prover reading language-model configs and op roots from `registry_`.
    constructor(IModelRegistry registry_) {
        // INVARIANT: the prover always has a registry to read models from.
        if (address(registry_) == address(0)) revert ZeroRegistry();
        registry = registry_;
    }

    /// @inheritdoc ILlmStepProver
    function slotGeometry(uint256 modelId, LlmLayout calldata trace, uint256 slot)
        external
        view
        returns (SlotGeometry memory)
    {
        LlmConfig memory c = registry.llmConfig(modelId);
        LlmLayout memory l = trace;
        _checkLayout(c, l);
        uint256 n = LibLlmTrace.outputSlot(c, l);
        // INVARIANT: the trace has slots 0 … n only.
        if (slot > n) revert LlmSlotOutOfRange(slot, n);
        return LibLlmTrace.geometry(c, l, slot);
    }

    /// @inheritdoc ILlmStepProver
    function trueElement(
        uint256 modelId,
        LlmLayout calldata trace,
        bytes32 finalState,
        uint256 slot,
        uint256 e,
        LlmWitness calldata witness
    ) external view returns (int256 value) {
        Step memory st = _step(modelId, trace, finalState, slot, e);
        _proveSlots(st, witness.slots);
        value = st.op == LibLlmTrace.OUTSIDE ? _collect(st, witness) : _element(st, witness);
        // INVARIANT: the witness is exactly what the element reads: no run, model leaf or slot proof left over.
        if (st.nextRun != witness.runs.length) revert LlmExtraRuns(witness.runs.length, st.nextRun);
        if (st.nextParam != witness.params.length) revert LlmExtraParams(witness.params.length, st.nextParam);
        uint256 proven = witness.slots.length;
        for (uint256 i = 0; i < proven; ++i) {
            if (i >= 256 || (st.read >> i) & 1 == 0) revert LlmSlotNotRead(witness.slots[i].slot);
        }
    }

    // -----------------------------------------------------------------------------------------------------
    // The element of each op (docs/LLM_INT.md §8.1's "reads"; vouch_llm::trace::element)
    // -----------------------------------------------------------------------------------------------------

    /// @notice Element e of op o of pass p: opens o's spec (its tree's leaf 0), then computes the element from what
    /// the op reads.
    function _element(Step memory st, LlmWitness calldata w) internal view returns (int256) {
        uint8 code = LibLlmTrace.opCode(st.c, st.op);
        bytes calldata spec = _param(st, w, st.op, 0, _leafCount(st.c, st.op));
        uint256 expected = _specLength(code);
        // INVARIANT: the spec has exactly its code's fields (docs/LLM_INT.md §9.1), so every field read is in it.
        if (spec.length != expected) revert LlmLeafLength(st.op, spec.length, expected);
        if (code == LibLlmTrace.CODE_EMBED) return _embed(st, w, uint8(spec[3]));
        if (code == LibLlmTrace.CODE_NORM) return _norm(st, w, int64(uint64(bytes8(spec[3:11]))), _u32(spec, 11));
        if (code == LibLlmTrace.CODE_DENSE) return _dense(st, w, uint8(spec[3]), _u32(spec, 12));
        if (code == LibLlmTrace.CODE_HEAD) return _head(st, w, uint8(spec[5]), _u32(spec, 14));
        if (code == LibLlmTrace.CODE_ROPE) return _rope(st, w, _u32(spec, 7));
        if (code == LibLlmTrace.CODE_APPEND) return _append(st, w);
        if (code == LibLlmTrace.CODE_SCORE) return _score(st, w, int32(_u32(spec, 7)), uint8(spec[11]));
        if (code == LibLlmTrace.CODE_SOFTMAX) return _softmax(st, w);
        if (code == LibLlmTrace.CODE_PV) return _pv(st, w, _u32(spec, 3));
        if (code == LibLlmTrace.CODE_ADD) return _add(st, w);
        if (code == LibLlmTrace.CODE_LOOKUP) return _silu(st, w);
        if (code == LibLlmTrace.CODE_PRODUCT) return _product(st, w);
        if (code == LibLlmTrace.CODE_ARGMAX1) return _argmax1(st, w);
        return _argmax2(st, w);
    }

    /// @notice EMBED: the token (prompt id p of the input for p < P, else pass p − 1's ARGMAX2), then element e of its
    /// embedding table row (leaf 1 + token of op 0's tree).
    function _embed(Step memory st, LlmWitness calldata w, uint8 bits) internal view returns (int256) {
        LlmConfig memory c = st.c;
        int256 token = st.pass < st.l.prompt
            ? _i32(_read(st, w, 0, 1 + st.pass, 1), 0)
            : _i32(_read(st, w, LibLlmTrace.slot(c, st.pass - 1, LibLlmTrace.tail(c) + 3), 0, 1), 0);
        // INVARIANT: the token has a row in the table.
        if (token < 0 || token >= int256(uint256(c.vocab))) revert LlmTokenOutOfRange(token, c.vocab);
        // casting to 'uint256' is safe because 0 ≤ token < vocab.
        // forge-lint: disable-next-line(unsafe-typecast)
        bytes calldata row = _param(st, w, 0, 1 + uint256(token), 1 + uint256(c.vocab));
        return LibLlm.embed(row, c.hidden, bits, st.e);
    }

    /// @notice NORM (attention, feed-forward or final): the residual row it normalizes (op o − 1 of the pass: the
    /// block's input, the attention ADD, the last block's ADD) and o's gain row (leaf 1).
    function _norm(Step memory st, LlmWitness calldata w, int64 epsTerm, uint32 bound) internal view returns (int256) {
        bytes calldata residual = _read(st, w, _at(st, st.op - 1), 0, st.c.hidden);
        return LibLlm.rmsnorm(residual, _param(st, w, st.op, 1, 2), epsTerm, st.e, bound);
    }

    /// @notice DENSE q, k, v, o, gate, up, down: the input row (the attention norm for q, k, v; P·V for o; the
    /// feed-forward norm for gate and up; the product for down, with its exponent read first) and weight row e
    /// (leaf 1 + e).
    function _dense(Step memory st, LlmWitness calldata w, uint8 bits, uint32 bound) internal view returns (int256) {
        if (st.op - st.base == LibLlmTrace.DOWN) return _down(st, w, bits, bound);
        bytes calldata row = _param(st, w, st.op, 1 + st.e, _leafCount(st.c, st.op));
        (uint256 x, uint256 cols) = _denseInput(st);
        return LibLlm.dense(_read(st, w, x, 0, cols), row, cols, bits, false, bound);
    }

    /// @notice The slot and width of the row a dense other than down reads.
    function _denseInput(Step memory st) internal pure returns (uint256 x, uint256 cols) {
        uint256 i = st.op - st.base;
        if (i == LibLlmTrace.O) return (_at(st, st.base + LibLlmTrace.PV), uint256(st.c.heads) * st.c.headDim);
        x = _at(st, st.base + (i <= LibLlmTrace.V ? LibLlmTrace.ATTN_NORM : LibLlmTrace.FFN_NORM));
        cols = st.c.hidden;
    }

    /// @notice DENSE down: the product row's exponent (its element F, read first), the row and weight row e.
    function _down(Step memory st, LlmWitness calldata w, uint8 bits, uint32 bound) internal view returns (int256) {
        uint256 y = _at(st, st.base + LibLlmTrace.PRODUCT);
        int256 exponent = _i16(_read(st, w, y, st.c.ffn, 1), 0);
        bytes calldata row = _param(st, w, st.op, 1 + st.e, 1 + uint256(st.c.hidden));
        return LibLlm.denseScaled(_read(st, w, y, 0, st.c.ffn), row, st.c.ffn, bits, exponent, bound);
    }

    /// @notice HEAD: the final norm's row and weight row e, the head half of the embedding table's row e (leaf 1 + e
    /// of op 0's tree, after its `Me | se`).
    function _head(Step memory st, LlmWitness calldata w, uint8 bits, uint32 bound) internal view returns (int256) {
        LlmConfig memory c = st.c;
        bytes calldata row = _param(st, w, 0, 1 + st.e, 1 + uint256(c.vocab));
        // INVARIANT: the table row holds the gather's requantization before the head's weight row.
        if (row.length < TABLE_HEADER) revert LlmLeafLength(0, row.length, TABLE_HEADER);
        bytes calldata x = _read(st, w, _at(st, LibLlmTrace.tail(c)), 0, c.hidden);
        return LibLlm.dense(x, row[TABLE_HEADER:], c.hidden, bits, false, bound);
    }

    /// @notice ROPE q or k: the pair (2m, 2m + 1) holding element e of the q or k row (op o − 3) and the RoPE row of
    /// position p (leaf 1 + p of block 0's ROPE q tree).
    function _rope(Step memory st, LlmWitness calldata w, uint32 bound) internal view returns (int256) {
        bytes calldata pair = _read(st, w, _at(st, st.op - 3), st.e / 2 * 2, 2);
        bytes calldata row = _param(st, w, 1 + LibLlmTrace.ROPE_Q, 1 + st.pass, 1 + uint256(st.c.context));
        return LibLlm.rope(pair, row, st.e, bound);
    }

    /// @notice APPEND (the Vᵀ cache, `[W][N]`): element (r, j) is the same op's of pass p − 1 for j < p, v's element
    /// r (op o − 3) for j = p, and 0 past the position.
    function _append(Step memory st, LlmWitness calldata w) internal pure returns (int256) {
        uint256 positions = LibLlmTrace.positions(st.l);
        uint256 j = st.e % positions;
        if (j < st.pass) return _i16(_read(st, w, LibLlmTrace.slot(st.c, st.pass - 1, st.op), st.e, 1), 0);
        if (j == st.pass) return _i16(_read(st, w, _at(st, st.op - 3), st.e / positions, 1), 0);
        return 0;
    }

    /// @notice SCORE (h, j): q′ row h (op o − 3 of this pass) and k′ row h / group of pass j's ROPE k (op o − 2).
    function _score(Step memory st, LlmWitness calldata w, int32 multiplier, uint8 shift)
        internal
        pure
        returns (int256)
    {
        uint256 h = st.e / (st.pass + 1);
        bytes calldata q = _read(st, w, _at(st, st.op - 3), h * st.c.headDim, st.c.headDim);
        bytes calldata k = _key(st, w, h);
        return LibLlm.score(q, k, multiplier, shift);
    }

    /// @notice SCORE (h, j)'s key: k′ row h / group of pass j's ROPE k.
    function _key(Step memory st, LlmWitness calldata w, uint256 h) internal pure returns (bytes calldata) {
        uint256 key = LibLlmTrace.slot(st.c, st.e % (st.pass + 1), st.op - 2);
        // The key head is h / group, an integer division before its row offset.
        // forge-lint: disable-next-line(divide-before-multiply)
        return _read(st, w, key, h / (st.c.heads / st.c.kvHeads) * st.c.headDim, st.c.headDim);
    }

    /// @notice SOFTMAX (h, j): score row h (op o − 1) and the EXP row (leaf 1 of block 0's SOFTMAX tree).
    function _softmax(Step memory st, LlmWitness calldata w) internal view returns (int256) {
        uint256 t = st.pass + 1;
        bytes calldata scores = _read(st, w, _at(st, st.op - 1), st.e / t * t, t);
        return LibLlm.softmax(scores, _param(st, w, 1 + LibLlmTrace.SOFTMAX, 1, 2), st.e % t);
    }

    /// @notice PV (h, d): probability row h (op o − 1) and the first p + 1 elements of Vᵀ row (h / group)·64 + d of
    /// this pass's APPEND (op o − 3).
    function _pv(Step memory st, LlmWitness calldata w, uint32 bound) internal pure returns (int256) {
        uint256 h = st.e / st.c.headDim;
        bytes calldata probs = _read(st, w, _at(st, st.op - 1), h * (st.pass + 1), st.pass + 1);
        bytes calldata values = _values(st, w, h);
        return LibLlm.pv(probs, values, bound);
    }

    /// @notice PV (h, d)'s values: the first p + 1 elements of Vᵀ row (h / group)·64 + d of this pass's APPEND.
    function _values(Step memory st, LlmWitness calldata w, uint256 h) internal pure returns (bytes calldata) {
        // The value head is h / group, an integer division before its row offset.
        // forge-lint: disable-next-line(divide-before-multiply)
        uint256 row = h / (st.c.heads / st.c.kvHeads) * st.c.headDim + st.e % st.c.headDim;
        return _read(st, w, _at(st, st.op - 3), row * LibLlmTrace.positions(st.l), st.pass + 1);
    }

    /// @notice ADD: element e of the residual (the block's input for the attention ADD, the attention ADD for the
    /// feed-forward ADD) and of the delta (op o − 1: dense o, dense down).
    function _add(Step memory st, LlmWitness calldata w) internal pure returns (int256) {
        // The block's input is op base − 1 (EMBED for block 0, the previous block's feed-forward ADD).
        uint256 a = st.op - st.base == LibLlmTrace.ATTN_ADD ? st.base - 1 : st.base + LibLlmTrace.ATTN_ADD;
        int256 residual = _i32(_read(st, w, _at(st, a), st.e, 1), 0);
        int256 delta = _i32(_read(st, w, _at(st, st.op - 1), st.e, 1), 0);
        // casting to 'int32' is safe because both are big-endian i32 elements.
        // forge-lint: disable-next-line(unsafe-typecast)
        return LibLlm.add(int32(residual), int32(delta));
    }

    /// @notice LOOKUP (SiLU): gate element e (op o − 2) and the table leaf holding its entry (leaf 1 + (x + 32767)/16).
    function _silu(Step memory st, LlmWitness calldata w) internal view returns (int256) {
        int256 x = _i16(_read(st, w, _at(st, st.op - 2), st.e, 1), 0);
        // INVARIANT: x is in the table's domain [−32767, 32767].
        if (x < -LibLlm.SILU_OFFSET) revert LookupOutOfRange(x);
        // casting to 'uint256' is safe because x + 32767 ≥ 0.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint256 leaf = uint256(x + LibLlm.SILU_OFFSET) / SILU_PER_LEAF;
        bytes calldata entries = _param(st, w, st.op, 1 + leaf, SILU_LEAVES);
        // INVARIANT: a table leaf is one 32-byte word of 16 entries.
        if (entries.length != 32) revert LlmLeafLength(st.op, entries.length, 32);
        // casting to 'int16' is safe because x is a big-endian i16 element.
        // forge-lint: disable-next-line(unsafe-typecast)
        return LibLlm.lookup(bytes32(entries), leaf, int16(x));
    }

    /// @notice PRODUCT: the SiLU row (op o − 1) and the up row (op o − 2); element F is the row's exponent.
    function _product(Step memory st, LlmWitness calldata w) internal pure returns (int256) {
        bytes calldata a = _read(st, w, _at(st, st.op - 1), 0, st.c.ffn);
        bytes calldata u = _read(st, w, _at(st, st.op - 2), 0, st.c.ffn);
        return LibLlm.product(a, u, st.e);
    }

    /// @notice ARGMAX1 (c, ·): logits chunk c = e / 2 of HEAD (op o − 1): its largest value (even e) or the lowest
    /// index holding it (odd e).
    function _argmax1(Step memory st, LlmWitness calldata w) internal pure returns (int256) {
        uint256 chunk = st.e / 2;
        uint256 first = chunk * LibLlmTrace.ARGMAX_CHUNK;
        uint256 len = uint256(st.c.vocab) - first;
        if (len > LibLlmTrace.ARGMAX_CHUNK) len = LibLlmTrace.ARGMAX_CHUNK;
        // casting to 'uint32' is safe because chunk < 32 (vocab ≤ 2^18).
        // forge-lint: disable-next-line(unsafe-typecast)
        (int256 value, int256 index) = LibLlm.argmax1(_read(st, w, _at(st, st.op - 1), first, len), uint32(chunk));
        return st.e % 2 == 0 ? value : index;
    }

    /// @notice ARGMAX2: each chunk's pair (row c of ARGMAX1, op o − 1), one read a chunk; the index of the largest
    /// value, ties to the lowest chunk.
    function _argmax2(Step memory st, LlmWitness calldata w) internal pure returns (int256 index) {
        uint256 pairs = _at(st, st.op - 1);
        uint256 chunks = LibLlmTrace.chunks(st.c);
        int256 best;
        for (uint256 k = 0; k < chunks; ++k) {
            bytes calldata pair = _read(st, w, pairs, 2 * k, 2);
            int256 value = _i32(pair, 0);
            if (k == 0 || value > best) (best, index) = (value, _i32(pair, 4));
        }
    }

    /// @notice COLLECT (the output slot n): element i is pass P − 1 + i's ARGMAX2 token. Opens no model leaf.
    function _collect(Step memory st, LlmWitness calldata w) internal pure returns (int256) {
        uint256 argmax = LibLlmTrace.slot(st.c, uint256(st.l.prompt) - 1 + st.e, LibLlmTrace.tail(st.c) + 3);
        return _i32(_read(st, w, argmax, 0, 1), 0);
    }

    // -----------------------------------------------------------------------------------------------------
    // The witness (vouch_llm::trace::verify)
    // -----------------------------------------------------------------------------------------------------

    /// @notice Reads the model and checks that the element is one the step can compute: the model is a language
    /// model, Active or Retired after it was Active (jobs posted before retirement run to completion, their disputes
    /// too); the layout has a computed output; the slot is one of 1 … n and e one of its elements.
    /// @dev `modelTerms` and `publication` are read instead of `getModel`, whose `uri` an owner could make arbitrarily
    /// expensive to copy.
    function _step(uint256 modelId, LlmLayout calldata trace, bytes32 finalState, uint256 slot, uint256 e)
        internal
        view
        returns (Step memory st)
    {
        _requireActive(modelId);
        st.c = registry.llmConfig(modelId);
        st.l = trace;
        _checkLayout(st.c, st.l);
        st.n = LibLlmTrace.outputSlot(st.c, st.l);
        // INVARIANT: slot s is computed (slot 0, the input, is given) and lies in the trace.
        if (slot == 0 || slot > st.n) revert LlmSlotOutOfRange(slot, st.n);
        SlotGeometry memory g = LibLlmTrace.geometry(st.c, st.l, slot);
        // INVARIANT: e is an element of slot s.
        if (e >= g.rows * g.cols) revert ElementOutOfRange(e, g.rows * g.cols);
        st.modelId = modelId;
        st.finalState = finalState;
        st.slot = slot;
        st.e = e;
        st.pass = g.pass;
        st.op = g.op;
        if (g.op != LibLlmTrace.OUTSIDE && g.op >= 1 && g.op < LibLlmTrace.tail(st.c)) {
            st.base = g.op - (g.op - 1) % LibLlmTrace.PER_BLOCK;
        }
    }

    /// @notice Reverts unless model `modelId` is a language model whose disputes can be decided.
    function _requireActive(uint256 modelId) internal view {
        (ModelStatus status,,,,,, ModelKind kind) = registry.modelTerms(modelId);
        // INVARIANT: only a language model's element is computed here (its config and op trees are the LLM's).
        if (kind != ModelKind.Llm) revert NotLlm(modelId);
        (uint32 sealedOps,) = registry.publication(modelId);
        // INVARIANT: only a model whose every op was published and matched its registered root is executed. A Retired
        // model was Active iff all its ops are sealed: sealing the last op activates the model or reverts.
        if (status != ModelStatus.Active && !(status == ModelStatus.Retired && sealedOps == registry.opCount(modelId)))
        {
            revert ModelNotActive(modelId, status);
        }
    }

    /// @notice Proves every slot root of the witness against σ_n (n + 1 leaves, tag 0x02): each slot before s, each
    /// once, in increasing order.
    function _proveSlots(Step memory st, LlmSlotProof[] calldata slots) internal pure {
        uint256 leaves = st.n + 1;
        for (uint256 i = 0; i < slots.length; ++i) {
            LlmSlotProof calldata proof = slots[i];
            uint256 s = proof.slot;
            // INVARIANT: the step reads only slots before its own (the ones the walk agreed on).
            if (s >= st.slot) revert LlmSlotNotReadable(s, st.slot);
            // INVARIANT: each slot is proven once, in increasing order.
            if (i > 0 && s <= slots[i - 1].slot) revert LlmSlotsNotIncreasing(i, s);
            bytes32 computed = LibMerkle.climb(
                LibMerkle.TAG_STATE, LibMerkle.leafWord(LibMerkle.TAG_STATE, proof.root), s, proof.path, leaves
            );
            // INVARIANT: the root is slot s's in the defender's final state.
            if (computed != st.finalState) revert LlmSlotRootMismatch(s, computed, st.finalState);
        }
    }

    /// @notice Elements [start, start + len) of slot `s`, which lie in one row: the next run of the witness, proven to
    /// be exactly the leaves holding them in s's tensor tree, whose root is proven in σ_n. Returns their big-endian
    /// bytes, a slice of the run's leaves.
    function _read(Step memory st, LlmWitness calldata w, uint256 s, uint256 start, uint256 len)
        internal
        pure
        returns (bytes calldata data)
    {
        Span memory span = _span(st, s, start, len);
        data = _run(st, w.runs, span, _slotRoot(st, w.slots, s));
        data = data[span.skip:span.skip + span.length];
    }

    /// @notice Where elements [start, start + len) of slot `s` lie in its tensor tree.
    function _span(Step memory st, uint256 s, uint256 start, uint256 len) internal pure returns (Span memory span) {
        SlotGeometry memory g = LibLlmTrace.geometry(st.c, st.l, s);
        uint256 col = start % g.cols;
        // INVARIANT: the read lies within one row (every read of the program does, for a valid layout).
        if (len == 0 || col + len > g.cols || start / g.cols >= g.rows) {
            revert ElementOutOfRange(start + len - 1, g.cols);
        }
        uint256 perRow = LibLlmTrace.leavesPerRow(g);
        uint256 from = col * g.width;
        span.slot = s;
        span.first = start / g.cols * perRow + from / 32;
        span.count = ((col + len) * g.width - 1) / 32 - from / 32 + 1;
        span.leafCount = g.rows * perRow;
        span.skip = from % 32;
        span.length = len * g.width;
    }

    /// @notice The next run of the witness, checked to be the leaves of `span` and proven against their slot's root
    /// `root`. Returns the leaves' bytes.
    function _run(Step memory st, LlmRunProof[] calldata runs, Span memory span, bytes32 root)
        internal
        pure
        returns (bytes calldata data)
    {
        uint256 index = st.nextRun++;
        // INVARIANT: every run the element reads is in the witness.
        if (index >= runs.length) revert LlmRunMissing(index);
        LlmRunProof calldata run = runs[index];
        bytes32[] calldata leaves = run.leaves;
        // INVARIANT: the run is exactly the leaves read here (the witness names them, the prover derives them).
        if (run.slot != span.slot || run.firstLeaf != span.first || leaves.length != span.count) {
            // casting to 'uint32' is safe because a read is at most one row of at most 8192 elements (1025 leaves).
            // forge-lint: disable-next-line(unsafe-typecast)
            revert LlmRunMismatch(index, span.slot, span.first, uint32(span.count));
        }
        _requireRunRoot(index, _climbRun(leaves, run.siblings, span), root);
        data = _bytes(leaves);
    }

    /// @notice Reverts unless run `index` climbed to its slot's root.
    function _requireRunRoot(uint256 index, bytes32 computed, bytes32 root) internal pure {
        // INVARIANT: the leaves are the slot's, at their place in its tensor tree.
        if (computed != root) revert LlmRunRootMismatch(index, computed, root);
    }

    /// @notice The bytes of consecutive calldata words.
    function _bytes(bytes32[] calldata words) internal pure returns (bytes calldata data) {
        assembly ("memory-safe") {
            data.offset := words.offset
            data.length := shl(5, words.length)
        }
    }

    /// @notice The root the run `leaves` climbs to with its range proof (tensor leaves, tag 0x01).
    function _climbRun(bytes32[] calldata leaves, bytes32[] calldata siblings, Span memory span)
        internal
        pure
        returns (bytes32)
    {
        bytes32[] memory hashes = new bytes32[](leaves.length);
        for (uint256 i = 0; i < leaves.length; ++i) {
            hashes[i] = LibMerkle.leafWord(LibMerkle.TAG_TENSOR, leaves[i]);
        }
        return LibMerkle.climbRange(LibMerkle.TAG_TENSOR, hashes, span.first, siblings, span.leafCount);
    }

    /// @notice Slot `s`'s root from the witness's (already proven) slot proofs, marking the proof read.
    function _slotRoot(Step memory st, LlmSlotProof[] calldata slots, uint256 s) internal pure returns (bytes32) {
        for (uint256 i = 0; i < slots.length; ++i) {
            if (slots[i].slot == s) {
                // Bit i of the mask (a shift of 1 by i, in that order).
                // forge-lint: disable-next-line(incorrect-shift)
                if (i < 256) st.read |= 1 << i;
                return slots[i].root;
            }
        }
        // INVARIANT: every slot the element reads is proven in σ_n.
        revert LlmSlotNotProven(s);
    }

    /// @notice The next model leaf of the witness, checked to be leaf `leaf` of op `op`'s tree (of `leafCount`
    /// leaves, tag 0x04) and proven against the op's root in the registry. Returns its bytes.
    function _param(Step memory st, LlmWitness calldata w, uint256 op, uint256 leaf, uint256 leafCount)
        internal
        view
        returns (bytes calldata data)
    {
        uint256 index = st.nextParam++;
        // INVARIANT: every model leaf the element reads is in the witness.
        if (index >= w.params.length) revert LlmParamMissing(index);
        LlmParamProof calldata proof = w.params[index];
        // INVARIANT: the leaf is the one read here (the witness names it, the prover derives it).
        if (proof.op != op || proof.leaf != leaf) revert LlmParamMismatch(index, op, leaf);
        bytes32 computed = _climbParam(proof, leafCount);
        // casting to 'uint32' is safe because op < OPS ≤ 2^16.
        // forge-lint: disable-next-line(unsafe-typecast)
        bytes32 opRoot = registry.opRoot(st.modelId, uint32(op));
        // INVARIANT: the leaf is the model's: leaf `leaf` of op `op`'s tree, committed by the model root.
        if (computed != opRoot) revert LlmParamRootMismatch(index, computed, opRoot);
        data = proof.data;
    }

    /// @notice The root model leaf `proof` climbs to in its op's tree of `leafCount` leaves (tag 0x04).
    function _climbParam(LlmParamProof calldata proof, uint256 leafCount) internal pure returns (bytes32) {
        return LibMerkle.climb(
            LibMerkle.TAG_OP, LibMerkle.leafCalldata(LibMerkle.TAG_OP, proof.data), proof.leaf, proof.path, leafCount
        );
    }

    // -----------------------------------------------------------------------------------------------------
    // Geometry and encodings
    // -----------------------------------------------------------------------------------------------------

    /// @notice Reverts unless the layout has a pass and a computed output within the model's context.
    function _checkLayout(LlmConfig memory c, LlmLayout memory l) internal pure {
        // INVARIANT: P ≥ 1, 1 ≤ G ≤ maxNew and P + maxNew − 1 ≤ context (what the market checks of a job and its
        // result), so every slot and position derived from it exists.
        if (l.prompt == 0 || l.generated == 0 || l.generated > l.maxNew || uint256(l.prompt) + l.maxNew - 1 > c.context)
        {
            revert InvalidLlmLayout(l.prompt, l.maxNew, l.generated);
        }
    }

    /// @notice Slot op `o` of the element's pass wrote.
    function _at(Step memory st, uint256 o) internal pure returns (uint256) {
        return LibLlmTrace.slot(st.c, st.pass, o);
    }

    /// @notice Leaves of op `o`'s tree (`vouch_llm::trace::commit::leaf_count`): its spec and the rows its elements
    /// read, none for an op reading another op's rows.
    function _leafCount(LlmConfig memory c, uint256 o) internal pure returns (uint256) {
        uint8 code = LibLlmTrace.opCode(c, o);
        if (code == LibLlmTrace.CODE_EMBED) return 1 + uint256(c.vocab);
        if (code == LibLlmTrace.CODE_NORM) return 2;
        if (code == LibLlmTrace.CODE_LOOKUP) return SILU_LEAVES;
        if (code == LibLlmTrace.CODE_DENSE) {
            uint256 i = (o - 1) % LibLlmTrace.PER_BLOCK;
            if (i == LibLlmTrace.Q) return 1 + uint256(c.heads) * c.headDim;
            if (i == LibLlmTrace.K || i == LibLlmTrace.V) return 1 + uint256(c.kvHeads) * c.headDim;
            if (i == LibLlmTrace.GATE || i == LibLlmTrace.UP) return 1 + uint256(c.ffn);
            return 1 + uint256(c.hidden);
        }
        // Block 0's ROPE q holds the RoPE rows, one per position; block 0's SOFTMAX the EXP row.
        if (o == 1 + LibLlmTrace.ROPE_Q) return 1 + uint256(c.context);
        if (o == 1 + LibLlmTrace.SOFTMAX) return 2;
        return 1;
    }

    /// @notice Bytes of the spec leaf of an op of code `code` (docs/LLM_INT.md §9.1): `code u8 | o u16 |` its fields.
    function _specLength(uint8 code) internal pure returns (uint256) {
        if (code == LibLlmTrace.CODE_EMBED || code == LibLlmTrace.CODE_DENSE) return 17;
        if (code == LibLlmTrace.CODE_NORM) return 15;
        if (code == LibLlmTrace.CODE_HEAD) return 19;
        if (code == LibLlmTrace.CODE_SCORE) return 12;
        if (code == LibLlmTrace.CODE_ROPE) return 11;
        if (code == LibLlmTrace.CODE_SOFTMAX) return 5;
        if (code == LibLlmTrace.CODE_APPEND || code == LibLlmTrace.CODE_ARGMAX2) return 3;
        // PV, ADD, LOOKUP, PRODUCT: `bound u32`; ARGMAX1: `chunk u32`.
        return 7;
    }

    /// @notice The big-endian u32 at byte `off` of `data` (in bounds: the caller checked the length).
    function _u32(bytes calldata data, uint256 off) internal pure returns (uint32) {
        return uint32(bytes4(data[off:off + 4]));
    }

    /// @notice The big-endian i16 at byte `off` of `data` (in bounds: the caller checked the length).
    function _i16(bytes calldata data, uint256 off) internal pure returns (int256 v) {
        assembly ("memory-safe") {
            v := signextend(1, shr(240, calldataload(add(data.offset, off))))
        }
    }

    /// @notice The big-endian i32 at byte `off` of `data` (in bounds: the caller checked the length).
    function _i32(bytes calldata data, uint256 off) internal pure returns (int256 v) {
        assembly ("memory-safe") {
            v := signextend(3, shr(224, calldataload(add(data.offset, off))))
        }
    }
}
