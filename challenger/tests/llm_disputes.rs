//! Whole dispute games over language-model results (docs/LLM_INT.md §9) on a real anvil with the
//! real contracts: random small transformers listed on chain, jobs posted as prompts, a worker that
//! lies in one of every way a trace can lie, answering from its own (lying) trace with the worker's
//! defence code, and the honest challenger's play code re-running the job at the claimed length and
//! walking down to one element proven by `LlmStepProver`. The liar loses every time, the money moves
//! to the wei, and the re-opened job then settles with the honest answer. A challenger disputing an
//! honest answer loses its bond.
//!
//! Every random choice comes from a printed seed; replay one with `VOUCH_SEED=<seed>`.

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{Address, U256},
    providers::Provider,
};
use candle_core::quantized::GgmlDType;
use rand::{Rng, SeedableRng, rngs::StdRng};
use vouch_chain::{
    ChainClient, ChainConfig, Deployment, GameStatus, JobStatus, Market, MarketParams, anvil,
    anvil::LocalChain,
    deploy,
    llm::{self, LlmPrice},
};
use vouch_challenger::{
    Strategy,
    play::{Played, play_llm},
};
use vouch_core::dispute::Disputant;
use vouch_llm::{
    IntModel,
    random::{self, Dims, IM_END},
    trace::{
        Job, LmParty, LmTrace, ModelCommitment, Stop, generate, generate_forcing,
        program::{BlockOp, Op},
    },
};
use vouch_worker::{
    defence::{self, Next},
    lie::{other_token, tamper, wrong_token},
};

const ETH: u64 = 1_000_000_000_000_000_000;
const WINDOW: u64 = 600;
const BPS: u64 = 10_000;

fn rng(test: &str) -> StdRng {
    StdRng::seed_from_u64(vouch_core::random::test_seed(test))
}

/// A random transformer of `context` positions: 2 blocks (so a lie can sit in a later block), 1–2 kv
/// heads, a group of 1–2.
fn model(rng: &mut StdRng, context: usize) -> IntModel {
    let kv_heads = rng.random_range(1..=2);
    let heads = kv_heads * rng.random_range(1..=2);
    let dims = Dims {
        hidden: heads * 32,
        heads,
        kv_heads,
        ffn: 32 * rng.random_range(1..=3),
        blocks: 2,
        context,
    };
    let kinds = [GgmlDType::Q4_1, GgmlDType::Q8_0, GgmlDType::Q4_0];
    let kind = kinds[rng.random_range(0..kinds.len())];
    eprintln!("model {dims:?} {kind:?}");
    random::model(rng, dims, kind).unwrap()
}

struct Net {
    chain: LocalChain,
    config: ChainConfig,
    deployment: Deployment,
    params: MarketParams,
    model: IntModel,
    commitment: ModelCommitment,
    model_id: U256,
    price: LlmPrice,
}

impl Net {
    async fn new(rng: &mut StdRng, context: usize) -> Self {
        let chain = LocalChain::start(None).expect("anvil (run `npm ci --prefix contracts`)");
        let config = ChainConfig::local(chain.endpoint());
        let owner = ChainClient::connect(&config, chain.signer(0))
            .await
            .unwrap();
        let params = MarketParams::new(WINDOW, U256::from(ETH), 1_000_000_000);
        let deployment = deploy(&owner, params).await.unwrap();
        let model = model(rng, context);
        let commitment = ModelCommitment::new(&model);
        // Odd prices, so royalties round.
        let price = LlmPrice {
            per_input: U256::from(ETH / 1_000 + 7),
            per_output: U256::from(ETH / 300 + 11),
        };
        let model_id = llm::list_llm(
            &owner,
            &deployment,
            &model,
            price,
            1_000,
            "random",
            &mut |_, _| (),
        )
        .await
        .unwrap();
        Self {
            chain,
            config,
            deployment,
            params,
            model,
            commitment,
            model_id,
            price,
        }
    }

