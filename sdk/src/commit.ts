// Tensor commitments (docs/PROTOCOL.md §3), ported from `vouch_core::commit::tensor_root`.

import { keccak256, type Hex, toHex } from 'viem';
import { InvalidTensorError } from './errors.js';

/** Bytes (int8 elements) per tensor leaf. */
export const TENSOR_LEAF_BYTES = 32;

/** The domain tag of tensor trees. */
const TENSOR_TAG = 0x01;

/** `leaf(tag, data) = keccak256(0x00 ‖ tag ‖ data)`. */
function leafHash(tag: number, data: Uint8Array): Uint8Array {
  const buf = new Uint8Array(2 + data.length);
  buf[0] = 0x00;
  buf[1] = tag;
  buf.set(data, 2);
  return keccak256(buf, 'bytes');
}

/** `node(tag, l, r) = keccak256(0x01 ‖ tag ‖ l ‖ r)`. */
function nodeHash(tag: number, left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(66);
  buf[0] = 0x01;
  buf[1] = tag;
  buf.set(left, 2);
  buf.set(right, 34);
  return keccak256(buf, 'bytes');
}

/** `merkle(tag, leaves, pad)`: pads `leaves` (at least one) to a power of two with `pad`, then hashes pairs. */
function merkleRoot(tag: number, leaves: Uint8Array[], pad: Uint8Array): Uint8Array {
  let width = 1;
  while (width < leaves.length) width *= 2;
  let level = leaves.concat(Array<Uint8Array>(width - leaves.length).fill(pad));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(nodeHash(tag, level[i]!, level[i + 1]!));
    level = next;
  }
  return level[0]!;
}

/**
 * The 32-byte leaves of a tensor whose rows hold `rowLen` elements: each row starts a new leaf and its last
 * leaf is zero-filled (PROTOCOL §3).
 */
export function tensorLeaves(data: Uint8Array, rowLen: number): Uint8Array[] {
  checkRows(data.length, rowLen);
  const leaves: Uint8Array[] = [];
  for (let row = 0; row < data.length; row += rowLen) {
    for (let i = row; i < row + rowLen; i += TENSOR_LEAF_BYTES) {
      const leaf = new Uint8Array(TENSOR_LEAF_BYTES);
      leaf.set(data.subarray(i, Math.min(i + TENSOR_LEAF_BYTES, row + rowLen)));
      leaves.push(leaf);
    }
  }
  return leaves;
}

/**
 * The tensor root of `data` (int8 elements as bytes, row-major) in rows of `rowLen` elements (a shape's `c`):
 * `merkle(0x01, leaf(0x01, leaf bytes)…, leaf(0x01, 32 zero bytes))`, exactly as `JobMarket.tensorRoot` and
 * `vouch_core::commit::tensor_root` compute it.
 *
 * @throws {InvalidTensorError} for empty data, or a `rowLen` that is not a positive integer dividing its length
 * (the contract refuses those with `EmptyTree` / `RaggedTensor`).
 */
export function tensorRoot(data: Uint8Array | Int8Array, rowLen: number): Hex {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.length);
  const leaves = tensorLeaves(bytes, rowLen).map((l) => leafHash(TENSOR_TAG, l));
  const pad = leafHash(TENSOR_TAG, new Uint8Array(TENSOR_LEAF_BYTES));
  return toHex(merkleRoot(TENSOR_TAG, leaves, pad));
}

function checkRows(length: number, rowLen: number): void {
  if (length === 0) throw new InvalidTensorError('a tensor has at least one element');
  if (!Number.isInteger(rowLen) || rowLen < 1 || length % rowLen !== 0) {
    throw new InvalidTensorError(`${length} elements are not a whole number of rows of ${rowLen}`);
  }
}
