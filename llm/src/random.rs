//! Small random llama models for tests: a GGUF written with candle's own writer (random weights of
//! any supported type, a byte-level vocabulary with ChatML control tokens), and its integer model
//! imported from it as a real GGUF is.

use crate::{
    IntModel,
    error::{LlmError, Result},
    gguf::{BLOCK, Gguf},
    int::{self, Dense},
};
use candle_core::{
    Device, Tensor,
    quantized::{GgmlDType, QTensor, gguf_file::Value},
};
use rand::{Rng, rngs::StdRng};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicUsize, Ordering};
use vouch_core::quant::Requant;

/// The merges of the tiny vocabulary.
pub const MERGES: [(&str, &str); 4] = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n")];
/// The system message of the tiny chat template.
pub const SYSTEM: &str = "You are a tiny random test model.";
/// 256 byte tokens, the merged tokens, `<|im_start|>`, `<|im_end|>` (the eos).
pub const VOCAB: usize = 256 + MERGES.len() + 2;
/// `<|im_start|>`.
pub const IM_START: u32 = VOCAB as u32 - 2;
/// `<|im_end|>`, the eos.
pub const IM_END: u32 = VOCAB as u32 - 1;

/// The shape of a random model.
#[derive(Debug, Clone, Copy)]
pub struct Dims {
    /// Residual width (a multiple of 32 and of `heads`).
    pub hidden: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads (dividing `heads`).
    pub kv_heads: usize,
    /// SwiGLU width (a multiple of 32).
    pub ffn: usize,
    /// Blocks.
    pub blocks: usize,
    /// Context length.
    pub context: usize,
}

impl Dims {
    /// 2 blocks, hidden 64, 2 query heads sharing 1 key/value head (head width 32), SwiGLU 96.
    pub const TINY: Self = Self {
        hidden: 64,
        heads: 2,
        kv_heads: 1,
        ffn: 96,
        blocks: 2,
        context: 128,
    };
}

/// GPT-2's byte → printable character map (`bytes_to_unicode`).
pub fn byte_char(b: u8) -> char {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xa1..=0xac | 0xae..=0xff);
    if printable(b) {
        return char::from(b);
    }
    let n = (0..b).filter(|&c| !printable(c)).count() as u32;
    char::from_u32(256 + n).expect("a BMP character")
}

