//! EventBridge's wire shapes: the JSON 1.1 codec (`X-Amz-Target: AWSEvents.<Op>`), the ARNs
//! of buses and rules, and the `Rule` and `EventBus` documents its answers carry.

use cairn_model::timefmt::epoch_seconds;
use cairn_store::events::{EventBus, Rule};
use cairn_wire::Protocol;
use serde_json::{Map, Value, json};

use crate::pipeline::codec::json::JsonCodec;

pub const TARGET_PREFIX: &str = "AWSEvents.";

pub(super) static CODEC: JsonCodec = JsonCodec {
    protocol: Protocol::Json11,
    target_prefixes: &[TARGET_PREFIX],
};

pub const DEFAULT_BUS: &str = "default";

/// `arn:aws:events:<r>:<acct>:event-bus/<name>`
pub fn bus_arn(region: &str, account: &str, bus: &str) -> String {
    format!("arn:aws:events:{region}:{account}:event-bus/{bus}")
}

/// `arn:aws:events:<r>:<acct>:rule/<name>` on the default bus, `rule/<bus>/<name>` on others.
pub fn rule_arn(region: &str, account: &str, bus: &str, name: &str) -> String {
    if bus == DEFAULT_BUS {
        format!("arn:aws:events:{region}:{account}:rule/{name}")
    } else {
        format!("arn:aws:events:{region}:{account}:rule/{bus}/{name}")
    }
}

/// The prefix every rule ARN of a bus starts with.
pub(super) fn rule_arn_prefix(region: &str, account: &str, bus: &str) -> String {
    rule_arn(region, account, bus, "")
}

fn put_opt(m: &mut Map<String, Value>, k: &str, v: &Option<String>) {
    if let Some(v) = v {
        m.insert(k.into(), Value::String(v.clone()));
    }
}

/// A `Rule` as ListRules answers it (members in the model's order).
pub(super) fn rule_doc(r: &Rule) -> Value {
    let mut m = Map::new();
    m.insert("Name".into(), json!(r.name));
    m.insert("Arn".into(), json!(r.arn));
    put_opt(&mut m, "EventPattern", &r.event_pattern);
    m.insert("State".into(), json!(r.state));
    put_opt(&mut m, "Description", &r.description);
    put_opt(&mut m, "ScheduleExpression", &r.schedule);
    put_opt(&mut m, "RoleArn", &r.role_arn);
    m.insert("EventBusName".into(), json!(r.bus));
    Value::Object(m)
}

/// DescribeRule's answer: the rule with who created it.
pub(super) fn describe_rule_doc(r: &Rule) -> Value {
    let mut v = rule_doc(r);
    v["CreatedBy"] = json!(r.created_by);
    v
}

/// An `EventBus` as ListEventBuses and DescribeEventBus answer it.
pub(super) fn bus_doc(b: &EventBus) -> Value {
    let mut m = Map::new();
    m.insert("Name".into(), json!(b.name));
    m.insert("Arn".into(), json!(b.arn));
    put_opt(&mut m, "Description", &b.description);
    m.insert("CreationTime".into(), epoch_seconds(b.created_ms));
    m.insert("LastModifiedTime".into(), epoch_seconds(b.modified_ms));
    Value::Object(m)
}

/// The default bus of a place, which exists without being created.
pub(super) fn default_bus(region: &str, account: &str) -> EventBus {
    EventBus {
        arn: bus_arn(region, account, DEFAULT_BUS),
        account: account.into(),
        region: region.into(),
        name: DEFAULT_BUS.into(),
        description: None,
        created_ms: 0,
        modified_ms: 0,
        tags: Default::default(),
    }
}

/// The default bus as AWS describes it: its name and ARN only.
pub(super) fn default_bus_doc(region: &str, account: &str) -> Value {
    json!({"Name": DEFAULT_BUS, "Arn": bus_arn(region, account, DEFAULT_BUS)})
}
