"""AWS Organizations with the real AWS CLI v1 and boto3: an organization made by cairn's first
account, a member account made with CreateAccount (a cairn account with the role its
management account assumes), and service control policies enforced for every call of member
accounts — the classic guard "nobody may StopLogging" blocks the member's root user, the refusal
is recorded, and the management account is not affected."""

import json
import uuid

import pytest

from alerting import client_as, user_env
from conftest import documented_policy, lookup_all, organization_policy

DENY_STOP_LOGGING = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "ProtectCloudTrail", "Effect": "Deny", "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"],
     "Resource": "*"}]})


def trail_in(c, account, name):
    """A logging trail `name` in `account` (its root's keys), with its bucket."""
    kw = {"account": account}
    bucket = f"org-{uuid.uuid4().hex[:10]}"
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{account}:trail/{name}"
    c.aws("s3", "mb", f"s3://{bucket}", **kw)
    c.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", documented_policy(bucket, account, None, trail_arn), **kw)
    c.aws("cloudtrail", "create-trail", "--name", name, "--s3-bucket-name", bucket, **kw)
    c.aws("cloudtrail", "start-logging", "--name", name, **kw)


def test_an_scp_denying_stop_logging_guards_member_accounts_but_not_the_management_account(cairn):
    c = cairn
    management = c.env()["CAIRN_ACCOUNT_ID"]
    _, out, _ = c.aws("organizations", "create-organization", "--feature-set", "ALL")
    org = out["Organization"]
    assert org["MasterAccountId"] == management and org["FeatureSet"] == "ALL"
    assert org["Id"].startswith("o-") and org["Arn"] == f"arn:aws:organizations::{management}:organization/{org['Id']}"
    rc, _, err = c.aws("organizations", "create-organization", check=False)
    assert rc != 0 and "AlreadyInOrganizationException" in err

    _, out, _ = c.aws("organizations", "create-account", "--email", "audit@example.com", "--account-name", "audit")
    status = out["CreateAccountStatus"]
    assert status["State"] == "SUCCEEDED" and status["AccountName"] == "audit"
    member = status["AccountId"]
    _, out, _ = c.aws("organizations", "describe-create-account-status", "--create-account-request-id", status["Id"])
    assert out["CreateAccountStatus"]["AccountId"] == member
    _, out, _ = c.aws("organizations", "list-accounts")
    assert sorted(a["Id"] for a in out["Accounts"]) == sorted([management, member])
    [root] = c.aws("organizations", "list-roots")[1]["Roots"]
    assert root["PolicyTypes"] == []

    # The member's root user, and the role the management account administers it through.
    trail_in(c, member, "member-trail")
    trail_in(c, management, "management-trail")
    # (A root user may not assume roles: an administrator of the management account does.)
    sts = client_as(c, user_env(c, "org-admin", "*"), "sts")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
                            RoleSessionName="admin")["Credentials"]
    as_role = {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
               "AWS_SESSION_TOKEN": creds["SessionToken"]}
    _, ident, _ = c.aws("sts", "get-caller-identity", env_overrides=as_role)
    assert ident["Account"] == member

    # Policies need their type enabled on the root; FullAWSAccess then goes everywhere.
    _, out, _ = c.aws("organizations", "create-policy", "--name", "protect-cloudtrail", "--type",
                      "SERVICE_CONTROL_POLICY", "--description", "nobody stops the trail", "--content", DENY_STOP_LOGGING)
    policy = out["Policy"]["PolicySummary"]
    rc, _, err = c.aws("organizations", "attach-policy", "--policy-id", policy["Id"], "--target-id", root["Id"], check=False)
    assert rc != 0 and "PolicyTypeNotEnabledException" in err
    _, out, _ = c.aws("organizations", "enable-policy-type", "--root-id", root["Id"], "--policy-type", "SERVICE_CONTROL_POLICY")
    assert out["Root"]["PolicyTypes"] == [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]
    _, out, _ = c.aws("organizations", "list-policies-for-target", "--target-id", member, "--filter", "SERVICE_CONTROL_POLICY")
    assert [p["Name"] for p in out["Policies"]] == ["FullAWSAccess"]
    # Every entity keeps at least one SCP.
    rc, _, err = c.aws("organizations", "detach-policy", "--policy-id", "p-FullAWSAccess", "--target-id", member, check=False)
    assert rc != 0 and "ConstraintViolationException" in err

    # Before the guard: the member may stop logging (and starts again).
    c.aws("cloudtrail", "stop-logging", "--name", "member-trail", account=member)
    c.aws("cloudtrail", "start-logging", "--name", "member-trail", account=member)

    c.aws("organizations", "attach-policy", "--policy-id", policy["Id"], "--target-id", root["Id"])
    _, out, _ = c.aws("organizations", "list-targets-for-policy", "--policy-id", policy["Id"])
    assert [(t["TargetId"], t["Type"]) for t in out["Targets"]] == [(root["Id"], "ROOT")]

    # The member's root user is refused, with AWS's words; so is the administrator role.
    rc, _, err = c.aws("cloudtrail", "stop-logging", "--name", "member-trail", account=member, check=False)
    assert rc != 0
    assert "AccessDenied" in err
    assert f"User: arn:aws:iam::{member}:root is not authorized to perform: cloudtrail:StopLogging" in err
    assert "with an explicit deny in a service control policy" in err
    rc, _, err = c.aws("cloudtrail", "delete-trail", "--name", "member-trail", env_overrides=as_role, check=False)
    assert rc != 0 and "explicit deny in a service control policy" in err
    # What the SCP does not deny still works for them.
    _, out, _ = c.aws("cloudtrail", "get-trail-status", "--name", "member-trail", account=member)
    assert out["IsLogging"] is True

    # The refusal is recorded in the member account's event history.
    ct = c.client("cloudtrail", account=member)
    refused = [json.loads(e["CloudTrailEvent"]) for e in lookup_all(
        ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "StopLogging"}])]
    denied = [r for r in refused if r.get("errorCode") == "AccessDenied"]
    assert len(denied) == 1
    assert denied[0]["userIdentity"]["type"] == "Root" and denied[0]["recipientAccountId"] == member
    assert "service control policy" in denied[0]["errorMessage"]

    # The management account is not affected, though the policy is on the root.
    c.aws("cloudtrail", "stop-logging", "--name", "management-trail")
    _, out, _ = c.aws("cloudtrail", "get-trail-status", "--name", "management-trail")
    assert out["IsLogging"] is False

    # Detached: the member may again.
    c.aws("organizations", "detach-policy", "--policy-id", policy["Id"], "--target-id", root["Id"])
    c.aws("cloudtrail", "stop-logging", "--name", "member-trail", account=member)


