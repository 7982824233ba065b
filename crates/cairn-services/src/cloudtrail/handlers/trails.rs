//! The trail API: Create/Update/Delete/Get/DescribeTrails, ListTrails, GetTrailStatus,
//! Start/StopLogging, event selectors and Insights selectors (tags: `tags`; the bucket
//! and KMS key checks: `destination`).
//!
//! A trail lives in its home region; a multi-region trail is also visible in every other region
//! as a shadow trail, which can be read there but only changed from home.

use cairn_model::timefmt;
use cairn_store::trails::Trail;
use cairn_trail::insights::{InsightSelector, InsightSelectors};
use cairn_wire::AwsError;
use serde_json::{Map, Value, json};

use super::organization::{is_delegated_admin, organization_flag};
use super::selectors;
use super::tags::tags_of;
use crate::app::App;
use crate::cloudtrail::cwl_settings::{self, CwlChange};
use crate::cloudtrail::destination::{check_bucket, trail_kms_key};
use crate::cloudtrail::names::{TrailRef, parse_ref, trail_arn, validate_name};
use crate::cloudtrail::sns_settings::{self, SnsChange};
use crate::cloudtrail::wire::trail_json;
use crate::recorder::CallContext;

const MAX_TRAILS_PER_REGION: usize = 5;
const MAX_PREFIX: usize = 200;

pub(in crate::cloudtrail) fn internal(e: impl std::fmt::Display) -> AwsError {
    tracing::error!(error = %e, "trail store failure");
    AwsError::internal("The trail store is unavailable.")
}

pub(in crate::cloudtrail) use crate::members::str_member;

pub(super) fn bool_member(input: &Value, name: &str) -> Result<Option<bool>, AwsError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(AwsError::client(
            "SerializationException",
            format!("{name} must be a boolean"),
        )),
    }
}

/// Trails visible in a region: those at home there and multi-region ones from elsewhere.
pub(super) fn visible(app: &App, ctx: &CallContext) -> Result<Vec<Trail>, AwsError> {
    let mut all = app.trails.list(&ctx.recipient_account).map_err(internal)?;
    all.extend(organization_trails(app, ctx)?);
    Ok(all
        .into_iter()
        .filter(|t| t.home_region == ctx.region || t.multi_region)
        .collect())
}

/// The organization trails a member account sees as read-only shadows: those of its
/// organization's management account.
fn organization_trails(app: &App, ctx: &CallContext) -> Result<Vec<Trail>, AwsError> {
    let Some(org) = app
        .organizations
        .organization_of(&ctx.recipient_account)
        .map_err(internal)?
    else {
        return Ok(Vec::new());
    };
    if org.management_account == ctx.recipient_account {
        return Ok(Vec::new());
    }
    Ok(app
        .trails
        .list(&org.management_account)
        .map_err(internal)?
        .into_iter()
        .filter(|t| t.organization)
        .collect())
}

/// Refuses a change to a trail the caller only sees: an organization trail, in a member
/// account that is not a CloudTrail delegated administrator.
pub(super) fn owned(app: &App, ctx: &CallContext, t: &Trail) -> Result<(), AwsError> {
    if t.account == ctx.recipient_account {
        return Ok(());
    }
    let delegated = app
        .organizations
        .organization_of(&ctx.recipient_account)
        .map_err(internal)?
        .is_some_and(|o| {
            o.management_account == t.account && is_delegated_admin(&o, &ctx.recipient_account)
        });
    if delegated {
        return Ok(());
    }
    Err(AwsError::client(
        "NotOrganizationMasterAccountException",
        format!(
            "Trail {} is an organization trail: only the organization's management account can change it.",
            t.arn
        ),
    ))
}

pub(super) fn not_found(name: &str, ctx: &CallContext) -> AwsError {
    AwsError::client(
        "TrailNotFoundException",
        format!(
            "Unknown trail: {name} for the user: {}",
            ctx.recipient_account
        ),
    )
}

