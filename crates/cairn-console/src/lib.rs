//! cairn's web console: pages for browsers at `/console` on the API endpoint.
//!
//! A person signs in (root with the password `cairn accounts set-password` set, or an IAM
//! user with their login profile and MFA code); the sign-in is recorded as AWS records it
//! (`ConsoleLogin`). The session holds temporary credentials, and every page's action is the
//! ordinary API call it stands for, made with them through the same pipeline as any client's:
//! authorized by the user's policies and recorded with `sessionCredentialFromConsole`.
//!
//! Pages are rendered on the server from the templates in `templates/` (minijinja, HTML
//! escaped), styled by one stylesheet and helped by one small script (`assets/`); nothing is
//! fetched from elsewhere.

mod calls;
mod digest_check;
mod pages;
mod render;
mod s3_calls;
mod session;
mod signin;
mod throttle;
mod xml;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use bytes::Bytes;
use cairn_edge::App;
use cairn_edge::edge::web::{WebAnswer, WebFront, WebPeer};
use cairn_store::console::ConsoleStore;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;

/// Where the console lives on the endpoint.
pub const PREFIX: &str = "/console";

/// What every page handler shares.
pub struct Shared {
    pub app: Arc<App>,
    /// The region the console works in (the server's default region).
    pub region: String,
    templates: minijinja::Environment<'static>,
    /// Who is signed in: the application's console store (shared by a cluster's nodes).
    sessions: Arc<dyn ConsoleStore>,
    throttle: throttle::Throttle,
}

/// The console, ready to be mounted on the edge.
pub struct Console {
    router: Router,
}

impl Console {
    pub fn new(app: Arc<App>, region: &str) -> Arc<Console> {
        let shared = Arc::new(Shared {
            region: region.to_owned(),
            templates: render::templates(),
            sessions: Arc::clone(&app.console),
            throttle: throttle::Throttle::new(Arc::clone(&app.console)),
            app,
        });
        let router = Router::new()
            .route("/console", get(pages::home))
            .route("/console/", get(pages::home))
            .route("/console/signin", get(signin::form).post(signin::submit))
            .route("/console/signout", post(signin::signout))
            .route("/console/assets/{name}", get(pages::assets::serve))
            .merge(pages::routes())
            .fallback(pages::not_found)
            .with_state(shared);
        Arc::new(Console { router })
    }
}

impl WebFront for Console {
    fn claims(&self, path: &str) -> bool {
        path == PREFIX || path.starts_with("/console/")
    }

    fn serve(&self, req: Request<Bytes>, peer: WebPeer) -> WebAnswer {
        let router = self.router.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            parts.extensions.insert(peer);
            let req = Request::from_parts(parts, axum::body::Body::from(body));
            let resp = match router.oneshot(req).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            let (parts, body) = resp.into_parts();
            let bytes = match body.collect().await {
                Ok(c) => c.to_bytes(),
                Err(e) => {
                    tracing::warn!(error = %e, "console page body failed");
                    Bytes::new()
                }
            };
            Response::from_parts(parts, Full::new(bytes))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use cairn_edge::app::{Layout, Options, Stores};
    use cairn_edge::pipeline::Registry;
    use cairn_model::SystemClock;
    use cairn_store::StoreError;
    use cairn_store::console::ConsoleSession;
    use cairn_store::journal::JournalConfig;

    use super::*;

    /// A console store whose database does not answer.
    struct Away;

    fn away<T>() -> Result<T, StoreError> {
        Err(StoreError::Backend {
            engine: "postgres",
            message: "connection refused".into(),
        })
    }

    impl ConsoleStore for Away {
        fn start_session(&self, _: &str, _: &ConsoleSession) -> Result<(), StoreError> {
            away()
        }
        fn session(&self, _: &str, _: i64) -> Result<Option<ConsoleSession>, StoreError> {
            away()
        }
        fn password_changed(&self, _: &str) -> Result<(), StoreError> {
            away()
        }
        fn end_session(&self, _: &str) -> Result<Option<ConsoleSession>, StoreError> {
            away()
        }
        fn sweep_sessions(&self, _: i64) -> Result<u64, StoreError> {
            away()
        }
        fn add_failure(&self, _: &[String], _: i64, _: i64) -> Result<(), StoreError> {
            away()
        }
        fn failures_since(&self, _: &str, _: i64) -> Result<Vec<i64>, StoreError> {
            away()
        }
        fn clear_failures(&self, _: &str) -> Result<(), StoreError> {
            away()
        }
    }

    async fn get(
        console: &Console,
        path: &str,
        cookie: Option<&str>,
    ) -> (http::StatusCode, String) {
        let mut req = Request::get(path);
        if let Some(c) = cookie {
            req = req.header(http::header::COOKIE, c);
        }
        let peer = WebPeer {
            addr: "127.0.0.1:50000".parse().unwrap(),
            https: false,
        };
        let resp = console.serve(req.body(Bytes::new()).unwrap(), peer).await;
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// When sessions cannot be read, a page says so (503); it does not pretend the person is
    /// signed out by sending them to sign in.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn pages_answer_503_when_sessions_cannot_be_checked() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        let mut stores = Stores::open(&layout, JournalConfig::default(), |_, _| {}).unwrap();
        stores.console = Arc::new(Away);
        let app = App::build(
            &stores,
            &layout,
            Registry::new(Vec::new()),
            Options::new(Arc::new(SystemClock)),
        )
        .unwrap();
        let console = Console::new(Arc::new(app), "us-east-1");
        for path in [
            "/console",
            "/console/signin",
            "/console/cloudtrail",
            "/console/password",
            "/console/no-such-page",
        ] {
            let (status, text) = get(&console, path, Some("cairn-console=some-session")).await;
            assert_eq!(status, http::StatusCode::SERVICE_UNAVAILABLE, "{path}");
            assert!(text.contains("Console unavailable"), "{path}: {text}");
        }
        // Without a session cookie there is nothing to check: off to sign in.
        let (status, _) = get(&console, "/console/cloudtrail", None).await;
        assert_eq!(status, http::StatusCode::SEE_OTHER);

        // A sign-in whose failures cannot be counted is not checked at all.
        let req = Request::post("/console/signin")
            .header(http::header::COOKIE, "cairn-signin=form-token")
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(Bytes::from_static(
                b"csrf=form-token&account=111122223333&username=&password=guess",
            ))
            .unwrap();
        let peer = WebPeer {
            addr: "127.0.0.1:50000".parse().unwrap(),
            https: false,
        };
        let resp = console.serve(req, peer).await;
        assert_eq!(resp.status(), http::StatusCode::SERVICE_UNAVAILABLE);
    }
}
