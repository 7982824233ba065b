//! ListObjectVersions' walk, shared by the backends: every version and delete marker in key
//! order and, within a key, newest first; with prefix, delimiter (a common prefix returned
//! once and its keys skipped), key and version-id markers and a page size. A backend only
//! fetches the next rows after a cursor.

use super::{ObjectVersion, ObjectsError, VersionsPage, VersionsQuery};

/// Where a fetch starts: after every version of `key` (`below_seq` `None`), or after the
/// versions of `key` not older than the one written `below_seq`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub key: String,
    pub below_seq: Option<i64>,
}

/// Rows the walk reads at a time.
pub(crate) const BATCH: usize = 1000;

/// Walks `fetch` (the next rows after a cursor, under the query's prefix, in order, each with
/// its write sequence) into one page.
pub(crate) fn walk(
    q: &VersionsQuery,
    start: Cursor,
    mut fetch: impl FnMut(&Cursor) -> Result<Vec<(ObjectVersion, i64)>, ObjectsError>,
) -> Result<VersionsPage, ObjectsError> {
    let mut page = VersionsPage::default();
    if q.max_keys == 0 {
        return Ok(page);
    }
    let mut cursor = start;
    loop {
        let rows = fetch(&cursor)?;
        if rows.is_empty() {
            return Ok(page);
        }
        for (v, seq) in rows {
            cursor = Cursor {
                key: v.key.clone(),
                below_seq: Some(seq),
            };
            let rest = &v.key[q.prefix.len().min(v.key.len())..];
            let grouped = q
                .delimiter
                .as_deref()
                .filter(|d| !d.is_empty())
                .and_then(|d| {
                    rest.find(d)
                        .map(|i| format!("{}{}", q.prefix, &rest[..i + d.len()]))
                });
            let full = page.versions.len() + page.common_prefixes.len() == q.max_keys;
            if let Some(cp) = grouped {
                let seen = page.common_prefixes.last() == Some(&cp)
                    || q.key_marker.as_deref().is_some_and(|m| cp.as_str() <= m);
                if !seen {
                    if full {
                        page.truncated = true;
                        return Ok(page);
                    }
                    page.next_key_marker = Some(cp.clone());
                    page.next_version_marker = None;
                    page.common_prefixes.push(cp.clone());
                }
                // Every other version under this common prefix is skipped.
                cursor = Cursor {
                    key: format!("{cp}\u{10FFFF}"),
                    below_seq: None,
                };
                break;
            }
            if full {
                page.truncated = true;
                return Ok(page);
            }
            page.next_key_marker = Some(v.key.clone());
            page.next_version_marker = Some(v.version_id.clone());
            page.versions.push(v);
        }
    }
}
