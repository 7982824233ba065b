//! Bindings between HTTP and the JSON document model: the members a route binds to labels,
//! the query string, headers, the status and a payload, read into one document on the way in
//! and taken back out of it on the way out.

use base64::Engine;
use cairn_wire::AwsError;
use serde_json::{Map, Value};

use super::route::{At, Kind, Matched, Payload, PayloadKind};

/// The deepest nesting of a JSON body accepted (as for S3's XML and CBOR).
pub const MAX_DEPTH: usize = 32;

fn serialization(message: impl Into<String>) -> AwsError {
    AwsError::client("SerializationException", message)
}

/// How deeply a JSON text nests its arrays and objects (strings skipped), counted before it
/// is parsed so that a hostile body is refused without building anything.
pub fn json_depth(body: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0, false, false);
    for &b in body {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// A bound text as a document value of its kind.
fn typed(text: &str, kind: Kind, member: &str) -> Result<Value, AwsError> {
    let bad = || serialization(format!("Invalid value for {member}: {text}"));
    Ok(match kind {
        Kind::String => Value::String(text.to_owned()),
        Kind::Integer => Value::from(text.trim().parse::<i64>().map_err(|_| bad())?),
        Kind::Double => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(bad)?,
        Kind::Boolean => match text.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad()),
        },
        Kind::List => Value::Array(
            text.split(',')
                .map(|s| Value::String(s.trim().to_owned()))
                .collect(),
        ),
    })
}

/// The body's part of the input: its members, or the payload member.
fn body_document(payload: Option<Payload>, body: &[u8]) -> Result<Map<String, Value>, AwsError> {
    let parse_json = |body: &[u8]| -> Result<Value, AwsError> {
        if json_depth(body) > MAX_DEPTH {
            return Err(serialization(format!(
                "The request body is nested more than {MAX_DEPTH} levels deep."
            )));
        }
        serde_json::from_slice(body)
            .map_err(|e| serialization(format!("The request body is not valid JSON: {e}")))
    };
    let mut doc = Map::new();
    match payload {
        _ if body.is_empty() => {}
        None => match parse_json(body)? {
            Value::Object(m) => doc = m,
            _ => {
                return Err(serialization(
                    "Start of structure or map found where not expected.",
                ));
            }
        },
        Some(Payload { member, kind }) => {
            let v = match kind {
                PayloadKind::Blob => {
                    Value::String(base64::engine::general_purpose::STANDARD.encode(body))
                }
                PayloadKind::String => Value::String(
                    String::from_utf8(body.to_vec())
                        .map_err(|_| serialization("The request body is not UTF-8."))?,
                ),
                PayloadKind::Structure => parse_json(body)?,
            };
            doc.insert(member.to_owned(), v);
        }
    }
    Ok(doc)
}

/// One document from every part of a request the route binds.
pub fn input(
    matched: &Matched,
    query: &[(String, String)],
    headers: &http::HeaderMap,
    body: &[u8],
) -> Result<Value, AwsError> {
    let route = matched.route;
    let mut doc = body_document(route.input_payload, body)?;
    for b in route.input {
        let value = match b.at {
            At::Label(name) => match matched.labels.iter().find(|(n, _)| *n == name) {
                Some((_, v)) => Some(typed(v, b.kind, b.member)?),
                None => None,
            },
            At::Query(name) => {
                let mut values = query.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
                if b.kind == Kind::List {
                    let all: Vec<Value> = values.map(|v| Value::String(v.clone())).collect();
                    (!all.is_empty()).then_some(Value::Array(all))
                } else {
                    match values.next() {
                        Some(v) => Some(typed(v, b.kind, b.member)?),
                        None => None,
                    }
                }
            }
            At::Header(name) => match headers.get(name) {
                Some(v) => {
                    let text = v
                        .to_str()
                        .map_err(|_| serialization(format!("Invalid header {name}")))?;
                    Some(typed(text, b.kind, b.member)?)
                }
                None => None,
            },
            At::Status => None,
        };
        if let Some(v) = value {
            doc.insert(b.member.to_owned(), v);
        }
    }
    Ok(Value::Object(doc))
}

/// An answer taken apart: its status, headers and body.
pub struct Parts {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// Whether the body is the raw bytes of a blob payload (not JSON).
    pub raw: bool,
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(text_of)
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    }
}

/// The parts of an answer, from the handler's document.
pub fn output(matched_route: &super::route::Route, out: Value) -> Parts {
    let mut doc = match out {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let mut status = matched_route.status;
    let mut headers = Vec::new();
    for b in matched_route.output {
        let Some(v) = doc.remove(b.member) else {
            continue;
        };
        match b.at {
            At::Status => {
                if let Some(s) = v.as_u64().and_then(|s| u16::try_from(s).ok()) {
                    status = s;
                }
            }
            At::Header(name) => {
                if let Some(t) = text_of(&v) {
                    headers.push((name, t));
                }
            }
            // Labels and query strings bind requests only.
            At::Label(_) | At::Query(_) => {}
        }
    }
    let (body, raw) = match matched_route.output_payload {
        Some(Payload { member, kind }) => match (kind, doc.remove(member)) {
            (_, None | Some(Value::Null)) => (Vec::new(), kind == PayloadKind::Blob),
            (PayloadKind::Blob, Some(Value::String(s))) => (
                base64::engine::general_purpose::STANDARD
                    .decode(&s)
                    .unwrap_or_else(|_| s.into_bytes()),
                true,
            ),
            (PayloadKind::String, Some(Value::String(s))) => (s.into_bytes(), true),
            (_, Some(v)) => (serde_json::to_vec(&v).unwrap_or_default(), false),
        },
        // A 204 has no body; any other answer is at least `{}`.
        None if status == 204 => (Vec::new(), false),
        None => (
            serde_json::to_vec(&Value::Object(doc)).unwrap_or_else(|_| b"{}".to_vec()),
            false,
        ),
    };
    Parts {
        status,
        headers,
        body,
        raw,
    }
}
