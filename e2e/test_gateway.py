"""The recording gateway (`cairn serve --upstream URL`): AWS services cairn does not implement,
answered by moto_server from PyPI and audited by cairn, driven by the real AWS CLI v1 and boto3.

- EC2 security groups through the CLI: the caller's true identity, AWS's requestParameters shape
  (compared key for key with records AWS wrote), the CIS security-group alarm raised by them;
- an IAM user without `ec2:*` refused by cairn before moto sees the call;
- Secrets Manager, SSM Parameter Store and DynamoDB through boto3: secrets left out or hidden,
  DynamoDB's item calls as data events delivered to a trail that selects them;
- an upstream that hangs up, stalls or answers garbage: AWS's ServiceUnavailable in bounded
  time, and a record saying so."""

import gzip
import json
import socket
import subprocess
import threading
import time
import uuid

import boto3
import botocore.config
import pytest

from alerting import client_as, setup, user_env
from conftest import CAIRN, REAL_DATA, Cairn, documented_policy, free_port, lookup_all
from test_external import start_moto, stop


@pytest.fixture(scope="module")
def moto(workdir):
    port = free_port()
    log = open(workdir / "gateway-moto.log", "ab")
    p, _ = start_moto(port, log)
    yield f"http://127.0.0.1:{port}"
    stop(p)


@pytest.fixture(scope="module")
def gw(workdir, moto):
    c = Cairn(workdir / "gateway", ["--upstream", moto, "--delivery-interval", "1", "--test-clock"])
    c.start()
    yield c
    c.stop()


def direct(moto, service):
    """A client of moto itself, bypassing cairn: what the upstream holds."""
    return boto3.client(service, endpoint_url=moto, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test")


def records(c, **lookup):
    return [json.loads(e["CloudTrailEvent"]) for e in lookup_all(c.client("cloudtrail"), **lookup)]


def record_of(c, name, **match):
    """The newest record of `name` whose top-level fields hold `match`."""
    for r in records(c, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}]):
        if all(r.get(k) == v for k, v in match.items()):
            return r
    raise AssertionError(f"no {name} record with {match}")


def real_records(source, name):
    with gzip.open(REAL_DATA / "records.jsonl.gz", "rt") as f:
        for line in f:
            r = json.loads(line)
            if r.get("eventSource") == source and r.get("eventName") == name:
                yield r


def shape(v):
    """The keys of a value, all the way down (values left out): what two records of the same call
    must share."""
    if isinstance(v, dict):
        return {k: shape(x) for k, x in v.items()}
    if isinstance(v, list):
        return [shape(x) for x in v[:1]]
    return type(v).__name__


