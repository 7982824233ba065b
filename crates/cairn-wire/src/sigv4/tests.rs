//! Verification against AWS's published SigV4 examples, error cases, and a no-panic property
//! test over arbitrary input.

use super::*;
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;

const IAM_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const S3_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

fn ms(amz: &str) -> i64 {
    parse::parse_amz_date(amz).unwrap()
}

fn key(secret: &str) -> KeySecret<'_> {
    KeySecret {
        secret_access_key: secret,
        session_token: None,
        expires_ms: None,
    }
}

/// AWS General Reference, "Create a signed AWS API request" (IAM ListUsers).
fn iam_example() -> HeaderMap {
    headers(&[
        (
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
        ("host", "iam.amazonaws.com"),
        ("x-amz-date", "20150830T123600Z"),
        (
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
        ),
    ])
}

#[test]
fn aws_documented_header_example_verifies() {
    let h = iam_example();
    let parts = RequestParts {
        method: "GET",
        raw_path: "/",
        raw_query: Some("Action=ListUsers&Version=2010-05-08"),
        headers: &h,
    };
    let auth = parse(&parts).unwrap().unwrap();
    assert_eq!(auth.access_key_id, "AKIDEXAMPLE");
    assert_eq!(auth.scope.service, "iam");
    let now = ms("20150830T123600Z");
    verify(&auth, &parts, &key(IAM_SECRET), b"", now).unwrap();
    // Wrong secret, tampered query, skewed clock.
    assert!(matches!(
        verify(&auth, &parts, &key("other"), b"", now),
        Err(SigV4Error::BadSignature { .. })
    ));
    let tampered = RequestParts {
        raw_query: Some("Action=ListUsers&Version=2010-05-09"),
        ..parts
    };
    assert!(matches!(
        verify(&auth, &tampered, &key(IAM_SECRET), b"", now),
        Err(SigV4Error::BadSignature { .. })
    ));
    assert!(matches!(
        verify(&auth, &parts, &key(IAM_SECRET), b"", now + 16 * 60 * 1000),
        Err(SigV4Error::Skewed { .. })
    ));
    assert!(verify(&auth, &parts, &key(IAM_SECRET), b"", now + 14 * 60 * 1000).is_ok());
}

/// Amazon S3 API Reference, "Authenticating Requests: Using Query Parameters" example.
#[test]
fn aws_documented_presigned_s3_example_verifies() {
    let h = headers(&[("host", "examplebucket.s3.amazonaws.com")]);
    let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    let parts = RequestParts {
        method: "GET",
        raw_path: "/test.txt",
        raw_query: Some(q),
        headers: &h,
    };
    let auth = parse(&parts).unwrap().unwrap();
    assert_eq!(auth.kind, AuthKind::Presigned { expires_s: 86400 });
    let start = ms("20130524T000000Z");
    verify(&auth, &parts, &key(S3_SECRET), b"", start + 3_600_000).unwrap();
    assert!(matches!(
        verify(&auth, &parts, &key(S3_SECRET), b"", start + 86_401_000),
        Err(SigV4Error::PresignExpired { .. })
    ));
}

/// Amazon S3 API Reference, "Signature Calculations for the Authorization Header" GET example.
#[test]
fn aws_documented_s3_header_example_verifies() {
    let h = headers(&[
        ("host", "examplebucket.s3.amazonaws.com"),
        ("range", "bytes=0-9"),
        (
            "x-amz-content-sha256",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        ("x-amz-date", "20130524T000000Z"),
        (
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        ),
    ]);
    let parts = RequestParts {
        method: "GET",
        raw_path: "/test.txt",
        raw_query: None,
        headers: &h,
    };
    let auth = parse(&parts).unwrap().unwrap();
    verify(&auth, &parts, &key(S3_SECRET), b"", ms("20130524T000000Z")).unwrap();
}

#[test]
fn parse_errors() {
    let none = HeaderMap::new();
    let p = |h: &HeaderMap, q: Option<&'static str>| {
        parse(&RequestParts {
            method: "POST",
            raw_path: "/",
            raw_query: q,
            headers: h,
        })
        .map(|_| ())
    };
    assert_eq!(p(&none, None), Ok(()));
    let h = headers(&[(
        "authorization",
        "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
    )]);
    assert!(matches!(p(&h, None), Err(SigV4Error::Incomplete(m)) if m.contains("'Credential'")));
    let h = headers(&[
        (
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/iam/aws5_request, SignedHeaders=host, Signature=00",
        ),
        ("x-amz-date", "20150830T123600Z"),
    ]);
    assert_eq!(
        p(&h, None),
        Err(SigV4Error::BadTerminator("aws5_request".into()))
    );
    let h = headers(&[
        (
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AK/20150831/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00",
        ),
        ("x-amz-date", "20150830T123600Z"),
    ]);
    assert!(matches!(
        p(&h, None),
        Err(SigV4Error::ScopeDateMismatch { .. })
    ));
    let h = headers(&[("authorization", "AWS AKID:sig")]);
    assert!(matches!(
        p(&h, None),
        Err(SigV4Error::UnsupportedAlgorithm(_))
    ));
    assert!(matches!(
        p(
            &none,
            Some("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a")
        ),
        Err(SigV4Error::QueryParams(_))
    ));
}

fn verify_iam_example(h: &HeaderMap, key: &KeySecret<'_>) -> Result<(), SigV4Error> {
    let parts = RequestParts {
        method: "GET",
        raw_path: "/",
        raw_query: Some("Action=ListUsers&Version=2010-05-08"),
        headers: h,
    };
    let auth = parse(&parts).unwrap().unwrap();
    verify(&auth, &parts, key, b"", ms("20150830T123600Z"))
}

#[test]
fn session_tokens_must_match() {
    let with_token = KeySecret {
        secret_access_key: IAM_SECRET,
        session_token: Some("tok"),
        expires_ms: None,
    };
    let mut h = iam_example();
    assert_eq!(
        verify_iam_example(&h, &with_token),
        Err(SigV4Error::InvalidToken)
    );
    h.insert("x-amz-security-token", HeaderValue::from_static("other"));
    assert_eq!(
        verify_iam_example(&h, &with_token),
        Err(SigV4Error::InvalidToken)
    );
    // A token sent with a long-term key is refused too.
    assert_eq!(
        verify_iam_example(&h, &key(IAM_SECRET)),
        Err(SigV4Error::InvalidToken)
    );
    let expired = KeySecret {
        secret_access_key: IAM_SECRET,
        session_token: None,
        expires_ms: Some(ms("20150830T120000Z")),
    };
    assert_eq!(
        verify_iam_example(&iam_example(), &expired),
        Err(SigV4Error::ExpiredToken)
    );
}

#[test]
fn credentials_that_cannot_be_checked_are_a_temporary_failure_in_every_protocol() {
    let e = SigV4Error::Unavailable;
    for protocol in [
        Protocol::Json11,
        Protocol::of_service("sts"),
        Protocol::RestXml,
    ] {
        let a = e.to_aws_error(protocol, Some("AKIA"));
        assert_eq!((a.status, a.code.as_ref()), (503, "ServiceUnavailable"));
    }
}

#[test]
fn error_shapes_per_protocol() {
    let e = SigV4Error::UnknownKey;
    assert_eq!(
        e.to_aws_error(Protocol::Json11, None).code,
        "UnrecognizedClientException"
    );
    assert_eq!(
        e.to_aws_error(Protocol::of_service("sts"), None).status,
        403
    );
    assert_eq!(
        e.to_aws_error(Protocol::RestXml, Some("AKIA")).code,
        "InvalidAccessKeyId"
    );
    let skew = SigV4Error::Skewed {
        amz_date: "20150830T123600Z".into(),
        now_ms: ms("20150830T130000Z"),
    };
    let m = skew.to_aws_error(Protocol::Json11, None).message;
    assert_eq!(
        m,
        "Signature expired: 20150830T123600Z is now earlier than 20150830T124500Z (20150830T130000Z - 15 min.)"
    );
}

use crate::protocol::Protocol;

proptest! {
    #[test]
    fn parser_never_panics(auth in ".{0,300}", query in ".{0,300}", date in ".{0,40}", path in ".{0,100}") {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&auth) { h.insert("authorization", v); }
        if let Ok(v) = HeaderValue::from_str(&date) { h.insert("x-amz-date", v); }
        let parts = RequestParts { method: "GET", raw_path: &path, raw_query: Some(&query), headers: &h };
        if let Ok(Some(a)) = parse(&parts) {
            let _ = verify(&a, &parts, &key("s"), b"body", 0);
        }
        let parts = RequestParts { raw_query: Some(&query), headers: &HeaderMap::new(), ..parts };
        if let Ok(Some(a)) = parse(&parts) {
            let _ = verify(&a, &parts, &key("s"), b"", i64::MAX / 4);
        }
    }

    #[test]
    fn structured_auth_headers_never_panic(
        cred in "[A-Za-z0-9/_-]{0,80}", sh in "[a-z;-]{0,40}", sig in "[0-9a-fA-F]{0,70}",
        date in "[0-9TZ]{0,20}",
    ) {
        let mut h = HeaderMap::new();
        let v = format!("AWS4-HMAC-SHA256 Credential={cred}, SignedHeaders={sh}, Signature={sig}");
        h.insert("authorization", HeaderValue::from_str(&v).unwrap());
        if let Ok(v) = HeaderValue::from_str(&date) { h.insert("x-amz-date", v); }
        let parts = RequestParts { method: "POST", raw_path: "/", raw_query: None, headers: &h };
        if let Ok(Some(a)) = parse(&parts) {
            let _ = verify(&a, &parts, &key("s"), b"{}", a.request_time_ms);
        }
    }
}

