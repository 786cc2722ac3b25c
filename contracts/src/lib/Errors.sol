// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {GamePhase, GameStatus, JobStatus, ModelKind, ModelStatus, RevealKind} from "./Types.sol";

// ---------------------------------------------------------------------------------------------------------
// Merkle commitments
// ---------------------------------------------------------------------------------------------------------

/// @notice A Merkle root was asked of zero leaves (PROTOCOL §3 requires m ≥ 1).
error EmptyTree();

/// @notice An incremental tree already holds the most leaves its frontier can fold.
error TreeFull(uint256 count);

/// @notice A tensor's byte length is not a whole number of rows of `rowLen` bytes (or `rowLen` is zero).
error RaggedTensor(uint256 length, uint256 rowLen);

/// @notice A range proof of a run of leaves has `length` siblings; the run's climb takes exactly `expected`
/// (`LibMerkle.climbRange`).
error RangeProofLengthMismatch(uint256 length, uint256 expected);

// ---------------------------------------------------------------------------------------------------------
// ModelRegistry
// ---------------------------------------------------------------------------------------------------------

/// @notice No model has this id.
error UnknownModel(uint256 modelId);

/// @notice A language model's config lets some one-step witness exceed the caps (IModelRegistry.registerLlm lists the
/// bounds).
error InvalidLlmConfig(uint32 blocks, uint32 hidden, uint32 ffn, uint32 vocab, uint32 context);

/// @notice The model is a tensor model: it has no language-model config or per-token prices.
error NotLlm(uint256 modelId);

/// @notice An empty chunk of a language model's card.
error EmptyCardChunk(uint256 modelId);

/// @notice A language model's card would pass `max` bytes.
error CardTooLarge(uint256 modelId, uint256 length, uint256 max);

/// @notice The model is a language model: it is priced per token (`setLlmPrice`), not per job (`setPrice`).
error NotTensor(uint256 modelId);

/// @notice A language model's per-token price above `max` (2^128 − 1 wei), the bound that keeps every job's escrow
/// `P·perInputToken + maxNew·perOutputToken` (P + maxNew ≤ 1025) far inside uint256.
error TokenPriceTooHigh(uint256 price, uint256 max);

/// @notice A language model's op `op` was published with a spec leaf that is not the pass program's op `op`
/// (`code u8 | o u16 | …`, docs/LLM_INT.md §9.1): `expected` is the code op `op` must have.
error LlmSpecMismatch(uint256 modelId, uint32 op, uint8 expected);

/// @notice Only the model's owner may do this.
error NotModelOwner(uint256 modelId, address caller);

/// @notice A model needs at least one op, and input and output tensors of 1 to 2^22 elements (`h·w·c`, every
/// dimension ≥ 1). `inputLen` and `outputLen` are the element counts `h·w·c`, saturated at 2^64 − 1.
error InvalidModelShape(uint32 opCount, uint64 inputLen, uint64 outputLen);

/// @notice A royalty above 100 %.
error RoyaltyTooHigh(uint16 royaltyBps, uint16 max);

/// @notice Publication is only possible while the model is Pending.
error ModelNotPending(uint256 modelId, ModelStatus status);

/// @notice Ops are published and sealed in order; `expected` is the op being published now.
error WrongOp(uint256 modelId, uint32 op, uint32 expected);

/// @notice `publishLeaves` was called without leaves.
error NoLeaves(uint256 modelId, uint32 op);

/// @notice An op can only be sealed once it has at least one leaf (its spec).
error EmptyOp(uint256 modelId, uint32 op);

/// @notice The model root computed from the published leaves differs from the registered one.
error ModelRootMismatch(bytes32 computed, bytes32 registered);

/// @notice The model was retired; it can no longer be repriced or retired again.
error ModelAlreadyRetired(uint256 modelId);

// ---------------------------------------------------------------------------------------------------------
// JobMarket
// ---------------------------------------------------------------------------------------------------------

/// @notice The registry address given to the market is zero.
error ZeroRegistry();

/// @notice Jobs can only be posted to Active models.
error ModelNotActive(uint256 modelId, ModelStatus status);

/// @notice `msg.value` of `postJob` must be the job's price exactly: a tensor model's fee, or a language-model job's
/// most, `P·perInputToken + maxNew·perOutputToken`.
error WrongFee(uint256 sent, uint256 expected);

