//! The limits that keep every dispute decidable and every bond sufficient (PROTOCOL.md §6.8).
//!
//! **One step.** The step transaction of an op's worst element must reach a block: geth-family
//! txpools drop transactions over 128 KiB, so its calldata (the ABI encoding of
//! `DisputeGame.step(uint256 gameId, StepWitness witness)`, selector included) may be at most
//! [`MAX_STEP_CALLDATA`], and its gas bound at most [`MAX_STEP_GAS`]. [`worst_step`] counts both from
//! the shapes alone: the calldata exactly (a unit test checks it against witnesses the game builds and
//! against steps measured on anvil), the gas as an over-estimate with per-unit costs calibrated on the
//! measurements in `docs/GAS.md` (`cargo run -p vouch-bench --bin dispute-gas`), each rounded up:
//! calldata at EIP-7623's floor (40 gas a byte, every byte counted as non-zero), the witness copied
//! into memory twice (the game's call to the prover and the prover's own decoding) at the EVM's
//! quadratic memory price, 500 gas per tensor leaf re-hashed (dense inputs), 200 per Merkle path
//! step, 80 per multiply-accumulate, and a fixed 450k for the game, the registry reads and the
//! transaction; then a quarter on top. `contracts/src/lib/LibLimits.sol` computes the same integers,
//! and the registry refuses an op over either cap at `sealOp`.
//!
//! **Bonds.** A game costs the defender one opening, `D_s` node reveals down the state tree, one slot
//! reveal, `D_t` node reveals down the disputed tensor and one leaf reveal
//! ([`defender_game_gas`]); `validate` bounds `D_s` (through [`crate::model::MAX_OPS`]) and `D_t`
//! (through [`crate::model::MAX_TENSOR_LEN`]), so [`DEFENDER_GAME_GAS`] covers every game on every
//! model that lists. The per-transaction figures are estimates rounded up from the v2 game's
//! measured reveals; they are to be recalibrated on the new game contract.

use crate::{
    commit::leaves_per_row,
    merkle::depth_for,
    model::{MAX_STATE_DEPTH, MAX_TENSOR_DEPTH, Model, OpKind},
    shape::Shape,
};

/// The most calldata one step may need: 96 KiB, under the 128 KiB geth-family txpools accept.
pub const MAX_STEP_CALLDATA: u64 = 98_304;

/// The most gas one step may need for a model to be listed: half of a 30M-gas block, and below the
/// 2^24 per-transaction cap of EIP-7825.
pub const MAX_STEP_GAS: u64 = 15_000_000;

const GAS_FIXED: u64 = 450_000;
/// EIP-7623's floor for a non-zero byte (10 for a zero byte; every byte is counted as non-zero).
const GAS_PER_CALLDATA_BYTE: u64 = 40;
const GAS_PER_LEAF_REHASHED: u64 = 500;
const GAS_PER_PATH_STEP: u64 = 200;
const GAS_PER_MAC: u64 = 80;

/// Selector, `gameId` and the witness's offset (4 + 2·32), the witness's five head words and the
/// length words of its five dynamic members.
const CALL_HEAD: u64 = 4 + 64 + 160 + 160;
/// One `SlotProof`: its offset in the array, root, path offset, path length (plus 32 per sibling).
const SLOT_FIXED: u64 = 128;
/// One `RowProof`: its offset in the array, data and path offsets, data and path lengths (plus 32
/// per data word and per sibling).
const ROW_FIXED: u64 = 160;
/// Bytes of a weight-row leaf before its weights: bias i32, M i32, s u8.
const ROW_HEADER: u64 = 9;

/// What the step transaction of an op's worst element carries and does, counted from the shapes
/// (the Solidity mirror is `StepCost` in `LibLimits.sol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StepCost {
    /// Exact ABI-encoded calldata of `DisputeGame.step(gameId, witness)`, selector included.
    pub calldata_bytes: u64,
    /// Merkle path steps the prover climbs (slot, row and weight paths).
    pub path_steps: u64,
    /// Multiply-accumulates (or taps) of the element.
    pub macs: u64,
    /// Tensor leaves hashed to check a dense input, counted twice (leaf and tree).
    pub rehashed: u64,
}

