//! Whole dispute games on a real anvil with the real contracts, the real worker (honest or lying)
//! and the real challenger (honest or lying): the liar loses every time, and the money moves to the
//! wei as PROTOCOL §6.6 says.

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{Address, B256, U256},
    providers::Provider,
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::{path::PathBuf, time::Duration};
use vouch_agent::Cursor;
use vouch_burn::BurnBackend;
use vouch_chain::{
    ChainClient, ChainConfig, Deployment, GameStatus, JobStatus, Market, MarketParams, anvil,
    anvil::LocalChain, deploy, registry,
};
use vouch_challenger::{Challenger, ChallengerConfig, Strategy};
use vouch_core::{
    Model, random,
    tensor::{self, Tensor},
};
use vouch_worker::{Lie, Policy, Worker, WorkerConfig, state::WorkerState};

const ETH: u64 = 1_000_000_000_000_000_000;
const WINDOW: u64 = 600;

struct Net {
    chain: LocalChain,
    config: ChainConfig,
    deployment: Deployment,
    params: MarketParams,
    model: Model,
    model_id: U256,
    fee: U256,
    dir: PathBuf,
}

fn seed() -> u64 {
    vouch_core::random::test_seed("disputes")
}

/// A chain that mines every transaction at once, with 300 s clocks (30 s per move at least), and a
/// random model of every op kind the runtime has.
async fn net(rng: &mut StdRng, name: &str) -> Net {
    let model = random::random_any_model(rng);
    net_with(rng, name, None, (300, 30), model).await
}

/// A chain mining every `block_time` seconds (or each transaction at once), with `clocks` (the game
/// clock and the clock extension, seconds), listing `model`.
async fn net_with(
    rng: &mut StdRng,
    name: &str,
    block_time: Option<u64>,
    clocks: (u64, u64),
    model: Model,
) -> Net {
    let chain =
        LocalChain::start_with(None, block_time).expect("anvil (run `npm ci --prefix contracts`)");
    let config = ChainConfig::local(chain.endpoint());
    let owner = ChainClient::connect(&config, chain.signer(0))
        .await
        .unwrap();
    let mut params = MarketParams::new(WINDOW, U256::from(ETH), 1_000_000_000);
    (params.game_clock, params.clock_extension) = clocks;
    let deployment = deploy(&owner, params).await.unwrap();
    let fee = U256::from(ETH / 100);
    let model_id = registry::list_model(&owner, &deployment, &model, fee, 1_000)
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("vouch-disputes-{name}-{}", rng.random::<u32>()));
    let _ = std::fs::remove_dir_all(&dir);
    Net {
        chain,
        config,
        deployment,
        params,
        model,
        model_id,
        fee,
        dir,
    }
}

impl Net {
    /// A worker that joins now: it serves jobs posted from the next block on (earlier jobs re-opened
    /// by a lost game belong to the case that made them).
    async fn worker(&self, account: usize, lie: Option<Lie>) -> Worker {
        let data_dir = self.dir.join(format!("worker-{account}"));
        let state = data_dir.join("state.json");
        if !state.exists() {
            let head = self
                .market(0)
                .await
                .client()
                .provider()
                .get_block_number()
                .await
                .unwrap();
            std::fs::create_dir_all(&data_dir).unwrap();
            let fresh = WorkerState {
                cursor: Cursor::at(head + 1),
                ..WorkerState::default()
            };
            vouch_core::durable::write_json(&state, &fresh).unwrap();
        }
        let config = WorkerConfig {
            chain: self.config.clone(),
            deployment: self.deployment,
            data_dir,
            confirmations: 0,
            poll_interval: Duration::from_millis(20),
            policy: Policy::default(),
            backend: BurnBackend::Flex,
            lie,
        };
        Worker::new(config, self.chain.signer(account))
            .await
            .unwrap()
    }

