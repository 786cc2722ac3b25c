//! The integer language model of `vouch_llm::int` on Burn: [`BurnLm`] is an [`IntModel`] uploaded
//! once to a device, whose [`BurnLm::logits`] are bit-identical to [`IntModel::logits`] — for a
//! batched prefill, for one-token decode steps and for any split of a text between them — with
//! every op of docs/LLM_INT.md §3 as tensor ops on the device ([`ops`]).
//!
//! # Exactness
//!
//! Every activation and table is an **i64** integer tensor (the weights too, or f64 holding the
//! same integers for [`Matmul::F64`]), so each op is the reference's i64 formula evaluated
//! elementwise; it is exact as long as no intermediate leaves i64, which the registration bounds
//! that [`IntModel::validate`] checks (docs/LLM_INT.md §5) guarantee. [`BurnLm::new`] validates the
//! model and refuses a device without 64-bit integers (some wgpu adapters): there is no narrower
//! exact path for the 2^53 accumulators here. Floats appear only where a bound makes them exact
//! (the [`Matmul::F64`] projections) and as an f32 estimate that integer steps then make exact
//! (RMSNorm's square root).
//!
//! - **Rounding** (`round_shift(a, s) = (a + 2^(s−1)) >> s`): i64 addition and Burn's arithmetic
//!   right shift (`wrapping_shr` on flex, `>>` on ndarray, both on signed integers). Where the
//!   shift is a tensor (per row of a dense, per token of the SwiGLU product), the rounding term is
//!   `(1 << s) >> 1`, which is 0 for `s = 0` as the formula requires; `s ≤ 62` everywhere.
//! - **Division** (`div_round`, RMSNorm and softmax): Burn's integer division truncates towards
//!   zero on flex and ndarray (it is undocumented; the remainder is documented as floor modulo).
//!   `div_round` needs floor division of a possibly negative numerator, so the quotient `q` of
//!   `(2a + b) / (2b)` is corrected by one where `q · 2b > 2a + b`: exact whether the backend
//!   truncates or floors. `|2a + b| < 2^59` (RMSNorm: `|r·G| < 2^57`, `D·2^F < 2^56`).
//! - **Embedding**: a row gather (`select`) of the table `E = D·q` (an f64 table's rows cast back
//!   to i64: `|E| < 2^22`), times its row's `M` (`|E·M| < 2^53`), rounded, clamped.
//! - **RMSNorm**: `Σ r²` in i64 (`IntModel::validate` checks `K · RES_MAX² + E ≤ i64::MAX`). The
//!   square root is exact without trusting any float rounding: an f32 estimate `r` of `√n` (off by
//!   less than `√n · 2^-22 + 1` for a correctly rounded sqrt; far looser suffices) is refined by one
//!   integer Newton step `r' = ⌊(r + ⌊n/r⌋)/2⌋`, which is at least `⌊√n⌋` for every `r ≥ 1`
//!   (`(r + n/r)/2 ≥ √n`) and below `√n + 1` while `(r − √n)² < 2r` (its excess is
//!   `(r − √n)²/(2r)`), then by one step down where `r' > ⌊n/r'⌋` (⇔ `r'² > n`): decided by
//!   divisions, so no square can overflow near `i64::MAX`. Non-negative operands make truncating
//!   division floor division here.
//! - **Dense**: `W = D·q + N` materialized as an `[N, K]` matrix (built on the device from the
//!   blocks in i64; `|W| < 2^22`), and `acc = W · xᵀ` — the same integer as the reference's
//!   per-block `Σ_b D_b·Σ x·q + N_b·Σ x`, by distributivity. Registration bounds every row's
//!   `Σ_k |x_k|·|W_nk|` below 2^53 (`B_x · Σ_k |W_nk|`), so every product and every partial sum, in
//!   any order, is an integer below 2^53. [`Matmul::I64`] uses Burn's i64 integer matmul (where even
//!   a wrapping intermediate would be harmless: the i64 sum is exact modulo 2^64 and its true value
//!   lies in i64). [`Matmul::F64`] uses the f64 matmul (gemm on flex, matrixmultiply on ndarray):
//!   f64 holds every integer below 2^53 exactly, so no product or sum is ever rounded, FMA or not,
//!   and the cast back to i64 is exact — the image executor's chunked-f32 argument with f64's 53
//!   bits, which leave room for the whole reduction. Then `|acc · M| < 2^62` (registration) and the
//!   per-row shift `s_n − e` with `e` the input row's exponent (down projection; `s_n ≥ 18 > e`).
//! - **RoPE**: `x·C ∓ x'·S` with `|x| ≤ 4095`, `|C|, |S| ≤ 2^14`: below 2^28.
//! - **Scores**: an i64 batched matmul of int16-bounded q and k (`d · 4095² < 2^31`), times `M`
//!   (`< 2^62`, registration), rounded, clamped to ±2^30; the causal mask writes −2^31.
//! - **Softmax**: `max` along the row (`max_dim`; ties are irrelevant to a value), `m − S ≥ 0`
//!   clamped to the table's length and gathered from the table with a 0 appended there (so every
//!   difference from the length on — every masked score's, which is at least 2^30 — reads 0),
//!   `Z = Σ E < 2^30` (context ≤ 1024 positions), `P = div_round(E · 2^15, Z)`.
//! - **P·V**: an i64 batched matmul, `|Σ P·V| ≤ (2^15 + n/2) · 16383 < 2^30`.
//! - **Residual add**: `|a + b| < 2^27`, clamped.
//! - **SiLU**: a gather from the 65,535-entry table at `x + 32767` (`|x| ≤ 32767`).
//! - **SwiGLU product**: `|a · u| ≤ 2^15 · 32767 < 2^30`; the exponent counts the powers `2^j`,
//!   `15 ≤ j < 30`, that `max |a·u|` reaches (`= max(0, bitlen − 15)`), see [`ops::product`].
//! - **Head**: the embedding table's `W` against the final norm (`|acc| < 2^53`, `|acc·M| < 2^62`).
//!
//! Batching never changes a bit: every op is row-wise given the cache, so a prefill of `T` tokens
//! computes exactly the rows `T` decode steps would.

