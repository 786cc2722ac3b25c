//! Import: a llama GGUF → the canonical integer model (docs/LLM_INT.md §4). Floats appear only
//! here, to compute the integer constants from the GGUF's weights and a calibration run.

use super::{
    Block, CONTEXT, Dense, EXP_FRAC, GU_Q, Gain, IntModel, LOGIT_FRAC, MAX_EXPONENT, NORM_FRAC,
    NORM_Q, QK_Q, RES_FRAC, ROPE_FRAC, SCORE_FRAC, V_Q,
};
use crate::{
    config::LlamaConfig,
    error::{LlmError, Result},
    float::{Calibration, FloatModel},
    gguf::{BLOCK, BlockRows, Gguf},
    lm::{expect_shape, generate},
    tokenizer::{ChatTokenizer, TokenizerSpec},
};
use vouch_core::quant::Requant;

/// Tokens the float model answers each calibration prompt with; the answer is calibrated too.
pub const CALIBRATION_ANSWER: usize = 24;

/// Headroom of every static activation scale over the largest magnitude calibration saw: a new
/// text's activations may exceed a calibration's (docs/LLM_INT.md §4).
pub const HEADROOM: f64 = 1.25;

/// The gate and up projections' headroom. Their maxima vary the most from text to text: over 30
/// unseen prompts, up to 1.35× what 24 calibration prompts and 512 text tokens reached.
pub const GATE_UP_HEADROOM: f64 = 2.0;

/// What the import measured, for the report.
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// Calibration tokens run through the float model: the text's, the prompts' and the answers'.
    pub calibration_tokens: usize,
    /// Chat prompts among them, each answered by the float model.
    pub calibration_prompts: usize,
    /// Relative error of the integer weights against the GGUF's (the 16-bit rounding of each
    /// block's scale and offset): the largest over all projections.
    pub max_weight_error: f64,
}

/// A real ratio as a 16-bit `(M, s)` (the denses' i64 accumulators reach 2^46).
fn fit16(scale: f64, what: &str) -> Result<Requant> {
    Requant::from_scale_bits(scale, 16).ok_or_else(|| {
        LlmError::Quantize(format!("{what}: scale {scale:e} has no 16-bit multiplier"))
    })
}

fn fit31(scale: f64, what: &str) -> Result<Requant> {
    Requant::from_scale_bits(scale, 31).ok_or_else(|| {
        LlmError::Quantize(format!("{what}: scale {scale:e} has no 31-bit multiplier"))
    })
}

/// The GGUF's blocks as integers: per row `σ = max_b max(|d_b|, |m_b|) / 32767`, `D = round(d/σ)`,
/// `N = round(m/σ)`; returns the dense without requantization and each row's `σ`, plus the largest
/// relative error `|D σ − d|` over the blocks' scales.
fn exact_rows(b: &BlockRows) -> (Dense, Vec<f64>, f64) {
    let nb = b.cols / BLOCK;
    let mut d = Vec::with_capacity(b.d.len());
    let mut n = Vec::with_capacity(b.m.len());
    let mut sigmas = Vec::with_capacity(b.rows);
    let mut worst = 0f64;
    for row in 0..b.rows {
        let (rd, rm) = (&b.d[row * nb..][..nb], &b.m[row * nb..][..nb]);
        let big = rd
            .iter()
            .chain(rm)
            .fold(0f64, |a, &v| a.max(f64::from(v).abs()));
        let sigma = if big > 0.0 { big / 32767.0 } else { 1.0 };
        for (&dv, &mv) in rd.iter().zip(rm) {
            let (di, ni) = (
                (f64::from(dv) / sigma).round_ties_even(),
                (f64::from(mv) / sigma).round_ties_even(),
            );
            worst = worst.max((di * sigma - f64::from(dv)).abs() / big.max(f64::MIN_POSITIVE));
            d.push(di as i16);
            n.push(ni as i16);
        }
        sigmas.push(sigma);
    }
    let dense = Dense {
        rows: b.rows,
        cols: b.cols,
        q: b.q.iter().map(|&v| i16::from(v)).collect(),
        d,
        n,
        requant: Vec::new(),
    };
    (dense, sigmas, worst)
}

