//! API keys: who may make the coordinator spend its ether (`POST /v1/jobs`).
//!
//! A key is `vk_<id>_<secret>` with 8 random bytes of public id and 32 of secret; it is shown once,
//! at creation, and the database keeps only its keccak256 hash. Each key has a rate limit (requests
//! per minute, counted in the database so coordinators sharing PostgreSQL share the count) and a
//! spending cap in wei. The spending is reserved before `postJob` is sent and released if the
//! transaction fails, each by one compare-and-swap on the stored total, so concurrent requests on
//! any number of coordinators can never spend past the cap.

use crate::{
    columns::{hex_bytes, to_i64, to_u64},
    error::{CoordinatorError, Result},
};
use alloy::primitives::{U256, keccak256};
use serde::Serialize;
use sqlx::{AnyPool, Row, any::AnyRow};

/// A key as stored (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    /// Public id (the part of the key after `vk_`, before the secret).
    pub id: String,
    /// Who it is for, in words.
    pub name: String,
    /// Requests per minute it may make to spending endpoints.
    pub rate_per_minute: u32,
    /// Total fees it may make the coordinator pay, in wei.
    pub cap_wei: U256,
    /// Fees paid (or reserved for a transaction in flight) so far, in wei.
    pub spent_wei: U256,
    /// Unix time it was created.
    pub created_at: u64,
    /// Unix time it was revoked, if it was.
    pub revoked_at: Option<u64>,
}

/// A freshly created key: the only time its secret exists outside the client.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// The whole key to hand to the client: `vk_<id>_<secret>`.
    pub secret: String,
    /// What is stored.
    pub key: ApiKey,
}

/// Whether a request carrying a key may go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Admitted; the request is counted against the key's rate.
    Admitted(ApiKey),
    /// No such key.
    Unknown,
    /// The key was revoked.
    Revoked,
    /// The key made `rate_per_minute` requests this minute; the next minute starts in
    /// `retry_after_secs`.
    RateLimited {
        /// The key's id.
        id: String,
        /// Its limit.
        rate_per_minute: u32,
        /// Seconds until the next minute.
        retry_after_secs: u64,
    },
}

/// Whether a key may spend `amount` more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// Reserved: the key's total now includes it.
    Reserved,
    /// The cap would be passed; nothing changed.
    OverCap {
        /// Spent so far.
        spent_wei: U256,
        /// The cap.
        cap_wei: U256,
    },
}

const COLUMNS: &str = "id, name, rate_per_minute, cap_wei, spent_wei, created_at, revoked_at";

impl ApiKey {
    fn from_row(row: &AnyRow) -> Result<Self> {
        let wei = |col: &str| -> Result<U256> {
            let s: String = row.try_get(col)?;
            s.parse()
                .map_err(|_| CoordinatorError::Invalid(format!("api_keys.{col} = {s}")))
        };
        let rate: i64 = row.try_get("rate_per_minute")?;
        let revoked_at: Option<i64> = row.try_get("revoked_at")?;
        Ok(Self {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            rate_per_minute: u32::try_from(rate).map_err(|_| {
                CoordinatorError::Invalid(format!("api_keys.rate_per_minute = {rate}"))
            })?,
            cap_wei: wei("cap_wei")?,
            spent_wei: wei("spent_wei")?,
            created_at: to_u64(row.try_get("created_at")?)?,
            revoked_at: revoked_at.map(to_u64).transpose()?,
        })
    }
}

/// The stored form of a key: `0x` keccak256 of the whole key.
fn hash(secret: &str) -> String {
    hex_bytes(keccak256(secret.as_bytes()).as_slice())
}

/// Creates a key allowed `rate_per_minute` spending requests a minute (at least 1) and `cap_wei`
/// in fees; `now` is the unix time.
pub async fn create(
    pool: &AnyPool,
    name: &str,
    rate_per_minute: u32,
    cap_wei: U256,
    now: u64,
) -> Result<NewKey> {
    if rate_per_minute == 0 {
        return Err(CoordinatorError::Invalid(
            "a key's rate must be at least 1 request per minute".into(),
        ));
    }
    let id = hex::encode(rand::random::<[u8; 8]>());
    let secret = format!("vk_{id}_{}", hex::encode(rand::random::<[u8; 32]>()));
    sqlx::query(
        "INSERT INTO api_keys (id, key_hash, name, rate_per_minute, cap_wei, spent_wei, window_start, \
         window_count, created_at) VALUES ($1, $2, $3, $4, $5, '0', 0, 0, $6)",
    )
    .bind(id.clone())
    .bind(hash(&secret))
    .bind(name.to_owned())
    .bind(i64::from(rate_per_minute))
    .bind(cap_wei.to_string())
    .bind(to_i64(now)?)
    .execute(pool)
    .await?;
    Ok(NewKey {
        secret,
        key: ApiKey {
            id,
            name: name.to_owned(),
            rate_per_minute,
            cap_wei,
            spent_wei: U256::ZERO,
            created_at: now,
            revoked_at: None,
        },
    })
}

