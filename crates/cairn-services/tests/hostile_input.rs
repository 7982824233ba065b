//! Hostile input through real sockets: every operation of every service fed random, signed
//! input, and random bytes fed to the socket. Nothing may crash the server or answer an
//! internal error; a well-formed AWS error is the worst a caller can get.

mod common;

use cairn_services::{cloudtrail, iam, kms, sts};
use common::{Raw, Server, json_call, send, start};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Member names the services read, so that random input reaches past "missing parameter".
const MEMBERS: &[&str] = &[
    "Name",
    "TrailName",
    "S3BucketName",
    "S3KeyPrefix",
    "KmsKeyId",
    "IsMultiRegionTrail",
    "EnableLogFileValidation",
    "EventSelectors",
    "AdvancedEventSelectors",
    "FieldSelectors",
    "Field",
    "Equals",
    "StartsWith",
    "LookupAttributes",
    "AttributeKey",
    "AttributeValue",
    "StartTime",
    "EndTime",
    "MaxResults",
    "NextToken",
    "ResourceId",
    "ResourceIdList",
    "TagsList",
    "Key",
    "Value",
    "KeyId",
    "CiphertextBlob",
    "Plaintext",
    "Policy",
    "PolicyName",
    "EncryptionContext",
    "GrantTokens",
    "KeySpec",
    "KeyUsage",
    "NumberOfBytes",
    "AliasName",
    "TargetKeyId",
    "PendingWindowInDays",
    "Description",
    "Tags",
    "TagKey",
    "TagValue",
    "trailNameList",
    "includeShadowTrails",
];

const FORM_KEYS: &[&str] = &[
    "UserName",
    "NewUserName",
    "GroupName",
    "RoleName",
    "Path",
    "PathPrefix",
    "PolicyName",
    "PolicyArn",
    "PolicyDocument",
    "AssumeRolePolicyDocument",
    "VersionId",
    "SetAsDefault",
    "AccessKeyId",
    "Status",
    "Password",
    "Marker",
    "MaxItems",
    "SerialNumber",
    "VirtualMFADeviceName",
    "AuthenticationCode1",
    "AuthenticationCode2",
    "AccountAlias",
    "RoleArn",
    "RoleSessionName",
    "DurationSeconds",
    "ExternalId",
    "TokenCode",
    "MaxSessionDuration",
    "Tags.member.1.Key",
    "Tags.member.1.Value",
    "PolicyArns.member.1.arn",
    "Filter.member.1",
    "Scope",
    "OnlyAttached",
];

fn random_string(rng: &mut StdRng) -> String {
    const SPICE: &[&str] = &[
        "",
        "arn:aws:iam::123456789012:user/x",
        "arn:aws:cloudtrail:us-east-1:123456789012:trail/t",
        "alias/aws/s3",
        "*",
        "/",
        "{\"Version\":\"2012-10-17\",\"Statement\":[]}",
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}",
        "AAAA",
        "\u{0}\u{1}\u{7f}",
        "é🚀",
        "-1",
        "99999999999999999999999",
        "2026-13-45T99:99:99Z",
        "..//..",
        "%00%ff",
    ];
    match rng.gen_range(0..4) {
        0 => SPICE[rng.gen_range(0..SPICE.len())].to_owned(),
        1 => "x".repeat(rng.gen_range(0..3000)),
        2 => (0..rng.gen_range(0..40))
            .map(|_| char::from_u32(rng.gen_range(0x20..0x2fff)).unwrap_or('?'))
            .collect(),
        _ => format!("t{}", rng.gen_range(0..5)),
    }
}

