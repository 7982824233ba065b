//! Stores sealed with a data key (event data stores encrypted with a KMS key): their files are
//! unreadable without the key, queries and appends need it, and files written before the
//! store was sealed stay readable beside the encrypted ones.

#![allow(clippy::unwrap_used)]

use std::borrow::Cow;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use cairn_lake::{DataKey, Lake, LakeError, Limits, prepare};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const ID: &str = "5b0c3c43-63a5-4c43-9d38-7d4c1f0e9a01";
const KEY: DataKey = DataKey([7u8; 32]);

fn record(n: u64, day: u32) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2024-05-{day:02}T01:00:{:02}Z","eventSource":"s3.amazonaws.com","eventName":"Get{n}","awsRegion":"eu-west-1","eventID":"e{n}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/secret-agent"}}}}"#,
        n % 60
    )
}

fn append(lake: &Lake, first: u64, last: u64) -> Result<u64, LakeError> {
    let records: Vec<String> = (first..=last)
        .map(|n| record(n, 1 + (n % 3) as u32))
        .collect();
    let store = lake.store(ID).unwrap();
    let dir = store.lock().unwrap();
    dir.append(
        "journal",
        first,
        last,
        &mut records.iter().map(|r| Cow::Borrowed(r.as_str())),
    )
    .map(|a| a.rows)
}

fn count(lake: &Lake) -> Result<String, String> {
    let prepared = prepare(&format!("SELECT count(*) FROM {ID}")).unwrap();
    lake.query(&prepared, &AtomicBool::new(false), Limits::default())
        .map(|out| out.rows[0][0].clone().unwrap_or_default())
        .map_err(|e| e.to_string())
}

fn parquet_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for day in std::fs::read_dir(root).unwrap() {
        let day = day.unwrap().path();
        if day.is_dir() {
            for f in std::fs::read_dir(&day).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "parquet") {
                    out.push(f);
                }
            }
        }
    }
    out.sort();
    out
}

/// A Parquet file ends in `PAR1`, or in `PARE` when its footer is encrypted.
fn magic(path: &Path) -> String {
    let mut f = File::open(path).unwrap();
    f.seek(SeekFrom::End(-4)).unwrap();
    let mut m = [0u8; 4];
    f.read_exact(&mut m).unwrap();
    String::from_utf8_lossy(&m).into_owned()
}

#[test]
fn a_sealed_store_is_encrypted_and_needs_its_key() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join(ID);
    {
        let lake = Lake::open(tmp.path()).unwrap();
        // Written before the store was sealed: stays as it is, and readable.
        assert_eq!(append(&lake, 1, 30).unwrap(), 30);
        lake.set_key(ID, KEY).unwrap();
        assert_eq!(append(&lake, 31, 100).unwrap(), 70);
        assert_eq!(count(&lake).unwrap(), "100");
        let files = parquet_files(&root);
        let sealed: Vec<&PathBuf> = files.iter().filter(|f| magic(f) == "PARE").collect();
        let plain: Vec<&PathBuf> = files.iter().filter(|f| magic(f) == "PAR1").collect();
        assert_eq!(sealed.len() + plain.len(), files.len());
        assert!(!sealed.is_empty() && !plain.is_empty(), "{files:?}");
        for f in &sealed {
            // Nothing of the events is readable in the file: not a name, not an ARN.
            let bytes = std::fs::read(f).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains("secret-agent") && !text.contains("s3.amazonaws.com"));
            // A Parquet reader without the key cannot open it.
            assert!(ParquetRecordBatchReaderBuilder::try_new(File::open(f).unwrap()).is_err());
        }
    }
    // After a restart the key is gone from memory: the store neither takes events nor answers.
    let lake = Lake::open(tmp.path()).unwrap();
    assert!(matches!(append(&lake, 101, 110), Err(LakeError::Locked)));
    let err = count(&lake).unwrap_err();
    assert!(err.contains("KMS key"), "{err}");
    // Another key is refused; the right one opens it again.
    assert!(lake.set_key(ID, DataKey([8u8; 32])).is_err());
    lake.set_key(ID, KEY).unwrap();
    assert_eq!(append(&lake, 101, 110).unwrap(), 10);
    assert_eq!(count(&lake).unwrap(), "110");
    // Taken back, it is closed again.
    lake.forget_key(ID).unwrap();
    assert!(count(&lake).is_err());
}

#[test]
fn compaction_of_a_sealed_store_keeps_it_encrypted() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = Lake::open(tmp.path()).unwrap();
    lake.set_key(ID, KEY).unwrap();
    // Many small appends over three days: a day's files past 16 are merged.
    for n in 1..=60u64 {
        append(&lake, n, n).unwrap();
    }
    {
        let store = lake.store(ID).unwrap();
        let dir = store.lock().unwrap();
        cairn_lake::compact::compact(&dir, cairn_lake::compact::MAX_FILES_PER_DAY).unwrap();
    }
    let files = parquet_files(&tmp.path().join(ID));
    assert_eq!(files.len(), 3, "{files:?}");
    assert!(files.iter().all(|f| magic(f) == "PARE"));
    assert_eq!(count(&lake).unwrap(), "60");
}
