//! `cargo run -p vouch-bench --bin llm`: a language model's prefill and decode speed, the canonical
//! integer path (in Rust, and as Burn tensor ops on each CPU backend) against plain float32
//! inference of the same weights, side by side in one process.
//!
//! The Rust paths live in `vouch-llm`, which every profile builds at opt-level 3, so the debug build
//! measures the same code a release build would; the Burn rows depend on the profile Burn's crates
//! are built with (opt-level 1 in debug builds). Numbers and their reading: `docs/BENCHMARKS.md`.

use alloy::primitives::B256;
use anyhow::Context;
use clap::Parser;
use std::{path::PathBuf, time::Instant};
use vouch_burn::{BurnBackend, BurnLm, llm::Matmul};
use vouch_llm::{
    config::LlamaConfig,
    float::FloatModel,
    gguf::Gguf,
    int,
    lm::LanguageModel,
    tokenizer::ChatTokenizer,
    trace::{self, Job, Stop},
};

/// Prefill and decode tokens/s of the integer model (Rust and Burn) against float32, same weights,
/// same machine.
#[derive(Debug, Parser)]
struct Args {
    /// The GGUF (default: where scripts/fetch-smollm2.sh caches SmolLM2-135M-Instruct).
    #[arg(long)]
    gguf: Option<PathBuf>,
    /// The imported integer model (`vouch model import`); imported here when the file is missing.
    #[arg(long)]
    model: PathBuf,
    /// Calibration text for an import.
    #[arg(long, default_value = "models/llm/calibration.txt")]
    calibration: PathBuf,
    /// Prompt text (its first `--prompt-tokens` tokens are the prefill).
    #[arg(long, default_value = "models/llm/heldout.txt")]
    text: PathBuf,
    /// Prefill length.
    #[arg(long, default_value_t = 64)]
    prompt_tokens: usize,
    /// Decode steps timed after the prefill.
    #[arg(long, default_value_t = 32)]
    decode: usize,
    /// Burn backends to time the integer model on (`--burn` alone: none).
    #[arg(long, value_delimiter = ',', num_args = 0.., default_value = "flex,ndarray")]
    burn: Vec<BurnBackend>,
    /// How Burn computes the projections (each timed on each backend).
    #[arg(long, value_delimiter = ',', default_value = "f64,i64")]
    burn_matmul: Vec<Matmul>,
}

/// One model's timings: (prefill tokens/s, decode tokens/s, the decoded ids).
fn measure<M: LanguageModel>(
    model: &M,
    prompt: &[u32],
    steps: usize,
) -> anyhow::Result<(f64, f64, Vec<u32>)> {
    let mut cache = model.new_cache();
    let began = Instant::now();
    let mut next = *model
        .forward(prompt, &mut cache)?
        .argmax
        .last()
        .context("empty prompt")?;
    let prefill = began.elapsed().as_secs_f64();
    let mut ids = vec![next];
    let began = Instant::now();
    for _ in 0..steps {
        next = model.forward(&[next], &mut cache)?.argmax[0];
        ids.push(next);
    }
    let decode = began.elapsed().as_secs_f64();
    Ok((prompt.len() as f64 / prefill, steps as f64 / decode, ids))
}

/// The timings of the verifiable path.
struct Traced {
    prefill: f64,
    decode: f64,
    /// Trace bytes held per pass.
    per_pass: f64,
    sigma: B256,
    /// Seconds σ_n took.
    sigma_s: f64,
    ids: Vec<u32>,
}

/// The verifiable path: the same generation one token per pass, every slot encoded and hashed as it
/// is computed, then σ_n.
fn measure_trace(model: &int::IntModel, prompt: &[u32], steps: usize) -> anyhow::Result<Traced> {
    let job = Job {
        prompt: prompt.to_vec(),
        max_new: steps + 1,
    };
    let began = Instant::now();
    let mut stamps = Vec::new();
    let recorded = trace::generate(model, &job, Stop::Length(steps + 1), |_| {
        stamps.push(began.elapsed().as_secs_f64())
    })?;
    let at = Instant::now();
    let sigma = recorded.final_state();
    let sigma_s = at.elapsed().as_secs_f64();
    let (first, last) = (stamps[0], stamps[stamps.len() - 1]);
    Ok(Traced {
        prefill: prompt.len() as f64 / first,
        decode: steps as f64 / (last - first),
        per_pass: recorded.held_bytes() as f64 / recorded.layout.passes() as f64,
        sigma,
        sigma_s,
        ids: recorded.output,
    })
}

