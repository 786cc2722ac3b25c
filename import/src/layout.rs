//! ONNX (C, H, W) order versus Vouch (H, W, C) order, in one place.
//!
//! Every Vouch slot holds an `[H, W, C]` tensor row-major; the ONNX value it stands for is the same
//! tensor read in (C, H, W) order (a flattened image keeps its image slot). For a vector `[1, 1, N]`,
//! or any shape with `C = 1` or `H·W = 1`, the two orders coincide.

use crate::graph::FloatShape;
use vouch_core::Shape;

/// The Vouch shape of an ONNX value: `[N]` → `[1, 1, N]`, `[C, H, W]` → `[H, W, C]`.
pub fn vouch_shape(s: FloatShape) -> Shape {
    match s {
        FloatShape::Vector(n) => Shape::vector(n as u32),
        FloatShape::Image { c, h, w } => Shape::new(h as u32, w as u32, c as u32),
    }
}

/// The ONNX shape a Vouch input of `s` stands for: `[1, 1, N]` → `[N]`, `[H, W, C]` → `[C, H, W]`
/// (the inverse of [`vouch_shape`]).
pub fn onnx_shape(s: Shape) -> FloatShape {
    if s.rows() == 1 {
        FloatShape::Vector(s.c as usize)
    } else {
        FloatShape::Image {
            c: s.c as usize,
            h: s.h as usize,
            w: s.w as usize,
        }
    }
}

/// Whether (C, H, W) and (H, W, C) order are the same for `shape`.
pub fn same_order(shape: Shape) -> bool {
    shape.c == 1 || shape.rows() == 1
}

/// Index in (C, H, W) order of element `e` of an `[H, W, C]` tensor (its row-major index).
pub fn chw_index(shape: Shape, e: usize) -> usize {
    let (c, w) = (shape.c as usize, shape.w as usize);
    let (ch, pixel) = (e % c, e / c);
    let (y, x) = (pixel / w, pixel % w);
    (ch * shape.h as usize + y) * w + x
}

/// Reorders ONNX data (C, H, W) into the Vouch slot order (H, W, C) of `shape`.
pub fn to_vouch_order<T: Copy>(shape: Shape, chw: &[T]) -> Vec<T> {
    (0..shape.len()).map(|e| chw[chw_index(shape, e)]).collect()
}

/// Reorders a Vouch slot (H, W, C) of `shape` into ONNX (C, H, W) order.
pub fn to_onnx_order<T: Copy + Default>(shape: Shape, hwc: &[T]) -> Vec<T> {
    let mut out = vec![T::default(); hwc.len()];
    for (e, v) in hwc.iter().enumerate() {
        out[chw_index(shape, e)] = *v;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_matches_hand_example() {
        // C=2, H=1, W=3: ONNX [c0: a b c][c1: d e f] -> Vouch pixels (a d)(b e)(c f).
        let s = Shape::new(1, 3, 2);
        let chw = ['a', 'b', 'c', 'd', 'e', 'f'];
        let hwc = to_vouch_order(s, &chw);
        assert_eq!(hwc, ['a', 'd', 'b', 'e', 'c', 'f']);
        assert_eq!(to_onnx_order(s, &hwc), chw);
        assert!(same_order(Shape::new(4, 4, 1)) && same_order(Shape::vector(9)) && !same_order(s));
        for shape in [
            FloatShape::Vector(9),
            FloatShape::Image { c: 2, h: 1, w: 3 },
        ] {
            assert_eq!(onnx_shape(vouch_shape(shape)), shape);
        }
    }
}