/// `G_i = round(2^F · √K · g_i / c)` with the largest `F ≤ 24` that keeps every `|G_i| < 2^31`.
fn gain(g: &[f32], c: f64) -> Result<Gain> {
    let k = g.len() as f64;
    let real: Vec<f64> = g.iter().map(|&v| k.sqrt() * f64::from(v) / c).collect();
    let big = real.iter().fold(0f64, |a, v| a.max(v.abs()));
    let mut frac = if big > 0.0 {
        NORM_FRAC.min(((f64::from(i32::MAX)) / big).log2().floor() as i32)
    } else {
        NORM_FRAC
    };
    let over = |f: i32| {
        real.iter()
            .any(|v| (v * 2f64.powi(f)).round_ties_even().abs() >= 2f64.powi(31))
    };
    while frac >= 0 && over(frac) {
        frac -= 1;
    }
    if frac < 0 {
        return Err(LlmError::Quantize(format!(
            "an RMSNorm gain of {big:e} does not fit int32"
        )));
    }
    let g = real
        .iter()
        .map(|v| (v * 2f64.powi(frac)).round_ties_even() as i32)
        .collect();
    Ok(Gain {
        g,
        frac: frac as u8,
    })
}

/// The calibrated scale of an activation: its largest magnitude times `headroom`, over the bound.
fn scale_of(absmax: f32, bound: i64, headroom: f64) -> f64 {
    headroom * f64::from(absmax).max(1e-6) / bound as f64
}

struct Importer<'a> {
    g: &'a Gguf,
    config: LlamaConfig,
    max_weight_error: f64,
}

impl Importer<'_> {
    /// A tensor's integer rows (no requantization yet) and each row's `σ_n`.
    fn rows(&mut self, name: &str, shape: (usize, usize)) -> Result<(Dense, Vec<f64>)> {
        let t = self.g.tensor(name)?;
        expect_shape(name, (t.rows, t.cols), shape)?;
        let blocks = t.to_blocks();
        // Q8_0 allows −128 (llama.cpp never writes it); the model file holds −127..=127.
        if blocks.q.contains(&i8::MIN) {
            return Err(LlmError::Unsupported(format!(
                "tensor {name}: a Q8_0 weight integer is −128, outside −127..=127"
            )));
        }
        let (dense, sigmas, err) = exact_rows(&blocks);
        self.max_weight_error = self.max_weight_error.max(err);
        Ok((dense, sigmas))
    }

    /// A projection's integer rows and per-row `(M, s)` for `σ_n · ratio` (`ratio = c_in / c_out`).
    fn dense(&mut self, name: &str, shape: (usize, usize), ratio: f64) -> Result<Dense> {
        let (mut dense, sigmas) = self.rows(name, shape)?;
        dense.requant = sigmas
            .iter()
            .map(|s| fit16(s * ratio, name))
            .collect::<Result<_>>()?;
        Ok(dense)
    }

    fn block(&mut self, l: usize, cal: &Calibration) -> Result<Block> {
        let c = self.config;
        let (k, kvw) = (c.hidden, c.kv_width());
        let name = |n: &str| format!("blk.{l}.{n}.weight");
        let norm = |n: &str| -> Result<Vec<f32>> { Ok(self.g.tensor(&name(n))?.to_f32()) };
        let c_an = scale_of(cal.attn_norm[l], NORM_Q, HEADROOM);
        let attn_norm = gain(&norm("attn_norm")?, c_an)?;
        let (s_q, s_k, s_v) = (
            scale_of(cal.q[l], QK_Q, HEADROOM),
            scale_of(cal.k[l], QK_Q, HEADROOM),
            scale_of(cal.v[l], V_Q, HEADROOM),
        );
        let q = self.dense(&name("attn_q"), (k, k), c_an / s_q)?;
        let kd = self.dense(&name("attn_k"), (kvw, k), c_an / s_k)?;
        let v = self.dense(&name("attn_v"), (kvw, k), c_an / s_v)?;
        let qk = fit31(
            s_q * s_k / (c.head_dim as f64).sqrt() * 2f64.powi(SCORE_FRAC),
            "scores",
        )?;
        let o = self.dense(&name("attn_output"), (k, k), s_v * 2f64.powi(RES_FRAC))?;
        let c_fn = scale_of(cal.ffn_norm[l], NORM_Q, HEADROOM);
        let ffn_norm = gain(&norm("ffn_norm")?, c_fn)?;
        let (s_g, s_u) = (
            scale_of(cal.gate[l], GU_Q, GATE_UP_HEADROOM),
            scale_of(cal.up[l], GU_Q, GATE_UP_HEADROOM),
        );
        let gate = self.dense(&name("ffn_gate"), (c.ffn, k), c_fn / s_g)?;
        let up = self.dense(&name("ffn_up"), (c.ffn, k), c_fn / s_u)?;
        let xs: Vec<f64> = (-GU_Q..=GU_Q).map(|j| j as f64 * s_g).collect();
        let silu: Vec<f64> = xs.iter().map(|x| x / (1.0 + (-x).exp())).collect();
        let s_a = silu.iter().fold(f64::MIN, |a, &b| a.max(b)) / GU_Q as f64;
        let silu = silu
            .iter()
            .map(|v| {
                (v / s_a)
                    .round_ties_even()
                    .clamp(-(GU_Q as f64), GU_Q as f64) as i16
            })
            .collect();
        let down = self.dense(
            &name("ffn_down"),
            (k, c.ffn),
            s_a * s_u * 2f64.powi(RES_FRAC),
        )?;
        // Every shift s − e must stay ≥ 1.
        if let Some(r) = down.requant.iter().find(|r| r.shift <= MAX_EXPONENT) {
            return Err(LlmError::Quantize(format!(
                "{}: shift {} ≤ {MAX_EXPONENT}",
                name("ffn_down"),
                r.shift
            )));
        }
        Ok(Block {
            attn_norm,
            q,
            k: kd,
            v,
            qk,
            o,
            ffn_norm,
            gate,
            up,
            silu,
            down,
        })
    }
}

