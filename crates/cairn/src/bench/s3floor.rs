//! The ceiling for S3 throughput on this machine, measured under the same load as the real
//! servers: an in-process endpoint doing only what every S3-compatible server must do for a
//! SigV4-signed request with a payload hash (read the body, check it against the declared
//! SHA-256, compute the MD5 ETag) and keeping objects in memory. No signature check, no
//! storage, no encryption, no recording. Nothing real can beat it, so `floor / peer` bounds
//! the ratio any server could reach against that peer here.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use md5::Digest as _;
use tokio::net::TcpListener;

type Objects = Arc<Mutex<HashMap<String, Bytes>>>;

/// Starts the endpoint on a free port of 127.0.0.1, serving until the runtime stops.
pub(super) async fn start() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let objects: Objects = Arc::default();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let objects = Arc::clone(&objects);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let objects = Arc::clone(&objects);
                    async move { Ok::<_, std::convert::Infallible>(answer(req, &objects).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(addr)
}

async fn answer(req: Request<Incoming>, objects: &Objects) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let declared = req
        .headers()
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    let put = req.method() == hyper::Method::PUT;
    let Ok(body) = req.into_body().collect().await.map(|b| b.to_bytes()) else {
        return status(StatusCode::BAD_REQUEST);
    };
    if !put {
        let found = objects.lock().ok().and_then(|o| o.get(&path).cloned());
        return match found {
            Some(b) => Response::new(Full::new(b)),
            None => status(StatusCode::NOT_FOUND),
        };
    }
    if declared.is_some_and(|d| d != hex::encode(sha2::Sha256::digest(&body))) {
        return status(StatusCode::BAD_REQUEST);
    }
    let etag = format!("\"{}\"", hex::encode(md5::Md5::digest(&body)));
    if let Ok(mut o) = objects.lock() {
        o.insert(path, body);
    }
    let mut resp = status(StatusCode::OK);
    if let Ok(v) = http::HeaderValue::from_str(&etag) {
        resp.headers_mut().insert(http::header::ETAG, v);
    }
    resp
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = code;
    r
}
