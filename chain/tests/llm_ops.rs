//! The language model's ops on chain (`LlmOps`, docs/LLM_INT.md §3, rows encoded as §8.2 by
//! `vouch_llm::int::rows`) against the Rust reference `vouch_llm::int::ops`, on a real anvil with the
//! real compiled contract. Fresh random rows every run, at SmolLM2's sizes (K = 576, F = 1536, 64-wide
//! heads, score rows up to 1024, 8192-logit chunks) and at the extremes: values at their bounds
//! (±8191, ±16383, ±32767, ±RES_MAX, i32's limits), negative ties for every rounding, all-equal and
//! far-apart scores (zero probabilities), argmax ties within and across chunks, 4- and 8-bit weight
//! rows, down-projection exponents 0 to 17. Each element is one `eth_call` whose answer must equal the
//! reference row's element. The seed is printed; replay one with `VOUCH_SEED=<seed>`.
//!
//! `gas_at_smollm2_sizes` prints the gas of each op's dearest element (docs/GAS.md):
//! `cargo test -p vouch-chain --test llm_ops gas -- --nocapture`.

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, Bytes, FixedBytes, I256, U256},
    providers::{DynProvider, Provider},
    rpc::types::TransactionRequest,
    sol_types::SolCall,
};
use futures::{StreamExt, stream};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::time::Instant;
use vouch_chain::{
    ChainClient, ChainConfig, Revert,
    anvil::LocalChain,
    bindings::LlmOps::{self, LlmOpsErrors},
};
use vouch_core::{dispute::MAX_STEP_GAS, quant::Requant};
use vouch_llm::int::{
    ARGMAX_CHUNK, GU_Q, Gain, LOGIT_MAX, NORM_Q, P_Q, QK_Q, RES_MAX, V_Q, ops,
    rows::{self, row_bytes},
};
use vouch_llm::random::{self, extreme};

/// `eth_call`s in flight at once.
const CONCURRENCY: usize = 32;
/// SmolLM2's hidden width.
const K: usize = 576;
/// SmolLM2's feed-forward width.
const F: usize = 1536;
/// Elements per attention head.
const HEAD: usize = 64;
/// The most positions of a generation: the longest score row.
const CONTEXT: usize = 1024;

fn seeded_rng(test: &str) -> StdRng {
    StdRng::seed_from_u64(vouch_core::random::test_seed(test))
}

/// A fresh anvil with `LlmOps` deployed.
async fn setup() -> (LocalChain, DynProvider, Address) {
    let chain = LocalChain::start(None).unwrap();
    let client = ChainClient::connect(&ChainConfig::local(chain.endpoint()), chain.signer(0))
        .await
        .unwrap();
    let deploy = LlmOps::deploy_builder(client.provider()).into_transaction_request();
    let receipt = client.send(deploy).await.unwrap();
    let address = receipt.contract_address.expect("LlmOps has an address");
    (chain, client.provider().clone(), address)
}

// ---------------------------------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------------------------------

/// Random cases of one op.
type Generator = fn(&mut StdRng) -> Vec<Case>;

/// One element asked of the contract: the call, and the words the reference says it returns.
struct Case {
    what: String,
    calldata: Vec<u8>,
    want: Vec<i64>,
}

impl Case {
    fn new(what: impl Into<String>, call: impl SolCall, want: &[i64]) -> Self {
        Self {
            what: what.into(),
            calldata: call.abi_encode(),
            want: want.to_vec(),
        }
    }
}

/// The answer of one `eth_call` to `to`: its return words (every op returns int256s that fit i64),
/// or its revert decoded.
async fn eth_call(provider: &DynProvider, to: Address, data: Vec<u8>) -> Result<Vec<i64>, Revert> {
    let tx = TransactionRequest::default().with_to(to).with_input(data);
    match provider.call(tx).await {
        Ok(out) => Ok(out
            .chunks(32)
            .map(|w| i64::try_from(I256::from_raw(U256::from_be_slice(w))).expect("fits i64"))
            .collect()),
        Err(e) => match e.as_error_resp().and_then(|p| p.as_revert_data()) {
            Some(data) => Err(Revert::decode(&data)),
            None => panic!("eth_call failed: {e}"),
        },
    }
}

/// Every call, [`CONCURRENCY`] in flight; the answers in order.
async fn answers(
    provider: &DynProvider,
    to: Address,
    calls: impl Iterator<Item = Vec<u8>>,
) -> Vec<Result<Vec<i64>, Revert>> {
    stream::iter(calls)
        .map(|data| eth_call(provider, to, data))
        .buffered(CONCURRENCY)
        .collect()
        .await
}

/// Asks every case of `op` and fails with the first differences; returns how many there were.
async fn check(provider: &DynProvider, to: Address, op: &str, cases: &[Case]) -> usize {
    let got = answers(provider, to, cases.iter().map(|c| c.calldata.clone())).await;
    let wrong: Vec<String> = cases
        .iter()
        .zip(&got)
        .filter(|(c, g)| g.as_ref() != Ok(&c.want))
        .map(|(c, g)| format!("{}: contract {g:?}, reference {:?}", c.what, c.want))
        .collect();
    assert!(
        wrong.is_empty(),
        "{op}: {} of {} elements differ from the reference, e.g. {:#?}",
        wrong.len(),
        cases.len(),
        &wrong[..wrong.len().min(5)]
    );
    cases.len()
}

