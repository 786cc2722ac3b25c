//! One challenger move in one game, decided from the challenger's own trace (PROTOCOL §6): pick the
//! leftmost child of the defender's final state that differs from its own, then a differing child
//! of the disputed slot's tensor, name the byte of the leaf that differs, then prove that element on
//! chain. Every move names the position it answers, so a move computed from a stale read cannot
//! land elsewhere.

use crate::{error::Result, strategy::Strategy};
use alloy::primitives::{B256, U256};
use rand::Rng;
use std::path::Path;
use vouch_chain::{
    GamePhase, GameStatus, GameView, Market, Revert, bindings::DisputeGame::DisputeGameErrors,
};
use vouch_core::{
    CoreError, Model, Trace,
    dispute::{Element, Party, Position, Side, StepWitness, verify_step},
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

/// The side to walk: a coin flip for a dishonest challenger, else `honest()`'s (disputing a correct
/// result, no child differs: any side loses the same).
fn choose(
    random: bool,
    rng: &mut impl Rng,
    honest: impl FnOnce() -> vouch_core::Result<Side>,
) -> Result<Side> {
    if random {
        return Ok(if rng.random() {
            Side::Right
        } else {
            Side::Left
        });
    }
    or_no_difference(honest(), Side::Left)
}

fn not_timed_out(e: &vouch_chain::ChainError) -> bool {
    matches!(
        e.revert(),
        Some(Revert::Game(DisputeGameErrors::NotTimedOut(_)))
    )
}

/// The defender's revealed children at each level of its final state, root first, down the path to
/// slot leaf `j` (the walk the game took): what the step's operand paths are proven through.
async fn revealed_walk(market: &Market, g: &GameView, depth: u32) -> Result<Vec<(B256, B256)>> {
    let j = g.slot as usize;
    let mut node = market.revealed_opening(g.job_id, g.attempt).await?;
    let mut walk = Vec::with_capacity(depth as usize);
    for d in 0..depth {
        let (left, right) = market.revealed_node(g.job_id, g.attempt, node).await?;
        node = if (j >> (depth - 1 - d)) & 1 == 1 {
            right
        } else {
            left
        };
        walk.push((left, right));
    }
    Ok(walk)
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
    let party = Party::new(model, Trace::load(trace)?)?;
    let random = strategy == Strategy::Dishonest;
    let (job, attempt, mv, slot) = (g.job_id, g.attempt, g.moves, g.slot as usize);
    let pos = Position {
        depth: u32::from(g.depth),
        index: g.index as usize,
    };
    match g.phase {
        GamePhase::Slots => {
            let node = if g.depth == 0 {
                market.revealed_opening(job, attempt).await?
            } else {
                g.node
            };
            let (left, right) = market.revealed_node(job, attempt, node).await?;
            let side = choose(random, rng, || party.pick_state(pos, left, right))?;
            market.pick(game, mv, side == Side::Right).await?;
            tracing::info!(game = %game, job = %job, depth = g.depth + 1, ?side, "walked the final state: every slot left of the walk agreed");
        }
        GamePhase::Tensor => {
            // At depth 0 the position is the slot's revealed tensor root.
            let node = if g.depth == 0 {
                market
                    .revealed_slot(job, attempt, g.node)
                    .await?
                    .unwrap_or_default()
            } else {
                g.node
            };
            if g.depth < g.leaf_depth {
                let (left, right) = market.revealed_node(job, attempt, node).await?;
                let side = choose(random, rng, || party.pick_tensor(slot, pos, left, right))?;
                market.pick(game, mv, side == Side::Right).await?;
                tracing::info!(game = %game, job = %job, slot, depth = g.depth + 1, ?side, "walked the disputed tensor");
            } else {
                let Some(theirs) = market.revealed_leaf(job, attempt, node).await? else {
                    return Ok(Played::Waiting);
                };
                let offset = if random {
                    rng.random_range(0..32)
                } else {
                    or_no_difference(party.differing_offset(slot, g.index as usize, &theirs), 0)?
                        as u8
                };
                market.name_element(game, mv, offset).await?;
                tracing::info!(game = %game, job = %job, slot, leaf = g.index, offset, "named the disputed element");
            }
        }
        GamePhase::Step => {
            let k = slot - 1;
            let witness = match party.element_of_leaf(
                slot,
                g.index as usize,
                usize::from(g.offset),
            )? {
                Element::Padding => StepWitness::default(),
                Element::Index(e) => {
                    let walk = revealed_walk(market, &g, party.state_depth()).await?;
                    let w = party.witness(model, k, e, &walk)?;
                    // Pre-flight: the witness proves what the contract will check, against the
                    // defender's final state, so the step cannot revert on our data.
                    let final_state = market.revealed_opening(job, attempt).await?;
                    let value = verify_step(model, k, final_state, e, &w)?;
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
