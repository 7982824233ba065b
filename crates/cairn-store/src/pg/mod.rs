//! PostgreSQL: the database several cairn nodes share (DESIGN decision 5), beside the embedded
//! SQLite files of a single node.
//!
//! Each store keeps its tables in one PostgreSQL schema (a database may hold several cairn
//! deployments, and the shared store suite gives each case a fresh one). Its schema changes
//! are numbered migrations, `.sql` files under `sql/pg/` beside the SQLite schemas, applied in
//! order at open and remembered in `schema_migrations`, under an advisory lock so that nodes
//! starting together apply each once.
//!
//! Not yet done: writes made by a call commit at once here, where the SQLite stores hold
//! them in the group transaction that commits only once the call's record is durable
//! (`crate::db`). Until PostgreSQL stores join those groups, no store on PostgreSQL is
//! offered to `cairn serve`; the shared suite holds them to the same contract meanwhile.

use std::sync::{Mutex, MutexGuard};

use postgres::{Client, NoTls};

use crate::error::StoreError;

/// One numbered schema change of a store.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The store it belongs to (`kms`, …).
    pub store: &'static str,
    /// Applied in increasing order, each once.
    pub version: i32,
    pub sql: &'static str,
}

/// A connection to one schema of a PostgreSQL database, with a store's migrations applied.
pub struct PgDb {
    client: Mutex<Client>,
}

/// PostgreSQL's error as the stores report backend failures.
pub(crate) fn backend(e: postgres::Error) -> StoreError {
    StoreError::Backend {
        engine: "postgres",
        message: e.to_string(),
    }
}

/// A schema name cairn made or was given: letters, digits and `_`, as an identifier written
/// without quotes.
fn valid_schema(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Serialises migrations across every node and store of a database (a fixed key).
const MIGRATION_LOCK: i64 = 0x6361_6972_6e00; // "cairn\0"

impl PgDb {
    /// Connects (`url`: `postgres://user@host:port/db` or `host=… port=…`), makes `schema` if
    /// needed, works in it, and applies the store's migrations not applied yet.
    pub fn connect(url: &str, schema: &str, migrations: &[Migration]) -> Result<PgDb, StoreError> {
        if !valid_schema(schema) {
            return Err(StoreError::Invalid(format!(
                "PostgreSQL schema name {schema:?}: lower-case letters, digits and _, starting with a letter"
            )));
        }
        let mut client = Client::connect(url, NoTls).map_err(backend)?;
        client
            .batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema}"
            ))
            .map_err(backend)?;
        migrate(&mut client, migrations)?;
        Ok(PgDb {
            client: Mutex::new(client),
        })
    }

    /// The connection, for one store operation at a time.
    pub(crate) fn client(&self) -> MutexGuard<'_, Client> {
        self.client.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Applies, in order and each in its own transaction, the migrations not yet recorded.
fn migrate(client: &mut Client, migrations: &[Migration]) -> Result<(), StoreError> {
    let mut tx = client.transaction().map_err(backend)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(backend)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             store TEXT NOT NULL,
             version INTEGER NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
             PRIMARY KEY (store, version))",
    )
    .map_err(backend)?;
    let mut sorted: Vec<&Migration> = migrations.iter().collect();
    sorted.sort_by_key(|m| (m.store, m.version));
    for m in sorted {
        let done = tx
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE store = $1 AND version = $2",
                &[&m.store, &m.version],
            )
            .map_err(backend)?
            .is_some();
        if done {
            continue;
        }
        tx.batch_execute(m.sql).map_err(|e| StoreError::Backend {
            engine: "postgres",
            message: format!("migration {} {}: {e}", m.store, m.version),
        })?;
        tx.execute(
            "INSERT INTO schema_migrations (store, version) VALUES ($1, $2)",
            &[&m.store, &m.version],
        )
        .map_err(backend)?;
        tracing::info!(
            store = m.store,
            version = m.version,
            "PostgreSQL migration applied"
        );
    }
    tx.commit().map_err(backend)
}

#[cfg(test)]
mod tests {
    use super::valid_schema;

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(valid_schema("cairn"));
        assert!(valid_schema("suite_12"));
        for bad in ["", "Cairn", "1x", "a-b", "a;drop", "a b", &"x".repeat(64)] {
            assert!(!valid_schema(bad), "{bad}");
        }
    }
}
