//! Result values as Lake's GetQueryResults writes them: every value a string, in Trino's
//! rendering. Timestamps `2025-03-04 10:02:44.000`, booleans `true`/`false`, doubles with a
//! fraction (`2.0`), structs `{type=IAMUser, arn=…}` (members in order, `null` for missing
//! ones), maps `{key=value, …}`, arrays `[a, b]`. A top-level NULL is None.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::files::day_label;

/// Every row of a batch, rendered.
pub fn rows(batch: &RecordBatch) -> Vec<Vec<Option<String>>> {
    (0..batch.num_rows())
        .map(|r| {
            batch
                .columns()
                .iter()
                .map(|c| value(c.as_ref(), r))
                .collect()
        })
        .collect()
}

/// One value, or None for NULL.
pub fn value(array: &dyn Array, row: usize) -> Option<String> {
    if array.is_null(row) {
        return None;
    }
    let mut out = String::new();
    write(&mut out, array, row);
    Some(out)
}

fn write(out: &mut String, array: &dyn Array, row: usize) {
    use std::fmt::Write as _;
    if array.is_null(row) {
        out.push_str("null");
        return;
    }
    match array.data_type() {
        DataType::Utf8 => out.push_str(array.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => out.push_str(array.as_string::<i64>().value(row)),
        DataType::Utf8View => out.push_str(array.as_string_view().value(row)),
        DataType::Boolean => out.push_str(if array.as_boolean().value(row) {
            "true"
        } else {
            "false"
        }),
        DataType::Int8 => push(out, array.as_primitive::<Int8Type>().value(row)),
        DataType::Int16 => push(out, array.as_primitive::<Int16Type>().value(row)),
        DataType::Int32 => push(out, array.as_primitive::<Int32Type>().value(row)),
        DataType::Int64 => push(out, array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => push(out, array.as_primitive::<UInt8Type>().value(row)),
        DataType::UInt16 => push(out, array.as_primitive::<UInt16Type>().value(row)),
        DataType::UInt32 => push(out, array.as_primitive::<UInt32Type>().value(row)),
        DataType::UInt64 => push(out, array.as_primitive::<UInt64Type>().value(row)),
        DataType::Float32 => double(
            out,
            f64::from(array.as_primitive::<Float32Type>().value(row)),
        ),
        DataType::Float64 => double(out, array.as_primitive::<Float64Type>().value(row)),
        DataType::Timestamp(unit, _) => {
            let millis = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(row) * 1000,
                TimeUnit::Millisecond => {
                    array.as_primitive::<TimestampMillisecondType>().value(row)
                }
                TimeUnit::Microsecond => array
                    .as_primitive::<TimestampMicrosecondType>()
                    .value(row)
                    .div_euclid(1000),
                TimeUnit::Nanosecond => array
                    .as_primitive::<TimestampNanosecondType>()
                    .value(row)
                    .div_euclid(1_000_000),
            };
            timestamp(out, millis);
        }
        DataType::Date32 => out.push_str(&day_label(i64::from(
            array.as_primitive::<Date32Type>().value(row),
        ))),
        DataType::Struct(fields) => {
            let s = array.as_struct();
            out.push('{');
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(f.name());
                out.push('=');
                write(out, s.column(i).as_ref(), row);
            }
            out.push('}');
        }
        DataType::Map(_, _) => {
            let m = array.as_map();
            let entries = m.value(row);
            out.push('{');
            for i in 0..entries.len() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(out, entries.column(0).as_ref(), i);
                out.push('=');
                write(out, entries.column(1).as_ref(), i);
            }
            out.push('}');
        }
        DataType::List(_) => {
            let items = array.as_list::<i32>().value(row);
            list(out, items.as_ref());
        }
        DataType::LargeList(_) => {
            let items = array.as_list::<i64>().value(row);
            list(out, items.as_ref());
        }
        _ => {
            let options = FormatOptions::default();
            match ArrayFormatter::try_new(array, &options) {
                Ok(f) => {
                    let _ = write!(out, "{}", f.value(row));
                }
                Err(_) => out.push('?'),
            }
        }
    }
}

fn push(out: &mut String, n: impl std::fmt::Display) {
    use std::fmt::Write as _;
    let _ = write!(out, "{n}");
}

fn list(out: &mut String, items: &dyn Array) {
    out.push('[');
    for i in 0..items.len() {
        if i > 0 {
            out.push_str(", ");
        }
        write(out, items, i);
    }
    out.push(']');
}

/// Trino prints a double with a fraction digit (`2.0`) and large or small ones in E notation.
fn double(out: &mut String, v: f64) {
    use std::fmt::Write as _;
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
    } else if v != 0.0 && (v.abs() >= 1e7 || v.abs() < 1e-3) {
        let s = format!("{v:E}");
        // Rust writes 1E7; Trino 1.0E7.
        match s.split_once('E') {
            Some((m, e)) if !m.contains('.') => {
                let _ = write!(out, "{m}.0E{e}");
            }
            _ => out.push_str(&s),
        }
    } else {
        let _ = write!(out, "{v:?}");
    }
}

/// `YYYY-MM-DD HH:MM:SS.mmm`.
pub(crate) fn timestamp(out: &mut String, millis: i64) {
    use std::fmt::Write as _;
    let day = millis.div_euclid(86_400_000);
    let in_day = millis.rem_euclid(86_400_000);
    let (h, m, s, ms) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    let _ = write!(out, "{} {h:02}:{m:02}:{s:02}.{ms:03}", day_label(day));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::BatchBuilder;

    #[test]
    fn values_render_as_trino_prints_them() {
        let mut b = BatchBuilder::new();
        b.push(r#"{"eventTime":"2025-03-04T10:02:44Z","readOnly":true,"userIdentity":{"type":"IAMUser","arn":"a"},"requestParameters":{"bucketName":"b","n":1},"resources":[{"ARN":"r1"},{"type":"T"}]}"#).unwrap();
        let batch = b.finish();
        let col = |n: &str| value(batch.column_by_name(n).unwrap().as_ref(), 0);
        assert_eq!(col("eventtime").as_deref(), Some("2025-03-04 10:02:44.000"));
        assert_eq!(col("readonly").as_deref(), Some("true"));
        assert_eq!(col("errorcode"), None);
        assert_eq!(
            col("requestparameters").as_deref(),
            Some("{bucketName=b, n=1}")
        );
        assert_eq!(
            col("resources").as_deref(),
            Some(
                "[{accountid=null, type=null, arn=r1, arnprefix=null}, {accountid=null, type=T, arn=null, arnprefix=null}]"
            )
        );
        let identity = col("useridentity").unwrap();
        assert!(
            identity.starts_with("{type=IAMUser, principalid=null, arn=a, "),
            "{identity}"
        );
        assert!(identity.contains("sessioncontext=null"), "{identity}");
    }

    #[test]
    fn numbers_render_as_trino_prints_them() {
        let mut s = String::new();
        double(&mut s, 2.0);
        assert_eq!(s, "2.0");
        s.clear();
        double(&mut s, 1.5e10);
        assert_eq!(s, "1.5E10");
        s.clear();
        double(&mut s, 1e7);
        assert_eq!(s, "1.0E7");
        s.clear();
        timestamp(&mut s, -1);
        assert_eq!(s, "1969-12-31 23:59:59.999");
    }
}