    async fn challenger(&self, account: usize, strategy: Strategy) -> Challenger {
        let config = ChallengerConfig {
            chain: self.config.clone(),
            deployment: self.deployment,
            data_dir: self.dir.join(format!("challenger-{account}")),
            confirmations: 0,
            poll_interval: Duration::from_millis(20),
            sample_rate: 1.0,
            sample_key: B256::repeat_byte(account as u8),
            policy: Policy::default(),
            backend: BurnBackend::Flex,
            strategy,
        };
        Challenger::new(config, self.chain.signer(account))
            .await
            .unwrap()
    }

    async fn market(&self, account: usize) -> Market {
        let client = ChainClient::connect(&self.config, self.chain.signer(account))
            .await
            .unwrap();
        Market::new(client, self.deployment)
    }

    async fn post(&self, rng: &mut StdRng) -> U256 {
        let market = self.market(1).await;
        let input = random::random_input(rng, &self.model);
        let deadline = market.chain_time().await.unwrap() + 10 * WINDOW;
        let (id, _) = market
            .post_job(
                self.model_id,
                &Tensor::new(self.model.input, input.clone()).unwrap(),
                deadline,
                self.fee,
            )
            .await
            .unwrap();
        id
    }
}

/// What the share rule (PROTOCOL §6.5) pays, on top of its bond, a game with `moves` moves that was
/// Active when the result of `d` was overturned: its moves' cost first, then an equal part of the rest
/// (or the pool pro rata by moves when it cannot pay every move).
fn share_rule(d: &vouch_chain::ResultDispute, moves: u32, move_reward: U256) -> U256 {
    let (pool, total) = (d.pool, U256::from(d.active_moves));
    let cost = total * move_reward;
    if cost <= pool {
        U256::from(moves) * move_reward + (pool - cost) / U256::from(d.sharers)
    } else {
        U256::from(moves) * pool / total
    }
}

/// Steps the worker and the challenger until the challenger has no game left, moving the chain's
/// clock past a side's allowance whenever neither moves (a silent or stalling party). Returns the
/// challenger's wins and losses. `restart` recreates both agents from their data directories
/// after that many rounds (a crash in the middle of a game).
async fn play_out(
    net: &Net,
    worker: &mut Worker,
    challenger: &mut Challenger,
    restart: Option<(usize, usize, Option<Lie>, Strategy)>,
) -> (usize, usize) {
    let provider = net.market(0).await.client().provider().clone();
    let (mut won, mut lost) = (0, 0);
    for round in 0..400 {
        if let Some((at, account, lie, strategy)) = restart
            && round == at
        {
            *worker = net.worker(account, lie).await;
            *challenger = net.challenger(2, strategy).await;
        }
        let w = worker.step().await.unwrap();
        let c = challenger.step().await.unwrap();
        won += c.won;
        lost += c.lost;
        if challenger.games().count() == 0 && round > 0 {
            return (won, lost);
        }
        if w.revealed == 0 && c.moves == 0 && c.challenged == 0 && c.won + c.lost == 0 {
            anvil::increase_time(&provider, net.params.game_clock + 1)
                .await
                .unwrap();
        }
    }
    panic!("the game did not end in 400 rounds");
}

