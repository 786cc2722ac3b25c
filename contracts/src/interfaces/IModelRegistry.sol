// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {LlmConfig, Model, ModelKind, ModelStatus, TensorShape} from "../lib/Types.sol";

/// @title IModelRegistry
/// @notice Lists models (PROTOCOL §5.1). An owner registers a model root, then publishes every leaf of every
/// op tree on chain (in events), op by op; sealing the last op recomputes the model root from the published
/// data and activates the model only if it equals the registered root. So a model is usable only once
/// anyone with an RPC endpoint can rebuild it.
interface IModelRegistry {
    /// @notice A model was registered (status Pending) with its input/output shapes and input zero point.
    event ModelRegistered(
        uint256 indexed modelId,
        address indexed owner,
        bytes32 root,
        uint32 opCount,
        TensorShape input,
        int8 inputZero,
        TensorShape output,
        uint256 fee,
        uint16 royaltyBps,
        string uri
    );

    /// @notice A language model was registered (status Pending, kind Llm, docs/LLM_INT.md §9.1): its ops are the
    /// `opCount = 1 + 19·blocks + 4` ops of its pass program, published and sealed as a tensor model's are. Its jobs
    /// are priced per token: `perInputToken` per prompt token, `perOutputToken` per generated token, in wei.
    event LlmRegistered(
        uint256 indexed modelId,
        address indexed owner,
        bytes32 root,
        uint32 opCount,
        LlmConfig config,
        uint256 perInputToken,
        uint256 perOutputToken,
        uint16 royaltyBps,
        string uri
    );

    /// @notice Leaves `firstLeaf …` of op `op` were published; `leaves` are the raw leaf data (spec, rows).
    event ModelLeavesPublished(uint256 indexed modelId, uint32 indexed op, uint32 firstLeaf, bytes[] leaves);

    /// @notice Chunk `index` of a language model's card (its tokenizer and hyper-parameters, PROTOCOL §7.1) was
    /// published; the card's bytes are the chunks in order.
    event ModelCardPublished(uint256 indexed modelId, uint32 index, bytes chunk);

    /// @notice Op `op` was closed with op tree root `opRoot`.
    event OpSealed(uint256 indexed modelId, uint32 indexed op, bytes32 opRoot);

    /// @notice The published data reproduced the registered root: jobs can be posted.
    event ModelActivated(uint256 indexed modelId);

    /// @notice The owner discarded the publication progress of a Pending model.
    event PublicationReset(uint256 indexed modelId);

    /// @notice The owner changed the price of future jobs.
    event ModelPriceUpdated(uint256 indexed modelId, uint256 fee, uint16 royaltyBps);

    /// @notice The owner changed the per-token prices (in wei) and royalty of a language model's future jobs.
    event LlmPriceUpdated(uint256 indexed modelId, uint256 perInputToken, uint256 perOutputToken, uint16 royaltyBps);

    /// @notice The owner retired the model: no new jobs can be posted to it.
    event ModelRetired(uint256 indexed modelId);

    /// @notice Registers a model as Pending, owned by the caller.
    /// @param root The model root (PROTOCOL §3) the publication must reproduce.
    /// @param opCount Number of ops, 1 to `MAX_OPS` = 2^20 − 1 (PROTOCOL §6.8), else `InvalidModelShape`.
    /// @param input Input tensor shape `[H, W, C]`: every dimension ≥ 1 and `h·w·c` ≤ 2^22, else the call reverts
    /// `InvalidModelShape`. A job's input is `h·w·c` bytes, committed in rows of `c` bytes.
    /// @param inputZero Zero point of the input tensor (committed in the model root).
    /// @param output Output tensor shape, bounded as `input`. A result's output is `h·w·c` bytes in rows of `c`.
    /// @param fee Fee per job, in wei.
    /// @param royaltyBps Owner's share of each fee, in basis points (≤ 10_000).
    /// @param uri Where the model file can be found (informational).
    /// @return modelId The new model's id; ids start at 1.
    function registerModel(
        bytes32 root,
        uint32 opCount,
        TensorShape calldata input,
        int8 inputZero,
        TensorShape calldata output,
        uint256 fee,
        uint16 royaltyBps,
        string calldata uri
    ) external returns (uint256 modelId);

