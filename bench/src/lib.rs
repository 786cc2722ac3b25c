//! What the benchmark binaries share.

use anyhow::Context;
use std::path::Path;
use vouch_llm::{IntModel, gguf::Gguf, int};

/// Calibration tokens of an import, as `vouch model import` takes by default.
pub const CALIBRATION_TOKENS: usize = 512;

/// The integer model in the file `model`, imported into it first from `gguf` (calibrated on
/// `calibration`'s first [`CALIBRATION_TOKENS`] tokens and the built-in chat prompts) when the
/// file is missing or of an older format.
pub fn load_or_import(model: &Path, gguf: &Path, calibration: &Path) -> anyhow::Result<IntModel> {
    if let Ok(loaded) = int::load(model) {
        return Ok(loaded);
    }
    let g = Gguf::open(gguf).with_context(|| format!("reading {}", gguf.display()))?;
    let text = std::fs::read_to_string(calibration)
        .with_context(|| format!("reading {}", calibration.display()))?;
    let (imported, _) = int::import_text(&g, &text, CALIBRATION_TOKENS, None)?;
    int::save(&imported, model)?;
    eprintln!("imported {} into {}", gguf.display(), model.display());
    Ok(imported)
}
