//! Access keys: the account root's, IAM users' (at most two each), and temporary STS
//! credentials with the session they belong to. Every change goes through here, which keeps
//! the authentication cache in step.

use cairn_model::{AccountId, ids};
use rusqlite::{OptionalExtension, params};

use super::SqliteIdentity;
use crate::error::StoreError;
use crate::identity::model::*;
use crate::identity::{IamError, IamResult};

/// How often a key's last use is written down (AWS itself reports it with hours of delay).
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

impl SqliteIdentity {
    /// Finds a key by id.
    pub fn key(&self, access_key_id: &str) -> Result<Option<AccessKey>, StoreError> {
        self.keys
            .get_or_load(access_key_id, self.cache_generation(), || {
                self.key_from_db(access_key_id)
            })
    }

    fn key_from_db(&self, access_key_id: &str) -> Result<Option<AccessKey>, StoreError> {
        let c = self.db.read();
        let row = c
            .query_row(
                "SELECT k.access_key_id, k.secret, k.account, k.principal, k.status, k.session_token,
                        k.expires_ms, k.created_ms, s.session_name, s.mfa, s.session_created_ms
                 FROM access_keys k LEFT JOIN key_sessions s USING (access_key_id)
                 WHERE k.access_key_id = ?1",
                [access_key_id],
                |r| {
                    Ok((
                        (
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, String>(4)?,
                        ),
                        (
                            r.get::<_, Option<String>>(5)?,
                            r.get::<_, Option<i64>>(6)?,
                            r.get::<_, i64>(7)?,
                            r.get::<_, Option<String>>(8)?,
                            r.get::<_, Option<bool>>(9)?,
                            r.get::<_, Option<i64>>(10)?,
                        ),
                    ))
                },
            )
            .optional()?;
        let Some((
            (akid, secret, account, principal, status),
            (token, expires, created, s_name, s_mfa, s_created),
        )) = row
        else {
            return Ok(None);
        };
        let session = match (s_mfa, s_created) {
            (Some(mfa), Some(created_ms)) => Some(KeySession {
                name: s_name,
                mfa,
                created_ms,
            }),
            _ => None,
        };
        Ok(Some(AccessKey {
            access_key_id: akid,
            secret_access_key: secret,
            account: AccountId::parse(&account).map_err(|e| StoreError::Invalid(e.to_string()))?,
            owner: KeyOwner::from_column(&principal)?,
            active: status == "Active",
            session_token: token,
            expires_ms: expires,
            created_ms: created,
            session,
        }))
    }

