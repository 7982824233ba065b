//! The Trino functions Lake's queries use that DataFusion lacks or names differently:
//! `element_at` on maps and arrays, the JSON functions (`json_extract`, `json_extract_scalar`,
//! `json_array_get`, `json_array_length`, `json_parse`, `json_format`), date parts (`year`,
//! `day_of_week`, …), `date`, `date_add`, `date_diff`, `from_iso8601_timestamp`,
//! `from_iso8601_date`, `to_iso8601`, and `contains` on arrays as well as strings.
//!
//! Each is a plain function over argument arrays ([`Trino::eval`]); the adapter to
//! DataFusion's UDF interface is written once.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Date32Builder, Int64Array, Int64Builder,
    StringBuilder, TimestampMillisecondArray, TimestampMillisecondBuilder, UInt64Builder,
};
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use serde_json::Value;

use crate::convert::{days_from_civil, parse_time};
use crate::render;

type Eval = fn(&[ArrayRef]) -> Result<ArrayRef>;
type Types = fn(&[DataType]) -> Result<Vec<DataType>>;
type Returns = fn(&[DataType]) -> Result<DataType>;

/// One Trino function.
#[derive(Debug)]
struct Trino {
    name: &'static str,
    aliases: Vec<String>,
    signature: Signature,
    /// The argument types the function takes, given the caller's.
    coerce: Types,
    returns: Returns,
    eval: Eval,
}

impl PartialEq for Trino {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for Trino {}
impl std::hash::Hash for Trino {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for Trino {
    fn name(&self) -> &str {
        self.name
    }
    fn aliases(&self) -> &[String] {
        &self.aliases
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        (self.returns)(args)
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        (self.coerce)(args)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalars = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out = (self.eval)(&arrays)?;
        if scalars {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

fn udf(
    name: &'static str,
    aliases: &[&str],
    coerce: Types,
    returns: Returns,
    eval: Eval,
) -> ScalarUDF {
    ScalarUDF::from(Trino {
        name,
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        signature: Signature::user_defined(Volatility::Immutable),
        coerce,
        returns,
        eval,
    })
}

/// Adds the functions to a session (replacing DataFusion's own `contains`).
pub fn register(ctx: &SessionContext) {
    let all = [
        udf(
            "element_at",
            &[],
            element_at_types,
            element_at_returns,
            element_at,
        ),
        udf("json_extract", &[], two_strings, string, json_extract),
        udf(
            "json_extract_scalar",
            &[],
            two_strings,
            string,
            json_extract_scalar,
        ),
        udf(
            "json_array_get",
            &[],
            string_and_int,
            string,
            json_array_get,
        ),
        udf(
            "json_array_length",
            &[],
            one_string,
            int64,
            json_array_length,
        ),
        udf("json_parse", &[], one_string, string, json_parse),
        udf("json_format", &[], one_string, string, json_format),
        udf("year", &[], one_time, int64, |a| part(a, Part::Year)),
        udf("quarter", &[], one_time, int64, |a| part(a, Part::Quarter)),
        udf("month", &[], one_time, int64, |a| part(a, Part::Month)),
        udf("week", &["week_of_year"], one_time, int64, |a| {
            part(a, Part::Week)
        }),
        udf("day", &["day_of_month"], one_time, int64, |a| {
            part(a, Part::Day)
        }),
        udf("day_of_week", &["dow"], one_time, int64, |a| {
            part(a, Part::DayOfWeek)
        }),
        udf("day_of_year", &["doy"], one_time, int64, |a| {
            part(a, Part::DayOfYear)
        }),
        udf("hour", &[], one_time, int64, |a| part(a, Part::Hour)),
        udf("minute", &[], one_time, int64, |a| part(a, Part::Minute)),
        udf("second", &[], one_time, int64, |a| part(a, Part::Second)),
        udf("millisecond", &[], one_time, int64, |a| {
            part(a, Part::Millisecond)
        }),
        udf("date", &[], one_time_or_string, date32, date),
        udf(
            "from_iso8601_timestamp",
            &[],
            one_string,
            millis,
            from_iso8601_timestamp,
        ),
        udf(
            "from_iso8601_date",
            &[],
            one_string,
            date32,
            from_iso8601_date,
        ),
        udf("to_iso8601", &[], one_time, string, to_iso8601),
        udf("date_diff", &[], unit_time_time, int64, date_diff),
        udf("date_add", &[], unit_int_time, millis, date_add),
        udf("contains", &[], contains_types, boolean, contains),
    ];
    for f in all {
        ctx.register_udf(f);
    }
}

fn fail<T>(msg: impl Into<String>) -> Result<T> {
    Err(DataFusionError::Plan(msg.into()))
}

const MS: DataType = DataType::Timestamp(TimeUnit::Millisecond, None);

fn string(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Utf8)
}
fn int64(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Int64)
}
fn boolean(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Boolean)
}
fn date32(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Date32)
}
fn millis(_: &[DataType]) -> Result<DataType> {
    Ok(MS)
}

fn arity(args: &[DataType], n: usize, name: &str) -> Result<()> {
    if args.len() == n {
        Ok(())
    } else {
        fail(format!("{name} takes {n} argument(s), not {}", args.len()))
    }
}

fn is_time(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64
    )
}

