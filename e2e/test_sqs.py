"""SQS with the real AWS CLI and boto3: queues and their attributes (AWS's ranges, idempotent
create, QueueNameExists), tags, listing with pages, messages with AWS's digests, visibility
timeouts on the instance's test clock, long polling that returns as soon as a message arrives,
batches with per-entry failures, purge, dead-letter redrive, queue policies letting another
account send, AWS's errors (query-compatible codes), and every call recorded as a
sqs.amazonaws.com event: queue calls as management events in event history, message calls as
data events delivered only to a trail that selects them, bodies hidden."""

import gzip
import hashlib
import json
import struct
import threading
import time
import uuid

import botocore.exceptions
import pytest

from conftest import documented_policy, lookup_all, wait_for


@pytest.fixture(scope="module")
def lab(workdir):
    from conftest import Cairn
    c = Cairn(workdir / "sqs-lab", ["--delivery-interval", "1", "--test-clock"])
    c.start()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def sqs(lab):
    return lab.client("sqs")


@pytest.fixture(scope="module")
def account(lab):
    return lab.env()["CAIRN_ACCOUNT_ID"]


def error_of(call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(*args, **kwargs)
    err = e.value.response["Error"]
    return err["Code"], err.get("Message", ""), e.value.response["ResponseMetadata"]["HTTPStatusCode"], e.value


def attributes_md5(attrs):
    """AWS's MD5OfMessageAttributes, written from its documentation (independent of cairn's)."""
    out = b""
    for name in sorted(attrs):
        a = attrs[name]
        out += struct.pack(">I", len(name.encode())) + name.encode()
        out += struct.pack(">I", len(a["DataType"].encode())) + a["DataType"].encode()
        if "StringValue" in a:
            v = a["StringValue"].encode()
            out += b"\x01" + struct.pack(">I", len(v)) + v
        else:
            v = a["BinaryValue"]
            out += b"\x02" + struct.pack(">I", len(v)) + v
    return hashlib.md5(out).hexdigest()


def cli(lab, *args, check=True):
    """`aws sqs …`. The CLI v1 replaces SQS' endpoint by `queue.amazonaws.com` unless
    `--endpoint-url` is given on the command line (its `overridesslcommonname` customization
    ignores AWS_ENDPOINT_URL), so SQS commands name the endpoint."""
    return lab.aws("sqs", *args, "--endpoint-url", lab.endpoint, check=check)


def test_queue_messages_with_the_cli(lab, account):
    _, made, _ = cli(lab, "create-queue", "--queue-name", "cli-alerts")
    url = made["QueueUrl"]
    assert url == f"https://sqs.us-east-1.amazonaws.com/{account}/cli-alerts"
    _, got, _ = cli(lab, "get-queue-url", "--queue-name", "cli-alerts")
    assert got["QueueUrl"] == url
    _, sent, _ = cli(lab, "send-message", "--queue-url", url, "--message-body", "hello",
                         "--message-attributes", '{"Colour": {"DataType": "String", "StringValue": "red"}}')
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"hello").hexdigest()
    assert sent["MD5OfMessageAttributes"] == attributes_md5({"Colour": {"DataType": "String", "StringValue": "red"}})
    _, received, _ = cli(lab, "receive-message", "--queue-url", url, "--attribute-names", "All",
                             "--message-attribute-names", "All")
    [m] = received["Messages"]
    assert m["Body"] == "hello" and m["MessageId"] == sent["MessageId"]
    assert m["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert m["MessageAttributes"] == {"Colour": {"DataType": "String", "StringValue": "red"}}
    assert m["Attributes"]["ApproximateReceiveCount"] == "1" and m["Attributes"]["SenderId"]
    _, attrs, _ = cli(lab, "get-queue-attributes", "--queue-url", url, "--attribute-names", "All")
    a = attrs["Attributes"]
    assert a["QueueArn"] == f"arn:aws:sqs:us-east-1:{account}:cli-alerts"
    assert (a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"]) == ("0", "1")
    assert a["VisibilityTimeout"] == "30" and a["MaximumMessageSize"] == "1048576"
    cli(lab, "delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"])
    _, attrs, _ = cli(lab, "get-queue-attributes", "--queue-url", url,
                          "--attribute-names", "ApproximateNumberOfMessagesNotVisible")
    assert attrs["Attributes"] == {"ApproximateNumberOfMessagesNotVisible": "0"}
    code, _, err = cli(lab, "get-queue-url", "--queue-name", "cli-none", check=False)
    assert code != 0 and "AWS.SimpleQueueService.NonExistentQueue" in err and "The specified queue does not exist." in err
    cli(lab, "delete-queue", "--queue-url", url)
    code, _, err = cli(lab, "get-queue-attributes", "--queue-url", url, check=False)
    assert code != 0 and "NonExistentQueue" in err


def test_queues_attributes_tags_and_listing(sqs, account):
    url = sqs.create_queue(QueueName="attrs", Attributes={"VisibilityTimeout": "5", "DelaySeconds": "2"},
                           tags={"team": "sec"})["QueueUrl"]
    assert sqs.create_queue(QueueName="attrs", Attributes={"VisibilityTimeout": "5"})["QueueUrl"] == url
    code, msg, status, e = error_of(sqs.create_queue, QueueName="attrs", Attributes={"VisibilityTimeout": "6"})
    assert (code, status) == ("QueueAlreadyExists", 400)
    assert type(e).__name__ == "QueueNameExists" and "VisibilityTimeout" in msg
    code, msg, status, e = error_of(sqs.create_queue, QueueName="bad", Attributes={"VisibilityTimeout": "43201"})
    assert (code, msg, status) == ("InvalidAttributeValue", "Invalid value for the parameter VisibilityTimeout.", 400)
    assert type(e).__name__ == "InvalidAttributeValue"
    code, msg, _, e = error_of(sqs.create_queue, QueueName="bad", Attributes={"Colour": "red"})
    assert (code, msg) == ("InvalidAttributeName", "Unknown Attribute Colour.")
    code, _, _, _ = error_of(sqs.create_queue, QueueName="bad name!")
    assert code == "InvalidParameterValue"
    code, msg, _, e = error_of(sqs.create_queue, QueueName="ordered.fifo", Attributes={"FifoQueue": "true"})
    assert code == "AWS.SimpleQueueService.UnsupportedOperation" and "FIFO" in msg
    assert type(e).__name__ == "UnsupportedOperation"

    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "7", "ReceiveMessageWaitTimeSeconds": "1"})
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout", "DelaySeconds", "CreatedTimestamp",
                                                                "LastModifiedTimestamp"])["Attributes"]
    assert (a["VisibilityTimeout"], a["DelaySeconds"]) == ("7", "2")
    assert int(a["LastModifiedTimestamp"]) >= int(a["CreatedTimestamp"]) > 1_600_000_000
    code, _, _, _ = error_of(sqs.set_queue_attributes, QueueUrl=url, Attributes={"MessageRetentionPeriod": "59"})
    assert code == "InvalidAttributeValue"

    sqs.tag_queue(QueueUrl=url, Tags={"env": "prod"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "sec", "env": "prod"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "prod"}

    for n in "abc":
        sqs.create_queue(QueueName=f"page-{n}")
    first = sqs.list_queues(QueueNamePrefix="page-", MaxResults=2)
    assert [u.rsplit("/", 1)[1] for u in first["QueueUrls"]] == ["page-a", "page-b"]
    rest = sqs.list_queues(QueueNamePrefix="page-", MaxResults=2, NextToken=first["NextToken"])
    assert [u.rsplit("/", 1)[1] for u in rest["QueueUrls"]] == ["page-c"] and "NextToken" not in rest
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix="nothing-")
    code, _, status, e = error_of(sqs.get_queue_attributes, QueueUrl=url.replace("attrs", "gone"))
    assert (code, status, type(e).__name__) == ("AWS.SimpleQueueService.NonExistentQueue", 400, "QueueDoesNotExist")
    code, _, _, _ = error_of(sqs.get_queue_attributes, QueueUrl="https://example.com/attrs")
    assert code == "InvalidAddress"
    code, _, _, _ = error_of(sqs.add_permission, QueueUrl=url, Label="l", AWSAccountIds=[account], Actions=["SendMessage"])
    assert code == "AWS.SimpleQueueService.UnsupportedOperation"


