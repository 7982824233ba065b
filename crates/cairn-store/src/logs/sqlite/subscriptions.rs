//! Subscription filters in SQLite, and what subscription delivery reads: its cursor and the
//! stored batches after it (in first event id order, the order they were committed in).

use rusqlite::params;

use super::SqliteLogs;
use crate::error::StoreError;
use crate::logs::batch;
use crate::logs::{GroupKey, StoredBatch, SubscriptionFilter};

const COLUMNS: &str =
    "grp, name, pattern, destination_arn, role_arn, distribution, from_id, created_ms";

fn row_to_filter(r: &rusqlite::Row<'_>) -> rusqlite::Result<SubscriptionFilter> {
    Ok(SubscriptionFilter {
        group: r.get(0)?,
        name: r.get(1)?,
        pattern: r.get(2)?,
        destination_arn: r.get(3)?,
        role_arn: r.get(4)?,
        distribution: r.get(5)?,
        from_id: r.get(6)?,
        created_ms: r.get(7)?,
    })
}

impl SqliteLogs {
    pub fn put_subscription_filter(
        &self,
        key: &GroupKey,
        f: &SubscriptionFilter,
    ) -> Result<(), StoreError> {
        // A put (new or replacing) applies to events stored after it: from the next id on.
        // An update keeps the creation time, as describe shows it.
        self.db.write()?.execute(
            "INSERT INTO subscription_filters (account, region, grp, name, pattern, destination_arn, role_arn, distribution, from_id, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, (SELECT next FROM log_event_ids WHERE id = 1), ?9)
             ON CONFLICT (account, region, grp, name) DO UPDATE SET pattern = excluded.pattern,
               destination_arn = excluded.destination_arn, role_arn = excluded.role_arn,
               distribution = excluded.distribution, from_id = excluded.from_id",
            params![
                key.account,
                key.region,
                key.name,
                f.name,
                f.pattern,
                f.destination_arn,
                f.role_arn,
                f.distribution,
                f.created_ms
            ],
        )?;
        Ok(())
    }

    pub fn subscription_filters(
        &self,
        account: &str,
        region: &str,
        group: Option<&str>,
    ) -> Result<Vec<SubscriptionFilter>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM subscription_filters
             WHERE account = ?1 AND region = ?2 AND (?3 IS NULL OR grp = ?3) ORDER BY grp, name"
        ))?;
        let rows = st.query_map(params![account, region, group], row_to_filter)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn all_subscription_filters(
        &self,
    ) -> Result<Vec<(GroupKey, SubscriptionFilter)>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {COLUMNS}, account, region FROM subscription_filters ORDER BY account, region, grp, name"
        ))?;
        let rows = st.query_map([], |r| {
            let f = row_to_filter(r)?;
            let account: String = r.get(8)?;
            let region: String = r.get(9)?;
            Ok((GroupKey::new(&account, &region, &f.group), f))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn delete_subscription_filter(
        &self,
        key: &GroupKey,
        name: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.db.write()?.execute(
            "DELETE FROM subscription_filters WHERE account = ?1 AND region = ?2 AND grp = ?3 AND name = ?4",
            [&key.account, &key.region, &key.name, name],
        )? > 0)
    }

    pub fn subscription_cursor(&self) -> Result<(i64, i64), StoreError> {
        Ok(self.db.read().query_row(
            "SELECT (SELECT next FROM subscription_cursor WHERE id = 1), (SELECT next FROM log_event_ids WHERE id = 1)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    pub fn set_subscription_cursor(&self, next: i64) -> Result<(), StoreError> {
        self.db.write()?.execute(
            "UPDATE subscription_cursor SET next = ?1 WHERE id = 1",
            [next],
        )?;
        Ok(())
    }

    pub fn batches_from(&self, from: i64, limit: usize) -> Result<Vec<StoredBatch>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT account, region, grp, stream, first_id, events FROM log_batches
             WHERE first_id >= ?1 ORDER BY first_id LIMIT ?2",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows = st.query(params![from, limit])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let account: String = r.get(0)?;
            let region: String = r.get(1)?;
            let grp: String = r.get(2)?;
            let blob: Vec<u8> = r.get(5)?;
            let events = batch::unpack(&blob)?
                .into_iter()
                .map(|(ts, m)| (ts, m.to_owned()))
                .collect();
            out.push(StoredBatch {
                key: GroupKey::new(&account, &region, &grp),
                stream: r.get(3)?,
                first_id: r.get(4)?,
                events,
            });
        }
        Ok(out)
    }
}