/// @notice The input must have the model's input length `h·w·c` exactly.
error InputLengthMismatch(uint256 actual, uint256 expected);

/// @notice A job's deadline must lie in the future.
error DeadlineInPast(uint64 deadline, uint256 timestamp);

/// @notice No job has this id.
error UnknownJob(uint256 jobId);

/// @notice The job must be Open (no result yet, not refunded).
error JobNotOpen(uint256 jobId, JobStatus status);

/// @notice The job's deadline has passed: no result can be submitted any more.
error JobExpired(uint256 jobId, uint64 deadline);

/// @notice `msg.value` of `submitResult` must be the result bond exactly.
error WrongBond(uint256 sent, uint256 expected);

/// @notice A language model's element is named by the first of its `width` bytes: `offset` must be a multiple of it.
error MisalignedElement(uint8 offset, uint8 width);

/// @notice The step was sent to the prover of the other kind of model (`step` for tensor models, `stepLlm` for
/// language models); `kind` is the disputed model's (ABI `uint8`: 0 Tensor, 1 Llm).
error WrongModelKind(uint256 gameId, ModelKind kind);

/// @notice A language-model job's input must be int32s `[maxNew, ids…]` with at least one id (`length` in bytes).
error PromptLength(uint256 length);

/// @notice A language-model job needs `maxNew` ≥ 1 and `prompt + maxNew − 1` ≤ the model's context.
error TokenBudget(uint256 prompt, uint256 maxNew, uint256 context);

/// @notice Prompt token `index` is not in the model's vocabulary.
error TokenOutOfRange(uint256 index, uint256 token, uint256 vocab);

/// @notice A language model's answer must be 1 to `maxNew` int32 token ids (`length` in bytes).
error AnswerLength(uint256 length, uint256 maxNew);

/// @notice Answer token `index` cannot be there: outside the vocabulary, an eos before the last token, or a last token
/// other than eos in an answer shorter than the budget.
error AnswerToken(uint256 index, uint256 token);

/// @notice The output must have the model's output length `h·w·c` exactly.
error OutputLengthMismatch(uint256 actual, uint256 expected);

/// @notice The claimed output root is not the tensor root of the posted output bytes.
error OutputRootMismatch(bytes32 computed, bytes32 claimed);

/// @notice Only a job with a submitted result can be finalized.
error JobNotSubmitted(uint256 jobId, JobStatus status);

/// @notice The challenge window is still open until `endsAt` (finalize at `block.timestamp >= endsAt`).
error ChallengeWindowOpen(uint256 jobId, uint64 endsAt);

/// @notice A job can only be refunded once its deadline has passed.
error DeadlineNotReached(uint256 jobId, uint64 deadline);

/// @notice The caller has no credit.
error NothingToWithdraw();

/// @notice Sending the credit to the caller failed (the credit was restored by the revert).
error TransferFailed();

/// @notice A guarded function was re-entered.
error Reentrancy();

/// @notice A settlement was attempted while games on the result are still open.
error GamesOpen(uint256 jobId, uint32 openGames);

/// @notice Only the market's dispute game may credit accounts from game money or overturn a result.
error NotGame(address caller);

/// @notice The game overturned a result that is not the job's current, submitted one (a game bug; never expected).
error NotCurrentResult(uint256 jobId, uint32 attempt);

// ---------------------------------------------------------------------------------------------------------
// DisputeGame
// ---------------------------------------------------------------------------------------------------------

/// @notice The prover address given to the market (and its game) is zero.
error ZeroProver();

/// @notice An amount parameter of 2^128 wei or more (the share rule multiplies amounts by move counts).
error AmountTooLarge(uint256 amount);

/// @notice Only the market sends the game wei outside a challenge (the bond of an overturned result).
error NotMarket(address caller);

/// @notice `burnBps` must lie in [MIN_BURN_BPS, 10_000].
error BurnTooLow(uint16 burnBps, uint16 min);

/// @notice A game needs a nonzero clock extension: with none, a side could lose one second after its turn began.
error ZeroClockExtension();

/// @notice Only a submitted result (not settled, not overturned) can be disputed or revealed.
error ResultNotSubmitted(uint256 jobId, JobStatus status);

/// @notice The challenge window closed at `endsAt`.
error ChallengeWindowClosed(uint256 jobId, uint64 endsAt);

/// @notice The worker of a result cannot challenge it.
error SelfChallenge(uint256 jobId);

