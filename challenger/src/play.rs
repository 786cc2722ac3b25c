//! One challenger move in one game, decided from the challenger's own trace (PROTOCOL §6): agree or
//! disagree with a revealed state, pick the child that differs from its own tensor, name the byte
//! of the leaf that differs, then prove that element on chain. Every move names the position it
//! answers, so a move computed from a stale read cannot land elsewhere.

use crate::{error::Result, strategy::Strategy};
use alloy::primitives::U256;
use rand::Rng;
use std::path::Path;
use vouch_chain::{GamePhase, GameStatus, Market, Revert, bindings::JobMarket::JobMarketErrors};
use vouch_core::{
    CoreError, Model, Trace,
    dispute::{Element, Party, Side, StepWitness, TensorPosition, verify_step},
};

/// What one call to [`play`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Played {
    /// Sent a move (or the one step).
    Moved,
    /// The defender is to move; nothing to do yet.
    Waiting,
    /// The game is over with this status (after this call, if it resolved it).
    Over(GameStatus),
}

/// `fallback` where the defender revealed exactly our own data (only a challenger disputing a correct
/// result meets that), the value otherwise.
fn or_no_difference<T>(r: vouch_core::Result<T>, fallback: T) -> Result<T> {
    match r {
        Err(CoreError::NoDifference(_)) => Ok(fallback),
        other => Ok(other?),
    }
}

fn not_timed_out(e: &vouch_chain::ChainError) -> bool {
    matches!(
        e.revert(),
        Some(Revert::Market(JobMarketErrors::NotTimedOut(_)))
    )
}

/// Plays one move of game `game` with `strategy`, from the challenger's own trace at `trace` (read,
/// and its trees built, only when the challenger is to move).
pub async fn play(
    market: &Market,
    model: &Model,
    trace: &Path,
    game: U256,
    strategy: Strategy,
    rng: &mut impl Rng,
) -> Result<Played> {
    let g = market.game(game).await?;
    if g.status != GameStatus::Active {
        return Ok(Played::Over(g.status));
    }
    if market.dispute(g.job_id, g.attempt).await?.overturned {
        market.claim_moot(game).await?;
        tracing::info!(game = %game, "result overturned by another game: bond and share claimed");
        return Ok(Played::Over(GameStatus::Moot));
    }
    if market.pending_reveal(game).await?.is_some() {
        // The defender owes data: it may have run out of time.
        return match market.timeout(game).await {
            Ok(_) => {
                let status = market.game(game).await?.status;
                tracing::info!(game = %game, status = status.as_str(), "the defender ran out of time");
                Ok(Played::Over(status))
            }
            Err(e) if not_timed_out(&e) => Ok(Played::Waiting),
            Err(e) => Err(e.into()),
        };
    }
    if strategy == Strategy::Stall {
        return Ok(Played::Waiting);
    }
    let trace = Trace::load(trace)?;
    let party = Party::new(model, &trace)?;
    let random = strategy == Strategy::Dishonest;
    let (job, attempt, k, mv) = (g.job_id, g.attempt, g.lo as usize, g.moves);
    match g.phase {
        GamePhase::Bisect => {
            let mid = (g.lo + g.hi) / 2;
            let theirs = market.revealed_state(job, attempt, mid).await?;
            let agree = if random {
                rng.random()
            } else {
                party.agrees_with_state(mid as usize, theirs)?
            };
            market.bisect(game, mv, agree).await?;
            let (lo, hi) = if agree { (mid, g.hi) } else { (g.lo, mid) };
            tracing::info!(game = %game, job = %job, agree, lo, hi, "bisected the trace: σ_{lo} agreed, σ_{hi} disputed");
        }
        GamePhase::Tensor if g.depth < g.leaf_depth => {
            let node = if g.depth == 0 {
                market.revealed_transition(job, attempt, g.lo).await?
            } else {
                g.node
            };
            let (left, right) = market.revealed_node(job, attempt, node).await?;
            let pos = TensorPosition {
                depth: u32::from(g.depth),
                index: g.index as usize,
            };
            let go_right = if random {
                rng.random()
            } else {
                // Disputing a correct result, no child differs: any side loses the same.
                or_no_difference(party.pick(k, pos, left, right), Side::Left)? == Side::Right
            };
            market.pick(game, mv, go_right).await?;
            tracing::info!(game = %game, job = %job, op = k, depth = g.depth + 1, right = go_right, "bisected the disputed tensor");
        }
        GamePhase::Tensor => {
            let node = if g.depth == 0 {
                market.revealed_transition(job, attempt, g.lo).await?
            } else {
                g.node
            };
            let Some(theirs) = market.revealed_leaf(job, attempt, node).await? else {
                return Ok(Played::Waiting);
            };
            let offset = if random {
                rng.random_range(0..32)
            } else {
                or_no_difference(party.differing_offset(k, g.index as usize, &theirs), 0)? as u8
            };
            market.name_element(game, mv, offset).await?;
            tracing::info!(game = %game, job = %job, op = k, leaf = g.index, offset, "named the disputed element");
        }
        GamePhase::Step => {
            let witness = match party.element_of_leaf(k, g.index as usize, usize::from(g.offset))? {
                Element::Padding => StepWitness::default(),
                Element::Index(e) => {
                    let w = party.witness(k, e)?;
                    // Pre-flight: the witness proves what the contract will check, against the
                    // agreed σ_k, so the step cannot revert on our data.
                    let sigma_k = party.state_root(k)?;
                    let value = verify_step(model, k, sigma_k, e, &w)?;
                    tracing::info!(game = %game, job = %job, op = k, element = e, value, "proving the element on chain");
                    w
                }
            };
            market.step(game, &witness).await?;
            let status = market.game(game).await?.status;
            tracing::info!(game = %game, job = %job, status = status.as_str(), "one step executed on chain");
            return Ok(Played::Over(status));
        }
    }
    Ok(Played::Moved)
}
