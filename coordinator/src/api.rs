//! The HTTP API (documented in `docs/API.md`): models and jobs as indexed, posting jobs paid by the
//! coordinator's account, health and metrics.

use crate::{
    columns::{hex_bytes, parse_job_status},
    db::load_cursor,
    error::ApiError,
    games::{self, GameFilter, GameMove, GameRecord},
    indexer::{apply_receipt, cursor_name},
    jobs::{self, JobFilter, JobRecord},
    metrics::{Metrics, Snapshot},
    models::{self, ModelRecord},
};
use alloy::{primitives::U256, providers::Provider};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{
        DefaultBodyLimit, MatchedPath, Path, Query, Request, State, rejection::BytesRejection,
    },
    http::{StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use std::{sync::Arc, time::Duration};
use vouch_chain::{
    GameStatus, JobStatus, Market, bindings::JobMarket::JobPosted, registry::ModelStatus,
};

/// Longest time to live a job may ask for.
pub const MAX_JOB_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Most jobs one list request returns.
pub const MAX_LIST_LIMIT: u32 = 500;

/// Jobs a list request returns when it names no limit.
pub const DEFAULT_LIST_LIMIT: u32 = 50;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database the indexer fills.
    pub pool: AnyPool,
    /// The market, acting as the coordinator's posting account.
    pub market: Market,
    /// Time to live of a job whose request names none.
    pub default_job_ttl: Duration,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Request counters.
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// State over `pool`, posting through `market`.
    pub fn new(
        pool: AnyPool,
        market: Market,
        default_job_ttl: Duration,
        max_body_bytes: usize,
    ) -> Self {
        Self {
            pool,
            market,
            default_job_ttl,
            max_body_bytes,
            metrics: Arc::default(),
        }
    }

    async fn indexed_block(&self) -> Result<Option<u64>, ApiError> {
        let next = load_cursor(&self.pool, &cursor_name(self.market.deployment())).await?;
        Ok(next.map(|n| n.saturating_sub(1)))
    }
}

/// The API's routes over `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/v1/models", get(list_models))
        .route("/v1/models/{id}", get(get_model))
        .route("/v1/jobs", get(list_jobs).post(post_job))
        .route("/v1/jobs/{id}", get(get_job))
        .route("/v1/games", get(list_games))
        .route("/v1/games/{id}", get(get_game))
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .with_state(state)
}

async fn count_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = req.method().clone();
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16();
    state.metrics.record_request(&route, status);
    tracing::debug!(%method, %route, status, elapsed_ms = started.elapsed().as_millis() as u64, "request");
    response
}

/// `GET /health` body.
#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    indexed_block: Option<u64>,
    chain_head: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
}

async fn health(State(state): State<AppState>) -> Result<Response, ApiError> {
    let indexed_block = state.indexed_block().await?;
    Ok(
        match state.market.client().provider().get_block_number().await {
            Ok(head) => Json(Health {
                status: "ok",
                indexed_block,
                chain_head: Some(head),
                error: None,
            })
            .into_response(),
            Err(e) => {
                tracing::warn!(error = %e, "health: chain RPC failed");
                let body = Health {
                    status: "degraded",
                    indexed_block,
                    chain_head: None,
                    error: Some("chain RPC unavailable"),
                };
                (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
            }
        },
    )
}

async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let snapshot = Snapshot {
        jobs: jobs::count_by_status(&state.pool).await?,
        models: models::count_by_status(&state.pool).await?,
        games: games::count_by_status(&state.pool).await?,
        indexed_block: state.indexed_block().await?,
    };
    let text = state.metrics.render(&snapshot);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// A path id: a non-negative integer.
fn parse_id(what: &str, raw: &str) -> Result<u64, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "{what} id must be a non-negative integer, got {raw:?}"
        ))
    })
}

async fn list_models(State(state): State<AppState>) -> Result<Json<Vec<ModelRecord>>, ApiError> {
    Ok(Json(models::list(&state.pool).await?))
}