// ---------------------------------------------------------------------------------------------------
// Random rows
// ---------------------------------------------------------------------------------------------------

fn i16s(rng: &mut StdRng, n: usize, bound: i64) -> Vec<i16> {
    (0..n).map(|_| extreme(rng, bound) as i16).collect()
}

fn i32s(rng: &mut StdRng, n: usize, bound: i64) -> Vec<i32> {
    (0..n).map(|_| extreme(rng, bound) as i32).collect()
}

/// A bound drawn log-uniformly from 1 to 2^`bits` − 1, so rows of every magnitude occur.
fn magnitude(rng: &mut StdRng, bits: u32) -> i64 {
    (1i64 << rng.random_range(1..=bits)) - 1
}

/// The first and last element and `more` random ones of a row of `n`.
fn elements(rng: &mut StdRng, n: usize, more: usize) -> Vec<usize> {
    let mut at = vec![0, n - 1];
    at.extend((0..more).map(|_| rng.random_range(0..n)));
    at
}

/// The imported models' softmax table (3,727 entries).
fn exp_table() -> Vec<i32> {
    vouch_llm::int::exp_table()
}

/// RoPE tables `round(2^14 cos(p θ_i))`, `round(2^14 sin(p θ_i))`, `θ_i = 100000^(−2i/64)`,
/// `[CONTEXT × 32]`.
fn rope_tables() -> (Vec<i16>, Vec<i16>) {
    let half = HEAD / 2;
    let angle = |p: usize, i: usize| p as f64 * 100_000f64.powf(-2.0 * i as f64 / HEAD as f64);
    let table = |f: fn(f64) -> f64| {
        (0..CONTEXT * half)
            .map(|j| (16384.0 * f(angle(j / half, j % half))).round() as i16)
            .collect()
    };
    (table(f64::cos), table(f64::sin))
}

// ---------------------------------------------------------------------------------------------------
// Cases, op by op
// ---------------------------------------------------------------------------------------------------

fn embed_cases(rng: &mut StdRng) -> Vec<Case> {
    let mut cases = Vec::new();
    for (cols, eight) in [(K, true), (K, false), (32, true), (64, false)].repeat(3) {
        let table = random::dense(rng, 3, cols, if eight { 8 } else { 4 }, 18..=40);
        let bits = rows::bits(&table);
        // The gather's (M, s): 31-bit multipliers (small shifts clamp at ±RES_MAX), and (1, 1), which
        // halves E: a tie for every odd one.
        let requant: Vec<Requant> = (0..3)
            .map(|id| Requant {
                multiplier: if id == 2 {
                    1
                } else {
                    rng.random_range(1 << 30..i32::MAX)
                },
                shift: if id == 2 { 1 } else { rng.random_range(1..=50) },
            })
            .collect();
        for id in 0..3 {
            let mut out = vec![0i32; cols];
            ops::embed(&table, &requant, id, &mut out);
            let row = Bytes::from(rows::table_row(&table, &requant, id));
            for i in elements(rng, cols, 8) {
                let call = LlmOps::embedCall {
                    tableRow: row.clone(),
                    cols: U256::from(cols),
                    bits,
                    i: U256::from(i),
                };
                let what = format!("embed {cols} × {bits}-bit, row {id}, element {i}");
                cases.push(Case::new(what, call, &[out[i].into()]));
            }
        }
    }
    cases
}

fn rmsnorm_cases(rng: &mut StdRng) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut push =
        |rng: &mut StdRng, r: &[i32], gain: &Gain, eps: i64, bound: i64, at: &[usize]| {
            let mut y = vec![0i16; r.len()];
            ops::rmsnorm(r, gain, eps, bound, &mut y);
            let (residual, gain_row) =
                (Bytes::from(row_bytes(r)), Bytes::from(rows::gain_row(gain)));
            let mut at = at.to_vec();
            at.extend(elements(rng, r.len(), 6));
            for i in at {
                let call = LlmOps::rmsnormCall {
                    residual: residual.clone(),
                    gainRow: gain_row.clone(),
                    epsTerm: eps,
                    i: U256::from(i),
                    bound: bound as u32,
                };
                let what = format!("rmsnorm K={}, F={}, element {i}", r.len(), gain.frac);
                cases.push(Case::new(what, call, &[y[i].into()]));
            }
        };
    for round in 0..60 {
        let k = if round % 4 == 3 {
            rng.random_range(1..40)
        } else {
            K
        };
        // Rows of every scale up to ±RES_MAX, some with one outlier channel (block 11's 23,202 · 2^10).
        let scale = magnitude(rng, 26).min(RES_MAX);
        let mut r = i32s(rng, k, scale);
        if round % 3 == 0 {
            let c = rng.random_range(0..k);
            r[c] = extreme(rng, RES_MAX) as i32;
        }
        if round == 5 {
            r.fill(0);
        }
        let scale = magnitude(rng, 31);
        let gain = Gain {
            g: i32s(rng, k, scale),
            frac: rng.random_range(17..=24),
        };
        let eps = if round % 2 == 0 {
            6040
        } else {
            rng.random_range(1..=1 << 20)
        };
        let bound = if round % 5 == 4 { 100 } else { NORM_Q };
        push(rng, &r, &gain, eps, bound, &[]);
    }
    // Ties: r_0 = ∓1 and G_0 = D·2^(F−1)·(2m + 1), so r_0·G_0 / (D·2^F) = ∓(m + 1/2), which rounds up
    // (to −m, or m + 1), never away from zero.
    for sign in [-1i32, 1] {
        for _ in 0..4 {
            let mut r = i32s(rng, 8, 200);
            r[0] = sign;
            let ss: i64 = r.iter().map(|&v| i64::from(v) * i64::from(v)).sum::<i64>() + 6040;
            let d = vouch_llm::int::arith::isqrt(ss);
            let m = rng.random_range(0..(1i64 << 14) / d);
            let mut g = i32s(rng, 8, 1 << 30);
            g[0] = ((d << 16) * (2 * m + 1)) as i32;
            let gain = Gain { g, frac: 17 };
            let mut y = [0i16; 8];
            ops::rmsnorm(&r, &gain, 6040, NORM_Q, &mut y);
            let tie = if sign < 0 { -m } else { m + 1 };
            assert_eq!(i64::from(y[0]), tie, "the reference rounds the tie up");
            push(rng, &r, &gain, 6040, NORM_Q, &[0]);
        }
    }
    cases
}

