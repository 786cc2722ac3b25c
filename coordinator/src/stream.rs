//! `GET /v1/events`: the feed (`crate::events`) as server-sent events, one stream per client,
//! bounded by `ApiConfig::max_event_streams`.

use crate::{
    api::AppState,
    error::ApiError,
    events::{Item, TooManyStreams},
};
use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use std::convert::Infallible;

/// Streams every change from now on (or from after `Last-Event-ID`), with keep-alive comments.
pub(crate) async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let last = headers.get("last-event-id").and_then(|v| v.to_str().ok());
    let subscription = state
        .events
        .subscribe(last)
        .map_err(|TooManyStreams { max }| {
            ApiError::Unavailable(format!("all {max} event streams are open; retry later"))
        })?;
    let stream = futures::stream::unfold(subscription, |mut s| async move {
        let item = s.next().await?;
        Some((Ok::<_, Infallible>(sse_event(item)), s))
    });
    let keep_alive = KeepAlive::new()
        .interval(state.config.event_keep_alive)
        .text("keep-alive");
    let mut response = Sse::new(stream).keep_alive(keep_alive).into_response();
    // Reverse proxies (nginx) would otherwise buffer the stream.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

fn sse_event(item: Item) -> Event {
    match item {
        Item::Event(e) => Event::default()
            .id(e.id.as_str())
            .event(e.kind.as_str())
            .data(e.data.as_str()),
        Item::Reset { reason, id } => {
            let event = Event::default()
                .event("reset")
                .data(serde_json::json!({ "reason": reason }).to_string());
            match id {
                Some(id) => event.id(id),
                None => event,
            }
        }
    }
}
