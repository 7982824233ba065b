//! Saving a Lake query's results to S3 (`StartQuery`'s `DeliveryS3Uri`), as CloudTrail does:
//! gzip'd CSV files (`result_1.csv.gz`, `result_2.csv.gz`, …: a header row of the result's
//! column labels, then the rows, every value as `GetQueryResults` renders it, null as an empty
//! field) and a sign file, `result_sign.json`, under
//! `<prefix>/AWSLogs/<account>/CloudTrail-Lake/Query/<yyyy>/<mm>/<dd>/<query id>/`.
//!
//! The sign file lists each result file's name and the SHA-256 of its bytes as stored, and
//! signs those hashes joined by single spaces with the region's digest-signing key
//! (SHA256withRSA, hex), naming the key by its fingerprint, so that `aws cloudtrail
//! verify-query-results` (or any verifier of the documented format, with `ListPublicKeys`)
//! checks them.
//!
//! CloudTrail writes as `cloudtrail.amazonaws.com` for the event data store
//! (`aws:SourceArn` is the store's ARN), through S3's API and the pipeline, so the bucket's own
//! policy decides; the writes are recorded as S3 records CloudTrail's.

use bytes::Bytes;
use cairn_model::timefmt;
use cairn_store::lake::Query;
use cairn_wire::AwsError;
use serde_json::json;

use super::s3_calls::{cloudtrail_as, put_object};
use crate::app::App;
use crate::pipeline::Durability;

/// Rows per result file: a larger result is split into numbered files.
pub const ROWS_PER_FILE: usize = 1_000_000;

/// The name of the sign file beside the results.
pub const SIGN_FILE: &str = "result_sign.json";

/// Where results go: the bucket and the key prefix (without its trailing slash, maybe empty).
#[derive(Debug, PartialEq, Eq)]
pub struct Destination {
    pub bucket: String,
    pub prefix: String,
}

/// Reads a `DeliveryS3Uri` (`s3://bucket[/prefix]`), as its model's pattern allows it.
pub fn destination(uri: &str) -> Result<Destination, AwsError> {
    let bad = || {
        AwsError::client(
            "InvalidParameterException",
            format!(
                "DeliveryS3Uri {uri} is not valid: it must be s3://<bucket name>[/<prefix>] (pattern s3://[a-z0-9][\\.\\-a-z0-9]{{1,61}}[a-z0-9](/.*)?)."
            ),
        )
    };
    let rest = uri.strip_prefix("s3://").ok_or_else(bad)?;
    if uri.len() > 1024 {
        return Err(bad());
    }
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let edge_ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let bytes = bucket.as_bytes();
    let valid = (3..=63).contains(&bytes.len())
        && bytes.first().copied().is_some_and(edge_ok)
        && bytes.last().copied().is_some_and(edge_ok)
        && bytes.iter().all(|&c| edge_ok(c) || c == b'.' || c == b'-');
    if !valid {
        return Err(bad());
    }
    Ok(Destination {
        bucket: bucket.to_owned(),
        prefix: prefix.trim_matches('/').to_owned(),
    })
}

/// The folder a query's files go to.
pub fn folder(d: &Destination, account: &str, query_id: &str, completed_ms: i64) -> String {
    let day = timefmt::event_time(completed_ms);
    let (y, m, dd) = (&day[0..4], &day[5..7], &day[8..10]);
    let prefix = if d.prefix.is_empty() {
        String::new()
    } else {
        format!("{}/", d.prefix)
    };
    format!("{prefix}AWSLogs/{account}/CloudTrail-Lake/Query/{y}/{m}/{dd}/{query_id}/")
}

/// The bucket's account and region, if it is one of cairn's.
fn bucket_home(app: &App, bucket: &str) -> Result<Option<(String, String)>, AwsError> {
    Ok(app
        .objects
        .bucket(bucket)
        .map_err(|e| AwsError::internal(e.to_string()))?
        .map(|b| (b.account, b.region)))
}