/// @notice No game was ever opened on this result, so there is nothing to reveal for.
error NoDispute(uint256 jobId, uint32 attempt);

/// @notice No game has this id.
error UnknownGame(uint256 gameId);

/// @notice The game is not Active (it was resolved or claimed).
error GameNotActive(uint256 gameId, GameStatus status);

/// @notice The game's result was overturned by another game; only `claimMoot` remains.
error ResultOverturnedAlready(uint256 jobId, uint32 attempt);

/// @notice `claimMoot` on a game whose result still stands.
error ResultNotOverturned(uint256 jobId, uint32 attempt);

/// @notice Only the game's challenger makes this move.
error NotChallenger(uint256 gameId, address caller);

/// @notice The move names another position than the game's (`expected` moves were made).
error StaleMove(uint256 gameId, uint32 move, uint32 expected);

/// @notice The move does not fit the game's phase or position.
error WrongPhase(uint256 gameId, GamePhase phase);

/// @notice The position still waits for the defender's reveal `kind` of `hash` (the node, state leaf or tensor leaf;
/// zero for the opening).
error NothingRevealed(RevealKind kind, bytes32 hash);

/// @notice A reveal did not hash to what it must: `computed` ≠ `expected`.
error RevealMismatch(bytes32 computed, bytes32 expected);

/// @notice `nameElement` named byte `offset` of a 32-byte leaf (it must be < 32).
error OffsetOutOfRange(uint8 offset);

/// @notice The defender's data arrived (or is still missing) past its clock: it has lost (`timeout`).
error DefenderOutOfTime(uint256 gameId);

/// @notice The challenger took longer than its clock: it has lost (`timeout`).
error ChallengerOutOfTime(uint256 gameId);

/// @notice Neither side has run out of time yet.
error NotTimedOut(uint256 gameId);

// ---------------------------------------------------------------------------------------------------------
// OneStepProver (and the Merkle path and op spec checks it shares with the dispute game)
// ---------------------------------------------------------------------------------------------------------

/// @notice A Merkle path named leaf `index` of a tree that has only `leafCount` leaves.
error LeafIndexOutOfRange(uint256 index, uint256 leafCount);

/// @notice A Merkle path has `length` siblings; the tree's depth ⌈log2 leafCount⌉ is `depth`.
error PathLengthMismatch(uint256 length, uint256 depth);

/// @notice An op spec has an op code PROTOCOL §3.1 does not define.
error UnknownOpCode(uint8 code);

/// @notice An op spec of op code `code` has `length` bytes; that code's spec has exactly `expected` (a spec shorter
/// than the 14-byte header: `expected` = 14, and `code` = 0 for an empty spec).
error BadSpecLength(uint8 code, uint256 length, uint256 expected);

/// @notice Op `k` is not an op of the model (it has `opCount` ops, 0 … opCount − 1).
error OpOutOfRange(uint256 modelId, uint32 k, uint32 opCount);

/// @notice Element `e` is not an element of the op's output, which has `count` elements.
error ElementOutOfRange(uint256 e, uint256 count);

/// @notice Op `k` reads slot `slot`, but only slots 0 … k exist before it runs.
error SlotNotReadable(uint16 slot, uint32 k);

/// @notice The witness has `actual` slot proofs; the op reads `expected` operands.
error WrongSlotCount(uint256 actual, uint256 expected);

/// @notice The slot proof for `slot` climbs to `computed`, not to the agreed state root.
error SlotRootMismatch(uint16 slot, bytes32 computed, bytes32 stateRoot);

/// @notice The witness has `actual` input rows; the element reads `expected`.
error WrongRowCount(uint256 actual, uint256 expected);

/// @notice Witness row `row` (its position in `rows`) has `length` bytes; the tensor's rows have `expected`.
error RowLengthMismatch(uint256 row, uint256 length, uint256 expected);

/// @notice Witness row `row` has `length` path siblings; its ⌈C/32⌉ leaves need `expected` (depth each).
error RowPathLengthMismatch(uint256 row, uint256 length, uint256 expected);

/// @notice A leaf of witness row `row` climbs to `computed`, not to its slot's tensor root `slotRoot`.
error RowRootMismatch(uint256 row, bytes32 computed, bytes32 slotRoot);

/// @notice The dense witness's input tensor has `length` bytes; the input slot's tensor has `expected` elements.
error WitnessInputLength(uint256 length, uint256 expected);

