//! The README's demo command, end to end: `vouch dev --once` must start a whole local network, catch
//! and slash the dishonest worker's fabricated result, settle every demo job (the re-answered one
//! included), and find every settled output equal to the reference interpreter's.

use std::process::Command;

#[test]
fn vouch_dev_settles_jobs_matching_the_reference() {
    let dir = std::env::temp_dir().join(format!("vouch-dev-test-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_vouch"))
        .args([
            "dev",
            "--once",
            "--anvil-port",
            "0",
            "--http",
            "127.0.0.1:0",
            "--jobs",
            "3",
            "--window-secs",
            "5",
        ])
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .expect("running vouch dev");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "vouch dev failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let settled = stdout
        .lines()
        .filter(|l| l.contains("settled") && l.contains("matches the reference interpreter"))
        .count();
    assert_eq!(
        settled, 4,
        "three demo jobs and the re-answered fraud:\n{stdout}"
    );
    assert!(
        stdout.contains("overturned on chain and its bond slashed"),
        "the fraud was caught:\n{stdout}"
    );
    assert!(!stdout.contains("DIFFERS"), "{stdout}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn help_teaches_every_command() {
    let out = Command::new(env!("CARGO_BIN_EXE_vouch"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in [
        "dev",
        "deploy",
        "coordinator",
        "worker",
        "challenger",
        "model",
        "job",
    ] {
        assert!(help.contains(cmd), "--help lacks {cmd}:\n{help}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_vouch"))
        .args(["worker", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("VOUCH_PRIVATE_KEY") && help.contains("VOUCH_RPC_URL"),
        "{help}"
    );
    // Text jobs: a language model's prompt and budget, and what --wait prints.
    let out = Command::new(env!("CARGO_BIN_EXE_vouch"))
        .args(["job", "submit", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for teaches in [
        "--prompt",
        "--max-tokens",
        "language model",
        "answer's text",
        "--json",
    ] {
        assert!(
            help.contains(teaches),
            "job submit --help lacks {teaches}:\n{help}"
        );
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = std::env::temp_dir();
    let model = dir.join(format!("vouch-not-a-model-{}.vouch", std::process::id()));
    std::fs::write(&model, b"definitely not a model").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vouch"))
        .args(["model", "inspect"])
        .arg(&model)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad magic") && err.contains("loading model"),
        "{err}"
    );
    std::fs::remove_file(model).unwrap();
}
