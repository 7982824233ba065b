//! Accounts and their credentials.
//!
//! Secrets are stored in clear text in `identity.db`, which cairn creates with mode 0600 inside
//! a data directory of mode 0700: the same protection the AWS CLI gives `~/.aws/credentials`.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Mutex, RwLock};

use cairn_model::{AccountId, ids};
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::StoreError;

const SCHEMA: &str = include_str!("../../sql/identity.sql");

/// Whose a key is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOwner {
    Root,
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
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub alias: Option<String>,
}

pub struct IdentityStore {
    conn: Mutex<Connection>,
    /// Keys already read, so that authenticating a request does not touch SQLite. Every change
    /// to a key goes through this store, which keeps the cache in step.
    keys: RwLock<HashMap<String, AccessKey>>,
}

impl IdentityStore {
    pub fn open(path: &Path) -> Result<IdentityStore, StoreError> {
        let conn = Connection::open(path)?;
        conn.execute_batch(SCHEMA)?;
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
            conn: Mutex::new(conn),
            keys: RwLock::new(HashMap::new()),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let c = self.conn();
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

    /// Creates an account and its root access key.
    pub fn create_account(&self, now_ms: i64) -> Result<(Account, AccessKey), StoreError> {
        let c = self.conn();
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
        };
        c.execute(
            "INSERT INTO accounts (id, alias, created_ms) VALUES (?1, NULL, ?2)",
            params![id.as_str(), now_ms],
        )?;
        c.execute(
            "INSERT INTO access_keys (access_key_id, secret, account, principal, created_ms) VALUES (?1, ?2, ?3, 'root', ?4)",
            params![key.access_key_id, key.secret_access_key, id.as_str(), now_ms],
        )?;
        Ok((Account { id, alias: None }, key))
    }

    /// Finds a key by id.
    pub fn key(&self, access_key_id: &str) -> Result<Option<AccessKey>, StoreError> {
        if let Some(k) = self
            .keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(access_key_id)
        {
            return Ok(Some(k.clone()));
        }
        let found = self.key_from_db(access_key_id)?;
        if let Some(k) = &found {
            self.keys
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(k.access_key_id.clone(), k.clone());
        }
        Ok(found)
    }

    fn key_from_db(&self, access_key_id: &str) -> Result<Option<AccessKey>, StoreError> {
        let c = self.conn();
        let row = c
            .query_row(
                "SELECT access_key_id, secret, account, principal, status, session_token, expires_ms FROM access_keys WHERE access_key_id = ?1",
                [access_key_id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<i64>>(6)?,
                    ))
                },
            )
            .optional()?;
        let Some((akid, secret, account, principal, status, token, expires)) = row else {
            return Ok(None);
        };
        let owner = match principal.as_str() {
            "root" => KeyOwner::Root,
            other => return Err(StoreError::Invalid(format!("unknown key owner {other}"))),
        };
        Ok(Some(AccessKey {
            access_key_id: akid,
            secret_access_key: secret,
            account: AccountId::parse(&account).map_err(|e| StoreError::Invalid(e.to_string()))?,
            owner,
            active: status == "Active",
            session_token: token,
            expires_ms: expires,
        }))
    }

    /// The account's active root key, if any.
    pub fn root_key(&self, account: &AccountId) -> Result<Option<AccessKey>, StoreError> {
        let id: Option<String> = self
            .conn()
            .query_row(
                "SELECT access_key_id FROM access_keys WHERE account = ?1 AND principal = 'root' AND status = 'Active' ORDER BY created_ms LIMIT 1",
                [account.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        match id {
            Some(id) => self.key(&id),
            None => Ok(None),
        }
    }

    /// An instance-wide random secret, created on first use.
    pub fn instance_secret(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let c = self.conn();
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
mod tests {
    use super::*;

    #[test]
    fn accounts_keys_and_permissions() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("identity.db");
        let s = IdentityStore::open(&path).unwrap();
        assert!(s.accounts().unwrap().is_empty());
        let (acct, key) = s.create_account(1).unwrap();
        assert_eq!(s.accounts().unwrap(), vec![acct.clone()]);
        assert_eq!(s.key(&key.access_key_id).unwrap().unwrap(), key);
        assert_eq!(s.root_key(&acct.id).unwrap().unwrap(), key);
        assert!(s.key("AKIANOPE").unwrap().is_none());
        for p in ["identity.db", "identity.db-wal", "identity.db-shm"] {
            let mode = std::fs::metadata(d.path().join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600, "{p}");
        }
        let a = s.instance_secret("t").unwrap();
        assert_eq!(a.len(), 32);
        assert_eq!(s.instance_secret("t").unwrap(), a);
        drop(s);
        let s = IdentityStore::open(&path).unwrap();
        assert_eq!(s.key(&key.access_key_id).unwrap().unwrap(), key);
    }
}
