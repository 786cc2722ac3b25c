//! Who earned and who lost what: the `results` table (every result a job has had, with how it
//! ended) written from market and game events, and the per-address sums `GET /v1/accounts` serves,
//! derived from it and the games.

use crate::{
    columns::{hex_bytes, to_i64, u256_to_i64},
    error::{CoordinatorError, Result},
};
use alloy::primitives::{I256, U256};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, AnyPool, Row};
use std::collections::BTreeMap;
use vouch_chain::{
    GameStatus,
    bindings::{
        DisputeGame::ResultOverturned,
        JobMarket::{JobSettled, ResultSubmitted},
    },
};

/// A worker or challenger as served by `GET /v1/accounts`: what it did, earned and lost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The address.
    pub address: String,
    /// Results it submitted (as a worker).
    pub results_submitted: u64,
    /// Of those, results that settled.
    pub results_settled: u64,
    /// Of those, results overturned in a dispute (their bonds slashed).
    pub results_overturned: u64,
    /// Games it opened (as a challenger).
    pub games_challenged: u64,
    /// Of those, games it won (the result was overturned).
    pub games_won: u64,
    /// Of those, games it lost (its bond was slashed).
    pub games_lost: u64,
    /// Games opened against its results.
    pub games_defended: u64,
    /// Fees of its settled results, net of royalties, in wei (its bonds back are not counted).
    pub fees_wei: String,
    /// What disputes paid it beyond its own bonds, in wei: a winning or moot challenger's share of
    /// the slashed worker bond, a winning defender's part of the challenger's bond.
    pub rewards_wei: String,
    /// Bonds it lost, in wei: results overturned, challenges lost.
    pub slashed_wei: String,
    /// `fees_wei + rewards_wei − slashed_wei`, in wei (negative with a leading `-`).
    pub net_wei: String,
}

/// `ResultSubmitted`: records result `attempt` of the job as submitted (a replay keeps the row).
pub async fn result_submitted(
    conn: &mut AnyConnection,
    e: &ResultSubmitted,
    block: u64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO results (job_id, attempt, worker, submitted_block, status) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (job_id, attempt) DO NOTHING",
    )
    .bind(u256_to_i64(e.jobId)?)
    .bind(i64::from(e.attempt))
    .bind(hex_bytes(e.worker.as_slice()))
    .bind(to_i64(block)?)
    .bind("submitted")
    .execute(conn)
    .await?;
    Ok(())
}

/// `JobSettled`: the result stood; its worker was credited `workerPayout`.
pub async fn result_settled(conn: &mut AnyConnection, e: &JobSettled) -> Result<()> {
    sqlx::query(
        "UPDATE results SET status = 'settled', payout_wei = $3 WHERE job_id = $1 AND attempt = $2",
    )
    .bind(u256_to_i64(e.jobId)?)
    .bind(i64::from(e.attempt))
    .bind(e.workerPayout.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// `ResultOverturned`: the result lost a game; its worker's whole bond (`pool + burned`) is gone.
/// Returns the worker, if the result was indexed.
pub async fn result_overturned(
    conn: &mut AnyConnection,
    e: &ResultOverturned,
) -> Result<Option<String>> {
    let job = u256_to_i64(e.jobId)?;
    let attempt = i64::from(e.attempt);
    sqlx::query(
        "UPDATE results SET status = 'overturned', slashed_wei = $3 WHERE job_id = $1 AND attempt = $2",
    )
    .bind(job)
    .bind(attempt)
    .bind((e.pool + e.burned).to_string())
    .execute(&mut *conn)
    .await?;
    Ok(
        sqlx::query_scalar("SELECT worker FROM results WHERE job_id = $1 AND attempt = $2")
            .bind(job)
            .bind(attempt)
            .fetch_optional(conn)
            .await?,
    )
}

/// Which accounts to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Addresses that submitted at least one result.
    Worker,
    /// Addresses that opened at least one game.
    Challenger,
}

impl Role {
    /// From its name (`worker`, `challenger`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "worker" => Some(Self::Worker),
            "challenger" => Some(Self::Challenger),
            _ => None,
        }
    }
}

/// Running sums of one address, in wei.
#[derive(Debug, Default)]
struct Tally {
    account: Account,
    fees: U256,
    rewards: U256,
    slashed: U256,
}