#[tokio::test]
async fn every_lying_worker_is_slashed_to_the_wei() {
    let mut rng = StdRng::seed_from_u64(seed());
    let net = net(&mut rng, "liars").await;
    let n = net.model.op_count();
    let lies = [
        Lie::WrongOutput,
        Lie::WrongElement {
            step: rng.random_range(0..n),
            element: rng.random_range(0..1_000_000),
        },
        Lie::Consistent {
            step: rng.random_range(0..n),
        },
        Lie::OtherInput,
        Lie::WrongShape {
            step: rng.random_range(0..n),
        },
        Lie::MismatchedOutput,
        Lie::Silent,
        Lie::InputBait,
        Lie::PaddingBait,
    ];
    // Padding bait needs a padding leaf in the final state: n + 1 slots not a power of two.
    let lies: Vec<Lie> = lies
        .into_iter()
        .filter(|l| *l != Lie::PaddingBait || l.bait(n).is_some())
        .collect();
    let count = lies.len() as u64;
    let provider = net.market(0).await.client().provider().clone();
    let mut challenger = net.challenger(2, Strategy::Honest).await;
    for (i, lie) in lies.into_iter().enumerate() {
        let account = 3 + i;
        eprintln!("lie {lie:?} by account {account} on a model of {n} ops");
        let mut worker = net.worker(account, Some(lie)).await;
        let addresses = [challenger.address(), worker.address()];
        let start = provider.get_block_number().await.unwrap() + 1;
        let before = [
            provider.get_balance(addresses[0]).await.unwrap(),
            provider.get_balance(addresses[1]).await.unwrap(),
        ];
        let burned_before = net.market(0).await.burned().await.unwrap();

        let job = net.post(&mut rng).await;
        assert_eq!(worker.step().await.unwrap().submitted, 1, "{lie:?}: posted");
        // The second case is played across a restart of both agents in the middle of the game.
        let restart = (i == 2).then_some((3, account, Some(lie), Strategy::Honest));
        let (won, lost) = play_out(&net, &mut worker, &mut challenger, restart).await;
        assert_eq!((won, lost), (1, 0), "{lie:?}: the honest challenger wins");

        let market = net.market(0).await;
        let j = market.job(job).await.unwrap();
        assert_eq!(j.status, JobStatus::Open, "{lie:?}: the job re-opened");
        assert_eq!(j.attempt, 1);
        let bond = net.params.result_bond;
        let share = bond - bond * U256::from(net.params.burn_bps) / U256::from(10_000);
        assert_eq!(
            market.burned().await.unwrap() - burned_before,
            bond - share,
            "{lie:?}: half the worker's bond burned"
        );
        // The challenger withdrew its bond back plus the whole unburned half (it was the only game).
        let gas = anvil::gas_spent(&provider, start, &addresses)
            .await
            .unwrap();
        let after = [
            provider.get_balance(addresses[0]).await.unwrap(),
            provider.get_balance(addresses[1]).await.unwrap(),
        ];
        assert_eq!(after[0], before[0] + share - gas[0], "{lie:?}: challenger");
        assert_eq!(after[1], before[1] - bond - gas[1], "{lie:?}: worker");
    }
    // Nothing is left in the market but the escrowed fees of the re-opened jobs, nor in the game but
    // the burn.
    let market = net.market(0).await;
    assert_eq!(
        provider.get_balance(net.deployment.market).await.unwrap(),
        net.fee * U256::from(count)
    );
    assert_eq!(
        provider.get_balance(net.deployment.game).await.unwrap(),
        market.burned().await.unwrap()
    );
    std::fs::remove_dir_all(&net.dir).unwrap();
}

