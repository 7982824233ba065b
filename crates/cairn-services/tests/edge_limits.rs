//! The edge's limits over real sockets, with timeouts shortened so they can be watched:
//! silent clients are dropped, silent bodies answered `RequestTimeout`, the connection cap
//! holds newcomers in the backlog, and unverified bodies share one budget.

mod common;

use std::time::{Duration, Instant};

use cairn_services::edge::Limits;
use common::{Raw, send, start_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn short() -> Limits {
    Limits {
        header_timeout: Duration::from_millis(300),
        body_silence_timeout: Duration::from_millis(300),
        ..Default::default()
    }
}

async fn read_all(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_send_nothing_or_half_a_header_are_dropped() {
    let s = start_with(short()).await;
    let began = Instant::now();
    let mut idle = TcpStream::connect(s.addr).await.unwrap();
    let mut half = TcpStream::connect(s.addr).await.unwrap();
    half.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nX-Slow")
        .await
        .unwrap();
    assert!(read_all(&mut idle).await.is_empty());
    assert!(read_all(&mut half).await.is_empty());
    let waited = began.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_goes_silent_is_answered_request_timeout() {
    let s = start_with(short()).await;
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    // An S3 PUT whose signature checks out on its headers: the body is then awaited.
    let mut h = http::HeaderMap::new();
    h.insert("host", s.addr.to_string().parse().unwrap());
    h.insert("x-amz-content-sha256", "UNSIGNED-PAYLOAD".parse().unwrap());
    cairn_wire::sigv4::sign(
        &cairn_wire::sigv4::SigningKey {
            access_key_id: &s.key.access_key_id,
            secret_access_key: &s.key.secret_access_key,
            region: "us-east-1",
            service: "s3",
        },
        "PUT",
        "/b/k",
        None,
        &mut h,
        b"",
        <cairn_model::SystemClock as cairn_model::Clock>::now_millis(&cairn_model::SystemClock),
    );
    let mut req = String::from("PUT /b/k HTTP/1.1\r\ncontent-length: 100\r\n");
    for (k, v) in &h {
        req.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
    }
    req.push_str("\r\nonly a few bytes");
    c.write_all(req.as_bytes()).await.unwrap();
    let answer = String::from_utf8(read_all(&mut c).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("<Code>RequestTimeout</Code>"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_holds_newcomers_until_a_slot_frees() {
    let s = start_with(Limits {
        max_connections: 2,
        header_timeout: Duration::from_secs(30),
        ..Default::default()
    })
    .await;
    let a = TcpStream::connect(s.addr).await.unwrap();
    let b = TcpStream::connect(s.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The third call is connected by the kernel but not served while both slots are held.
    let key = s.key.clone();
    let third = {
        let s = &s;
        async move {
            send(
                s,
                &key,
                Raw {
                    service: Some("sts"),
                    method: "POST",
                    path: "/",
                    query: None,
                    headers: vec![("content-type", "application/x-www-form-urlencoded".into())],
                    body: b"Action=GetCallerIdentity&Version=2011-06-15",
                },
            )
            .await
        }
    };
    tokio::pin!(third);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut third)
            .await
            .is_err(),
        "served beyond the cap"
    );
    drop(a);
    let (status, _, body) = tokio::time::timeout(Duration::from_secs(5), third)
        .await
        .expect("served once a slot freed");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    drop(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unverified_bodies_share_one_budget() {
    let s = start_with(Limits {
        unverified_body_budget: 1000,
        ..Default::default()
    })
    .await;
    // A request naming a real key but not yet verifiable (its signature covers the body)
    // holds budget for what it has sent; a second one past the budget is refused 503.
    let target = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails";
    let head = |len: usize| {
        format!(
            "POST / HTTP/1.1\r\nconnection: close\r\nhost: {}\r\nx-amz-target: {target}\r\ncontent-type: application/x-amz-json-1.1\r\nx-amz-date: {}\r\nauthorization: AWS4-HMAC-SHA256 Credential={}/{}/us-east-1/cloudtrail/aws4_request, SignedHeaders=host;x-amz-date, Signature=00\r\ncontent-length: {len}\r\n\r\n",
            s.addr,
            cairn_wire::sigv4::amz_date(
                <cairn_model::SystemClock as cairn_model::Clock>::now_millis(
                    &cairn_model::SystemClock
                )
            ),
            s.key.access_key_id,
            &cairn_wire::sigv4::amz_date(
                <cairn_model::SystemClock as cairn_model::Clock>::now_millis(
                    &cairn_model::SystemClock
                )
            )[..8],
        )
    };
    let mut first = TcpStream::connect(s.addr).await.unwrap();
    first.write_all(head(5000).as_bytes()).await.unwrap();
    first.write_all(&[b' '; 900]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut second = TcpStream::connect(s.addr).await.unwrap();
    second.write_all(head(500).as_bytes()).await.unwrap();
    second.write_all(&[b' '; 500]).await.unwrap();
    let answer = String::from_utf8(read_all(&mut second).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("SlowDown"), "{answer}");
    // Once the first connection goes, its bytes are given back.
    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = TcpStream::connect(s.addr).await.unwrap();
    third.write_all(head(500).as_bytes()).await.unwrap();
    third.write_all(&[b' '; 500]).await.unwrap();
    let answer = String::from_utf8(read_all(&mut third).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("InvalidSignatureException"), "{answer}");
}
