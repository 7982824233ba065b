//! A query statement as Lake takes it: one SELECT (with WITH, UNION, joins, subqueries), the
//! event data stores named by their ids, bare (`FROM 1f0b…-…`) as Lake writes them. Anything
//! else is refused as `InvalidQueryStatementException` would be, before the engine sees it.
//!
//! Also works out the result's column labels the way Lake prints them: a column as the query
//! spells it (`eventID`), a struct member by its own name (`useridentity.arn` is `arn`), an
//! alias as given, and any other expression `_col<position>`.

use datafusion::sql::sqlparser::ast::{Expr, SelectItem, SetExpr, Statement};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// The longest statement Lake accepts.
pub const MAX_STATEMENT_CHARS: usize = 10_000;

/// A statement ready for the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The statement with every event data store id quoted.
    pub sql: String,
    /// The ids the statement names (lower case), in order of first appearance.
    pub stores: Vec<String>,
    /// Result labels, or None where the engine's own names are used (`*`).
    pub labels: Option<Vec<String>>,
}

/// Why a statement is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// Checks and rewrites `sql`.
pub fn prepare(sql: &str) -> Result<Prepared, Invalid> {
    prepare_naming(sql, &[])
}

/// Checks and rewrites `sql`, which may also name the tables in `names` (plain names such as
/// `events`, matched regardless of case, bare or quoted) besides event data store ids. Those
/// it names are listed in [`Prepared::stores`] as given in `names`.
pub fn prepare_naming(sql: &str, names: &[&str]) -> Result<Prepared, Invalid> {
    if sql.trim().is_empty() || sql.chars().count() > MAX_STATEMENT_CHARS {
        return Err(Invalid(format!(
            "The query statement must be 1 to {MAX_STATEMENT_CHARS} characters long."
        )));
    }
    let (quoted, stores) = quote_store_ids(sql, names);
    let quoted = member_access(&quoted);
    let statements = Parser::parse_sql(&GenericDialect {}, &quoted)
        .map_err(|e| Invalid(format!("Query statement has a syntax error: {e}")))?;
    let [statement] = statements.as_slice() else {
        return Err(Invalid(
            "Only one SELECT statement can be run at a time.".to_string(),
        ));
    };
    let Statement::Query(query) = statement else {
        return Err(Invalid("Only SELECT statements are supported.".to_string()));
    };
    if stores.is_empty() {
        return Err(Invalid(if names.is_empty() {
            "The query must name an event data store (FROM <event data store ID>).".to_string()
        } else {
            format!(
                "The query must name a table ({}) or an event data store (FROM <event data store ID>).",
                names.join(", ")
            )
        }));
    }
    let labels = match query.body.as_ref() {
        SetExpr::Select(select) => labels_of(&select.projection),
        _ => None,
    };
    Ok(Prepared {
        sql: quoted,
        stores,
        labels,
    })
}

fn labels_of(items: &[SelectItem]) -> Option<Vec<String>> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            SelectItem::UnnamedExpr(Expr::Identifier(id)) => Some(id.value.clone()),
            SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => {
                parts.last().map(|p| p.value.clone())
            }
            SelectItem::UnnamedExpr(_) => Some(format!("_col{i}")),
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
            _ => None,
        })
        .collect()
}

