//! The harness of the coordinator's integration tests: anvil with the compiled contracts and one
//! listed model, a fresh SQLite file, the API state and helpers to call the router.
// Each test crate uses its own part of the harness.
#![allow(dead_code)]

use alloy::primitives::U256;
use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
};
use rand::rngs::StdRng;
use serde_json::Value;
use std::{
    path::PathBuf,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};
use tower::ServiceExt;
use vouch_burn::BurnBackend;
use vouch_chain::{
    ChainClient, ChainConfig, Deployment, Market, MarketParams, anvil::LocalChain,
    bindings::ModelRegistry, deploy, registry::list_model,
};
use vouch_challenger::{Challenger, ChallengerConfig, Strategy};
use vouch_coordinator::{ApiConfig, AppState, Indexer, db, keys, router};
use vouch_core::{Model, random::random_model};
use vouch_worker::{Lie, Worker, WorkerConfig};

pub(crate) const FEE: u64 = 1_000_000_000_000_000;
pub(crate) const ROYALTY_BPS: u16 = 500;
pub(crate) const WINDOW: u64 = 60;
pub(crate) const BOND: u64 = 2_000_000_000_000_000;
pub(crate) const BODY_LIMIT: usize = 64 * 1024;

/// A fresh random seed (or `VOUCH_SEED`), printed so a failure can be replayed.
pub(crate) fn seed() -> u64 {
    vouch_core::random::test_seed("coordinator")
}

/// A directory removed on drop.
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub(crate) fn new() -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "vouch-coordinator-{}-{nanos}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Anvil with the contracts deployed, one listed model, a migrated SQLite file and the API state.
pub(crate) struct Env {
    pub(crate) chain: LocalChain,
    pub(crate) cfg: ChainConfig,
    pub(crate) owner: ChainClient,
    pub(crate) deployment: Deployment,
    pub(crate) model: Model,
    pub(crate) model_id: U256,
    pub(crate) db_url: String,
    pub(crate) state: AppState,
    /// An API key allowed [`KEY_CAP`] wei at [`KEY_RATE`] requests a minute.
    pub(crate) key: String,
    pub(crate) _dir: TempDir,
}

/// The test key's cap: plenty for every test's jobs.
pub(crate) const KEY_CAP: u64 = 100 * FEE;
/// The test key's rate: never reached by the tests that do not test it.
pub(crate) const KEY_RATE: u32 = 10_000;

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The API limits of the tests: a small body limit, the rest as shipped.
pub(crate) fn test_api_config() -> ApiConfig {
    ApiConfig {
        max_body_bytes: BODY_LIMIT,
        ..ApiConfig::default()
    }
}

pub(crate) fn hex0x(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

/// A fresh, empty PostgreSQL database under `VOUCH_TEST_POSTGRES_URL` (its URL), or `None` (and a line
/// saying the PostgreSQL part is skipped) when that is unset. Drop it with [`drop_postgres`].
pub(crate) async fn fresh_postgres(what: &str) -> Option<String> {
    let Ok(base) = std::env::var("VOUCH_TEST_POSTGRES_URL") else {
        eprintln!("{what}: PostgreSQL part skipped: set VOUCH_TEST_POSTGRES_URL");
        return None;
    };
    let url = format!(
        "{}/vouch_{what}_{}",
        base.trim_end_matches('/'),
        rand::random::<u64>()
    );
    sqlx::any::install_default_drivers();
    <sqlx::Any as sqlx::migrate::MigrateDatabase>::create_database(&url)
        .await
        .unwrap();
    Some(url)
}

/// Drops a database made by [`fresh_postgres`].
pub(crate) async fn drop_postgres(url: &str) {
    <sqlx::Any as sqlx::migrate::MigrateDatabase>::drop_database(url)
        .await
        .unwrap();
}

pub(crate) async fn setup(rng: &mut StdRng) -> Env {
    setup_with(rng, None).await
}

/// [`setup`] on the database at `db_url` (a fresh SQLite file when `None`).
pub(crate) async fn setup_with(rng: &mut StdRng, db_url: Option<String>) -> Env {
    let chain = LocalChain::start(None).expect("anvil (run `npm ci --prefix contracts`)");
    let cfg = ChainConfig::local(chain.endpoint());
    let owner = ChainClient::connect(&cfg, chain.signer(0)).await.unwrap();
    let params = MarketParams::new(WINDOW, U256::from(BOND), 1_000_000_000);
    let deployment = deploy(&owner, params).await.unwrap();
    let model = random_model(rng, &[16, 8, 4]);
    let model_id = list_model(&owner, &deployment, &model, U256::from(FEE), ROYALTY_BPS)
        .await
        .unwrap();
    let dir = TempDir::new();
    // The file does not exist yet: connecting creates it.
    let db_url =
        db_url.unwrap_or_else(|| format!("sqlite://{}", dir.0.join("coordinator.db").display()));
    let pool = db::connect(&db_url).await.unwrap();
    let poster = ChainClient::connect(&cfg, chain.signer(1)).await.unwrap();
    let key = keys::create(&pool, "tests", KEY_RATE, U256::from(KEY_CAP), unix_now())
        .await
        .unwrap()
        .secret;
    let state = AppState::new(pool, Market::new(poster, deployment), test_api_config());
    Env {
        chain,
        cfg,
        owner,
        deployment,
        model,
        model_id,
        db_url,
        state,
        key,
        _dir: dir,
    }
}

/// The router, and the API key its requests carry (if any).
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) app: Router,
    pub(crate) key: Option<String>,
}