/// A normal sample (Box–Muller).
pub fn normal(rng: &mut StdRng, std: f32) -> f32 {
    let (u, v): (f32, f32) = (rng.random_range(1e-7..1.0), rng.random());
    std * (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
}

/// A random tensor of normal entries around `mean`, stored as `kind`.
pub fn qtensor(rng: &mut StdRng, shape: &[usize], kind: GgmlDType, mean: f32, std: f32) -> QTensor {
    let n = shape.iter().product();
    let data: Vec<f32> = (0..n).map(|_| mean + normal(rng, std)).collect();
    let t = Tensor::from_vec(data, shape, &Device::Cpu).expect("a tensor of its own shape");
    QTensor::quantize(&t, kind).expect("every supported type quantizes f32")
}

/// A value in `±bound` for tests at the extremes: `bound`, `−bound` and 0 an eighth of the time each,
/// else uniform.
pub fn extreme(rng: &mut StdRng, bound: i64) -> i64 {
    match rng.random_range(0..8) {
        0 => bound,
        1 => -bound,
        2 => 0,
        _ => rng.random_range(-bound..=bound),
    }
}

/// A random projection of `rows × cols`: `q` 4-bit (`0..=15`) or 8-bit (`±127`, often at the bounds)
/// per `bits`, block scales `D` and offsets `N` in `±32767` (often at the bounds), 16-bit multipliers
/// and shifts drawn from `shifts`.
pub fn dense(
    rng: &mut StdRng,
    rows: usize,
    cols: usize,
    bits: u8,
    shifts: RangeInclusive<u8>,
) -> Dense {
    let blocks = rows * cols / BLOCK;
    let i16s = |rng: &mut StdRng, n: usize, bound: i64| -> Vec<i16> {
        (0..n).map(|_| extreme(rng, bound) as i16).collect()
    };
    let q = match bits {
        4 => (0..rows * cols)
            .map(|_| (extreme(rng, 8) + 7).clamp(0, 15) as i16)
            .collect(),
        _ => i16s(rng, rows * cols, 127),
    };
    let (d, n) = (i16s(rng, blocks, 32767), i16s(rng, blocks, 32767));
    Dense {
        rows,
        cols,
        q,
        d,
        n,
        requant: (0..rows)
            .map(|_| Requant {
                multiplier: rng.random_range(1 << 15..1 << 16),
                shift: rng.random_range(shifts.clone()),
            })
            .collect(),
    }
}

/// Random token ids of the tiny vocabulary.
pub fn ids(rng: &mut StdRng, n: usize) -> Vec<u32> {
    (0..n).map(|_| rng.random_range(0..VOCAB as u32)).collect()
}

/// A GGUF under construction: its metadata and tensors, editable before [`TinyGguf::bytes`].
pub struct TinyGguf {
    /// Metadata entries in order.
    pub metadata: Vec<(String, Value)>,
    /// Tensors in order.
    pub tensors: Vec<(String, QTensor)>,
}

impl TinyGguf {
    /// A random llama of shape `dims` with its projections and embedding stored as `kind` (norms F32).
    pub fn new(rng: &mut StdRng, dims: Dims, kind: GgmlDType) -> Self {
        let mut tokens: Vec<String> = (0..=255u8).map(|b| byte_char(b).to_string()).collect();
        tokens.extend(MERGES.iter().map(|(a, b)| format!("{a}{b}")));
        tokens.extend(["<|im_start|>".into(), "<|im_end|>".into()]);
        let types = (0..VOCAB).map(|i| Value::I32(if i >= IM_START as usize { 3 } else { 1 }));
        let template = format!(
            "{{% for message in messages %}}{{% if loop.first and messages[0]['role'] != 'system' %}}\
             {{{{ '<|im_start|>system\n{SYSTEM}<|im_end|>\n' }}}}{{% endif %}}\
             {{{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}}}\
             {{% endfor %}}{{% if add_generation_prompt %}}{{{{ '<|im_start|>assistant\n' }}}}{{% endif %}}"
        );
        let string = |s: &str| Value::String(s.into());
        let strings = |v: Vec<String>| Value::Array(v.into_iter().map(Value::String).collect());
        let u32 = |n: usize| Value::U32(n as u32);
        let metadata = vec![
            ("general.architecture", string("llama")),
            ("llama.block_count", u32(dims.blocks)),
            ("llama.embedding_length", u32(dims.hidden)),
            ("llama.feed_forward_length", u32(dims.ffn)),
            ("llama.attention.head_count", u32(dims.heads)),
            ("llama.attention.head_count_kv", u32(dims.kv_heads)),
            ("llama.attention.layer_norm_rms_epsilon", Value::F32(1e-5)),
            ("llama.rope.freq_base", Value::F32(10000.0)),
            ("llama.context_length", u32(dims.context)),
            ("tokenizer.ggml.model", string("gpt2")),
            ("tokenizer.ggml.pre", string("smollm")),
            ("tokenizer.ggml.tokens", strings(tokens)),
            ("tokenizer.ggml.token_type", Value::Array(types.collect())),
            (
                "tokenizer.ggml.merges",
                strings(MERGES.iter().map(|(a, b)| format!("{a} {b}")).collect()),
            ),
            ("tokenizer.ggml.eos_token_id", Value::U32(IM_END)),
            ("tokenizer.chat_template", string(&template)),
        ];
        let (k, f) = (dims.hidden, dims.ffn);
        let kv = dims.kv_heads * k / dims.heads;
        let mut tensors = vec![(
            "token_embd.weight".to_string(),
            qtensor(rng, &[VOCAB, k], kind, 0.0, 0.1),
        )];
        for b in 0..dims.blocks {
            for (name, shape) in [
                ("attn_q", [k, k]),
                ("attn_k", [kv, k]),
                ("attn_v", [kv, k]),
                ("attn_output", [k, k]),
                ("ffn_gate", [f, k]),
                ("ffn_up", [f, k]),
                ("ffn_down", [k, f]),
            ] {
                let t = qtensor(rng, &shape, kind, 0.0, 0.1);
                tensors.push((format!("blk.{b}.{name}.weight"), t));
            }
            for norm in ["attn_norm", "ffn_norm"] {
                let t = qtensor(rng, &[k], GgmlDType::F32, 1.0, 0.05);
                tensors.push((format!("blk.{b}.{norm}.weight"), t));
            }
        }
        // Last and unpadded when `hidden · 4` is a multiple of 32: cutting the file anywhere cuts a
        // tensor.
        let t = qtensor(rng, &[k], GgmlDType::F32, 1.0, 0.05);
        tensors.push(("output_norm.weight".into(), t));
        let metadata = metadata.into_iter().map(|(k, v)| (k.into(), v)).collect();
        Self { metadata, tensors }
    }

    /// Sets (or adds) a metadata entry.
    pub fn set(&mut self, key: &str, value: Value) {
        match self.metadata.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.metadata.push((key.into(), value)),
        }
    }

    /// Replaces the tensor `name`.
    ///
    /// # Panics
    /// If there is no such tensor.
    pub fn set_tensor(&mut self, name: &str, t: QTensor) {
        let slot = self.tensors.iter_mut().find(|(n, _)| n == name);
        slot.unwrap_or_else(|| panic!("no tensor {name}")).1 = t;
    }

    /// The file's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let metadata: Vec<_> = self.metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let tensors: Vec<_> = self.tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let mut out = std::io::Cursor::new(Vec::new());
        candle_core::quantized::gguf_file::write(&mut out, &metadata, &tensors)
            .expect("writing into memory does not fail");
        out.into_inner()
    }

    /// Where the tensor data starts (everything before it is header, metadata and directory).
    pub fn header_len(&self) -> usize {
        let data: usize = self
            .tensors
            .iter()
            .map(|(_, t)| t.storage_size_in_bytes().next_multiple_of(32))
            .sum();
        self.bytes().len() - data
    }
}

/// A random integer model of shape `dims`: a [`TinyGguf`] of `kind` imported with 48 random
/// calibration tokens, as `vouch model import` imports a real one.
pub fn model(rng: &mut StdRng, dims: Dims, kind: GgmlDType) -> Result<IntModel> {
    static FILES: AtomicUsize = AtomicUsize::new(0);
    let n = FILES.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("vouch-random-{}-{n}.gguf", std::process::id()));
    std::fs::write(&path, TinyGguf::new(rng, dims, kind).bytes())
        .map_err(|e| LlmError::Io(format!("{}: {e}", path.display())))?;
    let calibration = ids(rng, 48);
    let imported = Gguf::open(&path).and_then(|g| int::import(&g, &calibration, &[]));
    let _ = std::fs::remove_file(&path);
    Ok(imported?.0)
}