fn one_string(args: &[DataType]) -> Result<Vec<DataType>> {
    arity(args, 1, "the function")?;
    Ok(vec![DataType::Utf8])
}
fn two_strings(args: &[DataType]) -> Result<Vec<DataType>> {
    arity(args, 2, "the function")?;
    Ok(vec![DataType::Utf8, DataType::Utf8])
}
fn string_and_int(args: &[DataType]) -> Result<Vec<DataType>> {
    arity(args, 2, "the function")?;
    Ok(vec![DataType::Utf8, DataType::Int64])
}
fn one_time(args: &[DataType]) -> Result<Vec<DataType>> {
    arity(args, 1, "the function")?;
    if !is_time(&args[0]) && args[0] != DataType::Null {
        return fail(format!("expected a timestamp or date, got {}", args[0]));
    }
    Ok(vec![MS])
}
fn one_time_or_string(args: &[DataType]) -> Result<Vec<DataType>> {
    arity(args, 1, "date")?;
    Ok(vec![if is_time(&args[0]) {
        MS
    } else {
        DataType::Utf8
    }])
}
fn unit_time_time(args: &[DataType]) -> Result<Vec<DataType>> {
    arity(args, 3, "date_diff")?;
    Ok(vec![DataType::Utf8, MS, MS])
}
fn unit_int_time(args: &[DataType]) -> Result<Vec<DataType>> {
    arity(args, 3, "date_add")?;
    Ok(vec![DataType::Utf8, DataType::Int64, MS])
}

/// The i-th value of an argument that may be a single broadcast value.
fn at(a: &ArrayRef, i: usize) -> usize {
    if a.len() == 1 { 0 } else { i }
}

fn rows(args: &[ArrayRef]) -> usize {
    args.iter().map(|a| a.len()).max().unwrap_or(0)
}

// ---- element_at ----

fn element_at_types(args: &[DataType]) -> Result<Vec<DataType>> {
    arity(args, 2, "element_at")?;
    match &args[0] {
        DataType::Map(entries, _) => {
            let DataType::Struct(kv) = entries.data_type() else {
                return fail("element_at: malformed map");
            };
            Ok(vec![args[0].clone(), kv[0].data_type().clone()])
        }
        DataType::List(_) | DataType::LargeList(_) => Ok(vec![args[0].clone(), DataType::Int64]),
        other => fail(format!("element_at takes a map or an array, not {other}")),
    }
}

fn element_at_returns(args: &[DataType]) -> Result<DataType> {
    match args.first() {
        Some(DataType::Map(entries, _)) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => Ok(kv[1].data_type().clone()),
            _ => fail("element_at: malformed map"),
        },
        Some(DataType::List(item)) | Some(DataType::LargeList(item)) => {
            Ok(item.data_type().clone())
        }
        _ => fail("element_at takes a map or an array"),
    }
}

