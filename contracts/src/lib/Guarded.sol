// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {Reentrancy} from "./Errors.sol";

/// @title Guarded
/// @notice One transient reentrancy lock shared by every state-changing entry point of a contract.
abstract contract Guarded {
    bool private transient _locked;

    modifier nonReentrant() {
        // INVARIANT: no guarded function runs inside another (a withdrawal cannot be re-entered).
        if (_locked) revert Reentrancy();
        _locked = true;
        _;
        _locked = false;
    }
}
