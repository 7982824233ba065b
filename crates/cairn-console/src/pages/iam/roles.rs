//! IAM roles: the list and the create form (a name and the trust policy document), a role's
//! page (its trust policy and policies).

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use cairn_edge::edge::web::WebPeer;
use http::HeaderMap;
use serde_json::{Value, json};

use super::{Fields, Holder, field, iam, policy_choices, section};
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

/// The trust policy the create form starts with: the account's own principals may assume it.
fn starting_trust(account: &str) -> String {
    let doc = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "sts:AssumeRole"
        }]
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

async fn list_page(shared: &Arc<Shared>, me: &Me, extra: Value) -> Response {
    let frame = me.frame(shared, "Roles", "iam-roles");
    let ctx = match iam(shared, me, "ListRoles", json!({"MaxItems": "1000"})).await {
        Ok(v) => json!({"roles": list(&v, "Roles")}),
        Err(e) => json!({"roles": [], "error": error_of(&e)}),
    };
    let defaults = json!({"trust": starting_trust(&me.session.account)});
    page(
        &shared.templates,
        "iam_roles.html",
        with(with(with(frame, defaults), ctx), extra),
    )
}

/// GET /console/iam/roles
pub async fn list_roles(me: Me, State(shared): State<Arc<Shared>>) -> Response {
    list_page(&shared, &me, json!({})).await
}

/// POST /console/iam/roles: CreateRole with the trust policy typed.
pub async fn create(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Response {
    let me = me!(Me::posting(&shared, &headers, &peer, field(&f, "csrf")));
    let name = field(&f, "name").trim();
    let mut input = json!({"RoleName": name, "AssumeRolePolicyDocument": field(&f, "trust")});
    let description = field(&f, "description").trim();
    if !description.is_empty() {
        input["Description"] = json!(description);
    }
    match iam(&shared, &me, "CreateRole", input).await {
        Ok(_) => see_other(&Holder::Role.url(name)),
        Err(e) => {
            list_page(
                &shared,
                &me,
                json!({"error": error_of(&e), "typed": name, "trust": field(&f, "trust"), "description": description}),
            )
            .await
        }
    }
}

/// A role's page, with `extra` (an error) shown.
pub async fn page_of(shared: &Arc<Shared>, me: &Me, name: &str, extra: Value) -> Response {
    let frame = me.frame(shared, name, "iam-roles");
    let who = json!({"RoleName": name});
    let ctx = match iam(shared, me, "GetRole", who.clone()).await {
        Err(e) => json!({"error": error_of(&e), "missing": true}),
        Ok(r) => {
            let attached = section(
                iam(shared, me, "ListAttachedRolePolicies", who.clone()).await,
                "AttachedPolicies",
            );
            let inline = section(
                iam(shared, me, "ListRolePolicies", who.clone()).await,
                "PolicyNames",
            );
            json!({
                "role": r.get("Role").cloned().unwrap_or(Value::Null),
                "trust": document(text(&r, &["Role", "AssumeRolePolicyDocument"])),
                "attached": attached,
                "inline": inline,
                "policy_choices": policy_choices(shared, me).await,
            })
        }
    };
    page(
        &shared.templates,
        "iam_role.html",
        with(with(frame, ctx), extra),
    )
}

/// GET /console/iam/roles/{name}
pub async fn show(me: Me, State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    page_of(&shared, &me, &name, json!({})).await
}
