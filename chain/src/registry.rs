//! Listing models: registering a commitment, publishing the model's leaves on chain, and rebuilding a
//! model from those events alone (data availability: no one needs the coordinator to re-run it).

use crate::{
    bindings::ModelRegistry::{self, ModelRegistryEvents},
    client::{ChainClient, classify},
    deploy::Deployment,
    error::{ChainError, Result},
    events::{VouchEvent, decode_log},
};
use alloy::{
    primitives::{Address, U256},
    providers::{DynProvider, Provider},
    rpc::types::Filter,
    sol_types::SolEvent,
};
use vouch_core::{B256, Model, Shape, commit::model_root, model::ModelMeta};

/// Calldata budget of one `publishLeaves` transaction.
pub const PUBLISH_CHUNK_BYTES: usize = 64 * 1024;

/// Publication transactions in flight at once.
const PIPELINE: usize = 16;

/// Prefix of a model metadata URI that carries the metadata JSON inline.
pub const META_URI_PREFIX: &str = "data:application/json,";

/// A model's on-chain listing status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelStatus {
    /// Registered, weights still being published.
    Pending,
    /// Weights published and verified: jobs can be posted.
    Active,
    /// The owner retired it: no new jobs.
    Retired,
}

impl ModelStatus {
    /// From the contract's `ModelStatus` enum value.
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(Self::Pending),
            2 => Some(Self::Active),
            3 => Some(Self::Retired),
            _ => None,
        }
    }
}

/// What a model computes (the registry's `ModelKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// A tensor network: jobs are int8 tensors of its input shape.
    Tensor,
    /// A language model: jobs are prompts, results generated token ids (PROTOCOL §7).
    Llm,
}

impl ModelKind {
    /// From the contract's `ModelKind` enum value.
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::Tensor),
            1 => Some(Self::Llm),
            _ => None,
        }
    }
}

/// The inline metadata URI for `meta`.
pub fn meta_uri(meta: &ModelMeta) -> String {
    format!(
        "{META_URI_PREFIX}{}",
        serde_json::to_string(meta).expect("metadata serialises")
    )
}

/// Metadata from an inline metadata URI, if it is one.
pub fn meta_from_uri(uri: &str) -> Option<ModelMeta> {
    serde_json::from_str(uri.strip_prefix(META_URI_PREFIX)?).ok()
}

/// The contracts' `TensorShape` for a core [`Shape`].
pub fn sol_shape(s: Shape) -> ModelRegistry::TensorShape {
    ModelRegistry::TensorShape {
        h: s.h,
        w: s.w,
        c: s.c,
    }
}

fn core_shape(s: &ModelRegistry::TensorShape) -> Shape {
    Shape::new(s.h, s.w, s.c)
}

/// Registers `model` (Pending), then publishes all its leaves and seals every op, which activates it.
/// Returns the model id.
pub async fn list_model(
    client: &ChainClient,
    deployment: &Deployment,
    model: &Model,
    fee: U256,
    royalty_bps: u16,
) -> Result<U256> {
    list_model_with_progress(client, deployment, model, fee, royalty_bps, &mut |_, _| {}).await
}

