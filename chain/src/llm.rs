//! Language models on chain (docs/LLM_INT.md §9): listing one at its per-token [`LlmPrice`]
//! (`registerLlm`, its card, then every op's leaves published and sealed; resumable) and reading it
//! back from events alone, its trace's layout and one-step witness as the contracts take them, and a
//! typed `LlmStepProver.trueElement` call, the on-chain twin of `vouch_llm::trace::verify` (a
//! challenger can pre-check its step against the chain itself, for free).

use crate::{
    bindings::{DisputeGame, JobMarket, LlmStepProver, ModelRegistry},
    error::{ChainError, Result},
    market::call_err,
};
use alloy::{
    primitives::{Address, B256, Bytes, U256},
    providers::DynProvider,
};
use vouch_llm::trace::{LlmWitness, program::Layout};

pub mod devnet;
mod listing;

pub use listing::{LOG_PAGE_BLOCKS, LlmPublication, fetch_card, fetch_llm, list_llm, llm_config};

/// `From<&LlmWitness>` for the `LlmWitness` of each listed binding module. `sol!` generates the ABI
/// struct once per contract that uses it (the game's `stepLlm`, the prover's `trueElement`); the
/// types are identical field for field, so one body serves all of them.
macro_rules! impl_sol_llm_witness {
    ($($binding:ident),+ $(,)?) => {$(
        impl From<&LlmWitness> for $binding::LlmWitness {
            fn from(w: &LlmWitness) -> Self {
                Self {
                    slots: w
                        .slots
                        .iter()
                        .map(|(slot, p)| $binding::LlmSlotProof {
                            slot: U256::from(*slot),
                            root: p.root,
                            path: p.path.clone(),
                        })
                        .collect(),
                    runs: w
                        .runs
                        .iter()
                        .map(|r| $binding::LlmRunProof {
                            slot: U256::from(r.slot),
                            firstLeaf: U256::from(r.first_leaf),
                            leaves: r.leaves.iter().map(|l| B256::from(*l)).collect(),
                            siblings: r.siblings.clone(),
                        })
                        .collect(),
                    params: w
                        .params
                        .iter()
                        .map(|p| $binding::LlmParamProof {
                            op: U256::from(p.op),
                            leaf: U256::from(p.leaf),
                            data: Bytes::copy_from_slice(&p.data),
                            path: p.path.clone(),
                        })
                        .collect(),
                }
            }
        }
    )+};
}

impl_sol_llm_witness!(DisputeGame, LlmStepProver);

/// `From<Layout>` for the `LlmLayout` of each listed binding module (the job's prompt length, token
/// budget and claimed output length; the op count is the model's).
macro_rules! impl_sol_llm_layout {
    ($($binding:ident),+ $(,)?) => {$(
        impl From<Layout> for $binding::LlmLayout {
            fn from(l: Layout) -> Self {
                Self {
                    prompt: l.prompt as u32,
                    maxNew: l.max_new as u32,
                    generated: l.generated as u32,
                }
            }
        }
    )+};
}

impl_sol_llm_layout!(JobMarket, LlmStepProver);

/// A language model's prices per token, in wei (`ModelRegistry.llmPrices`, PROTOCOL §7.2): a job
/// of P prompt tokens and a budget of `max_new` escrows [`escrow`](Self::escrow), the most it can
/// cost, and is charged [`charge`](Self::charge) for an answer of G tokens; the rest goes back to
/// the poster when it settles. The registry takes each price up to 2^128 − 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LlmPrice {
    /// Wei per prompt token (`perInputToken`).
    pub per_input: U256,
    /// Wei per generated token (`perOutputToken`).
    pub per_output: U256,
}

impl LlmPrice {
    /// What a job of `prompt_len` prompt tokens and a budget of `max_new` escrows when posted, the
    /// `msg.value` `postJob` takes: `P·per_input + max_new·per_output`.
    pub fn escrow(&self, prompt_len: usize, max_new: usize) -> U256 {
        self.charge(prompt_len, max_new)
    }

    /// What a job of `prompt_len` prompt tokens is charged for a settled answer of `generated`
    /// tokens (the royalty is a share of this): `P·per_input + G·per_output`. Saturates rather
    /// than wraps (the contract refuses prices that could overflow).
    pub fn charge(&self, prompt_len: usize, generated: usize) -> U256 {
        U256::from(prompt_len)
            .saturating_mul(self.per_input)
            .saturating_add(U256::from(generated).saturating_mul(self.per_output))
    }
}

/// The per-token prices of language model `model_id` in the registry at `registry`, what a job
/// posted now escrows by (`llmPrices`; [`Revert::Registry`](crate::Revert::Registry) `NotLlm` for
/// a tensor model).
pub async fn llm_prices(
    provider: &DynProvider,
    registry: Address,
    model_id: U256,
) -> Result<LlmPrice> {
    let p = ModelRegistry::new(registry, provider)
        .llmPrices(model_id)
        .call()
        .await
        .map_err(call_err)?;
    Ok(LlmPrice {
        per_input: p.perInputToken,
        per_output: p.perOutputToken,
    })
}

/// The true value of element `e` of slot `s` of model `model_id`'s trace laid out by `layout`, when
/// the defender's final state is `final_state`, as the `LlmStepProver` at `prover` computes it from
/// `witness` (an `eth_call`: nothing is sent). A witness that does not prove what it must is
/// [`ChainError::Reverted`] with a [`Revert::LlmProver`](crate::Revert::LlmProver) (or the op
/// arithmetic's [`Revert::LlmOps`](crate::Revert::LlmOps)).
#[allow(clippy::too_many_arguments)]
pub async fn true_element(
    provider: &DynProvider,
    prover: Address,
    model_id: U256,
    layout: Layout,
    final_state: B256,
    s: usize,
    e: usize,
    witness: &LlmWitness,
) -> Result<i64> {
    let value = LlmStepProver::new(prover, provider)
        .trueElement(
            model_id,
            layout.into(),
            final_state,
            U256::from(s),
            U256::from(e),
            witness.into(),
        )
        .call()
        .await
        .map_err(call_err)?;
    i64::try_from(value)
        .map_err(|_| ChainError::Decode(format!("trueElement returned {value}, beyond i64")))
}
