"""Best-practice checks (`cairn checks`): AWS Security Hub's CIS controls for the root user's MFA,
CloudTrail, CloudWatch and KMS, judged through cairn's public APIs. A learner's fresh account
fails them with a reason and a fix each; the same account set up as the CIS benchmark asks, with
the AWS CLI (multi-Region trail, log file validation, a KMS key, CloudWatch Logs, the fourteen
metric filters and alarms from `cairn recipes cis-alarms`, a confirmed subscriber) and the
console (the root user's virtual MFA device), passes every one cairn can judge."""

import json
import subprocess
import time

from alerting import TRUST, permissions
from conftest import CAIRN, documented_policy, wait_for
from root_mfa import assign_root_mfa, set_root_password
from test_console import ROOT_PASSWORD, browser, check_axe, shot, sign_in  # noqa: F401 (browser: a fixture)
from test_internal_calls import trail_key_policy


def checks(c):
    p = subprocess.run([str(CAIRN), "checks", "--data-dir", str(c.data_dir), "--output", "json"],
                       capture_output=True, text=True, timeout=120)
    controls = {o["control"]: o for o in (json.loads(line) for line in p.stdout.splitlines() if line.strip())}
    return p.returncode, controls


def test_a_fresh_account_fails_and_a_cis_set_up_passes(new_cairn):
    c = new_cairn()
    code, fresh = checks(c)
    assert code == 1 and len(fresh) == 22
    assert (fresh["IAM.9"]["status"], fresh["IAM.9"]["cis"]) == ("FAILED", "1.5")
    assert fresh["IAM.9"]["reason"] == "The root user has no MFA device."
    assert fresh["CloudTrail.1"]["status"] == "FAILED"
    assert fresh["CloudTrail.1"]["reason"] == "The account has no trail."
    assert fresh["CloudTrail.1"]["fix"].startswith("aws cloudtrail create-trail")
    assert fresh["CloudWatch.1"]["status"] == "FAILED" and fresh["CloudWatch.1"]["cis"] == "4.3"
    table = subprocess.run([str(CAIRN), "checks", "--data-dir", str(c.data_dir)], capture_output=True, text=True, timeout=120)
    assert table.returncode == 1 and "CloudTrail.1 (FAILED): The account has no trail." in table.stdout
    assert "0 passed" not in table.stderr and "failed" in table.stderr

    account = c.env()["CAIRN_ACCOUNT_ID"]
    name, bucket = "main", "cis-trail-logs"
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{account}:trail/{name}"
    c.aws("s3", "mb", f"s3://{bucket}")
    c.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", documented_policy(bucket, account, None, trail_arn))
    # A single-Region trail first: CloudTrail.1 names what is missing.
    c.aws("cloudtrail", "create-trail", "--name", name, "--s3-bucket-name", bucket)
    c.aws("cloudtrail", "start-logging", "--name", name)
    _, partial = checks(c)
    assert partial["CloudTrail.1"]["reason"] == "No trail qualifies: main is single-Region."
    assert partial["CloudTrail.4"]["reason"] == "Log file validation is off for: main."
    assert partial["CloudTrail.6"]["status"] == "PASSED"

    # The benchmark's set-up, with the AWS CLI.
    _, key, _ = c.aws("kms", "create-key", "--policy", trail_key_policy(account, trail_arn))
    key_id = key["KeyMetadata"]["KeyId"]
    c.aws("logs", "create-log-group", "--log-group-name", "cis")
    _, role, _ = c.aws("iam", "create-role", "--role-name", "ct-cwl", "--assume-role-policy-document", TRUST)
    c.aws("iam", "put-role-policy", "--role-name", "ct-cwl", "--policy-name", "cwl", "--policy-document", permissions(account, "cis"))
    c.aws("cloudtrail", "update-trail", "--name", name, "--is-multi-region-trail", "--enable-log-file-validation",
          "--kms-key-id", key_id, "--cloud-watch-logs-log-group-arn", f"arn:aws:logs:us-east-1:{account}:log-group:cis:*",
          "--cloud-watch-logs-role-arn", role["Role"]["Arn"])
    _, topic, _ = c.aws("sns", "create-topic", "--name", "cis-alerts")
    recipe = subprocess.run([str(CAIRN), "recipes", "cis-alarms", "--data-dir", str(c.data_dir), "--log-group", "cis",
                             "--topic", topic["TopicArn"]], capture_output=True, text=True, timeout=120)
    assert recipe.returncode == 0, recipe.stderr
    _, unsubscribed = checks(c)
    assert unsubscribed["CloudWatch.1"]["reason"] == \
        "No alarm on the filter's metric notifies an SNS topic with a confirmed subscription."
    _, q, _ = c.aws("sqs", "create-queue", "--queue-name", "cis-inbox", "--endpoint-url", c.endpoint)
    queue_arn = f"arn:aws:sqs:us-east-1:{account}:cis-inbox"
    c.aws("sns", "subscribe", "--topic-arn", topic["TopicArn"], "--protocol", "sqs", "--notification-endpoint", queue_arn)
    # The trail delivers to CloudWatch Logs once calls are made.
    c.aws("iam", "list-users")

    # CloudTrail.7: the trail bucket's access logging, off until it is turned on.
    _, unlogged = checks(c)
    assert unlogged["CloudTrail.7"]["status"] == "FAILED"
    assert unlogged["CloudTrail.7"]["reason"] == f"Server access logging is off for {bucket}."
    c.aws("s3", "mb", "s3://cis-access-logs")
    c.aws("s3api", "put-bucket-policy", "--bucket", "cis-access-logs", "--policy", json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                                                "Action": "s3:PutObject", "Resource": "arn:aws:s3:::cis-access-logs/*"}]}))
    c.aws("s3api", "put-bucket-logging", "--bucket", bucket, "--bucket-logging-status", json.dumps(
        {"LoggingEnabled": {"TargetBucket": "cis-access-logs", "TargetPrefix": f"{bucket}/"}}))

    # IAM.9: the root user's MFA device, assigned from the console as in AWS.
    set_root_password(c)
    assign_root_mfa(c.endpoint, account, "root-account-mfa-device", time.time())

    def passing():
        code, now = checks(c)
        return now["CloudTrail.5"]["status"] == "PASSED" and (code, now)
    code, done = wait_for(passing, timeout=60, every=1)
    not_passed = {k: (o["status"], o["reason"]) for k, o in done.items() if o["status"] != "PASSED"}
    # Key rotation is not in cairn yet: said so, not failed.
    assert done["CloudTrail.7"]["reason"] == "Every trail bucket logs its accesses."
    assert done["IAM.9"]["reason"] == "The root user has an MFA device."
    assert not_passed == {
        "KMS.4": ("NOT_AVAILABLE", "The rotation status of a key could not be read "
                                   "(cairn's KMS does not serve GetKeyRotationStatus yet)."),
    }
    assert code == 0
    assert done["CloudWatch.1"]["reason"].startswith("Alarm ") and done["CloudTrail.1"]["reason"] == \
        "Trail main is multi-Region, logging, and logs every management event."

    # A public statement in the trail bucket's policy fails CloudTrail.6.
    public = json.loads(documented_policy(bucket, account, None, trail_arn))
    public["Statement"].append({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"})
    # S3 refuses a public policy while the bucket blocks public access (every new bucket does).
    code, _, err = c.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", json.dumps(public), check=False)
    assert code != 0 and "BlockPublicPolicy" in err
    c.aws("s3api", "delete-public-access-block", "--bucket", bucket)
    c.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", json.dumps(public))
    code, exposed = checks(c)
    assert code == 1 and exposed["CloudTrail.6"]["status"] == "FAILED"
    assert exposed["CloudTrail.6"]["reason"] == f"A policy or ACL lets everyone in to {bucket}."


def test_the_console_shows_findings_and_checks(new_cairn, browser):  # noqa: F811 (browser: a fixture)
    """The console's Security pages in headless Chromium: the findings of the account's calls,
    newest first, linking to their events; the checks with their reasons and fixes. Both pass
    axe-core; screenshots under target/test-artifacts/console/."""
    c = new_cairn()
    subprocess.run([str(CAIRN), "accounts", "set-password", "--data-dir", str(c.data_dir),
                    "--password", ROOT_PASSWORD], check=True, capture_output=True)
    account = c.env()["CAIRN_ACCOUNT_ID"]
    bucket = "console-trail"
    c.aws("s3", "mb", f"s3://{bucket}")
    c.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", documented_policy(bucket, account))
    c.aws("cloudtrail", "create-trail", "--name", "console-trail", "--s3-bucket-name", bucket)
    c.aws("cloudtrail", "stop-logging", "--name", "console-trail")
    wait_for(lambda: "CloudTrail logging stopped" in subprocess.run(
        [str(CAIRN), "findings", "--data-dir", str(c.data_dir)], capture_output=True, text=True).stdout)

    ctx = browser.new_context(bypass_csp=True)
    page = ctx.new_page()
    sign_in(page, c, account, "", ROOT_PASSWORD)
    page.click("nav >> text=Findings")
    rows = page.inner_text("#findings")
    assert "CloudTrail logging stopped" in rows and "cloudtrail:StopLogging" in rows and "cairn-techniques" in rows
    # Newest first: the stop's findings above the bucket's.
    assert rows.index("StopLogging") < rows.index("s3:CreateBucket")
    check_axe(page, "findings")
    shot(page, "findings")
    page.click("#findings >> text=cloudtrail:StopLogging >> nth=0")
    assert "StopLogging" in page.inner_text("main")

    page.click("nav >> text=Best-practice checks")
    row = page.inner_text("#checks tr[data-control='CloudTrail.1']")
    assert "FAILED" in row and "No trail qualifies: console-trail is single-Region and not logging." in row
    assert "aws cloudtrail update-trail" in row
    assert "passed" in page.inner_text("#summary")
    check_axe(page, "checks")
    shot(page, "checks")
    ctx.close()
