//! What serving a model costs, computed from its ops and shapes alone, before anything is allocated.
//!
//! A model that passes `Model::validate` can still be poison: a chain of clamps over a 4 MiB tensor
//! writes a 16 GiB trace, and a cascade of large max-pools makes the Burn loader build tens of GiB of
//! gather indices. [`Footprint::of`] sums, op by op, every buffer the Burn loader and a run allocate
//! (weights, gather indices, every slot on the device, the largest temporary of any op, the read-back
//! trace, its commitment trees and a dispute party over it); [`Budget::check`] refuses a model whose
//! footprint exceeds the operator's limits, so it is never fetched onto the device.
//!
//! A language model's cost depends on the job too ([`Footprint::of_llm`]): its weights from its
//! registered hyper-parameters, its trace from the job's prompt and token budget (the slots of every
//! pass, the value caches excepted), so a worker refuses a model, or one job of it, before fetching
//! the weights or generating a token.
//!
//! The constants below are upper bounds per element of what `vouch_burn` and `vouch_llm` keep (host
//! copies included); they over-estimate rather than under-estimate.

use serde::{Deserialize, Serialize};
use std::time::Duration;
use vouch_chain::registry::ModelKind;
use vouch_core::{Model, model::OpKind};
use vouch_llm::{
    config::LlamaConfig,
    trace::program::{BlockOp, Layout, Op, Program},
};

/// Bytes per weight while loading: the i64 staging vector plus the device tensor (i32 or f32).
const BYTES_PER_WEIGHT: u64 = 12;
/// Bytes per weight row besides its weights: bias, requantization parameters and thresholds.
const BYTES_PER_ROW: u64 = 64;
/// Bytes per gather index: the i64 staging vector plus the device tensor (i64 at most).
const BYTES_PER_TAP: u64 = 16;
/// Bytes per slot element kept for a run: the device tensor (i32) for the whole run, its read-back
/// i32 copy, the trace's i8 slot and its per-input copy, the file image, the commitment trees
/// (a 32-byte leaf and its parents per 32 elements) and a dispute party's copy of all of it.
const BYTES_PER_SLOT_ELEMENT: u64 = 4 + 4 + 1 + 1 + 1 + 3 + 6;
/// Bytes per element of an op's temporaries (gathered taps in i32 and f32, accumulators in i64 and
/// the requantization's intermediates).
const BYTES_PER_TEMP_ELEMENT: u64 = 24;

/// Bytes per language-model weight while it is loaded and checked: the integer model's int16
/// integers with their block scales and offsets (~2.2), the model file's image while it is read
/// (~2.2), and the op leaves hashed into its commitment (~1.1, packed rows).
const BYTES_PER_LM_WEIGHT: u64 = 8;
/// Bytes per byte of a language model's trace held for a dispute: the trace, a dispute party's copy
/// as 32-byte leaves, and the tensor trees of the slots a game walks.
const BYTES_PER_LM_TRACE_BYTE: u64 = 4;
/// Bytes per slot of a language model's trace: its root and its share of the state tree.
const BYTES_PER_LM_SLOT: u64 = 128;
/// Bytes per value-cache element of a generation (a block's row of a key or value head at one
/// position): the forward pass's int16 key and value caches, the recorder's value cache and its tree.
const BYTES_PER_LM_CACHE_ELEMENT: u64 = 16;

/// What one model costs to load and run once, from its shapes and ops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Footprint {
    /// What runs it: a tensor model on Burn, or a language model on `vouch_llm`'s integer path (each
    /// has its own rate in the [`Budget`]).
    pub kind: ModelKind,
    /// Weights (every dense and conv weight).
    pub params: u64,
    /// Multiply-accumulates of one run (dense and conv), plus the taps of the pools.
    pub macs: u64,
    /// Elements of every slot, input included: the bytes of one trace.
    pub trace_bytes: u64,
    /// Gather indices the loader builds for the window ops.
    pub taps: u64,
    /// Peak memory of loading and running it once, with its trace, commitments and a dispute party.
    pub memory_bytes: u64,
    /// Elementary operations of one run (MACs, gathered taps, elementwise work), for the time estimate.
    pub work: u64,
}

