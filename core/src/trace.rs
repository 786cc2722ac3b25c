//! The execution trace: every slot tensor of one run, its commitments, and its file on disk.

use crate::{
    commit::{state_tree, tensor_root, trace_root},
    error::{CoreError, Result},
    shape::Shape,
};
use alloy_primitives::{Address, B256};
use std::path::Path;

/// Magic bytes that open a trace file.
const TRACE_MAGIC: &[u8; 8] = b"VOUCHT02";

/// All `n + 1` slot tensors of one run: slot 0 is the input, slot `k + 1` the output of op `k`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    shapes: Vec<Shape>,
    slots: Vec<Vec<i8>>,
}

/// The commitments of a run: what a worker posts (the output root, and the final state bound to
/// itself by [`Commitments::trace_root`]) and defends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitments {
    /// Tensor root of each slot, input first (`n + 1`).
    pub slot_roots: Vec<B256>,
    /// σ_n, the root of the state tree over the slot roots.
    pub final_state: B256,
    /// Tensor root of the last slot.
    pub output_root: B256,
}

impl Commitments {
    /// The commitments of a run whose slots have these tensor roots (input first, at least one): an
    /// honest run's ([`Trace::commitments`]) or any slot table an adversary chooses.
    ///
    /// # Panics
    /// If `slot_roots` is empty.
    pub fn from_slot_roots(slot_roots: Vec<B256>) -> Self {
        let final_state = state_tree(&slot_roots).root();
        let output_root = *slot_roots
            .last()
            .expect("a run has at least the input slot");
        Self {
            slot_roots,
            final_state,
            output_root,
        }
    }

    /// The trace root `worker` posts for this run: `leaf(0x03, worker ‖ σ_n)`.
    pub fn trace_root(&self, worker: Address) -> B256 {
        trace_root(worker, self.final_state)
    }
}

impl Trace {
    /// Wraps the slot tensors of a run (input first) with their shapes.
    ///
    /// # Panics
    /// If the lists differ in length or a tensor does not have its shape's element count.
    pub fn new(shapes: Vec<Shape>, slots: Vec<Vec<i8>>) -> Self {
        assert_eq!(shapes.len(), slots.len(), "one shape per slot");
        assert!(
            shapes.iter().zip(&slots).all(|(s, t)| s.len() == t.len()),
            "slot lengths match their shapes"
        );
        Self { shapes, slots }
    }

    /// The shape of every slot.
    pub fn shapes(&self) -> &[Shape] {
        &self.shapes
    }

    /// The same trace with `slots` replaced (shapes kept). For tests and adversaries that tamper
    /// with a trace; panics like [`Trace::new`].
    pub fn with_slots(&self, slots: Vec<Vec<i8>>) -> Self {
        Self::new(self.shapes.clone(), slots)
    }

    /// Every slot tensor, input first.
    pub fn slots(&self) -> &[Vec<i8>] {
        &self.slots
    }

    /// The output tensor (the last slot).
    pub fn output(&self) -> &[i8] {
        self.slots.last().map_or(&[], Vec::as_slice)
    }

    /// The first `(slot, element)` where two traces differ, or `None` if they are identical.
    /// Slots of different lengths differ at the first index past the shorter one.
    pub fn first_difference(&self, other: &Trace) -> Option<(usize, usize)> {
        let empty = Vec::new();
        let slots = self.slots.len().max(other.slots.len());
        (0..slots).find_map(|s| {
            let a = self.slots.get(s).unwrap_or(&empty);
            let b = other.slots.get(s).unwrap_or(&empty);
            let mismatch = a.iter().zip(b).position(|(x, y)| x != y);
            let length = (a.len() != b.len()).then(|| a.len().min(b.len()));
            mismatch.or(length).map(|i| (s, i))
        })
    }

    /// The tensor root of every slot, input first (rows of each slot's `C` elements).
    pub fn slot_roots(&self) -> Vec<B256> {
        self.slots
            .iter()
            .zip(&self.shapes)
            .map(|(t, s)| tensor_root(t, s.c as usize))
            .collect()
    }

    /// Computes every commitment of this trace: one tensor root per slot, then the state tree over
    /// them (`O(n)` hashes beside the data's).
    pub fn commitments(&self) -> Commitments {
        Commitments::from_slot_roots(self.slot_roots())
    }

    /// The slot tensors, taken out of the trace (input first).
    pub fn into_slots(self) -> Vec<Vec<i8>> {
        self.slots
    }

