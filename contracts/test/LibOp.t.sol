// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {BadSpecLength, UnknownOpCode} from "../src/lib/Errors.sol";
import {LibOp, OpSpec} from "../src/lib/LibOp.sol";
import {TensorShape} from "../src/lib/Types.sol";
import {Base} from "./Base.t.sol";
import {OpFixture, TestOp, TestRow} from "./utils/OpFixture.sol";

/// @notice Exposes LibOp as external calls (so reverts can be expected).
contract OpHarness {
    function decode(bytes memory spec) external pure returns (OpSpec memory) {
        return LibOp.decode(spec);
    }

    function outShape(bytes memory spec) external pure returns (TensorShape memory) {
        return LibOp.outShape(spec);
    }

    function specLength(uint8 code) external pure returns (uint256) {
        return LibOp.specLength(code);
    }
}

contract LibOpTest is Base {
    OpHarness internal harness;

    function setUp() public {
        harness = new OpHarness();
    }

    /// @notice An op of every code with distinct, sign-testing field values (the encoder is OpFixture.spec, which
    /// writes PROTOCOL §3.1 with abi.encodePacked).
    function _ops() internal pure returns (TestOp[7] memory ops) {
        TensorShape memory out = OpFixture.shape(0x01020304, 0x0a0b0c0d, 0x7fffffff);
        TestRow[] memory none = new TestRow[](0);
        ops[0] = OpFixture.dense(0x1234, -128, none, -1, -100, 127);
        ops[0].out = out;
        ops[1] = OpFixture.conv2d(0xfffe, 127, [uint8(1), 2, 3, 4, 5, 255], out, none, -2, -3, 4);
        ops[2] = OpFixture.clamp(7, out, -9, -10, 11);
        ops[3] = OpFixture.maxPool(65_535, [uint8(9), 8, 7, 6, 5, 4], out, 12);
        ops[4] = OpFixture.avgPool(
            3,
            -13,
            [uint8(2), 3, 1, 2, 0, 1],
            out,
            TestRow({bias: 0, m: -2_000_000_000, s: 62, weights: ""}),
            14,
            -15,
            16
        );
        ops[5] = OpFixture.add(0x0102, -17, type(int32).max, 0x0304, -18, type(int32).min, 61, out, -19, -20, 21);
        ops[6] = OpFixture.reshape(0x0a0b, out, -22);
    }

    function _assertShape(TensorShape memory a, TensorShape memory b, string memory what) internal pure {
        assertEq(a.h, b.h, string.concat(what, ".h"));
        assertEq(a.w, b.w, string.concat(what, ".w"));
        assertEq(a.c, b.c, string.concat(what, ".c"));
    }

    /// @notice Every field decode reads, against the op it was encoded from (fields a code lacks must be zero).
    function _assertDecoded(TestOp memory t, OpSpec memory d) internal pure {
        assertEq(d.code, t.code, "code");
        _assertShape(d.out, t.out, "out");
        assertEqInt(d.zOut, t.zOut, "zOut");
        assertEq(d.input, t.a, "input");
        bool window = t.code == OpFixture.CONV2D || t.code == OpFixture.MAXPOOL || t.code == OpFixture.AVGPOOL;
        bool zx = t.code == OpFixture.DENSE || t.code == OpFixture.CONV2D || t.code == OpFixture.AVGPOOL
            || t.code == OpFixture.ADD;
        bool clamps = t.code != OpFixture.MAXPOOL && t.code != OpFixture.RESHAPE;
        bool requant = t.code == OpFixture.AVGPOOL || t.code == OpFixture.ADD;
        assertEqInt(d.zX, zx ? t.zA : int8(0), "zX");
        assertEqInt(d.lo, clamps ? t.lo : int8(0), "lo");
        assertEqInt(d.hi, clamps ? t.hi : int8(0), "hi");
        assertEq(d.kh, window ? t.kh : 0, "kh");
        assertEq(d.kw, window ? t.kw : 0, "kw");
        assertEq(d.sh, window ? t.sh : 0, "sh");
        assertEq(d.sw, window ? t.sw : 0, "sw");
        assertEq(d.pt, window ? t.pt : 0, "pt");
        assertEq(d.pl, window ? t.pl : 0, "pl");
        assertEqInt(d.multiplier, requant ? t.mA : int32(0), "multiplier");
        assertEq(d.shift, requant ? t.s : 0, "shift");
        bool add = t.code == OpFixture.ADD;
        assertEq(d.inputB, add ? t.b : 0, "inputB");
        assertEqInt(d.zB, add ? t.zB : int8(0), "zB");
        assertEqInt(d.multiplierB, add ? t.mB : int32(0), "multiplierB");
    }

    function test_decode_everyCode_succeeds() public view {
        TestOp[7] memory ops = _ops();
        uint256[7] memory lengths = [uint256(19), 25, 18, 22, 30, 31, 16];
        for (uint256 i = 0; i < 7; ++i) {
            bytes memory spec = OpFixture.spec(ops[i]);
            assertEq(spec.length, lengths[i], "PROTOCOL 3.1 length");
            assertEq(harness.specLength(ops[i].code), lengths[i], "specLength");
            _assertDecoded(ops[i], harness.decode(spec));
            _assertShape(harness.outShape(spec), ops[i].out, "outShape");
        }
    }

    function test_decode_addByHand_succeeds() public view {
        // Add [1, 2, 3] z_out = −1: a = 5, z_a = −2, M_a = 2^30; b = 6, z_b = 3, M_b = 1; s = 31, lo = −128, hi = 127.
        bytes memory spec = hex"06" hex"00000001" hex"00000002" hex"00000003" hex"ff" hex"0005" hex"fe" hex"40000000"
            hex"0006" hex"03" hex"00000001" hex"1f" hex"80" hex"7f";
        OpSpec memory d = harness.decode(spec);
        assertEq(d.code, 6, "code");
        _assertShape(d.out, OpFixture.shape(1, 2, 3), "out");
        assertEqInt(d.zOut, -1, "zOut");
        assertEq(d.input, 5, "a");
        assertEqInt(d.zX, -2, "z_a");
        assertEqInt(d.multiplier, 1 << 30, "M_a");
        assertEq(d.inputB, 6, "b");
        assertEqInt(d.zB, 3, "z_b");
        assertEqInt(d.multiplierB, 1, "M_b");
        assertEq(d.shift, 31, "s");
        assertEqInt(d.lo, -128, "lo");
        assertEqInt(d.hi, 127, "hi");
    }

    function testFuzz_decode_avgPoolAndAdd_roundTrip_succeeds(uint256 seed) public view {
        TestOp[7] memory ops = _ops();
        bytes32 r = keccak256(abi.encode(seed));
        TensorShape memory out = OpFixture.shape(uint32(bytes4(r)), uint32(bytes4(r << 32)), uint32(bytes4(r << 64)));
        TestOp memory avg = ops[4];
        avg.out = out;
        avg.zOut = int8(uint8(r[12]));
        avg.a = uint16(bytes2(r << 104));
        avg.zA = int8(uint8(r[14]));
        avg.kh = uint8(r[15]);
        avg.kw = uint8(r[16]);
        avg.sh = uint8(r[17]);
        avg.sw = uint8(r[18]);
        avg.pt = uint8(r[19]);
        avg.pl = uint8(r[20]);
        avg.mA = int32(uint32(bytes4(r << 168)));
        avg.s = uint8(r[25]);
        avg.lo = int8(uint8(r[26]));
        avg.hi = int8(uint8(r[27]));
        _assertDecoded(avg, harness.decode(OpFixture.spec(avg)));

        TestOp memory add = ops[5];
        add.out = out;
        add.zOut = avg.zOut;
        add.a = avg.a;
        add.zA = avg.zA;
        add.mA = avg.mA;
        add.b = uint16(bytes2(r << 224));
        add.zB = int8(uint8(r[30]));
        add.mB = int32(uint32(bytes4(keccak256(abi.encode(r)))));
        add.s = avg.s;
        add.lo = avg.lo;
        add.hi = avg.hi;
        _assertDecoded(add, harness.decode(OpFixture.spec(add)));
    }

    function test_decode_unknownCode_reverts() public {
        uint8[4] memory codes = [uint8(0), 8, 0x11, 0xff];
        for (uint256 i = 0; i < codes.length; ++i) {
            bytes memory spec = bytes.concat(bytes1(codes[i]), new bytes(20));
            vm.expectRevert(abi.encodeWithSelector(UnknownOpCode.selector, codes[i]));
            harness.decode(spec);
            vm.expectRevert(abi.encodeWithSelector(UnknownOpCode.selector, codes[i]));
            harness.outShape(spec);
        }
    }

    function test_decode_wrongLength_reverts() public {
        TestOp[7] memory ops = _ops();
        for (uint256 i = 0; i < 7; ++i) {
            bytes memory spec = OpFixture.spec(ops[i]);
            bytes memory longer = bytes.concat(spec, hex"00");
            vm.expectRevert(abi.encodeWithSelector(BadSpecLength.selector, ops[i].code, spec.length + 1, spec.length));
            harness.decode(longer);
            vm.expectRevert(abi.encodeWithSelector(BadSpecLength.selector, ops[i].code, spec.length + 1, spec.length));
            harness.outShape(longer);
            if (spec.length - 1 >= LibOp.HEADER_LEN) {
                bytes memory shorter = new bytes(spec.length - 1);
                for (uint256 j = 0; j < shorter.length; ++j) {
                    shorter[j] = spec[j];
                }
                vm.expectRevert(
                    abi.encodeWithSelector(BadSpecLength.selector, ops[i].code, spec.length - 1, spec.length)
                );
                harness.decode(shorter);
            }
        }
    }

    function test_decode_shorterThanHeader_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(BadSpecLength.selector, 0, 0, 14));
        harness.decode("");
        vm.expectRevert(abi.encodeWithSelector(BadSpecLength.selector, 3, 13, 14));
        harness.decode(hex"03000000010000000100000001");
        vm.expectRevert(abi.encodeWithSelector(BadSpecLength.selector, 7, 1, 14));
        harness.outShape(hex"07");
    }

    function test_elementCount_noOverflow_succeeds() public pure {
        TensorShape memory s = OpFixture.shape(type(uint32).max, type(uint32).max, type(uint32).max);
        assertEq(LibOp.elementCount(s), uint256(type(uint32).max) ** 3, "2^96-ish");
        assertEq(LibOp.elementCount(OpFixture.shape(2, 3, 4)), 24, "2*3*4");
    }
}
