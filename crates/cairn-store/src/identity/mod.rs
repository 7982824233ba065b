//! Accounts, their IAM entities (users, groups, roles, policies, console credentials) and the
//! access keys that act for them.
//!
//! [`IdentityStore`] is the contract, in IAM's terms: names unique per account (case-
//! insensitively, as IAM does), AWS's quotas, deletion refused while something still hangs
//! off an entity, errors as [`IamError`]. Every committed IAM change moves the store's
//! generation on once it is committed, never before (a rolled-back one may move it too: a
//! harmless invalidation), so that callers may cache what they derive from IAM (a principal's
//! policies, a key) under [`IdentityStore::cache_generation`] and notice when it goes stale. [`SqliteIdentity`] is the embedded backend, [`PgIdentity`] the one several nodes share; the shared suite
//! (`crate::suite::identity`) holds any backend to this contract.

mod error;
mod grants;
pub mod model;
pub mod pg;
pub mod sqlite;
pub mod totp;

pub use error::{IamError, IamResult};
pub use model::*;
pub use pg::PgIdentity;
pub use sqlite::SqliteIdentity;

use cairn_model::AccountId;

use crate::error::StoreError;

/// Accounts, IAM entities and access keys.
pub trait IdentityStore: Send + Sync {
    // ---- generations: what caches follow

    /// Moves on with every committed IAM change, once it is committed (never before; a
    /// rolled-back change may move it too). Anything derived from IAM and cached (the
    /// authorization cache, the store's own key and principal caches) is kept under the
    /// generation it was read at and dropped when this moves on.
    fn generation(&self) -> u64;

    /// The generation to cache what is read now under, or `None` if the current call has
    /// uncommitted IAM changes (nothing it reads may be cached for others).
    fn cache_generation(&self) -> Option<u64>;

    /// As [`IdentityStore::cache_generation`], but the generation this process last read
    /// rather than a new reading: at least as fresh as the current call's authentication
    /// (which reads it to look up the caller's key), without asking again. `None` inside a
    /// call with IAM changes of its own not yet committed.
    fn cache_generation_seen(&self) -> Option<u64>;

    // ---- accounts

    fn accounts(&self) -> Result<Vec<Account>, StoreError>;

    fn account(&self, id: &AccountId) -> Result<Option<Account>, StoreError>;

    /// Creates an account and its root access key.
    fn create_account(&self, now_ms: i64) -> Result<(Account, AccessKey), StoreError>;

    /// An instance-wide random secret, created on first use.
    fn instance_secret(&self, name: &str) -> Result<Vec<u8>, StoreError>;

    /// Moves the generation on as an IAM change does, with the current call: for a change
    /// outside IAM that decides what principals may do (an organization's service control
    /// policies), so that caches following the generation drop what they derived, on every
    /// node.
    fn mark_changed(&self) -> Result<(), StoreError>;

    // ---- users, groups, roles

    fn create_user(
        &self,
        account: &AccountId,
        name: &str,
        path: &str,
        tags: &Tags,
        now_ms: i64,
    ) -> IamResult<User>;

    fn user(&self, account: &AccountId, name: &str) -> IamResult<User>;

    fn user_by_id(&self, user_id: &str) -> Result<Option<User>, StoreError>;

    /// Users whose path starts with `path_prefix`, by name.
    fn users(&self, account: &AccountId, path_prefix: &str) -> IamResult<Vec<User>>;

    fn update_user(
        &self,
        account: &AccountId,
        name: &str,
        new_name: Option<&str>,
        new_path: Option<&str>,
    ) -> IamResult<User>;

    fn delete_user(&self, account: &AccountId, name: &str) -> IamResult<()>;

    fn create_group(
        &self,
        account: &AccountId,
        name: &str,
        path: &str,
        now_ms: i64,
    ) -> IamResult<Group>;

    fn group(&self, account: &AccountId, name: &str) -> IamResult<Group>;

    fn groups(&self, account: &AccountId, path_prefix: &str) -> IamResult<Vec<Group>>;

    fn delete_group(&self, account: &AccountId, name: &str) -> IamResult<()>;

    fn add_user_to_group(
        &self,
        account: &AccountId,
        group: &str,
        user: &str,
        now_ms: i64,
    ) -> IamResult<()>;

    fn remove_user_from_group(&self, account: &AccountId, group: &str, user: &str)
    -> IamResult<()>;

    /// A group's members, by name.
    fn group_members(&self, group: &Group) -> IamResult<Vec<User>>;

    /// The groups a user is in, by name.
    fn groups_of(&self, user: &User) -> IamResult<Vec<Group>>;

