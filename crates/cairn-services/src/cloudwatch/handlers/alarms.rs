//! Metric alarms: `PutMetricAlarm` (create, or replace keeping the state), `DescribeAlarms`
//! and `DescribeAlarmsForMetric` with their filters and paging, `DescribeAlarmHistory`,
//! `SetAlarmState` (a temporary state whose actions run), `DeleteAlarms` and
//! `Enable/DisableAlarmActions`.

use cairn_rules::alarm::{StateValue, next_evaluation_ms, set_alarm_state as set_state};
use cairn_store::metrics::{AlarmState, HistoryQuery, HistoryRow, StoredAlarm};
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::{
    internal, invalid_value, not_found, page, required, str_member, strings, time_ms, validation,
};
use crate::app::App;
use crate::cloudwatch::alarm_config::{accept, config_of, dimensions_of};
use crate::cloudwatch::evaluator::{change_of, status_of};
use crate::cloudwatch::wire::{metric_alarm, seconds};
use crate::recorder::CallContext;

const STATES: &str = "[INSUFFICIENT_DATA, ALARM, OK]";

fn max_records(input: &Value, default: usize) -> Result<usize, AwsError> {
    match input.get("MaxRecords").and_then(Value::as_i64) {
        None => Ok(default),
        Some(n) if (1..=100).contains(&n) => Ok(usize::try_from(n).unwrap_or(default)),
        Some(n) => Err(validation(format!(
            "1 validation error detected: Value '{n}' at 'maxRecords' failed to satisfy constraint: Member must have value {} 100",
            if n < 1 {
                "greater than or equal to 1, less than or equal to"
            } else {
                "less than or equal to"
            }
        ))),
    }
}

fn state_value(input: &Value) -> Result<Option<StateValue>, AwsError> {
    match str_member(input, "StateValue") {
        None => Ok(None),
        Some(s) => StateValue::parse(s).map(Some).ok_or_else(|| {
            validation(format!(
                "1 validation error detected: Value '{s}' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: {STATES}"
            ))
        }),
    }
}

pub(super) fn put_metric_alarm(
    app: &App,
    ctx: &CallContext,
    input: &Value,
) -> Result<Value, AwsError> {
    let name = required(input, "AlarmName")?;
    if input
        .get("Tags")
        .and_then(Value::as_array)
        .is_some_and(|t| !t.is_empty())
    {
        return Err(validation("cairn does not support tags on alarms yet."));
    }
    let (doc, config) = accept(input)?;
    let now = app.clock.now_millis();
    let existing = app
        .metrics
        .alarm(&ctx.recipient_account, &ctx.region, name)
        .map_err(internal)?;
    // An update replaces the configuration and keeps the state [M][D].
    let state = existing
        .as_ref()
        .map(|a| a.state.clone())
        .unwrap_or(AlarmState {
            value: "INSUFFICIENT_DATA".to_owned(),
            reason: "Unchecked: Initial alarm creation".to_owned(),
            reason_data: None,
            updated_ms: now,
            transitioned_ms: now,
        });
    let alarm = StoredAlarm {
        account: ctx.recipient_account.clone(),
        region: ctx.region.clone(),
        name: name.to_owned(),
        config: doc.to_string(),
        config_updated_ms: now,
        actions_enabled: input
            .get("ActionsEnabled")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        state,
        next_eval_ms: next_evaluation_ms(config.period, config.evaluation_periods, now),
    };
    let (kind, summary, member) = match existing {
        None => (
            "Create",
            format!("Alarm \"{name}\" created"),
            "createdAlarm",
        ),
        Some(_) => (
            "Update",
            format!("Alarm \"{name}\" updated"),
            "updatedAlarm",
        ),
    };
    let history = HistoryRow {
        alarm: name.to_owned(),
        timestamp_ms: now,
        kind: "ConfigurationUpdate".to_owned(),
        summary,
        data: json!({"version": "1.0", "type": kind, member: metric_alarm(&alarm)}).to_string(),
    };
    app.metrics.put_alarm(&alarm, &history).map_err(internal)?;
    Ok(json!({}))
}

