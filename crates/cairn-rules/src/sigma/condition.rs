//! A Sigma detection's `condition`: searches combined with `and`, `or`, `not`, parentheses,
//! `1 of pattern*`, `all of pattern*`, `1 of them` and `all of them`, optionally followed by
//! an aggregation (`| count(field) by field > N`, judged over the detection's `timeframe`).

use super::SigmaError;

/// A parsed condition over the detection's searches (by index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    Search(usize),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

impl Cond {
    /// Evaluates with `search(i)` telling whether search `i` matched (asked lazily, so
    /// `and` stops at its first miss).
    pub fn eval(&self, search: &mut dyn FnMut(usize) -> bool) -> bool {
        match self {
            Cond::Search(i) => search(*i),
            Cond::Not(c) => !c.eval(search),
            Cond::And(cs) => cs.iter().all(|c| c.eval(search)),
            Cond::Or(cs) => cs.iter().any(|c| c.eval(search)),
        }
    }
}

impl Cond {
    /// The values one of which a field must have for the condition to hold, given each
    /// search's (`None`: the condition does not narrow the field).
    pub fn required(&self, search: &dyn Fn(usize) -> Option<Vec<String>>) -> Option<Vec<String>> {
        match self {
            Cond::Search(i) => search(*i),
            Cond::Not(_) => None,
            // Any narrowing part narrows the whole.
            Cond::And(cs) => cs.iter().find_map(|c| c.required(search)),
            Cond::Or(cs) => {
                let mut out = Vec::new();
                for c in cs {
                    out.extend(c.required(search)?);
                }
                Some(out)
            }
        }
    }
}

/// An aggregation: how many matching records (or distinct values of a field), per group,
/// within the timeframe, make a finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregation {
    /// Count distinct values of this field (`count(field)`), else records.
    pub distinct: Option<String>,
    /// Counted separately for each value of this field (`by field`).
    pub group_by: Option<String>,
    pub op: Compare,
    pub threshold: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
}

impl Compare {
    pub fn holds(self, n: f64, threshold: f64) -> bool {
        match self {
            Compare::Gt => n > threshold,
            Compare::Gte => n >= threshold,
            Compare::Lt => n < threshold,
            Compare::Lte => n <= threshold,
            Compare::Eq => (n - threshold).abs() < f64::EPSILON,
        }
    }
}

/// Parses `text` over the searches `names`.
pub fn parse(text: &str, names: &[String]) -> Result<(Cond, Option<Aggregation>), SigmaError> {
    let (expr, agg) = match text.split_once('|') {
        Some((e, a)) => (e, Some(aggregation(a.trim())?)),
        None => (text, None),
    };
    let tokens = tokenize(expr);
    let mut p = Parser {
        tokens: &tokens,
        at: 0,
        names,
        text,
    };
    let cond = p.or()?;
    if p.at != tokens.len() {
        return Err(p.bad(&format!("unexpected '{}'", tokens[p.at])));
    }
    Ok((cond, agg))
}

