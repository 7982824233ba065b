//! Cross-checks against botocore. Requests that botocore's own serializers made on real
//! operations (`tests/fixtures/codecs/requests.json`, see `make_requests.py` there) must decode
//! to the exact documents recorded beside them; and the answers cairn encodes here are kept in
//! `tests/fixtures/codecs/responses.json`, which `e2e/test_codecs.py` parses with botocore's
//! parsers. This test fails if what cairn encodes drifts from that file; set
//! `CAIRN_UPDATE_FIXTURES=1` to rewrite it (then run the e2e test again).

#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use cairn_wire::{AwsError, Protocol};
use serde_json::{Value, json};

use super::cbor::CborCodec;
use super::json::JsonCodec;
use super::multi::MultiCodec;
use super::query::QueryCodec;
use super::rest_json::RestJsonCodec;
use super::rest_json::route::{At, Binding, Kind, Payload, PayloadKind, Route};
use super::shape::Shape;
use super::shaped_query::ShapedQueryCodec;
use super::testing::{answer, body, context, request};
use super::{Codec, WireRequest};
use crate::pipeline::operation::Operation;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/codecs");

// CloudWatch's output shapes with timestamps or blobs (from its model).
static ALARM: Shape = Shape::Structure(&[
    ("AlarmConfigurationUpdatedTimestamp", &Shape::Timestamp),
    ("StateUpdatedTimestamp", &Shape::Timestamp),
    ("StateTransitionedTimestamp", &Shape::Timestamp),
]);
static DESCRIBE_ALARMS: Shape = Shape::Structure(&[
    ("MetricAlarms", &Shape::List(&ALARM)),
    ("CompositeAlarms", &Shape::List(&ALARM)),
]);
static RESULT: Shape = Shape::Structure(&[("Timestamps", &Shape::List(&Shape::Timestamp))]);
static GET_METRIC_DATA: Shape = Shape::Structure(&[("MetricDataResults", &Shape::List(&RESULT))]);
static WIDGET: Shape = Shape::Structure(&[("MetricWidgetImage", &Shape::Blob)]);

static CLOUDWATCH_OUTPUTS: [(&str, &Shape); 3] = [
    ("DescribeAlarms", &DESCRIBE_ALARMS),
    ("GetMetricData", &GET_METRIC_DATA),
    ("GetMetricWidgetImage", &WIDGET),
];

static CLOUDWATCH: MultiCodec = MultiCodec {
    cbor: CborCodec {
        service: "GraniteServiceVersion20100801",
        outputs: &CLOUDWATCH_OUTPUTS,
        query_compatible: true,
    },
    json: JsonCodec {
        protocol: Protocol::Json10,
        target_prefixes: &["GraniteServiceVersion20100801."],
    },
    // Answers only: the query requests need CloudWatch's input shapes (see below).
    query: Some(ShapedQueryCodec {
        query: QueryCodec {
            version: "2010-08-01",
            xmlns: "http://monitoring.amazonaws.com/doc/2010-08-01/",
        },
        inputs: &[],
        outputs: &CLOUDWATCH_OUTPUTS,
    }),
};

static COMPREHEND: CborCodec = CborCodec {
    service: "Comprehend_20171127",
    outputs: &[],
    query_compatible: false,
};

const fn at(member: &'static str, at: At, kind: Kind) -> Binding {
    Binding { member, at, kind }
}

const FUNCTION: Binding = at("FunctionName", At::Label("FunctionName"), Kind::String);
const QUALIFIER: Binding = at("Qualifier", At::Query("Qualifier"), Kind::String);

