//! Changing one's own password: the page a sign-in lands on when the login profile requires
//! a new password (until it is changed, every other page leads here), and open to any IAM
//! user afterwards. The change is IAM's ChangePassword, called as the user (by the sign-in
//! service when the login profile required it, as AWS records that one).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::response::Response;
use cairn_edge::edge::web::WebPeer;
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::{Me, csrf_refused, error_of, with};
use crate::Shared;
use crate::render::{page, page_with_status, see_other};
use crate::session::{self, cookie, same_token};

/// The page's address.
pub const PAGE: &str = "/console/password";

fn form_page(shared: &Shared, me: &Me, extra: Value) -> Response {
    let frame = me.frame(shared, "Change password", "password");
    page(&shared.templates, "password.html", with(frame, extra))
}

/// GET /console/password
pub async fn form(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
) -> Response {
    let me = match Me::even_restricted(&shared, &headers, &peer) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    form_page(&shared, &me, json!({}))
}

/// POST /console/password: ChangePassword; on success the session opens every page.
pub async fn submit(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let me = match Me::even_restricted(&shared, &headers, &peer) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or_default();
    if !same_token(&me.session.csrf, get("csrf")) {
        return csrf_refused(&shared);
    }
    if get("new_password") != get("confirm_password") {
        return form_page(
            &shared,
            &me,
            json!({"mismatch": "The new password and its confirmation are not the same."}),
        );
    }
    let input = json!({"OldPassword": get("old_password"), "NewPassword": get("new_password")});
    // A change the login profile required is the sign-in service's call, as AWS records it;
    // a change chosen later is an ordinary console call.
    let r = if me.session.must_change_password {
        me.caller
            .call_via_signin(&shared, "iam", "ChangePassword", input)
            .await
    } else {
        me.caller
            .call(&shared, "iam", "ChangePassword", input)
            .await
    };
    match r {
        Ok(_) => {
            if let Some(id) = cookie(&headers, session::COOKIE)
                && let Err(e) = shared.sessions.password_changed(id)
            {
                // The password did change (and is recorded): only the session still leads to
                // this page, and the person is told to sign in again with the new one.
                tracing::error!(error = %e, "console session not freed after a password change");
                return page_with_status(
                    &shared.templates,
                    "message.html",
                    json!({"title": "Password changed", "message": "Your password was changed, but this session could not be updated. Sign out and sign in again with the new password.", "link": PAGE}),
                    StatusCode::SERVICE_UNAVAILABLE,
                );
            }
            see_other(crate::signin::LANDING)
        }
        Err(e) => form_page(&shared, &me, json!({"error": error_of(&e)})),
    }
}
