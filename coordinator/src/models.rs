//! The `models` table: rows written from registry events, read by the API.

use crate::{
    columns::{hex_bytes, model_status_str, parse_model_status, to_i64, to_u64, u256_to_i64},
    error::{CoordinatorError, Result},
};
use alloy::primitives::U256;
use sqlx::{Any, AnyConnection, AnyPool, Executor, Row, any::AnyRow};
use vouch_chain::{
    bindings::ModelRegistry::{LlmPriceUpdated, LlmRegistered, ModelPriceUpdated, ModelRegistered},
    llm::LlmPrice,
    registry::{ModelStatus, meta_from_uri},
};
use vouch_client::{LlmConfigRecord, LlmPriceRecord, ModelKind, ModelRecord};

const COLUMNS: &str = "id, kind, owner, root, op_count, input_len, output_len, input_h, input_w, input_c, input_zero, output_h, \
     output_w, output_c, fee_wei, royalty_bps, status, name, uri, llm_blocks, llm_hidden, llm_heads, llm_kv_heads, \
     llm_head_dim, llm_ffn, llm_vocab, llm_context, llm_eos, llm_input_token_wei, llm_output_token_wei";

fn small<T: TryFrom<i64>>(row: &AnyRow, col: &str) -> Result<T> {
    let v: i64 = row.try_get(col)?;
    T::try_from(v)
        .map_err(|_| CoordinatorError::Invalid(format!("models.{col} = {v} out of range")))
}

/// A language model's config columns (`None` for a tensor model).
fn llm_config_from_row(row: &AnyRow) -> Result<Option<LlmConfigRecord>> {
    let blocks: Option<i64> = row.try_get("llm_blocks")?;
    if blocks.is_none() {
        return Ok(None);
    }
    Ok(Some(LlmConfigRecord {
        blocks: small(row, "llm_blocks")?,
        hidden: small(row, "llm_hidden")?,
        heads: small(row, "llm_heads")?,
        kv_heads: small(row, "llm_kv_heads")?,
        head_dim: small(row, "llm_head_dim")?,
        ffn: small(row, "llm_ffn")?,
        vocab: small(row, "llm_vocab")?,
        context: small(row, "llm_context")?,
        eos: small(row, "llm_eos")?,
    }))
}

/// A row of the table, as served.
fn model_from_row(row: &AnyRow) -> Result<ModelRecord> {
    let status: String = row.try_get("status")?;
    let kind: String = row.try_get("kind")?;
    Ok(ModelRecord {
        id: to_u64(row.try_get("id")?)?,
        kind: ModelKind::parse(&kind)
            .ok_or_else(|| CoordinatorError::Invalid(format!("models.kind = {kind}")))?,
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
        llm_config: llm_config_from_row(row)?,
        llm_price: match (
            row.try_get::<Option<String>, _>("llm_input_token_wei")?,
            row.try_get::<Option<String>, _>("llm_output_token_wei")?,
        ) {
            (Some(input_token_wei), Some(output_token_wei)) => Some(LlmPriceRecord {
                input_token_wei,
                output_token_wei,
            }),
            _ => None,
        },
    })
}

/// A language model's per-token prices as numbers (`None` for a tensor model).
pub fn llm_price(model: &ModelRecord) -> Result<Option<LlmPrice>> {
    let Some(p) = &model.llm_price else {
        return Ok(None);
    };
    let wei = |v: &str, col: &str| {
        v.parse::<U256>()
            .map_err(|_| CoordinatorError::Invalid(format!("models.{col} = {v}")))
    };
    Ok(Some(LlmPrice {
        per_input: wei(&p.input_token_wei, "llm_input_token_wei")?,
        per_output: wei(&p.output_token_wei, "llm_output_token_wei")?,
    }))
}

/// The model's fee as a number.
pub fn fee(model: &ModelRecord) -> Result<U256> {
    model
        .fee_wei
        .parse()
        .map_err(|_| CoordinatorError::Invalid(format!("models.fee_wei = {}", model.fee_wei)))
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

/// `LlmRegistered`: inserts the language model as pending, with its config (its tensor shapes are
/// 0, as the registry holds them). A replay leaves the existing row alone.
pub async fn llm_registered(conn: &mut AnyConnection, e: &LlmRegistered, block: u64) -> Result<()> {
    let id = u256_to_i64(e.modelId)?;
    let name = meta_from_uri(&e.uri).map_or_else(|| format!("model-{id}"), |m| m.name);
    let c = &e.config;
    sqlx::query(
        "INSERT INTO models (id, kind, owner, root, op_count, input_len, output_len, input_h, input_w, input_c, \
         input_zero, output_h, output_w, output_c, fee_wei, royalty_bps, status, name, uri, registered_block, \
         updated_block, llm_blocks, llm_hidden, llm_heads, llm_kv_heads, llm_head_dim, llm_ffn, llm_vocab, \
         llm_context, llm_eos, llm_input_token_wei, llm_output_token_wei) \
         VALUES ($1, $2, $3, $4, $5, 0, 0, 0, 0, 0, 0, 0, 0, 0, '0', $6, $7, $8, $9, $10, $10, $11, $12, $13, $14, \
         $15, $16, $17, $18, $19, $20, $21) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(ModelKind::Llm.as_str())
    .bind(hex_bytes(e.owner.as_slice()))
    .bind(hex_bytes(e.root.as_slice()))
    .bind(i64::from(e.opCount))
    .bind(i64::from(e.royaltyBps))
    .bind(model_status_str(ModelStatus::Pending))
    .bind(name)
    .bind(e.uri.clone())
    .bind(to_i64(block)?)
    .bind(i64::from(c.blocks))
    .bind(i64::from(c.hidden))
    .bind(i64::from(c.heads))
    .bind(i64::from(c.kvHeads))
    .bind(i64::from(c.headDim))
    .bind(i64::from(c.ffn))
    .bind(i64::from(c.vocab))
    .bind(i64::from(c.context))
    .bind(i64::from(c.eos))
    .bind(e.perInputToken.to_string())
    .bind(e.perOutputToken.to_string())
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

/// `LlmPriceUpdated`: a language model's per-token prices and royalty for future jobs.
pub async fn llm_price_updated(
    conn: &mut AnyConnection,
    e: &LlmPriceUpdated,
    block: u64,
) -> Result<()> {
    sqlx::query(
        "UPDATE models SET llm_input_token_wei = $2, llm_output_token_wei = $3, royalty_bps = $4, \
         updated_block = $5 WHERE id = $1",
    )
    .bind(u256_to_i64(e.modelId)?)
    .bind(e.perInputToken.to_string())
    .bind(e.perOutputToken.to_string())
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
        .map(model_from_row)
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
    row.as_ref().map(model_from_row).transpose()
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
