//! Lying workers, for tests and the demo: each [`Lie`] turns the honest trace of a job into the trace
//! (and posted output) a particular kind of cheat would commit to, and the bait lies plant junk in a
//! leaf of the final state that no slot of the trace backs. An honest challenger must catch every one
//! of them; `docs/PROTOCOL.md` §6 says where each is caught. A language model's result lies its own
//! ways ([`Lie::fabricate_lm`]: a wrong token generation continues from, an element deep in the
//! trace); each lie is told about one kind of model, and a lying worker skips the jobs of the other.

use alloy::primitives::B256;
use serde::{Deserialize, Serialize};
use vouch_core::{CoreError, Model, Shape, Trace, dispute::Party, reference};
use vouch_llm::{
    IntModel,
    trace::{
        Job, LmTrace, Stop, generate, generate_forcing,
        program::{BlockOp, Op},
    },
};

/// How a lying worker cheats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Lie {
    /// One element of the output is wrong and the trace commits to it: the lie is in the last step.
    WrongOutput,
    /// One element of slot `step + 1` is wrong; the rest of the trace is as computed.
    WrongElement {
        /// The op whose output is tampered.
        step: usize,
        /// The element of that output.
        element: usize,
    },
    /// One element of slot `step + 1` is wrong and every later op is recomputed from it: a
    /// consistent but wrong trace.
    Consistent {
        /// The op whose output is tampered.
        step: usize,
    },
    /// The whole trace is computed on another input (its slot 0 is not the job's).
    OtherInput,
    /// Slot `step + 1` is committed with another shape (same bytes, rows of another length).
    WrongShape {
        /// The op whose output is committed with the wrong shape.
        step: usize,
    },
    /// The posted output differs from the trace's last slot (the trace does not match its output).
    MismatchedOutput,
    /// A wrong output, and the worker never answers a challenge.
    Silent,
    /// Bait: the correct output and every slot as computed, but junk in the first padding leaf of the
    /// final state's tree (a model whose `n + 1` slots are not a power of two). Its trace root
    /// differs from the honest one only where no slot is.
    PaddingBait,
    /// Bait: the correct output and every op's slot as computed, but junk where the final state
    /// holds the input (slot 0), which the contract knows from the job.
    InputBait,
    /// A language model's answer with token `index` (modulo the answer's length) replaced by
    /// another (never eos), and generation continued from it: a trace consistent everywhere but at
    /// that token's ARGMAX2.
    WrongToken {
        /// Which token of the answer.
        index: usize,
    },
    /// A language model's honest answer, but one attention probability of the last pass (element
    /// `element`, modulo the slot's size, of the last block's SOFTMAX) changed and the trace
    /// committed to it: a lie deep in the trace, where the last token attends to every earlier one.
    WrongProbability {
        /// Which element of the slot.
        element: usize,
    },
}

/// The junk a bait lie plants in a leaf of the final state.
const BAIT: B256 = B256::repeat_byte(0xba);

/// What a lying worker posts and defends: the trace it commits to and the output bytes it posts.
#[derive(Debug, Clone)]
pub struct Fabrication {
    /// The trace behind the posted trace root (the one the worker defends from).
    pub trace: Trace,
    /// The posted output.
    pub output: Vec<i8>,
}

/// Changes an element to another value.
fn flip(v: &mut i8) {
    *v = v.wrapping_add(1);
}

/// Reruns every op after slot `from` on `slots`, keeping slots `0..=from`.
fn recompute_from(model: &Model, shapes: &[Shape], slots: &mut [Vec<i8>], from: usize) {
    for k in from..model.op_count() {
        let out = reference::step(shapes, &model.ops[k], &slots[..=k]);
        slots[k + 1] = out;
    }
}

impl Lie {
    /// Whether a worker with this lie answers challenges.
    pub fn defends(self) -> bool {
        !matches!(self, Lie::Silent)
    }

    /// The leaf of the final state's tree a bait lie replaces, with what it plants there; `None` for
    /// the other lies (and for padding bait on a model with no padding slot).
    pub fn bait(self, n: usize) -> Option<(usize, B256)> {
        match self {
            Lie::PaddingBait => (n + 1 < (n + 1).next_power_of_two()).then_some((n + 1, BAIT)),
            Lie::InputBait => Some((0, BAIT)),
            _ => None,
        }
    }

    /// The party this lie defends with, from the party of the trace it stored: with the bait
    /// planted for a bait lie, unchanged otherwise.
    pub fn dress(self, party: Party) -> Result<Party, CoreError> {
        match self.bait(party.op_count()) {
            Some((j, leaf)) => party.with_state_leaf(j, leaf),
            None => Ok(party),
        }
    }

