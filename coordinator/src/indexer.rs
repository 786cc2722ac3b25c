//! The indexer: follows the deployment's events from a cursor stored in the database and applies
//! each batch, together with the advanced cursor, in one transaction. Every write is an idempotent
//! upsert, so replaying events (after a crash, or over rows the API already wrote) changes nothing.
//! After each commit the changes are published to the event stream (`crate::events`).

use crate::{
    accounts,
    cards::Cards,
    db::{load_cursor, store_cursor},
    error::Result,
    events::{Events, Update, UpdateKind},
    games::{self, At},
    jobs, models,
};
use alloy::{primitives::U256, providers::DynProvider, rpc::types::TransactionReceipt};
use serde_json::{Value, json};
use sqlx::{AnyConnection, AnyPool};
use std::time::Duration;
use tokio::sync::watch;
use vouch_chain::{
    ChainEvent, Deployment, EventStream, VouchEvent,
    bindings::{
        DisputeGame::{DisputeGameEvents, ResultOverturned},
        JobMarket::JobMarketEvents,
        ModelRegistry::ModelRegistryEvents,
    },
    events::decode_log,
};
use vouch_client::{GameMove, JobRecord};

/// The `indexer_cursor` row of the follower of `deployment`.
pub fn cursor_name(deployment: &Deployment) -> String {
    format!(
        "market:{}",
        crate::columns::hex_bytes(deployment.market.as_slice())
    )
}

/// Writes what one event says into the tables and returns the change for the event stream (read
/// back in the same transaction, so it is the state right after this event). Events the coordinator
/// does not store, and a `JobPosted` already recorded, change nothing and return `None`.
pub async fn apply_event(conn: &mut AnyConnection, event: &ChainEvent) -> Result<Option<Update>> {
    let block = event.block;
    let at = At {
        block,
        log_index: event.log_index,
    };
    let changed = match &event.event {
        VouchEvent::Registry(e) => match e {
            ModelRegistryEvents::ModelRegistered(e) => {
                models::registered(conn, e, block).await?;
                Changed::Model(UpdateKind::ModelRegistered, e.modelId)
            }
            ModelRegistryEvents::LlmRegistered(e) => {
                models::llm_registered(conn, e, block).await?;
                Changed::Model(UpdateKind::ModelRegistered, e.modelId)
            }
            ModelRegistryEvents::ModelActivated(e) => {
                models::activated(conn, e.modelId, block).await?;
                Changed::Model(UpdateKind::ModelUpdated, e.modelId)
            }
            ModelRegistryEvents::ModelPriceUpdated(e) => {
                models::price_updated(conn, e, block).await?;
                Changed::Model(UpdateKind::ModelUpdated, e.modelId)
            }
            ModelRegistryEvents::LlmPriceUpdated(e) => {
                models::llm_price_updated(conn, e, block).await?;
                Changed::Model(UpdateKind::ModelUpdated, e.modelId)
            }
            ModelRegistryEvents::ModelRetired(e) => {
                models::retired(conn, e.modelId, block).await?;
                Changed::Model(UpdateKind::ModelUpdated, e.modelId)
            }
            ModelRegistryEvents::PublicationReset(e) => {
                models::publication_reset(conn, e.modelId, block).await?;
                Changed::Nothing
            }
            _ => Changed::Nothing,
        },
        VouchEvent::Market(e) => match e {
            JobMarketEvents::JobPosted(e) => {
                let tx = crate::columns::hex_bytes(event.tx_hash.as_slice());
                if jobs::posted(conn, e, block, &tx).await? {
                    Changed::Job(UpdateKind::JobPosted, e.jobId)
                } else {
                    Changed::Nothing
                }
            }
            JobMarketEvents::ResultSubmitted(e) => {
                jobs::result_submitted(conn, e, block).await?;
                accounts::result_submitted(conn, e, block).await?;
                Changed::Job(UpdateKind::JobSubmitted, e.jobId)
            }
            JobMarketEvents::JobSettled(e) => {
                jobs::settled(conn, e, block).await?;
                accounts::result_settled(conn, e).await?;
                Changed::Job(UpdateKind::JobSettled, e.jobId)
            }
            JobMarketEvents::JobRefunded(e) => {
                jobs::refunded(conn, e, block).await?;
                Changed::Job(UpdateKind::JobExpired, e.jobId)
            }
            JobMarketEvents::UnusedTokensRefunded(e) => {
                jobs::unused_tokens_refunded(conn, e).await?;
                Changed::Nothing
            }
            _ => Changed::Nothing,
        },
        VouchEvent::Game(e) => match e {
            DisputeGameEvents::ResultOverturned(e) => {
                jobs::overturned(conn, e, block).await?;
                let worker = accounts::result_overturned(conn, e).await?;
                Changed::Overturned(e, worker)
            }
            DisputeGameEvents::ChallengeOpened(e) => Changed::Game(
                UpdateKind::GameOpened,
                e.gameId,
                games::opened(conn, e, at).await?,
            ),
            DisputeGameEvents::Descended(e) => Changed::Game(
                UpdateKind::GameMoved,
                e.gameId,
                games::descended(conn, e, at).await?,
            ),
            DisputeGameEvents::SlotDisputed(e) => Changed::Game(
                UpdateKind::GameMoved,
                e.gameId,
                games::slot_disputed(conn, e, at).await?,
            ),
            DisputeGameEvents::ElementNamed(e) => Changed::Game(
                UpdateKind::GameMoved,
                e.gameId,
                games::element_named(conn, e, at).await?,
            ),
            DisputeGameEvents::StepProven(e) => Changed::Game(
                UpdateKind::GameMoved,
                e.gameId,
                games::step_proven(conn, e, at).await?,
            ),
            DisputeGameEvents::GameResolved(e) => Changed::Game(
                UpdateKind::GameResolved,
                e.gameId,
                games::resolved(conn, e, at).await?,
            ),
            _ => Changed::Nothing,
        },
    };
    changed.read(conn, block).await
}

