// Language-model jobs in the SDK without a chain (listing a language model on the e2e test's anvil takes the Rust
// crates' random models): the int32 big-endian rows, the coordinator's request bodies, and `VouchClient`'s text
// methods against a fake coordinator and a fake public client that answer as the real ones do: the ids the
// coordinator reports are checked against the chain's input root, settled answers against the settled output root.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Address,
  type Hex,
  type PublicClient,
  bytesToHex,
  encodeAbiParameters,
  encodeEventTopics,
  getAddress,
  keccak256,
  toHex,
} from 'viem';
import {
  CoordinatorClient,
  DEFAULT_MAX_TOKENS,
  InvalidTensorError,
  type ModelInfo,
  OutputMismatchError,
  VouchClient,
  VouchError,
  int32Bytes,
  int32Ids,
  jobMarketAbi,
  tensorRoot,
  textFee,
  textInput,
} from '../src/index.js';
import { seededRandom } from './support.js';

const MARKET: Address = getAddress('0xe7f1725e7734ce288f8367e1bb143e90bb3f0512');
const TX: Hex = keccak256(toHex('postJob'));

describe('int32 rows', () => {
  test('answers decode from int32 big-endian, and encode back', () => {
    const rng = seededRandom('int32 rows');
    for (let round = 0; round < 50; round++) {
      const ids = Array.from({ length: rng.int(0, 40) }, () => rng.int(0, 2 ** 31 - 1));
      const bytes = int32Bytes(ids);
      assert.equal(bytes.length, 4 * ids.length);
      assert.deepEqual(int32Ids(bytes), ids);
    }
    assert.deepEqual(int32Ids(Uint8Array.from([0, 0, 0, 64, 0, 0, 1, 2, 0x7f, 0xff, 0xff, 0xff])), [64, 258, 2 ** 31 - 1]);
    // A view into a larger buffer reads its own bytes only.
    const buffer = Uint8Array.from([9, 9, 0, 0, 0, 5, 9]);
    assert.deepEqual(int32Ids(buffer.subarray(2, 6)), [5]);
    assert.throws(() => int32Ids(Uint8Array.from([0, 0, 1])), InvalidTensorError);
    assert.throws(() => int32Ids(Uint8Array.from([0xff, 0xff, 0xff, 0xfe])), /negative/);
    assert.throws(() => int32Bytes([-1]), InvalidTensorError);
    assert.throws(() => int32Bytes([2 ** 31]), InvalidTensorError);
  });

  test("a job's input is the row [maxNew, ids…]", () => {
    assert.equal(bytesToHex(textInput(3, [1, 258])), '0x000000030000000100000102');
  });
});

/** A fetch that records each request and answers with `reply(path, body)`. */
function fakeFetch(reply: (path: string, body: unknown) => unknown) {
  const calls: { path: string; body: unknown; headers: Record<string, string> }[] = [];
  const f = (async (url: string | URL, init?: RequestInit) => {
    const path = new URL(String(url)).pathname;
    const body = init?.body === undefined ? undefined : JSON.parse(String(init.body));
    calls.push({ path, body, headers: (init?.headers ?? {}) as Record<string, string> });
    return new Response(JSON.stringify(reply(path, body)), { status: 200 });
  }) as typeof fetch;
  return { fetch: f, calls };
}

/** The receipt of a `postJob` that emitted `JobPosted` with `input`. */
function receiptPosting(jobId: bigint, input: Uint8Array) {
  const topics = encodeEventTopics({
    abi: jobMarketAbi,
    eventName: 'JobPosted',
    args: { jobId, modelId: 2n, poster: MARKET },
  });
  const data = encodeAbiParameters(
    [{ type: 'uint256' }, { type: 'uint64' }, { type: 'bytes32' }, { type: 'bytes' }],
    [10n ** 15n, 1_800_000_000n, tensorRoot(input, input.length), bytesToHex(input)],
  );
  return { status: 'success', blockNumber: 7n, logs: [{ address: MARKET, topics, data }] };
}

describe('per-token prices', () => {
  test('a text job escrows P·perInputToken + maxNew·perOutputToken; a tensor model has no token price', () => {
    const model = { modelId: 2n, fee: 0n, llmPrices: { perInputToken: 7n, perOutputToken: 11n } } as ModelInfo;
    assert.equal(textFee(model, 30, 64), 30n * 7n + 64n * 11n);
    assert.throws(() => textFee({ modelId: 1n, fee: 5n } as ModelInfo, 3, 4), /not a language model/);
  });
});

