// The Vouch client: post jobs (from the user's wallet, or through a coordinator), wait for settlement, and fetch
// settled outputs checked against their on-chain roots.

import {
  type Account,
  type Address,
  type Chain,
  type Hash,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
  bytesToHex,
  decodeFunctionData,
  encodeFunctionData,
  getAddress,
  hexToBytes,
  isAddress,
  parseEventLogs,
} from 'viem';
import { jobMarketAbi, modelRegistryAbi } from './abi/index.js';
import { tensorRoot } from './commit.js';
import {
  CoordinatorClient,
  type CoordinatorClientOptions,
  type JobRequestBody,
  type PreparedTransaction,
} from './coordinator.js';
import {
  ChainMismatchError,
  JOB_STATUSES,
  JobExpiredError,
  JobNotSettledError,
  MODEL_STATUSES,
  OutputMismatchError,
  PreparedTransactionError,
  TimeoutError,
  VouchError,
  type JobStatusName,
  type ModelStatusName,
  withDecodedErrors,
} from './errors.js';
import { type Shape, type TensorLike, toBytes, toInt8 } from './tensor.js';
import { DEFAULT_MAX_TOKENS, int32Bytes, int32Ids, textInput } from './text.js';

/** Where inline model metadata starts in a model's `uri` (written by `vouch model publish`). */
const META_URI_PREFIX = 'data:application/json,';

/** A job's time to live when the caller names none: one hour. */
export const DEFAULT_TTL_SECS = 3600;

/** A wallet that can sign: a viem wallet client with an account. */
export type Wallet = WalletClient<Transport, Chain | undefined, Account>;

/** Options of {@link VouchClient}. */
export interface VouchClientOptions {
  /** Reads the chain (any viem public client on the chain the contracts are on). */
  publicClient: PublicClient;
  /** The user's wallet, which posts and pays for jobs; only the posting methods need it. */
  walletClient?: Wallet;
  /** The `JobMarket` address. */
  market: Address;
  /** A coordinator, for {@link VouchClient.postJobPrepared}, {@link VouchClient.postJobWithApiKey} and outputs from it. */
  coordinator?: CoordinatorClient;
  /** The first block to search for events (the deployment's start block; default 0). */
  fromBlock?: bigint;
  /** Milliseconds between polls while waiting (default 1000). */
  pollIntervalMs?: number;
}

/** A model as listed in the registry, with its inline metadata. */
export interface ModelInfo {
  modelId: bigint;
  owner: Address;
  /** The model root (PROTOCOL §3). */
  root: Hex;
  status: ModelStatusName;
  /** Input shape `[H, W, C]`: an input has `H·W·C` int8 elements. */
  inputShape: Shape;
  /** The input's zero point (a real input `x` quantizes to `round(x / inputScale) + inputZero`). */
  inputZero: number;
  /** Output shape `[H, W, C]`. */
  outputShape: Shape;
  /** Fee per job, in wei (a tensor model's; a language model's is 0: see `llmPrices`). */
  fee: bigint;
  /** A language model's prices per token, in wei (`ModelRegistry.llmPrices`); absent for a tensor model. */
  llmPrices?: { perInputToken: bigint; perOutputToken: bigint };
  royaltyBps: number;
  uri: string;
  /** From the metadata (`model-<id>` without any). */
  name: string;
  /** Class labels, one per output element, when the metadata has them. */
  labels: string[];
  /** Scale of the input tensor, when the metadata has it. */
  inputScale: number | undefined;
  /** Scale of the output tensor, when the metadata has it. */
  outputScale: number | undefined;
}