#[tokio::test]
async fn every_lying_challenger_loses_to_an_honest_worker() {
    let mut rng = StdRng::seed_from_u64(seed());
    let net = net(&mut rng, "challengers").await;
    let provider = net.market(0).await.client().provider().clone();
    let mut worker = net.worker(3, None).await;
    let strategies = [
        Strategy::DisputeCorrect,
        Strategy::Dishonest,
        Strategy::Stall,
    ];
    for (i, strategy) in strategies.into_iter().enumerate() {
        eprintln!("challenger strategy {strategy:?}");
        // Each lying challenger gets its own account (and data directory) so the balances are its.
        let mut challenger = {
            let config = ChallengerConfig {
                chain: net.config.clone(),
                deployment: net.deployment,
                data_dir: net.dir.join(format!("challenger-{i}")),
                confirmations: 0,
                poll_interval: Duration::from_millis(20),
                sample_rate: 1.0,
                sample_key: B256::repeat_byte(i as u8 + 1),
                policy: Policy::default(),
                backend: BurnBackend::Flex,
                strategy,
            };
            Challenger::new(config, net.chain.signer(4 + i))
                .await
                .unwrap()
        };
        let addresses = [challenger.address(), worker.address()];
        let start = provider.get_block_number().await.unwrap() + 1;
        let before = [
            provider.get_balance(addresses[0]).await.unwrap(),
            provider.get_balance(addresses[1]).await.unwrap(),
        ];
        let job = net.post(&mut rng).await;
        assert_eq!(worker.step().await.unwrap().submitted, 1);
        let (won, lost) = play_out(&net, &mut worker, &mut challenger, None).await;
        assert_eq!(
            (won, lost),
            (0, 1),
            "{strategy:?}: the lying challenger loses"
        );
        // The result stands: after the window it settles and the worker withdraws fee, royalty
        // excepted, its bond, and half the challenger's bond.
        anvil::increase_time(&provider, WINDOW).await.unwrap();
        let report = worker.step().await.unwrap();
        assert_eq!(report.finalized, 1, "{strategy:?}: settles");
        let market = net.market(0).await;
        assert_eq!(market.job(job).await.unwrap().status, JobStatus::Settled);
        let bond = net.params.challenge_bond;
        let half = bond - bond * U256::from(net.params.burn_bps) / U256::from(10_000);
        let royalty = net.fee * U256::from(1_000) / U256::from(10_000);
        let gas = anvil::gas_spent(&provider, start, &addresses)
            .await
            .unwrap();
        let after = [
            provider.get_balance(addresses[0]).await.unwrap(),
            provider.get_balance(addresses[1]).await.unwrap(),
        ];
        assert_eq!(
            after[0],
            before[0] - bond - gas[0],
            "{strategy:?}: challenger"
        );
        assert_eq!(
            after[1],
            before[1] + net.fee - royalty + half - gas[1],
            "{strategy:?}: worker"
        );
    }
    std::fs::remove_dir_all(&net.dir).unwrap();
}

#[tokio::test]
async fn a_challenger_that_lost_its_state_after_challenging_resumes_its_game() {
    let mut rng = StdRng::seed_from_u64(seed());
    let net = net(&mut rng, "crash").await;
    let mut worker = net.worker(3, Some(Lie::WrongOutput)).await;
    let mut challenger = net.challenger(2, Strategy::Honest).await;
    let me = challenger.address();
    let job = net.post(&mut rng).await;
    assert_eq!(worker.step().await.unwrap().submitted, 1);
    assert_eq!(challenger.step().await.unwrap().challenged, 1);
    // The process dies before its state files record the game: a fresh one replays the events.
    drop(challenger);
    std::fs::remove_file(net.dir.join("challenger-2/state.json")).unwrap();
    std::fs::remove_file(net.dir.join("challenger-2/games.json")).unwrap();
    let mut challenger = net.challenger(2, Strategy::Honest).await;
    let (won, lost) = play_out(&net, &mut worker, &mut challenger, None).await;
    assert_eq!((won, lost), (1, 0), "it found its game and won it");
    let games = net.market(0).await.games_opened_by(me, job).await.unwrap();
    assert_eq!(games.len(), 1, "and never challenged twice: {games:?}");
    std::fs::remove_dir_all(&net.dir).unwrap();
}

