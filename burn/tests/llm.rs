//! The integer language model on Burn against its reference (`vouch_llm::IntModel`), bit for bit:
//! whole passes (prefill, decode steps, a second batch on the same cache) on fresh random models of
//! several shapes and all five GGUF weight types, every op alone at the extremes of its inputs, and
//! SmolLM2-135M-Instruct (fetched by `scripts/fetch-smollm2.sh`, as `scripts/test.sh` does first) —
//! each on every compiled-in backend with both ways of computing the projections (`Matmul`).
//!
//! Every random choice comes from a printed seed; replay a failure with `VOUCH_SEED=<seed>`.

use burn::tensor::{Device, Int, Tensor};
use candle_core::quantized::GgmlDType;
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::time::Instant;
use vouch_burn::{
    BurnBackend, BurnLm,
    llm::{
        Matmul,
        ops::{self, Embedding, ExpTable, Norm, Projection, Rope, Table, download, upload},
    },
};
use vouch_core::quant::Requant;
use vouch_llm::{
    IntModel,
    gguf::{BLOCK, Gguf},
    int::{
        self, GU_Q, Gain, MAX_EXPONENT, NORM_Q, P_Q, QK_Q, RES_MAX, V_Q,
        arith::{bit_length, div_round, isqrt, round_half_up},
        ops as reference,
    },
    lm::LanguageModel,
    random::{self, Dims},
    tokenizer::{ChatTokenizer, TokenizerSpec},
};

fn rng(test: &str) -> StdRng {
    StdRng::seed_from_u64(vouch_core::random::test_seed(test))
}

/// Every backend compiled in, with each way of computing the projections.
fn setups() -> impl Iterator<Item = (BurnBackend, Matmul)> {
    BurnBackend::ALL
        .iter()
        .flat_map(|&b| Matmul::ALL.map(|m| (b, m)))
}

const KINDS: [GgmlDType; 5] = [
    GgmlDType::F32,
    GgmlDType::F16,
    GgmlDType::Q4_0,
    GgmlDType::Q4_1,
    GgmlDType::Q8_0,
];

/// Shapes: the tiny default (2 heads sharing one key/value head), SmolLM2's grouping (3 query heads
/// a key/value head) with head width 64, and plain multi-head attention with 4 heads of 16.
const SHAPES: [Dims; 3] = [
    Dims::TINY,
    Dims {
        hidden: 192,
        heads: 3,
        kv_heads: 1,
        ffn: 128,
        blocks: 2,
        context: 64,
    },
    Dims {
        hidden: 64,
        heads: 4,
        kv_heads: 4,
        ffn: 64,
        blocks: 3,
        context: 32,
    },
];

/// Runs `ids` in the given batches through both models on one cache each, comparing every row.
fn assert_same_passes(model: &IntModel, burn: &BurnLm, batches: &[&[u32]], what: &str) {
    let (mut want_cache, mut got_cache) = (model.new_cache(), burn.new_cache());
    for (i, ids) in batches.iter().enumerate() {
        let want = model.logits(ids, &mut want_cache).unwrap();
        let got = burn.logits(ids, &mut got_cache).unwrap();
        assert_eq!(got.len(), want.len(), "{what}: pass {i} length");
        if let Some(at) = (0..want.len()).find(|&j| got[j] != want[j]) {
            panic!(
                "{what}: pass {i} ({} tokens) differs at row {}, logit {}: {} vs {}",
                ids.len(),
                at / model.config.vocab,
                at % model.config.vocab,
                got[at],
                want[at]
            );
        }
    }
    assert_eq!(got_cache.len(), want_cache.len());
}

#[test]
fn burn_logits_equal_the_reference_on_random_models() {
    let mut rng = rng("burn_logits_equal_the_reference_on_random_models");
    for dims in SHAPES {
        for kind in KINDS {
            let model = random::model(&mut rng, dims, kind).unwrap();
            let (p, m) = (rng.random_range(2..=9), rng.random_range(2..=5));
            let prompt = random::ids(&mut rng, p);
            let more = random::ids(&mut rng, m);
            let steps = random::ids(&mut rng, 3);
            let mut batches: Vec<&[u32]> = vec![&prompt];
            batches.extend(steps.chunks(1));
            batches.push(&more);
            for (backend, matmul) in setups() {
                let burn = BurnLm::new(&model, backend, matmul).unwrap();
                let what = format!("{dims:?} {kind:?} on {} {}", backend.name(), matmul.name());
                assert_same_passes(&model, &burn, &batches, &what);
                // The residual stream too, after the embedding and every block.
                assert_eq!(
                    burn.residuals(&prompt).unwrap(),
                    model.residuals(&prompt).unwrap(),
                    "{what}: residuals"
                );
            }
        }
    }
}

