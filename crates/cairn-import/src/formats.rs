//! Reading records out of files: `{"Records":[…]}` delivery files (plain or gzip), JSON arrays,
//! JSON lines, EventBridge envelopes, and LookupEvents output (`Events[].CloudTrailEvent`).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde_json::value::RawValue;
use thiserror::Error;

/// Why (part of) a file could not be read, and where.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{file}: {position}{message}")]
pub struct FileError {
    pub file: String,
    /// `line L column C: ` or empty.
    pub position: String,
    pub message: String,
}

fn err(path: &Path, position: String, message: impl Into<String>) -> FileError {
    FileError {
        file: path.display().to_string(),
        position,
        message: message.into(),
    }
}

fn pos(e: &serde_json::Error, line_offset: usize) -> String {
    format!("line {} column {}: ", e.line() + line_offset, e.column())
}

/// Reads every record in a file. Returns the records found (raw JSON text each) and the errors
/// met; a malformed part never hides the well-formed parts of JSON-lines files.
pub fn read_records(path: &Path) -> (Vec<String>, Vec<FileError>) {
    match std::fs::read(path) {
        Ok(b) => read_records_in(path, b),
        Err(e) => (Vec::new(), vec![err(path, String::new(), e.to_string())]),
    }
}

/// Reads every record in a file's content (read from elsewhere: an S3 object), named `path`
/// in errors.
pub fn read_records_in(path: &Path, bytes: Vec<u8>) -> (Vec<String>, Vec<FileError>) {
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        if let Err(e) = flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut out) {
            return (
                Vec::new(),
                vec![err(
                    path,
                    String::new(),
                    format!("not a valid gzip file: {e}"),
                )],
            );
        }
        out
    } else {
        bytes
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return (Vec::new(), vec![err(path, String::new(), "not UTF-8 text")]);
    };
    let mut records = Vec::new();
    let mut errors = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<&RawValue>();
    let mut values = Vec::new();
    let mut stream_error = None;
    for v in &mut stream {
        match v {
            Ok(v) => values.push(v),
            Err(e) => {
                stream_error = Some(e);
                break;
            }
        }
    }
    match stream_error {
        None => {
            for v in values {
                extract(v, path, &mut records, &mut errors);
            }
        }
        Some(e) if looks_like_json_lines(text) => {
            // JSON lines: keep every good line, report each bad one.
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<&RawValue>(line) {
                    Ok(v) => extract(v, path, &mut records, &mut errors),
                    Err(e) => errors.push(err(
                        path,
                        format!("line {} column {}: ", i + 1, e.column()),
                        format!("malformed JSON: {e}"),
                    )),
                }
            }
            let _ = e;
        }
        Some(e) => errors.push(err(path, pos(&e, 0), format!("malformed JSON: {e}"))),
    }
    if records.is_empty() && errors.is_empty() {
        errors.push(err(path, String::new(), "no CloudTrail records found"));
    }
    (records, errors)
}

fn looks_like_json_lines(text: &str) -> bool {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    match (lines.next(), lines.next()) {
        (Some(first), Some(_)) => serde_json::from_str::<&RawValue>(first)
            .is_ok_and(|v| v.get().trim_start().starts_with('{')),
        _ => false,
    }
}

/// Keys whose presence marks an object as a CloudTrail record.
const RECORD_KEYS: [&str; 4] = ["eventVersion", "eventID", "eventName", "eventSource"];

