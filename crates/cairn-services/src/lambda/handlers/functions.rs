//! Functions: CreateFunction (configuration with AWS's defaults, the package, tags; the role
//! must be one Lambda may assume), GetFunction (configuration, code location, tags, reserved
//! concurrency), GetFunctionConfiguration, ListFunctions (by name, `Marker`/`MaxItems`),
//! UpdateFunctionCode, UpdateFunctionConfiguration (both honour `RevisionId`) and
//! DeleteFunction. Every change makes a new `RevisionId` and retires the function's warm
//! processes. Versions and aliases are not kept: `Publish` is refused.
//!
//! GetFunction's `Code.Location` is an S3-style URL in the shape AWS answers
//! (`https://awslambda-<region>-tasks.s3.<region>.amazonaws.com/snapshots/<account>/<name>-<id>`);
//! cairn does not serve it: the code is read back with GetFunction's digest, not downloaded.

use std::collections::BTreeMap;

use cairn_store::lambda::Function;
use cairn_wire::AwsError;
use serde_json::{Map, Value, json};

use super::code::{LAMBDA, install, package};
use super::{check_revision, conflict, function_of, int_in, internal, invalid, str_member};
use crate::app::App;
use crate::lambda::config;
use crate::lambda::resolve::LambdaPlan;
use crate::lambda::wire::{configuration, stored_config};
use crate::pipeline::Durability;
use crate::pipeline::internal::Internal;
use crate::recorder::CallContext;

fn name_of_arn(arn: &str) -> &str {
    arn.rsplit_once(":function:").map_or(arn, |(_, n)| n)
}

fn config_text(m: &Map<String, Value>) -> String {
    Value::Object(m.clone()).to_string()
}

/// Refuses a role Lambda could not assume: it must exist and trust `lambda.amazonaws.com`.
/// Judged as STS would judge Lambda's AssumeRole, without making it.
fn check_assumable(
    app: &App,
    ctx: &CallContext,
    role: &str,
    function_arn: &str,
) -> Result<(), AwsError> {
    let lambda = Internal::service(
        LAMBDA,
        &ctx.recipient_account,
        &ctx.region,
        Some(function_arn),
        Durability::Unrecorded,
    );
    lambda
        .authorize_json(
            app,
            "sts",
            "AssumeRole",
            json!({"RoleArn": role, "RoleSessionName": crate::lambda::credentials::session_name(name_of_arn(function_arn))}),
        )
        .map_err(|e| {
            tracing::info!(role, error = %e.message, "Lambda may not assume the function's role");
            invalid("The role defined for the function cannot be assumed by Lambda.")
        })
}

fn refuse_publish(input: &Value) -> Result<(), AwsError> {
    if input.get("Publish").and_then(Value::as_bool) == Some(true) {
        return Err(invalid(
            "cairn does not support function versions yet: only $LATEST exists; leave out Publish.",
        ));
    }
    Ok(())
}

