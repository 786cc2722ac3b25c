//! The canonical model: ops, their byte encoding, validation and the `.vouch` file (PROTOCOL.md §2–4).

use crate::{
    error::{CoreError, Result},
    quant::Requant,
    shape::Shape,
};
use serde::{Deserialize, Serialize};

/// Op code of [`OpKind::Dense`].
pub const OP_DENSE: u8 = 0x01;
/// Op code of [`OpKind::Conv2d`].
pub const OP_CONV2D: u8 = 0x02;
/// Op code of [`OpKind::Clamp`].
pub const OP_CLAMP: u8 = 0x03;
/// Op code of [`OpKind::MaxPool`].
pub const OP_MAXPOOL: u8 = 0x04;
/// Op code of [`OpKind::AvgPool`].
pub const OP_AVGPOOL: u8 = 0x05;
/// Op code of [`OpKind::Add`].
pub const OP_ADD: u8 = 0x06;
/// Op code of [`OpKind::Reshape`].
pub const OP_RESHAPE: u8 = 0x07;
/// Magic bytes that open a `.vouch` model file.
pub const MODEL_MAGIC: &[u8; 8] = b"VOUCHM02";
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

/// How real numbers map to a tensor's int8 elements: `real = scale · (q − zero_point)`.
///
/// Metadata only: it helps a client quantize inputs and read outputs, and never enters the result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QuantInfo {
    /// Real value of one quantization step.
    pub scale: f32,
    /// The int8 value that stands for real 0.
    pub zero_point: i8,
}

/// Descriptive metadata carried in the model file but not committed to by the model root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// Human-readable name.
    pub name: String,
    /// Scale of the input tensor (its zero point is committed: [`Model::input_zero`]).
    pub input_scale: f32,
    /// Scale of the output tensor.
    pub output_scale: f32,
    /// Optional class labels, one per output element.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

/// Everything one output channel depends on besides the input: bias, requantization, weights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightRow {
    /// Added to the accumulator before requantization.
    pub bias: i32,
    /// Requantization of this channel.
    pub requant: Requant,
    /// Dense: `[K]` in the input's row-major (H, W, C) order. Conv: `[kh][kw][C_in]`.
    pub weights: Vec<i8>,
}

/// Sliding-window geometry of a convolution or pooling op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Kernel height.
    pub kh: u8,
    /// Kernel width.
    pub kw: u8,
    /// Vertical stride.
    pub sh: u8,
    /// Horizontal stride.
    pub sw: u8,
    /// Padding rows above the input (bottom padding follows from the output height).
    pub pt: u8,
    /// Padding columns left of the input (right padding follows from the output width).
    pub pl: u8,
}

/// One input of an [`OpKind::Add`]: a slot, its zero point and its multiplier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operand {
    /// Slot read.
    pub slot: u16,
    /// Its zero point.
    pub zero: i8,
    /// Its multiplier `M_i` (`1 ≤ M_i ≤ 2^31 − 1`).
    pub multiplier: i32,
}

/// What an op computes (PROTOCOL.md §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpKind {
    /// `y[n] = requant_n(bias[n] + Σ_k (x[k] − z_x)·W[n][k])` over the input flattened in (H, W, C) order.
    Dense {
        /// Slot read.
        input: u16,
        /// Input zero point.
        z_x: i8,
        /// Lower clamp.
        lo: i8,
        /// Upper clamp.
        hi: i8,
        /// `N` rows of `K` weights.
        rows: Vec<WeightRow>,
    },
    /// 2-D convolution over an `[H, W, C_in]` input, padding with the input zero point.
    Conv2d {
        /// Slot read.
        input: u16,
        /// Input zero point.
        z_x: i8,
        /// Lower clamp.
        lo: i8,
        /// Upper clamp.
        hi: i8,
        /// Kernel, stride and padding.
        window: Window,
        /// `C_out` rows of `kh·kw·C_in` weights.
        rows: Vec<WeightRow>,
    },
    /// `y = clamp(x, lo, hi)`; ReLU is `lo = z`.
    Clamp {
        /// Slot read.
        input: u16,
        /// Lower bound.
        lo: i8,
        /// Upper bound.
        hi: i8,
    },
    /// Maximum over each window, per channel; padding counts as −128 (never above a real element).
    MaxPool {
        /// Slot read.
        input: u16,
        /// Kernel, stride and padding.
        window: Window,
    },
    /// `requant(Σ_window (x − z_x))` per channel, no padding.
    AvgPool {
        /// Slot read.
        input: u16,
        /// Input zero point.
        z_x: i8,
        /// Kernel and stride (padding must be zero).
        window: Window,
        /// Scales the window sum (typically `s_in / (s_out · kh · kw)`).
        requant: Requant,
        /// Lower clamp.
        lo: i8,
        /// Upper clamp.
        hi: i8,
    },
    /// `y = clamp(z_y + (((a − z_a)·M_a + (b − z_b)·M_b + 2^(s−1)) >> s))`, elementwise.
    Add {
        /// First input.
        a: Operand,
        /// Second input.
        b: Operand,
        /// Shift `s`.
        shift: u8,
        /// Lower clamp.
        lo: i8,
        /// Upper clamp.
        hi: i8,
    },
    /// The same elements in the same row-major order, viewed with another shape.
    Reshape {
        /// Slot read.
        input: u16,
    },
}

