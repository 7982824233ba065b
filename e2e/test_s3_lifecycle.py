"""Tags and lifecycle rules, with the real AWS CLI v1 and boto3 (issue 21, parts 3 and 6's
tagging): bucket and object tag sets and their limits, tags on writes, copies and multipart
uploads, the IAM action a tagged write needs; lifecycle configurations and S3's errors for them;
and the rules enforced on the test clock — a tag filter, and a trail's log files expired,
noncurrent versions and delete markers too."""

import json
import uuid

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import Cairn, documented_policy

DAY = 86_400


@pytest.fixture(scope="module")
def lab(workdir):
    c = Cairn(workdir / "s3-lifecycle", ["--test-clock"])
    c.start()
    yield c
    c.stop()


def bucket(c, versioned=False):
    s3 = c.client("s3")
    b = f"life-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=b)
    if versioned:
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    return s3, b


def code_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_bucket_tags_with_the_cli_and_boto3(lab):
    s3, b = bucket(lab)
    assert code_of(lambda: s3.get_bucket_tagging(Bucket=b)) == ("NoSuchTagSet", 404)
    lab.aws("s3api", "put-bucket-tagging", "--bucket", b,
            "--tagging", "TagSet=[{Key=team,Value=audit},{Key=cost center,Value=42}]")
    _, got, _ = lab.aws("s3api", "get-bucket-tagging", "--bucket", b)
    assert got["TagSet"] == [{"Key": "team", "Value": "audit"}, {"Key": "cost center", "Value": "42"}]
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert code_of(lambda: s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": too_many})) == ("InvalidTag", 400)
    dup = [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]
    assert code_of(lambda: s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": dup})) == ("InvalidTag", 400)
    assert code_of(lambda: s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "aws:x", "Value": "1"}]}))[0] == "InvalidTag"
    # Fifty is S3's limit, and allowed.
    s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": too_many[:50]})
    assert len(s3.get_bucket_tagging(Bucket=b)["TagSet"]) == 50
    lab.aws("s3api", "delete-bucket-tagging", "--bucket", b)
    assert code_of(lambda: s3.get_bucket_tagging(Bucket=b)) == ("NoSuchTagSet", 404)
    assert code_of(lambda: s3.get_bucket_tagging(Bucket="no-such-bucket-here")) == ("NoSuchBucket", 404)


