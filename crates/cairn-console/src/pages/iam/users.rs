//! IAM users: the list and the create form, a user's page (groups, attached and inline
//! policies, access keys, MFA devices, console password) and the actions on it. A new access
//! key's secret is shown on the answer to its creation and never again; a virtual MFA device
//! is set up from its QR code (or its Base32 seed) and two consecutive codes (`mfa.rs`).

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use cairn_edge::edge::web::WebPeer;
use http::HeaderMap;
use serde_json::{Value, json};

use super::{Fields, Holder, after, field, iam, mfa, policy_choices, section, ticked};
use crate::Shared;
use crate::pages::{Me, error_of, with};
use crate::render::{page, see_other};
use crate::xml::{list, text};

/// The policy AWS's console attaches to a user who must choose a new password at first
/// sign-in, so that they can.
pub const CHANGE_PASSWORD_POLICY: &str = "arn:aws:iam::aws:policy/IAMUserChangePassword";

macro_rules! me {
    ($r:expr) => {
        match $r {
            Ok(m) => m,
            Err(r) => return *r,
        }
    };
}

async fn list_page(shared: &Arc<Shared>, me: &Me, extra: Value) -> Response {
    let frame = me.frame(shared, "Users", "iam-users");
    let ctx = match iam(shared, me, "ListUsers", json!({"MaxItems": "1000"})).await {
        Ok(v) => json!({"users": list(&v, "Users")}),
        Err(e) => json!({"users": [], "error": error_of(&e)}),
    };
    page(
        &shared.templates,
        "iam_users.html",
        with(with(frame, ctx), extra),
    )
}

/// GET /console/iam/users
pub async fn list_users(me: Me, State(shared): State<Arc<Shared>>) -> Response {
    list_page(&shared, &me, json!({})).await
}

/// POST /console/iam/users: CreateUser; with console access CreateLoginProfile and, when the
/// password must be reset at first sign-in, the policy that lets the user do so (as AWS's
/// console does).
pub async fn create(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Response {
    let me = me!(Me::posting(&shared, &headers, &peer, field(&f, "csrf")));
    let name = field(&f, "name").trim();
    if let Err(e) = iam(&shared, &me, "CreateUser", json!({"UserName": name})).await {
        return list_page(&shared, &me, json!({"error": error_of(&e), "typed": name})).await;
    }
    if ticked(&f, "console") {
        let reset = ticked(&f, "reset");
        let r = iam(
            &shared,
            &me,
            "CreateLoginProfile",
            json!({"UserName": name, "Password": field(&f, "password"), "PasswordResetRequired": reset}),
        )
        .await;
        let r = match r {
            Ok(_) if reset => {
                iam(
                    &shared,
                    &me,
                    "AttachUserPolicy",
                    json!({"UserName": name, "PolicyArn": CHANGE_PASSWORD_POLICY}),
                )
                .await
            }
            other => other,
        };
        if r.is_err() {
            return after(&shared, &me, Holder::User, name, r).await;
        }
    }
    see_other(&Holder::User.url(name))
}

/// A user's page, with `extra` (an error, a new key) shown.
pub async fn page_of(shared: &Arc<Shared>, me: &Me, name: &str, extra: Value) -> Response {
    let frame = me.frame(shared, name, "iam-users");
    let who = json!({"UserName": name});
    let ctx = match iam(shared, me, "GetUser", who.clone()).await {
        Err(e) => json!({"error": error_of(&e), "missing": true}),
        Ok(u) => {
            let groups = section(
                iam(shared, me, "ListGroupsForUser", who.clone()).await,
                "Groups",
            );
            let attached = section(
                iam(shared, me, "ListAttachedUserPolicies", who.clone()).await,
                "AttachedPolicies",
            );
            let inline = section(
                iam(shared, me, "ListUserPolicies", who.clone()).await,
                "PolicyNames",
            );
            let keys = section(
                iam(shared, me, "ListAccessKeys", who.clone()).await,
                "AccessKeyMetadata",
            );
            let mfa = section(
                iam(shared, me, "ListMFADevices", who.clone()).await,
                "MFADevices",
            );
            let profile = match iam(shared, me, "GetLoginProfile", who.clone()).await {
                Ok(p) => json!({
                    "exists": true,
                    "reset": text(&p, &["LoginProfile", "PasswordResetRequired"]) == "true",
                    "created": text(&p, &["LoginProfile", "CreateDate"]),
                }),
                Err(e) if e.code == "NoSuchEntity" => json!({"exists": false}),
                Err(e) => json!({"exists": false, "error": error_of(&e)}),
            };
            let all_groups = iam(shared, me, "ListGroups", json!({"MaxItems": "1000"}))
                .await
                .map(|v| list(&v, "Groups"))
                .unwrap_or_default();
            json!({
                "user": u.get("User").cloned().unwrap_or(Value::Null),
                "groups": groups,
                "attached": attached,
                "inline": inline,
                "keys": keys,
                "mfa": mfa,
                "profile": profile,
                "policy_choices": policy_choices(shared, me).await,
                "group_choices": all_groups,
            })
        }
    };
    page(
        &shared.templates,
        "iam_user.html",
        with(with(frame, ctx), extra),
    )
}

/// GET /console/iam/users/{name}
pub async fn show(me: Me, State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    page_of(&shared, &me, &name, json!({})).await
}

/// POST /console/iam/users/{name}/groups: AddUserToGroup or (`action=remove`)
/// RemoveUserFromGroup.
pub async fn groups(
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
        json!({"UserName": name, "GroupName": field(&f, "group")}),
    )
    .await;
    after(&shared, &me, Holder::User, &name, r).await
}

