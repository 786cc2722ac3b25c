//! The model's types: ops, their parameters, the model and its slots.

use crate::{quant::Requant, shape::Shape};
use serde::{Deserialize, Serialize};

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
}
