//! CloudWatch alarms: the list (state, metric, threshold, actions), an alarm's page with its
//! history, and turning its actions on or off, each the CloudWatch API call it is
//! (`DescribeAlarms`, `DescribeAlarmHistory`, `EnableAlarmActions`/`DisableAlarmActions`).

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use cairn_edge::edge::web::WebPeer;
use http::HeaderMap;
use serde_json::{Value, json};

use super::time::shown;
use super::trails::encode;
use super::{Me, error_of, with};
use crate::Shared;
use crate::render::{page, see_other};

/// A comparison operator as the console writes it (`>=`, …).
fn operator(op: &str) -> &str {
    match op {
        "GreaterThanOrEqualToThreshold" => ">=",
        "GreaterThanThreshold" => ">",
        "LessThanThreshold" => "<",
        "LessThanOrEqualToThreshold" => "<=",
        "LessThanLowerOrGreaterThanUpperThreshold" => "outside the band",
        "LessThanLowerThreshold" => "below the band",
        "GreaterThanUpperThreshold" => "above the band",
        other => other,
    }
}

/// A number as written in the alarm (`1` rather than `1.0`).
fn number(v: &Value) -> String {
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
        Some(f) => f.to_string(),
        None => String::new(),
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// A metric alarm as the pages show it.
fn summary(a: &Value) -> Value {
    let s = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or_default();
    let metric = match (s("Namespace"), s("MetricName")) {
        ("", "") => "(metric math)".to_owned(),
        (ns, m) => format!("{ns} {m}"),
    };
    let dimensions: Vec<String> = a
        .get("Dimensions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|d| {
            format!(
                "{}={}",
                d.get("Name").and_then(Value::as_str).unwrap_or_default(),
                d.get("Value").and_then(Value::as_str).unwrap_or_default()
            )
        })
        .collect();
    let threshold = format!(
        "{} {} {} for {} datapoint(s) of {} s",
        s("Statistic"),
        operator(s("ComparisonOperator")),
        a.get("Threshold").map(number).unwrap_or_default(),
        a.get("EvaluationPeriods").map(number).unwrap_or_default(),
        a.get("Period").map(number).unwrap_or_default(),
    );
    json!({
        "name": s("AlarmName"),
        // Alarm names may hold `/`, which one path segment must not.
        "path": encode(s("AlarmName")),
        "arn": s("AlarmArn"),
        "description": s("AlarmDescription"),
        "state": s("StateValue"),
        "reason": s("StateReason"),
        "updated": a.get("StateUpdatedTimestamp").map(shown).unwrap_or_default(),
        "metric": metric,
        "dimensions": dimensions.join(", "),
        "threshold": threshold,
        "treat_missing": s("TreatMissingData"),
        "actions_enabled": a.get("ActionsEnabled").and_then(Value::as_bool).unwrap_or(false),
        "alarm_actions": strings(a.get("AlarmActions")),
        "ok_actions": strings(a.get("OKActions")),
        "insufficient_actions": strings(a.get("InsufficientDataActions")),
    })
}

/// GET /console/cloudwatch/alarms
pub async fn list(me: Me, State(shared): State<Arc<Shared>>) -> Response {
    let frame = me.frame(&shared, "Alarms", "alarms");
    let mut alarms = Vec::new();
    let mut composite = Vec::new();
    let mut token: Option<String> = None;
    let ctx = loop {
        let mut input = json!({"MaxRecords": 100, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]});
        if let Some(t) = &token {
            input["NextToken"] = json!(t);
        }
        match me
            .caller
            .call(&shared, "monitoring", "DescribeAlarms", input)
            .await
        {
            Ok(answer) => {
                for a in answer
                    .get("MetricAlarms")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    alarms.push(summary(a));
                }
                for a in answer
                    .get("CompositeAlarms")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    composite.push(json!({
                        "name": a.get("AlarmName"),
                        "state": a.get("StateValue"),
                        "rule": a.get("AlarmRule"),
                        "actions_enabled": a.get("ActionsEnabled"),
                    }));
                }
                token = answer
                    .get("NextToken")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                // Bounded: a page shows at most a thousand alarms.
                if token.is_none() || alarms.len() >= 1000 {
                    break json!({"alarms": alarms, "composite": composite});
                }
            }
            Err(e) => break json!({"alarms": [], "error": error_of(&e)}),
        }
    };
    page(&shared.templates, "alarms.html", with(frame, ctx))
}