def test_object_tags_on_writes_versions_copies_and_uploads(lab):
    s3, b = bucket(lab, versioned=True)
    v1 = s3.put_object(Bucket=b, Key="doc", Body=b"one", Tagging="stage=draft&owner=ana%20b")["VersionId"]
    head = s3.head_object(Bucket=b, Key="doc")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"
    assert s3.get_object(Bucket=b, Key="doc")["TagCount"] == 2
    got = s3.get_object_tagging(Bucket=b, Key="doc")
    assert got["TagSet"] == [{"Key": "stage", "Value": "draft"}, {"Key": "owner", "Value": "ana b"}]
    assert got["VersionId"] == v1
    # A second version has its own tags (none); the first keeps its own, by versionId.
    v2 = s3.put_object(Bucket=b, Key="doc", Body=b"two")["VersionId"]
    assert s3.get_object_tagging(Bucket=b, Key="doc")["TagSet"] == []
    assert "x-amz-tagging-count" not in s3.head_object(Bucket=b, Key="doc")["ResponseMetadata"]["HTTPHeaders"]
    lab.aws("s3api", "put-object-tagging", "--bucket", b, "--key", "doc", "--version-id", v1,
            "--tagging", "TagSet=[{Key=stage,Value=final}]")
    _, old, _ = lab.aws("s3api", "get-object-tagging", "--bucket", b, "--key", "doc", "--version-id", v1)
    assert old["TagSet"] == [{"Key": "stage", "Value": "final"}] and old["VersionId"] == v1
    # Tagging changes no version: still two.
    assert len(s3.list_object_versions(Bucket=b)["Versions"]) == 2
    s3.delete_object_tagging(Bucket=b, Key="doc", VersionId=v1)
    assert s3.get_object_tagging(Bucket=b, Key="doc", VersionId=v1)["TagSet"] == []
    # S3's limits on object tags.
    eleven = [{"Key": f"k{i}", "Value": "v"} for i in range(11)]
    assert code_of(lambda: s3.put_object_tagging(Bucket=b, Key="doc", Tagging={"TagSet": eleven})) == ("BadRequest", 400)
    assert code_of(lambda: s3.put_object_tagging(Bucket=b, Key="doc", Tagging={"TagSet": [{"Key": "k" * 129, "Value": "v"}]})) == ("InvalidTag", 400)
    assert code_of(lambda: s3.put_object(Bucket=b, Key="x", Body=b"", Tagging="a=1&a=2")) == ("InvalidTag", 400)
    assert code_of(lambda: s3.get_object_tagging(Bucket=b, Key="absent")) == ("NoSuchKey", 404)
    # Copies keep the source's tags, or take the request's with REPLACE.
    s3.put_object_tagging(Bucket=b, Key="doc", VersionId=v2, Tagging={"TagSet": [{"Key": "src", "Value": "yes"}]})
    s3.copy_object(Bucket=b, Key="kept", CopySource={"Bucket": b, "Key": "doc"})
    assert s3.get_object_tagging(Bucket=b, Key="kept")["TagSet"] == [{"Key": "src", "Value": "yes"}]
    s3.copy_object(Bucket=b, Key="replaced", CopySource={"Bucket": b, "Key": "doc"},
                   TaggingDirective="REPLACE", Tagging="dst=1")
    assert s3.get_object_tagging(Bucket=b, Key="replaced")["TagSet"] == [{"Key": "dst", "Value": "1"}]
    # A multipart upload's tags are the completed object's.
    up = s3.create_multipart_upload(Bucket=b, Key="big", Tagging="parts=2")
    etag = s3.upload_part(Bucket=b, Key="big", UploadId=up["UploadId"], PartNumber=1, Body=b"x" * 10)["ETag"]
    s3.complete_multipart_upload(Bucket=b, Key="big", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.get_object_tagging(Bucket=b, Key="big")["TagSet"] == [{"Key": "parts", "Value": "2"}]


def test_a_tagged_write_needs_put_object_tagging(lab):
    s3, b = bucket(lab)
    iam = lab.client("iam")
    user = f"writer-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="put", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObjectTagging"],
                                                "Resource": f"arn:aws:s3:::{b}/*"}]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    writer = boto3.client("s3", endpoint_url=lab.endpoint, region_name="us-east-1",
                          aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                          config=botocore.config.Config(retries={"max_attempts": 1}))
    writer.put_object(Bucket=b, Key="plain", Body=b"ok")
    assert code_of(lambda: writer.put_object(Bucket=b, Key="tagged", Body=b"no", Tagging="a=1")) == ("AccessDenied", 403)
    assert code_of(lambda: writer.put_object_tagging(Bucket=b, Key="plain", Tagging={"TagSet": []})) == ("AccessDenied", 403)
    assert writer.get_object_tagging(Bucket=b, Key="plain")["TagSet"] == []


