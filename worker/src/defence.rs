//! Defending results: the moves of one game (PROTOCOL §6), answered from the trace the worker stored
//! before posting. The contract says what each game waits for (`pendingReveal`); the worker reveals
//! exactly that, proven against its own commitments. Reveals are cached per result on chain, so twenty
//! games on one result cost the defender no more than one.
//!
//! This file is the game-specific seam of the defence loop ([`crate::defender`]): [`read`] reads where
//! a game stands, [`deadline`] says when the defender's clock runs out, and [`answer`] turns a
//! position into the transaction(s) to send. The loop owns everything else (which games, in which
//! order, the cached [`Party`] per trace, concurrent sending with pipelined nonces).

use crate::error::Result;
use alloy::{
    network::TransactionBuilder,
    primitives::{Address, B256, U256},
    rpc::types::TransactionRequest,
    sol_types::SolCall,
};
use vouch_chain::{GameStatus, GameView, Market, PendingReveal, bindings::JobMarket};
use vouch_core::dispute::{Party, TensorPosition};

/// Where one game stands for its defender.
#[derive(Debug, Clone)]
pub struct Position {
    /// The game as the contract stores it.
    pub game: GameView,
    /// Whether the disputed result was overturned by another game (this one is then moot).
    pub overturned: bool,
    /// What the game waits for from the defender; `None` when the challenger is to move.
    pub need: Option<PendingReveal>,
}

/// What the defender does next in one game.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The game is over (or moot): forget it.
    Over(GameStatus),
    /// The challenger is to move: claim the win if its time ran out.
    ClaimTimeout,
    /// The defender owes this reveal.
    Answer(PendingReveal),
}

/// Reads where game `id` stands.
pub async fn read(market: &Market, id: U256) -> Result<Position> {
    let game = market.game(id).await?;
    if game.status != GameStatus::Active {
        return Ok(Position {
            game,
            overturned: false,
            need: None,
        });
    }
    let (dispute, need) = tokio::try_join!(
        market.dispute(game.job_id, game.attempt),
        market.pending_reveal(id)
    )?;
    Ok(Position {
        game,
        overturned: dispute.overturned,
        need,
    })
}

impl Position {
    /// What the defender does next.
    pub fn next(&self) -> Next {
        if self.game.status != GameStatus::Active {
            return Next::Over(self.game.status);
        }
        if self.overturned {
            return Next::Over(GameStatus::Moot);
        }
        self.need.map_or(Next::ClaimTimeout, Next::Answer)
    }
}

/// Unix time at which the defender's clock in `g` runs out if it does not answer (its clock runs
/// from the challenger's last move; the contract never gives less than `clock_extension`).
pub fn deadline(g: &GameView, clock_extension: u64) -> u64 {
    g.last_move_at
        .saturating_add(g.defender_left.max(clock_extension))
}

fn call(market: Address, data: Vec<u8>) -> TransactionRequest {
    TransactionRequest::default()
        .with_to(market)
        .with_input(data)
}

/// The transaction that claims a timeout win in game `id`.
pub fn claim_timeout(market: Address, id: U256) -> TransactionRequest {
    call(market, JobMarket::timeoutCall { gameId: id }.abi_encode())
}

/// The transaction(s) that answer `need` in game `g`, from `party` (the worker's own trace).
pub fn answer(
    market: Address,
    party: &Party<'_>,
    g: &GameView,
    need: PendingReveal,
) -> Result<Vec<TransactionRequest>> {
    let job = g.job_id;
    let n = party.model().op_count();
    let pos = TensorPosition {
        depth: u32::from(g.depth),
        index: g.index as usize,
    };
    let data = match need {
        PendingReveal::State(i) if i as usize == n => {
            let o = party.opening();
            tracing::info!(game = %g.id, job = %job, index = i, "revealing σ_n with the output binding");
            JobMarket::revealStateCall {
                jobId: job,
                index: i,
                stateRoot: o.state.root,
                tracePath: o.state.path,
                outputPath: o.output_path,
            }
            .abi_encode()
        }
        PendingReveal::State(i) => {
            let r = party.state_reveal(i as usize)?;
            tracing::info!(game = %g.id, job = %job, index = i, "revealing state σ_{i}");
            JobMarket::revealStateCall {
                jobId: job,
                index: i,
                stateRoot: r.root,
                tracePath: r.path,
                outputPath: Vec::new(),
            }
            .abi_encode()
        }
        PendingReveal::Transition(k) => {
            let t = party.transition(k as usize)?;
            tracing::info!(game = %g.id, job = %job, op = k, "revealing the tensor op {k} wrote");
            JobMarket::revealTransitionCall {
                jobId: job,
                k,
                tensorRoot: t.tensor_root,
                statePath: t.path,
            }
            .abi_encode()
        }
        PendingReveal::Node(hash) => {
            let (left, right) = party.children(g.lo as usize, pos)?;
            tracing::info!(game = %g.id, job = %job, depth = g.depth, index = g.index, "revealing tensor node");
            JobMarket::revealNodeCall {
                jobId: job,
                node: hash,
                left,
                right,
            }
            .abi_encode()
        }
        PendingReveal::Leaf(hash) => {
            let data = party.leaf(g.lo as usize, g.index as usize)?;
            tracing::info!(game = %g.id, job = %job, leaf = g.index, "revealing tensor leaf");
            JobMarket::revealLeafCall {
                jobId: job,
                leaf: hash,
                data: B256::from(data),
            }
            .abi_encode()
        }
    };
    Ok(vec![call(market, data)])
}