impl Default for Footprint {
    /// A tensor model's footprint of nothing.
    fn default() -> Self {
        Self {
            kind: ModelKind::Tensor,
            params: 0,
            macs: 0,
            trace_bytes: 0,
            taps: 0,
            memory_bytes: 0,
            work: 0,
        }
    }
}

impl Footprint {
    /// The footprint of `model` (saturating: a hostile model cannot overflow the estimate).
    pub fn of(model: &Model) -> Self {
        let slots = model.slots();
        let mut f = Footprint::default();
        let mut load = 0u64;
        let mut temp_peak = 0u64;
        let len = |k: usize| slots[k].0.len() as u64;
        for op in &model.ops {
            let out = op.out.len() as u64;
            let (taps, macs, weights, rows, temp) = match &op.kind {
                OpKind::Dense { rows, .. } => {
                    let k = rows.first().map_or(0, |r| r.weights.len()) as u64;
                    let n = rows.len() as u64;
                    (0, k * n, k * n, n, k + n)
                }
                OpKind::Conv2d { rows, .. } => {
                    let k = rows.first().map_or(0, |r| r.weights.len()) as u64;
                    let n = rows.len() as u64;
                    let positions = op.out.rows() as u64;
                    // One gather index per (output position, tap, input channel) = positions · K.
                    let taps = positions.saturating_mul(k);
                    (
                        taps,
                        taps.saturating_mul(n),
                        k * n,
                        n,
                        taps.saturating_add(positions.saturating_mul(n)),
                    )
                }
                OpKind::MaxPool { window, .. } | OpKind::AvgPool { window, .. } => {
                    let w = u64::from(window.kh) * u64::from(window.kw);
                    let taps = out.saturating_mul(w);
                    (taps, taps, 0, 1, taps.saturating_add(out))
                }
                OpKind::Clamp { .. } | OpKind::Add { .. } | OpKind::Reshape { .. } => {
                    (0, 0, 0, 0, out.saturating_mul(2))
                }
            };
            f.params = f.params.saturating_add(weights);
            f.macs = f.macs.saturating_add(macs);
            f.taps = f.taps.saturating_add(taps);
            f.work = f
                .work
                .saturating_add(macs)
                .saturating_add(taps)
                .saturating_add(out);
            load = load
                .saturating_add(weights.saturating_mul(BYTES_PER_WEIGHT))
                .saturating_add(rows.saturating_mul(BYTES_PER_ROW))
                .saturating_add(taps.saturating_mul(BYTES_PER_TAP));
            temp_peak = temp_peak.max(temp.saturating_mul(BYTES_PER_TEMP_ELEMENT));
        }
        f.trace_bytes = (0..slots.len()).map(len).fold(0u64, u64::saturating_add);
        f.memory_bytes = load
            .saturating_add(temp_peak)
            .saturating_add(f.trace_bytes.saturating_mul(BYTES_PER_SLOT_ELEMENT));
        f
    }

