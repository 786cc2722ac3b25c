//! One side of a dispute: a model and the run it stands by, with every value it reveals as defender and
//! every choice it makes as challenger.

use super::{
    moves::{Opening, StateReveal, Transition},
    position::{Element, Side, TensorPosition, element_of_leaf, tensor_depth},
    witness::{RowProof, SlotProof, StepWitness},
};
use crate::{
    commit::{
        TENSOR_LEAF_BYTES, leaves_per_row, op_tree, state_path, state_roots, state_table,
        state_tree, tensor_leaves, tensor_tree_of_leaves, trace_tree, transition_path,
    },
    error::{CoreError, Result},
    merkle::MerkleTree,
    model::{Model, Op, WeightRow},
    reference::{ElementInputs, element_with},
    shape::Shape,
    tensor,
    trace::Trace,
};
use alloy_primitives::B256;
use std::cell::{Cell, RefCell};

/// One 32-byte tensor leaf.
type Leaf = [u8; TENSOR_LEAF_BYTES];

/// One party's view of a run of `model`: every slot tensor, its tree, the state roots and the trace
/// tree. The worker defends from its own trace (which may lie), a challenger decides from its honest
/// re-run; both use this type, and neither side's values are trusted by the other.
///
/// Steps are numbered by op: step `k` is op `k`, which writes slot `k + 1`; phase-2 positions and
/// leaves are in the tree of slot `k + 1`.
#[derive(Debug, Clone)]
pub struct Party<'m> {
    model: &'m Model,
    /// Shape of every slot, input first.
    shapes: Vec<Shape>,
    /// The real elements of every slot, `[H·W·C]` each.
    data: Vec<Vec<i8>>,
    /// The committed leaves of every slot (at least the real ones, at most the padded tree's).
    leaves: Vec<Vec<Leaf>>,
    /// The tensor tree of every slot.
    trees: Vec<MerkleTree>,
    slot_roots: Vec<B256>,
    /// σ_0 … σ_n.
    state_roots: Vec<B256>,
    trace: MerkleTree,
}

impl<'m> Party<'m> {
    /// The party that stands by `trace`, a run of `model` (slot shapes must be the model's).
    pub fn new(model: &'m Model, trace: &Trace) -> Result<Self> {
        let shapes: Vec<Shape> = model.slots().into_iter().map(|(s, _)| s).collect();
        if trace.shapes() != shapes.as_slice() {
            return Err(CoreError::Trace(format!(
                "the trace has {} slots of shapes {:?}, the model's are {:?}",
                trace.shapes().len(),
                trace.shapes(),
                shapes
            )));
        }
        let leaves = trace
            .slots()
            .iter()
            .zip(&shapes)
            .map(|(slot, shape)| tensor_leaves(slot, shape.c as usize))
            .collect();
        Ok(Self::build(model, shapes, trace.slots().to_vec(), leaves))
    }

    /// The party that commits to `leaves` for every slot of a run of `model`, including leaves past the
    /// real ones, with any bytes in their padding. For tests and adversaries: an honest party is
    /// [`Party::new`]. Slot `s`'s leaf list must hold at least its `H·W·⌈C/32⌉` real leaves and at most
    /// the padded tree's `2^D`; its elements are read from the real leaves.
    pub fn from_leaves(
        model: &'m Model,
        leaves: Vec<Vec<[u8; TENSOR_LEAF_BYTES]>>,
    ) -> Result<Self> {
        let shapes: Vec<Shape> = model.slots().into_iter().map(|(s, _)| s).collect();
        if leaves.len() != shapes.len() {
            return Err(CoreError::Trace(format!(
                "leaves for {} slots, the model has {}",
                leaves.len(),
                shapes.len()
            )));
        }
        let mut data = Vec::with_capacity(shapes.len());
        for (s, (shape, slot)) in shapes.iter().zip(&leaves).enumerate() {
            let (c, lpr) = (shape.c as usize, leaves_per_row(shape.c as usize));
            let real = shape.rows() * lpr;
            if slot.len() < real || slot.len() > real.next_power_of_two() {
                return Err(CoreError::Trace(format!(
                    "slot {s} of shape {shape} has {} leaves, needs {real}..={}",
                    slot.len(),
                    real.next_power_of_two()
                )));
            }
            let elements = slot[..real]
                .chunks(lpr)
                .flat_map(|row| row.iter().flatten().take(c).map(|&b| b as i8))
                .collect();
            data.push(elements);
        }
        Ok(Self::build(model, shapes, data, leaves))
    }

