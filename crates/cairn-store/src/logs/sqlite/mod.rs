//! CloudWatch Logs in SQLite (`logs.db`, schema in `sql/logs.sql`): groups, streams and
//! metric filters here, events (a batch per row, packed by `crate::logs::batch`) in
//! `log_events.rs`, subscription filters and what their delivery reads in `subscriptions.rs`,
//! the account's resource policies in `resource_policies.rs`. Every write joins the call's group
//! transaction ([`Db::write`]), so a refused call leaves nothing behind.

mod log_events;
mod resource_policies;
mod subscriptions;

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{OptionalExtension, params};

use crate::db::Db;
use crate::error::StoreError;
use crate::logs::{
    EventQuery, GroupKey, LogEvent, LogGroup, LogStream, LogsStore, MetricFilter, NewEvent,
    ResourcePolicy, StoredBatch, SubscriptionFilter,
};

const SCHEMA: &str = include_str!("../../../sql/logs.sql");

pub struct SqliteLogs {
    db: Db,
}

fn tags_of(text: &str) -> BTreeMap<String, String> {
    // Only this module writes the column, always from a map of strings.
    serde_json::from_str(text).unwrap_or_default()
}

fn tags_text(tags: &BTreeMap<String, String>) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "{}".into())
}

fn row_to_group(r: &rusqlite::Row<'_>) -> rusqlite::Result<LogGroup> {
    let tags: String = r.get(5)?;
    Ok(LogGroup {
        key: GroupKey {
            account: r.get(0)?,
            region: r.get(1)?,
            name: r.get(2)?,
        },
        created_ms: r.get(3)?,
        retention_days: r.get(4)?,
        tags: tags_of(&tags),
    })
}

const STREAM_COLUMNS: &str =
    "name, created_ms, first_event_ms, last_event_ms, last_ingestion_ms, uploads";

fn row_to_stream(r: &rusqlite::Row<'_>) -> rusqlite::Result<LogStream> {
    Ok(LogStream {
        name: r.get(0)?,
        created_ms: r.get(1)?,
        first_event_ms: r.get(2)?,
        last_event_ms: r.get(3)?,
        last_ingestion_ms: r.get(4)?,
        uploads: r.get(5)?,
    })
}

fn row_to_filter(r: &rusqlite::Row<'_>) -> rusqlite::Result<MetricFilter> {
    Ok(MetricFilter {
        group: r.get(0)?,
        name: r.get(1)?,
        pattern: r.get(2)?,
        transformations: r.get(3)?,
        created_ms: r.get(4)?,
    })
}

impl SqliteLogs {
    pub fn open(path: &Path) -> Result<SqliteLogs, StoreError> {
        let logs = SqliteLogs {
            db: Db::open(path, SCHEMA)?,
        };
        let moved = logs.convert_event_rows()?;
        if moved > 0 {
            tracing::info!(events = moved, "log events converted to batches");
        }
        Ok(logs)
    }

    pub fn create_group(&self, g: &LogGroup) -> Result<bool, StoreError> {
        let k = &g.key;
        Ok(self.db.write()?.execute(
            "INSERT OR IGNORE INTO log_groups (account, region, name, created_ms, retention_days, tags) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![k.account, k.region, k.name, g.created_ms, g.retention_days, tags_text(&g.tags)],
        )? > 0)
    }

