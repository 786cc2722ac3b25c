//! Listing a language model and reading it back (PROTOCOL §7.1). A listing is hundreds of
//! transactions for a real model (SmolLM2-135M: ~100 MB of rows), so it resumes: an owner listing a
//! root it already registered continues that publication where the chain says it stopped. Reading one
//! back needs an RPC endpoint only: the card and every op's leaves from the registry's events, the
//! model rebuilt from them and its commitment checked against the registered root.

use crate::{
    bindings::ModelRegistry::{self, ModelRegistryEvents},
    client::{ChainClient, classify},
    deploy::Deployment,
    error::{ChainError, Result},
    events::{VouchEvent, decode_log},
    llm::LlmPrice,
    market::call_err,
    registry::{ModelStatus, Resume, get_listing, publish_ops, transactions, transactions_before},
};
use alloy::{
    primitives::{Address, B256, Bytes, U256},
    providers::{DynProvider, Provider},
    rpc::types::Filter,
    sol_types::SolEvent,
};
use vouch_llm::{
    IntModel,
    card::{self, Card, LlmConfig},
    trace::{ModelCommitment, commit, program::Program, rebuild},
};

/// Blocks per `eth_getLogs` page when reading a listing back (a dev chain mines one 64 KiB
/// publication a block: a page stays near 16 MiB).
pub const LOG_PAGE_BLOCKS: u64 = 256;

/// What listing a language model publishes, computed once: its root, registered config, card bytes
/// and every op's leaves.
#[derive(Debug, Clone)]
pub struct LlmPublication {
    /// The model root (`ModelCommitment`).
    pub root: B256,
    /// The config it registers.
    pub config: LlmConfig,
    /// The card's bytes, published in `vouch_llm::card::CARD_CHUNK`s.
    pub card: Vec<u8>,
    /// Every op's leaves, its spec first.
    pub ops: Vec<Vec<Vec<u8>>>,
}

impl LlmPublication {
    /// The publication of `model`.
    pub fn of(model: &IntModel) -> Self {
        let program = Program::new(model.config);
        Self {
            root: ModelCommitment::new(model).root,
            config: LlmConfig::of(model),
            card: Card::of(model).to_bytes(),
            ops: (0..program.ops())
                .map(|o| commit::op_leaves(model, program, o))
                .collect(),
        }
    }

    /// Leaves and bytes of all op trees.
    pub fn size(&self) -> (usize, usize) {
        let leaves = self.ops.iter().map(Vec::len).sum();
        let bytes = self.ops.iter().flatten().map(Vec::len).sum();
        (leaves, bytes)
    }
}

