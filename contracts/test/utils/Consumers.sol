// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {IJobMarket} from "../../src/interfaces/IJobMarket.sol";
import {IVouchConsumer} from "../../src/interfaces/IVouchConsumer.sol";

/// @notice What every test consumer shares: it posts callback jobs and counts the callbacks it gets.
abstract contract ConsumerBase is IVouchConsumer {
    IJobMarket internal immutable market;
    uint256 public calls;

    constructor(IJobMarket market_) {
        market = market_;
    }

    function post(uint256 modelId, bytes calldata input, uint64 deadline, uint32 gasLimit)
        external
        payable
        returns (uint256)
    {
        return market.postJobWithCallback{value: msg.value}(modelId, input, deadline, gasLimit);
    }

    function withdrawFromMarket() external {
        market.withdraw();
    }

    receive() external payable {}
}

/// @notice Keeps every callback's arguments and the gas it had on entry.
contract RecordingConsumer is ConsumerBase {
    uint256 public lastJob;
    bytes public lastOutput;
    bytes32 public lastRoot;
    uint256 public gasAtEntry;
    bool public sawSettled;

    constructor(IJobMarket market_) ConsumerBase(market_) {}

    function onVouchResult(uint256 jobId, bytes calldata output, bytes32 outputRoot) external {
        gasAtEntry = gasleft();
        ++calls;
        lastJob = jobId;
        lastOutput = output;
        lastRoot = outputRoot;
        // The market is already settled when the callback runs: the view agrees with the callback.
        sawSettled = market.isSettledOutput(jobId, output);
    }
}

/// @notice Reverts in every callback.
contract RevertingConsumer is ConsumerBase {
    constructor(IJobMarket market_) ConsumerBase(market_) {}

    function onVouchResult(uint256, bytes calldata, bytes32) external pure {
        revert("no");
    }
}

/// @notice Burns all the gas it gets (`bomb`), or returns a large blob of return data (`returnBomb`) that a caller
/// copying return data would pay for.
contract GasBombConsumer is ConsumerBase {
    bool internal immutable returnBomb;

    constructor(IJobMarket market_, bool returnBomb_) ConsumerBase(market_) {
        returnBomb = returnBomb_;
    }

    function onVouchResult(uint256, bytes calldata, bytes32) external view {
        if (returnBomb) {
            assembly ("memory-safe") {
                return(0, 200000)
            }
        }
        uint256 x;
        while (gasleft() > 0) {
            x = uint256(keccak256(abi.encode(x)));
        }
    }
}

/// @notice Tries to re-enter the market from its callback: finalize, withdraw and postJob. Records the revert data of
/// each attempt; with `bubble` it reverts with the first one instead.
contract ReentrantConsumer is ConsumerBase {
    bool internal immutable bubble;
    uint256 internal immutable modelId;
    bytes public finalizeRevert;
    bytes public withdrawRevert;
    bytes public postRevert;

    constructor(IJobMarket market_, uint256 modelId_, bool bubble_) ConsumerBase(market_) {
        modelId = modelId_;
        bubble = bubble_;
    }

    function onVouchResult(uint256 jobId, bytes calldata, bytes32) external {
        ++calls;
        if (bubble) market.finalize(jobId);
        try market.finalize(jobId) {}
        catch (bytes memory data) {
            finalizeRevert = data;
        }
        try market.withdraw() {}
        catch (bytes memory data) {
            withdrawRevert = data;
        }
        try market.postJob{value: address(this).balance}(modelId, new bytes(64), uint64(block.timestamp + 1 days)) {}
        catch (bytes memory data) {
            postRevert = data;
        }
    }
}

/// @notice Records only the gas it had on entry (one storage write: runs on any gas limit above ~25,000).
contract GasProbeConsumer is ConsumerBase {
    uint256 public gasAtEntry;

    constructor(IJobMarket market_) ConsumerBase(market_) {}

    function onVouchResult(uint256, bytes calldata, bytes32) external {
        gasAtEntry = gasleft();
    }
}