/// Item 6 of the hardening issue: a challenger's trace belongs to one result (job, attempt), so the end
/// of a game on attempt 1 never takes the trace a game on attempt 2 plays from.
///
/// Two honest challengers dispute a lie (attempt 1). The second wins; the first's game turns moot,
/// but it does not look before a second liar has answered the re-opened job (attempt 2) and it has
/// challenged that too. Only then does it claim the moot game (which ends it) and play on: it wins
/// attempt 2, and every balance moves to the wei.
#[tokio::test]
async fn a_challenger_wins_a_lie_on_the_next_attempt_while_its_moot_game_ends() {
    let mut rng = StdRng::seed_from_u64(seed());
    let net = net(&mut rng, "attempts").await;
    let provider = net.market(0).await.client().provider().clone();
    let mut first = net.worker(5, Some(Lie::WrongOutput)).await;
    let mut second = net.worker(6, Some(Lie::Consistent { step: 0 })).await;
    let mut slow = net.challenger(2, Strategy::Honest).await;
    let mut quick = net.challenger(4, Strategy::Honest).await;
    let addresses = [
        slow.address(),
        quick.address(),
        first.address(),
        second.address(),
    ];
    let start = provider.get_block_number().await.unwrap() + 1;
    let mut before = Vec::new();
    for a in addresses {
        before.push(provider.get_balance(a).await.unwrap());
    }
    let burned_before = net.market(0).await.burned().await.unwrap();

    let job = net.post(&mut rng).await;
    assert_eq!(first.step().await.unwrap().submitted, 1, "attempt 1 posted");
    assert_eq!(second.step().await.unwrap().submitted, 0, "taken already");
    assert_eq!(slow.step().await.unwrap().challenged, 1);
    assert_eq!(quick.step().await.unwrap().challenged, 1);
    // The quick challenger plays attempt 1 out against the first liar; the slow one sleeps (the
    // chain's clock is never moved, so the sleeper's clock does not run out).
    let mut won = 0;
    for _ in 0..400 {
        first.step().await.unwrap();
        won += quick.step().await.unwrap().won;
        if quick.games().count() == 0 {
            break;
        }
    }
    assert_eq!(won, 1, "attempt 1 overturned");
    let market = net.market(0).await;
    assert_eq!(market.job(job).await.unwrap().status, JobStatus::Open);
    // The second liar answers the re-opened job; the first does not answer it again.
    assert_eq!(first.step().await.unwrap().submitted, 0);
    assert_eq!(
        second.step().await.unwrap().submitted,
        1,
        "attempt 2 posted"
    );
    assert_eq!(market.job(job).await.unwrap().attempt, 2);
    // The slow challenger wakes up: it checks attempt 2, challenges it, finds its attempt-1 game
    // moot and claims it, in one step; then it plays attempt 2 out.
    let s = slow.step().await.unwrap();
    assert_eq!(s.challenged, 1, "attempt 2 challenged");
    assert_eq!(
        slow.games().count(),
        1,
        "the moot game ended, the new one is on"
    );
    let dir = net.dir.join("challenger-2/traces");
    assert!(
        dir.join(format!("job-{job}-2.trace")).is_file(),
        "attempt 2's trace kept"
    );
    assert!(
        !dir.join(format!("job-{job}-1.trace")).exists(),
        "attempt 1's trace dropped"
    );
    let (won, lost) = play_out(&net, &mut second, &mut slow, None).await;
    assert_eq!((won, lost), (1, 0), "the slow challenger wins attempt 2");
    assert_eq!(market.job(job).await.unwrap().status, JobStatus::Open);
    assert_eq!(market.job(job).await.unwrap().attempt, 2);

    // Money: each overturn burns `burnBps` of the worker's bond; the rest, the pool, pays the games open
    // at the first loss by the share rule (PROTOCOL §6.5): two on attempt 1, one on attempt 2.
    let bond = net.params.result_bond;
    let pool = bond - bond * U256::from(net.params.burn_bps) / U256::from(10_000);
    let games = |who: Address| {
        let market = &market;
        async move { market.games_opened_by(who, job).await.unwrap() }
    };
    let mut owed = [U256::ZERO; 2];
    let mut paid_out = U256::ZERO;
    for attempt in [1, 2] {
        let d = market.dispute(job, attempt).await.unwrap();
        assert_eq!(d.pool, pool, "attempt {attempt}'s pool");
        for (i, who) in [addresses[0], addresses[1]].into_iter().enumerate() {
            for (game, a) in games(who).await {
                if a == attempt {
                    let moves = market.game(game).await.unwrap().moves;
                    let share = share_rule(&d, moves, net.params.move_reward);
                    owed[i] += share;
                    paid_out += share;
                }
            }
        }
    }
    let (share_slow, share_quick) = (owed[0], owed[1]);
    let burned = market.burned().await.unwrap() - burned_before;
    assert_eq!(
        burned,
        (bond - pool) * U256::from(2) + (pool * U256::from(2) - paid_out)
    );
    let gas = anvil::gas_spent(&provider, start, &addresses)
        .await
        .unwrap();
    let mut after = Vec::new();
    for a in addresses {
        after.push(provider.get_balance(a).await.unwrap());
    }
    assert_eq!(after[0], before[0] + share_slow - gas[0], "slow challenger");
    assert_eq!(
        after[1],
        before[1] + share_quick - gas[1],
        "quick challenger"
    );
    assert_eq!(after[2], before[2] - bond - gas[2], "first liar");
    assert_eq!(after[3], before[3] - bond - gas[3], "second liar");
    std::fs::remove_dir_all(&net.dir).unwrap();
}

