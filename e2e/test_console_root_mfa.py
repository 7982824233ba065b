"""The root user's virtual MFA device (issue 21), in headless Chromium and with the real AWS CLI
and boto3. IAM's API cannot give the root user a device, as in AWS; the root user signs in to
the console, opens Security credentials, names a virtual device, reads its secret (the test
computes TOTP codes from it) and gives two consecutive codes. IAM then shows the device as AWS
shows it (ListVirtualMFADevices' `User` is the root user, ListMFADevices by root lists it,
GetAccountSummary's AccountMFAEnabled is 1, the credential report's root row has mfa_active
true), the calls are recorded as AWS's console records them (`userName` "AWS ROOT USER", never
the codes), root's console sign-in now asks for a code, the CIS check on root MFA passes, and
removing the device from the console undoes it all. Pages pass axe-core; screenshots under
target/test-artifacts/console/."""

import base64
import json
import subprocess
import time

import botocore.exceptions
import pytest

from conftest import CAIRN, wait_for
from root_mfa import set_root_password
from test_console import ROOT_PASSWORD, browser, check_axe, elsewhere, records, shot, sign_in  # noqa: F401
from test_iam import totp


@pytest.fixture(scope="module")
def account(cairn):
    set_root_password(cairn)
    return cairn.env()["CAIRN_ACCOUNT_ID"]


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]


def checks(c):
    p = subprocess.run([str(CAIRN), "checks", "--data-dir", str(c.data_dir), *c.cli_args(), "--output", "json"],
                       capture_output=True, text=True, timeout=120)
    return {o["control"]: o for o in (json.loads(line) for line in p.stdout.splitlines() if line.strip())}


def report_rows(iam):
    """The credential report, generated now, as {user: row}."""
    state = iam.generate_credential_report()["State"]
    assert state in ("STARTED", "COMPLETE")
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    got = iam.get_credential_report()
    assert got["ReportFormat"] == "text/csv"
    lines = got["Content"].decode().splitlines()
    header = lines[0].split(",")
    return {r[0]: dict(zip(header, r)) for r in (line.split(",") for line in lines[1:])}


def test_the_api_cannot_give_root_a_device(cairn, account):
    iam = cairn.client("iam")
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName="api-root-try")["VirtualMFADevice"]
    seed, serial = dev["Base32StringSeed"].decode(), dev["SerialNumber"]
    step = int(time.time()) // 30
    # No user name names the root user through the API, not even the console's.
    err = error_of(lambda: iam.enable_mfa_device(UserName="AWS ROOT USER", SerialNumber=serial,
                                                  AuthenticationCode1=totp(seed, step - 1),
                                                  AuthenticationCode2=totp(seed, step)))
    assert err["Code"] == "NoSuchEntity"
    # Root's long-term credentials must name a user to deactivate a device.
    err = error_of(lambda: iam.deactivate_mfa_device(SerialNumber=serial))
    assert (err["Code"], err["Message"]) == ("ValidationError",
                                             "Must specify userName when calling with non-User credentials")
    assert iam.get_account_summary()["SummaryMap"]["AccountMFAEnabled"] == 0
    assert iam.list_mfa_devices()["MFADevices"] == []
    iam.delete_virtual_mfa_device(SerialNumber=serial)


