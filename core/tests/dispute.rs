//! The dispute game played in Rust, on fresh random models of every op kind and random inputs each run,
//! with the `moves` checks standing in for the contract: every one-step witness verifies and equals the
//! reference; any tampered witness is refused; every kind of lying worker loses to an honest
//! challenger, at the slot and element where its lie first shows; an honest worker never loses, not
//! even to challengers that pick at random. The seed is printed; replay one with `VOUCH_SEED=<seed>`.

use rand::{Rng, SeedableRng, rngs::StdRng};
use std::{collections::BTreeSet, time::Instant};
use vouch_core::{
    Address, B256, CoreError, Model, Shape, Trace,
    commit::{TENSOR_LEAF_BYTES, leaves_per_row, state_leaf, tensor_leaves, tensor_root},
    dispute::{
        Disputant, Element, Party, Position, Side, StateLeaf, StepWitness, Tree, Winner,
        check_leaf, check_node, check_opening, check_slot, decide_element, decide_state_leaf,
        element_of_leaf, state_depth, tensor_depth, verify_step,
    },
    model::{ModelMeta, Op, OpKind},
    random::{random_any_model, random_input},
    reference,
};

fn seeded_rng(test: &str) -> StdRng {
    StdRng::seed_from_u64(vouch_core::random::test_seed(test))
}

fn shapes(model: &Model) -> Vec<Shape> {
    model.slots().into_iter().map(|(s, _)| s).collect()
}

/// The reference value of element `e` of op `k` on the slots of `trace`.
fn reference_element(model: &Model, trace: &Trace, k: usize, e: usize) -> i8 {
    let view: Vec<(Shape, &[i8])> = trace
        .shapes()
        .iter()
        .zip(trace.slots())
        .map(|(&s, d)| (s, d.as_slice()))
        .collect();
    reference::element(&model.ops[k], &view, e)
}

/// `(slot, row)` of every row the witness of element `e` of op `k` must carry, in the order PROTOCOL
/// §6.5 fixes, written out independently of the library's formula.
fn expected_rows(model: &Model, k: usize, e: usize) -> Vec<(usize, usize)> {
    let op = &model.ops[k];
    let shapes = shapes(model);
    let c_out = op.out.c as usize;
    let p = e / c_out;
    let (oy, ox) = (p / op.out.w as usize, p % op.out.w as usize);
    let taps = |slot: usize, w: &vouch_core::model::Window, all: bool| {
        let x = shapes[slot];
        let mut rows = Vec::new();
        for i in 0..usize::from(w.kh) {
            for j in 0..usize::from(w.kw) {
                let iy = (oy * usize::from(w.sh) + i) as i64 - i64::from(w.pt);
                let ix = (ox * usize::from(w.sw) + j) as i64 - i64::from(w.pl);
                let inside = iy >= 0 && ix >= 0 && iy < i64::from(x.h) && ix < i64::from(x.w);
                assert!(inside || !all, "avg-pool taps lie inside the input");
                if inside {
                    rows.push((slot, iy as usize * x.w as usize + ix as usize));
                }
            }
        }
        rows
    };
    match &op.kind {
        OpKind::Dense { .. } => vec![],
        OpKind::Conv2d { input, window, .. } | OpKind::MaxPool { input, window } => {
            taps(usize::from(*input), window, false)
        }
        OpKind::AvgPool { input, window, .. } => taps(usize::from(*input), window, true),
        OpKind::Clamp { input, .. } | OpKind::Reshape { input } => {
            let s = usize::from(*input);
            vec![(s, e / shapes[s].c as usize)]
        }
        OpKind::Add { a, b, .. } => [a.slot, b.slot]
            .iter()
            .map(|&s| (usize::from(s), e / shapes[usize::from(s)].c as usize))
            .collect(),
    }
}

/// Checks a witness's layout against the protocol text: which parts it carries and their contents.
fn assert_layout(model: &Model, trace: &Trace, k: usize, e: usize, w: &StepWitness) {
    let op = &model.ops[k];
    let rows = expected_rows(model, k, e);
    assert_eq!(
        w.rows.len(),
        rows.len(),
        "op {k} ({}) e {e}",
        op.kind.name()
    );
    for (proof, &(slot, row)) in w.rows.iter().zip(&rows) {
        let c = trace.shapes()[slot].c as usize;
        let want: Vec<u8> = trace.slots()[slot][row * c..][..c]
            .iter()
            .map(|&v| v as u8)
            .collect();
        assert_eq!(proof.data, want, "op {k} e {e}: row {row} of slot {slot}");
    }
    assert_eq!(w.slots.len(), op.kind.inputs().len());
    let channel = match &op.kind {
        OpKind::Dense { .. } => Some(e),
        OpKind::Conv2d { .. } => Some(e % op.out.c as usize),
        _ => None,
    };
    match channel {
        Some(ch) => assert_eq!(w.weights, op.leaves()[1 + ch]),
        None => assert!(w.weights.is_empty() && w.weight_path.is_empty()),
    }
    if let OpKind::Dense { input, .. } = &op.kind {
        let want: Vec<u8> = trace.slots()[usize::from(*input)]
            .iter()
            .map(|&v| v as u8)
            .collect();
        assert_eq!(w.input, want);
    } else {
        assert!(w.input.is_empty());
    }
}

