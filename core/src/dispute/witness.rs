//! The one-step witness (phase Step, PROTOCOL.md §6.4; `StepWitness` in
//! `contracts/src/interfaces/IOneStepProver.sol`) and a Rust verifier that checks what the contract
//! checks and computes the element from the witness data alone.

use crate::{
    commit::{leaves_per_row, op_root, tensor_leaves, tensor_root},
    error::{CoreError, Result},
    merkle::{Tag, climb, depth_for, leaf_hash},
    model::{Model, Op, WeightRow, decode_row},
    reference::{ElementInputs, element_with},
    shape::Shape,
    tensor,
};
use alloy_primitives::B256;
use std::cell::{Cell, OnceCell};

/// An operand slot's tensor root with its path in the defender's final state σ_n (`⌈log2(n + 1)⌉`
/// siblings). The slot index is not part of it: it comes from the op spec.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlotProof {
    /// The slot's tensor root.
    pub root: B256,
    /// Siblings of the slot in the state tree of σ_n.
    pub path: Vec<B256>,
}

/// One row (pixel) of an operand slot: its `C` bytes and, for each of its `⌈C/32⌉` leaves in order,
/// that leaf's tensor-tree path (`D` siblings each, concatenated: `⌈C/32⌉·D` in all). The row index is
/// derived from the element.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RowProof {
    /// The row's `C` bytes (int8, two's complement).
    pub data: Vec<u8>,
    /// The paths of the row's leaves, concatenated.
    pub path: Vec<B256>,
}

/// The data one element of op `k` needs: it supplies data only, every index is derived from the element
/// index and the model's shapes.
///
/// - `slots`: one proof per operand of the op in spec order (Add: `a` then `b`; others: the input).
/// - `rows`: the operand rows the element reads, in the normative order: Conv2d and MaxPool the input
///   pixel of each kernel tap `(i, j)` inside the input, row-major; AvgPool every tap; Clamp and Reshape
///   the input pixel holding element `e`; Add that pixel of `a`, then of `b`; Dense none.
/// - `input`: Dense only, the whole input tensor `[H·W·C]`.
/// - `weights`, `weight_path`: Dense (row `e`) and Conv2d (row `e mod C_out`) only, the weight-row leaf
///   `bias ‖ M ‖ s ‖ weights` and its path in op `k`'s tree (leaf `1 + row`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StepWitness {
    /// The operand slots, in spec order.
    pub slots: Vec<SlotProof>,
    /// The operand rows the element reads.
    pub rows: Vec<RowProof>,
    /// Dense: the whole input tensor; empty otherwise.
    pub input: Vec<u8>,
    /// Dense and Conv2d: the weight-row leaf; empty otherwise.
    pub weights: Vec<u8>,
    /// The weight row's path in the op tree; empty when `weights` is.
    pub weight_path: Vec<B256>,
}

impl StepWitness {
    /// Bytes of data it carries (32 per hash), a proxy for its calldata size.
    pub fn data_len(&self) -> usize {
        let hashes = self.slots.iter().map(|s| 1 + s.path.len()).sum::<usize>()
            + self.rows.iter().map(|r| r.path.len()).sum::<usize>()
            + self.weight_path.len();
        hashes * 32
            + self.rows.iter().map(|r| r.data.len()).sum::<usize>()
            + self.input.len()
            + self.weights.len()
    }
}

/// The true value of element `e` of op `k`'s output (slot `k + 1`) given the defender's final state
/// `final_state` (σ_n), computed from `witness` alone after checking every proof in it, as the
/// contract's one-step prover does: operand slot roots against σ_n (op `k` reads only slots `≤ k`,
/// the ones the walk agreed on), rows and the dense input against their slot roots, the weight row
/// against op `k`'s root.
///
/// Stricter than needed in one way: data the op does not read (an input for a conv, weights for a
/// pool, rows past the last one read) is an error, so every byte of an accepted witness matters.
/// A challenger runs it before sending its step transaction.
pub fn verify_step(
    model: &Model,
    k: usize,
    final_state: B256,
    e: usize,
    witness: &StepWitness,
) -> Result<i8> {
    let n = model.op_count();
    let op = model.ops.get(k).ok_or(CoreError::OutOfRange {
        what: "step",
        index: k,
        limit: n,
    })?;
    if e >= op.out.len() {
        return Err(CoreError::OutOfRange {
            what: "element",
            index: e,
            limit: op.out.len(),
        });
    }
    let operands = op.kind.inputs();
    if witness.slots.len() != operands.len() {
        return Err(CoreError::MalformedWitness(format!(
            "{} slot proofs for the {} operands of a {} op",
            witness.slots.len(),
            operands.len(),
            op.kind.name()
        )));
    }
    let shapes = model.slots();
    let mut checked = Vec::with_capacity(operands.len());
    for (&slot, proof) in operands.iter().zip(&witness.slots) {
        if slot > k {
            return Err(CoreError::InvalidOp {
                op: k,
                reason: format!("reads slot {slot}, only slots 0..={k} exist yet"),
            });
        }
        let leaf = leaf_hash(Tag::State, proof.root.as_slice());
        if climb(Tag::State, leaf, slot, &proof.path, n + 1) != Some(final_state) {
            return Err(CoreError::ProofMismatch(format!(
                "state path of slot {slot} in σ_n"
            )));
        }
        checked.push(Operand {
            slot,
            shape: shapes[slot].0,
            root: proof.root,
        });
    }
    let inputs = WitnessInputs {
        op,
        k,
        operands: checked,
        witness,
        rows: witness
            .rows
            .iter()
            .map(|r| tensor::from_bytes(&r.data))
            .collect(),
        input: tensor::from_bytes(&witness.input),
        next_row: Cell::new(0),
        read_input: Cell::new(false),
        weights: OnceCell::new(),
    };
    let value = element_with(op, e, &inputs)?;
    inputs.finish()?;
    Ok(value)
}

