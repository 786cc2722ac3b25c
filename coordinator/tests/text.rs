//! Language models through the HTTP API, on a real anvil with the compiled contracts: a tiny random
//! transformer listed with its card, indexed as `kind: llm` with its config; a prompt posted as text
//! becomes exactly the ids the model's own tokenizer gives; a submitted answer is served as ids and
//! text, in `GET /v1/jobs/{id}` and in the event stream alike; prompts that cannot fit, and each
//! kind's fields sent to the other kind, are refused with a `400` naming the limit, nothing posted,
//! by `POST /v1/jobs` and `POST /v1/jobs/prepare` alike; a prepared text job sent from a user's
//! wallet posts the same ids. On SQLite, and on PostgreSQL when `VOUCH_TEST_POSTGRES_URL` is set.

mod common;

use alloy::{
    primitives::{B256, Bytes, TxKind, U256},
    rpc::types::TransactionRequest,
    sol_types::SolCall,
};
use axum::http::StatusCode;
use candle_core::quantized::GgmlDType;
use common::*;
use rand::{SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use vouch_chain::{
    anvil::increase_time,
    bindings::JobMarket::postJobCall,
    llm::{LlmPrice, list_llm},
};
use vouch_coordinator::events::Item;
use vouch_llm::{
    IntModel,
    card::LlmConfig,
    random::{self, Dims},
    tokenizer::ChatTokenizer,
    trace::Job,
};

/// The listed language model's prices: wei per prompt token and per answer token.
const PRICE: LlmPrice = LlmPrice {
    per_input: U256::from_limbs([1_000, 0, 0, 0]),
    per_output: U256::from_limbs([3_000, 0, 0, 0]),
};

/// The int32 big-endian bytes of `values` (a language model's job rows).
fn be_bytes(values: &[i32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

fn ids_of(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list of ids: {v}"))
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

/// The test environment with a tiny random language model listed beside the tensor model (id 1).
struct TextEnv {
    env: Env,
    llm: IntModel,
    llm_id: u64,
    tokenizer: ChatTokenizer,
}

async fn setup_text(rng: &mut StdRng, db_url: Option<String>) -> TextEnv {
    let env = setup_with(rng, db_url).await;
    let llm = random::model(rng, Dims::TINY, GgmlDType::Q4_1).unwrap();
    let llm_id = list_llm(
        &env.owner,
        &env.deployment,
        &llm,
        PRICE,
        ROYALTY_BPS,
        "ipfs://tiny-llm",
        &mut |_, _| (),
    )
    .await
    .unwrap()
    .to::<u64>();
    env.catch_up().await;
    let tokenizer = ChatTokenizer::new(&llm.tokenizer).unwrap();
    TextEnv {
        env,
        llm,
        llm_id,
        tokenizer,
    }
}

#[tokio::test]
async fn text_jobs_post_prompts_and_serve_answers() {
    let mut rng = StdRng::seed_from_u64(seed());
    let t = setup_text(&mut rng, None).await;
    text_flow(&t).await;
}

/// The same flow on PostgreSQL (the migration's columns and the join of jobs with their models).
#[tokio::test]
async fn text_jobs_on_postgres() {
    let Some(url) = fresh_postgres("text").await else {
        return;
    };
    let mut rng = StdRng::seed_from_u64(seed());
    let t = setup_text(&mut rng, Some(url.clone())).await;
    text_flow(&t).await;
    t.env.state.pool.close().await;
    drop_postgres(&url).await;
}

async fn text_flow(t: &TextEnv) {
    let env = &t.env;
    let app = env.app();
    let config = LlmConfig::of(&t.llm);
    let (llm_id, context, vocab) = (t.llm_id, config.context, config.vocab);

    // Both kinds listed; the language model with its registered config.
    let (status, models) = get(&app, "/v1/models").await;
    assert_eq!(status, StatusCode::OK, "{models}");
    assert_eq!(models[0]["kind"], "tensor");
    assert!(models[0].get("llm_config").is_none(), "{models}");
    let (status, m) = get(&app, &format!("/v1/models/{llm_id}")).await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert_eq!(m, models[1]);
    assert_eq!(m["kind"], "llm");
    assert_eq!(m["status"], "active");
    assert_eq!(m["fee_wei"], "0", "priced per token, not per job");
    assert_eq!(
        m["llm_price"],
        json!({
            "input_token_wei": PRICE.per_input.to_string(),
            "output_token_wei": PRICE.per_output.to_string(),
        })
    );
    assert_eq!(m["input_len"], 0);
    assert_eq!(
        m["llm_config"],
        json!({
            "blocks": config.blocks, "hidden": config.hidden, "heads": config.heads,
            "kv_heads": config.kv_heads, "head_dim": config.head_dim, "ffn": config.ffn,
            "vocab": vocab, "context": context, "eos": config.eos,
        })
    );

    // A prompt becomes exactly the ids of the model's own chat template and tokenizer.
    let prompt = "the cat in the hat";
    let ids = t.tokenizer.chat(prompt).unwrap();
    let (status, posted) = post(
        &app,
        "/v1/jobs",
        json!({ "model_id": llm_id, "prompt": prompt, "max_tokens": 16 }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    assert_eq!(ids_of(&posted["prompt_ids"]), ids);
    assert_eq!(posted["max_tokens"], 16);
    let escrow = PRICE.escrow(ids.len(), 16).to_string();
    assert_eq!(posted["fee_wei"], escrow, "P·input + max_tokens·output");
    let job_id = posted["job_id"].as_u64().unwrap();
    let job = Job {
        prompt: ids.clone(),
        max_new: 16,
    };
    let market = &env.state.market;
    assert_eq!(
        market.job_input(U256::from(job_id)).await.unwrap(),
        be_bytes(&job.input()),
        "the job on chain is [max_new, ids…] in int32 big-endian"
    );
    assert_eq!(
        market.llm_layout(U256::from(job_id)).await.unwrap(),
        (ids.len() as u32, 16, 0)
    );
    let (status, record) = get(&app, &format!("/v1/jobs/{job_id}")).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(ids_of(&record["prompt_ids"]), ids);
    assert_eq!(record["max_tokens"], 16);
    assert_eq!(record["answer_ids"], Value::Null);
    assert_eq!(record["answer"], Value::Null);
    assert_eq!(record["fee_wei"], escrow);

    // A worker's answer (the test's own ids, which the market takes: below the vocabulary, eos
    // last) is served as ids and as the tokenizer's text, eos left out.
    let mut answer = t.tokenizer.encode("hi there, 42!").unwrap();
    answer.push(config.eos);
    assert!(answer.len() <= 16);
    let output = be_bytes(&answer.iter().map(|&id| id as i32).collect::<Vec<_>>());
    let root = market.tensor_root(&output, output.len()).await.unwrap();
    let mut feed = env.state.events.subscribe(None).unwrap();
    let worker = env.market_as(3).await;
    worker
        .submit_result(
            U256::from(job_id),
            root,
            B256::repeat_byte(7),
            &output,
            U256::from(BOND),
        )
        .await
        .unwrap();
    env.catch_up().await;
    let (status, record) = get(&app, &format!("/v1/jobs/{job_id}")).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["status"], "submitted");
    assert_eq!(ids_of(&record["answer_ids"]), answer);
    assert_eq!(record["answer"], "hi there, 42!");
    assert_eq!(record["answer"], t.tokenizer.decode(&answer).unwrap());
    assert_eq!(record["output_root"], hex0x(root.as_slice()));
    let (_, list) = get(&app, &format!("/v1/jobs?model_id={llm_id}")).await;
    assert_eq!(list, json!([record.clone()]));
    // The stream carries the same record, answer included.
    let event = loop {
        match feed.next().await.unwrap() {
            Item::Event(e) if e.kind.as_str() == "job_submitted" => break e,
            Item::Event(_) => {}
            Item::Reset { reason, .. } => panic!("{reason}"),
        }
    };
    let data: Value = serde_json::from_str(&event.data).unwrap();
    assert_eq!(data["job"], record);

    // Settled, it keeps its answer.
    increase_time(env.owner.provider(), WINDOW).await.unwrap();
    worker.finalize(U256::from(job_id)).await.unwrap();
    env.catch_up().await;
    let (_, settled) = get(&app, &format!("/v1/jobs/{job_id}")).await;
    assert_eq!(settled["status"], "settled");
    assert_eq!(settled["answer"], "hi there, 42!");

    // Refusals, word for word from both routes, nothing posted.
    let anonymous = Api {
        key: None,
        ..app.clone()
    };
    let long = "x".repeat(3 * context);
    let huge = "the cat ".repeat(4000);
    let hi = t.tokenizer.chat("hi").unwrap().len();
    let bodies: Vec<(Value, String)> = vec![
        (
            json!({ "model_id": llm_id, "prompt": long }),
            format!("past the model's context of {context}"),
        ),
        (
            json!({ "model_id": llm_id, "prompt": huge }),
            "the prompt is at least".into(),
        ),
        (
            json!({ "model_id": llm_id, "prompt": "hi", "max_tokens": context - hi + 2 }),
            format!(
                "it needs {} positions, past the model's context of {context} (prompt tokens + \
                 max_tokens − 1 ≤ {context})",
                context + 1
            ),
        ),
        (
            json!({ "model_id": llm_id, "prompt": "hi", "max_tokens": context + 1 }),
            format!("max_tokens must be between 1 and model {llm_id}'s context of {context}"),
        ),
        (
            json!({ "model_id": llm_id, "prompt": "hi", "max_tokens": 0 }),
            "max_tokens must be between 1".into(),
        ),
        (
            json!({ "model_id": 1, "prompt": "hi" }),
            "model 1 is a tensor model: it takes an `input` tensor, not a `prompt`".into(),
        ),
        (
            json!({ "model_id": 1, "input": vec![0; 16], "max_tokens": 4 }),
            "model 1 is a tensor model".into(),
        ),
        (
            json!({ "model_id": 1 }),
            "model 1 is a tensor model: send its `input`".into(),
        ),
        (
            json!({ "model_id": llm_id, "input": [0, 0, 0, 1, 0, 0, 0, 5] }),
            format!("model {llm_id} is a language model: it takes a `prompt`"),
        ),
        (
            json!({ "model_id": llm_id, "max_tokens": 4 }),
            format!("model {llm_id} is a language model: send a `prompt`"),
        ),
        (
            json!({ "model_id": llm_id, "prompt": 7 }),
            "invalid JSON body".into(),
        ),
    ];
    for (body, says) in bodies {
        let (want, refused) = post(&app, "/v1/jobs", body.clone()).await;
        assert_eq!(want, StatusCode::BAD_REQUEST, "{body}: {refused}");
        assert!(
            error_of(&refused).contains(says.as_str()),
            "{body}: {refused}"
        );
        let (got, prepared) = post(&anonymous, "/v1/jobs/prepare", body).await;
        assert_eq!((got, &prepared), (want, &refused));
    }
    env.catch_up().await;
    let (_, all) = get(&app, "/v1/jobs").await;
    assert_eq!(
        all.as_array().unwrap().len(),
        1,
        "nothing else posted: {all}"
    );

    // Prepared for the user's wallet: the same ids in the calldata, the fee as the value.
    let (status, tx) = post(
        &anonymous,
        "/v1/jobs/prepare",
        json!({ "model_id": llm_id, "prompt": "hello", "max_tokens": 4 }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tx}");
    let hello = t.tokenizer.chat("hello").unwrap();
    assert_eq!(ids_of(&tx["prompt_ids"]), hello);
    assert_eq!(tx["max_tokens"], 4);
    assert_eq!(tx["value"], PRICE.escrow(hello.len(), 4).to_string());
    let data: Bytes = tx["data"].as_str().unwrap().parse().unwrap();
    let call = postJobCall::abi_decode(&data).unwrap();
    assert_eq!(call.modelId, U256::from(llm_id));
    let row = Job {
        prompt: hello.clone(),
        max_new: 4,
    };
    assert_eq!(call.input.as_ref(), be_bytes(&row.input()).as_slice());
    let user = env.market_as(5).await;
    let request = TransactionRequest {
        to: Some(TxKind::Call(tx["to"].as_str().unwrap().parse().unwrap())),
        input: data.into(),
        value: Some(tx["value"].as_str().unwrap().parse().unwrap()),
        ..TransactionRequest::default()
    };
    assert!(user.client().send(request).await.unwrap().status());
    env.catch_up().await;
    let (_, mine) = get(&app, &format!("/v1/jobs/{}", job_id + 1)).await;
    assert_eq!(mine["poster"], hex0x(user.client().address().as_slice()));
    assert_eq!(ids_of(&mine["prompt_ids"]), hello);
    assert_eq!(mine["max_tokens"], 4);
    assert_eq!(mine["answer"], Value::Null);
}
