//! The on-chain one-step executor (`OneStepProver.trueElement`, PROTOCOL §6.5) against the Rust
//! reference, on a real anvil with the real compiled contracts: fresh random models of every op kind
//! and a small hand-made one with the quantization edges random models rarely reach (negative ties,
//! padded corner windows, accumulators at the i32 bound), random inputs, random elements (every one
//! when an op's output is small). Each value must equal `reference::element` and `verify_step`; a
//! witness with one fault must revert with the prover's typed error. The seed is printed; replay one
//! with `VOUCH_SEED=<seed>`.

use alloy::primitives::U256;
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::{
    collections::{BTreeMap, BTreeSet},
    time::Instant,
};
use tokio::task::JoinSet;
use vouch_chain::{
    ChainClient, ChainConfig, ChainError, Deployment, MarketParams, Revert, anvil::LocalChain,
    bindings::OneStepProver::OneStepProverErrors, deploy, prover, registry,
};
use vouch_core::{
    B256, Model, Shape, Trace,
    commit::op_root,
    dispute::{Disputant, Party, Position, StepWitness, verify_step},
    model::{ModelMeta, Op, OpKind, Operand, WeightRow, Window},
    quant::Requant,
    random::{random_any_model, random_input},
    reference,
};

/// Every op kind, by `OpKind::name`.
const KINDS: [&str; 7] = [
    "dense", "conv2d", "clamp", "maxpool", "avgpool", "add", "reshape",
];
/// Random models listed, at least.
const MODELS: usize = 40;
/// Ops of each kind checked, at least (more random models are drawn until there are).
const MIN_OPS_PER_KIND: usize = 10;
/// Random inputs run through each random model.
const INPUTS: usize = 3;
/// An op whose output has at most this many elements has every one checked; a larger one its corners
/// and a random sample up to this many.
const ALL_ELEMENTS: usize = 96;
/// Random models the faults are injected into (besides the hand-made one).
const FAULTY_MODELS: usize = 12;
/// `eth_call`s in flight at once.
const CONCURRENCY: usize = 32;

fn seeded_rng(test: &str) -> StdRng {
    StdRng::seed_from_u64(vouch_core::random::test_seed(test))
}

async fn setup() -> (LocalChain, ChainClient, Deployment) {
    let chain = LocalChain::start(None).unwrap();
    let client = ChainClient::connect(&ChainConfig::local(chain.endpoint()), chain.signer(0))
        .await
        .unwrap();
    let params = MarketParams::new(100, U256::from(10u64.pow(18)), 1_000_000_000);
    let deployment = deploy(&client, params).await.unwrap();
    (chain, client, deployment)
}

async fn list(client: &ChainClient, deployment: &Deployment, model: &Model) -> U256 {
    registry::list_model(client, deployment, model, U256::from(1000), 500)
        .await
        .unwrap()
}

/// One `trueElement` call: element `e` of op `k` when σ_k is `sigma`.
#[derive(Debug, Clone)]
struct Call {
    k: usize,
    e: usize,
    sigma: B256,
    witness: StepWitness,
}

/// Every call as an `eth_call` to the deployment's prover, [`CONCURRENCY`] at a time; results in order.
async fn on_chain(
    client: &ChainClient,
    deployment: &Deployment,
    model_id: U256,
    calls: &[Call],
) -> Vec<vouch_chain::Result<i8>> {
    let mut results: Vec<Option<vouch_chain::Result<i8>>> = calls.iter().map(|_| None).collect();
    for (chunk, batch) in calls.chunks(CONCURRENCY).enumerate() {
        let mut set = JoinSet::new();
        for (i, call) in batch.iter().enumerate() {
            let (provider, deployment, call) =
                (client.provider().clone(), *deployment, call.clone());
            set.spawn(async move {
                let k = u32::try_from(call.k).expect("k fits u32");
                let r = prover::true_element(
                    &provider,
                    &deployment,
                    model_id,
                    k,
                    call.sigma,
                    call.e,
                    &call.witness,
                )
                .await;
                (chunk * CONCURRENCY + i, r)
            });
        }
        while let Some(done) = set.join_next().await {
            let (i, r) = done.expect("an eth_call task panicked");
            results[i] = Some(r);
        }
    }
    results
        .into_iter()
        .map(|r| r.expect("every call ran"))
        .collect()
}

