"""UploadPartCopy with boto3 and the real AWS CLI v1 (issue 21): parts copied from whole objects
and from byte ranges of them, mixed with uploaded parts, completed and read back byte-exact;
S3's errors (InvalidArgument and InvalidRange for ranges, NoSuchUpload, NoSuchKey, the source's
conditions answering 412, EntityTooSmall at completion); a source version named in the copy
source; s3:GetObject (s3:GetObjectVersion for a version) on the source and s3:PutObject on the
target; and the call recorded as AWS records it, a data event."""

import gzip
import hashlib
import json
import os
import uuid

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import Cairn, documented_policy, start_object_trail, wait_for

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def lab(workdir):
    c = Cairn(workdir / "s3-part-copy", ["--delivery-interval", "1"])
    c.start()
    yield c
    c.stop()


def bucket_name(what):
    return f"{what}-{uuid.uuid4().hex[:10]}"


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]


def md5_etag(data):
    return '"' + hashlib.md5(data).hexdigest() + '"'


def test_parts_copied_from_ranges_and_whole_objects_complete_byte_exact(lab):
    s3 = lab.client("s3")
    src, dst = bucket_name("pc-src"), bucket_name("pc-dst")
    s3.create_bucket(Bucket=src)
    s3.create_bucket(Bucket=dst)
    big = os.urandom(12 * MIB + 12345)
    tail = os.urandom(777)
    s3.put_object(Bucket=src, Key="dir/big object.bin", Body=big)
    s3.put_object(Bucket=src, Key="tail.bin", Body=tail)
    upload = s3.create_multipart_upload(Bucket=dst, Key="joined.bin")["UploadId"]
    # Part 1: the first 5 MiB of the big object (boto3, with a range).
    one = s3.upload_part_copy(Bucket=dst, Key="joined.bin", UploadId=upload, PartNumber=1,
                              CopySource={"Bucket": src, "Key": "dir/big object.bin"},
                              CopySourceRange=f"bytes=0-{5 * MIB - 1}")["CopyPartResult"]
    assert one["ETag"] == md5_etag(big[:5 * MIB]) and one["LastModified"]
    # Part 2: the rest of it (the AWS CLI, with a range).
    _, out, _ = lab.aws("s3api", "upload-part-copy", "--bucket", dst, "--key", "joined.bin",
                        "--upload-id", upload, "--part-number", "2",
                        "--copy-source", f"{src}/dir/big object.bin",
                        "--copy-source-range", f"bytes={5 * MIB}-{len(big) - 1}")
    assert out["CopyPartResult"]["ETag"] == md5_etag(big[5 * MIB:])
    # Part 3: uploaded; part 4: a whole small object, the last part (so it may be small).
    middle = os.urandom(5 * MIB)
    three = s3.upload_part(Bucket=dst, Key="joined.bin", UploadId=upload, PartNumber=3, Body=middle)
    _, out, _ = lab.aws("s3api", "upload-part-copy", "--bucket", dst, "--key", "joined.bin",
                        "--upload-id", upload, "--part-number", "4", "--copy-source", f"{src}/tail.bin")
    four = out["CopyPartResult"]
    assert four["ETag"] == md5_etag(tail)
    parts = s3.list_parts(Bucket=dst, Key="joined.bin", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [
        (1, 5 * MIB), (2, len(big) - 5 * MIB), (3, 5 * MIB), (4, len(tail))]
    s3.complete_multipart_upload(Bucket=dst, Key="joined.bin", UploadId=upload, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": one["ETag"]}, {"PartNumber": 2, "ETag": md5_etag(big[5 * MIB:])},
        {"PartNumber": 3, "ETag": three["ETag"]}, {"PartNumber": 4, "ETag": four["ETag"]}]})
    got = s3.get_object(Bucket=dst, Key="joined.bin")
    assert got["Body"].read() == big + middle + tail
    assert got["ETag"].endswith('-4"')
    # Copying a part again replaces it, as uploading one does.
    again = s3.create_multipart_upload(Bucket=dst, Key="again.bin")["UploadId"]
    s3.upload_part_copy(Bucket=dst, Key="again.bin", UploadId=again, PartNumber=1,
                        CopySource={"Bucket": src, "Key": "tail.bin"})
    redo = s3.upload_part_copy(Bucket=dst, Key="again.bin", UploadId=again, PartNumber=1,
                               CopySource={"Bucket": src, "Key": "dir/big object.bin"},
                               CopySourceRange="bytes=10-19")["CopyPartResult"]
    s3.complete_multipart_upload(Bucket=dst, Key="again.bin", UploadId=again,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": redo["ETag"]}]})
    assert s3.get_object(Bucket=dst, Key="again.bin")["Body"].read() == big[10:20]


def test_s3s_errors(lab):
    s3 = lab.client("s3")
    b = bucket_name("pc-err")
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="five", Body=b"12345")
    upload = s3.create_multipart_upload(Bucket=b, Key="dest")["UploadId"]
    source = {"Bucket": b, "Key": "five"}

    def copy(**kw):
        args = {"Bucket": b, "Key": "dest", "UploadId": upload, "PartNumber": 1, "CopySource": source}
        return s3.upload_part_copy(**{**args, **kw})
    for bad in ["0-2", "bytes=0", "bytes=hello-world", "bytes=0-bar", "bytes=hello-", "bytes=0-2,3-5"]:
        code, status, err = error_of(lambda: copy(CopySourceRange=bad))
        assert (code, status) == ("InvalidArgument", 400), bad
    code, status, err = error_of(lambda: copy(CopySourceRange="bytes=0-21"))
    assert (code, status) == ("InvalidRange", 416)
    assert err["Message"] == "The requested range is not satisfiable"
    code, status, _ = error_of(lambda: copy(UploadId="no-such-upload"))
    assert (code, status) == ("NoSuchUpload", 404)
    code, status, err = error_of(lambda: copy(CopySource={"Bucket": b, "Key": "missing"}))
    assert (code, status) == ("NoSuchKey", 404)
    code, status, _ = error_of(lambda: copy(CopySource={"Bucket": bucket_name("nowhere"), "Key": "k"}))
    assert (code, status) == ("NoSuchBucket", 404)
    code, status, _ = error_of(lambda: copy(PartNumber=10001))
    assert (code, status) == ("InvalidArgument", 400)
    # The source's conditions: 412 whenever one fails, never 304.
    etag = s3.head_object(Bucket=b, Key="five")["ETag"]
    code, status, err = error_of(lambda: copy(CopySourceIfMatch='"0123"'))
    assert (code, status) == ("PreconditionFailed", 412)
    code, status, _ = error_of(lambda: copy(CopySourceIfNoneMatch=etag))
    assert (code, status) == ("PreconditionFailed", 412)
    code, status, _ = error_of(lambda: copy(CopySourceIfModifiedSince="2100-01-01T00:00:00Z"))
    assert (code, status) == ("PreconditionFailed", 412)
    code, status, _ = error_of(lambda: copy(CopySourceIfUnmodifiedSince="2000-01-01T00:00:00Z"))
    assert (code, status) == ("PreconditionFailed", 412)
    # A matching If-Match wins over a failing If-Unmodified-Since, as S3 documents.
    ok = copy(CopySourceIfMatch=etag, CopySourceIfUnmodifiedSince="2000-01-01T00:00:00Z")
    assert ok["CopyPartResult"]["ETag"] == md5_etag(b"12345")
    # Part size rules are the completion's, unchanged: a small part that is not the last fails.
    copy(PartNumber=2)
    code, status, _ = error_of(lambda: s3.complete_multipart_upload(
        Bucket=b, Key="dest", UploadId=upload, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": ok["CopyPartResult"]["ETag"]},
            {"PartNumber": 2, "ETag": ok["CopyPartResult"]["ETag"]}]}))
    assert (code, status) == ("EntityTooSmall", 400)


