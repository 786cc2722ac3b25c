// @vouch/sdk: post Vouch inference jobs, wait for settlement, read outputs checked against their on-chain roots.

export * from './abi/index.js';
export {
  DEFAULT_TTL_SECS,
  VouchClient,
  textFee,
  type JobInfo,
  type JobRequest,
  type ModelInfo,
  type OutputSource,
  type PostedJob,
  type PostedTextJob,
  type SettledAnswer,
  type SettledOutput,
  type TextRequest,
  type VouchClientOptions,
  type WaitOptions,
  type Wallet,
} from './client.js';
export { TENSOR_LEAF_BYTES, tensorLeaves, tensorRoot } from './commit.js';
export { DEFAULT_MAX_TOKENS, int32Bytes, int32Ids, textInput } from './text.js';
export {
  CoordinatorClient,
  type CoordinatorClientOptions,
  type CoordinatorDeployment,
  type CoordinatorJob,
  type CoordinatorJobPosted,
  type CoordinatorLlmConfig,
  type CoordinatorModel,
  type JobRequestBody,
  type PreparedTransaction,
} from './coordinator.js';
export {
  ChainMismatchError,
  ContractRevertError,
  CoordinatorError,
  InvalidTensorError,
  JOB_STATUSES,
  JobExpiredError,
  JobNotSettledError,
  MODEL_STATUSES,
  OutputMismatchError,
  PreparedTransactionError,
  TimeoutError,
  VouchError,
  decodeContractError,
  describeContractError,
  type JobStatusName,
  type ModelStatusName,
} from './errors.js';
export {
  argmax,
  classify,
  shapeLength,
  toBytes,
  toInt8,
  type Classification,
  type Shape,
  type TensorLike,
  type TensorLikeNested,
} from './tensor.js';
