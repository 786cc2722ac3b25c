//! `dispute-gas`: one whole dispute per example model (`models/*.vouch`) on a real anvil with the
//! real contracts, a real `vouch_worker::Worker` that lies and a real honest
//! `vouch_challenger::Challenger`; gas of every transaction from its receipt, rounds, the one
//! step's op and calldata, and the wall time of each game. Prints markdown tables:
//!
//! ```sh
//! cargo run -p vouch-bench --bin dispute-gas            # ~1 min in debug; `-- --quick`: main table only
//! ```
//!
//! Each game runs on its own fresh anvil (cancun) with freshly deployed contracts, so every figure
//! is a first game on a new market. Besides the two games per model (a consistent lie in the
//! middle op and in the last op) it plays one game per op that proves an interior element, and
//! probes one-op models toward the format's limits on an anvil with a raised block gas limit. A
//! game that does not end is reported as such, not retried. The figures and their reading live
//! in `docs/GAS.md` ("Whole disputes").

mod game;
mod ledger;
mod limits;
mod report;

use anyhow::Context;
use clap::Parser;
use rand::{SeedableRng, rngs::StdRng};
use report::{Played, games_table, kinds_table, limits_table, reduction, steps_table};
use std::path::{Path, PathBuf};
use vouch_core::{Model, Shape, random};
use vouch_import::{Dataset, layout::onnx_shape, quantize_input};
use vouch_worker::Lie;

/// Play whole disputes on anvil and report their gas and time.
#[derive(Debug, Parser)]
struct Args {
    /// Directory with the `.vouch` models, `manifest.json` and `data/`.
    #[arg(long, default_value = "models")]
    models: PathBuf,
    /// Only the two games per model (a consistent lie in the middle op and in the last op): no
    /// extra game per op proving an interior element, no probes toward the format's limits.
    #[arg(long)]
    quick: bool,
    /// Only models whose name contains this.
    #[arg(long)]
    only: Option<String>,
}

/// An element of a `[H, W, C]` tensor away from every edge (its conv/pool windows read every tap).
fn interior(out: Shape) -> usize {
    ((out.h as usize / 2) * out.w as usize + out.w as usize / 2) * out.c as usize + out.c as usize
        - 1
}

/// The first held-out test image of `name` (the data file `manifest.json` names for it),
/// quantized; a seeded random input for a model the manifest does not know.
fn input_for(models: &Path, name: &str, model: &Model) -> anyhow::Result<Vec<i8>> {
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(models.join("manifest.json")).context("reading manifest.json")?,
    )?;
    match manifest["models"][name]["data"].as_str() {
        Some(data) => {
            let test = Dataset::load(&models.join(data), None, &onnx_shape(model.input).dims())
                .with_context(|| format!("loading {data}"))?;
            let first = test.inputs.first().context("empty test set")?;
            Ok(quantize_input(model, first)?)
        }
        None => Ok(random::random_input(&mut StdRng::seed_from_u64(0), model)),
    }
}

/// The two games of the main table: a consistent lie in the middle op and one in the last op.
fn cases(model: &Model) -> Vec<(String, Lie)> {
    let n = model.op_count();
    let mut cases = vec![(
        format!("{} (middle)", (n - 1) / 2),
        Lie::Consistent { step: (n - 1) / 2 },
    )];
    if n > 1 {
        cases.push((format!("{} (last)", n - 1), Lie::Consistent { step: n - 1 }));
    }
    cases
}

