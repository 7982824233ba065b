"""EventBridge with boto3 and the AWS CLI v1: rules and buses (and AWS's errors), targets,
PutEvents reaching an SQS queue as the event JSON in AWS's key order, CloudTrail records on the
default bus (read-only ones only for rules that ask), input shaping, SNS and CloudWatch Logs
targets (written by events.amazonaws.com only where a Logs resource policy allows it, as on
AWS), a schedule fired by the test clock, a dead-letter queue, and kill -9 with events in
flight."""

import json
import threading
import time
import uuid

import botocore.exceptions
import pytest

from conftest import documented_policy, wait_for

KEYS = ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]


def uid(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def queue(c, name=None, fifo=False):
    """A queue whose policy lets EventBridge send to it: (url, arn)."""
    sqs = c.client("sqs")
    name = name or uid("q")
    attrs = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    url = sqs.create_queue(QueueName=name + (".fifo" if fifo else ""), Attributes=attrs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": arn}]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return url, arn


def drain(c, url, want, timeout=15, attributes=False):
    """Messages from the queue until `want` arrived (or the time is up): [(body, attributes)]."""
    sqs = c.client("sqs")
    got = []
    deadline = time.time() + timeout
    while len(got) < want and time.time() < deadline:
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                MessageAttributeNames=["All"])
        messages = r.get("Messages", [])
        for m in messages:
            got.append((m["Body"], m.get("MessageAttributes", {})) if attributes else m["Body"])
        if messages:
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
    return got


def logs_policy(c, name, resource, condition=None):
    """A CloudWatch Logs resource policy letting EventBridge write to `resource`, put with the
    AWS CLI as a user would (the console makes one by itself)."""
    statement = {"Effect": "Allow",
                 "Principal": {"Service": ["events.amazonaws.com", "delivery.logs.amazonaws.com"]},
                 "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": resource}
    if condition:
        statement["Condition"] = condition
    c.aws("logs", "put-resource-policy", "--policy-name", name, "--policy-document",
          json.dumps({"Version": "2012-10-17", "Statement": [statement]}))


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_rules_buses_and_their_errors(cairn):
    ev = cairn.client("events")
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    pattern = json.dumps({"source": ["my.app"]})
    arn = ev.put_rule(Name="crud-rule", EventPattern=pattern, Description="first")["RuleArn"]
    assert arn == f"arn:aws:events:us-east-1:{account}:rule/crud-rule"
    d = ev.describe_rule(Name="crud-rule")
    assert (d["Name"], d["Arn"], d["EventPattern"], d["State"], d["Description"], d["EventBusName"], d["CreatedBy"]) == \
        ("crud-rule", arn, pattern, "ENABLED", "first", "default", account)
    # An upsert: the same ARN, the new values.
    assert ev.put_rule(Name="crud-rule", EventPattern=pattern, State="DISABLED")["RuleArn"] == arn
    assert ev.describe_rule(Name="crud-rule")["State"] == "DISABLED"
    assert "Description" not in ev.describe_rule(Name="crud-rule")
    ev.enable_rule(Name="crud-rule")
    assert ev.describe_rule(Name="crud-rule")["State"] == "ENABLED"
    ev.disable_rule(Name="crud-rule")
    assert ev.describe_rule(Name="crud-rule")["State"] == "DISABLED"
    ev.put_rule(Name="crud-other", ScheduleExpression="rate(5 minutes)")
    names = [r["Name"] for r in ev.list_rules(NamePrefix="crud-")["Rules"]]
    assert names == ["crud-other", "crud-rule"]
    page = ev.list_rules(NamePrefix="crud-", Limit=1)
    assert [r["Name"] for r in page["Rules"]] == ["crud-other"]
    assert [r["Name"] for r in ev.list_rules(NamePrefix="crud-", NextToken=page["NextToken"])["Rules"]] == ["crud-rule"]

    assert error_of(lambda: ev.describe_rule(Name="nope")) == \
        ("ResourceNotFoundException", "Rule nope does not exist on EventBus default.")
    assert error_of(lambda: ev.enable_rule(Name="nope"))[0] == "ResourceNotFoundException"
    code, msg = error_of(lambda: ev.put_rule(Name="bad", EventPattern="[1]"))
    assert code == "InvalidEventPatternException"
    assert msg.startswith("Event pattern is not valid. Reason: Filter is not an object"), msg
    code, msg = error_of(lambda: ev.put_rule(Name="bad", EventPattern='{"resources": []}'))
    assert (code, msg.split("\n")[0]) == \
        ("InvalidEventPatternException", "Event pattern is not valid. Reason: Empty arrays are not allowed")
    assert error_of(lambda: ev.put_rule(Name="bad")) == \
        ("ValidationException", "Parameter(s) EventPattern or ScheduleExpression must be specified.")
    for bad in ["rate(1 minutes)", "rate(5 minute)", "cron(0 12 * * * *)", "every day"]:
        assert error_of(lambda: ev.put_rule(Name="bad", ScheduleExpression=bad)) == \
            ("ValidationException", "Parameter ScheduleExpression is not valid."), bad
    assert error_of(lambda: ev.put_rule(Name="bad rule", EventPattern=pattern))[0] == "ValidationException"
    assert error_of(lambda: ev.put_rule(Name="bad", EventPattern=pattern, State="ON"))[0] == "ValidationException"
    assert error_of(lambda: ev.put_rule(Name="r", EventPattern=pattern, EventBusName="missing")) == \
        ("ResourceNotFoundException", "Event bus missing does not exist.")
    # Deleting a rule that does not exist succeeds.
    ev.delete_rule(Name="never-made")

    # Custom buses.
    bus = ev.create_event_bus(Name="orders", Description="orders bus")
    assert bus["EventBusArn"] == f"arn:aws:events:us-east-1:{account}:event-bus/orders"
    assert error_of(lambda: ev.create_event_bus(Name="orders")) == \
        ("ResourceAlreadyExistsException", "Event bus orders already exists.")
    assert error_of(lambda: ev.create_event_bus(Name="a/b")) == \
        ("ValidationException", "Event bus name must not contain '/'.")
    assert ev.describe_event_bus(Name="orders")["Description"] == "orders bus"
    assert ev.describe_event_bus()["Arn"] == f"arn:aws:events:us-east-1:{account}:event-bus/default"
    assert error_of(lambda: ev.describe_event_bus(Name="gone")) == \
        ("ResourceNotFoundException", "Event bus gone does not exist.")
    buses = [b["Name"] for b in ev.list_event_buses()["EventBuses"]]
    assert "default" in buses and "orders" in buses
    assert [b["Name"] for b in ev.list_event_buses(NamePrefix="ord")["EventBuses"]] == ["orders"]
    ev.update_event_bus(Name="orders", Description="renamed")
    assert ev.describe_event_bus(Name="orders")["Description"] == "renamed"
    on_bus = ev.put_rule(Name="crud-rule", EventBusName="orders", EventPattern=pattern)["RuleArn"]
    assert on_bus == f"arn:aws:events:us-east-1:{account}:rule/orders/crud-rule"
    assert [r["Name"] for r in ev.list_rules(EventBusName="orders")["Rules"]] == ["crud-rule"]
    assert error_of(lambda: ev.describe_rule(Name="x", EventBusName="orders")) == \
        ("ResourceNotFoundException", "Rule x does not exist on EventBus orders.")
    assert error_of(lambda: ev.put_rule(Name="s", EventBusName="orders", ScheduleExpression="rate(1 hour)")) == \
        ("ValidationException", "ScheduleExpression is supported only on the default event bus.")
    assert error_of(lambda: ev.delete_event_bus(Name="default")) == \
        ("ValidationException", "Cannot delete event bus default.")

    # Tags, on rules and buses.
    ev.tag_resource(ResourceARN=arn, Tags=[{"Key": "team", "Value": "a"}, {"Key": "env", "Value": "b"}])
    ev.untag_resource(ResourceARN=arn, TagKeys=["env"])
    assert ev.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "a"}]
    ev.tag_resource(ResourceARN=bus["EventBusArn"], Tags=[{"Key": "k", "Value": "v"}])
    assert ev.list_tags_for_resource(ResourceARN=bus["EventBusArn"])["Tags"] == [{"Key": "k", "Value": "v"}]
    assert error_of(lambda: ev.list_tags_for_resource(ResourceARN=arn + "-gone"))[0] == "ResourceNotFoundException"

    ev.delete_event_bus(Name="orders")
    assert error_of(lambda: ev.describe_rule(Name="crud-rule", EventBusName="orders"))[0] == "ResourceNotFoundException"