// Lambda's routes for the operations checked here (from its model, 2015-03-31).
static LAMBDA_ROUTES: [Route; 9] = [
    Route {
        op: "CreateFunction",
        method: "POST",
        uri: "/2015-03-31/functions",
        status: 201,
        input: &[],
        output: &[],
        input_payload: None,
        output_payload: None,
    },
    Route {
        op: "Invoke",
        method: "POST",
        uri: "/2015-03-31/functions/{FunctionName}/invocations",
        status: 200,
        input: &[
            FUNCTION,
            at(
                "InvocationType",
                At::Header("x-amz-invocation-type"),
                Kind::String,
            ),
            at("LogType", At::Header("x-amz-log-type"), Kind::String),
            at(
                "ClientContext",
                At::Header("x-amz-client-context"),
                Kind::String,
            ),
            QUALIFIER,
        ],
        output: &[
            at("StatusCode", At::Status, Kind::Integer),
            at(
                "FunctionError",
                At::Header("x-amz-function-error"),
                Kind::String,
            ),
            at("LogResult", At::Header("x-amz-log-result"), Kind::String),
            at(
                "ExecutedVersion",
                At::Header("x-amz-executed-version"),
                Kind::String,
            ),
        ],
        input_payload: Some(Payload {
            member: "Payload",
            kind: PayloadKind::Blob,
        }),
        output_payload: Some(Payload {
            member: "Payload",
            kind: PayloadKind::Blob,
        }),
    },
    Route {
        op: "AddPermission",
        method: "POST",
        uri: "/2015-03-31/functions/{FunctionName}/policy",
        status: 201,
        input: &[FUNCTION, QUALIFIER],
        output: &[],
        input_payload: None,
        output_payload: None,
    },
    Route {
        op: "GetFunction",
        method: "GET",
        uri: "/2015-03-31/functions/{FunctionName}",
        status: 200,
        input: &[FUNCTION, QUALIFIER],
        output: &[],
        input_payload: None,
        output_payload: None,
    },
    Route {
        op: "ListFunctions",
        method: "GET",
        uri: "/2015-03-31/functions",
        status: 200,
        input: &[
            at("MasterRegion", At::Query("MasterRegion"), Kind::String),
            at(
                "FunctionVersion",
                At::Query("FunctionVersion"),
                Kind::String,
            ),
            at("Marker", At::Query("Marker"), Kind::String),
            at("MaxItems", At::Query("MaxItems"), Kind::Integer),
        ],
        output: &[],
        input_payload: None,
        output_payload: None,
    },
    Route {
        op: "GetProvisionedConcurrencyConfig",
        method: "GET",
        uri: "/2019-09-30/functions/{FunctionName}/provisioned-concurrency",
        status: 200,
        input: &[FUNCTION, QUALIFIER],
        output: &[],
        input_payload: None,
        output_payload: None,
    },
    Route {
        op: "ListProvisionedConcurrencyConfigs",
        method: "GET",
        uri: "/2019-09-30/functions/{FunctionName}/provisioned-concurrency?List=ALL",
        status: 200,
        input: &[
            FUNCTION,
            at("Marker", At::Query("Marker"), Kind::String),
            at("MaxItems", At::Query("MaxItems"), Kind::Integer),
        ],
        output: &[],
        input_payload: None,
        output_payload: None,
    },
    Route {
        op: "DeleteFunction",
        method: "DELETE",
        uri: "/2015-03-31/functions/{FunctionName}",
        status: 204,
        input: &[FUNCTION, QUALIFIER],
        output: &[],
        input_payload: None,
        output_payload: None,
    },
    // Not Lambda's: a greedy label, as S3-style REST-JSON APIs have them.
    Route {
        op: "GetThing",
        method: "GET",
        uri: "/things/{Bucket}/{Key+}",
        status: 200,
        input: &[
            at("Bucket", At::Label("Bucket"), Kind::String),
            at("Key", At::Label("Key"), Kind::String),
            at("Tags", At::Query("tag"), Kind::List),
            at("Strict", At::Header("x-strict"), Kind::Boolean),
            at("Ratio", At::Header("x-ratio"), Kind::Double),
        ],
        output: &[],
        input_payload: None,
        output_payload: None,
    },
];

pub static LAMBDA: RestJsonCodec = RestJsonCodec {
    routes: &LAMBDA_ROUTES,
};

static CLOUDTRAIL_DATA: RestJsonCodec = RestJsonCodec {
    routes: &[Route {
        op: "PutAuditEvents",
        method: "POST",
        uri: "/PutAuditEvents",
        status: 200,
        input: &[
            at("channelArn", At::Query("channelArn"), Kind::String),
            at("externalId", At::Query("externalId"), Kind::String),
        ],
        output: &[],
        input_payload: None,
        output_payload: None,
    }],
};

/// An operation table naming every operation of these codecs.
pub fn ops() -> &'static [Operation] {
    static OPS: std::sync::OnceLock<Vec<Operation>> = std::sync::OnceLock::new();
    OPS.get_or_init(|| {
        [
            "PutMetricData",
            "PutMetricAlarm",
            "DescribeAlarms",
            "GetMetricData",
            "GetMetricWidgetImage",
            "DetectEntities",
            "PutAuditEvents",
        ]
        .into_iter()
        .chain(LAMBDA_ROUTES.iter().map(|r| r.op))
        .map(|n| Operation::named("test", n, false, true))
        .collect()
    })
}

fn op(name: &str) -> &'static Operation {
    crate::pipeline::operation::find(ops(), name).unwrap()
}

