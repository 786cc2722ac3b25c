//! The HTTP API (documented in `docs/API.md`, described by `/openapi.json`): models, jobs, games and
//! accounts as indexed, their live event stream, posting jobs paid by the coordinator's account under
//! API keys, preparing jobs a user's wallet pays for (`crate::prepare`), the deployment, health,
//! metrics and the dashboard.

use crate::{
    accounts::{self, Account, Role},
    cards::Cards,
    columns::{hex_bytes, parse_job_status},
    config::ApiConfig,
    dashboard,
    db::load_cursor,
    error::ApiError,
    events::Events,
    games::{self, GameFilter},
    http::{body_error, with_layers},
    indexer::{apply_receipt, cursor_name},
    input::{self, JobInput, job_fee},
    jobs::{self, JobFilter},
    keys::{self, Admission, ApiKey, Reservation},
    metrics::{Metrics, Snapshot},
    models,
    prepare::prepare_job,
    stream,
};
use alloy::{primitives::U256, providers::Provider};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{FromRequest, MatchedPath, Path, Query, Request, State},
    handler::Handler,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{MethodFilter, MethodRouter, on},
};
use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio::sync::OnceCell;
use vouch_chain::{
    ChainError, GameStatus, JobStatus, Market,
    bindings::JobMarket::JobPosted,
    receipt::{self, Lookup},
    registry::ModelStatus,
};
use vouch_client::{
    DeploymentInfo, GameDetail, GameRecord, JobPostedResponse, JobRecord, JobRequest, ModelRecord,
    Receipt,
};

/// Longest time to live a job may ask for.
pub const MAX_JOB_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Most jobs one list request returns.
pub const MAX_LIST_LIMIT: u32 = 500;

/// Jobs a list request returns when it names no limit.
pub const DEFAULT_LIST_LIMIT: u32 = 50;

/// Largest id or number a path or query parameter may name: ids are stored as BIGINT.
pub const MAX_ID: u64 = i64::MAX as u64;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database the indexer fills.
    pub pool: AnyPool,
    /// The market, acting as the coordinator's posting account.
    pub market: Market,
    /// The API's limits.
    pub config: Arc<ApiConfig>,
    /// Request counters.
    pub metrics: Arc<Metrics>,
    /// The live feed of indexed changes (`GET /v1/events`); the indexer publishes to it.
    pub events: Events,
    /// Language models' cards: their tokenizers, for prompts and answers.
    pub cards: Cards,
    /// The chain id, asked once.
    chain_id: Arc<OnceCell<u64>>,
}

impl AppState {
    /// State over `pool`, posting through `market`, limited by `config`.
    pub fn new(pool: AnyPool, market: Market, config: ApiConfig) -> Self {
        Self {
            pool,
            cards: Cards::new(market.client().provider().clone(), *market.deployment()),
            market,
            events: Events::new(config.max_event_streams),
            config: Arc::new(config),
            metrics: Arc::default(),
            chain_id: Arc::default(),
        }
    }

    /// The chain's EIP-155 id, asked of the RPC endpoint once.
    pub(crate) async fn chain_id(&self) -> Result<u64, ApiError> {
        self.chain_id
            .get_or_try_init(|| async {
                self.market
                    .client()
                    .provider()
                    .get_chain_id()
                    .await
                    .map_err(|e| ApiError::from(ChainError::Rpc(e.to_string())))
            })
            .await
            .copied()
    }

    async fn indexed_block(&self) -> Result<Option<u64>, ApiError> {
        let next = load_cursor(&self.pool, &cursor_name(self.market.deployment())).await?;
        Ok(next.map(|n| n.saturating_sub(1)))
    }
}

