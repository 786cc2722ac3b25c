// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {Game, GameStatus, ResultDispute, RevealKind} from "../lib/Types.sol";
import {IOneStepProver, StepWitness} from "./IOneStepProver.sol";

/// @title IDisputeGame
/// @notice The dissection game over a submitted result (PROTOCOL §6). Anyone may challenge a result inside its
/// window with a bond; every game is independent. The defender (the result's worker) only reveals data, proven
/// against its own commitments and cached per result, so a value revealed once serves every game on that result.
/// The challenger moves: it bisects the trace (phase 1) until σ_k is agreed and σ_{k+1} disputed, bisects the
/// tensor of slot k + 1 down to one 32-byte leaf (phase 2), names one element of it, and the contract computes
/// that element itself (phase 3). Chess clocks bound every game; the side that runs out loses.
interface IDisputeGame {
    /// @notice `challenger` opened game `gameId` on result `attempt` of job `jobId`, escrowing `bond`.
    event ChallengeOpened(
        uint256 indexed gameId, uint256 indexed jobId, uint32 attempt, address indexed challenger, uint256 bond
    );

    /// @notice σ_index of the result's trace is `stateRoot` (proven against its trace root; for index n, also
    /// that slot n holds the posted output root).
    event StateRevealed(uint256 indexed jobId, uint32 attempt, uint32 index, bytes32 stateRoot);

    /// @notice Op k wrote `tensorRoot` into slot k + 1 and changed no other slot (σ_k → σ_{k+1}).
    event TransitionRevealed(uint256 indexed jobId, uint32 attempt, uint32 k, bytes32 tensorRoot);

    /// @notice Tensor node `node` has children `left`, `right`.
    event NodeRevealed(uint256 indexed jobId, uint32 attempt, bytes32 node, bytes32 left, bytes32 right);

    /// @notice Tensor leaf `leaf` holds the 32 bytes `data`.
    event LeafRevealed(uint256 indexed jobId, uint32 attempt, bytes32 leaf, bytes32 data);

    /// @notice Phase 1 narrowed to σ_lo agreed, σ_hi disputed.
    event TraceBisected(uint256 indexed gameId, uint32 lo, uint32 hi);

    /// @notice Phase 2 went down to node `node` at (`depth`, `index`) of the disputed tensor.
    event TensorBisected(uint256 indexed gameId, uint8 depth, uint64 index, bytes32 node);

    /// @notice The challenger named the element at byte `offset` of the disputed leaf.
    event ElementNamed(uint256 indexed gameId, uint8 offset);

    /// @notice The contract computed the named element: `actual` is its true value, `claimed` the defender's.
    /// `element` is its index in slot k + 1, or `type(uint256).max` for a padding element (true value 0).
    event StepProven(uint256 indexed gameId, uint32 k, uint256 element, int8 claimed, int8 actual);

    /// @notice Game `gameId` ended with `status`; `challengerPaid` and `defenderPaid` were credited, `burned` burned.
    event GameResolved(
        uint256 indexed gameId, GameStatus status, uint256 challengerPaid, uint256 defenderPaid, uint256 burned
    );

    /// @notice The worker lost a game: its result is void and the job open again. Each game open at that moment
    /// (the winner included) is owed its bond plus `share`; `burned` of the worker's bond was burned.
    event ResultOverturned(uint256 indexed jobId, uint32 attempt, uint256 share, uint256 burned);

    /// @notice The one-step executor of phase 3.
    function prover() external view returns (IOneStepProver);

    /// @notice The bond, in wei, a challenger escrows with every game.
    function challengeBond() external view returns (uint256);

    /// @notice Each side's clock, in seconds, at the start of a game.
    function gameClock() external view returns (uint64);

    /// @notice The least time, in seconds, a side always has for one move.
    function clockExtension() external view returns (uint64);

    /// @notice Share of a losing bond that is burned, in basis points.
    function burnBps() external view returns (uint16);

    /// @notice Wei burned so far (held by the contract forever, credited to nobody).
    function burned() external view returns (uint256);

    /// @notice Number of games ever opened (the highest id; ids start at 1).
    function gameCount() external view returns (uint256);

