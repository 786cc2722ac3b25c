//! The importer and the runtime on small random llama GGUFs, and on hostile files — no download.
//!
//! The GGUFs are `vouch_llm::random`'s, written with candle's own writer: 2 blocks, hidden 64 (2 query heads sharing
//! 1 key/value head, head width 32), SwiGLU 96, and a vocabulary of GPT-2's 256 byte-level tokens, a
//! few merges and the ChatML control tokens. One model per weight type (F32, F16, Q4_0, Q4_1,
//! Q8_0; norms F32) goes through the import, and its integer model through the forward pass, the
//! KV cache, generation, the model file and the comparison with the float model. Then truncated,
//! corrupted, oversized and unsupported files must be refused with an error — never a panic, never a
//! huge allocation.
//!
//! Every random choice comes from a printed seed; replay a failure with `VOUCH_SEED=<seed>`.

use candle_core::{
    Device, Tensor,
    quantized::{GgmlDType, QTensor, gguf_file::Value},
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    path::PathBuf,
};
use vouch_llm::{
    IntModel, LlmError,
    config::{LlamaConfig, MAX_BLOCKS, MAX_VOCAB, MAX_WIDTH},
    eval::{Agreement, Forced},
    float::FloatModel,
    gguf::Gguf,
    int,
    lm::{LanguageModel, generate},
    random::{self, Dims, IM_END, IM_START, SYSTEM, TinyGguf, VOCAB, normal, qtensor},
    tokenizer::{ChatTokenizer, TokenizerSpec},
};

// ---------------------------------------------------------------------------------------------
// Helpers.

const HIDDEN: usize = Dims::TINY.hidden;
const FFN: usize = Dims::TINY.ffn;
const CONTEXT: usize = Dims::TINY.context;

fn rng(test: &str) -> StdRng {
    StdRng::seed_from_u64(vouch_core::random::test_seed(test))
}

fn tiny(rng: &mut StdRng, kind: GgmlDType) -> TinyGguf {
    TinyGguf::new(rng, Dims::TINY, kind)
}

/// A scratch directory for one test, removed when the test passes.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("vouch-synth-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Runs `f`, turning a panic into a failure that names the input.
fn no_panic<T>(what: &str, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| panic!("{what}: panicked"))
}

/// Opens and imports a GGUF; `Err` as soon as a step refuses it.
fn open_and_import(path: &std::path::Path, calibration: &[u32]) -> vouch_llm::Result<IntModel> {
    let g = Gguf::open(path)?;
    LlamaConfig::from_gguf(&g)?;
    Ok(int::import(&g, calibration, &[])?.0)
}

fn is_request<T>(r: vouch_llm::Result<T>) -> bool {
    matches!(r, Err(LlmError::Request(_)))
}

// ---------------------------------------------------------------------------------------------
// Behaviour, per weight type.

