//! GGUF files of the llama architecture: hyper-parameters, tokenizer metadata and weight tensors.
//!
//! The container is parsed by `candle-core`'s GGUF reader (bounded: every length is checked against
//! the file size before anything is allocated); this module turns its entries into the typed
//! values the rest of the crate needs and decodes the weight blocks (Q4_0, Q4_1, Q8_0, F16, F32).

use crate::error::{LlmError, Result};
use candle_core::quantized::{GgmlDType, gguf_file};
use half::f16;
use std::{
    fs::File,
    io::{Read, Seek, SeekFrom},
    panic::{AssertUnwindSafe, catch_unwind},
    path::{Path, PathBuf},
};

/// Elements per quantization block (every supported type's block, and the integer model's).
pub const BLOCK: usize = 32;

/// A parsed GGUF file: its metadata in memory, tensors read on demand.
pub struct Gguf {
    path: PathBuf,
    content: gguf_file::Content,
}

/// The storage type of one weight tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightType {
    /// 32-bit floats.
    F32,
    /// 16-bit floats.
    F16,
    /// Blocks of 32: an f16 scale `d` and 4-bit `q`, `w = d·(q − 8)`.
    Q4_0,
    /// Blocks of 32: f16 `d` and `m` and 4-bit `q`, `w = d·q + m`.
    Q4_1,
    /// Blocks of 32: an f16 scale `d` and int8 `q`, `w = d·q`.
    Q8_0,
}

impl WeightType {
    fn of(dtype: GgmlDType, name: &str) -> Result<Self> {
        Ok(match dtype {
            GgmlDType::F32 => Self::F32,
            GgmlDType::F16 => Self::F16,
            GgmlDType::Q4_0 => Self::Q4_0,
            GgmlDType::Q4_1 => Self::Q4_1,
            GgmlDType::Q8_0 => Self::Q8_0,
            other => {
                return Err(LlmError::Unsupported(format!(
                    "tensor {name} is {other:?}; supported: F32, F16, Q4_0, Q4_1, Q8_0"
                )));
            }
        })
    }

    /// Bytes of one block of [`BLOCK`] elements.
    fn block_bytes(self) -> usize {
        match self {
            Self::F32 => 4 * BLOCK,
            Self::F16 => 2 * BLOCK,
            Self::Q4_0 => 18,
            Self::Q4_1 => 20,
            Self::Q8_0 => 34,
        }
    }
}

/// One weight tensor as stored: `rows` × `cols` elements (`cols` innermost) in blocks of 32.
#[derive(Debug, Clone)]
pub struct RawTensor {
    /// Its name in the file.
    pub name: String,
    /// Storage type.
    pub kind: WeightType,
    /// Rows (output channels of a projection; 1 for a vector).
    pub rows: usize,
    /// Elements per row.
    pub cols: usize,
    /// The stored bytes, `rows · cols / 32` blocks.
    pub bytes: Vec<u8>,
}

/// A weight matrix as integer blocks: `w[r][k] = d[r][k/32] · q[r][k] + m[r][k/32]`.
///
/// Exact for Q4_0, Q4_1 and Q8_0 (their own `d`, `m`, `q`); F16 and F32 weights are rounded to int8
/// per block (`d = max |w| / 127`, `m = 0`), the only lossy step of the import.
#[derive(Debug, Clone)]
pub struct BlockRows {
    /// Rows.
    pub rows: usize,
    /// Elements per row (a multiple of 32).
    pub cols: usize,
    /// Per block scale, `rows · cols / 32`.
    pub d: Vec<f32>,
    /// Per block offset.
    pub m: Vec<f32>,
    /// The integer of every element: 0..=15 for 4-bit types, −127..=127 otherwise.
    pub q: Vec<i8>,
}

impl Gguf {
    /// Parses the header, metadata and tensor directory of a GGUF file (tensors stay on disk).
    pub fn open(path: &Path) -> Result<Self> {
        let io = |e: std::io::Error| LlmError::Io(format!("{}: {e}", path.display()));
        let mut file = File::open(path).map_err(io)?;
        let unreadable = |e: String| {
            LlmError::Format(format!("{}: not a readable GGUF file: {e}", path.display()))
        };
        // candle-core 0.11.1's reader divides by `general.alignment` unchecked: a file declaring 0
        // panics inside it, so a panic there is this file's error, not the process's.
        let content = catch_unwind(AssertUnwindSafe(|| gguf_file::Content::read(&mut file)))
            .map_err(|_| unreadable("the reader failed on a malformed header".into()))?
            .map_err(|e| unreadable(e.to_string()))?;
        // The spec's alignment is a u32 power of two; another one places the tensors elsewhere.
        if let Some(a) = content.metadata.get("general.alignment")
            && !matches!(a, gguf_file::Value::U32(a) if a.is_power_of_two())
        {
            return Err(unreadable(format!(
                "general.alignment {a:?} is not a u32 power of two"
            )));
        }
        Ok(Self {
            path: path.to_path_buf(),
            content,
        })
    }

