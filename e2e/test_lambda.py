"""Lambda with the real AWS CLI v1 and boto3: the control plane (create from a zip and from S3,
get, list in pages, update code and configuration, delete) with AWS's shapes and errors,
resource policies (AddPermission's statements, GetPolicy, RemovePermission, and who they let
invoke), reserved concurrency, the asynchronous invocation configuration, tags, the records
CloudTrail keeps (eventNames with the API version, no environment or zip in them, Invoke as a
data event), and Invoke running Python handlers: the event and context, a handler that raises,
`LogType=Tail`, `Event` and `DryRun`, a timeout, a handler calling cairn's S3 with its role's
credentials (recorded as the role session), and the output in `/aws/lambda/<name>`."""

import base64
import gzip
import io
import json
import shutil
import time
import zipfile

from pathlib import Path

import botocore.exceptions
import pytest

from conftest import ROOT, Cairn, documented_policy, lookup_all, wait_for

# Functions run unprivileged (as nobody when the tests run as root) with the system's Python,
# and find boto3 and awslambdaric in .lambda-python (scripts/venv makes it; any user can read
# it), given as the runtime's packages as /var/runtime holds them on AWS.
PYTHON = Path("/usr/bin/python3") if Path("/usr/bin/python3").exists() else Path("python3")
PACKAGES = str(ROOT / ".lambda-python")

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
NOT_LAMBDA = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})

ECHO = """
import json, os

def handler(event, context):
    print("got", json.dumps(event, sort_keys=True))
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "remaining": context.get_remaining_time_in_millis(),
        "log_group": context.log_group_name,
        "greeting": os.environ.get("GREETING"),
        "region": os.environ.get("AWS_REGION"),
    }
"""

BOOM = """
def handler(event, context):
    raise ValueError("boom: " + str(event.get("x")))
"""

SLEEPY = """
import time

def handler(event, context):
    print("going to sleep")
    time.sleep(5)
    return "woke"
"""

S3_WRITER = """
import json, os
import boto3

def handler(event, context):
    s3 = boto3.client("s3", endpoint_url=os.environ["CAIRN_ENDPOINT"])
    if event.get("create"):
        s3.create_bucket(Bucket=event["bucket"])
    s3.put_object(Bucket=event["bucket"], Key=event["key"], Body=json.dumps(event).encode())
    return {"written": event["key"]}
"""


