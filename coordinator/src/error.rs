//! Errors: [`CoordinatorError`] for the library's storage and indexing, [`ApiError`] for HTTP.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use vouch_chain::{ChainError, Revert};

/// What can go wrong storing and indexing chain data.
#[derive(Debug, thiserror::Error)]
pub enum CoordinatorError {
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// Applying the embedded migrations failed.
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The chain failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A stored value or a chain value does not fit the schema (e.g. an id beyond i64).
    #[error("invalid data: {0}")]
    Invalid(String),
}

/// `Result` with [`CoordinatorError`].
pub type Result<T, E = CoordinatorError> = std::result::Result<T, E>;

/// An HTTP error: a status and a message, served as `{"error": "..."}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// 401: the request carries no API key, or one that is unknown or revoked.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the key may not spend this much (its cap, or the coordinator's maximum fee per job).
    #[error("{0}")]
    Forbidden(String),
    /// 404: the named thing does not exist.
    #[error("{0}")]
    NotFound(String),
    /// 409: the request conflicts with on-chain state (inactive model, contract revert).
    #[error("{0}")]
    Conflict(String),
    /// 405: the path exists, the method does not (`Allow` lists the ones that do).
    #[error("{message}")]
    MethodNotAllowed {
        /// What was refused.
        message: String,
        /// The path's methods, comma-separated.
        allow: String,
    },
    /// 408: the request body stalled for longer than the configured timeout.
    #[error("{0}")]
    RequestTimeout(String),
    /// 413: the body is larger than the configured limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 414: the request target (path and query) is longer than the configured limit.
    #[error("{0}")]
    UriTooLong(String),
    /// 415: a body that is not `application/json`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 429: the API key used up its requests for this minute.
    #[error("{message}")]
    TooManyRequests {
        /// What was exceeded.
        message: String,
        /// Seconds until the key may try again (`Retry-After`).
        retry_after_secs: u64,
    },
    /// 503: a dependency (the chain's RPC endpoint) is unreachable.
    #[error("{0}")]
    Unavailable(String),
    /// 500: anything else; the details are logged, never served.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status this error is served with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        let mut response = (
            self.status(),
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::MethodNotAllowed { allow, .. } => {
                if let Ok(v) = HeaderValue::from_str(allow) {
                    headers.insert(header::ALLOW, v);
                }
            }
            ApiError::TooManyRequests {
                retry_after_secs, ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

/// `"WrongFee { sent: 1, expected: 2 }"` from a decoded revert: the error's name and fields.
pub fn describe_revert(revert: &Revert) -> String {
    let debug = match revert {
        Revert::Market(e) => format!("{e:?}"),
        Revert::Game(e) => format!("{e:?}"),
        Revert::Registry(e) => format!("{e:?}"),
        Revert::Prover(e) => format!("{e:?}"),
        Revert::LlmOps(e) => format!("{e:?}"),
        Revert::LlmProver(e) => format!("{e:?}"),
        Revert::Unknown(data) => return format!("unknown revert data {data}"),
    };
    // The generated enums print as `Variant(Variant { fields })`; keep the inner struct.
    debug
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .map(str::to_owned)
        .unwrap_or(debug)
}

impl From<ChainError> for ApiError {
    fn from(e: ChainError) -> Self {
        match e {
            ChainError::Reverted(r) => {
                ApiError::Conflict(format!("contract reverted: {}", describe_revert(&r)))
            }
            ChainError::RevertedOnChain(hash) => {
                ApiError::Conflict(format!("transaction {hash} reverted on chain"))
            }
            ChainError::Rpc(detail) => {
                tracing::warn!(%detail, "chain RPC failed");
                ApiError::Unavailable("the chain's RPC endpoint is unavailable".into())
            }
            ChainError::Timeout { hash, secs } => ApiError::Unavailable(format!(
                "transaction {hash} was sent but not mined within {secs} s"
            )),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<CoordinatorError> for ApiError {
    fn from(e: CoordinatorError) -> Self {
        match e {
            CoordinatorError::Chain(c) => c.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(format!("database: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::U256;
    use vouch_chain::bindings::JobMarket::{JobMarketErrors, WrongFee};

    #[test]
    fn revert_keeps_name_and_fields() {
        let r = Revert::Market(JobMarketErrors::WrongFee(WrongFee {
            sent: U256::from(1),
            expected: U256::from(2),
        }));
        let s = describe_revert(&r);
        assert!(
            s.starts_with("WrongFee {") && s.contains("sent: 1") && s.contains("expected: 2"),
            "{s}"
        );
    }

    #[test]
    fn internal_errors_hide_details() {
        let e = ApiError::Internal("secret dsn".into());
        assert_eq!(e.to_string(), "internal error");
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
