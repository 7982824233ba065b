//! ListObjectVersions and deleting one version, on PostgreSQL: the rows after a cursor in
//! (key, newest first) order for the shared walk (`objects/versions.rs`), as the SQLite store
//! reads them.

use postgres::Client;

use super::{VERSION_COLUMNS, lock_key, row_to_version};
use crate::objects::versions::{BATCH, Cursor, walk};
use crate::objects::{ObjectVersion, ObjectsError, VersionGuard, VersionsPage, VersionsQuery};
use crate::pg::backend;

fn start(c: &mut Client, q: &VersionsQuery) -> Result<Cursor, ObjectsError> {
    let Some(key) = q.key_marker.clone() else {
        return Ok(Cursor {
            key: String::new(),
            below_seq: None,
        });
    };
    let below_seq = match &q.version_marker {
        None => None,
        Some(v) => Some(
            c.query_opt(
                "SELECT seq FROM objects WHERE bucket = $1 AND key = $2 AND version_id = $3",
                &[&q.bucket, &key, v],
            )
            .map_err(backend)?
            .map(|r| r.get::<_, i64>(0))
            // A marker version since removed (a clean-up deleting page by page): the key's
            // versions left are the ones after it.
            .unwrap_or(i64::MAX),
        ),
    };
    Ok(Cursor { key, below_seq })
}

pub(super) fn run(c: &mut Client, q: &VersionsQuery) -> Result<VersionsPage, ObjectsError> {
    let first = start(c, q)?;
    let st = c
        .prepare(&format!(
            "SELECT {VERSION_COLUMNS}, seq FROM objects
             WHERE bucket = $1 AND (key > $2 OR (key = $2 AND seq < $3)) AND key >= $4 AND starts_with(key, $4)
             ORDER BY key, seq DESC LIMIT {BATCH}"
        ))
        .map_err(backend)?;
    walk(q, first, |cur| {
        let below = cur.below_seq.unwrap_or(i64::MIN);
        Ok(c.query(&st, &[&q.bucket, &cur.key, &below, &q.prefix])
            .map_err(backend)?
            .iter()
            .map(|r| (row_to_version(r), r.get::<_, i64>(12)))
            .collect())
    })
}

/// Removes one version if `guard` allows it, holding the key's lock (so the guard judges the
/// version as it stays until the removal commits); what it was.
pub(super) fn delete(
    c: &mut Client,
    bucket: &str,
    key: &str,
    version_id: &str,
    guard: &mut VersionGuard<'_>,
) -> Result<Result<Option<ObjectVersion>, ObjectsError>, postgres::Error> {
    lock_key(c, bucket, key)?;
    let Some(found) = c.query_opt(
        &format!("SELECT {VERSION_COLUMNS} FROM objects WHERE bucket = $1 AND key = $2 AND version_id = $3"),
        &[&bucket, &key, &version_id],
    )?
    else {
        return Ok(Ok(None));
    };
    let found = row_to_version(&found);
    if let Err(e) = guard(&found) {
        return Ok(Err(e));
    }
    c.execute(
        "DELETE FROM objects WHERE bucket = $1 AND key = $2 AND version_id = $3",
        &[&bucket, &key, &version_id],
    )?;
    // The newest remaining version, if any, becomes the latest again.
    c.execute(
        "UPDATE objects SET is_latest = TRUE WHERE bucket = $1 AND key = $2
           AND seq = (SELECT max(seq) FROM objects WHERE bucket = $1 AND key = $2)",
        &[&bucket, &key],
    )?;
    Ok(Ok(Some(found)))
}
