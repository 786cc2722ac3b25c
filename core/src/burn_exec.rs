//! Execution on Burn, bit-identical to the reference interpreter.
//!
//! Every slot lives on the device as a flat `[1, len]` i32 tensor in row-major (H, W, C) order.
//! Windowed ops gather their taps with index tensors built once at load time (im2col), with padding
//! taps pointing at one extra element appended to the input: `0` after subtracting the zero point for
//! convolution (padding holds the zero point), `−128` for max-pooling.
//!
//! Exactness:
//! - Dense/conv accumulators: `bias + Σ (x − z_x)·w`, bounded by registration below 2^31, so the i32
//!   integer matmul never wraps ([`MatmulMode::Int`]). The f32 path ([`MatmulMode::F32Chunked`]) splits
//!   the reduction into chunks of at most [`F32_CHUNK`] terms: each term is an integer with
//!   `|x − z_x| ≤ 255` and `|w| ≤ 127`, so the sum of absolute values of one chunk is at most
//!   `512 · 255 · 127 = 16 581 120 < 2^24`. Every partial sum, in any order and with or without FMA, is
//!   then an integer below 2^24 in magnitude, which f32 represents exactly; the chunk results are cast
//!   to integers and added in i32.
//! - Requantization runs in i64: `acc·M + 2^(s−1)` stays below 2^63 and the right shift is arithmetic
//!   (`wrapping_shr` on signed integers), so it is the protocol's formula bit for bit.

use crate::{
    error::{CoreError, Result},
    model::{Model, OpKind, Window},
    reference::window_tap,
    shape::Shape,
    trace::Trace,
};
use burn::tensor::{DType, Device, Int, IntDType, Tensor, TensorData};

/// Largest reduction chunk of the f32 path: `512 · 255 · 127 < 2^24` (see the module docs).
pub const F32_CHUNK: usize = 512;

/// Which Burn backend runs the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BurnBackend {
    /// `burn-flex`: Burn's portable pure-Rust CPU backend.
    #[default]
    Flex,
    /// `burn-ndarray`: the ndarray CPU backend.
    NdArray,
}

impl BurnBackend {
    /// Every backend compiled into this build.
    pub const ALL: &'static [BurnBackend] = &[BurnBackend::Flex, BurnBackend::NdArray];

    fn device(self) -> Device {
        match self {
            BurnBackend::Flex => Device::new(burn::backend::FlexDevice),
            // Deprecated upstream in favour of flex, kept as a second independent CPU implementation.
            #[allow(deprecated)]
            BurnBackend::NdArray => Device::new(burn::backend::NdArrayDevice::Cpu),
        }
    }
}

impl std::str::FromStr for BurnBackend {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "flex" => Ok(Self::Flex),
            "ndarray" => Ok(Self::NdArray),
            other => Err(format!(
                "unknown backend {other:?} (compiled in: flex, ndarray)"
            )),
        }
    }
}

/// How dense and convolution reductions are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatmulMode {
    /// i32 integer matmul: exact by the registration bound.
    Int,
    /// f32 matmul in reduction chunks of at most [`F32_CHUNK`]: exact because every partial sum stays
    /// below 2^24.
    #[default]
    F32Chunked,
}

fn int_tensor<const D: usize>(
    values: Vec<i64>,
    shape: [usize; D],
    dtype: DType,
    device: &Device,
) -> Tensor<D, Int> {
    Tensor::from_data(
        TensorData::new(values, shape).convert_dtype(dtype),
        (device, dtype),
    )
}

/// A `[K, N]` weight matrix prepared for one of the matmul modes.
#[derive(Debug)]
enum Weights {
    Int(Box<Tensor<2, Int>>),
    /// `(start, f32 chunk [len, N])` along K.
    F32(Vec<(usize, Tensor<2>)>),
}

/// The per-channel part of a dense/conv op: weights, bias, requantization.
#[derive(Debug)]
struct Channels {
    weights: Weights,
    /// `[1, N]` i64.
    bias: Tensor<2, Int>,
    /// `[1, N]` i64 multipliers.
    multiplier: Tensor<2, Int>,
    /// `[1, N]` i64 `2^(s−1)`.
    rounding: Tensor<2, Int>,
    /// `[1, N]` i64 shifts.
    shift: Tensor<2, Int>,
}

#[derive(Debug)]
enum Prepared {
    Dense {
        input: usize,
        z_x: i32,
        ch: Box<Channels>,
        z: i64,
        lo: i64,
        hi: i64,
    },
    /// `taps`: `[rows·K]` indices into the input with one appended padding element.
    Conv {
        input: usize,
        z_x: i32,
        len: usize,
        taps: Tensor<1, Int>,
        rows: usize,
        k: usize,
        ch: Box<Channels>,
        z: i64,
        lo: i64,
        hi: i64,
    },
    Clamp {
        input: usize,
        lo: i32,
        hi: i32,
    },
    MaxPool {
        input: usize,
        len: usize,
        taps: Tensor<1, Int>,
        outputs: usize,
        window: usize,
    },
    AvgPool {
        input: usize,
        z_x: i32,
        taps: Tensor<1, Int>,
        outputs: usize,
        window: usize,
        m: i64,
        s: i64,
        z: i64,
        lo: i64,
        hi: i64,
    },
    Add {
        a: usize,
        z_a: i32,
        m_a: i64,
        b: usize,
        z_b: i32,
        m_b: i64,
        s: i64,
        z: i64,
        lo: i64,
        hi: i64,
    },
    Reshape {
        input: usize,
    },
}

