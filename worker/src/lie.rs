//! Lying workers, for tests and the demo: each [`Lie`] turns the honest trace of a job into the trace
//! (and posted output) a particular kind of cheat would commit to. An honest challenger must catch
//! every one of them; `docs/PROTOCOL.md` §6 says where each is caught.

use serde::{Deserialize, Serialize};
use vouch_core::{Model, Shape, Trace, reference};

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
}

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

    /// The trace and output this lie commits to, from the honest `trace` of `model`.
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
        let model = random::random_model(&mut rng, &[16, 8, 4]);
        let input = random::random_input(&mut rng, &model);
        let honest = reference::run(&model, &input).unwrap();
        let c = honest.commitments();
        let lies = [
            Lie::WrongOutput,
            Lie::WrongElement {
                step: 0,
                element: 3,
            },
            Lie::Consistent { step: 0 },
            Lie::OtherInput,
            Lie::WrongShape { step: 0 },
            Lie::MismatchedOutput,
            Lie::Silent,
        ];
        for lie in lies {
            let f = lie.fabricate(&model, &honest);
            let fc = f.trace.commitments();
            if lie == Lie::MismatchedOutput {
                // The honest trace, posted with another output.
                assert_eq!(fc.trace_root, c.trace_root);
                assert_ne!(f.output, f.trace.output().to_vec());
            } else {
                assert_ne!(
                    fc.trace_root, c.trace_root,
                    "{lie:?} keeps the honest trace"
                );
                assert_eq!(f.output, f.trace.output().to_vec(), "{lie:?}");
            }
        }
    }
}
