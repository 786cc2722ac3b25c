//! The trace geometry the game walks (`LlmStepProver.slotGeometry`, `LibLlmTrace` in Solidity) against
//! the Rust one the parties build their trees from (`vouch_llm::trace::program`): for random configs
//! registered on a real anvil and random job layouts, every slot of the trace has the same pass, op,
//! rows, columns and element type on both sides. The seed is printed; replay with `VOUCH_SEED=<seed>`.

use alloy::primitives::U256;
use futures::{StreamExt, stream};
use rand::{Rng, SeedableRng, rngs::StdRng};
use vouch_chain::{
    ChainClient, ChainConfig,
    anvil::LocalChain,
    bindings::{LlmStepProver, ModelRegistry},
};
use vouch_llm::{
    config::LlamaConfig,
    trace::program::{Dtype, Layout, Program},
};

/// `eth_call`s in flight at once.
const CONCURRENCY: usize = 32;

/// A random config within the registry's bounds.
fn config(rng: &mut StdRng) -> LlamaConfig {
    let kv_heads = rng.random_range(1..=3);
    let heads = kv_heads * rng.random_range(1..=3);
    let head_dim = 2 * rng.random_range(1..=40);
    LlamaConfig {
        blocks: rng.random_range(1..=3),
        hidden: rng.random_range(1..=300),
        heads,
        kv_heads,
        head_dim,
        ffn: rng.random_range(1..=300),
        vocab: rng.random_range(1..=20_000),
        eps: 1e-5,
        rope_base: 10_000.0,
        context: 64,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_slot_has_the_same_geometry_on_chain() {
    let mut rng = StdRng::seed_from_u64(vouch_core::random::test_seed(
        "every_slot_has_the_same_geometry_on_chain",
    ));
    let chain = LocalChain::start(None).unwrap();
    let client = ChainClient::connect(&ChainConfig::local(chain.endpoint()), chain.signer(0))
        .await
        .unwrap();
    let provider = client.provider().clone();
    let receipt = client
        .send(ModelRegistry::deploy_builder(&provider).into_transaction_request())
        .await
        .unwrap();
    let registry = receipt.contract_address.unwrap();
    let receipt = client
        .send(LlmStepProver::deploy_builder(&provider, registry).into_transaction_request())
        .await
        .unwrap();
    let prover = LlmStepProver::new(receipt.contract_address.unwrap(), &provider);
    let mut checked = 0;
    for model in 1..=4u64 {
        let c = config(&mut rng);
        let tx = ModelRegistry::new(registry, &provider)
            .registerLlm(
                Default::default(),
                vouch_llm::card::LlmConfig {
                    blocks: c.blocks,
                    hidden: c.hidden,
                    heads: c.heads,
                    kv_heads: c.kv_heads,
                    head_dim: c.head_dim,
                    ffn: c.ffn,
                    vocab: c.vocab,
                    context: c.context,
                    eos: 0,
                }
                .into(),
                U256::ZERO,
                U256::ZERO,
                0,
                String::new(),
            )
            .into_transaction_request();
        client.send(tx).await.unwrap();
        let program = Program::new(c);
        let prompt = rng.random_range(1..=4);
        let max_new = rng.random_range(1..=4);
        let layout = Layout {
            ops: program.ops(),
            prompt,
            max_new,
            generated: rng.random_range(1..=max_new),
        };
        eprintln!("config {c:?}, layout {layout:?}");
        let sol_layout = LlmStepProver::LlmLayout {
            prompt: prompt as u32,
            maxNew: max_new as u32,
            generated: layout.generated as u32,
        };
        let slots: Vec<usize> = (0..=layout.output_slot()).collect();
        let answers: Vec<_> = stream::iter(slots.iter().map(|&s| {
            let (prover, sol_layout) = (&prover, sol_layout.clone());
            async move {
                let g = prover
                    .slotGeometry(U256::from(model), sol_layout, U256::from(s))
                    .call()
                    .await
                    .unwrap();
                (s, g)
            }
        }))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
        for (s, g) in answers {
            let shape = program.slot_shape(layout, s);
            let (pass, op) = layout.locate(s).unwrap_or((0, usize::MAX));
            let op_on_chain = if g.op == U256::MAX {
                usize::MAX
            } else {
                g.op.to::<usize>()
            };
            assert_eq!(
                (
                    g.pass.to::<usize>(),
                    op_on_chain,
                    g.rows.to::<usize>(),
                    g.cols.to::<usize>(),
                    usize::from(g.width),
                    g.signed,
                ),
                (
                    pass,
                    op,
                    shape.rows,
                    shape.cols,
                    shape.dtype.width(),
                    shape.dtype != Dtype::U16,
                ),
                "slot {s}"
            );
            checked += 1;
        }
    }
    eprintln!("{checked} slots: the same geometry on chain");
    assert!(checked > 0);
}