    fn build(
        model: &'m Model,
        shapes: Vec<Shape>,
        data: Vec<Vec<i8>>,
        leaves: Vec<Vec<Leaf>>,
    ) -> Self {
        let trees: Vec<MerkleTree> = leaves.iter().map(|l| tensor_tree_of_leaves(l)).collect();
        let slot_roots: Vec<B256> = trees.iter().map(MerkleTree::root).collect();
        let state_roots = state_roots(&slot_roots);
        let trace = trace_tree(&state_roots);
        Self {
            model,
            shapes,
            data,
            leaves,
            trees,
            slot_roots,
            state_roots,
            trace,
        }
    }

    /// The model.
    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// The tensor root of every slot, input first (`n + 1`).
    pub fn slot_roots(&self) -> &[B256] {
        &self.slot_roots
    }

    /// σ_0 … σ_n.
    pub fn state_roots(&self) -> &[B256] {
        &self.state_roots
    }

    /// The trace root this party posts (defender) or would post (challenger).
    pub fn trace_root(&self) -> B256 {
        self.trace.root()
    }

    /// The tensor root of the output, slot `n`.
    pub fn output_root(&self) -> B256 {
        *self
            .slot_roots
            .last()
            .expect("a run has at least the input slot")
    }

    /// σ_i, for `i ≤ n`.
    pub fn state_root(&self, i: usize) -> Result<B256> {
        self.state_roots
            .get(i)
            .copied()
            .ok_or(CoreError::OutOfRange {
                what: "state index",
                index: i,
                limit: self.state_roots.len(),
            })
    }

    /// This party's value of element `e` of op `k`'s output (slot `k + 1`): what it claims there.
    pub fn element(&self, k: usize, e: usize) -> Result<i8> {
        let slot = self.written_slot(k)?;
        self.data[slot]
            .get(e)
            .copied()
            .ok_or(CoreError::OutOfRange {
                what: "element",
                index: e,
                limit: self.data[slot].len(),
            })
    }

    // ----- the defender's reveals -----

    /// The opening move: σ_n with its trace path, and the state path of the output slot `n` in σ_n.
    pub fn opening(&self) -> Opening {
        let n = self.model.op_count();
        Opening {
            state: self.state_reveal(n).expect("σ_n exists"),
            output_path: state_path(&self.slot_roots, n).expect("slot n exists"),
        }
    }

    /// Phase 1: σ_i with its path in this party's trace tree.
    pub fn state_reveal(&self, i: usize) -> Result<StateReveal> {
        Ok(StateReveal {
            index: i,
            root: self.state_root(i)?,
            path: self
                .trace
                .proof(i)
                .expect("every state root is a trace leaf"),
        })
    }

    /// Phase 1→2 at step `k`: the tensor root `T` of slot `k + 1` and the siblings `P` of that slot in
    /// σ_k and σ_{k+1}.
    pub fn transition(&self, k: usize) -> Result<Transition> {
        let slot = self.written_slot(k)?;
        Ok(Transition {
            step: k,
            tensor_root: self.slot_roots[slot],
            path: transition_path(&self.slot_roots, k).expect("slot k + 1 exists"),
        })
    }

    /// Phase 2: the node at `pos` in the tree of slot `k + 1`.
    pub fn node(&self, k: usize, pos: TensorPosition) -> Result<B256> {
        let tree = &self.trees[self.written_slot(k)?];
        tree.node(pos.depth, pos.index)
            .ok_or_else(|| position_error(tree.depth(), pos))
    }

