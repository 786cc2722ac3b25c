// The SDK against a real network: anvil with the real contracts (`vouch deploy`), the digits CNN listed with its
// weights on chain (`vouch model publish`), a real `vouch worker` and a real `vouch coordinator` as child
// processes, and a short challenge window. Jobs are posted from a user's wallet (straight to the market, and
// through the coordinator's prepare route) and by the coordinator under an API key; each settles, its output is
// fetched, checked against its settled root and decoded, and equals what `vouch model run` gives for the input.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type Address,
  type Hex,
  bytesToHex,
  createPublicClient,
  createWalletClient,
  http,
  parseEventLogs,
} from 'viem';
import { foundry } from 'viem/chains';
import {
  ContractRevertError,
  CoordinatorError,
  OutputMismatchError,
  PreparedTransactionError,
  VouchClient,
  classify,
  decodeContractError,
  jobMarketAbi,
  tensorRoot,
  toBytes,
  vouchConsumerExampleAbi,
  type Wallet,
} from '../src/index.js';
import {
  ANVIL,
  Daemon,
  REPO,
  VOUCH,
  devAccount,
  devKey,
  freePort,
  referenceRun,
  requireVouch,
  seededRandom,
  tempDir,
  until,
  vouch,
} from './support.js';

const MODEL = join(REPO, 'models', 'digits-cnn.vouch');
const FEE = 10n ** 15n;
const WINDOW_SECS = 3;
/** anvil accounts: who does what. */
const OWNER = 0;
const COORDINATOR = 1;
const WORKER = 2;
const USER = 5;
const CONSUMER_DEPLOYER = 6;

