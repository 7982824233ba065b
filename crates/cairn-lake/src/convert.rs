//! CloudTrail records (JSON text) into Arrow columns of the Lake schema.
//!
//! The decoder walks the schema, not the record: each column finds its member in the record by
//! name regardless of case (`userIdentity` fills `useridentity`), members the schema does not
//! name are skipped (they stay in `eventjson`), and a value of an unexpected kind becomes what
//! the column can hold (a number in a string column keeps its JSON text; an object where a
//! struct was expected but a string came is null). One pass over a record fills every column
//! ([`fill`]); a member no column reads is only scanned past, never built.

mod fill;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use serde::de::{Deserializer, IgnoredAny};
use serde_json::value::RawValue;

use crate::schema;
use fill::{FillStruct, StructCol};

/// Why a record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("the record is not a JSON object: {0}")]
    NotAnObject(String),
}

/// One record a source hands over.
#[derive(Debug, Clone, Copy)]
pub enum Record<'a> {
    /// Text not yet known to be JSON (checked before it fills a row).
    Text(&'a str),
    /// A JSON value already parsed once (an item of a delivery file's `Records`): not checked
    /// again.
    Json(&'a RawValue),
}

/// Rows being gathered into one Arrow batch of the Lake schema.
pub struct BatchBuilder {
    schema: SchemaRef,
    root: StructCol,
    rows: usize,
    json_bytes: usize,
}

impl Default for BatchBuilder {
    fn default() -> Self {
        BatchBuilder::new()
    }
}

impl BatchBuilder {
    pub fn new() -> BatchBuilder {
        let schema = schema::events();
        BatchBuilder {
            root: StructCol::new(schema.fields()),
            schema,
            rows: 0,
            json_bytes: 0,
        }
    }

    /// Rows gathered so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The records' JSON text gathered so far, in bytes (a measure of the batch's size).
    pub fn json_bytes(&self) -> usize {
        self.json_bytes
    }

    /// Adds one record. On an error nothing is added.
    pub fn push(&mut self, json: &str) -> Result<(), ConvertError> {
        self.push_record(Record::Text(json))
    }

    /// Adds one record, checking its text first unless it is known JSON. On an error nothing
    /// is added.
    pub fn push_record(&mut self, record: Record<'_>) -> Result<(), ConvertError> {
        let json = match record {
            Record::Text(text) => {
                // Checked whole before any column changes: a row is added entirely or not
                // at all.
                serde_json::from_str::<IgnoredAny>(text)
                    .map_err(|e| ConvertError::NotAnObject(e.to_string()))?;
                text
            }
            Record::Json(raw) => raw.get(),
        };
        if !json.trim_start().starts_with('{') {
            return Err(ConvertError::NotAnObject(
                "a JSON value that is not an object".to_string(),
            ));
        }
        let mut de = serde_json::Deserializer::from_str(json);
        let filled = de.deserialize_map(FillStruct {
            col: &mut self.root,
            record: Some(json),
        });
        // JSON text that is an object fills its row without error; were it to fail anyway,
        // the row keeps what was read (every column still has one entry for it).
        if let Err(e) = filled {
            tracing::warn!(error = %e, "a lake record filled its row only in part");
        }
        self.rows += 1;
        self.json_bytes += json.len();
        Ok(())
    }

    /// The gathered rows as a batch; the builder starts empty again.
    pub fn finish(&mut self) -> RecordBatch {
        let columns = self.root.finish_children();
        self.rows = 0;
        self.json_bytes = 0;
        match RecordBatch::try_new(self.schema.clone(), columns) {
            Ok(b) => b,
            // Every column is built from the schema's own types with one entry per row.
            Err(e) => {
                tracing::error!(error = %e, "lake batch could not be assembled");
                RecordBatch::new_empty(self.schema.clone())
            }
        }
    }
}

/// Hands a source's records over, one call each.
pub type ReadRecords<'a, S> = dyn Fn(&S, &mut dyn FnMut(Record<'_>)) + Sync + 'a;

/// What a conversion of sources did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Converted {
    /// Records made into rows.
    pub rows: u64,
    /// Records that were not JSON objects (not made into rows).
    pub refused: u64,
}

/// `eventTime` in milliseconds: AWS's `2025-03-04T10:02:44Z` read directly, anything else
/// through the lenient parser imports use.
pub(crate) fn parse_time(s: &str) -> Option<i64> {
    fast_time(s.as_bytes())
        .or_else(|| cairn_model::timefmt::parse_event_time(&serde_json::Value::from(s)))
        // `2020-11-05 21:21:46Z`, as some exporters write it.
        .or_else(|| fast_time(s.replacen(' ', "T", 1).as_bytes()))
}

