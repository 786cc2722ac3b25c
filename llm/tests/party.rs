//! Disputes over language-model traces on small random models (PROTOCOL.md §6, docs/LLM_INT.md §9):
//! an honest challenger's [`LmParty`] against a lying worker's, the game played in Rust exactly as
//! the contract plays it (every reveal checked against its commitment, the state leaf decided, the
//! element named at an aligned offset, the step verified against the defender's σ_n), for every kind
//! of liar: a wrong element deep in a later token's attention or anywhere else, a forced token with
//! the generation continued from it, a wrong output row, junk state leaves, a wrong prompt, junk in a
//! slot's padding. And honest against honest: nothing to dispute anywhere.
//!
//! Every random choice comes from a printed seed; replay a failure with `VOUCH_SEED=<seed>`.

use alloy_primitives::{Address, B256};
use candle_core::quantized::GgmlDType;
use rand::{Rng, SeedableRng, rngs::StdRng};
use vouch_core::{
    commit::{TENSOR_LEAF_BYTES, state_leaf},
    dispute::{
        Disputant, Element, Position, Side, StateLeaf, Tree, Winner, check_leaf, check_node,
        check_opening, check_slot, decide_state_leaf, state_depth,
    },
    error::CoreError,
};
use vouch_llm::{
    IntModel,
    random::{self, Dims, IM_END, VOCAB},
    trace::{
        Job, LmParty, LmTrace, ModelCommitment, Stop, generate, generate_forcing,
        program::{BlockOp, Dtype, Op, SlotShape},
        slot_root, verify,
    },
};

fn rng(test: &str) -> StdRng {
    StdRng::seed_from_u64(vouch_core::random::test_seed(test))
}

/// A random model: 1–3 blocks, 1–2 kv heads, a group of 1–3, head width 32 or 64.
fn model(rng: &mut StdRng) -> IntModel {
    let kv_heads = rng.random_range(1..=2);
    let heads = kv_heads * rng.random_range(1..=3);
    let head_dim = [32, 64][rng.random_range(0..2)];
    let dims = Dims {
        hidden: heads * head_dim,
        heads,
        kv_heads,
        ffn: 32 * rng.random_range(1..=4),
        blocks: rng.random_range(1..=3),
        context: 64,
    };
    let kinds = [
        GgmlDType::Q4_0,
        GgmlDType::Q4_1,
        GgmlDType::Q8_0,
        GgmlDType::F16,
    ];
    let kind = kinds[rng.random_range(0..kinds.len())];
    eprintln!("model {dims:?} {kind:?}");
    random::model(rng, dims, kind).unwrap()
}

/// A job of 2–5 prompt tokens and 2–5 new ones.
fn job(rng: &mut StdRng) -> Job {
    let prompt = rng.random_range(2..=5);
    Job {
        prompt: random::ids(rng, prompt),
        max_new: rng.random_range(2..=5),
    }
}

/// The honest trace of `job` of the claimed length `g` (what a challenger builds).
fn honest(model: &IntModel, job: &Job, g: usize) -> LmParty {
    LmParty::new(generate(model, job, Stop::Length(g), |_| ()).unwrap())
}

/// Slot `op` of pass `p`.
fn slot(trace: &LmTrace, p: usize, op: Op) -> usize {
    trace.layout.slot(p, trace.program.index(op))
}

/// A liar's trace: `trace` with element `e` of slot `s` changed (low bit flipped) and every root
/// recomputed, the later slots left honest. Returns the lie's value too.
fn lie(mut trace: LmTrace, s: usize, e: usize) -> (LmParty, i64) {
    let lie = trace.value(s, e) ^ 1;
    trace.tamper(s, e, lie).unwrap();
    trace.recommit();
    (LmParty::new(trace), lie)
}

/// How a game ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The defender's opening does not check (slot `n` of its σ_n is not its posted output): it
    /// loses on its clock.
    NoOpening,
    /// The walk reached the input or a padding slot and the contract decided.
    Decided { slot: usize, winner: Winner },
    /// The walk reached an op's slot whose root the defender cannot reveal: it loses on its clock.
    Unopened { slot: usize },
    /// The step: the element named, the defender's claimed value and the true one.
    Step {
        slot: usize,
        element: Element,
        claimed: i64,
        truth: i64,
    },
}