    /// The trace and output this lie commits to, from the honest `trace` of `model` (a bait lie
    /// stores the honest trace: its junk is planted by [`Lie::dress`]); `None` for a language
    /// model's lie.
    pub fn fabricate(self, model: &Model, trace: &Trace) -> Option<Fabrication> {
        let n = model.op_count();
        let shapes = trace.shapes().to_vec();
        let mut slots = trace.slots().to_vec();
        let mut shapes_out = shapes.clone();
        let mut output = None;
        match self {
            Lie::WrongOutput | Lie::Silent => flip(&mut slots[n][0]),
            Lie::WrongElement { step, element } => {
                let s = &mut slots[step.min(n - 1) + 1];
                let e = element % s.len();
                flip(&mut s[e]);
            }
            Lie::Consistent { step } => {
                let step = step.min(n - 1);
                flip(&mut slots[step + 1][0]);
                recompute_from(model, &shapes, &mut slots, step + 1);
            }
            Lie::OtherInput => {
                flip(&mut slots[0][0]);
                recompute_from(model, &shapes, &mut slots, 0);
            }
            Lie::WrongShape { step } => {
                let s = shapes[step.min(n - 1) + 1];
                shapes_out[step.min(n - 1) + 1] = if s.rows() > 1 {
                    Shape::vector(s.len() as u32)
                } else {
                    Shape::new(1, s.len() as u32, 1)
                };
            }
            Lie::MismatchedOutput => {
                let mut o = slots[n].clone();
                flip(&mut o[0]);
                output = Some(o);
            }
            Lie::PaddingBait | Lie::InputBait => {}
            Lie::WrongToken { .. } | Lie::WrongProbability { .. } => return None,
        }
        let output = output.unwrap_or_else(|| slots[n].clone());
        Some(Fabrication {
            trace: Trace::new(shapes_out, slots),
            output,
        })
    }

    /// The trace a worker with this lie commits to for language-model job `job` (its answer is the
    /// trace's output slot, [`LmTrace::output_bytes`]), every root consistent with the lie; `None`
    /// for a tensor model's lie. Deterministic: run again, it gives the same trace (a worker
    /// defends from it without storing it).
    pub fn fabricate_lm(self, model: &IntModel, job: &Job) -> vouch_llm::Result<Option<LmTrace>> {
        let honest = || generate(model, job, Stop::Eos(model.tokenizer.eos), |_| ());
        Ok(Some(match self {
            Lie::WrongToken { index } => {
                let honest = honest()?;
                wrong_token(model, job, &honest, index % honest.output.len())?
            }
            Lie::WrongProbability { element } => {
                let mut trace = honest()?;
                let (last_pass, last_block) = (trace.layout.passes() - 1, model.config.blocks - 1);
                let op = trace.program.index(Op::Block(last_block, BlockOp::Softmax));
                let slot = trace.layout.slot(last_pass, op);
                let shape = trace.shape(slot);
                tamper(&mut trace, slot, element % (shape.rows * shape.cols))?;
                trace
            }
            _ => return Ok(None),
        }))
    }
}

/// A token of a vocabulary of `vocab ≥ 3` ids other than `token` that is never `eos` (so the answer
/// stays one the market takes): the next id, skipping eos.
pub fn other_token(token: u32, eos: u32, vocab: usize) -> u32 {
    let next = |t: u32| ((t as usize + 1) % vocab) as u32;
    match next(token) {
        t if t == eos => next(t),
        t => t,
    }
}

/// The trace of `job` on `model` with answer token `k` of the `honest` trace replaced by
/// [`other_token`] and generation continued from it (an eos stops it, the job's budget bounds it).
pub fn wrong_token(
    model: &IntModel,
    job: &Job,
    honest: &LmTrace,
    k: usize,
) -> vouch_llm::Result<LmTrace> {
    let eos = model.tokenizer.eos;
    let pass = job.prompt.len() - 1 + k;
    let token = other_token(honest.output[k], eos, model.config.vocab);
    generate_forcing(model, job, Stop::Eos(eos), &[(pass, token)], |_| ())
}