def test_targets_and_their_limits(cairn):
    ev = cairn.client("events")
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    ev.put_rule(Name="tgt-rule", EventPattern=json.dumps({"source": ["t"]}))
    q = f"arn:aws:sqs:us-east-1:{account}:tq"
    r = ev.put_targets(Rule="tgt-rule", Targets=[
        {"Id": "1", "Arn": q},
        {"Id": "2", "Arn": "not-an-arn"},
        {"Id": "3", "Arn": q, "InputPath": "$.detail"},
    ])
    assert r["FailedEntryCount"] == 1
    assert r["FailedEntries"] == [{"TargetId": "2", "ErrorCode": "ValidationException",
                                   "ErrorMessage": "Parameter not-an-arn is not valid. Reason: Provided Arn is not in correct format."}]
    assert [t["Id"] for t in ev.list_targets_by_rule(Rule="tgt-rule")["Targets"]] == ["1", "3"]
    assert ev.list_targets_by_rule(Rule="tgt-rule")["Targets"][1] == {"Id": "3", "Arn": q, "InputPath": "$.detail"}
    assert ev.list_rule_names_by_target(TargetArn=q)["RuleNames"] == ["tgt-rule"]
    code, msg = error_of(lambda: ev.put_targets(Rule="tgt-rule", Targets=[{"Id": "9", "Arn": q, "Input": "{}", "InputPath": "$"}]))
    assert code == "ValidationException" and "Only one of Input, InputPath, or InputTransformer" in msg
    assert error_of(lambda: ev.put_targets(Rule="tgt-rule", Targets=[{"Id": "t", "Arn": q, "InputTransformer": {
        "InputPathsMap": {"a": "$.detail"}, "InputTemplate": '{"x": <b>}'}}])) == \
        ("ValidationException", "InputTemplate for target t contains invalid placeholder b.")
    assert error_of(lambda: ev.put_targets(Rule="tgt-rule", Targets=[{"Id": "f", "Arn": q + ".fifo"}])) == \
        ("ValidationException", "Parameter(s) SqsParameters must be specified for target: f.")
    assert error_of(lambda: ev.put_targets(Rule="tgt-rule", Targets=[{"Id": str(i), "Arn": q} for i in range(4, 8)])) == \
        ("LimitExceededException", "The requested resource exceeds the maximum number allowed.")
    assert error_of(lambda: ev.put_targets(Rule="nope", Targets=[{"Id": "1", "Arn": q}])) == \
        ("ResourceNotFoundException", "Rule nope does not exist on EventBus default.")
    assert error_of(lambda: ev.delete_rule(Name="tgt-rule")) == \
        ("ValidationException", "Rule can't be deleted since it has targets.")
    assert ev.remove_targets(Rule="tgt-rule", Ids=["1", "3"])["FailedEntryCount"] == 0
    ev.delete_rule(Name="tgt-rule")
    assert error_of(lambda: ev.describe_rule(Name="tgt-rule"))[0] == "ResourceNotFoundException"