def test_ec2_security_groups_through_the_cli_recorded_as_aws_does(gw, moto):
    admin = user_env(gw, "net-admin", "ec2:*")
    a = {"env_overrides": admin}
    _, sg, _ = gw.aws("ec2", "create-security-group", "--group-name", "web", "--description", "web servers", **a)
    gid = sg["GroupId"]
    _, out, _ = gw.aws("ec2", "authorize-security-group-ingress", "--group-id", gid, "--ip-permissions",
                       "IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=0.0.0.0/0}]", **a)
    assert out["Return"] is True
    # moto holds the rule: the call went through.
    [held] = direct(moto, "ec2").describe_security_groups(GroupIds=[gid])["SecurityGroups"]
    assert held["IpPermissions"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    gw.aws("ec2", "describe-security-groups", "--group-ids", gid, **a)

    user_arn = f"arn:aws:iam::{gw.env()['CAIRN_ACCOUNT_ID']}:user/net-admin"
    r = record_of(gw, "AuthorizeSecurityGroupIngress")
    assert r["eventSource"] == "ec2.amazonaws.com" and r["eventType"] == "AwsApiCall"
    assert r["userIdentity"]["type"] == "IAMUser" and r["userIdentity"]["arn"] == user_arn
    assert r["userIdentity"]["accessKeyId"] == admin["AWS_ACCESS_KEY_ID"]
    assert r["readOnly"] is False and r["managementEvent"] is True and r["eventCategory"] == "Management"
    assert r["requestParameters"] == {"groupId": gid, "ipPermissions": {"items": [{
        "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "groups": {}, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
        "ipv6Ranges": {}, "prefixListIds": {}}]}}
    assert r["responseElements"]["_return"] is True
    # The answer the client saw and the record carry one request id.
    assert r["responseElements"]["requestId"] == r["requestID"]
    # Key for key what AWS wrote for the same call (the real record of 2026 in the corpus).
    real = [x for x in real_records("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress")
            if "groupId" in x["requestParameters"] and x["requestParameters"].get("ipPermissions", {}).get("items")]
    assert any(shape(x["requestParameters"]) == shape(r["requestParameters"]) for x in real)
    real_rule = [x["responseElements"]["securityGroupRuleSet"]["items"][0] for x in real
                 if "securityGroupRuleSet" in (x.get("responseElements") or {})]
    ours = r["responseElements"]["securityGroupRuleSet"]["items"][0]
    assert set(real_rule[0]) - {"groupOwnerId", "securityGroupRuleArn"} <= set(ours)

    created = record_of(gw, "CreateSecurityGroup")
    assert created["requestParameters"] == {"groupDescription": "web servers", "groupName": "web"}
    assert created["responseElements"]["groupId"] == gid
    real_create = next(real_records("ec2.amazonaws.com", "CreateSecurityGroup"))
    assert set(created["requestParameters"]) <= set(real_create["requestParameters"])

    described = record_of(gw, "DescribeSecurityGroups")
    assert described["readOnly"] is True and described["responseElements"] is None
    assert described["requestParameters"] == {"securityGroupIdSet": {"items": [{"groupId": gid}]},
                                              "securityGroupSet": {}, "filterSet": {}}
    real_describe = [x["requestParameters"] for x in real_records("ec2.amazonaws.com", "DescribeSecurityGroups")]
    assert any(set(x) == set(described["requestParameters"]) for x in real_describe)

    # An upstream error is the client's answer and the record's errorCode, EC2-style.
    rc, _, err = gw.aws("ec2", "delete-security-group", "--group-id", "sg-0000000000nope", check=False, **a)
    assert rc != 0 and "InvalidGroup.NotFound" in err
    failed = record_of(gw, "DeleteSecurityGroup")
    assert failed["errorCode"] == "Client.InvalidGroup.NotFound" and "sg-0000000000nope" in failed["errorMessage"]
    assert "responseElements" not in failed or failed["responseElements"] is None


def test_a_user_without_ec2_permissions_is_refused_before_the_upstream(gw, moto):
    nobody = user_env(gw, "no-ec2", "sts:GetCallerIdentity")
    rc, _, err = gw.aws("ec2", "create-security-group", "--group-name", "sneaky", "--description", "x",
                        env_overrides=nobody, check=False)
    assert rc != 0
    assert "UnauthorizedOperation" in err and "ec2:CreateSecurityGroup" in err
    # moto never saw it.
    groups = direct(moto, "ec2").describe_security_groups()["SecurityGroups"]
    assert "sneaky" not in [g["GroupName"] for g in groups]
    r = record_of(gw, "CreateSecurityGroup", errorCode="Client.UnauthorizedOperation")
    assert r["userIdentity"]["arn"].endswith(":user/no-ec2")
    assert r["errorMessage"].startswith("You are not authorized to perform this operation. User: ")
    assert r["requestParameters"] == {"groupDescription": "x", "groupName": "sneaky"}
    # boto3 reads EC2's error shape.
    ec2 = client_as(gw, nobody, "ec2")
    with pytest.raises(ec2.exceptions.ClientError) as e:
        ec2.describe_vpcs()
    assert e.value.response["Error"]["Code"] == "UnauthorizedOperation"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_the_cis_security_group_alarm_fires_on_forwarded_ec2_calls(gw):
    admin = user_env(gw, "cis-net", "*")
    a = {"env_overrides": admin}
    account, group_arn, role_arn = setup(gw, "gw-cis", env_overrides=admin)
    gw.aws("cloudtrail", "update-trail", "--name", "gw-cis", "--cloud-watch-logs-log-group-arn", group_arn,
           "--cloud-watch-logs-role-arn", role_arn, **a)
    topic = gw.aws("sns", "create-topic", "--name", "gw-cis", **a)[1]["TopicArn"]
    p = subprocess.run([str(CAIRN), "recipes", "cis-alarms", "--data-dir", str(gw.data_dir), *gw.cli_args(),
                        "--log-group", "gw-cis", "--topic", topic], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    cw = client_as(gw, admin, "cloudwatch")

    def state(name):
        [alarm] = [x for x in cw.describe_alarms(AlarmNamePrefix=f"CIS-{name}-")["MetricAlarms"]]
        return alarm["StateValue"]

    gw.advance(20)
    assert state("4.10") != "ALARM"
    # A read is a near miss; the change is not.
    gw.aws("ec2", "describe-security-groups", **a)
    gw.aws("ec2", "create-vpc", "--cidr-block", "10.9.0.0/16", **a)
    _, sg, _ = gw.aws("ec2", "create-security-group", "--group-name", "cis-web", "--description", "x", **a)
    gw.aws("ec2", "authorize-security-group-ingress", "--group-id", sg["GroupId"], "--protocol", "tcp", "--port", "3389",
           "--cidr", "0.0.0.0/0", **a)
    # 4.9: AWS Config's recorder changed (Config answered by the upstream too).
    gw.aws("configservice", "put-configuration-recorder", "--configuration-recorder",
           f"name=default,roleARN=arn:aws:iam::{account}:role/config", **a)
    gw.advance_until(lambda: state("4.10") == "ALARM", step=20, limit=600)
    # 4.14 (VPC changes) and 4.9 fired too; the NACL and route table alarms did not.
    assert state("4.14") == "ALARM" and state("4.9") == "ALARM"
    assert state("4.11") != "ALARM" and state("4.13") != "ALARM"


def test_secrets_parameters_and_tables_through_boto3(gw, moto):
    sm = gw.client("secretsmanager")
    arn = sm.create_secret(Name="db-password", SecretString="hunter2")["ARN"]
    assert sm.get_secret_value(SecretId="db-password")["SecretString"] == "hunter2"
    ssm = gw.client("ssm")
    ssm.put_parameter(Name="/app/db-host", Value="10.0.0.5", Type="SecureString")
    assert ssm.get_parameter(Name="/app/db-host", WithDecryption=True)["Parameter"]["Value"] == "10.0.0.5"
    assert direct(moto, "ssm").get_parameter(Name="/app/db-host", WithDecryption=True)["Parameter"]["Value"] == "10.0.0.5"

    created = record_of(gw, "CreateSecret")
    assert created["eventSource"] == "secretsmanager.amazonaws.com"
    # The secret itself is never recorded.
    assert "hunter2" not in json.dumps(created)
    assert created["requestParameters"]["name"] == "db-password"
    assert created["responseElements"]["arn"] == arn
    got = record_of(gw, "GetSecretValue")
    assert got["requestParameters"] == {"secretId": "db-password"} and got["readOnly"] is True
    assert got.get("responseElements") is None
    real_get = next(real_records("secretsmanager.amazonaws.com", "GetSecretValue"))
    assert set(got["requestParameters"]) == set(real_get["requestParameters"])
    put = record_of(gw, "PutParameter")
    assert put["requestParameters"] == {"name": "/app/db-host", "value": "HIDDEN_DUE_TO_SECURITY_REASONS",
                                        "type": "SecureString"}
    param = record_of(gw, "GetParameter")
    assert param["requestParameters"] == {"name": "/app/db-host", "withDecryption": True}
    real_param = next(real_records("ssm.amazonaws.com", "GetParameter"))
    assert set(real_param["requestParameters"]) <= set(param["requestParameters"])

    # DynamoDB: a trail selecting the table's item calls gets them as data events.
    account = gw.env()["CAIRN_ACCOUNT_ID"]
    bucket = f"gw-data-{uuid.uuid4().hex[:8]}"
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{account}:trail/gw-data"
    s3 = gw.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=documented_policy(bucket, account, None, trail_arn))
    ct = gw.client("cloudtrail")
    ct.create_trail(Name="gw-data", S3BucketName=bucket)
    table_arn = f"arn:aws:dynamodb:us-east-1:{account}:table/orders"
    ct.put_event_selectors(TrailName="gw-data", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": False,
        "DataResources": [{"Type": "AWS::DynamoDB::Table", "Values": [table_arn]}]}])
    ct.start_logging(Name="gw-data")
    ddb = gw.client("dynamodb")
    ddb.create_table(TableName="orders", AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    ddb.put_item(TableName="orders", Item={"id": {"S": "o-1"}, "total": {"N": "12"}})
    assert ddb.get_item(TableName="orders", Key={"id": {"S": "o-1"}})["Item"]["total"] == {"N": "12"}
    table = record_of(gw, "CreateTable")
    assert table["requestParameters"]["tableName"] == "orders"
    assert table["responseElements"]["tableDescription"]["tableName"] == "orders"
    assert table["resources"] == [{"accountId": account, "type": "AWS::DynamoDB::Table", "ARN": table_arn}]
    real_table = next(real_records("dynamodb.amazonaws.com", "CreateTable"))
    assert set(table["requestParameters"]) <= set(real_table["requestParameters"])
    # Event history holds management events only.
    assert not records(gw, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "PutItem"}])

    def delivered():
        out = []
        for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
            out.extend(json.loads(gzip.decompress(body))["Records"])
        return out

    recs = gw.advance_until(lambda: (d := delivered()) and {"PutItem", "GetItem"} <= {r["eventName"] for r in d} and d,
                            step=2, limit=120)
    names = sorted(r["eventName"] for r in recs)
    assert names == ["GetItem", "PutItem"], names
    put_item = next(r for r in recs if r["eventName"] == "PutItem")
    assert put_item["managementEvent"] is False and put_item["eventCategory"] == "Data"
    assert put_item["readOnly"] is False
    assert put_item["resources"] == [{"accountId": account, "type": "AWS::DynamoDB::Table", "ARN": table_arn}]
    assert next(r for r in recs if r["eventName"] == "GetItem")["readOnly"] is True


