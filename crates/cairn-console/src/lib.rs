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
    sessions: session::Sessions,
    throttle: throttle::Throttle,
}

/// The console, ready to be mounted on the edge.
pub struct Console {
    router: Router,
}

impl Console {
    pub fn new(app: Arc<App>, region: &str) -> Arc<Console> {
        let shared = Arc::new(Shared {
            app,
            region: region.to_owned(),
            templates: render::templates(),
            sessions: session::Sessions::default(),
            throttle: throttle::Throttle::default(),
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
