"""Trails delivering to CloudWatch Logs, with the real AWS CLI v1 and boto3: a log group, a role
that trusts cloudtrail.amazonaws.com and allows CreateLogStream/PutLogEvents, update-trail with
the two ARNs; each selected record lands once in `<account>_CloudTrail_<region>` (message = the
record, timestamp = eventTime); AWS's errors for bad settings; a broken role shows in
GetTrailStatus and delivery resumes once fixed; kill -9 mid-delivery leaves each record in the
group exactly once; and the CIS chain (trail -> group -> metric filter -> alarm) fires on a root
call and not on an IAM user's."""

import collections
import json
import subprocess
import time
from datetime import datetime

import boto3
import botocore.config
import botocore.exceptions
import pytest

from alerting import TRUST, group_events, ids_in, permissions, request_ids_in, setup, user_env
from conftest import CAIRN, Cairn, organization_policy

def epoch_ms(event_time):
    return int(datetime.strptime(event_time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=__import__("datetime").timezone.utc).timestamp() * 1000)


@pytest.fixture(scope="module")
def lab(workdir):
    c = Cairn(workdir / "trail-cwl", ["--delivery-interval", "1", "--test-clock"])
    c.start()
    yield c
    c.stop()


def test_records_reach_the_group_once_with_the_cli_and_boto3(lab):
    account, group_arn, role_arn = setup(lab, "cwl-main")
    _, out, _ = lab.aws("cloudtrail", "update-trail", "--name", "cwl-main",
                        "--cloud-watch-logs-log-group-arn", group_arn, "--cloud-watch-logs-role-arn", role_arn)
    assert out["CloudWatchLogsLogGroupArn"] == group_arn and out["CloudWatchLogsRoleArn"] == role_arn
    ct = lab.client()
    trail = ct.get_trail(Name="cwl-main")["Trail"]
    assert (trail["CloudWatchLogsLogGroupArn"], trail["CloudWatchLogsRoleArn"]) == (group_arn, role_arn)
    described = ct.describe_trails(trailNameList=["cwl-main"])["trailList"][0]
    assert described["CloudWatchLogsLogGroupArn"] == group_arn
    rids = [ct.describe_trails()["ResponseMetadata"]["RequestId"] for _ in range(5)]
    rids.append(lab.client("s3").list_buckets()["ResponseMetadata"]["RequestId"])
    got = lab.advance_until(lambda: (ev := group_events(lab, "cwl-main")) and set(rids) <= set(request_ids_in(ev)) and ev,
                            step=5, limit=120)
    # Each record once, in the trail's stream, message = the record, timestamp = eventTime.
    counts = collections.Counter(ids_in(got))
    assert max(counts.values()) == 1
    for e in got:
        rec = json.loads(e["message"])
        assert e["logStreamName"] == f"{account}_CloudTrail_us-east-1"
        assert e["timestamp"] == epoch_ms(rec["eventTime"])
    # The CLI reads the same (and what was delivered since: delivery goes on in the
    # background), each record once, and the stream is described as Logs describes any.
    _, cli, _ = lab.aws("logs", "filter-log-events", "--log-group-name", "cwl-main")
    cli_counts = collections.Counter(ids_in(cli["events"]))
    assert set(ids_in(got)) <= set(cli_counts) and max(cli_counts.values()) == 1
    _, streams, _ = lab.aws("logs", "describe-log-streams", "--log-group-name", "cwl-main")
    assert [s["logStreamName"] for s in streams["logStreams"]] == [f"{account}_CloudTrail_us-east-1"]
    # The UpdateTrail that turned delivery on is itself delivered.
    assert "UpdateTrail" in [json.loads(e["message"])["eventName"] for e in got]
    status = ct.get_trail_status(Name="cwl-main")
    assert "LatestCloudWatchLogsDeliveryTime" in status
    assert "LatestCloudWatchLogsDeliveryError" not in status
    # CloudTrail's own calls, recorded as AWS records them: AssumeRole by the AWSService, then
    # CreateLogStream by the role session, invokedBy CloudTrail.
    lab.advance(5)
    recs = [json.loads(e["message"]) for e in group_events(lab, "cwl-main")]
    assume = [r for r in recs if r["eventName"] == "AssumeRole"]
    assert assume and assume[0]["userIdentity"] == {"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"}
    assert assume[0]["requestParameters"]["roleArn"] == role_arn
    assert assume[0]["sourceIPAddress"] == "cloudtrail.amazonaws.com"
    created = [r for r in recs if r["eventName"] == "CreateLogStream"]
    assert created, [r["eventName"] for r in recs]
    who = created[0]["userIdentity"]
    assert who["type"] == "AssumedRole" and who["invokedBy"] == "cloudtrail.amazonaws.com"
    assert who["sessionContext"]["sessionIssuer"]["arn"] == role_arn
    assert created[0]["requestParameters"] == {"logGroupName": "cwl-main", "logStreamName": f"{account}_CloudTrail_us-east-1"}
    # Clearing with empty strings turns delivery off.
    ct.update_trail(Name="cwl-main", CloudWatchLogsLogGroupArn="", CloudWatchLogsRoleArn="")
    trail = ct.get_trail(Name="cwl-main")["Trail"]
    assert "CloudWatchLogsLogGroupArn" not in trail and "CloudWatchLogsRoleArn" not in trail
    before = len(group_events(lab, "cwl-main"))
    ct.describe_trails()
    lab.advance(10)
    assert len(group_events(lab, "cwl-main")) == before