def zip_of(source, name="app.py"):
    """A deployment package with the handler readable by all, as Lambda needs it (functions do
    not run as the zip's owner; writestr's default 0600 gives "Permission denied", as on AWS)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo(name)
        info.external_attr = 0o644 << 16
        z.writestr(info, source)
    return buf.getvalue()


def error_of(call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(*args, **kwargs)
    r = e.value.response
    return r["Error"]["Code"], r["Error"].get("Message", ""), r["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def lab(workdir):
    """An instance whose functions run with the system's Python and the runtime's packages, and
    a role Lambda may assume."""
    c = Cairn(workdir / "lambda", ["--lambda-python", str(PYTHON), "--lambda-python-path", PACKAGES])
    c.start()
    iam = c.client("iam")
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName="fn-role", PolicyName="s3", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "sqs:*"], "Resource": "*"}]}))
    c.role = role
    c.account = c.env()["CAIRN_ACCOUNT_ID"]
    yield c
    c.stop()


@pytest.fixture(scope="module")
def lam(lab):
    return lab.client("lambda")


def create(lam, lab, name, source=ECHO, **kwargs):
    args = dict(FunctionName=name, Runtime="python3.12", Role=lab.role, Handler="app.handler",
                Code={"ZipFile": zip_of(source)})
    args.update(kwargs)
    return lam.create_function(**args)


def test_create_get_list_update_delete_with_the_cli(lab, tmp_path):
    z = tmp_path / "fn.zip"
    z.write_bytes(zip_of(ECHO))
    _, cfg, _ = lab.aws("lambda", "create-function", "--function-name", "cli-fn", "--runtime", "python3.12",
                        "--handler", "app.handler", "--zip-file", f"fileb://{z}", "--role", lab.role,
                        "--environment", "Variables={GREETING=hello}", "--timeout", "10")
    arn = f"arn:aws:lambda:us-east-1:{lab.account}:function:cli-fn"
    assert cfg["FunctionArn"] == arn and cfg["FunctionName"] == "cli-fn"
    assert (cfg["Runtime"], cfg["Handler"], cfg["Role"]) == ("python3.12", "app.handler", lab.role)
    assert (cfg["Timeout"], cfg["MemorySize"], cfg["Version"], cfg["PackageType"]) == (10, 128, "$LATEST", "Zip")
    assert (cfg["State"], cfg["LastUpdateStatus"]) == ("Active", "Successful")
    import hashlib
    assert cfg["CodeSha256"] == base64.b64encode(hashlib.sha256(z.read_bytes()).digest()).decode()
    assert cfg["CodeSize"] == z.stat().st_size
    assert cfg["Environment"] == {"Variables": {"GREETING": "hello"}}
    assert cfg["Architectures"] == ["x86_64"] and cfg["EphemeralStorage"] == {"Size": 512}
    assert cfg["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/cli-fn"}
    assert cfg["TracingConfig"] == {"Mode": "PassThrough"}
    assert len(cfg["RevisionId"]) == 36
    assert len(cfg["LastModified"]) == 28 and cfg["LastModified"].endswith("+0000")

    _, got, _ = lab.aws("lambda", "get-function", "--function-name", "cli-fn")
    assert got["Configuration"] == cfg
    assert got["Code"]["RepositoryType"] == "S3" and got["Code"]["Location"].startswith("https://")
    _, conf, _ = lab.aws("lambda", "get-function-configuration", "--function-name", arn)
    assert conf == cfg

    _, upd, _ = lab.aws("lambda", "update-function-configuration", "--function-name", "cli-fn",
                        "--timeout", "20", "--memory-size", "256", "--description", "echo")
    assert (upd["Timeout"], upd["MemorySize"], upd["Description"]) == (20, 256, "echo")
    assert upd["RevisionId"] != cfg["RevisionId"] and upd["Environment"] == cfg["Environment"]
    z.write_bytes(zip_of(ECHO + "\n# v2\n"))
    _, code, _ = lab.aws("lambda", "update-function-code", "--function-name", "cli-fn", "--zip-file", f"fileb://{z}")
    assert code["CodeSha256"] != cfg["CodeSha256"] and code["Timeout"] == 20

    code_, _, err = lab.aws("lambda", "create-function", "--function-name", "cli-fn", "--runtime", "python3.12",
                            "--handler", "app.handler", "--zip-file", f"fileb://{z}", "--role", lab.role, check=False)
    assert code_ != 0 and "ResourceConflictException" in err and "Function already exist: cli-fn" in err

    lab.aws("lambda", "delete-function", "--function-name", "cli-fn")
    code_, _, err = lab.aws("lambda", "get-function", "--function-name", "cli-fn", check=False)
    assert code_ != 0 and "ResourceNotFoundException" in err and f"Function not found: {arn}" in err


def test_list_functions_in_pages(lab, lam):
    for i in range(5):
        create(lam, lab, f"page-{i}")
    names = []
    for page in lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2}):
        assert len(page["Functions"]) <= 2
        names += [f["FunctionName"] for f in page["Functions"]]
    assert [n for n in names if n.startswith("page-")] == [f"page-{i}" for i in range(5)]
    first = lam.list_functions(MaxItems=2)
    assert len(first["Functions"]) == 2 and "NextMarker" in first
    _, out, _ = lab.aws("lambda", "list-functions")
    assert {f"page-{i}" for i in range(5)} <= {f["FunctionName"] for f in out["Functions"]}
    for i in range(5):
        lam.delete_function(FunctionName=f"page-{i}")


def test_create_errors_are_awss(lab, lam):
    iam = lab.client("iam")
    other = iam.create_role(RoleName="not-for-lambda", AssumeRolePolicyDocument=NOT_LAMBDA)["Role"]["Arn"]
    code, msg, status = error_of(create, lam, lab, "bad-role", Role=other)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert msg == "The role defined for the function cannot be assumed by Lambda."
    code, msg, _ = error_of(create, lam, lab, "bad-runtime", Runtime="cobol85")
    assert code == "InvalidParameterValueException"
    assert msg.startswith("Value cobol85 at 'runtime' failed to satisfy constraint: Member must satisfy enum value set")
    code, msg, _ = error_of(create, lam, lab, "bad-env", Environment={"Variables": {"AWS_REGION": "x"}})
    assert code == "InvalidParameterValueException" and "Reserved keys used in this request: AWS_REGION" in msg
    code, msg, _ = error_of(create, lam, lab, "bad-zip", Code={"ZipFile": b"not a zip"})
    assert code == "InvalidParameterValueException" and "Could not unzip uploaded file" in msg
    code, msg, _ = error_of(create, lam, lab, "bad-timeout", Timeout=901)
    assert code == "ValidationException" and "Member must have value less than or equal to 900" in msg
    code, msg, status = error_of(lam.get_function, FunctionName="nope")
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert msg == f"Function not found: arn:aws:lambda:us-east-1:{lab.account}:function:nope"


def test_code_from_s3(lab, lam):
    s3 = lab.client("s3")
    s3.create_bucket(Bucket="code-bucket")
    s3.put_object(Bucket="code-bucket", Key="fn.zip", Body=zip_of(ECHO))
    cfg = create(lam, lab, "from-s3", Code={"S3Bucket": "code-bucket", "S3Key": "fn.zip"})
    import hashlib
    assert cfg["CodeSha256"] == base64.b64encode(hashlib.sha256(zip_of(ECHO)).digest()).decode()
    code, msg, _ = error_of(create, lam, lab, "from-s3-missing", Code={"S3Bucket": "code-bucket", "S3Key": "nope.zip"})
    assert code == "InvalidParameterValueException" and "NoSuchKey" in msg
    lam.delete_function(FunctionName="from-s3")


def test_permissions_add_get_remove(lab, lam):
    create(lam, lab, "perm-fn")
    arn = f"arn:aws:lambda:us-east-1:{lab.account}:function:perm-fn"
    rule = f"arn:aws:events:us-east-1:{lab.account}:rule/stop-logging"
    code, msg, status = error_of(lam.get_policy, FunctionName="perm-fn")
    assert (code, msg, status) == ("ResourceNotFoundException", "No policy is associated with the given resource.", 404)
    _, out, _ = lab.aws("lambda", "add-permission", "--function-name", "perm-fn", "--statement-id", "ev",
                        "--action", "lambda:InvokeFunction", "--principal", "events.amazonaws.com",
                        "--source-arn", rule)
    assert json.loads(out["Statement"]) == {
        "Sid": "ev", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "lambda:InvokeFunction", "Resource": arn, "Condition": {"ArnLike": {"AWS:SourceArn": rule}}}
    lam.add_permission(FunctionName="perm-fn", StatementId="acct", Action="lambda:InvokeFunction",
                       Principal="sns.amazonaws.com", SourceAccount=lab.account)
    got = lam.get_policy(FunctionName="perm-fn")
    policy = json.loads(got["Policy"])
    assert (policy["Version"], policy["Id"]) == ("2012-10-17", "default")
    assert [s["Sid"] for s in policy["Statement"]] == ["ev", "acct"]
    assert policy["Statement"][1]["Condition"] == {"StringEquals": {"AWS:SourceAccount": lab.account}}
    assert got["RevisionId"] == lam.get_function_configuration(FunctionName="perm-fn")["RevisionId"]
    code, msg, status = error_of(lam.add_permission, FunctionName="perm-fn", StatementId="ev",
                                 Action="lambda:InvokeFunction", Principal="events.amazonaws.com")
    assert (code, status) == ("ResourceConflictException", 409)
    assert msg == "The statement id (ev) provided already exists. Please provide a new statement id, or remove the existing statement."
    lab.aws("lambda", "remove-permission", "--function-name", "perm-fn", "--statement-id", "ev")
    code, msg, status = error_of(lam.remove_permission, FunctionName="perm-fn", StatementId="ev")
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert msg == "Statement ev is not found in resource policy."
    lam.remove_permission(FunctionName="perm-fn", StatementId="acct")
    code, _, _ = error_of(lam.get_policy, FunctionName="perm-fn")
    assert code == "ResourceNotFoundException"
    lam.delete_function(FunctionName="perm-fn")


def test_resource_policies_decide_who_else_may_invoke(lab, lam):
    create(lam, lab, "shared-fn")
    other = lab.create_account()
    theirs = lab.client("lambda", account=other["CAIRN_ACCOUNT_ID"])
    arn = f"arn:aws:lambda:us-east-1:{lab.account}:function:shared-fn"
    code, _, status = error_of(theirs.invoke, FunctionName=arn, InvocationType="DryRun")
    assert (code, status) == ("AccessDeniedException", 403)
    lam.add_permission(FunctionName="shared-fn", StatementId="partner", Action="lambda:InvokeFunction",
                       Principal=other["CAIRN_ACCOUNT_ID"])
    assert theirs.invoke(FunctionName=arn, InvocationType="DryRun")["StatusCode"] == 204
    lam.delete_function(FunctionName="shared-fn")


def test_concurrency_event_invoke_config_and_tags(lab, lam):
    create(lam, lab, "settings-fn", Tags={"team": "audit"})
    arn = f"arn:aws:lambda:us-east-1:{lab.account}:function:settings-fn"
    assert lam.get_function_concurrency(FunctionName="settings-fn").get("ReservedConcurrentExecutions") is None
    assert lam.put_function_concurrency(FunctionName="settings-fn", ReservedConcurrentExecutions=5)[
        "ReservedConcurrentExecutions"] == 5
    assert lam.get_function_concurrency(FunctionName="settings-fn")["ReservedConcurrentExecutions"] == 5
    assert lam.get_function(FunctionName="settings-fn")["Concurrency"] == {"ReservedConcurrentExecutions": 5}
    code, msg, _ = error_of(lam.put_function_concurrency, FunctionName="settings-fn", ReservedConcurrentExecutions=901)
    assert code == "InvalidParameterValueException" and "below its minimum value of [100]" in msg
    lam.delete_function_concurrency(FunctionName="settings-fn")
    assert lam.get_function_concurrency(FunctionName="settings-fn").get("ReservedConcurrentExecutions") is None

    code, msg, _ = error_of(lam.get_function_event_invoke_config, FunctionName="settings-fn")
    assert code == "ResourceNotFoundException" and msg == f"The function {arn}:$LATEST doesn't have an EventInvokeConfig"
    queue = f"arn:aws:sqs:us-east-1:{lab.account}:failures"
    put = lam.put_function_event_invoke_config(FunctionName="settings-fn", MaximumRetryAttempts=0,
                                               MaximumEventAgeInSeconds=600,
                                               DestinationConfig={"OnFailure": {"Destination": queue}})
    assert put["FunctionArn"] == f"{arn}:$LATEST"
    assert (put["MaximumRetryAttempts"], put["MaximumEventAgeInSeconds"]) == (0, 600)
    assert put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {"Destination": queue}}
    got = lam.get_function_event_invoke_config(FunctionName="settings-fn")
    assert got["DestinationConfig"] == put["DestinationConfig"]
    code, msg, _ = error_of(lam.put_function_event_invoke_config, FunctionName="settings-fn", MaximumRetryAttempts=3)
    assert code == "ValidationException" and "Member must have value less than or equal to 2" in msg
    lam.delete_function_event_invoke_config(FunctionName="settings-fn")
    code, _, _ = error_of(lam.get_function_event_invoke_config, FunctionName="settings-fn")
    assert code == "ResourceNotFoundException"

    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "audit"}
    lam.tag_resource(Resource=arn, Tags={"env": "test"})
    _, tags, _ = lab.aws("lambda", "list-tags", "--resource", arn)
    assert tags["Tags"] == {"team": "audit", "env": "test"}
    lam.untag_resource(Resource=arn, TagKeys=["team"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"env": "test"}
    lam.delete_function(FunctionName="settings-fn")


def test_management_calls_are_recorded_with_the_api_version(lab, lam):
    create(lam, lab, "recorded-fn", Environment={"Variables": {"SECRET": "s3cr3t"}})
    lam.get_function(FunctionName="recorded-fn")
    lam.add_permission(FunctionName="recorded-fn", StatementId="s", Action="lambda:InvokeFunction",
                       Principal="events.amazonaws.com")
    lam.invoke(FunctionName="recorded-fn", InvocationType="DryRun")
    ct = lab.client("cloudtrail")

    def one(name):
        found = lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])
        return [json.loads(e["CloudTrailEvent"]) for e in found]

    created = wait_for(lambda: one("CreateFunction20150331"))[0]
    assert created["eventSource"] == "lambda.amazonaws.com" and created["readOnly"] is False
    params = created["requestParameters"]
    assert params["functionName"] == "recorded-fn" and params["runtime"] == "python3.12"
    assert "environment" not in params and "zipFile" not in json.dumps(params)
    assert "s3cr3t" not in json.dumps(created)
    got = wait_for(lambda: one("GetFunction20150331v2"))[0]
    assert got["readOnly"] is True
    assert wait_for(lambda: one("AddPermission20150331v2"))
    # Invoke is a data event: never in event history.
    assert not one("Invoke")
    lam.delete_function(FunctionName="recorded-fn")


def test_invoke_is_a_data_event_only_selecting_trails_take(new_cairn):
    c = new_cairn(["--test-clock", "--lambda-python", str(PYTHON)])
    account = c.env()["CAIRN_ACCOUNT_ID"]
    role = c.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    lam, s3, ct = c.client("lambda"), c.client("s3"), c.client()
    for name in ("watched", "unwatched"):
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                            Code={"ZipFile": zip_of(ECHO)})
    watched = f"arn:aws:lambda:us-east-1:{account}:function:watched"
    s3.create_bucket(Bucket="fn-trail")
    s3.put_bucket_policy(Bucket="fn-trail", Policy=documented_policy("fn-trail", account))
    ct.create_trail(Name="fn-data", S3BucketName="fn-trail")
    ct.put_event_selectors(TrailName="fn-data", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": False,
        "DataResources": [{"Type": "AWS::Lambda::Function", "Values": [watched]}]}])
    ct.start_logging(Name="fn-data")
    lam.invoke(FunctionName="watched", InvocationType="DryRun")
    lam.invoke(FunctionName="unwatched", InvocationType="DryRun")

    def delivered():
        recs = []
        for p in s3.get_paginator("list_objects_v2").paginate(Bucket="fn-trail"):
            for o in p.get("Contents", []):
                body = s3.get_object(Bucket="fn-trail", Key=o["Key"])["Body"].read()
                if o["Key"].endswith(".json.gz") and "/CloudTrail/" in o["Key"]:
                    recs += json.loads(gzip.decompress(body))["Records"]
        return [r for r in recs if r["eventSource"] == "lambda.amazonaws.com"] or None
    recs = c.advance_until(delivered, step=2, limit=60)
    [r] = recs
    assert (r["eventName"], r["eventCategory"], r["managementEvent"], r["readOnly"]) == ("Invoke", "Data", False, False)
    assert r["resources"] == [{"accountId": account, "type": "AWS::Lambda::Function", "ARN": watched}]
    assert r["requestParameters"]["functionName"] == watched
    assert r["requestParameters"]["invocationType"] == "DryRun"
    assert r["additionalEventData"] == {"functionVersion": f"{watched}:$LATEST"}


def test_invalid_payloads_and_dry_runs(lab, lam):
    create(lam, lab, "payload-fn")
    assert lam.invoke(FunctionName="payload-fn", InvocationType="DryRun")["StatusCode"] == 204
    code, msg, status = error_of(lam.invoke, FunctionName="payload-fn", Payload=b"not json")
    assert (code, status) == ("InvalidRequestContentException", 400)
    assert msg.startswith("Could not parse request body into json")
    code, _, status = error_of(lam.invoke, FunctionName="nope", Payload=b"{}")
    assert (code, status) == ("ResourceNotFoundException", 404)
    lam.delete_function(FunctionName="payload-fn")


# Invocations: these need the executor (crates/cairn-functions).

def test_invoke_echoes_the_event_and_context(lab, lam):
    create(lam, lab, "echo", Environment={"Variables": {"GREETING": "hello"}}, MemorySize=256)
    out = lam.invoke(FunctionName="echo", Payload=json.dumps({"a": 1}))
    assert out["StatusCode"] == 200 and "FunctionError" not in out
    assert out["ExecutedVersion"] == "$LATEST"
    body = json.loads(out["Payload"].read())
    assert body["event"] == {"a": 1}
    assert body["request_id"] == out["ResponseMetadata"]["RequestId"]
    assert body["function_name"] == "echo" and body["function_version"] == "$LATEST"
    assert body["arn"] == f"arn:aws:lambda:us-east-1:{lab.account}:function:echo"
    assert int(body["memory"]) == 256 and 0 < body["remaining"] <= 3000
    assert body["log_group"] == "/aws/lambda/echo"
    assert (body["greeting"], body["region"]) == ("hello", "us-east-1")


def test_invoke_with_the_cli_and_a_log_tail(lab, lam, tmp_path):
    create(lam, lab, "tail-fn")
    out = tmp_path / "out.json"
    _, res, _ = lab.aws("lambda", "invoke", "--function-name", "tail-fn", "--payload", '{"b": 2}',
                        "--log-type", "Tail", str(out))
    assert res["StatusCode"] == 200
    assert json.loads(out.read_text())["event"] == {"b": 2}
    tail = base64.b64decode(res["LogResult"]).decode()
    assert "START RequestId:" in tail and 'got {"b": 2}' in tail and "END RequestId:" in tail
    assert "REPORT RequestId:" in tail and "Duration:" in tail


def test_a_handler_that_raises(lab, lam):
    create(lam, lab, "boom", Code={"ZipFile": zip_of(BOOM)})
    out = lam.invoke(FunctionName="boom", Payload=json.dumps({"x": 7}))
    assert out["StatusCode"] == 200 and out["FunctionError"] == "Unhandled"
    err = json.loads(out["Payload"].read())
    assert err["errorType"] == "ValueError" and err["errorMessage"] == "boom: 7"
    assert isinstance(err["stackTrace"], list)


def test_a_handler_past_its_timeout_is_stopped(lab, lam):
    create(lam, lab, "sleepy", Code={"ZipFile": zip_of(SLEEPY)}, Timeout=1)
    started = time.time()
    out = lam.invoke(FunctionName="sleepy", Payload=b"{}")
    assert time.time() - started < 4.5
    assert out["FunctionError"] == "Unhandled"
    assert "Task timed out after 1.00 seconds" in json.loads(out["Payload"].read())["errorMessage"]


def test_event_invocations_run_in_the_background(lab, lam):
    s3 = lab.client("s3")
    s3.create_bucket(Bucket="async-out")
    create(lam, lab, "async-writer", Code={"ZipFile": zip_of(S3_WRITER)},
           Environment={"Variables": {"CAIRN_ENDPOINT": lab.endpoint}}, Timeout=30)
    out = lam.invoke(FunctionName="async-writer", InvocationType="Event",
                     Payload=json.dumps({"bucket": "async-out", "key": "k1"}))
    assert out["StatusCode"] == 202 and out["Payload"].read() == b""
    body = wait_for(lambda: _object(s3, "async-out", "k1"), timeout=60)
    assert json.loads(body)["key"] == "k1"


def _object(s3, bucket, key):
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except botocore.exceptions.ClientError:
        return None


def test_a_handlers_calls_are_recorded_as_its_role_session(lab, lam):
    create(lam, lab, "s3-writer", Code={"ZipFile": zip_of(S3_WRITER)},
           Environment={"Variables": {"CAIRN_ENDPOINT": lab.endpoint}}, Timeout=30)
    out = lam.invoke(FunctionName="s3-writer", Payload=json.dumps({"bucket": "made-by-fn", "key": "k", "create": True}))
    assert "FunctionError" not in out, out["Payload"].read()
    ct = lab.client("cloudtrail")
    found = wait_for(lambda: [json.loads(e["CloudTrailEvent"]) for e in lookup_all(
        ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateBucket"}])
        if json.loads(e["CloudTrailEvent"])["requestParameters"].get("bucketName") == "made-by-fn"])
    who = found[0]["userIdentity"]
    assert who["type"] == "AssumedRole"
    assert who["arn"] == f"arn:aws:sts::{lab.account}:assumed-role/fn-role/s3-writer"
    assert who["sessionContext"]["sessionIssuer"]["arn"] == lab.role
    assumed = [json.loads(e["CloudTrailEvent"]) for e in lookup_all(
        ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}])]
    by_lambda = [r for r in assumed if r["userIdentity"].get("invokedBy") == "lambda.amazonaws.com"]
    assert by_lambda and by_lambda[0]["userIdentity"]["type"] == "AWSService"


def test_output_goes_to_the_functions_log_group(lab, lam):
    create(lam, lab, "logged")
    lam.invoke(FunctionName="logged", Payload=json.dumps({"marker": "m-123"}))
    _, out, _ = lab.aws("logs", "filter-log-events", "--log-group-name", "/aws/lambda/logged")
    messages = [e["message"] for e in out["events"]]
    text = "\n".join(messages)
    assert "START RequestId:" in text and "m-123" in text and "END RequestId:" in text and "REPORT RequestId:" in text
    streams = {e["logStreamName"] for e in out["events"]}
    assert len(streams) == 1 and "/[$LATEST]" in streams.pop()
    # A group deleted meanwhile is made again.
    lab.client("logs").delete_log_group(logGroupName="/aws/lambda/logged")
    lam.invoke(FunctionName="logged", Payload=json.dumps({"marker": "m-456"}))
    _, out, _ = lab.aws("logs", "filter-log-events", "--log-group-name", "/aws/lambda/logged")
    text = "\n".join(e["message"] for e in out["events"])
    assert "m-456" in text and "m-123" not in text


def test_reserved_concurrency_of_zero_throttles(lab, lam):
    create(lam, lab, "throttled")
    lam.put_function_concurrency(FunctionName="throttled", ReservedConcurrentExecutions=0)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.invoke(FunctionName="throttled", Payload=b"{}")
    r = e.value.response
    assert (r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]) == ("TooManyRequestsException", 429)
    assert r["Error"]["Message"] == "Rate Exceeded."
    assert r["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    lam.delete_function(FunctionName="throttled")


def test_a_failed_event_invocation_goes_to_its_failure_destination(lab, lam):
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName="fn-failures")["QueueUrl"]
    queue = f"arn:aws:sqs:us-east-1:{lab.account}:fn-failures"
    create(lam, lab, "fails-async", Code={"ZipFile": zip_of(BOOM)})
    lam.put_function_event_invoke_config(FunctionName="fails-async", MaximumRetryAttempts=0,
                                         DestinationConfig={"OnFailure": {"Destination": queue}})
    out = lam.invoke(FunctionName="fails-async", InvocationType="Event", Payload=json.dumps({"x": 9}))
    assert out["StatusCode"] == 202
    got = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"), timeout=60)
    record = json.loads(got[0]["Body"])
    assert record["version"] == "1.0"
    ctx = record["requestContext"]
    assert ctx["requestId"] == out["ResponseMetadata"]["RequestId"]
    assert ctx["functionArn"] == f"arn:aws:lambda:us-east-1:{lab.account}:function:fails-async:$LATEST"
    assert (ctx["condition"], ctx["approximateInvokeCount"]) == ("RetriesExhausted", 1)
    assert record["requestPayload"] == {"x": 9}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorMessage"] == "boom: 9"


RECORDER = """
import json, os
import boto3