def test_visibility_timeout_follows_the_test_clock(lab, sqs):
    url = sqs.create_queue(QueueName="visible")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m1")
    [m] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    lab.advance(31)
    [again] = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert again["MessageId"] == m["MessageId"] and again["Attributes"]["ApproximateReceiveCount"] == "2"
    assert again["ReceiptHandle"] != m["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"], VisibilityTimeout=0)
    [third] = sqs.receive_message(QueueUrl=url)["Messages"]
    lab.advance(31)
    code, msg, _, e = error_of(sqs.change_message_visibility, QueueUrl=url, ReceiptHandle=third["ReceiptHandle"],
                               VisibilityTimeout=10)
    assert code == "AWS.SimpleQueueService.MessageNotInflight" and type(e).__name__ == "MessageNotInflight"
    code, _, _, e = error_of(sqs.delete_message, QueueUrl=url, ReceiptHandle="not-a-handle")
    assert code == "ReceiptHandleIsInvalid" and type(e).__name__ == "ReceiptHandleIsInvalid"
    # Delayed messages wait on the same clock.
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])["Attributes"]
    assert a["ApproximateNumberOfMessagesDelayed"] == "1"
    code, msg, _, _ = error_of(sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=11)
    assert code == "InvalidParameterValue" and "MaxNumberOfMessages" in msg