    /// @notice Registers a language model as Pending, owned by the caller (docs/LLM_INT.md §9.1). Its root is
    /// `keccak256(0x02 ‖ 0x05 ‖ "LLM1" ‖ the nine u32 of config ‖ merkle(0x05, leaf(0x05, opRoot_o)))`; op o's tree
    /// holds its spec (`code u8 | o u16 | …`) and the rows its elements read. Reverts `InvalidLlmConfig` unless every
    /// one-step witness of the model fits the caps and every game on it the bonds: blocks ≥ 1, hidden, ffn and
    /// heads·headDim in 1..8192, an even headDim, kvHeads ≥ 1 dividing heads, vocab in 1..2^18, context in 1..1024,
    /// eos < vocab, `OPS ≤ 2^16` (spec leaves name their op in a u16) and `OPS·context + 2 ≤ 2^20` with
    /// `OPS = 1 + 19·blocks + 4` (the longest trace's final state tree
    /// is at most 20 deep, as a tensor model's).
    /// A job of P prompt tokens and a budget of `maxNew` escrows `P·perInputToken + maxNew·perOutputToken` and is
    /// charged `P·perInputToken + G·perOutputToken` for an answer of G tokens (PROTOCOL §7.2). Each price is at most
    /// 2^128 − 1 wei (`TokenPriceTooHigh`), so no escrow overflows.
    /// @param perInputToken Price per prompt token, in wei.
    /// @param perOutputToken Price per generated token, in wei.
    /// @param royaltyBps Owner's share of each charged fee, in basis points (≤ 10_000).
    /// @param uri Where the model file can be found (informational).
    /// @return modelId The new model's id; ids start at 1.
    function registerLlm(
        bytes32 root,
        LlmConfig calldata config,
        uint256 perInputToken,
        uint256 perOutputToken,
        uint16 royaltyBps,
        string calldata uri
    ) external returns (uint256 modelId);

    /// @notice Appends leaves to op `op`'s tree; each datum is hashed as leaf(0x04, data). Owner only,
    /// Pending only, and `op` must be the op being published (ops are published in order 0..n−1).
    /// The first leaf of an op (its spec, PROTOCOL §3.1) is also stored, readable with `opSpec` once it is sealed.
    function publishLeaves(uint256 modelId, uint32 op, bytes[] calldata leaves) external;

    /// @notice Closes op `op` (it must be the op being published and have ≥ 1 leaf) and moves to the next.
    /// Sealing the last op computes the v2 model root (PROTOCOL §3: op count, input shape, input zero point,
    /// output shape and the root over the op tree roots) and activates the model, or reverts
    /// `ModelRootMismatch(computed, registered)`. Owner only.
    /// Every op is refused unless a dispute on it stays decidable (PROTOCOL §6.8): its spec must be well-formed
    /// (`BadSpecLength`, `UnknownOpCode`), its output hold 1 to 2^22 elements (`OpOutputShape`), its operands be slots
    /// already written (`OperandNotWritten`), and the one-step transaction of its worst element need at most
    /// `MAX_STEP_CALLDATA` = 98,304 bytes of calldata (`StepCalldataTooLarge`) and a gas bound of at most
    /// `MAX_STEP_GAS` = 15,000,000 (`StepGasTooHigh`); both counted by `LibLimits` from the shapes, the op count and
    /// the op's leaf count, as `vouch_core::dispute` counts them.
    function sealOp(uint256 modelId, uint32 op) external;

    /// @notice Appends `chunk` to a Pending language model's card (PROTOCOL §7.1: its tokenizer and hyper-parameters,
    /// chunks of 65,536 bytes, the last shorter) and chains it into the card hash the model root commits to:
    /// `cardHash = keccak256(cardHash ‖ chunk)`, starting from zero. Owner only; `NotLlm` for a tensor model,
    /// `EmptyCardChunk` for an empty chunk, `CardTooLarge` past `MAX_CARD_BYTES` in all.
    function publishCard(uint256 modelId, bytes calldata chunk) external;

