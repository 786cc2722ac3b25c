//! One side of a dispute: the run it stands by, with every value it reveals as defender and every
//! choice it makes as challenger (PROTOCOL.md §6).

use super::{
    disputant::Disputant,
    position::{Element, Position, element_of_leaf, tensor_depth},
    tree::{Walk, check_walk, node_at, replace_leaf, state_path_beside, walk_to},
    witness::{RowProof, SlotProof, StepWitness},
};
use crate::{
    commit::{
        TENSOR_LEAF_BYTES, leaves_per_row, op_tree, state_tree, tensor_tree, tensor_tree_of_leaves,
        trace_root,
    },
    error::{CoreError, Result},
    merkle::MerkleTree,
    model::{Model, Op, WeightRow},
    reference::{ElementInputs, element_with},
    shape::Shape,
    tensor,
    trace::Trace,
};
use alloy_primitives::{Address, B256};
use std::{
    cell::{Cell, RefCell},
    sync::OnceLock,
};

/// One 32-byte tensor leaf.
type Leaf = [u8; TENSOR_LEAF_BYTES];

/// One party's view of a run of a model: every slot tensor, the slot roots and the final state tree
/// σ_n. The worker defends from its own trace (which may lie), a challenger decides from its honest
/// re-run; both use this type, and neither side's values are trusted by the other.
///
/// Built once per trace with `O(n)` hashes beside the tensor data's (each slot's root, then the state
/// tree); a slot's tensor tree is built the first time the game needs it and kept. Slots are numbered
/// as in the state table: slot 0 is the input, slot `j = k + 1` what op `k` wrote. `Send + Sync`, so
/// one party can answer many games at once.
#[derive(Debug, Clone)]
pub struct Party {
    /// `n`, the model's op count.
    n: usize,
    /// Shape of every slot, input first.
    shapes: Vec<Shape>,
    /// The real elements of every slot, `[H·W·C]` each.
    data: Vec<Vec<i8>>,
    /// A slot's committed leaves when they are not the canonical ones of its data (adversaries that
    /// commit junk in padding); `None` for the canonical leaves.
    committed: Vec<Option<Vec<Leaf>>>,
    /// Each slot's tensor tree, built on first use.
    tensors: Vec<OnceLock<MerkleTree>>,
    slot_roots: Vec<B256>,
    /// The final state's tree over the slot roots (a leaf may be replaced: [`Party::with_state_leaf`]).
    state: MerkleTree,
}

/// The shape of every slot of `model`, input first.
fn slot_shapes(model: &Model) -> Vec<Shape> {
    model.slots().into_iter().map(|(s, _)| s).collect()
}

impl Party {
    /// The party that stands by `trace`, a run of `model` (slot shapes must be the model's).
    pub fn new(model: &Model, trace: Trace) -> Result<Self> {
        let shapes = slot_shapes(model);
        if trace.shapes() != shapes.as_slice() {
            return Err(CoreError::Trace(format!(
                "the trace has {} slots of shapes {:?}, the model's are {:?}",
                trace.shapes().len(),
                trace.shapes(),
                shapes
            )));
        }
        let slot_roots = trace.slot_roots();
        let committed = vec![None; shapes.len()];
        Ok(Self::build(
            shapes,
            trace.into_slots(),
            committed,
            slot_roots,
        ))
    }

    /// The party that commits to `leaves` for every slot of a run of `model`, including leaves past the
    /// real ones, with any bytes in their padding. For tests and adversaries: an honest party is
    /// [`Party::new`]. Slot `s`'s leaf list must hold at least its `H·W·⌈C/32⌉` real leaves and at most
    /// the padded tree's `2^D`; its elements are read from the real leaves.
    pub fn from_leaves(model: &Model, leaves: Vec<Vec<Leaf>>) -> Result<Self> {
        let shapes = slot_shapes(model);
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
        let slot_roots = leaves
            .iter()
            .map(|l| tensor_tree_of_leaves(l).root())
            .collect();
        let committed = leaves.into_iter().map(Some).collect();
        Ok(Self::build(shapes, data, committed, slot_roots))
    }