/// Item 2 of the hardening issue: a front-runner copies an honest worker's pending result and lands
/// it first. Its trace root is bound to the honest worker (`leaf(0x03, worker ‖ σ_n)`), so the copier
/// can never open it: the honest challenger sees that the root is not what the copier's own run would
/// post, challenges, and the copier loses on its clock. The job re-opens, the honest worker answers it
/// and its answer settles. Every balance moves to the wei.
#[tokio::test]
async fn a_copied_result_is_slashed_and_the_honest_answer_settles() {
    let mut rng = StdRng::seed_from_u64(seed());
    let net = net(&mut rng, "copier").await;
    let provider = net.market(0).await.client().provider().clone();
    let mut honest = net.worker(3, None).await;
    let copier = net.market(4).await;
    let mut challenger = net.challenger(2, Strategy::Honest).await;
    let addresses = [
        challenger.address(),
        honest.address(),
        copier.client().address(),
    ];
    let start = provider.get_block_number().await.unwrap() + 1;
    let mut before = Vec::new();
    for a in addresses {
        before.push(provider.get_balance(a).await.unwrap());
    }
    let burned_before = copier.burned().await.unwrap();

    let job = net.post(&mut rng).await;
    // What the honest worker's pending transaction carries, as a front-runner reads it: its output
    // and its commitments, the trace root bound to the honest worker.
    let input = tensor::from_bytes(&copier.job_input(job).await.unwrap());
    let trace = vouch_core::reference::run(&net.model, &input).unwrap();
    let c = trace.commitments();
    let bond = net.params.result_bond;
    copier
        .submit_result(
            job,
            c.output_root,
            c.trace_root(honest.address()),
            &tensor::to_bytes(trace.output()),
            bond,
        )
        .await
        .unwrap();
    assert_eq!(
        honest.step().await.unwrap().submitted,
        0,
        "the copy landed first"
    );
    assert_eq!(
        challenger.step().await.unwrap().challenged,
        1,
        "the copy is challenged"
    );
    // The copier has nothing to answer with; once its clock runs out the challenger claims the game.
    let mut won = 0;
    for _ in 0..20 {
        let s = challenger.step().await.unwrap();
        won += s.won;
        if challenger.games().count() == 0 {
            break;
        }
        anvil::increase_time(&provider, net.params.game_clock + 1)
            .await
            .unwrap();
    }
    assert_eq!(won, 1, "the copier lost on its clock");
    let market = net.market(0).await;
    assert_eq!(market.job(job).await.unwrap().status, JobStatus::Open);
    // The honest worker answers the re-opened job; the challenger re-runs it and finds it right.
    assert_eq!(
        honest.step().await.unwrap().submitted,
        1,
        "attempt 2 posted"
    );
    let j = market.job(job).await.unwrap();
    assert_eq!((j.attempt, j.worker), (2, honest.address()));
    assert_eq!(challenger.step().await.unwrap().challenged, 0);
    anvil::increase_time(&provider, WINDOW + 1).await.unwrap();
    for _ in 0..5 {
        honest.step().await.unwrap();
        if market.job(job).await.unwrap().status == JobStatus::Settled {
            break;
        }
    }
    assert_eq!(market.job(job).await.unwrap().status, JobStatus::Settled);
    assert_eq!(market.job(job).await.unwrap().output_root, c.output_root);

    // Money: the copier's bond is slashed (the pool goes to the only game), the honest worker is paid.
    let pool = bond - bond * U256::from(net.params.burn_bps) / U256::from(10_000);
    assert_eq!(market.burned().await.unwrap() - burned_before, bond - pool);
    let royalty = net.fee * U256::from(1_000) / U256::from(10_000);
    let gas = anvil::gas_spent(&provider, start, &addresses)
        .await
        .unwrap();
    let mut after = Vec::new();
    for a in addresses {
        after.push(provider.get_balance(a).await.unwrap());
    }
    assert_eq!(after[0], before[0] + pool - gas[0], "challenger");
    assert_eq!(
        after[1],
        before[1] + net.fee - royalty - gas[1],
        "honest worker"
    );
    assert_eq!(after[2], before[2] - bond - gas[2], "copier");
    std::fs::remove_dir_all(&net.dir).unwrap();
}

