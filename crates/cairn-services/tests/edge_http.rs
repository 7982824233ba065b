//! The edge over HTTP, in-process: signed calls are answered and recorded before the answer,
//! unsigned ones are refused, and the record's requestID is the response's request id.

mod common;

use cairn_model::{Clock, SystemClock};

use cairn_store::identity::AccessKey;
use common::{Server, header, start};
use serde_json::{Value, json};

/// Sends one request and returns (status, lower-cased headers, body).
async fn post(
    s: &Server,
    target: &str,
    body: &Value,
    signed: bool,
) -> (u16, Vec<(String, String)>, Value) {
    post_as(s, &s.key, target, body, signed).await
}

/// Sends one CloudTrail request signed with `key` (and its session token, if it has one).
async fn post_as(
    s: &Server,
    key: &AccessKey,
    target: &str,
    body: &Value,
    signed: bool,
) -> (u16, Vec<(String, String)>, Value) {
    let body = body.to_string();
    let (status, headers, body) = common::json_call(
        s,
        key,
        signed.then_some("cloudtrail"),
        format!("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.{target}"),
        body.as_bytes(),
    )
    .await;
    (
        status,
        headers,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
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