def test_root_assigns_its_virtual_mfa_device_in_the_console(cairn, browser, account):  # noqa: F811
    iam = cairn.client("iam")
    before = report_rows(iam)
    assert before["<root_account>"]["mfa_active"] == "false"
    assert before["<root_account>"]["arn"] == f"arn:aws:iam::{account}:root"
    assert before["<root_account>"]["password_enabled"] == "not_supported"
    assert checks(cairn)["IAM.9"]["status"] == "FAILED"

    ctx = browser.new_context(bypass_csp=True)  # axe-core is injected as a script
    page = ctx.new_page()
    page.on("dialog", lambda d: d.accept())
    sign_in(page, cairn, account, "", ROOT_PASSWORD)
    assert page.url.endswith("/console/cloudtrail"), page.inner_text("main")[:1000]
    page.click("nav[aria-label=IAM] >> text=Security credentials")
    assert page.url.endswith("/console/iam/security-credentials")
    assert "No MFA device." in page.inner_text("main")
    assert page.inner_text("#credentials-arn") == f"arn:aws:iam::{account}:root"
    check_axe(page, "security credentials")
    shot(page, "root-security-credentials")

    # Name the device, read its secret, give two consecutive codes.
    page.click("text=Assign MFA device")
    assert page.input_value("#device") == "root-account-mfa-device"
    page.fill("#device", "root-phone")
    page.click("#mfa-create-form button[type=submit]")
    assert page.get_attribute("#mfa-qr", "src").startswith("data:image/png;base64,")
    seed = page.inner_text("#mfa-seed").strip()
    check_axe(page, "root MFA secret")
    shot(page, "root-mfa-qr")
    # A wrong pair is refused and the device deleted: start over.
    page.fill("#code1", "000000")
    page.fill("#code2", "111111")
    page.click("#mfa-enable-form button[type=submit]")
    assert "InvalidAuthenticationCode" in page.inner_text("[role=alert]")
    assert "has been deleted" in page.inner_text("main")
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []
    page.goto(f"{elsewhere(cairn)}/console/iam/security-credentials/mfa")
    page.fill("#device", "root-phone")
    page.click("#mfa-create-form button[type=submit]")
    seed = page.inner_text("#mfa-seed").strip()
    step = int(time.time()) // 30
    page.fill("#code1", totp(seed, step - 1))
    page.fill("#code2", totp(seed, step))
    page.click("#mfa-enable-form button[type=submit]")
    assert "/console/iam/security-credentials" in page.url, page.inner_text("main")[:1000]
    serial = f"arn:aws:iam::{account}:mfa/root-phone"
    assert serial in page.inner_text("#mfa-devices")
    shot(page, "root-mfa-listed")

    # IAM shows it as AWS does.
    devices = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in devices] == [serial]
    user = devices[0]["User"]
    assert user["Arn"] == f"arn:aws:iam::{account}:root" and user["UserId"] == account
    assert "UserName" not in user and "CreateDate" in user
    assert iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"] == []
    mine = iam.list_mfa_devices()["MFADevices"]
    assert [d["SerialNumber"] for d in mine] == [serial] and "EnableDate" in mine[0]
    summary = iam.get_account_summary()["SummaryMap"]
    assert (summary["AccountMFAEnabled"], summary["MFADevices"], summary["MFADevicesInUse"]) == (1, 1, 1)
    _, cli_summary, _ = cairn.aws("iam", "get-account-summary")
    assert cli_summary["SummaryMap"]["AccountMFAEnabled"] == 1
    # A report younger than four hours is kept: the one made before the device says false.
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    old = base64.b64decode(cairn.aws("iam", "get-credential-report")[1]["Content"]).decode()
    assert "<root_account>" in old
    # The root user's device is not for IAM users, nor deleted while in use.
    err = error_of(lambda: iam.delete_virtual_mfa_device(SerialNumber=serial))
    assert err["Code"] == "DeleteConflict"
    assert checks(cairn)["IAM.9"] == {"control": "IAM.9", "cis": "1.5",
                                      "title": "MFA should be enabled for the root user", "status": "PASSED",
                                      "reason": "The root user has an MFA device.", "fix": ""}

    # Recorded as AWS's console records root's MFA change: never the codes.
    def recorded(name):
        return [r for r in records(cairn, name) if r["userIdentity"]["type"] == "Root"
                and r["requestParameters"] and r["requestParameters"].get("serialNumber") == serial]
    enabled = wait_for(lambda: recorded("EnableMFADevice"))
    ok = [r for r in enabled if "errorCode" not in r]
    assert len(ok) == 1
    r = ok[0]
    assert r["requestParameters"] == {"userName": "AWS ROOT USER", "serialNumber": serial}
    assert r["eventSource"] == "iam.amazonaws.com" and r["awsRegion"] == "us-east-1"
    assert r["userIdentity"]["arn"] == f"arn:aws:iam::{account}:root"
    assert r["sessionCredentialFromConsole"] == "true"
    assert r["responseElements"] is None
    assert not any(totp(seed, s) in json.dumps(r) for s in (step - 1, step))
    created = [c for c in records(cairn, "CreateVirtualMFADevice")
               if c["requestParameters"].get("virtualMFADeviceName") == "root-phone"]
    assert created and all(c["userIdentity"]["type"] == "Root" for c in created)

    # Root's console sign-in now asks for a code from the device.
    page.click("button:has-text('Sign out')")
    sign_in(page, cairn, account, "", ROOT_PASSWORD)
    assert page.url.endswith("/console/signin")
    sign_in(page, cairn, account, "", ROOT_PASSWORD, totp(seed, step + 1))
    assert page.url.endswith("/console/cloudtrail"), page.inner_text("main")[:1000]
    logins = wait_for(lambda: [x for x in records(cairn, "ConsoleLogin")
                               if x["userIdentity"]["type"] == "Root"
                               and x["additionalEventData"]["MFAUsed"] == "Yes"])
    assert {x["responseElements"]["ConsoleLogin"] for x in logins} == {"Failure", "Success"}

    # Removed from the console: deactivated and deleted.
    page.goto(f"{cairn.endpoint}/console/iam/security-credentials")
    page.click("#mfa-devices button:has-text('Remove')")
    assert "No MFA device." in page.inner_text("main")
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []
    assert iam.get_account_summary()["SummaryMap"]["AccountMFAEnabled"] == 0
    removed = wait_for(lambda: [x for x in recorded("DeactivateMFADevice") if "errorCode" not in x])
    assert removed[0]["requestParameters"] == {"userName": "AWS ROOT USER", "serialNumber": serial}
    assert checks(cairn)["IAM.9"]["status"] == "FAILED"
    ctx.close()


