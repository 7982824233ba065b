"""STS on the query protocol with the real AWS CLI and boto3: who am I, recorded as AWS records it."""

import gzip
import json

import botocore.exceptions
import pytest

from conftest import REAL_DATA, lookup_all


def test_get_caller_identity(cairn):
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    _, me, _ = cairn.aws("sts", "get-caller-identity")
    assert me == {"UserId": account, "Account": account, "Arn": f"arn:aws:iam::{account}:root"}
    rid = cairn.client("sts").get_caller_identity()["ResponseMetadata"]["RequestId"]
    events = lookup_all(cairn.client(), LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetCallerIdentity"}])
    record = next(json.loads(e["CloudTrailEvent"]) for e in events if json.loads(e["CloudTrailEvent"])["requestID"] == rid)
    assert record["eventSource"] == "sts.amazonaws.com" and record["readOnly"] is True
    assert record["userIdentity"]["type"] == "Root" and record["recipientAccountId"] == account
    # The same keys and value shapes as a real AWS record of the call (AWS adds tlsDetails
    # because its endpoints are HTTPS; cairn's local endpoint is plain HTTP).
    with gzip.open(REAL_DATA / "records.jsonl.gz", "rt") as f:
        real = next(r for r in map(json.loads, f) if r.get("eventName") == "GetCallerIdentity")
    assert set(record) == set(real) - {"tlsDetails"}
    for k in ["requestParameters", "responseElements", "readOnly", "eventType", "managementEvent", "eventCategory"]:
        assert record[k] == real[k], k


def test_operations_cairn_lacks_say_so(cairn):
    code, _, err = cairn.aws("sts", "get-federation-token", "--name", "fed", check=False)
    assert code != 0 and "NotImplemented" in err and "GetFederationToken" in err
    sts = cairn.client("sts")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.decode_authorization_message(EncodedMessage="x")
    assert e.value.response["Error"]["Code"] == "NotImplemented"


def test_root_may_not_assume_roles(cairn):
    """AWS refuses AssumeRole with the root user's keys, whatever the trust policy says."""
    sts = cairn.client("sts")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/r", RoleSessionName="lab-session")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert e.value.response["Error"]["Message"] == "Roles may not be assumed by root accounts."
