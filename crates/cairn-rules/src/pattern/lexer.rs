//! A streaming JSON tokenizer that fails, and reports positions, the way Jackson's
//! `ReaderBasedJsonParser` does, because EventBridge's `InvalidEventPatternException` reasons are
//! Jackson messages followed by Jackson's `at [Source: (String)"…"; line: L, column: C]`.
//!
//! Two Jackson habits matter for the column numbers AWS prints:
//! - after a field name, Jackson has already read the start of the value (all of a number or
//!   literal, the bracket of a container, only the opening quote of a string);
//! - a string value is read lazily: until its text is asked for, the position is just after its
//!   opening quote.

use super::error::Fault;

/// Jackson's list of what a value may be, as it appears in its messages.
const VALID_VALUES: &str =
    "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";
/// Jackson stops collecting an unrecognized token at this length.
const MAX_ERROR_TOKEN_LENGTH: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    StartObject,
    EndObject,
    StartArray,
    EndArray,
    FieldName,
    Str,
    Num {
        float: bool,
    },
    True,
    False,
    Null,
    /// End of input at the top level (Jackson's `null` token).
    End,
}

impl Tok {
    pub(crate) fn is_numeric(self) -> bool {
        matches!(self, Tok::Num { .. })
    }
}

/// A token with the span it occupies and its decoded text.
#[derive(Debug, Clone)]
struct Scanned {
    tok: Tok,
    start: usize,
    end: usize,
    text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A value at the top level.
    RootValue,
    /// After the root value: Jackson would read further values; event-ruler never asks.
    RootDone,
    /// Just after `{`: a field name or `}`.
    FirstName,
    /// After a member: `,` or `}`.
    ObjectComma,
    /// Just after `[`: a value or `]`.
    FirstElement,
    /// After an element: `,` or `]`.
    ArrayComma,
}

/// Deepest nesting of objects and arrays a pattern may have: Jackson's default
/// `StreamReadConstraints` maximum (since 2.15). [I] That EventBridge's parser applies it.
pub(crate) const MAX_NESTING_DEPTH: usize = 1000;

pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    /// Open containers: (is an object, offset of the bracket).
    stack: Vec<(bool, usize)>,
    expect: Expect,
    current: Scanned,
    /// The value already read after a field name, handed out by the next `next_token`.
    pending: Option<Scanned>,
    /// Whether the current string token has been read to its closing quote.
    completed: bool,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Lexer {
            src,
            pos: 0,
            stack: Vec::new(),
            expect: Expect::RootValue,
            current: Scanned {
                tok: Tok::End,
                start: 0,
                end: 0,
                text: String::new(),
            },
            pending: None,
            completed: true,
        }
    }

    /// The whole input, for error locations.
    pub(crate) fn source(&self) -> &'a str {
        self.src
    }

    /// Jackson's "current location" as a byte offset.
    pub(crate) fn location(&self) -> usize {
        if self.current.tok == Tok::FieldName {
            return match &self.pending {
                Some(v) if v.tok == Tok::Str => v.start + 1,
                Some(v) => v.end,
                None => self.current.end,
            };
        }
        if self.current.tok == Tok::Str && !self.completed {
            return self.current.start + 1;
        }
        self.current.end
    }

    /// The text of the current token (field name, decoded string, number as written, or the
    /// literal); asking completes a lazily read string, as Jackson's `getText` does.
    pub(crate) fn text(&mut self) -> &str {
        self.completed = true;
        &self.current.text
    }

    /// The current token's text without moving the location.
    pub(crate) fn peek_text(&self) -> &str {
        &self.current.text
    }

    pub(crate) fn next_token(&mut self) -> Result<Tok, Fault> {
        let next = match self.pending.take() {
            Some(v) => v,
            None => self.scan()?,
        };
        self.completed = next.tok != Tok::Str;
        self.current = next;
        Ok(self.current.tok)
    }

    fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    fn skip_ws(&mut self) -> Result<Option<u8>, Fault> {
        let b = self.bytes();
        while let Some(&c) = b.get(self.pos) {
            match c {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'/' | b'#' => {
                    return Err(self.unexpected_char(
                        self.pos,
                        "maybe a (non-standard) comment? (not recognized as one since Feature 'ALLOW_COMMENTS' not enabled for parser)",
                    ));
                }
                _ => return Ok(Some(c)),
            }
        }
        Ok(None)
    }

    fn scan(&mut self) -> Result<Scanned, Fault> {
        match self.expect {
            Expect::RootDone => {
                // event-ruler stops at the end of the root object; nothing after it is read.
                Ok(self.simple(Tok::End, self.pos, self.pos))
            }
            Expect::RootValue => {
                let Some(_) = self.skip_ws()? else {
                    return Ok(self.simple(Tok::End, self.pos, self.pos));
                };
                let v = self.scan_value()?;
                if !matches!(v.tok, Tok::StartObject | Tok::StartArray) {
                    self.expect = Expect::RootDone;
                }
                Ok(v)
            }
            Expect::FirstName | Expect::ObjectComma => {
                let Some(c) = self.skip_ws()? else {
                    return Err(self.eof_in_container());
                };
                if c == b'}' {
                    self.pos += 1;
                    return Ok(self.close(Tok::EndObject));
                }
                if self.expect == Expect::ObjectComma {
                    if c != b',' {
                        return Err(self.unexpected_char(
                            self.pos,
                            "was expecting comma to separate Object entries",
                        ));
                    }
                    self.pos += 1;
                    let Some(_) = self.skip_ws()? else {
                        return Err(self.eof_in_container());
                    };
                }
                self.scan_member()
            }
            Expect::FirstElement | Expect::ArrayComma => {
                let Some(c) = self.skip_ws()? else {
                    return Err(self.eof_in_container());
                };
                if c == b']' {
                    self.pos += 1;
                    return Ok(self.close(Tok::EndArray));
                }
                if self.expect == Expect::ArrayComma {
                    if c != b',' {
                        return Err(self.unexpected_char(
                            self.pos,
                            "was expecting comma to separate Array entries",
                        ));
                    }
                    self.pos += 1;
                    if self.skip_ws()?.is_none() {
                        return Err(self.eof_in_container());
                    }
                }
                let v = self.scan_value()?;
                if !matches!(v.tok, Tok::StartObject | Tok::StartArray) {
                    self.expect = Expect::ArrayComma;
                }
                Ok(v)
            }
        }
    }

    /// A field name, its colon, and the start of its value (kept as `pending`).
    fn scan_member(&mut self) -> Result<Scanned, Fault> {
        let start = self.pos;
        if self.bytes().get(self.pos) != Some(&b'"') {
            return Err(
                self.unexpected_char(self.pos, "was expecting double-quote to start field name")
            );
        }
        let name = self.scan_string()?;
        let name_end = self.pos;
        match self.skip_ws()? {
            Some(b':') => self.pos += 1,
            Some(_) => {
                return Err(self.unexpected_char(
                    self.pos,
                    "was expecting a colon to separate field name and value",
                ));
            }
            None => return Err(self.eof_between()),
        }
        if self.skip_ws()?.is_none() {
            return Err(self.eof_between());
        }
        // The member is done once its value is; containers reset this when they close.
        self.expect = Expect::ObjectComma;
        let value = self.scan_value()?;
        self.pending = Some(value);
        Ok(Scanned {
            tok: Tok::FieldName,
            start,
            end: name_end,
            text: name,
        })
    }

    fn simple(&self, tok: Tok, start: usize, end: usize) -> Scanned {
        Scanned {
            tok,
            start,
            end,
            text: self.src.get(start..end).unwrap_or_default().to_owned(),
        }
    }

    fn close(&mut self, tok: Tok) -> Scanned {
        self.stack.pop();
        self.expect = match self.stack.last() {
            None => Expect::RootDone,
            Some((true, _)) => Expect::ObjectComma,
            Some((false, _)) => Expect::ArrayComma,
        };
        self.simple(tok, self.pos - 1, self.pos)
    }

    /// A value starting at `self.pos` (whitespace already skipped).
    fn scan_value(&mut self) -> Result<Scanned, Fault> {
        let start = self.pos;
        let Some(&c) = self.bytes().get(start) else {
            return Err(self.eof_in_container());
        };
        match c {
            b'{' => {
                self.open()?;
                self.pos += 1;
                self.stack.push((true, start));
                self.expect = Expect::FirstName;
                Ok(self.simple(Tok::StartObject, start, self.pos))
            }
            b'[' => {
                self.open()?;
                self.pos += 1;
                self.stack.push((false, start));
                self.expect = Expect::FirstElement;
                Ok(self.simple(Tok::StartArray, start, self.pos))
            }
            b'"' => {
                let text = self.scan_string()?;
                Ok(Scanned {
                    tok: Tok::Str,
                    start,
                    end: self.pos,
                    text,
                })
            }
            b'-' | b'0'..=b'9' => self.scan_number(),
            b't' => self.scan_literal("true", Tok::True),
            b'f' => self.scan_literal("false", Tok::False),
            b'n' => self.scan_literal("null", Tok::Null),
            b']' | b'}' => Err(self.unexpected_char(start, "expected a value")),
            _ => {
                let ch = self.char_at(start);
                if ch.is_alphabetic() || ch == '_' || ch == '$' {
                    Err(self.invalid_token(start))
                } else {
                    Err(self
                        .unexpected_char(start, &format!("expected a valid value {VALID_VALUES}")))
                }
            }
        }
    }

    /// Refuses a container opened past [`MAX_NESTING_DEPTH`], as Jackson's
    /// `StreamReadConstraints` does (bare: Jackson gives the refusal no location). The
    /// compiler's recursion follows the nesting, so this bounds its stack use.
    fn open(&self) -> Result<(), Fault> {
        let depth = self.stack.len() + 1;
        if depth > MAX_NESTING_DEPTH {
            return Err(Fault::bare(format!(
                "Document nesting depth ({depth}) exceeds the maximum allowed \
                 ({MAX_NESTING_DEPTH}, from `StreamReadConstraints.getMaxNestingDepth()`)"
            )));
        }
        Ok(())
    }

    fn scan_literal(&mut self, word: &str, tok: Tok) -> Result<Scanned, Fault> {
        let start = self.pos;
        let rest = self.src.get(start..).unwrap_or_default();
        if let Some(tail) = rest.strip_prefix(word) {
            let after = tail.chars().next();
            if !after.is_some_and(is_identifier_part) {
                self.pos += word.len();
                return Ok(self.simple(tok, start, self.pos));
            }
        }
        Err(self.invalid_token(start))
    }

    fn scan_number(&mut self) -> Result<Scanned, Fault> {
        let b = self.bytes();
        let start = self.pos;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let int_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == int_start {
            // "-" followed by something that is not a digit.
            let ch = b.get(i).copied();
            return Err(match ch {
                None => self.eof_in_container(),
                Some(b'I') | Some(b'N') => self.invalid_token(i),
                Some(_) => self.unexpected_char(
                    i,
                    "expected digit (0-9) to follow minus sign, for valid numeric value",
                ),
            });
        }
        if i - int_start > 1 && b.get(int_start) == Some(&b'0') {
            return Err(self.plain_fault(
                "Invalid numeric value: Leading zeroes not allowed".to_owned(),
                int_start + 1,
            ));
        }
        let mut float = false;
        if b.get(i) == Some(&b'.') {
            float = true;
            i += 1;
            let frac = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == frac {
                return Err(self.unexpected_char_or_eof(i, "Decimal point not followed by a digit"));
            }
        }
        if matches!(b.get(i), Some(b'e') | Some(b'E')) {
            float = true;
            i += 1;
            if matches!(b.get(i), Some(b'+') | Some(b'-')) {
                i += 1;
            }
            let exp = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == exp {
                return Err(
                    self.unexpected_char_or_eof(i, "Exponent indicator not followed by a digit")
                );
            }
        }
        self.pos = i;
        Ok(self.simple(Tok::Num { float }, start, i))
    }

    /// Jackson's number errors name the character that broke the number, or the end of input.
    fn unexpected_char_or_eof(&self, at: usize, what: &str) -> Fault {
        match self.bytes().get(at) {
            None => self.plain_fault(
                format!("Unexpected end-of-input in a Number value: {what}"),
                at,
            ),
            Some(_) => self.unexpected_char(at, &format!("{what}; invalid numeric value")),
        }
    }

    /// Reads a string starting at its opening quote, leaving `pos` after the closing quote.
    fn scan_string(&mut self) -> Result<String, Fault> {
        let b = self.bytes();
        let mut i = self.pos + 1;
        let mut out = String::new();
        let mut run = i;
        loop {
            let Some(&c) = b.get(i) else {
                return Err(self.plain_fault(
                    "Unexpected end-of-input: was expecting closing quote for a string value"
                        .to_owned(),
                    i,
                ));
            };
            match c {
                b'"' => {
                    out.push_str(self.src.get(run..i).unwrap_or_default());
                    self.pos = i + 1;
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(self.src.get(run..i).unwrap_or_default());
                    i = self.escape(i, &mut out)?;
                    run = i;
                }
                0..=0x1f => {
                    return Err(self.plain_fault(
                        format!(
                            "Illegal unquoted character ({}): has to be escaped using backslash to be included in string value",
                            char_desc(char::from(c))
                        ),
                        i + 1,
                    ));
                }
                _ => i += 1,
            }
        }
    }

    /// Decodes the escape at `at` (a backslash) into `out`; returns the offset after it.
    fn escape(&self, at: usize, out: &mut String) -> Result<usize, Fault> {
        let b = self.bytes();
        let Some(&e) = b.get(at + 1) else {
            return Err(self.plain_fault(
                "Unexpected end-of-input in character escape sequence".to_owned(),
                at + 1,
            ));
        };
        let simple = match e {
            b'"' => Some('"'),
            b'\\' => Some('\\'),
            b'/' => Some('/'),
            b'b' => Some('\u{8}'),
            b'f' => Some('\u{c}'),
            b'n' => Some('\n'),
            b'r' => Some('\r'),
            b't' => Some('\t'),
            _ => None,
        };
        if let Some(ch) = simple {
            out.push(ch);
            return Ok(at + 2);
        }
        if e != b'u' {
            let ch = self.char_at(at + 1);
            return Err(self.plain_fault(
                format!("Unrecognized character escape {}", char_desc(ch)),
                at + 1 + ch.len_utf8(),
            ));
        }
        let unit = |p: usize| -> Result<u16, Fault> {
            let hex = self.src.get(p..p + 4).unwrap_or_default();
            if hex.len() == 4 && hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                u16::from_str_radix(hex, 16)
                    .map_err(|_| self.plain_fault("Invalid escape".to_owned(), p))
            } else {
                let bad = hex
                    .char_indices()
                    .find(|(_, c)| !c.is_ascii_hexdigit())
                    .map_or(p + hex.len(), |(k, _)| p + k);
                let ch = self.char_at(bad);
                Err(self.plain_fault(
                    format!(
                        "Unexpected character ({}): expected a hex-digit for character escape sequence",
                        char_desc(ch)
                    ),
                    bad + 1,
                ))
            }
        };
        let first = unit(at + 2)?;
        let mut next = at + 6;
        // Jackson keeps surrogate halves as UTF-16; a Rust string needs the pair joined.
        if (0xD800..0xDC00).contains(&first)
            && self.src.get(next..next + 2) == Some("\\u")
            && let Ok(second) = unit(next + 2)
            && (0xDC00..0xE000).contains(&second)
        {
            let code = 0x10000 + ((u32::from(first) - 0xD800) << 10) + (u32::from(second) - 0xDC00);
            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            next += 6;
            return Ok(next);
        }
        out.push(char::from_u32(u32::from(first)).unwrap_or('\u{FFFD}'));
        Ok(next)
    }

    fn char_at(&self, at: usize) -> char {
        self.src
            .get(at..)
            .and_then(|s| s.chars().next())
            .unwrap_or('\u{FFFD}')
    }

    /// `Unrecognized token '…'`: Jackson collects identifier characters from `start`.
    fn invalid_token(&self, start: usize) -> Fault {
        let rest = self.src.get(start..).unwrap_or_default();
        let mut end = start;
        let mut token = String::new();
        for (k, ch) in rest.char_indices() {
            if k > 0 && !is_identifier_part(ch) {
                break;
            }
            if token.len() >= MAX_ERROR_TOKEN_LENGTH {
                break;
            }
            token.push(ch);
            end = start + k + ch.len_utf8();
        }
        self.plain_fault(
            format!("Unrecognized token '{token}': was expecting {VALID_VALUES}"),
            end,
        )
    }

    /// `Unexpected character ('x' (code 120)): …`; Jackson reports the character's own column.
    fn unexpected_char(&self, at: usize, what: &str) -> Fault {
        let ch = self.char_at(at);
        self.plain_fault(
            format!("Unexpected character ({}): {what}", char_desc(ch)),
            at,
        )
    }

    fn eof_in_container(&self) -> Fault {
        let Some(&(is_object, start)) = self.stack.last() else {
            return self.plain_fault(
                "Unexpected end-of-input: expected a value".to_owned(),
                self.src.len(),
            );
        };
        let kind = if is_object { "Object" } else { "Array" };
        let marker = super::error::source_location(self.src, start);
        self.plain_fault(
            format!("Unexpected end-of-input: expected close marker for {kind} (start marker at {marker})"),
            self.src.len(),
        )
    }

    fn eof_between(&self) -> Fault {
        self.plain_fault(
            "Unexpected end-of-input within/between Object entries".to_owned(),
            self.src.len(),
        )
    }

    fn plain_fault(&self, message: String, at: usize) -> Fault {
        Fault::at(message, at)
    }
}

