//! Jobs: `GET /v1/jobs`, `GET /v1/jobs/{id}`, `POST /v1/jobs` and `POST /v1/jobs/prepare`.

use serde::{Deserialize, Serialize};
use vouch_chain::JobStatus;

/// A job as served by the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    /// Job id.
    pub job_id: u64,
    /// Model it runs.
    pub model_id: u64,
    /// Lifecycle status.
    pub status: JobStatus,
    /// Who posted it.
    pub poster: String,
    /// Escrowed fee, in wei (decimal).
    pub fee_wei: String,
    /// Unix time after which no result is accepted.
    pub deadline: u64,
    /// Tensor root of the input.
    pub input_root: String,
    /// `[inputLen]` int8 input.
    pub input: Vec<i8>,
    /// Who submitted the result.
    pub worker: Option<String>,
    /// Tensor root of the output.
    pub output_root: Option<String>,
    /// Root of the worker's trace.
    pub trace_root: Option<String>,
    /// When the result was submitted (unix time).
    pub submitted_at: Option<u64>,
    /// `[outputLen]` int8 output, once submitted.
    pub output: Option<Vec<i8>>,
    /// Whether the output is final.
    pub settled: bool,
    /// What the worker was credited at settlement, in wei.
    pub worker_payout_wei: Option<String>,
    /// What the model owner was credited at settlement, in wei.
    pub royalty_wei: Option<String>,
    /// What the poster got back when the job expired, in wei.
    pub refund_wei: Option<String>,
    /// The `postJob` transaction.
    pub posted_tx: String,
    /// Block of the `postJob` transaction.
    pub posted_block: u64,
}

/// `POST /v1/jobs` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobPostedResponse {
    /// The new job's id.
    pub job_id: u64,
    /// The `postJob` transaction.
    pub tx_hash: String,
    /// Tensor root of the input, computed by the contract.
    pub input_root: String,
    /// Always `open`.
    pub status: JobStatus,
    /// Unix time after which no result is accepted.
    pub deadline: u64,
    /// Fee paid, in wei (decimal).
    pub fee_wei: String,
}

/// `POST /v1/jobs/prepare` answer: an unsigned transaction (EIP-1193 `eth_sendTransaction` fields
/// minus `from`, gas and nonce, which the wallet fills in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreparedJob {
    /// EIP-155 chain id the transaction is for.
    pub chain_id: u64,
    /// The `JobMarket`.
    pub to: String,
    /// `postJob(modelId, input, deadline)` calldata.
    pub data: String,
    /// The model's fee as indexed, in wei (decimal): the transaction's value.
    pub value: String,
}
