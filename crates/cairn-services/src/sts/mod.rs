//! The STS front (query protocol, version 2011-06-15). GetCallerIdentity answers who the
//! caller is; AssumeRole and GetSessionToken issue temporary credentials; the other operations
//! answer `NotImplemented`.
//! Every call is recorded as an `sts.amazonaws.com` management event.

use std::collections::BTreeMap;

use cairn_model::{EventCategory, Principal};
use cairn_wire::AwsError;
use cairn_wire::xml::escape;

mod credentials;

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

    fn permission(
        &self,
        _app: &App,
        _ctx: &CallContext,
        _op: &'static str,
        _params: &BTreeMap<String, String>,
    ) -> Option<(String, String)> {
        // GetCallerIdentity needs no permission; AssumeRole is judged against the role's
        // trust policy inside; GetSessionToken is open to users and the root user.
        None
    }

    fn denied_facts(&self, op: &'static str) -> CallFacts {
        facts(op, None, None, Vec::new())
    }

    fn call(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static str,
        params: &BTreeMap<String, String>,
    ) -> (Result<String, AwsError>, CallFacts) {
        let issued = match op {
            "GetCallerIdentity" => {
                return (
                    Ok(get_caller_identity(ctx)),
                    facts(op, None, None, Vec::new()),
                );
            }
            "AssumeRole" => credentials::assume_role(app, ctx, params),
            "GetSessionToken" => credentials::get_session_token(app, ctx, params),
            other => Err(AwsError::new(
                501,
                "NotImplemented",
                format!("cairn does not support sts:{other} yet."),
            )),
        };
        let request = crate::iam::request_parameters(params);
        match issued {
            Ok(i) => {
                let mut f = facts(op, request, Some(i.response), i.resources);
                f.shared_with = i.shared_with;
                (Ok(i.xml), f)
            }
            // AWS records STS refusals without their parameters (other failures keep them).
            Err(e) if e.code == "AccessDenied" => (Err(e), facts(op, None, None, Vec::new())),
            Err(e) => (Err(e), facts(op, request, None, Vec::new())),
        }
    }
}

/// How an STS call is recorded (AssumeRole counts as read-only, as AWS records it).
fn facts(
    op: &str,
    request: Option<serde_json::Value>,
    response: Option<serde_json::Value>,
    resources: Vec<cairn_model::RecordResource>,
) -> CallFacts {
    CallFacts {
        event_source: EVENT_SOURCE.to_owned(),
        event_name: op.to_owned(),
        read_only: op.starts_with("Get") || op.starts_with("Decode") || op.starts_with("Assume"),
        category: EventCategory::Management,
        request_parameters: request,
        response_elements: response,
        additional_event_data: None,
        resources,
        shared_with: None,
    }
}