fn flip(rng: &mut StdRng, byte: &mut u8) {
    *byte ^= 1 << rng.random_range(0..8);
}

fn flip_hash(rng: &mut StdRng, h: &mut B256) {
    let i = rng.random_range(0..32);
    flip(rng, &mut h.0[i]);
}

/// Every single-part corruption of `w` we can name: a bit of every byte and hash, every path one
/// sibling short or long, a row or slot missing or extra, data the op does not read.
fn tampers(rng: &mut StdRng, w: &StepWitness) -> Vec<(String, StepWitness)> {
    let mut out = Vec::new();
    let mut push = |what: String, t: StepWitness| out.push((what, t));
    for s in 0..w.slots.len() {
        let mut t = w.clone();
        flip_hash(rng, &mut t.slots[s].root);
        push(format!("slot {s} root"), t);
        for p in 0..w.slots[s].path.len() {
            let mut t = w.clone();
            flip_hash(rng, &mut t.slots[s].path[p]);
            push(format!("slot {s} path {p}"), t);
        }
        let mut t = w.clone();
        t.slots[s].path.push(B256::ZERO);
        push(format!("slot {s} path long"), t);
        if !w.slots[s].path.is_empty() {
            let mut t = w.clone();
            t.slots[s].path.pop();
            push(format!("slot {s} path short"), t);
        }
    }
    for r in 0..w.rows.len() {
        for b in 0..w.rows[r].data.len() {
            let mut t = w.clone();
            flip(rng, &mut t.rows[r].data[b]);
            push(format!("row {r} byte {b}"), t);
        }
        for p in 0..w.rows[r].path.len() {
            let mut t = w.clone();
            flip_hash(rng, &mut t.rows[r].path[p]);
            push(format!("row {r} path {p}"), t);
        }
        let mut t = w.clone();
        t.rows[r].data.push(0);
        push(format!("row {r} long"), t);
        let mut t = w.clone();
        t.rows[r].path.push(B256::ZERO);
        push(format!("row {r} path long"), t);
        if r > 0 && w.rows[r] != w.rows[r - 1] {
            let mut t = w.clone();
            t.rows.swap(r, r - 1);
            push(format!("rows {r} and {} swapped", r - 1), t);
        }
    }
    for b in 0..w.input.len() {
        let mut t = w.clone();
        flip(rng, &mut t.input[b]);
        push(format!("input byte {b}"), t);
    }
    for b in 0..w.weights.len() {
        let mut t = w.clone();
        flip(rng, &mut t.weights[b]);
        push(format!("weights byte {b}"), t);
    }
    for p in 0..w.weight_path.len() {
        let mut t = w.clone();
        flip_hash(rng, &mut t.weight_path[p]);
        push(format!("weight path {p}"), t);
    }
    let mut t = w.clone();
    t.rows.pop();
    if t != *w {
        push("last row dropped".into(), t);
    }
    let mut t = w.clone();
    t.rows.push(w.rows.first().cloned().unwrap_or_default());
    push("extra row".into(), t);
    let mut t = w.clone();
    t.slots.pop();
    push("last slot dropped".into(), t);
    let mut t = w.clone();
    t.slots.push(w.slots[0].clone());
    push("extra slot".into(), t);
    let mut t = w.clone();
    t.input.push(0);
    push("input one byte long".into(), t);
    let mut t = w.clone();
    t.weights.push(0);
    push("weights one byte long".into(), t);
    let mut t = w.clone();
    t.weight_path.push(B256::ZERO);
    push("weight path long".into(), t);
    out
}

