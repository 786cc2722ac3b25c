//! A job's receipt: what happened to one job, rebuilt from the chain alone — the `JobMarket`'s and
//! the `DisputeGame`'s logs for that job id, and the model's registry entry — with the transaction
//! and block of every step: the post, every submitted result (overturned ones included), every game
//! on them, and the settlement. The coordinator serves it (`GET /v1/jobs/{id}/receipt`); `vouch
//! verify` prints it and checks it against a re-run of the job ([`Receipt::verify`]).

use crate::{
    bindings::{
        DisputeGame::{ChallengeOpened, DisputeGameEvents, GameResolved, ResultOverturned},
        JobMarket::{JobMarketEvents, JobPosted, JobRefunded, JobSettled, ResultSubmitted},
    },
    client::classify,
    deploy::Deployment,
    error::{ChainError, Result},
    events::{ChainEvent, VouchEvent, decode_log},
    game::GameStatus,
    market::JobStatus,
    registry::get_listing,
};
use alloy::{
    primitives::{Address, B256, Bytes, U256},
    providers::{DynProvider, Provider},
    rpc::types::Filter,
    sol_types::SolEvent,
};
use serde::{Deserialize, Serialize};
use vouch_core::{Trace, tensor};

/// A transaction that moved the job, and its block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxRef {
    /// Transaction hash.
    pub tx_hash: B256,
    /// Block number.
    pub block: u64,
}

impl TxRef {
    fn of(e: &ChainEvent) -> Self {
        Self {
            tx_hash: e.tx_hash,
            block: e.block,
        }
    }
}

/// One result submitted for the job (`ResultSubmitted`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// Its number: 1 for the first result, one more after each overturn.
    pub attempt: u32,
    /// Who submitted it.
    pub worker: Address,
    /// Tensor root of its output.
    pub output_root: B256,
    /// Its trace root, `leaf(0x03, worker ‖ σ_n)`.
    pub trace_root: B256,
    /// When it was submitted (unix time); its challenge window runs from here.
    pub submitted_at: u64,
    /// The `submitResult` transaction.
    pub submitted: TxRef,
    /// The transaction in which a game overturned it (`ResultOverturned`), if one did.
    pub overturned: Option<TxRef>,
}

/// A dispute game on one of the job's results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameOutcome {
    /// Game id.
    pub game_id: u64,
    /// The result it disputes.
    pub attempt: u32,
    /// Who challenged.
    pub challenger: Address,
    /// The challenger's bond, in wei (decimal).
    #[serde(with = "wei")]
    pub bond_wei: U256,
    /// How it ended (`active` while it is played).
    pub outcome: GameStatus,
    /// The `challenge` transaction.
    pub opened: TxRef,
    /// The transaction that resolved it.
    pub resolved: Option<TxRef>,
}

/// The receipt of a settled job: the job, the settled result, and every transaction on the way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Job id.
    pub job_id: u64,
    /// The model it ran.
    pub model_id: u64,
    /// The model's root, as registered.
    pub model_root: B256,
    /// Who posted it.
    pub poster: Address,
    /// The escrowed fee, in wei (decimal).
    #[serde(with = "wei")]
    pub fee_wei: U256,
    /// Tensor root of the input, computed by the contract.
    pub input_root: B256,
    /// `[inputLen]` int8 input, from `JobPosted`.
    pub input: Vec<i8>,
    /// The settled result's number.
    pub attempt: u32,
    /// Who answered the settled result.
    pub worker: Address,
    /// The settled output as posted (bytes, hex).
    pub output_bytes: Bytes,
    /// The settled output, `[outputLen]` int8.
    pub output: Vec<i8>,
    /// Tensor root of the settled output.
    pub output_root: B256,
    /// Trace root of the settled result.
    pub trace_root: B256,
    /// What the worker was credited (fee − royalty + bond), in wei (decimal).
    #[serde(with = "wei")]
    pub worker_payout_wei: U256,
    /// What the model owner was credited, in wei (decimal).
    #[serde(with = "wei")]
    pub royalty_wei: U256,
    /// The `postJob` transaction.
    pub posted: TxRef,
    /// Every result submitted, oldest first, each overturned one with the transaction that did it.
    pub attempts: Vec<Attempt>,
    /// Every game on the job's results, in the order they were opened.
    pub games: Vec<GameOutcome>,
    /// The `finalize` transaction.
    pub settled: TxRef,
}