    fn value(&self, key: &str) -> Result<&gguf_file::Value> {
        self.content.metadata.get(key).ok_or_else(|| {
            LlmError::Format(format!(
                "{}: metadata key {key} is missing",
                self.path.display()
            ))
        })
    }

    fn typed<T>(
        &self,
        key: &str,
        read: impl Fn(&gguf_file::Value) -> candle_core::Result<T>,
    ) -> Result<T> {
        read(self.value(key)?).map_err(|e| LlmError::Format(format!("metadata {key}: {e}")))
    }

    /// A string entry.
    pub fn string(&self, key: &str) -> Result<String> {
        self.typed(key, |v| v.to_string().cloned())
    }

    /// An unsigned integer entry of any width.
    pub fn usize(&self, key: &str) -> Result<usize> {
        let v = self.typed(key, |v| match v {
            gguf_file::Value::U8(x) => Ok(u64::from(*x)),
            gguf_file::Value::U16(x) => Ok(u64::from(*x)),
            gguf_file::Value::U32(x) => Ok(u64::from(*x)),
            other => other.to_u64(),
        })?;
        usize::try_from(v)
            .map_err(|_| LlmError::Format(format!("metadata {key}: {v} is too large")))
    }

    /// A float entry.
    pub fn f32(&self, key: &str) -> Result<f32> {
        self.typed(key, |v| match v {
            gguf_file::Value::F64(x) => Ok(*x as f32),
            other => other.to_f32(),
        })
    }

    /// An array of strings.
    pub fn strings(&self, key: &str) -> Result<Vec<String>> {
        self.typed(key, |v| {
            v.to_vec()?.iter().map(|s| s.to_string().cloned()).collect()
        })
    }

    /// An array of integers (any integer type that fits i64).
    pub fn integers(&self, key: &str) -> Result<Vec<i64>> {
        self.typed(key, |v| {
            v.to_vec()?
                .iter()
                .map(|x| match x {
                    gguf_file::Value::I32(i) => Ok(i64::from(*i)),
                    gguf_file::Value::U32(i) => Ok(i64::from(*i)),
                    gguf_file::Value::I8(i) => Ok(i64::from(*i)),
                    gguf_file::Value::U8(i) => Ok(i64::from(*i)),
                    other => other.to_i64(),
                })
                .collect()
        })
    }

    /// Whether the file has a tensor of this name.
    pub fn has_tensor(&self, name: &str) -> bool {
        self.content.tensor_infos.contains_key(name)
    }

    /// Reads one tensor's bytes, checking its type, its size against the file and that its rows
    /// are whole blocks.
    pub fn tensor(&self, name: &str) -> Result<RawTensor> {
        let info = self.content.tensor_infos.get(name).ok_or_else(|| {
            LlmError::Format(format!("{}: tensor {name} is missing", self.path.display()))
        })?;
        let kind = WeightType::of(info.ggml_dtype, name)?;
        let dims = info.shape.dims();
        let (rows, cols) = match *dims {
            [n] => (1, n),
            [r, c] => (r, c),
            _ => {
                return Err(LlmError::Format(format!(
                    "tensor {name} has shape {dims:?}, expected 1 or 2 dimensions"
                )));
            }
        };
        if cols == 0 || !cols.is_multiple_of(BLOCK) {
            return Err(LlmError::Format(format!(
                "tensor {name}: rows of {cols} elements are not whole blocks of {BLOCK}"
            )));
        }
        let len = rows
            .checked_mul(cols / BLOCK)
            .and_then(|b| b.checked_mul(kind.block_bytes()))
            .ok_or_else(|| LlmError::Format(format!("tensor {name}: shape {dims:?} overflows")))?;
        let io = |e: std::io::Error| LlmError::Io(format!("{}: {name}: {e}", self.path.display()));
        let mut file = File::open(&self.path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        let start = self.content.tensor_data_offset.saturating_add(info.offset);
        if start.saturating_add(len as u64) > size {
            return Err(LlmError::Format(format!(
                "tensor {name} needs {len} bytes at offset {start}, the file has {size}"
            )));
        }
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        let mut bytes = vec![0u8; len];
        file.read_exact(&mut bytes).map_err(io)?;
        Ok(RawTensor {
            name: name.to_string(),
            kind,
            rows,
            cols,
            bytes,
        })
    }
}

fn half_at(b: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([b[at], b[at + 1]]).to_f32()
}

impl RawTensor {
    /// Every element as f32 (the dequantization llama.cpp and the `gguf` Python package compute).
    pub fn to_f32(&self) -> Vec<f32> {
        match self.kind {
            WeightType::F32 => self
                .bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            WeightType::F16 => self.bytes.chunks_exact(2).map(|c| half_at(c, 0)).collect(),
            _ => {
                let b = self.to_blocks();
                b.q.iter()
                    .enumerate()
                    .map(|(i, &q)| b.d[i / BLOCK] * f32::from(q) + b.m[i / BLOCK])
                    .collect()
            }
        }
    }

