//! The coordinator's HTTP API (`docs/API.md`) from the outside: the request and answer types the
//! coordinator serves, and [`ApiClient`], the typed client a dApp backend or the CLI uses to post
//! jobs and read settled results and their receipts. No server, database or executor: only HTTP and
//! the chain's vocabulary (the statuses, and the [`Receipt`] `vouch_chain::receipt` builds from
//! chain data alone).

pub mod client;
pub mod deployment;
pub mod games;
pub mod jobs;
pub mod models;

pub use client::{ApiClient, ClientError};
pub use deployment::DeploymentInfo;
pub use games::{GameDetail, GameMove, GameRecord};
pub use jobs::{
    DEFAULT_MAX_TOKENS, JobPostedResponse, JobRecord, JobRequest, PreparedJob, PromptTokens,
    TextJob,
};
pub use models::{LlmConfigRecord, LlmPriceRecord, ModelKind, ModelRecord};
pub use vouch_chain::{
    GamePhase, GameStatus, JobStatus,
    receipt::{Attempt, GameOutcome, Receipt, TxRef},
    registry::ModelStatus,
};