/// One dense configuration: input width, weight packing, input bound, output bound, exponents.
struct DenseConfig {
    what: &'static str,
    cols: usize,
    eight: bool,
    x_bound: i64,
    bound: i64,
    scaled: bool,
}

fn dense_cases(rng: &mut StdRng) -> Vec<Case> {
    let configs = [
        DenseConfig {
            what: "q (4-bit, K = 576)",
            cols: K,
            eight: false,
            x_bound: NORM_Q,
            bound: QK_Q,
            scaled: false,
        },
        DenseConfig {
            what: "gate (4-bit, K = 576)",
            cols: K,
            eight: false,
            x_bound: NORM_Q,
            bound: GU_Q,
            scaled: false,
        },
        DenseConfig {
            what: "o (4-bit, K = 576)",
            cols: K,
            eight: false,
            x_bound: V_Q,
            bound: RES_MAX,
            scaled: false,
        },
        DenseConfig {
            what: "down (4-bit, K = 1536, e)",
            cols: F,
            eight: false,
            x_bound: P_Q,
            bound: RES_MAX,
            scaled: true,
        },
        DenseConfig {
            what: "head (8-bit, K = 576)",
            cols: K,
            eight: true,
            x_bound: NORM_Q,
            bound: LOGIT_MAX,
            scaled: false,
        },
        DenseConfig {
            what: "any i16 input (8-bit, K = 64)",
            cols: 64,
            eight: true,
            x_bound: 32768,
            bound: LOGIT_MAX,
            scaled: true,
        },
    ];
    let mut cases = Vec::new();
    for config in &configs {
        // Every exponent 0 … 17 twice for a scaled input; as many matrices otherwise.
        for round in 0..36 {
            let e = if config.scaled { (round % 18) as u8 } else { 0 };
            // Shifts s ≥ 18 as registered. Every fourth matrix is for ties instead: M = 1, s − e = 1, and
            // inputs, D and N of a few units, so acc stays far inside the clamp and half its values are odd.
            let tie = round % 4 == 3;
            let shifts = if tie { e + 1..=e + 1 } else { 18..=45 };
            let mut w = random::dense(
                rng,
                4,
                config.cols,
                if config.eight { 8 } else { 4 },
                shifts,
            );
            let x_bound = if tie {
                w.requant.iter_mut().for_each(|r| r.multiplier = 1);
                w.d = i16s(rng, w.d.len(), 3);
                w.n = i16s(rng, w.n.len(), 3);
                3
            } else {
                config.x_bound
            };
            let x: Vec<i16> = (0..config.cols)
                .map(|_| extreme(rng, x_bound).clamp(-32768, 32767) as i16)
                .collect();
            let exps = config.scaled.then_some([e]);
            let y = ops::dense(&x, exps.as_ref().map(|e| &e[..]), &w, config.bound);
            let mut input = row_bytes(&x);
            if config.scaled {
                input.extend(i16::from(e).to_be_bytes());
            }
            let input = Bytes::from(input);
            for (n, &want) in y.iter().enumerate() {
                let call = LlmOps::denseCall {
                    x: input.clone(),
                    weightRow: rows::weight_row(&w, n).into(),
                    cols: U256::from(config.cols),
                    bits: rows::bits(&w),
                    scaled: config.scaled,
                    bound: config.bound as u32,
                };
                let what = format!("dense {}, e = {e}, row {n}", config.what);
                cases.push(Case::new(what, call, &[want.into()]));
            }
        }
    }
    cases
}

