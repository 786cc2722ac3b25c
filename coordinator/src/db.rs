//! The database: one `sqlx::Any` pool so the same code serves SQLite and PostgreSQL, with the
//! migrations in `migrations/` embedded in the binary.

use crate::error::Result;
use sqlx::{
    AnyPool, SqlSafeStr,
    any::AnyPoolOptions,
    migrate::{Migration, MigrationType, Migrator},
};

/// The embedded migrations, in order.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/0001_init.sql")),
    (2, "games", include_str!("../../migrations/0002_games.sql")),
    (
        3,
        "api keys",
        include_str!("../../migrations/0003_api_keys.sql"),
    ),
    (
        4,
        "walk game",
        include_str!("../../migrations/0004_walk_game.sql"),
    ),
    (
        5,
        "results",
        include_str!("../../migrations/0005_results.sql"),
    ),
    (
        6,
        "llm models",
        include_str!("../../migrations/0006_llm_models.sql"),
    ),
];

/// The migrator for [`MIGRATIONS`].
pub fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    description.into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// `url` with `mode=rwc` added for SQLite, so a missing database file is created.
fn with_create_mode(url: &str) -> String {
    if !url.starts_with("sqlite:") || url.contains("mode=") || url.contains(":memory:") {
        return url.to_owned();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}mode=rwc")
}

/// Connects to `url` (SQLite files are created if missing and switched to WAL) and applies every
/// pending migration.
pub async fn connect(url: &str) -> Result<AnyPool> {
    sqlx::any::install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    let pool = AnyPoolOptions::new()
        .max_connections(if sqlite { 4 } else { 10 })
        .connect(&with_create_mode(url))
        .await?;
    if sqlite {
        // Persistent in the file: readers never block the indexer's writer.
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&pool)
            .await?;
    }
    migrator().run(&pool).await?;
    Ok(pool)
}

/// The first block the follower `name` has not applied yet, if it has run before.
pub async fn load_cursor(pool: &AnyPool, name: &str) -> Result<Option<u64>> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT next_block FROM indexer_cursor WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(b,)| b as u64))
}

/// Stores the follower `name`'s cursor (inside the caller's transaction).
pub async fn store_cursor(
    conn: &mut sqlx::AnyConnection,
    name: &str,
    next_block: u64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO indexer_cursor (name, next_block) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET next_block = excluded.next_block",
    )
    .bind(name)
    .bind(crate::columns::to_i64(next_block)?)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_create_missing_files() {
        assert_eq!(
            with_create_mode("sqlite:///tmp/a.db"),
            "sqlite:///tmp/a.db?mode=rwc"
        );
        assert_eq!(
            with_create_mode("sqlite:///tmp/a.db?cache=shared"),
            "sqlite:///tmp/a.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            with_create_mode("sqlite:///tmp/a.db?mode=ro"),
            "sqlite:///tmp/a.db?mode=ro"
        );
        assert_eq!(with_create_mode("postgres://u@h/db"), "postgres://u@h/db");
    }
}
