//! Reference interpreter vs Burn: bit-identical tensors at every step, on fresh random models and
//! inputs each run. The seed is printed; rerun one with `VOUCH_SEED=<seed>`.

use rand::{Rng, SeedableRng, rngs::StdRng};
use vouch_core::{
    Model, Trace,
    burn_exec::{BurnBackend, BurnModel},
    commit::model_root,
    random::{random_input, random_model},
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

fn random_dims(rng: &mut StdRng) -> Vec<u32> {
    let layers = rng.random_range(1..=4);
    (0..=layers).map(|_| rng.random_range(1..=300)).collect()
}

#[test]
fn burn_matches_reference_at_every_step() {
    let mut rng = seeded_rng("burn_matches_reference_at_every_step");
    for case in 0..12 {
        let dims = random_dims(&mut rng);
        let model = random_model(&mut rng, &dims);
        model.validate().expect("random models are valid");
        let burn = BurnModel::new(&model, BurnBackend::Flex);
        for _ in 0..3 {
            let input = random_input(&mut rng, &model);
            let want = reference::run(&model, &input).unwrap();
            let got = burn.run(&input).unwrap();
            assert_eq!(
                want.first_difference(&got),
                None,
                "case {case} dims {dims:?}: (slot, element) differs"
            );
            assert_eq!(
                want.commitments(),
                got.commitments(),
                "case {case}: commitments differ"
            );
        }
    }
}

#[test]
fn outputs_are_not_degenerate() {
    // Guards the differential test itself: if every output were clamped to one value, agreement
    // would prove little. Random models must produce varied outputs.
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
    // The test of the test: flip one bit of one element of one slot of the Burn trace, and the
    // comparison the differential test relies on must point at exactly that element, and every
    // commitment from that slot up must change.
    let mut rng = seeded_rng("a_one_bit_perturbation_is_detected");
    let model = random_model(&mut rng, &[96, 40, 10]);
    let input = random_input(&mut rng, &model);
    let honest = BurnModel::new(&model, BurnBackend::Flex)
        .run(&input)
        .unwrap();
    let reference = reference::run(&model, &input).unwrap();
    assert_eq!(reference.first_difference(&honest), None);
    for _ in 0..20 {
        let mut slots = honest.slots().to_vec();
        let slot = rng.random_range(0..slots.len());
        let index = rng.random_range(0..slots[slot].len());
        slots[slot][index] ^= 1 << rng.random_range(0..8);
        let perturbed = Trace::new(slots);
        assert_eq!(reference.first_difference(&perturbed), Some((slot, index)));
        let (a, b) = (reference.commitments(), perturbed.commitments());
        assert_ne!(a.trace_root, b.trace_root);
        assert_ne!(a.slot_roots[slot], b.slot_roots[slot]);
        assert_eq!(a.state_roots[..slot], b.state_roots[..slot]);
        assert!(
            a.state_roots[slot..]
                .iter()
                .zip(&b.state_roots[slot..])
                .all(|(x, y)| x != y)
        );
    }
}

#[test]
fn model_file_round_trips_and_keeps_its_root() {
    let mut rng = seeded_rng("model_file_round_trips_and_keeps_its_root");
    let dims = random_dims(&mut rng);
    let model = random_model(&mut rng, &dims);
    let bytes = model.to_bytes();
    let back = Model::from_bytes(&bytes).unwrap();
    assert_eq!(back, model);
    assert_eq!(model_root(&back), model_root(&model));
    // Any truncation is a clear error, never a panic.
    for cut in [0, 7, 8, 12, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            Model::from_bytes(&bytes[..cut]).is_err(),
            "cut at {cut} accepted"
        );
    }
}

#[test]
fn validation_refuses_overflow_and_bad_wiring() {
    let mut rng = seeded_rng("validation_refuses_overflow_and_bad_wiring");
    let mut model = random_model(&mut rng, &[16, 8]);
    if let vouch_core::model::Op::Dense(d) = &mut model.ops[0] {
        d.rows[3].bias = i32::MAX - 10;
    }
    let err = model.validate().unwrap_err().to_string();
    assert!(err.contains("op 0") && err.contains("2^31"), "{err}");

    let mut model = random_model(&mut rng, &[16, 8, 4]);
    if let vouch_core::model::Op::Dense(d) = model.ops.last_mut().unwrap() {
        d.input_slot = 0;
    }
    let err = model.validate().unwrap_err().to_string();
    assert!(
        err.contains("K = 8") || err.contains("zero point") || err.contains("z_x"),
        "{err}"
    );

    let err = reference::run(&model, &[0; 3]).unwrap_err().to_string();
    assert!(err.contains("input has 3 elements"), "{err}");
}
