// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {MarketConfig} from "../../src/lib/Types.sol";

/// @notice Market configurations for tests: a window and a result bond, the game parameters fixed.
library Configs {
    uint256 internal constant CHALLENGE_BOND = 0.2 ether;
    uint64 internal constant GAME_CLOCK = 1 hours;
    uint64 internal constant CLOCK_EXTENSION = 10 minutes;
    uint16 internal constant BURN_BPS = 5000;

    function market(uint64 window, uint256 resultBond) internal pure returns (MarketConfig memory) {
        return MarketConfig({
            challengeWindow: window,
            resultBond: resultBond,
            challengeBond: CHALLENGE_BOND,
            gameClock: GAME_CLOCK,
            clockExtension: CLOCK_EXTENSION,
            burnBps: BURN_BPS
        });
    }
}
