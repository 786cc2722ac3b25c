//! The canonical byte encodings of docs/LLM_INT.md §8.2: the elements of a slot tensor (big-endian,
//! two's complement) and, beside them, the model's rows a one-step witness carries (what the
//! on-chain `LlmOps` reads).

use super::{Dense, Gain};
use crate::gguf::BLOCK;
use vouch_core::quant::Requant;

/// A slot tensor's element type: its width and its big-endian bytes.
pub trait Element: Copy {
    /// Bytes per element.
    const WIDTH: usize;

    /// Appends the element's big-endian bytes.
    fn put(self, out: &mut Vec<u8>);
}

macro_rules! element {
    ($($t:ty),*) => {$(
        impl Element for $t {
            const WIDTH: usize = std::mem::size_of::<$t>();

            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_be_bytes());
            }
        }
    )*};
}

element!(i16, u16, i32);

/// The big-endian bytes of a row of elements.
pub fn row_bytes<E: Element>(row: &[E]) -> Vec<u8> {
    let mut out = Vec::with_capacity(row.len() * E::WIDTH);
    row.iter().for_each(|&e| e.put(&mut out));
    out
}

/// Entries of the SiLU table per leaf (32 bytes of i16).
pub const SILU_PER_LEAF: usize = 16;

/// The packing of a matrix's `q`: 4 when every `q` lies in `0..=15` (GGUF's Q4 blocks), else 8 (int8).
pub fn bits(w: &Dense) -> u8 {
    if w.q.iter().all(|&q| (0..=15).contains(&q)) {
        4
    } else {
        8
    }
}

/// Weight row `n` of a dense: `M i32 | s u8 | D i16 × nb | N i16 × nb | q`, `nb = cols/32`, `q` packed
/// per [`bits`]: 4-bit as GGUF's Q4 within each block of 32 (element `j < 16` the low nibble of byte
/// `j`, element `j ≥ 16` the high nibble of byte `j − 16`; 16 bytes a block), or int8 (32 bytes a block).
pub fn weight_row(w: &Dense, n: usize) -> Vec<u8> {
    let (k, nb) = (w.cols, w.cols / BLOCK);
    let q = &w.q[n * k..][..k];
    let packed = bits(w) == 4;
    let mut out = Vec::with_capacity(5 + 4 * nb + if packed { k / 2 } else { k });
    put_requant(w.requant[n], &mut out);
    out.extend(row_bytes(&w.d[n * nb..][..nb]));
    out.extend(row_bytes(&w.n[n * nb..][..nb]));
    if packed {
        for block in q.chunks(BLOCK) {
            let (lo, hi) = block.split_at(BLOCK / 2);
            // Every q is in 0..=15 here (bits), so each fits its nibble.
            out.extend(
                lo.iter()
                    .zip(hi)
                    .map(|(&l, &h)| (l as u8) | ((h as u8) << 4)),
            );
        }
    } else {
        // Every q is in −127..=127 (the model's validation): its int8 byte.
        out.extend(q.iter().map(|&v| v as i8 as u8));
    }
    out
}

/// Row `n` of the embedding table (EMBED and HEAD): `Me i32 | se u8 |` [`weight_row`], the gather's
/// requantization `embed_requant[n]` before the head's row.
pub fn table_row(embed: &Dense, embed_requant: &[Requant], n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    put_requant(embed_requant[n], &mut out);
    out.extend(weight_row(embed, n));
    out
}

/// An RMSNorm's gain row: `F u8 | G i32 × K`.
pub fn gain_row(gain: &Gain) -> Vec<u8> {
    let mut out = vec![gain.frac];
    out.extend(row_bytes(&gain.g));
    out
}

/// The EXP table as one row: `i32 × T`.
pub fn exp_row(exp: &[i32]) -> Vec<u8> {
    row_bytes(exp)
}

/// RoPE row `p` of the `[positions × half]` tables: `C i16 × half | S i16 × half`.
pub fn rope_row(cos: &[i16], sin: &[i16], p: usize, half: usize) -> Vec<u8> {
    let mut out = row_bytes(&cos[p * half..][..half]);
    out.extend(row_bytes(&sin[p * half..][..half]));
    out
}

/// Leaf `j` of the SiLU table: entries `16j … 16j + 15` as i16, the last leaf zero-filled.
pub fn silu_leaf(table: &[i16], j: usize) -> [u8; 32] {
    let mut leaf = [0u8; 32];
    let entries = table.iter().skip(j * SILU_PER_LEAF).take(SILU_PER_LEAF);
    for (slot, &v) in leaf.chunks_mut(2).zip(entries) {
        slot.copy_from_slice(&v.to_be_bytes());
    }
    leaf
}

