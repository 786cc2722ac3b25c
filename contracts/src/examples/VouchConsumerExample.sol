// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {IJobMarket} from "../interfaces/IJobMarket.sol";
import {IVouchConsumer} from "../interfaces/IVouchConsumer.sol";

/// @title VouchConsumerExample
/// @notice A classifier's consumer (PROTOCOL §5.4): `ask` posts a job on a model whose output is a vector of int8
/// scores and keeps the settled answer, the index of the highest score (ties to the lowest index). The answer
/// arrives either through the market's callback or, if the callback failed or was never asked for, from anyone who
/// hands `deliver` the settled output bytes (from the settled attempt's `ResultSubmitted` log), checked on chain
/// with `isSettledOutput`. Either way only a settled output is ever kept, and only once.
contract VouchConsumerExample is IVouchConsumer {
    /// @notice What this contract keeps of a settled job.
    struct Answer {
        /// @dev Set once the settled output arrived.
        bool known;
        /// @dev The index of the highest score (ties to the lowest index).
        uint256 label;
        /// @dev The settled output root.
        bytes32 outputRoot;
    }

    /// @notice Only the market calls `onVouchResult`.
    error OnlyMarket(address caller);

    /// @notice The bytes handed to `deliver` are not job `jobId`'s settled output (or it has not settled).
    error NotSettledOutput(uint256 jobId);

    /// @notice Job `jobId` was not posted by this contract.
    error NotAsked(uint256 jobId);

    /// @notice Job `jobId` settled with answer `label`.
    event Answered(uint256 indexed jobId, uint256 label, bytes32 outputRoot);

    /// @notice The market this contract posts to.
    IJobMarket public immutable market;

    /// @notice The gas each callback asks for (enough to find the label of the output and store it).
    uint32 public immutable callbackGas;

    /// @notice Who asked each job (zero: not asked here).
    mapping(uint256 jobId => address) public askedBy;

    /// @notice The answer of each settled job.
    mapping(uint256 jobId => Answer) public answers;

    /// @notice Deploys a consumer of `market_` whose jobs get `callbackGas_` gas for their callback.
    constructor(IJobMarket market_, uint32 callbackGas_) {
        market = market_;
        callbackGas = callbackGas_;
    }

    /// @notice Posts a job with a callback, paying the model's fee with `msg.value`.
    /// @return jobId The market's job id.
    function ask(uint256 modelId, bytes calldata input, uint64 deadline) external payable returns (uint256 jobId) {
        jobId = market.postJobWithCallback{value: msg.value}(modelId, input, deadline, callbackGas);
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

    /// @notice Stores the answer the first time a settled output of a job asked here arrives.
    function _keep(uint256 jobId, bytes calldata output, bytes32 outputRoot) internal {
        // INVARIANT: answers are kept only for this contract's own jobs.
        if (askedBy[jobId] == address(0)) revert NotAsked(jobId);
        Answer storage answer = answers[jobId];
        if (answer.known) return;
        uint256 label = 0;
        for (uint256 i = 1; i < output.length; ++i) {
            if (int8(uint8(output[i])) > int8(uint8(output[label]))) label = i;
        }
        answers[jobId] = Answer({known: true, label: label, outputRoot: outputRoot});
        emit Answered(jobId, label, outputRoot);
    }
}
