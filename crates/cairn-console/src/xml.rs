//! Reading query-protocol answers (IAM's): the result element's XML as JSON, so pages and
//! templates read `Users`, `UserName` the way they read JSON services' answers.
//!
//! An element with only `member` children becomes an array, one with other children an
//! object, a leaf its text. An empty list (`<Users/>`) is an empty string: read lists with
//! [`list`].

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Map, Value};

/// An element being read: its name, its children so far, its text so far.
struct Open {
    name: String,
    kids: Vec<(String, Value)>,
    text: String,
}

/// The JSON of a result's inner XML (several elements side by side, as IAM answers them).
pub fn to_json(fragment: &str) -> Value {
    let wrapped = format!("<r>{fragment}</r>");
    let mut reader = Reader::from_str(&wrapped);
    let mut open: Vec<Open> = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => open.push(Open {
                name: name_of(e.name().as_ref()),
                kids: Vec::new(),
                text: String::new(),
            }),
            Ok(Event::Empty(e)) => {
                if let Some(top) = open.last_mut() {
                    top.kids
                        .push((name_of(e.name().as_ref()), Value::String(String::new())));
                }
            }
            Ok(Event::Text(t)) => {
                if let (Some(top), Ok(text)) = (open.last_mut(), t.unescape()) {
                    top.text.push_str(&text);
                }
            }
            Ok(Event::CData(c)) => {
                if let Some(top) = open.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&c));
                }
            }
            Ok(Event::End(_)) => {
                let Some(done) = open.pop() else {
                    break;
                };
                let v = value_of(done.kids, done.text);
                match open.last_mut() {
                    Some(parent) => parent.kids.push((done.name, v)),
                    None => return v,
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    Value::Null
}

fn name_of(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

fn value_of(kids: Vec<(String, Value)>, text: String) -> Value {
    if kids.is_empty() {
        return Value::String(text);
    }
    if kids.iter().all(|(n, _)| n == "member") {
        return Value::Array(kids.into_iter().map(|(_, v)| v).collect());
    }
    let mut m = Map::new();
    for (k, v) in kids {
        m.insert(k, v);
    }
    Value::Object(m)
}

/// The list under `key` (empty when it is absent or empty).
pub fn list(v: &Value, key: &str) -> Vec<Value> {
    v.get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The text at a path of keys ("" when absent).
pub fn text<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut at = v;
    for k in path {
        match at.get(k) {
            Some(next) => at = next,
            None => return "",
        }
    }
    at.as_str().unwrap_or_default()
}

/// A policy document as IAM answers it (URL-encoded), decoded and, when it is JSON,
/// indented for reading.
pub fn document(encoded: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(encoded)
        .decode_utf8_lossy()
        .into_owned();
    serde_json::from_str::<Value>(&decoded)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or(decoded)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn results_become_json() {
        let v = to_json(
            "<Users><member><Path>/</Path><UserName>a&amp;b</UserName></member><member><UserName>c</UserName><Tags/></member></Users><IsTruncated>false</IsTruncated>",
        );
        let users = list(&v, "Users");
        assert_eq!(users.len(), 2);
        assert_eq!(text(&users[0], &["UserName"]), "a&b");
        assert_eq!(text(&v, &["IsTruncated"]), "false");
        assert!(list(&to_json("<Users/>"), "Users").is_empty());
        assert!(list(&to_json("<Users></Users>"), "Users").is_empty());
        let one = to_json("<User><UserName>x</UserName></User>");
        assert_eq!(text(&one, &["User", "UserName"]), "x");
        assert_eq!(text(&one, &["User", "Nope"]), "");
    }

    #[test]
    fn documents_are_decoded_and_indented() {
        let d = document("%7B%22Version%22%3A%222012-10-17%22%7D");
        assert!(d.contains("\"Version\": \"2012-10-17\""));
        assert_eq!(document("not%20json"), "not json");
    }
}
