//! Console credentials on PostgreSQL: login profiles and the root user's password (PBKDF2
//! hashes, made and checked as the embedded store does), virtual MFA devices (TOTP seeds,
//! sealed; enabled with two consecutive codes; a code is good once, on every node), and the
//! account alias.

use cairn_model::AccountId;
use postgres::Row;

use super::{PgIdentity, account_id, bump, unless_taken};
use crate::error::StoreError;
use crate::identity::model::*;
use crate::identity::sqlite::console::{hash, holder_columns, holder_of, verify};
use crate::identity::sqlite::entities::tags_to_json;
use crate::identity::totp;
use crate::identity::{IamError, IamResult};
use crate::pg::backend;

fn no_profile(user: &str) -> IamError {
    IamError::NoSuchEntity(format!("Login Profile for User {user} cannot be found."))
}

fn no_device(serial: &str) -> IamError {
    IamError::NoSuchEntity(format!(
        "MFA Device with serial number {serial} does not exist."
    ))
}

const DEVICE_COLUMNS: &str = "serial, account, seed_sealed, created_ms, user_id, enabled_ms, root";

impl PgIdentity {
    fn device_of(&self, r: &Row) -> Result<MfaDevice, StoreError> {
        let sealed: Vec<u8> = r.get(2);
        Ok(MfaDevice {
            serial: r.get(0),
            account: account_id(r.get(1))?,
            seed: self.sealer.unseal(&sealed)?,
            created_ms: r.get(3),
            holder: holder_of(r.get(4), r.get(6)),
            enabled_ms: r.get(5),
        })
    }

    /// The salt and hash `sql` finds for `key` (its `$1`), if any.
    fn password_of(&self, sql: &str, key: &str) -> IamResult<Option<(Vec<u8>, Vec<u8>)>> {
        Ok(self
            .db
            .read()
            .query_opt(sql, &[&key])
            .map_err(backend)?
            .map(|r| (r.get(0), r.get(1))))
    }

    // ---- login profiles ----

    pub fn create_login_profile(
        &self,
        user: &User,
        password: &str,
        reset_required: bool,
        now_ms: i64,
    ) -> IamResult<LoginProfile> {
        let salt: [u8; 16] = rand::random();
        let hashed = hash(password, &salt);
        let n = self.db.write_with(|c| {
            bump(c)?;
            c.execute(
                "INSERT INTO iam_login_profiles (user_id, salt, hash, reset_required, created_ms) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT DO NOTHING",
                &[&user.user_id, &salt.as_slice(), &hashed, &reset_required, &now_ms],
            )
        })?;
        if n == 0 {
            return Err(IamError::EntityAlreadyExists(format!(
                "Login Profile for user {} already exists.",
                user.name
            )));
        }
        Ok(LoginProfile {
            user_name: user.name.clone(),
            created_ms: now_ms,
            reset_required,
        })
    }

    pub fn login_profile(&self, user: &User) -> IamResult<LoginProfile> {
        self.db
            .read()
            .query_opt(
                "SELECT created_ms, reset_required FROM iam_login_profiles WHERE user_id = $1",
                &[&user.user_id],
            )
            .map_err(backend)?
            .map(|r| LoginProfile {
                user_name: user.name.clone(),
                created_ms: r.get(0),
                reset_required: r.get(1),
            })
            .ok_or_else(|| no_profile(&user.name))
    }

    /// Like the embedded store, it leaves the generation: nothing callers cache holds a
    /// password.
    pub fn update_login_profile(
        &self,
        user: &User,
        password: Option<&str>,
        reset_required: Option<bool>,
    ) -> IamResult<()> {
        self.login_profile(user)?;
        let salted = password.map(|pw| {
            let salt: [u8; 16] = rand::random();
            (salt, hash(pw, &salt))
        });
        self.db.write_with(|c| {
            if let Some((salt, hashed)) = &salted {
                c.execute(
                    "UPDATE iam_login_profiles SET salt = $2, hash = $3 WHERE user_id = $1",
                    &[&user.user_id, &salt.as_slice(), hashed],
                )?;
            }
            if let Some(r) = reset_required {
                c.execute(
                    "UPDATE iam_login_profiles SET reset_required = $2 WHERE user_id = $1",
                    &[&user.user_id, &r],
                )?;
            }
            Ok(())
        })?;
        Ok(())
    }