/// One game per op, each on a wrong interior element of that op (the most rows a step of it reads).
fn interior_cases(model: &Model) -> Vec<(String, Lie)> {
    (0..model.op_count())
        .map(|k| {
            let lie = Lie::WrongElement {
                step: k,
                element: interior(model.ops[k].out),
            };
            (format!("{k} (interior)"), lie)
        })
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&args.models)
        .with_context(|| format!("reading {}", args.models.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "vouch"))
        .collect();
    paths.sort();
    let scratch = std::env::temp_dir().join(format!("vouch-dispute-gas-{}", std::process::id()));
    let (mut main, mut interior_games) = (Vec::new(), Vec::new());
    for path in paths {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .context("model file name")?
            .to_string();
        if args
            .only
            .as_ref()
            .is_some_and(|o| !name.contains(o.as_str()))
        {
            continue;
        }
        let model = Model::load(&path).with_context(|| format!("loading {}", path.display()))?;
        model.validate()?;
        let input = input_for(&args.models, &name, &model)?;
        for (case, lie) in cases(&model) {
            let dir = scratch.join(format!("{name}-{}", main.len()));
            main.push(play(&name, &model, &input, case, lie, &dir, None).await?);
        }
        if !args.quick {
            for (case, lie) in interior_cases(&model) {
                let dir = scratch.join(format!("{name}-interior-{}", interior_games.len()));
                interior_games.push(play(&name, &model, &input, case, lie, &dir, None).await?);
            }
        }
    }
    let mut probes = Vec::new();
    if !args.quick {
        let mut rng = StdRng::seed_from_u64(1);
        for (i, probe) in limits::probes().into_iter().enumerate() {
            // Registration refuses what cannot be disputed (Model::validate: the step's calldata
            // cap and its gas bound), and the agents refuse to fetch it: say why instead of playing.
            if let Err(e) = probe.model.validate() {
                eprintln!("probe {}: refused at registration: {e}", probe.name);
                continue;
            }
            let input = random::random_input(&mut rng, &probe.model);
            let lie = Lie::WrongElement {
                step: 0,
                element: interior(probe.model.ops[0].out),
            };
            let dir = scratch.join(format!("probe-{i}"));
            let gas_limit = Some(limits::PROBE_GAS_LIMIT);
            let game = play(
                &probe.name,
                &probe.model,
                &input,
                "0".into(),
                lie,
                &dir,
                gas_limit,
            );
            probes.push(game.await?);
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let probe_count = probes.len();

    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "Whole disputes on anvil (cancun), {profile} build; gas from the receipts. A consistent lie flips \
         element 0 of the op's output and recomputes every later op; an interior lie flips one element \
         away from the edges and leaves the rest as computed.\n"
    );
    println!("### Games\n\n{}", games_table(&main));
    println!(
        "### Gas per transaction (the games above)\n\n{}",
        kinds_table(&main)
    );
    if !interior_games.is_empty() {
        println!(
            "### One game per op, interior element\n\n{}",
            games_table(&interior_games)
        );
    }
    let all: Vec<Played> = main.into_iter().chain(interior_games).collect();
    println!(
        "### Worst step per op kind (all games)\n\n{}",
        steps_table(&all)
    );
    if !probes.is_empty() {
        let every: Vec<Played> = all.into_iter().chain(probes).collect();
        println!(
            "### Gas per transaction (every game: the above, one per op, the probes)\n\n{}",
            kinds_table(&every)
        );
        let probes = &every[every.len() - probe_count..];
        println!(
            "### Toward the format's limits (one-op models, block gas limit raised to {})\n\n{}",
            report::gas(limits::PROBE_GAS_LIMIT),
            limits_table(probes)
        );
    }
    Ok(())
}

/// Plays one game and logs a line about it.
async fn play(
    name: &str,
    model: &Model,
    input: &[i8],
    case: String,
    lie: Lie,
    dir: &Path,
    gas_limit: Option<u64>,
) -> anyhow::Result<Played> {
    let game = game::play(model, input, lie, dir, gas_limit)
        .await
        .with_context(|| format!("{name}: lie {lie:?}"))?;
    let _ = std::fs::remove_dir_all(dir);
    let (op_kind, k) = game.op.map_or(("none", 0), |op| {
        (model.ops[op].kind.name(), reduction(model, op))
    });
    let p = Played {
        model: name.to_string(),
        ops: model.op_count(),
        case,
        op_kind,
        k,
        game,
    };
    eprintln!(
        "{name}: lie at op {} -> step at op {} ({}), game gas {}, {:.2} s",
        p.case,
        p.op(),
        p.op_kind,
        report::gas(p.defender_gas() + p.challenger_gas()),
        p.game.wall.as_secs_f64()
    );
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interior_elements_keep_away_from_the_edges() {
        // Pixel (4, 4), last channel, of an 8×8×8 tensor: a 3×3 window around it is inside.
        assert_eq!(interior(Shape::new(8, 8, 8)), (4 * 8 + 4) * 8 + 7);
        assert_eq!(interior(Shape::vector(10)), 9);
        assert_eq!(interior(Shape::vector(1)), 0);
    }
}
