//! The one-step caps (PROTOCOL §6.8) are the same integers in Rust and in the registry:
//! `vouch_core::dispute::step_calldata_bytes` is the exact ABI length of the step call with the worst
//! witness the game builds, and `Model::validate` accepts exactly the models the real compiled
//! `ModelRegistry` activates, at the 96 KiB boundary from both sides and on random models near it.
//! Real anvil; the seed is printed, replay one with `VOUCH_SEED=<seed>`.

use alloy::{
    primitives::{Bytes, U256},
    sol_types::SolCall,
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use vouch_chain::{
    ChainClient, ChainConfig, MarketParams, Revert,
    anvil::LocalChain,
    bindings::ModelRegistry::ModelRegistryErrors,
    deploy,
    registry::{self, ModelStatus},
};
use vouch_core::{
    Model, Shape,
    dispute::{
        MAX_STEP_CALLDATA, MAX_STEP_GAS, Party, StepWitness, step_calldata_bytes, step_gas_bound,
    },
    model::{ModelMeta, Op, OpKind, WeightRow, Window},
    quant::Requant,
    random::{random_any_model, random_input},
    reference,
};

alloy::sol! {
    /// The step transaction as `DisputeGame` takes it (`IOneStepProver.sol`'s `StepWitness`).
    struct SlotProof { bytes32 root; bytes32[] path; }
    struct RowProof { bytes data; bytes32[] path; }
    struct SolStepWitness { SlotProof[] slots; RowProof[] rows; bytes input; bytes weights; bytes32[] weightPath; }
    function step(uint256 gameId, SolStepWitness witness);
}

fn seeded_rng(test: &str) -> StdRng {
    StdRng::seed_from_u64(vouch_core::random::test_seed(test))
}

/// The calldata of `step(gameId, witness)`, ABI-encoded by alloy.
fn step_calldata(witness: &StepWitness) -> usize {
    let witness = SolStepWitness {
        slots: witness
            .slots
            .iter()
            .map(|s| SlotProof {
                root: s.root,
                path: s.path.clone(),
            })
            .collect(),
        rows: witness
            .rows
            .iter()
            .map(|r| RowProof {
                data: Bytes::copy_from_slice(&r.data),
                path: r.path.clone(),
            })
            .collect(),
        input: Bytes::copy_from_slice(&witness.input),
        weights: Bytes::copy_from_slice(&witness.weights),
        weightPath: witness.weight_path.clone(),
    };
    stepCall {
        gameId: U256::MAX,
        witness,
    }
    .abi_encode()
    .len()
}

#[test]
fn step_calldata_is_the_abi_length_of_the_worst_witness() {
    let mut rng = seeded_rng("step_calldata_is_the_abi_length_of_the_worst_witness");
    for _ in 0..12 {
        let model = random_any_model(&mut rng);
        let trace = reference::run(&model, &random_input(&mut rng, &model)).unwrap();
        let party = Party::new(&model, trace.clone()).unwrap();
        for (k, op) in model.ops.iter().enumerate() {
            // The witness depends on the pixel, not the channel: the largest over all pixels.
            let c = op.out.c as usize;
            let largest = (0..op.out.rows())
                .map(|p| {
                    let walk = party.state_walk(k + 1).unwrap();
                    step_calldata(&party.witness(&model, k, p * c, &walk).unwrap())
                })
                .max()
                .unwrap();
            assert_eq!(
                step_calldata_bytes(&model, k),
                largest as u64,
                "op {k} ({}) of {model:?}",
                op.kind.name()
            );
        }
    }
}

fn meta() -> ModelMeta {
    ModelMeta {
        name: "witness cap".into(),
        input_scale: 1.0,
        output_scale: 1.0,
        labels: Vec::new(),
    }
}

fn row(rng: &mut StdRng, k: usize) -> WeightRow {
    WeightRow {
        bias: rng.random_range(-1000..1000),
        requant: Requant {
            multiplier: 1,
            shift: 24,
        },
        weights: (0..k).map(|_| rng.random_range(-127..=127)).collect(),
    }
}

/// One op on `input`, then `clamps` clamps of its output (more ops: deeper slot paths).
fn with_clamps(input: Shape, op: Op, clamps: usize) -> Model {
    let out = op.out;
    let mut ops = vec![op];
    for k in 0..clamps {
        ops.push(Op {
            out,
            z_out: 0,
            kind: OpKind::Clamp {
                input: (k + 1) as u16,
                lo: -100,
                hi: 100,
            },
        });
    }
    Model {
        input,
        input_zero: 0,
        ops,
        meta: meta(),
    }
}

fn dense(rng: &mut StdRng, input: Shape, clamps: usize) -> Model {
    let rows = vec![row(rng, input.len())];
    let op = Op {
        out: Shape::vector(1),
        z_out: 0,
        kind: OpKind::Dense {
            input: 0,
            z_x: 0,
            lo: -128,
            hi: 127,
            rows,
        },
    };
    with_clamps(input, op, clamps)
}

/// An `s × s` window (stride 1, no padding) on an `[s, s, c]` input: one output pixel reading every tap.
fn window(rng: &mut StdRng, conv: bool, s: u8, c: u32, clamps: usize) -> Model {
    let input = Shape::new(u32::from(s), u32::from(s), c);
    let window = Window {
        kh: s,
        kw: s,
        sh: 1,
        sw: 1,
        pt: 0,
        pl: 0,
    };
    let (out, kind) = if conv {
        let rows = vec![row(rng, usize::from(s) * usize::from(s) * c as usize)];
        let kind = OpKind::Conv2d {
            input: 0,
            z_x: 0,
            lo: -128,
            hi: 127,
            window,
            rows,
        };
        (Shape::new(1, 1, 1), kind)
    } else {
        (Shape::new(1, 1, c), OpKind::MaxPool { input: 0, window })
    };
    with_clamps(
        input,
        Op {
            out,
            z_out: 0,
            kind,
        },
        clamps,
    )
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

/// Lists `model` on the registry and checks that it activates exactly when `validate` accepts it,
/// and that a refusal names op 0 and the very size or gas bound Rust computes. Returns the verdict.
async fn list_and_compare(
    client: &ChainClient,
    deployment: &vouch_chain::Deployment,
    model: &Model,
    what: &str,
) -> bool {
    let size = step_calldata_bytes(model, 0);
    let gas = step_gas_bound(model, 0);
    let verdict = model.validate();
    let listed = registry::list_model(client, deployment, model, U256::from(1), 0).await;
    eprintln!(
        "{what}: n = {}, step {size} B, gas bound {gas}: validate {}, registry {}",
        model.op_count(),
        if verdict.is_ok() {
            "accepts"
        } else {
            "refuses"
        },
        if listed.is_ok() {
            "activates"
        } else {
            "refuses"
        },
    );
    match (&verdict, listed) {
        (Ok(()), Ok(id)) => {
            let listing = registry::get_listing(client.provider(), deployment, id)
                .await
                .unwrap();
            assert_eq!(listing.status, ModelStatus::Active, "{what}");
            assert!(size <= MAX_STEP_CALLDATA && gas <= MAX_STEP_GAS, "{what}");
            true
        }
        (Err(_), Err(err)) => {
            match err.revert() {
                Some(Revert::Registry(ModelRegistryErrors::StepCalldataTooLarge(e))) => {
                    assert_eq!(
                        (e.op, e.size, e.cap),
                        (0, U256::from(size), U256::from(MAX_STEP_CALLDATA)),
                        "{what}"
                    );
                    assert!(size > MAX_STEP_CALLDATA, "{what}");
                }
                Some(Revert::Registry(ModelRegistryErrors::StepGasTooHigh(e))) => {
                    assert_eq!(
                        (e.op, e.gasBound, e.cap),
                        (0, U256::from(gas), U256::from(MAX_STEP_GAS)),
                        "{what}"
                    );
                    assert!(size <= MAX_STEP_CALLDATA && gas > MAX_STEP_GAS, "{what}");
                }
                other => panic!("{what}: expected a step cap revert, got {other:?} ({err})"),
            }
            false
        }
        (verdict, listed) => panic!(
            "{what}: validate says {verdict:?}, the registry {:?}",
            listed.map(|_| ())
        ),
    }
}

#[tokio::test]
async fn registry_and_validate_agree_at_the_cap() {
    let mut rng = seeded_rng("registry_and_validate_agree_at_the_cap");
    let (_chain, client, deployment) = setup().await;
    // ABI calldata is 4 + 32·m bytes: 98,276 is the largest step under 96 KiB, 98,308 the next.
    let cases = [
        (dense(&mut rng, Shape::vector(48_832), 0), 98_276, true),
        (dense(&mut rng, Shape::vector(48_855), 0), 98_308, false),
        // Two more ops: the state tree has 4 leaves, one sibling more on the slot path.
        (dense(&mut rng, Shape::vector(48_832), 2), 98_308, false),
        (dense(&mut rng, Shape::vector(48_810), 2), 98_276, true),
        // Passed validate before the cap.
        (dense(&mut rng, Shape::vector(65_536), 0), 131_684, false),
        (window(&mut rng, true, 31, 4, 0), 496_484, false),
        // Under the calldata cap, over the gas cap (48,128 one-byte rows to re-hash).
        (dense(&mut rng, Shape::new(256, 188, 1), 0), 96_868, false),
    ];
    for (model, size, lists) in cases {
        let what = format!("{} on {}", model.ops[0].kind.name(), model.input);
        assert_eq!(step_calldata_bytes(&model, 0), size, "{what}");
        assert_eq!(
            list_and_compare(&client, &deployment, &model, &what).await,
            lists,
            "{what}"
        );
    }
}

#[tokio::test]
async fn registry_and_validate_agree_on_random_models_near_the_cap() {
    let mut rng = seeded_rng("registry_and_validate_agree_on_random_models_near_the_cap");
    let (_chain, client, deployment) = setup().await;
    let (mut listed, mut refused) = (0, 0);
    for _ in 0..10 {
        let clamps = rng.random_range(0..4);
        let model = match rng.random_range(0..4) {
            0 => {
                let k = rng.random_range(46_000..50_000);
                dense(&mut rng, Shape::vector(k), clamps)
            }
            1 => {
                let (h, w) = (rng.random_range(64..200), rng.random_range(64..200));
                dense(&mut rng, Shape::new(h, w, 1), clamps)
            }
            2 => {
                let (s, c) = (rng.random_range(8..=16), rng.random_range(1..=40));
                window(&mut rng, true, s, c, clamps)
            }
            _ => {
                let (s, c) = (rng.random_range(8..=20), rng.random_range(1..=40));
                window(&mut rng, false, s, c, clamps)
            }
        };
        let what = format!("{} on {}", model.ops[0].kind.name(), model.input);
        if list_and_compare(&client, &deployment, &model, &what).await {
            listed += 1;
        } else {
            refused += 1;
        }
    }
    eprintln!("{listed} listed, {refused} refused");
}
