//! What a Lambda call acts on: the function its `FunctionName` (or, for tags, `Resource`)
//! names — a name, a partial ARN (`<account>:function:<name>`) or a full ARN, with or without
//! a qualifier — which must exist for every function operation but CreateFunction, and the
//! check it needs: the operation's action on the function's ARN, judged with the caller's
//! identity policies and the function's resource policy (a standard resource policy, so that
//! a statement naming `events.amazonaws.com` with an `AWS:SourceArn` condition, or another
//! account, lets them invoke, as AddPermission grants). Only `$LATEST` exists: any other
//! qualifier names no function. Setting a function's role also needs `iam:PassRole` on it.

use cairn_policy::ResourceRule;
use cairn_store::lambda::Function;
use cairn_wire::AwsError;
use serde_json::Value;

use super::handlers::{internal, invalid, not_found, str_member, validation};
use super::operations::SERVED;
use crate::app::App;
use crate::pipeline::{Check, PolicyOf};
use crate::recorder::CallContext;

/// What a Lambda call acts on, found before it is authorized.
#[derive(Default)]
pub struct LambdaPlan {
    /// The unqualified ARN of the function the call names.
    pub arn: Option<String>,
    /// The function as stored, when it exists.
    pub function: Option<Function>,
    /// The qualifier the call named (`$LATEST`), if any.
    pub qualifier: Option<String>,
}

const NAME_PATTERN: &str = "(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?";

/// A function named by a call: where it lives, its name, and the qualifier the name carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub account: String,
    pub region: String,
    pub name: String,
    pub qualifier: Option<String>,
}

