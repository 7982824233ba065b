//! CloudWatch metrics and alarms in SQLite (`metrics.db`, schema in `sql/metrics.sql`). Every
//! write joins the call's group transaction ([`Db::write`]), so a refused call leaves nothing
//! behind; the alarm evaluator's writes (outside any call) commit at once.

use std::path::Path;

use rusqlite::{OptionalExtension, params};

use crate::db::Db;
use crate::error::StoreError;
use crate::metrics::columns::{dims_of, dims_text, value_of, value_text};
use crate::metrics::{
    AlarmState, Datum, HistoryQuery, HistoryRow, MetricKey, MetricsStore, PendingAction,
    StoredAlarm,
};

const SCHEMA: &str = include_str!("../../../sql/metrics.sql");

pub struct SqliteMetrics {
    db: Db,
}

const ALARM_COLUMNS: &str = "account, region, name, config, config_updated_ms, actions_enabled, state_value, state_reason, state_reason_data, state_updated_ms, state_transitioned_ms, next_eval_ms";

fn row_to_alarm(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredAlarm> {
    Ok(StoredAlarm {
        account: r.get(0)?,
        region: r.get(1)?,
        name: r.get(2)?,
        config: r.get(3)?,
        config_updated_ms: r.get(4)?,
        actions_enabled: r.get(5)?,
        state: AlarmState {
            value: r.get(6)?,
            reason: r.get(7)?,
            reason_data: r.get(8)?,
            updated_ms: r.get(9)?,
            transitioned_ms: r.get(10)?,
        },
        next_eval_ms: r.get(11)?,
    })
}

fn row_to_history(r: &rusqlite::Row<'_>) -> rusqlite::Result<HistoryRow> {
    Ok(HistoryRow {
        alarm: r.get(0)?,
        timestamp_ms: r.get(1)?,
        kind: r.get(2)?,
        summary: r.get(3)?,
        data: r.get(4)?,
    })
}

fn row_to_action(r: &rusqlite::Row<'_>) -> rusqlite::Result<PendingAction> {
    Ok(PendingAction {
        id: r.get(0)?,
        account: r.get(1)?,
        region: r.get(2)?,
        alarm: r.get(3)?,
        target: r.get(4)?,
        subject: r.get(5)?,
        message: r.get(6)?,
        attempts: r.get(7)?,
        due_ms: r.get(8)?,
    })
}

fn insert_history(
    c: &rusqlite::Connection,
    account: &str,
    region: &str,
    h: &HistoryRow,
) -> rusqlite::Result<usize> {
    c.prepare_cached(
        "INSERT INTO alarm_history (account, region, alarm, t, kind, summary, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![account, region, h.alarm, h.timestamp_ms, h.kind, h.summary, h.data])
}

impl SqliteMetrics {
    pub fn open(path: &Path) -> Result<SqliteMetrics, StoreError> {
        Ok(SqliteMetrics {
            db: Db::open(path, SCHEMA)?,
        })
    }

    pub fn put_data(&self, key: &MetricKey, data: &[Datum]) -> Result<(), StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        let dims = dims_text(&key.dimensions);
        tx.prepare_cached(
            "INSERT OR IGNORE INTO metrics (account, region, namespace, name, dims) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![key.account, key.region, key.namespace, key.name, dims])?;
        let id: i64 = tx.prepare_cached(
            "SELECT id FROM metrics WHERE account = ?1 AND region = ?2 AND namespace = ?3 AND name = ?4 AND dims = ?5",
        )?
        .query_row(params![key.account, key.region, key.namespace, key.name, dims], |r| r.get(0))?;
        {
            let mut ins = tx.prepare_cached(
                "INSERT INTO datapoints (metric, t, unit, value) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for d in data {
                ins.execute(params![id, d.timestamp_ms, d.unit, value_text(&d.value)])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn data(
        &self,
        key: &MetricKey,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Datum>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT d.t, d.unit, d.value FROM metrics m JOIN datapoints d ON d.metric = m.id
             WHERE m.account = ?1 AND m.region = ?2 AND m.namespace = ?3 AND m.name = ?4 AND m.dims = ?5
               AND d.t >= ?6 AND d.t < ?7 ORDER BY d.t",
        )?;
        let rows = st.query_map(
            params![
                key.account,
                key.region,
                key.namespace,
                key.name,
                dims_text(&key.dimensions),
                start_ms,
                end_ms
            ],
            |r| {
                let text: String = r.get(2)?;
                Ok(Datum {
                    timestamp_ms: r.get(0)?,
                    unit: r.get(1)?,
                    value: value_of(&text),
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn metrics(
        &self,
        account: &str,
        region: &str,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Result<Vec<MetricKey>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT namespace, name, dims FROM metrics WHERE account = ?1 AND region = ?2
               AND (?3 IS NULL OR namespace = ?3) AND (?4 IS NULL OR name = ?4)
               AND EXISTS (SELECT 1 FROM datapoints d WHERE d.metric = metrics.id)
             ORDER BY namespace, name, dims",
        )?;
        let rows = st.query_map(params![account, region, namespace, name], |r| {
            let dims: String = r.get(2)?;
            Ok(MetricKey {
                account: account.to_owned(),
                region: region.to_owned(),
                namespace: r.get(0)?,
                name: r.get(1)?,
                dimensions: dims_of(&dims),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn expire_data(&self, before_ms: i64) -> Result<u64, StoreError> {
        Ok(self
            .db
            .write()?
            .execute("DELETE FROM datapoints WHERE t < ?1", [before_ms])? as u64)
    }

    pub fn put_alarm(&self, a: &StoredAlarm, history: &HistoryRow) -> Result<(), StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        tx.execute(
            &format!("INSERT OR REPLACE INTO alarms ({ALARM_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
            params![
                a.account, a.region, a.name, a.config, a.config_updated_ms, a.actions_enabled,
                a.state.value, a.state.reason, a.state.reason_data, a.state.updated_ms,
                a.state.transitioned_ms, a.next_eval_ms
            ],
        )?;
        insert_history(&tx, &a.account, &a.region, history)?;
        tx.commit()?;
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
            .query_row(
                &format!("SELECT {ALARM_COLUMNS} FROM alarms WHERE account = ?1 AND region = ?2 AND name = ?3"),
                [account, region, name],
                row_to_alarm,
            )
            .optional()?)
    }

    pub fn alarms(&self, account: &str, region: &str) -> Result<Vec<StoredAlarm>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {ALARM_COLUMNS} FROM alarms WHERE account = ?1 AND region = ?2 ORDER BY name"
        ))?;
        let rows = st.query_map([account, region], row_to_alarm)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn due_alarms(&self, now_ms: i64) -> Result<Vec<StoredAlarm>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {ALARM_COLUMNS} FROM alarms WHERE next_eval_ms <= ?1 ORDER BY next_eval_ms, account, region, name"
        ))?;
        let rows = st.query_map([now_ms], row_to_alarm)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn delete_alarms(
        &self,
        account: &str,
        region: &str,
        names: &[String],
    ) -> Result<usize, StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        let mut n = 0;
        for name in names {
            let args = [account, region, name.as_str()];
            tx.execute(
                "DELETE FROM alarm_history WHERE account = ?1 AND region = ?2 AND alarm = ?3",
                args,
            )?;
            tx.execute(
                "DELETE FROM pending_actions WHERE account = ?1 AND region = ?2 AND alarm = ?3",
                args,
            )?;
            n += tx.execute(
                "DELETE FROM alarms WHERE account = ?1 AND region = ?2 AND name = ?3",
                args,
            )?;
        }
        tx.commit()?;
        Ok(n)
    }

    pub fn set_actions_enabled(
        &self,
        account: &str,
        region: &str,
        name: &str,
        enabled: bool,
    ) -> Result<bool, StoreError> {
        Ok(self.db.write()?.execute(
            "UPDATE alarms SET actions_enabled = ?4 WHERE account = ?1 AND region = ?2 AND name = ?3",
            params![account, region, name, enabled],
        )? > 0)
    }

    pub fn evaluated(
        &self,
        account: &str,
        region: &str,
        name: &str,
        next_eval_ms: i64,
        change: Option<(&AlarmState, &HistoryRow, &[PendingAction])>,
    ) -> Result<bool, StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        let found = tx.execute(
            "UPDATE alarms SET next_eval_ms = ?4 WHERE account = ?1 AND region = ?2 AND name = ?3",
            params![account, region, name, next_eval_ms],
        )? > 0;
        if found && let Some((state, history, actions)) = change {
            tx.execute(
                "UPDATE alarms SET state_value = ?4, state_reason = ?5, state_reason_data = ?6, state_updated_ms = ?7, state_transitioned_ms = ?8
                 WHERE account = ?1 AND region = ?2 AND name = ?3",
                params![account, region, name, state.value, state.reason, state.reason_data, state.updated_ms, state.transitioned_ms],
            )?;
            insert_history(&tx, account, region, history)?;
            for a in actions {
                tx.execute(
                    "INSERT INTO pending_actions (account, region, alarm, target, subject, message, attempts, due_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)",
                    params![a.account, a.region, a.alarm, a.target, a.subject, a.message, a.due_ms],
                )?;
            }
        }
        tx.commit()?;
        Ok(found)
    }

    pub fn history(
        &self,
        account: &str,
        region: &str,
        q: &HistoryQuery,
    ) -> Result<Vec<HistoryRow>, StoreError> {
        let c = self.db.read();
        let order = if q.ascending { "ASC" } else { "DESC" };
        let mut st = c.prepare_cached(&format!(
            "SELECT alarm, t, kind, summary, data FROM alarm_history
             WHERE account = ?1 AND region = ?2 AND (?3 IS NULL OR alarm = ?3) AND (?4 IS NULL OR kind = ?4)
               AND (?5 IS NULL OR t >= ?5) AND (?6 IS NULL OR t <= ?6)
             ORDER BY t {order}, id {order}"
        ))?;
        let rows = st.query_map(
            params![account, region, q.alarm, q.kind, q.start_ms, q.end_ms],
            row_to_history,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn add_history(
        &self,
        account: &str,
        region: &str,
        row: &HistoryRow,
    ) -> Result<(), StoreError> {
        let c = self.db.write()?;
        insert_history(&c, account, region, row)?;
        Ok(())
    }

    pub fn expire_history(&self, before_ms: i64) -> Result<u64, StoreError> {
        Ok(self
            .db
            .write()?
            .execute("DELETE FROM alarm_history WHERE t < ?1", [before_ms])? as u64)
    }

    pub fn due_actions(&self, now_ms: i64) -> Result<Vec<PendingAction>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT id, account, region, alarm, target, subject, message, attempts, due_ms FROM pending_actions
             WHERE due_ms <= ?1 ORDER BY id",
        )?;
        let rows = st.query_map([now_ms], row_to_action)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn action_done(&self, id: i64) -> Result<(), StoreError> {
        self.db
            .write()?
            .execute("DELETE FROM pending_actions WHERE id = ?1", [id])?;
        Ok(())
    }

    pub fn action_retry(&self, id: i64, due_ms: i64) -> Result<(), StoreError> {
        self.db.write()?.execute(
            "UPDATE pending_actions SET attempts = attempts + 1, due_ms = ?2 WHERE id = ?1",
            params![id, due_ms],
        )?;
        Ok(())
    }
}

impl MetricsStore for SqliteMetrics {
    forward! {
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