/// Routes and parses a request with `codec`: the operation's name and its document.
fn hear<C: Codec<Input = Value>>(codec: &C, req: &WireRequest, body: Bytes) -> (String, Value) {
    let (op, routed) = codec.route(ops(), req, &body).unwrap();
    let doc = codec.parse(routed, req, body, &context()).unwrap();
    (op.name.to_owned(), doc)
}

#[test]
fn botocore_requests_decode_to_their_documents() {
    let text = std::fs::read_to_string(format!("{FIXTURES}/requests.json")).unwrap();
    let fixtures: Value = serde_json::from_str(&text).unwrap();
    let cases = fixtures["cases"].as_array().unwrap();
    assert!(cases.len() >= 15, "the fixture file lost cases");
    for c in cases {
        // Query forms decode only with CloudWatch's declared shapes, which live with the
        // service: its tests (CloudWatch's shape table, in cairn-services) decode these cases.
        if c["protocol"] == "query" {
            continue;
        }
        let path = match c["query"].as_str() {
            Some(q) => format!("{}?{q}", c["path"].as_str().unwrap()),
            None => c["path"].as_str().unwrap().to_owned(),
        };
        let headers: Vec<(&str, &str)> = c["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
            .collect();
        let req = request(c["method"].as_str().unwrap(), &path, &headers);
        let body = Bytes::from(hex::decode(c["body_hex"].as_str().unwrap()).unwrap());
        let (name, doc) = match c["service"].as_str().unwrap() {
            "cloudwatch" => hear(&CLOUDWATCH, &req, body),
            "comprehend" => hear(&COMPREHEND, &req, body),
            "lambda" => hear(&LAMBDA, &req, body),
            "cloudtrail-data" => hear(&CLOUDTRAIL_DATA, &req, body),
            other => panic!("no codec for {other}"),
        };
        let what = format!("{} {}", c["service"], c["operation"]);
        assert_eq!(name, c["operation"].as_str().unwrap(), "{what}");
        assert_eq!(doc, c["document"], "{what}");
    }
}

/// One encoded answer, as the fixture file keeps it.
fn answered(
    service: &str,
    protocol: &str,
    operation: &str,
    resp: http::Response<http_body_util::Full<Bytes>>,
    document: Value,
) -> Value {
    let (parts, bytes) = body(resp);
    let mut headers: Vec<(String, Value)> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), Value::from(v.to_str().unwrap())))
        .collect();
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    json!({
        "service": service, "protocol": protocol, "operation": operation,
        "status": parts.status.as_u16(),
        "headers": headers.into_iter().collect::<serde_json::Map<_, _>>(),
        "body_hex": hex::encode(&bytes),
        "document": document,
    })
}

fn success<C: Codec<Output = Value>>(
    codec: &C,
    protocol: Protocol,
    names: (&str, &str, &str),
    out: Value,
) -> Value {
    let resp = codec.encode(op(names.2), out.clone(), &answer(protocol));
    answered(names.0, names.1, names.2, resp, out)
}

fn failure<C: Codec>(
    codec: &C,
    protocol: Protocol,
    names: (&str, &str, &str),
    e: AwsError,
) -> Value {
    let resp = codec.error(&e, &answer(protocol));
    answered(
        names.0,
        names.1,
        names.2,
        resp,
        json!({"error": {"code": e.code, "message": e.message}}),
    )
}

