//! IAM: users, groups, roles and policies, as AWS's IAM console lays them out. Every action is
//! the IAM call it stands for, made as the signed-in person; IAM answers in XML (the query
//! protocol), read here as JSON (`crate::xml`).
//!
//! - `users.rs`: users, their groups, policies, access keys (the secret shown once), MFA
//!   devices, and console passwords (login profiles).
//! - `mfa.rs`: a virtual MFA device's set-up with the QR code, and its removal, for a user's
//!   page and for `credentials.rs`, the signed-in person's own Security credentials (where the
//!   root user assigns its own device).
//! - `groups.rs`, `roles.rs`: groups and their members; roles and their trust policies.
//! - `policies.rs`: customer managed and AWS managed policies, their documents.
//!
//! Attaching and detaching a managed policy is the same form on a user, group or role; it is
//! here.

pub mod credentials;
pub mod groups;
pub mod mfa;
pub mod policies;
pub mod roles;
pub mod users;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use cairn_edge::edge::web::WebPeer;
use cairn_wire::AwsError;
use http::HeaderMap;
use serde_json::{Value, json};

use super::{Me, error_of};
use crate::Shared;
use crate::render::see_other;
use crate::xml;

/// A form's fields, by name.
pub type Fields = HashMap<String, String>;

/// A field of a form ("" when absent).
pub fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.get(name).map(String::as_str).unwrap_or_default()
}

/// Whether a checkbox was ticked.
pub fn ticked(f: &Fields, name: &str) -> bool {
    !field(f, name).is_empty()
}

/// Calls IAM's `op` as the signed-in person; its result as JSON.
pub async fn iam(
    shared: &Arc<Shared>,
    me: &Me,
    op: &'static str,
    input: Value,
) -> Result<Value, AwsError> {
    let out = me.caller.call(shared, "iam", op, input).await?;
    Ok(xml::to_json(
        out.get("Xml").and_then(Value::as_str).unwrap_or_default(),
    ))
}

/// A part of a page read with one call: its items, or the call's error in their place.
pub fn section(r: Result<Value, AwsError>, key: &str) -> Value {
    match r {
        Ok(v) => json!({"items": xml::list(&v, key)}),
        Err(e) => json!({"items": [], "error": error_of(&e)}),
    }
}

/// The managed policies there are to attach (customer managed and AWS managed).
pub async fn policy_choices(shared: &Arc<Shared>, me: &Me) -> Vec<Value> {
    iam(
        shared,
        me,
        "ListPolicies",
        json!({"Scope": "All", "MaxItems": "1000"}),
    )
    .await
    .map(|v| xml::list(&v, "Policies"))
    .unwrap_or_default()
}

/// What a path segment or query value keeps as it is (RFC 3986's unreserved characters).
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A name as one path segment (or query value) of a console address.
pub fn seg(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}

/// What a managed policy can be attached to.
#[derive(Clone, Copy)]
pub enum Holder {
    User,
    Group,
    Role,
}

impl Holder {
    fn param(self) -> &'static str {
        match self {
            Holder::User => "UserName",
            Holder::Group => "GroupName",
            Holder::Role => "RoleName",
        }
    }

    fn op(self, attach: bool) -> &'static str {
        match (self, attach) {
            (Holder::User, true) => "AttachUserPolicy",
            (Holder::User, false) => "DetachUserPolicy",
            (Holder::Group, true) => "AttachGroupPolicy",
            (Holder::Group, false) => "DetachGroupPolicy",
            (Holder::Role, true) => "AttachRolePolicy",
            (Holder::Role, false) => "DetachRolePolicy",
        }
    }

    pub fn url(self, name: &str) -> String {
        let kind = match self {
            Holder::User => "users",
            Holder::Group => "groups",
            Holder::Role => "roles",
        };
        format!("/console/iam/{kind}/{}", seg(name))
    }

    /// The holder's page, with `extra` (an error) shown.
    async fn page(self, shared: &Arc<Shared>, me: &Me, name: &str, extra: Value) -> Response {
        match self {
            Holder::User => users::page_of(shared, me, name, extra).await,
            Holder::Group => groups::page_of(shared, me, name, extra).await,
            Holder::Role => roles::page_of(shared, me, name, extra).await,
        }
    }
}

/// An action's answer: back to the holder's page, or that page with the error.
pub async fn after(
    shared: &Arc<Shared>,
    me: &Me,
    holder: Holder,
    name: &str,
    r: Result<Value, AwsError>,
) -> Response {
    match r {
        Ok(_) => see_other(&holder.url(name)),
        Err(e) => {
            holder
                .page(shared, me, name, json!({"error": error_of(&e)}))
                .await
        }
    }
}

/// POST …/{name}/policies: attach (or, with `action=detach`, detach) `policy_arn`.
async fn attach(
    shared: Arc<Shared>,
    peer: WebPeer,
    headers: HeaderMap,
    holder: Holder,
    name: String,
    f: Fields,
) -> Response {
    let me = match Me::posting(&shared, &headers, &peer, field(&f, "csrf")) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    let attach = field(&f, "action") != "detach";
    let r = iam(
        &shared,
        &me,
        holder.op(attach),
        json!({holder.param(): name, "PolicyArn": field(&f, "policy_arn")}),
    )
    .await;
    after(&shared, &me, holder, &name, r).await
}

pub async fn attach_user(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    attach(shared, peer, headers, Holder::User, name, f).await
}

pub async fn attach_group(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    attach(shared, peer, headers, Holder::Group, name, f).await
}

pub async fn attach_role(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    attach(shared, peer, headers, Holder::Role, name, f).await
}

/// GET /console/iam: the users.
pub async fn home() -> Response {
    see_other("/console/iam/users")
}