/// One step of a model: what it computes and the shape and zero point of the slot it writes.
/// Op `k` reads slots `≤ k` and writes slot `k + 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// Shape of the output tensor.
    pub out: Shape,
    /// Zero point of the output tensor.
    pub z_out: i8,
    /// The computation.
    pub kind: OpKind,
}

impl OpKind {
    /// The op code.
    pub fn code(&self) -> u8 {
        match self {
            OpKind::Dense { .. } => OP_DENSE,
            OpKind::Conv2d { .. } => OP_CONV2D,
            OpKind::Clamp { .. } => OP_CLAMP,
            OpKind::MaxPool { .. } => OP_MAXPOOL,
            OpKind::AvgPool { .. } => OP_AVGPOOL,
            OpKind::Add { .. } => OP_ADD,
            OpKind::Reshape { .. } => OP_RESHAPE,
        }
    }

    /// Short name for logs and reports.
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::Dense { .. } => "dense",
            OpKind::Conv2d { .. } => "conv2d",
            OpKind::Clamp { .. } => "clamp",
            OpKind::MaxPool { .. } => "maxpool",
            OpKind::AvgPool { .. } => "avgpool",
            OpKind::Add { .. } => "add",
            OpKind::Reshape { .. } => "reshape",
        }
    }

    /// The slots this op reads, in order.
    pub fn inputs(&self) -> Vec<usize> {
        match self {
            OpKind::Dense { input, .. }
            | OpKind::Conv2d { input, .. }
            | OpKind::Clamp { input, .. }
            | OpKind::MaxPool { input, .. }
            | OpKind::AvgPool { input, .. }
            | OpKind::Reshape { input } => vec![usize::from(*input)],
            OpKind::Add { a, b, .. } => vec![usize::from(a.slot), usize::from(b.slot)],
        }
    }

    /// Weight rows (dense and conv), empty otherwise.
    pub fn rows(&self) -> &[WeightRow] {
        match self {
            OpKind::Dense { rows, .. } | OpKind::Conv2d { rows, .. } => rows,
            _ => &[],
        }
    }
}

fn put_window(b: &mut Vec<u8>, w: &Window) {
    b.extend([w.kh, w.kw, w.sh, w.sw, w.pt, w.pl]);
}

fn put_operand(b: &mut Vec<u8>, o: &Operand) {
    b.extend_from_slice(&o.slot.to_be_bytes());
    b.push(o.zero as u8);
    b.extend_from_slice(&o.multiplier.to_be_bytes());
}

impl Op {
    /// The leaves of this op's tree: its spec, then its weight rows (PROTOCOL.md §3.1).
    pub fn leaves(&self) -> Vec<Vec<u8>> {
        let mut spec = vec![self.kind.code()];
        spec.extend_from_slice(&self.out.to_bytes());
        spec.push(self.z_out as u8);
        match &self.kind {
            OpKind::Dense {
                input, z_x, lo, hi, ..
            } => {
                spec.extend_from_slice(&input.to_be_bytes());
                spec.extend([*z_x as u8, *lo as u8, *hi as u8]);
            }
            OpKind::Conv2d {
                input,
                z_x,
                lo,
                hi,
                window,
                ..
            } => {
                spec.extend_from_slice(&input.to_be_bytes());
                spec.extend([*z_x as u8, *lo as u8, *hi as u8]);
                put_window(&mut spec, window);
            }
            OpKind::Clamp { input, lo, hi } => {
                spec.extend_from_slice(&input.to_be_bytes());
                spec.extend([*lo as u8, *hi as u8]);
            }
            OpKind::MaxPool { input, window } => {
                spec.extend_from_slice(&input.to_be_bytes());
                put_window(&mut spec, window);
            }
            OpKind::AvgPool {
                input,
                z_x,
                window,
                requant,
                lo,
                hi,
            } => {
                spec.extend_from_slice(&input.to_be_bytes());
                spec.push(*z_x as u8);
                put_window(&mut spec, window);
                spec.extend_from_slice(&requant.multiplier.to_be_bytes());
                spec.extend([requant.shift, *lo as u8, *hi as u8]);
            }
            OpKind::Add {
                a,
                b,
                shift,
                lo,
                hi,
            } => {
                put_operand(&mut spec, a);
                put_operand(&mut spec, b);
                spec.extend([*shift, *lo as u8, *hi as u8]);
            }
            OpKind::Reshape { input } => spec.extend_from_slice(&input.to_be_bytes()),
        }
        let mut out = vec![spec];
        out.extend(self.kind.rows().iter().map(|row| {
            let mut b = Vec::with_capacity(9 + row.weights.len());
            b.extend_from_slice(&row.bias.to_be_bytes());
            b.extend_from_slice(&row.requant.multiplier.to_be_bytes());
            b.push(row.requant.shift);
            b.extend(row.weights.iter().map(|&w| w as u8));
            b
        }));
        out
    }

