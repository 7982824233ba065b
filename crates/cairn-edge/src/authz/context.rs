//! The global condition keys of a request (`aws:…`), as AWS fills them.

use cairn_model::Principal;
use cairn_policy::Context;

use crate::app::App;
use crate::recorder::CallContext;

pub fn request_context(app: &App, ctx: &CallContext) -> Context {
    let now = app.clock.now_millis();
    let mut c = Context::new();
    let p = &ctx.principal;
    c.set("aws:CurrentTime", cairn_model::timefmt::event_time(now));
    c.set("aws:EpochTime", (now / 1000).to_string());
    // A call a service makes on the caller's behalf comes from no IP of the caller's. A
    // service acting as its own service principal (CloudTrail writing log files) calls on
    // nobody's behalf: AWS sets neither aws:ViaAWSService nor aws:CalledVia for it.
    let on_behalf = !matches!(p, Principal::AwsService { .. });
    match &ctx.invoked_by {
        None => {
            c.set("aws:SourceIp", ctx.source_ip.clone());
        }
        Some(_) if !on_behalf => {}
        Some(by) => {
            c.set("aws:ViaAWSService", "true");
            c.set("aws:CalledVia", by.clone());
            c.set("aws:CalledViaFirst", by.clone());
            c.set("aws:CalledViaLast", by.clone());
        }
    }
    if let Some(arn) = &ctx.source_arn {
        c.set("aws:SourceArn", arn.clone());
        c.set("aws:SourceAccount", ctx.recipient_account.clone());
        // The older name of the same fact, which SNS's default topic policy tests: a service
        // working for a resource of the topic's own account (a CloudWatch alarm) may publish.
        // CloudTrail does not send it: AWS refuses a trail a topic until the topic policy
        // names cloudtrail.amazonaws.com ("SNS Topic does not exist or the topic policy is
        // incorrect!"), the default policy is not enough.
        if !matches!(p, Principal::AwsService { service } if service == "cloudtrail.amazonaws.com")
        {
            c.set("aws:SourceOwner", ctx.recipient_account.clone());
        }
    }
    c.set("aws:RequestedRegion", ctx.region.clone());
    c.set("aws:SecureTransport", "false");
    // An anonymous request carries none of the principal's keys (AWS: "anonymous requests do
    // not include this key").
    if *p != Principal::Anonymous {
        c.set("aws:PrincipalArn", principal_arn(p));
    }
    if let Some(a) = p.account() {
        c.set("aws:PrincipalAccount", a.to_string());
    }
    match p {
        Principal::Root { account, .. } => {
            c.set("aws:PrincipalType", "Account");
            c.set("aws:userid", account.to_string());
        }
        Principal::IamUser {
            user_id, user_name, ..
        } => {
            c.set("aws:PrincipalType", "User");
            c.set("aws:userid", user_id.clone());
            c.set("aws:username", user_name.clone());
        }
        Principal::AssumedRole {
            role_id,
            session_name,
            ..
        } => {
            c.set("aws:PrincipalType", "AssumedRole");
            c.set("aws:userid", format!("{role_id}:{session_name}"));
        }
        Principal::AwsService { .. } | Principal::Anonymous => {}
    }
    // Long-term keys carry no MFA context: the key is absent, as in AWS.
    let session = match p {
        Principal::Root { session, .. } | Principal::IamUser { session, .. } => session.as_ref(),
        Principal::AssumedRole { session, .. } => Some(session),
        Principal::AwsService { .. } | Principal::Anonymous => None,
    };
    if let Some(s) = session {
        c.set(
            "aws:MultiFactorAuthPresent",
            if s.mfa_authenticated { "true" } else { "false" },
        );
        if s.mfa_authenticated
            && let Some(created) = cairn_model::timefmt::parse_event_time(
                &serde_json::Value::String(s.creation_date.clone()),
            )
        {
            c.set(
                "aws:MultiFactorAuthAge",
                ((now - created) / 1000).to_string(),
            );
        }
        c.set("aws:TokenIssueTime", s.creation_date.clone());
    }
    c
}

/// `aws:PrincipalArn`: for a role session, the role's ARN (as AWS sets it).
fn principal_arn(p: &Principal) -> String {
    match p {
        Principal::AssumedRole {
            account,
            role_name,
            role_path,
            ..
        } => format!("arn:aws:iam::{account}:role{role_path}{role_name}"),
        other => other.arn(),
    }
}
