"""Calls between services go through the same pipeline as a client's: S3 asks KMS for an SSE-KMS
object's data key on the caller's behalf. KMS records GenerateDataKey and Decrypt as AWS does
(the caller's identity, invokedBy s3.amazonaws.com), and both the key policy and the caller's
identity policies decide them."""

import json
import uuid

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import lookup_all, wait_for
from test_iam import new_user


def kms_records(cairn, key_arn, name):
    ct = cairn.client()
    out = []
    for e in lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}]):
        r = json.loads(e["CloudTrailEvent"])
        if any(x.get("ARN") == key_arn for x in r.get("resources", [])):
            out.append(r)
    return out


def user_client(cairn, key, service):
    return boto3.client(
        service,
        endpoint_url=cairn.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}),
    )


def test_s3_asks_kms_on_the_callers_behalf_and_kms_records_it(cairn):
    kms, s3 = cairn.client("kms"), cairn.client("s3")
    key = kms.create_key(Description="sse")["KeyMetadata"]
    bucket = f"via-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="doc", Body=b"sealed", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["KeyId"])
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"sealed"

    made = wait_for(lambda: kms_records(cairn, key["Arn"], "GenerateDataKey") or None)
    opened = wait_for(lambda: kms_records(cairn, key["Arn"], "Decrypt") or None)
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    object_arn = f"arn:aws:s3:::{bucket}/doc"
    for r in (made[0], opened[0]):
        assert r["eventSource"] == "kms.amazonaws.com"
        assert r["userIdentity"]["type"] == "Root"
        assert r["userIdentity"]["arn"] == f"arn:aws:iam::{account}:root"
        assert r["userIdentity"]["invokedBy"] == "s3.amazonaws.com"
        assert r["sourceIPAddress"] == "s3.amazonaws.com" and r["userAgent"] == "s3.amazonaws.com"
        assert r["readOnly"] is True and r["managementEvent"] is True
        assert r["requestParameters"]["encryptionContext"] == {"aws:s3:arn": object_arn}
        assert "tlsDetails" not in r
        text = json.dumps(r)
        assert "plaintext" not in text.lower() and "ciphertextBlob" not in text
    assert made[0]["requestParameters"]["keySpec"] == "AES_256"
    assert made[0]["requestParameters"]["keyId"] == key["KeyId"]
    assert opened[0]["requestParameters"]["encryptionAlgorithm"] == "SYMMETRIC_DEFAULT"


def test_identity_policies_decide_kms_calls_made_through_s3(cairn):
    """The key's default policy delegates to the account's IAM: a user allowed s3:* but not
    kms:GenerateDataKey cannot write SSE-KMS objects under it, and cannot read them without
    kms:Decrypt; granting the KMS actions lets both through."""
    kms, s3 = cairn.client("kms"), cairn.client("s3")
    key = kms.create_key(Description="delegated")["KeyMetadata"]
    bucket = f"idp-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="by-root", Body=b"root's", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["Arn"])
    s3_only = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    name = f"u{uuid.uuid4().hex[:6]}"
    access = new_user(cairn, name, s3_only)
    us3 = user_client(cairn, access, "s3")

    def attempt(call, **kw):
        for _ in range(50):
            try:
                return None, call(**kw)
            except botocore.exceptions.ClientError as e:
                if e.response["Error"]["Code"] != "InvalidAccessKeyId":
                    return e.response, None
        raise AssertionError("the new key never became usable")

    err, _ = attempt(us3.put_object, Bucket=bucket, Key="u", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["Arn"])
    assert err["Error"]["Code"] == "AccessDenied"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "kms:GenerateDataKey" in err["Error"]["Message"]
    err, _ = attempt(us3.get_object, Bucket=bucket, Key="by-root")
    assert err["Error"]["Code"] == "AccessDenied" and "kms:Decrypt" in err["Error"]["Message"]
    # Nothing was written by the refused PutObject.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket=bucket, Key="u")
    assert e.value.response["Error"]["Code"] == "404"

    with_kms = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": key["Arn"],
         "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}]})
    cairn.aws("iam", "put-user-policy", "--user-name", name, "--policy-name", "p", "--policy-document", with_kms)
    us3.put_object(Bucket=bucket, Key="u", Body=b"mine", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["Arn"])
    assert us3.get_object(Bucket=bucket, Key="u")["Body"].read() == b"mine"
    assert us3.get_object(Bucket=bucket, Key="by-root")["Body"].read() == b"root's"
    # The grant holds only through S3: a direct Decrypt is not "via" S3.
    ukms = user_client(cairn, access, "kms")
    ct = kms.encrypt(KeyId=key["Arn"], Plaintext=b"direct")["CiphertextBlob"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ukms.decrypt(CiphertextBlob=ct)
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    denied = wait_for(lambda: [r for r in kms_records(cairn, key["Arn"], "GenerateDataKey")
                               if r.get("errorCode") == "AccessDenied"] or None)
    assert denied[0]["userIdentity"]["userName"] == name
    assert denied[0]["userIdentity"]["invokedBy"] == "s3.amazonaws.com"
