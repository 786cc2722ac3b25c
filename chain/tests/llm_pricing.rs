//! Per-token prices of language-model jobs (PROTOCOL §7.2) on a real anvil with the real
//! contracts: a tiny random transformer listed with `list_llm` at odd prices per prompt and per
//! generated token, a job posted with `post_llm_job` (the wrong value refused with the typed
//! `WrongFee`), an answer shorter than the budget submitted and finalized, and the poster's refund
//! of the unused tokens, the worker's payout and the owner's royalty checked to the wei. The market
//! checks the answer's form only (nobody challenges it here), so it is made up rather than
//! generated. The seed is printed; replay with `VOUCH_SEED=<seed>`.

use alloy::primitives::U256;
use candle_core::quantized::GgmlDType;
use rand::{Rng, SeedableRng, rngs::StdRng};
use vouch_chain::{
    ChainClient, ChainConfig, ChainError, Market, MarketParams, Revert, anvil,
    anvil::LocalChain,
    bindings::JobMarket::{self, JobMarketErrors},
    deploy,
    llm::{LlmPrice, list_llm},
};
use vouch_core::commit::tensor_root;
use vouch_llm::{
    random::{self, Dims, IM_END},
    trace::Job,
};

const ETH: u64 = 1_000_000_000_000_000_000;
const WINDOW: u64 = 600;
const ROYALTY_BPS: u16 = 1_500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_answer_pays_for_its_tokens_and_refunds_the_rest() {
    let mut rng = StdRng::seed_from_u64(vouch_core::random::test_seed(
        "a_short_answer_pays_for_its_tokens_and_refunds_the_rest",
    ));
    let chain = LocalChain::start(None).expect("anvil (run `npm ci --prefix contracts`)");
    let config = ChainConfig::local(chain.endpoint());
    let connect = |i: usize| {
        let (config, signer) = (config.clone(), chain.signer(i));
        async move { ChainClient::connect(&config, signer).await.unwrap() }
    };
    let owner = connect(0).await;
    let params = MarketParams::new(WINDOW, U256::from(ETH / 10), 1_000_000_000);
    let deployment = deploy(&owner, params).await.unwrap();
    let dims = Dims {
        context: 32,
        ..Dims::TINY
    };
    let model = random::model(&mut rng, dims, GgmlDType::Q8_0).unwrap();
    // Odd prices, so the royalty rounds.
    let price = LlmPrice {
        per_input: U256::from(ETH / 10_000 + 7),
        per_output: U256::from(ETH / 1_000 + 11),
    };
    let model_id = list_llm(
        &owner,
        &deployment,
        &model,
        price,
        ROYALTY_BPS,
        "random",
        &mut |_, _| (),
    )
    .await
    .unwrap();

    let (poster, worker) = (
        Market::new(connect(1).await, deployment),
        Market::new(connect(2).await, deployment),
    );
    assert_eq!(poster.llm_prices(model_id).await.unwrap(), price);
    let prompt_len = rng.random_range(1..=6);
    let job = Job {
        prompt: random::ids(&mut rng, prompt_len),
        max_new: rng.random_range(2..=8),
    };
    let (p, max_new) = (job.prompt.len(), job.max_new);
    let escrow = price.escrow(p, max_new);
    assert_eq!(
        escrow,
        U256::from(p) * price.per_input + U256::from(max_new) * price.per_output
    );
    let deadline = poster.chain_time().await.unwrap() + 10 * WINDOW;

    // A price other than the model's: the escrow is refused with the expected value.
    let cheap = LlmPrice {
        per_output: price.per_output - U256::from(1),
        ..price
    };
    match poster.post_llm_job(model_id, &job, deadline, cheap).await {
        Err(ChainError::Reverted(Revert::Market(JobMarketErrors::WrongFee(e)))) => {
            assert_eq!(e.sent, cheap.escrow(p, max_new));
            assert_eq!(e.expected, escrow);
        }
        other => panic!("expected WrongFee, got {other:?}"),
    }
    let (job_id, _) = poster
        .post_llm_job(model_id, &job, deadline, price)
        .await
        .unwrap();
    assert_eq!(poster.job(job_id).await.unwrap().fee, escrow);

    // G < max_new ids: none eos but the last, which is.
    let generated = rng.random_range(1..max_new);
    let mut ids: Vec<u32> = (0..generated - 1)
        .map(|_| rng.random_range(0..256))
        .collect();
    ids.push(IM_END);
    let output: Vec<u8> = ids.iter().flat_map(|&t| (t as i32).to_be_bytes()).collect();
    let signed: Vec<i8> = output.iter().map(|&b| b as i8).collect();
    let bond = params.result_bond;
    worker
        .submit_result(
            job_id,
            tensor_root(&signed, signed.len()),
            Default::default(),
            &output,
            bond,
        )
        .await
        .unwrap();
    anvil::increase_time(worker.client().provider(), WINDOW)
        .await
        .unwrap();
    let receipt = worker.finalize(job_id).await.unwrap();

    let charged = price.charge(p, generated);
    let royalty = charged * U256::from(ROYALTY_BPS) / U256::from(10_000);
    let refund = U256::from(max_new - generated) * price.per_output;
    eprintln!("P {p}, max_new {max_new}, G {generated}: escrow {escrow}, charged {charged}");
    eprintln!("royalty {royalty}, refund {refund}");
    let (owner_address, poster_address, worker_address) = (
        owner.address(),
        poster.client().address(),
        worker.client().address(),
    );
    assert_eq!(
        poster.credits(poster_address).await.unwrap(),
        refund,
        "poster: the unused tokens"
    );
    assert_eq!(
        poster.credits(worker_address).await.unwrap(),
        charged - royalty + bond,
        "worker: the charged fee less the royalty, and its bond"
    );
    assert_eq!(
        poster.credits(owner_address).await.unwrap(),
        royalty,
        "owner: the royalty of the charged fee"
    );
    assert_eq!(refund + charged, escrow, "the escrow, to the wei");

    let refunded = receipt
        .decoded_log::<JobMarket::UnusedTokensRefunded>()
        .expect("UnusedTokensRefunded");
    assert_eq!(
        (
            refunded.jobId,
            refunded.poster,
            refunded.unusedTokens,
            refunded.amount
        ),
        (job_id, poster_address, (max_new - generated) as u32, refund)
    );
    let settled = receipt
        .decoded_log::<JobMarket::JobSettled>()
        .expect("JobSettled");
    assert_eq!(
        (settled.workerPayout, settled.royalty),
        (charged - royalty + bond, royalty)
    );
}
