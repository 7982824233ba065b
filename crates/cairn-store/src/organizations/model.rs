//! An organization as the Organizations service keeps it: its root, organizational units,
//! accounts, policies and where each policy is attached. Stored whole (JSON) by every backend.

use serde::{Deserialize, Serialize};

/// The policy type service control policies have.
pub const SCP: &str = "SERVICE_CONTROL_POLICY";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    /// `o-` and ten lower-case letters or digits.
    pub id: String,
    pub arn: String,
    /// `ALL` or `CONSOLIDATED_BILLING`.
    pub feature_set: String,
    pub management_account: String,
    pub management_email: String,
    pub root: Root,
    #[serde(default)]
    pub units: Vec<Unit>,
    /// Every account in the organization, the management account included.
    #[serde(default)]
    pub accounts: Vec<Member>,
    /// Policies made in the organization (AWS-managed `FullAWSAccess` is implied; see
    /// [`Organization::attachments`]).
    #[serde(default)]
    pub policies: Vec<Policy>,
    /// (policy id, target id) pairs.
    #[serde(default)]
    pub attachments: Vec<(String, String)>,
    #[serde(default)]
    pub create_account_requests: Vec<CreateAccountRequest>,
    /// Invitations to existing accounts, answered or not.
    #[serde(default)]
    pub handshakes: Vec<Handshake>,
    /// Member accounts registered as delegated administrators of AWS services.
    #[serde(default)]
    pub delegated: Vec<Delegated>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegated {
    pub account: String,
    /// The service's principal (`cloudtrail.amazonaws.com`).
    pub service: String,
    pub since_ms: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handshake {
    /// `h-`, the organization id's ten characters, then ten more: the organization an
    /// invitation is from is read from its id.
    pub id: String,
    pub arn: String,
    /// The invited account.
    pub account: String,
    /// `OPEN`, `ACCEPTED`, `DECLINED`, `CANCELED` or `EXPIRED`.
    pub state: String,
    pub requested_ms: i64,
    pub expiration_ms: i64,
    pub notes: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Root {
    /// `r-` and four lower-case letters or digits.
    pub id: String,
    pub arn: String,
    pub name: String,
    /// Policy types enabled on the root.
    #[serde(default)]
    pub policy_types: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// `ou-` root suffix `-` eight lower-case letters or digits.
    pub id: String,
    pub arn: String,
    pub name: String,
    /// The root's or another unit's id.
    pub parent: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub email: String,
    /// `ACTIVE`.
    pub status: String,
    /// `CREATED` or `INVITED`.
    pub joined_method: String,
    pub joined_ms: i64,
    /// The root's or a unit's id.
    pub parent: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// `p-` and eight or more lower-case letters or digits (`p-FullAWSAccess` for AWS's).
    pub id: String,
    pub arn: String,
    pub name: String,
    pub description: String,
    pub kind: String,
    pub content: String,
    pub aws_managed: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateAccountRequest {
    /// `car-` and 32 lower-case letters or digits.
    pub id: String,
    pub account_name: String,
    pub account_id: String,
    pub state: String,
    pub requested_ms: i64,
    pub completed_ms: i64,
}

impl Organization {
    /// The accounts the members' index lists.
    pub fn account_ids(&self) -> Vec<String> {
        self.accounts.iter().map(|a| a.id.clone()).collect()
    }

    pub fn member(&self, account: &str) -> Option<&Member> {
        self.accounts.iter().find(|a| a.id == account)
    }

    /// The parent of a unit or account (`None`: the root, or nothing by that id).
    pub fn parent_of(&self, id: &str) -> Option<&str> {
        self.units
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.parent.as_str())
            .or_else(|| self.member(id).map(|a| a.parent.as_str()))
    }

    /// The targets from the root down to `account` (root, units, the account), for policies
    /// that apply along the way.
    pub fn path_to(&self, account: &str) -> Vec<String> {
        let mut path = vec![account.to_owned()];
        let mut at = account.to_owned();
        while let Some(p) = self.parent_of(&at) {
            // A parent loop is a corrupt document; stop rather than spin.
            if path.iter().any(|x| x == p) || path.len() > 64 {
                break;
            }
            path.push(p.to_owned());
            at = p.to_owned();
        }
        if path.last().map(String::as_str) != Some(self.root.id.as_str()) {
            path.push(self.root.id.clone());
        }
        path.reverse();
        path
    }

    /// The policies of `kind` attached to `target`.
    pub fn attached_to<'a>(&'a self, target: &str, kind: &str) -> Vec<&'a Policy> {
        self.attachments
            .iter()
            .filter(|(_, t)| t == target)
            .filter_map(|(p, _)| self.policies.iter().find(|x| &x.id == p))
            .filter(|p| p.kind == kind)
            .collect()
    }

    pub fn policy_type_enabled(&self, kind: &str) -> bool {
        self.root.policy_types.iter().any(|t| t == kind)
    }
}
