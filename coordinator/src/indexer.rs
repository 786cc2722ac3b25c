//! The indexer: follows the deployment's events from a cursor stored in the database and applies
//! each batch, together with the advanced cursor, in one transaction. Every write is an idempotent
//! upsert, so replaying events (after a crash, or over rows the API already wrote) changes nothing.

use crate::{
    db::{load_cursor, store_cursor},
    error::Result,
    games::{self, At},
    jobs, models,
};
use alloy::{providers::DynProvider, rpc::types::TransactionReceipt};
use sqlx::{AnyConnection, AnyPool};
use std::time::Duration;
use tokio::sync::watch;
use vouch_chain::{
    ChainEvent, Deployment, EventStream, VouchEvent,
    bindings::{
        DisputeGame::DisputeGameEvents, JobMarket::JobMarketEvents,
        ModelRegistry::ModelRegistryEvents,
    },
    events::decode_log,
};

/// The `indexer_cursor` row of the follower of `deployment`.
pub fn cursor_name(deployment: &Deployment) -> String {
    format!(
        "market:{}",
        crate::columns::hex_bytes(deployment.market.as_slice())
    )
}

/// Writes what one event says into the tables. Events the coordinator does not store are skipped.
pub async fn apply_event(conn: &mut AnyConnection, event: &ChainEvent) -> Result<()> {
    let block = event.block;
    let at = At {
        block,
        log_index: event.log_index,
    };
    match &event.event {
        VouchEvent::Registry(e) => match e {
            ModelRegistryEvents::ModelRegistered(e) => models::registered(conn, e, block).await,
            ModelRegistryEvents::ModelActivated(e) => {
                models::activated(conn, e.modelId, block).await
            }
            ModelRegistryEvents::ModelPriceUpdated(e) => {
                models::price_updated(conn, e, block).await
            }
            ModelRegistryEvents::ModelRetired(e) => models::retired(conn, e.modelId, block).await,
            ModelRegistryEvents::PublicationReset(e) => {
                models::publication_reset(conn, e.modelId, block).await
            }
            _ => Ok(()),
        },
        VouchEvent::Market(e) => match e {
            JobMarketEvents::JobPosted(e) => {
                jobs::posted(
                    conn,
                    e,
                    block,
                    &crate::columns::hex_bytes(event.tx_hash.as_slice()),
                )
                .await
            }
            JobMarketEvents::ResultSubmitted(e) => jobs::result_submitted(conn, e, block).await,
            JobMarketEvents::JobSettled(e) => jobs::settled(conn, e, block).await,
            JobMarketEvents::JobRefunded(e) => jobs::refunded(conn, e, block).await,
            _ => Ok(()),
        },
        VouchEvent::Game(e) => match e {
            DisputeGameEvents::ResultOverturned(e) => jobs::overturned(conn, e, block).await,
            DisputeGameEvents::ChallengeOpened(e) => games::opened(conn, e, at).await,
            DisputeGameEvents::Descended(e) => games::descended(conn, e, at).await,
            DisputeGameEvents::SlotDisputed(e) => games::slot_disputed(conn, e, at).await,
            DisputeGameEvents::ElementNamed(e) => games::element_named(conn, e, at).await,
            DisputeGameEvents::StepProven(e) => games::step_proven(conn, e, at).await,
            DisputeGameEvents::GameResolved(e) => games::resolved(conn, e, at).await,
            _ => Ok(()),
        },
    }
}

/// Applies every Vouch event in a transaction's receipt (the same writes the indexer makes).
pub async fn apply_receipt(
    conn: &mut AnyConnection,
    deployment: &Deployment,
    receipt: &TransactionReceipt,
) -> Result<()> {
    for log in receipt.logs() {
        if let Some(event) = decode_log(deployment, log)? {
            apply_event(conn, &event).await?;
        }
    }
    Ok(())
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
        Ok(Self {
            pool,
            provider,
            deployment,
            confirmations,
            cursor,
            stream,
            committed,
        })
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
        let mut tx = self.pool.begin().await?;
        for event in events {
            apply_event(&mut tx, event).await?;
        }
        store_cursor(&mut tx, &self.cursor, next_block).await?;
        tx.commit().await?;
        Ok(())
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
