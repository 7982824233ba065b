"""The trail API with the real AWS CLI and boto3: AWS's checks and exceptions, multi-region
shadows, logging state, tags, event and Insights selectors."""

import json
import uuid

import botocore.exceptions
import pytest

from conftest import documented_policy, lookup_all


def code(fn, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kw)
    return e.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def account(cairn):
    """This instance's account id, read from the record of a call it made."""
    b = f"acct-{uuid.uuid4().hex[:8]}"
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket=b)
    events = lookup_all(cairn.client(), LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": b}])
    return json.loads(events[0]["CloudTrailEvent"])["recipientAccountId"]


def bucket_with_policy(cairn, account, prefix=None):
    b = f"trail-{uuid.uuid4().hex[:10]}"
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket=b)
    s3.put_bucket_policy(Bucket=b, Policy=documented_policy(b, account, prefix))
    return b


def test_create_with_the_cli_and_the_documented_policy(cairn, account):
    b = f"cli-{uuid.uuid4().hex[:10]}"
    cairn.aws("s3", "mb", f"s3://{b}")
    rc, _, err = cairn.aws("cloudtrail", "create-trail", "--name", "cli-trail", "--s3-bucket-name", b, check=False)
    assert rc == 255 and "(InsufficientS3BucketPolicyException)" in err
    cairn.aws("s3api", "put-bucket-policy", "--bucket", b, "--policy", documented_policy(b, account, "team/ct"))
    _, out, _ = cairn.aws("cloudtrail", "create-trail", "--name", "cli-trail", "--s3-bucket-name", b,
                          "--s3-key-prefix", "team/ct", "--is-multi-region-trail", "--enable-log-file-validation")
    assert out == {"Name": "cli-trail", "S3BucketName": b, "S3KeyPrefix": "team/ct", "IncludeGlobalServiceEvents": True,
                   "IsMultiRegionTrail": True, "TrailARN": f"arn:aws:cloudtrail:us-east-1:{account}:trail/cli-trail",
                   "LogFileValidationEnabled": True, "IsOrganizationTrail": False}
    cairn.aws("cloudtrail", "start-logging", "--name", "cli-trail")
    _, st, _ = cairn.aws("cloudtrail", "get-trail-status", "--name", "cli-trail")
    assert st["IsLogging"] is True and "StartLoggingTime" in st
    # Shadow copies: visible everywhere, changeable only at home.
    _, d, _ = cairn.aws("cloudtrail", "describe-trails", region="eu-west-3")
    assert [t["HomeRegion"] for t in d["trailList"] if t["Name"] == "cli-trail"] == ["us-east-1"]
    _, d, _ = cairn.aws("cloudtrail", "describe-trails", "--no-include-shadow-trails", region="eu-west-3")
    assert not any(t["Name"] == "cli-trail" for t in d["trailList"])
    rc, _, err = cairn.aws("cloudtrail", "stop-logging", "--name", "cli-trail", region="eu-west-3", check=False)
    assert "(InvalidHomeRegionException)" in err
    cairn.aws("cloudtrail", "stop-logging", "--name", f"arn:aws:cloudtrail:us-east-1:{account}:trail/cli-trail")
    _, st, _ = cairn.aws("cloudtrail", "get-trail-status", "--name", "cli-trail", region="ap-south-1")
    assert st["IsLogging"] is False and "StopLoggingTime" in st
    cairn.aws("cloudtrail", "delete-trail", "--name", "cli-trail")
    rc, _, err = cairn.aws("cloudtrail", "get-trail", "--name", "cli-trail", check=False)
    assert "(TrailNotFoundException)" in err