fn random_value(rng: &mut StdRng, depth: u32) -> Value {
    let pick = if depth >= 4 {
        rng.gen_range(0..5)
    } else {
        rng.gen_range(0..8)
    };
    match pick {
        0 => Value::Null,
        1 => json!(rng.r#gen::<bool>()),
        2 => json!(rng.r#gen::<i64>()),
        3 => json!(rng.r#gen::<f64>() * 1e12),
        4 => json!(random_string(rng)),
        5 | 6 => Value::Object(random_object(rng, depth + 1)),
        _ => Value::Array(
            (0..rng.gen_range(0..6))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
    }
}

fn random_object(rng: &mut StdRng, depth: u32) -> Map<String, Value> {
    (0..rng.gen_range(0..6))
        .map(|_| {
            let k = if rng.gen_bool(0.9) {
                MEMBERS[rng.gen_range(0..MEMBERS.len())].to_owned()
            } else {
                random_string(rng)
            };
            (k, random_value(rng, depth))
        })
        .collect()
}

/// Which error codes the services answered, so a run can show its input reached them.
#[derive(Default)]
struct Seen(std::collections::BTreeMap<String, usize>);

impl Seen {
    fn note(&mut self, status: u16, body: &[u8]) {
        let text = String::from_utf8_lossy(body);
        let code = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v["__type"].as_str().map(str::to_owned))
            .or_else(|| {
                let start = text.find("<Code>")? + 6;
                let end = text[start..].find("</Code>")? + start;
                Some(text[start..end].to_owned())
            })
            .unwrap_or_else(|| format!("{status}"));
        *self.0.entry(code).or_default() += 1;
    }

    /// The input got past authentication and parsing into the operations themselves: some
    /// calls succeeded and the refusals are many and varied.
    fn assert_reached_operations(&self, min_kinds: usize) {
        println!("{:?}", self.0);
        assert!(
            self.0.contains_key("200"),
            "no call succeeded: {:?}",
            self.0
        );
        for auth in [
            "InvalidSignatureException",
            "SignatureDoesNotMatch",
            "IncompleteSignature",
        ] {
            assert!(!self.0.contains_key(auth), "signing failed: {:?}", self.0);
        }
        assert!(
            self.0.len() >= min_kinds,
            "too few kinds of answer: {:?}",
            self.0
        );
    }
}

fn assert_no_internal_error(what: &str, status: u16, body: &[u8]) {
    assert!(
        status != 500 && status != 503 && (200..600).contains(&status),
        "{what} answered {status}: {}",
        String::from_utf8_lossy(body)
    );
}

async fn still_serving(s: &Server) {
    let (status, _, body) = json_call(
        s,
        &s.key,
        Some("cloudtrail"),
        "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails".into(),
        b"{}",
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_json_operation_survives_random_input() {
    let s = start().await;
    let mut rng = StdRng::seed_from_u64(0x0ca1_4e11);
    let mut seen = Seen::default();
    let services: [(&str, &str, &[&str]); 2] = [
        (
            "cloudtrail",
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.",
            &cloudtrail::OPERATIONS,
        ),
        ("kms", "TrentService.", &kms::OPERATIONS),
    ];
    for (service, prefix, ops) in services {
        for op in ops {
            for round in 0..6 {
                let body = match round {
                    0 => b"{".to_vec(),
                    1 => b"[1,2,3]".to_vec(),
                    2 => "[".repeat(10_000).into_bytes(),
                    _ => Value::Object(random_object(&mut rng, 0))
                        .to_string()
                        .into_bytes(),
                };
                let (status, _, answer) =
                    json_call(&s, &s.key, Some(service), format!("{prefix}{op}"), &body).await;
                assert_no_internal_error(&format!("{service}:{op}"), status, &answer);
                seen.note(status, &answer);
                if status >= 400 {
                    let v: Value = serde_json::from_slice(&answer).expect("a JSON error");
                    assert!(v["__type"].is_string(), "{service}:{op}: {v}");
                }
            }
        }
    }
    seen.assert_reached_operations(6);
    still_serving(&s).await;
}

fn form_encode(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                percent_encoding::utf8_percent_encode(k, percent_encoding::NON_ALPHANUMERIC),
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_query_operation_survives_random_forms() {
    let s = start().await;
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let mut seen = Seen::default();
    let services: [(&str, &str, &[&str]); 2] = [
        ("iam", "2010-05-08", &iam::OPERATIONS),
        ("sts", "2011-06-15", &sts::OPERATIONS),
    ];
    for (service, version, ops) in services {
        for op in ops {
            for _ in 0..4 {
                let mut pairs = vec![
                    ("Action".to_owned(), (*op).to_owned()),
                    ("Version".to_owned(), version.to_owned()),
                ];
                for _ in 0..rng.gen_range(0..6) {
                    let k = FORM_KEYS[rng.gen_range(0..FORM_KEYS.len())].to_owned();
                    pairs.push((k, random_string(&mut rng)));
                }
                let body = form_encode(&pairs);
                let (status, _, answer) = send(
                    &s,
                    &s.key,
                    Raw {
                        service: Some(service),
                        method: "POST",
                        path: "/",
                        query: None,
                        headers: vec![(
                            "content-type",
                            "application/x-www-form-urlencoded; charset=utf-8".into(),
                        )],
                        body: body.as_bytes(),
                    },
                )
                .await;
                assert_no_internal_error(&format!("{service}:{op}"), status, &answer);
                seen.note(status, &answer);
                let text = String::from_utf8_lossy(&answer);
                let shaped = if status >= 400 {
                    text.contains("<ErrorResponse") && text.contains("<Code>")
                } else {
                    text.contains(&format!("<{op}Response"))
                };
                assert!(shaped, "{service}:{op} answered {status}: {text}");
            }
        }
    }
    seen.assert_reached_operations(5);
    still_serving(&s).await;
}

fn random_xml(rng: &mut StdRng) -> Vec<u8> {
    const TAGS: &[&str] = &[
        "Delete",
        "Object",
        "Key",
        "Quiet",
        "VersioningConfiguration",
        "Status",
        "MfaDelete",
        "ServerSideEncryptionConfiguration",
        "Rule",
        "ApplyServerSideEncryptionByDefault",
        "SSEAlgorithm",
        "KMSMasterKeyID",
        "CreateBucketConfiguration",
        "LocationConstraint",
        "CompleteMultipartUpload",
        "Part",
        "PartNumber",
        "ETag",
        "AccessControlPolicy",
        "Owner",
        "ID",
        "AccessControlList",
        "Grant",
        "Grantee",
        "Permission",
    ];
    let mut out = String::new();
    let mut open: Vec<&str> = Vec::new();
    for _ in 0..rng.gen_range(0..40) {
        match rng.gen_range(0..5) {
            0 | 1 => {
                let t = TAGS[rng.gen_range(0..TAGS.len())];
                out.push_str(&format!("<{t}>"));
                open.push(t);
            }
            2 => {
                if let Some(t) = open.pop() {
                    out.push_str(&format!("</{t}>"));
                }
            }
            3 => out.push_str(&cairn_wire::xml::escape(&random_string(rng))),
            _ => out.push_str(
                ["&bogus;", "<![CDATA[x]]>", "<?pi?>", "<!--c-->", "</x>"][rng.gen_range(0..5)],
            ),
        }
    }
    if rng.gen_bool(0.7) {
        while let Some(t) = open.pop() {
            out.push_str(&format!("</{t}>"));
        }
    }
    out.into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_request_documents_survive_random_xml() {
    let s = start().await;
    let mut rng = StdRng::seed_from_u64(0x53);
    let mut seen = Seen::default();
    let put = |path: &'static str, query: Option<&'static str>| (path, query);
    let targets = [
        ("PUT", put("/hostile-bucket", None)),
        ("PUT", put("/hostile-bucket", Some("versioning="))),
        ("PUT", put("/hostile-bucket", Some("encryption="))),
        ("PUT", put("/hostile-bucket", Some("acl="))),
        ("PUT", put("/hostile-bucket", Some("policy="))),
        ("POST", put("/hostile-bucket", Some("delete="))),
        ("POST", put("/hostile-bucket/k", Some("uploadId=nope"))),
    ];
    for round in 0..40 {
        for (method, (path, query)) in targets {
            let body = if round == 0 {
                format!("{}{}", "<a>".repeat(20_000), "</a>".repeat(20_000)).into_bytes()
            } else {
                random_xml(&mut rng)
            };
            let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body));
            let md5 = base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                <md5::Md5 as md5::Digest>::digest(&body),
            );
            let (status, _, answer) = send(
                &s,
                &s.key,
                Raw {
                    service: Some("s3"),
                    method,
                    path,
                    query,
                    headers: vec![("x-amz-content-sha256", sha), ("content-md5", md5)],
                    body: &body,
                },
            )
            .await;
            assert_no_internal_error(&format!("{method} {path}?{query:?}"), status, &answer);
            seen.note(status, &answer);
        }
    }
    seen.assert_reached_operations(4);
    still_serving(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_bytes_on_the_socket_never_take_the_server_down() {
    let s = start().await;
    let mut rng = StdRng::seed_from_u64(0xb17e5);
    let prefixes: &[&[u8]] = &[
        b"",
        b"GET / HTTP/1.1\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nAuthorization: AWS4-HMAC-SHA256 ",
        b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: TrentService.Decrypt\r\nAuthorization: ",
    ];
    for _ in 0..300 {
        let mut bytes = prefixes[rng.gen_range(0..prefixes.len())].to_vec();
        for _ in 0..rng.gen_range(0..600) {
            bytes.push(if rng.gen_bool(0.5) {
                rng.r#gen::<u8>()
            } else {
                b"\r\n:=&,/ aZ0%"[rng.gen_range(0..12)]
            });
        }
        bytes.extend_from_slice(b"\r\n\r\n");
        let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
        let _ = stream.write_all(&bytes).await;
        let _ = stream.shutdown().await;
        let mut sink = Vec::new();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            stream.read_to_end(&mut sink),
        )
        .await;
        assert!(read.is_ok(), "the server held a garbage connection open");
        if let Some(status) = sink
            .get(9..12)
            .and_then(|s| std::str::from_utf8(s).ok())
            .and_then(|s| s.parse::<u16>().ok())
        {
            assert_no_internal_error("garbage", status, &sink);
        }
    }
    still_serving(&s).await;
}