impl StepCost {
    /// An upper bound on the gas of a step that costs this much.
    pub fn gas_bound(&self) -> u64 {
        let words = self.calldata_bytes.div_ceil(32);
        let memory = 3 * words + words.saturating_mul(words) / 512;
        let estimate = GAS_FIXED
            + self.calldata_bytes * GAS_PER_CALLDATA_BYTE
            + 2 * memory
            + self.rehashed * GAS_PER_LEAF_REHASHED
            + self.path_steps * GAS_PER_PATH_STEP
            + self.macs * GAS_PER_MAC;
        // A quarter on top for what the unit costs leave out (ABI decoding, loop overhead).
        estimate + estimate / 4
    }

    /// Adds `rows` rows of a tensor of shape `s`: each its bytes and one path per leaf.
    fn add_rows(&mut self, s: Shape, rows: u64) {
        let lpr = leaves_per_row(s.c as usize) as u64;
        let depth = u64::from(depth_for(s.rows() * lpr as usize));
        self.calldata_bytes += rows * (ROW_FIXED + 32 * lpr * (1 + depth));
        self.path_steps += rows * lpr * depth;
    }
}

/// The step of op `k`'s worst element (the one whose witness is largest; PROTOCOL.md §6.4), for a
/// model whose op `k` reads only earlier slots (as [`Model::validate`] checks first).
pub fn worst_step(model: &Model, k: usize) -> StepCost {
    let op = &model.ops[k];
    let operands = op.kind.inputs();
    let a = model.slot_shape(operands[0]);
    let state_depth = u64::from(depth_for(model.op_count() + 1));
    let slots = operands.len() as u64;
    let mut cost = StepCost {
        calldata_bytes: CALL_HEAD + slots * (SLOT_FIXED + 32 * state_depth),
        path_steps: slots * state_depth,
        ..StepCost::default()
    };
    let window_rows = |w: &crate::model::Window| {
        max_taps(a.h, w.kh, w.sh, w.pt, op.out.h) * max_taps(a.w, w.kw, w.sw, w.pl, op.out.w)
    };
    let rows = match &op.kind {
        OpKind::Dense { rows, .. } | OpKind::Conv2d { rows, .. } => {
            let reduction = match &op.kind {
                OpKind::Conv2d { window, .. } => {
                    u64::from(window.kh) * u64::from(window.kw) * u64::from(a.c)
                }
                _ => a.len() as u64,
            };
            let weight_depth = u64::from(depth_for(1 + rows.len()));
            cost.calldata_bytes += pad32(ROW_HEADER + reduction) + 32 * weight_depth;
            cost.path_steps += weight_depth;
            cost.macs = reduction;
            match &op.kind {
                OpKind::Conv2d { window, .. } => window_rows(window),
                _ => {
                    // The whole input, re-hashed as a tensor.
                    cost.calldata_bytes += pad32(reduction);
                    cost.rehashed = 2 * (a.rows() * leaves_per_row(a.c as usize)) as u64;
                    0
                }
            }
        }
        OpKind::MaxPool { window, .. } => {
            cost.macs = u64::from(window.kh) * u64::from(window.kw);
            window_rows(window)
        }
        OpKind::AvgPool { window, .. } => {
            cost.macs = u64::from(window.kh) * u64::from(window.kw);
            cost.macs
        }
        OpKind::Add { b, .. } => {
            cost.add_rows(model.slot_shape(usize::from(b.slot)), 1);
            cost.macs = 2;
            1
        }
        OpKind::Clamp { .. } | OpKind::Reshape { .. } => {
            cost.macs = 1;
            1
        }
    };
    cost.add_rows(a, rows);
    cost
}

/// The exact calldata, selector included, of the step transaction of op `k`'s worst element.
pub fn step_calldata_bytes(model: &Model, k: usize) -> u64 {
    worst_step(model, k).calldata_bytes
}

