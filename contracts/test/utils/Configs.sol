// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {ILlmStepProver} from "../../src/interfaces/ILlmStepProver.sol";
import {MarketConfig} from "../../src/lib/Types.sol";

/// @notice Market configurations for tests: a window and a result bond, the game parameters fixed.
library Configs {
    uint256 internal constant CHALLENGE_BOND = 0.2 ether;
    uint64 internal constant GAME_CLOCK = 1 hours;
    uint64 internal constant CLOCK_EXTENSION = 10 minutes;
    uint16 internal constant BURN_BPS = 5000;
    /// @dev Per challenger move (PROTOCOL §6.5): 25 moves are worth the unburned half of a 0.5 ether result bond.
    uint256 internal constant MOVE_REWARD = 0.01 ether;
    /// @dev The language-model prover of markets whose tests post no language-model job (any nonzero address).
    ILlmStepProver internal constant NO_LLM_PROVER = ILlmStepProver(address(0x11a3));

    function market(uint64 window, uint256 resultBond) internal pure returns (MarketConfig memory) {
        return MarketConfig({
            challengeWindow: window,
            resultBond: resultBond,
            challengeBond: CHALLENGE_BOND,
            gameClock: GAME_CLOCK,
            clockExtension: CLOCK_EXTENSION,
            burnBps: BURN_BPS,
            moveReward: MOVE_REWARD
        });
    }
}