    fn build(
        shapes: Vec<Shape>,
        data: Vec<Vec<i8>>,
        committed: Vec<Option<Vec<Leaf>>>,
        slot_roots: Vec<B256>,
    ) -> Self {
        let state = state_tree(&slot_roots);
        Self {
            n: shapes.len() - 1,
            tensors: shapes.iter().map(|_| OnceLock::new()).collect(),
            shapes,
            data,
            committed,
            slot_roots,
            state,
        }
    }

    /// The same party with leaf `j` of its final state's tree replaced by `leaf`, any hash: junk in a
    /// padding slot (`j > n`), or a slot it cannot open. For tests and adversaries; `j < 2^D_s`.
    pub fn with_state_leaf(mut self, j: usize, leaf: B256) -> Result<Self> {
        replace_leaf(&mut self.state, j, leaf)?;
        Ok(self)
    }

    /// `n`, the model's op count (the state tree has `n + 1` slots).
    pub fn op_count(&self) -> usize {
        self.n
    }

    /// The shape of every slot, input first.
    pub fn shapes(&self) -> &[Shape] {
        &self.shapes
    }

    /// σ_n, the root of this party's final state tree.
    pub fn final_state(&self) -> B256 {
        self.state.root()
    }

    /// The tensor root of the output, slot `n`.
    pub fn output_root(&self) -> B256 {
        self.slot_roots[self.n]
    }

    /// The trace root `worker` posts (defender) or would post (challenger): `leaf(0x03, worker ‖ σ_n)`.
    pub fn trace_root(&self, worker: Address) -> B256 {
        trace_root(worker, self.final_state())
    }

    /// Depth `D_t` of the tree of slot `slot` ([`tensor_depth`] of its shape).
    pub fn tensor_depth(&self, slot: usize) -> Result<u32> {
        Ok(tensor_depth(self.shapes[self.slot(slot)?]))
    }

    /// This party's value of element `e` of slot `slot`: what it claims there.
    pub fn element(&self, slot: usize, e: usize) -> Result<i8> {
        let data = &self.data[self.slot(slot)?];
        data.get(e).copied().ok_or(CoreError::OutOfRange {
            what: "element",
            index: e,
            limit: data.len(),
        })
    }

    /// The node at `pos` of the final state tree.
    pub fn state_node(&self, pos: Position) -> Result<B256> {
        node_at(&self.state, pos)
    }

    /// The node at `pos` of the tree of slot `slot`.
    pub fn tensor_node(&self, slot: usize, pos: Position) -> Result<B256> {
        node_at(self.tensor(slot)?, pos)
    }

    // ----- the defender's reveals -----

    // ----- the challenger's decisions -----

    /// The element byte `o` of leaf `leaf` of slot `slot` stands for ([`element_of_leaf`] on its
    /// shape).
    pub fn element_of_leaf(&self, slot: usize, leaf: usize, o: usize) -> Result<Element> {
        element_of_leaf(self.shapes[self.slot(slot)?], leaf, o)
    }

    /// This party's own walk to state leaf `j`: the children of each node on its path, root first.
    /// What an honest defender reveals on the way to `j`; with it [`Party::witness`] proves against
    /// this party's own σ_n.
    pub fn state_walk(&self, j: usize) -> Result<Vec<(B256, B256)>> {
        walk_to(&self.state, j)
    }