/// Finds the trail a `Name` member refers to, as visible from the caller's region.
pub(super) fn find(app: &App, ctx: &CallContext, r: &TrailRef) -> Result<Trail, AwsError> {
    let found = match r {
        TrailRef::Arn {
            region,
            account,
            name,
        } => {
            let arn = trail_arn(region, account, name);
            if account != &ctx.recipient_account {
                // Another account's trail: only an organization trail, seen by a member.
                organization_trails(app, ctx)?
                    .into_iter()
                    .find(|t| t.arn == arn)
                    .filter(|t| t.home_region == ctx.region || t.multi_region)
            } else {
                app.trails
                    .get(&arn)
                    .map_err(internal)?
                    .filter(|t| t.home_region == ctx.region || t.multi_region)
            }
        }
        TrailRef::Name(n) => {
            let mut all: Vec<Trail> = visible(app, ctx)?
                .into_iter()
                .filter(|t| &t.name == n)
                .collect();
            // A trail at home here wins over a shadow of the same name.
            all.sort_by_key(|t| t.home_region != ctx.region);
            all.into_iter().next()
        }
    };
    found.ok_or_else(|| {
        not_found(
            &match r {
                TrailRef::Name(n) => n.clone(),
                TrailRef::Arn {
                    region,
                    account,
                    name,
                } => trail_arn(region, account, name),
            },
            ctx,
        )
    })
}

/// The trail as a mutating call may touch it: only from its home region.
fn find_home(app: &App, ctx: &CallContext, input: &Value, member: &str) -> Result<Trail, AwsError> {
    let r = parse_ref(str_member(input, member).unwrap_or(""))?;
    let t = find(app, ctx, &r)?;
    owned(app, ctx, &t)?;
    if t.home_region != ctx.region {
        return Err(AwsError::client(
            "InvalidHomeRegionException",
            format!(
                "This operation must be called from the trail's home region, {}.",
                t.home_region
            ),
        ));
    }
    Ok(t)
}

/// The response of CreateTrail and UpdateTrail: the `Trail` structure without the members
/// only reads report.
fn settings_json(t: &Trail) -> Value {
    let mut v = trail_json(t);
    if let Some(m) = v.as_object_mut() {
        for k in [
            "HomeRegion",
            "HasCustomEventSelectors",
            "HasInsightSelectors",
        ] {
            m.remove(k);
        }
    }
    v
}

/// Applies a Create/UpdateTrail's CloudWatch Logs settings to `t` once they pass AWS's
/// checks; answers whether they changed (delivery then starts afresh from now).
fn apply_cwl(app: &App, t: &mut Trail, change: CwlChange) -> Result<bool, AwsError> {
    match change {
        CwlChange::Keep => Ok(false),
        CwlChange::Clear => {
            let changed = t.cw_log_group_arn.is_some();
            t.cw_log_group_arn = None;
            t.cw_role_arn = None;
            Ok(changed)
        }
        CwlChange::Set {
            group_arn,
            role_arn,
        } => {
            cwl_settings::check(app, t, &group_arn, &role_arn)?;
            let changed = t.cw_log_group_arn.as_deref() != Some(group_arn.as_str())
                || t.cw_role_arn.as_deref() != Some(role_arn.as_str());
            t.cw_log_group_arn = Some(group_arn);
            t.cw_role_arn = Some(role_arn);
            Ok(changed)
        }
    }
}

/// Applies a Create/UpdateTrail's topic to `t` (whose other settings are final) once CloudTrail
/// may publish to it; answers whether it changed.
fn apply_sns(app: &App, t: &mut Trail, change: SnsChange) -> Result<bool, AwsError> {
    let before = sns_settings::topic_arn(t);
    match change {
        SnsChange::Keep => return Ok(false),
        SnsChange::Clear => t.sns_topic_name = None,
        SnsChange::Set(topic) => {
            t.sns_topic_name = Some(topic);
            sns_settings::check(app, t)?;
        }
    }
    Ok(sns_settings::topic_arn(t) != before)
}

/// A trail whose topic changed starts with no notification error from before.
fn restart_sns(app: &App, t: &Trail) -> Result<(), AwsError> {
    app.trails
        .set_notify_status(&t.arn, &Default::default())
        .map_err(internal)
}

/// Where CloudWatch Logs delivery of a trail whose settings changed starts: records from now
/// on (the call making the change included), with no error left from before.
fn restart_cwl(app: &App, t: &Trail) -> Result<(), AwsError> {
    if t.cw_log_group_arn.is_none() {
        return app.trails.drop_cwl_state(&t.arn).map_err(internal);
    }
    let state = cairn_store::trails::CwlState {
        cursor: app.journal.head(),
        ..Default::default()
    };
    app.trails.set_cwl_state(&t.arn, &state).map_err(internal)
}

