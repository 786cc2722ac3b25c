//! The byte encoding of ops: each op's leaves (its spec, then its weight rows), PROTOCOL.md §3.1, and
//! the bounds-checked reader every decoder uses.

use super::{Op, OpKind, Operand, WeightRow, Window};
use crate::{
    error::{CoreError, Result},
    quant::Requant,
    shape::Shape,
};

/// Op code of [`OpKind::Dense`].
pub const OP_DENSE: u8 = 0x01;
/// Op code of [`OpKind::Conv2d`].
pub const OP_CONV2D: u8 = 0x02;
/// Op code of [`OpKind::Clamp`].
pub const OP_CLAMP: u8 = 0x03;
/// Op code of [`OpKind::MaxPool`].
pub const OP_MAXPOOL: u8 = 0x04;
/// Op code of [`OpKind::AvgPool`].
pub const OP_AVGPOOL: u8 = 0x05;
/// Op code of [`OpKind::Add`].
pub const OP_ADD: u8 = 0x06;
/// Op code of [`OpKind::Reshape`].
pub const OP_RESHAPE: u8 = 0x07;

impl OpKind {
    /// The op code.
    pub fn code(&self) -> u8 {
        match self {
            OpKind::Dense { .. } => OP_DENSE,
            OpKind::Conv2d { .. } => OP_CONV2D,
            OpKind::Clamp { .. } => OP_CLAMP,
            OpKind::MaxPool { .. } => OP_MAXPOOL,
            OpKind::AvgPool { .. } => OP_AVGPOOL,
            OpKind::Add { .. } => OP_ADD,
            OpKind::Reshape { .. } => OP_RESHAPE,
        }
    }
}

fn put_window(b: &mut Vec<u8>, w: &Window) {
    b.extend([w.kh, w.kw, w.sh, w.sw, w.pt, w.pl]);
}

fn put_operand(b: &mut Vec<u8>, o: &Operand) {
    b.extend_from_slice(&o.slot.to_be_bytes());
    b.push(o.zero as u8);
    b.extend_from_slice(&o.multiplier.to_be_bytes());
}

impl Op {
    /// The leaves of this op's tree: its spec, then its weight rows (PROTOCOL.md §3.1).
    pub fn leaves(&self) -> Vec<Vec<u8>> {
        let mut spec = vec![self.kind.code()];
        spec.extend_from_slice(&self.out.to_bytes());
        spec.push(self.z_out as u8);
        match &self.kind {
            OpKind::Dense {
                input, z_x, lo, hi, ..
            } => {
                spec.extend_from_slice(&input.to_be_bytes());
                spec.extend([*z_x as u8, *lo as u8, *hi as u8]);
            }
            OpKind::Conv2d {
                input,
                z_x,
                lo,
                hi,
                window,
                ..
            } => {
                spec.extend_from_slice(&input.to_be_bytes());
                spec.extend([*z_x as u8, *lo as u8, *hi as u8]);
                put_window(&mut spec, window);
            }
            OpKind::Clamp { input, lo, hi } => {
                spec.extend_from_slice(&input.to_be_bytes());
                spec.extend([*lo as u8, *hi as u8]);
            }
            OpKind::MaxPool { input, window } => {
                spec.extend_from_slice(&input.to_be_bytes());
                put_window(&mut spec, window);
            }
            OpKind::AvgPool {
                input,
                z_x,
                window,
                requant,
                lo,
                hi,
            } => {
                spec.extend_from_slice(&input.to_be_bytes());
                spec.push(*z_x as u8);
                put_window(&mut spec, window);
                spec.extend_from_slice(&requant.multiplier.to_be_bytes());
                spec.extend([requant.shift, *lo as u8, *hi as u8]);
            }
            OpKind::Add {
                a,
                b,
                shift,
                lo,
                hi,
            } => {
                put_operand(&mut spec, a);
                put_operand(&mut spec, b);
                spec.extend([*shift, *lo as u8, *hi as u8]);
            }
            OpKind::Reshape { input } => spec.extend_from_slice(&input.to_be_bytes()),
        }
        let mut out = vec![spec];
        out.extend(self.kind.rows().iter().map(|row| {
            let mut b = Vec::with_capacity(9 + row.weights.len());
            b.extend_from_slice(&row.bias.to_be_bytes());
            b.extend_from_slice(&row.requant.multiplier.to_be_bytes());
            b.push(row.requant.shift);
            b.extend(row.weights.iter().map(|&w| w as u8));
            b
        }));
        out
    }

