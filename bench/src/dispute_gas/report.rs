//! Markdown tables over played games: one line per game, gas per transaction kind, and the one
//! step per op kind.

use crate::{
    game::Game,
    ledger::{Tx, TxKind},
};
use std::{collections::BTreeMap, fmt::Write as _};
use vouch_chain::GameStatus;
use vouch_core::{Model, dispute::Element, model::OpKind};

/// A played game with what the report needs to know about its model.
#[derive(Debug)]
pub(crate) struct Played {
    /// The model's name.
    pub(crate) model: String,
    /// Its op count n.
    pub(crate) ops: usize,
    /// What the case was (`middle`, `last`, `op 3`).
    pub(crate) case: String,
    /// The op kind of the disputed op ("none" if the walk never reached an op's slot).
    pub(crate) op_kind: &'static str,
    /// That op's reduction size K (see [`reduction`]; 0 without a disputed op).
    pub(crate) k: usize,
    /// The game.
    pub(crate) game: Game,
}

/// Reduction size K of op `k`: the input elements (dense), `kh·kw·C_in` (conv), the window taps
/// (pools), 2 (add), 1 (clamp, reshape).
pub(crate) fn reduction(model: &Model, k: usize) -> usize {
    let input = model.slots()[model.ops[k].kind.inputs()[0]].0;
    match &model.ops[k].kind {
        OpKind::Dense { .. } => input.len(),
        OpKind::Conv2d { window, .. } => {
            usize::from(window.kh) * usize::from(window.kw) * input.c as usize
        }
        OpKind::MaxPool { window, .. } | OpKind::AvgPool { window, .. } => {
            usize::from(window.kh) * usize::from(window.kw)
        }
        OpKind::Add { .. } => 2,
        OpKind::Clamp { .. } | OpKind::Reshape { .. } => 1,
    }
}

/// Thousands separated by commas, as docs/GAS.md writes gas.
pub(crate) fn gas(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn status(g: &Game) -> &'static str {
    match g.status {
        Some(GameStatus::ChallengerWon) => "liar slashed",
        Some(GameStatus::DefenderWon) => "CHALLENGER LOST",
        Some(GameStatus::Active) | None => "DID NOT END",
        Some(GameStatus::Moot) => "moot",
    }
}

impl Played {
    fn txs(&self, kind: TxKind) -> impl Iterator<Item = &Tx> {
        self.game.txs.iter().filter(move |t| t.kind == kind)
    }

    fn count(&self, kind: TxKind) -> usize {
        self.txs(kind).count()
    }

    fn side_gas(&self, side: alloy::primitives::Address) -> u64 {
        self.game
            .txs
            .iter()
            .filter(|t| t.kind.in_game() && t.from == side)
            .map(|t| t.gas)
            .sum()
    }

    /// Gas of the defender's transactions in the game (its reveals).
    pub(crate) fn defender_gas(&self) -> u64 {
        self.side_gas(self.game.defender)
    }

    /// Gas of the challenger's transactions in the game (challenge, moves, step).
    pub(crate) fn challenger_gas(&self) -> u64 {
        self.side_gas(self.game.challenger)
    }

    /// Transactions of the game itself, challenge to step: on a chain that mines them one per
    /// block, the game's length in blocks.
    fn game_txs(&self) -> usize {
        self.game.txs.iter().filter(|t| t.kind.in_game()).count()
    }

    fn step(&self) -> Option<&Tx> {
        self.txs(TxKind::Step).next()
    }

    fn element(&self) -> String {
        match self.game.element {
            Some(Element::Index(e)) => format!("element {e}"),
            Some(Element::Padding) => "padding".into(),
            None => "no step".into(),
        }
    }

    /// The disputed op's index, or "–".
    pub(crate) fn op(&self) -> String {
        self.game.op.map_or_else(|| "–".into(), |op| op.to_string())
    }

    fn step_cell(&self) -> String {
        format!(
            "{} {} (K {}), {}",
            self.op(),
            self.op_kind,
            self.k,
            self.element()
        )
    }

    fn rows_read(&self) -> usize {
        self.step()
            .and_then(|t| t.witness.as_ref())
            .map_or(0, |w| w.rows.len())
    }
}

/// One line per game.
pub(crate) fn games_table(played: &[Played]) -> String {
    let mut s = String::from(
        "| model | n | lie at op | step: op, kind (K), element | rows read | D_s (state picks) | D_t (tensor picks) | game txs | step calldata | step gas | defender gas | challenger gas | game gas | wall time | result |\n\
         |---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for p in played {
        let step = p.step();
        let (d, c) = (p.defender_gas(), p.challenger_gas());
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} B | {} | {} | {} | {} | {:.2} s | {}{} |",
            p.model,
            p.ops,
            p.case,
            p.step_cell(),
            p.rows_read(),
            p.count(TxKind::PickState),
            p.count(TxKind::PickTensor),
            p.game_txs(),
            step.map_or(0, |t| t.calldata),
            gas(step.map_or(0, |t| t.gas)),
            gas(d),
            gas(c),
            gas(d + c),
            p.game.wall.as_secs_f64(),
            status(&p.game),
            if p.game.clock_moves > 0 {
                format!(", clock moved {}×", p.game.clock_moves)
            } else {
                String::new()
            },
        );
    }
    s
}