def user_s3(c, name, statements):
    iam = c.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.client("s3", endpoint_url=c.next_endpoint(), region_name="us-east-1",
                        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                        config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}))


def test_a_source_version_and_the_permissions_on_both_sides(lab):
    s3 = lab.client("s3")
    src, dst = bucket_name("pc-ver"), bucket_name("pc-auth")
    s3.create_bucket(Bucket=src)
    s3.create_bucket(Bucket=dst)
    s3.put_bucket_versioning(Bucket=src, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=src, Key="k", Body=b"first version")["VersionId"]
    s3.put_object(Bucket=src, Key="k", Body=b"second version")
    upload = s3.create_multipart_upload(Bucket=dst, Key="out")["UploadId"]
    r = s3.upload_part_copy(Bucket=dst, Key="out", UploadId=upload, PartNumber=1,
                            CopySource={"Bucket": src, "Key": "k", "VersionId": first})
    assert r["CopySourceVersionId"] == first
    s3.complete_multipart_upload(Bucket=dst, Key="out", UploadId=upload, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=dst, Key="out")["Body"].read() == b"first version"
    # A user who may write the target and read the source's current version, not its versions.
    reader = user_s3(lab, f"copier-{uuid.uuid4().hex[:6]}", [
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:ListMultipartUploadParts"], "Resource": f"arn:aws:s3:::{dst}/*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{src}/*"}])
    upload = s3.create_multipart_upload(Bucket=dst, Key="by-user")["UploadId"]
    part = reader.upload_part_copy(Bucket=dst, Key="by-user", UploadId=upload, PartNumber=1,
                                   CopySource={"Bucket": src, "Key": "k"})
    assert part["CopyPartResult"]["ETag"] == md5_etag(b"second version")
    code, status, _ = error_of(lambda: reader.upload_part_copy(
        Bucket=dst, Key="by-user", UploadId=upload, PartNumber=2,
        CopySource={"Bucket": src, "Key": "k", "VersionId": first}))
    assert (code, status) == ("AccessDenied", 403)
    # Without s3:GetObject on the source, or without s3:PutObject on the target: refused.
    writer = user_s3(lab, f"writer-{uuid.uuid4().hex[:6]}", [
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{dst}/*"}])
    code, status, _ = error_of(lambda: writer.upload_part_copy(
        Bucket=dst, Key="by-user", UploadId=upload, PartNumber=3, CopySource={"Bucket": src, "Key": "k"}))
    assert (code, status) == ("AccessDenied", 403)
    only_reads = user_s3(lab, f"reads-{uuid.uuid4().hex[:6]}", [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}])
    code, status, _ = error_of(lambda: only_reads.upload_part_copy(
        Bucket=dst, Key="by-user", UploadId=upload, PartNumber=3, CopySource={"Bucket": src, "Key": "k"}))
    assert (code, status) == ("AccessDenied", 403)
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=dst, Key="by-user", UploadId=upload)["Parts"]] == [1]


def records_in(s3, bucket):
    recs = []
    for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in p.get("Contents", []):
            recs += json.loads(gzip.decompress(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()))["Records"]
    return recs


def test_upload_part_copy_is_a_data_event_with_awss_parameters(lab):
    s3 = lab.client("s3")
    account = lab.env()["CAIRN_ACCOUNT_ID"]
    logs, data = bucket_name("pc-logs"), bucket_name("pc-data")
    s3.create_bucket(Bucket=logs)
    s3.put_bucket_policy(Bucket=logs, Policy=documented_policy(logs, account))
    s3.create_bucket(Bucket=data)
    s3.put_object(Bucket=data, Key="src.bin", Body=b"0123456789")
    ct = lab.client()
    trail = f"pc-{uuid.uuid4().hex[:6]}"
    start_object_trail(ct, trail, logs, data)
    try:
        upload = s3.create_multipart_upload(Bucket=data, Key="dst.bin")["UploadId"]
        r = s3.upload_part_copy(Bucket=data, Key="dst.bin", UploadId=upload, PartNumber=1,
                                CopySource={"Bucket": data, "Key": "src.bin"}, CopySourceRange="bytes=2-5")
        rid = r["ResponseMetadata"]["RequestId"]

        def delivered():
            return next((x for x in records_in(s3, logs) if x["requestID"] == rid), None)
        rec = wait_for(delivered)
    finally:
        ct.delete_trail(Name=trail)
    assert rec["eventName"] == "UploadPartCopy" and rec["eventSource"] == "s3.amazonaws.com"
    assert rec["eventCategory"] == "Data" and rec["managementEvent"] is False and rec["readOnly"] is False
    params = rec["requestParameters"]
    assert params == {"bucketName": data, "Host": params["Host"], "key": "dst.bin", "partNumber": "1",
                      "uploadId": upload, "x-amz-copy-source": f"{data}/src.bin",
                      "x-amz-copy-source-range": "bytes=2-5"}
    assert rec["resources"][0] == {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{data}/dst.bin"}
    assert rec["additionalEventData"]["bytesTransferredIn"] == 0
    assert rec["userIdentity"]["type"] == "Root"
