"""What tools expect of S3 beyond the basics (issue 21's sixth part), with the real AWS CLI v1, boto3
and plain HTTP: browser uploads (POST Object) signed with SigV4 (boto3's generate_presigned_post)
and SigV2 (a hand-built form), their policy's conditions and S3's errors; Content-MD5; user metadata
beyond ASCII; owners without DisplayName; GetObjectAttributes; conditional writes; ListMultipartUploads;
the IAM actions each needs; and the calls recorded as S3 data events."""

import base64
import gzip
import hashlib
import hmac
import html
import json
import uuid
from datetime import datetime, timedelta, timezone

import botocore.config
import botocore.exceptions
import pytest
import requests

from conftest import Cairn, documented_policy, start_object_trail, wait_for


@pytest.fixture(scope="module")
def lab(workdir):
    c = Cairn(workdir / "s3-wire", ["--delivery-interval", "1", "--test-clock"])
    c.start()
    yield c
    c.stop()


def bucket(c):
    # SigV4 (boto3 signs browser forms with SigV2 unless told otherwise).
    s3 = c.client("s3", config=botocore.config.Config(signature_version="s3v4"))
    b = f"wire-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=b)
    return s3, b


def error(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response


def user(c, actions, resource):
    """An IAM user allowed only `actions` on `resource`: its key and a boto3 S3 client."""
    iam = c.client("iam")
    name = f"u-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": resource}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    import boto3
    s3 = boto3.client("s3", endpoint_url=c.next_endpoint(), region_name="us-east-1",
                      aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    return key, s3


def post(form, file=b"hello", filename="hello.txt"):
    return requests.post(form["url"], data=form["fields"], files={"file": (filename, file)}, timeout=30)


def xml_code(resp):
    text = resp.text
    return text.split("<Code>")[1].split("</Code>")[0] if "<Code>" in text else None


def xml_message(resp):
    return html.unescape(resp.text.split("<Message>")[1].split("</Message>")[0])


# ---- POST Object ------------------------------------------------------------------------------


def test_a_presigned_post_uploads_a_file_with_its_fields(lab):
    s3, b = bucket(lab)
    form = s3.generate_presigned_post(
        b, "uploads/${filename}",
        Fields={"Content-Type": "text/plain", "x-amz-meta-origin": "browser"},
        Conditions=[{"Content-Type": "text/plain"}, {"x-amz-meta-origin": "browser"},
                    ["content-length-range", 1, 100]],
        ExpiresIn=600)
    assert form["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    r = post(form)
    assert r.status_code == 204, r.text
    assert r.headers["ETag"] == '"5d41402abc4b2a76b9719d911017c592"'
    assert r.headers["Location"].endswith(f"/{b}/uploads/hello.txt")
    got = s3.get_object(Bucket=b, Key="uploads/hello.txt")
    assert got["Body"].read() == b"hello"
    assert got["ContentType"] == "text/plain" and got["Metadata"] == {"origin": "browser"}
    # success_action_status 201 answers S3's PostResponse document.
    form = s3.generate_presigned_post(b, "doc.txt", Fields={"success_action_status": "201"},
                                      Conditions=[{"success_action_status": "201"}])
    r = post(form)
    assert r.status_code == 201 and "<PostResponse" in r.text and f"<Bucket>{b}</Bucket>" in r.text
    assert "<Key>doc.txt</Key>" in r.text
    # success_action_redirect sends the browser on, with the bucket, key and ETag.
    form = s3.generate_presigned_post(b, "redirected.txt",
                                      Fields={"success_action_redirect": "http://example.com/done"},
                                      Conditions=[{"success_action_redirect": "http://example.com/done"}])
    r = requests.post(form["url"], data=form["fields"], files={"file": ("x", b"x")}, allow_redirects=False, timeout=30)
    assert r.status_code == 303
    assert r.headers["Location"].startswith(f"http://example.com/done?bucket={b}&key=redirected.txt&etag=")


def test_a_post_policy_is_judged_as_s3_judges_it(lab):
    s3, b = bucket(lab)
    # Expired.
    r = post(s3.generate_presigned_post(b, "k", ExpiresIn=-60))
    assert r.status_code == 403 and xml_code(r) == "AccessDenied"
    assert xml_message(r) == "Invalid according to Policy: Policy expired."
    # A key its condition does not allow.
    form = s3.generate_presigned_post(b, "uploads/${filename}")
    form["fields"]["key"] = "elsewhere/x"
    r = post(form)
    assert r.status_code == 403 and xml_code(r) == "AccessDenied"
    assert xml_message(r) == 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "uploads/"]'
    # A field no condition names.
    form = s3.generate_presigned_post(b, "k")
    form["fields"]["x-amz-meta-sneaky"] = "1"
    r = post(form)
    assert r.status_code == 403 and xml_message(r) == "Invalid according to Policy: Extra input fields: x-amz-meta-sneaky"
    # Too large for its content-length-range.
    form = s3.generate_presigned_post(b, "k", Conditions=[["content-length-range", 1, 3]])
    r = post(form, file=b"too long")
    assert r.status_code == 400 and xml_code(r) == "EntityTooLarge"
    # Another bucket than the policy's.
    _, other = bucket(lab)
    form = s3.generate_presigned_post(b, "k")
    form["url"] = form["url"].replace(b, other)
    r = post(form)
    assert r.status_code == 403 and f'["eq", "$bucket", "{b}"]' in xml_message(r)
    # A signature that does not match its policy.
    form = s3.generate_presigned_post(b, "k")
    form["fields"]["x-amz-signature"] = "0" * 64
    r = post(form)
    assert r.status_code == 403 and xml_code(r) == "SignatureDoesNotMatch"
    # No key field, or no file.
    form = s3.generate_presigned_post(b, "k")
    fields = {k: v for k, v in form["fields"].items() if k != "key"}
    r = requests.post(form["url"], data=fields, files={"file": ("x", b"x")}, timeout=30)
    assert r.status_code == 400 and xml_code(r) == "InvalidArgument"
    r = requests.post(form["url"], files={k: (None, v) for k, v in form["fields"].items()}, timeout=30)
    assert r.status_code == 400 and xml_code(r) == "InvalidArgument"
    assert "Contents" not in s3.list_objects_v2(Bucket=b)


def test_a_post_is_judged_by_iam_as_put_object(lab):
    s3, b = bucket(lab)
    key, _ = user(lab, ["s3:GetObject"], f"arn:aws:s3:::{b}/*")
    import boto3
    v4 = botocore.config.Config(signature_version="s3v4")
    theirs = boto3.client("s3", endpoint_url=lab.next_endpoint(), region_name="us-east-1", config=v4,
                          aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    r = post(theirs.generate_presigned_post(b, "k"))
    assert r.status_code == 403 and xml_code(r) == "AccessDenied"
    key, _ = user(lab, ["s3:PutObject"], f"arn:aws:s3:::{b}/*")
    allowed = boto3.client("s3", endpoint_url=lab.next_endpoint(), region_name="us-east-1", config=v4,
                           aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    assert post(allowed.generate_presigned_post(b, "k")).status_code == 204


def sigv2_form(c, b, key, policy_conditions, secret=None):
    env = c.env(None)
    expiration = (datetime.now(timezone.utc) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    policy = base64.b64encode(json.dumps({"expiration": expiration, "conditions": policy_conditions}).encode()).decode()
    sig = base64.b64encode(hmac.new((secret or env["AWS_SECRET_ACCESS_KEY"]).encode(), policy.encode(), hashlib.sha1).digest()).decode()
    return {"key": key, "AWSAccessKeyId": env["AWS_ACCESS_KEY_ID"], "policy": policy, "signature": sig}


def test_a_sigv2_form_uploads_too(lab):
    s3, b = bucket(lab)
    # boto3's own SigV2 form, then one built by hand.
    v2 = lab.client("s3", config=botocore.config.Config(signature_version="s3"))
    form = v2.generate_presigned_post(b, "boto-v2.txt")
    assert "AWSAccessKeyId" in form["fields"] and "signature" in form["fields"]
    assert post(form).status_code == 204
    fields = sigv2_form(lab, b, "v2/${filename}", [{"bucket": b}, ["starts-with", "$key", "v2/"]])
    r = requests.post(f"{lab.endpoint}/{b}", data=fields, files={"file": ("f.bin", b"\x00\x01")}, timeout=30)
    assert r.status_code == 204, r.text
    assert s3.get_object(Bucket=b, Key="v2/f.bin")["Body"].read() == b"\x00\x01"
    bad = sigv2_form(lab, b, "v2/x", [{"bucket": b}, ["starts-with", "$key", "v2/"]], secret="wrong")
    r = requests.post(f"{lab.endpoint}/{b}", data=bad, files={"file": ("f", b"x")}, timeout=30)
    assert r.status_code == 403 and xml_code(r) == "SignatureDoesNotMatch"


# ---- Content-MD5, metadata, owners ------------------------------------------------------------


def test_content_md5_is_checked_on_put_object_and_upload_part(lab):
    s3, b = bucket(lab)
    good = base64.b64encode(hashlib.md5(b"body").digest()).decode()
    s3.put_object(Bucket=b, Key="k", Body=b"body", ContentMD5=good)
    e = error(lambda: s3.put_object(Bucket=b, Key="k", Body=b"body", ContentMD5="not-md5"))
    assert e["Error"] == {"Code": "InvalidDigest", "Message": "The Content-MD5 you specified was not valid."} | \
        {k: v for k, v in e["Error"].items() if k not in ("Code", "Message")}
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 400
    other = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    e = error(lambda: s3.put_object(Bucket=b, Key="k", Body=b"body", ContentMD5=other))
    assert e["Error"]["Code"] == "BadDigest"
    assert e["Error"]["Message"] == "The Content-MD5 you specified did not match what we received."
    up = s3.create_multipart_upload(Bucket=b, Key="big")["UploadId"]
    e = error(lambda: s3.upload_part(Bucket=b, Key="big", UploadId=up, PartNumber=1, Body=b"body", ContentMD5=other))
    assert e["Error"]["Code"] == "BadDigest"
    s3.upload_part(Bucket=b, Key="big", UploadId=up, PartNumber=1, Body=b"body", ContentMD5=good)


def test_metadata_beyond_ascii_travels_as_rfc_2047_encoded_words(lab):
    s3, b = bucket(lab)
    word = "=?UTF-8?B?w6nml6XmnKw=?="  # "é日本"
    s3.put_object(Bucket=b, Key="k", Body=b"x", Metadata={"name": word, "q": "=?UTF-8?Q?caf=C3=A9?=", "plain": "ascii"})
    meta = s3.head_object(Bucket=b, Key="k")["Metadata"]
    assert meta == {"name": word, "q": "=?UTF-8?B?Y2Fmw6k=?=", "plain": "ascii"}
    _, out, _ = lab.aws("s3api", "head-object", "--bucket", b, "--key", "k")
    assert out["Metadata"]["name"] == word


def test_owners_carry_no_display_name(lab):
    s3, b = bucket(lab)
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    s3.create_multipart_upload(Bucket=b, Key="m")
    owners = [s3.list_buckets()["Owner"], s3.get_bucket_acl(Bucket=b)["Owner"],
              s3.get_object_acl(Bucket=b, Key="k")["Owner"],
              s3.list_objects_v2(Bucket=b, FetchOwner=True)["Contents"][0]["Owner"],
              s3.list_objects(Bucket=b)["Contents"][0]["Owner"],
              s3.list_object_versions(Bucket=b)["Versions"][0]["Owner"],
              s3.list_multipart_uploads(Bucket=b)["Uploads"][0]["Owner"]]
    for o in owners:
        assert set(o) == {"ID"} and len(o["ID"]) == 64
    assert len({o["ID"] for o in owners}) == 1


# ---- GetObjectAttributes ----------------------------------------------------------------------


def test_object_attributes(lab):
    s3, b = bucket(lab)
    put = s3.put_object(Bucket=b, Key="k", Body=b"hello", ChecksumAlgorithm="SHA256")
    all_ = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]
    a = s3.get_object_attributes(Bucket=b, Key="k", ObjectAttributes=all_)
    assert a["ETag"] == put["ETag"].strip('"') and a["ObjectSize"] == 5 and a["StorageClass"] == "STANDARD"
    assert a["Checksum"]["ChecksumSHA256"] == put["ChecksumSHA256"]
    assert "ObjectParts" not in a and "LastModified" in a
    up = s3.create_multipart_upload(Bucket=b, Key="big")["UploadId"]
    e1 = s3.upload_part(Bucket=b, Key="big", UploadId=up, PartNumber=1, Body=b"a" * (5 * 1024 * 1024))["ETag"]
    e2 = s3.upload_part(Bucket=b, Key="big", UploadId=up, PartNumber=2, Body=b"tail")["ETag"]
    s3.complete_multipart_upload(Bucket=b, Key="big", UploadId=up, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    a = s3.get_object_attributes(Bucket=b, Key="big", ObjectAttributes=["ObjectParts", "ObjectSize"])
    assert a["ObjectParts"]["TotalPartsCount"] == 2 and a["ObjectSize"] == 5 * 1024 * 1024 + 4
    # A given version.
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=b, Key="v", Body=b"one")["VersionId"]
    s3.put_object(Bucket=b, Key="v", Body=b"three")
    a = s3.get_object_attributes(Bucket=b, Key="v", VersionId=v1, ObjectAttributes=["ObjectSize"])
    assert a["ObjectSize"] == 3 and a["VersionId"] == v1
    _, cli, _ = lab.aws("s3api", "get-object-attributes", "--bucket", b, "--key", "v", "--object-attributes", "ObjectSize")
    assert cli["ObjectSize"] == 5
    e = error(lambda: s3.get_object_attributes(Bucket=b, Key="none", ObjectAttributes=["ETag"]))
    assert e["Error"]["Code"] == "NoSuchKey"
    # Its own IAM actions: GetObject is not enough.
    _, theirs = user(lab, ["s3:GetObject"], f"arn:aws:s3:::{b}/*")
    assert error(lambda: theirs.get_object_attributes(Bucket=b, Key="k", ObjectAttributes=["ETag"]))["Error"]["Code"] == "AccessDenied"
    _, allowed = user(lab, ["s3:GetObjectAttributes"], f"arn:aws:s3:::{b}/*")
    assert allowed.get_object_attributes(Bucket=b, Key="k", ObjectAttributes=["ETag"])["ETag"]
    assert error(lambda: allowed.get_object_attributes(Bucket=b, Key="v", VersionId=v1, ObjectAttributes=["ETag"]))["Error"]["Code"] == "AccessDenied"


# ---- conditional writes -----------------------------------------------------------------------


def test_conditional_writes(lab):
    s3, b = bucket(lab)
    first = s3.put_object(Bucket=b, Key="k", Body=b"one", IfNoneMatch="*")
    e = error(lambda: s3.put_object(Bucket=b, Key="k", Body=b"two", IfNoneMatch="*"))
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 412 and e["Error"]["Code"] == "PreconditionFailed"
    assert e["Error"]["Condition"] == "If-None-Match"
    second = s3.put_object(Bucket=b, Key="k", Body=b"two", IfMatch=first["ETag"])
    e = error(lambda: s3.put_object(Bucket=b, Key="k", Body=b"three", IfMatch=first["ETag"]))
    assert e["Error"]["Code"] == "PreconditionFailed" and e["Error"]["Condition"] == "If-Match"
    assert s3.get_object(Bucket=b, Key="k")["ETag"] == second["ETag"]
    e = error(lambda: s3.put_object(Bucket=b, Key="absent", Body=b"x", IfMatch=first["ETag"]))
    assert e["Error"]["Code"] == "NoSuchKey"
    # CompleteMultipartUpload: judged when the object goes in; a failed one leaves the upload.
    up = s3.create_multipart_upload(Bucket=b, Key="k")["UploadId"]
    etag = s3.upload_part(Bucket=b, Key="k", UploadId=up, PartNumber=1, Body=b"part")["ETag"]
    parts = {"Parts": [{"PartNumber": 1, "ETag": etag}]}
    e = error(lambda: s3.complete_multipart_upload(Bucket=b, Key="k", UploadId=up, MultipartUpload=parts, IfNoneMatch="*"))
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert len(s3.list_parts(Bucket=b, Key="k", UploadId=up)["Parts"]) == 1
    s3.complete_multipart_upload(Bucket=b, Key="k", UploadId=up, MultipartUpload=parts, IfMatch=second["ETag"])
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"part"
    # The CLI sends them too.
    code, _, err = lab.aws("s3api", "put-object", "--bucket", b, "--key", "k", "--if-none-match", "*", check=False)
    assert code != 0 and "PreconditionFailed" in err


# ---- ListMultipartUploads ---------------------------------------------------------------------


def test_uploads_in_progress_are_listed_with_markers_prefixes_and_pages(lab):
    s3, b = bucket(lab)
    ids = {k: s3.create_multipart_upload(Bucket=b, Key=k)["UploadId"] for k in ("a", "dir/x", "dir/y", "z")}
    out = s3.list_multipart_uploads(Bucket=b)
    assert [u["Key"] for u in out["Uploads"]] == ["a", "dir/x", "dir/y", "z"]
    assert out["Uploads"][0]["UploadId"] == ids["a"] and out["Uploads"][0]["StorageClass"] == "STANDARD"
    assert out["IsTruncated"] is False and out["Bucket"] == b and out["MaxUploads"] == 1000
    out = s3.list_multipart_uploads(Bucket=b, Delimiter="/")
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["dir/"] and [u["Key"] for u in out["Uploads"]] == ["a", "z"]
    assert [u["Key"] for u in s3.list_multipart_uploads(Bucket=b, Prefix="dir/")["Uploads"]] == ["dir/x", "dir/y"]
    seen, kw = [], {}
    while True:
        page = s3.list_multipart_uploads(Bucket=b, MaxUploads=1, **kw)
        seen += [u["UploadId"] for u in page.get("Uploads", [])]
        if not page["IsTruncated"]:
            break
        kw = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}
    assert seen == [ids[k] for k in ("a", "dir/x", "dir/y", "z")]
    _, cli, _ = lab.aws("s3api", "list-multipart-uploads", "--bucket", b, "--prefix", "z")
    assert [u["UploadId"] for u in cli["Uploads"]] == [ids["z"]]
    s3.abort_multipart_upload(Bucket=b, Key="z", UploadId=ids["z"])
    assert len(s3.list_multipart_uploads(Bucket=b)["Uploads"]) == 3
    _, theirs = user(lab, ["s3:ListBucket"], f"arn:aws:s3:::{b}")
    assert error(lambda: theirs.list_multipart_uploads(Bucket=b))["Error"]["Code"] == "AccessDenied"
    _, allowed = user(lab, ["s3:ListBucketMultipartUploads"], f"arn:aws:s3:::{b}")
    assert len(allowed.list_multipart_uploads(Bucket=b)["Uploads"]) == 3


# ---- the record -------------------------------------------------------------------------------


def test_new_calls_are_recorded_as_s3_data_events(lab):
    s3, b = bucket(lab)
    account = lab.client("sts").get_caller_identity()["Account"]
    logs = f"logs-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=logs)
    s3.put_bucket_policy(Bucket=logs, Policy=documented_policy(logs, account))
    ct = lab.client("cloudtrail")
    trail = f"wire-{uuid.uuid4().hex[:6]}"
    start_object_trail(ct, trail, logs, b)
    assert post(s3.generate_presigned_post(b, "posted.txt")).status_code == 204
    s3.get_object_attributes(Bucket=b, Key="posted.txt", ObjectAttributes=["ETag"])
    s3.list_multipart_uploads(Bucket=b, Prefix="p")
    s3.put_object(Bucket=b, Key="last", Body=b"x")

    def records():
        out = []
        for o in s3.list_objects_v2(Bucket=logs).get("Contents", []):
            out += json.loads(gzip.decompress(s3.get_object(Bucket=logs, Key=o["Key"])["Body"].read()))["Records"]
        names = {r["eventName"]: r for r in out}
        return names if {"PostObject", "GetObjectAttributes", "ListMultipartUploads", "PutObject"} <= set(names) else None
    got = lab.advance_until(records, step=1, limit=30)
    posted = got["PostObject"]
    assert posted["eventCategory"] == "Data" and posted["managementEvent"] is False and posted["readOnly"] is False
    assert posted["requestParameters"]["bucketName"] == b and posted["requestParameters"]["key"] == "posted.txt"
    assert posted["userIdentity"]["type"] == "Root"
    assert posted["additionalEventData"]["SignatureVersion"] == "SigV4"
    assert posted["additionalEventData"]["bytesTransferredIn"] > 5
    assert posted["resources"][0] == {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{b}/posted.txt"}
    attrs = got["GetObjectAttributes"]
    assert attrs["readOnly"] is True and attrs["requestParameters"]["attributes"] == ""
    assert attrs["requestParameters"]["key"] == "posted.txt"
    listed = got["ListMultipartUploads"]
    assert listed["readOnly"] is True and listed["requestParameters"]["uploads"] == ""
    assert listed["requestParameters"]["prefix"] == "p"
    assert listed["resources"][0]["ARNPrefix"] == f"arn:aws:s3:::{b}/"
    ct.delete_trail(Name=trail)
    wait_for(lambda: True)
