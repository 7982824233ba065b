//! Pattern text → [`Branch`]es, validating as event-ruler's `JsonRuleCompiler` does, token by
//! token, so that each refusal carries AWS's reason and Jackson's location.
//!
//! `$or` forks the branches built so far, one copy per alternative. A repeated path keeps its
//! last value (event-ruler overrides; AWS accepts a pattern with a repeated key). After
//! compiling, each field's wildcard patterns are scored as EventBridge does.
//!
//! Forking multiplies: k `$or`s of two alternatives make 2^k branches. [I] The branches (at
//! most [`MAX_BRANCHES`]) and the fields written into them, copies included (at most
//! [`MAX_FIELD_COPIES`]), are capped while forking, before anything is copied, and a pattern
//! past either is refused as [`OR_TOO_COMPLEX`] (event-ruler has no such cap: it expands `$or`
//! the same way, unbounded). Nesting is bounded by the lexer (Jackson's 1000 levels), and so
//! is the recursion of `parse_object`.

use std::collections::BTreeMap;

use super::cidr::{Cidr, parse_ip};
use super::error::Fault;
use super::lexer::{Lexer, Tok};
use super::model::{AnythingBut, Branch, Field, Folded, Matcher};
use super::numeric::{Bound, Range, comparable};
use super::wildcard::{MAX_COMPLEXITY, Wildcard, complexity};

const OR: &str = "$or";

/// Names event-ruler reserves inside `$or` alternatives.
const RESERVED_IN_OR: &[&str] = &[
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
];

const TOO_COMPLEX: &str = "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character";

/// [I] cairn's own refusal, in the style of event-ruler's wildcard one. It must not mention
/// `$or`: refusals that do fall back to the legacy compiler (see [`compile`]).
pub(crate) const OR_TOO_COMPLEX: &str =
    "Rule is too complex - try using fewer or-ed alternatives or fewer nested or-relationships";

/// Most branches (alternatives after expanding every `$or`) a pattern may compile to.
pub(crate) const MAX_BRANCHES: usize = 1024;

/// Most field entries written into branches while compiling, counting each copy a fork makes.
pub(crate) const MAX_FIELD_COPIES: usize = 1 << 18;

type Res<T> = Result<T, Fault>;

/// One leaf's compiled values: its matchers and whether absence satisfies it.
#[derive(Debug, Clone, Default)]
struct Leaf {
    matchers: Vec<Matcher>,
    absent_ok: bool,
}

/// A branch under construction: path → leaf, in first-seen order.
type Draft = Vec<(String, Leaf)>;

pub(crate) fn compile(src: &str) -> Result<Vec<Branch>, Fault> {
    match compile_with(src, true) {
        Ok(b) => Ok(b),
        // event-ruler falls back to its legacy compiler, where `$or` is an ordinary field
        // name, when the `$or` is not a well-formed one (README, "backward compatibility").
        // [I] Only `$or` refusals fall back: AWS's other recorded reasons are the new
        // compiler's.
        Err(e) if e.is_or_refusal() => compile_with(src, false).map_err(|_| e),
        Err(e) => Err(e),
    }
}

fn compile_with(src: &str, or_primitive: bool) -> Result<Vec<Branch>, Fault> {
    let mut c = Compiler {
        lx: Lexer::new(src),
        path: Vec::new(),
        or_primitive,
        copies: 0,
    };
    let mut rules: Vec<Draft> = Vec::new();
    if c.lx.next_token()? != Tok::StartObject {
        return Err(c.barf("Filter is not an object"));
    }
    c.parse_object(&mut rules, false)?;
    check_complexity(&rules)?;
    Ok(rules
        .into_iter()
        .map(|draft| {
            let mut fields: Branch = draft
                .into_iter()
                .map(|(path, leaf)| Field::new(path, leaf.matchers, leaf.absent_ok))
                .collect();
            // Absence is judged after the array elements of every other field are chosen.
            fields.sort_by_key(|f| f.absent_ok);
            fields
        })
        .collect())
}

