// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {
    CardTooLarge,
    EmptyCardChunk,
    EmptyOp,
    InvalidLlmConfig,
    InvalidModelShape,
    LlmSpecMismatch,
    ModelAlreadyRetired,
    ModelNotPending,
    ModelRootMismatch,
    NoLeaves,
    NotLlm,
    NotModelOwner,
    NotTensor,
    OpOutputShape,
    OperandNotWritten,
    RoyaltyTooHigh,
    StepCalldataTooLarge,
    StepGasTooHigh,
    TokenPriceTooHigh,
    UnknownModel,
    WrongOp
} from "./lib/Errors.sol";
import {LibLimits, StepCost} from "./lib/LibLimits.sol";
import {LibLlmTrace} from "./lib/LibLlmTrace.sol";
import {Frontier, LibMerkle} from "./lib/LibMerkle.sol";
import {LibModel} from "./lib/LibModel.sol";
import {LibOp, OpSpec} from "./lib/LibOp.sol";
import {LlmConfig, Model, ModelKind, ModelStatus, TensorShape} from "./lib/Types.sol";

/// @title ModelRegistry
/// @notice Lists models and verifies their on-chain publication against the registered root (PROTOCOL §5.1).
/// Keeps each op's spec leaf (`opSpec`) so the one-step prover and the dispute game can read ops on chain. Lists both
/// kinds of model: tensor models (`registerModel`) and language models (`registerLlm`, docs/LLM_INT.md §9.1), whose
/// ops are published and sealed alike.
contract ModelRegistry is IModelRegistry {
    using LibMerkle for Frontier;

    /// @notice 100 % in basis points.
    uint16 public constant MAX_ROYALTY_BPS = 10_000;

    /// @notice Most bytes of a language model's card (SmolLM2-135M's is ~0.9 MB).
    uint32 public constant MAX_CARD_BYTES = 8 << 20;

    /// @notice The most a language model may charge per token, in wei (2^128 − 1): a job's escrow `P·perInputToken +
    /// maxNew·perOutputToken`, P + maxNew ≤ context + 1 ≤ 1025, stays below 2^139, and its royalty product below 2^153.
    uint256 public constant MAX_TOKEN_PRICE = type(uint128).max;

    /// @notice A model as stored: the fields of `Model`, packed into 5 slots (`Model` itself would take 9, as
    /// every nested struct starts a new slot). Slot 0 and slot 2 hold everything `modelTerms` needs but the fee.
    struct ModelRecord {
        address owner;
        uint32 opCount;
        uint16 royaltyBps;
        ModelStatus status;
        int8 inputZero;
        ModelKind kind;
        bytes32 root;
        uint32 inH;
        uint32 inW;
        uint32 inC;
        uint32 outH;
        uint32 outW;
        uint32 outC;
        uint256 fee;
        string uri;
    }

    /// @notice A language model's prices per token, in wei, packed in one slot (each ≤ `MAX_TOKEN_PRICE`).
    struct LlmPrice {
        uint128 perInputToken;
        uint128 perOutputToken;
    }

    /// @notice Progress of a Pending model's publication.
    struct Publication {
        /// @dev The op being published (== opCount once every op is sealed).
        uint32 op;
        /// @dev Leaves of op `op` so far.
        Frontier opTree;
        /// @dev leaf(0x05, opRoot_k) of every sealed op.
        Frontier modelTree;
    }

    /// @inheritdoc IModelRegistry
    uint256 public modelCount;

    mapping(uint256 modelId => ModelRecord) internal _models;
    mapping(uint256 modelId => Publication) internal _publications;
    mapping(uint256 modelId => mapping(uint32 op => bytes32)) internal _opRoots;
    /// @dev Leaf 0 (the spec, PROTOCOL §3.1) of every op published since the last reset, for `opSpec`.
    mapping(uint256 modelId => mapping(uint32 op => bytes)) internal _opSpecs;
    /// @dev The config of every language model.
    mapping(uint256 modelId => LlmConfig) internal _llmConfigs;
    /// @dev A language model's card as published since the last reset.
    mapping(uint256 modelId => Card) internal _cards;

    /// @notice A language model's card so far: the chained hash of its chunks, their number and bytes.
    struct Card {
        bytes32 hash;
        uint32 chunks;
        uint32 length;
    }
    /// @dev The per-token prices of every language model (its `ModelRecord.fee` stays zero).
    mapping(uint256 modelId => LlmPrice) internal _llmPrices;

    /// @inheritdoc IModelRegistry
    function registerModel(
        bytes32 root,
        uint32 opCount,
        TensorShape calldata input,
        int8 inputZero,
        TensorShape calldata output,
        uint256 fee,
        uint16 royaltyBps,
        string calldata uri
    ) external returns (uint256 modelId) {
        {
            // < 2^96: no overflow in uint256.
            uint256 inputLen = uint256(input.h) * input.w * input.c;
            uint256 outputLen = uint256(output.h) * output.w * output.c;
            // INVARIANT: every model has 1 to MAX_OPS ops (so the state tree is at most 20 deep, PROTOCOL §6.8), and
            // input and output tensors of 1 to 2^22 elements (tensor roots need m ≥ 1; a zero dimension makes the
            // element count zero). The bound keeps every length in uint32.
            if (
                opCount == 0 || opCount > LibLimits.MAX_OPS || inputLen == 0 || outputLen == 0
                    || inputLen > LibLimits.MAX_TENSOR_ELEMENTS || outputLen > LibLimits.MAX_TENSOR_ELEMENTS
            ) {
                revert InvalidModelShape(opCount, _saturate64(inputLen), _saturate64(outputLen));
            }
        }
        // INVARIANT: the royalty never exceeds the fee.
        if (royaltyBps > MAX_ROYALTY_BPS) revert RoyaltyTooHigh(royaltyBps, MAX_ROYALTY_BPS);

        modelId = ++modelCount;
        _models[modelId] = ModelRecord({
            owner: msg.sender,
            opCount: opCount,
            royaltyBps: royaltyBps,
            status: ModelStatus.Pending,
            inputZero: inputZero,
            kind: ModelKind.Tensor,
            root: root,
            inH: input.h,
            inW: input.w,
            inC: input.c,
            outH: output.h,
            outW: output.w,
            outC: output.c,
            fee: fee,
            uri: uri
        });
        emit ModelRegistered(modelId, msg.sender, root, opCount, input, inputZero, output, fee, royaltyBps, uri);
    }

    /// @inheritdoc IModelRegistry
    function registerLlm(
        bytes32 root,
        LlmConfig calldata config,
        uint256 perInputToken,
        uint256 perOutputToken,
        uint16 royaltyBps,
        string calldata uri
    ) external returns (uint256 modelId) {
        // INVARIANT: every one-step witness of a listed language model fits the calldata and gas caps.
        if (!LibLlmTrace.validConfig(config, LibLimits.MAX_STATE_DEPTH)) {
            revert InvalidLlmConfig(config.blocks, config.hidden, config.ffn, config.vocab, config.context);
        }
        // INVARIANT: the royalty never exceeds the fee.
        if (royaltyBps > MAX_ROYALTY_BPS) revert RoyaltyTooHigh(royaltyBps, MAX_ROYALTY_BPS);
        // casting to 'uint32' is safe because `validConfig` bounds OPS·context by 2^20.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 opCount = uint32(LibLlmTrace.ops(config));
        modelId = ++modelCount;
        ModelRecord storage model = _models[modelId];
        model.owner = msg.sender;
        model.opCount = opCount;
        model.royaltyBps = royaltyBps;
        model.status = ModelStatus.Pending;
        model.kind = ModelKind.Llm;
        model.root = root;
        model.uri = uri;
        _llmConfigs[modelId] = config;
        _llmPrices[modelId] = _llmPrice(perInputToken, perOutputToken);
        emit LlmRegistered(modelId, msg.sender, root, opCount, config, perInputToken, perOutputToken, royaltyBps, uri);
    }

    /// @inheritdoc IModelRegistry
    function publishLeaves(uint256 modelId, uint32 op, bytes[] calldata leaves) external {
        _requirePending(_requireOwner(modelId), modelId);
        Publication storage p = _publications[modelId];
        // INVARIANT: ops are published in order, so every op tree holds exactly the leaves of one op.
        if (op != p.op) revert WrongOp(modelId, op, p.op);
        // INVARIANT: every call appends something (an empty event would be noise for indexers).
        if (leaves.length == 0) revert NoLeaves(modelId, op);

        uint256 first = p.opTree.count;
        // The op's first leaf is its spec: kept so the one-step prover and the dispute game can read the op.
        if (first == 0) _opSpecs[modelId][op] = leaves[0];
        for (uint256 i = 0; i < leaves.length; ++i) {
            p.opTree.append(LibMerkle.TAG_OP, LibMerkle.leafCalldata(LibMerkle.TAG_OP, leaves[i]));
        }
        // casting to 'uint32' is safe because `append` caps the leaf count below 2^32.
        // forge-lint: disable-next-line(unsafe-typecast)
        emit ModelLeavesPublished(modelId, op, uint32(first), leaves);
    }

    /// @inheritdoc IModelRegistry
    function publishCard(uint256 modelId, bytes calldata chunk) external {
        ModelRecord storage model = _requireOwner(modelId);
        // INVARIANT: only language models have a card.
        if (model.kind != ModelKind.Llm) revert NotLlm(modelId);
        _requirePending(model, modelId);
        // INVARIANT: every call appends something.
        if (chunk.length == 0) revert EmptyCardChunk(modelId);
        Card storage c = _cards[modelId];
        uint256 length = uint256(c.length) + chunk.length;
        // INVARIANT: a card stays small enough for every agent to read (and its length fits uint32).
        if (length > MAX_CARD_BYTES) revert CardTooLarge(modelId, length, MAX_CARD_BYTES);
        c.hash = keccak256(abi.encodePacked(c.hash, chunk));
        uint32 index = c.chunks++;
        // casting to 'uint32' is safe because length ≤ MAX_CARD_BYTES < 2^32.
        // forge-lint: disable-next-line(unsafe-typecast)
        c.length = uint32(length);
        emit ModelCardPublished(modelId, index, chunk);
    }

    /// @inheritdoc IModelRegistry
    function sealOp(uint256 modelId, uint32 op) external {
        ModelRecord storage model = _requireOwner(modelId);
        _requirePending(model, modelId);
        Publication storage p = _publications[modelId];
        // INVARIANT: ops are sealed in order, each exactly once.
        if (op != p.op) revert WrongOp(modelId, op, p.op);
        // INVARIANT: an op tree has at least its spec leaf (m ≥ 1).
        if (p.opTree.count == 0) revert EmptyOp(modelId, op);
        if (model.kind == ModelKind.Llm) _checkLlmSpec(modelId, op);
        else _checkStep(modelId, model, op, p.opTree.count);

        bytes32 root = p.opTree.root(LibMerkle.TAG_OP, LibModel.OP_PAD_LEAF);
        _opRoots[modelId][op] = root;
        p.modelTree.append(LibMerkle.TAG_MODEL, LibMerkle.leafWord(LibMerkle.TAG_MODEL, root));
        p.opTree.reset();
        p.op = op + 1;
        emit OpSealed(modelId, op, root);

        if (op + 1 == model.opCount) {
            bytes32 opsRoot = p.modelTree.root(LibMerkle.TAG_MODEL, LibModel.MODEL_PAD_LEAF);
            bytes32 computed = model.kind == ModelKind.Llm
                ? LibLlmTrace.modelRoot(_llmConfigs[modelId], _cards[modelId].hash, opsRoot)
                : LibModel.modelRoot(model.opCount, _inputShape(model), model.inputZero, _outputShape(model), opsRoot);
            // INVARIANT: a model is Active only if its published leaves reproduce the registered root.
            if (computed != model.root) revert ModelRootMismatch(computed, model.root);
            model.status = ModelStatus.Active;
            emit ModelActivated(modelId);
        }
    }

    /// @inheritdoc IModelRegistry
    function resetPublication(uint256 modelId) external {
        _requirePending(_requireOwner(modelId), modelId);
        Publication storage p = _publications[modelId];
        p.op = 0;
        p.opTree.reset();
        p.modelTree.reset();
        delete _cards[modelId];
        emit PublicationReset(modelId);
    }

    /// @inheritdoc IModelRegistry
    function setPrice(uint256 modelId, uint256 fee, uint16 royaltyBps) external {
        ModelRecord storage model = _requireOwner(modelId);
        // INVARIANT: a retired model stays retired and unpriced.
        if (model.status == ModelStatus.Retired) revert ModelAlreadyRetired(modelId);
        // INVARIANT: a language model has no flat fee (its `fee` stays zero; it is priced per token).
        if (model.kind != ModelKind.Tensor) revert NotTensor(modelId);
        // INVARIANT: the royalty never exceeds the fee.
        if (royaltyBps > MAX_ROYALTY_BPS) revert RoyaltyTooHigh(royaltyBps, MAX_ROYALTY_BPS);
        model.fee = fee;
        model.royaltyBps = royaltyBps;
        emit ModelPriceUpdated(modelId, fee, royaltyBps);
    }

    /// @inheritdoc IModelRegistry
    function setLlmPrice(uint256 modelId, uint256 perInputToken, uint256 perOutputToken, uint16 royaltyBps) external {
        ModelRecord storage model = _requireOwner(modelId);
        // INVARIANT: a retired model stays retired and unpriced.
        if (model.status == ModelStatus.Retired) revert ModelAlreadyRetired(modelId);
        // INVARIANT: only a language model is priced per token.
        if (model.kind != ModelKind.Llm) revert NotLlm(modelId);
        // INVARIANT: the royalty never exceeds the fee.
        if (royaltyBps > MAX_ROYALTY_BPS) revert RoyaltyTooHigh(royaltyBps, MAX_ROYALTY_BPS);
        _llmPrices[modelId] = _llmPrice(perInputToken, perOutputToken);
        model.royaltyBps = royaltyBps;
        emit LlmPriceUpdated(modelId, perInputToken, perOutputToken, royaltyBps);
    }

    /// @inheritdoc IModelRegistry
    function retire(uint256 modelId) external {
        ModelRecord storage model = _requireOwner(modelId);
        // INVARIANT: a model is retired at most once.
        if (model.status == ModelStatus.Retired) revert ModelAlreadyRetired(modelId);
        model.status = ModelStatus.Retired;
        emit ModelRetired(modelId);
    }

    /// @inheritdoc IModelRegistry
    function getModel(uint256 modelId) external view returns (Model memory) {
        ModelRecord storage model = _requireModel(modelId);
        return Model({
            owner: model.owner,
            root: model.root,
            opCount: model.opCount,
            input: _inputShape(model),
            inputZero: model.inputZero,
            output: _outputShape(model),
            royaltyBps: model.royaltyBps,
            status: model.status,
            fee: model.fee,
            uri: model.uri,
            kind: model.kind
        });
    }

    /// @inheritdoc IModelRegistry
    function modelTerms(uint256 modelId)
        external
        view
        returns (
            ModelStatus status,
            address owner,
            TensorShape memory input,
            TensorShape memory output,
            uint256 fee,
            uint16 royaltyBps,
            ModelKind kind
        )
    {
        ModelRecord storage model = _requireModel(modelId);
        return
            (
                model.status,
                model.owner,
                _inputShape(model),
                _outputShape(model),
                model.fee,
                model.royaltyBps,
                model.kind
            );
    }

    /// @inheritdoc IModelRegistry
    function llmConfig(uint256 modelId) external view returns (LlmConfig memory) {
        // INVARIANT: only language models have a config.
        if (_requireModel(modelId).kind != ModelKind.Llm) revert NotLlm(modelId);
        return _llmConfigs[modelId];
    }

    /// @inheritdoc IModelRegistry
    function card(uint256 modelId) external view returns (bytes32 hash, uint32 chunks, uint32 length) {
        // INVARIANT: only language models have a card.
        if (_requireModel(modelId).kind != ModelKind.Llm) revert NotLlm(modelId);
        Card storage c = _cards[modelId];
        return (c.hash, c.chunks, c.length);
    }

    /// @inheritdoc IModelRegistry
    function llmPrices(uint256 modelId) external view returns (uint256 perInputToken, uint256 perOutputToken) {
        // INVARIANT: only language models are priced per token.
        if (_requireModel(modelId).kind != ModelKind.Llm) revert NotLlm(modelId);
        LlmPrice storage price = _llmPrices[modelId];
        return (price.perInputToken, price.perOutputToken);
    }

    /// @inheritdoc IModelRegistry
    function opCount(uint256 modelId) external view returns (uint32) {
        return _requireModel(modelId).opCount;
    }

    /// @inheritdoc IModelRegistry
    function publication(uint256 modelId) external view returns (uint32 op, uint32 leafCount) {
        _requireModel(modelId);
        Publication storage p = _publications[modelId];
        // casting to 'uint32' is safe because `append` caps the leaf count below 2^32.
        // forge-lint: disable-next-line(unsafe-typecast)
        return (p.op, uint32(p.opTree.count));
    }

    /// @inheritdoc IModelRegistry
    function opRoot(uint256 modelId, uint32 op) external view returns (bytes32) {
        _requireModel(modelId);
        return op < _publications[modelId].op ? _opRoots[modelId][op] : bytes32(0);
    }

    /// @inheritdoc IModelRegistry
    function opSpec(uint256 modelId, uint32 op) external view returns (bytes memory) {
        _requireModel(modelId);
        return op < _publications[modelId].op ? _opSpecs[modelId][op] : bytes("");
    }

    /// @dev Refuses op `op` unless a dispute on it stays decidable (PROTOCOL §6.8): a well-formed spec, an output of
    /// 1 to 2^22 elements, operands already written, and a worst one-step transaction within the calldata and gas
    /// caps. Reads the op's spec and its operands' shapes (the model's input, or an earlier op's spec).
    function _checkStep(uint256 modelId, ModelRecord storage model, uint32 op, uint256 opLeaves) internal view {
        OpSpec memory spec = LibOp.decode(_opSpecs[modelId][op]);
        uint256 outLen = LibOp.elementCount(spec.out);
        // INVARIANT: every slot tensor has 1 to 2^22 elements, so its tree is at most MAX_TENSOR_DEPTH deep.
        if (outLen == 0 || outLen > LibLimits.MAX_TENSOR_ELEMENTS) {
            revert OpOutputShape(modelId, op, spec.out.h, spec.out.w, spec.out.c);
        }
        TensorShape memory a = _slotShape(modelId, model, op, spec.input);
        TensorShape memory b = spec.code == LibOp.ADD ? _slotShape(modelId, model, op, spec.inputB) : a;
        StepCost memory cost = LibLimits.worstStep(spec, a, b, model.opCount, opLeaves);
        // INVARIANT: the worst step of every op fits a transaction geth-family txpools relay (PROTOCOL §6.8).
        if (cost.calldataBytes > LibLimits.MAX_STEP_CALLDATA) {
            revert StepCalldataTooLarge(modelId, op, cost.calldataBytes, LibLimits.MAX_STEP_CALLDATA);
        }
        uint256 gasBound = LibLimits.stepGas(cost);
        // INVARIANT: the worst step of every op fits well inside a block and EIP-7825's per-transaction cap.
        if (gasBound > LibLimits.MAX_STEP_GAS) revert StepGasTooHigh(modelId, op, gasBound, LibLimits.MAX_STEP_GAS);
    }

    /// @dev Refuses a language model's op `op` unless its spec leaf starts with the pass program's code for op `op` and
    /// the index `op` (`code u8 | o u16`): the one-step prover derives each element's op from its slot, and reads
    /// the rest of the spec from the leaf.
    function _checkLlmSpec(uint256 modelId, uint32 op) internal view {
        bytes storage spec = _opSpecs[modelId][op];
        uint8 expected = LibLlmTrace.opCode(_llmConfigs[modelId], op);
        // INVARIANT: a language model's op trees are its pass program's, in order.
        if (spec.length < 3 || uint8(spec[0]) != expected || (uint16(uint8(spec[1])) << 8 | uint8(spec[2])) != op) {
            revert LlmSpecMismatch(modelId, op, expected);
        }
    }

    /// @dev The shape of slot `slot`, read by op `op`: the model's input for slot 0, else the output of op slot − 1.
    function _slotShape(uint256 modelId, ModelRecord storage model, uint32 op, uint16 slot)
        internal
        view
        returns (TensorShape memory)
    {
        // INVARIANT: op k reads only slots ≤ k (PROTOCOL §2), whose shapes are fixed by now.
        if (slot > op) revert OperandNotWritten(modelId, op, slot);
        return slot == 0 ? _inputShape(model) : LibOp.outShape(_opSpecs[modelId][slot - 1]);
    }

    /// @dev The packed prices, each checked against `MAX_TOKEN_PRICE`.
    function _llmPrice(uint256 perInputToken, uint256 perOutputToken) internal pure returns (LlmPrice memory) {
        // INVARIANT: no language-model job's escrow or royalty overflows (P + maxNew ≤ 1025 tokens at these prices).
        if (perInputToken > MAX_TOKEN_PRICE) revert TokenPriceTooHigh(perInputToken, MAX_TOKEN_PRICE);
        if (perOutputToken > MAX_TOKEN_PRICE) revert TokenPriceTooHigh(perOutputToken, MAX_TOKEN_PRICE);
        // casting to 'uint128' is safe because both were just bounded by 2^128 − 1.
        // forge-lint: disable-next-line(unsafe-typecast)
        return LlmPrice({perInputToken: uint128(perInputToken), perOutputToken: uint128(perOutputToken)});
    }

    function _requireModel(uint256 modelId) internal view returns (ModelRecord storage model) {
        model = _models[modelId];
        // INVARIANT: only registered models are read or changed.
        if (model.status == ModelStatus.None) revert UnknownModel(modelId);
    }

    function _requireOwner(uint256 modelId) internal view returns (ModelRecord storage model) {
        model = _requireModel(modelId);
        // INVARIANT: only the owner publishes, reprices or retires a model.
        if (model.owner != msg.sender) revert NotModelOwner(modelId, msg.sender);
    }

    function _requirePending(ModelRecord storage model, uint256 modelId) internal view {
        // INVARIANT: the published data of an Active model never changes.
        if (model.status != ModelStatus.Pending) revert ModelNotPending(modelId, model.status);
    }

    function _inputShape(ModelRecord storage model) internal view returns (TensorShape memory) {
        return TensorShape({h: model.inH, w: model.inW, c: model.inC});
    }

    function _outputShape(ModelRecord storage model) internal view returns (TensorShape memory) {
        return TensorShape({h: model.outH, w: model.outW, c: model.outC});
    }

    /// @dev `x`, or 2^64 − 1 if it does not fit (only for error data: element counts can reach 2^96).
    function _saturate64(uint256 x) internal pure returns (uint64) {
        // casting to 'uint64' is safe because larger values are replaced by the maximum first.
        // forge-lint: disable-next-line(unsafe-typecast)
        return x > type(uint64).max ? type(uint64).max : uint64(x);
    }
}
