//! The investigations: one per replayed Stratus Red Team technique, each with its story and
//! its questions.

use super::{Asked, Scenario, Truth};
use crate::admin::labs::Question;

macro_rules! detonation {
    ($technique:literal) => {
        include_str!(concat!("detonations/aws.", $technique, ".json"))
    };
}

const fn ask(id: &'static str, text: &'static str, truth: Truth, hint: &'static str) -> Asked {
    Asked {
        question: Question { id, text },
        truth,
        hint,
    }
}

const ACCESS_KEY_HINT: &str = "The attacker's records carry it as userIdentity.accessKeyId (event history's Access key column).";

pub static ALL: [Scenario; 12] = [
    Scenario {
        name: "stopped-trail",
        technique: "aws.defense-evasion.cloudtrail-stop",
        title: "Investigate: a trail went silent",
        story: "A trail stopped delivering. Someone turned its logging off. Find which trail, with which access key, and from where.",
        records: detonation!("defense-evasion.cloudtrail-stop"),
        questions: &[
            ask(
                "trail",
                "Which trail was stopped?",
                Truth::Field("StopLogging", "/requestParameters/name"),
                "Look for a StopLogging call; its requestParameters name the trail.",
            ),
            ask(
                "access-key",
                "Which access key stopped it?",
                Truth::Field("StopLogging", "/userIdentity/accessKeyId"),
                ACCESS_KEY_HINT,
            ),
            ask(
                "source-ip",
                "From which IP address?",
                Truth::Field("StopLogging", "/sourceIPAddress"),
                "The record's sourceIPAddress.",
            ),
        ],
    },
    Scenario {
        name: "deleted-trail",
        technique: "aws.defense-evasion.cloudtrail-delete",
        title: "Investigate: a trail disappeared",
        story: "A trail is gone. Find which one was deleted and by whom.",
        records: detonation!("defense-evasion.cloudtrail-delete"),
        questions: &[
            ask(
                "trail",
                "Which trail was deleted?",
                Truth::Field("DeleteTrail", "/requestParameters/name"),
                "Look for a DeleteTrail call.",
            ),
            ask(
                "user",
                "Which IAM user deleted it?",
                Truth::Field("DeleteTrail", "/userIdentity/userName"),
                "userIdentity.userName of that call.",
            ),
        ],
    },
    Scenario {
        name: "blinded-trail",
        technique: "aws.defense-evasion.cloudtrail-event-selectors",
        title: "Investigate: a trail still logs, but sees nothing",
        story: "A trail is logging, yet its files stopped showing management events. Someone changed what it records.",
        records: detonation!("defense-evasion.cloudtrail-event-selectors"),
        questions: &[
            ask(
                "trail",
                "Whose event selectors were changed?",
                Truth::Field("PutEventSelectors", "/requestParameters/trailName"),
                "Look for PutEventSelectors; includeManagementEvents false is the tell.",
            ),
            ask(
                "access-key",
                "With which access key?",
                Truth::Field("PutEventSelectors", "/userIdentity/accessKeyId"),
                ACCESS_KEY_HINT,
            ),
        ],
    },
    Scenario {
        name: "admin-user",
        technique: "aws.persistence.iam-create-admin-user",
        title: "Investigate: a new administrator",
        story: "An IAM user nobody remembers creating has full access. Find it, what made it powerful, and who made it.",
        records: detonation!("persistence.iam-create-admin-user"),
        questions: &[
            ask(
                "user",
                "Which user was created?",
                Truth::Field("CreateUser", "/requestParameters/userName"),
                "Look for CreateUser calls.",
            ),
            ask(
                "policy",
                "Which policy was attached to it (its ARN)?",
                Truth::Field("AttachUserPolicy", "/requestParameters/policyArn"),
                "Look for AttachUserPolicy on that user.",
            ),
            ask(
                "access-key",
                "Which access key did the attacker use?",
                Truth::Field("CreateUser", "/userIdentity/accessKeyId"),
                ACCESS_KEY_HINT,
            ),
        ],
    },
    Scenario {
        name: "backdoored-role",
        technique: "aws.persistence.iam-backdoor-role",
        title: "Investigate: a role trusts a stranger",
        story: "A role's trust policy was changed so that another AWS account can assume it.",
        records: detonation!("persistence.iam-backdoor-role"),
        questions: &[
            ask(
                "role",
                "Which role's trust policy was changed?",
                Truth::Field("UpdateAssumeRolePolicy", "/requestParameters/roleName"),
                "Look for UpdateAssumeRolePolicy.",
            ),
            ask(
                "trusted-account",
                "Which outside account can now assume it?",
                Truth::TrustedAccount(
                    "UpdateAssumeRolePolicy",
                    "/requestParameters/policyDocument",
                ),
                "Read the policyDocument's Principal AWS entries: the account id in the ARN.",
            ),
        ],
    },
    Scenario {
        name: "backdoor-role",
        technique: "aws.persistence.iam-create-backdoor-role",
        title: "Investigate: a role made for someone else",
        story: "A new role with full access can be assumed from outside the account.",
        records: detonation!("persistence.iam-create-backdoor-role"),
        questions: &[
            ask(
                "role",
                "Which role was created?",
                Truth::Field("CreateRole", "/requestParameters/roleName"),
                "Look for CreateRole.",
            ),
            ask(
                "trusted-account",
                "Which outside account does it trust?",
                Truth::TrustedAccount("CreateRole", "/requestParameters/assumeRolePolicyDocument"),
                "Read the assumeRolePolicyDocument's Principal.",
            ),
            ask(
                "policy",
                "Which policy was attached to it (its ARN)?",
                Truth::Field("AttachRolePolicy", "/requestParameters/policyArn"),
                "Look for AttachRolePolicy.",
            ),
        ],
    },
    Scenario {
        name: "secrets-theft",
        technique: "aws.credential-access.secretsmanager-retrieve-secrets",
        title: "Investigate: secrets read in bulk",
        story: "One principal read many Secrets Manager secrets within seconds.",
        records: detonation!("credential-access.secretsmanager-retrieve-secrets"),
        questions: &[
            ask(
                "secrets",
                "How many different secrets were read?",
                Truth::Distinct("GetSecretValue", "/requestParameters/secretId"),
                "Count the distinct secretId values of the GetSecretValue calls (cairn findings shows the burst).",
            ),
            ask(
                "access-key",
                "With which access key?",
                Truth::Field("GetSecretValue", "/userIdentity/accessKeyId"),
                ACCESS_KEY_HINT,
            ),
        ],
    },
    Scenario {
        name: "parameter-theft",
        technique: "aws.credential-access.ssm-retrieve-securestring-parameters",
        title: "Investigate: SecureString parameters read in bulk",
        story: "Systems Manager parameters holding credentials were listed and read, decrypted.",
        records: detonation!("credential-access.ssm-retrieve-securestring-parameters"),
        questions: &[
            ask(
                "parameters",
                "How many different parameters were read?",
                Truth::Distinct("GetParameters", "/requestParameters/names"),
                "Count the distinct names over all GetParameters calls.",
            ),
            ask(
                "access-key",
                "With which access key?",
                Truth::Field("GetParameters", "/userIdentity/accessKeyId"),
                ACCESS_KEY_HINT,
            ),
        ],
    },
    Scenario {
        name: "shared-snapshot",
        technique: "aws.exfiltration.ec2-share-ebs-snapshot",
        title: "Investigate: a disk shared out",
        story: "An EBS snapshot was shared with another account: its data can leave.",
        records: detonation!("exfiltration.ec2-share-ebs-snapshot"),
        questions: &[
            ask(
                "snapshot",
                "Which snapshot was shared?",
                Truth::Field("ModifySnapshotAttribute", "/requestParameters/snapshotId"),
                "Look for ModifySnapshotAttribute.",
            ),
            ask(
                "account",
                "With which account?",
                Truth::Field(
                    "ModifySnapshotAttribute",
                    "/requestParameters/createVolumePermission/add/items/0/userId",
                ),
                "The createVolumePermission it added names the account.",
            ),
        ],
    },
    Scenario {
        name: "shared-db-snapshot",
        technique: "aws.exfiltration.rds-share-snapshot",
        title: "Investigate: a database snapshot shared out",
        story: "An RDS snapshot was made restorable by another account.",
        records: detonation!("exfiltration.rds-share-snapshot"),
        questions: &[
            ask(
                "snapshot",
                "Which DB snapshot was shared?",
                Truth::Field(
                    "ModifyDBSnapshotAttribute",
                    "/requestParameters/dBSnapshotIdentifier",
                ),
                "Look for ModifyDBSnapshotAttribute.",
            ),
            ask(
                "account",
                "With which account?",
                Truth::Field(
                    "ModifyDBSnapshotAttribute",
                    "/requestParameters/valuesToAdd/0",
                ),
                "Its valuesToAdd name the account.",
            ),
        ],
    },
    Scenario {
        name: "flow-logs-deleted",
        technique: "aws.defense-evasion.vpc-remove-flow-logs",
        title: "Investigate: network logging removed",
        story: "A VPC's flow logs were deleted, blinding network monitoring.",
        records: detonation!("defense-evasion.vpc-remove-flow-logs"),
        questions: &[
            ask(
                "flow-log",
                "Which flow log was deleted (its id)?",
                Truth::Field(
                    "DeleteFlowLogs",
                    "/requestParameters/DeleteFlowLogsRequest/FlowLogId/content",
                ),
                "Look for DeleteFlowLogs; EC2 writes the id inside DeleteFlowLogsRequest.",
            ),
            ask(
                "access-key",
                "With which access key?",
                Truth::Field("DeleteFlowLogs", "/userIdentity/accessKeyId"),
                ACCESS_KEY_HINT,
            ),
        ],
    },
    Scenario {
        name: "console-backdoor",
        technique: "aws.persistence.iam-create-user-login-profile",
        title: "Investigate: a console password for someone else",
        story: "Someone gave another IAM user a console password, so they can sign in as that user.",
        records: detonation!("persistence.iam-create-user-login-profile"),
        questions: &[
            ask(
                "user",
                "Which user got a console password?",
                Truth::Field("CreateLoginProfile", "/requestParameters/userName"),
                "Look for CreateLoginProfile.",
            ),
            ask(
                "access-key",
                "Which access key made it?",
                Truth::Field("CreateLoginProfile", "/userIdentity/accessKeyId"),
                ACCESS_KEY_HINT,
            ),
        ],
    },
];