fn fast_time(b: &[u8]) -> Option<i64> {
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    Some((days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss) * 1000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, BooleanArray, TimestampMillisecondArray};

    const RECORD: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIA","userName":"alice","sessionContext":{"attributes":{"creationDate":"2024-01-01T00:00:00Z","mfaAuthenticated":"false"}}},"eventTime":"2024-05-01T01:00:00Z","eventSource":"s3.amazonaws.com","eventName":"CreateBucket","awsRegion":"us-east-1","sourceIPAddress":"10.0.0.1","userAgent":"aws-cli/1.0","requestParameters":{"bucketName":"b\"q","Host":"b.s3.amazonaws.com","nested":{"x":[1,2]},"n":5,"gone":null},"responseElements":null,"requestID":"R1","eventID":"E1","readOnly":false,"resources":[{"type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::b"}],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3"},"unknownField":{"deep":1}}"#;

    #[test]
    fn a_record_fills_the_lake_columns() {
        let mut b = BatchBuilder::new();
        b.push(RECORD).unwrap();
        let batch = b.finish();
        assert_eq!(batch.num_rows(), 1);
        let s = |name: &str| {
            batch
                .column_by_name(name)
                .unwrap()
                .as_string::<i32>()
                .value(0)
                .to_string()
        };
        assert_eq!(s("eventversion"), "1.08");
        assert_eq!(s("eventname"), "CreateBucket");
        assert_eq!(s("sourceipaddress"), "10.0.0.1");
        assert_eq!(s("eventjson"), RECORD);
        assert!(batch.column_by_name("errorcode").unwrap().is_null(0));
        assert!(batch.column_by_name("responseelements").unwrap().is_null(0));
        let t = batch
            .column_by_name("eventtime")
            .unwrap()
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .unwrap();
        assert_eq!(t.value(0), 1_714_525_200_000);
        let ro = batch
            .column_by_name("readonly")
            .unwrap()
            .as_any()
            .downcast_ref::<BooleanArray>()
            .unwrap();
        assert!(!ro.value(0));
        let identity = batch.column_by_name("useridentity").unwrap().as_struct();
        assert_eq!(
            identity
                .column_by_name("arn")
                .unwrap()
                .as_string::<i32>()
                .value(0),
            "arn:aws:iam::111122223333:user/alice"
        );
        let attrs = identity
            .column_by_name("sessioncontext")
            .unwrap()
            .as_struct()
            .column_by_name("attributes")
            .unwrap()
            .as_struct();
        assert_eq!(
            attrs
                .column_by_name("mfaauthenticated")
                .unwrap()
                .as_string::<i32>()
                .value(0),
            "false"
        );
        let params = batch.column_by_name("requestparameters").unwrap().as_map();
        let entries = params.value(0);
        let keys = entries.column(0).as_string::<i32>();
        let values = entries.column(1).as_string::<i32>();
        let got: Vec<(String, Option<String>)> = (0..keys.len())
            .map(|i| {
                (
                    keys.value(i).to_string(),
                    (!values.is_null(i)).then(|| values.value(i).to_string()),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("bucketName".into(), Some("b\"q".into())),
                ("Host".into(), Some("b.s3.amazonaws.com".into())),
                ("nested".into(), Some(r#"{"x":[1,2]}"#.into())),
                ("n".into(), Some("5".into())),
                ("gone".into(), None),
            ]
        );
        let resources = batch.column_by_name("resources").unwrap().as_list::<i32>();
        let first = resources.value(0);
        let arn = first.as_struct().column_by_name("arn").unwrap();
        assert_eq!(arn.as_string::<i32>().value(0), "arn:aws:s3:::b");
    }

    #[test]
    fn events_from_outside_aws_fill_eventdata_and_metadata() {
        let record = r#"{"eventVersion":"1.11","eventCategory":"ActivityAuditLog","eventType":"ActivityLog","eventID":"E2","eventTime":"2025-03-04T12:01:00Z","awsRegion":"eu-west-1","recipientAccountId":"111122223333","metadata":{"ingestionTime":"2025-03-04T12:01:03Z","channelARN":"arn:aws:cloudtrail:eu-west-1:111122223333:channel/c"},"eventData":{"version":"1.0","userIdentity":{"type":"CustomUser","principalId":"u-42","details":{"team":"sre"}},"eventSource":"myapp","eventName":"Login","eventTime":"2025-03-04T12:00:59Z","UID":"req-1","requestParameters":{"ok":true},"recipientAccountId":"111122223333"}}"#;
        let mut b = BatchBuilder::new();
        b.push(record).unwrap();
        let batch = b.finish();
        let member = |column: &str, name: &str| {
            batch
                .column_by_name(column)
                .unwrap()
                .as_struct()
                .column_by_name(name)
                .unwrap()
                .as_string::<i32>()
                .value(0)
                .to_string()
        };
        assert_eq!(member("eventdata", "eventname"), "Login");
        assert_eq!(member("eventdata", "uid"), "req-1");
        assert_eq!(
            member("metadata", "channelarn"),
            "arn:aws:cloudtrail:eu-west-1:111122223333:channel/c"
        );
        let identity = batch
            .column_by_name("eventdata")
            .unwrap()
            .as_struct()
            .column_by_name("useridentity")
            .unwrap()
            .as_struct();
        assert_eq!(
            identity
                .column_by_name("principalid")
                .unwrap()
                .as_string::<i32>()
                .value(0),
            "u-42"
        );
        assert!(batch.column_by_name("eventname").unwrap().is_null(0));
    }

    #[test]
    fn batches_follow_one_another() {
        let mut b = BatchBuilder::new();
        for _ in 0..3 {
            b.push(RECORD).unwrap();
        }
        assert_eq!(b.finish().num_rows(), 3);
        b.push(RECORD).unwrap();
        let raw: &RawValue = serde_json::from_str(RECORD).unwrap();
        b.push_record(Record::Json(raw)).unwrap();
        let batch = b.finish();
        assert_eq!(batch.num_rows(), 2);
        let json = batch
            .column_by_name("eventjson")
            .unwrap()
            .as_string::<i32>();
        assert_eq!(json.value(1), RECORD);
        let resources = batch.column_by_name("resources").unwrap().as_list::<i32>();
        assert_eq!(resources.value(1).len(), 1);
    }

    #[test]
    fn records_spelling_a_member_twice_keep_the_first() {
        let mut b = BatchBuilder::new();
        b.push(r#"{"eventName":"A","userIdentity":{"principalId":"p1","principalid":"p2"},"EventName":"B","resources":[{"ARN":"a1","arn":"a2"},"x",{"arn":"a3"}]}"#)
            .unwrap();
        let batch = b.finish();
        assert_eq!(
            batch
                .column_by_name("eventname")
                .unwrap()
                .as_string::<i32>()
                .value(0),
            "A"
        );
        let identity = batch.column_by_name("useridentity").unwrap().as_struct();
        let principal = identity.column_by_name("principalid").unwrap();
        assert_eq!(principal.as_string::<i32>().value(0), "p1");
        let resources = batch.column_by_name("resources").unwrap().as_list::<i32>();
        let items = resources.value(0);
        let arns = items
            .as_struct()
            .column_by_name("arn")
            .unwrap()
            .as_string::<i32>();
        assert_eq!(arns.len(), 3);
        assert_eq!(arns.value(0), "a1");
        assert!(items.is_null(1));
        assert_eq!(arns.value(2), "a3");
    }

    #[test]
    fn bad_records_add_nothing() {
        let mut b = BatchBuilder::new();
        assert!(b.push("[1,2]").is_err());
        assert!(b.push("{\"eventName\":").is_err());
        b.push(r#"{"eventName":"X","eventTime":"yesterday"}"#)
            .unwrap();
        b.push(r#"{"eventName":"X","userIdentity":"not an object","resources":{"a":1},"eventTime":"2024-05-01T01:00:00Z","readOnly":"maybe"}"#)
            .unwrap();
        let batch = b.finish();
        assert_eq!(batch.num_rows(), 2);
        assert!(batch.column_by_name("eventtime").unwrap().is_null(0));
        assert!(batch.column_by_name("useridentity").unwrap().is_null(1));
        assert!(batch.column_by_name("resources").unwrap().is_null(1));
        assert!(batch.column_by_name("readonly").unwrap().is_null(1));
    }

    #[test]
    fn times_parse_fast_and_lenient() {
        assert_eq!(parse_time("2024-05-01T01:00:00Z"), Some(1_714_525_200_000));
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_time("2024-05-01T01:00:00.5Z"),
            Some(1_714_525_200_500)
        );
        assert_eq!(parse_time("2024-13-01T01:00:00Z"), None);
        assert_eq!(parse_time("2024-05-01 01:00:00Z"), Some(1_714_525_200_000));
        assert_eq!(parse_time("..."), None);
        for (y, m, d) in [(2000, 2, 29), (1999, 12, 31), (2024, 3, 1), (1969, 12, 31)] {
            let s = format!("{y:04}-{m:02}-{d:02}T00:00:00Z");
            let lenient =
                cairn_model::timefmt::parse_event_time(&serde_json::Value::from(s.as_str()));
            assert_eq!(fast_time(s.as_bytes()), lenient, "{s}");
        }
    }
}
