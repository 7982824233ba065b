"""`aws cloudtrail create-subscription` and `update-subscription`, the AWS CLI's one-step trail
set-up, against cairn: the CLI reads CloudTrail's bucket policy template from AWS's public
bucket `awscloudtrail-policy-<region>` (which cairn serves read-only), creates the bucket with
that policy filled in, creates the trail and starts it; the trail then delivers there."""

import gzip
import json

import pytest

TEMPLATE = "policy/S3/AWSCloudTrail-S3BucketPolicy-2014-12-17.json"


def test_create_subscription_sets_up_a_delivering_trail(new_cairn):
    c = new_cairn(["--test-clock", "--delivery-interval", "1"])
    account = c.env()["CAIRN_ACCOUNT_ID"]
    _, out, _ = c.aws("cloudtrail", "create-subscription", "--name", "quick", "--s3-new-bucket", "quick-logs",
                      "--s3-prefix", "ct")
    assert "Logs will be delivered to quick-logs:ct" in out
    s3 = c.client("s3")
    policy = json.loads(s3.get_bucket_policy(Bucket="quick-logs")["Policy"])
    write = next(st for st in policy["Statement"] if st["Action"] == "s3:PutObject")
    assert write["Resource"] == f"arn:aws:s3:::quick-logs/ct/AWSLogs/{account}/*"
    assert write["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    ct = c.client("cloudtrail")
    [trail] = ct.describe_trails(trailNameList=["quick"])["trailList"]
    assert (trail["S3BucketName"], trail["S3KeyPrefix"]) == ("quick-logs", "ct")
    assert ct.get_trail_status(Name="quick")["IsLogging"] is True
    keys = c.advance_until(lambda: [o["Key"] for o in s3.list_objects_v2(Bucket="quick-logs", Prefix="ct/AWSLogs/")
                                    .get("Contents", []) if "/CloudTrail/" in o["Key"]], step=60, limit=900)
    body = gzip.decompress(s3.get_object(Bucket="quick-logs", Key=keys[0])["Body"].read())
    assert json.loads(body)["Records"]

    # update-subscription moves the trail to a new bucket made the same way.
    c.aws("cloudtrail", "update-subscription", "--name", "quick", "--s3-new-bucket", "quick-logs-2")
    [trail] = ct.describe_trails(trailNameList=["quick"])["trailList"]
    assert trail["S3BucketName"] == "quick-logs-2"


def test_the_policy_bucket_is_public_and_read_only(new_cairn):
    c = new_cairn()
    s3 = c.client("s3")
    other = c.client("s3", account=c.create_account()["CAIRN_ACCOUNT_ID"])
    for client in (s3, other):
        body = client.get_object(Bucket="awscloudtrail-policy-eu-west-1", Key=TEMPLATE)["Body"].read()
        assert json.loads(body)["Statement"][0]["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    sns = json.loads(s3.get_object(Bucket="awscloudtrail-policy-us-east-1",
                                   Key="policy/SNS/AWSCloudTrail-SnsTopicPolicy-2014-12-17.json")["Body"].read())
    assert sns["Statement"][0]["Action"] == "SNS:Publish"
    import botocore.exceptions
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket="awscloudtrail-policy-us-east-1", Key=TEMPLATE, Body=b"{}")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="awscloudtrail-policy-us-east-1", Key="policy/nothing.json")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_bucket(Bucket="awscloudtrail-policy-us-east-1")
    assert e.value.response["Error"]["Code"] == "BucketAlreadyExists"
    # The template is unchanged by the refused write.
    again = s3.get_object(Bucket="awscloudtrail-policy-us-east-1", Key=TEMPLATE)["Body"].read()
    assert b"<BucketName>" in again
