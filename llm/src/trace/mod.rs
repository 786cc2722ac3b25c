//! A generation as a trace (docs/LLM_INT.md §8): one pass per position, every op's output a slot
//! tensor in its canonical bytes, its tensor root computed as the op finishes, and the final state
//! σ_n over all slot roots — what a worker commits to and a dispute walks down.
//!
//! - [`program`]: the ops of a pass, their shapes, and where each lies in the trace.
//! - `record`: the generation itself, recording every slot as the forward pass computes it.
//! - `witness`: the one-step witness of an element, and its verifier.
//! - [`commit`]: the model as the game commits to it; `rebuild`: the model back from those
//!   leaves and its card.
//! - `party`: one side of a dispute over a trace ([`LmParty`]): the defender's reveals and the
//!   challenger's choices.

pub mod commit;
mod element;
mod party;
pub mod program;
mod rebuild;
mod record;
mod witness;

pub use commit::ModelCommitment;
pub use element::{Source, element};
pub use party::LmParty;
pub use rebuild::rebuild;
pub use record::{LmTrace, Stop, generate, generate_forcing, slot_root};
pub use witness::{LlmWitness, ParamProof, RunProof, verify};

use crate::error::{LlmError, Result};

/// What a job asks: a prompt's token ids and the most tokens to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The prompt's token ids (at least one).
    pub prompt: Vec<u32>,
    /// The most tokens to generate (at least one).
    pub max_new: usize,
}

impl Job {
    /// The job's input tensor, slot 0: one int32 row `[max_new, id_0, …, id_{P−1}]`.
    pub fn input(&self) -> Vec<i32> {
        std::iter::once(self.max_new as i32)
            .chain(self.prompt.iter().map(|&id| id as i32))
            .collect()
    }

    /// Reads a job back from its input tensor, refusing one no model could run: no prompt, no
    /// tokens to generate, or a negative value.
    pub fn from_input(input: &[i32]) -> Result<Self> {
        let bad = |what: &str| LlmError::Request(format!("job input: {what}"));
        let (&max_new, prompt) = input.split_first().ok_or_else(|| bad("empty"))?;
        if max_new < 1 {
            return Err(bad("max_new must be at least 1"));
        }
        if prompt.is_empty() {
            return Err(bad("the prompt has no tokens"));
        }
        let prompt = prompt
            .iter()
            .map(|&id| u32::try_from(id).map_err(|_| bad("a negative token id")))
            .collect::<Result<_>>()?;
        Ok(Self {
            prompt,
            max_new: max_new as usize,
        })
    }
}