/// @notice The dense witness's input tensor has tensor root `computed`, not the input slot's root `slotRoot`.
error InputRootMismatch(bytes32 computed, bytes32 slotRoot);

/// @notice The witness's weight row has `length` bytes; the op's rows have `expected` (9 + reduction size).
error WeightRowLengthMismatch(uint256 length, uint256 expected);

/// @notice The weight row climbs to `computed`, not to the op's root `opRoot` in the registry.
error WeightRootMismatch(bytes32 computed, bytes32 opRoot);

/// @notice The witness carries data the op does not read (`input` off dense, weights off dense and conv2d).
error UnexpectedWitnessData(uint8 code);

/// @notice A requantization outside `1 ≤ M` (M is an i32) and `1 ≤ s ≤ 62` (PROTOCOL §1.1).
error InvalidRequant(int32 multiplier, uint8 shift);

/// @notice Clamp bounds with `lo > hi`.
error InvalidClamp(int8 lo, int8 hi);

/// @notice Operand slot `slot` has shape [h, w, c], which op code `code` cannot read into its output shape (clamp
/// and add: equal shapes; pools: equal channels; reshape: equal element counts).
error OperandShapeMismatch(uint8 code, uint16 slot, uint32 h, uint32 w, uint32 c);

/// @notice An average-pool window at output pixel (oy, ox) reaches past the input (an invalid model).
error AvgPoolTapOutside(uint256 oy, uint256 ox);

/// @notice A dense or conv accumulator outside i32, which the registration bound excludes (an invalid model;
/// the reference interpreter refuses it too).
error AccumulatorOverflow(int256 acc);

/// @notice Op `op` of model `modelId` writes a tensor of shape [h, w, c]: outside 1 to 2^22 elements (PROTOCOL §6.8).
error OpOutputShape(uint256 modelId, uint32 op, uint32 h, uint32 w, uint32 c);

/// @notice Op `op` of model `modelId` reads slot `slot`, which no earlier op wrote (op k reads only slots ≤ k).
error OperandNotWritten(uint256 modelId, uint32 op, uint16 slot);

/// @notice The worst one-step transaction of op `op` of model `modelId` needs `size` bytes of calldata, above `cap`
/// (PROTOCOL §6.8): txpools would drop it, so a dispute on the op could not be decided.
error StepCalldataTooLarge(uint256 modelId, uint32 op, uint256 size, uint256 cap);

/// @notice The gas bound of the worst one-step transaction of op `op` of model `modelId` is `gasBound`, above `cap`
/// (PROTOCOL §6.8): a dispute on the op could not be decided.
error StepGasTooHigh(uint256 modelId, uint32 op, uint256 gasBound, uint256 cap);

// ---------------------------------------------------------------------------------------------------------
// Consumer callbacks (JobMarket, PROTOCOL §5.4)
// ---------------------------------------------------------------------------------------------------------

/// @notice A callback job asked for `gasLimit` gas for its callback; it must lie in [1, `max`].
error CallbackGasOutOfRange(uint256 gasLimit, uint256 max);

/// @notice `finalize` was sent with `available` gas left before the callback, less than the `required` that lets the
/// callback have its whole gas limit under EIP-150's 63/64 rule (the finalizer cannot starve the callback).
error InsufficientCallbackGas(uint256 available, uint256 required);

/// @notice The job has status `status`, not Settled: it has no settled output yet.
error JobNotSettled(uint256 jobId, JobStatus status);

// ---------------------------------------------------------------------------------------------------------
// Language-model ops (LlmOps, docs/LLM_INT.md §3 and §8.2)
// ---------------------------------------------------------------------------------------------------------

/// @notice Byte operand `operand` of an op (0 is its first `bytes` argument) has `length` bytes; the op reads exactly
/// `expected`.
error OperandLengthMismatch(uint256 operand, uint256 length, uint256 expected);

/// @notice Byte operand `operand` of an op is empty or not a whole number of `width`-byte elements.
error RaggedOperand(uint256 operand, uint256 length, uint256 width);

/// @notice Byte operand `operand` of an op has `length` bytes, more than the `max` it may have (an argmax chunk of
/// more than 8192 logits; P·V probabilities longer than the values row).
error OperandTooLong(uint256 operand, uint256 length, uint256 max);

/// @notice A weight row of `cols` inputs in `bits`-bit blocks: `cols` must be a positive multiple of 32 up to 2^20,
/// `bits` 4 or 8.
error InvalidWeightShape(uint256 cols, uint8 bits);

