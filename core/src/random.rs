//! Random valid models and inputs, for differential tests, benchmarks and the demo's fallback model.

use crate::{
    model::{Dense, DenseRow, Model, ModelMeta, Op, QuantInfo, Relu},
    quant::Requant,
};
use rand::Rng;

/// A random model: dense layers through `dims` (`dims[0]` is the input length), each hidden layer
/// followed by a ReLU that is either fused into the clamp or a separate op.
///
/// Every model it returns passes [`Model::validate`] (as long as each `dims` entry is ≤ 4096).
pub fn random_model(rng: &mut impl Rng, dims: &[u32]) -> Model {
    assert!(dims.len() >= 2, "need an input and at least one layer");
    let mut ops = Vec::new();
    let input_zp: i8 = rng.random_range(-128..=127);
    let mut slot = 0u16;
    let mut zp = input_zp;
    for (layer, pair) in dims.windows(2).enumerate() {
        let (k, n) = (pair[0], pair[1]);
        let hidden = layer + 2 < dims.len();
        let z_y: i8 = rng.random_range(-100..=100);
        let fused = hidden && rng.random_bool(0.5);
        let rows = (0..n)
            .map(|_| {
                let weights = (0..k).map(|_| rng.random_range(-127..=127)).collect();
                // Aim the requantization at the accumulator's typical spread, with jitter.
                let spread = (k as f64).sqrt() * 64.0 * 73.0;
                let scale = rng.random_range(0.5..4.0) * 40.0 / spread;
                DenseRow {
                    bias: rng.random_range(-(1 << 16)..(1 << 16)),
                    requant: Requant::from_scale(scale).expect("scale in range"),
                    weights,
                }
            })
            .collect();
        ops.push(Op::Dense(Dense {
            input_slot: slot,
            k,
            n,
            z_x: zp,
            z_y,
            lo: if fused { z_y } else { -128 },
            hi: 127,
            rows,
        }));
        slot = ops.len() as u16;
        zp = z_y;
        if hidden && !fused {
            ops.push(Op::Relu(Relu {
                input_slot: slot,
                len: n,
                zero_point: z_y,
            }));
            slot = ops.len() as u16;
        }
    }
    Model {
        input_len: dims[0],
        ops,
        meta: ModelMeta {
            name: format!(
                "random-{}",
                dims.iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join("-")
            ),
            input: QuantInfo {
                scale: 1.0 / 64.0,
                zero_point: input_zp,
            },
            output: QuantInfo {
                scale: 1.0 / 16.0,
                zero_point: zp,
            },
            labels: Vec::new(),
        },
    }
}

/// A random input for `model`.
pub fn random_input(rng: &mut impl Rng, model: &Model) -> Vec<i8> {
    (0..model.input_len)
        .map(|_| rng.random_range(-128..=127))
        .collect()
}
