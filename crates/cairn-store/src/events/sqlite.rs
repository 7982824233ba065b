//! EventBridge in SQLite (`events.db`, schema in `sql/events.sql`). Every write joins the
//! call's group transaction ([`Db::write`]), so a refused call leaves nothing behind and an
//! answered PutEvents has its events committed; the router's writes (outside any call)
//! commit at once, a cursor move always with the deliveries it made.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rusqlite::{OptionalExtension, params};
use tokio::sync::Notify;

use super::{BusEvent, Delivery, EventBus, EventsStore, NewBusEvent, NewDelivery, Rule, Target};
use crate::db::Db;
use crate::error::StoreError;
use crate::string_map::{map_of, map_text};

const SCHEMA: &str = include_str!("../../sql/events.sql");

pub struct SqliteEvents {
    db: Db,
    /// Notified once events put on buses are committed.
    put: Arc<Notify>,
}

fn limit_of(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

const BUS_COLUMNS: &str = "arn, account, region, name, description, created_ms, modified_ms, tags";

fn row_to_bus(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventBus> {
    let tags: String = r.get(7)?;
    Ok(EventBus {
        arn: r.get(0)?,
        account: r.get(1)?,
        region: r.get(2)?,
        name: r.get(3)?,
        description: r.get(4)?,
        created_ms: r.get(5)?,
        modified_ms: r.get(6)?,
        tags: map_of(&tags),
    })
}

const RULE_COLUMNS: &str = "arn, account, region, bus, name, event_pattern, schedule, state, description, role_arn, created_by, created_ms, next_fire_ms, tags";

fn row_to_rule(r: &rusqlite::Row<'_>) -> rusqlite::Result<Rule> {
    let tags: String = r.get(13)?;
    Ok(Rule {
        arn: r.get(0)?,
        account: r.get(1)?,
        region: r.get(2)?,
        bus: r.get(3)?,
        name: r.get(4)?,
        event_pattern: r.get(5)?,
        schedule: r.get(6)?,
        state: r.get(7)?,
        description: r.get(8)?,
        role_arn: r.get(9)?,
        created_by: r.get(10)?,
        created_ms: r.get(11)?,
        next_fire_ms: r.get(12)?,
        tags: map_of(&tags),
    })
}

fn row_to_target(r: &rusqlite::Row<'_>) -> rusqlite::Result<Target> {
    Ok(Target {
        rule_arn: r.get(0)?,
        id: r.get(1)?,
        arn: r.get(2)?,
        spec: r.get(3)?,
    })
}

const DELIVERY_COLUMNS: &str =
    "id, rule_arn, target, event, input, event_ms, attempts, next_ms, created_ms, last_error";

fn row_to_delivery(r: &rusqlite::Row<'_>) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        id: r.get(0)?,
        rule_arn: r.get(1)?,
        target: r.get(2)?,
        event: r.get(3)?,
        input: r.get(4)?,
        event_ms: r.get(5)?,
        attempts: r.get(6)?,
        next_ms: r.get(7)?,
        created_ms: r.get(8)?,
        last_error: r.get(9)?,
    })
}

fn insert_deliveries(
    tx: &rusqlite::Connection,
    deliveries: &[NewDelivery],
    now_ms: i64,
) -> rusqlite::Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO outbox (rule_arn, target, event, input, event_ms, attempts, next_ms, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7)",
    )?;
    for d in deliveries {
        st.execute(params![
            d.rule_arn, d.target, d.event, d.input, d.event_ms, d.due_ms, now_ms
        ])?;
    }
    Ok(())
}

impl SqliteEvents {
    pub fn open(path: &Path) -> Result<SqliteEvents, StoreError> {
        Ok(SqliteEvents {
            db: Db::open(path, SCHEMA)?,
            put: Arc::new(Notify::new()),
        })
    }

    pub fn create_bus(&self, b: &EventBus) -> Result<bool, StoreError> {
        Ok(self.db.write()?.execute(
            "INSERT OR IGNORE INTO buses (arn, account, region, name, description, created_ms, modified_ms, tags) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![b.arn, b.account, b.region, b.name, b.description, b.created_ms, b.modified_ms, map_text(&b.tags)],
        )? > 0)
    }

