//! The one-step prover of language-model traces (`LlmStepProver.trueElement`, docs/LLM_INT.md §9)
//! against the Rust reference `LmTrace::element`, on a real anvil with the real compiled contracts:
//! random transformers (`vouch_llm::random`: several shapes, weight types and group sizes, one with
//! a vocabulary of two argmax chunks, one at SmolLM2's widths) listed with `list_llm`, a generation
//! traced, and elements of every op of every pass (the first and last element of each slot and
//! random ones; APPEND's around the position; every element of the output) proven on chain from
//! `LmTrace::witness` against the trace's final state. Every
//! value must be the reference's. Witnesses with one fault revert with the prover's typed error; a
//! liar's trace (`LmTrace::tamper`) still proves the true element. The seed is printed; replay one
//! with `VOUCH_SEED=<seed>`.
//!
//! Prints the gas of each op's dearest element checked (docs/GAS.md):
//! `cargo test -p vouch-chain --test llm_step -- --nocapture`.

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider},
    rpc::types::TransactionRequest,
    sol_types::SolCall,
};
use candle_core::quantized::{GgmlDType, gguf_file::Value};
use futures::{StreamExt, stream};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::{collections::BTreeMap, time::Instant};
use vouch_chain::{
    ChainClient, ChainConfig, ChainError, Deployment, Revert,
    anvil::LocalChain,
    bindings::{
        LlmStepProver::{self, LlmStepProverErrors},
        ModelRegistry,
    },
    llm::{LlmPrice, list_llm, true_element},
};
use vouch_core::dispute::SlotProof;
use vouch_llm::{
    IntModel,
    gguf::Gguf,
    int,
    random::{self, Dims, IM_END, TinyGguf, qtensor},
    trace::{
        Job, LlmWitness, LmTrace, Stop, generate,
        program::{BlockOp, Op},
    },
};

/// `eth_call`s in flight at once.
const CONCURRENCY: usize = 16;
/// Random elements checked per slot, besides its first and last.
const RANDOM_ELEMENTS: usize = 2;

/// A fresh anvil with a `ModelRegistry` and an `LlmStepProver` reading it.
/// Anvil with a registry and an `LlmStepProver` reading it (no market: nothing here posts a job).
async fn setup() -> (LocalChain, ChainClient, Deployment) {
    let chain = LocalChain::start(None).unwrap();
    let client = ChainClient::connect(&ChainConfig::local(chain.endpoint()), chain.signer(0))
        .await
        .unwrap();
    let created = |r: alloy::rpc::types::TransactionReceipt| r.contract_address.unwrap();
    let tx = ModelRegistry::deploy_builder(client.provider()).into_transaction_request();
    let registry = created(client.send(tx).await.unwrap());
    let tx = LlmStepProver::deploy_builder(client.provider(), registry).into_transaction_request();
    let prover = created(client.send(tx).await.unwrap());
    let deployment = Deployment {
        registry,
        market: Address::ZERO,
        game: Address::ZERO,
        prover: Address::ZERO,
        llm_prover: prover,
        start_block: 0,
    };
    (chain, client, deployment)
}

/// A random llama of shape `dims` stored as `kind`, its vocabulary grown to `vocab` tokens (extra
/// tokens and embedding rows past the tiny byte-level vocabulary), imported as `vouch model import`
/// imports a real one.
fn model(rng: &mut StdRng, dims: Dims, kind: GgmlDType, vocab: usize) -> IntModel {
    let mut gguf = TinyGguf::new(rng, dims, kind);
    if vocab > random::VOCAB {
        let tokens: Vec<Value> = (0..vocab)
            .map(|i| match i {
                i if i < 256 => Value::String(random::byte_char(i as u8).to_string()),
                i if i < random::VOCAB - 2 => {
                    let (a, b) = random::MERGES[i - 256];
                    Value::String(format!("{a}{b}"))
                }
                i if i == random::IM_START as usize => Value::String("<|im_start|>".into()),
                i if i == IM_END as usize => Value::String("<|im_end|>".into()),
                i => Value::String(format!("<|x{i}|>")),
            })
            .collect();
        let types = (0..vocab)
            .map(|i| Value::I32(if (260..262).contains(&i) { 3 } else { 1 }))
            .collect();
        gguf.set("tokenizer.ggml.tokens", Value::Array(tokens));
        gguf.set("tokenizer.ggml.token_type", Value::Array(types));
        let embd = qtensor(rng, &[vocab, dims.hidden], kind, 0.0, 0.1);
        gguf.set_tensor("token_embd.weight", embd);
    }
    let path = std::env::temp_dir().join(format!(
        "vouch-llm-step-{}-{}.gguf",
        std::process::id(),
        rng.random::<u64>()
    ));
    std::fs::write(&path, gguf.bytes()).unwrap();
    let imported = int::import(&Gguf::open(&path).unwrap(), &random::ids(rng, 48), &[]);
    let _ = std::fs::remove_file(&path);
    let model = imported.unwrap().0;
    assert_eq!(model.config.vocab, vocab);
    model
}