/// Imports one random model of `kind` and checks the integer model end to end.
fn check_weight_type(test: &str, kind: GgmlDType) {
    let mut rng = rng(test);
    let dir = Scratch::new(test);
    let path = dir.write("tiny.gguf", &tiny(&mut rng, kind).bytes());
    let g = Gguf::open(&path).unwrap();
    let config = LlamaConfig::from_gguf(&g).unwrap();
    assert_eq!(
        (config.vocab, config.head_dim, config.group()),
        (VOCAB, 32, 2)
    );
    let calibration = random::ids(&mut rng, 48);
    // One chat turn too: the float model answers it and the scales cover prompt and answer.
    let prompts = [random::ids(&mut rng, 6)];
    let (model, report) = int::import(&g, &calibration, &prompts).unwrap();
    assert_eq!(report.calibration_prompts, 1);
    assert!(
        (48 + 6 + 1..=48 + 6 + int::CALIBRATION_ANSWER).contains(&report.calibration_tokens),
        "{report:?}"
    );
    let float = FloatModel::load(&g, config).unwrap();
    let vocab = VOCAB;

    // (a) Decoding one token at a time computes exactly the rows of one full pass.
    let ids = random::ids(&mut rng, 24);
    let full = model.logits(&ids, &mut model.new_cache()).unwrap();
    let mut cache = model.new_cache();
    model.logits(&ids[..16], &mut cache).unwrap();
    for (t, &id) in ids.iter().enumerate().skip(16) {
        let step = model.logits(&[id], &mut cache).unwrap();
        assert_eq!(step[..], full[t * vocab..][..vocab], "{kind:?}: step {t}");
    }

    // (b) Generation stops at max_new, or right after eos.
    let prompt = ChatTokenizer::new(&model.tokenizer)
        .unwrap()
        .chat("hi")
        .unwrap();
    let out = generate(&model, &prompt, 8, IM_END, |_| ()).unwrap();
    assert!(!out.is_empty() && out.len() <= 8, "{kind:?}: {out:?}");
    if let Some(at) = out.iter().position(|&t| t == IM_END) {
        assert_eq!(at, out.len() - 1, "{kind:?}: tokens after eos");
    }
    // The model's first answer token taken as eos: generation stops after it.
    assert_eq!(
        generate(&model, &prompt, 8, out[0], |_| ()).unwrap(),
        [out[0]]
    );

    // (c) The model file round-trips.
    let file = dir.0.join("tiny.vlm");
    int::save(&model, &file).unwrap();
    let back = int::load(&file).unwrap();
    assert_eq!(back.logits(&ids, &mut back.new_cache()).unwrap(), full);

    // (d) Teacher-forced greedy agreement with the float model. Random tiny models have flat,
    // near-tied logits (nothing was trained), so the integer rounding flips argmaxes a real model
    // would keep: over 1,200 random models (all five types) the median was 0.97, the 1st percentile
    // 0.89, the lowest 0.80. The floor catches a broken import (chance agreement is 1/262); it is
    // not an accuracy figure — the SmolLM2 test holds the real one.
    let text = random::ids(&mut rng, 96);
    let a = Agreement::of(
        &Forced::run(&model, &text).unwrap(),
        &Forced::run(&float, &text).unwrap(),
    );
    eprintln!(
        "{kind:?}: top-1 agreement {:.3} over {} positions, perplexity {:.2} vs float {:.2}, \
         max weight error {:.2e}",
        a.top1, a.positions, a.perplexity, a.float_perplexity, report.max_weight_error
    );
    assert!(a.top1 >= 0.7, "{kind:?}: top-1 agreement {}", a.top1);

    // (e) Bad requests are refused, not panics.
    for bad in [vec![VOCAB as u32], vec![1, u32::MAX]] {
        assert!(is_request(model.logits(&bad, &mut model.new_cache())));
        assert!(is_request(float.forward(&bad, &mut float.new_cache())));
        assert!(int::import(&g, &bad, &[]).is_err());
        assert!(int::import(&g, &[1, 2], std::slice::from_ref(&bad)).is_err());
    }
    let long = random::ids(&mut rng, CONTEXT + 1);
    assert!(is_request(model.logits(&long, &mut model.new_cache())));
    assert!(is_request(generate(&model, &long, 4, IM_END, |_| ())));
    let mut cache = model.new_cache();
    model.logits(&long[..CONTEXT], &mut cache).unwrap();
    assert!(is_request(model.logits(&long[CONTEXT..], &mut cache)));
    assert!(is_request(generate(&model, &[], 4, IM_END, |_| ())));
    // A generation that reaches the context stops there with what it has.
    let near = &long[..CONTEXT - 2];
    let answer = generate(&model, near, 50, u32::MAX, |_| ()).unwrap();
    assert_eq!(
        answer.len(),
        3,
        "{kind:?}: prompt + answer − 1 fill the context"
    );
}

macro_rules! weight_types {
    ($($test:ident: $kind:ident),*) => {$(
        #[test]
        fn $test() {
            check_weight_type(stringify!($test), GgmlDType::$kind);
        }
    )*};
}

weight_types!(f32_model: F32, f16_model: F16, q4_0_model: Q4_0, q4_1_model: Q4_1, q8_0_model: Q8_0);