/// StartQuery's check: the bucket exists and its policy lets CloudTrail write there for the
/// store. Nothing is written.
pub fn check(app: &App, store_arn: &str, d: &Destination) -> Result<(), AwsError> {
    let missing = || {
        AwsError::client(
            "S3BucketDoesNotExistException",
            format!("S3 bucket does not exist: {}", d.bucket),
        )
    };
    if let Some(ext) = app.external_buckets.get(&d.bucket) {
        return match ext.exists() {
            Ok(true) => Ok(()),
            _ => Err(missing()),
        };
    }
    let Some((account, region)) = bucket_home(app, &d.bucket)? else {
        return Err(missing());
    };
    let insufficient = || {
        AwsError::client(
            "InsufficientS3BucketPolicyException",
            format!(
                "Insufficient permissions to write query results to S3 bucket {}. Check the bucket policy.",
                d.bucket
            ),
        )
    };
    let cloudtrail = cloudtrail_as(store_arn, &account, &region, Durability::Unrecorded);
    let key = format!("{}result_sign.json", folder(d, &account, "example", 0));
    match cloudtrail.authorize_wire(
        app,
        "s3",
        put_object(&d.bucket, &region, &key, Vec::new(), Bytes::new()),
    ) {
        Ok(()) => Ok(()),
        Err(e) if e.code == "AccessDenied" => Err(insufficient()),
        Err(e) if e.code == "NoSuchBucket" => Err(missing()),
        Err(e) => Err(AwsError::internal(format!("{}: {}", e.code, e.message))),
    }
}

/// The result files' bodies: gzip'd CSV, a header row in each.
pub fn result_files(columns: &[String], rows: &[Vec<Option<String>>]) -> Vec<Vec<u8>> {
    let chunks: Vec<&[Vec<Option<String>>]> = if rows.is_empty() {
        vec![&[]]
    } else {
        rows.chunks(ROWS_PER_FILE).collect()
    };
    chunks
        .into_iter()
        .map(|chunk| {
            let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(gz);
            let written = w.write_record(columns).and_then(|()| {
                for row in chunk {
                    w.write_record(row.iter().map(|v| v.as_deref().unwrap_or("")))?;
                }
                w.flush()?;
                Ok(())
            });
            match (written, w.into_inner()) {
                (Ok(()), Ok(gz)) => gz.finish().unwrap_or_default(),
                _ => Vec::new(),
            }
        })
        .collect()
}

/// The sign file for result files named `result_1.csv.gz`… with these bodies.
pub fn sign_file(
    app: &App,
    region: &str,
    files: &[Vec<u8>],
    completed_ms: i64,
) -> Result<Vec<u8>, String> {
    let key = app.keys.current(region).map_err(|e| e.to_string())?;
    let entries: Vec<(String, String)> = files
        .iter()
        .enumerate()
        .map(|(i, body)| {
            (
                format!("result_{}.csv.gz", i + 1),
                cairn_trail::digest::file::sha256_hex(body),
            )
        })
        .collect();
    let hashes: Vec<&str> = entries.iter().map(|(_, h)| h.as_str()).collect();
    let signature = cairn_trail::digest::file::sign(&key.private, &hashes.join(" "));
    if signature.is_empty() {
        return Err("signing the result hashes failed".into());
    }
    let doc = json!({
        "version": "1.0",
        "region": region,
        "files": entries
            .iter()
            .map(|(name, hash)| json!({"fileHashValue": hash, "fileName": name}))
            .collect::<Vec<_>>(),
        "hashAlgorithm": "SHA-256",
        "signatureAlgorithm": "SHA256withRSA",
        "queryCompleteTime": timefmt::event_time(completed_ms),
        "hashSignature": signature,
        "publicKeyFingerprint": key.fingerprint,
    });
    serde_json::to_vec_pretty(&doc).map_err(|e| e.to_string())
}

