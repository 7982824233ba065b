//! ListObjectVersions and deleting one version, in SQLite: the rows after a cursor in (key,
//! newest first) order for the shared walk (`objects/versions.rs`).

use rusqlite::{Connection, OptionalExtension, params};

use super::{VERSION_COLUMNS, row_to_version};
use crate::objects::versions::{BATCH, Cursor, walk};
use crate::objects::{ObjectVersion, ObjectsError, VersionGuard, VersionsPage, VersionsQuery};

/// Where the walk starts: after the key marker (all its versions, or those not older than
/// the version marker).
fn start(c: &Connection, q: &VersionsQuery) -> Result<Cursor, ObjectsError> {
    let Some(key) = q.key_marker.clone() else {
        return Ok(Cursor {
            key: String::new(),
            below_seq: None,
        });
    };
    let below_seq = match &q.version_marker {
        None => None,
        Some(v) => Some(
            c.prepare_cached(
                "SELECT seq FROM objects WHERE bucket = ?1 AND key = ?2 AND version_id = ?3",
            )?
            .query_row(params![q.bucket, key, v], |r| r.get::<_, i64>(0))
            .optional()?
            // A marker version since removed (a clean-up deleting page by page): the key's
            // versions left are the ones after it.
            .unwrap_or(i64::MAX),
        ),
    };
    Ok(Cursor { key, below_seq })
}

pub(super) fn run(c: &Connection, q: &VersionsQuery) -> Result<VersionsPage, ObjectsError> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {VERSION_COLUMNS}, seq FROM objects
         WHERE bucket = ?1 AND (key > ?2 OR (key = ?2 AND seq < ?3)) AND key >= ?5 AND substr(key, 1, ?4) = ?5
         ORDER BY key, seq DESC LIMIT {BATCH}"
    ))?;
    let plen = q.prefix.chars().count() as i64;
    walk(q, start(c, q)?, |cur| {
        let below = cur.below_seq.unwrap_or(i64::MIN);
        Ok(st
            .query_map(params![q.bucket, cur.key, below, plen, q.prefix], |r| {
                Ok((row_to_version(r)?, r.get::<_, i64>(12)?))
            })?
            .collect::<Result<Vec<(ObjectVersion, i64)>, _>>()?)
    })
}

/// Removes one version if `guard` allows it; what it was and its body's name, to remove once
/// committed.
pub(super) fn delete(
    c: &Connection,
    bucket: &str,
    key: &str,
    version_id: &str,
    guard: &mut VersionGuard<'_>,
) -> Result<Option<ObjectVersion>, ObjectsError> {
    let found = c
        .prepare_cached(&format!(
            "SELECT {VERSION_COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2 AND version_id = ?3"
        ))?
        .query_row(params![bucket, key, version_id], row_to_version)
        .optional()?;
    let Some(found) = found else {
        return Ok(None);
    };
    guard(&found)?;
    c.prepare_cached("DELETE FROM objects WHERE bucket = ?1 AND key = ?2 AND version_id = ?3")?
        .execute(params![bucket, key, version_id])?;
    // The newest remaining version, if any, becomes the latest again.
    c.prepare_cached("UPDATE objects SET is_latest = 1 WHERE bucket = ?1 AND key = ?2 AND seq = (SELECT max(seq) FROM objects WHERE bucket = ?1 AND key = ?2)")?
        .execute(params![bucket, key])?;
    Ok(Some(found))
}