def test_query_and_json_1_0_services_through_the_cli(gw):
    """Auto Scaling (query protocol) and Step Functions (JSON 1.0): routed by their models,
    recorded in lower camel case, query answers as responseElements."""
    # The CLI v1 sends Auto Scaling to its AWS endpoint unless told (as for SQS).
    e = ["--endpoint-url", gw.endpoint]
    gw.aws("autoscaling", "create-launch-configuration", "--launch-configuration-name", "lc-web", "--image-id",
           "ami-12345678", "--instance-type", "t2.micro", *e)
    _, out, _ = gw.aws("autoscaling", "describe-launch-configurations", "--launch-configuration-names", "lc-web", *e)
    assert [x["LaunchConfigurationName"] for x in out["LaunchConfigurations"]] == ["lc-web"]
    r = record_of(gw, "CreateLaunchConfiguration")
    assert r["eventSource"] == "autoscaling.amazonaws.com"
    assert r["requestParameters"] == {"launchConfigurationName": "lc-web", "imageId": "ami-12345678",
                                      "instanceType": "t2.micro"}
    d = record_of(gw, "DescribeLaunchConfigurations")
    assert d["requestParameters"] == {"launchConfigurationNames": ["lc-web"]} and d["readOnly"] is True
    _, out, _ = gw.aws("stepfunctions", "list-state-machines")
    assert out["stateMachines"] == []
    sf = record_of(gw, "ListStateMachines")
    assert sf["eventSource"] == "states.amazonaws.com" and sf["readOnly"] is True