impl Outcome {
    fn winner(self) -> Winner {
        match self {
            Outcome::Decided { winner, .. } => winner,
            Outcome::NoOpening | Outcome::Unopened { .. } => Winner::Challenger,
            Outcome::Step { claimed, truth, .. } if claimed == truth => Winner::Defender,
            Outcome::Step { .. } => Winner::Challenger,
        }
    }
}

/// The root of a job's input row, as the contract computes it from the job: `[max_new, ids…]` as
/// big-endian int32.
fn input_root(job: &Job) -> B256 {
    let bytes: Vec<u8> = job.input().iter().flat_map(|v| v.to_be_bytes()).collect();
    let shape = SlotShape {
        rows: 1,
        cols: 1 + job.prompt.len(),
        dtype: Dtype::I32,
    };
    slot_root(&bytes, shape)
}

/// One game of `defender` (the worker, its result posted) against `challenger` on `job`, as the
/// contract plays it: each reveal from the defender's party checked as the contract checks it, each
/// choice from the challenger's, the step verified against the defender's σ_n.
fn dispute(
    model: &IntModel,
    commitment: &ModelCommitment,
    job: &Job,
    defender: &LmParty,
    challenger: &LmParty,
) -> Outcome {
    let worker = Address::repeat_byte(0x77);
    // The contract's geometry comes from the job and the posted output's length; the challenger
    // traced that length.
    let layout = defender.layout();
    assert_eq!(challenger.layout(), layout);
    let n = layout.output_slot();
    // Opening.
    let opening = defender.opening();
    let posted = (defender.trace_root(worker), defender.output_root());
    if check_opening(n, worker, posted.0, posted.1, &opening).is_err() {
        return Outcome::NoOpening;
    }
    let sigma = opening.final_state;
    assert_ne!(sigma, challenger.final_state(), "nothing to dispute");
    // Phase Slots, down to the leftmost differing slot.
    let depth = state_depth(n);
    assert_eq!(
        (challenger.state_depth(), defender.state_depth()),
        (depth, depth)
    );
    let (mut node, mut pos, mut walk) = (sigma, Position::ROOT, Vec::new());
    while pos.depth < depth {
        let (l, r) = defender.state_children(&node).unwrap();
        check_node(Tree::State, node, l, r).unwrap();
        let side = challenger.pick_state(pos, l, r).unwrap();
        walk.push((l, r));
        node = if side == Side::Left { l } else { r };
        pos = pos.child(side);
    }
    let s = pos.index;
    match decide_state_leaf(n, s, node, input_root(job)).unwrap() {
        StateLeaf::Decided(winner) => return Outcome::Decided { slot: s, winner },
        StateLeaf::Op(k) => assert_eq!(k + 1, s),
    }
    let Ok(root) = defender.slot_root(&node) else {
        return Outcome::Unopened { slot: s };
    };
    check_slot(node, root).unwrap();
    // Phase Tensor: the depth is the geometry's, which the defender's tree must have.
    let depth = challenger.tensor_depth(s).unwrap();
    assert_eq!(defender.tensor_depth(s).unwrap(), depth);
    let (mut node, mut pos) = (root, Position::ROOT);
    while pos.depth < depth {
        let (l, r) = defender.tensor_children(s, &node).unwrap();
        check_node(Tree::Tensor, node, l, r).unwrap();
        let side = challenger.pick_tensor(s, pos, l, r).unwrap();
        node = if side == Side::Left { l } else { r };
        pos = pos.child(side);
    }
    let bytes = defender.tensor_leaf(s, &node).unwrap();
    check_leaf(node, &bytes).unwrap();
    let offset = challenger.differing_offset(s, pos.index, &bytes).unwrap();
    // nameElement: an aligned offset, and the element it names.
    let width = challenger.shape(s).unwrap().dtype.width();
    assert!(offset.is_multiple_of(width));
    let element = challenger.element_of_leaf(s, pos.index, offset).unwrap();
    let claimed = challenger.decode(s, &bytes, offset).unwrap();
    // Phase Step: padding is 0, an element is proven against the defender's σ_n.
    let truth = match element {
        Element::Padding => 0,
        Element::Index(e) => {
            let witness = challenger.witness(model, s, e, &walk).unwrap();
            verify(model, commitment, layout, sigma, s, e, &witness).unwrap()
        }
    };
    Outcome::Step {
        slot: s,
        element,
        claimed,
        truth,
    }
}

