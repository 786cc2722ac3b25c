//! A signing client: one account, explicit nonces allocated locally and pipelined (many transactions
//! in flight at once) that resync from the chain on any failure, a timeout on every pending
//! transaction, and reverts decoded into the contracts' typed errors.

use crate::error::{ChainError, Result, Revert};
use alloy::{
    network::{Ethereum, EthereumWallet, TransactionBuilder},
    primitives::{Address, U256},
    providers::{DynProvider, PendingTransactionBuilder, Provider, ProviderBuilder},
    rpc::types::{TransactionReceipt, TransactionRequest},
    signers::local::PrivateKeySigner,
    transports::{RpcError, TransportErrorKind},
};
use futures::future::join_all;
use std::{sync::Arc, time::Duration};
use tokio::sync::Mutex;

/// How a [`ChainClient`] reaches the chain.
#[derive(Debug, Clone)]
pub struct ChainConfig {
    /// JSON-RPC endpoint (HTTP).
    pub rpc_url: String,
    /// How long to wait for a sent transaction's receipt.
    pub tx_timeout: Duration,
    /// How often to poll for receipts and new blocks.
    pub poll_interval: Duration,
}

impl ChainConfig {
    /// Settings for a local development node: fast polling, short timeouts.
    pub fn local(rpc_url: impl Into<String>) -> Self {
        Self {
            rpc_url: rpc_url.into(),
            tx_timeout: Duration::from_secs(30),
            poll_interval: Duration::from_millis(100),
        }
    }
}

/// A provider plus one signing account.
#[derive(Clone, Debug)]
pub struct ChainClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    provider: DynProvider,
    address: Address,
    /// The next nonce to use, or `None` to resync from the chain's pending count.
    nonce: Mutex<Option<u64>>,
    tx_timeout: Duration,
}

fn rpc_url(config: &ChainConfig) -> Result<alloy::transports::http::reqwest::Url> {
    config
        .rpc_url
        .parse()
        .map_err(|e| ChainError::Rpc(format!("bad RPC URL {}: {e}", config.rpc_url)))
}

/// A provider with no account, for reads only (receipts, `vouch verify`). Fails if the endpoint
/// does not answer.
pub async fn connect_reader(config: &ChainConfig) -> Result<DynProvider> {
    let provider = ProviderBuilder::new()
        .disable_recommended_fillers()
        .connect_http(rpc_url(config)?);
    provider.client().set_poll_interval(config.poll_interval);
    let provider = provider.erased();
    provider
        .get_chain_id()
        .await
        .map_err(|e| ChainError::Rpc(format!("{}: {e}", config.rpc_url)))?;
    Ok(provider)
}

/// Turns a transport error into a [`ChainError`], decoding revert data when there is some.
pub(crate) fn classify(err: RpcError<TransportErrorKind>) -> ChainError {
    if let Some(data) = err.as_error_resp().and_then(|p| p.as_revert_data()) {
        return ChainError::Reverted(Revert::decode(&data));
    }
    ChainError::Rpc(err.to_string())
}

impl ChainClient {
    /// Connects to `config.rpc_url` as `signer`. Fails if the endpoint does not answer.
    pub async fn connect(config: &ChainConfig, signer: PrivateKeySigner) -> Result<Self> {
        let url = rpc_url(config)?;
        let address = signer.address();
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .fetch_chain_id()
            .with_gas_estimation()
            .wallet(EthereumWallet::from(signer))
            .connect_http(url);
        provider.client().set_poll_interval(config.poll_interval);
        let provider = provider.erased();
        provider
            .get_chain_id()
            .await
            .map_err(|e| ChainError::Rpc(format!("{}: {e}", config.rpc_url)))?;
        Ok(Self {
            inner: Arc::new(Inner {
                provider,
                address,
                nonce: Mutex::new(None),
                tx_timeout: config.tx_timeout,
            }),
        })
    }

    /// The underlying provider (reads, logs, raw requests).
    pub fn provider(&self) -> &DynProvider {
        &self.inner.provider
    }

    /// The signing account.
    pub fn address(&self) -> Address {
        self.inner.address
    }

    /// This account's balance.
    pub async fn balance(&self) -> Result<U256> {
        self.provider()
            .get_balance(self.address())
            .await
            .map_err(classify)
    }

    /// Sends `tx` from this account and waits for its receipt.
    ///
    /// Gas is estimated first, so a call that would revert fails here with its decoded custom error
    /// and no nonce is spent. Sends from one client (also from concurrent tasks) are pipelined: the
    /// nonce is taken and the transaction broadcast under a short lock, and the receipt awaited
    /// without it. Any failure resyncs the nonce from the chain.
    pub async fn send(&self, tx: TransactionRequest) -> Result<TransactionReceipt> {
        self.send_all(vec![tx])
            .await
            .pop()
            .expect("one transaction, one result")
    }

    /// Sends `txs` with consecutive nonces in this order (the first gets the lowest), without waiting
    /// for one to land before the next goes out, then awaits every receipt concurrently. One result
    /// per transaction, in order: a transaction whose gas estimate reverts is not sent (no nonce
    /// spent) and the others still go out.
    pub async fn send_all(&self, txs: Vec<TransactionRequest>) -> Vec<Result<TransactionReceipt>> {
        let provider = self.provider();
        let from = self.address();
        let estimated = join_all(txs.into_iter().map(|tx| async move {
            let tx = tx.with_from(from);
            let gas = provider.estimate_gas(tx.clone()).await.map_err(classify)?;
            Ok(tx.with_gas_limit(gas + gas / 4 + 10_000))
        }))
        .await;
        let mut sent = Vec::with_capacity(estimated.len());
        {
            let mut next = self.inner.nonce.lock().await;
            for tx in estimated {
                sent.push(match tx {
                    Ok(tx) => self.broadcast(&mut next, tx).await,
                    Err(e) => Err(e),
                });
            }
        }
        join_all(sent.into_iter().map(|p| async move {
            let pending = p?;
            let hash = *pending.tx_hash();
            let receipt = pending
                .with_timeout(Some(self.inner.tx_timeout))
                .get_receipt()
                .await;
            match receipt {
                Ok(r) if r.status() => Ok(r),
                Ok(_) => Err(ChainError::RevertedOnChain(hash)),
                Err(e) => {
                    *self.inner.nonce.lock().await = None;
                    tracing::warn!(%hash, error = %e, "no receipt");
                    Err(ChainError::Timeout {
                        hash,
                        secs: self.inner.tx_timeout.as_secs(),
                    })
                }
            }
        }))
        .await
    }

    /// Gives `tx` the next nonce (resynced from the chain's pending count when unknown) and broadcasts
    /// it; on failure the nonce is forgotten, so the next transaction resyncs.
    async fn broadcast(
        &self,
        next: &mut Option<u64>,
        tx: TransactionRequest,
    ) -> Result<PendingTransactionBuilder<Ethereum>> {
        let provider = self.provider();
        let nonce = match *next {
            Some(n) => n,
            None => provider
                .get_transaction_count(self.address())
                .pending()
                .await
                .map_err(classify)?,
        };
        match provider.send_transaction(tx.with_nonce(nonce)).await {
            Ok(p) => {
                *next = Some(nonce + 1);
                Ok(p)
            }
            Err(e) => {
                *next = None;
                Err(classify(e))
            }
        }
    }
}
