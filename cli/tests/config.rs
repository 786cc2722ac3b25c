//! Config files for the daemons: `--config` (or `VOUCH_CONFIG`) fills what neither a flag nor an
//! environment variable set, and a key that names no option is refused by name. Runs the real
//! `vouch` binary; the deployment file it then fails to find says which value won.

use std::{
    path::PathBuf,
    process::{Command, Output},
};

fn vouch(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vouch"));
    for var in ["VOUCH_CONFIG", "VOUCH_DEPLOYMENT", "VOUCH_PRIVATE_KEY"] {
        cmd.env_remove(var);
    }
    cmd.args(args).envs(env.iter().copied()).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vouch-config-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The deployment file the worker went looking for.
fn looked_for(out: &Output) -> String {
    let err = stderr(out);
    assert!(!out.status.success(), "{err}");
    let (_, rest) = err
        .split_once("reading deployment file ")
        .unwrap_or_else(|| panic!("{err}"));
    rest.split(" (run").next().unwrap().to_owned()
}

#[test]
fn flags_beat_env_which_beats_the_file_which_beats_the_default() {
    let dir = dir("precedence");
    let (file, env, flag) = (
        dir.join("from-file.json"),
        dir.join("from-env.json"),
        dir.join("from-flag.json"),
    );
    let config = dir.join("worker.toml");
    std::fs::write(
        &config,
        format!(
            "# a worker's config\nprivate-key = \"0x{}\"\ndeployment = {:?}\nmax-memory-mib = 2048\nmodel = [1, 2]\n",
            "11".repeat(32),
            file.display().to_string()
        ),
    )
    .unwrap();
    let c = config.to_str().unwrap();
    let key = format!("0x{}", "22".repeat(32));

    // Without a file, the built-in default.
    assert_eq!(
        looked_for(&vouch(&["worker"], &[("VOUCH_PRIVATE_KEY", &key)])),
        "deployment.json"
    );
    // The file's value, named by the flag or by VOUCH_CONFIG.
    assert_eq!(
        looked_for(&vouch(&["worker", "--config", c], &[])),
        file.display().to_string()
    );
    assert_eq!(
        looked_for(&vouch(&["worker"], &[("VOUCH_CONFIG", c)])),
        file.display().to_string()
    );
    // The environment over the file.
    assert_eq!(
        looked_for(&vouch(
            &["worker", "--config", c],
            &[("VOUCH_DEPLOYMENT", env.to_str().unwrap())]
        )),
        env.display().to_string()
    );
    // The flag over the environment.
    assert_eq!(
        looked_for(&vouch(
            &[
                "worker",
                "--config",
                c,
                "--deployment",
                flag.to_str().unwrap()
            ],
            &[("VOUCH_DEPLOYMENT", env.to_str().unwrap())]
        )),
        flag.display().to_string()
    );
    // `worker status` reads the same file for the options it shares.
    assert_eq!(
        looked_for(&vouch(&["worker", "status", "--config", c], &[])),
        file.display().to_string()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_unknown_key_is_refused_by_name() {
    let dir = dir("unknown");
    let config = dir.join("worker.toml");
    // A challenger's option in a worker's file.
    std::fs::write(&config, "max-memory-mib = 2048\nsample-rate = 0.5\n").unwrap();
    let out = vouch(&["worker", "--config", config.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("config file {}", config.display()))
            && err
                .contains("unknown key `sample-rate`: `vouch worker` has no option --sample-rate"),
        "{err}"
    );
    // The same key is the challenger's.
    std::fs::write(
        &config,
        format!(
            "sample-rate = 2.0\nprivate-key = \"0x{}\"\n",
            "11".repeat(32)
        ),
    )
    .unwrap();
    let out = vouch(&["challenger", "--config", config.to_str().unwrap()], &[]);
    let err = stderr(&out);
    assert!(
        err.contains("--sample-rate must lie in [0, 1], got 2"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_daemons_help_says_the_config_file_exists() {
    for daemon in ["worker", "challenger", "coordinator"] {
        let out = vouch(&[daemon, "--help"], &[]);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains("--config <FILE>") && help.contains("VOUCH_CONFIG"),
            "{help}"
        );
    }
}