/// Peak resident memory of the process, in MiB (Linux).
fn peak_memory() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    field("VmHWM:")
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let gguf = args.gguf.clone().unwrap_or_else(vouch_llm::smollm2_path);
    let model = vouch_bench::load_or_import(&args.model, &gguf, &args.calibration)?;
    let tokenizer = ChatTokenizer::new(&model.tokenizer)?;
    let read = |p: &PathBuf| {
        std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
    };
    let prompt: Vec<u32> = tokenizer
        .encode(&read(&args.text)?)?
        .into_iter()
        .take(args.prompt_tokens)
        .collect();
    anyhow::ensure!(!prompt.is_empty(), "the prompt text has no tokens");
    let threads = rayon::current_num_threads();

    let int_mem = model.weight_bytes() as f64 / (1 << 20) as f64;
    let (ip, id, int_ids) = measure(&model, &prompt, args.decode)?;
    let traced = measure_trace(&model, &prompt, args.decode)?;
    let (tp, td) = (traced.prefill, traced.decode);
    anyhow::ensure!(
        traced.ids == int_ids,
        "the traced generation differs from the plain one"
    );
    let mut burn_rows = Vec::new();
    for &backend in &args.burn {
        for &matmul in &args.burn_matmul {
            let name = format!("integer on Burn {} {}", backend.name(), matmul.name());
            let burn = BurnLm::new(&model, backend, matmul)?;
            let mem = burn.weight_bytes() as f64 / (1 << 20) as f64;
            let (p, d, ids) = measure(&burn, &prompt, args.decode)?;
            anyhow::ensure!(ids == int_ids, "{name}: other tokens than the reference");
            burn_rows.push((name, p, d, mem));
        }
    }
    drop(model);

    let g = Gguf::open(&gguf).with_context(|| format!("reading {}", gguf.display()))?;
    let float = FloatModel::load(&g, LlamaConfig::from_gguf(&g)?)?;
    let float_mem = float.weight_bytes() as f64 / (1 << 20) as f64;
    let (fp, fd, float_ids) = measure(&float, &prompt, args.decode)?;
    let same = int_ids
        .iter()
        .zip(&float_ids)
        .take_while(|(a, b)| a == b)
        .count();

    println!(
        "SmolLM2-135M-Instruct, {} prompt tokens then {} decode steps, {threads} threads",
        prompt.len(),
        args.decode
    );
    println!("path                         prefill tok/s   decode tok/s   weights in memory");
    println!("integer (canonical)          {ip:>13.1}   {id:>12.2}   {int_mem:>9.0} MiB");
    println!("integer + trace              {tp:>13.1}   {td:>12.2}   {int_mem:>9.0} MiB");
    for (name, p, d, mem) in &burn_rows {
        println!("{name:<28} {p:>13.1}   {d:>12.2}   {mem:>9.0} MiB");
    }
    println!("float32 (same weights)       {fp:>13.1}   {fd:>12.2}   {float_mem:>9.0} MiB");
    println!(
        "integer / float              {:>12.2}×   {:>11.2}×",
        ip / fp,
        id / fd
    );
    println!(
        "integer + trace / float      {:>12.2}×   {:>11.2}×",
        tp / fp,
        td / fd
    );
    println!(
        "trace: one token per pass, every slot hashed as computed; {:.0} KiB held per pass, σ_n {} in {:.3} s",
        traced.per_pass / 1024.0,
        traced.sigma,
        traced.sigma_s
    );
    println!(
        "greedy continuations agree on their first {same} of {} tokens; peak resident memory {:.0} MiB",
        int_ids.len(),
        peak_memory()
    );
    if !burn_rows.is_empty() {
        println!("Burn's greedy tokens equal the integer model's (checked)");
    }
    Ok(())
}
