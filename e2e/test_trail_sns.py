"""Trail SNS notifications (`SnsTopicName`) with the real AWS CLI and boto3: the topic policy
must let cloudtrail.amazonaws.com publish (`InsufficientSnsTopicPolicyException` otherwise);
after each log file is written the topic gets AWS's `{"s3Bucket":…,"s3ObjectKey":[…]}`, which an
SQS queue subscribed to it receives in SNS's envelope; a topic deleted later shows in
`LatestNotificationError`; and `create-subscription --sns-new-topic` sets it all up."""

import json
import uuid

import botocore.exceptions
import pytest

from conftest import documented_policy

POLICY_CODE = "InsufficientSnsTopicPolicyException"
POLICY_MESSAGE = "SNS Topic does not exist or the topic policy is incorrect!"


def error_of(fn, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kw)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def cloudtrail_may_publish(topic_arn, trail_arn):
    """The statement the CloudTrail User Guide documents, limited to one trail."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "AWSCloudTrailSNSPolicy20131101", "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "SNS:Publish",
        "Resource": topic_arn, "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}}]})


def subscribed_queue(c, topic_arn, name):
    """An SQS queue subscribed to the topic, its policy letting the topic send."""
    account = c.env()["CAIRN_ACCOUNT_ID"]
    sqs = c.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = f"arn:aws:sqs:us-east-1:{account}:{name}"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}}}]})})
    c.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return sqs, url


def next_notification(c, sqs, url):
    """Advances the test clock until the queue holds a notification; returns its envelope."""
    def received():
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages")
        if got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
            return json.loads(got[0]["Body"])
        return None
    return c.advance_until(received, step=10, limit=600)


def assert_announces_written_files(c, envelope, topic_arn, bucket):
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == topic_arn
    assert "Subject" not in envelope, "CloudTrail's notifications have no subject"
    message = json.loads(envelope["Message"])
    assert set(message) == {"s3Bucket", "s3ObjectKey"}
    assert message["s3Bucket"] == bucket
    assert envelope["Message"] == json.dumps(message, separators=(",", ":")), "compact JSON, as AWS sends"
    s3 = c.client("s3")
    assert message["s3ObjectKey"]
    for key in message["s3ObjectKey"]:
        assert "/CloudTrail/" in key and key.endswith(".json.gz"), key
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
    return message["s3ObjectKey"]


def test_a_trail_announces_its_log_files_to_its_topic(new_cairn):
    c = new_cairn(["--test-clock", "--delivery-interval", "1"])
    account = c.env()["CAIRN_ACCOUNT_ID"]
    ct, sns = c.client("cloudtrail"), c.client("sns")
    bucket = f"ct-{uuid.uuid4().hex[:10]}"
    c.aws("s3", "mb", f"s3://{bucket}")
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{account}:trail/noisy"
    c.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", documented_policy(bucket, account, None, trail_arn))

    # No topic, and a topic whose policy is AWS's default (no CloudTrail in it): refused alike.
    assert error_of(ct.create_trail, Name="noisy", S3BucketName=bucket, SnsTopicName="nothing-here") == (POLICY_CODE, POLICY_MESSAGE)
    topic = sns.create_topic(Name="trail-files")["TopicArn"]
    rc, _, err = c.aws("cloudtrail", "create-trail", "--name", "noisy", "--s3-bucket-name", bucket,
                       "--sns-topic-name", "trail-files", check=False)
    assert rc != 0 and f"({POLICY_CODE})" in err and POLICY_MESSAGE in err
    # A policy for another trail does not do either.
    other = f"arn:aws:cloudtrail:us-east-1:{account}:trail/other"
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=cloudtrail_may_publish(topic, other))
    assert error_of(ct.create_trail, Name="noisy", S3BucketName=bucket, SnsTopicName="trail-files")[0] == POLICY_CODE
    assert error_of(ct.create_trail, Name="noisy", S3BucketName=bucket, SnsTopicName="bad name!")[0] == "InvalidSnsTopicNameException"

    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=cloudtrail_may_publish(topic, trail_arn))
    _, made, _ = c.aws("cloudtrail", "create-trail", "--name", "noisy", "--s3-bucket-name", bucket,
                       "--sns-topic-name", "trail-files")
    assert (made["SnsTopicName"], made["SnsTopicARN"]) == ("trail-files", topic)
    [trail] = ct.describe_trails(trailNameList=["noisy"])["trailList"]
    assert (trail["SnsTopicName"], trail["SnsTopicARN"]) == ("trail-files", topic)
    # Given as an ARN, the ARN is echoed.
    updated = ct.update_trail(Name="noisy", SnsTopicName=topic)
    assert (updated["SnsTopicName"], updated["SnsTopicARN"]) == (topic, topic)

    sqs, url = subscribed_queue(c, topic, "trail-files-q")
    c.aws("cloudtrail", "start-logging", "--name", "noisy")
    for _ in range(3):
        ct.describe_trails()
    envelope = next_notification(c, sqs, url)
    assert_announces_written_files(c, envelope, topic, bucket)
    status = ct.get_trail_status(Name="noisy")
    assert "LatestNotificationTime" in status and "LatestNotificationError" not in status
    assert status["LatestNotificationAttemptSucceeded"] != ""

    # The topic goes away: the next files' notifications fail, and the status says why.
    sns.delete_topic(TopicArn=topic)
    ct.describe_trails()
    c.advance_until(lambda: ct.get_trail_status(Name="noisy").get("LatestNotificationError"), step=10, limit=600)
    _, status, _ = c.aws("cloudtrail", "get-trail-status", "--name", "noisy")
    assert status["LatestNotificationError"] == "NotFound"
    assert status["LatestNotificationAttemptTime"] != ""

    # The topic is back (with CloudTrail in its policy): the owed notifications arrive after all.
    topic = sns.create_topic(Name="trail-files")["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=cloudtrail_may_publish(topic, trail_arn))
    subscribed_queue(c, topic, "trail-files-q")
    envelope = next_notification(c, sqs, url)
    assert_announces_written_files(c, envelope, topic, bucket)
    assert "LatestNotificationError" not in c.advance_until(
        lambda: "LatestNotificationError" not in ct.get_trail_status(Name="noisy") and ct.get_trail_status(Name="noisy"),
        step=10, limit=600)

    # Cleared with an empty name.
    cleared = ct.update_trail(Name="noisy", SnsTopicName="")
    assert "SnsTopicName" not in cleared and "SnsTopicARN" not in cleared


def test_create_subscription_with_a_new_topic(new_cairn):
    c = new_cairn(["--test-clock", "--delivery-interval", "1"])
    account = c.env()["CAIRN_ACCOUNT_ID"]
    _, out, _ = c.aws("cloudtrail", "create-subscription", "--name", "quick", "--s3-new-bucket", "quick-sns-logs",
                      "--sns-new-topic", "quick-topic")
    assert "quick-topic" in out
    topic = f"arn:aws:sns:us-east-1:{account}:quick-topic"
    policy = json.loads(c.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    assert any(st.get("Principal") == {"Service": "cloudtrail.amazonaws.com"} for st in policy["Statement"])
    ct = c.client("cloudtrail")
    [trail] = ct.describe_trails(trailNameList=["quick"])["trailList"]
    assert (trail["SnsTopicName"], trail["SnsTopicARN"]) == ("quick-topic", topic)
    sqs, url = subscribed_queue(c, topic, "quick-q")
    ct.describe_trails()
    envelope = next_notification(c, sqs, url)
    keys = assert_announces_written_files(c, envelope, topic, "quick-sns-logs")
    assert all(k.startswith(f"AWSLogs/{account}/CloudTrail/") for k in keys)
