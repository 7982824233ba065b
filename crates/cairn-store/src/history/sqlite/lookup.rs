//! LookupEvents queries in SQLite: one optional attribute, a time range, newest first, keyset
//! paging over `(t, seq)`. EventId is found through `event_ids` (which carries each id's seq);
//! resource attributes through `resources`; the other attributes by `events`' own indexes.

use rusqlite::{Connection, params_from_iter, types::Value as SqlValue};

use crate::error::StoreError;
use crate::history::{IndexedEvent, LookupKey, LookupPage, LookupQuery, PageAfter, ShownResource};

/// The `events` column an attribute is kept in; resource attributes are in `resources`.
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

pub(crate) fn run(c: &Connection, q: &LookupQuery) -> Result<LookupPage, StoreError> {
    let Some(scope) = super::find_scope(c, &q.account, &q.region, q.category)? else {
        return Ok(LookupPage::default());
    };
    let mut args: Vec<SqlValue> = vec![scope.into(), q.start_ms.into(), q.end_ms.into()];
    let mut after_clause = String::new();
    if let Some(a) = q.after {
        args.push(a.t.into());
        args.push(a.seq.into());
        after_clause = format!(
            " AND (e.t < ?{0} OR (e.t = ?{0} AND e.seq < ?{1}))",
            args.len() - 1,
            args.len()
        );
    }
    let fetch = q.limit + 1;
    let mut events = match &q.attribute {
        Some((LookupKey::EventId, value)) => {
            args.push(q.account.clone().into());
            args.push(value.clone().into());
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM event_ids i JOIN events e ON e.seq = i.seq
                 WHERE i.account = ?{} AND i.event_id = ?{} AND e.scope = ?1 AND e.t >= ?2 AND e.t <= ?3{after_clause}
                 ORDER BY e.t DESC, e.seq DESC LIMIT {fetch}",
                args.len() - 1,
                args.len()
            );
            c.prepare_cached(&sql)?
                .query_map(params_from_iter(args.iter()), row_to_event)?
                .collect::<Result<_, _>>()?
        }
        Some((key, value)) if events_column(*key).is_none() => {
            let col = if *key == LookupKey::ResourceType {
                "rtype"
            } else {
                "rname"
            };
            args.push(value.clone().into());
            let sql = format!(
                "SELECT DISTINCT e.t, e.seq FROM resources e WHERE e.scope = ?1 AND e.{col} = ?{} AND e.t >= ?2 AND e.t <= ?3{after_clause}
                 ORDER BY e.t DESC, e.seq DESC LIMIT {fetch}",
                args.len()
            );
            let seqs: Vec<i64> = c
                .prepare_cached(&sql)?
                .query_map(params_from_iter(args.iter()), |r| r.get(1))?
                .collect::<Result<_, _>>()?;
            let mut out = Vec::with_capacity(seqs.len());
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events e WHERE e.seq = ?1"
            ))?;
            for s in seqs {
                if let Some(e) = stmt.query_map([s], row_to_event)?.next() {
                    out.push(e?);
                }
            }
            out
        }
        other => {
            let mut filter = String::new();
            if let Some((key, value)) = other {
                args.push(value.clone().into());
                // EventId and the resource attributes were answered above.
                let Some(col) = events_column(*key) else {
                    return Err(StoreError::Invalid(format!(
                        "no events column for {}",
                        key.as_str()
                    )));
                };
                filter = format!(" AND e.{col} = ?{}", args.len());
            }
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM events e WHERE e.scope = ?1{filter} AND e.t >= ?2 AND e.t <= ?3{after_clause}
                 ORDER BY e.t DESC, e.seq DESC LIMIT {fetch}"
            );
            c.prepare_cached(&sql)?
                .query_map(params_from_iter(args.iter()), row_to_event)?
                .collect::<Result<_, _>>()?
        }
    };
    let next = if events.len() > q.limit {
        events.truncate(q.limit);
        events.last().map(|e| PageAfter { t: e.t, seq: e.seq })
    } else {
        None
    };
    let mut res = c.prepare_cached(
        "SELECT rtype, rname FROM resources WHERE seq = ?1 AND shown = 1 ORDER BY rowid",
    )?;
    for e in &mut events {
        e.resources = res
            .query_map([e.seq], |r| {
                Ok(ShownResource {
                    resource_type: r.get(0)?,
                    resource_name: r.get(1)?,
                })
            })?
            .collect::<Result<_, _>>()?;
    }
    Ok(LookupPage { events, next })
}

fn row_to_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<IndexedEvent> {
    Ok(IndexedEvent {
        seq: r.get(0)?,
        t: r.get(1)?,
        event_id: r.get(2)?,
        event_name: r.get(3)?,
        event_source: r.get(4)?,
        username: r.get(5)?,
        access_key_id: r.get(6)?,
        read_only: r.get(7)?,
        resources: Vec::new(),
    })
}