    fn create_role(&self, account: &AccountId, new: NewRole<'_>, now_ms: i64) -> IamResult<Role>;

    fn role(&self, account: &AccountId, name: &str) -> IamResult<Role>;

    fn role_by_id(&self, role_id: &str) -> Result<Option<Role>, StoreError>;

    fn roles(&self, account: &AccountId, path_prefix: &str) -> IamResult<Vec<Role>>;

    fn delete_role(&self, account: &AccountId, name: &str) -> IamResult<()>;

    fn set_trust_policy(&self, account: &AccountId, name: &str, doc: &str) -> IamResult<()>;

    fn note_role_used(&self, role_id: &str, now_ms: i64, region: &str) -> IamResult<()>;

    /// A user signed in with their password (GetUser's and ListUsers' `PasswordLastUsed`).
    fn note_password_used(&self, user_id: &str, now_ms: i64) -> IamResult<()>;

    // ---- access keys and sessions

    /// Finds a key by id.
    fn key(&self, access_key_id: &str) -> Result<Option<AccessKey>, StoreError>;

    /// What authenticating a request reads: the key, and for an account root's key, its
    /// account (`None` for other keys, or an account gone). One lookup, as of one moment, so
    /// that a backend that must ask its database whether IAM changed (PostgreSQL) asks once.
    fn key_with_account(
        &self,
        access_key_id: &str,
    ) -> Result<Option<(AccessKey, Option<Account>)>, StoreError> {
        let Some(key) = self.key(access_key_id)? else {
            return Ok(None);
        };
        let account = match key.owner {
            KeyOwner::Root => self.account(&key.account)?,
            _ => None,
        };
        Ok(Some((key, account)))
    }

    /// The account's active root key, if any.
    fn root_key(&self, account: &AccountId) -> Result<Option<AccessKey>, StoreError>;

    /// Creates a long-term key for a user (LimitExceeded beyond two).
    fn create_user_key(&self, user: &User, now_ms: i64) -> IamResult<AccessKey>;

    /// A user's long-term keys, oldest first.
    fn user_keys(&self, user: &User) -> IamResult<Vec<AccessKey>>;

    /// The account's temporary credentials still on record (expired ones are dropped as new
    /// ones are issued).
    fn temporary_keys(&self, account: &AccountId) -> IamResult<Vec<AccessKey>>;

    /// The root user's long-term keys.
    fn root_keys(&self, account: &AccountId) -> IamResult<Vec<AccessKey>>;

    /// Activates or deactivates a long-term key.
    fn set_key_active(&self, access_key_id: &str, active: bool) -> IamResult<()>;

    /// Deletes a long-term key.
    fn delete_key(&self, access_key_id: &str) -> IamResult<()>;

    /// Issues temporary credentials (`ASIA…` with a session token).
    fn create_session_key(&self, s: NewSession<'_>, now_ms: i64) -> IamResult<AccessKey>;

    /// Notes that a key was used (written at most once a minute per key).
    fn note_key_used(&self, access_key_id: &str, now_ms: i64, service: &str, region: &str);

    fn key_last_used(&self, access_key_id: &str) -> IamResult<Option<LastUsed>>;

    // ---- policies

    fn put_inline_policy(&self, owner: Owner<'_>, name: &str, document: &str) -> IamResult<()>;

    fn inline_policy(&self, owner: Owner<'_>, name: &str) -> IamResult<String>;

    /// Names of an owner's inline policies, sorted.
    fn inline_policy_names(&self, owner: Owner<'_>) -> IamResult<Vec<String>>;

    fn delete_inline_policy(&self, owner: Owner<'_>, name: &str) -> IamResult<()>;

    fn create_policy(
        &self,
        account: &AccountId,
        new: NewPolicy<'_>,
        now_ms: i64,
    ) -> IamResult<ManagedPolicy>;

    /// A customer managed policy by ARN.
    fn policy(&self, arn: &str) -> IamResult<ManagedPolicy>;

    /// The account's customer managed policies under a path, by name.
    fn policies(&self, account: &AccountId, path_prefix: &str) -> IamResult<Vec<ManagedPolicy>>;

    fn delete_policy(&self, arn: &str) -> IamResult<()>;

    fn create_policy_version(
        &self,
        arn: &str,
        document: &str,
        set_default: bool,
        now_ms: i64,
    ) -> IamResult<PolicyVersion>;

    fn policy_versions(&self, arn: &str) -> IamResult<Vec<PolicyVersion>>;

    fn policy_version(&self, arn: &str, version_id: &str) -> IamResult<PolicyVersion>;

    fn delete_policy_version(&self, arn: &str, version_id: &str) -> IamResult<()>;

    fn set_default_policy_version(&self, arn: &str, version_id: &str, now_ms: i64)
    -> IamResult<()>;

    /// Attaches a managed policy by ARN; whether the ARN names a policy is the caller's check.
    fn attach_policy(&self, account: &AccountId, owner: Owner<'_>, arn: &str) -> IamResult<()>;

    fn detach_policy(&self, owner: Owner<'_>, arn: &str) -> IamResult<()>;

    /// ARNs of the managed policies attached to an owner, sorted.
    fn attached_policies(&self, owner: Owner<'_>) -> IamResult<Vec<String>>;

    /// Who has a policy attached: (kind, id) pairs.
    fn policy_entities(
        &self,
        arn: &str,
        account: &AccountId,
    ) -> IamResult<Vec<(OwnerKind, String)>>;

    /// How many owners in an account have an (AWS managed) policy attached.
    fn attachment_count(&self, arn: &str, account: &AccountId) -> IamResult<i64>;

    /// The default version's document of a customer managed policy.
    fn policy_document(&self, arn: &str) -> IamResult<Option<String>>;

    // ---- console credentials

    fn create_login_profile(
        &self,
        user: &User,
        password: &str,
        reset_required: bool,
        now_ms: i64,
    ) -> IamResult<LoginProfile>;

    fn login_profile(&self, user: &User) -> IamResult<LoginProfile>;

    fn update_login_profile(
        &self,
        user: &User,
        password: Option<&str>,
        reset_required: Option<bool>,
    ) -> IamResult<()>;

    fn delete_login_profile(&self, user: &User) -> IamResult<()>;

    /// Whether `password` is the user's console password.
    fn check_password(&self, user: &User, password: &str) -> IamResult<bool>;

    /// Sets (or replaces) the root user's console password.
    fn set_root_password(&self, account: &AccountId, password: &str, now_ms: i64) -> IamResult<()>;

    /// Whether `password` is the root user's console password (false when none is set).
    fn check_root_password(&self, account: &AccountId, password: &str) -> IamResult<bool>;

    /// Whether the root user has a console password at all.
    fn has_root_password(&self, account: &AccountId) -> IamResult<bool>;

    fn create_mfa_device(
        &self,
        account: &AccountId,
        path: &str,
        name: &str,
        tags: &Tags,
        now_ms: i64,
    ) -> IamResult<MfaDevice>;

    fn mfa_device(&self, serial: &str) -> IamResult<MfaDevice>;

    /// The account's virtual MFA devices, by serial.
    fn mfa_devices(&self, account: &AccountId) -> IamResult<Vec<MfaDevice>>;

    /// Enables a device of `account` for `holder` (one of its users, or its root user), given
    /// two consecutive codes from it.
    fn enable_mfa_device(
        &self,
        account: &AccountId,
        holder: &MfaHolder,
        serial: &str,
        code1: &str,
        code2: &str,
        now_ms: i64,
    ) -> IamResult<()>;

    /// Devices of `account` enabled for `holder`, by serial.
    fn mfa_devices_of(&self, account: &AccountId, holder: &MfaHolder) -> IamResult<Vec<MfaDevice>> {
        Ok(self
            .mfa_devices(account)?
            .into_iter()
            .filter(|d| d.holder.as_ref() == Some(holder))
            .collect())
    }

    /// Takes a device off `holder` (NoSuchEntity unless it is enabled for them).
    fn deactivate_mfa_device(
        &self,
        account: &AccountId,
        holder: &MfaHolder,
        serial: &str,
    ) -> IamResult<()>;

    /// Deletes a device enabled for no one (DeleteConflict while it is).
    fn delete_mfa_device(&self, serial: &str) -> IamResult<()>;

    /// Checks a one-time code from an enabled device; each code is good once.
    fn check_mfa_code(&self, serial: &str, code: &str, now_ms: i64) -> IamResult<bool>;

    fn set_account_alias(&self, account: &AccountId, alias: &str) -> IamResult<()>;

    /// Keeps `report` as the account's credential report, replacing the one before.
    fn put_credential_report(
        &self,
        account: &AccountId,
        report: &CredentialReport,
    ) -> IamResult<()>;

    /// The account's credential report, if one was generated.
    fn credential_report(&self, account: &AccountId) -> IamResult<Option<CredentialReport>>;

    fn delete_account_alias(&self, account: &AccountId, alias: &str) -> IamResult<()>;

    // ---- what decides a principal's calls (derived; the same for every backend)

    /// A user's policies, with those of its groups.
    fn user_grants(&self, user: &User) -> IamResult<Grants> {
        grants::user_grants(self, user)
    }

    /// A role's permission policies.
    fn role_grants(&self, role: &Role) -> IamResult<Grants> {
        grants::role_grants(self, role)
    }
}