    /// Phase Step: the witness for element `e` of op `k` (slot `j = k + 1`) of `model` (the model this
    /// party ran), proven against the defender's σ_n seen through `walk`, its revealed children on
    /// the way down to leaf `j` (root first, `D_s` pairs). Each operand slot `s < j` gets a state path
    /// that takes, at each level, the defender's revealed child where the path meets the walk and this
    /// party's own node where it runs left of it (those subtrees were agreed: the walk went right of
    /// them). Verifies against the defender's σ_n when this party's slots left of `j` are the
    /// defender's, which the leftmost-difference walk guarantees.
    pub fn witness(&self, model: &Model, k: usize, e: usize, walk: &Walk) -> Result<StepWitness> {
        if model.op_count() != self.n || slot_shapes(model) != self.shapes {
            return Err(CoreError::Trace(
                "the model's slots are not this party's".into(),
            ));
        }
        if k >= self.n {
            return Err(CoreError::OutOfRange {
                what: "step",
                index: k,
                limit: self.n,
            });
        }
        let j = k + 1;
        let op = &model.ops[k];
        if e >= self.data[j].len() {
            return Err(CoreError::OutOfRange {
                what: "element",
                index: e,
                limit: self.data[j].len(),
            });
        }
        check_walk(self.state.depth(), j, walk)?;
        let operands = op.kind.inputs();
        if let Some(&late) = operands.iter().find(|&&s| s > k) {
            return Err(CoreError::InvalidOp {
                op: k,
                reason: format!("reads slot {late}, only slots 0..={k} exist yet"),
            });
        }
        let slots = operands
            .iter()
            .map(|&s| SlotProof {
                root: self.slot_roots[s],
                path: state_path_beside(&self.state, s, j, walk),
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

    // ----- helpers -----

    /// `slot` if it is one (`≤ n`), else an error.
    fn slot(&self, slot: usize) -> Result<usize> {
        if slot > self.n {
            return Err(CoreError::OutOfRange {
                what: "slot",
                index: slot,
                limit: self.n + 1,
            });
        }
        Ok(slot)
    }

    /// The tensor tree of `slot`, built on first use.
    fn tensor(&self, slot: usize) -> Result<&MerkleTree> {
        let slot = self.slot(slot)?;
        Ok(
            self.tensors[slot].get_or_init(|| match &self.committed[slot] {
                Some(leaves) => tensor_tree_of_leaves(leaves),
                None => tensor_tree(&self.data[slot], self.shapes[slot].c as usize),
            }),
        )
    }

    /// The committed bytes of leaf `index` of slot `slot` (`index < 2^D_t`): zero past the leaves.
    fn leaf_bytes(&self, slot: usize, index: usize) -> Leaf {
        if let Some(leaves) = &self.committed[slot] {
            return leaves.get(index).copied().unwrap_or([0; TENSOR_LEAF_BYTES]);
        }
        let c = self.shapes[slot].c as usize;
        let lpr = leaves_per_row(c);
        let (row, part) = (index / lpr, index % lpr);
        let mut leaf = [0; TENSOR_LEAF_BYTES];
        if row < self.shapes[slot].rows() {
            let start = part * TENSOR_LEAF_BYTES;
            let bytes = &self.data[slot][row * c..][start..c.min(start + TENSOR_LEAF_BYTES)];
            for (dst, &b) in leaf.iter_mut().zip(bytes) {
                *dst = b as u8;
            }
        }
        leaf
    }

    /// Row `row` of slot `slot` with the tensor paths of its leaves, concatenated.
    fn row_proof(&self, slot: usize, row: usize) -> RowProof {
        let c = self.shapes[slot].c as usize;
        let lpr = leaves_per_row(c);
        let tree = self.tensor(slot).expect("an operand is a slot");
        let path = (row * lpr..(row + 1) * lpr)
            .flat_map(|leaf| tree.proof(leaf).expect("a row's leaves are real"))
            .collect();
        RowProof {
            data: tensor::to_bytes(&self.data[slot][row * c..][..c]),
            path,
        }
    }
}

impl Disputant for Party {
    fn state(&self) -> &MerkleTree {
        &self.state
    }

    fn output_slot(&self) -> usize {
        self.n
    }

    fn slot_roots(&self) -> &[B256] {
        &self.slot_roots
    }

    fn tensor_tree(&self, slot: usize) -> Result<&MerkleTree> {
        self.tensor(slot)
    }

    fn leaf(&self, slot: usize, index: usize) -> Result<Leaf> {
        self.slot(slot)?;
        Ok(self.leaf_bytes(slot, index))
    }

    fn element_width(&self, _slot: usize) -> usize {
        1
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
        commit::{state_leaf, tensor_leaves},
        dispute::{Side, Tree, check_node, check_opening, check_slot, verify_step},
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

    /// `count` clamps in a chain over a `[1, 1, 3]` vector, each reading the slot before.
    fn clamps(count: usize) -> Model {
        let ops = (0..count)
            .map(|k| Op {
                out: Shape::vector(3),
                z_out: 0,
                kind: OpKind::Clamp {
                    input: k as u16,
                    lo: -100 + k as i8,
                    hi: 100 - k as i8,
                },
            })
            .collect();
        model(Shape::vector(3), ops)
    }

    #[test]
    fn a_corner_conv_witness_carries_only_the_taps_inside() {
        let m = padded_conv();
        let trace = reference::run(&m, &[10, 20, 30, 40]).unwrap();
        let party = Party::new(&m, trace.clone()).unwrap();
        let walk = party.state_walk(1).unwrap();
        // Output (0, 0): only tap (1, 1) lands inside, on input pixel (0, 0).
        let w = party.witness(&m, 0, 0, &walk).unwrap();
        assert_eq!(w.rows.len(), 1);
        assert_eq!(w.rows[0].data, vec![10]);
        // Output (1, 1): all four taps, row-major, on pixels (0, 0), (0, 1), (1, 0), (1, 1).
        let w = party.witness(&m, 0, 4, &walk).unwrap();
        let data: Vec<Vec<u8>> = w.rows.iter().map(|r| r.data.clone()).collect();
        assert_eq!(data, vec![vec![10], vec![20], vec![30], vec![40]]);
        // Depth 2 input tree (4 leaves): two siblings per row, one slot path of depth 1.
        assert!(w.rows.iter().all(|r| r.path.len() == 2));
        assert_eq!(w.slots[0].path.len(), 1);
        assert_eq!(w.weights, m.ops[0].leaves()[1]);
        // (3 + 10 − 40 + 90 − 160) / 2 = −48.5 → −48.
        assert_eq!(verify_step(&m, 0, party.final_state(), 4, &w).unwrap(), -48);
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
        let party = Party::new(&m, trace).unwrap();
        let w = party
            .witness(&m, 0, 1, &party.state_walk(1).unwrap())
            .unwrap();
        assert_eq!((w.slots.len(), w.rows.len()), (2, 2));
        assert_eq!(w.slots[0], w.slots[1]);
        assert_eq!(w.rows[0], w.rows[1]);
        assert_eq!(verify_step(&m, 0, party.final_state(), 1, &w).unwrap(), -7);
        // The opening of a one-op model, bound to its worker.
        let worker = Address::repeat_byte(5);
        let opening = party.opening();
        check_opening(
            1,
            worker,
            party.trace_root(worker),
            party.output_root(),
            &opening,
        )
        .unwrap();
    }

    #[test]
    fn reveals_by_hash_are_the_trees_nodes() {
        let m = clamps(6);
        let trace = reference::run(&m, &[120, -120, 3]).unwrap();
        let c = trace.commitments();
        let party = Party::new(&m, trace).unwrap();
        assert_eq!(party.final_state(), c.final_state);
        assert_eq!(party.slot_roots(), c.slot_roots.as_slice());
        assert_eq!(party.output_root(), c.output_root);
        // Seven slots: depth 3, leaf 7 is padding.
        assert_eq!(party.state_depth(), 3);
        for j in 0..8 {
            let walk = party.state_walk(j).unwrap();
            let mut node = party.final_state();
            let mut pos = Position::ROOT;
            for (d, &(l, r)) in walk.iter().enumerate() {
                assert_eq!(party.state_children(&node).unwrap(), (l, r));
                check_node(Tree::State, node, l, r).unwrap();
                let side = if (j >> (2 - d)) & 1 == 1 {
                    Side::Right
                } else {
                    Side::Left
                };
                pos = pos.child(side);
                node = if side == Side::Right { r } else { l };
                assert_eq!(party.state_node(pos).unwrap(), node);
            }
            assert!(
                party.state_children(&node).is_err(),
                "a leaf has no children"
            );
            if j <= 6 {
                let root = party.slot_root(&node).unwrap();
                check_slot(node, root).unwrap();
                assert_eq!(root, party.slot_roots()[j]);
            } else {
                assert_eq!(node, state_leaf(&B256::ZERO));
                assert!(matches!(party.slot_root(&node), Err(CoreError::NotOurs(_))));
            }
        }
        assert!(party.state_walk(8).is_err());
        // Tensor reveals by hash: slot 3 is [1, 1, 3], one leaf, depth 0.
        let root = party.slot_roots()[3];
        assert_eq!(party.tensor_depth(3).unwrap(), 0);
        let bytes = party.tensor_leaf(3, &root).unwrap();
        assert_eq!(&bytes[..3], &tensor::to_bytes(&party.data[3])[..]);
        assert!(party.tensor_children(3, &root).is_err());
        assert!(party.tensor_leaf(3, &B256::ZERO).is_err());
        assert!(party.tensor_leaf(7, &root).is_err());
    }

    #[test]
    fn a_walk_that_is_not_a_chain_is_refused() {
        let m = clamps(6);
        let trace = reference::run(&m, &[120, -120, 3]).unwrap();
        let party = Party::new(&m, trace).unwrap();
        let walk = party.state_walk(5).unwrap();
        party.witness(&m, 4, 0, &walk).unwrap();
        let mut broken = walk.clone();
        broken[2].0 = B256::repeat_byte(1);
        assert!(matches!(
            party.witness(&m, 4, 0, &broken),
            Err(CoreError::ProofMismatch(_))
        ));
        assert!(matches!(
            party.witness(&m, 4, 0, &walk[1..]),
            Err(CoreError::InvalidMove(_))
        ));
        // A walk to another leaf does not chain on the way to slot 5.
        assert!(
            party
                .witness(&m, 4, 0, &party.state_walk(2).unwrap())
                .is_err()
        );
        // Another model's slots.
        assert!(matches!(
            party.witness(&clamps(5), 4, 0, &walk),
            Err(CoreError::Trace(_))
        ));
    }

    #[test]
    fn own_values_leave_nothing_to_dispute() {
        let m = padded_conv();
        let trace = reference::run(&m, &[1, 2, 3, 4]).unwrap();
        let party = Party::new(&m, trace).unwrap();
        let root = Position::ROOT;
        let (l, r) = party.tensor_children(1, &party.slot_roots()[1]).unwrap();
        assert!(matches!(
            party.pick_tensor(1, root, l, r),
            Err(CoreError::NoDifference(_))
        ));
        assert_eq!(
            party.pick_tensor(1, root, l, B256::ZERO).unwrap(),
            Side::Right
        );
        assert_eq!(
            party.pick_tensor(1, root, B256::ZERO, r).unwrap(),
            Side::Left
        );
        assert_eq!(
            party.pick_tensor(1, root, B256::ZERO, B256::ZERO).unwrap(),
            Side::Left
        );
        let (l, r) = party.state_children(&party.final_state()).unwrap();
        assert!(matches!(
            party.pick_state(root, l, r),
            Err(CoreError::NoDifference(_))
        ));
        assert_eq!(party.pick_state(root, l, B256::ZERO).unwrap(), Side::Right);
        assert_eq!(
            party.pick_state(root, B256::ZERO, B256::ZERO).unwrap(),
            Side::Left
        );
        let leaf = party.leaf_bytes(1, 3);
        assert!(matches!(
            party.differing_offset(1, 3, &leaf),
            Err(CoreError::NoDifference(_))
        ));
        let mut other = leaf;
        other[7] ^= 1;
        assert_eq!(party.differing_offset(1, 3, &other).unwrap(), 7);
    }

    #[test]
    fn positions_outside_the_game_are_errors() {
        let m = padded_conv();
        let trace = reference::run(&m, &[1, 2, 3, 4]).unwrap();
        let party = Party::new(&m, trace).unwrap();
        // Slot 1 is [3, 3, 1]: 9 leaves, depth 4, 16 leaf positions.
        assert_eq!(party.tensor_depth(1).unwrap(), 4);
        let leaf = Position {
            depth: 4,
            index: 15,
        };
        assert!(party.tensor_node(1, leaf).is_ok());
        assert_eq!(party.leaf_bytes(1, 15), [0; TENSOR_LEAF_BYTES]);
        let padding = party.tensor_node(1, leaf).unwrap();
        assert_eq!(
            party.tensor_leaf(1, &padding).unwrap(),
            [0; TENSOR_LEAF_BYTES]
        );
        assert!(party.pick_tensor(1, leaf, B256::ZERO, B256::ZERO).is_err());
        let below = Position { depth: 5, index: 0 };
        assert!(party.tensor_node(1, below).is_err());
        assert!(party.pick_tensor(1, below, B256::ZERO, B256::ZERO).is_err());
        let outside = Position { depth: 2, index: 4 };
        assert!(party.tensor_node(1, outside).is_err());
        assert!(
            party
                .pick_state(Position { depth: 1, index: 0 }, B256::ZERO, B256::ZERO)
                .is_err()
        );
        assert!(
            party
                .differing_offset(1, 16, &[0; TENSOR_LEAF_BYTES])
                .is_err()
        );
        assert!(party.tensor_depth(2).is_err());
        assert!(party.element(2, 0).is_err());
        assert!(party.element(1, 9).is_err());
        let walk = party.state_walk(1).unwrap();
        assert!(matches!(
            party.witness(&m, 1, 0, &walk),
            Err(CoreError::OutOfRange { what: "step", .. })
        ));
        assert!(party.witness(&m, 0, 9, &walk).is_err());
        assert!(party.element_of_leaf(1, 16, 0).is_err());
        assert!(party.with_state_leaf(2, B256::ZERO).is_err());
    }

    #[test]
    fn a_replaced_state_leaf_changes_the_final_state_and_cannot_be_opened() {
        let m = clamps(4);
        let trace = reference::run(&m, &[120, -120, 3]).unwrap();
        let honest = Party::new(&m, trace).unwrap();
        let junk = state_leaf(&B256::repeat_byte(9));
        // Five slots, depth 3: leaf 6 is padding.
        let liar = honest.clone().with_state_leaf(6, junk).unwrap();
        assert_ne!(liar.final_state(), honest.final_state());
        assert_eq!(liar.output_root(), honest.output_root());
        let walk = liar.state_walk(6).unwrap();
        assert_eq!(walk.last().unwrap().0, junk);
        assert!(liar.slot_root(&junk).is_err());
        // A replaced slot leaf opens to nothing either, though the slot's data is still there.
        let liar = honest.clone().with_state_leaf(2, junk).unwrap();
        assert!(liar.slot_root(&junk).is_err());
        assert!(
            liar.slot_root(&state_leaf(&honest.slot_roots()[2]))
                .is_err()
        );
        assert_eq!(
            liar.slot_root(&state_leaf(&honest.slot_roots()[3]))
                .unwrap(),
            honest.slot_roots()[3]
        );
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
        assert_eq!(party.final_state(), trace.commitments().final_state);
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
        assert_eq!(same.final_state(), party.final_state());
        // A trace whose shapes are not the model's.
        let mut wrong = padded_conv();
        wrong.input = Shape::vector(4);
        assert!(matches!(
            Party::new(&wrong, trace),
            Err(CoreError::Trace(_))
        ));
    }

    #[test]
    fn a_party_is_shared_across_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Party>();
    }
}
