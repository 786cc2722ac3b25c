//! The reference interpreter: plain loops, no Burn, the executable spec (PROTOCOL.md §2).
//!
//! Every other executor must produce exactly these bytes at every step, and the one-step contract
//! recomputes one element with exactly these per-element formulas.

use crate::{
    error::{CoreError, Result},
    model::{Model, Op, OpKind, Operand, WeightRow, Window},
    quant::{Requant, round_shift},
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

/// Where the formula of one output element reads its inputs. The reference interpreter reads them
/// from the slot table; the one-step verifier (`dispute::verify_step`) from a witness, checking each
/// against its commitment as it is read; the witness builder records what is read.
///
/// Operands are numbered in spec order (Add: `a` is 0, `b` is 1; every other op: its input is 0). The
/// formula reads rows in the order PROTOCOL §6.5 makes normative for a witness.
pub trait ElementInputs {
    /// The shape `[H, W, C]` of operand `operand`.
    fn shape(&self, operand: usize) -> Shape;
    /// Row `row` (pixel `y·W + x`) of operand `operand`: `[C]`.
    fn row(&self, operand: usize, row: usize) -> Result<&[i8]>;
    /// The whole tensor of operand `operand` flattened row-major: `[H·W·C]` (dense only).
    fn tensor(&self, operand: usize) -> Result<&[i8]>;
    /// The op's weight row `channel` (dense: the output element; conv: the output channel).
    fn weight_row(&self, channel: usize) -> Result<&WeightRow>;
}

/// The op's operand slots, in spec order, with their shapes and data: the reference's
/// [`ElementInputs`].
struct SlotInputs<'a> {
    op: &'a Op,
    operands: Vec<(Shape, &'a [i8])>,
}

impl<'a> SlotInputs<'a> {
    fn new(op: &'a Op, slots: &[(Shape, &'a [i8])]) -> Self {
        let operands = op.kind.inputs().into_iter().map(|s| slots[s]).collect();
        Self { op, operands }
    }
}

impl ElementInputs for SlotInputs<'_> {
    fn shape(&self, operand: usize) -> Shape {
        self.operands[operand].0
    }

    fn row(&self, operand: usize, row: usize) -> Result<&[i8]> {
        let (shape, data) = self.operands[operand];
        let c = shape.c as usize;
        Ok(&data[row * c..][..c])
    }

    fn tensor(&self, operand: usize) -> Result<&[i8]> {
        Ok(self.operands[operand].1)
    }

    fn weight_row(&self, channel: usize) -> Result<&WeightRow> {
        Ok(&self.op.kind.rows()[channel])
    }
}

/// Element `i` of a row read through [`ElementInputs`], or an error for a model whose shapes do not fit.
fn at(row: &[i8], i: usize) -> Result<i8> {
    row.get(i).copied().ok_or(CoreError::OutOfRange {
        what: "channel",
        index: i,
        limit: row.len(),
    })
}