fn rope_cases(rng: &mut StdRng) -> Vec<Case> {
    let (cos, sin) = rope_tables();
    let half = HEAD / 2;
    let mut cases = Vec::new();
    for round in 0..100 {
        let p = if round < 2 {
            round * (CONTEXT - 1)
        } else {
            rng.random_range(0..CONTEXT)
        };
        // q/k at their bound ±4095, or any i16 with a wide clamp.
        let (x_bound, bound) = if round % 3 == 0 {
            (32767, 32767)
        } else {
            (QK_Q, QK_Q)
        };
        let x = i16s(rng, HEAD, x_bound);
        let mut y = x.clone();
        ops::rope(
            &mut y,
            &cos[p * half..][..half],
            &sin[p * half..][..half],
            bound,
        );
        let table = Bytes::from(rows::rope_row(&cos, &sin, p, half));
        let head = rng.random_range(0..9);
        for i in elements(rng, HEAD, 6) {
            let m = i / 2;
            let call = LlmOps::ropeCall {
                pair: row_bytes(&[x[2 * m], x[2 * m + 1]]).into(),
                ropeRow: table.clone(),
                i: U256::from(head * HEAD + i),
                bound: bound as u32,
            };
            let what = format!("rope p = {p}, head {head}, element {i}");
            cases.push(Case::new(what, call, &[y[i].into()]));
        }
    }
    // Ties: C = S = 2^13 (a row of one pair), so y = (a ∓ b)/2, odd sums landing on halves.
    let (c, s) = ([8192i16], [8192i16]);
    for _ in 0..16 {
        let pair = i16s(rng, 2, 100);
        let mut y = pair.clone();
        ops::rope(&mut y, &c, &s, QK_Q);
        for (i, &want) in y.iter().enumerate() {
            let call = LlmOps::ropeCall {
                pair: row_bytes(&pair).into(),
                ropeRow: rows::rope_row(&c, &s, 0, 1).into(),
                i: U256::from(i),
                bound: QK_Q as u32,
            };
            cases.push(Case::new(
                format!("rope tie {pair:?}, {i}"),
                call,
                &[want.into()],
            ));
        }
    }
    cases
}

fn score_cases(rng: &mut StdRng) -> Vec<Case> {
    let mut cases = Vec::new();
    for round in 0..400 {
        // q, k up to 5792 (64 · 5792² < 2^31, the bound's limit) with a 31-bit multiplier; every
        // fourth pair small, with M = 1 and a shift of 1 or 2, where half the scores are ties.
        let tie = round % 4 == 3;
        let bound = if tie { 1000 } else { 5792 };
        let (q, k) = (i16s(rng, HEAD, bound), i16s(rng, HEAD, bound));
        let requant = if tie {
            Requant {
                multiplier: 1,
                shift: rng.random_range(1..=2),
            }
        } else {
            Requant {
                multiplier: rng.random_range(1 << 30..i32::MAX),
                shift: rng.random_range(25..=45),
            }
        };
        let want = ops::score(&q, &k, requant);
        let call = LlmOps::scoreCall {
            q: row_bytes(&q).into(),
            k: row_bytes(&k).into(),
            multiplier: requant.multiplier,
            shift: requant.shift,
        };
        cases.push(Case::new(format!("score {round}"), call, &[want.into()]));
    }
    cases
}

/// Score rows of every shape a softmax sees: one key, all equal, close together, far apart (zero
/// probabilities), up to the context's 1024 keys.
fn score_rows(rng: &mut StdRng) -> Vec<Vec<i32>> {
    let edge = exp_table().len() as i32;
    let mut out = Vec::new();
    for round in 0..48 {
        let n = match round % 6 {
            0 => 1,
            1 => CONTEXT,
            _ => rng.random_range(1..=CONTEXT),
        };
        let top = rng.random_range(-(1 << 30)..=(1 << 30) - 500);
        let row: Vec<i32> = match round % 4 {
            0 => vec![top; n],
            1 => (0..n).map(|_| top + rng.random_range(0..500)).collect(),
            2 => i32s(rng, n, 1 << 30),
            _ => (0..n)
                .map(|_| {
                    top + [
                        0,
                        rng.random_range(0..100),
                        -rng.random_range(edge - 60..edge + 140),
                    ][rng.random_range(0..3)]
                })
                .collect(),
        };
        out.push(row);
    }
    out
}

fn softmax_cases(rng: &mut StdRng) -> Vec<Case> {
    let exp = exp_table();
    let exp_row = Bytes::from(rows::exp_row(&exp));
    let mut cases = Vec::new();
    for scores in score_rows(rng) {
        let mut p = vec![0u16; scores.len()];
        ops::softmax(&scores, &exp, &mut p);
        let row = Bytes::from(row_bytes(&scores));
        let top = ops::argmax(&scores);
        let mut at = elements(rng, scores.len(), 5);
        at.push(top);
        for j in at {
            let call = LlmOps::softmaxCall {
                scores: row.clone(),
                expRow: exp_row.clone(),
                j: U256::from(j),
            };
            let what = format!("softmax of {}, element {j}", scores.len());
            cases.push(Case::new(what, call, &[p[j].into()]));
        }
    }
    cases
}

fn pv_cases(rng: &mut StdRng) -> Vec<Case> {
    let exp = exp_table();
    let mut cases = Vec::new();
    let mut push = |what: String, p: &[u16], v: &[i16]| {
        let want = ops::pv(p, v.iter().copied(), V_Q);
        let call = LlmOps::pvCall {
            probs: row_bytes(p).into(),
            values: row_bytes(v).into(),
            bound: V_Q as u32,
        };
        cases.push(Case::new(what, call, &[want.into()]));
    };
    for (round, scores) in score_rows(rng).into_iter().enumerate() {
        // Real probabilities (summing to about 2^15), or any u16.
        let p: Vec<u16> = if round % 3 == 2 {
            (0..scores.len()).map(|_| rng.random()).collect()
        } else {
            let mut p = vec![0u16; scores.len()];
            ops::softmax(&scores, &exp, &mut p);
            p
        };
        for _ in 0..4 {
            // A Vᵀ row longer than the probabilities (its capacity); values at ±16383 or any i16.
            let capacity = p.len() + rng.random_range(0..64);
            let bound = if rng.random::<bool>() { V_Q } else { 32767 };
            let v = i16s(rng, capacity, bound);
            push(format!("pv of {}, capacity {capacity}", p.len()), &p, &v);
        }
    }
    // Negative ties: P·V = −(2k + 1)·2^14 rounds to −k.
    for k in 0..8i16 {
        push(format!("pv tie −{k}.5"), &[16384], &[-(2 * k + 1), 5]);
    }
    cases
}