#[test]
fn the_tokenizer_round_trips_text() {
    let mut rng = rng("the_tokenizer_round_trips_text");
    let dir = Scratch::new("tokenizer");
    let path = dir.write("tiny.gguf", &tiny(&mut rng, GgmlDType::Q8_0).bytes());
    let spec = TokenizerSpec::from_gguf(&Gguf::open(&path).unwrap()).unwrap();
    assert_eq!((spec.eos, spec.system.as_deref()), (IM_END, Some(SYSTEM)));
    assert_eq!(spec.control, [IM_START, IM_END]);
    let tok = ChatTokenizer::new(&spec).unwrap();
    let alphabet: Vec<char> = "abthe inTHE 0123456789\n\t.,!?'éßü€中文😀🦀\u{0}\u{7f}\u{a0}"
        .chars()
        .collect();
    for _ in 0..200 {
        let len = rng.random_range(0..40);
        let text: String = (0..len)
            .map(|_| match rng.random_range(0..4) {
                0 => char::from_u32(rng.random_range(0..0x11_0000)).unwrap_or('x'),
                _ => alphabet[rng.random_range(0..alphabet.len())],
            })
            .collect();
        let ids = tok.encode(&text).unwrap();
        assert_eq!(tok.decode(&ids).unwrap(), text, "{ids:?}");
        // Digits are split one by one (`pre = smollm`).
        let digits = text.chars().filter(char::is_ascii_digit).count();
        assert!(ids.len() >= digits);
    }
    assert_eq!(tok.encode(" the").unwrap(), [258]);
    let chat = tok.chat("hello").unwrap();
    assert_eq!(chat[0], IM_START);
    assert_eq!(chat.iter().filter(|&&t| t == IM_END).count(), 2);
    assert!(tok.decode(&chat).unwrap().contains(SYSTEM));
}

// ---------------------------------------------------------------------------------------------
// Hostile GGUFs and model files.

#[test]
fn truncated_ggufs_are_refused() {
    let mut rng = rng("truncated_ggufs_are_refused");
    let dir = Scratch::new("truncated");
    let spec = tiny(&mut rng, GgmlDType::Q4_1);
    let bytes = spec.bytes();
    let calibration = random::ids(&mut rng, 8);
    let mut cuts: Vec<usize> = vec![0, 3, 8, 16, 24, spec.header_len(), bytes.len() - 1];
    cuts.extend((0..60).map(|_| rng.random_range(0..bytes.len())));
    for cut in cuts {
        let path = dir.write("cut.gguf", &bytes[..cut]);
        let what = format!("GGUF cut at {cut} of {}", bytes.len());
        let r = no_panic(&what, || open_and_import(&path, &calibration));
        assert!(r.is_err(), "{what}: imported");
    }
}

#[test]
fn flipped_header_bytes_never_panic() {
    let mut rng = rng("flipped_header_bytes_never_panic");
    let dir = Scratch::new("flipped");
    let spec = tiny(&mut rng, GgmlDType::Q8_0);
    let (bytes, header) = (spec.bytes(), spec.header_len());
    let calibration = random::ids(&mut rng, 8);
    let mut refused = 0;
    let tries = 150;
    for _ in 0..tries {
        let mut bad = bytes.clone();
        let at = rng.random_range(0..header);
        bad[at] ^= 1 << rng.random_range(0..8);
        let path = dir.write("flip.gguf", &bad);
        let what = format!("GGUF with byte {at} flipped to {:#04x}", bad[at]);
        // A flip inside a token's text or the chat template still leaves a valid model: what is
        // imported must then pass the load-time checks and run.
        no_panic(&what, || match open_and_import(&path, &calibration) {
            Err(_) => refused += 1,
            Ok(m) => {
                let invalid = |e| panic!("{what}: imported, but the model is invalid: {e}");
                m.validate().unwrap_or_else(invalid);
                // (A flipped context length may refuse the request; it must not panic.)
                let _ = m.logits(&calibration, &mut m.new_cache());
                let _ = ChatTokenizer::new(&m.tokenizer).map(|t| t.chat("hi"));
            }
        });
    }
    eprintln!("{refused} of {tries} header flips refused, the rest imported a valid model");
}

