//! Managed policies: the list (customer managed and the AWS managed policies cairn knows), a
//! policy's page with its default version's document and what it is attached to, and the
//! create form taking a JSON document.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::response::Response;
use cairn_edge::edge::web::WebPeer;
use http::HeaderMap;
use serde_json::{Value, json};

use super::{Fields, field, iam, seg};
use crate::Shared;
use crate::pages::{Me, error_of, with};
use crate::render::{page, see_other};
use crate::xml::{document, list, text};

macro_rules! me {
    ($r:expr) => {
        match $r {
            Ok(m) => m,
            Err(r) => return *r,
        }
    };
}

const STARTING_DOCUMENT: &str = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"cloudtrail:LookupEvents\",\n      \"Resource\": \"*\"\n    }\n  ]\n}";

/// The address of a policy's page.
pub fn url(arn: &str) -> String {
    format!("/console/iam/policies/view?arn={}", seg(arn))
}

async fn list_page(shared: &Arc<Shared>, me: &Me, extra: Value) -> Response {
    let frame = me.frame(shared, "Policies", "iam-policies");
    let ctx = match iam(
        shared,
        me,
        "ListPolicies",
        json!({"Scope": "All", "MaxItems": "1000"}),
    )
    .await
    {
        Ok(v) => {
            let policies: Vec<Value> = list(&v, "Policies")
                .into_iter()
                .map(|mut p| {
                    let arn = text(&p, &["Arn"]).to_owned();
                    p["aws_managed"] = json!(arn.starts_with("arn:aws:iam::aws:"));
                    p["url"] = json!(url(&arn));
                    p
                })
                .collect();
            json!({"policies": policies})
        }
        Err(e) => json!({"policies": [], "error": error_of(&e)}),
    };
    page(
        &shared.templates,
        "iam_policies.html",
        with(
            with(with(frame, json!({"document": STARTING_DOCUMENT})), ctx),
            extra,
        ),
    )
}

/// GET /console/iam/policies
pub async fn list_policies(me: Me, State(shared): State<Arc<Shared>>) -> Response {
    list_page(&shared, &me, json!({})).await
}

/// POST /console/iam/policies: CreatePolicy from the JSON document typed.
pub async fn create(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Response {
    let me = me!(Me::posting(&shared, &headers, &peer, field(&f, "csrf")));
    let name = field(&f, "name").trim();
    let mut input = json!({"PolicyName": name, "PolicyDocument": field(&f, "document")});
    let description = field(&f, "description").trim();
    if !description.is_empty() {
        input["Description"] = json!(description);
    }
    match iam(&shared, &me, "CreatePolicy", input).await {
        Ok(v) => see_other(&url(text(&v, &["Policy", "Arn"]))),
        Err(e) => {
            list_page(
                &shared,
                &me,
                json!({"error": error_of(&e), "typed": name, "document": field(&f, "document"), "description": description}),
            )
            .await
        }
    }
}

#[derive(serde::Deserialize)]
pub struct Which {
    #[serde(default)]
    arn: String,
}

/// GET /console/iam/policies/view?arn=…
pub async fn show(me: Me, State(shared): State<Arc<Shared>>, Query(q): Query<Which>) -> Response {
    let name = q.arn.rsplit('/').next().unwrap_or_default().to_owned();
    let frame = me.frame(&shared, &name, "iam-policies");
    let ctx = match iam(&shared, &me, "GetPolicy", json!({"PolicyArn": q.arn})).await {
        Err(e) => json!({"error": error_of(&e), "missing": true}),
        Ok(p) => {
            let version = text(&p, &["Policy", "DefaultVersionId"]).to_owned();
            let doc = match iam(
                &shared,
                &me,
                "GetPolicyVersion",
                json!({"PolicyArn": q.arn, "VersionId": version}),
            )
            .await
            {
                Ok(v) => document(text(&v, &["PolicyVersion", "Document"])),
                Err(e) => format!("{}: {}", e.code, e.message),
            };
            let (users, groups, roles, entities_error) = match iam(
                &shared,
                &me,
                "ListEntitiesForPolicy",
                json!({"PolicyArn": q.arn}),
            )
            .await
            {
                Ok(v) => (
                    list(&v, "PolicyUsers"),
                    list(&v, "PolicyGroups"),
                    list(&v, "PolicyRoles"),
                    Value::Null,
                ),
                Err(e) => (Vec::new(), Vec::new(), Vec::new(), error_of(&e)),
            };
            json!({
                "policy": p.get("Policy").cloned().unwrap_or(Value::Null),
                "aws_managed": q.arn.starts_with("arn:aws:iam::aws:"),
                "document": doc,
                "entities_error": entities_error,
                "users": users, "groups": groups, "roles": roles,
            })
        }
    };
    page(&shared.templates, "iam_policy.html", with(frame, ctx))
}
