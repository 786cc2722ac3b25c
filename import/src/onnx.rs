//! ONNX → [`FloatGraph`]: parses with `onnx-ir`, keeps the original node names for messages and
//! reports, and refuses anything Vouch cannot express, naming the node.

use crate::{
    error::{ImportError, Result},
    graph::{FloatGraph, FloatNode, FloatOp, FloatShape, Geometry},
};
use onnx_ir::{
    ArgType, Argument, Message, ModelProto, Node, OnnxGraphBuilder, TensorDataExt,
    padding::{AutoPad, PaddingConfig2d},
};
use std::{collections::HashMap, path::Path};

/// ONNX operator types the importer understands (Constant only feeds weights and shapes).
const SUPPORTED: &[&str] = &[
    "Gemm",
    "MatMul",
    "Add",
    "Conv",
    "Relu",
    "MaxPool",
    "AveragePool",
    "Flatten",
    "Reshape",
    "Constant",
];

/// Reads an ONNX file into a [`FloatGraph`] named after the file stem.
pub fn load_onnx(path: &Path) -> Result<FloatGraph> {
    let bytes = std::fs::read(path)?;
    let name = path
        .file_stem()
        .map_or_else(|| "model".to_string(), |s| s.to_string_lossy().into_owned());
    parse_onnx(&bytes, &name)
}

/// The original name and op type of an ONNX node.
#[derive(Debug, Clone)]
struct Origin {
    name: String,
    op_type: String,
}

impl Origin {
    fn unsupported(&self, reason: impl Into<String>) -> ImportError {
        ImportError::Unsupported {
            node: self.name.clone(),
            op_type: self.op_type.clone(),
            reason: reason.into(),
        }
    }
}

/// Parses ONNX model bytes into a [`FloatGraph`] called `name`.
pub fn parse_onnx(bytes: &[u8], name: &str) -> Result<FloatGraph> {
    let proto =
        ModelProto::parse_from_bytes(bytes).map_err(|e| ImportError::Onnx(e.to_string()))?;
    // Refuse unknown operators up front, while the original names are at hand.
    let mut origins = Vec::new();
    for (i, node) in proto.graph.node.iter().enumerate() {
        let origin = Origin {
            name: if node.name.is_empty() {
                format!("#{i}")
            } else {
                node.name.clone()
            },
            op_type: node.op_type.clone(),
        };
        let standard = node.domain.is_empty() || node.domain == "ai.onnx";
        if !standard || !SUPPORTED.contains(&node.op_type.as_str()) {
            return Err(origin.unsupported(format!(
                "operator {}{} is not supported (supported: {})",
                if standard {
                    String::new()
                } else {
                    format!("{}::", node.domain)
                },
                node.op_type,
                SUPPORTED.join(", ")
            )));
        }
        if node.op_type != "Constant" {
            origins.push(origin);
        }
    }
    let ir = OnnxGraphBuilder::new()
        .simplify(false)
        .parse_bytes(bytes)
        .map_err(|e| ImportError::Onnx(e.to_string()))?;
    Converter::new(name, &ir, origins)?.convert(&ir)
}

struct Converter {
    graph: FloatGraph,
    values: HashMap<String, usize>,
    origins: Vec<Origin>,
}

fn f32s(origin: &Origin, arg: &Argument, what: &str) -> Result<(Vec<f32>, Vec<usize>)> {
    let data = arg
        .value()
        .ok_or_else(|| origin.unsupported(format!("{what} {:?} is not a constant", arg.name)))?;
    let values = data
        .to_f32_vec()
        .map_err(|e| origin.unsupported(format!("{what}: {e:?}")))?;
    Ok((values, data.shape().to_vec()))
}

fn pads(origin: &Origin, p: &PaddingConfig2d) -> Result<[usize; 4]> {
    match *p {
        PaddingConfig2d::Valid => Ok([0; 4]),
        PaddingConfig2d::Explicit(t, l, b, r) => Ok([t, l, b, r]),
        #[allow(unreachable_patterns)]
        _ => Err(origin.unsupported(format!("padding {p:?}"))),
    }
}

fn no_auto_pad(origin: &Origin, a: &AutoPad) -> Result<()> {
    match a {
        AutoPad::NotSet | AutoPad::Valid => Ok(()),
        other => Err(origin.unsupported(format!("auto_pad {other:?} (write explicit pads)"))),
    }
}

fn ones(origin: &Origin, what: &str, v: [usize; 2]) -> Result<()> {
    if v == [1, 1] {
        Ok(())
    } else {
        Err(origin.unsupported(format!("{what} {v:?} (only 1 is supported)")))
    }
}