    pub fn bus(&self, arn: &str) -> Result<Option<EventBus>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                &format!("SELECT {BUS_COLUMNS} FROM buses WHERE arn = ?1"),
                [arn],
                row_to_bus,
            )
            .optional()?)
    }

    pub fn buses(&self, account: &str, region: &str) -> Result<Vec<EventBus>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {BUS_COLUMNS} FROM buses WHERE account = ?1 AND region = ?2 ORDER BY name"
        ))?;
        let rows = st.query_map([account, region], row_to_bus)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn update_bus(&self, b: &EventBus) -> Result<bool, StoreError> {
        Ok(self.db.write()?.execute(
            "UPDATE buses SET description = ?2, modified_ms = ?3, tags = ?4 WHERE arn = ?1",
            params![b.arn, b.description, b.modified_ms, map_text(&b.tags)],
        )? > 0)
    }

    pub fn delete_bus(&self, arn: &str) -> Result<bool, StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        let place: Option<(String, String, String)> = tx
            .query_row(
                "SELECT account, region, name FROM buses WHERE arn = ?1",
                [arn],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((account, region, name)) = place else {
            return Ok(false);
        };
        tx.execute(
            "DELETE FROM targets WHERE rule_arn IN (SELECT arn FROM rules WHERE account = ?1 AND region = ?2 AND bus = ?3)",
            params![account, region, name],
        )?;
        tx.execute(
            "DELETE FROM rules WHERE account = ?1 AND region = ?2 AND bus = ?3",
            params![account, region, name],
        )?;
        tx.execute("DELETE FROM buses WHERE arn = ?1", [arn])?;
        tx.commit()?;
        Ok(true)
    }

    pub fn put_rule(&self, r: &Rule) -> Result<(), StoreError> {
        self.db.write()?.execute(
            &format!("INSERT OR REPLACE INTO rules ({RULE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"),
            params![
                r.arn, r.account, r.region, r.bus, r.name, r.event_pattern, r.schedule, r.state,
                r.description, r.role_arn, r.created_by, r.created_ms, r.next_fire_ms, map_text(&r.tags)
            ],
        )?;
        Ok(())
    }

    pub fn rule(&self, arn: &str) -> Result<Option<Rule>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                &format!("SELECT {RULE_COLUMNS} FROM rules WHERE arn = ?1"),
                [arn],
                row_to_rule,
            )
            .optional()?)
    }

    pub fn rules(&self, account: &str, region: &str, bus: &str) -> Result<Vec<Rule>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {RULE_COLUMNS} FROM rules WHERE account = ?1 AND region = ?2 AND bus = ?3 ORDER BY name"
        ))?;
        let rows = st.query_map([account, region, bus], row_to_rule)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn delete_rule(&self, arn: &str) -> Result<bool, StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        tx.execute("DELETE FROM targets WHERE rule_arn = ?1", [arn])?;
        let n = tx.execute("DELETE FROM rules WHERE arn = ?1", [arn])?;
        tx.commit()?;
        Ok(n > 0)
    }

    pub fn set_tags(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<bool, StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        let text = map_text(tags);
        let n = tx.execute(
            "UPDATE buses SET tags = ?2 WHERE arn = ?1",
            params![arn, text],
        )? + tx.execute(
            "UPDATE rules SET tags = ?2 WHERE arn = ?1",
            params![arn, text],
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    pub fn any_pattern_rule(&self) -> Result<bool, StoreError> {
        Ok(self.db.read().query_row(
            "SELECT EXISTS (SELECT 1 FROM rules WHERE event_pattern IS NOT NULL AND state != 'DISABLED')",
            [],
            |r| r.get(0),
        )?)
    }

    pub fn schedules_due(&self, now_ms: i64) -> Result<Vec<Rule>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {RULE_COLUMNS} FROM rules WHERE next_fire_ms IS NOT NULL AND next_fire_ms <= ?1 AND state != 'DISABLED' ORDER BY next_fire_ms, arn"
        ))?;
        let rows = st.query_map([now_ms], row_to_rule)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn put_targets(&self, targets: &[Target]) -> Result<(), StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT OR REPLACE INTO targets (rule_arn, id, arn, spec) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for t in targets {
                st.execute(params![t.rule_arn, t.id, t.arn, t.spec])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn targets(&self, rule_arn: &str) -> Result<Vec<Target>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT rule_arn, id, arn, spec FROM targets WHERE rule_arn = ?1 ORDER BY id",
        )?;
        let rows = st.query_map([rule_arn], row_to_target)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn remove_targets(&self, rule_arn: &str, ids: &[String]) -> Result<usize, StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        let mut n = 0;
        {
            let mut st =
                tx.prepare_cached("DELETE FROM targets WHERE rule_arn = ?1 AND id = ?2")?;
            for id in ids {
                n += st.execute(params![rule_arn, id])?;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    pub fn rules_with_target(
        &self,
        rules_prefix: &str,
        target_arn: &str,
    ) -> Result<Vec<String>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT DISTINCT rule_arn FROM targets WHERE arn = ?1 AND substr(rule_arn, 1, length(?2)) = ?2 ORDER BY rule_arn",
        )?;
        let rows = st.query_map([target_arn, rules_prefix], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn put_bus_events(&self, events: &[NewBusEvent], now_ms: i64) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO bus_events (account, region, bus, event, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for e in events {
                st.execute(params![e.account, e.region, e.bus, e.event, now_ms])?;
            }
        }
        tx.commit()?;
        drop(c);
        let put = Arc::clone(&self.put);
        self.db.after_commit(move || put.notify_one());
        Ok(())
    }

    pub fn events_put(&self) -> Arc<Notify> {
        Arc::clone(&self.put)
    }

    pub fn bus_events_after(&self, seq: i64, limit: usize) -> Result<Vec<BusEvent>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT seq, account, region, bus, event, created_ms FROM bus_events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = st.query_map(params![seq, limit_of(limit)], |r| {
            Ok(BusEvent {
                seq: r.get(0)?,
                account: r.get(1)?,
                region: r.get(2)?,
                bus: r.get(3)?,
                event: r.get(4)?,
                created_ms: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn forget_bus_events(&self, through_seq: i64) -> Result<(), StoreError> {
        self.db
            .write()?
            .execute("DELETE FROM bus_events WHERE seq <= ?1", [through_seq])?;
        Ok(())
    }

    pub fn cursor(&self, name: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                "SELECT position FROM cursors WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn advance(
        &self,
        name: &str,
        position: i64,
        deliveries: &[NewDelivery],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        insert_deliveries(&tx, deliveries, now_ms)?;
        tx.execute(
            "INSERT INTO cursors (name, position) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET position = excluded.position",
            params![name, position],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn fired(
        &self,
        rule_arn: &str,
        next_fire_ms: i64,
        deliveries: &[NewDelivery],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        insert_deliveries(&tx, deliveries, now_ms)?;
        tx.execute(
            "UPDATE rules SET next_fire_ms = ?2 WHERE arn = ?1",
            params![rule_arn, next_fire_ms],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM outbox WHERE next_ms <= ?1 ORDER BY next_ms, id LIMIT ?2"
        ))?;
        let rows = st.query_map(params![now_ms, limit_of(limit)], row_to_delivery)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn pending(&self) -> Result<Vec<Delivery>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM outbox ORDER BY id"
        ))?;
        let rows = st.query_map([], row_to_delivery)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn retry_later(
        &self,
        id: i64,
        attempts: i64,
        next_ms: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        self.db.write()?.execute(
            "UPDATE outbox SET attempts = ?2, next_ms = ?3, last_error = ?4 WHERE id = ?1",
            params![id, attempts, next_ms, error],
        )?;
        Ok(())
    }

    pub fn finish(&self, id: i64) -> Result<(), StoreError> {
        self.db
            .write()?
            .execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        Ok(())
    }
}

impl EventsStore for SqliteEvents {
    forward! {
        fn create_bus(&self, b: &EventBus) -> Result<bool, StoreError>;
        fn bus(&self, arn: &str) -> Result<Option<EventBus>, StoreError>;
        fn buses(&self, account: &str, region: &str) -> Result<Vec<EventBus>, StoreError>;
        fn update_bus(&self, b: &EventBus) -> Result<bool, StoreError>;
        fn delete_bus(&self, arn: &str) -> Result<bool, StoreError>;
        fn put_rule(&self, r: &Rule) -> Result<(), StoreError>;
        fn rule(&self, arn: &str) -> Result<Option<Rule>, StoreError>;
        fn rules(&self, account: &str, region: &str, bus: &str) -> Result<Vec<Rule>, StoreError>;
        fn delete_rule(&self, arn: &str) -> Result<bool, StoreError>;
        fn set_tags(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<bool, StoreError>;
        fn any_pattern_rule(&self) -> Result<bool, StoreError>;
        fn schedules_due(&self, now_ms: i64) -> Result<Vec<Rule>, StoreError>;
        fn put_targets(&self, targets: &[Target]) -> Result<(), StoreError>;
        fn targets(&self, rule_arn: &str) -> Result<Vec<Target>, StoreError>;
        fn remove_targets(&self, rule_arn: &str, ids: &[String]) -> Result<usize, StoreError>;
        fn rules_with_target(&self, rules_prefix: &str, target_arn: &str) -> Result<Vec<String>, StoreError>;
        fn put_bus_events(&self, events: &[NewBusEvent], now_ms: i64) -> Result<(), StoreError>;
        fn bus_events_after(&self, seq: i64, limit: usize) -> Result<Vec<BusEvent>, StoreError>;
        fn events_put(&self) -> Arc<Notify>;
        fn forget_bus_events(&self, through_seq: i64) -> Result<(), StoreError>;
        fn cursor(&self, name: &str) -> Result<Option<i64>, StoreError>;
        fn advance(&self, name: &str, position: i64, deliveries: &[NewDelivery], now_ms: i64) -> Result<(), StoreError>;
        fn fired(&self, rule_arn: &str, next_fire_ms: i64, deliveries: &[NewDelivery], now_ms: i64) -> Result<(), StoreError>;
        fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<Delivery>, StoreError>;
        fn pending(&self) -> Result<Vec<Delivery>, StoreError>;
        fn retry_later(&self, id: i64, attempts: i64, next_ms: i64, error: &str) -> Result<(), StoreError>;
        fn finish(&self, id: i64) -> Result<(), StoreError>;
    }
}
