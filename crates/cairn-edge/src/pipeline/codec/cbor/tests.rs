#![allow(clippy::unwrap_used)]

use minicbor::Encoder;
use minicbor::data::{IanaTag, Tag};
use serde_json::json;

use super::*;
use crate::pipeline::codec::testing::{answer, body, context, request};

static DATAPOINT: Shape = Shape::Structure(&[("Timestamp", &Shape::Timestamp)]);
static STATS: Shape = Shape::Structure(&[
    ("Datapoints", &Shape::List(&DATAPOINT)),
    ("Blob", &Shape::Blob),
]);

static CODEC: CborCodec = CborCodec {
    service: "GraniteServiceVersion20100801",
    outputs: &[("GetMetricStatistics", &STATS)],
    query_compatible: true,
};

fn ops() -> &'static [Operation] {
    static OPS: std::sync::OnceLock<Vec<Operation>> = std::sync::OnceLock::new();
    OPS.get_or_init(|| {
        vec![
            Operation::named("cloudwatch", "PutMetricData", false, true),
            Operation::named("cloudwatch", "GetMetricStatistics", true, true),
        ]
    })
}

fn cbor_req(path: &str) -> WireRequest {
    request(
        "POST",
        path,
        &[
            ("smithy-protocol", "rpc-v2-cbor"),
            ("content-type", "application/cbor"),
        ],
    )
}

fn enc() -> Encoder<Vec<u8>> {
    Encoder::new(Vec::new())
}

#[test]
fn routes_by_service_and_operation_in_the_path() {
    let route = |req: &WireRequest| {
        CODEC
            .route(ops(), req, &Bytes::new())
            .map(|(op, _)| op.name)
    };
    let path = "/service/GraniteServiceVersion20100801/operation/PutMetricData";
    assert_eq!(route(&cbor_req(path)), Ok("PutMetricData"));
    // An endpoint with a path of its own prefixes it.
    assert_eq!(
        route(&cbor_req(&format!("/prefix{path}"))),
        Ok("PutMetricData")
    );
    for wrong in [
        "/service/OtherService/operation/PutMetricData",
        "/service/GraniteServiceVersion20100801/operation/NoSuchOperation",
        "/service/GraniteServiceVersion20100801/operation/",
        "/GraniteServiceVersion20100801/operation/PutMetricData",
        "/",
    ] {
        let e = route(&cbor_req(wrong)).unwrap_err();
        assert_eq!(
            (e.status, &*e.code),
            (404, "UnknownOperationException"),
            "{wrong}"
        );
    }
    let get = request("GET", path, &[("smithy-protocol", "rpc-v2-cbor")]);
    assert_eq!(route(&get).unwrap_err().status, 404);
}

#[test]
fn decodes_every_kind_of_item_into_the_json_model() {
    let mut e = enc();
    e.begin_map().unwrap();
    e.str("Namespace").unwrap().str("App").unwrap();
    // An indefinite text string, in chunks.
    e.str("Chunked").unwrap();
    e.begin_str()
        .unwrap()
        .str("ab")
        .unwrap()
        .str("cd")
        .unwrap()
        .end()
        .unwrap();
    e.str("Blob").unwrap().bytes(b"hi!").unwrap();
    e.str("ChunkedBlob").unwrap();
    e.begin_bytes()
        .unwrap()
        .bytes(b"h")
        .unwrap()
        .bytes(b"i!")
        .unwrap()
        .end()
        .unwrap();
    e.str("When")
        .unwrap()
        .tag(Tag::from(IanaTag::Timestamp))
        .unwrap()
        .u64(1_700_000_000)
        .unwrap();
    e.str("WhenFrac")
        .unwrap()
        .tag(Tag::from(IanaTag::Timestamp))
        .unwrap()
        .f64(1_700_000_000.25)
        .unwrap();
    e.str("Single").unwrap().f32(0.1).unwrap();
    e.str("Double").unwrap().f64(2.5).unwrap();
    e.str("Half").unwrap();
    e.writer_mut().extend([0xf9, 0x3e, 0x00]); // 1.5 as a half float
    e.str("NaN").unwrap().f64(f64::NAN).unwrap();
    e.str("Inf").unwrap().f64(f64::NEG_INFINITY).unwrap();
    e.str("Neg").unwrap().i64(-42).unwrap();
    e.str("Big").unwrap().u64(u64::MAX).unwrap();
    e.str("Yes").unwrap().bool(true).unwrap();
    e.str("Nothing").unwrap().null().unwrap();
    e.str("List").unwrap();
    e.begin_array()
        .unwrap()
        .u8(1)
        .unwrap()
        .array(1)
        .unwrap()
        .str("x")
        .unwrap()
        .end()
        .unwrap();
    e.end().unwrap();
    let v = decode::document(&e.into_writer()).unwrap();
    assert_eq!(
        v,
        json!({
            "Namespace": "App", "Chunked": "abcd", "Blob": "aGkh", "ChunkedBlob": "aGkh",
            "When": 1_700_000_000u64, "WhenFrac": 1_700_000_000.25, "Single": 0.1, "Double": 2.5,
            "Half": 1.5, "NaN": "NaN", "Inf": "-Infinity", "Neg": -42, "Big": u64::MAX,
            "Yes": true, "Nothing": null, "List": [1, ["x"]]
        })
    );
}

