//! CloudTrail records (JSON text) into Arrow columns of the Lake schema.
//!
//! The decoder walks the schema, not the record: each column finds its member in the record by
//! name regardless of case (`userIdentity` fills `useridentity`), members the schema does not
//! name are skipped (they stay in `eventjson`), and a value of an unexpected kind becomes what
//! the column can hold (a number in a string column keeps its JSON text; an object where a
//! struct was expected but a string came is null). Values are parsed lazily: a member no
//! column reads is only scanned past, never built.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::NullBufferBuilder;
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, ListArray, MapArray, RecordBatch, StringBuilder, StructArray,
    TimestampMillisecondBuilder,
};
use datafusion::arrow::buffer::{OffsetBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{DataType, FieldRef, Fields, SchemaRef};
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::schema;

/// Why a record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("the record is not a JSON object: {0}")]
    NotAnObject(String),
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
        let members: Members<'_> =
            serde_json::from_str(json).map_err(|e| ConvertError::NotAnObject(e.to_string()))?;
        self.root.push_members(&members.0, Some(json));
        self.rows += 1;
        self.json_bytes += json.len();
        Ok(())
    }

    /// The gathered rows as a batch; the builder starts empty again.
    pub fn finish(&mut self) -> RecordBatch {
        let columns: Vec<ArrayRef> = self.root.children.iter_mut().map(|c| c.finish()).collect();
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

/// Hands a source's records (JSON text each) over, one call each.
pub type ReadRecords<'a, S> = dyn Fn(&S, &mut dyn FnMut(&str)) + Sync + 'a;

/// What a conversion of sources did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Converted {
    /// Records made into rows.
    pub rows: u64,
    /// Records that were not JSON objects (not made into rows).
    pub refused: u64,
}

/// An object's members in order, names unescaped only when they hold escapes.
struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    out.push((key.0, map.next_value::<&'de RawValue>()?));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// A member name, borrowed from the text unless it holds escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor).map(Key)
    }
}

/// A JSON string, borrowed from the text unless it holds escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor).map(Text)
    }
}

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// An array's items, unparsed.
struct Items<'a>(Vec<&'a RawValue>);

impl<'de> serde::Deserialize<'de> for Items<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Items<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(4));
                while let Some(item) = seq.next_element::<&'de RawValue>()? {
                    out.push(item);
                }
                Ok(Items(out))
            }
        }
        d.deserialize_seq(V)
    }
}

/// A value's text as a string column holds it: a JSON string unescaped, `null` as null, any
/// other value as its JSON text.
fn as_text(raw: &RawValue) -> Option<Cow<'_, str>> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<Text<'_>>(text).ok().map(|t| t.0),
        Some(b'n') if text == "null" => None,
        _ => Some(Cow::Borrowed(text)),
    }
}

/// One column (or nested member) being built.
enum Col {
    Str(StringBuilder),
    Time(TimestampMillisecondBuilder),
    Bool(BooleanBuilder),
    Map(MapCol),
    Struct(StructCol),
    List(ListCol),
}

impl Col {
    fn of(ty: &DataType) -> Col {
        match ty {
            DataType::Timestamp(_, _) => Col::Time(TimestampMillisecondBuilder::new()),
            DataType::Boolean => Col::Bool(BooleanBuilder::new()),
            DataType::Map(entries, sorted) => Col::Map(MapCol::new(entries.clone(), *sorted)),
            DataType::Struct(fields) => Col::Struct(StructCol::new(fields)),
            DataType::List(item) => Col::List(ListCol::new(item.clone())),
            _ => Col::Str(StringBuilder::new()),
        }
    }

    fn push_null(&mut self) {
        match self {
            Col::Str(b) => b.append_null(),
            Col::Time(b) => b.append_null(),
            Col::Bool(b) => b.append_null(),
            Col::Map(m) => m.push_null(),
            Col::Struct(s) => s.push_null(),
            Col::List(l) => l.push_null(),
        }
    }