/** A job as the market holds it (`JobMarket.getJob`). */
export interface JobInfo {
  jobId: bigint;
  modelId: bigint;
  poster: Address;
  status: JobStatusName;
  /** Unix seconds: a result must be submitted before. */
  deadline: bigint;
  /** The current result's worker (zero address before any). */
  worker: Address;
  submittedAt: bigint;
  /** Output length `H·W·C` and row length `C` when the job was posted. */
  outputLen: number;
  outputRowLen: number;
  /** Escrowed fee and result bond, in wei. */
  fee: bigint;
  bond: bigint;
  inputRoot: Hex;
  /** The current result's output root (final once `status` is `settled`). */
  outputRoot: Hex;
  traceRoot: Hex;
  /** How many results were submitted; the current one is number `attempt`. */
  attempt: number;
}

/** A job to post. */
export interface JobRequest {
  modelId: bigint | number;
  /** int8 numbers, flat (row-major) or nested `[H][W][C]`, or raw bytes. */
  input: TensorLike;
  /** Seconds the job waits for a result (default {@link DEFAULT_TTL_SECS}). */
  ttlSecs?: number;
}

/** A language model's job to post: a prompt, as text. */
export interface TextRequest {
  modelId: bigint | number;
  /** The user's turn, as text: the coordinator applies the model's chat template and tokenizer (its card on chain). */
  prompt: string;
  /** The most tokens the answer may have (default {@link DEFAULT_MAX_TOKENS}); prompt tokens + `maxTokens` − 1 must fit the model's context. */
  maxTokens?: number;
  /** Seconds the job waits for a result (default: the coordinator's). */
  ttlSecs?: number;
}

/** A posted job. */
export interface PostedJob {
  jobId: bigint;
  /** The `postJob` transaction. */
  txHash: Hash;
  /** Its block (a good `fromBlock` for this job's events). */
  blockNumber: bigint;
  /** Who posted and paid. */
  poster: Address;
  fee: bigint;
  deadline: bigint;
  /** The input's tensor root, computed by the contract. */
  inputRoot: Hex;
}

/** A posted language-model job: the ids the coordinator tokenized the prompt into, checked against the posted input. */
export interface PostedTextJob extends PostedJob {
  /** The prompt's token ids (the model's chat template applied), as posted. */
  promptIds: number[];
  /** The token budget posted. */
  maxTokens: number;
}

/** A language model's settled answer, checked: its bytes' root is the job's settled output root on chain. */
export interface SettledAnswer {
  jobId: bigint;
  /** The settled result's number. */
  attempt: number;
  /** The settled output root (on chain). */
  outputRoot: Hex;
  /** The answer as posted: its token ids, int32 big-endian. */
  bytes: Hex;
  /** The answer's token ids (the last is the model's eos unless the answer ran out of tokens). */
  ids: number[];
  /**
   * The answer's text: the coordinator's decoding of exactly these ids with the model's own tokenizer (eos and control
   * tokens left out); `undefined` without a coordinator or when it has none. The ids are checked against the chain;
   * the text is the coordinator's reading of them.
   */
  text: string | undefined;
}

/** A settled output, checked: its tensor root is the job's settled output root on chain. */
export interface SettledOutput {
  jobId: bigint;
  /** The settled result's number. */
  attempt: number;
  /** The settled output root (on chain). */
  outputRoot: Hex;
  /** The output bytes, row-major. */
  bytes: Hex;
  /** The output's int8 elements. */
  output: Int8Array;
}

/** Options of waits. */
export interface WaitOptions {
  /** Give up after this many milliseconds (default 600,000) with a {@link TimeoutError}. */
  timeoutMs?: number;
  /** Milliseconds between polls (default: the client's). */
  pollIntervalMs?: number;
  /** Aborts the wait. */
  signal?: AbortSignal;
}

/** Where {@link VouchClient.getSettledOutput} reads the output bytes: both are checked against the chain. */
export type OutputSource = 'chain' | 'coordinator';

/**
 * Vouch for a dApp: post jobs, wait for them to settle, read their outputs checked against the chain.
 *
 * Three ways to post a job: {@link postJob} sends `JobMarket.postJob` from the user's wallet, which pays the fee
 * (no coordinator needed); {@link postJobPrepared} has a coordinator check the request and prepare the
 * transaction, checks it, and sends it from the user's wallet (the user pays); {@link postJobWithApiKey} has the
 * coordinator post and pay under an API key.
 */
