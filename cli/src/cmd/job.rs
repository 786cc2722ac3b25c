//! `vouch job`: submit jobs and read results through a coordinator's HTTP API.

use anyhow::Context;
use clap::{Args, Subcommand};
use std::{path::PathBuf, time::Duration};
use vouch_client::ApiClient;

/// Submit jobs and read their results through a coordinator.
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
    /// Post a job: the coordinator sends the transaction and pays the model's fee.
    Submit {
        /// Model id.
        #[arg(long)]
        model_id: u64,
        /// Input tensor: a JSON list (flat or nested) of int8 numbers.
        #[arg(long)]
        input: PathBuf,
        /// Seconds a worker has to answer.
        #[arg(long)]
        ttl_secs: Option<u64>,
        /// Wait until the result settles and print it.
        #[arg(long)]
        wait: bool,
        /// Give up waiting after this many seconds.
        #[arg(long, default_value_t = 600)]
        timeout_secs: u64,
    },
    /// Show a job (status, roots, output once submitted).
    Status {
        /// Job id.
        id: u64,
        /// Wait until it settles.
        #[arg(long)]
        wait: bool,
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
        let (id, wait, timeout) = match self.command {
            JobCommand::Submit {
                model_id,
                input,
                ttl_secs,
                wait,
                timeout_secs,
            } => {
                let text = std::fs::read_to_string(&input)
                    .with_context(|| format!("reading {}", input.display()))?;
                let value: serde_json::Value = serde_json::from_str(&text)
                    .with_context(|| format!("{} is not JSON", input.display()))?;
                let posted = api.post_job(model_id, value, ttl_secs).await?;
                eprintln!(
                    "posted job {} (tx {}, input root {})",
                    posted.job_id, posted.tx_hash, posted.input_root
                );
                (posted.job_id, wait, timeout_secs)
            }
            JobCommand::Status {
                id,
                wait,
                timeout_secs,
            } => (id, wait, timeout_secs),
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
        println!("{}", serde_json::to_string_pretty(&job)?);
        Ok(())
    }
}