impl Env {
    /// A worker that answers every job with a consistent lie from op 0, state under `dir`.
    pub(crate) async fn lying_worker(&self, dir: &std::path::Path, account: usize) -> Worker {
        Worker::new(
            WorkerConfig {
                chain: self.cfg.clone(),
                deployment: self.deployment,
                data_dir: dir.to_path_buf(),
                confirmations: 0,
                poll_interval: Duration::from_millis(20),
                policy: vouch_worker::Policy::default(),
                backend: BurnBackend::Flex,
                lie: Some(Lie::Consistent { step: 0 }),
            },
            self.chain.signer(account),
        )
        .await
        .unwrap()
    }

    /// An honest challenger that re-runs every result, state under `dir`.
    pub(crate) async fn honest_challenger(
        &self,
        dir: &std::path::Path,
        account: usize,
    ) -> Challenger {
        Challenger::new(
            ChallengerConfig {
                chain: self.cfg.clone(),
                deployment: self.deployment,
                data_dir: dir.to_path_buf(),
                confirmations: 0,
                poll_interval: Duration::from_millis(20),
                sample_rate: 1.0,
                sample_key: alloy::primitives::B256::repeat_byte(9),
                policy: vouch_worker::Policy::default(),
                backend: BurnBackend::Flex,
                strategy: Strategy::Honest,
            },
            self.chain.signer(account),
        )
        .await
        .unwrap()
    }

    /// The API as configured by [`setup`], called with the test key.
    pub(crate) fn app(&self) -> Api {
        self.app_with(test_api_config())
    }

    /// The API with other limits, called with the test key.
    pub(crate) fn app_with(&self, config: ApiConfig) -> Api {
        let state = AppState::new(self.state.pool.clone(), self.state.market.clone(), config);
        Api {
            app: router(state),
            key: Some(self.key.clone()),
        }
    }

    /// An indexer over the test database, publishing to the event stream of [`Env::state`].
    pub(crate) async fn indexer(&self) -> Indexer {
        Indexer::new(
            self.state.pool.clone(),
            self.owner.provider().clone(),
            self.deployment,
            0,
        )
        .await
        .unwrap()
        .with_feed(self.state.events.clone())
    }

    pub(crate) async fn catch_up(&self) -> u64 {
        self.indexer().await.catch_up().await.unwrap()
    }

    pub(crate) fn registry(
        &self,
    ) -> ModelRegistry::ModelRegistryInstance<&alloy::providers::DynProvider> {
        ModelRegistry::new(self.deployment.registry, self.owner.provider())
    }

    pub(crate) async fn market_as(&self, account: usize) -> Market {
        Market::new(
            ChainClient::connect(&self.cfg, self.chain.signer(account))
                .await
                .unwrap(),
            self.deployment,
        )
    }

    pub(crate) fn random_input(&self, rng: &mut StdRng) -> Vec<i8> {
        vouch_core::random::random_input(rng, &self.model)
    }
}

/// Sends `req` (with the API's key, if it has one) and returns the response's status, headers and
/// body (JSON, or the text as a JSON string; an event stream, which never ends, is not read).
pub(crate) async fn send(
    api: &Api,
    mut req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    if let Some(key) = &api.key {
        req.headers_mut()
            .insert("authorization", format!("Bearer {key}").parse().unwrap());
    }
    let resp = api.app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    if headers
        .get("content-type")
        .is_some_and(|t| t == "text/event-stream")
    {
        return (status, headers, Value::Null);
    }
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, headers, value)
}

pub(crate) async fn call(
    app: &Api,
    method: &str,
    uri: &str,
    body: Option<String>,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, Body::from))
        .unwrap();
    let (status, _, value) = send(app, req).await;
    (status, value)
}

pub(crate) async fn get(app: &Api, uri: &str) -> (StatusCode, Value) {
    call(app, "GET", uri, None).await
}

pub(crate) async fn post(app: &Api, uri: &str, body: Value) -> (StatusCode, Value) {
    call(app, "POST", uri, Some(body.to_string())).await
}

pub(crate) fn error_of(v: &Value) -> &str {
    v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error message in {v}"))
}

pub(crate) fn as_tensor(v: &Value) -> Vec<i8> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a tensor: {v}"))
        .iter()
        .map(|x| x.as_i64().unwrap() as i8)
        .collect()
}
