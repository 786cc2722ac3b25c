//! Float data sets: the `models/data/*.json` format and NumPy `.npy` arrays, checked against the
//! shape of the model they feed.
//!
//! Each input is written in the model's own input shape (ONNX order, batch dimension dropped:
//! `[C, H, W]` for an image, `[N]` for a vector) as nested lists or as one flat list of all its
//! values; a `.npy` array is `[samples, ...]` with the same rule for the rest of its shape. The shape
//! comes from the model; a JSON file may still say `"shape"` (the shape its nested inputs are
//! written in), which must hold as many values as the model's input.

use crate::error::{ImportError, Result};
use std::path::Path;

/// Inputs (each flat, ONNX row-major) with optional integer class labels.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dataset {
    /// Shape of one input (without the batch dimension): the model's, which every input was
    /// checked against.
    pub shape: Vec<usize>,
    /// One flat vector per input.
    pub inputs: Vec<Vec<f32>>,
    /// One class per input, if known.
    pub labels: Option<Vec<usize>>,
}

#[derive(serde::Deserialize)]
struct JsonData {
    #[serde(default)]
    shape: Option<Vec<usize>>,
    inputs: Vec<serde_json::Value>,
    #[serde(default)]
    labels: Option<Vec<usize>>,
}

/// A parsed `.npy` array: its shape and values as f64.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// Dimensions, C order.
    pub shape: Vec<usize>,
    /// Values in C order.
    pub values: Vec<f64>,
}

/// The dimensions and row-major values of a (nested) JSON list of numbers; `None` for anything
/// else, ragged lists included. A number alone has no dimension.
fn nested(v: &serde_json::Value) -> Option<(Vec<usize>, Vec<f32>)> {
    match v {
        serde_json::Value::Number(n) => Some((Vec::new(), vec![n.as_f64()? as f32])),
        serde_json::Value::Array(items) => {
            let mut dims = None;
            let mut values = Vec::new();
            for item in items {
                let (d, v) = nested(item)?;
                if *dims.get_or_insert_with(|| d.clone()) != d {
                    return None;
                }
                values.extend(v);
            }
            let mut shape = vec![items.len()];
            shape.extend(dims.unwrap_or_default());
            Some((shape, values))
        }
        _ => None,
    }
}

/// The values of input `sample`, written with dimensions `dims`, if they fit a model input of
/// shape `expected`: nested in that shape (or in `declared`, the shape its file says it is written
/// in), or flat with as many values.
fn fit(
    sample: usize,
    dims: &[usize],
    values: Vec<f32>,
    expected: &[usize],
    declared: Option<&[usize]>,
) -> Result<Vec<f32>> {
    let len: usize = expected.iter().product();
    let fits = dims == expected || Some(dims) == declared || dims == [len];
    if !fits || values.len() != len {
        return Err(ImportError::SampleShape {
            sample,
            actual: dims.to_vec(),
            expected: expected.to_vec(),
        });
    }
    Ok(values)
}

/// Input `sample` given as JSON, flattened in row-major order if it fits a model input of shape
/// `expected` (see [`fit`]).
fn parse_input(
    sample: usize,
    value: &serde_json::Value,
    expected: &[usize],
    declared: Option<&[usize]>,
) -> Result<Vec<f32>> {
    let (dims, values) = nested(value).ok_or_else(|| {
        ImportError::Dataset(format!(
            "input {sample} is not a (nested) list of numbers with rows of equal length"
        ))
    })?;
    fit(sample, &dims, values, expected, declared)
}

/// One float input given as JSON, nested in the model's input `shape` or flat, flattened in
/// row-major order.
pub fn input_values(value: &serde_json::Value, shape: &[usize]) -> Result<Vec<f32>> {
    parse_input(0, value, shape, None)
}