    /// The account's active root key, if any.
    pub fn root_key(&self, account: &AccountId) -> Result<Option<AccessKey>, StoreError> {
        let id: Option<String> = self
            .db.read()
            .query_row(
                "SELECT access_key_id FROM access_keys WHERE account = ?1 AND principal = 'root' AND status = 'Active' AND session_token IS NULL ORDER BY created_ms LIMIT 1",
                [account.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        match id {
            Some(id) => self.key(&id),
            None => Ok(None),
        }
    }

    pub(super) fn insert_key(c: &rusqlite::Connection, key: &AccessKey) -> Result<(), StoreError> {
        c.execute(
            "INSERT INTO access_keys (access_key_id, secret, account, principal, status, session_token, expires_ms, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                key.access_key_id,
                key.secret_access_key,
                key.account.as_str(),
                key.owner.column(),
                if key.active { "Active" } else { "Inactive" },
                key.session_token,
                key.expires_ms,
                key.created_ms
            ],
        )?;
        if let Some(s) = &key.session {
            c.execute(
                "INSERT INTO key_sessions (access_key_id, session_name, mfa, session_created_ms) VALUES (?1, ?2, ?3, ?4)",
                params![key.access_key_id, s.name, s.mfa, s.created_ms],
            )?;
        }
        Ok(())
    }

    /// Creates a long-term key for a user (LimitExceeded beyond two).
    pub fn create_user_key(&self, user: &User, now_ms: i64) -> IamResult<AccessKey> {
        let owner = KeyOwner::User {
            user_id: user.user_id.clone(),
        };
        let c = self.db.write()?;
        let count: i64 = c.query_row(
            "SELECT count(*) FROM access_keys WHERE principal = ?1 AND session_token IS NULL",
            [owner.column()],
            |r| r.get(0),
        )?;
        if count as usize >= KEYS_PER_USER {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for AccessKeysPerUser: {KEYS_PER_USER}"
            )));
        }
        let key = AccessKey {
            access_key_id: ids::new_access_key_id(),
            secret_access_key: ids::new_secret_access_key(),
            account: user.account.clone(),
            owner,
            active: true,
            session_token: None,
            expires_ms: None,
            created_ms: now_ms,
            session: None,
        };
        Self::insert_key(&c, &key)?;
        drop(c);
        self.changed();
        Ok(key)
    }

    /// Long-term keys (no session token) matching `filter` (`principal = ?1` or
    /// `account = ?1 AND principal = 'root'`), oldest first.
    fn long_term_keys(&self, filter: &str, value: &str) -> IamResult<Vec<AccessKey>> {
        let ids: Vec<String> = {
            let c = self.db.read();
            let mut st = c.prepare_cached(&format!(
                "SELECT access_key_id FROM access_keys WHERE {filter} AND session_token IS NULL ORDER BY created_ms, access_key_id"
            ))?;
            st.query_map([value], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        let mut out = Vec::new();
        for id in ids {
            if let Some(k) = self.key(&id)? {
                out.push(k);
            }
        }
        Ok(out)
    }

    /// A user's long-term keys, oldest first.
    pub fn user_keys(&self, user: &User) -> IamResult<Vec<AccessKey>> {
        let owner = KeyOwner::User {
            user_id: user.user_id.clone(),
        };
        self.long_term_keys("principal = ?1", &owner.column())
    }

    /// The account's temporary credentials still on record (expired ones are dropped as new
    /// ones are issued).
    pub fn temporary_keys(&self, account: &AccountId) -> IamResult<Vec<AccessKey>> {
        let ids: Vec<String> = {
            let c = self.db.read();
            let mut st = c.prepare_cached(
                "SELECT access_key_id FROM access_keys WHERE account = ?1 AND session_token IS NOT NULL ORDER BY created_ms",
            )?;
            st.query_map([account.as_str()], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(k) = self.key_from_db(&id)? {
                out.push(k);
            }
        }
        Ok(out)
    }

    /// The root user's long-term keys.
    pub fn root_keys(&self, account: &AccountId) -> IamResult<Vec<AccessKey>> {
        self.long_term_keys("account = ?1 AND principal = 'root'", account.as_str())
    }

    /// Activates or deactivates a long-term key.
    pub fn set_key_active(&self, access_key_id: &str, active: bool) -> IamResult<()> {
        let n = self.db.write()?.execute(
            "UPDATE access_keys SET status = ?2 WHERE access_key_id = ?1 AND session_token IS NULL",
            params![access_key_id, if active { "Active" } else { "Inactive" }],
        )?;
        if n == 0 {
            return Err(no_such_key(access_key_id));
        }
        self.changed();
        Ok(())
    }

    /// Deletes a long-term key.
    pub fn delete_key(&self, access_key_id: &str) -> IamResult<()> {
        let n = {
            let c = self.db.write()?;
            c.execute(
                "DELETE FROM key_last_used WHERE access_key_id = ?1",
                [access_key_id],
            )?;
            c.execute(
                "DELETE FROM access_keys WHERE access_key_id = ?1 AND session_token IS NULL",
                [access_key_id],
            )?
        };
        if n == 0 {
            return Err(no_such_key(access_key_id));
        }
        self.changed();
        Ok(())
    }

    /// Issues temporary credentials (`ASIA…` with a session token).
    pub fn create_session_key(&self, s: NewSession<'_>, now_ms: i64) -> IamResult<AccessKey> {
        let key = AccessKey {
            access_key_id: ids::new_temporary_access_key_id(),
            secret_access_key: ids::new_secret_access_key(),
            account: s.account.clone(),
            owner: s.owner,
            active: true,
            session_token: Some(ids::new_session_token()),
            expires_ms: Some(s.expires_ms),
            created_ms: now_ms,
            session: Some(KeySession {
                name: s.session_name.map(str::to_owned),
                mfa: s.mfa,
                created_ms: now_ms,
            }),
        };
        let c = self.db.write()?;
        // Expired sessions are of no use to anyone; drop them as new ones arrive.
        c.execute(
            "DELETE FROM access_keys WHERE expires_ms IS NOT NULL AND expires_ms < ?1",
            [now_ms - 86_400_000],
        )?;
        Self::insert_key(&c, &key)?;
        Ok(key)
    }

    /// Notes that a key was used (written at most once a minute per key).
    pub fn note_key_used(&self, access_key_id: &str, now_ms: i64, service: &str, region: &str) {
        {
            let seen = self.last_used.read().unwrap_or_else(|p| p.into_inner());
            if seen
                .get(access_key_id)
                .is_some_and(|t| now_ms - *t < LAST_USED_GRANULARITY_MS)
            {
                return;
            }
        }
        self.last_used
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(access_key_id.to_owned(), now_ms);
        let noted = self.db.write().and_then(|c| c.execute(
            "INSERT INTO key_last_used (access_key_id, used_ms, service, region) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (access_key_id) DO UPDATE SET used_ms = excluded.used_ms, service = excluded.service, region = excluded.region",
            params![access_key_id, now_ms, service, region],
        ));
        if let Err(e) = noted {
            tracing::warn!(error = %e, "could not note a key's last use");
        }
    }

    pub fn key_last_used(&self, access_key_id: &str) -> IamResult<Option<LastUsed>> {
        Ok(self
            .db
            .read()
            .query_row(
                "SELECT used_ms, service, region FROM key_last_used WHERE access_key_id = ?1",
                [access_key_id],
                |r| {
                    Ok(LastUsed {
                        used_ms: r.get(0)?,
                        service: r.get(1)?,
                        region: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }
}

fn no_such_key(id: &str) -> IamError {
    IamError::NoSuchEntity(format!("The Access Key with id {id} cannot be found."))
}
