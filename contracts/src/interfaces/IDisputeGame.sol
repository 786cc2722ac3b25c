// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {Game, GamePhase, GameStatus, ModelStatus, ResultDispute, RevealKind, Tree} from "../lib/Types.sol";
import {IJobMarket} from "./IJobMarket.sol";
import {ILlmStepProver, LlmWitness} from "./ILlmStepProver.sol";
import {IOneStepProver, StepWitness} from "./IOneStepProver.sol";

/// @title IDisputeGame
/// @notice The walk game over a submitted result of the market that deployed it (PROTOCOL §6). Anyone may challenge
/// a result inside its window with a bond; every game is independent. The defender (the result's worker) only
/// reveals data, proven against its own commitments and cached per result, so a value revealed once serves every
/// game on that result. The challenger chooses: it walks the defender's final state σ_n down to one slot (slot 0 and
/// padding slots are decided on the spot), then that slot's tensor down to one 32-byte leaf, names one element of it,
/// and the contract computes that element itself. Chess clocks bound every game; the side that runs out loses.
/// Credits go to the market's ledger (`IJobMarket.withdraw`).
interface IDisputeGame {
    // -----------------------------------------------------------------------------------------------------
    // Errors passed through from the contracts the game calls (same signatures as in lib/Errors.sol): the one-step
    // prover and the registry (`step`), and the market (`creditFromGame`, `overturn`, `jobState`).
    // `scripts/check-errors.js` checks the list is complete, so this ABI decodes every revert of a game call.
    // -----------------------------------------------------------------------------------------------------

    /// @notice A dense or conv accumulator outside i32, which the registration bound excludes (an invalid model;
    /// the reference interpreter refuses it too).
    error AccumulatorOverflow(int256 acc);

    /// @notice An average-pool window at output pixel (oy, ox) reaches past the input (an invalid model).
    error AvgPoolTapOutside(uint256 oy, uint256 ox);

    /// @notice Element `e` is not an element of the op's output, which has `count` elements.
    error ElementOutOfRange(uint256 e, uint256 count);

    /// @notice A Merkle root was asked of zero leaves (PROTOCOL §3 requires m ≥ 1).
    error EmptyTree();

    /// @notice The dense witness's input tensor has tensor root `computed`, not the input slot's root `slotRoot`.
    error InputRootMismatch(bytes32 computed, bytes32 slotRoot);

    /// @notice Clamp bounds with `lo > hi`.
    error InvalidClamp(int8 lo, int8 hi);

    /// @notice A requantization outside `1 ≤ M` (M is an i32) and `1 ≤ s ≤ 62` (PROTOCOL §1.1).
    error InvalidRequant(int32 multiplier, uint8 shift);

    /// @notice Jobs can only be posted to Active models.
    error ModelNotActive(uint256 modelId, ModelStatus status);

    /// @notice The game overturned a result that is not the job's current, submitted one (a game bug; never expected).
    error NotCurrentResult(uint256 jobId, uint32 attempt);

    /// @notice Only the market's dispute game may credit accounts from game money or overturn a result.
    error NotGame(address caller);

    /// @notice The model is a tensor model: it has no language-model config (never raised: the game reads the config
    /// of language models only).
    error NotLlm(uint256 modelId);

    /// @notice Op `k` is not an op of the model (it has `opCount` ops, 0 … opCount − 1).
    error OpOutOfRange(uint256 modelId, uint32 k, uint32 opCount);

    /// @notice Operand slot `slot` has shape [h, w, c], which op code `code` cannot read into its output shape (clamp
    /// and add: equal shapes; pools: equal channels; reshape: equal element counts).
    error OperandShapeMismatch(uint8 code, uint16 slot, uint32 h, uint32 w, uint32 c);

    /// @notice A tensor's byte length is not a whole number of rows of `rowLen` bytes (or `rowLen` is zero).
    error RaggedTensor(uint256 length, uint256 rowLen);

    /// @notice Witness row `row` (its position in `rows`) has `length` bytes; the tensor's rows have `expected`.
    error RowLengthMismatch(uint256 row, uint256 length, uint256 expected);

    /// @notice Witness row `row` has `length` path siblings; its ⌈C/32⌉ leaves need `expected` (depth each).
    error RowPathLengthMismatch(uint256 row, uint256 length, uint256 expected);