#[test]
fn honest_parties_have_nothing_to_dispute() {
    let mut rng = rng("honest_parties_have_nothing_to_dispute");
    let model = model(&mut rng);
    let commitment = ModelCommitment::new(&model);
    let job = job(&mut rng);
    let worker = generate(&model, &job, Stop::Eos(IM_END), |_| ()).unwrap();
    let g = worker.output.len();
    let (defender, challenger) = (LmParty::new(worker), honest(&model, &job, g));
    assert_eq!(defender.final_state(), challenger.final_state());
    assert_eq!(defender.output_root(), challenger.output_root());
    let worker = Address::repeat_byte(1);
    assert_eq!(defender.trace_root(worker), challenger.trace_root(worker));
    // No difference at the root of the state tree, nor of any slot's tensor, nor in any leaf.
    let (l, r) = defender.state_children(&defender.final_state()).unwrap();
    assert!(matches!(
        challenger.pick_state(Position::ROOT, l, r),
        Err(CoreError::NoDifference(_))
    ));
    let n = defender.output_slot();
    for s in 0..=n {
        let root = defender.slot_roots()[s];
        if challenger.tensor_depth(s).unwrap() > 0 {
            let (l, r) = defender.tensor_children(s, &root).unwrap();
            assert!(matches!(
                challenger.pick_tensor(s, Position::ROOT, l, r),
                Err(CoreError::NoDifference(_))
            ));
        }
        let leaf = rng.random_range(0..1 << challenger.tensor_depth(s).unwrap());
        let node = defender
            .tensor_node(
                s,
                Position {
                    depth: challenger.tensor_depth(s).unwrap(),
                    index: leaf,
                },
            )
            .unwrap();
        let bytes = defender.tensor_leaf(s, &node).unwrap();
        assert!(matches!(
            challenger.differing_offset(s, leaf, &bytes),
            Err(CoreError::NoDifference(_))
        ));
    }
    // Walked to any slot by an honest defender, a challenger's witness of any element proves the
    // defender's value against the defender's σ_n.
    for _ in 0..40 {
        let s = rng.random_range(1..=n);
        let shape = challenger.shape(s).unwrap();
        let e = rng.random_range(0..shape.rows * shape.cols);
        let walk = defender.state_walk(s).unwrap();
        let w = challenger.witness(&model, s, e, &walk).unwrap();
        let value = verify(
            &model,
            &commitment,
            defender.layout(),
            defender.final_state(),
            s,
            e,
            &w,
        )
        .unwrap();
        assert_eq!(value, defender.value(s, e).unwrap());
    }
}

#[test]
fn a_lie_deep_in_the_last_tokens_attention_is_proven_wrong() {
    let mut rng = rng("a_lie_deep_in_the_last_tokens_attention_is_proven_wrong");
    for _ in 0..2 {
        let model = model(&mut rng);
        let commitment = ModelCommitment::new(&model);
        let job = job(&mut rng);
        let g = job.max_new;
        let challenger = honest(&model, &job, g);
        let trace = challenger.trace().clone();
        let (p, blocks) = (trace.layout.passes() - 1, trace.program.config.blocks);
        for op in [BlockOp::Score, BlockOp::Softmax, BlockOp::Pv, BlockOp::V] {
            let b = rng.random_range(0..blocks);
            // The value slot of the first pass: its lie changes every later value cache too.
            let pass = if op == BlockOp::V { 0 } else { p };
            let s = slot(&trace, pass, Op::Block(b, op));
            let shape = trace.shape(s);
            let e = rng.random_range(0..shape.rows * shape.cols);
            let (liar, lie) = lie(trace.clone(), s, e);
            let outcome = dispute(&model, &commitment, &job, &liar, &challenger);
            eprintln!("{op:?} of block {b}, pass {pass}, element {e}: {outcome:?}");
            assert_eq!(
                outcome,
                Outcome::Step {
                    slot: s,
                    element: Element::Index(e),
                    claimed: lie,
                    truth: trace.value(s, e),
                }
            );
            assert_eq!(outcome.winner(), Winner::Challenger);
        }
    }
}