#[test]
fn own_signer_round_trips_through_verification() {
    let mut h = headers(&[
        ("host", "127.0.0.1:4566"),
        ("content-type", "application/x-amz-json-1.1"),
    ]);
    let key = SigningKey {
        access_key_id: "AKIA1",
        secret_access_key: "s3cr3t",
        region: "eu-west-1",
        service: "cloudtrail",
    };
    let now = ms("20240501T010203Z");
    sign(&key, "POST", "/", None, &mut h, b"{}", now);
    let parts = RequestParts {
        method: "POST",
        raw_path: "/",
        raw_query: None,
        headers: &h,
    };
    let auth = parse(&parts).unwrap().unwrap();
    assert_eq!(auth.scope.region, "eu-west-1");
    verify(&auth, &parts, &super::tests::key("s3cr3t"), b"{}", now).unwrap();
    assert!(verify(&auth, &parts, &super::tests::key("s3cr3t"), b"{ }", now).is_err());
}

fn signed(service: &str, extra: &[(&'static str, &str)], body: &[u8]) -> (HeaderMap, i64) {
    let mut h = headers(&[("host", "127.0.0.1:4566")]);
    for (k, v) in extra {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    let key = SigningKey {
        access_key_id: "AKIA1",
        secret_access_key: "s3cr3t",
        region: "us-east-1",
        service,
    };
    let now = ms("20240501T010203Z");
    sign(&key, "POST", "/", None, &mut h, body, now);
    (h, now)
}

#[test]
fn a_claimed_payload_hash_does_not_unbind_the_body_outside_s3() {
    // The attack: an unsigned x-amz-content-sha256 naming the signed body's hash, sent
    // with another body. Services other than S3 hash what they receive.
    let (mut h, now) = signed("iam", &[], b"Action=ListUsers");
    h.insert(
        "x-amz-content-sha256",
        HeaderValue::from_str(&sha256_hex(b"Action=ListUsers")).unwrap(),
    );
    let parts = RequestParts {
        method: "POST",
        raw_path: "/",
        raw_query: None,
        headers: &h,
    };
    let auth = parse(&parts).unwrap().unwrap();
    assert_eq!(
        PayloadHash::of_request(&auth, &parts).unwrap(),
        PayloadHash::OfBody
    );
    verify(&auth, &parts, &key("s3cr3t"), b"Action=ListUsers", now).unwrap();
    assert!(matches!(
        verify(&auth, &parts, &key("s3cr3t"), b"Action=CreateUser", now),
        Err(SigV4Error::BadSignature { .. })
    ));
}

#[test]
fn s3_signatures_declare_their_payload() {
    let body = b"object";
    let (h, _) = signed("s3", &[], body);
    let parts = RequestParts {
        method: "POST",
        raw_path: "/",
        raw_query: None,
        headers: &h,
    };
    let auth = parse(&parts).unwrap().unwrap();
    assert_eq!(
        PayloadHash::of_request(&auth, &parts),
        Err(SigV4Error::MissingContentSha256)
    );
    let (h, _) = signed("s3", &[("x-amz-content-sha256", "nope")], body);
    let parts = RequestParts {
        headers: &h,
        ..parts
    };
    let auth = parse(&parts).unwrap().unwrap();
    assert_eq!(
        PayloadHash::of_request(&auth, &parts),
        Err(SigV4Error::InvalidContentSha256("nope".into()))
    );
    let e = SigV4Error::InvalidContentSha256("nope".into()).to_aws_error(Protocol::RestXml, None);
    assert_eq!((e.status, e.code.as_ref()), (400, "InvalidArgument"));
    let sha = sha256_hex(body);
    let (h, _) = signed("s3", &[("x-amz-content-sha256", &sha)], body);
    let parts = RequestParts {
        headers: &h,
        ..parts
    };
    let auth = parse(&parts).unwrap().unwrap();
    let p = PayloadHash::of_request(&auth, &parts).unwrap();
    assert!(!p.needs_body());
    assert_eq!(p.resolve(b"ignored"), sha);
}

#[test]
fn host_must_be_signed() {
    let h = headers(&[
        ("host", "127.0.0.1"),
        ("x-amz-date", "20240501T010203Z"),
        (
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIA1/20240501/us-east-1/sts/aws4_request, SignedHeaders=x-amz-date, Signature=00",
        ),
    ]);
    let parts = RequestParts {
        method: "POST",
        raw_path: "/",
        raw_query: None,
        headers: &h,
    };
    assert_eq!(parse(&parts), Err(SigV4Error::HostNotSigned));
    let e = SigV4Error::HostNotSigned.to_aws_error(Protocol::RestXml, None);
    assert_eq!((e.status, e.code.as_ref()), (403, "AccessDenied"));
    let e = SigV4Error::HostNotSigned.to_aws_error(Protocol::Json11, None);
    assert_eq!(e.code, "IncompleteSignatureException");
}
