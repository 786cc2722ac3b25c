//! `vouch verify`: checks a settled job from the chain alone, without a coordinator.

use crate::opts::{DeploymentOpts, RpcOpts};
use alloy::primitives::U256;
use anyhow::Context;
use clap::Args;
use serde::Serialize;
use std::process::ExitCode;
use vouch_burn::{BurnBackend, BurnModel, MatmulMode};
use vouch_chain::{
    JobStatus, connect_reader,
    receipt::{self, Attempt, Lookup, Receipt, TxRef, Verdict, Verification},
    registry,
};
use vouch_core::{Trace, reference, tensor::Tensor};

/// Re-run a settled job from chain data alone and say whether its output is what the model
/// computes.
///
/// Reads the job's logs from the contracts (no coordinator involved), rebuilds its model from the
/// registry's events (checked against the registered root), re-runs the job's input with the
/// reference interpreter (or a Burn backend), and compares the settled output and trace root with
/// the re-run's. Prints the job's receipt: the transaction and block of its post, of every result
/// submitted (overturned ones included), of every game on them, and of its settlement.
///
/// Exit status: 0 when the settled output is what the model computes; 1 when it is not (the first
/// differing element is named) or when its trace root commits to another trace; 2 when there is
/// nothing to check (unknown job, not settled yet) or the check could not be made.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Job id.
    job: u64,
    #[command(flatten)]
    rpc: RpcOpts,
    #[command(flatten)]
    deployment: DeploymentOpts,
    /// Re-run on this Burn backend (`flex`, `ndarray`) instead of the reference interpreter.
    #[arg(long, env = "VOUCH_VERIFY_BURN")]
    burn: Option<BurnBackend>,
    /// Print one JSON object (the check and the receipt) instead of text.
    #[arg(long)]
    json: bool,
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct Report<'a> {
    job_id: u64,
    /// `unknown`, or the job's status.
    status: &'static str,
    /// The verdict and the re-run's commitments, for a settled job.
    #[serde(flatten)]
    verification: Option<&'a Verification>,
    /// The results submitted so far, for a job not settled.
    #[serde(skip_serializing_if = "Option::is_none")]
    attempts: Option<&'a [Attempt]>,
    /// The receipt, for a settled job.
    #[serde(skip_serializing_if = "Option::is_none")]
    receipt: Option<&'a Receipt>,
}

impl VerifyArgs {
    pub(crate) async fn run(self) -> ExitCode {
        match self.check().await {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        }
    }

    async fn check(&self) -> anyhow::Result<ExitCode> {
        let deployment = self.deployment.load()?;
        let provider = connect_reader(&self.rpc.config())
            .await
            .context("connecting to the chain")?;
        let id = self.job;
        let receipt = match receipt::fetch(&provider, &deployment, id)
            .await
            .with_context(|| format!("reading job {id}'s logs"))?
        {
            Lookup::Settled(receipt) => receipt,
            Lookup::Unknown => {
                self.print_json(&Report {
                    job_id: id,
                    status: "unknown",
                    verification: None,
                    attempts: None,
                    receipt: None,
                });
                eprintln!(
                    "job {id} was never posted to the market at {}",
                    deployment.market
                );
                return Ok(ExitCode::from(2));
            }
            Lookup::Unsettled { status, attempts } => {
                self.print_json(&Report {
                    job_id: id,
                    status: status.as_str(),
                    verification: None,
                    attempts: Some(&attempts),
                    receipt: None,
                });
                if !self.json {
                    attempts.iter().for_each(print_attempt);
                }
                eprintln!(
                    "job {id} is {}, not settled: nothing to verify yet",
                    status.as_str()
                );
                return Ok(ExitCode::from(2));
            }
        };

        let model = registry::fetch_model(&provider, &deployment, U256::from(receipt.model_id))
            .await
            .with_context(|| {
                format!(
                    "rebuilding model {} from the registry's events",
                    receipt.model_id
                )
            })?;
        let input = Tensor::new(model.input, receipt.input.clone())
            .ok()
            .filter(|input| input.root() == receipt.input_root)
            .with_context(|| {
                format!(
                    "job {id}'s input does not hash to its input root under model {}'s input shape",
                    receipt.model_id
                )
            })?;
        let (engine, rerun) = self.rerun(&model, input.data())?;
        let verification = receipt.verify(&rerun);
        if self.json {
            self.print_json(&Report {
                job_id: id,
                status: JobStatus::Settled.as_str(),
                verification: Some(&verification),
                attempts: None,
                receipt: Some(&*receipt),
            });
        } else {
            print_receipt(&receipt);
            println!("re-run ({engine}): output {:?}", verification.output);
            println!("  output root {}", verification.output_root);
            println!(
                "  trace root for worker {}: {}",
                receipt.worker, verification.trace_root
            );
            println!("{}", verdict_line(&receipt, &verification.verdict));
        }
        Ok(match verification.verdict {
            Verdict::Matches => ExitCode::SUCCESS,
            Verdict::OutputDiffers { .. } | Verdict::TraceRootDiffers => ExitCode::FAILURE,
        })
    }

