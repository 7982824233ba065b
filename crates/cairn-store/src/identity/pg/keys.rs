//! Access keys on PostgreSQL: the account root's, IAM users' (at most two each), and
//! temporary STS credentials with the session they belong to. Secret access keys and session
//! tokens are sealed; they are unsealed only to hand a key to the caller.

use cairn_model::{AccountId, ids};
use postgres::{Client, Row};

use super::{PgIdentity, account_id, bump};
use crate::error::StoreError;
use crate::identity::model::*;
use crate::identity::{IamError, IamResult};
use crate::pg::backend;

/// How often a key's last use is written down (AWS itself reports it with hours of delay).
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

const KEY_COLUMNS: &str =
    "k.access_key_id, k.secret_sealed, k.account, k.principal, k.status, k.session_token_sealed,
     k.expires_ms, k.created_ms, s.session_name, s.mfa, s.session_created_ms";

const KEYS_FROM: &str = "access_keys k LEFT JOIN key_sessions s USING (access_key_id)";

/// A key's secrets as they are stored.
pub(super) struct SealedKey {
    secret: Vec<u8>,
    token: Option<Vec<u8>>,
}

pub(super) fn insert_key(
    c: &mut Client,
    key: &AccessKey,
    sealed: &SealedKey,
) -> Result<(), postgres::Error> {
    c.execute(
        "INSERT INTO access_keys (access_key_id, secret_sealed, account, principal, status, session_token_sealed, expires_ms, created_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &key.access_key_id,
            &sealed.secret,
            &key.account.as_str(),
            &key.owner.column(),
            &if key.active { "Active" } else { "Inactive" },
            &sealed.token,
            &key.expires_ms,
            &key.created_ms,
        ],
    )?;
    if let Some(s) = &key.session {
        c.execute(
            "INSERT INTO key_sessions (access_key_id, session_name, mfa, session_created_ms) VALUES ($1, $2, $3, $4)",
            &[&key.access_key_id, &s.name, &s.mfa, &s.created_ms],
        )?;
    }
    Ok(())
}

fn no_such_key(id: &str) -> IamError {
    IamError::NoSuchEntity(format!("The Access Key with id {id} cannot be found."))
}

impl PgIdentity {
    pub(super) fn seal_key(&self, key: &AccessKey) -> Result<SealedKey, StoreError> {
        Ok(SealedKey {
            secret: self.sealer.seal(key.secret_access_key.as_bytes())?,
            token: key
                .session_token
                .as_ref()
                .map(|t| self.sealer.seal(t.as_bytes()))
                .transpose()?,
        })
    }

    fn unseal_text(&self, sealed: &[u8]) -> Result<String, StoreError> {
        String::from_utf8(self.sealer.unseal(sealed)?)
            .map_err(|_| StoreError::Crypto("a sealed secret is not text".into()))
    }

    fn key_of(&self, r: &Row) -> Result<AccessKey, StoreError> {
        let secret: Vec<u8> = r.get(1);
        let token: Option<Vec<u8>> = r.get(5);
        let principal: String = r.get(3);
        let status: String = r.get(4);
        let s_mfa: Option<bool> = r.get(9);
        let s_created: Option<i64> = r.get(10);
        let session = match (s_mfa, s_created) {
            (Some(mfa), Some(created_ms)) => Some(KeySession {
                name: r.get(8),
                mfa,
                created_ms,
            }),
            _ => None,
        };
        Ok(AccessKey {
            access_key_id: r.get(0),
            secret_access_key: self.unseal_text(&secret)?,
            account: account_id(r.get(2))?,
            owner: KeyOwner::from_column(&principal)?,
            active: status == "Active",
            session_token: token.map(|t| self.unseal_text(&t)).transpose()?,
            expires_ms: r.get(6),
            created_ms: r.get(7),
            session,
        })
    }

    /// Keys matching `filter` (on `k`, with `$1`), in `order`.
    fn keys_where(&self, filter: &str, value: &str, order: &str) -> IamResult<Vec<AccessKey>> {
        let rows = self
            .db
            .read()
            .query(
                &format!("SELECT {KEY_COLUMNS} FROM {KEYS_FROM} WHERE {filter} ORDER BY {order}"),
                &[&value],
            )
            .map_err(backend)?;
        Ok(rows
            .iter()
            .map(|r| self.key_of(r))
            .collect::<Result<_, _>>()?)
    }

    /// Finds a key by id. Long-term keys are kept under the generation (`crate::pg::fresh`); temporary
    /// ones are read every time, since expired ones are removed without moving it.
    pub fn key(&self, access_key_id: &str) -> Result<Option<AccessKey>, StoreError> {
        self.key_at(access_key_id, self.generation_to_keep()?)
    }

    /// The key and, for a root key, its account, under one reading of the generation.
    pub fn key_with_account(
        &self,
        access_key_id: &str,
    ) -> Result<Option<(AccessKey, Option<Account>)>, StoreError> {
        let generation = self.generation_to_keep()?;
        let Some(key) = self.key_at(access_key_id, generation)? else {
            return Ok(None);
        };
        let account = match key.owner {
            KeyOwner::Root => self.account_at(&key.account, generation)?,
            _ => None,
        };
        Ok(Some((key, account)))
    }

    fn key_at(
        &self,
        access_key_id: &str,
        generation: Option<u64>,
    ) -> Result<Option<AccessKey>, StoreError> {
        let read = || {
            self.db
                .read()
                .query_opt(
                    &format!("SELECT {KEY_COLUMNS} FROM {KEYS_FROM} WHERE k.access_key_id = $1"),
                    &[&access_key_id],
                )
                .map_err(backend)?
                .map(|r| self.key_of(&r))
                .transpose()
        };
        self.through(&self.keys, access_key_id, generation, read, |k| {
            k.session_token.is_none() && k.expires_ms.is_none()
        })
    }

