//! The `games` and `game_moves` tables: dispute games folded from the `DisputeGame`'s events, read by
//! the API so anyone can watch a game walk down to one element without an RPC endpoint of their own.

use crate::{
    columns::{hex_bytes, to_i64, to_u64, u256_to_i64},
    error::{CoordinatorError, Result},
};
use sqlx::{Any, AnyConnection, AnyPool, Executor, Row, any::AnyRow};
use vouch_chain::{
    GamePhase, GameStatus,
    bindings::DisputeGame::{
        ChallengeOpened, Descended, ElementNamed, GameResolved, SlotDisputed, StepProven,
    },
};
use vouch_client::{GameMove, GameRecord};

const COLUMNS: &str = "id, job_id, attempt, challenger, bond_wei, status, phase, slot, depth, node_index, \
    element_offset, step_op, step_element, claimed, actual, challenger_paid_wei, defender_paid_wei, burned_wei, \
    opened_block, resolved_block";

fn opt_u64(row: &AnyRow, col: &str) -> Result<Option<u64>> {
    let v: Option<i64> = row.try_get(col)?;
    v.map(to_u64).transpose()
}

/// A row of the table, as served.
fn game_from_row(row: &AnyRow) -> Result<GameRecord> {
    let status: String = row.try_get("status")?;
    let phase: String = row.try_get("phase")?;
    Ok(GameRecord {
        game_id: to_u64(row.try_get("id")?)?,
        job_id: to_u64(row.try_get("job_id")?)?,
        attempt: to_u64(row.try_get("attempt")?)?,
        challenger: row.try_get("challenger")?,
        bond_wei: row.try_get("bond_wei")?,
        status: GameStatus::parse(&status)
            .ok_or_else(|| CoordinatorError::Invalid(format!("games.status = {status}")))?,
        phase: GamePhase::parse(&phase)
            .ok_or_else(|| CoordinatorError::Invalid(format!("games.phase = {phase}")))?,
        slot: opt_u64(row, "slot")?,
        depth: to_u64(row.try_get("depth")?)?,
        index: to_u64(row.try_get("node_index")?)?,
        element_offset: opt_u64(row, "element_offset")?,
        step_op: opt_u64(row, "step_op")?,
        step_element: opt_u64(row, "step_element")?,
        claimed: row.try_get("claimed")?,
        actual: row.try_get("actual")?,
        challenger_paid_wei: row.try_get("challenger_paid_wei")?,
        defender_paid_wei: row.try_get("defender_paid_wei")?,
        burned_wei: row.try_get("burned_wei")?,
        opened_block: to_u64(row.try_get("opened_block")?)?,
        resolved_block: opt_u64(row, "resolved_block")?,
    })
}

/// Where an event sits in the chain: its block and log index (the key of a move).
#[derive(Debug, Clone, Copy)]
pub struct At {
    /// Block number.
    pub block: u64,
    /// Position in the block.
    pub log_index: u64,
}

/// Records a move of `game` (a replay keeps the row) and returns it.
async fn record_move(
    conn: &mut AnyConnection,
    game: i64,
    at: At,
    kind: &str,
    detail: String,
) -> Result<GameMove> {
    sqlx::query(
        "INSERT INTO game_moves (game_id, block, log_index, kind, detail) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (game_id, block, log_index) DO NOTHING",
    )
    .bind(game)
    .bind(to_i64(at.block)?)
    .bind(to_i64(at.log_index)?)
    .bind(kind)
    .bind(&detail)
    .execute(conn)
    .await?;
    Ok(GameMove {
        block: at.block,
        kind: kind.to_owned(),
        detail,
    })
}

/// `ChallengeOpened`: inserts the game as active, at the root of the defender's final state.
pub async fn opened(conn: &mut AnyConnection, e: &ChallengeOpened, at: At) -> Result<GameMove> {
    let game = u256_to_i64(e.gameId)?;
    sqlx::query(
        "INSERT INTO games (id, job_id, attempt, challenger, bond_wei, status, phase, depth, node_index, \
         opened_block) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, $8) ON CONFLICT (id) DO NOTHING",
    )
    .bind(game)
    .bind(u256_to_i64(e.jobId)?)
    .bind(i64::from(e.attempt))
    .bind(hex_bytes(e.challenger.as_slice()))
    .bind(e.bond.to_string())
    .bind(GameStatus::Active.as_str())
    .bind(GamePhase::Slots.as_str())
    .bind(to_i64(at.block)?)
    .execute(&mut *conn)
    .await?;
    let detail = format!(
        "{} challenged result {} of job {} with {} wei",
        hex_bytes(e.challenger.as_slice()),
        e.attempt,
        e.jobId,
        e.bond
    );
    record_move(conn, game, at, "opened", detail).await
}

