"""CloudTrail Insights end to end with the real AWS CLI v1 and boto3 against `cairn serve
--test-clock`: a trail with Insights selectors, two days of quiet baseline in seconds (no
Insight), then a burst of CreateUser calls and of failing DeleteUser calls: Start and End
records in event history (EventCategory=insight), in the trail bucket's CloudTrail-Insight
folder, and on EventBridge ("AWS Insight via CloudTrail") to an SQS queue."""

import gzip
import json
import re
import time
import uuid

import pytest

from conftest import documented_policy

HOUR = 3600


@pytest.fixture(scope="module")
def lab(workdir):
    from conftest import Cairn
    c = Cairn(workdir / "insights-lab", ["--delivery-interval", "1", "--test-clock"])
    c.start()
    yield c
    c.stop()


def account_of(c):
    return c.client("sts").get_caller_identity()["Account"]


def insights(c):
    out, token = [], None
    ct = c.client()
    while True:
        kw = {"EventCategory": "insight", "MaxResults": 50}
        if token:
            kw["NextToken"] = token
        r = ct.lookup_events(**kw)
        out += [json.loads(e["CloudTrailEvent"]) for e in r["Events"]]
        token = r.get("NextToken")
        if not token:
            return out


def queue(c):
    sqs = c.client("sqs")
    url = sqs.create_queue(QueueName=f"insights-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": arn}]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return url, arn


def drain(c, url, timeout=10):
    sqs = c.client("sqs")
    got, deadline = [], time.time() + timeout
    while time.time() < deadline:
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        ms = r.get("Messages", [])
        got += [json.loads(m["Body"]) for m in ms]
        if not ms and got:
            break
    return got


