//! CloudWatch Logs on PostgreSQL (schema in `sql/pg/logs_*.sql`), mirroring the SQLite store:
//! groups, streams and metric filters here, events (a packed batch per row) in
//! `log_events.rs`, subscription filters and what their delivery reads in `subscriptions.rs`,
//! the account's resource policies in `resource_policies.rs`. Every write joins the call's
//! group transaction (`crate::pg`), so a refused call leaves nothing behind. Nothing is cached
//! in memory: every read goes to the database, which several nodes share.

mod log_events;
mod resource_policies;
mod subscriptions;

use std::collections::BTreeMap;

use postgres::Row;

use crate::error::StoreError;
use crate::logs::{
    EventQuery, GroupKey, LogEvent, LogGroup, LogStream, LogsStore, MetricFilter, NewEvent,
    ResourcePolicy, StoredBatch, SubscriptionFilter,
};
use crate::pg::{Migration, PgDb, backend};
use crate::string_map::{map_of, map_text};

const MIGRATIONS: &[Migration] = &[Migration {
    store: "logs",
    version: 1,
    sql: include_str!("../../../sql/pg/logs_0001.sql"),
}];

pub struct PgLogs {
    db: PgDb,
}

const GROUP_COLUMNS: &str = "account, region, name, created_ms, retention_days, tags";

fn row_to_group(r: &Row) -> LogGroup {
    let tags: String = r.get(5);
    LogGroup {
        key: GroupKey {
            account: r.get(0),
            region: r.get(1),
            name: r.get(2),
        },
        created_ms: r.get(3),
        retention_days: r.get(4),
        tags: map_of(&tags),
    }
}

const STREAM_COLUMNS: &str =
    "name, created_ms, first_event_ms, last_event_ms, last_ingestion_ms, uploads";

fn row_to_stream(r: &Row) -> LogStream {
    LogStream {
        name: r.get(0),
        created_ms: r.get(1),
        first_event_ms: r.get(2),
        last_event_ms: r.get(3),
        last_ingestion_ms: r.get(4),
        uploads: r.get(5),
    }
}

fn row_to_filter(r: &Row) -> MetricFilter {
    MetricFilter {
        group: r.get(0),
        name: r.get(1),
        pattern: r.get(2),
        transformations: r.get(3),
        created_ms: r.get(4),
    }
}

impl PgLogs {
    /// The store in `schema` of the database at `url`.
    pub fn open(url: &str, schema: &str) -> Result<PgLogs, StoreError> {
        Ok(PgLogs {
            db: PgDb::connect(url, schema, MIGRATIONS)?,
        })
    }

    pub fn create_group(&self, g: &LogGroup) -> Result<bool, StoreError> {
        let k = &g.key;
        Ok(self.db.write_with(|c| {
            c.execute(
                &format!("INSERT INTO log_groups ({GROUP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"),
                &[&k.account, &k.region, &k.name, &g.created_ms, &g.retention_days, &map_text(&g.tags)],
            )
        })? > 0)
    }

    pub fn group(&self, key: &GroupKey) -> Result<Option<LogGroup>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                &format!("SELECT {GROUP_COLUMNS} FROM log_groups WHERE account = $1 AND region = $2 AND name = $3"),
                &[&key.account, &key.region, &key.name],
            )
            .map_err(backend)?
            .as_ref()
            .map(row_to_group))
    }

    pub fn groups(&self, account: &str, region: &str) -> Result<Vec<LogGroup>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {GROUP_COLUMNS} FROM log_groups WHERE account = $1 AND region = $2 ORDER BY name"),
                &[&account, &region],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_group)
            .collect())
    }

    pub fn delete_group(&self, key: &GroupKey) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            let args: [&(dyn postgres::types::ToSql + Sync); 3] =
                [&key.account, &key.region, &key.name];
            for table in [
                "log_batches",
                "log_streams",
                "metric_filters",
                "subscription_filters",
            ] {
                c.execute(
                    &format!("DELETE FROM {table} WHERE account = $1 AND region = $2 AND grp = $3"),
                    &args,
                )?;
            }
            c.execute(
                "DELETE FROM log_groups WHERE account = $1 AND region = $2 AND name = $3",
                &args,
            )
        })? > 0)
    }

    pub fn set_retention(&self, key: &GroupKey, days: Option<i64>) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute(
                "UPDATE log_groups SET retention_days = $4 WHERE account = $1 AND region = $2 AND name = $3",
                &[&key.account, &key.region, &key.name, &days],
            )
        })? > 0)
    }

    pub fn set_tags(
        &self,
        key: &GroupKey,
        tags: &BTreeMap<String, String>,
    ) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute(
                "UPDATE log_groups SET tags = $4 WHERE account = $1 AND region = $2 AND name = $3",
                &[&key.account, &key.region, &key.name, &map_text(tags)],
            )
        })? > 0)
    }

    pub fn create_stream(&self, key: &GroupKey, s: &LogStream) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute(
                &format!("INSERT INTO log_streams (account, region, grp, {STREAM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING"),
                &[&key.account, &key.region, &key.name, &s.name, &s.created_ms, &s.first_event_ms, &s.last_event_ms, &s.last_ingestion_ms, &s.uploads],
            )
        })? > 0)
    }

    pub fn stream(&self, key: &GroupKey, name: &str) -> Result<Option<LogStream>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                &format!("SELECT {STREAM_COLUMNS} FROM log_streams WHERE account = $1 AND region = $2 AND grp = $3 AND name = $4"),
                &[&key.account, &key.region, &key.name, &name],
            )
            .map_err(backend)?
            .as_ref()
            .map(row_to_stream))
    }

    pub fn streams(&self, key: &GroupKey) -> Result<Vec<LogStream>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {STREAM_COLUMNS} FROM log_streams WHERE account = $1 AND region = $2 AND grp = $3 ORDER BY name"),
                &[&key.account, &key.region, &key.name],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_stream)
            .collect())
    }

    pub fn delete_stream(&self, key: &GroupKey, name: &str) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            let args: [&(dyn postgres::types::ToSql + Sync); 4] =
                [&key.account, &key.region, &key.name, &name];
            c.execute(
                "DELETE FROM log_batches WHERE account = $1 AND region = $2 AND grp = $3 AND stream = $4",
                &args,
            )?;
            c.execute(
                "DELETE FROM log_streams WHERE account = $1 AND region = $2 AND grp = $3 AND name = $4",
                &args,
            )
        })? > 0)
    }

    pub fn put_metric_filter(&self, key: &GroupKey, f: &MetricFilter) -> Result<(), StoreError> {
        // A replacement keeps the creation time, as describe shows it.
        self.db.write_with(|c| {
            c.execute(
                "INSERT INTO metric_filters (account, region, grp, name, pattern, transformations, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (account, region, grp, name) DO UPDATE SET pattern = EXCLUDED.pattern, transformations = EXCLUDED.transformations",
                &[&key.account, &key.region, &key.name, &f.name, &f.pattern, &f.transformations, &f.created_ms],
            )
        })?;
        Ok(())
    }

    pub fn metric_filters(
        &self,
        account: &str,
        region: &str,
        group: Option<&str>,
    ) -> Result<Vec<MetricFilter>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT grp, name, pattern, transformations, created_ms FROM metric_filters
                 WHERE account = $1 AND region = $2 AND ($3::text IS NULL OR grp = $3) ORDER BY grp, name",
                &[&account, &region, &group],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_filter)
            .collect())
    }

    pub fn delete_metric_filter(&self, key: &GroupKey, name: &str) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute(
                "DELETE FROM metric_filters WHERE account = $1 AND region = $2 AND grp = $3 AND name = $4",
                &[&key.account, &key.region, &key.name, &name],
            )
        })? > 0)
    }
}

