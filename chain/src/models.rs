//! Models an agent runs (a worker serving jobs, a challenger re-running them): fetched from the chain's
//! published leaves, verified against their root, cached on disk, and loaded onto a Burn device once.

use crate::{deploy::Deployment, error::Result, registry};
use alloy::primitives::U256;
use std::{collections::HashMap, path::PathBuf, sync::Arc};
use vouch_core::{
    Model,
    burn_exec::{BurnBackend, BurnModel, MatmulMode},
    commit::model_root,
};

/// A model ready to run.
#[derive(Debug)]
pub struct LoadedModel {
    /// The canonical model.
    pub model: Model,
    /// Its weights on the Burn device.
    pub burn: BurnModel,
}

/// Model id → loaded model, backed by `<data_dir>/models/<id>.vouch`.
#[derive(Debug)]
pub struct ModelCache {
    dir: PathBuf,
    backend: BurnBackend,
    loaded: HashMap<U256, Arc<LoadedModel>>,
}

impl ModelCache {
    /// A cache storing files under `dir`.
    pub fn new(dir: PathBuf, backend: BurnBackend) -> Self {
        Self {
            dir,
            backend,
            loaded: HashMap::new(),
        }
    }

    /// The model `id`, from memory, the disk cache (re-verified against the chain's root), or the
    /// chain's published leaves.
    pub async fn get(
        &mut self,
        provider: &alloy::providers::DynProvider,
        deployment: &Deployment,
        id: U256,
    ) -> Result<Arc<LoadedModel>> {
        if let Some(m) = self.loaded.get(&id) {
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
                std::fs::create_dir_all(&self.dir)?;
                std::fs::write(&path, m.to_bytes())?;
                tracing::info!(model = %id, name = %m.meta.name, ops = m.op_count(), "fetched model from chain");
                m
            }
        };
        let burn = BurnModel::new(&model, self.backend, MatmulMode::default());
        let loaded = Arc::new(LoadedModel { model, burn });
        self.loaded.insert(id, loaded.clone());
        Ok(loaded)
    }
}