/// An upper bound on the gas of the step of op `k`'s worst element.
pub fn step_gas_bound(model: &Model, k: usize) -> u64 {
    worst_step(model, k).gas_bound()
}

/// The most kernel taps along one axis that lie inside an input of extent `x`, over the `out`
/// output positions of a window of size `k`, stride `s` and leading padding `p`.
///
/// Output `o` covers `min(k, x, k + o·s − p, x + p − o·s)` taps inside (at least 0): that rises
/// until `o·s = (x + 2p − k) / 2` and falls after, so the maximum is at the output just below or just
/// above that point (clamped to the outputs). The same closed form as `LibLimits.maxTaps`.
fn max_taps(x: u32, k: u8, s: u8, p: u8, out: u32) -> u64 {
    let (x, k, s, p) = (u64::from(x), u64::from(k), u64::from(s), u64::from(p));
    let last = u64::from(out).saturating_sub(1);
    let o = if x + 2 * p > k {
        (x + 2 * p - k) / (2 * s.max(1))
    } else {
        0
    }
    .min(last);
    let taps = |a: u64| {
        if k + a <= p || x + p <= a {
            0
        } else {
            k.min(x).min(k + a - p).min(x + p - a)
        }
    };
    let best = taps(s * o);
    if o < last {
        best.max(taps(s * (o + 1)))
    } else {
        best
    }
}

fn pad32(n: u64) -> u64 {
    n.div_ceil(32) * 32
}

// Whole-transaction gas (21k base and calldata included) of each game move, from the v3 contract's
// measurements (forge's gas report for execution, plus the base and the calldata) rounded up by at
// least 7 %; `challenger/tests/swarm.rs` holds every receipt of a real game on anvil below them.

/// Gas of the defender's opening (`revealOpening`: the final state and the output's path) before its
/// path (measured: 102k execution).
pub const OPENING_GAS: u64 = 140_000;
/// Gas of each sibling of the opening's path (32 calldata bytes at the floor, one hash), rounded up.
pub const OPENING_GAS_PER_LEVEL: u64 = 2_000;
/// Gas of one `revealNode`, state or tensor tree (measured: 106k execution, most of it the
/// per-result reveal cache).
pub const NODE_REVEAL_GAS: u64 = 140_000;
/// Gas of the defender's `revealSlot` (measured: 82k execution).
pub const SLOT_REVEAL_GAS: u64 = 115_000;
/// Gas of the defender's `revealLeaf` (measured: 82k execution).
pub const LEAF_REVEAL_GAS: u64 = 115_000;
/// Gas of a challenger's `pick`, at most (measured: 186k execution for the pick that reaches a slot,
/// reads its op spec or decides the game; 83k for the others).
pub const PICK_GAS: u64 = 220_000;
/// Gas of a challenger's `nameElement` (measured: 56k execution).
pub const NAME_ELEMENT_GAS: u64 = 90_000;

/// The defender's gas for a whole game (PROTOCOL.md §6.1–6.3) on a model whose state tree is
/// `state_depth` deep, disputing a slot whose tensor tree is `tensor_depth` deep: the opening (a
/// path of `state_depth`), `state_depth` node reveals, the slot reveal, `tensor_depth` node reveals,
/// the leaf reveal.
pub const fn defender_game_gas(state_depth: u32, tensor_depth: u32) -> u64 {
    let (ds, dt) = (state_depth as u64, tensor_depth as u64);
    OPENING_GAS
        + OPENING_GAS_PER_LEVEL * ds
        + NODE_REVEAL_GAS * (ds + dt)
        + SLOT_REVEAL_GAS
        + LEAF_REVEAL_GAS
}

/// The defender's gas for the worst game on any model `validate` accepts (state tree 20 deep,
/// tensor tree 22 deep): 6,290,000. `vouch deploy` sizes the challenger bond from it.
pub const DEFENDER_GAME_GAS: u64 = defender_game_gas(MAX_STATE_DEPTH, MAX_TENSOR_DEPTH);