def test_lifecycle_configurations_and_s3s_errors(lab):
    s3, b = bucket(lab)
    assert code_of(lambda: s3.get_bucket_lifecycle_configuration(Bucket=b)) == ("NoSuchLifecycleConfiguration", 404)
    rules = [{"ID": "logs", "Filter": {"Prefix": "AWSLogs/"}, "Status": "Enabled", "Expiration": {"Days": 30},
              "NoncurrentVersionExpiration": {"NoncurrentDays": 7, "NewerNoncurrentVersions": 2},
              "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}},
             {"ID": "big-tagged", "Filter": {"And": {"Prefix": "tmp/", "Tags": [{"Key": "temp", "Value": "yes"}],
                                                     "ObjectSizeGreaterThan": 1024}},
              "Status": "Disabled", "Expiration": {"Date": "2030-01-01T00:00:00Z"}}]
    s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": rules})
    got = s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"]
    assert [r["ID"] for r in got] == ["logs", "big-tagged"]
    assert got[0]["Expiration"] == {"Days": 30} and got[0]["NoncurrentVersionExpiration"]["NewerNoncurrentVersions"] == 2
    assert got[1]["Filter"]["And"]["Tags"] == [{"Key": "temp", "Value": "yes"}]
    # The CLI, as a user would write it.
    _, cli, _ = lab.aws("s3api", "get-bucket-lifecycle-configuration", "--bucket", b)
    assert cli["Rules"][0]["Filter"] == {"Prefix": "AWSLogs/"}

    def put(rule):
        return code_of(lambda: s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [rule]}))
    assert put({"ID": "r", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 0}}) == ("InvalidArgument", 400)
    assert put({"ID": "r", "Filter": {}, "Status": "Enabled", "Expiration": {"Date": "2030-01-01T10:00:00Z"}}) == ("InvalidArgument", 400)
    assert put({"ID": "r", "Filter": {}, "Status": "Enabled"}) == ("InvalidRequest", 400)
    assert put({"ID": "r", "Filter": {"Tag": {"Key": "a", "Value": "b"}}, "Status": "Enabled",
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}) == ("InvalidArgument", 400)
    assert put({"ID": "r", "Filter": {}, "Status": "Enabled",
                "Expiration": {"Days": 1, "ExpiredObjectDeleteMarker": True}}) == ("MalformedXML", 400)
    same = {"ID": "same", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1}}
    assert code_of(lambda: s3.put_bucket_lifecycle_configuration(
        Bucket=b, LifecycleConfiguration={"Rules": [same, same]})) == ("InvalidArgument", 400)
    # A refused configuration leaves the one in place.
    assert [r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"]] == ["logs", "big-tagged"]
    lab.aws("s3api", "delete-bucket-lifecycle", "--bucket", b)
    assert code_of(lambda: s3.get_bucket_lifecycle_configuration(Bucket=b)) == ("NoSuchLifecycleConfiguration", 404)

    # Recorded as AWS records them: management events named without "Configuration", the
    # document as JSON in requestParameters.
    ct = lab.client()
    events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": b}])["Events"]
    names = {e["EventName"] for e in events}
    assert {"PutBucketLifecycle", "GetBucketLifecycle", "DeleteBucketLifecycle"} <= names
    put_ok = next(json.loads(e["CloudTrailEvent"]) for e in events
                  if e["EventName"] == "PutBucketLifecycle" and "errorCode" not in json.loads(e["CloudTrailEvent"]))
    params = put_ok["requestParameters"]
    assert params["lifecycle"] == "" and params["bucketName"] == b
    assert params["LifecycleConfiguration"]["xmlns"] == "http://s3.amazonaws.com/doc/2006-03-01/"
    assert params["LifecycleConfiguration"]["Rule"][0]["Expiration"] == {"Days": 30}
    assert put_ok["managementEvent"] is True and put_ok["readOnly"] is False


def test_a_tag_filter_expires_only_tagged_objects(lab):
    s3, b = bucket(lab)
    s3.put_object(Bucket=b, Key="scratch/a", Body=b"a", Tagging="temp=yes")
    s3.put_object(Bucket=b, Key="scratch/b", Body=b"b")
    s3.put_object(Bucket=b, Key="scratch/c", Body=b"c")
    s3.put_object_tagging(Bucket=b, Key="scratch/c", Tagging={"TagSet": [{"Key": "temp", "Value": "yes"}]})
    lab.aws("s3api", "put-bucket-lifecycle-configuration", "--bucket", b, "--lifecycle-configuration", json.dumps(
        {"Rules": [{"ID": "temp", "Filter": {"Tag": {"Key": "temp", "Value": "yes"}}, "Status": "Enabled",
                    "Expiration": {"Days": 1}}]}))
    # Not before the day is over (counted to the next midnight UTC after a day).
    lab.advance(60)
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]) == ["scratch/a", "scratch/b", "scratch/c"]
    lab.advance(2 * DAY)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]] == ["scratch/b"]
    # Unversioned: gone for good, no delete marker.
    assert "DeleteMarkers" not in s3.list_object_versions(Bucket=b)


