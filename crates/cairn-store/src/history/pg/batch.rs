//! One batch of journal entries as rows of the PostgreSQL index: decoded as the SQLite index
//! decodes them, their scopes resolved to ids, and written with one statement per table
//! (arrays unnested), so a batch of thousands of events costs a handful of round trips.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use cairn_model::summary::{EventSummary, effective_event_id};
use postgres::Transaction;

use super::offset_value;
use crate::error::StoreError;
use crate::history::sqlite::category_name;
use crate::journal::Entry;
use crate::pg::backend;

/// An account, region and category (`Management` or `Insight`) that has events.
pub(super) type ScopeKey = (String, String, &'static str);

/// Text as PostgreSQL keeps it: it refuses NUL characters, which a record's strings may hold
/// (`\u0000` in JSON). They become U+FFFD, in the index and in what is looked up alike, rather
/// than one record stopping the index for good.
pub(super) fn text(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(s)
    }
}

fn owned(s: &str) -> String {
    text(s).into_owned()
}

fn owned_opt(s: &Option<String>) -> Option<String> {
    s.as_deref().map(owned)
}

struct IdRow {
    account: String,
    event_id: String,
    seq: i64,
}

struct EventRow {
    seq: i64,
    scope: ScopeKey,
    t: i64,
    event_id: String,
    event_name: Option<String>,
    event_source: Option<String>,
    username: Option<String>,
    access_key_id: Option<String>,
    read_only: Option<String>,
}

struct ResourceRow {
    /// The event it belongs to, in [`Batch::events`].
    event: usize,
    rtype: Option<String>,
    rname: String,
    shown: bool,
}

/// The rows of a batch, in journal order.
#[derive(Default)]
pub(super) struct Batch {
    ids: Vec<IdRow>,
    events: Vec<EventRow>,
    resources: Vec<ResourceRow>,
}

impl Batch {
    pub(super) fn of(entries: &[&(u64, Vec<u8>)]) -> Result<Batch, StoreError> {
        let mut b = Batch::default();
        for (offset, payload) in entries {
            b.add(*offset, payload)?;
        }
        Ok(b)
    }