    /// @notice Opens a game against the current result of `jobId` while its window is open, escrowing
    /// `challengeBond` (`msg.value` must equal it). The worker cannot challenge its own result.
    function challenge(uint256 jobId) external payable returns (uint256 gameId);

    /// @notice Reveals σ_index (0 < index ≤ n) of the current result of `jobId`: `tracePath` proves it at `index`
    /// of the trace root; for index n, `outputPath` proves that slot n of σ_n is the posted output root (it is
    /// ignored otherwise). Anyone may call; the value is cached for every game on this result.
    function revealState(
        uint256 jobId,
        uint32 index,
        bytes32 stateRoot,
        bytes32[] calldata tracePath,
        bytes32[] calldata outputPath
    ) external;

    /// @notice Reveals the tensor root of slot k + 1 in σ_{k+1}: `statePath` is the path of slot k + 1, with which an
    /// empty slot gives σ_k and `tensorRoot` gives σ_{k+1} (σ_k is σ_0 for k = 0, else the revealed σ_k).
    function revealTransition(uint256 jobId, uint32 k, bytes32 tensorRoot, bytes32[] calldata statePath) external;

    /// @notice Reveals the children of a tensor node of the current result of `jobId`.
    function revealNode(uint256 jobId, bytes32 node, bytes32 left, bytes32 right) external;

    /// @notice Reveals the 32 bytes of a tensor leaf of the current result of `jobId`.
    function revealLeaf(uint256 jobId, bytes32 leaf, bytes32 data) external;

    /// @notice Phase 1, challenger only: agree or disagree with the revealed σ_mid, mid = ⌊(lo + hi) / 2⌋.
    /// @param move The game's `moves` count this move answers.
    function bisect(uint256 gameId, uint32 move, bool agree) external;

    /// @notice Phase 2, challenger only: go down to the `right` (or left) child of the current tensor node.
    function pick(uint256 gameId, uint32 move, bool right) external;

    /// @notice Phase 2, challenger only, at the leaf: names the element at byte `offset` (< 32) of the revealed leaf.
    function nameElement(uint256 gameId, uint32 move, uint8 offset) external;

    /// @notice Phase 3, on the challenger's clock, callable by anyone (payouts go to the game's parties): computes
    /// the named element from the agreed σ_k and `witness`, and resolves the game. A padding element needs no
    /// witness (its true value is 0).
    function step(uint256 gameId, StepWitness calldata witness) external;

    /// @notice Resolves a game whose side to move has run out of time: that side loses. Anyone.
    function timeout(uint256 gameId) external;

    /// @notice Credits the challenger of an Active game on an overturned result its bond plus the share. Anyone.
    function claimMoot(uint256 gameId) external;

    /// @notice The game with this id; reverts `UnknownGame` for an id never opened.
    function getGame(uint256 gameId) external view returns (Game memory);

    /// @notice The dispute state of result `attempt` of `jobId`.
    function getDispute(uint256 jobId, uint32 attempt) external view returns (ResultDispute memory);

    /// @notice What an Active game waits for from the defender (`RevealKind.None`: the challenger is to move, or
    /// the game is over); `index` is the state index or op k, `hash` the node or leaf.
    function pendingReveal(uint256 gameId) external view returns (RevealKind kind, uint32 index, bytes32 hash);

    /// @notice Revealed σ_index of a result (zero if not revealed).
    function revealedState(uint256 jobId, uint32 attempt, uint32 index) external view returns (bytes32);

    /// @notice Revealed tensor root of slot k + 1 of a result (zero if not revealed).
    function revealedTransition(uint256 jobId, uint32 attempt, uint32 k) external view returns (bytes32);

    /// @notice Revealed children of a tensor node of a result (zeros if not revealed).
    function revealedNode(uint256 jobId, uint32 attempt, bytes32 node)
        external
        view
        returns (bytes32 left, bytes32 right);

    /// @notice Revealed data of a tensor leaf of a result, and whether it was revealed.
    function revealedLeaf(uint256 jobId, uint32 attempt, bytes32 leaf) external view returns (bool, bytes32);
}