/// The page of `alarms` a Describe call asks for.
fn answer(alarms: Vec<StoredAlarm>, input: &Value, paged: bool) -> Result<Value, AwsError> {
    let (alarms, next) = if paged {
        page(
            alarms,
            str_member(input, "NextToken"),
            max_records(input, 50)?,
        )?
    } else {
        (alarms, None)
    };
    let mut out = json!({ "MetricAlarms": alarms.iter().map(metric_alarm).collect::<Vec<_>>() });
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    Ok(out)
}

pub(super) fn describe_alarms(
    app: &App,
    ctx: &CallContext,
    input: &Value,
) -> Result<Value, AwsError> {
    let names = strings(input, "AlarmNames");
    if names.len() > 100 {
        return Err(validation(
            "1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100",
        ));
    }
    let prefix = str_member(input, "AlarmNamePrefix");
    let action_prefix = str_member(input, "ActionPrefix");
    if !names.is_empty() && prefix.is_some() {
        return Err(super::invalid_combination(
            "AlarmNames and AlarmNamePrefix cannot be specified together.",
        ));
    }
    let state = state_value(input)?;
    let types = strings(input, "AlarmTypes");
    let metric_alarms_asked = types.is_empty() || types.iter().any(|t| t == "MetricAlarm");
    let mut alarms = if metric_alarms_asked {
        app.metrics
            .alarms(&ctx.recipient_account, &ctx.region)
            .map_err(internal)?
    } else {
        Vec::new()
    };
    alarms.retain(|a| {
        let doc: Value = serde_json::from_str(&a.config).unwrap_or(Value::Null);
        (names.is_empty() || names.contains(&a.name))
            && prefix.is_none_or(|p| a.name.starts_with(p))
            && state.is_none_or(|s| a.state.value == s.as_str())
            && action_prefix.is_none_or(|p| {
                ["OKActions", "AlarmActions", "InsufficientDataActions"]
                    .iter()
                    .any(|m| strings(&doc, m).iter().any(|t| t.starts_with(p)))
            })
    });
    let mut out = answer(alarms, input, true)?;
    if types.iter().any(|t| t == "CompositeAlarm") {
        out["CompositeAlarms"] = json!([]);
    }
    Ok(out)
}

pub(super) fn describe_alarms_for_metric(
    app: &App,
    ctx: &CallContext,
    input: &Value,
) -> Result<Value, AwsError> {
    let name = required(input, "MetricName")?;
    let namespace = required(input, "Namespace")?;
    let dims = input.get("Dimensions").map(|d| {
        let mut v = dimensions_of(Some(d));
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    });
    let mut alarms = app
        .metrics
        .alarms(&ctx.recipient_account, &ctx.region)
        .map_err(internal)?;
    alarms.retain(|a| {
        let doc: Value = serde_json::from_str(&a.config).unwrap_or(Value::Null);
        let Ok(c) = config_of(&a.name, &doc) else {
            return false;
        };
        let mut own = c.dimensions.clone();
        own.sort_by(|a, b| a.name.cmp(&b.name));
        c.metric_name == name
            && c.namespace == namespace
            && dims.as_ref().is_none_or(|d| *d == own)
            && str_member(input, "Statistic")
                .is_none_or(|s| str_member(&doc, "Statistic") == Some(s))
            && str_member(input, "ExtendedStatistic")
                .is_none_or(|s| str_member(&doc, "ExtendedStatistic") == Some(s))
            && input
                .get("Period")
                .and_then(Value::as_i64)
                .is_none_or(|p| i64::from(c.period) == p)
            && str_member(input, "Unit").is_none_or(|u| c.unit.as_deref() == Some(u))
    });
    answer(alarms, input, false)
}