#[test]
fn every_witness_verifies_and_matches_the_reference() {
    let mut rng = seeded_rng("every_witness_verifies_and_matches_the_reference");
    let mut kinds = BTreeSet::new();
    for case in 0..25 {
        let model = random_any_model(&mut rng);
        model.validate().unwrap();
        let input = random_input(&mut rng, &model);
        let trace = reference::run(&model, &input).unwrap();
        let party = Party::new(&model, trace.clone()).unwrap();
        assert_eq!(party.final_state(), trace.commitments().final_state);
        for (k, op) in model.ops.iter().enumerate() {
            kinds.insert(op.kind.name());
            let walk = party.state_walk(k + 1).unwrap();
            for e in 0..op.out.len() {
                let w = party.witness(&model, k, e, &walk).unwrap();
                assert_layout(&model, &trace, k, e, &w);
                let got = verify_step(&model, k, party.final_state(), e, &w)
                    .unwrap_or_else(|err| panic!("case {case}, op {k}, e {e}: {err}"));
                assert_eq!(got, reference_element(&model, &trace, k, e));
                assert_eq!(got, trace.slots()[k + 1][e]);
                assert_eq!(party.element(k + 1, e).unwrap(), got);
            }
        }
    }
    eprintln!("op kinds exercised: {kinds:?}");
    assert!(kinds.len() >= 6, "too few op kinds exercised: {kinds:?}");
}

#[test]
fn tampered_witnesses_are_rejected() {
    let mut rng = seeded_rng("tampered_witnesses_are_rejected");
    let mut tried = 0usize;
    for _ in 0..12 {
        let model = random_any_model(&mut rng);
        let input = random_input(&mut rng, &model);
        let trace = reference::run(&model, &input).unwrap();
        let party = Party::new(&model, trace).unwrap();
        let sigma = party.final_state();
        for (k, op) in model.ops.iter().enumerate() {
            let walk = party.state_walk(k + 1).unwrap();
            for _ in 0..2 {
                let e = rng.random_range(0..op.out.len());
                let w = party.witness(&model, k, e, &walk).unwrap();
                verify_step(&model, k, sigma, e, &w).unwrap();
                for (what, t) in tampers(&mut rng, &w) {
                    tried += 1;
                    assert!(
                        verify_step(&model, k, sigma, e, &t).is_err(),
                        "op {k} ({}) e {e}: accepted with {what}",
                        op.kind.name()
                    );
                }
                // The right witness against a wrong state, step or element.
                let mut wrong = sigma;
                flip_hash(&mut rng, &mut wrong);
                assert!(verify_step(&model, k, wrong, e, &w).is_err());
                assert!(matches!(
                    verify_step(&model, model.op_count(), sigma, e, &w),
                    Err(CoreError::OutOfRange { what: "step", .. })
                ));
                assert!(matches!(
                    verify_step(&model, k, sigma, op.out.len(), &w),
                    Err(CoreError::OutOfRange {
                        what: "element",
                        ..
                    })
                ));
            }
        }
    }
    eprintln!("{tried} tampered witnesses refused");
}

/// What a result posts: the worker, its trace root and its output root.
#[derive(Debug, Clone, Copy)]
struct Posted {
    worker: Address,
    trace_root: B256,
    output_root: B256,
}

impl Posted {
    /// What `worker` posts when it stands by `party`.
    fn by(worker: Address, party: &Party) -> Self {
        Self {
            worker,
            trace_root: party.trace_root(worker),
            output_root: party.output_root(),
        }
    }
}

/// How the challenger chooses.
enum Chooser<'r> {
    /// By its own trace: the leftmost differing child, the first differing byte.
    Honest,
    /// At random: any side, any byte.
    Random(&'r mut StdRng),
}

