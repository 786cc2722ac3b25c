//! A typed client for the coordinator's HTTP API (`docs/API.md`): what a dApp backend, the CLI and
//! `vouch dev` use to post jobs and read settled results. The response types are the server's own.

use crate::{
    DeploymentInfo, GameDetail, GameRecord, JobPostedResponse, JobRecord, JobRequest, ModelRecord,
    PreparedJob, Receipt,
};
use std::time::Duration;

/// What went wrong calling the API.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The base URL does not parse.
    #[error("bad coordinator URL {url}: {reason}")]
    Url {
        /// The URL given.
        url: String,
        /// Why it is bad.
        reason: String,
    },
    /// The coordinator could not be reached or answered garbage.
    #[error("coordinator unreachable or malformed answer: {0}")]
    Transport(#[from] reqwest::Error),
    /// The coordinator answered with an error status and message.
    #[error("coordinator answered {status}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The `error` field of the body (or the raw body).
        message: String,
    },
    /// The job did not settle in time.
    #[error("job {id} not settled after {secs} s (last status {status})")]
    Timeout {
        /// Job id.
        id: u64,
        /// How long we waited.
        secs: u64,
        /// Status seen last.
        status: String,
    },
}

/// A coordinator's HTTP API.
#[derive(Debug, Clone)]
pub struct ApiClient {
    base: String,
    http: reqwest::Client,
    api_key: Option<String>,
}

impl ApiClient {
    /// A client for the API at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Result<Self, ClientError> {
        let url: reqwest::Url = base
            .parse()
            .map_err(|e: url::ParseError| ClientError::Url {
                url: base.into(),
                reason: e.to_string(),
            })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ClientError::Url {
                url: base.into(),
                reason: "scheme must be http or https".into(),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            http,
            api_key: None,
        })
    }

    /// This client, sending `key` (`vk_…`, from `vouch coordinator key create`) with the requests
    /// that spend: `POST /v1/jobs`.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    async fn decode<T: serde::de::DeserializeOwned>(
        resp: reqwest::Response,
    ) -> Result<T, ClientError> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp.json().await?);
        }
        let body = resp.text().await.unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or(body);
        Err(ClientError::Api {
            status: status.as_u16(),
            message,
        })
    }

    /// `GET /v1/models`.
    pub async fn models(&self) -> Result<Vec<ModelRecord>, ClientError> {
        Self::decode(
            self.http
                .get(format!("{}/v1/models", self.base))
                .send()
                .await?,
        )
        .await
    }

    /// `GET /v1/models/{id}`.
    pub async fn model(&self, id: u64) -> Result<ModelRecord, ClientError> {
        Self::decode(
            self.http
                .get(format!("{}/v1/models/{id}", self.base))
                .send()
                .await?,
        )
        .await
    }

    /// `POST /v1/jobs`: the coordinator posts `request` and pays its fee. Needs an API key
    /// ([`ApiClient::with_api_key`]).
    pub async fn post(&self, request: &JobRequest) -> Result<JobPostedResponse, ClientError> {
        let mut req = self
            .http
            .post(format!("{}/v1/jobs", self.base))
            .json(request);
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(key);
        }
        Self::decode(req.send().await?).await
    }

    /// `POST /v1/jobs` for a tensor model: `input` is a JSON list of int8 numbers, flat or nested
    /// in the model's input shape. Needs an API key ([`ApiClient::with_api_key`]).
    pub async fn post_job(
        &self,
        model_id: u64,
        input: serde_json::Value,
        ttl_secs: Option<u64>,
    ) -> Result<JobPostedResponse, ClientError> {
        self.post(&JobRequest::tensor(model_id, input).with_ttl(ttl_secs))
            .await
    }

    /// `POST /v1/jobs` for a language model: `prompt` as text, answered in at most `max_tokens`
    /// tokens (the API's default when `None`); the answer's ids show the prompt's tokenization.
    /// Needs an API key ([`ApiClient::with_api_key`]).
    pub async fn post_text(
        &self,
        model_id: u64,
        prompt: &str,
        max_tokens: Option<u64>,
        ttl_secs: Option<u64>,
    ) -> Result<JobPostedResponse, ClientError> {
        self.post(&JobRequest::text(model_id, prompt, max_tokens).with_ttl(ttl_secs))
            .await
    }

    /// `POST /v1/jobs/prepare`: the `postJob` transaction of `request` for the user's own wallet to
    /// sign, send and pay (no API key; nothing is sent).
    pub async fn prepare(&self, request: &JobRequest) -> Result<PreparedJob, ClientError> {
        Self::decode(
            self.http
                .post(format!("{}/v1/jobs/prepare", self.base))
                .json(request)
                .send()
                .await?,
        )
        .await
    }

    /// `GET /v1/deployment`: the chain id and the contract addresses.
    pub async fn deployment(&self) -> Result<DeploymentInfo, ClientError> {
        Self::decode(
            self.http
                .get(format!("{}/v1/deployment", self.base))
                .send()
                .await?,
        )
        .await
    }

    /// `GET /v1/games?job_id=…`: the dispute games on a job, newest first.
    pub async fn games_of_job(&self, job_id: u64) -> Result<Vec<GameRecord>, ClientError> {
        Self::decode(
            self.http
                .get(format!("{}/v1/games?job_id={job_id}", self.base))
                .send()
                .await?,
        )
        .await
    }

    /// `GET /v1/games/{id}`: a game with its moves.
    pub async fn game(&self, id: u64) -> Result<GameDetail, ClientError> {
        Self::decode(
            self.http
                .get(format!("{}/v1/games/{id}", self.base))
                .send()
                .await?,
        )
        .await
    }

    /// `GET /v1/jobs/{id}`.
    pub async fn job(&self, id: u64) -> Result<JobRecord, ClientError> {
        Self::decode(
            self.http
                .get(format!("{}/v1/jobs/{id}", self.base))
                .send()
                .await?,
        )
        .await
    }

    /// `GET /v1/jobs/{id}/receipt`: a settled job's receipt (`409` before it settles).
    pub async fn receipt(&self, id: u64) -> Result<Receipt, ClientError> {
        Self::decode(
            self.http
                .get(format!("{}/v1/jobs/{id}/receipt", self.base))
                .send()
                .await?,
        )
        .await
    }

    /// Polls `GET /v1/jobs/{id}` until the job is settled (or expired), for at most `timeout`,
    /// showing each poll's answer to `on_poll` (a progress display).
    pub async fn wait_settled(
        &self,
        id: u64,
        timeout: Duration,
        on_poll: &mut (dyn FnMut(&JobRecord) + Send),
    ) -> Result<JobRecord, ClientError> {
        let start = std::time::Instant::now();
        loop {
            let job = self.job(id).await?;
            on_poll(&job);
            if job.settled || job.status == crate::JobStatus::Expired {
                return Ok(job);
            }
            if start.elapsed() >= timeout {
                return Err(ClientError::Timeout {
                    id,
                    secs: timeout.as_secs(),
                    status: job.status.as_str().into(),
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
