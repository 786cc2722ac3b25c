//! Random valid models and inputs, for differential tests and benchmarks.

use crate::{
    model::{Model, ModelMeta, Op, OpKind, Operand, WeightRow, Window},
    quant::Requant,
    shape::Shape,
};
use rand::Rng;

/// The seed of a randomized test: `VOUCH_SEED` when set (to replay a failure), else a fresh one;
/// printed with the test's name either way, so every run can be replayed.
pub fn test_seed(test: &str) -> u64 {
    let seed = std::env::var("VOUCH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("{test}: VOUCH_SEED={seed}");
    seed
}

fn rows(rng: &mut impl Rng, n: usize, k: usize) -> Vec<WeightRow> {
    (0..n)
        .map(|_| {
            let weights = (0..k).map(|_| rng.random_range(-127..=127)).collect();
            // Aim the requantization at the accumulator's typical spread, with jitter, so outputs
            // spread over the int8 range instead of all clamping.
            let spread = (k as f64).sqrt() * 64.0 * 73.0;
            let scale = rng.random_range(0.5..4.0) * 40.0 / spread;
            WeightRow {
                bias: rng.random_range(-(1 << 14)..(1 << 14)),
                requant: Requant::from_scale(scale).expect("scale in range"),
                weights,
            }
        })
        .collect()
}

/// A random model with dense layers through `dims` (`dims[0]` is the input length); hidden layers
/// get a ReLU, either fused into the clamp or as a separate op. Always valid for `dims` ≤ 4096.
pub fn random_model(rng: &mut impl Rng, dims: &[u32]) -> Model {
    assert!(dims.len() >= 2, "need an input and at least one layer");
    let mut b = Builder::new(rng, Shape::vector(dims[0]));
    for (layer, &n) in dims[1..].iter().enumerate() {
        let hidden = layer + 2 < dims.len();
        b.dense(n, hidden);
    }
    b.finish()
}

/// A random model over every op kind: convolutions, pools, residual adds, reshapes, dense layers,
/// on a random image or vector input. Used to fuzz executors against the reference interpreter.
pub fn random_any_model(rng: &mut impl Rng) -> Model {
    let image = rng.random_bool(0.75);
    let input = if image {
        Shape::new(
            rng.random_range(3..=10),
            rng.random_range(3..=10),
            rng.random_range(1..=5),
        )
    } else {
        Shape::vector(rng.random_range(1..=200))
    };
    let mut b = Builder::new(rng, input);
    if image {
        for _ in 0..b.rng.random_range(1..=4) {
            match b.rng.random_range(0..6) {
                0 | 1 => b.conv(),
                2 => b.maxpool(),
                3 => b.avgpool(),
                4 => b.residual(),
                _ => b.clamp(),
            }
        }
        if b.rng.random_bool(0.5) {
            b.reshape();
        }
    }
    for _ in 0..b.rng.random_range(1..=2) {
        let n = b.rng.random_range(1..=40);
        let relu = b.rng.random_bool(0.6);
        b.dense(n, relu);
    }
    b.finish()
}

struct Builder<'r, R: Rng> {
    rng: &'r mut R,
    input: Shape,
    input_zero: i8,
    ops: Vec<Op>,
    shape: Shape,
    zero: i8,
}

impl<'r, R: Rng> Builder<'r, R> {
    fn new(rng: &'r mut R, input: Shape) -> Self {
        let input_zero = rng.random_range(-128..=127);
        Self {
            rng,
            input,
            input_zero,
            ops: Vec::new(),
            shape: input,
            zero: input_zero,
        }
    }

    fn slot(&self) -> u16 {
        self.ops.len() as u16
    }

    fn push(&mut self, out: Shape, z_out: i8, kind: OpKind) {
        self.ops.push(Op { out, z_out, kind });
        self.shape = out;
        self.zero = z_out;
    }

    fn dense(&mut self, n: u32, relu: bool) {
        let z: i8 = self.rng.random_range(-100..=100);
        let fused = relu && self.rng.random_bool(0.5);
        let rows = rows(self.rng, n as usize, self.shape.len());
        let (input, z_x) = (self.slot(), self.zero);
        self.push(
            Shape::vector(n),
            z,
            OpKind::Dense {
                input,
                z_x,
                lo: if fused { z } else { -128 },
                hi: 127,
                rows,
            },
        );
        if relu && !fused {
            self.clamp_at(z);
        }
    }

    fn clamp_at(&mut self, lo: i8) {
        let input = self.slot();
        self.push(self.shape, self.zero, OpKind::Clamp { input, lo, hi: 127 });
    }

    fn clamp(&mut self) {
        let lo = self.zero;
        self.clamp_at(lo);
    }

