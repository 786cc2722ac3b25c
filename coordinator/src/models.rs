//! The `models` table: rows written from registry events, read by the API.

use crate::{
    columns::{hex_bytes, model_status_str, parse_model_status, to_i64, to_u64, u256_to_i64},
    error::{CoordinatorError, Result},
};
use alloy::primitives::U256;
use serde::{Deserialize, Serialize};
use sqlx::{Any, AnyConnection, AnyPool, Executor, Row, any::AnyRow};
use vouch_chain::{
    bindings::ModelRegistry::{ModelPriceUpdated, ModelRegistered},
    registry::{ModelStatus, meta_from_uri},
};

/// A model as served by the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRecord {
    /// Model id.
    pub id: u64,
    /// Owner, who receives royalties.
    pub owner: String,
    /// Model root (PROTOCOL §3).
    pub root: String,
    /// Number of ops.
    pub op_count: u32,
    /// Input length in elements.
    pub input_len: u32,
    /// Output length in elements.
    pub output_len: u32,
    /// Input shape `[H, W, C]`.
    pub input_shape: [u32; 3],
    /// Input zero point (clients quantize with it).
    pub input_zero: i8,
    /// Output shape `[H, W, C]`.
    pub output_shape: [u32; 3],
    /// Fee per job, in wei (decimal).
    pub fee_wei: String,
    /// Owner's share of each fee, in basis points.
    pub royalty_bps: u16,
    /// Listing status.
    pub status: ModelStatus,
    /// Name from the inline metadata (`model-<id>` when the URI carries none).
    pub name: String,
    /// Metadata URI as registered.
    pub uri: String,
}

const COLUMNS: &str = "id, owner, root, op_count, input_len, output_len, input_h, input_w, input_c, input_zero, output_h, output_w, \
     output_c, fee_wei, royalty_bps, status, name, uri";

fn small<T: TryFrom<i64>>(row: &AnyRow, col: &str) -> Result<T> {
    let v: i64 = row.try_get(col)?;
    T::try_from(v)
        .map_err(|_| CoordinatorError::Invalid(format!("models.{col} = {v} out of range")))
}

impl ModelRecord {
    fn from_row(row: &AnyRow) -> Result<Self> {
        let status: String = row.try_get("status")?;
        Ok(Self {
            id: to_u64(row.try_get("id")?)?,
            owner: row.try_get("owner")?,
            root: row.try_get("root")?,
            op_count: small(row, "op_count")?,
            input_len: small(row, "input_len")?,
            output_len: small(row, "output_len")?,
            input_shape: [
                small(row, "input_h")?,
                small(row, "input_w")?,
                small(row, "input_c")?,
            ],
            input_zero: small(row, "input_zero")?,
            output_shape: [
                small(row, "output_h")?,
                small(row, "output_w")?,
                small(row, "output_c")?,
            ],
            fee_wei: row.try_get("fee_wei")?,
            royalty_bps: small(row, "royalty_bps")?,
            status: parse_model_status(&status)
                .ok_or_else(|| CoordinatorError::Invalid(format!("models.status = {status}")))?,
            name: row.try_get("name")?,
            uri: row.try_get("uri")?,
        })
    }

    /// A job input for this model from JSON: int8 numbers, either flat (`input_len` of them) or
    /// nested in exactly the model's input shape `[H][W][C]` (row-major). The error says what was
    /// wrong, for a `400`.
    pub fn input_from_json(&self, value: &serde_json::Value) -> Result<Vec<i8>, String> {
        let input = vouch_core::tensor::parse_json_tensor(&value.to_string())
            .map_err(|e| format!("input: {e}"))?;
        let [h, w, c] = self.input_shape;
        let expected = format!(
            "model {} expects {} elements, flat or nested as [{h}][{w}][{c}]",
            self.id, self.input_len
        );
        match json_shape(value) {
            None => Err(format!("input is ragged: {expected}")),
            Some(shape) if shape.is_empty() => Err(format!(
                "input must be an array of int8 numbers: {expected}"
            )),
            Some(shape) if shape.len() == 1 => {
                if input.len() == self.input_len as usize {
                    Ok(input)
                } else {
                    Err(format!("input has {} elements; {expected}", input.len()))
                }
            }
            Some(shape) if shape == [h as usize, w as usize, c as usize] => Ok(input),
            Some(shape) => {
                let nested: String = shape.iter().map(|d| format!("[{d}]")).collect();
                Err(format!("input is nested as {nested}; {expected}"))
            }
        }
    }

