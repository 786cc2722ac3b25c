//! Int8 tensors: [`Tensor`], the typed tensor (shape + data) a job's input and output travel as, read
//! once from the JSON users write and turned into bytes only at the chain boundary; and the element
//! conversions and argmax on plain int8 data.

use crate::{
    B256,
    commit::tensor_root,
    error::{CoreError, Result},
    shape::Shape,
};

/// An int8 tensor with its shape: `shape.len()` elements in row-major `(H, W, C)` order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tensor {
    shape: Shape,
    data: Vec<i8>,
}

impl Tensor {
    /// `data` as a tensor of `shape`, refused unless it holds exactly `shape.len()` elements.
    pub fn new(shape: Shape, data: Vec<i8>) -> Result<Self> {
        if data.len() != shape.len() {
            return Err(CoreError::Tensor(format!(
                "{} elements for shape {shape}, which holds {}",
                data.len(),
                shape.len()
            )));
        }
        Ok(Self { shape, data })
    }

    /// A tensor of `shape` from JSON int8 numbers, either flat (`shape.len()` of them) or nested in
    /// exactly `[H][W][C]`, read in one pass. Errors: [`CoreError::Tensor`] for an element that is
    /// not an int8 number (its index said), else [`CoreError::Nesting`] for the wrong arrangement.
    pub fn from_json(value: &serde_json::Value, shape: Shape) -> Result<Self> {
        let mut data = Vec::new();
        let dims = flatten(value, &mut data)?.ok_or(CoreError::Nesting(Nesting::Ragged))?;
        let exact = [shape.h as usize, shape.w as usize, shape.c as usize];
        match dims.len() {
            0 => Err(CoreError::Nesting(Nesting::NotArray)),
            1 if data.len() != shape.len() => Err(CoreError::Nesting(Nesting::Count(data.len()))),
            1 => Ok(Self { shape, data }),
            _ if dims == exact => Ok(Self { shape, data }),
            _ => Err(CoreError::Nesting(Nesting::Dims(dims))),
        }
    }

    /// A tensor of `shape` from its bytes as they are on chain (the inverse of [`Tensor::to_bytes`]).
    pub fn from_bytes(shape: Shape, bytes: &[u8]) -> Result<Self> {
        Self::new(shape, from_bytes(bytes))
    }

    /// The bytes that go on chain (two's complement, one byte per element).
    pub fn to_bytes(&self) -> Vec<u8> {
        to_bytes(&self.data)
    }

    /// Its tensor root (PROTOCOL.md §3.2), as the contracts compute it from its bytes.
    pub fn root(&self) -> B256 {
        tensor_root(&self.data, self.shape.c as usize)
    }

    /// Its shape.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Its elements, row-major.
    pub fn data(&self) -> &[i8] {
        &self.data
    }

    /// Its elements, row-major, owned.
    pub fn into_data(self) -> Vec<i8> {
        self.data
    }
}

/// How JSON int8 numbers fail to be arranged as the tensor asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nesting {
    /// Sibling arrays differ in shape.
    Ragged,
    /// A number where an array was expected.
    NotArray,
    /// A flat list of this many elements, not the tensor's count.
    Count(usize),
    /// Nested evenly, in these dimensions, but not the tensor's `[H][W][C]`.
    Dims(Vec<usize>),
}

impl std::fmt::Display for Nesting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Nesting::Ragged => write!(f, "is ragged"),
            Nesting::NotArray => write!(f, "must be an array of int8 numbers"),
            Nesting::Count(n) => write!(f, "has {n} elements"),
            Nesting::Dims(dims) => {
                write!(f, "is nested as ")?;
                dims.iter().try_for_each(|d| write!(f, "[{d}]"))
            }
        }
    }
}