def test_a_burst_after_a_quiet_baseline_is_an_insight_everywhere(lab):
    account = account_of(lab)
    bucket = f"insights-{uuid.uuid4().hex[:10]}"
    lab.aws("s3", "mb", f"s3://{bucket}")
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{account}:trail/insights-trail"
    lab.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy",
            documented_policy(bucket, account))
    lab.aws("cloudtrail", "create-trail", "--name", "insights-trail", "--s3-bucket-name", bucket)
    lab.aws("cloudtrail", "start-logging", "--name", "insights-trail")

    # Insights need the trail to log the management events they count (d.6).
    lab.aws("cloudtrail", "create-trail", "--name", "reads-only", "--s3-bucket-name", bucket)
    lab.client().put_event_selectors(TrailName="reads-only", EventSelectors=[
        {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}])
    code, _, err = lab.aws("cloudtrail", "put-insight-selectors", "--trail-name", "reads-only",
                           "--insight-selectors", '[{"InsightType":"ApiCallRateInsight"}]', check=False)
    assert code != 0 and "InvalidInsightSelectorsException" in err
    lab.aws("cloudtrail", "delete-trail", "--name", "reads-only")

    _, put, _ = lab.aws("cloudtrail", "put-insight-selectors", "--trail-name", "insights-trail", "--insight-selectors",
                        '[{"InsightType":"ApiCallRateInsight"},{"InsightType":"ApiErrorRateInsight"}]')
    assert put["InsightSelectors"] == [{"InsightType": "ApiCallRateInsight"}, {"InsightType": "ApiErrorRateInsight"}]
    _, got, _ = lab.aws("cloudtrail", "get-insight-selectors", "--trail-name", "insights-trail")
    assert got == {"TrailARN": trail_arn, "InsightSelectors": put["InsightSelectors"]}

    ev = lab.client("events")
    url, arn = queue(lab)
    ev.put_rule(Name="insights", EventPattern=json.dumps({"detail-type": ["AWS Insight via CloudTrail"]}))
    ev.put_targets(Rule="insights", Targets=[{"Id": "q", "Arn": arn}])

    # Two days of steady, quiet baseline: a write call and a failing call every six hours.
    iam = lab.client("iam")
    for i in range(8):
        iam.create_user(UserName=f"steady-{i}")
        try:
            iam.delete_user(UserName=f"nobody-{i}")
        except iam.exceptions.NoSuchEntityException:
            pass
        lab.advance(6 * HOUR)
    lab.advance(120)
    assert insights(lab) == [], "no Insight on a steady baseline"

    # The burst: 30 CreateUser calls, and 15 DeleteUser calls failing with NoSuchEntity.
    for i in range(30):
        iam.create_user(UserName=f"burst-{i}")
    for i in range(15):
        try:
            iam.delete_user(UserName=f"ghost-{i}")
        except iam.exceptions.NoSuchEntityException:
            pass
    lab.advance(90)
    started = [r for r in insights(lab) if r["insightDetails"]["eventName"] == "CreateUser"]
    assert [r["insightDetails"]["state"] for r in started] == ["Start"], started
    start = started[0]
    assert list(start) == ["eventVersion", "eventTime", "awsRegion", "eventID", "eventType", "recipientAccountId",
                           "sharedEventID", "insightDetails", "eventCategory"]
    assert start["eventType"] == "AwsCloudTrailInsight" and start["eventCategory"] == "Insight"
    assert start["recipientAccountId"] == account and start["awsRegion"] == "us-east-1"
    d = start["insightDetails"]
    assert (d["eventSource"], d["insightType"]) == ("iam.amazonaws.com", "ApiCallRateInsight")
    stats = d["insightContext"]["statistics"]
    assert stats["insight"]["average"] >= 10 > stats["baseline"]["average"], stats
    assert stats["baselineDuration"] >= 36 * 60 and "insightDuration" not in stats
    attributed = {a["attribute"]: a for a in d["insightContext"]["attributions"]}
    assert list(attributed) == ["userIdentityArn", "userAgent", "errorCode"]
    assert attributed["userIdentityArn"]["insight"][0]["value"].startswith(f"arn:aws:iam::{account}:")
    assert attributed["errorCode"]["insight"][0]["value"] == "null"

    # The rate is back to its baseline: five quiet minutes end the insight.
    lab.advance(10 * 60)
    records = insights(lab)
    pair = sorted((r for r in records if r["sharedEventID"] == start["sharedEventID"]),
                  key=lambda r: r["eventTime"])
    assert [r["insightDetails"]["state"] for r in pair] == ["Start", "End"], pair
    end = pair[1]
    assert end["eventID"] != start["eventID"]
    end_stats = end["insightDetails"]["insightContext"]["statistics"]
    assert end_stats["insightDuration"] >= 1
    assert end_stats["insight"]["average"] > end_stats["baseline"]["average"]
    assert end["eventTime"] > start["eventTime"]

    errors = [r for r in records if r["insightDetails"]["insightType"] == "ApiErrorRateInsight"]
    assert {(r["insightDetails"]["eventName"], r["insightDetails"]["errorCode"], r["insightDetails"]["state"])
            for r in errors} == {("DeleteUser", "NoSuchEntity", "Start"), ("DeleteUser", "NoSuchEntity", "End")}

    # The AWS CLI v1 lists them too, and only with --event-category insight.
    _, cli, _ = lab.aws("cloudtrail", "lookup-events", "--event-category", "insight", "--lookup-attributes",
                        "AttributeKey=EventName,AttributeValue=CreateUser")
    assert sorted(json.loads(e["CloudTrailEvent"])["insightDetails"]["state"] for e in cli["Events"]) == ["End", "Start"]
    assert {e["EventName"] for e in cli["Events"]} == {"CreateUser"}
    _, plain, _ = lab.aws("cloudtrail", "lookup-events", "--lookup-attributes",
                          "AttributeKey=EventName,AttributeValue=CreateUser", "--max-results", "50")
    assert all(json.loads(e["CloudTrailEvent"])["eventType"] == "AwsApiCall" for e in plain["Events"])

    # The trail bucket's CloudTrail-Insight folder has them, in AWS's file names; the
    # CloudTrail folder never does.
    lab.advance(5)
    s3 = lab.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"AWSLogs/{account}/")["Contents"]]
    insight_keys = [k for k in keys if "/CloudTrail-Insight/" in k]
    assert insight_keys, keys
    pattern = (rf"AWSLogs/{account}/CloudTrail-Insight/us-east-1/\d{{4}}/\d{{2}}/\d{{2}}/"
               rf"{account}_CloudTrail-Insight_us-east-1_\d{{8}}T\d{{4}}Z_[A-Za-z0-9]{{16}}\.json\.gz")
    assert all(re.fullmatch(pattern, k) for k in insight_keys), insight_keys
    delivered = []
    for k in insight_keys:
        body = gzip.decompress(s3.get_object(Bucket=bucket, Key=k)["Body"].read())
        delivered += json.loads(body)["Records"]
    assert {r["eventID"] for r in delivered} == {r["eventID"] for r in records}
    for k in keys:
        if "/CloudTrail/" in k:
            body = gzip.decompress(s3.get_object(Bucket=bucket, Key=k)["Body"].read())
            assert all(r.get("eventType") != "AwsCloudTrailInsight" for r in json.loads(body)["Records"])

    # EventBridge took each to the queue.
    messages = drain(lab, url)
    assert {m["detail"]["eventID"] for m in messages} == {r["eventID"] for r in records}
    m = next(m for m in messages if m["detail"]["eventID"] == start["eventID"])
    assert (m["detail-type"], m["source"], m["account"]) == ("AWS Insight via CloudTrail", "aws.cloudtrail", account)
    assert m["detail"] == start

    # A restart rebuilds the counts from the journal: nothing starts twice.
    lab.stop()
    lab.start()
    lab.advance(120)
    assert sorted(r["eventID"] for r in insights(lab)) == sorted(r["eventID"] for r in records)
