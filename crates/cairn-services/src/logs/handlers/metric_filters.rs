//! Metric filters: put (create or replace by name, pattern and transformation checked by
//! `cairn-rules`), describe (by group, name prefix, metric; pages), delete, and
//! TestMetricFilter.

use cairn_rules::filter::{Dimension, FilterPattern, MetricValue, validate_dimensions};
use cairn_store::logs::{GroupKey, MetricFilter};
use cairn_wire::AwsError;
use serde_json::{Map, Value, json};

use super::{
    DESCRIBE_LIMIT, bad_token, check_name, constraint, internal, invalid, limit, required,
    str_member,
};
use crate::app::App;
use crate::logs::{token, wire};
use crate::recorder::CallContext;

/// Metric filters per log group.
const MAX_FILTERS: usize = 100;

fn pattern_error(e: cairn_rules::filter::PatternError) -> AwsError {
    invalid(e.to_string())
}

/// Checks the one metric transformation a filter has, and answers it as stored.
fn transformation(pattern: &FilterPattern, input: &Value) -> Result<Value, AwsError> {
    let list = match input.get("metricTransformations") {
        Some(Value::Array(a)) => a,
        _ => return Err(super::missing("metricTransformations")),
    };
    if list.is_empty() {
        return Err(constraint(
            "[]",
            "metricTransformations",
            "have length greater than or equal to 1",
        ));
    }
    if list.len() > 1 {
        return Err(invalid(
            "1 validation error detected: Value at 'metricTransformations' failed to satisfy constraint: Member must have length less than or equal to 1",
        ));
    }
    let t = &list[0];
    let mut out = Map::new();
    for member in ["metricName", "metricNamespace"] {
        let v = required(t, member)?;
        if v.chars().count() > 255 {
            return Err(constraint(
                v,
                &format!("metricTransformations.1.member.{member}"),
                "have length less than or equal to 255",
            ));
        }
        if v.contains([':', '*', '$']) {
            return Err(constraint(
                v,
                &format!("metricTransformations.1.member.{member}"),
                "satisfy regular expression pattern: [^:*$]*",
            ));
        }
        out.insert(member.into(), json!(v));
    }
    let value = required(t, "metricValue")?;
    MetricValue::parse(value).map_err(pattern_error)?;
    out.insert("metricValue".into(), json!(value));
    let dimensions = match t.get("dimensions") {
        Some(Value::Object(m)) if !m.is_empty() => Some(m),
        _ => None,
    };
    if let Some(d) = t.get("defaultValue").and_then(Value::as_f64) {
        if dimensions.is_some() {
            return Err(invalid(
                "Invalid metric transformation: dimensions and defaultValue are mutually exclusive",
            ));
        }
        out.insert("defaultValue".into(), json!(d));
    }
    if let Some(dims) = dimensions {
        if dims.len() > 3 {
            return Err(invalid(
                "1 validation error detected: Value at 'metricTransformations.1.member.dimensions' failed to satisfy constraint: Member must have length less than or equal to 3",
            ));
        }
        validate_dimensions(pattern, dims.len()).map_err(pattern_error)?;
        for v in dims.values() {
            Dimension::parse(v.as_str().unwrap_or("")).map_err(pattern_error)?;
        }
        out.insert("dimensions".into(), Value::Object(dims.clone()));
    }
    if let Some(u) = str_member(t, "unit") {
        out.insert("unit".into(), json!(u));
    }
    Ok(Value::Array(vec![Value::Object(out)]))
}

pub(super) fn put(app: &App, key: &GroupKey, input: &Value) -> Result<Value, AwsError> {
    let name = required(input, "filterName")?;
    check_name(name, "filterName")?;
    let source = input
        .get("filterPattern")
        .and_then(Value::as_str)
        .ok_or_else(|| super::missing("filterPattern"))?;
    let pattern = FilterPattern::parse(source).map_err(pattern_error)?;
    let transformations = transformation(&pattern, input)?;
    let existing = app
        .logs
        .metric_filters(&key.account, &key.region, Some(&key.name))
        .map_err(internal)?;
    if existing.len() >= MAX_FILTERS && !existing.iter().any(|f| f.name == name) {
        return Err(AwsError::client(
            "LimitExceededException",
            "Resource limit exceeded.",
        ));
    }
    let filter = MetricFilter {
        group: key.name.clone(),
        name: name.to_owned(),
        pattern: source.to_owned(),
        transformations: transformations.to_string(),
        created_ms: app.clock.now_millis(),
    };
    app.logs.put_metric_filter(key, &filter).map_err(internal)?;
    Ok(json!({}))
}

