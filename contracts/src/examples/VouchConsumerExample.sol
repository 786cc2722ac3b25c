// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {IJobMarket} from "../interfaces/IJobMarket.sol";
import {VouchConsumerBase} from "./VouchConsumerBase.sol";

/// @title VouchConsumerExample
/// @notice A classifier's consumer (PROTOCOL §5.4): `ask` posts a job on a model whose output is a vector of int8
/// scores and keeps the settled answer, the index of the highest score (ties to the lowest index). The answer
/// arrives either through the market's callback or, if the callback failed or was never asked for, from anyone who
/// hands `deliver` the settled output bytes (from the settled attempt's `ResultSubmitted` log), checked on chain
/// with `isSettledOutput`. Either way only a settled output is ever kept, and only once. An expired job's fee comes
/// back as this contract's market credit, which its owner withdraws (`VouchConsumerBase`).
contract VouchConsumerExample is VouchConsumerBase {
    /// @notice What this contract keeps of a settled job.
    struct Answer {
        /// @dev Set once the settled output arrived.
        bool known;
        /// @dev The index of the highest score (ties to the lowest index).
        uint256 label;
        /// @dev The settled output root.
        bytes32 outputRoot;
    }

    /// @notice Job `jobId` settled with answer `label`.
    event Answered(uint256 indexed jobId, uint256 label, bytes32 outputRoot);

    /// @notice The answer of each settled job.
    mapping(uint256 jobId => Answer) public answers;

    /// @notice Deploys a consumer of `market_` whose jobs get `callbackGas_` gas for their callback, owned by the
    /// deployer.
    constructor(IJobMarket market_, uint32 callbackGas_) VouchConsumerBase(market_, callbackGas_) {}

    /// @notice Posts a job with a callback, paying the model's fee with `msg.value`.
    /// @return jobId The market's job id.
    function ask(uint256 modelId, bytes calldata input, uint64 deadline) external payable returns (uint256 jobId) {
        return _post(modelId, input, deadline);
    }

    /// @notice Stores the answer the first time a settled output of a job asked here arrives: the index of the
    /// highest score.
    function _keep(uint256 jobId, bytes calldata output, bytes32 outputRoot) internal override {
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