impl Converter {
    fn new(name: &str, ir: &onnx_ir::OnnxGraph, origins: Vec<Origin>) -> Result<Self> {
        let [input] = ir.inputs.as_slice() else {
            return Err(ImportError::Graph(format!(
                "{} graph inputs, expected exactly one",
                ir.inputs.len()
            )));
        };
        let dims = match &input.ty {
            ArgType::Tensor(t) => t.static_shape.clone().unwrap_or_default(),
            other => {
                return Err(ImportError::Graph(format!(
                    "input {:?} is {other}, expected a tensor",
                    input.name
                )));
            }
        };
        let batch = dims.first().copied().flatten().unwrap_or(1);
        if batch != 1 {
            return Err(ImportError::Graph(format!(
                "input {:?} has batch {batch}; only batch 1 is supported",
                input.name
            )));
        }
        let rest: Option<Vec<usize>> = dims.iter().skip(1).copied().collect();
        let shape = match rest.as_deref() {
            Some([n]) => FloatShape::Vector(*n),
            Some([c, h, w]) => FloatShape::Image {
                c: *c,
                h: *h,
                w: *w,
            },
            _ => {
                return Err(ImportError::Graph(format!(
                    "input {:?} has shape {dims:?}; expected static [1, N] or [1, C, H, W]",
                    input.name
                )));
            }
        };
        let graph = FloatGraph {
            name: name.to_string(),
            input: shape,
            nodes: Vec::new(),
            output: 0,
        };
        Ok(Self {
            graph,
            values: HashMap::from([(input.name.clone(), 0)]),
            origins,
        })
    }

    /// The original ONNX identity of the `k`-th non-constant `onnx-ir` node, consuming the Add that
    /// `onnx-ir` folds into a MatMul's Linear.
    fn origin(&mut self, k: &mut usize, node: &Node) -> Origin {
        let fallback = Origin {
            name: node.name().to_string(),
            op_type: node.node_type().to_string(),
        };
        let Some(o) = self.origins.get(*k).cloned() else {
            return fallback;
        };
        *k += 1;
        if matches!(node, Node::Linear(_))
            && o.op_type == "MatMul"
            && node.inputs().len() == 3
            && let Some(add) = self.origins.get(*k).filter(|a| a.op_type == "Add").cloned()
        {
            *k += 1;
            return Origin {
                name: format!("{}+{}", o.name, add.name),
                op_type: "MatMul+Add".into(),
            };
        }
        o
    }

    fn activation(&self, origin: &Origin, arg: &Argument) -> Result<usize> {
        self.values.get(&arg.name).copied().ok_or_else(|| {
            origin.unsupported(format!(
                "input {:?} is not an activation computed by the graph (constant operand?)",
                arg.name
            ))
        })
    }

