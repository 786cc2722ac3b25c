//! The canonical model: ops, their byte encoding, validation and the `.vouch` file (PROTOCOL.md §2–4).

use crate::{
    error::{CoreError, Result},
    quant::Requant,
};
use serde::{Deserialize, Serialize};

/// Op code of [`Dense`].
pub const OP_DENSE: u8 = 0x01;
/// Op code of [`Relu`].
pub const OP_RELU: u8 = 0x02;
/// Magic bytes that open a `.vouch` model file.
pub const MODEL_MAGIC: &[u8; 8] = b"VOUCHM01";
/// Largest reduction size a dense op may have (keeps one-step witnesses bounded).
pub const MAX_K: u32 = 1 << 16;
/// Largest tensor a v1 model may produce or take.
pub const MAX_TENSOR_LEN: u32 = 1 << 20;

/// How real numbers map to a tensor's int8 elements: `real = scale · (q − zero_point)`.
///
/// Metadata only: it helps a client quantize inputs and read outputs, and never enters the result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QuantInfo {
    /// Real value of one quantization step.
    pub scale: f32,
    /// The int8 value that stands for real 0.
    pub zero_point: i8,
}

/// Descriptive metadata carried in the model file but not committed to by the model root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// Human-readable name.
    pub name: String,
    /// Quantization of the input tensor (slot 0).
    pub input: QuantInfo,
    /// Quantization of the output tensor (slot n).
    pub output: QuantInfo,
    /// Optional class labels, one per output element.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

/// One output row of a dense op: everything one output element depends on, besides the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DenseRow {
    /// Added to the accumulator before requantization.
    pub bias: i32,
    /// Requantization of this row.
    pub requant: Requant,
    /// `[K]` int8 weights.
    pub weights: Vec<i8>,
}

/// Fully connected layer: `[K] -> [N]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dense {
    /// State slot it reads.
    pub input_slot: u16,
    /// Reduction size (input length).
    pub k: u32,
    /// Output length.
    pub n: u32,
    /// Input zero point.
    pub z_x: i8,
    /// Output zero point.
    pub z_y: i8,
    /// Lower clamp (`z_y` for a fused ReLU).
    pub lo: i8,
    /// Upper clamp.
    pub hi: i8,
    /// `[N]` rows, each `[K]` weights.
    pub rows: Vec<DenseRow>,
}

/// `y = max(x, z)` elementwise: `[L] -> [L]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relu {
    /// State slot it reads.
    pub input_slot: u16,
    /// Tensor length.
    pub len: u32,
    /// Zero point of input and output.
    pub zero_point: i8,
}

/// One step of a model. Op `k` reads slots `≤ k` and writes slot `k + 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Fully connected layer.
    Dense(Dense),
    /// Rectifier.
    Relu(Relu),
}

impl Op {
    /// The slots this op reads.
    pub fn input_slots(&self) -> Vec<usize> {
        match self {
            Op::Dense(d) => vec![usize::from(d.input_slot)],
            Op::Relu(r) => vec![usize::from(r.input_slot)],
        }
    }

    /// Length of the tensor this op writes.
    pub fn output_len(&self) -> usize {
        match self {
            Op::Dense(d) => d.n as usize,
            Op::Relu(r) => r.len as usize,
        }
    }

    /// Zero point of the tensor this op writes.
    pub fn output_zero_point(&self) -> i8 {
        match self {
            Op::Dense(d) => d.z_y,
            Op::Relu(r) => r.zero_point,
        }
    }

    /// The leaves of this op's tree: its spec, then its weight rows (PROTOCOL.md §3.1).
    pub fn leaves(&self) -> Vec<Vec<u8>> {
        match self {
            Op::Dense(d) => {
                let mut spec = vec![OP_DENSE];
                spec.extend_from_slice(&d.input_slot.to_be_bytes());
                spec.extend_from_slice(&d.k.to_be_bytes());
                spec.extend_from_slice(&d.n.to_be_bytes());
                spec.extend([d.z_x as u8, d.z_y as u8, d.lo as u8, d.hi as u8]);
                let mut out = vec![spec];
                out.extend(d.rows.iter().map(|row| {
                    let mut b = Vec::with_capacity(9 + row.weights.len());
                    b.extend_from_slice(&row.bias.to_be_bytes());
                    b.extend_from_slice(&row.requant.multiplier.to_be_bytes());
                    b.push(row.requant.shift);
                    b.extend(row.weights.iter().map(|&w| w as u8));
                    b
                }));
                out
            }
            Op::Relu(r) => {
                let mut spec = vec![OP_RELU];
                spec.extend_from_slice(&r.input_slot.to_be_bytes());
                spec.extend_from_slice(&r.len.to_be_bytes());
                spec.push(r.zero_point as u8);
                vec![spec]
            }
        }
    }

