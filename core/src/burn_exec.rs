//! Execution on Burn, bit-identical to the reference interpreter.
//!
//! Exactness argument: the dense accumulator is an `Int` (i32) matmul, exact on every backend, and the
//! registration bound (PROTOCOL.md §1.2) keeps `bias + Σ (x − z_x)·w` inside i32, so it never wraps.
//! Requantization runs in i64 on the device: `acc·M + 2^(s−1)` is below 2^63 in magnitude and the
//! right shift is arithmetic (`wrapping_shr` on signed integers), so it is the protocol's formula
//! bit for bit. No float touches the result.

use crate::{
    error::{CoreError, Result},
    model::{Model, Op},
    trace::Trace,
};
use burn::tensor::{DType, Device, Int, IntDType, Tensor, TensorData};

/// Which Burn backend runs the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BurnBackend {
    /// `burn-flex`: Burn's portable pure-Rust CPU backend.
    #[default]
    Flex,
}

impl BurnBackend {
    fn device(self) -> Device {
        match self {
            BurnBackend::Flex => Device::new(burn::backend::FlexDevice),
        }
    }
}

/// A dense op's tensors, prepared once on the device.
#[derive(Debug)]
struct DenseTensors {
    input_slot: usize,
    z_x: i32,
    /// `[K, N]` i32 weights (the transpose of the canonical `[N][K]` rows).
    weights: Tensor<2, Int>,
    /// `[1, N]` i32 bias.
    bias: Tensor<2, Int>,
    /// `[1, N]` i64 multipliers `M`.
    multiplier: Tensor<2, Int>,
    /// `[1, N]` i64 rounding terms `2^(s−1)`.
    rounding: Tensor<2, Int>,
    /// `[1, N]` i64 shifts `s`.
    shift: Tensor<2, Int>,
    z_y: i64,
    lo: i64,
    hi: i64,
}

#[derive(Debug)]
enum PreparedOp {
    Dense(Box<DenseTensors>),
    Relu { input_slot: usize, zero_point: i32 },
}

/// A model loaded onto a Burn device, ready to run many inputs.
#[derive(Debug)]
pub struct BurnModel {
    device: Device,
    input_len: usize,
    ops: Vec<PreparedOp>,
}

fn int_tensor(
    values: Vec<i64>,
    shape: [usize; 2],
    dtype: DType,
    device: &Device,
) -> Tensor<2, Int> {
    Tensor::from_data(
        TensorData::new(values, shape).convert_dtype(dtype),
        (device, dtype),
    )
}

impl BurnModel {
    /// Uploads a validated model's weights to `backend`'s device.
    pub fn new(model: &Model, backend: BurnBackend) -> Self {
        let device = backend.device();
        let ops = model
            .ops
            .iter()
            .map(|op| match op {
                Op::Dense(d) => {
                    let (k, n) = (d.k as usize, d.n as usize);
                    let mut w = vec![0i64; k * n];
                    for (j, row) in d.rows.iter().enumerate() {
                        for (i, &v) in row.weights.iter().enumerate() {
                            w[i * n + j] = i64::from(v);
                        }
                    }
                    let per_row = |f: &dyn Fn(&crate::model::DenseRow) -> i64, dtype| {
                        int_tensor(d.rows.iter().map(f).collect(), [1, n], dtype, &device)
                    };
                    PreparedOp::Dense(Box::new(DenseTensors {
                        input_slot: usize::from(d.input_slot),
                        z_x: i32::from(d.z_x),
                        weights: int_tensor(w, [k, n], DType::I32, &device),
                        bias: per_row(&|r| i64::from(r.bias), DType::I32),
                        multiplier: per_row(&|r| i64::from(r.requant.multiplier), DType::I64),
                        rounding: per_row(&|r| 1i64 << (r.requant.shift - 1), DType::I64),
                        shift: per_row(&|r| i64::from(r.requant.shift), DType::I64),
                        z_y: i64::from(d.z_y),
                        lo: i64::from(d.lo),
                        hi: i64::from(d.hi),
                    }))
                }
                Op::Relu(r) => PreparedOp::Relu {
                    input_slot: usize::from(r.input_slot),
                    zero_point: i32::from(r.zero_point),
                },
            })
            .collect();
        Self {
            device,
            input_len: model.input_len as usize,
            ops,
        }
    }

    /// Runs the model on `input`, returning every slot (read back from the device once, at the end).
    pub fn run(&self, input: &[i8]) -> Result<Trace> {
        if input.len() != self.input_len {
            return Err(CoreError::InputLength {
                expected: self.input_len,
                actual: input.len(),
            });
        }
        let x = input.iter().map(|&v| i64::from(v)).collect();
        // Slots live on the device as `[1, len]` i32 tensors.
        let mut slots = vec![int_tensor(x, [1, self.input_len], DType::I32, &self.device)];
        for op in &self.ops {
            let out = match op {
                PreparedOp::Dense(d) => {
                    let x = slots[d.input_slot].clone().sub_scalar(d.z_x);
                    let acc = x.matmul(d.weights.clone()) + d.bias.clone();
                    let acc = acc.cast(IntDType::I64);
                    let y = (acc * d.multiplier.clone() + d.rounding.clone())
                        .bitwise_right_shift(d.shift.clone())
                        .add_scalar(d.z_y)
                        .clamp(d.lo, d.hi);
                    y.cast(IntDType::I32)
                }
                PreparedOp::Relu {
                    input_slot,
                    zero_point,
                } => {
                    let x = slots[*input_slot].clone();
                    x.clamp_min(*zero_point)
                }
            };
            slots.push(out);
        }
        let slots = slots
            .into_iter()
            .map(|t| {
                let data = t.into_data().convert::<i32>();
                let values = data
                    .try_to_vec::<i32>()
                    .map_err(|e| CoreError::Burn(format!("{e:?}")))?;
                values
                    .into_iter()
                    .map(|v| {
                        i8::try_from(v)
                            .map_err(|_| CoreError::Burn(format!("element {v} outside int8")))
                    })
                    .collect::<Result<Vec<i8>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Trace::new(slots))
    }
}