/// Appends the int8 elements of `v` to `out` in row-major order, and returns the dimensions of `v`
/// (`[]` for a number) or `None` when sibling arrays differ in shape. Every element is checked, even
/// past a ragged spot, so a bad element is always the error reported.
fn flatten(v: &serde_json::Value, out: &mut Vec<i8>) -> Result<Option<Vec<usize>>> {
    match v {
        serde_json::Value::Array(items) => {
            let mut inner: Option<Option<Vec<usize>>> = None;
            for item in items {
                let dims = flatten(item, out)?;
                inner = Some(match inner {
                    None => dims,
                    Some(seen) => seen.filter(|s| dims.as_ref() == Some(s)),
                });
            }
            Ok(inner
                .unwrap_or(Some(Vec::new()))
                .map(|inner| [vec![items.len()], inner].concat()))
        }
        serde_json::Value::Number(n) => {
            let i = n.as_i64().ok_or_else(|| {
                CoreError::Tensor(format!(
                    "element {} at index {} is not an integer",
                    n,
                    out.len()
                ))
            })?;
            let b = i8::try_from(i).map_err(|_| {
                CoreError::Tensor(format!(
                    "element {i} at index {} is outside int8 [-128, 127]",
                    out.len()
                ))
            })?;
            out.push(b);
            Ok(Some(Vec::new()))
        }
        other => Err(CoreError::Tensor(format!(
            "element at index {} is {other}, expected an integer",
            out.len()
        ))),
    }
}

/// Int8 elements as bytes (two's complement, one byte per element), as the chain holds tensors.
pub fn to_bytes(t: &[i8]) -> Vec<u8> {
    t.iter().map(|&v| v as u8).collect()
}

/// The inverse of [`to_bytes`].
pub fn from_bytes(b: &[u8]) -> Vec<i8> {
    b.iter().map(|&v| v as i8).collect()
}

/// Index of the largest element (the first one on ties); `None` for an empty tensor.
pub fn argmax(t: &[i8]) -> Option<usize> {
    t.iter()
        .enumerate()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_flat_and_nested() {
        let t = Tensor::from_json(&json!([1, -2, 127, -128]), Shape::vector(4)).unwrap();
        assert_eq!(t.data(), [1, -2, 127, -128]);
        let t = Tensor::from_json(&json!([[[1, 2]], [[3, 4]]]), Shape::new(2, 1, 2)).unwrap();
        assert_eq!(t.data(), [1, 2, 3, 4]);
        assert_eq!(t.shape(), Shape::new(2, 1, 2));
    }

    #[test]
    fn rejects_bad_elements_with_position() {
        let four = Shape::vector(4);
        let e = Tensor::from_json(&json!([1, 2, 300, 4]), four).unwrap_err();
        let e = e.to_string();
        assert!(e.contains("300") && e.contains("index 2"), "{e}");
        let e = Tensor::from_json(&json!([1.5]), four).unwrap_err();
        assert!(e.to_string().contains("not an integer"), "{e}");
        assert!(Tensor::from_json(&json!(["a"]), four).is_err());
        // A bad element wins over a ragged nesting, wherever it is.
        let e = Tensor::from_json(&json!([[1, 2], [3], [300]]), four).unwrap_err();
        assert!(matches!(e, CoreError::Tensor(_)), "{e}");
    }

    #[test]
    fn rejects_other_arrangements_by_what_they_are() {
        let shape = Shape::new(2, 2, 1);
        let nesting = |v| match Tensor::from_json(&v, shape) {
            Err(CoreError::Nesting(n)) => n,
            other => panic!("{other:?}"),
        };
        assert_eq!(nesting(json!([[1, 2], [3]])), Nesting::Ragged);
        assert_eq!(nesting(json!(5)), Nesting::NotArray);
        assert_eq!(nesting(json!([1, 2, 3])), Nesting::Count(3));
        assert_eq!(nesting(json!([])), Nesting::Count(0));
        assert_eq!(nesting(json!([[1, 2], [3, 4]])), Nesting::Dims(vec![2, 2]));
        assert_eq!(Nesting::Dims(vec![4, 4]).to_string(), "is nested as [4][4]");
    }

    #[test]
    fn bytes_round_trip_and_lengths_are_checked() {
        let t = Tensor::new(Shape::vector(3), vec![-1, 0, 127]).unwrap();
        assert_eq!(t.to_bytes(), [0xff, 0, 0x7f]);
        assert_eq!(Tensor::from_bytes(t.shape(), &t.to_bytes()).unwrap(), t);
        assert!(Tensor::from_bytes(Shape::vector(4), &t.to_bytes()).is_err());
        assert_eq!(t.root(), tensor_root(t.data(), 3));
    }

    #[test]
    fn argmax_takes_first_of_ties() {
        assert_eq!(argmax(&[1, 5, 5, -3]), Some(1));
        assert_eq!(argmax(&[]), None);
    }
}
