//! A function's settings beside its configuration: reserved concurrency (Put/Get/Delete
//! FunctionConcurrency, within AWS's account limit of 1,000 with 100 left unreserved), the
//! asynchronous invocation configuration (Put/Update/Get/List/DeleteFunctionEventInvokeConfig:
//! retry attempts 0–2, maximum event age 60–21,600 s, on-success and on-failure destinations
//! on SQS, SNS, Lambda or EventBridge), and GetAccountSettings.

use cairn_store::lambda::Function;
use cairn_wire::AwsError;
use serde_json::{Map, Value, json};

use super::{function_of, int_in, internal, invalid, not_found};
use crate::app::App;
use crate::lambda::resolve::LambdaPlan;
use crate::recorder::CallContext;

/// AWS's default account concurrency, and what must stay unreserved.
pub(crate) const ACCOUNT_CONCURRENCY: i64 = 1000;
const MIN_UNRESERVED: i64 = 100;

fn all_functions(app: &App, account: &str, region: &str) -> Result<Vec<Function>, AwsError> {
    app.lambda
        .functions(account, region, None, usize::MAX / 2)
        .map_err(internal)
}

pub(super) fn put_concurrency(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    plan: &LambdaPlan,
) -> Result<Value, AwsError> {
    let mut f = function_of(plan)?.clone();
    let n = int_in(
        input,
        "ReservedConcurrentExecutions",
        "reservedConcurrentExecutions",
        Some(0),
        None,
    )?
    .ok_or_else(|| invalid("ReservedConcurrentExecutions is required."))?;
    let others: i64 = all_functions(app, &ctx.recipient_account, &ctx.region)?
        .iter()
        .filter(|o| o.arn != f.arn)
        .filter_map(|o| o.reserved_concurrency)
        .sum();
    if others + n > ACCOUNT_CONCURRENCY - MIN_UNRESERVED {
        return Err(invalid(format!(
            "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
        )));
    }
    f.reserved_concurrency = Some(n);
    app.lambda.update_function(&f).map_err(internal)?;
    Ok(json!({"ReservedConcurrentExecutions": n}))
}

pub(super) fn get_concurrency(plan: &LambdaPlan) -> Result<Value, AwsError> {
    Ok(match function_of(plan)?.reserved_concurrency {
        Some(n) => json!({"ReservedConcurrentExecutions": n}),
        None => json!({}),
    })
}

pub(super) fn delete_concurrency(app: &App, plan: &LambdaPlan) -> Result<Value, AwsError> {
    let mut f = function_of(plan)?.clone();
    f.reserved_concurrency = None;
    app.lambda.update_function(&f).map_err(internal)?;
    Ok(json!({}))
}

/// Whether a destination ARN names a target Lambda can send to.
fn check_destination(arn: &str) -> Result<(), AwsError> {
    let service = arn
        .strip_prefix("arn:aws:")
        .and_then(|r| r.split(':').next())
        .unwrap_or_default();
    let ok = match service {
        "sqs" | "sns" => true,
        "lambda" => arn.contains(":function:"),
        "events" => arn.contains(":event-bus/"),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(format!("The destination ARN {arn} is invalid.")))
    }
}

