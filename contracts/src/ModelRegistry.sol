// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {
    EmptyOp,
    InvalidModelShape,
    ModelAlreadyRetired,
    ModelNotPending,
    ModelRootMismatch,
    NoLeaves,
    NotModelOwner,
    RoyaltyTooHigh,
    UnknownModel,
    WrongOp
} from "./lib/Errors.sol";
import {Frontier, LibMerkle} from "./lib/LibMerkle.sol";
import {LibModel} from "./lib/LibModel.sol";
import {Model, ModelStatus} from "./lib/Types.sol";

/// @title ModelRegistry
/// @notice Lists models and verifies their on-chain publication against the registered root (PROTOCOL §5.1).
contract ModelRegistry is IModelRegistry {
    using LibMerkle for Frontier;

    /// @notice 100 % in basis points.
    uint16 public constant MAX_ROYALTY_BPS = 10_000;

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

    mapping(uint256 modelId => Model) internal _models;
    mapping(uint256 modelId => Publication) internal _publications;
    mapping(uint256 modelId => mapping(uint32 op => bytes32)) internal _opRoots;

    /// @inheritdoc IModelRegistry
    function registerModel(
        bytes32 root,
        uint32 opCount,
        uint32 inputLen,
        uint32 outputLen,
        uint256 fee,
        uint16 royaltyBps,
        string calldata uri
    ) external returns (uint256 modelId) {
        // INVARIANT: every model has an op, and non-empty input and output tensors (tensor roots need m ≥ 1).
        if (opCount == 0 || inputLen == 0 || outputLen == 0) {
            revert InvalidModelShape(opCount, inputLen, outputLen);
        }
        // INVARIANT: the royalty never exceeds the fee.
        if (royaltyBps > MAX_ROYALTY_BPS) revert RoyaltyTooHigh(royaltyBps, MAX_ROYALTY_BPS);

        modelId = ++modelCount;
        _models[modelId] = Model({
            owner: msg.sender,
            root: root,
            opCount: opCount,
            inputLen: inputLen,
            outputLen: outputLen,
            royaltyBps: royaltyBps,
            status: ModelStatus.Pending,
            fee: fee,
            uri: uri
        });
        emit ModelRegistered(modelId, msg.sender, root, opCount, inputLen, outputLen, fee, royaltyBps, uri);
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
        for (uint256 i = 0; i < leaves.length; ++i) {
            p.opTree.append(LibMerkle.TAG_OP, LibMerkle.leafCalldata(LibMerkle.TAG_OP, leaves[i]));
        }
        // casting to 'uint32' is safe because `append` caps the leaf count below 2^32.
        // forge-lint: disable-next-line(unsafe-typecast)
        emit ModelLeavesPublished(modelId, op, uint32(first), leaves);
    }

    /// @inheritdoc IModelRegistry
    function sealOp(uint256 modelId, uint32 op) external {
        Model storage model = _requireOwner(modelId);
        _requirePending(model, modelId);
        Publication storage p = _publications[modelId];
        // INVARIANT: ops are sealed in order, each exactly once.
        if (op != p.op) revert WrongOp(modelId, op, p.op);
        // INVARIANT: an op tree has at least its spec leaf (m ≥ 1).
        if (p.opTree.count == 0) revert EmptyOp(modelId, op);

        bytes32 root = p.opTree.root(LibMerkle.TAG_OP, LibModel.OP_PAD_LEAF);
        _opRoots[modelId][op] = root;
        p.modelTree.append(LibMerkle.TAG_MODEL, LibMerkle.leafWord(LibMerkle.TAG_MODEL, root));
        p.opTree.reset();
        p.op = op + 1;
        emit OpSealed(modelId, op, root);

        if (op + 1 == model.opCount) {
            bytes32 computed = LibModel.modelRoot(
                model.opCount,
                model.inputLen,
                model.outputLen,
                p.modelTree.root(LibMerkle.TAG_MODEL, LibModel.MODEL_PAD_LEAF)
            );
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
        emit PublicationReset(modelId);
    }

    /// @inheritdoc IModelRegistry
    function setPrice(uint256 modelId, uint256 fee, uint16 royaltyBps) external {
        Model storage model = _requireOwner(modelId);
        // INVARIANT: a retired model stays retired and unpriced.
        if (model.status == ModelStatus.Retired) revert ModelAlreadyRetired(modelId);
        // INVARIANT: the royalty never exceeds the fee.
        if (royaltyBps > MAX_ROYALTY_BPS) revert RoyaltyTooHigh(royaltyBps, MAX_ROYALTY_BPS);
        model.fee = fee;
        model.royaltyBps = royaltyBps;
        emit ModelPriceUpdated(modelId, fee, royaltyBps);
    }

    /// @inheritdoc IModelRegistry
    function retire(uint256 modelId) external {
        Model storage model = _requireOwner(modelId);
        // INVARIANT: a model is retired at most once.
        if (model.status == ModelStatus.Retired) revert ModelAlreadyRetired(modelId);
        model.status = ModelStatus.Retired;
        emit ModelRetired(modelId);
    }

    /// @inheritdoc IModelRegistry
    function getModel(uint256 modelId) external view returns (Model memory) {
        return _requireModel(modelId);
    }

    /// @inheritdoc IModelRegistry
    function modelTerms(uint256 modelId)
        external
        view
        returns (ModelStatus status, address owner, uint32 inputLen, uint32 outputLen, uint256 fee, uint16 royaltyBps)
    {
        Model storage model = _requireModel(modelId);
        return (model.status, model.owner, model.inputLen, model.outputLen, model.fee, model.royaltyBps);
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

    function _requireModel(uint256 modelId) internal view returns (Model storage model) {
        model = _models[modelId];
        // INVARIANT: only registered models are read or changed.
        if (model.status == ModelStatus.None) revert UnknownModel(modelId);
    }

    function _requireOwner(uint256 modelId) internal view returns (Model storage model) {
        model = _requireModel(modelId);
        // INVARIANT: only the owner publishes, reprices or retires a model.
        if (model.owner != msg.sender) revert NotModelOwner(modelId, msg.sender);
    }

    function _requirePending(Model storage model, uint256 modelId) internal view {
        // INVARIANT: the published data of an Active model never changes.
        if (model.status != ModelStatus.Pending) revert ModelNotPending(modelId, model.status);
    }
}
