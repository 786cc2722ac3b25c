//! Running a prepared model: inputs uploaded as one `[batch, len]` tensor, every op applied on the
//! device, every slot read back once into a `Trace` per input.

use crate::{
    backend::int_tensor,
    error::{BurnError, Result},
    prepare::{BurnModel, Channels, Prepared, Weights},
    requant::{IntArith, add_narrow},
};
use burn::tensor::{DType, Int, IntDType, Tensor};
use vouch_core::{CoreError, trace::Trace};

impl Channels {
    /// `[rows, K]` centred inputs → `[rows, N]` requantized outputs.
    fn apply(&self, x: Tensor<2, Int>) -> Tensor<2, Int> {
        let dtype = self.arith.dtype();
        let acc = match &self.weights {
            Weights::Int(w) => x.matmul(w.as_ref().clone()),
            Weights::F32(chunks) => {
                let k = x.dims()[1];
                let xf = x.float();
                chunks
                    .iter()
                    .map(|(start, w)| {
                        let len = w.dims()[0];
                        let part = if len == k {
                            xf.clone()
                        } else {
                            xf.clone().narrow(1, *start, len)
                        };
                        part.matmul(w.clone()).int()
                    })
                    // Float-to-int conversion yields the device's default int type; unify.
                    .map(|part| part.cast(dtype))
                    .reduce(|a, b| a + b)
                    .expect("K ≥ 1, so at least one chunk")
            }
        };
        self.requant.apply(acc.cast(dtype) + self.bias.clone())
    }
}

impl BurnModel {
    /// Runs the model on `input`, returning every slot (read back from the device once, at the end).
    pub fn run(&self, input: &[i8]) -> Result<Trace> {
        Ok(self
            .run_batch(&[input])?
            .pop()
            .expect("one input, one trace"))
    }

    /// Runs the model on a batch of inputs at once (every op sees a `[batch, len]` tensor), returning
    /// one trace per input. Batching changes no bit: every element is computed by the same exact
    /// integer formula.
    pub fn run_batch(&self, inputs: &[&[i8]]) -> Result<Vec<Trace>> {
        let batch = inputs.len();
        let slots = self
            .run_on_device(inputs)?
            .into_iter()
            .map(|t| {
                let values = t
                    .into_data()
                    .convert::<i32>()
                    .try_to_vec::<i32>()
                    .map_err(|e| BurnError::Device(format!("{e:?}")))?;
                values
                    .into_iter()
                    .map(|v| {
                        i8::try_from(v)
                            .map_err(|_| BurnError::Device(format!("element {v} outside int8")))
                    })
                    .collect::<Result<Vec<i8>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((0..batch)
            .map(|b| {
                let per_input = slots
                    .iter()
                    .map(|s| {
                        let len = s.len() / batch;
                        s[b * len..(b + 1) * len].to_vec()
                    })
                    .collect();
                Trace::new(self.shapes.clone(), per_input)
            })
            .collect())
    }

    /// Runs the model on a batch and keeps every slot on the device (`[batch, len]` i32 tensors).
    pub fn run_on_device(&self, inputs: &[&[i8]]) -> Result<Vec<Tensor<2, Int>>> {
        let batch = inputs.len();
        if batch == 0 {
            return Ok(Vec::new());
        }
        let mut x = Vec::with_capacity(batch * self.input_len);
        for input in inputs {
            if input.len() != self.input_len {
                return Err(BurnError::Core(CoreError::InputLength {
                    expected: self.input_len,
                    actual: input.len(),
                }));
            }
            x.extend(input.iter().map(|&v| i64::from(v)));
        }
        let mut slots = vec![int_tensor(
            x,
            [batch, self.input_len],
            DType::I32,
            &self.device,
        )];
        for op in &self.ops {
            let out = match op {
                Prepared::Dense { input, z_x, ch } => {
                    ch.apply(slots[*input].clone().sub_scalar(*z_x))
                }
                Prepared::Conv {
                    input,
                    z_x,
                    len,
                    taps,
                    rows,
                    k,
                    ch,
                } => {
                    let x = slots[*input].clone().sub_scalar(*z_x);
                    // Padding taps read the appended element: 0 once the zero point is subtracted.
                    let x = Tensor::cat(
                        vec![x, Tensor::zeros([batch, 1], (&self.device, DType::I32))],
                        1,
                    );
                    debug_assert_eq!(x.dims()[1], len + 1);
                    let patches = x.select(1, taps.clone()).reshape([batch * rows, *k]);
                    let y = ch.apply(patches);
                    let n = y.dims()[0] * y.dims()[1] / batch;
                    y.reshape([batch, n])
                }
                Prepared::Clamp { input, lo, hi } => slots[*input].clone().clamp(*lo, *hi),
                Prepared::MaxPool {
                    input,
                    len,
                    taps,
                    outputs,
                    window,
                } => {
                    let pad = Tensor::full([batch, 1], -128, (&self.device, DType::I32));
                    let x = Tensor::cat(vec![slots[*input].clone(), pad], 1);
                    debug_assert_eq!(x.dims()[1], len + 1);
                    x.select(1, taps.clone())
                        .reshape([batch * outputs, *window])
                        .max_dim(1)
                        .reshape([batch, *outputs])
                }
                Prepared::AvgPool {
                    input,
                    z_x,
                    taps,
                    outputs,
                    window,
                    requant,
                } => {
                    let sums = slots[*input]
                        .clone()
                        .sub_scalar(*z_x)
                        .select(1, taps.clone())
                        .reshape([batch * outputs, *window])
                        .sum_dim(1)
                        .cast(self.arith.dtype());
                    requant.apply(sums).reshape([batch, *outputs])
                }
                Prepared::Add {
                    a,
                    z_a,
                    m_a,
                    b,
                    z_b,
                    m_b,
                    s,
                    z,
                    lo,
                    hi,
                } if self.arith == IntArith::I32 => add_narrow(
                    slots[*a].clone().sub_scalar(*z_a),
                    *m_a,
                    slots[*b].clone().sub_scalar(*z_b),
                    *m_b,
                    *s,
                    *z,
                    *lo,
                    *hi,
                ),
                Prepared::Add {
                    a,
                    z_a,
                    m_a,
                    b,
                    z_b,
                    m_b,
                    s,
                    z,
                    lo,
                    hi,
                } => {
                    let ta = slots[*a]
                        .clone()
                        .sub_scalar(*z_a)
                        .cast(IntDType::I64)
                        .mul_scalar(*m_a);
                    let tb = slots[*b]
                        .clone()
                        .sub_scalar(*z_b)
                        .cast(IntDType::I64)
                        .mul_scalar(*m_b);
                    (ta + tb)
                        .add_scalar(1i64 << (s - 1))
                        .bitwise_right_shift_scalar(*s)
                        .add_scalar(*z)
                        .clamp(*lo, *hi)
                        .cast(IntDType::I32)
                }
                Prepared::Reshape { input } => slots[*input].clone(),
            };
            slots.push(out);
        }
        Ok(slots)
    }
}