fn normalize_prefix(p: Option<&str>) -> Result<Option<String>, AwsError> {
    let Some(p) = p else { return Ok(None) };
    let p = p.trim_end_matches('/');
    if p.is_empty() {
        return Ok(None);
    }
    if p.len() > MAX_PREFIX {
        return Err(AwsError::client(
            "InvalidS3PrefixException",
            format!("Prefix is too long: the maximum is {MAX_PREFIX} characters."),
        ));
    }
    Ok(Some(p.to_owned()))
}

pub fn create_trail(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let name = str_member(input, "Name").unwrap_or("");
    validate_name(name)?;
    let (organization, owner) =
        organization_flag(app, ctx, input, "IsOrganizationTrail")?.unwrap_or((false, None));
    // A delegated administrator's organization trail belongs to the management account.
    let owner = owner.unwrap_or_else(|| ctx.recipient_account.clone());
    let cwl = cwl_settings::change_of(input)?;
    let sns = sns_settings::change_of(input)?;
    let bucket = str_member(input, "S3BucketName").unwrap_or("");
    if bucket.is_empty() {
        return Err(AwsError::client(
            "InvalidS3BucketNameException",
            "S3 bucket name must be provided.",
        ));
    }
    let existing: Vec<Trail> = visible(app, ctx)?
        .into_iter()
        .filter(|t| t.account == owner)
        .collect();
    if existing.iter().any(|t| t.name == name) {
        return Err(AwsError::client(
            "TrailAlreadyExistsException",
            format!(
                "Trail {name} already exists for customer: {}",
                ctx.recipient_account
            ),
        ));
    }
    if existing.len() >= MAX_TRAILS_PER_REGION {
        return Err(AwsError::client(
            "MaximumNumberOfTrailsExceededException",
            format!(
                "User: {} already has {MAX_TRAILS_PER_REGION} trails in {}.",
                ctx.recipient_account, ctx.region
            ),
        ));
    }
    let multi = bool_member(input, "IsMultiRegionTrail")?.unwrap_or(false);
    if multi {
        // A multi-region trail shadows into every region: each must have room for it.
        let all = app.trails.list(&ctx.recipient_account).map_err(internal)?;
        let mut regions: Vec<&str> = all.iter().map(|t| t.home_region.as_str()).collect();
        regions.sort();
        regions.dedup();
        for r in regions {
            let n = all
                .iter()
                .filter(|t| t.home_region == r || t.multi_region)
                .count();
            if n >= MAX_TRAILS_PER_REGION {
                return Err(AwsError::client(
                    "MaximumNumberOfTrailsExceededException",
                    format!(
                        "User: {} already has {MAX_TRAILS_PER_REGION} trails in {r}.",
                        ctx.recipient_account
                    ),
                ));
            }
        }
    }
    let include_global = bool_member(input, "IncludeGlobalServiceEvents")?.unwrap_or(true);
    if multi && !include_global {
        return Err(AwsError::client(
            "InvalidParameterCombinationException",
            "Multi-Region trail must include global service events.",
        ));
    }
    let tags = tags_of(input)?;
    let t = Trail {
        arn: trail_arn(&ctx.region, &owner, name),
        account: owner.clone(),
        home_region: ctx.region.clone(),
        name: name.to_owned(),
        s3_bucket: bucket.to_owned(),
        s3_key_prefix: normalize_prefix(str_member(input, "S3KeyPrefix"))?,
        include_global_events: include_global,
        multi_region: multi,
        log_file_validation: bool_member(input, "EnableLogFileValidation")?.unwrap_or(false),
        organization,
        created_ms: app.clock.now_millis(),
        ..Trail::default()
    };
    let mut t = t;
    t.kms_key_id = trail_kms_key(app, &t, str_member(input, "KmsKeyId"))?;
    check_bucket(app, &t)?;
    let cwl_changed = apply_cwl(app, &mut t, cwl)?;
    apply_sns(app, &mut t, sns)?;
    app.trails.put(&t).map_err(internal)?;
    if cwl_changed {
        restart_cwl(app, &t)?;
    }
    if !tags.is_empty() {
        app.trails.add_tags(&t.arn, &tags).map_err(internal)?;
    }
    Ok(settings_json(&t))
}

