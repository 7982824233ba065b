//! LookupEvents queries on PostgreSQL, as the SQLite index answers them: one optional
//! attribute, a time range, newest first, keyset pages over `(t, seq)` (the same page tokens).
//! EventId is found through `history_event_ids`; resource attributes through
//! `history_resources`; the other attributes by `history_events`' own indexes.

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Client, Row};

use super::batch::text;
use crate::error::StoreError;
use crate::history::{IndexedEvent, LookupKey, LookupPage, LookupQuery, PageAfter, ShownResource};
use crate::pg::backend;

/// The `history_events` column an attribute is kept in; resource attributes are in
/// `history_resources`.
fn events_column(key: LookupKey) -> Option<&'static str> {
    match key {
        LookupKey::EventName => Some("event_name"),
        LookupKey::ReadOnly => Some("read_only"),
        LookupKey::Username => Some("username"),
        LookupKey::EventSource => Some("event_source"),
        LookupKey::AccessKeyId => Some("access_key_id"),
        LookupKey::EventId | LookupKey::ResourceType | LookupKey::ResourceName => None,
    }
}

const EVENT_COLUMNS: &str = "e.seq, e.t, e.event_id, e.event_name, e.event_source, e.username, e.access_key_id, e.read_only";

type Param = Box<dyn ToSql + Sync>;

/// A query's parameters, numbered as they are added.
struct Params(Vec<Param>);

impl Params {
    /// Adds `v`; its placeholder (`$n`).
    fn add(&mut self, v: impl ToSql + Sync + 'static) -> String {
        self.0.push(Box::new(v));
        format!("${}", self.0.len())
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.0
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

pub(super) fn run(c: &mut Client, q: &LookupQuery) -> Result<LookupPage, StoreError> {
    let Some(scope) = find_scope(c, q)? else {
        return Ok(LookupPage::default());
    };
    // $1 to $4, in every query below.
    let mut p = Params(Vec::new());
    p.add(scope);
    p.add(q.start_ms);
    p.add(q.end_ms);
    p.add(i64::try_from(q.limit).unwrap_or(i64::MAX).saturating_add(1));
    let after = match q.after {
        Some(a) => format!(" AND (e.t, e.seq) < ({}, {})", p.add(a.t), p.add(a.seq)),
        None => String::new(),
    };
    let mut events = match &q.attribute {
        Some((LookupKey::EventId, value)) => by_event_id(c, &mut p, &after, &q.account, value)?,
        Some((key, value)) if events_column(*key).is_none() => {
            by_resource(c, &mut p, &after, *key, value)?
        }
        Some((key, value)) => {
            let Some(col) = events_column(*key) else {
                return Err(StoreError::Invalid(format!(
                    "no events column for {}",
                    key.as_str()
                )));
            };
            let filter = format!(" AND e.{col} = {}", p.add(text(value).into_owned()));
            by_events(c, &p, &filter, &after)?
        }
        None => by_events(c, &p, "", &after)?,
    };
    let next = if events.len() > q.limit {
        events.truncate(q.limit);
        events.last().map(|e| PageAfter { t: e.t, seq: e.seq })
    } else {
        None
    };
    add_resources(c, &mut events)?;
    Ok(LookupPage { events, next })
}

/// The scope the query looks in, if it has any events.
fn find_scope(c: &mut Client, q: &LookupQuery) -> Result<Option<i64>, StoreError> {
    Ok(c.query_opt(
        "SELECT id FROM history_scopes WHERE account = $1 AND region = $2 AND category = $3",
        &[&text(&q.account), &text(&q.region), &q.category],
    )
    .map_err(backend)?
    .map(|r| r.get(0)))
}

fn by_event_id(
    c: &mut Client,
    p: &mut Params,
    after: &str,
    account: &str,
    event_id: &str,
) -> Result<Vec<IndexedEvent>, StoreError> {
    let account = p.add(text(account).into_owned());
    let event_id = p.add(text(event_id).into_owned());
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM history_event_ids i JOIN history_events e ON e.seq = i.seq
         WHERE i.account = {account} AND i.event_id = {event_id} AND e.scope = $1 AND e.t >= $2 AND e.t <= $3{after}
         ORDER BY e.t DESC, e.seq DESC LIMIT $4"
    );
    Ok(c.query(&sql, &p.refs())
        .map_err(backend)?
        .iter()
        .map(row_to_event)
        .collect())
}

fn by_events(
    c: &mut Client,
    p: &Params,
    filter: &str,
    after: &str,
) -> Result<Vec<IndexedEvent>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM history_events e WHERE e.scope = $1{filter} AND e.t >= $2 AND e.t <= $3{after}
         ORDER BY e.t DESC, e.seq DESC LIMIT $4"
    );
    Ok(c.query(&sql, &p.refs())
        .map_err(backend)?
        .iter()
        .map(row_to_event)
        .collect())
}

/// Events with a resource of this type or name: their journal offsets from
/// `history_resources`, then the events themselves, in that order.
fn by_resource(
    c: &mut Client,
    p: &mut Params,
    after: &str,
    key: LookupKey,
    value: &str,
) -> Result<Vec<IndexedEvent>, StoreError> {
    let col = if key == LookupKey::ResourceType {
        "rtype"
    } else {
        "rname"
    };
    let value = p.add(text(value).into_owned());
    let sql = format!(
        "SELECT DISTINCT e.t, e.seq FROM history_resources e WHERE e.scope = $1 AND e.{col} = {value} AND e.t >= $2 AND e.t <= $3{after}
         ORDER BY e.t DESC, e.seq DESC LIMIT $4"
    );
    let seqs: Vec<i64> = c
        .query(&sql, &p.refs())
        .map_err(backend)?
        .iter()
        .map(|r| r.get(1))
        .collect();
    let mut found: HashMap<i64, IndexedEvent> = c
        .query(
            &format!("SELECT {EVENT_COLUMNS} FROM history_events e WHERE e.seq = ANY($1)"),
            &[&seqs],
        )
        .map_err(backend)?
        .iter()
        .map(|r| {
            let e = row_to_event(r);
            (e.seq, e)
        })
        .collect();
    Ok(seqs.iter().filter_map(|s| found.remove(s)).collect())
}

/// The resources LookupEvents lists with each event, in the order they were written.
fn add_resources(c: &mut Client, events: &mut [IndexedEvent]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    let at: HashMap<i64, usize> = seqs.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    let rows = c
        .query(
            "SELECT seq, rtype, rname FROM history_resources WHERE seq = ANY($1) AND shown ORDER BY id",
            &[&seqs],
        )
        .map_err(backend)?;
    for r in rows {
        if let Some(i) = at.get(&r.get::<_, i64>(0)) {
            events[*i].resources.push(ShownResource {
                resource_type: r.get(1),
                resource_name: r.get(2),
            });
        }
    }
    Ok(())
}

fn row_to_event(r: &Row) -> IndexedEvent {
    IndexedEvent {
        seq: r.get(0),
        t: r.get(1),
        event_id: r.get(2),
        event_name: r.get(3),
        event_source: r.get(4),
        username: r.get(5),
        access_key_id: r.get(6),
        read_only: r.get(7),
        resources: Vec::new(),
    }
}