/// One route: its path, its method, and the handler.
type Route = (&'static str, Method, MethodRouter<AppState>);

fn route<H, T>(path: &'static str, method: Method, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a standard method");
    (path, method, on(filter, handler))
}

/// Every route. The router is built from this table, and the OpenAPI document is checked against
/// it.
fn routes() -> Vec<Route> {
    vec![
        route("/health", Method::GET, health),
        route("/metrics", Method::GET, metrics),
        route("/openapi.json", Method::GET, openapi),
        route("/v1/deployment", Method::GET, deployment),
        route("/v1/models", Method::GET, list_models),
        route("/v1/models/{id}", Method::GET, get_model),
        route("/v1/jobs", Method::GET, list_jobs),
        route("/v1/jobs", Method::POST, post_job),
        route("/v1/jobs/prepare", Method::POST, prepare_job),
        route("/v1/jobs/{id}", Method::GET, get_job),
        route("/v1/jobs/{id}/receipt", Method::GET, get_receipt),
        route("/v1/games", Method::GET, list_games),
        route("/v1/games/{id}", Method::GET, get_game),
        route("/v1/accounts", Method::GET, list_accounts),
        route("/v1/events", Method::GET, stream::events),
        route("/", Method::GET, dashboard::page),
        route("/dashboard.css", Method::GET, dashboard::style),
        route("/dashboard.js", Method::GET, dashboard::script),
    ]
}

/// The API's (path, method) pairs, in the order they are declared. `GET` routes answer `HEAD`
/// too, and every path answers CORS preflights (`OPTIONS`).
pub fn route_table() -> Vec<(&'static str, Method)> {
    routes().into_iter().map(|(p, m, _)| (p, m)).collect()
}

/// The API's routes over `state`, with the shared layers (`crate::http`).
pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let table = route_table();
    let mut router = routes()
        .into_iter()
        .fold(Router::new(), |router, (path, _, handler)| {
            router.route(path, handler)
        });
    // Each path answers the methods it lacks with a JSON 405 and its `Allow` list.
    let mut paths: Vec<&'static str> = table.iter().map(|(p, _)| *p).collect();
    paths.dedup();
    for path in paths {
        let mut allowed: Vec<String> = table
            .iter()
            .filter(|(p, _)| *p == path)
            .flat_map(|(_, m)| {
                let head = (*m == Method::GET).then(|| Method::HEAD.to_string());
                std::iter::once(m.to_string()).chain(head)
            })
            .collect();
        allowed.sort();
        let allow = allowed.join(", ");
        router = router.route(
            path,
            MethodRouter::new().fallback(move |method: Method, uri: Uri| async move {
                ApiError::MethodNotAllowed {
                    message: format!(
                        "method {method} is not allowed on {}; allowed: {allow}",
                        uri.path()
                    ),
                    allow,
                }
            }),
        );
    }
    let router = router
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .with_state(state);
    with_layers(router, &config)
}

/// The OpenAPI 3.1 document of every route.
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn deployment(State(state): State<AppState>) -> Result<Json<DeploymentInfo>, ApiError> {
    let d = state.market.deployment();
    Ok(Json(DeploymentInfo {
        chain_id: state.chain_id().await?,
        registry: hex_bytes(d.registry.as_slice()),
        market: hex_bytes(d.market.as_slice()),
        game: hex_bytes(d.game.as_slice()),
        prover: hex_bytes(d.prover.as_slice()),
        llm_prover: hex_bytes(d.llm_prover.as_slice()),
        start_block: d.start_block,
    }))
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
        [(header::CONTENT_TYPE, vouch_core::metrics::CONTENT_TYPE)],
        text,
    )
        .into_response())
}

/// A non-negative integer parameter named `name`, at most [`MAX_ID`].
fn parse_number(name: &str, raw: &str) -> Result<u64, ApiError> {
    raw.parse().ok().filter(|n| *n <= MAX_ID).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "{name} must be an integer from 0 to {MAX_ID}, got {raw:?}"
        ))
    })
}

/// A path id.
fn parse_id(what: &str, raw: &str) -> Result<u64, ApiError> {
    parse_number(&format!("{what} id"), raw)
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
    let mut job = jobs::get(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("job {id} not found")))?;
    state.cards.fill_answer(&mut job).await?;
    Ok(Json(job))
}

/// A settled job's receipt, read from the chain (its logs and the model's registry entry) rather
/// than from the index, so it never lags the chain.
async fn get_receipt(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Receipt>, ApiError> {
    let id = parse_id("job", &id)?;
    let provider = state.market.client().provider();
    match receipt::fetch(provider, state.market.deployment(), id).await? {
        Lookup::Settled(receipt) => Ok(Json(*receipt)),
        Lookup::Unknown => Err(ApiError::NotFound(format!("job {id} not found"))),
        Lookup::Unsettled { status, .. } => Err(ApiError::Conflict(format!(
            "job {id} is {}, not settled: it has a receipt once it settles",
            status.as_str()
        ))),
    }
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
        job_id: parse_optional("job_id", q.job_id)?,
        limit: list_limit(q.limit)?,
    };
    Ok(Json(games::list(&state.pool, filter).await?))
}

/// `GET /v1/accounts` query parameters.
#[derive(Debug, Deserialize)]
struct ListAccountsQuery {
    role: Option<String>,
}

async fn list_accounts(
    State(state): State<AppState>,
    query: Result<Query<ListAccountsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<Account>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let role = q
        .role
        .map(|r| {
            Role::parse(&r).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "unknown role {r:?}: expected one of worker, challenger"
                ))
            })
        })
        .transpose()?;
    Ok(Json(accounts::list(&state.pool, role).await?))
}

