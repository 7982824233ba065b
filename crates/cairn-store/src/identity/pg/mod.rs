//! The identity store on PostgreSQL (schema in `sql/pg/identity_*.sql`), one file per concern
//! as in the embedded store: accounts and instance secrets here, users, groups and roles in
//! `entities`, access keys in `keys`, policies in `policies`, console credentials in
//! `console`. Every write joins the call's group transaction (`crate::pg`).
//!
//! Secrets are sealed under the deployment's master key (`crate::seal`), as KMS key material
//! is: secret access keys, session tokens, TOTP seeds and instance secrets. The embedded store
//! keeps them in a file of mode 0600; a database shared by several nodes (and its backups) has
//! no such protection, so it never holds them in the clear. Passwords are PBKDF2 hashes, made
//! and checked as the embedded store does.
//!
//! The generation callers cache IAM under is a row, `identity_generation`, that every IAM
//! change moves first, in the change's own transaction: it moves for every node when the
//! change commits, never before. Each `generation()` is read in a read that began after the
//! caller did (one primary-key SELECT, shared by the calls that wait for it together:
//! `crate::pg::fresh`).
//!
//! What is kept in memory: what every signed call reads, its long-term access key and, for a
//! root key, its account, each under the generation read just before its rows were. A call
//! answers from it only when its own reading of the generation finds the same value; then no
//! IAM change committed, on any node, between the rows' reading and that reading, which came
//! after the call began, so what is kept is what reading the rows would return. That is why a key deleted or
//! deactivated on one node is refused by every other on its very next call, as if nothing were
//! kept. Never kept: temporary keys (issued, and removed once expired, without moving the
//! generation), absences (a temporary key may appear at any time), and anything a call reads
//! while it has IAM changes of its own not yet committed (it reads them through its group's
//! transaction; no other call may see them before they commit). Everything else is read on
//! every lookup.

mod console;
mod entities;
mod keys;
mod policies;

use std::collections::HashMap;
use std::path::Path;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use cairn_model::{AccountId, ids};
use postgres::Client;
use postgres::error::SqlState;

use crate::error::StoreError;
use crate::identity::model::*;
use crate::identity::{IamResult, IdentityStore};
use crate::pg::fresh::{Fresh, Kept};
use crate::pg::{Migration, PgDb, backend};
use crate::seal::Sealer;

const MIGRATIONS: &[Migration] = &[
    Migration {
        store: "identity",
        version: 1,
        sql: include_str!("../../../sql/pg/identity_0001.sql"),
    },
    Migration {
        store: "identity",
        version: 2,
        sql: include_str!("../../../sql/pg/identity_0002.sql"),
    },
];

pub struct PgIdentity {
    db: PgDb,
    sealer: Sealer,
    /// When this node last wrote down each key's use. Only a throttle (a use is written at
    /// most once a minute per key and node): with several nodes a key may be noted once a
    /// minute by each, which the last-used facts can bear.
    last_used: RwLock<HashMap<String, i64>>,
    /// The generation last read, answered if the database cannot be asked.
    last_generation: AtomicU64,
    /// Reads of the generation, shared by the calls that wait for one together.
    fresh: Fresh,
    /// Long-term access keys and accounts, each under the generation it was read after.
    keys: Kept<AccessKey>,
    accounts: Kept<Account>,
}

/// Moves the generation on. Every IAM change does it first, before touching other rows:
/// the row lock it takes (held until the change commits) is then always the first one an
/// IAM change waits for, so changes on two nodes queue rather than deadlock. Queueing them
/// is also what keeps quotas (count, then insert) and version numbers right across nodes: each
/// change counts what the ones before it committed. A change then refused (a quota, a
/// conflict) has moved the generation too: a harmless invalidation.
fn bump(c: &mut Client) -> Result<(), postgres::Error> {
    c.execute(
        "UPDATE identity_generation SET value = value + 1 WHERE id = 1",
        &[],
    )?;
    Ok(())
}

