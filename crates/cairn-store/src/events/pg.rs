//! EventBridge on PostgreSQL (schema in `sql/pg/events_*.sql`). Every write joins the call's
//! group transaction (`crate::pg`), so a refused call leaves nothing behind and an answered
//! PutEvents has its events committed; the router's writes (outside any call) commit at once,
//! a cursor move always with the deliveries it made.
//!
//! Events put on buses are numbered under a lock on the `bus_events_head` row held until the
//! put's transaction commits (as the journal's positions are): the router follows them with a
//! cursor (`bus_events_after`), and numbers from a plain sequence could become visible out of
//! order and be skipped. The price: puts from different nodes wait for each other's group
//! commits. Nothing is kept in memory but the wakeup of this node's router.

use std::collections::BTreeMap;
use std::sync::Arc;

use postgres::{Client, Row};
use tokio::sync::Notify;

use super::{BusEvent, Delivery, EventBus, EventsStore, NewBusEvent, NewDelivery, Rule, Target};
use crate::error::StoreError;
use crate::pg::{Migration, PgDb, backend};
use crate::string_map::{map_of, map_text};

const MIGRATIONS: &[Migration] = &[Migration {
    store: "events",
    version: 1,
    sql: include_str!("../../sql/pg/events_0001.sql"),
}];

pub struct PgEvents {
    db: PgDb,
    /// Notified once events put on buses through this node are committed.
    put: Arc<Notify>,
}

fn limit_of(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

const BUS_COLUMNS: &str = "arn, account, region, name, description, created_ms, modified_ms, tags";

fn row_to_bus(r: &Row) -> EventBus {
    let tags: String = r.get(7);
    EventBus {
        arn: r.get(0),
        account: r.get(1),
        region: r.get(2),
        name: r.get(3),
        description: r.get(4),
        created_ms: r.get(5),
        modified_ms: r.get(6),
        tags: map_of(&tags),
    }
}

const RULE_COLUMNS: &str = "arn, account, region, bus, name, event_pattern, schedule, state, description, role_arn, created_by, created_ms, next_fire_ms, tags";

fn row_to_rule(r: &Row) -> Rule {
    let tags: String = r.get(13);
    Rule {
        arn: r.get(0),
        account: r.get(1),
        region: r.get(2),
        bus: r.get(3),
        name: r.get(4),
        event_pattern: r.get(5),
        schedule: r.get(6),
        state: r.get(7),
        description: r.get(8),
        role_arn: r.get(9),
        created_by: r.get(10),
        created_ms: r.get(11),
        next_fire_ms: r.get(12),
        tags: map_of(&tags),
    }
}

fn row_to_target(r: &Row) -> Target {
    Target {
        rule_arn: r.get(0),
        id: r.get(1),
        arn: r.get(2),
        spec: r.get(3),
    }
}

fn row_to_bus_event(r: &Row) -> BusEvent {
    BusEvent {
        seq: r.get(0),
        account: r.get(1),
        region: r.get(2),
        bus: r.get(3),
        event: r.get(4),
        created_ms: r.get(5),
    }
}

const DELIVERY_COLUMNS: &str =
    "id, rule_arn, target, event, input, event_ms, attempts, next_ms, created_ms, last_error";

fn row_to_delivery(r: &Row) -> Delivery {
    Delivery {
        id: r.get(0),
        rule_arn: r.get(1),
        target: r.get(2),
        event: r.get(3),
        input: r.get(4),
        event_ms: r.get(5),
        attempts: r.get(6),
        next_ms: r.get(7),
        created_ms: r.get(8),
        last_error: r.get(9),
    }
}

fn insert_deliveries(
    c: &mut Client,
    deliveries: &[NewDelivery],
    now_ms: i64,
) -> Result<(), postgres::Error> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let st = c.prepare(
        "INSERT INTO event_deliveries (rule_arn, target, event, input, event_ms, attempts, next_ms, created_ms) VALUES ($1, $2, $3, $4, $5, 0, $6, $7)",
    )?;
    for d in deliveries {
        c.execute(
            &st,
            &[
                &d.rule_arn,
                &d.target,
                &d.event,
                &d.input,
                &d.event_ms,
                &d.due_ms,
                &now_ms,
            ],
        )?;
    }
    Ok(())
}