/// `Descended`: the position the challenger's pick reached, in the final state or in the tensor.
pub async fn descended(conn: &mut AnyConnection, e: &Descended, at: At) -> Result<GameMove> {
    let game = u256_to_i64(e.gameId)?;
    let phase = GamePhase::from_u8(e.phase)
        .ok_or_else(|| CoordinatorError::Invalid(format!("game phase {}", e.phase)))?;
    sqlx::query("UPDATE games SET phase = $2, depth = $3, node_index = $4 WHERE id = $1")
        .bind(game)
        .bind(phase.as_str())
        .bind(i64::from(e.depth))
        .bind(to_i64(e.index)?)
        .execute(&mut *conn)
        .await?;
    let tree = match phase {
        GamePhase::Slots => "the final state",
        GamePhase::Tensor | GamePhase::Step => "the disputed tensor",
    };
    let detail = format!(
        "node {} at depth {} of {tree} ({})",
        e.index, e.depth, e.node
    );
    record_move(conn, game, at, "descended", detail).await
}

/// `SlotDisputed`: the final-state walk reached slot `j`. Slot 0 (the input) and padding slots are
/// decided on the spot (a `GameResolved` follows); an op's slot starts the walk down its tensor.
pub async fn slot_disputed(conn: &mut AnyConnection, e: &SlotDisputed, at: At) -> Result<GameMove> {
    let game = u256_to_i64(e.gameId)?;
    let n: Option<i64> = sqlx::query_scalar(
        "SELECT m.op_count FROM games g JOIN jobs j ON j.id = g.job_id JOIN models m ON m.id = j.model_id \
         WHERE g.id = $1",
    )
    .bind(game)
    .fetch_optional(&mut *conn)
    .await?;
    let n =
        n.ok_or_else(|| CoordinatorError::Invalid(format!("game {} never opened", e.gameId)))?;
    let j = i64::from(e.slot);
    let (phase, detail) = if j == 0 {
        (
            GamePhase::Slots,
            "slot 0 disputed: the contract checks it against the job's input".to_owned(),
        )
    } else if j > n {
        (
            GamePhase::Slots,
            format!("padding slot {j} disputed: the contract checks it is empty"),
        )
    } else {
        (
            GamePhase::Tensor,
            format!(
                "every slot before {j} agreed: op {} is the disputed step",
                j - 1
            ),
        )
    };
    let walk = if phase == GamePhase::Tensor {
        ", depth = 0, node_index = 0"
    } else {
        ""
    };
    let sql = sqlx::AssertSqlSafe(format!(
        "UPDATE games SET phase = $2, slot = $3{walk} WHERE id = $1"
    ));
    sqlx::query(sql)
        .bind(game)
        .bind(phase.as_str())
        .bind(j)
        .execute(&mut *conn)
        .await?;
    record_move(conn, game, at, "slot_disputed", detail).await
}

/// `ElementNamed`: the byte of the leaf whose element the contract will compute.
pub async fn element_named(conn: &mut AnyConnection, e: &ElementNamed, at: At) -> Result<GameMove> {
    let game = u256_to_i64(e.gameId)?;
    sqlx::query("UPDATE games SET phase = $3, element_offset = $2 WHERE id = $1")
        .bind(game)
        .bind(i64::from(e.offset))
        .bind(GamePhase::Step.as_str())
        .execute(&mut *conn)
        .await?;
    let detail = format!("byte {} of the disputed leaf", e.offset);
    record_move(conn, game, at, "element_named", detail).await
}

