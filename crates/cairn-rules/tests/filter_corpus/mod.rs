//! Loads the shared real CloudTrail corpus (`records.jsonl.gz`, one record per line) for the CIS
//! test and the benchmark. The corpus lives beside the repository, not in it: `CAIRN_REAL_DATA`,
//! or `../shared/data/cloudtrail-real` relative to the repository root (the same from every
//! worktree under `/work` and in CI).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;

/// Classes of records AWS produced (the `fixture` class is hand-edited and left out).
const REAL_CLASSES: [&str; 4] = [
    "real",
    "real-anonymized",
    "sanitized-real",
    "aws-doc-example",
];

pub struct Record {
    /// Source folder (`stratus-red-team`, …); the benchmark does not need it.
    #[allow(dead_code)]
    pub source: String,
    pub line: String,
}

pub fn corpus_dir() -> PathBuf {
    match std::env::var_os("CAIRN_REAL_DATA") {
        Some(d) => PathBuf::from(d),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cloudtrail-real")
        }
    }
}

fn gz_lines(path: &std::path::Path) -> Vec<String> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    BufReader::new(flate2::read::GzDecoder::new(f))
        .lines()
        .map(|l| l.expect("corpus file reads as UTF-8 lines"))
        .collect()
}

/// The real records, or `None` (with a note on stderr) when the corpus is not there.
pub fn load() -> Option<Vec<Record>> {
    let dir = corpus_dir();
    let records = dir.join("records.jsonl.gz");
    if !records.exists() {
        eprintln!(
            "note: real CloudTrail corpus not found at {} (set CAIRN_REAL_DATA); skipping",
            dir.display()
        );
        return None;
    }
    let lines = gz_lines(&records);
    let index = gz_lines(&dir.join("records_index.tsv.gz"));
    // The index has a header row, then one row per record line, same order.
    assert_eq!(index.len(), lines.len() + 1, "index and records disagree");
    let out = lines
        .into_iter()
        .zip(index.iter().skip(1))
        .filter_map(|(line, row)| {
            let cols: Vec<&str> = row.split('\t').collect();
            REAL_CLASSES.contains(&cols[2]).then(|| Record {
                source: cols[1].to_owned(),
                line,
            })
        })
        .collect();
    Some(out)
}
