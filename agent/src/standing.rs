//! Where an agent stands, read from the chain: its balance, its credit in the market, and the
//! clocks of the games it plays (the games come from its state file). What `vouch worker status`
//! prints and the agents' metrics report.

use crate::error::Result;
use alloy::primitives::{Address, U256};
use futures::future::try_join_all;
use vouch_chain::{GameStatus, Market, Side};

/// One open game and its clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// The game.
    pub game: U256,
    /// The disputed job.
    pub job: U256,
    /// The disputed result of the job.
    pub attempt: u32,
    /// Whose move it is.
    pub to_move: Side,
    /// Seconds the defender has left: running down from the last challenger move while it is to
    /// move, its whole allowance while it waits.
    pub defender_secs: u64,
    /// Seconds the challenger has left, the same way (a lower bound while it is to move: its clock
    /// starts when the reveal it answers landed).
    pub challenger_secs: u64,
}

impl Clock {
    /// Seconds `side` has left.
    pub fn left(&self, side: Side) -> u64 {
        match side {
            Side::Defender => self.defender_secs,
            Side::Challenger => self.challenger_secs,
        }
    }
}

/// An agent's account and games, as the chain has them now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The agent's account.
    pub address: Address,
    /// Which side of its games it plays.
    pub side: Side,
    /// Its balance, wei.
    pub balance: U256,
    /// Its credit in the market (withdrawable), wei.
    pub credits: U256,
    /// The chain's time (the latest block's timestamp) the clocks are counted at.
    pub now: u64,
    /// Its games still active on chain, least time left on its own clock first.
    pub games: Vec<Clock>,
}

impl Standing {
    /// Seconds left on the agent's own clock in its most urgent game.
    pub fn most_urgent(&self) -> Option<u64> {
        self.games.first().map(|c| c.left(self.side))
    }
}

/// The clocks of game `id` at time `now`, if it is still active.
async fn clock(market: &Market, id: U256, now: u64, ext: u64) -> Result<Option<Clock>> {
    let game = market.game(id).await?;
    if game.status != GameStatus::Active {
        return Ok(None);
    }
    let to_move = match market.pending_reveal(id).await? {
        Some(_) => Side::Defender,
        None => Side::Challenger,
    };
    let left = |s: Side| {
        if s == to_move {
            game.deadline(s, ext).saturating_sub(now)
        } else {
            game.allowance(s, ext)
        }
    };
    Ok(Some(Clock {
        game: id,
        job: game.job_id,
        attempt: game.attempt,
        to_move,
        defender_secs: left(Side::Defender),
        challenger_secs: left(Side::Challenger),
    }))
}

/// Reads the standing of `market`'s account, playing `side` in `games` (ids from its state file;
/// games over on chain are left out).
pub async fn read(
    market: &Market,
    side: Side,
    games: impl IntoIterator<Item = U256>,
) -> Result<Standing> {
    let address = market.client().address();
    let (balance, credits, now, params) = tokio::try_join!(
        market.client().balance(),
        market.credits(address),
        market.chain_time(),
        market.params(),
    )?;
    let ext = params.clock_extension;
    let clocks = try_join_all(games.into_iter().map(|id| clock(market, id, now, ext))).await?;
    let mut games: Vec<Clock> = clocks.into_iter().flatten().collect();
    games.sort_by_key(|c| (c.left(side), c.game));
    Ok(Standing {
        address,
        side,
        balance,
        credits,
        now,
        games,
    })
}