#[test]
fn a_lie_in_any_slot_is_proven_wrong_there() {
    let mut rng = rng("a_lie_in_any_slot_is_proven_wrong_there");
    let model = model(&mut rng);
    let commitment = ModelCommitment::new(&model);
    let job = job(&mut rng);
    let challenger = honest(&model, &job, job.max_new);
    let trace = challenger.trace().clone();
    let n = trace.layout.output_slot();
    let mut ops = std::collections::BTreeSet::new();
    for _ in 0..30 {
        // Any slot an op writes but a value cache (whose elements are its value slots').
        let s = std::iter::repeat_with(|| rng.random_range(1..=n))
            .find(|&s| {
                let op = trace.layout.locate(s).map(|(_, o)| trace.program.op(o));
                !matches!(op, Some(Op::Block(_, BlockOp::Append)))
            })
            .unwrap();
        let shape = trace.shape(s);
        let e = rng.random_range(0..shape.rows * shape.cols);
        let (liar, lie) = lie(trace.clone(), s, e);
        let outcome = dispute(&model, &commitment, &job, &liar, &challenger);
        assert_eq!(
            outcome,
            Outcome::Step {
                slot: s,
                element: Element::Index(e),
                claimed: lie,
                truth: trace.value(s, e),
            },
            "{:?}",
            trace.layout.locate(s)
        );
        ops.insert(format!(
            "{:?}",
            trace.layout.locate(s).map(|(_, o)| trace.program.op(o))
        ));
    }
    eprintln!("lies found in {ops:?}");
}

#[test]
fn a_lying_challenger_loses_to_an_honest_defender() {
    let mut rng = rng("a_lying_challenger_loses_to_an_honest_defender");
    let model = model(&mut rng);
    let commitment = ModelCommitment::new(&model);
    let job = job(&mut rng);
    let worker = generate(&model, &job, Stop::Eos(IM_END), |_| ()).unwrap();
    let g = worker.output.len();
    let defender = LmParty::new(worker);
    let trace = honest(&model, &job, g).trace().clone();
    let n = trace.layout.output_slot();
    // A challenger whose own trace is wrong at one element names it, and the step proves the
    // defender's value.
    for _ in 0..4 {
        let s = std::iter::repeat_with(|| rng.random_range(1..=n))
            .find(|&s| {
                let op = trace.layout.locate(s).map(|(_, o)| trace.program.op(o));
                !matches!(op, Some(Op::Block(_, BlockOp::Append)))
            })
            .unwrap();
        let shape = trace.shape(s);
        let e = rng.random_range(0..shape.rows * shape.cols);
        let (challenger, _) = lie(trace.clone(), s, e);
        let outcome = dispute(&model, &commitment, &job, &defender, &challenger);
        let value = trace.value(s, e);
        assert_eq!(
            outcome,
            Outcome::Step {
                slot: s,
                element: Element::Index(e),
                claimed: value,
                truth: value,
            }
        );
        assert_eq!(outcome.winner(), Winner::Defender);
    }
    // One whose input or padding slot is junk walks to it and loses there.
    let junk = state_leaf(&B256::repeat_byte(3));
    let last = (1usize << defender.state_depth()) - 1;
    for j in [0, last].into_iter().filter(|&j| j == 0 || j > n) {
        let challenger = LmParty::new(trace.clone())
            .with_state_leaf(j, junk)
            .unwrap();
        let outcome = dispute(&model, &commitment, &job, &defender, &challenger);
        assert_eq!(
            outcome,
            Outcome::Decided {
                slot: j,
                winner: Winner::Defender,
            }
        );
    }
}