#[test]
fn tensors_larger_than_the_file_are_refused_before_allocating() {
    let mut rng = rng("tensors_larger_than_the_file");
    let dir = Scratch::new("oversized");
    let bytes = tiny(&mut rng, GgmlDType::F32).bytes();
    // token_embd.weight's directory entry: name, n_dims = 2, then dims innermost first.
    let name = b"token_embd.weight";
    let at = bytes.windows(name.len()).position(|w| w == name).unwrap() + name.len();
    assert_eq!(bytes[at..at + 4], 2u32.to_le_bytes());
    for (cols, rows) in [(1u64 << 20, 1u64 << 20), (1 << 40, 1 << 40), (64, 1 << 62)] {
        let mut bad = bytes.clone();
        bad[at + 4..at + 12].copy_from_slice(&cols.to_le_bytes());
        bad[at + 12..at + 20].copy_from_slice(&rows.to_le_bytes());
        let path = dir.write("big.gguf", &bad);
        let g = Gguf::open(&path).unwrap();
        assert!(g.tensor("token_embd.weight").is_err());
        let e = int::import(&g, &[1, 2, 3], &[])
            .map(|_| ())
            .expect_err("imported");
        assert!(e.to_string().contains("token_embd"), "{e}");
    }
}

#[test]
fn malformed_metadata_is_refused() {
    let mut rng = rng("malformed_metadata_is_refused");
    let dir = Scratch::new("metadata");
    let big_vocab = Value::Array(vec![Value::String("a".into()); MAX_VOCAB + 1]);
    let cases = [
        ("llama.embedding_length", Value::U32(MAX_WIDTH as u32 + 32)),
        ("llama.embedding_length", Value::String("64".into())),
        ("llama.feed_forward_length", Value::U64(1 << 40)),
        ("llama.block_count", Value::U32(MAX_BLOCKS as u32 + 1)),
        ("llama.attention.head_count", Value::U32(0)),
        ("llama.attention.head_count_kv", Value::U32(3)),
        ("llama.attention.layer_norm_rms_epsilon", Value::F32(-1.0)),
        ("llama.rope.freq_base", Value::F32(f32::INFINITY)),
        ("tokenizer.ggml.tokens", big_vocab),
        ("tokenizer.ggml.tokens", Value::Array(Vec::new())),
        ("tokenizer.ggml.eos_token_id", Value::U32(VOCAB as u32)),
        ("general.architecture", Value::String("gpt2".into())),
        // candle's reader divides by it: a zero used to panic inside `Gguf::open`.
        ("general.alignment", Value::U32(0)),
        ("general.alignment", Value::I8(0)),
        ("general.alignment", Value::U32(48)),
    ];
    for (key, value) in cases {
        let what = format!("{key} = {value:?}");
        let what = &what[..what.len().min(80)];
        let mut spec = tiny(&mut rng, GgmlDType::Q4_0);
        spec.set(key, value);
        let path = dir.write("bad.gguf", &spec.bytes());
        let r = no_panic(what, || open_and_import(&path, &[1, 2]));
        match r {
            Err(LlmError::Unsupported(_)) => assert_eq!(key, "general.architecture"),
            Err(_) => {}
            Ok(_) => panic!("{what}: imported"),
        }
    }
}

#[test]
fn unsupported_tensor_types_are_refused() {
    let mut rng = rng("unsupported_tensor_types");
    let dir = Scratch::new("unsupported");
    for kind in [GgmlDType::Q5_0, GgmlDType::Q5_1, GgmlDType::BF16] {
        let mut spec = tiny(&mut rng, GgmlDType::Q4_0);
        let t = qtensor(&mut rng, &[FFN, HIDDEN], kind, 0.0, 0.1);
        spec.set_tensor("blk.1.ffn_up.weight", t);
        let g = Gguf::open(&dir.write("q5.gguf", &spec.bytes())).unwrap();
        match int::import(&g, &[1, 2], &[]) {
            Err(LlmError::Unsupported(e)) => assert!(e.contains("blk.1.ffn_up"), "{e}"),
            other => panic!("{kind:?}: {:?}", other.map(|_| ())),
        }
    }
}