def test_long_polling_returns_as_soon_as_a_message_arrives(lab, sqs):
    url = sqs.create_queue(QueueName="poll")["QueueUrl"]
    sender = lab.client("sqs")
    timer = threading.Timer(1.0, lambda: sender.send_message(QueueUrl=url, MessageBody="wake"))
    started = time.time()
    timer.start()
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=15)
    elapsed = time.time() - started
    timer.join()
    assert [m["Body"] for m in got["Messages"]] == ["wake"]
    assert 0.9 <= elapsed < 6, elapsed
    started = time.time()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert time.time() - started >= 0.9, "an empty long poll waits its time out"


def test_batches_answer_per_entry(sqs):
    url = sqs.create_queue(QueueName="batch")["QueueUrl"]
    r = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "ok1", "MessageBody": "one"},
        {"Id": "bad", "MessageBody": "nul \u0000 inside"},
        {"Id": "ok2", "MessageBody": "two", "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "3"}}},
    ])
    assert sorted(s["Id"] for s in r["Successful"]) == ["ok1", "ok2"]
    [f] = r["Failed"]
    assert (f["Id"], f["Code"], f["SenderFault"]) == ("bad", "InvalidMessageContents", True)
    ok2 = next(s for s in r["Successful"] if s["Id"] == "ok2")
    assert ok2["MD5OfMessageBody"] == hashlib.md5(b"two").hexdigest()
    assert ok2["MD5OfMessageAttributes"] == attributes_md5({"n": {"DataType": "Number", "StringValue": "3"}})
    code, _, _, e = error_of(sqs.send_message_batch, QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}] * 2)
    assert code == "AWS.SimpleQueueService.BatchEntryIdsNotDistinct" and type(e).__name__ == "BatchEntryIdsNotDistinct"
    code, _, _, e = error_of(sqs.send_message_batch, QueueUrl=url,
                             Entries=[{"Id": f"e{i}", "MessageBody": "x"} for i in range(11)])
    assert code == "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in msgs) == ["one", "two"]
    d = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "d1", "ReceiptHandle": msgs[0]["ReceiptHandle"]}, {"Id": "d2", "ReceiptHandle": "garbage"}])
    assert [s["Id"] for s in d["Successful"]] == ["d1"] and d["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    c = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "c1", "ReceiptHandle": msgs[1]["ReceiptHandle"], "VisibilityTimeout": 0}])
    assert [s["Id"] for s in c["Successful"]] == ["c1"] and c["Failed"] == []


def test_purge_once_a_minute(lab, sqs):
    url = sqs.create_queue(QueueName="purged")["QueueUrl"]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i}", "MessageBody": "x"} for i in range(3)])
    sqs.purge_queue(QueueUrl=url)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    code, _, _, e = error_of(sqs.purge_queue, QueueUrl=url)
    assert code == "AWS.SimpleQueueService.PurgeQueueInProgress" and type(e).__name__ == "PurgeQueueInProgress"
    lab.advance(61)
    sqs.purge_queue(QueueUrl=url)


def test_dead_letter_redrive(lab, sqs, account):
    dlq = sqs.create_queue(QueueName="dead")["QueueUrl"]
    dlq_arn = f"arn:aws:sqs:us-east-1:{account}:dead"
    code, msg, _, _ = error_of(sqs.create_queue, QueueName="work", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{account}:missing", "maxReceiveCount": 2})})
    assert code == "InvalidParameterValue" and "Dead letter target does not exist." in msg
    work = sqs.create_queue(QueueName="work", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})})["QueueUrl"]
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [work]
    sqs.send_message(QueueUrl=work, MessageBody="poison")
    for _ in range(2):
        assert len(sqs.receive_message(QueueUrl=work, VisibilityTimeout=5)["Messages"]) == 1
        lab.advance(6)
    assert "Messages" not in sqs.receive_message(QueueUrl=work), "received twice: moved on the third receive"
    [dead] = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"])["Messages"]
    assert dead["Body"] == "poison"
    assert dead["Attributes"]["DeadLetterQueueSourceArn"] == f"arn:aws:sqs:us-east-1:{account}:work"