/// Changes element `i` of slot `s` of `trace` to another value (`v → v − sign(v)`, `0 → 1`) and
/// recommits the trace to it; the computation is not continued (later slots keep their values).
pub fn tamper(trace: &mut LmTrace, s: usize, i: usize) -> vouch_llm::Result<()> {
    let v = trace.value(s, i);
    trace.tamper(s, i, if v == 0 { 1 } else { v - v.signum() })?;
    trace.recommit();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};
    use vouch_core::random;

    #[test]
    fn every_lie_changes_what_is_posted() {
        let mut rng = StdRng::seed_from_u64(7);
        // Three ops: four slots, no padding; four ops: five slots, three padding leaves.
        for widths in [&[16, 8, 4][..], &[16, 8, 8, 4]] {
            let model = random::random_model(&mut rng, widths);
            let input = random::random_input(&mut rng, &model);
            let honest = reference::run(&model, &input).unwrap();
            let worker = alloy::primitives::Address::repeat_byte(7);
            let posted = |lie: Lie| {
                let f = lie.fabricate(&model, &honest).unwrap();
                let party = lie
                    .dress(Party::new(&model, f.trace.clone()).unwrap())
                    .unwrap();
                (party.trace_root(worker), f)
            };
            let honest_root = Party::new(&model, honest.clone())
                .unwrap()
                .trace_root(worker);
            for lie in [
                Lie::WrongOutput,
                Lie::WrongElement {
                    step: 0,
                    element: 3,
                },
                Lie::Consistent { step: 0 },
                Lie::OtherInput,
                Lie::MismatchedOutput,
                Lie::Silent,
                Lie::PaddingBait,
                Lie::InputBait,
            ] {
                let (root, f) = posted(lie);
                let padless = lie == Lie::PaddingBait && lie.bait(model.op_count()).is_none();
                if lie == Lie::MismatchedOutput || padless {
                    // The honest trace (posted with another output, or no padding to bait).
                    assert_eq!(root, honest_root, "{lie:?}");
                } else {
                    assert_ne!(root, honest_root, "{lie:?} keeps the honest trace root");
                }
                if lie == Lie::MismatchedOutput {
                    assert_ne!(f.output, f.trace.output().to_vec());
                } else {
                    assert_eq!(f.output, f.trace.output().to_vec(), "{lie:?}");
                }
            }
            // A wrong shape cannot even be defended: its trace is not the model's.
            let f = Lie::WrongShape { step: 0 }
                .fabricate(&model, &honest)
                .unwrap();
            assert!(Party::new(&model, f.trace).is_err());
        }
    }

    #[test]
    fn every_language_model_lie_commits_to_a_wrong_trace_the_same_each_time() {
        use vouch_llm::random::{self as lm, Dims};
        let mut rng = StdRng::seed_from_u64(vouch_core::random::test_seed("lm_lies"));
        let model = lm::model(
            &mut rng,
            Dims::TINY,
            candle_core::quantized::GgmlDType::Q4_0,
        )
        .unwrap();
        let eos = model.tokenizer.eos;
        let worker = alloy::primitives::Address::repeat_byte(7);
        for _ in 0..3 {
            let job = Job {
                prompt: lm::ids(&mut rng, 3),
                max_new: 5,
            };
            let honest = generate(&model, &job, Stop::Eos(eos), |_| ()).unwrap();
            for lie in [
                Lie::WrongToken { index: 7 },
                Lie::WrongProbability { element: 1_000 },
            ] {
                let lying = lie.fabricate_lm(&model, &job).unwrap().unwrap();
                assert_ne!(
                    lying.trace_root(worker),
                    honest.trace_root(worker),
                    "{lie:?}"
                );
                // A worker defends from the same trace generated again.
                let again = lie.fabricate_lm(&model, &job).unwrap().unwrap();
                assert_eq!(again.trace_root(worker), lying.trace_root(worker));
                // An answer greedy decoding could give: no eos but a last one, and the last one
                // unless the budget is spent.
                let ids = &lying.output;
                assert!(ids[..ids.len() - 1].iter().all(|&t| t != eos), "{lie:?}");
                assert!(ids.len() == job.max_new || ids[ids.len() - 1] == eos);
                assert_eq!(
                    lying.output_bytes(),
                    vouch_llm::int::rows::row_bytes(
                        &ids.iter().map(|&t| t as i32).collect::<Vec<_>>()
                    )
                );
            }
            let token = Lie::WrongToken { index: 0 }
                .fabricate_lm(&model, &job)
                .unwrap()
                .unwrap();
            assert_ne!(
                token.output[0], honest.output[0],
                "the first token replaced"
            );
            assert!(
                Lie::WrongOutput
                    .fabricate_lm(&model, &job)
                    .unwrap()
                    .is_none()
            );
        }
    }
}