def test_the_cli_puts_rules_and_targets(cairn):
    _, rule, _ = cairn.aws("events", "put-rule", "--name", "cli-rule", "--event-pattern",
                           json.dumps({"source": ["aws.cloudtrail"], "detail-type": ["AWS API Call via CloudTrail"],
                                       "detail": {"eventName": ["StopLogging"]}}))
    assert rule["RuleArn"].endswith(":rule/cli-rule")
    _, out, _ = cairn.aws("events", "put-targets", "--rule", "cli-rule", "--targets",
                          "Id=1,Arn=arn:aws:sqs:us-east-1:111122223333:cli-q")
    assert out == {"FailedEntryCount": 0, "FailedEntries": []}
    _, listed, _ = cairn.aws("events", "list-targets-by-rule", "--rule", "cli-rule")
    assert listed["Targets"] == [{"Id": "1", "Arn": "arn:aws:sqs:us-east-1:111122223333:cli-q"}]
    rc, _, err = cairn.aws("events", "describe-rule", "--name", "cli-none", check=False)
    assert rc != 0 and "ResourceNotFoundException" in err and "Rule cli-none does not exist on EventBus default." in err
    _, tested, _ = cairn.aws("events", "test-event-pattern", "--event-pattern", json.dumps({"source": ["a"]}),
                             "--event", json.dumps({"id": "1", "account": "1", "source": "a", "time": "2026-01-01T00:00:00Z",
                                                    "region": "us-east-1", "resources": [], "detail-type": "x", "detail": {}}))
    assert tested == {"Result": True}