impl Dataset {
    /// Loads the data set at `path` for a model whose input has `shape`: `.npy` (inputs `[N, ...]`,
    /// labels from the `.npy` at `labels`) or JSON (`{"inputs": [...], "labels": [...]}`).
    pub fn load(path: &Path, labels: Option<&Path>, shape: &[usize]) -> Result<Self> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("npy") => Self::from_npy(path, labels, shape),
            _ => Self::from_json(&std::fs::read_to_string(path)?, shape),
        }
    }

    /// Parses `{"shape": [...] (optional), "inputs": [nested or flat lists], "labels": [...]}` for a
    /// model whose input has `shape`.
    pub fn from_json(text: &str, shape: &[usize]) -> Result<Self> {
        let d: JsonData =
            serde_json::from_str(text).map_err(|e| ImportError::Dataset(e.to_string()))?;
        if let Some(declared) = &d.shape
            && declared.iter().product::<usize>() != shape.iter().product::<usize>()
        {
            return Err(ImportError::Dataset(format!(
                "the file's shape {declared:?} does not hold as many values as the model's input {shape:?}"
            )));
        }
        let inputs = d
            .inputs
            .iter()
            .enumerate()
            .map(|(i, v)| parse_input(i, v, shape, d.shape.as_deref()))
            .collect::<Result<_>>()?;
        let data = Self {
            shape: shape.to_vec(),
            inputs,
            labels: d.labels,
        };
        data.check()?;
        Ok(data)
    }

    /// Reads inputs from a `[N, ...]` float `.npy` array for a model whose input has `shape` and,
    /// optionally, labels from an `[N]` integer-valued `.npy` array.
    pub fn from_npy(inputs: &Path, labels: Option<&Path>, shape: &[usize]) -> Result<Self> {
        let a = read_npy(&std::fs::read(inputs)?)?;
        let (&n, rest) = a
            .shape
            .split_first()
            .ok_or_else(|| ImportError::Dataset("inputs array is a scalar".into()))?;
        let per: usize = rest.iter().product();
        let inputs = (0..n)
            .map(|i| {
                let values = a.values[i * per..(i + 1) * per]
                    .iter()
                    .map(|&v| v as f32)
                    .collect();
                fit(i, rest, values, shape, None)
            })
            .collect::<Result<_>>()?;
        let labels = labels
            .map(|p| -> Result<Vec<usize>> {
                let l = read_npy(&std::fs::read(p)?)?;
                l.values
                    .iter()
                    .map(|&v| {
                        (v >= 0.0 && v.fract() == 0.0)
                            .then_some(v as usize)
                            .ok_or_else(|| {
                                ImportError::Dataset(format!("label {v} is not a class index"))
                            })
                    })
                    .collect()
            })
            .transpose()?;
        let data = Self {
            shape: shape.to_vec(),
            inputs,
            labels,
        };
        data.check()?;
        Ok(data)
    }

    /// The first `n` inputs (and labels).
    pub fn take(&self, n: usize) -> Self {
        Self {
            shape: self.shape.clone(),
            inputs: self.inputs.iter().take(n).cloned().collect(),
            labels: self
                .labels
                .as_ref()
                .map(|l| l.iter().take(n).copied().collect()),
        }
    }

    fn check(&self) -> Result<()> {
        if let Some(l) = &self.labels
            && l.len() != self.inputs.len()
        {
            return Err(ImportError::Dataset(format!(
                "{} labels for {} inputs",
                l.len(),
                self.inputs.len()
            )));
        }
        Ok(())
    }
}

