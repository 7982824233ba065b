"""SQS in the query protocol, as older SDKs and tools speak it: botocore's SQS model switched to
query and given back the query model's names (`Attribute.N.Name`, `MessageAttribute.N`,
`SendMessageBatchRequestEntry.N`, `<Message>` repeated), result wrappers and error codes, so that its serializer sends the
flattened forms those clients send and its parser reads cairn's XML as theirs did. Every served
operation: queues, attributes, tags, messages with attributes and AWS's digests, batches with a
partial failure, errors under SQS's legacy codes, a queue's calls sent to its URL's path; and
the calls recorded with the same requestParameters as the same calls in JSON."""

import copy
import hashlib
import json
import urllib.error
import urllib.request

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import botocore.exceptions
import botocore.session
import pytest

from conftest import lookup_all, wait_for
from test_sqs import attributes_md5

XMLNS = "http://queue.amazonaws.com/doc/2012-11-05/"

# The query model's `locationName`s that today's (JSON) model no longer carries: structure
# members by (shape, member), and the key and value names of its flattened maps.
MEMBER_NAMES = {
    ("CreateQueueRequest", "Attributes"): "Attribute",
    ("CreateQueueRequest", "tags"): "Tag",
    ("GetQueueAttributesRequest", "AttributeNames"): "AttributeName",
    ("GetQueueAttributesResult", "Attributes"): "Attribute",
    ("SetQueueAttributesRequest", "Attributes"): "Attribute",
    ("TagQueueRequest", "Tags"): "Tag",
    ("UntagQueueRequest", "TagKeys"): "TagKey",
    ("ListQueueTagsResult", "Tags"): "Tag",
    ("ListQueuesResult", "QueueUrls"): "QueueUrl",
    ("ListDeadLetterSourceQueuesResult", "queueUrls"): "QueueUrl",
    ("SendMessageRequest", "MessageAttributes"): "MessageAttribute",
    ("SendMessageRequest", "MessageSystemAttributes"): "MessageSystemAttribute",
    ("SendMessageBatchRequest", "Entries"): "SendMessageBatchRequestEntry",
    ("SendMessageBatchRequestEntry", "MessageAttributes"): "MessageAttribute",
    ("SendMessageBatchResult", "Successful"): "SendMessageBatchResultEntry",
    ("SendMessageBatchResult", "Failed"): "BatchResultErrorEntry",
    ("MessageAttributeValue", "StringListValues"): "StringListValue",
    ("MessageAttributeValue", "BinaryListValues"): "BinaryListValue",
    ("ReceiveMessageRequest", "AttributeNames"): "AttributeName",
    ("ReceiveMessageRequest", "MessageAttributeNames"): "MessageAttributeName",
    ("ReceiveMessageResult", "Messages"): "Message",
    ("Message", "Attributes"): "Attribute",
    ("Message", "MessageAttributes"): "MessageAttribute",
    ("DeleteMessageBatchRequest", "Entries"): "DeleteMessageBatchRequestEntry",
    ("DeleteMessageBatchResult", "Successful"): "DeleteMessageBatchResultEntry",
    ("DeleteMessageBatchResult", "Failed"): "BatchResultErrorEntry",
    ("ChangeMessageVisibilityBatchRequest", "Entries"): "ChangeMessageVisibilityBatchRequestEntry",
    ("ChangeMessageVisibilityBatchResult", "Successful"): "ChangeMessageVisibilityBatchResultEntry",
    ("ChangeMessageVisibilityBatchResult", "Failed"): "BatchResultErrorEntry",
}
MAP_NAMES = {
    "QueueAttributeMap": ("Name", "Value"),
    "TagMap": ("Key", "Value"),
    "MessageBodyAttributeMap": ("Name", "Value"),
    "MessageSystemAttributeMap": ("Name", "Value"),
    "MessageBodySystemAttributeMap": ("Name", "Value"),
}

# The query model's error codes (`error.code`), by which botocore's query parser picks an
# error's exception class; the JSON model relies on `x-amzn-query-error` instead.
ERROR_CODES = {
    shape: f"AWS.SimpleQueueService.{code}" for shape, code in [
        ("QueueDoesNotExist", "NonExistentQueue"),
        ("QueueDeletedRecently", "QueueDeletedRecently"),
        ("PurgeQueueInProgress", "PurgeQueueInProgress"),
        ("MessageNotInflight", "MessageNotInflight"),
        ("BatchEntryIdsNotDistinct", "BatchEntryIdsNotDistinct"),
        ("EmptyBatchRequest", "EmptyBatchRequest"),
        ("TooManyEntriesInBatchRequest", "TooManyEntriesInBatchRequest"),
        ("BatchRequestTooLong", "BatchRequestTooLong"),
        ("InvalidBatchEntryId", "InvalidBatchEntryId"),
        ("UnsupportedOperation", "UnsupportedOperation"),
    ]
}


@pytest.fixture(scope="module")
def lab(workdir):
    from conftest import Cairn
    c = Cairn(workdir / "sqs-query-lab", [])
    c.start()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def account(lab):
    return lab.env()["CAIRN_ACCOUNT_ID"]


