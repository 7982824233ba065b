//! The edge over HTTP, in-process: signed calls are answered and recorded before the answer,
//! unsigned ones are refused, and the record's requestID is the response's request id.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use cairn_model::{Clock, SystemClock};
use cairn_services::App;
use cairn_store::history::{HistoryIndex, IndexHook};
use cairn_store::identity::{AccessKey, IdentityStore};
use cairn_store::journal::{Journal, JournalConfig};
use cairn_wire::sigv4::{SigningKey, sign};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Server {
    addr: std::net::SocketAddr,
    key: AccessKey,
    identity: Arc<IdentityStore>,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let identity = Arc::new(IdentityStore::open(&dir.path().join("identity.db")).unwrap());
    let (_, key) = identity.create_account(SystemClock.now_millis()).unwrap();
    let history = Arc::new(HistoryIndex::open(&dir.path().join("history.db")).unwrap());
    let journal = Journal::open(
        &dir.path().join("journal"),
        JournalConfig::default(),
        Box::new(IndexHook::new(
            Arc::clone(&history),
            Arc::new(AtomicBool::new(false)),
        )),
    )
    .unwrap();
    let trails =
        Arc::new(cairn_store::trails::TrailStore::open(&dir.path().join("trails.db")).unwrap());
    let keys = Arc::new(
        cairn_trail::keys::KeyRing::open(
            Arc::clone(&trails),
            Arc::new(SystemClock),
            &dir.path().join("signing.key"),
        )
        .unwrap(),
    );
    let app = Arc::new(App {
        journal,
        history,
        identity: Arc::clone(&identity),
        objects: Arc::new(cairn_store::objects::ObjectStore::open(&dir.path().join("s3")).unwrap()),
        trails: Arc::clone(&trails),
        keys,
        kms: Arc::new(
            cairn_store::kms::KmsStore::open(
                &dir.path().join("kms.db"),
                &dir.path().join("kms.key"),
            )
            .unwrap(),
        ),
        external_buckets: Arc::default(),
        clock: Arc::new(SystemClock),
        history_retention_ms: None,
        token_key: vec![1; 32],
        grants: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let edge = cairn_services::edge::Edge::new(app, Default::default());
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

/// Sends one request and returns (status, lower-cased headers, body).
async fn post(
    s: &Server,
    target: &str,
    body: &Value,
    signed: bool,
) -> (u16, Vec<(String, String)>, Value) {
    post_as(s, &s.key, target, body, signed).await
}

/// Sends one request signed with `key` (and its session token, if it has one).
async fn post_as(
    s: &Server,
    key: &AccessKey,
    target: &str,
    body: &Value,
    signed: bool,
) -> (u16, Vec<(String, String)>, Value) {
    let body = body.to_string();
    let mut h = http::HeaderMap::new();
    h.insert("host", s.addr.to_string().parse().unwrap());
    h.insert(
        "content-type",
        "application/x-amz-json-1.1".parse().unwrap(),
    );
    h.insert(
        "x-amz-target",
        format!("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.{target}")
            .parse()
            .unwrap(),
    );
    if let Some(token) = &key.session_token {
        h.insert("x-amz-security-token", token.parse().unwrap());
    }
    if signed {
        let key = SigningKey {
            access_key_id: &key.access_key_id,
            secret_access_key: &key.secret_access_key,
            region: "us-east-1",
            service: "cloudtrail",
        };
        sign(
            &key,
            "POST",
            "/",
            None,
            &mut h,
            body.as_bytes(),
            SystemClock.now_millis(),
        );
    }
    let mut req = String::from("POST / HTTP/1.1\r\nconnection: close\r\n");
    for (k, v) in &h {
        req.push_str(&format!("{}: {}\r\n", k, v.to_str().unwrap()));
    }
    req.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut resp = Vec::new();
    stream.read_to_end(&mut resp).await.unwrap();
    let text = String::from_utf8(resp).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
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
    (
        status,
        headers,
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
    h.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_calls_are_recorded_before_they_are_answered() {
    let mut s = start().await;
    let (status, headers, body) = post(&s, "DescribeTrails", &json!({}), true).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"trailList": []}));
    let rid = header(&headers, "x-amzn-requestid").to_owned();
    assert_eq!(rid.len(), 36);
    let (status, _, body) = post(
        &s,
        "LookupEvents",
        &json!({"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"DescribeTrails"}]}),
        true,
    )
    .await;
    assert_eq!(status, 200);
    let events = body["Events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    let rec: Value = serde_json::from_str(events[0]["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(rec["requestID"], rid.as_str());
    assert_eq!(
        rec["userIdentity"]["accessKeyId"],
        s.key.access_key_id.as_str()
    );
    assert_eq!(rec["userIdentity"]["accountId"], s.key.account.as_str());
    assert!(
        rec.get("userAgent").is_none(),
        "no User-Agent header, so no userAgent field"
    );
    let _ = s.stop.take().map(|tx| tx.send(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_and_unknown_requests_get_aws_errors() {
    let s = start().await;
    let (status, _, body) = post(&s, "DescribeTrails", &json!({}), false).await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");
    let (status, _, body) = post(&s, "Nope", &json!({}), true).await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "UnknownOperationException");
    let (status, _, body) = post(&s, "LookupEvents", &json!({"MaxResults": 0}), true).await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "InvalidMaxResultsException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_credentials_work_until_they_expire() {
    use cairn_store::identity::{KeyOwner, NewSession};
    let mut s = start().await;
    let now = SystemClock.now_millis();
    let session = |expires_ms| {
        s.identity
            .create_session_key(
                NewSession {
                    account: &s.key.account,
                    owner: KeyOwner::Root,
                    session_name: None,
                    mfa: false,
                    expires_ms,
                },
                now,
            )
            .unwrap()
    };
    let live = session(now + 900_000);
    let (status, _, _) = post_as(&s, &live, "DescribeTrails", &json!({}), true).await;
    assert_eq!(status, 200);
    let expired = session(now - 1);
    let (status, _, body) = post_as(&s, &expired, "DescribeTrails", &json!({}), true).await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "ExpiredTokenException");
    // The token is part of the credential: without it, or with another, the key is refused.
    let mut wrong = live.clone();
    wrong.session_token = Some("not-the-token".into());
    let (status, _, body) = post_as(&s, &wrong, "DescribeTrails", &json!({}), true).await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "UnrecognizedClientException");
    let _ = s.stop.take().map(|tx| tx.send(()));
}
