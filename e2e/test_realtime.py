"""The course's real-time processing, end to end with the real AWS CLI v1 and boto3, with handler
code exactly as it would run on AWS (plain `boto3.client("s3")`: cairn points functions' SDKs at
itself): an EventBridge rule on "AWS API Call via CloudTrail" events invoking the user's function,
which writes what it got to S3 with its role's credentials, that write recorded by a trail as an
S3 data event with the AssumedRole identity of the function's role; its print() output in
/aws/lambda/<name>; and a CloudWatch Logs subscription filter on a trail's log group streaming
matching records to a function."""

import base64
import gzip
import io
import json
import zipfile

import pytest

from alerting import setup
from pathlib import Path

from conftest import ROOT, Cairn, wait_for

# Functions run unprivileged with the system's Python; boto3 and awslambdaric come from
# .lambda-python (scripts/venv), as /var/runtime holds them on AWS.
PYTHON = Path("/usr/bin/python3") if Path("/usr/bin/python3").exists() else Path("python3")
PACKAGES = str(ROOT / ".lambda-python")

HANDLER = '''
import base64, gzip, json, os
import boto3

def main(event, context):
    print("got", json.dumps(event))
    s3 = boto3.client("s3")
    who = boto3.client("sts").get_caller_identity()["Arn"]
    s3.put_object(Bucket=os.environ["RESULTS"], Key=context.aws_request_id + ".json",
                  Body=json.dumps({"event": event, "who": who, "function": context.function_name}))
    return {"ok": True}
'''


def zipped(source):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        # As `zip fn.zip handler.py` stores a file of mode 0644: Lambda needs world-readable code.
        info = zipfile.ZipInfo("handler.py")
        info.external_attr = 0o644 << 16
        z.writestr(info, source)
    return buf.getvalue()


LAMBDA_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@pytest.fixture(scope="module")
def lab(workdir):
    c = Cairn(workdir / "realtime", ["--delivery-interval", "1", "--test-clock",
                                      "--lambda-python", str(PYTHON), "--lambda-python-path", PACKAGES])
    c.start()
    yield c
    c.stop()


def results(c, bucket):
    """What the function wrote: the objects of `bucket`, parsed."""
    s3 = c.client("s3")
    out = []
    for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        out.append(json.loads(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()))
    return out


def function(c, name, tmp_path, bucket):
    """A function `name` running HANDLER with a role that may write to `bucket`; its ARN."""
    account = c.client("sts").get_caller_identity()["Account"]
    c.aws("iam", "create-role", "--role-name", f"{name}-role", "--assume-role-policy-document", LAMBDA_TRUST)
    c.aws("iam", "put-role-policy", "--role-name", f"{name}-role", "--policy-name", "write", "--policy-document", json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    zip_path = tmp_path / f"{name}.zip"
    zip_path.write_bytes(zipped(HANDLER))
    _, fn, _ = c.aws("lambda", "create-function", "--function-name", name, "--runtime", "python3.11",
                     "--handler", "handler.main", "--zip-file", f"fileb://{zip_path}",
                     "--role", f"arn:aws:iam::{account}:role/{name}-role",
                     "--environment", json.dumps({"Variables": {"RESULTS": bucket}}), "--timeout", "30")
    assert fn["State"] in ("Active", "Pending")
    return fn["FunctionArn"]


def test_a_rule_on_stop_logging_runs_handler_code_written_for_aws(lab, tmp_path):
    account, _, _ = setup(lab, "rt-main")
    bucket = "rt-results"
    lab.aws("s3", "mb", f"s3://{bucket}")
    fn_arn = function(lab, "on-stop", tmp_path, bucket)
    _, rule, _ = lab.aws("events", "put-rule", "--name", "stop-logging", "--event-pattern", json.dumps(
        {"source": ["aws.cloudtrail"], "detail-type": ["AWS API Call via CloudTrail"], "detail": {"eventName": ["StopLogging"]}}))
    rule_arn = rule["RuleArn"]
    assert rule_arn == f"arn:aws:events:us-east-1:{account}:rule/stop-logging"
    lab.aws("lambda", "add-permission", "--function-name", "on-stop", "--statement-id", "ev", "--action",
            "lambda:InvokeFunction", "--principal", "events.amazonaws.com", "--source-arn", rule_arn)
    _, out, _ = lab.aws("events", "put-targets", "--rule", "stop-logging", "--targets", f"Id=1,Arn={fn_arn}")
    assert out["FailedEntryCount"] == 0
    # Other calls do not match; StopLogging does, and the handler runs with AWS's envelope.
    lab.aws("cloudtrail", "describe-trails")
    _, _, _ = lab.aws("cloudtrail", "stop-logging", "--name", "rt-main")
    [got] = wait_for(lambda: results(lab, bucket), timeout=30)
    event = got["event"]
    assert event["source"] == "aws.cloudtrail" and event["detail-type"] == "AWS API Call via CloudTrail"
    assert list(event) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]
    assert event["account"] == account and event["region"] == "us-east-1"
    detail = event["detail"]
    assert detail["eventName"] == "StopLogging" and detail["eventSource"] == "cloudtrail.amazonaws.com"
    assert detail["requestParameters"] == {"name": "rt-main"}
    assert got["function"] == "on-stop"
    # The function's calls are made as its role's session.
    assert got["who"].startswith(f"arn:aws:sts::{account}:assumed-role/on-stop-role/")
    # Its print() output is in its log group, framed by START/END/REPORT as on AWS.
    def lines():
        _, out, _ = lab.aws("logs", "filter-log-events", "--log-group-name", "/aws/lambda/on-stop")
        return [e["message"] for e in out["events"]]
    got_lines = wait_for(lambda: (ls := lines()) and any(m.startswith("REPORT RequestId:") for m in ls) and ls, timeout=20)
    assert any(m.startswith("START RequestId:") for m in got_lines)
    assert any(m.startswith("got ") and "StopLogging" in m for m in got_lines)
    assert any(m.startswith("END RequestId:") for m in got_lines)


