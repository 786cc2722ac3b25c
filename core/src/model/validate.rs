//! The registration rules a model must pass (PROTOCOL.md §1.2): limits, wiring, shapes, zero points,
//! requantization ranges, the overflow bound, and a one-step proof that fits a block.

use super::{Model, OpKind, WeightRow, Window};
use crate::{
    error::{CoreError, Result},
    shape::Shape,
};

/// Largest reduction size of one output element (keeps one-step witnesses bounded).
pub const MAX_K: usize = 1 << 16;
/// Largest tensor a model may take or produce.
pub const MAX_TENSOR_LEN: usize = 1 << 22;
/// Deepest tensor tree: a tensor has at most as many leaves as elements, so at most
/// [`MAX_TENSOR_LEN`] leaves (PROTOCOL.md §6.8).
pub const MAX_TENSOR_DEPTH: u32 = 22;
/// Most ops in one model: 2^20 − 1 (about 10^6 steps, room for a language model's generation), so
/// the state tree of `n + 1` slots is at most [`MAX_STATE_DEPTH`] deep (PROTOCOL.md §6.8).
pub const MAX_OPS: usize = (1 << 20) - 1;
/// Deepest state tree: `⌈log2(MAX_OPS + 1)⌉`.
pub const MAX_STATE_DEPTH: u32 = 20;

const _: () = assert!(1 << MAX_TENSOR_DEPTH == MAX_TENSOR_LEN);
const _: () = assert!((MAX_OPS + 1).next_power_of_two().trailing_zeros() == MAX_STATE_DEPTH);

/// The output extent of a window op along one axis, or `None` if the geometry is impossible.
fn window_out(input: u32, kernel: u8, stride: u8, pad: u8, out: u32) -> bool {
    let (k, s, p) = (u64::from(kernel), u64::from(stride), u64::from(pad));
    // Every window starts inside the padded input and overlaps at least one real element.
    k >= 1 && s >= 1 && p < k && out >= 1 && (u64::from(out) - 1) * s < u64::from(input) + p
}

