//! The program every pass of a generation runs, and where each op's tensor lives in the trace
//! (docs/LLM_INT.md §8.1): op `o` of pass `p` writes slot `1 + p·OPS + o`.

use crate::{config::LlamaConfig, int::ARGMAX_CHUNK};

/// Ops of one block, in order (`o = 1 + 19·b + i`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockOp {
    /// RMSNorm of the residual before attention.
    AttnNorm,
    /// The query projection.
    Q,
    /// The key projection.
    K,
    /// The value projection.
    V,
    /// RoPE on the queries.
    RopeQ,
    /// RoPE on the keys.
    RopeK,
    /// The value cache, transposed, with this position's values appended.
    Append,
    /// Attention scores against every key so far.
    Score,
    /// The scores' softmax.
    Softmax,
    /// Probabilities times values.
    Pv,
    /// The attention output projection (residual units).
    O,
    /// The residual after attention.
    AttnAdd,
    /// RMSNorm of the residual before the feed-forward.
    FfnNorm,
    /// The gate projection.
    Gate,
    /// The up projection.
    Up,
    /// SiLU of the gate, by table.
    Silu,
    /// The SwiGLU product with its exponent.
    Product,
    /// The down projection (residual units).
    Down,
    /// The residual after the feed-forward.
    FfnAdd,
}

impl BlockOp {
    /// Every block op in program order.
    pub const ALL: [BlockOp; 19] = [
        BlockOp::AttnNorm,
        BlockOp::Q,
        BlockOp::K,
        BlockOp::V,
        BlockOp::RopeQ,
        BlockOp::RopeK,
        BlockOp::Append,
        BlockOp::Score,
        BlockOp::Softmax,
        BlockOp::Pv,
        BlockOp::O,
        BlockOp::AttnAdd,
        BlockOp::FfnNorm,
        BlockOp::Gate,
        BlockOp::Up,
        BlockOp::Silu,
        BlockOp::Product,
        BlockOp::Down,
        BlockOp::FfnAdd,
    ];
}

/// Ops of a block.
pub const PER_BLOCK: usize = BlockOp::ALL.len();

/// One op of the pass program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// The token's embedding row into the residual.
    Embed,
    /// An op of block `b`.
    Block(usize, BlockOp),
    /// The final RMSNorm.
    OutNorm,
    /// The logits.
    Head,
    /// `(max, lowest index)` per chunk of 8192 logits.
    Argmax1,
    /// The token: the chunks' largest value, ties to the lowest chunk.
    Argmax2,
}

/// How an op's elements are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// Two bytes, signed.
    I16,
    /// Two bytes, unsigned (probabilities).
    U16,
    /// Four bytes, signed.
    I32,
}

impl Dtype {
    /// Bytes per element.
    pub fn width(self) -> usize {
        match self {
            Dtype::I16 | Dtype::U16 => 2,
            Dtype::I32 => 4,
        }
    }

    /// Appends `v`'s big-endian bytes in this type (`v` within its range).
    pub fn put(self, v: i64, out: &mut Vec<u8>) {
        match self {
            Dtype::I16 => out.extend((v as i16).to_be_bytes()),
            Dtype::U16 => out.extend((v as u16).to_be_bytes()),
            Dtype::I32 => out.extend((v as i32).to_be_bytes()),
        }
    }

    /// The element whose big-endian bytes start `bytes`.
    pub fn get(self, bytes: &[u8]) -> i64 {
        match self {
            Dtype::I16 => i64::from(i16::from_be_bytes([bytes[0], bytes[1]])),
            Dtype::U16 => i64::from(u16::from_be_bytes([bytes[0], bytes[1]])),
            Dtype::I32 => i64::from(i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
        }
    }
}

/// A slot tensor's shape and element type: `rows` rows of `cols` elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotShape {
    /// Rows.
    pub rows: usize,
    /// Elements per row.
    pub cols: usize,
    /// Element type.
    pub dtype: Dtype,
}

impl SlotShape {
    /// Bytes of one row (its leaves: this over 32, rounded up).
    pub fn row_bytes(self) -> usize {
        self.cols * self.dtype.width()
    }

    /// Bytes of the whole tensor.
    pub fn bytes(self) -> usize {
        self.rows * self.row_bytes()
    }
}

/// The program of one pass of a model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Program {
    /// The model's hyper-parameters.
    pub config: LlamaConfig,
}

impl Program {
    /// The program of `config`'s passes.
    pub fn new(config: LlamaConfig) -> Self {
        Self { config }
    }

    /// Ops per pass: `1 + 19·L + 4`.
    pub fn ops(&self) -> usize {
        1 + PER_BLOCK * self.config.blocks + 4
    }

    /// The index of `op` in the pass.
    pub fn index(&self, op: Op) -> usize {
        let last = 1 + PER_BLOCK * self.config.blocks;
        match op {
            Op::Embed => 0,
            Op::Block(b, i) => 1 + PER_BLOCK * b + i as usize,
            Op::OutNorm => last,
            Op::Head => last + 1,
            Op::Argmax1 => last + 2,
            Op::Argmax2 => last + 3,
        }
    }

    /// The op at index `o < ops()` of the pass.
    pub fn op(&self, o: usize) -> Op {
        let last = 1 + PER_BLOCK * self.config.blocks;
        match o {
            0 => Op::Embed,
            o if o < last => Op::Block((o - 1) / PER_BLOCK, BlockOp::ALL[(o - 1) % PER_BLOCK]),
            o => [Op::OutNorm, Op::Head, Op::Argmax1, Op::Argmax2][o - last],
        }
    }

