"""The embedded S3, with the real AWS CLI and boto3: what `aws s3` and SDK defaults send must
work, errors must be S3's, and S3 calls must be recorded as AWS records them."""

import base64
import hashlib
import json
import os
import urllib.error
import urllib.request
import uuid
import zlib

import botocore.config
import botocore.exceptions
import pytest

from conftest import lookup_all


def bucket_name(prefix="b"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def code_of(fn, *a, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(*a, **kw)
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_cli_round_trip_small_and_multipart(cairn, tmp_path):
    b = bucket_name("cli")
    cairn.aws("s3", "mb", f"s3://{b}")
    small = tmp_path / "small.txt"
    small.write_text("hello cairn\n")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * 1024 * 1024 + 123))
    cairn.aws("s3", "cp", str(small), f"s3://{b}/dir/small.txt")
    cairn.aws("s3", "cp", str(big), f"s3://{b}/big.bin")
    _, out, _ = cairn.aws("s3api", "list-objects-v2", "--bucket", b)
    sizes = {o["Key"]: o["Size"] for o in out["Contents"]}
    assert sizes == {"big.bin": big.stat().st_size, "dir/small.txt": small.stat().st_size}
    etags = {o["Key"]: o["ETag"] for o in out["Contents"]}
    assert etags["dir/small.txt"] == '"%s"' % hashlib.md5(small.read_bytes()).hexdigest()
    assert etags["big.bin"].endswith('-3"'), "multipart ETag: md5 of part md5s, dash, part count"
    back = tmp_path / "back.bin"
    cairn.aws("s3", "cp", f"s3://{b}/big.bin", str(back))
    assert back.read_bytes() == big.read_bytes()
    cairn.aws("s3", "rm", f"s3://{b}", "--recursive")
    cairn.aws("s3", "rb", f"s3://{b}")
    rc, _, err = cairn.aws("s3api", "head-bucket", "--bucket", b, check=False)
    assert rc != 0 and "404" in err


def test_boto3_defaults_checksums_metadata_ranges_and_presigned_urls(cairn):
    s3 = cairn.client("s3")
    b = bucket_name("sdk")
    s3.create_bucket(Bucket=b)
    body = b"0123456789" * 1000
    r = s3.put_object(Bucket=b, Key="a/b c.txt", Body=body, ContentType="text/plain", Metadata={"Owner": "Alice"})
    assert r["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    assert r["ServerSideEncryption"] == "AES256"
    assert "ChecksumCRC32" in r, "boto3 sends a CRC32 by default and S3 echoes it"
    g = s3.get_object(Bucket=b, Key="a/b c.txt", ChecksumMode="ENABLED")
    assert g["Body"].read() == body
    assert g["ContentType"] == "text/plain" and g["Metadata"] == {"owner": "Alice"}
    assert g["ChecksumCRC32"] == r["ChecksumCRC32"]
    part = s3.get_object(Bucket=b, Key="a/b c.txt", Range="bytes=10-19")
    assert part["Body"].read() == body[10:20] and part["ContentRange"] == f"bytes 10-19/{len(body)}"
    assert code_of(s3.get_object, Bucket=b, Key="a/b c.txt", Range="bytes=999999-") == ("InvalidRange", 416)
    # Presigned GETs: botocore's default (SigV2 query) and SigV4.
    for cfg in [None, botocore.config.Config(signature_version="s3v4")]:
        client = cairn.client("s3", config=cfg) if cfg else s3
        url = client.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "a/b c.txt"}, ExpiresIn=60)
        with urllib.request.urlopen(url) as resp:
            assert resp.read() == body
    # A presigned download under another name and type: `response-*` overrides the answer's headers.
    url = s3.generate_presigned_url("get_object", Params={
        "Bucket": b, "Key": "a/b c.txt", "ResponseContentType": "application/octet-stream",
        "ResponseContentDisposition": 'attachment; filename="report.txt"', "ResponseCacheControl": "no-store"})
    with urllib.request.urlopen(url) as resp:
        assert resp.headers["Content-Type"] == "application/octet-stream"
        assert resp.headers["Content-Disposition"] == 'attachment; filename="report.txt"'
        assert resp.headers["Cache-Control"] == "no-store"
    over = s3.head_object(Bucket=b, Key="a/b c.txt", ResponseContentLanguage="fr")
    assert over["ContentLanguage"] == "fr" and over["ContentType"] == "text/plain"
    bad = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "a/b c.txt"}, ExpiresIn=60).replace("Signature=", "Signature=A")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(bad)
    assert e.value.code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in e.value.read()


