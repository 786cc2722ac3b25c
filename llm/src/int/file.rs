//! The integer model's file: a magic, then the model in postcard. Loading checks every length,
//! range and overflow bound before the model can run.

use super::{
    Block, CONTEXT, Dense, GU_Q, Gain, IntModel, MAX_EXPONENT, NORM_FRAC, NORM_Q, P_Q, QK_Q,
    RES_MAX, V_Q,
};
use crate::{
    error::{LlmError, Result},
    gguf::BLOCK,
};
use std::path::Path;
use vouch_core::quant::Requant;

/// Magic bytes that open an integer language-model file.
pub const LLM_MAGIC: &[u8; 8] = b"VOUCHLM2";

/// Writes the model durably (temporary file, fsync, rename).
pub fn save(model: &IntModel, path: &Path) -> Result<()> {
    let mut bytes = LLM_MAGIC.to_vec();
    bytes.extend(postcard::to_stdvec(model).map_err(|e| LlmError::Format(e.to_string()))?);
    vouch_core::durable::write(path, &bytes)
        .map_err(|e| LlmError::Io(format!("{}: {e}", path.display())))
}

/// Reads and checks a model file.
pub fn load(path: &Path) -> Result<IntModel> {
    let bytes =
        std::fs::read(path).map_err(|e| LlmError::Io(format!("{}: {e}", path.display())))?;
    let body = bytes.strip_prefix(LLM_MAGIC.as_slice()).ok_or_else(|| {
        LlmError::Format(format!(
            "{}: not a Vouch language model (no {LLM_MAGIC:?})",
            path.display()
        ))
    })?;
    let model: IntModel = postcard::from_bytes(body)
        .map_err(|e| LlmError::Format(format!("{}: {e}", path.display())))?;
    model.validate()?;
    Ok(model)
}

/// Checks the registration bounds of docs/LLM_INT.md §5 on one dense: for every row, the worst
/// accumulator `B_x · Σ_k |W[n][k]|` stays below 2^53 and, times `M_n`, below 2^62.
fn check_bound(name: &str, w: &Dense, input_bound: i64) -> Result<()> {
    let nb = w.cols / BLOCK;
    for row in 0..w.rows {
        let sum: i64 = (0..w.cols)
            .map(|i| {
                let b = row * nb + i / BLOCK;
                (i64::from(w.d[b]) * i64::from(w.q[row * w.cols + i]) + i64::from(w.n[b])).abs()
            })
            .sum();
        let worst = i128::from(sum) * i128::from(input_bound);
        if worst >= 1 << 53 || worst * i128::from(w.requant[row].multiplier) >= 1 << 62 {
            return Err(LlmError::Quantize(format!(
                "{name} row {row}: accumulator bound {worst} too wide"
            )));
        }
    }
    Ok(())
}

fn expect(ok: bool, what: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(LlmError::Format(what()))
    }
}

fn check_dense(
    name: &str,
    w: &Dense,
    rows: usize,
    cols: usize,
    input_bound: i64,
    mbits: u32,
) -> Result<()> {
    let blocks = rows * cols / BLOCK;
    expect(
        w.rows == rows
            && w.cols == cols
            && w.q.len() == rows * cols
            && w.d.len() == blocks
            && w.n.len() == blocks,
        || format!("{name}: not a {rows}×{cols} projection"),
    )?;
    expect(w.requant.len() == rows, || {
        format!(
            "{name}: {} requantizations for {rows} rows",
            w.requant.len()
        )
    })?;
    expect(
        w.requant
            .iter()
            .all(|r| r.is_valid() && r.multiplier < 1 << mbits),
        || format!("{name}: a requantization is out of range"),
    )?;
    expect(w.q.iter().all(|q| (-127..=127).contains(q)), || {
        format!("{name}: a weight integer is outside −127..=127")
    })?;
    check_bound(name, w, input_bound)
}

fn check_gain(name: &str, g: &Gain, k: usize) -> Result<()> {
    expect(g.g.len() == k && i32::from(g.frac) <= NORM_FRAC, || {
        format!("{name}: malformed RMSNorm gains")
    })
}

/// A score is `round_shift(Σ_d q_d·k_d · M, s)` with `|q|, |k| ≤ 4095`: the product stays below 2^62.
fn scores_fit(head_dim: usize, qk: Requant) -> bool {
    head_dim as i128 * i128::from(QK_Q * QK_Q) * i128::from(qk.multiplier) < 1 << 62
}

