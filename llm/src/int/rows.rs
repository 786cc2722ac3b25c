//! The canonical byte encodings of docs/LLM_INT.md §8.2: the elements of a slot tensor (big-endian,
//! two's complement) and, beside them, the model's rows a one-step witness carries.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_endian_twos_complement() {
        assert_eq!(row_bytes(&[-2i16, 258]), [0xff, 0xfe, 0x01, 0x02]);
        assert_eq!(row_bytes(&[32768u16]), [0x80, 0x00]);
        assert_eq!(row_bytes(&[-1i32]), [0xff; 4]);
    }
}