async fn get_model(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ModelRecord>, ApiError> {
    let id = parse_id("model", &id)?;
    let model = models::get(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("model {id} not found")))?;
    Ok(Json(model))
}

async fn get_job(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<JobRecord>, ApiError> {
    let id = parse_id("job", &id)?;
    let job = jobs::get(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("job {id} not found")))?;
    Ok(Json(job))
}

/// `GET /v1/games/{id}` answer: the game and its moves in chain order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameDetail {
    /// The game's current state.
    #[serde(flatten)]
    pub game: GameRecord,
    /// Every move so far, oldest first.
    pub moves: Vec<GameMove>,
}

async fn get_game(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<GameDetail>, ApiError> {
    let id = parse_id("game", &id)?;
    let (game, moves) = games::get(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("game {id} not found")))?;
    Ok(Json(GameDetail { game, moves }))
}

/// `GET /v1/games` query parameters.
#[derive(Debug, Deserialize)]
struct ListGamesQuery {
    status: Option<String>,
    job_id: Option<String>,
    limit: Option<String>,
}

async fn list_games(
    State(state): State<AppState>,
    query: Result<Query<ListGamesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<GameRecord>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let status = q
        .status
        .map(|s| {
            GameStatus::parse(&s).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "unknown status {s:?}: expected one of active, challenger_won, defender_won, moot"
                ))
            })
        })
        .transpose()?;
    let filter = GameFilter {
        status,
        job_id: parse_number("job_id", q.job_id)?,
        limit: list_limit(q.limit)?,
    };
    Ok(Json(games::list(&state.pool, filter).await?))
}

/// An optional non-negative integer query parameter.
fn parse_number(name: &str, raw: Option<String>) -> Result<Option<u64>, ApiError> {
    raw.map(|r| {
        r.parse().map_err(|_| {
            ApiError::BadRequest(format!("{name} must be a non-negative integer, got {r:?}"))
        })
    })
    .transpose()
}

/// The `limit` query parameter: at least 1, default [`DEFAULT_LIST_LIMIT`], capped at
/// [`MAX_LIST_LIMIT`].
fn list_limit(raw: Option<String>) -> Result<u32, ApiError> {
    let limit = parse_number("limit", raw)?.unwrap_or(u64::from(DEFAULT_LIST_LIMIT));
    if limit == 0 {
        return Err(ApiError::BadRequest("limit must be at least 1".into()));
    }
    Ok(limit.min(u64::from(MAX_LIST_LIMIT)) as u32)
}

/// `GET /v1/jobs` query parameters, parsed by hand for precise errors.
#[derive(Debug, Deserialize)]
struct ListJobsQuery {
    status: Option<String>,
    model_id: Option<String>,
    before: Option<String>,
    limit: Option<String>,
}

fn parse_filter(q: ListJobsQuery) -> Result<JobFilter, ApiError> {
    let status = q
        .status
        .map(|s| {
            parse_job_status(&s).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "unknown status {s:?}: expected one of open, submitted, settled, expired"
                ))
            })
        })
        .transpose()?;
    Ok(JobFilter {
        status,
        model_id: parse_number("model_id", q.model_id)?,
        before: parse_number("before", q.before)?,
        limit: list_limit(q.limit)?,
    })
}

async fn list_jobs(
    State(state): State<AppState>,
    query: Result<Query<ListJobsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<JobRecord>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    Ok(Json(jobs::list(&state.pool, parse_filter(query)?).await?))
}

/// `POST /v1/jobs` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostJob {
    model_id: u64,
    /// Int8 numbers, flat or nested.
    input: serde_json::Value,
    ttl_secs: Option<u64>,
}

