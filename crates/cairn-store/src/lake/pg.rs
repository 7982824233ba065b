//! Lake's metadata on PostgreSQL (schema in `sql/pg/lake_*.sql`). Writes commit with the
//! record of the call that made them (`crate::pg`); the query runner's, outside calls, at once.

use std::collections::BTreeMap;

use postgres::{Client, Row};

use super::{EventDataStore, LakeStore, Query, json_or, json_text};
use crate::error::StoreError;
use crate::pg::{Migration, PgDb, backend};

const MIGRATIONS: &[Migration] = &[Migration {
    store: "lake",
    version: 1,
    sql: include_str!("../../sql/pg/lake_0001.sql"),
}];

const STORE_COLUMNS: &str = "arn, id, account, region, name, status, settings, created_ms, updated_ms, tags, ingest_ranges, deleted_ms";
const QUERY_COLUMNS: &str = "id, account, region, stores, statement, status, created_ms, ended_ms, error, stats, delivery, delivery_status, columns";

pub struct PgLake {
    db: PgDb,
}

fn row_to_store(r: &Row) -> EventDataStore {
    let tags: String = r.get(9);
    let ranges: String = r.get(10);
    EventDataStore {
        arn: r.get(0),
        id: r.get(1),
        account: r.get(2),
        region: r.get(3),
        name: r.get(4),
        status: r.get(5),
        settings: r.get(6),
        created_ms: r.get(7),
        updated_ms: r.get(8),
        tags: json_or::<BTreeMap<String, String>>(&tags),
        ingest_ranges: json_or::<Vec<(u64, Option<u64>)>>(&ranges),
        deleted_ms: r.get(11),
    }
}

fn row_to_query(r: &Row) -> Query {
    let stores: String = r.get(3);
    let columns: Option<String> = r.get(12);
    Query {
        id: r.get(0),
        account: r.get(1),
        region: r.get(2),
        stores: json_or::<Vec<String>>(&stores),
        statement: r.get(4),
        status: r.get(5),
        created_ms: r.get(6),
        ended_ms: r.get(7),
        error: r.get(8),
        stats: r.get(9),
        delivery: r.get(10),
        delivery_status: r.get(11),
        columns: columns.map(|c| json_or::<Vec<String>>(&c)),
    }
}

fn upsert_query(c: &mut Client, q: &Query) -> Result<u64, postgres::Error> {
    c.execute(
        &format!(
            "INSERT INTO queries ({QUERY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (id) DO UPDATE SET account = EXCLUDED.account, region = EXCLUDED.region,
               stores = EXCLUDED.stores, statement = EXCLUDED.statement, status = EXCLUDED.status,
               created_ms = EXCLUDED.created_ms, ended_ms = EXCLUDED.ended_ms, error = EXCLUDED.error,
               stats = EXCLUDED.stats, delivery = EXCLUDED.delivery,
               delivery_status = EXCLUDED.delivery_status, columns = EXCLUDED.columns"
        ),
        &[
            &q.id,
            &q.account,
            &q.region,
            &json_text(&q.stores),
            &q.statement,
            &q.status,
            &q.created_ms,
            &q.ended_ms,
            &q.error,
            &q.stats,
            &q.delivery,
            &q.delivery_status,
            &q.columns.as_ref().map(json_text),
        ],
    )
}

