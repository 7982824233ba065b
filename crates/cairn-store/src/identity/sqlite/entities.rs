//! IAM users, groups (with their members) and roles.

use cairn_model::{AccountId, ids};
use rusqlite::{OptionalExtension, Row, params};

use super::SqliteIdentity;
use crate::error::StoreError;
use crate::identity::model::*;
use crate::identity::{IamError, IamResult};

pub(in crate::identity) fn tags_to_json(tags: &Tags) -> String {
    serde_json::Value::Array(
        tags.iter()
            .map(|(k, v)| serde_json::json!({"Key": k, "Value": v}))
            .collect(),
    )
    .to_string()
}

pub(in crate::identity) fn tags_from_json(s: &str) -> Tags {
    serde_json::from_str::<Vec<serde_json::Value>>(s)
        .unwrap_or_default()
        .iter()
        .filter_map(|t| {
            Some((
                t.get("Key")?.as_str()?.to_owned(),
                t.get("Value")?.as_str()?.to_owned(),
            ))
        })
        .collect()
}

fn account_of(s: String) -> rusqlite::Result<AccountId> {
    AccountId::parse(&s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

const USER_COLUMNS: &str = "user_id, account, name, path, created_ms, password_last_used_ms, tags";
fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        user_id: r.get(0)?,
        account: account_of(r.get(1)?)?,
        name: r.get(2)?,
        path: r.get(3)?,
        created_ms: r.get(4)?,
        password_last_used_ms: r.get(5)?,
        tags: tags_from_json(&r.get::<_, String>(6)?),
    })
}

const GROUP_COLUMNS: &str = "group_id, account, name, path, created_ms";
fn group_row(r: &Row<'_>) -> rusqlite::Result<Group> {
    Ok(Group {
        group_id: r.get(0)?,
        account: account_of(r.get(1)?)?,
        name: r.get(2)?,
        path: r.get(3)?,
        created_ms: r.get(4)?,
    })
}

const ROLE_COLUMNS: &str = "role_id, account, name, path, trust_policy, description, max_session_duration, tags, created_ms, last_used_ms, last_used_region";
fn role_row(r: &Row<'_>) -> rusqlite::Result<Role> {
    let last_ms: Option<i64> = r.get(9)?;
    let last_region: Option<String> = r.get(10)?;
    Ok(Role {
        role_id: r.get(0)?,
        account: account_of(r.get(1)?)?,
        name: r.get(2)?,
        path: r.get(3)?,
        trust_policy: r.get(4)?,
        description: r.get(5)?,
        max_session_duration: r.get(6)?,
        tags: tags_from_json(&r.get::<_, String>(7)?),
        created_ms: r.get(8)?,
        last_used: last_ms.zip(last_region),
    })
}

fn no_user(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The user with name {name} cannot be found."))
}
fn no_group(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The group with name {name} cannot be found."))
}
fn no_role(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The role with name {name} cannot be found."))
}

/// Whether a (kind, id) owner has anything that blocks its deletion, in the order AWS checks.
fn conflicts(c: &rusqlite::Connection, kind: &str, id: &str) -> IamResult<Option<&'static str>> {
    let has = |sql: &str| -> IamResult<bool> {
        Ok(c.query_row(sql, [id], |_| Ok(())).optional()?.is_some())
    };
    if kind == "user" {
        if has(
            "SELECT 1 FROM access_keys WHERE principal = 'user:' || ?1 AND session_token IS NULL",
        )? {
            return Ok(Some("Cannot delete entity, must delete access keys first."));
        }
        if has("SELECT 1 FROM iam_login_profiles WHERE user_id = ?1")? {
            return Ok(Some(
                "Cannot delete entity, must delete login profile first.",
            ));
        }
        if has("SELECT 1 FROM iam_mfa_devices WHERE user_id = ?1")? {
            return Ok(Some("Cannot delete entity, must delete MFA device first."));
        }
        if has("SELECT 1 FROM iam_group_members WHERE user_id = ?1")? {
            return Ok(Some(
                "Cannot delete entity, must remove users from group first.",
            ));
        }
    }
    if kind == "group" && has("SELECT 1 FROM iam_group_members WHERE group_id = ?1")? {
        return Ok(Some(
            "Cannot delete entity, must remove users from group first.",
        ));
    }
    let inline =
        format!("SELECT 1 FROM iam_inline_policies WHERE owner_kind = '{kind}' AND owner_id = ?1");
    if has(&inline)? {
        return Ok(Some("Cannot delete entity, must delete policies first."));
    }
    let attached =
        format!("SELECT 1 FROM iam_attachments WHERE owner_kind = '{kind}' AND owner_id = ?1");
    if has(&attached)? {
        return Ok(Some(
            "Cannot delete entity, must detach all policies first.",
        ));
    }
    Ok(None)
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