fn element_at(args: &[ArrayRef]) -> Result<ArrayRef> {
    let n = rows(args);
    let (container, key) = (&args[0], &args[1]);
    let mut picks = UInt64Builder::with_capacity(n);
    match container.data_type() {
        DataType::Map(_, _) => {
            let m = container.as_map();
            let offsets = m.value_offsets();
            let keys = m.keys();
            for i in 0..n {
                let (ci, ki) = (at(container, i), at(key, i));
                if m.is_null(ci) || key.is_null(ki) {
                    picks.append_null();
                    continue;
                }
                let want = render::value(key.as_ref(), ki);
                let (s, e) = (offsets[ci] as usize, offsets[ci + 1] as usize);
                let hit = (s..e).find(|&j| render::value(keys.as_ref(), j) == want);
                picks.append_option(hit.map(|j| j as u64));
            }
            Ok(take(m.values().as_ref(), &picks.finish(), None)?)
        }
        DataType::List(_) => {
            let l = container.as_list::<i32>();
            let offsets = l.value_offsets();
            let idx = key.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
            for i in 0..n {
                let (ci, ki) = (at(container, i), at(key, i));
                if l.is_null(ci) || idx.is_null(ki) {
                    picks.append_null();
                    continue;
                }
                let (s, e) = (i64::from(offsets[ci]), i64::from(offsets[ci + 1]));
                let k = idx.value(ki);
                if k == 0 {
                    return Err(DataFusionError::Execution(
                        "SQL array indices start at 1".into(),
                    ));
                }
                let j = if k > 0 { s + k - 1 } else { e + k };
                picks.append_option((j >= s && j < e).then_some(j as u64));
            }
            Ok(take(l.values().as_ref(), &picks.finish(), None)?)
        }
        other => fail(format!("element_at takes a map or an array, not {other}")),
    }
}

// ---- JSON ----

/// A step of a JSON path: `.name`, `["name"]`, `[n]`.
#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Trino's JSONPath subset: `$`, then `.name`, `["name"]`, `['name']` or `[n]` steps.
fn json_path(path: &str) -> Option<Vec<Step>> {
    let b = path.trim().as_bytes();
    if b.first() != Some(&b'$') {
        return None;
    }
    let mut steps = Vec::new();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'.' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                    j += 1;
                }
                if j == start {
                    return None;
                }
                steps.push(Step::Key(
                    String::from_utf8_lossy(&b[start..j]).into_owned(),
                ));
                i = j;
            }
            b'[' => {
                let close = b[i..].iter().position(|c| *c == b']')? + i;
                let inner = std::str::from_utf8(&b[i + 1..close]).ok()?.trim();
                if let Some(q) = inner
                    .strip_prefix('"')
                    .and_then(|s| s.strip_suffix('"'))
                    .or_else(|| inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
                {
                    steps.push(Step::Key(q.to_string()));
                } else {
                    steps.push(Step::Index(inner.parse().ok()?));
                }
                i = close + 1;
            }
            _ => return None,
        }
    }
    Some(steps)
}

fn walk<'a>(mut v: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    for s in steps {
        v = match (s, v) {
            (Step::Key(k), Value::Object(o)) => o.get(k)?,
            (Step::Index(n), Value::Array(a)) => a.get(*n)?,
            _ => return None,
        };
    }
    Some(v)
}