@pytest.fixture(scope="module")
def forms():
    """The bodies the query client sent, by action."""
    return {}


@pytest.fixture(scope="module")
def q(lab, forms, tmp_path_factory):
    """An SQS client that speaks only query, with the query model's names."""
    root = tmp_path_factory.mktemp("models")
    loader = botocore.session.get_session().get_component("data_loader")
    model = copy.deepcopy(loader.load_service_model("sqs", "service-2"))
    model["metadata"]["protocols"] = ["query"]
    model["metadata"]["protocol"] = "query"
    model["metadata"]["xmlNamespace"] = XMLNS
    shapes = model["shapes"]
    for (shape, member), name in MEMBER_NAMES.items():
        shapes[shape]["members"][member]["locationName"] = name
    for shape, (key, value) in MAP_NAMES.items():
        shapes[shape]["key"]["locationName"] = key
        shapes[shape]["value"]["locationName"] = value
    for shape, code in ERROR_CODES.items():
        shapes[shape]["error"] = {"code": code, "httpStatusCode": 400, "senderFault": True}
    # Query answers wrap their members in `<{Op}Result>`, which the query model says.
    for name, op in model["operations"].items():
        if "output" in op:
            op["output"]["resultWrapper"] = f"{name}Result"
    version = loader.determine_latest_version("sqs", "service-2")
    (root / "sqs" / version).mkdir(parents=True)
    (root / "sqs" / version / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.get_session()
    session.set_config_variable("data_path", str(root))
    e = lab.env()
    client = boto3.Session(botocore_session=session).client(
        "sqs", endpoint_url=lab.endpoint, region_name="us-east-1",
        aws_access_key_id=e["AWS_ACCESS_KEY_ID"], aws_secret_access_key=e["AWS_SECRET_ACCESS_KEY"],
        config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}))
    assert client.meta.service_model.resolved_protocol == "query"

    def keep(request, **_):
        body = request.body.decode() if isinstance(request.body, bytes) else request.body or ""
        forms[dict(p.split("=", 1) for p in body.split("&") if "=" in p).get("Action")] = body
    client.meta.events.register("before-send.sqs", keep)
    return client


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def test_queues_attributes_and_tags_in_query(q, account):
    url = q.create_queue(QueueName="qq", Attributes={"VisibilityTimeout": "45"}, tags={"team": "a"})["QueueUrl"]
    assert url == f"https://sqs.us-east-1.amazonaws.com/{account}/qq"
    assert q.get_queue_url(QueueName="qq")["QueueUrl"] == url
    assert url in q.list_queues(QueueNamePrefix="qq")["QueueUrls"]
    assert "QueueUrls" not in q.list_queues(QueueNamePrefix="none-such")

    q.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "2", "MaximumMessageSize": "2048"})
    got = q.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds", "MaximumMessageSize",
                                                               "VisibilityTimeout"])["Attributes"]
    assert got == {"DelaySeconds": "2", "MaximumMessageSize": "2048", "VisibilityTimeout": "45"}
    every = q.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert every["QueueArn"] == f"arn:aws:sqs:us-east-1:{account}:qq"

    q.tag_queue(QueueUrl=url, Tags={"env": "test", "tier": "1"})
    q.untag_queue(QueueUrl=url, TagKeys=["tier"])
    assert q.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a", "env": "test"}

    dlq = q.create_queue(QueueName="qq-dlq")["QueueUrl"]
    arn = q.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    q.set_queue_attributes(QueueUrl=url, Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "3"})})
    assert q.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [url]

    q.delete_queue(QueueUrl=dlq)
    with pytest.raises(q.exceptions.QueueDoesNotExist) as e:
        q.get_queue_url(QueueName="qq-dlq")
    err = e.value.response
    assert err["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert err["Error"]["Type"] == "Sender"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_messages_in_query(q, forms):
    url = q.create_queue(QueueName="qmsgs")["QueueUrl"]
    attrs = {"color": {"DataType": "String", "StringValue": "red"},
             "n": {"DataType": "Number", "StringValue": "7"},
             "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"}}
    sent = q.send_message(QueueUrl=url, MessageBody="hello <there> & all", MessageAttributes=attrs)
    assert sent["MD5OfMessageBody"] == md5("hello <there> & all")
    assert sent["MD5OfMessageAttributes"] == attributes_md5(attrs)
    # The form is SQS's flattened one, under the query model's names.
    assert "MessageAttribute.1.Name=color" in forms["SendMessage"]
    assert "MessageAttribute.1.Value.DataType=String" in forms["SendMessage"]

    [m] = q.receive_message(QueueUrl=url, AttributeNames=["All"], MessageAttributeNames=["All"],
                            MaxNumberOfMessages=10)["Messages"]
    assert "AttributeName.1=All" in forms["ReceiveMessage"]
    assert m["MessageId"] == sent["MessageId"] and m["Body"] == "hello <there> & all"
    assert m["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert m["MessageAttributes"] == attrs
    assert m["MD5OfMessageAttributes"] == attributes_md5(attrs)
    assert m["Attributes"]["ApproximateReceiveCount"] == "1" and m["Attributes"]["SenderId"]
    assert int(m["Attributes"]["SentTimestamp"]) > 0

    q.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    [again] = q.receive_message(QueueUrl=url)["Messages"]
    assert again["MessageId"] == m["MessageId"] and "MessageAttributes" not in again
    q.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
    assert "Messages" not in q.receive_message(QueueUrl=url)

    q.send_message(QueueUrl=url, MessageBody="to purge")
    q.purge_queue(QueueUrl=url)
    assert "Messages" not in q.receive_message(QueueUrl=url)


def test_batches_with_a_partial_failure_in_query(q, forms):
    url = q.create_queue(QueueName="qbatch")["QueueUrl"]
    n = {"n": {"DataType": "Number", "StringValue": "3"}}
    r = q.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "ok1", "MessageBody": "one"},
        {"Id": "bad", "MessageBody": "nul \u0000 inside"},
        {"Id": "ok2", "MessageBody": "two", "MessageAttributes": n, "DelaySeconds": 0},
    ])
    assert "SendMessageBatchRequestEntry.3.MessageAttribute.1.Name=n" in forms["SendMessageBatch"]
    assert sorted(s["Id"] for s in r["Successful"]) == ["ok1", "ok2"]
    [f] = r["Failed"]
    assert (f["Id"], f["Code"], f["SenderFault"]) == ("bad", "InvalidMessageContents", True)
    ok2 = next(s for s in r["Successful"] if s["Id"] == "ok2")
    assert ok2["MD5OfMessageBody"] == md5("two") and ok2["MD5OfMessageAttributes"] == attributes_md5(n)
    with pytest.raises(q.exceptions.BatchEntryIdsNotDistinct):
        q.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}] * 2)

    msgs = q.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in msgs) == ["one", "two"]
    d = q.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "d1", "ReceiptHandle": msgs[0]["ReceiptHandle"]}, {"Id": "d2", "ReceiptHandle": "garbage"}])
    assert [s["Id"] for s in d["Successful"]] == ["d1"]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in d["Failed"]] == [("d2", "ReceiptHandleIsInvalid", True)]
    c = q.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "c1", "ReceiptHandle": msgs[1]["ReceiptHandle"], "VisibilityTimeout": 0}])
    # No failures: no `<BatchResultErrorEntry>` at all, so botocore's query parser has none.
    assert [s["Id"] for s in c["Successful"]] == ["c1"] and c.get("Failed", []) == []


