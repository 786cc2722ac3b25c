//! `POST /v1/jobs/prepare`: the user-pays mode. The coordinator checks a job request exactly as
//! `POST /v1/jobs` does and answers with the `postJob` transaction for the user's own wallet to
//! sign, send and pay; it spends nothing and needs no API key.

use crate::{
    api::{AppState, JobRequest},
    columns::hex_bytes,
    error::ApiError,
};
use alloy::{
    primitives::{Bytes, U256},
    sol_types::SolCall,
};
use axum::{
    Json,
    extract::{Request, State},
};
use serde::{Deserialize, Serialize};
use vouch_chain::bindings::JobMarket::postJobCall;

/// `POST /v1/jobs/prepare` answer: an unsigned transaction (EIP-1193 `eth_sendTransaction` fields
/// minus `from`, gas and nonce, which the wallet fills in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreparedJob {
    /// EIP-155 chain id the transaction is for.
    pub chain_id: u64,
    /// The `JobMarket`.
    pub to: String,
    /// `postJob(modelId, input, deadline)` calldata.
    pub data: String,
    /// The model's fee as indexed, in wei (decimal): the transaction's value.
    pub value: String,
}

/// The `postJob` calldata of a checked request with its deadline.
fn post_job_calldata(model_id: u64, input: &[u8], deadline: u64) -> Bytes {
    postJobCall {
        modelId: U256::from(model_id),
        input: Bytes::copy_from_slice(input),
        deadline,
    }
    .abi_encode()
    .into()
}

/// Checks the body as `POST /v1/jobs` does, then answers with the transaction instead of sending it.
pub(crate) async fn prepare_job(
    State(state): State<AppState>,
    req: Request,
) -> Result<Json<PreparedJob>, ApiError> {
    let request = JobRequest::read(&state, req).await?;
    let deadline = request.deadline(&state).await?;
    let data = post_job_calldata(request.model.id, &request.input, deadline);
    Ok(Json(PreparedJob {
        chain_id: state.chain_id().await?,
        to: hex_bytes(state.market.deployment().market.as_slice()),
        data: hex_bytes(&data),
        value: request.model.fee()?.to_string(),
    }))
}
