//! Accounts, their IAM entities (users, groups, roles, policies, console credentials) and the
//! access keys that act for them.
//!
//! Secrets are stored in clear text in `identity.db`, which cairn creates with mode 0600 inside
//! a data directory of mode 0700: the same protection the AWS CLI gives `~/.aws/credentials`.
//! Passwords are kept only as PBKDF2 hashes.
//!
//! Every IAM change bumps a generation number, so that callers may cache what they derive from
//! IAM (such as a principal's policies) and notice when it goes stale.

mod console;
mod entities;
mod error;
mod grants;
mod keys;
mod policies;
pub mod totp;

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::RwLock;

use cairn_model::{AccountId, ids};
use rusqlite::{OptionalExtension, params};

use crate::db::Db;
use crate::error::StoreError;

pub use console::{LoginProfile, MfaDevice};
pub use entities::{GROUPS_PER_USER, Group, NewRole, Role, Tags, User};
pub use error::{IamError, IamResult};
pub use grants::Grants;
pub use keys::{AccessKey, KEYS_PER_USER, KeyOwner, KeySession, LastUsed, NewSession};
pub use policies::{
    ATTACHED_PER_ENTITY, ManagedPolicy, NewPolicy, Owner, OwnerKind, PolicyVersion,
    VERSIONS_PER_POLICY,
};

const SCHEMA: &str = include_str!("../../sql/identity.sql");

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub alias: Option<String>,
}

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

pub struct IdentityStore {
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

impl IdentityStore {
    pub fn open(path: &Path) -> Result<IdentityStore, StoreError> {
        let db = Db::open(path, SCHEMA)?;
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
        Ok(IdentityStore {
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
        let mut st = c.prepare("SELECT id, alias FROM accounts ORDER BY created_ms, id")?;
        let rows = st.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, alias) = row?;
            let id = AccountId::parse(&id).map_err(|e| StoreError::Invalid(e.to_string()))?;
            out.push(Account { id, alias });
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
                "SELECT alias FROM accounts WHERE id = ?1",
                [id.as_str()],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .map(|alias| Account {
                id: id.clone(),
                alias,
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
        Ok((Account { id, alias: None }, key))
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

#[cfg(test)]
mod tests;
