// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {IJobMarket} from "../interfaces/IJobMarket.sol";
import {IVouchConsumer} from "../interfaces/IVouchConsumer.sol";

/// @title VouchLlmConsumerExample
/// @notice A language model's consumer (PROTOCOL §5.4, §7.2): `ask` posts a prompt's token ids with a token budget
/// and a callback, and keeps the settled answer's token ids. A contract cannot tokenize text: the ids come from off
/// chain, e.g. the `prompt_ids` a coordinator's `POST /v1/jobs/prepare` answers with for a prompt, tokenized with the
/// model's own card. The job's input is the int32 big-endian row `[maxNew, ids…]`; its output, the answer, is the
/// generated ids as int32 big-endian, the last one the model's eos unless the answer used the whole budget. The
/// answer arrives through the market's callback or, if the callback failed, from anyone who hands `deliver` the
/// settled output bytes (from the settled attempt's `ResultSubmitted` log), checked on chain with `isSettledOutput`.
/// Either way only a settled answer is kept, and only once.
contract VouchLlmConsumerExample is IVouchConsumer {
    /// @notice What this contract keeps of a settled job.
    struct Answer {
        /// @dev Set once the settled answer arrived.
        bool known;
        /// @dev The settled output root.
        bytes32 outputRoot;
        /// @dev The answer's token ids, in order.
        uint32[] ids;
    }

    /// @notice Only the market calls `onVouchResult`.
    error OnlyMarket(address caller);

    /// @notice The bytes handed to `deliver` are not job `jobId`'s settled answer (or it has not settled).
    error NotSettledOutput(uint256 jobId);

    /// @notice Job `jobId` was not posted by this contract.
    error NotAsked(uint256 jobId);

    /// @notice `length` output bytes are not whole int32 token ids.
    error NotTokenIds(uint256 length);

    /// @notice Job `jobId` settled with an answer of `tokens` token ids under `outputRoot`.
    event Answered(uint256 indexed jobId, uint256 tokens, bytes32 outputRoot);

    /// @notice The market this contract posts to.
    IJobMarket public immutable market;

    /// @notice The gas each callback asks for (enough to decode the answer and store its ids).
    uint32 public immutable callbackGas;

    /// @notice Who asked each job (zero: not asked here).
    mapping(uint256 jobId => address) public askedBy;

    /// @notice The answer of each settled job (`answerIds` returns its ids).
    mapping(uint256 jobId => Answer) internal _answers;

    /// @notice Deploys a consumer of `market_` whose jobs get `callbackGas_` gas for their callback.
    constructor(IJobMarket market_, uint32 callbackGas_) {
        market = market_;
        callbackGas = callbackGas_;
    }

    /// @notice Posts a language model's job on `promptIds` (the prompt, tokenized with the model's card and chat
    /// template) answered in at most `maxNew` tokens, with a callback, paying the job's fee with `msg.value`. The
    /// market checks the row (at least one id, every id below the vocabulary, prompt + maxNew − 1 within the context).
    /// @return jobId The market's job id.
    function ask(uint256 modelId, uint32[] calldata promptIds, uint32 maxNew, uint64 deadline)
        external
        payable
        returns (uint256 jobId)
    {
        jobId = market.postJobWithCallback{value: msg.value}(
            modelId, encodeInput(maxNew, promptIds), deadline, callbackGas
        );
        askedBy[jobId] = msg.sender;
    }

    /// @inheritdoc IVouchConsumer
    function onVouchResult(uint256 jobId, bytes calldata output, bytes32 outputRoot) external {
        // INVARIANT: only the market reports settled outputs (the market sends them only once the job settled).
        if (msg.sender != address(market)) revert OnlyMarket(msg.sender);
        _keep(jobId, output, outputRoot);
    }

    /// @notice Keeps job `jobId`'s answer from its settled output bytes, checked against the market; anyone.
    function deliver(uint256 jobId, bytes calldata output) external {
        // INVARIANT: only the bytes the market holds as settled become an answer.
        if (!market.isSettledOutput(jobId, output)) revert NotSettledOutput(jobId);
        _keep(jobId, output, market.settledOutputRoot(jobId));
    }

    /// @notice The settled answer's token ids of job `jobId` (empty until it arrived) and whether it arrived.
    function answerIds(uint256 jobId) external view returns (uint32[] memory ids, bool known) {
        Answer storage answer = _answers[jobId];
        return (answer.ids, answer.known);
    }

    /// @notice A language model's job input: the int32 big-endian row `[maxNew, ids…]`.
    function encodeInput(uint32 maxNew, uint32[] calldata ids) public pure returns (bytes memory input) {
        input = new bytes(4 * (ids.length + 1));
        _put(input, 0, maxNew);
        for (uint256 i = 0; i < ids.length; ++i) {
            _put(input, i + 1, ids[i]);
        }
    }

    /// @notice The token ids of an answer: its output bytes read as int32 big-endian words.
    function decodeAnswer(bytes calldata output) public pure returns (uint32[] memory ids) {
        // INVARIANT: an answer is whole int32 words (the market takes no other from a worker).
        if (output.length % 4 != 0) revert NotTokenIds(output.length);
        ids = new uint32[](output.length / 4);
        for (uint256 i = 0; i < ids.length; ++i) {
            ids[i] = uint32(bytes4(output[4 * i:4 * i + 4]));
        }
    }

    /// @notice Stores the answer the first time a settled output of a job asked here arrives.
    function _keep(uint256 jobId, bytes calldata output, bytes32 outputRoot) internal {
        // INVARIANT: answers are kept only for this contract's own jobs.
        if (askedBy[jobId] == address(0)) revert NotAsked(jobId);
        Answer storage answer = _answers[jobId];
        if (answer.known) return;
        answer.known = true;
        answer.outputRoot = outputRoot;
        answer.ids = decodeAnswer(output);
        emit Answered(jobId, answer.ids.length, outputRoot);
    }

    /// @notice Writes `word` as int32 number `i` of `row`, big-endian.
    function _put(bytes memory row, uint256 i, uint32 word) private pure {
        bytes4 b = bytes4(word);
        for (uint256 k = 0; k < 4; ++k) {
            row[4 * i + k] = b[k];
        }
    }
}
