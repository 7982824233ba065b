//! Listing on PostgreSQL: the latest version of each key, in byte order (keys are in the "C"
//! collation), with prefix, delimiter, start key and page size, walked as the SQLite store
//! walks it (`objects/sqlite/list.rs`): a common prefix is returned once and its other keys
//! skipped by seeking past them.

use postgres::Client;

use super::{VERSION_COLUMNS, row_to_version};
use crate::objects::{ListPage, ListQuery, ObjectVersion};

pub(super) fn run(c: &mut Client, q: &ListQuery) -> Result<ListPage, postgres::Error> {
    let mut page = ListPage::default();
    if q.max_keys == 0 {
        return Ok(page);
    }
    let mut after = q.after.clone().unwrap_or_default();
    let st = c.prepare(&format!(
        "SELECT {VERSION_COLUMNS} FROM objects
         WHERE bucket = $1 AND is_latest AND NOT delete_marker AND key > $2 AND key >= $3 AND starts_with(key, $3)
         ORDER BY key LIMIT 1000"
    ))?;
    loop {
        let rows: Vec<ObjectVersion> = c
            .query(&st, &[&q.bucket, &after, &q.prefix])?
            .iter()
            .map(row_to_version)
            .collect();
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
                after = format!("{cp}\u{10FFFF}");
                page.next_after = Some(cp.clone());
                page.common_prefixes.push(cp);
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