export class VouchClient {
  /** Reads the chain. */
  readonly publicClient: PublicClient;
  /** The user's wallet, if any. */
  readonly walletClient: Wallet | undefined;
  /** The `JobMarket` (checksummed). */
  readonly market: Address;
  /** The coordinator, if any. */
  readonly coordinator: CoordinatorClient | undefined;
  /** Where event searches start. */
  readonly fromBlock: bigint;
  /** Milliseconds between polls while waiting. */
  readonly pollIntervalMs: number;
  #registry: Promise<Address> | undefined;

  /** A client of the market at `options.market`; see {@link VouchClient.fromCoordinator} to find it from a coordinator. */
  constructor(options: VouchClientOptions) {
    this.publicClient = options.publicClient;
    this.walletClient = options.walletClient;
    this.market = getAddress(options.market);
    this.coordinator = options.coordinator;
    this.fromBlock = options.fromBlock ?? 0n;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
  }

  /**
   * A client for the contracts a coordinator follows (`GET /v1/deployment`), with that coordinator attached.
   *
   * @throws {ChainMismatchError} if `publicClient` is on another chain than the coordinator.
   */
  static async fromCoordinator(
    url: string,
    options: Omit<VouchClientOptions, 'market' | 'coordinator' | 'fromBlock'> & CoordinatorClientOptions,
  ): Promise<VouchClient> {
    const coordinator = new CoordinatorClient(url, options);
    const deployment = await coordinator.deployment();
    const chainId = await options.publicClient.getChainId();
    if (chainId !== deployment.chain_id) {
      throw new ChainMismatchError(`the coordinator follows chain ${deployment.chain_id}; the RPC endpoint is chain ${chainId}`);
    }
    return new VouchClient({
      ...options,
      market: deployment.market,
      coordinator,
      fromBlock: BigInt(deployment.start_block),
    });
  }