#[test]
fn half_floats_widen() {
    for (bits, want) in [
        ([0x3c, 0x00], json!(1.0)),
        ([0xc0, 0x00], json!(-2.0)),
        ([0x00, 0x01], json!(5.960464477539063e-8)),
        ([0x7c, 0x00], json!("Infinity")),
        ([0x7e, 0x00], json!("NaN")),
    ] {
        let b = [0xa1, 0x61, b'h', 0xf9, bits[0], bits[1]];
        assert_eq!(decode::document(&b).unwrap()["h"], want, "{bits:?}");
    }
    assert!(decode::document(&[0xa1, 0x61, b'h', 0xf9, 0x3c]).is_err());
}

#[test]
fn an_empty_body_is_an_empty_input() {
    let v = CODEC
        .parse((), &cbor_req("/"), Bytes::new(), &context())
        .unwrap();
    assert_eq!(v, json!({}));
}

#[test]
fn malformed_bodies_are_serialization_exceptions() {
    let mut tagged = enc();
    tagged
        .map(1)
        .unwrap()
        .str("a")
        .unwrap()
        .tag(Tag::new(55799 + 1))
        .unwrap()
        .u8(1)
        .unwrap();
    let mut int_key = enc();
    int_key.map(1).unwrap().u8(1).unwrap().u8(2).unwrap();
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", vec![0xa1, 0x61, b'a']),
        ("an array", vec![0x81, 0x01]),
        ("a string", vec![0x61, b'a']),
        ("trailing bytes", vec![0xa0, 0x00]),
        ("a lone break", vec![0xa1, 0x61, b'a', 0xff]),
        ("an unknown tag", tagged.into_writer()),
        ("an integer key", int_key.into_writer()),
        ("bad utf-8", vec![0xa1, 0x61, 0xff, 0x01]),
        (
            "a huge length",
            vec![
                0xa1, 0x61, b'a', 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ],
        ),
    ];
    for (what, b) in bodies {
        let e = CODEC
            .parse((), &cbor_req("/"), Bytes::from(b), &context())
            .unwrap_err();
        assert_eq!(
            (e.status, &*e.code),
            (400, "SerializationException"),
            "{what}: {e:?}"
        );
    }
}

/// `levels` maps nested in one another.
fn nested(levels: usize) -> Vec<u8> {
    let mut b = Vec::new();
    for _ in 0..levels - 1 {
        b.extend([0xa1, 0x61, b'a']);
    }
    b.push(0xa0);
    b
}

#[test]
fn nesting_is_capped_at_32_levels() {
    assert!(decode::document(&nested(decode::MAX_DEPTH)).is_ok());
    assert_eq!(
        decode::document(&nested(decode::MAX_DEPTH + 1)),
        Err(decode::DecodeError::TooDeep)
    );
    // Far deeper, and indefinite arrays too: refused, not a crashed stack.
    assert_eq!(
        decode::document(&nested(200_000)),
        Err(decode::DecodeError::TooDeep)
    );
    let mut arrays = vec![0xa1, 0x61, b'a'];
    arrays.extend(std::iter::repeat_n(0x9f, 200_000));
    assert_eq!(decode::document(&arrays), Err(decode::DecodeError::TooDeep));
}