/// GET /console/cloudwatch/alarms/{name}
pub async fn detail(
    me: Me,
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Response {
    let frame = me.frame(&shared, &name, "alarms");
    page(
        &shared.templates,
        "alarm.html",
        with(frame, alarm_context(&shared, &me, &name).await),
    )
}

async fn alarm_context(shared: &Arc<Shared>, me: &Me, name: &str) -> Value {
    let found = me
        .caller
        .call(
            shared,
            "monitoring",
            "DescribeAlarms",
            json!({"AlarmNames": [name], "AlarmTypes": ["MetricAlarm"]}),
        )
        .await;
    let alarm = match found {
        Ok(answer) => match answer
            .get("MetricAlarms")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            Some(a) => summary(a),
            None => {
                return json!({"error": {"code": "ResourceNotFound", "message": format!("No metric alarm named {name} in this region.")}});
            }
        },
        Err(e) => return json!({"error": error_of(&e)}),
    };
    let history = me
        .caller
        .call(
            shared,
            "monitoring",
            "DescribeAlarmHistory",
            json!({"AlarmName": name, "MaxRecords": 100, "ScanBy": "TimestampDescending"}),
        )
        .await;
    let history = match history {
        Ok(h) => json!({"rows": h
            .get("AlarmHistoryItems")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|i| json!({
                "time": i.get("Timestamp").map(shown).unwrap_or_default(),
                "type": i.get("HistoryItemType"),
                "summary": i.get("HistorySummary"),
            }))
            .collect::<Vec<_>>()}),
        Err(e) => json!({"error": error_of(&e)}),
    };
    json!({"alarm": alarm, "history": history})
}

#[derive(serde::Deserialize)]
pub struct ActionsForm {
    #[serde(default)]
    csrf: String,
    /// `enable` or `disable`.
    #[serde(default)]
    action: String,
}

/// POST /console/cloudwatch/alarms/{name}/actions: EnableAlarmActions or DisableAlarmActions.
pub async fn actions(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<ActionsForm>,
) -> Response {
    let me = match Me::posting(&shared, &headers, &peer, &f.csrf) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    let op = if f.action == "disable" {
        "DisableAlarmActions"
    } else {
        "EnableAlarmActions"
    };
    match me
        .caller
        .call(&shared, "monitoring", op, json!({"AlarmNames": [name]}))
        .await
    {
        Ok(_) => see_other(&format!("/console/cloudwatch/alarms/{}", encode(&name))),
        Err(e) => {
            let frame = me.frame(&shared, &name, "alarms");
            let mut ctx = alarm_context(&shared, &me, &name).await;
            ctx["action_error"] = error_of(&e);
            page(&shared.templates, "alarm.html", with(frame, ctx))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alarm_reads_as_the_console_writes_it() {
        let a = json!({"AlarmName": "root-use", "StateValue": "ALARM", "Namespace": "CIS", "MetricName": "RootUse",
            "Statistic": "Sum", "ComparisonOperator": "GreaterThanOrEqualToThreshold", "Threshold": 1.0,
            "EvaluationPeriods": 1, "Period": 300, "ActionsEnabled": true,
            "AlarmActions": ["arn:aws:sns:us-east-1:111122223333:alerts"],
            "Dimensions": [{"Name": "Trail", "Value": "t"}]});
        let s = summary(&a);
        assert_eq!(s["metric"], "CIS RootUse");
        assert_eq!(s["threshold"], "Sum >= 1 for 1 datapoint(s) of 300 s");
        assert_eq!(s["dimensions"], "Trail=t");
        assert_eq!(
            s["alarm_actions"][0],
            "arn:aws:sns:us-east-1:111122223333:alerts"
        );
        assert_eq!(number(&json!(0.5)), "0.5");
    }
}