    fn convert(mut self, ir: &onnx_ir::OnnxGraph) -> Result<FloatGraph> {
        let mut k = 0;
        for node in &ir.nodes {
            if matches!(node, Node::Constant(_)) {
                continue;
            }
            let origin = self.origin(&mut k, node);
            let x = self.activation(
                &origin,
                node.inputs()
                    .first()
                    .ok_or_else(|| origin.unsupported("no inputs"))?,
            )?;
            let xs = self.graph.value_shape(x);
            let mut inputs = vec![x];
            let (op, out) = match node {
                Node::Linear(n) => {
                    let (w, dims) = f32s(&origin, &n.inputs[1], "weight")?;
                    let [a, b] = dims[..] else {
                        return Err(origin.unsupported(format!("weight of shape {dims:?}")));
                    };
                    // Gemm with transB = 1 keeps [out, in]; MatMul stores [in, out].
                    let (rows, cols, weight) = if n.config.transpose_weight {
                        (a, b, w)
                    } else {
                        (b, a, transpose(&w, a, b))
                    };
                    self.linear(&origin, n.inputs.get(2), xs, rows, cols, weight, 1.0)?
                }
                Node::Gemm(n) => {
                    let c = &n.config;
                    if c.trans_a != 0 {
                        return Err(origin.unsupported("transA = 1"));
                    }
                    let (w, dims) = f32s(&origin, &n.inputs[1], "B")?;
                    let [a, b] = dims[..] else {
                        return Err(origin.unsupported(format!("B of shape {dims:?}")));
                    };
                    let (rows, cols, weight) = if c.trans_b != 0 {
                        (a, b, w)
                    } else {
                        (b, a, transpose(&w, a, b))
                    };
                    let weight = weight.into_iter().map(|v| v * c.alpha).collect();
                    self.linear(&origin, n.inputs.get(2), xs, rows, cols, weight, c.beta)?
                }
                Node::MatMul(_) => {
                    return Err(
                        origin.unsupported("the weight operand is not a constant 2-D matrix")
                    );
                }
                Node::Conv2d(n) => {
                    let c = &n.config;
                    ones(&origin, "dilations", c.dilation)?;
                    if c.groups != 1 {
                        return Err(
                            origin.unsupported(format!("group {} (only 1 is supported)", c.groups))
                        );
                    }
                    no_auto_pad(&origin, &c.auto_pad)?;
                    let (weight, dims) = f32s(&origin, &n.inputs[1], "weight")?;
                    let [co, ci, kh, kw] = dims[..] else {
                        return Err(origin.unsupported(format!("weight of shape {dims:?}")));
                    };
                    let FloatShape::Image { c: xc, h, w } = xs else {
                        return Err(
                            origin.unsupported(format!("input of shape {xs}, expected [C, H, W]"))
                        );
                    };
                    if xc != ci || [kh, kw] != c.kernel_size {
                        return Err(
                            origin.unsupported(format!("weight {dims:?} does not fit input {xs}"))
                        );
                    }
                    let geometry = Geometry {
                        kernel: [kh, kw],
                        stride: c.stride,
                        pads: pads(&origin, &c.padding)?,
                    };
                    let bias = match n.inputs.get(2).filter(|a| !a.is_optional()) {
                        Some(b) => f32s(&origin, b, "bias")?.0,
                        None => vec![0.0; co],
                    };
                    if bias.len() != co {
                        return Err(origin.unsupported(format!(
                            "{} biases for {co} output channels",
                            bias.len()
                        )));
                    }
                    let (oh, ow) = geometry
                        .output(h, w)
                        .ok_or_else(|| origin.unsupported("kernel larger than the padded input"))?;
                    (
                        FloatOp::Conv {
                            weight,
                            bias,
                            geometry,
                        },
                        FloatShape::Image {
                            c: co,
                            h: oh,
                            w: ow,
                        },
                    )
                }
                Node::MaxPool2d(n) => {
                    let c = &n.config;
                    let g = PoolAttrs {
                        kernel: c.kernel_size,
                        strides: c.strides,
                        padding: &c.padding,
                        dilation: c.dilation,
                        ceil_mode: c.ceil_mode,
                        auto_pad: &c.auto_pad,
                    }
                    .geometry(&origin)?;
                    (FloatOp::MaxPool(g), pooled(&origin, xs, &g)?)
                }
                Node::AveragePool2d(n) => {
                    let c = &n.config;
                    let g = PoolAttrs {
                        kernel: c.kernel_size,
                        strides: c.strides,
                        padding: &c.padding,
                        dilation: c.dilation,
                        ceil_mode: c.ceil_mode,
                        auto_pad: &c.auto_pad,
                    }
                    .geometry(&origin)?;
                    if g.pads != [0; 4] {
                        let what = if c.count_include_pad {
                            "count_include_pad = 1 with padding"
                        } else {
                            "padding"
                        };
                        return Err(origin.unsupported(format!(
                            "{what} (Vouch average-pools windows inside the input)"
                        )));
                    }
                    (FloatOp::AvgPool(g), pooled(&origin, xs, &g)?)
                }
                Node::Relu(_) => (FloatOp::Relu, xs),
                Node::Add(n) => {
                    let b = self.activation(&origin, &n.inputs[1])?;
                    if self.graph.value_shape(b) != xs {
                        return Err(origin.unsupported(format!(
                            "operand shapes {xs} and {} differ (no broadcasting)",
                            self.graph.value_shape(b)
                        )));
                    }
                    inputs.push(b);
                    (FloatOp::Add, xs)
                }
                Node::Flatten(n) => {
                    if n.config.axis != 1 {
                        return Err(origin
                            .unsupported(format!("axis {} (only 1 is supported)", n.config.axis)));
                    }
                    (FloatOp::Reshape, FloatShape::Vector(xs.len()))
                }
                Node::Reshape(n) => {
                    let dims = match &n.config.shape {
                        onnx_ir::reshape::ReshapeInput::Static(d) => d.clone(),
                        onnx_ir::reshape::ReshapeInput::Runtime(_) => {
                            return Err(origin.unsupported("the target shape is not a constant"));
                        }
                    };
                    (FloatOp::Reshape, reshaped(&origin, xs, &dims)?)
                }
                other => {
                    return Err(
                        origin.unsupported(format!("onnx-ir node kind {}", other.node_type()))
                    );
                }
            };
            self.graph.nodes.push(FloatNode {
                name: origin.name,
                op_type: origin.op_type,
                op,
                inputs,
                out,
            });
            let id = self.graph.nodes.len();
            for o in node.outputs() {
                self.values.insert(o.name.clone(), id);
            }
        }
        let [output] = ir.outputs.as_slice() else {
            return Err(ImportError::Graph(format!(
                "{} graph outputs, expected exactly one",
                ir.outputs.len()
            )));
        };
        self.graph.output = *self.values.get(&output.name).ok_or_else(|| {
            ImportError::Graph(format!(
                "output {:?} is not computed by any node",
                output.name
            ))
        })?;
        Ok(self.graph)
    }

