//! `InputTemplate`: finding `<name>` placeholders, and rendering values with AWS's quoting
//! (as recorded against AWS in LocalStack's snapshot tests):
//! - a template that starts with `{` or `[` is JSON: a bare `<x>` becomes the value as JSON
//!   (`"i-0123"`, `{"a":1}`, `["HIGH"]`; an unresolved path gives `""`), and inside a quoted
//!   string a value is inserted as raw text, unescaped;
//! - any other template (typically one quoted string, `"<n> happened"`) is text: strings go in
//!   raw, other values as their JSON with the double quotes removed (`[HIGH]`,
//!   `{acc_id:0a787ecb-4015,sf_id:baz}`), an unresolved path as nothing.

use serde_json::Value;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Literal(String),
    /// A placeholder and whether it sits inside a JSON string literal.
    Var {
        name: String,
        quoted: bool,
    },
}

/// Whether `c` may appear in a placeholder name (map keys, plus the dots of `aws.events.*`).
fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'
}

/// Splits a template into literals and placeholders, noting which are inside quotes.
pub(crate) fn pieces(template: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut literal = String::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        if c == '<'
            && let Some(end) = rest[1..].find('>')
        {
            let name = &rest[1..1 + end];
            if !name.is_empty() && name.chars().all(name_char) {
                if !literal.is_empty() {
                    out.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                out.push(Piece::Var {
                    name: name.to_owned(),
                    quoted: in_string,
                });
                rest = &rest[end + 2..];
                escaped = false;
                continue;
            }
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        }
        literal.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if !literal.is_empty() {
        out.push(Piece::Literal(literal));
    }
    out
}

/// A value inserted as text: strings raw, others as JSON.
pub(crate) fn raw_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value inserted into a text template: strings raw, others as JSON without double quotes.
pub(crate) fn text_form(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string().replace('"', ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_know_whether_they_are_quoted() {
        let p = pieces(r#"{"a": <x>, "b": "users/<y>", "c": "\"<z>"}"#);
        let vars: Vec<(String, bool)> = p
            .iter()
            .filter_map(|p| match p {
                Piece::Var { name, quoted } => Some((name.clone(), *quoted)),
                Piece::Literal(_) => None,
            })
            .collect();
        assert_eq!(
            vars,
            vec![("x".into(), false), ("y".into(), true), ("z".into(), true)]
        );
    }

    #[test]
    fn angle_brackets_that_are_not_placeholders_stay() {
        assert_eq!(
            pieces("a < b and c > d"),
            vec![Piece::Literal("a < b and c > d".into())]
        );
    }

    #[test]
    fn text_form_drops_quotes_of_structured_values() {
        assert_eq!(
            text_form(&json!({"acc_id": "0a787ecb-4015", "sf_id": "baz"})),
            "{acc_id:0a787ecb-4015,sf_id:baz}"
        );
        assert_eq!(
            text_form(&json!(["ACTIVE", "INACTIVE"])),
            "[ACTIVE,INACTIVE]"
        );
        assert_eq!(text_form(&json!(true)), "true");
        assert_eq!(raw_text(&json!("x")), "x");
    }
}
