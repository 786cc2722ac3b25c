//! Typed calls to the `JobMarket`: post, submit, finalize, refund, withdraw, and reads.

use crate::{
    bindings::JobMarket,
    client::{ChainClient, classify},
    deploy::{Deployment, MarketParams},
    error::{ChainError, Result},
    llm::{self, LlmPrice},
};
use alloy::{
    primitives::{Address, B256, Bytes, U256},
    providers::DynProvider,
    rpc::types::TransactionReceipt,
};
use serde::{Deserialize, Serialize};
use vouch_core::tensor::Tensor;
use vouch_llm::trace::Job as LmJob;

/// A job's lifecycle on chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Posted, waiting for a result.
    Open,
    /// A result is posted; its challenge window runs.
    Submitted,
    /// Settled: the output is final.
    Settled,
    /// No result before the deadline: the fee went back to the poster.
    Expired,
}

impl JobStatus {
    /// From the contract's `JobStatus` enum value.
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(Self::Open),
            2 => Some(Self::Submitted),
            3 => Some(Self::Settled),
            4 => Some(Self::Expired),
            _ => None,
        }
    }

    /// Lower-case name, as stored and served.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Submitted => "submitted",
            Self::Settled => "settled",
            Self::Expired => "expired",
        }
    }
}

/// A job as the contract stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobView {
    /// Job id.
    pub id: U256,
    /// Model it runs.
    pub model_id: U256,
    /// Who posted it (refunds go here).
    pub poster: Address,
    /// Unix time after which no result is accepted.
    pub deadline: u64,
    /// Lifecycle status.
    pub status: JobStatus,
    /// Who submitted the result (zero while open).
    pub worker: Address,
    /// When the result was submitted.
    pub submitted_at: u64,
    /// Escrowed fee.
    pub fee: U256,
    /// The worker's bond.
    pub bond: U256,
    /// Tensor root of the input.
    pub input_root: B256,
    /// Tensor root of the posted output.
    pub output_root: B256,
    /// Root of the worker's trace.
    pub trace_root: B256,
    /// How many results were ever submitted (the current one is number `attempt`).
    pub attempt: u32,
}

/// A handle on one deployment's market, acting as one account.
#[derive(Debug, Clone)]
pub struct Market {
    client: ChainClient,
    deployment: Deployment,
}

pub(crate) fn call_err(e: alloy::contract::Error) -> ChainError {
    match e {
        alloy::contract::Error::TransportError(t) => classify(t),
        other => ChainError::Decode(other.to_string()),
    }
}

impl Market {
    /// Wraps a client and a deployment.
    pub fn new(client: ChainClient, deployment: Deployment) -> Self {
        Self { client, deployment }
    }

    /// The acting account's client.
    pub fn client(&self) -> &ChainClient {
        &self.client
    }

    /// Where the contracts live.
    pub fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    pub(crate) fn contract(&self) -> JobMarket::JobMarketInstance<&DynProvider> {
        JobMarket::new(self.deployment.market, self.client.provider())
    }

    /// The deployment's parameters, read from the market.
    pub async fn params(&self) -> Result<MarketParams> {
        let (c, g) = (self.contract(), self.game_contract());
        Ok(MarketParams {
            challenge_window: c.challengeWindow().call().await.map_err(call_err)?,
            result_bond: c.resultBond().call().await.map_err(call_err)?,
            challenge_bond: g.challengeBond().call().await.map_err(call_err)?,
            game_clock: g.gameClock().call().await.map_err(call_err)?,
            clock_extension: g.clockExtension().call().await.map_err(call_err)?,
            burn_bps: g.burnBps().call().await.map_err(call_err)?,
            move_reward: g.moveReward().call().await.map_err(call_err)?,
        })
    }

    /// Posts a job on `input` with its fee; returns the job id and the receipt.
    pub async fn post_job(
        &self,
        model_id: U256,
        input: &Tensor,
        deadline: u64,
        fee: U256,
    ) -> Result<(U256, TransactionReceipt)> {
        self.post_input(model_id, input.to_bytes(), deadline, fee)
            .await
    }

    /// Posts a language model's job: the prompt's ids and the token budget (`Job::input`, int32
    /// big-endian), escrowing the most it can cost at `price` (the model's
    /// [`llm_prices`](Self::llm_prices); `WrongFee` if they changed since); returns the job id and
    /// the receipt. The unused tokens' share comes back to the poster's credit when it settles.
    pub async fn post_llm_job(
        &self,
        model_id: U256,
        job: &LmJob,
        deadline: u64,
        price: LlmPrice,
    ) -> Result<(U256, TransactionReceipt)> {
        let input = job.input().iter().flat_map(|v| v.to_be_bytes()).collect();
        let escrow = price.escrow(job.prompt.len(), job.max_new);
        self.post_input(model_id, input, deadline, escrow).await
    }

