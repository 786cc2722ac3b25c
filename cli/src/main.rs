//! `vouch`: the command-line entry point. Thin: parses arguments and calls the libraries.

mod cmd;
mod config;
mod opts;
mod progress;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Vouch: verifiable AI inference by optimistic verification.
///
/// Start with `vouch dev`: it runs a whole local network (chain, contracts, coordinator, worker) and
/// shows jobs settling. Every option can also be set through the environment variable shown in its
/// help (`VOUCH_…`); the daemons (`worker`, `challenger`, `coordinator`) also read a TOML config file
/// (`--config`, `VOUCH_CONFIG`) under both. Logs go to stderr; set `RUST_LOG` (e.g. `RUST_LOG=debug`) for more detail.
#[derive(Debug, Parser)]
#[command(name = "vouch", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a local network (anvil, contracts, coordinator, workers, challenger), post demo jobs, catch a
    /// fraudulent result, and keep serving.
    Dev(cmd::dev::DevArgs),
    /// Deploy the contracts and write a deployment file.
    Deploy(cmd::deploy::DeployArgs),
    /// Run the coordinator: HTTP API, dashboard data and chain indexer.
    Coordinator(cmd::coordinator::CoordinatorArgs),
    /// Run a worker daemon.
    Worker(cmd::worker::WorkerArgs),
    /// Run a challenger daemon: re-run results, dispute the wrong ones.
    Challenger(cmd::challenger::ChallengerArgs),
    /// Inspect, run and publish models.
    Model(cmd::model::ModelArgs),
    /// Submit jobs and read their results through a coordinator.
    Job(cmd::job::JobArgs),
    /// Re-run a settled job from chain data alone and check its result; print its receipt.
    ///
    /// No coordinator: the job and its result come from the contracts' logs, the model from the
    /// registry's events (checked against its root). Exit status: 0 when the settled output is what
    /// the model computes, 1 when it is not (the first differing element is named) or its trace root
    /// commits to another trace, 2 when there is nothing to check (unknown job, not settled yet) or
    /// the check could not be made.
    Verify(cmd::verify::VerifyArgs),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                "info,sqlx=warn,alloy=warn,hyper=warn,reqwest=warn,onnx_ir=warn".into()
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut command = config::command(Cli::command());
    let matches = match config::matches(command.clone(), std::env::args_os().collect()) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut command).exit());
    let result = match cli.command {
        Command::Dev(a) => a.run().await,
        Command::Deploy(a) => a.run().await,
        Command::Coordinator(a) => a.run().await,
        Command::Worker(a) => a.run().await,
        Command::Challenger(a) => a.run().await,
        Command::Model(a) => a.run().await,
        Command::Job(a) => a.run().await,
        // Its exit status is its answer (0 matches, 1 differs, 2 nothing checked).
        Command::Verify(a) => return a.run().await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
