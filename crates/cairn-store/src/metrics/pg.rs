//! CloudWatch metrics and alarms on PostgreSQL (schema in `sql/pg/metrics_*.sql`). Every write
//! joins the call's group transaction (`crate::pg`), so a refused call leaves nothing behind;
//! the alarm evaluator's writes (outside any call) commit at once, an evaluation's state,
//! history and actions together. Nothing is cached on the node: every read is fresh.

use postgres::{Client, Row};

use crate::error::StoreError;
use crate::metrics::columns::{dims_of, dims_text, value_of, value_text};
use crate::metrics::{
    AlarmState, Datum, HistoryQuery, HistoryRow, MetricKey, MetricsStore, PendingAction,
    StoredAlarm,
};
use crate::pg::{Migration, PgDb, backend};

const MIGRATIONS: &[Migration] = &[Migration {
    store: "metrics",
    version: 1,
    sql: include_str!("../../sql/pg/metrics_0001.sql"),
}];

const ALARM_COLUMNS: &str = "account, region, name, config, config_updated_ms, actions_enabled, state_value, state_reason, state_reason_data, state_updated_ms, state_transitioned_ms, next_eval_ms";

pub struct PgMetrics {
    db: PgDb,
}

fn row_to_alarm(r: &Row) -> StoredAlarm {
    StoredAlarm {
        account: r.get(0),
        region: r.get(1),
        name: r.get(2),
        config: r.get(3),
        config_updated_ms: r.get(4),
        actions_enabled: r.get(5),
        state: AlarmState {
            value: r.get(6),
            reason: r.get(7),
            reason_data: r.get(8),
            updated_ms: r.get(9),
            transitioned_ms: r.get(10),
        },
        next_eval_ms: r.get(11),
    }
}

fn row_to_history(r: &Row) -> HistoryRow {
    HistoryRow {
        alarm: r.get(0),
        timestamp_ms: r.get(1),
        kind: r.get(2),
        summary: r.get(3),
        data: r.get(4),
    }
}

fn row_to_action(r: &Row) -> PendingAction {
    PendingAction {
        id: r.get(0),
        account: r.get(1),
        region: r.get(2),
        alarm: r.get(3),
        target: r.get(4),
        subject: r.get(5),
        message: r.get(6),
        attempts: r.get(7),
        due_ms: r.get(8),
    }
}

fn insert_history(
    c: &mut Client,
    account: &str,
    region: &str,
    h: &HistoryRow,
) -> Result<u64, postgres::Error> {
    c.execute(
        "INSERT INTO alarm_history (account, region, alarm, t, kind, summary, data) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[&account, &region, &h.alarm, &h.timestamp_ms, &h.kind, &h.summary, &h.data],
    )
}

const METRIC_ID: &str = "SELECT id FROM metrics WHERE account = $1 AND region = $2 AND namespace = $3 AND name = $4 AND dims = $5";

/// The metric's id, the metric made if new. Most puts are to a metric that exists, so it is
/// looked up first; a metric made by another node at the same time is found after the insert
/// (which waits for that node's outcome and then does nothing).
fn metric_id(c: &mut Client, key: &MetricKey, dims: &str) -> Result<i64, postgres::Error> {
    let args: [&(dyn postgres::types::ToSql + Sync); 5] =
        [&key.account, &key.region, &key.namespace, &key.name, &dims];
    if let Some(r) = c.query_opt(METRIC_ID, &args)? {
        return Ok(r.get(0));
    }
    c.execute(
        "INSERT INTO metrics (account, region, namespace, name, dims) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        &args,
    )?;
    Ok(c.query_one(METRIC_ID, &args)?.get(0))
}

impl PgMetrics {
    /// The store in `schema` of the database at `url`.
    pub fn open(url: &str, schema: &str) -> Result<PgMetrics, StoreError> {
        Ok(PgMetrics {
            db: PgDb::connect(url, schema, MIGRATIONS)?,
        })
    }