    fn push(&mut self, raw: Option<&RawValue>) {
        let Some(raw) = raw else {
            self.push_null();
            return;
        };
        match self {
            Col::Str(b) => b.append_option(as_text(raw)),
            Col::Time(b) => b.append_option(as_text(raw).and_then(|t| parse_time(&t))),
            Col::Bool(b) => b.append_option(match raw.get() {
                "true" | "\"true\"" => Some(true),
                "false" | "\"false\"" => Some(false),
                _ => None,
            }),
            Col::Map(m) => m.push(raw),
            Col::Struct(s) => match serde_json::from_str::<Members<'_>>(raw.get()) {
                Ok(members) => s.push_members(&members.0, None),
                Err(_) => s.push_null(),
            },
            Col::List(l) => l.push(raw),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Col::Str(b) => Arc::new(b.finish()),
            Col::Time(b) => Arc::new(b.finish()),
            Col::Bool(b) => Arc::new(b.finish()),
            Col::Map(m) => m.finish(),
            Col::Struct(s) => Arc::new(s.finish()),
            Col::List(l) => l.finish(),
        }
    }
}

/// How many distinct member spellings a struct remembers; past this, names are matched by a
/// scan (a file with endless made-up member names must not grow memory without bound).
const MAX_REMEMBERED_NAMES: usize = 256;

struct StructCol {
    fields: Fields,
    children: Vec<Col>,
    /// Member name as spelled in records → the child it fills (None: no child).
    names: HashMap<Box<str>, Option<usize>>,
    /// Which child holds the record's own text (`eventjson`), at the top level.
    event_json: Option<usize>,
    nulls: NullBufferBuilder,
    slots: Vec<usize>,
    /// The previous record's member names by position, with the child each fills.
    by_position: Vec<(Box<str>, Option<usize>)>,
}

/// No member fills this child.
const NO_MEMBER: usize = usize::MAX;

impl StructCol {
    fn new(fields: &Fields) -> StructCol {
        StructCol {
            children: fields.iter().map(|f| Col::of(f.data_type())).collect(),
            event_json: fields.iter().position(|f| f.name() == schema::EVENT_JSON),
            fields: fields.clone(),
            names: HashMap::new(),
            nulls: NullBufferBuilder::new(0),
            slots: Vec::new(),
            by_position: Vec::new(),
        }
    }

    /// [`StructCol::child_of`], first asking what the member at the same position of the
    /// previous record was (records of one source mostly spell their members in one order).
    fn child_at(&mut self, position: usize, name: &str) -> Option<usize> {
        if let Some((seen, child)) = self.by_position.get(position)
            && **seen == *name
        {
            return *child;
        }
        let child = self.child_of(name);
        if position < MAX_REMEMBERED_NAMES {
            if position >= self.by_position.len() {
                self.by_position.resize(position + 1, (Box::from(""), None));
            }
            self.by_position[position] = (name.into(), child);
        }
        child
    }

    fn child_of(&mut self, name: &str) -> Option<usize> {
        if let Some(hit) = self.names.get(name) {
            return *hit;
        }
        let found = self
            .fields
            .iter()
            .position(|f| f.name().eq_ignore_ascii_case(name))
            .filter(|i| Some(*i) != self.event_json);
        if self.names.len() < MAX_REMEMBERED_NAMES {
            self.names.insert(name.into(), found);
        }
        found
    }

