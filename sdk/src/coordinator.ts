// A typed client of the coordinator's HTTP API (docs/API.md).

import type { Address, Hex } from 'viem';
import { CoordinatorError, type JobStatusName, type ModelStatusName } from './errors.js';

/** `GET /v1/deployment`: the chain and contracts a coordinator follows. */
export interface CoordinatorDeployment {
  chain_id: number;
  registry: Address;
  market: Address;
  game: Address;
  prover: Address;
  /** The `LlmStepProver`: the one step of a language model's result. */
  llm_prover: Address;
  /** The block of the first deployment transaction (where event searches can start). */
  start_block: number;
}

/** A language model's registered config (`ModelRegistry.llmConfig`). */
export interface CoordinatorLlmConfig {
  blocks: number;
  hidden: number;
  heads: number;
  kv_heads: number;
  head_dim: number;
  ffn: number;
  /** Every token id is below it. */
  vocab: number;
  /** Positions a job may use: prompt tokens + `max_tokens` − 1 ≤ `context`. */
  context: number;
  /** The end-of-answer token. */
  eos: number;
}

/** `GET /v1/models/{id}`. */
export interface CoordinatorModel {
  id: number;
  /** `tensor` (jobs are int8 tensors) or `llm` (jobs are prompts, answered with tokens). */
  kind: 'tensor' | 'llm';
  owner: Address;
  root: Hex;
  op_count: number;
  input_len: number;
  output_len: number;
  input_shape: [number, number, number];
  input_zero: number;
  output_shape: [number, number, number];
  fee_wei: string;
  royalty_bps: number;
  status: ModelStatusName;
  name: string;
  uri: string;
  /** A language model's config (absent for a tensor model). */
  llm_config?: CoordinatorLlmConfig;
}

/** `GET /v1/jobs/{id}`: a job as indexed (the output is unverified until checked against the chain). */
export interface CoordinatorJob {
  job_id: number;
  model_id: number;
  status: Exclude<JobStatusName, 'none'>;
  poster: Address;
  fee_wei: string;
  deadline: number;
  input_root: Hex;
  input: number[];
  worker: Address | null;
  output_root: Hex | null;
  trace_root: Hex | null;
  submitted_at: number | null;
  output: number[] | null;
  settled: boolean;
  worker_payout_wei: string | null;
  royalty_wei: string | null;
  refund_wei: string | null;
  posted_tx: Hex;
  posted_block: number;
  /** A language model's job: the prompt's token ids as posted (the chat template applied). */
  prompt_ids?: number[];
  /** A language model's job: its token budget. */
  max_tokens?: number;
  /** A language model's job: the answer's token ids once a result exists (unverified until checked). */
  answer_ids?: number[] | null;
  /** A language model's job: `answer_ids` decoded by the model's tokenizer, eos and control tokens left out. */
  answer?: string | null;
}

/** The body of `POST /v1/jobs` and `POST /v1/jobs/prepare`: a tensor model's `input`, or a language model's `prompt`. */
export interface JobRequestBody {
  model_id: number;
  /** A tensor model's input: int8 numbers, flat or nested `[H][W][C]`. */
  input?: readonly unknown[];
  /** A language model's prompt, as text (the coordinator applies the model's chat template and tokenizer). */
  prompt?: string;
  /** A language model's token budget (the coordinator's default, 64, when absent). */
  max_tokens?: number;
  /** Seconds the job may wait for a result (1 … 2,592,000); the coordinator's default when absent. */
  ttl_secs?: number;
}

/** `POST /v1/jobs` answer. */
export interface CoordinatorJobPosted {
  job_id: number;
  tx_hash: Hex;
  input_root: Hex;
  status: 'open';
  deadline: number;
  /** The fee the job escrows, in wei (decimal). */
  fee_wei: string;
  /** A language model's job: the prompt's token ids posted. */
  prompt_ids?: number[];
  /** A language model's job: the token budget posted. */
  max_tokens?: number;
}

/** `POST /v1/jobs/prepare` answer: the transaction for the user's wallet to send. */
export interface PreparedTransaction {
  chain_id: number;
  to: Address;
  data: Hex;
  /** Wei, decimal. */
  value: string;
  /** A language model's job: the prompt's token ids the calldata carries (`[max_tokens, prompt_ids…]`). */
  prompt_ids?: number[];
  /** A language model's job: the token budget the calldata carries. */
  max_tokens?: number;
}

/** Options of {@link CoordinatorClient}. */
export interface CoordinatorClientOptions {
  /** The API key (`vk_…`) `POST /v1/jobs` needs; nothing else does. */
  apiKey?: string;
  /** The `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
}

/** The coordinator's HTTP API. Every error status becomes a {@link CoordinatorError} with the API's message. */
export class CoordinatorClient {
  readonly url: string;
  readonly #apiKey: string | undefined;
  readonly #fetch: typeof fetch;

  /** A client of the coordinator at `url` (e.g. `http://127.0.0.1:8080`). */
  constructor(url: string, options: CoordinatorClientOptions = {}) {
    this.url = url.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#fetch = options.fetch ?? fetch;
  }

  /** `GET /v1/deployment`. */
  deployment(): Promise<CoordinatorDeployment> {
    return this.#call('GET', '/v1/deployment');
  }

  /** `GET /v1/models/{id}`. */
  model(id: number | bigint): Promise<CoordinatorModel> {
    return this.#call('GET', `/v1/models/${id}`);
  }

  /** `GET /v1/jobs/{id}`. */
  job(id: number | bigint): Promise<CoordinatorJob> {
    return this.#call('GET', `/v1/jobs/${id}`);
  }

  /** `POST /v1/jobs`: the coordinator posts the job and pays its fee, charged to the API key. */
  postJob(body: JobRequestBody): Promise<CoordinatorJobPosted> {
    if (this.#apiKey === undefined) {
      throw new CoordinatorError(401, 'posting a job through the coordinator needs an API key (apiKey option)');
    }
    return this.#call('POST', '/v1/jobs', body, this.#apiKey);
  }

  /** `POST /v1/jobs/prepare`: the `postJob` transaction for the user's own wallet to send and pay (no key). */
  prepareJob(body: JobRequestBody): Promise<PreparedTransaction> {
    return this.#call('POST', '/v1/jobs/prepare', body);
  }

  async #call<T>(method: string, path: string, body?: unknown, apiKey?: string): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (apiKey !== undefined) headers.authorization = `Bearer ${apiKey}`;
    const response = await this.#fetch(this.url + path, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const message = (json as { error?: unknown } | undefined)?.error;
      throw new CoordinatorError(response.status, typeof message === 'string' ? message : text || response.statusText);
    }
    if (json === undefined) throw new CoordinatorError(response.status, `not JSON: ${text.slice(0, 200)}`);
    return json as T;
  }
}