def test_queue_policy_lets_another_account_send(lab, sqs, account):
    url = sqs.create_queue(QueueName="shared")["QueueUrl"]
    other_env = lab.create_account()
    other = lab.client("sqs", account=other_env["CAIRN_ACCOUNT_ID"])
    code, msg, status, _ = error_of(other.send_message, QueueUrl=url, MessageBody="knock")
    assert (code, status) == ("AccessDenied", 403) and "sqs:SendMessage" in msg
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": other_env["CAIRN_ACCOUNT_ID"]}, "Action": "sqs:SendMessage",
        "Resource": f"arn:aws:sqs:us-east-1:{account}:shared"}]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    assert json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]) == policy
    other.send_message(QueueUrl=url, MessageBody="knock")
    code, _, status, _ = error_of(other.receive_message, QueueUrl=url)
    assert (code, status) == ("AccessDenied", 403), "the policy grants sending only"
    [m] = sqs.receive_message(QueueUrl=url, AttributeNames=["SenderId"])["Messages"]
    assert m["Body"] == "knock"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    code, _, _, _ = error_of(other.send_message, QueueUrl=url, MessageBody="again")
    assert code == "AccessDenied"


def records_in(s3, bucket):
    recs = []
    for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in p.get("Contents", []):
            recs += json.loads(gzip.decompress(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()))["Records"]
    return recs


def test_calls_are_recorded_as_aws_records_them(lab, sqs, account):
    s3, ct = lab.client("s3"), lab.client()
    bucket = f"sqs-trail-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=documented_policy(bucket, account))
    ct.create_trail(Name="sqs-data", S3BucketName=bucket)
    ct.put_event_selectors(TrailName="sqs-data", AdvancedEventSelectors=[{"Name": "queue data", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::SQS::Queue"]}]}])
    ct.start_logging(Name="sqs-data")

    url = sqs.create_queue(QueueName="audited", Attributes={"DelaySeconds": "0"}, tags={"k": "v"})["QueueUrl"]
    sent = sqs.send_message(QueueUrl=url, MessageBody="top secret body")
    [m] = sqs.receive_message(QueueUrl=url)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    error_of(sqs.get_queue_url, QueueName="audited-missing")
    arn = f"arn:aws:sqs:us-east-1:{account}:audited"

    def history():
        evs = lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "sqs.amazonaws.com"}])
        return [json.loads(e["CloudTrailEvent"]) for e in evs]
    rs = wait_for(lambda: [r for r in history() if r["eventName"] == "CreateQueue"
                           and r["requestParameters"]["queueName"] == "audited"])
    [create] = rs
    assert create["requestParameters"] == {"queueName": "audited", "attributes": {"DelaySeconds": "0"}, "tags": {"k": "v"}}
    assert create["responseElements"] == {"queueUrl": url}
    assert create["resources"] == [{"accountId": account, "type": "AWS::SQS::Queue", "ARN": arn}]
    assert (create["eventCategory"], create["readOnly"], create["managementEvent"]) == ("Management", False, True)
    all_recs = history()
    assert not {"SendMessage", "ReceiveMessage", "DeleteMessage"} & {r["eventName"] for r in all_recs}, \
        "message calls are data events: not in event history"
    missing = [r for r in all_recs if r["eventName"] == "GetQueueUrl"
               and r["requestParameters"] == {"queueName": "audited-missing"}]
    assert missing[0]["errorCode"] == "AWS.SimpleQueueService.NonExistentQueue" and missing[0]["readOnly"] is True

    def delivered():
        recs = [r for r in records_in(s3, bucket) if (r.get("requestParameters") or {}).get("queueUrl") == url]
        names = {r["eventName"] for r in recs}
        return recs if {"SendMessage", "ReceiveMessage", "DeleteMessage"} <= names else None
    recs = lab.advance_until(delivered, step=2, limit=60)
    by_name = {r["eventName"]: r for r in recs}
    assert set(by_name) == {"SendMessage", "ReceiveMessage", "DeleteMessage"}, "only the selected data events"
    send = by_name["SendMessage"]
    assert send["requestParameters"] == {"queueUrl": url, "messageBody": "HIDDEN_DUE_TO_SECURITY_REASONS"}
    assert send["responseElements"] == {"mD5OfMessageBody": sent["MD5OfMessageBody"], "messageId": sent["MessageId"]}
    assert (send["eventCategory"], send["managementEvent"], send["readOnly"]) == ("Data", False, False)
    assert send["resources"] == [{"accountId": account, "type": "AWS::SQS::Queue", "ARN": arn}]
    assert by_name["ReceiveMessage"]["responseElements"] is None and by_name["ReceiveMessage"]["readOnly"] is True
    assert by_name["DeleteMessage"]["requestParameters"]["receiptHandle"] == m["ReceiptHandle"]
    assert "top secret body" not in json.dumps(records_in(s3, bucket)), "a body never reaches a record"
    ct.delete_trail(Name="sqs-data")
