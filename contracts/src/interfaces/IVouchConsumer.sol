// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

/// @title IVouchConsumer
/// @notice What a contract implements to receive the settled output of a job it posted with
/// `JobMarket.postJobWithCallback` (PROTOCOL §5.4). The market calls it once, from `finalize`, after the job is
/// Settled and every credit is booked, with exactly the gas limit the poster chose. A callback that reverts, runs
/// out of gas or tries to re-enter the market changes nothing in the market: the job stays Settled and the market
/// emits `CallbackDelivered(jobId, consumer, false)`. Reentering the market from the callback always fails
/// (`Reentrancy`): post follow-up jobs or withdraw in a later transaction.
interface IVouchConsumer {
    /// @notice The settled output of job `jobId` (posted by this contract). Check `msg.sender` is the market.
    /// @param output The output tensor bytes, row-major, `h·w·c` int8 of the model's output shape; for a language
    /// model's job, the answer's token ids as int32 big-endian (PROTOCOL §7.2).
    /// @param outputRoot Their tensor root, as `JobMarket.settledOutputRoot(jobId)` returns it.
    function onVouchResult(uint256 jobId, bytes calldata output, bytes32 outputRoot) external;
}
