//! The `ConsoleLogin` record of a sign-in, shaped like AWS's (`signin.amazonaws.com`,
//! `AwsConsoleSignIn`): members in AWS's order, `requestParameters` null, the outcome in
//! `responseElements.ConsoleLogin`, and `LoginTo`, `MobileVersion`, `MFAUsed` in
//! `additionalEventData`. Failed attempts name the user only as far as AWS does.

use serde_json::{Map, Value, json};

use super::check::Who;

/// Where and how the attempt came.
pub struct Circumstances<'a> {
    pub source_ip: &'a str,
    pub user_agent: Option<&'a str>,
    /// The page the person was signing in to.
    pub login_to: &'a str,
    pub tls: Option<cairn_model::TlsDetails>,
    pub now_ms: i64,
}

/// Sign-in is a global service: AWS records it in us-east-1.
const REGION: &str = "us-east-1";

fn user_identity(who: &Who, success: bool) -> Value {
    let mut m = Map::new();
    match who {
        Who::Root { account, alias } => {
            m.insert("type".into(), "Root".into());
            m.insert("principalId".into(), account.as_str().into());
            m.insert("arn".into(), format!("arn:aws:iam::{account}:root").into());
            m.insert("accountId".into(), account.as_str().into());
            m.insert("accessKeyId".into(), "".into());
            if let Some(alias) = alias {
                m.insert("userName".into(), alias.as_str().into());
            }
        }
        Who::User(u) => {
            m.insert("type".into(), "IAMUser".into());
            m.insert("principalId".into(), u.user_id.as_str().into());
            if success {
                m.insert("arn".into(), u.arn().into());
            }
            m.insert("accountId".into(), u.account.as_str().into());
            if !success {
                m.insert("accessKeyId".into(), "".into());
            }
            m.insert("userName".into(), u.name.as_str().into());
        }
        Who::UnknownUser { account } => {
            m.insert("type".into(), "IAMUser".into());
            m.insert("accountId".into(), account.as_str().into());
            m.insert("accessKeyId".into(), "".into());
            m.insert("userName".into(), "HIDDEN_DUE_TO_SECURITY_REASONS".into());
        }
    }
    Value::Object(m)
}

/// The record; `error_message` is set for a failure.
pub fn console_login(
    who: &Who,
    error_message: Option<&str>,
    mfa_used: bool,
    c: &Circumstances<'_>,
) -> Value {
    let success = error_message.is_none();
    let mut r = Map::new();
    r.insert(
        "eventVersion".into(),
        cairn_model::record::EVENT_VERSION.into(),
    );
    r.insert("userIdentity".into(), user_identity(who, success));
    r.insert(
        "eventTime".into(),
        cairn_model::timefmt::event_time(c.now_ms).into(),
    );
    r.insert("eventSource".into(), "signin.amazonaws.com".into());
    r.insert("eventName".into(), "ConsoleLogin".into());
    r.insert("awsRegion".into(), REGION.into());
    r.insert("sourceIPAddress".into(), c.source_ip.into());
    if let Some(ua) = c.user_agent {
        r.insert("userAgent".into(), ua.into());
    }
    if let Some(e) = error_message {
        r.insert("errorMessage".into(), e.into());
    }
    r.insert("requestParameters".into(), Value::Null);
    r.insert(
        "responseElements".into(),
        json!({"ConsoleLogin": if success { "Success" } else { "Failure" }}),
    );
    r.insert(
        "additionalEventData".into(),
        json!({
            "LoginTo": c.login_to,
            "MobileVersion": "No",
            "MFAUsed": if mfa_used { "Yes" } else { "No" },
        }),
    );
    r.insert("eventID".into(), cairn_model::ids::new_uuid().into());
    r.insert("readOnly".into(), false.into());
    r.insert("eventType".into(), "AwsConsoleSignIn".into());
    r.insert("managementEvent".into(), true.into());
    r.insert("recipientAccountId".into(), who.account().as_str().into());
    r.insert("eventCategory".into(), "Management".into());
    if let Some(tls) = &c.tls {
        r.insert(
            "tlsDetails".into(),
            serde_json::to_value(tls).unwrap_or(Value::Null),
        );
    }
    Value::Object(r)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use cairn_model::AccountId;

    fn at() -> Circumstances<'static> {
        Circumstances {
            source_ip: "192.0.2.7",
            user_agent: Some("Mozilla/5.0"),
            login_to: "http://127.0.0.1:4566/console/cloudtrail",
            tls: None,
            now_ms: 1_700_000_000_000,
        }
    }

    #[test]
    fn a_failed_root_sign_in_reads_as_aws_writes_it() {
        let who = Who::Root {
            account: AccountId::parse("111122223333").unwrap(),
            alias: None,
        };
        let r = console_login(&who, Some("Failed authentication"), false, &at());
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "eventVersion",
                "userIdentity",
                "eventTime",
                "eventSource",
                "eventName",
                "awsRegion",
                "sourceIPAddress",
                "userAgent",
                "errorMessage",
                "requestParameters",
                "responseElements",
                "additionalEventData",
                "eventID",
                "readOnly",
                "eventType",
                "managementEvent",
                "recipientAccountId",
                "eventCategory"
            ]
        );
        assert_eq!(r["responseElements"]["ConsoleLogin"], "Failure");
        assert_eq!(r["userIdentity"]["type"], "Root");
        assert_eq!(r["additionalEventData"]["MFAUsed"], "No");
    }

    #[test]
    fn unknown_users_are_hidden() {
        let who = Who::UnknownUser {
            account: AccountId::parse("111122223333").unwrap(),
        };
        let r = console_login(
            &who,
            Some("No username found in supplied account"),
            false,
            &at(),
        );
        assert_eq!(
            r["userIdentity"]["userName"],
            "HIDDEN_DUE_TO_SECURITY_REASONS"
        );
        assert!(r["userIdentity"].get("arn").is_none());
    }
}