/// What an applied event changed, before its record is read back.
enum Changed<'a> {
    Nothing,
    Model(UpdateKind, U256),
    Job(UpdateKind, U256),
    /// The overturned result and its worker (if the result was indexed).
    Overturned(&'a ResultOverturned, Option<String>),
    Game(UpdateKind, U256, GameMove),
}

impl Changed<'_> {
    /// The update: the changed record as the API serves it, read with `conn`.
    async fn read(self, conn: &mut AnyConnection, block: u64) -> Result<Option<Update>> {
        let id = |v: U256| crate::columns::u256_to_i64(v).map(|v| v as u64);
        let (kind, data) = match self {
            Changed::Nothing => return Ok(None),
            Changed::Model(kind, m) => {
                let Some(model) = models::get(&mut *conn, id(m)?).await? else {
                    return Ok(None);
                };
                (kind, json!({ "block": block, "model": model }))
            }
            Changed::Job(kind, j) => {
                let Some(job) = jobs::get(&mut *conn, id(j)?).await? else {
                    return Ok(None);
                };
                (kind, json!({ "block": block, "job": job }))
            }
            Changed::Overturned(e, worker) => {
                let Some(job) = jobs::get(&mut *conn, id(e.jobId)?).await? else {
                    return Ok(None);
                };
                let data = json!({
                    "block": block,
                    "job": job,
                    "attempt": e.attempt,
                    "worker": worker,
                    "slashed_wei": (e.pool + e.burned).to_string(),
                });
                (UpdateKind::JobOverturned, data)
            }
            Changed::Game(kind, g, mv) => {
                let Some(game) = games::record(&mut *conn, id(g)?).await? else {
                    return Ok(None);
                };
                (kind, json!({ "block": block, "game": game, "move": mv }))
            }
        };
        Ok(Some(Update { kind, data }))
    }
}

/// Applies `events` in one transaction, with the follower's advanced cursor when given, then
/// publishes what they changed to `feed`, the answers of language-model jobs decoded with their
/// models' `cards` (after the commit: a card not yet at hand is read from the chain). The indexer
/// and the API's own receipts both apply events here: the one place the event stream is fed from.
pub async fn apply_and_publish(
    pool: &AnyPool,
    events: &[ChainEvent],
    cursor: Option<(&str, u64)>,
    feed: &Events,
    cards: &Cards,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let mut updates = Vec::new();
    for event in events {
        updates.extend(apply_event(&mut tx, event).await?);
    }
    if let Some((name, next_block)) = cursor {
        store_cursor(&mut tx, name, next_block).await?;
    }
    tx.commit().await?;
    complete_answers(cards, &mut updates).await;
    feed.publish(updates);
    Ok(())
}

/// Fills in the answer text of the language-model jobs in `updates`, so each payload is the job
/// as `GET /v1/jobs/{id}` serves it. A card that cannot be read now leaves the answer null
/// (logged) rather than holding up the feed.
async fn complete_answers(cards: &Cards, updates: &mut [Update]) {
    for update in updates {
        let Some(job) = update.data.get_mut("job") else {
            continue;
        };
        if job.get("answer_ids").is_none_or(Value::is_null) {
            continue;
        }
        let Ok(mut record) = serde_json::from_value::<JobRecord>(job.clone()) else {
            continue;
        };
        match cards.fill_answer(&mut record).await {
            Ok(()) => {
                if let Ok(value) = serde_json::to_value(&record) {
                    *job = value;
                }
            }
            Err(e) => tracing::warn!(
                job = record.job_id,
                error = %e,
                "the model's card could not be read: the event carries no answer text"
            ),
        }
    }
}

