// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {IJobMarket} from "../interfaces/IJobMarket.sol";
import {VouchConsumerBase} from "./VouchConsumerBase.sol";

/// @title VouchLlmConsumerExample
/// @notice A language model's consumer (PROTOCOL §5.4, §7.2): `ask` posts a prompt's token ids with a token budget
/// and a callback, and keeps the settled answer's token ids. A contract cannot tokenize text: the ids come from off
/// chain, e.g. the `prompt_ids` a coordinator's `POST /v1/jobs/prepare` answers with for a prompt, tokenized with the
/// model's own card. The job's input is the int32 big-endian row `[maxNew, ids…]`; its output, the answer, is the
/// generated ids as int32 big-endian, the last one the model's eos unless the answer used the whole budget. The
/// answer arrives through the market's callback or, if the callback failed, from anyone who hands `deliver` the
/// settled output bytes (from the settled attempt's `ResultSubmitted` log), checked on chain with `isSettledOutput`.
/// Either way only a settled answer is kept, and only once. The market refunds the escrow of the tokens an answer did
/// not use (and an expired job's whole escrow) to this contract, the poster, as market credit; its owner withdraws it
/// (`withdraw`, `VouchConsumerBase`).
contract VouchLlmConsumerExample is VouchConsumerBase {
    /// @notice What this contract keeps of a settled job.
    struct Answer {
        /// @dev Set once the settled answer arrived.
        bool known;
        /// @dev The settled output root.
        bytes32 outputRoot;
        /// @dev The answer's token ids, in order.
        uint32[] ids;
    }

    /// @notice `length` output bytes are not whole int32 token ids.
    error NotTokenIds(uint256 length);

    /// @notice Job `jobId` settled with an answer of `tokens` token ids under `outputRoot`.
    event Answered(uint256 indexed jobId, uint256 tokens, bytes32 outputRoot);

    /// @notice The answer of each settled job (`answerIds` returns its ids).
    mapping(uint256 jobId => Answer) internal _answers;

    /// @notice Deploys a consumer of `market_` whose jobs get `callbackGas_` gas for their callback, owned by the
    /// deployer.
    constructor(IJobMarket market_, uint32 callbackGas_) VouchConsumerBase(market_, callbackGas_) {}

    /// @notice Posts a language model's job on `promptIds` (the prompt, tokenized with the model's card and chat
    /// template) answered in at most `maxNew` tokens, with a callback, paying the job's fee with `msg.value`. The
    /// market checks the row (at least one id, every id below the vocabulary, prompt + maxNew − 1 within the context).
    /// @return jobId The market's job id.
    function ask(uint256 modelId, uint32[] calldata promptIds, uint32 maxNew, uint64 deadline)
        external
        payable
        returns (uint256 jobId)
    {
        return _post(modelId, encodeInput(maxNew, promptIds), deadline);
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
    function _keep(uint256 jobId, bytes calldata output, bytes32 outputRoot) internal override {
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
