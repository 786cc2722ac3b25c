//! `vouch dev --model FILE` end to end on a random tiny transformer: the README's demo command runs
//! the same code on SmolLM2 (minutes); here the whole flow — listing, the chain saved and loaded
//! again, questions as text over HTTP, the dishonest worker's one-token lie challenged, bisected and
//! slashed, every answer settled and equal to a local run — takes seconds.
//! The model comes from a printed seed; replay a failure with `VOUCH_SEED=<seed>`.

// Only `fresh_dir` of the shared harness: its local chain is for the anvil tests.
#[allow(dead_code)]
mod common;

use candle_core::quantized::GgmlDType;
use rand::{SeedableRng, rngs::StdRng};
use std::{path::Path, process::Command};
use vouch_llm::{
    int,
    random::{self, Dims},
};

/// Runs the demo on `model` with Vouch's cache in `cache`; returns its stdout.
fn vouch_dev(model: &Path, cache: &Path, data: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_vouch"))
        .args([
            "dev",
            "--once",
            "--anvil-port",
            "0",
            "--http",
            "127.0.0.1:0",
            "--window-secs",
            "5",
        ])
        .arg("--model")
        .arg(model)
        .arg("--data-dir")
        .arg(data)
        .env("VOUCH_CACHE", cache)
        .output()
        .expect("running vouch dev");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "vouch dev failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn vouch_dev_on_a_language_model_slashes_the_lie_and_settles_every_answer() {
    let mut rng = StdRng::seed_from_u64(vouch_core::random::test_seed("cli_dev_llm"));
    let dims = Dims {
        context: 256,
        ..Dims::TINY
    };
    let model = random::model(&mut rng, dims, GgmlDType::Q8_0).unwrap();
    let dir = common::fresh_dir("dev-llm");
    let file = dir.join("tiny.vlm");
    int::save(&model, &file).unwrap();
    let cache = dir.join("cache");

    for (run, data) in ["first", "second"].into_iter().enumerate() {
        let stdout = vouch_dev(&file, &cache, &dir.join(data));
        if run == 0 {
            assert!(stdout.contains("listed       model"), "{stdout}");
        } else {
            assert!(
                stdout.contains("loaded in") && !stdout.contains("listed       model"),
                "the second run continues the saved chain:\n{stdout}"
            );
        }
        let settled = stdout
            .lines()
            .filter(|l| {
                l.contains("settled")
                    && l.contains("the answer this machine's integer model generates")
            })
            .count();
        assert_eq!(
            settled, 3,
            "the lied-about question and two more:\n{stdout}"
        );
        assert!(
            stdout.contains("ChallengerWon")
                && stdout.contains("the dishonest worker's bond slashed"),
            "the lie was caught:\n{stdout}"
        );
        assert!(!stdout.contains("DIFFERS"), "{stdout}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
