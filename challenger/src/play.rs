//! One challenger move in one game, decided from the challenger's own trace (PROTOCOL §6): pick the
//! leftmost child of the defender's final state that differs from its own, then a differing child
//! of the disputed slot's tensor, name the byte of the leaf that differs, then prove that element on
//! chain. Every move names the position it answers, so a move computed from a stale read cannot
//! land elsewhere. The walk is one function for every kind of model ([`Disputant`]); the step is
//! each kind's own ([`play`] for tensor models, [`play_llm`] for language models).

use crate::{error::Result, strategy::Strategy};
use alloy::primitives::{B256, U256};
use rand::Rng;
use std::path::Path;
use vouch_chain::{
    GamePhase, GameStatus, GameView, Market, Revert, bindings::DisputeGame::DisputeGameErrors,
};
use vouch_core::{
    CoreError, Model, Trace,
    dispute::{Disputant, Element, Party, Position, Side, StepWitness, verify_step},
};
use vouch_llm::{
    IntModel,
    trace::{LlmWitness, LmParty, ModelCommitment, verify},
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

/// Whose turn a game is at.
#[derive(Debug)]
pub enum Turn {
    /// The challenger's: the game as it stands.
    Ours(Box<GameView>),
    /// Nobody's for now, or the game is over.
    Done(Played),
}

/// Reads game `game` and settles what needs no trace: a game over, a moot one (claimed), a defender
/// that owes data (its timeout claimed once due), a stalling challenger. Only a [`Turn::Ours`] needs
/// the challenger's party: read this first, build the party after (a language model's is a whole
/// generation).
pub async fn turn(market: &Market, game: U256, strategy: Strategy) -> Result<Turn> {
    let g = market.game(game).await?;
    if g.status != GameStatus::Active {
        return Ok(Turn::Done(Played::Over(g.status)));
    }
    if market.dispute(g.job_id, g.attempt).await?.overturned {
        market.claim_moot(game).await?;
        tracing::info!(game = %game, "result overturned by another game: bond and share claimed");
        return Ok(Turn::Done(Played::Over(GameStatus::Moot)));
    }
    if market.pending_reveal(game).await?.is_some() {
        // The defender owes data: it may have run out of time.
        return match market.timeout(game).await {
            Ok(_) => {
                let status = market.game(game).await?.status;
                tracing::info!(game = %game, status = status.as_str(), "the defender ran out of time");
                Ok(Turn::Done(Played::Over(status)))
            }
            Err(e) if not_timed_out(&e) => Ok(Turn::Done(Played::Waiting)),
            Err(e) => Err(e.into()),
        };
    }
    if strategy == Strategy::Stall {
        return Ok(Turn::Done(Played::Waiting));
    }
    Ok(Turn::Ours(Box::new(g)))
}

/// One move of the walk (phases Slots and Tensor) from `party`'s own run, the same for every kind of
/// model; `None` in phase Step, which each kind proves its own way.
async fn walk(
    market: &Market,
    party: &impl Disputant,
    g: &GameView,
    strategy: Strategy,
    rng: &mut impl Rng,
) -> Result<Option<Played>> {
    let random = strategy == Strategy::Dishonest;
    let (game, job, attempt, mv, slot) = (g.id, g.job_id, g.attempt, g.moves, g.slot as usize);
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
                    return Ok(Some(Played::Waiting));
                };
                let offset = if random {
                    let width = party.element_width(slot);
                    (width * rng.random_range(0..32 / width)) as u8
                } else {
                    or_no_difference(party.differing_offset(slot, g.index as usize, &theirs), 0)?
                        as u8
                };
                market.name_element(game, mv, offset).await?;
                tracing::info!(game = %game, job = %job, slot, leaf = g.index, offset, "named the disputed element");
            }
        }
        GamePhase::Step => return Ok(None),
    }
    Ok(Some(Played::Moved))
}

/// The game after its step: over, with the status the step decided.
async fn stepped(market: &Market, g: &GameView) -> Result<Played> {
    let status = market.game(g.id).await?.status;
    tracing::info!(game = %g.id, job = %g.job_id, status = status.as_str(), "one step executed on chain");
    Ok(Played::Over(status))
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
    let g = match turn(market, game, strategy).await? {
        Turn::Ours(g) => g,
        Turn::Done(played) => return Ok(played),
    };
    let party = Party::new(model, Trace::load(trace)?)?;
    if let Some(played) = walk(market, &party, &g, strategy, rng).await? {
        return Ok(played);
    }
    let (job, attempt, slot) = (g.job_id, g.attempt, g.slot as usize);
    let k = slot - 1;
    let witness = match party.element_of_leaf(slot, g.index as usize, usize::from(g.offset))? {
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
    stepped(market, &g).await
}

/// Plays one move of game `game` over a language model's result with `strategy`, from `party`, the
/// challenger's own trace of the job at the claimed output's length (`Stop::Length(G)`, so both
/// state trees have one shape); `commitment` is `model`'s, for the pre-flight check of the step.
/// The party is built beforehand: a caller that builds it on demand reads [`turn`] first and plays
/// with [`move_llm`] (as the play loop does).
pub async fn play_llm(
    market: &Market,
    model: &IntModel,
    commitment: &ModelCommitment,
    party: &LmParty,
    game: U256,
    strategy: Strategy,
    rng: &mut impl Rng,
) -> Result<Played> {
    match turn(market, game, strategy).await? {
        Turn::Ours(g) => move_llm(market, model, commitment, party, &g, strategy, rng).await,
        Turn::Done(played) => Ok(played),
    }
}

/// The challenger's move in game `g` over a language model's result, once [`turn`] said it is the
/// challenger's (see [`play_llm`]).
pub async fn move_llm(
    market: &Market,
    model: &IntModel,
    commitment: &ModelCommitment,
    party: &LmParty,
    g: &GameView,
    strategy: Strategy,
    rng: &mut impl Rng,
) -> Result<Played> {
    let game = g.id;
    if let Some(played) = walk(market, party, g, strategy, rng).await? {
        return Ok(played);
    }
    let (job, attempt, slot) = (g.job_id, g.attempt, g.slot as usize);
    let witness = match party.element_of_leaf(slot, g.index as usize, usize::from(g.offset))? {
        Element::Padding => LlmWitness::default(),
        Element::Index(e) => {
            let walk = revealed_walk(market, g, party.state_depth()).await?;
            let w = party.witness(model, slot, e, &walk)?;
            // Pre-flight, as for tensor models: the witness proves what the contract will check.
            let final_state = market.revealed_opening(job, attempt).await?;
            let value = verify(
                model,
                commitment,
                party.trace().layout,
                final_state,
                slot,
                e,
                &w,
            )?;
            tracing::info!(game = %game, job = %job, slot, element = e, value, "proving the element on chain");
            w
        }
    };
    market.step_llm(game, (&witness).into()).await?;
    stepped(market, g).await
}