/// What the chain says about a job id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// No job with this id was ever posted.
    Unknown,
    /// Posted, not settled: open (perhaps after an overturn), submitted, or expired.
    Unsettled {
        /// Where it stands.
        status: JobStatus,
        /// The results submitted so far, oldest first.
        attempts: Vec<Attempt>,
    },
    /// Settled: its receipt.
    Settled(Box<Receipt>),
}

/// Reads job `job_id`'s logs (at one block: the latest) and, for a settled job, its model's root.
pub async fn fetch(provider: &DynProvider, deployment: &Deployment, job_id: u64) -> Result<Lookup> {
    let head = provider.get_block_number().await.map_err(classify)?;
    let id = B256::from(U256::from(job_id));
    let logs = |filter: Filter| async move {
        let filter = filter.from_block(deployment.start_block).to_block(head);
        provider.get_logs(&filter).await.map_err(classify)
    };
    let market = Filter::new()
        .address(deployment.market)
        .event_signature(vec![
            JobPosted::SIGNATURE_HASH,
            ResultSubmitted::SIGNATURE_HASH,
            JobSettled::SIGNATURE_HASH,
            JobRefunded::SIGNATURE_HASH,
        ])
        .topic1(id);
    let overturned = Filter::new()
        .address(deployment.game)
        .event_signature(ResultOverturned::SIGNATURE_HASH)
        .topic1(id);
    let opened = Filter::new()
        .address(deployment.game)
        .event_signature(ChallengeOpened::SIGNATURE_HASH)
        .topic2(id);
    let (market, overturned, opened) =
        futures::try_join!(logs(market), logs(overturned), logs(opened))?;
    let game_ids: Vec<B256> = opened
        .iter()
        .filter_map(|log| log.topics().get(1).copied())
        .collect();
    let resolved = if game_ids.is_empty() {
        Vec::new()
    } else {
        let resolved = Filter::new()
            .address(deployment.game)
            .event_signature(GameResolved::SIGNATURE_HASH)
            .topic1(game_ids);
        logs(resolved).await?
    };
    let mut events = Vec::new();
    for log in market
        .iter()
        .chain(&overturned)
        .chain(&opened)
        .chain(&resolved)
    {
        events.extend(decode_log(deployment, log)?);
    }
    events.sort_by_key(|e| (e.block, e.log_index));
    let Some(mut lookup) = fold(&events)? else {
        return Ok(Lookup::Unknown);
    };
    if let Lookup::Settled(receipt) = &mut lookup {
        let listing = get_listing(provider, deployment, U256::from(receipt.model_id)).await?;
        receipt.model_root = listing.root;
    }
    Ok(lookup)
}

/// Small numbers of the logs as `u64`.
fn small(v: U256, what: &str) -> Result<u64> {
    u64::try_from(v).map_err(|_| ChainError::Decode(format!("{what} {v} does not fit 64 bits")))
}