    /// @notice A leaf of witness row `row` climbs to `computed`, not to its slot's tensor root `slotRoot`.
    error RowRootMismatch(uint256 row, bytes32 computed, bytes32 slotRoot);

    /// @notice Op `k` reads slot `slot`, but only slots 0 … k exist before it runs.
    error SlotNotReadable(uint16 slot, uint32 k);

    /// @notice The slot proof for `slot` climbs to `computed`, not to the agreed state root.
    error SlotRootMismatch(uint16 slot, bytes32 computed, bytes32 stateRoot);

    /// @notice Sending the credit to the caller failed (the credit was restored by the revert).
    error TransferFailed();

    /// @notice The witness carries data the op does not read (`input` off dense, weights off dense and conv2d).
    error UnexpectedWitnessData(uint8 code);

    /// @notice No job has this id.
    error UnknownJob(uint256 jobId);

    /// @notice No model has this id.
    error UnknownModel(uint256 modelId);

    /// @notice The weight row climbs to `computed`, not to the op's root `opRoot` in the registry.
    error WeightRootMismatch(bytes32 computed, bytes32 opRoot);

    /// @notice The witness's weight row has `length` bytes; the op's rows have `expected` (9 + reduction size).
    error WeightRowLengthMismatch(uint256 length, uint256 expected);

    /// @notice The dense witness's input tensor has `length` bytes; the input slot's tensor has `expected` elements.
    error WitnessInputLength(uint256 length, uint256 expected);

    /// @notice The witness has `actual` input rows; the element reads `expected`.
    error WrongRowCount(uint256 actual, uint256 expected);

    /// @notice The witness has `actual` slot proofs; the op reads `expected` operands.
    error WrongSlotCount(uint256 actual, uint256 expected);

    // -----------------------------------------------------------------------------------------------------
    // Errors passed through from the language-model prover (`stepLlm`): its own, and those of the op arithmetic
    // (LibLlm) and the range proofs (LibMerkle.climbRange) it runs (same signatures as in lib/Errors.sol).
    // -----------------------------------------------------------------------------------------------------

    /// @notice The down projection's input exponent `e` (its row's last element) is negative or above the weight row's
    /// shift `shift`.
    error InvalidExponent(int256 e, uint8 shift);

    /// @notice An RMSNorm gain row with `frac` fractional bits, above the `max` a model may use.
    error InvalidGainFrac(uint8 frac, uint8 max);

    /// @notice A trace layout with no pass or no computed output: `prompt` ≥ 1, 1 ≤ `generated` ≤ `maxNew` and
    /// `prompt + maxNew − 1` ≤ the model's context are required.
    error InvalidLlmLayout(uint32 prompt, uint32 maxNew, uint32 generated);

    /// @notice A weight row of `cols` inputs in `bits`-bit blocks: `cols` must be a positive multiple of 32 up to 2^20,
    /// `bits` 4 or 8.
    error InvalidWeightShape(uint256 cols, uint8 bits);

    /// @notice The table leaf supplied is leaf `leaf`, but the looked-up entry lies in leaf `expected`.
    error LeafIndexMismatch(uint256 leaf, uint256 expected);

    /// @notice The witness has `params` model leaves; the element reads `read`.
    error LlmExtraParams(uint256 params, uint256 read);

    /// @notice The witness has `runs` runs; the element reads `read`.
    error LlmExtraRuns(uint256 runs, uint256 read);

    /// @notice Op `op`'s spec leaf (or a SiLU table leaf) has `length` bytes; it has exactly `expected`
    /// (docs/LLM_INT.md §9.1).
    error LlmLeafLength(uint256 op, uint256 length, uint256 expected);

    /// @notice Model leaf `index` of the witness is not the one the element reads there: leaf `leaf` of op `op`'s tree.
    error LlmParamMismatch(uint256 index, uint256 op, uint256 leaf);

    /// @notice The element reads a model leaf `index`, which the witness does not have.
    error LlmParamMissing(uint256 index);

    /// @notice Model leaf `index` climbs to `computed`, not to its op's root `opRoot` in the registry.
    error LlmParamRootMismatch(uint256 index, bytes32 computed, bytes32 opRoot);

