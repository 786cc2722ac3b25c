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
//! - Requantization runs in i64 ([`IntArith::I64`]): `acc·M + 2^(s−1)` stays below 2^63 and the right
//!   shift is arithmetic (`wrapping_shr` on signed integers), so it is the protocol's formula bit for bit.
//! - Devices without 64-bit integers (wgpu adapters lacking `SHADER_INT64`) use [`IntArith::I32`],
//!   where no value ever leaves i32. Dense, conv and average-pool outputs are a monotone step function
//!   of the accumulator with at most 256 values in `[lo, hi]`, so each channel's thresholds are
//!   computed exactly on the host (in i128) and the output is `lo` plus the number of thresholds below
//!   the accumulator, found by an 8-probe binary search (`Requantizer::thresholds`). Adds, whose
//!   output depends on two inputs, split each multiplier into 16-bit halves and carry between two
//!   i32 limbs (`add_narrow`). The tests check both against the formula at its extremes.

use crate::{
    error::{CoreError, Result},
    model::{Model, OpKind, Window},
    quant::Requant,
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
    /// `burn-wgpu`: CubeCL on wgpu's default adapter (Vulkan, Metal, DX12 or WebGPU).
    #[cfg(feature = "wgpu")]
    Wgpu,
}

impl BurnBackend {
    /// Every backend compiled into this build.
    pub const ALL: &'static [BurnBackend] = &[
        BurnBackend::Flex,
        BurnBackend::NdArray,
        #[cfg(feature = "wgpu")]
        BurnBackend::Wgpu,
    ];

    /// The name [`FromStr`](std::str::FromStr) accepts.
    pub fn name(self) -> &'static str {
        match self {
            BurnBackend::Flex => "flex",
            BurnBackend::NdArray => "ndarray",
            #[cfg(feature = "wgpu")]
            BurnBackend::Wgpu => "wgpu",
        }
    }

    fn device(self) -> Device {
        match self {
            BurnBackend::Flex => Device::new(burn::backend::FlexDevice),
            // Deprecated upstream in favour of flex, kept as a second independent CPU implementation.
            #[allow(deprecated)]
            BurnBackend::NdArray => Device::new(burn::backend::NdArrayDevice::Cpu),
            #[cfg(feature = "wgpu")]
            BurnBackend::Wgpu => Device::new(burn::backend::WgpuDevice::default()),
        }
    }
}

impl std::str::FromStr for BurnBackend {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Self::ALL
            .iter()
            .copied()
            .find(|b| b.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|b| b.name()).collect();
                format!("unknown backend {s:?} (compiled in: {})", names.join(", "))
            })
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

/// Integer width of the requantization arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntArith {
    /// i64: the protocol's formula verbatim.
    I64,
    /// i32 only, for devices without 64-bit integers (wgpu adapters lacking `SHADER_INT64`).
    I32,
}

impl IntArith {
    fn dtype(self) -> IntDType {
        match self {
            IntArith::I64 => IntDType::I64,
            IntArith::I32 => IntDType::I32,
        }
    }
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

/// `clamp(z + ((acc·M + 2^(s−1)) >> s), lo, hi)` per channel, on `[rows, N]` accumulators.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // One per op, built at load time: boxing would buy nothing.
enum Requantizer {
    /// i64 `[1, N]` multipliers, rounding terms `2^(s−1)` and shifts.
    Wide {
        multiplier: Tensor<2, Int>,
        rounding: Tensor<2, Int>,
        shift: Tensor<2, Int>,
        z: i64,
        lo: i64,
        hi: i64,
    },
    /// i32 `[N·256]` ascending thresholds `U` (see [`Requantizer::thresholds`]) and `[1, N]`
    /// channel offsets `256·j`.
    Narrow {
        thresholds: Tensor<1, Int>,
        offsets: Tensor<2, Int>,
        lo: i32,
    },
}

impl Requantizer {
    fn new(params: &[Requant], z: i8, lo: i8, hi: i8, arith: IntArith, device: &Device) -> Self {
        let n = params.len();
        let row = |values: Vec<i64>, dtype| int_tensor(values, [1, n], dtype, device);
        let per = |f: fn(&Requant) -> i64| params.iter().map(f).collect();
        match arith {
            IntArith::I64 => Self::Wide {
                multiplier: row(per(|r| i64::from(r.multiplier)), DType::I64),
                rounding: row(per(|r| 1i64 << (r.shift - 1)), DType::I64),
                shift: row(per(|r| i64::from(r.shift)), DType::I64),
                z: i64::from(z),
                lo: i64::from(lo),
                hi: i64::from(hi),
            },
            IntArith::I32 => Self::Narrow {
                thresholds: int_tensor(
                    params
                        .iter()
                        .flat_map(|r| Self::thresholds(r, z, lo, hi))
                        .collect(),
                    [n * 256],
                    DType::I32,
                    device,
                ),
                offsets: row((0..n as i64).map(|j| 256 * j).collect(), DType::I32),
                lo: i32::from(lo),
            },
        }
    }