pub fn update_trail(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let organization = organization_flag(app, ctx, input, "IsOrganizationTrail")?;
    let cwl = cwl_settings::change_of(input)?;
    let sns = sns_settings::change_of(input)?;
    let mut t = find_home(app, ctx, input, "Name")?;
    if let Some(b) = str_member(input, "S3BucketName") {
        t.s3_bucket = b.to_owned();
    }
    if input.get("S3KeyPrefix").is_some() {
        t.s3_key_prefix = normalize_prefix(str_member(input, "S3KeyPrefix"))?;
    }
    if let Some(g) = bool_member(input, "IncludeGlobalServiceEvents")? {
        t.include_global_events = g;
    }
    if let Some(m) = bool_member(input, "IsMultiRegionTrail")? {
        t.multi_region = m;
    }
    let mut restart_digests = false;
    if let Some((o, _)) = organization {
        // Files move to (or leave) the organization's folders: their chains start afresh.
        restart_digests |= o != t.organization;
        t.organization = o;
    }
    if let Some(v) = bool_member(input, "EnableLogFileValidation")? {
        // Turning validation on (again) begins a new chain with a starting digest; turning it
        // off ends the chain, and files delivered meanwhile are never listed.
        restart_digests |= v != t.log_file_validation;
        t.log_file_validation = v;
    }
    if let Some(k) = str_member(input, "KmsKeyId") {
        t.kms_key_id = trail_kms_key(app, &t, Some(k))?;
    }
    if t.multi_region && !t.include_global_events {
        return Err(AwsError::client(
            "InvalidParameterCombinationException",
            "Multi-Region trail must include global service events.",
        ));
    }
    check_bucket(app, &t)?;
    let cwl_changed = apply_cwl(app, &mut t, cwl)?;
    let sns_changed = apply_sns(app, &mut t, sns)?;
    app.trails.put(&t).map_err(internal)?;
    if cwl_changed {
        restart_cwl(app, &t)?;
    }
    if sns_changed {
        restart_sns(app, &t)?;
    }
    if restart_digests {
        app.trails.drop_digest_state(&t.arn).map_err(internal)?;
    }
    Ok(settings_json(&t))
}

pub fn delete_trail(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let t = find_home(app, ctx, input, "Name")?;
    app.trails.delete(&t.arn).map_err(internal)?;
    Ok(json!({}))
}

pub fn get_trail(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let t = find(
        app,
        ctx,
        &parse_ref(str_member(input, "Name").unwrap_or(""))?,
    )?;
    Ok(json!({"Trail": trail_json(&t)}))
}

pub fn describe_trails(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let shadows = bool_member(input, "includeShadowTrails")?.unwrap_or(true);
    let names: Vec<&str> = input
        .get("trailNameList")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut out = Vec::new();
    if names.is_empty() {
        for t in visible(app, ctx)? {
            if shadows || t.home_region == ctx.region {
                out.push(trail_json(&t));
            }
        }
    } else {
        for n in names {
            let r = parse_ref(n)?;
            // Named trails of other regions are looked up by ARN wherever they are.
            let t = match &r {
                TrailRef::Arn {
                    region,
                    account,
                    name,
                } if account == &ctx.recipient_account => app
                    .trails
                    .get(&trail_arn(region, account, name))
                    .map_err(internal)?,
                _ => find(app, ctx, &r).ok(),
            };
            if let Some(t) = t {
                out.push(trail_json(&t));
            }
        }
    }
    Ok(json!({"trailList": out}))
}

pub fn list_trails(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    const PAGE: usize = 50;
    // Every trail of the account, whatever its home region (each listed with it), as AWS lists.
    let mut all = app.trails.list(&ctx.recipient_account).map_err(internal)?;
    all.extend(organization_trails(app, ctx)?);
    let start = match str_member(input, "NextToken") {
        None => 0,
        Some(tok) => all
            .iter()
            .position(|t| t.arn == tok)
            .map(|i| i + 1)
            .ok_or_else(|| {
                AwsError::client("InvalidNextTokenException", "The NextToken is not valid.")
            })?,
    };
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(PAGE)
        .map(|t| json!({"TrailARN": t.arn, "Name": t.name, "HomeRegion": t.home_region}))
        .collect();
    let mut out = json!({"Trails": page});
    if start + PAGE < all.len() {
        out["NextToken"] = all[start + PAGE - 1].arn.clone().into();
    }
    Ok(out)
}