/// `POST /v1/jobs` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobPostedResponse {
    /// The new job's id.
    pub job_id: u64,
    /// The `postJob` transaction.
    pub tx_hash: String,
    /// Tensor root of the input, computed by the contract.
    pub input_root: String,
    /// Always `open`.
    pub status: JobStatus,
    /// Unix time after which no result is accepted.
    pub deadline: u64,
    /// Fee paid, in wei (decimal).
    pub fee_wei: String,
}

async fn post_job(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<JobPostedResponse>), ApiError> {
    let body = body.map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(format!(
            "request body exceeds the limit of {} bytes",
            state.max_body_bytes
        )),
        _ => ApiError::BadRequest(r.body_text()),
    })?;
    let req: PostJob = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?;

    // Validate everything before spending gas.
    let model = models::get(&state.pool, req.model_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("model {} not found", req.model_id)))?;
    if model.status != ModelStatus::Active {
        let status = crate::columns::model_status_str(model.status);
        return Err(ApiError::Conflict(format!(
            "model {} is {status}, not active: it takes no jobs",
            model.id
        )));
    }
    let input = vouch_core::tensor::parse_json_tensor(&req.input.to_string())
        .map_err(|e| ApiError::BadRequest(format!("input: {e}")))?;
    if input.len() != model.input_len as usize {
        return Err(ApiError::BadRequest(format!(
            "input has {} elements; model {} expects {}",
            input.len(),
            model.id,
            model.input_len
        )));
    }
    let ttl = req
        .ttl_secs
        .map_or(state.default_job_ttl, Duration::from_secs);
    if ttl.is_zero() || ttl > MAX_JOB_TTL {
        return Err(ApiError::BadRequest(format!(
            "ttl_secs must be between 1 and {}, got {}",
            MAX_JOB_TTL.as_secs(),
            ttl.as_secs()
        )));
    }

    let deadline = state.market.chain_time().await? + ttl.as_secs();
    let fee = model.fee()?;
    let input_bytes = vouch_core::tensor::to_bytes(&input);
    let (job_id, receipt) = state
        .market
        .post_job(U256::from(model.id), &input_bytes, deadline, fee)
        .await?;
    // Record it now (through the indexer's own writes), so an immediate GET finds it.
    let mut conn = state.pool.acquire().await?;
    apply_receipt(&mut conn, state.market.deployment(), &receipt).await?;
    let posted = receipt
        .decoded_log::<JobPosted>()
        .ok_or_else(|| ApiError::Internal("postJob receipt without a JobPosted log".into()))?;
    let job_id = crate::columns::u256_to_i64(job_id)? as u64;
    tracing::info!(job_id, model = model.id, tx = %receipt.transaction_hash, "job posted");
    Ok((
        StatusCode::CREATED,
        Json(JobPostedResponse {
            job_id,
            tx_hash: hex_bytes(receipt.transaction_hash.as_slice()),
            input_root: hex_bytes(posted.inputRoot.as_slice()),
            status: JobStatus::Open,
            deadline: posted.deadline,
            fee_wei: fee.to_string(),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(status: Option<&str>, limit: Option<&str>) -> ListJobsQuery {
        ListJobsQuery {
            status: status.map(Into::into),
            model_id: None,
            before: None,
            limit: limit.map(Into::into),
        }
    }

    #[test]
    fn filter_caps_limit_and_rejects_bad_values() {
        assert_eq!(
            parse_filter(q(None, None)).unwrap().limit,
            DEFAULT_LIST_LIMIT
        );
        assert_eq!(
            parse_filter(q(None, Some("100000"))).unwrap().limit,
            MAX_LIST_LIMIT
        );
        assert_eq!(
            parse_filter(q(Some("settled"), None)).unwrap().status,
            Some(JobStatus::Settled)
        );
        assert!(
            parse_filter(q(Some("done"), None))
                .unwrap_err()
                .to_string()
                .contains("done")
        );
        assert!(parse_filter(q(None, Some("0"))).is_err());
        assert!(parse_filter(q(None, Some("-1"))).is_err());
    }
}
