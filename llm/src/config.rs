//! The hyper-parameters of a llama-architecture model, read from GGUF metadata and bounded.

use crate::{
    error::{LlmError, Result},
    gguf::{BLOCK, Gguf},
};
use serde::{Deserialize, Serialize};

/// Largest hidden size, feed-forward width and vocabulary the importer accepts: a file declaring
/// more is refused before any tensor is read (a model built to exhaust memory).
pub const MAX_WIDTH: usize = 1 << 16;
/// Largest vocabulary.
pub const MAX_VOCAB: usize = 1 << 18;
/// Most blocks.
pub const MAX_BLOCKS: usize = 256;

/// What the forward passes need to know about the architecture.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LlamaConfig {
    /// Transformer blocks.
    pub blocks: usize,
    /// Width of the residual stream.
    pub hidden: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads (grouped-query attention: `heads / kv_heads` queries share one).
    pub kv_heads: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// Width of the SwiGLU feed-forward.
    pub ffn: usize,
    /// Vocabulary size (rows of the tied embedding).
    pub vocab: usize,
    /// RMSNorm epsilon.
    pub eps: f32,
    /// RoPE base frequency.
    pub rope_base: f32,
    /// The context length the model was trained for.
    pub context: usize,
}

impl LlamaConfig {
    /// SmolLM2-135M-Instruct's hyper-parameters (the pinned GGUF's `llama.*` metadata): the model the
    /// demo, the benchmarks and the sizing of PROTOCOL §7.4 use.
    pub const SMOLLM2: Self = Self {
        blocks: 30,
        hidden: 576,
        heads: 9,
        kv_heads: 3,
        head_dim: 64,
        ffn: 1536,
        vocab: 49152,
        eps: 1e-5,
        rope_base: 100_000.0,
        context: 8192,
    };

    /// Reads and checks the `llama.*` hyper-parameters.
    pub fn from_gguf(g: &Gguf) -> Result<Self> {
        let arch = g.string("general.architecture")?;
        if arch != "llama" {
            return Err(LlmError::Unsupported(format!(
                "architecture {arch:?}; supported: llama"
            )));
        }
        let hidden = g.usize("llama.embedding_length")?;
        let heads = g.usize("llama.attention.head_count")?;
        let config = Self {
            blocks: g.usize("llama.block_count")?,
            hidden,
            heads,
            kv_heads: g.usize("llama.attention.head_count_kv")?,
            head_dim: hidden.checked_div(heads).unwrap_or(0),
            ffn: g.usize("llama.feed_forward_length")?,
            vocab: g.strings("tokenizer.ggml.tokens")?.len(),
            eps: g.f32("llama.attention.layer_norm_rms_epsilon")?,
            rope_base: g.f32("llama.rope.freq_base")?,
            context: g.usize("llama.context_length")?,
        };
        config.check()?;
        Ok(config)
    }

    /// The structural rules every forward pass relies on.
    pub fn check(&self) -> Result<()> {
        let bad = |why: String| Err(LlmError::Format(why));
        if self.blocks == 0 || self.blocks > MAX_BLOCKS {
            return bad(format!("{} blocks (1..={MAX_BLOCKS})", self.blocks));
        }
        for (what, n) in [
            ("hidden size", self.hidden),
            ("feed-forward width", self.ffn),
        ] {
            if n == 0 || n > MAX_WIDTH || !n.is_multiple_of(BLOCK) {
                return bad(format!(
                    "{what} {n}: must be a multiple of {BLOCK} up to {MAX_WIDTH}"
                ));
            }
        }
        if self.vocab == 0 || self.vocab > MAX_VOCAB {
            return bad(format!("vocabulary of {} (1..={MAX_VOCAB})", self.vocab));
        }
        if self.heads == 0 || self.kv_heads == 0 || !self.heads.is_multiple_of(self.kv_heads) {
            return bad(format!(
                "{} query heads cannot share {} key/value heads",
                self.heads, self.kv_heads
            ));
        }
        if self.head_dim * self.heads != self.hidden || !self.head_dim.is_multiple_of(2) {
            return bad(format!(
                "hidden size {} is not {} heads of an even width",
                self.hidden, self.heads
            ));
        }
        if !(self.eps > 0.0
            && self.eps.is_finite()
            && self.rope_base > 1.0
            && self.rope_base.is_finite())
        {
            return bad(format!(
                "eps {} / rope base {} out of range",
                self.eps, self.rope_base
            ));
        }
        Ok(())
    }

    /// Width of the keys (and values) of one token: `kv_heads · head_dim`.
    pub fn kv_width(&self) -> usize {
        self.kv_heads * self.head_dim
    }

    /// RoPE's angle per position of the pair `(2i, 2i+1)`: `base^(−2i/d)`.
    pub fn rope_theta(&self, i: usize) -> f64 {
        f64::from(self.rope_base).powf(-((2 * i) as f64) / self.head_dim as f64)
    }

    /// Query heads per key/value head.
    pub fn group(&self) -> usize {
        self.heads / self.kv_heads
    }
}
