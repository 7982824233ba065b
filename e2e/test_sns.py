"""SNS with the real AWS CLI and boto3: topics (attributes, the default policy, tags, delete),
AWS's errors, HTTP subscriptions with the SubscriptionConfirmation handshake (the unsigned
SubscribeURL and ConfirmSubscription) and signed notifications checked by an independent
verifier (`cryptography`, following AWS's documented algorithm, trusting cairn's
SigningCertURL) for SignatureVersion 1 and 2, RawMessageDelivery, filter policies,
email-json and email messages written to the mailbox folder, PublishBatch, a kill -9 that
must not lose a pending notification, and each call recorded as an sns.amazonaws.com event."""

import json
import urllib.request

import botocore.exceptions
import pytest

from alerting import Subscriber, confirmed_http_subscription, verify
from conftest import lookup_all, wait_for


@pytest.fixture
def subscriber():
    s = Subscriber()
    yield s
    s.close()


@pytest.fixture(scope="module")
def sns(cairn):
    return cairn.client("sns")


def error_of(call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(*args, **kwargs)
    r = e.value.response
    return r["Error"]["Code"], r["Error"].get("Message", ""), r["ResponseMetadata"]["HTTPStatusCode"]


def test_topics_with_the_cli(cairn):
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    _, t, _ = cairn.aws("sns", "create-topic", "--name", "cli-topic", "--tags", "Key=team,Value=audit")
    arn = f"arn:aws:sns:us-east-1:{account}:cli-topic"
    assert t == {"TopicArn": arn}
    _, again, _ = cairn.aws("sns", "create-topic", "--name", "cli-topic")
    assert again == {"TopicArn": arn}, "CreateTopic is idempotent"
    cairn.aws("sns", "set-topic-attributes", "--topic-arn", arn, "--attribute-name", "DisplayName",
              "--attribute-value", "Audit alerts")
    _, attrs, _ = cairn.aws("sns", "get-topic-attributes", "--topic-arn", arn)
    a = attrs["Attributes"]
    assert a["DisplayName"] == "Audit alerts" and a["Owner"] == account and a["TopicArn"] == arn
    assert (a["SubscriptionsConfirmed"], a["SubscriptionsPending"], a["SubscriptionsDeleted"]) == ("0", "0", "0")
    policy = json.loads(a["Policy"])
    assert policy["Id"] == "__default_policy_ID"
    assert policy["Statement"][0]["Condition"] == {"StringEquals": {"AWS:SourceOwner": account}}
    assert json.loads(a["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3
    _, tags, _ = cairn.aws("sns", "list-tags-for-resource", "--resource-arn", arn)
    assert tags["Tags"] == [{"Key": "team", "Value": "audit"}]
    code, _, err = cairn.aws("sns", "create-topic", "--name", "cli-topic", "--attributes", "DisplayName=other",
                             check=False)
    assert code != 0 and "InvalidParameter" in err and "Topic already exists with different attributes" in err
    _, topics, _ = cairn.aws("sns", "list-topics")
    assert {"TopicArn": arn} in topics["Topics"]
    cairn.aws("sns", "delete-topic", "--topic-arn", arn)
    code, _, err = cairn.aws("sns", "get-topic-attributes", "--topic-arn", arn, check=False)
    assert code != 0 and "NotFound" in err and "Topic does not exist" in err


def test_topics_errors_tags_and_paging_with_boto3(sns):
    assert error_of(sns.create_topic, Name="bad name!")[:1] == ("InvalidParameter",)
    assert error_of(sns.create_topic, Name="x.fifo", Attributes={"FifoTopic": "true"})[0] == "InvalidParameter"
    code, message, status = error_of(sns.get_topic_attributes, TopicArn="arn:aws:sns:us-east-1:000000000000:none")
    assert (code, status) == ("NotFound", 404)
    arns = [sns.create_topic(Name=f"page-{i:03}")["TopicArn"] for i in range(105)]
    first = sns.list_topics()
    assert len(first["Topics"]) == 100 and "NextToken" in first
    rest = sns.list_topics(NextToken=first["NextToken"])
    listed = {t["TopicArn"] for t in first["Topics"] + rest["Topics"]}
    assert set(arns) <= listed and "NextToken" not in rest
    assert error_of(sns.list_topics, NextToken="junk")[0] == "InvalidParameter"
    sns.tag_resource(ResourceArn=arns[0], Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    sns.untag_resource(ResourceArn=arns[0], TagKeys=["a"])
    assert sns.list_tags_for_resource(ResourceArn=arns[0])["Tags"] == [{"Key": "b", "Value": "2"}]
    assert error_of(sns.list_tags_for_resource, ResourceArn=arns[0] + "-gone")[0] == "ResourceNotFound"
    assert error_of(sns.set_topic_attributes, TopicArn=arns[0], AttributeName="Nope", AttributeValue="1")[0] == "InvalidParameter"
    code, message, _ = error_of(sns.list_platform_applications)
    assert code == "InvalidAction" and "does not support" in message
    # A lambda endpoint must be a function's ARN.
    assert error_of(sns.subscribe, TopicArn=arns[0], Protocol="lambda",
                    Endpoint="arn:aws:lambda:us-east-1:000000000000:layer:f")[0] == "InvalidParameter"
    assert error_of(sns.publish, TopicArn=arns[0], Message="")[1] == "Invalid parameter: Empty message"
    assert error_of(sns.publish, TopicArn=arns[0], Message="m",
                    MessageAttributes={"n": {"DataType": "Number", "StringValue": "abc"}})[1] == \
        "Invalid parameter: Could not cast message attribute 'n' value to number."
    assert "No default entry" in error_of(sns.publish, TopicArn=arns[0], Message='{"x": "y"}', MessageStructure="json")[1]
    for a in arns:
        sns.delete_topic(TopicArn=a)


@pytest.mark.parametrize("version", ["1", "2"])
def test_http_handshake_and_signed_notifications(cairn, sns, subscriber, version):
    topic = sns.create_topic(Name=f"http-v{version}", Attributes={"SignatureVersion": version})["TopicArn"]
    sub_arn = confirmed_http_subscription(cairn, sns, topic, subscriber)
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
    assert attrs["PendingConfirmation"] == "false" and attrs["RawMessageDelivery"] == "false"
    mid = sns.publish(TopicArn=topic, Message="disk full", Subject="Alarm",
                      MessageAttributes={"severity": {"DataType": "String", "StringValue": "high"},
                                         "count": {"DataType": "Number", "StringValue": "3"}})["MessageId"]
    headers, body = wait_for(lambda: subscriber.of_type("Notification") and subscriber.of_type("Notification")[-1])
    msg = json.loads(body)
    assert list(msg) == ["Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion",
                         "Signature", "SigningCertURL", "UnsubscribeURL", "MessageAttributes"]
    assert body.startswith('{\n  "Type" : "Notification",\n'), "pretty-printed as AWS prints it"
    assert (msg["MessageId"], msg["Message"], msg["Subject"], msg["SignatureVersion"]) == (mid, "disk full", "Alarm", version)
    assert msg["MessageAttributes"] == {"count": {"Type": "Number", "Value": "3"},
                                        "severity": {"Type": "String", "Value": "high"}}
    assert headers["x-amz-sns-subscription-arn"] == sub_arn and headers["x-amz-sns-message-id"] == mid
    verify(msg, cairn)
    # The UnsubscribeURL works unsigned too.
    with urllib.request.urlopen(msg["UnsubscribeURL"]) as r:
        assert r.status == 200
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsDeleted"] == "1"


def test_raw_delivery_filter_policies_and_confirm_subscription(cairn, sns, subscriber):
    topic = sns.create_topic(Name="filtered")["TopicArn"]
    r = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=subscriber.url, ReturnSubscriptionArn=True,
                      Attributes={"RawMessageDelivery": "true",
                                  "FilterPolicy": json.dumps({"severity": ["high", {"prefix": "crit"}],
                                                              "count": [{"numeric": [">", 2]}]})})
    sub_arn = r["SubscriptionArn"]
    assert sub_arn.startswith(topic + ":")
    _, body = wait_for(lambda: subscriber.of_type("SubscriptionConfirmation") and subscriber.of_type("SubscriptionConfirmation")[-1])
    token = json.loads(body)["Token"]
    assert error_of(sns.confirm_subscription, TopicArn=topic, Token="nope")[0] == "InvalidParameter"
    assert sns.confirm_subscription(TopicArn=topic, Token=token)["SubscriptionArn"] == sub_arn
    assert error_of(sns.set_subscription_attributes, SubscriptionArn=sub_arn, AttributeName="FilterPolicy",
                    AttributeValue='{"a": "not a list"}')[0] == "InvalidParameter"

    def send(message, severity, count):
        sns.publish(TopicArn=topic, Message=message,
                    MessageAttributes={"severity": {"DataType": "String", "StringValue": severity},
                                       "count": {"DataType": "Number", "StringValue": str(count)}})

    send("dropped: low severity", "low", 5)
    send("dropped: count too small", "high", 1)
    send("delivered: high", "high", 3)
    send("delivered: critical", "critical", 9)
    wait_for(lambda: len(subscriber.of_type("Notification")) >= 2)
    # Deliveries go out in the order of publication: had a dropped message been queued, it
    # would have arrived before these two.
    raw = subscriber.of_type("Notification")
    assert sorted(b for _, b in raw) == ["delivered: critical", "delivered: high"]
    assert all(h["x-amz-sns-rawdelivery"] == "true" for h, _ in raw)

    # MessageBody scope: the policy looks into the JSON message.
    sns.set_subscription_attributes(SubscriptionArn=sub_arn, AttributeName="FilterPolicyScope", AttributeValue="MessageBody")
    sns.set_subscription_attributes(SubscriptionArn=sub_arn, AttributeName="FilterPolicy",
                                    AttributeValue=json.dumps({"detail": {"eventName": ["StopLogging"]}}))
    sns.publish(TopicArn=topic, Message=json.dumps({"detail": {"eventName": "DescribeTrails"}}))
    sns.publish(TopicArn=topic, Message=json.dumps({"detail": {"eventName": "StopLogging"}}))
    wait_for(lambda: len(subscriber.of_type("Notification")) >= 3)
    assert json.loads(subscriber.of_type("Notification")[2][1]) == {"detail": {"eventName": "StopLogging"}}


def read(path):
    """A mail as written (CRLF line ends kept)."""
    return path.read_bytes().decode()


def test_email_json_and_email_land_in_the_mailbox(cairn, sns):
    topic = sns.create_topic(Name="mail", Attributes={"DisplayName": "Cairn alerts"})["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint="json@example.com")
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")

    def mails(who):
        # Oldest first, from every node's mailbox (each node writes those it delivered).
        found = [m for d in cairn.data_dirs for m in (d / "mailbox" / who).glob("*.eml")]
        return sorted(found, key=lambda m: m.name)

    [first] = wait_for(lambda: mails("json@example.com"))
    text = read(first)
    assert "Subject: AWS Notification - Subscription Confirmation\r\n" in text
    assert "From: Cairn alerts <no-reply@sns.amazonaws.com>" in text
    confirmation = json.loads(text.split("\r\n\r\n", 1)[1])
    verify(confirmation, cairn)
    urllib.request.urlopen(confirmation["SubscribeURL"]).read()
    [plain] = wait_for(lambda: mails("ops@example.com"))
    link = [line for line in read(plain).splitlines() if "Action=ConfirmSubscription" in line][0]
    urllib.request.urlopen(link.strip()).read()
    rows = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert all(r["SubscriptionArn"] != "PendingConfirmation" for r in rows) and len(rows) == 2

    sns.publish(TopicArn=topic, Message="root login", Subject="CIS 3.3")
    note = wait_for(lambda: len(mails("json@example.com")) == 2 and mails("json@example.com")[1])
    text = read(note)
    assert "Subject: CIS 3.3\r\n" in text
    body = json.loads(text.split("\r\n\r\n", 1)[1])
    assert (body["Type"], body["Message"], body["Subject"]) == ("Notification", "root login", "CIS 3.3")
    verify(body, cairn)
    mail = read(wait_for(lambda: len(mails("ops@example.com")) == 2 and mails("ops@example.com")[1]))
    assert "\r\n\r\nroot login\r\n" in mail and "Action=Unsubscribe" in mail


def test_publish_batch(cairn, sns, subscriber):
    topic = sns.create_topic(Name="batch")["TopicArn"]
    confirmed_http_subscription(cairn, sns, topic, subscriber)
    r = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "one"},
        {"Id": "b", "Message": "two", "Subject": "S"},
        {"Id": "bad", "Message": ""},
    ])
    assert sorted(s["Id"] for s in r["Successful"]) == ["a", "b"]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in r["Failed"]] == [("bad", "InvalidParameter", True)]
    wait_for(lambda: len(subscriber.of_type("Notification")) == 2)
    assert sorted(json.loads(b)["Message"] for _, b in subscriber.of_type("Notification")) == ["one", "two"]
    assert error_of(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "x", "Message": "1"}, {"Id": "x", "Message": "2"}])[0] == "BatchEntryIdsNotDistinct"
    assert error_of(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": f"i{n}", "Message": "m"} for n in range(11)])[0] == "TooManyEntriesInBatchRequest"


def test_kill_9_does_not_lose_a_pending_notification(new_cairn, subscriber):
    c = new_cairn(["--test-clock"])
    sns = c.client("sns")
    topic = sns.create_topic(Name="durable")["TopicArn"]
    confirmed_http_subscription(c, sns, topic, subscriber)
    subscriber.failing = True
    mid = sns.publish(TopicArn=topic, Message="must arrive")["MessageId"]
    # The first attempt fails; the next is 20 s away (AWS's default HTTP policy).
    wait_for(lambda: subscriber.of_type("Notification"))
    c.kill9()
    subscriber.failing = False
    c.start()
    c.advance(25)
    headers, body = wait_for(lambda: [(h, b) for h, b in subscriber.of_type("Notification")
                                      if json.loads(b)["MessageId"] == mid][1:2] and
                             [(h, b) for h, b in subscriber.of_type("Notification")
                              if json.loads(b)["MessageId"] == mid][1])
    assert json.loads(body)["Message"] == "must arrive"
    verify(json.loads(body), c)


def test_sqs_subscription_gets_the_envelope_and_raw_messages(cairn, sns):
    sqs = cairn.client("sqs")
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    topic = sns.create_topic(Name="to-queue")["TopicArn"]
    url = sqs.create_queue(QueueName="from-sns")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:us-east-1:{account}:from-sns"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]})})
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    assert sub.startswith(topic + ":"), "same-account queues are confirmed at once"
    sns.publish(TopicArn=topic, Message="hello", Subject="S")
    got = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"))
    envelope = json.loads(got[0]["Body"])
    assert (envelope["Type"], envelope["Message"], envelope["Subject"]) == ("Notification", "hello", "S")
    verify(envelope, cairn)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true")
    sns.publish(TopicArn=topic, Message="raw", MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
    got = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1,
                                               MessageAttributeNames=["All"]).get("Messages"))
    assert got[0]["Body"] == "raw"
    assert got[0]["MessageAttributes"]["k"]["StringValue"] == "v"