/// `M i32 | s u8`.
fn put_requant(r: Requant, out: &mut Vec<u8>) {
    r.multiplier.put(out);
    out.push(r.shift);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_endian_twos_complement() {
        assert_eq!(row_bytes(&[-2i16, 258]), [0xff, 0xfe, 0x01, 0x02]);
        assert_eq!(row_bytes(&[32768u16]), [0x80, 0x00]);
        assert_eq!(row_bytes(&[-1i32]), [0xff; 4]);
    }

    fn rq(multiplier: i32, shift: u8) -> Requant {
        Requant { multiplier, shift }
    }

    /// One row of one block: D = 4096, N = −32767 (docs/LLM_INT.md §3.3), `q(j)` for element j.
    fn one_block(q: impl Fn(usize) -> i16) -> Dense {
        Dense {
            rows: 1,
            cols: 32,
            q: (0..32).map(q).collect(),
            d: vec![4096],
            n: vec![-32767],
            requant: vec![rq(0x0102_0304, 40)],
        }
    }

    #[test]
    fn four_bit_rows_pack_two_elements_a_byte_in_gguf_order() {
        // q_j = j mod 16: byte j holds q_j (low nibble) and q_{j+16} (high nibble), both j.
        let w = one_block(|j| (j % 16) as i16);
        assert_eq!(bits(&w), 4);
        let mut want = vec![0x01, 0x02, 0x03, 0x04, 40, 0x10, 0x00, 0x80, 0x01];
        want.extend((0..16u8).map(|j| j | (j << 4)));
        assert_eq!(weight_row(&w, 0), want);
        // Distinct halves: q_0 = 3, q_16 = 15 → byte 0 = 0xf3.
        let w = one_block(|j| match j {
            0 => 3,
            16 => 15,
            _ => 0,
        });
        let mut want = vec![0u8; 16];
        want[0] = 0xf3;
        assert_eq!(weight_row(&w, 0)[9..], want);
    }

    #[test]
    fn eight_bit_rows_hold_int8() {
        // One q below zero makes the whole matrix 8-bit.
        let w = one_block(|j| if j == 1 { -127 } else { j as i16 });
        assert_eq!(bits(&w), 8);
        let row = weight_row(&w, 0);
        assert_eq!(row.len(), 5 + 4 + 32);
        assert_eq!(row[9..12], [0x00, 0x81, 0x02]);
        assert_eq!(row[40], 31);
    }

    #[test]
    fn later_rows_take_their_own_blocks_and_requant() {
        let w = Dense {
            rows: 2,
            cols: 64,
            q: (0..128).map(|i| (i / 64) as i16).collect(),
            d: vec![1, 2, 3, 4],
            n: vec![-1, -2, -3, -4],
            requant: vec![rq(7, 20), rq(-2, 21)],
        };
        let row = weight_row(&w, 1);
        assert_eq!(
            row[..13],
            [
                0xff, 0xff, 0xff, 0xfe, 21, 0, 3, 0, 4, 0xff, 0xfd, 0xff, 0xfc
            ]
        );
        assert_eq!(row[13..], [0x11; 32]);
        // The table row puts the gather's (M, s) in front.
        let table = table_row(&w, &[rq(1, 1), rq(1_125_899_907, 40)], 1);
        assert_eq!(table[..5], [0x43, 0x1b, 0xde, 0x83, 40]);
        assert_eq!(table[5..], row);
    }

    #[test]
    fn gain_exp_and_rope_rows() {
        let g = Gain {
            g: vec![1_073_676_288, -1],
            frac: 17,
        };
        assert_eq!(
            gain_row(&g),
            [17, 0x3f, 0xff, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(exp_row(&[1 << 20, 1]), [0, 0x10, 0, 0, 0, 0, 0, 1]);
        // Two positions of half = 2: row 1 is C[1] then S[1].
        let (cos, sin) = ([16384, 1, -16220, 2], [0, 5, 2312, -6]);
        assert_eq!(
            rope_row(&cos, &sin, 1, 2),
            [0xc0, 0xa4, 0x00, 0x02, 0x09, 0x08, 0xff, 0xfa]
        );
    }

    #[test]
    fn silu_leaves_hold_sixteen_entries_the_last_zero_filled() {
        let table: Vec<i16> = (0..65535).map(|j: i32| (j - 32767) as i16).collect();
        let first = silu_leaf(&table, 0);
        assert_eq!(first[..4], [0x80, 0x01, 0x80, 0x02]);
        // Leaf 2047 holds entries 32752 … 32767: x = −15 … 0.
        assert_eq!(silu_leaf(&table, 2047)[30..], [0, 0]);
        // Leaf 4095 holds entries 65520 … 65534 (x = 32753 … 32767) and one zero entry.
        let last = silu_leaf(&table, 4095);
        assert_eq!(last[..2], [0x7f, 0xf1]);
        assert_eq!(last[28..], [0x7f, 0xff, 0, 0]);
    }
}