    /// Decodes an op from its leaves (the inverse of [`Op::leaves`]).
    pub fn from_leaves(leaves: &[Vec<u8>]) -> Result<Self> {
        let (spec, rows) = leaves
            .split_first()
            .ok_or_else(|| CoreError::Decode("op has no spec leaf".into()))?;
        let mut r = Reader::new(spec);
        let op = match r.u8()? {
            OP_DENSE => {
                let input_slot = r.u16()?;
                let k = r.u32()?;
                let n = r.u32()?;
                let (z_x, z_y, lo, hi) = (r.i8()?, r.i8()?, r.i8()?, r.i8()?);
                r.finish("dense spec")?;
                if rows.len() != n as usize {
                    return Err(CoreError::Decode(format!(
                        "dense op declares {n} rows but has {}",
                        rows.len()
                    )));
                }
                let rows = rows
                    .iter()
                    .map(|leaf| {
                        let mut r = Reader::new(leaf);
                        let bias = r.i32()?;
                        let multiplier = r.i32()?;
                        let shift = r.u8()?;
                        let weights = r.rest().iter().map(|&b| b as i8).collect::<Vec<_>>();
                        if weights.len() != k as usize {
                            return Err(CoreError::Decode(format!(
                                "dense row has {} weights, K is {k}",
                                weights.len()
                            )));
                        }
                        Ok(DenseRow {
                            bias,
                            requant: Requant { multiplier, shift },
                            weights,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Op::Dense(Dense {
                    input_slot,
                    k,
                    n,
                    z_x,
                    z_y,
                    lo,
                    hi,
                    rows,
                })
            }
            OP_RELU => {
                let input_slot = r.u16()?;
                let len = r.u32()?;
                let zero_point = r.i8()?;
                r.finish("relu spec")?;
                if !rows.is_empty() {
                    return Err(CoreError::Decode("relu op has weight rows".into()));
                }
                Op::Relu(Relu {
                    input_slot,
                    len,
                    zero_point,
                })
            }
            code => return Err(CoreError::Decode(format!("unknown op code {code:#04x}"))),
        };
        Ok(op)
    }
}

/// A canonical quantized model: the ops, the input length, and descriptive metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Elements in the input tensor (slot 0).
    pub input_len: u32,
    /// The ops, in execution order.
    pub ops: Vec<Op>,
    /// Metadata, not committed to.
    pub meta: ModelMeta,
}

impl Model {
    /// Number of ops, `n`. The state table has `n + 1` slots.
    pub fn op_count(&self) -> usize {
        self.ops.len()
    }

    /// Elements in the output tensor (slot n).
    pub fn output_len(&self) -> usize {
        self.ops.last().map_or(0, Op::output_len)
    }

    /// `(length, zero point)` of every slot, input first.
    pub fn slot_shapes(&self) -> Vec<(usize, i8)> {
        std::iter::once((self.input_len as usize, self.meta.input.zero_point))
            .chain(
                self.ops
                    .iter()
                    .map(|op| (op.output_len(), op.output_zero_point())),
            )
            .collect()
    }

    /// Checks every registration rule: op wiring, shapes, zero points, requantization ranges,
    /// and the overflow bound `K·max|x − z_x|·max|w| + |bias| < 2^31` (PROTOCOL.md §1.2).
    pub fn validate(&self) -> Result<()> {
        if self.ops.is_empty() {
            return Err(CoreError::InvalidModel(
                "a model needs at least one op".into(),
            ));
        }
        if self.input_len == 0 || self.input_len > MAX_TENSOR_LEN {
            return Err(CoreError::InvalidModel(format!(
                "input length {} outside 1..={MAX_TENSOR_LEN}",
                self.input_len
            )));
        }
        if self.ops.len() >= usize::from(u16::MAX) {
            return Err(CoreError::InvalidModel("too many ops".into()));
        }
        let shapes = self.slot_shapes();
        if !self.meta.labels.is_empty() && self.meta.labels.len() != self.output_len() {
            return Err(CoreError::InvalidModel(format!(
                "{} labels for {} outputs",
                self.meta.labels.len(),
                self.output_len()
            )));
        }
        for (k, op) in self.ops.iter().enumerate() {
            let bad = |reason: String| CoreError::InvalidOp { op: k, reason };
            for slot in op.input_slots() {
                if slot > k {
                    return Err(bad(format!(
                        "reads slot {slot}, only slots 0..={k} exist yet"
                    )));
                }
            }
            match op {
                Op::Dense(d) => {
                    let (len, zp) = shapes[usize::from(d.input_slot)];
                    if d.k as usize != len {
                        return Err(bad(format!(
                            "K = {} but slot {} has {len} elements",
                            d.k, d.input_slot
                        )));
                    }
                    if d.z_x != zp {
                        return Err(bad(format!(
                            "z_x = {} but slot {} has zero point {zp}",
                            d.z_x, d.input_slot
                        )));
                    }
                    if d.k == 0 || d.k > MAX_K {
                        return Err(bad(format!("K = {} outside 1..={MAX_K}", d.k)));
                    }
                    if d.n == 0 || d.n > MAX_TENSOR_LEN {
                        return Err(bad(format!("N = {} outside 1..={MAX_TENSOR_LEN}", d.n)));
                    }
                    if d.rows.len() != d.n as usize {
                        return Err(bad(format!("{} rows for N = {}", d.rows.len(), d.n)));
                    }
                    if d.lo > d.hi {
                        return Err(bad(format!("clamp lo {} > hi {}", d.lo, d.hi)));
                    }
                    let max_x = i64::from(d.z_x) + 128;
                    let max_x = max_x.max(127 - i64::from(d.z_x));
                    for (n, row) in d.rows.iter().enumerate() {
                        if row.weights.len() != d.k as usize {
                            return Err(bad(format!(
                                "row {n} has {} weights for K = {}",
                                row.weights.len(),
                                d.k
                            )));
                        }
                        if !row.requant.is_valid() {
                            return Err(bad(format!(
                                "row {n}: multiplier {} / shift {} outside [1, 2^31-1] / [1, 62]",
                                row.requant.multiplier, row.requant.shift
                            )));
                        }
                        let max_w = row
                            .weights
                            .iter()
                            .map(|w| i64::from(*w).abs())
                            .max()
                            .unwrap_or(0);
                        let bound = i64::from(d.k) * max_x * max_w + i64::from(row.bias).abs();
                        if bound >= 1 << 31 {
                            return Err(bad(format!(
                                "row {n}: accumulator bound {bound} ≥ 2^31 (K·max|x−z_x|·max|w| + |bias|)"
                            )));
                        }
                    }
                }
                Op::Relu(r) => {
                    let (len, zp) = shapes[usize::from(r.input_slot)];
                    if r.len as usize != len {
                        return Err(bad(format!(
                            "length {} but slot {} has {len} elements",
                            r.len, r.input_slot
                        )));
                    }
                    if r.zero_point != zp {
                        return Err(bad(format!(
                            "zero point {} but slot {} has zero point {zp}",
                            r.zero_point, r.input_slot
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// Serialises to the `.vouch` file format (PROTOCOL.md §4).
    pub fn to_bytes(&self) -> Vec<u8> {
        let meta = serde_json::to_vec(&self.meta).expect("metadata always serialises");
        let mut out = MODEL_MAGIC.to_vec();
        out.extend_from_slice(&(meta.len() as u32).to_be_bytes());
        out.extend_from_slice(&meta);
        out.extend_from_slice(&self.input_len.to_be_bytes());
        out.extend_from_slice(&(self.output_len() as u32).to_be_bytes());
        out.extend_from_slice(&(self.ops.len() as u32).to_be_bytes());
        for op in &self.ops {
            let leaves = op.leaves();
            out.extend_from_slice(&(leaves.len() as u32).to_be_bytes());
            for leaf in leaves {
                out.extend_from_slice(&(leaf.len() as u32).to_be_bytes());
                out.extend_from_slice(&leaf);
            }
        }
        out
    }

    /// Parses a `.vouch` file and validates the model.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        if r.take(8)? != MODEL_MAGIC {
            return Err(CoreError::Decode(
                "not a Vouch model file (bad magic)".into(),
            ));
        }
        let meta_len = r.u32()? as usize;
        let meta: ModelMeta = serde_json::from_slice(r.take(meta_len)?)
            .map_err(|e| CoreError::Decode(format!("metadata: {e}")))?;
        let input_len = r.u32()?;
        let output_len = r.u32()?;
        let op_count = r.u32()? as usize;
        if op_count == 0 || op_count >= usize::from(u16::MAX) {
            return Err(CoreError::Decode(format!(
                "op count {op_count} out of range"
            )));
        }
        let mut ops = Vec::with_capacity(op_count);
        for k in 0..op_count {
            let leaf_count = r.u32()? as usize;
            let leaves = (0..leaf_count)
                .map(|_| {
                    let len = r.u32()? as usize;
                    Ok(r.take(len)?.to_vec())
                })
                .collect::<Result<Vec<_>>>()?;
            ops.push(
                Op::from_leaves(&leaves).map_err(|e| CoreError::Decode(format!("op {k}: {e}")))?,
            );
        }
        r.finish("model file")?;
        let model = Self {
            input_len,
            ops,
            meta,
        };
        if model.output_len() != output_len as usize {
            return Err(CoreError::Decode(format!(
                "header says output length {output_len}, the ops produce {}",
                model.output_len()
            )));
        }
        model.validate()?;
        Ok(model)
    }

    /// Reads and validates a `.vouch` file.
    pub fn load(path: &std::path::Path) -> Result<Self> {
        Self::from_bytes(&std::fs::read(path)?)
    }
}

/// A bounds-checked big-endian cursor over bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| {
                CoreError::Decode(format!(
                    "truncated: need {n} bytes at offset {}, have {}",
                    self.pos,
                    self.bytes.len() - self.pos
                ))
            })?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        Ok(self.take(N)?.try_into().expect("take returned N bytes"))
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    fn i8(&mut self) -> Result<i8> {
        Ok(self.u8()? as i8)
    }

    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    fn rest(&mut self) -> &'a [u8] {
        let s = &self.bytes[self.pos..];
        self.pos = self.bytes.len();
        s
    }

    fn finish(&self, what: &str) -> Result<()> {
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(CoreError::Decode(format!(
                "{} trailing bytes after {what}",
                self.bytes.len() - self.pos
            )))
        }
    }
}