def signed(lab, path, form):
    """A query request as an older SDK sends it, to `path`, signed for sqs."""
    e = lab.env()
    creds = botocore.credentials.Credentials(e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"])
    req = botocore.awsrequest.AWSRequest(
        method="POST", url=lab.endpoint + path, data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    botocore.auth.SigV4Auth(creds, "sqs", "us-east-1").add_auth(req)
    prepared = req.prepare()
    r = urllib.request.Request(prepared.url, data=prepared.body.encode(), method="POST",
                               headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(r) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_a_queues_calls_sent_to_its_path(lab, q, account):
    """Older SDKs send a queue's calls to its URL and leave `QueueUrl` out of the form."""
    url = q.create_queue(QueueName="qpath")["QueueUrl"]
    status, xml = signed(lab, f"/{account}/qpath", "Action=SendMessage&Version=2012-11-05&MessageBody=by+path")
    assert status == 200, xml
    assert xml.startswith(f'<SendMessageResponse xmlns="{XMLNS}">'), xml
    assert f"<MD5OfMessageBody>{md5('by path')}</MD5OfMessageBody>" in xml
    assert "<RequestId>" in xml
    [m] = q.receive_message(QueueUrl=url)["Messages"]
    assert m["Body"] == "by path"
    status, xml = signed(lab, f"/{account}/no-such-queue", "Action=PurgeQueue&Version=2012-11-05")
    assert status == 400
    assert "<Code>AWS.SimpleQueueService.NonExistentQueue</Code>" in xml and "<Type>Sender</Type>" in xml


def test_query_calls_are_recorded_as_json_calls_are(lab, q):
    sqs = lab.client("sqs")
    attrs = {"DelaySeconds": "0", "VisibilityTimeout": "40"}
    q.create_queue(QueueName="rec-query", Attributes=attrs, tags={"k": "v"})
    sqs.create_queue(QueueName="rec-json", Attributes=attrs, tags={"k": "v"})
    ct = lab.client()

    def created():
        evs = lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateQueue"}])
        recs = [json.loads(e["CloudTrailEvent"]) for e in evs]
        by = {r["requestParameters"]["queueName"]: r for r in recs
              if r["requestParameters"]["queueName"] in ("rec-query", "rec-json")}
        return by if len(by) == 2 else None
    by = wait_for(created)
    query, js = by["rec-query"], by["rec-json"]
    assert query["requestParameters"] == {**js["requestParameters"], "queueName": "rec-query"}
    assert query["requestParameters"] == {"queueName": "rec-query", "attributes": attrs, "tags": {"k": "v"}}
    assert query["responseElements"]["queueUrl"].endswith("/rec-query")
    assert query["eventSource"] == "sqs.amazonaws.com" and query["eventType"] == js["eventType"]
