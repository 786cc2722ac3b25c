//! Positions of the game: the trace interval of phase 1, tensor-tree nodes of phase 2, and the element a
//! leaf byte stands for (PROTOCOL.md §6).

use crate::{
    commit::{TENSOR_LEAF_BYTES, leaves_per_row},
    error::{CoreError, Result},
    merkle::depth_for,
    shape::Shape,
};

/// Phase 1: the interval `(lo, hi)` of the trace where σ_lo is agreed and σ_hi disputed.
///
/// Starts at `(0, n)` (σ_0 is the contract's own, σ_n the defender's opening claim); each round the
/// defender reveals σ_mid with `mid = ⌊(lo + hi) / 2⌋` and the challenger's answer moves `lo` (agree)
/// or `hi` (disagree) to `mid`. It ends at `hi = lo + 1`: op `k = lo` is disputed. At most
/// `⌈log2 n⌉` rounds ([`TraceBisection::max_rounds`]); at least `⌊log2 n⌋`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceBisection {
    lo: usize,
    hi: usize,
}

impl TraceBisection {
    /// The opening interval `(0, n)` of a model with `n ≥ 1` ops.
    pub fn new(n: usize) -> Result<Self> {
        if n == 0 {
            return Err(CoreError::InvalidModel(
                "a model without ops has nothing to dispute".into(),
            ));
        }
        Ok(Self { lo: 0, hi: n })
    }

    /// Index of the last agreed state root.
    pub fn lo(&self) -> usize {
        self.lo
    }

    /// Index of the first disputed state root.
    pub fn hi(&self) -> usize {
        self.hi
    }

    /// The index `⌊(lo + hi) / 2⌋` whose state root the defender must reveal next, or `None` once the
    /// bisection has ended. Always strictly between `lo` and `hi`, so never 0 or `n`.
    pub fn mid(&self) -> Option<usize> {
        (self.hi - self.lo >= 2).then(|| (self.lo + self.hi) / 2)
    }

    /// The disputed step `k` (op `k`, writing slot `k + 1`) once the bisection has ended.
    pub fn step(&self) -> Option<usize> {
        (self.hi == self.lo + 1).then_some(self.lo)
    }

    /// The interval after the challenger's answer to σ_mid: `agrees` moves `lo` to `mid`, otherwise
    /// `hi` moves to `mid`. An error once the bisection has ended.
    pub fn answer(self, agrees: bool) -> Result<Self> {
        let mid = self.mid().ok_or_else(|| {
            CoreError::InvalidMove(format!("the trace bisection has ended at step {}", self.lo))
        })?;
        Ok(if agrees {
            Self { lo: mid, ..self }
        } else {
            Self { hi: mid, ..self }
        })
    }

    /// The most rounds phase 1 can take for `n` ops: `⌈log2 n⌉`.
    pub fn max_rounds(n: usize) -> u32 {
        depth_for(n)
    }
}

/// Which child of a tensor-tree node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The child at index `2i`.
    Left,
    /// The child at index `2i + 1`.
    Right,
}

/// Phase 2: a node of the disputed tensor's tree, `depth` levels below the root (0 is the root, the
/// tree's depth `D` the leaves) and `index` from the left on its level (`index < 2^depth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TensorPosition {
    /// Levels below the root.
    pub depth: u32,
    /// Index on its level, from the left.
    pub index: usize,
}

impl TensorPosition {
    /// The root, where phase 2 starts.
    pub const ROOT: Self = Self { depth: 0, index: 0 };

    /// The child on `side`: `(depth + 1, 2·index + side)`.
    pub fn child(self, side: Side) -> Self {
        Self {
            depth: self.depth + 1,
            index: 2 * self.index + usize::from(side == Side::Right),
        }
    }

    /// Whether this is a leaf of a tree of depth `tree_depth`.
    pub fn is_leaf(self, tree_depth: u32) -> bool {
        self.depth == tree_depth
    }

    /// Whether this node exists in a tree of depth `tree_depth`.
    pub fn is_in(self, tree_depth: u32) -> bool {
        self.depth <= tree_depth && self.index.checked_shr(self.depth).unwrap_or(0) == 0
    }
}

/// Depth `D` of the tree of a tensor of `shape` `[H, W, C]`: `⌈log2(H·W·⌈C/32⌉)⌉`, the number of
/// phase-2 rounds.
pub fn tensor_depth(shape: Shape) -> u32 {
    depth_for(shape.rows() * leaves_per_row(shape.c as usize))
}

/// What byte `j` of a tensor leaf stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Element {
    /// Element `e` (row-major index) of the tensor.
    Index(usize),
    /// A padding byte (past the last row, or past the row's `C` channels): its true value is 0.
    Padding,
}