    /// Runs `input` through `model` on the chosen engine; returns the engine's name and the trace.
    fn rerun(&self, model: &vouch_core::Model, input: &[i8]) -> anyhow::Result<(String, Trace)> {
        Ok(match self.burn {
            None => (
                "reference interpreter".into(),
                reference::run(model, input).context("running the reference interpreter")?,
            ),
            Some(backend) => (
                format!("Burn, {}", backend.name()),
                BurnModel::new(model, backend, MatmulMode::default())
                    .run(input)
                    .context("running on Burn")?,
            ),
        })
    }

    /// Prints `report` with `--json` (the text output is printed where it is made).
    fn print_json(&self, report: &Report<'_>) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(report).expect("reports serialise")
            );
        }
    }
}

fn tx(t: &TxRef) -> String {
    format!("tx {} (block {})", t.tx_hash, t.block)
}

fn print_attempt(a: &Attempt) {
    print!(
        "  result {} by {} in {}: output root {}, trace root {}",
        a.attempt,
        a.worker,
        tx(&a.submitted),
        a.output_root,
        a.trace_root
    );
    match &a.overturned {
        Some(o) => println!("; overturned in {}", tx(o)),
        None => println!(),
    }
}

fn print_receipt(r: &Receipt) {
    println!("receipt of job {}", r.job_id);
    println!(
        "  model {}, root {} (rebuilt from the registry's events: it matches)",
        r.model_id, r.model_root
    );
    println!(
        "  posted by {} in {}, fee {} wei",
        r.poster,
        tx(&r.posted),
        r.fee_wei
    );
    println!("  input root {}", r.input_root);
    r.attempts.iter().for_each(print_attempt);
    for g in &r.games {
        let resolved = g
            .resolved
            .as_ref()
            .map_or("still open".into(), |t| format!("resolved in {}", tx(t)));
        println!(
            "  game {} on result {} by challenger {}: {} (opened in {}, {resolved})",
            g.game_id,
            g.attempt,
            g.challenger,
            g.outcome.as_str(),
            tx(&g.opened)
        );
    }
    println!(
        "  settled result {} by {} in {}: worker credited {} wei, royalty {} wei",
        r.attempt,
        r.worker,
        tx(&r.settled),
        r.worker_payout_wei,
        r.royalty_wei
    );
    println!("  output {:?} ({})", r.output, r.output_bytes);
    println!(
        "  output root {}, trace root {}",
        r.output_root, r.trace_root
    );
}

fn verdict_line(r: &Receipt, verdict: &Verdict) -> String {
    let (job, model) = (r.job_id, r.model_id);
    match verdict {
        Verdict::Matches => format!(
            "MATCHES: the settled output of job {job} is what model {model} computes, and its trace root is the one worker {} posts for it",
            r.worker
        ),
        Verdict::OutputDiffers {
            first_difference: d,
        } => {
            let show = |v: Option<i8>| v.map_or("absent".into(), |v| v.to_string());
            format!(
                "NOT MATCHING: the settled output of job {job} is not what model {model} computes: element {} is {} on chain, the model computes {}",
                d.index,
                show(d.settled),
                show(d.computed)
            )
        }
        Verdict::TraceRootDiffers => format!(
            "NOT MATCHING: the settled output of job {job} is what model {model} computes, but its trace root commits to another trace"
        ),
    }
}