/// A model loaded onto a Burn device, ready to run many inputs.
#[derive(Debug)]
pub struct BurnModel {
    device: Device,
    input_len: usize,
    shapes: Vec<Shape>,
    ops: Vec<Prepared>,
}

/// Gather indices of every (output pixel, tap) of a window op, `per_channel` selecting whether
/// channels are reduced (conv: taps cover all input channels) or kept (pooling: one channel per output).
fn tap_indices(x: Shape, out: Shape, w: &Window, conv: bool, pad: usize) -> Vec<i64> {
    let mut idx = Vec::new();
    let (kh, kw) = (usize::from(w.kh), usize::from(w.kw));
    for oy in 0..out.h as usize {
        for ox in 0..out.w as usize {
            if conv {
                for i in 0..kh {
                    for j in 0..kw {
                        let tap = window_tap(x, w, oy, ox, i, j);
                        for c in 0..x.c as usize {
                            idx.push(tap.map_or(pad, |(y, xx)| x.index(y, xx, c)) as i64);
                        }
                    }
                }
            } else {
                for c in 0..out.c as usize {
                    for i in 0..kh {
                        for j in 0..kw {
                            let tap = window_tap(x, w, oy, ox, i, j);
                            idx.push(tap.map_or(pad, |(y, xx)| x.index(y, xx, c)) as i64);
                        }
                    }
                }
            }
        }
    }
    idx
}

impl Channels {
    fn new(rows: &[crate::model::WeightRow], mode: MatmulMode, device: &Device) -> Self {
        let (k, n) = (rows[0].weights.len(), rows.len());
        let mut w = vec![0i64; k * n];
        for (j, row) in rows.iter().enumerate() {
            for (i, &v) in row.weights.iter().enumerate() {
                w[i * n + j] = i64::from(v);
            }
        }
        let weights = match mode {
            MatmulMode::Int => Weights::Int(Box::new(int_tensor(w, [k, n], DType::I32, device))),
            MatmulMode::F32Chunked => Weights::F32(
                (0..k)
                    .step_by(F32_CHUNK)
                    .map(|start| {
                        let len = F32_CHUNK.min(k - start);
                        let chunk: Vec<f32> = w[start * n..(start + len) * n]
                            .iter()
                            .map(|&v| v as f32)
                            .collect();
                        (
                            start,
                            Tensor::from_data(
                                TensorData::new(chunk, [len, n]),
                                (device, DType::F32),
                            ),
                        )
                    })
                    .collect(),
            ),
        };
        let per_row = |f: &dyn Fn(&crate::model::WeightRow) -> i64, dtype| {
            int_tensor(rows.iter().map(f).collect(), [1, n], dtype, device)
        };
        Self {
            weights,
            bias: per_row(&|r| i64::from(r.bias), DType::I64),
            multiplier: per_row(&|r| i64::from(r.requant.multiplier), DType::I64),
            rounding: per_row(&|r| 1i64 << (r.requant.shift - 1), DType::I64),
            shift: per_row(&|r| i64::from(r.requant.shift), DType::I64),
        }
    }

    /// `[rows, K]` centred inputs → `[rows, N]` requantized outputs.
    fn apply(&self, x: Tensor<2, Int>, z: i64, lo: i64, hi: i64) -> Tensor<2, Int> {
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
                    // Float-to-int conversion yields the device's default int type; unify on i64.
                    .map(|part| part.cast(IntDType::I64))
                    .reduce(|a, b| a + b)
                    .expect("K ≥ 1, so at least one chunk")
            }
        };
        let acc = acc.cast(IntDType::I64) + self.bias.clone();
        (acc * self.multiplier.clone() + self.rounding.clone())
            .bitwise_right_shift(self.shift.clone())
            .add_scalar(z)
            .clamp(lo, hi)
            .cast(IntDType::I32)
    }
}

