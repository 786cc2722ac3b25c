//! Probes toward the limits of the model format: one-op models whose single output element reads
//! as much data as the format allows an op to (a dense layer over `MAX_K` inputs, on wide or on
//! one-byte rows; windows of many taps on one-channel rows; a residual add on a deep tensor
//! tree). Each is played as a whole game like the example models, on an anvil whose block gas
//! limit is raised so that a step too large for a 30M block can still be measured.

use rand::{Rng, SeedableRng, rngs::StdRng};
use vouch_core::{
    Model, Shape,
    model::{MAX_K, ModelMeta, Op, OpKind, Operand, WeightRow, Window},
    quant::Requant,
};

/// Block gas limit of the anvil the probes run on: far above any step they make.
pub(crate) const PROBE_GAS_LIMIT: u64 = 2_000_000_000;

/// A one-op model named after what its step reads.
#[derive(Debug)]
pub(crate) struct Probe {
    /// What it probes (shape, window).
    pub(crate) name: String,
    /// The model.
    pub(crate) model: Model,
}

const Z: i8 = -128;

fn model(name: &str, input: Shape, op: Op) -> Probe {
    Probe {
        name: name.into(),
        model: Model {
            input,
            input_zero: Z,
            ops: vec![op],
            meta: ModelMeta {
                name: name.into(),
                input_scale: 1.0 / 255.0,
                output_scale: 1.0,
                labels: Vec::new(),
            },
        },
    }
}

/// One weight row of `k` random weights, requantized to keep outputs off the clamps.
fn row(rng: &mut StdRng, k: usize) -> WeightRow {
    WeightRow {
        bias: rng.random_range(-1000..1000),
        requant: Requant::from_scale(1.0 / ((k as f64).sqrt() * 64.0 * 32.0)).expect("in range"),
        weights: (0..k).map(|_| rng.random_range(-127..=127)).collect(),
    }
}

/// An `s × s` window, stride 1, no padding: on an `[s, s, C]` input, one output pixel that reads
/// every tap.
fn window(s: u8) -> Window {
    Window {
        kh: s,
        kw: s,
        sh: 1,
        sw: 1,
        pt: 0,
        pl: 0,
    }
}

fn dense(rng: &mut StdRng, input: Shape) -> Probe {
    let op = Op {
        out: Shape::vector(1),
        z_out: 0,
        kind: OpKind::Dense {
            input: 0,
            z_x: Z,
            lo: -128,
            hi: 127,
            rows: vec![row(rng, input.len())],
        },
    };
    model(&format!("dense, input {input}"), input, op)
}

fn conv(rng: &mut StdRng, s: u8, c: u32) -> Probe {
    let input = Shape::new(u32::from(s), u32::from(s), c);
    let op = Op {
        out: Shape::vector(1),
        z_out: 0,
        kind: OpKind::Conv2d {
            input: 0,
            z_x: Z,
            lo: -128,
            hi: 127,
            window: window(s),
            rows: vec![row(rng, input.len())],
        },
    };
    model(&format!("conv2d {s}×{s}, input {input}"), input, op)
}

fn maxpool(s: u8) -> Probe {
    let input = Shape::new(u32::from(s), u32::from(s), 1);
    let op = Op {
        out: Shape::vector(1),
        z_out: Z,
        kind: OpKind::MaxPool {
            input: 0,
            window: window(s),
        },
    };
    model(&format!("maxpool {s}×{s}, input {input}"), input, op)
}

fn avgpool(s: u8) -> Probe {
    let input = Shape::new(u32::from(s), u32::from(s), 1);
    let taps = f64::from(s) * f64::from(s);
    let op = Op {
        out: Shape::vector(1),
        z_out: 0,
        kind: OpKind::AvgPool {
            input: 0,
            z_x: Z,
            window: window(s),
            requant: Requant::from_scale(1.0 / taps).expect("in range"),
            lo: -128,
            hi: 127,
        },
    };
    model(&format!("avgpool {s}×{s}, input {input}"), input, op)
}

fn add(input: Shape) -> Probe {
    let operand = Operand {
        slot: 0,
        zero: Z,
        multiplier: 1 << 20,
    };
    let op = Op {
        out: input,
        z_out: 0,
        kind: OpKind::Add {
            a: operand,
            b: operand,
            shift: 21,
            lo: -128,
            hi: 127,
        },
    };
    model(&format!("add, input {input}"), input, op)
}

/// The probes, cheapest first within each op kind.
pub(crate) fn probes() -> Vec<Probe> {
    let mut rng = StdRng::seed_from_u64(0x1117);
    let max_k = MAX_K as u32;
    let mut probes = vec![
        dense(&mut rng, Shape::vector(4096)),
        dense(&mut rng, Shape::vector(max_k)),
        dense(&mut rng, Shape::new(64, 64, 1)),
        dense(&mut rng, Shape::new(128, 128, 1)),
        dense(&mut rng, Shape::new(192, 192, 1)),
        dense(&mut rng, Shape::new(256, 256, 1)),
        // K = 3·3·7281 = 65 529, the widest rows a 3×3 kernel may have.
        conv(&mut rng, 3, max_k / 9),
    ];
    for s in [8, 16, 24, 32, 40, 48] {
        probes.push(conv(&mut rng, s, 1));
    }
    for s in [8, 16, 32, 40, 48] {
        probes.push(maxpool(s));
    }
    for s in [8, 16, 32, 48] {
        probes.push(avgpool(s));
    }
    probes.push(add(Shape::new(512, 512, 1)));
    probes
}
