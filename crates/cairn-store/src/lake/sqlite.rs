//! Lake's metadata in SQLite (`lake.db`, schema in `sql/lake.sql`).

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{OptionalExtension, params};

use super::{EventDataStore, LakeStore, Query, json_or, json_text};
use crate::db::Db;
use crate::error::StoreError;

const SCHEMA: &str = include_str!("../../sql/lake.sql");

pub struct SqliteLake {
    db: Db,
}

const STORE_COLUMNS: &str = "arn, id, account, region, name, status, settings, created_ms, updated_ms, tags, ingest_ranges, deleted_ms";

fn row_to_store(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventDataStore> {
    let tags: String = r.get(9)?;
    let ranges: String = r.get(10)?;
    Ok(EventDataStore {
        arn: r.get(0)?,
        id: r.get(1)?,
        account: r.get(2)?,
        region: r.get(3)?,
        name: r.get(4)?,
        status: r.get(5)?,
        settings: r.get(6)?,
        created_ms: r.get(7)?,
        updated_ms: r.get(8)?,
        tags: json_or::<BTreeMap<String, String>>(&tags),
        ingest_ranges: json_or::<Vec<(u64, Option<u64>)>>(&ranges),
        deleted_ms: r.get(11)?,
    })
}

const QUERY_COLUMNS: &str = "id, account, region, stores, statement, status, created_ms, ended_ms, error, stats, delivery, delivery_status, columns";

fn row_to_query(r: &rusqlite::Row<'_>) -> rusqlite::Result<Query> {
    let stores: String = r.get(3)?;
    let columns: Option<String> = r.get(12)?;
    Ok(Query {
        id: r.get(0)?,
        account: r.get(1)?,
        region: r.get(2)?,
        stores: json_or::<Vec<String>>(&stores),
        statement: r.get(4)?,
        status: r.get(5)?,
        created_ms: r.get(6)?,
        ended_ms: r.get(7)?,
        error: r.get(8)?,
        stats: r.get(9)?,
        delivery: r.get(10)?,
        delivery_status: r.get(11)?,
        columns: columns.map(|c| json_or::<Vec<String>>(&c)),
    })
}

fn upsert_query(c: &rusqlite::Connection, q: &Query) -> rusqlite::Result<usize> {
    c.execute(
        &format!("INSERT OR REPLACE INTO queries ({QUERY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
        params![
            q.id,
            q.account,
            q.region,
            json_text(&q.stores),
            q.statement,
            q.status,
            q.created_ms,
            q.ended_ms,
            q.error,
            q.stats,
            q.delivery,
            q.delivery_status,
            q.columns.as_ref().map(json_text),
        ],
    )
}

impl SqliteLake {
    pub fn open(path: &Path) -> Result<SqliteLake, StoreError> {
        Ok(SqliteLake {
            db: Db::open(path, SCHEMA)?,
        })
    }

    pub fn put_store(&self, s: &EventDataStore) -> Result<(), StoreError> {
        self.db.write()?.execute(
            &format!("INSERT OR REPLACE INTO stores ({STORE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
            params![
                s.arn,
                s.id,
                s.account,
                s.region,
                s.name,
                s.status,
                s.settings,
                s.created_ms,
                s.updated_ms,
                json_text(&s.tags),
                json_text(&s.ingest_ranges),
                s.deleted_ms,
            ],
        )?;
        Ok(())
    }

    pub fn store(&self, arn: &str) -> Result<Option<EventDataStore>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                &format!("SELECT {STORE_COLUMNS} FROM stores WHERE arn = ?1"),
                [arn],
                row_to_store,
            )
            .optional()?)
    }

    pub fn store_by_id(&self, id: &str) -> Result<Option<EventDataStore>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                &format!("SELECT {STORE_COLUMNS} FROM stores WHERE id = ?1"),
                [id],
                row_to_store,
            )
            .optional()?)
    }

    pub fn stores(&self, account: &str) -> Result<Vec<EventDataStore>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {STORE_COLUMNS} FROM stores WHERE account = ?1 ORDER BY created_ms, arn"
        ))?;
        let rows = st.query_map([account], row_to_store)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn all_stores(&self) -> Result<Vec<EventDataStore>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {STORE_COLUMNS} FROM stores ORDER BY created_ms, arn"
        ))?;
        let rows = st.query_map([], row_to_store)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn remove_store(&self, arn: &str) -> Result<bool, StoreError> {
        Ok(self
            .db
            .write()?
            .execute("DELETE FROM stores WHERE arn = ?1", [arn])?
            > 0)
    }

    pub fn put_query(&self, q: &Query) -> Result<(), StoreError> {
        let c = self.db.write()?;
        upsert_query(&c, q)?;
        Ok(())
    }

    pub fn query(&self, id: &str) -> Result<Option<Query>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                &format!("SELECT {QUERY_COLUMNS} FROM queries WHERE id = ?1"),
                [id],
                row_to_query,
            )
            .optional()?)
    }

    pub fn queries(&self, account: &str, since_ms: i64) -> Result<Vec<Query>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {QUERY_COLUMNS} FROM queries WHERE account = ?1 AND created_ms >= ?2 ORDER BY created_ms DESC, id"
        ))?;
        let rows = st.query_map(params![account, since_ms], row_to_query)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn queries_in(&self, status: &str) -> Result<Vec<Query>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {QUERY_COLUMNS} FROM queries WHERE status = ?1 ORDER BY created_ms, id"
        ))?;
        let rows = st.query_map([status], row_to_query)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn finish_query(&self, q: &Query, rows: &[String]) -> Result<(), StoreError> {
        let c = self.db.write()?;
        upsert_query(&c, q)?;
        c.execute("DELETE FROM query_rows WHERE query_id = ?1", [&q.id])?;
        let mut st =
            c.prepare_cached("INSERT INTO query_rows (query_id, n, row) VALUES (?1, ?2, ?3)")?;
        for (n, row) in rows.iter().enumerate() {
            st.execute(params![q.id, n as i64, row])?;
        }
        Ok(())
    }

    pub fn results(&self, id: &str, from: u64, limit: usize) -> Result<Vec<String>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT row FROM query_rows WHERE query_id = ?1 AND n >= ?2 ORDER BY n LIMIT ?3",
        )?;
        let rows = st.query_map(
            params![
                id,
                i64::try_from(from).unwrap_or(i64::MAX),
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            |r| r.get::<_, String>(0),
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn forget_queries(&self, before_ms: i64) -> Result<usize, StoreError> {
        let c = self.db.write()?;
        c.execute(
            "DELETE FROM query_rows WHERE query_id IN (SELECT id FROM queries WHERE created_ms < ?1)",
            [before_ms],
        )?;
        Ok(c.execute("DELETE FROM queries WHERE created_ms < ?1", [before_ms])?)
    }

    pub fn put_document(
        &self,
        kind: &str,
        key: &str,
        account: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        self.db.write()?.execute(
            "INSERT OR REPLACE INTO documents (kind, key, account, body) VALUES (?1, ?2, ?3, ?4)",
            params![kind, key, account, body],
        )?;
        Ok(())
    }

    pub fn document(&self, kind: &str, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                "SELECT body FROM documents WHERE kind = ?1 AND key = ?2",
                [kind, key],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn documents(
        &self,
        kind: &str,
        account: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT key, body FROM documents WHERE kind = ?1 AND account = ?2 ORDER BY key",
        )?;
        let rows = st.query_map([kind, account], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn remove_document(&self, kind: &str, key: &str) -> Result<bool, StoreError> {
        Ok(self.db.write()?.execute(
            "DELETE FROM documents WHERE kind = ?1 AND key = ?2",
            [kind, key],
        )? > 0)
    }
}

impl LakeStore for SqliteLake {
    forward! {
        fn put_store(&self, s: &EventDataStore) -> Result<(), StoreError>;
        fn store(&self, arn: &str) -> Result<Option<EventDataStore>, StoreError>;
        fn store_by_id(&self, id: &str) -> Result<Option<EventDataStore>, StoreError>;
        fn stores(&self, account: &str) -> Result<Vec<EventDataStore>, StoreError>;
        fn all_stores(&self) -> Result<Vec<EventDataStore>, StoreError>;
        fn remove_store(&self, arn: &str) -> Result<bool, StoreError>;
        fn put_query(&self, q: &Query) -> Result<(), StoreError>;
        fn query(&self, id: &str) -> Result<Option<Query>, StoreError>;
        fn queries(&self, account: &str, since_ms: i64) -> Result<Vec<Query>, StoreError>;
        fn queries_in(&self, status: &str) -> Result<Vec<Query>, StoreError>;
        fn finish_query(&self, q: &Query, rows: &[String]) -> Result<(), StoreError>;
        fn results(&self, id: &str, from: u64, limit: usize) -> Result<Vec<String>, StoreError>;
        fn forget_queries(&self, before_ms: i64) -> Result<usize, StoreError>;
        fn put_document(&self, kind: &str, key: &str, account: &str, body: &str) -> Result<(), StoreError>;
        fn document(&self, kind: &str, key: &str) -> Result<Option<String>, StoreError>;
        fn documents(&self, kind: &str, account: &str) -> Result<Vec<(String, String)>, StoreError>;
        fn remove_document(&self, kind: &str, key: &str) -> Result<bool, StoreError>;
    }
}