fn add_cases(rng: &mut StdRng) -> Vec<Case> {
    let edges = [
        i32::MIN,
        i32::MAX,
        -(RES_MAX as i32),
        RES_MAX as i32,
        RES_MAX as i32 + 1,
        0,
        -1,
    ];
    let pick = |rng: &mut StdRng| {
        if rng.random_range(0..3) == 0 {
            edges[rng.random_range(0..edges.len())]
        } else {
            rng.random()
        }
    };
    (0..500)
        .map(|_| {
            let (a, b) = (pick(rng), pick(rng));
            let mut y = [a];
            ops::add(&mut y, &[b]);
            Case::new(
                format!("add {a} + {b}"),
                LlmOps::addCall { a, b },
                &[y[0].into()],
            )
        })
        .collect()
}

fn lookup_cases(rng: &mut StdRng) -> Vec<Case> {
    let table: Vec<i16> = (0..2 * GU_Q + 1).map(|_| rng.random()).collect();
    let mut xs = vec![-32767i32, 32767, 0, -1, 1, -32752, 32753];
    xs.extend((0..500).map(|_| rng.random_range(-32767..=32767)));
    xs.into_iter()
        .map(|x| {
            let want = ops::lookup(&[x], &table, GU_Q)[0];
            let leaf = ((x + 32767) / 16) as usize;
            let call = LlmOps::lookupCall {
                leaf: FixedBytes(rows::silu_leaf(&table, leaf)),
                leafIndex: U256::from(leaf),
                x: x as i16,
            };
            Case::new(format!("lookup {x}"), call, &[want.into()])
        })
        .collect()
}

fn product_cases(rng: &mut StdRng) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut push = |rng: &mut StdRng, a: &[i16], u: &[i16]| {
        let u32s: Vec<i32> = u.iter().map(|&v| v.into()).collect();
        let mut y = vec![0i16; a.len()];
        let e = ops::product(a, &u32s, &mut y);
        let (ra, ru) = (Bytes::from(row_bytes(a)), Bytes::from(row_bytes(u)));
        let mut at = elements(rng, a.len(), 5);
        at.push(a.len());
        for i in at {
            let want: i64 = if i == a.len() { e.into() } else { y[i].into() };
            let call = LlmOps::productCall {
                a: ra.clone(),
                u: ru.clone(),
                i: U256::from(i),
            };
            let what = format!("product of {} (e = {e}), element {i}", a.len());
            cases.push(Case::new(what, call, &[want]));
        }
    };
    // Magnitudes 2^1 − 1 … 2^15 − 1 for each of a and u: exponents 0 … 17.
    for round in 0..100 {
        let f = match round % 4 {
            0 => F,
            1 => 1,
            _ => rng.random_range(2..200),
        };
        let (ba, bu) = (magnitude(rng, 15), magnitude(rng, 15));
        let (a, u) = (i16s(rng, f, ba), i16s(rng, f, bu));
        push(rng, &a, &u);
    }
    // The largest product, 32767², and the worked example.
    push(rng, &[32767, -3, 7], &[-32767, 5, 1]);
    push(rng, &[1000, -200, 30000, 5], &[20000, 3000, -32767, 7]);
    cases
}

/// Logits rows: the vocabulary's 49,152 (six chunks), a short last chunk, one logit; random values,
/// few distinct values (ties everywhere), all equal, and the maximum placed in two chunks at once.
fn logit_rows(rng: &mut StdRng) -> Vec<Vec<i32>> {
    let mut out = Vec::new();
    for round in 0..16 {
        let n = match round % 4 {
            0 => 6 * ARGMAX_CHUNK,
            1 => 3 * ARGMAX_CHUNK + 5,
            2 => 1,
            _ => rng.random_range(2..3 * ARGMAX_CHUNK),
        };
        let mut row: Vec<i32> = match round % 3 {
            0 => (0..n).map(|_| rng.random()).collect(),
            1 => (0..n).map(|_| rng.random_range(-2..2)).collect(),
            _ => vec![-7; n],
        };
        if n > 2 * ARGMAX_CHUNK {
            // A tie across chunks: the same maximum in the last chunk and in a middle one.
            let top = row.iter().copied().max().unwrap_or(0).saturating_add(1);
            let last = n - 1 - rng.random_range(0..(n - 1) % ARGMAX_CHUNK + 1);
            row[last] = top;
            row[ARGMAX_CHUNK + rng.random_range(0..ARGMAX_CHUNK)] = top;
        }
        out.push(row);
    }
    out
}

