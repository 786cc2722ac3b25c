//! The real worker and challenger daemons on language-model jobs, each running as its own task on a
//! real anvil with the real contracts and a random tiny transformer listed from chain data alone: an
//! honest answer is checked, not challenged, and settles; a lying answer (a wrong token, generation
//! continued from it) is challenged by the challenger daemon, loses the game at that token, and the
//! re-opened job settles with an honest worker's answer; a lying challenger loses to an honest
//! worker whose process is restarted in the middle of the game (its cached model replaced by another
//! meanwhile: refused by its root, fetched again). Every balance moves to the wei. The challenger
//! generates its party of a game only when it must move: never while the defender owes data.
//!
//! Every random choice comes from a printed seed; replay one with `VOUCH_SEED=<seed>`.

use alloy::{
    primitives::{Address, B256, U256},
    providers::Provider,
};
use candle_core::quantized::GgmlDType;
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::{future::Future, path::PathBuf, time::Duration};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use vouch_agent::Cursor;
use vouch_burn::BurnBackend;
use vouch_chain::{
    ChainClient, ChainConfig, Deployment, GameStatus, JobStatus, Market, MarketParams, anvil,
    anvil::LocalChain,
    deploy,
    llm::{self, LlmPrice},
};
use vouch_challenger::{Challenger, ChallengerConfig, Strategy, state::ChallengerState};
use vouch_llm::{
    IntModel,
    random::{self, Dims},
    trace::{
        Job, LmTrace, ModelCommitment, Stop, generate,
        program::{Op, Program},
    },
};
use vouch_worker::{Lie, Policy, Worker, WorkerConfig, state::WorkerState};

const ETH: u64 = 1_000_000_000_000_000_000;
const WINDOW: u64 = 600;
const BPS: u64 = 10_000;
const ROYALTY_BPS: u16 = 1_000;
/// How long any one thing may take before the test gives up on it.
const PATIENCE: Duration = Duration::from_secs(60);

const OWNER: usize = 0;
const POSTER: usize = 1;

struct Net {
    chain: LocalChain,
    config: ChainConfig,
    deployment: Deployment,
    params: MarketParams,
    model: IntModel,
    model_id: U256,
    price: LlmPrice,
    dir: PathBuf,
    provider: alloy::providers::DynProvider,
}

/// A daemon running on a task of its own.
struct Running {
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl Running {
    fn spawn<F: Future<Output = Result<(), vouch_agent::AgentError>> + Send + 'static>(
        run: impl FnOnce(CancellationToken) -> F,
    ) -> Self {
        let shutdown = CancellationToken::new();
        let daemon = run(shutdown.clone());
        let task = tokio::spawn(async move { daemon.await.unwrap() });
        Self { shutdown, task }
    }

    /// Stops the daemon between two steps (as a signal does) and waits for it.
    async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap();
    }
}