    pub fn group(&self, key: &GroupKey) -> Result<Option<LogGroup>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                "SELECT account, region, name, created_ms, retention_days, tags FROM log_groups WHERE account = ?1 AND region = ?2 AND name = ?3",
                [&key.account, &key.region, &key.name],
                row_to_group,
            )
            .optional()?)
    }

    pub fn groups(&self, account: &str, region: &str) -> Result<Vec<LogGroup>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT account, region, name, created_ms, retention_days, tags FROM log_groups WHERE account = ?1 AND region = ?2 ORDER BY name",
        )?;
        let rows = st.query_map([account, region], row_to_group)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn delete_group(&self, key: &GroupKey) -> Result<bool, StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        let args = [&key.account, &key.region, &key.name];
        for table in [
            "log_batches",
            "log_streams",
            "metric_filters",
            "subscription_filters",
        ] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE account = ?1 AND region = ?2 AND grp = ?3"),
                args,
            )?;
        }
        let n = tx.execute(
            "DELETE FROM log_groups WHERE account = ?1 AND region = ?2 AND name = ?3",
            args,
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    pub fn set_retention(&self, key: &GroupKey, days: Option<i64>) -> Result<bool, StoreError> {
        Ok(self.db.write()?.execute(
            "UPDATE log_groups SET retention_days = ?4 WHERE account = ?1 AND region = ?2 AND name = ?3",
            params![key.account, key.region, key.name, days],
        )? > 0)
    }

    pub fn set_tags(
        &self,
        key: &GroupKey,
        tags: &BTreeMap<String, String>,
    ) -> Result<bool, StoreError> {
        Ok(self.db.write()?.execute(
            "UPDATE log_groups SET tags = ?4 WHERE account = ?1 AND region = ?2 AND name = ?3",
            params![key.account, key.region, key.name, tags_text(tags)],
        )? > 0)
    }

    pub fn create_stream(&self, key: &GroupKey, s: &LogStream) -> Result<bool, StoreError> {
        Ok(self.db.write()?.execute(
            "INSERT OR IGNORE INTO log_streams (account, region, grp, name, created_ms, first_event_ms, last_event_ms, last_ingestion_ms, uploads) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![key.account, key.region, key.name, s.name, s.created_ms, s.first_event_ms, s.last_event_ms, s.last_ingestion_ms, s.uploads],
        )? > 0)
    }

    pub fn stream(&self, key: &GroupKey, name: &str) -> Result<Option<LogStream>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                &format!("SELECT {STREAM_COLUMNS} FROM log_streams WHERE account = ?1 AND region = ?2 AND grp = ?3 AND name = ?4"),
                [&key.account, &key.region, &key.name, name],
                row_to_stream,
            )
            .optional()?)
    }

    pub fn streams(&self, key: &GroupKey) -> Result<Vec<LogStream>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {STREAM_COLUMNS} FROM log_streams WHERE account = ?1 AND region = ?2 AND grp = ?3 ORDER BY name"
        ))?;
        let rows = st.query_map([&key.account, &key.region, &key.name], row_to_stream)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn delete_stream(&self, key: &GroupKey, name: &str) -> Result<bool, StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        let args = [&key.account, &key.region, &key.name, name];
        tx.execute(
            "DELETE FROM log_batches WHERE account = ?1 AND region = ?2 AND grp = ?3 AND stream = ?4",
            args,
        )?;
        let n = tx.execute(
            "DELETE FROM log_streams WHERE account = ?1 AND region = ?2 AND grp = ?3 AND name = ?4",
            args,
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    pub fn put_metric_filter(&self, key: &GroupKey, f: &MetricFilter) -> Result<(), StoreError> {
        // An update keeps the filter's creation time, as AWS's describe shows it.
        self.db.write()?.execute(
            "INSERT INTO metric_filters (account, region, grp, name, pattern, transformations, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (account, region, grp, name) DO UPDATE SET pattern = excluded.pattern, transformations = excluded.transformations",
            params![key.account, key.region, key.name, f.name, f.pattern, f.transformations, f.created_ms],
        )?;
        Ok(())
    }

    pub fn metric_filters(
        &self,
        account: &str,
        region: &str,
        group: Option<&str>,
    ) -> Result<Vec<MetricFilter>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT grp, name, pattern, transformations, created_ms FROM metric_filters
             WHERE account = ?1 AND region = ?2 AND (?3 IS NULL OR grp = ?3) ORDER BY grp, name",
        )?;
        let rows = st.query_map(params![account, region, group], row_to_filter)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn delete_metric_filter(&self, key: &GroupKey, name: &str) -> Result<bool, StoreError> {
        Ok(self.db.write()?.execute(
            "DELETE FROM metric_filters WHERE account = ?1 AND region = ?2 AND grp = ?3 AND name = ?4",
            [&key.account, &key.region, &key.name, name],
        )? > 0)
    }
}

impl LogsStore for SqliteLogs {
    forward! {
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