impl SqliteIdentity {
    // ---- users ----

    pub fn create_user(
        &self,
        account: &AccountId,
        name: &str,
        path: &str,
        tags: &Tags,
        now_ms: i64,
    ) -> IamResult<User> {
        let user = User {
            user_id: ids::new_unique_id("AIDA"),
            account: account.clone(),
            name: name.into(),
            path: path.into(),
            created_ms: now_ms,
            password_last_used_ms: None,
            tags: tags.clone(),
        };
        let r = self.db.write()?.execute(
            "INSERT INTO iam_users (user_id, account, name, name_lower, path, tags, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![user.user_id, account.as_str(), name, name.to_lowercase(), path, tags_to_json(tags), now_ms],
        );
        match r {
            Err(e) if is_unique_violation(&e) => Err(IamError::EntityAlreadyExists(format!(
                "User with name {name} already exists."
            ))),
            Err(e) => Err(e.into()),
            Ok(_) => {
                self.changed();
                Ok(user)
            }
        }
    }

    pub fn user(&self, account: &AccountId, name: &str) -> IamResult<User> {
        self.db
            .read()
            .query_row(
                &format!(
                    "SELECT {USER_COLUMNS} FROM iam_users WHERE account = ?1 AND name_lower = ?2"
                ),
                params![account.as_str(), name.to_lowercase()],
                user_row,
            )
            .optional()?
            .ok_or_else(|| no_user(name))
    }

    pub fn user_by_id(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        self.users_by_id
            .get_or_load(user_id, self.cache_generation(), || {
                self.user_by_id_from_db(user_id)
            })
    }

