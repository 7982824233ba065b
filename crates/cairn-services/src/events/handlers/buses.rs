//! CreateEventBus, UpdateEventBus, DeleteEventBus, DescribeEventBus, ListEventBuses. The
//! default bus exists in every account and region without being created, and cannot be
//! deleted; partner buses (`EventSourceName`) are not served.

use cairn_store::events::EventBus;
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::tags::tags_of_input;
use super::{bus_of, constraint, internal, page, required, str_member, validation};
use crate::app::App;
use crate::events::resolve::EventsPlan;
use crate::events::wire::{DEFAULT_BUS, bus_arn, bus_doc, default_bus_doc};
use crate::recorder::CallContext;

fn check_description(input: &Value) -> Result<Option<String>, AwsError> {
    match str_member(input, "Description") {
        Some(d) if d.chars().count() > 512 => Err(constraint(
            d,
            "description",
            "have length less than or equal to 512",
        )),
        d => Ok(d.map(str::to_owned)),
    }
}

pub(super) fn create(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let name = required(input, "Name", "name")?;
    let valid = name.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'));
    if !valid || name.is_empty() {
        return Err(constraint(
            name,
            "name",
            r"satisfy regular expression pattern: [/\.\-_A-Za-z0-9]+",
        ));
    }
    if let Some(source) = str_member(input, "EventSourceName") {
        return Err(super::not_found(format!(
            "Event source {source} does not exist."
        )));
    }
    if name.contains('/') {
        return Err(validation("Event bus name must not contain '/'."));
    }
    let description = check_description(input)?;
    let already = || {
        AwsError::client(
            "ResourceAlreadyExistsException",
            format!("Event bus {name} already exists."),
        )
    };
    if name == DEFAULT_BUS {
        return Err(already());
    }
    let now = app.clock.now_millis();
    let bus = EventBus {
        arn: bus_arn(&ctx.region, &ctx.recipient_account, name),
        account: ctx.recipient_account.clone(),
        region: ctx.region.clone(),
        name: name.to_owned(),
        description: description.clone(),
        created_ms: now,
        modified_ms: now,
        tags: tags_of_input(input)?,
    };
    if !app.events.create_bus(&bus).map_err(internal)? {
        return Err(already());
    }
    let mut out = json!({"EventBusArn": bus.arn});
    if let Some(d) = description {
        out["Description"] = json!(d);
    }
    Ok(out)
}

pub(super) fn update(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    plan: &EventsPlan,
) -> Result<Value, AwsError> {
    let description = check_description(input)?;
    if plan.bus == DEFAULT_BUS {
        return Ok(
            json!({"Arn": bus_arn(&ctx.region, &ctx.recipient_account, DEFAULT_BUS), "Name": DEFAULT_BUS}),
        );
    }
    let mut bus = bus_of(app, ctx, &plan.bus)?;
    bus.description = description;
    bus.modified_ms = app.clock.now_millis();
    app.events.update_bus(&bus).map_err(internal)?;
    let mut out = json!({"Arn": bus.arn, "Name": bus.name});
    if let Some(d) = &bus.description {
        out["Description"] = json!(d);
    }
    Ok(out)
}

pub(super) fn delete(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    plan: &EventsPlan,
) -> Result<Value, AwsError> {
    required(input, "Name", "name")?;
    if plan.bus == DEFAULT_BUS {
        return Err(validation("Cannot delete event bus default."));
    }
    // Deleting a bus that does not exist succeeds, as in AWS.
    app.events
        .delete_bus(&bus_arn(&ctx.region, &ctx.recipient_account, &plan.bus))
        .map_err(internal)?;
    Ok(json!({}))
}

pub(super) fn describe(app: &App, ctx: &CallContext, plan: &EventsPlan) -> Result<Value, AwsError> {
    if plan.bus == DEFAULT_BUS {
        return Ok(default_bus_doc(&ctx.region, &ctx.recipient_account));
    }
    Ok(bus_doc(&bus_of(app, ctx, &plan.bus)?))
}

pub(super) fn list(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let prefix = str_member(input, "NamePrefix").unwrap_or_default();
    let mut all = vec![(
        DEFAULT_BUS.to_owned(),
        default_bus_doc(&ctx.region, &ctx.recipient_account),
    )];
    for b in app
        .events
        .buses(&ctx.recipient_account, &ctx.region)
        .map_err(internal)?
    {
        all.push((b.name.clone(), bus_doc(&b)));
    }
    all.retain(|(n, _)| n.starts_with(prefix));
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let (items, next) = page(input, all)?;
    let mut out = json!({"EventBuses": items.into_iter().map(|(_, d)| d).collect::<Vec<_>>()});
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}
