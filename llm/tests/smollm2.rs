//! SmolLM2-135M-Instruct end to end on the real weights: tokenizer, float model and integer model
//! against the float reference's committed outputs (`models/llm/expected.json`, written by
//! `models/llm/float_reference.py`; no Python needed here).
//!
//! The GGUF comes from `scripts/fetch-smollm2.sh` (pinned sha256); `VOUCH_SMOLLM2` overrides the path.

use serde::Deserialize;
use std::{
    path::{Path, PathBuf},
    sync::OnceLock,
    time::Instant,
};
use vouch_llm::{
    IntModel,
    card::{Card, LlmConfig},
    config::LlamaConfig,
    eval::{Agreement, Forced, layers},
    float::FloatModel,
    gguf::Gguf,
    int,
    lm::{LanguageModel, generate},
    tokenizer::{ChatTokenizer, TokenizerSpec},
    trace::{commit, program::Program, rebuild},
};

/// Held-out positions the integer model is checked on (the full 768 run in `vouch model eval`).
const HELDOUT: usize = 192;
/// Calibration tokens, as the import default.
const CALIBRATION: usize = 512;

#[derive(Deserialize)]
struct Expected {
    prompts: Vec<PromptCase>,
    heldout: HeldOut,
}

#[derive(Deserialize)]
struct PromptCase {
    prompt: String,
    ids: Vec<u32>,
    answer_ids: Vec<u32>,
    answer: String,
}

#[derive(Deserialize)]
struct HeldOut {
    ids: Vec<u32>,
    argmax: Vec<u32>,
    next_logprob: Vec<f64>,
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models/llm")
        .join(name)
}

fn expected() -> &'static Expected {
    static E: OnceLock<Expected> = OnceLock::new();
    E.get_or_init(|| {
        serde_json::from_str(&std::fs::read_to_string(data("expected.json")).unwrap()).unwrap()
    })
}

fn gguf_path() -> PathBuf {
    let path = vouch_llm::smollm2_path();
    assert!(
        path.exists(),
        "{} is missing: run scripts/fetch-smollm2.sh first",
        path.display()
    );
    path
}

fn gguf() -> &'static Gguf {
    static G: OnceLock<Gguf> = OnceLock::new();
    G.get_or_init(|| Gguf::open(&gguf_path()).unwrap())
}

fn tokenizer() -> &'static ChatTokenizer {
    static T: OnceLock<ChatTokenizer> = OnceLock::new();
    T.get_or_init(|| ChatTokenizer::new(&TokenizerSpec::from_gguf(gguf()).unwrap()).unwrap())
}

fn float_model() -> &'static FloatModel {
    static F: OnceLock<FloatModel> = OnceLock::new();
    F.get_or_init(|| FloatModel::load(gguf(), LlamaConfig::from_gguf(gguf()).unwrap()).unwrap())
}

fn int_model() -> &'static IntModel {
    static M: OnceLock<IntModel> = OnceLock::new();
    M.get_or_init(|| {
        let text = std::fs::read_to_string(data("calibration.txt")).unwrap();
        let began = Instant::now();
        // As `vouch model import` does by default: the text and the built-in chat prompts.
        let (model, report) = int::import_text(gguf(), &text, CALIBRATION, None).unwrap();
        eprintln!(
            "imported in {:.1} s: {report:?}",
            began.elapsed().as_secs_f64()
        );
        assert_eq!(report.calibration_prompts, 24);
        model
    })
}

#[test]
fn the_tokenizer_matches_the_reference() {
    let e = expected();
    for case in &e.prompts {
        assert_eq!(
            tokenizer().chat(&case.prompt).unwrap(),
            case.ids,
            "{:?}",
            case.prompt
        );
    }
    let text = std::fs::read_to_string(data("heldout.txt")).unwrap();
    let ids = tokenizer().encode(&text).unwrap();
    assert_eq!(ids[..e.heldout.ids.len()], e.heldout.ids[..]);
    for case in &e.prompts {
        assert_eq!(tokenizer().decode(&case.answer_ids).unwrap(), case.answer);
    }
}

#[test]
fn the_float_model_matches_the_reference() {
    let h = &expected().heldout;
    let began = Instant::now();
    let forced = Forced::run(float_model(), &h.ids[..HELDOUT]).unwrap();
    let same = forced
        .argmax
        .iter()
        .zip(&h.argmax)
        .filter(|(a, b)| a == b)
        .count();
    let worst = forced
        .next_logprob
        .iter()
        .zip(&h.next_logprob)
        .map(|(a, b)| (a - b).abs())
        .fold(0f64, f64::max);
    eprintln!(
        "float: {same}/{} argmax equal to numpy's, worst log-prob difference {worst:.5}, {:.1} s",
        forced.argmax.len(),
        began.elapsed().as_secs_f64()
    );
    assert!(
        same + 2 >= forced.argmax.len(),
        "float32 in Rust and numpy differ beyond near-ties"
    );
    assert!(worst < 0.01);
}