def test_boto3_multipart_upload_and_its_errors(cairn):
    s3 = cairn.client("s3")
    b = bucket_name("mpu")
    s3.create_bucket(Bucket=b)
    up = s3.create_multipart_upload(Bucket=b, Key="k")["UploadId"]
    p1 = os.urandom(5 * 1024 * 1024)
    e1 = s3.upload_part(Bucket=b, Key="k", UploadId=up, PartNumber=1, Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket=b, Key="k", UploadId=up, PartNumber=2, Body=b"tail")["ETag"]
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=b, Key="k", UploadId=up)["Parts"]] == [1, 2]
    assert code_of(s3.complete_multipart_upload, Bucket=b, Key="k", UploadId=up,
                   MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]}) == ("InvalidPartOrder", 400)
    s3.complete_multipart_upload(Bucket=b, Key="k", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == p1 + b"tail"
    assert code_of(s3.list_parts, Bucket=b, Key="k", UploadId=up) == ("NoSuchUpload", 404)
    up = s3.create_multipart_upload(Bucket=b, Key="k2")["UploadId"]
    s3.abort_multipart_upload(Bucket=b, Key="k2", UploadId=up)
    assert code_of(s3.abort_multipart_upload, Bucket=b, Key="k2", UploadId=up) == ("NoSuchUpload", 404)


def test_listing_prefix_delimiter_pages_and_url_encoding(cairn):
    s3 = cairn.client("s3")
    b = bucket_name("list")
    s3.create_bucket(Bucket=b)
    keys = [f"logs/2026/{i:03d}.json" for i in range(25)] + ["logs/readme", "other/x", "ü-unicode", "a+b c"]
    for k in keys:
        s3.put_object(Bucket=b, Key=k, Body=b".")
    v2 = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=b, PaginationConfig={"PageSize": 7}) for o in p.get("Contents", [])]
    assert v2 == sorted(keys, key=lambda k: k.encode())
    v1 = [o["Key"] for p in s3.get_paginator("list_objects").paginate(Bucket=b, PaginationConfig={"PageSize": 4}) for o in p.get("Contents", [])]
    assert v1 == v2
    top = s3.list_objects_v2(Bucket=b, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["logs/", "other/"]
    assert [o["Key"] for o in top["Contents"]] == ["a+b c", "ü-unicode"]
    sub = s3.list_objects_v2(Bucket=b, Prefix="logs/", Delimiter="/", MaxKeys=1000)
    assert [p["Prefix"] for p in sub["CommonPrefixes"]] == ["logs/2026/"]
    assert sub["KeyCount"] == 2
    _, out, _ = cairn.aws("s3api", "list-objects", "--bucket", b, "--prefix", "a+b")
    assert [o["Key"] for o in out["Contents"]] == ["a+b c"]


def test_copy_delete_objects_versioning_policy_encryption(cairn):
    s3 = cairn.client("s3")
    b = bucket_name("cfg")
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="src", Body=b"data", Metadata={"k": "v"})
    s3.copy_object(Bucket=b, Key="dst", CopySource={"Bucket": b, "Key": "src"})
    assert s3.head_object(Bucket=b, Key="dst")["Metadata"] == {"k": "v"}
    r = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "src"}, {"Key": "dst"}, {"Key": "missing"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["dst", "missing", "src"]
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=b)["Status"] == "Enabled"
    v1 = s3.put_object(Bucket=b, Key="v", Body=b"one")["VersionId"]
    s3.put_object(Bucket=b, Key="v", Body=b"two")
    assert s3.get_object(Bucket=b, Key="v", VersionId=v1)["Body"].read() == b"one"
    assert s3.delete_object(Bucket=b, Key="v")["DeleteMarker"] is True
    assert code_of(s3.get_object, Bucket=b, Key="v") == ("NoSuchKey", 404)
    assert code_of(s3.get_bucket_policy, Bucket=b) == ("NoSuchBucketPolicy", 404)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                                                      "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{b}"}]}
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(policy))
    assert json.loads(s3.get_bucket_policy(Bucket=b)["Policy"]) == policy
    assert code_of(s3.put_bucket_policy, Bucket=b, Policy="not json") == ("MalformedPolicy", 400)
    assert code_of(s3.put_bucket_policy, Bucket=b, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})) == ("MalformedPolicy", 400)  # no Principal
    s3.delete_bucket_policy(Bucket=b)
    enc = s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert enc["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_location(Bucket=b)["LocationConstraint"] is None


def test_s3_errors(cairn):
    s3 = cairn.client("s3")
    b = bucket_name("err")
    assert code_of(s3.head_bucket, Bucket=b) == ("404", 404)
    assert code_of(s3.get_object, Bucket=b, Key="k") == ("NoSuchBucket", 404)
    assert code_of(s3.create_bucket, Bucket="Bad_Name") == ("InvalidBucketName", 400)
    s3.create_bucket(Bucket=b)
    assert code_of(s3.create_bucket, Bucket=b) == ("BucketAlreadyOwnedByYou", 409)
    assert code_of(s3.get_object, Bucket=b, Key="nope") == ("NoSuchKey", 404)
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    assert code_of(s3.delete_bucket, Bucket=b) == ("BucketNotEmpty", 409)
    assert code_of(s3.put_object, Bucket=b, Key="k", Body=b"x", ContentMD5="AAAAAAAAAAAAAAAAAAAAAA==") == ("BadDigest", 400)


def test_regional_bucket_and_virtual_host_addressing(cairn):
    s3 = cairn.client("s3", region="eu-west-1")
    b = bucket_name("eu")
    s3.create_bucket(Bucket=b, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket=b)["LocationConstraint"] == "eu-west-1"
    s3.put_object(Bucket=b, Key="vh.txt", Body=b"virtual")
    # A virtual-host request: the bucket in the Host header, signed as an SDK signs it.
    import botocore.auth, botocore.awsrequest, botocore.credentials
    env = cairn.env()
    host = f"{b}.s3.eu-west-1.amazonaws.com"
    req = botocore.awsrequest.AWSRequest(method="GET", url=f"http://{host}/vh.txt", headers={"x-amz-content-sha256": hashlib.sha256(b"").hexdigest()})
    botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]), "s3", "eu-west-1").add_auth(req)
    headers = dict(req.headers.items())
    headers["Host"] = host
    raw = urllib.request.Request(f"{cairn.endpoint}/vh.txt", headers=headers)
    with urllib.request.urlopen(raw) as r:
        assert r.read() == b"virtual"