def handler(event, context):
    s3 = boto3.client("s3", endpoint_url=os.environ["CAIRN_ENDPOINT"])
    s3.put_object(Bucket=os.environ["BUCKET"], Key=context.aws_request_id, Body=json.dumps(event).encode())
"""


def recorded_events(s3, bucket):
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return [json.loads(s3.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in keys]


def test_sns_invokes_a_subscribed_function_where_its_policy_lets_it(lab, lam):
    s3, sns = lab.client("s3"), lab.client("sns")
    s3.create_bucket(Bucket="sns-events")
    arn = create(lam, lab, "on-sns", Code={"ZipFile": zip_of(RECORDER)}, Timeout=30,
                 Environment={"Variables": {"CAIRN_ENDPOINT": lab.endpoint, "BUCKET": "sns-events"}})["FunctionArn"]
    topic = sns.create_topic(Name="to-fn")["TopicArn"]
    lam.add_permission(FunctionName="on-sns", StatementId="sns", Action="lambda:InvokeFunction",
                       Principal="sns.amazonaws.com", SourceArn=topic)
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="hello function", Subject="greeting")
    [event] = wait_for(lambda: recorded_events(s3, "sns-events"), timeout=60)
    [record] = event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert (record["Sns"]["Message"], record["Sns"]["Subject"], record["Sns"]["TopicArn"]) == \
        ("hello function", "greeting", topic)


def test_a_subscription_filter_streams_matching_events_to_a_function(lab, lam):
    s3, logs = lab.client("s3"), lab.client("logs")
    s3.create_bucket(Bucket="logs-events")
    arn = create(lam, lab, "on-logs", Code={"ZipFile": zip_of(RECORDER)}, Timeout=30,
                 Environment={"Variables": {"CAIRN_ENDPOINT": lab.endpoint, "BUCKET": "logs-events"}})["FunctionArn"]
    logs.create_log_group(logGroupName="app")
    logs.create_log_stream(logGroupName="app", logStreamName="s")
    lam.add_permission(FunctionName="on-logs", StatementId="logs", Action="lambda:InvokeFunction",
                       Principal="logs.amazonaws.com",
                       SourceArn=f"arn:aws:logs:us-east-1:{lab.account}:log-group:app:*")
    logs.put_subscription_filter(logGroupName="app", filterName="errors", filterPattern="ERROR",
                                 destinationArn=arn)
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName="app", logStreamName="s", logEvents=[
        {"timestamp": now, "message": "INFO all good"}, {"timestamp": now + 1, "message": "ERROR disk full"}])
    [event] = wait_for(lambda: recorded_events(s3, "logs-events"), timeout=60)
    data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    assert (data["logGroup"], data["logStream"], data["subscriptionFilters"]) == ("app", "s", ["errors"])
    assert [e["message"] for e in data["logEvents"]] == ["ERROR disk full"]


def test_an_acknowledged_event_invocation_survives_kill_9(new_cairn):
    c = new_cairn(["--lambda-python", str(PYTHON), "--lambda-python-path", PACKAGES])
    iam = c.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName="r", PolicyName="s3", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    lam, s3 = c.client("lambda"), c.client("s3")
    s3.create_bucket(Bucket="after-crash")
    lam.create_function(FunctionName="durable", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": zip_of(RECORDER)}, Timeout=30,
                        Environment={"Variables": {"CAIRN_ENDPOINT": c.endpoint, "BUCKET": "after-crash"}})
    # Held back by a reservation of 0: throttled invocations wait in the queue.
    lam.put_function_concurrency(FunctionName="durable", ReservedConcurrentExecutions=0)
    out = lam.invoke(FunctionName="durable", InvocationType="Event", Payload=json.dumps({"n": 1}))
    assert out["StatusCode"] == 202
    c.kill9()
    c.start()
    lam, s3 = c.client("lambda"), c.client("s3")
    assert recorded_events(s3, "after-crash") == []
    lam.delete_function_concurrency(FunctionName="durable")
    assert wait_for(lambda: recorded_events(s3, "after-crash"), timeout=60) == [{"n": 1}]


def test_a_successful_event_invocation_goes_to_its_success_destination(lab, lam):
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName="fn-successes")["QueueUrl"]
    create(lam, lab, "succeeds-async")
    lam.put_function_event_invoke_config(FunctionName="succeeds-async", DestinationConfig={
        "OnSuccess": {"Destination": f"arn:aws:sqs:us-east-1:{lab.account}:fn-successes"}})
    out = lam.invoke(FunctionName="succeeds-async", InvocationType="Event", Payload=json.dumps({"ok": 1}))
    got = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"), timeout=60)
    record = json.loads(got[0]["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["requestId"] == out["ResponseMetadata"]["RequestId"]
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"]["event"] == {"ok": 1}


def test_a_slow_event_invocation_does_not_hold_up_others(lab, lam):
    s3 = lab.client("s3")
    s3.create_bucket(Bucket="quick-events")
    create(lam, lab, "slow-async", Code={"ZipFile": zip_of(SLEEPY)}, Timeout=10)
    create(lam, lab, "quick-async", Code={"ZipFile": zip_of(RECORDER)}, Timeout=30,
           Environment={"Variables": {"CAIRN_ENDPOINT": lab.endpoint, "BUCKET": "quick-events"}})
    lam.invoke(FunctionName="slow-async", InvocationType="Event", Payload=b"{}")
    time.sleep(0.5)  # the slow one has started
    started = time.time()
    lam.invoke(FunctionName="quick-async", InvocationType="Event", Payload=json.dumps({"q": 1}))
    assert wait_for(lambda: recorded_events(s3, "quick-events"), timeout=30) == [{"q": 1}]
    assert time.time() - started < 4, "the quick function ran while the slow one slept"


ON_STOP = """
import json, os
import boto3