#[test]
fn a_q8_0_integer_of_minus_128_is_refused() {
    // Legal in a Q8_0 block (int8), never written by llama.cpp's quantizer, and outside the
    // integer model's −127..=127: the import must refuse it, not build a model its load refuses.
    let mut rng = rng("a_q8_0_integer_of_minus_128");
    let dir = Scratch::new("q8_min");
    let spec = tiny(&mut rng, GgmlDType::Q8_0);
    let mut bytes = spec.bytes();
    // token_embd.weight's data comes first: its first block's scale, then its integers.
    let at = spec.header_len() + 2 + rng.random_range(0..32);
    bytes[at] = 0x80;
    let path = dir.write("q8.gguf", &bytes);
    match open_and_import(&path, &[1, 2, 3]) {
        Err(e) => assert!(e.to_string().contains("token_embd"), "{e}"),
        Ok(m) => panic!("imported; validate says {:?}", m.validate()),
    }
}

#[test]
fn an_epsilon_lost_to_rounding_is_refused() {
    let mut rng = rng("an_epsilon_lost_to_rounding");
    let dir = Scratch::new("eps");
    // E = round(K · eps · 2^20) is 0 for eps = 1e-12: token 0's all-zero embedding row would give
    // a zero residual row and a division by zero in the integer RMSNorm.
    let mut spec = tiny(&mut rng, GgmlDType::F32);
    spec.set("llama.attention.layer_norm_rms_epsilon", Value::F32(1e-12));
    let mut embd: Vec<f32> = (0..VOCAB * HIDDEN).map(|_| normal(&mut rng, 0.1)).collect();
    embd[..HIDDEN].fill(0.0);
    let embd = Tensor::from_vec(embd, (VOCAB, HIDDEN), &Device::Cpu).unwrap();
    let embd = QTensor::quantize(&embd, GgmlDType::F32).unwrap();
    spec.set_tensor("token_embd.weight", embd);
    let path = dir.write("eps.gguf", &spec.bytes());
    let r = no_panic("eps 1e-12", || {
        open_and_import(&path, &[1, 2, 3]).and_then(|m| m.logits(&[0], &mut m.new_cache()))
    });
    assert!(
        matches!(r, Err(LlmError::Quantize(_))),
        "{:?}",
        r.map(|_| ())
    );
}

#[test]
fn hostile_model_files_are_refused() {
    let mut rng = rng("hostile_model_files_are_refused");
    let dir = Scratch::new("vlm");
    let path = dir.write("tiny.gguf", &tiny(&mut rng, GgmlDType::Q4_0).bytes());
    let model = int::import(&Gguf::open(&path).unwrap(), &random::ids(&mut rng, 16), &[])
        .unwrap()
        .0;
    let file = dir.0.join("tiny.vlm");
    int::save(&model, &file).unwrap();
    let bytes = std::fs::read(&file).unwrap();
    let load = |bad: &[u8]| int::load(&dir.write("bad.vlm", bad));
    let mut cuts = vec![0, 7, 8, 9, bytes.len() - 1];
    cuts.extend((0..30).map(|_| rng.random_range(0..bytes.len())));
    for cut in cuts {
        assert!(no_panic(&format!("cut at {cut}"), || load(&bytes[..cut])).is_err());
    }
    let mut bad = bytes.clone();
    bad[0] = b'X';
    assert!(load(&bad).is_err(), "wrong magic");
    let mut zero_eps = model.clone();
    zero_eps.eps_term = 0;
    int::save(&zero_eps, &file).unwrap();
    assert!(
        int::load(&file).is_err(),
        "an RMSNorm term of 0 (a division by zero) loaded"
    );
    // The body opens with the block count: any flip of it disagrees with the blocks that follow.
    for bit in 0..8 {
        let mut bad = bytes.clone();
        bad[8] ^= 1 << bit;
        assert!(load(&bad).is_err(), "block count flipped at bit {bit}");
    }
    // A flip elsewhere may land on a weight, which stays a valid model: then it must run.
    let (mut refused, tries) = (0, 60);
    for _ in 0..tries {
        let mut bad = bytes.clone();
        let at = rng.random_range(8..bytes.len());
        bad[at] ^= 1 << rng.random_range(0..8);
        let what = format!("model file with byte {at} flipped");
        no_panic(&what, || match load(&bad) {
            Err(_) => refused += 1,
            Ok(m) => {
                let _ = m.logits(&[1, 2, 3], &mut m.new_cache());
            }
        });
    }
    eprintln!("{refused} of {tries} model-file flips refused, the rest loaded and ran");
}
