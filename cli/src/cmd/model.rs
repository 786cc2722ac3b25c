//! `vouch model`: inspect, run and publish canonical models.

use crate::opts::{DeploymentOpts, KeyOpts, RpcOpts, parse_wei};
use alloy::primitives::U256;
use anyhow::Context;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use vouch_chain::{ChainClient, registry};
use vouch_core::{
    Model,
    commit::model_root,
    reference,
    tensor::{self, Tensor},
};
use vouch_import::{
    Calibration, Dataset, FloatShape, ImportOptions, dataset::input_values, evaluate,
    layout::onnx_shape, load_onnx, quantize, quantize_input,
};

/// Inspect, run and publish canonical `.vouch` models.
#[derive(Debug, Args)]
pub(crate) struct ModelArgs {
    #[command(subcommand)]
    command: ModelCommand,
}

#[derive(Debug, Subcommand)]
enum ModelCommand {
    /// Print a model's ops, shapes, size and root (or a language model's architecture).
    Inspect {
        /// The `.vouch` file, or a language model imported from GGUF.
        model: PathBuf,
    },
    /// Run a model on one input with the reference interpreter: output, per-step commitments, root.
    /// A language model answers `--prompt` instead, printing the answer as it is generated.
    ///
    /// Example: `vouch model run smollm2.vlm --prompt "What is the capital of France?"`
    Run {
        /// The `.vouch` file, or a language model imported from GGUF.
        model: PathBuf,
        /// Input tensor: a JSON list of int8 numbers (flat, or nested as the model's input shape
        /// `[H][W][C]`), or of real numbers with `--float` (as the ONNX model takes them:
        /// `[C, H, W]` for images, nested that way or flat).
        #[arg(long, required_unless_present = "prompt", conflicts_with = "prompt")]
        input: Option<PathBuf>,
        /// The input holds real numbers: quantize them with the model's input scale and zero point.
        #[arg(long)]
        float: bool,
        /// Language models: the question, wrapped in the model's chat template.
        #[arg(long)]
        prompt: Option<String>,
        /// Language models: the most tokens to generate (it stops earlier at the end-of-answer token).
        #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
        max_tokens: u16,
        /// Language models: feed the prompt as plain text, without the chat template.
        #[arg(long)]
        raw: bool,
    },
    /// Import a float ONNX model: quantize it post-training with calibration data and write the
    /// canonical `.vouch` file, printing the quantization report. A llama GGUF (Q4_0, Q4_1, Q8_0,
    /// F16, F32 tensors) becomes a canonical integer language model (docs/LLM_INT.md), calibrated
    /// on a plain text file.
    ///
    /// Example: `vouch model import "$(scripts/fetch-smollm2.sh)" --calibration
    /// models/llm/calibration.txt --out smollm2.vlm`
    ///
    /// Supported ONNX ops: Gemm, MatMul(+Add), Conv, Relu, MaxPool, AveragePool (no padding), Add,
    /// Flatten, Reshape. Anything else is refused with the node's name. Calibration and evaluation
    /// data: JSON `{"inputs": [...], "labels": [...]}`, each input nested in the model's input shape
    /// (`[C, H, W]` or `[N]`, as the ONNX model takes it) or flat, or `.npy` (float32/64, `[samples,
    /// ...]` the same way; labels from a second `.npy` via `--labels-npy`). An input of another
    /// shape is refused with its index and the shape expected.
    Import(ImportArgs),
    /// Evaluate a model on labelled data: quantized accuracy, and with `--onnx` the float model's
    /// accuracy and the argmax agreement between the two. A language model is compared with the
    /// float model of its GGUF (`--gguf`) on a held-out text (`--text`): teacher-forced top-1
    /// agreement and perplexity, and greedy answers to `--prompts` side by side.
    ///
    /// Example: `vouch model eval smollm2.vlm --gguf "$(scripts/fetch-smollm2.sh)" --text
    /// models/llm/heldout.txt --prompts models/llm/prompts.json`
    Eval {
        /// The `.vouch` file, or a language model imported from GGUF.
        model: PathBuf,
        /// Evaluation data (JSON or `.npy`, float inputs as the ONNX model takes them).
        #[arg(long, required_unless_present = "text")]
        data: Option<PathBuf>,
        /// Language models: the GGUF the model was imported from (the float reference).
        #[arg(long, requires = "text")]
        gguf: Option<PathBuf>,
        /// Language models: held-out text (never the calibration text).
        #[arg(long, requires = "gguf")]
        text: Option<PathBuf>,
        /// Language models: tokens of the text to evaluate.
        #[arg(long, default_value_t = 768)]
        tokens: usize,
        /// Language models: a JSON list of instructions to answer with both models.
        #[arg(long)]
        prompts: Option<PathBuf>,
        /// Language models: answer tokens generated and compared per prompt.
        #[arg(long, default_value_t = 16)]
        compare: usize,
        /// Language models: also the residual stream's error against the float model, block by block.
        #[arg(long)]
        layers: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Labels for `.npy` data.
        #[arg(long)]
        labels_npy: Option<PathBuf>,
        /// The float ONNX model, to compare against.
        #[arg(long)]
        onnx: Option<PathBuf>,
    },
    /// List a model on chain: register its root, publish every leaf, activate it. A language model
    /// (`.vlm`) also publishes its card (tokenizer, chat template); its listing is thousands of
    /// transactions (SmolLM2: ~2,700) and resumes: run the same command again after an interruption
    /// and it continues where the chain says it stopped (an Active listing is reported as is).
    ///
    /// Example: `vouch model publish smollm2.vlm --input-token-wei 1000000000 --output-token-wei
    /// 3000000000 --royalty-bps 1000`
    Publish(PublishArgs),
}