impl PgEvents {
    /// The store in `schema` of the database at `url`.
    pub fn open(url: &str, schema: &str) -> Result<PgEvents, StoreError> {
        Ok(PgEvents {
            db: PgDb::connect(url, schema, MIGRATIONS)?,
            put: Arc::new(Notify::new()),
        })
    }

    pub fn create_bus(&self, b: &EventBus) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute(
                &format!("INSERT INTO event_buses ({BUS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING"),
                &[&b.arn, &b.account, &b.region, &b.name, &b.description, &b.created_ms, &b.modified_ms, &map_text(&b.tags)],
            )
        })? > 0)
    }

    pub fn bus(&self, arn: &str) -> Result<Option<EventBus>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                &format!("SELECT {BUS_COLUMNS} FROM event_buses WHERE arn = $1"),
                &[&arn],
            )
            .map_err(backend)?
            .as_ref()
            .map(row_to_bus))
    }

    pub fn buses(&self, account: &str, region: &str) -> Result<Vec<EventBus>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {BUS_COLUMNS} FROM event_buses WHERE account = $1 AND region = $2 ORDER BY name"),
                &[&account, &region],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_bus)
            .collect())
    }

    pub fn update_bus(&self, b: &EventBus) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute(
                "UPDATE event_buses SET description = $2, modified_ms = $3, tags = $4 WHERE arn = $1",
                &[&b.arn, &b.description, &b.modified_ms, &map_text(&b.tags)],
            )
        })? > 0)
    }

    pub fn delete_bus(&self, arn: &str) -> Result<bool, StoreError> {
        self.db.write_with(|c| {
            let Some(place) = c.query_opt(
                "SELECT account, region, name FROM event_buses WHERE arn = $1",
                &[&arn],
            )?
            else {
                return Ok(false);
            };
            let (account, region, name): (String, String, String) =
                (place.get(0), place.get(1), place.get(2));
            c.execute(
                "DELETE FROM event_targets WHERE rule_arn IN (SELECT arn FROM event_rules WHERE account = $1 AND region = $2 AND bus = $3)",
                &[&account, &region, &name],
            )?;
            c.execute(
                "DELETE FROM event_rules WHERE account = $1 AND region = $2 AND bus = $3",
                &[&account, &region, &name],
            )?;
            c.execute("DELETE FROM event_buses WHERE arn = $1", &[&arn])?;
            Ok(true)
        })
    }

    pub fn put_rule(&self, r: &Rule) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                &format!("INSERT INTO event_rules ({RULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                 ON CONFLICT (arn) DO UPDATE SET account = EXCLUDED.account, region = EXCLUDED.region,
                   bus = EXCLUDED.bus, name = EXCLUDED.name, event_pattern = EXCLUDED.event_pattern,
                   schedule = EXCLUDED.schedule, state = EXCLUDED.state, description = EXCLUDED.description,
                   role_arn = EXCLUDED.role_arn, created_by = EXCLUDED.created_by, created_ms = EXCLUDED.created_ms,
                   next_fire_ms = EXCLUDED.next_fire_ms, tags = EXCLUDED.tags"),
                &[
                    &r.arn, &r.account, &r.region, &r.bus, &r.name, &r.event_pattern, &r.schedule, &r.state,
                    &r.description, &r.role_arn, &r.created_by, &r.created_ms, &r.next_fire_ms, &map_text(&r.tags),
                ],
            )
        })?;
        Ok(())
    }

    pub fn rule(&self, arn: &str) -> Result<Option<Rule>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                &format!("SELECT {RULE_COLUMNS} FROM event_rules WHERE arn = $1"),
                &[&arn],
            )
            .map_err(backend)?
            .as_ref()
            .map(row_to_rule))
    }

    pub fn rules(&self, account: &str, region: &str, bus: &str) -> Result<Vec<Rule>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {RULE_COLUMNS} FROM event_rules WHERE account = $1 AND region = $2 AND bus = $3 ORDER BY name"),
                &[&account, &region, &bus],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_rule)
            .collect())
    }

    pub fn delete_rule(&self, arn: &str) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute("DELETE FROM event_targets WHERE rule_arn = $1", &[&arn])?;
            c.execute("DELETE FROM event_rules WHERE arn = $1", &[&arn])
        })? > 0)
    }

    pub fn set_tags(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<bool, StoreError> {
        let text = map_text(tags);
        Ok(self.db.write_with(|c| {
            Ok(c.execute(
                "UPDATE event_buses SET tags = $2 WHERE arn = $1",
                &[&arn, &text],
            )? + c.execute(
                "UPDATE event_rules SET tags = $2 WHERE arn = $1",
                &[&arn, &text],
            )?)
        })? > 0)
    }

    pub fn any_pattern_rule(&self) -> Result<bool, StoreError> {
        Ok(self
            .db
            .read()
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM event_rules WHERE event_pattern IS NOT NULL AND state != 'DISABLED')",
                &[],
            )
            .map_err(backend)?
            .get(0))
    }

    pub fn schedules_due(&self, now_ms: i64) -> Result<Vec<Rule>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {RULE_COLUMNS} FROM event_rules WHERE next_fire_ms IS NOT NULL AND next_fire_ms <= $1 AND state != 'DISABLED' ORDER BY next_fire_ms, arn"),
                &[&now_ms],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_rule)
            .collect())
    }

    pub fn put_targets(&self, targets: &[Target]) -> Result<(), StoreError> {
        if targets.is_empty() {
            return Ok(());
        }
        self.db.write_with(|c| {
            let st = c.prepare(
                "INSERT INTO event_targets (rule_arn, id, arn, spec) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (rule_arn, id) DO UPDATE SET arn = EXCLUDED.arn, spec = EXCLUDED.spec",
            )?;
            for t in targets {
                c.execute(&st, &[&t.rule_arn, &t.id, &t.arn, &t.spec])?;
            }
            Ok(())
        })
    }

    pub fn targets(&self, rule_arn: &str) -> Result<Vec<Target>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT rule_arn, id, arn, spec FROM event_targets WHERE rule_arn = $1 ORDER BY id",
                &[&rule_arn],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_target)
            .collect())
    }

    pub fn remove_targets(&self, rule_arn: &str, ids: &[String]) -> Result<usize, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let n = self.db.write_with(|c| {
            let st = c.prepare("DELETE FROM event_targets WHERE rule_arn = $1 AND id = $2")?;
            let mut n = 0;
            for id in ids {
                n += c.execute(&st, &[&rule_arn, id])?;
            }
            Ok(n)
        })?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    pub fn rules_with_target(
        &self,
        rules_prefix: &str,
        target_arn: &str,
    ) -> Result<Vec<String>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT DISTINCT rule_arn FROM event_targets WHERE arn = $1 AND starts_with(rule_arn, $2) ORDER BY rule_arn",
                &[&target_arn, &rules_prefix],
            )
            .map_err(backend)?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    pub fn put_bus_events(&self, events: &[NewBusEvent], now_ms: i64) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let n = i64::try_from(events.len())
            .map_err(|_| StoreError::Invalid("too many events in one put".into()))?;
        self.db.write_with(|c| {
            // Takes the numbers and the head row's lock, kept until the group commits.
            let first: i64 = c
                .query_one(
                    "UPDATE bus_events_head SET next_seq = next_seq + $1 RETURNING next_seq - $1",
                    &[&n],
                )?
                .get(0);
            let seqs: Vec<i64> = (first..first + n).collect();
            let accounts: Vec<&str> = events.iter().map(|e| e.account.as_str()).collect();
            let regions: Vec<&str> = events.iter().map(|e| e.region.as_str()).collect();
            let buses: Vec<&str> = events.iter().map(|e| e.bus.as_str()).collect();
            let bodies: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
            c.execute(
                "INSERT INTO bus_events (seq, account, region, bus, event, created_ms)
                 SELECT s, a, r, b, e, $6 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(s, a, r, b, e)",
                &[&seqs, &accounts, &regions, &buses, &bodies, &now_ms],
            )
        })?;
        let put = Arc::clone(&self.put);
        self.db.after_commit(move || put.notify_one());
        Ok(())
    }

    /// This node's wakeup only (notified after the put commits): events other nodes put are
    /// found by the router's periodic tick, until LISTEN/NOTIFY on the database wakes every
    /// node's router.
    pub fn events_put(&self) -> Arc<Notify> {
        Arc::clone(&self.put)
    }

    pub fn bus_events_after(&self, seq: i64, limit: usize) -> Result<Vec<BusEvent>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT seq, account, region, bus, event, created_ms FROM bus_events WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&seq, &limit_of(limit)],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_bus_event)
            .collect())
    }

    pub fn forget_bus_events(&self, through_seq: i64) -> Result<(), StoreError> {
        self.db
            .write_with(|c| c.execute("DELETE FROM bus_events WHERE seq <= $1", &[&through_seq]))?;
        Ok(())
    }

    pub fn cursor(&self, name: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                "SELECT position FROM event_cursors WHERE name = $1",
                &[&name],
            )
            .map_err(backend)?
            .map(|r| r.get(0)))
    }

    pub fn advance(
        &self,
        name: &str,
        position: i64,
        deliveries: &[NewDelivery],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            insert_deliveries(c, deliveries, now_ms)?;
            c.execute(
                "INSERT INTO event_cursors (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position",
                &[&name, &position],
            )
        })?;
        Ok(())
    }

    pub fn fired(
        &self,
        rule_arn: &str,
        next_fire_ms: i64,
        deliveries: &[NewDelivery],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            insert_deliveries(c, deliveries, now_ms)?;
            c.execute(
                "UPDATE event_rules SET next_fire_ms = $2 WHERE arn = $1",
                &[&rule_arn, &next_fire_ms],
            )
        })?;
        Ok(())
    }

    pub fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {DELIVERY_COLUMNS} FROM event_deliveries WHERE next_ms <= $1 ORDER BY next_ms, id LIMIT $2"),
                &[&now_ms, &limit_of(limit)],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_delivery)
            .collect())
    }

    pub fn pending(&self) -> Result<Vec<Delivery>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {DELIVERY_COLUMNS} FROM event_deliveries ORDER BY id"),
                &[],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_delivery)
            .collect())
    }

    pub fn retry_later(
        &self,
        id: i64,
        attempts: i64,
        next_ms: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                "UPDATE event_deliveries SET attempts = $2, next_ms = $3, last_error = $4 WHERE id = $1",
                &[&id, &attempts, &next_ms, &error],
            )
        })?;
        Ok(())
    }

    pub fn finish(&self, id: i64) -> Result<(), StoreError> {
        self.db
            .write_with(|c| c.execute("DELETE FROM event_deliveries WHERE id = $1", &[&id]))?;
        Ok(())
    }
}