/// POST /console/iam/users/{name}/keys: CreateAccessKey; the answer is the only page that
/// ever shows the secret.
pub async fn create_key(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let me = me!(Me::posting(&shared, &headers, &peer, field(&f, "csrf")));
    let extra = match iam(&shared, &me, "CreateAccessKey", json!({"UserName": name})).await {
        Ok(v) => json!({"new_key": {
            "id": text(&v, &["AccessKey", "AccessKeyId"]),
            "secret": text(&v, &["AccessKey", "SecretAccessKey"]),
        }}),
        Err(e) => json!({"error": error_of(&e)}),
    };
    page_of(&shared, &me, &name, extra).await
}

/// POST /console/iam/users/{name}/keys/{id}: UpdateAccessKey (`action=activate` or
/// `deactivate`) or DeleteAccessKey (`action=delete`).
pub async fn key_action(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Path((name, id)): Path<(String, String)>,
    Form(f): Form<Fields>,
) -> Response {
    let me = me!(Me::posting(&shared, &headers, &peer, field(&f, "csrf")));
    let key = json!({"UserName": name, "AccessKeyId": id});
    let r = match field(&f, "action") {
        "delete" => iam(&shared, &me, "DeleteAccessKey", key).await,
        action => {
            let status = if action == "activate" {
                "Active"
            } else {
                "Inactive"
            };
            iam(
                &shared,
                &me,
                "UpdateAccessKey",
                with(key, json!({"Status": status})),
            )
            .await
        }
    };
    after(&shared, &me, Holder::User, &name, r).await
}

/// POST /console/iam/users/{name}/login-profile: CreateLoginProfile, UpdateLoginProfile or
/// DeleteLoginProfile (`action`).
pub async fn login_profile(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let me = me!(Me::posting(&shared, &headers, &peer, field(&f, "csrf")));
    let reset = ticked(&f, "reset");
    let r = match field(&f, "action") {
        "delete" => {
            iam(
                &shared,
                &me,
                "DeleteLoginProfile",
                json!({"UserName": name}),
            )
            .await
        }
        action => {
            let mut input = json!({"UserName": name, "PasswordResetRequired": reset});
            let pw = field(&f, "password");
            if action == "create" || !pw.is_empty() {
                input["Password"] = json!(pw);
            }
            let op = if action == "create" {
                "CreateLoginProfile"
            } else {
                "UpdateLoginProfile"
            };
            match iam(&shared, &me, op, input).await {
                Ok(_) if reset => {
                    iam(
                        &shared,
                        &me,
                        "AttachUserPolicy",
                        json!({"UserName": name, "PolicyArn": CHANGE_PASSWORD_POLICY}),
                    )
                    .await
                }
                other => other,
            }
        }
    };
    after(&shared, &me, Holder::User, &name, r).await
}

/// Where a user's MFA device is set up.
fn mfa_target(name: &str) -> mfa::Target {
    mfa::Target {
        base: Holder::User.url(name),
        back: name.to_owned(),
        owner: name.to_owned(),
        user_name: name.to_owned(),
        nav: "iam-users",
    }
}

/// GET /console/iam/users/{name}/mfa: naming the new virtual MFA device.
pub async fn mfa_form(
    me: Me,
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Response {
    mfa::form(&shared, &me, &mfa_target(&name), &name)
}

/// POST /console/iam/users/{name}/mfa: CreateVirtualMFADevice (see `mfa::create`).
pub async fn mfa_create(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let me = me!(Me::posting(&shared, &headers, &peer, field(&f, "csrf")));
    mfa::create(&shared, &me, &mfa_target(&name), &f).await
}

/// POST /console/iam/users/{name}/mfa/enable: EnableMFADevice (see `mfa::enable`).
pub async fn mfa_enable(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let me = me!(Me::posting(&shared, &headers, &peer, field(&f, "csrf")));
    mfa::enable(&shared, &me, &mfa_target(&name), &f).await
}

/// POST /console/iam/users/{name}/mfa/remove: DeactivateMFADevice, then
/// DeleteVirtualMFADevice.
pub async fn mfa_remove(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let me = me!(Me::posting(&shared, &headers, &peer, field(&f, "csrf")));
    let r = mfa::remove(&shared, &me, &mfa_target(&name), &f).await;
    after(&shared, &me, Holder::User, &name, r).await
}
