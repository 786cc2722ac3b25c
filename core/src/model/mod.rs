//! The canonical model (PROTOCOL.md §2–4): its types, their byte encoding, the registration rules and
//! the `.vouch` file.

mod codec;
mod file;
mod types;
mod validate;

pub(crate) use codec::decode_row;
pub use codec::{OP_ADD, OP_AVGPOOL, OP_CLAMP, OP_CONV2D, OP_DENSE, OP_MAXPOOL, OP_RESHAPE};
pub use file::MODEL_MAGIC;
pub use types::{Model, ModelMeta, Op, OpKind, Operand, QuantInfo, WeightRow, Window};
pub use validate::{MAX_K, MAX_OPS, MAX_STATE_DEPTH, MAX_TENSOR_DEPTH, MAX_TENSOR_LEN};