#[test]
fn a_forced_token_is_proven_wrong_at_its_argmax() {
    let mut rng = rng("a_forced_token_is_proven_wrong_at_its_argmax");
    let model = model(&mut rng);
    let commitment = ModelCommitment::new(&model);
    for _ in 0..3 {
        let job = job(&mut rng);
        let truth = generate(&model, &job, Stop::Eos(IM_END), |_| ()).unwrap();
        // The worker changes token i of its answer and generates on from it.
        let i = rng.random_range(0..truth.output.len());
        let forced = std::iter::repeat_with(|| rng.random_range(0..VOCAB as u32 - 2))
            .find(|&t| t != truth.output[i])
            .unwrap();
        let p = job.prompt.len() - 1 + i;
        let mut streamed = Vec::new();
        let liar = generate_forcing(&model, &job, Stop::Eos(IM_END), &[(p, forced)], |t| {
            streamed.push(t)
        })
        .unwrap();
        assert_eq!(liar.output[..i], truth.output[..i]);
        assert_eq!(liar.output[i], forced);
        assert_eq!(streamed, liar.output);
        // The lie is consistent: every root its bytes', σ_n over them.
        let recommitted = {
            let mut t = liar.clone();
            t.recommit();
            t
        };
        assert_eq!(recommitted.roots(), liar.roots());
        // The challenger traces the claimed length.
        let g = liar.output.len();
        let challenger = honest(&model, &job, g);
        let argmax = slot(&liar, p, Op::Argmax2);
        let outcome = dispute(&model, &commitment, &job, &LmParty::new(liar), &challenger);
        eprintln!("token {i} forced to {forced} ({g} claimed): {outcome:?}");
        assert_eq!(
            outcome,
            Outcome::Step {
                slot: argmax,
                element: Element::Index(0),
                claimed: i64::from(forced),
                truth: challenger.value(argmax, 0).unwrap(),
            }
        );
        assert_eq!(outcome.winner(), Winner::Challenger);
    }
    // Forcing nothing, or a pass past the run, is generating; a forced eos ends the answer there.
    let job = job(&mut rng);
    let plain = generate(&model, &job, Stop::Eos(IM_END), |_| ()).unwrap();
    let late = generate_forcing(&model, &job, Stop::Eos(IM_END), &[(1000, 1)], |_| ()).unwrap();
    let i = rng.random_range(0..plain.output.len());
    let p = job.prompt.len() - 1 + i;
    let stopped =
        generate_forcing(&model, &job, Stop::Eos(IM_END), &[(p, IM_END)], |_| ()).unwrap();
    assert_eq!(stopped.output.len(), i + 1);
    assert_eq!(stopped.output.last(), Some(&IM_END));
    assert_eq!(late.final_state(), plain.final_state());
}

#[test]
fn a_lie_in_the_output_row_only_is_proven_wrong_there() {
    let mut rng = rng("a_lie_in_the_output_row_only_is_proven_wrong_there");
    let model = model(&mut rng);
    let commitment = ModelCommitment::new(&model);
    let job = job(&mut rng);
    let challenger = honest(&model, &job, job.max_new);
    let trace = challenger.trace().clone();
    let n = trace.layout.output_slot();
    let i = rng.random_range(0..job.max_new);
    let (liar, lie) = lie(trace.clone(), n, i);
    assert_ne!(liar.output_root(), challenger.output_root());
    let outcome = dispute(&model, &commitment, &job, &liar, &challenger);
    eprintln!("output token {i}: {outcome:?}");
    assert_eq!(
        outcome,
        Outcome::Step {
            slot: n,
            element: Element::Index(i),
            claimed: lie,
            truth: i64::from(trace.output[i]),
        }
    );
}

#[test]
fn junk_state_leaves_and_a_wrong_prompt_lose_at_once() {
    let mut rng = rng("junk_state_leaves_and_a_wrong_prompt_lose_at_once");
    let model = model(&mut rng);
    let commitment = ModelCommitment::new(&model);
    let job = job(&mut rng);
    let g = job.max_new;
    let challenger = honest(&model, &job, g);
    let n = challenger.output_slot();
    let leaves = 1usize << challenger.state_depth();
    let junk = state_leaf(&B256::repeat_byte(9));
    let honest_defender = || honest(&model, &job, g);
    // Junk in the input slot.
    let liar = honest_defender().with_state_leaf(0, junk).unwrap();
    let outcome = dispute(&model, &commitment, &job, &liar, &challenger);
    assert_eq!(
        outcome,
        Outcome::Decided {
            slot: 0,
            winner: Winner::Challenger
        }
    );
    // Junk in a padding slot, when the state tree has one.
    if n + 1 < leaves {
        let j = rng.random_range(n + 1..leaves);
        let liar = honest_defender().with_state_leaf(j, junk).unwrap();
        assert_eq!(liar.output_root(), challenger.output_root());
        let outcome = dispute(&model, &commitment, &job, &liar, &challenger);
        assert_eq!(
            outcome,
            Outcome::Decided {
                slot: j,
                winner: Winner::Challenger
            }
        );
        // The zero padding leaf itself is no lie.
        let same = honest_defender()
            .with_state_leaf(j, state_leaf(&B256::ZERO))
            .unwrap();
        assert_eq!(same.final_state(), challenger.final_state());
    } else {
        eprintln!("{} slots fill the state tree: no padding slot", n + 1);
    }
    assert!(honest_defender().with_state_leaf(leaves, junk).is_err());
    // Junk in the output's slot: the defender cannot open its result.
    let liar = honest_defender().with_state_leaf(n, junk).unwrap();
    let outcome = dispute(&model, &commitment, &job, &liar, &challenger);
    assert_eq!(outcome, Outcome::NoOpening);
    // Junk in another op's slot: the defender cannot open that slot.
    let j = rng.random_range(1..n);
    let liar = honest_defender().with_state_leaf(j, junk).unwrap();
    assert!(matches!(liar.slot_root(&junk), Err(CoreError::NotOurs(_))));
    let outcome = dispute(&model, &commitment, &job, &liar, &challenger);
    assert_eq!(outcome, Outcome::Unopened { slot: j });
    // A trace of another prompt (of the same length) differs first at the input.
    let mut other = job.clone();
    let t = rng.random_range(0..other.prompt.len());
    other.prompt[t] = (other.prompt[t] + 1) % (VOCAB as u32 - 2);
    let liar = honest(&model, &other, g);
    let outcome = dispute(&model, &commitment, &job, &liar, &challenger);
    assert_eq!(
        outcome,
        Outcome::Decided {
            slot: 0,
            winner: Winner::Challenger
        }
    );
}