    /// The footprint of a language model of `config` answering a job of `prompt` tokens and a budget
    /// of `max_new`, generating every token it may (the trace of `Stop::Length(max_new)`, the
    /// longest a result can claim). `params` are the weights (the head is the tied embedding),
    /// `macs` those of every pass (projections, then scores and values over the positions so far),
    /// `trace_bytes` the slots held for a dispute (`LmTrace::held_bytes`: the value caches are
    /// rebuilt), `work` the MACs plus every trace byte hashed. Saturating, like [`Footprint::of`].
    pub fn of_llm(config: LlamaConfig, prompt: usize, max_new: usize) -> Self {
        let program = Program::new(config);
        let layout = Layout {
            ops: program.ops(),
            prompt,
            max_new,
            generated: max_new,
        };
        let c = config;
        let wide = |v: usize| v as u64;
        let (hidden, q, kv, ffn) = (
            wide(c.hidden),
            wide(c.heads * c.head_dim),
            wide(c.kv_width()),
            wide(c.ffn),
        );
        // q, k, v, o, then gate, up and down.
        let block = hidden * q + 2 * hidden * kv + q * hidden + 3 * hidden * ffn;
        let head = wide(c.vocab) * hidden;
        let blocks = wide(c.blocks);
        let mut f = Footprint {
            kind: ModelKind::Llm,
            params: head.saturating_add(blocks.saturating_mul(block)),
            ..Footprint::default()
        };
        for p in 0..layout.passes() {
            // Scores and P·V: every head against the p + 1 positions so far.
            let attention = 2 * q * wide(p + 1);
            let pass = blocks
                .saturating_mul(block.saturating_add(attention))
                .saturating_add(head);
            f.macs = f.macs.saturating_add(pass);
        }
        let cache = |s: usize| {
            layout
                .locate(s)
                .is_some_and(|(_, o)| matches!(program.op(o), Op::Block(_, BlockOp::Append)))
        };
        f.trace_bytes = (0..=layout.output_slot())
            .filter(|&s| !cache(s))
            .map(|s| wide(program.slot_shape(layout, s).bytes()))
            .fold(0u64, u64::saturating_add);
        f.work = f.macs.saturating_add(f.trace_bytes);
        let caches = blocks
            .saturating_mul(kv)
            .saturating_mul(wide(layout.positions()));
        f.memory_bytes = f
            .params
            .saturating_mul(BYTES_PER_LM_WEIGHT)
            .saturating_add(f.trace_bytes.saturating_mul(BYTES_PER_LM_TRACE_BYTE))
            .saturating_add(wide(layout.output_slot() + 1).saturating_mul(BYTES_PER_LM_SLOT))
            .saturating_add(caches.saturating_mul(BYTES_PER_LM_CACHE_ELEMENT));
        f
    }
}

/// The most one model may cost this agent. A model over any limit is never loaded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    /// Peak memory of loading and running one model once ([`Footprint::memory_bytes`]).
    pub memory_bytes: u64,
    /// Bytes of one trace on disk ([`Footprint::trace_bytes`]).
    pub trace_bytes: u64,
    /// Wall time one inference may take; the estimate must fit, and a run past it is abandoned.
    pub time: Duration,
    /// Elementary operations per second this machine sustains at the least on a tensor model run
    /// on Burn (turns a tensor model's [`Footprint::work`] into a time estimate).
    pub work_per_sec: u64,
    /// The same for a language model's traced generation on `vouch_llm`'s integer path (its
    /// multiply-adds plus the trace bytes it hashes, [`Footprint::of_llm`]): a different engine,
    /// two orders of magnitude faster per operation than Burn's per-op dispatch on small tensors.
    pub llm_work_per_sec: u64,
}

/// The default [`Budget::work_per_sec`]: 20 M operations a second, a floor for tensor models on
/// Burn's CPU backends (the example models run at hundreds of M a second, docs/BENCHMARKS.md).
pub const DEFAULT_WORK_PER_SEC: u64 = 20_000_000;

/// The default [`Budget::llm_work_per_sec`]: 1 G operations a second. Measured, not guessed: the
/// traced generation a worker and a challenger run (`vouch_llm::trace::generate`, every slot hashed,
/// SmolLM2-135M on the 2-core dev box, docs/BENCHMARKS.md "integer + trace") does 12.8–16.3 passes
/// a second, and one SmolLM2 pass is ~136 M operations of [`Footprint::of_llm`]'s work (134.5 M
/// multiply-adds of the projections and the head, 35 k per position of attention, 1.1 MB of trace
/// bytes): 1.7–2.2 G a second. Half of that leaves room for the agent's other loop and another
/// process on the same cores; at the default 60 s it admits a job of ~380 passes (prompt + new
/// tokens, attention growing with the position) of SmolLM2, and refuses jobs (or larger models) past
/// it.
pub const DEFAULT_LLM_WORK_PER_SEC: u64 = 1_000_000_000;

impl Default for Budget {
    /// 4 GiB of memory, 1 GiB of trace, 60 s per inference at ≥ 20 M operations per second on a
    /// tensor model and ≥ 1 G on a language model.
    fn default() -> Self {
        Self {
            memory_bytes: 4 << 30,
            trace_bytes: 1 << 30,
            time: Duration::from_secs(60),
            work_per_sec: DEFAULT_WORK_PER_SEC,
            llm_work_per_sec: DEFAULT_LLM_WORK_PER_SEC,
        }
    }
}

