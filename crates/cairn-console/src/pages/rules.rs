//! EventBridge rules: the rules of an event bus (the default one unless another is picked from
//! `ListEventBuses`), and a rule's page with its event pattern or schedule and its targets,
//! each the EventBridge API call it is (`ListRules`, `DescribeRule`, `ListTargetsByRule`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::{Me, error_of, with};
use crate::Shared;
use crate::render::page;

#[derive(serde::Deserialize, Default)]
pub struct BusQuery {
    #[serde(default)]
    bus: String,
}

fn bus_of(q: &BusQuery) -> String {
    if q.bus.is_empty() {
        "default".to_owned()
    } else {
        q.bus.clone()
    }
}

/// GET /console/events/rules?bus=
pub async fn list(
    me: Me,
    State(shared): State<Arc<Shared>>,
    Query(q): Query<BusQuery>,
) -> Response {
    let bus = bus_of(&q);
    let frame = me.frame(&shared, "Rules", "rules");
    let buses: Vec<String> = match me
        .caller
        .call(&shared, "events", "ListEventBuses", json!({}))
        .await
    {
        Ok(a) => a
            .get("EventBuses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|b| b.get("Name").and_then(Value::as_str).map(str::to_owned))
            .collect(),
        Err(e) => {
            let ctx = json!({"bus": bus, "buses": [], "error": error_of(&e)});
            return page(&shared.templates, "rules.html", with(frame, ctx));
        }
    };
    let mut rules = Vec::new();
    let mut token: Option<String> = None;
    let ctx = loop {
        let mut input = json!({"EventBusName": bus, "Limit": 100});
        if let Some(t) = &token {
            input["NextToken"] = json!(t);
        }
        match me.caller.call(&shared, "events", "ListRules", input).await {
            Ok(a) => {
                for r in a
                    .get("Rules")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default();
                    rules.push(json!({
                        "name": s("Name"),
                        "state": s("State"),
                        "description": s("Description"),
                        "kind": if s("ScheduleExpression").is_empty() { "Standard" } else { "Scheduled" },
                        "schedule": s("ScheduleExpression"),
                        "managed_by": s("ManagedBy"),
                    }));
                }
                token = a
                    .get("NextToken")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if token.is_none() || rules.len() >= 1000 {
                    break json!({"bus": bus, "buses": buses, "rules": rules});
                }
            }
            Err(e) => break json!({"bus": bus, "buses": buses, "error": error_of(&e)}),
        }
    };
    page(&shared.templates, "rules.html", with(frame, ctx))
}

/// An event pattern as the page shows it: pretty-printed when it is JSON.
fn pretty(pattern: &str) -> String {
    serde_json::from_str::<Value>(pattern)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| pattern.to_owned())
}

/// GET /console/events/rules/{name}?bus=
pub async fn detail(
    me: Me,
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    Query(q): Query<BusQuery>,
) -> Response {
    let bus = bus_of(&q);
    let frame = me.frame(&shared, &name, "rules");
    let described = me
        .caller
        .call(
            &shared,
            "events",
            "DescribeRule",
            json!({"Name": name, "EventBusName": bus}),
        )
        .await;
    let ctx = match described {
        Err(e) => json!({"bus": bus, "error": error_of(&e)}),
        Ok(r) => {
            let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default();
            let rule = json!({
                "name": s("Name"),
                "arn": s("Arn"),
                "state": s("State"),
                "description": s("Description"),
                "schedule": s("ScheduleExpression"),
                "pattern": if s("EventPattern").is_empty() { String::new() } else { pretty(s("EventPattern")) },
                "role": s("RoleArn"),
                "managed_by": s("ManagedBy"),
                "created_by": s("CreatedBy"),
            });
            let targets = me
                .caller
                .call(
                    &shared,
                    "events",
                    "ListTargetsByRule",
                    json!({"Rule": name, "EventBusName": bus, "Limit": 100}),
                )
                .await;
            let targets = match targets {
                Ok(t) => json!({"rows": t
                    .get("Targets")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|t| {
                        let s = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or_default();
                        let input = if !s("Input").is_empty() {
                            format!("Constant: {}", s("Input"))
                        } else if !s("InputPath").is_empty() {
                            format!("Part of the event: {}", s("InputPath"))
                        } else if t.get("InputTransformer").is_some() {
                            "Input transformer".to_owned()
                        } else {
                            "Matched event".to_owned()
                        };
                        // A Lambda function target links to its page.
                        let function = match s("Arn").split(':').collect::<Vec<_>>()[..] {
                            ["arn", _, "lambda", _, _, "function", name, ..] => name,
                            _ => "",
                        };
                        json!({"id": s("Id"), "arn": s("Arn"), "role": s("RoleArn"), "input": input, "function": function})
                    })
                    .collect::<Vec<_>>()}),
                Err(e) => json!({"error": error_of(&e)}),
            };
            json!({"bus": bus, "rule": rule, "targets": targets})
        }
    };
    page(&shared.templates, "rule.html", with(frame, ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_pretty_printed_when_they_are_json() {
        assert_eq!(
            pretty(r#"{"source":["aws.cloudtrail"]}"#),
            "{\n  \"source\": [\n    \"aws.cloudtrail\"\n  ]\n}"
        );
        assert_eq!(pretty("not json"), "not json");
    }
}