/// Folds one job's events, in chain order, into what they say about it (`None` without a
/// `JobPosted`). A settled receipt's `model_root` is left zero: it comes from the registry.
fn fold(events: &[ChainEvent]) -> Result<Option<Lookup>> {
    let mut posted: Option<(&JobPosted, TxRef)> = None;
    let mut attempts: Vec<Attempt> = Vec::new();
    let mut outputs: Vec<(u32, &Bytes)> = Vec::new();
    let mut games: Vec<GameOutcome> = Vec::new();
    let mut settled: Option<(&JobSettled, TxRef)> = None;
    let mut refunded = false;
    for e in events {
        let at = TxRef::of(e);
        match &e.event {
            VouchEvent::Market(JobMarketEvents::JobPosted(p)) => posted = Some((p, at)),
            VouchEvent::Market(JobMarketEvents::ResultSubmitted(r)) => {
                outputs.push((r.attempt, &r.output));
                attempts.push(Attempt {
                    attempt: r.attempt,
                    worker: r.worker,
                    output_root: r.outputRoot,
                    trace_root: r.traceRoot,
                    submitted_at: r.submittedAt,
                    submitted: at,
                    overturned: None,
                });
            }
            VouchEvent::Market(JobMarketEvents::JobSettled(s)) => settled = Some((s, at)),
            VouchEvent::Market(JobMarketEvents::JobRefunded(_)) => refunded = true,
            VouchEvent::Game(DisputeGameEvents::ResultOverturned(o)) => {
                if let Some(a) = attempts.iter_mut().find(|a| a.attempt == o.attempt) {
                    a.overturned = Some(at);
                }
            }
            VouchEvent::Game(DisputeGameEvents::ChallengeOpened(c)) => games.push(GameOutcome {
                game_id: small(c.gameId, "game id")?,
                attempt: c.attempt,
                challenger: c.challenger,
                bond_wei: c.bond,
                outcome: GameStatus::Active,
                opened: at,
                resolved: None,
            }),
            VouchEvent::Game(DisputeGameEvents::GameResolved(r)) => {
                let id = small(r.gameId, "game id")?;
                if let Some(g) = games.iter_mut().find(|g| g.game_id == id) {
                    g.outcome = GameStatus::from_u8(r.status)
                        .ok_or_else(|| ChainError::Decode(format!("game status {}", r.status)))?;
                    g.resolved = Some(at);
                }
            }
            _ => {}
        }
    }
    let Some((job, posted)) = posted else {
        return Ok(None);
    };
    let Some((s, settled)) = settled else {
        let status = if refunded {
            JobStatus::Expired
        } else if attempts.last().is_some_and(|a| a.overturned.is_none()) {
            JobStatus::Submitted
        } else {
            JobStatus::Open
        };
        return Ok(Some(Lookup::Unsettled { status, attempts }));
    };
    let result = attempts
        .iter()
        .find(|a| a.attempt == s.attempt)
        .filter(|a| a.worker == s.worker && a.output_root == s.outputRoot)
        .ok_or_else(|| {
            ChainError::Mismatch(format!(
                "job {}: JobSettled names result {} by {}, which no ResultSubmitted matches",
                job.jobId, s.attempt, s.worker
            ))
        })?;
    let output_bytes = outputs
        .iter()
        .find(|(n, _)| *n == s.attempt)
        .map(|(_, b)| (*b).clone())
        .unwrap_or_default();
    Ok(Some(Lookup::Settled(Box::new(Receipt {
        job_id: small(job.jobId, "job id")?,
        model_id: small(job.modelId, "model id")?,
        model_root: B256::ZERO,
        poster: job.poster,
        fee_wei: job.fee,
        input_root: job.inputRoot,
        input: tensor::from_bytes(&job.input),
        attempt: s.attempt,
        worker: s.worker,
        output: tensor::from_bytes(&output_bytes),
        output_bytes,
        output_root: s.outputRoot,
        trace_root: result.trace_root,
        worker_payout_wei: s.workerPayout,
        royalty_wei: s.royalty,
        posted,
        attempts,
        games,
        settled,
    }))))
}

/// Where a settled output first differs from the re-run's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// Index of the element (row-major).
    pub index: usize,
    /// The settled value (absent past the end of a shorter settled output).
    pub settled: Option<i8>,
    /// The re-run's value (absent past the end of a shorter computed output).
    pub computed: Option<i8>,
}

/// How a settled result compares with a re-run of its job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The settled output is what the model computes, and the trace root is the one the settled
    /// worker posts for the re-run's trace.
    Matches,
    /// The settled output is not what the model computes.
    OutputDiffers {
        /// The first differing element.
        first_difference: Difference,
    },
    /// The settled output is what the model computes, but its trace root commits to another trace
    /// (a worker that would have lost a dispute on it).
    TraceRootDiffers,
}

/// A re-run's commitments beside a receipt's, and the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// The verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// The re-run's output.
    pub output: Vec<i8>,
    /// Tensor root of the re-run's output.
    pub output_root: B256,
    /// The trace root the settled worker would post for the re-run (`Commitments::trace_root`).
    pub trace_root: B256,
}

