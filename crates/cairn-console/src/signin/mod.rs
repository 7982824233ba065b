//! Signing in and out: the form, the decision, the `ConsoleLogin` record, the session.
//!
//! The sign-in form is protected from cross-site posting by a double-submitted token (a
//! cookie and a hidden field that must match) because there is no session yet. A sign-in is
//! recorded before its session starts: if the record cannot be made durable the person is
//! not signed in (audit fails closed), and a failure is recorded before it is answered.

pub mod check;
pub mod record;

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::response::Response;
use cairn_edge::edge::web::WebPeer;
use cairn_store::identity::NewSession;
use http::{HeaderMap, StatusCode, header};
use serde_json::json;

use crate::render::{page_with_status, see_other};
use crate::session::{self, Session, cookie, random_token, same_token, set_cookie};
use crate::{PREFIX, Shared};
use check::{Attempt, Decision, Who};

/// The cookie that carries the sign-in form's token.
const FORM_COOKIE: &str = "cairn-signin";

/// Where a new session lands.
pub const LANDING: &str = "/console/cloudtrail";

/// The message AWS shows for any refused sign-in (it never says which part was wrong).
const REFUSED: &str = "Your authentication information is incorrect. Please try again.";

#[derive(serde::Deserialize)]
pub struct SignInForm {
    #[serde(flatten)]
    attempt: Attempt,
    #[serde(default)]
    csrf: String,
}

fn form_page(
    shared: &Shared,
    peer: &WebPeer,
    error: Option<&str>,
    status: StatusCode,
    typed: &Attempt,
) -> Response {
    let token = random_token();
    let mut resp = page_with_status(
        &shared.templates,
        "signin.html",
        json!({
            "title": "Sign in",
            "csrf": token,
            "error": error,
            "account": typed.account,
            "username": typed.username,
        }),
        status,
    );
    if let Ok(v) = set_cookie(FORM_COOKIE, &token, 3600, peer.https).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// GET /console/signin
pub async fn form(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
) -> Response {
    match crate::pages::signed_in(&shared, &headers) {
        Ok(Some(_)) => return see_other(LANDING),
        Ok(None) => {}
        Err(e) => return crate::pages::sessions_unavailable(&shared, &e),
    }
    form_page(&shared, &peer, None, StatusCode::OK, &Attempt::default())
}

/// The address the person was signing in to, for `LoginTo`.
fn login_to(headers: &HeaderMap, peer: &WebPeer) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if peer.https { "https" } else { "http" };
    format!("{scheme}://{host}{LANDING}")
}