/// An optional non-negative integer query parameter.
fn parse_optional(name: &str, raw: Option<String>) -> Result<Option<u64>, ApiError> {
    raw.map(|r| parse_number(name, &r)).transpose()
}

/// The `limit` query parameter: at least 1, default [`DEFAULT_LIST_LIMIT`], capped at
/// [`MAX_LIST_LIMIT`].
fn list_limit(raw: Option<String>) -> Result<u32, ApiError> {
    let limit = parse_optional("limit", raw)?.unwrap_or(u64::from(DEFAULT_LIST_LIMIT));
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
        model_id: parse_optional("model_id", q.model_id)?,
        before: parse_optional("before", q.before)?,
        limit: list_limit(q.limit)?,
    })
}

async fn list_jobs(
    State(state): State<AppState>,
    query: Result<Query<ListJobsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<JobRecord>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let mut jobs = jobs::list(&state.pool, parse_filter(query)?).await?;
    for job in &mut jobs {
        state.cards.fill_answer(job).await?;
    }
    Ok(Json(jobs))
}

/// Seconds since the Unix epoch, by the wall clock.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A job's deadline: `ttl` after the later of the latest block's timestamp and the wall clock, so
/// a stale latest block (a chain that has not mined for a while) cannot shorten the job's life,
/// and a clock behind the chain cannot either.
pub fn job_deadline(block_time: u64, wall_clock: u64, ttl: Duration) -> u64 {
    block_time.max(wall_clock).saturating_add(ttl.as_secs())
}

/// The API key in `Authorization: Bearer …`, admitted (and counted) against its rate.
async fn authorize(state: &AppState, headers: &HeaderMap) -> Result<ApiKey, ApiError> {
    let secret = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim())
        .ok_or_else(|| {
            ApiError::Unauthorized(
                "posting a job spends the coordinator's ether: send an API key as \
                 `Authorization: Bearer vk_…`"
                    .into(),
            )
        })?;
    match keys::admit(&state.pool, secret, unix_now()).await? {
        Admission::Admitted(key) => Ok(key),
        Admission::Unknown | Admission::Revoked => {
            Err(ApiError::Unauthorized("unknown or revoked API key".into()))
        }
        Admission::RateLimited {
            id,
            rate_per_minute,
            retry_after_secs,
        } => Err(ApiError::TooManyRequests {
            message: format!(
                "API key {id} has made its {rate_per_minute} requests this minute; retry in \
                 {retry_after_secs} s"
            ),
            retry_after_secs,
        }),
    }
}

/// A job request (the body of `POST /v1/jobs` and `POST /v1/jobs/prepare`) checked against the
/// indexed model: everything both routes refuse before a transaction exists.
pub(crate) struct CheckedJob {
    /// The model, active.
    pub(crate) model: ModelRecord,
    /// The input: a tensor in the model's input shape, or a prompt's ids and token budget.
    pub(crate) input: JobInput,
    /// The job's time to live.
    pub(crate) ttl: Duration,
}

impl CheckedJob {
    /// Reads the body of `req` and checks it, in the order `docs/API.md` lists: JSON, model id,
    /// model known and active, the input (a tensor model's shape and range; a language model's
    /// prompt tokenized and held to its context and vocabulary), `ttl_secs`.
    pub(crate) async fn read(state: &AppState, req: Request) -> Result<Self, ApiError> {
        let body = Bytes::from_request(req, &())
            .await
            .map_err(|r| body_error(r, &state.config))?;
        let req: JobRequest = serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?;
        let model_id = parse_number("model_id", &req.model_id.to_string())?;
        let model = models::get(&state.pool, model_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("model {model_id} not found")))?;
        if model.status != ModelStatus::Active {
            let status = crate::columns::model_status_str(model.status);
            return Err(ApiError::Conflict(format!(
                "model {} is {status}, not active: it takes no jobs",
                model.id
            )));
        }
        let input = input::read(&model, &req, &state.cards).await?;
        let ttl = req
            .ttl_secs
            .map_or(state.config.default_job_ttl, Duration::from_secs);
        if ttl.is_zero() || ttl > MAX_JOB_TTL {
            return Err(ApiError::BadRequest(format!(
                "ttl_secs must be between 1 and {}, got {}",
                MAX_JOB_TTL.as_secs(),
                ttl.as_secs()
            )));
        }
        Ok(Self { model, input, ttl })
    }

    /// The fee the job escrows ([`job_fee`]).
    pub(crate) fn fee(&self) -> Result<U256, ApiError> {
        job_fee(&self.model, &self.input)
    }

    /// The job's deadline, [`job_deadline`] of the chain's latest block and the wall clock.
    pub(crate) async fn deadline(&self, state: &AppState) -> Result<u64, ApiError> {
        Ok(job_deadline(
            state.market.chain_time().await?,
            unix_now(),
            self.ttl,
        ))
    }
}

