//! The layout of `history.db` (`sql/history.sql`) and its version mark.
//!
//! The index is derived from the journal, so a change of layout needs no migration: an index
//! written under another layout is dropped at open, its cursor starts again at zero, and the
//! start-up catch-up rebuilds it from the journal (with progress).

use rusqlite::Connection;

use crate::error::StoreError;

const SCHEMA: &str = include_str!("../../../sql/history.sql");

/// The layout this build writes, kept in `PRAGMA user_version`. 0 is a new file or the first
/// layout (which had an `events_by_id` index and no `seq` in `event_ids`); 2 is this one.
pub(super) const VERSION: i64 = 2;

/// Every table any layout has had; dropping them empties the index, whatever wrote it.
const TABLES: &[&str] = &["events", "resources", "event_ids", "scopes", "cursor"];

/// Brings `conn`'s file to this build's layout. Returns whether an index of another layout
/// was dropped (and so will be rebuilt from the journal).
pub(super) fn prepare(conn: &Connection) -> Result<bool, StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let mut dropped = false;
    if version != VERSION {
        let existing: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'cursor'",
            [],
            |r| r.get(0),
        )?;
        if existing > 0 {
            tracing::info!(
                found = version,
                layout = VERSION,
                "event history was written by another layout; rebuilding it from the journal"
            );
            let mut sql = String::from("BEGIN;");
            for t in TABLES {
                sql.push_str(&format!("DROP TABLE IF EXISTS {t};"));
            }
            sql.push_str("COMMIT;");
            conn.execute_batch(&sql)?;
            dropped = true;
        }
    }
    conn.execute_batch(SCHEMA)?;
    if version != VERSION {
        // Set only once the tables exist: a crash before this line drops them again next time.
        conn.execute_batch(&format!("PRAGMA user_version = {VERSION};"))?;
    }
    Ok(dropped)
}
