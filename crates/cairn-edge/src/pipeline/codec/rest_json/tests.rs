#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::*;
use crate::pipeline::codec::fixtures::{LAMBDA, ops};
use crate::pipeline::codec::testing::{answer, body, context, request};

/// An operation's name and the labels its path filled.
type Routed = (&'static str, Vec<(&'static str, String)>);
/// A request: method, path, headers, body.
type Req<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, Vec<u8>);

fn route(method: &str, path: &str) -> Result<Routed, AwsError> {
    let req = request(method, path, &[]);
    LAMBDA
        .route(ops(), &req, &Bytes::new())
        .map(|(op, r)| (op.name, r.matched.labels))
}

fn hear(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Value, AwsError> {
    let req = request(method, path, headers);
    let body = Bytes::copy_from_slice(body);
    let (_, routed) = LAMBDA.route(ops(), &req, &body)?;
    LAMBDA.parse(routed, &req, body, &context())
}

#[test]
fn routes_by_method_and_template() {
    assert_eq!(
        route("POST", "/2015-03-31/functions").unwrap().0,
        "CreateFunction"
    );
    assert_eq!(
        route("GET", "/2015-03-31/functions").unwrap().0,
        "ListFunctions"
    );
    assert_eq!(
        route("GET", "/2015-03-31/functions/f").unwrap(),
        ("GetFunction", vec![("FunctionName", "f".to_owned())])
    );
    assert_eq!(
        route("DELETE", "/2015-03-31/functions/f").unwrap().0,
        "DeleteFunction"
    );
    // A label is one segment; an encoded slash inside it is the label's.
    assert_eq!(
        route("POST", "/2015-03-31/functions/a%2Fb/invocations").unwrap(),
        ("Invoke", vec![("FunctionName", "a/b".to_owned())])
    );
    // A literal query in the template wins over the same path without it.
    let pc = "/2019-09-30/functions/f/provisioned-concurrency";
    assert_eq!(
        route("GET", pc).unwrap().0,
        "GetProvisionedConcurrencyConfig"
    );
    assert_eq!(
        route("GET", &format!("{pc}?List=ALL")).unwrap().0,
        "ListProvisionedConcurrencyConfigs"
    );
    assert_eq!(
        route("GET", &format!("{pc}?List=SOME")).unwrap().0,
        "GetProvisionedConcurrencyConfig"
    );
    // A greedy label takes the rest of the path, slashes and all.
    assert_eq!(
        route("GET", "/things/b/a/b%20c/d.txt").unwrap(),
        (
            "GetThing",
            vec![
                ("Bucket", "b".to_owned()),
                ("Key", "a/b c/d.txt".to_owned())
            ]
        )
    );
    for (method, path) in [
        ("PUT", "/2015-03-31/functions"),
        ("GET", "/2015-03-31/functions/f/extra/segments"),
        ("GET", "/2015-03-31/functions/"),
        ("GET", "/things/b"),
        ("GET", "/things/b/"),
        ("GET", "/"),
    ] {
        let e = route(method, path).unwrap_err();
        assert_eq!(
            (e.status, &*e.code),
            (404, "UnknownOperationException"),
            "{method} {path}"
        );
    }
}

#[test]
fn binds_labels_query_headers_and_body_into_one_document() {
    let v = hear(
        "GET",
        "/things/b/k?tag=a&tag=b%20c&other=1",
        &[("x-strict", "true"), ("x-ratio", "0.5")],
        b"",
    )
    .unwrap();
    assert_eq!(
        v,
        json!({"Bucket": "b", "Key": "k", "Tags": ["a", "b c"], "Strict": true, "Ratio": 0.5})
    );
    let v = hear(
        "POST",
        "/2015-03-31/functions/f/policy?Qualifier=prod",
        &[],
        br#"{"StatementId": "s", "Action": "lambda:InvokeFunction"}"#,
    )
    .unwrap();
    assert_eq!(
        v,
        json!({"StatementId": "s", "Action": "lambda:InvokeFunction", "FunctionName": "f", "Qualifier": "prod"})
    );
    // A blob payload is the body's bytes, base64 in the document.
    let v = hear(
        "POST",
        "/2015-03-31/functions/f/invocations",
        &[("x-amz-log-type", "Tail")],
        &[0, 255, b'x'],
    )
    .unwrap();
    assert_eq!(
        v,
        json!({"Payload": "AP94", "FunctionName": "f", "LogType": "Tail"})
    );
}

#[test]
fn bad_input_is_a_serialization_exception() {
    let cases: Vec<Req<'_>> = vec![
        ("GET", "/2015-03-31/functions?MaxItems=ten", vec![], vec![]),
        ("GET", "/things/b/k", vec![("x-strict", "yes")], vec![]),
        ("GET", "/things/b/k", vec![("x-ratio", "NaN-ish")], vec![]),
        (
            "POST",
            "/2015-03-31/functions",
            vec![],
            b"{not json".to_vec(),
        ),
        ("POST", "/2015-03-31/functions", vec![], b"[1, 2]".to_vec()),
        (
            "POST",
            "/2015-03-31/functions",
            vec![],
            format!("{}{}", "[".repeat(40), "]".repeat(40)).into_bytes(),
        ),
    ];
    for (method, path, headers, body) in cases {
        let e = hear(method, path, &headers, &body).unwrap_err();
        assert_eq!(
            (e.status, &*e.code),
            (400, "SerializationException"),
            "{method} {path} {headers:?}"
        );
    }
}

