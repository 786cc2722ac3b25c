//! Three implementations, one answer: the reference interpreter vs Burn on every compiled-in backend,
//! both reduction modes and both requantization widths, bit-identical at every step and in every
//! commitment, on fresh random models (every op kind) and inputs each run. The seed is printed; replay
//! one with `VOUCH_SEED=<seed>`.

use rand::{Rng, SeedableRng, rngs::StdRng};
use vouch_burn::{BurnBackend, BurnModel, IntArith, MatmulMode};
use vouch_core::{
    Model,
    model::OpKind,
    random::{random_any_model, random_input, random_model},
    reference,
};

fn seeded_rng(test: &str) -> StdRng {
    StdRng::seed_from_u64(vouch_core::random::test_seed(test))
}

const MODES: [MatmulMode; 2] = [MatmulMode::Int, MatmulMode::F32Chunked];
const ARITHS: [IntArith; 2] = [IntArith::I64, IntArith::I32];

fn assert_all_agree(model: &Model, inputs: &[Vec<i8>], what: &str) {
    model
        .validate()
        .unwrap_or_else(|e| panic!("{what}: generated model invalid: {e}"));
    for &backend in BurnBackend::ALL {
        for mode in MODES {
            for arith in ARITHS {
                let burn = BurnModel::with_arith(model, backend, mode, arith);
                for input in inputs {
                    let want = reference::run(model, input).unwrap();
                    let got = burn.run(input).unwrap();
                    assert_eq!(
                        want.first_difference(&got),
                        None,
                        "{what}: {backend:?}/{mode:?}/{arith:?} differs at (slot, element)"
                    );
                    assert_eq!(
                        want.commitments(),
                        got.commitments(),
                        "{what}: {backend:?}/{mode:?}/{arith:?} commitments"
                    );
                }
            }
        }
    }
}

#[test]
fn every_executor_matches_the_reference_on_random_models() {
    let mut rng = seeded_rng("every_executor_matches_the_reference_on_random_models");
    let mut kinds = std::collections::BTreeSet::new();
    for case in 0..25 {
        let model = random_any_model(&mut rng);
        kinds.extend(model.ops.iter().map(|op| op.kind.name()));
        let inputs: Vec<_> = (0..2).map(|_| random_input(&mut rng, &model)).collect();
        assert_all_agree(
            &model,
            &inputs,
            &format!(
                "case {case} ({} ops, input {})",
                model.op_count(),
                model.input
            ),
        );
    }
    eprintln!("op kinds exercised: {kinds:?}");
    assert!(kinds.len() >= 5, "too few op kinds exercised: {kinds:?}");
}

#[test]
fn wide_reductions_cross_the_f32_chunk_boundary() {
    // K above 512 splits the f32 path into chunks; extreme inputs and weights maximise partial sums.
    let mut rng = seeded_rng("wide_reductions_cross_the_f32_chunk_boundary");
    for k in [511u32, 512, 513, 1040, 1500] {
        let mut model = random_model(&mut rng, &[k, 7]);
        if let OpKind::Dense { rows, z_x, .. } = &mut model.ops[0].kind {
            *z_x = 127;
            model.input_zero = 127;
            for row in rows.iter_mut() {
                row.weights
                    .iter_mut()
                    .for_each(|w| *w = if rng.random_bool(0.9) { -127 } else { 127 });
                row.bias = 0;
            }
        }
        let inputs = vec![vec![-128; k as usize], random_input(&mut rng, &model)];
        assert_all_agree(&model, &inputs, &format!("K = {k}"));
    }
}

#[test]
fn outputs_are_not_degenerate() {
    // Guards the differential test itself: if every output clamped to one value, agreement would
    // prove little. Random models must produce varied outputs.
    let mut rng = seeded_rng("outputs_are_not_degenerate");
    let model = random_model(&mut rng, &[64, 32, 10]);
    let mut distinct = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let input = random_input(&mut rng, &model);
        distinct.extend(
            reference::run(&model, &input)
                .unwrap()
                .output()
                .iter()
                .copied(),
        );
    }
    assert!(
        distinct.len() > 10,
        "only {} distinct output values",
        distinct.len()
    );
}

#[test]
fn a_one_bit_perturbation_is_detected() {
    // The test of the test: flip one bit of one element of one slot of a Burn trace, and the
    // comparison the differential test relies on must point at exactly that element, and every
    // commitment of that slot must change, and no other slot's.
    let mut rng = seeded_rng("a_one_bit_perturbation_is_detected");
    let model = random_any_model(&mut rng);
    let input = random_input(&mut rng, &model);
    let honest = BurnModel::new(&model, BurnBackend::Flex, MatmulMode::F32Chunked)
        .run(&input)
        .unwrap();
    let reference = reference::run(&model, &input).unwrap();
    assert_eq!(reference.first_difference(&honest), None);
    for _ in 0..20 {
        let mut slots = honest.slots().to_vec();
        let slot = rng.random_range(0..slots.len());
        let index = rng.random_range(0..slots[slot].len());
        slots[slot][index] ^= 1 << rng.random_range(0..8);
        let perturbed = honest.with_slots(slots);
        assert_eq!(reference.first_difference(&perturbed), Some((slot, index)));
        let (a, b) = (reference.commitments(), perturbed.commitments());
        let worker = vouch_core::Address::repeat_byte(1);
        assert_ne!(a.trace_root(worker), b.trace_root(worker));
        assert_ne!(a.final_state, b.final_state);
        // Exactly the perturbed slot's root changes.
        for (s, (x, y)) in a.slot_roots.iter().zip(&b.slot_roots).enumerate() {
            assert_eq!(
                x == y,
                s != slot,
                "slot {s} of a perturbation at slot {slot}"
            );
        }
    }
}

#[test]
fn batched_runs_match_the_reference_per_input() {
    let mut rng = seeded_rng("batched_runs_match_the_reference_per_input");
    for case in 0..8 {
        let model = random_any_model(&mut rng);
        let inputs: Vec<Vec<i8>> = (0..rng.random_range(1..=9))
            .map(|_| random_input(&mut rng, &model))
            .collect();
        let refs: Vec<&[i8]> = inputs.iter().map(Vec::as_slice).collect();
        for mode in MODES {
            let traces = BurnModel::new(&model, BurnBackend::Flex, mode)
                .run_batch(&refs)
                .unwrap();
            assert_eq!(traces.len(), inputs.len());
            for (input, got) in inputs.iter().zip(&traces) {
                let want = reference::run(&model, input).unwrap();
                assert_eq!(want.first_difference(got), None, "case {case} {mode:?}");
            }
        }
    }
}
