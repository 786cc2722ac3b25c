//! Rust and Solidity commit to the same bytes the same way: tensor roots (row-aligned, random shapes
//! and data) and model roots (every op kind, through the registry's own recomputation at
//! activation). Real anvil, real compiled artifacts.

use alloy::primitives::U256;
use rand::{Rng, SeedableRng, rngs::StdRng};
use vouch_chain::{
    ChainClient, ChainConfig, MarketParams, Revert,
    anvil::LocalChain,
    bindings::ModelRegistry::{self, ModelRegistryErrors},
    deploy,
    registry::{self, ModelStatus},
};
use vouch_core::{
    commit,
    random::{random_any_model, random_model},
};

fn seeded_rng(test: &str) -> StdRng {
    StdRng::seed_from_u64(vouch_core::random::test_seed(test))
}

async fn setup() -> (LocalChain, ChainClient, vouch_chain::Deployment) {
    let chain = LocalChain::start(None).unwrap();
    let client = ChainClient::connect(&ChainConfig::local(chain.endpoint()), chain.signer(0))
        .await
        .unwrap();
    let params = MarketParams::new(100, U256::from(10u64.pow(18)), 1_000_000_000);
    let deployment = deploy(&client, params).await.unwrap();
    (chain, client, deployment)
}

#[tokio::test]
async fn tensor_roots_agree_with_the_contract() {
    let mut rng = seeded_rng("tensor_roots_agree_with_the_contract");
    let (_chain, client, deployment) = setup().await;
    let market = vouch_chain::Market::new(client, deployment);
    // (rows, row length): vectors, images with narrow and wide rows, and random ones.
    let mut cases: Vec<(usize, usize)> = vec![
        (1, 1),
        (1, 31),
        (1, 32),
        (1, 33),
        (64, 1),
        (1, 784),
        (4, 3),
        (2, 40),
        (4, 33),
    ];
    cases.extend((0..10).map(|_| (rng.random_range(1..50), rng.random_range(1..100))));
    for (rows, row_len) in cases {
        let data: Vec<i8> = (0..rows * row_len).map(|_| rng.random()).collect();
        let bytes = vouch_core::tensor::to_bytes(&data);
        assert_eq!(
            market.tensor_root(&bytes, row_len).await.unwrap(),
            commit::tensor_root(&data, row_len),
            "{rows} rows of {row_len}"
        );
    }
}

#[tokio::test]
async fn model_roots_agree_and_a_wrong_root_never_activates() {
    let mut rng = seeded_rng("model_roots_agree_and_a_wrong_root_never_activates");
    let (_chain, client, deployment) = setup().await;
    // Random models of every op kind, published in chunks: the contract's recomputed root must
    // equal Rust's, and anyone can rebuild the model from events alone.
    for _ in 0..4 {
        let model = random_any_model(&mut rng);
        let id = registry::list_model(&client, &deployment, &model, U256::from(1000), 500)
            .await
            .unwrap();
        let listing = registry::get_listing(client.provider(), &deployment, id)
            .await
            .unwrap();
        assert_eq!(listing.status, ModelStatus::Active);
        assert_eq!(
            (listing.input, listing.output),
            (model.input, model.output())
        );
        let fetched = registry::fetch_model(client.provider(), &deployment, id)
            .await
            .unwrap();
        assert_eq!(fetched, model);
    }
    // Register under a root that does not match the leaves: sealing the last op reverts, typed.
    let model = random_model(&mut rng, &[8, 4]);
    let reg = ModelRegistry::new(deployment.registry, client.provider());
    let bad_root = commit::tensor_root(&[1, 2, 3], 3);
    let (input, output) = (
        registry::sol_shape(model.input),
        registry::sol_shape(model.output()),
    );
    let tx = reg
        .registerModel(
            bad_root,
            1,
            input,
            model.input_zero,
            output,
            U256::from(1),
            0,
            String::new(),
        )
        .into_transaction_request();
    let receipt = client.send(tx).await.unwrap();
    let id = receipt
        .decoded_log::<ModelRegistry::ModelRegistered>()
        .unwrap()
        .modelId;
    let err = registry::publish_model(&client, &deployment, id, &model, &mut |_, _| {})
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