/// Runs `f` under a savepoint of its own, so that a unique violation (a name taken, by
/// another node too) is undone alone and answered as `None`, the enclosing operation going on.
fn unless_taken<T>(
    c: &mut Client,
    f: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
) -> Result<Option<T>, postgres::Error> {
    c.batch_execute("SAVEPOINT cairn_unique")?;
    match f(c) {
        Ok(v) => {
            c.batch_execute("RELEASE SAVEPOINT cairn_unique")?;
            Ok(Some(v))
        }
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            c.batch_execute("ROLLBACK TO SAVEPOINT cairn_unique; RELEASE SAVEPOINT cairn_unique")?;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn account_id(s: &str) -> Result<AccountId, StoreError> {
    AccountId::parse(s).map_err(|e| StoreError::Invalid(e.to_string()))
}

impl PgIdentity {
    /// The store in `schema` of the database at `url`; `master_key` seals secrets (created,
    /// mode 0600, if absent; every node of a deployment needs the same file).
    pub fn open(url: &str, schema: &str, master_key: &Path) -> Result<PgIdentity, StoreError> {
        Ok(PgIdentity {
            db: PgDb::connect(url, schema, MIGRATIONS)?,
            sealer: Sealer::open(master_key)?,
            last_used: RwLock::new(HashMap::new()),
            last_generation: AtomicU64::new(0),
            fresh: Fresh::default(),
            keys: Kept::default(),
            accounts: Kept::default(),
        })
    }

    /// The committed generation, from a read that began after this call did (one
    /// primary-key SELECT, shared with the calls that wait for the same read): a change made
    /// in the current call and not committed yet does not move it.
    fn committed_generation(&self) -> Result<u64, StoreError> {
        self.fresh.get(|| {
            let row = self
                .db
                .read_committed()
                .query_one("SELECT value FROM identity_generation WHERE id = 1", &[])
                .map_err(backend)?;
            let g = u64::try_from(row.get::<_, i64>(0)).unwrap_or(0);
            self.last_generation.store(g, Ordering::Release);
            Ok(g)
        })
    }

    /// The generation of now to answer from what is kept, or `None` inside a call with IAM
    /// changes of its own not yet committed (it reads, and sees, them through its own
    /// transaction; nothing it reads is kept).
    fn generation_to_keep(&self) -> Result<Option<u64>, StoreError> {
        if self.db.uncommitted_here() {
            return Ok(None);
        }
        self.committed_generation().map(Some)
    }

    /// `read`, answered from `kept` when it was read under `generation` (the generation of
    /// now: [`PgIdentity::generation_to_keep`]); otherwise read, and kept if `keep` says so.
    fn through<V: Clone>(
        &self,
        kept: &Kept<V>,
        id: &str,
        generation: Option<u64>,
        read: impl FnOnce() -> Result<Option<V>, StoreError>,
        keep: impl FnOnce(&V) -> bool,
    ) -> Result<Option<V>, StoreError> {
        let Some(generation) = generation else {
            return read();
        };
        if let Some(v) = kept.get(id, generation) {
            return Ok(Some(v));
        }
        let value = read()?;
        if let Some(v) = &value
            && keep(v)
        {
            kept.keep(id, generation, v.clone());
        }
        Ok(value)
    }

    /// Moves on with every committed IAM change, on every node.
    pub fn generation(&self) -> u64 {
        self.committed_generation().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not read the identity generation");
            self.last_generation.load(Ordering::Acquire)
        })
    }

    /// The generation to cache what is read now under, or `None` if the current call has
    /// uncommitted IAM changes or the generation cannot be read (nothing read now may be
    /// cached for others).
    pub fn cache_generation(&self) -> Option<u64> {
        if self.db.uncommitted_here() {
            return None;
        }
        self.committed_generation().ok()
    }

    pub fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let rows = self
            .db
            .read()
            .query(
                "SELECT id, alias, created_ms FROM accounts ORDER BY created_ms, id COLLATE \"C\"",
                &[],
            )
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(Account {
                    id: account_id(r.get(0))?,
                    alias: r.get(1),
                    created_ms: r.get(2),
                })
            })
            .collect()
    }

    /// An account (kept under the generation: see `crate::pg::fresh`).
    pub fn account(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        self.account_at(id, self.generation_to_keep()?)
    }

    fn account_at(
        &self,
        id: &AccountId,
        generation: Option<u64>,
    ) -> Result<Option<Account>, StoreError> {
        let read = || {
            Ok(self
                .db
                .read()
                .query_opt(
                    "SELECT alias, created_ms FROM accounts WHERE id = $1",
                    &[&id.as_str()],
                )
                .map_err(backend)?
                .map(|r| Account {
                    id: id.clone(),
                    alias: r.get(0),
                    created_ms: r.get(1),
                }))
        };
        self.through(&self.accounts, id.as_str(), generation, read, |_| true)
    }

    /// Creates an account and its root access key.
    pub fn create_account(&self, now_ms: i64) -> Result<(Account, AccessKey), StoreError> {
        let mut key = AccessKey {
            access_key_id: ids::new_access_key_id(),
            secret_access_key: ids::new_secret_access_key(),
            account: AccountId::random(),
            owner: KeyOwner::Root,
            active: true,
            session_token: None,
            expires_ms: None,
            created_ms: now_ms,
            session: None,
        };
        let sealed = self.seal_key(&key)?;
        let id = self.db.write_with(|c| {
            bump(c)?;
            // Ids are random: one already taken (by another node too) is drawn again.
            while c.execute(
                "INSERT INTO accounts (id, alias, created_ms) VALUES ($1, NULL, $2) ON CONFLICT DO NOTHING",
                &[&key.account.as_str(), &now_ms],
            )? == 0
            {
                key.account = AccountId::random();
            }
            keys::insert_key(c, &key, &sealed)?;
            Ok(key.account.clone())
        })?;
        Ok((
            Account {
                id,
                alias: None,
                created_ms: now_ms,
            },
            key,
        ))
    }

    /// An instance-wide random secret, created on first use; every node gets the same one.
    pub fn cache_generation_seen(&self) -> Option<u64> {
        if self.db.uncommitted_here() {
            return None;
        }
        Some(self.last_generation.load(Ordering::Acquire))
    }

    pub fn mark_changed(&self) -> Result<(), StoreError> {
        self.db.write_with(bump)
    }

    pub fn instance_secret(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let fresh: Vec<u8> = rand::random::<[u8; 32]>().to_vec();
        let sealed_fresh = self.sealer.seal(&fresh)?;
        let sealed: Vec<u8> = self
            .db
            .write_with(|c| {
                c.execute(
                    "INSERT INTO instance (name, value_sealed) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                    &[&name, &sealed_fresh],
                )?;
                // Inside a call the writer sees its own row; outside, the one that won.
                c.query_one(
                    "SELECT value_sealed FROM instance WHERE name = $1",
                    &[&name],
                )
            })?
            .get(0);
        self.sealer.unseal(&sealed)
    }
}

impl IdentityStore for PgIdentity {
    fn key_with_account(
        &self,
        access_key_id: &str,
    ) -> Result<Option<(AccessKey, Option<Account>)>, StoreError> {
        crate::pg::blocking(|| PgIdentity::key_with_account(self, access_key_id))
    }

    forward! {
        blocking:
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
