//! What the benchmark binaries share.

use anyhow::Context;
use std::path::Path;
use vouch_llm::{IntModel, gguf::Gguf, int};

/// Calibration tokens of an import, as `vouch model import` takes by default.
pub const CALIBRATION_TOKENS: usize = 512;

/// The chat prompts of an import, as `vouch dev` and the README's import take them.
pub const CALIBRATION_PROMPTS: &str = "models/llm/calibration-prompts.json";

/// The integer model in the file `model`, imported into it first from `gguf` (calibrated on
/// `calibration`'s first [`CALIBRATION_TOKENS`] tokens and the chat prompts of
/// [`CALIBRATION_PROMPTS`]) when the file is missing or of an older format.
pub fn load_or_import(model: &Path, gguf: &Path, calibration: &Path) -> anyhow::Result<IntModel> {
    if let Ok(loaded) = int::load(model) {
        return Ok(loaded);
    }
    let g = Gguf::open(gguf).with_context(|| format!("reading {}", gguf.display()))?;
    let read = |path: &Path| {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    };
    let text = read(calibration)?;
    let prompts: Vec<String> = serde_json::from_str(&read(Path::new(CALIBRATION_PROMPTS))?)
        .with_context(|| format!("{CALIBRATION_PROMPTS} is not a JSON list of strings"))?;
    let (imported, _) = int::import_text(&g, &text, CALIBRATION_TOKENS, &prompts)?;
    int::save(&imported, model)?;
    eprintln!("imported {} into {}", gguf.display(), model.display());
    Ok(imported)
}
