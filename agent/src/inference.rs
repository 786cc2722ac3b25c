//! The re-run of a job, shared by the worker (to answer it) and the challenger (to check an answer):
//! admit the model by the operator's policy, check the job's fee and input, then run it off the event
//! loop, one run at a time, abandoned past the time budget. A tensor model runs on Burn
//! ([`Inference::run_job`]); a language model generates with the canonical integer model, the job
//! measured first ([`Inference::run_lm_job`]).

use crate::{
    budget::Footprint,
    error::{AgentError, Result},
    models::{Admission, LoadedModel, ModelCache},
};
use alloy::primitives::U256;
use std::sync::Arc;
use tokio::sync::Semaphore;
use vouch_chain::{JobView, Market};
use vouch_core::{Trace, tensor::Tensor};
use vouch_llm::{
    IntModel,
    lm::LanguageModel,
    trace::{
        Job,
        program::{Dtype, SlotShape},
        slot_root,
    },
};

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
    /// This job of a served language model costs more than the budget (its prompt and token budget).
    Job(String),
}

/// What running a language model's job gave.
#[derive(Debug)]
pub enum Generated<T> {
    /// The job ran: what the caller's run made of the model and the job.
    Ran(T),
    /// The operator's policy does not serve this job.
    Skipped(Skip),
}

/// Runs `f` on the blocking pool (CPU-heavy work: a model loaded, a generation, a trace read).
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AgentError::Task(e.to_string()))
}

/// A language model's job from its input bytes (`JobPosted`'s `input`: int32 big-endian
/// `[maxNew, ids…]`), checked against the job's input root.
pub fn lm_job(job: &JobView, input: &[u8]) -> Result<Job> {
    let bad = |what: String| AgentError::Inconsistent(format!("job {}: input: {what}", job.id));
    if !input.len().is_multiple_of(4) {
        return Err(bad(format!("{} bytes, not int32s", input.len())));
    }
    let shape = SlotShape {
        rows: 1,
        cols: input.len() / 4,
        dtype: Dtype::I32,
    };
    if slot_root(input, shape) != job.input_root {
        return Err(bad("does not hash to its input root".into()));
    }
    let row: Vec<i32> = input
        .chunks_exact(4)
        .map(|b| i32::from_be_bytes(b.try_into().expect("4 bytes")))
        .collect();
    Job::from_input(&row).map_err(|e| bad(e.to_string()))
}

impl Skip {
    /// The one log line of a skipped job (a debug line for a model whose refusal was logged already).
    pub fn log(&self, job: U256) {
        match self {
            Skip::Model { id, reason } => {
                tracing::debug!(job = %job, model = %id, %reason, "job skipped: model not served");
            }
            Skip::Fee(reason) => tracing::info!(job = %job, %reason, "job skipped: fee too low"),
            Skip::Job(reason) => {
                tracing::info!(job = %job, %reason, "job skipped: beyond this agent's budget");
            }
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
        let run = loaded.clone();
        let trace = self
            .off_loop(job.id, move || run.burn.run(input.data()))
            .await??;
        Ok(Run::Ran { loaded, trace })
    }

    /// Runs language-model job `job` on `input` (its bytes from `JobPosted`) if the policy serves its
    /// model, the job's cost ([`Footprint::of_llm`]: its prompt, every token of its budget) and its
    /// fee: `run` gets the model and the job on the blocking pool, in the one inference slot, as
    /// [`Inference::run_job`] runs a tensor model (a worker generates its answer, a challenger the
    /// trace of the claimed length).
    pub async fn run_lm_job<T: Send + 'static>(
        &mut self,
        market: &Market,
        job: &JobView,
        input: &[u8],
        run: impl FnOnce(&IntModel, &Job) -> vouch_llm::Result<T> + Send + 'static,
    ) -> Result<Generated<T>> {
        let provider = market.client().provider().clone();
        let loaded = match self
            .models
            .admit_llm(&provider, market.deployment(), job.model_id)
            .await?
        {
            Admission::Served(m) => m,
            Admission::Refused(reason) => {
                return Ok(Generated::Skipped(Skip::Model {
                    id: job.model_id,
                    reason,
                }));
            }
        };
        let lm = lm_job(job, input)?;
        let positions = lm.prompt.len() + lm.max_new - 1;
        if positions > loaded.model.context() {
            // The market refuses such a job (`TokenBudget`): the chain is not what it should be.
            return Err(AgentError::Inconsistent(format!(
                "job {}: {positions} positions, the model's context is {}",
                job.id,
                loaded.model.context()
            )));
        }
        let footprint = Footprint::of_llm(loaded.model.config, lm.prompt.len(), lm.max_new);
        let policy = self.models.policy();
        if let Some(why) = policy.refuses_run(&footprint) {
            return Ok(Generated::Skipped(Skip::Job(why)));
        }
        if let Some(why) = policy.refuses_fee(job.fee, &footprint) {
            return Ok(Generated::Skipped(Skip::Fee(why)));
        }
        let out = self
            .off_loop(job.id, move || run(&loaded.model, &lm))
            .await??;
        Ok(Generated::Ran(out))
    }

    /// Runs `f` (the run of job `job`) on the blocking pool in the one inference slot, abandoned past
    /// the budget's time (see [`Inference::run_job`]).
    async fn off_loop<R: Send + 'static>(
        &self,
        job: U256,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R> {
        let limit = self.models.policy().budget.time;
        let timeout = || AgentError::InferenceTimeout {
            job: job.to_string(),
            limit,
        };
        let permit = tokio::time::timeout(limit, self.slot.clone().acquire_owned())
            .await
            .map_err(|_| timeout())?
            .map_err(|e| AgentError::Task(e.to_string()))?;
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f()
        });
        tokio::time::timeout(limit, task)
            .await
            .map_err(|_| timeout())?
            .map_err(|e| AgentError::Task(e.to_string()))
    }
}