#[test]
fn the_integer_model_agrees_with_the_float_model() {
    let h = &expected().heldout;
    let model = int_model();
    let began = Instant::now();
    let int = Forced::run(model, &h.ids[..HELDOUT]).unwrap();
    let n = int.argmax.len();
    let float = Forced {
        argmax: h.argmax[..n].to_vec(),
        next_logprob: h.next_logprob[..n].to_vec(),
        top: Vec::new(),
    };
    let a = Agreement::of(&int, &float);
    eprintln!(
        "integer model over {} held-out tokens ({:.1} s): top-1 agreement {:.4}, perplexity {:.3} vs {:.3} (ratio {:.4})",
        HELDOUT,
        began.elapsed().as_secs_f64(),
        a.top1,
        a.perplexity,
        a.float_perplexity,
        a.perplexity_ratio()
    );
    assert!(a.top1 >= 0.90, "top-1 agreement {}", a.top1);
    let per_block = layers(model, float_model(), &h.ids[..64], model.config.hidden).unwrap();
    assert_eq!(per_block.len(), model.config.blocks + 1);
    let last = per_block.last().unwrap();
    eprintln!(
        "residual after the last block: mean cos {:.5}, median rel. err {:.4}",
        last.mean_cos, last.median_rel
    );
    // The numpy prototype measured 0.99998 / 0.0047 over 768 tokens (docs/LLM_INT.md §1).
    assert!(last.mean_cos > 0.999 && last.median_rel < 0.02);
    assert!(
        a.perplexity_ratio() <= 1.10,
        "perplexity ratio {}",
        a.perplexity_ratio()
    );
    // How far the integer model moves the float model's top-two gap (0.0142 over 768 tokens,
    // docs/LLM_INT.md; the first design, which answered 7 of the 10 prompts alike, moved it 0.023).
    let gap = Agreement::of(
        &int,
        &Forced::run(float_model(), &h.ids[..HELDOUT]).unwrap(),
    )
    .gap_rms
    .unwrap();
    eprintln!("top-two logit gap moved by {gap:.4} nats (rms)");
    assert!(gap < 0.02, "gap rms {gap}");
}

#[test]
fn a_decode_step_computes_the_row_of_the_full_pass() {
    let model = int_model();
    let ids = &expected().prompts[3].ids;
    let full = model.logits(ids, &mut model.new_cache()).unwrap();
    let mut cache = model.new_cache();
    model.logits(&ids[..ids.len() - 1], &mut cache).unwrap();
    let step = model.logits(&ids[ids.len() - 1..], &mut cache).unwrap();
    let vocab = model.config.vocab;
    assert_eq!(
        step[..],
        full[full.len() - vocab..],
        "the cached step differs from the full pass"
    );
}

#[test]
fn greedy_answers_follow_the_float_model() {
    // Issue 9's target: at least 8 of the 10 fixed prompts answered with the float reference's first
    // 16 tokens (its answers are numpy's, in expected.json).
    let model = int_model();
    let e = expected();
    let began = Instant::now();
    let mut same = 0;
    for case in &e.prompts {
        let answer = generate(model, &case.ids, 16, tokenizer().eos, |_| ()).unwrap();
        let alike = answer.iter().take(16).eq(case.answer_ids.iter().take(16));
        eprintln!(
            "{} {:?} → {:?}",
            if alike { "=" } else { "≠" },
            case.prompt,
            tokenizer().decode(&answer).unwrap()
        );
        same += usize::from(alike);
    }
    eprintln!(
        "{same}/{} identical for 16 tokens ({:.1} s)",
        e.prompts.len(),
        began.elapsed().as_secs_f64()
    );
    assert!(same >= 8, "{same} of {} prompts", e.prompts.len());
}