def test_test_event_pattern_refuses_incomplete_events(cairn):
    ev = cairn.client("events")
    assert error_of(lambda: ev.test_event_pattern(EventPattern='{"source":["a"]}', Event='{"source":"a"}')) == \
        ("ValidationException", "Parameter Event is not valid.")
    assert error_of(lambda: ev.test_event_pattern(EventPattern='{"source":["a"]}', Event='not json')) == \
        ("ValidationException", "Parameter Event is not valid.")
    code, msg = error_of(lambda: ev.test_event_pattern(EventPattern='{"source": "a"}', Event='{}'))
    assert (code, msg.split("\n")[0]) == \
        ("InvalidEventPatternException", 'Event pattern is not valid. Reason: "source" must be an object or an array')


def test_put_events_reach_an_sqs_target_as_the_event(cairn):
    ev = cairn.client("events")
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    url, arn = queue(cairn)
    ev.put_rule(Name="to-sqs", EventPattern=json.dumps({"source": ["my.shop"], "detail": {"kind": ["order"]}}))
    assert ev.put_targets(Rule="to-sqs", Targets=[{"Id": "q", "Arn": arn}])["FailedEntryCount"] == 0
    r = ev.put_events(Entries=[
        {"Source": "my.shop", "DetailType": "Order Placed", "Detail": json.dumps({"kind": "order", "n": 1}),
         "Resources": ["arn:aws:s3:::x"]},
        {"Source": "my.shop", "DetailType": "Other", "Detail": json.dumps({"kind": "refund"})},
        {"Source": "aws.s3", "DetailType": "Fake", "Detail": "{}"},
        {"Source": "my.shop", "DetailType": "Bad", "Detail": "not json"},
        {"Source": "my.shop", "DetailType": "No bus", "Detail": "{}", "EventBusName": "nope"},
    ])
    assert r["FailedEntryCount"] == 3
    assert "EventId" in r["Entries"][0] and "EventId" in r["Entries"][1]
    assert r["Entries"][2] == {"ErrorCode": "NotAuthorizedForSourceException", "ErrorMessage": "Not authorized for the source."}
    assert r["Entries"][3] == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    assert r["Entries"][4]["ErrorCode"] == "ResourceNotFoundException"
    got = drain(cairn, url, 1)
    assert len(got) == 1
    event = json.loads(got[0])
    assert list(event) == KEYS
    assert event["id"] == r["Entries"][0]["EventId"]
    assert (event["version"], event["source"], event["detail-type"], event["account"], event["region"]) == \
        ("0", "my.shop", "Order Placed", account, "us-east-1")
    assert event["resources"] == ["arn:aws:s3:::x"]
    assert event["detail"] == {"kind": "order", "n": 1}
    assert event["time"].endswith("Z") and len(event["time"]) == 20
    # Compact JSON, as AWS sends it.
    assert got[0] == json.dumps(event, separators=(",", ":"))
    assert drain(cairn, url, 1, timeout=2) == [], "the refund did not match"


