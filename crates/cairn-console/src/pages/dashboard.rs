//! The CloudTrail dashboard: the trails with their status and latest deliveries, and the most
//! recent events.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

use super::{Me, error_of, with};
use crate::Shared;
use crate::render::page;

/// GET /console/cloudtrail
pub async fn show(me: Me, State(shared): State<Arc<Shared>>) -> Response {
    let frame = me.frame(&shared, "CloudTrail dashboard", "dashboard");
    let trails = match super::trails::summaries(&shared, &me).await {
        Ok(t) => json!({"trails": t}),
        Err(e) => json!({"trails": [], "trails_error": error_of(&e)}),
    };
    let recent = me
        .caller
        .call(
            &shared,
            "cloudtrail",
            "LookupEvents",
            json!({"MaxResults": 5}),
        )
        .await;
    let events = match recent {
        Ok(a) => {
            let rows: Vec<Value> = a
                .get("Events")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|e| {
                    json!({
                        "id": e.get("EventId"),
                        "name": e.get("EventName"),
                        "user": e.get("Username"),
                        "time": super::time::shown(e.get("EventTime").unwrap_or(&Value::Null)),
                    })
                })
                .collect();
            json!({"events": rows})
        }
        Err(e) => json!({"events": [], "events_error": error_of(&e)}),
    };
    page(
        &shared.templates,
        "dashboard.html",
        with(with(frame, trails), events),
    )
}