/// Quotes every bare event data store id (a UUID: 8-4-4-4-12 hex digits) outside strings and
/// quoted names, and lists them, with any of `names` the statement mentions.
fn quote_store_ids(sql: &str, names: &[&str]) -> (String, Vec<String>) {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 8);
    let mut stores: Vec<String> = Vec::new();
    let note = |word: &str, stores: &mut Vec<String>| {
        if let Some(n) = names.iter().find(|n| n.eq_ignore_ascii_case(word))
            && !stores.iter().any(|s| s == n)
        {
            stores.push((*n).to_string());
        }
    };
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"' | b'`') => {
                // Skip a quoted run (a doubled quote stays inside it).
                let start = i + 1;
                i += 1;
                while i < b.len() {
                    if b[i] == q {
                        if b.get(i + 1) == Some(&q) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                if q == b'"'
                    && let Some(inner) = sql.get(start..i)
                {
                    if is_uuid(inner) {
                        let id = inner.to_ascii_lowercase();
                        if !stores.contains(&id) {
                            stores.push(id);
                        }
                    } else {
                        note(inner, &mut stores);
                    }
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            c if c.is_ascii_hexdigit() && (i == 0 || !is_word(b[i - 1])) => {
                let end = i + 36;
                if let Some(candidate) = sql.get(i..end)
                    && is_uuid(candidate)
                    && b.get(end).is_none_or(|c| !is_word(*c))
                {
                    let id = candidate.to_ascii_lowercase();
                    out.push_str(&sql[copied..i]);
                    out.push('"');
                    out.push_str(&id);
                    out.push('"');
                    if !stores.contains(&id) {
                        stores.push(id);
                    }
                    i = end;
                    copied = end;
                } else {
                    let start = i;
                    while i < b.len() && is_word(b[i]) {
                        i += 1;
                    }
                    note(&sql[start..i], &mut stores);
                }
            }
            c if is_word(c) => {
                let start = i;
                while i < b.len() && is_word(b[i]) {
                    i += 1;
                }
                note(&sql[start..i], &mut stores);
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied..]);
    (out, stores)
}

/// Trino reads a member of a call's result (`element_at(resources, 1).arn`); the engine's
/// parser does not, so such access becomes `get_field(element_at(resources, 1), 'arn')`,
/// repeatedly for chains (`f(x).a.b`).
fn member_access(sql: &str) -> String {
    let mut text = sql.to_string();
    // Each pass rewrites the first access it finds; a statement has few.
    for _ in 0..64 {
        match first_member_access(&text) {
            Some((start, close, field_end)) => {
                let call = &text[start..=close];
                let field = &text[close + 2..field_end];
                text = format!(
                    "{}get_field({call}, '{}'){}",
                    &text[..start],
                    field.to_ascii_lowercase(),
                    &text[field_end..]
                );
            }
            None => break,
        }
    }
    text
}

/// The first `name(…).member` outside quotes: where the call starts, its closing parenthesis,
/// and where the member's name ends.
fn first_member_access(sql: &str) -> Option<(usize, usize, usize)> {
    let b = sql.as_bytes();
    let mut opens: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' => opens.push(i),
            b')' => {
                let open = opens.pop()?;
                if b.get(i + 1) == Some(&b'.')
                    && b.get(i + 2)
                        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
                {
                    let mut end = i + 2;
                    while end < b.len() && is_word(b[end]) {
                        end += 1;
                    }
                    let mut start = open;
                    while start > 0 && is_word(b[start - 1]) {
                        start -= 1;
                    }
                    return Some((start, i, end));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// 8-4-4-4-12 hex digits.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "1f0b3e1a-7d2c-4e5f-9a8b-0c1d2e3f4a5b";

    #[test]
    fn bare_ids_are_quoted_and_listed() {
        let p = prepare(&format!(
            "SELECT eventID, useridentity.arn, count(*), eventname AS n FROM {ID} WHERE eventname = '{ID}' -- {ID}\nGROUP BY 1, 2, 4"
        ))
        .unwrap();
        assert_eq!(p.stores, vec![ID.to_string()]);
        assert!(p.sql.contains(&format!("FROM \"{ID}\" WHERE")));
        assert!(
            p.sql.contains(&format!("= '{ID}'")),
            "strings are untouched"
        );
        assert_eq!(
            p.labels,
            Some(vec![
                "eventID".into(),
                "arn".into(),
                "_col2".into(),
                "n".into()
            ])
        );
    }

    #[test]
    fn quoted_and_upper_case_ids_count() {
        let p = prepare(&format!("SELECT * FROM \"{ID}\"")).unwrap();
        assert_eq!(p.stores, vec![ID.to_string()]);
        assert_eq!(p.labels, None);
        let upper = ID.to_ascii_uppercase();
        let p = prepare(&format!("SELECT a FROM {upper} x JOIN {ID} y ON x.a = y.a")).unwrap();
        assert_eq!(p.stores, vec![ID.to_string()]);
    }

    #[test]
    fn members_of_call_results_are_fields() {
        assert_eq!(
            member_access("SELECT element_at(resources, 1).arn, f(g(x)).A.b, 'x(1).y' FROM t"),
            "SELECT get_field(element_at(resources, 1), 'arn'), get_field(get_field(f(g(x)), 'a'), 'b'), 'x(1).y' FROM t"
        );
        assert_eq!(member_access("SELECT (1.5) FROM t"), "SELECT (1.5) FROM t");
    }

    #[test]
    fn only_one_select_is_taken() {
        for bad in [
            format!("DELETE FROM {ID}"),
            format!("DROP TABLE {ID}"),
            format!("SELECT 1 FROM {ID}; SELECT 2 FROM {ID}"),
            format!("INSERT INTO {ID} VALUES (1)"),
            "SELECT 1".to_string(),
            format!("SELEC * FROM {ID}"),
            String::new(),
            "x".repeat(MAX_STATEMENT_CHARS + 1),
        ] {
            assert!(prepare(&bad).is_err(), "{bad:.40}");
            assert!(prepare_naming(&bad, &["events"]).is_err(), "{bad:.40}");
        }
        assert!(
            prepare(&format!(
                "WITH t AS (SELECT * FROM {ID}) SELECT count(*) FROM t"
            ))
            .is_ok()
        );
        assert!(
            prepare(&format!(
                "SELECT eventname FROM {ID} UNION ALL SELECT eventname FROM {ID}"
            ))
            .is_ok()
        );
    }

    #[test]
    fn extra_table_names_are_allowed_and_listed() {
        let p = prepare_naming(
            "SELECT eventname, count(*) FROM Events WHERE eventname <> 'x' GROUP BY 1",
            &["events"],
        )
        .unwrap();
        assert_eq!(p.stores, vec!["events".to_string()]);
        assert_eq!(p.labels, Some(vec!["eventname".into(), "_col1".into()]));
        let p = prepare_naming(
            &format!("SELECT e.eventid FROM \"events\" e JOIN {ID} s ON e.eventid = s.eventid"),
            &["events"],
        )
        .unwrap();
        assert_eq!(p.stores, vec!["events".to_string(), ID.to_string()]);
        // Without the name, or naming it only inside a string or comment, nothing is named.
        assert!(prepare("SELECT * FROM events").is_err());
        assert!(prepare_naming("SELECT 'events' -- events", &["events"]).is_err());
        // A longer word is not the name.
        assert!(prepare_naming("SELECT * FROM events2", &["events"]).is_err());
    }
}
