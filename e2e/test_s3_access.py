"""Access control on buckets as S3 has it since 2023, with the real AWS CLI v1 and boto3 (issue
21, part 4): Block Public Access at bucket and account level (S3 Control) refusing public
policies and ACLs and restricting public buckets, GetBucketPolicyStatus, Object Ownership with
ACLs enabled where chosen and their grants enforced, and every call recorded as AWS records it."""

import json
import uuid

import botocore.config
import botocore.exceptions
import pytest

from conftest import Cairn, lookup_all, wait_for


@pytest.fixture(scope="module")
def lab(workdir):
    c = Cairn(workdir / "s3-access", ["--delivery-interval", "1"])
    c.start()
    c.other = c.create_account()
    yield c
    c.stop()


def bucket_name(what):
    return f"{what}-{uuid.uuid4().hex[:10]}"


def public_policy(b):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{b}/*"}]})


def error(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response


def control_client(c):
    """S3 Control puts the account id in front of the endpoint's host name, which does not
    resolve on 127.0.0.1: the calls go through cairn as their HTTP proxy."""
    return c.client("s3control", config=botocore.config.Config(proxies={"http": c.endpoint}))


def other_s3(c):
    return c.client("s3", account=c.other["CAIRN_ACCOUNT_ID"])


def canonical_id(s3):
    return s3.list_buckets()["Owner"]["ID"]


OFF = {"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
       "RestrictPublicBuckets": False}


def test_new_buckets_block_public_access_and_a_public_policy_is_refused(lab):
    s3 = lab.client("s3")
    b = bucket_name("pab")
    s3.create_bucket(Bucket=b)
    # Every new bucket starts with all four settings on and ACLs disabled, as in S3.
    got = s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"]
    assert got == {k: True for k in OFF}
    assert s3.get_bucket_ownership_controls(Bucket=b)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}]
    # A public policy is refused by BlockPublicPolicy, with S3's message, and nothing is stored.
    r = error(lambda: s3.put_bucket_policy(Bucket=b, Policy=public_policy(b)))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 403 and r["Error"]["Code"] == "AccessDenied"
    assert r["Error"]["Message"].endswith(
        f'on resource: "arn:aws:s3:::{b}" because public policies are blocked by the '
        "BlockPublicPolicy block public access setting.")
    assert error(lambda: s3.get_bucket_policy(Bucket=b))["Error"]["Code"] == "NoSuchBucketPolicy"
    code, _, err = lab.aws("s3api", "put-bucket-policy", "--bucket", b, "--policy", public_policy(b), check=False)
    assert code != 0 and "AccessDenied" in err
    # A policy limited to one account is not public: accepted, and its status says so.
    private = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/*",
         "Condition": {"StringEquals": {"aws:PrincipalAccount": lab.other["CAIRN_ACCOUNT_ID"]}}}]})
    s3.put_bucket_policy(Bucket=b, Policy=private)
    assert s3.get_bucket_policy_status(Bucket=b)["PolicyStatus"] == {"IsPublic": False}
    # Turned off, the public policy goes in and reads as public.
    lab.aws("s3api", "delete-public-access-block", "--bucket", b)
    assert error(lambda: s3.get_public_access_block(Bucket=b))["Error"]["Code"] == \
        "NoSuchPublicAccessBlockConfiguration"
    s3.put_bucket_policy(Bucket=b, Policy=public_policy(b))
    _, status, _ = lab.aws("s3api", "get-bucket-policy-status", "--bucket", b)
    assert status == {"PolicyStatus": {"IsPublic": True}}
    s3.delete_bucket_policy(Bucket=b)
    assert error(lambda: s3.get_bucket_policy_status(Bucket=b))["Error"]["Code"] == "NoSuchBucketPolicy"
    # Settings as put, read back; a malformed document is refused.
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={**OFF, "BlockPublicPolicy": True})
    assert s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"] == {**OFF, "BlockPublicPolicy": True}
    r = error(lambda: s3.put_bucket_policy(Bucket=b, Policy=public_policy(b)))
    assert r["Error"]["Code"] == "AccessDenied"
    assert error(lambda: s3.get_public_access_block(Bucket=f"{b}-none"))["Error"]["Code"] == "NoSuchBucket"


def test_the_accounts_block_applies_to_every_bucket_through_s3_control(lab):
    account = lab.env()["CAIRN_ACCOUNT_ID"]
    control = control_client(lab)
    s3 = lab.client("s3")
    r = error(lambda: control.get_public_access_block(AccountId=account))
    assert r["Error"]["Code"] == "NoSuchPublicAccessBlockConfiguration"
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 404
    control.put_public_access_block(AccountId=account, PublicAccessBlockConfiguration={
        **OFF, "BlockPublicPolicy": True})
    got = control.get_public_access_block(AccountId=account)["PublicAccessBlockConfiguration"]
    assert got == {**OFF, "BlockPublicPolicy": True}
    # A bucket without settings of its own is held by its account's.
    b = bucket_name("acct")
    s3.create_bucket(Bucket=b)
    s3.delete_public_access_block(Bucket=b)
    assert error(lambda: s3.put_bucket_policy(Bucket=b, Policy=public_policy(b)))["Error"]["Code"] == "AccessDenied"
    # The CLI, through cairn as its proxy.
    env = {"HTTP_PROXY": lab.endpoint, "NO_PROXY": ""}
    _, cli, _ = lab.aws("s3control", "get-public-access-block", "--account-id", account, env_overrides=env)
    assert cli["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    lab.aws("s3control", "delete-public-access-block", "--account-id", account, env_overrides=env)
    s3.put_bucket_policy(Bucket=b, Policy=public_policy(b))
    # Another account's settings are not the caller's to read.
    r = error(lambda: control.get_public_access_block(AccountId=lab.other["CAIRN_ACCOUNT_ID"]))
    assert r["Error"]["Code"] == "AccessDenied"


def test_restrict_public_buckets_keeps_other_accounts_out(lab):
    s3, theirs = lab.client("s3"), other_s3(lab)
    b = bucket_name("restrict")
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="shared.txt", Body=b"hello")
    s3.delete_public_access_block(Bucket=b)
    s3.put_bucket_policy(Bucket=b, Policy=public_policy(b))
    assert theirs.get_object(Bucket=b, Key="shared.txt")["Body"].read() == b"hello"
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={**OFF, "RestrictPublicBuckets": True})
    assert error(lambda: theirs.get_object(Bucket=b, Key="shared.txt"))["Error"]["Code"] == "AccessDenied"
    # The owner's own account is not restricted.
    assert s3.get_object(Bucket=b, Key="shared.txt")["Body"].read() == b"hello"


def test_acls_stay_disabled_until_object_ownership_enables_them_and_then_grants_decide(lab):
    s3, theirs = lab.client("s3"), other_s3(lab)
    them = canonical_id(theirs)
    b = bucket_name("acl")
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="k", Body=b"data")
    # BucketOwnerEnforced: ACLs other than the owner's full control are refused.
    r = error(lambda: s3.put_object_acl(Bucket=b, Key="k", GrantRead=f'id="{them}"'))
    assert r["Error"]["Code"] == "AccessControlListNotSupported"
    assert error(lambda: theirs.get_object(Bucket=b, Key="k"))["Error"]["Code"] == "AccessDenied"
    # ObjectWriter enables them: a grant to the other account lets it read that object alone.
    lab.aws("s3api", "put-bucket-ownership-controls", "--bucket", b,
            "--ownership-controls", "Rules=[{ObjectOwnership=ObjectWriter}]")
    assert s3.get_bucket_ownership_controls(Bucket=b)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "ObjectWriter"}]
    s3.put_object(Bucket=b, Key="other", Body=b"not shared")
    # Grant headers replace the whole ACL, as in S3: the owner keeps its ownership, not a grant.
    s3.put_object_acl(Bucket=b, Key="k", GrantRead=f'id="{them}"', GrantFullControl=f'id="{canonical_id(s3)}"')
    got = s3.get_object_acl(Bucket=b, Key="k")
    assert got["Owner"]["ID"] == canonical_id(s3)
    assert {(g["Grantee"].get("ID"), g["Permission"]) for g in got["Grants"]} == {
        (canonical_id(s3), "FULL_CONTROL"), (them, "READ")}
    assert theirs.get_object(Bucket=b, Key="k")["Body"].read() == b"data"
    assert error(lambda: theirs.get_object(Bucket=b, Key="other"))["Error"]["Code"] == "AccessDenied"
    # A bucket grant (READ) lets it list; the CLI sets it by header.
    assert error(lambda: theirs.list_objects_v2(Bucket=b))["Error"]["Code"] == "AccessDenied"
    lab.aws("s3api", "put-bucket-acl", "--bucket", b, "--grant-read", f'id="{them}"',
            "--grant-full-control", f'id="{canonical_id(s3)}"')
    assert [o["Key"] for o in theirs.list_objects_v2(Bucket=b)["Contents"]] == ["k", "other"]
    _, acl, _ = lab.aws("s3api", "get-bucket-acl", "--bucket", b)
    assert {(g["Grantee"].get("ID"), g["Permission"]) for g in acl["Grants"]} == {
        (canonical_id(s3), "FULL_CONTROL"), (them, "READ")}
    # Public ACLs: refused while BlockPublicAcls is on; ignored while IgnorePublicAcls is on.
    r = error(lambda: s3.put_object(Bucket=b, Key="pub", Body=b"p", ACL="public-read"))
    assert r["Error"]["Code"] == "AccessDenied"
    s3.delete_public_access_block(Bucket=b)
    s3.put_object(Bucket=b, Key="pub", Body=b"p", ACL="public-read")
    assert theirs.get_object(Bucket=b, Key="pub")["Body"].read() == b"p"
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={**OFF, "IgnorePublicAcls": True})
    assert error(lambda: theirs.get_object(Bucket=b, Key="pub"))["Error"]["Code"] == "AccessDenied"
    # An unknown canonical id is refused; ACLs cannot be disabled while the bucket's grants others.
    r = error(lambda: s3.put_object_acl(Bucket=b, Key="k", GrantRead='id="' + "0" * 64 + '"'))
    assert r["Error"]["Code"] == "InvalidArgument"
    r = error(lambda: s3.put_bucket_ownership_controls(
        Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}))
    assert r["Error"]["Code"] == "InvalidBucketAclWithObjectOwnership"
    s3.put_bucket_acl(Bucket=b, ACL="private")
    s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    # Enforced again: the object grants no longer count.
    assert error(lambda: theirs.get_object(Bucket=b, Key="k"))["Error"]["Code"] == "AccessDenied"
    s3.delete_bucket_ownership_controls(Bucket=b)
    r = error(lambda: s3.get_bucket_ownership_controls(Bucket=b))
    assert r["Error"]["Code"] == "OwnershipControlsNotFoundError"


def test_a_bucket_made_with_acls_enabled_takes_a_canned_acl(lab):
    s3 = lab.client("s3")
    b = bucket_name("made")
    s3.create_bucket(Bucket=b, ObjectOwnership="BucketOwnerPreferred", ACL="log-delivery-write")
    grants = s3.get_bucket_acl(Bucket=b)["Grants"]
    assert {(g["Grantee"].get("URI"), g["Permission"]) for g in grants if "URI" in g["Grantee"]} == {
        ("http://acs.amazonaws.com/groups/s3/LogDelivery", "WRITE"),
        ("http://acs.amazonaws.com/groups/s3/LogDelivery", "READ_ACP")}
    r = error(lambda: s3.create_bucket(Bucket=bucket_name("bad"), ObjectOwnership="Nobody"))
    assert r["Error"]["Code"] == "InvalidArgument"
    r = error(lambda: s3.create_bucket(Bucket=bucket_name("enforced"), ACL="public-read"))
    assert r["Error"]["Code"] == "InvalidBucketAclWithObjectOwnership"


def test_the_calls_are_recorded_as_aws_records_them(lab):
    s3 = lab.client("s3")
    account = lab.env()["CAIRN_ACCOUNT_ID"]
    b = bucket_name("rec")
    s3.create_bucket(Bucket=b)
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={**OFF, "BlockPublicPolicy": True})
    s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    control = control_client(lab)
    control.put_public_access_block(AccountId=account, PublicAccessBlockConfiguration={**OFF, "BlockPublicAcls": True})
    control.delete_public_access_block(AccountId=account)
    ct = lab.client("cloudtrail")

    def event(name):
        found = [json.loads(e["CloudTrailEvent"]) for e in lookup_all(
            ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])]
        found = [e for e in found if e["requestParameters"].get("bucketName") in (b, None)]
        return found[0] if found else None

    put = wait_for(lambda: event("PutBucketPublicAccessBlock"))
    assert put["eventSource"] == "s3.amazonaws.com" and put["managementEvent"] is True
    assert put["readOnly"] is False and put["eventCategory"] == "Management"
    assert put["requestParameters"]["PublicAccessBlockConfiguration"] == {
        "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", **OFF, "BlockPublicPolicy": True}
    assert put["requestParameters"]["publicAccessBlock"] == ""
    owned = wait_for(lambda: event("PutBucketOwnershipControls"))
    assert owned["requestParameters"]["OwnershipControls"]["Rule"] == {"ObjectOwnership": "ObjectWriter"}
    acct = wait_for(lambda: event("PutAccountPublicAccessBlock"))
    assert acct["requestParameters"]["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    assert "bucketName" not in acct["requestParameters"]
    assert wait_for(lambda: event("DeleteAccountPublicAccessBlock"))["readOnly"] is False


CORS = {"CORSRules": [{"AllowedOrigins": ["http://localhost:*"], "AllowedMethods": ["PUT", "GET"],
                       "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]}


def preflight(c, path, origin, method, headers=None):
    import urllib.error
    import urllib.request
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        h["Access-Control-Request-Headers"] = headers
    req = urllib.request.Request(c.endpoint + path, method="OPTIONS", headers=h)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_cors_rules_answer_preflights_and_cross_origin_requests(lab):
    s3 = lab.client("s3")
    b = bucket_name("cors")
    s3.create_bucket(Bucket=b)
    assert error(lambda: s3.get_bucket_cors(Bucket=b))["Error"]["Code"] == "NoSuchCORSConfiguration"
    status, _, body = preflight(lab, f"/{b}/k", "http://localhost:1", "PUT")
    assert status == 403 and b"CORS is not enabled for this bucket." in body
    lab.aws("s3api", "put-bucket-cors", "--bucket", b, "--cors-configuration", json.dumps(CORS))
    _, got, _ = lab.aws("s3api", "get-bucket-cors", "--bucket", b)
    assert got["CORSRules"][0]["AllowedOrigins"] == ["http://localhost:*"]
    assert got["CORSRules"][0]["MaxAgeSeconds"] == 600
    # A preflight from an allowed origin: S3's headers, unsigned, nothing recorded.
    status, h, _ = preflight(lab, f"/{b}/k", "http://localhost:8000", "PUT", "content-type")
    h = {k.lower(): v for k, v in h.items()}
    assert status == 200
    assert h["access-control-allow-origin"] == "http://localhost:8000"
    assert h["access-control-allow-methods"] == "PUT"
    assert h["access-control-allow-headers"] == "content-type"
    assert h["access-control-expose-headers"] == "ETag" and h["access-control-max-age"] == "600"
    # Another origin, or a method no rule allows: S3's 403.
    status, _, body = preflight(lab, f"/{b}/k", "https://evil.example", "PUT")
    assert status == 403 and b"<Code>AccessForbidden</Code>" in body and b"<ResourceType>OBJECT</ResourceType>" in body
    assert preflight(lab, f"/{b}/k", "http://localhost:8000", "DELETE")[0] == 403
    assert preflight(lab, f"/{b}/k", "", "PUT")[0] == 400
    # A cross-origin request that is signed gets the headers too.
    s3.meta.events.register("before-sign.s3.GetBucketLocation",
                            lambda request, **kw: request.headers.__setitem__("Origin", "http://localhost:9"))
    resp = s3.get_bucket_location(Bucket=b)
    assert resp["ResponseMetadata"]["HTTPHeaders"]["access-control-allow-origin"] == "http://localhost:9"
    # Malformed rules are refused as S3 refuses them.
    bad = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]}
    r = error(lambda: s3.put_bucket_cors(Bucket=b, CORSConfiguration=bad))
    assert r["Error"]["Code"] == "InvalidRequest"
    s3.delete_bucket_cors(Bucket=b)
    assert error(lambda: s3.get_bucket_cors(Bucket=b))["Error"]["Code"] == "NoSuchCORSConfiguration"


def test_a_browser_uploads_and_reads_across_origins_with_presigned_urls(lab):
    """Headless Chromium on a page of another origin PUTs an object with a presigned URL (its
    preflight answered from the bucket's CORS rules), reads the exposed ETag, reads the object
    back; a bucket without a rule for that origin is refused by the browser."""
    import http.server
    import threading

    from playwright.sync_api import sync_playwright

    from conftest import free_port
    from test_console import CHROMIUM_ARGS

    s3 = lab.client("s3")
    b, closed = bucket_name("browser"), bucket_name("closed")
    s3.create_bucket(Bucket=b)
    s3.create_bucket(Bucket=closed)
    s3.put_bucket_cors(Bucket=b, CORSConfiguration=CORS)
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "from-browser.txt",
                                                              "ContentType": "text/plain"})
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "from-browser.txt"})
    refused_url = s3.generate_presigned_url("put_object", Params={"Bucket": closed, "Key": "x",
                                                                  "ContentType": "text/plain"})

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>app</title><p>app</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"http://localhost:{port}/")
            put = page.evaluate("""async (url) => {
                const r = await fetch(url, {method: 'PUT', headers: {'Content-Type': 'text/plain'}, body: 'from the browser'});
                return {status: r.status, etag: r.headers.get('ETag')};
            }""", put_url)
            got = page.evaluate("async (url) => (await fetch(url)).text()", get_url)
            refused = page.evaluate("""async (url) => {
                try { await fetch(url, {method: 'PUT', headers: {'Content-Type': 'text/plain'}, body: 'x'}); return 'sent'; }
                catch (e) { return e.name; }
            }""", refused_url)
            browser.close()
    finally:
        server.shutdown()
    assert put["status"] == 200
    assert put["etag"] == s3.head_object(Bucket=b, Key="from-browser.txt")["ETag"]
    assert got == "from the browser"
    assert refused == "TypeError"
    assert "Contents" not in s3.list_objects_v2(Bucket=closed)