    /// `U_k = T_k − 1` for `k = 1..=255`, where `T_k` is the least accumulator whose output is at
    /// least `lo + k` (`i32::MAX`, never exceeded, once `lo + k > hi`), plus one unused pad entry.
    ///
    /// The output is `lo + #{k : acc > U_k}`, and the clamped i32 thresholds keep that exact for
    /// every `|acc| < 2^31`: a clamped `i32::MAX` is never exceeded, a clamped `i32::MIN` always is.
    fn thresholds(r: &Requant, z: i8, lo: i8, hi: i8) -> Vec<i64> {
        let (m, s) = (i128::from(r.multiplier), u32::from(r.shift));
        (1..=256)
            .map(|k| {
                let v = i128::from(lo) + k;
                if k == 256 || v > i128::from(hi) {
                    return i64::from(i32::MAX);
                }
                // z + ((acc·M + 2^(s−1)) >> s) ≥ v  ⇔  acc·M ≥ (v − z)·2^s − 2^(s−1)  ⇔  acc ≥ ⌈·/M⌉.
                let num = (v - i128::from(z)) * (1i128 << s) - (1i128 << (s - 1));
                let t = -((-num).div_euclid(m));
                (t - 1).clamp(i128::from(i32::MIN), i128::from(i32::MAX)) as i64
            })
            .collect()
    }

