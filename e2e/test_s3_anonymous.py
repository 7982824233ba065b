"""Anonymous (unsigned) S3 requests as S3 has them (issue 21), with boto3 unsigned clients and
plain urllib: allowed only where a bucket policy lets everyone in (`"*"` or `{"AWS": "*"}`) or
an ACL grants AllUsers on a bucket with ACLs enabled, subject to Block Public Access at bucket and
account level; refused with S3's AccessDenied otherwise; recorded in the bucket owner's account
with CloudTrail's anonymous identity. Unsigned calls to other services, and S3 requests whose
signature is bad or incomplete, are refused as before, never served as anonymous."""

import gzip
import http.client
import json
import re
import urllib.error
import urllib.request
import uuid

import boto3
import botocore
import botocore.config
import botocore.exceptions
import pytest

from conftest import Cairn, documented_policy, lookup_all, start_object_trail, wait_for

ANONYMOUS = {"type": "AWSAccount", "principalId": "", "accountId": "anonymous"}
OFF = {"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
       "RestrictPublicBuckets": False}


@pytest.fixture(scope="module")
def lab(workdir):
    c = Cairn(workdir / "s3-anonymous", ["--delivery-interval", "1"])
    c.start()
    c.other = c.create_account()
    yield c
    c.stop()


def bucket_name(what):
    return f"{what}-{uuid.uuid4().hex[:10]}"


def unsigned(c, service="s3"):
    return boto3.client(service, endpoint_url=c.next_endpoint(), region_name="us-east-1",
                        config=botocore.config.Config(signature_version=botocore.UNSIGNED,
                                                      retries={"mode": "standard", "max_attempts": 1}))


def error(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response


def denied(call):
    r = error(call)
    return r["Error"]["Code"] == "AccessDenied" and r["ResponseMetadata"]["HTTPStatusCode"] == 403


def fetch(c, path, method="GET", body=None, headers=None):
    """A plain HTTP request with no signature (a path, or a whole URL): (status, headers, body)."""
    url = path if path.startswith("http") else c.next_endpoint() + path
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def code_of(body):
    m = re.search(rb"<Code>([^<]*)</Code>", body)
    return m.group(1).decode() if m else None


def everyone_may(b, action, resource, principal="*"):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Everyone", "Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource}]})


def control_client(c):
    """S3 Control puts the account id in front of the endpoint's host name: through cairn as a proxy."""
    return c.client("s3control", config=botocore.config.Config(proxies={"http": c.endpoint}))


