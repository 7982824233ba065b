//! Term patterns on unstructured text: terms, quoted phrases, `?` alternatives, `-` exclusions.
//! Matching is a case-sensitive substring search.
//!
//! `?` opens an alternative and the plain terms after it belong to that alternative: AWS's own
//! CDK renders "any of these term groups" as `?"ERROR" "MainThread" ?"WARN" "Deadlock"`, i.e.
//! (ERROR and MainThread) or (WARN and Deadlock). Terms before the first `?` form one more
//! alternative [I: undocumented]. Without `?` there is one group: every term must occur and no
//! `-` term may.

use memchr::memmem::Finder;

use super::error::PatternError;

/// The pattern as alternatives; a message matches if one group matches.
#[derive(Debug, Clone)]
pub struct Terms {
    groups: Vec<Group>,
}

#[derive(Debug, Clone, Default)]
struct Group {
    required: Vec<Finder<'static>>,
    excluded: Vec<Finder<'static>>,
}

impl Group {
    fn is_match(&self, m: &[u8]) -> bool {
        self.required.iter().all(|f| f.find(m).is_some())
            && !self.excluded.iter().any(|f| f.find(m).is_some())
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Required,
    Any,
    Excluded,
}

impl Terms {
    pub fn parse(src: &str) -> Result<Terms, PatternError> {
        let mut groups: Vec<Group> = vec![Group::default()];
        let mut it = src.chars().peekable();
        let mut kind = Kind::Required;
        loop {
            while it.peek().is_some_and(|c| c.is_whitespace()) {
                it.next();
            }
            let Some(&c) = it.peek() else { break };
            // `?` and `-` may stand apart from their term (`- "term"`).
            if (c == '?' || c == '-') && kind == Kind::Required {
                it.next();
                kind = if c == '?' { Kind::Any } else { Kind::Excluded };
                continue;
            }
            let mut term = String::new();
            if c == '"' {
                it.next();
                let mut closed = false;
                while let Some(c) = it.next() {
                    match c {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => term.push(
                            it.next()
                                .ok_or_else(|| PatternError::syntax("dangling \\"))?,
                        ),
                        c => term.push(c),
                    }
                }
                if !closed {
                    return Err(PatternError::syntax("unterminated quoted term"));
                }
            } else {
                while let Some(&c) = it.peek() {
                    if c.is_whitespace() || c == '"' {
                        break;
                    }
                    term.push(c);
                    it.next();
                }
            }
            let f = Finder::new(term.as_bytes()).into_owned();
            if kind == Kind::Any {
                groups.push(Group::default());
            }
            let g = groups
                .last_mut()
                .ok_or_else(|| PatternError::syntax("no term group"))?;
            match kind {
                // An empty quoted term (`""`) is in every message.
                _ if term.is_empty() && kind != Kind::Excluded => {}
                Kind::Required | Kind::Any => g.required.push(f),
                Kind::Excluded => g.excluded.push(f),
            }
            kind = Kind::Required;
        }
        if kind != Kind::Required {
            return Err(PatternError::syntax("? or - without a term"));
        }
        // The group before the first `?` is an alternative only if it holds terms.
        if groups.len() > 1 && groups[0].required.is_empty() && groups[0].excluded.is_empty() {
            groups.remove(0);
        }
        Ok(Terms { groups })
    }

    pub fn is_match(&self, msg: &str) -> bool {
        let m = msg.as_bytes();
        self.groups.iter().any(|g| g.is_match(m))
    }
}
