"""Every SigV4 failure, produced by the real AWS CLI or botocore, answered as AWS answers it."""

import datetime
import json
import time
import urllib.error
import urllib.request
from unittest import mock

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.exceptions
import botocore.config
import boto3
import pytest

TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."


def error_of(fn):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn()
    r = e.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


def raw_post(cairn, headers, body=b"{}"):
    req = urllib.request.Request(cairn.endpoint + "/", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read() or b"{}"), {k.lower(): v for k, v in r.headers.items()}
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}"), {k.lower(): v for k, v in e.headers.items()}


def signed_request(cairn, target, body=b"{}", region="us-east-1", service="cloudtrail", secret=None):
    env = cairn.env()
    creds = botocore.credentials.Credentials(env["AWS_ACCESS_KEY_ID"], secret or env["AWS_SECRET_ACCESS_KEY"])
    req = botocore.awsrequest.AWSRequest(method="POST", url=cairn.endpoint + "/", data=body,
                                          headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target})
    botocore.auth.SigV4Auth(creds, service, region).add_auth(req)
    return dict(req.headers.items())


def test_missing_authentication(cairn):
    client = boto3.client(
        "cloudtrail", endpoint_url=cairn.endpoint, region_name="us-east-1",
        config=botocore.config.Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1, "mode": "standard"}))
    assert error_of(client.describe_trails) == ("MissingAuthenticationTokenException", "Request is missing Authentication Token", 400)


def test_unknown_access_key_with_the_cli(cairn):
    rc, _, err = cairn.aws("cloudtrail", "describe-trails", env_overrides={"AWS_ACCESS_KEY_ID": "AKIAUNKNOWNUNKNOWN00"}, check=False)
    assert rc == 255
    assert "(UnrecognizedClientException)" in err
    assert "The security token included in the request is invalid." in err


def test_bad_signature_with_the_cli(cairn):
    rc, _, err = cairn.aws("cloudtrail", "describe-trails", env_overrides={"AWS_SECRET_ACCESS_KEY": "x" * 40}, check=False)
    assert rc == 255
    assert "(InvalidSignatureException)" in err
    assert "The request signature we calculated does not match the signature you provided." in err


def test_session_token_on_a_long_term_key_is_refused(cairn):
    rc, _, err = cairn.aws("cloudtrail", "describe-trails", env_overrides={"AWS_SESSION_TOKEN": "bogus"}, check=False)
    assert rc == 255
    assert "(UnrecognizedClientException)" in err
    assert "The security token included in the request is invalid" in err


@pytest.mark.parametrize("minutes,phrase", [(-20, "Signature expired: "), (20, "Signature not yet current: ")])
def test_clock_skew(cairn, minutes, phrase):
    skewed = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + datetime.timedelta(minutes=minutes)
    with mock.patch("botocore.auth.get_current_datetime", return_value=skewed):
        code, msg, status = error_of(cairn.client().describe_trails)
    assert (code, status) == ("InvalidSignatureException", 400)
    assert msg.startswith(phrase) and ("- 15 min.)" in msg or "+ 15 min.)" in msg)


def test_small_skew_is_accepted(cairn):
    skewed = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=10)
    with mock.patch("botocore.auth.get_current_datetime", return_value=skewed):
        assert cairn.client().describe_trails()["trailList"] == []


def test_presigned_requests_and_their_expiry(cairn):
    client = cairn.client()
    url = client.generate_presigned_url("describe_trails", ExpiresIn=2)
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET + "DescribeTrails"}
    req = urllib.request.Request(url, data=b"", headers=headers, method="POST")
    with urllib.request.urlopen(req) as r:
        assert r.status == 200 and json.loads(r.read()) == {"trailList": []}
    time.sleep(3)
    req = urllib.request.Request(url, data=b"", headers=headers, method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    body = json.loads(e.value.read())
    assert e.value.code == 400
    assert body["__type"] == "InvalidSignatureException" and body["message"].startswith("Signature expired")


def test_presigned_url_changed_after_signing_is_refused(cairn):
    url = cairn.client().generate_presigned_url("describe_trails", ExpiresIn=60)
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET + "ListTrails"}
    req = urllib.request.Request(url, data=b"", headers=headers, method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert json.loads(e.value.read())["__type"] == "InvalidSignatureException"


def test_tampered_body_is_refused(cairn):
    headers = signed_request(cairn, TARGET + "LookupEvents", body=b'{"MaxResults": 5}')
    status, body, _ = raw_post(cairn, headers, body=b'{"MaxResults": 6}')
    assert (status, body["__type"]) == (400, "InvalidSignatureException")


@pytest.mark.parametrize("auth,fragment", [
    ("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00", "Authorization header requires 'Credential' parameter."),
    ("AWS4-HMAC-SHA256 Credential=AKIAX/20240101/us-east-1/cloudtrail/aws4_request, Signature=00", "Authorization header requires 'SignedHeaders' parameter."),
    ("AWS4-HMAC-SHA256 Credential=AKIAX/us-east-1/cloudtrail/aws4_request, SignedHeaders=host, Signature=00", "Credential must have exactly 5 slash-delimited elements"),
    ("AWS4-HMAC-SHA256 Credential", "not a valid key=value pair"),
    ("AWS AKIAX:c2lnbmF0dXJl", "Unsupported AWS 'algorithm'"),
])
def test_incomplete_signatures(cairn, auth, fragment):
    status, body, _ = raw_post(cairn, {"Authorization": auth, "X-Amz-Date": "20240101T000000Z",
                                       "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET + "DescribeTrails"})
    assert status == 400
    assert body["__type"] == "IncompleteSignatureException"
    assert fragment in body["message"]


def test_scope_date_must_match_request_date(cairn):
    headers = signed_request(cairn, TARGET + "DescribeTrails")
    date = headers["X-Amz-Date"]
    other = "19990101"
    headers["Authorization"] = headers["Authorization"].replace(f"/{date[:8]}/", f"/{other}/")
    status, body, _ = raw_post(cairn, headers)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert "Date in Credential scope does not match" in body["message"]


def test_unknown_operation(cairn):
    status, body, headers = raw_post(cairn, signed_request(cairn, TARGET + "MakeCoffee"))
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    assert len(headers["x-amzn-requestid"]) == 36


def test_unknown_service_names_itself(cairn):
    client = cairn.client("dynamodb")
    code, msg, status = error_of(client.list_tables)
    assert (code, status) == ("NotImplemented", 501)
    assert "'dynamodb'" in msg


def test_auth_failures_are_not_in_history_but_the_next_good_call_is(cairn):
    client = cairn.client(region="ap-northeast-3")
    before = client.lookup_events()["Events"]
    cairn.aws("cloudtrail", "describe-trails", region="ap-northeast-3", env_overrides={"AWS_SECRET_ACCESS_KEY": "y" * 40}, check=False)
    after = client.lookup_events()["Events"]
    names = [e["EventName"] for e in after]
    assert len(after) == len(before) + 1 and names[0] == "LookupEvents"
