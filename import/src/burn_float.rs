//! The float graph on Burn (f32): the baseline the deterministic integer path is benchmarked against.
//!
//! Straightforward Burn ops in ONNX layout (NCHW): `linear`, `conv2d`, `max_pool2d`, `avg_pool2d`,
//! `relu`, elementwise add; weights are uploaded once, at construction.

use crate::graph::{FloatGraph, FloatOp, FloatShape, Geometry};
use burn::tensor::{
    DType, Device, Tensor, TensorData,
    activation::relu,
    module::{avg_pool2d, conv2d, linear, max_pool2d},
    ops::{AvgPoolOptions, ConvOptions, MaxPoolOptions},
};

/// One value of a batch: `[B, N]` or `[B, C, H, W]`.
#[derive(Debug, Clone)]
enum Act {
    Flat(Tensor<2>),
    Image(Tensor<4>),
}

impl Act {
    fn flat(self) -> Tensor<2> {
        match self {
            Act::Flat(t) => t,
            Act::Image(t) => {
                let [b, c, h, w] = t.dims();
                t.reshape([b, c * h * w])
            }
        }
    }

    fn image(self, c: usize, h: usize, w: usize) -> Tensor<4> {
        match self {
            Act::Image(t) => t,
            Act::Flat(t) => {
                let b = t.dims()[0];
                t.reshape([b, c, h, w])
            }
        }
    }
}

/// A node with its parameters on the device.
#[derive(Debug)]
enum Prepared {
    /// `weight: [in, out]`, `bias: [out]`.
    Linear {
        weight: Tensor<2>,
        bias: Tensor<1>,
    },
    /// `weight: [C_out, C_in, kh, kw]`, `bias: [C_out]`.
    Conv {
        weight: Tensor<4>,
        bias: Tensor<1>,
        options: ConvOptions<2>,
    },
    Relu,
    MaxPool(MaxPoolOptions<2>),
    AvgPool(AvgPoolOptions<2>),
    Add,
    Reshape(FloatShape),
}

/// A [`FloatGraph`] ready to run on a Burn device in f32.
#[derive(Debug)]
pub struct BurnFloatModel {
    device: Device,
    input: FloatShape,
    nodes: Vec<(Vec<usize>, Prepared)>,
    output: usize,
}

fn upload<const D: usize>(values: Vec<f32>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, shape), (device, DType::F32))
}

fn pairs(g: &Geometry) -> [(usize, usize); 2] {
    [(g.pads[0], g.pads[2]), (g.pads[1], g.pads[3])]
}

impl BurnFloatModel {
    /// Uploads the graph's weights to `device`.
    pub fn new(graph: &FloatGraph, device: Device) -> Self {
        let nodes = graph
            .nodes
            .iter()
            .map(|node| {
                let xs = graph.value_shape(node.inputs[0]);
                let prepared = match &node.op {
                    FloatOp::Linear { weight, bias } => {
                        let (n, k) = (bias.len(), xs.len());
                        // Burn's linear takes [in, out]; ours is [out, in].
                        let t: Vec<f32> = (0..k)
                            .flat_map(|j| (0..n).map(move |i| weight[i * k + j]))
                            .collect();
                        Prepared::Linear {
                            weight: upload(t, [k, n], &device),
                            bias: upload(bias.clone(), [n], &device),
                        }
                    }
                    FloatOp::Conv {
                        weight,
                        bias,
                        geometry,
                    } => {
                        let co = bias.len();
                        let ci = weight.len() / (co * geometry.kernel[0] * geometry.kernel[1]);
                        let shape = [co, ci, geometry.kernel[0], geometry.kernel[1]];
                        Prepared::Conv {
                            weight: upload(weight.clone(), shape, &device),
                            bias: upload(bias.clone(), [co], &device),
                            options: ConvOptions::new_with_padding(
                                geometry.stride,
                                pairs(geometry),
                                [1, 1],
                                1,
                            ),
                        }
                    }
                    FloatOp::Relu => Prepared::Relu,
                    FloatOp::MaxPool(g) => Prepared::MaxPool(
                        MaxPoolOptions::new(g.kernel)
                            .with_stride(g.stride)
                            .with_padding_pairs(pairs(g)),
                    ),
                    FloatOp::AvgPool(g) => Prepared::AvgPool(
                        AvgPoolOptions::new(g.kernel)
                            .with_stride(g.stride)
                            .with_padding_pairs(pairs(g))
                            .with_count_include_pad(false),
                    ),
                    FloatOp::Add => Prepared::Add,
                    FloatOp::Reshape => Prepared::Reshape(node.out),
                };
                (node.inputs.clone(), prepared)
            })
            .collect();
        Self {
            device,
            input: graph.input,
            nodes,
            output: graph.output,
        }
    }