/// Every answer checked by `e2e/test_codecs.py`.
fn responses() -> Value {
    let cbor = Protocol::RpcV2Cbor;
    let rest = Protocol::RestJson;
    let cw = |op| ("cloudwatch", "smithy-rpc-v2-cbor", op);
    let cwq = |op| ("cloudwatch", "query", op);
    let query = CLOUDWATCH.protocol_of(&request(
        "POST",
        "/",
        &[("content-type", "application/x-www-form-urlencoded")],
    ));
    let lambda = |op| ("lambda", "rest-json", op);
    let alarms = json!({
        "MetricAlarms": [{
            "AlarmName": "high-latency",
            "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:high-latency",
            "ActionsEnabled": true,
            "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:ops"],
            "AlarmConfigurationUpdatedTimestamp": 1_796_464_800.5,
            "StateValue": "ALARM",
            "StateUpdatedTimestamp": 1_796_464_830,
            "StateTransitionedTimestamp": "2026-12-05T10:00:30Z",
            "MetricName": "Latency", "Namespace": "App/Orders", "Statistic": "Average",
            "Dimensions": [{"Name": "Route", "Value": "/checkout"}],
            "Period": 60, "EvaluationPeriods": 3, "Threshold": 1000.0,
            "ComparisonOperator": "GreaterThanThreshold"
        }],
        "CompositeAlarms": [],
        "NextToken": "next"
    });
    let data = json!({
        "MetricDataResults": [{
            "Id": "q", "Label": "CPUUtilization",
            "Timestamps": [1_796_464_800, 1_796_465_100.25],
            "Values": [1.5, -2.0], "StatusCode": "Complete"
        }],
        "Messages": []
    });
    let cases = vec![
        success(&CLOUDWATCH, cbor, cw("DescribeAlarms"), alarms.clone()),
        success(&CLOUDWATCH, cbor, cw("GetMetricData"), data.clone()),
        success(
            &CLOUDWATCH,
            cbor,
            cw("GetMetricWidgetImage"),
            json!({"MetricWidgetImage": "iVBORw0KGgoAAAAN"}),
        ),
        success(&CLOUDWATCH, cbor, cw("PutMetricData"), json!({})),
        failure(
            &CLOUDWATCH,
            cbor,
            cw("DescribeAlarms"),
            AwsError::new(404, "ResourceNotFound", "no such alarm"),
        ),
        failure(
            &CLOUDWATCH,
            cbor,
            cw("PutMetricData"),
            AwsError::client("SerializationException", "bad body"),
        ),
        success(
            &CLOUDWATCH,
            Protocol::Json10,
            ("cloudwatch", "json", "DescribeAlarms"),
            alarms.clone(),
        ),
        failure(
            &CLOUDWATCH,
            Protocol::Json10,
            ("cloudwatch", "json", "DescribeAlarms"),
            AwsError::client("InvalidNextToken", "bad token"),
        ),
        success(&CLOUDWATCH, query, cwq("DescribeAlarms"), alarms),
        success(&CLOUDWATCH, query, cwq("GetMetricData"), data),
        success(&CLOUDWATCH, query, cwq("PutMetricData"), json!({})),
        failure(
            &CLOUDWATCH,
            query,
            cwq("DescribeAlarms"),
            AwsError::new(404, "ResourceNotFound", "no such alarm"),
        ),
        failure(
            &CLOUDWATCH,
            query,
            cwq("PutMetricData"),
            AwsError::new(500, "InternalServiceError", "try again <later> & again"),
        ),
        success(
            &LAMBDA,
            rest,
            lambda("CreateFunction"),
            json!({
                "FunctionName": "orders", "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:orders",
                "Runtime": "python3.12", "CodeSize": 1024, "Timeout": 30, "MemorySize": 256,
                "LastModified": "2026-12-05T10:00:00.000+0000",
                "Environment": {"Variables": {"STAGE": "test"}}, "State": "Active"
            }),
        ),
        success(
            &LAMBDA,
            rest,
            lambda("Invoke"),
            json!({
                "StatusCode": 200, "ExecutedVersion": "$LATEST", "FunctionError": "Unhandled",
                "LogResult": "U1RBUlQ=", "Payload": "eyJvayI6IHRydWV9"
            }),
        ),
        success(
            &LAMBDA,
            rest,
            lambda("Invoke"),
            json!({"StatusCode": 202, "Payload": ""}),
        ),
        success(
            &LAMBDA,
            rest,
            lambda("GetFunction"),
            json!({
                "Configuration": {"FunctionName": "orders", "Version": "$LATEST"},
                "Code": {"RepositoryType": "S3", "Location": "https://example/code.zip"},
                "Tags": {"team": "orders"}
            }),
        ),
        success(&LAMBDA, rest, lambda("DeleteFunction"), json!({})),
        failure(
            &LAMBDA,
            rest,
            lambda("GetFunction"),
            AwsError::new(
                404,
                "ResourceNotFoundException",
                "Function not found: orders",
            ),
        ),
        success(
            &CLOUDTRAIL_DATA,
            rest,
            ("cloudtrail-data", "rest-json", "PutAuditEvents"),
            json!({
                "successful": [{"id": "e1", "eventID": "5c2d6a5e-0000-4000-8000-000000000001"}],
                "failed": []
            }),
        ),
    ];
    json!({"cases": cases})
}

#[test]
fn encoded_answers_match_the_fixtures_botocore_parses() {
    let path = format!("{FIXTURES}/responses.json");
    let now = serde_json::to_string_pretty(&responses()).unwrap() + "\n";
    if std::env::var_os("CAIRN_UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, &now).unwrap();
    }
    let kept = std::fs::read_to_string(&path).unwrap();
    assert!(
        kept == now,
        "cairn's encoded answers changed; rerun with CAIRN_UPDATE_FIXTURES=1 and then e2e/test_codecs.py"
    );
}
