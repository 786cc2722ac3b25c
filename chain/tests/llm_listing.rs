//! Listing a language model on anvil and reading it back from chain data alone (PROTOCOL §7.1): a
//! listing that dies midway resumes where the chain says it stopped and sends only what is missing;
//! a Pending listing whose card is not this model's is reset and republished; listing an Active
//! root again sends nothing; the model read back from events (card, op leaves) is the listed one,
//! commitment and bytes, and so is the card read alone, and the model read back from a fresh anvil
//! that loaded the chain's saved state. A listing committing to more leaves than its shape has is
//! refused while it is read (nothing past the shape's bounds is held). Reading a Pending model, a tensor model or an unknown id back is refused.
//!
//! Every random choice comes from a printed seed; replay a failure with `VOUCH_SEED=<seed>`.

use alloy::primitives::{B256, Bytes, U256};
use candle_core::quantized::GgmlDType;
use rand::{SeedableRng, rngs::StdRng};
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};
use vouch_chain::{
    ChainClient, ChainConfig, ChainError, Deployment, MarketParams,
    anvil::{self, LocalChain},
    bindings::ModelRegistry,
    deploy,
    llm::{LlmPrice, LlmPublication, fetch_card, fetch_llm, list_llm},
    registry::{ModelStatus, Resume, get_listing, publish_ops},
};
use vouch_core::merkle::{Tag, leaf_hash, merkle_root};
use vouch_llm::{
    IntModel,
    card::{Card, LlmConfig},
    random::{self, Dims},
    trace::ModelCommitment,
};

/// What every listing here charges per token.
const PRICE: LlmPrice = LlmPrice {
    per_input: U256::from_limbs([7, 0, 0, 0]),
    per_output: U256::from_limbs([21, 0, 0, 0]),
};

async fn setup() -> (LocalChain, ChainClient, Deployment) {
    let chain = LocalChain::start(None).expect("anvil (run `npm ci --prefix contracts`)");
    let client = ChainClient::connect(&ChainConfig::local(chain.endpoint()), chain.signer(0))
        .await
        .unwrap();
    let params = MarketParams::new(3600, U256::from(10u64.pow(18)), 1_000_000_000);
    let deployment = deploy(&client, params).await.unwrap();
    (chain, client, deployment)
}

fn model(test: &str) -> IntModel {
    let mut rng = StdRng::seed_from_u64(vouch_core::random::test_seed(test));
    random::model(&mut rng, Dims::TINY, GgmlDType::Q4_1).unwrap()
}

/// The model's bytes (postcard) with the RoPE rows past its context, never published, cut off.
fn canonical(model: &IntModel) -> Vec<u8> {
    let mut m = model.clone();
    let rows = vouch_llm::card::LlmConfig::of(model).context * model.config.head_dim / 2;
    m.rope_cos.truncate(rows);
    m.rope_sin.truncate(rows);
    postcard::to_stdvec(&m).unwrap()
}