/// Applies every Vouch event in a transaction's receipt (the same writes the indexer makes) and
/// publishes the changes.
pub async fn apply_receipt(
    pool: &AnyPool,
    deployment: &Deployment,
    receipt: &TransactionReceipt,
    feed: &Events,
    cards: &Cards,
) -> Result<()> {
    let mut events = Vec::new();
    for log in receipt.logs() {
        events.extend(decode_log(deployment, log)?);
    }
    apply_and_publish(pool, &events, None, feed, cards).await
}

/// A follower of one deployment's events, resuming from its stored cursor.
#[derive(Debug)]
pub struct Indexer {
    pool: AnyPool,
    provider: DynProvider,
    deployment: Deployment,
    confirmations: u64,
    cursor: String,
    stream: EventStream,
    /// The cursor as committed to the database.
    committed: u64,
    /// Where applied changes are published.
    feed: Events,
    /// Language models' cards, for the answers in published jobs.
    cards: Cards,
}

impl Indexer {
    /// Resumes from the stored cursor, or starts at the deployment's first block.
    pub async fn new(
        pool: AnyPool,
        provider: DynProvider,
        deployment: Deployment,
        confirmations: u64,
    ) -> Result<Self> {
        let cursor = cursor_name(&deployment);
        let committed = load_cursor(&pool, &cursor)
            .await?
            .unwrap_or(deployment.start_block);
        let stream = EventStream::new(provider.clone(), deployment, committed, confirmations);
        tracing::info!(from_block = committed, "indexer resuming");
        let cards = Cards::new(provider.clone(), deployment);
        Ok(Self {
            pool,
            provider,
            deployment,
            confirmations,
            cursor,
            stream,
            committed,
            feed: Events::new(0),
            cards,
        })
    }

    /// Publishes what it applies to `feed` (the API's `GET /v1/events`); by default to a feed
    /// nobody can subscribe to.
    pub fn with_feed(mut self, feed: Events) -> Self {
        self.feed = feed;
        self
    }

    /// Reads language models' cards through `cards` (the API's, so both share one cache); by
    /// default through a cache of its own.
    pub fn with_cards(mut self, cards: Cards) -> Self {
        self.cards = cards;
        self
    }

    /// The first block not yet applied (as committed).
    pub fn next_block(&self) -> u64 {
        self.committed
    }

    /// Reads the next range of confirmed blocks and applies it. Returns whether the cursor moved
    /// (`false`: caught up with the confirmed head).
    pub async fn poll_once(&mut self) -> Result<bool> {
        let before = self.stream.next_block();
        let events = self.stream.poll().await?;
        let after = self.stream.next_block();
        if after == before {
            return Ok(false);
        }
        match self.commit(&events, after).await {
            Ok(()) => {
                tracing::debug!(
                    from = before,
                    to = after - 1,
                    events = events.len(),
                    "indexed"
                );
                self.committed = after;
                Ok(true)
            }
            Err(e) => {
                // Nothing was stored: read the same range again next time.
                self.stream = EventStream::new(
                    self.provider.clone(),
                    self.deployment,
                    self.committed,
                    self.confirmations,
                );
                Err(e)
            }
        }
    }

    async fn commit(&self, events: &[ChainEvent], next_block: u64) -> Result<()> {
        apply_and_publish(
            &self.pool,
            events,
            Some((&self.cursor, next_block)),
            &self.feed,
            &self.cards,
        )
        .await
    }

    /// Polls until caught up with the confirmed head; returns the new cursor.
    pub async fn catch_up(&mut self) -> Result<u64> {
        while self.poll_once().await? {}
        Ok(self.committed)
    }

    /// Follows the chain until `shutdown` turns true, polling every `interval` once caught up.
    /// Errors (RPC down, database busy) are logged and retried.
    pub async fn run(mut self, interval: Duration, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                break;
            }
            let wait = match self.poll_once().await {
                Ok(true) => Duration::ZERO,
                Ok(false) => interval,
                Err(e) => {
                    tracing::warn!(error = %e, "indexer poll failed; retrying");
                    interval.max(Duration::from_secs(1))
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        tracing::info!(next_block = self.committed, "indexer stopped");
    }
}