def test_rest_services_through_the_cli(gw, moto):
    """API Gateway (REST-JSON) and Route 53 (REST-XML): routed by method and URI template,
    parameters read from the URI, query string, headers and body, answers passed on, records in
    AWS's shape (Route 53's compared key for key with records AWS wrote)."""
    e = ["--endpoint-url", gw.endpoint]
    _, api, _ = gw.aws("apigateway", "create-rest-api", "--name", "pets", "--description", "a pet store", *e)
    assert direct(moto, "apigateway").get_rest_api(restApiId=api["id"])["name"] == "pets"
    _, got, _ = gw.aws("apigateway", "get-rest-api", "--rest-api-id", api["id"], *e)
    assert got["name"] == "pets"
    _, listed, _ = gw.aws("apigateway", "get-rest-apis", "--limit", "10", *e)
    assert api["id"] in [a["id"] for a in listed["items"]]
    created = record_of(gw, "CreateRestApi")
    assert created["eventSource"] == "apigateway.amazonaws.com" and created["readOnly"] is False
    assert created["requestParameters"] == {"name": "pets", "description": "a pet store"}
    assert created["responseElements"]["id"] == api["id"]
    assert created["userIdentity"]["type"] == "Root"
    assert record_of(gw, "GetRestApi")["requestParameters"] == {"restApiId": api["id"]}
    assert record_of(gw, "GetRestApis")["requestParameters"] == {"limit": 10}
    rc, _, err = gw.aws("apigateway", "get-rest-api", "--rest-api-id", "nosuchapi", *e, check=False)
    assert rc != 0 and "NotFoundException" in err
    assert record_of(gw, "GetRestApi", errorCode="NotFoundException")

    _, zone, _ = gw.aws("route53", "create-hosted-zone", "--name", "example.com", "--caller-reference", "ref-1", *e)
    zone_id = zone["HostedZone"]["Id"].split("/")[-1]
    batch = {"Comment": "web", "Changes": [{"Action": "CREATE", "ResourceRecordSet": {
        "Name": "www.example.com.", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "192.0.2.10"}]}}]}
    gw.aws("route53", "change-resource-record-sets", "--hosted-zone-id", zone_id, "--change-batch", json.dumps(batch), *e)
    _, sets, _ = gw.aws("route53", "list-resource-record-sets", "--hosted-zone-id", zone_id, *e)
    assert "www.example.com." in [r["Name"] for r in sets["ResourceRecordSets"]]
    change = record_of(gw, "ChangeResourceRecordSets")
    assert change["eventSource"] == "route53.amazonaws.com"
    assert change["requestParameters"] == {"hostedZoneId": zone_id, "changeBatch": {"comment": "web", "changes": [
        {"action": "CREATE", "resourceRecordSet": {"name": "www.example.com.", "type": "A", "tTL": 300,
                                                   "resourceRecords": [{"value": "192.0.2.10"}]}}]}}
    [real] = list(real_records("route53.amazonaws.com", "ChangeResourceRecordSets"))[:1]
    assert shape(change["requestParameters"]) == shape(real["requestParameters"])
    made = record_of(gw, "CreateHostedZone")
    assert made["requestParameters"]["name"] == "example.com" and made["requestParameters"]["callerReference"] == "ref-1"
    assert made["responseElements"]["hostedZone"]["id"] == zone["HostedZone"]["Id"]


