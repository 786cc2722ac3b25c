//! `vouch model`: inspect, run and publish canonical models.

use crate::opts::{DeploymentOpts, KeyOpts, RpcOpts, parse_wei};
use alloy::primitives::U256;
use anyhow::Context;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use vouch_chain::{ChainClient, registry};
use vouch_core::{Model, commit::model_root, reference, tensor};

/// Inspect, run and publish canonical `.vouch` models.
#[derive(Debug, Args)]
pub(crate) struct ModelArgs {
    #[command(subcommand)]
    command: ModelCommand,
}

#[derive(Debug, Subcommand)]
enum ModelCommand {
    /// Print a model's ops, shapes, size and root.
    Inspect {
        /// The `.vouch` file.
        model: PathBuf,
    },
    /// Run a model on one input with the reference interpreter: output, per-step commitments, root.
    Run {
        /// The `.vouch` file.
        model: PathBuf,
        /// Input tensor: a JSON list (flat or nested) of int8 numbers.
        #[arg(long)]
        input: PathBuf,
    },
    /// List a model on chain: register its root, publish every leaf, activate it.
    Publish(PublishArgs),
}

/// Options of `vouch model publish`.
#[derive(Debug, Args)]
struct PublishArgs {
    /// The `.vouch` file.
    model: PathBuf,
    /// Fee per inference, in wei.
    #[arg(long, value_parser = parse_wei)]
    fee_wei: U256,
    /// The owner's share of every fee, in basis points (0–10000).
    #[arg(long, default_value_t = 0)]
    royalty_bps: u16,
    #[command(flatten)]
    rpc: RpcOpts,
    #[command(flatten)]
    key: KeyOpts,
    #[command(flatten)]
    deployment: DeploymentOpts,
}

fn load(path: &Path) -> anyhow::Result<Model> {
    Model::load(path).with_context(|| format!("loading model {}", path.display()))
}

impl ModelArgs {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        match self.command {
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
            ModelCommand::Run { model, input } => {
                let m = load(&model)?;
                let text = std::fs::read_to_string(&input)
                    .with_context(|| format!("reading {}", input.display()))?;
                let x = tensor::parse_json_tensor(&text)
                    .with_context(|| format!("parsing {}", input.display()))?;
                let trace = reference::run(&m, &x)?;
                let c = trace.commitments();
                println!("model root   {}", model_root(&m));
                for (k, s) in c.state_roots.iter().enumerate() {
                    println!("σ_{k:<3}        {s}");
                }
                println!(
                    "trace root   {}\noutput root  {}",
                    c.trace_root, c.output_root
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
            ModelCommand::Publish(args) => {
                let m = load(&args.model)?;
                let client = ChainClient::connect(&args.rpc.config(), args.key.signer()?).await?;
                let id = registry::list_model(
                    &client,
                    &args.deployment.load()?,
                    &m,
                    args.fee_wei,
                    args.royalty_bps,
                )
                .await
                .context("publishing the model")?;
                println!("model {id} active (root {})", model_root(&m));
            }
        }
        Ok(())
    }
}
