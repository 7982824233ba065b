//! The ceiling for recorded API calls on this machine, under the same load as `cairn bench
//! load`: an in-process endpoint that only verifies each request's SigV4 signature (over the
//! hash of its body) and appends a record of the same shape to a journal with group-committed
//! fsync before answering. No routing, no authorization, no service, no event-history index.
//! A real server does all of that besides, so `cairn / floor` is its share of the ceiling.
//!
//! For ingest (`cairn bench logs --floor`) the endpoint also keeps what it was sent: the
//! request body goes into the journal beside the record, in the same group-committed write, so
//! the ceiling includes storing every byte durably as well as receiving and hashing it.

/// What the floor keeps of a request besides its record.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Keep {
    /// Only the call's record (`cairn bench load --floor`).
    Record,
    /// The record and the request body (`cairn bench logs --floor`).
    RecordAndBody,
}

use std::net::SocketAddr;
use std::path::Path;

use bytes::Bytes;
use cairn_model::{Clock, SystemClock};
use cairn_store::journal::{Entry, EntryKind, Journal, JournalConfig, NoHook, SegmentJournal};
use cairn_wire::sigv4::{self, KeySecret, RequestParts};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub(super) const KEY_ID: &str = "AKIAFLOORFLOORFLOOR0";
pub(super) const SECRET: &str = "floor-secret";

/// Starts the endpoint on a free port of 127.0.0.1, journaling into `dir`.
pub(super) async fn start(dir: &Path, keep: Keep) -> anyhow::Result<SocketAddr> {
    let journal = SegmentJournal::open(dir, JournalConfig::default(), Box::new(NoHook))?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, peer)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let journal = journal.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let journal = journal.clone();
                    async move {
                        Ok::<_, std::convert::Infallible>(answer(req, &journal, peer, keep).await)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(addr)
}

async fn answer(
    req: Request<Incoming>,
    journal: &dyn Journal,
    peer: SocketAddr,
    keep: Keep,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return status(StatusCode::BAD_REQUEST);
    };
    let rp = RequestParts {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query(),
        headers: &parts.headers,
    };
    let key = KeySecret {
        secret_access_key: SECRET,
        session_token: None,
        expires_ms: None,
    };
    let now = SystemClock.now_millis();
    let verified = match sigv4::parse(&rp) {
        Ok(Some(auth)) if auth.access_key_id == KEY_ID => {
            sigv4::verify(&auth, &rp, &key, &body, now).is_ok()
        }
        _ => false,
    };
    if !verified {
        return status(StatusCode::FORBIDDEN);
    }
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let name = target.rsplit('.').next().unwrap_or(target);
    let id = cairn_model::ids::new_uuid();
    // The fields and size of the record cairn writes for the same call.
    let record = serde_json::json!({
        "eventVersion": "1.11",
        "userIdentity": {"type": "Root", "principalId": "123456789012", "arn": "arn:aws:iam::123456789012:root",
                         "accountId": "123456789012", "accessKeyId": KEY_ID},
        "eventTime": cairn_model::timefmt::event_time(now),
        "eventSource": "cloudtrail.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": peer.ip().to_string(),
        "userAgent": parts.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()),
        "requestParameters": null,
        "responseElements": null,
        "requestID": id,
        "eventID": cairn_model::ids::new_uuid(),
        "readOnly": true,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "123456789012",
        "eventCategory": "Management",
    });
    let entry = Entry {
        kind: EntryKind::Recorded,
        account: "123456789012".into(),
        record: record.to_string().into_bytes(),
        served: None,
    };
    let mut entries = vec![entry.encode()];
    if keep == Keep::RecordAndBody {
        entries.push(
            Entry {
                kind: EntryKind::Recorded,
                account: "123456789012".into(),
                record: body.to_vec(),
                served: None,
            }
            .encode(),
        );
    }
    if journal.append(entries).wait().await.is_err() {
        return status(StatusCode::SERVICE_UNAVAILABLE);
    }
    let answer: &'static [u8] = match keep {
        Keep::Record => b"{\"trailList\":[]}",
        Keep::RecordAndBody => b"{}",
    };
    let mut r = Response::new(Full::new(Bytes::from_static(answer)));
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    r
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = code;
    r
}
