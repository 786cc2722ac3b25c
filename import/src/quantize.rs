//! Post-training quantization: [`FloatGraph`] + calibration inputs → a canonical [`Model`].
//!
//! Activations get per-tensor asymmetric int8 from their calibration range (widened to include 0);
//! weights get per-output-channel symmetric int8 (`s_w = max|w| / 127`), biases int32
//! `round(b / (s_x·s_w))`, and each row requantizes by `s_x·s_w / s_y`. Layout changes from ONNX
//! (C, H, W) to Vouch (H, W, C) follow [`crate::layout`].

use crate::{
    error::{ImportError, Result},
    eval::quantize_input,
    graph::{FloatGraph, FloatOp, FloatShape},
    layout::{chw_index, same_order, to_vouch_order, vouch_shape},
    report::{LayerReport, QuantReport, ReducedRow},
};
use vouch_core::{
    Model, Shape,
    model::{ModelMeta, Op, OpKind, Operand, WeightRow, Window},
    quant::Requant,
};

/// How activation ranges are read off the calibration set.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Calibration {
    /// The smallest and largest value seen.
    #[default]
    MinMax,
    /// The given lower and upper percentiles of all values seen (e.g. `99.99`), clipping outliers.
    Percentile(f64),
}

/// Options for [`quantize`].
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Model name in the metadata (default: the graph's name).
    pub name: Option<String>,
    /// Class labels, one per output element (or none).
    pub labels: Vec<String>,
    /// How activation ranges are chosen.
    pub calibration: Calibration,
}

/// An activation's int8 mapping: `real = scale·(q − zero)`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct QParams {
    scale: f64,
    zero: i8,
}

impl QParams {
    /// Asymmetric int8 covering `[lo, hi]` widened to include 0.
    fn from_range(lo: f64, hi: f64) -> Self {
        let (lo, hi) = (lo.min(0.0), hi.max(0.0));
        let scale = if hi - lo > 0.0 {
            (hi - lo) / 255.0
        } else {
            1.0
        };
        let zero = (-128.0 - lo / scale).round().clamp(-128.0, 127.0) as i8;
        Self { scale, zero }
    }
}

/// Where a float value lives in the Vouch model.
#[derive(Debug, Clone, Copy)]
struct Placed {
    slot: u16,
    q: QParams,
}