impl Budget {
    /// The rate this machine runs a model of `kind` at ([`Budget::work_per_sec`] or
    /// [`Budget::llm_work_per_sec`]).
    pub fn rate(&self, kind: ModelKind) -> u64 {
        match kind {
            ModelKind::Tensor => self.work_per_sec,
            ModelKind::Llm => self.llm_work_per_sec,
        }
    }

    /// The estimated wall time of one run of a model with footprint `f`, at its kind's rate.
    pub fn estimated_time(&self, f: &Footprint) -> Duration {
        Duration::from_secs_f64(f.work as f64 / self.rate(f.kind).max(1) as f64)
    }

    /// Why a model with footprint `f` does not fit, or `None` when it does.
    pub fn check(&self, f: &Footprint) -> Option<String> {
        if f.memory_bytes > self.memory_bytes {
            return Some(format!(
                "needs about {} MiB of memory to load and run, the budget is {} MiB",
                f.memory_bytes >> 20,
                self.memory_bytes >> 20
            ));
        }
        if f.trace_bytes > self.trace_bytes {
            return Some(format!(
                "writes a {} MiB trace, the budget is {} MiB",
                f.trace_bytes >> 20,
                self.trace_bytes >> 20
            ));
        }
        let t = self.estimated_time(f);
        if t > self.time {
            let rate = match f.kind {
                ModelKind::Tensor => "a tensor model's rate",
                ModelKind::Llm => "a language model's rate",
            };
            return Some(format!(
                "needs about {:.0} s per inference ({} operations at {} a second, {rate}), the budget is {} s",
                t.as_secs_f64(),
                f.work,
                self.rate(f.kind),
                self.time.as_secs()
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};
    use vouch_core::{
        Shape,
        model::{ModelMeta, Op, WeightRow, Window},
        quant::Requant,
        random, reference,
    };

    fn window(k: u8) -> Window {
        Window {
            kh: k,
            kw: k,
            sh: 1,
            sw: 1,
            pt: 0,
            pl: 0,
        }
    }

    fn model(input: Shape, ops: Vec<Op>) -> Model {
        Model {
            input,
            input_zero: 0,
            ops,
            meta: ModelMeta {
                name: "poison".into(),
                input_scale: 1.0,
                output_scale: 1.0,
                labels: Vec::new(),
            },
        }
    }

    /// A 1×1 conv from slot 0 ([64, 64, 1]) to `channels` channels.
    fn widen(channels: u32) -> Op {
        Op {
            out: Shape::new(64, 64, channels),
            z_out: 0,
            kind: OpKind::Conv2d {
                input: 0,
                z_x: 0,
                lo: -128,
                hi: 127,
                window: window(1),
                rows: (0..channels)
                    .map(|_| WeightRow {
                        bias: 0,
                        requant: Requant {
                            multiplier: 1 << 30,
                            shift: 31,
                        },
                        weights: vec![1],
                    })
                    .collect(),
            },
        }
    }

    #[test]
    fn the_trace_estimate_is_the_trace() {
        let seed: u64 = rand::rng().random();
        eprintln!("seed {seed}");
        let mut rng = StdRng::seed_from_u64(seed);
        for _ in 0..20 {
            let m = random::random_any_model(&mut rng);
            let input = random::random_input(&mut rng, &m);
            let trace = reference::run(&m, &input).unwrap();
            let bytes: usize = trace.slots().iter().map(Vec::len).sum();
            let f = Footprint::of(&m);
            assert_eq!(f.trace_bytes, bytes as u64);
            assert!(f.memory_bytes >= f.trace_bytes * BYTES_PER_SLOT_ELEMENT);
            assert_eq!(Budget::default().check(&f), None, "small models fit");
        }
    }

    #[test]
    fn the_issues_poison_models_are_refused_before_loading() {
        // A chain of clamps over a 4 MiB tensor: a 16 GiB trace.
        let mut ops = vec![widen(1024)];
        for k in 0..4_000u16 {
            ops.push(Op {
                out: Shape::new(64, 64, 1024),
                z_out: 0,
                kind: OpKind::Clamp {
                    input: k + 1,
                    lo: -100,
                    hi: 100,
                },
            });
        }
        let clamps = model(Shape::new(64, 64, 1), ops);
        clamps
            .validate()
            .expect("the clamp chain passes validation");
        let clamps = Footprint::of(&clamps);
        assert!(clamps.trace_bytes > 16_000 << 20, "{clamps:?}");
        let why = Budget::default().check(&clamps).unwrap();
        assert!(why.contains("memory"), "{why}");

        // [64, 64, 1] → 1×1 conv to 64 channels → reshape [512, 512, 1] → 48 max-pools 24×24: the
        // gather indices alone take about 54 GiB, the trace only 11 MiB.
        let mut ops = vec![
            widen(64),
            Op {
                out: Shape::new(512, 512, 1),
                z_out: 0,
                kind: OpKind::Reshape { input: 1 },
            },
        ];
        for _ in 0..48 {
            ops.push(Op {
                out: Shape::new(489, 489, 1),
                z_out: 0,
                kind: OpKind::MaxPool {
                    input: 2,
                    window: window(24),
                },
            });
        }
        // Its 24×24 windows now break the 96 KiB step cap, so `validate` refuses it too; the budget
        // must refuse it on its own all the same (an agent measures before it trusts anything).
        let pools = model(Shape::new(64, 64, 1), ops);
        assert!(pools.validate().is_err());
        let pools = Footprint::of(&pools);
        assert_eq!(pools.taps, 48 * 489 * 489 * 576 + 64 * 64);
        assert!(pools.memory_bytes > 54 << 30, "{pools:?}");
        assert!(pools.trace_bytes < 16 << 20);
        let why = Budget::default().check(&pools).unwrap();
        assert!(why.contains("memory"), "{why}");
    }

    #[test]
    fn the_example_models_fit_the_default_budget() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "vouch") {
                let f = Footprint::of(&Model::load(&path).unwrap());
                assert_eq!(
                    Budget::default().check(&f),
                    None,
                    "{}: {f:?}",
                    path.display()
                );
                seen += 1;
            }
        }
        assert!(seen >= 5, "{seen} example models");
    }

