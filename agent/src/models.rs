//! Models an agent runs (a worker serving jobs, a challenger re-running them): fetched from the chain's
//! published leaves, verified against their root, cached on disk, measured ([`Footprint`]) and
//! checked against the operator's [`Policy`] before anything is allocated for them, and loaded onto a
//! Burn device once. A refused model is never loaded; the refusal is logged once and remembered.

use crate::{
    budget::Footprint,
    error::{AgentError, Result},
    policy::Policy,
};
use alloy::{primitives::U256, providers::DynProvider};
use std::{collections::HashMap, path::PathBuf, sync::Arc};
use vouch_burn::{BurnBackend, BurnModel, MatmulMode};
use vouch_chain::{Deployment, registry};
use vouch_core::{Model, commit::model_root, durable};

/// A model ready to run.
#[derive(Debug)]
pub struct LoadedModel {
    /// The canonical model.
    pub model: Arc<Model>,
    /// What it costs.
    pub footprint: Footprint,
    /// Its weights on the Burn device.
    pub burn: BurnModel,
}

/// Whether a model is served.
#[derive(Debug, Clone)]
pub enum Admission {
    /// Within the policy, loaded.
    Served(Arc<LoadedModel>),
    /// Refused, with the reason (never loaded).
    Refused(Arc<str>),
}

/// Model id → canonical model, verdict and loaded model, backed by `<dir>/<id>.vouch`.
#[derive(Debug)]
pub struct ModelCache {
    dir: PathBuf,
    backend: BurnBackend,
    policy: Policy,
    canonical: HashMap<U256, Arc<Model>>,
    admitted: HashMap<U256, Admission>,
}

impl ModelCache {
    /// A cache storing files under `dir`, admitting models by `policy`, running them on `backend`.
    pub fn new(dir: PathBuf, backend: BurnBackend, policy: Policy) -> Self {
        Self {
            dir,
            backend,
            policy,
            canonical: HashMap::new(),
            admitted: HashMap::new(),
        }
    }

    /// The policy models and jobs are admitted by.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The canonical model `id`, from memory, the disk cache (re-verified against the chain's root),
    /// or the chain's published leaves. Nothing is loaded onto a device.
    pub async fn model(
        &mut self,
        provider: &DynProvider,
        deployment: &Deployment,
        id: U256,
    ) -> Result<Arc<Model>> {
        if let Some(m) = self.canonical.get(&id) {
            return Ok(m.clone());
        }
        let listing = registry::get_listing(provider, deployment, id).await?;
        let path = self.dir.join(format!("{id}.vouch"));
        let cached = Model::load(&path)
            .ok()
            .filter(|m| model_root(m) == listing.root);
        let model = match cached {
            Some(m) => m,
            None => {
                let m = registry::fetch_model(provider, deployment, id).await?;
                durable::write(&path, &m.to_bytes())?;
                tracing::info!(model = %id, name = %m.meta.name, ops = m.op_count(), "fetched model from chain");
                m
            }
        };
        let model = Arc::new(model);
        self.canonical.insert(id, model.clone());
        Ok(model)
    }

    /// Model `id` if the policy serves it, loaded on the Burn device (off the event loop); or why not.
    /// The verdict is computed from the model's shapes and ops before any allocation, logged once,
    /// and remembered.
    pub async fn admit(
        &mut self,
        provider: &DynProvider,
        deployment: &Deployment,
        id: U256,
    ) -> Result<Admission> {
        if let Some(a) = self.admitted.get(&id) {
            return Ok(a.clone());
        }
        if let Some(ids) = &self.policy.models
            && !ids.contains(&id)
        {
            // Not opted into: not even fetched.
            let refused = Admission::Refused("not in this operator's list of models".into());
            tracing::info!(model = %id, "model not served: not in this operator's list of models");
            self.admitted.insert(id, refused.clone());
            return Ok(refused);
        }
        let model = self.model(provider, deployment, id).await?;
        let footprint = Footprint::of(&model);
        let admission = match self.policy.refuses_model(id, &footprint) {
            Some(reason) => {
                tracing::warn!(model = %id, name = %model.meta.name, %reason, ?footprint, "model refused: never loaded");
                Admission::Refused(reason.into())
            }
            None => {
                let backend = self.backend;
                let m = model.clone();
                let burn = tokio::task::spawn_blocking(move || {
                    BurnModel::new(&m, backend, MatmulMode::default())
                })
                .await
                .map_err(|e| AgentError::Task(e.to_string()))?;
                tracing::info!(model = %id, name = %model.meta.name, ?footprint, "model loaded");
                Admission::Served(Arc::new(LoadedModel {
                    model,
                    footprint,
                    burn,
                }))
            }
        };
        self.admitted.insert(id, admission.clone());
        Ok(admission)
    }
}
