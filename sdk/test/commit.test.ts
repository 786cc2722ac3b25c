// tensorRoot against the protocol's pinned vectors and against roots the Rust reference computes
// (`vouch model run`: slot 0 is the input's tensor root, the last slot the output's), on fresh random inputs.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { InvalidTensorError, argmax, classify, tensorRoot, toBytes, toInt8 } from '../src/index.js';
import { REPO, modelShapes, referenceRun, seededRandom, tempDir } from './support.js';

/** Bytes `from, from + 1, …` (mod 256), `n` of them. */
const range = (n: number, from = 0) => Uint8Array.from({ length: n }, (_, i) => (i + from) & 0xff);

describe('tensorRoot', () => {
  test('matches the vectors pinned in contracts/test/LibTensor.t.sol', () => {
    const vectors: [Uint8Array, number, string][] = [
      [Uint8Array.of(1, 2, 3), 3, '0x6fa256c7cbfbeb864dbcb8ffb3b3cf75f840192a7de26d77d700f70f00e997ed'],
      [range(64), 64, '0xed77bb2faccb23488f56e1facd1bd39903518c1310c752e771fb625ad6e3a9c9'],
      [range(100), 100, '0x5388b4953b3ec1aa1359631b6288283b39f841dcc1a4f0d8f7ab664ca00da3bf'],
      [range(12, 1), 3, '0xebb9c7509190ead719a1a095f3657e781c8e54d777d748c8e6497179b9f385d5'],
      [range(15, 1), 5, '0x870a247ec04337a7cdbd5b2845d29e7605fc64a5bb969a58bc44846e6a86ab8d'],
      [range(80), 40, '0x39b6092a7e2f6e1b2b2331189af48e6d83106e3f0810b0281c79e497f6dcb811'],
      [range(132), 33, '0xea40006ef863370bfe4c2e1ee7b05265a4c9c2199b5d77bbbe2f70b310def151'],
      [range(64), 1, '0x533bfe76d6632f7d23c931e9e614731652b3a88e18fc81ff5ab1a2301f5cff86'],
    ];
    for (const [data, rowLen, root] of vectors) assert.equal(tensorRoot(data, rowLen), root, `${data.length}/${rowLen}`);
    // Int8Array views of the same bytes commit the same.
    assert.equal(tensorRoot(toInt8(range(64)), 1), vectors[7]![2]);
  });

  test('refuses what the contract refuses', () => {
    assert.throws(() => tensorRoot(new Uint8Array(0), 1), InvalidTensorError);
    assert.throws(() => tensorRoot(range(10), 3), InvalidTensorError);
    assert.throws(() => tensorRoot(range(10), 0), InvalidTensorError);
  });

  const dir = tempDir();
  after(dir.dispose);
  for (const name of ['digits-cnn', 'digits-mlp-64-32-10', 'mnist-mlp-784-128-10']) {
    test(`equals the Rust roots of ${name}'s input and output on random inputs`, async () => {
      const model = join(REPO, 'models', `${name}.vouch`);
      const shapes = await modelShapes(model);
      const rng = seededRandom(`tensorRoot vs Rust on ${name}`);
      const length = shapes.input[0]! * shapes.input[1]! * shapes.input[2]!;
      for (let run = 0; run < 3; run++) {
        const input = Array.from({ length }, () => rng.int(-128, 127));
        const reference = await referenceRun(model, input, dir.path);
        assert.equal(tensorRoot(toBytes(input), shapes.input[2]!), reference.slotRoots[0], 'input root');
        const output = toBytes(reference.output);
        assert.equal(tensorRoot(output, shapes.output[2]!), reference.outputRoot, 'output root');
        assert.equal(reference.slotRoots.at(-1), reference.outputRoot);
        // The argmax the SDK reads is the one the reference prints.
        assert.equal(classify(reference.output).label, reference.argmax);
      }
    });
  }
});

describe('tensors', () => {
  test('toBytes takes flat, nested and raw tensors and names a bad element', () => {
    assert.deepEqual(toBytes([[[-1, 2]], [[127, -128]]]), Uint8Array.of(255, 2, 127, 128));
    assert.deepEqual(toBytes('0x01ff'), Uint8Array.of(1, 255));
    assert.deepEqual(Array.from(toInt8(Uint8Array.of(255, 128, 1))), [-1, -128, 1]);
    assert.throws(() => toBytes([1, 128]), /element 128 at index 1/);
    assert.throws(() => toBytes([0.5]), InvalidTensorError);
  });

  test('argmax takes the lowest index on ties', () => {
    assert.equal(argmax([-3, 7, 7, 1]), 1);
    assert.deepEqual(classify([-3, 7, 9], ['cat', 'dog', 'eel']), { index: 2, label: 'eel', score: 9 });
    assert.throws(() => argmax([]), InvalidTensorError);
  });
});