    /// Decodes an op from its leaves (the inverse of [`Op::leaves`]).
    pub fn from_leaves(leaves: &[Vec<u8>]) -> Result<Self> {
        let (spec, rows) = leaves
            .split_first()
            .ok_or_else(|| CoreError::Decode("op has no spec leaf".into()))?;
        let mut r = Reader::new(spec);
        let code = r.u8()?;
        let out = Shape::new(r.u32()?, r.u32()?, r.u32()?);
        let z_out = r.i8()?;
        let window = |r: &mut Reader<'_>| -> Result<Window> {
            Ok(Window {
                kh: r.u8()?,
                kw: r.u8()?,
                sh: r.u8()?,
                sw: r.u8()?,
                pt: r.u8()?,
                pl: r.u8()?,
            })
        };
        let operand = |r: &mut Reader<'_>| -> Result<Operand> {
            Ok(Operand {
                slot: r.u16()?,
                zero: r.i8()?,
                multiplier: r.i32()?,
            })
        };
        let kind = match code {
            OP_DENSE => {
                let (input, z_x, lo, hi) = (r.u16()?, r.i8()?, r.i8()?, r.i8()?);
                OpKind::Dense {
                    input,
                    z_x,
                    lo,
                    hi,
                    rows: decode_rows(rows)?,
                }
            }
            OP_CONV2D => {
                let (input, z_x, lo, hi) = (r.u16()?, r.i8()?, r.i8()?, r.i8()?);
                let window = window(&mut r)?;
                OpKind::Conv2d {
                    input,
                    z_x,
                    lo,
                    hi,
                    window,
                    rows: decode_rows(rows)?,
                }
            }
            OP_CLAMP => OpKind::Clamp {
                input: r.u16()?,
                lo: r.i8()?,
                hi: r.i8()?,
            },
            OP_MAXPOOL => OpKind::MaxPool {
                input: r.u16()?,
                window: window(&mut r)?,
            },
            OP_AVGPOOL => {
                let (input, z_x) = (r.u16()?, r.i8()?);
                let window = window(&mut r)?;
                let requant = Requant {
                    multiplier: r.i32()?,
                    shift: r.u8()?,
                };
                OpKind::AvgPool {
                    input,
                    z_x,
                    window,
                    requant,
                    lo: r.i8()?,
                    hi: r.i8()?,
                }
            }
            OP_ADD => {
                let (a, b) = (operand(&mut r)?, operand(&mut r)?);
                OpKind::Add {
                    a,
                    b,
                    shift: r.u8()?,
                    lo: r.i8()?,
                    hi: r.i8()?,
                }
            }
            OP_RESHAPE => OpKind::Reshape { input: r.u16()? },
            code => return Err(CoreError::Decode(format!("unknown op code {code:#04x}"))),
        };
        r.finish("op spec")?;
        if kind.rows().len() != rows.len() {
            return Err(CoreError::Decode(format!(
                "a {} op has no weight rows, found {}",
                kind.name(),
                rows.len()
            )));
        }
        Ok(Op { out, z_out, kind })
    }
}

fn decode_rows(leaves: &[Vec<u8>]) -> Result<Vec<WeightRow>> {
    leaves.iter().map(|leaf| decode_row(leaf)).collect()
}

/// Decodes one weight-row leaf `bias i32 ‖ M i32 ‖ s u8 ‖ weights i8…` (PROTOCOL.md §3.1).
pub(crate) fn decode_row(leaf: &[u8]) -> Result<WeightRow> {
    let mut r = Reader::new(leaf);
    let bias = r.i32()?;
    let multiplier = r.i32()?;
    let shift = r.u8()?;
    let weights = r.rest().iter().map(|&b| b as i8).collect();
    Ok(WeightRow {
        bias,
        requant: Requant { multiplier, shift },
        weights,
    })
}

/// A canonical quantized model: the input's shape and zero point, the ops, and metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Shape of the input tensor (slot 0).
    pub input: Shape,
    /// Zero point of the input tensor.
    pub input_zero: i8,
    /// The ops, in execution order.
    pub ops: Vec<Op>,
    /// Metadata, not committed to.
    pub meta: ModelMeta,
}

