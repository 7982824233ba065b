//! Policy variables (`${aws:username}`), resolved from the request context.
//!
//! Only `2012-10-17` documents have variables; older ones take `${…}` literally. What a
//! variable resolves to is literal text: a user named `a*` matches only `a*`, never `ab`. That
//! is why a resolved value is kept apart from the policy's own text, whose `*` and `?` stay
//! wildcards. The escapes `${*}`, `${?}` and `${$}` are literal `*`, `?` and `$` for the same
//! reason.
//!
//! A variable resolves to nothing when its key is absent or multi-valued and it has no
//! default (`${key, 'default'}`, where `''` is a quote), or when it is not well formed. A value
//! holding such a variable matches nothing, as AWS documents ("does not match any resource
//! and condition key that contains" it).

use crate::context::Context;

/// A run of a policy value after its variables are resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text as the policy wrote it: `*` and `?` in it are wildcards where the element allows.
    Policy(&'a str),
    /// Text a variable or an escape produced: always literal.
    Literal(String),
}

/// Splits `text` into policy text and resolved variables; `None` when a variable cannot be
/// resolved.
pub fn resolve<'a>(text: &'a str, ctx: &Context) -> Option<Vec<Piece<'a>>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            out.push(Piece::Policy(&rest[..start]));
        }
        let (value, after) = variable(&rest[start + 2..], ctx)?;
        out.push(Piece::Literal(value));
        rest = after;
    }
    if !rest.is_empty() {
        out.push(Piece::Policy(rest));
    }
    Some(out)
}

/// The text of `text` with its variables resolved, wildcards and all taken literally (for
/// operators that compare whole values).
pub fn resolve_text(text: &str, ctx: &Context) -> Option<String> {
    resolve(text, ctx).map(|p| text_of(&p))
}

/// Resolved pieces put back together as plain text.
pub fn text_of(pieces: &[Piece<'_>]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Policy(s) => *s,
            Piece::Literal(s) => s.as_str(),
        })
        .collect()
}

/// One variable, from just after `${`: its value and the text after its `}`.
fn variable<'a>(body: &'a str, ctx: &Context) -> Option<(String, &'a str)> {
    let end_of_key = body.find([',', '}'])?;
    let key = body[..end_of_key].trim();
    let (default, after) = if body[end_of_key..].starts_with(',') {
        let (d, after) = quoted_default(&body[end_of_key + 1..])?;
        (Some(d), after)
    } else {
        (None, &body[end_of_key + 1..])
    };
    let value = match key {
        "" => return None,
        "*" | "?" | "$" if default.is_none() => key.to_owned(),
        _ => match ctx.get(key) {
            Some([one]) => one.clone(),
            _ => default?,
        },
    };
    Some((value, after))
}

/// `'text'` (with `''` for a quote) and the closing `}`, after the comma.
fn quoted_default(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start().strip_prefix('\'')?;
    let mut value = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\'' {
            value.push(c);
            continue;
        }
        if s[i + 1..].starts_with('\'') {
            value.push('\'');
            chars.next();
            continue;
        }
        let after = s[i + 1..].trim_start().strip_prefix('}')?;
        return Some((value, after));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        let mut c = Context::new();
        c.set("aws:username", "alice")
            .set_many("aws:TagKeys", vec!["a".into(), "b".into()]);
        c
    }

    #[test]
    fn resolves_keys_defaults_and_escapes() {
        let c = ctx();
        let r = |t: &str| resolve_text(t, &c);
        assert_eq!(r("home/${aws:username}/").as_deref(), Some("home/alice/"));
        assert_eq!(r("${AWS:UserName}").as_deref(), Some("alice"));
        assert_eq!(r("${ aws:username }").as_deref(), Some("alice"));
        assert_eq!(r("${aws:userid}"), None);
        assert_eq!(r("${aws:userid, 'none'}").as_deref(), Some("none"));
        assert_eq!(r("${aws:userid,'it''s'}").as_deref(), Some("it's"));
        assert_eq!(r("${aws:userid, 'a}b'}").as_deref(), Some("a}b"));
        assert_eq!(r("${aws:username, 'x'}").as_deref(), Some("alice"));
        // Multi-valued keys cannot be variables.
        assert_eq!(r("${aws:TagKeys}"), None);
        assert_eq!(r("${aws:TagKeys, 'd'}").as_deref(), Some("d"));
        assert_eq!(r("a${*}b${?}c${$}").as_deref(), Some("a*b?c$"));
        assert_eq!(r("no variables").as_deref(), Some("no variables"));
        assert_eq!(r("cost $5").as_deref(), Some("cost $5"));
        // Not well formed.
        assert_eq!(r("${aws:username"), None);
        assert_eq!(r("${}"), None);
        assert_eq!(r("${aws:userid, none}"), None);
        assert_eq!(r("${aws:userid, 'open}"), None);
    }

    #[test]
    fn resolved_values_are_literal_pieces() {
        let c = ctx();
        assert_eq!(
            resolve("arn:*:${aws:username}/${*}", &c),
            Some(vec![
                Piece::Policy("arn:*:"),
                Piece::Literal("alice".into()),
                Piece::Policy("/"),
                Piece::Literal("*".into()),
            ])
        );
    }
}
