//! `vouch job`: submit jobs and read results through a coordinator's HTTP API.

use anyhow::Context;
use clap::{ArgGroup, Args, Subcommand};
use std::{path::PathBuf, time::Duration};
use vouch_client::{ApiClient, JobRecord, JobRequest, JobStatus};

/// Submit jobs and read their results through a coordinator.
///
/// A tensor model takes an `--input` file of int8 numbers; a language model takes a `--prompt`
/// as text, which the coordinator tokenizes with the model's own tokenizer and chat template (from
/// its card on chain), and answers with text:
///
///   vouch job submit --model 2 --prompt "What is 2+2?" --max-tokens 32 --wait
#[derive(Debug, Args)]
pub(crate) struct JobArgs {
    /// Base URL of the coordinator's HTTP API.
    #[arg(
        long,
        env = "VOUCH_COORDINATOR",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    coordinator: String,
    /// API key for posting jobs (`vouch coordinator key create` prints one; `vouch dev` prints its own).
    #[arg(long, env = "VOUCH_API_KEY", global = true, hide_env_values = true)]
    api_key: Option<String>,
    #[command(subcommand)]
    command: JobCommand,
}

#[derive(Debug, Subcommand)]
enum JobCommand {
    /// Post a job: the coordinator sends the transaction and pays the job's fee.
    ///
    /// `--input x.json` for a tensor model; `--prompt "What is 2+2?" [--max-tokens 64]` for a
    /// language model, tokenized by the coordinator with the model's own tokenizer.
    ///
    /// With `--wait`, a language model's job prints the settled answer's text (`--json`: the whole
    /// job, with the prompt's and the answer's token ids and the commitments); a tensor model's job
    /// prints the job as JSON.
    #[command(group(ArgGroup::new("what").required(true).args(["input", "prompt"])))]
    Submit {
        /// Model id.
        #[arg(long, visible_alias = "model")]
        model_id: u64,
        /// A tensor model's input: a JSON file with a list (flat or nested) of int8 numbers.
        #[arg(long)]
        input: Option<PathBuf>,
        /// A language model's prompt, as text (the model's chat template is applied).
        #[arg(long)]
        prompt: Option<String>,
        /// The most tokens the answer may have, with `--prompt` (prompt tokens + this − 1 must fit
        /// the model's context) [default: 64].
        #[arg(long)]
        max_tokens: Option<u64>,
        /// Seconds a worker has to answer.
        #[arg(long)]
        ttl_secs: Option<u64>,
        /// Wait until the result settles and print it.
        #[arg(long)]
        wait: bool,
        /// Print the whole job as JSON, also for a language model's job.
        #[arg(long)]
        json: bool,
        /// Give up waiting after this many seconds.
        #[arg(long, default_value_t = 600)]
        timeout_secs: u64,
    },
    /// Show a job (status, roots, output once submitted; a language model's answer as text).
    Status {
        /// Job id.
        id: u64,
        /// Wait until it settles.
        #[arg(long)]
        wait: bool,
        /// Print the whole job as JSON, also for a language model's job.
        #[arg(long)]
        json: bool,
        /// Give up waiting after this many seconds.
        #[arg(long, default_value_t = 600)]
        timeout_secs: u64,
    },
}

impl JobArgs {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        let mut api = ApiClient::new(&self.coordinator)?;
        if let Some(key) = self.api_key {
            api = api.with_api_key(key);
        }
        let (id, wait, json, timeout) = match self.command {
            JobCommand::Submit {
                model_id,
                input,
                prompt,
                max_tokens,
                ttl_secs,
                wait,
                json,
                timeout_secs,
            } => {
                let request = match (input, prompt) {
                    (_, Some(prompt)) => JobRequest::text(
                        model_id,
                        prompt,
                        Some(max_tokens.unwrap_or(vouch_client::DEFAULT_MAX_TOKENS)),
                    ),
                    (Some(_), None) if max_tokens.is_some() => {
                        anyhow::bail!(
                            "--max-tokens is a language model's budget: it goes with --prompt, not --input"
                        )
                    }
                    (Some(input), None) => {
                        let text = std::fs::read_to_string(&input)
                            .with_context(|| format!("reading {}", input.display()))?;
                        let value: serde_json::Value = serde_json::from_str(&text)
                            .with_context(|| format!("{} is not JSON", input.display()))?;
                        JobRequest::tensor(model_id, value)
                    }
                    (None, None) => unreachable!("clap requires --input or --prompt"),
                };
                let posted = api.post(&request.with_ttl(ttl_secs)).await?;
                match &posted.prompt {
                    Some(p) => eprintln!(
                        "posted job {} (tx {}, {} prompt tokens, at most {} answer tokens, fee {} wei)",
                        posted.job_id,
                        posted.tx_hash,
                        p.prompt_ids.len(),
                        p.max_tokens,
                        posted.fee_wei
                    ),
                    None => eprintln!(
                        "posted job {} (tx {}, input root {}, fee {} wei)",
                        posted.job_id, posted.tx_hash, posted.input_root, posted.fee_wei
                    ),
                }
                (posted.job_id, wait, json, timeout_secs)
            }
            JobCommand::Status {
                id,
                wait,
                json,
                timeout_secs,
            } => (id, wait, json, timeout_secs),
        };
        let job = if wait {
            let spinner = crate::progress::spinner();
            let job = api
                .wait_settled(id, Duration::from_secs(timeout), &mut |job| {
                    spinner.set_message(format!(
                        "job {id}: {}{}",
                        job.status.as_str(),
                        if job.settled { ", settled" } else { "" }
                    ));
                })
                .await;
            spinner.finish_and_clear();
            job?
        } else {
            api.job(id).await?
        };
        print_job(&job, json)
    }
}

/// A language model's job that has an answer as the answer's text (unless `json`); any other job,
/// or one still without an answer, as JSON.
fn print_job(job: &JobRecord, json: bool) -> anyhow::Result<()> {
    let answer = job
        .text
        .as_ref()
        .and_then(|t| Some((t.answer.as_ref()?, t)));
    match answer {
        Some((answer, text)) if !json => {
            let status = match job.status {
                _ if job.settled => "settled",
                JobStatus::Submitted => "submitted, not settled: it may still be overturned",
                other => other.as_str(),
            };
            eprintln!(
                "job {} ({status}): {} answer tokens",
                job.job_id,
                text.answer_ids.as_ref().map_or(0, Vec::len)
            );
            println!("{answer}");
        }
        _ => println!("{}", serde_json::to_string_pretty(job)?),
    }
    Ok(())
}