/// Applies `f` to each row's JSON text (and second argument), building strings.
fn json_map(
    args: &[ArrayRef],
    f: impl Fn(&Value, Option<&ArrayRef>, usize) -> Result<Option<String>>,
) -> Result<ArrayRef> {
    let n = rows(args);
    let text = args[0].as_string::<i32>();
    let mut out = StringBuilder::with_capacity(n, n * 16);
    for i in 0..n {
        let ti = at(&args[0], i);
        if text.is_null(ti) || args.get(1).is_some_and(|a| a.is_null(at(a, i))) {
            out.append_null();
            continue;
        }
        match serde_json::from_str::<Value>(text.value(ti)) {
            Ok(v) => out.append_option(f(&v, args.get(1), i)?),
            Err(_) => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn path_arg(a: Option<&ArrayRef>, i: usize) -> Result<Vec<Step>> {
    let Some(a) = a else {
        return fail("a JSON path is required");
    };
    let p = a.as_string::<i32>().value(at(a, i));
    json_path(p).ok_or_else(|| DataFusionError::Execution(format!("Invalid JSON path: '{p}'")))
}

fn json_extract(args: &[ArrayRef]) -> Result<ArrayRef> {
    json_map(args, |v, p, i| {
        Ok(walk(v, &path_arg(p, i)?).map(|hit| hit.to_string()))
    })
}

fn json_extract_scalar(args: &[ArrayRef]) -> Result<ArrayRef> {
    json_map(args, |v, p, i| {
        Ok(match walk(v, &path_arg(p, i)?) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            _ => None,
        })
    })
}

fn json_array_get(args: &[ArrayRef]) -> Result<ArrayRef> {
    json_map(args, |v, idx, i| {
        let Some(idx) = idx else { return Ok(None) };
        let k = idx
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
            .value(at(idx, i));
        let Value::Array(a) = v else { return Ok(None) };
        let j = if k >= 0 { k } else { a.len() as i64 + k };
        Ok(usize::try_from(j)
            .ok()
            .and_then(|j| a.get(j))
            .map(|x| x.to_string()))
    })
}

fn json_array_length(args: &[ArrayRef]) -> Result<ArrayRef> {
    let text = args[0].as_string::<i32>();
    let out: Int64Array = (0..text.len())
        .map(|i| {
            if text.is_null(i) {
                return None;
            }
            match serde_json::from_str::<Value>(text.value(i)) {
                Ok(Value::Array(a)) => Some(a.len() as i64),
                _ => None,
            }
        })
        .collect();
    Ok(Arc::new(out))
}

fn json_parse(args: &[ArrayRef]) -> Result<ArrayRef> {
    json_map(args, |v, _, _| Ok(Some(v.to_string())))
}

fn json_format(args: &[ArrayRef]) -> Result<ArrayRef> {
    json_parse(args)
}

// ---- dates ----

#[derive(Clone, Copy)]
enum Part {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    DayOfWeek,
    DayOfYear,
    Hour,
    Minute,
    Second,
    Millisecond,
}

/// A date's (year, month, day) from days since the epoch.
fn civil(day: i64) -> (i64, i64, i64) {
    let label = crate::files::day_label(day);
    let mut it = label.split('-').map(|p| p.parse::<i64>().unwrap_or(0));
    let y = it.next().unwrap_or(1970);
    let m = it.next().unwrap_or(1);
    let d = it.next().unwrap_or(1);
    (y, m, d)
}

fn iso_week(day: i64) -> i64 {
    // ISO 8601: the week with the year's first Thursday is week 1.
    let dow = (day + 3).rem_euclid(7) + 1; // Monday 1 … Sunday 7
    let thursday = day - dow + 4;
    let (y, _, _) = civil(thursday);
    (thursday - days_from_civil(y, 1, 1)) / 7 + 1
}

fn part(args: &[ArrayRef], which: Part) -> Result<ArrayRef> {
    use datafusion::arrow::datatypes::Int64Type;
    let t = times(&args[0])?;
    // One tight loop per part over the values (nulls kept as they are), computing only what
    // that part needs: the calendar date only for the parts that are read from it.
    fn over(t: &TimestampMillisecondArray, f: impl Fn(i64) -> i64) -> Int64Array {
        t.unary::<_, Int64Type>(f)
    }
    let day = |ms: i64| ms.div_euclid(86_400_000);
    let in_day = |ms: i64| ms.rem_euclid(86_400_000);
    let out = match which {
        Part::Year => over(&t, |ms| civil(day(ms)).0),
        Part::Quarter => over(&t, |ms| (civil(day(ms)).1 - 1) / 3 + 1),
        Part::Month => over(&t, |ms| civil(day(ms)).1),
        Part::Week => over(&t, |ms| iso_week(day(ms))),
        Part::Day => over(&t, |ms| civil(day(ms)).2),
        Part::DayOfWeek => over(&t, |ms| (day(ms) + 3).rem_euclid(7) + 1),
        Part::DayOfYear => over(&t, |ms| {
            let d = day(ms);
            d - days_from_civil(civil(d).0, 1, 1) + 1
        }),
        Part::Hour => over(&t, |ms| in_day(ms) / 3_600_000),
        Part::Minute => over(&t, |ms| in_day(ms) / 60_000 % 60),
        Part::Second => over(&t, |ms| in_day(ms) / 1000 % 60),
        Part::Millisecond => over(&t, |ms| in_day(ms) % 1000),
    };
    Ok(Arc::new(out))
}

fn times(a: &ArrayRef) -> Result<TimestampMillisecondArray> {
    let c = cast(a.as_ref(), &MS)?;
    Ok(
        c.as_primitive::<datafusion::arrow::datatypes::TimestampMillisecondType>()
            .clone(),
    )
}

fn date(args: &[ArrayRef]) -> Result<ArrayRef> {
    let mut out = Date32Builder::with_capacity(args[0].len());
    if args[0].data_type() == &DataType::Utf8 {
        let s = args[0].as_string::<i32>();
        for i in 0..s.len() {
            let day = (!s.is_null(i))
                .then(|| {
                    parse_time(s.value(i))
                        .or_else(|| parse_time(&format!("{}T00:00:00Z", s.value(i))))
                })
                .flatten()
                .map(|ms| ms.div_euclid(86_400_000) as i32);
            out.append_option(day);
        }
    } else {
        for v in times(&args[0])?.iter() {
            out.append_option(v.map(|ms| ms.div_euclid(86_400_000) as i32));
        }
    }
    Ok(Arc::new(out.finish()))
}

fn from_iso8601_timestamp(args: &[ArrayRef]) -> Result<ArrayRef> {
    let s = args[0].as_string::<i32>();
    let mut out = TimestampMillisecondBuilder::with_capacity(s.len());
    for i in 0..s.len() {
        if s.is_null(i) {
            out.append_null();
            continue;
        }
        let text = s.value(i);
        let parsed = parse_time(text).or_else(|| parse_time(&format!("{text}T00:00:00Z")));
        match parsed {
            Some(ms) => out.append_value(ms),
            None => {
                return Err(DataFusionError::Execution(format!(
                    "Invalid format: \"{text}\""
                )));
            }
        }
    }
    Ok(Arc::new(out.finish()))
}

fn from_iso8601_date(args: &[ArrayRef]) -> Result<ArrayRef> {
    let ts = from_iso8601_timestamp(args)?;
    date(&[ts])
}

fn to_iso8601(args: &[ArrayRef]) -> Result<ArrayRef> {
    let t = times(&args[0])?;
    let mut out = StringBuilder::with_capacity(t.len(), t.len() * 24);
    for v in t.iter() {
        out.append_option(v.map(|ms| {
            let mut s = String::new();
            render::timestamp(&mut s, ms);
            format!("{}Z", s.replacen(' ', "T", 1))
        }));
    }
    Ok(Arc::new(out.finish()))
}

#[derive(Clone, Copy, PartialEq)]
enum Unit {
    Fixed(i64),
    Months(i64),
}

fn unit(name: &str) -> Result<Unit> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "millisecond" => Unit::Fixed(1),
        "second" => Unit::Fixed(1000),
        "minute" => Unit::Fixed(60_000),
        "hour" => Unit::Fixed(3_600_000),
        "day" => Unit::Fixed(86_400_000),
        "week" => Unit::Fixed(7 * 86_400_000),
        "month" => Unit::Months(1),
        "quarter" => Unit::Months(3),
        "year" => Unit::Months(12),
        other => {
            return Err(DataFusionError::Execution(format!(
                "'{other}' is not a valid Time field"
            )));
        }
    })
}

