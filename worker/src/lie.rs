//! Lying workers, for tests and the demo: each [`Lie`] turns the honest trace of a job into the trace
//! (and posted output) a particular kind of cheat would commit to, and the bait lies plant junk in a
//! leaf of the final state that no slot of the trace backs. An honest challenger must catch every one
//! of them; `docs/PROTOCOL.md` §6 says where each is caught.

use alloy::primitives::B256;
use serde::{Deserialize, Serialize};
use vouch_core::{CoreError, Model, Shape, Trace, dispute::Party, reference};

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
    /// stores the honest trace: its junk is planted by [`Lie::dress`]).
    pub fn fabricate(self, model: &Model, trace: &Trace) -> Fabrication {
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
        }
        let output = output.unwrap_or_else(|| slots[n].clone());
        Fabrication {
            trace: Trace::new(shapes_out, slots),
            output,
        }
    }
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
                let f = lie.fabricate(&model, &honest);
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
            let f = Lie::WrongShape { step: 0 }.fabricate(&model, &honest);
            assert!(Party::new(&model, f.trace).is_err());
        }
    }
}