/// The costliest challenger move that is not the step (`pick`, `nameElement`): what the deployment
/// parameter `moveReward` pays, at an assumed gas price.
pub const CHALLENGER_MOVE_GAS: u64 = if PICK_GAS > NAME_ELEMENT_GAS {
    PICK_GAS
} else {
    NAME_ELEMENT_GAS
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Shape,
        model::{MAX_OPS, ModelMeta, Op, WeightRow, Window},
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

    fn conv(side: u8, c: u32) -> Model {
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
                rows: vec![row(usize::from(side) * usize::from(side) * c as usize)],
            },
        };
        one_op(Shape::new(u32::from(side), u32::from(side), c), op)
    }

    #[test]
    fn the_bound_covers_what_was_measured_and_refuses_what_cannot_fit() {
        // docs/GAS.md, limit probes: measured step gas, and whether the bound lists the op (those it
        // refuses did not fit a 30M block or EIP-7825's 2^24 per transaction).
        let cases = [
            (dense(Shape::vector(784)), 140_045, true),
            (dense(Shape::vector(4096)), 534_093, true),
            (dense(Shape::new(64, 64, 1)), 1_995_061, true),
            (dense(Shape::new(192, 192, 1)), 18_802_100, false),
            (dense(Shape::new(256, 256, 1)), 36_960_330, false),
            (conv(3, 1), 160_000, true),
            (conv(8, 1), 820_595, true),
            (conv(48, 1), 35_783_467, false),
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

    #[test]
    fn calldata_equals_the_steps_measured_on_anvil() {
        // docs/GAS.md, limit probes: the step calldata of one-op models, ABI-encoded by alloy.
        let cases = [
            (dense(Shape::vector(4096)), 8_804),
            (dense(Shape::vector(65_536)), 131_684),
            (dense(Shape::new(256, 256, 1)), 131_684),
            (conv(3, 7281), 921_220),
            (conv(8, 1), 25_252),
            (conv(16, 1), 115_556),
            (conv(32, 1), 525_924),
        ];
        for (model, measured) in cases {
            assert_eq!(
                step_calldata_bytes(&model, 0),
                measured,
                "{:?}",
                model.input
            );
        }
    }

    #[test]
    fn calldata_equals_the_worst_steps_of_the_example_models_measured_on_anvil() {
        // docs/GAS.md, "One step per op kind": every op's step at an interior element (all taps
        // inside the input: the worst element), ABI-encoded by alloy and sent to anvil.
        let measured: [(&str, &[u64]); 5] = [
            ("digits-cnn", &[4228, 2148, 3748, 1892, 900]),
            ("digits-mlp-64-256-10", &[1028, 1252]),
            ("digits-mlp-64-32-10", &[932, 804]),
            ("digits-resmlp", &[996, 996, 1412, 900]),
            ("mnist-mlp-784-128-10", &[2436, 996]),
        ];
        for (name, steps) in measured {
            let path = format!("{}/../models/{name}.vouch", env!("CARGO_MANIFEST_DIR"));
            let model = Model::load(std::path::Path::new(&path)).unwrap();
            let counted: Vec<u64> = (0..model.op_count())
                .map(|k| step_calldata_bytes(&model, k))
                .collect();
            assert_eq!(counted, steps, "{name}");
        }
    }

    #[test]
    fn the_cap_holds_at_its_boundary_from_both_sides() {
        // A step's calldata is 4 + 32·m bytes, so none is exactly 96 KiB: 98,276 is the largest
        // that lists (a dense layer with K = 48,832) and 98,308 the next (K = 48,855).
        let under = dense(Shape::vector(48_832));
        assert_eq!(step_calldata_bytes(&under, 0), MAX_STEP_CALLDATA - 28);
        under.validate().unwrap();
        let over = dense(Shape::vector(48_855));
        assert_eq!(step_calldata_bytes(&over, 0), MAX_STEP_CALLDATA + 4);
        let refused = over.validate().unwrap_err().to_string();
        assert!(refused.contains("98308 bytes"), "{refused}");
        // What passed before the cap: a dense layer with K = 65,536, a 31×31 conv on [31, 31, 4].
        for (model, size) in [
            (dense(Shape::vector(65_536)), 131_684),
            (conv(31, 4), 496_484),
        ] {
            assert_eq!(step_calldata_bytes(&model, 0), size);
            let refused = model.validate().unwrap_err().to_string();
            assert!(refused.contains(&format!("{size} bytes")), "{refused}");
        }
        // Within the calldata cap, over the gas cap: re-hashing 48,128 one-byte rows. The registry's
        // forge test pins the same two numbers.
        let rows = dense(Shape::new(256, 188, 1));
        assert_eq!(step_calldata_bytes(&rows, 0), 96_868);
        assert_eq!(step_gas_bound(&rows, 0), 70_446_677);
        let refused = rows.validate().unwrap_err().to_string();
        assert!(refused.contains("70446677 gas"), "{refused}");
    }

    #[test]
    fn max_taps_is_the_brute_force_maximum() {
        for x in 1..=20u32 {
            for k in 1..=8u8 {
                for s in 1..=4u8 {
                    for p in 0..k {
                        let outs = (x + u32::from(p) - 1) / u32::from(s) + 1;
                        for out in 1..=outs {
                            let brute = (0..out)
                                .map(|o| {
                                    (0..u32::from(k))
                                        .filter(|&i| {
                                            let at = o * u32::from(s) + i;
                                            at >= u32::from(p) && at - u32::from(p) < x
                                        })
                                        .count() as u64
                                })
                                .max()
                                .unwrap();
                            assert_eq!(max_taps(x, k, s, p, out), brute, "{x} {k} {s} {p} {out}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_bond_constants_cover_the_worst_game_validate_accepts() {
        // The largest model validate accepts for a game: MAX_OPS ops, each writing a tensor of
        // MAX_TENSOR_LEN one-byte rows (the deepest tensor tree).
        let big = Shape::new(2048, 2048, 1);
        let clamp = Op {
            out: big,
            z_out: 0,
            kind: OpKind::Clamp {
                input: 0,
                lo: -100,
                hi: 100,
            },
        };
        let mut model = one_op(big, clamp);
        model.ops.resize(MAX_OPS, model.ops[0].clone());
        model.validate().unwrap();
        let state_depth = depth_for(model.op_count() + 1);
        let tensor_depth = (1..=model.op_count())
            .map(|slot| {
                let s = model.slot_shape(slot);
                depth_for(s.rows() * leaves_per_row(s.c as usize))
            })
            .max()
            .unwrap();
        assert_eq!(
            (state_depth, tensor_depth),
            (MAX_STATE_DEPTH, MAX_TENSOR_DEPTH)
        );
        assert_eq!(
            defender_game_gas(state_depth, tensor_depth),
            DEFENDER_GAME_GAS
        );
        for ds in 0..=MAX_STATE_DEPTH {
            for dt in 0..=MAX_TENSOR_DEPTH {
                assert!(defender_game_gas(ds, dt) <= DEFENDER_GAME_GAS);
            }
        }
        // One op more, or one element more in a tensor, and the model is refused.
        model.ops.push(model.ops[0].clone());
        assert!(model.validate().is_err());
        model.ops.truncate(1);
        model.input = Shape::new(2048, 2048, 2);
        model.ops[0].out = model.input;
        let refused = model.validate().unwrap_err().to_string();
        assert!(refused.contains("too large"), "{refused}");
        // Every per-transaction figure is above the v2 game's measured maximum (docs/GAS.md).
        let measured = [
            (OPENING_GAS + 2 * OPENING_GAS_PER_LEVEL, 87_504),
            (NODE_REVEAL_GAS, 99_719),
            (LEAF_REVEAL_GAS, 76_729),
            (CHALLENGER_MOVE_GAS, 78_126),
            (NAME_ELEMENT_GAS, 53_950),
        ];
        for (estimate, max) in measured {
            assert!(estimate >= max + max / 5, "{estimate} not 20 % above {max}");
        }
    }
}
