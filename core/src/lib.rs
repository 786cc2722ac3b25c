//! Vouch's shared vocabulary, with no I/O beyond reading and writing its own files: the canonical
//! quantized model, the typed int8 tensor, the reference interpreter (the executable spec, which
//! `vouch-burn` runs bit-identically on Burn), the keccak256 commitments to tensors, final states,
//! trace roots and models, and the dispute game's positions, moves and one-step witnesses (see
//! `docs/PROTOCOL.md`); and the Prometheus text format the daemons' metrics are written in.

pub mod commit;
pub mod dispute;
pub mod durable;
pub mod error;
pub mod merkle;
pub mod metrics;
pub mod model;
pub mod quant;
pub mod random;
pub mod reference;
pub mod shape;
pub mod tensor;
pub mod trace;

pub use alloy_primitives::{Address, B256};
pub use error::{CoreError, Result};
pub use model::Model;
pub use shape::Shape;
pub use trace::{Commitments, Trace};