mod forward;
pub mod ops;

pub use forward::BurnCache;
pub use ops::Matmul;

use crate::backend::BurnBackend;
use burn::tensor::{DType, Device};
use ops::{Embedding, ExpTable, Norm, Projection, Rope, Table};
use vouch_core::quant::Requant;
use vouch_llm::{IntModel, LlmError, Result, config::LlamaConfig, int::GU_Q, lm::LanguageModel};

/// One transformer block on the device.
#[derive(Debug, Clone)]
struct Block {
    attn_norm: Norm,
    q: Projection,
    k: Projection,
    v: Projection,
    qk: Requant,
    o: Projection,
    ffn_norm: Norm,
    gate: Projection,
    up: Projection,
    silu: Table,
    down: Projection,
}

impl Block {
    fn elements(&self) -> usize {
        let denses = [
            &self.q, &self.k, &self.v, &self.o, &self.gate, &self.up, &self.down,
        ];
        denses.iter().map(|d| d.elements()).sum::<usize>()
            + self.attn_norm.elements()
            + self.ffn_norm.elements()
            + self.silu.elements()
    }
}

/// An integer language model uploaded once to a Burn device, ready for many passes.
#[derive(Debug, Clone)]
pub struct BurnLm {
    device: Device,
    config: LlamaConfig,
    context: usize,
    eps_term: i64,
    embed: Embedding,
    rope: Rope,
    exp: ExpTable,
    blocks: Vec<Block>,
    out_norm: Norm,
}

impl BurnLm {
    /// Validates `model` and uploads it to `backend`'s device, its projections for `matmul`.
    ///
    /// # Errors
    /// If the model breaks a registration bound, or the device lacks 64-bit integers (or, for
    /// [`Matmul::F64`], 64-bit floats).
    pub fn new(model: &IntModel, backend: BurnBackend, matmul: Matmul) -> Result<Self> {
        model.validate()?;
        let device = backend.device();
        let needs = match matmul {
            Matmul::I64 => &[DType::I64][..],
            Matmul::F64 => &[DType::I64, DType::F64],
        };
        if let Some(missing) = needs.iter().find(|&&t| !device.supports_dtype(t)) {
            return Err(LlmError::Unsupported(format!(
                "the {} backend's device has no {missing:?}",
                backend.name()
            )));
        }
        let d = &device;
        let blocks = model
            .blocks
            .iter()
            .map(|b| Block {
                attn_norm: Norm::new(&b.attn_norm, d),
                q: Projection::new(&b.q, matmul, d),
                k: Projection::new(&b.k, matmul, d),
                v: Projection::new(&b.v, matmul, d),
                qk: b.qk,
                o: Projection::new(&b.o, matmul, d),
                ffn_norm: Norm::new(&b.ffn_norm, d),
                gate: Projection::new(&b.gate, matmul, d),
                up: Projection::new(&b.up, matmul, d),
                silu: Table::new(&b.silu, GU_Q, d),
                down: Projection::new(&b.down, matmul, d),
            })
            .collect();
        Ok(Self {
            config: model.config,
            context: model.context(),
            eps_term: model.eps_term,
            embed: Embedding::new(&model.embed, &model.embed_requant, matmul, d),
            rope: Rope::new(
                &model.rope_cos,
                &model.rope_sin,
                model.config.head_dim / 2,
                d,
            ),
            exp: ExpTable::new(&model.exp, d),
            blocks,
            out_norm: Norm::new(&model.out_norm, d),
            device,
        })
    }

    /// Bytes the uploaded weights and tables occupy on the device (every element an i64).
    pub fn weight_bytes(&self) -> usize {
        let blocks: usize = self.blocks.iter().map(Block::elements).sum();
        8 * (blocks
            + self.embed.elements()
            + self.rope.elements()
            + self.exp.elements()
            + self.out_norm.elements())
    }
}
