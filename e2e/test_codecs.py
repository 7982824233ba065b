"""cairn's codecs, checked by botocore itself: the answers cairn encodes for the Smithy RPC v2
CBOR, JSON 1.0 and query (CloudWatch) and REST-JSON (Lambda, CloudTrail Data) protocols are parsed
here with botocore's own response parsers against the real service models, and must come out as the
documents cairn's handlers returned: timestamps as datetimes, blobs as bytes, header- and
status-bound members in place, errors with their codes and messages.

The answers are in crates/cairn-edge/tests/fixtures/codecs/responses.json, written by the Rust
test `pipeline::codec::fixtures` (which fails if cairn's encoding drifts from that file; rewrite it
with CAIRN_UPDATE_FIXTURES=1 cargo test -p cairn-edge --lib fixtures). Requests go the other
way: make_requests.py beside that file has botocore serialize them for the Rust tests."""

import base64
import copy
import datetime
import io
import json
from pathlib import Path

import boto3
import botocore.config
import botocore.exceptions
import botocore.session
import pytest
from botocore.parsers import create_parser
from botocore.response import StreamingBody

FIXTURES = Path(__file__).resolve().parent.parent / "crates/cairn-edge/tests/fixtures/codecs"
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
    assert seen >= {("cloudwatch", "smithy-rpc-v2-cbor"), ("cloudwatch", "json"), ("cloudwatch", "query"),
                    ("lambda", "rest-json"), ("cloudtrail-data", "rest-json")}
    assert any("error" in c["document"] for c in CASES if c["protocol"] == "smithy-rpc-v2-cbor")
    assert any("error" in c["document"] for c in CASES if c["protocol"] == "query")


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


def _error_of(call, content_type=None):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    r = e.value.response
    headers = r["ResponseMetadata"]["HTTPHeaders"]
    if content_type:
        assert headers["content-type"] == content_type
    if content_type == "application/cbor":
        assert headers["smithy-protocol"] == "rpc-v2-cbor"
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


def test_botocore_and_the_cli_resolve_cloudwatch_to_json():
    """CloudWatch's model lists CBOR first, but botocore (and the CLI's bundled one) resolve it by
    their own priority, to JSON 1.0: a CloudWatch service must speak JSON for them."""
    import awscli
    import subprocess
    import sys

    assert SESSION.get_service_model("cloudwatch").metadata["protocols"][0] == "smithy-rpc-v2-cbor"
    client = SESSION.create_client("cloudwatch", region_name="us-east-1",
                                   aws_access_key_id="a", aws_secret_access_key="b")
    assert client.meta.service_model.resolved_protocol == "json"
    script = f"""
import sys; sys.path.insert(0, {str(Path(awscli.__file__).parent)!r})
import botocore.session
c = botocore.session.get_session().create_client('cloudwatch', region_name='us-east-1',
    aws_access_key_id='a', aws_secret_access_key='b')
print(c.meta.service_model.resolved_protocol)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.stdout.strip() == "json", out.stderr


@pytest.fixture
def cbor_session(tmp_path):
    """A botocore session whose CloudWatch model lists only RPC v2 CBOR, so that the real
    client sends CBOR, as the SDKs that prefer it do."""
    loader = SESSION.get_component("data_loader")
    # A copy: the loader caches the model it hands out, and SESSION's clients must keep JSON.
    model = copy.deepcopy(loader.load_service_model("cloudwatch", "service-2"))
    version = loader.determine_latest_version("cloudwatch", "service-2")
    model["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
    model["metadata"]["protocol"] = "smithy-rpc-v2-cbor"
    folder = tmp_path / "cloudwatch" / version
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.get_session()
    session.set_config_variable("data_path", str(tmp_path))
    return session


def _client(session, cairn, service, secret=None):
    env = cairn.env()
    return session.create_client(
        service, endpoint_url=cairn.endpoint, region_name="us-east-1",
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=secret or env["AWS_SECRET_ACCESS_KEY"],
        config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}))


def test_clients_are_refused_in_the_protocol_they_speak(cairn, cbor_session):
    """A refusal reads in the protocol the client spoke: in CBOR (with smithy-protocol) when it
    sent CBOR, in JSON 1.0 when it sent JSON. An operation cairn does not have is refused as the
    query-compatible services refuse an unknown action."""
    cbor = _client(cbor_session, cairn, "cloudwatch")
    assert cbor.meta.service_model.resolved_protocol == "smithy-rpc-v2-cbor"
    code, msg, status = _error_of(cbor.list_dashboards, "application/cbor")
    assert (code, status) == ("InvalidAction", 400)
    assert "ListDashboards" in msg
    plain = _client(SESSION, cairn, "cloudwatch")
    assert _error_of(plain.list_dashboards, "application/x-amz-json-1.0")[::2] == ("InvalidAction", 400)


def test_a_bad_signature_reads_the_same_in_cbor_and_json(cairn, cbor_session):
    cbor = _error_of(_client(cbor_session, cairn, "cloudwatch", "wrong").list_metrics, "application/cbor")
    json_ = _error_of(_client(SESSION, cairn, "kms", "wrong").list_keys, "application/x-amz-json-1.1")
    assert cbor[0] == json_[0] == "InvalidSignatureException"
    assert cbor[2] == json_[2]
