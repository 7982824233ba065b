"""Helpers the alerting e2e tests share: an HTTP subscriber on 127.0.0.1, an SNS signature
verifier written independently of cairn (`cryptography`, AWS's documented algorithm), the trail ->
log group set-up (bucket, trail, group, the role CloudTrail assumes), IAM users with keys, and an
SQS queue subscribed to a topic."""

import base64
import json
import threading
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import botocore.config
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from conftest import documented_policy, wait_for


class Subscriber:
    """An HTTP endpoint on 127.0.0.1 that keeps every POST; answers 500 while `failing`."""

    def __init__(self):
        self.received = []
        self.failing = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(500 if outer.failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of_type(self, kind):
        return [(h, b) for h, b in self.received if h.get("x-amz-sns-message-type") == kind]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


SIGNED = {
    "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
    "SubscriptionConfirmation": ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
}


def verify(message, cairn):
    """AWS's documented verification, written independently of cairn: fetch the certificate
    (only from the instance's own endpoints), rebuild the string to sign, check the RSA
    signature."""
    url = message["SigningCertURL"]
    assert url.startswith(tuple(cairn.endpoints)) and url.endswith(".pem")
    with urllib.request.urlopen(url) as r:
        cert = x509.load_pem_x509_certificate(r.read())
    text = "".join(f"{k}\n{message[k]}\n" for k in SIGNED[message["Type"]] if k in message)
    digest = hashes.SHA256() if message["SignatureVersion"] == "2" else hashes.SHA1()
    cert.public_key().verify(base64.b64decode(message["Signature"]), text.encode(), padding.PKCS1v15(), digest)
    tampered = text.replace("Type\n", "Type\nX", 1).encode()
    with pytest.raises(Exception):
        cert.public_key().verify(base64.b64decode(message["Signature"]), tampered, padding.PKCS1v15(), digest)


def confirmed_http_subscription(cairn, sns, topic, sub, **attrs):
    """Subscribes `sub`, checks the signed confirmation and confirms through the SubscribeURL."""
    r = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=sub.url, Attributes=attrs)
    assert r["SubscriptionArn"] == "pending confirmation"
    headers, body = wait_for(lambda: sub.of_type("SubscriptionConfirmation") and sub.of_type("SubscriptionConfirmation")[-1])
    msg = json.loads(body)
    assert list(msg) == ["Type", "MessageId", "Token", "TopicArn", "Message", "SubscribeURL", "Timestamp",
                         "SignatureVersion", "Signature", "SigningCertURL"]
    assert headers["x-amz-sns-topic-arn"] == topic and "x-amz-sns-subscription-arn" not in headers
    assert headers["x-amz-sns-message-id"] == msg["MessageId"]
    assert headers["content-type"] == "text/plain; charset=UTF-8"
    assert headers["user-agent"] == "Amazon Simple Notification Service Agent"
    assert msg["Message"].startswith(f"You have chosen to subscribe to the topic {topic}.")
    verify(msg, cairn)
    [row] = [s for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] if s["Endpoint"] == sub.url]
    assert row["SubscriptionArn"] == "PendingConfirmation"
    # The SubscribeURL works unsigned, as AWS's does.
    with urllib.request.urlopen(msg["SubscribeURL"]) as r:
        xml = r.read().decode()
    assert "<ConfirmSubscriptionResult>" in xml
    [row] = [s for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] if s["Endpoint"] == sub.url]
    assert row["SubscriptionArn"].startswith(topic + ":")
    return row["SubscriptionArn"]


TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def permissions(account, group, region="us-east-1", org_id=None):
    """The policy AWS's console makes for CloudTrail_CloudWatchLogs_Role (for an organization
    trail: also the organization's streams, `<o-id>_*`)."""
    prefix = f"arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:"
    streams = [f"{prefix}{account}_CloudTrail_{region}*"] + ([f"{prefix}{org_id}_*"] if org_id else [])
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailCreateLogStream2014110", "Effect": "Allow", "Action": ["logs:CreateLogStream"], "Resource": streams},
        {"Sid": "AWSCloudTrailPutLogEvents20141101", "Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": streams}]})


def account_of(c):
    return c.client("sts").get_caller_identity()["Account"]


def setup(c, name, env_overrides=None):
    """A logging trail `name` with a bucket, a log group `name` and a role `name` (trust and
    permissions); answers (account, group ARN, role ARN)."""
    account = account_of(c)
    kw = {"env_overrides": env_overrides}
    bucket = f"ct-{uuid.uuid4().hex[:10]}"
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{account}:trail/{name}"
    c.aws("s3", "mb", f"s3://{bucket}", **kw)
    c.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", documented_policy(bucket, account, None, trail_arn), **kw)
    c.aws("cloudtrail", "create-trail", "--name", name, "--s3-bucket-name", bucket, **kw)
    c.aws("cloudtrail", "start-logging", "--name", name, **kw)
    c.aws("logs", "create-log-group", "--log-group-name", name, **kw)
    _, role, _ = c.aws("iam", "create-role", "--role-name", name, "--assume-role-policy-document", TRUST, **kw)
    c.aws("iam", "put-role-policy", "--role-name", name, "--policy-name", "cwl", "--policy-document", permissions(account, name), **kw)
    group_arn = f"arn:aws:logs:us-east-1:{account}:log-group:{name}:*"
    return account, group_arn, role["Role"]["Arn"]


def group_events(c, group, logs=None):
    """Every event of the group, across streams and pages (FilterLogEvents); read with `logs`
    when given (a client of another identity than the account's root)."""
    logs = logs or c.client("logs")
    out = []
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group):
        out.extend(page["events"])
    return out


def ids_in(events):
    return [json.loads(e["message"])["eventID"] for e in events]


def request_ids_in(events):
    return [json.loads(e["message"]).get("requestID") for e in events]


def client_as(c, env, service):
    """A boto3 client of `c` signing with the keys in `env` (as `user_env` answers): tests that
    count root calls read with an IAM user's keys, lest their own reads count."""
    return boto3.client(service, endpoint_url=c.endpoint, region_name="us-east-1",
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                        config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}))


def user_env(c, name, policy):
    """An IAM user allowed `policy` (actions on every resource); the CLI variables of a new key."""
    iam = c.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": policy, "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def queue_for(cairn, topic, name):
    """An SQS queue subscribed to `topic`, its policy letting SNS send for that topic."""
    sqs = cairn.client("sqs")
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = f"arn:aws:sqs:us-east-1:{account}:{name}"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]})})
    cairn.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return sqs, url