/// `StepProven`: what the contract computed.
pub async fn step_proven(conn: &mut AnyConnection, e: &StepProven, at: At) -> Result<GameMove> {
    let game = u256_to_i64(e.gameId)?;
    // `type(uint256).max` marks a padding element.
    let element = (e.element != alloy::primitives::U256::MAX)
        .then(|| u256_to_i64(e.element))
        .transpose()?;
    sqlx::query(
        "UPDATE games SET step_op = $2, step_element = $3, claimed = $4, actual = $5 WHERE id = $1",
    )
    .bind(game)
    .bind(i64::from(e.k))
    .bind(element)
    .bind(i64::from(e.claimed))
    .bind(i64::from(e.actual))
    .execute(&mut *conn)
    .await?;
    let what = element.map_or("a padding element".to_owned(), |el| format!("element {el}"));
    let detail = format!(
        "op {}, {what}: the defender claimed {}, the contract computed {}",
        e.k, e.claimed, e.actual
    );
    record_move(conn, game, at, "step_proven", detail).await
}

/// `GameResolved`: the outcome and the money.
pub async fn resolved(conn: &mut AnyConnection, e: &GameResolved, at: At) -> Result<GameMove> {
    let game = u256_to_i64(e.gameId)?;
    let status = GameStatus::from_u8(e.status)
        .ok_or_else(|| CoordinatorError::Invalid(format!("game status {}", e.status)))?;
    sqlx::query(
        "UPDATE games SET status = $2, challenger_paid_wei = $3, defender_paid_wei = $4, burned_wei = $5, \
         resolved_block = $6 WHERE id = $1",
    )
    .bind(game)
    .bind(status.as_str())
    .bind(e.challengerPaid.to_string())
    .bind(e.defenderPaid.to_string())
    .bind(e.burned.to_string())
    .bind(to_i64(at.block)?)
    .execute(&mut *conn)
    .await?;
    let detail = format!(
        "{}: challenger credited {} wei, defender {} wei, {} wei burned",
        status.as_str(),
        e.challengerPaid,
        e.defenderPaid,
        e.burned
    );
    record_move(conn, game, at, "resolved", detail).await
}

/// Which games to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GameFilter {
    /// Only games in this status.
    pub status: Option<GameStatus>,
    /// Only games on this job.
    pub job_id: Option<u64>,
    /// At most this many.
    pub limit: u32,
}

/// Games matching `filter`, newest first.
pub async fn list(pool: &AnyPool, filter: GameFilter) -> Result<Vec<GameRecord>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM games WHERE ($1 = '' OR status = $1) AND ($2 < 0 OR job_id = $2) \
         ORDER BY id DESC LIMIT $3"
    ));
    sqlx::query(sql)
        .bind(filter.status.map_or("", GameStatus::as_str))
        .bind(filter.job_id.map(to_i64).transpose()?.unwrap_or(-1))
        .bind(i64::from(filter.limit))
        .fetch_all(pool)
        .await?
        .iter()
        .map(game_from_row)
        .collect()
}

/// One game, read with `db` (the pool, or a connection inside a transaction).
pub async fn record<'c>(
    db: impl Executor<'c, Database = Any>,
    id: u64,
) -> Result<Option<GameRecord>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM games WHERE id = $1"));
    let row = sqlx::query(sql)
        .bind(to_i64(id)?)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(game_from_row).transpose()
}

/// One game with its moves in chain order.
pub async fn get(pool: &AnyPool, id: u64) -> Result<Option<(GameRecord, Vec<GameMove>)>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM games WHERE id = $1"));
    let Some(row) = sqlx::query(sql)
        .bind(to_i64(id)?)
        .fetch_optional(pool)
        .await?
    else {
        return Ok(None);
    };
    let moves = sqlx::query(
        "SELECT block, kind, detail FROM game_moves WHERE game_id = $1 ORDER BY block, log_index",
    )
    .bind(to_i64(id)?)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(GameMove {
            block: to_u64(r.try_get("block")?)?,
            kind: r.try_get("kind")?,
            detail: r.try_get("detail")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    Ok(Some((game_from_row(&row)?, moves)))
}

/// Number of games in each status (every status listed, zeros included).
pub async fn count_by_status(pool: &AnyPool) -> Result<Vec<(GameStatus, u64)>> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM games GROUP BY status")
            .fetch_all(pool)
            .await?;
    GameStatus::ALL
        .into_iter()
        .map(|s| {
            let n = rows
                .iter()
                .find(|(name, _)| name == s.as_str())
                .map_or(0, |(_, n)| *n);
            Ok((s, to_u64(n)?))
        })
        .collect()
}
