//! Tensor shapes: `[H, W, C]` row-major (NHWC with the batch of one dropped). A vector is `[1, 1, N]`.

use serde::{Deserialize, Serialize};

/// The shape of a slot tensor. Its *rows* are its `H·W` pixels of `C` elements each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shape {
    /// Height.
    pub h: u32,
    /// Width.
    pub w: u32,
    /// Channels: the row length, contiguous in memory.
    pub c: u32,
}

impl Shape {
    /// `[h, w, c]`.
    pub const fn new(h: u32, w: u32, c: u32) -> Self {
        Self { h, w, c }
    }

    /// A vector of `n` elements: `[1, 1, n]`.
    pub const fn vector(n: u32) -> Self {
        Self { h: 1, w: 1, c: n }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.h as usize * self.w as usize * self.c as usize
    }

    /// Whether it holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of rows (pixels).
    pub fn rows(&self) -> usize {
        self.h as usize * self.w as usize
    }

    /// Non-empty and at most [`crate::model::MAX_TENSOR_LEN`] elements.
    pub fn is_valid(&self) -> bool {
        let len = u64::from(self.h) * u64::from(self.w) * u64::from(self.c);
        len >= 1 && len <= crate::model::MAX_TENSOR_LEN as u64
    }

    /// Row-major index of element `(y, x, ch)`.
    pub fn index(&self, y: usize, x: usize, ch: usize) -> usize {
        (y * self.w as usize + x) * self.c as usize + ch
    }

    /// `u32 H ‖ u32 W ‖ u32 C`, big-endian.
    pub fn to_bytes(&self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[..4].copy_from_slice(&self.h.to_be_bytes());
        b[4..8].copy_from_slice(&self.w.to_be_bytes());
        b[8..].copy_from_slice(&self.c.to_be_bytes());
        b
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}, {}, {}]", self.h, self.w, self.c)
    }
}