/// POST /console/signin
pub async fn submit(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    let typed = f.attempt;
    let token_ok = cookie(&headers, FORM_COOKIE).is_some_and(|c| same_token(c, &f.csrf));
    if !token_ok || f.csrf.is_empty() {
        return page_with_status(
            &shared.templates,
            "message.html",
            json!({"title": "Sign-in expired", "message": "This sign-in form has expired or was not sent by this site. Open the sign-in page again.", "link": "/console/signin"}),
            StatusCode::FORBIDDEN,
        );
    }
    let app = &shared.app;
    let now = app.clock.now_millis();
    let keys = vec![
        Who::throttle_key(typed.account.trim(), typed.username.trim()),
        format!("ip:{}", peer.addr.ip()),
    ];
    let wait = match shared.throttle.wait_ms(&keys, now) {
        Ok(w) => w,
        Err(e) => {
            // Without the count, the password is not checked: guesses must not go uncounted.
            tracing::error!(error = %e, "sign-in failures could not be read");
            return unavailable(&shared);
        }
    };
    if wait > 0 {
        let minutes = (wait + 59_999) / 60_000;
        let msg = format!("Too many failed sign-in attempts. Try again in {minutes} minute(s).");
        return form_page(
            &shared,
            &peer,
            Some(&msg),
            StatusCode::TOO_MANY_REQUESTS,
            &typed,
        );
    }
    let decided = {
        let shared = Arc::clone(&shared);
        let typed = typed.clone();
        tokio::task::spawn_blocking(move || check::decide(&*shared.app.identity, &typed, now)).await
    };
    let decision = match decided {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "sign-in could not be decided");
            return unavailable(&shared);
        }
        Err(e) => {
            tracing::error!(error = %e, "sign-in task failed");
            return unavailable(&shared);
        }
    };
    let login_to = login_to(&headers, &peer);
    let circumstances = record::Circumstances {
        source_ip: &peer.addr.ip().to_string(),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
        login_to: &login_to,
        tls: None,
        now_ms: now,
    };
    match decision {
        Decision::NoAccount => {
            if count_failure(&shared, &keys, now).is_err() {
                return unavailable(&shared);
            }
            form_page(
                &shared,
                &peer,
                Some(REFUSED),
                StatusCode::UNAUTHORIZED,
                &typed,
            )
        }
        Decision::Failure {
            who,
            error_message,
            mfa_used,
        } => {
            let r = record::console_login(&who, Some(error_message), mfa_used, &circumstances);
            if commit(&shared, &who, &r).await.is_err() {
                return unavailable(&shared);
            }
            if count_failure(&shared, &keys, now).is_err() {
                return unavailable(&shared);
            }
            form_page(
                &shared,
                &peer,
                Some(REFUSED),
                StatusCode::UNAUTHORIZED,
                &typed,
            )
        }
        Decision::Success {
            who,
            owner,
            mfa_used,
            reset_required,
        } => {
            let r = record::console_login(&who, None, mfa_used, &circumstances);
            if commit(&shared, &who, &r).await.is_err() {
                return unavailable(&shared);
            }
            if let Err(e) = shared.throttle.succeeded(&keys[0]) {
                // The sign-in stands; its identity's earlier failures only count a while longer.
                tracing::warn!(error = %e, "sign-in failures not cleared");
            }
            if let Who::User(u) = &who
                && let Err(e) = shared.app.identity.note_password_used(&u.user_id, now)
            {
                // The sign-in stands (its record is durable); only PasswordLastUsed lags.
                tracing::warn!(user = %u.name, error = %e, "password use not noted");
            }
            let expires_ms = now + session::LIFETIME_MS;
            let key = shared.app.identity.create_session_key(
                NewSession {
                    account: who.account(),
                    owner,
                    session_name: None,
                    mfa: mfa_used,
                    expires_ms,
                },
                now,
            );
            let key = match key {
                Ok(k) => k,
                Err(e) => {
                    tracing::error!(error = %e, "console session credentials could not be made");
                    return unavailable(&shared);
                }
            };
            let display_name = match &who {
                Who::User(u) => u.name.clone(),
                Who::Root { account, alias } => {
                    alias.clone().unwrap_or_else(|| account.to_string())
                }
                Who::UnknownUser { account } => account.to_string(),
            };
            if let Err(e) = shared.sessions.sweep_sessions(now) {
                // Expired sessions open nothing; they are only kept until a later sweep.
                tracing::warn!(error = %e, "expired console sessions not swept");
            }
            let id = random_token();
            let started = shared.sessions.start_session(
                &id,
                &Session {
                    access_key_id: key.access_key_id.clone(),
                    account: who.account().to_string(),
                    display_name,
                    csrf: random_token(),
                    expires_ms,
                    must_change_password: reset_required,
                },
            );
            if let Err(e) = started {
                tracing::error!(error = %e, "console session could not be kept");
                // Nobody can use the credentials just minted for it.
                if let Err(e) = shared.app.identity.delete_key(&key.access_key_id) {
                    tracing::warn!(error = %e, "unused console session credentials not deleted");
                }
                return unavailable(&shared);
            }
            let mut resp = see_other(if reset_required {
                crate::pages::password::PAGE
            } else {
                LANDING
            });
            let h = resp.headers_mut();
            for c in [
                set_cookie(
                    session::COOKIE,
                    &id,
                    session::LIFETIME_MS / 1000,
                    peer.https,
                ),
                set_cookie(FORM_COOKIE, "", 0, peer.https),
            ] {
                if let Ok(v) = c.parse() {
                    h.append(header::SET_COOKIE, v);
                }
            }
            resp
        }
    }
}

/// Counts a failed attempt; an error (logged) when it could not be counted, and then the
/// attempt is answered as unavailable: a guess that is not counted must not be answered either.
fn count_failure(shared: &Shared, keys: &[String], now: i64) -> Result<(), ()> {
    shared.throttle.failed(keys, now).map_err(|e| {
        tracing::error!(error = %e, "a failed sign-in could not be counted");
    })
}

async fn commit(shared: &Shared, who: &Who, record: &serde_json::Value) -> Result<(), ()> {
    let bytes = serde_json::to_vec(record).map_err(|_| ())?;
    cairn_edge::recorder::commit_event(&shared.app, who.account().as_str(), bytes)
        .await
        .map_err(|_| ())
}

fn unavailable(shared: &Shared) -> Response {
    page_with_status(
        &shared.templates,
        "message.html",
        json!({"title": "Sign-in unavailable", "message": "cairn cannot record sign-ins right now, so it does not sign anyone in. Try again shortly.", "link": "/console/signin"}),
        StatusCode::SERVICE_UNAVAILABLE,
    )
}

#[derive(serde::Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// POST /console/signout: forgets the session and deletes its credentials.
pub async fn signout(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Form(f): Form<SignOutForm>,
) -> Response {
    let Some(id) = cookie(&headers, session::COOKIE) else {
        return see_other("/console/signin");
    };
    let now = shared.app.clock.now_millis();
    match shared.sessions.session(id, now) {
        Ok(Some(s)) if same_token(&s.csrf, &f.csrf) => match shared.sessions.end_session(id) {
            Ok(Some(s)) => {
                if let Err(e) = shared.app.identity.delete_key(&s.access_key_id) {
                    tracing::warn!(error = %e, "console session credentials not deleted");
                }
            }
            // Ended meanwhile (on another node): its credentials went with it there.
            Ok(None) => {}
            // Not ended: saying "signed out" would be false.
            Err(e) => return crate::pages::sessions_unavailable(&shared, &e),
        },
        Ok(Some(_)) => return crate::pages::csrf_refused(&shared),
        Ok(None) => {}
        Err(e) => return crate::pages::sessions_unavailable(&shared, &e),
    }
    let mut resp = see_other(&format!("{PREFIX}/signin"));
    if let Ok(v) = set_cookie(session::COOKIE, "", 0, peer.https).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}