pub fn get_trail_status(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let t = find(
        app,
        ctx,
        &parse_ref(str_member(input, "Name").unwrap_or(""))?,
    )?;
    let s = app.trails.status(&t.arn).map_err(internal)?;
    let mut m = Map::new();
    m.insert("IsLogging".into(), t.logging.into());
    let mut time = |k: &str, v: Option<i64>| {
        if let Some(ms) = v {
            m.insert(k.into(), timefmt::epoch_seconds(ms));
        }
    };
    time("LatestDeliveryTime", s.latest_delivery_ms);
    time("StartLoggingTime", t.start_logging_ms);
    time("StopLoggingTime", t.stop_logging_ms);
    time("LatestDigestDeliveryTime", s.latest_digest_ms);
    let n = app.trails.notify_status(&t.arn).map_err(internal)?;
    time("LatestNotificationTime", n.latest_ms);
    if let Some(e) = &n.latest_error {
        m.insert("LatestNotificationError".into(), e.clone().into());
    }
    if let Some(e) = s.latest_delivery_error {
        m.insert("LatestDeliveryError".into(), e.into());
    }
    if let Some(e) = s.latest_digest_error {
        m.insert("LatestDigestDeliveryError".into(), e.into());
    }
    if t.cw_log_group_arn.is_some()
        && let Some(c) = app.trails.cwl_state(&t.arn).map_err(internal)?
    {
        if let Some(ms) = c.latest_ms {
            m.insert(
                "LatestCloudWatchLogsDeliveryTime".into(),
                timefmt::epoch_seconds(ms),
            );
        }
        if let Some(e) = c.latest_error {
            m.insert("LatestCloudWatchLogsDeliveryError".into(), e.into());
        }
    }
    // The string-typed members AWS still returns: times as text, "" when there is none.
    // `LatestDeliveryAttemptSucceeded` is the time of the latest successful attempt.
    let text = |v: Option<i64>| Value::String(v.map(timefmt::event_time).unwrap_or_default());
    m.insert(
        "LatestDeliveryAttemptTime".into(),
        text(s.latest_delivery_attempt_ms),
    );
    m.insert(
        "LatestDeliveryAttemptSucceeded".into(),
        text(s.latest_delivery_ms),
    );
    m.insert("LatestNotificationAttemptTime".into(), text(n.attempt_ms));
    m.insert(
        "LatestNotificationAttemptSucceeded".into(),
        text(n.latest_ms),
    );
    m.insert("TimeLoggingStarted".into(), text(t.start_logging_ms));
    m.insert("TimeLoggingStopped".into(), text(t.stop_logging_ms));
    Ok(Value::Object(m))
}

pub fn set_logging(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    on: bool,
) -> Result<Value, AwsError> {
    let mut t = find_home(app, ctx, input, "Name")?;
    let now = app.clock.now_millis();
    // Delivery takes the events committed while logging is on; the journal head marks when.
    let head = app.journal.head();
    if on {
        if !t.logging {
            t.logging = true;
            t.start_logging_ms = Some(now);
            t.logging_ranges.push((head, None));
        }
    } else if t.logging {
        t.logging = false;
        t.stop_logging_ms = Some(now);
        if let Some(last) = t.logging_ranges.last_mut() {
            last.1 = Some(head);
        }
    }
    app.trails.put(&t).map_err(internal)?;
    Ok(json!({}))
}

pub fn put_event_selectors(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let mut t = find_home(app, ctx, input, "TrailName")?;
    let basic = input.get("EventSelectors").filter(|v| !v.is_null());
    let advanced = input.get("AdvancedEventSelectors").filter(|v| !v.is_null());
    let out = match (basic, advanced) {
        (Some(_), Some(_)) => {
            return Err(AwsError::client(
                "InvalidParameterCombinationException",
                "You cannot specify both EventSelectors and AdvancedEventSelectors.",
            ));
        }
        (None, None) => {
            return Err(AwsError::client(
                "InvalidParameterCombinationException",
                "You must specify either EventSelectors or AdvancedEventSelectors.",
            ));
        }
        (Some(b), None) => {
            let v = selectors::validate_basic(b)?;
            t.event_selectors = Some(v.to_string());
            t.advanced_event_selectors = None;
            json!({"TrailARN": t.arn, "EventSelectors": v})
        }
        (None, Some(a)) => {
            let v = selectors::validate_advanced(a)?;
            t.advanced_event_selectors = Some(v.to_string());
            t.event_selectors = None;
            json!({"TrailARN": t.arn, "AdvancedEventSelectors": v})
        }
    };
    app.trails.put(&t).map_err(internal)?;
    Ok(out)
}

