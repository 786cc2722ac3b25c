//! The HTTP plumbing every route shares (`docs/API.md`, "Limits"): a JSON error body on every
//! error status, JSON-only request bodies, a request-target limit, CORS with a `204` preflight, a
//! body timeout, and the server loop with its header read timeout.

use crate::{
    config::{ApiConfig, CorsOrigin},
    error::ApiError,
};
use axum::{
    Router,
    body::Body,
    extract::{DefaultBodyLimit, Request, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use std::{future::Future, time::Duration};
use tokio::net::TcpListener;
use tower_http::{
    catch_panic::CatchPanicLayer,
    cors::{AllowOrigin, CorsLayer},
    timeout::{RequestBodyTimeoutLayer, TimeoutError},
};

/// `router` with the shared layers, configured by `config`.
pub fn with_layers(router: Router, config: &ApiConfig) -> Router {
    router
        .route_layer(middleware::from_fn(json_bodies_only))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(RequestBodyTimeoutLayer::new(config.body_timeout))
        .layer(CatchPanicLayer::new())
        .layer(middleware::from_fn_with_state(
            config.max_uri_bytes,
            limit_uri,
        ))
        .layer(middleware::from_fn(json_errors))
        .layer(cors(&config.cors_origins))
        .layer(middleware::from_fn(preflight_no_content))
}

/// CORS for `origins` (none: browsers may not read anything cross-origin). Preflights are answered
/// for every path, whatever the origin.
fn cors(origins: &[CorsOrigin]) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(
            origins.iter().map(|o| o.header_value().clone()),
        ))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

/// A preflight (answered by the CORS layer with an empty `200`) gets `204 No Content`.
async fn preflight_no_content(req: Request, next: Next) -> Response {
    let preflight = req.method() == Method::OPTIONS;
    let mut response = next.run(req).await;
    if preflight && response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response
}

/// Whether `headers` declare a JSON body (`application/json`, parameters allowed).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// Every error response carries `{"error": "..."}`: the ones axum and tower-http make themselves
/// (extractors' rejections, a caught panic) are rewritten; ours already are.
async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(response.headers()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 16 << 10)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if status.is_server_error() || text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = serde_json::json!({ "error": message }).to_string();
    Response::from_parts(parts, Body::from(body))
}

/// `414` for a request target (path and query) longer than the limit.
async fn limit_uri(State(max): State<usize>, req: Request, next: Next) -> Response {
    let len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if len > max {
        return ApiError::UriTooLong(format!("request target is {len} bytes; the limit is {max}"))
            .into_response();
    }
    next.run(req).await
}

/// `415` for a body-carrying method without `content-type: application/json` (which also keeps
/// browsers' cross-site form posts out: they cannot send that type without a preflight).
async fn json_bodies_only(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH)
        && !is_json(req.headers())
    {
        let got = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map_or_else(|| "none".to_owned(), |v| format!("{v:?}"));
        return ApiError::UnsupportedMediaType(format!(
            "request bodies must be content-type application/json, got {got}"
        ))
        .into_response();
    }
    next.run(req).await
}

/// What reading a body failed with, as an API error: `413` over `max_body_bytes`, `408` when it
/// stalled past the body timeout, `400` otherwise.
pub(crate) fn body_error(rejection: BytesRejection, config: &ApiConfig) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::PayloadTooLarge(format!(
            "request body exceeds the limit of {} bytes",
            config.max_body_bytes
        ));
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&rejection);
    while let Some(e) = cause {
        if e.is::<TimeoutError>() {
            return ApiError::RequestTimeout(format!(
                "the request body stalled for more than {} ms",
                config.body_timeout.as_millis()
            ));
        }
        cause = e.source();
    }
    ApiError::BadRequest(rejection.body_text())
}

/// Serves `app` on `listener` over HTTP/1.1 until `shutdown` completes, then lets in-flight
/// requests finish. A connection that has not sent a whole request head within
/// `header_read_timeout` (a new one, or an idle keep-alive one) is closed.
pub async fn serve_http(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let conn =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection closed with an error");
            }
        });
    }
    graceful.shutdown().await;
    Ok(())
}
