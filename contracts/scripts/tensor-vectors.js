#!/usr/bin/env node
// Independent tensor-root and model-root vectors for test/LibTensor.t.sol and test/ModelRegistry.t.sol, from
// PROTOCOL §3 (v2) with js-sha3 (a solc dependency, so `npm ci` brings it). Run: node scripts/tensor-vectors.js
'use strict';
const { keccak256 } = require('js-sha3');

const hash = (bytes) => Buffer.from(keccak256.arrayBuffer(bytes));
const leaf = (tag, data) => hash(Buffer.concat([Buffer.from([0x00, tag]), data]));
const node = (tag, l, r) => hash(Buffer.concat([Buffer.from([0x01, tag]), l, r]));

function merkle(tag, leaves, pad) {
  let width = 1;
  while (width < leaves.length) width *= 2;
  let level = leaves.concat(Array(width - leaves.length).fill(pad));
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i < level.length; i += 2) next.push(node(tag, level[i], level[i + 1]));
    level = next;
  }
  return level[0];
}

// The Rust `tensor_leaves`: rows of `rowLen` bytes, each row in 32-byte chunks, the last one zero-filled.
// A 1-D (v1) tensor is one row: rowLen = data.length.
function tensorRoot(data, rowLen = data.length) {
  if (rowLen === 0 || data.length % rowLen !== 0) throw new Error('ragged');
  const leaves = [];
  for (let r = 0; r < data.length; r += rowLen) {
    for (let i = r; i < r + rowLen; i += 32) {
      const chunk = Buffer.alloc(32);
      data.copy(chunk, 0, i, Math.min(i + 32, r + rowLen));
      leaves.push(leaf(0x01, chunk));
    }
  }
  return merkle(0x01, leaves, leaf(0x01, Buffer.alloc(32)));
}

const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const i8 = (n) => Buffer.from([n & 0xff]);
const shape = ([h, w, c]) => Buffer.concat([u32(h), u32(w), u32(c)]);

// v2 model root: 0x02 ‖ 0x05 ‖ u32 n ‖ input shape ‖ i8 z_in ‖ output shape ‖ merkle(0x05, leaf(0x05, opRoot_k)).
function modelRoot(ops, input, inputZero, output) {
  const opRoots = ops.map((leaves) => merkle(0x04, leaves.map((l) => leaf(0x04, l)), leaf(0x04, Buffer.alloc(0))));
  const opsRoot = merkle(0x05, opRoots.map((r) => leaf(0x05, r)), leaf(0x05, Buffer.alloc(32)));
  return hash(Buffer.concat([Buffer.from([0x02, 0x05]), u32(ops.length), shape(input), i8(inputZero),
    shape(output), opsRoot]));
}

const range = (n, from = 0) => Buffer.from([...Array(n).keys()].map((i) => (i + from) & 0xff));
const hex = (b) => '0x' + b.toString('hex');
console.log('tensorRoot(0x010203)                 =', hex(tensorRoot(Buffer.from([1, 2, 3]))));
console.log('tensorRoot(bytes 0..63)              =', hex(tensorRoot(range(64))));
console.log('tensorRoot(bytes 0..99)              =', hex(tensorRoot(range(100))));
console.log('leaf(0x01, 32 zero bytes)            =', hex(leaf(0x01, Buffer.alloc(32))));
console.log('tensorRoot(bytes 1..12, rowLen 3)    =', hex(tensorRoot(range(12, 1), 3)), '(4 rows of 3: 4 leaves)');
console.log('tensorRoot(bytes 1..15, rowLen 5)    =', hex(tensorRoot(range(15, 1), 5)), '(3 rows of 5: 3 leaves + 1 pad)');
console.log('tensorRoot(bytes 0..79, rowLen 40)   =', hex(tensorRoot(range(80), 40)), '(2 rows of 40: 4 leaves)');
console.log('tensorRoot(bytes 0..131, rowLen 33)  =', hex(tensorRoot(range(132), 33)), '([2,2,33]: 8 leaves)');
console.log('tensorRoot(bytes 0..63, rowLen 1)    =', hex(tensorRoot(range(64), 1)), '([8,8,1]: 64 leaves)');
const ops = [[Buffer.from([0x01]), Buffer.from([0x02, 0x03])], [Buffer.from([0x04])]];
console.log('modelRoot(ops 01,0203|04; [8,8,1] z=-128 -> [1,1,10]) =', hex(modelRoot(ops, [8, 8, 1], -128, [1, 1, 10])));
