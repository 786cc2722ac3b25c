//! The normalized float graph: what the importer understood of an ONNX model, in ONNX's own
//! layout (NCHW, batch of one dropped), with a plain-Rust forward pass.

/// Shape of one float tensor without its batch dimension, in ONNX order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatShape {
    /// `[N]` (ONNX `[1, N]`).
    Vector(usize),
    /// `[C, H, W]` (ONNX `[1, C, H, W]`).
    Image {
        /// Channels.
        c: usize,
        /// Height.
        h: usize,
        /// Width.
        w: usize,
    },
}

impl FloatShape {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match *self {
            FloatShape::Vector(n) => n,
            FloatShape::Image { c, h, w } => c * h * w,
        }
    }

    /// Whether it holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The dimensions: `[N]` or `[C, H, W]` (what a data set's nested inputs follow).
    pub fn dims(&self) -> Vec<usize> {
        match *self {
            FloatShape::Vector(n) => vec![n],
            FloatShape::Image { c, h, w } => vec![c, h, w],
        }
    }
}

impl std::fmt::Display for FloatShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FloatShape::Vector(n) => write!(f, "[{n}]"),
            FloatShape::Image { c, h, w } => write!(f, "[{c}, {h}, {w}]"),
        }
    }
}

/// Kernel, stride and padding of a convolution or pooling node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// `[kh, kw]`.
    pub kernel: [usize; 2],
    /// `[sh, sw]`.
    pub stride: [usize; 2],
    /// `[top, left, bottom, right]`.
    pub pads: [usize; 4],
}

impl Geometry {
    /// Output `(height, width)` for an input of `h × w` (ONNX floor mode).
    pub fn output(&self, h: usize, w: usize) -> Option<(usize, usize)> {
        let [kh, kw] = self.kernel;
        let [sh, sw] = self.stride;
        let [pt, pl, pb, pr] = self.pads;
        let (ph, pw) = (h + pt + pb, w + pl + pr);
        if kh == 0 || kw == 0 || sh == 0 || sw == 0 || ph < kh || pw < kw {
            return None;
        }
        Some(((ph - kh) / sh + 1, (pw - kw) / sw + 1))
    }

    /// Input position `(y, x)` of tap `(i, j)` for output pixel `(oy, ox)`, or `None` in the padding.
    fn tap(
        &self,
        h: usize,
        w: usize,
        oy: usize,
        ox: usize,
        i: usize,
        j: usize,
    ) -> Option<(usize, usize)> {
        let y = (oy * self.stride[0] + i).checked_sub(self.pads[0])?;
        let x = (ox * self.stride[1] + j).checked_sub(self.pads[1])?;
        (y < h && x < w).then_some((y, x))
    }
}

/// What one float node computes.
#[derive(Debug, Clone, PartialEq)]
pub enum FloatOp {
    /// `y = W·x + b` over the input flattened in ONNX (C, H, W) order.
    Linear {
        /// `[out][in]`, row-major.
        weight: Vec<f32>,
        /// `[out]`.
        bias: Vec<f32>,
    },
    /// 2-D convolution (zero padding, dilation 1, one group).
    Conv {
        /// `[C_out][C_in][kh][kw]`, row-major (ONNX layout).
        weight: Vec<f32>,
        /// `[C_out]`.
        bias: Vec<f32>,
        /// Kernel, stride, padding.
        geometry: Geometry,
    },
    /// `max(x, 0)`.
    Relu,
    /// Maximum over each window (padding never wins).
    MaxPool(Geometry),
    /// Mean over each window's taps inside the input.
    AvgPool(Geometry),
    /// Elementwise sum of two activations of the same shape.
    Add,
    /// The same elements in the same (ONNX row-major) order under another shape (Flatten, Reshape).
    Reshape,
}

impl FloatOp {
    /// Short name for reports.
    pub fn name(&self) -> &'static str {
        match self {
            FloatOp::Linear { .. } => "linear",
            FloatOp::Conv { .. } => "conv",
            FloatOp::Relu => "relu",
            FloatOp::MaxPool(_) => "maxpool",
            FloatOp::AvgPool(_) => "avgpool",
            FloatOp::Add => "add",
            FloatOp::Reshape => "reshape",
        }
    }
}

/// One node: its ONNX identity, what it computes, the values it reads and the shape it writes.
#[derive(Debug, Clone, PartialEq)]
pub struct FloatNode {
    /// The ONNX node name(s) it came from (`a+b` when two nodes were fused, e.g. MatMul+Add).
    pub name: String,
    /// The ONNX operator type(s).
    pub op_type: String,
    /// The computation.
    pub op: FloatOp,
    /// Values read: `0` is the graph input, `i + 1` the output of node `i`.
    pub inputs: Vec<usize>,
    /// Shape of the value it writes.
    pub out: FloatShape,
}

/// A float model in ONNX layout. Value `0` is the input; node `i` writes value `i + 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct FloatGraph {
    /// Model name (the ONNX file stem).
    pub name: String,
    /// Shape of the input.
    pub input: FloatShape,
    /// Nodes in execution order (each reads only earlier values).
    pub nodes: Vec<FloatNode>,
    /// The value that is the graph's output.
    pub output: usize,
}