impl Receipt {
    /// Compares the settled result with `rerun`, the job's input run through its model.
    pub fn verify(&self, rerun: &Trace) -> Verification {
        let commitments = rerun.commitments();
        let trace_root = commitments.trace_root(self.worker);
        let computed = rerun.output();
        let at = |t: &[i8], i: usize| t.get(i).copied();
        let differing = (0..self.output.len().max(computed.len()))
            .find(|&i| at(&self.output, i) != at(computed, i));
        let verdict = match differing {
            Some(index) => Verdict::OutputDiffers {
                first_difference: Difference {
                    index,
                    settled: at(&self.output, index),
                    computed: at(computed, index),
                },
            },
            None if trace_root != self.trace_root => Verdict::TraceRootDiffers,
            None => Verdict::Matches,
        };
        Verification {
            verdict,
            output: computed.to_vec(),
            output_root: commitments.output_root,
            trace_root,
        }
    }
}

/// Wei amounts as decimal strings, as the API writes them.
mod wei {
    use alloy::primitives::U256;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &U256, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vouch_core::{Shape, commit::tensor_root};

    fn event(block: u64, event: VouchEvent) -> ChainEvent {
        ChainEvent {
            block,
            log_index: 0,
            tx_hash: B256::with_last_byte(block as u8),
            event,
        }
    }

    fn at(block: u64) -> TxRef {
        TxRef {
            tx_hash: B256::with_last_byte(block as u8),
            block,
        }
    }

    fn posted() -> ChainEvent {
        event(
            1,
            VouchEvent::Market(JobMarketEvents::JobPosted(JobPosted {
                jobId: U256::from(7),
                modelId: U256::from(2),
                poster: Address::repeat_byte(1),
                fee: U256::from(100),
                deadline: 1_000,
                inputRoot: B256::repeat_byte(9),
                input: Bytes::from(vec![1, 2]),
            })),
        )
    }

    fn submitted(block: u64, attempt: u32, worker: u8, output: Vec<u8>) -> ChainEvent {
        event(
            block,
            VouchEvent::Market(JobMarketEvents::ResultSubmitted(ResultSubmitted {
                jobId: U256::from(7),
                attempt,
                worker: Address::repeat_byte(worker),
                outputRoot: B256::repeat_byte(worker),
                traceRoot: B256::repeat_byte(worker + 1),
                output: Bytes::from(output),
                submittedAt: block * 10,
            })),
        )
    }

    #[test]
    fn an_overturned_result_a_game_and_the_settled_one_fold_into_a_receipt() {
        let mut events = vec![posted(), submitted(2, 1, 0x10, vec![0xff])];
        assert_eq!(
            fold(&events).unwrap(),
            Some(Lookup::Unsettled {
                status: JobStatus::Submitted,
                attempts: vec![Attempt {
                    attempt: 1,
                    worker: Address::repeat_byte(0x10),
                    output_root: B256::repeat_byte(0x10),
                    trace_root: B256::repeat_byte(0x11),
                    submitted_at: 20,
                    submitted: at(2),
                    overturned: None,
                }],
            })
        );
        events.extend([
            event(
                3,
                VouchEvent::Game(DisputeGameEvents::ChallengeOpened(ChallengeOpened {
                    gameId: U256::from(4),
                    jobId: U256::from(7),
                    attempt: 1,
                    challenger: Address::repeat_byte(0x30),
                    bond: U256::from(5),
                })),
            ),
            event(
                5,
                VouchEvent::Game(DisputeGameEvents::GameResolved(GameResolved {
                    gameId: U256::from(4),
                    status: 2,
                    challengerPaid: U256::from(6),
                    defenderPaid: U256::ZERO,
                    burned: U256::from(1),
                })),
            ),
            event(
                5,
                VouchEvent::Game(DisputeGameEvents::ResultOverturned(ResultOverturned {
                    jobId: U256::from(7),
                    attempt: 1,
                    pool: U256::from(6),
                    burned: U256::from(1),
                })),
            ),
        ]);
        let Some(Lookup::Unsettled { status, attempts }) = fold(&events).unwrap() else {
            panic!("not settled yet");
        };
        assert_eq!(status, JobStatus::Open, "open again after the overturn");
        assert_eq!(attempts[0].overturned, Some(at(5)));

        events.extend([
            submitted(6, 2, 0x20, vec![3, 0xfd]),
            event(
                8,
                VouchEvent::Market(JobMarketEvents::JobSettled(JobSettled {
                    jobId: U256::from(7),
                    attempt: 2,
                    worker: Address::repeat_byte(0x20),
                    outputRoot: B256::repeat_byte(0x20),
                    workerPayout: U256::from(90),
                    royalty: U256::from(10),
                })),
            ),
        ]);
        let Some(Lookup::Settled(r)) = fold(&events).unwrap() else {
            panic!("settled");
        };
        assert_eq!((r.job_id, r.model_id, r.attempt), (7, 2, 2));
        assert_eq!(r.input, vec![1, 2]);
        assert_eq!(r.output, vec![3, -3]);
        assert_eq!(r.output_bytes, Bytes::from(vec![3, 0xfd]));
        assert_eq!(r.worker, Address::repeat_byte(0x20));
        assert_eq!(r.trace_root, B256::repeat_byte(0x21));
        assert_eq!((r.posted, r.settled), (at(1), at(8)));
        assert_eq!(r.attempts.len(), 2);
        assert_eq!(r.attempts[1].overturned, None);
        assert_eq!(
            r.games,
            vec![GameOutcome {
                game_id: 4,
                attempt: 1,
                challenger: Address::repeat_byte(0x30),
                bond_wei: U256::from(5),
                outcome: GameStatus::ChallengerWon,
                opened: at(3),
                resolved: Some(at(5)),
            }]
        );
        let json = serde_json::to_value(&*r).unwrap();
        assert_eq!(json["worker_payout_wei"], "90", "wei as decimal strings");
        assert_eq!(json["games"][0]["outcome"], "challenger_won");
        assert_eq!(serde_json::from_value::<Receipt>(json).unwrap(), *r);

        assert_eq!(fold(&events[1..]).unwrap(), None, "no JobPosted: unknown");
    }