    pub fn delete_login_profile(&self, user: &User) -> IamResult<()> {
        let n = self.db.write_with(|c| {
            bump(c)?;
            c.execute(
                "DELETE FROM iam_login_profiles WHERE user_id = $1",
                &[&user.user_id],
            )
        })?;
        if n == 0 {
            return Err(no_profile(&user.name));
        }
        Ok(())
    }

    /// Whether `password` is the user's console password.
    pub fn check_password(&self, user: &User, password: &str) -> IamResult<bool> {
        let kept = self.password_of(
            "SELECT salt, hash FROM iam_login_profiles WHERE user_id = $1",
            &user.user_id,
        )?;
        Ok(kept.is_some_and(|(salt, want)| verify(password, &salt, &want)))
    }

    // ---- the root user's password ----

    pub fn set_root_password(
        &self,
        account: &AccountId,
        password: &str,
        now_ms: i64,
    ) -> IamResult<()> {
        let salt: [u8; 16] = rand::random();
        let hashed = hash(password, &salt);
        self.db.write_with(|c| {
            bump(c)?;
            c.execute(
                "INSERT INTO root_passwords (account, salt, hash, set_ms) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (account) DO UPDATE SET salt = EXCLUDED.salt, hash = EXCLUDED.hash, set_ms = EXCLUDED.set_ms",
                &[&account.as_str(), &salt.as_slice(), &hashed, &now_ms],
            )
        })?;
        Ok(())
    }

    pub fn check_root_password(&self, account: &AccountId, password: &str) -> IamResult<bool> {
        let kept = self.password_of(
            "SELECT salt, hash FROM root_passwords WHERE account = $1",
            account.as_str(),
        )?;
        Ok(kept.is_some_and(|(salt, want)| verify(password, &salt, &want)))
    }

    pub fn has_root_password(&self, account: &AccountId) -> IamResult<bool> {
        Ok(self
            .db
            .read()
            .query_opt(
                "SELECT 1 FROM root_passwords WHERE account = $1",
                &[&account.as_str()],
            )
            .map_err(backend)?
            .is_some())
    }

    // ---- virtual MFA devices ----