fn to_i64(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

impl PgLake {
    /// The store in `schema` of the database at `url`.
    pub fn open(url: &str, schema: &str) -> Result<PgLake, StoreError> {
        Ok(PgLake {
            db: PgDb::connect(url, schema, MIGRATIONS)?,
        })
    }

    pub fn put_store(&self, s: &EventDataStore) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                &format!(
                    "INSERT INTO stores ({STORE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                     ON CONFLICT (arn) DO UPDATE SET id = EXCLUDED.id, account = EXCLUDED.account,
                       region = EXCLUDED.region, name = EXCLUDED.name, status = EXCLUDED.status,
                       settings = EXCLUDED.settings, created_ms = EXCLUDED.created_ms,
                       updated_ms = EXCLUDED.updated_ms, tags = EXCLUDED.tags,
                       ingest_ranges = EXCLUDED.ingest_ranges, deleted_ms = EXCLUDED.deleted_ms"
                ),
                &[
                    &s.arn,
                    &s.id,
                    &s.account,
                    &s.region,
                    &s.name,
                    &s.status,
                    &s.settings,
                    &s.created_ms,
                    &s.updated_ms,
                    &json_text(&s.tags),
                    &json_text(&s.ingest_ranges),
                    &s.deleted_ms,
                ],
            )
        })?;
        Ok(())
    }

    fn one_store(&self, column: &str, value: &str) -> Result<Option<EventDataStore>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                &format!("SELECT {STORE_COLUMNS} FROM stores WHERE {column} = $1"),
                &[&value],
            )
            .map_err(backend)?
            .as_ref()
            .map(row_to_store))
    }

    pub fn store(&self, arn: &str) -> Result<Option<EventDataStore>, StoreError> {
        self.one_store("arn", arn)
    }

    pub fn store_by_id(&self, id: &str) -> Result<Option<EventDataStore>, StoreError> {
        self.one_store("id", id)
    }

    pub fn stores(&self, account: &str) -> Result<Vec<EventDataStore>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!(
                    "SELECT {STORE_COLUMNS} FROM stores WHERE account = $1 ORDER BY created_ms, arn"
                ),
                &[&account],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_store)
            .collect())
    }

    pub fn all_stores(&self) -> Result<Vec<EventDataStore>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {STORE_COLUMNS} FROM stores ORDER BY created_ms, arn"),
                &[],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_store)
            .collect())
    }

    pub fn remove_store(&self, arn: &str) -> Result<bool, StoreError> {
        Ok(self
            .db
            .write_with(|c| c.execute("DELETE FROM stores WHERE arn = $1", &[&arn]))?
            > 0)
    }

    pub fn put_query(&self, q: &Query) -> Result<(), StoreError> {
        self.db.write_with(|c| upsert_query(c, q))?;
        Ok(())
    }

    pub fn query(&self, id: &str) -> Result<Option<Query>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                &format!("SELECT {QUERY_COLUMNS} FROM queries WHERE id = $1"),
                &[&id],
            )
            .map_err(backend)?
            .as_ref()
            .map(row_to_query))
    }

    pub fn queries(&self, account: &str, since_ms: i64) -> Result<Vec<Query>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {QUERY_COLUMNS} FROM queries WHERE account = $1 AND created_ms >= $2 ORDER BY created_ms DESC, id"),
                &[&account, &since_ms],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_query)
            .collect())
    }

    pub fn queries_in(&self, status: &str) -> Result<Vec<Query>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!(
                    "SELECT {QUERY_COLUMNS} FROM queries WHERE status = $1 ORDER BY created_ms, id"
                ),
                &[&status],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_query)
            .collect())
    }

    pub fn finish_query(&self, q: &Query, rows: &[String]) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            upsert_query(c, q)?;
            c.execute("DELETE FROM query_rows WHERE query_id = $1", &[&q.id])?;
            let insert =
                c.prepare("INSERT INTO query_rows (query_id, n, row) VALUES ($1, $2, $3)")?;
            for (n, row) in rows.iter().enumerate() {
                c.execute(&insert, &[&q.id, &to_i64(n), row])?;
            }
            Ok(())
        })
    }

    pub fn results(&self, id: &str, from: u64, limit: usize) -> Result<Vec<String>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT row FROM query_rows WHERE query_id = $1 AND n >= $2 ORDER BY n LIMIT $3",
                &[&id, &to_i64(from), &to_i64(limit)],
            )
            .map_err(backend)?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    pub fn forget_queries(&self, before_ms: i64) -> Result<usize, StoreError> {
        let gone = self.db.write_with(|c| {
            c.execute(
                "DELETE FROM query_rows WHERE query_id IN (SELECT id FROM queries WHERE created_ms < $1)",
                &[&before_ms],
            )?;
            c.execute("DELETE FROM queries WHERE created_ms < $1", &[&before_ms])
        })?;
        Ok(usize::try_from(gone).unwrap_or(usize::MAX))
    }

    pub fn put_document(
        &self,
        kind: &str,
        key: &str,
        account: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                "INSERT INTO documents (kind, key, account, body) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (kind, key) DO UPDATE SET account = EXCLUDED.account, body = EXCLUDED.body",
                &[&kind, &key, &account, &body],
            )
        })?;
        Ok(())
    }

    pub fn document(&self, kind: &str, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                "SELECT body FROM documents WHERE kind = $1 AND key = $2",
                &[&kind, &key],
            )
            .map_err(backend)?
            .map(|r| r.get(0)))
    }

    pub fn documents(
        &self,
        kind: &str,
        account: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT key, body FROM documents WHERE kind = $1 AND account = $2 ORDER BY key",
                &[&kind, &account],
            )
            .map_err(backend)?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    pub fn remove_document(&self, kind: &str, key: &str) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute(
                "DELETE FROM documents WHERE kind = $1 AND key = $2",
                &[&kind, &key],
            )
        })? > 0)
    }
}

impl LakeStore for PgLake {
    forward! {
        blocking:
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
