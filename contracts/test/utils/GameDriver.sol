// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {DisputeGame} from "../../src/DisputeGame.sol";
import {JobMarket} from "../../src/JobMarket.sol";
import {RowProof, SlotProof, StepWitness} from "../../src/interfaces/IOneStepProver.sol";
import {Game, GamePhase, GameStatus, RevealKind, Tree} from "../../src/lib/Types.sol";
import {Base} from "../Base.t.sol";
import {ClampChain, Trace} from "./ClampChain.sol";

/// @notice Plays dispute games over clamp-chain results from test code: the defender side answers what
/// `pendingReveal` asks from its (possibly lying) trace; the challenger side moves from its own trace (in the final
/// state the leftmost child that differs, in the tensor the child that differs, names the first differing byte, and
/// proves the named element against the defender's final state from its own subtrees and the revealed nodes).
abstract contract GameDriver is Base {
    /// @notice A game was still Active after this many turns of `play` (a driver bug, not a contract property).
    uint256 internal constant MAX_TURNS = 200;

    JobMarket internal market;
    DisputeGame internal game;

    /// @notice Reveal transactions sent by `reveal` (and so by `defend` and `play`).
    uint256 internal defenderReveals;

    /// @notice Sets the market under test and its game.
    function useMarket(JobMarket market_) internal {
        market = market_;
        game = DisputeGame(payable(address(market_.game())));
    }

    // ------------------------------------------------------------------------------------------------------
    // Defender
    // ------------------------------------------------------------------------------------------------------

    /// @notice Sends every reveal game `gameId` waits for, from the defender's trace `t`, until the challenger is
    /// to move. Returns how many it sent.
    function defend(uint256 gameId, Trace memory t) internal returns (uint256 count) {
        for (uint256 i = 0; i < MAX_TURNS; ++i) {
            (RevealKind kind, Tree tree, bytes32 hash) = game.pendingReveal(gameId);
            if (kind == RevealKind.None) return count;
            reveal(gameId, t, kind, tree, hash);
            ++count;
        }
        revert("defend: no end");
    }

    /// @notice One reveal of `kind` for game `gameId` from trace `t`, sent by the game's defender.
    function reveal(uint256 gameId, Trace memory t, RevealKind kind, Tree tree, bytes32 hash) internal {
        Game memory g = game.getGame(gameId);
        ++defenderReveals;
        if (kind == RevealKind.Opening) {
            bytes32[] memory outputPath = ClampChain.statePath(t, t.n);
            vm.prank(g.defender);
            game.revealOpening(g.jobId, t.finalState, outputPath);
        } else if (kind == RevealKind.Node && tree == Tree.State) {
            assertEq(ClampChain.stateNode(t, g.depth, g.index), hash, "driver: state node asked is the defender's");
            bytes32 left = ClampChain.stateNode(t, uint256(g.depth) + 1, uint256(g.index) * 2);
            bytes32 right = ClampChain.stateNode(t, uint256(g.depth) + 1, uint256(g.index) * 2 + 1);
            vm.prank(g.defender);
            game.revealNode(g.jobId, Tree.State, hash, left, right);
        } else if (kind == RevealKind.Slot) {
            vm.prank(g.defender);
            game.revealSlot(g.jobId, hash, t.slotRoots[g.slot]);
        } else if (kind == RevealKind.Node) {
            bytes32[] memory words = t.words[g.slot];
            assertEq(
                ClampChain.tensorNode(words, g.depth, g.index), hash, "driver: tensor node asked is the defender's"
            );
            bytes32 left = ClampChain.tensorNode(words, uint256(g.depth) + 1, uint256(g.index) * 2);
            bytes32 right = ClampChain.tensorNode(words, uint256(g.depth) + 1, uint256(g.index) * 2 + 1);
            vm.prank(g.defender);
            game.revealNode(g.jobId, Tree.Tensor, hash, left, right);
        } else if (kind == RevealKind.Leaf) {
            vm.prank(g.defender);
            game.revealLeaf(g.jobId, hash, t.words[g.slot][g.index]);
        } else {
            revert("reveal: nothing asked");
        }
    }

    // ------------------------------------------------------------------------------------------------------
    // Challenger
    // ------------------------------------------------------------------------------------------------------

    /// @notice The challenger's next move in game `gameId` from its own trace `mine`, sent by the challenger.
    function attack(uint256 gameId, Trace memory mine) internal {
        attackAs(gameId, mine, game.getGame(gameId).challenger);
    }

    /// @notice The challenger's next move, sent by `sender` (only `step` may be relayed by someone else).
    function attackAs(uint256 gameId, Trace memory mine, address sender) internal {
        Game memory g = game.getGame(gameId);
        if (g.phase == GamePhase.Slots) {
            bytes32 node = g.depth == 0 ? game.revealedOpening(g.jobId, g.attempt) : g.node;
            (bytes32 left,) = game.revealedNode(g.jobId, g.attempt, node);
            // The leftmost side that differs: left if the left child differs, else right.
            bool right = left == ClampChain.stateNode(mine, uint256(g.depth) + 1, uint256(g.index) * 2);
            vm.prank(sender);
            game.pick(gameId, g.moves, right);
        } else if (g.phase == GamePhase.Tensor) {
            bytes32 node = g.node;
            if (g.depth == 0) (, node) = game.revealedSlot(g.jobId, g.attempt, g.node);
            bytes32[] memory words = mine.words[g.slot];
            if (g.depth < g.leafDepth) {
                (bytes32 left,) = game.revealedNode(g.jobId, g.attempt, node);
                bool right = left == ClampChain.tensorNode(words, uint256(g.depth) + 1, uint256(g.index) * 2);
                vm.prank(sender);
                game.pick(gameId, g.moves, right);
            } else {
                (, bytes32 data) = game.revealedLeaf(g.jobId, g.attempt, node);
                vm.prank(sender);
                game.nameElement(gameId, g.moves, firstDifference(data, words[g.index]));
            }
        } else {
            StepWitness memory w = witness(mine, g);
            vm.prank(sender);
            game.step(gameId, w);
        }
    }

    /// @notice The first byte at which two leaves differ (0 when they are equal).
    function firstDifference(bytes32 a, bytes32 b) internal pure returns (uint8) {
        for (uint8 i = 0; i < 32; ++i) {
            if (a[i] != b[i]) return i;
        }
        return 0;
    }

    /// @notice The clamp witness of the element game `g` named, from trace `mine`: operand slot k = slot − 1 (every
    /// slot left of the disputed one is the challenger's own) with its path in the defender's final state, and the
    /// input row of the element with its leaves' paths. A padding element gets the empty witness.
    function witness(Trace memory mine, Game memory g) internal view returns (StepWitness memory w) {
        (bool padding, uint256 e) = ClampChain.elementAt(mine.shape, g.index, g.offset);
        if (padding) return w;
        uint256 k = g.slot - 1;
        w.slots = new SlotProof[](1);
        w.slots[0] = SlotProof({root: mine.slotRoots[k], path: defenderStatePath(g, mine, k)});
        uint256 row = e / mine.shape.c;
        w.rows = new RowProof[](1);
        w.rows[0] = RowProof({
            data: ClampChain.rowBytes(mine.shape, mine.words[k], row),
            path: ClampChain.rowPath(mine.shape, mine.words[k], row)
        });
    }

    /// @notice The path of slot `s` (< the game's slot j) in the defender's final state, as a challenger builds it:
    /// a sibling whose parent lies on the walk to j is a revealed child (the defender's); every other sibling lies
    /// left of the walk, in subtrees the challenger agreed to, and is its own.
    function defenderStatePath(Game memory g, Trace memory mine, uint256 s) internal view returns (bytes32[] memory p) {
        uint256 depth = ClampChain.stateDepth(mine);
        p = ClampChain.statePath(mine, s);
        uint256 j = g.slot;
        bytes32 node = game.revealedOpening(g.jobId, g.attempt);
        for (uint256 t = 1; t <= depth; ++t) {
            // The parent of s's ancestor at depth t is on the walk while s and j share it.
            if (s >> (depth - t + 1) != j >> (depth - t + 1)) break;
            (bytes32 left, bytes32 right) = game.revealedNode(g.jobId, g.attempt, node);
            p[depth - t] = (s >> (depth - t)) & 1 == 1 ? left : right;
            node = (j >> (depth - t)) & 1 == 1 ? right : left;
        }
    }

    /// @notice Whether game `gameId` can still be moved (Active and its result still stands).
    function live(uint256 gameId) internal view returns (bool) {
        Game memory g = game.getGame(gameId);
        return g.status == GameStatus.Active && !game.getDispute(g.jobId, g.attempt).overturned;
    }

    /// @notice Plays game `gameId` to its end: the defender from `theirs`, the challenger from `mine`, one second
    /// between turns. Every reveal and move must be possible (use the single steps for games where one is not).
    function play(uint256 gameId, Trace memory theirs, Trace memory mine) internal returns (GameStatus) {
        for (uint256 i = 0; i < MAX_TURNS && live(gameId); ++i) {
            vm.warp(block.timestamp + 1);
            (RevealKind kind,,) = game.pendingReveal(gameId);
            if (kind != RevealKind.None) defend(gameId, theirs);
            else attack(gameId, mine);
        }
        return game.getGame(gameId).status;
    }
}