def test_bucket_calls_are_management_events_and_object_calls_are_not_in_history(cairn):
    s3 = cairn.client("s3", region="us-west-1")
    b = bucket_name("rec")
    rid = s3.create_bucket(Bucket=b, CreateBucketConfiguration={"LocationConstraint": "us-west-1"})["ResponseMetadata"]["RequestId"]
    s3.put_object(Bucket=b, Key="obj", Body=b"x")
    s3.get_object(Bucket=b, Key="obj")["Body"].read()
    events = lookup_all(cairn.client(region="us-west-1"), LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": b}])
    names = sorted(e["EventName"] for e in events)
    assert names == ["CreateBucket"], names
    rec = json.loads(events[0]["CloudTrailEvent"])
    assert rec["eventSource"] == "s3.amazonaws.com" and rec["requestID"] == rid and len(rid) == 16
    assert rec["requestParameters"]["bucketName"] == b
    assert rec["requestParameters"]["Host"].startswith("127.0.0.1:")
    assert rec["resources"] == [{"accountId": rec["recipientAccountId"], "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{b}"}]
    assert rec["additionalEventData"]["SignatureVersion"] == "SigV4"
    assert rec["additionalEventData"]["AuthenticationMethod"] == "AuthHeader"
    assert rec["managementEvent"] is True and rec["eventCategory"] == "Management" and rec["readOnly"] is False
    everything = lookup_all(cairn.client(region="us-west-1"), LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "s3.amazonaws.com"}])
    assert not any(e["EventName"] in ("PutObject", "GetObject") for e in everything), "data events never reach event history"


