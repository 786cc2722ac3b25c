//! Models: `GET /v1/models`, `GET /v1/models/{id}`, and the shapes a job input must have.

use serde::{Deserialize, Serialize};
use vouch_chain::registry::ModelStatus;
use vouch_core::{
    CoreError, Shape,
    tensor::{Nesting, Tensor},
};

/// What a model computes (PROTOCOL §7): a tensor model maps an int8 tensor to an int8 tensor, a
/// language model answers a prompt's token ids with generated ids.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// `registerModel`: jobs are int8 tensors of the input shape.
    #[default]
    Tensor,
    /// `registerLlm`: jobs are prompts (text, tokenized with the model's card) and a token budget.
    Llm,
}

impl ModelKind {
    /// The name, as served and stored: `tensor` or `llm`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tensor => "tensor",
            Self::Llm => "llm",
        }
    }

    /// The kind named `s` (as [`ModelKind::as_str`] writes it).
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Tensor, Self::Llm]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A language model's registered hyper-parameters (`ModelRegistry.llmConfig`, PROTOCOL §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmConfigRecord {
    /// Transformer blocks.
    pub blocks: u32,
    /// Width of the residual stream.
    pub hidden: u32,
    /// Query heads.
    pub heads: u32,
    /// Key/value heads.
    pub kv_heads: u32,
    /// Width of one head.
    pub head_dim: u32,
    /// Width of the feed-forward.
    pub ffn: u32,
    /// Vocabulary size: every token id is below it.
    pub vocab: u32,
    /// Positions a job may use: prompt tokens + `max_tokens` − 1 ≤ `context`.
    pub context: u32,
    /// The end-of-answer token (`<|im_end|>`).
    pub eos: u32,
}

/// A language model's prices (`ModelRegistry.llmPrices`, PROTOCOL §7.2): a job of P prompt tokens and
/// a budget of `max_tokens` escrows `P·input_token_wei + max_tokens·output_token_wei` and is charged
/// for the tokens its answer used, the rest refunded when it settles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmPriceRecord {
    /// Wei per prompt token (decimal).
    pub input_token_wei: String,
    /// Wei per answer token (decimal).
    pub output_token_wei: String,
}

/// A model as served by the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRecord {
    /// Model id.
    pub id: u64,
    /// `tensor` or `llm`.
    #[serde(default)]
    pub kind: ModelKind,
    /// Owner, who receives royalties.
    pub owner: String,
    /// Model root (PROTOCOL §3).
    pub root: String,
    /// Number of ops.
    pub op_count: u32,
    /// Input length in elements.
    pub input_len: u32,
    /// Output length in elements.
    pub output_len: u32,
    /// Input shape `[H, W, C]`.
    pub input_shape: [u32; 3],
    /// Input zero point (clients quantize with it).
    pub input_zero: i8,
    /// Output shape `[H, W, C]`.
    pub output_shape: [u32; 3],
    /// Fee per job, in wei (decimal).
    pub fee_wei: String,
    /// Owner's share of each fee, in basis points.
    pub royalty_bps: u16,
    /// Listing status.
    pub status: ModelStatus,
    /// Name from the inline metadata (`model-<id>` when the URI carries none).
    pub name: String,
    /// Metadata URI as registered.
    pub uri: String,
    /// A language model's config (absent for a tensor model, whose shapes are above).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm_config: Option<LlmConfigRecord>,
    /// A language model's per-token prices (absent for a tensor model, priced per job by `fee_wei`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm_price: Option<LlmPriceRecord>,
}

impl ModelRecord {
    /// Its input shape.
    pub fn input(&self) -> Shape {
        let [h, w, c] = self.input_shape;
        Shape::new(h, w, c)
    }

    /// A job input for this model from JSON: int8 numbers, either flat (`input_len` of them) or
    /// nested in exactly the model's input shape `[H][W][C]` (row-major). The error says what was
    /// wrong, for a `400`.
    pub fn input_from_json(&self, value: &serde_json::Value) -> Result<Tensor, String> {
        Tensor::from_json(value, self.input()).map_err(|e| {
            let [h, w, c] = self.input_shape;
            let expected = format!(
                "model {} expects {} elements, flat or nested as [{h}][{w}][{c}]",
                self.id, self.input_len
            );
            match e {
                CoreError::Nesting(n @ (Nesting::Ragged | Nesting::NotArray)) => {
                    format!("input {n}: {expected}")
                }
                CoreError::Nesting(n) => format!("input {n}; {expected}"),
                e => format!("input: {e}"),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model(shape: [u32; 3]) -> ModelRecord {
        ModelRecord {
            id: 1,
            kind: ModelKind::Tensor,
            owner: String::new(),
            root: String::new(),
            op_count: 1,
            input_len: shape.iter().product(),
            output_len: 1,
            input_shape: shape,
            input_zero: 0,
            output_shape: [1, 1, 1],
            fee_wei: "0".into(),
            royalty_bps: 0,
            status: ModelStatus::Active,
            name: String::new(),
            uri: String::new(),
            llm_config: None,
            llm_price: None,
        }
    }

    fn nested(dims: &[usize], next: &mut i64) -> serde_json::Value {
        match dims.split_first() {
            None => {
                *next += 1;
                json!((*next % 256) - 128)
            }
            Some((&d, rest)) => {
                serde_json::Value::Array((0..d).map(|_| nested(rest, next)).collect())
            }
        }
    }

    #[test]
    fn input_is_checked_against_the_shape_not_only_the_count() {
        let m = model([8, 8, 1]);
        let flat: Vec<i8> = (0..64).map(|i| (i + 1 - 128) as i8).collect();
        assert_eq!(m.input_from_json(&json!(flat)).unwrap().data(), flat);
        let exact = nested(&[8, 8, 1], &mut 0);
        assert_eq!(m.input_from_json(&exact).unwrap().data(), flat, "row-major");
        // Every other nesting of 64 elements is refused, with the shape it has.
        for dims in [
            &[2, 32][..],
            &[8, 8],
            &[1, 8, 8],
            &[8, 1, 8],
            &[64, 1],
            &[1, 64],
            &[8, 8, 1, 1],
            &[4, 4, 4],
        ] {
            let e = m.input_from_json(&nested(dims, &mut 0)).unwrap_err();
            let shown: String = dims.iter().map(|d| format!("[{d}]")).collect();
            assert!(
                e.contains(&format!("nested as {shown}")) && e.contains("[8][8][1]"),
                "{dims:?}: {e}"
            );
        }
        let e = m.input_from_json(&json!([1, 2, 3])).unwrap_err();
        assert!(e.starts_with("input has 3 elements"), "{e}");
        let e = m.input_from_json(&json!([[1, 2], [3]])).unwrap_err();
        assert!(e.starts_with("input is ragged"), "{e}");
        let e = m.input_from_json(&json!([1, 300])).unwrap_err();
        assert!(e.contains("300") && e.contains("index 1"), "{e}");
        assert!(m.input_from_json(&json!(5)).is_err());
        assert!(m.input_from_json(&json!([])).is_err());
    }

    #[test]
    fn vectors_take_flat_or_exactly_nested_input() {
        let m = model([1, 1, 16]);
        let flat: Vec<i8> = (0..16).collect();
        assert_eq!(m.input_from_json(&json!(flat)).unwrap().data(), flat);
        assert_eq!(m.input_from_json(&json!([[flat]])).unwrap().data(), flat);
        let rows: Vec<&[i8]> = flat.chunks(4).collect();
        assert!(m.input_from_json(&json!(rows)).is_err());
    }
}