/// What the differential test counts, for its summary line.
#[derive(Debug, Default)]
struct Tally {
    models: usize,
    ops: BTreeMap<&'static str, usize>,
    elements: BTreeMap<&'static str, usize>,
    /// Conv and max-pool elements whose window has taps in the padding.
    padded_windows: usize,
    /// Negative ties in the hand-made model's runs.
    negative_ties: usize,
}

impl Tally {
    fn ops_of(&self, kind: &str) -> usize {
        self.ops.get(kind).copied().unwrap_or(0)
    }
}

/// `kind n, …` in [`KINDS`] order.
fn by_kind(counts: &BTreeMap<&'static str, usize>) -> String {
    KINDS
        .iter()
        .map(|k| format!("{k} {}", counts.get(k).copied().unwrap_or(0)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The elements of an op with output `out` to check: all of a small output; else the four corner
/// pixels (random channels), where windows reach furthest into the padding, and a random sample.
fn elements(rng: &mut impl Rng, out: Shape) -> Vec<usize> {
    let len = out.len();
    if len <= ALL_ELEMENTS {
        return (0..len).collect();
    }
    let (h, w, c) = (out.h as usize, out.w as usize, out.c as usize);
    let mut es: BTreeSet<usize> = [(0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1)]
        .into_iter()
        .map(|(y, x)| out.index(y, x, rng.random_range(0..c)))
        .collect();
    while es.len() < ALL_ELEMENTS {
        es.insert(rng.random_range(0..len));
    }
    es.into_iter().collect()
}

/// The slot table of a run, as `reference::element` reads it.
fn view(trace: &Trace) -> Vec<(Shape, &[i8])> {
    trace
        .shapes()
        .iter()
        .zip(trace.slots())
        .map(|(&s, d)| (s, d.as_slice()))
        .collect()
}

/// Lists `model`, runs it on every input, and checks the chosen elements of every op on chain
/// against the reference and `verify_step`. Returns the mismatches, described.
async fn check_model(
    client: &ChainClient,
    deployment: &Deployment,
    name: &str,
    model: &Model,
    inputs: &[Vec<i8>],
    rng: &mut impl Rng,
    tally: &mut Tally,
) -> Vec<String> {
    model.validate().unwrap();
    let id = list(client, deployment, model).await;
    tally.models += 1;
    for op in &model.ops {
        *tally.ops.entry(op.kind.name()).or_default() += 1;
    }
    let mut calls = Vec::new();
    let mut expected = Vec::new();
    let mut problems = Vec::new();
    for input in inputs {
        let trace = reference::run(model, input).unwrap();
        let party = Party::new(model, trace.clone()).unwrap();
        let slots = view(&trace);
        for (k, op) in model.ops.iter().enumerate() {
            let sigma = party.final_state();
            let walk = party.state_walk(k + 1).unwrap();
            for e in elements(rng, op.out) {
                let value = reference::element(op, &slots, e);
                let witness = party.witness(model, k, e, &walk).unwrap();
                match verify_step(model, k, sigma, e, &witness) {
                    Ok(v) if v == value => {}
                    other => problems.push(format!(
                        "{name}: verify_step of op {k} ({}) element {e}: {other:?}, reference {value}",
                        op.kind.name()
                    )),
                }
                if let OpKind::Conv2d { window, .. } | OpKind::MaxPool { window, .. } = &op.kind
                    && witness.rows.len() < usize::from(window.kh) * usize::from(window.kw)
                {
                    tally.padded_windows += 1;
                }
                *tally.elements.entry(op.kind.name()).or_default() += 1;
                calls.push(Call {
                    k,
                    e,
                    sigma,
                    witness,
                });
                expected.push(value);
            }
        }
    }
    let results = on_chain(client, deployment, id, &calls).await;
    for ((call, want), got) in calls.iter().zip(&expected).zip(results) {
        if !matches!(got, Ok(v) if v == *want) {
            problems.push(format!(
                "{name} (model id {id}): op {} ({}) element {}: chain {got:?}, reference {want}",
                call.k,
                model.ops[call.k].kind.name(),
                call.e
            ));
        }
    }
    problems
}

/// A small hand-made model of all seven kinds at the quantization edges random models rarely reach:
/// requantization by exact halves and quarters (`M = 1`, small `s`), so negative ties are common; a
/// 3×3 conv with two rows and columns of padding (every corner output has one tap inside); a max-pool
/// whose corner windows are mostly padding; a dense whose accumulators sit at the i32 registration
/// bound with `M = 2^31 − 1` and shifts up to 62.
fn edge_model(rng: &mut impl Rng) -> Model {
    let half = Requant {
        multiplier: 1,
        shift: 1,
    };
    let mut row = |k: usize, requant: Requant| WeightRow {
        bias: rng.random_range(-7..=7),
        requant,
        weights: (0..k).map(|_| rng.random_range(-2..=2)).collect(),
    };
    let conv_rows = vec![
        row(18, half),
        row(
            18,
            Requant {
                multiplier: 3,
                shift: 2,
            },
        ),
    ];
    let dense_rows = (0..8).map(|_| row(8, half)).collect();
    // Slot 4 is [1, 1, 8] with zero point −2: the bound's max|x − z| is 127 + 2, so
    // 8 · 129 · 127 + |bias| < 2^31 allows |bias| up to 2^31 − 1 − 131064.
    let bound = (1i64 << 31) - 1 - 8 * 129 * 127;
    let extreme_rows = [
        (1, 62),
        (-1, 62),
        (1, 61),
        (-1, 61),
        (1, 33),
        (-1, 33),
        (1, 32),
        (-1, 31),
    ]
    .into_iter()
    .enumerate()
    .map(|(r, (sign, shift))| WeightRow {
        bias: i32::try_from(sign * bound).unwrap(),
        requant: Requant {
            multiplier: i32::MAX,
            shift,
        },
        weights: (0..8)
            .map(|j| if (r + j) % 2 == 0 { 127 } else { -127 })
            .collect(),
    })
    .collect();
    let ops = vec![
        // [3, 3, 2] → [5, 5, 2]: iy = oy + i − 2, so output row 0 sees input row 0 through i = 2
        // only, output row 4 input row 2 through i = 0 only (and likewise for columns).
        Op {
            out: Shape::new(5, 5, 2),
            z_out: 1,
            kind: OpKind::Conv2d {
                input: 0,
                z_x: -3,
                lo: -128,
                hi: 127,
                window: Window {
                    kh: 3,
                    kw: 3,
                    sh: 1,
                    sw: 1,
                    pt: 2,
                    pl: 2,
                },
                rows: conv_rows,
            },
        },
        // [5, 5, 2] → [3, 3, 2]: 2×2 windows, stride 2, the top-left one with three taps in the padding.
        Op {
            out: Shape::new(3, 3, 2),
            z_out: 1,
            kind: OpKind::MaxPool {
                input: 1,
                window: Window {
                    kh: 2,
                    kw: 2,
                    sh: 2,
                    sw: 2,
                    pt: 1,
                    pl: 1,
                },
            },
        },
        // [3, 3, 2] → [2, 2, 2]: window sums ≡ 2 (mod 4) are ties.
        Op {
            out: Shape::new(2, 2, 2),
            z_out: -2,
            kind: OpKind::AvgPool {
                input: 2,
                z_x: 1,
                window: Window {
                    kh: 2,
                    kw: 2,
                    sh: 1,
                    sw: 1,
                    pt: 0,
                    pl: 0,
                },
                requant: Requant {
                    multiplier: 1,
                    shift: 2,
                },
                lo: -128,
                hi: 127,
            },
        },
        Op {
            out: Shape::vector(8),
            z_out: -2,
            kind: OpKind::Reshape { input: 3 },
        },
        Op {
            out: Shape::vector(8),
            z_out: 0,
            kind: OpKind::Dense {
                input: 4,
                z_x: -2,
                lo: -128,
                hi: 127,
                rows: dense_rows,
            },
        },
        // Odd sums are ties.
        Op {
            out: Shape::vector(8),
            z_out: 0,
            kind: OpKind::Add {
                a: Operand {
                    slot: 4,
                    zero: -2,
                    multiplier: 1,
                },
                b: Operand {
                    slot: 5,
                    zero: 0,
                    multiplier: 1,
                },
                shift: 1,
                lo: -100,
                hi: 100,
            },
        },
        Op {
            out: Shape::vector(8),
            z_out: 0,
            kind: OpKind::Clamp {
                input: 6,
                lo: -5,
                hi: 5,
            },
        },
        Op {
            out: Shape::vector(8),
            z_out: 0,
            kind: OpKind::Dense {
                input: 4,
                z_x: -2,
                lo: -128,
                hi: 127,
                rows: extreme_rows,
            },
        },
    ];
    let model = Model {
        input: Shape::new(3, 3, 2),
        input_zero: -3,
        ops,
        meta: ModelMeta {
            name: "one-step-edges".into(),
            input_scale: 1.0,
            output_scale: 1.0,
            labels: Vec::new(),
        },
    };
    model.validate().unwrap();
    model
}

/// Inputs for the hand-made model: the two extremes and values near its zero point (small sums, so
/// the half-rounding ops land on ties instead of clamping).
fn edge_inputs(rng: &mut impl Rng, model: &Model) -> Vec<Vec<i8>> {
    let len = model.input.len();
    let z = model.input_zero;
    let mut inputs = vec![vec![i8::MIN; len], vec![i8::MAX; len]];
    inputs.extend((0..8).map(|_| (0..len).map(|_| z + rng.random_range(-6..=6)).collect()));
    inputs.push(random_input(rng, model));
    inputs
}

/// Negative ties in a run of the hand-made model: pre-shift values `v < 0` with
/// `v mod 2^s = 2^(s−1)`, where rounding half up (−2.5 → −2) and half away from zero (→ −3, as
/// gemmlowp does) differ. Counted on its first dense (op 4) and its add (op 5), plain sums of slot 4.
fn negative_ties(model: &Model, trace: &Trace) -> usize {
    let tie = |v: i64, s: u8| v < 0 && v.rem_euclid(1 << s) == 1 << (s - 1);
    let slots = trace.slots();
    let mut ties = 0;
    if let OpKind::Dense { z_x, rows, .. } = &model.ops[4].kind {
        for row in rows {
            let acc = row
                .weights
                .iter()
                .zip(&slots[4])
                .fold(i64::from(row.bias), |acc, (&w, &x)| {
                    acc + (i64::from(x) - i64::from(*z_x)) * i64::from(w)
                });
            ties += usize::from(tie(
                acc * i64::from(row.requant.multiplier),
                row.requant.shift,
            ));
        }
    }
    if let OpKind::Add { a, b, shift, .. } = &model.ops[5].kind {
        let term =
            |o: &Operand, v: i8| (i64::from(v) - i64::from(o.zero)) * i64::from(o.multiplier);
        for (&va, &vb) in slots[usize::from(a.slot)]
            .iter()
            .zip(&slots[usize::from(b.slot)])
        {
            ties += usize::from(tie(term(a, va) + term(b, vb), *shift));
        }
    }
    ties
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_prover_computes_the_reference_element() {
    let started = Instant::now();
    let mut rng = seeded_rng("the_prover_computes_the_reference_element");
    let (_chain, client, deployment) = setup().await;
    let mut tally = Tally::default();
    let mut problems = Vec::new();

    let edge = edge_model(&mut rng);
    let inputs = edge_inputs(&mut rng, &edge);
    for input in &inputs {
        tally.negative_ties += negative_ties(&edge, &reference::run(&edge, input).unwrap());
    }
    problems.extend(
        check_model(
            &client,
            &deployment,
            "hand-made",
            &edge,
            &inputs,
            &mut rng,
            &mut tally,
        )
        .await,
    );

    let mut drawn = 0;
    while drawn < MODELS || KINDS.iter().any(|k| tally.ops_of(k) < MIN_OPS_PER_KIND) {
        let model = random_any_model(&mut rng);
        let mut inputs: Vec<Vec<i8>> = (0..INPUTS)
            .map(|_| random_input(&mut rng, &model))
            .collect();
        // One saturated input per model: every element at the end of the range.
        let extreme = if rng.random_bool(0.5) {
            i8::MIN
        } else {
            i8::MAX
        };
        inputs.push(vec![extreme; model.input.len()]);
        let name = format!("random model {drawn} ({})", model.meta.name);
        problems.extend(
            check_model(
                &client,
                &deployment,
                &name,
                &model,
                &inputs,
                &mut rng,
                &mut tally,
            )
            .await,
        );
        drawn += 1;
        assert!(
            drawn < 10 * MODELS,
            "random models miss an op kind: {tally:?}"
        );
    }

    let checked: usize = tally.elements.values().sum();
    eprintln!(
        "one_step: {} models; ops by kind: {}; {checked} elements checked: {}; {} padded windows, \
         {} negative ties, {} problems, {:.1} s",
        tally.models,
        by_kind(&tally.ops),
        by_kind(&tally.elements),
        tally.padded_windows,
        tally.negative_ties,
        problems.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        problems.is_empty(),
        "Rust and Solidity disagree ({} cases):\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(tally.negative_ties > 0, "no negative tie was exercised");
    assert!(tally.padded_windows > 0, "no padded window was exercised");
}

/// One fault in an honest witness, and the revert it must cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    /// A bit of one row's data.
    RowByte,
    /// One hash of one row's tensor paths.
    RowPath,
    /// A bit of the dense input.
    InputByte,
    /// A bit of the weight-row leaf (header or weights).
    WeightByte,
    /// One hash of the weight row's path.
    WeightPath,
    /// An operand's tensor root replaced by another slot's.
    SlotRoot,
    /// One hash of an operand's state path.
    SlotPath,
    /// σ_{k+1} given for σ_k.
    State,
}

const FAULTS: [Fault; 8] = [
    Fault::RowByte,
    Fault::RowPath,
    Fault::InputByte,
    Fault::WeightByte,
    Fault::WeightPath,
    Fault::SlotRoot,
    Fault::SlotPath,
    Fault::State,
];

/// The revert a fault must cause, with its diagnostic parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// `RowRootMismatch(row, _, slotRoot)`.
    Row { row: usize, slot_root: B256 },
    /// `InputRootMismatch(_, slotRoot)`.
    Input { slot_root: B256 },
    /// `WeightRootMismatch(_, opRoot)`.
    Weight { op_root: B256 },
    /// `SlotRootMismatch(slot, _, stateRoot)`.
    Slot { slot: usize, state: B256 },
    /// `ElementOutOfRange(e, count)`.
    Element { e: usize, count: usize },
    /// `OpOutOfRange(_, k, opCount)`.
    Op { k: usize, count: usize },
}

impl Expect {
    fn matches(self, err: &OneStepProverErrors) -> bool {
        use OneStepProverErrors as E;
        match (self, err) {
            (Expect::Row { row, slot_root }, E::RowRootMismatch(e)) => {
                e.row == U256::from(row) && e.slotRoot == slot_root && e.computed != slot_root
            }
            (Expect::Input { slot_root }, E::InputRootMismatch(e)) => {
                e.slotRoot == slot_root && e.computed != slot_root
            }
            (Expect::Weight { op_root }, E::WeightRootMismatch(e)) => {
                e.opRoot == op_root && e.computed != op_root
            }
            (Expect::Slot { slot, state }, E::SlotRootMismatch(e)) => {
                usize::from(e.slot) == slot && e.stateRoot == state && e.computed != state
            }
            (Expect::Element { e, count }, E::ElementOutOfRange(r)) => {
                r.e == U256::from(e) && r.count == U256::from(count)
            }
            (Expect::Op { k, count }, E::OpOutOfRange(r)) => {
                r.k as usize == k && r.opCount as usize == count
            }
            _ => false,
        }
    }
}

/// Flips one random bit of `bytes`.
fn flip(rng: &mut impl Rng, bytes: &mut [u8]) {
    let i = rng.random_range(0..bytes.len());
    bytes[i] ^= 1 << rng.random_range(0..8);
}

/// The honest call `honest` with `fault` in it, and the revert expected; `None` when the witness has
/// no such part (no rows, an empty path, no weights, no input).
fn inject(
    rng: &mut impl Rng,
    fault: Fault,
    model: &Model,
    party: &Party,
    honest: &Call,
) -> Option<(Call, Expect)> {
    let op = &model.ops[honest.k];
    let operands = op.kind.inputs();
    let mut call = honest.clone();
    let w = &mut call.witness;
    // The operand a witness row belongs to: Add's rows are a's pixel, then b's.
    let row_operand = |row: usize| if operands.len() == 2 { row } else { 0 };
    let expect = match fault {
        Fault::RowByte | Fault::RowPath => {
            if w.rows.is_empty() {
                return None;
            }
            let row = rng.random_range(0..w.rows.len());
            let proof = &mut w.rows[row];
            if fault == Fault::RowByte {
                flip(rng, &mut proof.data);
            } else {
                if proof.path.is_empty() {
                    return None;
                }
                let i = rng.random_range(0..proof.path.len());
                flip(rng, &mut proof.path[i].0);
            }
            Expect::Row {
                row,
                slot_root: w.slots[row_operand(row)].root,
            }
        }
        Fault::InputByte => {
            if w.input.is_empty() {
                return None;
            }
            flip(rng, &mut w.input);
            Expect::Input {
                slot_root: w.slots[0].root,
            }
        }
        Fault::WeightByte | Fault::WeightPath => {
            if w.weights.is_empty() {
                return None;
            }
            if fault == Fault::WeightByte {
                flip(rng, &mut w.weights);
            } else {
                let i = rng.random_range(0..w.weight_path.len());
                flip(rng, &mut w.weight_path[i].0);
            }
            Expect::Weight {
                op_root: op_root(op),
            }
        }
        Fault::SlotRoot | Fault::SlotPath => {
            let operand = rng.random_range(0..w.slots.len());
            let proof = &mut w.slots[operand];
            if fault == Fault::SlotRoot {
                // Another slot's root (a row proven against the wrong tensor), else a corrupted one.
                let others: Vec<B256> = party
                    .slot_roots()
                    .iter()
                    .copied()
                    .filter(|r| *r != proof.root)
                    .collect();
                proof.root = if others.is_empty() {
                    let mut r = proof.root;
                    flip(rng, &mut r.0);
                    r
                } else {
                    others[rng.random_range(0..others.len())]
                };
            } else {
                let i = rng.random_range(0..proof.path.len());
                flip(rng, &mut proof.path[i].0);
            }
            Expect::Slot {
                slot: operands[operand],
                state: call.sigma,
            }
        }
        Fault::State => {
            // Any other root: the left half of the final state's tree.
            call.sigma = party.state_node(Position { depth: 1, index: 0 }).unwrap();
            Expect::Slot {
                slot: operands[0],
                state: call.sigma,
            }
        }
    };
    Some((call, expect))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulty_witness_reverts_with_a_typed_error() {
    let started = Instant::now();
    let mut rng = seeded_rng("a_faulty_witness_reverts_with_a_typed_error");
    let (_chain, client, deployment) = setup().await;
    let mut models = vec![edge_model(&mut rng)];
    models.extend((0..FAULTY_MODELS).map(|_| random_any_model(&mut rng)));
    let mut injected: BTreeMap<Fault, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for (m, model) in models.iter().enumerate() {
        let id = list(&client, &deployment, model).await;
        let trace = reference::run(model, &random_input(&mut rng, model)).unwrap();
        let party = Party::new(model, trace.clone()).unwrap();
        let n = model.op_count();
        let mut calls = Vec::new();
        let mut expects = Vec::new();
        for (k, op) in model.ops.iter().enumerate() {
            let e = rng.random_range(0..op.out.len());
            let honest = Call {
                k,
                e,
                sigma: party.final_state(),
                witness: party
                    .witness(model, k, e, &party.state_walk(k + 1).unwrap())
                    .unwrap(),
            };
            for fault in FAULTS {
                if let Some((call, expect)) = inject(&mut rng, fault, model, &party, &honest) {
                    if verify_step(model, k, call.sigma, e, &call.witness).is_ok() {
                        problems.push(format!(
                            "model {m}: verify_step accepts {fault:?} at op {k}"
                        ));
                    }
                    *injected.entry(fault).or_default() += 1;
                    calls.push(call);
                    expects.push(expect);
                }
            }
            // An element past the output, and an op past the model, are refused too.
            let count = op.out.len();
            calls.push(Call {
                e: count,
                ..honest.clone()
            });
            expects.push(Expect::Element { e: count, count });
            if k + 1 == n {
                calls.push(Call { k: n, ..honest });
                expects.push(Expect::Op { k: n, count: n });
            }
        }
        let results = on_chain(&client, &deployment, id, &calls).await;
        for ((call, expect), got) in calls.iter().zip(&expects).zip(results) {
            let ok = matches!(&got, Err(ChainError::Reverted(Revert::Prover(err))) if expect.matches(err));
            if !ok {
                problems.push(format!(
                    "model {m}: op {} element {}: {got:?}, expected {expect:?}",
                    call.k, call.e
                ));
            }
        }
    }
    eprintln!(
        "one_step faults: {} models, faults injected {injected:?}, {} problems, {:.1} s",
        models.len(),
        problems.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for fault in FAULTS {
        assert!(
            injected.contains_key(&fault),
            "{fault:?} was never injected"
        );
    }
}