    async fn market(&self, account: usize) -> Market {
        let client = ChainClient::connect(&self.config, self.chain.signer(account))
            .await
            .unwrap();
        Market::new(client, self.deployment)
    }

    fn eos(&self) -> u32 {
        IM_END
    }
}

/// How the worker lies.
#[derive(Debug, Clone, Copy)]
enum Lie {
    /// One element of one op's slot changed (commitments consistent with the lie), the answer kept.
    Element(Op, Pass),
    /// One generated token replaced, and generation continued from it.
    Token(u32),
    /// An early eos: the answer cut short.
    EarlyStop,
    /// The output row alone changed.
    Output,
    /// Junk in a padding leaf of the final state.
    PaddingLeaf,
    /// A wrong input root in slot 0.
    Input,
}

/// Which pass an element lie sits in.
#[derive(Debug, Clone, Copy)]
enum Pass {
    First,
    Last,
}

/// The job: a prompt of 2–5 tokens and a budget of 4–6 new ones.
fn job(rng: &mut StdRng) -> Job {
    let prompt = rng.random_range(2..=5);
    Job {
        prompt: random::ids(rng, prompt),
        max_new: rng.random_range(4..=6),
    }
}

/// The liar's trace for `job` (its answer is its output slot) and the slot where its lie first shows
/// (state-leaf lies are `lying_party`'s).
fn lying_trace(net: &Net, job: &Job, lie: Lie, rng: &mut StdRng) -> (LmTrace, usize) {
    let (model, eos) = (&net.model, net.eos());
    let honest = generate(model, job, Stop::Eos(eos), |_| ()).unwrap();
    // The token of pass P − 1 + k: where a forced token first shows.
    let token_slot = |t: &LmTrace, k: usize| {
        t.layout
            .slot(job.prompt.len() - 1 + k, t.program.index(Op::Argmax2))
    };
    match lie {
        Lie::Element(op, pass) => {
            let mut t = honest;
            let p = match pass {
                Pass::First => 0,
                Pass::Last => t.layout.passes() - 1,
            };
            let s = t.layout.slot(p, t.program.index(op));
            let shape = t.shape(s);
            tamper(&mut t, s, rng.random_range(0..shape.rows * shape.cols)).unwrap();
            (t, s)
        }
        Lie::Token(k) => {
            let k = k as usize % honest.output.len();
            let t = wrong_token(model, job, &honest, k).unwrap();
            let s = token_slot(&t, k);
            (t, s)
        }
        // Stopping at once, unless the honest answer already does: then a wrong first token.
        Lie::EarlyStop if honest.output[0] != eos => {
            let forced = [(job.prompt.len() - 1, eos)];
            let t = generate_forcing(model, job, Stop::Eos(eos), &forced, |_| ()).unwrap();
            (t, token_slot(&honest, 0))
        }
        Lie::Output if honest.output[0] != eos || honest.output.len() == job.max_new => {
            let mut t = honest;
            let (n, g) = (t.layout.output_slot(), t.output.len());
            // Any id but a final eos the answer's length needs.
            let ids = if g < job.max_new { g - 1 } else { g };
            let i = rng.random_range(0..ids);
            let v = t.value(n, i) as u32;
            t.tamper(n, i, i64::from(other_token(v, eos, model.config.vocab)))
                .unwrap();
            t.recommit();
            (t, n)
        }
        // A one-token answer that is eos has no other answer of its length: a wrong token instead.
        Lie::EarlyStop | Lie::Output => {
            let t = wrong_token(model, job, &honest, 0).unwrap();
            (t, token_slot(&honest, 0))
        }
        Lie::PaddingLeaf | Lie::Input => (honest, usize::MAX),
    }
}

