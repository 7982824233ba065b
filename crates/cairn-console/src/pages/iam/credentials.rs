//! Security credentials: the signed-in person's own MFA devices, as AWS's console shows them
//! under the account menu. It is where the root user assigns (and removes) its own virtual MFA
//! device, which IAM's API cannot do; an IAM user sees and sets up their own here too. Every
//! action is the IAM call it stands for, made as the person (`mfa.rs`).

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::response::Response;
use cairn_edge::edge::web::WebPeer;
use cairn_model::Principal;
use cairn_model::identity::CONSOLE_ROOT_USER_NAME;
use http::HeaderMap;
use serde_json::{Value, json};

use super::{Fields, field, iam, mfa, section};
use crate::Shared;
use crate::pages::{Me, error_of, with};
use crate::render::{page, see_other};

/// The page's address.
pub const PAGE: &str = "/console/iam/security-credentials";

macro_rules! me {
    ($r:expr) => {
        match $r {
            Ok(m) => m,
            Err(r) => return *r,
        }
    };
}

/// Whose credentials the page shows: the root user, or an IAM user (by name); a role session
/// has none of its own.
fn target(me: &Me) -> Option<mfa::Target> {
    let (user_name, owner) = match &me.caller.principal {
        Principal::Root { .. } => (
            CONSOLE_ROOT_USER_NAME.to_owned(),
            "the root user".to_owned(),
        ),
        Principal::IamUser { user_name, .. } => (user_name.clone(), user_name.clone()),
        _ => return None,
    };
    Some(mfa::Target {
        base: PAGE.to_owned(),
        back: "Security credentials".to_owned(),
        owner,
        user_name,
        nav: "iam-credentials",
    })
}

async fn page_of(shared: &Arc<Shared>, me: &Me, extra: Value) -> Response {
    let frame = me.frame(shared, "Security credentials", "iam-credentials");
    let root = matches!(me.caller.principal, Principal::Root { .. });
    let ctx = match target(me) {
        None => json!({"none": true}),
        Some(_) => {
            // The caller's own devices: IAM lists them when no user is named.
            let mfa = section(
                iam(shared, me, "ListMFADevices", json!({})).await,
                "MFADevices",
            );
            json!({"mfa": mfa, "root": root})
        }
    };
    page(
        &shared.templates,
        "iam_credentials.html",
        with(with(frame, ctx), extra),
    )
}

/// GET /console/iam/security-credentials
pub async fn show(me: Me, State(shared): State<Arc<Shared>>) -> Response {
    page_of(&shared, &me, json!({})).await
}

/// GET /console/iam/security-credentials/mfa: naming the new device.
pub async fn mfa_form(me: Me, State(shared): State<Arc<Shared>>) -> Response {
    let Some(t) = target(&me) else {
        return see_other(PAGE);
    };
    // A name to start with: the root user's device used to have this one, always.
    let suggested = match me.caller.principal {
        Principal::Root { .. } => "root-account-mfa-device",
        _ => t.owner.as_str(),
    };
    mfa::form(&shared, &me, &t, suggested)
}

/// POST /console/iam/security-credentials/mfa: CreateVirtualMFADevice.
pub async fn mfa_create(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Response {
    let me = me!(Me::posting(&shared, &headers, &peer, field(&f, "csrf")));
    match target(&me) {
        Some(t) => mfa::create(&shared, &me, &t, &f).await,
        None => see_other(PAGE),
    }
}

/// POST /console/iam/security-credentials/mfa/enable: EnableMFADevice for the person.
pub async fn mfa_enable(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Response {
    let me = me!(Me::posting(&shared, &headers, &peer, field(&f, "csrf")));
    match target(&me) {
        Some(t) => mfa::enable(&shared, &me, &t, &f).await,
        None => see_other(PAGE),
    }
}

/// POST /console/iam/security-credentials/mfa/remove: DeactivateMFADevice, then
/// DeleteVirtualMFADevice.
pub async fn mfa_remove(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Response {
    let me = me!(Me::posting(&shared, &headers, &peer, field(&f, "csrf")));
    let Some(t) = target(&me) else {
        return see_other(PAGE);
    };
    match mfa::remove(&shared, &me, &t, &f).await {
        Ok(_) => see_other(&format!("{PAGE}#mfa")),
        Err(e) => page_of(&shared, &me, json!({"error": error_of(&e)})).await,
    }
}