    /// @notice Run `index` is not the leaves the element reads there: `leafCount` leaves of slot `slot` from leaf
    /// `firstLeaf`.
    error LlmRunMismatch(uint256 index, uint256 slot, uint256 firstLeaf, uint32 leafCount);

    /// @notice The element reads a run `index`, which the witness does not have.
    error LlmRunMissing(uint256 index);

    /// @notice Run `index` climbs to `computed`, not to its slot's tensor root `slotRoot`.
    error LlmRunRootMismatch(uint256 index, bytes32 computed, bytes32 slotRoot);

    /// @notice The element reads slot `slot`, which the witness does not prove.
    error LlmSlotNotProven(uint256 slot);

    /// @notice The witness proves slot `slot`, which no run the element reads lies in.
    error LlmSlotNotRead(uint256 slot);

    /// @notice The witness proves slot `slot`, which the element of slot `stepSlot` cannot read (only earlier slots, the
    /// ones the walk agreed on).
    error LlmSlotNotReadable(uint256 slot, uint256 stepSlot);

    /// @notice Slot `slot` is not a computed slot of the trace: slots 1 … `outputSlot` are (slot 0 is the job's input).
    error LlmSlotOutOfRange(uint256 slot, uint256 outputSlot);

    /// @notice Slot `slot`'s root and path climb to `computed`, not to the defender's final state.
    error LlmSlotRootMismatch(uint256 slot, bytes32 computed, bytes32 finalState);

    /// @notice The witness's slot proof `index` (slot `slot`) is not after the one before it: slots are proven once each,
    /// in increasing order.
    error LlmSlotsNotIncreasing(uint256 index, uint256 slot);

    /// @notice The token EMBED reads (a prompt id or the previous pass's argmax) is `token`, not in the vocabulary.
    error LlmTokenOutOfRange(int256 token, uint256 vocab);

    /// @notice A SiLU lookup of `x`, outside the table's domain [−32767, 32767].
    error LookupOutOfRange(int256 x);

    /// @notice Byte operand `operand` of an op (0 is its first `bytes` argument) has `length` bytes; the op reads exactly
    /// `expected`.
    error OperandLengthMismatch(uint256 operand, uint256 length, uint256 expected);

    /// @notice Byte operand `operand` of an op has `length` bytes, more than the `max` it may have (an argmax chunk of
    /// more than 8192 logits; P·V probabilities longer than the values row).
    error OperandTooLong(uint256 operand, uint256 length, uint256 max);

    /// @notice Byte operand `operand` of an op is empty or not a whole number of `width`-byte elements.
    error RaggedOperand(uint256 operand, uint256 length, uint256 width);

    /// @notice A range proof of a run of leaves has `length` siblings; the run's climb takes exactly `expected`
    /// (`LibMerkle.climbRange`).
    error RangeProofLengthMismatch(uint256 length, uint256 expected);

    /// @notice RMSNorm's Σ r² + E is `sumOfSquares`, below 1, so its square root D would be 0 (E ≥ 1 in a valid model).
    error ZeroNorm(int256 sumOfSquares);

    /// @notice Softmax's Z = Σ_j E_j is `sum`, below 1 (every EXP entry of a valid model is at least 1).
    error ZeroSoftmaxSum(int256 sum);

    /// @notice `challenger` opened game `gameId` on result `attempt` of job `jobId`, escrowing `bond`.
    event ChallengeOpened(
        uint256 indexed gameId, uint256 indexed jobId, uint32 attempt, address indexed challenger, uint256 bond
    );

    /// @notice The result's final state σ_n is `finalState`: leaf(0x03, worker ‖ finalState) is its trace root and slot
    /// n of it holds the posted output root.
    event OpeningRevealed(uint256 indexed jobId, uint32 attempt, bytes32 finalState);

    /// @notice Node `node` of a `tree` of the result has children `left`, `right`. `tree` is a `Tree` (ABI `uint8`):
    /// 0 State, 1 Tensor.
    event NodeRevealed(uint256 indexed jobId, uint32 attempt, Tree tree, bytes32 node, bytes32 left, bytes32 right);

    /// @notice State leaf `leaf` holds the tensor root `tensorRoot` (leaf = leaf(0x02, tensorRoot)).
    event SlotRevealed(uint256 indexed jobId, uint32 attempt, bytes32 leaf, bytes32 tensorRoot);

