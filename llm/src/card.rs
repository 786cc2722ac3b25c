//! A language model's card (PROTOCOL §7.1): what its integers do not say — the tokenizer with its chat
//! template, and the hyper-parameters the import started from. The registry publishes it beside the op
//! trees and the model root commits to it, so text posted to a model and text read back from it mean
//! what the model's owner committed to, and a model rebuilt from chain data alone is the model that was
//! imported, to the byte.
//!
//! The card's bytes are its postcard encoding, published in chunks of [`CARD_CHUNK`] bytes (the last
//! shorter); its hash chains the chunks: `h₀ = 0`, `hᵢ₊₁ = keccak256(hᵢ ‖ chunkᵢ)`.

use crate::{
    config::LlamaConfig,
    error::{LlmError, Result},
    int::{CONTEXT, IntModel},
    tokenizer::TokenizerSpec,
};
use alloy_primitives::{B256, Keccak256};
use serde::{Deserialize, Serialize};

/// Bytes per published chunk of a card (the last chunk may be shorter).
pub const CARD_CHUNK: usize = 64 * 1024;

/// Most bytes a card may have (the registry's `MAX_CARD_BYTES`): SmolLM2's is ~1 MiB.
pub const MAX_CARD_BYTES: usize = 8 << 20;

/// The tokenizer and hyper-parameters of a language model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    /// The hyper-parameters as imported (the float ones, ε and the RoPE base, are only read by the
    /// import: the integers carry their effect).
    pub config: LlamaConfig,
    /// The tokenizer and chat template.
    pub tokenizer: TokenizerSpec,
}

impl Card {
    /// The card of `model`.
    pub fn of(model: &IntModel) -> Self {
        Self {
            config: model.config,
            tokenizer: model.tokenizer.clone(),
        }
    }

    /// The card's canonical bytes (postcard).
    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("a card always serializes")
    }

    /// A card from its published bytes, refused when oversized, malformed, or followed by junk.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_CARD_BYTES {
            return Err(LlmError::Format(format!(
                "model card of {} bytes, more than {MAX_CARD_BYTES}",
                bytes.len()
            )));
        }
        let (card, rest): (Self, _) = postcard::take_from_bytes(bytes)
            .map_err(|e| LlmError::Format(format!("model card: {e}")))?;
        if !rest.is_empty() {
            return Err(LlmError::Format(format!(
                "model card followed by {} stray bytes",
                rest.len()
            )));
        }
        Ok(card)
    }

    /// The integer hyper-parameters the card states, as the registry holds them: the widths, the
    /// vocabulary, the context the trace uses (`min(CONTEXT, trained context)`) and the end token.
    pub fn registered_config(&self) -> LlmConfig {
        LlmConfig::registered(&self.config, self.tokenizer.eos)
    }

    /// Checks the card against the integer hyper-parameters the registry holds
    /// ([`Card::registered_config`]).
    pub fn check(&self, chain: &LlmConfig) -> Result<()> {
        let ours = self.registered_config();
        if &ours != chain {
            return Err(LlmError::Format(format!(
                "the model card says {ours:?}, the registry {chain:?}"
            )));
        }
        Ok(())
    }
}

/// The integer hyper-parameters a language model is registered with (the registry's `LlmConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LlmConfig {
    /// Transformer blocks.
    pub blocks: usize,
    /// Width of the residual stream.
    pub hidden: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads.
    pub kv_heads: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// Width of the feed-forward.
    pub ffn: usize,
    /// Vocabulary size.
    pub vocab: usize,
    /// Positions a generation may use.
    pub context: usize,
    /// The end-of-answer token.
    pub eos: u32,
}

impl LlmConfig {
    /// The pass program of a model of this shape (the float hyper-parameters, which no shape reads,
    /// zero): what bounds a listing before its card is read.
    pub fn program(&self) -> crate::trace::program::Program {
        crate::trace::program::Program::new(LlamaConfig {
            blocks: self.blocks,
            hidden: self.hidden,
            heads: self.heads,
            kv_heads: self.kv_heads,
            head_dim: self.head_dim,
            ffn: self.ffn,
            vocab: self.vocab,
            eps: 0.0,
            rope_base: 0.0,
            context: self.context,
        })
    }

    /// The registered hyper-parameters of `model`.
    pub fn of(model: &IntModel) -> Self {
        Self::registered(&model.config, model.tokenizer.eos)
    }

    /// The registered hyper-parameters of a model of config `c` ending answers at `eos`: its widths,
    /// vocabulary, the context the trace uses (`min(CONTEXT, trained context)`, what
    /// `IntModel::context` runs) and the end token.
    pub fn registered(c: &LlamaConfig, eos: u32) -> Self {
        Self {
            blocks: c.blocks,
            hidden: c.hidden,
            heads: c.heads,
            kv_heads: c.kv_heads,
            head_dim: c.head_dim,
            ffn: c.ffn,
            vocab: c.vocab,
            context: CONTEXT.min(c.context),
            eos,
        }
    }
}

/// The chunks `bytes` is published in.
pub fn chunks(bytes: &[u8]) -> std::slice::Chunks<'_, u8> {
    bytes.chunks(CARD_CHUNK)
}

/// The hash chaining `chunks` in order (`h₀ = 0`, `hᵢ₊₁ = keccak256(hᵢ ‖ chunkᵢ)`): what the
/// registry accumulates as they are published.
pub fn chain_hash<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> B256 {
    chunks.into_iter().fold(B256::ZERO, |h, chunk| {
        let mut k = Keccak256::new();
        k.update(h);
        k.update(chunk);
        k.finalize()
    })
}

/// The hash of a card's bytes, published in [`CARD_CHUNK`]s.
pub fn card_hash(bytes: &[u8]) -> B256 {
    chain_hash(chunks(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_chains_the_chunks_in_order() {
        let bytes: Vec<u8> = (0..2 * CARD_CHUNK + 5).map(|i| (i % 251) as u8).collect();
        let parts: Vec<&[u8]> = chunks(&bytes).collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[2].len(), 5);
        let one = {
            let mut k = Keccak256::new();
            k.update(B256::ZERO);
            k.update(parts[0]);
            k.finalize()
        };
        assert_eq!(chain_hash(parts[..1].iter().copied()), one);
        assert_ne!(
            card_hash(&bytes),
            chain_hash([parts[1], parts[0], parts[2]])
        );
        assert_eq!(card_hash(&[]), B256::ZERO);
    }
}