/// The op of slot `s` by name (`COLLECT` for the output).
fn op_name(trace: &LmTrace, s: usize) -> String {
    match trace.layout.locate(s).map(|(_, o)| trace.program.op(o)) {
        None => "COLLECT".into(),
        Some(Op::Embed) => "EMBED".into(),
        Some(Op::Block(_, i)) => format!("{i:?}"),
        Some(Op::OutNorm) => "OutNorm".into(),
        Some(Op::Head) => "HEAD".into(),
        Some(Op::Argmax1) => "ARGMAX1".into(),
        Some(Op::Argmax2) => "ARGMAX2".into(),
    }
}

/// The elements checked: every op of every pass (each slot's first, last and random elements;
/// APPEND's also just before, at and after the pass's position), and every element of the output.
fn picks(rng: &mut StdRng, trace: &LmTrace) -> Vec<(usize, usize)> {
    let (layout, program) = (trace.layout, trace.program);
    let mut out = Vec::new();
    for p in 0..layout.passes() {
        for o in 0..program.ops() {
            let s = layout.slot(p, o);
            let shape = trace.shape(s);
            let len = shape.rows * shape.cols;
            let mut es = vec![0, len - 1];
            es.extend((0..RANDOM_ELEMENTS).map(|_| rng.random_range(0..len)));
            if let Op::Block(_, BlockOp::Append) = program.op(o) {
                let (n, r) = (layout.positions(), rng.random_range(0..shape.rows));
                es.extend((p.saturating_sub(1)..=(p + 1).min(n - 1)).map(|j| r * n + j));
            }
            out.extend(es.into_iter().map(|e| (s, e)));
        }
    }
    let n = layout.output_slot();
    out.extend((0..layout.generated).map(|e| (n, e)));
    out
}

/// One element proven on chain: its call, the reference's value, the op's name.
struct Call {
    s: usize,
    e: usize,
    op: String,
    want: i64,
    witness: LlmWitness,
}

/// Every call as an `eth_call` and a gas estimate, [`CONCURRENCY`] at once; answers in order.
async fn on_chain(
    provider: &DynProvider,
    prover: Address,
    id: U256,
    trace: &LmTrace,
    calls: &[Call],
) -> Vec<(vouch_chain::Result<i64>, u64)> {
    let (layout, sigma) = (trace.layout, trace.final_state());
    stream::iter(calls)
        .map(|c| async move {
            let got = true_element(provider, prover, id, layout, sigma, c.s, c.e, &c.witness).await;
            let gas = match &got {
                Ok(_) => {
                    let call = LlmStepProver::trueElementCall {
                        modelId: id,
                        trace: layout.into(),
                        finalState: sigma,
                        slot: U256::from(c.s),
                        e: U256::from(c.e),
                        witness: (&c.witness).into(),
                    };
                    let tx = TransactionRequest::default()
                        .with_to(prover)
                        .with_input(call.abi_encode());
                    provider.estimate_gas(tx).await.unwrap()
                }
                Err(_) => 0,
            };
            (got, gas)
        })
        .buffered(CONCURRENCY)
        .collect()
        .await
}