impl Model {
    /// Checks every registration rule: wiring, shapes, zero points, requantization ranges and the
    /// overflow bound `K·max|x − z_x|·max|w| + |bias| < 2^31` (PROTOCOL.md §1.2).
    pub fn validate(&self) -> Result<()> {
        let bad_model = |m: String| Err(CoreError::InvalidModel(m));
        if self.ops.is_empty() || self.ops.len() > MAX_OPS {
            return bad_model(format!("{} ops, allowed 1..={MAX_OPS}", self.ops.len()));
        }
        if !self.input.is_valid() {
            return bad_model(format!("input shape {} is empty or too large", self.input));
        }
        if !self.meta.labels.is_empty() && self.meta.labels.len() != self.output().len() {
            return bad_model(format!(
                "{} labels for {} outputs",
                self.meta.labels.len(),
                self.output().len()
            ));
        }
        let slots = self.slots();
        for (k, op) in self.ops.iter().enumerate() {
            let bad = |reason: String| Err(CoreError::InvalidOp { op: k, reason });
            if !op.out.is_valid() {
                return bad(format!("output shape {} is empty or too large", op.out));
            }
            for slot in op.kind.inputs() {
                if slot > k {
                    return bad(format!("reads slot {slot}, only slots 0..={k} exist yet"));
                }
            }
            let (x, z_in) = slots[op.kind.inputs()[0]];
            let zero_matches = |z: i8, what: &str| {
                if z == z_in {
                    Ok(())
                } else {
                    Err(CoreError::InvalidOp {
                        op: k,
                        reason: format!("{what} {z} but the input's zero point is {z_in}"),
                    })
                }
            };
            match &op.kind {
                OpKind::Dense {
                    z_x, lo, hi, rows, ..
                } => {
                    zero_matches(*z_x, "z_x")?;
                    if op.out != Shape::vector(rows.len() as u32) {
                        return bad(format!("{} rows but output shape {}", rows.len(), op.out));
                    }
                    check_rows(k, rows, x.len(), *z_x, *lo, *hi)?;
                }
                OpKind::Conv2d {
                    z_x,
                    lo,
                    hi,
                    window,
                    rows,
                    ..
                } => {
                    zero_matches(*z_x, "z_x")?;
                    if op.out.c as usize != rows.len() {
                        return bad(format!(
                            "{} rows but {} output channels",
                            rows.len(),
                            op.out.c
                        ));
                    }
                    check_window(k, x, op.out, window)?;
                    let kk = usize::from(window.kh) * usize::from(window.kw) * x.c as usize;
                    check_rows(k, rows, kk, *z_x, *lo, *hi)?;
                }
                OpKind::Clamp { lo, hi, .. } => {
                    if op.out != x || op.z_out != z_in || lo > hi {
                        return bad(format!(
                            "clamp must keep shape {x} and zero point {z_in}, with lo ≤ hi"
                        ));
                    }
                }
                OpKind::MaxPool { window, .. } => {
                    if op.out.c != x.c || op.z_out != z_in {
                        return bad("max-pool keeps channels and zero point".into());
                    }
                    check_window(k, x, op.out, window)?;
                }
                OpKind::AvgPool {
                    z_x,
                    window,
                    requant,
                    lo,
                    hi,
                    ..
                } => {
                    zero_matches(*z_x, "z_x")?;
                    if op.out.c != x.c
                        || window.pt != 0
                        || window.pl != 0
                        || lo > hi
                        || !requant.is_valid()
                    {
                        return bad("avg-pool keeps channels, has no padding, lo ≤ hi and a valid requantization".into());
                    }
                    check_window(k, x, op.out, window)?;
                    // Bottom/right edges must not need padding either.
                    let fits = |inp: u32, kk: u8, s: u8, o: u32| {
                        u64::from(o - 1) * u64::from(s) + u64::from(kk) <= u64::from(inp)
                    };
                    if !fits(x.h, window.kh, window.sh, op.out.h)
                        || !fits(x.w, window.kw, window.sw, op.out.w)
                    {
                        return bad("avg-pool windows must lie inside the input".into());
                    }
                }
                OpKind::Add {
                    a,
                    b,
                    shift,
                    lo,
                    hi,
                } => {
                    let (xa, za) = slots[usize::from(a.slot)];
                    let (xb, zb) = slots[usize::from(b.slot)];
                    if xa != op.out || xb != op.out {
                        return bad(format!("add needs equal shapes: {xa} + {xb} -> {}", op.out));
                    }
                    if a.zero != za || b.zero != zb {
                        return bad(format!(
                            "operand zero points {}, {} but slots have {za}, {zb}",
                            a.zero, b.zero
                        ));
                    }
                    if a.multiplier < 1 || b.multiplier < 1 || !(1..=62).contains(shift) || lo > hi
                    {
                        return bad("add needs multipliers ≥ 1, shift in [1, 62], lo ≤ hi".into());
                    }
                }
                OpKind::Reshape { .. } => {
                    if op.out.len() != x.len() || op.z_out != z_in {
                        return bad(format!(
                            "reshape {x} -> {} must keep the element count and zero point",
                            op.out
                        ));
                    }
                }
            }
            // A dispute on this op must be decidable: its one step has to reach a block and fit it.
            let step = crate::dispute::worst_step(self, k);
            if step.calldata_bytes > crate::dispute::MAX_STEP_CALLDATA {
                return bad(format!(
                    "its one-step transaction could need {} bytes of calldata, more than the {} \
                     txpools relay (read a smaller window or fewer channels, or split a wide dense layer)",
                    step.calldata_bytes,
                    crate::dispute::MAX_STEP_CALLDATA
                ));
            }
            let gas = step.gas_bound();
            if gas > crate::dispute::MAX_STEP_GAS {
                return bad(format!(
                    "its one-step proof could need {gas} gas, more than the {} a dispute may use \
                     (read a smaller window, or a dense input as [1, 1, K])",
                    crate::dispute::MAX_STEP_GAS
                ));
            }
        }
        Ok(())
    }
}

fn check_window(k: usize, x: Shape, out: Shape, w: &Window) -> Result<()> {
    if window_out(x.h, w.kh, w.sh, w.pt, out.h) && window_out(x.w, w.kw, w.sw, w.pl, out.w) {
        Ok(())
    } else {
        Err(CoreError::InvalidOp {
            op: k,
            reason: format!("window {w:?} does not map input {x} to output {out}"),
        })
    }
}

fn check_rows(k: usize, rows: &[WeightRow], kk: usize, z_x: i8, lo: i8, hi: i8) -> Result<()> {
    let bad = |reason: String| Err(CoreError::InvalidOp { op: k, reason });
    if rows.is_empty() {
        return bad("no weight rows".into());
    }
    if kk == 0 || kk > MAX_K {
        return bad(format!("reduction size {kk} outside 1..={MAX_K}"));
    }
    if lo > hi {
        return bad(format!("clamp lo {lo} > hi {hi}"));
    }
    let max_x = (i64::from(z_x) + 128).max(127 - i64::from(z_x));
    for (n, row) in rows.iter().enumerate() {
        if row.weights.len() != kk {
            return bad(format!(
                "row {n} has {} weights, the reduction size is {kk}",
                row.weights.len()
            ));
        }
        if !row.requant.is_valid() {
            return bad(format!(
                "row {n}: multiplier {} / shift {} outside [1, 2^31-1] / [1, 62]",
                row.requant.multiplier, row.requant.shift
            ));
        }
        let max_w = row
            .weights
            .iter()
            .map(|w| i64::from(*w).abs())
            .max()
            .unwrap_or(0);
        let bound = kk as i64 * max_x * max_w + i64::from(row.bias).abs();
        if bound >= 1 << 31 {
            return bad(format!(
                "row {n}: accumulator bound {bound} ≥ 2^31 (K·max|x−z_x|·max|w| + |bias|)"
            ));
        }
    }
    Ok(())
}