/// The worker's party for `lie` over `trace`, and the state leaf a junk-leaf lie replaced (else `lied`).
fn lying_party(trace: LmTrace, lie: Lie, lied: usize) -> (LmParty, usize) {
    let party = LmParty::new(trace);
    let junk = match lie {
        Lie::PaddingLeaf => party.output_slot() + 1,
        Lie::Input => 0,
        _ => return (party, lied),
    };
    assert!(junk < 1 << party.state_depth(), "a padding slot exists");
    let party = party
        .with_state_leaf(junk, alloy::primitives::B256::repeat_byte(0x5a))
        .unwrap();
    (party, junk)
}

/// One side of a game: its account and the trace it plays from.
#[derive(Clone, Copy)]
struct Player<'a> {
    market: &'a Market,
    party: &'a LmParty,
}

/// Plays game `game` to its end: the defender answers every reveal from its party, the challenger
/// moves from its own. Returns the final status.
async fn play_out(
    net: &Net,
    defender: Player<'_>,
    challenger: Player<'_>,
    game: U256,
    strategy: Strategy,
    rng: &mut StdRng,
) -> GameStatus {
    let (worker, own) = (defender.market, challenger.party);
    let (defender, challenger) = (defender.party, challenger.market);
    for _ in 0..2_000 {
        let position = defence::read(worker, game).await.unwrap();
        match position.next() {
            Next::Over(status) => return status,
            Next::ClaimTimeout => {}
            Next::Answer(need) => {
                // Every liar here can open what it committed to: none may lose on time, which would
                // hide a reveal the game cannot take.
                let txs = defence::answer(net.deployment.game, defender, &position.game, need)
                    .unwrap_or_else(|e| panic!("the defender cannot answer {need:?}: {e}"));
                for tx in txs {
                    worker.client().send(tx).await.unwrap();
                }
                continue;
            }
        }
        let played = play_llm(
            challenger,
            &net.model,
            &net.commitment,
            own,
            game,
            strategy,
            rng,
        )
        .await
        .unwrap();
        if let Played::Over(status) = played {
            return status;
        }
    }
    panic!("game {game} did not end");
}

/// Gas each of `accounts` used in blocks `from..=head`: the total and the dearest transaction.
async fn gas_used(market: &Market, from: u64, accounts: &[Address]) -> Vec<(u64, u64)> {
    let provider = market.client().provider();
    let head = provider.get_block_number().await.unwrap();
    let mut used = vec![(0, 0); accounts.len()];
    for n in from..=head {
        let receipts = provider
            .get_block_receipts(BlockNumberOrTag::Number(n).into())
            .await
            .unwrap()
            .unwrap_or_default();
        for r in receipts {
            if let Some(i) = accounts.iter().position(|a| *a == r.from) {
                used[i].0 += r.gas_used;
                used[i].1 = used[i].1.max(r.gas_used);
            }
        }
    }
    used
}

