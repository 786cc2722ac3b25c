//! `POST /v1/jobs/prepare`: the user-pays mode. The coordinator checks a job request exactly as
//! `POST /v1/jobs` does (a language model's prompt tokenized with the model's card) and answers
//! with the `postJob` transaction for the user's own wallet to sign, send and pay; it spends
//! nothing and needs no API key.

use crate::{
    api::{AppState, CheckedJob},
    columns::hex_bytes,
    error::ApiError,
    input::JobInput,
};
use alloy::{
    primitives::{Bytes, U256},
    sol_types::SolCall,
};
use axum::{
    Json,
    extract::{Request, State},
};
use vouch_chain::bindings::JobMarket::postJobCall;
use vouch_client::PreparedJob;

/// The `postJob` calldata of a checked request with its deadline.
fn post_job_calldata(model_id: u64, input: &JobInput, deadline: u64) -> Bytes {
    postJobCall {
        modelId: U256::from(model_id),
        input: input.to_bytes().into(),
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
    let request = CheckedJob::read(&state, req).await?;
    let deadline = request.deadline(&state).await?;
    let data = post_job_calldata(request.model.id, &request.input, deadline);
    Ok(Json(PreparedJob {
        chain_id: state.chain_id().await?,
        to: hex_bytes(state.market.deployment().market.as_slice()),
        data: hex_bytes(&data),
        value: request.fee()?.to_string(),
        prompt: request.input.prompt_tokens(),
    }))
}