def main(event, context):
    print("received", event["detail"]["eventName"], "from", event["source"])
    s3 = boto3.client("s3", endpoint_url=os.environ["CAIRN_ENDPOINT"])
    bucket = os.environ["BUCKET"]
    s3.put_object(Bucket=bucket, Key="stop-" + context.aws_request_id, Body=json.dumps(event).encode())
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
"""


def test_the_issues_example_with_the_cli(lab, tmp_path):
    """A rule matching StopLogging in CloudTrail's envelope invokes a function within seconds;
    the function writes to S3 with its role's credentials, recorded as the role session, and
    its print() is in its log group."""
    s3 = lab.client("s3")
    s3.create_bucket(Bucket="on-stop-out")
    s3.create_bucket(Bucket="example-trail")
    s3.put_bucket_policy(Bucket="example-trail", Policy=documented_policy("example-trail", lab.account))
    z = tmp_path / "fn.zip"
    z.write_bytes(zip_of(ON_STOP, name="handler.py"))
    _, fn, _ = lab.aws("lambda", "create-function", "--function-name", "on-stop", "--runtime", "python3.12",
                       "--handler", "handler.main", "--zip-file", f"fileb://{z}", "--role", lab.role,
                       "--timeout", "30", "--environment",
                       f"Variables={{CAIRN_ENDPOINT={lab.endpoint},BUCKET=on-stop-out}}")
    _, rule, _ = lab.aws("events", "put-rule", "--name", "stop-logging", "--event-pattern", json.dumps(
        {"source": ["aws.cloudtrail"], "detail-type": ["AWS API Call via CloudTrail"],
         "detail": {"eventName": ["StopLogging"]}}))
    lab.aws("lambda", "add-permission", "--function-name", "on-stop", "--statement-id", "ev",
            "--action", "lambda:InvokeFunction", "--principal", "events.amazonaws.com",
            "--source-arn", rule["RuleArn"])
    lab.aws("events", "put-targets", "--rule", "stop-logging", "--targets", f"Id=1,Arn={fn['FunctionArn']}")
    lab.aws("cloudtrail", "create-trail", "--name", "main", "--s3-bucket-name", "example-trail")
    lab.aws("cloudtrail", "start-logging", "--name", "main")
    started = time.time()
    lab.aws("cloudtrail", "stop-logging", "--name", "main")
    [event] = wait_for(lambda: recorded_events(s3, "on-stop-out"), timeout=60)
    assert time.time() - started < 10
    assert (event["source"], event["detail-type"]) == ("aws.cloudtrail", "AWS API Call via CloudTrail")
    assert event["detail"]["eventName"] == "StopLogging"
    ct = lab.client("cloudtrail")
    tagged = wait_for(lambda: [json.loads(e["CloudTrailEvent"]) for e in lookup_all(ct, LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "PutBucketVersioning"}])])
    who = tagged[0]["userIdentity"]
    assert (who["type"], who["arn"]) == ("AssumedRole", f"arn:aws:sts::{lab.account}:assumed-role/fn-role/on-stop")
    _, out, _ = lab.aws("logs", "filter-log-events", "--log-group-name", "/aws/lambda/on-stop")
    assert any("received StopLogging from aws.cloudtrail" in e["message"] for e in out["events"])


def test_updated_code_and_configuration_take_effect_at_once(lab, lam):
    create(lam, lab, "changing", Code={"ZipFile": zip_of("def handler(e, c):\n    return 'v1'\n")})
    assert json.loads(lam.invoke(FunctionName="changing")["Payload"].read()) == "v1"
    lam.update_function_code(FunctionName="changing", ZipFile=zip_of(
        "import os\n\ndef handler(e, c):\n    return 'v2 ' + os.environ.get('COLOR', '-')\n"))
    assert json.loads(lam.invoke(FunctionName="changing")["Payload"].read()) == "v2 -"
    lam.update_function_configuration(FunctionName="changing", Environment={"Variables": {"COLOR": "red"}})
    assert json.loads(lam.invoke(FunctionName="changing")["Payload"].read()) == "v2 red"


BOOTSTRAP = """#!/bin/sh
# A custom runtime: the Runtime API by hand, as AWS's tutorial does it.
set -eu
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation"
while true; do
  headers=$(mktemp)
  event=$(curl -sS -D "$headers" "$api/next")
  id=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$headers" | tr -d '[:space:]' | cut -d: -f2)
  rm -f "$headers"
  echo "handling $id"
  curl -sS -X POST "$api/$id/response" -d "{\\"handler\\": \\"$_HANDLER\\", \\"event\\": $event}" >/dev/null
