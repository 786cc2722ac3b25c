//! A model uploaded to a device once, ready for many inputs: each op's weights laid out for the matmul
//! mode, the gather indices of its windows, its requantizer.

use crate::{
    backend::{BurnBackend, int_tensor},
    requant::{IntArith, Requantizer},
};
use burn::tensor::{DType, Device, Int, Tensor, TensorData};
use vouch_core::{
    model::{Model, OpKind, WeightRow, Window},
    quant::Requant,
    reference::window_tap,
    shape::Shape,
};

/// Largest reduction chunk of the f32 path: `512 · 255 · 127 < 2^24` (see the module docs).
pub const F32_CHUNK: usize = 512;

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

/// A `[K, N]` weight matrix prepared for one of the matmul modes.
#[derive(Debug)]
pub(crate) enum Weights {
    Int(Box<Tensor<2, Int>>),
    /// `(start, f32 chunk [len, N])` along K.
    F32(Vec<(usize, Tensor<2>)>),
}

/// The per-channel part of a dense/conv op: weights, bias, requantization.
#[derive(Debug)]
pub(crate) struct Channels {
    pub(crate) weights: Weights,
    /// `[1, N]`, in the arithmetic's width.
    pub(crate) bias: Tensor<2, Int>,
    pub(crate) requant: Requantizer,
    pub(crate) arith: IntArith,
}

/// One op on the device, with everything it needs built at load time.
#[derive(Debug)]
pub(crate) enum Prepared {
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
    pub(crate) device: Device,
    pub(crate) arith: IntArith,
    pub(crate) input_len: usize,
    pub(crate) shapes: Vec<Shape>,
    pub(crate) ops: Vec<Prepared>,
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
        rows: &[WeightRow],
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
}