    /// Phase 2: the children `(left, right)` of the inner node at `pos` in the tree of slot `k + 1`.
    pub fn children(&self, k: usize, pos: TensorPosition) -> Result<(B256, B256)> {
        let tree = &self.trees[self.written_slot(k)?];
        if pos.is_leaf(tree.depth()) {
            return Err(CoreError::OutOfRange {
                what: "inner-node depth",
                index: pos.depth as usize,
                limit: tree.depth() as usize,
            });
        }
        tree.children(pos.depth, pos.index)
            .ok_or_else(|| position_error(tree.depth(), pos))
    }

    /// Phase 2, at the bottom: the 32 bytes of leaf `leaf` of slot `k + 1` (zero for a padding leaf of
    /// an honest tree).
    pub fn leaf(&self, k: usize, leaf: usize) -> Result<[u8; TENSOR_LEAF_BYTES]> {
        let slot = self.written_slot(k)?;
        let leaves = 1usize << self.trees[slot].depth();
        if leaf >= leaves {
            return Err(CoreError::OutOfRange {
                what: "tensor leaf",
                index: leaf,
                limit: leaves,
            });
        }
        Ok(self.leaves[slot]
            .get(leaf)
            .copied()
            .unwrap_or([0; TENSOR_LEAF_BYTES]))
    }

    /// Phase 3: the witness for element `e` of op `k`'s output, proven against this party's σ_k (so it
    /// verifies when σ_k is the agreed state and this party's slots `0..=k` are what it committed).
    pub fn witness(&self, k: usize, e: usize) -> Result<StepWitness> {
        let slot = self.written_slot(k)?;
        let op = &self.model.ops[k];
        if e >= self.data[slot].len() {
            return Err(CoreError::OutOfRange {
                what: "element",
                index: e,
                limit: self.data[slot].len(),
            });
        }
        let operands = op.kind.inputs();
        if let Some(&late) = operands.iter().find(|&&s| s > k) {
            return Err(CoreError::InvalidOp {
                op: k,
                reason: format!("reads slot {late}, only slots 0..={k} exist yet"),
            });
        }
        let state = state_tree(&state_table(&self.slot_roots, k));
        let slots = operands
            .iter()
            .map(|&s| SlotProof {
                root: self.slot_roots[s],
                path: state.proof(s).expect("an operand is a slot"),
            })
            .collect();
        let reads = Recorder {
            op,
            shapes: operands.iter().map(|&s| self.shapes[s]).collect(),
            data: operands.iter().map(|&s| self.data[s].as_slice()).collect(),
            rows: RefCell::new(Vec::new()),
            tensor: Cell::new(None),
            weight_row: Cell::new(None),
        };
        element_with(op, e, &reads)?;
        let rows = reads
            .rows
            .into_inner()
            .into_iter()
            .map(|(operand, row)| self.row_proof(operands[operand], row))
            .collect();
        let input = reads.tensor.get().map_or_else(Vec::new, |operand| {
            tensor::to_bytes(&self.data[operands[operand]])
        });
        let (weights, weight_path) = match reads.weight_row.get() {
            Some(row) => {
                let leaf = 1 + row;
                let path = op_tree(op).proof(leaf).expect("a weight row is an op leaf");
                (op.leaves().swap_remove(leaf), path)
            }
            None => (Vec::new(), Vec::new()),
        };
        Ok(StepWitness {
            slots,
            rows,
            input,
            weights,
            weight_path,
        })
    }

    // ----- the challenger's decisions -----

    /// Phase 1: whether this party's σ_i equals the revealed `root`.
    pub fn agrees_with_state(&self, i: usize, root: B256) -> Result<bool> {
        Ok(self.state_root(i)? == root)
    }

    /// Phase 2: the side to descend at `pos` of slot `k + 1`'s tree, given the defender's revealed
    /// children: the first whose hash differs from this party's. [`CoreError::NoDifference`] if neither
    /// does, which an honest challenger never meets below a node it disputes.
    pub fn pick(&self, k: usize, pos: TensorPosition, left: B256, right: B256) -> Result<Side> {
        let (own_left, own_right) = self.children(k, pos)?;
        if left != own_left {
            Ok(Side::Left)
        } else if right != own_right {
            Ok(Side::Right)
        } else {
            Err(CoreError::NoDifference(format!(
                "both children of node ({}, {}) of step {k} are ours",
                pos.depth, pos.index
            )))
        }
    }