    /// Decodes an op from its leaves (the inverse of [`Op::leaves`]).
    pub fn from_leaves(leaves: &[Vec<u8>]) -> Result<Self> {
        let (spec, rows) = leaves
            .split_first()
            .ok_or_else(|| CoreError::Decode("op has no spec leaf".into()))?;
        let mut r = Reader::new(spec);
        let code = r.u8()?;
        let out = Shape::new(r.u32()?, r.u32()?, r.u32()?);
        let z_out = r.i8()?;
        let window = |r: &mut Reader<'_>| -> Result<Window> {
            Ok(Window {
                kh: r.u8()?,
                kw: r.u8()?,
                sh: r.u8()?,
                sw: r.u8()?,
                pt: r.u8()?,
                pl: r.u8()?,
            })
        };
        let operand = |r: &mut Reader<'_>| -> Result<Operand> {
            Ok(Operand {
                slot: r.u16()?,
                zero: r.i8()?,
                multiplier: r.i32()?,
            })
        };
        let kind = match code {
            OP_DENSE => {
                let (input, z_x, lo, hi) = (r.u16()?, r.i8()?, r.i8()?, r.i8()?);
                OpKind::Dense {
                    input,
                    z_x,
                    lo,
                    hi,
                    rows: decode_rows(rows)?,
                }
            }
            OP_CONV2D => {
                let (input, z_x, lo, hi) = (r.u16()?, r.i8()?, r.i8()?, r.i8()?);
                let window = window(&mut r)?;
                OpKind::Conv2d {
                    input,
                    z_x,
                    lo,
                    hi,
                    window,
                    rows: decode_rows(rows)?,
                }
            }
            OP_CLAMP => OpKind::Clamp {
                input: r.u16()?,
                lo: r.i8()?,
                hi: r.i8()?,
            },
            OP_MAXPOOL => OpKind::MaxPool {
                input: r.u16()?,
                window: window(&mut r)?,
            },
            OP_AVGPOOL => {
                let (input, z_x) = (r.u16()?, r.i8()?);
                let window = window(&mut r)?;
                let requant = Requant {
                    multiplier: r.i32()?,
                    shift: r.u8()?,
                };
                OpKind::AvgPool {
                    input,
                    z_x,
                    window,
                    requant,
                    lo: r.i8()?,
                    hi: r.i8()?,
                }
            }
            OP_ADD => {
                let (a, b) = (operand(&mut r)?, operand(&mut r)?);
                OpKind::Add {
                    a,
                    b,
                    shift: r.u8()?,
                    lo: r.i8()?,
                    hi: r.i8()?,
                }
            }
            OP_RESHAPE => OpKind::Reshape { input: r.u16()? },
            code => return Err(CoreError::Decode(format!("unknown op code {code:#04x}"))),
        };
        r.finish("op spec")?;
        if kind.rows().len() != rows.len() {
            return Err(CoreError::Decode(format!(
                "a {} op has no weight rows, found {}",
                kind.name(),
                rows.len()
            )));
        }
        Ok(Op { out, z_out, kind })
    }
}

fn decode_rows(leaves: &[Vec<u8>]) -> Result<Vec<WeightRow>> {
    leaves.iter().map(|leaf| decode_row(leaf)).collect()
}

/// Decodes one weight-row leaf `bias i32 ‖ M i32 ‖ s u8 ‖ weights i8…` (PROTOCOL.md §3.1).
pub(crate) fn decode_row(leaf: &[u8]) -> Result<WeightRow> {
    let mut r = Reader::new(leaf);
    let bias = r.i32()?;
    let multiplier = r.i32()?;
    let shift = r.u8()?;
    let weights = r.rest().iter().map(|&b| b as i8).collect();
    Ok(WeightRow {
        bias,
        requant: Requant { multiplier, shift },
        weights,
    })
}

/// A bounds-checked big-endian cursor over bytes.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
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

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn i8(&mut self) -> Result<i8> {
        Ok(self.u8()? as i8)
    }

    pub(crate) fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = &self.bytes[self.pos..];
        self.pos = self.bytes.len();
        s
    }

    pub(crate) fn finish(&self, what: &str) -> Result<()> {
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