def test_incomplete_multipart_uploads_are_aborted_after_their_days(lab):
    s3, b = bucket(lab)
    stale = s3.create_multipart_upload(Bucket=b, Key="up/big.bin")["UploadId"]
    s3.upload_part(Bucket=b, Key="up/big.bin", UploadId=stale, PartNumber=1, Body=b"x" * 1024)
    kept = s3.create_multipart_upload(Bucket=b, Key="other/big.bin")["UploadId"]
    s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "uploads", "Filter": {"Prefix": "up/"}, "Status": "Enabled",
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]})
    lab.advance(60)
    assert {u["UploadId"] for u in s3.list_multipart_uploads(Bucket=b)["Uploads"]} == {stale, kept}
    lab.advance(2 * DAY)
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=b)["Uploads"]] == [kept]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_parts(Bucket=b, Key="up/big.bin", UploadId=stale)
    assert e.value.response["Error"]["Code"] == "NoSuchUpload"


def test_lifecycle_expires_a_trails_log_files_on_the_test_clock(lab):
    """Issue 21's "done" test: a trail delivers into a versioned bucket whose rule expires its log
    prefix; as days pass on the test clock, the files get delete markers, their versions go, and
    the markers left alone go too."""
    account = lab.env()["CAIRN_ACCOUNT_ID"]
    s3, b = bucket(lab, versioned=True)
    ct = lab.client()
    s3.put_bucket_policy(Bucket=b, Policy=documented_policy(b, account))
    trail = f"life-{uuid.uuid4().hex[:6]}"
    ct.create_trail(Name=trail, S3BucketName=b)
    ct.start_logging(Name=trail)
    s3.put_object(Bucket=b, Key="keep/me.txt", Body=b"not a log file")
    lab.advance(61)
    logs = [o["Key"] for o in s3.list_objects_v2(Bucket=b, Prefix="AWSLogs/").get("Contents", [])]
    assert logs, "the trail delivered log files"
    ct.stop_logging(Name=trail)
    lab.advance(61)
    logs = [o["Key"] for o in s3.list_objects_v2(Bucket=b, Prefix="AWSLogs/").get("Contents", [])]
    s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "log-retention", "Filter": {"Prefix": "AWSLogs/"}, "Status": "Enabled",
         "Expiration": {"Days": 1}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
        {"ID": "markers", "Filter": {"Prefix": "AWSLogs/"}, "Status": "Enabled",
         "Expiration": {"ExpiredObjectDeleteMarker": True}}]})

    def versions():
        out = s3.list_object_versions(Bucket=b, Prefix="AWSLogs/")
        return out.get("Versions", []), out.get("DeleteMarkers", [])

    # Day 2: every log file is hidden behind a delete marker; its version is still there.
    lab.advance(2 * DAY)
    assert s3.list_objects_v2(Bucket=b, Prefix="AWSLogs/").get("KeyCount") == 0
    kept, markers = versions()
    assert sorted({v["Key"] for v in kept}) == sorted(logs)
    assert sorted(m["Key"] for m in markers if m["IsLatest"]) == sorted(logs)
    # Two days later, the noncurrent versions are gone; then the markers left alone.
    lab.advance(2 * DAY)
    kept, markers = versions()
    assert kept == []
    lab.advance(60)
    assert versions() == ([], [])
    # What the rules do not take stays.
    assert s3.get_object(Bucket=b, Key="keep/me.txt")["Body"].read() == b"not a log file"
