//! Recursive-descent parser for JSON and space-delimited patterns, over the lexer's tokens.
//!
//! JSON precedence is AWS's: parentheses, then `&&`, then `||` (the doc's example
//! `a || b && c` matches when `a` alone holds).

use super::ast::{Expr, Field, JsonTest, Path, Step};
use super::error::PatternError;
use super::lexer::{CmpOp, Tok, lex};
use super::value::{Operand, ValueTest, bare_operand, compile_regex, make_test, string_operand};

/// A parsed JSON pattern: the expression and the distinct selectors it reads.
#[derive(Debug, Clone)]
pub struct ParsedJson {
    pub expr: Expr,
    pub paths: Vec<Path>,
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    paths: Vec<Path>,
}

fn err<T>(detail: impl Into<String>) -> Result<T, PatternError> {
    Err(PatternError::syntax(detail))
}

impl Parser {
    fn new(src: &str) -> Result<Self, PatternError> {
        Ok(Parser {
            toks: lex(src)?,
            pos: 0,
            paths: Vec::new(),
        })
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expect(&mut self, want: &Tok) -> Result<(), PatternError> {
        match self.next() {
            Some(t) if &t == want => Ok(()),
            other => err(format!("expected {want:?}, found {other:?}")),
        }
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    // ----- JSON -----

    fn or_expr(&mut self) -> Result<Expr, PatternError> {
        let mut parts = vec![self.and_expr()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            parts.push(self.and_expr()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn and_expr(&mut self) -> Result<Expr, PatternError> {
        let mut parts = vec![self.unary()?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn unary(&mut self) -> Result<Expr, PatternError> {
        match self.next() {
            Some(Tok::LParen) => {
                let e = self.or_expr()?;
                self.expect(&Tok::RParen)?;
                Ok(e)
            }
            Some(Tok::Selector(s)) => {
                let slot = self.slot(parse_selector(&s)?);
                let test = self.json_test()?;
                Ok(Expr::Test { slot, test })
            }
            other => err(format!("expected a selector or '(', found {other:?}")),
        }
    }

    fn slot(&mut self, path: Path) -> usize {
        if let Some(i) = self.paths.iter().position(|p| p == &path) {
            return i;
        }
        self.paths.push(path);
        self.paths.len() - 1
    }

    fn json_test(&mut self) -> Result<JsonTest, PatternError> {
        if self.is_word("IS") {
            self.pos += 1;
            return match self.next() {
                Some(Tok::Word(w)) if w == "NULL" => Ok(JsonTest::IsNull),
                Some(Tok::Word(w)) if w == "TRUE" => Ok(JsonTest::IsTrue),
                Some(Tok::Word(w)) if w == "FALSE" => Ok(JsonTest::IsFalse),
                // `IS NOT …` is documented as unsupported.
                other => err(format!(
                    "expected NULL, TRUE or FALSE after IS, found {other:?}"
                )),
            };
        }
        if self.is_word("NOT") {
            self.pos += 1;
            return match self.next() {
                Some(Tok::Word(w)) if w == "EXISTS" => Ok(JsonTest::NotExists),
                other => err(format!("expected EXISTS after NOT, found {other:?}")),
            };
        }
        let op = match self.next() {
            Some(Tok::Op(op)) => op,
            other => err(format!("expected an operator, found {other:?}"))?,
        };
        Ok(JsonTest::Value(self.value_test(op)?))
    }

    fn operand(&mut self) -> Result<Operand, PatternError> {
        match self.next() {
            Some(Tok::Quoted(s)) => Ok(string_operand(&s)),
            Some(Tok::Word(w)) => bare_operand(&w),
            Some(Tok::Regex(r)) => Ok(Operand::Regex(Box::new(compile_regex(&r)?))),
            other => err(format!("expected a value, found {other:?}")),
        }
    }

    fn value_test(&mut self, op: CmpOp) -> Result<ValueTest, PatternError> {
        let operand = self.operand()?;
        if matches!(operand, Operand::Regex(_)) && !matches!(op, CmpOp::Eq | CmpOp::Ne) {
            return err("a regex needs = or !=");
        }
        make_test(op, operand)
    }

    // ----- space-delimited -----

    fn fields(&mut self) -> Result<Vec<Field>, PatternError> {
        self.expect(&Tok::LBracket)?;
        let mut fields = Vec::new();
        loop {
            match self.peek() {
                Some(Tok::RBracket) => {
                    self.pos += 1;
                    // `[a, b,]`: the trailing comma leaves an unnamed slot; `[]` has none.
                    if matches!(self.toks.get(self.pos.wrapping_sub(2)), Some(Tok::Comma)) {
                        fields.push(Field::Token {
                            name: None,
                            any_of: Vec::new(),
                        });
                    }
                    break;
                }
                None => return err("unterminated ["),
                _ => {}
            }
            fields.push(self.field()?);
            match self.next() {
                Some(Tok::Comma) => {}
                Some(Tok::RBracket) => break,
                other => return err(format!("expected ',' or ']', found {other:?}")),
            }
        }
        if self.pos != self.toks.len() {
            return err("text after ]");
        }
        if fields.is_empty() {
            return err("no fields");
        }
        Ok(fields)
    }

    fn field(&mut self) -> Result<Field, PatternError> {
        let name = match self.peek() {
            Some(Tok::Word(w)) if w == "..." => {
                self.pos += 1;
                return Ok(Field::Ellipsis);
            }
            Some(Tok::Word(w)) => {
                if !w
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    return err(format!("bad field name {w:?}"));
                }
                let w: Box<str> = w.as_str().into();
                self.pos += 1;
                Some(w)
            }
            Some(Tok::Comma) => None,
            other => return err(format!("expected a field, found {other:?}")),
        };
        let mut any_of: Vec<Vec<ValueTest>> = Vec::new();
        if let Some(Tok::Op(op)) = self.peek().cloned() {
            self.pos += 1;
            let mut all = vec![self.value_test(op)?];
            loop {
                let or = match self.peek() {
                    Some(Tok::And) => false,
                    Some(Tok::Or) => true,
                    _ => break,
                };
                self.pos += 1;
                // Later conditions repeat the field's name: `status_code = 404 || status_code = 410`.
                match (self.next(), &name) {
                    (Some(Tok::Word(w)), Some(n)) if *w == **n => {}
                    (other, _) => return err(format!("expected the field name, found {other:?}")),
                }
                let op = match self.next() {
                    Some(Tok::Op(op)) => op,
                    other => return err(format!("expected an operator, found {other:?}")),
                };
                let t = self.value_test(op)?;
                if or {
                    any_of.push(std::mem::take(&mut all));
                }
                all.push(t);
            }
            any_of.push(all);
        }
        Ok(Field::Token { name, any_of })
    }
}

/// Parses `$.a.b[0][1]` into steps. `$` alone (the whole message) reaches an object, which no
/// comparison applies to, so it is accepted and simply never matches a value.
pub fn parse_selector(s: &str) -> Result<Path, PatternError> {
    let bad = || PatternError::syntax(format!("bad selector {s:?}"));
    let rest = s.strip_prefix('$').ok_or_else(bad)?;
    let b = rest.as_bytes();
    let mut i = 0;
    let mut path = Vec::new();
    while i < b.len() {
        match b[i] {
            b'.' => {
                let start = i + 1;
                i = start;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-')
                {
                    i += 1;
                }
                if i == start {
                    return Err(bad());
                }
                path.push(Step::Key(rest[start..i].into()));
            }
            b'[' if !path.is_empty() => {
                let start = i + 1;
                let end = rest[start..].find(']').map(|e| start + e).ok_or_else(bad)?;
                let idx = &rest[start..end];
                if idx.is_empty() || !idx.bytes().all(|c| c.is_ascii_digit()) {
                    // `[*]` and friends are undocumented; rejected.
                    return Err(bad());
                }
                path.push(Step::Index(idx.parse().map_err(|_| bad())?));
                i = end + 1;
            }
            _ => return Err(bad()),
        }
    }
    Ok(path)
}

/// Parses a whole `{ … }` pattern.
pub fn parse_json(src: &str) -> Result<ParsedJson, PatternError> {
    let mut p = Parser::new(src)?;
    p.expect(&Tok::LBrace)?;
    let expr = p.or_expr()?;
    p.expect(&Tok::RBrace)?;
    if p.pos != p.toks.len() {
        return err("text after }");
    }
    Ok(ParsedJson {
        expr,
        paths: p.paths,
    })
}

/// Parses a whole `[ … ]` pattern.
pub fn parse_delimited(src: &str) -> Result<Vec<Field>, PatternError> {
    Parser::new(src)?.fields()
}
