// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {TensorShape} from "../../src/lib/Types.sol";
import {Reference} from "./Reference.sol";

/// @notice A model made only of Clamp ops (PROTOCOL §2, code 0x03) over one shape: op k reads slot k, writes slot
/// k + 1, element = clamp(x, lo_k, hi_k). Its honest trace is trivial to compute, so dispute games over it can be
/// played by plain test code.
struct ClampModel {
    TensorShape shape;
    int8 zero;
    int8[] lo;
    int8[] hi;
    /// @dev ops[k] = [spec of op k] (a clamp has no weight rows).
    bytes[][] ops;
    bytes32 root;
}

/// @notice A trace as a worker (or a challenger) holds it: every slot's tensor as the data words of its tensor tree
/// (PROTOCOL §3: 32 bytes per leaf, rows aligned to leaves, padded to a power of two), and the final state over them.
/// A lie is any edit of `words` (a real element, a padding channel, even a padding leaf) before `seal`, or of
/// `stateLeaves` (a padding slot, say) before `sealState`.
struct Trace {
    TensorShape shape;
    uint32 n;
    /// @dev words[i]: the leaves' 32-byte data of slot i's tensor tree, 2^depth of them (padding leaves included).
    bytes32[][] words;
    bytes32[] slotRoots;
    /// @dev The leaves of σ_n's state tree: leaf(0x02, slotRoots[i]) for i ≤ n, then padding leaves leaf(0x02, 0) up
    /// to a power of two.
    bytes32[] stateLeaves;
    /// @dev σ_n: the root over `stateLeaves`.
    bytes32 finalState;
}