/// Gas per transaction kind over `played`: count, min, max, and the calldata range.
pub(crate) fn kinds_table(played: &[Played]) -> String {
    let mut by_kind: BTreeMap<TxKind, Vec<&Tx>> = BTreeMap::new();
    for t in played.iter().flat_map(|p| &p.game.txs) {
        by_kind.entry(t.kind).or_default().push(t);
    }
    let mut s = String::from(
        "| transaction | sent by | count | gas min | gas max | gas mean | calldata |\n\
         |---|---|---:|---:|---:|---:|---:|\n",
    );
    for kind in TxKind::ALL {
        let Some(txs) = by_kind.get(&kind) else {
            continue;
        };
        let g: Vec<u64> = txs.iter().map(|t| t.gas).collect();
        let b: Vec<usize> = txs.iter().map(|t| t.calldata).collect();
        let (bmin, bmax) = (b.iter().min().unwrap_or(&0), b.iter().max().unwrap_or(&0));
        let sender = match kind {
            TxKind::PostJob => "dApp",
            k if k.by_defender() => "defender",
            _ => "challenger",
        };
        let _ = writeln!(
            s,
            "| `{}` | {sender} | {} | {} | {} | {} | {} B |",
            kind.name(),
            g.len(),
            gas(*g.iter().min().unwrap_or(&0)),
            gas(*g.iter().max().unwrap_or(&0)),
            gas(g.iter().sum::<u64>() / g.len().max(1) as u64),
            if bmin == bmax {
                bmin.to_string()
            } else {
                format!("{bmin}–{bmax}")
            },
        );
    }
    s
}

/// The most expensive step per op kind over `played`.
pub(crate) fn steps_table(played: &[Played]) -> String {
    let mut worst: BTreeMap<&str, (&Played, &Tx)> = BTreeMap::new();
    for p in played {
        let Some(step) = p.step() else { continue };
        let e = worst.entry(p.op_kind).or_insert((p, step));
        if step.gas > e.1.gas {
            *e = (p, step);
        }
    }
    let mut s = String::from(
        "| op kind | worst at | K | rows read | dense input | step calldata | step gas | `trueElement` alone |\n\
         |---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for (kind, (p, step)) in worst {
        let w = step.witness.as_ref();
        let _ = writeln!(
            s,
            "| {kind} | {} op {}, {} | {} | {} | {} B | {} B | {} | {} |",
            p.model,
            p.op(),
            p.element(),
            p.k,
            w.map_or(0, |w| w.rows.len()),
            w.map_or(0, |w| w.input.len()),
            step.calldata,
            gas(step.gas),
            p.game.prover_gas.map_or_else(|| "–".into(), gas),
        );
    }
    s
}

/// Ethereum mainnet's block gas limit the probes are compared with.
const BLOCK_GAS_LIMIT: u64 = 30_000_000;
/// EIP-7825's cap on one transaction's gas (Osaka), which no step may exceed either there.
const TX_GAS_CAP: u64 = 1 << 24;

/// One line per limit probe: what its step read and whether it fits in a block.
pub(crate) fn limits_table(played: &[Played]) -> String {
    let mut s = String::from(
        "| probe (one op, output [1, 1, 1] unless add) | K | rows read | dense input | step calldata | step gas | `trueElement` alone | fits | result |\n\
         |---|---:|---:|---:|---:|---:|---:|---|---|\n",
    );
    for p in played {
        let Some(step) = p.step() else {
            let _ = writeln!(
                s,
                "| {} | {} | | | | no step: {} | | |",
                p.model,
                p.k,
                status(&p.game)
            );
            continue;
        };
        let w = step.witness.as_ref();
        let fits = if step.gas > BLOCK_GAS_LIMIT {
            "**no**: over a 30M block"
        } else if step.gas > TX_GAS_CAP {
            "in 30M, not under the 2^24 tx cap"
        } else {
            "yes"
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} B | {} B | {} | {} | {fits} | {} |",
            p.model,
            p.k,
            w.map_or(0, |w| w.rows.len()),
            w.map_or(0, |w| w.input.len()),
            step.calldata,
            gas(step.gas),
            p.game.prover_gas.map_or_else(|| "–".into(), gas),
            status(&p.game),
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gas_is_written_with_thousands_separators() {
        assert_eq!(gas(0), "0");
        assert_eq!(gas(999), "999");
        assert_eq!(gas(1_000), "1,000");
        assert_eq!(gas(36_960_822), "36,960,822");
    }
}