/// The element byte `j ∈ [0, 32)` of leaf `leaf` holds in the tree of a tensor of `shape` `[H, W, C]`:
/// with `lpr = ⌈C/32⌉` leaves per row, row `r = leaf / lpr`, channel `c = (leaf mod lpr)·32 + j`;
/// padding if `r ≥ H·W` or `c ≥ C`, else element `r·C + c`. An error for a leaf outside the padded tree
/// (`leaf ≥ 2^D`) or `j ≥ 32`.
pub fn element_of_leaf(shape: Shape, leaf: usize, j: usize) -> Result<Element> {
    let leaves = 1usize << tensor_depth(shape);
    if leaf >= leaves {
        return Err(CoreError::OutOfRange {
            what: "tensor leaf",
            index: leaf,
            limit: leaves,
        });
    }
    if j >= TENSOR_LEAF_BYTES {
        return Err(CoreError::OutOfRange {
            what: "leaf byte offset",
            index: j,
            limit: TENSOR_LEAF_BYTES,
        });
    }
    let c = shape.c as usize;
    let lpr = leaves_per_row(c);
    let (row, channel) = (leaf / lpr, (leaf % lpr) * TENSOR_LEAF_BYTES + j);
    Ok(if row >= shape.rows() || channel >= c {
        Element::Padding
    } else {
        Element::Index(row * c + channel)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commit::tensor_leaves;
    use proptest::prelude::*;

    /// Plays phase 1 against a boundary: σ_i is agreed exactly when `i < first_disputed`.
    fn bisect(n: usize, first_disputed: usize) -> (usize, u32) {
        let mut b = TraceBisection::new(n).unwrap();
        let mut rounds = 0;
        while let Some(mid) = b.mid() {
            assert!(b.lo() < mid && mid < b.hi() && mid != 0 && mid != n);
            b = b.answer(mid < first_disputed).unwrap();
            rounds += 1;
        }
        (b.step().unwrap(), rounds)
    }

    #[test]
    fn small_bisections_by_hand() {
        assert_eq!(bisect(1, 1), (0, 0));
        // n = 3: mid 1; agreeing leaves (1, 3) and one more round, disagreeing ends at (0, 1).
        assert_eq!(bisect(3, 1), (0, 1));
        assert_eq!(bisect(3, 3), (2, 2));
        assert_eq!(bisect(8, 5), (4, 3));
        assert!(TraceBisection::new(0).is_err());
        let done = TraceBisection::new(1).unwrap();
        assert!(matches!(done.answer(true), Err(CoreError::InvalidMove(_))));
    }

    #[test]
    fn element_of_leaf_by_hand() {
        // [1, 2, 40]: two leaves per row, four real leaves, depth 2.
        let s = Shape::new(1, 2, 40);
        assert_eq!(tensor_depth(s), 2);
        assert_eq!(element_of_leaf(s, 0, 5).unwrap(), Element::Index(5));
        assert_eq!(element_of_leaf(s, 1, 7).unwrap(), Element::Index(39));
        assert_eq!(element_of_leaf(s, 1, 8).unwrap(), Element::Padding);
        assert_eq!(element_of_leaf(s, 2, 0).unwrap(), Element::Index(40));
        assert_eq!(element_of_leaf(s, 3, 31).unwrap(), Element::Padding);
        // [3, 1, 1]: three leaves pad to four; leaf 3 is all padding.
        let v = Shape::new(3, 1, 1);
        assert_eq!(element_of_leaf(v, 3, 0).unwrap(), Element::Padding);
        assert!(element_of_leaf(v, 4, 0).is_err());
        assert!(element_of_leaf(v, 0, 32).is_err());
    }

    proptest! {
        #[test]
        fn bisection_ends_at_the_first_disputed_step(n in 1usize..5000, pick in 0usize..5000) {
            // σ_0 is the contract's own, so the first disputed index is at least 1.
            let first = 1 + pick % n;
            let (k, rounds) = bisect(n, first);
            prop_assert_eq!(k, first - 1);
            prop_assert!(rounds <= TraceBisection::max_rounds(n));
            prop_assert!(rounds >= n.ilog2());
            if n.is_power_of_two() {
                prop_assert_eq!(rounds, TraceBisection::max_rounds(n));
            }
        }

        #[test]
        fn descending_by_the_bits_of_a_leaf_reaches_it(depth in 0u32..24, pick: usize) {
            let leaf = pick & ((1usize << depth) - 1);
            let mut pos = TensorPosition::ROOT;
            for level in (0..depth).rev() {
                prop_assert!(!pos.is_leaf(depth) && pos.is_in(depth));
                let side = if (leaf >> level) & 1 == 1 { Side::Right } else { Side::Left };
                pos = pos.child(side);
            }
            prop_assert!(pos.is_leaf(depth) && pos.is_in(depth));
            prop_assert_eq!(pos.index, leaf);
            prop_assert!(!pos.child(Side::Left).is_in(depth));
        }

        #[test]
        fn every_element_is_one_leaf_byte(h in 1u32..5, w in 1u32..5, c in 1u32..80) {
            let shape = Shape::new(h, w, c);
            // Every element nonzero and distinct modulo 255, so a byte identifies its element.
            let data: Vec<i8> = (0..shape.len()).map(|e| (e % 255 + 1) as u8 as i8).collect();
            let leaves = tensor_leaves(&data, c as usize);
            let mut seen = vec![0u32; shape.len()];
            for leaf in 0..1usize << tensor_depth(shape) {
                for j in 0..TENSOR_LEAF_BYTES {
                    let byte = leaves.get(leaf).map_or(0, |l| l[j]);
                    match element_of_leaf(shape, leaf, j).unwrap() {
                        Element::Index(e) => {
                            prop_assert_eq!(byte, data[e] as u8);
                            seen[e] += 1;
                        }
                        Element::Padding => prop_assert_eq!(byte, 0),
                    }
                }
            }
            prop_assert!(seen.iter().all(|&s| s == 1));
        }
    }
}
