//! Defending results: every game opened against one of this worker's results is answered from the
//! trace the worker stored before posting (PROTOCOL §6). The contract says what each game waits for
//! (`pendingReveal`); the worker reveals exactly that, proven against its own commitments. Reveals
//! are cached per result on chain, so twenty games on one result cost the defender no more than one.

use crate::error::Result;
use alloy::primitives::U256;
use std::path::Path;
use vouch_chain::{
    GameStatus, Market, PendingReveal, Revert, bindings::JobMarket::JobMarketErrors,
};
use vouch_core::{
    Model, Trace,
    dispute::{Party, TensorPosition},
};

/// What one defence step did for one game.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defended {
    /// The game is still on; `revealed` says whether this step sent a reveal.
    Playing {
        /// A reveal was sent.
        revealed: bool,
    },
    /// The game is over (or moot): the worker can forget it.
    Over(GameStatus),
}

/// Answers game `game` once: reveals what it waits for from the trace stored at `trace` (read, and
/// its trees built, only when a reveal is due), or claims a timeout win when the challenger ran out
/// of time.
pub async fn defend(market: &Market, model: &Model, trace: &Path, game: U256) -> Result<Defended> {
    let g = market.game(game).await?;
    if g.status != GameStatus::Active {
        return Ok(Defended::Over(g.status));
    }
    if market.dispute(g.job_id, g.attempt).await?.overturned {
        return Ok(Defended::Over(GameStatus::Moot));
    }
    let Some(need) = market.pending_reveal(game).await? else {
        // The challenger is to move: it may have run out of time.
        return match market.timeout(game).await {
            Ok(_) => Ok(Defended::Over(market.game(game).await?.status)),
            Err(e)
                if matches!(
                    e.revert(),
                    Some(Revert::Market(JobMarketErrors::NotTimedOut(_)))
                ) =>
            {
                Ok(Defended::Playing { revealed: false })
            }
            Err(e) => Err(e.into()),
        };
    };
    let trace = Trace::load(trace)?;
    let party = Party::new(model, &trace)?;
    let job = g.job_id;
    let pos = TensorPosition {
        depth: u32::from(g.depth),
        index: g.index as usize,
    };
    match need {
        PendingReveal::State(i) if i as usize == model.op_count() => {
            let o = party.opening();
            market
                .reveal_state(job, i, o.state.root, o.state.path, o.output_path)
                .await?;
            tracing::info!(game = %game, job = %job, index = i, "revealed σ_n with the output binding");
        }
        PendingReveal::State(i) => {
            let r = party.state_reveal(i as usize)?;
            market
                .reveal_state(job, i, r.root, r.path, Vec::new())
                .await?;
            tracing::info!(game = %game, job = %job, index = i, "revealed state σ_{i}");
        }
        PendingReveal::Transition(k) => {
            let t = party.transition(k as usize)?;
            market
                .reveal_transition(job, k, t.tensor_root, t.path)
                .await?;
            tracing::info!(game = %game, job = %job, op = k, "revealed the tensor op {k} wrote");
        }
        PendingReveal::Node(hash) => {
            let (left, right) = party.children(g.lo as usize, pos)?;
            market.reveal_node(job, hash, left, right).await?;
            tracing::info!(game = %game, job = %job, depth = g.depth, index = g.index, "revealed tensor node");
        }
        PendingReveal::Leaf(hash) => {
            let data = party.leaf(g.lo as usize, g.index as usize)?;
            market.reveal_leaf(job, hash, data).await?;
            tracing::info!(game = %game, job = %job, leaf = g.index, "revealed tensor leaf");
        }
    }
    Ok(Defended::Playing { revealed: true })
}
