//! Generation as a trace (docs/LLM_INT.md §8) on small random models: the recorded generation is
//! the plain one, every root recorded as the run went equals the root of the slot's bytes rebuilt
//! from scratch, and a trace of a claimed length is the honest trace continued.
//!
//! Every random choice comes from a printed seed; replay a failure with `VOUCH_SEED=<seed>`.

use alloy_primitives::B256;
use candle_core::quantized::GgmlDType;
use rand::{Rng, SeedableRng, rngs::StdRng};
use vouch_core::commit::{byte_row_leaves, tensor_tree_of_leaves};
use vouch_llm::{
    IntModel,
    lm::generate as plain,
    random::{self, Dims, IM_END},
    trace::{
        Job, LmTrace, ModelCommitment, Stop, generate,
        program::{BlockOp, Op},
        verify,
    },
};

fn rng(test: &str) -> StdRng {
    StdRng::seed_from_u64(vouch_core::random::test_seed(test))
}

/// A random model: 1–3 blocks, 1–4 kv heads, a group of 1–3, head width 32 or 64.
fn model(rng: &mut StdRng) -> IntModel {
    let kv_heads = rng.random_range(1..=2);
    let heads = kv_heads * rng.random_range(1..=3);
    let head_dim = [32, 64][rng.random_range(0..2)];
    let dims = Dims {
        hidden: heads * head_dim,
        heads,
        kv_heads,
        ffn: 32 * rng.random_range(1..=5),
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

/// Every slot's root from scratch: its bytes cut into leaves and the whole tree built (what the
/// recorder hashes without building it, the value caches' by leaf updates).
fn recomputed_roots(trace: &LmTrace) -> Vec<B256> {
    (0..trace.slot_count())
        .map(|s| {
            let leaves = byte_row_leaves(&trace.slot_bytes(s), trace.shape(s).row_bytes());
            tensor_tree_of_leaves(&leaves).root()
        })
        .collect()
}

#[test]
fn the_trace_is_the_generation_and_its_roots_are_its_bytes() {
    let mut rng = rng("the_trace_is_the_generation_and_its_roots_are_its_bytes");
    for _ in 0..3 {
        let model = model(&mut rng);
        let (prompt, max_new) = (rng.random_range(1..=6), rng.random_range(1..=8));
        let job = Job {
            prompt: random::ids(&mut rng, prompt),
            max_new,
        };
        let mut streamed = Vec::new();
        let trace = generate(&model, &job, Stop::Eos(IM_END), |t| streamed.push(t)).unwrap();
        // One token per pass computes what a batched prefill and decode compute.
        let expected = plain(&model, &job.prompt, job.max_new, IM_END, |_| ()).unwrap();
        assert_eq!(trace.output, expected);
        assert_eq!(streamed, expected);
        // Slots: the input, OPS per pass, the output.
        let layout = trace.layout;
        assert_eq!(layout.passes(), job.prompt.len() + expected.len() - 1);
        assert_eq!(trace.slot_count(), layout.output_slot() + 1);
        // Every root recorded on the way (the value caches' by leaf updates) is its bytes' root.
        assert_eq!(trace.roots(), recomputed_roots(&trace));
        // The argmax slot of the last pass is the last token, and COLLECT holds the output.
        let last = layout.slot(layout.passes() - 1, trace.program.index(Op::Argmax2));
        assert_eq!(
            trace.slot_bytes(last).as_ref(),
            (*expected.last().unwrap() as i32).to_be_bytes()
        );
        assert_eq!(
            trace.slot_bytes(layout.output_slot()).len(),
            4 * expected.len()
        );
    }
}

#[test]
fn a_claimed_length_continues_the_honest_trace() {
    let mut rng = rng("a_claimed_length_continues_the_honest_trace");
    let model = model(&mut rng);
    let job = Job {
        prompt: random::ids(&mut rng, 4),
        max_new: 6,
    };
    // With an eos nobody produces, the worker runs to max_new.
    let full = generate(&model, &job, Stop::Eos(u32::MAX), |_| ()).unwrap();
    assert_eq!(full.output.len(), 6);
    for g in 1..=6 {
        let short = generate(&model, &job, Stop::Length(g), |_| ()).unwrap();
        assert_eq!(short.output, full.output[..g]);
        // Every slot but the output is the longer trace's slot.
        let n = short.layout.output_slot();
        assert_eq!(short.roots()[..n], full.roots()[..n]);
        assert_eq!(short.final_state() == full.final_state(), g == 6);
    }
    // Out of range lengths and jobs are refused.
    for stop in [Stop::Length(0), Stop::Length(7)] {
        assert!(generate(&model, &job, stop, |_| ()).is_err());
    }
    let too_long = Job {
        prompt: random::ids(&mut rng, 60),
        max_new: 6,
    };
    assert!(generate(&model, &too_long, Stop::Eos(IM_END), |_| ()).is_err());
}

#[test]
fn a_job_round_trips_through_its_input_row() {
    let job = Job {
        prompt: vec![5, 0, 261],
        max_new: 9,
    };
    assert_eq!(job.input(), [9, 5, 0, 261]);
    assert_eq!(Job::from_input(&job.input()).unwrap(), job);
    for bad in [&[][..], &[0, 5], &[3], &[3, -1]] {
        assert!(Job::from_input(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn every_element_is_its_op_recomputed_from_the_slots_it_reads() {
    let mut rng = rng("every_element_is_its_op_recomputed_from_the_slots_it_reads");
    for _ in 0..2 {
        let model = model(&mut rng);
        let job = Job {
            prompt: random::ids(&mut rng, 3),
            max_new: 3,
        };
        let mut trace = generate(&model, &job, Stop::Length(3), |_| ()).unwrap();
        let mut checked = 0;
        for s in 1..trace.slot_count() {
            let shape = trace.shape(s);
            for e in 0..shape.rows * shape.cols {
                let stored = trace.value(s, e);
                let computed = trace.element(&model, s, e).unwrap();
                assert_eq!(
                    computed,
                    stored,
                    "slot {s} element {e} ({:?})",
                    trace.layout.locate(s)
                );
                checked += 1;
            }
            // Past the last element there is nothing to compute.
            assert!(trace.element(&model, s, shape.rows * shape.cols).is_err());
        }
        assert!(trace.element(&model, 0, 0).is_err());
        assert!(trace.element(&model, trace.slot_count(), 0).is_err());
        eprintln!("{checked} elements recomputed");
        // A test of the test: one score changed in the last pass is seen by the softmax reading it.
        let (program, layout) = (trace.program, trace.layout);
        let p = layout.passes() - 1;
        let score = layout.slot(p, program.index(Op::Block(0, BlockOp::Score)));
        let softmax = layout.slot(p, program.index(Op::Block(0, BlockOp::Softmax)));
        // Head 0's row: a score below the row's maximum raised to it (a second maximum takes
        // probability from the first), or, when all are equal, one raised far above them.
        let row: Vec<i64> = (0..=p).map(|i| trace.value(score, i)).collect();
        let max = *row.iter().max().unwrap();
        let (j, lie) = match row.iter().position(|&v| v < max) {
            Some(j) => (j, max),
            None => (0, max + 1000),
        };
        let truth = row[j];
        trace.tamper(score, j, lie).unwrap();
        assert!(
            (0..=p).any(|i| trace.element(&model, softmax, i).unwrap() != trace.value(softmax, i)),
            "a changed score went unnoticed"
        );
        assert_eq!(trace.element(&model, score, j).unwrap(), truth);
    }
}

#[test]
fn witnesses_verify_to_the_true_element_and_nothing_else_verifies() {
    let mut rng = rng("witnesses_verify_to_the_true_element_and_nothing_else_verifies");
    let model = model(&mut rng);
    let job = Job {
        prompt: random::ids(&mut rng, 3),
        max_new: 4,
    };
    let mut trace = generate(&model, &job, Stop::Length(4), |_| ()).unwrap();
    let (layout, sigma) = (trace.layout, trace.final_state());
    let commitment = ModelCommitment::new(&model);
    let pick = |rng: &mut StdRng, trace: &LmTrace| {
        let s = rng.random_range(1..trace.slot_count());
        let shape = trace.shape(s);
        (s, rng.random_range(0..shape.rows * shape.cols))
    };
    // Every op kind's witness verifies to the stored (honest) value.
    let mut kinds = std::collections::BTreeSet::new();
    for _ in 0..400 {
        let (s, e) = pick(&mut rng, &trace);
        let w = trace.witness(&model, s, e).unwrap();
        let value = verify(&model, &commitment, layout, sigma, s, e, &w).unwrap();
        assert_eq!(value, trace.value(s, e), "slot {s} element {e}");
        kinds.insert(format!(
            "{:?}",
            layout.locate(s).map(|(_, o)| trace.program.op(o))
        ));
    }
    assert!(kinds.len() > 20, "{kinds:?}");
    // Against another state, with a run or a slot proof missing, extra, moved or changed: refused.
    let (s, e) = (
        layout.slot(
            layout.passes() - 1,
            trace.program.index(Op::Block(0, BlockOp::Pv)),
        ),
        3,
    );
    let w = trace.witness(&model, s, e).unwrap();
    assert!(verify(&model, &commitment, layout, B256::repeat_byte(1), s, e, &w).is_err());
    let mut short = w.clone();
    short.runs.pop();
    assert!(verify(&model, &commitment, layout, sigma, s, e, &short).is_err());
    let mut long = w.clone();
    long.runs.push(w.runs[0].clone());
    assert!(verify(&model, &commitment, layout, sigma, s, e, &long).is_err());
    let mut extra = w.clone();
    extra.slots.insert(0, (0, trace_slot_proof(&trace, 0)));
    assert!(verify(&model, &commitment, layout, sigma, s, e, &extra).is_err());
    let mut changed = w.clone();
    changed.runs[1].leaves[0][1] ^= 1;
    assert!(verify(&model, &commitment, layout, sigma, s, e, &changed).is_err());
    let mut moved = w.clone();
    moved.runs[0].first_leaf += 1;
    assert!(verify(&model, &commitment, layout, sigma, s, e, &moved).is_err());
    // The model's leaves: a changed spec, a row of another op, a missing leaf, another model.
    let d = layout.slot(0, trace.program.index(Op::Block(0, BlockOp::Q)));
    let w = trace.witness(&model, d, 1).unwrap();
    assert_eq!(w.params.iter().map(|p| p.leaf).collect::<Vec<_>>(), [0, 2]);
    let mut spec = w.clone();
    spec.params[0].data[3] ^= 1;
    assert!(verify(&model, &commitment, layout, sigma, d, 1, &spec).is_err());
    let mut other = w.clone();
    other.params[1] = trace.witness(&model, d, 0).unwrap().params[1].clone();
    assert!(verify(&model, &commitment, layout, sigma, d, 1, &other).is_err());
    let mut missing = w.clone();
    missing.params.pop();
    assert!(verify(&model, &commitment, layout, sigma, d, 1, &missing).is_err());
    let elsewhere = ModelCommitment::new(&self::model(&mut rng));
    assert_ne!(elsewhere.root, commitment.root);
    assert!(
        verify(&model, &commitment, layout, sigma, s, e + 1, &w).is_err()
            || e + 1 >= trace.shape(s).cols
    );
    // A liar's wrong element: its honest operands still verify, to the true value, not the lie.
    // A value cache holds no bytes of its own: a liar changes the value slot instead.
    let append = layout.slot(0, trace.program.index(Op::Block(0, BlockOp::Append)));
    assert!(trace.clone().tamper(append, 0, 1).is_err());
    let cache = |s| {
        let op = layout.locate(s).map(|(_, o)| trace.program.op(o));
        matches!(op, Some(Op::Block(_, BlockOp::Append)))
    };
    let (s, e) = std::iter::repeat_with(|| pick(&mut rng, &trace))
        .find(|&(s, _)| !cache(s))
        .unwrap();
    let truth = trace.value(s, e);
    trace.tamper(s, e, truth ^ 1).unwrap();
    let w = trace.witness(&model, s, e).unwrap();
    assert_eq!(
        verify(&model, &commitment, layout, sigma, s, e, &w).unwrap(),
        truth
    );
    // …and a witness built from the liar's trace does not verify against the honest state once it
    // reads the changed slot (its tensor tree, and so every run's proof in it, differs).
    let later = (s + 1..trace.slot_count()).find_map(|t| {
        let shape = trace.shape(t);
        (0..shape.rows * shape.cols).find_map(|i| {
            let w = trace.witness(&model, t, i).ok()?;
            w.runs.iter().any(|r| r.slot == s).then_some((t, i, w))
        })
    });
    if let Some((t, i, w)) = later {
        assert!(verify(&model, &commitment, layout, sigma, t, i, &w).is_err());
    }
}

fn trace_slot_proof(trace: &LmTrace, s: usize) -> vouch_core::dispute::SlotProof {
    vouch_core::dispute::SlotProof {
        root: trace.roots()[s],
        path: trace.state_tree().proof(s).unwrap(),
    }
}
