//! Defending results: the moves of one game (PROTOCOL §6), answered from the trace the worker stored
//! before posting. The contract says what each game waits for (`pendingReveal`); the worker reveals
//! exactly that, proven against its own commitments. Reveals are cached per result on chain, so twenty
//! games on one result cost the defender no more than one.
//!
//! This file is the game-specific seam of the defence loop ([`crate::defender`]): [`read`] reads where
//! a game stands ([`GameView::deadline`] says when the defender's clock runs out), and [`answer`]
//! turns a position into the transaction(s) to send. The loop owns everything else (which games, in which
//! order, the cached `Party` per trace, concurrent sending with pipelined nonces).

use crate::error::Result;
use alloy::{
    network::TransactionBuilder,
    primitives::{Address, B256, U256},
    rpc::types::TransactionRequest,
    sol_types::SolCall,
};
use vouch_chain::{GameStatus, GameView, Market, PendingReveal, Tree, bindings::DisputeGame};
use vouch_core::dispute::Disputant;

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

fn call(game: Address, data: Vec<u8>) -> TransactionRequest {
    TransactionRequest::default().with_to(game).with_input(data)
}

/// The transaction to the dispute game at `game` that claims a timeout win in game `id`.
pub fn claim_timeout(game: Address, id: U256) -> TransactionRequest {
    call(game, DisputeGame::timeoutCall { gameId: id }.abi_encode())
}

/// The transaction that answers `need` in game `g` (of the dispute game at `game`), from `party`
/// (the worker's own trace, of either kind of model).
pub fn answer(
    game: Address,
    party: &impl Disputant,
    g: &GameView,
    need: PendingReveal,
) -> Result<Vec<TransactionRequest>> {
    let job = g.job_id;
    let slot = g.slot as usize;
    let data = match need {
        PendingReveal::Opening => {
            let o = party.opening();
            tracing::info!(game = %g.id, job = %job, "revealing the final state σ_n with the output binding");
            DisputeGame::revealOpeningCall {
                jobId: job,
                finalState: o.final_state,
                outputPath: o.output_path,
            }
            .abi_encode()
        }
        PendingReveal::Node(tree, node) => {
            let (left, right) = match tree {
                Tree::State => party.state_children(&node)?,
                Tree::Tensor => party.tensor_children(slot, &node)?,
            };
            tracing::info!(game = %g.id, job = %job, ?tree, depth = g.depth, index = g.index, "revealing a node");
            DisputeGame::revealNodeCall {
                jobId: job,
                tree: tree as u8,
                node,
                left,
                right,
            }
            .abi_encode()
        }
        PendingReveal::Slot(leaf) => {
            let tensor_root = party.slot_root(&leaf)?;
            tracing::info!(game = %g.id, job = %job, slot, "revealing the tensor root of the disputed slot");
            DisputeGame::revealSlotCall {
                jobId: job,
                leaf,
                tensorRoot: tensor_root,
            }
            .abi_encode()
        }
        PendingReveal::Leaf(leaf) => {
            let data = party.tensor_leaf(slot, &leaf)?;
            tracing::info!(game = %g.id, job = %job, slot, leaf = g.index, "revealing a tensor leaf");
            DisputeGame::revealLeafCall {
                jobId: job,
                leaf,
                data: B256::from(data),
            }
            .abi_encode()
        }
    };
    Ok(vec![call(game, data)])
}