#[test]
fn junk_in_a_slots_padding_is_proven_against_zero() {
    let mut rng = rng("junk_in_a_slots_padding_is_proven_against_zero");
    let model = model(&mut rng);
    let commitment = ModelCommitment::new(&model);
    let job = job(&mut rng);
    let challenger = honest(&model, &job, job.max_new);
    let trace = challenger.trace().clone();
    let p = rng.random_range(0..trace.layout.passes());
    // A row's tail: ARGMAX2's one int32 fills 4 bytes of its leaf, ARGMAX1's pairs 8.
    for op in [Op::Argmax2, Op::Argmax1] {
        let s = slot(&trace, p, op);
        let shape = trace.shape(s);
        assert_ne!(shape.row_bytes() % TENSOR_LEAF_BYTES, 0);
        let mut leaves = challenger.slot_leaves(s).unwrap().to_vec();
        let lpr = shape.row_bytes().div_ceil(TENSOR_LEAF_BYTES);
        let row = rng.random_range(0..shape.rows);
        let byte = rng.random_range(shape.row_bytes() % TENSOR_LEAF_BYTES..TENSOR_LEAF_BYTES);
        leaves[row * lpr + lpr - 1][byte] = 0x80;
        let liar = LmParty::new(trace.clone())
            .with_slot_leaves(s, leaves)
            .unwrap();
        let outcome = dispute(&model, &commitment, &job, &liar, &challenger);
        eprintln!("{op:?} of pass {p}, row {row}, byte {byte}: {outcome:?}");
        let Outcome::Step {
            slot,
            element: Element::Padding,
            claimed,
            truth: 0,
        } = outcome
        else {
            panic!("{outcome:?}")
        };
        assert_eq!(slot, s);
        assert_ne!(claimed, 0);
    }
    // A leaf past the last row: HEAD's one row of 4·V bytes takes 33 leaves of a 64-leaf tree.
    let s = slot(&trace, p, Op::Head);
    let mut leaves = challenger.slot_leaves(s).unwrap().to_vec();
    assert!(!leaves.len().is_power_of_two());
    leaves.push([1; TENSOR_LEAF_BYTES]);
    let liar = LmParty::new(trace.clone())
        .with_slot_leaves(s, leaves.clone())
        .unwrap();
    let outcome = dispute(&model, &commitment, &job, &liar, &challenger);
    eprintln!("a junk leaf past HEAD's row: {outcome:?}");
    assert_eq!(
        outcome,
        Outcome::Step {
            slot: s,
            element: Element::Padding,
            claimed: 0x0101_0101,
            truth: 0,
        }
    );
    // No more leaves than the padded tree's, no fewer than the slot's.
    leaves.resize(leaves.len().next_power_of_two() + 1, [0; TENSOR_LEAF_BYTES]);
    assert!(
        LmParty::new(trace.clone())
            .with_slot_leaves(s, leaves)
            .is_err()
    );
    // Fewer leaves than the slot's are refused.
    assert!(
        LmParty::new(trace.clone())
            .with_slot_leaves(s, Vec::new())
            .is_err()
    );
}

