"""The console's IAM pages in headless Chromium: users with a console password that must be
reset, policies attached, an access key whose secret is shown once (and works), a virtual MFA
device set up from its QR page, groups, roles with a trust policy, customer managed policies;
then the user signs in with MFA, is held on the password change page until the password is
changed, and uses the console. Every action is recorded as a console call. Each page passes
axe-core and is kept as a screenshot."""

import json
import subprocess
import time

import boto3
import pytest

from test_console import ROOT_PASSWORD, browser, check_axe, elsewhere, node, records, shot, sign_in  # noqa: F401
from test_iam import totp

CAROL_FIRST = "Carol-First-Passw0rd!"
CAROL_NEW = "Carol-Second-Passw0rd!"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


@pytest.fixture(scope="module")
def account(cairn):
    from conftest import CAIRN
    subprocess.run([str(CAIRN), "accounts", "set-password", "--data-dir", str(cairn.data_dir),
                    "--password", ROOT_PASSWORD], check=True, capture_output=True)
    return cairn.env()["CAIRN_ACCOUNT_ID"]


def test_iam_pages_then_the_new_user_signs_in_with_mfa_and_changes_password(cairn, browser, account):
    base = elsewhere(cairn)
    iam = cairn.client("iam")
    ctx = browser.new_context()
    page = ctx.new_page()
    sign_in(page, cairn, account, "", ROOT_PASSWORD)
    assert page.url.endswith("/console/cloudtrail")

    # Users: create carol with a console password she must change.
    page.click("nav[aria-label=IAM] >> text=Users")
    assert page.url.endswith("/console/iam/users")
    shot(page, "iam-users")
    page.fill("#name", "carol")
    page.check("#console")
    page.fill("#password", CAROL_FIRST)
    assert page.is_checked("#reset")
    page.click("#create-user-form button[type=submit]")
    assert page.url.endswith("/console/iam/users/carol"), page.inner_text("main")[:1000]
    assert "a new password is required at next sign-in" in page.inner_text("#login-profile")
    assert iam.get_login_profile(UserName="carol")["LoginProfile"]["PasswordResetRequired"] is True
    # As AWS's console does, the user may change their own password.
    assert "IAMUserChangePassword" in page.inner_text("#attached")

    # Attach a policy.
    page.select_option("#policy_arn", ADMIN)
    page.click("#attach-form button[type=submit]")
    attached = {p["PolicyArn"] for p in iam.list_attached_user_policies(UserName="carol")["AttachedPolicies"]}
    assert ADMIN in attached
    assert "AdministratorAccess" in page.inner_text("#attached")
    shot(page, "iam-user")

    # An access key: its secret is on the answer page only, and it works.
    page.click("#create-key-form button[type=submit]")
    key_id = page.inner_text("#new-key-id").strip()
    secret = page.inner_text("#new-key-secret").strip()
    assert key_id.startswith("AKIA") and len(secret) == 40
    shot(page, "iam-access-key-created")
    sts = boto3.client("sts", endpoint_url=base, region_name="us-east-1",
                       aws_access_key_id=key_id, aws_secret_access_key=secret)
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{account}:user/carol"
    page.goto(f"{base}/console/iam/users/carol")
    assert secret not in page.content()
    assert page.locator("#new-key-box").count() == 0
    assert key_id in page.inner_text("#access-keys")

    # A virtual MFA device from the QR page: the image is the PNG IAM made, the seed works.
    page.click("text=Assign MFA device")
    shot(page, "iam-mfa-name")
    page.fill("#device", "carol-phone")
    page.click("#mfa-create-form button[type=submit]")
    src = page.get_attribute("#mfa-qr", "src")
    assert src.startswith("data:image/png;base64,")
    assert page.evaluate("document.querySelector('#mfa-qr').naturalWidth") > 0  # the CSP lets it show
    seed = page.inner_text("#mfa-seed").strip()
    shot(page, "iam-mfa-qr")
    step = int(time.time()) // 30
    page.fill("#code1", totp(seed, step - 1))
    page.fill("#code2", totp(seed, step))
    page.click("#mfa-enable-form button[type=submit]")
    assert "/console/iam/users/carol" in page.url, page.inner_text("main")[:1000]
    serial = f"arn:aws:iam::{account}:mfa/carol-phone"
    assert serial in page.inner_text("#mfa-devices")
    assert iam.list_mfa_devices(UserName="carol")["MFADevices"][0]["SerialNumber"] == serial

    # Groups: create one, add carol from the group's page.
    page.click("nav[aria-label=IAM] >> text=User groups")
    shot(page, "iam-groups")
    page.fill("#name", "auditors")
    page.click("main form button[type=submit]")
    assert page.url.endswith("/console/iam/groups/auditors")
    page.select_option("#user", "carol")
    page.click("#add-user-form button[type=submit]")
    assert "carol" in page.inner_text("#group-users")
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="carol")["Groups"]] == ["auditors"]
    shot(page, "iam-group")

    # Roles: create one with the starting trust policy, attach a policy.
    page.click("nav[aria-label=IAM] >> text=Roles")
    shot(page, "iam-roles")
    page.fill("#name", "auditor-role")
    page.fill("#description", "Reads the trail")
    page.click("#create-role-form button[type=submit]")
    assert page.url.endswith("/console/iam/roles/auditor-role"), page.inner_text("main")[:1000]
    trust = json.loads(page.inner_text("#trust-policy"))
    assert trust["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{account}:root"}
    page.select_option("#policy_arn", "arn:aws:iam::aws:policy/AWSCloudTrail_ReadOnlyAccess")
    page.click("#attach-form button[type=submit]")
    assert "AWSCloudTrail_ReadOnlyAccess" in page.inner_text("#attached")
    shot(page, "iam-role")
    # A trust policy that is not JSON: AWS's error, shown.
    page.goto(f"{base}/console/iam/roles")
    page.fill("#name", "broken-role")
    page.fill("#trust", "{not json")
    page.click("#create-role-form button[type=submit]")
    assert "MalformedPolicyDocument" in page.inner_text("[role=alert]")

    # Policies: create one from a document, view it and an AWS managed one.
    page.click("nav[aria-label=IAM] >> text=Policies")
    assert "AWS managed" in page.inner_text("#policies")
    shot(page, "iam-policies")
    page.fill("#name", "lookup-only")
    page.click("#create-policy-form button[type=submit]")
    assert "/console/iam/policies/view?arn=" in page.url
    doc = json.loads(page.inner_text("#policy-document"))
    assert doc["Statement"][0]["Action"] == "cloudtrail:LookupEvents"
    shot(page, "iam-policy")
    page.goto(f"{base}/console/iam/policies")
    page.click("#policies >> text=IAMUserChangePassword")
    assert "iam:ChangePassword" in page.inner_text("#policy-document")
    assert "carol" in page.inner_text("#entities")

    # Deactivate the key; the API says so.
    page.goto(f"{base}/console/iam/users/carol")
    page.click(f"button[aria-label='Deactivate {key_id}']")
    assert iam.list_access_keys(UserName="carol")["AccessKeyMetadata"][0]["Status"] == "Inactive"
    page.click("text=Sign out")
    ctx.close()

    # carol signs in with MFA and must change her password before anything else.
    assert "PasswordLastUsed" not in iam.get_user(UserName="carol")["User"]
    ctx = browser.new_context()
    page = ctx.new_page()
    sign_in(page, cairn, account, "carol", CAROL_FIRST, totp(seed, step + 1))
    # IAM shows when her password was last used, as GetUser and ListUsers do on AWS.
    used = iam.get_user(UserName="carol")["User"]["PasswordLastUsed"]
    assert abs(used - cairn.now()).total_seconds() < 120
    listed = next(u for u in iam.list_users()["Users"] if u["UserName"] == "carol")
    assert listed["PasswordLastUsed"] == used
    assert page.url.endswith("/console/password"), page.inner_text("main")[:1000]
    assert page.locator("nav").count() == 0
    shot(page, "password-change-required")
    for path in ["/console/cloudtrail", "/console/iam/users", "/console/cloudtrail/events"]:
        page.goto(base + path)
        assert page.url.endswith("/console/password"), path
    page.fill("#old_password", "not-the-old-one")
    page.fill("#new_password", CAROL_NEW)
    page.fill("#confirm_password", CAROL_NEW)
    page.click("#password-form button[type=submit]")
    assert "The old password was incorrect." in page.inner_text("[role=alert]")
    page.fill("#old_password", CAROL_FIRST)
    page.fill("#new_password", CAROL_NEW)
    page.fill("#confirm_password", CAROL_NEW)
    page.click("#password-form button[type=submit]")
    assert page.url.endswith("/console/cloudtrail"), page.inner_text("main")[:1000]
    assert iam.get_login_profile(UserName="carol")["LoginProfile"]["PasswordResetRequired"] is False
    # She signed in on the first node and changed her password on the other: every node opens
    # its pages to her now.
    for endpoint in cairn.endpoints:
        page.goto(f"{endpoint}/console/cloudtrail")
        assert page.url == f"{endpoint}/console/cloudtrail", page.url
    assert page.locator("header >> text=Change password").count() == 1
    page.click("nav[aria-label=IAM] >> text=Users")
    assert "carol" in page.inner_text("#users")
    page.click("nav >> text=Event history")
    assert page.locator("#events").count() == 1
    ctx.close()

    login = next(r for r in records(cairn, "ConsoleLogin") if r["userIdentity"].get("userName") == "carol")
    assert login["additionalEventData"]["MFAUsed"] == "Yes"
    assert login["responseElements"] == {"ConsoleLogin": "Success"}

    # Every console action is the API call it stands for, recorded as a console call.
    for name in ["CreateUser", "CreateLoginProfile", "AttachUserPolicy", "CreateAccessKey",
                 "CreateVirtualMFADevice", "EnableMFADevice", "CreateGroup", "AddUserToGroup",
                 "CreateRole", "AttachRolePolicy", "CreatePolicy", "UpdateAccessKey"]:
        rs = [r for r in records(cairn, name) if r.get("sessionCredentialFromConsole") == "true"]
        assert rs, name
        assert rs[0]["userAgent"] == "console.amazonaws.com", name
        assert rs[0]["userIdentity"]["accessKeyId"].startswith("ASIA"), name
    changed = [r for r in records(cairn, "ChangePassword") if "errorCode" not in r][0]
    assert changed["userIdentity"]["userName"] == "carol"
    # The change the login profile required is the sign-in service's, as AWS records it.
    assert changed["userAgent"] == "signin.amazonaws.com"
    assert changed["userIdentity"]["invokedBy"] == "signin.amazonaws.com"
    assert "sessionCredentialFromConsole" not in changed
    assert changed["sourceIPAddress"] == "127.0.0.1"
    assert changed["requestParameters"] is None and changed["responseElements"] is None
    refused = [r for r in records(cairn, "ChangePassword") if r.get("errorCode") == "AccessDenied"][0]
    assert refused["errorMessage"] == "The old password was incorrect."
    for name in ["CreateLoginProfile", "CreateAccessKey", "ChangePassword", "CreateVirtualMFADevice"]:
        for r in records(cairn, name):
            text = json.dumps(r)
            assert "Passw0rd" not in text and secret not in text and seed not in text, name