/// The softmax's table, `EXP[d] = round(2^20 · exp(−d / 2^SCORE_FRAC))` while it rounds to at least
/// 1 (3,727 entries; docs/LLM_INT.md §3.7).
pub fn exp_table() -> Vec<i32> {
    (0..)
        .map(|d: i32| {
            (2f64.powi(EXP_FRAC) * (-f64::from(d) / 2f64.powi(SCORE_FRAC)).exp()).round_ties_even()
                as i32
        })
        .take_while(|&v| v > 0)
        .collect()
}

/// The chat prompts an import calibrates on unless told otherwise: 24 general instructions,
/// disjoint from the evaluation prompts (`models/llm/calibration-prompts.json`).
const DEFAULT_PROMPTS: &str = include_str!("../../../models/llm/calibration-prompts.json");

/// [`DEFAULT_PROMPTS`] as a list.
pub fn default_calibration_prompts() -> Vec<String> {
    serde_json::from_str(DEFAULT_PROMPTS).expect("the built-in calibration prompts are a JSON list")
}

/// [`import`] calibrated on the first `tokens` tokens of `text` and on `prompts` as chat turns,
/// tokenized by the GGUF's own tokenizer and chat template (what `vouch model import --calibration
/// TEXT [--calibration-prompts PROMPTS]` does). Without `prompts`, a model with a chat template
/// is calibrated on [`default_calibration_prompts`] too, and one without on the text alone.
pub fn import_text(
    g: &Gguf,
    text: &str,
    tokens: usize,
    prompts: Option<&[String]>,
) -> Result<(IntModel, ImportReport)> {
    let spec = TokenizerSpec::from_gguf(g)?;
    let tokenizer = ChatTokenizer::new(&spec)?;
    let mut ids = tokenizer.encode(text)?;
    ids.truncate(tokens);
    let defaults = match (prompts, &spec.system) {
        (None, Some(_)) => default_calibration_prompts(),
        _ => Vec::new(),
    };
    let chats = prompts
        .unwrap_or(&defaults)
        .iter()
        .map(|p| tokenizer.chat(p))
        .collect::<Result<Vec<_>>>()?;
    import(g, &ids, &chats)
}