/// An RMSNorm sums `K` squares of residual elements (`|r| ≤ RES_MAX`) and `E` in i64.
fn norm_fits(hidden: usize, eps_term: i64) -> bool {
    hidden as i128 * i128::from(RES_MAX) * i128::from(RES_MAX) + i128::from(eps_term)
        <= i128::from(i64::MAX)
}

impl Block {
    fn validate(&self, l: usize, k: usize, kvw: usize, ffn: usize, head_dim: usize) -> Result<()> {
        let n = |s: &str| format!("block {l} {s}");
        expect(scores_fit(head_dim, self.qk), || {
            n("scores: head width × 4095² × M reaches 2^62")
        })?;
        check_gain(&n("attn_norm"), &self.attn_norm, k)?;
        check_gain(&n("ffn_norm"), &self.ffn_norm, k)?;
        check_dense(&n("q"), &self.q, k, k, NORM_Q, 16)?;
        check_dense(&n("k"), &self.k, kvw, k, NORM_Q, 16)?;
        check_dense(&n("v"), &self.v, kvw, k, NORM_Q, 16)?;
        check_dense(&n("o"), &self.o, k, k, V_Q, 16)?;
        check_dense(&n("gate"), &self.gate, ffn, k, NORM_Q, 16)?;
        check_dense(&n("up"), &self.up, ffn, k, NORM_Q, 16)?;
        check_dense(&n("down"), &self.down, k, ffn, P_Q, 16)?;
        expect(self.qk.is_valid(), || {
            n("scores: requantization out of range")
        })?;
        expect(self.silu.len() == 2 * GU_Q as usize + 1, || {
            n("SiLU table of the wrong length")
        })?;
        expect(
            self.down.requant.iter().all(|r| r.shift > MAX_EXPONENT),
            || n("down: a shift leaves no room for the product's exponent"),
        )
    }
}

impl IntModel {
    /// Every structural rule the forward pass relies on (so a loaded file cannot make it index out
    /// of bounds or overflow).
    pub fn validate(&self) -> Result<()> {
        let c = self.config;
        c.check()?;
        expect(norm_fits(c.hidden, self.eps_term), || {
            format!(
                "hidden size {}: Σ r² of a residual row can overflow int64 (at most 2048 with the residual clamp ±(2^26 − 1))",
                c.hidden
            )
        })?;
        let (k, half) = (c.hidden, c.head_dim / 2);
        expect(self.tokenizer.tokens.len() == c.vocab, || {
            "tokenizer and vocabulary differ in size".into()
        })?;
        expect(
            (self.tokenizer.eos as usize) < c.vocab
                && self
                    .tokenizer
                    .control
                    .iter()
                    .all(|&i| (i as usize) < c.vocab),
            || "a special token is outside the vocabulary".into(),
        )?;
        expect(self.blocks.len() == c.blocks, || {
            format!(
                "{} blocks, the configuration says {}",
                self.blocks.len(),
                c.blocks
            )
        })?;
        check_dense("head", &self.embed, c.vocab, k, NORM_Q, 16)?;
        expect(
            self.embed_requant.len() == c.vocab && self.embed_requant.iter().all(|r| r.is_valid()),
            || "embedding requantizations malformed".into(),
        )?;
        check_gain("output_norm", &self.out_norm, k)?;
        expect(
            self.rope_cos.len() == CONTEXT * half && self.rope_sin.len() == CONTEXT * half,
            || "RoPE tables of the wrong size".into(),
        )?;
        expect(
            !self.exp.is_empty()
                && self.exp.len() <= 4096
                && self.exp.iter().all(|&v| (1..=1 << 20).contains(&v)),
            || "exp table malformed".into(),
        )?;
        expect((1..=1 << 20).contains(&self.eps_term), || {
            "RMSNorm epsilon term out of range (1..=2^20; 0 would divide by zero)".into()
        })?;
        for (l, b) in self.blocks.iter().enumerate() {
            b.validate(l, k, c.kv_width(), c.ffn, c.head_dim)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overflow_limits_of_wide_models() {
        // SmolLM2: hidden 576, heads of 64, M < 2^31.
        assert!(norm_fits(576, 6040) && norm_fits(2048, 1 << 20));
        assert!(!norm_fits(2049, 0), "2049 · (2^26 − 1)² passes 2^63");
        let m = |multiplier| Requant {
            multiplier,
            shift: 40,
        };
        assert!(scores_fit(64, m(i32::MAX)));
        assert!(scores_fit(256, m(1 << 30)) && !scores_fit(512, m(1 << 30)));
    }
}