    fn window(&mut self, max_k: u8, pad: bool) -> (Window, Shape) {
        let x = self.shape;
        let kh = self.rng.random_range(1..=max_k.min(x.h as u8));
        let kw = self.rng.random_range(1..=max_k.min(x.w as u8));
        let sh = self.rng.random_range(1..=2);
        let sw = self.rng.random_range(1..=2);
        let pt = if pad { self.rng.random_range(0..kh) } else { 0 };
        let pl = if pad { self.rng.random_range(0..kw) } else { 0 };
        // Output extent with symmetric-ish padding: windows start inside the padded input.
        let extent = |len: u32, k: u8, s: u8, p: u8| {
            (len + 2 * u32::from(p) - u32::from(k)) / u32::from(s) + 1
        };
        let mut h = extent(x.h, kh, sh, pt);
        let mut w = extent(x.w, kw, sw, pl);
        if !pad {
            h = (x.h - u32::from(kh)) / u32::from(sh) + 1;
            w = (x.w - u32::from(kw)) / u32::from(sw) + 1;
        }
        // Keep every window overlapping the real input.
        while h > 1 && (h - 1) * u32::from(sh) >= x.h + u32::from(pt) {
            h -= 1;
        }
        while w > 1 && (w - 1) * u32::from(sw) >= x.w + u32::from(pl) {
            w -= 1;
        }
        (
            Window {
                kh,
                kw,
                sh,
                sw,
                pt,
                pl,
            },
            Shape::new(h, w, x.c),
        )
    }

    fn conv(&mut self) {
        let (window, out) = self.window(3, true);
        let cout = self.rng.random_range(1..=6);
        let k = usize::from(window.kh) * usize::from(window.kw) * self.shape.c as usize;
        let rows = rows(self.rng, cout as usize, k);
        let z: i8 = self.rng.random_range(-100..=100);
        let relu = self.rng.random_bool(0.5);
        let (input, z_x) = (self.slot(), self.zero);
        self.push(
            Shape::new(out.h, out.w, cout),
            z,
            OpKind::Conv2d {
                input,
                z_x,
                lo: if relu { z } else { -128 },
                hi: 127,
                window,
                rows,
            },
        );
    }

    fn maxpool(&mut self) {
        let (window, out) = self.window(3, true);
        let input = self.slot();
        self.push(out, self.zero, OpKind::MaxPool { input, window });
    }

    fn avgpool(&mut self) {
        let (window, out) = self.window(3, false);
        let area = f64::from(window.kh) * f64::from(window.kw);
        let requant =
            Requant::from_scale(self.rng.random_range(0.5..1.5) / area).expect("in range");
        let (input, z_x) = (self.slot(), self.zero);
        let z = self.rng.random_range(-50..=50);
        self.push(
            out,
            z,
            OpKind::AvgPool {
                input,
                z_x,
                window,
                requant,
                lo: -128,
                hi: 127,
            },
        );
    }

    /// A same-shape convolution, then an add of its output and its input (a residual block).
    fn residual(&mut self) {
        let skip = (self.slot(), self.shape, self.zero);
        let c = self.shape.c;
        let window = Window {
            kh: 3.min(self.shape.h as u8),
            kw: 3.min(self.shape.w as u8),
            sh: 1,
            sw: 1,
            pt: 0,
            pl: 0,
        };
        let window = Window {
            pt: (window.kh - 1) / 2,
            pl: (window.kw - 1) / 2,
            ..window
        };
        let out = Shape::new(
            self.shape.h - u32::from(window.kh) + 1 + 2 * u32::from(window.pt),
            self.shape.w - u32::from(window.kw) + 1 + 2 * u32::from(window.pl),
            c,
        );
        if out != self.shape {
            return self.clamp();
        }
        let rows = rows(
            self.rng,
            c as usize,
            usize::from(window.kh) * usize::from(window.kw) * c as usize,
        );
        let z: i8 = self.rng.random_range(-100..=100);
        let (input, z_x) = (self.slot(), self.zero);
        self.push(
            out,
            z,
            OpKind::Conv2d {
                input,
                z_x,
                lo: -128,
                hi: 127,
                window,
                rows,
            },
        );
        let a = Operand {
            slot: self.slot(),
            zero: self.zero,
            multiplier: self.rng.random_range(1 << 20..1 << 30),
        };
        let b = Operand {
            slot: skip.0,
            zero: skip.2,
            multiplier: self.rng.random_range(1 << 20..1 << 30),
        };
        let z_out = self.rng.random_range(-100..=100);
        let shift = self.rng.random_range(28..=34);
        self.push(
            skip.1,
            z_out,
            OpKind::Add {
                a,
                b,
                shift,
                lo: -128,
                hi: 127,
            },
        );
    }

    fn reshape(&mut self) {
        let input = self.slot();
        self.push(
            Shape::vector(self.shape.len() as u32),
            self.zero,
            OpKind::Reshape { input },
        );
    }

    fn finish(self) -> Model {
        Model {
            input: self.input,
            input_zero: self.input_zero,
            meta: ModelMeta {
                name: format!("random-{}-ops", self.ops.len()),
                input_scale: 1.0 / 64.0,
                output_scale: 1.0 / 16.0,
                labels: Vec::new(),
            },
            ops: self.ops,
        }
    }
}

/// A random input for `model`.
pub fn random_input(rng: &mut impl Rng, model: &Model) -> Vec<i8> {
    (0..model.input.len())
        .map(|_| rng.random_range(-128..=127))
        .collect()
}