#[test]
fn answers_tag_timestamps_and_send_blobs_as_bytes() {
    let op = &ops()[1];
    let out = json!({
        "Label": "CPU",
        "Datapoints": [{"Timestamp": 1_700_000_000, "Average": 1.5, "Unit": "Percent"},
                       {"Timestamp": "2023-11-14T22:13:20.5Z"}],
        "Blob": "aGkh",
        "Gone": null
    });
    let (parts, bytes) = body(CODEC.encode(op, out, &answer(Protocol::RpcV2Cbor)));
    assert_eq!(parts.status, 200);
    assert_eq!(parts.headers["content-type"], "application/cbor");
    assert_eq!(parts.headers["smithy-protocol"], "rpc-v2-cbor");
    // Decoded back, tags become numbers and bytes base64: the document again, minus nulls.
    assert_eq!(
        decode::value(&bytes).unwrap(),
        json!({
            "Label": "CPU",
            "Datapoints": [{"Timestamp": 1_700_000_000, "Average": 1.5, "Unit": "Percent"},
                           {"Timestamp": 1_700_000_000.5}],
            "Blob": "aGkh"
        })
    );
    // And on the wire they are tag 1 and a byte string.
    let mut d = minicbor::Decoder::new(&bytes);
    assert_eq!(d.map().unwrap(), Some(3));
    assert_eq!(d.str().unwrap(), "Label");
    d.skip().unwrap();
    assert_eq!(d.str().unwrap(), "Datapoints");
    assert_eq!(d.array().unwrap(), Some(2));
    assert_eq!(d.map().unwrap(), Some(3));
    assert_eq!(d.str().unwrap(), "Timestamp");
    assert_eq!(u64::from(d.tag().unwrap()), 1);
    assert_eq!(d.u64().unwrap(), 1_700_000_000);
    d.skip().unwrap();
    d.skip().unwrap();
    d.skip().unwrap();
    d.skip().unwrap();
    d.skip().unwrap();
    assert_eq!(d.str().unwrap(), "Blob");
    assert_eq!(d.bytes().unwrap(), b"hi!");
}

#[test]
fn errors_are_cbor_maps_with_their_type_and_query_code() {
    let e = AwsError::new(404, "ResourceNotFound", "no such alarm");
    let (parts, bytes) = body(CODEC.error(&e, &answer(Protocol::RpcV2Cbor)));
    assert_eq!(parts.status, 404);
    assert_eq!(parts.headers["smithy-protocol"], "rpc-v2-cbor");
    assert_eq!(parts.headers["content-type"], "application/cbor");
    assert_eq!(
        parts.headers["x-amzn-query-error"],
        "ResourceNotFound;Sender"
    );
    assert_eq!(parts.headers["x-amzn-requestid"], "rid");
    assert_eq!(
        decode::value(&bytes).unwrap(),
        json!({"__type": "ResourceNotFound", "message": "no such alarm"})
    );
    let internal = AwsError::internal("boom");
    let (parts, _) = body(CODEC.error(&internal, &answer(Protocol::RpcV2Cbor)));
    assert_eq!(
        parts.headers["x-amzn-query-error"],
        "InternalFailure;Receiver"
    );
}

proptest::proptest! {
    #[test]
    fn any_bytes_decode_or_are_refused(b in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
        let _ = decode::document(&b);
    }
}

/// Documents without nulls (CBOR answers leave null members out) or non-finite floats.
fn documents() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e300f64..1e300).prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map("\\PC{0,10}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    #[test]
    fn documents_round_trip(doc in documents()) {
        let wrapped = json!({"Doc": doc});
        let bytes = encode::document(&wrapped, &crate::pipeline::codec::shape::PLAIN);
        proptest::prop_assert_eq!(decode::document(&bytes).unwrap(), wrapped);
    }
}