done
"""


@pytest.mark.skipif(shutil.which("curl") is None, reason="the custom runtime's bootstrap uses curl")
def test_a_provided_runtime_runs_the_zips_bootstrap(lab, lam):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        z.writestr(info, BOOTSTRAP)
    lam.create_function(FunctionName="custom", Runtime="provided.al2023", Role=lab.role, Handler="function.handler",
                        Code={"ZipFile": buf.getvalue()})
    out = lam.invoke(FunctionName="custom", Payload=json.dumps({"k": "v"}), LogType="Tail")
    assert "FunctionError" not in out
    assert json.loads(out["Payload"].read()) == {"handler": "function.handler", "event": {"k": "v"}}
    assert "handling " in base64.b64decode(out["LogResult"]).decode()


def test_failed_event_invocations_are_retried_with_awss_delays(new_cairn):
    c = new_cairn(["--test-clock", "--lambda-python", str(PYTHON), "--lambda-python-path", PACKAGES])
    account = c.env()["CAIRN_ACCOUNT_ID"]
    iam = c.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName="r", PolicyName="sqs", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}))
    lam, sqs = c.client("lambda"), c.client("sqs")
    url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    lam.create_function(FunctionName="flaky", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": zip_of(BOOM)})
    lam.put_function_event_invoke_config(FunctionName="flaky", DestinationConfig={
        "OnFailure": {"Destination": f"arn:aws:sqs:us-east-1:{account}:dlq"}})
    lam.invoke(FunctionName="flaky", InvocationType="Event", Payload=json.dumps({"x": 1}))

    def logged_attempts():
        try:
            events = c.client("logs").filter_log_events(logGroupName="/aws/lambda/flaky")["events"]
        except botocore.exceptions.ClientError:
            return 0  # no group before the first attempt
        return sum(e["message"].startswith("START RequestId:") for e in events)

    def received():
        return sqs.receive_message(QueueUrl=url).get("Messages")

    wait_for(lambda: logged_attempts() == 1)
    c.advance(50)
    time.sleep(1)
    assert logged_attempts() == 1, "no retry before a minute"
    c.advance(15)
    wait_for(lambda: logged_attempts() == 2)
    c.advance(100)
    time.sleep(1)
    assert logged_attempts() == 2 and not received(), "the second retry waits two minutes"
    c.advance(30)
    got = wait_for(received)
    record = json.loads(got[0]["Body"])
    assert logged_attempts() == 3
    assert (record["requestContext"]["condition"], record["requestContext"]["approximateInvokeCount"]) == \
        ("RetriesExhausted", 3)


def test_giving_a_function_a_role_needs_pass_role(lab):
    """A caller allowed lambda:* but not iam:PassRole cannot run code with a role of the account,
    at creation or by changing the configuration; allowed iam:PassRole for lambda, it can."""
    from alerting import client_as, user_env
    dev = user_env(lab, "fn-dev", "lambda:*")
    lam_dev = client_as(lab, dev, "lambda")
    kwargs = dict(FunctionName="passed", Runtime="python3.12", Role=lab.role, Handler="app.handler",
                  Code={"ZipFile": zip_of(ECHO)})
    code, message, status = error_of(lam_dev.create_function, **kwargs)
    assert (code, status) == ("AccessDeniedException", 403)
    assert "iam:PassRole" in message and lab.role in message
    lab.client("iam").put_user_policy(UserName="fn-dev", PolicyName="pass", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": lab.role,
                                               "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}}]}))
    assert lam_dev.create_function(**kwargs)["Role"] == lab.role
    # Changing the role is passing the new one.
    other = lab.client("iam").create_role(RoleName="fn-other", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    code, message, _ = error_of(lam_dev.update_function_configuration, FunctionName="passed", Role=other)
    assert code == "AccessDeniedException" and "iam:PassRole" in message
    assert lam_dev.update_function_configuration(FunctionName="passed", Timeout=9)["Timeout"] == 9
