//! The re-run of a job, shared by the worker (to answer it) and the challenger (to check an answer):
//! admit the model by the operator's policy, check the job's fee and input, then run it off the event
//! loop, one run at a time, abandoned past the time budget.

use crate::{
    error::{AgentError, Result},
    models::{Admission, LoadedModel, ModelCache},
};
use alloy::primitives::U256;
use std::sync::Arc;
use tokio::sync::Semaphore;
use vouch_chain::{JobView, Market};
use vouch_core::{Trace, tensor::Tensor};

/// What re-running a job gave.
#[derive(Debug)]
pub enum Run {
    /// The model ran on the job's input.
    Ran {
        /// The model.
        loaded: Arc<LoadedModel>,
        /// Every slot of the run.
        trace: Trace,
    },
    /// The operator's policy does not serve this job.
    Skipped(Skip),
}

/// Why a job is not served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Its model is refused (logged once, when the model was first seen).
    Model {
        /// The model.
        id: U256,
        /// Why.
        reason: Arc<str>,
    },
    /// Its fee is below the operator's minimum.
    Fee(String),
}

impl Skip {
    /// The one log line of a skipped job (a debug line for a model whose refusal was logged already).
    pub fn log(&self, job: U256) {
        match self {
            Skip::Model { id, reason } => {
                tracing::debug!(job = %job, model = %id, %reason, "job skipped: model not served");
            }
            Skip::Fee(reason) => tracing::info!(job = %job, %reason, "job skipped: fee too low"),
        }
    }
}

/// Runs jobs: the model cache plus one slot for a blocking inference.
#[derive(Debug)]
pub struct Inference {
    models: ModelCache,
    slot: Arc<Semaphore>,
}

impl Inference {
    /// Runs jobs with the models (and policy) of `models`.
    pub fn new(models: ModelCache) -> Self {
        Self {
            models,
            slot: Arc::new(Semaphore::new(1)),
        }
    }

    /// The model cache.
    pub fn models(&mut self) -> &mut ModelCache {
        &mut self.models
    }

    /// Runs `job` on `input` (its bytes from `JobPosted`) if the policy serves its model and fee.
    ///
    /// The run happens on the blocking pool, holding the one inference slot; past the budget's time
    /// the wait is abandoned ([`AgentError::InferenceTimeout`]) and the slot stays taken until the
    /// abandoned run ends, so runaway runs never pile up.
    pub async fn run_job(&mut self, market: &Market, job: &JobView, input: &[u8]) -> Result<Run> {
        let provider = market.client().provider().clone();
        let loaded = match self
            .models
            .admit(&provider, market.deployment(), job.model_id)
            .await?
        {
            Admission::Served(m) => m,
            Admission::Refused(reason) => {
                return Ok(Run::Skipped(Skip::Model {
                    id: job.model_id,
                    reason,
                }));
            }
        };
        let policy = self.models.policy();
        if let Some(why) = policy.refuses_fee(job.fee, &loaded.footprint) {
            return Ok(Run::Skipped(Skip::Fee(why)));
        }
        let input = Tensor::from_bytes(loaded.model.input, input)
            .map_err(|e| AgentError::Inconsistent(format!("job {}: input: {e}", job.id)))?;
        if input.root() != job.input_root {
            return Err(AgentError::Inconsistent(format!(
                "job {}: input does not hash to its input root",
                job.id
            )));
        }
        let limit = policy.budget.time;
        let timeout = || AgentError::InferenceTimeout {
            job: job.id.to_string(),
            limit,
        };
        let permit = tokio::time::timeout(limit, self.slot.clone().acquire_owned())
            .await
            .map_err(|_| timeout())?
            .map_err(|e| AgentError::Task(e.to_string()))?;
        let run = loaded.clone();
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            run.burn.run(input.data())
        });
        let trace = tokio::time::timeout(limit, task)
            .await
            .map_err(|_| timeout())?
            .map_err(|e| AgentError::Task(e.to_string()))??;
        Ok(Run::Ran { loaded, trace })
    }
}
