//! The pages behind sign-in: who is asking (every page needs a live session, and every form a
//! session's CSRF token), the page frame they share, and the routes of each page family.

mod alarms;
pub mod assets;
mod create_trail;
mod dashboard;
mod functions;
mod history;
mod iam;
mod labs;
mod lake;
pub mod password;
mod rules;
mod s3;
mod security;
mod time;
mod trail_resources;
mod trails;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use cairn_edge::edge::web::WebPeer;
use cairn_model::Principal;
use cairn_store::StoreError;
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::Shared;
use crate::calls::Caller;
use crate::render::{page_with_status, see_other};
use crate::session::{self, Session, cookie, same_token};

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/console/cloudtrail", get(dashboard::show))
        .route("/console/cloudtrail/events", get(history::list))
        .route(
            "/console/cloudtrail/events/download",
            get(history::download),
        )
        .route("/console/cloudtrail/events/tail", get(history::tail))
        .route("/console/cloudtrail/events/{id}", get(history::event))
        .route("/console/cloudtrail/trails", get(trails::list))
        .route(
            "/console/cloudtrail/create-trail",
            get(create_trail::start).post(create_trail::step),
        )
        .route("/console/s3", get(s3::buckets))
        .route("/console/s3/buckets/{bucket}", get(s3::list))
        .route("/console/s3/object/{bucket}", get(s3::object))
        .route("/console/s3/download/{bucket}", get(s3::download))
        .route("/console/cloudtrail/trails/{name}", get(trails::detail))
        .route(
            "/console/cloudtrail/trails/{name}/logging",
            post(trails::logging),
        )
        .route(
            "/console/cloudtrail/trails/{name}/delete",
            post(trails::delete),
        )
        .merge(more_routes())
}

/// The pages of the capabilities beyond trails: CloudTrail Lake, CloudWatch alarms,
/// EventBridge rules, Lambda functions.
fn more_routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/console/cloudtrail/lake",
            get(lake::editor).post(lake::run),
        )
        .route("/console/security/findings", get(security::findings))
        .route("/console/security/checks", get(security::checks))
        .route("/console/labs", get(labs::list))
        .route("/console/labs/{name}", get(labs::detail).post(labs::act))
        .route("/console/cloudwatch/alarms", get(alarms::list))
        .route("/console/cloudwatch/alarms/{name}", get(alarms::detail))
        .route(
            "/console/cloudwatch/alarms/{name}/actions",
            post(alarms::actions),
        )
        .route("/console/events/rules", get(rules::list))
        .route("/console/events/rules/{name}", get(rules::detail))
        .route("/console/lambda/functions", get(functions::list))
        .route(
            "/console/lambda/functions/{name}",
            get(functions::detail).post(functions::invoke),
        )
        .route(password::PAGE, get(password::form).post(password::submit))
        .route("/console/iam", get(iam::home))
        .route(iam::credentials::PAGE, get(iam::credentials::show))
        .route(
            "/console/iam/security-credentials/mfa",
            get(iam::credentials::mfa_form).post(iam::credentials::mfa_create),
        )
        .route(
            "/console/iam/security-credentials/mfa/enable",
            post(iam::credentials::mfa_enable),
        )
        .route(
            "/console/iam/security-credentials/mfa/remove",
            post(iam::credentials::mfa_remove),
        )
        .route(
            "/console/iam/users",
            get(iam::users::list_users).post(iam::users::create),
        )
        .route("/console/iam/users/{name}", get(iam::users::show))
        .route("/console/iam/users/{name}/groups", post(iam::users::groups))
        .route("/console/iam/users/{name}/policies", post(iam::attach_user))
        .route(
            "/console/iam/users/{name}/keys",
            post(iam::users::create_key),
        )
        .route(
            "/console/iam/users/{name}/keys/{id}",
            post(iam::users::key_action),
        )
        .route(
            "/console/iam/users/{name}/login-profile",
            post(iam::users::login_profile),
        )
        .route(
            "/console/iam/users/{name}/mfa",
            get(iam::users::mfa_form).post(iam::users::mfa_create),
        )
        .route(
            "/console/iam/users/{name}/mfa/enable",
            post(iam::users::mfa_enable),
        )
        .route(
            "/console/iam/users/{name}/mfa/remove",
            post(iam::users::mfa_remove),
        )
        .route(
            "/console/iam/groups",
            get(iam::groups::list_groups).post(iam::groups::create),
        )
        .route("/console/iam/groups/{name}", get(iam::groups::show))
        .route("/console/iam/groups/{name}/users", post(iam::groups::users))
        .route(
            "/console/iam/groups/{name}/policies",
            post(iam::attach_group),
        )
        .route(
            "/console/iam/roles",
            get(iam::roles::list_roles).post(iam::roles::create),
        )
        .route("/console/iam/roles/{name}", get(iam::roles::show))
        .route("/console/iam/roles/{name}/policies", post(iam::attach_role))
        .route(
            "/console/iam/policies",
            get(iam::policies::list_policies).post(iam::policies::create),
        )
        .route("/console/iam/policies/view", get(iam::policies::show))
}

