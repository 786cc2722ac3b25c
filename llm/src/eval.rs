//! Accuracy of one model against another (the integer model against the float one): teacher-forced
//! next-token agreement and perplexity over a text, and greedy answers side by side.

use crate::{
    error::Result,
    lm::{LanguageModel, generate},
};
use serde::{Deserialize, Serialize};

/// Logits kept per position of a teacher-forced pass: the best ones, enough to find the float
/// model's top two among the integer model's.
pub const TOP: usize = 8;

/// A teacher-forced pass of a model over a text.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Forced {
    /// The greedy prediction after each prefix (`ids.len() − 1` of them).
    pub argmax: Vec<u32>,
    /// `ln p(ids[t+1] | ids[..=t])`.
    pub next_logprob: Vec<f64>,
    /// The [`TOP`] largest logits after each prefix, `(token, logit)`, largest first (empty for a
    /// reference that recorded none).
    pub top: Vec<Vec<(u32, f32)>>,
}

impl Forced {
    /// Runs `model` over `ids` in one pass.
    pub fn run<M: LanguageModel>(model: &M, ids: &[u32]) -> Result<Self> {
        let logits = model.forward(ids, &mut model.new_cache())?;
        let n = ids.len().saturating_sub(1);
        Ok(Self {
            argmax: logits.argmax[..n].to_vec(),
            next_logprob: (0..n).map(|t| logits.log_prob(t, ids[t + 1])).collect(),
            top: (0..n).map(|t| logits.top(t, TOP)).collect(),
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
    /// Root mean square over positions of how far the integer model moves the gap between the
    /// float model's two best logits (nats): a greedy answer follows the float model's wherever the
    /// float gap is well above it. `None` if either pass kept no logits.
    pub gap_rms: Option<f64>,
}

/// How much `model` moves the gap between `reference`'s two best logits at one position, if
/// `model` kept both tokens among its best.
fn gap_change(model: &[(u32, f32)], reference: &[(u32, f32)]) -> Option<f64> {
    let (&(a, ra), &(b, rb)) = (reference.first()?, reference.get(1)?);
    let logit = |id| model.iter().find(|(t, _)| *t == id).map(|&(_, v)| v);
    Some(f64::from(logit(a)? - logit(b)?) - f64::from(ra - rb))
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
        let changes: Vec<f64> = int
            .top
            .iter()
            .zip(&float.top)
            .filter_map(|(i, f)| gap_change(i, f))
            .collect();
        Self {
            positions,
            top1: same as f64 / positions.max(1) as f64,
            perplexity: int.perplexity(),
            float_perplexity: float.perplexity(),
            gap_rms: (!changes.is_empty()).then(|| {
                (changes.iter().map(|d| d * d).sum::<f64>() / changes.len() as f64).sqrt()
            }),
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
    /// Where they are not: the first differing token's index, and the float model's gap there
    /// between its two best logits (nats; a near-tie is what a slightly different model flips).
    pub divergence: Option<(usize, f32)>,
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
    let first = (0..n.min(int_ids.len().max(float_ids.len())))
        .find(|&i| int_ids.get(i) != float_ids.get(i));
    let divergence = match first {
        Some(i) if i < float_ids.len() => {
            let prefix = [ids, &float_ids[..i]].concat();
            let logits = float.forward(&prefix, &mut float.new_cache())?;
            match logits.top(prefix.len() - 1, 2)[..] {
                [(_, first), (_, second)] => Some((i, first - second)),
                _ => None,
            }
        }
        _ => None,
    };
    Ok(SideBySide {
        prompt: prompt.to_string(),
        int_ids,
        float_ids,
        same: first.is_none(),
        divergence,
    })
}

#[cfg(test)]
mod tests {
    use super::{Agreement, Forced, gap_change};
    use crate::lm::Logits;

    #[test]
    fn top_keeps_the_largest_logits_in_order_ties_to_the_lower_id() {
        let logits = Logits {
            vocab: 6,
            values: vec![0.5, 2.0, -1.0, 2.0, 3.0, 0.0],
            argmax: vec![4],
        };
        assert_eq!(logits.top(0, 3), [(4, 3.0), (1, 2.0), (3, 2.0)]);
        assert_eq!(logits.top(0, 9).len(), 6);
    }

    #[test]
    fn the_gap_change_is_measured_on_the_reference_top_two() {
        // The reference's gap between tokens 7 and 2 is 0.5; the model's is 0.25.
        let reference = [(7, 10.0), (2, 9.5), (5, 1.0)];
        assert_eq!(gap_change(&[(2, 4.0), (7, 4.25)], &reference), Some(-0.25));
        // Either token missing from the model's best: no figure for that position.
        assert_eq!(gap_change(&[(7, 4.0)], &reference), None);
        let forced = |top: Vec<Vec<(u32, f32)>>| Forced {
            argmax: vec![7; top.len()],
            next_logprob: vec![0.0; top.len()],
            top,
        };
        let a = Agreement::of(
            &forced(vec![vec![(7, 1.0), (2, 0.0)], vec![(7, 3.0), (2, 0.0)]]),
            &forced(vec![vec![(7, 2.0), (2, 0.0)], vec![(7, 2.0), (2, 0.0)]]),
        );
        // Changes of −1 and +1: an rms of 1.
        assert_eq!(a.gap_rms, Some(1.0));
        assert_eq!(
            Agreement::of(&forced(Vec::new()), &forced(Vec::new())).gap_rms,
            None
        );
    }
}