/// An operand slot whose root is proven against σ_n.
struct Operand {
    slot: usize,
    shape: Shape,
    root: B256,
}

/// [`ElementInputs`] over a witness: hands out its parts in order, checking each against its
/// commitment as the formula reads it, and remembers what was read.
struct WitnessInputs<'a> {
    op: &'a Op,
    k: usize,
    operands: Vec<Operand>,
    witness: &'a StepWitness,
    /// The witness rows' data as int8.
    rows: Vec<Vec<i8>>,
    /// The witness input as int8.
    input: Vec<i8>,
    next_row: Cell<usize>,
    read_input: Cell<bool>,
    weights: OnceCell<(usize, WeightRow)>,
}

impl WitnessInputs<'_> {
    /// Checks that the formula read every part the witness carries.
    fn finish(&self) -> Result<()> {
        let name = self.op.kind.name();
        if self.next_row.get() != self.witness.rows.len() {
            return Err(CoreError::MalformedWitness(format!(
                "{} rows given, a {name} element reads {}",
                self.witness.rows.len(),
                self.next_row.get()
            )));
        }
        if !self.read_input.get() && !self.witness.input.is_empty() {
            return Err(CoreError::MalformedWitness(format!(
                "an input tensor given, a {name} element reads rows"
            )));
        }
        if self.weights.get().is_none()
            && (!self.witness.weights.is_empty() || !self.witness.weight_path.is_empty())
        {
            return Err(CoreError::MalformedWitness(format!(
                "a weight row given, a {name} op has none"
            )));
        }
        Ok(())
    }
}

