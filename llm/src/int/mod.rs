//! The model in canonical integers (docs/LLM_INT.md): its constants, its parts, and the forward
//! pass every honest machine computes to the bit.

pub mod arith;
mod file;
pub(crate) mod forward;
mod import;
pub mod ops;
pub mod rows;

pub use file::{LLM_MAGIC, load, save};
pub use forward::IntCache;
pub use import::{
    CALIBRATION_ANSWER, GATE_UP_HEADROOM, HEADROOM, ImportReport, default_calibration_prompts,
    exp_table, import, import_text,
};

use crate::{config::LlamaConfig, tokenizer::TokenizerSpec};
use serde::{Deserialize, Serialize};
use vouch_core::quant::Requant;

/// Residual stream: int32 in units of 2^-10.
pub const RES_FRAC: i32 = 10;
/// Every residual element is clamped to ±`RES_MAX` (so `Σ r²` of a row stays inside i64).
pub const RES_MAX: i64 = (1 << 26) - 1;
/// RMSNorm gains carry at most this many fractional bits.
pub const NORM_FRAC: i32 = 24;
/// RoPE tables: int16 in units of 2^-14.
pub const ROPE_FRAC: u8 = 14;
/// Attention scores: int32 in units of 2^-8 nat (1/√d folded in).
pub const SCORE_FRAC: i32 = 8;
/// The exp table's values: units of 2^-20.
pub const EXP_FRAC: i32 = 20;
/// Probabilities: units of 2^-15.
pub const PROB_FRAC: u8 = 15;
/// Logits: int32 in units of 2^-12.
pub const LOGIT_FRAC: i32 = 12;
/// The argmax's first stage: one (value, index) per chunk of this many logits.
pub const ARGMAX_CHUNK: usize = 8192;
/// Most positions of one generation (prompt and answer): the RoPE table's rows, and the bound that
/// keeps the softmax sum below 2^30.
pub const CONTEXT: usize = 1024;

/// Bound of the RMSNorm outputs (int16: `K · 16383 · 2^19 < 2^46` in a dense).
pub const NORM_Q: i64 = 16383;
/// Bound of q and k after projection and RoPE (`d · 4095² < 2^31`).
pub const QK_Q: i64 = 4095;
/// Bound of v and of the attention output.
pub const V_Q: i64 = 16383;
/// Bound of the gate and up projections and of SiLU's output.
pub const GU_Q: i64 = 32767;
/// Bound of the down projection's input (per-token power-of-two scale).
pub const P_Q: i64 = 32767;
/// The largest exponent a product row can take: `|a·u| < 2^30`, so `e ≤ 30 − bitlen(P_Q)`. Every
/// down projection's shift exceeds it, so `s − e` stays a shift.
pub const MAX_EXPONENT: u8 = 15;
/// Bound of the logits.
pub const LOGIT_MAX: i64 = (1 << 31) - 1;

/// A projection with the GGUF's own blocks as integers: `W[n][k] = D[n][k/32] · q[n][k] + N[n][k/32]`,
/// and each output row's requantization `(M_n, s_n)` (docs/LLM_INT.md §3.3).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dense {
    /// Output rows.
    pub rows: usize,
    /// Inputs per row (a multiple of 32).
    pub cols: usize,
    /// The element integers, `rows × cols`: 0..=15 for 4-bit blocks, −127..=127 for 8-bit ones.
    /// Held as i16 in memory (the dot products multiply int16 by int16, which vectorizes), stored
    /// as i8 in the file.
    #[serde(with = "as_i8")]
    pub q: Vec<i16>,
    /// Block scales `D`, `rows × cols/32`.
    pub d: Vec<i16>,
    /// Block offsets `N`.
    pub n: Vec<i16>,
    /// `(M_n, s_n)` per row (16-bit multipliers: `|acc · M| < 2^62`).
    pub requant: Vec<Requant>,
}