impl Net {
    /// A chain with the market deployed (600 s windows and clocks) and a random tiny transformer
    /// listed.
    async fn new(rng: &mut StdRng, name: &str) -> Self {
        let chain = LocalChain::start(None).expect("anvil (run `npm ci --prefix contracts`)");
        let config = ChainConfig::local(chain.endpoint());
        let owner = ChainClient::connect(&config, chain.signer(OWNER))
            .await
            .unwrap();
        let params = MarketParams::new(WINDOW, U256::from(ETH), 1_000_000_000);
        let deployment = deploy(&owner, params).await.unwrap();
        let kinds = [GgmlDType::Q4_0, GgmlDType::Q4_1, GgmlDType::Q8_0];
        let kind = kinds[rng.random_range(0..kinds.len())];
        eprintln!("a tiny transformer of {kind:?} weights");
        let model = random::model(rng, Dims::TINY, kind).unwrap();
        let price = LlmPrice {
            per_input: U256::from(ETH / 1000) + U256::from(rng.random_range(0..1_000_000u64)),
            per_output: U256::from(ETH / 500) + U256::from(rng.random_range(0..1_000_000u64)),
        };
        let model_id = llm::list_llm(
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
        let dir =
            std::env::temp_dir().join(format!("vouch-llm-daemons-{name}-{}", rng.random::<u32>()));
        let _ = std::fs::remove_dir_all(&dir);
        Self {
            provider: owner.provider().clone(),
            chain,
            config,
            deployment,
            params,
            model,
            model_id,
            price,
            dir,
        }
    }

    fn address(&self, account: usize) -> Address {
        self.chain.signer(account).address()
    }

    async fn market(&self, account: usize) -> Market {
        let client = ChainClient::connect(&self.config, self.chain.signer(account))
            .await
            .unwrap();
        Market::new(client, self.deployment)
    }

    /// A worker daemon of `account` (a restart when its data directory exists): a new one serves jobs
    /// posted from the next block on, and answers again the jobs it sees re-opened.
    async fn worker(&self, account: usize, lie: Option<Lie>) -> Running {
        let data_dir = self.dir.join(format!("worker-{account}"));
        let state = data_dir.join("state.json");
        if !state.exists() {
            let head = self.provider.get_block_number().await.unwrap();
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
            poll_interval: Duration::from_millis(50),
            policy: Policy::default(),
            backend: BurnBackend::Flex,
            lie,
        };
        let worker = Worker::new(config, self.chain.signer(account))
            .await
            .unwrap();
        Running::spawn(|shutdown| worker.run(shutdown))
    }

    /// A challenger daemon of `account` checking every result (a restart when its data directory
    /// exists), polling every `poll`.
    async fn challenger(&self, account: usize, strategy: Strategy, poll: Duration) -> Running {
        let challenger = Challenger::new(
            self.challenger_config(account, strategy, poll),
            self.chain.signer(account),
        )
        .await
        .unwrap();
        Running::spawn(|shutdown| challenger.run(shutdown))
    }

    /// The config of a challenger of `account` checking every result.
    fn challenger_config(
        &self,
        account: usize,
        strategy: Strategy,
        poll: Duration,
    ) -> ChallengerConfig {
        ChallengerConfig {
            chain: self.config.clone(),
            deployment: self.deployment,
            data_dir: self.challenger_dir(account),
            confirmations: 0,
            poll_interval: poll,
            sample_rate: 1.0,
            sample_key: B256::repeat_byte(account as u8),
            policy: Policy::default(),
            backend: BurnBackend::Flex,
            strategy,
        }
    }

    /// Where the worker of `account` caches the listed model.
    fn model_file(&self, account: usize) -> PathBuf {
        let root = ModelCommitment::new(&self.model).root;
        let path = self.dir.join(format!(
            "worker-{account}/models/{}-{root}.vouchlm",
            self.model_id
        ));
        assert!(path.is_file(), "{} cached", path.display());
        path
    }

    fn challenger_dir(&self, account: usize) -> PathBuf {
        self.dir.join(format!("challenger-{account}"))
    }

    /// The first block the challenger of `account` has not checked yet.
    fn checked_up_to(&self, account: usize) -> u64 {
        let path = self.challenger_dir(account).join("state.json");
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<ChallengerState>(&b).ok())
            .map_or(0, |s| s.cursor.next_block)
    }

    /// Posts a job of a 2–5-token prompt and a budget of 4–6 new tokens.
    async fn post(&self, rng: &mut StdRng) -> (U256, Job) {
        let prompt = rng.random_range(2..=5);
        let job = Job {
            prompt: random::ids(rng, prompt),
            max_new: rng.random_range(4..=6),
        };
        let market = self.market(POSTER).await;
        let deadline = market.chain_time().await.unwrap() + 10 * WINDOW;
        let (id, _) = market
            .post_llm_job(self.model_id, &job, deadline, self.price)
            .await
            .unwrap();
        eprintln!("job {id}: prompt {:?}, max_new {}", job.prompt, job.max_new);
        (id, job)
    }

    /// The honest answer to `job`, traced.
    fn honest(&self, job: &Job) -> LmTrace {
        let eos = self.model.tokenizer.eos;
        generate(&self.model, job, Stop::Eos(eos), |_| ()).unwrap()
    }

    async fn balances(&self, accounts: &[Address]) -> Vec<U256> {
        let mut b = Vec::new();
        for a in accounts {
            b.push(self.provider.get_balance(*a).await.unwrap());
        }
        b
    }

