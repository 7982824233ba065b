//! Pattern errors: AWS's reason texts, with Jackson's `at [Source: …]` location suffix where
//! EventBridge prints one.

use std::fmt::Write;

/// A pattern EventBridge refuses; `reason` is the text after
/// `Event pattern is not valid. Reason: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Event pattern is not valid. Reason: {reason}")]
pub struct PatternError {
    pub reason: String,
}

/// Jackson truncates the quoted source after this many UTF-16 units.
const MAX_CONTENT_SNIPPET: usize = 500;

/// A failure while compiling, before its location is rendered.
#[derive(Debug, Clone)]
pub(crate) struct Fault {
    /// The message, possibly already carrying an inner location (event-ruler re-wraps some
    /// parser exceptions, and AWS then prints two locations).
    message: String,
    /// Byte offset of Jackson's "current location"; `None` for errors raised outside the
    /// parser (CIDR, wildcard complexity), which AWS prints bare.
    at: Option<usize>,
}

impl Fault {
    pub(crate) fn at(message: String, at: usize) -> Fault {
        Fault {
            message,
            at: Some(at),
        }
    }

    pub(crate) fn bare(message: impl Into<String>) -> Fault {
        Fault {
            message: message.into(),
            at: None,
        }
    }

    /// event-ruler's `catch (IOException e) { barf(parser, e.getMessage()) }`: the inner message
    /// keeps its own location and gains the current one.
    pub(crate) fn rewrap(self, src: &str, at: usize) -> Fault {
        Fault {
            message: self.render(src),
            at: Some(at),
        }
    }

    /// Whether this is one of event-ruler's refusals of a malformed `$or`.
    pub(crate) fn is_or_refusal(&self) -> bool {
        self.message.contains("$or")
    }

    pub(crate) fn render(&self, src: &str) -> String {
        match self.at {
            None => self.message.clone(),
            Some(at) => format!("{}\n at {}", self.message, source_location(src, at)),
        }
    }

    pub(crate) fn into_error(self, src: &str) -> PatternError {
        PatternError {
            reason: self.render(src),
        }
    }
}

/// `[Source: (String)"…"; line: L, column: C]` for byte offset `at` of `src`, counting lines as
/// Jackson does and columns in UTF-16 units from 1.
pub(crate) fn source_location(src: &str, at: usize) -> String {
    let at = at.min(src.len());
    let head = src.get(..at).unwrap_or(src);
    let mut line = 1;
    let mut row_start = 0;
    let bytes = head.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                line += 1;
                row_start = i + 1;
            }
            b'\r' => {
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                line += 1;
                row_start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let column = head
        .get(row_start..)
        .unwrap_or_default()
        .encode_utf16()
        .count()
        + 1;
    let mut out = String::from("[Source: (String)\"");
    let units: Vec<u16> = src.encode_utf16().collect();
    if units.len() > MAX_CONTENT_SNIPPET {
        out.push_str(&String::from_utf16_lossy(&units[..MAX_CONTENT_SNIPPET]));
        let _ = write!(
            out,
            "\"[truncated {} chars]",
            units.len() - MAX_CONTENT_SNIPPET
        );
    } else {
        out.push_str(src);
        out.push('"');
    }
    let _ = write!(out, "; line: {line}, column: {column}]");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_counts_lines_and_columns() {
        assert_eq!(
            source_location("{\n  \"a\": 1}", 9),
            "[Source: (String)\"{\n  \"a\": 1}\"; line: 2, column: 8]"
        );
    }

    #[test]
    fn long_sources_are_truncated_like_jackson() {
        let src = "x".repeat(510);
        let loc = source_location(&src, 1);
        assert!(loc.ends_with("\"[truncated 10 chars]; line: 1, column: 2]"));
        assert_eq!(loc.matches('x').count(), 500);
    }
}
