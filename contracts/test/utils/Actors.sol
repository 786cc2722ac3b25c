// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {IJobMarket} from "../../src/interfaces/IJobMarket.sol";

/// @notice A credit holder that refuses every payment.
contract RejectingReceiver {
    function withdrawFrom(IJobMarket market) external {
        market.withdraw();
    }

    receive() external payable {
        revert("no thanks");
    }
}

/// @notice Re-enters `withdraw` from its receive hook. With `bubble` it lets the inner revert fail the transfer,
/// otherwise it swallows it and records the revert data.
contract ReentrantWithdrawer {
    IJobMarket internal immutable market;
    bool internal immutable bubble;
    bytes public innerRevert;
    uint256 public received;

    constructor(IJobMarket market_, bool bubble_) {
        market = market_;
        bubble = bubble_;
    }

    function attack() external {
        market.withdraw();
    }

    receive() external payable {
        received += msg.value;
        if (bubble) {
            market.withdraw();
        } else {
            try market.withdraw() {}
            catch (bytes memory data) {
                innerRevert = data;
            }
        }
    }
}