pub fn get_event_selectors(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let t = find(
        app,
        ctx,
        &parse_ref(str_member(input, "TrailName").unwrap_or(""))?,
    )?;
    let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
    Ok(match (&t.advanced_event_selectors, &t.event_selectors) {
        (Some(a), _) => json!({"TrailARN": t.arn, "AdvancedEventSelectors": parse(a)}),
        (None, Some(b)) => json!({"TrailARN": t.arn, "EventSelectors": parse(b)}),
        (None, None) => json!({"TrailARN": t.arn, "EventSelectors": selectors::default_basic()}),
    })
}

pub fn put_insight_selectors(
    app: &App,
    ctx: &CallContext,
    input: &Value,
) -> Result<Value, AwsError> {
    if input.get("EventDataStore").is_some_and(|v| !v.is_null()) {
        return Err(AwsError::client(
            "UnsupportedOperationException",
            "cairn does not support Insights on event data stores yet.",
        ));
    }
    let mut t = find_home(app, ctx, input, "TrailName")?;
    let list = input
        .get("InsightSelectors")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            AwsError::client(
                "InvalidInsightSelectorsException",
                "InsightSelectors must be a list.",
            )
        })?;
    let kept = InsightSelectors::of(&t);
    let now = app.clock.now_millis();
    let mut selectors: Vec<InsightSelector> = Vec::new();
    for s in list {
        let insight_type = match str_member(s, "InsightType") {
            Some(k @ ("ApiCallRateInsight" | "ApiErrorRateInsight"))
                if !selectors.iter().any(|x| x.insight_type == k) =>
            {
                k
            }
            other => {
                return Err(AwsError::client(
                    "InvalidInsightSelectorsException",
                    format!(
                        "Invalid InsightType {}: valid types are ApiCallRateInsight and ApiErrorRateInsight, each at most once.",
                        other.unwrap_or("")
                    ),
                ));
            }
        };
        let categories = match s.get("EventCategories") {
            None | Some(Value::Null) => None,
            Some(Value::Array(c)) => {
                let c: Vec<String> = c
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                if c.is_empty() || c.iter().any(|k| k != "Management" && k != "Data") {
                    return Err(AwsError::client(
                        "InvalidInsightSelectorsException",
                        "EventCategories must list Management, Data or both.",
                    ));
                }
                Some(c)
            }
            Some(_) => {
                return Err(AwsError::client(
                    "InvalidInsightSelectorsException",
                    "EventCategories must be a list.",
                ));
            }
        };
        // A type already on keeps its start: the baseline goes on.
        let enabled_ms = kept
            .0
            .iter()
            .find(|k| k.insight_type == insight_type)
            .map_or(now, |k| k.enabled_ms);
        selectors.push(InsightSelector {
            insight_type: insight_type.to_owned(),
            categories,
            enabled_ms,
        });
    }
    // AWS: call-rate Insights need the trail to log write management events, error-rate
    // Insights read or write ones.
    let filter = cairn_trail::selectors::TrailFilter::of(&t);
    for s in selectors.iter().filter(|s| s.management()) {
        let logged = match s.insight_type.as_str() {
            "ApiCallRateInsight" => filter.logs_management(false),
            _ => filter.logs_management(false) || filter.logs_management(true),
        };
        if !logged {
            return Err(AwsError::client(
                "InvalidInsightSelectorsException",
                format!(
                    "{} requires the trail to log {} management events.",
                    s.insight_type,
                    if s.insight_type == "ApiCallRateInsight" {
                        "write"
                    } else {
                        "read or write"
                    }
                ),
            ));
        }
    }
    let selectors = InsightSelectors(selectors);
    t.insight_selectors = selectors.to_kept();
    app.trails.put(&t).map_err(internal)?;
    Ok(json!({"TrailARN": t.arn, "InsightSelectors": selectors.to_api()}))
}

pub fn get_insight_selectors(
    app: &App,
    ctx: &CallContext,
    input: &Value,
) -> Result<Value, AwsError> {
    let t = find(
        app,
        ctx,
        &parse_ref(str_member(input, "TrailName").unwrap_or(""))?,
    )?;
    match &t.insight_selectors {
        Some(_) => {
            Ok(json!({"TrailARN": t.arn, "InsightSelectors": InsightSelectors::of(&t).to_api()}))
        }
        None => Err(AwsError::client(
            "InsightNotEnabledException",
            format!("Trail {} does not have Insights enabled.", t.name),
        )),
    }
}
