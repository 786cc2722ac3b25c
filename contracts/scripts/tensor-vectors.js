#!/usr/bin/env node
// Independent tensor-root vectors for test/LibTensor.t.sol, from PROTOCOL §3 with js-sha3 (a solc
// dependency, so `npm ci` brings it). Run: node scripts/tensor-vectors.js
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

function tensorRoot(data) {
  const leaves = [];
  for (let i = 0; i < data.length; i += 32) {
    const chunk = Buffer.alloc(32);
    data.copy(chunk, 0, i, Math.min(i + 32, data.length));
    leaves.push(leaf(0x01, chunk));
  }
  return merkle(0x01, leaves, leaf(0x01, Buffer.alloc(32)));
}

const range = (n) => Buffer.from([...Array(n).keys()]);
const hex = (b) => '0x' + b.toString('hex');
console.log('tensorRoot(0x010203)      =', hex(tensorRoot(Buffer.from([1, 2, 3]))));
console.log('tensorRoot(bytes 0..63)   =', hex(tensorRoot(range(64))));
console.log('tensorRoot(bytes 0..99)   =', hex(tensorRoot(range(100))));
console.log('leaf(0x01, 32 zero bytes) =', hex(leaf(0x01, Buffer.alloc(32))));
