"""Versions of objects, with the real AWS CLI v1 and boto3 (issue 21's first part): ListObjectVersions
with prefix, delimiter, markers and pages; DeleteObject and DeleteObjects of one version or delete
marker; the usual "delete every version" clean-up emptying a versioned bucket; the IAM action
ListObjectVersions needs; and the calls recorded as S3 data events, as AWS records them."""

import gzip
import json
import uuid

import botocore.exceptions
import pytest

from conftest import Cairn, documented_policy, start_object_trail, wait_for


@pytest.fixture(scope="module")
def lab(workdir):
    c = Cairn(workdir / "s3-versions", ["--delivery-interval", "1", "--test-clock"])
    c.start()
    yield c
    c.stop()


def versioned(c):
    s3 = c.client("s3")
    b = f"ver-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=b)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    return s3, b


def test_versions_are_listed_newest_first_with_markers_prefixes_and_pages(lab):
    s3, b = versioned(lab)
    a1 = s3.put_object(Bucket=b, Key="a.txt", Body=b"one")["VersionId"]
    a2 = s3.put_object(Bucket=b, Key="a.txt", Body=b"two")["VersionId"]
    gone = s3.delete_object(Bucket=b, Key="a.txt")
    assert gone["DeleteMarker"] is True
    marker = gone["VersionId"]
    for k in ("logs/x.gz", "logs/y.gz", "z.txt"):
        s3.put_object(Bucket=b, Key=k, Body=k.encode())
    out = s3.list_object_versions(Bucket=b)
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in out["Versions"][:2]] == [
        ("a.txt", a2, False), ("a.txt", a1, False)]
    assert [(m["Key"], m["VersionId"], m["IsLatest"]) for m in out["DeleteMarkers"]] == [("a.txt", marker, True)]
    assert [v["Key"] for v in out["Versions"]] == ["a.txt", "a.txt", "logs/x.gz", "logs/y.gz", "z.txt"]
    assert out["Versions"][0]["ETag"] == '"b8a9f715dbb64fd5c56e7783c6820a61"' and out["Versions"][0]["Size"] == 3
    assert out["IsTruncated"] is False and out["Name"] == b
    # A delimiter rolls keys up into common prefixes.
    out = s3.list_object_versions(Bucket=b, Delimiter="/")
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["logs/"]
    assert {v["Key"] for v in out["Versions"]} == {"a.txt", "z.txt"}
    out = s3.list_object_versions(Bucket=b, Prefix="logs/")
    assert [v["Key"] for v in out["Versions"]] == ["logs/x.gz", "logs/y.gz"]
    # Pages of two, each starting at the markers the last one gave: every version once.
    seen, kw = [], {}
    while True:
        page = s3.list_object_versions(Bucket=b, MaxKeys=2, **kw)
        seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if not page["IsTruncated"]:
            break
        kw = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
    assert len(seen) == 6 and len(set(seen)) == 6
    # The paginator and the CLI walk them the same way.
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=b, PaginationConfig={"PageSize": 1})
    assert sum(len(p.get("Versions", [])) + len(p.get("DeleteMarkers", [])) for p in pages) == 6
    _, cli, _ = lab.aws("s3api", "list-object-versions", "--bucket", b, "--prefix", "a")
    assert [v["VersionId"] for v in cli["Versions"]] == [a2, a1]
    assert [m["VersionId"] for m in cli["DeleteMarkers"]] == [marker]
    # Markers as S3 checks them.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_object_versions(Bucket=b, VersionIdMarker=a1)
    assert e.value.response["Error"]["Code"] == "InvalidArgument"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_object_versions(Bucket=b, KeyMarker="a.txt", VersionIdMarker="not-a-version")
    assert e.value.response["Error"]["Code"] == "InvalidArgument"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_object_versions(Bucket=f"{b}-none")
    assert e.value.response["Error"]["Code"] == "NoSuchBucket"


def test_deleting_a_delete_marker_restores_the_object_and_versions_go_one_by_one(lab):
    s3, b = versioned(lab)
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=b, Key="k", Body=b"two")["VersionId"]
    marker = s3.delete_object(Bucket=b, Key="k")["VersionId"]
    with pytest.raises(botocore.exceptions.ClientError):
        s3.get_object(Bucket=b, Key="k")
    out = s3.delete_object(Bucket=b, Key="k", VersionId=marker)
    assert out["DeleteMarker"] is True and out["VersionId"] == marker
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"two"
    out = s3.delete_object(Bucket=b, Key="k", VersionId=v2)
    assert out["VersionId"] == v2 and "DeleteMarker" not in out
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"one"
    lab.aws("s3api", "delete-object", "--bucket", b, "--key", "k", "--version-id", v1)
    assert "Versions" not in s3.list_object_versions(Bucket=b)
    # DeleteObjects with versions: each answered with its version; a delete marker's removal says so.
    w1 = s3.put_object(Bucket=b, Key="m", Body=b"1")["VersionId"]
    m1 = s3.delete_object(Bucket=b, Key="m")["VersionId"]
    out = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "m", "VersionId": w1}, {"Key": "m", "VersionId": m1}]})
    got = {d["VersionId"]: d for d in out["Deleted"]}
    assert set(got) == {w1, m1}
    assert got[m1]["DeleteMarker"] is True and got[m1]["DeleteMarkerVersionId"] == m1
    assert "DeleteMarker" not in got[w1]
    s3.delete_bucket(Bucket=b)


