//! What the integer and the float model share: the forward-pass interface, greedy generation and
//! the input checks.

use crate::{
    error::{LlmError, Result},
    int::{LOGIT_FRAC, ops::argmax},
};

/// Logits of the positions of one forward pass.
pub struct Logits {
    /// Vocabulary size (the length of one row).
    pub vocab: usize,
    /// Row-major `[T × vocab]`, in nats (the integer model's are its integers times 2^-12).
    pub values: Vec<f32>,
    /// The greedy next token of every row, as the model itself picks it (the integer model by its
    /// canonical argmax op: ties go to the lowest id).
    pub argmax: Vec<u32>,
}

impl Logits {
    /// The integer model's logits (`[T × vocab]`, units 2^-12) as real numbers, each row's greedy
    /// token picked by the canonical argmax op.
    pub fn from_int(vocab: usize, logits: &[i32]) -> Self {
        let unit = 2f32.powi(-LOGIT_FRAC);
        Self {
            vocab,
            values: logits.iter().map(|&v| v as f32 * unit).collect(),
            argmax: logits.chunks(vocab).map(|row| argmax(row) as u32).collect(),
        }
    }

    /// The `k` largest logits of row `t`, `(token, logit)`, largest first (ties to the lower id).
    pub fn top(&self, t: usize, k: usize) -> Vec<(u32, f32)> {
        let row = &self.values[t * self.vocab..][..self.vocab];
        let mut best: Vec<(u32, f32)> = Vec::with_capacity(k + 1);
        for (i, &v) in row.iter().enumerate() {
            if best.len() < k || v > best[best.len() - 1].1 {
                let at = best.partition_point(|&(_, w)| w >= v);
                best.insert(at, (i as u32, v));
                best.truncate(k);
            }
        }
        best
    }

    /// Natural-log probability of `token` at row `t` (a float softmax over the row).
    pub fn log_prob(&self, t: usize, token: u32) -> f64 {
        let row = &self.values[t * self.vocab..][..self.vocab];
        let m = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
        let z: f64 = row.iter().map(|&v| (v as f64 - m).exp()).sum();
        row[token as usize] as f64 - m - z.ln()
    }
}

/// A causal language model with a key/value cache.
pub trait LanguageModel {
    /// Keys and values of the tokens already seen.
    type Cache;
    /// Vocabulary size.
    fn vocab(&self) -> usize;
    /// Most positions one generation may hold (prompt and answer).
    fn context(&self) -> usize;
    /// An empty cache.
    fn new_cache(&self) -> Self::Cache;
    /// Logits of every position of `ids`, which follow the tokens in `cache` (and are appended).
    fn forward(&self, ids: &[u32], cache: &mut Self::Cache) -> Result<Logits>;
    /// The residual stream of a pass over `ids` from an empty cache, as real numbers: after the
    /// embedding, then after each block (`blocks + 1` tensors of `[T × hidden]`).
    fn residuals(&self, ids: &[u32]) -> Result<Vec<Vec<f32>>>;
}

/// Greedy decoding: up to `max_new` tokens after `prompt`, stopping after `eos` or when the context
/// is full (a prompt longer than the context is refused).
///
/// `on_token` sees each token as it is produced (for streaming output and progress).
pub fn generate<M: LanguageModel>(
    model: &M,
    prompt: &[u32],
    max_new: usize,
    eos: u32,
    mut on_token: impl FnMut(u32),
) -> Result<Vec<u32>> {
    if prompt.is_empty() {
        return Err(LlmError::Request("the prompt has no tokens".into()));
    }
    // The last answer token is produced without entering the cache: `prompt + n − 1` positions.
    let max_new = max_new.min((model.context() + 1).saturating_sub(prompt.len()));
    let mut cache = model.new_cache();
    let mut next = *model
        .forward(prompt, &mut cache)?
        .argmax
        .last()
        .expect("one row per token");
    let mut out = Vec::new();
    while out.len() < max_new {
        out.push(next);
        on_token(next);
        if next == eos || out.len() == max_new {
            break;
        }
        next = model.forward(&[next], &mut cache)?.argmax[0];
    }
    Ok(out)
}

/// Refuses a pass of the integer model over `ids` after `start` cached positions: token ids outside
/// the vocabulary, or more positions than the `context` it serves.
pub fn check_pass(ids: &[u32], vocab: usize, start: usize, context: usize) -> Result<()> {
    check_ids(ids, vocab)?;
    if start + ids.len() > context {
        return Err(LlmError::Request(format!(
            "{} positions exceed the context of {context}",
            start + ids.len()
        )));
    }
    Ok(())
}

/// Refuses token ids outside the vocabulary.
pub(crate) fn check_ids(ids: &[u32], vocab: usize) -> Result<()> {
    match ids.iter().find(|&&id| id as usize >= vocab) {
        Some(id) => Err(LlmError::Request(format!(
            "token id {id} is outside the vocabulary of {vocab}"
        ))),
        None => Ok(()),
    }
}

/// Refuses a tensor whose shape is not the one the configuration implies.
pub(crate) fn expect_shape(name: &str, got: (usize, usize), want: (usize, usize)) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(LlmError::Format(format!(
            "tensor {name} is {}×{}, the configuration implies {}×{}",
            got.0, got.1, want.0, want.1
        )))
    }
}
