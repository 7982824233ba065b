//! The STS front (query protocol, version 2011-06-15). GetCallerIdentity answers who the
//! caller is; the credential operations arrive with IAM and answer `NotImplemented` until then.
//! Every call is recorded as an `sts.amazonaws.com` management event.

use std::collections::BTreeMap;

use cairn_model::{EventCategory, Principal};
use cairn_wire::AwsError;
use cairn_wire::xml::escape;

use crate::app::App;
use crate::recorder::{CallContext, CallFacts};

pub const EVENT_SOURCE: &str = "sts.amazonaws.com";

/// Every operation of the STS API (botocore model 2011-06-15).
pub const OPERATIONS: [&str; 12] = [
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "AssumeRoot",
    "DecodeAuthorizationMessage",
    "GetAccessKeyInfo",
    "GetCallerIdentity",
    "GetDelegatedAccessToken",
    "GetFederationToken",
    "GetScopedCredentials",
    "GetSessionToken",
    "GetWebIdentityToken",
];

/// `aws:userid` of a principal, as GetCallerIdentity answers it.
fn user_id(p: &Principal) -> String {
    match p {
        Principal::Root { account, .. } => account.to_string(),
        Principal::IamUser { user_id, .. } => user_id.clone(),
        Principal::AssumedRole {
            role_id,
            session_name,
            ..
        } => format!("{role_id}:{session_name}"),
        Principal::AwsService { service } => service.clone(),
    }
}

fn get_caller_identity(ctx: &CallContext) -> String {
    format!(
        "    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n",
        escape(&ctx.principal.arn()),
        escape(&user_id(&ctx.principal)),
        escape(&ctx.recipient_account)
    )
}

pub struct Front;

impl crate::edge::query::QueryFront for Front {
    fn version(&self) -> &'static str {
        "2011-06-15"
    }

    fn xmlns(&self) -> &'static str {
        "https://sts.amazonaws.com/doc/2011-06-15/"
    }

    fn operation(&self, action: &str) -> Option<&'static str> {
        OPERATIONS.iter().copied().find(|op| *op == action)
    }

    fn call(
        &self,
        _app: &App,
        ctx: &CallContext,
        op: &'static str,
        _params: &BTreeMap<String, String>,
    ) -> (Result<String, AwsError>, CallFacts) {
        let result = match op {
            "GetCallerIdentity" => Ok(get_caller_identity(ctx)),
            other => Err(AwsError::new(
                501,
                "NotImplemented",
                format!(
                    "cairn does not support sts:{other} yet (temporary credentials arrive with IAM)."
                ),
            )),
        };
        let facts = CallFacts {
            event_source: EVENT_SOURCE.to_owned(),
            event_name: op.to_owned(),
            read_only: op.starts_with("Get") || op.starts_with("Decode"),
            category: EventCategory::Management,
            request_parameters: None,
            response_elements: None,
            additional_event_data: None,
            resources: Vec::new(),
        };
        (result, facts)
    }
}
