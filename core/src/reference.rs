//! The reference interpreter: plain loops, no Burn, the executable spec (PROTOCOL.md §2).
//!
//! Every other executor must produce exactly these bytes at every step, and the one-step contract
//! recomputes one element with exactly these per-element formulas.

use crate::{
    error::{CoreError, Result},
    model::{Model, Op, OpKind, Operand, Window},
    quant::round_shift,
    shape::Shape,
    trace::Trace,
};

/// Input index of window tap `(i, j)` for output pixel `(oy, ox)`, or `None` where it falls in the padding.
pub fn window_tap(
    x: Shape,
    w: &Window,
    oy: usize,
    ox: usize,
    i: usize,
    j: usize,
) -> Option<(usize, usize)> {
    let y = (oy * usize::from(w.sh) + i).checked_sub(usize::from(w.pt))?;
    let xx = (ox * usize::from(w.sw) + j).checked_sub(usize::from(w.pl))?;
    (y < x.h as usize && xx < x.w as usize).then_some((y, xx))
}

/// One output element `e` (row-major index into the op's output) of op `op`, given the slot table.
///
/// This is the formula the contract's one-step executor implements.
pub fn element(op: &Op, slots: &[(Shape, &[i8])], e: usize) -> i8 {
    let out = op.out;
    let c = out.c as usize;
    let (ch, pixel) = (e % c, e / c);
    let (oy, ox) = (pixel / out.w as usize, pixel % out.w as usize);
    match &op.kind {
        OpKind::Dense {
            input,
            z_x,
            lo,
            hi,
            rows,
        } => {
            let x = slots[usize::from(*input)].1;
            let row = &rows[e];
            let acc = row
                .weights
                .iter()
                .zip(x)
                .fold(i64::from(row.bias), |acc, (&w, &xv)| {
                    acc + (i64::from(xv) - i64::from(*z_x)) * i64::from(w)
                });
            requant_row(row, acc, op.z_out, *lo, *hi)
        }
        OpKind::Conv2d {
            input,
            z_x,
            lo,
            hi,
            window,
            rows,
        } => {
            let (xs, x) = slots[usize::from(*input)];
            let row = &rows[ch];
            let cin = xs.c as usize;
            let mut acc = i64::from(row.bias);
            for i in 0..usize::from(window.kh) {
                for j in 0..usize::from(window.kw) {
                    // Padding holds the input zero point, so it contributes (z_x − z_x)·w = 0.
                    let Some((y, xx)) = window_tap(xs, window, oy, ox, i, j) else {
                        continue;
                    };
                    let taps = &row.weights[(i * usize::from(window.kw) + j) * cin..][..cin];
                    let pix = &x[xs.index(y, xx, 0)..][..cin];
                    for (&w, &v) in taps.iter().zip(pix) {
                        acc += (i64::from(v) - i64::from(*z_x)) * i64::from(w);
                    }
                }
            }
            requant_row(row, acc, op.z_out, *lo, *hi)
        }
        OpKind::Clamp { input, lo, hi } => slots[usize::from(*input)].1[e].clamp(*lo, *hi),
        OpKind::MaxPool { input, window } => {
            let (xs, x) = slots[usize::from(*input)];
            let mut m = i8::MIN;
            for i in 0..usize::from(window.kh) {
                for j in 0..usize::from(window.kw) {
                    if let Some((y, xx)) = window_tap(xs, window, oy, ox, i, j) {
                        m = m.max(x[xs.index(y, xx, ch)]);
                    }
                }
            }
            m
        }
        OpKind::AvgPool {
            input,
            z_x,
            window,
            requant,
            lo,
            hi,
        } => {
            let (xs, x) = slots[usize::from(*input)];
            let mut acc = 0i64;
            for i in 0..usize::from(window.kh) {
                for j in 0..usize::from(window.kw) {
                    let (y, xx) = window_tap(xs, window, oy, ox, i, j)
                        .expect("avg-pool windows lie inside the input");
                    acc += i64::from(x[xs.index(y, xx, ch)]) - i64::from(*z_x);
                }
            }
            round_shift(
                acc * i64::from(requant.multiplier),
                requant.shift,
                op.z_out,
                *lo,
                *hi,
            )
        }
        OpKind::Add {
            a,
            b,
            shift,
            lo,
            hi,
        } => {
            let term = |o: &Operand| {
                (i64::from(slots[usize::from(o.slot)].1[e]) - i64::from(o.zero))
                    * i64::from(o.multiplier)
            };
            round_shift(term(a) + term(b), *shift, op.z_out, *lo, *hi)
        }
        OpKind::Reshape { input } => slots[usize::from(*input)].1[e],
    }
}

/// Requantizes a dense/conv accumulator with its row's parameters. The registration bound keeps
/// `|acc| < 2^31`.
fn requant_row(row: &crate::model::WeightRow, acc: i64, zero: i8, lo: i8, hi: i8) -> i8 {
    let acc = i32::try_from(acc).expect("registration bound keeps the accumulator inside i32");
    row.requant.apply(acc, zero, lo, hi)
}

/// Runs op `op` on the state table `slots` (slots `0..=k`, of `shapes`), returning its output tensor.
pub fn step(shapes: &[Shape], op: &Op, slots: &[Vec<i8>]) -> Vec<i8> {
    let view: Vec<(Shape, &[i8])> = shapes
        .iter()
        .zip(slots)
        .map(|(&shape, s)| (shape, s.as_slice()))
        .collect();
    (0..op.out.len()).map(|e| element(op, &view, e)).collect()
}

/// Runs a validated model on `input`, returning every slot.
pub fn run(model: &Model, input: &[i8]) -> Result<Trace> {
    if input.len() != model.input.len() {
        return Err(CoreError::InputLength {
            expected: model.input.len(),
            actual: input.len(),
        });
    }
    let shapes: Vec<Shape> = model.slots().into_iter().map(|(s, _)| s).collect();
    let mut slots = Vec::with_capacity(model.op_count() + 1);
    slots.push(input.to_vec());
    for op in &model.ops {
        let out = step(&shapes, op, &slots);
        slots.push(out);
    }
    Ok(Trace::new(shapes, slots))
}
