// A language model's job rows (PROTOCOL §7.2): the input `[maxNew, ids…]` and the output, the generated ids, both
// int32 big-endian.

import { InvalidTensorError } from './errors.js';

/** A language model's token budget when a request names none (the coordinator's default too). */
export const DEFAULT_MAX_TOKENS = 64;

/** Token ids from int32 big-endian bytes (a language model's answer, as `ResultSubmitted` carries it). */
export function int32Ids(bytes: Uint8Array): number[] {
  if (bytes.length % 4 !== 0) {
    throw new InvalidTensorError(`${bytes.length} bytes are not whole int32 token ids`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ids: number[] = [];
  for (let i = 0; i < bytes.length; i += 4) {
    const id = view.getInt32(i, false);
    if (id < 0) throw new InvalidTensorError(`token id ${id} at index ${i / 4} is negative`);
    ids.push(id);
  }
  return ids;
}

/** Int32 big-endian bytes of token ids (the inverse of {@link int32Ids}). */
export function int32Bytes(ids: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(ids.length * 4);
  const view = new DataView(bytes.buffer);
  ids.forEach((id, i) => {
    if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) {
      throw new InvalidTensorError(`token id ${id} at index ${i} is not an int32 id`);
    }
    view.setInt32(i * 4, id, false);
  });
  return bytes;
}

/** A language model's job input, the row `[maxNew, ids…]` as int32 big-endian bytes (what `postJob` carries). */
export function textInput(maxNew: number, promptIds: readonly number[]): Uint8Array {
  return int32Bytes([maxNew, ...promptIds]);
}
