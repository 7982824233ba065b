//! Log files: AWS's object keys and the gzip'd `{"Records":[…]}` body.

use std::io::Write;

use sha2::{Digest, Sha256};

const UNIQUE_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// The 16 characters that keep file names apart. Derived from what the file is (trail, region,
/// first record), so that planning the same file twice names it the same.
pub fn unique16(trail_arn: &str, region: &str, first_offset: u64) -> String {
    let h = Sha256::digest(format!("{trail_arn}\n{region}\n{first_offset}").as_bytes());
    h.iter()
        .take(16)
        .map(|b| char::from(UNIQUE_ALPHABET[usize::from(*b) % UNIQUE_ALPHABET.len()]))
        .collect()
}

/// `[prefix/]AWSLogs/[<o-id>/]<acct>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique16>.json.gz`,
/// dated by delivery time.
pub fn log_key(
    prefix: Option<&str>,
    organization: Option<&str>,
    account: &str,
    region: &str,
    delivery_ms: i64,
    unique: &str,
) -> String {
    key_in(
        LOG_FOLDER,
        prefix,
        organization,
        account,
        region,
        delivery_ms,
        unique,
    )
}

/// The folder (and file-name part) of log files, and of Insights files.
pub const LOG_FOLDER: &str = "CloudTrail";
pub const INSIGHT_FOLDER: &str = "CloudTrail-Insight";

/// Whether a key is an Insights file's (`…/CloudTrail-Insight/…`).
pub fn is_insight_key(key: &str) -> bool {
    key.contains("/CloudTrail-Insight/")
}

/// A file's key in `folder` (`CloudTrail` or `CloudTrail-Insight`), as [`log_key`] lays it out.
pub fn key_in(
    folder: &str,
    prefix: Option<&str>,
    organization: Option<&str>,
    account: &str,
    region: &str,
    delivery_ms: i64,
    unique: &str,
) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(delivery_ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let (y, m, d) = (t.year(), u8::from(t.month()), t.day());
    let stamp = format!("{y:04}{m:02}{d:02}T{:02}{:02}Z", t.hour(), t.minute());
    let org = organization.map(|o| format!("{o}/")).unwrap_or_default();
    let base = format!(
        "AWSLogs/{org}{account}/{folder}/{region}/{y:04}/{m:02}/{d:02}/{account}_{folder}_{region}_{stamp}_{unique}.json.gz"
    );
    match prefix {
        Some(p) if !p.is_empty() => format!("{p}/{base}"),
        _ => base,
    }
}

/// The file body: the records' JSON exactly as journaled, in `{"Records":[…]}`, one gzip member.
pub fn build(records: &[Vec<u8>]) -> Vec<u8> {
    gzip(&records_json(records))
}

/// `{"Records":[…]}` with each record's JSON exactly as journaled: the bytes a digest hashes.
pub fn records_json(records: &[Vec<u8>]) -> Vec<u8> {
    let mut json = Vec::with_capacity(records.iter().map(|r| r.len() + 1).sum::<usize>() + 16);
    json.extend_from_slice(b"{\"Records\":[");
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            json.push(b',');
        }
        json.extend_from_slice(r);
    }
    json.extend_from_slice(b"]}");
    json
}

/// The oldest and newest `eventTime` among records, as digests list them.
pub fn event_time_bounds(records: &[Vec<u8>]) -> (Option<String>, Option<String>) {
    #[derive(serde::Deserialize)]
    struct Time {
        #[serde(rename = "eventTime")]
        event_time: Option<String>,
    }
    let mut bounds: (Option<String>, Option<String>) = (None, None);
    for r in records {
        let Ok(Time {
            event_time: Some(t),
        }) = serde_json::from_slice::<Time>(r)
        else {
            continue;
        };
        if bounds.0.as_ref().is_none_or(|o| t < *o) {
            bounds.0 = Some(t.clone());
        }
        if bounds.1.as_ref().is_none_or(|n| t > *n) {
            bounds.1 = Some(t);
        }
    }
    bounds
}

/// One gzip member, as CloudTrail writes every log and digest file.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4 + 64),
        flate2::Compression::default(),
    );
    // Writing into a Vec cannot fail.
    let _ = gz.write_all(bytes);
    gz.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn keys_like_aws() {
        let u = unique16(
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/t",
            "us-east-2",
            42,
        );
        assert_eq!(u.len(), 16);
        assert!(u.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(
            u,
            unique16(
                "arn:aws:cloudtrail:us-east-1:111122223333:trail/t",
                "us-east-2",
                42
            )
        );
        let k = log_key(
            None,
            None,
            "111122223333",
            "us-east-2",
            1_438_394_700_000,
            "Mu0KsOhtH1ar15ZZ",
        );
        assert_eq!(
            k,
            "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0205Z_Mu0KsOhtH1ar15ZZ.json.gz"
        );
        assert!(log_key(Some("a/b"), None, "1", "r", 0, "u").starts_with("a/b/AWSLogs/1/"));
        // An organization trail's file of a member account.
        assert_eq!(
            log_key(
                None,
                Some("o-exampleorgid"),
                "222222222222",
                "eu-west-1",
                1_438_394_700_000,
                "u"
            ),
            "AWSLogs/o-exampleorgid/222222222222/CloudTrail/eu-west-1/2015/08/01/222222222222_CloudTrail_eu-west-1_20150801T0205Z_u.json.gz"
        );
    }

    #[test]
    fn insights_files_have_their_own_folder() {
        let k = key_in(
            INSIGHT_FOLDER,
            None,
            None,
            "111122223333",
            "us-east-1",
            1_438_394_700_000,
            "Mu0KsOhtH1ar15ZZ",
        );
        assert_eq!(
            k,
            "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2015/08/01/111122223333_CloudTrail-Insight_us-east-1_20150801T0205Z_Mu0KsOhtH1ar15ZZ.json.gz"
        );
        assert!(is_insight_key(&k));
    }

    #[test]
    fn single_gzip_member_with_records_verbatim() {
        let body = build(&[br#"{"a":1, "n":null}"#.to_vec(), br#"{"b":2}"#.to_vec()]);
        let mut out = String::new();
        let mut d = flate2::read::GzDecoder::new(&body[..]);
        d.read_to_string(&mut out).unwrap();
        assert_eq!(out, r#"{"Records":[{"a":1, "n":null},{"b":2}]}"#);
        // Nothing after the first member.
        let mut rest = Vec::new();
        d.into_inner().read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
    }
}