    /// @notice Discards all publication progress of a Pending model (e.g. after a root mismatch). Owner only.
    function resetPublication(uint256 modelId) external;

    /// @notice Sets the fee and royalty of a tensor model's future jobs (posted jobs keep their terms). Owner only;
    /// not for retired models; not for language models (`NotTensor`: they are priced per token, `setLlmPrice`).
    function setPrice(uint256 modelId, uint256 fee, uint16 royaltyBps) external;

    /// @notice Sets the per-token prices (in wei, each at most 2^128 − 1, else `TokenPriceTooHigh`) and royalty of a
    /// language model's future jobs (posted jobs keep the prices they escrowed at). Owner only; not for retired models;
    /// not for tensor models (`NotLlm`).
    function setLlmPrice(uint256 modelId, uint256 perInputToken, uint256 perOutputToken, uint16 royaltyBps) external;

    /// @notice Retires the model for good: no new jobs. Jobs already posted run to completion. Owner only.
    function retire(uint256 modelId) external;

    /// @notice The model with this id; reverts `UnknownModel` for an id never registered. `Model.status` is a
    /// `ModelStatus` (ABI `uint8`): 0 None, 1 Pending (being published), 2 Active (takes jobs), 3 Retired.
    function getModel(uint256 modelId) external view returns (Model memory);

    /// @notice What a market needs to post a job, without the uri (cheaper than `getModel`): an input has
    /// `input.h·input.w·input.c` bytes in rows of `input.c`, an output likewise for `output`. `status` is a
    /// `ModelStatus` (ABI `uint8`): 0 None, 1 Pending, 2 Active, 3 Retired. `kind` is a `ModelKind` (ABI `uint8`):
    /// 0 Tensor, 1 Llm; a language model's shapes and fee are zero (its jobs are token ids, read `llmConfig`, priced
    /// per token, read `llmPrices`).
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
        );

    /// @notice A language model's config (as registered and committed by its root). Reverts `UnknownModel`, or
    /// `NotLlm` for a tensor model.
    function llmConfig(uint256 modelId) external view returns (LlmConfig memory);

    /// @notice A language model's prices for future jobs, in wei: per prompt token and per generated token. Reverts
    /// `UnknownModel`, or `NotLlm` for a tensor model.
    function llmPrices(uint256 modelId) external view returns (uint256 perInputToken, uint256 perOutputToken);

    /// @notice The model's op count n (cheap: unlike `getModel`, it copies no metadata URI). Reverts `UnknownModel`.
    function opCount(uint256 modelId) external view returns (uint32);

    /// @notice Publication progress: the op being published and the number of its leaves so far.
    /// For an Active model `op == opCount` and `leafCount == 0`.
    function publication(uint256 modelId) external view returns (uint32 op, uint32 leafCount);

    /// @notice A language model's card as published so far: its chained hash, chunks and bytes (the whole card once
    /// the model is Active). Reverts `UnknownModel`, or `NotLlm` for a tensor model.
    function card(uint256 modelId) external view returns (bytes32 hash, uint32 chunks, uint32 length);

    /// @notice The op tree root of a sealed op (`op` < the op being published); zero otherwise.
    function opRoot(uint256 modelId, uint32 op) external view returns (bytes32);

    /// @notice The spec leaf (leaf 0, PROTOCOL §3.1) of a sealed op (`op` < the op being published), as published;
    /// empty otherwise. Reverts `UnknownModel` for an id never registered. For an Active model every op's spec is
    /// readable and committed by the model root (it is leaf 0 of the op tree whose root `opRoot` returns).
    function opSpec(uint256 modelId, uint32 op) external view returns (bytes memory);

    /// @notice The number of models ever registered (the highest id).
    function modelCount() external view returns (uint256);
}
