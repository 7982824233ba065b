//! Loading records into the journal: in batches, each one durable before the next, skipping
//! every record whose event id the account already has.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairn_model::summary::effective_event_id;
use cairn_store::StoreError;
use cairn_store::history::HistoryIndex;
use cairn_store::journal::{Entry, EntryKind, Journal};

use crate::formats::{FileError, read_records};

const BATCH: usize = 2000;

/// File names a folder walk picks up. Files named explicitly are read whatever their name.
fn is_candidate(p: &Path) -> bool {
    let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    [
        ".json",
        ".json.gz",
        ".jsonl",
        ".jsonl.gz",
        ".ndjson",
        ".ndjson.gz",
    ]
    .iter()
    .any(|s| n.ends_with(s))
}

/// Expands the given paths into files: files as given, folders walked recursively in name
/// order.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, FileError> {
    let mut out = Vec::new();
    for p in paths {
        let md = std::fs::metadata(p).map_err(|e| FileError {
            file: p.display().to_string(),
            position: String::new(),
            message: e.to_string(),
        })?;
        if md.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), FileError> {
    let io = |e: std::io::Error| FileError {
        file: dir.display().to_string(),
        position: String::new(),
        message: e.to_string(),
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if is_candidate(&p) {
            out.push(p);
        }
    }
    Ok(())
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub files: usize,
    pub records: u64,
    pub imported: u64,
    pub duplicates: u64,
    pub errors: Vec<FileError>,
}

pub struct Importer {
    pub journal: Arc<dyn Journal>,
    pub history: Arc<dyn HistoryIndex>,
    /// The account the records are loaded into.
    pub account: String,
}

/// Records waiting to be appended, and their ids (not yet in the index).
#[derive(Default)]
struct Pending {
    entries: Vec<Vec<u8>>,
    ids: HashSet<String>,
}

impl Importer {
    /// Imports every file; `progress` is told each file's size once it is done.
    pub fn import_files(
        &self,
        files: &[PathBuf],
        mut progress: impl FnMut(&Path, u64),
    ) -> Result<ImportReport, StoreError> {
        let mut report = ImportReport::default();
        let mut pending = Pending::default();
        for f in files {
            let (records, errors) = read_records(f);
            report.files += 1;
            report.errors.extend(errors);
            self.add(records, &mut pending, &mut report)?;
            progress(f, std::fs::metadata(f).map(|m| m.len()).unwrap_or(0));
        }
        report.imported += self.flush(&mut pending)?;
        Ok(report)
    }

    /// Imports records given as their JSON texts, each kept byte for byte (what a running
    /// instance receives from `cairn import`).
    pub fn import_records(&self, records: Vec<String>) -> Result<ImportReport, StoreError> {
        let mut report = ImportReport::default();
        let mut pending = Pending::default();
        self.add(records, &mut pending, &mut report)?;
        report.imported += self.flush(&mut pending)?;
        Ok(report)
    }

    fn add(
        &self,
        records: Vec<String>,
        pending: &mut Pending,
        report: &mut ImportReport,
    ) -> Result<(), StoreError> {
        for raw in records {
            report.records += 1;
            let event_id = serde_json::from_str::<serde_json::Value>(&raw)
                .ok()
                .and_then(|v| v.get("eventID").and_then(|x| x.as_str()).map(str::to_owned));
            let id = effective_event_id(event_id.as_deref(), raw.as_bytes());
            if pending.ids.contains(&id) || self.history.has_event_id(&self.account, &id)? {
                report.duplicates += 1;
                continue;
            }
            pending.ids.insert(id);
            pending.entries.push(
                Entry {
                    kind: EntryKind::Imported,
                    account: self.account.clone(),
                    record: raw.into_bytes(),
                    served: None,
                }
                .encode(),
            );
            if pending.entries.len() >= BATCH {
                report.imported += self.flush(pending)?;
            }
        }
        Ok(())
    }

    fn flush(&self, pending: &mut Pending) -> Result<u64, StoreError> {
        if pending.entries.is_empty() {
            return Ok(0);
        }
        let n = pending.entries.len() as u64;
        self.journal
            .append(std::mem::take(&mut pending.entries))
            .wait_blocking()?;
        // The commit hook has indexed the ids, so the index answers for them from here on.
        pending.ids.clear();
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_store::history::{FollowingIndex, SqliteHistory};
    use cairn_store::journal::{JournalConfig, SegmentJournal};
    use std::sync::atomic::AtomicBool;

    #[test]
    fn imports_once_and_reports_bad_files() {
        let d = tempfile::tempdir().unwrap();
        let data = d.path().join("data");
        std::fs::create_dir_all(data.join("sub")).unwrap();
        std::fs::write(
            data.join("a.json"),
            r#"{"Records":[{"eventID":"1","eventName":"X","eventTime":"2024-01-01T00:00:00Z","awsRegion":"us-east-1"},
                           {"eventName":"NoId","eventTime":"2024-01-01T00:00:01Z","awsRegion":"us-east-1"}]}"#,
        )
        .unwrap();
        std::fs::write(
            data.join("sub/b.jsonl"),
            "{\"eventID\":\"1\"}\n{\"eventID\":\"2\"}\n",
        )
        .unwrap();
        std::fs::write(data.join("sub/bad.json"), "[{\"eventID\":").unwrap();
        std::fs::write(data.join("README.md"), "not picked up").unwrap();
        let inner: Arc<dyn HistoryIndex> =
            Arc::new(SqliteHistory::open(&d.path().join("h.db")).unwrap());
        let following = FollowingIndex::new(inner, Arc::new(AtomicBool::new(false))).unwrap();
        let journal: Arc<dyn cairn_store::journal::Journal> = Arc::new(
            SegmentJournal::open(
                &d.path().join("j"),
                JournalConfig::default(),
                following.hook().unwrap(),
            )
            .unwrap(),
        );
        following.follow(&journal);
        let history: Arc<dyn HistoryIndex> = following;
        let imp = Importer {
            journal,
            history: Arc::clone(&history),
            account: "111122223333".into(),
        };
        let files = discover(std::slice::from_ref(&data)).unwrap();
        assert_eq!(files.len(), 3);
        let r = imp.import_files(&files, |_, _| {}).unwrap();
        assert_eq!((r.records, r.imported, r.duplicates), (4, 3, 1));
        assert_eq!(r.errors.len(), 1);
        assert!(r.errors[0].file.ends_with("bad.json"));
        let again = imp.import_files(&files, |_, _| {}).unwrap();
        assert_eq!((again.imported, again.duplicates), (0, 4));
        assert_eq!(history.count().unwrap(), 3);
    }
}