    /// The fee as a number.
    pub fn fee(&self) -> Result<U256> {
        self.fee_wei
            .parse()
            .map_err(|_| CoordinatorError::Invalid(format!("models.fee_wei = {}", self.fee_wei)))
    }
}

/// The dimensions of a JSON array nested evenly (`[[1, 2], [3, 4]]` → `[2, 2]`, a number → `[]`),
/// or `None` when sibling arrays differ in shape.
fn json_shape(value: &serde_json::Value) -> Option<Vec<usize>> {
    let serde_json::Value::Array(items) = value else {
        return Some(Vec::new());
    };
    let inner = match items.split_first() {
        None => Vec::new(),
        Some((first, rest)) => {
            let inner = json_shape(first)?;
            if rest.iter().any(|i| json_shape(i).as_ref() != Some(&inner)) {
                return None;
            }
            inner
        }
    };
    Some([vec![items.len()], inner].concat())
}

/// Elements of a shape (the registry bounds it by 2^22, so it fits easily).
fn shape_len(s: &vouch_chain::bindings::ModelRegistry::TensorShape) -> i64 {
    i64::from(s.h) * i64::from(s.w) * i64::from(s.c)
}

/// `ModelRegistered`: inserts the model as pending. A replay leaves the existing row alone.
pub async fn registered(conn: &mut AnyConnection, e: &ModelRegistered, block: u64) -> Result<()> {
    let id = u256_to_i64(e.modelId)?;
    let name = meta_from_uri(&e.uri).map_or_else(|| format!("model-{id}"), |m| m.name);
    sqlx::query(
        "INSERT INTO models (id, owner, root, op_count, input_len, output_len, input_h, input_w, input_c, \
         input_zero, output_h, output_w, output_c, fee_wei, royalty_bps, status, name, uri, registered_block, \
         updated_block) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(hex_bytes(e.owner.as_slice()))
    .bind(hex_bytes(e.root.as_slice()))
    .bind(i64::from(e.opCount))
    .bind(shape_len(&e.input))
    .bind(shape_len(&e.output))
    .bind(i64::from(e.input.h))
    .bind(i64::from(e.input.w))
    .bind(i64::from(e.input.c))
    .bind(i64::from(e.inputZero))
    .bind(i64::from(e.output.h))
    .bind(i64::from(e.output.w))
    .bind(i64::from(e.output.c))
    .bind(e.fee.to_string())
    .bind(i64::from(e.royaltyBps))
    .bind(model_status_str(ModelStatus::Pending))
    .bind(name)
    .bind(e.uri.clone())
    .bind(to_i64(block)?)
    .execute(conn)
    .await?;
    Ok(())
}

/// `ModelActivated`: pending → active (a retired model stays retired under replays).
pub async fn activated(conn: &mut AnyConnection, id: U256, block: u64) -> Result<()> {
    set_status(
        conn,
        id,
        ModelStatus::Active,
        Some(ModelStatus::Pending),
        block,
    )
    .await
}

/// `ModelRetired`: → retired.
pub async fn retired(conn: &mut AnyConnection, id: U256, block: u64) -> Result<()> {
    set_status(conn, id, ModelStatus::Retired, None, block).await
}

/// `PublicationReset`: the model stays pending; only the block of the last change moves.
pub async fn publication_reset(conn: &mut AnyConnection, id: U256, block: u64) -> Result<()> {
    set_status(
        conn,
        id,
        ModelStatus::Pending,
        Some(ModelStatus::Pending),
        block,
    )
    .await
}

async fn set_status(
    conn: &mut AnyConnection,
    id: U256,
    to: ModelStatus,
    only_from: Option<ModelStatus>,
    block: u64,
) -> Result<()> {
    let from = only_from.map_or("", model_status_str);
    sqlx::query("UPDATE models SET status = $2, updated_block = $3 WHERE id = $1 AND ($4 = '' OR status = $4)")
        .bind(u256_to_i64(id)?)
        .bind(model_status_str(to))
        .bind(to_i64(block)?)
        .bind(from)
        .execute(conn)
        .await?;
    Ok(())
}

/// `ModelPriceUpdated`: the fee and royalty of future jobs.
pub async fn price_updated(
    conn: &mut AnyConnection,
    e: &ModelPriceUpdated,
    block: u64,
) -> Result<()> {
    sqlx::query(
        "UPDATE models SET fee_wei = $2, royalty_bps = $3, updated_block = $4 WHERE id = $1",
    )
    .bind(u256_to_i64(e.modelId)?)
    .bind(e.fee.to_string())
    .bind(i64::from(e.royaltyBps))
    .bind(to_i64(block)?)
    .execute(conn)
    .await?;
    Ok(())
}

/// Every model, by id.
pub async fn list(pool: &AnyPool) -> Result<Vec<ModelRecord>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM models ORDER BY id"));
    sqlx::query(sql)
        .fetch_all(pool)
        .await?
        .iter()
        .map(ModelRecord::from_row)
        .collect()
}

