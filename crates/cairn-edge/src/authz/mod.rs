//! Authorization: whether the caller may do what a call asks, by AWS's policy evaluation logic
//! (crate `cairn-policy`): explicit deny wins; then an allow from the caller's identity
//! policies (a user's own and its groups', a role session's role's) or from the resource's
//! policy (bucket policy, key policy, trust policy), with cross-account calls needing both.
//! The root user may do anything its account's resource policies do not deny.

mod cache;
mod context;
pub mod managed;
pub mod scp;

use std::sync::Arc;

use cairn_model::Principal;
pub use cairn_policy::ResourceRule;
use cairn_policy::{Caller, Decision, Evaluation, PolicyDocument, Request};
use cairn_wire::{AwsError, Protocol};

pub use cache::GrantCache;
pub use context::request_context;
pub use scp::ScpCache;

use crate::app::App;
use crate::recorder::CallContext;

/// A refusal, with AWS's message; each protocol shapes it its own way.
#[derive(Clone, Debug)]
pub struct Denied {
    pub message: String,
}

impl Denied {
    pub fn to_error(&self, protocol: Protocol) -> AwsError {
        match protocol {
            Protocol::Json11 | Protocol::Json10 | Protocol::RpcV2Cbor => {
                AwsError::client("AccessDeniedException", self.message.clone())
            }
            // REST-JSON services (Lambda) refuse with 403.
            Protocol::RestJson => AwsError::new(403, "AccessDeniedException", self.message.clone()),
            Protocol::Query { .. } => AwsError::new(403, "AccessDenied", self.message.clone()),
            Protocol::RestXml => AwsError::new(403, "AccessDenied", "Access Denied"),
            // EC2 says who may not do what, and CloudTrail records it as
            // `Client.UnauthorizedOperation`.
            Protocol::Ec2 => AwsError::new(
                403,
                "UnauthorizedOperation",
                format!(
                    "You are not authorized to perform this operation. {}",
                    self.message
                ),
            ),
        }
    }
}

/// A resource-based policy that takes part in a decision, and the account that owns the
/// resource.
#[derive(Clone, Copy, Debug)]
pub struct ResourcePolicy<'a> {
    pub document: Option<&'a str>,
    pub account: &'a str,
    /// How the policy takes part: bucket policies are `Standard`; key and trust policies
    /// `Exclusive` (they must allow, directly or by delegating to the caller's account).
    pub rule: ResourceRule,
}

/// The policy engine's view of a principal.
pub fn caller_of(p: &Principal) -> Caller {
    match p {
        Principal::Root { account, .. } => Caller::Root {
            account: account.to_string(),
        },
        Principal::IamUser { account, .. } => Caller::User {
            account: account.to_string(),
            arn: p.arn(),
        },
        Principal::AssumedRole {
            account,
            role_name,
            role_path,
            ..
        } => Caller::AssumedRole {
            account: account.to_string(),
            arn: p.arn(),
            role_arn: format!("arn:aws:iam::{account}:role{role_path}{role_name}"),
        },
        Principal::AwsService { service } => Caller::Service {
            name: service.clone(),
        },
        Principal::Anonymous => Caller::Anonymous,
    }
}

/// Decides one action on one resource for the call's principal. `extra` adds
/// service-specific condition keys (such as `s3:prefix`) to the request context.
pub fn authorize(
    app: &App,
    ctx: &CallContext,
    action: &str,
    resource: &str,
    resource_policy: Option<ResourcePolicy<'_>>,
    extra: &[(&str, String)],
) -> Result<(), Denied> {
    let caller = caller_of(&ctx.principal);
    // AWS lets GetSessionToken credentials call IAM only when they were made with MFA. A
    // console session's credentials are not GetSessionToken's: the console calls IAM with them,
    // and so does the sign-in service when it changes a password it required changed.
    if action.to_ascii_lowercase().starts_with("iam:")
        && !ctx.from_console
        && ctx.invoked_by.as_deref() != Some("signin.amazonaws.com")
        && let Principal::IamUser {
            session: Some(s), ..
        }
        | Principal::Root {
            session: Some(s), ..
        } = &ctx.principal
        && !s.mfa_authenticated
    {
        return Err(Denied {
            message: format!(
                "User: {} is not authorized to perform: {action} on resource: {resource} with an explicit deny: you cannot call IAM API operations with session credentials unless MFA authentication information is included in the request",
                caller.arn()
            ),
        });
    }
    let identity = match app.grants.identity_policies(app, &ctx.principal) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "could not read the caller's policies; denying");
            return Err(Denied {
                message: format!(
                    "User: {} is not authorized to perform: {action} on resource: {resource}",
                    caller.arn()
                ),
            });
        }
    };
    let mut context = request_context(app, ctx);
    for (k, v) in extra {
        context.set(k, v.clone());
    }
    let parsed_resource_policy = resource_policy
        .and_then(|r| r.document)
        .and_then(|d| PolicyDocument::parse_lenient(d).ok());
    let request = Request {
        caller: &caller,
        action,
        resource,
        context: &context,
    };
    // The organization's guardrails come first: no policy of the account can lift them.
    scp::check(app, &ctx.principal, &request)?;
    let docs: Vec<&PolicyDocument> = identity.iter().collect();
    let eval: Evaluation = cairn_policy::evaluate_with(
        &docs,
        parsed_resource_policy.as_ref(),
        resource_policy.map(|r| r.account),
        resource_policy.map_or(ResourceRule::Standard, |r| r.rule),
        &request,
    );
    match eval.decision {
        Decision::Allow => Ok(()),
        _ => Err(Denied {
            message: cairn_policy::denial_message(&caller, action, resource, &eval),
        }),
    }
}

/// The parsed identity policies of a principal (empty for root and services).
pub type IdentityPolicies = Arc<Vec<PolicyDocument>>;
