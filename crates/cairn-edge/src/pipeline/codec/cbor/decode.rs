//! CBOR → the JSON document model, as botocore's JSON serializer would have sent the same
//! input: byte strings become base64 text, tag-1 timestamps their epoch seconds, floats that
//! are not numbers `"NaN"`/`"Infinity"`/`"-Infinity"`. Indefinite-length items are joined.
//! Nesting is capped (like S3's XML) so that a hostile body cannot exhaust the stack.

use base64::Engine;
use minicbor::Decoder;
use minicbor::data::Type;
use serde_json::{Map, Number, Value};

/// The deepest nesting of maps and arrays accepted (as for S3's XML).
pub const MAX_DEPTH: usize = 32;

/// Why a body is not a CBOR document cairn accepts.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("the body is nested more than {MAX_DEPTH} levels deep")]
    TooDeep,
    #[error("the body is not valid CBOR: {0}")]
    Malformed(String),
    #[error("the body holds {0}, which no AWS shape has")]
    Unsupported(String),
    #[error("the body is not a CBOR map")]
    NotAMap,
    #[error("the body has bytes after its data item")]
    Trailing,
}

impl From<minicbor::decode::Error> for DecodeError {
    fn from(e: minicbor::decode::Error) -> DecodeError {
        DecodeError::Malformed(e.to_string())
    }
}

/// A request body: one CBOR map (an empty body is an empty input).
pub fn document(body: &[u8]) -> Result<Value, DecodeError> {
    if body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let mut d = Decoder::new(body);
    if !matches!(d.datatype()?, Type::Map | Type::MapIndef) {
        return Err(DecodeError::NotAMap);
    }
    let v = item(&mut d, 0)?;
    if d.position() != body.len() {
        return Err(DecodeError::Trailing);
    }
    Ok(v)
}

/// Any data item (public for the tests that read what cairn writes).
pub fn value(bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut d = Decoder::new(bytes);
    let v = item(&mut d, 0)?;
    if d.position() != bytes.len() {
        return Err(DecodeError::Trailing);
    }
    Ok(v)
}

/// Consumes a break byte if one is next (the end of an indefinite-length item).
fn at_break(d: &mut Decoder<'_>) -> Result<bool, DecodeError> {
    if d.datatype()? == Type::Break {
        d.set_position(d.position() + 1);
        return Ok(true);
    }
    Ok(false)
}

fn item(d: &mut Decoder<'_>, depth: usize) -> Result<Value, DecodeError> {
    let b64 = &base64::engine::general_purpose::STANDARD;
    Ok(match d.datatype()? {
        Type::Bool => Value::Bool(d.bool()?),
        Type::Null => {
            d.null()?;
            Value::Null
        }
        Type::Undefined => {
            d.undefined()?;
            Value::Null
        }
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => Value::from(d.u64()?),
        Type::I8 | Type::I16 | Type::I32 | Type::I64 => Value::from(d.i64()?),
        Type::Int => {
            // Only negative integers below i64::MIN land here.
            let i = i128::from(d.int()?);
            return Err(DecodeError::Unsupported(format!("the integer {i}")));
        }
        // Half and single floats are written as their shortest decimal, as a JSON client
        // would have sent the same number (0.1f32 is 0.1, not 0.10000000149011612).
        Type::F16 => {
            // 0xf9 and two bytes; minicbor decodes them only with the `half` crate.
            let at = d.position();
            let bits = match d.input().get(at + 1..at + 3) {
                Some(&[hi, lo]) => u16::from_be_bytes([hi, lo]),
                _ => return Err(DecodeError::Malformed("a truncated half float".into())),
            };
            d.set_position(at + 3);
            float(f64::from(half_to_f32(bits)))
        }
        Type::F32 => single(d.f32()?),
        Type::F64 => float(d.f64()?),
        Type::Bytes | Type::BytesIndef => {
            let mut all = Vec::new();
            for chunk in d.bytes_iter()? {
                all.extend_from_slice(chunk?);
            }
            Value::String(b64.encode(all))
        }
        Type::String | Type::StringIndef => {
            let mut all = String::new();
            for chunk in d.str_iter()? {
                all.push_str(chunk?);
            }
            Value::String(all)
        }
        Type::Array | Type::ArrayIndef => {
            if depth >= MAX_DEPTH {
                return Err(DecodeError::TooDeep);
            }
            let mut items = Vec::new();
            match d.array()? {
                Some(n) => {
                    for _ in 0..n {
                        items.push(item(d, depth + 1)?);
                    }
                }
                None => {
                    while !at_break(d)? {
                        items.push(item(d, depth + 1)?);
                    }
                }
            }
            Value::Array(items)
        }
        Type::Map | Type::MapIndef => {
            if depth >= MAX_DEPTH {
                return Err(DecodeError::TooDeep);
            }
            let mut map = Map::new();
            let mut entry = |d: &mut Decoder<'_>| -> Result<(), DecodeError> {
                let key = match item(d, depth + 1)? {
                    Value::String(k) => k,
                    other => return Err(DecodeError::Unsupported(format!("a map key {other}"))),
                };
                let v = item(d, depth + 1)?;
                map.insert(key, v);
                Ok(())
            };
            match d.map()? {
                Some(n) => {
                    for _ in 0..n {
                        entry(d)?;
                    }
                }
                None => {
                    while !at_break(d)? {
                        entry(d)?;
                    }
                }
            }
            Value::Object(map)
        }
        Type::Tag => {
            let tag = d.tag()?;
            // Tag 1: epoch seconds, an integer or a float; the document holds the number.
            if u64::from(tag) != 1 {
                return Err(DecodeError::Unsupported(format!(
                    "CBOR tag {}",
                    u64::from(tag)
                )));
            }
            match item(d, depth + 1)? {
                n @ Value::Number(_) => n,
                other => return Err(DecodeError::Unsupported(format!("a timestamp {other}"))),
            }
        }
        Type::Break => return Err(DecodeError::Malformed("an unexpected break".into())),
        other => return Err(DecodeError::Unsupported(format!("a CBOR {other}"))),
    })
}

/// A float in the document: a number, or the string botocore's JSON serializer sends for
/// the values JSON has no number for.
fn float(f: f64) -> Value {
    if f.is_nan() {
        Value::String("NaN".into())
    } else if f.is_infinite() {
        Value::String(if f > 0.0 { "Infinity" } else { "-Infinity" }.into())
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

/// A half or single float, by its shortest decimal.
fn single(f: f32) -> Value {
    match f.to_string().parse::<f64>() {
        Ok(v) if f.is_finite() => float(v),
        _ => float(f64::from(f)),
    }
}

/// An IEEE 754 half-precision float, widened.
fn half_to_f32(bits: u16) -> f32 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((bits >> 10) & 0x1f);
    let frac = f32::from(bits & 0x3ff);
    sign * match exp {
        0 => frac * 2f32.powi(-24),
        31 if frac == 0.0 => f32::INFINITY,
        31 => f32::NAN,
        e => (1.0 + frac / 1024.0) * 2f32.powi(e - 15),
    }
}