def openapi(title, paths, pad):
    """An OpenAPI 3 document with `paths` resources, each described at `pad` characters."""
    doc = {"openapi": "3.0.1", "info": {"title": title, "description": "imported", "version": "1"},
           "paths": {f"/items{i}": {"get": {"description": "x" * pad, "responses": {"200": {"description": "ok"}}}}
                     for i in range(paths)}}
    return json.dumps(doc).encode()


def signed_import(c, body, sent=None, env=None):
    """An ImportRestApi request signed (SigV4, botocore's signer) over `body`: its URL and headers,
    and the body to send (`sent`, another body of the same length, makes the signature a lie)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    e = env or c.env(None)
    url = f"{c.endpoint}/restapis?mode=import"
    req = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"]), "apigateway", "us-east-1").add_auth(req)
    headers = dict(req.headers.items())
    headers["Content-Length"] = str(len(body))
    return url, headers, sent if sent is not None else body


def post(url, headers, body):
    import http.client
    import urllib.parse
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request("POST", f"{u.path}?{u.query}", body=body, headers=headers)
    r = conn.getresponse()
    out = (r.status, r.read())
    conn.close()
    return out


def api_names(moto):
    return [a["name"] for a in direct(moto, "apigateway").get_rest_apis(limit=500)["items"]]


def test_a_large_import_streams_to_the_upstream_and_its_signature_is_checked_at_its_end(gw, moto, tmp_path):
    """A REST call whose body is one blob (ImportRestApi's API definition) flows to the upstream
    as it arrives instead of being read whole first: a 3 MiB definition passes although cairn reads
    at most 1 MiB of any other API call's body. Its signature covers the body, so it is checked at
    the body's end, before the last bytes go on: a body that is not the one signed, or that stops
    halfway, never reaches the upstream whole, is refused, and is recorded as nobody's call."""
    e = ["--endpoint-url", gw.endpoint]
    spec = openapi("big-import", 300, 11_000)
    assert len(spec) > 3 * 1024 * 1024
    path = tmp_path / "big-spec.json"
    path.write_bytes(spec)
    _, api, _ = gw.aws("apigateway", "import-rest-api", "--body", f"fileb://{path}", *e)
    assert api["name"] == "big-import"
    # moto read the whole definition: one resource per path, and the root.
    resources = direct(moto, "apigateway").get_resources(restApiId=api["id"], limit=500)["items"]
    assert len(resources) == 301
    made = record_of(gw, "ImportRestApi")
    assert made["userIdentity"]["type"] == "Root" and "errorCode" not in made
    assert made["responseElements"]["id"] == api["id"]
    # The same through boto3, by an IAM user.
    user = user_env(gw, "importer", "apigateway:*")
    got = client_as(gw, user, "apigateway").import_rest_api(body=openapi("by-boto3", 50, 40_000))
    assert got["name"] == "by-boto3"
    imported = [r for r in records(gw, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ImportRestApi"}])]
    assert any(r["userIdentity"].get("userName") == "importer" and r["responseElements"]["id"] == got["id"]
               for r in imported)

    # A body that is not the one signed: refused with the protocol's signature error, the upstream never takes it,
    # and there is no record of it.
    before = len(imported)
    honest = openapi("honest", 200, 10_000)
    lie = openapi("forged", 200, 10_000)
    assert len(honest) == len(lie)
    status, answer = post(*signed_import(gw, honest, sent=lie))
    assert status == 400 and b"InvalidSignatureException" in answer, answer[:300]
    status, answer = post(*signed_import(gw, honest))
    assert status in (200, 201), answer[:300]
    names = api_names(moto)
    assert "honest" in names and "forged" not in names
    now = records(gw, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ImportRestApi"}])
    assert len(now) == before + 1

    # A body that stops halfway (the client goes away): nothing reaches the upstream whole and
    # nothing is recorded; the server goes on serving.
    half = openapi("half", 200, 10_000)
    url, headers, body = signed_import(gw, half)
    host, port = gw.endpoint.split("//")[1].split(":")
    s = socket.create_connection((host, int(port)))
    head = "POST /restapis?mode=import HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    s.sendall(head.encode() + body[: len(body) // 2])
    time.sleep(0.5)
    s.close()
    status, _ = post(*signed_import(gw, openapi("after", 1, 10)))
    assert status in (200, 201)
    names = api_names(moto)
    assert "half" not in names and "after" in names
    now = records(gw, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ImportRestApi"}])
    assert len(now) == before + 2

    # A user without API Gateway permissions is refused before the upstream, and recorded once
    # the body proves the request theirs; with a forged body, refused for the signature instead.
    nobody = user_env(gw, "no-apigw", "sts:GetCallerIdentity")
    status, answer = post(*signed_import(gw, openapi("denied", 10, 100), env=nobody))
    assert status == 403 and b"AccessDenied" in answer, answer[:300]
    status, answer = post(*signed_import(gw, honest, sent=lie, env=nobody))
    assert status == 400 and b"InvalidSignatureException" in answer, answer[:300]
    assert "denied" not in api_names(moto)
    refused = [r for r in records(gw, LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "no-apigw"}])
               if r["eventName"] == "ImportRestApi"]
    assert len(refused) == 1 and refused[0]["errorCode"] == "AccessDenied"


class BadUpstream:
    """A server on 127.0.0.1 that misbehaves as told: hangs up after reading a request, stalls,
    or answers garbage."""

    def __init__(self):
        self.mode = "hangup"
        self.seen = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.closed = False
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn):
        with conn:
            conn.settimeout(10)
            try:
                conn.recv(65536)
            except OSError:
                return
            self.seen += 1
            if self.mode == "stall":
                time.sleep(6)
            elif self.mode == "garbage":
                conn.sendall(b"\x00\x01 this is not HTTP \r\n\r\n")
            elif self.mode == "not-json":
                body = b"<html>proxy error</html>"
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    def close(self):
        self.closed = True
        self.sock.close()


def test_an_upstream_that_fails_is_service_unavailable_in_bounded_time(new_cairn, tmp_path):
    bad = BadUpstream()
    conf = tmp_path / "cairn.toml"
    conf.write_text(f'[[upstream]]\nurl = "{bad.url}"\nservices = ["secretsmanager"]\ntimeout = "2s"\n')
    try:
        c = new_cairn(["--config", str(conf)])
        # One attempt per call (botocore's `max_attempts` counts retries only).
        sm = c.client("secretsmanager", config=botocore.config.Config(retries={"total_max_attempts": 1}))
        for mode in ["hangup", "stall", "garbage", "not-json"]:
            bad.mode = mode
            before = bad.seen
            t0 = time.time()
            with pytest.raises(sm.exceptions.ClientError) as e:
                sm.list_secrets()
            took = time.time() - t0
            assert e.value.response["Error"]["Code"] == "ServiceUnavailable", mode
            assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
            assert took < 8, (mode, took)
            assert bad.seen == before + 1, mode
        failed = [r for r in records(c, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ListSecrets"}])]
        assert len(failed) == 4
        assert {r["errorCode"] for r in failed} == {"ServiceUnavailable"}
        assert all(bad.url in r["errorMessage"] for r in failed)
        # An upstream nobody listens on: refused at once.
        bad.close()
        with pytest.raises(sm.exceptions.ClientError) as e:
            sm.list_secrets()
        assert e.value.response["Error"]["Code"] == "ServiceUnavailable"
    finally:
        bad.close()


def test_a_native_service_cannot_be_forwarded(new_cairn, tmp_path):
    c = new_cairn(["--upstream", "s3=http://127.0.0.1:9"], start=False)
    with pytest.raises(RuntimeError):
        c.start()
    log = open(c.log.name).read()
    assert "cairn implements 's3' itself" in log