def test_aws_checks_and_exceptions(cairn, account):
    ct = cairn.client(region="us-west-2")
    b = bucket_with_policy(cairn, account)
    assert code(ct.create_trail, Name="missing-bucket", S3BucketName=f"nope-{uuid.uuid4().hex[:8]}") == "S3BucketDoesNotExistException"
    for bad in ["ab", "-bad", "bad-", "a..b", "192.168.0.1", "has space"]:
        assert code(ct.create_trail, Name=bad, S3BucketName=b) == "InvalidTrailNameException", bad
    assert code(ct.create_trail, Name="with-sns", S3BucketName=b, SnsTopicName="no-such-topic") == "InsufficientSnsTopicPolicyException"
    assert code(ct.create_trail, Name="with-sns", S3BucketName=b, SnsTopicName="has space") == "InvalidSnsTopicNameException"
    assert code(ct.create_trail, Name="org", S3BucketName=b, IsOrganizationTrail=True) == "OrganizationsNotInUseException"
    assert code(ct.create_trail, Name="wrong-prefix", S3BucketName=b, S3KeyPrefix="elsewhere") == "InsufficientS3BucketPolicyException"
    names = [f"limit-{i}" for i in range(5)]
    for n in names:
        ct.create_trail(Name=n, S3BucketName=b)
    assert code(ct.create_trail, Name=names[0], S3BucketName=b) == "TrailAlreadyExistsException"
    assert code(ct.create_trail, Name="sixth", S3BucketName=b) == "MaximumNumberOfTrailsExceededException"
    assert code(ct.get_trail, Name="arn:aws:s3:::not-a-trail") == "CloudTrailARNInvalidException"
    assert code(ct.get_trail_status, Name="never-made") == "TrailNotFoundException"
    listed = [t["Name"] for p in ct.get_paginator("list_trails").paginate() for t in p["Trails"]]
    assert set(names) <= set(listed)
    for n in names:
        ct.delete_trail(Name=n)
    assert code(ct.delete_trail, Name=names[0]) == "TrailNotFoundException"


def test_list_trails_spans_every_home_region_and_pages(cairn):
    """ListTrails lists all the account's trails, homed anywhere, 50 a page; DescribeTrails only
    what the region sees. A multi-region trail counts against every region's limit of five."""
    env = cairn.create_account()
    acct = env["CAIRN_ACCOUNT_ID"]
    b = f"list-{uuid.uuid4().hex[:10]}"
    s3 = cairn.client("s3", account=acct)
    s3.create_bucket(Bucket=b)
    s3.put_bucket_policy(Bucket=b, Policy=documented_policy(b, acct))
    regions = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2",
               "eu-west-3", "eu-central-1", "ap-south-1", "ap-northeast-1", "ap-southeast-1"]
    made = {}
    for r in regions:
        ct = cairn.client(region=r, account=acct)
        for i in range(5):
            arn = ct.create_trail(Name=f"t{i}-{r}", S3BucketName=b)["TrailARN"]
            made[arn] = r
    ct = cairn.client(region="sa-east-1", account=acct)
    assert code(ct.create_trail, Name="everywhere", S3BucketName=b, IsMultiRegionTrail=True) == "MaximumNumberOfTrailsExceededException"
    first = ct.list_trails()
    assert len(first["Trails"]) == 50 and first["NextToken"]
    second = ct.list_trails(NextToken=first["NextToken"])
    assert len(second["Trails"]) == 5 and "NextToken" not in second
    listed = {t["TrailARN"]: t["HomeRegion"] for t in first["Trails"] + second["Trails"]}
    assert listed == made
    assert all(t["Name"] == t["TrailARN"].split("/")[-1] for t in first["Trails"])
    assert len([t for p in ct.get_paginator("list_trails").paginate() for t in p["Trails"]]) == 55
    assert code(ct.list_trails, NextToken="not-a-token") == "InvalidNextTokenException"
    assert ct.describe_trails()["trailList"] == []
    assert len(cairn.client(region="eu-west-1", account=acct).describe_trails()["trailList"]) == 5


def test_update_trail(cairn, account):
    ct = cairn.client(region="ca-central-1")
    b = bucket_with_policy(cairn, account)
    ct.create_trail(Name="upd", S3BucketName=b)
    r = ct.update_trail(Name="upd", IsMultiRegionTrail=True, EnableLogFileValidation=True)
    assert r["IsMultiRegionTrail"] and r["LogFileValidationEnabled"]
    assert code(ct.update_trail, Name="upd", IncludeGlobalServiceEvents=False) == "InvalidParameterCombinationException"
    t = ct.get_trail(Name="upd")["Trail"]
    assert t["HomeRegion"] == "ca-central-1" and t["IsMultiRegionTrail"]
    ct.delete_trail(Name="upd")


def test_tags(cairn, account):
    ct = cairn.client(region="eu-central-1")
    b = bucket_with_policy(cairn, account)
    arn = ct.create_trail(Name="tagged", S3BucketName=b, TagsList=[{"Key": "team", "Value": "sec"}])["TrailARN"]
    ct.add_tags(ResourceId=arn, TagsList=[{"Key": "env", "Value": "lab"}])
    ct.remove_tags(ResourceId=arn, TagsList=[{"Key": "team"}])
    tags = ct.list_tags(ResourceIdList=[arn])["ResourceTagList"]
    assert tags == [{"ResourceId": arn, "TagsList": [{"Key": "env", "Value": "lab"}]}]
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    assert code(ct.add_tags, ResourceId=arn, TagsList=too_many) == "TagsLimitExceededException"
    ct.delete_trail(Name=arn)