pub(super) fn describe(
    app: &App,
    ctx: &CallContext,
    key: Option<&GroupKey>,
    input: &Value,
) -> Result<Value, AwsError> {
    let prefix = str_member(input, "filterNamePrefix");
    if prefix.is_some() && key.is_none() {
        return Err(invalid(
            "logGroupName is required when filterNamePrefix is specified.",
        ));
    }
    let metric = str_member(input, "metricName");
    let namespace = str_member(input, "metricNamespace");
    if metric.is_some() != namespace.is_some() {
        return Err(invalid(
            "metricName and metricNamespace must be specified together.",
        ));
    }
    let limit = limit(input, DESCRIBE_LIMIT, DESCRIBE_LIMIT)?;
    let after = match str_member(input, "nextToken") {
        Some(t) => Some(token::parse_after_name(&app.token_key, t).ok_or_else(bad_token)?),
        None => None,
    };
    let all = app
        .logs
        .metric_filters(
            &ctx.recipient_account,
            &ctx.region,
            key.map(|k| k.name.as_str()),
        )
        .map_err(internal)?;
    let place = |f: &MetricFilter| format!("{}\u{0}{}", f.group, f.name);
    let mut chosen = all.iter().filter(|f| {
        let t: Value = serde_json::from_str(&f.transformations).unwrap_or(Value::Null);
        let of = |m: &str| t.get(0).and_then(|t| t.get(m)).and_then(Value::as_str);
        prefix.is_none_or(|p| f.name.starts_with(p))
            && metric.is_none_or(|m| of("metricName") == Some(m))
            && namespace.is_none_or(|n| of("metricNamespace") == Some(n))
            && after.as_deref().is_none_or(|a| place(f).as_str() > a)
    });
    let page: Vec<&MetricFilter> = chosen.by_ref().take(limit).collect();
    let more = chosen.next().is_some();
    let mut out = json!({
        "metricFilters": page.iter().map(|f| wire::metric_filter(f)).collect::<Vec<_>>()
    });
    if more && let Some(last) = page.last() {
        out["nextToken"] = json!(token::after_name(&app.token_key, &place(last)));
    }
    Ok(out)
}

pub(super) fn delete(app: &App, key: &GroupKey, input: &Value) -> Result<Value, AwsError> {
    let name = required(input, "filterName")?;
    if !app.logs.delete_metric_filter(key, name).map_err(internal)? {
        return Err(AwsError::client(
            "ResourceNotFoundException",
            "The specified metric filter does not exist.",
        ));
    }
    Ok(json!({}))
}

/// TestMetricFilter: which of up to 50 messages the pattern matches (0-based `eventNumber`),
/// with the fields a space-delimited pattern extracts.
pub(super) fn test(input: &Value) -> Result<Value, AwsError> {
    let source = input
        .get("filterPattern")
        .and_then(Value::as_str)
        .ok_or_else(|| super::missing("filterPattern"))?;
    let pattern = FilterPattern::parse(source).map_err(pattern_error)?;
    let messages = match input.get("logEventMessages") {
        Some(Value::Array(a)) => a,
        _ => return Err(super::missing("logEventMessages")),
    };
    if messages.is_empty() {
        return Err(constraint(
            "[]",
            "logEventMessages",
            "have length greater than or equal to 1",
        ));
    }
    if messages.len() > 50 {
        return Err(invalid(
            "1 validation error detected: Value at 'logEventMessages' failed to satisfy constraint: Member must have length less than or equal to 50",
        ));
    }
    let mut matches = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let Some(text) = m.as_str() else {
            return Err(invalid("logEventMessages must be strings."));
        };
        if let Some(found) = pattern.matches(text) {
            let extracted: Map<String, Value> = found
                .extracted_values()
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            matches.push(json!({
                "eventNumber": i,
                "eventMessage": text,
                "extractedValues": extracted,
            }));
        }
    }
    Ok(json!({ "matches": matches }))
}
