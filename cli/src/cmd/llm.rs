//! The language-model side of `vouch model`: import a llama GGUF into canonical integers, answer a
//! prompt, evaluate against the float model, inspect a model file, list it on chain.

use anyhow::Context;
use std::{
    io::Write,
    path::Path,
    time::{Duration, Instant},
};
use vouch_chain::{ChainClient, llm};
use vouch_llm::{
    IntModel,
    config::LlamaConfig,
    eval::{Agreement, Forced, side_by_side},
    float::FloatModel,
    gguf::Gguf,
    int,
    lm::generate,
    tokenizer::ChatTokenizer,
    trace::ModelCommitment,
};

/// Whether the file at `path` starts with `magic`.
fn starts_with(path: &Path, magic: &[u8]) -> bool {
    let mut head = vec![0u8; magic.len()];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok_and(|()| head == magic)
}

/// Whether `path` is an integer language-model file (by its magic bytes).
pub(crate) fn is_llm(path: &Path) -> bool {
    starts_with(path, int::LLM_MAGIC)
}

/// Whether `path` is a GGUF file.
pub(crate) fn is_gguf(path: &Path) -> bool {
    starts_with(path, b"GGUF")
}

fn open_gguf(path: &Path) -> anyhow::Result<Gguf> {
    Gguf::open(path).with_context(|| format!("reading {}", path.display()))
}

fn load(path: &Path) -> anyhow::Result<IntModel> {
    int::load(path).with_context(|| format!("loading {}", path.display()))
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// A JSON list of prompts.
fn read_prompts(path: &Path) -> anyhow::Result<Vec<String>> {
    serde_json::from_str(&read_text(path)?)
        .with_context(|| format!("{} is not a JSON list of strings", path.display()))
}

/// Imports the GGUF at `gguf` into canonical integers, calibrated on the first `tokens` tokens of
/// the text `calibration` and on `prompts` as chat turns (the built-in ones if `None`; a spinner
/// while it runs).
pub(crate) fn import_model(
    gguf: &Path,
    calibration: &str,
    tokens: usize,
    prompts: Option<&[String]>,
) -> anyhow::Result<(IntModel, int::ImportReport)> {
    let g = open_gguf(gguf)?;
    let spinner = crate::progress::spinner();
    spinner.set_message(format!(
        "importing {}: dequantizing, calibrating on {tokens} text tokens at most and on chat \
         prompts the float model answers",
        gguf.display(),
    ));
    let imported = int::import_text(&g, calibration, tokens, prompts)
        .with_context(|| format!("importing {}", gguf.display()));
    spinner.finish_and_clear();
    imported
}

/// What `vouch model import` calibrates a GGUF on.
pub(crate) struct CalibrationFiles<'a> {
    /// A plain text.
    pub text: &'a Path,
    /// Its first tokens to run.
    pub tokens: usize,
    /// A JSON list of chat prompts (the built-in ones if `None`).
    pub prompts: Option<&'a Path>,
}

/// `vouch model import MODEL.gguf --calibration TEXT [--calibration-prompts JSON] --out FILE`.
pub(crate) fn import(
    gguf: &Path,
    calibration: CalibrationFiles<'_>,
    out: &Path,
) -> anyhow::Result<()> {
    let began = Instant::now();
    let prompts = calibration.prompts.map(read_prompts).transpose()?;
    let (model, report) = import_model(
        gguf,
        &read_text(calibration.text)?,
        calibration.tokens,
        prompts.as_deref(),
    )?;
    int::save(&model, out)?;
    let c = model.config;
    println!(
        "imported {} → {} in {:.1} s",
        gguf.display(),
        out.display(),
        began.elapsed().as_secs_f64()
    );
    println!(
        "  llama: {} blocks, hidden {}, {} query / {} key-value heads of {}, feed-forward {}, vocabulary {}",
        c.blocks, c.hidden, c.heads, c.kv_heads, c.head_dim, c.ffn, c.vocab
    );
    println!(
        "  calibration: {} tokens (at most {} of {}, {} chat prompts with the float model's answers), scales \
         with {}× headroom ({}× for gate and up); weights kept as the GGUF's blocks (largest \
         block-scale error {:.1e})",
        report.calibration_tokens,
        calibration.tokens,
        calibration.text.display(),
        report.calibration_prompts,
        int::HEADROOM,
        int::GATE_UP_HEADROOM,
        report.max_weight_error
    );
    println!(
        "  file: {} bytes; check accuracy with `vouch model eval {} --gguf {} --text HELD-OUT.txt`",
        std::fs::metadata(out)?.len(),
        out.display(),
        gguf.display()
    );
    Ok(())
}