    /// The per-token prices a language model's job posted now escrows by
    /// (`ModelRegistry.llmPrices`).
    pub async fn llm_prices(&self, model_id: U256) -> Result<LlmPrice> {
        llm::llm_prices(self.client.provider(), self.deployment.registry, model_id).await
    }

    /// Posts a job on the input bytes the contract takes.
    async fn post_input(
        &self,
        model_id: U256,
        input: Vec<u8>,
        deadline: u64,
        fee: U256,
    ) -> Result<(U256, TransactionReceipt)> {
        let tx = self
            .contract()
            .postJob(model_id, input.into(), deadline)
            .value(fee)
            .into_transaction_request();
        let receipt = self.client.send(tx).await?;
        let id = receipt
            .decoded_log::<JobMarket::JobPosted>()
            .ok_or_else(|| ChainError::Decode("no JobPosted log".into()))?
            .jobId;
        Ok((id, receipt))
    }

    /// Submits a result with the bond.
    pub async fn submit_result(
        &self,
        job_id: U256,
        output_root: B256,
        trace_root: B256,
        output: &[u8],
        bond: U256,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .contract()
            .submitResult(
                job_id,
                output_root,
                trace_root,
                Bytes::copy_from_slice(output),
            )
            .value(bond)
            .into_transaction_request();
        self.client.send(tx).await
    }

    /// Settles a job whose challenge window has passed.
    pub async fn finalize(&self, job_id: U256) -> Result<TransactionReceipt> {
        self.client
            .send(self.contract().finalize(job_id).into_transaction_request())
            .await
    }

    /// Refunds an expired job to its poster.
    pub async fn refund_expired(&self, job_id: U256) -> Result<TransactionReceipt> {
        self.client
            .send(
                self.contract()
                    .refundExpired(job_id)
                    .into_transaction_request(),
            )
            .await
    }

    /// Withdraws this account's credit.
    pub async fn withdraw(&self) -> Result<TransactionReceipt> {
        self.client
            .send(self.contract().withdraw().into_transaction_request())
            .await
    }

    /// Credit waiting for `account`.
    pub async fn credits(&self, account: Address) -> Result<U256> {
        self.contract()
            .credits(account)
            .call()
            .await
            .map_err(call_err)
    }

    /// Reads a job.
    pub async fn job(&self, id: U256) -> Result<JobView> {
        let j = self.contract().getJob(id).call().await.map_err(call_err)?;
        Ok(JobView {
            id,
            model_id: j.modelId,
            poster: j.poster,
            deadline: j.deadline,
            status: JobStatus::from_u8(j.status)
                .ok_or_else(|| ChainError::Decode(format!("job status {}", j.status)))?,
            worker: j.worker,
            submitted_at: j.submittedAt,
            fee: j.fee,
            bond: j.bond,
            input_root: j.inputRoot,
            output_root: j.outputRoot,
            trace_root: j.traceRoot,
            attempt: j.attempt,
        })
    }

    /// A language-model job's layout `(prompt, max_new, generated)` (all zero for a tensor job;
    /// `generated` zero while it has no result).
    pub async fn llm_layout(&self, id: U256) -> Result<(u32, u32, u32)> {
        let l = self
            .contract()
            .llmLayout(id)
            .call()
            .await
            .map_err(call_err)?;
        Ok((l.prompt, l.maxNew, l.generated))
    }

    /// The input bytes of job `id`, from its `JobPosted` event (the chain is the only source needed).
    pub async fn job_input(&self, id: U256) -> Result<Vec<u8>> {
        use alloy::{providers::Provider, rpc::types::Filter, sol_types::SolEvent};
        let filter = Filter::new()
            .address(self.deployment.market)
            .event_signature(JobMarket::JobPosted::SIGNATURE_HASH)
            .topic1(B256::from(id))
            .from_block(self.deployment.start_block);
        let logs = self
            .client
            .provider()
            .get_logs(&filter)
            .await
            .map_err(classify)?;
        let log = logs
            .first()
            .ok_or_else(|| ChainError::Decode(format!("no JobPosted event for job {id}")))?;
        let event = JobMarket::JobPosted::decode_log_data(log.data())
            .map_err(|e| ChainError::Decode(e.to_string()))?;
        Ok(event.input.to_vec())
    }

    /// Timestamp of the latest block.
    pub async fn chain_time(&self) -> Result<u64> {
        use alloy::providers::Provider;
        let block = self
            .client
            .provider()
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(classify)?
            .ok_or_else(|| ChainError::Rpc("no latest block".into()))?;
        Ok(block.header.timestamp)
    }

    /// `JobMarket.tensorRoot`: the contract's own tensor commitment (rows of `row_len` elements),
    /// for cross-checks.
    pub async fn tensor_root(&self, data: &[u8], row_len: usize) -> Result<B256> {
        self.contract()
            .tensorRoot(Bytes::copy_from_slice(data), U256::from(row_len))
            .call()
            .await
            .map_err(call_err)
    }
}
