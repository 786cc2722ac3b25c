//! One whole dispute on a fresh anvil: the real contracts, a real lying [`Worker`] and a real honest
//! [`Challenger`], stepped in turns (challenger, then worker) until the game resolves.

use crate::ledger::{Tx, ledger};
use alloy::{
    network::TransactionBuilder,
    node_bindings::{Anvil, AnvilInstance},
    primitives::{Address, B256, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
    sol_types::{SolCall, SolValue},
};
use anyhow::{Context, bail, ensure};
use std::{
    path::Path,
    time::{Duration, Instant},
};
use vouch_burn::BurnBackend;
use vouch_chain::{
    ChainClient, ChainConfig, GameStatus, Market, MarketParams, anvil,
    bindings::{DisputeGame, OneStepProver},
    deploy, registry,
};
use vouch_challenger::{Challenger, ChallengerConfig, Strategy};
use vouch_core::{
    Model,
    dispute::{Element, element_of_leaf},
    tensor::Tensor,
};
use vouch_worker::{Lie, Worker, WorkerConfig};

const ETH: u64 = 1_000_000_000_000_000_000;
/// The challenge window of the market, seconds (clocks follow from it, as `vouch deploy` sets them).
const WINDOW: u64 = 3_600;
/// Gas price the challenger bond is sized for (1 gwei).
const GAS_PRICE_WEI: u128 = 1_000_000_000;
/// Turns (one challenger step and one worker step each) after which a game counts as stuck.
const MAX_TURNS: usize = 400;

/// How one game went, and every transaction from the job's post to the game's end.
#[derive(Debug)]
pub(crate) struct Game {
    /// Final status; `None` if the game did not end within [`MAX_TURNS`].
    pub(crate) status: Option<GameStatus>,
    /// The disputed op k: the op the one step executed (`None` if the walk never reached an op's
    /// slot).
    pub(crate) op: Option<usize>,
    /// The element of slot k + 1 the step proved; `None` if no step was sent.
    pub(crate) element: Option<Element>,
    /// Gas of `OneStepProver.trueElement` called alone with the step's witness, as its own
    /// transaction (21 000 + calldata + execution): the step's price without the game around it.
    pub(crate) prover_gas: Option<u64>,
    /// The worker's account (the defender).
    pub(crate) defender: Address,
    /// The challenger's account.
    pub(crate) challenger: Address,
    /// Every transaction from `postJob` to the end, in order.
    pub(crate) txs: Vec<Tx>,
    /// Wall time from the challenger's step that re-ran the job and challenged to the step that
    /// resolved the game.
    pub(crate) wall: Duration,
    /// Times the chain's clock had to be moved because neither side moved (0 in an honest game).
    pub(crate) clock_moves: usize,
}

/// A fresh anvil (cancun, like `vouch_chain::anvil::LocalChain`), with the block gas limit
/// raised to `gas_limit` (and no request size limit) when given; anvil's default is 30M.
fn start_anvil(gas_limit: Option<u64>) -> anyhow::Result<AnvilInstance> {
    let mut anvil = Anvil::at(anvil::anvil_path()?).args(["--hardfork", "cancun"]);
    if let Some(limit) = gas_limit {
        anvil = anvil
            .args(["--gas-limit", &limit.to_string()])
            .arg("--no-request-size-limit");
    }
    anvil
        .try_spawn()
        .context("starting anvil (run `npm ci --prefix contracts`)")
}

/// Plays one game of `model` on `input` against a worker that lies with `lie`, on a fresh anvil
/// with freshly deployed contracts and the block gas limit `gas_limit` (anvil's 30M if `None`);
/// agents keep their state under `dir`.
pub(crate) async fn play(
    model: &Model,
    input: &[i8],
    lie: Lie,
    dir: &Path,
    gas_limit: Option<u64>,
) -> anyhow::Result<Game> {
    let chain = start_anvil(gas_limit)?;
    let signer = |i: usize| PrivateKeySigner::from(chain.keys()[i].clone());
    let config = ChainConfig::local(chain.endpoint());
    let owner = ChainClient::connect(&config, signer(0)).await?;
    let params = MarketParams::new(WINDOW, U256::from(ETH), GAS_PRICE_WEI);
    let deployment = deploy(&owner, params).await?;
    let fee = U256::from(ETH / 100);
    let model_id = registry::list_model(&owner, &deployment, model, fee, 1_000)
        .await
        .context("listing the model")?;

    let mut worker = Worker::new(
        WorkerConfig {
            chain: config.clone(),
            deployment,
            data_dir: dir.join("worker"),
            confirmations: 0,
            poll_interval: Duration::from_millis(20),
            policy: vouch_worker::Policy::default(),
            backend: BurnBackend::Flex,
            lie: Some(lie),
        },
        signer(3),
    )
    .await?;
    let mut challenger = Challenger::new(
        ChallengerConfig {
            chain: config.clone(),
            deployment,
            data_dir: dir.join("challenger"),
            confirmations: 0,
            poll_interval: Duration::from_millis(20),
            sample_rate: 1.0,
            sample_key: B256::repeat_byte(2),
            policy: vouch_worker::Policy::default(),
            backend: BurnBackend::Flex,
            strategy: Strategy::Honest,
        },
        signer(2),
    )
    .await?;

    let poster = Market::new(ChainClient::connect(&config, signer(1)).await?, deployment);
    let provider = poster.client().provider().clone();
    let deadline = poster.chain_time().await? + 10 * WINDOW;
    let (_, posted) = poster
        .post_job(
            model_id,
            &Tensor::new(model.input, input.to_vec())?,
            deadline,
            fee,
        )
        .await
        .context("posting the job")?;
    let first_block = posted
        .block_number
        .context("postJob receipt without a block")?;
    ensure!(
        worker.step().await?.submitted == 1,
        "the worker did not answer the job"
    );

    let start = Instant::now();
    let mut game_id = None;
    let mut status = None;
    let mut clock_moves = 0;
    for _ in 0..MAX_TURNS {
        let c = challenger.step().await.context("challenger step")?;
        if game_id.is_none() {
            game_id = challenger.games().next().map(|(id, _)| id.clone());
        }
        if c.won + c.lost > 0 {
            status = Some(if c.won > 0 {
                GameStatus::ChallengerWon
            } else {
                GameStatus::DefenderWon
            });
            break;
        }
        let w = worker.step().await.context("worker step")?;
        if w.revealed == 0 && c.moves == 0 && c.challenged == 0 {
            anvil::increase_time(&provider, params.game_clock + 1).await?;
            clock_moves += 1;
        }
    }
    let wall = start.elapsed();
    let Some(game_id) = game_id else {
        bail!("the challenger never challenged the lie {lie:?}");
    };
    let game_id: U256 = game_id.parse().context("game id")?;
    let head = provider.get_block_number().await?;
    let txs = ledger(&provider, &deployment, first_block, head).await?;

    let g = poster.game(game_id).await?;
    let op = g.disputed_op();
    let witness = txs.iter().find_map(|t| t.witness.as_ref());
    let element = match (op, witness) {
        (Some(op), Some(_)) => Some(element_of_leaf(
            model.ops[op].out,
            g.index as usize,
            usize::from(g.offset),
        )?),
        _ => None,
    };
    let prover_gas = match (op, element, witness) {
        (Some(op), Some(Element::Index(e)), Some(witness)) => {
            let final_state = poster.revealed_opening(g.job_id, g.attempt).await?;
            Some(prover_gas(&poster, model_id, op as u32, final_state, e, witness).await?)
        }
        _ => None,
    };
    Ok(Game {
        status,
        op,
        element,
        prover_gas,
        defender: worker.address(),
        challenger: challenger.address(),
        txs,
        wall,
        clock_moves,
    })
}

/// Gas of `trueElement(model_id, k, final_state, e, witness)` sent to the prover as its own
/// transaction (estimated; the call is a view, so nothing is mined).
async fn prover_gas(
    market: &Market,
    model_id: U256,
    k: u32,
    final_state: B256,
    e: usize,
    witness: &DisputeGame::StepWitness,
) -> anyhow::Result<u64> {
    // The game's and the prover's `StepWitness` are one Solidity struct bound twice.
    let witness = OneStepProver::StepWitness::abi_decode(&witness.abi_encode())?;
    let call = OneStepProver::trueElementCall {
        modelId: model_id,
        k,
        stateRoot: final_state,
        e: U256::from(e),
        witness,
    };
    let tx = TransactionRequest::default()
        .with_from(market.client().address())
        .with_to(market.deployment().prover)
        .with_input(call.abi_encode());
    Ok(market.client().provider().estimate_gas(tx).await?)
}
