// The SDK's typed errors, and the contracts' custom errors decoded into readable messages.

import { BaseError, ContractFunctionRevertedError, decodeErrorResult, formatEther, type Abi, type Hex } from 'viem';
import {
  disputeGameAbi,
  jobMarketAbi,
  modelRegistryAbi,
  vouchConsumerExampleAbi,
  vouchLlmConsumerExampleAbi,
} from './abi/index.js';

/** The base class of every error the SDK throws on purpose. */
export class VouchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An int8 tensor was malformed: an element outside [-128, 127], the wrong length, or ragged rows. */
export class InvalidTensorError extends VouchError {}

/** Output bytes do not hash to the job's settled output root: they are not the settled output. */
export class OutputMismatchError extends VouchError {
  constructor(
    /** The job. */
    readonly jobId: bigint,
    /** The settled output root on chain. */
    readonly expectedRoot: Hex,
    /** The tensor root of the bytes offered (`null` when their length is already wrong). */
    readonly actualRoot: Hex | null,
    detail: string,
  ) {
    super(`the output offered for job ${jobId} is not its settled output: ${detail}`);
  }
}

/** The job is not settled (yet): it has no final output. */
export class JobNotSettledError extends VouchError {
  constructor(
    readonly jobId: bigint,
    /** Its status now. */
    readonly status: JobStatusName,
  ) {
    super(`job ${jobId} is ${status}, not settled: it has no final output yet`);
  }
}

/** The job expired without a result (its fee is refundable to the poster) or can no longer get one. */
export class JobExpiredError extends VouchError {
  constructor(
    readonly jobId: bigint,
    /** Its deadline, unix seconds. */
    readonly deadline: bigint,
  ) {
    super(`job ${jobId} got no result before its deadline ${deadline}; its fee goes back to the poster`);
  }
}

/** Waiting took longer than the caller allowed. */
export class TimeoutError extends VouchError {}

/** The coordinator answered with an error status (`message` is its `{"error": …}`). */
export class CoordinatorError extends VouchError {
  constructor(
    /** HTTP status. */
    readonly status: number,
    message: string,
  ) {
    super(`coordinator: ${status} ${message}`);
  }
}

/** A transaction the coordinator prepared is not the one the caller asked for, so it was not sent. */
export class PreparedTransactionError extends VouchError {}

/** The chain (RPC endpoint or wallet) is not the chain the contracts are on. */
export class ChainMismatchError extends VouchError {}