def test_calls_are_recorded_as_aws_records_them(cairn, sns, subscriber):
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    topic = sns.create_topic(Name="recorded", Tags=[{"Key": "k", "Value": "v"}])["TopicArn"]
    sns.get_topic_attributes(TopicArn=topic)
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=subscriber.url)
    _, body = wait_for(lambda: subscriber.of_type("SubscriptionConfirmation") and subscriber.of_type("SubscriptionConfirmation")[-1])
    token = json.loads(body)["Token"]
    sns.confirm_subscription(TopicArn=topic, Token=token)
    sns.publish(TopicArn=topic, Message="secret body")
    ct = cairn.client("cloudtrail")

    def records(name):
        events = lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])
        return [json.loads(e["CloudTrailEvent"]) for e in events if e.get("EventSource") == "sns.amazonaws.com"]

    [create] = [r for r in records("CreateTopic") if r["responseElements"] == {"topicArn": topic}]
    assert create["eventSource"] == "sns.amazonaws.com" and create["readOnly"] is False
    assert create["eventCategory"] == "Management" and create["managementEvent"] is True
    assert create["requestParameters"] == {"name": "recorded", "tags": [{"key": "k", "value": "v"}]}
    assert create["userIdentity"]["type"] == "Root" and create["recipientAccountId"] == account
    [get] = [r for r in records("GetTopicAttributes") if r["requestParameters"] == {"topicArn": topic}]
    assert get["readOnly"] is True and get["responseElements"] is None
    [sub] = [r for r in records("Subscribe") if r["requestParameters"]["topicArn"] == topic]
    assert sub["requestParameters"] == {"topicArn": topic, "protocol": "http", "endpoint": subscriber.url}
    assert sub["responseElements"] == {"subscriptionArn": "pending confirmation"}
    [confirm] = [r for r in records("ConfirmSubscription") if r["requestParameters"]["topicArn"] == topic]
    assert "token" not in confirm["requestParameters"], "the confirmation token never reaches a record"
    assert confirm["responseElements"]["subscriptionArn"].startswith(topic + ":")
    # Publish is a data event: event history does not show it, as in AWS.
    assert records("Publish") == []
    for r in records("CreateTopic") + records("Subscribe"):
        assert "secret body" not in json.dumps(r)