impl Named {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account, self.name
        )
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_qualifier(s: &str) -> bool {
    s == "$LATEST"
        || (!s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// Reads a function name in any of its forms (`member` names it in the error, as AWS does).
pub fn parse_name(ctx: &CallContext, text: &str, member: &str) -> Result<Named, AwsError> {
    let bad = || {
        validation(format!(
            "1 validation error detected: Value '{text}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: {NAME_PATTERN}"
        ))
    };
    let mut account = ctx.recipient_account.clone();
    let mut region = ctx.region.clone();
    let rest = if let Some(r) = text.strip_prefix("arn:aws:lambda:") {
        let mut parts = r.splitn(3, ':');
        let (Some(reg), Some(acct), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        region = reg.to_owned();
        account = acct.to_owned();
        rest.strip_prefix("function:").ok_or_else(bad)?
    } else if let Some((acct, rest)) = text.split_once(":function:") {
        account = acct.to_owned();
        rest
    } else {
        text
    };
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let (name, qualifier) = match rest.split_once(':') {
        Some((n, q)) => (n, Some(q)),
        None => (rest, None),
    };
    if !is_name(name) || qualifier.is_some_and(|q| !is_qualifier(q)) {
        return Err(bad());
    }
    if region != ctx.region {
        return Err(invalid(format!(
            "Functions from '{region}' are not reachable in this region ('{}')",
            ctx.region
        )));
    }
    Ok(Named {
        account,
        region,
        name: name.to_owned(),
        qualifier: qualifier.map(str::to_owned),
    })
}

/// The function a call names, with the qualifier of its name or its `Qualifier` member.
pub fn named(ctx: &CallContext, input: &Value, member: &str) -> Result<Named, AwsError> {
    let text = str_member(input, member).ok_or_else(|| {
        validation(format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            lower_first(member)
        ))
    })?;
    let mut n = parse_name(ctx, text, &lower_first(member))?;
    if let Some(q) = str_member(input, "Qualifier") {
        match &n.qualifier {
            Some(own) if own != q => {
                return Err(invalid(
                    "The derived qualifier from the function name does not match the specified qualifier.",
                ));
            }
            _ => n.qualifier = Some(q.to_owned()),
        }
    }
    Ok(n)
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

/// `Function not found: <arn>` (the qualifier appended when one was named).
pub fn function_not_found(n: &Named) -> AwsError {
    let arn = match &n.qualifier {
        Some(q) => format!("{}:{q}", n.arn()),
        None => n.arn(),
    };
    not_found(format!("Function not found: {arn}"))
}

/// The stored function a name names; only `$LATEST` of it exists.
pub fn function_of(app: &App, n: &Named) -> Result<Function, AwsError> {
    if n.qualifier.as_deref().is_some_and(|q| q != "$LATEST") {
        return Err(function_not_found(n));
    }
    app.lambda
        .function(&n.arn())
        .map_err(internal)?
        .ok_or_else(|| function_not_found(n))
}

/// The operation's action on the function, with its resource policy.
fn function_check(action: &str, f: &Function) -> Check {
    Check::new(action, f.arn.clone()).with_policy(PolicyOf {
        document: f.policy.clone(),
        account: f.account.clone(),
        rule: ResourceRule::Standard,
    })
}

pub(super) fn resolve(
    app: &App,
    ctx: &CallContext,
    op: &'static crate::pipeline::Operation,
    input: &Value,
    plan: &mut LambdaPlan,
) -> Result<Vec<Check>, AwsError> {
    if !SERVED.contains(&op.name) {
        // Operations cairn does not have need no permission to be told so.
        return Ok(Vec::new());
    }
    let action = op.actions.first().cloned().unwrap_or_default();
    match op.name {
        "ListFunctions" | "GetAccountSettings" => return Ok(vec![Check::new(action, "*")]),
        "CreateFunction" => {
            let n = named(ctx, input, "FunctionName")?;
            if n.qualifier.is_some() || n.account != ctx.recipient_account {
                return Err(validation(format!(
                    "1 validation error detected: Value '{}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{{2}}(-gov)?-[a-z]+-\\d{{1}}:)?(\\d{{12}}:)?(function:)?([a-zA-Z0-9-_]+)",
                    str_member(input, "FunctionName").unwrap_or_default()
                )));
            }
            let arn = n.arn();
            plan.arn = Some(arn.clone());
            let mut checks = vec![Check::new(action, arn)];
            checks.extend(pass_role(input));
            return Ok(checks);
        }
        _ => {}
    }
    let member = match op.name {
        "TagResource" | "UntagResource" | "ListTags" => "Resource",
        _ => "FunctionName",
    };
    let n = named(ctx, input, member)?;
    plan.arn = Some(n.arn());
    plan.qualifier = n.qualifier.clone();
    let f = function_of(app, &n)?;
    let mut checks = vec![function_check(&action, &f)];
    if op.name == "UpdateFunctionConfiguration" {
        checks.extend(pass_role(input));
    }
    plan.function = Some(f);
    Ok(checks)
}

/// Giving a function a role is passing that role to Lambda, as AWS judges it: `iam:PassRole` on
/// the role, with `iam:PassedToService` lambda.amazonaws.com. Without it a caller allowed
/// `lambda:*` could run code with any role of the account.
fn pass_role(input: &Value) -> Option<Check> {
    let role = str_member(input, "Role")?;
    Some(Check::new("iam:PassRole", role).with_keys(vec![(
        "iam:PassedToService",
        "lambda.amazonaws.com".to_owned(),
    )]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_model::Principal;

    fn ctx() -> CallContext {
        CallContext {
            principal: Principal::AwsService {
                service: "events.amazonaws.com".into(),
            },
            recipient_account: "111122223333".into(),
            region: "us-east-1".into(),
            source_ip: String::new(),
            user_agent: None,
            request_id: "r".into(),
            tls: None,
            invoked_by: None,
            from_console: false,
            source_arn: None,
            arrival: None,
        }
    }

    #[test]
    fn names_partial_arns_and_full_arns_name_the_same_function() {
        let c = ctx();
        let want = "arn:aws:lambda:us-east-1:111122223333:function:f";
        for text in ["f", "111122223333:function:f", want] {
            let n = parse_name(&c, text, "functionName").unwrap();
            assert_eq!(
                (n.arn().as_str(), n.qualifier.as_deref()),
                (want, None),
                "{text}"
            );
        }
        let q = parse_name(&c, &format!("{want}:$LATEST"), "functionName").unwrap();
        assert_eq!(q.qualifier.as_deref(), Some("$LATEST"));
        let other = parse_name(
            &c,
            "arn:aws:lambda:us-east-1:444455556666:function:g",
            "functionName",
        )
        .unwrap();
        assert_eq!(other.account, "444455556666");
    }

    #[test]
    fn malformed_names_are_refused_as_aws_refuses_them() {
        let c = ctx();
        for bad in [
            "",
            "a b",
            "f:é",
            "é",
            "arn:aws:lambda:us-east-1:1:function:f",
            "arn:aws:lambda:us-east-1:111122223333:layer:f",
        ] {
            let e = parse_name(&c, bad, "functionName").unwrap_err();
            assert_eq!(e.code, "ValidationException", "{bad}");
        }
        let e = parse_name(
            &c,
            "arn:aws:lambda:eu-west-1:111122223333:function:f",
            "functionName",
        )
        .unwrap_err();
        assert_eq!(e.code, "InvalidParameterValueException");
        assert_eq!(
            e.message,
            "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"
        );
    }
}