/// Lists `model` in the deployment's registry at `price` per token and returns its id: registers
/// its root and config (Pending), publishes its card and every op's leaves in chunks, and seals each op, the last seal
/// checking the model root and activating the model. When this account already registered the same
/// root, the listing is that one (at the price it was registered with): an Active model is returned
/// as it is, a Pending one resumed where
/// its publication stopped (a card that is not a prefix of this one resets it). Tells `progress`
/// (transactions done, transactions in all) once where it starts (counting what was done before a
/// resume) and after each transaction.
pub async fn list_llm(
    client: &ChainClient,
    deployment: &Deployment,
    model: &IntModel,
    price: LlmPrice,
    royalty_bps: u16,
    uri: &str,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<U256> {
    let publication = LlmPublication::of(model);
    let registry = ModelRegistry::new(deployment.registry, client.provider());
    let chunks: Vec<&[u8]> = card::chunks(&publication.card).collect();
    // Registration counts as one transaction, then the card's chunks, then the ops.
    let before = 1 + chunks.len();
    let total = before + transactions(&publication.ops);
    let id = match own_listing(client, deployment, publication.root).await? {
        Some((id, ModelStatus::Pending)) => {
            tracing::info!(model = %id, "resuming the publication of a registered language model");
            id
        }
        Some((id, _)) => {
            tracing::info!(model = %id, "this language model is already listed");
            progress(total, total);
            return Ok(id);
        }
        None => {
            let tx = registry
                .registerLlm(
                    publication.root,
                    publication.config.into(),
                    price.per_input,
                    price.per_output,
                    royalty_bps,
                    uri.to_owned(),
                )
                .into_transaction_request();
            let receipt = client.send(tx).await?;
            receipt
                .decoded_log::<ModelRegistry::LlmRegistered>()
                .ok_or_else(|| ChainError::Decode("no LlmRegistered log".into()))?
                .modelId
        }
    };
    let mut card_done = published_card(client, deployment.registry, id, &chunks).await?;
    let resume = if card_done.is_none() {
        tracing::warn!(model = %id, "the published card is not this model's: publication reset");
        client
            .send(registry.resetPublication(id).into_transaction_request())
            .await?;
        card_done = Some(0);
        Resume::START
    } else {
        let p = registry.publication(id).call().await.map_err(call_err)?;
        Resume {
            op: p.op as usize,
            leaves: p.leafCount as usize,
        }
    };
    let card_done = card_done.unwrap_or(0);
    progress(
        1 + card_done + transactions_before(&publication.ops, resume),
        total,
    );
    let txs = chunks[card_done..]
        .iter()
        .map(|c| {
            registry
                .publishCard(id, Bytes::copy_from_slice(c))
                .into_transaction_request()
        })
        .collect();
    for (k, sent) in client.send_all(txs).await.into_iter().enumerate() {
        sent?;
        progress(2 + card_done + k, total);
    }
    publish_ops(
        client,
        deployment.registry,
        id,
        &publication.ops,
        resume,
        &mut |done, _| progress(before + done, total),
    )
    .await?;
    tracing::info!(model = %id, ops = publication.ops.len(), "language model published and activated");
    Ok(id)
}

/// This account's listing of `root`, if it registered one, with its status.
async fn own_listing(
    client: &ChainClient,
    deployment: &Deployment,
    root: B256,
) -> Result<Option<(U256, ModelStatus)>> {
    let filter = Filter::new()
        .address(deployment.registry)
        .event_signature(ModelRegistry::LlmRegistered::SIGNATURE_HASH)
        .topic2(client.address().into_word())
        .from_block(deployment.start_block);
    let logs = client
        .provider()
        .get_logs(&filter)
        .await
        .map_err(classify)?;
    for log in logs.iter().rev() {
        let registered = ModelRegistry::LlmRegistered::decode_log_data(log.data())
            .map_err(|e| ChainError::Decode(e.to_string()))?;
        if registered.root != root {
            continue;
        }
        let listing = get_listing(client.provider(), deployment, registered.modelId).await?;
        if listing.status != ModelStatus::Retired {
            return Ok(Some((registered.modelId, listing.status)));
        }
    }
    Ok(None)
}

/// How many of `chunks` model `id`'s published card holds (`None` when what it holds is not a
/// prefix of them).
async fn published_card(
    client: &ChainClient,
    registry: Address,
    id: U256,
    chunks: &[&[u8]],
) -> Result<Option<usize>> {
    let on_chain = ModelRegistry::new(registry, client.provider())
        .card(id)
        .call()
        .await
        .map_err(call_err)?;
    let done = on_chain.chunks as usize;
    Ok(
        (done <= chunks.len() && card::chain_hash(chunks[..done].iter().copied()) == on_chain.hash)
            .then_some(done),
    )
}

/// Reads language model `id` back from the chain alone: its registered config, its card and every
/// op's leaves from the registry's events (in pages of [`LOG_PAGE_BLOCKS`] blocks, `progress` told
/// (blocks read, blocks in all)), the model rebuilt and its commitment checked against the
/// registered root.
pub async fn fetch_llm(
    provider: &DynProvider,
    deployment: &Deployment,
    id: U256,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<IntModel> {
    let listing = get_listing(provider, deployment, id).await?;
    if listing.status == ModelStatus::Pending {
        return Err(ChainError::Mismatch(format!(
            "model {id} is still being published"
        )));
    }
    let chain = llm_config(provider, deployment, id).await?;
    let (card, ops) = read_publication(provider, deployment, id, &chain, progress).await?;
    let bad = |e: vouch_llm::LlmError| ChainError::Mismatch(format!("model {id}: {e}"));
    let card = Card::from_bytes(&card.concat()).map_err(bad)?;
    let model = rebuild(card, &chain, &ops).map_err(bad)?;
    let root = ModelCommitment::new(&model).root;
    if root != listing.root {
        return Err(ChainError::Mismatch(format!(
            "model {id}: published data hashes to {root}, registered {}",
            listing.root
        )));
    }
    Ok(model)
}

/// The hyper-parameters language model `id` is registered with (`llmConfig`, bounded by the registry
/// and committed by the model root: what its weights and traces can cost, known before reading them).
pub async fn llm_config(
    provider: &DynProvider,
    deployment: &Deployment,
    id: U256,
) -> Result<LlmConfig> {
    Ok(ModelRegistry::new(deployment.registry, provider)
        .llmConfig(id)
        .call()
        .await
        .map_err(call_err)?
        .into())
}

/// Reads language model `id`'s card alone from its `ModelCardPublished` events (a few hundred
/// KiB: the tokenizer a coordinator needs for text, without the weights), checked against the
/// registry's chained card hash. The model must be listed (not Pending).
pub async fn fetch_card(provider: &DynProvider, deployment: &Deployment, id: U256) -> Result<Card> {
    let listing = get_listing(provider, deployment, id).await?;
    if listing.status == ModelStatus::Pending {
        return Err(ChainError::Mismatch(format!(
            "model {id} is still being published"
        )));
    }
    let on_chain = ModelRegistry::new(deployment.registry, provider)
        .card(id)
        .call()
        .await
        .map_err(call_err)?;
    let filter = Filter::new()
        .address(deployment.registry)
        .event_signature(vec![
            ModelRegistry::ModelCardPublished::SIGNATURE_HASH,
            ModelRegistry::PublicationReset::SIGNATURE_HASH,
        ])
        .topic1(B256::from(id))
        .from_block(deployment.start_block);
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    for log in provider.get_logs(&filter).await.map_err(classify)? {
        match decode_log(deployment, &log)?.map(|e| e.event) {
            Some(VouchEvent::Registry(ModelRegistryEvents::PublicationReset(_))) => chunks.clear(),
            Some(VouchEvent::Registry(ModelRegistryEvents::ModelCardPublished(e))) => {
                chunks.push(e.chunk.to_vec())
            }
            _ => {}
        }
    }
    let hash = card::chain_hash(chunks.iter().map(Vec::as_slice));
    if hash != on_chain.hash {
        return Err(ChainError::Mismatch(format!(
            "model {id}: the card's events hash to {hash}, the registry holds {}",
            on_chain.hash
        )));
    }
    Card::from_bytes(&chunks.concat()).map_err(|e| ChainError::Mismatch(format!("model {id}: {e}")))
}

/// The card chunks and every op's leaves of model `id`, registered with `config`, as its events give
/// them, read in pages of [`LOG_PAGE_BLOCKS`] blocks (`progress`: blocks read, blocks in all); a reset
/// discards what came before it. What is held stays within the shape's bounds — no op more leaves
/// than its tree has (`commit::leaf_count`), no card past `MAX_CARD_BYTES` — so a listing built to
/// exhaust memory is refused while it is read.
async fn read_publication(
    provider: &DynProvider,
    deployment: &Deployment,
    id: U256,
    config: &LlmConfig,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<(Vec<Vec<u8>>, Vec<Vec<Vec<u8>>>)> {
    let program = config.program();
    let op_count = program.ops();
    let mut card_bytes = 0;
    let latest = provider.get_block_number().await.map_err(classify)?;
    let mut card = Vec::new();
    let mut ops: Vec<Vec<Vec<u8>>> = vec![Vec::new(); op_count];
    let first = deployment.start_block;
    let mut from = first;
    while from <= latest {
        let to = (from + LOG_PAGE_BLOCKS - 1).min(latest);
        let filter = Filter::new()
            .address(deployment.registry)
            .event_signature(vec![
                ModelRegistry::ModelCardPublished::SIGNATURE_HASH,
                ModelRegistry::ModelLeavesPublished::SIGNATURE_HASH,
                ModelRegistry::PublicationReset::SIGNATURE_HASH,
            ])
            .topic1(B256::from(id))
            .from_block(from)
            .to_block(to);
        for log in provider.get_logs(&filter).await.map_err(classify)? {
            match decode_log(deployment, &log)?.map(|e| e.event) {
                Some(VouchEvent::Registry(ModelRegistryEvents::PublicationReset(_))) => {
                    card.clear();
                    card_bytes = 0;
                    ops.iter_mut().for_each(Vec::clear);
                }
                Some(VouchEvent::Registry(ModelRegistryEvents::ModelCardPublished(e))) => {
                    card_bytes += e.chunk.len();
                    if e.index as usize != card.len() || card_bytes > card::MAX_CARD_BYTES {
                        return Err(ChainError::Mismatch(format!(
                            "model {id}: card chunk {} out of order or past {} bytes",
                            e.index,
                            card::MAX_CARD_BYTES
                        )));
                    }
                    card.push(e.chunk.to_vec());
                }
                Some(VouchEvent::Registry(ModelRegistryEvents::ModelLeavesPublished(e))) => {
                    let op = ops.get_mut(e.op as usize).ok_or_else(|| {
                        ChainError::Mismatch(format!(
                            "model {id}: leaves for op {} of {op_count}",
                            e.op
                        ))
                    })?;
                    let most = commit::leaf_count(program, config.context, e.op as usize);
                    if op.len() != e.firstLeaf as usize || op.len() + e.leaves.len() > most {
                        return Err(ChainError::Mismatch(format!(
                            "model {id}: op {} leaves out of order or past the {most} of its tree",
                            e.op
                        )));
                    }
                    op.extend(e.leaves.into_iter().map(|b| b.to_vec()));
                }
                _ => {}
            }
        }
        progress(to + 1 - first, latest + 1 - first);
        from = to + 1;
    }
    Ok((card, ops))
}

impl From<LlmConfig> for ModelRegistry::LlmConfig {
    fn from(c: LlmConfig) -> Self {
        Self {
            blocks: c.blocks as u32,
            hidden: c.hidden as u32,
            heads: c.heads as u32,
            kvHeads: c.kv_heads as u32,
            headDim: c.head_dim as u32,
            ffn: c.ffn as u32,
            vocab: c.vocab as u32,
            context: c.context as u32,
            eos: c.eos,
        }
    }
}

impl From<ModelRegistry::LlmConfig> for LlmConfig {
    fn from(c: ModelRegistry::LlmConfig) -> Self {
        Self {
            blocks: c.blocks as usize,
            hidden: c.hidden as usize,
            heads: c.heads as usize,
            kv_heads: c.kvHeads as usize,
            head_dim: c.headDim as usize,
            ffn: c.ffn as usize,
            vocab: c.vocab as usize,
            context: c.context as usize,
            eos: c.eos,
        }
    }
}
