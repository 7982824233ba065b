//! The account's resource policies as the one resource policy a call is judged with. AWS
//! applies them only to calls by AWS service principals ("Resource policies with actions
//! invoked by non-AWS service principals … will not be enforced"), so IAM users, roles and
//! root are judged by their identity policies alone, and a service (EventBridge writing to a
//! log group target) needs a statement of some policy that allows it. Any statement of any
//! policy counts, so their statements are judged together as one document: an allow in one
//! allows, a deny in one denies.

use cairn_model::Principal;
use cairn_policy::ResourceRule;
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::handlers::internal;
use crate::app::App;
use crate::pipeline::PolicyOf;
use crate::recorder::CallContext;

/// The resource policy a Logs call by `ctx`'s principal is judged with: `None` for callers
/// the account's policies do not apply to.
pub(super) fn for_caller(app: &App, ctx: &CallContext) -> Result<Option<PolicyOf>, AwsError> {
    if !matches!(ctx.principal, Principal::AwsService { .. }) {
        return Ok(None);
    }
    let policies = app
        .logs
        .resource_policies(&ctx.recipient_account, &ctx.region)
        .map_err(internal)?;
    Ok(Some(PolicyOf {
        document: merged(policies.iter().map(|p| p.document.as_str())),
        account: ctx.recipient_account.clone(),
        rule: ResourceRule::Standard,
    }))
}

/// One document holding every statement of `documents` (none: no document). A stored
/// document was validated when it was put; one that no longer parses adds nothing.
fn merged<'a>(documents: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut statements = Vec::new();
    for text in documents {
        match serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|mut v| v.get_mut("Statement").map(Value::take))
        {
            Some(Value::Array(list)) => statements.extend(list),
            Some(one @ Value::Object(_)) => statements.push(one),
            _ => tracing::warn!("a stored Logs resource policy has no statements; ignored"),
        }
    }
    (!statements.is_empty())
        .then(|| json!({"Version": "2012-10-17", "Statement": statements}).to_string())
}

#[cfg(test)]
mod tests {
    use super::merged;
    use serde_json::{Value, json};

    #[test]
    fn statements_of_every_policy_are_judged_together() {
        let a = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Sid": "a"}})
            .to_string();
        let b =
            json!({"Statement": [{"Effect": "Deny", "Sid": "b"}, {"Effect": "Allow", "Sid": "c"}]})
                .to_string();
        let doc: Value =
            serde_json::from_str(&merged([a.as_str(), b.as_str()].into_iter()).unwrap_or_default())
                .unwrap_or_default();
        let sids: Vec<&str> = doc["Statement"]
            .as_array()
            .map(|s| s.iter().filter_map(|x| x["Sid"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(sids, ["a", "b", "c"]);
        assert_eq!(doc["Version"], "2012-10-17");
    }

    #[test]
    fn no_policies_make_no_document() {
        assert_eq!(merged(std::iter::empty()), None);
        assert_eq!(merged(["not json"].into_iter()), None);
    }
}
