//! CloudTrail reaching a trail's CloudWatch Logs group as AWS does: it assumes the trail's
//! `CloudWatchLogsRoleArn` as the AWSService `cloudtrail.amazonaws.com` (so the role's trust
//! policy decides), then calls Logs with that role session (so the role's permissions decide),
//! each call recorded with the session as the caller and `invokedBy` CloudTrail.
//!
//! Also the names this needs: the group ARN's parts (`arn:aws:logs:<r>:<acct>:log-group:<g>:*`,
//! the form `DescribeLogGroups` answers as `arn`) and the stream name
//! `<account>_CloudTrail_<region>`.

use cairn_store::trails::Trail;
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::s3_calls::{CLOUDTRAIL, cloudtrail_for};
use crate::app::App;
use crate::pipeline::Durability;
use crate::pipeline::internal::Internal;

/// The role session name CloudTrail's sessions carry. AWS does not document it; cairn names
/// the sessions after what they are for, so they read plainly in records `[I]`.
pub const SESSION_NAME: &str = "CloudTrailCloudWatchLogsDelivery";

/// A log group named by the ARN a trail carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupArn {
    pub region: String,
    pub account: String,
    pub name: String,
}

/// Parses `arn:aws:logs:<region>:<account>:log-group:<name>:*`; `None` for anything else
/// (AWS wants the trailing `:*`).
pub fn parse_group_arn(arn: &str) -> Option<GroupArn> {
    let rest = arn.strip_prefix("arn:aws:logs:")?;
    let (region, rest) = rest.split_once(':')?;
    let (account, rest) = rest.split_once(':')?;
    let name = rest.strip_prefix("log-group:")?.strip_suffix(":*")?;
    let valid_name = !name.is_empty()
        && name.len() <= 512
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/#".contains(&b));
    let valid_account = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    (valid_name && valid_account && !region.is_empty()).then(|| GroupArn {
        region: region.to_owned(),
        account: account.to_owned(),
        name: name.to_owned(),
    })
}

/// The stream a trail's records go to.
/// The organization an organization trail delivers for (its streams are named after it).
pub fn organization_of(app: &App, t: &Trail) -> Option<String> {
    cairn_trail::organization::scope_of(app.organizations.as_ref(), t)
        .ok()
        .flatten()
        .map(|s| s.id)
}

/// The stream of `account`'s records: `<account>_CloudTrail_<home region>`, and for an
/// organization trail `<o-id>_<account>_CloudTrail_<home region>`.
pub fn stream_name(t: &Trail, organization: Option<&str>, account: &str) -> String {
    match organization {
        Some(o) => format!("{o}_{account}_CloudTrail_{}", t.home_region),
        None => format!("{account}_CloudTrail_{}", t.home_region),
    }
}

/// Assumes the trail's role as CloudTrail; answers the session's access key id. STS's error
/// (trust refused, no such role) as STS gave it.
pub fn assume(app: &App, t: &Trail, role_arn: &str, d: Durability) -> Result<String, AwsError> {
    let out = cloudtrail_for(t, &t.account, &t.home_region, d).call_json(
        app,
        "sts",
        "AssumeRole",
        json!({"RoleArn": role_arn, "RoleSessionName": SESSION_NAME}),
    )?;
    out.pointer("/ResponseElements/credentials/accessKeyId")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| AwsError::internal("STS answered no credentials"))
}

/// Calls as the role session `key`, in the group's region, for the trail.
pub fn as_session(
    app: &App,
    t: &Trail,
    key: &str,
    group: &GroupArn,
    d: Durability,
) -> Result<Internal, AwsError> {
    let mut i = Internal::session(app, key, CLOUDTRAIL, &group.region, Some(&t.arn), d)?;
    i.cause = t.arn.clone();
    Ok(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_arns() {
        let g = parse_group_arn("arn:aws:logs:us-east-1:111122223333:log-group:ct/x_1:*").unwrap();
        assert_eq!(
            (g.region.as_str(), g.account.as_str(), g.name.as_str()),
            ("us-east-1", "111122223333", "ct/x_1")
        );
        for bad in [
            "arn:aws:logs:us-east-1:111122223333:log-group:ct",
            "arn:aws:logs:us-east-1:1111:log-group:ct:*",
            "arn:aws:logs:us-east-1:111122223333:log-group::*",
            "arn:aws:logs:us-east-1:111122223333:log-group:c t:*",
            "arn:aws:s3:::bucket",
            "",
        ] {
            assert_eq!(parse_group_arn(bad), None, "{bad}");
        }
    }
}
