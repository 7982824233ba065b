//! What an EventBridge call acts on: the bus it names (`EventBusName`, by name or ARN;
//! `default` when absent) and the rule (`Name` or `Rule`), and the IAM check it needs:
//! `events:<Op>` on the rule's ARN, the bus's ARN, or the resource a tagging call names.
//! Whether they exist is the handlers' question (AWS answers a missing rule after it
//! authorized the call). The router's own PutEvents to a bus of the same account (a rule
//! whose target is another bus) needs no permission of the caller: EventBridge delivers
//! within its account; so does cairn's detection engine putting findings on an account's
//! default bus.

use cairn_model::Principal;
use cairn_wire::AwsError;
use serde_json::Value;

use super::EVENT_SOURCE;
use super::handlers::{bus_name_of, str_member};
use super::wire::{DEFAULT_BUS, bus_arn, rule_arn};
use crate::app::App;
use crate::pipeline::Check;
use crate::recorder::CallContext;

/// What an EventBridge call acts on, found before it is authorized.
#[derive(Default)]
pub struct EventsPlan {
    /// The bus the call names (its name).
    pub bus: String,
    /// The ARN of the rule it names, if it names one.
    pub rule_arn: Option<String>,
    /// The resource it acts on, as checked (the record lists it for data events).
    pub resource: Option<String>,
}

/// Operations that name a rule, and the member that does.
fn rule_member(op: &str) -> Option<&'static str> {
    match op {
        "PutRule" | "DescribeRule" | "EnableRule" | "DisableRule" | "DeleteRule" => Some("Name"),
        "PutTargets" | "RemoveTargets" | "ListTargetsByRule" => Some("Rule"),
        _ => None,
    }
}

/// The router delivering to a bus: EventBridge itself.
pub(super) fn is_router(ctx: &CallContext) -> bool {
    matches!(&ctx.principal, Principal::AwsService { service } if service == EVENT_SOURCE)
}

/// cairn's detection engine putting a finding on its account's default bus, as AWS's
/// security services put theirs: a service event, needing no one's permission.
fn is_detection_engine(ctx: &CallContext) -> bool {
    matches!(&ctx.principal, Principal::AwsService { service } if service == crate::detections::engine::ENGINE)
}

pub(super) fn resolve(
    _app: &App,
    ctx: &CallContext,
    op: &str,
    input: &Value,
    plan: &mut EventsPlan,
) -> Result<Vec<Check>, AwsError> {
    if !super::operations::SERVED.contains(&op) {
        // Operations cairn does not have need no permission to be told so.
        return Ok(Vec::new());
    }
    let (region, account) = (ctx.region.as_str(), ctx.recipient_account.as_str());
    let action = format!("events:{op}");
    let bus_member = match op {
        "CreateEventBus" | "DeleteEventBus" | "DescribeEventBus" | "UpdateEventBus" => "Name",
        _ => "EventBusName",
    };
    plan.bus = match op {
        // PutEvents names a bus per entry: the plan's is the first entry's (every bus named
        // is checked below).
        "PutEvents" => input
            .get("Entries")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
            .and_then(|e| str_member(e, "EventBusName"))
            .map_or_else(|| DEFAULT_BUS.to_owned(), bus_name_of),
        _ => str_member(input, bus_member).map_or_else(|| DEFAULT_BUS.to_owned(), bus_name_of),
    };
    let resource = if let Some(member) = rule_member(op) {
        let name = str_member(input, member).unwrap_or_default();
        let arn = rule_arn(region, account, &plan.bus, name);
        plan.rule_arn = Some(arn.clone());
        arn
    } else {
        match op {
            "TagResource" | "UntagResource" | "ListTagsForResource" => {
                str_member(input, "ResourceARN")
                    .unwrap_or_default()
                    .to_owned()
            }
            "ListRules" | "ListRuleNamesByTarget" => {
                format!("arn:aws:events:{region}:{account}:rule/*")
            }
            "ListEventBuses" => format!("arn:aws:events:{region}:{account}:event-bus/*"),
            "TestEventPattern" => "*".to_owned(),
            _ => bus_arn(region, account, &plan.bus),
        }
    };
    plan.resource = Some(resource.clone());
    if op == "PutEvents"
        && (is_router(ctx) || (is_detection_engine(ctx) && plan.bus == DEFAULT_BUS))
    {
        return Ok(Vec::new());
    }
    if op == "PutEvents" {
        // Each entry names its own bus: every bus named is judged, not only the first entry's.
        let mut buses: Vec<String> = input
            .get("Entries")
            .and_then(Value::as_array)
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        str_member(e, "EventBusName")
                            .map_or_else(|| DEFAULT_BUS.to_owned(), bus_name_of)
                    })
                    .collect()
            })
            .unwrap_or_default();
        buses.sort();
        buses.dedup();
        buses.retain(|b| *b != plan.bus);
        let mut checks = vec![Check::new(action.clone(), resource)];
        checks.extend(
            buses
                .iter()
                .map(|b| Check::new(action.clone(), bus_arn(region, account, b))),
        );
        return Ok(checks);
    }
    Ok(vec![Check::new(action, resource)])
}
