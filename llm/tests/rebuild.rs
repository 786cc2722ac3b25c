//! A language model rebuilt from the leaves a listing publishes and its card (what an agent does with
//! chain data alone): random transformers of every weight type come back with the same commitment and
//! the same answers, and hostile publications — truncated or padded rows, missing leaves, specs
//! claiming huge widths, cards that disagree with the registry, junk in the SiLU padding — are refused
//! with an error, never a panic or a huge allocation.
//!
//! Every random choice comes from a printed seed; replay a failure with `VOUCH_SEED=<seed>`.

use candle_core::quantized::GgmlDType;
use rand::{Rng, SeedableRng, rngs::StdRng};
use vouch_llm::{
    IntModel,
    card::{Card, LlmConfig},
    int::CONTEXT,
    lm::generate,
    random::{self, Dims, IM_END},
    trace::{
        ModelCommitment, commit,
        program::{BlockOp, Op, Program},
        rebuild,
    },
};

fn rng(test: &str) -> StdRng {
    StdRng::seed_from_u64(vouch_core::random::test_seed(test))
}

/// Every op's leaves, as `list_llm` publishes them.
fn published(model: &IntModel) -> Vec<Vec<Vec<u8>>> {
    let program = Program::new(model.config);
    (0..program.ops())
        .map(|o| commit::op_leaves(model, program, o))
        .collect()
}

fn rebuilt(model: &IntModel, ops: &[Vec<Vec<u8>>]) -> vouch_llm::Result<IntModel> {
    rebuild(Card::of(model), &LlmConfig::of(model), ops)
}

/// The model's bytes with the RoPE rows past its context (never read, not published) cut off.
fn canonical(model: &IntModel) -> Vec<u8> {
    let mut m = model.clone();
    let rows = LlmConfig::of(model).context * model.config.head_dim / 2;
    m.rope_cos.truncate(rows);
    m.rope_sin.truncate(rows);
    postcard::to_stdvec(&m).unwrap()
}

#[test]
fn every_weight_type_comes_back_with_its_commitment_and_answers() {
    let mut rng = rng("rebuild_round_trip");
    for kind in [
        GgmlDType::Q4_0,
        GgmlDType::Q4_1,
        GgmlDType::Q8_0,
        GgmlDType::F16,
        GgmlDType::F32,
    ] {
        let dims = Dims {
            blocks: rng.random_range(1..=2),
            ..Dims::TINY
        };
        let model = random::model(&mut rng, dims, kind).unwrap();
        let back = rebuilt(&model, &published(&model)).unwrap();
        assert_eq!(
            ModelCommitment::new(&back),
            ModelCommitment::new(&model),
            "{kind:?}"
        );
        assert_eq!(canonical(&back), canonical(&model), "{kind:?}");
        let prompt = random::ids(&mut rng, 5);
        assert_eq!(
            generate(&back, &prompt, 8, IM_END, |_| {}).unwrap(),
            generate(&model, &prompt, 8, IM_END, |_| {}).unwrap()
        );
    }
}

/// One random model and its publication, for the hostile cases.
fn victim() -> (IntModel, Vec<Vec<Vec<u8>>>) {
    let mut rng = rng("rebuild_hostile");
    let model = random::model(&mut rng, Dims::TINY, GgmlDType::Q4_1).unwrap();
    let ops = published(&model);
    (model, ops)
}

#[test]
fn hostile_publications_are_refused_without_a_panic() {
    let (model, ops) = victim();
    let program = Program::new(model.config);
    let at = |op| program.index(op);
    let q = at(Op::Block(1, BlockOp::Q));
    type Tamper = Box<dyn Fn(&mut Vec<Vec<Vec<u8>>>)>;
    let cases: Vec<(&str, Tamper)> = vec![
        (
            "a row cut short",
            Box::new(move |o| {
                o[q][3].pop();
            }),
        ),
        (
            "a row with a stray byte",
            Box::new(move |o| o[q][3].push(0)),
        ),
        (
            "a missing row",
            Box::new(move |o| {
                o[q].pop();
            }),
        ),
        (
            "an extra row",
            Box::new(move |o| {
                let row = o[q][1].clone();
                o[q].push(row)
            }),
        ),
        (
            "a missing op",
            Box::new(|o| {
                o.pop();
            }),
        ),
        ("no spec", Box::new(move |o| o[q].clear())),
        (
            "a spec claiming 2^32 − 32 columns",
            Box::new(move |o| o[q][0][8..12].copy_from_slice(&(u32::MAX - 31).to_be_bytes())),
        ),
        (
            "a spec claiming 3-bit rows",
            Box::new(move |o| o[q][0][3] = 3),
        ),
        ("junk in the SiLU padding", {
            let silu = at(Op::Block(0, BlockOp::Silu));
            Box::new(move |o| *o[silu].last_mut().unwrap().last_mut().unwrap() = 1)
        }),
        ("an exp row of odd length", {
            let softmax = at(Op::Block(0, BlockOp::Softmax));
            Box::new(move |o| o[softmax][1].push(7))
        }),
        ("a RoPE row short", {
            let rope = at(Op::Block(0, BlockOp::RopeQ));
            Box::new(move |o| o[rope][9].truncate(2))
        }),
    ];
    for (what, tamper) in cases {
        let mut bad = ops.clone();
        tamper(&mut bad);
        let err = rebuilt(&model, &bad).expect_err(what);
        eprintln!("{what}: {err}");
    }
}

#[test]
fn a_changed_weight_rebuilds_but_misses_the_root() {
    let (model, mut ops) = victim();
    let up = Program::new(model.config).index(Op::Block(0, BlockOp::Up));
    let last = ops[up][2].len() - 1;
    ops[up][2][last] ^= 0x11;
    let back = rebuilt(&model, &ops).unwrap();
    assert_ne!(
        ModelCommitment::new(&back).root,
        ModelCommitment::new(&model).root
    );
}

#[test]
fn cards_that_disagree_with_the_registry_are_refused() {
    let (model, ops) = victim();
    let chain = LlmConfig::of(&model);
    for (what, chain) in [
        ("another eos", LlmConfig { eos: 5, ..chain }),
        (
            "another vocabulary",
            LlmConfig {
                vocab: chain.vocab + 1,
                ..chain
            },
        ),
        (
            "a longer context",
            LlmConfig {
                context: CONTEXT + 1,
                ..chain
            },
        ),
    ] {
        let err = rebuild(Card::of(&model), &chain, &ops).expect_err(what);
        eprintln!("{what}: {err}");
    }
    // Card bytes: truncated, trailed by junk, or oversized are refused before anything else.
    let bytes = Card::of(&model).to_bytes();
    assert_eq!(Card::from_bytes(&bytes).unwrap(), Card::of(&model));
    assert!(Card::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    assert!(Card::from_bytes(&[bytes.as_slice(), &[0]].concat()).is_err());
    assert!(Card::from_bytes(&vec![0; vouch_llm::card::MAX_CARD_BYTES + 1]).is_err());
}