/// One model, read with `db` (the pool, or a connection inside a transaction).
pub async fn get<'c>(
    db: impl Executor<'c, Database = Any>,
    id: u64,
) -> Result<Option<ModelRecord>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM models WHERE id = $1"));
    let row = sqlx::query(sql)
        .bind(to_i64(id)?)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(ModelRecord::from_row).transpose()
}

/// Number of models in each status (every status listed, zeros included).
pub async fn count_by_status(pool: &AnyPool) -> Result<Vec<(ModelStatus, u64)>> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM models GROUP BY status")
            .fetch_all(pool)
            .await?;
    Ok(crate::columns::MODEL_STATUSES
        .into_iter()
        .map(|s| {
            (
                s,
                rows.iter()
                    .find(|(n, _)| n == model_status_str(s))
                    .map_or(0, |(_, c)| *c as u64),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model(shape: [u32; 3]) -> ModelRecord {
        ModelRecord {
            id: 1,
            owner: String::new(),
            root: String::new(),
            op_count: 1,
            input_len: shape.iter().product(),
            output_len: 1,
            input_shape: shape,
            input_zero: 0,
            output_shape: [1, 1, 1],
            fee_wei: "0".into(),
            royalty_bps: 0,
            status: ModelStatus::Active,
            name: String::new(),
            uri: String::new(),
        }
    }

    fn nested(dims: &[usize], next: &mut i64) -> serde_json::Value {
        match dims.split_first() {
            None => {
                *next += 1;
                json!((*next % 256) - 128)
            }
            Some((&d, rest)) => {
                serde_json::Value::Array((0..d).map(|_| nested(rest, next)).collect())
            }
        }
    }

    #[test]
    fn input_is_checked_against_the_shape_not_only_the_count() {
        let m = model([8, 8, 1]);
        let flat: Vec<i8> = (0..64).map(|i| (i + 1 - 128) as i8).collect();
        assert_eq!(m.input_from_json(&json!(flat)).unwrap(), flat);
        let exact = nested(&[8, 8, 1], &mut 0);
        assert_eq!(m.input_from_json(&exact).unwrap(), flat, "row-major");
        // Every other nesting of 64 elements is refused, with the shape it has.
        for dims in [
            &[2, 32][..],
            &[8, 8],
            &[1, 8, 8],
            &[8, 1, 8],
            &[64, 1],
            &[1, 64],
            &[8, 8, 1, 1],
            &[4, 4, 4],
        ] {
            let e = m.input_from_json(&nested(dims, &mut 0)).unwrap_err();
            let shown: String = dims.iter().map(|d| format!("[{d}]")).collect();
            assert!(
                e.contains(&format!("nested as {shown}")) && e.contains("[8][8][1]"),
                "{dims:?}: {e}"
            );
        }
        let e = m.input_from_json(&json!([1, 2, 3])).unwrap_err();
        assert!(e.starts_with("input has 3 elements"), "{e}");
        let e = m.input_from_json(&json!([[1, 2], [3]])).unwrap_err();
        assert!(e.starts_with("input is ragged"), "{e}");
        let e = m.input_from_json(&json!([1, 300])).unwrap_err();
        assert!(e.contains("300") && e.contains("index 1"), "{e}");
        assert!(m.input_from_json(&json!(5)).is_err());
        assert!(m.input_from_json(&json!([])).is_err());
    }

    #[test]
    fn vectors_take_flat_or_exactly_nested_input() {
        let m = model([1, 1, 16]);
        let flat: Vec<i8> = (0..16).collect();
        assert_eq!(m.input_from_json(&json!(flat)).unwrap(), flat);
        assert_eq!(m.input_from_json(&json!([[flat]])).unwrap(), flat);
        let rows: Vec<&[i8]> = flat.chunks(4).collect();
        assert!(m.input_from_json(&json!(rows)).is_err());
    }
}
