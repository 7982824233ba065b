//! Organizations' wire shapes: the JSON 1.1 codec (`X-Amz-Target:
//! AWSOrganizationsV20161128.<Op>`) and the documents its answers carry.

use cairn_model::timefmt::epoch_seconds;
use cairn_store::organizations::{
    CreateAccountRequest, Handshake, Member, Organization, Policy, SCP, Unit,
};
use cairn_wire::Protocol;
use serde_json::{Value, json};

use crate::pipeline::codec::json::JsonCodec;

pub const TARGET_PREFIX: &str = "AWSOrganizationsV20161128.";

pub(super) static CODEC: JsonCodec = JsonCodec {
    protocol: Protocol::Json11,
    target_prefixes: &[TARGET_PREFIX],
};

pub(super) fn organization(o: &Organization) -> Value {
    json!({
        "Id": o.id,
        "Arn": o.arn,
        "FeatureSet": o.feature_set,
        "MasterAccountArn": format!("arn:aws:organizations::{0}:account/{1}/{0}", o.management_account, o.id),
        "MasterAccountId": o.management_account,
        "MasterAccountEmail": o.management_email,
        "AvailablePolicyTypes": [{"Type": SCP, "Status": "ENABLED"}],
    })
}

pub(super) fn root(o: &Organization) -> Value {
    json!({
        "Id": o.root.id,
        "Arn": o.root.arn,
        "Name": o.root.name,
        "PolicyTypes": o.root.policy_types.iter()
            .map(|t| json!({"Type": t, "Status": "ENABLED"}))
            .collect::<Vec<_>>(),
    })
}

pub(super) fn account(m: &Member) -> Value {
    json!({
        "Id": m.id,
        "Arn": m.arn,
        "Email": m.email,
        "Name": m.name,
        "Status": m.status,
        "State": m.status,
        "JoinedMethod": m.joined_method,
        "JoinedTimestamp": epoch_seconds(m.joined_ms),
    })
}

pub(super) fn unit(u: &Unit) -> Value {
    json!({"Id": u.id, "Arn": u.arn, "Name": u.name})
}

pub(super) fn policy_summary(p: &Policy) -> Value {
    json!({
        "Id": p.id,
        "Arn": p.arn,
        "Name": p.name,
        "Description": p.description,
        "Type": p.kind,
        "AwsManaged": p.aws_managed,
    })
}

pub(super) fn policy(p: &Policy) -> Value {
    json!({"PolicySummary": policy_summary(p), "Content": p.content})
}

pub(super) fn create_account_status(c: &CreateAccountRequest) -> Value {
    json!({
        "Id": c.id,
        "AccountName": c.account_name,
        "State": c.state,
        "RequestedTimestamp": epoch_seconds(c.requested_ms),
        "CompletedTimestamp": epoch_seconds(c.completed_ms),
        "AccountId": c.account_id,
    })
}

pub(super) fn handshake(o: &Organization, h: &Handshake) -> Value {
    json!({
        "Id": h.id,
        "Arn": h.arn,
        "Parties": [
            {"Id": o.id.trim_start_matches("o-"), "Type": "ORGANIZATION"},
            {"Id": h.account, "Type": "ACCOUNT"},
        ],
        "State": h.state,
        "RequestedTimestamp": epoch_seconds(h.requested_ms),
        "ExpirationTimestamp": epoch_seconds(h.expiration_ms),
        "Action": "INVITE",
        "Resources": [
            {"Type": "ORGANIZATION", "Value": o.id, "Resources": [
                {"Type": "MASTER_EMAIL", "Value": o.management_email},
                {"Type": "MASTER_NAME", "Value": o.management_account},
                {"Type": "ORGANIZATION_FEATURE_SET", "Value": o.feature_set},
            ]},
            {"Type": "ACCOUNT", "Value": h.account},
            {"Type": "NOTES", "Value": h.notes},
        ],
    })
}