/// @notice Builds clamp-chain models and their traces, and every commitment and Merkle path a dispute game over
/// them needs, the plain way (independent of src/lib).
library ClampChain {
    uint8 internal constant TAG_TENSOR = 0x01;
    uint8 internal constant TAG_STATE = 0x02;
    uint8 internal constant TAG_TRACE = 0x03;

    // ------------------------------------------------------------------------------------------------------
    // Models
    // ------------------------------------------------------------------------------------------------------

    /// @notice [h, w, c].
    function shape(uint32 h, uint32 w, uint32 c) internal pure returns (TensorShape memory) {
        return TensorShape({h: h, w: w, c: c});
    }

    /// @notice The spec leaf of a clamp op: code | H | W | C | z_out | in | lo | hi (PROTOCOL §3.1).
    function spec(TensorShape memory s, int8 zero, uint16 input, int8 lo, int8 hi)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(uint8(0x03), s.h, s.w, s.c, zero, input, lo, hi);
    }

    /// @notice n = lo.length clamps over `s`, op k clamping to [lo[k], hi[k]].
    function model(TensorShape memory s, int8 zero, int8[] memory lo, int8[] memory hi)
        internal
        pure
        returns (ClampModel memory m)
    {
        require(lo.length == hi.length && lo.length > 0, "bounds");
        m.shape = s;
        m.zero = zero;
        m.lo = lo;
        m.hi = hi;
        m.ops = new bytes[][](lo.length);
        for (uint256 k = 0; k < lo.length; ++k) {
            m.ops[k] = new bytes[](1);
            // forge-lint: disable-next-line(unsafe-typecast)
            m.ops[k][0] = spec(s, zero, uint16(k), lo[k], hi[k]);
        }
        m.root = Reference.modelRoot(s, zero, s, m.ops);
    }

    /// @notice n clamps over `s` whose bounds narrow step by step (op k: [−120 + k·d, 120 − k·d], d = 100 / n),
    /// so every op changes some elements of a random input.
    function narrowing(TensorShape memory s, uint32 n) internal pure returns (ClampModel memory) {
        int8[] memory lo = new int8[](n);
        int8[] memory hi = new int8[](n);
        int256 d = int256(100 / uint256(n));
        for (uint256 k = 0; k < n; ++k) {
            // forge-lint: disable-next-line(unsafe-typecast)
            lo[k] = int8(-120 + int256(k) * d);
            // forge-lint: disable-next-line(unsafe-typecast)
            hi[k] = int8(120 - int256(k) * d);
        }
        return model(s, 0, lo, hi);
    }

    function opCount(ClampModel memory m) internal pure returns (uint32) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint32(m.lo.length);
    }

    function elementCount(TensorShape memory s) internal pure returns (uint256) {
        return uint256(s.h) * s.w * s.c;
    }

    // ------------------------------------------------------------------------------------------------------
    // Traces
    // ------------------------------------------------------------------------------------------------------

    /// @notice The honest trace of `m` on `input` (sealed).
    function honest(ClampModel memory m, bytes memory input) internal pure returns (Trace memory t) {
        uint32 n = opCount(m);
        t.shape = m.shape;
        t.n = n;
        t.words = new bytes32[][](n + 1);
        t.words[0] = encode(m.shape, input);
        propagate(t, m, 0);
        seal(t);
    }

    /// @notice Recomputes slots `from + 1 … n` from slot `from` by the model's ops (a lie in slot `from` then
    /// propagates, and the trace stays consistent after it). Call `seal` afterwards.
    function propagate(Trace memory t, ClampModel memory m, uint32 from) internal pure {
        for (uint32 k = from; k < t.n; ++k) {
            t.words[k + 1] = clampStep(t.shape, t.words[k], m.lo[k], m.hi[k]);
        }
    }

    /// @notice One clamp over a whole tensor: every real element clamped, padding channels and leaves zero.
    function clampStep(TensorShape memory s, bytes32[] memory input, int8 lo, int8 hi)
        internal
        pure
        returns (bytes32[] memory out)
    {
        out = new bytes32[](input.length);
        uint256 count = elementCount(s);
        for (uint256 e = 0; e < count; ++e) {
            int8 x = element(s, input, e);
            int8 y = x < lo ? lo : (x > hi ? hi : x);
            setElement(s, out, e, y);
        }
    }

    /// @notice The tensor of `data` (row-major, C bytes per row) as leaf words, padded to 2^depth leaves.
    function encode(TensorShape memory s, bytes memory data) internal pure returns (bytes32[] memory w) {
        require(data.length == elementCount(s), "length");
        w = new bytes32[](1 << depth(s));
        for (uint256 e = 0; e < data.length; ++e) {
            setElement(s, w, e, int8(uint8(data[e])));
        }
    }

    /// @notice The real elements of a tensor, row-major (what `submitResult` takes as the output).
    function decode(TensorShape memory s, bytes32[] memory w) internal pure returns (bytes memory data) {
        data = new bytes(elementCount(s));
        for (uint256 e = 0; e < data.length; ++e) {
            data[e] = bytes1(uint8(element(s, w, e)));
        }
    }

    /// @notice Row `row`'s C bytes (a witness row).
    function rowBytes(TensorShape memory s, bytes32[] memory w, uint256 row) internal pure returns (bytes memory r) {
        r = new bytes(s.c);
        for (uint256 c = 0; c < s.c; ++c) {
            r[c] = bytes1(uint8(element(s, w, row * s.c + c)));
        }
    }

    /// @notice ⌈C / 32⌉.
    function leavesPerRow(TensorShape memory s) internal pure returns (uint256) {
        return (uint256(s.c) + 31) / 32;
    }

    /// @notice The real leaves of a tensor: h·w·⌈C/32⌉.
    function leafCount(TensorShape memory s) internal pure returns (uint256) {
        return uint256(s.h) * s.w * leavesPerRow(s);
    }

    /// @notice The tensor tree's depth ⌈log2 leafCount⌉.
    function depth(TensorShape memory s) internal pure returns (uint256 d) {
        uint256 m = leafCount(s);
        while ((1 << d) < m) ++d;
    }

    /// @notice Leaf and byte offset of element e.
    function position(TensorShape memory s, uint256 e) internal pure returns (uint256 leaf, uint256 offset) {
        uint256 row = e / s.c;
        uint256 c = e % s.c;
        return (row * leavesPerRow(s) + c / 32, c % 32);
    }

    /// @notice Whether byte `offset` of leaf `leaf` is padding, and else its element index.
    function elementAt(TensorShape memory s, uint256 leaf, uint256 offset)
        internal
        pure
        returns (bool padding, uint256 e)
    {
        uint256 lpr = leavesPerRow(s);
        uint256 row = leaf / lpr;
        uint256 c = (leaf % lpr) * 32 + offset;
        if (row >= uint256(s.h) * s.w || c >= s.c) return (true, 0);
        return (false, row * s.c + c);
    }

    function element(TensorShape memory s, bytes32[] memory w, uint256 e) internal pure returns (int8) {
        (uint256 leaf, uint256 offset) = position(s, e);
        return int8(uint8(w[leaf][offset]));
    }

    function setElement(TensorShape memory s, bytes32[] memory w, uint256 e, int8 v) internal pure {
        (uint256 leaf, uint256 offset) = position(s, e);
        setByte(w, leaf, offset, uint8(v));
    }

    /// @notice Writes any byte of any leaf (padding channels and padding leaves included).
    function setByte(bytes32[] memory w, uint256 leaf, uint256 offset, uint8 v) internal pure {
        uint256 shift = 8 * (31 - offset);
        uint256 word = uint256(w[leaf]);
        word = (word & ~(uint256(0xff) << shift)) | (uint256(v) << shift);
        w[leaf] = bytes32(word);
    }

    /// @notice Computes every slot root, the state leaves and σ_n from `words`.
    function seal(Trace memory t) internal pure {
        uint256 slots = uint256(t.n) + 1;
        t.slotRoots = new bytes32[](slots);
        bytes32[] memory leaves = new bytes32[](slots);
        for (uint256 i = 0; i < slots; ++i) {
            t.slotRoots[i] = tensorRoot(t.words[i]);
            leaves[i] = Reference.leaf(TAG_STATE, abi.encodePacked(t.slotRoots[i]));
        }
        t.stateLeaves = pad(leaves, Reference.leaf(TAG_STATE, abi.encodePacked(bytes32(0))));
        sealState(t);
    }

    /// @notice Recomputes σ_n from `stateLeaves` (after a direct edit of a state leaf).
    function sealState(Trace memory t) internal pure {
        t.finalState = merkle(TAG_STATE, t.stateLeaves);
    }

    /// @notice The trace root `worker` posts for `t`: leaf(0x03, worker ‖ σ_n) (PROTOCOL §3).
    function traceRoot(Trace memory t, address worker) internal pure returns (bytes32) {
        return Reference.leaf(TAG_TRACE, abi.encodePacked(worker, t.finalState));
    }

    // ------------------------------------------------------------------------------------------------------
    // Commitments and paths
    // ------------------------------------------------------------------------------------------------------

    function tensorLeaves(bytes32[] memory w) internal pure returns (bytes32[] memory h) {
        h = new bytes32[](w.length);
        for (uint256 i = 0; i < w.length; ++i) {
            h[i] = Reference.leaf(TAG_TENSOR, abi.encodePacked(w[i]));
        }
    }

    function tensorRoot(bytes32[] memory w) internal pure returns (bytes32) {
        return merkle(TAG_TENSOR, tensorLeaves(w));
    }

    /// @notice The tensor node at (`d`, `index`) (d = 0: the root; d = depth: a leaf hash).
    function tensorNode(bytes32[] memory w, uint256 d, uint256 index) internal pure returns (bytes32) {
        return subtree(TAG_TENSOR, tensorLeaves(w), d, index);
    }

    function tensorPath(bytes32[] memory w, uint256 leaf) internal pure returns (bytes32[] memory) {
        return path(TAG_TENSOR, tensorLeaves(w), leaf);
    }

    /// @notice The tensor paths of row `row`'s ⌈C/32⌉ leaves, concatenated (a witness RowProof's path).
    function rowPath(TensorShape memory s, bytes32[] memory w, uint256 row) internal pure returns (bytes32[] memory p) {
        uint256 lpr = leavesPerRow(s);
        uint256 d = depth(s);
        p = new bytes32[](lpr * d);
        bytes32[] memory leaves = tensorLeaves(w);
        for (uint256 j = 0; j < lpr; ++j) {
            bytes32[] memory one = path(TAG_TENSOR, leaves, row * lpr + j);
            for (uint256 i = 0; i < d; ++i) {
                p[j * d + i] = one[i];
            }
        }
    }

    /// @notice The state tree's depth ⌈log2(n + 1)⌉.
    function stateDepth(Trace memory t) internal pure returns (uint256) {
        return log2(t.stateLeaves.length);
    }

    /// @notice The node at (`d`, `index`) of σ_n's state tree (d = 0: σ_n; d = depth: a state leaf).
    function stateNode(Trace memory t, uint256 d, uint256 index) internal pure returns (bytes32) {
        return subtree(TAG_STATE, t.stateLeaves, d, index);
    }

    /// @notice The path of slot `slot` in σ_n.
    function statePath(Trace memory t, uint256 slot) internal pure returns (bytes32[] memory) {
        return path(TAG_STATE, t.stateLeaves, slot);
    }

    /// @notice `leaves` extended with `padLeaf` to the next power of two.
    function pad(bytes32[] memory leaves, bytes32 padLeaf) internal pure returns (bytes32[] memory out) {
        uint256 width = 1;
        while (width < leaves.length) width <<= 1;
        out = new bytes32[](width);
        for (uint256 i = 0; i < width; ++i) {
            out[i] = i < leaves.length ? leaves[i] : padLeaf;
        }
    }

    /// @notice The root over a power-of-two list of leaf hashes.
    function merkle(uint8 tag, bytes32[] memory leaves) internal pure returns (bytes32) {
        return subtree(tag, leaves, 0, 0);
    }

    /// @notice The node at (`d` levels below the root, `index`) of the tree over a power-of-two list of leaf hashes.
    function subtree(uint8 tag, bytes32[] memory leaves, uint256 d, uint256 index) internal pure returns (bytes32) {
        uint256 total = log2(leaves.length);
        require(d <= total, "depth");
        uint256 width = 1 << (total - d);
        return _hash(tag, leaves, index * width, width);
    }

    /// @notice The siblings of leaf `index` from the bottom up.
    function path(uint8 tag, bytes32[] memory leaves, uint256 index) internal pure returns (bytes32[] memory p) {
        uint256 total = log2(leaves.length);
        p = new bytes32[](total);
        for (uint256 h = 0; h < total; ++h) {
            uint256 sibling = (index >> h) ^ 1;
            p[h] = subtree(tag, leaves, total - h, sibling);
        }
    }

    function log2(uint256 width) internal pure returns (uint256 d) {
        while ((1 << d) < width) ++d;
        require((1 << d) == width, "not a power of two");
    }

    function _hash(uint8 tag, bytes32[] memory leaves, uint256 start, uint256 width) private pure returns (bytes32) {
        if (width == 1) return leaves[start];
        uint256 half = width / 2;
        return Reference.node(tag, _hash(tag, leaves, start, half), _hash(tag, leaves, start + half, half));
    }
}
