//! Language models in Vouch's canonical integers (docs/LLM_INT.md).
//!
//! - [`gguf`]: GGUF files of the llama architecture (weights in Q4_0, Q4_1, Q8_0, F16, F32).
//! - [`config`]: the hyper-parameters, bounded.
//! - [`card`]: the tokenizer and hyper-parameters a listing publishes beside the weights.
//! - [`tokenizer`]: the model's byte-level BPE and ChatML template, from the GGUF metadata.
//! - [`float`]: the dequantized model in float32 — calibration, accuracy reference, benchmark baseline.
//! - [`int`]: the canonical integer model — import, file, ops and the forward pass.
//! - [`lm`]: the interface both models share, greedy generation.
//! - [`eval`]: agreement, perplexity and answers side by side.

pub mod card;
pub mod config;
pub mod error;
pub mod eval;
pub mod float;
pub mod gguf;
pub mod int;
pub mod lm;
pub mod random;
pub mod tokenizer;
pub mod trace;

pub use error::{LlmError, Result};
pub use int::IntModel;

use std::path::PathBuf;

/// Vouch's cache outside git: `$VOUCH_CACHE`, else `$XDG_CACHE_HOME/vouch`, else `~/.cache/vouch`
/// (models, and the dev chain's saved states).
pub fn cache_dir() -> PathBuf {
    std::env::var_os("VOUCH_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
                })
                .join("vouch")
        })
}

/// Where SmolLM2-135M-Instruct's GGUF is expected: `$VOUCH_SMOLLM2` if set, else where
/// `scripts/fetch-smollm2.sh` caches it (`models/SmolLM2-135M-Instruct.Q4_1.gguf` in
/// [`cache_dir`]).
pub fn smollm2_path() -> PathBuf {
    if let Some(path) = std::env::var_os("VOUCH_SMOLLM2") {
        return path.into();
    }
    cache_dir().join("models/SmolLM2-135M-Instruct.Q4_1.gguf")
}