describe('the SDK on a real network', () => {
  const dir = tempDir();
  const daemons: Daemon[] = [];
  const rng = seededRandom('e2e inputs');
  let rpc: string;
  let coordinatorUrl: string;
  let apiKey: string;
  let modelId: bigint;
  let inputLen: number;
  const publicClient = () => createPublicClient({ chain: foundry, transport: http(rpc) });
  const wallet = (i: number): Wallet =>
    createWalletClient({ account: devAccount(i), chain: foundry, transport: http(rpc) });
  const randomInput = () => Array.from({ length: inputLen }, () => rng.int(-128, 127));
  const reference = (input: number[]) => referenceRun(MODEL, input, dir.path);

  before(async () => {
    requireVouch();
    const port = await freePort();
    rpc = `http://127.0.0.1:${port}`;
    const anvil = new Daemon('anvil', ANVIL, ['--port', String(port), '--hardfork', 'cancun'], join(dir.path, 'anvil.log'));
    daemons.push(anvil);
    await until('anvil', async () => (await publicClient().getChainId()) === foundry.id, 30_000, anvil);

    const deployment = join(dir.path, 'deployment.json');
    const chainEnv = { VOUCH_RPC_URL: rpc, VOUCH_DEPLOYMENT: deployment, VOUCH_POLL_MS: '200' };
    await vouch(['deploy', '--window-secs', String(WINDOW_SECS), '--bond-wei', String(FEE), '--out', deployment], {
      ...chainEnv,
      VOUCH_PRIVATE_KEY: devKey(OWNER),
    });
    const published = await vouch(['model', 'publish', MODEL, '--fee-wei', String(FEE), '--royalty-bps', '1000'], {
      ...chainEnv,
      VOUCH_PRIVATE_KEY: devKey(OWNER),
    });
    modelId = BigInt(published.match(/model (\d+) active/)![1]!);

    const worker = new Daemon('vouch worker', VOUCH, ['worker', '--data-dir', join(dir.path, 'worker')], join(dir.path, 'worker.log'), {
      ...chainEnv,
      VOUCH_PRIVATE_KEY: devKey(WORKER),
      RUST_LOG: 'info,alloy=warn',
    });
    daemons.push(worker);

    const database = `sqlite://${join(dir.path, 'coordinator.db')}`;
    apiKey = (
      await vouch(['coordinator', 'key', 'create', '--database-url', database, '--name', 'sdk tests', '--cap-wei', String(10n ** 18n)])
    ).trim();
    coordinatorUrl = `http://127.0.0.1:${await freePort()}`;
    const coordinator = new Daemon(
      'vouch coordinator',
      VOUCH,
      ['coordinator', '--listen', coordinatorUrl.slice('http://'.length), '--database-url', database],
      join(dir.path, 'coordinator.log'),
      { ...chainEnv, VOUCH_PRIVATE_KEY: devKey(COORDINATOR), RUST_LOG: 'info,alloy=warn' },
    );
    daemons.push(coordinator);
    await until(
      'the coordinator to index the model',
      async () => (await fetch(`${coordinatorUrl}/v1/models/${modelId}`)).ok,
      60_000,
      coordinator,
    );
    const model = await new VouchClient({ publicClient: publicClient(), market: await marketOf(deployment) }).getModel(modelId);
    inputLen = model.inputShape[0] * model.inputShape[1] * model.inputShape[2];
  });

  after(async () => {
    for (const d of daemons.reverse()) await d.stop();
    dir.dispose();
  });

  /** The settled output of `jobId`, checked and decoded, equals the reference interpreter's for `input`. */
  async function assertSettledLikeReference(client: VouchClient, jobId: bigint, input: number[], source?: 'coordinator') {
    await client.waitForSettlement(jobId, { timeoutMs: 120_000, pollIntervalMs: 250 }).catch((e: unknown) => {
      const logs = daemons.map((d) => `--- ${d.name} ---\n${d.text().split('\n').slice(-30).join('\n')}`);
      throw new Error(`${String(e)}\n${logs.join('\n')}`);
    });
    const settled = await client.getSettledOutput(jobId, source ? { source } : {});
    const expected = await reference(input);
    assert.deepEqual(Array.from(settled.output), expected.output);
    assert.equal(settled.outputRoot, expected.outputRoot);
    const model = await client.getModel(modelId);
    assert.equal(classify(settled.output, model.labels).label, expected.argmax);
    return settled;
  }

  test('a user posts from its own wallet, and gets the settled output, checked and decoded', async () => {
    const client = await VouchClient.fromCoordinator(coordinatorUrl, { publicClient: publicClient(), walletClient: wallet(USER) });
    const input = randomInput();
    const job = await client.postJob({ modelId, input, ttlSecs: 600 });
    assert.equal(job.poster, devAccount(USER).address);
    assert.equal(job.fee, FEE);
    assert.equal(job.inputRoot, tensorRoot(toBytes(input), 1));
    const settled = await assertSettledLikeReference(client, job.jobId, input);

    // Tampered bytes are refused by the root check, and by the contract's own.
    const tampered = Uint8Array.from(toBytes(settled.bytes));
    tampered[rng.int(0, tampered.length - 1)]! ^= 1 << rng.int(0, 7);
    await assert.rejects(client.verifyOutput(job.jobId, tampered), OutputMismatchError);
    await assert.rejects(client.verifyOutput(job.jobId, tampered.subarray(1)), OutputMismatchError);
    assert.equal(await client.isSettledOutput(job.jobId, tampered), false);
    assert.equal(await client.isSettledOutput(job.jobId, settled.bytes), true);
    assert.deepEqual(await client.verifyOutput(job.jobId, settled.output), settled);
  });

  test("the coordinator's prepared transaction, sent and paid by the user's wallet", async () => {
    const client = await VouchClient.fromCoordinator(coordinatorUrl, { publicClient: publicClient(), walletClient: wallet(USER) });
    const input = randomInput();
    const before = await publicClient().getBalance({ address: devAccount(USER).address });
    const job = await client.postJobPrepared({ modelId, input: chunk(input, 8).map((row) => row.map((x) => [x])), ttlSecs: 600 });
    assert.equal(job.poster, devAccount(USER).address, 'posted by the user');
    assert.ok(before - (await publicClient().getBalance({ address: devAccount(USER).address })) >= FEE, 'paid by the user');
    // The output the coordinator serves is checked against the chain too.
    await assertSettledLikeReference(client, job.jobId, input, 'coordinator');

    // A coordinator that lies about the output is caught by the root check.
    const lying = await VouchClient.fromCoordinator(coordinatorUrl, {
      publicClient: publicClient(),
      fetch: rewrite((path, body) => {
        if (path === `/v1/jobs/${job.jobId}`) (body.output as number[])[0] = ((body.output as number[])[0]! + 1) % 128;
      }),
    });
    await assert.rejects(lying.getSettledOutput(job.jobId, { source: 'coordinator' }), OutputMismatchError);

    // A prepared transaction that is not what was asked for is never sent.
    const nonce = await publicClient().getTransactionCount({ address: devAccount(USER).address });
    for (const [what, edit] of [
      ['another contract', (b: Record<string, unknown>) => (b.to = devAccount(OWNER).address)],
      ['another fee', (b: Record<string, unknown>) => (b.value = String(2n * FEE))],
      // The calldata ends with the input's last byte (64 bytes need no padding): flip a bit of it.
      ['another input', (b: Record<string, unknown>) => (b.data = flipLastBit(b.data as string))],
    ] as const) {
      const crooked = await VouchClient.fromCoordinator(coordinatorUrl, {
        publicClient: publicClient(),
        walletClient: wallet(USER),
        fetch: rewrite((path, body) => path === '/v1/jobs/prepare' && edit(body)),
      });
      await assert.rejects(crooked.postJobPrepared({ modelId, input: randomInput() }), PreparedTransactionError, what);
    }
    assert.equal(await publicClient().getTransactionCount({ address: devAccount(USER).address }), nonce, 'nothing sent');

    // The coordinator's refusals come back with its message.
    await assert.rejects(client.postJobPrepared({ modelId, input: [1, 2, 3] }), (e: unknown) => {
      assert.ok(e instanceof CoordinatorError && e.status === 400 && /expects 64 elements/.test(e.message), String(e));
      return true;
    });
  });

  test('the coordinator posts and pays under an API key', async () => {
    const client = await VouchClient.fromCoordinator(coordinatorUrl, { publicClient: publicClient(), apiKey });
    const input = randomInput();
    const job = await client.postJobWithApiKey({ modelId, input });
    assert.equal(job.poster, devAccount(COORDINATOR).address);
    await assertSettledLikeReference(client, job.jobId, input);
  });

  test('a consumer contract gets the callback; isSettledOutput takes the true bytes only', async () => {
    const client = await VouchClient.fromCoordinator(coordinatorUrl, { publicClient: publicClient() });
    const artifact = JSON.parse(readFileSync(join(REPO, 'contracts', 'artifacts', 'VouchConsumerExample.json'), 'utf8'));
    const deployer = wallet(CONSUMER_DEPLOYER);
    const deployed = await publicClient().waitForTransactionReceipt({
      hash: await deployer.deployContract({
        abi: vouchConsumerExampleAbi,
        bytecode: artifact.bytecode.object as Hex,
        args: [client.market, 200_000],
        chain: foundry,
      }),
    });
    const consumer = deployed.contractAddress as Address;
    const input = randomInput();
    const latest = await publicClient().getBlock();
    const ask = await publicClient().waitForTransactionReceipt({
      hash: await wallet(USER).writeContract({
        address: consumer,
        abi: vouchConsumerExampleAbi,
        functionName: 'ask',
        args: [modelId, bytesToHex(toBytes(input)), latest.timestamp + 600n],
        value: FEE,
        chain: foundry,
      }),
    });
    const [posted] = parseEventLogs({ abi: jobMarketAbi, eventName: 'JobPosted', logs: ask.logs });
    const jobId = posted!.args.jobId;
    const settled = await assertSettledLikeReference(client, jobId, input);

    const [known, label, outputRoot] = await publicClient().readContract({
      address: consumer,
      abi: vouchConsumerExampleAbi,
      functionName: 'answers',
      args: [jobId],
    });
    assert.ok(known, 'the callback delivered the answer');
    assert.equal(Number(label), classify(settled.output).index);
    assert.equal(outputRoot, settled.outputRoot);
    const delivered = await publicClient().getContractEvents({
      address: client.market,
      abi: jobMarketAbi,
      eventName: 'CallbackDelivered',
      args: { jobId },
      fromBlock: ask.blockNumber,
    });
    assert.equal(delivered[0]?.args.success, true);

    const altered = Uint8Array.from(toBytes(settled.bytes));
    altered[classify(settled.output).index] = 0x80;
    assert.equal(await client.isSettledOutput(jobId, settled.bytes), true);
    assert.equal(await client.isSettledOutput(jobId, altered), false);
    // The consumer refuses altered bytes with its own custom error, decoded.
    const refusal = await publicClient()
      .simulateContract({
        address: consumer,
        abi: vouchConsumerExampleAbi,
        functionName: 'deliver',
        args: [jobId, bytesToHex(altered)],
        account: devAccount(USER),
      })
      .then(() => undefined, decodeContractError);
    assert.equal(refusal?.errorName, 'NotSettledOutput');
    assert.match(refusal!.message, new RegExp(`not job ${jobId}'s settled output`));
  });

  test("the contracts' custom errors come back decoded and readable", async () => {
    const client = await VouchClient.fromCoordinator(coordinatorUrl, { publicClient: publicClient(), walletClient: wallet(USER) });
    const revert = async (p: Promise<unknown>) => {
      const e = await p.then(() => undefined, (e: unknown) => e);
      assert.ok(e instanceof ContractRevertError, String(e));
      return e;
    };
    const unknown = await revert(client.postJob({ modelId: 999, input: randomInput() }));
    assert.equal(unknown.errorName, 'UnknownModel');
    assert.equal(unknown.message, 'UnknownModel: no model has id 999');
    const short = await revert(client.postJob({ modelId, input: [1, 2, 3] }));
    assert.equal(short.errorName, 'InputLengthMismatch');
    assert.equal(short.message, `InputLengthMismatch: the input has 3 elements; the model takes ${inputLen}`);
    const never = await revert(client.getJob(10_000));
    assert.equal(never.message, 'UnknownJob: no job has id 10000');
    assert.equal(await client.isSettledOutput(10_000, [1]), false, 'isSettledOutput never reverts');
  });

  test("tensorRoot equals the contract's on random shapes", async () => {
    const client = await VouchClient.fromCoordinator(coordinatorUrl, { publicClient: publicClient() });
    for (let i = 0; i < 20; i++) {
      const rowLen = rng.int(1, 100);
      const data = Uint8Array.from({ length: rowLen * rng.int(1, 12) }, () => rng.int(0, 255));
      const onChain = await publicClient().readContract({
        address: client.market,
        abi: jobMarketAbi,
        functionName: 'tensorRoot',
        args: [bytesToHex(data), BigInt(rowLen)],
      });
      assert.equal(tensorRoot(data, rowLen), onChain, `${data.length} bytes in rows of ${rowLen}`);
    }
  });
});

/** The market address in a deployment file. */
async function marketOf(deployment: string): Promise<Address> {
  return JSON.parse(readFileSync(deployment, 'utf8')).market as Address;
}

/** `hex` with the lowest bit of its last byte flipped. */
function flipLastBit(hex: string): string {
  return hex.slice(0, -2) + (parseInt(hex.slice(-2), 16) ^ 1).toString(16).padStart(2, '0');
}

/** `values` in rows of `n`. */
function chunk<T>(values: T[], n: number): T[][] {
  return Array.from({ length: Math.ceil(values.length / n) }, (_, i) => values.slice(i * n, (i + 1) * n));
}

/** A `fetch` that lets `edit` change the JSON body of every coordinator answer (a lying coordinator). */
function rewrite(edit: (path: string, body: Record<string, unknown>) => unknown): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const body = (await response.json()) as Record<string, unknown>;
    edit(new URL(String(input)).pathname, body);
    return new Response(JSON.stringify(body), { status: response.status, headers: response.headers });
  };
}