#[test]
fn a_one_bit_change_in_one_weight_changes_the_logits() {
    // The test of the test: the comparison above must see a single flipped weight bit. The top bit
    // of one weight integer of the prompt's first token's embedding row (in the block with the
    // largest scale, so the change survives the gather's rounding).
    let mut rng = rng("a_one_bit_change_in_one_weight_changes_the_logits");
    for kind in [GgmlDType::Q4_1, GgmlDType::Q8_0] {
        let model = random::model(&mut rng, Dims::TINY, kind).unwrap();
        let prompt = random::ids(&mut rng, 4);
        let want = model.logits(&prompt, &mut model.new_cache()).unwrap();
        let mut bent = model.clone();
        let (k, row) = (bent.embed.cols, prompt[0] as usize);
        let nb = k / BLOCK;
        let block = (0..nb)
            .max_by_key(|&b| bent.embed.d[row * nb + b].unsigned_abs())
            .unwrap();
        let four_bit = bent.embed.q.iter().all(|q| (0..=15).contains(q));
        let q = &mut bent.embed.q[row * k + block * BLOCK + rng.random_range(0..BLOCK)];
        *q ^= if four_bit { 8 } else { 64 };
        if *q == -128 {
            *q = 0;
        }
        for (backend, matmul) in setups() {
            let got = BurnLm::new(&bent, backend, matmul)
                .unwrap()
                .logits(&prompt, &mut Default::default())
                .unwrap();
            let what = format!("{kind:?} on {} {}", backend.name(), matmul.name());
            assert_ne!(got, want, "{what}: a flipped bit went unseen");
            assert_eq!(got, bent.logits(&prompt, &mut bent.new_cache()).unwrap());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Every op alone, at the extremes.

fn devices() -> impl Iterator<Item = (BurnBackend, Device)> {
    BurnBackend::ALL.iter().map(|&b| (b, b.device()))
}

fn row<const D: usize>(values: &[i64], shape: [usize; D], device: &Device) -> Tensor<D, Int> {
    upload(values.to_vec(), shape, device)
}

#[test]
fn rounding_division_and_square_root_match_at_the_extremes() {
    let mut rng = rng("rounding_division_and_square_root_match_at_the_extremes");
    // round_shift: every shift, negative and positive ties, the largest allowed magnitudes.
    let (mut a, mut s) = (Vec::new(), Vec::new());
    for shift in 0..=62i64 {
        let half = if shift == 0 { 0 } else { 1i64 << (shift - 1) };
        for v in [
            -half,
            half,
            -3 * half,
            3 * half,
            -half - 1,
            (1 << 62) - 1 - half,
            -(1 << 62),
            rng.random_range(-(1i64 << 62)..1 << 62),
        ] {
            // The formula's domain: the rounding term must not overflow.
            if v.checked_add(half).is_some() {
                a.push(v);
                s.push(shift);
            }
        }
    }
    let want: Vec<i64> = a
        .iter()
        .zip(&s)
        .map(|(&a, &s)| round_half_up(a, s as u8))
        .collect();
    // div_round: negative ties, exact quotients, the widest RMSNorm operands.
    let (mut num, mut den) = (
        vec![7i64, -7, -8, -9, 9, 0, -1, 1],
        vec![2i64, 2, 3, 2, 2, 5, 2, 2],
    );
    for _ in 0..200 {
        let bits = rng.random_range(1..=46);
        let b = rng.random_range(1..1i64 << bits);
        let q = rng.random_range(-1000..=1000);
        for a in [q * b, q * b + b / 2, q * b - b / 2] {
            num.push(a);
            den.push(b);
        }
        num.push(rng.random_range(-(1i64 << 57)..1 << 57));
        den.push(rng.random_range(1..1i64 << 56));
    }
    let quotients: Vec<i64> = num
        .iter()
        .zip(&den)
        .map(|(&a, &b)| div_round(a, b))
        .collect();
    // isqrt: squares and their neighbours up to i64::MAX.
    let mut n = vec![
        0i64,
        1,
        2,
        3,
        4,
        i64::MAX,
        i64::MAX - 1,
        (1 << 62) - 1,
        1 << 62,
    ];
    for _ in 0..300 {
        let r = rng.random_range(0..=isqrt(i64::MAX));
        for v in [r * r, r * r - 1, r * r + 1, rng.random_range(0..=i64::MAX)] {
            if v >= 0 {
                n.push(v);
            }
        }
    }
    let roots: Vec<i64> = n.iter().map(|&v| isqrt(v)).collect();
    for (backend, device) in devices() {
        let len = a.len();
        let got = download(ops::round_shift(
            row(&a, [len], &device),
            row(&s, [len], &device),
        ));
        assert_eq!(got, want, "round_shift on {}", backend.name());
        let len = num.len();
        let got = download(ops::div_round(
            row(&num, [len], &device),
            row(&den, [len], &device),
        ));
        assert_eq!(got, quotients, "div_round on {}", backend.name());
        let got = download(ops::isqrt(row(&n, [n.len()], &device)));
        assert_eq!(got, roots, "isqrt on {}", backend.name());
    }
}

fn narrow16(v: &[i64]) -> Vec<i16> {
    v.iter().map(|&x| x as i16).collect()
}

#[test]
fn dense_and_embedding_match_at_the_extremes() {
    let mut rng = rng("dense_and_embedding_match_at_the_extremes");
    for (k, n, t) in [(32, 5, 1), (64, 7, 3), (96, 9, 4)] {
        for four_bit in [true, false] {
            let w = random::dense(&mut rng, n, k, if four_bit { 4 } else { 8 }, 26..=46);
            let x: Vec<i64> = (0..t * k)
                .map(|_| random::extreme(&mut rng, NORM_Q))
                .collect();
            let exps: Vec<i64> = (0..t).map(|_| rng.random_range(0..=17)).collect();
            let e8: Vec<u8> = exps.iter().map(|&e| e as u8).collect();
            let plain = reference::dense(&narrow16(&x), None, &w, RES_MAX);
            let shifted = reference::dense(&narrow16(&x), Some(&e8), &w, RES_MAX);
            let gather: Vec<Requant> = (0..n)
                .map(|_| Requant::from_scale(10f64.powf(rng.random_range(-9.0..2.0))).unwrap())
                .collect();
            let ids: Vec<u32> = (0..t).map(|_| rng.random_range(0..n as u32)).collect();
            let mut embedded = vec![0i32; t * k];
            for (out, &id) in embedded.chunks_mut(k).zip(&ids) {
                reference::embed(&w, &gather, id as usize, out);
            }
            for (backend, matmul) in setups() {
                let device = backend.device();
                let p = Projection::new(&w, matmul, &device);
                let xs = row(&x, [t, k], &device);
                let (b, m) = (backend.name(), matmul.name());
                let what = format!("{n}×{k}, {t} rows, 4-bit {four_bit}, {b} {m}");
                let got = download(p.apply(xs.clone(), None, RES_MAX));
                assert_eq!(
                    got,
                    plain.iter().map(|&v| i64::from(v)).collect::<Vec<_>>(),
                    "{what}"
                );
                let got = download(p.apply(xs, Some(row(&exps, [t, 1], &device)), RES_MAX));
                let want: Vec<i64> = shifted.iter().map(|&v| i64::from(v)).collect();
                assert_eq!(got, want, "{what}, exponents {exps:?}");
                let table = Embedding::new(&w, &gather, matmul, &device);
                let got = download(table.gather(upload(ids.clone(), [t], &device)));
                let want: Vec<i64> = embedded.iter().map(|&v| i64::from(v)).collect();
                assert_eq!(got, want, "{what}: embedding");
            }
        }
    }
}

#[test]
fn rmsnorm_matches_at_the_extremes() {
    let mut rng = rng("rmsnorm_matches_at_the_extremes");
    for k in [32, 64, 576] {
        for frac in [0u8, 1, 17, 24] {
            let gain = Gain {
                g: (0..k)
                    .map(|_| random::extreme(&mut rng, i64::from(i32::MAX)) as i32)
                    .collect(),
                frac,
            };
            let eps = rng.random_range(1..=1 << 20);
            // Rows: all at +RES_MAX, alternating ±RES_MAX, all zero (Σ r² = 0), tiny, random.
            let mut r: Vec<i64> = vec![RES_MAX; k];
            r.extend((0..k).map(|i| if i % 2 == 0 { RES_MAX } else { -RES_MAX }));
            r.extend(vec![0; k]);
            r.extend((0..k).map(|_| rng.random_range(-3..=3)));
            r.extend((0..k).map(|_| random::extreme(&mut rng, RES_MAX)));
            let rows = r.len() / k;
            let mut want = vec![0i16; rows * k];
            let r32: Vec<i32> = r.iter().map(|&v| v as i32).collect();
            for (out, x) in want.chunks_mut(k).zip(r32.chunks(k)) {
                reference::rmsnorm(x, &gain, eps, NORM_Q, out);
            }
            let want: Vec<i64> = want.iter().map(|&v| i64::from(v)).collect();
            for (backend, device) in devices() {
                let got = download(Norm::new(&gain, &device).apply(
                    row(&r, [rows, k], &device),
                    eps,
                    NORM_Q,
                ));
                assert_eq!(got, want, "K {k}, F {frac}, E {eps} on {}", backend.name());
            }
        }
    }
}

#[test]
fn attention_ops_match_at_the_extremes() {
    let mut rng = rng("attention_ops_match_at_the_extremes");
    let model = random::model(&mut rng, Dims::TINY, GgmlDType::Q8_0).unwrap();
    let (d, half) = (model.config.head_dim, model.config.head_dim / 2);
    // RoPE over the model's tables at arbitrary positions, inputs at ±B_qk.
    let (t, heads, start) = (3, 2, rng.random_range(0..int::CONTEXT - 3));
    let x: Vec<i64> = (0..t * heads * d)
        .map(|_| random::extreme(&mut rng, QK_Q))
        .collect();
    let mut rotated = narrow16(&x);
    for (i, r) in rotated.chunks_mut(heads * d).enumerate() {
        let p = start + i;
        let (c, s) = (
            &model.rope_cos[p * half..][..half],
            &model.rope_sin[p * half..][..half],
        );
        r.chunks_mut(d).for_each(|h| reference::rope(h, c, s, QK_Q));
    }
    // Scores: one query row against 5 keys, both at ±B_qk.
    let qk = Requant::from_scale(rng.random_range(1e-7..1e-4)).unwrap();
    let q: Vec<i64> = (0..d).map(|_| random::extreme(&mut rng, QK_Q)).collect();
    let keys: Vec<i64> = (0..5 * d)
        .map(|_| random::extreme(&mut rng, QK_Q))
        .collect();
    let scores: Vec<i64> = keys
        .chunks(d)
        .map(|k| i64::from(reference::score(&narrow16(&q), &narrow16(k), qk)))
        .collect();
    // Softmax rows of 8: all equal, differences right at the table's end, the extreme clamps,
    // random; each with a masked tail of random length.
    let len = model.exp.len() as i64;
    let mut rows: Vec<Vec<i64>> = vec![
        vec![7; 8],
        vec![-(1 << 30); 8],
        vec![0, -len, -len + 1, -len - 1, -1, 1 - len, 5, 5],
        vec![1 << 30, -(1 << 30), 1 << 30, 0, -1, 1, -(1 << 30), 1 << 30],
    ];
    for _ in 0..8 {
        rows.push((0..8).map(|_| rng.random_range(-600..600)).collect());
        rows.push((0..8).map(|_| random::extreme(&mut rng, 1 << 30)).collect());
    }
    let (mut s, mut p) = (Vec::new(), Vec::new());
    for r in &rows {
        let live = rng.random_range(1..=8);
        let s32: Vec<i32> = r[..live].iter().map(|&v| v as i32).collect();
        let mut probs = vec![0u16; live];
        reference::softmax(&s32, &model.exp, &mut probs);
        s.extend(r[..live].iter().copied().chain(vec![ops::MASKED; 8 - live]));
        p.extend(probs.iter().map(|&v| i64::from(v)).chain(vec![0; 8 - live]));
    }
    let n = rows.len();
    // P·V: probabilities up to 2^15 against values at ±16383, 6 positions, 4 columns.
    let probs: Vec<i64> = (0..6).map(|_| rng.random_range(0..=1 << 15)).collect();
    let values: Vec<i64> = (0..6 * 4).map(|_| random::extreme(&mut rng, V_Q)).collect();
    let p16: Vec<u16> = probs.iter().map(|&v| v as u16).collect();
    let outputs: Vec<i64> = (0..4)
        .map(|col| {
            let column = (0..6).map(|j| values[j * 4 + col] as i16);
            i64::from(reference::pv(&p16, column, V_Q))
        })
        .collect();
    for (backend, device) in devices() {
        let name = backend.name();
        let rope = Rope::new(&model.rope_cos, &model.rope_sin, half, &device);
        let got = download(rope.apply(row(&x, [t, heads * d], &device), start, d, QK_Q));
        let want: Vec<i64> = rotated.iter().map(|&v| i64::from(v)).collect();
        assert_eq!(got, want, "rope at {start} on {name}");
        let got = download(ops::scores(
            row(&q, [1, 1, d], &device),
            row(&keys, [1, 5, d], &device),
            qk,
        ));
        assert_eq!(got, scores, "scores on {name}");
        let exp = ExpTable::new(&model.exp, &device);
        let got = download(ops::softmax(row(&s, [n, 8], &device), &exp));
        assert_eq!(got, p, "softmax on {name}");
        let got = download(ops::pv(
            row(&probs, [1, 1, 6], &device),
            row(&values, [1, 6, 4], &device),
            V_Q,
        ));
        assert_eq!(got, outputs, "pv on {name}");
    }
}

#[test]
fn add_lookup_and_product_match_at_the_extremes() {
    let mut rng = rng("add_lookup_and_product_match_at_the_extremes");
    // Residual add at ±RES_MAX.
    let a: Vec<i64> = (0..64)
        .map(|_| random::extreme(&mut rng, RES_MAX))
        .collect();
    let b: Vec<i64> = (0..64)
        .map(|_| random::extreme(&mut rng, RES_MAX))
        .collect();
    let mut sum: Vec<i32> = a.iter().map(|&v| v as i32).collect();
    reference::add(&mut sum, &b.iter().map(|&v| v as i32).collect::<Vec<_>>());
    // SiLU-style lookup over the whole gate range.
    let table: Vec<i16> = (0..2 * GU_Q + 1).map(|_| rng.random()).collect();
    let gate: Vec<i64> = (0..256).map(|_| random::extreme(&mut rng, GU_Q)).collect();
    let looked = reference::lookup(
        &gate.iter().map(|&v| v as i32).collect::<Vec<_>>(),
        &table,
        GU_Q,
    );
    // Product rows whose largest |a·u| has every bit length from 0 to 30 (so e from 0 to 15),
    // with negative ties of the rounding beside it, plus a = −2^15 against u = −32767.
    let f = 48;
    let (mut sa, mut su) = (Vec::new(), Vec::new());
    for bits in 0..=30u32 {
        let (ha, hb) = (bits / 2, bits - bits / 2);
        let (mut ra, mut ru) = (vec![0i64; f], vec![0i64; f]);
        if bits >= 4 {
            let a0 = rng.random_range((1i64 << (ha - 1)) + 1..1 << ha);
            let u0 = ((1i64 << (bits - 1)) + a0 - 1) / a0;
            (ra[0], ru[0]) = (a0, -u0);
            for i in 1..f {
                ra[i] = rng.random_range(-(1i64 << (ha - 1))..=1 << (ha - 1));
                ru[i] = rng.random_range(-(1i64 << (hb - 1))..=1 << (hb - 1));
            }
        } else {
            (ra[0], ru[0]) = ((1 << bits) - 1, 1);
        }
        let e = bit_length(ra[0] * ru[0]).saturating_sub(bit_length(P_Q));
        if e > 0 {
            // a·u = −(2k + 1)·2^(e−1): exactly half way, rounded up.
            for (i, k) in (f - 4..f).zip(0..) {
                let odd: i64 = 2 * k + 1;
                (ra[i], ru[i]) = if e <= 15 {
                    (-odd, 1 << (e - 1))
                } else {
                    (-odd << (e - 15), 1 << 14)
                };
            }
        }
        sa.extend(ra);
        su.extend(ru);
    }
    sa.extend(vec![-(1 << 15); f]);
    su.extend(vec![-GU_Q; f]);
    let rows = sa.len() / f;
    let mut py = vec![0i16; rows * f];
    let pe: Vec<i64> = py
        .chunks_mut(f)
        .zip(sa.chunks(f).zip(su.chunks(f)))
        .map(|(o, (a, u))| {
            let u32s: Vec<i32> = u.iter().map(|&v| v as i32).collect();
            i64::from(reference::product(&narrow16(a), &u32s, o))
        })
        .collect();
    let exps: std::collections::BTreeSet<i64> = pe.iter().copied().collect();
    assert_eq!(
        exps,
        (0..=i64::from(MAX_EXPONENT)).collect(),
        "the product rows cover every exponent"
    );
    for (backend, device) in devices() {
        let name = backend.name();
        let got = download(ops::add(
            row(&a, [1, 64], &device),
            row(&b, [1, 64], &device),
        ));
        assert_eq!(
            got,
            sum.iter().map(|&v| i64::from(v)).collect::<Vec<_>>(),
            "add on {name}"
        );
        let got = download(Table::new(&table, GU_Q, &device).lookup(row(&gate, [2, 128], &device)));
        assert_eq!(
            got,
            looked.iter().map(|&v| i64::from(v)).collect::<Vec<_>>(),
            "lookup on {name}"
        );
        let (y, e) = ops::product(row(&sa, [rows, f], &device), row(&su, [rows, f], &device));
        assert_eq!(download(e), pe, "exponents on {name}");
        assert_eq!(
            download(y),
            py.iter().map(|&v| i64::from(v)).collect::<Vec<_>>(),
            "product on {name}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The real model.

#[test]
fn smollm2_on_burn_equals_the_reference() {
    let path = vouch_llm::smollm2_path();
    assert!(
        path.exists(),
        "{} is missing: run scripts/fetch-smollm2.sh first (VOUCH_SMOLLM2 overrides the path)",
        path.display()
    );
    let began = Instant::now();
    let gguf = Gguf::open(&path).unwrap();
    let tokenizer = ChatTokenizer::new(&TokenizerSpec::from_gguf(&gguf).unwrap()).unwrap();
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/llm/calibration.txt"),
    )
    .unwrap();
    // A short calibration: exactness does not depend on the scales' quality.
    let calibration = tokenizer.encode(&text).unwrap();
    let (model, _) = int::import(&gguf, &calibration[..64], &[]).unwrap();
    eprintln!("imported in {:.1} s", began.elapsed().as_secs_f64());
    let prompt = tokenizer.encode("The capital of France is").unwrap();
    let vocab = model.config.vocab;
    let next = |logits: &[i32]| reference::argmax(&logits[logits.len() - vocab..]) as u32;
    let mut cache = model.new_cache();
    let mut want = vec![model.logits(&prompt, &mut cache).unwrap()];
    for _ in 0..2 {
        let id = next(want.last().unwrap());
        want.push(model.logits(&[id], &mut cache).unwrap());
    }
    for (backend, matmul) in setups() {
        let what = format!("{} {}", backend.name(), matmul.name());
        let began = Instant::now();
        let burn = BurnLm::new(&model, backend, matmul).unwrap();
        let uploaded = began.elapsed().as_secs_f64();
        let mut cache = burn.new_cache();
        let mut got = vec![burn.logits(&prompt, &mut cache).unwrap()];
        for step in &want[..2] {
            got.push(burn.logits(&[next(step)], &mut cache).unwrap());
        }
        eprintln!(
            "{what}: uploaded in {uploaded:.1} s, {} prompt tokens and 2 decode steps in {:.1} s",
            prompt.len(),
            began.elapsed().as_secs_f64() - uploaded
        );
        assert!(got == want, "SmolLM2 on {what} differs from the reference");
    }
}