    /// The account's active root key, if any.
    pub fn root_key(&self, account: &AccountId) -> Result<Option<AccessKey>, StoreError> {
        self.db
            .read()
            .query_opt(
                &format!(
                    "SELECT {KEY_COLUMNS} FROM {KEYS_FROM} WHERE k.account = $1 AND k.principal = 'root' AND k.status = 'Active' AND k.session_token_sealed IS NULL ORDER BY k.created_ms LIMIT 1"
                ),
                &[&account.as_str()],
            )
            .map_err(backend)?
            .map(|r| self.key_of(&r))
            .transpose()
    }

    /// Creates a long-term key for a user (LimitExceeded beyond two).
    pub fn create_user_key(&self, user: &User, now_ms: i64) -> IamResult<AccessKey> {
        let owner = KeyOwner::User {
            user_id: user.user_id.clone(),
        };
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
        let sealed = self.seal_key(&key)?;
        self.db.write_with(|c| {
            bump(c)?;
            let count: i64 = c
                .query_one(
                    "SELECT count(*) FROM access_keys WHERE principal = $1 AND session_token_sealed IS NULL",
                    &[&key.owner.column()],
                )?
                .get(0);
            if count as usize >= KEYS_PER_USER {
                return Ok(Err(IamError::LimitExceeded(format!(
                    "Cannot exceed quota for AccessKeysPerUser: {KEYS_PER_USER}"
                ))));
            }
            insert_key(c, &key, &sealed)?;
            Ok(Ok(()))
        })??;
        Ok(key)
    }

    /// A user's long-term keys, oldest first.
    pub fn user_keys(&self, user: &User) -> IamResult<Vec<AccessKey>> {
        let owner = KeyOwner::User {
            user_id: user.user_id.clone(),
        };
        self.keys_where(
            "k.principal = $1 AND k.session_token_sealed IS NULL",
            &owner.column(),
            "k.created_ms, k.access_key_id COLLATE \"C\"",
        )
    }

    /// The account's temporary credentials still on record (expired ones are dropped as new
    /// ones are issued).
    pub fn temporary_keys(&self, account: &AccountId) -> IamResult<Vec<AccessKey>> {
        self.keys_where(
            "k.account = $1 AND k.session_token_sealed IS NOT NULL",
            account.as_str(),
            "k.created_ms",
        )
    }

    /// The root user's long-term keys.
    pub fn root_keys(&self, account: &AccountId) -> IamResult<Vec<AccessKey>> {
        self.keys_where(
            "k.account = $1 AND k.principal = 'root' AND k.session_token_sealed IS NULL",
            account.as_str(),
            "k.created_ms, k.access_key_id COLLATE \"C\"",
        )
    }

    /// Activates or deactivates a long-term key.
    pub fn set_key_active(&self, access_key_id: &str, active: bool) -> IamResult<()> {
        let status = if active { "Active" } else { "Inactive" };
        let n = self.db.write_with(|c| {
            bump(c)?;
            c.execute(
                "UPDATE access_keys SET status = $2 WHERE access_key_id = $1 AND session_token_sealed IS NULL",
                &[&access_key_id, &status],
            )
        })?;
        if n == 0 {
            return Err(no_such_key(access_key_id));
        }
        Ok(())
    }

    /// Deletes a long-term key.
    pub fn delete_key(&self, access_key_id: &str) -> IamResult<()> {
        let n = self.db.write_with(|c| {
            bump(c)?;
            c.execute(
                "DELETE FROM key_last_used WHERE access_key_id = $1",
                &[&access_key_id],
            )?;
            c.execute(
                "DELETE FROM access_keys WHERE access_key_id = $1 AND session_token_sealed IS NULL",
                &[&access_key_id],
            )
        })?;
        if n == 0 {
            return Err(no_such_key(access_key_id));
        }
        Ok(())
    }

    /// Issues temporary credentials (`ASIA…` with a session token). Like the embedded store,
    /// it does not move the generation: nothing can have been cached under a key id not
    /// issued yet.
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
        let sealed = self.seal_key(&key)?;
        self.db.write_with(|c| {
            // Expired sessions are of no use to anyone; drop them as new ones arrive.
            c.execute(
                "DELETE FROM access_keys WHERE expires_ms IS NOT NULL AND expires_ms < $1",
                &[&(now_ms - 86_400_000)],
            )?;
            insert_key(c, &key, &sealed)
        })?;
        Ok(key)
    }

    /// Notes that a key was used (written at most once a minute per key and node).
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
        let noted = self.db.write_with(|c| c.execute(
            "INSERT INTO key_last_used (access_key_id, used_ms, service, region) VALUES ($1, $2, $3, $4)
             ON CONFLICT (access_key_id) DO UPDATE SET used_ms = EXCLUDED.used_ms, service = EXCLUDED.service, region = EXCLUDED.region",
            &[&access_key_id, &now_ms, &service, &region],
        ));
        if let Err(e) = noted {
            tracing::warn!(error = %e, "could not note a key's last use");
        }
    }

    pub fn key_last_used(&self, access_key_id: &str) -> IamResult<Option<LastUsed>> {
        Ok(self
            .db
            .read()
            .query_opt(
                "SELECT used_ms, service, region FROM key_last_used WHERE access_key_id = $1",
                &[&access_key_id],
            )
            .map_err(backend)?
            .map(|r| LastUsed {
                used_ms: r.get(0),
                service: r.get(1),
                region: r.get(2),
            }))
    }
}