    /// One entry's rows; an entry that cannot be read is left out (and said so), as the
    /// SQLite index does.
    fn add(&mut self, offset: u64, payload: &[u8]) -> Result<(), StoreError> {
        let seq = offset_value(offset)?;
        let entry = match Entry::decode(offset, payload) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(offset, error = %e, "unreadable journal entry left out of event history");
                return Ok(());
            }
        };
        let Some(s) = EventSummary::of_json(&entry.record) else {
            tracing::error!(
                offset,
                "journal entry is not JSON; left out of event history"
            );
            return Ok(());
        };
        let event_id = owned(&effective_event_id(s.event_id.as_deref(), &entry.record));
        self.ids.push(IdRow {
            account: owned(&entry.account),
            event_id: event_id.clone(),
            seq,
        });
        let Some(category) = s.category.and_then(category_name) else {
            return Ok(());
        };
        let region = s.aws_region.as_deref().unwrap_or("us-east-1");
        let event = self.events.len();
        for r in &s.resources {
            let rtype = owned_opt(&r.resource_type);
            self.resources.push(ResourceRow {
                event,
                rtype: rtype.clone(),
                rname: owned(&r.resource_name),
                shown: true,
            });
            if let Some(arn) = &r.arn
                && arn != &r.resource_name
            {
                self.resources.push(ResourceRow {
                    event,
                    rtype,
                    rname: owned(arn),
                    shown: false,
                });
            }
        }
        self.events.push(EventRow {
            seq,
            scope: (owned(&entry.account), owned(region), category),
            // A record without a readable eventTime is placed at the epoch rather than dropped.
            t: s.event_time_ms.unwrap_or(0),
            event_id,
            event_name: owned_opt(&s.event_name),
            event_source: owned_opt(&s.event_source),
            username: owned_opt(&s.username),
            access_key_id: owned_opt(&s.access_key_id),
            read_only: owned_opt(&s.read_only),
        });
        Ok(())
    }

    /// Writes the rows in `tx`. `known` holds scope ids already committed; returns the ones
    /// this batch looked up or made, to remember once it has committed.
    pub(super) fn write(
        &self,
        tx: &mut Transaction<'_>,
        known: &HashMap<ScopeKey, i64>,
    ) -> Result<Vec<(ScopeKey, i64)>, StoreError> {
        let made = self.scope_ids(tx, known).map_err(backend)?;
        let id_of = |k: &ScopeKey| {
            known
                .get(k)
                .or_else(|| made.iter().find(|(m, _)| m == k).map(|(_, id)| id))
                .copied()
                .ok_or_else(|| StoreError::Invalid(format!("event history has no scope {k:?}")))
        };
        let scopes = self
            .events
            .iter()
            .map(|e| id_of(&e.scope))
            .collect::<Result<Vec<i64>, StoreError>>()?;
        self.write_ids(tx).map_err(backend)?;
        self.write_events(tx, &scopes).map_err(backend)?;
        self.write_resources(tx, &scopes).map_err(backend)?;
        Ok(made)
    }

    /// Makes the scopes of the batch not known yet, and looks up their ids.
    fn scope_ids(
        &self,
        tx: &mut Transaction<'_>,
        known: &HashMap<ScopeKey, i64>,
    ) -> Result<Vec<(ScopeKey, i64)>, postgres::Error> {
        let wanted: HashSet<&ScopeKey> = self
            .events
            .iter()
            .map(|e| &e.scope)
            .filter(|k| !known.contains_key(*k))
            .collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let accounts: Vec<&str> = wanted.iter().map(|k| k.0.as_str()).collect();
        let regions: Vec<&str> = wanted.iter().map(|k| k.1.as_str()).collect();
        let categories: Vec<&str> = wanted.iter().map(|k| k.2).collect();
        tx.execute(
            "INSERT INTO history_scopes (account, region, category)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
             ON CONFLICT DO NOTHING",
            &[&accounts, &regions, &categories],
        )?;
        let rows = tx.query(
            "SELECT s.id, s.account, s.region, s.category FROM history_scopes s
             JOIN unnest($1::text[], $2::text[], $3::text[]) AS k (account, region, category)
               USING (account, region, category)",
            &[&accounts, &regions, &categories],
        )?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let (account, region, category): (&str, &str, &str) =
                    (r.get(1), r.get(2), r.get(3));
                let key = wanted
                    .iter()
                    .find(|k| k.0 == account && k.1 == region && k.2 == category)?;
                Some(((*key).clone(), r.get::<_, i64>(0)))
            })
            .collect())
    }

    fn write_ids(&self, tx: &mut Transaction<'_>) -> Result<(), postgres::Error> {
        if self.ids.is_empty() {
            return Ok(());
        }
        let accounts: Vec<&str> = self.ids.iter().map(|r| r.account.as_str()).collect();
        let ids: Vec<&str> = self.ids.iter().map(|r| r.event_id.as_str()).collect();
        let seqs: Vec<i64> = self.ids.iter().map(|r| r.seq).collect();
        tx.execute(
            "INSERT INTO history_event_ids (account, event_id, seq)
             SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
             ON CONFLICT DO NOTHING",
            &[&accounts, &ids, &seqs],
        )?;
        Ok(())
    }

    fn write_events(
        &self,
        tx: &mut Transaction<'_>,
        scopes: &[i64],
    ) -> Result<(), postgres::Error> {
        if self.events.is_empty() {
            return Ok(());
        }
        let ev = &self.events;
        let seqs: Vec<i64> = ev.iter().map(|e| e.seq).collect();
        let times: Vec<i64> = ev.iter().map(|e| e.t).collect();
        let ids: Vec<&str> = ev.iter().map(|e| e.event_id.as_str()).collect();
        let column = |f: fn(&EventRow) -> &Option<String>| -> Vec<Option<&str>> {
            ev.iter().map(|e| f(e).as_deref()).collect()
        };
        let names = column(|e| &e.event_name);
        let sources = column(|e| &e.event_source);
        let users = column(|e| &e.username);
        let keys = column(|e| &e.access_key_id);
        let read_only = column(|e| &e.read_only);
        // Replaced by journal offset, as SQLite's INSERT OR REPLACE does.
        tx.execute(
            "INSERT INTO history_events (seq, scope, t, event_id, event_name, event_source, username, access_key_id, read_only)
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
             ON CONFLICT (seq) DO UPDATE SET scope = EXCLUDED.scope, t = EXCLUDED.t,
               event_id = EXCLUDED.event_id, event_name = EXCLUDED.event_name,
               event_source = EXCLUDED.event_source, username = EXCLUDED.username,
               access_key_id = EXCLUDED.access_key_id, read_only = EXCLUDED.read_only",
            &[&seqs, &scopes, &times, &ids, &names, &sources, &users, &keys, &read_only],
        )?;
        Ok(())
    }

    fn write_resources(
        &self,
        tx: &mut Transaction<'_>,
        scopes: &[i64],
    ) -> Result<(), postgres::Error> {
        if self.resources.is_empty() {
            return Ok(());
        }
        let res = &self.resources;
        let seqs: Vec<i64> = res.iter().map(|r| self.events[r.event].seq).collect();
        let in_scopes: Vec<i64> = res.iter().map(|r| scopes[r.event]).collect();
        let times: Vec<i64> = res.iter().map(|r| self.events[r.event].t).collect();
        let types: Vec<Option<&str>> = res.iter().map(|r| r.rtype.as_deref()).collect();
        let names: Vec<&str> = res.iter().map(|r| r.rname.as_str()).collect();
        let shown: Vec<bool> = res.iter().map(|r| r.shown).collect();
        // In the batch's order, so that `id` orders an event's resources as they were written.
        tx.execute(
            "INSERT INTO history_resources (seq, scope, t, rtype, rname, shown)
             SELECT seq, scope, t, rtype, rname, shown
               FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::boolean[])
                    WITH ORDINALITY AS r (seq, scope, t, rtype, rname, shown, n)
              ORDER BY n",
            &[&seqs, &in_scopes, &times, &types, &names, &shown],
        )?;
        Ok(())
    }
}