/// Weight integers are int8 on disk, int16 in memory.
mod as_i8 {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(q: &[i16], s: S) -> Result<S::Ok, S::Error> {
        // Every value is in −127..=127 (import and `validate` keep it so).
        q.iter().map(|&v| v as i8).collect::<Vec<i8>>().serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i16>, D::Error> {
        Ok(Vec::<i8>::deserialize(d)?
            .into_iter()
            .map(i16::from)
            .collect())
    }
}

/// An RMSNorm's integer gains `G_i` and their fractional bits `F` (docs/LLM_INT.md §3.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Gain {
    /// `G_i = round(2^F · √K · g_i / c)`.
    pub g: Vec<i32>,
    /// `F ≤ 24`.
    pub frac: u8,
}

/// One transformer block.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Block {
    /// RMSNorm before attention.
    pub attn_norm: Gain,
    /// Query projection (output ±[`QK_Q`]).
    pub q: Dense,
    /// Key projection (output ±[`QK_Q`]).
    pub k: Dense,
    /// Value projection (output ±[`V_Q`]).
    pub v: Dense,
    /// The scores' requantization: `M/2^s ≈ s_q · s_k / √d · 2^5`.
    pub qk: Requant,
    /// Output projection (writes residual units).
    pub o: Dense,
    /// RMSNorm before the feed-forward.
    pub ffn_norm: Gain,
    /// Gate projection (output ±[`GU_Q`]).
    pub gate: Dense,
    /// Up projection (output ±[`GU_Q`]).
    pub up: Dense,
    /// SiLU as a table over the gate's range: `y = silu[x + 32767]`.
    pub silu: Vec<i16>,
    /// Down projection (input with a per-token exponent; writes residual units).
    pub down: Dense,
}

/// The canonical integer model: everything the forward pass reads, nothing float.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IntModel {
    /// Hyper-parameters.
    pub config: LlamaConfig,
    /// The tokenizer (so running the model never needs its GGUF).
    pub tokenizer: TokenizerSpec,
    /// `E = round(K · eps · 2^20)`, added to every `Σ r²`.
    pub eps_term: i64,
    /// The embedding table as integer blocks (the tied head's weights too; its `requant` is the head's,
    /// logits in units of 2^-12).
    pub embed: Dense,
    /// Per vocabulary row, the gather's requantization into residual units (31-bit multipliers).
    pub embed_requant: Vec<Requant>,
    /// `round(2^14 cos(p θ_i))`, `[CONTEXT × d/2]`.
    pub rope_cos: Vec<i16>,
    /// `round(2^14 sin(p θ_i))`.
    pub rope_sin: Vec<i16>,
    /// `round(2^20 exp(−d/32))` while it rounds to at least 1.
    pub exp: Vec<i32>,
    /// The blocks.
    pub blocks: Vec<Block>,
    /// The final RMSNorm (output ±[`NORM_Q`]).
    pub out_norm: Gain,
}

impl Block {
    /// The block's seven projections: q, k, v, o, gate, up, down.
    pub fn denses(&self) -> [&Dense; 7] {
        [
            &self.q, &self.k, &self.v, &self.o, &self.gate, &self.up, &self.down,
        ]
    }
}

impl Dense {
    fn bytes(&self) -> usize {
        2 * (self.q.len() + self.d.len() + self.n.len()) + 8 * self.requant.len()
    }
}

impl IntModel {
    /// Bytes the model's weights and tables occupy in memory.
    pub fn weight_bytes(&self) -> usize {
        let blocks: usize = self
            .blocks
            .iter()
            .map(|b| {
                b.denses().iter().map(|d| d.bytes()).sum::<usize>()
                    + 2 * b.silu.len()
                    + 4 * (b.attn_norm.g.len() + b.ffn_norm.g.len())
            })
            .sum();
        blocks
            + self.embed.bytes()
            + 8 * self.embed_requant.len()
            + 2 * (self.rope_cos.len() + self.rope_sin.len())
    }
}