    /// Phase 2, at the bottom: the first byte offset `j` where the defender's revealed bytes of leaf
    /// `leaf` of slot `k + 1` differ from this party's. [`CoreError::NoDifference`] if they are equal.
    pub fn differing_offset(
        &self,
        k: usize,
        leaf: usize,
        bytes: &[u8; TENSOR_LEAF_BYTES],
    ) -> Result<usize> {
        let own = self.leaf(k, leaf)?;
        own.iter()
            .zip(bytes)
            .position(|(a, b)| a != b)
            .ok_or_else(|| {
                CoreError::NoDifference(format!("leaf {leaf} of step {k} is ours, byte for byte"))
            })
    }

    /// The element byte `j` of leaf `leaf` of slot `k + 1` stands for ([`element_of_leaf`] on op `k`'s
    /// output shape).
    pub fn element_of_leaf(&self, k: usize, leaf: usize, j: usize) -> Result<Element> {
        element_of_leaf(self.shapes[self.written_slot(k)?], leaf, j)
    }

    /// Depth `D` of the tree of slot `k + 1` ([`tensor_depth`] of op `k`'s output shape).
    pub fn tensor_depth(&self, k: usize) -> Result<u32> {
        Ok(tensor_depth(self.shapes[self.written_slot(k)?]))
    }

    // ----- helpers -----

    /// The slot step `k` writes, `k + 1`, or an error if op `k` does not exist.
    fn written_slot(&self, k: usize) -> Result<usize> {
        let n = self.model.op_count();
        if k >= n {
            return Err(CoreError::OutOfRange {
                what: "step",
                index: k,
                limit: n,
            });
        }
        Ok(k + 1)
    }

    /// Row `row` of slot `slot` with the tensor paths of its leaves, concatenated.
    fn row_proof(&self, slot: usize, row: usize) -> RowProof {
        let c = self.shapes[slot].c as usize;
        let lpr = leaves_per_row(c);
        let path = (row * lpr..(row + 1) * lpr)
            .flat_map(|leaf| {
                self.trees[slot]
                    .proof(leaf)
                    .expect("a row's leaves are real")
            })
            .collect();
        RowProof {
            data: tensor::to_bytes(&self.data[slot][row * c..][..c]),
            path,
        }
    }
}

/// The error for a node `pos` that is not in a tree of depth `depth`.
fn position_error(depth: u32, pos: TensorPosition) -> CoreError {
    if pos.depth > depth {
        CoreError::OutOfRange {
            what: "node depth",
            index: pos.depth as usize,
            limit: depth as usize + 1,
        }
    } else {
        CoreError::OutOfRange {
            what: "node index",
            index: pos.index,
            limit: 1 << pos.depth,
        }
    }
}

/// [`ElementInputs`] over a party's own slots that records what the formula reads: the parts of the
/// witness, in the formula's (normative) order.
struct Recorder<'a> {
    op: &'a Op,
    shapes: Vec<Shape>,
    data: Vec<&'a [i8]>,
    /// `(operand, row)` of every row read, in order.
    rows: RefCell<Vec<(usize, usize)>>,
    /// The operand read whole (dense).
    tensor: Cell<Option<usize>>,
    /// The weight row read.
    weight_row: Cell<Option<usize>>,
}