def test_the_credential_report_has_a_row_per_user(cairn):
    """A fresh account's report: none until generated; then the root user first, each user
    after, with their password, MFA and access keys."""
    other = cairn.create_account()["CAIRN_ACCOUNT_ID"]
    iam = cairn.client("iam", account=other)
    assert error_of(iam.get_credential_report)["Code"] == "ReportNotPresent"
    iam.create_user(UserName="dana")
    iam.create_login_profile(UserName="dana", Password="Dana-Passw0rd!")
    iam.create_access_key(UserName="dana")
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName="dana-phone")["VirtualMFADevice"]
    seed, step = dev["Base32StringSeed"].decode(), int(time.time()) // 30
    iam.enable_mfa_device(UserName="dana", SerialNumber=dev["SerialNumber"],
                          AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step))
    iam.create_user(UserName="eve")
    first = iam.generate_credential_report()
    assert (first["State"], first["Description"]) == ("STARTED",
                                                      "No report exists. Starting a new report generation task")
    rows = report_rows(iam)
    assert list(rows) == ["<root_account>", "dana", "eve"]
    root, dana, eve = rows["<root_account>"], rows["dana"], rows["eve"]
    assert (root["mfa_active"], root["password_last_changed"], root["access_key_1_active"]) == \
        ("false", "not_supported", "true")
    assert root["access_key_1_last_used_service"] == "iam" and root["access_key_1_last_used_region"] == "us-east-1"
    assert root["cert_1_active"] == "false" and root["cert_1_last_rotated"] == "N/A"
    assert dana["arn"] == f"arn:aws:iam::{other}:user/dana"
    assert (dana["password_enabled"], dana["password_last_used"], dana["mfa_active"]) == \
        ("true", "no_information", "true")
    assert dana["access_key_1_active"] == "true" and dana["access_key_1_last_rotated"].endswith("+00:00")
    assert (dana["access_key_1_last_used_date"], dana["access_key_2_active"], dana["access_key_2_last_rotated"]) == \
        ("N/A", "false", "N/A")
    assert (eve["password_enabled"], eve["password_last_used"], eve["mfa_active"], eve["access_key_1_active"]) == \
        ("false", "N/A", "false", "false")
