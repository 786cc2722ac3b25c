//! Int8 tensors as users write them: JSON numbers (flat or nested lists) or raw bytes.

use crate::error::{CoreError, Result};

/// Parses a JSON int8 tensor: a number or an arbitrarily nested list of integers in `[-128, 127]`,
/// flattened in row-major order.
pub fn parse_json_tensor(text: &str) -> Result<Vec<i8>> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| CoreError::Tensor(format!("not JSON: {e}")))?;
    let mut out = Vec::new();
    flatten(&value, &mut out)?;
    Ok(out)
}

fn flatten(v: &serde_json::Value, out: &mut Vec<i8>) -> Result<()> {
    match v {
        serde_json::Value::Array(items) => items.iter().try_for_each(|i| flatten(i, out)),
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
            Ok(())
        }
        other => Err(CoreError::Tensor(format!(
            "element at index {} is {other}, expected an integer",
            out.len()
        ))),
    }
}

/// The tensor's bytes as they go on chain (two's complement, one byte per element).
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

    #[test]
    fn parses_flat_and_nested() {
        assert_eq!(
            parse_json_tensor("[1, -2, 127, -128]").unwrap(),
            vec![1, -2, 127, -128]
        );
        assert_eq!(
            parse_json_tensor("[[1, 2], [3, [4]]]").unwrap(),
            vec![1, 2, 3, 4]
        );
    }

    #[test]
    fn rejects_bad_elements_with_position() {
        let e = parse_json_tensor("[1, 2, 300]").unwrap_err().to_string();
        assert!(e.contains("300") && e.contains("index 2"), "{e}");
        assert!(
            parse_json_tensor("[1.5]")
                .unwrap_err()
                .to_string()
                .contains("not an integer")
        );
        assert!(parse_json_tensor("[\"a\"]").is_err());
        assert!(parse_json_tensor("[1,").is_err());
    }

    #[test]
    fn argmax_takes_first_of_ties() {
        assert_eq!(argmax(&[1, 5, 5, -3]), Some(1));
        assert_eq!(argmax(&[]), None);
    }
}