def test_cloudtrail_events_reach_rules_and_read_only_ones_only_when_asked(cairn):
    ev = cairn.client("events")
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    writes_url, writes_arn = queue(cairn)
    all_url, all_arn = queue(cairn)
    pattern = json.dumps({"source": ["aws.iam"], "detail-type": ["AWS API Call via CloudTrail"],
                          "detail": {"eventSource": ["iam.amazonaws.com"], "eventName": ["CreateUser", "ListUsers"]}})
    ev.put_rule(Name="iam-writes", EventPattern=pattern)
    ev.put_rule(Name="iam-all", EventPattern=pattern, State="ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
    ev.put_targets(Rule="iam-writes", Targets=[{"Id": "q", "Arn": writes_arn}])
    ev.put_targets(Rule="iam-all", Targets=[{"Id": "q", "Arn": all_arn}])
    user = uid("u")
    cairn.aws("iam", "list-users")
    cairn.aws("iam", "create-user", "--user-name", user)
    writes = [json.loads(b) for b in drain(cairn, writes_url, 1)]
    assert [e["detail"]["eventName"] for e in writes] == ["CreateUser"]
    e = writes[0]
    assert list(e) == KEYS
    assert (e["source"], e["detail-type"], e["account"], e["region"], e["resources"]) == \
        ("aws.iam", "AWS API Call via CloudTrail", account, "us-east-1", [])
    assert e["detail"]["requestParameters"]["userName"] == user
    assert e["detail"]["eventSource"] == "iam.amazonaws.com"
    assert e["time"] == e["detail"]["eventTime"]
    assert "eventContext" not in e["detail"]
    assert list(e["detail"])[:3] == ["eventVersion", "userIdentity", "eventTime"]
    both = sorted(json.loads(b)["detail"]["eventName"] for b in drain(cairn, all_url, 2))
    assert both == ["CreateUser", "ListUsers"]
    assert drain(cairn, writes_url, 1, timeout=2) == [], "the plain rule never gets read-only events"


def test_the_issues_stop_logging_rule_with_the_cli(cairn):
    """The user's flow: a rule matching StopLogging, a queue target, `aws cloudtrail stop-logging`."""
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    bucket = uid("trail-bucket")
    cairn.aws("s3api", "create-bucket", "--bucket", bucket)
    cairn.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", documented_policy(bucket, account))
    cairn.aws("cloudtrail", "create-trail", "--name", "main", "--s3-bucket-name", bucket)
    cairn.aws("cloudtrail", "start-logging", "--name", "main")
    url, arn = queue(cairn)
    _, rule, _ = cairn.aws("events", "put-rule", "--name", "stop-logging", "--event-pattern", json.dumps(
        {"source": ["aws.cloudtrail"], "detail-type": ["AWS API Call via CloudTrail"],
         "detail": {"eventName": ["StopLogging"]}}))
    cairn.aws("events", "put-targets", "--rule", "stop-logging", "--targets", f"Id=1,Arn={arn}")
    cairn.aws("cloudtrail", "stop-logging", "--name", "main")
    got = [json.loads(b) for b in drain(cairn, url, 1)]
    assert len(got) == 1
    e = got[0]
    assert (e["source"], e["detail-type"], e["detail"]["eventSource"], e["detail"]["eventName"]) == \
        ("aws.cloudtrail", "AWS API Call via CloudTrail", "cloudtrail.amazonaws.com", "StopLogging")
    assert e["detail"]["requestParameters"] == {"name": "main"}
    assert e["detail"]["userIdentity"]["type"] == "Root"
    assert drain(cairn, url, 1, timeout=2) == [], "StartLogging did not match"
    assert rule["RuleArn"].endswith(":rule/stop-logging")


def test_a_rule_forwards_to_another_bus(cairn):
    ev = cairn.client("events")
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    bus = ev.create_event_bus(Name=uid("relay"))["EventBusArn"]
    name = bus.rsplit("/", 1)[1]
    url, arn = queue(cairn)
    ev.put_rule(Name="forward", EventPattern=json.dumps({"source": ["relay.me"]}))
    ev.put_targets(Rule="forward", Targets=[{"Id": "bus", "Arn": bus}])
    ev.put_rule(Name="on-relay", EventBusName=name, EventPattern=json.dumps({"detail-type": ["relayed"]}))
    ev.put_targets(Rule="on-relay", EventBusName=name, Targets=[{"Id": "q", "Arn": arn}])
    ev.put_events(Entries=[{"Source": "relay.me", "DetailType": "relayed", "Detail": '{"hop":1}'}])
    got = [json.loads(b) for b in drain(cairn, url, 1)]
    assert len(got) == 1
    assert (got[0]["source"], got[0]["detail"], got[0]["account"]) == ("relay.me", {"hop": 1}, account)


def test_input_path_and_input_transformer(cairn):
    ev = cairn.client("events")
    path_url, path_arn = queue(cairn)
    tr_url, tr_arn = queue(cairn)
    const_url, const_arn = queue(cairn)
    ev.put_rule(Name="shaping", EventPattern=json.dumps({"source": ["shape.me"]}))
    ev.put_targets(Rule="shaping", Targets=[
        {"Id": "path", "Arn": path_arn, "InputPath": "$.detail"},
        {"Id": "tr", "Arn": tr_arn, "InputTransformer": {
            "InputPathsMap": {"instance": "$.detail.instance", "state": "$.detail.state"},
            "InputTemplate": '{"instance": <instance>, "text": "<instance> is <state>", "rule": "<aws.events.rule-name>"}'}},
        {"Id": "const", "Arn": const_arn, "Input": '{"fixed":true}'},
    ])
    ev.put_events(Entries=[{"Source": "shape.me", "DetailType": "d",
                            "Detail": json.dumps({"instance": "i-1", "state": "running"})}])
    assert [json.loads(b) for b in drain(cairn, path_url, 1)] == [{"instance": "i-1", "state": "running"}]
    assert [json.loads(b) for b in drain(cairn, tr_url, 1)] == \
        [{"instance": "i-1", "text": "i-1 is running", "rule": "shaping"}]
    assert drain(cairn, const_url, 1) == ['{"fixed":true}']


def test_sns_and_logs_targets(cairn):
    ev = cairn.client("events")
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    sns = cairn.client("sns")
    topic = sns.create_topic(Name=uid("topic"))["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                                "Action": "sns:Publish", "Resource": topic}]}))
    url, qarn = queue(cairn)
    sqs = cairn.client("sqs")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": qarn}]})})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    logs = cairn.client("logs")
    group = uid("/aws/events/target")
    logs.create_log_group(logGroupName=group)
    logs_policy(cairn, "events-to-logs", f"arn:aws:logs:us-east-1:{account}:log-group:/aws/events/*:*")
    ev.put_rule(Name="fanout", EventPattern=json.dumps({"source": ["fan.out"]}))
    ev.put_targets(Rule="fanout", Targets=[
        {"Id": "topic", "Arn": topic},
        {"Id": "logs", "Arn": f"arn:aws:logs:us-east-1:{account}:log-group:{group}"},
    ])
    # A minute ago, to the second: Logs takes events of the last 14 days only.
    when = int(time.time()) - 60
    r = ev.put_events(Entries=[{"Source": "fan.out", "DetailType": "d", "Detail": '{"x":1}', "Time": when}])
    event_id = r["Entries"][0]["EventId"]
    published = drain(cairn, url, 1)
    assert len(published) == 1
    event = json.loads(published[0])
    assert event["id"] == event_id and list(event) == KEYS
    assert event["time"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))

    def logged():
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
        if not streams:
            return None
        return logs.get_log_events(logGroupName=group, logStreamName=streams[0]["logStreamName"])["events"]
    events = wait_for(logged, timeout=15)
    assert len(events) == 1
    assert events[0]["timestamp"] == when * 1000
    assert json.loads(events[0]["message"])["id"] == event_id

    # Recorded as AWS records EventBridge's writes (the real corpus's CreateLogStream by
    # events.amazonaws.com): the service itself, acting for the account.
    trail = cairn.client("cloudtrail")

    def created():
        found = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName",
                                                       "AttributeValue": "CreateLogStream"}])["Events"]
        return [json.loads(e["CloudTrailEvent"]) for e in found
                if json.loads(e["CloudTrailEvent"])["requestParameters"]["logGroupName"] == group]
    [record] = wait_for(created, timeout=15)
    assert record["userIdentity"] == {"type": "AWSService", "invokedBy": "events.amazonaws.com"}
    assert record["requestParameters"] == {"forAccount": account, "logGroupName": group,
                                           "logStreamName": event_id}
    assert (record["sourceIPAddress"], record["userAgent"]) == ("events.amazonaws.com",) * 2
    assert record["sharedEventID"] and record["recipientAccountId"] == account


