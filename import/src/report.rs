//! What quantization did, per layer, and how far each int8 activation is from its float original.

use vouch_core::{B256, Shape};

/// One Vouch op of an imported model.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerReport {
    /// The ONNX node(s) it came from (a fused Relu is listed second).
    pub onnx_nodes: Vec<String>,
    /// Index of the op in the model (it writes slot `op_index + 1`).
    pub op_index: usize,
    /// Op kind (`dense`, `conv2d`, …).
    pub kind: &'static str,
    /// Output shape `[H, W, C]`.
    pub shape: Shape,
    /// Output scale.
    pub scale: f32,
    /// Output zero point.
    pub zero_point: i8,
    /// Mean |dequantized int8 − float| over every element of every calibration input.
    pub mean_abs_error: f64,
    /// Largest |dequantized int8 − float| seen.
    pub max_abs_error: f64,
}

/// A dense/conv row whose weights got fewer than 127 levels to respect the overflow bound (§1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReducedRow {
    /// Op index.
    pub op: usize,
    /// Row (output channel).
    pub row: usize,
    /// Largest |weight| it was quantized to.
    pub max_weight: u8,
}

/// Summary of one quantization run.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantReport {
    /// Model name.
    pub name: String,
    /// Calibration inputs used.
    pub calibration_count: usize,
    /// One entry per Vouch op.
    pub layers: Vec<LayerReport>,
    /// Rows whose weight precision was reduced (empty in the usual case).
    pub reduced_rows: Vec<ReducedRow>,
    /// The model root (PROTOCOL.md §3).
    pub model_root: B256,
    /// Size of the `.vouch` file in bytes.
    pub file_size: usize,
    /// Weights plus biases.
    pub parameter_count: usize,
}

impl QuantReport {
    /// The largest per-layer maximum error.
    pub fn worst_error(&self) -> f64 {
        self.layers
            .iter()
            .map(|l| l.max_abs_error)
            .fold(0.0, f64::max)
    }
}

impl std::fmt::Display for QuantReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "model {} (calibrated on {} inputs)",
            self.name, self.calibration_count
        )?;
        writeln!(
            f,
            "{:>3}  {:<8} {:<16} {:>11} {:>5}  {:>10} {:>10}  onnx",
            "op", "kind", "shape", "scale", "zero", "mean err", "max err"
        )?;
        for l in &self.layers {
            writeln!(
                f,
                "{:>3}  {:<8} {:<16} {:>11.4e} {:>5}  {:>10.3e} {:>10.3e}  {}",
                l.op_index,
                l.kind,
                l.shape.to_string(),
                l.scale,
                l.zero_point,
                l.mean_abs_error,
                l.max_abs_error,
                l.onnx_nodes.join(" + ")
            )?;
        }
        if self.reduced_rows.is_empty() {
            writeln!(f, "overflow bound: every row keeps 127 weight levels")?;
        } else {
            for r in &self.reduced_rows {
                writeln!(
                    f,
                    "overflow bound: op {} row {} reduced to |w| ≤ {}",
                    r.op, r.row, r.max_weight
                )?;
            }
        }
        writeln!(
            f,
            "parameters {}  file {} bytes",
            self.parameter_count, self.file_size
        )?;
        write!(f, "model root {}", self.model_root)
    }
}