/// Java's `Character.isJavaIdentifierPart`, close enough for error messages.
fn is_identifier_part(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_' || ch == '$'
}

/// Jackson's `_getCharDesc`.
fn char_desc(ch: char) -> String {
    let code = u32::from(ch);
    if ch.is_control() && code < 0x80 {
        return format!("(CTRL-CHAR, code {code})");
    }
    if code > 255 {
        return format!("'{ch}' (code {code} / 0x{code:x})");
    }
    format!("'{ch}' (code {code})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(src: &str) -> Vec<Tok> {
        let mut l = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let t = l.next_token().unwrap();
            out.push(t);
            if t == Tok::End {
                return out;
            }
        }
    }

    #[test]
    fn tokenizes_nested_values() {
        assert_eq!(
            tokens(r#"{"a": [1, "x", {"b": null}], "c": true}"#),
            vec![
                Tok::StartObject,
                Tok::FieldName,
                Tok::StartArray,
                Tok::Num { float: false },
                Tok::Str,
                Tok::StartObject,
                Tok::FieldName,
                Tok::Null,
                Tok::EndObject,
                Tok::EndArray,
                Tok::FieldName,
                Tok::True,
                Tok::EndObject,
                Tok::End
            ]
        );
    }

    #[test]
    fn location_after_field_name_includes_the_value_start() {
        let mut l = Lexer::new(r#"{"string": "my-value"}"#);
        l.next_token().unwrap();
        assert_eq!(l.next_token().unwrap(), Tok::FieldName);
        // After the opening quote of the value: column 13.
        assert_eq!(l.location(), 12);
        assert_eq!(l.next_token().unwrap(), Tok::Str);
        assert_eq!(l.location(), 12);
        assert_eq!(l.text(), "my-value");
        assert_eq!(l.location(), 21);
    }

    #[test]
    fn decodes_escapes() {
        let mut l = Lexer::new(r#"["a\"b\\c\u0041\ud83d\ude80"]"#);
        l.next_token().unwrap();
        l.next_token().unwrap();
        assert_eq!(l.text(), "a\"b\\cA\u{1F680}");
    }
}
