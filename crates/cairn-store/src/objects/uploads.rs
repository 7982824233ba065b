//! ListMultipartUploads' page, shared by the backends: the uploads in progress under a prefix
//! in key order and, within a key, in the order they were started; a delimiter groups keys
//! into common prefixes (each returned once); key and upload-id markers; a page size. A
//! backend only fetches a bucket's uploads under the prefix (there are few in progress).

/// A ListMultipartUploads request.
#[derive(Clone, Debug, Default)]
pub struct UploadsQuery {
    pub bucket: String,
    pub prefix: String,
    pub delimiter: Option<String>,
    /// Start after every upload of this key or, with `upload_id_marker`, after that upload of it.
    pub key_marker: Option<String>,
    pub upload_id_marker: Option<String>,
    pub max_uploads: usize,
}

/// One upload in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    pub key: String,
    pub upload_id: String,
    pub initiated_ms: i64,
}

/// A page of uploads in progress.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UploadsPage {
    pub uploads: Vec<Upload>,
    pub common_prefixes: Vec<String>,
    pub truncated: bool,
    /// Where the next page starts, when truncated (no upload-id marker after a common prefix).
    pub next_key_marker: Option<String>,
    pub next_upload_id_marker: Option<String>,
}

/// One page of `rows` (a bucket's uploads under the query's prefix, in any order).
pub(crate) fn page(q: &UploadsQuery, mut rows: Vec<Upload>) -> UploadsPage {
    rows.sort_by(|a, b| {
        (a.key.as_str(), a.initiated_ms, a.upload_id.as_str()).cmp(&(
            b.key.as_str(),
            b.initiated_ms,
            b.upload_id.as_str(),
        ))
    });
    let key_marker = q.key_marker.as_deref().filter(|k| !k.is_empty());
    // S3 ignores an upload-id marker without a key marker.
    let id_marker = q
        .upload_id_marker
        .as_deref()
        .filter(|i| !i.is_empty() && key_marker.is_some());
    let marker_at = id_marker.and_then(|id| {
        rows.iter()
            .position(|u| Some(u.key.as_str()) == key_marker && u.upload_id == id)
    });
    let mut out = UploadsPage::default();
    let mut listed = 0;
    for (i, u) in rows.iter().enumerate() {
        if !u.key.starts_with(&q.prefix) {
            continue;
        }
        if let Some(m) = key_marker {
            let after = match (id_marker, marker_at) {
                (None, _) => u.key.as_str() > m,
                (Some(_), Some(at)) => u.key.as_str() > m || (u.key == m && i > at),
                (Some(id), None) => u.key.as_str() > m || (u.key == m && u.upload_id.as_str() > id),
            };
            if !after {
                continue;
            }
        }
        let rest = &u.key[q.prefix.len()..];
        let grouped = q
            .delimiter
            .as_deref()
            .filter(|d| !d.is_empty())
            .and_then(|d| {
                rest.find(d)
                    .map(|at| format!("{}{}", q.prefix, &rest[..at + d.len()]))
            });
        if let Some(cp) = &grouped {
            let seen = out.common_prefixes.last() == Some(cp)
                || key_marker.is_some_and(|m| cp.as_str() <= m);
            if seen {
                continue;
            }
        }
        if listed == q.max_uploads {
            out.truncated = true;
            return out;
        }
        listed += 1;
        match grouped {
            Some(cp) => {
                out.next_key_marker = Some(cp.clone());
                out.next_upload_id_marker = None;
                out.common_prefixes.push(cp);
            }
            None => {
                out.next_key_marker = Some(u.key.clone());
                out.next_upload_id_marker = Some(u.upload_id.clone());
                out.uploads.push(u.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(key: &str, id: &str, at: i64) -> Upload {
        Upload {
            key: key.into(),
            upload_id: id.into(),
            initiated_ms: at,
        }
    }

    #[test]
    fn pages_follow_their_markers_and_groups_come_once() {
        let rows = vec![
            up("b", "z", 1),
            up("a", "y", 2),
            up("a", "x", 3),
            up("d/1", "w", 1),
            up("d/2", "v", 1),
        ];
        let q = |km: Option<&str>, im: Option<&str>, d: Option<&str>, max| UploadsQuery {
            bucket: "b".into(),
            prefix: String::new(),
            delimiter: d.map(str::to_owned),
            key_marker: km.map(str::to_owned),
            upload_id_marker: im.map(str::to_owned),
            max_uploads: max,
        };
        let ids = |p: &UploadsPage| {
            p.uploads
                .iter()
                .map(|u| u.upload_id.clone())
                .collect::<Vec<_>>()
        };
        let all = page(&q(None, None, None, 100), rows.clone());
        assert_eq!(ids(&all), ["y", "x", "z", "w", "v"]);
        assert!(!all.truncated);
        let first = page(&q(None, None, None, 1), rows.clone());
        assert_eq!(ids(&first), ["y"]);
        assert!(first.truncated);
        assert_eq!(first.next_upload_id_marker.as_deref(), Some("y"));
        let next = page(&q(Some("a"), Some("y"), None, 2), rows.clone());
        assert_eq!(ids(&next), ["x", "z"]);
        // A key marker alone skips every upload of that key.
        assert_eq!(
            ids(&page(&q(Some("a"), None, None, 9), rows.clone())),
            ["z", "w", "v"]
        );
        let grouped = page(&q(None, None, Some("/"), 9), rows.clone());
        assert_eq!(grouped.common_prefixes, ["d/"]);
        assert_eq!(ids(&grouped), ["y", "x", "z"]);
        let after_group = page(&q(Some("d/"), None, Some("/"), 9), rows);
        assert!(after_group.uploads.is_empty() && after_group.common_prefixes.is_empty());
    }
}
