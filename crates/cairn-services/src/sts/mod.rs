//! The STS front (query protocol, version 2011-06-15). GetCallerIdentity answers who the
//! caller is; AssumeRole and GetSessionToken issue temporary credentials; the other operations
//! answer `NotImplemented`.
//! Every call is recorded as an `sts.amazonaws.com` management event.

use std::sync::OnceLock;

use cairn_model::Principal;
use cairn_wire::AwsError;
use cairn_wire::xml::escape;

mod credentials;

use crate::app::App;
use crate::pipeline::codec::form::{Form, request_parameters};
use crate::pipeline::codec::query::{QueryCodec, Reply};
use crate::pipeline::{Access, Check, Details, Operation, Recording, Service};
use crate::recorder::CallContext;

pub const EVENT_SOURCE: &str = "sts.amazonaws.com";

/// Every operation of the STS API (botocore model 2011-06-15).
pub const OPERATIONS: [&str; 15] = [
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "AssumeRoot",
    "DecodeAuthorizationMessage",
    "GetAccessKeyInfo",
    "GetCallerIdentity",
    "GetCertificate",
    "GetDelegatedAccessToken",
    "GetFederationToken",
    "GetScopedCredentials",
    "GetSessionToken",
    "GetTrustBundles",
    "GetWebIdentityToken",
    "IssueWorkloadIdentityContext",
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

/// The STS service.
pub struct Sts;

static CODEC: QueryCodec = QueryCodec {
    version: "2011-06-15",
    xmlns: "https://sts.amazonaws.com/doc/2011-06-15/",
};

/// The operations cairn serves; the others answer `NotImplemented`.
const SERVED: [&str; 3] = ["AssumeRole", "GetCallerIdentity", "GetSessionToken"];

/// AssumeRole counts as read-only, as AWS records it.
fn is_read_only(op: &str) -> bool {
    op.starts_with("Get") || op.starts_with("Decode") || op.starts_with("Assume")
}

/// GetCallerIdentity needs no permission; AssumeRole is decided by the role's trust policy;
/// GetSessionToken is open to users and the root user, not to sessions.
fn access(op: &str) -> Access {
    match op {
        "GetCallerIdentity" => Access::Open,
        "AssumeRole" => Access::TrustPolicy,
        "GetSessionToken" => Access::Caller,
        _ => Access::Identity,
    }
}

impl Service for Sts {
    type Codec = QueryCodec;
    type Plan = credentials::AssumePlan;

    fn signing_name(&self) -> &'static str {
        "sts"
    }

    fn event_source(&self) -> &'static str {
        EVENT_SOURCE
    }

    fn codec(&self) -> &QueryCodec {
        &CODEC
    }

    fn operations(&self) -> &'static [Operation] {
        static TABLE: OnceLock<Vec<Operation>> = OnceLock::new();
        TABLE.get_or_init(|| {
            OPERATIONS
                .iter()
                .map(|&n| {
                    let op = Operation::named("sts", n, is_read_only(n), SERVED.contains(&n))
                        .access(access(n));
                    // GetCallerIdentity needs no permission at all.
                    if n == "GetCallerIdentity" {
                        op.actions(&[])
                    } else {
                        op
                    }
                })
                .collect()
        })
    }

    fn resolve(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        form: &Form,
        plan: &mut credentials::AssumePlan,
    ) -> Result<Vec<Check>, AwsError> {
        match op.name {
            "AssumeRole" => credentials::resolve_assume_role(app, ctx, form, plan),
            _ => Ok(Vec::new()),
        }
    }

    fn run(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        form: &Form,
        plan: &mut credentials::AssumePlan,
    ) -> Result<Reply, AwsError> {
        let issued = match op.name {
            "GetCallerIdentity" => return Ok(Reply::xml(get_caller_identity(ctx), None)),
            "AssumeRole" => credentials::assume_role(app, ctx, plan),
            "GetSessionToken" => credentials::get_session_token(app, ctx, form),
            other => Err(AwsError::new(
                501,
                "NotImplemented",
                format!("cairn does not support sts:{other} yet."),
            )),
        }?;
        Ok(Reply {
            xml: issued.xml,
            response: Some(issued.response),
            resources: issued.resources,
            shared_with: issued.shared_with,
        })
    }

    fn record(
        &self,
        _app: &App,
        _ctx: &CallContext,
        op: &'static Operation,
        call: Recording<'_, Self>,
    ) -> Details {
        if op.name == "GetCallerIdentity" {
            return Details::default();
        }
        let request = call.input.and_then(request_parameters);
        match call.result {
            Ok(r) => Details {
                request_parameters: request,
                response_elements: r.response.clone(),
                resources: r.resources.clone(),
                shared_with: r.shared_with.clone(),
                ..Details::default()
            },
            // AWS records STS refusals without their parameters (other failures keep them).
            Err(e) if e.code == "AccessDenied" => Details::default(),
            Err(_) => Details {
                request_parameters: request,
                ..Details::default()
            },
        }
    }
}