fn argmax_cases(rng: &mut StdRng) -> Vec<Case> {
    let mut cases = Vec::new();
    for logits in logit_rows(rng) {
        let mut pairs = Vec::new();
        for (c, chunk) in logits.chunks(ARGMAX_CHUNK).enumerate() {
            let at = ops::argmax(chunk);
            let index = (c * ARGMAX_CHUNK + at) as i32;
            pairs.extend([chunk[at], index]);
            let call = LlmOps::argmax1Call {
                logits: row_bytes(chunk).into(),
                chunk: c as u32,
            };
            let what = format!("argmax1 of {}, chunk {c}", logits.len());
            cases.push(Case::new(what, call, &[chunk[at].into(), index.into()]));
        }
        let want = ops::argmax(&logits) as i64;
        let call = LlmOps::argmax2Call {
            pairs: row_bytes(&pairs).into(),
        };
        cases.push(Case::new(
            format!("argmax2 of {}", logits.len()),
            call,
            &[want],
        ));
    }
    cases
}

// ---------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_op_agrees_with_the_rust_reference() {
    let mut rng = seeded_rng("every_op_agrees_with_the_rust_reference");
    let (_chain, provider, address) = setup().await;
    let generators: [(&str, Generator); 11] = [
        ("embed", embed_cases),
        ("rmsnorm", rmsnorm_cases),
        ("dense", dense_cases),
        ("rope", rope_cases),
        ("score", score_cases),
        ("softmax", softmax_cases),
        ("pv", pv_cases),
        ("add", add_cases),
        ("lookup", lookup_cases),
        ("product", product_cases),
        ("argmax", argmax_cases),
    ];
    let start = Instant::now();
    let mut summary = Vec::new();
    for (op, generate) in generators {
        let cases = generate(&mut rng);
        let n = check(&provider, address, op, &cases).await;
        summary.push(format!("{op} {n}"));
    }
    eprintln!(
        "llm ops: elements checked: {} ({:.1} s)",
        summary.join(", "),
        start.elapsed().as_secs_f64()
    );
}

