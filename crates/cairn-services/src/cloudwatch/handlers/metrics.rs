//! Publishing and reading metric datapoints: `PutMetricData` with AWS's checks,
//! `GetMetricStatistics` and `GetMetricData` (metric statistics per period, units kept apart),
//! and `ListMetrics`.

use std::collections::BTreeMap;

use cairn_rules::alarm::{
    DatumValue as RulesValue, ExtendedStatistic, PeriodAggregate, Statistic, StatisticSet,
};
use cairn_store::metrics::{Datum, DatumValue, MetricKey};
use cairn_wire::AwsError;
use serde_json::{Map, Value, json};

use super::{
    internal, invalid_combination, invalid_value, missing, page, required, str_member, strings,
    time_ms, validation,
};
use crate::app::App;
use crate::cloudwatch::wire::seconds;
use crate::recorder::CallContext;

/// A metric within a namespace: its name and (sorted) dimensions.
type MetricId = (String, Vec<(String, String)>);

/// A statistic, simple or extended, over one period.
type Compute = Box<dyn Fn(&PeriodAggregate) -> Option<f64>>;

/// The units `StandardUnit` allows.
pub(crate) const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

const MAX_DATA: usize = 1000;
const MAX_DIMENSIONS: usize = 30;
const TWO_WEEKS_MS: i64 = 14 * 86_400_000;
const TWO_HOURS_MS: i64 = 2 * 3_600_000;
/// Values must lie within ±2^360.
const LIMIT: f64 = 2.348_542_582_773_833_3e108;
/// Most datapoints one GetMetricStatistics answer holds.
const MAX_POINTS: i64 = 1440;

fn check_unit(unit: &str, member: &str) -> Result<(), AwsError> {
    if UNITS.contains(&unit) {
        return Ok(());
    }
    Err(validation(format!(
        "1 validation error detected: Value '{unit}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
        UNITS.join(", ")
    )))
}

fn check_value(v: f64, member: &str) -> Result<f64, AwsError> {
    if v.is_finite() && v.abs() <= LIMIT {
        return Ok(v);
    }
    Err(invalid_value(format!(
        "The value {v} for parameter {member} is invalid."
    )))
}

/// `[{"Name":…,"Value":…}]` as sorted (name, value) pairs, checked.
fn dimensions(v: Option<&Value>, member: &str) -> Result<Vec<(String, String)>, AwsError> {
    let Some(list) = v.and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    if list.len() > MAX_DIMENSIONS {
        return Err(invalid_value(format!(
            "The collection {member} must not have a size greater than {MAX_DIMENSIONS}."
        )));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, d) in list.iter().enumerate() {
        let name = str_member(d, "Name")
            .ok_or_else(|| missing(&format!("{member}.member.{}.Name", i + 1)))?;
        let value = str_member(d, "Value")
            .ok_or_else(|| missing(&format!("{member}.member.{}.Value", i + 1)))?;
        out.push((name.to_owned(), value.to_owned()));
    }
    out.sort();
    Ok(out)
}