def test_objects_are_encrypted_at_rest(cairn):
    s3 = cairn.client("s3")
    b = bucket_name("sse")
    s3.create_bucket(Bucket=b)
    marker = b"cairn-plaintext-marker-" + uuid.uuid4().hex.encode()
    r = s3.put_object(Bucket=b, Key="secret.txt", Body=marker * 100)
    assert r["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=b, Key="secret.txt")["Body"].read() == marker * 100
    for path in (cairn.data_dir / "s3").rglob("*"):
        if path.is_file():
            assert marker not in path.read_bytes(), f"plaintext found in {path}"
    key = cairn.data_dir / "s3" / "blobs" / "master.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"


def streaming_put(cairn, bucket, key, data, tamper=False, trailer=None, tamper_trailer=False):
    """A signed aws-chunked upload (STREAMING-AWS4-HMAC-SHA256-PAYLOAD): the seed signed by
    botocore, each chunk chained from it as the S3 API Reference describes; with `trailer`
    (name, value), the -TRAILER variant with a signed trailing checksum."""
    import datetime
    import hmac
    import botocore.auth, botocore.awsrequest, botocore.credentials
    env = cairn.env()
    url = f"{cairn.endpoint}/{bucket}/{key}"
    chunks = [data[i:i + 8192] for i in range(0, len(data), 8192)] + [b""]
    declared = {"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "Content-Encoding": "aws-chunked",
                "x-amz-decoded-content-length": str(len(data))}
    if trailer:
        declared["x-amz-content-sha256"] = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
        declared["x-amz-trailer"] = trailer[0]
    req = botocore.awsrequest.AWSRequest(method="PUT", url=url, headers=declared)
    # SigV4Auth signs the declared STREAMING payload hash (S3SigV4Auth would replace it).
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]), "s3", "us-east-1").add_auth(req)
    headers = dict(req.headers.items())
    amz_date = headers["X-Amz-Date"]
    prev = headers["Authorization"].rsplit("Signature=", 1)[1]
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    key_bytes = ("AWS4" + env["AWS_SECRET_ACCESS_KEY"]).encode()
    for part in (amz_date[:8], "us-east-1", "s3", "aws4_request"):
        key_bytes = hmac.new(key_bytes, part.encode(), hashlib.sha256).digest()
    body = b""
    for c in chunks:
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, hashlib.sha256(b"").hexdigest(), hashlib.sha256(c).hexdigest()])
        prev = hmac.new(key_bytes, sts.encode(), hashlib.sha256).hexdigest()
        sent = (c[:-1] + b"!") if tamper and c else c
        body += f"{len(c):x};chunk-signature={prev}\r\n".encode() + sent + (b"\r\n" if c or not trailer else b"")
    if trailer:
        canonical = f"{trailer[0]}:{trailer[1]}\n"
        sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, scope, prev, hashlib.sha256(canonical.encode()).hexdigest()])
        sig = hmac.new(key_bytes, sts.encode(), hashlib.sha256).hexdigest()
        if tamper_trailer:
            sig = sig[:-1] + ("0" if sig[-1] != "0" else "1")
        body += f"{trailer[0]}:{trailer[1]}\r\nx-amz-trailer-signature:{sig}\r\n".encode()
    body += b"\r\n"
    return send_put(url, body, headers)