#[test]
fn elements_are_named_by_the_contracts_geometry() {
    let mut rng = rng("elements_are_named_by_the_contracts_geometry");
    let model = model(&mut rng);
    let job = job(&mut rng);
    let party = honest(&model, &job, job.max_new);
    let trace = party.trace();
    let p = trace.layout.passes() - 1;
    for op in [
        Op::Block(0, BlockOp::Score),
        Op::Block(0, BlockOp::Softmax),
        Op::Block(0, BlockOp::Append),
        Op::Head,
        Op::Argmax1,
    ] {
        let s = slot(trace, p, op);
        let shape = party.shape(s).unwrap();
        let width = shape.dtype.width();
        let lpr = shape.row_bytes().div_ceil(TENSOR_LEAF_BYTES);
        assert_eq!(
            party.tensor_depth(s).unwrap(),
            (shape.rows * lpr).next_power_of_two().trailing_zeros()
        );
        let leaves = party.slot_leaves(s).unwrap();
        // Every element is named by exactly one (leaf, aligned offset), and decodes to its value.
        let mut named = vec![0; shape.rows * shape.cols];
        for leaf in 0..1 << party.tensor_depth(s).unwrap() {
            // Leaves past the slot's are padding, zero.
            let bytes = leaves.get(leaf).copied().unwrap_or([0; TENSOR_LEAF_BYTES]);
            for offset in (0..TENSOR_LEAF_BYTES).step_by(width) {
                let element = party.element_of_leaf(s, leaf, offset).unwrap();
                if leaf >= leaves.len() {
                    assert_eq!(element, Element::Padding);
                }
                if let Element::Index(e) = element {
                    named[e] += 1;
                    let value = party.decode(s, &bytes, offset).unwrap();
                    assert_eq!(value, party.value(s, e).unwrap(), "{op:?} element {e}");
                }
            }
        }
        assert!(named.iter().all(|&c| c == 1), "{op:?}");
        // Offsets not aligned or past the leaf, leaves past the tree: refused.
        let leaves_in_tree = 1 << party.tensor_depth(s).unwrap();
        assert!(party.element_of_leaf(s, 0, 1).is_err());
        assert!(party.element_of_leaf(s, 0, TENSOR_LEAF_BYTES).is_err());
        assert!(party.element_of_leaf(s, leaves_in_tree, 0).is_err());
        assert!(party.decode(s, &[0; TENSOR_LEAF_BYTES], 1).is_err());
        // A differing byte names the first byte of its element.
        let mut bytes = leaves[0];
        bytes[width - 1] ^= 1;
        assert_eq!(party.differing_offset(s, 0, &bytes).unwrap(), 0);
        bytes = leaves[0];
        bytes[2 * width + 1] ^= 1;
        assert_eq!(party.differing_offset(s, 0, &bytes).unwrap(), 2 * width);
        assert!(
            party
                .differing_offset(s, leaves_in_tree, &leaves[0])
                .is_err()
        );
    }
    // Probabilities are unsigned, the other types signed.
    let softmax = slot(trace, p, Op::Block(0, BlockOp::Softmax));
    let score = slot(trace, p, Op::Block(0, BlockOp::Score));
    assert_eq!(
        party
            .decode(softmax, &[0xff; TENSOR_LEAF_BYTES], 0)
            .unwrap(),
        65535
    );
    assert_eq!(
        party.decode(score, &[0xff; TENSOR_LEAF_BYTES], 0).unwrap(),
        -1
    );
    // Slots past the output and the input's witness are refused.
    let n = party.output_slot();
    assert!(party.shape(n + 1).is_err());
    assert!(party.tensor_depth(n + 1).is_err());
    let walk = party.state_walk(1).unwrap();
    assert!(
        party
            .witness(&model, 0, 0, &party.state_walk(0).unwrap())
            .is_err()
    );
    assert!(party.witness(&model, 1, 0, &walk[1..]).is_err());
    assert!(party.witness(&model, 2, 0, &walk).is_err());
    let shape = party.shape(1).unwrap();
    assert!(
        party
            .witness(&model, 1, shape.rows * shape.cols, &walk)
            .is_err()
    );
}

#[test]
fn a_party_is_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<LmParty>();
}
