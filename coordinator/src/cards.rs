//! Language models' cards (PROTOCOL §7.1): the tokenizer and chat template a model's owner
//! committed to with its root, read from the registry's events (`vouch_chain::llm::fetch_card`)
//! once per model and kept in memory, so the coordinator tokenizes prompts and decodes answers
//! exactly as the model's workers do. Nothing is stored: a restarted coordinator reads each card
//! from the chain again, the first time it needs it.

use alloy::{primitives::U256, providers::DynProvider};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};
use tokio::sync::OnceCell;
use vouch_chain::{ChainError, Deployment, llm::fetch_card};
use vouch_client::{JobRecord, LlmConfigRecord};
use vouch_llm::{
    LlmError,
    card::{Card, LlmConfig},
    tokenizer::ChatTokenizer,
};

/// Most cards kept at once (SmolLM2's tokenizer is a few MiB in memory); the least recently used
/// one goes first.
pub const MAX_CARDS: usize = 32;

/// What the coordinator needs of a language model's card: its tokenizer and the config it states.
pub struct TextModel {
    tokenizer: ChatTokenizer,
    config: LlmConfig,
    /// The most bytes of text one token stands for (byte-level BPE: one character per byte).
    max_token_bytes: usize,
}

impl std::fmt::Debug for TextModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextModel")
            .field("config", &self.config)
            .field("max_token_bytes", &self.max_token_bytes)
            .finish_non_exhaustive()
    }
}

impl TextModel {
    /// The tokenizer of `card` (CPU work: the vocabulary and merges are built into a BPE).
    pub fn new(card: &Card) -> Result<Self, LlmError> {
        Ok(Self {
            tokenizer: ChatTokenizer::new(&card.tokenizer)?,
            config: card.registered_config(),
            max_token_bytes: card
                .tokenizer
                .tokens
                .iter()
                .map(|t| t.chars().count())
                .max()
                .unwrap_or(1)
                .max(1),
        })
    }

    /// `prompt` as the model takes a user turn: its ChatML template with the default system
    /// message, tokenized.
    pub fn chat(&self, prompt: &str) -> Result<Vec<u32>, LlmError> {
        self.tokenizer.chat(prompt)
    }

    /// The fewest tokens `text` can take: a byte-level token stands for at most
    /// `max_token_bytes` bytes, so a prompt far past the context is refused without tokenizing it.
    pub fn min_tokens(&self, text: &str) -> usize {
        text.len().div_ceil(self.max_token_bytes)
    }

    /// The text of generated `ids`, eos and the other control tokens left out.
    pub fn decode(&self, ids: &[u32]) -> Result<String, LlmError> {
        self.tokenizer.decode(ids)
    }

    /// Checks the card against the config the model is registered with: a card that disagrees is
    /// one no honest worker serves.
    pub fn check(&self, registered: &LlmConfigRecord) -> Result<(), String> {
        let chain = LlmConfig {
            blocks: registered.blocks as usize,
            hidden: registered.hidden as usize,
            heads: registered.heads as usize,
            kv_heads: registered.kv_heads as usize,
            head_dim: registered.head_dim as usize,
            ffn: registered.ffn as usize,
            vocab: registered.vocab as usize,
            context: registered.context as usize,
            eos: registered.eos,
        };
        if self.config == chain {
            Ok(())
        } else {
            Err(format!(
                "its card states {:?}, the registry {chain:?}",
                self.config
            ))
        }
    }
}

/// Why a card is not at hand.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    /// Reading it failed (the RPC endpoint is down, …): worth trying again.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The card on chain cannot be used (it does not hash to the registry's card hash, does not
    /// decode, or has no usable tokenizer); it never will, so the answer is kept.
    #[error("{0}")]
    Unusable(String),
}

/// A loaded card: the model's text side, or why its card can never be used.
type Loaded = Result<Arc<TextModel>, String>;