    /// Serialises the trace: magic, slot count, then each slot as `shape (3 × u32) ‖ bytes`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = TRACE_MAGIC.to_vec();
        out.extend_from_slice(&(self.slots.len() as u32).to_be_bytes());
        for (shape, s) in self.shapes.iter().zip(&self.slots) {
            out.extend_from_slice(&shape.to_bytes());
            out.extend(s.iter().map(|&b| b as u8));
        }
        out
    }

    /// Parses [`Trace::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bad = |m: &str| CoreError::Trace(m.to_owned());
        let rest = bytes
            .strip_prefix(TRACE_MAGIC.as_slice())
            .ok_or_else(|| bad("bad magic"))?;
        let (count, mut rest) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| bad("truncated header"))?;
        let count = u32::from_be_bytes(*count) as usize;
        let mut slots = Vec::with_capacity(count.min(1 << 16));
        let mut shapes = Vec::with_capacity(count.min(1 << 16));
        for _ in 0..count {
            let (dims, tail) = rest
                .split_first_chunk::<12>()
                .ok_or_else(|| bad("truncated slot header"))?;
            let dim =
                |i: usize| u32::from_be_bytes(dims[i * 4..i * 4 + 4].try_into().expect("4 bytes"));
            let shape = Shape::new(dim(0), dim(1), dim(2));
            if !shape.is_valid() || tail.len() < shape.len() {
                return Err(bad("bad or truncated slot"));
            }
            slots.push(tail[..shape.len()].iter().map(|&b| b as i8).collect());
            shapes.push(shape);
            rest = &tail[shape.len()..];
        }
        if !rest.is_empty() || slots.is_empty() {
            return Err(bad("trailing bytes or no slots"));
        }
        Ok(Self { shapes, slots })
    }

    /// Writes the trace to `path` durably: a temporary file, fsync, rename, fsync of the directory.
    /// A worker calls this *before* it posts the result that the trace backs.
    pub fn persist(&self, path: &Path) -> Result<()> {
        Ok(crate::durable::write(path, &self.to_bytes())?)
    }

    /// Reads a trace written by [`Trace::persist`].
    pub fn load(path: &Path) -> Result<Self> {
        Self::from_bytes(&std::fs::read(path)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_reject_garbage() {
        let t = Trace::new(
            vec![Shape::new(1, 3, 1), Shape::vector(2), Shape::vector(1)],
            vec![vec![1, -2, 3], vec![-128, 127], vec![0]],
        );
        assert_eq!(Trace::from_bytes(&t.to_bytes()).unwrap(), t);
        let mut bytes = t.to_bytes();
        bytes.pop();
        assert!(Trace::from_bytes(&bytes).is_err());
        bytes.extend([0, 0]);
        assert!(Trace::from_bytes(&bytes).is_err());
        assert!(Trace::from_bytes(b"nope").is_err());
    }

    #[test]
    fn persist_then_load() {
        let dir = std::env::temp_dir().join(format!("vouch-trace-{}", std::process::id()));
        let path = dir.join("job-1.trace");
        let t = Trace::new(
            vec![Shape::new(10, 10, 1), Shape::vector(7)],
            vec![vec![9; 100], vec![-1; 7]],
        );
        t.persist(&path).unwrap();
        assert_eq!(Trace::load(&path).unwrap(), t);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn commitments_bind_every_slot() {
        let t = Trace::new(
            vec![Shape::vector(40), Shape::vector(10), Shape::vector(10)],
            vec![vec![1; 40], vec![2; 10], vec![3; 10]],
        );
        let c = t.commitments();
        assert_eq!(c.slot_roots.len(), 3);
        assert_eq!(c.output_root, c.slot_roots[2]);
        assert_eq!(c.final_state, state_tree(&c.slot_roots).root());
        let worker = Address::repeat_byte(1);
        assert_eq!(c.trace_root(worker), trace_root(worker, c.final_state));
        assert_ne!(c.trace_root(worker), c.trace_root(Address::repeat_byte(2)));
        let mut changed = t.slots().to_vec();
        changed[1][9] = 0;
        let c2 = t.with_slots(changed).commitments();
        assert_eq!(c2.output_root, c.output_root);
        assert_eq!(c2.slot_roots[0], c.slot_roots[0]);
        assert_ne!(c2.final_state, c.final_state);
        assert_ne!(c2.trace_root(worker), c.trace_root(worker));
    }
}