/// The tally of `address`, started at zero.
fn tally(tallies: &mut BTreeMap<String, Tally>, address: String) -> &mut Tally {
    tallies.entry(address.clone()).or_insert_with(|| Tally {
        account: Account {
            address,
            ..Account::default()
        },
        ..Tally::default()
    })
}

/// A wei amount column (NULL: nothing).
fn wei(raw: Option<String>, what: &str) -> Result<U256> {
    raw.map_or(Ok(U256::ZERO), |s| {
        s.parse()
            .map_err(|_| CoordinatorError::Invalid(format!("{what} = {s:?}")))
    })
}

/// Every worker and challenger (or those of `role`), highest net first, with its sums.
pub async fn list(pool: &AnyPool, role: Option<Role>) -> Result<Vec<Account>> {
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let results = sqlx::query(
        "SELECT r.worker, r.status, r.slashed_wei, j.fee_wei, j.royalty_wei FROM results r \
         JOIN jobs j ON j.id = r.job_id",
    )
    .fetch_all(pool)
    .await?;
    for row in &results {
        let t = tally(&mut tallies, row.try_get("worker")?);
        t.account.results_submitted += 1;
        match row.try_get::<String, _>("status")?.as_str() {
            "settled" => {
                t.account.results_settled += 1;
                let fee = wei(row.try_get("fee_wei")?, "jobs.fee_wei")?;
                let royalty = wei(row.try_get("royalty_wei")?, "jobs.royalty_wei")?;
                t.fees += fee.saturating_sub(royalty);
            }
            "overturned" => {
                t.account.results_overturned += 1;
                t.slashed += wei(row.try_get("slashed_wei")?, "results.slashed_wei")?;
            }
            _ => {}
        }
    }
    let games = sqlx::query(
        "SELECT g.challenger, g.status, g.bond_wei, g.challenger_paid_wei, g.defender_paid_wei, \
         r.worker AS defender FROM games g LEFT JOIN results r ON r.job_id = g.job_id AND r.attempt = g.attempt",
    )
    .fetch_all(pool)
    .await?;
    for row in &games {
        let status: String = row.try_get("status")?;
        let status = GameStatus::parse(&status)
            .ok_or_else(|| CoordinatorError::Invalid(format!("games.status = {status}")))?;
        let bond = wei(Some(row.try_get("bond_wei")?), "games.bond_wei")?;
        let t = tally(&mut tallies, row.try_get("challenger")?);
        t.account.games_challenged += 1;
        match status {
            GameStatus::Active => {}
            GameStatus::ChallengerWon | GameStatus::Moot => {
                t.account.games_won += u64::from(status == GameStatus::ChallengerWon);
                let paid = wei(
                    row.try_get("challenger_paid_wei")?,
                    "games.challenger_paid_wei",
                )?;
                t.rewards += paid.saturating_sub(bond);
            }
            GameStatus::DefenderWon => {
                t.account.games_lost += 1;
                t.slashed += bond;
            }
        }
        if let Some(defender) = row.try_get::<Option<String>, _>("defender")? {
            let t = tally(&mut tallies, defender);
            t.account.games_defended += 1;
            if status == GameStatus::DefenderWon {
                t.rewards += wei(row.try_get("defender_paid_wei")?, "games.defender_paid_wei")?;
            }
        }
    }
    let mut accounts: Vec<(I256, Account)> = tallies
        .into_values()
        .filter(|t| match role {
            None => true,
            Some(Role::Worker) => t.account.results_submitted > 0,
            Some(Role::Challenger) => t.account.games_challenged > 0,
        })
        .map(|t| {
            let earned = signed(t.fees)? + signed(t.rewards)?;
            let net = earned - signed(t.slashed)?;
            let account = Account {
                fees_wei: t.fees.to_string(),
                rewards_wei: t.rewards.to_string(),
                slashed_wei: t.slashed.to_string(),
                net_wei: net.to_string(),
                ..t.account
            };
            Ok((net, account))
        })
        .collect::<Result<_>>()?;
    accounts.sort_by(|(a, x), (b, y)| b.cmp(a).then_with(|| x.address.cmp(&y.address)));
    Ok(accounts.into_iter().map(|(_, a)| a).collect())
}

/// A sum of wei as a signed number (sums of real balances stay far below 2^255).
fn signed(v: U256) -> Result<I256> {
    I256::try_from(v).map_err(|_| CoordinatorError::Invalid(format!("{v} wei overflows")))
}