/// One `MetricDatum`, checked, as the metric it belongs to and the datapoint.
fn datum(d: &Value, n: usize, now_ms: i64) -> Result<(MetricId, Datum), AwsError> {
    let at = |m: &str| format!("MetricData.member.{n}.{m}");
    let name = str_member(d, "MetricName").ok_or_else(|| missing(&at("MetricName")))?;
    let dims = dimensions(d.get("Dimensions"), &at("Dimensions"))?;
    let given: Vec<&str> = ["Value", "StatisticValues", "Values"]
        .into_iter()
        .filter(|m| d.get(*m).is_some())
        .collect();
    if given.len() > 1 {
        return Err(invalid_combination(format!(
            "The parameters {} and {} are mutually exclusive and you have specified both.",
            at(given[0]),
            at(given[1])
        )));
    }
    let value = if let Some(v) = d.get("Value") {
        let v = v.as_f64().ok_or_else(|| {
            invalid_value(format!("The parameter {} must be a number.", at("Value")))
        })?;
        DatumValue::Values(vec![(check_value(v, &at("Value"))?, 1.0)])
    } else if let Some(s) = d.get("StatisticValues") {
        let part = |m: &str| -> Result<f64, AwsError> {
            let v = s
                .get(m)
                .and_then(Value::as_f64)
                .ok_or_else(|| missing(&at(&format!("StatisticValues.{m}"))))?;
            check_value(v, &at(&format!("StatisticValues.{m}")))
        };
        DatumValue::Set {
            sample_count: part("SampleCount")?,
            sum: part("Sum")?,
            minimum: part("Minimum")?,
            maximum: part("Maximum")?,
        }
    } else if let Some(vs) = d.get("Values").and_then(Value::as_array) {
        let counts = d.get("Counts").and_then(Value::as_array);
        if let Some(c) = counts
            && c.len() != vs.len()
        {
            return Err(invalid_value(format!(
                "The parameters {} and {} must be of the same size.",
                at("Values"),
                at("Counts")
            )));
        }
        if vs.len() > 150 {
            return Err(invalid_value(format!(
                "The collection {} must not have a size greater than 150.",
                at("Values")
            )));
        }
        let mut pairs = Vec::with_capacity(vs.len());
        for (i, v) in vs.iter().enumerate() {
            let v = check_value(v.as_f64().unwrap_or(f64::NAN), &at("Values"))?;
            let c = counts
                .and_then(|c| c.get(i))
                .and_then(Value::as_f64)
                .unwrap_or(1.0);
            pairs.push((v, c));
        }
        DatumValue::Values(pairs)
    } else {
        return Err(invalid_combination(format!(
            "At least one of the parameters {}, {} or {} must be specified.",
            at("Value"),
            at("StatisticValues"),
            at("Values")
        )));
    };
    let unit = str_member(d, "Unit");
    if let Some(u) = unit {
        check_unit(u, &at("Unit"))?;
    }
    let t = time_ms(d, "Timestamp")?.unwrap_or(now_ms);
    if t < now_ms - TWO_WEEKS_MS || t > now_ms + TWO_HOURS_MS {
        return Err(invalid_value(format!(
            "The parameter {} must specify a time no more than two weeks in the past and no more than two hours in the future.",
            at("Timestamp")
        )));
    }
    Ok((
        (name.to_owned(), dims),
        Datum {
            timestamp_ms: t,
            // Unit `None` is stored as no unit: they are the same to every reader.
            unit: unit.filter(|u| *u != "None").map(str::to_owned),
            value,
        },
    ))
}

pub(super) fn put_metric_data(
    app: &App,
    ctx: &CallContext,
    input: &Value,
) -> Result<Value, AwsError> {
    let namespace = required(input, "Namespace")?;
    if namespace.starts_with("AWS/") {
        return Err(invalid_value(format!(
            "The value {namespace} for parameter Namespace is invalid."
        )));
    }
    if input.get("EntityMetricData").is_some() {
        return Err(validation(
            "cairn does not support EntityMetricData; send MetricData.",
        ));
    }
    let data = input
        .get("MetricData")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("MetricData"))?;
    if data.len() > MAX_DATA {
        return Err(invalid_value(format!(
            "The collection MetricData must not have a size greater than {MAX_DATA}."
        )));
    }
    let now = app.clock.now_millis();
    let mut by_metric: BTreeMap<MetricId, Vec<Datum>> = BTreeMap::new();
    for (i, d) in data.iter().enumerate() {
        let (metric, datum) = datum(d, i + 1, now)?;
        by_metric.entry(metric).or_default().push(datum);
    }
    for ((name, dims), data) in by_metric {
        let key = MetricKey::new(&ctx.recipient_account, &ctx.region, namespace, &name, dims);
        app.metrics.put_data(&key, &data).map_err(internal)?;
    }
    Ok(json!({}))
}

/// A stored value in the evaluator's terms.
pub(crate) fn rules_value(v: &DatumValue) -> RulesValue {
    match v {
        DatumValue::Values(pairs) => RulesValue::Values {
            values: pairs.iter().map(|p| p.0).collect(),
            counts: pairs.iter().map(|p| p.1).collect(),
        },
        DatumValue::Set {
            sample_count,
            sum,
            minimum,
            maximum,
        } => RulesValue::StatisticSet(StatisticSet {
            sample_count: *sample_count,
            sum: *sum,
            minimum: *minimum,
            maximum: *maximum,
        }),
    }
}

/// What a statistics query asks: the metric, the window, the period, the unit, statistics.
struct Query {
    key: MetricKey,
    start_ms: i64,
    end_ms: i64,
    period_ms: i64,
    unit: Option<String>,
}

/// Datapoints of the query's metric grouped per period (aligned to multiples of the period)
/// and per unit, oldest first.
fn periods(app: &App, q: &Query) -> Result<Vec<(i64, String, PeriodAggregate)>, AwsError> {
    let data = app
        .metrics
        .data(&q.key, q.start_ms, q.end_ms)
        .map_err(internal)?;
    let mut groups: BTreeMap<(i64, String), Vec<RulesValue>> = BTreeMap::new();
    for d in data {
        let unit = d.unit.clone().unwrap_or_else(|| "None".to_owned());
        if q.unit.as_ref().is_some_and(|u| *u != unit) {
            continue;
        }
        let start = d.timestamp_ms.div_euclid(q.period_ms) * q.period_ms;
        groups
            .entry((start, unit))
            .or_default()
            .push(rules_value(&d.value));
    }
    Ok(groups
        .into_iter()
        .map(|((start, unit), values)| {
            let agg = PeriodAggregate::of(start, values.iter());
            (start, unit, agg)
        })
        .collect())
}

