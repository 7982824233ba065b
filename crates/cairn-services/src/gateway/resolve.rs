//! What a forwarded call needs: the operation's IAM action on the resource its request names,
//! when the service's resources have a known ARN form (a DynamoDB table, an SSM parameter, an
//! EC2 security group, a secret given by ARN), else on `*`.

use serde_json::Value;

use super::wire::Forward;
use crate::pipeline::{Check, Operation};
use crate::recorder::CallContext;

/// Request members naming a resource, as recorded (lower camel case), by signing name, and
/// the ARN they name (`{region}`, `{account}`, `{value}` filled in).
const RESOURCES: &[(&str, &str, &str)] = &[
    (
        "dynamodb",
        "tableName",
        "arn:aws:dynamodb:{region}:{account}:table/{value}",
    ),
    (
        "ssm",
        "name",
        "arn:aws:ssm:{region}:{account}:parameter{value}",
    ),
    (
        "ec2",
        "groupId",
        "arn:aws:ec2:{region}:{account}:security-group/{value}",
    ),
];

/// The resource a call acts on, as an ARN, when its request names one.
pub fn resource_arn(signing_name: &str, ctx: &CallContext, input: &Forward) -> Option<String> {
    let params = input.params.as_ref()?;
    if signing_name == "secretsmanager" {
        return params
            .get("secretId")
            .and_then(Value::as_str)
            .filter(|v| v.starts_with("arn:"))
            .map(str::to_owned);
    }
    RESOURCES.iter().find_map(|(s, member, arn)| {
        if *s != signing_name {
            return None;
        }
        let value = params.get(*member)?.as_str()?;
        // Parameter names are paths; a name without a leading slash still has one in its ARN.
        let value = if *s == "ssm" && !value.starts_with('/') {
            format!("/{value}")
        } else {
            value.to_owned()
        };
        Some(
            arn.replace("{region}", &ctx.region)
                .replace("{account}", &ctx.recipient_account)
                .replace("{value}", &value),
        )
    })
}

pub fn checks(
    signing_name: &str,
    ctx: &CallContext,
    op: &'static Operation,
    input: &Forward,
) -> Vec<Check> {
    let resource = resource_arn(signing_name, ctx, input).unwrap_or_else(|| "*".to_owned());
    op.actions
        .first()
        .map(|a| vec![Check::new(a.clone(), resource)])
        .unwrap_or_default()
}