/// `vouch model run MODEL --prompt TEXT`: the greedy answer, printed as it is generated.
pub(crate) fn run(path: &Path, prompt: &str, max_tokens: usize, raw: bool) -> anyhow::Result<()> {
    let model = load(path)?;
    let tokenizer = ChatTokenizer::new(&model.tokenizer)?;
    let ids = if raw {
        tokenizer.encode(prompt)?
    } else {
        tokenizer.chat(prompt)?
    };
    let began = Instant::now();
    let mut first: Option<Duration> = None;
    let mut answer = Vec::new();
    let mut shown = 0;
    let mut out = std::io::stdout().lock();
    generate(&model, &ids, max_tokens, tokenizer.eos, |id| {
        first.get_or_insert_with(|| began.elapsed());
        answer.push(id);
        // Decode the whole answer each time: a character may span tokens.
        if let Ok(text) = tokenizer.decode(&answer)
            && text.len() > shown
            && text.is_char_boundary(shown)
        {
            let _ = write!(out, "{}", &text[shown..]);
            let _ = out.flush();
            shown = text.len();
        }
    })?;
    writeln!(out)?;
    let total = began.elapsed().as_secs_f64();
    let prefill = first.unwrap_or_default().as_secs_f64();
    let decoded = answer.len().saturating_sub(1);
    eprintln!(
        "{} prompt tokens in {prefill:.2} s ({:.1} tokens/s), {decoded} more in {:.2} s ({:.1} tokens/s); ids {answer:?}",
        ids.len(),
        ids.len() as f64 / prefill.max(1e-9),
        total - prefill,
        decoded as f64 / (total - prefill).max(1e-9),
    );
    Ok(())
}

/// What `vouch model eval` reports on a language model besides held-out agreement and perplexity.
pub(crate) struct EvalOptions<'a> {
    /// Tokens of the held-out text.
    pub(crate) tokens: usize,
    /// Instructions to answer with both models.
    pub(crate) prompts: Option<&'a Path>,
    /// Answer tokens compared per prompt.
    pub(crate) compare: usize,
    /// The residual stream's error block by block.
    pub(crate) layers: bool,
    /// JSON output.
    pub(crate) json: bool,
}