def test_a_logs_target_without_a_resource_policy_gets_nothing(cairn):
    """EventBridge writes to a log group only where a Logs resource policy lets it: without one
    (or with one whose aws:SourceArn names another rule) the delivery is refused, nothing is
    written, and the event goes to the dead-letter queue with the refusal."""
    ev = cairn.client("events")
    logs = cairn.client("logs")
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    group = uid("/unshared/target")
    logs.create_log_group(logGroupName=group)
    group_arn = f"arn:aws:logs:us-east-1:{account}:log-group:{group}"
    dlq_url, dlq_arn = queue(cairn)
    rule = ev.put_rule(Name="to-private-group", EventPattern=json.dumps({"source": ["private.group"]}))["RuleArn"]
    ev.put_targets(Rule="to-private-group", Targets=[{"Id": "logs", "Arn": group_arn,
                                                      "DeadLetterConfig": {"Arn": dlq_arn},
                                                      "RetryPolicy": {"MaximumRetryAttempts": 0}}])

    def refused(detail):
        r = ev.put_events(Entries=[{"Source": "private.group", "DetailType": "d", "Detail": detail}])
        [(body, attrs)] = drain(cairn, dlq_url, 1, attributes=True)
        assert json.loads(body)["id"] == r["Entries"][0]["EventId"]
        assert attrs["ERROR_CODE"]["StringValue"] == "AccessDeniedException"
        assert attrs["TARGET_ARN"]["StringValue"] == group_arn
        assert "events.amazonaws.com" in attrs["ERROR_MESSAGE"]["StringValue"]
        assert logs.describe_log_streams(logGroupName=group)["logStreams"] == []

    refused('{"policy":"none"}')
    # A policy for this group, but only for another rule's events.
    other = rule.replace("to-private-group", "someone-else")
    logs_policy(cairn, "only-someone-else", f"{group_arn}:*",
                {"ArnLike": {"aws:SourceArn": other}, "StringEquals": {"aws:SourceAccount": account}})
    refused('{"policy":"another rule"}')
    # The same policy naming this rule lets it write.
    logs_policy(cairn, "only-someone-else", f"{group_arn}:*",
                {"ArnLike": {"aws:SourceArn": rule}, "StringEquals": {"aws:SourceAccount": account}})
    ev.put_events(Entries=[{"Source": "private.group", "DetailType": "d", "Detail": '{"policy":"this rule"}'}])

    def written():
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
        return streams and logs.get_log_events(logGroupName=group,
                                               logStreamName=streams[0]["logStreamName"])["events"]
    [event] = wait_for(written, timeout=15)
    assert json.loads(event["message"])["detail"] == {"policy": "this rule"}
    cairn.aws("logs", "delete-resource-policy", "--policy-name", "only-someone-else")