impl LogsStore for PgLogs {
    forward! {
        blocking:
        fn create_group(&self, g: &LogGroup) -> Result<bool, StoreError>;
        fn group(&self, key: &GroupKey) -> Result<Option<LogGroup>, StoreError>;
        fn groups(&self, account: &str, region: &str) -> Result<Vec<LogGroup>, StoreError>;
        fn delete_group(&self, key: &GroupKey) -> Result<bool, StoreError>;
        fn set_retention(&self, key: &GroupKey, days: Option<i64>) -> Result<bool, StoreError>;
        fn set_tags(&self, key: &GroupKey, tags: &BTreeMap<String, String>) -> Result<bool, StoreError>;
        fn create_stream(&self, key: &GroupKey, s: &LogStream) -> Result<bool, StoreError>;
        fn stream(&self, key: &GroupKey, name: &str) -> Result<Option<LogStream>, StoreError>;
        fn streams(&self, key: &GroupKey) -> Result<Vec<LogStream>, StoreError>;
        fn delete_stream(&self, key: &GroupKey, name: &str) -> Result<bool, StoreError>;
        fn put_events(&self, key: &GroupKey, stream: &str, events: &[NewEvent], ingestion_ms: i64) -> Result<LogStream, StoreError>;
        fn events(&self, key: &GroupKey, q: &EventQuery) -> Result<Vec<LogEvent>, StoreError>;
        fn expire_events(&self, key: &GroupKey, before_ms: i64) -> Result<u64, StoreError>;
        fn put_metric_filter(&self, key: &GroupKey, f: &MetricFilter) -> Result<(), StoreError>;
        fn metric_filters(&self, account: &str, region: &str, group: Option<&str>) -> Result<Vec<MetricFilter>, StoreError>;
        fn delete_metric_filter(&self, key: &GroupKey, name: &str) -> Result<bool, StoreError>;
        fn put_subscription_filter(&self, key: &GroupKey, f: &SubscriptionFilter) -> Result<(), StoreError>;
        fn subscription_filters(&self, account: &str, region: &str, group: Option<&str>) -> Result<Vec<SubscriptionFilter>, StoreError>;
        fn all_subscription_filters(&self) -> Result<Vec<(GroupKey, SubscriptionFilter)>, StoreError>;
        fn delete_subscription_filter(&self, key: &GroupKey, name: &str) -> Result<bool, StoreError>;
        fn subscription_cursor(&self) -> Result<(i64, i64), StoreError>;
        fn set_subscription_cursor(&self, next: i64) -> Result<(), StoreError>;
        fn batches_from(&self, from: i64, limit: usize) -> Result<Vec<StoredBatch>, StoreError>;
        fn put_resource_policy(&self, account: &str, region: &str, p: &ResourcePolicy) -> Result<(), StoreError>;
        fn resource_policies(&self, account: &str, region: &str) -> Result<Vec<ResourcePolicy>, StoreError>;
        fn delete_resource_policy(&self, account: &str, region: &str, name: &str) -> Result<bool, StoreError>;
    }
}
