// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {JobMarket} from "../../src/JobMarket.sol";
import {RowProof, SlotProof, StepWitness} from "../../src/interfaces/IOneStepProver.sol";
import {Game, GamePhase, GameStatus, RevealKind} from "../../src/lib/Types.sol";
import {Base} from "../Base.t.sol";
import {ClampChain, Trace} from "./ClampChain.sol";

/// @notice Plays dispute games over clamp-chain results from test code: the defender side answers what
/// `pendingReveal` asks from its (possibly lying) trace; the challenger side moves from its own trace (agree iff the
/// revealed σ_mid is its own, pick the child that differs, name the first differing byte, prove the named element).
abstract contract GameDriver is Base {
    /// @notice A game was still Active after this many turns of `play` (a driver bug, not a contract property).
    uint256 internal constant MAX_TURNS = 200;

    JobMarket internal market;

    /// @notice Reveal transactions sent by `reveal` (and so by `defend` and `play`).
    uint256 internal defenderReveals;

    // ------------------------------------------------------------------------------------------------------
    // Defender
    // ------------------------------------------------------------------------------------------------------

    /// @notice Sends every reveal game `gameId` waits for, from the defender's trace `t`, until the challenger is
    /// to move. Returns how many it sent.
    function defend(uint256 gameId, Trace memory t) internal returns (uint256 count) {
        for (uint256 i = 0; i < MAX_TURNS; ++i) {
            (RevealKind kind, uint32 index, bytes32 hash) = market.pendingReveal(gameId);
            if (kind == RevealKind.None) return count;
            reveal(gameId, t, kind, index, hash);
            ++count;
        }
        revert("defend: no end");
    }

    /// @notice One reveal of `kind` for game `gameId` from trace `t`, sent by the game's defender.
    function reveal(uint256 gameId, Trace memory t, RevealKind kind, uint32 index, bytes32 hash) internal {
        Game memory g = market.getGame(gameId);
        ++defenderReveals;
        if (kind == RevealKind.State) {
            bytes32[] memory outputPath = index == t.n ? ClampChain.statePath(t, t.n, t.n) : new bytes32[](0);
            vm.prank(g.defender);
            market.revealState(g.jobId, index, t.sigma[index], ClampChain.tracePath(t, index), outputPath);
        } else if (kind == RevealKind.Transition) {
            vm.prank(g.defender);
            market.revealTransition(
                g.jobId, index, t.slotRoots[index + 1], ClampChain.statePath(t, uint256(index) + 1, uint256(index) + 1)
            );
        } else if (kind == RevealKind.Node) {
            bytes32[] memory words = t.words[g.lo + 1];
            assertEq(ClampChain.tensorNode(words, g.depth, g.index), hash, "driver: node asked is the defender's");
            bytes32 left = ClampChain.tensorNode(words, uint256(g.depth) + 1, uint256(g.index) * 2);
            bytes32 right = ClampChain.tensorNode(words, uint256(g.depth) + 1, uint256(g.index) * 2 + 1);
            vm.prank(g.defender);
            market.revealNode(g.jobId, hash, left, right);
        } else if (kind == RevealKind.Leaf) {
            vm.prank(g.defender);
            market.revealLeaf(g.jobId, hash, t.words[g.lo + 1][g.index]);
        } else {
            revert("reveal: nothing asked");
        }
    }

    // ------------------------------------------------------------------------------------------------------
    // Challenger
    // ------------------------------------------------------------------------------------------------------

    /// @notice The challenger's next move in game `gameId` from its own trace `mine`, sent by the challenger.
    function attack(uint256 gameId, Trace memory mine) internal {
        attackAs(gameId, mine, market.getGame(gameId).challenger);
    }

    /// @notice The challenger's next move, sent by `sender` (only `step` may be relayed by someone else).
    function attackAs(uint256 gameId, Trace memory mine, address sender) internal {
        Game memory g = market.getGame(gameId);
        if (g.phase == GamePhase.Bisect) {
            uint32 mid = (g.lo + g.hi) / 2;
            bool agree = market.revealedState(g.jobId, g.attempt, mid) == mine.sigma[mid];
            vm.prank(sender);
            market.bisect(gameId, g.moves, agree);
        } else if (g.phase == GamePhase.Tensor) {
            bytes32 node = g.depth == 0 ? market.revealedTransition(g.jobId, g.attempt, g.lo) : g.node;
            bytes32[] memory words = mine.words[g.lo + 1];
            if (g.depth < g.leafDepth) {
                (bytes32 left,) = market.revealedNode(g.jobId, g.attempt, node);
                bool right = left == ClampChain.tensorNode(words, uint256(g.depth) + 1, uint256(g.index) * 2);
                vm.prank(sender);
                market.pick(gameId, g.moves, right);
            } else {
                (, bytes32 data) = market.revealedLeaf(g.jobId, g.attempt, node);
                vm.prank(sender);
                market.nameElement(gameId, g.moves, firstDifference(data, words[g.index]));
            }
        } else {
            StepWitness memory w = witness(mine, g);
            vm.prank(sender);
            market.step(gameId, w);
        }
    }

    /// @notice The first byte at which two leaves differ (0 when they are equal).
    function firstDifference(bytes32 a, bytes32 b) internal pure returns (uint8) {
        for (uint8 i = 0; i < 32; ++i) {
            if (a[i] != b[i]) return i;
        }
        return 0;
    }

    /// @notice The clamp witness of the element game `g` named, from trace `mine` (σ_k agreed, so slot k is the
    /// defender's too): slot k's root and path in σ_k, and the input row of the element with its leaves' paths.
    /// A padding element gets the empty witness.
    function witness(Trace memory mine, Game memory g) internal pure returns (StepWitness memory w) {
        (bool padding, uint256 e) = ClampChain.elementAt(mine.shape, g.index, g.offset);
        if (padding) return w;
        uint32 k = g.lo;
        w.slots = new SlotProof[](1);
        w.slots[0] = SlotProof({root: mine.slotRoots[k], path: ClampChain.statePath(mine, k, k)});
        uint256 row = e / mine.shape.c;
        w.rows = new RowProof[](1);
        w.rows[0] = RowProof({
            data: ClampChain.rowBytes(mine.shape, mine.words[k], row),
            path: ClampChain.rowPath(mine.shape, mine.words[k], row)
        });
    }

    /// @notice Whether game `gameId` can still be moved (Active and its result still stands).
    function live(uint256 gameId) internal view returns (bool) {
        Game memory g = market.getGame(gameId);
        return g.status == GameStatus.Active && !market.getDispute(g.jobId, g.attempt).overturned;
    }

    /// @notice Plays game `gameId` to its end: the defender from `theirs`, the challenger from `mine`, one second
    /// between turns. Every reveal and move must be possible (use the single steps for games where one is not).
    function play(uint256 gameId, Trace memory theirs, Trace memory mine) internal returns (GameStatus) {
        for (uint256 i = 0; i < MAX_TURNS && live(gameId); ++i) {
            vm.warp(block.timestamp + 1);
            (RevealKind kind,,) = market.pendingReveal(gameId);
            if (kind != RevealKind.None) defend(gameId, theirs);
            else attack(gameId, mine);
        }
        return market.getGame(gameId).status;
    }
}