fn tokenize(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in s.chars() {
        match c {
            '(' | ')' => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                out.push(c.to_string());
            }
            c if c.is_whitespace() => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

struct Parser<'a> {
    tokens: &'a [String],
    at: usize,
    names: &'a [String],
    text: &'a str,
}

impl Parser<'_> {
    fn bad(&self, why: &str) -> SigmaError {
        SigmaError::Invalid(format!("condition '{}': {why}", self.text.trim()))
    }

    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(String::as_str)
    }

    fn keyword(&mut self, k: &str) -> bool {
        if self.peek().is_some_and(|t| t.eq_ignore_ascii_case(k)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Cond, SigmaError> {
        let mut parts = vec![self.and()?];
        while self.keyword("or") {
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.swap_remove(0)
        } else {
            Cond::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Cond, SigmaError> {
        let mut parts = vec![self.not()?];
        while self.keyword("and") {
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 {
            parts.swap_remove(0)
        } else {
            Cond::And(parts)
        })
    }

    fn not(&mut self) -> Result<Cond, SigmaError> {
        if self.keyword("not") {
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Cond, SigmaError> {
        let Some(t) = self.peek().map(str::to_owned) else {
            return Err(self.bad("ends too early"));
        };
        self.at += 1;
        if t == "(" {
            let c = self.or()?;
            if !self.keyword(")") {
                return Err(self.bad("a '(' is not closed"));
            }
            return Ok(c);
        }
        if self.keyword("of") {
            let all = match t.to_ascii_lowercase().as_str() {
                "1" | "any" => false,
                "all" => true,
                other => {
                    return Err(SigmaError::Unsupported(format!(
                        "'{other} of' in a condition (only '1 of' and 'all of')"
                    )));
                }
            };
            let Some(target) = self.peek().map(str::to_owned) else {
                return Err(self.bad("'of' names nothing"));
            };
            self.at += 1;
            let chosen: Vec<usize> = self
                .names
                .iter()
                .enumerate()
                .filter(|(_, n)| {
                    if target.eq_ignore_ascii_case("them") {
                        !n.starts_with('_')
                    } else {
                        glob(&target, n)
                    }
                })
                .map(|(i, _)| i)
                .collect();
            if chosen.is_empty() {
                return Err(self.bad(&format!("no search matches '{target}'")));
            }
            let each = chosen.into_iter().map(Cond::Search).collect();
            return Ok(if all { Cond::And(each) } else { Cond::Or(each) });
        }
        match self.names.iter().position(|n| *n == t) {
            Some(i) => Ok(Cond::Search(i)),
            None => Err(self.bad(&format!("there is no search named '{t}'"))),
        }
    }
}

/// A name pattern with `*` wildcards (`selection_*`).
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else {
                return false;
            };
            if rest.is_empty() {
                return true;
            }
            (0..=tail.len()).any(|i| tail.is_char_boundary(i) && glob(rest, &tail[i..]))
        }
    }
}

/// `count() > 5`, `count(field) by other >= 3`.
fn aggregation(s: &str) -> Result<Aggregation, SigmaError> {
    let bad = || {
        SigmaError::Invalid(format!(
            "aggregation '{s}' is not `count([field]) [by field] <op> <number>`"
        ))
    };
    let rest = s.strip_prefix("count").ok_or_else(|| {
        SigmaError::Unsupported(format!("the aggregation '{s}' (only count() is supported)"))
    })?;
    let rest = rest.trim_start().strip_prefix('(').ok_or_else(bad)?;
    let (inner, rest) = rest.split_once(')').ok_or_else(bad)?;
    let distinct = Some(inner.trim().to_owned()).filter(|f| !f.is_empty());
    let mut words = rest.split_whitespace().peekable();
    let mut group_by = None;
    if words.peek().is_some_and(|w| w.eq_ignore_ascii_case("by")) {
        words.next();
        group_by = Some(words.next().ok_or_else(bad)?.to_owned());
    }
    let op = match words.next().ok_or_else(bad)? {
        ">" => Compare::Gt,
        ">=" => Compare::Gte,
        "<" => Compare::Lt,
        "<=" => Compare::Lte,
        "=" | "==" => Compare::Eq,
        _ => return Err(bad()),
    };
    let threshold = words.next().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
    if words.next().is_some() {
        return Err(bad());
    }
    Ok(Aggregation {
        distinct,
        group_by,
        op,
        threshold,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn precedence_not_and_or() {
        let n = names(&["a", "b", "c"]);
        let (c, _) = parse("a or b and not c", &n).unwrap();
        assert_eq!(
            c,
            Cond::Or(vec![
                Cond::Search(0),
                Cond::And(vec![Cond::Search(1), Cond::Not(Box::new(Cond::Search(2)))])
            ])
        );
        let (c, _) = parse("(a or b) and c", &n).unwrap();
        assert!(matches!(c, Cond::And(_)));
    }

    #[test]
    fn of_patterns_and_them() {
        let n = names(&["selection", "filter_main_a", "filter_main_b", "_hidden"]);
        let (c, _) = parse("selection and not 1 of filter_main_*", &n).unwrap();
        assert_eq!(
            c,
            Cond::And(vec![
                Cond::Search(0),
                Cond::Not(Box::new(Cond::Or(vec![Cond::Search(1), Cond::Search(2)])))
            ])
        );
        let (c, _) = parse("all of them", &n).unwrap();
        assert_eq!(
            c,
            Cond::And(vec![Cond::Search(0), Cond::Search(1), Cond::Search(2)])
        );
        assert!(parse("1 of nothing*", &n).is_err());
        assert!(parse("selection and", &n).is_err());
        assert!(parse("missing", &n).is_err());
    }

    #[test]
    fn aggregations() {
        let n = names(&["selection"]);
        let (_, a) = parse("selection | count() by userIdentity.arn > 20", &n).unwrap();
        let a = a.unwrap();
        assert_eq!(a.group_by.as_deref(), Some("userIdentity.arn"));
        assert_eq!((a.op, a.threshold), (Compare::Gt, 20.0));
        let (_, a) = parse("selection | count(eventName) >= 3", &n).unwrap();
        assert_eq!(a.unwrap().distinct.as_deref(), Some("eventName"));
        assert!(matches!(
            parse("selection | max(x) > 3", &n),
            Err(SigmaError::Unsupported(_))
        ));
    }
}