/// Options of `vouch model import`.
#[derive(Debug, Args)]
struct ImportArgs {
    /// The float model: ONNX, or a llama GGUF.
    onnx: PathBuf,
    /// Calibration data (JSON or `.npy`), float inputs as the ONNX model takes them; for a GGUF,
    /// a plain text file (never the evaluation text).
    #[arg(long)]
    calibration: PathBuf,
    /// GGUF: calibration tokens (the text's first ones).
    #[arg(long, default_value_t = 512)]
    calibration_tokens: usize,
    /// GGUF: chat prompts to calibrate on too, a JSON list of strings (never the evaluation
    /// prompts). The float model answers each in the model's chat template, and the activation
    /// scales cover the prompts and the answers: what users send a chat model, which a plain text
    /// does not reach. Default: 24 general instructions built into vouch
    /// (`models/llm/calibration-prompts.json`) when the model has a chat template; `[]` for none.
    #[arg(long)]
    calibration_prompts: Option<PathBuf>,
    /// Where to write the `.vouch` model.
    #[arg(long, short)]
    out: PathBuf,
    /// Model name (default: the ONNX file's stem).
    #[arg(long)]
    name: Option<String>,
    /// Class labels, comma-separated, one per output element.
    #[arg(long, value_delimiter = ',')]
    labels: Vec<String>,
    /// Clip activation ranges at this percentile instead of min/max (e.g. 99.99).
    #[arg(long)]
    percentile: Option<f64>,
    /// Held-out data to report accuracy and agreement on after importing (for a GGUF: a text, never
    /// the calibration text; the report is per block and overall against the float model).
    #[arg(long)]
    eval: Option<PathBuf>,
}

/// The data set at `path` for a model whose (ONNX) input shape is `shape`.
fn dataset(path: &Path, labels: Option<&Path>, shape: FloatShape) -> anyhow::Result<Dataset> {
    Dataset::load(path, labels, &shape.dims())
        .with_context(|| format!("reading data {}", path.display()))
}