/// How a game ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    /// The defender could not open its trace root (another worker's, or an output it does not hold).
    NoOpening,
    /// The defender had no answer the contract accepts: it loses on its clock.
    DefenderStuck(&'static str),
    /// The challenger had no move (no difference to name, no witness that verifies): it loses on its
    /// clock.
    ChallengerStuck(&'static str),
    /// The walk reached state leaf `j`, the input or padding, and the contract decided at once.
    StateLeaf { j: usize },
    /// The one step (or the padding rule) decided element byte `offset` of leaf `leaf` of slot `j`.
    Element {
        j: usize,
        leaf: usize,
        offset: usize,
        element: Element,
        /// The defender's byte there.
        claimed: i8,
        /// The contract's value (the verified one step, or 0 for padding).
        truth: i8,
    },
}

/// A whole game: who won, how, and the picks of each phase.
#[derive(Debug)]
struct Game {
    winner: Winner,
    end: End,
    slot_rounds: u32,
    tensor_rounds: u32,
}

/// Plays a game on the job whose input has tensor root `input_root`: `defender` stands by `posted`,
/// the challenger by its own party and `chooser`. Every reveal the defender sends is checked as the
/// contract checks it (a defender that cannot answer loses), every decision is the contract's.
fn play(
    model: &Model,
    input_root: B256,
    posted: Posted,
    defender: &Party,
    challenger: &Party,
    mut chooser: Chooser<'_>,
) -> Game {
    let n = model.op_count();
    let mut game = Game {
        winner: Winner::Challenger,
        end: End::NoOpening,
        slot_rounds: 0,
        tensor_rounds: 0,
    };
    let done = |mut game: Game, winner, end| {
        game.winner = winner;
        game.end = end;
        game
    };
    let opening = defender.opening();
    if check_opening(
        n,
        posted.worker,
        posted.trace_root,
        posted.output_root,
        &opening,
    )
    .is_err()
    {
        return done(game, Winner::Challenger, End::NoOpening);
    }
    let final_state = opening.final_state;

    // Phase Slots: down σ_n to one leaf.
    let mut walk = Vec::new();
    let (mut node, mut pos) = (final_state, Position::ROOT);
    while pos.depth < state_depth(n) {
        let Ok((l, r)) = defender.state_children(&node) else {
            return done(game, Winner::Challenger, End::DefenderStuck("state node"));
        };
        check_node(Tree::State, node, l, r).expect("the contract takes the reveal");
        walk.push((l, r));
        let side = match &mut chooser {
            Chooser::Honest => match challenger.pick_state(pos, l, r) {
                Ok(side) => side,
                Err(CoreError::NoDifference(_)) => {
                    return done(game, Winner::Defender, End::ChallengerStuck("state pick"));
                }
                Err(e) => panic!("{e}"),
            },
            Chooser::Random(rng) => random_side(rng),
        };
        (node, pos) = match side {
            Side::Left => (l, pos.child(side)),
            Side::Right => (r, pos.child(side)),
        };
        game.slot_rounds += 1;
    }
    let j = pos.index;
    let k = match decide_state_leaf(n, j, node, input_root).unwrap() {
        StateLeaf::Decided(winner) => return done(game, winner, End::StateLeaf { j }),
        StateLeaf::Op(k) => k,
    };
    assert_eq!(k + 1, j);
    let Ok(tensor) = defender.slot_root(&node) else {
        return done(game, Winner::Challenger, End::DefenderStuck("slot root"));
    };
    check_slot(node, tensor).expect("the contract takes the reveal");

    // Phase Tensor: down slot j's tensor to one leaf.
    let shape = model.ops[k].out;
    let depth = tensor_depth(shape);
    let (mut node, mut pos) = (tensor, Position::ROOT);
    while pos.depth < depth {
        let Ok((l, r)) = defender.tensor_children(j, &node) else {
            return done(game, Winner::Challenger, End::DefenderStuck("tensor node"));
        };
        check_node(Tree::Tensor, node, l, r).expect("the contract takes the reveal");
        let side = match &mut chooser {
            Chooser::Honest => match challenger.pick_tensor(j, pos, l, r) {
                Ok(side) => side,
                Err(CoreError::NoDifference(_)) => {
                    return done(game, Winner::Defender, End::ChallengerStuck("tensor pick"));
                }
                Err(e) => panic!("{e}"),
            },
            Chooser::Random(rng) => random_side(rng),
        };
        (node, pos) = match side {
            Side::Left => (l, pos.child(side)),
            Side::Right => (r, pos.child(side)),
        };
        game.tensor_rounds += 1;
    }
    let Ok(bytes) = defender.tensor_leaf(j, &node) else {
        return done(game, Winner::Challenger, End::DefenderStuck("tensor leaf"));
    };
    check_leaf(node, &bytes).expect("the contract takes the reveal");
    let offset = match &mut chooser {
        Chooser::Honest => match challenger.differing_offset(j, pos.index, &bytes) {
            Ok(o) => o,
            Err(CoreError::NoDifference(_)) => {
                return done(game, Winner::Defender, End::ChallengerStuck("leaf byte"));
            }
            Err(e) => panic!("{e}"),
        },
        Chooser::Random(rng) => rng.random_range(0..TENSOR_LEAF_BYTES),
    };

    // Phase Step: the element, against the defender's σ_n.
    let element = element_of_leaf(shape, pos.index, offset).unwrap();
    let truth = match element {
        Element::Padding => 0,
        Element::Index(e) => {
            let step = challenger
                .witness(model, k, e, &walk)
                .and_then(|w| verify_step(model, k, final_state, e, &w));
            match step {
                Ok(value) => value,
                Err(_) => return done(game, Winner::Defender, End::ChallengerStuck("step")),
            }
        }
    };
    let claimed = bytes[offset] as i8;
    let end = End::Element {
        j,
        leaf: pos.index,
        offset,
        element,
        claimed,
        truth,
    };
    done(game, decide_element(claimed, truth), end)
}

fn random_side(rng: &mut StdRng) -> Side {
    if rng.random_bool(0.5) {
        Side::Left
    } else {
        Side::Right
    }
}

/// A game that reached a leaf took exactly `D_s` picks, and one that reached an element also `D_t`.
fn assert_rounds(model: &Model, game: &Game) {
    let n = model.op_count();
    match game.end {
        End::StateLeaf { .. } => assert_eq!(game.slot_rounds, state_depth(n), "{game:?}"),
        End::Element { j, .. } => {
            assert_eq!(game.slot_rounds, state_depth(n), "{game:?}");
            let shape = model.ops[j - 1].out;
            assert_eq!(game.tensor_rounds, tensor_depth(shape), "{game:?}");
        }
        _ => {}
    }
}

/// Two workers: the honest one and whoever copies or lies.
const WORKER: Address = Address::repeat_byte(0xa1);
const OTHER: Address = Address::repeat_byte(0xb2);

/// A fresh random model, input and honest run.
fn job(rng: &mut StdRng) -> (Model, Vec<i8>, Trace) {
    let model = random_any_model(rng);
    let input = random_input(rng, &model);
    let honest = reference::run(&model, &input).unwrap();
    (model, input, honest)
}

fn input_root(model: &Model, input: &[i8]) -> B256 {
    tensor_root(input, model.input.c as usize)
}

/// The honest trace with `count` elements of slot `slot` changed, and, if `recompute`, every later
/// slot re-run from the changed one (a liar that is consistent after its lie).
fn lie(
    rng: &mut StdRng,
    model: &Model,
    honest: &Trace,
    slot: usize,
    count: usize,
    recompute: bool,
) -> Trace {
    let mut slots = honest.slots().to_vec();
    // Changes can cancel out on one element: change until the slot differs.
    while slots[slot] == honest.slots()[slot] {
        for _ in 0..count {
            let e = rng.random_range(0..slots[slot].len());
            slots[slot][e] = slots[slot][e].wrapping_add(rng.random_range(1..=255u8) as i8);
        }
    }
    if recompute {
        let shapes = shapes(model);
        for k in slot..model.op_count() {
            slots[k + 1] = reference::step(&shapes, &model.ops[k], &slots[..=k]);
        }
    }
    honest.with_slots(slots)
}

/// The honest challenger against a worker that stands by `liar` and posts it honestly bound to itself.
/// The challenger sees a trace root that is not its own, challenges, and wins.
fn liar_game(model: &Model, input: &[i8], honest: &Trace, liar: &Party) -> Game {
    let challenger = Party::new(model, honest.clone()).unwrap();
    let posted = Posted::by(WORKER, liar);
    assert_ne!(
        posted.trace_root,
        challenger.trace_root(WORKER),
        "the challenger sees nothing to dispute"
    );
    let game = play(
        model,
        input_root(model, input),
        posted,
        liar,
        &challenger,
        Chooser::Honest,
    );
    assert_rounds(model, &game);
    assert_eq!(game.winner, Winner::Challenger, "{game:?}");
    game
}

/// The liar's trace differs from the honest one first at `(slot, e)`: the game ends on exactly that
/// element (or at leaf 0 when the input slot differs), and the step's truth is the honest value.
fn assert_caught_at_first_difference(
    model: &Model,
    input: &[i8],
    honest: &Trace,
    liar: &Trace,
    what: &str,
) {
    let (slot, e) = honest
        .first_difference(liar)
        .expect("the lie changes something");
    let defender = Party::new(model, liar.clone()).unwrap();
    let game = liar_game(model, input, honest, &defender);
    if slot == 0 {
        assert_eq!(game.end, End::StateLeaf { j: 0 }, "{what}");
        return;
    }
    let End::Element {
        j,
        element,
        claimed,
        truth,
        ..
    } = game.end
    else {
        panic!("{what}: {game:?}");
    };
    assert_eq!((j, element), (slot, Element::Index(e)), "{what}");
    assert_eq!(truth, honest.slots()[slot][e], "{what}");
    assert_eq!(
        truth,
        reference_element(model, honest, slot - 1, e),
        "{what}"
    );
    assert_eq!(claimed, liar.slots()[slot][e], "{what}");
    assert_ne!(claimed, truth, "{what}");
}

#[test]
fn a_wrong_tensor_at_any_slot_loses_where_it_first_differs() {
    let mut rng = seeded_rng("a_wrong_tensor_at_any_slot_loses_where_it_first_differs");
    for case in 0..60 {
        let (model, input, honest) = job(&mut rng);
        let n = model.op_count();
        let slot = rng.random_range(1..=n);
        let count = rng.random_range(1..=3);
        let recompute = rng.random_bool(0.5);
        let liar = lie(&mut rng, &model, &honest, slot, count, recompute);
        let what = format!("case {case}: {n} ops, lie at slot {slot}, recompute {recompute}");
        assert_caught_at_first_difference(&model, &input, &honest, &liar, &what);
    }
}

#[test]
fn a_wrong_middle_slot_with_the_right_later_slots_and_output_loses() {
    let mut rng = seeded_rng("a_wrong_middle_slot_with_the_right_later_slots_and_output_loses");
    let mut cases = 0;
    while cases < 30 {
        let (model, input, honest) = job(&mut rng);
        let n = model.op_count();
        if n < 2 {
            continue;
        }
        cases += 1;
        let slot = rng.random_range(1..n);
        let liar = lie(&mut rng, &model, &honest, slot, 1, false);
        assert_eq!(liar.slots()[slot + 1..], honest.slots()[slot + 1..]);
        assert_eq!(
            liar.commitments().output_root,
            honest.commitments().output_root
        );
        let what = format!("{n} ops, lie at slot {slot} only");
        assert_caught_at_first_difference(&model, &input, &honest, &liar, &what);
    }
}

#[test]
fn a_wrong_output_loses_at_the_last_slot() {
    let mut rng = seeded_rng("a_wrong_output_loses_at_the_last_slot");
    for case in 0..10 {
        let (model, input, honest) = job(&mut rng);
        let n = model.op_count();
        let liar = lie(&mut rng, &model, &honest, n, 1, false);
        assert_ne!(
            liar.commitments().output_root,
            honest.commitments().output_root
        );
        assert_caught_at_first_difference(&model, &input, &honest, &liar, &format!("case {case}"));
    }
}

#[test]
fn an_output_root_the_trace_does_not_hold_cannot_be_opened() {
    // The worker posts the honest trace root and another output: the opening's output path fails.
    let mut rng = seeded_rng("an_output_root_the_trace_does_not_hold_cannot_be_opened");
    for _ in 0..5 {
        let (model, input, honest) = job(&mut rng);
        let defender = Party::new(&model, honest.clone()).unwrap();
        let mut output = honest.output().to_vec();
        output[0] = output[0].wrapping_add(1);
        let posted = Posted {
            output_root: tensor_root(&output, model.output().c as usize),
            ..Posted::by(WORKER, &defender)
        };
        let challenger = Party::new(&model, honest.clone()).unwrap();
        assert_ne!(posted.output_root, challenger.output_root());
        let root = input_root(&model, &input);
        let game = play(
            &model,
            root,
            posted,
            &defender,
            &challenger,
            Chooser::Honest,
        );
        assert_eq!(
            (game.winner, game.end),
            (Winner::Challenger, End::NoOpening)
        );
    }
}

#[test]
fn a_wrong_input_slot_loses_at_leaf_zero() {
    // Slot 0 alone changed, or the whole run on another input: either way the walk's leftmost
    // difference is the input leaf, which the contract compares with the job's input root.
    let mut rng = seeded_rng("a_wrong_input_slot_loses_at_leaf_zero");
    for case in 0..20 {
        let (model, input, honest) = job(&mut rng);
        let recompute = rng.random_bool(0.5);
        let liar = lie(&mut rng, &model, &honest, 0, 1, recompute);
        let what = format!("case {case}: recompute {recompute}");
        assert_caught_at_first_difference(&model, &input, &honest, &liar, &what);
    }
}

#[test]
fn junk_in_a_padding_slot_loses_at_that_leaf() {
    let mut rng = seeded_rng("junk_in_a_padding_slot_loses_at_that_leaf");
    let mut cases = 0;
    while cases < 20 {
        let (model, input, honest) = job(&mut rng);
        let n = model.op_count();
        if (n + 1).is_power_of_two() {
            continue;
        }
        cases += 1;
        let j = rng.random_range(n + 1..1 << state_depth(n));
        let junk = B256::from(rng.random::<[u8; 32]>());
        let junk = if rng.random_bool(0.5) {
            state_leaf(&junk)
        } else {
            junk
        };
        // Everything else is honest: the output and every slot.
        let liar = Party::new(&model, honest.clone())
            .unwrap()
            .with_state_leaf(j, junk)
            .unwrap();
        assert_eq!(
            liar.slot_roots(),
            honest.commitments().slot_roots.as_slice()
        );
        let game = liar_game(&model, &input, &honest, &liar);
        assert_eq!(game.end, End::StateLeaf { j }, "{n} ops, junk at leaf {j}");
    }
}

#[test]
fn a_slot_leaf_the_worker_cannot_open_loses() {
    // A state leaf of an op's slot replaced by a hash whose preimage the worker does not hold.
    let mut rng = seeded_rng("a_slot_leaf_the_worker_cannot_open_loses");
    for _ in 0..10 {
        let (model, input, honest) = job(&mut rng);
        let n = model.op_count();
        let j = rng.random_range(1..=n);
        let junk = B256::from(rng.random::<[u8; 32]>());
        let liar = Party::new(&model, honest.clone())
            .unwrap()
            .with_state_leaf(j, junk)
            .unwrap();
        let game = liar_game(&model, &input, &honest, &liar);
        // The output slot's leaf replaced: the posted output root no longer opens either.
        let expected = if j == n {
            End::NoOpening
        } else {
            End::DefenderStuck("slot root")
        };
        assert_eq!(game.end, expected, "leaf {j} of {n}");
    }
}

#[test]
fn a_copied_trace_root_cannot_be_opened_by_its_copier() {
    // Another worker copies the honest result (output and trace root) and posts it as its own. It
    // holds the honest trace too, but the root is bound to the worker that computed it.
    let mut rng = seeded_rng("a_copied_trace_root_cannot_be_opened_by_its_copier");
    for _ in 0..5 {
        let (model, input, honest) = job(&mut rng);
        let copier = Party::new(&model, honest.clone()).unwrap();
        let posted = Posted {
            worker: OTHER,
            ..Posted::by(WORKER, &copier)
        };
        let challenger = Party::new(&model, honest.clone()).unwrap();
        // The honest challenger sees a trace root that is not the copier's own and challenges.
        assert_ne!(challenger.trace_root(posted.worker), posted.trace_root);
        let root = input_root(&model, &input);
        let game = play(&model, root, posted, &copier, &challenger, Chooser::Honest);
        assert_eq!(
            (game.winner, game.end),
            (Winner::Challenger, End::NoOpening)
        );
        // The worker that computed it opens it and wins.
        let posted = Posted::by(WORKER, &copier);
        let game = play(&model, root, posted, &copier, &challenger, Chooser::Honest);
        assert_eq!(game.winner, Winner::Defender, "{game:?}");
    }
}

#[test]
fn nonzero_tensor_padding_is_caught() {
    let mut rng = seeded_rng("nonzero_tensor_padding_is_caught");
    let (mut padding_leaves, mut padding_channels) = (0, 0);
    while padding_leaves < 10 || padding_channels < 10 {
        let (model, input, honest) = job(&mut rng);
        let n = model.op_count();
        let slot = rng.random_range(1..=n);
        let shape = honest.shapes()[slot];
        let c = shape.c as usize;
        let lpr = leaves_per_row(c);
        let real = shape.rows() * lpr;
        let mut leaves: Vec<Vec<[u8; TENSOR_LEAF_BYTES]>> = honest
            .slots()
            .iter()
            .zip(honest.shapes())
            .map(|(d, s)| tensor_leaves(d, s.c as usize))
            .collect();
        let nonzero = rng.random_range(1..=255u8);
        let (leaf, offset) = if rng.random_bool(0.5) && real < real.next_power_of_two() {
            // A byte in a padding leaf past the last row.
            padding_leaves += 1;
            let leaf = rng.random_range(real..real.next_power_of_two());
            leaves[slot].resize(leaf + 1, [0; TENSOR_LEAF_BYTES]);
            (leaf, rng.random_range(0..TENSOR_LEAF_BYTES))
        } else if !c.is_multiple_of(TENSOR_LEAF_BYTES) {
            // A byte past the row's C channels in its last leaf.
            padding_channels += 1;
            let row = rng.random_range(0..shape.rows());
            let offset = rng.random_range(c % TENSOR_LEAF_BYTES..TENSOR_LEAF_BYTES);
            (row * lpr + lpr - 1, offset)
        } else {
            continue;
        };
        leaves[slot][leaf][offset] = nonzero;
        let defender = Party::from_leaves(&model, leaves).unwrap();
        // Its elements are the honest ones: only the commitment lies.
        for (s, data) in honest.slots().iter().enumerate() {
            for (e, &v) in data.iter().enumerate() {
                assert_eq!(defender.element(s, e).unwrap(), v);
            }
        }
        let game = liar_game(&model, &input, &honest, &defender);
        assert_eq!(
            game.end,
            End::Element {
                j: slot,
                leaf,
                offset,
                element: Element::Padding,
                claimed: nonzero as i8,
                truth: 0,
            }
        );
    }
}

#[test]
fn an_honest_defender_beats_a_challenger_that_follows_a_wrong_trace() {
    let mut rng = seeded_rng("an_honest_defender_beats_a_challenger_that_follows_a_wrong_trace");
    for case in 0..40 {
        let (model, input, honest) = job(&mut rng);
        let n = model.op_count();
        let slot = rng.random_range(0..=n);
        let recompute = rng.random_bool(0.5);
        let wrong = lie(&mut rng, &model, &honest, slot, 2, recompute);
        let (slot, e) = honest.first_difference(&wrong).unwrap();
        let defender = Party::new(&model, honest.clone()).unwrap();
        let challenger = Party::new(&model, wrong.clone()).unwrap();
        let root = input_root(&model, &input);
        let posted = Posted::by(WORKER, &defender);
        let game = play(
            &model,
            root,
            posted,
            &defender,
            &challenger,
            Chooser::Honest,
        );
        assert_rounds(&model, &game);
        assert_eq!(game.winner, Winner::Defender, "case {case}: {game:?}");
        // It disputes its own first difference, and the contract proves the defender right there.
        if slot == 0 {
            assert_eq!(game.end, End::StateLeaf { j: 0 }, "case {case}");
            continue;
        }
        let End::Element {
            j,
            element,
            claimed,
            truth,
            ..
        } = game.end
        else {
            panic!("case {case}: {game:?}");
        };
        assert_eq!((j, element), (slot, Element::Index(e)), "case {case}");
        assert_eq!(claimed, truth, "case {case}");
        assert_eq!(truth, honest.slots()[slot][e], "case {case}");
    }
}

#[test]
fn an_honest_defender_never_loses_to_random_picks() {
    let mut rng = seeded_rng("an_honest_defender_never_loses_to_random_picks");
    let mut ends = BTreeSet::new();
    for case in 0..150 {
        let (model, input, honest) = job(&mut rng);
        let n = model.op_count();
        // The challenger's own trace: the honest one, or a wrong one anywhere.
        let own = if rng.random_bool(0.3) {
            honest.clone()
        } else {
            let slot = rng.random_range(0..=n);
            let recompute = rng.random_bool(0.5);
            lie(&mut rng, &model, &honest, slot, 2, recompute)
        };
        let defender = Party::new(&model, honest.clone()).unwrap();
        let challenger = Party::new(&model, own).unwrap();
        let root = input_root(&model, &input);
        let posted = Posted::by(WORKER, &defender);
        let chooser = Chooser::Random(&mut rng);
        let game = play(&model, root, posted, &defender, &challenger, chooser);
        assert_rounds(&model, &game);
        assert_eq!(game.winner, Winner::Defender, "case {case}: {game:?}");
        ends.insert(match game.end {
            End::StateLeaf { .. } => "state leaf",
            End::Element {
                element: Element::Padding,
                ..
            } => "padding element",
            End::Element { .. } => "stepped element",
            End::ChallengerStuck(what) => what,
            other => panic!("case {case}: {other:?}"),
        });
    }
    eprintln!("games ended at: {ends:?}");
    assert!(ends.contains("stepped element") && ends.contains("state leaf"));
}

/// `count` clamps in a chain over `[1, 1, 32]` (not validated: more ops than a listed model may have).
fn clamp_chain(count: usize) -> Model {
    let ops = (0..count)
        .map(|k| Op {
            out: Shape::vector(32),
            z_out: 0,
            kind: OpKind::Clamp {
                input: k as u16,
                lo: -128,
                hi: 127,
            },
        })
        .collect();
    Model {
        input: Shape::vector(32),
        input_zero: 0,
        ops,
        meta: ModelMeta {
            name: "clamp chain".into(),
            input_scale: 1.0,
            output_scale: 1.0,
            labels: Vec::new(),
        },
    }
}

#[test]
fn a_party_is_built_in_linear_time() {
    // Party::new at n = 4096 and n = 65,536 ops (random data, 32 bytes a slot), and a defender's
    // deepest state reveal by hash. Linear: 16× the ops must cost far less than 16² = 256× the time.
    let mut rng = seeded_rng("a_party_is_built_in_linear_time");
    let mut times = Vec::new();
    for n in [4096usize, 65_536] {
        let model = clamp_chain(n);
        let slots = (0..=n)
            .map(|_| (0..32).map(|_| rng.random()).collect())
            .collect();
        let trace = Trace::new(shapes(&model), slots);
        let start = Instant::now();
        let party = Party::new(&model, trace).unwrap();
        let built = start.elapsed();
        let depth = party.state_depth();
        let deepest = Position {
            depth: depth - 1,
            index: n >> 1,
        };
        let node = party.state_node(deepest).unwrap();
        let start = Instant::now();
        let children = party.state_children(&node).unwrap();
        let answered = start.elapsed();
        assert_eq!(children, party.state_walk(n).unwrap()[depth as usize - 1]);
        eprintln!("Party::new at n = {n}: {built:?}; deepest state reveal by hash: {answered:?}");
        times.push(built.as_secs_f64());
    }
    assert!(
        times[1] < 64.0 * times[0],
        "16× the ops took {:.1}× the time",
        times[1] / times[0]
    );
}
