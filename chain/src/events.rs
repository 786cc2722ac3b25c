//! Following the contracts' events: a cursor over blocks that decodes every Vouch log.
//!
//! Logs are read only once they have `confirmations` blocks on top of them, so a reorg shallower
//! than that never reaches a consumer. Consumers persist [`EventStream::next_block`] together with
//! what they derived from the events, which makes a restart resume exactly where it stopped.

use crate::{
    bindings::{
        DisputeGame::DisputeGameEvents, JobMarket::JobMarketEvents,
        ModelRegistry::ModelRegistryEvents,
    },
    client::classify,
    deploy::Deployment,
    error::{ChainError, Result},
};
use alloy::{
    primitives::B256,
    providers::{DynProvider, Provider},
    rpc::types::{Filter, Log},
    sol_types::SolEventInterface,
};

/// A decoded Vouch event.
#[derive(Debug, Clone)]
pub enum VouchEvent {
    /// Emitted by the `JobMarket`.
    Market(JobMarketEvents),
    /// Emitted by the `ModelRegistry`.
    Registry(ModelRegistryEvents),
    /// Emitted by the `DisputeGame`.
    Game(DisputeGameEvents),
}

/// An event with where it happened.
#[derive(Debug, Clone)]
pub struct ChainEvent {
    /// Block number.
    pub block: u64,
    /// Position in the block.
    pub log_index: u64,
    /// The emitting transaction.
    pub tx_hash: B256,
    /// The event.
    pub event: VouchEvent,
}

/// Decodes one log from a Vouch deployment; `None` for logs from other addresses.
pub fn decode_log(deployment: &Deployment, log: &Log) -> Result<Option<ChainEvent>> {
    let (topics, data) = (log.topics(), &log.data().data);
    let event = if log.address() == deployment.market {
        VouchEvent::Market(
            JobMarketEvents::decode_raw_log(topics, data)
                .map_err(|e| ChainError::Decode(e.to_string()))?,
        )
    } else if log.address() == deployment.registry {
        VouchEvent::Registry(
            ModelRegistryEvents::decode_raw_log(topics, data)
                .map_err(|e| ChainError::Decode(e.to_string()))?,
        )
    } else if log.address() == deployment.game {
        VouchEvent::Game(
            DisputeGameEvents::decode_raw_log(topics, data)
                .map_err(|e| ChainError::Decode(e.to_string()))?,
        )
    } else {
        return Ok(None);
    };
    Ok(Some(ChainEvent {
        block: log.block_number.unwrap_or_default(),
        log_index: log.log_index.unwrap_or_default(),
        tx_hash: log.transaction_hash.unwrap_or_default(),
        event,
    }))
}

/// A resumable cursor over a deployment's events.
#[derive(Debug, Clone)]
pub struct EventStream {
    provider: DynProvider,
    deployment: Deployment,
    next_block: u64,
    confirmations: u64,
    max_range: u64,
}

impl EventStream {
    /// Starts reading at `from_block` (use the deployment's start block for a fresh consumer).
    pub fn new(
        provider: DynProvider,
        deployment: Deployment,
        from_block: u64,
        confirmations: u64,
    ) -> Self {
        Self {
            provider,
            deployment,
            next_block: from_block,
            confirmations,
            max_range: 2_000,
        }
    }

    /// The first block not yet read.
    pub fn next_block(&self) -> u64 {
        self.next_block
    }

    /// Reads every confirmed event after the cursor (at most `max_range` blocks at a time) and
    /// advances the cursor. Returns an empty list when there is nothing new.
    pub async fn poll(&mut self) -> Result<Vec<ChainEvent>> {
        let head = self.provider.get_block_number().await.map_err(classify)?;
        let Some(safe) = head.checked_sub(self.confirmations) else {
            return Ok(Vec::new());
        };
        if safe < self.next_block {
            return Ok(Vec::new());
        }
        let to = safe.min(self.next_block + self.max_range - 1);
        let filter = Filter::new()
            .address(vec![
                self.deployment.registry,
                self.deployment.market,
                self.deployment.game,
            ])
            .from_block(self.next_block)
            .to_block(to);
        let logs = self.provider.get_logs(&filter).await.map_err(classify)?;
        let mut events = Vec::with_capacity(logs.len());
        for log in &logs {
            if let Some(e) = decode_log(&self.deployment, log)? {
                events.push(e);
            }
        }
        self.next_block = to + 1;
        Ok(events)
    }
}
