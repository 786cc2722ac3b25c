//! The `jobs` table: rows written from market events (and from the coordinator's own `postJob`
//! receipts, through the same code), read by the API.

use crate::{
    columns::{
        JOB_STATUSES, hex_bytes, int32_row_from_hex, parse_job_status, tensor_from_hex, to_i64,
        to_u64, u256_to_i64,
    },
    error::{CoordinatorError, Result},
};
use sqlx::{Any, AnyConnection, AnyPool, Executor, Row, any::AnyRow};
use vouch_chain::{
    JobStatus,
    bindings::{
        DisputeGame::ResultOverturned,
        JobMarket::{JobPosted, JobRefunded, JobSettled, ResultSubmitted, UnusedTokensRefunded},
    },
};
use vouch_client::{JobRecord, ModelKind, TextJob};
use vouch_llm::trace::Job as LmJob;

/// The jobs' columns, with their model's kind (`NULL` for a model not indexed), read from `FROM_JOBS`.
const COLUMNS: &str = "j.id, j.model_id, j.status, j.poster, j.fee_wei, j.deadline, j.input_root, j.input_hex, j.worker, \
    j.output_root, j.trace_root, j.submitted_at, j.output_hex, j.worker_payout_wei, j.royalty_wei, j.refund_wei, \
    j.posted_tx, j.posted_block, m.kind";

/// The jobs, each beside its model.
const FROM_JOBS: &str = "jobs j LEFT JOIN models m ON m.id = j.model_id";

/// A language model's job fields from its stored input and output rows (int32 big-endian); `None`
/// for rows no language-model job has (the market checks both before it takes them).
fn text_job(input_hex: &str, output_hex: Option<&str>) -> Result<Option<TextJob>> {
    let Some(input) = int32_row_from_hex(input_hex)? else {
        return Ok(None);
    };
    let Ok(job) = LmJob::from_input(&input) else {
        return Ok(None);
    };
    let answer_ids = match output_hex.map(int32_row_from_hex).transpose()?.flatten() {
        Some(row) => row
            .into_iter()
            .map(|v| u32::try_from(v).ok())
            .collect::<Option<Vec<_>>>(),
        None => None,
    };
    Ok(Some(TextJob {
        prompt_ids: job.prompt,
        max_tokens: u32::try_from(job.max_new).unwrap_or(u32::MAX),
        answer_ids,
        answer: None,
    }))
}

/// A row of the table, as served.
fn job_from_row(row: &AnyRow) -> Result<JobRecord> {
    let status: String = row.try_get("status")?;
    let status = parse_job_status(&status)
        .ok_or_else(|| CoordinatorError::Invalid(format!("jobs.status = {status}")))?;
    let input_hex: String = row.try_get("input_hex")?;
    let output_hex: Option<String> = row.try_get("output_hex")?;
    let submitted_at: Option<i64> = row.try_get("submitted_at")?;
    let kind: Option<String> = row.try_get("kind")?;
    let text = match kind.as_deref().and_then(ModelKind::parse) {
        Some(ModelKind::Llm) => text_job(&input_hex, output_hex.as_deref())?,
        _ => None,
    };
    Ok(JobRecord {
        job_id: to_u64(row.try_get("id")?)?,
        model_id: to_u64(row.try_get("model_id")?)?,
        status,
        poster: row.try_get("poster")?,
        fee_wei: row.try_get("fee_wei")?,
        deadline: to_u64(row.try_get("deadline")?)?,
        input_root: row.try_get("input_root")?,
        input: tensor_from_hex(&input_hex)?,
        worker: row.try_get("worker")?,
        output_root: row.try_get("output_root")?,
        trace_root: row.try_get("trace_root")?,
        submitted_at: submitted_at.map(to_u64).transpose()?,
        output: output_hex.as_deref().map(tensor_from_hex).transpose()?,
        settled: status == JobStatus::Settled,
        worker_payout_wei: row.try_get("worker_payout_wei")?,
        royalty_wei: row.try_get("royalty_wei")?,
        refund_wei: row.try_get("refund_wei")?,
        posted_tx: row.try_get("posted_tx")?,
        posted_block: to_u64(row.try_get("posted_block")?)?,
        text,
    })
}

/// `JobPosted`: inserts the job as open. Its fields never change on chain, so a replay (or the
/// indexer meeting a job the API already recorded) leaves the existing row, and its status, alone.
/// Returns whether the job is new.
pub async fn posted(conn: &mut AnyConnection, e: &JobPosted, block: u64, tx: &str) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO jobs (id, model_id, poster, fee_wei, deadline, input_root, input_hex, status, posted_block, \
         posted_tx) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
    )
    .bind(u256_to_i64(e.jobId)?)
    .bind(u256_to_i64(e.modelId)?)
    .bind(hex_bytes(e.poster.as_slice()))
    .bind(e.fee.to_string())
    .bind(to_i64(e.deadline)?)
    .bind(hex_bytes(e.inputRoot.as_slice()))
    .bind(hex_bytes(&e.input))
    .bind(JobStatus::Open.as_str())
    .bind(to_i64(block)?)
    .bind(tx.to_owned())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// `ResultSubmitted`: records the result; open → submitted (a later status is kept).