    /// Adds datapoints to a metric (creating it), all of them in one statement.
    pub fn put_data(&self, key: &MetricKey, data: &[Datum]) -> Result<(), StoreError> {
        let dims = dims_text(&key.dimensions);
        let times: Vec<i64> = data.iter().map(|d| d.timestamp_ms).collect();
        let units: Vec<Option<&str>> = data.iter().map(|d| d.unit.as_deref()).collect();
        let values: Vec<String> = data.iter().map(|d| value_text(&d.value)).collect();
        self.db.write_with(|c| {
            let id = metric_id(c, key, &dims)?;
            // UNNEST yields the rows in the arrays' order, so ids follow the request's order.
            c.execute(
                "INSERT INTO datapoints (metric, t, unit, value)
                 SELECT $1, t, unit, value FROM UNNEST($2::BIGINT[], $3::TEXT[], $4::TEXT[]) AS d (t, unit, value)",
                &[&id, &times, &units, &values],
            )
        })?;
        Ok(())
    }

    pub fn data(
        &self,
        key: &MetricKey,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Datum>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT d.t, d.unit, d.value FROM metrics m JOIN datapoints d ON d.metric = m.id
                 WHERE m.account = $1 AND m.region = $2 AND m.namespace = $3 AND m.name = $4 AND m.dims = $5
                   AND d.t >= $6 AND d.t < $7 ORDER BY d.t, d.id",
                &[&key.account, &key.region, &key.namespace, &key.name, &dims_text(&key.dimensions), &start_ms, &end_ms],
            )
            .map_err(backend)?
            .iter()
            .map(|r| {
                let text: String = r.get(2);
                Datum {
                    timestamp_ms: r.get(0),
                    unit: r.get(1),
                    value: value_of(&text),
                }
            })
            .collect())
    }

    pub fn metrics(
        &self,
        account: &str,
        region: &str,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Result<Vec<MetricKey>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT namespace, name, dims FROM metrics WHERE account = $1 AND region = $2
                   AND ($3::TEXT IS NULL OR namespace = $3) AND ($4::TEXT IS NULL OR name = $4)
                   AND EXISTS (SELECT 1 FROM datapoints d WHERE d.metric = metrics.id)
                 ORDER BY namespace, name, dims",
                &[&account, &region, &namespace, &name],
            )
            .map_err(backend)?
            .iter()
            .map(|r| {
                let dims: String = r.get(2);
                MetricKey {
                    account: account.to_owned(),
                    region: region.to_owned(),
                    namespace: r.get(0),
                    name: r.get(1),
                    dimensions: dims_of(&dims),
                }
            })
            .collect())
    }

    pub fn expire_data(&self, before_ms: i64) -> Result<u64, StoreError> {
        self.db
            .write_with(|c| c.execute("DELETE FROM datapoints WHERE t < $1", &[&before_ms]))
    }

    pub fn put_alarm(&self, a: &StoredAlarm, history: &HistoryRow) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                &format!("INSERT INTO alarms ({ALARM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (account, region, name) DO UPDATE SET config = EXCLUDED.config,
                   config_updated_ms = EXCLUDED.config_updated_ms, actions_enabled = EXCLUDED.actions_enabled,
                   state_value = EXCLUDED.state_value, state_reason = EXCLUDED.state_reason,
                   state_reason_data = EXCLUDED.state_reason_data, state_updated_ms = EXCLUDED.state_updated_ms,
                   state_transitioned_ms = EXCLUDED.state_transitioned_ms, next_eval_ms = EXCLUDED.next_eval_ms"),
                &[
                    &a.account, &a.region, &a.name, &a.config, &a.config_updated_ms, &a.actions_enabled,
                    &a.state.value, &a.state.reason, &a.state.reason_data, &a.state.updated_ms,
                    &a.state.transitioned_ms, &a.next_eval_ms,
                ],
            )?;
            insert_history(c, &a.account, &a.region, history)
        })?;
        Ok(())
    }

    pub fn alarm(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<StoredAlarm>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                &format!("SELECT {ALARM_COLUMNS} FROM alarms WHERE account = $1 AND region = $2 AND name = $3"),
                &[&account, &region, &name],
            )
            .map_err(backend)?
            .as_ref()
            .map(row_to_alarm))
    }

    pub fn alarms(&self, account: &str, region: &str) -> Result<Vec<StoredAlarm>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {ALARM_COLUMNS} FROM alarms WHERE account = $1 AND region = $2 ORDER BY name"),
                &[&account, &region],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_alarm)
            .collect())
    }

    pub fn due_alarms(&self, now_ms: i64) -> Result<Vec<StoredAlarm>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {ALARM_COLUMNS} FROM alarms WHERE next_eval_ms <= $1 ORDER BY next_eval_ms, account, region, name"),
                &[&now_ms],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_alarm)
            .collect())
    }

    pub fn delete_alarms(
        &self,
        account: &str,
        region: &str,
        names: &[String],
    ) -> Result<usize, StoreError> {
        let n = self.db.write_with(|c| {
            let args: [&(dyn postgres::types::ToSql + Sync); 3] = [&account, &region, &names];
            c.execute(
                "DELETE FROM alarm_history WHERE account = $1 AND region = $2 AND alarm = ANY($3)",
                &args,
            )?;
            c.execute(
                "DELETE FROM pending_actions WHERE account = $1 AND region = $2 AND alarm = ANY($3)",
                &args,
            )?;
            c.execute(
                "DELETE FROM alarms WHERE account = $1 AND region = $2 AND name = ANY($3)",
                &args,
            )
        })?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    pub fn set_actions_enabled(
        &self,
        account: &str,
        region: &str,
        name: &str,
        enabled: bool,
    ) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute(
                "UPDATE alarms SET actions_enabled = $4 WHERE account = $1 AND region = $2 AND name = $3",
                &[&account, &region, &name, &enabled],
            )
        })? > 0)
    }

    pub fn evaluated(
        &self,
        account: &str,
        region: &str,
        name: &str,
        next_eval_ms: i64,
        change: Option<(&AlarmState, &HistoryRow, &[PendingAction])>,
    ) -> Result<bool, StoreError> {
        self.db.write_with(|c| {
            let found = c.execute(
                "UPDATE alarms SET next_eval_ms = $4 WHERE account = $1 AND region = $2 AND name = $3",
                &[&account, &region, &name, &next_eval_ms],
            )? > 0;
            if found && let Some((state, history, actions)) = change {
                record_change(c, account, region, name, state, history, actions)?;
            }
            Ok(found)
        })
    }

    pub fn history(
        &self,
        account: &str,
        region: &str,
        q: &HistoryQuery,
    ) -> Result<Vec<HistoryRow>, StoreError> {
        let order = if q.ascending { "ASC" } else { "DESC" };
        Ok(self
            .db
            .read()
            .query(
                &format!(
                    "SELECT alarm, t, kind, summary, data FROM alarm_history
                     WHERE account = $1 AND region = $2 AND ($3::TEXT IS NULL OR alarm = $3) AND ($4::TEXT IS NULL OR kind = $4)
                       AND ($5::BIGINT IS NULL OR t >= $5) AND ($6::BIGINT IS NULL OR t <= $6)
                     ORDER BY t {order}, id {order}"
                ),
                &[&account, &region, &q.alarm, &q.kind, &q.start_ms, &q.end_ms],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_history)
            .collect())
    }

    pub fn add_history(
        &self,
        account: &str,
        region: &str,
        row: &HistoryRow,
    ) -> Result<(), StoreError> {
        self.db
            .write_with(|c| insert_history(c, account, region, row))?;
        Ok(())
    }

    pub fn expire_history(&self, before_ms: i64) -> Result<u64, StoreError> {
        self.db
            .write_with(|c| c.execute("DELETE FROM alarm_history WHERE t < $1", &[&before_ms]))
    }

    pub fn due_actions(&self, now_ms: i64) -> Result<Vec<PendingAction>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT id, account, region, alarm, target, subject, message, attempts, due_ms FROM pending_actions
                 WHERE due_ms <= $1 ORDER BY id",
                &[&now_ms],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_action)
            .collect())
    }

    pub fn action_done(&self, id: i64) -> Result<(), StoreError> {
        self.db
            .write_with(|c| c.execute("DELETE FROM pending_actions WHERE id = $1", &[&id]))?;
        Ok(())
    }

    pub fn action_retry(&self, id: i64, due_ms: i64) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                "UPDATE pending_actions SET attempts = attempts + 1, due_ms = $2 WHERE id = $1",
                &[&id, &due_ms],
            )
        })?;
        Ok(())
    }
}