    #[allow(clippy::too_many_arguments)]
    fn linear(
        &self,
        origin: &Origin,
        bias: Option<&Argument>,
        xs: FloatShape,
        rows: usize,
        cols: usize,
        weight: Vec<f32>,
        beta: f32,
    ) -> Result<(FloatOp, FloatShape)> {
        if cols != xs.len() {
            return Err(origin.unsupported(format!(
                "weight takes {cols} inputs, the input {xs} has {}",
                xs.len()
            )));
        }
        if matches!(xs, FloatShape::Image { .. }) {
            return Err(origin.unsupported(format!("input of shape {xs}: flatten it first")));
        }
        let bias = match bias.filter(|a| !a.is_optional()) {
            Some(b) => {
                let (v, _) = f32s(origin, b, "bias")?;
                match v.len() {
                    1 => vec![v[0] * beta; rows],
                    n if n == rows => v.into_iter().map(|x| x * beta).collect(),
                    n => return Err(origin.unsupported(format!("{n} biases for {rows} outputs"))),
                }
            }
            None => vec![0.0; rows],
        };
        Ok((FloatOp::Linear { weight, bias }, FloatShape::Vector(rows)))
    }
}

/// `[a][b]` → `[b][a]`.
fn transpose(w: &[f32], a: usize, b: usize) -> Vec<f32> {
    (0..b)
        .flat_map(|j| (0..a).map(move |i| w[i * b + j]))
        .collect()
}

/// The attributes max- and average-pooling share, as onnx-ir parses them.
struct PoolAttrs<'a> {
    kernel: [usize; 2],
    strides: [usize; 2],
    padding: &'a PaddingConfig2d,
    dilation: [usize; 2],
    ceil_mode: bool,
    auto_pad: &'a AutoPad,
}

impl PoolAttrs<'_> {
    /// The window geometry, refusing what Vouch's pools do not support.
    fn geometry(&self, origin: &Origin) -> Result<Geometry> {
        ones(origin, "dilations", self.dilation)?;
        no_auto_pad(origin, self.auto_pad)?;
        if self.ceil_mode {
            return Err(origin.unsupported("ceil_mode = 1"));
        }
        Ok(Geometry {
            kernel: self.kernel,
            stride: self.strides,
            pads: pads(origin, self.padding)?,
        })
    }
}

fn pooled(origin: &Origin, xs: FloatShape, g: &Geometry) -> Result<FloatShape> {
    let FloatShape::Image { c, h, w } = xs else {
        return Err(origin.unsupported(format!("input of shape {xs}, expected [C, H, W]")));
    };
    if g.pads[0] >= g.kernel[0] || g.pads[1] >= g.kernel[1] {
        return Err(origin.unsupported(format!(
            "padding {:?} not below the kernel {:?}",
            g.pads, g.kernel
        )));
    }
    let (oh, ow) = g
        .output(h, w)
        .ok_or_else(|| origin.unsupported("kernel larger than the padded input"))?;
    Ok(FloatShape::Image { c, h: oh, w: ow })
}

/// Resolves an ONNX Reshape target (`0` copies, `-1` infers) to a batch-1 vector or image.
fn reshaped(origin: &Origin, xs: FloatShape, dims: &[i64]) -> Result<FloatShape> {
    let src: Vec<usize> = match xs {
        FloatShape::Vector(n) => vec![1, n],
        FloatShape::Image { c, h, w } => vec![1, c, h, w],
    };
    let mut out: Vec<Option<usize>> = Vec::new();
    for (i, &d) in dims.iter().enumerate() {
        out.push(match d {
            0 => Some(*src.get(i).ok_or_else(|| {
                origin.unsupported("0 in the target shape beyond the input rank")
            })?),
            -1 => None,
            d if d > 0 => Some(d as usize),
            d => return Err(origin.unsupported(format!("target dimension {d}"))),
        });
    }
    let known: usize = out.iter().flatten().product();
    let total = xs.len();
    let resolved: Vec<usize> = out
        .iter()
        .map(|d| d.unwrap_or(total.checked_div(known).unwrap_or(0)))
        .collect();
    if resolved.iter().product::<usize>() != total {
        return Err(origin.unsupported(format!(
            "target shape {dims:?} does not hold {total} elements"
        )));
    }
    match resolved[..] {
        [1, n] => Ok(FloatShape::Vector(n)),
        [1, c, h, w] => Ok(FloatShape::Image { c, h, w }),
        _ => Err(origin.unsupported(format!(
            "target shape {resolved:?}; expected [1, N] or [1, C, H, W]"
        ))),
    }
}
