// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {BadSpecLength, UnknownOpCode} from "./Errors.sol";
import {TensorShape} from "./Types.sol";

/// @notice An op spec (leaf 0 of an op tree, PROTOCOL §3.1), decoded. Fields an op code does not have are zero.
struct OpSpec {
    /// @dev Op code, 0x01 … 0x07 (LibOp.DENSE … LibOp.RESHAPE).
    uint8 code;
    /// @dev Shape of the output tensor (slot k + 1 of op k).
    TensorShape out;
    /// @dev Zero point of the output tensor.
    int8 zOut;
    /// @dev The slot read (Add: operand a).
    uint16 input;
    /// @dev The input's zero point z_x (Dense, Conv2d, AvgPool; Add: z_a).
    int8 zX;
    /// @dev Clamp bounds (Dense, Conv2d, Clamp, AvgPool, Add).
    int8 lo;
    int8 hi;
    /// @dev Window: kernel, strides, top/left padding (Conv2d, MaxPool, AvgPool).
    uint8 kh;
    uint8 kw;
    uint8 sh;
    uint8 sw;
    uint8 pt;
    uint8 pl;
    /// @dev Multiplier M (AvgPool; Add: M_a) and shift s (AvgPool, Add).
    int32 multiplier;
    uint8 shift;
    /// @dev Add only: operand b's slot, zero point and multiplier.
    uint16 inputB;
    int8 zB;
    int32 multiplierB;
}