/// The signed-in person behind a request: their session and the principal its credentials
/// stand for now (a deleted user or key, or an expired session, is no one). An error when the
/// sessions cannot be read (a cluster's database away): the caller answers that, rather than
/// sending someone who is signed in to sign in again.
pub fn signed_in(
    shared: &Shared,
    headers: &HeaderMap,
) -> Result<Option<(Session, Principal)>, StoreError> {
    let Some(id) = cookie(headers, session::COOKIE) else {
        return Ok(None);
    };
    let now = shared.app.clock.now_millis();
    let Some(s) = shared.sessions.session(id, now)? else {
        return Ok(None);
    };
    Ok(
        cairn_edge::edge::auth::principal_of_key(&shared.app, &s.access_key_id, now)
            .map(|p| (s, p)),
    )
}

/// The answer when sessions cannot be checked: 503, and nobody is sent to sign in (that
/// would not help, and would look like being signed out).
pub fn sessions_unavailable(shared: &Shared, e: &StoreError) -> Response {
    tracing::error!(error = %e, "console sessions could not be read");
    page_with_status(
        &shared.templates,
        "message.html",
        json!({"title": "Console unavailable", "message": "cairn cannot check console sessions right now (its session store does not answer). Try again shortly.", "link": "/console"}),
        StatusCode::SERVICE_UNAVAILABLE,
    )
}

/// A request's signed-in person, ready to make calls; or (boxed: it is large) the answer that
/// sends the browser to sign in.
pub struct Me {
    pub session: Session,
    pub caller: Caller,
}

impl Me {
    pub fn of(shared: &Shared, headers: &HeaderMap, peer: &WebPeer) -> Result<Me, Box<Response>> {
        let me = Me::even_restricted(shared, headers, peer)?;
        if me.session.must_change_password {
            return Err(Box::new(see_other(password::PAGE)));
        }
        Ok(me)
    }

    /// Same, also for a session that must change its password first (the password page).
    pub fn even_restricted(
        shared: &Shared,
        headers: &HeaderMap,
        peer: &WebPeer,
    ) -> Result<Me, Box<Response>> {
        let (session, principal) = match signed_in(shared, headers) {
            Ok(Some(me)) => me,
            Ok(None) => return Err(Box::new(see_other("/console/signin"))),
            Err(e) => return Err(Box::new(sessions_unavailable(shared, &e))),
        };
        Ok(Me {
            caller: Caller::new(principal, peer),
            session,
        })
    }

    /// Same, for a form: refused unless it carries this session's CSRF token.
    pub fn posting(
        shared: &Shared,
        headers: &HeaderMap,
        peer: &WebPeer,
        token: &str,
    ) -> Result<Me, Box<Response>> {
        let me = Me::of(shared, headers, peer)?;
        if !same_token(&me.session.csrf, token) {
            return Err(Box::new(csrf_refused(shared)));
        }
        Ok(me)
    }

    /// What every page's frame shows about the person.
    pub fn frame(&self, shared: &Shared, title: &str, nav: &str) -> Value {
        json!({
            "title": title,
            "nav": nav,
            "me": {
                "name": self.session.display_name,
                "account": self.session.account,
                "arn": self.caller.principal.arn(),
            },
            "region": shared.region,
            "csrf": self.session.csrf,
            "restricted": self.session.must_change_password,
            "service": if nav.starts_with("iam") { "IAM" } else { "CloudTrail" },
        })
    }
}

/// `Me` as a handler's argument: the request's signed-in person, a session that must change
/// its password first sent to the password page, anyone else to sign in.
impl axum::extract::FromRequestParts<Arc<Shared>> for Me {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        shared: &Arc<Shared>,
    ) -> Result<Me, Response> {
        // The edge hands every console request its peer; without it nobody is signed in.
        let Some(peer) = parts.extensions.get::<WebPeer>().cloned() else {
            return Err(see_other("/console/signin"));
        };
        Me::of(shared, &parts.headers, &peer).map_err(|r| *r)
    }
}

/// Merges a page's own values into its frame.
pub fn with(mut frame: Value, more: Value) -> Value {
    if let (Value::Object(f), Value::Object(m)) = (&mut frame, more) {
        f.extend(m);
    }
    frame
}

pub fn csrf_refused(shared: &Shared) -> Response {
    page_with_status(
        &shared.templates,
        "message.html",
        json!({"title": "Request refused", "message": "This form was not sent from a page of this console session (its security token is missing or wrong). Reload the page and try again.", "link": "/console/cloudtrail"}),
        StatusCode::FORBIDDEN,
    )
}

/// GET /console: the landing page, or sign-in.
pub async fn home(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    match signed_in(&shared, &headers) {
        Ok(Some(_)) => see_other(crate::signin::LANDING),
        Ok(None) => see_other("/console/signin"),
        Err(e) => sessions_unavailable(&shared, &e),
    }
}

pub async fn not_found(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    match signed_in(&shared, &headers) {
        Ok(Some(_)) => {}
        Ok(None) => return see_other("/console/signin"),
        Err(e) => return sessions_unavailable(&shared, &e),
    }
    page_with_status(
        &shared.templates,
        "message.html",
        json!({"title": "Page not found", "message": "The console has no such page.", "link": "/console/cloudtrail"}),
        StatusCode::NOT_FOUND,
    )
}

/// An API error as the page shows it: AWS's code and message, as the AWS console shows them.
pub fn error_of(e: &cairn_wire::AwsError) -> Value {
    json!({"code": e.code, "message": e.message})
}