pub(super) fn describe_alarm_history(
    app: &App,
    ctx: &CallContext,
    input: &Value,
) -> Result<Value, AwsError> {
    let kind = str_member(input, "HistoryItemType");
    const KINDS: [&str; 5] = [
        "ConfigurationUpdate",
        "StateUpdate",
        "Action",
        "AlarmContributorStateUpdate",
        "AlarmContributorAction",
    ];
    if let Some(k) = kind
        && !KINDS.contains(&k)
    {
        return Err(validation(format!(
            "1 validation error detected: Value '{k}' at 'historyItemType' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            KINDS.join(", ")
        )));
    }
    let types = strings(input, "AlarmTypes");
    if !types.is_empty() && !types.iter().any(|t| t == "MetricAlarm") {
        return Ok(json!({ "AlarmHistoryItems": [] }));
    }
    let q = HistoryQuery {
        alarm: str_member(input, "AlarmName").map(str::to_owned),
        kind: kind.map(str::to_owned),
        start_ms: time_ms(input, "StartDate")?,
        end_ms: time_ms(input, "EndDate")?,
        ascending: str_member(input, "ScanBy") == Some("TimestampAscending"),
    };
    let rows = app
        .metrics
        .history(&ctx.recipient_account, &ctx.region, &q)
        .map_err(internal)?;
    let (rows, next) = page(
        rows,
        str_member(input, "NextToken"),
        max_records(input, 100)?,
    )?;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "AlarmName": r.alarm,
                "AlarmType": "MetricAlarm",
                "Timestamp": seconds(r.timestamp_ms),
                "HistoryItemType": r.kind,
                "HistorySummary": r.summary,
                "HistoryData": r.data,
            })
        })
        .collect();
    let mut out = json!({ "AlarmHistoryItems": items });
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    Ok(out)
}

pub(super) fn set_alarm_state(
    app: &App,
    ctx: &CallContext,
    input: &Value,
) -> Result<Value, AwsError> {
    let name = required(input, "AlarmName")?;
    let value = state_value(input)?.ok_or_else(|| super::missing("StateValue"))?;
    let reason = required(input, "StateReason")?;
    let reason_data = match str_member(input, "StateReasonData") {
        None => None,
        Some(text) => Some(serde_json::from_str::<Value>(text).map_err(|_| {
            AwsError::client(
                "InvalidFormat",
                "The StateReasonData parameter must be a valid JSON object.",
            )
        })?),
    };
    let alarm = app
        .metrics
        .alarm(&ctx.recipient_account, &ctx.region, name)
        .map_err(internal)?
        .ok_or_else(|| not_found(format!("Alarm {name} not found")))?;
    let now = app.clock.now_millis();
    let Some(t) = set_state(name, &status_of(&alarm), value, reason, reason_data, now) else {
        return Ok(json!({}));
    };
    let doc: Value = serde_json::from_str(&alarm.config).unwrap_or(Value::Null);
    let config = config_of(name, &doc).map_err(|e| invalid_value(e.message))?;
    let (state, history, actions) = change_of(&alarm, &config, &doc, &t);
    app.metrics
        .evaluated(
            &ctx.recipient_account,
            &ctx.region,
            name,
            alarm.next_eval_ms,
            Some((&state, &history, &actions)),
        )
        .map_err(internal)?;
    Ok(json!({}))
}

pub(super) fn delete_alarms(
    app: &App,
    ctx: &CallContext,
    input: &Value,
) -> Result<Value, AwsError> {
    let names = strings(input, "AlarmNames");
    let mut missing = Vec::new();
    for n in &names {
        if app
            .metrics
            .alarm(&ctx.recipient_account, &ctx.region, n)
            .map_err(internal)?
            .is_none()
        {
            missing.push(n.clone());
        }
    }
    if !missing.is_empty() {
        return Err(not_found(format!(
            "{} alarm(s) not found: [{}]",
            missing.len(),
            missing.join(", ")
        )));
    }
    app.metrics
        .delete_alarms(&ctx.recipient_account, &ctx.region, &names)
        .map_err(internal)?;
    Ok(json!({}))
}

pub(super) fn set_actions_enabled(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    enabled: bool,
) -> Result<Value, AwsError> {
    for n in strings(input, "AlarmNames") {
        app.metrics
            .set_actions_enabled(&ctx.recipient_account, &ctx.region, &n, enabled)
            .map_err(internal)?;
    }
    Ok(json!({}))
}
