//! Models an agent runs (a worker serving jobs, a challenger re-running them): fetched from the chain's
//! published leaves, verified against their root, cached on disk, measured ([`Footprint`]) and
//! checked against the operator's [`Policy`] before anything is allocated for them, and loaded once: a
//! tensor model onto a Burn device, a language model as its canonical integer model with its
//! commitment. A refused model is never loaded; the refusal is logged once and remembered.

use crate::{budget::Footprint, error::Result, inference::blocking, policy::Policy};
use alloy::{primitives::U256, providers::DynProvider};
use std::{collections::HashMap, path::PathBuf, sync::Arc};
use vouch_burn::{BurnBackend, BurnModel, MatmulMode};
use vouch_chain::{
    Deployment, llm,
    registry::{self, ModelKind},
};
use vouch_core::{Model, commit::model_root, durable};
use vouch_llm::{IntModel, trace::ModelCommitment};

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

/// A language model ready to generate.
#[derive(Debug)]
pub struct LoadedLm {
    /// The canonical integer model.
    pub model: IntModel,
    /// Its commitment: the root it was checked against, and the op roots a step's pre-flight proves
    /// the model's leaves against.
    pub commitment: ModelCommitment,
}

/// Whether a model (a tensor model's [`LoadedModel`], a language model's [`LoadedLm`]) is served.
#[derive(Debug)]
pub enum Admission<M = LoadedModel> {
    /// Within the policy, loaded.
    Served(Arc<M>),
    /// Refused, with the reason (never loaded).
    Refused(Arc<str>),
}

impl<M> Clone for Admission<M> {
    fn clone(&self) -> Self {
        match self {
            Admission::Served(m) => Admission::Served(m.clone()),
            Admission::Refused(why) => Admission::Refused(why.clone()),
        }
    }
}

/// Model id → kind, canonical model, verdict and loaded model, backed by `<dir>/<id>.vouch` (a
/// tensor model) or `<dir>/<id>-<root>.vouchlm` (a language model).
#[derive(Debug)]
pub struct ModelCache {
    dir: PathBuf,
    backend: BurnBackend,
    policy: Policy,
    kinds: HashMap<U256, ModelKind>,
    canonical: HashMap<U256, Arc<Model>>,
    admitted: HashMap<U256, Admission>,
    lms: HashMap<U256, Arc<LoadedLm>>,
    admitted_lms: HashMap<U256, Admission<LoadedLm>>,
}

impl ModelCache {
    /// A cache storing files under `dir`, admitting models by `policy`, running them on `backend`.
    pub fn new(dir: PathBuf, backend: BurnBackend, policy: Policy) -> Self {
        Self {
            dir,
            backend,
            policy,
            kinds: HashMap::new(),
            canonical: HashMap::new(),
            admitted: HashMap::new(),
            lms: HashMap::new(),
            admitted_lms: HashMap::new(),
        }
    }

    /// What model `id` computes (read from the registry once).
    pub async fn kind(
        &mut self,
        provider: &DynProvider,
        deployment: &Deployment,
        id: U256,
    ) -> Result<ModelKind> {
        if let Some(k) = self.kinds.get(&id) {
            return Ok(*k);
        }
        let kind = registry::get_listing(provider, deployment, id).await?.kind;
        self.kinds.insert(id, kind);
        Ok(kind)
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
        if let Some(refused) = self.unlisted(id) {
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
                let burn =
                    blocking(move || BurnModel::new(&m, backend, MatmulMode::default())).await?;
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

    /// The refusal of a model the operator did not list (not even fetched), logged once; `None`
    /// when the policy lists every model or this one.
    fn unlisted<M>(&self, id: U256) -> Option<Admission<M>> {
        let ids = self.policy.models.as_ref()?;
        if ids.contains(&id) {
            return None;
        }
        tracing::info!(model = %id, "model not served: not in this operator's list of models");
        Some(Admission::Refused(
            "not in this operator's list of models".into(),
        ))
    }

    /// Language model `id` with its commitment, from memory, the disk cache (loaded, validated, and
    /// its root recomputed and checked against the chain's), or the chain's events
    /// ([`llm::fetch_llm`], root-checked). The heavy work runs off the event loop.
    pub async fn llm(
        &mut self,
        provider: &DynProvider,
        deployment: &Deployment,
        id: U256,
    ) -> Result<Arc<LoadedLm>> {
        if let Some(m) = self.lms.get(&id) {
            return Ok(m.clone());
        }
        let listing = registry::get_listing(provider, deployment, id).await?;
        let path = self.dir.join(format!("{id}-{}.vouchlm", listing.root));
        let file = path.clone();
        let cached = blocking(move || {
            let model = vouch_llm::int::load(&file).ok()?;
            let commitment = ModelCommitment::new(&model);
            Some(LoadedLm { model, commitment })
        })
        .await?
        .filter(|m| m.commitment.root == listing.root);
        let loaded = match cached {
            Some(m) => m,
            None => {
                let model = llm::fetch_llm(provider, deployment, id, &mut |_, _| ()).await?;
                let loaded = blocking(move || -> Result<LoadedLm> {
                    vouch_llm::int::save(&model, &path)?;
                    let commitment = ModelCommitment::new(&model);
                    Ok(LoadedLm { model, commitment })
                })
                .await??;
                tracing::info!(model = %id, bytes = loaded.model.weight_bytes(), "fetched language model from chain");
                loaded
            }
        };
        let loaded = Arc::new(loaded);
        self.lms.insert(id, loaded.clone());
        Ok(loaded)
    }

    /// Language model `id` if the policy serves it (loaded, [`ModelCache::llm`]); or why not. The
    /// verdict is computed from its registered hyper-parameters before its weights are fetched (the
    /// footprint of its least job: one prompt token, one new one; each job is measured again by
    /// [`Footprint::of_llm`] before it runs), logged once, and remembered.
    pub async fn admit_llm(
        &mut self,
        provider: &DynProvider,
        deployment: &Deployment,
        id: U256,
    ) -> Result<Admission<LoadedLm>> {
        if let Some(a) = self.admitted_lms.get(&id) {
            return Ok(a.clone());
        }
        if let Some(refused) = self.unlisted(id) {
            self.admitted_lms.insert(id, refused.clone());
            return Ok(refused);
        }
        let (card, config) = tokio::try_join!(
            llm::fetch_card(provider, deployment, id),
            llm::llm_config(provider, deployment, id)
        )?;
        // The card's widths are the registered ones (bounded by the registry, committed by the root).
        card.check(&config)?;
        let footprint = Footprint::of_llm(card.config, 1, 1);
        let admission = match self.policy.refuses_model(id, &footprint) {
            Some(reason) => {
                tracing::warn!(model = %id, %reason, ?footprint, "language model refused: never fetched");
                Admission::Refused(reason.into())
            }
            None => {
                let loaded = self.llm(provider, deployment, id).await?;
                tracing::info!(model = %id, ?footprint, "language model loaded");
                Admission::Served(loaded)
            }
        };
        self.admitted_lms.insert(id, admission.clone());
        Ok(admission)
    }
}