/// Lists `model`, counting the progress calls and the first `done` it reports.
async fn list_counting(
    client: &ChainClient,
    deployment: &Deployment,
    model: &IntModel,
) -> (U256, usize, usize, usize) {
    let (mut calls, mut first, mut total) = (0, None, 0);
    let id = list_llm(
        client,
        deployment,
        model,
        PRICE,
        100,
        "tiny",
        &mut |d, t| {
            calls += 1;
            first.get_or_insert(d);
            total = t;
        },
    )
    .await
    .unwrap();
    (id, calls, first.unwrap_or(0), total)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_that_dies_midway_resumes_and_reads_back() {
    let (_chain, client, deployment) = setup().await;
    let model = Arc::new(model("listing_resumes"));
    let publication = LlmPublication::of(&model);
    let (leaves, bytes) = publication.size();
    eprintln!(
        "{} ops, {leaves} leaves, {bytes} bytes, a card of {} bytes",
        publication.ops.len(),
        publication.card.len()
    );

    // The first attempt dies (its task panics) after 40 transactions.
    let sent = Arc::new(AtomicUsize::new(0));
    let task = {
        let (client, deployment, model, sent) =
            (client.clone(), deployment, model.clone(), sent.clone());
        tokio::spawn(async move {
            list_llm(
                &client,
                &deployment,
                &model,
                PRICE,
                100,
                "tiny",
                &mut |d, _| {
                    sent.store(d, Ordering::SeqCst);
                    assert!(d < 40, "the lister dies here");
                },
            )
            .await
        })
    };
    assert!(task.await.is_err(), "the first attempt must die");
    let died_at = sent.load(Ordering::SeqCst);

    // The second resumes: the same id, starting where the chain stands, only the rest sent.
    let (id, calls, first, total) = list_counting(&client, &deployment, &model).await;
    eprintln!("died at {died_at} of {total}; resumed from {first}, {calls} progress calls");
    assert_eq!(id, U256::from(1), "resumed, not registered again");
    assert!(
        first >= died_at - 1,
        "resumed from {first}, died at {died_at}"
    );
    assert!(
        calls < total - 30,
        "{calls} transactions sent again of {total}"
    );
    assert_eq!(first + calls - 1, total, "every transaction counted once");

    // Listing the same root again: nothing sent.
    let (again, calls, _, _) = list_counting(&client, &deployment, &model).await;
    assert_eq!((again, calls), (id, 1));

    // Read back from events alone: the listed model, commitment and bytes.
    let mut pages = 0;
    let back = fetch_llm(client.provider(), &deployment, id, &mut |_, _| pages += 1)
        .await
        .unwrap();
    assert!(pages >= 1);
    assert_eq!(ModelCommitment::new(&back), ModelCommitment::new(&model));
    assert_eq!(canonical(&back), canonical(&model));
    // The card alone (what a coordinator reads for text).
    let card = fetch_card(client.provider(), &deployment, id)
        .await
        .unwrap();
    assert_eq!(card, Card::of(&model));

    // The whole chain saved and loaded into a fresh anvil (what `vouch dev` caches): the listing reads
    // back there from events alone.
    let state = anvil::dump_state(client.provider()).await.unwrap();
    let scratch = std::env::temp_dir().join(format!("vouch-listing-{}", std::process::id()));
    let fresh = LocalChain::start_loaded(None, &state, &scratch).unwrap();
    let reader = ChainClient::connect(&ChainConfig::local(fresh.endpoint()), fresh.signer(1))
        .await
        .unwrap();
    let again = fetch_llm(reader.provider(), &deployment, id, &mut |_, _| ())
        .await
        .unwrap();
    assert_eq!(ModelCommitment::new(&again), ModelCommitment::new(&model));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_listing_with_a_foreign_card_is_reset_and_republished() {
    let (_chain, client, deployment) = setup().await;
    let model = model("listing_foreign_card");
    let publication = LlmPublication::of(&model);
    let registry = ModelRegistry::new(deployment.registry, client.provider());
    // Someone registered this root from this account and published a card chunk that is not its card.
    let tx = registry
        .registerLlm(
            publication.root,
            publication.config.into(),
            PRICE.per_input,
            PRICE.per_output,
            100,
            "tiny".into(),
        )
        .into_transaction_request();
    client.send(tx).await.unwrap();
    let id = U256::from(1);
    let tx = registry
        .publishCard(id, Bytes::from_static(b"not the card"))
        .into_transaction_request();
    client.send(tx).await.unwrap();

    let (listed, _, _, _) = list_counting(&client, &deployment, &model).await;
    assert_eq!(listed, id);
    let back = fetch_llm(client.provider(), &deployment, id, &mut |_, _| ())
        .await
        .unwrap();
    assert_eq!(ModelCommitment::new(&back).root, publication.root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_back_what_is_not_a_listed_language_model_is_refused() {
    let (_chain, client, deployment) = setup().await;
    let model = model("listing_refusals");
    let publication = LlmPublication::of(&model);
    let registry = ModelRegistry::new(deployment.registry, client.provider());
    let tx = registry
        .registerLlm(
            publication.root,
            publication.config.into(),
            U256::ZERO,
            U256::ZERO,
            0,
            String::new(),
        )
        .into_transaction_request();
    client.send(tx).await.unwrap();
    let pending = fetch_llm(
        client.provider(),
        &deployment,
        U256::from(1),
        &mut |_, _| (),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&pending, ChainError::Mismatch(m) if m.contains("still being published")),
        "{pending}"
    );
    let unknown = fetch_llm(
        client.provider(),
        &deployment,
        U256::from(99),
        &mut |_, _| (),
    )
    .await
    .unwrap_err();
    eprintln!("pending: {pending}\nunknown: {unknown}");
    assert!(unknown.to_string().contains("UnknownModel"), "{unknown}");
}

/// The LLM1 root over `ops`' leaves and the card's chained hash, written out from PROTOCOL §7.1 (not
/// through `ModelCommitment`, which only commits to well-formed models).
fn root_over(config: &LlmConfig, card: &[u8], ops: &[Vec<Vec<u8>>]) -> B256 {
    let op_roots = ops.iter().map(|leaves| {
        let hashes = leaves.iter().map(|l| leaf_hash(Tag::Op, l)).collect();
        merkle_root(Tag::Op, hashes, leaf_hash(Tag::Op, &[]))
    });
    let leaves = op_roots
        .map(|r| leaf_hash(Tag::Model, r.as_slice()))
        .collect();
    let ops_root = merkle_root(Tag::Model, leaves, leaf_hash(Tag::Model, &[0; 32]));
    let mut bytes = vec![0x02, Tag::Model as u8];
    bytes.extend(b"LLM1");
    for v in [
        config.blocks,
        config.hidden,
        config.heads,
        config.kv_heads,
        config.head_dim,
        config.ffn,
        config.vocab,
        config.context,
        config.eos as usize,
    ] {
        bytes.extend((v as u32).to_be_bytes());
    }
    bytes.extend(vouch_llm::card::card_hash(card));
    bytes.extend(ops_root);
    alloy::primitives::keccak256(bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_with_more_leaves_than_its_shape_is_refused_while_read() {
    let (_chain, client, deployment) = setup().await;
    let model = model("listing_oversized");
    let mut publication = LlmPublication::of(&model);
    // An RMSNorm's tree holds its spec and one gain row; this listing commits to a thousand more rows
    // (any number would do: the reader must not hold more than the shape allows).
    let row = publication.ops[1][1].clone();
    publication.ops[1].extend(std::iter::repeat_n(row, 1000));
    let root = root_over(&publication.config, &publication.card, &publication.ops);
    let registry = ModelRegistry::new(deployment.registry, client.provider());
    let tx = registry
        .registerLlm(
            root,
            publication.config.into(),
            U256::ZERO,
            U256::ZERO,
            0,
            String::new(),
        )
        .into_transaction_request();
    client.send(tx).await.unwrap();
    let id = U256::from(1);
    for chunk in vouch_llm::card::chunks(&publication.card) {
        let tx = registry
            .publishCard(id, Bytes::copy_from_slice(chunk))
            .into_transaction_request();
        client.send(tx).await.unwrap();
    }
    publish_ops(
        &client,
        deployment.registry,
        id,
        &publication.ops,
        Resume::START,
        &mut |_, _| (),
    )
    .await
    .unwrap();
    let listing = get_listing(client.provider(), &deployment, id)
        .await
        .unwrap();
    assert_eq!(
        listing.status,
        ModelStatus::Active,
        "the root commits to it"
    );
    let err = fetch_llm(client.provider(), &deployment, id, &mut |_, _| ())
        .await
        .unwrap_err();
    eprintln!("{err}");
    assert!(err.to_string().contains("past the 2 of its tree"), "{err}");
}