#[test]
fn the_model_rebuilds_from_what_a_listing_publishes() {
    let model = int_model();
    let program = Program::new(model.config);
    let began = Instant::now();
    let ops: Vec<Vec<Vec<u8>>> = (0..program.ops())
        .map(|o| commit::op_leaves(model, program, o))
        .collect();
    let card = Card::of(model);
    let card_bytes = card.to_bytes().len();
    let leaves: usize = ops.iter().map(Vec::len).sum();
    let bytes: usize = ops.iter().flatten().map(Vec::len).sum();
    let back = rebuild(card, &LlmConfig::of(model), &ops).unwrap();
    eprintln!(
        "published: {} op trees, {leaves} leaves, {bytes} bytes, a card of {card_bytes} bytes; \
         encoded and rebuilt in {:.1} s",
        ops.len(),
        began.elapsed().as_secs_f64()
    );
    // SmolLM2's context covers every RoPE row: the rebuilt model is the imported one, to the byte.
    assert_eq!(
        postcard::to_stdvec(&back).unwrap(),
        postcard::to_stdvec(model).unwrap()
    );
}

#[test]
fn the_model_file_round_trips() {
    let model = int_model();
    let dir = std::env::temp_dir().join(format!("vouch-llm-{}", std::process::id()));
    let path = dir.join("smollm2.vlm");
    int::save(model, &path).unwrap();
    let back = int::load(&path).unwrap();
    let ids = &expected().prompts[1].ids;
    assert_eq!(
        back.logits(ids, &mut back.new_cache()).unwrap(),
        model.logits(ids, &mut model.new_cache()).unwrap()
    );
    // A flipped byte in the body is refused or changes nothing the checks allow through; a truncated
    // file is refused with a clear error.
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert!(int::load(&path).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_traced_answer_is_the_answer_and_every_sampled_element_recomputes() {
    use rand::{Rng, SeedableRng};
    use vouch_core::commit::{byte_row_leaves, tensor_tree_of_leaves};
    use vouch_llm::trace::{self, Job, Stop};
    let model = int_model();
    let case = &expected().prompts[0];
    let job = Job {
        prompt: case.ids.clone(),
        max_new: 3,
    };
    let began = Instant::now();
    let recorded = trace::generate(model, &job, Stop::Eos(tokenizer().eos), |_| ()).unwrap();
    let answer = generate(model, &case.ids, 3, tokenizer().eos, |_| ()).unwrap();
    assert_eq!(recorded.output, answer);
    eprintln!(
        "traced {} passes, {} slots, {:.1} MiB held, in {:.1} s",
        recorded.layout.passes(),
        recorded.slot_count(),
        recorded.held_bytes() as f64 / (1 << 20) as f64,
        began.elapsed().as_secs_f64()
    );
    let seed = vouch_core::random::test_seed("smollm2_trace");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for _ in 0..300 {
        let s = rng.random_range(1..recorded.slot_count());
        let shape = recorded.shape(s);
        let e = rng.random_range(0..shape.rows * shape.cols);
        let located = recorded
            .layout
            .locate(s)
            .map(|(p, o)| (p, recorded.program.op(o)));
        assert_eq!(
            recorded.element(model, s, e).unwrap(),
            recorded.value(s, e),
            "slot {s} {located:?} element {e}"
        );
    }
    for _ in 0..20 {
        let s = rng.random_range(0..recorded.slot_count());
        let leaves = byte_row_leaves(&recorded.slot_bytes(s), recorded.shape(s).row_bytes());
        let root = tensor_tree_of_leaves(&leaves).root();
        assert_eq!(root, recorded.roots()[s], "slot {s}");
    }
    // Every op of the last pass (and the output): its largest element's witness verifies and fits
    // the 96 KiB step cap.
    let (layout, sigma) = (recorded.layout, recorded.final_state());
    let began = Instant::now();
    let commitment = trace::ModelCommitment::new(model);
    eprintln!(
        "model root {} over {} ops in {:.1} s",
        commitment.root,
        commitment.op_roots.len(),
        began.elapsed().as_secs_f64()
    );
    let last = layout.passes() - 1;
    let mut sizes = std::collections::BTreeMap::new();
    let slots = (0..recorded.program.ops()).map(|o| layout.slot(last, o));
    for s in slots.chain([layout.output_slot()]) {
        let shape = recorded.shape(s);
        let e = shape.rows * shape.cols - 1;
        let w = recorded.witness(model, s, e).unwrap();
        let value = trace::verify(model, &commitment, layout, sigma, s, e, &w).unwrap();
        assert_eq!(value, recorded.value(s, e), "slot {s}");
        let kind = match layout.locate(s) {
            Some((_, o)) => match recorded.program.op(o) {
                trace::program::Op::Block(_, op) => format!("{op:?}"),
                op => format!("{op:?}"),
            },
            None => "Collect".into(),
        };
        let size = sizes.entry(kind).or_insert(0);
        *size = w.data_len().max(*size);
    }
    eprintln!(
        "witness bytes at {} positions: {sizes:?}",
        layout.positions()
    );
    assert!(sizes.values().all(|&b| b < 96 * 1024), "{sizes:?}");
}
