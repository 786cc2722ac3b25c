//! The one-step prover (PROTOCOL §6.4): the phase-3 witness as the contracts take it, and a typed
//! `OneStepProver.trueElement` call, the on-chain twin of `vouch_core::dispute::verify_step` (a
//! challenger can pre-check its step against the chain itself, for free).

use crate::{
    bindings::{DisputeGame, OneStepProver},
    deploy::Deployment,
    error::Result,
    market::call_err,
};
use alloy::{
    primitives::{B256, Bytes, U256},
    providers::DynProvider,
};
use vouch_core::dispute::StepWitness;

/// `From<&StepWitness>` for the `StepWitness` of each listed binding module. `sol!` generates the
/// ABI struct once per contract that uses it (the game's `step`, the prover's `trueElement`); the
/// types are identical field for field, so one body serves all of them.
macro_rules! impl_sol_witness {
    ($($binding:ident),+ $(,)?) => {$(
        impl From<&StepWitness> for $binding::StepWitness {
            fn from(w: &StepWitness) -> Self {
                Self {
                    slots: w
                        .slots
                        .iter()
                        .map(|s| $binding::SlotProof {
                            root: s.root,
                            path: s.path.clone(),
                        })
                        .collect(),
                    rows: w
                        .rows
                        .iter()
                        .map(|r| $binding::RowProof {
                            data: Bytes::copy_from_slice(&r.data),
                            path: r.path.clone(),
                        })
                        .collect(),
                    input: Bytes::copy_from_slice(&w.input),
                    weights: Bytes::copy_from_slice(&w.weights),
                    weightPath: w.weight_path.clone(),
                }
            }
        }
    )+};
}

impl_sol_witness!(DisputeGame, OneStepProver);

/// The true value of element `e` of op `k`'s output (slot `k + 1`) of model `model_id` when the
/// state the operands are proven against is `state_root` (in a game: the defender's final state), as the deployment's `OneStepProver` computes it from `witness`
/// (an `eth_call`: nothing is sent). A witness that does not prove what it must is
/// [`ChainError::Reverted`](crate::ChainError::Reverted) with a [`Revert::Prover`](crate::Revert::Prover).
pub async fn true_element(
    provider: &DynProvider,
    deployment: &Deployment,
    model_id: U256,
    k: u32,
    state_root: B256,
    e: usize,
    witness: &StepWitness,
) -> Result<i8> {
    OneStepProver::new(deployment.prover, provider)
        .trueElement(model_id, k, state_root, U256::from(e), witness.into())
        .call()
        .await
        .map_err(call_err)
}