/// Item 5 of the hardening issue: fifty games opened at once against one honest result, each
/// walking its own random path (slot, tensor leaf, element), on a chain that mines one block a second
/// with 8-second clocks. A defender that answered one game per block would leave the fiftieth game's
/// clock 40 s late; the real worker answers every game of a round together (one cached party, nonces
/// pipelined, most urgent clock first) and wins all fifty. Every move's gas stays under the constants
/// the bonds are derived from, and the defender's balance moves to the wei.
#[tokio::test]
async fn an_honest_worker_wins_fifty_games_at_once() {
    const GAMES: usize = 50;
    const CLOCK: u64 = 8;
    let mut rng = StdRng::seed_from_u64(seed());
    // Seven dense layers of 64 (13 ops: 14 slots, padding to 16; two leaves per tensor).
    let model = random::random_model(&mut rng, &[64, 64, 64, 64, 64, 64, 64, 64]);
    let net = net_with(&mut rng, "swarm", Some(1), (CLOCK, CLOCK), model).await;
    let provider = net.market(0).await.client().provider().clone();
    let worker = net.worker(3, None).await;
    let defender = worker.address();
    let before = provider.get_balance(defender).await.unwrap();
    let start = provider.get_block_number().await.unwrap() + 1;
    let job = net.post(&mut rng).await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone()));
    let market = net.market(0).await;
    while market.job(job).await.unwrap().status != JobStatus::Submitted {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Every challenger re-runs the job itself: the honest trace, on disk once.
    let input = tensor::from_bytes(&market.job_input(job).await.unwrap());
    let trace = vouch_core::reference::run(&net.model, &input).unwrap();
    let trace_path = net.dir.join("honest.trace");
    std::fs::create_dir_all(&net.dir).unwrap();
    trace.persist(&trace_path).unwrap();

    let begun = std::time::Instant::now();
    let mut players = Vec::new();
    for i in 0..GAMES {
        let market = net.market(10 + i).await;
        let (game, _) = market
            .challenge(job, net.params.challenge_bond)
            .await
            .unwrap();
        let (model, path, seed) = (net.model.clone(), trace_path.clone(), rng.random::<u64>());
        players.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed);
            loop {
                let played = vouch_challenger::play::play(
                    &market,
                    &model,
                    &path,
                    game,
                    Strategy::Dishonest,
                    &mut rng,
                )
                .await
                .unwrap();
                if let vouch_challenger::play::Played::Over(status) = played {
                    let g = market.game(game).await.unwrap();
                    return (status, (g.slot, g.index, g.offset));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
    }
    let mut ends = std::collections::HashSet::new();
    for p in players {
        let (status, end) = p.await.unwrap();
        assert_eq!(status, GameStatus::DefenderWon, "a game ended at {end:?}");
        ends.insert(end);
    }
    let wall = begun.elapsed();
    shutdown.cancel();
    running.await.unwrap().unwrap();
    // The challengers pick at random: most walks end apart (slot 0 and padding end many at once).
    assert!(
        ends.len() >= GAMES / 2,
        "the games took {} paths only",
        ends.len()
    );

    // Money: each lost challenger bond pays the defender all but its burn.
    let bond = net.params.challenge_bond;
    let to_defender = bond - bond * U256::from(net.params.burn_bps) / U256::from(10_000);
    let gas = vouch_chain::anvil::gas_spent(&provider, start, &[defender])
        .await
        .unwrap()[0];
    let after =
        provider.get_balance(defender).await.unwrap() + market.credits(defender).await.unwrap();
    assert_eq!(
        after + gas + net.params.result_bond,
        before + to_defender * U256::from(GAMES),
        "the defender's balance, its bond still locked"
    );
    let per_kind = gas_by_call(&provider, start, net.deployment.game).await;
    eprintln!(
        "{GAMES} games on {} distinct paths in {:.1} s of wall time; defender gas {} in all, {} per game",
        ends.len(),
        wall.as_secs_f64(),
        gas_used_by(&provider, start, defender).await,
        gas_used_by(&provider, start, defender).await / GAMES as u64
    );
    use vouch_core::dispute as d;
    let depth = d::state_depth(net.model.op_count()) as u64;
    for (name, max, bound) in [
        (
            "revealOpening",
            per_kind.opening,
            d::OPENING_GAS + d::OPENING_GAS_PER_LEVEL * depth,
        ),
        ("revealNode", per_kind.node, d::NODE_REVEAL_GAS),
        ("revealSlot", per_kind.slot, d::SLOT_REVEAL_GAS),
        ("revealLeaf", per_kind.leaf, d::LEAF_REVEAL_GAS),
        ("pick", per_kind.pick, d::PICK_GAS),
        ("nameElement", per_kind.name, d::NAME_ELEMENT_GAS),
    ] {
        eprintln!("{name}: at most {max} gas (bound {bound})");
        assert!(max > 0, "{name} never happened");
        assert!(
            max <= bound,
            "{name} used {max} gas, above the {bound} the bonds assume"
        );
    }
    std::fs::remove_dir_all(&net.dir).unwrap();
}

/// The most gas any transaction of each game move kind used, sent to the game at `game` in blocks
/// `from..`.
#[derive(Debug, Default)]
struct MoveGas {
    opening: u64,
    node: u64,
    slot: u64,
    leaf: u64,
    pick: u64,
    name: u64,
}

async fn gas_by_call(provider: &impl Provider, from: u64, game: Address) -> MoveGas {
    use alloy::{consensus::Transaction, network::TransactionResponse, sol_types::SolCall};
    use vouch_chain::bindings::DisputeGame as G;
    let head = provider.get_block_number().await.unwrap();
    let mut gas = MoveGas::default();
    for n in from..=head {
        let block = provider
            .get_block_by_number(BlockNumberOrTag::Number(n))
            .full()
            .await
            .unwrap()
            .unwrap();
        for tx in block.transactions.into_transactions() {
            if tx.to() != Some(game) {
                continue;
            }
            let receipt = provider
                .get_transaction_receipt(tx.tx_hash())
                .await
                .unwrap()
                .unwrap();
            let input = tx.input();
            let slot = match <[u8; 4]>::try_from(&input[..4]).unwrap() {
                G::revealOpeningCall::SELECTOR => &mut gas.opening,
                G::revealNodeCall::SELECTOR => &mut gas.node,
                G::revealSlotCall::SELECTOR => &mut gas.slot,
                G::revealLeafCall::SELECTOR => &mut gas.leaf,
                G::pickCall::SELECTOR => &mut gas.pick,
                G::nameElementCall::SELECTOR => &mut gas.name,
                _ => continue,
            };
            *slot = (*slot).max(receipt.gas_used);
        }
    }
    gas
}

/// Gas `account` used in blocks `from..`.
async fn gas_used_by(provider: &impl Provider, from: u64, account: Address) -> u64 {
    let head = provider.get_block_number().await.unwrap();
    let mut used = 0;
    for n in from..=head {
        let receipts = provider
            .get_block_receipts(BlockNumberOrTag::Number(n).into())
            .await
            .unwrap()
            .unwrap_or_default();
        used += receipts
            .iter()
            .filter(|r| r.from == account)
            .map(|r| r.gas_used)
            .sum::<u64>();
    }
    used
}