/// Every key, oldest first.
pub async fn list(pool: &AnyPool) -> Result<Vec<ApiKey>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id"
    ));
    sqlx::query(sql)
        .fetch_all(pool)
        .await?
        .iter()
        .map(ApiKey::from_row)
        .collect()
}

/// One key by id.
pub async fn get(pool: &AnyPool, id: &str) -> Result<Option<ApiKey>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1"));
    let row = sqlx::query(sql)
        .bind(id.to_owned())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(ApiKey::from_row).transpose()
}

/// Revokes the key `id` at unix time `now`; false if there is no such key (or it was revoked).
pub async fn revoke(pool: &AnyPool, id: &str, now: u64) -> Result<bool> {
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id.to_owned())
            .bind(to_i64(now)?)
            .execute(pool)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Admits a request carrying `secret` at unix time `now`, counting it against the key's rate in
/// the same statement that checks it (fixed one-minute windows).
pub async fn admit(pool: &AnyPool, secret: &str, now: u64) -> Result<Admission> {
    let minute = to_i64(now / 60)?;
    let key_hash = hash(secret);
    let done = sqlx::query(
        "UPDATE api_keys SET \
         window_count = CASE WHEN window_start < $2 THEN 1 ELSE window_count + 1 END, \
         window_start = CASE WHEN window_start < $2 THEN $2 ELSE window_start END \
         WHERE key_hash = $1 AND revoked_at IS NULL \
         AND (window_start < $2 OR window_count < rate_per_minute)",
    )
    .bind(key_hash.clone())
    .bind(minute)
    .execute(pool)
    .await?;
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1"
    ));
    let Some(row) = sqlx::query(sql).bind(key_hash).fetch_optional(pool).await? else {
        return Ok(Admission::Unknown);
    };
    let key = ApiKey::from_row(&row)?;
    Ok(if done.rows_affected() == 1 {
        Admission::Admitted(key)
    } else if key.revoked_at.is_some() {
        Admission::Revoked
    } else {
        Admission::RateLimited {
            id: key.id,
            rate_per_minute: key.rate_per_minute,
            retry_after_secs: 60 - now % 60,
        }
    })
}

/// Reserves `amount` of key `id`'s cap (compare-and-swap on the stored total, retried while other
/// requests move it).
pub async fn reserve(pool: &AnyPool, id: &str, amount: U256) -> Result<Reservation> {
    loop {
        let key = get(pool, id)
            .await?
            .ok_or_else(|| CoordinatorError::Invalid(format!("api key {id} vanished")))?;
        let total = key
            .spent_wei
            .checked_add(amount)
            .filter(|t| *t <= key.cap_wei);
        let Some(total) = total else {
            return Ok(Reservation::OverCap {
                spent_wei: key.spent_wei,
                cap_wei: key.cap_wei,
            });
        };
        if swap_spent(pool, id, key.spent_wei, total).await? {
            return Ok(Reservation::Reserved);
        }
    }
}

/// Gives back `amount` reserved by [`reserve`] for a transaction that was never mined.
pub async fn release(pool: &AnyPool, id: &str, amount: U256) -> Result<()> {
    loop {
        let key = get(pool, id)
            .await?
            .ok_or_else(|| CoordinatorError::Invalid(format!("api key {id} vanished")))?;
        if swap_spent(
            pool,
            id,
            key.spent_wei,
            key.spent_wei.saturating_sub(amount),
        )
        .await?
        {
            return Ok(());
        }
    }
}

/// Sets key `id`'s total to `to` if it is still `from`.
async fn swap_spent(pool: &AnyPool, id: &str, from: U256, to: U256) -> Result<bool> {
    let done = sqlx::query("UPDATE api_keys SET spent_wei = $3 WHERE id = $1 AND spent_wei = $2")
        .bind(id.to_owned())
        .bind(from.to_string())
        .bind(to.to_string())
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}
