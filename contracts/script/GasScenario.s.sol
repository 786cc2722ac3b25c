// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {JobMarket} from "../src/JobMarket.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {IOneStepProver} from "../src/interfaces/IOneStepProver.sol";
import {Configs} from "../test/utils/Configs.sol";
import {DenseReluModel, ModelFixture} from "../test/utils/ModelFixture.sol";
import {Reference} from "../test/utils/Reference.sol";

interface VmScript {
    function startBroadcast(uint256 privateKey) external;
    function stopBroadcast() external;
}

/// @notice Real transactions for docs/GAS.md, against a fresh anvil (see docs/GAS.md for the command).
/// Uses anvil's well-known development keys 0 (model owner) and 1 (poster and worker). The challenge window is
/// zero so that `finalize` can run right away; its gas does not depend on the window.
contract GasScenario {
    VmScript internal constant vm = VmScript(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint256 internal constant OWNER_KEY = 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80;
    uint256 internal constant USER_KEY = 0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d;

    function run() external {
        // The small model takes an 8×8 one-channel image: its input is 64 rows of one byte (64 tensor leaves).
        DenseReluModel memory small = ModelFixture.denseRelu(1, ModelFixture.shape(8, 8, 1), 10);
        DenseReluModel memory large = ModelFixture.denseRelu(2, 784, 32);
        bytes memory smallInput = _bytes(0x64, 64);
        bytes memory largeInput = _bytes(0x784, 784);
        bytes memory output = _bytes(0x10, 10);

        vm.startBroadcast(OWNER_KEY);
        ModelRegistry registry = new ModelRegistry();
        JobMarket market = new JobMarket(
            registry, IOneStepProver(address(0x5eed)), Configs.NO_LLM_PROVER, Configs.market(0, 0.1 ether)
        );
        uint256 smallId = _publish(registry, small);
        uint256 largeId = _publish(registry, large);
        vm.stopBroadcast();

        vm.startBroadcast(USER_KEY);
        uint256 jobId = market.postJob{value: 0.01 ether}(smallId, smallInput, uint64(block.timestamp + 1 days));
        market.postJob{value: 0.01 ether}(largeId, largeInput, uint64(block.timestamp + 1 days));
        market.submitResult{value: 0.1 ether}(jobId, Reference.tensorRoot(output), keccak256("trace"), output);
        market.finalize(jobId);
        market.withdraw();
        vm.stopBroadcast();
    }

    /// @dev Registers `m` and publishes it: op 0 as [spec], then its rows in one call, then op 1.
    function _publish(ModelRegistry registry, DenseReluModel memory m) internal returns (uint256 id) {
        id = registry.registerModel(m.root, 2, m.input, m.inputZero, m.output, 0.01 ether, 1500, "");
        registry.publishLeaves(id, 0, ModelFixture.slice(m.ops[0], 0, 1));
        registry.publishLeaves(id, 0, ModelFixture.slice(m.ops[0], 1, m.ops[0].length));
        registry.sealOp(id, 0);
        registry.publishLeaves(id, 1, m.ops[1]);
        registry.sealOp(id, 1);
    }

    function _bytes(uint256 seed, uint256 len) internal pure returns (bytes memory out) {
        out = new bytes(len);
        for (uint256 i = 0; i < len; ++i) {
            out[i] = bytes1(uint8(uint256(keccak256(abi.encode(seed, i)))) | 1); // nonzero, like real data
        }
    }
}
