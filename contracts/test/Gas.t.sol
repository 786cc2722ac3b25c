// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {JobMarket} from "../src/JobMarket.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {JobMarketFixture} from "./JobMarket.t.sol";
import {DenseReluModel, ModelFixture} from "./utils/ModelFixture.sol";
import {Reference} from "./utils/Reference.sol";

/// @notice Gas of the calls docs/GAS.md reports. Run: forge test --match-contract GasTest -vv
/// Logs the execution gas of each call (measured with gasleft around it, so it includes the call's own
/// cold-account overhead) and an estimate of the whole transaction: 21000 + calldata (16 gas per nonzero
/// byte, 4 per zero byte; Cancun) + execution.
contract GasTest is JobMarketFixture {
    function _report(string memory what, bytes memory callData, uint256 execution) internal view {
        uint256 calldataGas;
        for (uint256 i = 0; i < callData.length; ++i) {
            calldataGas += callData[i] == 0 ? 4 : 16;
        }
        log(string.concat(what, " execution gas"), execution);
        log(string.concat(what, " calldata bytes"), callData.length);
        log(string.concat(what, " tx gas (21000 + calldata + execution)"), 21_000 + calldataGas + execution);
    }

    function test_gas_postJob64_succeeds() public {
        // The fixture model takes a [1, 1, 64] vector: one row, 2 tensor leaves.
        bytes memory input = randomBytes(0x64, 64);
        vm.prank(poster);
        uint256 g = gasleft();
        market.postJob{value: FEE}(modelId, input, START + 1 days);
        uint256 used = g - gasleft();
        _report(
            "postJob(64-byte [1,1,64] input)", abi.encodeCall(JobMarket.postJob, (modelId, input, START + 1 days)), used
        );
    }

    function test_gas_postJob64Image_succeeds() public {
        // An [8, 8, 1] image: 64 rows of one byte, 64 tensor leaves.
        uint256 id = _activate(ModelFixture.denseRelu(0x881, ModelFixture.shape(8, 8, 1), 10), FEE);
        bytes memory input = randomBytes(0x64, 64);
        vm.prank(poster);
        uint256 g = gasleft();
        market.postJob{value: FEE}(id, input, START + 1 days);
        uint256 used = g - gasleft();
        _report("postJob(64-byte [8,8,1] input)", abi.encodeCall(JobMarket.postJob, (id, input, START + 1 days)), used);
    }

    function test_gas_postJob784_succeeds() public {
        uint256 id = _activate(ModelFixture.denseRelu(0x784, 784, 10), FEE);
        bytes memory input = randomBytes(0x784, 784);
        vm.prank(poster);
        uint256 g = gasleft();
        market.postJob{value: FEE}(id, input, START + 1 days);
        uint256 used = g - gasleft();
        _report(
            "postJob(784-byte [1,1,784] input)", abi.encodeCall(JobMarket.postJob, (id, input, START + 1 days)), used
        );
    }

    function test_gas_submitResult10_succeeds() public {
        uint256 jobId = _post();
        bytes memory output = randomBytes(0x10, 10);
        bytes32 outputRoot = Reference.tensorRoot(output);
        bytes32 traceRoot = keccak256("trace");
        vm.prank(worker);
        uint256 g = gasleft();
        market.submitResult{value: BOND}(jobId, outputRoot, traceRoot, output);
        uint256 used = g - gasleft();
        _report(
            "submitResult(10-byte output)",
            abi.encodeCall(JobMarket.submitResult, (jobId, outputRoot, traceRoot, output)),
            used
        );
    }

    function test_gas_finalize_succeeds() public {
        uint256 jobId = _post();
        _submit(jobId);
        vm.warp(START + WINDOW);
        uint256 g = gasleft();
        market.finalize(jobId);
        uint256 used = g - gasleft();
        _report("finalize", abi.encodeCall(JobMarket.finalize, (jobId)), used);
    }

    function test_gas_withdraw_succeeds() public {
        uint256 jobId = _post();
        _submit(jobId);
        vm.warp(START + WINDOW);
        market.finalize(jobId);
        vm.prank(worker);
        uint256 g = gasleft();
        market.withdraw();
        uint256 used = g - gasleft();
        _report("withdraw", abi.encodeCall(JobMarket.withdraw, ()), used);
    }

    function test_gas_publishLeaves32Rows793_succeeds() public {
        // Dense 784 -> 32: after the spec leaf, 32 rows of 9 + 784 = 793 bytes in one call.
        DenseReluModel memory m = ModelFixture.denseRelu(0x793, 784, 32);
        bytes[] memory rows = ModelFixture.slice(m.ops[0], 1, 33);
        vm.startPrank(owner);
        uint256 id = registry.registerModel(m.root, 2, m.input, m.inputZero, m.output, FEE, ROYALTY_BPS, "");
        registry.publishLeaves(id, 0, ModelFixture.slice(m.ops[0], 0, 1));
        uint256 g = gasleft();
        registry.publishLeaves(id, 0, rows);
        uint256 used = g - gasleft();
        registry.sealOp(id, 0);
        vm.stopPrank();
        assertEq(rows[0].length, 793, "row length");
        _report("publishLeaves(32 rows x 793 bytes)", abi.encodeCall(ModelRegistry.publishLeaves, (id, 0, rows)), used);
    }
}