/// Parses a `.npy` file (format versions 1–3, C order, little-endian `f4`, `f8`, `i1`, `u1`, `i2`,
/// `i4`, `i8`).
pub fn read_npy(bytes: &[u8]) -> Result<NpyArray> {
    let bad = |m: &str| ImportError::Dataset(format!(".npy: {m}"));
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("bad magic"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(bad(&format!("unsupported version {v}"))),
    };
    let header = bytes
        .get(start..start + header_len)
        .ok_or_else(|| bad("truncated header"))?;
    let header = std::str::from_utf8(header).map_err(|_| bad("header is not text"))?;
    let field = |key: &str| -> Result<&str> {
        let at = header
            .find(&format!("'{key}'"))
            .ok_or_else(|| bad(&format!("header lacks {key}")))?;
        let rest = &header[at + key.len() + 2..];
        Ok(rest[rest.find(':').ok_or_else(|| bad("header syntax"))? + 1..].trim_start())
    };
    let descr = field("descr")?;
    let descr = descr
        .strip_prefix('\'')
        .and_then(|d| d.split('\'').next())
        .ok_or_else(|| bad("descr syntax"))?;
    if field("fortran_order")?.starts_with("True") {
        return Err(bad("Fortran order is not supported"));
    }
    let shape_text = field("shape")?;
    let shape_text = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad("shape syntax"))?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| bad("shape entry")))
        .collect::<Result<Vec<_>>>()?;
    let n: usize = shape.iter().product();
    let data = &bytes[start + header_len..];
    let (size, conv): (usize, fn(&[u8]) -> f64) = match descr {
        "<f4" => (4, |b| {
            f64::from(f32::from_le_bytes(b.try_into().expect("4 bytes")))
        }),
        "<f8" => (8, |b| f64::from_le_bytes(b.try_into().expect("8 bytes"))),
        "|i1" => (1, |b| f64::from(b[0] as i8)),
        "|u1" => (1, |b| f64::from(b[0])),
        "<i2" => (2, |b| {
            f64::from(i16::from_le_bytes(b.try_into().expect("2 bytes")))
        }),
        "<i4" => (4, |b| {
            f64::from(i32::from_le_bytes(b.try_into().expect("4 bytes")))
        }),
        "<i8" => (8, |b| {
            i64::from_le_bytes(b.try_into().expect("8 bytes")) as f64
        }),
        other => return Err(bad(&format!("dtype {other} is not supported"))),
    };
    if data.len() != n * size {
        return Err(bad(&format!(
            "{} data bytes for {n} elements of {size} bytes",
            data.len()
        )));
    }
    Ok(NpyArray {
        shape,
        values: data.chunks_exact(size).map(conv).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        b.extend_from_slice(header.as_bytes());
        b.extend_from_slice(data);
        b
    }

    #[test]
    fn inputs_come_nested_in_the_models_shape_or_flat() {
        // A [C, H, W] = [2, 1, 3] model: one input nested, one flat, same values.
        let shape = [2, 1, 3];
        let text =
            r#"{"inputs": [[[[1, 2, 3]], [[4, 5, 6]]], [1, 2, 3, 4, 5, 6]], "labels": [0, 1]}"#;
        let d = Dataset::from_json(text, &shape).unwrap();
        assert_eq!(d.shape, shape);
        assert_eq!(d.inputs, vec![vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; 2]);
        // The file may say the shape its inputs are written in, if it holds as many values.
        let text = r#"{"shape": [3, 2], "inputs": [[[1, 2], [3, 4], [5, 6]]]}"#;
        assert_eq!(Dataset::from_json(text, &shape).unwrap().inputs[0].len(), 6);
        let err = Dataset::from_json(r#"{"shape": [5], "inputs": []}"#, &shape).unwrap_err();
        assert!(err.to_string().contains("[5]"), "{err}");
        // A .npy array of [N, C, H, W] or [N, C·H·W].
        let data: Vec<u8> = (0..12u8).map(|v| v as i8 as u8).collect();
        let dir = std::env::temp_dir().join(format!("vouch-dataset-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for dims in ["(2, 2, 1, 3)", "(2, 6)"] {
            let path = dir.join("x.npy");
            std::fs::write(&path, npy("|i1", dims, &data)).unwrap();
            let d = Dataset::load(&path, None, &shape).unwrap();
            assert_eq!(d.inputs[1], vec![6.0, 7.0, 8.0, 9.0, 10.0, 11.0], "{dims}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_input_of_another_shape_is_refused_by_its_index() {
        let shape = [2, 1, 3];
        for (input, dims) in [
            ("[[1, 2, 3], [4, 5, 6]]", "[2, 3]"),
            ("[1, 2, 3, 4, 5]", "[5]"),
            ("[[[1, 2]], [[3, 4]], [[5, 6]]]", "[3, 1, 2]"),
        ] {
            let text = format!(r#"{{"inputs": [[1, 2, 3, 4, 5, 6], {input}]}}"#);
            let err = Dataset::from_json(&text, &shape).unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "input 1 has shape {dims}, the model takes [2, 1, 3] (nested that way, or flat)"
                )
            );
        }
        let err = Dataset::from_json(r#"{"inputs": [[[1, 2], [3]]]}"#, &shape).unwrap_err();
        assert!(err.to_string().contains("input 0"), "{err}");
        assert!(input_values(&serde_json::json!([[1, 2, 3]]), &shape).is_err());
        assert_eq!(
            input_values(&serde_json::json!([[[1]], [[2]]]), &[2, 1, 1]).unwrap(),
            vec![1.0, 2.0]
        );
    }

    #[test]
    fn reads_f32_and_i64() {
        let data: Vec<u8> = [1.5f32, -2.0, 0.25, 4.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = read_npy(&npy("<f4", "(2, 2)", &data)).unwrap();
        assert_eq!(a.shape, vec![2, 2]);
        assert_eq!(a.values, vec![1.5, -2.0, 0.25, 4.0]);
        let data: Vec<u8> = [3i64, 7].iter().flat_map(|v| v.to_le_bytes()).collect();
        let a = read_npy(&npy("<i8", "(2,)", &data)).unwrap();
        assert_eq!((a.shape, a.values), (vec![2], vec![3.0, 7.0]));
        assert!(read_npy(&npy(">f4", "(1,)", &[0; 4])).is_err());
        assert!(read_npy(&npy("<f4", "(3,)", &[0; 4])).is_err());
    }
}
