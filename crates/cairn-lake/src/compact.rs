//! Compaction: a store fed a few records at a time (the journal's rounds, a channel's calls)
//! gathers many small files a day; queries open every one. When a stream has more than a few
//! files in a day, they become one file covering their ranges (`files.rs` explains why a crash
//! in between never counts a record twice), and the covered files go at once, so that other
//! readers of the folder (DuckDB, Spark) see each event once. A query of cairn's that listed a
//! file before it went runs again with the new listing (`query.rs`).

use std::collections::BTreeMap;
use std::time::Duration;

use datafusion::parquet::arrow::arrow_reader::{
    ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};

use crate::LakeError;
use crate::files::{Part, StoreDir, write_file};

/// More files than this for one stream in one day are merged.
pub const MAX_FILES_PER_DAY: usize = 16;

/// Merges each day's files of a stream when they are more than `max`; returns how many files
/// were merged away.
pub fn compact(dir: &StoreDir, max: usize) -> Result<usize, LakeError> {
    let mut groups: BTreeMap<(String, String), Vec<Part>> = BTreeMap::new();
    for p in dir.parts()? {
        groups
            .entry((p.day.clone(), p.stream.clone()))
            .or_default()
            .push(p);
    }
    let mut merged = 0;
    for ((_, stream), parts) in groups {
        if parts.len() <= max {
            continue;
        }
        let first = parts.iter().map(|p| p.first).min().unwrap_or(0);
        let last = parts.iter().map(|p| p.last).max().unwrap_or(0);
        let mut batches = Vec::new();
        for p in &parts {
            let mut options = ArrowReaderOptions::new();
            if let Some(k) = dir.key() {
                options = options.with_file_decryption_properties(k.decryption()?);
            }
            let reader = ParquetRecordBatchReaderBuilder::try_new_with_options(
                dir.place().read_file(&p.name)?,
                options,
            )?
            .build()?;
            for b in reader {
                batches.push(b?);
            }
        }
        write_file(
            dir.place(),
            &format!("eventdate={}/{stream}.{first}-{last}.parquet", parts[0].day),
            &batches,
            dir.writing_key()?,
        )?;
        merged += parts.len();
    }
    dir.sweep_covered(Duration::ZERO)?;
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn many_small_files_become_one_with_every_row() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StoreDir::open(tmp.path().join("eds")).unwrap();
        for n in 1..=20u64 {
            let day = if n % 2 == 0 { "01" } else { "02" };
            let r = format!(r#"{{"eventTime":"2024-05-{day}T01:00:00Z","eventID":"e{n}"}}"#);
            dir.append("journal", n, n, &mut std::iter::once(Cow::Owned(r)))
                .unwrap();
        }
        assert_eq!(dir.parts().unwrap().len(), 20);
        assert_eq!(compact(&dir, 4).unwrap(), 20);
        let parts = dir.parts().unwrap();
        assert_eq!(parts.len(), 2, "{parts:?}");
        let rows: i64 = parts
            .iter()
            .map(|p| {
                use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
                SerializedFileReader::new(std::fs::File::open(dir.location(p)).unwrap())
                    .unwrap()
                    .metadata()
                    .file_metadata()
                    .num_rows()
            })
            .sum();
        assert_eq!(rows, 20);
        // Small enough now: nothing more to do; and a reopen after a crash keeps the merge.
        assert_eq!(compact(&dir, 4).unwrap(), 0);
        let again = StoreDir::open(tmp.path().join("eds")).unwrap();
        assert_eq!(again.parts().unwrap().len(), 2);
        assert!(again.committed().unwrap()["journal"] == 20);
    }
}
