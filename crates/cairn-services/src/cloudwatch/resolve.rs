//! What a CloudWatch call acts on, for IAM: alarm operations on each alarm they name
//! (`arn:aws:cloudwatch:<r>:<acct>:alarm:<name>`), everything else on `*`, as CloudWatch's
//! actions define their resources (metrics have no ARN).

use serde_json::Value;

use super::handlers::{str_member, strings};
use super::wire::alarm_arn;
use crate::pipeline::Check;
use crate::recorder::CallContext;

pub(super) fn checks(ctx: &CallContext, op: &str, input: &Value) -> Vec<Check> {
    if !super::operations::SERVED.contains(&op) {
        // Operations cairn does not have need no permission to be told so.
        return Vec::new();
    }
    let action = format!("cloudwatch:{op}");
    let on = |name: &str| {
        Check::new(
            action.clone(),
            alarm_arn(&ctx.region, &ctx.recipient_account, name),
        )
    };
    match op {
        "PutMetricAlarm" | "SetAlarmState" => match str_member(input, "AlarmName") {
            Some(n) => vec![on(n)],
            None => vec![Check::new(action, "*")],
        },
        "DeleteAlarms" | "EnableAlarmActions" | "DisableAlarmActions" => {
            let names = strings(input, "AlarmNames");
            if names.is_empty() {
                vec![Check::new(action, "*")]
            } else {
                names.iter().map(|n| on(n)).collect()
            }
        }
        "DescribeAlarmHistory" => match str_member(input, "AlarmName") {
            Some(n) => vec![on(n)],
            None => vec![Check::new(action, "*")],
        },
        _ => vec![Check::new(action, "*")],
    }
}