/// Options of `vouch model publish`.
#[derive(Debug, Args)]
pub(crate) struct PublishArgs {
    /// The `.vouch` file, or a language model imported from GGUF (`.vlm`).
    pub(crate) model: PathBuf,
    /// Fee per inference, in wei (tensor models).
    #[arg(long, value_parser = parse_wei, required_unless_present_all = ["input_token_wei", "output_token_wei"])]
    pub(crate) fee_wei: Option<U256>,
    /// Language models: wei per prompt token (a job escrows `P·this + max_tokens·--output-token-wei`
    /// and is charged for the tokens its answer used).
    #[arg(long, value_parser = parse_wei, requires = "output_token_wei")]
    pub(crate) input_token_wei: Option<U256>,
    /// Language models: wei per generated token.
    #[arg(long, value_parser = parse_wei, requires = "input_token_wei")]
    pub(crate) output_token_wei: Option<U256>,
    /// The owner's share of every fee, in basis points (0–10000).
    #[arg(long, default_value_t = 0)]
    pub(crate) royalty_bps: u16,
    #[command(flatten)]
    pub(crate) rpc: RpcOpts,
    #[command(flatten)]
    pub(crate) key: KeyOpts,
    #[command(flatten)]
    pub(crate) deployment: DeploymentOpts,
}

impl ImportArgs {
    fn run(self) -> anyhow::Result<()> {
        if super::llm::is_gguf(&self.onnx) {
            anyhow::ensure!(
                self.labels.is_empty() && self.percentile.is_none(),
                "--labels and --percentile are for ONNX models"
            );
            super::llm::import(
                &self.onnx,
                super::llm::CalibrationFiles {
                    text: &self.calibration,
                    tokens: self.calibration_tokens,
                    prompts: self.calibration_prompts.as_deref(),
                },
                &self.out,
            )?;
            if let Some(text) = &self.eval {
                let options = super::llm::EvalOptions {
                    tokens: 768,
                    prompts: None,
                    compare: 16,
                    layers: true,
                    json: false,
                };
                super::llm::eval(&self.out, &self.onnx, text, options)?;
            }
            return Ok(());
        }
        anyhow::ensure!(
            self.calibration_prompts.is_none(),
            "--calibration-prompts is for language models (GGUF)"
        );
        let graph =
            load_onnx(&self.onnx).with_context(|| format!("importing {}", self.onnx.display()))?;
        let calibration = dataset(&self.calibration, None, graph.input)?;
        let options = ImportOptions {
            name: self.name,
            labels: self.labels,
            calibration: self
                .percentile
                .map_or(Calibration::MinMax, Calibration::Percentile),
        };
        let bar = crate::progress::bar("calibrating");
        let (model, report) =
            quantize(&graph, &calibration.inputs, &options, &mut |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })
            .with_context(|| format!("quantizing {}", self.onnx.display()))?;
        bar.finish_and_clear();
        std::fs::write(&self.out, model.to_bytes())
            .with_context(|| format!("writing {}", self.out.display()))?;
        println!("{report}");
        println!("wrote {}", self.out.display());
        if let Some(eval) = self.eval {
            let data = dataset(&eval, None, graph.input)?;
            println!("{}", evaluate(&model, Some(&graph), &data)?);
        }
        Ok(())
    }
}

fn load(path: &Path) -> anyhow::Result<Model> {
    Model::load(path).with_context(|| format!("loading model {}", path.display()))
}