    /// Chunks of the vocabulary argmax: `⌈V / 8192⌉`.
    pub fn chunks(&self) -> usize {
        self.config.vocab.div_ceil(ARGMAX_CHUNK)
    }

    /// The shape of `op`'s output at position `p` of a job with `positions` positions.
    pub fn shape(&self, op: Op, p: usize, positions: usize) -> SlotShape {
        let c = self.config;
        let (q_width, kv) = (c.heads * c.head_dim, c.kv_width());
        let row = |cols, dtype| SlotShape {
            rows: 1,
            cols,
            dtype,
        };
        match op {
            Op::Embed => row(c.hidden, Dtype::I32),
            Op::Block(_, i) => match i {
                BlockOp::AttnNorm | BlockOp::FfnNorm => row(c.hidden, Dtype::I16),
                BlockOp::Q | BlockOp::RopeQ | BlockOp::Pv => row(q_width, Dtype::I16),
                BlockOp::K | BlockOp::V | BlockOp::RopeK => row(kv, Dtype::I16),
                BlockOp::Append => SlotShape {
                    rows: kv,
                    cols: positions,
                    dtype: Dtype::I16,
                },
                BlockOp::Score => SlotShape {
                    rows: c.heads,
                    cols: p + 1,
                    dtype: Dtype::I32,
                },
                BlockOp::Softmax => SlotShape {
                    rows: c.heads,
                    cols: p + 1,
                    dtype: Dtype::U16,
                },
                BlockOp::O | BlockOp::AttnAdd | BlockOp::Down | BlockOp::FfnAdd => {
                    row(c.hidden, Dtype::I32)
                }
                BlockOp::Gate | BlockOp::Up | BlockOp::Silu => row(c.ffn, Dtype::I16),
                BlockOp::Product => row(c.ffn + 1, Dtype::I16),
            },
            Op::OutNorm => row(c.hidden, Dtype::I16),
            Op::Head => row(c.vocab, Dtype::I32),
            Op::Argmax1 => SlotShape {
                rows: self.chunks(),
                cols: 2,
                dtype: Dtype::I32,
            },
            Op::Argmax2 => row(1, Dtype::I32),
        }
    }
}

impl Program {
    /// The shape of slot `s` of a trace laid out by `layout`: the input row `[max_new, ids…]`, an op's
    /// output, or the output row.
    pub fn slot_shape(&self, layout: Layout, s: usize) -> SlotShape {
        let row = |cols| SlotShape {
            rows: 1,
            cols,
            dtype: Dtype::I32,
        };
        match layout.locate(s) {
            Some((p, o)) => self.shape(self.op(o), p, layout.positions()),
            None if s == 0 => row(1 + layout.prompt),
            None => row(layout.generated),
        }
    }
}

/// Where a job's slots lie: the prompt's length, the job's token budget and the claimed output length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Ops per pass.
    pub ops: usize,
    /// Prompt tokens `P ≥ 1`.
    pub prompt: usize,
    /// The job's `max_new ≥ 1`.
    pub max_new: usize,
    /// The output's length `1 ≤ G ≤ max_new`.
    pub generated: usize,
}

impl Layout {
    /// Positions a job may need, `N = P + max_new − 1`: the capacity of every value-cache row.
    pub fn positions(&self) -> usize {
        self.prompt + self.max_new - 1
    }

    /// Passes of the trace: `P + G − 1`.
    pub fn passes(&self) -> usize {
        self.prompt + self.generated - 1
    }

    /// The slot op `o` of pass `p` writes.
    pub fn slot(&self, p: usize, o: usize) -> usize {
        1 + p * self.ops + o
    }

    /// The last slot `n`, the output (COLLECT).
    pub fn output_slot(&self) -> usize {
        1 + self.passes() * self.ops
    }

    /// `(pass, op)` of slot `s`, for `1 ≤ s < n`.
    pub fn locate(&self, s: usize) -> Option<(usize, usize)> {
        (1..self.output_slot())
            .contains(&s)
            .then(|| ((s - 1) / self.ops, (s - 1) % self.ops))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smollm2() -> LlamaConfig {
        LlamaConfig::SMOLLM2
    }

    #[test]
    fn the_smollm2_program() {
        let program = Program::new(smollm2());
        assert_eq!((program.ops(), program.chunks()), (575, 6));
        for o in 0..program.ops() {
            assert_eq!(program.index(program.op(o)), o);
        }
        assert_eq!(program.op(1 + 19 * 4 + 6), Op::Block(4, BlockOp::Append));
        assert_eq!(program.index(Op::Argmax2), 574);
        let score = program.shape(Op::Block(0, BlockOp::Score), 9, 40);
        assert_eq!((score.rows, score.cols, score.row_bytes()), (9, 10, 40));
        let append = program.shape(Op::Block(29, BlockOp::Append), 9, 40);
        assert_eq!((append.rows, append.cols, append.bytes()), (192, 40, 15360));
    }

    #[test]
    fn slots_by_arithmetic() {
        let layout = Layout {
            ops: 575,
            prompt: 20,
            max_new: 64,
            generated: 5,
        };
        assert_eq!((layout.positions(), layout.passes()), (83, 24));
        assert_eq!(layout.slot(0, 0), 1);
        assert_eq!(layout.slot(23, 574), 24 * 575);
        assert_eq!(layout.output_slot(), 24 * 575 + 1);
        assert_eq!(layout.locate(layout.slot(7, 300)), Some((7, 300)));
        assert_eq!(layout.locate(0), None);
        assert_eq!(layout.locate(layout.output_slot()), None);
    }
}
