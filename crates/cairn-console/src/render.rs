//! Turning templates into answers: the template set (compiled into the binary, HTML escaped
//! by minijinja because their names end in `.html`), and the few kinds of answer pages give.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

/// Every template, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("signin.html", include_str!("../templates/signin.html")),
    (
        "dashboard.html",
        include_str!("../templates/dashboard.html"),
    ),
    ("history.html", include_str!("../templates/history.html")),
    ("event.html", include_str!("../templates/event.html")),
    ("trails.html", include_str!("../templates/trails.html")),
    ("trail.html", include_str!("../templates/trail.html")),
    ("message.html", include_str!("../templates/message.html")),
    (
        "create_trail.html",
        include_str!("../templates/create_trail.html"),
    ),
    (
        "s3_buckets.html",
        include_str!("../templates/s3_buckets.html"),
    ),
    ("s3_list.html", include_str!("../templates/s3_list.html")),
    (
        "s3_object.html",
        include_str!("../templates/s3_object.html"),
    ),
    // Lake, alarms, rules, functions.
    ("lake.html", include_str!("../templates/lake.html")),
    ("alarms.html", include_str!("../templates/alarms.html")),
    ("alarm.html", include_str!("../templates/alarm.html")),
    ("rules.html", include_str!("../templates/rules.html")),
    ("rule.html", include_str!("../templates/rule.html")),
    (
        "functions.html",
        include_str!("../templates/functions.html"),
    ),
    ("function.html", include_str!("../templates/function.html")),
    ("findings.html", include_str!("../templates/findings.html")),
    ("checks.html", include_str!("../templates/checks.html")),
    ("labs.html", include_str!("../templates/labs.html")),
    ("lab.html", include_str!("../templates/lab.html")),
    // IAM, and the forced password change.
    (
        "iam_users.html",
        include_str!("../templates/iam_users.html"),
    ),
    ("iam_user.html", include_str!("../templates/iam_user.html")),
    ("iam_mfa.html", include_str!("../templates/iam_mfa.html")),
    (
        "iam_credentials.html",
        include_str!("../templates/iam_credentials.html"),
    ),
    (
        "iam_groups.html",
        include_str!("../templates/iam_groups.html"),
    ),
    (
        "iam_group.html",
        include_str!("../templates/iam_group.html"),
    ),
    (
        "iam_roles.html",
        include_str!("../templates/iam_roles.html"),
    ),
    ("iam_role.html", include_str!("../templates/iam_role.html")),
    (
        "iam_policies.html",
        include_str!("../templates/iam_policies.html"),
    ),
    (
        "iam_policy.html",
        include_str!("../templates/iam_policy.html"),
    ),
    ("password.html", include_str!("../templates/password.html")),
];

pub fn templates() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    for (name, text) in TEMPLATES {
        if let Err(e) = env.add_template(name, text) {
            // The templates are part of the binary: a broken one is caught by the tests.
            tracing::error!(template = name, error = %e, "console template does not parse");
        }
    }
    env
}

/// Headers every page carries: no caching of pages with personal data, no framing, no
/// content from elsewhere (the console needs none), no MIME sniffing.
fn harden(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// A rendered page.
pub fn page(env: &minijinja::Environment<'_>, name: &str, ctx: impl Serialize) -> Response {
    page_with_status(env, name, ctx, StatusCode::OK)
}

pub fn page_with_status(
    env: &minijinja::Environment<'_>,
    name: &str,
    ctx: impl Serialize,
    status: StatusCode,
) -> Response {
    let rendered = env
        .get_template(name)
        .and_then(|t| t.render(minijinja::Value::from_serialize(&ctx)));
    let mut resp = match rendered {
        Ok(html) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(template = name, error = %e, "console page did not render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be shown.",
            )
                .into_response()
        }
    };
    harden(&mut resp);
    resp
}

/// A redirect after a form (303: the browser follows it with a GET).
pub fn see_other(to: &str) -> Response {
    let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response();
    harden(&mut resp);
    resp
}

/// A download.
pub fn attachment(content_type: &'static str, filename: &str, body: Vec<u8>) -> Response {
    let mut resp = (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response();
    harden(&mut resp);
    resp
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn render(name: &str, ctx: serde_json::Value) -> String {
        templates()
            .get_template(name)
            .unwrap()
            .render(minijinja::Value::from_serialize(&ctx))
            .unwrap()
    }

    #[test]
    fn every_template_parses() {
        let env = templates();
        for (name, _) in TEMPLATES {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn iam_pages_escape_what_iam_answers() {
        let me = json!({"name": "root", "account": "111122223333", "arn": "arn:aws:iam::111122223333:root"});
        let evil = "<img src=x onerror=alert(1)>";
        let html = render(
            "iam_users.html",
            json!({"title": "Users", "me": me, "csrf": "t", "users": [{"UserName": evil, "Arn": evil}]}),
        );
        assert!(!html.contains(evil));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        let html = render(
            "iam_policy.html",
            json!({"title": "p", "me": me, "csrf": "t", "policy": {"Arn": "a"}, "document": evil}),
        );
        assert!(!html.contains(evil));
        // The password page of a session that must change its password offers nothing else.
        let user = json!({"name": "carol", "account": "111122223333", "arn": "arn:aws:iam::111122223333:user/carol"});
        let html = render(
            "password.html",
            json!({"title": "Change password", "me": user, "csrf": "t", "restricted": true}),
        );
        assert!(!html.contains("<nav") && html.contains("must be changed"));
        let html = render(
            "iam_users.html",
            json!({"title": "Users", "me": user, "csrf": "t", "users": []}),
        );
        assert!(html.contains("<nav") && html.contains("href=\"/console/password\""));
    }
}
