//! What the edge's HTTP tests share: an in-process cairn on a free loopback port, and a
//! client that sends raw (optionally signed) requests to it.

// Test scaffolding: a failure to set up is a failed test.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use cairn_model::{Clock, SystemClock};
use cairn_services::App;
use cairn_services::app::{Layout, Options, Stores};
use cairn_store::identity::{AccessKey, IdentityStore};
use cairn_store::journal::JournalConfig;
use cairn_wire::sigv4::{SigningKey, sign};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct Server {
    pub addr: std::net::SocketAddr,
    pub key: AccessKey,
    pub identity: Arc<dyn IdentityStore>,
    _dir: tempfile::TempDir,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
}

pub async fn start() -> Server {
    start_with(Default::default()).await
}

/// An instance whose edge keeps the given limits.
pub async fn start_with(limits: cairn_services::edge::Limits) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::new(dir.path());
    let stores = Stores::open(&layout, JournalConfig::default(), |_, _| {}).unwrap();
    let identity = Arc::clone(&stores.identity);
    let (_, key) = identity.create_account(SystemClock.now_millis()).unwrap();
    let app = Arc::new(
        App::build(
            &stores,
            &layout,
            cairn_services::registry(),
            Options::new(Arc::new(SystemClock)),
        )
        .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let edge = cairn_services::edge::Edge::new(app, limits);
    tokio::spawn(cairn_services::edge::serve(listener, edge, async {
        let _ = rx.await;
    }));
    Server {
        addr,
        key,
        identity,
        _dir: dir,
        stop: Some(tx),
    }
}

/// One raw request.
pub struct Raw<'a> {
    /// The SigV4 signing name; `None` sends the request unsigned.
    pub service: Option<&'a str>,
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: Vec<(&'static str, String)>,
    pub body: &'a [u8],
}

/// Sends one request (signed with `key` when it names a service) on a fresh connection and
/// returns (status, lower-cased headers, body).
pub async fn send(
    s: &Server,
    key: &AccessKey,
    r: Raw<'_>,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut h = http::HeaderMap::new();
    h.insert("host", s.addr.to_string().parse().unwrap());
    for (k, v) in &r.headers {
        h.insert(*k, v.parse().unwrap());
    }
    if let Some(token) = &key.session_token {
        h.insert("x-amz-security-token", token.parse().unwrap());
    }
    if let Some(service) = r.service {
        let key = SigningKey {
            access_key_id: &key.access_key_id,
            secret_access_key: &key.secret_access_key,
            region: "us-east-1",
            service,
        };
        sign(
            &key,
            r.method,
            r.path,
            r.query,
            &mut h,
            r.body,
            SystemClock.now_millis(),
        );
    }
    let target = match r.query {
        Some(q) => format!("{}?{q}", r.path),
        None => r.path.to_owned(),
    };
    let mut req = format!("{} {target} HTTP/1.1\r\nconnection: close\r\n", r.method).into_bytes();
    for (k, v) in &h {
        req.extend_from_slice(format!("{}: {}\r\n", k, v.to_str().unwrap()).as_bytes());
    }
    req.extend_from_slice(format!("content-length: {}\r\n\r\n", r.body.len()).as_bytes());
    req.extend_from_slice(r.body);
    let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    stream.write_all(&req).await.unwrap();
    let mut resp = Vec::new();
    stream.read_to_end(&mut resp).await.unwrap();
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&resp[..split]).into_owned();
    let body = resp[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body)
}

/// A JSON 1.1 call (`X-Amz-Target`), signed for `service` when it names one.
pub async fn json_call(
    s: &Server,
    key: &AccessKey,
    service: Option<&str>,
    target: String,
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    send(
        s,
        key,
        Raw {
            service,
            method: "POST",
            path: "/",
            query: None,
            headers: vec![
                ("content-type", "application/x-amz-json-1.1".into()),
                ("x-amz-target", target),
            ],
            body,
        },
    )
    .await
}

pub fn header<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
    h.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}