/// The test of the test: a flipped byte in an input row changes what both sides compute, so a
/// comparison that ignored the bytes it sent (or compared a value with itself) would be caught. In a
/// dense input, an RMSNorm residual row and an argmax chunk, a high byte of an element the answer
/// depends on is flipped; the contract must then agree with the reference on the flipped row, and
/// answer differently from the original row's reference for (nearly) every flip.
#[tokio::test]
async fn a_flipped_input_byte_changes_the_answer() {
    let mut rng = seeded_rng("a_flipped_input_byte_changes_the_answer");
    let (_chain, provider, address) = setup().await;
    const FLIPS: usize = 24;
    let flip = |rng: &mut StdRng, bytes: &mut [u8], at: usize| {
        bytes[at] ^= 1u8 << rng.random_range(0..8u32);
    };

    // Dense: the high byte of a random input x_k (M/2^s fine enough that any change shows).
    let mut w = random::dense(&mut rng, 1, K, 4, 30..=30);
    w.d.iter_mut().for_each(|d| *d = d.abs().max(4096));
    let x = i16s(&mut rng, K, NORM_Q);
    let dense = |x: &[i16]| i64::from(ops::dense(x, None, &w, LOGIT_MAX)[0]);
    let row = rows::weight_row(&w, 0);
    let mut flipped = Vec::new();
    for _ in 0..FLIPS {
        let mut bytes = row_bytes(&x);
        let at = 2 * rng.random_range(0..K);
        flip(&mut rng, &mut bytes, at);
        let x2: Vec<i16> = bytes
            .chunks(2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .collect();
        let call = LlmOps::denseCall {
            x: bytes.into(),
            weightRow: row.clone().into(),
            cols: U256::from(K),
            bits: 4,
            scaled: false,
            bound: LOGIT_MAX as u32,
        };
        let case = Case::new("dense, flipped x", call, &[dense(&x2)]);
        flipped.push(("dense", case, vec![dense(&x)]));
    }

    // RMSNorm: bits 16–23 of the element's own residual r_i (|r| ≤ 2^20, so the output moves by 2^4 or
    // more with these gains, and never clamps).
    let r = i32s(&mut rng, K, 1 << 20);
    let gain = Gain {
        g: vec![1 << 30; K],
        frac: 17,
    };
    let norm = |r: &[i32], i: usize| {
        let mut y = vec![0i16; K];
        ops::rmsnorm(r, &gain, 6040, NORM_Q, &mut y);
        i64::from(y[i])
    };
    for _ in 0..FLIPS {
        let i = rng.random_range(0..K);
        let mut bytes = row_bytes(&r);
        flip(&mut rng, &mut bytes, 4 * i + 1);
        let r2: Vec<i32> = bytes
            .chunks(4)
            .map(|b| i32::from_be_bytes(b.try_into().unwrap()))
            .collect();
        let call = LlmOps::rmsnormCall {
            residual: bytes.into(),
            gainRow: rows::gain_row(&gain).into(),
            epsTerm: 6040,
            i: U256::from(i),
            bound: NORM_Q as u32,
        };
        let case = Case::new("rmsnorm, flipped r_i", call, &[norm(&r2, i)]);
        flipped.push(("rmsnorm", case, vec![norm(&r, i)]));
    }

    // Argmax: the high byte of the winner of a chunk.
    let logits = i32s(&mut rng, ARGMAX_CHUNK, 1 << 24);
    let best = ops::argmax(&logits);
    for _ in 0..FLIPS {
        let mut bytes = row_bytes(&logits);
        flip(&mut rng, &mut bytes, 4 * best);
        let l2: Vec<i32> = bytes
            .chunks(4)
            .map(|b| i32::from_be_bytes(b.try_into().unwrap()))
            .collect();
        let at = ops::argmax(&l2);
        let call = LlmOps::argmax1Call {
            logits: bytes.into(),
            chunk: 0,
        };
        let case = Case::new("argmax1, flipped winner", call, &[l2[at].into(), at as i64]);
        flipped.push(("argmax1", case, vec![logits[best].into(), best as i64]));
    }

    let got = answers(
        &provider,
        address,
        flipped.iter().map(|(_, c, _)| c.calldata.clone()),
    )
    .await;
    for op in ["dense", "rmsnorm", "argmax1"] {
        let mut changed = 0;
        for ((_, case, before), got) in flipped.iter().zip(&got).filter(|((o, ..), _)| *o == op) {
            assert_eq!(got.as_ref(), Ok(&case.want), "{}", case.what);
            // What a comparison with the reference of the row as it was would see.
            if got.as_ref().ok() != Some(before) {
                changed += 1;
            }
        }
        eprintln!("{op}: {changed} of {FLIPS} flipped bytes change the answer");
        assert!(
            changed * 5 >= FLIPS * 4,
            "{op}: only {changed} of {FLIPS} flips changed the answer"
        );
    }
}

#[tokio::test]
async fn rows_of_the_wrong_length_revert_with_typed_errors() {
    let (_chain, provider, address) = setup().await;
    let dense = LlmOps::denseCall {
        x: vec![0u8; 2 * K - 2].into(),
        weightRow: vec![0u8; 5 + K / 8 + K / 2].into(),
        cols: U256::from(K),
        bits: 4,
        scaled: false,
        bound: 100,
    };
    let norm = LlmOps::rmsnormCall {
        residual: vec![0u8; 4 * K].into(),
        gainRow: vec![0u8; 4 * K].into(),
        epsTerm: 1,
        i: U256::ZERO,
        bound: 100,
    };
    let argmax = LlmOps::argmax1Call {
        logits: vec![0u8; 4 * ARGMAX_CHUNK + 4].into(),
        chunk: 0,
    };
    let softmax = LlmOps::softmaxCall {
        scores: vec![0u8; 4].into(),
        expRow: vec![0u8; 3].into(),
        j: U256::ZERO,
    };
    let lookup = LlmOps::lookupCall {
        leaf: FixedBytes::ZERO,
        leafIndex: U256::from(7),
        x: 0,
    };
    let calls = [
        dense.abi_encode(),
        norm.abi_encode(),
        argmax.abi_encode(),
        softmax.abi_encode(),
        lookup.abi_encode(),
    ];
    let got = answers(&provider, address, calls.into_iter()).await;
    let n = U256::from;
    let errors: Vec<LlmOpsErrors> = got
        .into_iter()
        .map(|g| match g {
            Err(Revert::LlmOps(e)) => e,
            other => panic!("expected an LlmOps error, got {other:?}"),
        })
        .collect();
    match &errors[..] {
        [
            LlmOpsErrors::OperandLengthMismatch(d),
            LlmOpsErrors::OperandLengthMismatch(g),
            LlmOpsErrors::OperandTooLong(a),
            LlmOpsErrors::RaggedOperand(s),
            LlmOpsErrors::LeafIndexMismatch(l),
        ] => {
            assert_eq!(
                (d.operand, d.length, d.expected),
                (n(0), n(2 * K - 2), n(2 * K))
            );
            assert_eq!(
                (g.operand, g.length, g.expected),
                (n(1), n(4 * K), n(4 * K + 1))
            );
            assert_eq!(
                (a.length, a.max),
                (n(4 * ARGMAX_CHUNK + 4), n(4 * ARGMAX_CHUNK))
            );
            assert_eq!((s.operand, s.length, s.width), (n(1), n(3), n(4)));
            assert_eq!((l.leaf, l.expected), (n(7), n(2047)));
        }
        other => panic!("unexpected errors {other:?}"),
    }
}

/// Gas of each op's dearest element at SmolLM2's sizes (random data, so nonzero calldata bytes):
/// `eth_estimateGas` of a transaction carrying just that call (21,000 + calldata + execution).
#[tokio::test]
async fn gas_at_smollm2_sizes() {
    let mut rng = seeded_rng("gas_at_smollm2_sizes");
    let (_chain, provider, address) = setup().await;
    let down = random::dense(&mut rng, 1, F, 4, 30..=30);
    let mut down_x = row_bytes(&i16s(&mut rng, F, P_Q));
    down_x.extend(17i16.to_be_bytes());
    let proj = random::dense(&mut rng, 1, K, 4, 30..=30);
    let head = random::dense(&mut rng, 1, K, 8, 30..=30);
    let h = row_bytes(&i16s(&mut rng, K, NORM_Q));
    let requant = [Requant {
        multiplier: 1 << 30,
        shift: 40,
    }];
    let (cos, sin) = rope_tables();
    // Worst cases for the data-dependent steps: every score within the EXP table and each one a new maximum;
    // each |a·u| and each logit a new maximum (nonzero bytes all the same).
    let last = exp_table().len() as i32 - 1;
    let scores: Vec<i32> = (0..CONTEXT as i32)
        .map(|j| 1_000_000 + j * last / (CONTEXT as i32 - 1))
        .collect();
    let rising: Vec<i16> = (0..F as i16).map(|i| 4 + 21 * i).collect();
    let logits: Vec<i32> = (0..ARGMAX_CHUNK as i32)
        .map(|i| i32::MIN + 12_345 + 262_111 * i)
        .collect();
    let mut probs = vec![0u16; CONTEXT];
    ops::softmax(&scores, &exp_table(), &mut probs);
    let silu: Vec<i16> = (0..2 * GU_Q + 1).map(|_| rng.random()).collect();
    let pairs: Vec<i32> = (0..6).flat_map(|c| [rng.random(), c * 8192]).collect();
    let calls: Vec<(&str, Vec<u8>)> = vec![
        (
            "embed (8-bit table row, K = 576)",
            LlmOps::embedCall {
                tableRow: rows::table_row(&head, &requant, 0).into(),
                cols: U256::from(K),
                bits: 8,
                i: U256::from(K - 1),
            }
            .abi_encode(),
        ),
        (
            "rmsnorm (K = 576)",
            LlmOps::rmsnormCall {
                residual: row_bytes(&i32s(&mut rng, K, RES_MAX)).into(),
                gainRow: rows::gain_row(&Gain {
                    g: i32s(&mut rng, K, i32::MAX.into()),
                    frac: 20,
                })
                .into(),
                epsTerm: 6040,
                i: U256::from(K - 1),
                bound: NORM_Q as u32,
            }
            .abi_encode(),
        ),
        (
            "dense q/k/v/o/gate/up (4-bit, K = 576)",
            LlmOps::denseCall {
                x: h.clone().into(),
                weightRow: rows::weight_row(&proj, 0).into(),
                cols: U256::from(K),
                bits: 4,
                scaled: false,
                bound: GU_Q as u32,
            }
            .abi_encode(),
        ),
        (
            "dense down (4-bit, K = 1536, with e)",
            LlmOps::denseCall {
                x: down_x.into(),
                weightRow: rows::weight_row(&down, 0).into(),
                cols: U256::from(F),
                bits: 4,
                scaled: true,
                bound: RES_MAX as u32,
            }
            .abi_encode(),
        ),
        (
            "dense head (8-bit, K = 576)",
            LlmOps::denseCall {
                x: h.into(),
                weightRow: rows::weight_row(&head, 0).into(),
                cols: U256::from(K),
                bits: 8,
                scaled: false,
                bound: LOGIT_MAX as u32,
            }
            .abi_encode(),
        ),
        (
            "rope (one pair, RoPE row of 32 + 32)",
            LlmOps::ropeCall {
                pair: row_bytes(&i16s(&mut rng, 2, QK_Q)).into(),
                ropeRow: rows::rope_row(&cos, &sin, CONTEXT - 1, HEAD / 2).into(),
                i: U256::from(HEAD - 1),
                bound: QK_Q as u32,
            }
            .abi_encode(),
        ),
        (
            "score (q, k of 64)",
            LlmOps::scoreCall {
                q: row_bytes(&i16s(&mut rng, HEAD, QK_Q)).into(),
                k: row_bytes(&i16s(&mut rng, HEAD, QK_Q)).into(),
                multiplier: 1 << 30,
                shift: 40,
            }
            .abi_encode(),
        ),
        (
            "softmax (p + 1 = 1024, EXP of 3,727)",
            LlmOps::softmaxCall {
                scores: row_bytes(&scores).into(),
                expRow: rows::exp_row(&exp_table()).into(),
                j: U256::from(CONTEXT - 1),
            }
            .abi_encode(),
        ),
        (
            "pv (p + 1 = 1024)",
            LlmOps::pvCall {
                probs: row_bytes(&probs).into(),
                values: row_bytes(&i16s(&mut rng, CONTEXT, V_Q)).into(),
                bound: V_Q as u32,
            }
            .abi_encode(),
        ),
        (
            "add",
            LlmOps::addCall {
                a: RES_MAX as i32,
                b: 5,
            }
            .abi_encode(),
        ),
        (
            "lookup (SiLU leaf)",
            LlmOps::lookupCall {
                leaf: FixedBytes(rows::silu_leaf(&silu, 4095)),
                leafIndex: U256::from(4095),
                x: 32767,
            }
            .abi_encode(),
        ),
        (
            "product (F = 1536, element 0)",
            LlmOps::productCall {
                a: row_bytes(&rising).into(),
                u: row_bytes(&rising).into(),
                i: U256::ZERO,
            }
            .abi_encode(),
        ),
        (
            "argmax1 (8192 logits)",
            LlmOps::argmax1Call {
                logits: row_bytes(&logits).into(),
                chunk: 5,
            }
            .abi_encode(),
        ),
        (
            "argmax2 (6 chunks)",
            LlmOps::argmax2Call {
                pairs: row_bytes(&pairs).into(),
            }
            .abi_encode(),
        ),
    ];
    eprintln!("| op, element (SmolLM2 sizes) | calldata | eth_estimateGas | execution |");
    eprintln!("|---|---:|---:|---:|");
    for (what, data) in calls {
        let calldata_gas: u64 = data.iter().map(|&b| if b == 0 { 4 } else { 16 }).sum();
        let size = data.len();
        let tx = TransactionRequest::default()
            .with_to(address)
            .with_input(data);
        let gas = provider.estimate_gas(tx).await.unwrap();
        assert!(gas <= MAX_STEP_GAS, "{what}: {gas} gas");
        let execution = gas - 21_000 - calldata_gas;
        eprintln!("| {what} | {size} B | {gas} | {execution} |");
    }
}