impl BurnModel {
    /// Uploads a validated model to `backend`'s device, using `mode` for reductions.
    pub fn new(model: &Model, backend: BurnBackend, mode: MatmulMode) -> Self {
        let device = backend.device();
        let slots = model.slots();
        let ops = model
            .ops
            .iter()
            .map(|op| {
                let z = i64::from(op.z_out);
                match &op.kind {
                    OpKind::Dense {
                        input,
                        z_x,
                        lo,
                        hi,
                        rows,
                    } => Prepared::Dense {
                        input: usize::from(*input),
                        z_x: i32::from(*z_x),
                        ch: Box::new(Channels::new(rows, mode, &device)),
                        z,
                        lo: i64::from(*lo),
                        hi: i64::from(*hi),
                    },
                    OpKind::Conv2d {
                        input,
                        z_x,
                        lo,
                        hi,
                        window,
                        rows,
                    } => {
                        let x = slots[usize::from(*input)].0;
                        let taps = tap_indices(x, op.out, window, true, x.len());
                        let n = taps.len();
                        Prepared::Conv {
                            input: usize::from(*input),
                            z_x: i32::from(*z_x),
                            len: x.len(),
                            taps: int_tensor(taps, [n], DType::I64, &device),
                            rows: op.out.rows(),
                            k: rows[0].weights.len(),
                            ch: Box::new(Channels::new(rows, mode, &device)),
                            z,
                            lo: i64::from(*lo),
                            hi: i64::from(*hi),
                        }
                    }
                    OpKind::Clamp { input, lo, hi } => Prepared::Clamp {
                        input: usize::from(*input),
                        lo: i32::from(*lo),
                        hi: i32::from(*hi),
                    },
                    OpKind::MaxPool { input, window } => {
                        let x = slots[usize::from(*input)].0;
                        let taps = tap_indices(x, op.out, window, false, x.len());
                        let n = taps.len();
                        Prepared::MaxPool {
                            input: usize::from(*input),
                            len: x.len(),
                            taps: int_tensor(taps, [n], DType::I64, &device),
                            outputs: op.out.len(),
                            window: usize::from(window.kh) * usize::from(window.kw),
                        }
                    }
                    OpKind::AvgPool {
                        input,
                        z_x,
                        window,
                        requant,
                        lo,
                        hi,
                    } => {
                        let x = slots[usize::from(*input)].0;
                        let taps = tap_indices(x, op.out, window, false, x.len());
                        let n = taps.len();
                        Prepared::AvgPool {
                            input: usize::from(*input),
                            z_x: i32::from(*z_x),
                            taps: int_tensor(taps, [n], DType::I64, &device),
                            outputs: op.out.len(),
                            window: usize::from(window.kh) * usize::from(window.kw),
                            m: i64::from(requant.multiplier),
                            s: i64::from(requant.shift),
                            z,
                            lo: i64::from(*lo),
                            hi: i64::from(*hi),
                        }
                    }
                    OpKind::Add {
                        a,
                        b,
                        shift,
                        lo,
                        hi,
                    } => Prepared::Add {
                        a: usize::from(a.slot),
                        z_a: i32::from(a.zero),
                        m_a: i64::from(a.multiplier),
                        b: usize::from(b.slot),
                        z_b: i32::from(b.zero),
                        m_b: i64::from(b.multiplier),
                        s: i64::from(*shift),
                        z,
                        lo: i64::from(*lo),
                        hi: i64::from(*hi),
                    },
                    OpKind::Reshape { input } => Prepared::Reshape {
                        input: usize::from(*input),
                    },
                }
            })
            .collect();
        Self {
            device,
            input_len: model.input.len(),
            shapes: slots.into_iter().map(|(s, _)| s).collect(),
            ops,
        }
    }

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
                return Err(CoreError::InputLength {
                    expected: self.input_len,
                    actual: input.len(),
                });
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
                Prepared::Dense {
                    input,
                    z_x,
                    ch,
                    z,
                    lo,
                    hi,
                } => ch.apply(slots[*input].clone().sub_scalar(*z_x), *z, *lo, *hi),
                Prepared::Conv {
                    input,
                    z_x,
                    len,
                    taps,
                    rows,
                    k,
                    ch,
                    z,
                    lo,
                    hi,
                } => {
                    let x = slots[*input].clone().sub_scalar(*z_x);
                    // Padding taps read the appended element: 0 once the zero point is subtracted.
                    let x = Tensor::cat(
                        vec![x, Tensor::zeros([batch, 1], (&self.device, DType::I32))],
                        1,
                    );
                    debug_assert_eq!(x.dims()[1], len + 1);
                    let patches = x.select(1, taps.clone()).reshape([batch * rows, *k]);
                    let y = ch.apply(patches, *z, *lo, *hi);
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
                    m,
                    s,
                    z,
                    lo,
                    hi,
                } => {
                    let sums = slots[*input]
                        .clone()
                        .sub_scalar(*z_x)
                        .select(1, taps.clone())
                        .reshape([batch * outputs, *window])
                        .sum_dim(1)
                        .reshape([batch, *outputs])
                        .cast(IntDType::I64);
                    (sums.mul_scalar(*m).add_scalar(1i64 << (s - 1)))
                        .bitwise_right_shift_scalar(*s)
                        .add_scalar(*z)
                        .clamp(*lo, *hi)
                        .cast(IntDType::I32)
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
