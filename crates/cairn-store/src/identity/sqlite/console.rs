//! Console credentials: login profiles (passwords, kept only as PBKDF2 hashes) and virtual MFA
//! devices (TOTP seeds, enabled with two consecutive codes; a code is good once).

use std::num::NonZeroU32;

use cairn_model::AccountId;
use ring::pbkdf2;
use rusqlite::{OptionalExtension, params};

use super::SqliteIdentity;
use super::entities::tags_to_json;
use crate::identity::model::*;
use crate::identity::totp;
use crate::identity::{IamError, IamResult};

const PBKDF2_ROUNDS: u32 = 100_000;

pub(in crate::identity) fn hash(password: &str, salt: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 32];
    let rounds = NonZeroU32::new(PBKDF2_ROUNDS).unwrap_or(NonZeroU32::MIN);
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        rounds,
        salt,
        password.as_bytes(),
        &mut out,
    );
    out
}

/// Whether `password` hashes to `want` with `salt` (in constant time).
pub(in crate::identity) fn verify(password: &str, salt: &[u8], want: &[u8]) -> bool {
    let rounds = NonZeroU32::new(PBKDF2_ROUNDS).unwrap_or(NonZeroU32::MIN);
    pbkdf2::verify(
        pbkdf2::PBKDF2_HMAC_SHA256,
        rounds,
        salt,
        password.as_bytes(),
        want,
    )
    .is_ok()
}

fn no_profile(user: &str) -> IamError {
    IamError::NoSuchEntity(format!("Login Profile for User {user} cannot be found."))
}

/// The holder the `user_id` and `root` columns name.
pub(in crate::identity) fn holder_of(user_id: Option<String>, root: bool) -> Option<MfaHolder> {
    match (user_id, root) {
        (Some(user_id), _) => Some(MfaHolder::User { user_id }),
        (None, true) => Some(MfaHolder::Root),
        (None, false) => None,
    }
}

/// The `user_id` and `root` columns of a holder.
pub(in crate::identity) fn holder_columns(holder: &MfaHolder) -> (Option<&str>, bool) {
    match holder {
        MfaHolder::User { user_id } => (Some(user_id.as_str()), false),
        MfaHolder::Root => (None, true),
    }
}

fn no_device(serial: &str) -> IamError {
    IamError::NoSuchEntity(format!(
        "MFA Device with serial number {serial} does not exist."
    ))
}

impl SqliteIdentity {
    // ---- login profiles ----

