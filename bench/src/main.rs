//! `vouch-bench`: the deterministic path (exact int8 on Burn, plus the trace commitment) against a
//! plain Burn f32 forward of the same float ONNX model, per model, at batch 1 and a large batch; and
//! matmul throughput of the exact integer paths next to plain f32. Run it in release:
//!
//! ```sh
//! cargo run --release -p vouch-bench
//! ```
//!
//! Numbers and their reading live in `docs/BENCHMARKS.md`.

use anyhow::Context;
use burn::tensor::{DType, Device, Int, Tensor, TensorData};
use clap::Parser;
use std::{
    hint::black_box,
    path::PathBuf,
    time::{Duration, Instant},
};
use vouch_burn::{BurnBackend, BurnModel, F32_CHUNK, MatmulMode};
use vouch_core::{Model, reference};
use vouch_import::{BurnFloatModel, Dataset, load_onnx, quantize_input};

/// Benchmark the deterministic path against plain Burn f32.
#[derive(Debug, Parser)]
struct Args {
    /// Directory with the `.onnx`, `.vouch` and `data/` files.
    #[arg(long, default_value = "models")]
    models: PathBuf,
    /// Timed repetitions per measurement (the median is reported).
    #[arg(long, default_value_t = 15)]
    iters: usize,
    /// The large batch size.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Matmul size for the throughput comparison (M = N = K).
    #[arg(long, default_value_t = 1024)]
    matmul: usize,
}

const MODELS: &[(&str, &str)] = &[
    ("digits-mlp-64-32-10", "digits"),
    ("digits-mlp-64-256-10", "digits"),
    ("digits-cnn", "digits"),
    ("digits-resmlp", "digits"),
    ("mnist-mlp-784-128-10", "mnist"),
];

/// Median wall time of `f` over `iters` runs, after one warm-up run.
fn time<T>(iters: usize, mut f: impl FnMut() -> T) -> Duration {
    black_box(f());
    let mut samples: Vec<Duration> = (0..iters)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

fn micros(d: Duration, per: usize) -> f64 {
    d.as_secs_f64() * 1e6 / per as f64
}

/// Peak resident memory of this process so far (Linux `VmHWM`), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn bench_model(args: &Args, name: &str, data: &str, device: &Device) -> anyhow::Result<()> {
    let graph = load_onnx(&args.models.join(format!("{name}.onnx")))?;
    let model = Model::load(&args.models.join(format!("{name}.vouch")))
        .with_context(|| format!("loading {name}.vouch"))?;
    let test = Dataset::load(
        &args.models.join(format!("data/{data}-test.json")),
        None,
        &graph.input.dims(),
    )?;
    let floats: Vec<Vec<f32>> = (0..args.batch)
        .map(|i| test.inputs[i % test.inputs.len()].clone())
        .collect();
    let ints = floats
        .iter()
        .map(|x| quantize_input(&model, x))
        .collect::<Result<Vec<_>, _>>()?;
    let int_refs: Vec<&[i8]> = ints.iter().map(Vec::as_slice).collect();

    let float = BurnFloatModel::new(&graph, device.clone());
    let det = BurnModel::new(&model, BurnBackend::Flex, MatmulMode::F32Chunked);
    let det_int = BurnModel::new(&model, BurnBackend::Flex, MatmulMode::Int);
    let it = args.iters;

    // Batch 1.
    let f32_1 = time(it, || float.forward(&floats[0]));
    let det_1 = time(it, || det.run(&ints[0]).expect("runs"));
    let int_1 = time(it, || det_int.run(&ints[0]).expect("runs"));
    let full_1 = time(it, || det.run(&ints[0]).expect("runs").commitments());
    let ref_1 = time(it, || reference::run(&model, &ints[0]).expect("runs"));
    let trace = det.run(&ints[0])?;
    let commit_1 = time(it, || trace.commitments());

    // Large batch.
    let b = args.batch;
    let f32_b = time(it, || float.forward_batch(&floats));
    let det_b = time(it, || det.run_batch(&int_refs).expect("runs"));
    let full_b = time(it, || {
        det.run_batch(&int_refs)
            .expect("runs")
            .iter()
            .map(|t| t.commitments().final_state)
            .collect::<Vec<_>>()
    });

    println!(
        "{name:<22} b=1   f32 {:>8.1} µs | det {:>8.1} µs ({:>5.2}×) | det+commit {:>8.1} µs ({:>5.2}×) | int-matmul {:>8.1} µs | reference {:>8.1} µs | commit alone {:>6.1} µs",
        micros(f32_1, 1),
        micros(det_1, 1),
        det_1.as_secs_f64() / f32_1.as_secs_f64(),
        micros(full_1, 1),
        full_1.as_secs_f64() / f32_1.as_secs_f64(),
        micros(int_1, 1),
        micros(ref_1, 1),
        micros(commit_1, 1),
    );
    println!(
        "{:<22} b={b:<3} f32 {:>8.1} µs | det {:>8.1} µs ({:>5.2}×) | det+commit {:>8.1} µs ({:>5.2}×)   (per inference)",
        "",
        micros(f32_b, b),
        micros(det_b, b),
        det_b.as_secs_f64() / f32_b.as_secs_f64(),
        micros(full_b, b),
        full_b.as_secs_f64() / f32_b.as_secs_f64(),
    );
    Ok(())
}

