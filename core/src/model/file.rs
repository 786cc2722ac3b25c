//! The `.vouch` model file (PROTOCOL.md §4): magic, metadata, input, then each op's leaves.

use super::{MAX_OPS, Model, ModelMeta, Op, codec::Reader};
use crate::{
    error::{CoreError, Result},
    shape::Shape,
};

/// Magic bytes that open a `.vouch` model file.
pub const MODEL_MAGIC: &[u8; 8] = b"VOUCHM02";

impl Model {
    /// Serialises to the `.vouch` file format (PROTOCOL.md §4).
    pub fn to_bytes(&self) -> Vec<u8> {
        let meta = serde_json::to_vec(&self.meta).expect("metadata always serialises");
        let mut out = MODEL_MAGIC.to_vec();
        out.extend_from_slice(&(meta.len() as u32).to_be_bytes());
        out.extend_from_slice(&meta);
        out.extend_from_slice(&self.input.to_bytes());
        out.push(self.input_zero as u8);
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
        let input = Shape::new(r.u32()?, r.u32()?, r.u32()?);
        let input_zero = r.i8()?;
        let op_count = r.u32()? as usize;
        if op_count == 0 || op_count > MAX_OPS {
            return Err(CoreError::Decode(format!(
                "op count {op_count} out of range"
            )));
        }
        // Not `with_capacity(op_count)`: the count is the file's word, not yet backed by bytes.
        let mut ops = Vec::new();
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
            input,
            input_zero,
            ops,
            meta,
        };
        model.validate()?;
        Ok(model)
    }

    /// Reads and validates a `.vouch` file.
    pub fn load(path: &std::path::Path) -> Result<Self> {
        Self::from_bytes(&std::fs::read(path)?)
    }
}