fn check_period(period: i64) -> Result<(), AwsError> {
    if period < 1 {
        return Err(validation(format!(
            "1 validation error detected: Value '{period}' at 'period' failed to satisfy constraint: Member must have value greater than or equal to 1"
        )));
    }
    if !matches!(period, 1 | 5 | 10 | 20 | 30) && period % 60 != 0 {
        return Err(invalid_value(
            "The parameter Period must be a multiple of 60 or one of 1, 5, 10, 20, 30.",
        ));
    }
    Ok(())
}

fn window(input: &Value) -> Result<(i64, i64), AwsError> {
    let start = time_ms(input, "StartTime")?.ok_or_else(|| missing("StartTime"))?;
    let end = time_ms(input, "EndTime")?.ok_or_else(|| missing("EndTime"))?;
    if start >= end {
        return Err(invalid_value(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    Ok((start, end))
}

pub(super) fn get_metric_statistics(
    app: &App,
    ctx: &CallContext,
    input: &Value,
) -> Result<Value, AwsError> {
    let namespace = required(input, "Namespace")?;
    let name = required(input, "MetricName")?;
    let (start, end) = window(input)?;
    let period = input
        .get("Period")
        .and_then(Value::as_i64)
        .ok_or_else(|| missing("Period"))?;
    check_period(period)?;
    let stats = strings(input, "Statistics");
    let extended = strings(input, "ExtendedStatistics");
    if stats.is_empty() && extended.is_empty() {
        return Err(invalid_combination(
            "Must specify either Statistics or ExtendedStatistics, but not both.",
        ));
    }
    if !stats.is_empty() && !extended.is_empty() {
        return Err(invalid_combination(
            "Must specify either Statistics or ExtendedStatistics, but not both.",
        ));
    }
    let stats = stats
        .iter()
        .map(|s| Statistic::parse(s).map_err(|e| validation(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let extended = extended
        .iter()
        .map(|s| ExtendedStatistic::parse(s).map_err(|e| invalid_value(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let span = period * 1000;
    let points = (end - start + span - 1) / span;
    if points > MAX_POINTS {
        return Err(invalid_combination(format!(
            "You have requested up to {points} datapoints, which exceeds the limit of {MAX_POINTS}. You may reduce the datapoints requested by increasing Period, or decreasing the time range."
        )));
    }
    let unit = str_member(input, "Unit").map(str::to_owned);
    if let Some(u) = &unit {
        check_unit(u, "unit")?;
    }
    let q = Query {
        key: MetricKey::new(
            &ctx.recipient_account,
            &ctx.region,
            namespace,
            name,
            dimensions(input.get("Dimensions"), "Dimensions")?,
        ),
        start_ms: start,
        end_ms: end,
        period_ms: period * 1000,
        unit,
    };
    let mut datapoints = Vec::new();
    for (start, unit, agg) in periods(app, &q)? {
        let mut o = Map::new();
        o.insert("Timestamp".into(), seconds(start));
        for s in &stats {
            if let Some(v) = s.compute(&agg) {
                o.insert(s.as_str().into(), json!(v));
            }
        }
        if !extended.is_empty() {
            let mut ext = Map::new();
            for e in &extended {
                if let Some(v) = e.compute(&agg) {
                    ext.insert(e.as_str().into(), json!(v));
                }
            }
            o.insert("ExtendedStatistics".into(), Value::Object(ext));
        }
        o.insert("Unit".into(), json!(unit));
        datapoints.push(Value::Object(o));
    }
    Ok(json!({ "Label": name, "Datapoints": datapoints }))
}

pub(super) fn get_metric_data(
    app: &App,
    ctx: &CallContext,
    input: &Value,
) -> Result<Value, AwsError> {
    let (start, end) = window(input)?;
    let queries = input
        .get("MetricDataQueries")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("MetricDataQueries"))?;
    if queries.len() > 500 {
        return Err(invalid_value(
            "The collection MetricDataQueries must not have a size greater than 500.",
        ));
    }
    let descending = str_member(input, "ScanBy") != Some("TimestampAscending");
    let mut results = Vec::new();
    for (i, mq) in queries.iter().enumerate() {
        let id = str_member(mq, "Id")
            .ok_or_else(|| missing(&format!("MetricDataQueries.member.{}.Id", i + 1)))?;
        if mq.get("Expression").is_some() {
            return Err(validation(format!(
                "cairn does not evaluate metric math: the query {id} has an Expression; use MetricStat."
            )));
        }
        let stat = mq.get("MetricStat").ok_or_else(|| {
            invalid_value(format!(
                "The query {id} needs either MetricStat or Expression."
            ))
        })?;
        let metric = stat.get("Metric").unwrap_or(&Value::Null);
        let namespace = str_member(metric, "Namespace").unwrap_or_default();
        let name = str_member(metric, "MetricName").unwrap_or_default();
        let period = stat.get("Period").and_then(Value::as_i64).unwrap_or(60);
        check_period(period)?;
        let stat_name = str_member(stat, "Stat").unwrap_or("Average");
        let unit = str_member(stat, "Unit").map(str::to_owned);
        let q = Query {
            key: MetricKey::new(
                &ctx.recipient_account,
                &ctx.region,
                namespace,
                name,
                dimensions(metric.get("Dimensions"), "Dimensions")?,
            ),
            start_ms: start,
            end_ms: end,
            period_ms: period * 1000,
            unit,
        };
        let compute: Compute = match Statistic::parse(stat_name) {
            Ok(s) => Box::new(move |a| s.compute(a)),
            Err(_) => {
                let e = ExtendedStatistic::parse(stat_name).map_err(|_| {
                    invalid_value(format!("The statistic {stat_name} is not valid."))
                })?;
                Box::new(move |a| e.compute(a))
            }
        };
        // Units apart: one value per period (the datapoints of every unit together, as a
        // query without Unit sees them).
        let mut per_period: BTreeMap<i64, Vec<RulesValue>> = BTreeMap::new();
        for d in app.metrics.data(&q.key, start, end).map_err(internal)? {
            let unit = d.unit.as_deref().unwrap_or("None");
            if q.unit.as_deref().is_some_and(|u| u != unit) {
                continue;
            }
            let p = d.timestamp_ms.div_euclid(q.period_ms) * q.period_ms;
            per_period.entry(p).or_default().push(rules_value(&d.value));
        }
        let mut points: Vec<(i64, f64)> = per_period
            .into_iter()
            .filter_map(|(p, vs)| compute(&PeriodAggregate::of(p, vs.iter())).map(|v| (p, v)))
            .collect();
        if descending {
            points.reverse();
        }
        if mq.get("ReturnData").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        results.push(json!({
            "Id": id,
            "Label": str_member(mq, "Label").unwrap_or(name),
            "Timestamps": points.iter().map(|p| seconds(p.0)).collect::<Vec<_>>(),
            "Values": points.iter().map(|p| p.1).collect::<Vec<_>>(),
            "StatusCode": "Complete",
        }));
    }
    Ok(json!({ "MetricDataResults": results, "Messages": [] }))
}

pub(super) fn list_metrics(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let want_dims: Vec<(String, Option<String>)> = input
        .get("Dimensions")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|d| {
                    Some((
                        str_member(d, "Name")?.to_owned(),
                        str_member(d, "Value").map(str::to_owned),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let recent_from = match str_member(input, "RecentlyActive") {
        Some("PT3H") => Some(app.clock.now_millis() - 3 * 3_600_000),
        Some(other) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{other}' at 'recentlyActive' failed to satisfy constraint: Member must satisfy enum value set: [PT3H]"
            )));
        }
        None => None,
    };
    let all = app
        .metrics
        .metrics(
            &ctx.recipient_account,
            &ctx.region,
            str_member(input, "Namespace"),
            str_member(input, "MetricName"),
        )
        .map_err(internal)?;
    let mut matching = Vec::new();
    for k in all {
        let has_all = want_dims.iter().all(|(n, v)| {
            k.dimensions
                .iter()
                .any(|(kn, kv)| kn == n && v.as_ref().is_none_or(|v| v == kv))
        });
        if !has_all {
            continue;
        }
        if let Some(from) = recent_from
            && app
                .metrics
                .data(&k, from, i64::MAX)
                .map_err(internal)?
                .is_empty()
        {
            continue;
        }
        matching.push(json!({
            "Namespace": k.namespace,
            "MetricName": k.name,
            "Dimensions": k.dimensions.iter().map(|(n, v)| json!({"Name": n, "Value": v})).collect::<Vec<_>>(),
        }));
    }
    let (metrics, next) = page(matching, str_member(input, "NextToken"), 500)?;
    let mut out = json!({ "Metrics": metrics });
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    Ok(out)
}