/// Imports a llama GGUF: dequantizes it, runs the calibration through the float model for the
/// activation scales, and builds the integer model with the GGUF's own weight blocks.
///
/// The calibration is the token ids of a plain `text` and any number of templated chat `prompts`;
/// the float model answers each prompt greedily ([`CALIBRATION_ANSWER`] tokens) and the scales
/// cover the text, every prompt and every answer, with [`HEADROOM`].
pub fn import(g: &Gguf, text: &[u32], prompts: &[Vec<u32>]) -> Result<(IntModel, ImportReport)> {
    let config = LlamaConfig::from_gguf(g)?;
    let tokenizer = TokenizerSpec::from_gguf(g)?;
    if text.is_empty() {
        return Err(LlmError::Request(
            "the calibration text has no tokens".into(),
        ));
    }
    let float = FloatModel::load(g, config)?;
    let mut sequences = vec![text.to_vec()];
    for prompt in prompts {
        let answer = generate(&float, prompt, CALIBRATION_ANSWER, tokenizer.eos, |_| ())?;
        sequences.push([prompt.as_slice(), &answer].concat());
    }
    let cal = float.calibrate(&sequences)?;
    let mut im = Importer {
        g,
        config,
        max_weight_error: 0.0,
    };
    let c_on = scale_of(cal.out_norm, NORM_Q, HEADROOM);
    let (mut embed, sigmas) = im.rows("token_embd.weight", (config.vocab, config.hidden))?;
    embed.requant = sigmas
        .iter()
        .map(|s| fit16(s * c_on * 2f64.powi(LOGIT_FRAC), "head"))
        .collect::<Result<_>>()?;
    let embed_requant = sigmas
        .iter()
        .map(|s| fit31(s * 2f64.powi(RES_FRAC), "token_embd"))
        .collect::<Result<Vec<_>>>()?;
    let blocks = (0..config.blocks)
        .map(|l| im.block(l, &cal))
        .collect::<Result<Vec<_>>>()?;
    let out_norm = gain(&g.tensor("output_norm.weight")?.to_f32(), c_on)?;
    let half = config.head_dim / 2;
    let (mut rope_cos, mut rope_sin) = (
        Vec::with_capacity(CONTEXT * half),
        Vec::with_capacity(CONTEXT * half),
    );
    for p in 0..CONTEXT {
        for i in 0..half {
            let theta = config.rope_theta(i);
            let (s, c) = (p as f64 * theta).sin_cos();
            rope_cos.push((c * f64::from(1 << ROPE_FRAC)).round_ties_even() as i16);
            rope_sin.push((s * f64::from(1 << ROPE_FRAC)).round_ties_even() as i16);
        }
    }
    let exp = exp_table();
    let eps_term =
        (config.hidden as f64 * f64::from(config.eps) * 2f64.powi(2 * RES_FRAC)).round_ties_even();
    // E = 0 would let a zero residual row divide by zero in the RMSNorm; the load checks the same.
    if !(1.0..=f64::from(1 << 20)).contains(&eps_term) {
        return Err(LlmError::Quantize(format!(
            "llama.attention.layer_norm_rms_epsilon {}: the RMSNorm term K·eps·2^20 = {eps_term} \
             is outside 1..=2^20",
            config.eps
        )));
    }
    let eps_term = eps_term as i64;
    let model = IntModel {
        config,
        tokenizer,
        eps_term,
        embed,
        embed_requant,
        rope_cos,
        rope_sin,
        exp,
        blocks,
        out_norm,
    };
    // The load's checks, so an import never produces a file that cannot be loaded.
    model.validate()?;
    let report = ImportReport {
        calibration_tokens: sequences.iter().map(Vec::len).sum(),
        calibration_prompts: prompts.len(),
        max_weight_error: im.max_weight_error,
    };
    Ok((model, report))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_built_in_calibration_prompts_are_none_of_the_evaluation_prompts() {
        let calibration = super::default_calibration_prompts();
        assert_eq!(calibration.len(), 24);
        for set in [
            include_str!("../../../models/llm/prompts.json"),
            include_str!("../../../models/llm/prompts-extra.json"),
        ] {
            let evaluation: Vec<String> = serde_json::from_str(set).unwrap();
            assert!(evaluation.iter().all(|p| !calibration.contains(p)));
        }
    }
}
