"""Detections: every recorded call judged by Sigma rules as it is committed, driven by boto3
and the AWS CLI v1 against a real `cairn serve`.

- cairn's own sets (CIS monitoring controls, Stratus Red Team techniques) and SigmaHQ's 57
  CloudTrail rules (`--sigma-rules`, read from ../shared/data, never copied into the repo) fire
  on the calls they describe; `cairn findings` lists the findings with the caller's identity;
- a rule folder of the user's: a threshold rule (`| count() by … >= N` within a timeframe)
  fires once when the count is reached; a rule with an unsupported modifier is skipped with
  its reason at startup;
- findings reach an SQS queue through an EventBridge rule on their source;
- findings survive kill -9, and the calls judged before it are not judged twice."""

import json
import subprocess
import time

from conftest import CAIRN, REAL_DATA, documented_policy, wait_for

SIGMAHQ = REAL_DATA.parent / "sigma-aws-cloudtrail" / "rules"

THRESHOLD = """title: Caller checks who it is, again and again
id: 0c8c1b7e-6a52-4a0e-9f0e-6f6f1c1c0001
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventSource: sts.amazonaws.com
        eventName: GetCallerIdentity
    timeframe: 1m
    condition: selection | count() by userIdentity.arn >= 5
level: low
"""

UNSUPPORTED = """title: Windows-style dashes
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        userAgent|windash: '-x'
    condition: selection
"""


def findings(c, *extra):
    p = subprocess.run([str(CAIRN), "findings", "--data-dir", str(c.data_dir), "--output", "json", *extra],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def titles(fs):
    return sorted(f["title"] for f in fs)


def test_rules_fire_on_calls_and_findings_are_listed_published_and_kept(new_cairn, tmp_path):
    mine = tmp_path / "my-rules"
    mine.mkdir()
    (mine / "whoami.yml").write_text(THRESHOLD)
    (mine / "windash.yml").write_text(UNSUPPORTED)
    c = new_cairn(["--sigma-rules", str(SIGMAHQ), "--sigma-rules", str(mine)])
    startup = open(c.log.name).read()
    assert "detection: 106 rules (cairn-cis 15, cairn-techniques 33, rules 57, my-rules 1); 1 rule file skipped" in startup, startup
    assert "windash.yml: uses what cairn's Sigma engine does not support: the modifier 'windash' (field 'userAgent')" in startup
    account = c.env()["CAIRN_ACCOUNT_ID"]

    # Findings go on the default bus: an EventBridge rule on their source sends them to SQS.
    sqs, ev = c.client("sqs"), c.client("events")
    url = sqs.create_queue(QueueName="findings")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": arn}]})})
    ev.put_rule(Name="high-findings", EventPattern=json.dumps({"source": ["cairn.detections"], "detail": {"level": ["high"]}}))
    ev.put_targets(Rule="high-findings", Targets=[{"Id": "q", "Arn": arn}])

    # A trail stopped through the AWS CLI by the root user: cairn's technique rule, its CIS 4.5
    # and 4.3 (root account usage) rules and SigmaHQ's "AWS CloudTrail Important Change" and
    # "AWS Root Credentials" fire on the one call.
    bucket = "detect-trail"
    c.aws("s3", "mb", f"s3://{bucket}")
    c.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", documented_policy(bucket, account))
    c.aws("cloudtrail", "create-trail", "--name", "watched", "--s3-bucket-name", bucket)
    c.aws("cloudtrail", "start-logging", "--name", "watched")
    c.aws("cloudtrail", "stop-logging", "--name", "watched")
    stop_events = lambda: [f for f in findings(c) if f["eventName"] == "StopLogging"]  # noqa: E731
    stopped = wait_for(lambda: len(stop_events()) == 5 and stop_events())
    assert titles(stopped) == ["AWS CloudTrail Important Change", "AWS Root Credentials",
                               "CloudTrail configuration changes (CIS 4.5, CloudWatch.5)",
                               "CloudTrail logging stopped", "Root account usage (CIS 4.3, CloudWatch.1)"]
    assert {f["ruleSet"] for f in stopped} == {"cairn-techniques", "cairn-cis", "rules"}
    for f in stopped:
        assert f["account"] == account and f["region"] == "us-east-1"
        assert f["principal"] == f"arn:aws:iam::{account}:root" and f["eventSource"] == "cloudtrail.amazonaws.com"
    high = next(f for f in stopped if f["level"] == "high")
    assert high["tags"] == ["attack.defense-impairment", "attack.t1562.008"]
    # Its CloudTrail record is the one the finding names.
    event = c.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "StopLogging"}])["Events"][0]
    assert high["eventId"] == event["EventId"]

    # The high finding reached the queue as an EventBridge event.
    got = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"))
    published = json.loads(got[0]["Body"])
    assert (published["source"], published["detail-type"], published["account"]) == \
        ("cairn.detections", "Cairn Finding", account)
    assert published["detail"]["findingId"] == high["id"]
    assert published["detail"]["event"]["eventName"] == "StopLogging"

    # The user's threshold rule: four calls are not enough; the fifth within a minute fires
    # once, counting five.
    sts = c.client("sts")
    for _ in range(4):
        sts.get_caller_identity()
    time.sleep(1)
    assert not [f for f in findings(c) if f["ruleSet"] == "my-rules"]
    sts.get_caller_identity()
    mine_found = wait_for(lambda: [f for f in findings(c) if f["ruleSet"] == "my-rules"])
    assert len(mine_found) == 1 and mine_found[0]["count"] == 5
    assert mine_found[0]["group"] == f"arn:aws:iam::{account}:root"

    # The table, and --min-level.
    table = subprocess.run([str(CAIRN), "findings", "--data-dir", str(c.data_dir)], capture_output=True, text=True, timeout=60)
    assert table.returncode == 0 and "CloudTrail logging stopped" in table.stdout and "cloudtrail:StopLogging" in table.stdout
    assert "findings" in table.stderr
    assert titles(findings(c, "--min-level", "high")) == ["CloudTrail logging stopped"]

    # kill -9: the findings stay, and nothing judged before is judged again.
    before = findings(c)
    c.kill9()
    c.start()
    assert findings(c) == before
    c.aws("cloudtrail", "delete-trail", "--name", "watched")
    deleted = wait_for(lambda: [f for f in findings(c) if f["eventName"] == "DeleteTrail"])
    assert "CloudTrail trail deleted" in titles(deleted)
    after = findings(c)
    assert after[:len(before)] == before
    assert all(f["eventName"] == "DeleteTrail" for f in after[len(before):])


def test_rule_folders_from_the_configuration_file(new_cairn, tmp_path):
    mine = tmp_path / "team-rules"
    mine.mkdir()
    (mine / "whoami.yml").write_text(THRESHOLD)
    conf = tmp_path / "cairn.toml"
    conf.write_text(f'[detections]\nsigma_rules = ["{mine}"]\n')
    c = new_cairn(["--config", str(conf)])
    assert "detection: 49 rules (cairn-cis 15, cairn-techniques 33, team-rules 1)" in open(c.log.name).read()