    /// `[rows, N]` accumulators (i64 when wide, i32 when narrow) → `[rows, N]` i32 outputs.
    fn apply(&self, acc: Tensor<2, Int>) -> Tensor<2, Int> {
        match self {
            Self::Wide {
                multiplier,
                rounding,
                shift,
                z,
                lo,
                hi,
            } => (acc * multiplier.clone() + rounding.clone())
                .bitwise_right_shift(shift.clone())
                .add_scalar(*z)
                .clamp(*lo, *hi)
                .cast(IntDType::I32),
            // Binary search for the number of thresholds below `acc`: they ascend in k, so the
            // passed ones are a prefix, found in 8 halving probes of at most 255 entries.
            Self::Narrow {
                thresholds,
                offsets,
                lo,
            } => {
                let [rows, n] = acc.dims();
                let mut count = acc.zeros_like();
                for step in [128, 64, 32, 16, 8, 4, 2, 1] {
                    let probe = (count.clone() + offsets.clone())
                        .add_scalar(step - 1)
                        .reshape([rows * n]);
                    let u = thresholds.clone().select(0, probe).reshape([rows, n]);
                    let passed = acc.clone().greater(u);
                    count = count.clone().mask_where(passed, count.add_scalar(step));
                }
                count.add_scalar(*lo)
            }
        }
    }
}

/// The per-channel part of a dense/conv op: weights, bias, requantization.
#[derive(Debug)]
struct Channels {
    weights: Weights,
    /// `[1, N]`, in the arithmetic's width.
    bias: Tensor<2, Int>,
    requant: Requantizer,
    arith: IntArith,
}

#[derive(Debug)]
enum Prepared {
    Dense {
        input: usize,
        z_x: i32,
        ch: Box<Channels>,
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
        requant: Box<Requantizer>,
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
    arith: IntArith,
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
    fn new(
        rows: &[crate::model::WeightRow],
        (z, lo, hi): (i8, i8, i8),
        mode: MatmulMode,
        arith: IntArith,
        device: &Device,
    ) -> Self {
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
        let params: Vec<Requant> = rows.iter().map(|r| r.requant).collect();
        Self {
            weights,
            bias: int_tensor(
                rows.iter().map(|r| i64::from(r.bias)).collect(),
                [1, n],
                arith.dtype().into(),
                device,
            ),
            requant: Requantizer::new(&params, z, lo, hi, arith, device),
            arith,
        }
    }

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

/// `clamp(z + ((a·M_a + b·M_b + 2^(s−1)) >> s), lo, hi)` on i32 only, for centred `|a|, |b| ≤ 255`.
///
/// With `M = h·2^16 + l` (`h < 2^15`, `l < 2^16`): `H = a·h_a + b·h_b` (`|H| < 2^24`) and
/// `L = a·l_a + b·l_b` (`|L| < 2^25`), renormalised to `H' = H + (L >> 16)`, `L' = L & 0xFFFF`, so the
/// sum is exactly `H'·2^16 + L'` with `|H'| < 2^25`. Then, exactly:
/// - `s ≤ 16`: `H'·2^(16−s) + ((L' + 2^(s−1)) >> s)`, with `H'` first clamped to `±2^9`; a larger
///   `|H'|` puts the shifted value beyond `±511` either way, so the final clamp is unchanged.
/// - `s > 16`: `(H' + 2^(s−17)) >> (s − 16)` (the shifted-out `L'` cannot carry), with `s` capped at
///   42: from there on `0 < H' + 2^(s−17) < 2^(s−16)`, so the value is 0 for every larger `s` too.
#[allow(clippy::too_many_arguments)]
fn add_narrow(
    a: Tensor<2, Int>,
    m_a: i64,
    b: Tensor<2, Int>,
    m_b: i64,
    s: i64,
    z: i64,
    lo: i64,
    hi: i64,
) -> Tensor<2, Int> {
    let split = |m: i64| (m >> 16, m & 0xFFFF);
    let ((h_a, l_a), (h_b, l_b)) = (split(m_a), split(m_b));
    let high = a.clone().mul_scalar(h_a) + b.clone().mul_scalar(h_b);
    let low = a.mul_scalar(l_a) + b.mul_scalar(l_b);
    let high = high + low.clone().bitwise_right_shift_scalar(16);
    let low = low.bitwise_and_scalar(0xFFFF);
    let shifted = if s <= 16 {
        high.clamp(-512, 512).mul_scalar(1i64 << (16 - s))
            + low
                .add_scalar(1i64 << (s - 1))
                .bitwise_right_shift_scalar(s)
    } else {
        let s = s.min(42);
        high.add_scalar(1i64 << (s - 17))
            .bitwise_right_shift_scalar(s - 16)
    };
    shifted.add_scalar(z).clamp(lo, hi)
}

impl BurnModel {
    /// Uploads a validated model to `backend`'s device, using `mode` for reductions and i64
    /// requantization where the device has 64-bit integers, i32 otherwise.
    pub fn new(model: &Model, backend: BurnBackend, mode: MatmulMode) -> Self {
        let arith = if backend.device().supports_dtype(DType::I64) {
            IntArith::I64
        } else {
            IntArith::I32
        };
        Self::with_arith(model, backend, mode, arith)
    }

    /// Like [`BurnModel::new`] with the requantization width chosen by the caller.
    pub fn with_arith(
        model: &Model,
        backend: BurnBackend,
        mode: MatmulMode,
        arith: IntArith,
    ) -> Self {
        let device = backend.device();
        let index = arith.dtype().into();
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
                        ch: Box::new(Channels::new(
                            rows,
                            (op.z_out, *lo, *hi),
                            mode,
                            arith,
                            &device,
                        )),
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
                            taps: int_tensor(taps, [n], index, &device),
                            rows: op.out.rows(),
                            k: rows[0].weights.len(),
                            ch: Box::new(Channels::new(
                                rows,
                                (op.z_out, *lo, *hi),
                                mode,
                                arith,
                                &device,
                            )),
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
                            taps: int_tensor(taps, [n], index, &device),
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
                            taps: int_tensor(taps, [n], index, &device),
                            outputs: op.out.len(),
                            window: usize::from(window.kh) * usize::from(window.kw),
                            requant: Box::new(Requantizer::new(
                                &[*requant],
                                op.z_out,
                                *lo,
                                *hi,
                                arith,
                                &device,
                            )),
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
            arith,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::round_shift;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn thresholds_count_the_formula(
            m in 1..=i32::MAX,
            s in 1u8..=62,
            (z, a, b) in any::<(i8, i8, i8)>(),
            k in 0usize..255,
            delta in -2i64..=2,
            acc in -i32::MAX..=i32::MAX,
        ) {
            let (lo, hi) = (a.min(b), a.max(b));
            let r = Requant { multiplier: m, shift: s };
            let u = Requantizer::thresholds(&r, z, lo, hi);
            // A random accumulator, and one right at a threshold.
            let near = (u[k] + delta).clamp(-i64::from(i32::MAX), i64::from(i32::MAX)) as i32;
            for acc in [acc, near] {
                let got = i64::from(lo) + u.iter().filter(|&&u| i64::from(acc) > u).count() as i64;
                prop_assert_eq!(got, i64::from(r.apply(acc, z, lo, hi)), "acc {}", acc);
            }
        }
    }

    #[test]
    fn narrow_add_matches_the_formula_at_the_extremes() {
        let device = BurnBackend::Flex.device();
        let vals = [-255i64, -254, -129, -1, 0, 1, 128, 254, 255];
        let (a, b): (Vec<i64>, Vec<i64>) = vals
            .iter()
            .flat_map(|&a| vals.iter().map(move |&b| (a, b)))
            .unzip();
        let n = a.len();
        let ta = int_tensor(a.clone(), [1, n], DType::I32, &device);
        let tb = int_tensor(b.clone(), [1, n], DType::I32, &device);
        let ms = [
            1i64,
            2,
            0x7FFF,
            0xFFFF,
            0x1_0000,
            0x1234_5678,
            i64::from(i32::MAX),
        ];
        for &m_a in &ms {
            for &m_b in &ms {
                for s in 1..=62i64 {
                    for (z, lo, hi) in [(0i8, -128i8, 127i8), (-128, -128, 127), (127, -5, 9)] {
                        let got = add_narrow(
                            ta.clone(),
                            m_a,
                            tb.clone(),
                            m_b,
                            s,
                            z.into(),
                            lo.into(),
                            hi.into(),
                        )
                        .into_data()
                        .convert::<i32>()
                        .try_to_vec::<i32>()
                        .unwrap();
                        for i in 0..n {
                            let want = round_shift(a[i] * m_a + b[i] * m_b, s as u8, z, lo, hi);
                            assert_eq!(
                                got[i],
                                i32::from(want),
                                "a {} b {} m_a {m_a} m_b {m_b} s {s} z {z}",
                                a[i],
                                b[i]
                            );
                        }
                    }
                }
            }
        }
    }
}
