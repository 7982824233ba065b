//! One pass over a record's JSON text fills the Lake columns: each member's value is
//! deserialized straight into the builder of the column that holds it (nested structs, lists
//! and maps included), so no part of the record is scanned twice and nothing is built that no
//! column keeps. Members no column names are only scanned past.
//!
//! Every container finishes its row whatever happens below it (children a record does not
//! fill are padded with nulls), so the columns always agree on their length; a syntax error
//! can therefore never leave a batch that Arrow refuses. Callers hand only text known to be
//! JSON, so in practice no error happens midway.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayBuilder, NullBufferBuilder};
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, ListArray, MapArray, StringBuilder, StructArray,
    TimestampMillisecondBuilder,
};
use datafusion::arrow::buffer::{OffsetBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{DataType, FieldRef, Fields};
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::parse_time;
use crate::schema;

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

/// A value's text as a string column holds it: a JSON string unescaped, `null` as null, any
/// other value as its JSON text.
fn as_text(raw: &RawValue) -> Option<Cow<'_, str>> {
    let text = raw.get();
    match text.as_bytes().first() {
        // Most strings hold no escape: their text between the quotes is the value.
        Some(b'"') if !text.contains('\\') => text.get(1..text.len() - 1).map(Cow::Borrowed),
        Some(b'"') => serde_json::from_str::<Text<'_>>(text).ok().map(|t| t.0),
        Some(b'n') if text == "null" => None,
        _ => Some(Cow::Borrowed(text)),
    }
}

/// One column (or nested member) being built.
pub(super) enum Col {
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

    /// Rows so far.
    fn len(&self) -> usize {
        match self {
            Col::Str(b) => b.len(),
            Col::Time(b) => b.len(),
            Col::Bool(b) => b.len(),
            Col::Map(m) => m.offsets.len() - 1,
            Col::Struct(s) => s.nulls.len(),
            Col::List(l) => l.offsets.len() - 1,
        }
    }

    /// Null rows up to `rows`: a struct's members that records leave out are padded in bulk
    /// when next written or finished, not one null per record.
    fn pad_to(&mut self, rows: usize) {
        let Some(n) = rows.checked_sub(self.len()).filter(|n| *n > 0) else {
            return;
        };
        match self {
            Col::Str(b) => b.append_nulls(n),
            Col::Time(b) => b.append_nulls(n),
            Col::Bool(b) => b.append_nulls(n),
            Col::Map(m) => (0..n).for_each(|_| m.push_null()),
            Col::Struct(s) => s.nulls.append_n_nulls(n),
            Col::List(l) => (0..n).for_each(|_| l.push_null()),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        // The next batch starts with room for as much as this one held: its buffers are not
        // grown (copied, fresh pages faulted in) a doubling at a time from nothing.
        match self {
            Col::Str(b) => {
                let (rows, bytes) = (b.len(), b.values_slice().len());
                let done = b.finish();
                *b = StringBuilder::with_capacity(rows, bytes);
                Arc::new(done)
            }
            Col::Time(b) => {
                let rows = b.len();
                let done = b.finish();
                *b = TimestampMillisecondBuilder::with_capacity(rows);
                Arc::new(done)
            }
            Col::Bool(b) => Arc::new(b.finish()),
            Col::Map(m) => m.finish(),
            Col::Struct(s) => Arc::new(s.finish()),
            Col::List(l) => l.finish(),
        }
    }
}

/// Fills one row of a column from the value the deserializer is at.
struct Fill<'c>(&'c mut Col);

impl<'de> DeserializeSeed<'de> for Fill<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.0 {
            Col::Str(b) => b.append_option(as_text(<&RawValue>::deserialize(d)?)),
            Col::Time(b) => {
                let raw = <&RawValue>::deserialize(d)?;
                b.append_option(as_text(raw).and_then(|t| parse_time(&t)));
            }
            Col::Bool(b) => b.append_option(match <&RawValue>::deserialize(d)?.get() {
                "true" | "\"true\"" => Some(true),
                "false" | "\"false\"" => Some(false),
                _ => None,
            }),
            Col::Struct(s) => d.deserialize_any(FillStruct {
                col: s,
                record: None,
            })?,
            Col::Map(m) => d.deserialize_any(FillMap(m))?,
            Col::List(l) => d.deserialize_any(FillList(l))?,
        }
        Ok(())
    }
}

/// A container column's visitor: any value that is not the container it holds is a null row.
macro_rules! other_values_are_null {
    () => {
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
            self.0.push_null();
            Ok(())
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
            self.0.push_null();
            Ok(())
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
            self.0.push_null();
            Ok(())
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
            self.0.push_null();
            Ok(())
        }
        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
            self.0.push_null();
            Ok(())
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
            self.0.push_null();
            Ok(())
        }
    };
}

/// Scans past an array's items; then the row is null.
fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Scans past an object's members; then the row is null.
fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Fills a struct's row from an object; `record` is the whole record's text at the top level
/// (for `eventjson`).
pub(super) struct FillStruct<'c, 'r> {
    pub(super) col: &'c mut StructCol,
    pub(super) record: Option<&'r str>,
}