/// `vouch model eval MODEL --gguf FLOAT.gguf --text HELD-OUT [--prompts PROMPTS.json]`.
pub(crate) fn eval(
    path: &Path,
    gguf: &Path,
    text: &Path,
    o: EvalOptions<'_>,
) -> anyhow::Result<()> {
    let EvalOptions {
        tokens,
        prompts,
        compare,
        layers,
        json,
    } = o;
    let model = load(path)?;
    let g = open_gguf(gguf)?;
    let float = FloatModel::load(&g, LlamaConfig::from_gguf(&g)?)?;
    anyhow::ensure!(
        float.config == model.config,
        "{} is not the model {} was imported from",
        gguf.display(),
        path.display()
    );
    let tokenizer = ChatTokenizer::new(&model.tokenizer)?;
    let mut ids = tokenizer.encode(&read_text(text)?)?;
    ids.truncate(tokens);
    anyhow::ensure!(
        ids.len() >= 2,
        "{} needs at least two tokens",
        text.display()
    );
    let spinner = crate::progress::spinner();
    spinner.set_message(format!(
        "teacher-forced pass of both models over {} tokens",
        ids.len()
    ));
    let agreement = Agreement::of(&Forced::run(&model, &ids)?, &Forced::run(&float, &ids)?);
    let per_block = if layers {
        spinner.set_message("the residual stream of both models, block by block");
        vouch_llm::eval::layers(&model, &float, &ids, model.config.hidden)?
    } else {
        Vec::new()
    };
    spinner.finish_and_clear();
    let list: Vec<String> = match prompts {
        Some(p) => read_prompts(p)?,
        None => Vec::new(),
    };
    let bar = crate::progress::bar("answering the prompts with both models");
    bar.set_length(list.len() as u64);
    let mut answers = Vec::new();
    for prompt in &list {
        let ids = tokenizer.chat(prompt)?;
        answers.push(side_by_side(
            &model,
            &float,
            prompt,
            &ids,
            tokenizer.eos,
            compare,
            compare,
        )?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let same = answers.iter().filter(|a| a.same).count();
    if json {
        let value = serde_json::json!({
            "heldout": agreement,
            "perplexity_ratio": agreement.perplexity_ratio(),
            "prompts": answers,
            "prompts_identical": same,
            "layers": per_block,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!(
        "held-out text {} ({} tokens, {} predictions):",
        text.display(),
        ids.len(),
        agreement.positions
    );
    println!(
        "  top-1 agreement with the float model  {:.4}",
        agreement.top1
    );
    println!(
        "  perplexity                            {:.3} (float {:.3}, ratio {:.4})",
        agreement.perplexity,
        agreement.float_perplexity,
        agreement.perplexity_ratio()
    );
    if let Some(gap) = agreement.gap_rms {
        println!(
            "  top-two logit gap moved by            {gap:.4} nats (rms; greedy answers follow the float \
             model's where its gap is wider)"
        );
    }
    if !per_block.is_empty() {
        println!("residual stream against the float model (block 0: the embedding):");
        println!("  block  mean cos  min cos  median rel. err  max rel. err");
        for l in &per_block {
            println!(
                "  {:>5}  {:.5}   {:.5}  {:>15.4}  {:>12.4}",
                l.block, l.mean_cos, l.min_cos, l.median_rel, l.max_rel
            );
        }
    }
    if !answers.is_empty() {
        println!("greedy answers, first {compare} tokens compared (= identical, ≠ different):");
        for a in &answers {
            match a.divergence {
                Some((i, gap)) => println!(
                    "≠ {} (from token {i}, where the float model's top two logits are {gap:.3} apart)",
                    a.prompt
                ),
                None => println!("{} {}", if a.same { "=" } else { "≠" }, a.prompt),
            }
            println!("    integer: {:?}", tokenizer.decode(&a.int_ids)?);
            println!("    float:   {:?}", tokenizer.decode(&a.float_ids)?);
        }
        println!("{same}/{} identical", answers.len());
    }
    Ok(())
}

/// `vouch model inspect MODEL.vlm`.
pub(crate) fn inspect(path: &Path) -> anyhow::Result<()> {
    let model = load(path)?;
    let c = model.config;
    let weights: usize = model
        .blocks
        .iter()
        .map(|b| b.denses().iter().map(|d| d.q.len()).sum::<usize>())
        .sum::<usize>()
        + model.embed.q.len();
    println!("language model (canonical integers, docs/LLM_INT.md)");
    println!(
        "  llama: {} blocks, hidden {}, {} query / {} key-value heads of {}, feed-forward {}, vocabulary {}",
        c.blocks, c.hidden, c.heads, c.kv_heads, c.head_dim, c.ffn, c.vocab
    );
    println!(
        "  {weights} weights; context {} positions; eos token {}",
        int::CONTEXT.min(c.context),
        model.tokenizer.eos
    );
    Ok(())
}

/// `vouch model publish` for a language model: lists it (resuming a listing this account started),
/// with a progress bar over the transactions.
pub(crate) async fn publish(path: &Path, args: &super::model::PublishArgs) -> anyhow::Result<()> {
    let model = load(path)?;
    let (Some(per_input), Some(per_output)) = (args.input_token_wei, args.output_token_wei) else {
        anyhow::bail!(
            "a language model is priced per token: pass --input-token-wei and --output-token-wei"
        );
    };
    let client = ChainClient::connect(&args.rpc.config(), args.key.signer()?).await?;
    let deployment = args.deployment.load()?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let began = Instant::now();
    let (id, transactions) = list_with_bar(
        &client,
        &deployment,
        &model,
        llm::LlmPrice {
            per_input,
            per_output,
        },
        args.royalty_bps,
        &name,
    )
    .await
    .context("listing the language model (run the same command again to resume)")?;
    println!(
        "model {id} active (root {}): {} transactions, {:.0} s",
        ModelCommitment::new(&model).root,
        transactions,
        began.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Lists `model` (`list_llm`) behind a progress bar over its transactions; returns its id and the
/// listing's transactions in all.
pub(crate) async fn list_with_bar(
    client: &ChainClient,
    deployment: &vouch_chain::Deployment,
    model: &IntModel,
    price: llm::LlmPrice,
    royalty_bps: u16,
    uri: &str,
) -> anyhow::Result<(alloy::primitives::U256, usize)> {
    let bar = crate::progress::bar("listing (transactions)");
    let mut transactions = 0;
    let id = llm::list_llm(
        client,
        deployment,
        model,
        price,
        royalty_bps,
        uri,
        &mut |done, total| {
            transactions = total;
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    )
    .await?;
    bar.finish_and_clear();
    Ok((id, transactions))
}
