//! The reference interpreter: plain loops, no Burn, the executable spec (PROTOCOL.md §2).
//!
//! Every other executor must produce exactly these bytes at every step; the one-step contract
//! implements [`dense_element`] and [`relu_element`] element by element.

use crate::{
    error::{CoreError, Result},
    model::{Dense, Model, Op, Relu},
    trace::Trace,
};

/// One dense output element: `requant_n(bias[n] + Σ_k (x[k] − z_x) · W[n][k])`.
///
/// `x` is the `[K]` input, `n` the output index.
pub fn dense_element(d: &Dense, x: &[i8], n: usize) -> i8 {
    let row = &d.rows[n];
    let z_x = i64::from(d.z_x);
    let acc = row
        .weights
        .iter()
        .zip(x)
        .fold(i64::from(row.bias), |acc, (&w, &xv)| {
            acc + (i64::from(xv) - z_x) * i64::from(w)
        });
    // The registration bound guarantees |acc| < 2^31.
    let acc = i32::try_from(acc).expect("registration bound keeps the accumulator inside i32");
    row.requant.apply(acc, d.z_y, d.lo, d.hi)
}

/// One ReLU output element: `max(x[i], z)`.
pub fn relu_element(r: &Relu, x: &[i8], i: usize) -> i8 {
    x[i].max(r.zero_point)
}

/// Runs op `op` on the state table `slots` (which holds slots `0..=k`), returning its output tensor.
pub fn step(op: &Op, slots: &[Vec<i8>]) -> Vec<i8> {
    match op {
        Op::Dense(d) => {
            let x = &slots[usize::from(d.input_slot)];
            (0..d.n as usize).map(|n| dense_element(d, x, n)).collect()
        }
        Op::Relu(r) => {
            let x = &slots[usize::from(r.input_slot)];
            (0..r.len as usize).map(|i| relu_element(r, x, i)).collect()
        }
    }
}

/// Runs a validated model on `input`, returning every slot.
pub fn run(model: &Model, input: &[i8]) -> Result<Trace> {
    if input.len() != model.input_len as usize {
        return Err(CoreError::InputLength {
            expected: model.input_len as usize,
            actual: input.len(),
        });
    }
    let mut slots = Vec::with_capacity(model.op_count() + 1);
    slots.push(input.to_vec());
    for op in &model.ops {
        let out = step(op, &slots);
        slots.push(out);
    }
    Ok(Trace::new(slots))
}