pub async fn result_submitted(
    conn: &mut AnyConnection,
    e: &ResultSubmitted,
    block: u64,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE jobs SET worker = $2, output_root = $3, trace_root = $4, output_hex = $5, submitted_at = $6, \
         submitted_block = $7, status = CASE WHEN status = $8 THEN $9 ELSE status END WHERE id = $1",
    )
    .bind(u256_to_i64(e.jobId)?)
    .bind(hex_bytes(e.worker.as_slice()))
    .bind(hex_bytes(e.outputRoot.as_slice()))
    .bind(hex_bytes(e.traceRoot.as_slice()))
    .bind(hex_bytes(&e.output))
    .bind(to_i64(e.submittedAt)?)
    .bind(to_i64(block)?)
    .bind(JobStatus::Open.as_str())
    .bind(JobStatus::Submitted.as_str())
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        tracing::warn!(job = %e.jobId, "result for a job never posted");
    }
    Ok(())
}

/// `ResultOverturned`: the worker lost a dispute; submitted → open again, the void result forgotten.
pub async fn overturned(conn: &mut AnyConnection, e: &ResultOverturned, block: u64) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET status = $2, worker = NULL, output_root = NULL, trace_root = NULL, output_hex = NULL, \
         submitted_at = NULL, submitted_block = NULL WHERE id = $1 AND status = $3",
    )
    .bind(u256_to_i64(e.jobId)?)
    .bind(JobStatus::Open.as_str())
    .bind(JobStatus::Submitted.as_str())
    .execute(conn)
    .await?;
    tracing::info!(job = %e.jobId, attempt = e.attempt, block, "result overturned; job open again");
    Ok(())
}

/// `JobSettled`: → settled, with the credits.
pub async fn settled(conn: &mut AnyConnection, e: &JobSettled, block: u64) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET status = $2, worker_payout_wei = $3, royalty_wei = $4, closed_block = $5 WHERE id = $1",
    )
    .bind(u256_to_i64(e.jobId)?)
    .bind(JobStatus::Settled.as_str())
    .bind(e.workerPayout.to_string())
    .bind(e.royalty.to_string())
    .bind(to_i64(block)?)
    .execute(conn)
    .await?;
    Ok(())
}

/// `JobRefunded`: → expired, with the refund.
pub async fn refunded(conn: &mut AnyConnection, e: &JobRefunded, block: u64) -> Result<()> {
    sqlx::query("UPDATE jobs SET status = $2, refund_wei = $3, closed_block = $4 WHERE id = $1")
        .bind(u256_to_i64(e.jobId)?)
        .bind(JobStatus::Expired.as_str())
        .bind(e.amount.to_string())
        .bind(to_i64(block)?)
        .execute(conn)
        .await?;
    Ok(())
}

/// `UnusedTokensRefunded`: a language model's job settled below its token budget; the unused part
/// of the escrow went back to the poster (emitted just before `JobSettled`, which publishes the job).
pub async fn unused_tokens_refunded(
    conn: &mut AnyConnection,
    e: &UnusedTokensRefunded,
) -> Result<()> {
    sqlx::query("UPDATE jobs SET refund_wei = $2 WHERE id = $1")
        .bind(u256_to_i64(e.jobId)?)
        .bind(e.amount.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// One job, read with `db` (the pool, or a connection inside a transaction).
pub async fn get<'c>(db: impl Executor<'c, Database = Any>, id: u64) -> Result<Option<JobRecord>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM {FROM_JOBS} WHERE j.id = $1"));
    let row = sqlx::query(sql)
        .bind(to_i64(id)?)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(job_from_row).transpose()
}

/// Which jobs to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Only jobs in this status.
    pub status: Option<JobStatus>,
    /// Only jobs on this model.
    pub model_id: Option<u64>,
    /// Only jobs with a smaller id (paging backwards).
    pub before: Option<u64>,
    /// At most this many.
    pub limit: u32,
}

/// Jobs matching `filter`, newest first.
pub async fn list(pool: &AnyPool, filter: JobFilter) -> Result<Vec<JobRecord>> {
    // '' and -1 stand for "any": both databases compare them without typing a NULL parameter.
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM {FROM_JOBS} WHERE ($1 = '' OR j.status = $1) AND ($2 < 0 OR j.model_id = $2) \
         AND ($3 < 0 OR j.id < $3) ORDER BY j.id DESC LIMIT $4"
    ));
    sqlx::query(sql)
        .bind(filter.status.map_or("", JobStatus::as_str))
        .bind(filter.model_id.map(to_i64).transpose()?.unwrap_or(-1))
        .bind(filter.before.map(to_i64).transpose()?.unwrap_or(-1))
        .bind(i64::from(filter.limit))
        .fetch_all(pool)
        .await?
        .iter()
        .map(job_from_row)
        .collect()
}

/// Number of jobs in each status (every status listed, zeros included).
pub async fn count_by_status(pool: &AnyPool) -> Result<Vec<(JobStatus, u64)>> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM jobs GROUP BY status")
            .fetch_all(pool)
            .await?;
    Ok(JOB_STATUSES
        .into_iter()
        .map(|s| {
            (
                s,
                rows.iter()
                    .find(|(n, _)| n == s.as_str())
                    .map_or(0, |(_, c)| *c as u64),
            )
        })
        .collect())
}