def test_every_iam_page_passes_an_accessibility_check(cairn, browser, account):
    base = elsewhere(cairn)
    iam = cairn.client("iam")
    iam.create_user(UserName="erin")
    iam.create_group(GroupName="readers")
    iam.add_user_to_group(GroupName="readers", UserName="erin")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}]})
    iam.create_role(RoleName="reader-role", AssumeRolePolicyDocument=trust)
    # The pages' Content-Security-Policy forbids injected scripts; axe is injected by the test.
    ctx = browser.new_context(bypass_csp=True)
    page = ctx.new_page()
    sign_in(page, cairn, account, "", ROOT_PASSWORD)
    for path in ["/console/iam/users", "/console/iam/users/erin", "/console/iam/users/erin/mfa",
                 "/console/iam/groups", "/console/iam/groups/readers", "/console/iam/roles",
                 "/console/iam/roles/reader-role", "/console/iam/policies",
                 "/console/iam/policies/view?arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FReadOnlyAccess",
                 "/console/password"]:
        page.goto(base + path)
        check_axe(page, path)
    # The answer pages: a new key, the QR code.
    page.goto(f"{base}/console/iam/users/erin")
    page.click("#create-key-form button[type=submit]")
    check_axe(page, "access key created")
    page.goto(f"{base}/console/iam/users/erin/mfa")
    page.click("#mfa-create-form button[type=submit]")
    assert page.locator("#mfa-qr").count() == 1
    check_axe(page, "MFA QR code")
    # A page with an error shown.
    page.goto(f"{base}/console/iam/users/nobody")
    assert "NoSuchEntity" in page.inner_text("[role=alert]")
    shot(page, "iam-user-missing")
    check_axe(page, "missing user")
    ctx.close()
    # The password page as a user who must change theirs sees it.
    iam.create_login_profile(UserName="erin", Password="Erin-Passw0rd!", PasswordResetRequired=True)
    ctx = browser.new_context(bypass_csp=True)
    page = ctx.new_page()
    sign_in(page, cairn, account, "erin", "Erin-Passw0rd!")
    assert page.url.endswith("/console/password")
    check_axe(page, "password change required")
    ctx.close()