struct Entry {
    cell: Arc<OnceCell<Loaded>>,
    used: u64,
}

#[derive(Default)]
struct Cache {
    entries: HashMap<u64, Entry>,
    clock: u64,
}

/// The cards of the models the coordinator has needed, by model id: each read from the chain once
/// (concurrent requests for one model wait for the same read), at most [`MAX_CARDS`] kept. Cheap
/// to clone; the API and the indexer share one.
#[derive(Clone)]
pub struct Cards {
    provider: DynProvider,
    deployment: Deployment,
    cache: Arc<Mutex<Cache>>,
}

impl std::fmt::Debug for Cards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held = self.cache.lock().map_or(0, |c| c.entries.len());
        f.debug_struct("Cards").field("held", &held).finish()
    }
}

impl Cards {
    /// Cards of `deployment`'s language models, read through `provider`.
    pub fn new(provider: DynProvider, deployment: Deployment) -> Self {
        Self {
            provider,
            deployment,
            cache: Arc::default(),
        }
    }

    /// Language model `id`'s text side, read from the chain the first time. Ask only for models
    /// that are listed (active or retired): a card read before its model activates is refused
    /// and that refusal is kept.
    pub async fn get(&self, id: u64) -> Result<Arc<TextModel>, CardError> {
        let cell = self.cell(id);
        let loaded = cell
            .get_or_try_init(|| async {
                match fetch_card(&self.provider, &self.deployment, U256::from(id)).await {
                    Ok(card) => {
                        let built = tokio::task::spawn_blocking(move || TextModel::new(&card))
                            .await
                            .map_err(|e| ChainError::Decode(format!("tokenizer task: {e}")))?;
                        Ok(built.map(Arc::new).map_err(|e| e.to_string()))
                    }
                    // Chain data that does not make a card stays that way.
                    Err(ChainError::Mismatch(why)) => Ok(Err(why)),
                    Err(e) => Err(e),
                }
            })
            .await?;
        loaded.clone().map_err(CardError::Unusable)
    }

    /// The cell of model `id`, made (and the least recently used one dropped past [`MAX_CARDS`])
    /// if it has none.
    fn cell(&self, id: u64) -> Arc<OnceCell<Loaded>> {
        let mut cache = self
            .cache
            .lock()
            .expect("the card cache lock is never poisoned");
        cache.clock += 1;
        let now = cache.clock;
        if let Some(entry) = cache.entries.get_mut(&id) {
            entry.used = now;
            return entry.cell.clone();
        }
        if cache.entries.len() >= MAX_CARDS
            && let Some(oldest) = cache
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| *k)
        {
            cache.entries.remove(&oldest);
        }
        let cell = Arc::new(OnceCell::new());
        cache.entries.insert(
            id,
            Entry {
                cell: cell.clone(),
                used: now,
            },
        );
        cell
    }
}

impl Cards {
    /// Fills in the answer text of a language model's job that has a result: its answer ids
    /// decoded by the model's own tokenizer (eos and control tokens left out). A model whose card
    /// cannot be used leaves it null (logged); a card that cannot be read now is an error.
    pub async fn fill_answer(&self, job: &mut JobRecord) -> Result<(), ChainError> {
        let model_id = job.model_id;
        let Some(text) = job.text.as_mut() else {
            return Ok(());
        };
        let (Some(ids), None) = (&text.answer_ids, &text.answer) else {
            return Ok(());
        };
        match self.get(model_id).await {
            Ok(model) => match model.decode(ids) {
                Ok(answer) => text.answer = Some(answer),
                Err(e) => {
                    tracing::warn!(job = job.job_id, model = model_id, error = %e, "answer ids do not decode")
                }
            },
            Err(CardError::Unusable(why)) => {
                tracing::warn!(job = job.job_id, model = model_id, %why, "the model's card cannot be used: answer text left out")
            }
            Err(CardError::Chain(e)) => return Err(e),
        }
        Ok(())
    }
}