    /// @notice Tensor leaf `leaf` holds the 32 bytes `data`.
    event LeafRevealed(uint256 indexed jobId, uint32 attempt, bytes32 leaf, bytes32 data);

    /// @notice The challenger moved the game down to node `node` at (`depth`, `index`) of the tree `phase` walks.
    event Descended(uint256 indexed gameId, GamePhase phase, uint8 depth, uint64 index, bytes32 node);

    /// @notice The walk reached leaf `slot` of the final state (slot 0 and padding slots are decided at once; an op
    /// slot starts the walk down its tensor).
    event SlotDisputed(uint256 indexed gameId, uint32 slot);

    /// @notice The challenger named the element at byte `offset` of the disputed leaf.
    event ElementNamed(uint256 indexed gameId, uint8 offset);

    /// @notice The contract computed the named element of op `k`'s output: `actual` is its true value, `claimed` the
    /// defender's. `element` is its index, or `type(uint256).max` for a padding element (true value 0).
    event StepProven(uint256 indexed gameId, uint32 k, uint256 element, int8 claimed, int8 actual);

    /// @notice The contract computed the named element of a language model's slot `slot` (docs/LLM_INT.md §8): `actual`
    /// is its true value, `claimed` the defender's. `element` is its row-major index in the slot, or
    /// `type(uint256).max` for a padding element (true value 0).
    event LlmStepProven(uint256 indexed gameId, uint32 slot, uint256 element, int256 claimed, int256 actual);

    /// @notice Game `gameId` ended with `status`; `challengerPaid` and `defenderPaid` were credited, `burned` burned.
    /// `status` is a `GameStatus` (ABI `uint8`): 2 ChallengerWon, 3 DefenderWon, 4 Moot.
    event GameResolved(
        uint256 indexed gameId, GameStatus status, uint256 challengerPaid, uint256 defenderPaid, uint256 burned
    );

    /// @notice The worker lost a game: its result is void and the job open again. `burned` of the worker's bond was
    /// burned; the rest, `pool`, pays the games Active at that moment by the share rule (PROTOCOL §6.5).
    event ResultOverturned(uint256 indexed jobId, uint32 attempt, uint256 pool, uint256 burned);

    /// @notice The market whose results this game disputes and whose ledger it credits.
    function market() external view returns (IJobMarket);

    /// @notice The one-step executor of phase Step.
    function prover() external view returns (IOneStepProver);

    /// @notice The prover that computes one element of a language model's trace (`stepLlm`).
    function llmProver() external view returns (ILlmStepProver);

    /// @notice The bond, in wei, a challenger escrows with every game.
    function challengeBond() external view returns (uint256);

    /// @notice Each side's clock, in seconds, at the start of a game.
    function gameClock() external view returns (uint64);

    /// @notice The least time, in seconds, a side always has for one move.
    function clockExtension() external view returns (uint64);

    /// @notice Share of a losing bond that is burned, in basis points.
    function burnBps() external view returns (uint16);

    /// @notice What the share rule repays per challenger move, in wei (PROTOCOL §6.5).
    function moveReward() external view returns (uint256);

    /// @notice Wei burned so far (held by this contract forever, credited to nobody).
    function burned() external view returns (uint256);

    /// @notice Number of games ever opened (the highest id; ids start at 1).
    function gameCount() external view returns (uint256);

    /// @notice Opens a game against the current result of `jobId` while its window is open, escrowing
    /// `challengeBond` (`msg.value` must equal it). The worker cannot challenge its own result.
    function challenge(uint256 jobId) external payable returns (uint256 gameId);

    /// @notice The defender's first reveal, once per result: its final state σ_n, with leaf(0x03, worker ‖ finalState)
    /// equal to the result's trace root, and `outputPath` proving that slot n of it holds the posted output root.
    /// Anyone may call; every reveal is cached for every game on the job's current result.
    function revealOpening(uint256 jobId, bytes32 finalState, bytes32[] calldata outputPath) external;

    /// @notice Reveals the children of a node of the result's final state (`Tree.State`: node(0x02, left, right) =
    /// node) or of a slot's tensor (`Tree.Tensor`: node(0x01, left, right) = node).
    function revealNode(uint256 jobId, Tree tree, bytes32 node, bytes32 left, bytes32 right) external;