/// The output extent of a window op along one axis, or `None` if the geometry is impossible.
fn window_out(input: u32, kernel: u8, stride: u8, pad: u8, out: u32) -> bool {
    let (k, s, p) = (u64::from(kernel), u64::from(stride), u64::from(pad));
    // Every window starts inside the padded input and overlaps at least one real element.
    k >= 1 && s >= 1 && p < k && out >= 1 && (u64::from(out) - 1) * s < u64::from(input) + p
}

impl Model {
    /// Number of ops, `n`. The state table has `n + 1` slots.
    pub fn op_count(&self) -> usize {
        self.ops.len()
    }

    /// Shape of the output tensor (slot n).
    pub fn output(&self) -> Shape {
        self.ops.last().map_or(self.input, |op| op.out)
    }

    /// Zero point of the output tensor.
    pub fn output_zero(&self) -> i8 {
        self.ops.last().map_or(self.input_zero, |op| op.z_out)
    }

    /// Shape of slot `i`: the input for slot 0, else the output of op `i − 1`.
    pub fn slot_shape(&self, i: usize) -> Shape {
        if i == 0 {
            self.input
        } else {
            self.ops[i - 1].out
        }
    }

    /// `(shape, zero point)` of every slot, input first.
    pub fn slots(&self) -> Vec<(Shape, i8)> {
        std::iter::once((self.input, self.input_zero))
            .chain(self.ops.iter().map(|op| (op.out, op.z_out)))
            .collect()
    }

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

    /// Serialises to the `.vouch` file format (PROTOCOL.md §4).
    pub fn to_bytes(&self) -> Vec<u8> {
        let meta = serde_json::to_vec(&self.meta).expect("metadata always serialises");
        let mut out = MODEL_MAGIC.to_vec();
        out.extend_from_slice(&(meta.len() as u32).to_be_bytes());
        out.extend_from_slice(&meta);
        out.extend_from_slice(&self.input.to_bytes());
        out.push(self.input_zero as u8);
        out.extend_from_slice(&(self.ops.len() as u32).to_be_bytes());
        for op in &self.ops {
            let leaves = op.leaves();
            out.extend_from_slice(&(leaves.len() as u32).to_be_bytes());
            for leaf in leaves {
                out.extend_from_slice(&(leaf.len() as u32).to_be_bytes());
                out.extend_from_slice(&leaf);
            }
        }
        out
    }

    /// Parses a `.vouch` file and validates the model.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        if r.take(8)? != MODEL_MAGIC {
            return Err(CoreError::Decode(
                "not a Vouch model file (bad magic)".into(),
            ));
        }
        let meta_len = r.u32()? as usize;
        let meta: ModelMeta = serde_json::from_slice(r.take(meta_len)?)
            .map_err(|e| CoreError::Decode(format!("metadata: {e}")))?;
        let input = Shape::new(r.u32()?, r.u32()?, r.u32()?);
        let input_zero = r.i8()?;
        let op_count = r.u32()? as usize;
        if op_count == 0 || op_count > MAX_OPS {
            return Err(CoreError::Decode(format!(
                "op count {op_count} out of range"
            )));
        }
        // Not `with_capacity(op_count)`: the count is the file's word, not yet backed by bytes.
        let mut ops = Vec::new();
        for k in 0..op_count {
            let leaf_count = r.u32()? as usize;
            let leaves = (0..leaf_count)
                .map(|_| {
                    let len = r.u32()? as usize;
                    Ok(r.take(len)?.to_vec())
                })
                .collect::<Result<Vec<_>>>()?;
            ops.push(
                Op::from_leaves(&leaves).map_err(|e| CoreError::Decode(format!("op {k}: {e}")))?,
            );
        }
        r.finish("model file")?;
        let model = Self {
            input,
            input_zero,
            ops,
            meta,
        };
        model.validate()?;
        Ok(model)
    }

    /// Reads and validates a `.vouch` file.
    pub fn load(path: &std::path::Path) -> Result<Self> {
        Self::from_bytes(&std::fs::read(path)?)
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

/// A bounds-checked big-endian cursor over bytes.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| {
                CoreError::Decode(format!(
                    "truncated: need {n} bytes at offset {}, have {}",
                    self.pos,
                    self.bytes.len() - self.pos
                ))
            })?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        Ok(self.take(N)?.try_into().expect("take returned N bytes"))
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn i8(&mut self) -> Result<i8> {
        Ok(self.u8()? as i8)
    }

    pub(crate) fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = &self.bytes[self.pos..];
        self.pos = self.bytes.len();
        s
    }

    pub(crate) fn finish(&self, what: &str) -> Result<()> {
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(CoreError::Decode(format!(
                "{} trailing bytes after {what}",
                self.bytes.len() - self.pos
            )))
        }
    }
}