fn bench_matmul(n: usize, iters: usize, device: &Device) {
    let ops = 2.0 * (n as f64).powi(3);
    let ints: Vec<i32> = (0..n * n)
        .map(|i| ((i * 7919) % 255) as i32 - 127)
        .collect();
    let a_int: Tensor<2, Int> =
        Tensor::from_data(TensorData::new(ints.clone(), [n, n]), (device, DType::I32));
    let floats: Vec<f32> = ints.iter().map(|&v| v as f32).collect();
    let a_f32: Tensor<2> = Tensor::from_data(TensorData::new(floats, [n, n]), (device, DType::F32));
    let gops = |d: Duration| ops / d.as_secs_f64() / 1e9;

    let int = time(iters, || a_int.clone().matmul(a_int.clone()).into_data());
    let f32 = time(iters, || a_f32.clone().matmul(a_f32.clone()).into_data());
    let chunked = time(iters, || {
        (0..n)
            .step_by(F32_CHUNK)
            .map(|s| {
                let len = F32_CHUNK.min(n - s);
                a_f32
                    .clone()
                    .narrow(1, s, len)
                    .matmul(a_f32.clone().narrow(0, s, len))
                    .int()
            })
            .reduce(|x, y| x + y)
            .expect("n ≥ 1")
            .into_data()
    });
    println!(
        "matmul {n}³ (flex): f32 {:.1} GOP/s | exact i32 int matmul {:.1} GOP/s ({:.2}× f32 time) | exact f32 chunked by {F32_CHUNK} {:.1} GOP/s ({:.2}× f32 time)",
        gops(f32),
        gops(int),
        int.as_secs_f64() / f32.as_secs_f64(),
        gops(chunked),
        chunked.as_secs_f64() / f32.as_secs_f64(),
    );
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: debug build; run `cargo run --release -p vouch-bench` for real numbers"
        );
    }
    let device = Device::new(burn::backend::FlexDevice);
    println!(
        "deterministic path = exact int8 on Burn flex (f32 matmul chunked by {F32_CHUNK}), all slots read back; det+commit adds keccak tensor/state/trace roots.\n\
         ratios are against plain Burn f32 on the same float ONNX model ({} timed runs, median).\n",
        args.iters
    );
    for (name, data) in MODELS {
        bench_model(&args, name, data, &device)?;
    }
    println!();
    bench_matmul(args.matmul, args.iters.min(5), &device);
    if let Some(mib) = peak_rss_mib() {
        println!("peak resident memory {mib:.0} MiB");
    }
    Ok(())
}