    /// The tensor as integer blocks ([`BlockRows`]).
    pub fn to_blocks(&self) -> BlockRows {
        let blocks = self.rows * self.cols / BLOCK;
        let mut d = Vec::with_capacity(blocks);
        let mut m = Vec::with_capacity(blocks);
        let mut q = Vec::with_capacity(blocks * BLOCK);
        let nibbles = |q: &mut Vec<i8>, packed: &[u8], shift: i8| {
            q.extend(packed.iter().map(|&x| (x & 15) as i8 + shift));
            q.extend(packed.iter().map(|&x| (x >> 4) as i8 + shift));
        };
        match self.kind {
            WeightType::Q4_0 => {
                for blk in self.bytes.chunks_exact(18) {
                    let scale = half_at(blk, 0);
                    d.push(scale);
                    m.push(-8.0 * scale);
                    nibbles(&mut q, &blk[2..18], 0);
                }
            }
            WeightType::Q4_1 => {
                for blk in self.bytes.chunks_exact(20) {
                    d.push(half_at(blk, 0));
                    m.push(half_at(blk, 2));
                    nibbles(&mut q, &blk[4..20], 0);
                }
            }
            WeightType::Q8_0 => {
                for blk in self.bytes.chunks_exact(34) {
                    d.push(half_at(blk, 0));
                    m.push(0.0);
                    q.extend(blk[2..34].iter().map(|&x| x as i8));
                }
            }
            WeightType::F32 | WeightType::F16 => {
                for blk in self.to_f32().chunks_exact(BLOCK) {
                    let amax = blk.iter().fold(0f32, |a, &w| a.max(w.abs()));
                    let scale = if amax > 0.0 { amax / 127.0 } else { 1.0 };
                    d.push(scale);
                    m.push(0.0);
                    q.extend(
                        blk.iter()
                            .map(|&w| (w / scale).round().clamp(-127.0, 127.0) as i8),
                    );
                }
            }
        }
        BlockRows {
            rows: self.rows,
            cols: self.cols,
            d,
            m,
            q,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f16b(x: f32) -> [u8; 2] {
        f16::from_f32(x).to_le_bytes()
    }

    #[test]
    fn q4_1_nibbles_low_half_first() {
        // d = 0.5, m = -1: element j < 16 is the low nibble of byte j, j ≥ 16 the high nibble of j − 16.
        let mut bytes = Vec::new();
        bytes.extend(f16b(0.5));
        bytes.extend(f16b(-1.0));
        bytes.extend((0u8..16).map(|j| j | ((15 - j) << 4)));
        let t = RawTensor {
            name: "t".into(),
            kind: WeightType::Q4_1,
            rows: 1,
            cols: 32,
            bytes,
        };
        let w = t.to_f32();
        assert_eq!(w[0], -1.0);
        assert_eq!(w[3], 0.5);
        assert_eq!(w[16], 6.5);
        assert_eq!(w[31], -1.0);
        let b = t.to_blocks();
        assert_eq!((b.q[5], b.q[16 + 5]), (5, 10));
    }

    #[test]
    fn q4_0_and_q8_0_are_exact_as_blocks() {
        let mut q40 = Vec::from(f16b(0.25));
        q40.extend([0x8fu8; 16]);
        let t = RawTensor {
            name: "a".into(),
            kind: WeightType::Q4_0,
            rows: 1,
            cols: 32,
            bytes: q40,
        };
        assert_eq!(t.to_f32()[0], 0.25 * 7.0);
        assert_eq!(t.to_f32()[16], 0.0);
        let mut q80 = Vec::from(f16b(2.0));
        q80.extend((0..32).map(|i| (i as i8 - 16) as u8));
        let t = RawTensor {
            name: "b".into(),
            kind: WeightType::Q8_0,
            rows: 1,
            cols: 32,
            bytes: q80,
        };
        assert_eq!(t.to_f32()[0], -32.0);
        assert_eq!(t.to_blocks().q[31], 15);
    }

    #[test]
    fn float_weights_round_to_int8_blocks() {
        let w: Vec<f32> = (0..32).map(|i| i as f32 - 8.0).collect();
        let bytes = w.iter().flat_map(|x| x.to_le_bytes()).collect();
        let t = RawTensor {
            name: "f".into(),
            kind: WeightType::F32,
            rows: 1,
            cols: 32,
            bytes,
        };
        let b = t.to_blocks();
        assert_eq!(b.q[31], 127);
        assert!((b.d[0] - 23.0 / 127.0).abs() < 1e-7);
    }
}