/// Writes a finished query's results and their sign file; answers the `DeliveryStatus`.
pub fn deliver(app: &App, q: &Query, columns: &[String], rows: &[Vec<Option<String>>]) -> String {
    let Some(uri) = &q.delivery else {
        return "UNKNOWN".into();
    };
    let Ok(d) = destination(uri) else {
        return "FAILED".into();
    };
    let completed = q.ended_ms.unwrap_or_else(|| app.clock.now_millis());
    let files = result_files(columns, rows);
    if files.iter().any(Vec::is_empty) {
        return "FAILED".into();
    }
    let sign = match sign_file(app, &q.region, &files, completed) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(query = %q.id, error = %e, "query results not signed");
            return "FAILED_SIGNING_FILE".into();
        }
    };
    let store_arn = q.stores.first().map(String::as_str).unwrap_or_default();
    let put = |name: &str, body: Vec<u8>, content_type: &str| -> Result<(), String> {
        if let Some(ext) = app.external_buckets.get(&d.bucket) {
            let key = format!("{}{name}", folder(&d, &q.account, &q.id, completed));
            return ext.put(&key, &body, &[]).map_err(|_| "FAILED".to_owned());
        }
        let Some((account, region)) = bucket_home(app, &d.bucket).ok().flatten() else {
            return Err("RESOURCE_NOT_FOUND".into());
        };
        let key = format!("{}{name}", folder(&d, &account, &q.id, completed));
        let headers = vec![("content-type".to_owned(), content_type.to_owned())];
        let write = put_object(&d.bucket, &region, &key, headers, Bytes::from(body));
        match cloudtrail_as(store_arn, &account, &region, Durability::Wait)
            .call_wire(app, "s3", write)
        {
            Ok(_) => Ok(()),
            Err(e) if e.code == "AccessDenied" => Err("ACCESS_DENIED".into()),
            Err(e) if e.code == "NoSuchBucket" => Err("RESOURCE_NOT_FOUND".into()),
            Err(e) => {
                tracing::warn!(query = %q.id, code = %e.code, "query results not delivered");
                Err("FAILED".into())
            }
        }
    };
    for (i, body) in files.into_iter().enumerate() {
        if let Err(status) = put(&format!("result_{}.csv.gz", i + 1), body, "text/csv") {
            return status;
        }
    }
    match put(SIGN_FILE, sign, "application/json") {
        Ok(()) => "SUCCESS".into(),
        Err(status) if status == "ACCESS_DENIED" => "ACCESS_DENIED_SIGNING_FILE".into(),
        Err(_) => "FAILED_SIGNING_FILE".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_delivery_uri_is_a_bucket_and_a_prefix() {
        assert_eq!(
            destination("s3://my-results/lake/q/").unwrap(),
            Destination {
                bucket: "my-results".into(),
                prefix: "lake/q".into()
            }
        );
        assert_eq!(destination("s3://abc").unwrap().prefix, "");
        for bad in [
            "my-results",
            "s3://AB",
            "s3://a",
            "s3://-abc",
            "https://abc/x",
        ] {
            let e = destination(bad).unwrap_err();
            assert_eq!(e.code, "InvalidParameterException", "{bad}");
        }
    }

    #[test]
    fn results_go_under_the_query_folder_of_its_day() {
        let d = destination("s3://bkt/pre").unwrap();
        // 2024-03-05T10:00:00Z
        let f = folder(&d, "123456789012", "q-1", 1_709_632_800_000);
        assert_eq!(
            f,
            "pre/AWSLogs/123456789012/CloudTrail-Lake/Query/2024/03/05/q-1/"
        );
        let bare = destination("s3://bkt").unwrap();
        assert!(folder(&bare, "1", "q", 0).starts_with("AWSLogs/1/CloudTrail-Lake/Query/1970/"));
    }

    #[test]
    fn a_result_file_is_gzipped_csv_with_a_header() {
        let cols = vec!["eventName".to_owned(), "n".to_owned()];
        let rows = vec![
            vec![Some("Create, \"quoted\"".to_owned()), None],
            vec![Some("ListBuckets".to_owned()), Some("3".to_owned())],
        ];
        let files = result_files(&cols, &rows);
        assert_eq!(files.len(), 1);
        let mut text = String::new();
        flate2::read::GzDecoder::new(&files[0][..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(
            text,
            "eventName,n\n\"Create, \"\"quoted\"\"\",\nListBuckets,3\n"
        );
        // An empty result is still a file with its header.
        assert_eq!(result_files(&cols, &[]).len(), 1);
    }
}