    fn push_members(&mut self, members: &[(Cow<'_, str>, &RawValue)], record: Option<&str>) {
        // Which member fills each child (the first of its spellings), in a buffer kept
        // between records.
        let mut slots = std::mem::take(&mut self.slots);
        slots.clear();
        slots.resize(self.children.len(), NO_MEMBER);
        for (m, (name, _)) in members.iter().enumerate() {
            if let Some(i) = self.child_at(m, name)
                && slots[i] == NO_MEMBER
            {
                slots[i] = m;
            }
        }
        for (i, child) in self.children.iter_mut().enumerate() {
            if Some(i) == self.event_json {
                if let (Col::Str(b), Some(text)) = (&mut *child, record) {
                    b.append_value(text);
                } else {
                    child.push_null();
                }
                continue;
            }
            child.push(members.get(slots[i]).map(|(_, v)| *v));
        }
        self.slots = slots;
        self.nulls.append_non_null();
    }

    fn push_null(&mut self) {
        for child in &mut self.children {
            child.push_null();
        }
        self.nulls.append_null();
    }

    fn finish(&mut self) -> StructArray {
        let arrays: Vec<ArrayRef> = self.children.iter_mut().map(|c| c.finish()).collect();
        let nulls = self.nulls.finish();
        StructArray::try_new(self.fields.clone(), arrays, nulls)
            .unwrap_or_else(|_| StructArray::new_empty_fields(0, None))
    }
}

struct MapCol {
    entries: FieldRef,
    sorted: bool,
    keys: StringBuilder,
    values: StringBuilder,
    offsets: Vec<i32>,
    nulls: NullBufferBuilder,
}

impl MapCol {
    fn new(entries: FieldRef, sorted: bool) -> MapCol {
        MapCol {
            entries,
            sorted,
            keys: StringBuilder::new(),
            values: StringBuilder::new(),
            offsets: vec![0],
            nulls: NullBufferBuilder::new(0),
        }
    }

    fn end(&self) -> i32 {
        self.offsets.last().copied().unwrap_or(0)
    }

    fn push(&mut self, raw: &RawValue) {
        let Ok(members) = serde_json::from_str::<Members<'_>>(raw.get()) else {
            self.push_null();
            return;
        };
        let mut n = 0;
        for (key, value) in &members.0 {
            self.keys.append_value(key);
            self.values.append_option(as_text(value));
            n += 1;
        }
        self.offsets.push(self.end() + n);
        self.nulls.append_non_null();
    }

    fn push_null(&mut self) {
        self.offsets.push(self.end());
        self.nulls.append_null();
    }

    fn finish(&mut self) -> ArrayRef {
        let keys: ArrayRef = Arc::new(self.keys.finish());
        let values: ArrayRef = Arc::new(self.values.finish());
        let offsets = std::mem::replace(&mut self.offsets, vec![0]);
        let nulls = self.nulls.finish();
        let DataType::Struct(kv) = self.entries.data_type() else {
            return Arc::new(StringBuilder::new().finish());
        };
        let built = StructArray::try_new(kv.clone(), vec![keys, values], None).and_then(|e| {
            MapArray::try_new(
                self.entries.clone(),
                OffsetBuffer::new(ScalarBuffer::from(offsets)),
                e,
                nulls,
                self.sorted,
            )
        });
        match built {
            Ok(m) => Arc::new(m),
            Err(e) => {
                tracing::error!(error = %e, "lake map column could not be assembled");
                Arc::new(StringBuilder::new().finish())
            }
        }
    }
}

struct ListCol {
    item: FieldRef,
    child: Box<Col>,
    offsets: Vec<i32>,
    nulls: NullBufferBuilder,
}

impl ListCol {
    fn new(item: FieldRef) -> ListCol {
        ListCol {
            child: Box::new(Col::of(item.data_type())),
            item,
            offsets: vec![0],
            nulls: NullBufferBuilder::new(0),
        }
    }

    fn end(&self) -> i32 {
        self.offsets.last().copied().unwrap_or(0)
    }

    fn push(&mut self, raw: &RawValue) {
        let Ok(items) = serde_json::from_str::<Items<'_>>(raw.get()) else {
            self.push_null();
            return;
        };
        for item in &items.0 {
            self.child.push(Some(item));
        }
        self.offsets.push(self.end() + items.0.len() as i32);
        self.nulls.append_non_null();
    }

    fn push_null(&mut self) {
        self.offsets.push(self.end());
        self.nulls.append_null();
    }

    fn finish(&mut self) -> ArrayRef {
        let values = self.child.finish();
        let offsets = std::mem::replace(&mut self.offsets, vec![0]);
        let nulls = self.nulls.finish();
        match ListArray::try_new(
            self.item.clone(),
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            values,
            nulls,
        ) {
            Ok(l) => Arc::new(l),
            Err(e) => {
                tracing::error!(error = %e, "lake list column could not be assembled");
                Arc::new(StringBuilder::new().finish())
            }
        }
    }
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