impl<'de> Visitor<'de> for FillStruct<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let s = self.col;
        let row = s.nulls.len();
        let mut filled = std::mem::take(&mut s.filled);
        filled.clear();
        filled.resize(s.children.len(), false);
        let mut read = || -> Result<(), A::Error> {
            let mut position = 0;
            while let Some(Key(name)) = map.next_key::<Key<'de>>()? {
                match s.child_at(position, &name) {
                    // The first of a member's spellings fills its column.
                    Some(i) if !filled[i] => {
                        filled[i] = true;
                        s.children[i].pad_to(row);
                        map.next_value_seed(Fill(&mut s.children[i]))?;
                    }
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                position += 1;
            }
            Ok(())
        };
        let result = read();
        s.filled = filled;
        if let (Some(i), Some(text)) = (s.event_json, self.record) {
            s.children[i].pad_to(row);
            if let Col::Str(b) = &mut s.children[i] {
                b.append_value(text);
            }
        }
        // Children this record left out (or that failed midway, never in practice: the text
        // is known JSON) are padded later ([`Col::pad_to`]).
        s.nulls.append_non_null();
        result
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.col.push_null();
        skip_seq(seq)
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        self.col.push_null();
        Ok(())
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        self.col.push_null();
        Ok(())
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        self.col.push_null();
        Ok(())
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        self.col.push_null();
        Ok(())
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        self.col.push_null();
        Ok(())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.col.push_null();
        Ok(())
    }
}

/// How many distinct member spellings a struct remembers; past this, names are matched by a
/// scan (a file with endless made-up member names must not grow memory without bound).
const MAX_REMEMBERED_NAMES: usize = 256;

pub(super) struct StructCol {
    fields: Fields,
    children: Vec<Col>,
    /// Member name as spelled in records → the child it fills (None: no child).
    names: HashMap<Box<str>, Option<usize>>,
    /// Which child holds the record's own text (`eventjson`), at the top level.
    event_json: Option<usize>,
    nulls: NullBufferBuilder,
    /// Which children the row being read has filled, in a buffer kept between rows.
    filled: Vec<bool>,
    /// The previous record's member names by position, with the child each fills.
    by_position: Vec<(Box<str>, Option<usize>)>,
}

impl StructCol {
    pub(super) fn new(fields: &Fields) -> StructCol {
        StructCol {
            children: fields.iter().map(|f| Col::of(f.data_type())).collect(),
            event_json: fields.iter().position(|f| f.name() == schema::EVENT_JSON),
            fields: fields.clone(),
            names: HashMap::new(),
            nulls: NullBufferBuilder::new(0),
            filled: Vec::new(),
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

    fn push_null(&mut self) {
        // Its children are padded when next written or when the struct is finished.
        self.nulls.append_null();
    }

    /// Every child padded to the struct's rows.
    fn pad_children(&mut self) {
        let rows = self.nulls.len();
        for child in &mut self.children {
            child.pad_to(rows);
        }
    }

    /// The children's columns, for the top level (a record batch, which has no validity of
    /// its own); the struct starts empty again.
    pub(super) fn finish_children(&mut self) -> Vec<ArrayRef> {
        self.pad_children();
        self.nulls = NullBufferBuilder::new(0);
        self.children.iter_mut().map(|c| c.finish()).collect()
    }

    fn finish(&mut self) -> StructArray {
        self.pad_children();
        let arrays: Vec<ArrayRef> = self.children.iter_mut().map(|c| c.finish()).collect();
        let nulls = self.nulls.finish();
        StructArray::try_new(self.fields.clone(), arrays, nulls)
            .unwrap_or_else(|_| StructArray::new_empty_fields(0, None))
    }
}

pub(super) struct MapCol {
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

    fn push_null(&mut self) {
        self.offsets.push(self.keys.len() as i32);
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

/// Fills a map's row from an object: every member, its value as a string column holds it.
struct FillMap<'c>(&'c mut MapCol);

impl<'de> Visitor<'de> for FillMap<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let m = self.0;
        let mut read = || -> Result<(), A::Error> {
            while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                let value = map.next_value::<&'de RawValue>()?;
                m.keys.append_value(&key);
                m.values.append_option(as_text(value));
            }
            Ok(())
        };
        let result = read();
        m.offsets.push(m.keys.len() as i32);
        m.nulls.append_non_null();
        result
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.0.push_null();
        skip_seq(seq)
    }

    other_values_are_null!();
}

pub(super) struct ListCol {
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

    fn push_null(&mut self) {
        self.offsets.push(self.child.len() as i32);
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

/// Fills a list's row from an array: each item into the item column.
struct FillList<'c>(&'c mut ListCol);

impl<'de> Visitor<'de> for FillList<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let l = self.0;
        let result = (|| {
            while seq.next_element_seed(Fill(&mut l.child))?.is_some() {}
            Ok(())
        })();
        l.offsets.push(l.child.len() as i32);
        l.nulls.append_non_null();
        result
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.0.push_null();
        skip_map(map)
    }

    other_values_are_null!();
}