/// Quantizes `graph` with the `calibration` inputs (ONNX layout, one flat vector each).
///
/// `progress(done, total)` is called after each calibration input in both passes (ranges, then the
/// per-layer error), so `total = 2·calibration.len()`.
pub fn quantize(
    graph: &FloatGraph,
    calibration: &[Vec<f32>],
    options: &ImportOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(Model, QuantReport)> {
    if calibration.is_empty() {
        return Err(ImportError::Quantize("the calibration set is empty".into()));
    }
    let total = 2 * calibration.len();
    let values = graph.nodes.len() + 1;
    for (i, x) in calibration.iter().enumerate() {
        if x.len() != graph.input.len() {
            return Err(ImportError::Quantize(format!(
                "calibration input {i} has {} values, the graph takes {}",
                x.len(),
                graph.input.len()
            )));
        }
    }
    // Pass 1: float activations and their ranges.
    let mut acts: Vec<Vec<Vec<f32>>> = Vec::with_capacity(calibration.len());
    for (i, x) in calibration.iter().enumerate() {
        acts.push(graph.activations(x));
        progress(i + 1, total);
    }
    let ranges: Vec<QParams> = (0..values)
        .map(|v| range(&acts, v, options.calibration))
        .collect();

    // Fusion: a dense/conv/add whose only reader is a Relu absorbs it.
    let mut fused_into = vec![None; graph.nodes.len()]; // node -> the Relu node it absorbs
    let mut absorbed = vec![false; graph.nodes.len()];
    for (i, node) in graph.nodes.iter().enumerate() {
        if matches!(
            node.op,
            FloatOp::Linear { .. } | FloatOp::Conv { .. } | FloatOp::Add
        ) && graph.output != i + 1
            && let [j] = graph.consumers(i + 1)[..]
            && graph.nodes[j].op == FloatOp::Relu
        {
            fused_into[i] = Some(j);
            absorbed[j] = true;
        }
    }

    let mut b = Builder {
        ops: Vec::new(),
        slots: Vec::new(),
        origin: Vec::new(),
        names: Vec::new(),
        reduced: Vec::new(),
    };
    let input_shape = vouch_shape(graph.input);
    let mut placed: Vec<Option<Placed>> = vec![None; values];
    placed[0] = Some(Placed {
        slot: 0,
        q: ranges[0],
    });
    b.slots.push((input_shape, ranges[0].scale));
    for (i, node) in graph.nodes.iter().enumerate() {
        if absorbed[i] {
            continue;
        }
        let bad = |reason: String| ImportError::Unsupported {
            node: node.name.clone(),
            op_type: node.op_type.clone(),
            reason,
        };
        let x = placed[node.inputs[0]]
            .ok_or_else(|| bad("reads a value that has no quantized slot".into()))?;
        let (xs, _) = b.slots[usize::from(x.slot)];
        // The value this node's Vouch op stands for: its own output, or the fused Relu's.
        let (y, relu) = match fused_into[i] {
            Some(j) => (j + 1, true),
            None => (i + 1, false),
        };
        let mut names = vec![node.name.clone()];
        if let Some(j) = fused_into[i] {
            names.push(graph.nodes[j].name.clone());
        }
        let q_own = ranges[y];
        let lo_for = |z: i8| if relu { z } else { -128 };
        let (kind, out, q) = match &node.op {
            FloatOp::Linear { weight, bias } => {
                let k = xs.len();
                // Vouch reads the input flattened in (H, W, C) order; ONNX in (C, H, W).
                let perm: Vec<usize> = (0..k).map(|e| chw_index(xs, e)).collect();
                let n = bias.len();
                let rows_f: Vec<Vec<f32>> = (0..n)
                    .map(|r| perm.iter().map(|&p| weight[r * k + p]).collect())
                    .collect();
                let rows = b.rows(&names, &rows_f, bias, x.q, q_own)?;
                let kind = OpKind::Dense {
                    input: x.slot,
                    z_x: x.q.zero,
                    lo: lo_for(q_own.zero),
                    hi: 127,
                    rows,
                };
                (kind, Shape::vector(n as u32), q_own)
            }
            FloatOp::Conv {
                weight,
                bias,
                geometry,
            } => {
                let [kh, kw] = geometry.kernel;
                let (co, ci) = (bias.len(), xs.c as usize);
                // ONNX [C_out][C_in][kh][kw] -> Vouch [C_out][kh][kw][C_in].
                let rows_f: Vec<Vec<f32>> = (0..co)
                    .map(|c| {
                        (0..kh)
                            .flat_map(|i| {
                                (0..kw).flat_map(move |j| {
                                    (0..ci).map(move |k| ((c * ci + k) * kh + i) * kw + j)
                                })
                            })
                            .map(|idx| weight[idx])
                            .collect()
                    })
                    .collect();
                let window = window(geometry, &bad)?;
                let rows = b.rows(&names, &rows_f, bias, x.q, q_own)?;
                let kind = OpKind::Conv2d {
                    input: x.slot,
                    z_x: x.q.zero,
                    lo: lo_for(q_own.zero),
                    hi: 127,
                    window,
                    rows,
                };
                (kind, vouch_shape(node.out), q_own)
            }
            FloatOp::Relu => (
                OpKind::Clamp {
                    input: x.slot,
                    lo: x.q.zero,
                    hi: 127,
                },
                xs,
                x.q,
            ),
            FloatOp::MaxPool(g) => (
                OpKind::MaxPool {
                    input: x.slot,
                    window: window(g, &bad)?,
                },
                vouch_shape(node.out),
                x.q,
            ),
            FloatOp::AvgPool(g) => {
                let taps = (g.kernel[0] * g.kernel[1]) as f64;
                let requant =
                    Requant::from_scale(x.q.scale / (q_own.scale * taps)).ok_or_else(|| {
                        bad(format!(
                            "scale {} / ({} · {taps}) is not representable",
                            x.q.scale, q_own.scale
                        ))
                    })?;
                let kind = OpKind::AvgPool {
                    input: x.slot,
                    z_x: x.q.zero,
                    window: window(g, &bad)?,
                    requant,
                    lo: -128,
                    hi: 127,
                };
                (kind, vouch_shape(node.out), q_own)
            }
            FloatOp::Add => {
                let other = placed[node.inputs[1]]
                    .ok_or_else(|| bad("reads a value that has no quantized slot".into()))?;
                if b.slots[usize::from(other.slot)].0 != xs {
                    return Err(bad(format!(
                        "operands live in slots of shapes {xs} and {}",
                        b.slots[usize::from(other.slot)].0
                    )));
                }
                let (ma, mb, shift) =
                    add_multipliers(x.q.scale / q_own.scale, other.q.scale / q_own.scale)
                        .ok_or_else(|| {
                            bad(format!(
                                "scale ratios {} and {} are not representable",
                                x.q.scale / q_own.scale,
                                other.q.scale / q_own.scale
                            ))
                        })?;
                let kind = OpKind::Add {
                    a: Operand {
                        slot: x.slot,
                        zero: x.q.zero,
                        multiplier: ma,
                    },
                    b: Operand {
                        slot: other.slot,
                        zero: other.q.zero,
                        multiplier: mb,
                    },
                    shift,
                    lo: lo_for(q_own.zero),
                    hi: 127,
                };
                (kind, xs, q_own)
            }
            FloatOp::Reshape => {
                let target = vouch_shape(node.out);
                if matches!(node.out, FloatShape::Vector(_)) {
                    // Flatten: the slot stays as it is; dense layers read it in (H, W, C) order and
                    // their weights were permuted to match.
                    placed[i + 1] = Some(x);
                    continue;
                }
                if !(same_order(xs) && same_order(target)) {
                    return Err(bad(format!(
                        "reshape {xs} -> {target} reorders elements between (C, H, W) and (H, W, C)"
                    )));
                }
                (OpKind::Reshape { input: x.slot }, target, x.q)
            }
        };
        let slot = b.push(
            Op {
                out,
                z_out: q.zero,
                kind,
            },
            q.scale,
            names,
            y,
        )?;
        placed[y] = Some(Placed { slot, q });
    }
    let out = placed[graph.output]
        .ok_or_else(|| ImportError::Graph("the output has no quantized slot".into()))?;
    let (out_shape, _) = b.slots[usize::from(out.slot)];
    let want = vouch_shape(graph.output_shape());
    if out_shape != want || usize::from(out.slot) != b.ops.len() {
        if !same_order(out_shape) {
            return Err(ImportError::Graph(format!(
                "the output is a flattened {out_shape} tensor whose (H, W, C) order differs from ONNX's"
            )));
        }
        let name = graph
            .nodes
            .get(graph.output.wrapping_sub(1))
            .map_or("input".into(), |n| n.name.clone());
        b.push(
            Op {
                out: want,
                z_out: out.q.zero,
                kind: OpKind::Reshape { input: out.slot },
            },
            out.q.scale,
            vec![name],
            graph.output,
        )?;
    }

    let input_q = ranges[0];
    let model = Model {
        input: input_shape,
        input_zero: input_q.zero,
        ops: b.ops,
        meta: ModelMeta {
            name: options.name.clone().unwrap_or_else(|| graph.name.clone()),
            input_scale: input_q.scale as f32,
            output_scale: out.q.scale as f32,
            labels: options.labels.clone(),
        },
    };
    model.validate()?;

    // Pass 2: per-layer error of the dequantized int8 activations against the float ones.
    let mut err_sum = vec![0f64; model.ops.len()];
    let mut err_max = vec![0f64; model.ops.len()];
    let mut count = vec![0usize; model.ops.len()];
    for (i, (x, act)) in calibration.iter().zip(&acts).enumerate() {
        let trace = vouch_core::reference::run(&model, &quantize_input(&model, x)?)?;
        for (k, &v) in b.origin.iter().enumerate() {
            let (shape, scale) = b.slots[k + 1];
            let zero = model.ops[k].z_out;
            let float = to_vouch_order(shape, &act[v]);
            for (q, f) in trace.slots()[k + 1].iter().zip(&float) {
                let e = (scale * (f64::from(*q) - f64::from(zero)) - f64::from(*f)).abs();
                err_sum[k] += e;
                err_max[k] = err_max[k].max(e);
            }
            count[k] += float.len();
        }
        progress(calibration.len() + i + 1, total);
    }
    let layers = model
        .ops
        .iter()
        .enumerate()
        .map(|(k, op)| LayerReport {
            onnx_nodes: b.names[k].clone(),
            op_index: k,
            kind: op.kind.name(),
            shape: op.out,
            scale: b.slots[k + 1].1 as f32,
            zero_point: op.z_out,
            mean_abs_error: err_sum[k] / count[k].max(1) as f64,
            max_abs_error: err_max[k],
        })
        .collect();
    let parameter_count = model
        .ops
        .iter()
        .flat_map(|op| op.kind.rows())
        .map(|r| r.weights.len() + 1)
        .sum();
    let report = QuantReport {
        name: model.meta.name.clone(),
        calibration_count: calibration.len(),
        layers,
        reduced_rows: b.reduced,
        model_root: vouch_core::commit::model_root(&model),
        file_size: model.to_bytes().len(),
        parameter_count,
    };
    Ok((model, report))
}

/// Range of value `v` over the calibration activations.
fn range(acts: &[Vec<Vec<f32>>], v: usize, how: Calibration) -> QParams {
    let all = acts.iter().flat_map(|a| a[v].iter().map(|&x| f64::from(x)));
    match how {
        Calibration::MinMax => {
            let (lo, hi) = all.fold((0f64, 0f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
            QParams::from_range(lo, hi)
        }
        Calibration::Percentile(p) => {
            let mut xs: Vec<f64> = all.collect();
            xs.sort_by(f64::total_cmp);
            let at = |q: f64| xs[((q / 100.0) * (xs.len() - 1) as f64).round() as usize];
            let p = p.clamp(50.0, 100.0);
            QParams::from_range(at(100.0 - p), at(p))
        }
    }
}

/// Vouch window of a float geometry (the Vouch fields are one byte each).
fn window(g: &crate::graph::Geometry, bad: &dyn Fn(String) -> ImportError) -> Result<Window> {
    let byte =
        |v: usize| u8::try_from(v).map_err(|_| bad(format!("window parameter {v} above 255")));
    Ok(Window {
        kh: byte(g.kernel[0])?,
        kw: byte(g.kernel[1])?,
        sh: byte(g.stride[0])?,
        sw: byte(g.stride[1])?,
        pt: byte(g.pads[0])?,
        pl: byte(g.pads[1])?,
    })
}

/// `(M_a, M_b, s)` with `M_i / 2^s ≈ r_i`, `s` as large as keeps both `M_i ≤ 2^31 − 1` (and `s ≤ 62`).
pub(crate) fn add_multipliers(ra: f64, rb: f64) -> Option<(i32, i32, u8)> {
    if !(ra.is_finite() && rb.is_finite() && ra > 0.0 && rb > 0.0) {
        return None;
    }
    let max = f64::from(i32::MAX);
    let mut s = 62i32;
    while s >= 1 {
        let (ma, mb) = ((ra * 2f64.powi(s)).round(), (rb * 2f64.powi(s)).round());
        if ma <= max && mb <= max {
            return (ma >= 1.0 && mb >= 1.0).then_some((ma as i32, mb as i32, s as u8));
        }
        s -= 1;
    }
    None
}

struct Builder {
    ops: Vec<Op>,
    /// Shape and scale of every slot, input first.
    slots: Vec<(Shape, f64)>,
    /// The float value each op's output stands for.
    origin: Vec<usize>,
    /// ONNX node names behind each op.
    names: Vec<Vec<String>>,
    reduced: Vec<ReducedRow>,
}

impl Builder {
    fn push(&mut self, op: Op, scale: f64, names: Vec<String>, value: usize) -> Result<u16> {
        let slot = u16::try_from(self.ops.len() + 1)
            .map_err(|_| ImportError::Quantize("more than 65535 ops".into()))?;
        self.slots.push((op.out, scale));
        self.ops.push(op);
        self.origin.push(value);
        self.names.push(names);
        Ok(slot)
    }

    /// Quantizes dense/conv rows: per-row symmetric weights, int32 bias, requantization, and the
    /// overflow bound `K·max|x − z_x|·max|w| + |bias| < 2^31` (a row that breaks it gets fewer levels).
    fn rows(
        &mut self,
        names: &[String],
        rows: &[Vec<f32>],
        bias: &[f32],
        x: QParams,
        y: QParams,
    ) -> Result<Vec<WeightRow>> {
        let op = self.ops.len();
        let max_x = (i64::from(x.zero) + 128).max(127 - i64::from(x.zero));
        rows.iter()
            .zip(bias)
            .enumerate()
            .map(|(r, (w, &b))| {
                let k = w.len() as i64;
                let max_abs = w.iter().fold(0f64, |m, v| m.max(f64::from(v.abs())));
                let b = f64::from(b);
                // Full precision is s_w = max|w| / 127. The bound K·max|x−z|·max|q| + |q_b| < 2^31 also
                // needs s_w ≥ (K·max|x−z|·max|w| + |b|/s_x) / 2^31: a row with a large bias and tiny
                // weights (a dead unit) gets a coarser weight scale.
                let need =
                    (k as f64 * max_x as f64 * max_abs + b.abs() / x.scale) / f64::from(i32::MAX);
                let mut s_w = (max_abs / 127.0).max(need * 1.0001);
                if s_w == 0.0 {
                    s_w = 1.0;
                }
                for _ in 0..64 {
                    let q: Vec<i8> = w
                        .iter()
                        .map(|v| (f64::from(*v) / s_w).round().clamp(-127.0, 127.0) as i8)
                        .collect();
                    let qb = (b / (x.scale * s_w)).round();
                    let max_q = q
                        .iter()
                        .map(|v| i64::from(v.unsigned_abs()))
                        .max()
                        .unwrap_or(0);
                    if qb.abs() < 2f64.powi(31)
                        && k * max_x * max_q + (qb.abs() as i64) < 1i64 << 31
                    {
                        let levels = (max_abs / s_w).round() as i64;
                        if levels < 127 && max_abs > 0.0 {
                            self.reduced.push(ReducedRow {
                                op,
                                row: r,
                                max_weight: levels as u8,
                            });
                        }
                        let requant =
                            Requant::from_scale(x.scale * s_w / y.scale).ok_or_else(|| {
                                ImportError::Quantize(format!(
                                    "{}: row {r} scale {} not representable",
                                    names.join("+"),
                                    x.scale * s_w / y.scale
                                ))
                            })?;
                        return Ok(WeightRow {
                            bias: qb as i32,
                            requant,
                            weights: q,
                        });
                    }
                    s_w *= 1.01;
                }
                Err(ImportError::Quantize(format!(
                    "{}: row {r} cannot meet the overflow bound",
                    names.join("+")
                )))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_include_zero_and_relu_uses_full_range() {
        let q = QParams::from_range(0.0, 2.55);
        assert_eq!(q.zero, -128);
        assert!((q.scale - 0.01).abs() < 1e-12);
        let q = QParams::from_range(0.5, 1.0); // widened to [0, 1]
        assert_eq!(q.zero, -128);
        let q = QParams::from_range(-1.28, 1.27);
        assert_eq!(q.zero, 0);
    }

    #[test]
    fn add_multipliers_keep_max_precision() {
        let (ma, mb, s) = add_multipliers(0.75, 0.25).unwrap();
        assert!(f64::from(ma) >= 2f64.powi(30));
        assert!((f64::from(ma) / 2f64.powi(i32::from(s)) - 0.75).abs() < 1e-9);
        assert!((f64::from(mb) / 2f64.powi(i32::from(s)) - 0.25).abs() < 1e-9);
        assert!(add_multipliers(0.0, 1.0).is_none());
    }
}
