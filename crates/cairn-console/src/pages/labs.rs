//! Labs: the course's exercises and investigations (`cairn lab`), each with its goal, steps
//! and questions; started, graded and reset as the signed-in person, whose account keeps the
//! progress. Grading reads the account through the public APIs without recording those reads;
//! starting a lab records what its set-up does.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use cairn_edge::admin::labs;
use cairn_edge::edge::web::WebPeer;
use cairn_edge::pipeline::Durability;
use cairn_wire::AwsError;
use http::HeaderMap;
use serde_json::{Value, json};

use super::{Me, error_of, with};
use crate::Shared;
use crate::render::page;

/// Runs a lab operation as the signed-in person (set-ups recorded, reads not).
async fn run<T: Send + 'static>(
    shared: &Arc<Shared>,
    me: &Me,
    record: bool,
    op: impl FnOnce(&labs::Ctx) -> Result<T, AwsError> + Send + 'static,
) -> Result<T, AwsError> {
    let mut who = me.caller.internal(shared);
    if !record {
        who.durability = Durability::Unrecorded;
    }
    let app = Arc::clone(&shared.app);
    tokio::task::spawn_blocking(move || {
        let ctx = labs::Ctx {
            app: &app,
            who: &who,
            now_ms: app.clock.now_millis(),
        };
        op(&ctx)
    })
    .await
    .unwrap_or_else(|_| Err(AwsError::internal("the lab call failed")))
}

/// GET /console/labs
pub async fn list(me: Me, State(shared): State<Arc<Shared>>) -> Response {
    let frame = me.frame(&shared, "Labs", "labs");
    let ctx = match run(&shared, &me, false, labs::list).await {
        Ok(v) => json!({"labs": v.get("Labs").cloned().unwrap_or_default()}),
        Err(e) => json!({"error": error_of(&e)}),
    };
    page(&shared.templates, "labs.html", with(frame, ctx))
}

/// The lab's description with the account's progress through it.
async fn described(shared: &Arc<Shared>, me: &Me, name: &str) -> Result<Value, AwsError> {
    labs::find(name)?;
    let all = run(shared, me, false, labs::list).await?;
    Ok(all
        .get("Labs")
        .and_then(Value::as_array)
        .and_then(|ls| ls.iter().find(|l| l["Name"] == name))
        .cloned()
        .unwrap_or_default())
}

async fn lab_page(shared: &Arc<Shared>, me: &Me, name: &str, outcome: Value) -> Response {
    let frame = me.frame(shared, "Lab", "labs");
    let ctx = match described(shared, me, name).await {
        Ok(lab) => json!({"lab": lab, "outcome": outcome}),
        Err(e) => json!({"error": error_of(&e)}),
    };
    page(&shared.templates, "lab.html", with(frame, ctx))
}

/// GET /console/labs/{name}
pub async fn detail(
    me: Me,
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Response {
    lab_page(&shared, &me, &name, Value::Null).await
}

/// POST /console/labs/{name}: `action` start, check (with `answer-<id>` fields), hint or
/// reset; the page shows what came of it.
pub async fn act(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let me = match Me::posting(
        &shared,
        &headers,
        &peer,
        f.get("csrf").map(String::as_str).unwrap_or_default(),
    ) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    let action = f.get("action").cloned().unwrap_or_default();
    let answers: Vec<(String, String)> = f
        .iter()
        .filter_map(|(k, v)| {
            let id = k.strip_prefix("answer-")?;
            (!v.trim().is_empty()).then(|| (id.to_owned(), v.clone()))
        })
        .collect();
    let lab = name.clone();
    let done = match action.as_str() {
        "start" => run(&shared, &me, true, move |c| labs::start(c, &lab))
            .await
            .map(|v| json!({"started": true, "set_up": v.get("SetUp")})),
        "check" => run(&shared, &me, false, move |c| {
            labs::check(c, Some(&lab), &answers)
        })
        .await
        .map(|v| json!({"check": v})),
        "hint" => run(&shared, &me, false, move |c| labs::hint(c, Some(&lab)))
            .await
            .map(|v| json!({"hint": v})),
        "reset" => run(&shared, &me, false, move |c| labs::reset(c, Some(&lab)))
            .await
            .map(|v| json!({"reset": v})),
        _ => Err(AwsError::client(
            "ValidationException",
            "Unknown action: start, check, hint or reset.",
        )),
    };
    let outcome = match done {
        Ok(v) => v,
        Err(e) => json!({"error": error_of(&e)}),
    };
    lab_page(&shared, &me, &name, outcome).await
}