/// A function's event invoke configuration as stored, if any.
pub(crate) fn invoke_config(f: &Function) -> Option<Map<String, Value>> {
    match serde_json::from_str(f.invoke_config.as_deref()?) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

fn shown(f: &Function, m: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    out.insert(
        "LastModified".into(),
        m.get("LastModified").cloned().unwrap_or(json!(0)),
    );
    out.insert("FunctionArn".into(), json!(format!("{}:$LATEST", f.arn)));
    for k in ["MaximumRetryAttempts", "MaximumEventAgeInSeconds"] {
        if let Some(v) = m.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    let dest = m.get("DestinationConfig");
    let side = |k: &str| {
        dest.and_then(|d| d.get(k))
            .filter(|v| v.get("Destination").is_some())
            .cloned()
            .unwrap_or(json!({}))
    };
    out.insert(
        "DestinationConfig".into(),
        json!({"OnSuccess": side("OnSuccess"), "OnFailure": side("OnFailure")}),
    );
    Value::Object(out)
}

fn no_config(f: &Function) -> AwsError {
    not_found(format!(
        "The function {}:$LATEST doesn't have an EventInvokeConfig",
        f.arn
    ))
}

pub(super) fn put_invoke_config(
    app: &App,
    input: &Value,
    plan: &LambdaPlan,
    replace: bool,
) -> Result<Value, AwsError> {
    let mut f = function_of(plan)?.clone();
    let mut m = match (replace, invoke_config(&f)) {
        (true, _) => Map::new(),
        (false, Some(m)) => m,
        (false, None) => return Err(no_config(&f)),
    };
    let retries = int_in(
        input,
        "MaximumRetryAttempts",
        "maximumRetryAttempts",
        Some(0),
        Some(2),
    )?;
    let age = int_in(
        input,
        "MaximumEventAgeInSeconds",
        "maximumEventAgeInSeconds",
        Some(60),
        Some(21600),
    )?;
    let dest = input.get("DestinationConfig").filter(|d| !d.is_null());
    if replace && retries.is_none() && age.is_none() && dest.is_none() {
        return Err(invalid(
            "You must specify at least one of error handling or destination setting.",
        ));
    }
    if let Some(r) = retries {
        m.insert("MaximumRetryAttempts".into(), json!(r));
    }
    if let Some(a) = age {
        m.insert("MaximumEventAgeInSeconds".into(), json!(a));
    }
    if let Some(d) = dest {
        let mut kept = m
            .get("DestinationConfig")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for side in ["OnSuccess", "OnFailure"] {
            if let Some(s) = d.get(side) {
                if let Some(arn) = s.get("Destination").and_then(Value::as_str) {
                    check_destination(arn)?;
                    kept.insert(side.into(), json!({"Destination": arn}));
                } else {
                    kept.remove(side);
                }
            }
        }
        m.insert("DestinationConfig".into(), Value::Object(kept));
    }
    m.insert(
        "LastModified".into(),
        json!(app.clock.now_millis() as f64 / 1000.0),
    );
    f.invoke_config = Some(Value::Object(m.clone()).to_string());
    app.lambda.update_function(&f).map_err(internal)?;
    Ok(shown(&f, &m))
}

pub(super) fn get_invoke_config(plan: &LambdaPlan) -> Result<Value, AwsError> {
    let f = function_of(plan)?;
    let m = invoke_config(f).ok_or_else(|| no_config(f))?;
    Ok(shown(f, &m))
}

pub(super) fn list_invoke_configs(plan: &LambdaPlan) -> Result<Value, AwsError> {
    let f = function_of(plan)?;
    let configs: Vec<Value> = invoke_config(f).iter().map(|m| shown(f, m)).collect();
    Ok(json!({"FunctionEventInvokeConfigs": configs}))
}

pub(super) fn delete_invoke_config(app: &App, plan: &LambdaPlan) -> Result<Value, AwsError> {
    let mut f = function_of(plan)?.clone();
    if f.invoke_config.is_none() {
        return Err(no_config(&f));
    }
    f.invoke_config = None;
    app.lambda.update_function(&f).map_err(internal)?;
    Ok(json!({}))
}

pub(super) fn account_settings(app: &App, ctx: &CallContext) -> Result<Value, AwsError> {
    let all = all_functions(app, &ctx.recipient_account, &ctx.region)?;
    let reserved: i64 = all.iter().filter_map(|f| f.reserved_concurrency).sum();
    let code: i64 = all.iter().map(|f| f.code_size).sum();
    Ok(json!({
        "AccountLimit": {
            "TotalCodeSize": 80_530_636_800_i64,
            "CodeSizeUnzipped": 262_144_000,
            "CodeSizeZipped": 52_428_800,
            "ConcurrentExecutions": ACCOUNT_CONCURRENCY,
            "UnreservedConcurrentExecutions": ACCOUNT_CONCURRENCY - reserved,
        },
        "AccountUsage": {"TotalCodeSize": code, "FunctionCount": all.len()},
    }))
}