def test_a_schedule_fires_on_the_test_clock(new_cairn):
    c = new_cairn(["--test-clock"])
    ev = c.client("events")
    url, arn = queue(c)
    rule = ev.put_rule(Name="every-5", ScheduleExpression="rate(5 minutes)")["RuleArn"]
    ev.put_targets(Rule="every-5", Targets=[{"Id": "q", "Arn": arn}])
    assert drain(c, url, 1, timeout=2) == []
    c.advance(301)
    got = [json.loads(b) for b in drain(c, url, 1)]
    assert len(got) == 1
    e = got[0]
    assert list(e) == KEYS
    assert (e["source"], e["detail-type"], e["resources"], e["detail"]) == \
        ("aws.events", "Scheduled Event", [rule], {})
    c.advance(301)
    assert len(drain(c, url, 1)) == 1, "it fires again one period later"
    ev.disable_rule(Name="every-5")
    c.advance(601)
    assert drain(c, url, 1, timeout=2) == [], "a disabled rule does not fire"


def test_undeliverable_events_go_to_the_dead_letter_queue(cairn):
    ev = cairn.client("events")
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    dlq_url, dlq_arn = queue(cairn)
    missing = f"arn:aws:sqs:us-east-1:{account}:{uid('never-made')}"
    rule = ev.put_rule(Name="to-nowhere", EventPattern=json.dumps({"source": ["lost"]}))["RuleArn"]
    ev.put_targets(Rule="to-nowhere", Targets=[{"Id": "gone", "Arn": missing, "DeadLetterConfig": {"Arn": dlq_arn},
                                                "RetryPolicy": {"MaximumRetryAttempts": 0}}])
    r = ev.put_events(Entries=[{"Source": "lost", "DetailType": "d", "Detail": "{}"}])
    got = drain(cairn, dlq_url, 1, attributes=True)
    assert len(got) == 1
    body, attrs = got[0]
    assert json.loads(body)["id"] == r["Entries"][0]["EventId"]
    values = {k: v["StringValue"] for k, v in attrs.items()}
    assert values["RULE_ARN"] == rule
    assert values["TARGET_ARN"] == missing
    assert values["ERROR_CODE"] and values["ERROR_MESSAGE"]


