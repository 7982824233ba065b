//! The identity store in SQLite (`identity.db`, schema in `sql/identity.sql`), one file per
//! concern, with in-memory caches of what authentication reads on every request.
//!
//! Secrets are stored in clear text in `identity.db`, which cairn creates with mode 0600 inside
//! a data directory of mode 0700: the same protection the AWS CLI gives `~/.aws/credentials`.
//! Passwords are kept only as PBKDF2 hashes.
//!
//! Every IAM change bumps a generation number, so that callers may cache what they derive from
//! IAM (such as a principal's policies) and notice when it goes stale.

pub(super) mod console;
pub(super) mod entities;
mod keys;
mod policies;

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::RwLock;

use cairn_model::{AccountId, ids};
use rusqlite::{OptionalExtension, params};

use crate::db::Db;
use crate::error::StoreError;
use crate::identity::model::*;
use crate::identity::{IamResult, IdentityStore};

const SCHEMA: &str = include_str!("../../../sql/identity.sql");

/// Lookups by id that authentication repeats on every request, kept until IAM changes (the
/// store's generation moves on).
struct ByIdCache<T> {
    map: RwLock<HashMap<String, (u64, Option<T>)>>,
}

impl<T: Clone> ByIdCache<T> {
    fn new() -> Self {
        ByIdCache {
            map: RwLock::new(HashMap::new()),
        }
    }

    /// `generation` is `None` inside a call that has changed IAM and not committed yet: what
    /// it reads is not what others see, so it neither uses nor fills the cache.
    fn get_or_load(
        &self,
        id: &str,
        generation: Option<u64>,
        load: impl FnOnce() -> Result<Option<T>, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let Some(generation) = generation else {
            return load();
        };
        if let Some((g, v)) = self.map.read().unwrap_or_else(|p| p.into_inner()).get(id)
            && *g == generation
        {
            return Ok(v.clone());
        }
        let v = load()?;
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        // Ids are few (users, roles, accounts); a stale map is simply started afresh.
        if map.len() > 100_000 {
            map.clear();
        }
        map.insert(id.to_owned(), (generation, v.clone()));
        Ok(v)
    }
}

pub struct SqliteIdentity {
    db: Db,
    /// Keys already read, so that authenticating a request does not touch SQLite; every
    /// committed change to a key moves the generation on.
    keys: ByIdCache<AccessKey>,
    /// When each key's last use was last written down.
    last_used: RwLock<HashMap<String, i64>>,
    users_by_id: ByIdCache<User>,
    roles_by_id: ByIdCache<Role>,
    accounts_by_id: ByIdCache<Account>,
}