def test_the_functions_write_is_recorded_as_its_assumed_role(lab, tmp_path):
    """The handler's PutObject, recorded as an S3 data event by a trail that selects them, with
    the AssumedRole identity of the function's role."""
    account, _, _ = setup(lab, "rt-data")
    bucket = "rt-data-results"
    lab.aws("s3", "mb", f"s3://{bucket}")
    ct = lab.client()
    ct.put_event_selectors(TrailName="rt-data", EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{bucket}/"]}]}])
    fn_arn = function(lab, "writer", tmp_path, bucket)
    out = lab.client("lambda").invoke(FunctionName=fn_arn, Payload=json.dumps({"hello": "world"}).encode())
    assert out["StatusCode"] == 200 and "FunctionError" not in out
    assert json.loads(out["Payload"].read()) == {"ok": True}
    trail_bucket = ct.get_trail(Name="rt-data")["Trail"]["S3BucketName"]
    s3 = lab.client("s3")

    def put_records():
        recs = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=trail_bucket):
            for o in page.get("Contents", []):
                if o["Key"].endswith(".json.gz") and "/CloudTrail/" in o["Key"]:
                    body = gzip.decompress(s3.get_object(Bucket=trail_bucket, Key=o["Key"])["Body"].read())
                    recs += [r for r in json.loads(body)["Records"]
                             if r["eventName"] == "PutObject" and r.get("requestParameters", {}).get("bucketName") == bucket]
        return recs
    [rec] = lab.advance_until(put_records, step=5, limit=120)
    who = rec["userIdentity"]
    assert who["type"] == "AssumedRole"
    assert who["sessionContext"]["sessionIssuer"]["arn"] == f"arn:aws:iam::{account}:role/writer-role"
    assert who["arn"].startswith(f"arn:aws:sts::{account}:assumed-role/writer-role/")


def test_a_subscription_filter_streams_a_trails_records_to_a_function(lab, tmp_path):
    account, group_arn, role_arn = setup(lab, "rt-sub")
    lab.aws("cloudtrail", "update-trail", "--name", "rt-sub", "--cloud-watch-logs-log-group-arn", group_arn,
            "--cloud-watch-logs-role-arn", role_arn)
    bucket = "rt-sub-results"
    lab.aws("s3", "mb", f"s3://{bucket}")
    fn_arn = function(lab, "on-logs", tmp_path, bucket)
    put = ["logs", "put-subscription-filter", "--log-group-name", "rt-sub", "--filter-name", "users",
           "--filter-pattern", '{ $.eventName = "CreateUser" }', "--destination-arn", fn_arn]
    # Without the function's permission for CloudWatch Logs, AWS refuses the filter.
    rc, _, err = lab.aws(*put, check=False)
    assert rc != 0 and "Could not execute the lambda function" in err
    lab.aws("lambda", "add-permission", "--function-name", "on-logs", "--statement-id", "logs", "--action",
            "lambda:InvokeFunction", "--principal", "logs.amazonaws.com", "--source-arn", group_arn)
    lab.aws(*put)
    _, described, _ = lab.aws("logs", "describe-subscription-filters", "--log-group-name", "rt-sub")
    [f] = described["subscriptionFilters"]
    assert (f["filterName"], f["destinationArn"], f["distribution"]) == ("users", fn_arn, "ByLogStream")
    lab.aws("iam", "create-user", "--user-name", "rt-new-user")
    lab.aws("iam", "list-users")

    def delivered():
        return [r for r in results(lab, bucket) if "awslogs" in r["event"]]
    got = lab.advance_until(delivered, step=5, limit=120)
    data = json.loads(gzip.decompress(base64.b64decode(got[0]["event"]["awslogs"]["data"])))
    assert data["messageType"] == "DATA_MESSAGE" and data["owner"] == account
    assert data["logGroup"] == "rt-sub" and data["logStream"] == f"{account}_CloudTrail_us-east-1"
    assert data["subscriptionFilters"] == ["users"]
    names = [json.loads(e["message"])["eventName"] for e in data["logEvents"]]
    assert names == ["CreateUser"] * len(names) and names
    assert all(len(e["id"]) == 56 and e["id"].isdigit() for e in data["logEvents"])
    # Limits and deletes as AWS has them.
    rc, _, err = lab.aws("logs", "delete-subscription-filter", "--log-group-name", "rt-sub", "--filter-name", "nope", check=False)
    assert rc != 0 and "ResourceNotFoundException" in err
    lab.aws("logs", "delete-subscription-filter", "--log-group-name", "rt-sub", "--filter-name", "users")
