//! A trail's SNS topic (`SnsTopicName`), checked as AWS checks it when a trail is created or
//! changed: a topic name (in the trail's account and home region) or a topic ARN, naming a
//! topic that exists and whose policy lets `cloudtrail.amazonaws.com` publish for the trail.
//!
//! The check is CloudTrail's Publish judged by SNS as any call is (the topic policy, with the
//! trail as `aws:SourceArn`), never run nor recorded ([`Durability::Unrecorded`]), like the
//! bucket check in `destination`. AWS answers a missing topic and a refusing policy alike:
//! `InsufficientSnsTopicPolicyException`, "SNS Topic does not exist or the topic policy is
//! incorrect!" (as users meet it: aws-cdk #9013 and #11387, terraform baselines).

use cairn_store::trails::Trail;
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::s3_calls::cloudtrail_for;
use crate::app::App;
use crate::pipeline::Durability;

/// The longest `SnsTopicName` (botocore's documentation of the member).
const MAX_LEN: usize = 256;

/// What a Create/UpdateTrail asks of the topic.
#[derive(Debug, PartialEq, Eq)]
pub enum SnsChange {
    /// Not given: as it is.
    Keep,
    /// Given empty: notifications off.
    Clear,
    /// Notify this topic (a name or an ARN, as given: `SnsTopicName` echoes it).
    Set(String),
}

fn invalid(given: &str) -> AwsError {
    AwsError::client(
        "InvalidSnsTopicNameException",
        format!("SNS topic name {given} is invalid."),
    )
}

/// A topic name: 1–256 letters, digits, hyphens and underscores.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// Reads `SnsTopicName`, checking its form.
pub fn change_of(input: &Value) -> Result<SnsChange, AwsError> {
    let given = match input.get("SnsTopicName") {
        None | Some(Value::Null) => return Ok(SnsChange::Keep),
        Some(Value::String(s)) => s.as_str(),
        Some(_) => {
            return Err(AwsError::client(
                "SerializationException",
                "SnsTopicName must be a string",
            ));
        }
    };
    if given.is_empty() {
        return Ok(SnsChange::Clear);
    }
    let well_formed = match given.strip_prefix("arn:") {
        Some(_) => split_arn(given).is_some(),
        None => valid_name(given),
    };
    if !well_formed {
        return Err(invalid(given));
    }
    Ok(SnsChange::Set(given.to_owned()))
}

/// `arn:<partition>:sns:<region>:<account>:<name>` → (region, name).
fn split_arn(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, partition, "sns", region, account, name] = parts[..] else {
        return None;
    };
    let ok = !partition.is_empty()
        && !region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && valid_name(name);
    ok.then_some((region, name))
}

/// The ARN of the topic a trail notifies: its `SnsTopicName` if an ARN, else that name in
/// the trail's account and home region.
pub fn topic_arn(t: &Trail) -> Option<String> {
    let given = t.sns_topic_name.as_deref()?;
    Some(if given.starts_with("arn:") {
        given.to_owned()
    } else {
        format!("arn:aws:sns:{}:{}:{given}", t.home_region, t.account)
    })
}

/// The region of the topic a trail notifies (where the Publish is sent).
pub fn topic_region(t: &Trail, arn: &str) -> String {
    split_arn(arn)
        .map(|(region, _)| region.to_owned())
        .unwrap_or_else(|| t.home_region.clone())
}

/// The topic `t` names (settings final) must exist and let CloudTrail publish for `t`.
pub fn check(app: &App, t: &Trail) -> Result<(), AwsError> {
    let Some(arn) = topic_arn(t) else {
        return Ok(());
    };
    let region = topic_region(t, &arn);
    let cloudtrail = cloudtrail_for(t, &t.account, &region, Durability::Unrecorded);
    let publish = json!({"TopicArn": arn, "Message": "{}"});
    match cloudtrail.authorize_json(app, "sns", "Publish", publish) {
        Ok(()) => Ok(()),
        Err(e) if e.status >= 500 => Err(e),
        Err(e) => {
            tracing::debug!(trail = %t.arn, topic = %arn, code = %e.code, "CloudTrail may not publish to the topic");
            Err(AwsError::client(
                "InsufficientSnsTopicPolicyException",
                "SNS Topic does not exist or the topic policy is incorrect!",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(v: Value) -> Result<SnsChange, AwsError> {
        change_of(&json!({ "SnsTopicName": v }))
    }

    #[test]
    fn names_and_arns_are_taken_as_aws_takes_them() {
        assert_eq!(change_of(&json!({})).unwrap(), SnsChange::Keep);
        assert_eq!(change(json!("")).unwrap(), SnsChange::Clear);
        assert_eq!(
            change(json!("a-b_C9")).unwrap(),
            SnsChange::Set("a-b_C9".into())
        );
        let arn = "arn:aws:sns:eu-west-1:111122223333:t";
        assert_eq!(change(json!(arn)).unwrap(), SnsChange::Set(arn.into()));
        for bad in [
            "a b",
            "a.fifo",
            "arn:aws:sns:eu-west-1:1111:t",
            "arn:aws:s3:eu-west-1:111122223333:t",
            "arn:aws:sns::111122223333:t",
            &"x".repeat(257),
        ] {
            assert_eq!(
                change(json!(bad)).unwrap_err().code,
                "InvalidSnsTopicNameException",
                "{bad}"
            );
        }
        assert_eq!(change(json!(5)).unwrap_err().code, "SerializationException");
    }

    #[test]
    fn a_name_is_a_topic_of_the_trails_account_and_home_region() {
        let mut t = Trail {
            account: "111122223333".into(),
            home_region: "us-east-2".into(),
            sns_topic_name: Some("t".into()),
            ..Trail::default()
        };
        let arn = topic_arn(&t).unwrap();
        assert_eq!(arn, "arn:aws:sns:us-east-2:111122223333:t");
        assert_eq!(topic_region(&t, &arn), "us-east-2");
        t.sns_topic_name = Some("arn:aws:sns:eu-west-1:444455556666:x".into());
        let arn = topic_arn(&t).unwrap();
        assert_eq!(arn, "arn:aws:sns:eu-west-1:444455556666:x");
        assert_eq!(topic_region(&t, &arn), "eu-west-1");
        t.sns_topic_name = None;
        assert_eq!(topic_arn(&t), None);
    }
}
