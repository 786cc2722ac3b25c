//! Imports float ONNX models into Vouch's canonical int8 [`vouch_core::Model`].
//!
//! 1. [`load_onnx`] parses an ONNX file (with `onnx-ir`) into a normalized [`FloatGraph`] (NCHW,
//!    like ONNX), refusing unsupported operators and attributes with the node's name.
//! 2. [`FloatGraph::forward`] is the plain-Rust float reference; [`BurnFloatModel`] runs the same
//!    graph on Burn in f32 (the benchmark baseline).
//! 3. [`quantize`] calibrates activation ranges and emits a validated model plus a [`QuantReport`].
//! 4. [`evaluate`] measures quantized and float accuracy on a [`Dataset`].
//!
//! Layout (ONNX (C, H, W) versus Vouch (H, W, C)) is handled in [`layout`] only.

pub mod burn_float;
pub mod dataset;
pub mod error;
pub mod eval;
pub mod graph;
pub mod layout;
pub mod onnx;
pub mod quantize;
pub mod report;

pub use burn_float::BurnFloatModel;
pub use dataset::Dataset;
pub use error::{ImportError, Result};
pub use eval::{EvalReport, evaluate, quantize_input};
pub use graph::{FloatGraph, FloatNode, FloatOp, FloatShape, Geometry};
pub use onnx::{load_onnx, parse_onnx};
pub use quantize::{Calibration, ImportOptions, quantize};
pub use report::{LayerReport, QuantReport, ReducedRow};