impl ModelArgs {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        match self.command {
            ModelCommand::Inspect { model } if super::llm::is_llm(&model) => {
                super::llm::inspect(&model)?
            }
            ModelCommand::Inspect { model } => {
                let m = load(&model)?;
                println!("name    {}\nroot    {}", m.meta.name, model_root(&m));
                println!(
                    "input   {} zero point {} scale {}",
                    m.input, m.input_zero, m.meta.input_scale
                );
                for (k, op) in m.ops.iter().enumerate() {
                    let reads: Vec<String> = op
                        .kind
                        .inputs()
                        .iter()
                        .map(|s| format!("slot {s}"))
                        .collect();
                    let weights: usize = op.kind.rows().iter().map(|r| r.weights.len()).sum();
                    println!(
                        "op {k:<3} {:<8} reads {:<16} -> {} zero point {}{}",
                        op.kind.name(),
                        reads.join(", "),
                        op.out,
                        op.z_out,
                        if weights > 0 {
                            format!(", {weights} weights")
                        } else {
                            String::new()
                        }
                    );
                }
                println!(
                    "output  {}\nsize    {} bytes",
                    m.output(),
                    m.to_bytes().len()
                );
            }
            ModelCommand::Run {
                model,
                prompt: Some(prompt),
                max_tokens,
                raw,
                ..
            } => super::llm::run(&model, &prompt, usize::from(max_tokens), raw)?,
            ModelCommand::Run {
                model,
                input,
                float,
                ..
            } => {
                let input = input.context("--input is required")?;
                let m = load(&model)?;
                let text = std::fs::read_to_string(&input)
                    .with_context(|| format!("reading {}", input.display()))?;
                let value: serde_json::Value = serde_json::from_str(&text)
                    .with_context(|| format!("{} is not JSON", input.display()))?;
                let x = if float {
                    let values = input_values(&value, &onnx_shape(m.input).dims())
                        .with_context(|| format!("reading {}", input.display()))?;
                    quantize_input(&m, &values)?
                } else {
                    Tensor::from_json(&value, m.input)
                        .with_context(|| format!("parsing {}", input.display()))?
                        .into_data()
                };
                let trace = reference::run(&m, &x)?;
                let c = trace.commitments();
                println!("model root   {}", model_root(&m));
                for (j, s) in c.slot_roots.iter().enumerate() {
                    println!("slot {j:<3}     {s}");
                }
                println!(
                    "final state  {}\noutput root  {}\n(the trace root a worker posts is leaf(0x03, worker ‖ final state))",
                    c.final_state, c.output_root
                );
                println!("output       {:?}", trace.output());
                if let Some(i) = tensor::argmax(trace.output()) {
                    let label = m
                        .meta
                        .labels
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| i.to_string());
                    println!("argmax       {label}");
                }
            }
            ModelCommand::Import(args) => args.run()?,
            ModelCommand::Eval {
                model,
                gguf: Some(gguf),
                text: Some(text),
                tokens,
                prompts,
                compare,
                layers,
                json,
                ..
            } => super::llm::eval(
                &model,
                &gguf,
                &text,
                super::llm::EvalOptions {
                    tokens,
                    prompts: prompts.as_deref(),
                    compare,
                    layers,
                    json,
                },
            )?,
            ModelCommand::Eval {
                model,
                data,
                labels_npy,
                onnx,
                ..
            } => {
                let m = load(&model)?;
                let data = data.context("--data is required")?;
                let data = dataset(&data, labels_npy.as_deref(), onnx_shape(m.input))?;
                let graph = onnx
                    .map(|p| load_onnx(&p).with_context(|| format!("loading {}", p.display())))
                    .transpose()?;
                println!("{}", evaluate(&m, graph.as_ref(), &data)?);
            }
            ModelCommand::Publish(args) if super::llm::is_llm(&args.model) => {
                super::llm::publish(&args.model, &args).await?
            }
            ModelCommand::Publish(args) => {
                let m = load(&args.model)?;
                let fee = args
                    .fee_wei
                    .context("a tensor model is priced per job: pass --fee-wei")?;
                let client = ChainClient::connect(&args.rpc.config(), args.key.signer()?).await?;
                let bar = crate::progress::bar("publishing (transactions)");
                let id = registry::list_model_with_progress(
                    &client,
                    &args.deployment.load()?,
                    &m,
                    fee,
                    args.royalty_bps,
                    &mut |done, total| {
                        bar.set_length(total as u64);
                        bar.set_position(done as u64);
                    },
                )
                .await
                .context("publishing the model")?;
                bar.finish_and_clear();
                println!("model {id} active (root {})", model_root(&m));
            }
        }
        Ok(())
    }
}