    #[test]
    fn a_language_model_estimate_is_its_trace_and_weights() {
        use vouch_llm::{
            random::{self as lm, Dims},
            trace::{Job, Stop, generate},
        };
        let mut rng = StdRng::seed_from_u64(vouch_core::random::test_seed("lm_footprint"));
        let model = lm::model(
            &mut rng,
            Dims::TINY,
            candle_core::quantized::GgmlDType::Q8_0,
        )
        .unwrap();
        let weights: usize = model
            .blocks
            .iter()
            .flat_map(|b| b.denses())
            .chain([&model.embed])
            .map(|d| d.rows * d.cols)
            .sum();
        for (prompt, max_new) in [(1, 1), (3, 5), (6, 2)] {
            let job = Job {
                prompt: lm::ids(&mut rng, prompt),
                max_new,
            };
            // The longest answer the job allows: every token generated.
            let trace = generate(&model, &job, Stop::Length(max_new), |_| ()).unwrap();
            let f = Footprint::of_llm(model.config, prompt, max_new);
            assert_eq!(
                f.trace_bytes,
                trace.held_bytes() as u64,
                "{prompt} + {max_new}"
            );
            assert_eq!(f.params, weights as u64);
            assert!(f.memory_bytes >= model.weight_bytes() as u64 + 2 * f.trace_bytes);
            assert_eq!(Budget::default().check(&f), None, "tiny models fit");
        }
        // Longer jobs cost more, pass by pass.
        let (short, long) = (
            Footprint::of_llm(model.config, 4, 4),
            Footprint::of_llm(model.config, 4, 8),
        );
        assert!(long.macs > short.macs && long.trace_bytes > short.trace_bytes);
        // A budget that takes the short job's trace refuses the long job's.
        let budget = Budget {
            trace_bytes: short.trace_bytes,
            ..Budget::default()
        };
        assert_eq!(budget.check(&short), None);
        assert!(budget.check(&long).unwrap().contains("trace"));
    }

