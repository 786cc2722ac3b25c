//! Accuracy of one model against another (the integer model against the float one): teacher-forced
//! next-token agreement and perplexity over a text, and greedy answers side by side.

use crate::{
    error::Result,
    lm::{LanguageModel, generate},
};
use serde::{Deserialize, Serialize};

/// A teacher-forced pass of a model over a text.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Forced {
    /// The greedy prediction after each prefix (`ids.len() − 1` of them).
    pub argmax: Vec<u32>,
    /// `ln p(ids[t+1] | ids[..=t])`.
    pub next_logprob: Vec<f64>,
}

impl Forced {
    /// Runs `model` over `ids` in one pass.
    pub fn run<M: LanguageModel>(model: &M, ids: &[u32]) -> Result<Self> {
        let logits = model.forward(ids, &mut model.new_cache())?;
        let n = ids.len().saturating_sub(1);
        Ok(Self {
            argmax: logits.argmax[..n].to_vec(),
            next_logprob: (0..n).map(|t| logits.log_prob(t, ids[t + 1])).collect(),
        })
    }

    /// `exp(−mean ln p)`.
    pub fn perplexity(&self) -> f64 {
        let n = self.next_logprob.len().max(1) as f64;
        (-self.next_logprob.iter().sum::<f64>() / n).exp()
    }
}

/// The integer model's figures against the float model's on the same text.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Agreement {
    /// Predictions compared.
    pub positions: usize,
    /// Fraction of positions where both models predict the same next token.
    pub top1: f64,
    /// The integer model's perplexity.
    pub perplexity: f64,
    /// The float model's perplexity.
    pub float_perplexity: f64,
}

impl Agreement {
    /// Compares two teacher-forced passes over the same text.
    pub fn of(int: &Forced, float: &Forced) -> Self {
        let positions = int.argmax.len().min(float.argmax.len());
        let same = int
            .argmax
            .iter()
            .zip(&float.argmax)
            .filter(|(a, b)| a == b)
            .count();
        Self {
            positions,
            top1: same as f64 / positions.max(1) as f64,
            perplexity: int.perplexity(),
            float_perplexity: float.perplexity(),
        }
    }

    /// Perplexity over the float model's.
    pub fn perplexity_ratio(&self) -> f64 {
        self.perplexity / self.float_perplexity
    }
}

/// How far one model's residual stream is from another's after one block, over the tokens of a text.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerError {
    /// 0 for the embedding, `b` for the residual after block `b`.
    pub block: usize,
    /// Mean over tokens of the cosine between the two residual vectors.
    pub mean_cos: f64,
    /// The smallest such cosine.
    pub min_cos: f64,
    /// Median over tokens of `‖x − x_ref‖ / ‖x_ref‖`.
    pub median_rel: f64,
    /// The largest such relative error.
    pub max_rel: f64,
}

/// The residual stream of `model` against `reference`'s, block by block, over `ids`.
pub fn layers<A: LanguageModel, B: LanguageModel>(
    model: &A,
    reference: &B,
    ids: &[u32],
    hidden: usize,
) -> Result<Vec<LayerError>> {
    let (ours, theirs) = (model.residuals(ids)?, reference.residuals(ids)?);
    Ok(ours
        .iter()
        .zip(&theirs)
        .enumerate()
        .map(|(block, (x, y))| {
            let mut cos = Vec::new();
            let mut rel = Vec::new();
            for (a, b) in x.chunks(hidden).zip(y.chunks(hidden)) {
                let dot: f64 = a
                    .iter()
                    .zip(b)
                    .map(|(&p, &q)| f64::from(p) * f64::from(q))
                    .sum();
                let na = a.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>().sqrt();
                let nb = b.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>().sqrt();
                let diff = a
                    .iter()
                    .zip(b)
                    .map(|(&p, &q)| (f64::from(p) - f64::from(q)).powi(2))
                    .sum::<f64>()
                    .sqrt();
                cos.push(dot / (na * nb).max(f64::MIN_POSITIVE));
                rel.push(diff / nb.max(f64::MIN_POSITIVE));
            }
            rel.sort_by(f64::total_cmp);
            LayerError {
                block,
                mean_cos: cos.iter().sum::<f64>() / cos.len().max(1) as f64,
                min_cos: cos.iter().copied().fold(f64::INFINITY, f64::min),
                median_rel: rel.get(rel.len() / 2).copied().unwrap_or(0.0),
                max_rel: rel.last().copied().unwrap_or(0.0),
            }
        })
        .collect())
}

/// One prompt answered greedily by both models.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SideBySide {
    /// The instruction.
    pub prompt: String,
    /// The integer model's answer ids.
    pub int_ids: Vec<u32>,
    /// The float model's answer ids.
    pub float_ids: Vec<u32>,
    /// Whether the first `compare` tokens are identical.
    pub same: bool,
}

/// Generates `max_new` tokens from both models for a templated prompt and compares the first
/// `compare` of them.
pub fn side_by_side<A: LanguageModel, B: LanguageModel>(
    int: &A,
    float: &B,
    prompt: &str,
    ids: &[u32],
    eos: u32,
    max_new: usize,
    compare: usize,
) -> Result<SideBySide> {
    let int_ids = generate(int, ids, max_new, eos, |_| ())?;
    let float_ids = generate(float, ids, max_new, eos, |_| ())?;
    let n = compare.min(max_new);
    let same = int_ids.iter().take(n).eq(float_ids.iter().take(n));
    Ok(SideBySide {
        prompt: prompt.to_string(),
        int_ids,
        float_ids,
        same,
    })
}
