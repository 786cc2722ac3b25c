//! What a worker has at stake and has earned (`vouch worker status`), from its data directory
//! (`state.json`: pending results and earnings; `defence.json`: its games) and the chain (balance,
//! credit, the bond, each game's clocks). The same reads back its metrics.

use crate::{
    defender::game_id,
    error::{Result, WorkerError},
    state::{DefenceState, Earnings, PendingResult, WorkerState},
};
use alloy::primitives::U256;
use std::{fmt, path::Path};
use vouch_agent::{Standing, StateFile};
use vouch_chain::{Market, Side};

/// A worker's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerStatus {
    /// Account, balance, credit and the clocks of the games against its results.
    pub standing: Standing,
    /// The bond posted with every result, wei.
    pub bond: U256,
    /// Its results in their challenge window: (job, result).
    pub pending: Vec<(U256, PendingResult)>,
    /// What its settled and overturned results brought.
    pub earnings: Earnings,
}

/// The worker's standing: its games are those in `data_dir/defence.json`.
pub async fn standing(market: &Market, data_dir: &Path) -> Result<Standing> {
    let defence = StateFile::load_or(&data_dir.join("defence.json"), DefenceState::default)?;
    let games = defence
        .state
        .games
        .keys()
        .map(|id| game_id(id))
        .collect::<Result<Vec<_>>>()?;
    vouch_agent::standing::read(market, Side::Defender, games).await
}

/// Reads the status of `market`'s account, a worker whose data directory is `data_dir`.
pub async fn read(market: &Market, data_dir: &Path) -> Result<WorkerStatus> {
    let state = StateFile::load_or(&data_dir.join("state.json"), WorkerState::default)?.state;
    let pending = state
        .pending
        .iter()
        .map(|(job, p)| {
            let job = job.parse().map_err(|_| WorkerError::State {
                path: "state.json".into(),
                reason: format!("bad job id {job}"),
            })?;
            Ok((job, *p))
        })
        .collect::<Result<Vec<_>>>()?;
    let (standing, params) = tokio::try_join!(standing(market, data_dir), async {
        Ok::<_, WorkerError>(market.params().await?)
    })?;
    Ok(WorkerStatus {
        standing,
        bond: params.result_bond,
        pending,
        earnings: state.earnings,
    })
}

/// `90061` → `1d 01h 01m 01s`.
fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s:02}s"),
        (0, _, _) => format!("{h}h {m:02}m {s:02}s"),
        _ => format!("{d}d {h:02}h {m:02}m {s:02}s"),
    }
}

impl fmt::Display for WorkerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.standing;
        let e = &self.earnings;
        writeln!(f, "worker    {}", s.address)?;
        writeln!(f, "balance   {} wei", s.balance)?;
        writeln!(f, "credits   {} wei (withdrawable)", s.credits)?;
        writeln!(
            f,
            "bonds     {} wei locked in {} pending result(s), {} wei each",
            self.bond * U256::from(self.pending.len()),
            self.pending.len(),
            self.bond
        )?;
        writeln!(
            f,
            "earned    {} wei in fees (after royalties) over {} settled result(s); {} wei of bonds lost with {} overturned",
            e.fees_wei, e.settled, e.bonds_lost_wei, e.overturned
        )?;
        writeln!(f, "pending results ({}):", self.pending.len())?;
        for (job, p) in &self.pending {
            let when = match p.window_ends_at.checked_sub(s.now) {
                Some(left) if left > 0 => format!("window ends in {}", duration(left)),
                _ => "window closed: finalized at the next poll".into(),
            };
            writeln!(
                f,
                "  job {job} result {}: {when} (at unix {})",
                p.attempt, p.window_ends_at
            )?;
        }
        writeln!(f, "open games ({}):", s.games.len())?;
        for c in &s.games {
            writeln!(
                f,
                "  game {} on job {} result {}: {} to move; defender {} left, challenger {} left",
                c.game,
                c.job,
                c.attempt,
                c.to_move.as_str(),
                duration(c.defender_secs),
                duration(c.challenger_secs)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_units() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(61), "1m 01s");
        assert_eq!(duration(3_600), "1h 00m 00s");
        assert_eq!(duration(90_061), "1d 01h 01m 01s");
    }
}