fn extract(v: &RawValue, path: &Path, out: &mut Vec<String>, errors: &mut Vec<FileError>) {
    let text = v.get().trim_start();
    if text.starts_with('[') {
        match serde_json::from_str::<Vec<&RawValue>>(v.get()) {
            Ok(items) => {
                for item in items {
                    extract(item, path, out, errors);
                }
            }
            Err(e) => errors.push(err(path, String::new(), format!("malformed array: {e}"))),
        }
        return;
    }
    if !text.starts_with('{') {
        errors.push(err(
            path,
            String::new(),
            format!("expected a JSON object, found {}", short(text)),
        ));
        return;
    }
    let Ok(obj) = serde_json::from_str::<BTreeMap<String, &RawValue>>(v.get()) else {
        errors.push(err(path, String::new(), "expected a JSON object"));
        return;
    };
    if let Some(records) = obj.get("Records") {
        extract(records, path, out, errors);
    } else if let Some(events) = obj.get("Events") {
        extract(events, path, out, errors);
    } else if let Some(ct) = obj.get("CloudTrailEvent") {
        match serde_json::from_str::<String>(ct.get()) {
            Ok(s) => match serde_json::from_str::<&RawValue>(&s) {
                Ok(_) => out.push(s),
                Err(e) => errors.push(err(
                    path,
                    String::new(),
                    format!("CloudTrailEvent is not JSON: {e}"),
                )),
            },
            Err(_) => extract(ct, path, out, errors),
        }
    } else if let (Some(_), Some(detail)) = (obj.get("detail-type"), obj.get("detail")) {
        extract(detail, path, out, errors);
    } else if RECORD_KEYS.iter().any(|k| obj.contains_key(*k)) {
        out.push(v.get().to_owned());
    } else {
        errors.push(err(
            path,
            String::new(),
            format!(
                "object is not a CloudTrail record or container: {}",
                short(text)
            ),
        ));
    }
}

fn short(s: &str) -> String {
    let t: String = s.chars().take(60).collect();
    if t.len() < s.len() {
        format!("{t}…")
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(dir: &Path, name: &str, content: &[u8]) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    #[test]
    fn every_container() {
        let d = tempfile::tempdir().unwrap();
        let rec = r#"{"eventID":"a","x":null,"n":1.50}"#;
        let cases: Vec<(&str, String)> = vec![
            ("delivery.json", format!(r#"{{"Records":[{rec}]}}"#)),
            ("array.json", format!("[{rec}]")),
            ("lines.jsonl", format!("{rec}\n{rec}\n")),
            (
                "eb.json",
                format!(
                    r#"{{"version":"0","detail-type":"AWS API Call via CloudTrail","detail":{rec}}}"#
                ),
            ),
            (
                "lookup.json",
                format!(
                    r#"{{"Events":[{{"EventId":"a","CloudTrailEvent":{}}}]}}"#,
                    serde_json::to_string(rec).unwrap()
                ),
            ),
            ("single.json", rec.to_owned()),
        ];
        for (name, content) in cases {
            let (recs, errs) = read_records(&file(d.path(), name, content.as_bytes()));
            assert!(errs.is_empty(), "{name}: {errs:?}");
            assert!(!recs.is_empty(), "{name}");
            for r in recs {
                assert_eq!(r, rec, "{name} keeps the record byte for byte");
            }
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(format!(r#"{{"Records":[{rec},{rec}]}}"#).as_bytes())
            .unwrap();
        let (recs, errs) = read_records(&file(d.path(), "x.json.gz", &gz.finish().unwrap()));
        assert_eq!((recs.len(), errs.len()), (2, 0));
    }

    #[test]
    fn malformed_files_name_file_and_position() {
        let d = tempfile::tempdir().unwrap();
        let p = file(
            d.path(),
            "bad.json",
            b"[\n {\"eventID\":\"a\"}\n {\"eventID\":\"b\"}\n]",
        );
        let (recs, errs) = read_records(&p);
        assert!(recs.is_empty());
        assert_eq!(errs.len(), 1);
        let msg = errs[0].to_string();
        assert!(
            msg.contains("bad.json") && msg.contains("line 3 column 2"),
            "{msg}"
        );
        let p = file(
            d.path(),
            "lines.jsonl",
            b"{\"eventID\":\"a\"}\n{\"eventID\":\n{\"eventID\":\"c\"}\n",
        );
        let (recs, errs) = read_records(&p);
        assert_eq!(recs.len(), 2);
        assert_eq!(errs.len(), 1);
        assert!(errs[0].to_string().contains("line 2"), "{}", errs[0]);
        let (recs, errs) = read_records(&file(d.path(), "other.json", br#"{"hello":1}"#));
        assert!(recs.is_empty() && errs.len() == 1);
    }
}
