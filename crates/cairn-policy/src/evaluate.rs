//! AWS's policy evaluation logic.

use crate::context::{Caller, Request};
use crate::document::{Effect, Patterns, PolicyDocument, Statement};
use crate::pattern::Pattern;
use crate::principal::{PrincipalMatch, principal_match};

/// The result of one document for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    ExplicitDeny,
    NotApplicable,
}

/// The final decision for a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ImplicitDeny,
    ExplicitDeny,
}

/// Which kind of policy denied (explicitly) or failed to allow, for AWS's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DenySource {
    IdentityPolicy,
    ResourcePolicy,
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    pub deny_source: DenySource,
}

/// How a resource policy takes part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceRule {
    /// S3 bucket policies: within the resource's account, an allow from either the identity
    /// or the resource policy is enough.
    Standard,
    /// KMS key policies and role trust policies: the resource policy must allow, directly or
    /// by naming the caller's account (then the caller's identity policies must allow too).
    Exclusive,
}

fn action_matches(actions: &Patterns, action: &str) -> bool {
    let any = actions
        .values
        .iter()
        .any(|a| Pattern::plain(a).matches_ignore_case(action));
    any != actions.negated
}

fn resource_matches(doc: &PolicyDocument, r: &Patterns, req: &Request<'_>) -> bool {
    let any = r.values.iter().any(|pattern| {
        let p = if doc.variables {
            Pattern::with_variables(pattern, req.context)
        } else {
            Some(Pattern::plain(pattern))
        };
        p.is_some_and(|p| p.matches(req.resource))
    });
    any != r.negated
}

/// How one statement applies: `None` when it does not, else its effect and principal match.
fn applies(
    doc: &PolicyDocument,
    s: &Statement,
    req: &Request<'_>,
) -> Option<(Effect, PrincipalMatch)> {
    let pm = match &s.principals {
        Some(p) => principal_match(p, req.caller),
        None => PrincipalMatch::Direct,
    };
    if pm == PrincipalMatch::No || !action_matches(&s.actions, req.action) {
        return None;
    }
    if let Some(r) = &s.resources
        && !resource_matches(doc, r, req)
    {
        return None;
    }
    if !s
        .conditions
        .iter()
        .all(|c| c.holds(req.context, doc.variables))
    {
        return None;
    }
    Some((s.effect, pm))
}

/// What one document says: explicit deny, allow by name, allow by account.
#[derive(Clone, Copy, Debug, Default)]
struct Verdict {
    deny: bool,
    direct: bool,
    account: bool,
}

fn verdict(doc: &PolicyDocument, req: &Request<'_>) -> Verdict {
    let mut v = Verdict::default();
    for s in &doc.statements {
        match applies(doc, s, req) {
            Some((Effect::Deny, _)) => v.deny = true,
            Some((Effect::Allow, PrincipalMatch::Direct)) => v.direct = true,
            Some((Effect::Allow, PrincipalMatch::Account)) => v.account = true,
            _ => {}
        }
    }
    v
}

impl PolicyDocument {
    /// Evaluates this document's statements for a request (principals are consulted where
    /// statements name them).
    pub fn evaluate(&self, request: &Request<'_>) -> Outcome {
        let v = verdict(self, request);
        if v.deny {
            Outcome::ExplicitDeny
        } else if v.direct || v.account {
            Outcome::Allow
        } else {
            Outcome::NotApplicable
        }
    }
}

/// AWS's evaluation logic over a caller's identity policies and a resource's policy, with
/// the standard rule for resource policies (S3 bucket policies).
pub fn evaluate(
    identity_policies: &[&PolicyDocument],
    resource_policy: Option<&PolicyDocument>,
    resource_account: Option<&str>,
    request: &Request<'_>,
) -> Evaluation {
    evaluate_with(
        identity_policies,
        resource_policy,
        resource_account,
        ResourceRule::Standard,
        request,
    )
}

/// AWS's evaluation logic, with the rule the resource's policy follows.
///
/// - Any explicit deny, in an identity policy or the resource policy, denies.
/// - A service principal is allowed only by the resource policy.
/// - The root user is allowed within its own account (standard rule), and elsewhere when
///   the resource policy names it or its account.
/// - Within the resource's account, an allow from an identity policy or from the resource
///   policy naming the caller allows (standard rule); across accounts both are needed.
/// - Under the exclusive rule (key and trust policies) the resource policy must allow: by
///   naming the caller, or by naming its account together with an identity-policy allow.
pub fn evaluate_with(
    identity_policies: &[&PolicyDocument],
    resource_policy: Option<&PolicyDocument>,
    resource_account: Option<&str>,
    rule: ResourceRule,
    request: &Request<'_>,
) -> Evaluation {
    let deny = |source| Evaluation {
        decision: Decision::ExplicitDeny,
        deny_source: source,
    };
    let implicit = |source| Evaluation {
        decision: Decision::ImplicitDeny,
        deny_source: source,
    };
    let allow = Evaluation {
        decision: Decision::Allow,
        deny_source: DenySource::None,
    };
    let mut id = Verdict::default();
    for d in identity_policies {
        let v = verdict(d, request);
        id.deny |= v.deny;
        id.direct |= v.direct || v.account;
    }
    if id.deny {
        return deny(DenySource::IdentityPolicy);
    }
    let res = resource_policy
        .map(|d| verdict(d, request))
        .unwrap_or_default();
    if res.deny {
        return deny(DenySource::ResourcePolicy);
    }
    let caller = request.caller;
    let same_account = match (caller.account(), resource_account) {
        (_, None) => true,
        (Some(c), Some(r)) => c == r,
        (None, Some(_)) => false,
    };
    let identity_allows = id.direct || matches!(caller, Caller::Root { .. });
    let allowed = match (caller, rule) {
        // Neither has identity policies: the resource policy alone decides.
        (Caller::Service { .. } | Caller::Anonymous, _) => res.direct,
        (Caller::Root { .. }, ResourceRule::Standard) if same_account => true,
        (Caller::Root { .. }, _) => res.direct || res.account,
        (_, ResourceRule::Exclusive) => res.direct || (res.account && identity_allows),
        (_, ResourceRule::Standard) if same_account => identity_allows || res.direct,
        (_, ResourceRule::Standard) => identity_allows && (res.direct || res.account),
    };
    if allowed {
        return allow;
    }
    let resource_missing = match (caller, rule) {
        (Caller::Service { .. } | Caller::Anonymous, _) => true,
        (_, ResourceRule::Exclusive) => !(res.direct || res.account),
        (_, ResourceRule::Standard) => !(same_account || res.direct || res.account),
    };
    if resource_missing {
        implicit(DenySource::ResourcePolicy)
    } else {
        implicit(DenySource::IdentityPolicy)
    }
}

/// AWS's AccessDenied message for a refused request.
pub fn denial_message(caller: &Caller, action: &str, resource: &str, eval: &Evaluation) -> String {
    let head = format!(
        "User: {} is not authorized to perform: {action} on resource: {resource}",
        caller.arn()
    );
    match (eval.decision, eval.deny_source) {
        (Decision::ExplicitDeny, DenySource::ResourcePolicy) => {
            format!("{head} with an explicit deny in a resource-based policy")
        }
        (Decision::ExplicitDeny, _) => {
            format!("{head} with an explicit deny in an identity-based policy")
        }
        (_, DenySource::ResourcePolicy) => {
            format!("{head} because no resource-based policy allows the {action} action")
        }
        _ => format!("{head} because no identity-based policy allows the {action} action"),
    }
}