/// The dearest element checked of each op: its gas, the model, slot, element and witness bytes.
type Dearest = BTreeMap<String, (u64, usize, usize, usize, usize)>;

/// Lists `model`, traces `job` and checks [`picks`] on chain; returns the elements checked.
#[allow(clippy::too_many_arguments)]
async fn check_model(
    client: &ChainClient,
    deployment: &Deployment,
    rng: &mut StdRng,
    index: usize,
    name: &str,
    model: &IntModel,
    job: &Job,
    stop: Stop,
    dearest: &mut Dearest,
) -> usize {
    let t = Instant::now();
    let price = LlmPrice {
        per_input: U256::from(10),
        per_output: U256::from(30),
    };
    let mut txs = 0;
    let prover = deployment.llm_prover;
    let id = list_llm(
        client,
        deployment,
        model,
        price,
        500,
        name,
        &mut |done, _| txs = done,
    )
    .await
    .unwrap();
    let listed = t.elapsed();
    let trace = generate(model, job, stop, |_| ()).unwrap();
    let t = Instant::now();
    let calls: Vec<Call> = picks(rng, &trace)
        .into_iter()
        .map(|(s, e)| {
            let want = trace.element(model, s, e).unwrap();
            // The honest trace holds what its ops compute.
            assert_eq!(want, trace.value(s, e), "{name}: slot {s} element {e}");
            Call {
                s,
                e,
                op: op_name(&trace, s),
                want,
                witness: trace.witness(model, s, e).unwrap(),
            }
        })
        .collect();
    let built = t.elapsed();
    let t = Instant::now();
    let got = on_chain(client.provider(), prover, id, &trace, &calls).await;
    let wrong: Vec<String> = calls
        .iter()
        .zip(&got)
        .filter(|(c, (g, _))| g.as_ref().ok() != Some(&c.want))
        .map(|(c, (g, _))| {
            format!(
                "{} slot {} element {}: chain {g:?}, reference {}",
                c.op, c.s, c.e, c.want
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{name}: {} of {} elements differ, e.g. {:#?}",
        wrong.len(),
        calls.len(),
        &wrong[..wrong.len().min(8)]
    );
    for (c, (_, gas)) in calls.iter().zip(&got) {
        let entry = dearest.entry(c.op.clone()).or_default();
        if *gas > entry.0 {
            *entry = (*gas, index, c.s, c.e, c.witness.data_len());
        }
    }
    if let Stop::Length(g) = stop {
        // A claimed length of 2 or more: the EMBED of a generated token (pass P) is among the picks.
        assert!(g >= 2 && trace.layout.passes() > job.prompt.len());
    }
    let ops: std::collections::BTreeSet<&str> = calls.iter().map(|c| c.op.as_str()).collect();
    assert_eq!(ops.len(), 19 + 6, "{name}: every op kind checked: {ops:?}");
    eprintln!(
        "{name}: listed in {:.1} s ({txs} transactions), {} passes, {} elements: witnesses {:.1} s, \
         on chain {:.1} s",
        listed.as_secs_f64(),
        trace.layout.passes(),
        calls.len(),
        built.as_secs_f64(),
        t.elapsed().as_secs_f64()
    );
    calls.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_op_on_chain_is_the_rust_element() {
    let mut rng = StdRng::seed_from_u64(vouch_core::random::test_seed(
        "every_op_on_chain_is_the_rust_element",
    ));
    let (_chain, client, deployment) = setup().await;
    let kinds = [
        GgmlDType::Q4_0,
        GgmlDType::Q4_1,
        GgmlDType::Q8_0,
        GgmlDType::F16,
    ];
    // Three of the four weight types, one per random model: 4-bit and 8-bit rows both occur.
    let first = rng.random_range(0..kinds.len());
    let kind = |i: usize| kinds[(first + i) % kinds.len()];
    // (dims, weight type, vocabulary): a vocabulary of two argmax chunks, grouped-query attention
    // with groups of 1 to 3, head widths 32 and 64, 2 and 3 blocks; then SmolLM2's widths (hidden
    // 576, 9 query heads over 3 of 64, ffn 1536, Q4_1 weights as its GGUF's) over 2 blocks, whose
    // elements' gas is the real model's.
    let shapes = [
        (
            Dims {
                hidden: 64,
                heads: 2,
                kv_heads: 1,
                ffn: 96,
                blocks: 2,
                context: 64,
            },
            kind(0),
            8192 + 100,
        ),
        (
            Dims {
                hidden: 128,
                heads: 2,
                kv_heads: 2,
                ffn: 64,
                blocks: 2,
                context: 64,
            },
            kind(1),
            random::VOCAB,
        ),
        (
            Dims {
                hidden: 96,
                heads: 3,
                kv_heads: 1,
                ffn: 160,
                blocks: 3,
                context: 32,
            },
            kind(2),
            random::VOCAB,
        ),
        (
            Dims {
                hidden: 576,
                heads: 9,
                kv_heads: 3,
                ffn: 1536,
                blocks: 2,
                context: 64,
            },
            GgmlDType::Q4_1,
            random::VOCAB,
        ),
    ];
    let t = Instant::now();
    let mut dearest = Dearest::new();
    let mut checked = 0;
    for (i, (dims, kind, vocab)) in shapes.into_iter().enumerate() {
        let model = model(&mut rng, dims, kind, vocab);
        let name = format!("model {i} ({dims:?}, {kind:?}, vocab {vocab})");
        let prompt = rng.random_range(2..=4);
        let max_new = rng.random_range(2..=4);
        let job = Job {
            prompt: random::ids(&mut rng, prompt),
            max_new,
        };
        // One worker's run to eos or the budget, the others a claimed length (the challenger's).
        let stop = if i == 0 {
            Stop::Eos(IM_END)
        } else {
            Stop::Length(rng.random_range(2..=max_new))
        };
        checked += check_model(
            &client,
            &deployment,
            &mut rng,
            i,
            &name,
            &model,
            &job,
            stop,
            &mut dearest,
        )
        .await;
    }
    eprintln!(
        "{checked} elements of {} models equal on chain and in Rust ({:.1} s)",
        shapes.len(),
        t.elapsed().as_secs_f64()
    );
    eprintln!("gas of each op's dearest element checked (trueElement as a transaction):");
    for (op, (gas, i, s, e, bytes)) in &dearest {
        eprintln!("  {op:<8} {gas:>9} gas  (model {i}, slot {s}, element {e}, witness {bytes} B)");
    }
}

/// The prover's own typed error, from a failed call.
fn prover_error(r: vouch_chain::Result<i64>) -> LlmStepProverErrors {
    match r {
        Err(ChainError::Reverted(Revert::LlmProver(e))) => e,
        other => panic!("expected an LlmStepProver error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faulty_witnesses_revert_and_a_liars_trace_proves_the_truth() {
    let mut rng = StdRng::seed_from_u64(vouch_core::random::test_seed(
        "faulty_witnesses_revert_and_a_liars_trace_proves_the_truth",
    ));
    let (_chain, client, deployment) = setup().await;
    let prover = deployment.llm_prover;
    let dims = Dims {
        hidden: 64,
        heads: 2,
        kv_heads: 1,
        ffn: 64,
        blocks: 2,
        context: 32,
    };
    let model = model(&mut rng, dims, GgmlDType::Q4_1, random::VOCAB);
    let id = list_llm(
        &client,
        &deployment,
        &model,
        LlmPrice::default(),
        0,
        "",
        &mut |_, _| {},
    )
    .await
    .unwrap();
    let job = Job {
        prompt: random::ids(&mut rng, 3),
        max_new: 3,
    };
    let trace = generate(&model, &job, Stop::Length(3), |_| ()).unwrap();
    let (layout, program, sigma) = (trace.layout, trace.program, trace.final_state());
    let provider = client.provider();
    let ask = |s: usize, e: usize, w: LlmWitness| {
        let provider = provider.clone();
        async move { true_element(&provider, prover, id, layout, sigma, s, e, &w).await }
    };
    let slot_proof = |trace: &LmTrace, s: usize| SlotProof {
        root: trace.roots()[s],
        path: trace.state_tree().proof(s).unwrap(),
    };

    // PV of the last pass: two slots (SOFTMAX, APPEND), two runs, its spec.
    let p = layout.passes() - 1;
    let s = layout.slot(p, program.index(Op::Block(1, BlockOp::Pv)));
    let e = rng.random_range(0..trace.shape(s).cols);
    let w = trace.witness(&model, s, e).unwrap();
    assert_eq!(ask(s, e, w.clone()).await.unwrap(), trace.value(s, e));
    // Runs in reading order: the probabilities, then the values; slot proofs in slot order.
    let (sm, ap) = (w.runs[0].slot, w.runs[1].slot);
    let proof_of =
        |w: &LlmWitness, slot: usize| w.slots.iter().position(|(t, _)| *t == slot).unwrap();

    let mut changed = w.clone();
    changed.runs[1].leaves[0][1] ^= 1;
    let err = prover_error(ask(s, e, changed).await);
    assert!(
        matches!(
            &err,
            LlmStepProverErrors::LlmRunRootMismatch(x) if x.index == U256::from(1)
        ),
        "{err:?}"
    );
    let mut wrong_root = w.clone();
    let i = proof_of(&wrong_root, sm);
    wrong_root.slots[i].1.root = B256::repeat_byte(7);
    let err = prover_error(ask(s, e, wrong_root).await);
    assert!(
        matches!(
            &err,
            LlmStepProverErrors::LlmSlotRootMismatch(x) if x.slot == U256::from(sm)
        ),
        "{err:?}"
    );
    let mut missing = w.clone();
    missing.runs.pop();
    let err = prover_error(ask(s, e, missing).await);
    assert!(
        matches!(
            &err,
            LlmStepProverErrors::LlmRunMissing(x) if x.index == U256::from(1)
        ),
        "{err:?}"
    );
    let mut extra = w.clone();
    extra.runs.push(w.runs[0].clone());
    let err = prover_error(ask(s, e, extra).await);
    assert!(
        matches!(
            &err,
            LlmStepProverErrors::LlmExtraRuns(x) if x.runs == U256::from(3) && x.read == U256::from(2)
        ),
        "{err:?}"
    );
    // The APPEND row read first, in the softmax row's place: a run of another slot.
    let mut swapped = w.clone();
    swapped.runs.swap(0, 1);
    let err = prover_error(ask(s, e, swapped).await);
    assert!(
        matches!(
            &err,
            LlmStepProverErrors::LlmRunMismatch(x) if x.index == U256::ZERO && x.slot == U256::from(sm)
        ),
        "{err:?}"
    );
    // The same op's row of the previous pass.
    let mut other_slot = w.clone();
    other_slot.runs[1] = trace.witness(&model, s - layout.ops, e).unwrap().runs[1].clone();
    let err = prover_error(ask(s, e, other_slot).await);
    assert!(
        matches!(
            &err,
            LlmStepProverErrors::LlmRunMismatch(x) if x.index == U256::from(1) && x.slot == U256::from(ap)
        ),
        "{err:?}"
    );
    let mut unproven = w.clone();
    unproven.slots.remove(proof_of(&w, ap));
    let err = prover_error(ask(s, e, unproven).await);
    assert!(
        matches!(
            &err,
            LlmStepProverErrors::LlmSlotNotProven(x) if x.slot == U256::from(ap)
        ),
        "{err:?}"
    );
    let mut unread = w.clone();
    unread.slots.insert(0, (0, slot_proof(&trace, 0)));
    let err = prover_error(ask(s, e, unread).await);
    assert!(
        matches!(
            &err,
            LlmStepProverErrors::LlmSlotNotRead(x) if x.slot == U256::ZERO
        ),
        "{err:?}"
    );
    // A slot at or after the step's own: not agreed on by the walk.
    let mut later = w.clone();
    later.slots.push((s, slot_proof(&trace, s)));
    let err = prover_error(ask(s, e, later).await);
    assert!(
        matches!(
            &err,
            LlmStepProverErrors::LlmSlotNotReadable(x) if x.slot == U256::from(s)
        ),
        "{err:?}"
    );
    let mut later = w.clone();
    later.slots.push((s + 1, slot_proof(&trace, s + 1)));
    let err = prover_error(ask(s, e, later).await);
    assert!(
        matches!(
            &err,
            LlmStepProverErrors::LlmSlotNotReadable(x) if x.slot == U256::from(s + 1)
        ),
        "{err:?}"
    );
    // Against another final state.
    let other_state =
        true_element(provider, prover, id, layout, B256::repeat_byte(1), s, e, &w).await;
    let err = prover_error(other_state);
    assert!(
        matches!(err, LlmStepProverErrors::LlmSlotRootMismatch(_)),
        "{err:?}"
    );

    // DENSE q of pass 0: its spec and weight row e.
    let d = layout.slot(0, program.index(Op::Block(0, BlockOp::Q)));
    let e = rng.random_range(0..trace.shape(d).cols);
    let w = trace.witness(&model, d, e).unwrap();
    assert_eq!(ask(d, e, w.clone()).await.unwrap(), trace.value(d, e));
    let mut byte = w.clone();
    byte.params[1].data[7] ^= 1;
    let err = prover_error(ask(d, e, byte).await);
    assert!(
        matches!(
            &err,
            LlmStepProverErrors::LlmParamRootMismatch(x) if x.index == U256::from(1)
        ),
        "{err:?}"
    );
    let mut spec = w.clone();
    spec.params[0].data[3] ^= 1;
    let err = prover_error(ask(d, e, spec).await);
    assert!(
        matches!(
            &err,
            LlmStepProverErrors::LlmParamRootMismatch(x) if x.index == U256::ZERO
        ),
        "{err:?}"
    );
    // Weight row e of k, not of q: a leaf of another op.
    let k = layout.slot(0, program.index(Op::Block(0, BlockOp::K)));
    let mut other_op = w.clone();
    other_op.params[1] = trace
        .witness(&model, k, e % trace.shape(k).cols)
        .unwrap()
        .params[1]
        .clone();
    let err = prover_error(ask(d, e, other_op).await);
    assert!(
        matches!(
            &err,
            LlmStepProverErrors::LlmParamMismatch(x) if x.index == U256::from(1)
        ),
        "{err:?}"
    );
    // Weight row e + 1: the right op, another leaf.
    let mut other_row = w.clone();
    other_row.params[1] = trace
        .witness(&model, d, (e + 1) % trace.shape(d).cols)
        .unwrap()
        .params[1]
        .clone();
    let err = prover_error(ask(d, e, other_row).await);
    assert!(
        matches!(err, LlmStepProverErrors::LlmParamMismatch(_)),
        "{err:?}"
    );
    let mut no_row = w.clone();
    no_row.params.pop();
    let err = prover_error(ask(d, e, no_row).await);
    assert!(
        matches!(
            &err,
            LlmStepProverErrors::LlmParamMissing(x) if x.index == U256::from(1)
        ),
        "{err:?}"
    );
    let mut two_rows = w.clone();
    two_rows.params.push(w.params[1].clone());
    let err = prover_error(ask(d, e, two_rows).await);
    assert!(
        matches!(err, LlmStepProverErrors::LlmExtraParams(_)),
        "{err:?}"
    );
    eprintln!("every faulty witness reverted with its typed error");

    // A liar's element (any but a value cache's, which holds no bytes of its own): the honest
    // witness built from the liar's trace proves the truth, not the lie.
    for _ in 0..8 {
        let s = loop {
            let s = rng.random_range(1..trace.slot_count());
            if op_name(&trace, s) != "Append" {
                break s;
            }
        };
        let shape = trace.shape(s);
        let e = rng.random_range(0..shape.rows * shape.cols);
        let truth = trace.value(s, e);
        let mut liar = trace.clone();
        liar.tamper(s, e, truth ^ 1).unwrap();
        assert_ne!(liar.value(s, e), truth);
        let w = liar.witness(&model, s, e).unwrap();
        assert_eq!(
            ask(s, e, w).await.unwrap(),
            truth,
            "{} slot {s} element {e}",
            op_name(&trace, s)
        );
    }
    eprintln!("a liar's trace proves the true element of 8 tampered elements");
}
