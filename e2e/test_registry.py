"""The registry against botocore's service models, the source of truth for each API.

`cairn operations --json` lists every operation of every service cairn serves. For the JSON and
query services the table holds the whole API, served or not, so that an operation cairn does not
have answers the service's own "not supported" error; S3's table holds the operations it routes.
"""

import json
import subprocess

import botocore.session

from conftest import CAIRN

SIGNING = {"cloudtrail": "cloudtrail", "s3": "s3", "kms": "kms", "logs": "logs", "monitoring": "cloudwatch",
           "iam": "iam", "sts": "sts", "sqs": "sqs", "sns": "sns", "lambda": "lambda",
           "events": "events", "cloudtrail-data": "cloudtrail-data", "organizations": "organizations"}
"""Signing name -> botocore service name (CloudWatch signs as `monitoring`)."""
IAM_PREFIX = {"monitoring": "cloudwatch"}


def table():
    out = subprocess.run([str(CAIRN), "operations", "--json"], check=True, capture_output=True, text=True)
    rows = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
    by = {}
    for r in rows:
        by.setdefault(r["service"], {})[r["operation"]] = r
    return by


def model_operations(service):
    model = botocore.session.get_session().get_service_model(service)
    return set(model.operation_names), model


def test_tables_hold_every_operation_of_each_api():
    t = table()
    assert set(t) == set(SIGNING)
    for service in ("cloudtrail", "kms", "logs", "monitoring", "iam", "sts", "sqs", "sns", "lambda", "events",
                    "cloudtrail-data", "organizations"):
        ops, model = model_operations(SIGNING[service])
        assert set(t[service]) == ops, f"{service}: table and botocore model differ"
        assert model.signing_name == service
    # S3 routes ListObjectsV2 as ListObjects (CloudTrail's name for both). Browser form uploads
    # (POST Object) are in S3's API but in no SDK's model; the account's public access block is
    # S3 Control's PutPublicAccessBlock (…), served by S3 under CloudTrail's names.
    ops, _ = model_operations("s3")
    control = {n for n in t["s3"] if n.endswith("AccountPublicAccessBlock")}
    assert set(t["s3"]) - {"PostObject"} - control <= ops
    control_ops, _ = model_operations("s3control")
    assert {n.replace("Account", "") for n in control} <= control_ops and len(control) == 3


def test_every_row_names_its_actions_category_and_who_decides():
    for service, ops in table().items():
        for name, r in ops.items():
            assert r["eventSource"] == f"{service}.amazonaws.com"
            assert r["category"] in ("Management", "Data")
            if r["access"] != "open":
                assert r["actions"], f"{service}:{name} lists no IAM action"
            for a in r["actions"]:
                # iam:PassRole is the one dependent action: giving a role to the service.
                assert a.startswith(f"{IAM_PREFIX.get(service, service)}:") or a == "iam:PassRole", a
    t = table()
    assert t["s3"]["GetObject"]["category"] == "Data"
    assert t["s3"]["CreateBucket"]["category"] == "Management"
    assert t["s3"]["CopyObject"]["actions"] == ["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObjectTagging",
                                                "s3:PutObjectRetention", "s3:PutObjectLegalHold"]
    assert t["kms"]["Decrypt"]["access"] == "key policy"
    assert t["sts"]["AssumeRole"]["access"] == "trust policy"
    assert t["sts"]["GetCallerIdentity"]["actions"] == []
    assert t["iam"]["CreateUser"]["readOnly"] is False
    assert t["sqs"]["SendMessage"]["category"] == "Data"
    assert t["sqs"]["SendMessageBatch"]["actions"] == ["sqs:SendMessage"]
    assert t["sqs"]["CreateQueue"]["category"] == "Management"
    assert t["sns"]["Publish"]["category"] == "Data"
    assert t["sns"]["Publish"]["access"] == "identity + resource policy"
    assert t["cloudtrail"]["LookupEvents"]["readOnly"] is True
    assert t["cloudtrail-data"]["PutAuditEvents"]["category"] == "Data"
    assert t["cloudtrail-data"]["PutAuditEvents"]["access"] == "identity + resource policy"
    assert t["lambda"]["CreateFunction"]["actions"] == ["lambda:CreateFunction", "iam:PassRole"]


def test_served_operations_answer_and_unserved_ones_say_so(cairn):
    """Spot checks through the real CLI: a served operation answers; an unserved one answers the
    service's own error naming itself, and is recorded."""
    t = table()
    assert t["cloudtrail"]["ListTrails"]["served"]
    cairn.aws("cloudtrail", "list-trails")
    assert not t["cloudtrail"]["ListDashboards"]["served"]
    code, _, err = cairn.aws("cloudtrail", "list-dashboards", check=False)
    assert code != 0
    assert "UnsupportedOperationException" in err and "ListDashboards" in err
    assert not t["iam"]["ListSAMLProviders"]["served"]
    code, _, err = cairn.aws("iam", "list-saml-providers", check=False)
    assert code != 0 and "NotImplemented" in err