/// Posts `job`, has the worker answer it with `lie`, the honest challenger dispute it, and checks the
/// liar loses to the wei; then an honest worker answers the re-opened job and it settles.
async fn liar_is_slashed(net: &Net, job: &Job, lie: Lie, rng: &mut StdRng) {
    let (poster, worker, challenger, honest) = (
        net.market(1).await,
        net.market(2).await,
        net.market(3).await,
        net.market(4).await,
    );
    let now = poster.chain_time().await.unwrap();
    let (job_id, _) = poster
        .post_llm_job(net.model_id, job, now + 10 * WINDOW, net.price)
        .await
        .unwrap();

    let (trace, lied) = lying_trace(net, job, lie, rng);
    let (defender, lied) = lying_party(trace, lie, lied);
    let worker_address = worker.client().address();
    worker
        .submit_result(
            job_id,
            defender.output_root(),
            defender.trace_root(worker_address),
            defender.trace().output_bytes(),
            net.params.result_bond,
        )
        .await
        .unwrap();

    // The challenger re-runs the job at the claimed length, so both state trees have one shape.
    let claimed = defender.layout().generated;
    let own = LmParty::new(generate(&net.model, job, Stop::Length(claimed), |_| ()).unwrap());
    assert_ne!(
        own.trace_root(worker_address),
        defender.trace_root(worker_address),
        "{lie:?}: the lie shows in the commitments"
    );
    let burned_before = challenger.burned().await.unwrap();
    let (game, receipt) = challenger
        .challenge(job_id, net.params.challenge_bond)
        .await
        .unwrap();
    let status = play_out(
        net,
        Player {
            market: &worker,
            party: &defender,
        },
        Player {
            market: &challenger,
            party: &own,
        },
        game,
        Strategy::Honest,
        rng,
    )
    .await;
    assert_eq!(status, GameStatus::ChallengerWon, "{lie:?}: the liar loses");
    let view = challenger.game(game).await.unwrap();
    assert_eq!(
        view.slot as usize, lied,
        "{lie:?}: the walk reached the slot where the lie first shows"
    );
    let gas = gas_used(
        &challenger,
        receipt.block_number.unwrap(),
        &[worker_address, challenger.client().address()],
    )
    .await;
    eprintln!(
        "| {lie:?} | {} | {} | {} | {} | {} |",
        defender.trace().layout.output_slot(),
        view.moves,
        gas[0].0,
        gas[1].0,
        gas[1].1
    );

    // Money, to the wei: half the worker's bond burned, the challenger paid its bond back and the
    // unburned half (the only game), the worker nothing.
    let bond = net.params.result_bond;
    let burn = bond * U256::from(net.params.burn_bps) / U256::from(BPS);
    assert_eq!(challenger.burned().await.unwrap() - burned_before, burn);
    assert_eq!(
        challenger
            .credits(challenger.client().address())
            .await
            .unwrap(),
        net.params.challenge_bond + bond - burn,
        "{lie:?}: the challenger's bond and the pool"
    );
    assert_eq!(worker.credits(worker_address).await.unwrap(), U256::ZERO);
    challenger.withdraw().await.unwrap();

    // The job re-opened: an honest worker answers and, unchallenged, it settles.
    let view = poster.job(job_id).await.unwrap();
    assert_eq!(view.status, JobStatus::Open, "{lie:?}: the job re-opens");
    let truth = LmParty::new(generate(&net.model, job, Stop::Eos(net.eos()), |_| ()).unwrap());
    let honest_address = honest.client().address();
    let ids = truth.trace().output.clone();
    honest
        .submit_result(
            job_id,
            truth.output_root(),
            truth.trace_root(honest_address),
            truth.trace().output_bytes(),
            net.params.result_bond,
        )
        .await
        .unwrap();
    anvil::increase_time(honest.client().provider(), WINDOW)
        .await
        .unwrap();
    let poster_address = poster.client().address();
    let poster_before = poster.credits(poster_address).await.unwrap();
    honest.finalize(job_id).await.unwrap();
    // Charged for the settled answer's tokens; the unused budget goes back to the poster.
    let fee = net.price.charge(job.prompt.len(), ids.len());
    let royalty = fee * U256::from(1_000) / U256::from(BPS);
    assert_eq!(
        honest.credits(honest_address).await.unwrap(),
        fee - royalty + bond,
        "{lie:?}: the honest answer earns the fee of its tokens"
    );
    assert_eq!(
        poster.credits(poster_address).await.unwrap() - poster_before,
        U256::from(job.max_new - ids.len()) * net.price.per_output,
        "{lie:?}: the poster gets the unused tokens back"
    );
    assert_eq!(poster.job(job_id).await.unwrap().status, JobStatus::Settled);
    assert_eq!(
        poster.llm_layout(job_id).await.unwrap().2 as usize,
        ids.len()
    );
    honest.withdraw().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lying_worker_is_slashed() {
    let mut rng = rng("every_lying_worker_is_slashed");
    let net = Net::new(&mut rng, 32).await;
    let lies = [
        // Deep inside a later token's attention: the last pass's scores, probabilities and P·V.
        Lie::Element(Op::Block(1, BlockOp::Score), Pass::Last),
        Lie::Element(Op::Block(1, BlockOp::Softmax), Pass::Last),
        Lie::Element(Op::Block(1, BlockOp::Pv), Pass::Last),
        Lie::Element(Op::Block(1, BlockOp::V), Pass::First),
        Lie::Element(Op::Block(0, BlockOp::RopeK), Pass::First),
        Lie::Element(Op::Block(1, BlockOp::Product), Pass::Last),
        Lie::Element(Op::Embed, Pass::Last),
        Lie::Element(Op::Head, Pass::Last),
        Lie::Element(Op::Argmax1, Pass::First),
        Lie::Token(rng.random()),
        Lie::EarlyStop,
        Lie::Output,
        Lie::PaddingLeaf,
        Lie::Input,
    ];
    eprintln!(
        "| lie | n | challenger moves | defender gas | challenger gas | dearest challenger tx |"
    );
    for lie in lies {
        let job = job(&mut rng);
        liar_is_slashed(&net, &job, lie, &mut rng).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenger_disputing_an_honest_answer_loses() {
    let mut rng = rng("a_challenger_disputing_an_honest_answer_loses");
    let net = Net::new(&mut rng, 32).await;
    for strategy in [Strategy::DisputeCorrect, Strategy::Dishonest] {
        let (poster, worker, challenger) = (
            net.market(1).await,
            net.market(2).await,
            net.market(3).await,
        );
        let job = job(&mut rng);
        let now = poster.chain_time().await.unwrap();
        let (job_id, _) = poster
            .post_llm_job(net.model_id, &job, now + 10 * WINDOW, net.price)
            .await
            .unwrap();
        let party = LmParty::new(generate(&net.model, &job, Stop::Eos(net.eos()), |_| ()).unwrap());
        let worker_address: Address = worker.client().address();
        worker
            .submit_result(
                job_id,
                party.output_root(),
                party.trace_root(worker_address),
                party.trace().output_bytes(),
                net.params.result_bond,
            )
            .await
            .unwrap();
        let credit_before = worker.credits(worker_address).await.unwrap();
        let (game, _) = challenger
            .challenge(job_id, net.params.challenge_bond)
            .await
            .unwrap();
        let status = play_out(
            &net,
            Player {
                market: &worker,
                party: &party,
            },
            Player {
                market: &challenger,
                party: &party,
            },
            game,
            strategy,
            &mut rng,
        )
        .await;
        assert_eq!(status, GameStatus::DefenderWon, "{strategy:?} loses");
        let bond = net.params.challenge_bond;
        let to_defender = bond - bond * U256::from(net.params.burn_bps) / U256::from(BPS);
        assert_eq!(
            worker.credits(worker_address).await.unwrap() - credit_before,
            to_defender,
            "{strategy:?}: the unburned part of the challenger's bond pays the defence"
        );
    }
}

/// A game over a trace of more than 10^4 slots (a long answer: n = 1 + (P + G − 1)·43), the lie one
/// probability of the last token's attention: slashed like the short ones (docs/GAS.md, PROTOCOL §7.4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lie_deep_in_a_long_answer_is_slashed() {
    let mut rng = rng("a_lie_deep_in_a_long_answer_is_slashed");
    let net = Net::new(&mut rng, 256).await;
    // A prompt whose honest answer is long (a random model stops at eos now and then).
    let job = loop {
        let job = Job {
            prompt: random::ids(&mut rng, 8),
            max_new: 240,
        };
        let t = generate(&net.model, &job, Stop::Eos(net.eos()), |_| ()).unwrap();
        if t.layout.output_slot() >= 10_000 {
            break job;
        }
    };
    eprintln!(
        "| lie | n | challenger moves | defender gas | challenger gas | dearest challenger tx |"
    );
    let lie = Lie::Element(Op::Block(1, BlockOp::Softmax), Pass::Last);
    liar_is_slashed(&net, &job, lie, &mut rng).await;
}