  /** The `ModelRegistry` the market posts jobs against. */
  registry(): Promise<Address> {
    this.#registry ??= this.#read(() =>
      this.publicClient.readContract({ address: this.market, abi: jobMarketAbi, functionName: 'registry' }),
    );
    return this.#registry;
  }

  /** Model `modelId` as listed on chain (reverts `UnknownModel` as a {@link ContractRevertError}). */
  async getModel(modelId: bigint | number): Promise<ModelInfo> {
    const id = BigInt(modelId);
    const registry = await this.registry();
    const m = await this.#read(() =>
      this.publicClient.readContract({ address: registry, abi: modelRegistryAbi, functionName: 'getModel', args: [id] }),
    );
    const meta = parseMetadata(m.uri);
    let llmPrices: ModelInfo['llmPrices'];
    if (m.kind === 1) {
      const [perInputToken, perOutputToken] = await this.#read(() =>
        this.publicClient.readContract({ address: registry, abi: modelRegistryAbi, functionName: 'llmPrices', args: [id] }),
      );
      llmPrices = { perInputToken, perOutputToken };
    }
    return {
      modelId: id,
      owner: m.owner,
      root: m.root,
      status: MODEL_STATUSES[m.status] ?? 'none',
      inputShape: [m.input.h, m.input.w, m.input.c],
      inputZero: m.inputZero,
      outputShape: [m.output.h, m.output.w, m.output.c],
      fee: m.fee,
      ...(llmPrices !== undefined && { llmPrices }),
      royaltyBps: m.royaltyBps,
      uri: m.uri,
      name: typeof meta.name === 'string' ? meta.name : `model-${id}`,
      labels: Array.isArray(meta.labels) ? meta.labels.map(String) : [],
      inputScale: typeof meta.input_scale === 'number' ? meta.input_scale : undefined,
      outputScale: typeof meta.output_scale === 'number' ? meta.output_scale : undefined,
    };
  }

  /** Job `jobId` as the market holds it (reverts `UnknownJob` as a {@link ContractRevertError}). */
  async getJob(jobId: bigint | number): Promise<JobInfo> {
    const id = BigInt(jobId);
    const j = await this.#read(() =>
      this.publicClient.readContract({ address: this.market, abi: jobMarketAbi, functionName: 'getJob', args: [id] }),
    );
    return {
      jobId: id,
      modelId: j.modelId,
      poster: j.poster,
      status: JOB_STATUSES[j.status] ?? 'none',
      deadline: j.deadline,
      worker: j.worker,
      submittedAt: j.submittedAt,
      outputLen: j.outputLen,
      outputRowLen: j.outputRowLen,
      fee: j.fee,
      bond: j.bond,
      inputRoot: j.inputRoot,
      outputRoot: j.outputRoot,
      traceRoot: j.traceRoot,
      attempt: j.attempt,
    };
  }

  /**
   * Posts a job from the user's wallet straight to `JobMarket.postJob`, paying the model's fee (user pays, no
   * coordinator). The call is simulated first, so a refusal comes back as a {@link ContractRevertError} (e.g.
   * `ModelNotActive`, `InputLengthMismatch`) before anything is sent.
   */
  async postJob(request: JobRequest): Promise<PostedJob> {
    const wallet = this.#wallet();
    const modelId = BigInt(request.modelId);
    const input = bytesToHex(toBytes(request.input));
    const { fee } = await this.getModel(modelId);
    const deadline = await this.#deadline(request.ttlSecs);
    const hash = await withDecodedErrors(async () => {
      const { request: tx } = await this.publicClient.simulateContract({
        address: this.market,
        abi: jobMarketAbi,
        functionName: 'postJob',
        args: [modelId, input, deadline],
        value: fee,
        account: wallet.account,
      });
      return wallet.writeContract({ ...tx, chain: wallet.chain });
    });
    return this.#posted(hash);
  }

  /**
   * Posts a job the user pays for, prepared by the coordinator (`POST /v1/jobs/prepare`, no API key): the
   * coordinator checks the request as for its own jobs and returns the transaction; this checks that it is
   * `postJob` on this market and chain, with this model and input and the model's fee on chain, simulates it, and
   * sends it from the user's wallet.
   *
   * @throws {CoordinatorError} for a request the coordinator refuses (its message says why).
   * @throws {PreparedTransactionError} for a transaction that is not what was asked for (nothing is sent).
   */
  async postJobPrepared(request: JobRequest): Promise<PostedJob> {
    this.#wallet();
    const modelId = BigInt(request.modelId);
    const input = toBytes(request.input);
    const prepared = await this.#coordinator().prepareJob(requestBody(modelId, input, request.ttlSecs));
    const model = await this.getModel(modelId);
    const hash = await this.#sendPrepared(prepared, modelId, input, model.fee);
    return this.#posted(hash);
  }

  /**
   * Posts a job through the coordinator (`POST /v1/jobs`), which sends it from its own account and pays the fee,
   * charged to the API key's cap.
   *
   * @throws {CoordinatorError} for a refused request (no key, over the rate or cap, bad input, …).
   */
  async postJobWithApiKey(request: JobRequest): Promise<PostedJob> {
    const input = toBytes(request.input);
    const posted = await this.#coordinator().postJob(requestBody(BigInt(request.modelId), input, request.ttlSecs));
    return this.#posted(posted.tx_hash);
  }

  /**
   * Posts a language model's job through the coordinator (`POST /v1/jobs` with the prompt as text), which tokenizes it
   * with the model's card, sends it from its own account and pays the fee, charged to the API key's cap. The ids it
   * answers with are checked against the input root the market computed.
   *
   * @throws {CoordinatorError} for a refused request (a prompt past the model's context, a tensor model, no key, …).
   */
  async postText(request: TextRequest): Promise<PostedTextJob> {
    const modelId = BigInt(request.modelId);
    const maxTokens = request.maxTokens ?? DEFAULT_MAX_TOKENS;
    const posted = await this.#coordinator().postJob(textBody(modelId, request.prompt, maxTokens, request.ttlSecs));
    const job = await this.#posted(posted.tx_hash);
    const ids = posted.prompt_ids;
    if (ids === undefined || posted.max_tokens !== maxTokens) {
      throw new VouchError(`the coordinator posted job ${job.jobId} without the prompt's ids or with another budget`);
    }
    const input = textInput(maxTokens, ids);
    if (tensorRoot(input, input.length) !== job.inputRoot) {
      throw new VouchError(`job ${job.jobId} on chain is not the prompt ids the coordinator answered with`);
    }
    return { ...job, promptIds: ids, maxTokens };
  }

  /**
   * Posts a language model's job the user pays for: the coordinator's prepare route tokenizes the prompt with the
   * model's card and returns the transaction (a wallet cannot tokenize); this checks that it is `postJob` on this
   * market and chain, on this model, with the row `[maxTokens, ids…]` of the ids it reports, a future deadline and
   * the job's fee on chain, simulates it, and sends it from the user's wallet. The tokenization itself is the
   * coordinator's: the ids are shown in the result.
   *
   * @throws {CoordinatorError} for a request the coordinator refuses.
   * @throws {PreparedTransactionError} for a transaction that is not what was asked for (nothing is sent).
   */
  async postTextPrepared(request: TextRequest): Promise<PostedTextJob> {
    this.#wallet();
    const modelId = BigInt(request.modelId);
    const maxTokens = request.maxTokens ?? DEFAULT_MAX_TOKENS;
    const prepared = await this.#coordinator().prepareJob(textBody(modelId, request.prompt, maxTokens, request.ttlSecs));
    const ids = prepared.prompt_ids;
    if (ids === undefined || prepared.max_tokens !== maxTokens) {
      throw new PreparedTransactionError('the coordinator prepared no prompt ids, or another budget; it was not sent');
    }
    const model = await this.getModel(modelId);
    const hash = await this.#sendPrepared(prepared, modelId, textInput(maxTokens, ids), textFee(model, ids.length, maxTokens));
    return { ...(await this.#posted(hash)), promptIds: ids, maxTokens };
  }

  /**
   * The settled answer of language-model job `jobId`: its bytes from the `ResultSubmitted` log of the settled attempt
   * (`source: 'chain'`, searched from `fromBlock`) or the coordinator's `answer_ids` (`source: 'coordinator'`), only
   * returned if their root is the chain's settled output root, decoded into token ids; with the coordinator's text
   * for exactly those ids when a coordinator is attached.
   *
   * @throws {JobNotSettledError} if the job has not settled.
   * @throws {OutputMismatchError} if the bytes found are not the settled answer.
   */
  async getSettledAnswer(
    jobId: bigint | number,
    options: { source?: OutputSource; fromBlock?: bigint } = {},
  ): Promise<SettledAnswer> {
    const job = await this.getJob(jobId);
    if (job.status !== 'settled') throw new JobNotSettledError(job.jobId, job.status);
    const record = this.coordinator === undefined ? undefined : await this.coordinator.job(job.jobId);
    let bytes: Uint8Array;
    if (options.source === 'coordinator') {
      const ids = record?.answer_ids;
      if (ids === undefined || ids === null) throw new VouchError(`the coordinator has no answer for job ${job.jobId} yet`);
      bytes = int32Bytes(ids);
    } else {
      bytes = await this.#settledBytes(job, options.fromBlock);
    }
    const root = await this.#settledRoot(job.jobId);
    const actual = tensorRoot(bytes, bytes.length);
    if (bytes.length === 0 || bytes.length % 4 !== 0 || actual !== root) {
      throw new OutputMismatchError(job.jobId, root, actual, `their root is ${actual}, the settled root is ${root}`);
    }
    const ids = int32Ids(bytes);
    const same = record?.answer_ids?.length === ids.length && record.answer_ids.every((id, i) => id === ids[i]);
    return {
      jobId: job.jobId,
      attempt: job.attempt,
      outputRoot: root,
      bytes: bytesToHex(bytes),
      ids,
      text: same && typeof record?.answer === 'string' ? record.answer : undefined,
    };
  }

  /**
   * Waits until job `jobId` settles and returns it: polls `getJob` until its status is `settled`.
   *
   * @throws {JobExpiredError} if it expired, or its deadline passed with no result.
   * @throws {TimeoutError} after `timeoutMs`.
   */
  async waitForSettlement(jobId: bigint | number, options: WaitOptions = {}): Promise<JobInfo> {
    const timeoutMs = options.timeoutMs ?? 600_000;
    const interval = options.pollIntervalMs ?? this.pollIntervalMs;
    const giveUp = Date.now() + timeoutMs;
    for (;;) {
      options.signal?.throwIfAborted();
      const job = await this.getJob(jobId);
      if (job.status === 'settled') return job;
      if (job.status === 'expired') throw new JobExpiredError(job.jobId, job.deadline);
      if (job.status === 'open' && (await this.#chainTime()) >= job.deadline) {
        throw new JobExpiredError(job.jobId, job.deadline);
      }
      if (Date.now() >= giveUp) {
        throw new TimeoutError(`job ${job.jobId} is still ${job.status} after ${timeoutMs} ms`);
      }
      await sleep(interval, options.signal);
    }
  }

  /**
   * The settled output of job `jobId`, checked against its settled output root on chain. Its bytes come from the
   * `ResultSubmitted` log of the settled attempt (`source: 'chain'`, searched from `fromBlock`), or from the
   * coordinator's `GET /v1/jobs/{id}` (`source: 'coordinator'`); either way only bytes whose tensor root is the
   * chain's settled root are returned.
   *
   * @throws {JobNotSettledError} if the job has not settled.
   * @throws {OutputMismatchError} if the bytes found are not the settled output.
   */
  async getSettledOutput(
    jobId: bigint | number,
    options: { source?: OutputSource; fromBlock?: bigint } = {},
  ): Promise<SettledOutput> {
    const job = await this.getJob(jobId);
    if (job.status !== 'settled') throw new JobNotSettledError(job.jobId, job.status);
    let bytes: Uint8Array;
    if (options.source === 'coordinator') {
      const record = await this.#coordinator().job(job.jobId);
      if (record.output === null) throw new VouchError(`the coordinator has no output for job ${job.jobId} yet`);
      bytes = toBytes(record.output);
    } else {
      bytes = await this.#settledBytes(job, options.fromBlock);
    }
    return this.#check(job, bytes);
  }

  /**
   * Checks that `output` is exactly the settled output of job `jobId`: its length is the job's output length and
   * its tensor root (rows of the output's `C`) is the settled output root on chain.
   *
   * @throws {JobNotSettledError} if the job has not settled.
   * @throws {OutputMismatchError} if it is not.
   */
  async verifyOutput(jobId: bigint | number, output: TensorLike): Promise<SettledOutput> {
    const job = await this.getJob(jobId);
    if (job.status !== 'settled') throw new JobNotSettledError(job.jobId, job.status);
    return this.#check(job, toBytes(output));
  }

  /** `JobMarket.isSettledOutput`: the contract's own check of `output` against job `jobId` (false if unsettled). */
  isSettledOutput(jobId: bigint | number, output: TensorLike): Promise<boolean> {
    return this.#read(() =>
      this.publicClient.readContract({
        address: this.market,
        abi: jobMarketAbi,
        functionName: 'isSettledOutput',
        args: [BigInt(jobId), bytesToHex(toBytes(output))],
      }),
    );
  }

  /**
   * Sends a transaction the coordinator prepared from the user's wallet, only if it is `postJob` on this market and
   * chain with `modelId`, exactly `input`, a future deadline, and `fee` as its value; simulated first.
   */
  async #sendPrepared(prepared: PreparedTransaction, modelId: bigint, input: Uint8Array, fee: bigint): Promise<Hash> {
    const wallet = this.#wallet();
    const [chainId, now] = await Promise.all([this.publicClient.getChainId(), this.#chainTime()]);
    const refuse = (why: string): never => {
      throw new PreparedTransactionError(`the coordinator's prepared transaction ${why}; it was not sent`);
    };
    if (prepared.chain_id !== chainId) refuse(`is for chain ${prepared.chain_id}, not ${chainId}`);
    if (!isAddress(prepared.to) || getAddress(prepared.to) !== this.market) {
      refuse(`goes to ${prepared.to}, not the market ${this.market}`);
    }
    if (!/^[0-9]+$/.test(String(prepared.value)) || BigInt(prepared.value) !== fee) {
      refuse(`pays ${prepared.value} wei; the job's fee on chain is ${fee} wei`);
    }
    let call;
    try {
      call = decodeFunctionData({ abi: jobMarketAbi, data: prepared.data });
    } catch {
      return refuse('is not a call of the market');
    }
    if (call.functionName !== 'postJob') return refuse(`calls ${call.functionName}, not postJob`);
    const [calledModel, calledInput, deadline] = call.args;
    if (calledModel !== modelId) refuse(`posts to model ${calledModel}, not ${modelId}`);
    if (calledInput !== bytesToHex(input)) refuse('carries another input');
    if (deadline <= now) refuse(`has a deadline ${deadline} that is not after the chain's time ${now}`);
    // What is sent is exactly the call checked above, byte for byte.
    if (encodeFunctionData({ abi: jobMarketAbi, functionName: 'postJob', args: call.args }) !== prepared.data.toLowerCase()) {
      refuse('carries more than the postJob call');
    }
    return withDecodedErrors(async () => {
      await this.publicClient.simulateContract({
        address: this.market,
        abi: jobMarketAbi,
        functionName: 'postJob',
        args: call.args,
        value: fee,
        account: wallet.account,
      });
      return wallet.sendTransaction({
        account: wallet.account,
        chain: wallet.chain,
        to: this.market,
        data: prepared.data,
        value: fee,
      });
    });
  }

  /** The output bytes of `job`'s settled attempt, from its `ResultSubmitted` log. */
  async #settledBytes(job: JobInfo, fromBlock = this.fromBlock): Promise<Uint8Array> {
    const logs = await this.#read(() =>
      this.publicClient.getContractEvents({
        address: this.market,
        abi: jobMarketAbi,
        eventName: 'ResultSubmitted',
        args: { jobId: job.jobId },
        fromBlock,
        strict: true,
      }),
    );
    const settled = logs.find((l) => l.args.attempt === job.attempt && l.args.outputRoot === job.outputRoot);
    if (settled === undefined) {
      throw new VouchError(`no ResultSubmitted log of job ${job.jobId}, attempt ${job.attempt} from block ${fromBlock}`);
    }
    return hexToBytes(settled.args.output);
  }

  /** `JobMarket.settledOutputRoot` of a settled job. */
  #settledRoot(jobId: bigint): Promise<Hex> {
    return this.#read(() =>
      this.publicClient.readContract({
        address: this.market,
        abi: jobMarketAbi,
        functionName: 'settledOutputRoot',
        args: [jobId],
      }),
    );
  }

  async #check(job: JobInfo, bytes: Uint8Array): Promise<SettledOutput> {
    const root = await this.#settledRoot(job.jobId);
    if (bytes.length !== job.outputLen) {
      throw new OutputMismatchError(job.jobId, root, null, `${bytes.length} bytes, the output has ${job.outputLen}`);
    }
    const actual = tensorRoot(bytes, job.outputRowLen);
    if (actual !== root) {
      throw new OutputMismatchError(job.jobId, root, actual, `their root is ${actual}, the settled root is ${root}`);
    }
    return { jobId: job.jobId, attempt: job.attempt, outputRoot: root, bytes: bytesToHex(bytes), output: toInt8(bytes) };
  }

  /** The posted job from its transaction's receipt. */
  async #posted(hash: Hash): Promise<PostedJob> {
    const receipt = await this.publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new VouchError(`postJob transaction ${hash} reverted on chain`);
    const [posted] = parseEventLogs({ abi: jobMarketAbi, eventName: 'JobPosted', logs: receipt.logs }).filter(
      (l) => getAddress(l.address) === this.market,
    );
    if (posted === undefined) throw new VouchError(`transaction ${hash} posted no job on the market ${this.market}`);
    return {
      jobId: posted.args.jobId,
      txHash: hash,
      blockNumber: receipt.blockNumber,
      poster: posted.args.poster,
      fee: posted.args.fee,
      deadline: posted.args.deadline,
      inputRoot: posted.args.inputRoot,
    };
  }

  /** `ttl` after the later of the latest block's time and the wall clock (as the coordinator does). */
  async #deadline(ttlSecs = DEFAULT_TTL_SECS): Promise<bigint> {
    if (!Number.isInteger(ttlSecs) || ttlSecs < 1) throw new VouchError(`ttlSecs must be a positive integer, got ${ttlSecs}`);
    const wall = BigInt(Math.floor(Date.now() / 1000));
    const chain = await this.#chainTime();
    return (chain > wall ? chain : wall) + BigInt(ttlSecs);
  }

  async #chainTime(): Promise<bigint> {
    return (await this.publicClient.getBlock({ blockTag: 'latest' })).timestamp;
  }

  #read<T>(f: () => Promise<T>): Promise<T> {
    return withDecodedErrors(f);
  }

  #wallet(): Wallet {
    if (this.walletClient === undefined) throw new VouchError('posting a job from the user\'s wallet needs walletClient');
    return this.walletClient;
  }

  #coordinator(): CoordinatorClient {
    if (this.coordinator === undefined) throw new VouchError('this needs a coordinator (VouchClient.fromCoordinator)');
    return this.coordinator;
  }
}