def test_kill_9_with_events_in_flight_delivers_every_matched_event(new_cairn):
    """PutEvents entries and CloudTrail records (CreateLogGroup calls) matched by rules while
    `cairn serve` is killed three times: every acknowledged one reaches the queue."""
    c = new_cairn()
    ev = c.client("events")
    url, arn = queue(c)
    ev.put_rule(Name="durable", EventPattern=json.dumps({"source": ["durable.app"]}))
    ev.put_targets(Rule="durable", Targets=[{"Id": "q", "Arn": arn}])
    ev.put_rule(Name="durable-ct", EventPattern=json.dumps(
        {"source": ["aws.logs"], "detail": {"eventName": ["CreateLogGroup"]}}))
    ev.put_targets(Rule="durable-ct", Targets=[{"Id": "q", "Arn": arn}])
    acked, groups = [], []
    for round_ in range(3):
        if c.proc is None:
            c.start()
        client, logs = c.client("events"), c.client("logs")
        stop = threading.Event()

        def put_events():
            while not stop.is_set():
                try:
                    r = client.put_events(Entries=[{"Source": "durable.app", "DetailType": "d", "Detail": "{}"}] * 5)
                    acked.extend(e["EventId"] for e in r["Entries"])
                except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
                    pass
                # A steady stream rather than a flood: the point is events in flight at the kill.
                time.sleep(0.02)

        def create_groups():
            while not stop.is_set():
                name = uid("g")
                try:
                    logs.create_log_group(logGroupName=name)
                    groups.append(name)
                except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
                    pass
                time.sleep(0.02)
        threads = [threading.Thread(target=f) for f in (put_events, put_events, create_groups)]
        for t in threads:
            t.start()
        time.sleep(0.8 + 0.3 * round_)
        c.kill9()
        stop.set()
        for t in threads:
            t.join()
    c.start()
    assert len(acked) > 30 and len(groups) > 10
    seen, seen_groups = set(), set()
    deadline = time.time() + 60
    while not (set(acked) <= seen and set(groups) <= seen_groups) and time.time() < deadline:
        for body in drain(c, url, 10, timeout=2):
            e = json.loads(body)
            if e["source"] == "aws.logs":
                seen_groups.add(e["detail"]["requestParameters"]["logGroupName"])
            else:
                seen.add(e["id"])
    missing = set(acked) - seen
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged events never reached the queue"
    missing = set(groups) - seen_groups
    assert not missing, f"{len(missing)} of {len(groups)} CreateLogGroup events never reached the queue"


def test_put_events_is_judged_on_every_bus_it_names(cairn):
    """An IAM user allowed PutEvents on one bus only cannot slip entries onto another bus behind
    a first entry for the allowed one."""
    from alerting import client_as
    ev = cairn.client("events")
    ev.create_event_bus(Name="open-bus")
    ev.create_event_bus(Name="closed-bus")
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    iam = cairn.client("iam")
    iam.create_user(UserName="bus-writer")
    iam.put_user_policy(UserName="bus-writer", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "events:PutEvents",
                                               "Resource": f"arn:aws:events:us-east-1:{account}:event-bus/open-bus"}]}))
    key = iam.create_access_key(UserName="bus-writer")["AccessKey"]
    writer = client_as(cairn, {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]},
                       "events")
    entry = {"Source": "my.app", "DetailType": "d", "Detail": "{}"}
    assert writer.put_events(Entries=[{**entry, "EventBusName": "open-bus"}])["FailedEntryCount"] == 0
    with pytest.raises(botocore.exceptions.ClientError) as e:
        writer.put_events(Entries=[{**entry, "EventBusName": "open-bus"}, {**entry, "EventBusName": "closed-bus"}])
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "event-bus/closed-bus" in e.value.response["Error"]["Message"]


def test_test_event_pattern_has_put_rules_length_limit(cairn):
    ev = cairn.client("events")
    event = json.dumps({"id": "1", "account": "123456789012", "source": "s", "time": "2026-01-01T00:00:00Z",
                        "region": "us-east-1", "resources": [], "detail-type": "d", "detail": {}})
    long_pattern = json.dumps({"source": ["s"] + [f"x{i}" for i in range(800)]})
    assert len(long_pattern) > 4096
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ev.test_event_pattern(EventPattern=long_pattern, Event=event)
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "Member must have length less than or equal to 4096" in e.value.response["Error"]["Message"]
    assert ev.test_event_pattern(EventPattern=json.dumps({"source": ["s"]}), Event=event)["Result"] is True