    #[test]
    fn a_settlement_no_result_backs_is_refused() {
        let events = vec![
            posted(),
            submitted(2, 1, 0x10, vec![1]),
            event(
                3,
                VouchEvent::Market(JobMarketEvents::JobSettled(JobSettled {
                    jobId: U256::from(7),
                    attempt: 1,
                    worker: Address::repeat_byte(0x10),
                    outputRoot: B256::repeat_byte(0x99),
                    workerPayout: U256::ZERO,
                    royalty: U256::ZERO,
                })),
            ),
        ];
        assert!(matches!(fold(&events), Err(ChainError::Mismatch(_))));
    }

    fn receipt(output: Vec<i8>, trace_root: B256) -> Receipt {
        Receipt {
            job_id: 1,
            model_id: 1,
            model_root: B256::ZERO,
            poster: Address::ZERO,
            fee_wei: U256::ZERO,
            input_root: B256::ZERO,
            input: vec![5],
            attempt: 1,
            worker: Address::repeat_byte(4),
            output_bytes: Bytes::from(tensor::to_bytes(&output)),
            output_root: tensor_root(&output, 1),
            output,
            trace_root,
            worker_payout_wei: U256::ZERO,
            royalty_wei: U256::ZERO,
            posted: at(1),
            attempts: Vec::new(),
            games: Vec::new(),
            settled: at(2),
        }
    }

    #[test]
    fn verify_names_the_first_differing_element_or_a_foreign_trace_root() {
        let rerun = Trace::new(
            vec![Shape::new(1, 1, 1), Shape::new(1, 1, 3)],
            vec![vec![5], vec![1, 2, 3]],
        );
        let honest = rerun.commitments().trace_root(Address::repeat_byte(4));
        let v = receipt(vec![1, 2, 3], honest).verify(&rerun);
        assert_eq!(v.verdict, Verdict::Matches);
        assert_eq!(v.trace_root, honest);
        assert_eq!(v.output, vec![1, 2, 3]);
        let v = receipt(vec![1, 2, 3], B256::repeat_byte(1)).verify(&rerun);
        assert_eq!(v.verdict, Verdict::TraceRootDiffers);
        let differs = |index, settled, computed| Verdict::OutputDiffers {
            first_difference: Difference {
                index,
                settled,
                computed,
            },
        };
        let v = receipt(vec![1, -2, 4], honest).verify(&rerun);
        assert_eq!(v.verdict, differs(1, Some(-2), Some(2)));
        let v = receipt(vec![1, 2], honest).verify(&rerun);
        assert_eq!(v.verdict, differs(2, None, Some(3)));
        let json = serde_json::to_value(receipt(vec![1, 2, 4], honest).verify(&rerun)).unwrap();
        assert_eq!(json["verdict"], "output_differs");
        assert_eq!(json["first_difference"]["index"], 2);
    }
}