describe('text jobs through the coordinator', () => {
  test('postText sends the prompt and checks the ids against the posted input', async () => {
    const ids = [1, 9690, 198, 42, 2];
    const coordinator = fakeFetch(() => ({
      job_id: 4,
      tx_hash: TX,
      input_root: '0x00',
      status: 'open',
      deadline: 1_800_000_000,
      fee_wei: '1000000000000000',
      prompt_ids: ids,
      max_tokens: DEFAULT_MAX_TOKENS,
    }));
    let postedInput = textInput(DEFAULT_MAX_TOKENS, ids);
    const publicClient = {
      waitForTransactionReceipt: async () => receiptPosting(4n, postedInput),
    } as unknown as PublicClient;
    const client = new VouchClient({
      publicClient,
      market: MARKET,
      coordinator: new CoordinatorClient('http://coordinator.test/', { apiKey: 'vk_x', fetch: coordinator.fetch }),
    });
    const posted = await client.postText({ modelId: 2, prompt: 'What is 2+2?' });
    assert.deepEqual(coordinator.calls[0]!.body, { model_id: 2, prompt: 'What is 2+2?', max_tokens: DEFAULT_MAX_TOKENS });
    assert.equal(coordinator.calls[0]!.path, '/v1/jobs');
    assert.equal(coordinator.calls[0]!.headers.authorization, 'Bearer vk_x');
    assert.equal(posted.jobId, 4n);
    assert.deepEqual(posted.promptIds, ids);
    assert.equal(posted.maxTokens, DEFAULT_MAX_TOKENS);
    assert.equal(posted.fee, 10n ** 15n);

    // A coordinator that posted other ids than it reports is caught.
    postedInput = textInput(DEFAULT_MAX_TOKENS, [1, 9690, 198, 43, 2]);
    await assert.rejects(client.postText({ modelId: 2, prompt: 'What is 2+2?' }), (e: unknown) => {
      return e instanceof VouchError && /not the prompt ids/.test(e.message);
    });
  });

  test('prepareJob asks for a prompt with its budget and time to live', async () => {
    const coordinator = fakeFetch(() => ({ chain_id: 31337, to: MARKET, data: '0x', value: '0' }));
    await new CoordinatorClient('http://coordinator.test', { fetch: coordinator.fetch }).prepareJob({
      model_id: 2,
      prompt: 'hi',
      max_tokens: 8,
      ttl_secs: 60,
    });
    assert.equal(coordinator.calls[0]!.path, '/v1/jobs/prepare');
    assert.deepEqual(coordinator.calls[0]!.body, { model_id: 2, prompt: 'hi', max_tokens: 8, ttl_secs: 60 });
    assert.equal(coordinator.calls[0]!.headers.authorization, undefined, 'no key');
  });
});

describe('settled answers', () => {
  const answer = [34, 11, 2];
  const bytes = int32Bytes(answer);
  const root = tensorRoot(bytes, bytes.length);

  /** A public client of a chain where job 9 settled with `onChain` (attempt 1). */
  function chain(onChain: Uint8Array) {
    const outputRoot = tensorRoot(onChain, onChain.length);
    return {
      readContract: async ({ functionName }: { functionName: string }) => {
        if (functionName === 'settledOutputRoot') return outputRoot;
        if (functionName === 'getJob') {
          return {
            modelId: 2n,
            poster: MARKET,
            status: 3,
            deadline: 0n,
            worker: MARKET,
            submittedAt: 0n,
            outputLen: 0,
            outputRowLen: 0,
            fee: 0n,
            bond: 0n,
            inputRoot: root,
            outputRoot,
            traceRoot: root,
            attempt: 1,
          };
        }
        throw new Error(functionName);
      },
      getContractEvents: async () => [{ args: { attempt: 1, outputRoot, output: bytesToHex(onChain) } }],
    } as unknown as PublicClient;
  }

  test("the ResultSubmitted log's int32 ids, checked, with the coordinator's text for exactly those ids", async () => {
    const coordinator = fakeFetch(() => ({ job_id: 9, answer_ids: answer, answer: '4.' }));
    const client = new VouchClient({
      publicClient: chain(bytes),
      market: MARKET,
      coordinator: new CoordinatorClient('http://coordinator.test', { fetch: coordinator.fetch }),
    });
    const settled = await client.getSettledAnswer(9);
    assert.deepEqual(settled.ids, answer);
    assert.equal(settled.outputRoot, root);
    assert.equal(settled.bytes, bytesToHex(bytes));
    assert.equal(settled.text, '4.');
    const viaCoordinator = await client.getSettledAnswer(9, { source: 'coordinator' });
    assert.deepEqual(viaCoordinator.ids, answer);

    // Without a coordinator: the ids alone.
    const bare = await new VouchClient({ publicClient: chain(bytes), market: MARKET }).getSettledAnswer(9);
    assert.deepEqual(bare.ids, answer);
    assert.equal(bare.text, undefined);
  });

  test("a coordinator's ids or text for other ids are refused or left out", async () => {
    const lying = fakeFetch(() => ({ job_id: 9, answer_ids: [34, 12, 2], answer: 'lies' }));
    const client = new VouchClient({
      publicClient: chain(bytes),
      market: MARKET,
      coordinator: new CoordinatorClient('http://coordinator.test', { fetch: lying.fetch }),
    });
    await assert.rejects(client.getSettledAnswer(9, { source: 'coordinator' }), OutputMismatchError);
    const fromChain = await client.getSettledAnswer(9);
    assert.deepEqual(fromChain.ids, answer);
    assert.equal(fromChain.text, undefined, "text of other ids is not this answer's");
  });
});
