//! Config files for the daemons (`vouch worker`, `challenger`, `coordinator`): a TOML file whose
//! keys are the long names of the command's options (`rpc-url = "http://…"`, `max-memory-mib =
//! 2048`, `model = [1, 2]`), named by `--config` or `VOUCH_CONFIG`.
//!
//! The options stay defined once, by clap: each value of the file becomes its option's default
//! before the command line is parsed for real, so a flag beats its environment variable, which
//! beats the file, which beats the built-in default. A key that names no option of the command is
//! an error naming the key. The daemon's subcommands (`vouch worker status`) read the same file:
//! each takes the values of the options it shares with the daemon.

use anyhow::{Context, bail};
use clap::{Arg, ArgMatches, Command, value_parser};
use std::{ffi::OsString, path::PathBuf};

/// The subcommands that take `--config`.
const DAEMONS: [&str; 3] = ["worker", "challenger", "coordinator"];

/// Option ids the file may not set.
const RESERVED: [&str; 3] = ["config", "help", "version"];

/// `cmd` (the `vouch` command) with `--config` on every daemon and its subcommands.
pub(crate) fn command(cmd: Command) -> Command {
    DAEMONS.iter().fold(cmd, |cmd, name| {
        cmd.mut_subcommand(name, |daemon| {
            daemon.arg(
                Arg::new("config")
                    .long("config")
                    .env("VOUCH_CONFIG")
                    .value_name("FILE")
                    .value_parser(value_parser!(PathBuf))
                    .global(true)
                    .help(
                        "TOML config file: each key is an option's long name \
                         (`max-memory-mib = 2048`, `model = [1, 2]`); flags and environment \
                         variables override it (see docs/OPERATORS.md)",
                    ),
            )
        })
    })
}

/// Parses `args` with `cmd` (built by [`command`]), the config file's values as defaults. Exits
/// on a command-line error, as clap does; a bad config file is an error.
pub(crate) fn matches(cmd: Command, args: Vec<OsString>) -> anyhow::Result<ArgMatches> {
    // A first, lenient pass only finds the file (options it sets may be required).
    let Some((daemon, path)) = cmd
        .clone()
        .ignore_errors(true)
        .try_get_matches_from(args.clone())
        .ok()
        .and_then(|m| config_path(&m))
    else {
        return Ok(cmd.get_matches_from(args));
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading config file {}", path.display()))?;
    let cmd = with_defaults(cmd, &daemon, &text)
        .with_context(|| format!("config file {}", path.display()))?;
    Ok(cmd.get_matches_from(args))
}

/// The daemon named on the command line and its config file, if one is given.
fn config_path(m: &ArgMatches) -> Option<(String, PathBuf)> {
    let (name, mut sub) = m.subcommand()?;
    if !DAEMONS.contains(&name) {
        return None;
    }
    loop {
        if let Some(path) = sub.try_get_one::<PathBuf>("config").ok().flatten() {
            return Some((name.to_owned(), path.clone()));
        }
        sub = sub.subcommand()?.1;
    }
}

/// `cmd` with the values of the TOML `text` as the defaults of `daemon`'s options (and of its
/// subcommands' options of the same name).
fn with_defaults(cmd: Command, daemon: &str, text: &str) -> anyhow::Result<Command> {
    let table: toml::Table = text.parse().context("not valid TOML")?;
    let target = cmd
        .find_subcommand(daemon)
        .with_context(|| format!("no command {daemon}"))?;
    let mut defaults = Vec::new();
    for (key, value) in &table {
        let known = target.get_arguments().any(|a| {
            a.get_long() == Some(key.as_str()) && !RESERVED.contains(&a.get_id().as_str())
        });
        if !known {
            bail!("unknown key `{key}`: `vouch {daemon}` has no option --{key}");
        }
        defaults.push((key.clone(), strings(key, value)?));
    }
    Ok(cmd.mut_subcommand(daemon, |c| set_defaults(c, &defaults)))
}

/// A TOML value as the strings clap parses: a scalar as one, a list as one per element. Clap takes
/// default values as `&'static str`; the file is read once per process, so its values are leaked
/// to live as long as the process.
fn strings(key: &str, value: &toml::Value) -> anyhow::Result<Vec<&'static str>> {
    let scalar = |v: &toml::Value| -> anyhow::Result<&'static str> {
        let s = match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            _ => bail!("`{key}` must be a string, a number, a boolean or a list of them"),
        };
        Ok(s.leak())
    };
    match value {
        toml::Value::Array(items) => items.iter().map(scalar).collect(),
        v => Ok(vec![scalar(v)?]),
    }
}

/// `cmd` and its subcommands with each option named in `defaults` defaulting to its values.
fn set_defaults(mut cmd: Command, defaults: &[(String, Vec<&'static str>)]) -> Command {
    for (key, values) in defaults {
        let id = cmd
            .get_arguments()
            .find(|a| a.get_long() == Some(key.as_str()))
            .map(|a| a.get_id().clone());
        if let Some(id) = id {
            cmd = cmd.mut_arg(id, |a| {
                a.default_values(values.iter().copied()).required(false)
            });
        }
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    subs.iter().fold(cmd, |cmd, name| {
        cmd.mut_subcommand(name, |s| set_defaults(s, defaults))
    })
}