def send_put(url, body, headers):
    """PUTs `body` as is; returns the status and, for an error, S3's error document."""
    r = urllib.request.Request(url, data=body, headers=headers, method="PUT")
    try:
        with urllib.request.urlopen(r) as resp:
            return resp.status, b""
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_signed_streaming_uploads_are_verified_chunk_by_chunk(cairn):
    s3 = cairn.client("s3")
    b = bucket_name("stream")
    s3.create_bucket(Bucket=b)
    data = os.urandom(30000)
    status, _ = streaming_put(cairn, b, "streamed.bin", data)
    assert status == 200
    assert s3.get_object(Bucket=b, Key="streamed.bin")["Body"].read() == data
    status, body = streaming_put(cairn, b, "tampered.bin", data, tamper=True)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    assert code_of(s3.head_object, Bucket=b, Key="tampered.bin") == ("404", 404)


def test_signed_trailers_are_verified(cairn):
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: the trailing checksum is signed too."""
    s3 = cairn.client("s3")
    b = bucket_name("trailer")
    s3.create_bucket(Bucket=b)
    data = os.urandom(20000)
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    status, body = streaming_put(cairn, b, "trailed.bin", data, trailer=("x-amz-checksum-crc32", crc))
    assert status == 200, body
    got = s3.get_object(Bucket=b, Key="trailed.bin", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    status, body = streaming_put(cairn, b, "forged.bin", data, trailer=("x-amz-checksum-crc32", crc), tamper_trailer=True)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    wrong = base64.b64encode((zlib.crc32(data) ^ 1).to_bytes(4, "big")).decode()
    status, body = streaming_put(cairn, b, "wrongsum.bin", data, trailer=("x-amz-checksum-crc32", wrong))
    assert status == 400 and b"BadDigest" in body
    assert code_of(s3.head_object, Bucket=b, Key="forged.bin") == ("404", 404)


def test_a_declared_payload_hash_must_match_the_body_even_when_chunked(cairn):
    import botocore.auth, botocore.awsrequest, botocore.credentials
    s3 = cairn.client("s3")
    b = bucket_name("hash")
    s3.create_bucket(Bucket=b)
    env = cairn.env()
    url = f"{cairn.endpoint}/{b}/k"
    req = botocore.awsrequest.AWSRequest(method="PUT", url=url, headers={"Content-Encoding": "aws-chunked"})
    botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]), "s3", "us-east-1").add_auth(req)
    r = urllib.request.Request(url, data=b"5\r\nhello\r\n0\r\n\r\n", headers=dict(req.headers.items()), method="PUT")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(r)
    assert e.value.code == 400 and b"XAmzContentSHA256Mismatch" in e.value.read()


def test_acls_are_disabled_as_in_new_s3_buckets(cairn):
    """Buckets are "bucket owner enforced": reading an ACL answers the owner's full control,
    setting one is accepted only when it says just that."""
    s3 = cairn.client("s3")
    b = bucket_name("acl")
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    owner = s3.list_buckets()["Owner"]["ID"]
    for acl in (s3.get_bucket_acl(Bucket=b), s3.get_object_acl(Bucket=b, Key="k")):
        assert acl["Owner"]["ID"] == owner and len(owner) == 64
        assert acl["Grants"] == [{"Grantee": {"ID": owner, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}]
    # The owner's full control, however it is said, is accepted and changes nothing.
    s3.put_bucket_acl(Bucket=b, ACL="private")
    s3.put_object_acl(Bucket=b, Key="k", ACL="bucket-owner-full-control")
    s3.put_bucket_acl(Bucket=b, AccessControlPolicy={
        "Owner": {"ID": owner},
        "Grants": [{"Grantee": {"ID": owner, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}]})
    # Anything more is refused as S3 refuses it.
    assert code_of(s3.put_bucket_acl, Bucket=b, ACL="public-read") == ("AccessControlListNotSupported", 400)
    assert code_of(s3.put_object_acl, Bucket=b, Key="k", ACL="public-read") == ("AccessControlListNotSupported", 400)
    assert code_of(s3.put_object, Bucket=b, Key="p", Body=b"x", ACL="public-read") == ("AccessControlListNotSupported", 400)
    assert code_of(s3.put_object, Bucket=b, Key="p", Body=b"x", GrantRead="uri=http://acs.amazonaws.com/groups/global/AllUsers") == ("AccessControlListNotSupported", 400)
    assert code_of(s3.put_bucket_acl, Bucket=b, AccessControlPolicy={
        "Owner": {"ID": owner},
        "Grants": [{"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]}) == ("AccessControlListNotSupported", 400)
    assert code_of(s3.create_bucket, Bucket=bucket_name("acl"), ACL="public-read") == ("InvalidBucketAclWithObjectOwnership", 400)
    assert code_of(s3.get_object_acl, Bucket=b, Key="missing") == ("NoSuchKey", 404)
    # The CLI reads the same document.
    _, out, _ = cairn.aws("s3api", "get-bucket-acl", "--bucket", b)
    assert out["Grants"][0]["Permission"] == "FULL_CONTROL"
    # GetBucketAcl is a read-only management event; object ACL calls are data events.
    events = lookup_all(cairn.client(), LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": b}])
    names = {e["EventName"] for e in events}
    assert {"GetBucketAcl", "PutBucketAcl"} <= names and not names & {"GetObjectAcl", "PutObjectAcl"}, names
    get = next(json.loads(e["CloudTrailEvent"]) for e in events if e["EventName"] == "GetBucketAcl")
    assert get["readOnly"] is True and get["requestParameters"]["acl"] == ""


def unsigned_put(cairn, bucket, key, body, declared):
    """A PUT whose headers are signed but whose body is not (`declared` names the payload hash
    the signature covers), as SDKs send over HTTPS."""
    import botocore.auth, botocore.awsrequest, botocore.credentials
    env = cairn.env()
    url = f"{cairn.endpoint}/{bucket}/{key}"
    req = botocore.awsrequest.AWSRequest(method="PUT", url=url, headers=declared)
    # SigV4Auth signs the declared x-amz-content-sha256 as it is.
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]), "s3", "us-east-1").add_auth(req)
    return send_put(url, body, dict(req.headers.items()))


def test_unsigned_payloads_and_unsigned_trailers(cairn):
    """UNSIGNED-PAYLOAD, and STREAMING-UNSIGNED-PAYLOAD-TRAILER (what current SDKs send over
    HTTPS: an aws-chunked body without chunk signatures, its checksum in a trailer)."""
    s3 = cairn.client("s3")
    b = bucket_name("unsigned")
    s3.create_bucket(Bucket=b)
    data = os.urandom(70000)
    status, body = unsigned_put(cairn, b, "plain.bin", data, {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    assert status == 200, body
    assert s3.get_object(Bucket=b, Key="plain.bin")["Body"].read() == data

    def chunked(trailer_value):
        out = b""
        for i in range(0, len(data), 16384):
            c = data[i:i + 16384]
            out += f"{len(c):x}\r\n".encode() + c + b"\r\n"
        return out + f"0\r\nx-amz-checksum-crc32:{trailer_value}\r\n\r\n".encode()
    declared = {"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "Content-Encoding": "aws-chunked",
                "x-amz-decoded-content-length": str(len(data)), "x-amz-trailer": "x-amz-checksum-crc32"}
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    status, body = unsigned_put(cairn, b, "trailed.bin", chunked(crc), declared)
    assert status == 200, body
    got = s3.get_object(Bucket=b, Key="trailed.bin", ChecksumMode="ENABLED")
    assert got["Body"].read() == data and got["ChecksumCRC32"] == crc
    assert "ContentEncoding" not in got, "aws-chunked is framing, not the object's encoding"
    wrong = base64.b64encode((zlib.crc32(data) ^ 1).to_bytes(4, "big")).decode()
    status, body = unsigned_put(cairn, b, "wrong.bin", chunked(wrong), declared)
    assert status == 400 and b"<Code>BadDigest</Code>" in body
    short = dict(declared, **{"x-amz-decoded-content-length": str(len(data) + 1)})
    status, body = unsigned_put(cairn, b, "short.bin", chunked(crc), short)
    assert status == 400 and b"<Code>IncompleteBody</Code>" in body
    assert code_of(s3.head_object, Bucket=b, Key="wrong.bin") == ("404", 404)


def test_boto3_managed_transfers_and_bucket_encryption(cairn, tmp_path):
    """boto3's own upload_file/download_file (multipart with per-part checksums above the
    threshold), and default bucket encryption set, read and removed."""
    from boto3.s3.transfer import TransferConfig
    s3 = cairn.client("s3")
    b = bucket_name("xfer")
    s3.create_bucket(Bucket=b)
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(13 * 1024 * 1024 + 7))
    cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    s3.upload_file(str(src), b, "big.bin", Config=cfg)
    head = s3.head_object(Bucket=b, Key="big.bin")
    assert head["ContentLength"] == src.stat().st_size and head["ETag"].endswith('-3"'), head["ETag"]
    dst = tmp_path / "back.bin"
    s3.download_file(b, "big.bin", str(dst), Config=cfg)
    assert dst.read_bytes() == src.read_bytes()

    assert s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    key_id = cairn.client("kms").create_key()["KeyMetadata"]["KeyId"]
    s3.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_id}}]})
    rule = s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    assert rule == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_id}
    put = s3.put_object(Bucket=b, Key="by-default.txt", Body=b"sealed with the bucket's key")
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"].endswith(key_id)
    assert s3.get_object(Bucket=b, Key="by-default.txt")["Body"].read() == b"sealed with the bucket's key"
    s3.delete_bucket_encryption(Bucket=b)
    assert s3.put_object(Bucket=b, Key="after.txt", Body=b"x")["ServerSideEncryption"] == "AES256"
    assert code_of(s3.put_bucket_encryption, Bucket=b, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "rot13"}}]}) == ("MalformedXML", 400)



def test_conditional_reads_and_headers_answered_as_stored(cairn, tmp_path):
    """GetObject and HeadObject with If-Match, If-None-Match, If-Modified-Since and
    If-Unmodified-Since, as S3 answers them (412 PreconditionFailed, 304 Not Modified with the
    ETag), through boto3 and the AWS CLI; Cache-Control answered exactly as it was sent."""
    s3 = cairn.client("s3")
    b = bucket_name("cond")
    s3.create_bucket(Bucket=b)
    etag = s3.put_object(Bucket=b, Key="k", Body=b"bar", CacheControl="public, max-age=14400")["ETag"]
    assert s3.head_object(Bucket=b, Key="k")["CacheControl"] == "public, max-age=14400"
    assert s3.get_object(Bucket=b, Key="k", IfMatch=etag)["Body"].read() == b"bar"
    assert code_of(s3.get_object, Bucket=b, Key="k", IfMatch='"ABCORZ"') == ("PreconditionFailed", 412)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=b, Key="k", IfNoneMatch=etag)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["etag"] == etag
    assert s3.get_object(Bucket=b, Key="k", IfNoneMatch='"other"')["Body"].read() == b"bar"
    old, future = "Sat, 29 Oct 1994 19:43:31 GMT", "Sat, 29 Oct 2100 19:43:31 GMT"
    assert s3.get_object(Bucket=b, Key="k", IfModifiedSince=old)["Body"].read() == b"bar"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket=b, Key="k", IfModifiedSince=future)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    assert code_of(s3.get_object, Bucket=b, Key="k", IfUnmodifiedSince=old) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=b, Key="k", IfUnmodifiedSince=future)["Body"].read() == b"bar"
    # S3's pairings: a matching If-Match wins over a failing If-Unmodified-Since; a differing
    # If-None-Match over a true If-Modified-Since... and a matching one gives 304 whatever the date.
    assert s3.get_object(Bucket=b, Key="k", IfMatch=etag, IfUnmodifiedSince=old)["Body"].read() == b"bar"
    assert s3.get_object(Bucket=b, Key="k", IfNoneMatch='"other"', IfModifiedSince=future)["Body"].read() == b"bar"
    rc, _, err = cairn.aws("s3api", "get-object", "--bucket", b, "--key", "k", "--if-match", '"nope"',
                           str(tmp_path / "out"), check=False)
    assert rc != 0 and "PreconditionFailed" in err, err
    cairn.aws("s3api", "get-object", "--bucket", b, "--key", "k", "--if-none-match", '"nope"', str(tmp_path / "out"))
    assert (tmp_path / "out").read_bytes() == b"bar"
