//! `cairn query --from` run as a user runs it: a folder of two gzip'd delivery files of real
//! records, CSV and JSON lines out, the columnar copy made once and reused, bad SQL refused.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn real_records(n: usize) -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cloudtrail-real/records.jsonl.gz");
    let file = std::fs::File::open(&path).expect("the real-record corpus");
    std::io::BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .map(|l| l.unwrap())
        .filter(|l| !l.trim().is_empty())
        .take(n)
        .collect()
}

fn delivery_file(path: &Path, records: &[String]) {
    let f = std::fs::File::create(path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::default());
    write!(gz, "{{\"Records\":[{}]}}", records.join(",")).unwrap();
    gz.finish().unwrap();
}

fn cairn(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["query"])
        .args(args)
        .env("XDG_CACHE_HOME", cache)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn query_from_a_folder_of_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp
        .path()
        .join("logs/AWSLogs/111122223333/CloudTrail/us-east-1");
    std::fs::create_dir_all(&logs).unwrap();
    let records = real_records(300);
    delivery_file(&logs.join("a.json.gz"), &records[..120]);
    delivery_file(&logs.join("b.json.gz"), &records[120..]);
    let cache = tmp.path().join("cache");
    let folder = tmp.path().join("logs");
    let folder = folder.to_str().unwrap();

    // The expected counts, from the records themselves.
    let mut by_name = std::collections::BTreeMap::<String, u64>::new();
    for r in &records {
        let v: serde_json::Value = serde_json::from_str(r).unwrap();
        let name = v["eventName"].as_str().unwrap_or("").to_string();
        *by_name.entry(name).or_default() += 1;
    }

    let first = cairn(
        &cache,
        &[
            "--from",
            folder,
            "--format",
            "csv",
            "SELECT eventname, count(*) AS n FROM events GROUP BY eventname ORDER BY eventname",
        ],
    );
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stderr).contains("converted 300 events from 2 files"),
        "{}",
        text(&first.stderr)
    );
    let csv = text(&first.stdout);
    let mut lines = csv.split("\r\n");
    assert_eq!(lines.next(), Some("eventname,n"));
    let got: std::collections::BTreeMap<String, u64> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (name, n) = l.rsplit_once(',').unwrap();
            (name.to_string(), n.parse().unwrap())
        })
        .collect();
    assert_eq!(got, by_name);

    // The second run over the unchanged folder reuses the copy.
    let copies = || {
        std::fs::read_dir(cache.join("cairn/query"))
            .unwrap()
            .count()
    };
    assert_eq!(copies(), 1);
    let second = cairn(
        &cache,
        &[
            "--from",
            folder,
            "--format",
            "json",
            "SELECT eventid, useridentity.arn, errorcode FROM events ORDER BY eventid LIMIT 2",
        ],
    );
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(
        !text(&second.stderr).contains("converted"),
        "{}",
        text(&second.stderr)
    );
    let rows: Vec<serde_json::Value> = text(&second.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    let keys: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3);
    assert!(rows[0]["eventid"].is_string());
    assert!(rows[0]["errorcode"].is_null() || rows[0]["errorcode"].is_string());
    assert_eq!(copies(), 1);

    // A changed folder makes a new copy and removes the old one.
    delivery_file(&logs.join("c.json.gz"), &records[..10]);
    let third = cairn(
        &cache,
        &[
            "--from",
            folder,
            "--format",
            "csv",
            "SELECT count(*) FROM events",
        ],
    );
    assert!(third.status.success(), "{}", text(&third.stderr));
    assert_eq!(text(&third.stdout), "_col0\r\n310\r\n");
    assert_eq!(copies(), 1);

    // Parquet out.
    let out = tmp.path().join("result.parquet");
    let pq = cairn(
        &cache,
        &[
            "--from",
            folder,
            "--format",
            "parquet",
            "--output",
            out.to_str().unwrap(),
            "SELECT eventname, eventtime FROM events",
        ],
    );
    assert!(pq.status.success(), "{}", text(&pq.stderr));
    assert!(std::fs::read(&out).unwrap().starts_with(b"PAR1"));

    // Bad SQL: a message, a non-zero status, no panic.
    for bad in [
        "SELEC 1",
        "SELECT nosuch FROM events",
        "DELETE FROM events",
        "SELECT 1",
    ] {
        let r = cairn(&cache, &["--from", folder, bad]);
        assert_eq!(r.status.code(), Some(1), "{bad}");
        let err = text(&r.stderr);
        assert!(err.starts_with("error: "), "{bad}: {err}");
        assert!(!err.contains("panicked"), "{bad}: {err}");
    }
}