    /// Waits until `done` holds, checking every 20 ms.
    async fn until<F: Future<Output = bool>>(&self, what: &str, mut done: impl FnMut() -> F) {
        let begun = std::time::Instant::now();
        while !done().await {
            assert!(begun.elapsed() < PATIENCE, "waited {PATIENCE:?} for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the challenger of `account` has checked the result now on `job`, and asserts it
    /// opened no game on it.
    async fn unchallenged(&self, account: usize, job: U256) {
        let market = self.market(POSTER).await;
        let block = self.provider.get_block_number().await.unwrap();
        self.until("the challenger's check", || async {
            self.checked_up_to(account) > block
        })
        .await;
        let j = market.job(job).await.unwrap();
        let games = market
            .games_opened_by(self.address(account), job)
            .await
            .unwrap();
        assert!(
            games.iter().all(|(_, a)| *a != j.attempt),
            "an honest answer was challenged: {games:?}"
        );
    }

    /// Moves the clock past the window and waits until `job` settles and `accounts` withdrew.
    async fn settle(&self, job: U256, accounts: &[Address]) {
        anvil::increase_time(&self.provider, WINDOW + 1)
            .await
            .unwrap();
        let market = self.market(POSTER).await;
        self.until("the settlement", || async {
            market.job(job).await.unwrap().status == JobStatus::Settled
        })
        .await;
        for a in accounts {
            self.until("a withdrawal", || async {
                market.credits(*a).await.unwrap().is_zero()
            })
            .await;
        }
    }

    /// The game opened on `job`, once there is one.
    async fn game(&self, challenger: usize, job: U256) -> U256 {
        let market = self.market(POSTER).await;
        let challenger = self.address(challenger);
        self.until("a challenge", || async {
            !market
                .games_opened_by(challenger, job)
                .await
                .unwrap()
                .is_empty()
        })
        .await;
        market.games_opened_by(challenger, job).await.unwrap()[0].0
    }

    /// Waits until game `game` is under way (`moves` challenger moves in, the defender's party in
    /// use), and asserts it is not over yet.
    async fn under_way(&self, game: U256, moves: u32) {
        let market = self.market(POSTER).await;
        self.until("the game to get under way", || async {
            market.game(game).await.unwrap().moves >= moves
        })
        .await;
        let g = market.game(game).await.unwrap();
        assert_eq!(g.status, GameStatus::Active, "the game ended too soon");
        eprintln!(
            "game {game} under way: {} moves, depth {}",
            g.moves, g.depth
        );
    }

    /// Waits until game `game` is over; returns its status.
    async fn over(&self, game: U256) -> GameStatus {
        let market = self.market(POSTER).await;
        self.until("the end of the game", || async {
            market.game(game).await.unwrap().status != GameStatus::Active
        })
        .await;
        market.game(game).await.unwrap().status
    }

    /// What job `id` (posted as `job`) escrowed, was charged for its settled answer, and of that the
    /// owner's royalty: PROTOCOL §7.2's per-token prices, the answer's length read from the chain.
    async fn money(&self, id: U256, job: &Job) -> (U256, U256, U256) {
        let (_, _, generated) = self.market(POSTER).await.llm_layout(id).await.unwrap();
        let charged = self.price.charge(job.prompt.len(), generated as usize);
        (
            self.price.escrow(job.prompt.len(), job.max_new),
            charged,
            charged * U256::from(ROYALTY_BPS) / U256::from(BPS),
        )
    }

    /// The unburned part of `bond` (PROTOCOL §6.5: the pool of the only game).
    fn unburned(&self, bond: U256) -> U256 {
        bond - bond * U256::from(self.params.burn_bps) / U256::from(BPS)
    }
}

fn rng(test: &str) -> StdRng {
    StdRng::seed_from_u64(vouch_core::random::test_seed(test))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_honest_answer_is_not_challenged_and_settles() {
    let begun = std::time::Instant::now();
    let mut rng = rng("an_honest_answer_is_not_challenged_and_settles");
    let net = Net::new(&mut rng, "honest").await;
    let (worker, challenger) = (3, 2);
    let accounts = [
        net.address(OWNER),
        net.address(POSTER),
        net.address(worker),
        net.address(challenger),
    ];
    let start = net.provider.get_block_number().await.unwrap() + 1;
    let before = net.balances(&accounts).await;
    let daemons = [
        net.worker(worker, None).await,
        net.challenger(challenger, Strategy::Honest, Duration::from_millis(50))
            .await,
    ];

    let (id, job) = net.post(&mut rng).await;
    let market = net.market(POSTER).await;
    net.until("the answer", || async {
        market.job(id).await.unwrap().status == JobStatus::Submitted
    })
    .await;
    // The worker's answer is the honest generation, committed as the market records it.
    let j = market.job(id).await.unwrap();
    let answer = net.honest(&job);
    assert_eq!(j.worker, accounts[2]);
    assert_eq!(j.output_root, answer.output_root());
    assert_eq!(j.trace_root, answer.trace_root(accounts[2]));
    let (prompt, max_new, generated) = market.llm_layout(id).await.unwrap();
    assert_eq!(
        (prompt as usize, max_new as usize, generated as usize),
        (job.prompt.len(), job.max_new, answer.output.len())
    );
    net.unchallenged(challenger, id).await;
    net.settle(id, &accounts[2..3]).await;
    for d in daemons {
        d.stop().await;
    }

    // Money, to the wei: the poster paid the fee, the owner earned the royalty (a credit), the
    // worker the rest; the challenger spent nothing.
    let (escrow, charged, royalty) = net.money(id, &job).await;
    let owner = net.market(OWNER).await;
    assert_eq!(owner.credits(accounts[0]).await.unwrap(), royalty);
    assert_eq!(
        owner.credits(accounts[1]).await.unwrap(),
        escrow - charged,
        "the poster's unused tokens"
    );
    let gas = anvil::gas_spent(&net.provider, start, &accounts)
        .await
        .unwrap();
    let after = net.balances(&accounts).await;
    assert_eq!(after[0], before[0] - gas[0], "owner");
    assert_eq!(after[1], before[1] - escrow - gas[1], "poster");
    assert_eq!(after[2], before[2] + charged - royalty - gas[2], "worker");
    assert_eq!((after[3], gas[3]), (before[3], U256::ZERO), "challenger");
    assert_eq!(
        net.provider
            .get_balance(net.deployment.market)
            .await
            .unwrap(),
        royalty,
        "the market holds the owner's credit only"
    );
    std::fs::remove_dir_all(&net.dir).unwrap();
    eprintln!("took {:.1} s", begun.elapsed().as_secs_f64());
}

/// The challenger daemon is restarted in the middle of the game: it finds the game in `games.json`
/// and generates its party again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_challenged_and_slashed_and_the_job_settles_honestly() {
    let begun = std::time::Instant::now();
    let mut rng = rng("a_wrong_token_is_challenged_and_slashed_and_the_job_settles_honestly");
    let net = Net::new(&mut rng, "liar").await;
    let (liar, honest, challenger) = (4, 3, 2);
    let accounts = [
        net.address(POSTER),
        net.address(liar),
        net.address(honest),
        net.address(challenger),
    ];
    let start = net.provider.get_block_number().await.unwrap() + 1;
    let before = net.balances(&accounts).await;
    let burned_before = net.market(POSTER).await.burned().await.unwrap();
    let index = rng.random_range(0..6);
    let lying = net.worker(liar, Some(Lie::WrongToken { index })).await;
    let watcher = net
        .challenger(challenger, Strategy::Honest, Duration::from_millis(50))
        .await;

    let (id, job) = net.post(&mut rng).await;
    let market = net.market(POSTER).await;
    net.until("the lie", || async {
        market.job(id).await.unwrap().status == JobStatus::Submitted
    })
    .await;
    assert_eq!(market.job(id).await.unwrap().worker, accounts[1]);
    // The honest worker joins now: it answers the job only once the game re-opens it.
    let worker = net.worker(honest, None).await;
    let game = net.game(challenger, id).await;
    net.under_way(game, 1).await;
    watcher.stop().await;
    let watcher = net
        .challenger(challenger, Strategy::Honest, Duration::from_millis(50))
        .await;
    assert_eq!(
        net.over(game).await,
        GameStatus::ChallengerWon,
        "the liar loses"
    );
    // The walk ended at the wrong token: ARGMAX2 of the pass that chose it.
    let k = index % net.honest(&job).output.len();
    let program = Program::new(net.model.config);
    let pass = job.prompt.len() - 1 + k;
    assert_eq!(
        market.game(game).await.unwrap().slot as usize,
        1 + pass * program.ops() + program.index(Op::Argmax2),
        "the game reached the lie's token"
    );

    // The job re-opened and the honest worker's answer settles, unchallenged.
    net.until("the honest answer", || async {
        let j = market.job(id).await.unwrap();
        j.status == JobStatus::Submitted && j.attempt == 2
    })
    .await;
    assert_eq!(market.job(id).await.unwrap().worker, accounts[2]);
    net.unchallenged(challenger, id).await;
    net.settle(id, &[accounts[2], accounts[3]]).await;
    for d in [lying, worker, watcher] {
        d.stop().await;
    }

    // Money, to the wei: the liar's bond is slashed (burnBps burned, the rest to the only game's
    // challenger on top of its bond back), the honest worker is paid the fee less the royalty.
    let bond = net.params.result_bond;
    let pool = net.unburned(bond);
    assert_eq!(market.burned().await.unwrap() - burned_before, bond - pool);
    let gas = anvil::gas_spent(&net.provider, start, &accounts)
        .await
        .unwrap();
    let after = net.balances(&accounts).await;
    let (escrow, charged, royalty) = net.money(id, &job).await;
    assert_eq!(after[0], before[0] - escrow - gas[0], "poster");
    assert_eq!(after[1], before[1] - bond - gas[1], "liar");
    assert_eq!(
        after[2],
        before[2] + charged - royalty - gas[2],
        "honest worker"
    );
    assert_eq!(after[3], before[3] + pool - gas[3], "challenger");
    std::fs::remove_dir_all(&net.dir).unwrap();
    eprintln!("took {:.1} s", begun.elapsed().as_secs_f64());
}

/// The worker daemon is restarted in the middle of the game: it finds the game in `defence.json`,
/// generates its answer again (checked against the trace root it posted) and wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_honest_worker_restarted_mid_game_beats_a_lying_challenger() {
    let begun = std::time::Instant::now();
    let mut rng = rng("an_honest_worker_restarted_mid_game_beats_a_lying_challenger");
    let net = Net::new(&mut rng, "restart").await;
    let (worker, challenger) = (3, 5);
    let accounts = [net.address(worker), net.address(challenger)];
    let start = net.provider.get_block_number().await.unwrap() + 1;
    let before = net.balances(&accounts).await;
    let defender = net.worker(worker, None).await;
    // A slower challenger: the game stays under way long enough to restart the worker in it.
    let liar = net
        .challenger(challenger, Strategy::Dishonest, Duration::from_millis(300))
        .await;

    let (id, job) = net.post(&mut rng).await;
    let game = net.game(challenger, id).await;
    net.under_way(game, 2).await;
    defender.stop().await;
    // The model cached on disk is replaced by another: the restarted worker recomputes its root,
    // refuses it and fetches the listed model from the chain again.
    let cached = net.model_file(worker);
    let other = random::model(&mut rng, Dims::TINY, GgmlDType::Q8_0).unwrap();
    vouch_llm::int::save(&other, &cached).unwrap();
    let defender = net.worker(worker, None).await;
    assert_eq!(
        net.over(game).await,
        GameStatus::DefenderWon,
        "the lying challenger loses"
    );
    net.settle(id, &accounts).await;
    for d in [defender, liar] {
        d.stop().await;
    }
    let root = ModelCommitment::new(&vouch_llm::int::load(&cached).unwrap()).root;
    assert_eq!(
        root,
        ModelCommitment::new(&net.model).root,
        "the cache holds the listed model again"
    );

    // Money, to the wei: the worker earns the fee less the royalty and the unburned part of the
    // challenger's bond; the challenger loses its bond.
    let cbond = net.params.challenge_bond;
    let (_, charged, royalty) = net.money(id, &job).await;
    let gas = anvil::gas_spent(&net.provider, start, &accounts)
        .await
        .unwrap();
    let after = net.balances(&accounts).await;
    assert_eq!(
        after[0],
        before[0] + charged - royalty + net.unburned(cbond) - gas[0],
        "worker"
    );
    assert_eq!(after[1], before[1] - cbond - gas[1], "challenger");
    std::fs::remove_dir_all(&net.dir).unwrap();
    eprintln!("took {:.1} s", begun.elapsed().as_secs_f64());
}

/// The challenger's play loop reads whose turn it is before it builds its party (a generation of the
/// whole job): while the defender owes its opening, polls build nothing; the first move builds one
/// party, later polls reuse it, and a defender that goes silent loses on time without another build.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_challenger_generates_its_party_only_when_it_must_move() {
    let mut rng = rng("the_challenger_generates_its_party_only_when_it_must_move");
    let net = Net::new(&mut rng, "turn").await;
    let (liar, challenger) = (4, 2);
    let mut watcher = Challenger::new(
        net.challenger_config(challenger, Strategy::Honest, Duration::from_millis(50)),
        net.chain.signer(challenger),
    )
    .await
    .unwrap();
    // A lying answer posted by hand: its worker runs no defence loop, the test answers for it.
    let (id, job) = net.post(&mut rng).await;
    let lying = Lie::WrongToken { index: 0 }
        .fabricate_lm(&net.model, &job)
        .unwrap()
        .unwrap();
    let worker = net.market(liar).await;
    worker
        .submit_result(
            id,
            lying.output_root(),
            lying.trace_root(net.address(liar)),
            lying.output_bytes(),
            net.params.result_bond,
        )
        .await
        .unwrap();
    let mut challenged = 0;
    for _ in 0..20 {
        challenged += watcher.step().await.unwrap().challenged;
        if challenged > 0 {
            break;
        }
    }
    assert_eq!(challenged, 1, "the lie is challenged");
    let game = net.game(challenger, id).await;

    // The defender owes its opening: nothing to generate for.
    let market = net.market(POSTER).await;
    for _ in 0..3 {
        let report = watcher.step().await.unwrap();
        assert_eq!(report.moves, 0);
        assert!(market.pending_reveal(game).await.unwrap().is_some());
    }
    assert_eq!(
        watcher.parties_built(),
        0,
        "a party built while the defender was to move"
    );

    // The defender opens (its final state, then the root's children): the challenger must pick, and
    // builds its party once.
    let party = vouch_llm::trace::LmParty::new(lying);
    let mut reveals = 0;
    loop {
        let position = vouch_worker::defence::read(&worker, game).await.unwrap();
        let vouch_worker::defence::Next::Answer(need) = position.next() else {
            break;
        };
        for tx in vouch_worker::defence::answer(net.deployment.game, &party, &position.game, need)
            .unwrap()
        {
            worker.client().send(tx).await.unwrap();
        }
        reveals += 1;
        assert!(reveals < 10, "the defender keeps owing");
    }
    assert!(reveals >= 1);
    // (Its build runs on a task of its own: a poll may come back before it is done.)
    let mut moves = 0;
    for _ in 0..20 {
        let r = watcher.step().await.unwrap();
        moves += r.moves;
        if moves > 0 {
            break;
        }
    }
    assert_eq!(moves, 1, "the challenger picks");
    assert_eq!(watcher.parties_built(), 1);

    // The defender owes the children of the picked node and stays silent: later polls build nothing,
    // and once its clock runs out the challenger claims the game.
    for _ in 0..3 {
        assert_eq!(watcher.step().await.unwrap().moves, 0);
    }
    anvil::increase_time(&net.provider, 10 * WINDOW)
        .await
        .unwrap();
    let mut won = 0;
    for _ in 0..5 {
        won += watcher.step().await.unwrap().won;
        if won > 0 {
            break;
        }
    }
    assert_eq!(
        market.game(game).await.unwrap().status,
        GameStatus::ChallengerWon
    );
    assert_eq!(won, 1);
    assert_eq!(watcher.parties_built(), 1, "one party for the whole game");
    std::fs::remove_dir_all(&net.dir).unwrap();
}