/// Whole months from `a` to `b`, counted as Trino does (a month passes when the day and time
/// of day are reached).
fn months_between(a: i64, b: i64) -> i64 {
    let (da, db) = (a.div_euclid(86_400_000), b.div_euclid(86_400_000));
    let (ya, ma, _) = civil(da);
    let (yb, mb, _) = civil(db);
    let mut months = (yb - ya) * 12 + (mb - ma);
    if months > 0 && add_months(a, months) > b {
        months -= 1;
    } else if months < 0 && add_months(a, months) < b {
        months += 1;
    }
    months
}

fn add_months(ms: i64, months: i64) -> i64 {
    let day = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil(day);
    let total = y * 12 + (m - 1) + months;
    let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    let last = days_from_civil(
        if nm == 12 { ny + 1 } else { ny },
        if nm == 12 { 1 } else { nm + 1 },
        1,
    ) - days_from_civil(ny, nm, 1);
    (days_from_civil(ny, nm, d.min(last)) * 86_400_000) + in_day
}

fn date_diff(args: &[ArrayRef]) -> Result<ArrayRef> {
    let n = rows(args);
    let units = args[0].as_string::<i32>();
    let (a, b) = (times(&args[1])?, times(&args[2])?);
    let mut out = Int64Builder::with_capacity(n);
    for i in 0..n {
        let (ui, ai, bi) = (at(&args[0], i), at(&args[1], i), at(&args[2], i));
        if units.is_null(ui) || a.is_null(ai) || b.is_null(bi) {
            out.append_null();
            continue;
        }
        let (x, y) = (a.value(ai), b.value(bi));
        out.append_value(match unit(units.value(ui))? {
            Unit::Fixed(ms) => (y - x) / ms,
            Unit::Months(k) => months_between(x, y) / k,
        });
    }
    Ok(Arc::new(out.finish()))
}

