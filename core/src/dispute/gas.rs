//! An upper bound on the gas of one step on chain (`DisputeGame.step` → `OneStepProver.trueElement`),
//! so registration can refuse a model whose disputes could not be decided: a step that does not fit a
//! block can never be sent, the honest challenger would run out of time, and the lie would stand.
//!
//! The bound is an over-estimate assembled from the witness the worst element of an op needs (its
//! exact size follows from the shapes) and per-unit costs calibrated on the measurements in
//! `docs/GAS.md` (`cargo run -p vouch-bench --bin dispute-gas`, one-step and limit tables), each
//! rounded up: calldata at 16 gas a byte, the witness copied into memory twice (the market's call to
//! the prover and the prover's own decoding) at the EVM's quadratic memory price, 500 gas per tensor
//! leaf re-hashed (dense inputs), 200 per Merkle path step, 80 per multiply-accumulate, and a fixed
//! 450k for the game, the registry reads and the transaction; then a quarter on top. A unit test
//! holds the bound above every measured step and checks it refuses the probes that did not fit.

use crate::{
    commit::{TENSOR_LEAF_BYTES, leaves_per_row},
    merkle::depth_for,
    model::{Model, OpKind},
};

/// The most gas one step may need for a model to be listed: half of a 30M-gas block, and below the
/// 2^24 per-transaction cap of EIP-7825.
pub const MAX_STEP_GAS: u64 = 15_000_000;

const FIXED: u64 = 450_000;
const CALLDATA_PER_BYTE: u64 = 16;
const PER_LEAF_REHASHED: u64 = 500;
const PER_PATH_STEP: u64 = 200;
const PER_MAC: u64 = 80;
/// ABI words around each dynamic item (offsets and lengths), generously.
const ABI_WORDS_PER_ITEM: u64 = 6;

/// EVM memory cost of `bytes` bytes: `3·w + w²/512` for `w` words.
fn memory_gas(bytes: u64) -> u64 {
    let words = bytes.div_ceil(32);
    3 * words + words * words / 512
}

/// An upper bound on the gas of the one step of op `k` of `model` (a valid model's shapes), for its
/// worst element.
pub fn step_gas_bound(model: &Model, k: usize) -> u64 {
    let slots = model.slots();
    let op = &model.ops[k];
    let state_depth = u64::from(depth_for(model.op_count() + 1));
    let operands = op.kind.inputs();
    let input = slots[operands[0]].0;
    let tensor_depth = u64::from(depth_for(input.rows() * leaves_per_row(input.c as usize)));
    // (rows read, multiply-accumulates, bytes of rows or input, leaves re-hashed)
    let row_bytes = |rows: u64| {
        let lpr = leaves_per_row(input.c as usize) as u64;
        rows * (u64::from(input.c) + lpr * tensor_depth * 32 + ABI_WORDS_PER_ITEM * 32)
    };
    let row_steps = |rows: u64| rows * leaves_per_row(input.c as usize) as u64 * tensor_depth;
    let (data_bytes, path_steps, macs, rehashed) = match &op.kind {
        OpKind::Dense { .. } => {
            let k = input.len() as u64;
            // The whole input, re-hashed as a tensor, and one weight row of K.
            let leaves = (input.rows() * leaves_per_row(input.c as usize)) as u64;
            (2 * k + 9, 0, k, 2 * leaves)
        }
        OpKind::Conv2d { window, .. } => {
            let taps = u64::from(window.kh) * u64::from(window.kw);
            let k = taps * u64::from(input.c);
            (row_bytes(taps) + k + 9, row_steps(taps), k, 0)
        }
        OpKind::MaxPool { window, .. } | OpKind::AvgPool { window, .. } => {
            let taps = u64::from(window.kh) * u64::from(window.kw);
            (row_bytes(taps), row_steps(taps), taps, 0)
        }
        OpKind::Add { .. } => (row_bytes(2), row_steps(2), 2, 0),
        OpKind::Clamp { .. } | OpKind::Reshape { .. } => (row_bytes(1), row_steps(1), 1, 0),
    };
    let weight_steps = match &op.kind {
        OpKind::Dense { rows, .. } | OpKind::Conv2d { rows, .. } => {
            u64::from(depth_for(1 + rows.len()))
        }
        _ => 0,
    };
    let slot_bytes = operands.len() as u64 * (state_depth + 1 + ABI_WORDS_PER_ITEM) * 32;
    let witness = data_bytes + slot_bytes + weight_steps * 32 + TENSOR_LEAF_BYTES as u64 * 8;
    let paths = path_steps + weight_steps + operands.len() as u64 * state_depth;
    let estimate = FIXED
        + witness * CALLDATA_PER_BYTE
        + 2 * memory_gas(witness)
        + rehashed * PER_LEAF_REHASHED
        + paths * PER_PATH_STEP
        + macs * PER_MAC;
    // A quarter on top for what the unit costs leave out (ABI decoding, loop overhead).
    estimate + estimate / 4
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Shape,
        model::{ModelMeta, Op, WeightRow, Window},
        quant::Requant,
    };

    fn one_op(input: Shape, op: Op) -> Model {
        Model {
            input,
            input_zero: 0,
            ops: vec![op],
            meta: ModelMeta {
                name: "probe".into(),
                input_scale: 1.0,
                output_scale: 1.0,
                labels: Vec::new(),
            },
        }
    }

    fn row(k: usize) -> WeightRow {
        WeightRow {
            bias: 0,
            requant: Requant {
                multiplier: 1,
                shift: 20,
            },
            weights: vec![1; k],
        }
    }

    fn dense(input: Shape) -> Model {
        let op = Op {
            out: Shape::vector(1),
            z_out: 0,
            kind: OpKind::Dense {
                input: 0,
                z_x: 0,
                lo: -128,
                hi: 127,
                rows: vec![row(input.len())],
            },
        };
        one_op(input, op)
    }

    fn conv(side: u8) -> Model {
        let op = Op {
            out: Shape::new(1, 1, 1),
            z_out: 0,
            kind: OpKind::Conv2d {
                input: 0,
                z_x: 0,
                lo: -128,
                hi: 127,
                window: Window {
                    kh: side,
                    kw: side,
                    sh: 1,
                    sw: 1,
                    pt: 0,
                    pl: 0,
                },
                rows: vec![row(usize::from(side) * usize::from(side))],
            },
        };
        one_op(Shape::new(u32::from(side), u32::from(side), 1), op)
    }

    #[test]
    fn the_bound_covers_what_was_measured_and_refuses_what_cannot_fit() {
        // docs/GAS.md, limit probes: measured step gas, and whether it fits a 30M block.
        let cases = [
            (dense(Shape::vector(784)), 140_045, true),
            (dense(Shape::vector(65_536)), 5_700_000, true),
            (dense(Shape::new(256, 256, 1)), 37_000_000, false),
            (conv(3), 160_000, true),
            (conv(48), 35_800_000, false),
        ];
        for (model, measured, fits) in cases {
            let bound = step_gas_bound(&model, 0);
            assert!(
                bound >= measured,
                "bound {bound} below the measured {measured}"
            );
            assert_eq!(
                bound <= MAX_STEP_GAS,
                fits,
                "bound {bound} for a step of {measured}"
            );
        }
    }
}