/** A contract reverted with one of its custom errors, decoded. */
export class ContractRevertError extends VouchError {
  constructor(
    /** The Solidity error's name, e.g. `WrongFee`. */
    readonly errorName: string,
    /** Its arguments, by position. */
    readonly args: readonly unknown[],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `JobStatus` (ABI `uint8`) by value. */
export const JOB_STATUSES = ['none', 'open', 'submitted', 'settled', 'expired'] as const;
/** A job's status. */
export type JobStatusName = (typeof JOB_STATUSES)[number];

/** `ModelStatus` (ABI `uint8`) by value. */
export const MODEL_STATUSES = ['none', 'pending', 'active', 'retired'] as const;
/** A model's status. */
export type ModelStatusName = (typeof MODEL_STATUSES)[number];

const jobStatus = (v: unknown) => JOB_STATUSES[Number(v)] ?? `status ${v}`;
const modelStatus = (v: unknown) => MODEL_STATUSES[Number(v)] ?? `status ${v}`;
const wei = (v: unknown) => `${v} wei (${formatEther(BigInt(v as bigint))} ETH)`;
const time = (v: unknown) => `${new Date(Number(v) * 1000).toISOString()} (unix ${v})`;

/** Readable messages of the errors a dApp meets; any other error is shown with its named arguments. */
const MESSAGES: Record<string, (a: readonly unknown[]) => string> = {
  UnknownModel: ([id]) => `no model has id ${id}`,
  ModelNotActive: ([id, s]) => `model ${id} is ${modelStatus(s)}, not active: it takes no jobs`,
  WrongFee: ([sent, expected]) => `sent ${wei(sent)}, but the model's fee is ${wei(expected)}`,
  InputLengthMismatch: ([actual, expected]) => `the input has ${actual} elements; the model takes ${expected}`,
  DeadlineInPast: ([deadline, now]) => `the deadline ${time(deadline)} is not after the chain's time ${time(now)}`,
  CallbackGasOutOfRange: ([gas, max]) => `a callback may ask for 1 to ${max} gas, not ${gas}`,
  UnknownJob: ([id]) => `no job has id ${id}`,
  JobNotOpen: ([id, s]) => `job ${id} is ${jobStatus(s)}, not open`,
  JobNotSubmitted: ([id, s]) => `job ${id} is ${jobStatus(s)}: it has no result waiting to settle`,
  JobNotSettled: ([id, s]) => `job ${id} is ${jobStatus(s)}, not settled: it has no final output yet`,
  JobExpired: ([id, deadline]) => `job ${id} expired at ${time(deadline)}`,
  ChallengeWindowOpen: ([id, ends]) => `job ${id}'s challenge window is open until ${time(ends)}`,
  GamesOpen: ([id, n]) => `job ${id}'s result is disputed in ${n} open game(s); it settles once they are decided`,
  DeadlineNotReached: ([id, deadline]) => `job ${id} can be refunded from ${time(deadline)}, not before`,
  InsufficientCallbackGas: ([available, required]) =>
    `finalize needs ${required} gas left for the consumer's callback, only ${available} were`,
  NothingToWithdraw: () => 'this account has no credit to withdraw',
  TransferFailed: () => 'sending the credit failed (the receiving account refused the ether); it stays credited',
  WrongBond: ([sent, expected]) => `sent ${wei(sent)} as bond; the bond is ${wei(expected)}`,
  OutputLengthMismatch: ([actual, expected]) => `the output has ${actual} elements; the model gives ${expected}`,
  OutputRootMismatch: ([computed, claimed]) => `the output hashes to ${computed}, not to the claimed root ${claimed}`,
  RaggedTensor: ([length, rowLen]) => `${length} bytes are not a whole number of rows of ${rowLen}`,
  EmptyTree: () => 'a tensor needs at least one element',
  Reentrancy: () => 'the market was re-entered',
  NotModelOwner: ([id, caller]) => `${caller} does not own model ${id}`,
  NotSettledOutput: ([id]) => `the bytes given are not job ${id}'s settled output (or it has not settled)`,
  NotAsked: ([id]) => `job ${id} was not posted by this consumer`,
  OnlyMarket: ([caller]) => `only the market may call back, not ${caller}`,
  NotTokenIds: ([length]) => `${length} bytes are not whole int32 token ids`,
};

/** Every custom error of the contracts, once each (same names have the same signatures). */
const ERRORS_ABI: Abi = (() => {
  const seen = new Map<string, Abi[number]>();
  const abis = [jobMarketAbi, modelRegistryAbi, vouchConsumerExampleAbi, vouchLlmConsumerExampleAbi, disputeGameAbi];
  for (const abi of abis as Abi[]) {
    for (const item of abi) if (item.type === 'error' && !seen.has(item.name)) seen.set(item.name, item);
  }
  return [...seen.values()];
})();

/** A readable sentence for custom error `errorName` with `args`, e.g. `WrongFee: sent 1 wei (…), but …`. */
export function describeContractError(errorName: string, args: readonly unknown[]): string {
  const describe = MESSAGES[errorName];
  if (describe) return `${errorName}: ${describe(args)}`;
  const item = ERRORS_ABI.find((e) => e.type === 'error' && e.name === errorName);
  const names = item?.type === 'error' ? item.inputs.map((i, k) => i.name || `arg${k}`) : [];
  return `${errorName}(${args.map((a, k) => `${names[k] ?? `arg${k}`}: ${String(a)}`).join(', ')})`;
}

/**
 * The contract's custom error inside `error` (a viem error from a call, simulation, gas estimate or send),
 * decoded with the Vouch contracts' ABIs; `undefined` if it carries none.
 */
export function decodeContractError(error: unknown): ContractRevertError | undefined {
  if (error instanceof ContractRevertError) return error;
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName) {
    const args = reverted.data.args ?? [];
    return new ContractRevertError(reverted.data.errorName, args, describeContractError(reverted.data.errorName, args), {
      cause: error,
    });
  }
  // A revert without an ABI at hand (a raw transaction): its data, wherever viem put it.
  const raw = error.walk((e) => typeof (e as { data?: unknown }).data === 'string');
  const data = (raw as { data?: unknown } | null)?.data;
  if (typeof data === 'string' && data.startsWith('0x') && data.length >= 10) {
    try {
      const { errorName, args } = decodeErrorResult({ abi: ERRORS_ABI, data: data as Hex });
      const list = (args ?? []) as readonly unknown[];
      return new ContractRevertError(errorName, list, describeContractError(errorName, list), { cause: error });
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Runs `f`; a contract revert it throws comes out as a {@link ContractRevertError}, anything else unchanged. */
export async function withDecodedErrors<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw decodeContractError(e) ?? e;
  }
}
