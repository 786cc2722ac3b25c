//! The signing client pipelines its nonces: many transactions from one account are in flight at once
//! (none waits for another's receipt), each gets the next nonce in order, and a failure resyncs.
//! On a real anvil with mining switched off, so nothing lands until every transaction has been sent.

use alloy::{
    network::TransactionBuilder, primitives::U256, providers::Provider,
    rpc::types::TransactionRequest,
};
use futures::future::join_all;
use rand::Rng;
use std::time::Duration;
use vouch_chain::{ChainClient, ChainConfig, ChainError, anvil::LocalChain};

async fn set_automine(provider: &impl Provider, on: bool) {
    let _: serde_json::Value = provider
        .raw_request("evm_setAutomine".into(), (on,))
        .await
        .unwrap();
}

async fn mine(provider: &impl Provider) {
    let _: serde_json::Value = provider.raw_request("evm_mine".into(), ()).await.unwrap();
}

/// Sends every transaction (concurrently, from many tasks) while mining is off, waits until the
/// node holds them all, mines one block, and returns the results.
async fn send_unmined(
    client: &ChainClient,
    txs: Vec<TransactionRequest>,
    together: bool,
) -> Vec<vouch_chain::Result<alloy::rpc::types::TransactionReceipt>> {
    let provider = client.provider().clone();
    set_automine(&provider, false).await;
    let expected = txs.len();
    let sending = async {
        if together {
            client.send_all(txs).await
        } else {
            join_all(txs.into_iter().map(|tx| client.send(tx))).await
        }
    };
    let miner = async {
        // Mine only once every transaction sits in the pool: a client that waited for one receipt
        // before sending the next would never get there.
        loop {
            let status: serde_json::Value = provider
                .raw_request("txpool_status".into(), ())
                .await
                .unwrap();
            let pending = u64::from_str_radix(
                status["pending"].as_str().unwrap().trim_start_matches("0x"),
                16,
            )
            .unwrap();
            if pending as usize == expected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        mine(&provider).await;
    };
    let (results, ()) = tokio::join!(sending, miner);
    set_automine(&provider, true).await;
    results
}

#[tokio::test]
async fn concurrent_sends_are_pipelined_with_consecutive_nonces() {
    let chain = LocalChain::start(None).unwrap();
    let mut config = ChainConfig::local(chain.endpoint());
    config.tx_timeout = Duration::from_secs(20);
    let client = ChainClient::connect(&config, chain.signer(0))
        .await
        .unwrap();
    let to = chain.signer(1).address();
    let start = client
        .provider()
        .get_transaction_count(client.address())
        .await
        .unwrap();
    let count = rand::rng().random_range(20..40u64);
    eprintln!("{count} concurrent sends");
    let tx = |v: u64| {
        TransactionRequest::default()
            .with_to(to)
            .with_value(U256::from(v))
    };

    // Many tasks sending at once: all in one block, nonces start.. without a gap or a repeat.
    let receipts = send_unmined(&client, (1..=count).map(tx).collect(), false).await;
    let mut nonces = Vec::new();
    let mut block = None;
    for r in receipts {
        let r = r.unwrap();
        assert_eq!(
            *block.get_or_insert(r.block_number),
            r.block_number,
            "one block"
        );
        let sent = client
            .provider()
            .get_transaction_by_hash(r.transaction_hash)
            .await
            .unwrap()
            .unwrap();
        nonces.push(alloy::consensus::Transaction::nonce(&sent));
    }
    nonces.sort_unstable();
    assert_eq!(nonces, (start..start + count).collect::<Vec<_>>());

    // A batch keeps its order: the first transaction gets the lowest nonce.
    let receipts = send_unmined(&client, (1..=5).map(tx).collect(), true).await;
    let mut last = None;
    for (i, r) in receipts.into_iter().enumerate() {
        let r = r.unwrap();
        let sent = client
            .provider()
            .get_transaction_by_hash(r.transaction_hash)
            .await
            .unwrap()
            .unwrap();
        let nonce = alloy::consensus::Transaction::nonce(&sent);
        assert_eq!(nonce, start + count + i as u64, "batch order");
        if let Some(l) = last {
            assert_eq!(nonce, l + 1);
        }
        last = Some(nonce);
    }

    // A transaction that cannot be paid for fails at estimation, spends no nonce, and the rest of
    // its batch still lands.
    let balance = client.balance().await.unwrap();
    let results = client
        .send_all(vec![
            tx(1),
            tx(0).with_value(balance * U256::from(2)),
            tx(2),
        ])
        .await;
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    assert!(
        matches!(
            results[1],
            Err(ChainError::Rpc(_) | ChainError::Reverted(_))
        ),
        "{:?}",
        results[1]
    );
    let after = client
        .provider()
        .get_transaction_count(client.address())
        .await
        .unwrap();
    assert_eq!(
        after,
        start + count + 5 + 2,
        "no nonce spent on the refused one"
    );

    // The nonce resyncs from the chain when someone else used the account meanwhile.
    let other = ChainClient::connect(&config, chain.signer(0))
        .await
        .unwrap();
    other.send(tx(3)).await.unwrap();
    // The stale nonce is refused once, which resyncs it; the next send lands.
    let stale = client.send(tx(4)).await;
    assert!(matches!(stale, Err(ChainError::Rpc(_))), "{stale:?}");
    client.send(tx(4)).await.unwrap();
    let last = client
        .provider()
        .get_transaction_count(client.address())
        .await
        .unwrap();
    assert_eq!(last, after + 2);
}
