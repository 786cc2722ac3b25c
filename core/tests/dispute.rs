//! The dispute game played in Rust, on fresh random models of every op kind and random inputs each run:
//! every one-step witness verifies and equals the reference; any tampered witness is refused; games
//! between an honest party and a liar end exactly where their traces first differ, with the liar
//! losing. The seed is printed; replay one with `VOUCH_SEED=<seed>`.

use rand::{Rng, SeedableRng, rngs::StdRng};
use std::collections::{BTreeMap, BTreeSet};
use vouch_core::{
    B256, CoreError, Model, Shape, Trace,
    commit::{TENSOR_LEAF_BYTES, leaves_per_row, sigma0, tensor_leaves, tensor_root},
    dispute::{
        Element, Party, Side, StepWitness, TensorPosition, TraceBisection, check_children,
        check_leaf, check_opening, check_state_reveal, check_transition, verify_step,
    },
    model::OpKind,
    random::{random_any_model, random_input},
    reference,
};

fn seeded_rng(test: &str) -> StdRng {
    let seed = std::env::var("VOUCH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random::<u64>());
    eprintln!("{test}: VOUCH_SEED={seed}");
    StdRng::seed_from_u64(seed)
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

#[test]
fn every_witness_verifies_and_matches_the_reference() {
    let mut rng = seeded_rng("every_witness_verifies_and_matches_the_reference");
    let mut kinds = BTreeSet::new();
    for case in 0..25 {
        let model = random_any_model(&mut rng);
        model.validate().unwrap();
        let input = random_input(&mut rng, &model);
        let trace = reference::run(&model, &input).unwrap();
        let party = Party::new(&model, &trace).unwrap();
        assert_eq!(party.trace_root(), trace.commitments().trace_root);
        for (k, op) in model.ops.iter().enumerate() {
            kinds.insert(op.kind.name());
            let sigma_k = party.state_roots()[k];
            for e in 0..op.out.len() {
                let w = party.witness(k, e).unwrap();
                assert_layout(&model, &trace, k, e, &w);
                let got = verify_step(&model, k, sigma_k, e, &w)
                    .unwrap_or_else(|err| panic!("case {case}, op {k}, e {e}: {err}"));
                assert_eq!(got, reference_element(&model, &trace, k, e));
                assert_eq!(got, trace.slots()[k + 1][e]);
                assert_eq!(party.element(k, e).unwrap(), got);
            }
        }
    }
    eprintln!("op kinds exercised: {kinds:?}");
    assert!(kinds.len() >= 6, "too few op kinds exercised: {kinds:?}");
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
fn tampered_witnesses_are_rejected() {
    let mut rng = seeded_rng("tampered_witnesses_are_rejected");
    let mut tried = 0usize;
    for _ in 0..12 {
        let model = random_any_model(&mut rng);
        let input = random_input(&mut rng, &model);
        let trace = reference::run(&model, &input).unwrap();
        let party = Party::new(&model, &trace).unwrap();
        for (k, op) in model.ops.iter().enumerate() {
            let sigma_k = party.state_roots()[k];
            for _ in 0..2 {
                let e = rng.random_range(0..op.out.len());
                let w = party.witness(k, e).unwrap();
                verify_step(&model, k, sigma_k, e, &w).unwrap();
                for (what, t) in tampers(&mut rng, &w) {
                    tried += 1;
                    assert!(
                        verify_step(&model, k, sigma_k, e, &t).is_err(),
                        "op {k} ({}) e {e}: accepted with {what}",
                        op.kind.name()
                    );
                }
                // The right witness against a wrong state, step or element.
                let mut wrong = sigma_k;
                flip_hash(&mut rng, &mut wrong);
                assert!(verify_step(&model, k, wrong, e, &w).is_err());
                assert!(matches!(
                    verify_step(&model, model.op_count(), sigma_k, e, &w),
                    Err(CoreError::OutOfRange { what: "step", .. })
                ));
                assert!(matches!(
                    verify_step(&model, k, sigma_k, op.out.len(), &w),
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

/// How a game ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    /// The defender could not make the phase 1→2 transition at step `k` (the contract refuses it).
    TransitionFailed { k: usize },
    /// The challenger had no move at step `k`: the defender's values were its own.
    ChallengerStuck { k: usize },
    /// Phase 3 ran on `element`, the byte at `offset` of `leaf` of slot `k + 1`.
    Stepped {
        k: usize,
        leaf: usize,
        offset: usize,
        element: Element,
        /// The defender's byte there.
        claimed: i8,
        /// The contract's value (the verified one-step, or 0 for padding).
        truth: i8,
    },
}

/// A whole game, each move checked as the contract checks it, with its round counts.
#[derive(Debug)]
struct Game {
    end: End,
    phase1_rounds: u32,
    phase2_rounds: u32,
    /// Depth of the disputed tensor's tree.
    depth: u32,
}

/// Plays a game on the job's `input`: `defender` stands by its posted trace, `challenger` disputes it.
fn play(model: &Model, input: &[i8], defender: &Party<'_>, challenger: &Party<'_>) -> Game {
    let n = model.op_count();
    let trace_root = defender.trace_root();
    let opening = defender.opening();
    check_opening(n, trace_root, defender.output_root(), &opening).unwrap();
    assert!(
        !challenger.agrees_with_state(n, opening.state.root).unwrap(),
        "nothing to dispute"
    );
    // The contract knows σ_0 (from the input) and σ_n (the opening); phase 1 reveals the rest.
    let mut roots = BTreeMap::new();
    roots.insert(0, sigma0(tensor_root(input, model.input.c as usize), n));
    roots.insert(n, opening.state.root);
    let mut bisection = TraceBisection::new(n).unwrap();
    let mut phase1_rounds = 0;
    while let Some(mid) = bisection.mid() {
        let reveal = defender.state_reveal(mid).unwrap();
        check_state_reveal(n, trace_root, &reveal).unwrap();
        roots.insert(mid, reveal.root);
        let agrees = challenger.agrees_with_state(mid, reveal.root).unwrap();
        bisection = bisection.answer(agrees).unwrap();
        phase1_rounds += 1;
    }
    assert!(bisection.answer(true).is_err());
    let k = bisection.step().unwrap();
    let sigma_k = roots[&k];
    let depth = challenger.tensor_depth(k).unwrap();
    let game = |end, phase2_rounds| Game {
        end,
        phase1_rounds,
        phase2_rounds,
        depth,
    };

    let transition = defender.transition(k).unwrap();
    if check_transition(n, sigma_k, roots[&(k + 1)], &transition).is_err() {
        return game(End::TransitionFailed { k }, 0);
    }
    let mut pos = TensorPosition::ROOT;
    let mut node = transition.tensor_root;
    let mut phase2_rounds = 0;
    while !pos.is_leaf(depth) {
        let (left, right) = defender.children(k, pos).unwrap();
        check_children(node, left, right).unwrap();
        let side = match challenger.pick(k, pos, left, right) {
            Ok(side) => side,
            Err(CoreError::NoDifference(_)) => {
                return game(End::ChallengerStuck { k }, phase2_rounds);
            }
            Err(e) => panic!("{e}"),
        };
        node = if side == Side::Left { left } else { right };
        pos = pos.child(side);
        phase2_rounds += 1;
    }
    let bytes = defender.leaf(k, pos.index).unwrap();
    check_leaf(node, &bytes).unwrap();
    let offset = match challenger.differing_offset(k, pos.index, &bytes) {
        Ok(j) => j,
        Err(CoreError::NoDifference(_)) => return game(End::ChallengerStuck { k }, phase2_rounds),
        Err(e) => panic!("{e}"),
    };
    let element = challenger.element_of_leaf(k, pos.index, offset).unwrap();
    let truth = match element {
        Element::Padding => 0,
        Element::Index(e) => {
            let witness = challenger.witness(k, e).unwrap();
            verify_step(model, k, sigma_k, e, &witness).unwrap()
        }
    };
    game(
        End::Stepped {
            k,
            leaf: pos.index,
            offset,
            element,
            claimed: bytes[offset] as i8,
            truth,
        },
        phase2_rounds,
    )
}

/// `⌊log2 n⌋ ≤ phase 1 ≤ ⌈log2 n⌉` (equal for a power of two), phase 2 is exactly `D` picks, so a game
/// takes at most `⌈log2 n⌉ + D` bisection rounds.
fn assert_rounds(n: usize, game: &Game) {
    let max1 = TraceBisection::max_rounds(n);
    assert!(game.phase1_rounds <= max1, "{game:?}");
    assert!(game.phase1_rounds >= n.ilog2(), "{game:?}");
    if n.is_power_of_two() {
        assert_eq!(game.phase1_rounds, max1);
    }
    if matches!(game.end, End::Stepped { .. }) {
        assert_eq!(game.phase2_rounds, game.depth);
    }
    assert!(game.phase1_rounds + game.phase2_rounds <= max1 + game.depth);
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

/// Plays honest challenger against a liar tampered at `slot` and checks the game ends at the first
/// difference with the liar losing.
fn assert_liar_loses(model: &Model, input: &[i8], honest: &Trace, liar: &Trace, what: &str) {
    let (slot, e) = honest
        .first_difference(liar)
        .expect("the lie changes something");
    let defender = Party::new(model, liar).unwrap();
    let challenger = Party::new(model, honest).unwrap();
    let game = play(model, input, &defender, &challenger);
    assert_rounds(model.op_count(), &game);
    let End::Stepped {
        k,
        element,
        claimed,
        truth,
        ..
    } = game.end
    else {
        panic!("{what}: {game:?}");
    };
    assert_eq!((k + 1, element), (slot, Element::Index(e)), "{what}");
    assert_eq!(truth, honest.slots()[slot][e], "{what}");
    assert_eq!(truth, reference_element(model, honest, k, e), "{what}");
    assert_eq!(claimed, liar.slots()[slot][e], "{what}");
    assert_ne!(claimed, truth, "{what}");
}

#[test]
fn games_end_where_the_traces_first_differ() {
    let mut rng = seeded_rng("games_end_where_the_traces_first_differ");
    for case in 0..60 {
        let model = random_any_model(&mut rng);
        let input = random_input(&mut rng, &model);
        let honest = reference::run(&model, &input).unwrap();
        let n = model.op_count();
        let slot = rng.random_range(1..=n);
        let count = rng.random_range(1..=3);
        let recompute = rng.random_bool(0.5);
        let liar = lie(&mut rng, &model, &honest, slot, count, recompute);
        let what = format!("case {case}: {n} ops, lie at slot {slot}, recompute {recompute}");
        assert_liar_loses(&model, &input, &honest, &liar, &what);
    }
}

#[test]
fn a_lie_only_in_the_last_slot_is_caught() {
    let mut rng = seeded_rng("a_lie_only_in_the_last_slot_is_caught");
    for case in 0..10 {
        let model = random_any_model(&mut rng);
        let input = random_input(&mut rng, &model);
        let honest = reference::run(&model, &input).unwrap();
        let n = model.op_count();
        let liar = lie(&mut rng, &model, &honest, n, 1, false);
        assert_liar_loses(&model, &input, &honest, &liar, &format!("case {case}"));
    }
}

#[test]
fn a_trace_of_another_input_fails_the_transition() {
    // The liar ran the model on another input: its σ_0 is not the contract's, so every state root
    // differs, phase 1 ends at step 0, and no path climbs from σ_0 to its σ_1.
    let mut rng = seeded_rng("a_trace_of_another_input_fails_the_transition");
    for case in 0..10 {
        let model = random_any_model(&mut rng);
        let input = random_input(&mut rng, &model);
        let honest = reference::run(&model, &input).unwrap();
        let mut other = input.clone();
        let e = rng.random_range(0..other.len());
        other[e] = other[e].wrapping_add(rng.random_range(1..=255u8) as i8);
        let liar = reference::run(&model, &other).unwrap();
        let defender = Party::new(&model, &liar).unwrap();
        let challenger = Party::new(&model, &honest).unwrap();
        let game = play(&model, &input, &defender, &challenger);
        assert_rounds(model.op_count(), &game);
        assert_eq!(game.end, End::TransitionFailed { k: 0 }, "case {case}");
    }
}

#[test]
fn nonzero_padding_is_caught() {
    let mut rng = seeded_rng("nonzero_padding_is_caught");
    let (mut padding_leaves, mut padding_channels) = (0, 0);
    while padding_leaves < 10 || padding_channels < 10 {
        let model = random_any_model(&mut rng);
        let input = random_input(&mut rng, &model);
        let honest = reference::run(&model, &input).unwrap();
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
        for k in 0..n {
            for e in 0..model.ops[k].out.len() {
                assert_eq!(defender.element(k, e).unwrap(), honest.slots()[k + 1][e]);
            }
        }
        let challenger = Party::new(&model, &honest).unwrap();
        let game = play(&model, &input, &defender, &challenger);
        assert_rounds(n, &game);
        assert_eq!(
            game.end,
            End::Stepped {
                k: slot - 1,
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
fn an_honest_defender_beats_a_lying_challenger() {
    let mut rng = seeded_rng("an_honest_defender_beats_a_lying_challenger");
    for case in 0..40 {
        let model = random_any_model(&mut rng);
        let input = random_input(&mut rng, &model);
        let honest = reference::run(&model, &input).unwrap();
        let n = model.op_count();
        let slot = rng.random_range(1..=n);
        let recompute = rng.random_bool(0.5);
        let liar = lie(&mut rng, &model, &honest, slot, 2, recompute);
        let (slot, e) = honest.first_difference(&liar).unwrap();
        let defender = Party::new(&model, &honest).unwrap();
        let challenger = Party::new(&model, &liar).unwrap();
        let game = play(&model, &input, &defender, &challenger);
        assert_rounds(n, &game);
        // The liar disputes its own first difference and the contract proves the defender right.
        let End::Stepped {
            k,
            element,
            claimed,
            truth,
            ..
        } = game.end
        else {
            panic!("case {case}: {game:?}");
        };
        assert_eq!((k + 1, element), (slot, Element::Index(e)), "case {case}");
        assert_eq!(claimed, truth, "case {case}");
        assert_eq!(truth, honest.slots()[slot][e], "case {case}");
    }
}