impl ElementInputs for WitnessInputs<'_> {
    fn shape(&self, operand: usize) -> Shape {
        self.operands[operand].shape
    }

    fn row(&self, operand: usize, row: usize) -> Result<&[i8]> {
        let i = self.next_row.get();
        let proof = self.witness.rows.get(i).ok_or_else(|| {
            CoreError::MalformedWitness(format!(
                "{} rows given, the element reads more",
                self.witness.rows.len()
            ))
        })?;
        self.next_row.set(i + 1);
        let Operand { slot, shape, root } = self.operands[operand];
        let c = shape.c as usize;
        if row >= shape.rows() {
            return Err(CoreError::OutOfRange {
                what: "row",
                index: row,
                limit: shape.rows(),
            });
        }
        if proof.data.len() != c {
            return Err(CoreError::MalformedWitness(format!(
                "row {i} has {} bytes, rows of slot {slot} have {c}",
                proof.data.len()
            )));
        }
        let lpr = leaves_per_row(c);
        let leaf_count = shape.rows() * lpr;
        let depth = depth_for(leaf_count) as usize;
        if proof.path.len() != lpr * depth {
            return Err(CoreError::MalformedWitness(format!(
                "row {i} has {} path hashes, {lpr} leaves of depth {depth} need {}",
                proof.path.len(),
                lpr * depth
            )));
        }
        for (t, leaf) in tensor_leaves(&self.rows[i], c).iter().enumerate() {
            let index = row * lpr + t;
            let path = &proof.path[t * depth..][..depth];
            if climb(
                Tag::Tensor,
                leaf_hash(Tag::Tensor, leaf),
                index,
                path,
                leaf_count,
            ) != Some(root)
            {
                return Err(CoreError::ProofMismatch(format!(
                    "tensor path of row {row} (leaf {index}) of slot {slot}"
                )));
            }
        }
        Ok(&self.rows[i])
    }

    fn tensor(&self, operand: usize) -> Result<&[i8]> {
        let Operand { slot, shape, root } = self.operands[operand];
        if self.input.len() != shape.len() {
            return Err(CoreError::MalformedWitness(format!(
                "input of {} bytes, slot {slot} holds {}",
                self.input.len(),
                shape.len()
            )));
        }
        if tensor_root(&self.input, shape.c as usize) != root {
            return Err(CoreError::ProofMismatch(format!(
                "input tensor of slot {slot}"
            )));
        }
        self.read_input.set(true);
        Ok(&self.input)
    }

    fn weight_row(&self, channel: usize) -> Result<&WeightRow> {
        if let Some((read, row)) = self.weights.get() {
            // One element reads one weight row; a second read is of the same row.
            return if *read == channel {
                Ok(row)
            } else {
                Err(CoreError::MalformedWitness(format!(
                    "the element reads weight rows {read} and {channel}"
                )))
            };
        }
        let rows = self.op.kind.rows().len();
        if channel >= rows {
            return Err(CoreError::OutOfRange {
                what: "weight row",
                index: channel,
                limit: rows,
            });
        }
        let leaf = leaf_hash(Tag::Op, &self.witness.weights);
        let path = &self.witness.weight_path;
        if climb(Tag::Op, leaf, 1 + channel, path, 1 + rows) != Some(op_root(self.op)) {
            return Err(CoreError::ProofMismatch(format!(
                "weight row {channel} of op {}",
                self.k
            )));
        }
        let row = decode_row(&self.witness.weights)?;
        Ok(&self.weights.get_or_init(|| (channel, row)).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        dispute::Party,
        model::{ModelMeta, OpKind, Operand},
        reference,
    };

    fn add_then_clamp() -> Model {
        let operand = |slot| Operand {
            slot,
            zero: 0,
            multiplier: 3,
        };
        let ops = vec![
            Op {
                out: Shape::vector(40),
                z_out: 0,
                kind: OpKind::Add {
                    a: operand(0),
                    b: operand(0),
                    shift: 2,
                    lo: -128,
                    hi: 127,
                },
            },
            Op {
                out: Shape::vector(40),
                z_out: 0,
                kind: OpKind::Clamp {
                    input: 1,
                    lo: -10,
                    hi: 10,
                },
            },
        ];
        let m = Model {
            input: Shape::vector(40),
            input_zero: 0,
            ops,
            meta: ModelMeta {
                name: "add-clamp".into(),
                input_scale: 1.0,
                output_scale: 1.0,
                labels: Vec::new(),
            },
        };
        m.validate().unwrap();
        m
    }

    #[test]
    fn a_row_of_two_leaves_carries_two_paths() {
        let m = add_then_clamp();
        let input: Vec<i8> = (0..40).map(|i| i as i8 - 20).collect();
        let trace = reference::run(&m, &input).unwrap();
        let party = Party::new(&m, trace.clone()).unwrap();
        // [1, 1, 40]: one row of two leaves, depth 1: each row proof has 2 · 1 siblings.
        let w = party
            .witness(&m, 1, 35, &party.state_walk(2).unwrap())
            .unwrap();
        assert_eq!(w.rows.len(), 1);
        assert_eq!(w.rows[0].data.len(), 40);
        assert_eq!(w.rows[0].path.len(), 2);
        assert_eq!(
            verify_step(&m, 1, party.final_state(), 35, &w).unwrap(),
            trace.slots()[2][35]
        );
        assert!(w.data_len() > 40 + 3 * 32);
    }

    #[test]
    fn an_invalid_model_is_an_error_not_a_panic() {
        let m = add_then_clamp();
        let trace = reference::run(&m, &[7; 40]).unwrap();
        let party = Party::new(&m, trace).unwrap();
        let sigma = party.final_state();
        let clamp = party
            .witness(&m, 1, 3, &party.state_walk(2).unwrap())
            .unwrap();
        let add = party
            .witness(&m, 0, 3, &party.state_walk(1).unwrap())
            .unwrap();
        let mut bad = m.clone();
        if let OpKind::Clamp { lo, .. } = &mut bad.ops[1].kind {
            *lo = 11;
        }
        assert!(matches!(
            verify_step(&bad, 1, sigma, 3, &clamp),
            Err(CoreError::InvalidModel(_))
        ));
        let mut bad = m.clone();
        if let OpKind::Add { shift, .. } = &mut bad.ops[0].kind {
            *shift = 0;
        }
        assert!(matches!(
            verify_step(&bad, 0, sigma, 3, &add),
            Err(CoreError::InvalidModel(_))
        ));
        let mut bad = m.clone();
        bad.ops[1].out = Shape::new(2, 1, 20);
        assert!(matches!(
            verify_step(&bad, 1, sigma, 3, &clamp),
            Err(CoreError::InvalidModel(_))
        ));
    }
}
