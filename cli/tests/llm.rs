//! `vouch model import/run/eval/inspect` on the real SmolLM2 GGUF (`VOUCH_SMOLLM2`, fetched by
//! `scripts/test.sh`): what a user types, what they read, and how bad inputs are refused.

// Only `fresh_dir` of the shared harness: its local chain is for the anvil tests.
#[allow(dead_code)]
mod common;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

fn gguf() -> PathBuf {
    let path = vouch_llm::smollm2_path();
    assert!(
        path.exists(),
        "{} is missing: run scripts/fetch-smollm2.sh first",
        path.display()
    );
    path
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models/llm")
        .join(name)
}

fn vouch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vouch"))
        .args(args)
        .output()
        .expect("vouch runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_gguf_imports_answers_and_evaluates_from_the_command_line() {
    let dir = common::fresh_dir("llm-cli");
    let model = dir.join("smollm2.vlm");
    let (g, m) = (gguf(), model.to_str().unwrap().to_string());
    let calibration = data("calibration.txt");
    // Two chat turns besides the text (the committed set has 24; each costs the float model an answer).
    let prompts = dir.join("prompts.json");
    std::fs::write(&prompts, r#"["Describe a forest.", "What is 7 times 6?"]"#).unwrap();
    let out = vouch(&[
        "model",
        "import",
        g.to_str().unwrap(),
        "--calibration",
        calibration.to_str().unwrap(),
        "--calibration-tokens",
        "256",
        "--calibration-prompts",
        prompts.to_str().unwrap(),
        "-o",
        &m,
    ]);
    assert!(out.status.success(), "import failed: {}", text(&out.stderr));
    for want in ["30 blocks, hidden 576", "2 chat prompts"] {
        assert!(text(&out.stdout).contains(want), "{}", text(&out.stdout));
    }

    let out = vouch(&[
        "model",
        "run",
        &m,
        "--prompt",
        "What is the capital of France?",
        "--max-tokens",
        "12",
    ]);
    assert!(out.status.success(), "run failed: {}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Paris"),
        "answer: {}",
        text(&out.stdout)
    );
    assert!(text(&out.stderr).contains("tokens/s"));

    let heldout = data("heldout.txt");
    let prompts = dir.join("prompts.json");
    std::fs::write(&prompts, r#"["How many days are there in a week?"]"#).unwrap();
    let out = vouch(&[
        "model",
        "eval",
        &m,
        "--gguf",
        g.to_str().unwrap(),
        "--text",
        heldout.to_str().unwrap(),
        "--tokens",
        "96",
        "--prompts",
        prompts.to_str().unwrap(),
        "--compare",
        "8",
        "--layers",
        "--json",
    ]);
    assert!(out.status.success(), "eval failed: {}", text(&out.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("eval --json prints JSON");
    let top1 = report["heldout"]["top1"].as_f64().unwrap();
    let ratio = report["perplexity_ratio"].as_f64().unwrap();
    assert!(
        top1 >= 0.9 && ratio <= 1.1,
        "top-1 {top1}, perplexity ratio {ratio}"
    );
    assert_eq!(report["layers"].as_array().unwrap().len(), 31);
    assert_eq!(report["prompts"].as_array().unwrap().len(), 1);

    let out = vouch(&["model", "inspect", &m]);
    assert!(
        text(&out.stdout).contains("vocabulary 49152"),
        "{}",
        text(&out.stdout)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_model_files_are_refused_with_a_reason() {
    let dir = common::fresh_dir("llm-cli-bad");
    // A file that claims to be a GGUF and is not one.
    let fake = dir.join("fake.gguf");
    std::fs::write(&fake, b"GGUF\x03\0\0\0garbage").unwrap();
    let calibration = data("calibration.txt");
    let out = vouch(&[
        "model",
        "import",
        fake.to_str().unwrap(),
        "--calibration",
        calibration.to_str().unwrap(),
        "-o",
        dir.join("x.vlm").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("fake.gguf"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !dir.join("x.vlm").exists(),
        "nothing is written for a refused import"
    );

    // Calibration prompts that are not a JSON list of strings.
    let prompts = dir.join("prompts.json");
    std::fs::write(&prompts, r#"{"prompt": "hi"}"#).unwrap();
    let out = vouch(&[
        "model",
        "import",
        gguf().to_str().unwrap(),
        "--calibration",
        calibration.to_str().unwrap(),
        "--calibration-prompts",
        prompts.to_str().unwrap(),
        "-o",
        dir.join("y.vlm").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("prompts.json is not a JSON list of strings"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.join("y.vlm").exists());

    // A model file cut short.
    let cut = dir.join("cut.vlm");
    std::fs::write(&cut, b"VOUCHLM2\x01\x02").unwrap();
    let out = vouch(&["model", "run", cut.to_str().unwrap(), "--prompt", "hi"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("cut.vlm"),
        "{}",
        text(&out.stderr)
    );

    // Neither an input nor a prompt.
    let out = vouch(&["model", "run", cut.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--prompt") || text(&out.stderr).contains("--input"));
    std::fs::remove_dir_all(&dir).unwrap();
}