/// An evaluation's state change: the new state, its history item and the actions it causes.
fn record_change(
    c: &mut Client,
    account: &str,
    region: &str,
    name: &str,
    state: &AlarmState,
    history: &HistoryRow,
    actions: &[PendingAction],
) -> Result<(), postgres::Error> {
    c.execute(
        "UPDATE alarms SET state_value = $4, state_reason = $5, state_reason_data = $6, state_updated_ms = $7, state_transitioned_ms = $8
         WHERE account = $1 AND region = $2 AND name = $3",
        &[&account, &region, &name, &state.value, &state.reason, &state.reason_data, &state.updated_ms, &state.transitioned_ms],
    )?;
    insert_history(c, account, region, history)?;
    let st = c.prepare(
        "INSERT INTO pending_actions (account, region, alarm, target, subject, message, attempts, due_ms) VALUES ($1, $2, $3, $4, $5, $6, 0, $7)",
    )?;
    for a in actions {
        c.execute(
            &st,
            &[
                &a.account, &a.region, &a.alarm, &a.target, &a.subject, &a.message, &a.due_ms,
            ],
        )?;
    }
    Ok(())
}

impl MetricsStore for PgMetrics {
    forward! {
        blocking:
        fn put_data(&self, key: &MetricKey, data: &[Datum]) -> Result<(), StoreError>;
        fn data(&self, key: &MetricKey, start_ms: i64, end_ms: i64) -> Result<Vec<Datum>, StoreError>;
        fn metrics(&self, account: &str, region: &str, namespace: Option<&str>, name: Option<&str>) -> Result<Vec<MetricKey>, StoreError>;
        fn expire_data(&self, before_ms: i64) -> Result<u64, StoreError>;
        fn put_alarm(&self, alarm: &StoredAlarm, history: &HistoryRow) -> Result<(), StoreError>;
        fn alarm(&self, account: &str, region: &str, name: &str) -> Result<Option<StoredAlarm>, StoreError>;
        fn alarms(&self, account: &str, region: &str) -> Result<Vec<StoredAlarm>, StoreError>;
        fn due_alarms(&self, now_ms: i64) -> Result<Vec<StoredAlarm>, StoreError>;
        fn delete_alarms(&self, account: &str, region: &str, names: &[String]) -> Result<usize, StoreError>;
        fn set_actions_enabled(&self, account: &str, region: &str, name: &str, enabled: bool) -> Result<bool, StoreError>;
        fn evaluated(&self, account: &str, region: &str, name: &str, next_eval_ms: i64, change: Option<(&AlarmState, &HistoryRow, &[PendingAction])>) -> Result<bool, StoreError>;
        fn history(&self, account: &str, region: &str, q: &HistoryQuery) -> Result<Vec<HistoryRow>, StoreError>;
        fn add_history(&self, account: &str, region: &str, row: &HistoryRow) -> Result<(), StoreError>;
        fn expire_history(&self, before_ms: i64) -> Result<u64, StoreError>;
        fn due_actions(&self, now_ms: i64) -> Result<Vec<PendingAction>, StoreError>;
        fn action_done(&self, id: i64) -> Result<(), StoreError>;
        fn action_retry(&self, id: i64, due_ms: i64) -> Result<(), StoreError>;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::metrics::DatumValue;
    use crate::suite::pg::TestPostgres;

    /// Nodes publishing to a metric none of them has seen yet make it once, and keep every
    /// datapoint.
    #[test]
    fn nodes_publishing_a_new_metric_at_once_make_it_once() {
        let server = TestPostgres::start();
        PgMetrics::open(&server.url(), "metrics_nodes").unwrap();
        let key = MetricKey::new("111122223333", "us-east-1", "NS", "M", vec![]);
        let nodes: Vec<_> = (0..4)
            .map(|n| {
                let node = PgMetrics::open(&server.url(), "metrics_nodes").unwrap();
                let key = key.clone();
                std::thread::spawn(move || {
                    for i in 0..10 {
                        let d = Datum {
                            timestamp_ms: n * 100 + i,
                            unit: None,
                            value: DatumValue::Values(vec![(1.0, 1.0)]),
                        };
                        node.put_data(&key, &[d]).unwrap();
                    }
                })
            })
            .collect();
        for n in nodes {
            n.join().unwrap();
        }
        let m = PgMetrics::open(&server.url(), "metrics_nodes").unwrap();
        assert_eq!(
            m.metrics("111122223333", "us-east-1", None, None).unwrap(),
            std::slice::from_ref(&key)
        );
        assert_eq!(m.data(&key, 0, 1000).unwrap().len(), 40);
    }
}
