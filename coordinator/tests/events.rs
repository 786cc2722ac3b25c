//! The live side of the API over a real anvil and SQLite: `GET /v1/events` read while a lying
//! worker's result is disputed, overturned and answered again until the job settles, resumed with
//! `Last-Event-ID`, bounded, kept alive, closed on shutdown; `GET /v1/accounts` after it; the
//! dashboard's files.

mod common;

use alloy::primitives::U256;
use axum::{
    Router,
    body::{Body, BodyDataStream},
    http::{Request, StatusCode},
};
use common::*;
use futures::StreamExt;
use rand::{SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use std::{collections::BTreeSet, time::Duration};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;
use vouch_chain::anvil::increase_time;
use vouch_coordinator::{ApiConfig, CoordinatorConfig, router, serve};
use vouch_core::{reference, tensor};

/// One server-sent event (or comment) as read off the wire.
#[derive(Debug, Clone, Default)]
struct Message {
    id: Option<String>,
    event: Option<String>,
    data: Value,
    comment: Option<String>,
}

/// Reads server-sent events from a response body.
struct SseReader {
    body: BodyDataStream,
    buf: String,
}

impl SseReader {
    /// `GET /v1/events` on `app`, resuming after `last_event_id` when given.
    async fn open(app: &Router, last_event_id: Option<&str>) -> Self {
        let mut req = Request::get("/v1/events");
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let resp = app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        assert_eq!(resp.headers()["cache-control"], "no-cache");
        Self {
            body: resp.into_body().into_data_stream(),
            buf: String::new(),
        }
    }

    /// The next event or comment (panics after 60 s without one, or when the stream ends).
    async fn next(&mut self) -> Message {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut m = Message::default();
                for line in block.lines() {
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
                    match field {
                        "" => m.comment = Some(value),
                        "id" => m.id = Some(value),
                        "event" => m.event = Some(value),
                        "data" => m.data = serde_json::from_str(&value).unwrap(),
                        other => panic!("unexpected field {other:?} in {block:?}"),
                    }
                }
                return m;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(60), self.body.next())
                .await
                .expect("an event within 60 s")
                .expect("the stream stays open")
                .unwrap();
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next event, skipping keep-alive comments.
    async fn next_event(&mut self) -> Message {
        loop {
            let m = self.next().await;
            if m.event.is_some() {
                return m;
            }
        }
    }
}

fn kind(m: &Message) -> &str {
    m.event.as_deref().unwrap()
}

fn seq(m: &Message) -> u64 {
    m.id.as_ref()
        .unwrap()
        .rsplit('-')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// A lying worker's result is challenged and overturned, an honest one settles the job: the
/// stream carries every step in order, with the REST API's own records, and a client that
/// reconnects resumes exactly where it stopped.
#[tokio::test]
async fn events_follow_a_dispute_and_a_settlement_and_resume() {
    let mut rng = StdRng::seed_from_u64(seed());
    let env = setup(&mut rng).await;
    dispute_events_flow(env, &mut rng).await;
}

/// The same dispute, stream and accounts on PostgreSQL (skipped when `VOUCH_TEST_POSTGRES_URL` is
/// unset).
#[tokio::test]
async fn postgres_serves_the_same_events_and_accounts() {
    let Some(url) = fresh_postgres("events").await else {
        return;
    };
    let mut rng = StdRng::seed_from_u64(seed());
    let env = setup_with(&mut rng, Some(url.clone())).await;
    let pool = env.state.pool.clone();
    dispute_events_flow(env, &mut rng).await;
    pool.close().await;
    drop_postgres(&url).await;
}

async fn dispute_events_flow(env: Env, rng: &mut StdRng) {
    let mut indexer = env.indexer().await;
    indexer.catch_up().await.unwrap();
    // The router over the state the indexer publishes to.
    let api = Api {
        app: router(env.state.clone()),
        key: Some(env.key.clone()),
    };
    let mut stream = SseReader::open(&api.app, None).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        loop {
            let m = stream.next_event().await;
            if tx.send(m).is_err() {
                break;
            }
        }
    });

    let dir = TempDir::new();
    let mut liar = env.lying_worker(&dir.0.join("liar"), 3).await;
    let mut challenger = env.honest_challenger(&dir.0.join("challenger"), 4).await;
    let input = env.random_input(rng);
    let (status, posted) = post(
        &api,
        "/v1/jobs",
        json!({ "model_id": env.model_id.to::<u64>(), "input": input }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    let job = posted["job_id"].as_u64().unwrap();
    assert_eq!(liar.step().await.unwrap().submitted, 1);
    let mut won = 0;
    for _ in 0..200 {
        liar.step().await.unwrap();
        won += challenger.step().await.unwrap().won;
        indexer.catch_up().await.unwrap();
        if won == 1 {
            break;
        }
    }
    assert_eq!(won, 1, "the honest challenger wins");

    // The re-opened job, answered honestly, settles after the window.
    let honest = env.market_as(2).await;
    let trace = reference::run(&env.model, &input).unwrap();
    let c = trace.commitments();
    honest
        .submit_result(
            U256::from(job),
            c.output_root,
            c.trace_root(honest.client().address()),
            &tensor::to_bytes(trace.output()),
            U256::from(BOND),
        )
        .await
        .unwrap();
    indexer.catch_up().await.unwrap();
    increase_time(env.owner.provider(), WINDOW + 1)
        .await
        .unwrap();
    honest.finalize(U256::from(job)).await.unwrap();
    indexer.catch_up().await.unwrap();

    let mut seen: Vec<Message> = Vec::new();
    while seen.last().is_none_or(|m| kind(m) != "job_settled") {
        let m = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("the settlement arrives")
            .unwrap();
        seen.push(m);
    }
    reader.abort();
    let kinds: Vec<&str> = seen.iter().map(kind).collect();
    let first_seq = seq(&seen[0]);
    for (i, m) in seen.iter().enumerate() {
        assert_eq!(
            seq(m),
            first_seq + i as u64,
            "ids count up without gaps: {kinds:?}"
        );
    }
    assert_eq!(
        kinds[..3],
        ["job_posted", "job_submitted", "game_opened"],
        "{kinds:?}"
    );
    assert_eq!(
        kinds[kinds.len() - 4..],
        [
            "job_overturned",
            "game_resolved",
            "job_submitted",
            "job_settled"
        ],
        "{kinds:?}"
    );
    let moved = &kinds[3..kinds.len() - 4];
    let depth = vouch_core::dispute::state_depth(env.model.op_count()) as usize;
    assert!(
        moved.iter().all(|k| *k == "game_moved") && moved.len() > depth,
        "one game_moved per move: {kinds:?}"
    );

    // Payloads are the REST API's records, in its vocabulary.
    let liar_address = hex0x(env.chain.signer(3).address().as_slice());
    assert_eq!(seen[0].data["job"]["status"], "open");
    assert_eq!(seen[0].data["job"]["job_id"], job);
    assert_eq!(seen[1].data["job"]["status"], "submitted");
    assert_eq!(seen[1].data["job"]["worker"], liar_address);
    let overturned = &seen[kinds.len() - 4].data;
    assert_eq!(overturned["job"]["status"], "open", "{overturned}");
    assert_eq!(overturned["job"]["worker"], Value::Null);
    assert_eq!(overturned["worker"], liar_address);
    assert_eq!(overturned["attempt"], 1);
    assert_eq!(overturned["slashed_wei"], BOND.to_string());
    let (_, now) = get(&api, &format!("/v1/jobs/{job}")).await;
    assert_eq!(
        seen.last().unwrap().data["job"],
        now,
        "the settled job as served"
    );
    assert_eq!(keys(&seen[0].data["job"]), keys(&now));
    assert!(seen.iter().all(|m| m.data["block"].is_u64()));

    let game_id = seen[2].data["game"]["game_id"].as_u64().unwrap();
    let (_, mut detail) = get(&api, &format!("/v1/games/{game_id}")).await;
    let moves = detail.as_object_mut().unwrap().remove("moves").unwrap();
    let streamed: Vec<Value> = seen
        .iter()
        .filter(|m| kind(m).starts_with("game_"))
        .map(|m| m.data["move"].clone())
        .collect();
    assert_eq!(
        Value::Array(streamed),
        moves,
        "every move, as GET /v1/games/{{id}} lists them"
    );
    assert_eq!(
        seen[kinds.len() - 3].data["game"],
        detail,
        "the resolved game as served"
    );
    assert_eq!(detail["status"], "challenger_won");
    // Each move shows the walk where it stood: the depth grows while the state is walked.
    let depths: Vec<u64> = seen[3..kinds.len() - 4]
        .iter()
        .map(|m| m.data["game"]["depth"].as_u64().unwrap())
        .take(depth)
        .collect();
    assert_eq!(depths, (1..=depth as u64).collect::<Vec<_>>(), "{kinds:?}");

    // Reconnecting after the game opened: everything after it, nothing twice.
    let mut resumed = SseReader::open(&api.app, seen[2].id.as_deref()).await;
    for m in &seen[3..] {
        let r = resumed.next_event().await;
        assert_eq!((r.id.as_deref(), kind(&r)), (m.id.as_deref(), kind(m)));
        assert_eq!(r.data, m.data);
    }
    // An id from another process (or too old) says to reload, and where the stream stands.
    let mut stale = SseReader::open(&api.app, Some("0badc0de-3")).await;
    let reset = stale.next_event().await;
    assert_eq!(kind(&reset), "reset");
    assert!(
        reset.data["reason"].as_str().unwrap().contains("reload"),
        "{:?}",
        reset.data
    );
    assert_eq!(reset.id, seen.last().unwrap().id);

    // The accounts: the liar slashed, the challenger paid a share, the honest worker its fee.
    let challenger_address = hex0x(env.chain.signer(4).address().as_slice());
    let honest_address = hex0x(honest.client().address().as_slice());
    let (status, accounts) = get(&api, "/v1/accounts").await;
    assert_eq!(status, StatusCode::OK, "{accounts}");
    let find = |a: &str| {
        accounts
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["address"] == a)
            .unwrap_or_else(|| panic!("{a} in {accounts}"))
            .clone()
    };
    let l = find(&liar_address);
    assert_eq!(
        (
            &l["results_submitted"],
            &l["results_overturned"],
            &l["games_defended"]
        ),
        (&json!(1), &json!(1), &json!(1)),
        "{l}"
    );
    assert_eq!(l["slashed_wei"], BOND.to_string());
    assert_eq!(l["net_wei"], format!("-{BOND}"));
    let ch = find(&challenger_address);
    let paid: U256 = detail["challenger_paid_wei"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let bond: U256 = detail["bond_wei"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        (&ch["games_challenged"], &ch["games_won"], &ch["games_lost"]),
        (&json!(1), &json!(1), &json!(0)),
        "{ch}"
    );
    assert_eq!(ch["rewards_wei"], (paid - bond).to_string(), "{ch}");
    assert_eq!(ch["slashed_wei"], "0");
    let h = find(&honest_address);
    let royalty = FEE * u64::from(ROYALTY_BPS) / 10_000;
    assert_eq!(h["results_settled"], 1, "{h}");
    assert_eq!(h["fees_wei"], (FEE - royalty).to_string());
    assert_eq!(h["net_wei"], (FEE - royalty).to_string());
    assert_eq!(
        accounts.as_array().unwrap().last().unwrap()["address"],
        liar_address,
        "highest net first"
    );
    let role = |v: &Value| -> BTreeSet<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| a["address"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, workers) = get(&api, "/v1/accounts?role=worker").await;
    assert_eq!(
        role(&workers),
        BTreeSet::from([liar_address, honest_address])
    );
    let (_, challengers) = get(&api, "/v1/accounts?role=challenger").await;
    assert_eq!(role(&challengers), BTreeSet::from([challenger_address]));
    let (status, e) = get(&api, "/v1/accounts?role=owner").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_of(&e),
        "unknown role \"owner\": expected one of worker, challenger"
    );
}

/// Streams are bounded (a clear 503 past the limit, a slot freed when a client leaves), idle ones
/// get keep-alive comments, and a served coordinator's shutdown ends the open ones.
#[tokio::test]
async fn event_streams_are_bounded_kept_alive_and_closed_on_shutdown() {
    let mut rng = StdRng::seed_from_u64(seed());
    let env = setup(&mut rng).await;
    let api = env.app_with(ApiConfig {
        max_event_streams: 2,
        event_keep_alive: Duration::from_millis(100),
        ..test_api_config()
    });
    let mut a = SseReader::open(&api.app, None).await;
    let b = SseReader::open(&api.app, None).await;
    let (status, e) = get(&api, "/v1/events").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_of(&e), "all 2 event streams are open; retry later");
    let keep_alive = a.next().await;
    // An idle stream gets comments (not events) while nothing happens.
    assert!(
        keep_alive.comment.is_some() && keep_alive.event.is_none(),
        "{keep_alive:?}"
    );
    drop(b);
    let (status, _) = get(&api, "/v1/events").await;
    assert_eq!(status, StatusCode::OK, "a slot is free again");

    // Over TCP against the whole service: shutdown does not wait for the stream's client.
    let handle = serve(CoordinatorConfig::new(
        env.db_url.clone(),
        "127.0.0.1:0".parse().unwrap(),
        env.cfg.clone(),
        env.deployment,
        env.chain.signer(5),
    ))
    .await
    .unwrap();
    let mut tcp = tokio::net::TcpStream::connect(handle.local_addr())
        .await
        .unwrap();
    tcp.write_all(b"GET /v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        tcp.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    tokio::time::timeout(Duration::from_secs(20), handle.shutdown())
        .await
        .expect("shutdown ends open event streams");
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut rest))
        .await
        .expect("the stream's connection is closed")
        .unwrap();
}

/// The dashboard's page, script and style, same-origin only.
#[tokio::test]
async fn dashboard_is_served_with_a_strict_policy() {
    let mut rng = StdRng::seed_from_u64(seed());
    let env = setup(&mut rng).await;
    let api = env.app();
    for (path, content_type, needle) in [
        (
            "/",
            "text/html; charset=utf-8",
            "<title>Vouch dashboard</title>",
        ),
        (
            "/dashboard.js",
            "text/javascript; charset=utf-8",
            "new EventSource(\"/v1/events\")",
        ),
        ("/dashboard.css", "text/css; charset=utf-8", ".game"),
    ] {
        let req = Request::get(path).body(Body::empty()).unwrap();
        let (status, headers, body) = send(&api, req).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(headers["content-type"], content_type, "{path}");
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.starts_with("default-src 'none'"), "{policy}");
        assert!(!policy.contains("http"), "no other origin: {policy}");
        assert!(body.as_str().unwrap().contains(needle), "{path}");
    }
}
