//! Listing in SQLite: the latest version of each key, in byte order, with prefix, delimiter, start key
//! and page size: the part ListObjects and ListObjectsV2 share.

use rusqlite::{Connection, params};

use super::{VERSION_COLUMNS, row_to_version};
use crate::objects::{ListPage, ListQuery, ObjectVersion, ObjectsError};

pub(super) fn run(c: &Connection, q: &ListQuery) -> Result<ListPage, ObjectsError> {
    let mut page = ListPage::default();
    if q.max_keys == 0 {
        return Ok(page);
    }
    let mut after = q.after.clone().unwrap_or_default();
    let mut st = c.prepare_cached(&format!(
        "SELECT {VERSION_COLUMNS} FROM objects
         WHERE bucket = ?1 AND is_latest = 1 AND delete_marker = 0 AND key > ?2 AND key >= ?4 AND substr(key, 1, ?3) = ?4
         ORDER BY key LIMIT 1000"
    ))?;
    let plen = q.prefix.chars().count() as i64;
    loop {
        let rows: Vec<ObjectVersion> = st
            .query_map(params![q.bucket, after, plen, q.prefix], row_to_version)?
            .collect::<Result<_, _>>()?;
        if rows.is_empty() {
            return Ok(page);
        }
        for v in rows {
            after = v.key.clone();
            let rest = &v.key[q.prefix.len()..];
            let grouped = q
                .delimiter
                .as_deref()
                .filter(|d| !d.is_empty())
                .and_then(|d| {
                    rest.find(d)
                        .map(|i| format!("{}{}", q.prefix, &rest[..i + d.len()]))
                });
            if let Some(cp) = grouped {
                // A common prefix already returned (on this page, or as the marker ending the
                // previous one) is not returned again: skip past all its keys.
                let seen = page.common_prefixes.last() == Some(&cp)
                    || q.after.as_deref().is_some_and(|a| cp.as_str() <= a);
                if seen {
                    after = format!("{cp}\u{10FFFF}");
                    break;
                }
                if page.contents.len() + page.common_prefixes.len() == q.max_keys {
                    page.truncated = true;
                    return Ok(page);
                }
                page.next_after = Some(cp.clone());
                page.common_prefixes.push(cp);
                // Skip every other key under this common prefix.
                after = format!("{}\u{10FFFF}", page.next_after.clone().unwrap_or_default());
                break;
            }
            if page.contents.len() + page.common_prefixes.len() == q.max_keys {
                page.truncated = true;
                return Ok(page);
            }
            page.next_after = Some(v.key.clone());
            page.contents.push(v);
        }
    }
}
