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
    /// A language model's job: its prompt's ids, its token budget and, once a result exists, the
    /// answer (absent for a tensor model's job; `input` and `output` are then the int32 rows' raw
    /// bytes as int8 numbers).
    #[serde(flatten)]
    pub text: Option<TextJob>,
}

/// What a language model's job adds to its [`JobRecord`] (PROTOCOL §7.2): the input row
/// `[max_tokens, prompt_ids…]` and the output row `answer_ids`, read from their int32 big-endian
/// bytes, and the answer's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextJob {
    /// The prompt's token ids as posted (the model's chat template applied).
    pub prompt_ids: Vec<u32>,
    /// The most tokens the answer may have (the job's `maxNew`).
    pub max_tokens: u32,
    /// The answer's token ids once a result is submitted: 1 to `max_tokens` of them, the last the
    /// model's eos unless the answer ran out of tokens.
    #[serde(default)]
    pub answer_ids: Option<Vec<u32>>,
    /// `answer_ids` decoded by the model's own tokenizer, eos and control tokens left out (null
    /// while there is no result, or if the model's card cannot be read).
    #[serde(default)]
    pub answer: Option<String>,
}

/// A prompt as a language model's job takes it: what the coordinator tokenized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptTokens {
    /// The prompt's token ids (the model's chat template applied): the input row's `ids`.
    pub prompt_ids: Vec<u32>,
    /// The token budget: the input row's `maxNew`.
    pub max_tokens: u32,
}

/// The body of `POST /v1/jobs` and `POST /v1/jobs/prepare`: a tensor model's `input`, or a language
/// model's `prompt` and `max_tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobRequest {
    /// The model (`"model"` is accepted too).
    #[serde(alias = "model")]
    pub model_id: u64,
    /// A tensor model's input: int8 numbers, flat or nested in the model's input shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<serde_json::Value>,
    /// A language model's prompt, as text: the coordinator applies the model's chat template and
    /// tokenizer (from its card on chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// A language model's token budget (default [`DEFAULT_MAX_TOKENS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// Seconds a worker has to answer (default: the coordinator's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<u64>,
}

/// A language model's token budget when the request names none.
pub const DEFAULT_MAX_TOKENS: u64 = 64;

impl JobRequest {
    /// A tensor model's job on `input` (int8 numbers, flat or nested).
    pub fn tensor(model_id: u64, input: serde_json::Value) -> Self {
        Self {
            model_id,
            input: Some(input),
            prompt: None,
            max_tokens: None,
            ttl_secs: None,
        }
    }

    /// A language model's job: `prompt` answered in at most `max_tokens` tokens (the API's default
    /// when `None`).
    pub fn text(model_id: u64, prompt: impl Into<String>, max_tokens: Option<u64>) -> Self {
        Self {
            model_id,
            input: None,
            prompt: Some(prompt.into()),
            max_tokens,
            ttl_secs: None,
        }
    }

    /// This request with a time to live.
    pub fn with_ttl(mut self, ttl_secs: Option<u64>) -> Self {
        self.ttl_secs = ttl_secs;
        self
    }
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
    /// Fee paid, in wei (decimal): what the job escrows.
    pub fee_wei: String,
    /// A language model's job: the prompt's ids and the token budget posted.
    #[serde(flatten)]
    pub prompt: Option<PromptTokens>,
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
    /// The job's fee as indexed, in wei (decimal): the transaction's value.
    pub value: String,
    /// A language model's job: the prompt's ids and the token budget the calldata carries.
    #[serde(flatten)]
    pub prompt: Option<PromptTokens>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(text: Option<TextJob>) -> JobRecord {
        JobRecord {
            job_id: 1,
            model_id: 2,
            status: JobStatus::Open,
            poster: "0x01".into(),
            fee_wei: "5".into(),
            deadline: 9,
            input_root: "0x02".into(),
            input: vec![0, 0, 0, 4, 0, 0, 0, 7],
            worker: None,
            output_root: None,
            trace_root: None,
            submitted_at: None,
            output: None,
            settled: false,
            worker_payout_wei: None,
            royalty_wei: None,
            refund_wei: None,
            posted_tx: "0x03".into(),
            posted_block: 4,
            text,
        }
    }

    #[test]
    fn text_fields_are_flat_and_only_on_language_model_jobs() {
        let tensor = record(None);
        let v = serde_json::to_value(&tensor).unwrap();
        assert!(
            v.get("prompt_ids").is_none() && v.get("answer").is_none(),
            "{v}"
        );
        assert_eq!(serde_json::from_value::<JobRecord>(v).unwrap(), tensor);

        let text = record(Some(TextJob {
            prompt_ids: vec![7],
            max_tokens: 4,
            answer_ids: None,
            answer: None,
        }));
        let v = serde_json::to_value(&text).unwrap();
        assert_eq!(v["prompt_ids"], json!([7]));
        assert_eq!(v["max_tokens"], 4);
        assert_eq!(v["answer_ids"], serde_json::Value::Null);
        assert_eq!(v["answer"], serde_json::Value::Null);
        assert_eq!(serde_json::from_value::<JobRecord>(v).unwrap(), text);
    }

    #[test]
    fn requests_carry_only_what_they_set() {
        let text = JobRequest::text(3, "hi", Some(8)).with_ttl(Some(60));
        assert_eq!(
            serde_json::to_value(&text).unwrap(),
            json!({ "model_id": 3, "prompt": "hi", "max_tokens": 8, "ttl_secs": 60 })
        );
        let tensor = JobRequest::tensor(1, json!([1, 2]));
        assert_eq!(
            serde_json::to_value(&tensor).unwrap(),
            json!({ "model_id": 1, "input": [1, 2] })
        );
        let e = serde_json::from_value::<JobRequest>(json!({ "model_id": 1, "fee": 1 }));
        assert!(e.unwrap_err().to_string().contains("unknown field `fee`"));
        // `"model"` names the model too (the shape issue 11 writes a text job in).
        let short: JobRequest =
            serde_json::from_value(json!({ "model": 3, "prompt": "hi", "max_tokens": 8 })).unwrap();
        assert_eq!(short, JobRequest::text(3, "hi", Some(8)));
    }
}
