"""cairn's codecs, checked by botocore itself: the answers cairn encodes for the Smithy RPC v2 CBOR,
JSON 1.0 (CloudWatch) and REST-JSON (Lambda, CloudTrail Data) protocols are parsed here with
botocore's own response parsers against the real service models, and must come out as the
documents cairn's handlers returned: timestamps as datetimes, blobs as bytes, header- and
status-bound members in place, errors with their codes and messages.

The answers are in crates/cairn-services/tests/fixtures/codecs/responses.json, written by the Rust
test `pipeline::codec::fixtures` (which fails if cairn's encoding drifts from that file; rewrite it
with CAIRN_UPDATE_FIXTURES=1 cargo test -p cairn-services --lib fixtures). Requests go the other
way: make_requests.py beside that file has botocore serialize them for the Rust tests."""

import base64
import datetime
import io
import json
from pathlib import Path

import botocore.session
import pytest
from botocore.parsers import create_parser
from botocore.response import StreamingBody

FIXTURES = Path(__file__).resolve().parent.parent / "crates/cairn-services/tests/fixtures/codecs"
SESSION = botocore.session.get_session()
CASES = json.loads((FIXTURES / "responses.json").read_text())["cases"]


def expected(value, shape):
    """A handler's document as botocore hands it to a caller, following the output shape."""
    t = shape.type_name
    if t == "structure":
        return {k: expected(v, shape.members[k]) for k, v in value.items()
                if v is not None and k in shape.members}
    if t == "list":
        return [expected(v, shape.member) for v in value]
    if t == "map":
        return {k: expected(v, shape.value) for k, v in value.items()}
    if t == "blob":
        return base64.b64decode(value)
    if t == "timestamp":
        if isinstance(value, str):
            return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    return value


def comparable(v):
    """Datetimes as instants, streams read, so that equal values compare equal."""
    if isinstance(v, dict):
        return {k: comparable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [comparable(x) for x in v]
    if isinstance(v, datetime.datetime):
        return ("instant", round(v.timestamp(), 6))
    if hasattr(v, "read"):
        return v.read()
    return v


def parse(case):
    model = SESSION.get_service_model(case["service"])
    op = model.operation_model(case["operation"])
    body = bytes.fromhex(case["body_hex"])
    shape = op.output_shape
    payload = shape.serialization.get("payload") if shape is not None else None
    # A blob payload reaches the parser as the HTTP body's stream, as botocore's endpoint hands
    # it over (Lambda Invoke's Payload).
    streaming = payload is not None and shape.members[payload].type_name == "blob"
    response = {
        "status_code": case["status"],
        "headers": botocore.awsrequest.HeadersDict(case["headers"]),
        "body": StreamingBody(io.BytesIO(body), len(body)) if streaming else body,
    }
    return op, create_parser(case["protocol"]).parse(response, shape)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['protocol']}-{c['operation']}-{c['status']}")
def test_botocore_parses_what_cairn_encodes(case):
    op, parsed = parse(case)
    metadata = parsed.pop("ResponseMetadata", {})
    # botocore's RPC v2 parser reads the request id only for operations with an output.
    if op.output_shape is not None or case["protocol"] != "smithy-rpc-v2-cbor":
        assert metadata.get("RequestId") == "rid"
    assert metadata.get("HTTPStatusCode", case["status"]) == case["status"]
    doc = case["document"]
    if "error" in doc:
        assert case["status"] >= 300
        assert parsed["Error"]["Code"] == doc["error"]["code"]
        assert parsed["Error"]["Message"] == doc["error"]["message"]
        return
    assert case["status"] < 300
    want = {} if op.output_shape is None else expected(doc, op.output_shape)
    # A member bound to the status is the status, whether or not the handler named it.
    for name, member in (op.output_shape.members.items() if op.output_shape else []):
        if member.serialization.get("location") == "statusCode":
            want[name] = case["status"]
    assert comparable(parsed) == comparable(want)


def test_every_protocol_and_service_is_covered():
    seen = {(c["service"], c["protocol"]) for c in CASES}
    assert seen >= {("cloudwatch", "smithy-rpc-v2-cbor"), ("cloudwatch", "json"),
                    ("lambda", "rest-json"), ("cloudtrail-data", "rest-json")}
    assert any("error" in c["document"] for c in CASES if c["protocol"] == "smithy-rpc-v2-cbor")


def test_the_cli_botocore_parses_cbor_too():
    """The AWS CLI bundles its own botocore; it must read cairn's CBOR the same way."""
    import awscli
    import subprocess
    import sys

    bundled = Path(awscli.__file__).parent / "botocore"
    if not bundled.is_dir():
        pytest.skip("this AWS CLI uses the shared botocore")
    # The CLI's botocore imports itself as `botocore`: load it in a child interpreter.
    script = f"""
import sys, json
sys.path.insert(0, {str(bundled.parent)!r})
import botocore, botocore.session
from botocore.parsers import create_parser
assert botocore.__file__.startswith({str(bundled)!r}), botocore.__file__
cases = json.load(open({str(FIXTURES / 'responses.json')!r}))['cases']
model = botocore.session.get_session().get_service_model('cloudwatch')
assert model.metadata['protocols'][0] == 'smithy-rpc-v2-cbor', model.metadata['protocols']
for c in cases:
    if c['protocol'] != 'smithy-rpc-v2-cbor':
        continue
    op = model.operation_model(c['operation'])
    r = dict(status_code=c['status'], headers=c['headers'], body=bytes.fromhex(c['body_hex']))
    parsed = create_parser('smithy-rpc-v2-cbor').parse(r, op.output_shape)
    if 'error' in c['document']:
        assert parsed['Error']['Code'] == c['document']['error']['code'], parsed
    elif c['operation'] == 'DescribeAlarms':
        alarm = parsed['MetricAlarms'][0]
        assert alarm['StateUpdatedTimestamp'].timestamp() == 1796464830, alarm
        assert alarm['Threshold'] == 1000.0
print(botocore.__version__)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