/// @title LibOp
/// @notice Decodes op specs (PROTOCOL §3.1). All integers big-endian. Every spec starts with the 14-byte header
/// `code u8 | out.H u32 | out.W u32 | out.C u32 | z_out i8`, then, per code:
///   Dense   (0x01): in u16 | z_x i8 | lo i8 | hi i8                                              19 bytes
///   Conv2d  (0x02): in u16 | z_x i8 | lo i8 | hi i8 | kh u8 | kw u8 | sh u8 | sw u8 | pt u8 | pl u8  25 bytes
///   Clamp   (0x03): in u16 | lo i8 | hi i8                                                         18 bytes
///   MaxPool (0x04): in u16 | kh u8 | kw u8 | sh u8 | sw u8 | pt u8 | pl u8                         22 bytes
///   AvgPool (0x05): in u16 | z_x i8 | kh … pl (6 × u8) | M i32 | s u8 | lo i8 | hi i8               30 bytes
///   Add     (0x06): a u16 | z_a i8 | M_a i32 | b u16 | z_b i8 | M_b i32 | s u8 | lo i8 | hi i8      31 bytes
///   Reshape (0x07): in u16                                                                         16 bytes
/// A spec of an unknown code, or of another length than its code's, is refused (`UnknownOpCode`, `BadSpecLength`):
/// the encoding is canonical, one op has one spec.
library LibOp {
    uint8 internal constant DENSE = 0x01;
    uint8 internal constant CONV2D = 0x02;
    uint8 internal constant CLAMP = 0x03;
    uint8 internal constant MAXPOOL = 0x04;
    uint8 internal constant AVGPOOL = 0x05;
    uint8 internal constant ADD = 0x06;
    uint8 internal constant RESHAPE = 0x07;

    /// @notice Bytes of the common header.
    uint256 internal constant HEADER_LEN = 14;

    /// @notice The exact length of a spec of op code `code`; reverts `UnknownOpCode` for a code §3.1 does not define.
    function specLength(uint8 code) internal pure returns (uint256) {
        if (code == DENSE) return 19;
        if (code == CONV2D) return 25;
        if (code == CLAMP) return 18;
        if (code == MAXPOOL) return 22;
        if (code == AVGPOOL) return 30;
        if (code == ADD) return 31;
        if (code == RESHAPE) return 16;
        // INVARIANT: only the op set of PROTOCOL §2 exists.
        revert UnknownOpCode(code);
    }

    /// @notice The output shape of a well-formed spec (only the header is read; code and length are checked).
    /// @dev Reverts `BadSpecLength` or `UnknownOpCode` like `decode`.
    function outShape(bytes memory spec) internal pure returns (TensorShape memory out) {
        _checkLength(spec);
        out = TensorShape({h: _u32(spec, 1), w: _u32(spec, 5), c: _u32(spec, 9)});
    }

    /// @notice Decodes a spec; reverts `BadSpecLength` or `UnknownOpCode` unless it is well-formed.
    function decode(bytes memory spec) internal pure returns (OpSpec memory op) {
        uint8 code = _checkLength(spec);
        op.code = code;
        op.out = TensorShape({h: _u32(spec, 1), w: _u32(spec, 5), c: _u32(spec, 9)});
        op.zOut = _i8(spec, 13);
        // Every code but Add reads its slot right after the header; Add's a is there too.
        op.input = _u16(spec, 14);
        if (code == DENSE || code == CONV2D) {
            op.zX = _i8(spec, 16);
            op.lo = _i8(spec, 17);
            op.hi = _i8(spec, 18);
            if (code == CONV2D) _window(op, spec, 19);
        } else if (code == CLAMP) {
            op.lo = _i8(spec, 16);
            op.hi = _i8(spec, 17);
        } else if (code == MAXPOOL) {
            _window(op, spec, 16);
        } else if (code == AVGPOOL) {
            op.zX = _i8(spec, 16);
            _window(op, spec, 17);
            op.multiplier = _i32(spec, 23);
            op.shift = _u8(spec, 27);
            op.lo = _i8(spec, 28);
            op.hi = _i8(spec, 29);
        } else if (code == ADD) {
            op.zX = _i8(spec, 16);
            op.multiplier = _i32(spec, 17);
            op.inputB = _u16(spec, 21);
            op.zB = _i8(spec, 23);
            op.multiplierB = _i32(spec, 24);
            op.shift = _u8(spec, 28);
            op.lo = _i8(spec, 29);
            op.hi = _i8(spec, 30);
        }
        // RESHAPE: nothing past its input slot.
    }

    /// @notice Element count h·w·c of a shape (< 2^96: no overflow).
    function elementCount(TensorShape memory s) internal pure returns (uint256) {
        return uint256(s.h) * s.w * s.c;
    }

    /// @dev Checks the spec has its code's exact length; returns the code.
    function _checkLength(bytes memory spec) private pure returns (uint8 code) {
        // INVARIANT: a spec holds at least the header (so the code and the shape can be read).
        if (spec.length < HEADER_LEN) {
            revert BadSpecLength(spec.length == 0 ? 0 : _u8(spec, 0), spec.length, HEADER_LEN);
        }
        code = _u8(spec, 0);
        uint256 expected = specLength(code);
        // INVARIANT: one encoding per op: exactly the code's fields, nothing trailing.
        if (spec.length != expected) revert BadSpecLength(code, spec.length, expected);
    }

    function _window(OpSpec memory op, bytes memory spec, uint256 off) private pure {
        op.kh = _u8(spec, off);
        op.kw = _u8(spec, off + 1);
        op.sh = _u8(spec, off + 2);
        op.sw = _u8(spec, off + 3);
        op.pt = _u8(spec, off + 4);
        op.pl = _u8(spec, off + 5);
    }

    /// @dev The big-endian unsigned integer in bytes `off … off + n − 1` of `b` (n ≤ 32). The caller has checked
    /// `off + n ≤ b.length`; the word load may read past the end of `b`, but those bytes are shifted out.
    function _at(bytes memory b, uint256 off, uint256 n) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := shr(sub(256, shl(3, n)), mload(add(add(b, 0x20), off)))
        }
    }

    function _u8(bytes memory b, uint256 off) private pure returns (uint8) {
        // casting to 'uint8' is safe because one byte is below 2^8.
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint8(_at(b, off, 1));
    }

    function _u16(bytes memory b, uint256 off) private pure returns (uint16) {
        // casting to 'uint16' is safe because two bytes are below 2^16.
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint16(_at(b, off, 2));
    }

    function _u32(bytes memory b, uint256 off) private pure returns (uint32) {
        // casting to 'uint32' is safe because four bytes are below 2^32.
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint32(_at(b, off, 4));
    }

    /// @dev One byte as two's complement.
    function _i8(bytes memory b, uint256 off) private pure returns (int8) {
        return int8(_u8(b, off));
    }

    /// @dev Four bytes as two's complement.
    function _i32(bytes memory b, uint256 off) private pure returns (int32) {
        return int32(_u32(b, off));
    }
}
