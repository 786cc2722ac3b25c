//! Positions of the game (PROTOCOL.md §6): nodes of the final state's tree (phase Slots) and of the
//! disputed tensor's tree (phase Tensor), what a state leaf stands for, and the element a tensor-leaf
//! byte stands for.

use crate::{
    commit::{TENSOR_LEAF_BYTES, leaves_per_row},
    error::{CoreError, Result},
    merkle::{Tag, depth_for},
    shape::Shape,
};

/// The two trees a game walks down (`Tree` in the contracts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tree {
    /// The defender's final state σ_n: one leaf per slot (phase Slots).
    State,
    /// The tensor of the disputed slot (phase Tensor).
    Tensor,
}

impl Tree {
    /// The domain tag of its nodes and leaves.
    pub fn tag(self) -> Tag {
        match self {
            Tree::State => Tag::State,
            Tree::Tensor => Tag::Tensor,
        }
    }
}

/// Which child of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The child at index `2i`.
    Left,
    /// The child at index `2i + 1`.
    Right,
}

/// A node of a tree, `depth` levels below the root (0 is the root, the tree's depth `D` the leaves)
/// and `index` from the left on its level (`index < 2^depth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position {
    /// Levels below the root.
    pub depth: u32,
    /// Index on its level, from the left.
    pub index: usize,
}

impl Position {
    /// The root, where each walk starts.
    pub const ROOT: Self = Self { depth: 0, index: 0 };

    /// The child on `side`: `(depth + 1, 2·index + side)`.
    pub fn child(self, side: Side) -> Self {
        Self {
            depth: self.depth + 1,
            index: 2 * self.index + usize::from(side == Side::Right),
        }
    }

    /// Its ancestor at `depth` (itself at its own depth), or `None` below it.
    pub fn ancestor(self, depth: u32) -> Option<Self> {
        let up = self.depth.checked_sub(depth)?;
        Some(Self {
            depth,
            index: self.index >> up,
        })
    }

    /// Which child of its parent it is; `None` for the root.
    pub fn side(self) -> Option<Side> {
        (self.depth > 0).then_some(if self.index & 1 == 1 {
            Side::Right
        } else {
            Side::Left
        })
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

/// Depth `D_s = ⌈log2(n + 1)⌉` of the state tree of a model of `n` ops: the rounds of phase Slots.
pub fn state_depth(n: usize) -> u32 {
    depth_for(n + 1)
}

/// What leaf `j` of the state tree of a model of `n` ops stands for, which decides how the game goes
/// on when the walk reaches it (PROTOCOL.md §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    /// `j = 0`: the job's input; the contract compares the leaf with `leaf(0x02, inputRoot)`.
    Input,
    /// `1 ≤ j ≤ n`: the output of op `k = j − 1`, disputed in phase Tensor.
    Op(usize),
    /// `j > n`: padding; the contract compares the leaf with `leaf(0x02, 0)`.
    Padding,
}

/// What state leaf `j` is in a model of `n` ops ([`Slot`]); an error for `j ≥ 2^D_s`.
pub fn slot_of_leaf(n: usize, j: usize) -> Result<Slot> {
    let leaves = 1usize << state_depth(n);
    Ok(match j {
        _ if j >= leaves => {
            return Err(CoreError::OutOfRange {
                what: "state leaf",
                index: j,
                limit: leaves,
            });
        }
        0 => Slot::Input,
        _ if j <= n => Slot::Op(j - 1),
        _ => Slot::Padding,
    })
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

    #[test]
    fn state_leaves_by_hand() {
        // n = 4: five slots, depth 3, leaves 5..8 are padding.
        assert_eq!(state_depth(4), 3);
        assert_eq!(state_depth(1), 1);
        assert_eq!(state_depth(3), 2);
        assert_eq!(slot_of_leaf(4, 0).unwrap(), Slot::Input);
        assert_eq!(slot_of_leaf(4, 1).unwrap(), Slot::Op(0));
        assert_eq!(slot_of_leaf(4, 4).unwrap(), Slot::Op(3));
        assert_eq!(slot_of_leaf(4, 5).unwrap(), Slot::Padding);
        assert_eq!(slot_of_leaf(4, 7).unwrap(), Slot::Padding);
        assert!(slot_of_leaf(4, 8).is_err());
        // n = 3: exactly four slots, no padding.
        assert_eq!(slot_of_leaf(3, 3).unwrap(), Slot::Op(2));
        assert!(slot_of_leaf(3, 4).is_err());
        assert_eq!(Tree::State.tag(), Tag::State);
        assert_eq!(Tree::Tensor.tag(), Tag::Tensor);
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
        fn descending_by_the_bits_of_a_leaf_reaches_it(depth in 0u32..24, pick: usize) {
            let leaf = pick & ((1usize << depth) - 1);
            let mut pos = Position::ROOT;
            let mut path = vec![pos];
            for level in (0..depth).rev() {
                prop_assert!(!pos.is_leaf(depth) && pos.is_in(depth));
                let side = if (leaf >> level) & 1 == 1 { Side::Right } else { Side::Left };
                pos = pos.child(side);
                prop_assert_eq!(pos.side(), Some(side));
                path.push(pos);
            }
            prop_assert!(pos.is_leaf(depth) && pos.is_in(depth));
            prop_assert_eq!(pos.index, leaf);
            prop_assert!(!pos.child(Side::Left).is_in(depth));
            prop_assert_eq!(Position::ROOT.side(), None);
            for (d, node) in path.iter().enumerate() {
                prop_assert_eq!(pos.ancestor(d as u32), Some(*node));
            }
            prop_assert_eq!(Position::ROOT.ancestor(1), None);
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
