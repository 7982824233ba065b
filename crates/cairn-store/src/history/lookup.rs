//! LookupEvents queries: one optional attribute, a time range, newest first, keyset paging.

use rusqlite::{Connection, params_from_iter, types::Value as SqlValue};

use crate::error::StoreError;

/// The eight LookupEvents attribute keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupKey {
    EventId,
    EventName,
    ReadOnly,
    Username,
    ResourceType,
    ResourceName,
    EventSource,
    AccessKeyId,
}

impl LookupKey {
    pub fn parse(s: &str) -> Option<LookupKey> {
        Some(match s {
            "EventId" => LookupKey::EventId,
            "EventName" => LookupKey::EventName,
            "ReadOnly" => LookupKey::ReadOnly,
            "Username" => LookupKey::Username,
            "ResourceType" => LookupKey::ResourceType,
            "ResourceName" => LookupKey::ResourceName,
            "EventSource" => LookupKey::EventSource,
            "AccessKeyId" => LookupKey::AccessKeyId,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LookupKey::EventId => "EventId",
            LookupKey::EventName => "EventName",
            LookupKey::ReadOnly => "ReadOnly",
            LookupKey::Username => "Username",
            LookupKey::ResourceType => "ResourceType",
            LookupKey::ResourceName => "ResourceName",
            LookupKey::EventSource => "EventSource",
            LookupKey::AccessKeyId => "AccessKeyId",
        }
    }

    fn events_column(self) -> Option<&'static str> {
        match self {
            LookupKey::EventId => Some("event_id"),
            LookupKey::EventName => Some("event_name"),
            LookupKey::ReadOnly => Some("read_only"),
            LookupKey::Username => Some("username"),
            LookupKey::EventSource => Some("event_source"),
            LookupKey::AccessKeyId => Some("access_key_id"),
            LookupKey::ResourceType | LookupKey::ResourceName => None,
        }
    }
}

/// Where the previous page ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageAfter {
    pub t: i64,
    pub seq: i64,
}

#[derive(Clone, Debug)]
pub struct LookupQuery {
    pub account: String,
    pub region: String,
    /// `Management` or `Insight`.
    pub category: &'static str,
    pub attribute: Option<(LookupKey, String)>,
    /// Inclusive bounds on eventTime, ms.
    pub start_ms: i64,
    pub end_ms: i64,
    pub limit: usize,
    pub after: Option<PageAfter>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownResource {
    pub resource_type: Option<String>,
    pub resource_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedEvent {
    /// The record's journal offset.
    pub seq: i64,
    pub t: i64,
    pub event_id: String,
    pub event_name: Option<String>,
    pub event_source: Option<String>,
    pub username: Option<String>,
    pub access_key_id: Option<String>,
    pub read_only: Option<String>,
    pub resources: Vec<ShownResource>,
}

#[derive(Clone, Debug, Default)]
pub struct LookupPage {
    pub events: Vec<IndexedEvent>,
    /// Set when more events follow this page.
    pub next: Option<PageAfter>,
}

const EVENT_COLUMNS: &str =
    "seq, t, event_id, event_name, event_source, username, access_key_id, read_only";

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
            " AND (t < ?{0} OR (t = ?{0} AND seq < ?{1}))",
            args.len() - 1,
            args.len()
        );
    }
    let fetch = q.limit + 1;
    let mut events = match &q.attribute {
        Some((key, value)) if key.events_column().is_none() => {
            let col = if *key == LookupKey::ResourceType {
                "rtype"
            } else {
                "rname"
            };
            args.push(value.clone().into());
            let sql = format!(
                "SELECT DISTINCT t, seq FROM resources WHERE scope = ?1 AND {col} = ?{} AND t >= ?2 AND t <= ?3{after_clause}
                 ORDER BY t DESC, seq DESC LIMIT {fetch}",
                args.len()
            );
            let seqs: Vec<i64> = c
                .prepare_cached(&sql)?
                .query_map(params_from_iter(args.iter()), |r| r.get(1))?
                .collect::<Result<_, _>>()?;
            let mut out = Vec::with_capacity(seqs.len());
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE seq = ?1"
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
                filter = format!(
                    " AND {} = ?{}",
                    key.events_column().unwrap_or("event_id"),
                    args.len()
                );
            }
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE scope = ?1{filter} AND t >= ?2 AND t <= ?3{after_clause}
                 ORDER BY t DESC, seq DESC LIMIT {fetch}"
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
