// int8 tensors: inputs to bytes, output bytes to numbers, argmax and class labels.

import { hexToBytes, isHex, type Hex } from 'viem';
import { InvalidTensorError } from './errors.js';

/** A tensor as the SDK takes it: int8 numbers, flat (row-major) or nested `[H][W][C]`, or raw bytes. */
export type TensorLike = Int8Array | Uint8Array | Hex | readonly (number | TensorLikeNested)[];
/** Nested arrays of int8 numbers. */
export type TensorLikeNested = readonly (number | TensorLikeNested)[];

/** A tensor's shape `[H, W, C]` (row-major, NHWC without the batch; a vector is `[1, 1, N]`). */
export type Shape = readonly [h: number, w: number, c: number];

/**
 * The bytes of an int8 tensor, row-major. Numbers must be integers in [-128, 127]; nested arrays are flattened
 * in order (so `[H][W][C]` nesting gives row-major bytes); `Uint8Array` and hex are taken as raw bytes.
 *
 * @throws {InvalidTensorError} naming the first element that is not an int8.
 */
export function toBytes(tensor: TensorLike): Uint8Array {
  if (tensor instanceof Uint8Array) return tensor;
  if (tensor instanceof Int8Array) return new Uint8Array(tensor.buffer, tensor.byteOffset, tensor.length);
  if (typeof tensor === 'string') {
    if (!isHex(tensor)) throw new InvalidTensorError('a tensor given as a string must be 0x-prefixed hex');
    return hexToBytes(tensor);
  }
  const flat: unknown[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else flat.push(v);
  };
  walk(tensor);
  const bytes = new Uint8Array(flat.length);
  flat.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < -128 || v > 127) {
      throw new InvalidTensorError(`element ${String(v)} at index ${i} is not an int8 in [-128, 127]`);
    }
    bytes[i] = v & 0xff;
  });
  return bytes;
}

/** The int8 elements of output (or input) bytes. */
export function toInt8(bytes: Uint8Array | Hex): Int8Array {
  const b = typeof bytes === 'string' ? hexToBytes(bytes) : bytes;
  return new Int8Array(b.buffer, b.byteOffset, b.length);
}

/** The number of elements of `shape`. */
export function shapeLength(shape: Shape): number {
  return shape[0] * shape[1] * shape[2];
}

/**
 * The index of the largest element, the lowest index on ties (as `vouch_core::tensor::argmax` and the
 * example consumer contract read a classifier's output).
 *
 * @throws {InvalidTensorError} for an empty tensor.
 */
export function argmax(values: ArrayLike<number>): number {
  if (values.length === 0) throw new InvalidTensorError('argmax of an empty tensor');
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** What a classifier's output says. */
export interface Classification {
  /** The index of the highest score (lowest index on ties). */
  index: number;
  /** Its label from the model's metadata, or the index as text when the model has none. */
  label: string;
  /** The highest score (an int8). */
  score: number;
}

/** Reads a classifier's output: its argmax and the matching label (`labels` from the model's metadata). */
export function classify(output: ArrayLike<number>, labels: readonly string[] = []): Classification {
  const index = argmax(output);
  return { index, label: labels[index] ?? String(index), score: output[index]! };
}
