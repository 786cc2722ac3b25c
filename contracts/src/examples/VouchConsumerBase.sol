// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {IJobMarket} from "../interfaces/IJobMarket.sol";
import {IVouchConsumer} from "../interfaces/IVouchConsumer.sol";

/// @title VouchConsumerBase
/// @notice The skeleton every example consumer shares (PROTOCOL §5.4): it posts jobs with a callback for whoever asks,
/// takes a settled output through the market's callback or, if the callback failed or was never asked for, from
/// anyone who hands `deliver` the settled output bytes (checked on chain with `isSettledOutput`), and hands each one
/// of its own jobs' settled outputs to `_keep` (which keeps it once). The market pays back to this contract, the
/// poster, as market credit: a language model's unused tokens (`UnusedTokensRefunded`) and an expired job's fee
/// (`refundExpired`); `withdraw` lets its owner (the deployer) take that credit out.
abstract contract VouchConsumerBase is IVouchConsumer {
    /// @notice Only the market calls `onVouchResult` and sends this contract money.
    error OnlyMarket(address caller);

    /// @notice The bytes handed to `deliver` are not job `jobId`'s settled output (or it has not settled).
    error NotSettledOutput(uint256 jobId);

    /// @notice Job `jobId` was not posted by this contract.
    error NotAsked(uint256 jobId);

    /// @notice Only the owner withdraws this contract's market credit.
    error OnlyOwner(address caller);

    /// @notice Sending `amount` wei to `to` failed.
    error WithdrawalFailed(address to, uint256 amount);

    /// @notice This contract's market credit, `amount` wei, was withdrawn and sent to `to`.
    event Withdrawn(address indexed to, uint256 amount);

    /// @notice The market this contract posts to.
    IJobMarket public immutable market;

    /// @notice The gas each callback asks for (enough to decode the output and store the answer).
    uint32 public immutable callbackGas;

    /// @notice Who may withdraw this contract's market credit: its deployer.
    address public immutable owner;

    /// @notice Who asked each job (zero: not asked here).
    mapping(uint256 jobId => address) public askedBy;

    /// @notice Deploys a consumer of `market_` whose jobs get `callbackGas_` gas for their callback, owned by the
    /// deployer.
    constructor(IJobMarket market_, uint32 callbackGas_) {
        market = market_;
        callbackGas = callbackGas_;
        owner = msg.sender;
    }

    /// @inheritdoc IVouchConsumer
    function onVouchResult(uint256 jobId, bytes calldata output, bytes32 outputRoot) external {
        // INVARIANT: only the market reports settled outputs (the market sends them only once the job settled).
        if (msg.sender != address(market)) revert OnlyMarket(msg.sender);
        _accept(jobId, output, outputRoot);
    }

    /// @notice Keeps job `jobId`'s answer from its settled output bytes, checked against the market; anyone.
    function deliver(uint256 jobId, bytes calldata output) external {
        // INVARIANT: only the bytes the market holds as settled become an answer.
        if (!market.isSettledOutput(jobId, output)) revert NotSettledOutput(jobId);
        _accept(jobId, output, market.settledOutputRoot(jobId));
    }

    /// @notice Owner only (else `OnlyOwner`): withdraws this contract's whole market credit (unused tokens' and expired
    /// jobs' refunds) and sends it to `to`. Reverts the market's `NothingToWithdraw` for a zero credit, and
    /// `WithdrawalFailed` if `to` refuses the money.
    function withdraw(address payable to) external {
        // INVARIANT: the credit of every job posted here goes only where its owner says.
        if (msg.sender != owner) revert OnlyOwner(msg.sender);
        uint256 amount = market.credits(address(this));
        market.withdraw();
        emit Withdrawn(to, amount);
        (bool ok,) = to.call{value: amount}("");
        // INVARIANT: a failed transfer reverts, and the credit is back in the market.
        if (!ok) revert WithdrawalFailed(to, amount);
    }

    /// @notice Takes the market's payment of a withdrawal; money from anyone else is refused (`OnlyMarket`).
    receive() external payable {
        // INVARIANT: this contract holds money only in the middle of `withdraw`.
        if (msg.sender != address(market)) revert OnlyMarket(msg.sender);
    }

    /// @notice Posts `input` on model `modelId` with a callback for the caller, paying with `msg.value`.
    /// @return jobId The market's job id.
    function _post(uint256 modelId, bytes memory input, uint64 deadline) internal returns (uint256 jobId) {
        jobId = market.postJobWithCallback{value: msg.value}(modelId, input, deadline, callbackGas);
        askedBy[jobId] = msg.sender;
    }

    /// @notice Keeps a settled output of one of this contract's own jobs (else `NotAsked`).
    function _accept(uint256 jobId, bytes calldata output, bytes32 outputRoot) private {
        // INVARIANT: answers are kept only for this contract's own jobs.
        if (askedBy[jobId] == address(0)) revert NotAsked(jobId);
        _keep(jobId, output, outputRoot);
    }

    /// @notice Stores the answer of job `jobId` from its settled `output` the first time it arrives (a second time
    /// changes nothing).
    function _keep(uint256 jobId, bytes calldata output, bytes32 outputRoot) internal virtual;
}
