//! Trails: the list with each trail's logging status and latest deliveries, a trail's
//! details, and the actions on it (start or stop logging, delete), each the API call it is.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use cairn_edge::edge::web::WebPeer;
use http::HeaderMap;
use serde_json::{Value, json};

use super::time::shown;
use super::{Me, error_of, with};
use crate::Shared;
use crate::render::{page, see_other};

/// A trail as the list shows it, with its status (or the status call's error).
pub async fn summaries(shared: &Arc<Shared>, me: &Me) -> Result<Vec<Value>, cairn_wire::AwsError> {
    let answer = me
        .caller
        .call(shared, "cloudtrail", "DescribeTrails", json!({}))
        .await?;
    let mut out = Vec::new();
    for t in answer
        .get("trailList")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let arn = t
            .get("TrailARN")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let status = me
            .caller
            .call(shared, "cloudtrail", "GetTrailStatus", json!({"Name": arn}))
            .await;
        out.push(summary(t, status));
    }
    Ok(out)
}

fn summary(t: &Value, status: Result<Value, cairn_wire::AwsError>) -> Value {
    let s = |k: &str| t.get(k).cloned().unwrap_or(Value::Null);
    let mut v = json!({
        "name": s("Name"),
        "arn": s("TrailARN"),
        "home_region": s("HomeRegion"),
        "multi_region": s("IsMultiRegionTrail"),
        "organization": s("IsOrganizationTrail"),
        "bucket": s("S3BucketName"),
        "prefix": s("S3KeyPrefix"),
        "validation": s("LogFileValidationEnabled"),
        "kms_key": s("KmsKeyId"),
        "topic": s("SnsTopicARN"),
        "log_group": s("CloudWatchLogsLogGroupArn"),
    });
    match status {
        Ok(st) => {
            let t = |k: &str| st.get(k).map(shown).filter(|x| !x.is_empty());
            v["logging"] = st.get("IsLogging").cloned().unwrap_or(Value::Bool(false));
            v["latest_delivery"] = json!(t("LatestDeliveryTime"));
            v["latest_digest"] = json!(t("LatestDigestDeliveryTime"));
            v["delivery_error"] = st
                .get("LatestDeliveryError")
                .cloned()
                .unwrap_or(Value::Null);
        }
        Err(e) => v["status_error"] = error_of(&e),
    }
    v
}

/// GET /console/cloudtrail/trails
pub async fn list(me: Me, State(shared): State<Arc<Shared>>) -> Response {
    let frame = me.frame(&shared, "Trails", "trails");
    let ctx = match summaries(&shared, &me).await {
        Ok(trails) => json!({"trails": trails}),
        Err(e) => json!({"trails": [], "error": error_of(&e)}),
    };
    page(&shared.templates, "trails.html", with(frame, ctx))
}

/// GET /console/cloudtrail/trails/{name}
pub async fn detail(
    me: Me,
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Response {
    let frame = me.frame(&shared, &name, "trails");
    let trail = me
        .caller
        .call(&shared, "cloudtrail", "GetTrail", json!({"Name": name}))
        .await;
    let ctx = match trail {
        Ok(answer) => {
            let t = answer.get("Trail").cloned().unwrap_or(Value::Null);
            let status = me
                .caller
                .call(
                    &shared,
                    "cloudtrail",
                    "GetTrailStatus",
                    json!({"Name": name}),
                )
                .await;
            let selectors = me
                .caller
                .call(
                    &shared,
                    "cloudtrail",
                    "GetEventSelectors",
                    json!({"TrailName": name}),
                )
                .await
                .map(|s| serde_json::to_string_pretty(&s).unwrap_or_default())
                .unwrap_or_else(|e| format!("{}: {}", e.code, e.message));
            json!({"trail": summary(&t, status), "selectors": selectors})
        }
        Err(e) => json!({"error": error_of(&e)}),
    };
    page(&shared.templates, "trail.html", with(frame, ctx))
}

#[derive(serde::Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    /// `start` or `stop` (logging).
    #[serde(default)]
    action: String,
}

/// The trail page again with an action's error shown.
async fn failed(shared: &Arc<Shared>, me: &Me, name: &str, e: &cairn_wire::AwsError) -> Response {
    let frame = me.frame(shared, name, "trails");
    page(
        &shared.templates,
        "trail.html",
        with(frame, json!({"error": error_of(e), "back": true})),
    )
}

/// POST /console/cloudtrail/trails/{name}/logging: StartLogging or StopLogging.
pub async fn logging(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<ActionForm>,
) -> Response {
    let me = match Me::posting(&shared, &headers, &peer, &f.csrf) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    let op = if f.action == "stop" {
        "StopLogging"
    } else {
        "StartLogging"
    };
    match me
        .caller
        .call(&shared, "cloudtrail", op, json!({"Name": name}))
        .await
    {
        Ok(_) => see_other(&format!("/console/cloudtrail/trails/{}", encode(&name))),
        Err(e) => failed(&shared, &me, &name, &e).await,
    }
}

/// POST /console/cloudtrail/trails/{name}/delete: DeleteTrail.
pub async fn delete(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<ActionForm>,
) -> Response {
    let me = match Me::posting(&shared, &headers, &peer, &f.csrf) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    match me
        .caller
        .call(&shared, "cloudtrail", "DeleteTrail", json!({"Name": name}))
        .await
    {
        Ok(_) => see_other("/console/cloudtrail/trails"),
        Err(e) => failed(&shared, &me, &name, &e).await,
    }
}

/// A trail name or ARN as one path segment.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