def test_detach_delete_key_and_console_password_forms(cairn, browser, account):
    base = elsewhere(cairn)
    iam = cairn.client("iam")
    iam.create_user(UserName="frank")
    iam.attach_user_policy(UserName="frank", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    key = iam.create_access_key(UserName="frank")["AccessKey"]["AccessKeyId"]
    ctx = browser.new_context()
    page = ctx.new_page()
    page.on("dialog", lambda d: d.accept())
    sign_in(page, cairn, account, "", ROOT_PASSWORD)
    page.goto(f"{base}/console/iam/users/frank")
    assert "No console password." in page.inner_text("#login-profile")
    # Console access: enable, then require a reset, then disable.
    page.fill("#lp-password", "Frank-Passw0rd!")
    page.click("#login-profile-form button[type=submit]")
    assert "Console password enabled" in page.inner_text("#login-profile")
    assert iam.get_login_profile(UserName="frank")["LoginProfile"]["PasswordResetRequired"] is False
    page.check("#login-profile-form input[name=reset]")
    page.click("#login-profile-form button[type=submit]")
    assert iam.get_login_profile(UserName="frank")["LoginProfile"]["PasswordResetRequired"] is True
    # A password the default policy refuses: AWS's error.
    page.fill("#lp-password", "short")
    page.click("#login-profile-form button[type=submit]")
    assert "PasswordPolicyViolation" in page.inner_text("[role=alert]")
    page.goto(f"{base}/console/iam/users/frank")
    page.click("text=Disable console access")
    assert "No console password." in page.inner_text("#login-profile")
    # Detach a policy; delete the key.
    page.click("button[aria-label='Detach ReadOnlyAccess']")
    # (Requiring a reset attached IAMUserChangePassword, as AWS's console does.)
    assert iam.list_attached_user_policies(UserName="frank")["AttachedPolicies"] == [
        {"PolicyName": "IAMUserChangePassword", "PolicyArn": "arn:aws:iam::aws:policy/IAMUserChangePassword"}]
    page.click(f"button[aria-label='Delete {key}']")
    assert iam.list_access_keys(UserName="frank")["AccessKeyMetadata"] == []
    # Remove from a group from the user's page.
    iam.create_group(GroupName="frank-group")
    page.goto(f"{base}/console/iam/users/frank")
    page.select_option("#group", "frank-group")
    page.click("text=Add to group")
    assert "frank-group" in page.inner_text("#user-groups")
    page.click("button[aria-label='Remove from frank-group']")
    assert iam.list_groups_for_user(UserName="frank")["Groups"] == []
    for name in ["DeleteLoginProfile", "DetachUserPolicy", "DeleteAccessKey", "RemoveUserFromGroup"]:
        assert any(r.get("sessionCredentialFromConsole") == "true" for r in records(cairn, name)), name
    ctx.close()


def test_iam_forms_need_the_session_token(cairn, browser, account):
    ctx = browser.new_context()
    page = ctx.new_page()
    sign_in(page, cairn, account, "", ROOT_PASSWORD)
    base = elsewhere(cairn)
    for path, form in [("/console/iam/users", {"name": "forged"}),
                       ("/console/iam/users/carol/keys", {}),
                       ("/console/iam/users/carol/policies", {"policy_arn": ADMIN, "csrf": "forged"}),
                       ("/console/iam/roles", {"name": "forged", "trust": "{}"}),
                       ("/console/password", {"old_password": "x", "new_password": "y", "confirm_password": "y"})]:
        r = ctx.request.post(base + path, form=form, max_redirects=0)
        assert r.status == 403, path
    names = [u["UserName"] for u in cairn.client("iam").list_users()["Users"]]
    assert "forged" not in names
    ctx.close()