impl FloatGraph {
    /// Shape of value `v`.
    pub fn value_shape(&self, v: usize) -> FloatShape {
        if v == 0 {
            self.input
        } else {
            self.nodes[v - 1].out
        }
    }

    /// Shape of the output.
    pub fn output_shape(&self) -> FloatShape {
        self.value_shape(self.output)
    }

    /// Number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| match &n.op {
                FloatOp::Linear { weight, bias } | FloatOp::Conv { weight, bias, .. } => {
                    weight.len() + bias.len()
                }
                _ => 0,
            })
            .sum()
    }

    /// The nodes that read value `v`.
    pub fn consumers(&self, v: usize) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].inputs.contains(&v))
            .collect()
    }

    /// Runs the graph on one input (`[C·H·W]` or `[N]`, ONNX row-major) and returns the output.
    ///
    /// # Panics
    /// If `input` does not have the input's element count.
    pub fn forward(&self, input: &[f32]) -> Vec<f32> {
        self.activations(input).swap_remove(self.output)
    }

    /// Runs the graph on one input and returns every value: the input first, then each node's output.
    ///
    /// # Panics
    /// If `input` does not have the input's element count.
    pub fn activations(&self, input: &[f32]) -> Vec<Vec<f32>> {
        assert_eq!(input.len(), self.input.len(), "input length");
        let mut values: Vec<Vec<f32>> = Vec::with_capacity(self.nodes.len() + 1);
        values.push(input.to_vec());
        for node in &self.nodes {
            let x = &values[node.inputs[0]];
            let xs = self.value_shape(node.inputs[0]);
            let y = match &node.op {
                FloatOp::Linear { weight, bias } => linear(x, weight, bias),
                FloatOp::Conv {
                    weight,
                    bias,
                    geometry,
                } => conv(x, xs, node.out, weight, bias, geometry),
                FloatOp::Relu => x.iter().map(|v| v.max(0.0)).collect(),
                FloatOp::MaxPool(g) => pool(x, xs, node.out, g, true),
                FloatOp::AvgPool(g) => pool(x, xs, node.out, g, false),
                FloatOp::Add => x
                    .iter()
                    .zip(&values[node.inputs[1]])
                    .map(|(a, b)| a + b)
                    .collect(),
                FloatOp::Reshape => x.clone(),
            };
            values.push(y);
        }
        values
    }
}

/// `[in] -> [out]` with `weight: [out][in]`.
fn linear(x: &[f32], weight: &[f32], bias: &[f32]) -> Vec<f32> {
    weight
        .chunks_exact(x.len())
        .zip(bias)
        .map(|(row, b)| {
            (row.iter()
                .zip(x)
                .map(|(w, v)| f64::from(*w) * f64::from(*v))
                .sum::<f64>()
                + f64::from(*b)) as f32
        })
        .collect()
}

fn image(s: FloatShape) -> (usize, usize, usize) {
    match s {
        FloatShape::Image { c, h, w } => (c, h, w),
        FloatShape::Vector(n) => (n, 1, 1),
    }
}

/// `[C_in, H, W] -> [C_out, H_out, W_out]` with `weight: [C_out][C_in][kh][kw]`.
fn conv(
    x: &[f32],
    xs: FloatShape,
    out: FloatShape,
    weight: &[f32],
    bias: &[f32],
    g: &Geometry,
) -> Vec<f32> {
    let (ci, h, w) = image(xs);
    let (co, oh, ow) = image(out);
    let [kh, kw] = g.kernel;
    let mut y = Vec::with_capacity(co * oh * ow);
    for c in 0..co {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = f64::from(bias[c]);
                for i in 0..kh {
                    for j in 0..kw {
                        let Some((iy, ix)) = g.tap(h, w, oy, ox, i, j) else {
                            continue;
                        };
                        for k in 0..ci {
                            acc += f64::from(weight[((c * ci + k) * kh + i) * kw + j])
                                * f64::from(x[(k * h + iy) * w + ix]);
                        }
                    }
                }
                y.push(acc as f32);
            }
        }
    }
    y
}

/// Max or mean pooling, `[C, H, W] -> [C, H_out, W_out]`; the mean divides by the taps inside the input.
fn pool(x: &[f32], xs: FloatShape, out: FloatShape, g: &Geometry, max: bool) -> Vec<f32> {
    let (c, h, w) = image(xs);
    let (_, oh, ow) = image(out);
    let mut y = Vec::with_capacity(c * oh * ow);
    for ch in 0..c {
        for oy in 0..oh {
            for ox in 0..ow {
                let taps = (0..g.kernel[0])
                    .flat_map(|i| (0..g.kernel[1]).map(move |j| (i, j)))
                    .filter_map(|(i, j)| g.tap(h, w, oy, ox, i, j))
                    .map(|(iy, ix)| x[(ch * h + iy) * w + ix]);
                y.push(if max {
                    taps.fold(f32::NEG_INFINITY, f32::max)
                } else {
                    let (sum, n) = taps.fold((0f64, 0usize), |(s, n), v| (s + f64::from(v), n + 1));
                    (sum / n.max(1) as f64) as f32
                });
            }
        }
    }
    y
}