impl ElementInputs for Recorder<'_> {
    fn shape(&self, operand: usize) -> Shape {
        self.shapes[operand]
    }

    fn row(&self, operand: usize, row: usize) -> Result<&[i8]> {
        let shape = self.shapes[operand];
        if row >= shape.rows() {
            return Err(CoreError::OutOfRange {
                what: "row",
                index: row,
                limit: shape.rows(),
            });
        }
        self.rows.borrow_mut().push((operand, row));
        let c = shape.c as usize;
        Ok(&self.data[operand][row * c..][..c])
    }

    fn tensor(&self, operand: usize) -> Result<&[i8]> {
        self.tensor.set(Some(operand));
        Ok(self.data[operand])
    }

    fn weight_row(&self, channel: usize) -> Result<&WeightRow> {
        let rows = self.op.kind.rows();
        let row = rows.get(channel).ok_or(CoreError::OutOfRange {
            what: "weight row",
            index: channel,
            limit: rows.len(),
        })?;
        self.weight_row.set(Some(channel));
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        dispute::{check_opening, check_transition, verify_step},
        model::{ModelMeta, OpKind, Operand, Window},
        quant::Requant,
        reference,
    };

    fn model(input: Shape, ops: Vec<Op>) -> Model {
        let m = Model {
            input,
            input_zero: 0,
            ops,
            meta: ModelMeta {
                name: "hand-made".into(),
                input_scale: 1.0,
                output_scale: 1.0,
                labels: Vec::new(),
            },
        };
        m.validate().unwrap();
        m
    }

    /// A 2×2 kernel with one row and column of padding over a `[2, 2, 1]` input: output `[3, 3, 1]`.
    fn padded_conv() -> Model {
        let conv = Op {
            out: Shape::new(3, 3, 1),
            z_out: 0,
            kind: OpKind::Conv2d {
                input: 0,
                z_x: 0,
                lo: -128,
                hi: 127,
                window: Window {
                    kh: 2,
                    kw: 2,
                    sh: 1,
                    sw: 1,
                    pt: 1,
                    pl: 1,
                },
                rows: vec![WeightRow {
                    bias: 3,
                    requant: Requant {
                        multiplier: 1,
                        shift: 1,
                    },
                    weights: vec![1, -2, 3, -4],
                }],
            },
        };
        model(Shape::new(2, 2, 1), vec![conv])
    }

    #[test]
    fn a_corner_conv_witness_carries_only_the_taps_inside() {
        let m = padded_conv();
        let trace = reference::run(&m, &[10, 20, 30, 40]).unwrap();
        let party = Party::new(&m, &trace).unwrap();
        // Output (0, 0): only tap (1, 1) lands inside, on input pixel (0, 0).
        let w = party.witness(0, 0).unwrap();
        assert_eq!(w.rows.len(), 1);
        assert_eq!(w.rows[0].data, vec![10]);
        // Output (1, 1): all four taps, row-major, on pixels (0, 0), (0, 1), (1, 0), (1, 1).
        let w = party.witness(0, 4).unwrap();
        let data: Vec<Vec<u8>> = w.rows.iter().map(|r| r.data.clone()).collect();
        assert_eq!(data, vec![vec![10], vec![20], vec![30], vec![40]]);
        // Depth 2 input tree (4 leaves): two siblings per row, one slot path of depth 1.
        assert!(w.rows.iter().all(|r| r.path.len() == 2));
        assert_eq!(w.slots[0].path.len(), 1);
        assert_eq!(w.weights, m.ops[0].leaves()[1]);
        // (3 + 10 − 40 + 90 − 160) / 2 = −48.5 → −48.
        assert_eq!(
            verify_step(&m, 0, party.state_roots()[0], 4, &w).unwrap(),
            -48
        );
        assert_eq!(trace.slots()[1][4], -48);
    }

    #[test]
    fn an_add_of_a_slot_with_itself_proves_it_twice() {
        let operand = Operand {
            slot: 0,
            zero: 0,
            multiplier: 1,
        };
        let add = Op {
            out: Shape::vector(3),
            z_out: 0,
            kind: OpKind::Add {
                a: operand,
                b: operand,
                shift: 1,
                lo: -128,
                hi: 127,
            },
        };
        let m = model(Shape::vector(3), vec![add]);
        let trace = reference::run(&m, &[5, -7, 100]).unwrap();
        assert_eq!(trace.output(), &[5, -7, 100]);
        let party = Party::new(&m, &trace).unwrap();
        let w = party.witness(0, 1).unwrap();
        assert_eq!((w.slots.len(), w.rows.len()), (2, 2));
        assert_eq!(w.slots[0], w.slots[1]);
        assert_eq!(w.rows[0], w.rows[1]);
        assert_eq!(
            verify_step(&m, 0, party.state_roots()[0], 1, &w).unwrap(),
            -7
        );
        // Opening and transition of a one-op model.
        let opening = party.opening();
        check_opening(1, party.trace_root(), party.output_root(), &opening).unwrap();
        let t = party.transition(0).unwrap();
        let sigma = party.state_roots();
        check_transition(1, sigma[0], sigma[1], &t).unwrap();
        assert!(check_transition(1, sigma[1], sigma[1], &t).is_err());
    }

    #[test]
    fn own_values_leave_nothing_to_dispute() {
        let m = padded_conv();
        let trace = reference::run(&m, &[1, 2, 3, 4]).unwrap();
        let party = Party::new(&m, &trace).unwrap();
        let (l, r) = party.children(0, TensorPosition::ROOT).unwrap();
        assert!(matches!(
            party.pick(0, TensorPosition::ROOT, l, r),
            Err(CoreError::NoDifference(_))
        ));
        assert_eq!(
            party.pick(0, TensorPosition::ROOT, l, B256::ZERO).unwrap(),
            Side::Right
        );
        assert_eq!(
            party.pick(0, TensorPosition::ROOT, B256::ZERO, r).unwrap(),
            Side::Left
        );
        let leaf = party.leaf(0, 3).unwrap();
        assert!(matches!(
            party.differing_offset(0, 3, &leaf),
            Err(CoreError::NoDifference(_))
        ));
        let mut other = leaf;
        other[7] ^= 1;
        assert_eq!(party.differing_offset(0, 3, &other).unwrap(), 7);
        assert!(party.agrees_with_state(1, party.state_roots()[1]).unwrap());
        assert!(!party.agrees_with_state(1, party.state_roots()[0]).unwrap());
    }

    #[test]
    fn positions_outside_the_game_are_errors() {
        let m = padded_conv();
        let trace = reference::run(&m, &[1, 2, 3, 4]).unwrap();
        let party = Party::new(&m, &trace).unwrap();
        // Slot 1 is [3, 3, 1]: 9 leaves, depth 4, 16 leaf positions.
        assert_eq!(party.tensor_depth(0).unwrap(), 4);
        let leaf = TensorPosition {
            depth: 4,
            index: 15,
        };
        assert!(party.node(0, leaf).is_ok());
        assert_eq!(party.leaf(0, 15).unwrap(), [0; TENSOR_LEAF_BYTES]);
        assert!(party.children(0, leaf).is_err());
        assert!(
            party
                .node(0, TensorPosition { depth: 5, index: 0 })
                .is_err()
        );
        assert!(
            party
                .node(0, TensorPosition { depth: 2, index: 4 })
                .is_err()
        );
        assert!(party.leaf(0, 16).is_err());
        assert!(party.transition(1).is_err());
        assert!(party.witness(1, 0).is_err());
        assert!(party.witness(0, 9).is_err());
        assert!(party.state_reveal(2).is_err());
        assert!(party.element_of_leaf(0, 16, 0).is_err());
    }

    #[test]
    fn leaves_must_fill_the_real_tree_and_no_more() {
        let m = padded_conv();
        let trace = reference::run(&m, &[1, 2, 3, 4]).unwrap();
        let leaves: Vec<Vec<Leaf>> = trace
            .slots()
            .iter()
            .zip(trace.shapes())
            .map(|(d, s)| tensor_leaves(d, s.c as usize))
            .collect();
        let party = Party::from_leaves(&m, leaves.clone()).unwrap();
        assert_eq!(party.trace_root(), trace.commitments().trace_root);
        let mut short = leaves.clone();
        short[1].pop();
        assert!(Party::from_leaves(&m, short).is_err());
        let mut long = leaves.clone();
        long[1].resize(17, [0; TENSOR_LEAF_BYTES]);
        assert!(Party::from_leaves(&m, long).is_err());
        // Zero padding leaves committed explicitly change nothing.
        let mut padded = leaves;
        padded[1].resize(16, [0; TENSOR_LEAF_BYTES]);
        let same = Party::from_leaves(&m, padded).unwrap();
        assert_eq!(same.trace_root(), party.trace_root());
        // A trace whose shapes are not the model's.
        let mut wrong = padded_conv();
        wrong.input = Shape::vector(4);
        assert!(matches!(
            Party::new(&wrong, &trace),
            Err(CoreError::Trace(_))
        ));
    }
}
