//! Rust and Solidity commit to the same bytes the same way: tensor roots on random data, and model
//! roots through the registry's own on-chain recomputation at activation. Real anvil, real artifacts.

use alloy::primitives::U256;
use rand::{Rng, SeedableRng, rngs::StdRng};
use vouch_chain::{
    ChainClient, ChainConfig, MarketParams, Revert,
    anvil::LocalChain,
    bindings::ModelRegistry::{self, ModelRegistryErrors},
    deploy,
    registry::{self, ModelStatus},
};
use vouch_core::{commit, random::random_model};

fn seeded_rng(test: &str) -> StdRng {
    let seed = std::env::var("VOUCH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("{test}: VOUCH_SEED={seed}");
    StdRng::seed_from_u64(seed)
}

async fn setup() -> (LocalChain, ChainClient, vouch_chain::Deployment) {
    let chain = LocalChain::start(None).unwrap();
    let client = ChainClient::connect(&ChainConfig::local(chain.endpoint()), chain.signer(0))
        .await
        .unwrap();
    let params = MarketParams {
        challenge_window: 100,
        result_bond: U256::from(10u64.pow(18)),
    };
    let deployment = deploy(&client, params).await.unwrap();
    (chain, client, deployment)
}

#[tokio::test]
async fn tensor_roots_agree_with_the_contract() {
    let mut rng = seeded_rng("tensor_roots_agree_with_the_contract");
    let (_chain, client, deployment) = setup().await;
    let market = vouch_chain::Market::new(client, deployment);
    let mut lens: Vec<usize> = vec![1, 31, 32, 33, 64, 784];
    lens.extend((0..10).map(|_| rng.random_range(1..2000)));
    for len in lens {
        let data: Vec<i8> = (0..len).map(|_| rng.random()).collect();
        let bytes = vouch_core::tensor::to_bytes(&data);
        assert_eq!(
            market.tensor_root(&bytes).await.unwrap(),
            commit::tensor_root(&data),
            "length {len}"
        );
    }
}

#[tokio::test]
async fn model_roots_agree_and_a_wrong_root_never_activates() {
    let mut rng = seeded_rng("model_roots_agree_and_a_wrong_root_never_activates");
    let (_chain, client, deployment) = setup().await;
    // Random shapes, published in chunks: the contract's recomputed root must equal Rust's.
    for _ in 0..3 {
        let dims: Vec<u32> = (0..rng.random_range(2..5))
            .map(|_| rng.random_range(1..120))
            .collect();
        let model = random_model(&mut rng, &dims);
        let id = registry::list_model(&client, &deployment, &model, U256::from(1000), 500)
            .await
            .unwrap();
        let listing = registry::get_listing(client.provider(), &deployment, id)
            .await
            .unwrap();
        assert_eq!(listing.status, ModelStatus::Active);
        // Anyone can rebuild the model from events alone.
        let fetched = registry::fetch_model(client.provider(), &deployment, id)
            .await
            .unwrap();
        assert_eq!(fetched.ops, model.ops);
        assert_eq!(fetched.meta, model.meta);
    }
    // Register under a root that does not match the leaves: sealing the last op reverts, typed.
    let model = random_model(&mut rng, &[8, 4]);
    let reg = ModelRegistry::new(deployment.registry, client.provider());
    let bad_root = commit::tensor_root(&[1, 2, 3]);
    let tx = reg
        .registerModel(bad_root, 1, 8, 4, U256::from(1), 0, String::new())
        .into_transaction_request();
    let receipt = client.send(tx).await.unwrap();
    let id = receipt
        .decoded_log::<ModelRegistry::ModelRegistered>()
        .unwrap()
        .modelId;
    let err = registry::publish_model(&client, &deployment, id, &model)
        .await
        .unwrap_err();
    match err.revert() {
        Some(Revert::Registry(ModelRegistryErrors::ModelRootMismatch(e))) => {
            assert_eq!(e.computed, commit::model_root(&model));
            assert_eq!(e.registered, bad_root);
        }
        other => panic!("expected ModelRootMismatch, got {other:?} ({err})"),
    }
    let listing = registry::get_listing(client.provider(), &deployment, id)
        .await
        .unwrap();
    assert_eq!(listing.status, ModelStatus::Pending);
    assert!(
        registry::fetch_model(client.provider(), &deployment, id)
            .await
            .is_err()
    );
}
