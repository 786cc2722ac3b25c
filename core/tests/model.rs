//! The model's file format and registration rules on fresh random models of every op kind (seed
//! printed; replay one with `VOUCH_SEED=<seed>`).

use rand::{SeedableRng, rngs::StdRng};
use vouch_core::{
    Model,
    commit::model_root,
    model::OpKind,
    random::{random_any_model, random_model},
    reference,
};

fn seeded_rng(test: &str) -> StdRng {
    StdRng::seed_from_u64(vouch_core::random::test_seed(test))
}

#[test]
fn model_file_round_trips_and_keeps_its_root() {
    let mut rng = seeded_rng("model_file_round_trips_and_keeps_its_root");
    for _ in 0..10 {
        let model = random_any_model(&mut rng);
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
}

#[test]
fn validation_refuses_overflow_and_bad_wiring() {
    let mut rng = seeded_rng("validation_refuses_overflow_and_bad_wiring");
    let mut model = random_model(&mut rng, &[16, 8]);
    if let OpKind::Dense { rows, .. } = &mut model.ops[0].kind {
        rows[3].bias = i32::MAX - 10;
    }
    let err = model.validate().unwrap_err().to_string();
    assert!(err.contains("op 0") && err.contains("2^31"), "{err}");

    let mut model = random_model(&mut rng, &[16, 8, 4]);
    let last = model.ops.len() - 1;
    if let OpKind::Dense { input, .. } = &mut model.ops[last].kind {
        *input = 0;
    }
    let err = model.validate().unwrap_err().to_string();
    assert!(
        err.contains("reduction size") || err.contains("zero point"),
        "{err}"
    );

    let err = reference::run(&model, &[0; 3]).unwrap_err().to_string();
    assert!(err.contains("input has 3 elements"), "{err}");
}