/// [`list_model`], telling `progress` (transactions sent, transactions in all) after each
/// transaction.
pub async fn list_model_with_progress(
    client: &ChainClient,
    deployment: &Deployment,
    model: &Model,
    fee: U256,
    royalty_bps: u16,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<U256> {
    let registry = ModelRegistry::new(deployment.registry, client.provider());
    let tx = registry
        .registerModel(
            model_root(model),
            model.op_count() as u32,
            sol_shape(model.input),
            model.input_zero,
            sol_shape(model.output()),
            fee,
            royalty_bps,
            meta_uri(&model.meta),
        )
        .into_transaction_request();
    let receipt = client.send(tx).await?;
    let id = receipt
        .decoded_log::<ModelRegistry::ModelRegistered>()
        .ok_or_else(|| ChainError::Decode("no ModelRegistered log".into()))?
        .modelId;
    // The registration counts as the first transaction.
    publish_model(client, deployment, id, model, &mut |done, total| {
        progress(1 + done, 1 + total)
    })
    .await?;
    Ok(id)
}

/// The ranges of `leaves` published in one transaction each: as many leaves as fit in
/// [`PUBLISH_CHUNK_BYTES`], at least one.
fn chunks(leaves: &[Vec<u8>]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    while start < leaves.len() {
        let mut end = start;
        let mut bytes = 0;
        while end < leaves.len()
            && (end == start || bytes + leaves[end].len() <= PUBLISH_CHUNK_BYTES)
        {
            bytes += leaves[end].len();
            end += 1;
        }
        ranges.push(start..end);
        start = end;
    }
    ranges
}

/// Publishes every op's leaves in chunks of at most [`PUBLISH_CHUNK_BYTES`] and seals each op,
/// telling `progress` (transactions sent, transactions in all) after each transaction.
pub async fn publish_model(
    client: &ChainClient,
    deployment: &Deployment,
    id: U256,
    model: &Model,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<()> {
    let ops: Vec<Vec<Vec<u8>>> = model.ops.iter().map(|op| op.leaves()).collect();
    publish_ops(
        client,
        deployment.registry,
        id,
        &ops,
        Resume::START,
        progress,
    )
    .await?;
    tracing::info!(model = %id, ops = model.op_count(), "model published and activated");
    Ok(())
}

/// Where a publication stands: op `op` being published, `leaves` of its leaves already on chain
/// (the registry's `publication`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    /// The op being published.
    pub op: usize,
    /// Its leaves already published.
    pub leaves: usize,
}

impl Resume {
    /// Nothing published yet.
    pub const START: Self = Self { op: 0, leaves: 0 };
}

/// Transactions [`publish_ops`] sends for `ops` from the start: each op's chunks and its seal.
pub fn transactions(ops: &[Vec<Vec<u8>>]) -> usize {
    ops.iter().map(|l| chunks(l).len() + 1).sum()
}

/// Transactions a fresh publication of `ops` sends before reaching `from`.
pub fn transactions_before(ops: &[Vec<Vec<u8>>], from: Resume) -> usize {
    let op = from.op.min(ops.len());
    let partial = ops.get(op).map_or(0, |leaves| {
        let rest = leaves.get(from.leaves..).unwrap_or_default();
        chunks(leaves).len().saturating_sub(chunks(rest).len())
    });
    transactions(&ops[..op]) + partial
}

/// Publishes the leaves of every op of model `id` (`ops[o]`: op `o`'s leaves, its spec first) to the
/// registry at `registry`, in chunks of at most [`PUBLISH_CHUNK_BYTES`], and seals each op in order
/// (the last seal checks the model root and activates the model), starting where `from` says the
/// publication stands. An op's first chunk lands alone, the rest go out pipelined, its seal last.
/// Tells `progress` (transactions done, transactions in all) after each transaction, counting those
/// a fresh publication would have sent before `from` as done. Serves tensor and language models alike.
pub async fn publish_ops(
    client: &ChainClient,
    registry: Address,
    id: U256,
    ops: &[Vec<Vec<u8>>],
    from: Resume,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<()> {
    let registry = ModelRegistry::new(registry, client.provider());
    let total = transactions(ops);
    let mut done = transactions_before(ops, from);
    for (k, leaves) in ops.iter().enumerate().skip(from.op) {
        let skip = if k == from.op { from.leaves } else { 0 };
        let rest = leaves.get(skip..).unwrap_or_default();
        let ranges = chunks(rest);
        // An op's first chunk lands alone: the registry keeps its first leaf as the op's spec, so a
        // later chunk estimated before it would be priced as storing a spec.
        let first = usize::from(skip == 0).min(ranges.len());
        for window in std::iter::once(&ranges[..first]).chain(ranges[first..].chunks(PIPELINE)) {
            let txs = window
                .iter()
                .map(|range| {
                    let chunk = rest[range.clone()]
                        .iter()
                        .map(|l| l.clone().into())
                        .collect();
                    registry
                        .publishLeaves(id, k as u32, chunk)
                        .into_transaction_request()
                })
                .collect();
            for sent in client.send_all(txs).await {
                sent?;
                done += 1;
                progress(done, total);
            }
        }
        client
            .send(registry.sealOp(id, k as u32).into_transaction_request())
            .await?;
        done += 1;
        progress(done, total);
        tracing::debug!(model = %id, op = k, leaves = leaves.len(), "op published and sealed");
    }
    Ok(())
}

/// A model's registry entry.
#[derive(Debug, Clone)]
pub struct Listing {
    /// Model id.
    pub id: U256,
    /// Who listed it and receives royalties.
    pub owner: alloy::primitives::Address,
    /// The model root.
    pub root: B256,
    /// Number of ops.
    pub op_count: u32,
    /// Input shape.
    pub input: Shape,
    /// Input zero point.
    pub input_zero: i8,
    /// Output shape.
    pub output: Shape,
    /// Fee per inference, in wei.
    pub fee: U256,
    /// Owner's share of the fee, in basis points.
    pub royalty_bps: u16,
    /// Listing status.
    pub status: ModelStatus,
    /// Metadata URI.
    pub uri: String,
    /// What it computes (a language model's shapes are zero).
    pub kind: ModelKind,
}

/// Reads a model's registry entry.
pub async fn get_listing(
    provider: &DynProvider,
    deployment: &Deployment,
    id: U256,
) -> Result<Listing> {
    let registry = ModelRegistry::new(deployment.registry, provider);
    let m = registry.getModel(id).call().await.map_err(|e| match e {
        alloy::contract::Error::TransportError(t) => classify(t),
        other => ChainError::Decode(other.to_string()),
    })?;
    Ok(Listing {
        id,
        owner: m.owner,
        root: m.root,
        op_count: m.opCount,
        input: core_shape(&m.input),
        input_zero: m.inputZero,
        output: core_shape(&m.output),
        fee: m.fee,
        royalty_bps: m.royaltyBps,
        status: ModelStatus::from_u8(m.status)
            .ok_or_else(|| ChainError::Decode(format!("model status {}", m.status)))?,
        uri: m.uri,
        kind: ModelKind::from_u8(m.kind)
            .ok_or_else(|| ChainError::Decode(format!("model kind {}", m.kind)))?,
    })
}

/// Rebuilds model `id` from its `ModelLeavesPublished` events and checks it against the registered
/// root. Only an RPC endpoint is needed.
pub async fn fetch_model(
    provider: &DynProvider,
    deployment: &Deployment,
    id: U256,
) -> Result<Model> {
    let listing = get_listing(provider, deployment, id).await?;
    if listing.status == ModelStatus::Pending {
        return Err(ChainError::Mismatch(format!(
            "model {id} is still being published"
        )));
    }
    let filter = Filter::new()
        .address(deployment.registry)
        .event_signature(vec![
            ModelRegistry::ModelLeavesPublished::SIGNATURE_HASH,
            ModelRegistry::PublicationReset::SIGNATURE_HASH,
        ])
        .topic1(B256::from(id))
        .from_block(deployment.start_block);
    let logs = provider.get_logs(&filter).await.map_err(classify)?;
    let mut ops: Vec<Vec<Vec<u8>>> = vec![Vec::new(); listing.op_count as usize];
    for log in &logs {
        match decode_log(deployment, log)?.map(|e| e.event) {
            Some(VouchEvent::Registry(ModelRegistryEvents::PublicationReset(_))) => {
                ops.iter_mut().for_each(Vec::clear)
            }
            Some(VouchEvent::Registry(ModelRegistryEvents::ModelLeavesPublished(e))) => {
                let op = ops.get_mut(e.op as usize).ok_or_else(|| {
                    ChainError::Mismatch(format!(
                        "leaves for op {} of a {}-op model",
                        e.op, listing.op_count
                    ))
                })?;
                if op.len() != e.firstLeaf as usize {
                    return Err(ChainError::Mismatch(format!(
                        "op {} leaves out of order",
                        e.op
                    )));
                }
                op.extend(e.leaves.into_iter().map(|b| b.to_vec()));
            }
            _ => {}
        }
    }
    let ops = ops
        .iter()
        .enumerate()
        .map(|(k, leaves)| {
            vouch_core::model::Op::from_leaves(leaves)
                .map_err(|e| ChainError::Mismatch(format!("op {k}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let meta = meta_from_uri(&listing.uri).unwrap_or_else(|| ModelMeta {
        name: format!("model-{id}"),
        input_scale: 1.0,
        output_scale: 1.0,
        labels: Vec::new(),
    });
    let model = Model {
        input: listing.input,
        input_zero: listing.input_zero,
        ops,
        meta,
    };
    let root = model_root(&model);
    if root != listing.root {
        return Err(ChainError::Mismatch(format!(
            "model {id}: published leaves hash to {root}, registered {}",
            listing.root
        )));
    }
    model.validate()?;
    Ok(model)
}