def test_members_see_their_organization_but_cannot_change_it(new_cairn):
    c = new_cairn()
    management = c.env()["CAIRN_ACCOUNT_ID"]
    c.aws("organizations", "create-organization")
    member = c.aws("organizations", "create-account", "--email", "m@example.com", "--account-name", "m")[1][
        "CreateAccountStatus"]["AccountId"]
    _, out, _ = c.aws("organizations", "describe-organization", account=member)
    assert out["Organization"]["MasterAccountId"] == management
    rc, _, err = c.aws("organizations", "list-accounts", account=member, check=False)
    assert rc != 0 and "AccessDeniedException" in err
    # An account outside any organization.
    outsider = c.create_account()["CAIRN_ACCOUNT_ID"]
    rc, _, err = c.aws("organizations", "describe-organization", account=outsider, check=False)
    assert rc != 0 and "AWSOrganizationsNotInUseException" in err

    # Organizational units, moving accounts, and what the records say.
    [root] = c.aws("organizations", "list-roots")[1]["Roots"]
    _, ou, _ = c.aws("organizations", "create-organizational-unit", "--parent-id", root["Id"], "--name", "security")
    ou_id = ou["OrganizationalUnit"]["Id"]
    assert ou_id.startswith(f"ou-{root['Id'][2:]}-")
    c.aws("organizations", "move-account", "--account-id", member, "--source-parent-id", root["Id"],
          "--destination-parent-id", ou_id)
    _, out, _ = c.aws("organizations", "list-parents", "--child-id", member)
    assert out["Parents"] == [{"Id": ou_id, "Type": "ORGANIZATIONAL_UNIT"}]
    rc, _, err = c.aws("organizations", "delete-organizational-unit", "--organizational-unit-id", ou_id, check=False)
    assert rc != 0 and "OrganizationalUnitNotEmptyException" in err
    rc, _, err = c.aws("organizations", "delete-organization", check=False)
    assert rc != 0 and "OrganizationNotEmptyException" in err

    ct = c.client("cloudtrail")
    [rec] = [json.loads(e["CloudTrailEvent"]) for e in lookup_all(
        ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateOrganizationalUnit"}])]
    assert rec["eventSource"] == "organizations.amazonaws.com" and rec["awsRegion"] == "us-east-1"
    assert rec["requestParameters"] == {"parentId": root["Id"], "name": "security"}
    assert rec["responseElements"]["organizationalUnit"]["id"] == ou_id
    assert rec["readOnly"] is False and rec["managementEvent"] is True

    # A member as CloudTrail's delegated administrator.
    c.aws("organizations", "register-delegated-administrator", "--account-id", member, "--service-principal",
          "cloudtrail.amazonaws.com")
    rc, _, err = c.aws("organizations", "register-delegated-administrator", "--account-id", management,
                       "--service-principal", "cloudtrail.amazonaws.com", check=False)
    assert rc != 0 and "ConstraintViolationException" in err
    _, out, _ = c.aws("organizations", "list-delegated-administrators", "--service-principal", "cloudtrail.amazonaws.com")
    assert [a["Id"] for a in out["DelegatedAdministrators"]] == [member]
    _, out, _ = c.aws("organizations", "list-delegated-services-for-account", "--account-id", member)
    assert [s["ServicePrincipal"] for s in out["DelegatedServices"]] == ["cloudtrail.amazonaws.com"]
    c.aws("organizations", "deregister-delegated-administrator", "--account-id", member, "--service-principal",
          "cloudtrail.amazonaws.com")
    _, out, _ = c.aws("organizations", "list-delegated-administrators")
    assert out["DelegatedAdministrators"] == []

    # Unsupported operations say so, AWS-shaped.
    rc, _, err = c.aws("organizations", "list-tags-for-resource", "--resource-id", member, check=False)
    assert rc != 0 and "does not support" in err


def test_an_existing_account_joins_by_invitation_and_is_then_guarded(new_cairn):
    c = new_cairn()
    c.aws("organizations", "create-organization")
    guest = c.create_account()["CAIRN_ACCOUNT_ID"]
    other = c.create_account()["CAIRN_ACCOUNT_ID"]
    _, out, _ = c.aws("organizations", "invite-account-to-organization", "--target", f"Id={guest},Type=ACCOUNT",
                      "--notes", "join us")
    h = out["Handshake"]
    assert h["State"] == "OPEN" and h["Action"] == "INVITE" and h["Id"].startswith("h-")
    rc, _, err = c.aws("organizations", "invite-account-to-organization", "--target", f"Id={guest},Type=ACCOUNT",
                       check=False)
    assert rc != 0 and "DuplicateHandshakeException" in err
    # The invited account finds it among its handshakes; others do not.
    _, out, _ = c.aws("organizations", "list-handshakes-for-account", account=guest)
    assert [x["Id"] for x in out["Handshakes"]] == [h["Id"]]
    assert out["Handshakes"][0]["Parties"][1] == {"Id": guest, "Type": "ACCOUNT"}
    _, out, _ = c.aws("organizations", "list-handshakes-for-account", account=other)
    assert out["Handshakes"] == []
    _, out, _ = c.aws("organizations", "list-handshakes-for-account", "--filter", "ActionType=ENABLE_ALL_FEATURES",
                      account=guest)
    assert out["Handshakes"] == []
    # Only the invited account answers it.
    rc, _, err = c.aws("organizations", "accept-handshake", "--handshake-id", h["Id"], account=other, check=False)
    assert rc != 0 and "HandshakeNotFoundException" in err
    _, out, _ = c.aws("organizations", "describe-handshake", "--handshake-id", h["Id"], account=guest)
    assert out["Handshake"]["State"] == "OPEN"
    _, out, _ = c.aws("organizations", "accept-handshake", "--handshake-id", h["Id"], account=guest)
    assert out["Handshake"]["State"] == "ACCEPTED"
    _, out, _ = c.aws("organizations", "list-accounts")
    joined = {a["Id"]: a["JoinedMethod"] for a in out["Accounts"]}
    assert joined[guest] == "INVITED"
    rc, _, err = c.aws("organizations", "accept-handshake", "--handshake-id", h["Id"], account=guest, check=False)
    assert rc != 0 and "InvalidHandshakeTransitionException" in err

    # The new member is guarded like any other; leaving the organization frees it.
    [root] = c.aws("organizations", "list-roots")[1]["Roots"]
    c.aws("organizations", "enable-policy-type", "--root-id", root["Id"], "--policy-type", "SERVICE_CONTROL_POLICY")
    deny_iam = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]})
    pid = c.aws("organizations", "create-policy", "--name", "no-iam", "--type", "SERVICE_CONTROL_POLICY",
                "--description", "x", "--content", deny_iam)[1]["Policy"]["PolicySummary"]["Id"]
    c.aws("organizations", "attach-policy", "--policy-id", pid, "--target-id", guest)
    rc, _, err = c.aws("iam", "list-users", account=guest, check=False)
    assert rc != 0 and "explicit deny in a service control policy" in err
    c.aws("iam", "list-users", account=other)
    c.aws("organizations", "remove-account-from-organization", "--account-id", guest)
    c.aws("iam", "list-users", account=guest)