/** The coordinator's request body for a job. */
function requestBody(modelId: bigint, input: Uint8Array, ttlSecs: number | undefined): JobRequestBody {
  return {
    model_id: Number(modelId),
    input: Array.from(toInt8(input)),
    ...(ttlSecs !== undefined && { ttl_secs: ttlSecs }),
  };
}

/** The coordinator's request body for a language model's job. */
function textBody(modelId: bigint, prompt: string, maxTokens: number, ttlSecs: number | undefined): JobRequestBody {
  return {
    model_id: Number(modelId),
    prompt,
    max_tokens: maxTokens,
    ...(ttlSecs !== undefined && { ttl_secs: ttlSecs }),
  };
}

/**
 * The fee a language model's job of `promptLen` tokens and budget `maxNew` escrows, `P·perInputToken +
 * maxNew·perOutputToken` (PROTOCOL §7.2; the unused tokens are refunded when it settles): the one place the SDK
 * prices a text job.
 */
export function textFee(model: ModelInfo, promptLen: number, maxNew: number): bigint {
  if (model.llmPrices === undefined) throw new Error(`model ${model.modelId} is not a language model`);
  return BigInt(promptLen) * model.llmPrices.perInputToken + BigInt(maxNew) * model.llmPrices.perOutputToken;
}

/** The inline JSON metadata of a model's `uri`, or `{}`. */
function parseMetadata(uri: string): Record<string, unknown> {
  if (!uri.startsWith(META_URI_PREFIX)) return {};
  try {
    const meta: unknown = JSON.parse(uri.slice(META_URI_PREFIX.length));
    return typeof meta === 'object' && meta !== null ? (meta as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
