//! Tokens of JSON (`{ … }`) and space-delimited (`[ … ]`) patterns.
//!
//! One lexer serves both: they share comparison operators, `&&`/`||`, quoted strings, bare
//! values with `*` wildcards, numbers and `%regex%`. Keywords (`IS`, `NULL`, `NOT`, `EXISTS`, …)
//! stay bare words; the parser gives them meaning where they are allowed.

use super::error::PatternError;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    And,
    Or,
    Op(CmpOp),
    /// `$.a.b[0]`: the raw selector text, parsed by the parser.
    Selector(String),
    /// `"…"` with `\"` and `\\` resolved.
    Quoted(String),
    /// `%…%`: the regex between the percent signs.
    Regex(String),
    /// Anything else up to a delimiter: names, bare values, numbers, keywords, `...`.
    Word(String),
}

/// Characters that end a bare word. `*`, `.`, `-`, `:`, `/` stay inside (wildcards, dotted
/// service names, IP prefixes, timestamps).
fn ends_word(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '{' | '}' | '(' | ')' | '[' | ']' | ',' | '&' | '|' | '=' | '!' | '<' | '>' | '"' | '%'
        )
}

/// Splits `src` into tokens.
pub fn lex(src: &str) -> Result<Vec<Tok>, PatternError> {
    let mut out = Vec::new();
    let mut it = src.char_indices().peekable();
    while let Some(&(i, c)) = it.peek() {
        if c.is_whitespace() {
            it.next();
            continue;
        }
        let two = src.get(i..i + 2).unwrap_or("");
        let tok = match c {
            '{' => Tok::LBrace,
            '}' => Tok::RBrace,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            ',' => Tok::Comma,
            _ if two == "&&" || two == "||" || two == "!=" || two == "<=" || two == ">=" => {
                it.next();
                match two {
                    "&&" => Tok::And,
                    "||" => Tok::Or,
                    "!=" => Tok::Op(CmpOp::Ne),
                    "<=" => Tok::Op(CmpOp::Le),
                    _ => Tok::Op(CmpOp::Ge),
                }
            }
            '=' => Tok::Op(CmpOp::Eq),
            '<' => Tok::Op(CmpOp::Lt),
            '>' => Tok::Op(CmpOp::Gt),
            '"' => {
                it.next();
                let mut s = String::new();
                let mut closed = false;
                while let Some((_, c)) = it.next() {
                    match c {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => match it.next() {
                            Some((_, e)) => s.push(e),
                            None => break,
                        },
                        c => s.push(c),
                    }
                }
                if !closed {
                    return Err(PatternError::syntax("unterminated quoted string"));
                }
                out.push(Tok::Quoted(s));
                continue;
            }
            '%' => {
                it.next();
                let mut s = String::new();
                let mut closed = false;
                for (_, c) in it.by_ref() {
                    if c == '%' {
                        closed = true;
                        break;
                    }
                    s.push(c);
                }
                if !closed {
                    return Err(PatternError::syntax("unterminated %regex%"));
                }
                out.push(Tok::Regex(s));
                continue;
            }
            '$' => {
                let mut s = String::new();
                while let Some(&(_, c)) = it.peek() {
                    // Selectors hold their own `[N]` indexes, so `[`/`]` do not end them here.
                    if c.is_ascii_alphanumeric()
                        || matches!(c, '$' | '.' | '_' | '-' | '[' | ']' | '*')
                    {
                        s.push(c);
                        it.next();
                    } else {
                        break;
                    }
                }
                out.push(Tok::Selector(s));
                continue;
            }
            '&' | '|' | '!' => return Err(PatternError::syntax(format!("stray '{c}'"))),
            _ => {
                let mut s = String::new();
                while let Some(&(_, c)) = it.peek() {
                    if ends_word(c) {
                        break;
                    }
                    s.push(c);
                    it.next();
                }
                out.push(Tok::Word(s));
                continue;
            }
        };
        it.next();
        out.push(tok);
    }
    Ok(out)
}