    /// @notice Reveals the tensor root a state leaf holds: leaf(0x02, tensorRoot) = leaf.
    function revealSlot(uint256 jobId, bytes32 leaf, bytes32 tensorRoot) external;

    /// @notice Reveals the 32 bytes of a tensor leaf: leaf(0x01, data) = leaf.
    function revealLeaf(uint256 jobId, bytes32 leaf, bytes32 data) external;

    /// @notice Challenger only, phases Slots and Tensor: go down to the `right` (or left) child of the position.
    /// Reaching slot 0 or a padding slot of the final state decides the game in this call (the leaf must be
    /// leaf(0x02, inputRoot), resp. leaf(0x02, 0): if it is, the challenger loses, else the defender); reaching an op
    /// slot starts the walk down its tensor.
    /// @param move The game's `moves` count this move answers.
    function pick(uint256 gameId, uint32 move, bool right) external;

    /// @notice Challenger only, phase Tensor at the leaf: names the element at byte `offset` (< 32) of the revealed leaf.
    /// A language model's leaves hold 2- or 4-byte elements: `offset` must be the first byte of one
    /// (`MisalignedElement`).
    function nameElement(uint256 gameId, uint32 move, uint8 offset) external;

    /// @notice Phase Step, on the challenger's clock, callable by anyone (payouts go to the game's parties): computes
    /// the named element from the defender's final state and `witness`, and resolves the game. A padding element needs
    /// no witness (its true value is 0).
    function step(uint256 gameId, StepWitness calldata witness) external;

    /// @notice `step` for a result of a language model (docs/LLM_INT.md §9): the named element's true value from the
    /// defender's final state and `witness`, computed by `llmProver`; resolves the game. `step` and `stepLlm` each
    /// refuse the other kind's games (`WrongModelKind`).
    function stepLlm(uint256 gameId, LlmWitness calldata witness) external;

    /// @notice Resolves a game whose side to move has run out of time: that side loses. Anyone.
    function timeout(uint256 gameId) external;

    /// @notice Pays the challenger of an Active game on an overturned result its bond plus its share. Anyone.
    function claimMoot(uint256 gameId) external;

    /// @notice The game with this id; reverts `UnknownGame` for an id never opened. `Game.status` is a `GameStatus`
    /// (ABI `uint8`): 0 None, 1 Active, 2 ChallengerWon, 3 DefenderWon, 4 Moot; `Game.phase` a `GamePhase`: 0 Slots
    /// (walking the final state), 1 Tensor (walking the disputed slot's tensor), 2 Step (one-step proof due).
    function getGame(uint256 gameId) external view returns (Game memory);

    /// @notice The dispute state of result `attempt` of `jobId`.
    function getDispute(uint256 jobId, uint32 attempt) external view returns (ResultDispute memory);

    /// @notice How many games on result `attempt` of `jobId` are Active (the market settles a result only at zero).
    function openGames(uint256 jobId, uint32 attempt) external view returns (uint32);

    /// @notice What an Active game waits for from the defender (`RevealKind.None`: the challenger is to move, or the
    /// game is over): `tree` is the node's tree for `Node`, `hash` the node, state leaf or tensor leaf to reveal (zero
    /// for `Opening`). `kind` is a `RevealKind` (ABI `uint8`): 0 None, 1 Opening, 2 Node, 3 Slot, 4 Leaf; `tree` a `Tree`:
    /// 0 State (the final state σ_n), 1 Tensor (the disputed slot's tensor).
    function pendingReveal(uint256 gameId) external view returns (RevealKind kind, Tree tree, bytes32 hash);

    /// @notice The revealed final state of a result (zero if not revealed).
    function revealedOpening(uint256 jobId, uint32 attempt) external view returns (bytes32);

    /// @notice Revealed children of a node (of either tree) of a result (zeros if not revealed).
    function revealedNode(uint256 jobId, uint32 attempt, bytes32 node)
        external
        view
        returns (bytes32 left, bytes32 right);

    /// @notice The tensor root a state leaf of a result holds, and whether it was revealed.
    function revealedSlot(uint256 jobId, uint32 attempt, bytes32 leaf) external view returns (bool, bytes32);

    /// @notice Revealed data of a tensor leaf of a result, and whether it was revealed.
    function revealedLeaf(uint256 jobId, uint32 attempt, bytes32 leaf) external view returns (bool, bytes32);
}