async fn post_job(
    State(state): State<AppState>,
    req: Request,
) -> Result<(StatusCode, Json<JobPostedResponse>), ApiError> {
    let key = authorize(&state, req.headers()).await?;
    // Validate everything before spending gas.
    let request = CheckedJob::read(&state, req).await?;
    let model = &request.model;
    let fee = request.fee()?;
    if fee > state.config.max_fee_wei {
        return Err(ApiError::Forbidden(format!(
            "model {} costs {fee} wei a job, above this coordinator's maximum fee of {} wei per job",
            model.id, state.config.max_fee_wei
        )));
    }
    let deadline = request.deadline(&state).await?;

    if let Reservation::OverCap { spent_wei, cap_wei } =
        keys::reserve(&state.pool, &key.id, fee).await?
    {
        return Err(ApiError::Forbidden(format!(
            "API key {} has spent {spent_wei} of its {cap_wei} wei cap; this job costs {fee} wei",
            key.id
        )));
    }
    let posted = match &request.input {
        JobInput::Tensor(tensor) => {
            state
                .market
                .post_job(U256::from(model.id), tensor, deadline, fee)
                .await
        }
        JobInput::Text(job) => {
            state
                .market
                .post_llm_job(
                    U256::from(model.id),
                    job,
                    deadline,
                    input::llm_price(model)?,
                )
                .await
        }
    };
    let (job_id, receipt) = match posted {
        Ok(posted) => posted,
        Err(e) => {
            // Reverted before or on chain: the fee was never paid, so the key gets it back. Any
            // other failure (RPC, timeout) may still be mined: the reservation stays.
            if matches!(e, ChainError::Reverted(_) | ChainError::RevertedOnChain(_)) {
                keys::release(&state.pool, &key.id, fee).await?;
            } else {
                tracing::warn!(key = %key.id, %fee, error = %e, "postJob failed ambiguously; its fee stays reserved");
            }
            return Err(e.into());
        }
    };
    // Record it now (through the indexer's own writes), so an immediate GET finds it.
    apply_receipt(
        &state.pool,
        state.market.deployment(),
        &receipt,
        &state.events,
        &state.cards,
    )
    .await?;
    let posted = receipt
        .decoded_log::<JobPosted>()
        .ok_or_else(|| ApiError::Internal("postJob receipt without a JobPosted log".into()))?;
    let job_id = crate::columns::u256_to_i64(job_id)? as u64;
    tracing::info!(job_id, model = model.id, key = %key.id, tx = %receipt.transaction_hash, "job posted");
    Ok((
        StatusCode::CREATED,
        Json(JobPostedResponse {
            job_id,
            tx_hash: hex_bytes(receipt.transaction_hash.as_slice()),
            input_root: hex_bytes(posted.inputRoot.as_slice()),
            status: JobStatus::Open,
            deadline: posted.deadline,
            fee_wei: posted.fee.to_string(),
            prompt: request.input.prompt_tokens(),
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
        assert_eq!(
            parse_filter(q(None, Some(&MAX_ID.to_string())))
                .unwrap()
                .limit,
            MAX_LIST_LIMIT
        );
        assert!(parse_filter(q(None, Some(&(MAX_ID + 1).to_string()))).is_err());
    }

    #[test]
    fn numbers_beyond_bigint_are_refused_by_name() {
        assert_eq!(parse_id("job", "0").unwrap(), 0);
        assert_eq!(parse_id("job", &MAX_ID.to_string()).unwrap(), MAX_ID);
        for raw in [
            "9223372036854775808",
            "18446744073709551615",
            "18446744073709551616",
            "-1",
            "1e3",
            "",
            " 1",
        ] {
            let e = parse_id("job", raw).unwrap_err();
            assert_eq!(e.status(), StatusCode::BAD_REQUEST);
            assert!(
                e.to_string()
                    .starts_with("job id must be an integer from 0 to 9223372036854775807"),
                "{e}"
            );
        }
    }

    #[test]
    fn deadlines_count_from_the_later_clock() {
        let ttl = Duration::from_secs(600);
        assert_eq!(job_deadline(1_000, 5_000, ttl), 5_600, "stale block");
        assert_eq!(
            job_deadline(9_000, 5_000, ttl),
            9_600,
            "clock behind the chain"
        );
        assert_eq!(job_deadline(u64::MAX, 0, ttl), u64::MAX);
    }
}
