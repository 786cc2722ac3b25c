//! Float data sets: the `models/data/*.json` format and NumPy `.npy` arrays.

use crate::error::{ImportError, Result};
use std::path::Path;

/// Inputs (each flat, ONNX row-major) with optional integer class labels.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dataset {
    /// Shape of one input (without the batch dimension).
    pub shape: Vec<usize>,
    /// One flat vector per input.
    pub inputs: Vec<Vec<f32>>,
    /// One class per input, if known.
    pub labels: Option<Vec<usize>>,
}

#[derive(serde::Deserialize)]
struct JsonData {
    shape: Vec<usize>,
    inputs: Vec<Vec<f32>>,
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

impl Dataset {
    /// Loads a data set by extension: `.json` (the models/data format) or `.npy` (inputs only,
    /// `[N, ...]`).
    pub fn load(path: &Path) -> Result<Self> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("npy") => Self::from_npy(path, None),
            _ => Self::from_json(&std::fs::read_to_string(path)?),
        }
    }

    /// Parses `{"shape": [...], "inputs": [[f32...]...], "labels": [...]}`.
    pub fn from_json(text: &str) -> Result<Self> {
        let d: JsonData =
            serde_json::from_str(text).map_err(|e| ImportError::Dataset(e.to_string()))?;
        let data = Self {
            shape: d.shape,
            inputs: d.inputs,
            labels: d.labels,
        };
        data.check()?;
        Ok(data)
    }

    /// Reads inputs from a `[N, ...]` float `.npy` array and, optionally, labels from an `[N]`
    /// integer-valued `.npy` array.
    pub fn from_npy(inputs: &Path, labels: Option<&Path>) -> Result<Self> {
        let a = read_npy(&std::fs::read(inputs)?)?;
        let (&n, rest) = a
            .shape
            .split_first()
            .ok_or_else(|| ImportError::Dataset("inputs array is a scalar".into()))?;
        let per: usize = rest.iter().product();
        let inputs = if per == 0 {
            vec![Vec::new(); n]
        } else {
            a.values
                .chunks(per)
                .map(|c| c.iter().map(|&v| v as f32).collect())
                .collect()
        };
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
            shape: rest.to_vec(),
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
        let per: usize = self.shape.iter().product();
        if let Some(i) = self.inputs.iter().position(|x| x.len() != per) {
            return Err(ImportError::Dataset(format!(
                "input {i} has {} values, shape {:?} holds {per}",
                self.inputs[i].len(),
                self.shape
            )));
        }
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