    /// Like the embedded store, it leaves the generation: a device enabled for nobody
    /// changes no one's access.
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
        let sealed = self.sealer.seal(&seed)?;
        let n = self.db.write_with(|c| {
            c.execute(
                "INSERT INTO iam_mfa_devices (serial, account, seed_sealed, tags, created_ms) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT DO NOTHING",
                &[&serial, &account.as_str(), &sealed, &tags_to_json(tags), &now_ms],
            )
        })?;
        if n == 0 {
            return Err(IamError::EntityAlreadyExists(
                "MFADevice entity at the same path and name already exists.".into(),
            ));
        }
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
        self.db
            .read()
            .query_opt(
                &format!("SELECT {DEVICE_COLUMNS} FROM iam_mfa_devices WHERE serial = $1"),
                &[&serial],
            )
            .map_err(backend)?
            .map(|r| self.device_of(&r))
            .transpose()?
            .ok_or_else(|| no_device(serial))
    }

    /// The account's virtual MFA devices, by serial.
    pub fn mfa_devices(&self, account: &AccountId) -> IamResult<Vec<MfaDevice>> {
        let rows = self
            .db
            .read()
            .query(
                &format!(
                    "SELECT {DEVICE_COLUMNS} FROM iam_mfa_devices WHERE account = $1 ORDER BY serial"
                ),
                &[&account.as_str()],
            )
            .map_err(backend)?;
        Ok(rows
            .iter()
            .map(|r| self.device_of(r))
            .collect::<Result<_, _>>()?)
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
        let n = self.db.write_with(|c| {
            bump(c)?;
            // Only if no one (on another node) enabled it meanwhile.
            c.execute(
                "UPDATE iam_mfa_devices SET user_id = $2, root = $3, enabled_ms = $4, last_step = $5 \
                 WHERE serial = $1 AND user_id IS NULL AND NOT root",
                &[&serial, &user_id, &root, &now_ms, &(step + 1)],
            )
        })?;
        if n == 0 {
            return Err(IamError::EntityAlreadyExists(
                "MFA Device is already in use.".into(),
            ));
        }
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
        self.db.write_with(|c| {
            bump(c)?;
            c.execute(
                "UPDATE iam_mfa_devices SET user_id = NULL, root = FALSE, enabled_ms = NULL WHERE serial = $1",
                &[&serial],
            )
        })?;
        Ok(())
    }

    pub fn delete_mfa_device(&self, serial: &str) -> IamResult<()> {
        let d = self.mfa_device(serial)?;
        if d.holder.is_some() {
            return Err(IamError::DeleteConflict(
                "MFA device is still in use.".into(),
            ));
        }
        self.db.write_with(|c| {
            c.execute(
                "DELETE FROM iam_mfa_devices WHERE serial = $1 AND user_id IS NULL AND NOT root",
                &[&serial],
            )
        })?;
        Ok(())
    }

    /// Checks a one-time code from an enabled device; each code is good once, whichever node
    /// it is shown to (the newest step accepted moves on in one conditional UPDATE).
    pub fn check_mfa_code(&self, serial: &str, code: &str, now_ms: i64) -> IamResult<bool> {
        let d = self.mfa_device(serial)?;
        if d.holder.is_none() {
            return Ok(false);
        }
        let now = totp::step_at(now_ms);
        let Some(step) = (now - 1..=now + 1).find(|s| totp::code(&d.seed, *s) == code) else {
            return Ok(false);
        };
        let n = self.db.write_with(|c| {
            c.execute(
                "UPDATE iam_mfa_devices SET last_step = $2 WHERE serial = $1 AND (last_step IS NULL OR last_step < $2)",
                &[&serial, &step],
            )
        })?;
        Ok(n > 0)
    }

    // ---- account alias ----

    pub fn set_account_alias(&self, account: &AccountId, alias: &str) -> IamResult<()> {
        let done = self.db.write_with(|c| {
            bump(c)?;
            unless_taken(c, |c| {
                c.execute(
                    "UPDATE accounts SET alias = $2 WHERE id = $1",
                    &[&account.as_str(), &alias],
                )
            })
        })?;
        if done.is_none() {
            return Err(IamError::EntityAlreadyExists(format!(
                "The account alias {alias} already exists."
            )));
        }
        Ok(())
    }

    pub fn delete_account_alias(&self, account: &AccountId, alias: &str) -> IamResult<()> {
        let n = self.db.write_with(|c| {
            bump(c)?;
            c.execute(
                "UPDATE accounts SET alias = NULL WHERE id = $1 AND alias = $2",
                &[&account.as_str(), &alias],
            )
        })?;
        if n == 0 {
            return Err(IamError::NoSuchEntity(format!(
                "The account alias {alias} cannot be found."
            )));
        }
        Ok(())
    }

    // ---- credential reports ----

    pub fn put_credential_report(
        &self,
        account: &AccountId,
        report: &CredentialReport,
    ) -> IamResult<()> {
        self.db.write_with(|c| {
            c.execute(
                "INSERT INTO credential_reports (account, generated_ms, content) VALUES ($1, $2, $3) \
                 ON CONFLICT (account) DO UPDATE SET generated_ms = excluded.generated_ms, content = excluded.content",
                &[&account.as_str(), &report.generated_ms, &report.content],
            )
        })?;
        Ok(())
    }

    pub fn credential_report(&self, account: &AccountId) -> IamResult<Option<CredentialReport>> {
        Ok(self
            .db
            .read()
            .query_opt(
                "SELECT generated_ms, content FROM credential_reports WHERE account = $1",
                &[&account.as_str()],
            )
            .map_err(backend)?
            .map(|r| CredentialReport {
                generated_ms: r.get(0),
                content: r.get(1),
            }))
    }
}
