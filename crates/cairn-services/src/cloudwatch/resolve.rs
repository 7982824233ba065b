//! What a CloudWatch call acts on, for IAM: alarm operations on each alarm they name
//! (`arn:aws:cloudwatch:<r>:<acct>:alarm:<name>`), everything else on `*`, as CloudWatch's
//! actions define their resources (metrics have no ARN).

use cairn_model::Principal;
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
    // CloudWatch Logs publishes its metric filters' datapoints as part of its own service:
    // no IAM policy of the account decides it (a user who may put log events gets the
    // metrics of the group's filters without cloudwatch:PutMetricData).
    if op == "PutMetricData"
        && matches!(&ctx.principal, Principal::AwsService { service } if service == "logs.amazonaws.com")
    {
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