def test_a_public_policy_lets_everyone_read_only_once_block_public_access_is_off(lab):
    s3, anon = lab.client("s3"), unsigned(lab)
    b = bucket_name("anon-policy")
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="public/hello.txt", Body=b"hello, world")
    s3.put_object(Bucket=b, Key="private/secret.txt", Body=b"secret")
    # A new bucket: all four Block Public Access settings on, no policy: nobody gets in.
    assert denied(lambda: anon.get_object(Bucket=b, Key="public/hello.txt"))
    status, _, body = fetch(lab, f"/{b}/public/hello.txt")
    assert status == 403 and code_of(body) == "AccessDenied" and b"<Message>Access Denied</Message>" in body
    # The public policy is refused while BlockPublicPolicy is on, and works once it is off.
    assert error(lambda: s3.put_bucket_policy(
        Bucket=b, Policy=everyone_may(b, "s3:GetObject", f"arn:aws:s3:::{b}/public/*")))["Error"]["Code"] == "AccessDenied"
    s3.delete_public_access_block(Bucket=b)
    s3.put_bucket_policy(Bucket=b, Policy=everyone_may(b, "s3:GetObject", f"arn:aws:s3:::{b}/public/*"))
    assert anon.get_object(Bucket=b, Key="public/hello.txt")["Body"].read() == b"hello, world"
    status, headers, body = fetch(lab, f"/{b}/public/hello.txt")
    assert status == 200 and body == b"hello, world"
    assert {k.lower(): v for k, v in headers.items()}["content-length"] == "12"
    assert anon.head_object(Bucket=b, Key="public/hello.txt")["ContentLength"] == 12
    # What the policy does not grant stays closed: another prefix, listing, writing, deleting.
    assert denied(lambda: anon.get_object(Bucket=b, Key="private/secret.txt"))
    assert fetch(lab, f"/{b}/private/secret.txt")[0] == 403
    assert denied(lambda: anon.list_objects_v2(Bucket=b))
    assert denied(lambda: anon.put_object(Bucket=b, Key="public/new.txt", Body=b"x"))
    assert denied(lambda: anon.delete_object(Bucket=b, Key="public/hello.txt"))
    assert denied(lambda: anon.get_bucket_policy(Bucket=b))
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]] == ["private/secret.txt", "public/hello.txt"]
    # A missing key under the granted prefix: S3 answers NoSuchKey to a caller allowed to read it.
    r = error(lambda: anon.get_object(Bucket=b, Key="public/missing.txt"))
    assert r["Error"]["Code"] == "NoSuchKey"
    # RestrictPublicBuckets shuts the public policy's door on everyone outside the owner's account.
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={**OFF, "RestrictPublicBuckets": True})
    assert denied(lambda: anon.get_object(Bucket=b, Key="public/hello.txt"))
    assert s3.get_object(Bucket=b, Key="public/hello.txt")["Body"].read() == b"hello, world"
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=OFF)
    assert anon.get_object(Bucket=b, Key="public/hello.txt")["Body"].read() == b"hello, world"
    # The account's setting combines with the bucket's: on at the account, off at the bucket, is on.
    account = lab.env()["CAIRN_ACCOUNT_ID"]
    control = control_client(lab)
    control.put_public_access_block(AccountId=account, PublicAccessBlockConfiguration={**OFF, "RestrictPublicBuckets": True})
    try:
        assert denied(lambda: anon.get_object(Bucket=b, Key="public/hello.txt"))
    finally:
        control.delete_public_access_block(AccountId=account)
    assert anon.get_object(Bucket=b, Key="public/hello.txt")["Body"].read() == b"hello, world"
    # `{"AWS": "*"}` is everyone too, anonymous callers included; an explicit deny wins.
    s3.put_bucket_policy(Bucket=b, Policy=everyone_may(b, ["s3:GetObject", "s3:ListBucket"],
                                                       [f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b}/*"], {"AWS": "*"}))
    assert anon.get_object(Bucket=b, Key="private/secret.txt")["Body"].read() == b"secret"
    assert [o["Key"] for o in anon.list_objects_v2(Bucket=b)["Contents"]] == ["private/secret.txt", "public/hello.txt"]
    policy = json.loads(everyone_may(b, "s3:GetObject", f"arn:aws:s3:::{b}/*"))
    policy["Statement"].append({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                                "Resource": f"arn:aws:s3:::{b}/private/*"})
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(policy))
    assert denied(lambda: anon.get_object(Bucket=b, Key="private/secret.txt"))
    assert anon.get_object(Bucket=b, Key="public/hello.txt")["Body"].read() == b"hello, world"
    # A condition on the source address applies to anonymous callers as to anyone.
    policy = json.loads(everyone_may(b, "s3:GetObject", f"arn:aws:s3:::{b}/*"))
    policy["Statement"][0]["Condition"] = {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(policy))
    assert denied(lambda: anon.get_object(Bucket=b, Key="public/hello.txt"))
    policy["Statement"][0]["Condition"] = {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(policy))
    assert anon.get_object(Bucket=b, Key="public/hello.txt")["Body"].read() == b"hello, world"


def test_unsigned_requests_for_no_bucket_are_refused_as_before(lab):
    anon = unsigned(lab)
    # No bucket, or a bucket that does not exist: the refusal every unsigned request had.
    assert denied(lambda: anon.list_buckets())
    assert denied(lambda: anon.get_object(Bucket=bucket_name("nowhere"), Key="k"))
    status, _, body = fetch(lab, f"/{bucket_name('nowhere')}/k")
    assert status == 403 and code_of(body) == "AccessDenied"
    assert denied(lambda: anon.create_bucket(Bucket=bucket_name("anon-made")))


def test_public_writes_and_refused_writes_before_their_body(lab):
    s3, anon = lab.client("s3"), unsigned(lab)
    b = bucket_name("anon-write")
    s3.create_bucket(Bucket=b)
    s3.delete_public_access_block(Bucket=b)
    s3.put_bucket_policy(Bucket=b, Policy=everyone_may(b, ["s3:PutObject", "s3:GetObject"], f"arn:aws:s3:::{b}/drop/*"))
    # Allowed: the object is written, owned by the bucket's account, and reads back.
    status, _, _ = fetch(lab, f"/{b}/drop/one.txt", "PUT", b"dropped by nobody", {"Content-Type": "text/plain"})
    assert status == 200
    got = s3.get_object(Bucket=b, Key="drop/one.txt")
    assert got["Body"].read() == b"dropped by nobody" and got["ContentType"] == "text/plain"
    anon.put_object(Bucket=b, Key="drop/two.bin", Body=b"\x00\x01" * 1000)
    assert anon.get_object(Bucket=b, Key="drop/two.bin")["Body"].read() == b"\x00\x01" * 1000
    # Refused: answered on its head alone, before a large body is sent, and the connection closed.
    conn = http.client.HTTPConnection("127.0.0.1", int(lab.next_endpoint().rsplit(":", 1)[1]), timeout=5)
    conn.putrequest("PUT", f"/{b}/elsewhere/big.bin")
    conn.putheader("Content-Length", str(60_000_000))
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    assert resp.status == 403 and code_of(body) == "AccessDenied"
    assert resp.getheader("Connection") == "close"
    conn.close()
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]] == ["drop/one.txt", "drop/two.bin"]


def test_an_acl_public_read_object_on_a_bucket_with_acls_enabled(lab):
    s3, anon, theirs = lab.client("s3"), unsigned(lab), lab.client("s3", account=lab.other["CAIRN_ACCOUNT_ID"])
    b = bucket_name("anon-acl")
    s3.create_bucket(Bucket=b, ObjectOwnership="ObjectWriter")
    s3.delete_public_access_block(Bucket=b)
    s3.put_object(Bucket=b, Key="open.txt", Body=b"for all", ACL="public-read")
    s3.put_object(Bucket=b, Key="closed.txt", Body=b"for the owner")
    s3.put_object(Bucket=b, Key="signed-only.txt", Body=b"for signed callers", ACL="authenticated-read")
    assert anon.get_object(Bucket=b, Key="open.txt")["Body"].read() == b"for all"
    status, _, body = fetch(lab, f"/{b}/open.txt")
    assert status == 200 and body == b"for all"
    assert denied(lambda: anon.get_object(Bucket=b, Key="closed.txt"))
    # AuthenticatedUsers is anyone who signs, of any account, and never an anonymous caller.
    assert theirs.get_object(Bucket=b, Key="signed-only.txt")["Body"].read() == b"for signed callers"
    assert denied(lambda: anon.get_object(Bucket=b, Key="signed-only.txt"))
    # A bucket ACL granting AllUsers READ lets everyone list; READ_ACP lets everyone read the ACL.
    assert denied(lambda: anon.list_objects_v2(Bucket=b))
    owner = s3.list_buckets()["Owner"]["ID"]
    s3.put_bucket_acl(Bucket=b, GrantFullControl=f'id="{owner}"',
                      GrantRead='uri="http://acs.amazonaws.com/groups/global/AllUsers"',
                      GrantReadACP='uri="http://acs.amazonaws.com/groups/global/AllUsers"')
    assert [o["Key"] for o in anon.list_objects_v2(Bucket=b)["Contents"]] == ["closed.txt", "open.txt", "signed-only.txt"]
    grants = anon.get_bucket_acl(Bucket=b)["Grants"]
    assert {g["Grantee"].get("URI") for g in grants} >= {"http://acs.amazonaws.com/groups/global/AllUsers"}
    # IgnorePublicAcls: the public grants no longer count.
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={**OFF, "IgnorePublicAcls": True})
    assert denied(lambda: anon.get_object(Bucket=b, Key="open.txt"))
    assert denied(lambda: anon.list_objects_v2(Bucket=b))
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=OFF)
    assert anon.get_object(Bucket=b, Key="open.txt")["Body"].read() == b"for all"
    # The anonymous GetBucketAcl is a management event: in the owner's event history.
    ct = lab.client("cloudtrail")

    def anonymous_acl_read():
        for e in lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetBucketAcl"}]):
            rec = json.loads(e["CloudTrailEvent"])
            if rec["requestParameters"].get("bucketName") == b and rec["userIdentity"] == ANONYMOUS:
                return rec
        return None
    rec = wait_for(anonymous_acl_read)
    assert rec["recipientAccountId"] == lab.env()["CAIRN_ACCOUNT_ID"]
    assert rec["eventCategory"] == "Management" and rec["managementEvent"] is True and rec["readOnly"] is True
    assert "SignatureVersion" not in rec["additionalEventData"]
    assert "AuthenticationMethod" not in rec["additionalEventData"]


def records_in(s3, bucket):
    recs = []
    for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in p.get("Contents", []):
            recs += json.loads(gzip.decompress(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()))["Records"]
    return recs


def test_anonymous_calls_are_data_events_in_the_bucket_owners_trail(lab):
    s3, anon = lab.client("s3"), unsigned(lab)
    account = lab.env()["CAIRN_ACCOUNT_ID"]
    logs, data = bucket_name("anon-logs"), bucket_name("anon-data")
    s3.create_bucket(Bucket=logs)
    s3.put_bucket_policy(Bucket=logs, Policy=documented_policy(logs, account))
    s3.create_bucket(Bucket=data)
    s3.delete_public_access_block(Bucket=data)
    s3.put_bucket_policy(Bucket=data, Policy=everyone_may(data, "s3:GetObject", f"arn:aws:s3:::{data}/pub/*"))
    s3.put_object(Bucket=data, Key="pub/a.txt", Body=b"abc")
    s3.put_object(Bucket=data, Key="priv/b.txt", Body=b"b")
    ct = lab.client()
    trail = f"anon-{uuid.uuid4().hex[:6]}"
    start_object_trail(ct, trail, logs, data)
    try:
        got = anon.get_object(Bucket=data, Key="pub/a.txt")
        assert got["Body"].read() == b"abc"
        ok_id = got["ResponseMetadata"]["RequestId"]
        status, headers, _ = fetch(lab, f"/{data}/priv/b.txt")
        assert status == 403
        denied_id = {k.lower(): v for k, v in headers.items()}["x-amz-request-id"]
        # A write refused on its head, its body unread, is recorded as refused too.
        status, headers, _ = fetch(lab, f"/{data}/priv/new.txt", "PUT", b"x" * 1000)
        assert status == 403
        write_id = {k.lower(): v for k, v in headers.items()}["x-amz-request-id"]
        wanted = (ok_id, denied_id, write_id)

        def delivered():
            mine = {r["requestID"]: r for r in records_in(s3, logs) if r["requestID"] in wanted}
            return mine if len(mine) == 3 else None
        recs = wait_for(delivered)
    finally:
        ct.delete_trail(Name=trail)
    ok, refused, write = recs[ok_id], recs[denied_id], recs[write_id]
    assert write["eventName"] == "PutObject" and write["errorCode"] == "AccessDenied"
    assert write["userIdentity"] == ANONYMOUS and write["readOnly"] is False
    assert write["requestParameters"]["key"] == "priv/new.txt"
    assert write["additionalEventData"]["bytesTransferredIn"] == 0
    assert "x-amz-copy-source" not in write["requestParameters"]
    for r in (ok, refused):
        assert r["userIdentity"] == ANONYMOUS
        assert r["recipientAccountId"] == account
        assert r["eventSource"] == "s3.amazonaws.com" and r["eventName"] == "GetObject"
        assert r["eventCategory"] == "Data" and r["managementEvent"] is False and r["readOnly"] is True
        assert r["awsRegion"] == "us-east-1" and r["sourceIPAddress"] == "127.0.0.1"
        assert "sharedEventID" in r
        extra = r["additionalEventData"]
        assert set(extra) == {"bytesTransferredIn", "x-amz-id-2", "bytesTransferredOut"}, extra
        assert r["resources"][1] == {"accountId": account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{data}"}
    assert ok["requestParameters"]["key"] == "pub/a.txt" and "errorCode" not in ok
    assert ok["additionalEventData"]["bytesTransferredOut"] == 3
    assert refused["requestParameters"]["key"] == "priv/b.txt"
    assert refused["errorCode"] == "AccessDenied" and refused["errorMessage"] == "Access Denied"


def test_a_bad_or_partial_signature_is_never_taken_for_anonymous(lab):
    s3 = lab.client("s3")
    b = bucket_name("anon-sig")
    s3.create_bucket(Bucket=b)
    s3.delete_public_access_block(Bucket=b)
    s3.put_bucket_policy(Bucket=b, Policy=everyone_may(b, "s3:GetObject", f"arn:aws:s3:::{b}/*"))
    s3.put_object(Bucket=b, Key="k", Body=b"public")
    assert fetch(lab, f"/{b}/k")[0] == 200
    # A wrong secret: refused on its signature, although everyone may read the object.
    e = lab.env()
    wrong = boto3.client("s3", endpoint_url=lab.next_endpoint(), region_name="us-east-1",
                         aws_access_key_id=e["AWS_ACCESS_KEY_ID"], aws_secret_access_key="x" * 40,
                         config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}))
    assert error(lambda: wrong.get_object(Bucket=b, Key="k"))["Error"]["Code"] == "SignatureDoesNotMatch"
    # A presigned URL with its signature altered, or pieces of one: refused, not anonymous.
    v4 = lab.client("s3", config=botocore.config.Config(signature_version="s3v4"))
    for client, signature in ((v4, r"X-Amz-Signature=[0-9a-f]+"), (s3, r"Signature=[^&]+")):
        url = client.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "k"}, ExpiresIn=300)
        # Sent to the host it was signed for (a cluster has one per node).
        assert fetch(lab, url)[0] == 200
        tampered, n = re.subn(signature, signature.split("=")[0] + "=AAAA" + "0" * 60, url)
        assert n == 1, url
        status, _, body = fetch(lab, tampered)
        assert status == 403 and code_of(body) == "SignatureDoesNotMatch", body
    status, _, body = fetch(lab, f"/{b}/k?X-Amz-Credential=AKIAEXAMPLE%2F20250101%2Fus-east-1%2Fs3%2Faws4_request")
    assert status == 403 and code_of(body) == "AccessDenied"
    status, _, body = fetch(lab, f"/{b}/k", headers={"X-Amz-Security-Token": "token"})
    assert status == 403 and code_of(body) == "AccessDenied"
    status, _, body = fetch(lab, f"/{b}/k", headers={"Authorization": "Bearer abc"})
    assert status == 400 and code_of(body) == "InvalidArgument"


def test_other_services_still_refuse_unsigned_calls(lab):
    r = error(lambda: unsigned(lab, "cloudtrail").describe_trails())
    assert r["Error"]["Code"] == "MissingAuthenticationTokenException"
    r = error(lambda: unsigned(lab, "sts").get_caller_identity())
    assert r["Error"]["Code"] == "MissingAuthenticationToken"
    r = error(lambda: unsigned(lab, "iam").list_users())
    assert r["Error"]["Code"] == "MissingAuthenticationToken"
    r = error(lambda: unsigned(lab, "kms").list_keys())
    assert r["Error"]["Code"] == "MissingAuthenticationTokenException"
