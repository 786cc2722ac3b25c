//! A job's input as both posting routes check it (`POST /v1/jobs`, `POST /v1/jobs/prepare`): a
//! tensor model's int8 tensor, or a language model's prompt, tokenized with the model's own card
//! and held to the market's rules (`LibLlmJob.checkPrompt`, PROTOCOL §7.2) before any transaction
//! exists; and what the job costs.

use crate::{
    cards::{CardError, Cards},
    error::ApiError,
    models,
};
use alloy::primitives::U256;
use vouch_chain::llm::LlmPrice;
use vouch_client::{JobRequest, LlmConfigRecord, ModelKind, ModelRecord, PromptTokens};
use vouch_core::tensor::Tensor;
use vouch_llm::trace::Job as LmJob;

/// A checked job input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobInput {
    /// A tensor model's input, in the model's input shape.
    Tensor(Tensor),
    /// A language model's prompt ids and token budget: every id below the vocabulary, and
    /// `prompt + max_new − 1` within the context.
    Text(LmJob),
}

impl JobInput {
    /// The bytes `postJob` carries: the int8 tensor, or the int32 big-endian row
    /// `[max_new, ids…]`.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::Tensor(t) => t.to_bytes(),
            Self::Text(job) => job.input().iter().flat_map(|v| v.to_be_bytes()).collect(),
        }
    }

    /// A language model's prompt ids and budget, as the answers show them.
    pub fn prompt_tokens(&self) -> Option<PromptTokens> {
        match self {
            Self::Tensor(_) => None,
            Self::Text(job) => Some(PromptTokens {
                prompt_ids: job.prompt.clone(),
                max_tokens: job.max_new as u32,
            }),
        }
    }
}

/// A language model's per-token prices (its `models` row holds them once `LlmRegistered` is
/// indexed).
pub fn llm_price(model: &ModelRecord) -> Result<LlmPrice, ApiError> {
    models::llm_price(model)?
        .ok_or_else(|| ApiError::BadRequest(format!("model {} is not priced per token", model.id)))
}

/// The fee a job with `input` on `model` escrows (the `postJob` value): the one place a job's
/// price is computed. A tensor model's job pays the model's flat fee; a language model's escrows
/// its most, `P·perInputToken + maxNew·perOutputToken`, and is refunded the unused tokens when it
/// settles.
pub fn job_fee(model: &ModelRecord, input: &JobInput) -> Result<U256, ApiError> {
    Ok(match input {
        JobInput::Tensor(_) => models::fee(model)?,
        JobInput::Text(job) => llm_price(model)?.escrow(job.prompt.len(), job.max_new),
    })
}

/// The input `req` names for `model` (known and active): its `input` tensor for a tensor model,
/// its `prompt` and `max_tokens` for a language model. Each kind refuses the other's fields.
pub async fn read(
    model: &ModelRecord,
    req: &JobRequest,
    cards: &Cards,
) -> Result<JobInput, ApiError> {
    let id = model.id;
    match (model.kind, &model.llm_config) {
        (ModelKind::Tensor, _) => {
            if req.prompt.is_some() || req.max_tokens.is_some() {
                return Err(ApiError::BadRequest(format!(
                    "model {id} is a tensor model: it takes an `input` tensor, not a `prompt` or \
                     `max_tokens`"
                )));
            }
            let input = req.input.as_ref().ok_or_else(|| {
                let [h, w, c] = model.input_shape;
                ApiError::BadRequest(format!(
                    "model {id} is a tensor model: send its `input`, {} int8 numbers, flat or \
                     nested as [{h}][{w}][{c}]",
                    model.input_len
                ))
            })?;
            Ok(JobInput::Tensor(
                model.input_from_json(input).map_err(ApiError::BadRequest)?,
            ))
        }
        (ModelKind::Llm, Some(config)) => {
            if req.input.is_some() {
                return Err(ApiError::BadRequest(format!(
                    "model {id} is a language model: it takes a `prompt` (text) and `max_tokens`, \
                     not an `input` tensor"
                )));
            }
            let prompt = req.prompt.as_deref().ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "model {id} is a language model: send a `prompt` (text) and optionally \
                     `max_tokens` (default {})",
                    vouch_client::DEFAULT_MAX_TOKENS
                ))
            })?;
            let max_tokens = req.max_tokens.unwrap_or(vouch_client::DEFAULT_MAX_TOKENS);
            Ok(JobInput::Text(
                prompt_job(id, config, prompt, max_tokens, cards).await?,
            ))
        }
        (ModelKind::Llm, None) => Err(ApiError::Internal(format!(
            "language model {id} indexed without its config"
        ))),
    }
}

/// Language model `id`'s job on `prompt`: tokenized with the model's card (its chat template and
/// default system message), then held to the market's rules for the registered `config`, each
/// refusal naming the limit.
async fn prompt_job(
    id: u64,
    config: &LlmConfigRecord,
    prompt: &str,
    max_tokens: u64,
    cards: &Cards,
) -> Result<LmJob, ApiError> {
    let context = u64::from(config.context);
    if max_tokens == 0 || max_tokens > context {
        return Err(ApiError::BadRequest(format!(
            "max_tokens must be between 1 and model {id}'s context of {context} tokens, got \
             {max_tokens}"
        )));
    }
    let text = cards.get(id).await.map_err(|e| match e {
        CardError::Chain(e) => ApiError::from(e),
        CardError::Unusable(why) => ApiError::Conflict(format!(
            "model {id}'s card (its tokenizer) cannot be used: {why}"
        )),
    })?;
    text.check(config).map_err(|why| {
        ApiError::Conflict(format!(
            "model {id}'s card does not match its registration ({why}): no worker serves it"
        ))
    })?;
    // Positions the job needs: P + max_tokens − 1 ≤ context.
    let fits = |p: u64| p + max_tokens - 1 <= context;
    let too_long = |p: u64, what: &str| {
        ApiError::BadRequest(format!(
            "the prompt is {what}{p} tokens with model {id}'s chat template; with max_tokens \
             {max_tokens} it needs {} positions, past the model's context of {context} (prompt \
             tokens + max_tokens − 1 ≤ {context})",
            p + max_tokens - 1
        ))
    };
    // A prompt that cannot fit is refused before it is tokenized.
    let least = text.min_tokens(prompt) as u64;
    if !fits(least) {
        return Err(too_long(least, "at least "));
    }
    let owned = prompt.to_owned();
    let chat = text.clone();
    let ids = tokio::task::spawn_blocking(move || chat.chat(&owned))
        .await
        .map_err(|e| ApiError::Internal(format!("tokenizer task: {e}")))?
        .map_err(|e| {
            ApiError::Conflict(format!("model {id}'s tokenizer cannot take a prompt: {e}"))
        })?;
    let p = ids.len() as u64;
    if !fits(p) {
        return Err(too_long(p, ""));
    }
    if let Some((i, &bad)) = ids.iter().enumerate().find(|&(_, &t)| t >= config.vocab) {
        return Err(ApiError::BadRequest(format!(
            "token {i} of the prompt is id {bad}, outside model {id}'s vocabulary of {} ids",
            config.vocab
        )));
    }
    Ok(LmJob {
        prompt: ids,
        max_new: max_tokens as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_inputs_are_int32_rows() {
        let job = JobInput::Text(LmJob {
            prompt: vec![1, 258],
            max_new: 3,
        });
        assert_eq!(job.to_bytes(), [0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 1, 2]);
        assert_eq!(
            job.prompt_tokens(),
            Some(PromptTokens {
                prompt_ids: vec![1, 258],
                max_tokens: 3
            })
        );
    }
}
