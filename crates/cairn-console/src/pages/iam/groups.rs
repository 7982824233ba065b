//! IAM groups: the list and the create form, a group's page (its users and policies), adding
//! and removing users.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use cairn_edge::edge::web::WebPeer;
use http::HeaderMap;
use serde_json::{Value, json};

use super::{Fields, Holder, after, field, iam, policy_choices, section};
use crate::Shared;
use crate::pages::{Me, error_of, with};
use crate::render::{page, see_other};
use crate::xml::list;

macro_rules! me {
    ($r:expr) => {
        match $r {
            Ok(m) => m,
            Err(r) => return *r,
        }
    };
}

async fn list_page(shared: &Arc<Shared>, me: &Me, extra: Value) -> Response {
    let frame = me.frame(shared, "User groups", "iam-groups");
    let ctx = match iam(shared, me, "ListGroups", json!({"MaxItems": "1000"})).await {
        Ok(v) => json!({"groups": list(&v, "Groups")}),
        Err(e) => json!({"groups": [], "error": error_of(&e)}),
    };
    page(
        &shared.templates,
        "iam_groups.html",
        with(with(frame, ctx), extra),
    )
}

/// GET /console/iam/groups
pub async fn list_groups(me: Me, State(shared): State<Arc<Shared>>) -> Response {
    list_page(&shared, &me, json!({})).await
}

/// POST /console/iam/groups: CreateGroup.
pub async fn create(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Response {
    let me = me!(Me::posting(&shared, &headers, &peer, field(&f, "csrf")));
    let name = field(&f, "name").trim();
    match iam(&shared, &me, "CreateGroup", json!({"GroupName": name})).await {
        Ok(_) => see_other(&Holder::Group.url(name)),
        Err(e) => list_page(&shared, &me, json!({"error": error_of(&e), "typed": name})).await,
    }
}

/// A group's page, with `extra` (an error) shown.
pub async fn page_of(shared: &Arc<Shared>, me: &Me, name: &str, extra: Value) -> Response {
    let frame = me.frame(shared, name, "iam-groups");
    let who = json!({"GroupName": name});
    let ctx = match iam(shared, me, "GetGroup", who.clone()).await {
        Err(e) => json!({"error": error_of(&e), "missing": true}),
        Ok(g) => {
            let attached = section(
                iam(shared, me, "ListAttachedGroupPolicies", who.clone()).await,
                "AttachedPolicies",
            );
            let inline = section(
                iam(shared, me, "ListGroupPolicies", who.clone()).await,
                "PolicyNames",
            );
            let all_users = iam(shared, me, "ListUsers", json!({"MaxItems": "1000"}))
                .await
                .map(|v| list(&v, "Users"))
                .unwrap_or_default();
            json!({
                "group": g.get("Group").cloned().unwrap_or(Value::Null),
                "users": list(&g, "Users"),
                "attached": attached,
                "inline": inline,
                "policy_choices": policy_choices(shared, me).await,
                "user_choices": all_users,
            })
        }
    };
    page(
        &shared.templates,
        "iam_group.html",
        with(with(frame, ctx), extra),
    )
}

/// GET /console/iam/groups/{name}
pub async fn show(me: Me, State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    page_of(&shared, &me, &name, json!({})).await
}

/// POST /console/iam/groups/{name}/users: AddUserToGroup or (`action=remove`)
/// RemoveUserFromGroup.
pub async fn users(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let me = me!(Me::posting(&shared, &headers, &peer, field(&f, "csrf")));
    let op = if field(&f, "action") == "remove" {
        "RemoveUserFromGroup"
    } else {
        "AddUserToGroup"
    };
    let r = iam(
        &shared,
        &me,
        op,
        json!({"GroupName": name, "UserName": field(&f, "user")}),
    )
    .await;
    after(&shared, &me, Holder::Group, &name, r).await
}
