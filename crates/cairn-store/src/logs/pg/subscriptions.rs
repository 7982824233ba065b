//! Subscription filters on PostgreSQL, and what subscription delivery reads: its cursor and the
//! stored batches after it, in first event id order. Ids are given under the `log_event_ids`
//! row lock held until commit (`log_events.rs`), so that order is the order they became
//! visible in, whichever node stored them: a batch below the end delivery has read is never
//! committed after delivery passed it.

use postgres::Row;

use super::PgLogs;
use crate::error::StoreError;
use crate::logs::batch;
use crate::logs::{GroupKey, StoredBatch, SubscriptionFilter};
use crate::pg::backend;

const COLUMNS: &str =
    "grp, name, pattern, destination_arn, role_arn, distribution, from_id, created_ms";

fn row_to_filter(r: &Row) -> SubscriptionFilter {
    SubscriptionFilter {
        group: r.get(0),
        name: r.get(1),
        pattern: r.get(2),
        destination_arn: r.get(3),
        role_arn: r.get(4),
        distribution: r.get(5),
        from_id: r.get(6),
        created_ms: r.get(7),
    }
}

fn row_to_batch(r: &Row) -> Result<StoredBatch, StoreError> {
    let account: String = r.get(0);
    let region: String = r.get(1);
    let grp: String = r.get(2);
    let blob: &[u8] = r.get(5);
    let events = batch::unpack(blob)?
        .into_iter()
        .map(|(ts, m)| (ts, m.to_owned()))
        .collect();
    Ok(StoredBatch {
        key: GroupKey::new(&account, &region, &grp),
        stream: r.get(3),
        first_id: r.get(4),
        events,
    })
}

impl PgLogs {
    pub fn put_subscription_filter(
        &self,
        key: &GroupKey,
        f: &SubscriptionFilter,
    ) -> Result<(), StoreError> {
        // A put (new or replacing) applies to events stored after it: from the next id on
        // (read without waiting for the id row's lock: ids a PutLogEvents still holds are past
        // the committed next, so the filter sees them). An update keeps the creation time.
        self.db.write_with(|c| {
            c.execute(
                "INSERT INTO subscription_filters (account, region, grp, name, pattern, destination_arn, role_arn, distribution, from_id, created_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, (SELECT next FROM log_event_ids WHERE id = 1), $9)
                 ON CONFLICT (account, region, grp, name) DO UPDATE SET pattern = EXCLUDED.pattern,
                   destination_arn = EXCLUDED.destination_arn, role_arn = EXCLUDED.role_arn,
                   distribution = EXCLUDED.distribution, from_id = EXCLUDED.from_id",
                &[
                    &key.account,
                    &key.region,
                    &key.name,
                    &f.name,
                    &f.pattern,
                    &f.destination_arn,
                    &f.role_arn,
                    &f.distribution,
                    &f.created_ms,
                ],
            )
        })?;
        Ok(())
    }

    pub fn subscription_filters(
        &self,
        account: &str,
        region: &str,
        group: Option<&str>,
    ) -> Result<Vec<SubscriptionFilter>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM subscription_filters
                     WHERE account = $1 AND region = $2 AND ($3::text IS NULL OR grp = $3) ORDER BY grp, name"
                ),
                &[&account, &region, &group],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_filter)
            .collect())
    }

    pub fn all_subscription_filters(
        &self,
    ) -> Result<Vec<(GroupKey, SubscriptionFilter)>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {COLUMNS}, account, region FROM subscription_filters ORDER BY account, region, grp, name"),
                &[],
            )
            .map_err(backend)?
            .iter()
            .map(|r| {
                let f = row_to_filter(r);
                let account: String = r.get(8);
                let region: String = r.get(9);
                (GroupKey::new(&account, &region, &f.group), f)
            })
            .collect())
    }

    pub fn delete_subscription_filter(
        &self,
        key: &GroupKey,
        name: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute(
                "DELETE FROM subscription_filters WHERE account = $1 AND region = $2 AND grp = $3 AND name = $4",
                &[&key.account, &key.region, &key.name, &name],
            )
        })? > 0)
    }

    pub fn subscription_cursor(&self) -> Result<(i64, i64), StoreError> {
        let r = self
            .db
            .read()
            .query_one(
                "SELECT (SELECT next FROM subscription_cursor WHERE id = 1), (SELECT next FROM log_event_ids WHERE id = 1)",
                &[],
            )
            .map_err(backend)?;
        Ok((r.get(0), r.get(1)))
    }

    pub fn set_subscription_cursor(&self, next: i64) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                "UPDATE subscription_cursor SET next = $1 WHERE id = 1",
                &[&next],
            )
        })?;
        Ok(())
    }

    pub fn batches_from(&self, from: i64, limit: usize) -> Result<Vec<StoredBatch>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db
            .read()
            .query(
                "SELECT account, region, grp, stream, first_id, events FROM log_batches
                 WHERE first_id >= $1 ORDER BY first_id LIMIT $2",
                &[&from, &limit],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_batch)
            .collect()
    }
}
