//! End-to-end tests against a real anvil with the compiled contracts and a real SQLite file: the
//! HTTP API through the router, the indexer following results and settlements, and restarts.

mod common;

use alloy::primitives::U256;
use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use rand::{SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use std::{net::SocketAddr, time::Duration};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vouch_chain::{anvil::increase_time, registry::list_model};
use vouch_coordinator::{ApiConfig, CoordinatorConfig, db, indexer::cursor_name, keys, serve};
use vouch_core::{
    commit::tensor_root,
    random::random_model,
    reference,
    tensor::{self, Tensor},
};

use common::*;

#[tokio::test]
async fn http_lists_models_and_posts_jobs() {
    let mut rng = StdRng::seed_from_u64(seed());
    let env = setup(&mut rng).await;
    env.catch_up().await;
    let app = env.app();

    let (status, models) = get(&app, "/v1/models").await;
    assert_eq!(status, StatusCode::OK, "{models}");
    let models = models.as_array().unwrap();
    assert_eq!(models.len(), 1);
    let m = &models[0];
    assert_eq!(m["id"], 1);
    assert_eq!(m["status"], "active");
    assert_eq!(m["input_len"], 16);
    assert_eq!(m["output_len"], 4);
    assert_eq!(m["input_shape"], serde_json::json!([1, 1, 16]));
    assert_eq!(m["output_shape"], serde_json::json!([1, 1, 4]));
    assert_eq!(m["op_count"], env.model.op_count());
    assert_eq!(m["fee_wei"], FEE.to_string());
    assert_eq!(m["royalty_bps"], ROYALTY_BPS);
    assert_eq!(m["name"], env.model.meta.name);
    assert_eq!(
        m["root"],
        hex0x(vouch_core::commit::model_root(&env.model).as_slice())
    );
    assert_eq!(m["owner"], hex0x(env.owner.address().as_slice()));
    let (status, one) = get(&app, "/v1/models/1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&one, m);

    let (status, health) = get(&app, "/health").await;
    assert_eq!(status, StatusCode::OK, "{health}");
    assert_eq!(health["status"], "ok");
    assert!(
        health["indexed_block"].as_u64().unwrap() <= health["chain_head"].as_u64().unwrap(),
        "{health}"
    );

    // An input nested in exactly the model's shape [1][1][16] flattens row-major.
    let input = env.random_input(&mut rng);
    let (status, posted) = post(
        &app,
        "/v1/jobs",
        json!({ "model_id": 1, "input": [[input]] }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    assert_eq!(posted["job_id"], 1);
    assert_eq!(posted["status"], "open");
    assert_eq!(
        posted["input_root"],
        hex0x(tensor_root(&input, input.len()).as_slice())
    );
    assert_eq!(posted["tx_hash"].as_str().unwrap().len(), 66);

    // Readable at once, before any indexer run.
    let (status, job) = get(&app, "/v1/jobs/1").await;
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(job["model_id"], 1);
    assert_eq!(job["status"], "open");
    assert_eq!(as_tensor(&job["input"]), input);
    assert_eq!(job["input_root"], posted["input_root"]);
    assert_eq!(
        job["poster"],
        hex0x(env.state.market.client().address().as_slice())
    );
    assert_eq!(job["fee_wei"], FEE.to_string());
    assert_eq!(job["deadline"], posted["deadline"]);
    assert_eq!(job["output"], Value::Null);
    assert_eq!(job["worker"], Value::Null);
    assert_eq!(job["settled"], false);
    let on_chain = env.state.market.job(U256::from(1)).await.unwrap();
    assert_eq!(job["deadline"], on_chain.deadline);

    // The indexer meeting the same event changes nothing.
    env.catch_up().await;
    assert_eq!(get(&app, "/v1/jobs/1").await.1, job);

    let input2 = env.random_input(&mut rng);
    let (status, posted2) = post(
        &app,
        "/v1/jobs",
        json!({ "model_id": 1, "input": input2, "ttl_secs": 120 }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{posted2}");
    assert_eq!(posted2["job_id"], 2);

    let ids = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|j| j["job_id"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    let (status, list) = get(&app, "/v1/jobs").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&list), [2, 1], "newest first");
    assert_eq!(ids(&get(&app, "/v1/jobs?limit=1").await.1), [2]);
    assert_eq!(ids(&get(&app, "/v1/jobs?before=2").await.1), [1]);
    assert_eq!(
        ids(&get(&app, "/v1/jobs?status=open&model_id=1&limit=50")
            .await
            .1),
        [2, 1]
    );
    assert_eq!(
        ids(&get(&app, "/v1/jobs?status=settled").await.1),
        Vec::<u64>::new()
    );
    assert_eq!(
        ids(&get(&app, "/v1/jobs?model_id=7").await.1),
        Vec::<u64>::new()
    );

    let (status, text) = get(&app, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().unwrap();
    assert!(text.contains("vouch_jobs{status=\"open\"} 2\n"), "{text}");
    assert!(
        text.contains("vouch_models{status=\"active\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("vouch_indexed_block "), "{text}");
    assert!(
        text.contains("vouch_http_requests_total{route=\"/v1/jobs\",status=\"201\"} 2\n"),
        "{text}"
    );
    assert!(
        text.contains("vouch_http_requests_total{route=\"/v1/jobs/{id}\",status=\"200\"} "),
        "{text}"
    );
}

#[tokio::test]
async fn http_rejects_bad_requests_precisely() {
    let mut rng = StdRng::seed_from_u64(seed());
    let env = setup(&mut rng).await;
    // A second model, to retire.
    let other = random_model(&mut rng, &[16, 8, 4]);
    let other_id = list_model(&env.owner, &env.deployment, &other, U256::from(FEE), 0)
        .await
        .unwrap();
    env.catch_up().await;
    let app = env.app();
    let good: Vec<i8> = env.random_input(&mut rng);

    let (status, body) = post(&app, "/v1/jobs", json!({ "model_id": 99, "input": good })).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(error_of(&body), "model 99 not found");

    let (status, body) = post(
        &app,
        "/v1/jobs",
        json!({ "model_id": 1, "input": [1, 2, 3] }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(error_of(&body).contains("expects 16"), "{body}");

    // 16 elements, but nested as [4][4] for a [1][1][16] model: refused by shape, not count.
    let rows: Vec<&[i8]> = good.chunks(4).collect();
    let (status, body) = post(&app, "/v1/jobs", json!({ "model_id": 1, "input": rows })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        error_of(&body).contains("nested as [4][4]") && error_of(&body).contains("[1][1][16]"),
        "{body}"
    );

    let mut bad = good.iter().map(|&v| i64::from(v)).collect::<Vec<_>>();
    bad[5] = 300;
    let (status, body) = post(&app, "/v1/jobs", json!({ "model_id": 1, "input": bad })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        error_of(&body).contains("300") && error_of(&body).contains("index 5"),
        "{body}"
    );

    let (status, body) = post(&app, "/v1/jobs", json!({ "model_id": 1, "input": ["a"] })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, body) = call(
        &app,
        "POST",
        "/v1/jobs",
        Some("{\"model_id\": 1, \"input\": [1, 2".into()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(error_of(&body).starts_with("invalid JSON body"), "{body}");

    let (status, body) = post(&app, "/v1/jobs", json!({ "input": good })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(error_of(&body).contains("model_id"), "{body}");

    let (status, body) = post(
        &app,
        "/v1/jobs",
        json!({ "model_id": 1, "input": good, "ttl_secs": 0 }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(error_of(&body).contains("ttl_secs"), "{body}");

    let huge = json!({ "model_id": 1, "input": vec![0; BODY_LIMIT] }).to_string();
    let (status, body) = call(&app, "POST", "/v1/jobs", Some(huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(error_of(&body).contains(&BODY_LIMIT.to_string()), "{body}");

    let (status, body) = get(&app, "/v1/jobs/12345").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(error_of(&body), "job 12345 not found");
    let (status, body) = get(&app, "/v1/jobs/abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(error_of(&body).contains("abc"), "{body}");
    let (status, _) = get(&app, "/v1/models/42").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = get(&app, "/v1/jobs?status=done").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(error_of(&body).contains("\"done\""), "{body}");
    let (status, body) = get(&app, "/v1/jobs?model_id=x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = get(&app, "/nowhere").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // Retired on chain, indexed: refused before anything is sent.
    let retire = env.registry().retire(other_id).into_transaction_request();
    env.owner.send(retire).await.unwrap();
    env.catch_up().await;
    assert_eq!(
        get(&app, &format!("/v1/models/{other_id}")).await.1["status"],
        "retired"
    );
    let (status, body) = post(
        &app,
        "/v1/jobs",
        json!({ "model_id": other_id.to::<u64>(), "input": good }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(error_of(&body).contains("retired"), "{body}");

    // The price changed on chain but is not indexed yet: the contract's typed revert comes back.
    let reprice = env
        .registry()
        .setPrice(env.model_id, U256::from(FEE * 2), ROYALTY_BPS)
        .into_transaction_request();
    env.owner.send(reprice).await.unwrap();
    let (status, body) = post(&app, "/v1/jobs", json!({ "model_id": 1, "input": good })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let msg = error_of(&body);
    assert!(
        msg.contains("WrongFee")
            && msg.contains(&FEE.to_string())
            && msg.contains(&(FEE * 2).to_string()),
        "{msg}"
    );
    env.catch_up().await;
    assert_eq!(
        get(&app, "/v1/models/1").await.1["fee_wei"],
        (FEE * 2).to_string()
    );
    assert_eq!(
        get(&app, "/v1/jobs").await.1,
        json!([]),
        "nothing was posted"
    );

    // The chain goes away: 503, without internals.
    let Env { chain, .. } = env;
    drop(chain);
    let (status, body) = post(&app, "/v1/jobs", json!({ "model_id": 1, "input": good })).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(!error_of(&body).contains("127.0.0.1"), "{body}");
    let (status, body) = get(&app, "/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "degraded");
}

/// Differential: the indexed output is the reference interpreter's output for the posted input.
#[tokio::test]
async fn indexer_follows_results_settlements_and_refunds() {
    let mut rng = StdRng::seed_from_u64(seed());
    let env = setup(&mut rng).await;
    settlement_flow(&env, &mut rng).await;
}

/// The same flow on PostgreSQL, in a fresh database under `VOUCH_TEST_POSTGRES_URL`
/// (e.g. `postgres://vouch@127.0.0.1:5432`); skipped when it is unset.
#[tokio::test]
async fn postgres_serves_the_same_flow() {
    let Some(url) = fresh_postgres("flow").await else {
        return;
    };
    let mut rng = StdRng::seed_from_u64(seed());
    let env = setup_with(&mut rng, Some(url.clone())).await;
    settlement_flow(&env, &mut rng).await;

    // Replaying from the deployment block changes nothing here either.
    let app = env.app();
    let before = snapshot(&app).await;
    let cursor = cursor_name(&env.deployment);
    let mut conn = env.state.pool.acquire().await.unwrap();
    db::store_cursor(&mut conn, &cursor, env.deployment.start_block)
        .await
        .unwrap();
    drop(conn);
    env.catch_up().await;
    assert_eq!(snapshot(&app).await, before);
    env.state.pool.close().await;
    drop_postgres(&url).await;
}

async fn settlement_flow(env: &Env, rng: &mut StdRng) {
    env.catch_up().await;
    let app = env.app();

    let input = env.random_input(rng);
    let (status, posted) = post(&app, "/v1/jobs", json!({ "model_id": 1, "input": input })).await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    let (status, expiring) = post(
        &app,
        "/v1/jobs",
        json!({ "model_id": 1, "input": input, "ttl_secs": 30 }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{expiring}");

    // A worker (another account) runs the model and submits directly on chain.
    let trace = reference::run(&env.model, &input).unwrap();
    let c = trace.commitments();
    let worker = env.market_as(2).await;
    let trace_root = c.trace_root(worker.client().address());
    let output_bytes = tensor::to_bytes(trace.output());
    worker
        .submit_result(
            U256::from(1),
            c.output_root,
            trace_root,
            &output_bytes,
            U256::from(BOND),
        )
        .await
        .unwrap();
    env.catch_up().await;
    let (_, job) = get(&app, "/v1/jobs/1").await;
    assert_eq!(job["status"], "submitted", "{job}");
    assert_eq!(as_tensor(&job["output"]), trace.output());
    assert_eq!(job["output_root"], hex0x(c.output_root.as_slice()));
    assert_eq!(job["trace_root"], hex0x(trace_root.as_slice()));
    assert_eq!(job["worker"], hex0x(worker.client().address().as_slice()));
    assert_eq!(job["settled"], false);
    assert!(job["submitted_at"].as_u64().is_some());
    let (status, e) = get(&app, "/v1/jobs/1/receipt").await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    assert_eq!(
        error_of(&e),
        "job 1 is submitted, not settled: it has a receipt once it settles"
    );

    increase_time(env.owner.provider(), WINDOW + 1)
        .await
        .unwrap();
    worker.finalize(U256::from(1)).await.unwrap();
    worker.refund_expired(U256::from(2)).await.unwrap();
    env.catch_up().await;

    let (_, job) = get(&app, "/v1/jobs/1").await;
    assert_eq!(job["status"], "settled", "{job}");
    assert_eq!(job["settled"], true);
    assert_eq!(as_tensor(&job["output"]), trace.output());
    let royalty = FEE * u64::from(ROYALTY_BPS) / 10_000;
    assert_eq!(job["royalty_wei"], royalty.to_string());
    assert_eq!(job["worker_payout_wei"], (FEE - royalty + BOND).to_string());
    let (_, job2) = get(&app, "/v1/jobs/2").await;
    assert_eq!(job2["status"], "expired", "{job2}");
    assert_eq!(job2["refund_wei"], FEE.to_string());
    assert_eq!(job2["output"], Value::Null);

    // The receipt, read from the chain, agrees with the index and names every transaction.
    let (status, receipt) = get(&app, "/v1/jobs/1/receipt").await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    for field in [
        "input_root",
        "output_root",
        "trace_root",
        "worker",
        "output",
    ] {
        assert_eq!(receipt[field], job[field], "{field}");
    }
    assert_eq!(receipt["posted"]["tx_hash"], job["posted_tx"]);
    assert_eq!(receipt["posted"]["block"], job["posted_block"]);
    assert_eq!(
        receipt["model_root"],
        hex0x(vouch_core::commit::model_root(&env.model).as_slice())
    );
    assert_eq!(receipt["output_bytes"], hex0x(&output_bytes));
    assert_eq!(receipt["worker_payout_wei"], job["worker_payout_wei"]);
    assert_eq!(
        receipt["attempts"].as_array().unwrap().len(),
        1,
        "{receipt}"
    );
    assert_eq!(receipt["attempts"][0]["overturned"], Value::Null);
    assert_eq!(receipt["games"], json!([]));
    assert!(
        receipt["settled"]["block"].as_u64()
            > receipt["attempts"][0]["submitted"]["block"].as_u64()
    );
    let (status, e) = get(&app, "/v1/jobs/2/receipt").await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    assert!(
        error_of(&e).starts_with("job 2 is expired, not settled"),
        "{e}"
    );
    let (status, e) = get(&app, "/v1/jobs/99/receipt").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");
    assert_eq!(error_of(&e), "job 99 not found");

    let (_, settled) = get(&app, "/v1/jobs?status=settled").await;
    assert_eq!(settled.as_array().unwrap().len(), 1);
    let (_, text) = get(&app, "/metrics").await;
    let text = text.as_str().unwrap();
    assert!(
        text.contains("vouch_jobs{status=\"settled\"} 1\n")
            && text.contains("vouch_jobs{status=\"expired\"} 1\n"),
        "{text}"
    );
}

async fn http_get(addr: SocketAddr, path: &str) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let status = raw.split(' ').nth(1).unwrap().parse().unwrap();
    let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Full snapshot of what the API serves, to compare across restarts.
async fn snapshot(app: &Api) -> (Value, Value) {
    (
        get(app, "/v1/models").await.1,
        get(app, "/v1/jobs?limit=500").await.1,
    )
}

#[tokio::test]
async fn indexer_restarts_resume_and_replays_change_nothing() {
    let mut rng = StdRng::seed_from_u64(seed());
    let env = setup(&mut rng).await;
    let app = env.app();
    let pool = env.state.pool.clone();
    let cursor = cursor_name(&env.deployment);

    let mut first = env.indexer().await;
    assert_eq!(
        first.next_block(),
        env.deployment.start_block,
        "a fresh database starts at the deployment"
    );
    let c1 = first.catch_up().await.unwrap();
    drop(first);
    assert_eq!(db::load_cursor(&pool, &cursor).await.unwrap(), Some(c1));

    // Jobs posted by someone else, directly on chain, while the indexer is stopped.
    let other = env.market_as(3).await;
    for _ in 0..3 {
        let input = Tensor::new(env.model.input, env.random_input(&mut rng)).unwrap();
        other
            .post_job(
                env.model_id,
                &input,
                other.chain_time().await.unwrap() + 600,
                U256::from(FEE),
            )
            .await
            .unwrap();
    }
    let mut second = env.indexer().await;
    assert_eq!(second.next_block(), c1, "resumed from the stored cursor");
    let c2 = second.catch_up().await.unwrap();
    assert!(c2 > c1);
    let before = snapshot(&app).await;
    assert_eq!(before.0.as_array().unwrap().len(), 1);
    let ids: Vec<u64> = before
        .1
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job_id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [3, 2, 1], "no job lost or duplicated");

    // Replay everything from the deployment block: same rows.
    let mut conn = pool.acquire().await.unwrap();
    db::store_cursor(&mut conn, &cursor, env.deployment.start_block)
        .await
        .unwrap();
    drop(conn);
    let mut replay = env.indexer().await;
    assert_eq!(replay.next_block(), env.deployment.start_block);
    assert_eq!(replay.catch_up().await.unwrap(), c2);
    assert_eq!(snapshot(&app).await, before, "a replay changes nothing");

    // The whole service: indexes in the background, serves over TCP, stops, resumes.
    let config = CoordinatorConfig::new(
        env.db_url.clone(),
        "127.0.0.1:0".parse().unwrap(),
        env.cfg.clone(),
        env.deployment,
        env.chain.signer(4),
    );
    let input = Tensor::new(env.model.input, env.random_input(&mut rng)).unwrap();
    other
        .post_job(
            env.model_id,
            &input,
            other.chain_time().await.unwrap() + 600,
            U256::from(FEE),
        )
        .await
        .unwrap();
    let handle = serve(config.clone()).await.unwrap();
    let addr = handle.local_addr();
    let mut health = Value::Null;
    for _ in 0..100 {
        let (status, h) = http_get(addr, "/health").await;
        assert_eq!(status, 200, "{h}");
        health = h;
        if health["indexed_block"] == health["chain_head"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        health["indexed_block"], health["chain_head"],
        "background indexer caught up: {health}"
    );
    let (status, job) = http_get(addr, "/v1/jobs/4").await;
    assert_eq!(status, 200, "{job}");
    assert_eq!(job["poster"], hex0x(other.client().address().as_slice()));
    handle.shutdown().await;
    let c3 = db::load_cursor(&pool, &cursor).await.unwrap().unwrap();
    assert!(c3 > c2);

    let handle = serve(config).await.unwrap();
    let (status, health) = http_get(handle.local_addr(), "/health").await;
    assert_eq!(status, 200);
    assert!(
        health["indexed_block"].as_u64().unwrap() + 1 >= c3,
        "{health}"
    );
    handle.shutdown().await;
    let (models, jobs) = snapshot(&app).await;
    assert_eq!(models, before.0);
    assert_eq!(jobs.as_array().unwrap().len(), 4);
}

/// A lying worker's result disputed by an honest challenger, indexed and served: `/v1/games` lists the
/// game, `/v1/games/{id}` shows every move of the bisection down to the element the contract computed,
/// and the job is served as open again once the result is overturned.
#[tokio::test]
async fn http_serves_a_dispute_as_it_narrows() {
    let mut rng = StdRng::seed_from_u64(seed());
    let env = setup(&mut rng).await;
    let app = env.app();
    let dir = TempDir::new();
    let mut worker = env.lying_worker(&dir.0.join("worker"), 3).await;
    let mut challenger = env.honest_challenger(&dir.0.join("challenger"), 4).await;
    env.catch_up().await;
    let input = env.random_input(&mut rng);
    let (status, posted) = post(
        &app,
        "/v1/jobs",
        json!({ "model_id": env.model_id.to::<u64>(), "input": input }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    let job = posted["job_id"].as_u64().unwrap();
    assert_eq!(worker.step().await.unwrap().submitted, 1);
    let mut won = 0;
    for _ in 0..200 {
        worker.step().await.unwrap();
        won += challenger.step().await.unwrap().won;
        if won == 1 {
            break;
        }
    }
    assert_eq!(won, 1, "the honest challenger wins");
    env.catch_up().await;

    let (status, list) = get(&app, &format!("/v1/games?job_id={job}")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let games = list.as_array().unwrap();
    assert_eq!(games.len(), 1, "{list}");
    let id = games[0]["game_id"].as_u64().unwrap();
    assert_eq!(games[0]["status"], "challenger_won");
    assert_eq!(
        games[0]["challenger"],
        hex0x(env.chain.signer(4).address().as_slice())
    );
    // The lie is in op 0's output (slot 1), so the walk down the final state ends there.
    assert_eq!(games[0]["slot"].as_u64(), Some(1), "{list}");
    assert_eq!(games[0]["phase"], "step", "{list}");
    assert_eq!(games[0]["step_op"], 0);
    assert_ne!(games[0]["claimed"], games[0]["actual"], "{list}");

    let (status, detail) = get(&app, &format!("/v1/games/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    let kinds: Vec<&str> = detail["moves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"opened"), "{detail}");
    assert_eq!(kinds.last(), Some(&"resolved"), "{detail}");
    assert!(
        kinds.contains(&"step_proven") && kinds.contains(&"element_named"),
        "{kinds:?}"
    );
    let n = env.model.op_count();
    // One pick per level of the final state (n + 1 slots), then one per level of the tensor.
    let depth = vouch_core::dispute::state_depth(n) as usize;
    let slot_at = kinds.iter().position(|k| *k == "slot_disputed").unwrap();
    let state_picks = kinds[..slot_at]
        .iter()
        .filter(|k| **k == "descended")
        .count();
    assert_eq!(state_picks, depth, "{kinds:?}");

    // The overturned job is open again, its void result gone.
    let (_, j) = get(&app, &format!("/v1/jobs/{job}")).await;
    assert_eq!(j["status"], "open", "{j}");
    assert_eq!(j["worker"], Value::Null, "{j}");
    let (_, m) = get(&app, "/metrics").await;
    assert!(
        m.as_str()
            .unwrap()
            .contains("vouch_games{status=\"challenger_won\"} 1"),
        "{m}"
    );

    // An honest answer to the re-opened job settles; the receipt keeps the overturned result, with
    // the transaction that overturned it, and the game that did.
    let trace = reference::run(&env.model, &input).unwrap();
    let c = trace.commitments();
    let honest = env.market_as(2).await;
    let job_id = U256::from(job);
    honest
        .submit_result(
            job_id,
            c.output_root,
            c.trace_root(honest.client().address()),
            &tensor::to_bytes(trace.output()),
            U256::from(BOND),
        )
        .await
        .unwrap();
    increase_time(env.owner.provider(), WINDOW + 1)
        .await
        .unwrap();
    honest.finalize(job_id).await.unwrap();
    let (status, receipt) = get(&app, &format!("/v1/jobs/{job}/receipt")).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["attempt"], 2, "{receipt}");
    assert_eq!(
        receipt["worker"],
        hex0x(honest.client().address().as_slice())
    );
    assert_eq!(as_tensor(&receipt["output"]), trace.output());
    let attempts = receipt["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{receipt}");
    assert_eq!(attempts[0]["worker"], hex0x(worker.address().as_slice()));
    assert!(
        attempts[0]["overturned"]["tx_hash"].is_string(),
        "{receipt}"
    );
    assert_eq!(attempts[1]["overturned"], Value::Null);
    assert_eq!(receipt["games"][0]["game_id"], id);
    assert_eq!(receipt["games"][0]["outcome"], "challenger_won");
    assert_eq!(receipt["games"][0]["attempt"], 1);
    assert_eq!(
        receipt["games"][0]["resolved"], attempts[0]["overturned"],
        "the step that resolved the game overturned the result"
    );

    // Bad ids and filters get precise errors.
    let (status, e) = get(&app, "/v1/games/99").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_of(&e), "game 99 not found");
    let (status, e) = get(&app, "/v1/games?status=won").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&e).contains("unknown status \"won\""), "{e}");
    let (status, e) = get(&app, "/v1/games/x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
}

/// Every id and number a path or query names, at 2^63 and beyond, negative or not a number, gets a
/// 400 naming the parameter; every error status, axum's own included, has a JSON body.
#[tokio::test]
async fn http_errors_are_json_with_4xx_for_every_bad_number() {
    let mut rng = StdRng::seed_from_u64(seed());
    let env = setup(&mut rng).await;
    env.catch_up().await;
    let app = env.app();

    let numbered = [
        ("/v1/models/", "", "model id"),
        ("/v1/jobs/", "", "job id"),
        ("/v1/games/", "", "game id"),
        ("/v1/jobs?model_id=", "", "model_id"),
        ("/v1/jobs?before=", "", "before"),
        ("/v1/jobs?limit=", "", "limit"),
        ("/v1/jobs?status=open&model_id=", "&limit=5", "model_id"),
        ("/v1/games?job_id=", "", "job_id"),
        ("/v1/games?limit=", "", "limit"),
    ];
    for (prefix, suffix, name) in numbered {
        for bad in [
            "9223372036854775808",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999999999999999999999999999",
            "-1",
            "1.5",
            "abc",
            "%20",
        ] {
            let uri = format!("{prefix}{bad}{suffix}");
            let (status, body) = get(&app, &uri).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
            assert!(
                error_of(&body).starts_with(&format!(
                    "{name} must be an integer from 0 to 9223372036854775807"
                )),
                "{uri}: {body}"
            );
        }
        // The largest storable number is a valid request.
        let uri = format!("{prefix}9223372036854775807{suffix}");
        let (status, body) = get(&app, &uri).await;
        assert!(
            status == StatusCode::OK || status == StatusCode::NOT_FOUND,
            "{uri}: {status} {body}"
        );
    }
    let (status, body) = post(
        &app,
        "/v1/jobs",
        json!({ "model_id": 9223372036854775808u64, "input": [0] }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(error_of(&body).starts_with("model_id must be"), "{body}");
    let (status, body) = post(
        &app,
        "/v1/jobs",
        json!({ "model_id": -1, "input": [0], "ttl_secs": -5 }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // 405 names the allowed methods; an unknown route is a JSON 404.
    for (method, uri, allowed) in [
        ("DELETE", "/v1/jobs", "GET,HEAD,POST"),
        ("POST", "/v1/models", "GET,HEAD"),
        ("PUT", "/v1/jobs/1", "GET,HEAD"),
        ("PATCH", "/health", "GET,HEAD"),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let (status, headers, body) = send(&app, req).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        let mut allow: Vec<&str> = headers["allow"]
            .to_str()
            .unwrap()
            .split(',')
            .map(str::trim)
            .collect();
        allow.sort_unstable();
        assert_eq!(allow.join(","), allowed, "Allow header");
        let msg = error_of(&body);
        assert!(
            msg.contains(method) && msg.contains(uri),
            "{method} {uri}: {msg}"
        );
        let listed: Vec<&str> = msg
            .rsplit_once("allowed: ")
            .unwrap()
            .1
            .split(',')
            .map(str::trim)
            .collect();
        let mut listed = listed;
        listed.sort_unstable();
        assert_eq!(listed.join(","), allowed, "{msg}");
    }
    let (status, body) = get(&app, "/v2/nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_of(&body), "no such route");

    // 414: a request target over the limit, whatever the route.
    let long = format!(
        "/v1/jobs/{}",
        "9".repeat(ApiConfig::default().max_uri_bytes)
    );
    let (status, body) = get(&app, &long).await;
    assert_eq!(status, StatusCode::URI_TOO_LONG, "{body}");
    assert!(error_of(&body).contains("limit"), "{body}");
    let (status, body) = get(&app, &format!("/nowhere?{}", "a".repeat(9000))).await;
    assert_eq!(status, StatusCode::URI_TOO_LONG, "{body}");

    // Axum's own rejections come back as JSON too: a path that is not UTF-8, a repeated field.
    for uri in ["/v1/jobs/%FF", "/v1/jobs?limit=1&limit=2"] {
        let (status, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert!(!error_of(&body).is_empty(), "{uri}");
    }
}

/// Bodies must be JSON (so no cross-site form post can spend), and browsers get CORS only for the
/// configured origins, with a working preflight.
#[tokio::test]
async fn http_takes_json_bodies_only_and_answers_cors_preflights() {
    let mut rng = StdRng::seed_from_u64(seed());
    let env = setup(&mut rng).await;
    env.catch_up().await;
    let allowed = "https://dapp.example";
    let app = env.app_with(ApiConfig {
        cors_origins: vec![allowed.parse().unwrap()],
        ..test_api_config()
    });
    let input = env.random_input(&mut rng);
    let body = json!({ "model_id": 1, "input": input }).to_string();
    let balance = env.state.market.client().balance().await.unwrap();

    for content_type in [
        Some("application/x-www-form-urlencoded"),
        Some("text/plain"),
        Some("multipart/form-data; boundary=x"),
        Some("application/jsonp"),
        None,
    ] {
        let mut req = Request::builder().method("POST").uri("/v1/jobs");
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let (status, _, body) = send(&app, req.body(Body::from(body.clone())).unwrap()).await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}: {body}"
        );
        assert!(error_of(&body).contains("application/json"), "{body}");
    }
    assert_eq!(
        env.state.market.client().balance().await.unwrap(),
        balance,
        "nothing was spent"
    );
    let req = Request::builder()
        .method("POST")
        .uri("/v1/jobs")
        .header("content-type", "Application/JSON; charset=utf-8")
        .body(Body::from(body.clone()))
        .unwrap();
    let (status, _, posted) = send(&app, req).await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");

    // Preflight from the allowed origin: 204 with the CORS headers.
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/v1/jobs")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, authorization",
            )
            .body(Body::empty())
            .unwrap()
    };
    let (status, headers, _) = send(&app, preflight(allowed)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(headers["access-control-allow-origin"], allowed);
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    assert!(
        methods.contains("POST") && methods.contains("GET"),
        "{methods}"
    );
    let allowed_headers = headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed_headers.contains("authorization") && allowed_headers.contains("content-type"),
        "{allowed_headers}"
    );
    // Another origin: still 204 (not 405), but nothing that lets the browser through.
    let (status, headers, _) = send(&app, preflight("https://evil.example")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!headers.contains_key("access-control-allow-origin"));
    // With no origins configured (the default), no origin is let through.
    let (status, headers, _) = send(&env.app(), preflight(allowed)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!headers.contains_key("access-control-allow-origin"));

    // Simple requests carry the header for the allowed origin only, errors included.
    for (origin, expected) in [(allowed, Some(allowed)), ("https://evil.example", None)] {
        for uri in ["/v1/models", "/v1/jobs/77"] {
            let req = Request::builder()
                .uri(uri)
                .header("origin", origin)
                .body(Body::empty())
                .unwrap();
            let (_, headers, _) = send(&app, req).await;
            assert_eq!(
                headers
                    .get("access-control-allow-origin")
                    .map(|v| v.to_str().unwrap()),
                expected,
                "{origin} {uri}"
            );
        }
    }
}

/// `POST /v1/jobs` needs a key; each key is held to its rate and cap, every job to the maximum fee,
/// and what the coordinator's account pays is exactly the fees and gas of the jobs let through.
#[tokio::test]
async fn http_api_keys_bound_rate_spending_and_fees() {
    let mut rng = StdRng::seed_from_u64(seed());
    let env = setup(&mut rng).await;
    // A model priced above the coordinator's maximum fee per job.
    let max_fee = ApiConfig::default().max_fee_wei;
    let dear = random_model(&mut rng, &[16, 8, 4]);
    let dear_id = list_model(
        &env.owner,
        &env.deployment,
        &dear,
        max_fee + U256::from(1),
        0,
    )
    .await
    .unwrap();
    env.catch_up().await;
    let pool = &env.state.pool;
    let poster = env.state.market.client().clone();
    let balance = poster.balance().await.unwrap();
    let job = |rng: &mut StdRng| json!({ "model_id": 1, "input": env.random_input(rng) });

    // No key, a made-up key, a revoked key: 401 with a Bearer challenge.
    let anonymous = Api {
        key: None,
        ..env.app()
    };
    let (status, body) = post(&anonymous, "/v1/jobs", job(&mut rng)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(error_of(&body).contains("Authorization: Bearer"), "{body}");
    let forged = Api {
        key: Some(format!("vk_0000000000000000_{}", "ab".repeat(32))),
        ..env.app()
    };
    let (status, body) = post(&forged, "/v1/jobs", job(&mut rng)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let revoked = keys::create(pool, "revoked", 10, U256::from(KEY_CAP), unix_now())
        .await
        .unwrap();
    assert!(
        keys::revoke(pool, &revoked.key.id, unix_now())
            .await
            .unwrap()
    );
    assert!(
        !keys::revoke(pool, &revoked.key.id, unix_now())
            .await
            .unwrap()
    );
    let (status, _) = post(
        &Api {
            key: Some(revoked.secret.clone()),
            ..env.app()
        },
        "/v1/jobs",
        job(&mut rng),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Reads need no key.
    assert_eq!(get(&anonymous, "/v1/jobs").await.0, StatusCode::OK);

    // A key capped at two fees: two jobs pass, the third is refused, nothing more is spent.
    let capped = keys::create(pool, "capped", 100, U256::from(2 * FEE), unix_now())
        .await
        .unwrap();
    let capped_api = Api {
        key: Some(capped.secret.clone()),
        ..env.app()
    };
    let mut paid = U256::ZERO;
    for _ in 0..2 {
        let (status, posted) = post(&capped_api, "/v1/jobs", job(&mut rng)).await;
        assert_eq!(status, StatusCode::CREATED, "{posted}");
        let hash = posted["tx_hash"].as_str().unwrap().parse().unwrap();
        let receipt = alloy::providers::Provider::get_transaction_receipt(poster.provider(), hash)
            .await
            .unwrap()
            .unwrap();
        paid += U256::from(FEE)
            + U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
    }
    let (status, body) = post(&capped_api, "/v1/jobs", job(&mut rng)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        error_of(&body).contains(&format!("spent {} of its {} wei cap", 2 * FEE, 2 * FEE)),
        "{body}"
    );
    let stored = keys::get(pool, &capped.key.id).await.unwrap().unwrap();
    assert_eq!(stored.spent_wei, U256::from(2 * FEE));

    // A model dearer than the maximum fee per job: refused for any key, nothing sent.
    let (status, body) = post(
        &env.app(),
        "/v1/jobs",
        json!({ "model_id": dear_id.to::<u64>(), "input": env.random_input(&mut rng) }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        error_of(&body).contains(&format!("maximum fee of {max_fee} wei")),
        "{body}"
    );

    // A reverted post (the price changed on chain, not yet indexed) gives the reservation back.
    let reprice = env
        .registry()
        .setPrice(env.model_id, U256::from(FEE * 2), ROYALTY_BPS)
        .into_transaction_request();
    env.owner.send(reprice).await.unwrap();
    let before = keys::get(pool, env.key_id()).await.unwrap().unwrap();
    let (status, body) = post(&env.app(), "/v1/jobs", job(&mut rng)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let after = keys::get(pool, &before.id).await.unwrap().unwrap();
    assert_eq!(
        after.spent_wei, before.spent_wei,
        "released after the revert"
    );

    // The coordinator's account paid exactly the two jobs' fees and gas.
    assert_eq!(poster.balance().await.unwrap(), balance - paid);

    // A key allowed 2 requests a minute: the third in the same minute gets 429 with Retry-After.
    // (Counted before the body is read, so refused requests count too.)
    loop {
        let slow = keys::create(pool, "slow", 2, U256::from(KEY_CAP), unix_now())
            .await
            .unwrap();
        let slow_api = Api {
            key: Some(slow.secret.clone()),
            ..env.app()
        };
        let minute = unix_now() / 60;
        let mut statuses = Vec::new();
        let mut retry_after = None;
        for _ in 0..3 {
            let req = Request::builder()
                .method("POST")
                .uri("/v1/jobs")
                .header("content-type", "application/json")
                .body(Body::from(
                    json!({ "model_id": 99, "input": [0] }).to_string(),
                ))
                .unwrap();
            let (status, headers, _) = send(&slow_api, req).await;
            statuses.push(status);
            retry_after = headers.get("retry-after").cloned();
        }
        if unix_now() / 60 != minute {
            continue; // the window turned mid-way: try again within one minute
        }
        assert_eq!(
            statuses,
            [
                StatusCode::NOT_FOUND,
                StatusCode::NOT_FOUND,
                StatusCode::TOO_MANY_REQUESTS
            ]
        );
        let secs: u64 = retry_after.unwrap().to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&secs), "{secs}");
        break;
    }
}

impl Env {
    /// The id of the test key (`vk_<id>_<secret>`).
    fn key_id(&self) -> &str {
        self.key.split('_').nth(1).unwrap()
    }
}

/// Keys' rate windows and caps hold under concurrent requests, on SQLite and (when
/// `VOUCH_TEST_POSTGRES_URL` is set) on PostgreSQL.
#[tokio::test]
async fn keys_hold_their_rate_and_cap_under_concurrency() {
    let dir = TempDir::new();
    let sqlite = format!("sqlite://{}", dir.0.join("keys.db").display());
    keys_flow(&db::connect(&sqlite).await.unwrap()).await;
    let Some(url) = fresh_postgres("keys").await else {
        return;
    };
    let pool = db::connect(&url).await.unwrap();
    keys_flow(&pool).await;
    pool.close().await;
    drop_postgres(&url).await;
}

async fn keys_flow(pool: &sqlx::AnyPool) {
    use keys::{Admission, Reservation};
    let mut rng = StdRng::seed_from_u64(seed());
    let fee: u64 = rand::Rng::random_range(&mut rng, 1..1_000_000);
    let fits: u64 = rand::Rng::random_range(&mut rng, 1..8);
    assert!(
        keys::create(pool, "zero", 0, U256::ZERO, 0).await.is_err(),
        "a rate of 0 is refused"
    );
    // A cap of `fits` fees and one wei less than the next: 20 concurrent reservations, `fits` pass.
    let key = keys::create(pool, "cap", 5, U256::from(fee * (fits + 1) - 1), 1_000)
        .await
        .unwrap();
    assert!(key.secret.starts_with(&format!("vk_{}_", key.key.id)));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let pool = pool.clone();
            let id = key.key.id.clone();
            tokio::spawn(async move { keys::reserve(&pool, &id, U256::from(fee)).await.unwrap() })
        })
        .collect();
    let mut reserved = 0;
    for t in tasks {
        reserved += u64::from(t.await.unwrap() == Reservation::Reserved);
    }
    assert_eq!(reserved, fits);
    let stored = keys::get(pool, &key.key.id).await.unwrap().unwrap();
    assert_eq!(stored.spent_wei, U256::from(fee * fits));
    keys::release(pool, &key.key.id, U256::from(fee))
        .await
        .unwrap();
    assert_eq!(
        keys::get(pool, &key.key.id)
            .await
            .unwrap()
            .unwrap()
            .spent_wei,
        U256::from(fee * (fits - 1))
    );

    // The rate: 5 a minute, counted atomically across 12 concurrent requests; the next minute
    // starts a new window.
    let now = 6_000_000 + rand::Rng::random_range(&mut rng, 0..60);
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let pool = pool.clone();
            let secret = key.secret.clone();
            tokio::spawn(async move { keys::admit(&pool, &secret, now).await.unwrap() })
        })
        .collect();
    let mut admitted = 0;
    for t in tasks {
        match t.await.unwrap() {
            Admission::Admitted(_) => admitted += 1,
            Admission::RateLimited {
                retry_after_secs, ..
            } => assert_eq!(retry_after_secs, 60 - now % 60),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(admitted, 5);
    let next_minute = now - now % 60 + 60;
    assert!(matches!(
        keys::admit(pool, &key.secret, next_minute).await.unwrap(),
        Admission::Admitted(_)
    ));
    assert_eq!(
        keys::admit(pool, "vk_nope", now).await.unwrap(),
        Admission::Unknown
    );
    assert!(keys::revoke(pool, &key.key.id, now).await.unwrap());
    assert_eq!(
        keys::admit(pool, &key.secret, next_minute + 600)
            .await
            .unwrap(),
        Admission::Revoked
    );
    let listed = keys::list(pool).await.unwrap();
    assert!(
        listed
            .iter()
            .any(|k| k.id == key.key.id && k.revoked_at == Some(now))
    );
}

/// Slow clients are dropped: one that never finishes its headers, one that never sends anything,
/// and one whose body stalls (408). Each bounded in time; a normal request is still served.
#[tokio::test]
async fn served_router_drops_clients_that_stall() {
    let mut rng = StdRng::seed_from_u64(seed());
    let env = setup(&mut rng).await;
    let timeout = Duration::from_millis(500);
    let api = env.app_with(ApiConfig {
        header_read_timeout: timeout,
        body_timeout: timeout,
        ..test_api_config()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(vouch_coordinator::http::serve_http(
        listener,
        api.app.clone(),
        timeout,
        async move {
            let _ = stopped.await;
        },
    ));

    // Sends `head`, then waits for the server to answer and close; returns what it sent back and
    // how long that took.
    async fn stall(addr: SocketAddr, head: &str) -> (String, Duration) {
        let started = std::time::Instant::now();
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw)).await;
        assert!(
            read.is_ok(),
            "the server kept a stalled connection for 10 s"
        );
        (
            String::from_utf8_lossy(&raw).into_owned(),
            started.elapsed(),
        )
    }
    let bounded = |took: Duration| {
        assert!(
            took >= timeout - Duration::from_millis(50) && took < timeout * 6,
            "closed after {took:?}"
        )
    };
    let (answer, took) = stall(addr, "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ").await;
    assert_eq!(answer, "", "dropped without an answer");
    bounded(took);
    let (answer, took) = stall(addr, "").await;
    assert_eq!(answer, "");
    bounded(took);
    let key = env.key.clone();
    let (answer, took) = stall(
        addr,
        &format!(
            "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Authorization: Bearer {key}\r\nContent-Length: 100\r\n\r\n{{\"model_id\": 1"
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    let body: Value = serde_json::from_str(body).unwrap();
    assert!(error_of(&body).contains("stalled"), "{body}");
    bounded(took);

    let (status, health) = http_get(addr, "/v1/models").await;
    assert_eq!(status, 200, "{health}");
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops by itself")
        .unwrap()
        .unwrap();
}

/// The deadline counts from the later of the latest block's timestamp and the wall clock: a chain
/// that has not mined for a while cannot shorten a job, and a chain ahead of the clock is followed.
#[tokio::test]
async fn http_ttl_counts_from_the_later_of_block_and_clock() {
    let mut rng = StdRng::seed_from_u64(seed());
    let env = setup(&mut rng).await;
    env.catch_up().await;
    let app = env.app();
    let ttl = 120;
    // No block is mined while we wait: the latest block's timestamp goes stale.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let block_time = env.state.market.chain_time().await.unwrap();
    let before = unix_now();
    assert!(before >= block_time + 2, "the latest block is stale");
    let (status, posted) = post(
        &app,
        "/v1/jobs",
        json!({ "model_id": 1, "input": env.random_input(&mut rng), "ttl_secs": ttl }),
    )
    .await;
    let after = unix_now();
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    let deadline = posted["deadline"].as_u64().unwrap();
    assert!(
        (before + ttl..=after + ttl).contains(&deadline),
        "{deadline} not in [{}, {}] (block time {block_time})",
        before + ttl,
        after + ttl
    );

    // The chain a day ahead of the clock: the deadline follows the chain.
    increase_time(env.owner.provider(), 86_400).await.unwrap();
    let block_time = env.state.market.chain_time().await.unwrap();
    assert!(block_time > unix_now() + 80_000);
    let (status, posted) = post(
        &app,
        "/v1/jobs",
        json!({ "model_id": 1, "input": env.random_input(&mut rng), "ttl_secs": ttl }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    assert_eq!(posted["deadline"].as_u64().unwrap(), block_time + ttl);
}

/// `GET /v1/deployment` names the chain and the contracts.
#[tokio::test]
async fn http_serves_the_deployment() {
    let mut rng = StdRng::seed_from_u64(seed());
    let env = setup(&mut rng).await;
    let (status, d) = get(&env.app(), "/v1/deployment").await;
    assert_eq!(status, StatusCode::OK, "{d}");
    let chain_id = alloy::providers::Provider::get_chain_id(env.owner.provider())
        .await
        .unwrap();
    assert_eq!(
        d,
        json!({
            "chain_id": chain_id,
            "registry": hex0x(env.deployment.registry.as_slice()),
            "market": hex0x(env.deployment.market.as_slice()),
            "game": hex0x(env.deployment.game.as_slice()),
            "prover": hex0x(env.deployment.prover.as_slice()),
            "llm_prover": hex0x(env.deployment.llm_prover.as_slice()),
            "start_block": env.deployment.start_block,
        })
    );
}

/// `/openapi.json` documents exactly the router's routes and methods: the router is built from
/// `route_table()`, the document must list the same pairs, and probing the router confirms both
/// (every documented pair is routed, every other method on a documented path is a 405).
#[tokio::test]
async fn openapi_lists_exactly_the_routes() {
    use std::collections::BTreeSet;
    let mut rng = StdRng::seed_from_u64(seed());
    let env = setup(&mut rng).await;
    env.catch_up().await;
    let app = env.app();
    let (status, doc) = get(&app, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let methods = ["get", "post", "put", "patch", "delete"];
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| methods.contains(&k.as_str()))
                .map(move |m| (path.clone(), m.to_uppercase()))
        })
        .collect();
    let routed: BTreeSet<(String, String)> = vouch_coordinator::api::route_table()
        .into_iter()
        .map(|(p, m)| (p.to_owned(), m.to_string()))
        .collect();
    assert_eq!(documented, routed);

    let paths: BTreeSet<&String> = documented.iter().map(|(p, _)| p).collect();
    for path in paths {
        let uri = path.replace("{id}", "1");
        for method in methods {
            let method = method.to_uppercase();
            let (status, body) = call(&app, &method, &uri, Some("{}".into())).await;
            if documented.contains(&(path.clone(), method.clone())) {
                assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
                assert!(
                    body.get("error") != Some(&json!("no such route")),
                    "{method} {uri}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {uri} is routed but not documented"
                );
            }
        }
        // Every parameterised path documents its parameter.
        if path.contains("{id}") {
            let params = &doc["paths"][path.as_str()]["get"]["parameters"];
            assert_eq!(params[0]["name"], "id", "{path}");
        }
    }
    // Every `$ref` resolves.
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = r.split('"').next().unwrap();
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "dangling $ref {name}"
        );
    }
}

/// `POST /v1/jobs/prepare` (user pays): no API key, every bad request refused exactly as `POST
/// /v1/jobs` refuses it, and the transaction it answers with, sent from a user's own wallet, posts
/// the job on the user's account and fee; the coordinator's maximum fee (which guards its own
/// ether) does not apply.
#[tokio::test]
async fn http_prepares_jobs_for_the_users_wallet() {
    use alloy::{
        primitives::{Bytes, TxKind},
        rpc::types::TransactionRequest,
        sol_types::SolCall,
    };
    use vouch_chain::bindings::JobMarket::postJobCall;

    let mut rng = StdRng::seed_from_u64(seed());
    let env = setup(&mut rng).await;
    let other = random_model(&mut rng, &[16, 8, 4]);
    let retired = list_model(&env.owner, &env.deployment, &other, U256::from(FEE), 0)
        .await
        .unwrap();
    let retire = env.registry().retire(retired).into_transaction_request();
    env.owner.send(retire).await.unwrap();
    env.catch_up().await;
    // The coordinator would never pay this model's fee itself: user-paid jobs are not its business.
    let app = env.app_with(ApiConfig {
        max_fee_wei: U256::from(FEE - 1),
        ..test_api_config()
    });
    let anonymous = Api {
        key: None,
        ..app.clone()
    };
    let good = env.random_input(&mut rng);

    // The same refusals, word for word, from both routes.
    let mut bad = good.iter().map(|&v| i64::from(v)).collect::<Vec<_>>();
    bad[3] = -129;
    let rows: Vec<&[i8]> = good.chunks(4).collect();
    let bodies = [
        json!({ "model_id": 99, "input": good }).to_string(),
        json!({ "model_id": retired.to::<u64>(), "input": good }).to_string(),
        json!({ "model_id": 1, "input": [1, 2, 3] }).to_string(),
        json!({ "model_id": 1, "input": rows }).to_string(),
        json!({ "model_id": 1, "input": bad }).to_string(),
        json!({ "model_id": 1, "input": good, "ttl_secs": 0 }).to_string(),
        json!({ "model_id": 1, "input": good, "fee": 1 }).to_string(),
        json!({ "input": good }).to_string(),
        "{\"model_id\": 1, \"input\": [1, 2".to_owned(),
        json!({ "model_id": 1, "input": vec![0; BODY_LIMIT] }).to_string(),
    ];
    for body in bodies {
        let (want, posted) = call(&app, "POST", "/v1/jobs", Some(body.clone())).await;
        let (got, prepared) = call(&anonymous, "POST", "/v1/jobs/prepare", Some(body)).await;
        assert!(want.is_client_error(), "{want} {posted}");
        assert_eq!((got, &prepared), (want, &posted));
    }
    let req = Request::builder()
        .method("POST")
        .uri("/v1/jobs/prepare")
        .header("content-type", "text/plain")
        .body(Body::from(
            json!({ "model_id": 1, "input": good }).to_string(),
        ))
        .unwrap();
    assert_eq!(
        send(&anonymous, req).await.0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    // The coordinator refuses to pay the fee itself…
    let (status, body) = post(&app, "/v1/jobs", json!({ "model_id": 1, "input": good })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // …but prepares the job for the user, without a key.
    let ttl = 300;
    let before = unix_now().max(env.state.market.chain_time().await.unwrap());
    let (status, tx) = post(
        &anonymous,
        "/v1/jobs/prepare",
        json!({ "model_id": 1, "input": [[good]], "ttl_secs": ttl }),
    )
    .await;
    let after = unix_now().max(env.state.market.chain_time().await.unwrap());
    assert_eq!(status, StatusCode::OK, "{tx}");
    let chain_id = alloy::providers::Provider::get_chain_id(env.owner.provider())
        .await
        .unwrap();
    assert_eq!(tx["chain_id"], chain_id);
    assert_eq!(tx["to"], hex0x(env.deployment.market.as_slice()));
    assert_eq!(tx["value"], FEE.to_string());
    let data: Bytes = tx["data"].as_str().unwrap().parse().unwrap();
    let call_args = postJobCall::abi_decode(&data).unwrap();
    assert_eq!(call_args.modelId, env.model_id);
    assert_eq!(call_args.input.as_ref(), tensor::to_bytes(&good).as_slice());
    assert!(
        (before + ttl..=after + ttl).contains(&call_args.deadline),
        "deadline {} not in [{}, {}]",
        call_args.deadline,
        before + ttl,
        after + ttl
    );
    assert_eq!(
        get(&app, "/v1/jobs").await.1,
        json!([]),
        "preparing posts nothing"
    );

    // The user's wallet sends it as it came, and pays.
    let user = env.market_as(5).await;
    let request = TransactionRequest {
        to: Some(TxKind::Call(tx["to"].as_str().unwrap().parse().unwrap())),
        input: data.into(),
        value: Some(tx["value"].as_str().unwrap().parse().unwrap()),
        ..TransactionRequest::default()
    };
    let receipt = user.client().send(request).await.unwrap();
    assert!(receipt.status());
    env.catch_up().await;
    let (status, job) = get(&app, "/v1/jobs/1").await;
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(job["poster"], hex0x(user.client().address().as_slice()));
    assert_eq!(job["fee_wei"], FEE.to_string());
    assert_eq!(job["deadline"], call_args.deadline);
    assert_eq!(as_tensor(&job["input"]), good);
    assert_eq!(
        job["input_root"],
        hex0x(tensor_root(&good, good.len()).as_slice())
    );
}
