//! A trail's CloudWatch Logs settings (`CloudWatchLogsLogGroupArn` with
//! `CloudWatchLogsRoleArn`), checked as AWS checks them when a trail is created or changed:
//! both or neither; the group ARN in AWS's form, in the trail's account and region, naming a
//! group that exists; the role assumable by `cloudtrail.amazonaws.com`; and the role's
//! permissions allowing `logs:CreateLogStream` and `logs:PutLogEvents` on the trail's stream.
//!
//! The checks are real calls judged by the real policies, made [`Durability::Unrecorded`] (as
//! the bucket checks in `destination` are) and, for Logs, only judged, never run. Error
//! names and messages are AWS's, as users meet them (aws-cli #5098, terraform-provider-aws
//! #18038, cloudposse/terraform-aws-cloudtrail-cloudwatch-alarms #2, pulumi/docs #5117).

use cairn_store::trails::Trail;
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::cwl_session::{as_session, assume, organization_of, parse_group_arn, stream_name};
use super::handlers::trails::str_member;
use crate::app::App;
use crate::pipeline::Durability;

const GROUP_ERR: &str = "InvalidCloudWatchLogsLogGroupArnException";
const ROLE_ERR: &str = "InvalidCloudWatchLogsRoleArnException";

/// What a Create/UpdateTrail asks of the settings.
#[derive(Debug, PartialEq, Eq)]
pub enum CwlChange {
    /// Neither member given: as they are.
    Keep,
    /// Both given empty: delivery off.
    Clear,
    /// Both given: deliver here, as this role.
    Set { group_arn: String, role_arn: String },
}

/// Reads the two members, both or neither.
pub fn change_of(input: &Value) -> Result<CwlChange, AwsError> {
    let group = str_member(input, "CloudWatchLogsLogGroupArn");
    let role = str_member(input, "CloudWatchLogsRoleArn");
    let given = |v: Option<&str>| v.is_some_and(|s| !s.is_empty());
    match (group, role) {
        (None, None) => Ok(CwlChange::Keep),
        _ if !given(group) && !given(role) => Ok(CwlChange::Clear),
        _ if !given(role) => Err(AwsError::client(
            ROLE_ERR,
            "You must specify a role ARN as well as a log group.",
        )),
        _ if !given(group) => Err(AwsError::client(
            GROUP_ERR,
            "You must specify a log group as well as a role ARN.",
        )),
        (Some(g), Some(r)) => Ok(CwlChange::Set {
            group_arn: g.to_owned(),
            role_arn: r.to_owned(),
        }),
        _ => Ok(CwlChange::Keep),
    }
}

/// Checks settings about to be put on `t` (whose other settings are final).
pub fn check(app: &App, t: &Trail, group_arn: &str, role_arn: &str) -> Result<(), AwsError> {
    let unvalidated = || {
        AwsError::client(
            GROUP_ERR,
            "Check the log group ARN: CloudTrail can't validate it.",
        )
    };
    let group = parse_group_arn(group_arn).ok_or_else(unvalidated)?;
    // The group must be in the trail's home region and account.
    if group.region != t.home_region || group.account != t.account {
        return Err(unvalidated());
    }
    let untrusted = || {
        AwsError::client(
            ROLE_ERR,
            "Access denied. Check the trust relationships for your role.",
        )
    };
    let key = match assume(app, t, role_arn, Durability::Unrecorded) {
        Ok(k) => k,
        Err(e) if e.code.contains("Validation") => {
            return Err(AwsError::client(
                ROLE_ERR,
                "Check the role ARN: CloudTrail can't validate it.",
            ));
        }
        Err(_) => return Err(untrusted()),
    };
    let session = as_session(app, t, &key, &group, Durability::Unrecorded)?;
    let stream = stream_name(t, organization_of(app, t).as_deref(), &t.account);
    let denied = || {
        AwsError::client(
            GROUP_ERR,
            "Access denied. Verify in IAM that the role has adequate permissions.",
        )
    };
    for (op, input) in [
        (
            "CreateLogStream",
            json!({"logGroupName": group.name, "logStreamName": stream}),
        ),
        (
            "PutLogEvents",
            json!({"logGroupName": group.name, "logStreamName": stream,
                   "logEvents": [{"timestamp": app.clock.now_millis(), "message": "{}"}]}),
        ),
    ] {
        match session.authorize_json(app, "logs", op, input) {
            Ok(()) => {}
            // The stream is made at the first delivery.
            Err(e) if op == "PutLogEvents" && e.message.contains("log stream") => {}
            Err(e) if e.code == "ResourceNotFoundException" => return Err(unvalidated()),
            Err(e) if e.code.contains("AccessDenied") => return Err(denied()),
            Err(e) => {
                tracing::warn!(trail = %t.arn, op, code = %e.code, message = %e.message, "log group check failed");
                return Err(denied());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_or_neither() {
        assert_eq!(change_of(&json!({})).unwrap(), CwlChange::Keep);
        assert_eq!(
            change_of(&json!({"CloudWatchLogsLogGroupArn": "", "CloudWatchLogsRoleArn": ""}))
                .unwrap(),
            CwlChange::Clear
        );
        assert_eq!(
            change_of(&json!({"CloudWatchLogsLogGroupArn": "g"}))
                .unwrap_err()
                .code,
            ROLE_ERR
        );
        assert_eq!(
            change_of(&json!({"CloudWatchLogsRoleArn": "r"}))
                .unwrap_err()
                .code,
            GROUP_ERR
        );
        assert_eq!(
            change_of(&json!({"CloudWatchLogsLogGroupArn": "g", "CloudWatchLogsRoleArn": "r"}))
                .unwrap(),
            CwlChange::Set {
                group_arn: "g".into(),
                role_arn: "r".into()
            }
        );
    }
}