def test_a_cloudtrail_delegated_administrator_makes_and_runs_the_organization_trail(new_cairn):
    c = new_cairn()
    management = c.env()["CAIRN_ACCOUNT_ID"]
    org_id = c.aws("organizations", "create-organization")[1]["Organization"]["Id"]
    admin, other = (c.aws("organizations", "create-account", "--email", f"{n}@example.com", "--account-name", n)[1][
        "CreateAccountStatus"]["AccountId"] for n in ("security", "workloads"))

    # Only the management account names CloudTrail's delegated administrators, through Organizations.
    rc, _, err = c.aws("cloudtrail", "register-organization-delegated-admin", "--member-account-id", other,
                       account=admin, check=False)
    assert rc != 0 and "NotOrganizationManagementAccountException" in err, err
    rc, _, err = c.aws("cloudtrail", "register-organization-delegated-admin", "--member-account-id", management,
                       check=False)
    assert rc != 0 and "CannotDelegateManagementAccountException" in err, err
    c.aws("cloudtrail", "register-organization-delegated-admin", "--member-account-id", admin)
    rc, _, err = c.aws("cloudtrail", "register-organization-delegated-admin", "--member-account-id", admin,
                       check=False)
    assert rc != 0 and "AccountRegisteredException" in err, err
    _, out, _ = c.aws("organizations", "list-delegated-administrators", "--service-principal", "cloudtrail.amazonaws.com")
    assert [a["Id"] for a in out["DelegatedAdministrators"]] == [admin]
    # Organizations records the registration as made by the caller through CloudTrail.
    recs = [json.loads(e["CloudTrailEvent"]) for e in lookup_all(c.client("cloudtrail"), LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "RegisterDelegatedAdministrator"}])]
    # The refusals Organizations gave are recorded too (the management account itself, twice the same).
    assert sorted(r.get("errorCode", "") for r in recs) == ["", "AccountAlreadyRegisteredException",
                                                             "ConstraintViolationException"]
    [rec] = [r for r in recs if "errorCode" not in r]
    assert rec["eventSource"] == "organizations.amazonaws.com"
    assert rec["userIdentity"]["invokedBy"] == "cloudtrail.amazonaws.com"
    assert rec["userIdentity"]["accountId"] == management
    assert rec["requestParameters"] == {"accountId": admin, "servicePrincipal": "cloudtrail.amazonaws.com"}

    # The delegated administrator makes the organization trail; the management account owns it.
    bucket = f"org-{uuid.uuid4().hex[:10]}"
    arn = f"arn:aws:cloudtrail:us-east-1:{management}:trail/org-trail"
    c.aws("s3", "mb", f"s3://{bucket}")
    c.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", organization_policy(bucket, management, org_id, arn))
    rc, _, err = c.aws("cloudtrail", "create-trail", "--name", "org-trail", "--s3-bucket-name", bucket,
                       "--is-organization-trail", account=other, check=False)
    assert rc != 0 and "NotOrganizationMasterAccountException" in err, err
    _, trail, _ = c.aws("cloudtrail", "create-trail", "--name", "org-trail", "--s3-bucket-name", bucket,
                        "--is-organization-trail", "--is-multi-region-trail", account=admin)
    assert trail["TrailARN"] == arn and trail["IsOrganizationTrail"] is True
    _, out, _ = c.aws("cloudtrail", "describe-trails")
    assert [t["TrailARN"] for t in out["trailList"]] == [arn]
    c.aws("cloudtrail", "start-logging", "--name", arn, account=admin)
    assert c.aws("cloudtrail", "get-trail-status", "--name", "org-trail")[1]["IsLogging"] is True
    # Other members only see it.
    rc, _, err = c.aws("cloudtrail", "stop-logging", "--name", arn, account=other, check=False)
    assert rc != 0 and "NotOrganizationMasterAccountException" in err, err
    c.aws("cloudtrail", "stop-logging", "--name", arn, account=admin)

    # Deregistered, the administrator is a member like any other.
    c.aws("cloudtrail", "deregister-organization-delegated-admin", "--delegated-admin-account-id", admin)
    rc, _, err = c.aws("cloudtrail", "deregister-organization-delegated-admin", "--delegated-admin-account-id", admin,
                       check=False)
    assert rc != 0 and "AccountNotRegisteredException" in err, err
    rc, _, err = c.aws("cloudtrail", "start-logging", "--name", arn, account=admin, check=False)
    assert rc != 0 and "NotOrganizationMasterAccountException" in err, err