fn tags_of(input: &Value) -> BTreeMap<String, String> {
    input
        .get("Tags")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn create(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    plan: &LambdaPlan,
) -> Result<Value, AwsError> {
    let arn = plan
        .arn
        .clone()
        .ok_or_else(|| internal("the function was not resolved"))?;
    let name = name_of_arn(&arn).to_owned();
    if str_member(input, "PackageType") == Some("Image") {
        return Err(invalid(
            "cairn does not support container image functions yet.",
        ));
    }
    refuse_publish(input)?;
    let mut cfg = config::defaults(&name);
    config::update(&mut cfg, input)?;
    if !cfg.contains_key("Runtime") || !cfg.contains_key("Handler") {
        return Err(invalid(
            "Runtime and Handler are mandatory parameters for functions created with deployment packages.",
        ));
    }
    if app.lambda.function(&arn).map_err(internal)?.is_some() {
        return Err(conflict(format!("Function already exist: {name}")));
    }
    let role = cfg
        .get("Role")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    check_assumable(app, ctx, &role, &arn)?;
    let code = input.get("Code").cloned().unwrap_or(Value::Null);
    let pkg = package(app, ctx, &code)?
        .ok_or_else(|| invalid("Please provide a source for function code."))?;
    install(app, &pkg)?;
    let now = app.clock.now_millis();
    let f = Function {
        arn: arn.clone(),
        account: ctx.recipient_account.clone(),
        region: ctx.region.clone(),
        name: name.clone(),
        config: config_text(&cfg),
        code_sha256: pkg.sha256,
        code_size: pkg.size,
        revision_id: cairn_model::ids::new_uuid(),
        tags: tags_of(input),
        policy: None,
        reserved_concurrency: None,
        invoke_config: None,
        created_ms: now,
        modified_ms: now,
    };
    if !app.lambda.create_function(&f, &pkg.zip).map_err(internal)? {
        return Err(conflict(format!("Function already exist: {name}")));
    }
    Ok(configuration(&f))
}

pub(super) fn get(plan: &LambdaPlan) -> Result<Value, AwsError> {
    let f = function_of(plan)?;
    let mut out = Map::new();
    out.insert("Configuration".into(), configuration(f));
    out.insert(
        "Code".into(),
        json!({
            "RepositoryType": "S3",
            "Location": format!(
                "https://awslambda-{r}-tasks.s3.{r}.amazonaws.com/snapshots/{}/{}-{}",
                f.account, f.name, f.revision_id, r = f.region
            ),
        }),
    );
    if !f.tags.is_empty() {
        out.insert("Tags".into(), json!(f.tags));
    }
    if let Some(n) = f.reserved_concurrency {
        out.insert(
            "Concurrency".into(),
            json!({"ReservedConcurrentExecutions": n}),
        );
    }
    Ok(Value::Object(out))
}

pub(super) fn get_configuration(plan: &LambdaPlan) -> Result<Value, AwsError> {
    Ok(configuration(function_of(plan)?))
}

pub(super) fn list(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let max = int_in(input, "MaxItems", "maxItems", Some(1), Some(10000))?.unwrap_or(50);
    let max = usize::try_from(max).unwrap_or(50);
    let after = str_member(input, "Marker");
    let mut page = app
        .lambda
        .functions(&ctx.recipient_account, &ctx.region, after, max + 1)
        .map_err(internal)?;
    let more = page.len() > max;
    page.truncate(max);
    let mut out = Map::new();
    out.insert(
        "Functions".into(),
        Value::Array(page.iter().map(configuration).collect()),
    );
    if more && let Some(last) = page.last() {
        out.insert("NextMarker".into(), json!(last.name));
    }
    Ok(Value::Object(out))
}

/// Stores a changed function under a new revision, and retires its warm processes.
pub(super) fn save(app: &App, mut f: Function) -> Result<Function, AwsError> {
    f.revision_id = cairn_model::ids::new_uuid();
    f.modified_ms = app.clock.now_millis();
    if !app.lambda.update_function(&f).map_err(internal)? {
        return Err(internal("the function vanished"));
    }
    app.functions.retire(&f.arn);
    Ok(f)
}

pub(super) fn update_code(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    plan: &LambdaPlan,
) -> Result<Value, AwsError> {
    let mut f = function_of(plan)?.clone();
    check_revision(input, &f.revision_id)?;
    refuse_publish(input)?;
    let pkg = package(app, ctx, input)?
        .ok_or_else(|| invalid("Please provide a source for function code."))?;
    install(app, &pkg)?;
    let mut cfg = stored_config(&f);
    if let Some(a) = input.get("Architectures") {
        config::update(&mut cfg, &json!({"Architectures": a}))?;
    }
    f.code_sha256 = pkg.sha256;
    f.code_size = pkg.size;
    f.config = config_text(&cfg);
    if input.get("DryRun").and_then(Value::as_bool) == Some(true) {
        return Ok(configuration(&f));
    }
    if !app.lambda.put_code(&f.arn, &pkg.zip).map_err(internal)? {
        return Err(internal("the function vanished"));
    }
    Ok(configuration(&save(app, f)?))
}

pub(super) fn update_configuration(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    plan: &LambdaPlan,
) -> Result<Value, AwsError> {
    let mut f = function_of(plan)?.clone();
    check_revision(input, &f.revision_id)?;
    let mut cfg = stored_config(&f);
    let role_before = cfg.get("Role").cloned();
    config::update(&mut cfg, input)?;
    if cfg.get("Role") != role_before.as_ref()
        && let Some(role) = cfg.get("Role").and_then(Value::as_str)
    {
        check_assumable(app, ctx, role, &f.arn)?;
    }
    f.config = config_text(&cfg);
    Ok(configuration(&save(app, f)?))
}

pub(super) fn delete(app: &App, plan: &LambdaPlan) -> Result<Value, AwsError> {
    let f = function_of(plan)?;
    if plan.qualifier.is_some() {
        return Err(invalid(
            "$LATEST version cannot be deleted without deleting the function.",
        ));
    }
    app.lambda.delete_function(&f.arn).map_err(internal)?;
    app.functions.retire(&f.arn);
    Ok(json!({}))
}