def test_the_usual_clean_up_script_empties_a_versioned_bucket(lab):
    import boto3
    s3, b = versioned(lab)
    for i in range(30):
        s3.put_object(Bucket=b, Key=f"dir{i % 3}/k{i % 7}", Body=str(i).encode())
    for i in range(0, 30, 4):
        s3.delete_object(Bucket=b, Key=f"dir{i % 3}/k{i % 7}")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_bucket(Bucket=b)
    assert e.value.response["Error"]["Code"] == "BucketNotEmpty"
    # The script everyone has: list every version and delete marker, delete them a page at a time.
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=b, PaginationConfig={"PageSize": 7}):
        objects = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                   for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if objects:
            out = s3.delete_objects(Bucket=b, Delete={"Objects": objects, "Quiet": True})
            assert not out.get("Errors")
    s3.delete_bucket(Bucket=b)
    # And boto3's resource API, which does the same in one line.
    e = lab.env()
    res = boto3.resource("s3", endpoint_url=lab.endpoint, region_name="us-east-1",
                         aws_access_key_id=e["AWS_ACCESS_KEY_ID"], aws_secret_access_key=e["AWS_SECRET_ACCESS_KEY"])
    s3, b = versioned(lab)
    for i in range(5):
        s3.put_object(Bucket=b, Key="same", Body=str(i).encode())
    s3.delete_object(Bucket=b, Key="same")
    bucket = res.Bucket(b)
    bucket.object_versions.delete()
    bucket.delete()
    assert b not in [x["Name"] for x in s3.list_buckets()["Buckets"]]


def test_listing_versions_needs_its_own_permission_and_is_recorded_as_a_data_event(lab):
    s3, b = versioned(lab)
    s3.put_object(Bucket=b, Key="watched/a", Body=b"a")
    account = lab.client("sts").get_caller_identity()["Account"]
    iam = lab.client("iam")
    user = f"lister-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": f"arn:aws:s3:::{b}"}]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    env = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    code, _, err = lab.aws("s3api", "list-object-versions", "--bucket", b, env_overrides=env, check=False)
    assert code != 0 and "AccessDenied" in err, err
    # A trail logging the bucket's data events records the listing as AWS does.
    logs = f"logs-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=logs)
    s3.put_bucket_policy(Bucket=logs, Policy=documented_policy(logs, account))
    ct = lab.client("cloudtrail")
    trail = f"versions-{uuid.uuid4().hex[:6]}"
    start_object_trail(ct, trail, logs, b)
    s3.list_object_versions(Bucket=b, Prefix="watched/")
    vid = s3.put_object(Bucket=b, Key="watched/b", Body=b"b")["VersionId"]
    s3.delete_object(Bucket=b, Key="watched/b", VersionId=vid)

    def records():
        out = []
        for o in s3.list_objects_v2(Bucket=logs).get("Contents", []):
            out += json.loads(gzip.decompress(s3.get_object(Bucket=logs, Key=o["Key"])["Body"].read()))["Records"]
        names = {r["eventName"]: r for r in out}
        return names if "DeleteObject" in names else None
    got = lab.advance_until(records, step=1, limit=30)
    listed = got["ListObjectVersions"]
    assert listed["eventCategory"] == "Data" and listed["managementEvent"] is False and listed["readOnly"] is True
    assert listed["requestParameters"]["bucketName"] == b and listed["requestParameters"]["versions"] == ""
    assert listed["requestParameters"]["prefix"] == "watched/"
    assert [r["type"] for r in listed["resources"]] == ["AWS::S3::Object", "AWS::S3::Bucket"]
    assert listed["resources"][0]["ARNPrefix"] == f"arn:aws:s3:::{b}/"
    deleted = got["DeleteObject"]
    assert deleted["requestParameters"]["versionId"] == vid and deleted["requestParameters"]["key"] == "watched/b"
    assert deleted["responseElements"] == {"x-amz-version-id": vid}
    ct.delete_trail(Name=trail)
    wait_for(lambda: True)


def test_a_delete_while_versioning_is_suspended_leaves_a_null_delete_marker(lab):
    s3, b = versioned(lab)
    kept = s3.put_object(Bucket=b, Key="k", Body=b"versioned")["VersionId"]
    lab.aws("s3api", "put-bucket-versioning", "--bucket", b, "--versioning-configuration", "Status=Suspended")
    assert s3.get_bucket_versioning(Bucket=b)["Status"] == "Suspended"
    assert s3.put_object(Bucket=b, Key="k", Body=b"null version").get("VersionId", "null") == "null"
    gone = s3.delete_object(Bucket=b, Key="k")
    assert gone["DeleteMarker"] is True and gone["VersionId"] == "null"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=b, Key="k")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    out = s3.list_object_versions(Bucket=b)
    assert [(m["VersionId"], m["IsLatest"]) for m in out["DeleteMarkers"]] == [("null", True)]
    assert [(v["VersionId"], v["IsLatest"]) for v in out["Versions"]] == [(kept, False)]
    s3.delete_object(Bucket=b, Key="k", VersionId="null")
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"versioned"