#[test]
fn nesting_is_capped_at_32_levels() {
    let nested = |n: usize| format!("{}{{}}{}", r#"{"a":"#.repeat(n - 1), "}".repeat(n - 1));
    assert_eq!(
        bind::json_depth(nested(bind::MAX_DEPTH).as_bytes()),
        bind::MAX_DEPTH
    );
    assert_eq!(bind::json_depth(br#"{"a": "[[[[{{{{", "b": "\"[["}"#), 1);
    let ok = nested(bind::MAX_DEPTH);
    assert!(hear("POST", "/2015-03-31/functions", &[], ok.as_bytes()).is_ok());
    let over = nested(bind::MAX_DEPTH + 1);
    let e = hear("POST", "/2015-03-31/functions", &[], over.as_bytes()).unwrap_err();
    assert_eq!((e.status, &*e.code), (400, "SerializationException"));
    // Deep enough to overflow a recursive parser's stack: refused before parsing.
    let deep = "[".repeat(1_000_000);
    let e = hear("POST", "/2015-03-31/functions", &[], deep.as_bytes()).unwrap_err();
    assert_eq!(e.code, "SerializationException");
}

#[test]
fn answers_take_status_headers_and_payload_from_the_document() {
    let op = crate::pipeline::operation::find(ops(), "Invoke").unwrap();
    let out = json!({"StatusCode": 202, "FunctionError": "Unhandled", "ExecutedVersion": "$LATEST", "Payload": "AP94"});
    let (parts, b) = body(LAMBDA.encode(op, out, &answer(Protocol::RestJson)));
    assert_eq!(parts.status, 202);
    assert_eq!(parts.headers["x-amz-function-error"], "Unhandled");
    assert_eq!(parts.headers["x-amz-executed-version"], "$LATEST");
    assert_eq!(parts.headers["content-type"], "application/octet-stream");
    assert_eq!(&b[..], &[0, 255, b'x']);

    let op = crate::pipeline::operation::find(ops(), "CreateFunction").unwrap();
    let (parts, b) = body(LAMBDA.encode(
        op,
        json!({"FunctionName": "f"}),
        &answer(Protocol::RestJson),
    ));
    assert_eq!(parts.status, 201);
    assert_eq!(parts.headers["content-type"], "application/json");
    assert_eq!(
        serde_json::from_slice::<Value>(&b).unwrap(),
        json!({"FunctionName": "f"})
    );

    let op = crate::pipeline::operation::find(ops(), "DeleteFunction").unwrap();
    let (parts, b) = body(LAMBDA.encode(op, json!({}), &answer(Protocol::RestJson)));
    assert_eq!((parts.status.as_u16(), b.len()), (204, 0));
}

#[test]
fn errors_name_their_type_in_a_header_and_the_body() {
    let e = AwsError::new(404, "ResourceNotFoundException", "Function not found: f");
    let (parts, b) = body(LAMBDA.error(&e, &answer(Protocol::RestJson)));
    assert_eq!(parts.status, 404);
    assert_eq!(
        parts.headers["x-amzn-errortype"],
        "ResourceNotFoundException"
    );
    assert_eq!(parts.headers["content-type"], "application/json");
    assert_eq!(
        serde_json::from_slice::<Value>(&b).unwrap(),
        json!({"__type": "ResourceNotFoundException", "message": "Function not found: f"})
    );
}

proptest::proptest! {
    #[test]
    fn any_path_routes_or_is_refused(path in "/[a-z0-9%/{}+?=&.-]{0,60}") {
        let _ = route("GET", &path);
    }
}
