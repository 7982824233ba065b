//! One validating pass over a JSON message that materialises only the values wanted selectors
//! reach (a trie of paths → slots).
//!
//! Building a full JSON tree per log event would dominate the cost (CloudTrail records are ~1 KB
//! and a pattern reads a handful of fields), so the scanner walks a trie of the wanted paths and
//! skips everything else, still rejecting malformed JSON: a message that is not one JSON object
//! never matches a JSON pattern.

use std::borrow::Cow;

use super::ast::{Path, Step};

/// What a selector reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Found<'a> {
    /// A string, as it appears between the quotes (escapes not yet resolved).
    Str {
        raw: &'a str,
        escaped: bool,
    },
    Num(&'a str),
    Bool(bool),
    Null,
    /// An object or array: comparisons do not apply, but the selector exists.
    Composite,
}

impl<'a> Found<'a> {
    /// The string value with JSON escapes resolved.
    pub fn text(&self) -> Option<Cow<'a, str>> {
        match *self {
            Found::Str {
                raw,
                escaped: false,
            } => Some(Cow::Borrowed(raw)),
            Found::Str { raw, escaped: true } => unescape(raw).map(Cow::Owned),
            Found::Num(t) => Some(Cow::Borrowed(t)),
            Found::Bool(true) => Some(Cow::Borrowed("true")),
            Found::Bool(false) => Some(Cow::Borrowed("false")),
            Found::Null | Found::Composite => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Node {
    keys: Vec<(Box<str>, usize)>,
    /// `key_sig(k)` for each of `keys`, checked before comparing bytes: most keys of a record
    /// are not wanted, and this rejects them without a memcmp call.
    sigs: Vec<KeySig>,
    indexes: Vec<(usize, usize)>,
    slot: Option<usize>,
}

impl Node {
    #[inline]
    fn child(&self, key: &str) -> Option<usize> {
        let sig = key_sig(key);
        self.sigs
            .iter()
            .zip(&self.keys)
            // Up to 16 bytes the signature is the key; longer keys are compared in full.
            .find(|&(&s, (k, _))| s == sig && (key.len() <= 16 || **k == *key))
            .map(|(_, &(_, c))| c)
    }
}

/// A key (or any short string) as its length and its first and last eight bytes (the whole key up to 16 bytes), so
/// that the usual short keys compare with three integer comparisons.
#[inline]
pub(crate) fn key_sig(k: &str) -> KeySig {
    let b = k.as_bytes();
    let word = |s: &[u8]| {
        let mut w = [0u8; 8];
        w[..s.len()].copy_from_slice(s);
        u64::from_le_bytes(w)
    };
    match b.len() {
        0..=8 => (b.len(), word(b), 0),
        n => match (b[..8].try_into(), b[n - 8..].try_into()) {
            (Ok(h), Ok(t)) => (n, u64::from_le_bytes(h), u64::from_le_bytes(t)),
            _ => (n, 0, 0),
        },
    }
}

pub(crate) type KeySig = (usize, u64, u64);

/// The wanted selectors as a trie; node 0 is `$`.
#[derive(Debug, Clone)]
pub struct PathTrie {
    nodes: Vec<Node>,
    slots: usize,
}

impl PathTrie {
    /// A trie whose slot `i` is `paths[i]`.
    pub fn new(paths: &[Path]) -> Self {
        let mut t = PathTrie {
            nodes: vec![Node::default()],
            slots: 0,
        };
        for p in paths {
            t.insert(p);
        }
        t
    }

    /// Adds a path (if new) and returns its slot.
    pub fn insert(&mut self, path: &Path) -> usize {
        let mut n = 0;
        for step in path {
            let found = match step {
                Step::Key(k) => self.nodes[n]
                    .keys
                    .iter()
                    .find(|(x, _)| x == k)
                    .map(|&(_, c)| c),
                Step::Index(i) => self.nodes[n]
                    .indexes
                    .iter()
                    .find(|(x, _)| x == i)
                    .map(|&(_, c)| c),
            };
            n = match found {
                Some(c) => c,
                None => {
                    let c = self.nodes.len();
                    self.nodes.push(Node::default());
                    match step {
                        Step::Key(k) => {
                            self.nodes[n].keys.push((k.clone(), c));
                            self.nodes[n].sigs.push(key_sig(k));
                        }
                        Step::Index(i) => self.nodes[n].indexes.push((*i, c)),
                    }
                    c
                }
            };
        }
        match self.nodes[n].slot {
            Some(s) => s,
            None => {
                self.nodes[n].slot = Some(self.slots);
                self.slots += 1;
                self.slots - 1
            }
        }
    }

    /// Scans `msg` and hands `f` the value of each slot, or `None` if `msg` is not a single JSON
    /// object. Slots live on the stack for the usual handful of selectors.
    pub fn scan<'a, R>(
        &self,
        msg: &'a str,
        f: impl FnOnce(Option<&[Option<Found<'a>>]>) -> R,
    ) -> R {
        const STACK: usize = 24;
        if self.slots <= STACK {
            let mut buf = [None; STACK];
            let out = &mut buf[..self.slots];
            let ok = self.scan_into(msg, out);
            f(ok.then_some(&*out))
        } else {
            let mut out = vec![None; self.slots];
            let ok = self.scan_into(msg, &mut out);
            f(ok.then_some(&out[..]))
        }
    }

    fn scan_into<'a>(&self, msg: &'a str, out: &mut [Option<Found<'a>>]) -> bool {
        let mut s = Scanner {
            src: msg,
            b: msg.as_bytes(),
            i: 0,
            depth: 0,
        };
        s.ws();
        if s.b.get(s.i) != Some(&b'{') {
            return false;
        }
        if s.value(Some(0), self, out).is_none() {
            return false;
        }
        s.ws();
        s.i == s.b.len()
    }
}

/// JSON nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 512;

struct Scanner<'a> {
    src: &'a str,
    b: &'a [u8],
    i: usize,
    depth: usize,
}

impl<'a> Scanner<'a> {
    #[inline]
    fn ws(&mut self) {
        while let Some(c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    /// Moves past a string starting at the opening quote; `Some(escaped)`.
    #[inline]
    fn string_end(&mut self) -> Option<bool> {
        let b = self.b;
        let mut i = self.i + 1;
        let mut escaped = false;
        loop {
            // Eight bytes at a time (SWAR): strings are most of a CloudTrail record's bytes, and
            // most are too short for a SIMD search's set-up to pay.
            while let Some(chunk) = b.get(i..i + 8) {
                let mut w = [0u8; 8];
                w.copy_from_slice(chunk);
                let x = u64::from_le_bytes(w);
                let hit = swar_has(x, b'"') | swar_has(x, b'\\');
                if hit != 0 {
                    // The lowest flagged byte is always a true hit.
                    i += (hit.trailing_zeros() / 8) as usize;
                    break;
                }
                i += 8;
            }
            match *b.get(i)? {
                b'"' => {
                    self.i = i + 1;
                    return Some(escaped);
                }
                b'\\' => {
                    escaped = true;
                    // Validity of the escape is checked when (if ever) the string is decoded.
                    i += 2;
                }
                _ => i += 1,
            }
        }
    }

    /// A string starting at the opening quote; returns the text between the quotes.
    #[inline]
    fn string(&mut self) -> Option<(&'a str, bool)> {
        let start = self.i + 1;
        let escaped = self.string_end()?;
        Some((self.src.get(start..self.i - 1)?, escaped))
    }

    /// Moves past one value nobody asked for, still checking that it is well-formed JSON.
    fn skip(&mut self) -> Option<()> {
        self.ws();
        match *self.b.get(self.i)? {
            b'"' => {
                self.string_end()?;
            }
            open @ (b'{' | b'[') => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return None;
                }
                self.i += 1;
                let close = if open == b'{' { b'}' } else { b']' };
                self.ws();
                if self.b.get(self.i) == Some(&close) {
                    self.i += 1;
                } else {
                    loop {
                        if open == b'{' {
                            self.ws();
                            if self.b.get(self.i) != Some(&b'"') {
                                return None;
                            }
                            self.string_end()?;
                            self.eat(b':')?;
                        }
                        self.skip()?;
                        self.ws();
                        match *self.b.get(self.i)? {
                            b',' => self.i += 1,
                            c if c == close => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                self.depth -= 1;
            }
            b't' => self.literal(b"true")?,
            b'f' => self.literal(b"false")?,
            b'n' => self.literal(b"null")?,
            _ => {
                self.number()?;
            }
        }
        Some(())
    }

    fn number(&mut self) -> Option<&'a str> {
        let start = self.i;
        let b = self.b;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
            _ => return None,
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            let f = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == f {
                return None;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let e = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == e {
                return None;
            }
        }
        self.i = i;
        self.src.get(start..i)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }

    /// One value at `self.i` (after whitespace). `node` is the trie node this position
    /// corresponds to, `None` when nothing below is wanted.
    fn value(
        &mut self,
        node: Option<usize>,
        trie: &PathTrie,
        out: &mut [Option<Found<'a>>],
    ) -> Option<()> {
        let Some(node) = node else { return self.skip() };
        self.ws();
        let n = Some(&trie.nodes[node]);
        let found = match *self.b.get(self.i)? {
            b'"' => {
                let (raw, escaped) = self.string()?;
                Found::Str { raw, escaped }
            }
            b'{' => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return None;
                }
                self.i += 1;
                let want_keys = n.is_some_and(|n| !n.keys.is_empty());
                if self.eat(b'}').is_none() {
                    loop {
                        self.ws();
                        if self.b.get(self.i) != Some(&b'"') {
                            return None;
                        }
                        let (key, escaped) = self.string()?;
                        let child = match n {
                            Some(n) if want_keys => {
                                if escaped {
                                    let k = unescape(key)?;
                                    n.child(&k)
                                } else {
                                    n.child(key)
                                }
                            }
                            _ => None,
                        };
                        self.eat(b':')?;
                        self.value(child, trie, out)?;
                        self.ws();
                        match self.b.get(self.i)? {
                            b',' => self.i += 1,
                            b'}' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                self.depth -= 1;
                Found::Composite
            }
            b'[' => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return None;
                }
                self.i += 1;
                if self.eat(b']').is_none() {
                    let mut idx = 0;
                    loop {
                        let child = n.and_then(|n| {
                            n.indexes.iter().find(|(x, _)| *x == idx).map(|&(_, c)| c)
                        });
                        self.value(child, trie, out)?;
                        idx += 1;
                        self.ws();
                        match self.b.get(self.i)? {
                            b',' => self.i += 1,
                            b']' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                self.depth -= 1;
                Found::Composite
            }
            b't' => {
                self.literal(b"true")?;
                Found::Bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                Found::Bool(false)
            }
            b'n' => {
                self.literal(b"null")?;
                Found::Null
            }
            _ => Found::Num(self.number()?),
        };
        if let Some(slot) = n.and_then(|n| n.slot) {
            // A repeated key: the last one wins, as in most JSON readers.
            out[slot] = Some(found);
        }
        Some(())
    }
}

/// Bit 7 of each byte of the result is set where `x` holds `byte` (and possibly above such a
/// byte, never below: the lowest set bit is exact).
#[inline]
fn swar_has(x: u64, byte: u8) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let v = x ^ (LO * u64::from(byte));
    v.wrapping_sub(LO) & !v & HI
}

/// Resolves JSON string escapes; `None` if one is malformed.
pub fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut it = raw.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next()? {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            '/' => out.push('/'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => {
                let hex = |it: &mut std::str::Chars<'_>| -> Option<u32> {
                    let h: String = it.by_ref().take(4).collect();
                    if h.len() != 4 {
                        return None;
                    }
                    u32::from_str_radix(&h, 16).ok()
                };
                let hi = hex(&mut it)?;
                let cp = if (0xD800..0xDC00).contains(&hi) {
                    if it.next()? != '\\' || it.next()? != 'u' {
                        return None;
                    }
                    let lo = hex(&mut it)?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return None;
                    }
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                } else {
                    hi
                };
                out.push(char::from_u32(cp)?);
            }
            _ => return None,
        }
    }
    Some(out)
}