    pub fn create_login_profile(
        &self,
        user: &User,
        password: &str,
        reset_required: bool,
        now_ms: i64,
    ) -> IamResult<LoginProfile> {
        let salt: [u8; 16] = rand::random();
        let r = self.db.write()?.execute(
            "INSERT INTO iam_login_profiles (user_id, salt, hash, reset_required, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![user.user_id, salt.to_vec(), hash(password, &salt), reset_required, now_ms],
        );
        match r {
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(IamError::EntityAlreadyExists(format!(
                    "Login Profile for user {} already exists.",
                    user.name
                )));
            }
            r => r?,
        };
        self.changed();
        Ok(LoginProfile {
            user_name: user.name.clone(),
            created_ms: now_ms,
            reset_required,
        })
    }

    pub fn login_profile(&self, user: &User) -> IamResult<LoginProfile> {
        self.db
            .read()
            .query_row(
                "SELECT created_ms, reset_required FROM iam_login_profiles WHERE user_id = ?1",
                [&user.user_id],
                |r| {
                    Ok(LoginProfile {
                        user_name: user.name.clone(),
                        created_ms: r.get(0)?,
                        reset_required: r.get(1)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| no_profile(&user.name))
    }

    pub fn update_login_profile(
        &self,
        user: &User,
        password: Option<&str>,
        reset_required: Option<bool>,
    ) -> IamResult<()> {
        self.login_profile(user)?;
        let c = self.db.write()?;
        if let Some(pw) = password {
            let salt: [u8; 16] = rand::random();
            c.execute(
                "UPDATE iam_login_profiles SET salt = ?2, hash = ?3 WHERE user_id = ?1",
                params![user.user_id, salt.to_vec(), hash(pw, &salt)],
            )?;
        }
        if let Some(r) = reset_required {
            c.execute(
                "UPDATE iam_login_profiles SET reset_required = ?2 WHERE user_id = ?1",
                params![user.user_id, r],
            )?;
        }
        Ok(())
    }

    pub fn delete_login_profile(&self, user: &User) -> IamResult<()> {
        let n = self.db.write()?.execute(
            "DELETE FROM iam_login_profiles WHERE user_id = ?1",
            [&user.user_id],
        )?;
        if n == 0 {
            return Err(no_profile(&user.name));
        }
        self.changed();
        Ok(())
    }

    /// Whether `password` is the user's console password.
    pub fn check_password(&self, user: &User, password: &str) -> IamResult<bool> {
        let row: Option<(Vec<u8>, Vec<u8>)> = self
            .db
            .read()
            .query_row(
                "SELECT salt, hash FROM iam_login_profiles WHERE user_id = ?1",
                [&user.user_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.is_some_and(|(salt, want)| verify(password, &salt, &want)))
    }

    // ---- the root user's password ----

    pub fn set_root_password(
        &self,
        account: &AccountId,
        password: &str,
        now_ms: i64,
    ) -> IamResult<()> {
        let salt: [u8; 16] = rand::random();
        self.db.write()?.execute(
            "INSERT INTO root_passwords (account, salt, hash, set_ms) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (account) DO UPDATE SET salt = excluded.salt, hash = excluded.hash, set_ms = excluded.set_ms",
            params![account.as_str(), salt.to_vec(), hash(password, &salt), now_ms],
        )?;
        self.changed();
        Ok(())
    }

    pub fn check_root_password(&self, account: &AccountId, password: &str) -> IamResult<bool> {
        let row: Option<(Vec<u8>, Vec<u8>)> = self
            .db
            .read()
            .query_row(
                "SELECT salt, hash FROM root_passwords WHERE account = ?1",
                [account.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.is_some_and(|(salt, want)| verify(password, &salt, &want)))
    }

    pub fn has_root_password(&self, account: &AccountId) -> IamResult<bool> {
        Ok(self
            .db
            .read()
            .query_row(
                "SELECT 1 FROM root_passwords WHERE account = ?1",
                [account.as_str()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    // ---- virtual MFA devices ----

    pub fn create_mfa_device(
        &self,
        account: &AccountId,
        path: &str,
        name: &str,
        tags: &Tags,
        now_ms: i64,
    ) -> IamResult<MfaDevice> {
        let serial = format!("arn:aws:iam::{account}:mfa{path}{name}");
        let mut seed = [0u8; 40];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut seed);
        let r = self.db.write()?.execute(
            "INSERT INTO iam_mfa_devices (serial, account, seed, tags, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![serial, account.as_str(), seed.to_vec(), tags_to_json(tags), now_ms],
        );
        match r {
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(IamError::EntityAlreadyExists(
                    "MFADevice entity at the same path and name already exists.".into(),
                ));
            }
            r => r?,
        };
        Ok(MfaDevice {
            serial,
            account: account.clone(),
            seed: seed.to_vec(),
            created_ms: now_ms,
            holder: None,
            enabled_ms: None,
        })
    }

    pub fn mfa_device(&self, serial: &str) -> IamResult<MfaDevice> {
        self.db.read()
            .query_row(
                "SELECT serial, account, seed, created_ms, user_id, enabled_ms, root FROM iam_mfa_devices WHERE serial = ?1",
                [serial],
                |r| {
                    let account: String = r.get(1)?;
                    let user_id: Option<String> = r.get(4)?;
                    let root: bool = r.get(6)?;
                    Ok(MfaDevice {
                        serial: r.get(0)?,
                        account: AccountId::parse(&account).map_err(|e| {
                            rusqlite::Error::FromSqlConversionFailure(
                                1,
                                rusqlite::types::Type::Text,
                                Box::new(e),
                            )
                        })?,
                        seed: r.get(2)?,
                        created_ms: r.get(3)?,
                        holder: holder_of(user_id, root),
                        enabled_ms: r.get(5)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| no_device(serial))
    }

    /// The account's virtual MFA devices, by serial.
    pub fn mfa_devices(&self, account: &AccountId) -> IamResult<Vec<MfaDevice>> {
        let serials: Vec<String> = {
            let c = self.db.read();
            let mut st = c.prepare_cached(
                "SELECT serial FROM iam_mfa_devices WHERE account = ?1 ORDER BY serial",
            )?;
            st.query_map([account.as_str()], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        serials.iter().map(|s| self.mfa_device(s)).collect()
    }

    /// Enables a device for a user or the root user, given two consecutive codes from it.
    pub fn enable_mfa_device(
        &self,
        account: &AccountId,
        holder: &MfaHolder,
        serial: &str,
        code1: &str,
        code2: &str,
        now_ms: i64,
    ) -> IamResult<()> {
        let d = self.mfa_device(serial)?;
        if d.account != *account {
            return Err(no_device(serial));
        }
        if d.holder.is_some() {
            return Err(IamError::EntityAlreadyExists(
                "MFA Device is already in use.".into(),
            ));
        }
        let step = totp::enabling_step(&d.seed, code1, code2, now_ms)?;
        let (user_id, root) = holder_columns(holder);
        self.db.write()?.execute(
            "UPDATE iam_mfa_devices SET user_id = ?2, root = ?3, enabled_ms = ?4, last_step = ?5 WHERE serial = ?1",
            params![serial, user_id, root, now_ms, step + 1],
        )?;
        self.changed();
        Ok(())
    }

    pub fn deactivate_mfa_device(
        &self,
        account: &AccountId,
        holder: &MfaHolder,
        serial: &str,
    ) -> IamResult<()> {
        let d = self.mfa_device(serial)?;
        if d.account != *account || d.holder.as_ref() != Some(holder) {
            return Err(no_device(serial));
        }
        self.db.write()?.execute(
            "UPDATE iam_mfa_devices SET user_id = NULL, root = 0, enabled_ms = NULL WHERE serial = ?1",
            [serial],
        )?;
        self.changed();
        Ok(())
    }

    pub fn delete_mfa_device(&self, serial: &str) -> IamResult<()> {
        let d = self.mfa_device(serial)?;
        if d.holder.is_some() {
            return Err(IamError::DeleteConflict(
                "MFA device is still in use.".into(),
            ));
        }
        self.db
            .write()?
            .execute("DELETE FROM iam_mfa_devices WHERE serial = ?1", [serial])?;
        Ok(())
    }

    /// Checks a one-time code from an enabled device; each code is good once.
    pub fn check_mfa_code(&self, serial: &str, code: &str, now_ms: i64) -> IamResult<bool> {
        let d = self.mfa_device(serial)?;
        if d.holder.is_none() {
            return Ok(false);
        }
        let now = totp::step_at(now_ms);
        let c = self.db.write()?;
        let last: Option<i64> = c.query_row(
            "SELECT last_step FROM iam_mfa_devices WHERE serial = ?1",
            [serial],
            |r| r.get(0),
        )?;
        let Some(step) = (now - 1..=now + 1).find(|s| totp::code(&d.seed, *s) == code) else {
            return Ok(false);
        };
        if last.is_some_and(|l| step <= l) {
            return Ok(false);
        }
        c.execute(
            "UPDATE iam_mfa_devices SET last_step = ?2 WHERE serial = ?1",
            params![serial, step],
        )?;
        Ok(true)
    }

    // ---- account alias ----

    pub fn set_account_alias(&self, account: &AccountId, alias: &str) -> IamResult<()> {
        let r = self.db.write()?.execute(
            "UPDATE accounts SET alias = ?2 WHERE id = ?1",
            params![account.as_str(), alias],
        );
        match r {
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(IamError::EntityAlreadyExists(format!(
                    "The account alias {alias} already exists."
                )));
            }
            r => r?,
        };
        self.changed();
        Ok(())
    }

    pub fn delete_account_alias(&self, account: &AccountId, alias: &str) -> IamResult<()> {
        let n = self.db.write()?.execute(
            "UPDATE accounts SET alias = NULL WHERE id = ?1 AND alias = ?2",
            params![account.as_str(), alias],
        )?;
        if n == 0 {
            return Err(IamError::NoSuchEntity(format!(
                "The account alias {alias} cannot be found."
            )));
        }
        self.changed();
        Ok(())
    }

    // ---- credential reports ----

    pub fn put_credential_report(
        &self,
        account: &AccountId,
        report: &CredentialReport,
    ) -> IamResult<()> {
        self.db.write()?.execute(
            "INSERT INTO credential_reports (account, generated_ms, content) VALUES (?1, ?2, ?3) \
             ON CONFLICT (account) DO UPDATE SET generated_ms = excluded.generated_ms, content = excluded.content",
            params![account.as_str(), report.generated_ms, report.content],
        )?;
        Ok(())
    }

    pub fn credential_report(&self, account: &AccountId) -> IamResult<Option<CredentialReport>> {
        Ok(self
            .db
            .read()
            .query_row(
                "SELECT generated_ms, content FROM credential_reports WHERE account = ?1",
                [account.as_str()],
                |r| {
                    Ok(CredentialReport {
                        generated_ms: r.get(0)?,
                        content: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }
}
