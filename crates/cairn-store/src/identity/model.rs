//! What the identity store keeps, as every backend hands it out: accounts, users, groups,
//! roles, access keys and sessions, policies, console credentials, and AWS's quotas on them.

use cairn_model::AccountId;

use crate::error::StoreError;

// Accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub alias: Option<String>,
    /// When the account (and so its root user) was created: the root user's `CreateDate`.
    pub created_ms: i64,
}

// Users, groups and roles.
/// AWS's quota on groups a user may be in.
pub const GROUPS_PER_USER: usize = 10;

/// A key/value tag.
pub type Tags = Vec<(String, String)>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub user_id: String,
    pub account: AccountId,
    pub name: String,
    pub path: String,
    pub created_ms: i64,
    pub password_last_used_ms: Option<i64>,
    pub tags: Tags,
}

impl User {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:user{}{}",
            self.account, self.path, self.name
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub group_id: String,
    pub account: AccountId,
    pub name: String,
    pub path: String,
    pub created_ms: i64,
}

impl Group {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:group{}{}",
            self.account, self.path, self.name
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    pub role_id: String,
    pub account: AccountId,
    pub name: String,
    pub path: String,
    pub trust_policy: String,
    pub description: Option<String>,
    pub max_session_duration: i64,
    pub tags: Tags,
    pub created_ms: i64,
    pub last_used: Option<(i64, String)>,
}

impl Role {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:role{}{}",
            self.account, self.path, self.name
        )
    }
}

pub struct NewRole<'a> {
    pub name: &'a str,
    pub path: &'a str,
    pub trust_policy: &'a str,
    pub description: Option<&'a str>,
    pub max_session_duration: i64,
    pub tags: &'a Tags,
}

// Access keys.
/// AWS's quota on access keys per user.
pub const KEYS_PER_USER: usize = 2;

/// Whose a key is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOwner {
    Root,
    User {
        user_id: String,
    },
    /// A role session from AssumeRole.
    Role {
        role_id: String,
    },
}

impl KeyOwner {
    /// How the owner is written in a store (`root`, `user:<id>`, `role:<id>`).
    pub(crate) fn column(&self) -> String {
        match self {
            KeyOwner::Root => "root".into(),
            KeyOwner::User { user_id } => format!("user:{user_id}"),
            KeyOwner::Role { role_id } => format!("role:{role_id}"),
        }
    }

    pub(crate) fn from_column(s: &str) -> Result<KeyOwner, StoreError> {
        if s == "root" {
            return Ok(KeyOwner::Root);
        }
        if let Some(id) = s.strip_prefix("user:") {
            return Ok(KeyOwner::User { user_id: id.into() });
        }
        if let Some(id) = s.strip_prefix("role:") {
            return Ok(KeyOwner::Role { role_id: id.into() });
        }
        Err(StoreError::Invalid(format!("unknown key owner {s}")))
    }
}

/// The session a temporary key was issued for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySession {
    /// The role session name (AssumeRole); `None` for GetSessionToken.
    pub name: Option<String>,
    /// Whether an MFA code was given when the session was made.
    pub mfa: bool,
    pub created_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub account: AccountId,
    pub owner: KeyOwner,
    pub active: bool,
    pub session_token: Option<String>,
    pub expires_ms: Option<i64>,
    pub created_ms: i64,
    pub session: Option<KeySession>,
}

/// A new temporary credential's facts.
pub struct NewSession<'a> {
    pub account: &'a AccountId,
    pub owner: KeyOwner,
    pub session_name: Option<&'a str>,
    pub mfa: bool,
    pub expires_ms: i64,
}

/// When and where a key was last used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastUsed {
    pub used_ms: i64,
    pub service: String,
    pub region: String,
}

// Policies.
/// AWS's quotas.
pub const VERSIONS_PER_POLICY: usize = 5;

pub const ATTACHED_PER_ENTITY: usize = 10;

/// Who holds an inline policy or an attachment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerKind {
    User,
    Group,
    Role,
}

impl OwnerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerKind::User => "user",
            OwnerKind::Group => "group",
            OwnerKind::Role => "role",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<OwnerKind> {
        match s {
            "user" => Some(OwnerKind::User),
            "group" => Some(OwnerKind::Group),
            "role" => Some(OwnerKind::Role),
            _ => None,
        }
    }

    /// `PoliciesPerUser`, … as IAM names its quotas.
    pub(crate) fn quota_name(self) -> &'static str {
        match self {
            OwnerKind::User => "PoliciesPerUser",
            OwnerKind::Group => "PoliciesPerGroup",
            OwnerKind::Role => "PoliciesPerRole",
        }
    }
}

/// A user, group or role, by id, with its name for messages.
#[derive(Clone, Copy, Debug)]
pub struct Owner<'a> {
    pub kind: OwnerKind,
    pub id: &'a str,
    pub name: &'a str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagedPolicy {
    pub policy_id: String,
    pub account: AccountId,
    pub arn: String,
    pub name: String,
    pub path: String,
    pub description: Option<String>,
    pub default_version: String,
    pub tags: Tags,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub attachment_count: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyVersion {
    pub version_id: String,
    pub document: String,
    pub created_ms: i64,
    pub is_default: bool,
}

pub struct NewPolicy<'a> {
    pub name: &'a str,
    pub path: &'a str,
    pub description: Option<&'a str>,
    pub document: &'a str,
    pub tags: &'a Tags,
}

// Console credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginProfile {
    pub user_name: String,
    pub created_ms: i64,
    pub reset_required: bool,
}

/// Who a virtual MFA device is assigned to: an IAM user (by id), or the account's root user
/// (which only the console can assign a device to, as in AWS).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MfaHolder {
    User { user_id: String },
    Root,
}

impl MfaHolder {
    pub fn user(u: &User) -> MfaHolder {
        MfaHolder::User {
            user_id: u.user_id.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MfaDevice {
    pub serial: String,
    pub account: AccountId,
    /// The TOTP secret.
    pub seed: Vec<u8>,
    pub created_ms: i64,
    /// Who it is enabled for, and since when.
    pub holder: Option<MfaHolder>,
    pub enabled_ms: Option<i64>,
}

/// An account's credential report as generated (`GenerateCredentialReport`): the CSV and when
/// it was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialReport {
    pub generated_ms: i64,
    pub content: Vec<u8>,
}

// What decides a principal's calls.
/// A principal's identity policies: inline documents, and the ARNs of attached managed
/// policies (customer managed ones resolved to their default version's document here; AWS
/// managed ones left for the caller's catalogue).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grants {
    pub documents: Vec<String>,
    pub aws_managed: Vec<String>,
}
