//! Term patterns on unstructured text: required terms, `?` alternatives, `-` exclusions, quoted
//! phrases. Matching is a case-sensitive substring search.

use memchr::memmem::Finder;

use super::error::PatternError;

#[derive(Debug, Clone)]
pub struct Terms {
    required: Vec<Finder<'static>>,
    any: Vec<Finder<'static>>,
    excluded: Vec<Finder<'static>>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Required,
    Any,
    Excluded,
}

impl Terms {
    pub fn parse(src: &str) -> Result<Terms, PatternError> {
        let mut t = Terms {
            required: Vec::new(),
            any: Vec::new(),
            excluded: Vec::new(),
        };
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
            match kind {
                // An empty quoted term (`""`) is in every message.
                _ if term.is_empty() && kind != Kind::Excluded => {}
                Kind::Required => t.required.push(f),
                Kind::Any => t.any.push(f),
                Kind::Excluded => t.excluded.push(f),
            }
            kind = Kind::Required;
        }
        if kind != Kind::Required {
            return Err(PatternError::syntax("? or - without a term"));
        }
        Ok(t)
    }

    pub fn is_match(&self, msg: &str) -> bool {
        let m = msg.as_bytes();
        self.required.iter().all(|f| f.find(m).is_some())
            && (self.any.is_empty() || self.any.iter().any(|f| f.find(m).is_some()))
            && !self.excluded.iter().any(|f| f.find(m).is_some())
    }
}