/// @notice The down projection's input exponent `e` (its row's last element) is negative or above the weight row's
/// shift `shift`.
error InvalidExponent(int256 e, uint8 shift);

/// @notice An RMSNorm gain row with `frac` fractional bits, above the `max` a model may use.
error InvalidGainFrac(uint8 frac, uint8 max);

/// @notice RMSNorm's Σ r² + E is `sumOfSquares`, below 1, so its square root D would be 0 (E ≥ 1 in a valid model).
error ZeroNorm(int256 sumOfSquares);

/// @notice Softmax's Z = Σ_j E_j is `sum`, below 1 (every EXP entry of a valid model is at least 1).
error ZeroSoftmaxSum(int256 sum);

/// @notice A SiLU lookup of `x`, outside the table's domain [−32767, 32767].
error LookupOutOfRange(int256 x);

/// @notice The table leaf supplied is leaf `leaf`, but the looked-up entry lies in leaf `expected`.
error LeafIndexMismatch(uint256 leaf, uint256 expected);

// ---------------------------------------------------------------------------------------------------------
// LlmStepProver (docs/LLM_INT.md §9: one element of a language-model trace, from a witness proven against σ_n)
// ---------------------------------------------------------------------------------------------------------

/// @notice A trace layout with no pass or no computed output: `prompt` ≥ 1, 1 ≤ `generated` ≤ `maxNew` and
/// `prompt + maxNew − 1` ≤ the model's context are required.
error InvalidLlmLayout(uint32 prompt, uint32 maxNew, uint32 generated);

/// @notice Slot `slot` is not a computed slot of the trace: slots 1 … `outputSlot` are (slot 0 is the job's input).
error LlmSlotOutOfRange(uint256 slot, uint256 outputSlot);

/// @notice The witness proves slot `slot`, which the element of slot `stepSlot` cannot read (only earlier slots, the
/// ones the walk agreed on).
error LlmSlotNotReadable(uint256 slot, uint256 stepSlot);

/// @notice The witness's slot proof `index` (slot `slot`) is not after the one before it: slots are proven once each,
/// in increasing order.
error LlmSlotsNotIncreasing(uint256 index, uint256 slot);

/// @notice Slot `slot`'s root and path climb to `computed`, not to the defender's final state.
error LlmSlotRootMismatch(uint256 slot, bytes32 computed, bytes32 finalState);

/// @notice The element reads slot `slot`, which the witness does not prove.
error LlmSlotNotProven(uint256 slot);

/// @notice The witness proves slot `slot`, which no run the element reads lies in.
error LlmSlotNotRead(uint256 slot);

/// @notice The element reads a run `index`, which the witness does not have.
error LlmRunMissing(uint256 index);

/// @notice Run `index` is not the leaves the element reads there: `leafCount` leaves of slot `slot` from leaf
/// `firstLeaf`.
error LlmRunMismatch(uint256 index, uint256 slot, uint256 firstLeaf, uint32 leafCount);

/// @notice Run `index` climbs to `computed`, not to its slot's tensor root `slotRoot`.
error LlmRunRootMismatch(uint256 index, bytes32 computed, bytes32 slotRoot);

/// @notice The witness has `runs` runs; the element reads `read`.
error LlmExtraRuns(uint256 runs, uint256 read);

/// @notice The element reads a model leaf `index`, which the witness does not have.
error LlmParamMissing(uint256 index);

/// @notice Model leaf `index` of the witness is not the one the element reads there: leaf `leaf` of op `op`'s tree.
error LlmParamMismatch(uint256 index, uint256 op, uint256 leaf);

/// @notice Model leaf `index` climbs to `computed`, not to its op's root `opRoot` in the registry.
error LlmParamRootMismatch(uint256 index, bytes32 computed, bytes32 opRoot);

/// @notice The witness has `params` model leaves; the element reads `read`.
error LlmExtraParams(uint256 params, uint256 read);

/// @notice Op `op`'s spec leaf (or a SiLU table leaf) has `length` bytes; it has exactly `expected`
/// (docs/LLM_INT.md §9.1).
error LlmLeafLength(uint256 op, uint256 length, uint256 expected);

/// @notice The token EMBED reads (a prompt id or the previous pass's argmax) is `token`, not in the vocabulary.
error LlmTokenOutOfRange(int256 token, uint256 vocab);