/// One output element `e` (row-major index into the op's output) of op `op`, reading its inputs
/// through `inputs`: the per-element formula of PROTOCOL §2, shared by the reference interpreter and
/// the one-step verifier. Errors only when `inputs` fails or the op breaks a rule the one-step prover
/// also checks (operand shapes, requantization ranges, `lo ≤ hi`, the i32 accumulator): a model that
/// does not validate.
pub fn element_with<I: ElementInputs + ?Sized>(op: &Op, e: usize, inputs: &I) -> Result<i8> {
    let out = op.out;
    let c = out.c as usize;
    let (ch, pixel) = (e % c, e / c);
    let (oy, ox) = (pixel / out.w as usize, pixel % out.w as usize);
    let invalid = |reason: &str| CoreError::InvalidModel(format!("{}: {reason}", op.kind.name()));
    let ordered = |lo: i8, hi: i8| {
        if lo <= hi {
            Ok(())
        } else {
            Err(invalid("clamp lo > hi"))
        }
    };
    let valid = |q: Requant| {
        if q.is_valid() {
            Ok(())
        } else {
            Err(invalid("multiplier or shift out of range"))
        }
    };
    match &op.kind {
        OpKind::Dense { z_x, lo, hi, .. } => {
            ordered(*lo, *hi)?;
            let row = inputs.weight_row(e)?;
            valid(row.requant)?;
            let x = inputs.tensor(0)?;
            if x.len() != row.weights.len() {
                return Err(invalid("weight row length differs from the input length"));
            }
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
            z_x,
            lo,
            hi,
            window,
            ..
        } => {
            ordered(*lo, *hi)?;
            let xs = inputs.shape(0);
            let row = inputs.weight_row(ch)?;
            valid(row.requant)?;
            let cin = xs.c as usize;
            if row.weights.len() != usize::from(window.kh) * usize::from(window.kw) * cin {
                return Err(invalid("weight row length is not kh·kw·C_in"));
            }
            let mut acc = i64::from(row.bias);
            for i in 0..usize::from(window.kh) {
                for j in 0..usize::from(window.kw) {
                    // Padding holds the input zero point, so it contributes (z_x − z_x)·w = 0.
                    let Some((y, xx)) = window_tap(xs, window, oy, ox, i, j) else {
                        continue;
                    };
                    let taps = &row.weights[(i * usize::from(window.kw) + j) * cin..][..cin];
                    let pix = inputs.row(0, y * xs.w as usize + xx)?;
                    for (&w, &v) in taps.iter().zip(pix) {
                        acc += (i64::from(v) - i64::from(*z_x)) * i64::from(w);
                    }
                }
            }
            requant_row(row, acc, op.z_out, *lo, *hi)
        }
        OpKind::Clamp { lo, hi, .. } => {
            ordered(*lo, *hi)?;
            if inputs.shape(0) != out {
                return Err(invalid("the input's shape is not the output's"));
            }
            let xc = inputs.shape(0).c as usize;
            Ok(at(inputs.row(0, e / xc)?, e % xc)?.clamp(*lo, *hi))
        }
        OpKind::MaxPool { window, .. } => {
            let xs = inputs.shape(0);
            if xs.c != out.c {
                return Err(invalid("pooling changes the channel count"));
            }
            let mut m = i8::MIN;
            for i in 0..usize::from(window.kh) {
                for j in 0..usize::from(window.kw) {
                    if let Some((y, xx)) = window_tap(xs, window, oy, ox, i, j) {
                        m = m.max(at(inputs.row(0, y * xs.w as usize + xx)?, ch)?);
                    }
                }
            }
            Ok(m)
        }
        OpKind::AvgPool {
            z_x,
            window,
            requant,
            lo,
            hi,
            ..
        } => {
            ordered(*lo, *hi)?;
            valid(*requant)?;
            let xs = inputs.shape(0);
            if xs.c != out.c {
                return Err(invalid("pooling changes the channel count"));
            }
            let mut acc = 0i64;
            for i in 0..usize::from(window.kh) {
                for j in 0..usize::from(window.kw) {
                    let (y, xx) = window_tap(xs, window, oy, ox, i, j)
                        .ok_or_else(|| invalid("a window leaves the input"))?;
                    acc += i64::from(at(inputs.row(0, y * xs.w as usize + xx)?, ch)?)
                        - i64::from(*z_x);
                }
            }
            Ok(round_shift(
                acc * i64::from(requant.multiplier),
                requant.shift,
                op.z_out,
                *lo,
                *hi,
            ))
        }
        OpKind::Add {
            a,
            b,
            shift,
            lo,
            hi,
        } => {
            ordered(*lo, *hi)?;
            for o in [a, b] {
                valid(Requant {
                    multiplier: o.multiplier,
                    shift: *shift,
                })?;
            }
            if inputs.shape(0) != out || inputs.shape(1) != out {
                return Err(invalid("an operand's shape is not the output's"));
            }
            let term = |operand: usize, o: &Operand| -> Result<i64> {
                let oc = inputs.shape(operand).c as usize;
                let v = at(inputs.row(operand, e / oc)?, e % oc)?;
                Ok((i64::from(v) - i64::from(o.zero)) * i64::from(o.multiplier))
            };
            let sum = term(0, a)? + term(1, b)?;
            Ok(round_shift(sum, *shift, op.z_out, *lo, *hi))
        }
        OpKind::Reshape { .. } => {
            if inputs.shape(0).len() != out.len() {
                return Err(invalid("the element count changes"));
            }
            let xc = inputs.shape(0).c as usize;
            at(inputs.row(0, e / xc)?, e % xc)
        }
    }
}

/// One output element `e` (row-major index into the op's output) of op `op`, given the slot table.
///
/// This is the formula the contract's one-step executor implements ([`element_with`] on the slots).
///
/// # Panics
/// If the op does not fit the slot table (a model that does not validate).
pub fn element(op: &Op, slots: &[(Shape, &[i8])], e: usize) -> i8 {
    element_with(op, e, &SlotInputs::new(op, slots)).expect("a validated model fits its slots")
}

/// Requantizes a dense/conv accumulator with its row's parameters. The registration bound keeps
/// `|acc| < 2^31`; a model that breaks it is an error.
fn requant_row(row: &WeightRow, acc: i64, zero: i8, lo: i8, hi: i8) -> Result<i8> {
    let acc = i32::try_from(acc).map_err(|_| {
        CoreError::InvalidModel(format!(
            "accumulator {acc} outside i32: the registration bound is broken"
        ))
    })?;
    Ok(row.requant.apply(acc, zero, lo, hi))
}

/// Runs op `op` on the state table `slots` (slots `0..=k`, of `shapes`), returning its output tensor.
pub fn step(shapes: &[Shape], op: &Op, slots: &[Vec<i8>]) -> Vec<i8> {
    let view: Vec<(Shape, &[i8])> = shapes
        .iter()
        .zip(slots)
        .map(|(&shape, s)| (shape, s.as_slice()))
        .collect();
    let inputs = SlotInputs::new(op, &view);
    (0..op.out.len())
        .map(|e| element_with(op, e, &inputs).expect("a validated model fits its slots"))
        .collect()
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
