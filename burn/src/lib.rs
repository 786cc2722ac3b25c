//! Vouch's executor: the canonical model of `vouch-core` run on Burn, bit-identical to the reference
//! interpreter (`vouch_core::reference`), on a batch of inputs at once.
//!
//! - `backend`: which Burn backend and device (flex, ndarray, wgpu behind the `wgpu` feature).
//! - `requant`: the requantization formula as tensor ops, in i64 or in i32 only.
//! - `prepare`: a model uploaded once: weights per matmul mode, gather indices, requantizers.
//! - `run`: inputs through the prepared ops, every slot read back into a `Trace`.
//! - [`llm`]: the integer language model of `vouch-llm` ([`BurnLm`]), bit-identical to its
//!   reference forward pass, with its own exactness argument.
//!
//! Every slot lives on the device as a flat `[batch, len]` i32 tensor in row-major (H, W, C) order.
//! Windowed ops gather their taps with index tensors built once at load time (im2col), with padding
//! taps pointing at one extra element appended to the input: `0` after subtracting the zero point for
//! convolution (padding holds the zero point), `−128` for max-pooling.
//!
//! Exactness:
//! - Dense/conv accumulators: `bias + Σ (x − z_x)·w`, bounded by registration below 2^31, so the i32
//!   integer matmul never wraps ([`MatmulMode::Int`]). The f32 path ([`MatmulMode::F32Chunked`]) splits
//!   the reduction into chunks of at most [`F32_CHUNK`] terms: each term is an integer with
//!   `|x − z_x| ≤ 255` and `|w| ≤ 127`, so the sum of absolute values of one chunk is at most
//!   `512 · 255 · 127 = 16 581 120 < 2^24`. Every partial sum, in any order and with or without FMA, is
//!   then an integer below 2^24 in magnitude, which f32 represents exactly; the chunk results are cast
//!   to integers and added in i32.
//! - Requantization runs in i64 ([`IntArith::I64`]): `acc·M + 2^(s−1)` stays below 2^63 and the right
//!   shift is arithmetic (`wrapping_shr` on signed integers), so it is the protocol's formula bit for bit.
//! - Devices without 64-bit integers (wgpu adapters lacking `SHADER_INT64`) use [`IntArith::I32`],
//!   where no value ever leaves i32. Dense, conv and average-pool outputs are a monotone step function
//!   of the accumulator with at most 256 values in `[lo, hi]`, so each channel's thresholds are
//!   computed exactly on the host (in i128) and the output is `lo` plus the number of thresholds below
//!   the accumulator, found by an 8-probe binary search (`Requantizer::thresholds`). Adds, whose
//!   output depends on two inputs, split each multiplier into 16-bit halves and carry between two
//!   i32 limbs (`add_narrow`). The tests check both against the formula at its extremes.

mod backend;
mod error;
pub mod llm;
mod prepare;
mod requant;
mod run;

pub use backend::BurnBackend;
pub use error::{BurnError, Result};
pub use llm::{BurnCache, BurnLm};
pub use prepare::{BurnModel, F32_CHUNK, MatmulMode};
pub use requant::IntArith;