def test_event_and_insight_selectors(cairn, account):
    ct = cairn.client(region="ap-northeast-1")
    b = bucket_with_policy(cairn, account)
    ct.create_trail(Name="sel", S3BucketName=b)
    default = ct.get_event_selectors(TrailName="sel")["EventSelectors"]
    assert default == [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [], "ExcludeManagementEventSources": []}]
    basic = [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True,
              "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{b}/"]}]}]
    assert ct.put_event_selectors(TrailName="sel", EventSelectors=basic)["EventSelectors"][0]["ReadWriteType"] == "WriteOnly"
    assert ct.get_trail(Name="sel")["Trail"]["HasCustomEventSelectors"] is True
    advanced = [{"Name": "objects", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{b}/"], "NotStartsWith": [f"arn:aws:s3:::{b}/tmp/"]},
        {"Field": "eventName", "NotEquals": ["GetObject"]},
        {"Field": "readOnly", "Equals": ["false"]},
        {"Field": "resources.ARN", "EndsWith": [".json"], "NotEndsWith": [".tmp.json"]}]},
        {"Name": "management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]
    ct.put_event_selectors(TrailName="sel", AdvancedEventSelectors=advanced)
    got = ct.get_event_selectors(TrailName="sel")
    assert got["AdvancedEventSelectors"] == advanced and "EventSelectors" not in got
    for bad in [
        {"EventSelectors": [{"ReadWriteType": "Sometimes"}]},
        {"EventSelectors": [{"DataResources": [{"Type": "AWS::EC2::Instance", "Values": ["x"]}]}]},
        {"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}]},
        {"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}]},
        # Only KMS and RDS Data API events can be excluded.
        {"EventSelectors": [{"ExcludeManagementEventSources": ["s3.amazonaws.com"]}]},
        # At most 250 data resource values across a trail's basic selectors.
        {"EventSelectors": [{"DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{b}/{i}/" for i in range(251)]}]}]},
        # At most 500 values across a trail's advanced selectors.
        {"AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{b}/{i}/" for i in range(499)]}]}]},
        # resources.type takes Equals only, eventCategory Equals with one category.
        {"AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "StartsWith": ["AWS::S3::"]}]}]},
        {"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "NotEquals": ["Data"]}]}]},
        # Management selectors take only eventCategory, readOnly and eventSource.
        {"AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "eventName", "Equals": ["CreateTrail"]}]}]},
        {"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "nope", "Equals": ["x"]}]}]},
    ]:
        assert code(ct.put_event_selectors, TrailName="sel", **bad) == "InvalidEventSelectorsException", bad
    assert code(ct.put_event_selectors, TrailName="sel", EventSelectors=basic, AdvancedEventSelectors=advanced) == "InvalidParameterCombinationException"
    assert code(ct.get_insight_selectors, TrailName="sel") == "InsightNotEnabledException"
    ct.put_insight_selectors(TrailName="sel", InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    assert ct.get_insight_selectors(TrailName="sel")["InsightSelectors"] == [{"InsightType": "ApiCallRateInsight"}]
    assert code(ct.put_insight_selectors, TrailName="sel", InsightSelectors=[{"InsightType": "Bogus"}]) == "InvalidInsightSelectorsException"
    ct.delete_trail(Name="sel")


def test_trail_calls_are_in_history_by_trail_name(cairn, account):
    ct = cairn.client(region="sa-east-1")
    b = bucket_with_policy(cairn, account)
    ct.create_trail(Name="hist-trail", S3BucketName=b)
    ct.start_logging(Name="hist-trail")
    ct.delete_trail(Name="hist-trail")
    events = lookup_all(ct, LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": "hist-trail"}])
    assert [e["EventName"] for e in events] == ["DeleteTrail", "StartLogging", "CreateTrail"]
    create = json.loads(events[-1]["CloudTrailEvent"])
    assert create["requestParameters"] == {"name": "hist-trail", "s3BucketName": b}
    assert create["responseElements"]["trailARN"] == f"arn:aws:cloudtrail:sa-east-1:{account}:trail/hist-trail"
    assert create["readOnly"] is False
    assert events[-1]["Resources"] == [{"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": "hist-trail"}]