def error_of(call, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kw)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_settings_are_checked_as_aws_checks_them(lab):
    account, group_arn, role_arn = setup(lab, "cwl-bad")
    ct, iam = lab.client(), lab.client("iam")
    up = lambda **kw: ct.update_trail(Name="cwl-bad", **kw)  # noqa: E731
    assert error_of(up, CloudWatchLogsLogGroupArn=group_arn) == (
        "InvalidCloudWatchLogsRoleArnException", "You must specify a role ARN as well as a log group.")
    assert error_of(up, CloudWatchLogsRoleArn=role_arn)[0] == "InvalidCloudWatchLogsLogGroupArnException"
    # Without the trailing ":*", or naming a group that does not exist.
    for bad in [group_arn.removesuffix(":*"), f"arn:aws:logs:us-east-1:{account}:log-group:nope:*",
                f"arn:aws:logs:eu-west-1:{account}:log-group:cwl-bad:*"]:
        assert error_of(up, CloudWatchLogsLogGroupArn=bad, CloudWatchLogsRoleArn=role_arn) == (
            "InvalidCloudWatchLogsLogGroupArnException", "Check the log group ARN: CloudTrail can't validate it."), bad
    # A role that does not trust CloudTrail, and one that does not exist.
    iam.create_role(RoleName="cwl-untrusted", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    iam.put_role_policy(RoleName="cwl-untrusted", PolicyName="cwl", PolicyDocument=permissions(account, "cwl-bad"))
    for role in [f"arn:aws:iam::{account}:role/cwl-untrusted", f"arn:aws:iam::{account}:role/ghost"]:
        assert error_of(up, CloudWatchLogsLogGroupArn=group_arn, CloudWatchLogsRoleArn=role) == (
            "InvalidCloudWatchLogsRoleArnException", "Access denied. Check the trust relationships for your role.")
    # A trusted role without the permissions.
    iam.create_role(RoleName="cwl-powerless", AssumeRolePolicyDocument=TRUST)
    code, msg, = error_of(up, CloudWatchLogsLogGroupArn=group_arn, CloudWatchLogsRoleArn=f"arn:aws:iam::{account}:role/cwl-powerless")
    assert (code, msg) == ("InvalidCloudWatchLogsLogGroupArnException",
                           "Access denied. Verify in IAM that the role has adequate permissions.")
    # The CLI shows the same.
    rc, _, err = lab.aws("cloudtrail", "create-trail", "--name", "cwl-bad2", "--s3-bucket-name", "x",
                         "--cloud-watch-logs-log-group-arn", group_arn, check=False)
    assert rc != 0 and "InvalidCloudWatchLogsRoleArnException" in err
    assert "CloudWatchLogsLogGroupArn" not in ct.get_trail(Name="cwl-bad")["Trail"]


def test_a_broken_role_shows_in_the_status_and_delivery_resumes(lab):
    account, group_arn, role_arn = setup(lab, "cwl-broken")
    ct, iam = lab.client(), lab.client("iam")
    ct.update_trail(Name="cwl-broken", CloudWatchLogsLogGroupArn=group_arn, CloudWatchLogsRoleArn=role_arn)
    iam.delete_role_policy(RoleName="cwl-broken", PolicyName="cwl")
    rid = ct.describe_trails()["ResponseMetadata"]["RequestId"]
    status = lab.advance_until(lambda: (s := ct.get_trail_status(Name="cwl-broken")).get("LatestCloudWatchLogsDeliveryError") and s,
                               step=5, limit=60)
    assert status["LatestCloudWatchLogsDeliveryError"] == "AccessDeniedException"
    assert rid not in request_ids_in(group_events(lab, "cwl-broken"))
    iam.put_role_policy(RoleName="cwl-broken", PolicyName="cwl", PolicyDocument=permissions(account, "cwl-broken"))
    lab.advance_until(lambda: rid in request_ids_in(group_events(lab, "cwl-broken")), step=30, limit=600)
    status = ct.get_trail_status(Name="cwl-broken")
    assert "LatestCloudWatchLogsDeliveryError" not in status
    assert collections.Counter(ids_in(group_events(lab, "cwl-broken"))).most_common(1)[0][1] == 1


def test_the_cis_root_use_chain(lab):
    """Set up by an administrator (so that no root call counts before the test makes one): the
    CIS metric filter on the trail's group, an alarm on its metric; an IAM user's call does not
    set it off, a root call does."""
    admin = user_env(lab, "cis-admin", "*")
    user = user_env(lab, "cis-user", "cloudtrail:DescribeTrails")
    account, group_arn, role_arn = setup(lab, "cwl-cis", env_overrides=admin)
    lab.aws("cloudtrail", "update-trail", "--name", "cwl-cis", "--cloud-watch-logs-log-group-arn", group_arn,
            "--cloud-watch-logs-role-arn", role_arn, env_overrides=admin)
    lab.aws("logs", "put-metric-filter", "--log-group-name", "cwl-cis", "--filter-name", "root",
            "--filter-pattern", '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
            "--metric-transformations", "metricName=RootUse,metricNamespace=CIS-cwl,metricValue=1", env_overrides=admin)
    lab.aws("cloudwatch", "put-metric-alarm", "--alarm-name", "cis-root-use", "--namespace", "CIS-cwl",
            "--metric-name", "RootUse", "--statistic", "Sum", "--period", "60", "--evaluation-periods", "1",
            "--threshold", "1", "--comparison-operator", "GreaterThanOrEqualToThreshold", env_overrides=admin)
    state = lambda: lab.aws("cloudwatch", "describe-alarms", "--alarm-names", "cis-root-use",  # noqa: E731
                            env_overrides=admin)[1]["MetricAlarms"][0]["StateValue"]
    # An IAM user's call reaches the group and does not count.
    _, out, _ = lab.aws("cloudtrail", "describe-trails", env_overrides=user, check=True)
    lab.advance_until(lambda: any(json.loads(e["message"]).get("userIdentity", {}).get("userName") == "cis-user"
                                  and json.loads(e["message"])["eventName"] == "DescribeTrails"
                                  for e in group_events(lab, "cwl-cis")), step=5, limit=60)
    lab.advance(130, step=20)
    assert state() != "ALARM"
    # A root call does.
    lab.aws("cloudtrail", "describe-trails")
    lab.advance_until(lambda: state() == "ALARM", step=20, limit=300)


def test_kill_9_during_delivery_leaves_each_record_once(new_cairn):
    c = new_cairn(["--delivery-interval", "1", "--test-clock"])
    account, group_arn, role_arn = setup(c, "cwl-crash")
    c.client().update_trail(Name="cwl-crash", CloudWatchLogsLogGroupArn=group_arn, CloudWatchLogsRoleArn=role_arn)
    rids = []
    for round_ in range(4):
        ct = c.client()
        rids += [ct.describe_trails()["ResponseMetadata"]["RequestId"] for _ in range(40)]
        # Kill while a round may be writing: an advance in flight, then SIGKILL.
        adv = subprocess.Popen([str(CAIRN), "clock", "advance", "5", "--data-dir", str(c.data_dir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.05 * round_)
        c.kill9()
        adv.wait(30)
        c.start()
    got = c.advance_until(lambda: (ev := group_events(c, "cwl-crash")) and set(rids) <= set(request_ids_in(ev)) and ev,
                          step=5, limit=120)
    counts = collections.Counter(ids_in(got))
    assert counts.most_common(1)[0][1] == 1, counts.most_common(3)
    # The group's records are the trail's: each is in the trail's log files too.
    s3 = c.client("s3")
    bucket = c.client().get_trail(Name="cwl-crash")["Trail"]["S3BucketName"]
    c.advance(10)
    in_files = set()
    import gzip
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            body = gzip.decompress(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
            in_files |= {r["eventID"] for r in json.loads(body)["Records"]}
    assert set(counts) <= in_files


def test_an_organization_trail_sends_each_account_to_a_stream_of_its_own(new_cairn):
    c = new_cairn(["--delivery-interval", "1", "--test-clock"])
    org_id = c.aws("organizations", "create-organization")[1]["Organization"]["Id"]
    member = c.aws("organizations", "create-account", "--email", "m@example.com", "--account-name", "m")[1][
        "CreateAccountStatus"]["AccountId"]
    account, group_arn, role_arn = setup(c, "org-cwl")
    bucket = c.client().get_trail(Name="org-cwl")["Trail"]["S3BucketName"]
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{account}:trail/org-cwl"
    c.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", organization_policy(bucket, account, org_id, trail_arn))
    # The role's policy as AWS documents it for organization trails: the organization's streams too.
    c.aws("iam", "put-role-policy", "--role-name", "org-cwl", "--policy-name", "cwl", "--policy-document",
          permissions(account, "org-cwl", org_id=org_id))
    _, out, _ = c.aws("cloudtrail", "update-trail", "--name", "org-cwl", "--is-organization-trail",
                      "--cloud-watch-logs-log-group-arn", group_arn, "--cloud-watch-logs-role-arn", role_arn)
    assert out["IsOrganizationTrail"] is True
    mine = c.client().describe_trails()["ResponseMetadata"]["RequestId"]
    theirs = c.client(account=member).describe_trails()["ResponseMetadata"]["RequestId"]
    got = c.advance_until(lambda: (ev := group_events(c, "org-cwl")) and {mine, theirs} <= set(request_ids_in(ev)) and ev,
                          step=5, limit=120)
    stream_of = {json.loads(e["message"])["requestID"]: e["logStreamName"] for e in got}
    assert stream_of[mine] == f"{org_id}_{account}_CloudTrail_us-east-1"
    assert stream_of[theirs] == f"{org_id}_{member}_CloudTrail_us-east-1"
    assert max(collections.Counter(ids_in(got)).values()) == 1
    # Every record in a stream is its account's.
    for e in got:
        assert e["logStreamName"] == f"{org_id}_{json.loads(e['message'])['recipientAccountId']}_CloudTrail_us-east-1"