impl SqliteIdentity {
    pub fn open(path: &Path) -> Result<SqliteIdentity, StoreError> {
        let db = Db::open(path, SCHEMA)?;
        add_root_mfa_column(&db)?;
        // Owner-only, including SQLite's write-ahead log and shared-memory files.
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let mut shm = path.as_os_str().to_owned();
        shm.push("-shm");
        for p in [path.to_path_buf(), wal.into(), shm.into()] {
            if p.exists() {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| StoreError::io(&p, e))?;
            }
        }
        Ok(SqliteIdentity {
            db,
            keys: ByIdCache::new(),
            last_used: RwLock::new(HashMap::new()),
            users_by_id: ByIdCache::new(),
            roles_by_id: ByIdCache::new(),
            accounts_by_id: ByIdCache::new(),
        })
    }

    /// Moves on with every committed IAM change.
    pub fn generation(&self) -> u64 {
        self.db.generation()
    }

    /// The generation to cache what is read now under, or `None` if the current call has
    /// uncommitted IAM changes (nothing it reads may be cached for others).
    pub fn cache_generation(&self) -> Option<u64> {
        (!self.db.uncommitted_here()).then(|| self.db.generation())
    }

    fn changed(&self) {
        self.db.changed();
    }

    pub fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let c = self.db.read();
        let mut st =
            c.prepare_cached("SELECT id, alias, created_ms FROM accounts ORDER BY created_ms, id")?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, alias, created_ms) = row?;
            let id = AccountId::parse(&id).map_err(|e| StoreError::Invalid(e.to_string()))?;
            out.push(Account {
                id,
                alias,
                created_ms,
            });
        }
        Ok(out)
    }

    pub fn account(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        self.accounts_by_id
            .get_or_load(id.as_str(), self.cache_generation(), || {
                self.account_from_db(id)
            })
    }

    fn account_from_db(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                "SELECT alias, created_ms FROM accounts WHERE id = ?1",
                [id.as_str()],
                |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()?
            .map(|(alias, created_ms)| Account {
                id: id.clone(),
                alias,
                created_ms,
            }))
    }

    /// Creates an account and its root access key.
    pub fn create_account(&self, now_ms: i64) -> Result<(Account, AccessKey), StoreError> {
        let c = self.db.write()?;
        let id = loop {
            let id = AccountId::random();
            let taken = c
                .query_row(
                    "SELECT 1 FROM accounts WHERE id = ?1",
                    [id.as_str()],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            if !taken {
                break id;
            }
        };
        let key = AccessKey {
            access_key_id: ids::new_access_key_id(),
            secret_access_key: ids::new_secret_access_key(),
            account: id.clone(),
            owner: KeyOwner::Root,
            active: true,
            session_token: None,
            expires_ms: None,
            created_ms: now_ms,
            session: None,
        };
        c.execute(
            "INSERT INTO accounts (id, alias, created_ms) VALUES (?1, NULL, ?2)",
            params![id.as_str(), now_ms],
        )?;
        Self::insert_key(&c, &key)?;
        drop(c);
        self.changed();
        Ok((
            Account {
                id,
                alias: None,
                created_ms: now_ms,
            },
            key,
        ))
    }

    /// The embedded store's generation is in memory: reading it is asking.
    pub fn cache_generation_seen(&self) -> Option<u64> {
        self.cache_generation()
    }

    pub fn mark_changed(&self) -> Result<(), StoreError> {
        // Joining the call's group makes the move happen when (and only if) it commits.
        drop(self.db.write()?);
        self.changed();
        Ok(())
    }

    /// An instance-wide random secret, created on first use.
    pub fn instance_secret(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let c = self.db.write()?;
        if let Some(v) = c
            .query_row("SELECT value FROM instance WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?
        {
            return Ok(v);
        }
        let v: Vec<u8> = rand::random::<[u8; 32]>().to_vec();
        c.execute(
            "INSERT INTO instance (name, value) VALUES (?1, ?2)",
            params![name, v],
        )?;
        Ok(v)
    }
}

/// Gives a database made before root could hold an MFA device the `root` column the schema
/// now declares (`CREATE TABLE IF NOT EXISTS` leaves an existing table as it was).
fn add_root_mfa_column(db: &Db) -> Result<(), StoreError> {
    let c = db.write()?;
    let has = c
        .prepare("SELECT 1 FROM pragma_table_info('iam_mfa_devices') WHERE name = 'root'")?
        .exists([])?;
    if !has {
        c.execute_batch("ALTER TABLE iam_mfa_devices ADD COLUMN root INTEGER NOT NULL DEFAULT 0")?;
    }
    Ok(())
}

impl IdentityStore for SqliteIdentity {
    forward! {
        fn generation(&self) -> u64;
        fn cache_generation(&self) -> Option<u64>;
        fn cache_generation_seen(&self) -> Option<u64>;
        fn accounts(&self) -> Result<Vec<Account>, StoreError>;
        fn account(&self, id: &AccountId) -> Result<Option<Account>, StoreError>;
        fn create_account(&self, now_ms: i64) -> Result<(Account, AccessKey), StoreError>;
        fn instance_secret(&self, name: &str) -> Result<Vec<u8>, StoreError>;
        fn mark_changed(&self) -> Result<(), StoreError>;
        fn create_user(&self, account: &AccountId, name: &str, path: &str, tags: &Tags, now_ms: i64) -> IamResult<User>;
        fn user(&self, account: &AccountId, name: &str) -> IamResult<User>;
        fn user_by_id(&self, user_id: &str) -> Result<Option<User>, StoreError>;
        fn users(&self, account: &AccountId, path_prefix: &str) -> IamResult<Vec<User>>;
        fn update_user(&self, account: &AccountId, name: &str, new_name: Option<&str>, new_path: Option<&str>) -> IamResult<User>;
        fn delete_user(&self, account: &AccountId, name: &str) -> IamResult<()>;
        fn create_group(&self, account: &AccountId, name: &str, path: &str, now_ms: i64) -> IamResult<Group>;
        fn group(&self, account: &AccountId, name: &str) -> IamResult<Group>;
        fn groups(&self, account: &AccountId, path_prefix: &str) -> IamResult<Vec<Group>>;
        fn delete_group(&self, account: &AccountId, name: &str) -> IamResult<()>;
        fn add_user_to_group(&self, account: &AccountId, group: &str, user: &str, now_ms: i64) -> IamResult<()>;
        fn remove_user_from_group(&self, account: &AccountId, group: &str, user: &str) -> IamResult<()>;
        fn group_members(&self, group: &Group) -> IamResult<Vec<User>>;
        fn groups_of(&self, user: &User) -> IamResult<Vec<Group>>;
        fn create_role(&self, account: &AccountId, new: NewRole<'_>, now_ms: i64) -> IamResult<Role>;
        fn role(&self, account: &AccountId, name: &str) -> IamResult<Role>;
        fn role_by_id(&self, role_id: &str) -> Result<Option<Role>, StoreError>;
        fn roles(&self, account: &AccountId, path_prefix: &str) -> IamResult<Vec<Role>>;
        fn delete_role(&self, account: &AccountId, name: &str) -> IamResult<()>;
        fn set_trust_policy(&self, account: &AccountId, name: &str, doc: &str) -> IamResult<()>;
        fn note_role_used(&self, role_id: &str, now_ms: i64, region: &str) -> IamResult<()>;
        fn note_password_used(&self, user_id: &str, now_ms: i64) -> IamResult<()>;
        fn key(&self, access_key_id: &str) -> Result<Option<AccessKey>, StoreError>;
        fn root_key(&self, account: &AccountId) -> Result<Option<AccessKey>, StoreError>;
        fn create_user_key(&self, user: &User, now_ms: i64) -> IamResult<AccessKey>;
        fn user_keys(&self, user: &User) -> IamResult<Vec<AccessKey>>;
        fn temporary_keys(&self, account: &AccountId) -> IamResult<Vec<AccessKey>>;
        fn root_keys(&self, account: &AccountId) -> IamResult<Vec<AccessKey>>;
        fn set_key_active(&self, access_key_id: &str, active: bool) -> IamResult<()>;
        fn delete_key(&self, access_key_id: &str) -> IamResult<()>;
        fn create_session_key(&self, s: NewSession<'_>, now_ms: i64) -> IamResult<AccessKey>;
        fn note_key_used(&self, access_key_id: &str, now_ms: i64, service: &str, region: &str);
        fn key_last_used(&self, access_key_id: &str) -> IamResult<Option<LastUsed>>;
        fn put_inline_policy(&self, owner: Owner<'_>, name: &str, document: &str) -> IamResult<()>;
        fn inline_policy(&self, owner: Owner<'_>, name: &str) -> IamResult<String>;
        fn inline_policy_names(&self, owner: Owner<'_>) -> IamResult<Vec<String>>;
        fn delete_inline_policy(&self, owner: Owner<'_>, name: &str) -> IamResult<()>;
        fn create_policy(&self, account: &AccountId, new: NewPolicy<'_>, now_ms: i64) -> IamResult<ManagedPolicy>;
        fn policy(&self, arn: &str) -> IamResult<ManagedPolicy>;
        fn policies(&self, account: &AccountId, path_prefix: &str) -> IamResult<Vec<ManagedPolicy>>;
        fn delete_policy(&self, arn: &str) -> IamResult<()>;
        fn create_policy_version(&self, arn: &str, document: &str, set_default: bool, now_ms: i64) -> IamResult<PolicyVersion>;
        fn policy_versions(&self, arn: &str) -> IamResult<Vec<PolicyVersion>>;
        fn policy_version(&self, arn: &str, version_id: &str) -> IamResult<PolicyVersion>;
        fn delete_policy_version(&self, arn: &str, version_id: &str) -> IamResult<()>;
        fn set_default_policy_version(&self, arn: &str, version_id: &str, now_ms: i64) -> IamResult<()>;
        fn attach_policy(&self, account: &AccountId, owner: Owner<'_>, arn: &str) -> IamResult<()>;
        fn detach_policy(&self, owner: Owner<'_>, arn: &str) -> IamResult<()>;
        fn attached_policies(&self, owner: Owner<'_>) -> IamResult<Vec<String>>;
        fn policy_entities(&self, arn: &str, account: &AccountId) -> IamResult<Vec<(OwnerKind, String)>>;
        fn attachment_count(&self, arn: &str, account: &AccountId) -> IamResult<i64>;
        fn policy_document(&self, arn: &str) -> IamResult<Option<String>>;
        fn create_login_profile(&self, user: &User, password: &str, reset_required: bool, now_ms: i64) -> IamResult<LoginProfile>;
        fn login_profile(&self, user: &User) -> IamResult<LoginProfile>;
        fn update_login_profile(&self, user: &User, password: Option<&str>, reset_required: Option<bool>) -> IamResult<()>;
        fn delete_login_profile(&self, user: &User) -> IamResult<()>;
        fn check_password(&self, user: &User, password: &str) -> IamResult<bool>;
        fn set_root_password(&self, account: &AccountId, password: &str, now_ms: i64) -> IamResult<()>;
        fn check_root_password(&self, account: &AccountId, password: &str) -> IamResult<bool>;
        fn has_root_password(&self, account: &AccountId) -> IamResult<bool>;
        fn create_mfa_device(&self, account: &AccountId, path: &str, name: &str, tags: &Tags, now_ms: i64) -> IamResult<MfaDevice>;
        fn mfa_device(&self, serial: &str) -> IamResult<MfaDevice>;
        fn mfa_devices(&self, account: &AccountId) -> IamResult<Vec<MfaDevice>>;
        fn enable_mfa_device(&self, account: &AccountId, holder: &MfaHolder, serial: &str, code1: &str, code2: &str, now_ms: i64) -> IamResult<()>;
        fn deactivate_mfa_device(&self, account: &AccountId, holder: &MfaHolder, serial: &str) -> IamResult<()>;
        fn delete_mfa_device(&self, serial: &str) -> IamResult<()>;
        fn check_mfa_code(&self, serial: &str, code: &str, now_ms: i64) -> IamResult<bool>;
        fn set_account_alias(&self, account: &AccountId, alias: &str) -> IamResult<()>;
        fn delete_account_alias(&self, account: &AccountId, alias: &str) -> IamResult<()>;
        fn put_credential_report(&self, account: &AccountId, report: &CredentialReport) -> IamResult<()>;
        fn credential_report(&self, account: &AccountId) -> IamResult<Option<CredentialReport>>;
    }
}

#[cfg(test)]
mod tests;