impl EventsStore for PgEvents {
    forward! {
        blocking:
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::{Duration, Instant};

    use super::*;
    use crate::suite::pg::TestPostgres;

    /// Two nodes put events in calls whose records take a while, while a router follows the
    /// stream with a cursor: it finds the numbers without gaps and every event once, because
    /// an event becomes visible only after every event numbered below it.
    #[test]
    fn a_router_following_puts_from_two_nodes_misses_none() {
        let server = TestPostgres::start();
        let url = server.url();
        let nodes: Vec<Arc<PgEvents>> = (0..2)
            .map(|_| Arc::new(PgEvents::open(&url, "shared_events").unwrap()))
            .collect();
        let (threads, puts) = (4, 20);
        let writers: Vec<_> = (0..threads)
            .map(|t| {
                let node = Arc::clone(&nodes[t % 2]);
                std::thread::spawn(move || {
                    for i in 0..puts {
                        let entered = crate::db::enter();
                        let e = NewBusEvent {
                            account: "111122223333".into(),
                            region: "us-east-1".into(),
                            bus: "default".into(),
                            event: format!(r#"{{"t":{t},"i":{i}}}"#),
                        };
                        node.put_bus_events(&[e], 1).unwrap();
                        // The call's record becoming durable.
                        std::thread::sleep(Duration::from_millis(3));
                        entered.leave().finish(true).unwrap();
                    }
                })
            })
            .collect();
        let router = Arc::clone(&nodes[1]);
        let mut seen = Vec::new();
        let mut cursor = 0;
        let deadline = Instant::now() + Duration::from_secs(60);
        while seen.len() < threads * puts {
            assert!(Instant::now() < deadline, "the router saw {}", seen.len());
            for e in router.bus_events_after(cursor, 7).unwrap() {
                assert_eq!(e.seq, cursor + 1, "no event is skipped");
                cursor = e.seq;
                seen.push(e.event);
            }
        }
        for w in writers {
            w.join().unwrap();
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), threads * puts);
        assert!(router.bus_events_after(cursor, 7).unwrap().is_empty());
    }
}