fn check_complexity(rules: &[Draft]) -> Res<()> {
    let mut by_field: BTreeMap<&str, Vec<&Wildcard>> = BTreeMap::new();
    for rule in rules {
        for (path, leaf) in rule {
            let list = by_field.entry(path.as_str()).or_default();
            let wildcards = leaf.matchers.iter().flat_map(|m| match m {
                Matcher::Wildcard(w) => std::slice::from_ref(w),
                Matcher::AnythingBut(AnythingBut::Wildcards(ws)) => ws.as_slice(),
                _ => &[],
            });
            for w in wildcards {
                if !list.contains(&w) {
                    list.push(w);
                }
            }
        }
    }
    if by_field.values().any(|ws| complexity(ws) > MAX_COMPLEXITY) {
        return Err(Fault::bare(TOO_COMPLEX));
    }
    Ok(())
}

struct Compiler<'a> {
    lx: Lexer<'a>,
    path: Vec<String>,
    /// Whether `$or` is the OR primitive (false: an ordinary field name).
    or_primitive: bool,
    /// Field entries written or copied so far (see [`MAX_FIELD_COPIES`]).
    copies: usize,
}

impl Compiler<'_> {
    /// Accounts for `n` more field entries, refusing past [`MAX_FIELD_COPIES`].
    fn spend(&mut self, n: usize) -> Res<()> {
        self.copies = self.copies.saturating_add(n);
        if self.copies > MAX_FIELD_COPIES {
            return Err(Fault::bare(OR_TOO_COMPLEX));
        }
        Ok(())
    }

    fn barf(&self, message: impl Into<String>) -> Fault {
        Fault::at(message.into(), self.lx.location())
    }

    fn next(&mut self) -> Res<Tok> {
        self.lx.next_token()
    }

    fn extended_name(&self, step: &str) -> String {
        let mut name = String::new();
        for p in &self.path {
            name.push_str(p);
            name.push('.');
        }
        name.push_str(step);
        name
    }

    fn parse_object(&mut self, rules: &mut Vec<Draft>, inside_or: bool) -> Res<()> {
        let mut fields_present = false;
        loop {
            let tok = self.next()?;
            if tok == Tok::EndObject {
                break;
            }
            if tok == Tok::End {
                // Only reachable on malformed input the lexer already refuses.
                return Err(self.barf("Unexpected end-of-input"));
            }
            fields_present = true;
            let step = self.lx.peek_text().to_owned();
            if step == OR && self.or_primitive {
                self.parse_or(rules)?;
                continue;
            }
            if inside_or && RESERVED_IN_OR.contains(&step.as_str()) {
                return Err(self.barf(format!(
                    "{step} is Ruler reserved fieldName which cannot be used inside $or."
                )));
            }
            match self.next()? {
                Tok::StartObject => {
                    self.path.push(step);
                    self.parse_object(rules, inside_or)?;
                    self.path.pop();
                }
                Tok::StartArray => {
                    let name = self.extended_name(&step);
                    self.write_rules(rules, name)?;
                }
                _ => {
                    return Err(self.barf(format!("\"{step}\" must be an object or an array")));
                }
            }
        }
        if !fields_present {
            return Err(self.barf("Empty objects are not allowed"));
        }
        Ok(())
    }

    fn parse_or(&mut self, rules: &mut Vec<Draft>) -> Res<()> {
        let current = std::mem::take(rules);
        if self.next()? != Tok::StartArray {
            return Err(self.barf("It must be an Array followed with $or."));
        }
        let mut count = 0;
        loop {
            let tok = self.next()?;
            if tok == Tok::EndArray {
                break;
            }
            count += 1;
            if tok != Tok::StartObject {
                return Err(self.barf("Only JSON object is allowed in array of $or relationship."));
            }
            // Refuse before copying: this alternative adds one branch per current one.
            if rules.len() + current.len().max(1) > MAX_BRANCHES {
                return Err(Fault::bare(OR_TOO_COMPLEX));
            }
            self.spend(current.iter().map(Vec::len).sum())?;
            let mut forked = current.clone();
            if forked.is_empty() {
                forked.push(Draft::new());
            }
            self.parse_object(&mut forked, true)?;
            // A nested `$or` may have forked this alternative further.
            if rules.len() + forked.len() > MAX_BRANCHES {
                return Err(Fault::bare(OR_TOO_COMPLEX));
            }
            rules.extend(forked);
        }
        if count < 2 {
            return Err(self.barf("There must have at least 2 Objects in $or relationship."));
        }
        Ok(())
    }

    fn write_rules(&mut self, rules: &mut Vec<Draft>, name: String) -> Res<()> {
        let mut leaf = Leaf::default();
        let mut any = false;
        loop {
            let tok = self.next()?;
            match tok {
                Tok::EndArray => break,
                Tok::StartObject => self.match_expression(&mut leaf)?,
                Tok::Str => {
                    let text = self.lx.text().to_owned();
                    leaf.matchers.push(match parse_ip(&text) {
                        Some(ip) => Matcher::Ip(Cidr::single(ip)),
                        None => Matcher::Text(text),
                    });
                }
                Tok::Num { .. } => {
                    let text = self.lx.text().to_owned();
                    let value = comparable(&text).ok();
                    leaf.matchers.push(Matcher::Number { text, value });
                }
                Tok::Null => leaf.matchers.push(Matcher::Null),
                Tok::True => leaf.matchers.push(Matcher::Bool(true)),
                Tok::False => leaf.matchers.push(Matcher::Bool(false)),
                _ => {
                    return Err(
                        self.barf("Match value must be String, number, true, false, or null")
                    );
                }
            }
            any = true;
        }
        if !any {
            return Err(self.barf("Empty arrays are not allowed"));
        }
        if rules.is_empty() {
            rules.push(Draft::new());
        }
        self.spend(rules.len())?;
        for rule in rules.iter_mut() {
            match rule.iter_mut().find(|(p, _)| *p == name) {
                Some(slot) => slot.1 = leaf.clone(),
                None => rule.push((name.clone(), leaf.clone())),
            }
        }
        Ok(())
    }

    /// Expects the current token to be a value string, then the object's end.
    fn string_then_end(&mut self, tok: Tok, not_string: &str) -> Res<String> {
        if tok != Tok::Str {
            return Err(self.barf(not_string));
        }
        let text = self.lx.text().to_owned();
        self.one_key()?;
        Ok(text)
    }

    fn one_key(&mut self) -> Res<()> {
        if self.next()? != Tok::EndObject {
            return Err(self.barf("Only one key allowed in match expression"));
        }
        Ok(())
    }

    fn match_expression(&mut self, leaf: &mut Leaf) -> Res<()> {
        if self.next()? != Tok::FieldName {
            return Err(self.barf("Match expression name not found"));
        }
        let kind = self.lx.peek_text().to_owned();
        let m = match kind.as_str() {
            "exactly" => {
                let tok = self.next()?;
                let text = self.string_then_end(tok, "exact match pattern must be a string")?;
                Matcher::Text(text)
            }
            "prefix" | "suffix" => {
                let tok = self.next()?;
                if tok == Tok::StartObject {
                    let folded = self.ignore_case_expression(&kind)?;
                    if kind == "prefix" {
                        Matcher::PrefixIgnoreCase(folded)
                    } else {
                        Matcher::SuffixIgnoreCase(folded)
                    }
                } else {
                    let text = self
                        .string_then_end(tok, &format!("{kind} match pattern must be a string"))?;
                    if kind == "prefix" {
                        Matcher::Prefix(text)
                    } else {
                        Matcher::Suffix(text)
                    }
                }
            }
            "numeric" => {
                if self.next()? != Tok::StartArray {
                    return Err(self.barf("Value of numeric must be an array."));
                }
                let range = self.numeric_expression()?;
                if self.next()? != Tok::EndObject {
                    return Err(self.barf("Too many elements in numeric expression"));
                }
                Matcher::Numeric(range)
            }
            "anything-but" => Matcher::AnythingBut(self.anything_but()?),
            "exists" => {
                let exists = match self.next()? {
                    Tok::True => true,
                    Tok::False => false,
                    _ => {
                        return Err(self.barf("exists match pattern must be either true or false."));
                    }
                };
                self.one_key()?;
                if !exists {
                    leaf.absent_ok = true;
                    return Ok(());
                }
                Matcher::Exists
            }
            "cidr" => {
                let tok = self.next()?;
                if tok != Tok::Str {
                    return Err(self.barf("prefix match pattern must be a string"));
                }
                let text = self.lx.text().to_owned();
                let cidr = Cidr::parse(&text).map_err(Fault::bare)?;
                self.one_key()?;
                Matcher::Cidr(cidr)
            }
            "equals-ignore-case" => {
                let tok = self.next()?;
                let text =
                    self.string_then_end(tok, "equals-ignore-case match pattern must be a string")?;
                Matcher::EqualsIgnoreCase(Folded::new(&text))
            }
            "wildcard" => {
                let tok = self.next()?;
                if tok != Tok::Str {
                    return Err(self.barf("wildcard match pattern must be a string"));
                }
                let text = self.lx.text().to_owned();
                let w = Wildcard::parse(&text).map_err(|e| self.barf(e))?;
                self.one_key()?;
                Matcher::Wildcard(w)
            }
            _ => return Err(self.barf(format!("Unrecognized match type {kind}"))),
        };
        leaf.matchers.push(m);
        Ok(())
    }

    /// `{"prefix": {"equals-ignore-case": "…"}}` and the suffix twin, from the inner `{`.
    fn ignore_case_expression(&mut self, kind: &str) -> Res<Folded> {
        let title = if kind == "prefix" { "Prefix" } else { "Suffix" };
        if self.next()? != Tok::FieldName {
            return Err(self.barf(format!("{title} expression name not found")));
        }
        let op = self.lx.peek_text().to_owned();
        if op != "equals-ignore-case" {
            return Err(self.barf(format!("Unsupported {kind} pattern: {op}")));
        }
        let tok = self.next()?;
        if tok != Tok::Str {
            return Err(self.barf("equals-ignore-case match pattern must be a string"));
        }
        let text = self.lx.text().to_owned();
        self.one_key()?;
        self.one_key()?;
        Ok(Folded::new(&text))
    }

    fn numeric_value(&mut self, tok: Tok, operator: &str) -> Res<f64> {
        if !tok.is_numeric() {
            let what = if operator == "=" { "equals" } else { operator };
            return Err(self.barf(format!("Value of {what} must be numeric")));
        }
        let text = self.lx.text().to_owned();
        comparable(&text).map_err(|e| self.barf(e))
    }

    fn numeric_expression(&mut self) -> Res<Range> {
        if self.next()? != Tok::Str {
            let shown = self.lx.peek_text().to_owned();
            return Err(self.barf(format!("Invalid member in numeric match: {shown}")));
        }
        let operator = self.lx.text().to_owned();
        let tok = self.next()?;
        match operator.as_str() {
            "=" => {
                let v = self.numeric_value(tok, "=")?;
                if self.next()? != Tok::EndArray {
                    return Err(self.barf("Too many elements in numeric expression"));
                }
                Ok(Range::equals(v))
            }
            ">=" | ">" => {
                let v = self.numeric_value(tok, &operator)?;
                let low = Bound {
                    value: v,
                    open: operator == ">",
                };
                let tok = self.next()?;
                if tok == Tok::EndArray {
                    return Ok(Range {
                        low: Some(low),
                        high: None,
                    });
                }
                self.complete_range(tok, low)
            }
            "<=" | "<" => {
                let v = self.numeric_value(tok, &operator)?;
                if self.next()? != Tok::EndArray {
                    return Err(self.barf("Too many elements in numeric expression"));
                }
                Ok(Range {
                    low: None,
                    high: Some(Bound {
                        value: v,
                        open: operator == "<",
                    }),
                })
            }
            _ => Err(self.barf(format!("Unrecognized numeric range operator: {operator}"))),
        }
    }

    fn complete_range(&mut self, tok: Tok, low: Bound) -> Res<Range> {
        if tok != Tok::Str {
            let shown = self.lx.peek_text().to_owned();
            return Err(self.barf(format!("Bad value in numeric range: {shown}")));
        }
        let operator = self.lx.text().to_owned();
        if operator != "<" && operator != "<=" {
            return Err(self.barf(format!("Bad numeric range operator: {operator}")));
        }
        let tok = self.next()?;
        if !tok.is_numeric() {
            return Err(self.barf(format!("Value of {operator} must be numeric")));
        }
        let text = self.lx.text().to_owned();
        let top = comparable(&text).map_err(|e| self.barf(e))?;
        if self.next()? != Tok::EndArray {
            return Err(self.barf("Too many terms in numeric range expression"));
        }
        Range::between(
            low,
            Bound {
                value: top,
                open: operator == "<",
            },
        )
        .map_err(|e| self.barf(e))
    }

    fn anything_but(&mut self) -> Res<AnythingBut> {
        #[derive(PartialEq, Clone, Copy)]
        enum Kind {
            Plain,
            IgnoreCase,
            Prefix,
            Suffix,
            Wildcard,
        }
        let mut kind = Kind::Plain;
        let mut tok = self.next()?;
        if tok == Tok::StartObject {
            if self.next()? != Tok::FieldName {
                return Err(self.barf("Anything-But expression name not found"));
            }
            let op = self.lx.peek_text().to_owned();
            kind = match op.as_str() {
                "equals-ignore-case" => Kind::IgnoreCase,
                "prefix" => Kind::Prefix,
                "suffix" => Kind::Suffix,
                "wildcard" => Kind::Wildcard,
                _ => return Err(self.barf(format!("Unsupported anything-but pattern: {op}"))),
            };
            tok = self.next()?;
        }
        if !matches!(tok, Tok::StartArray | Tok::Str | Tok::Num { .. }) {
            return Err(
                self.barf("Value of anything-but must be an array or single string/number value.")
            );
        }
        let wrong_type = match kind {
            Kind::IgnoreCase => {
                "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
            }
            Kind::Wildcard => "wildcard match pattern must be a string",
            _ => "prefix/suffix match pattern must be a string",
        };
        let src = self.lx.source();
        let result = if kind == Kind::Plain {
            if tok == Tok::StartArray {
                // event-ruler re-wraps errors raised inside the list, so AWS prints two locations.
                let r = self.anything_but_list();
                let at = self.lx.location();
                let r = r.map_err(|e| e.rewrap(src, at))?;
                let (texts, numbers) = r;
                if texts.is_empty() == numbers.is_empty() {
                    return Err(self.barf(
                        "Inside anything but list, either all values are number or string, mixed type is not supported",
                    ));
                }
                if numbers.is_empty() {
                    AnythingBut::Texts(texts)
                } else {
                    AnythingBut::Numbers(numbers)
                }
            } else if tok == Tok::Str {
                AnythingBut::Texts(vec![self.lx.text().to_owned()])
            } else {
                // Outside event-ruler's try block: the reason is printed without a location.
                let text = self.lx.text().to_owned();
                AnythingBut::Numbers(vec![comparable(&text).map_err(Fault::bare)?])
            }
        } else {
            let values = if tok == Tok::StartArray {
                let r =
                    self.anything_but_set(kind == Kind::Prefix || kind == Kind::Suffix, wrong_type);
                let at = self.lx.location();
                r.map_err(|e| e.rewrap(src, at))?
            } else {
                if tok != Tok::Str {
                    return Err(self.barf(wrong_type));
                }
                let text = self.lx.text().to_owned();
                if (kind == Kind::Prefix || kind == Kind::Suffix) && text.is_empty() {
                    return Err(self.barf("Null prefix/suffix not allowed"));
                }
                vec![text]
            };
            match kind {
                Kind::IgnoreCase => {
                    AnythingBut::IgnoreCase(values.iter().map(|v| Folded::new(v)).collect())
                }
                Kind::Prefix => AnythingBut::Prefixes(values),
                Kind::Suffix => AnythingBut::Suffixes(values),
                _ => {
                    let mut ws = Vec::with_capacity(values.len());
                    for v in &values {
                        ws.push(Wildcard::parse(v).map_err(|e| self.barf(e))?);
                    }
                    AnythingBut::Wildcards(ws)
                }
            }
        };
        if self.next()? != Tok::EndObject {
            return Err(self.barf("Too many elements in numeric expression"));
        }
        if kind != Kind::Plain && self.next()? != Tok::EndObject {
            return Err(self.barf("Too many elements in numeric expression"));
        }
        Ok(result)
    }

    fn anything_but_list(&mut self) -> Res<(Vec<String>, Vec<f64>)> {
        let mut texts = Vec::new();
        let mut numbers = Vec::new();
        loop {
            match self.next()? {
                Tok::EndArray => return Ok((texts, numbers)),
                Tok::Str => texts.push(self.lx.text().to_owned()),
                Tok::Num { .. } => {
                    let text = self.lx.text().to_owned();
                    numbers.push(comparable(&text).map_err(|e| self.barf(e))?);
                }
                _ => {
                    return Err(
                        self.barf("Inside anything but list, start|null|boolean is not supported.")
                    );
                }
            }
        }
    }

    fn anything_but_set(&mut self, affix: bool, wrong_type: &str) -> Res<Vec<String>> {
        let mut values = Vec::new();
        loop {
            match self.next()? {
                Tok::EndArray => return Ok(values),
                Tok::Str => {
                    let text = self.lx.text().to_owned();
                    if affix && text.is_empty() {
                        return Err(self.barf("Null prefix/suffix not allowed"));
                    }
                    values.push(text);
                }
                _ => return Err(self.barf(wrong_type)),
            }
        }
    }
}