fn date_add(args: &[ArrayRef]) -> Result<ArrayRef> {
    let n = rows(args);
    let units = args[0].as_string::<i32>();
    let amounts = args[1].as_primitive::<datafusion::arrow::datatypes::Int64Type>();
    let t = times(&args[2])?;
    let mut out = TimestampMillisecondBuilder::with_capacity(n);
    for i in 0..n {
        let (ui, ni, ti) = (at(&args[0], i), at(&args[1], i), at(&args[2], i));
        if units.is_null(ui) || amounts.is_null(ni) || t.is_null(ti) {
            out.append_null();
            continue;
        }
        let (k, ms) = (amounts.value(ni), t.value(ti));
        out.append_value(match unit(units.value(ui))? {
            Unit::Fixed(step) => ms.saturating_add(k.saturating_mul(step)),
            Unit::Months(m) => add_months(ms, k.saturating_mul(m)),
        });
    }
    Ok(Arc::new(out.finish()))
}

// ---- contains ----

fn contains_types(args: &[DataType]) -> Result<Vec<DataType>> {
    arity(args, 2, "contains")?;
    match &args[0] {
        DataType::List(item) => Ok(vec![args[0].clone(), item.data_type().clone()]),
        _ => Ok(vec![DataType::Utf8, DataType::Utf8]),
    }
}

fn contains(args: &[ArrayRef]) -> Result<ArrayRef> {
    let n = rows(args);
    let (hay, needle) = (&args[0], &args[1]);
    let mut out = BooleanBuilder::with_capacity(n);
    match hay.data_type() {
        DataType::List(_) => {
            let l = hay.as_list::<i32>();
            for i in 0..n {
                let (hi, ni) = (at(hay, i), at(needle, i));
                if l.is_null(hi) || needle.is_null(ni) {
                    out.append_null();
                    continue;
                }
                let want = render::value(needle.as_ref(), ni);
                let items = l.value(hi);
                out.append_value(
                    (0..items.len()).any(|j| render::value(items.as_ref(), j) == want),
                );
            }
        }
        _ => {
            let (h, s) = (hay.as_string::<i32>(), needle.as_string::<i32>());
            for i in 0..n {
                let (hi, ni) = (at(hay, i), at(needle, i));
                if h.is_null(hi) || s.is_null(ni) {
                    out.append_null();
                    continue;
                }
                out.append_value(h.value(hi).contains(s.value(ni)));
            }
        }
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths_parse() {
        assert_eq!(json_path("$"), Some(vec![]));
        assert_eq!(
            json_path("$.a[0][\"b c\"].d"),
            Some(vec![
                Step::Key("a".into()),
                Step::Index(0),
                Step::Key("b c".into()),
                Step::Key("d".into())
            ])
        );
        assert_eq!(json_path("a.b"), None);
        assert_eq!(json_path("$."), None);
    }

    #[test]
    fn weeks_and_months_count_as_trino_does() {
        // 2021-01-03 is a Sunday in ISO week 53 of 2020; 2021-01-04 starts week 1.
        assert_eq!(iso_week(days_from_civil(2021, 1, 3)), 53);
        assert_eq!(iso_week(days_from_civil(2021, 1, 4)), 1);
        let day = |y, m, d| days_from_civil(y, m, d) * 86_400_000;
        assert_eq!(add_months(day(2024, 1, 31), 1), day(2024, 2, 29));
        assert_eq!(months_between(day(2024, 1, 15), day(2024, 2, 14)), 0);
        assert_eq!(months_between(day(2024, 1, 15), day(2024, 2, 15)), 1);
        assert_eq!(months_between(day(2024, 3, 31), day(2024, 1, 31)), -2);
    }
}
