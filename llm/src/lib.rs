//! Language models in Vouch's canonical integers (docs/LLM_INT.md).
//!
//! - [`gguf`]: GGUF files of the llama architecture (weights in Q4_0, Q4_1, Q8_0, F16, F32).
//! - [`config`]: the hyper-parameters, bounded.
//! - [`tokenizer`]: the model's byte-level BPE and ChatML template, from the GGUF metadata.
//! - [`float`]: the dequantized model in float32 — calibration, accuracy reference, benchmark baseline.
//! - [`int`]: the canonical integer model — import, file, ops and the forward pass.
//! - [`lm`]: the interface both models share, greedy generation.
//! - [`eval`]: agreement, perplexity and answers side by side.

pub mod config;
pub mod error;
pub mod eval;
pub mod float;
pub mod gguf;
pub mod int;
pub mod lm;
pub mod tokenizer;

pub use error::{LlmError, Result};
pub use int::IntModel;