    fn user_by_id_from_db(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                &format!("SELECT {USER_COLUMNS} FROM iam_users WHERE user_id = ?1"),
                [user_id],
                user_row,
            )
            .optional()?)
    }

    /// Users whose path starts with `path_prefix`, by name.
    pub fn users(&self, account: &AccountId, path_prefix: &str) -> IamResult<Vec<User>> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM iam_users WHERE account = ?1 AND substr(path, 1, length(?2)) = ?2 ORDER BY name_lower"
        ))?;
        Ok(st
            .query_map(params![account.as_str(), path_prefix], user_row)?
            .collect::<Result<_, _>>()?)
    }

    pub fn update_user(
        &self,
        account: &AccountId,
        name: &str,
        new_name: Option<&str>,
        new_path: Option<&str>,
    ) -> IamResult<User> {
        let user = self.user(account, name)?;
        let to_name = new_name.unwrap_or(&user.name);
        let to_path = new_path.unwrap_or(&user.path);
        let r = self.db.write()?.execute(
            "UPDATE iam_users SET name = ?2, name_lower = ?3, path = ?4 WHERE user_id = ?1",
            params![user.user_id, to_name, to_name.to_lowercase(), to_path],
        );
        match r {
            Err(e) if is_unique_violation(&e) => Err(IamError::EntityAlreadyExists(format!(
                "User with name {to_name} already exists."
            ))),
            Err(e) => Err(e.into()),
            Ok(_) => {
                self.changed();
                self.user(account, to_name)
            }
        }
    }

    pub fn delete_user(&self, account: &AccountId, name: &str) -> IamResult<()> {
        let user = self.user(account, name)?;
        let c = self.db.write()?;
        if let Some(why) = conflicts(&c, "user", &user.user_id)? {
            return Err(IamError::DeleteConflict(why.into()));
        }
        c.execute(
            "DELETE FROM access_keys WHERE principal = 'user:' || ?1",
            [&user.user_id],
        )?;
        c.execute("DELETE FROM iam_users WHERE user_id = ?1", [&user.user_id])?;
        drop(c);
        self.changed();
        Ok(())
    }

    // ---- groups ----

    pub fn create_group(
        &self,
        account: &AccountId,
        name: &str,
        path: &str,
        now_ms: i64,
    ) -> IamResult<Group> {
        let g = Group {
            group_id: ids::new_unique_id("AGPA"),
            account: account.clone(),
            name: name.into(),
            path: path.into(),
            created_ms: now_ms,
        };
        let r = self.db.write()?.execute(
            "INSERT INTO iam_groups (group_id, account, name, name_lower, path, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![g.group_id, account.as_str(), name, name.to_lowercase(), path, now_ms],
        );
        match r {
            Err(e) if is_unique_violation(&e) => Err(IamError::EntityAlreadyExists(format!(
                "Group with name {name} already exists."
            ))),
            Err(e) => Err(e.into()),
            Ok(_) => {
                self.changed();
                Ok(g)
            }
        }
    }

    pub fn group(&self, account: &AccountId, name: &str) -> IamResult<Group> {
        self.db
            .read()
            .query_row(
                &format!(
                    "SELECT {GROUP_COLUMNS} FROM iam_groups WHERE account = ?1 AND name_lower = ?2"
                ),
                params![account.as_str(), name.to_lowercase()],
                group_row,
            )
            .optional()?
            .ok_or_else(|| no_group(name))
    }

    pub fn groups(&self, account: &AccountId, path_prefix: &str) -> IamResult<Vec<Group>> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {GROUP_COLUMNS} FROM iam_groups WHERE account = ?1 AND substr(path, 1, length(?2)) = ?2 ORDER BY name_lower"
        ))?;
        Ok(st
            .query_map(params![account.as_str(), path_prefix], group_row)?
            .collect::<Result<_, _>>()?)
    }

    pub fn delete_group(&self, account: &AccountId, name: &str) -> IamResult<()> {
        let g = self.group(account, name)?;
        let c = self.db.write()?;
        if let Some(why) = conflicts(&c, "group", &g.group_id)? {
            return Err(IamError::DeleteConflict(why.into()));
        }
        c.execute("DELETE FROM iam_groups WHERE group_id = ?1", [&g.group_id])?;
        drop(c);
        self.changed();
        Ok(())
    }

    pub fn add_user_to_group(
        &self,
        account: &AccountId,
        group: &str,
        user: &str,
        now_ms: i64,
    ) -> IamResult<()> {
        let g = self.group(account, group)?;
        let u = self.user(account, user)?;
        let c = self.db.write()?;
        let count: i64 = c.query_row(
            "SELECT count(*) FROM iam_group_members WHERE user_id = ?1 AND group_id != ?2",
            params![u.user_id, g.group_id],
            |r| r.get(0),
        )?;
        if count as usize >= GROUPS_PER_USER {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}"
            )));
        }
        c.execute(
            "INSERT OR IGNORE INTO iam_group_members (group_id, user_id, added_ms) VALUES (?1, ?2, ?3)",
            params![g.group_id, u.user_id, now_ms],
        )?;
        drop(c);
        self.changed();
        Ok(())
    }

    pub fn remove_user_from_group(
        &self,
        account: &AccountId,
        group: &str,
        user: &str,
    ) -> IamResult<()> {
        let g = self.group(account, group)?;
        let u = self.user(account, user)?;
        let n = self.db.write()?.execute(
            "DELETE FROM iam_group_members WHERE group_id = ?1 AND user_id = ?2",
            params![g.group_id, u.user_id],
        )?;
        if n == 0 {
            return Err(IamError::NoSuchEntity(format!(
                "The user with name {user} cannot be found in group {group}."
            )));
        }
        self.changed();
        Ok(())
    }

    /// A group's members, by name.
    pub fn group_members(&self, group: &Group) -> IamResult<Vec<User>> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {} FROM iam_users u JOIN iam_group_members m USING (user_id) WHERE m.group_id = ?1 ORDER BY u.name_lower",
            USER_COLUMNS
                .split(", ")
                .map(|col| format!("u.{col}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))?;
        Ok(st
            .query_map([&group.group_id], user_row)?
            .collect::<Result<_, _>>()?)
    }

    /// The groups a user is in, by name.
    pub fn groups_of(&self, user: &User) -> IamResult<Vec<Group>> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {} FROM iam_groups g JOIN iam_group_members m USING (group_id) WHERE m.user_id = ?1 ORDER BY g.name_lower",
            GROUP_COLUMNS
                .split(", ")
                .map(|col| format!("g.{col}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))?;
        Ok(st
            .query_map([&user.user_id], group_row)?
            .collect::<Result<_, _>>()?)
    }

    // ---- roles ----

    pub fn create_role(
        &self,
        account: &AccountId,
        new: NewRole<'_>,
        now_ms: i64,
    ) -> IamResult<Role> {
        let role = Role {
            role_id: ids::new_unique_id("AROA"),
            account: account.clone(),
            name: new.name.into(),
            path: new.path.into(),
            trust_policy: new.trust_policy.into(),
            description: new.description.map(str::to_owned),
            max_session_duration: new.max_session_duration,
            tags: new.tags.clone(),
            created_ms: now_ms,
            last_used: None,
        };
        let r = self.db.write()?.execute(
            "INSERT INTO iam_roles (role_id, account, name, name_lower, path, trust_policy, description, max_session_duration, tags, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                role.role_id,
                account.as_str(),
                role.name,
                role.name.to_lowercase(),
                role.path,
                role.trust_policy,
                role.description,
                role.max_session_duration,
                tags_to_json(&role.tags),
                now_ms
            ],
        );
        match r {
            Err(e) if is_unique_violation(&e) => Err(IamError::EntityAlreadyExists(format!(
                "Role with name {} already exists.",
                new.name
            ))),
            Err(e) => Err(e.into()),
            Ok(_) => {
                self.changed();
                Ok(role)
            }
        }
    }

    pub fn role(&self, account: &AccountId, name: &str) -> IamResult<Role> {
        self.db
            .read()
            .query_row(
                &format!(
                    "SELECT {ROLE_COLUMNS} FROM iam_roles WHERE account = ?1 AND name_lower = ?2"
                ),
                params![account.as_str(), name.to_lowercase()],
                role_row,
            )
            .optional()?
            .ok_or_else(|| no_role(name))
    }

    pub fn role_by_id(&self, role_id: &str) -> Result<Option<Role>, StoreError> {
        self.roles_by_id
            .get_or_load(role_id, self.cache_generation(), || {
                self.role_by_id_from_db(role_id)
            })
    }

    fn role_by_id_from_db(&self, role_id: &str) -> Result<Option<Role>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                &format!("SELECT {ROLE_COLUMNS} FROM iam_roles WHERE role_id = ?1"),
                [role_id],
                role_row,
            )
            .optional()?)
    }

    pub fn roles(&self, account: &AccountId, path_prefix: &str) -> IamResult<Vec<Role>> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {ROLE_COLUMNS} FROM iam_roles WHERE account = ?1 AND substr(path, 1, length(?2)) = ?2 ORDER BY name_lower"
        ))?;
        Ok(st
            .query_map(params![account.as_str(), path_prefix], role_row)?
            .collect::<Result<_, _>>()?)
    }

    pub fn delete_role(&self, account: &AccountId, name: &str) -> IamResult<()> {
        let role = self.role(account, name)?;
        let c = self.db.write()?;
        if let Some(why) = conflicts(&c, "role", &role.role_id)? {
            return Err(IamError::DeleteConflict(why.into()));
        }
        c.execute("DELETE FROM iam_roles WHERE role_id = ?1", [&role.role_id])?;
        drop(c);
        self.changed();
        Ok(())
    }

    pub fn set_trust_policy(&self, account: &AccountId, name: &str, doc: &str) -> IamResult<()> {
        let role = self.role(account, name)?;
        self.db.write()?.execute(
            "UPDATE iam_roles SET trust_policy = ?2 WHERE role_id = ?1",
            params![role.role_id, doc],
        )?;
        self.changed();
        Ok(())
    }

    pub fn note_password_used(&self, user_id: &str, now_ms: i64) -> IamResult<()> {
        self.db.write()?.execute(
            "UPDATE iam_users SET password_last_used_ms = ?2 WHERE user_id = ?1",
            params![user_id, now_ms],
        )?;
        Ok(())
    }

    pub fn note_role_used(&self, role_id: &str, now_ms: i64, region: &str) -> IamResult<()> {
        self.db.write()?.execute(
            "UPDATE iam_roles SET last_used_ms = ?2, last_used_region = ?3 WHERE role_id = ?1",
            params![role_id, now_ms, region],
        )?;
        Ok(())
    }
}