    #[test]
    fn each_limit_of_the_budget_refuses_on_its_own() {
        let f = Footprint {
            memory_bytes: 100,
            trace_bytes: 10,
            work: 1_000,
            ..Footprint::default()
        };
        let fits = Budget {
            memory_bytes: 100,
            trace_bytes: 10,
            time: Duration::from_secs(1),
            work_per_sec: 1_000,
            llm_work_per_sec: 1,
        };
        assert_eq!(fits.check(&f), None, "limits are inclusive");
        let memory = Budget {
            memory_bytes: 99,
            ..fits
        };
        assert!(memory.check(&f).unwrap().contains("memory"));
        let trace = Budget {
            trace_bytes: 9,
            ..fits
        };
        assert!(trace.check(&f).unwrap().contains("trace"));
        let time = Budget {
            work_per_sec: 999,
            ..fits
        };
        assert!(time.check(&f).unwrap().contains("per inference"));
        // The same work by a language model is timed at the language models' rate, and only at it.
        let lm = Footprint {
            kind: ModelKind::Llm,
            ..f
        };
        let why = fits.check(&lm).unwrap();
        assert!(
            why.contains("per inference") && why.contains("a language model's rate"),
            "{why}"
        );
        let lm_rate = Budget {
            work_per_sec: 1,
            llm_work_per_sec: 1_000,
            ..fits
        };
        assert_eq!(lm_rate.check(&lm), None);
        assert!(lm_rate.check(&f).unwrap().contains("a tensor model's rate"));
    }

    /// SmolLM2-135M-Instruct's hyper-parameters (the demo's model), checked against the GGUF's
    /// `llama.*` metadata when `scripts/fetch-smollm2.sh` cached it.
    fn smollm2() -> LlamaConfig {
        let config = LlamaConfig::SMOLLM2;
        let path = vouch_llm::smollm2_path();
        if path.is_file() {
            let gguf = vouch_llm::gguf::Gguf::open(&path).unwrap();
            let real = LlamaConfig::from_gguf(&gguf).unwrap();
            assert_eq!(
                (real.blocks, real.hidden, real.heads, real.kv_heads),
                (config.blocks, config.hidden, config.heads, config.kv_heads)
            );
            assert_eq!(
                (real.head_dim, real.ffn, real.vocab),
                (config.head_dim, config.ffn, config.vocab)
            );
        } else {
            eprintln!("SmolLM2 not cached: its widths are not cross-checked against the GGUF");
        }
        config
    }

    #[test]
    fn the_default_budget_takes_a_smollm2_chat_and_refuses_a_job_built_to_exhaust_it() {
        let budget = Budget::default();
        let config = smollm2();
        // A chat question of 64 prompt tokens and an answer of up to 256 tokens: every token of
        // the budget generated, traced and hashed.
        let chat = Footprint::of_llm(config, 64, 256);
        assert_eq!(budget.check(&chat), None, "{chat:?}");
        let t = budget.estimated_time(&chat).as_secs_f64();
        assert!((20.0..60.0).contains(&t), "{t:.1} s for 320 passes");
        // One pass is ~136 M operations, as DEFAULT_LLM_WORK_PER_SEC's derivation says.
        let (one, two) = (
            Footprint::of_llm(config, 1, 1),
            Footprint::of_llm(config, 1, 2),
        );
        let pass = two.work - one.work;
        assert!((130_000_000..145_000_000).contains(&pass), "{pass}");
        // The same model, a job of 400 new tokens: within the memory and trace limits (3.6 GiB, 630 MiB),
        // past the time (~67 s).
        let long = Footprint::of_llm(config, 64, 400);
        let why = budget.check(&long).expect("a 463-pass job is refused");
        assert!(
            why.contains("per inference") && why.contains("a language model's rate"),
            "{why}"
        );
        // The tensor models' rate alone would refuse even the chat question (what this rate fixes).
        let one_rate = Budget {
            llm_work_per_sec: budget.work_per_sec,
            ..budget
        };
        assert!(one_rate.check(&chat).is_some());
        // A model built to exhaust the time budget, not the memory: wide feed-forwards and many
        // blocks (0.3 G weights), admitted by its least job, but a short question is over a minute.
        let heavy = LlamaConfig {
            blocks: 16,
            hidden: 1024,
            heads: 16,
            kv_heads: 16,
            head_dim: 64,
            ffn: 4096,
            ..config
        };
        assert_eq!(budget.check(&Footprint::of_llm(heavy, 1, 1)), None);
        let question = Footprint::of_llm(heavy, 16, 250);
        let why = budget.check(&question).expect("refused");
        assert!(why.contains("a language model's rate"), "{why}");
    }
}