    /// Runs one input (ONNX layout, flat) and returns the flat output.
    ///
    /// # Panics
    /// If `input` does not have the graph's input length.
    pub fn forward(&self, input: &[f32]) -> Vec<f32> {
        self.forward_batch(&[input.to_vec()]).swap_remove(0)
    }

    /// Runs a batch of inputs at once (`[B, …]` on the device) and returns one flat output per input.
    ///
    /// # Panics
    /// If an input does not have the graph's input length.
    pub fn forward_batch(&self, inputs: &[Vec<f32>]) -> Vec<Vec<f32>> {
        let b = inputs.len();
        if b == 0 {
            return Vec::new();
        }
        let n = self.input.len();
        let flat: Vec<f32> = inputs
            .iter()
            .flat_map(|x| {
                assert_eq!(x.len(), n, "input length");
                x.iter().copied()
            })
            .collect();
        let x = upload(flat, [b, n], &self.device);
        let x = match self.input {
            FloatShape::Vector(_) => Act::Flat(x),
            FloatShape::Image { c, h, w } => Act::Image(x.reshape([b, c, h, w])),
        };
        let mut values: Vec<Act> = vec![x];
        for (inputs, node) in &self.nodes {
            let x = values[inputs[0]].clone();
            let y = match node {
                Prepared::Linear { weight, bias } => {
                    Act::Flat(linear(x.flat(), weight.clone(), Some(bias.clone())))
                }
                Prepared::Conv {
                    weight,
                    bias,
                    options,
                } => {
                    let Act::Image(x) = x else {
                        unreachable!("conv reads an image")
                    };
                    Act::Image(conv2d(
                        x,
                        weight.clone(),
                        Some(bias.clone()),
                        options.clone(),
                    ))
                }
                Prepared::Relu => match x {
                    Act::Flat(t) => Act::Flat(relu(t)),
                    Act::Image(t) => Act::Image(relu(t)),
                },
                Prepared::MaxPool(o) => {
                    let Act::Image(x) = x else {
                        unreachable!("pooling reads an image")
                    };
                    Act::Image(max_pool2d(x, o.clone()))
                }
                Prepared::AvgPool(o) => {
                    let Act::Image(x) = x else {
                        unreachable!("pooling reads an image")
                    };
                    Act::Image(avg_pool2d(x, o.clone()))
                }
                Prepared::Add => match (x, values[inputs[1]].clone()) {
                    (Act::Image(a), Act::Image(b)) => Act::Image(a + b),
                    (a, b) => Act::Flat(a.flat() + b.flat()),
                },
                Prepared::Reshape(FloatShape::Vector(_)) => Act::Flat(x.flat()),
                Prepared::Reshape(FloatShape::Image { c, h, w }) => Act::Image(x.image(*c, *h, *w)),
            };
            values.push(y);
        }
        let out = values.swap_remove(self.output).flat();
        let per = out.dims()[1];
        let data: Vec<f32> = out.into_data().try_to_vec::<f32>().expect("f32 output");
        data.chunks(per.max(1)).map(<[f32]>::to_vec).collect()
    }
}
