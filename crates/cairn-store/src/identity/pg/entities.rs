//! IAM users, groups (with their members) and roles on PostgreSQL.

use cairn_model::{AccountId, ids};
use postgres::{Client, Row};

use super::{PgIdentity, account_id, bump, unless_taken};
use crate::error::StoreError;
use crate::identity::model::*;
use crate::identity::sqlite::entities::{tags_from_json, tags_to_json};
use crate::identity::{IamError, IamResult};
use crate::pg::backend;

const USER_COLUMNS: &str = "user_id, account, name, path, created_ms, password_last_used_ms, tags";

fn user_of(r: &Row) -> Result<User, StoreError> {
    let tags: String = r.get(6);
    Ok(User {
        user_id: r.get(0),
        account: account_id(r.get(1))?,
        name: r.get(2),
        path: r.get(3),
        created_ms: r.get(4),
        password_last_used_ms: r.get(5),
        tags: tags_from_json(&tags),
    })
}

const GROUP_COLUMNS: &str = "group_id, account, name, path, created_ms";

fn group_of(r: &Row) -> Result<Group, StoreError> {
    Ok(Group {
        group_id: r.get(0),
        account: account_id(r.get(1))?,
        name: r.get(2),
        path: r.get(3),
        created_ms: r.get(4),
    })
}

const ROLE_COLUMNS: &str = "role_id, account, name, path, trust_policy, description, max_session_duration, tags, created_ms, last_used_ms, last_used_region";

fn role_of(r: &Row) -> Result<Role, StoreError> {
    let tags: String = r.get(7);
    let last_ms: Option<i64> = r.get(9);
    let last_region: Option<String> = r.get(10);
    Ok(Role {
        role_id: r.get(0),
        account: account_id(r.get(1))?,
        name: r.get(2),
        path: r.get(3),
        trust_policy: r.get(4),
        description: r.get(5),
        max_session_duration: r.get(6),
        tags: tags_from_json(&tags),
        created_ms: r.get(8),
        last_used: last_ms.zip(last_region),
    })
}

/// `columns` with each prefixed by a table's alias.
fn prefixed(columns: &str, alias: &str) -> String {
    columns
        .split(", ")
        .map(|col| format!("{alias}.{col}"))
        .collect::<Vec<_>>()
        .join(", ")
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
fn conflicts(
    c: &mut Client,
    kind: OwnerKind,
    id: &str,
) -> Result<Option<&'static str>, postgres::Error> {
    let mut has = |sql: &str| -> Result<bool, postgres::Error> {
        Ok(c.query_opt(&format!("{sql} LIMIT 1"), &[&id])?.is_some())
    };
    if kind == OwnerKind::User {
        if has(
            "SELECT 1 FROM access_keys WHERE principal = 'user:' || $1::text AND session_token_sealed IS NULL",
        )? {
            return Ok(Some("Cannot delete entity, must delete access keys first."));
        }
        if has("SELECT 1 FROM iam_login_profiles WHERE user_id = $1")? {
            return Ok(Some(
                "Cannot delete entity, must delete login profile first.",
            ));
        }
        if has("SELECT 1 FROM iam_mfa_devices WHERE user_id = $1")? {
            return Ok(Some("Cannot delete entity, must delete MFA device first."));
        }
        if has("SELECT 1 FROM iam_group_members WHERE user_id = $1")? {
            return Ok(Some(
                "Cannot delete entity, must remove users from group first.",
            ));
        }
    }
    if kind == OwnerKind::Group && has("SELECT 1 FROM iam_group_members WHERE group_id = $1")? {
        return Ok(Some(
            "Cannot delete entity, must remove users from group first.",
        ));
    }
    let kind = kind.as_str();
    if has(&format!(
        "SELECT 1 FROM iam_inline_policies WHERE owner_kind = '{kind}' AND owner_id = $1"
    ))? {
        return Ok(Some("Cannot delete entity, must delete policies first."));
    }
    if has(&format!(
        "SELECT 1 FROM iam_attachments WHERE owner_kind = '{kind}' AND owner_id = $1"
    ))? {
        return Ok(Some(
            "Cannot delete entity, must detach all policies first.",
        ));
    }
    Ok(None)
}

impl PgIdentity {
    /// Rows of `sql` (taking `$1`, `$2`) as `T`.
    fn entities<T>(
        &self,
        sql: &str,
        account: &AccountId,
        second: &str,
        of: fn(&Row) -> Result<T, StoreError>,
    ) -> IamResult<Vec<T>> {
        let rows = self
            .db
            .read()
            .query(sql, &[&account.as_str(), &second])
            .map_err(backend)?;
        Ok(rows.iter().map(of).collect::<Result<_, _>>()?)
    }

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
        let n = self.db.write_with(|c| {
            bump(c)?;
            c.execute(
                "INSERT INTO iam_users (user_id, account, name, name_lower, path, tags, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT DO NOTHING",
                &[&user.user_id, &account.as_str(), &name, &name.to_lowercase(), &path, &tags_to_json(tags), &now_ms],
            )
        })?;
        if n == 0 {
            return Err(IamError::EntityAlreadyExists(format!(
                "User with name {name} already exists."
            )));
        }
        Ok(user)
    }

    pub fn user(&self, account: &AccountId, name: &str) -> IamResult<User> {
        self.db
            .read()
            .query_opt(
                &format!(
                    "SELECT {USER_COLUMNS} FROM iam_users WHERE account = $1 AND name_lower = $2"
                ),
                &[&account.as_str(), &name.to_lowercase()],
            )
            .map_err(backend)?
            .map(|r| user_of(&r))
            .transpose()?
            .ok_or_else(|| no_user(name))
    }

    /// A user by id (read fresh: see the module `identity::pg`).
    pub fn user_by_id(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        self.db
            .read()
            .query_opt(
                &format!("SELECT {USER_COLUMNS} FROM iam_users WHERE user_id = $1"),
                &[&user_id],
            )
            .map_err(backend)?
            .map(|r| user_of(&r))
            .transpose()
    }

    /// Users whose path starts with `path_prefix`, by name.
    pub fn users(&self, account: &AccountId, path_prefix: &str) -> IamResult<Vec<User>> {
        self.entities(
            &format!(
                "SELECT {USER_COLUMNS} FROM iam_users WHERE account = $1 AND starts_with(path, $2) ORDER BY name_lower"
            ),
            account,
            path_prefix,
            user_of,
        )
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
        let done = self.db.write_with(|c| {
            bump(c)?;
            unless_taken(c, |c| {
                c.execute(
                    "UPDATE iam_users SET name = $2, name_lower = $3, path = $4 WHERE user_id = $1",
                    &[&user.user_id, &to_name, &to_name.to_lowercase(), &to_path],
                )
            })
        })?;
        if done.is_none() {
            return Err(IamError::EntityAlreadyExists(format!(
                "User with name {to_name} already exists."
            )));
        }
        self.user(account, to_name)
    }

    pub fn delete_user(&self, account: &AccountId, name: &str) -> IamResult<()> {
        let user = self.user(account, name)?;
        self.db.write_with(|c| {
            bump(c)?;
            if let Some(why) = conflicts(c, OwnerKind::User, &user.user_id)? {
                return Ok(Err(IamError::DeleteConflict(why.into())));
            }
            c.execute(
                "DELETE FROM access_keys WHERE principal = 'user:' || $1::text",
                &[&user.user_id],
            )?;
            c.execute("DELETE FROM iam_users WHERE user_id = $1", &[&user.user_id])?;
            Ok(Ok(()))
        })?
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
        let n = self.db.write_with(|c| {
            bump(c)?;
            c.execute(
                "INSERT INTO iam_groups (group_id, account, name, name_lower, path, created_ms) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT DO NOTHING",
                &[&g.group_id, &account.as_str(), &name, &name.to_lowercase(), &path, &now_ms],
            )
        })?;
        if n == 0 {
            return Err(IamError::EntityAlreadyExists(format!(
                "Group with name {name} already exists."
            )));
        }
        Ok(g)
    }

    pub fn group(&self, account: &AccountId, name: &str) -> IamResult<Group> {
        self.db
            .read()
            .query_opt(
                &format!(
                    "SELECT {GROUP_COLUMNS} FROM iam_groups WHERE account = $1 AND name_lower = $2"
                ),
                &[&account.as_str(), &name.to_lowercase()],
            )
            .map_err(backend)?
            .map(|r| group_of(&r))
            .transpose()?
            .ok_or_else(|| no_group(name))
    }

    pub fn groups(&self, account: &AccountId, path_prefix: &str) -> IamResult<Vec<Group>> {
        self.entities(
            &format!(
                "SELECT {GROUP_COLUMNS} FROM iam_groups WHERE account = $1 AND starts_with(path, $2) ORDER BY name_lower"
            ),
            account,
            path_prefix,
            group_of,
        )
    }

    pub fn delete_group(&self, account: &AccountId, name: &str) -> IamResult<()> {
        let g = self.group(account, name)?;
        self.db.write_with(|c| {
            bump(c)?;
            if let Some(why) = conflicts(c, OwnerKind::Group, &g.group_id)? {
                return Ok(Err(IamError::DeleteConflict(why.into())));
            }
            c.execute("DELETE FROM iam_groups WHERE group_id = $1", &[&g.group_id])?;
            Ok(Ok(()))
        })?
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
        self.db.write_with(|c| {
            bump(c)?;
            let count: i64 = c
                .query_one(
                    "SELECT count(*) FROM iam_group_members WHERE user_id = $1 AND group_id != $2",
                    &[&u.user_id, &g.group_id],
                )?
                .get(0);
            if count as usize >= GROUPS_PER_USER {
                return Ok(Err(IamError::LimitExceeded(format!(
                    "Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}"
                ))));
            }
            c.execute(
                "INSERT INTO iam_group_members (group_id, user_id, added_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&g.group_id, &u.user_id, &now_ms],
            )?;
            Ok(Ok(()))
        })?
    }

    pub fn remove_user_from_group(
        &self,
        account: &AccountId,
        group: &str,
        user: &str,
    ) -> IamResult<()> {
        let g = self.group(account, group)?;
        let u = self.user(account, user)?;
        let n = self.db.write_with(|c| {
            bump(c)?;
            c.execute(
                "DELETE FROM iam_group_members WHERE group_id = $1 AND user_id = $2",
                &[&g.group_id, &u.user_id],
            )
        })?;
        if n == 0 {
            return Err(IamError::NoSuchEntity(format!(
                "The user with name {user} cannot be found in group {group}."
            )));
        }
        Ok(())
    }

    /// A group's members, by name.
    pub fn group_members(&self, group: &Group) -> IamResult<Vec<User>> {
        let rows = self
            .db
            .read()
            .query(
                &format!(
                    "SELECT {} FROM iam_users u JOIN iam_group_members m USING (user_id) WHERE m.group_id = $1 ORDER BY u.name_lower",
                    prefixed(USER_COLUMNS, "u")
                ),
                &[&group.group_id],
            )
            .map_err(backend)?;
        Ok(rows.iter().map(user_of).collect::<Result<_, _>>()?)
    }

    /// The groups a user is in, by name.
    pub fn groups_of(&self, user: &User) -> IamResult<Vec<Group>> {
        let rows = self
            .db
            .read()
            .query(
                &format!(
                    "SELECT {} FROM iam_groups g JOIN iam_group_members m USING (group_id) WHERE m.user_id = $1 ORDER BY g.name_lower",
                    prefixed(GROUP_COLUMNS, "g")
                ),
                &[&user.user_id],
            )
            .map_err(backend)?;
        Ok(rows.iter().map(group_of).collect::<Result<_, _>>()?)
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
        let n = self.db.write_with(|c| {
            bump(c)?;
            c.execute(
                "INSERT INTO iam_roles (role_id, account, name, name_lower, path, trust_policy, description, max_session_duration, tags, created_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
                &[
                    &role.role_id,
                    &account.as_str(),
                    &role.name,
                    &role.name.to_lowercase(),
                    &role.path,
                    &role.trust_policy,
                    &role.description,
                    &role.max_session_duration,
                    &tags_to_json(&role.tags),
                    &now_ms,
                ],
            )
        })?;
        if n == 0 {
            return Err(IamError::EntityAlreadyExists(format!(
                "Role with name {} already exists.",
                new.name
            )));
        }
        Ok(role)
    }

    pub fn role(&self, account: &AccountId, name: &str) -> IamResult<Role> {
        self.db
            .read()
            .query_opt(
                &format!(
                    "SELECT {ROLE_COLUMNS} FROM iam_roles WHERE account = $1 AND name_lower = $2"
                ),
                &[&account.as_str(), &name.to_lowercase()],
            )
            .map_err(backend)?
            .map(|r| role_of(&r))
            .transpose()?
            .ok_or_else(|| no_role(name))
    }

    /// A role by id (read fresh: see the module `identity::pg`).
    pub fn role_by_id(&self, role_id: &str) -> Result<Option<Role>, StoreError> {
        self.db
            .read()
            .query_opt(
                &format!("SELECT {ROLE_COLUMNS} FROM iam_roles WHERE role_id = $1"),
                &[&role_id],
            )
            .map_err(backend)?
            .map(|r| role_of(&r))
            .transpose()
    }

    pub fn roles(&self, account: &AccountId, path_prefix: &str) -> IamResult<Vec<Role>> {
        self.entities(
            &format!(
                "SELECT {ROLE_COLUMNS} FROM iam_roles WHERE account = $1 AND starts_with(path, $2) ORDER BY name_lower"
            ),
            account,
            path_prefix,
            role_of,
        )
    }

    pub fn delete_role(&self, account: &AccountId, name: &str) -> IamResult<()> {
        let role = self.role(account, name)?;
        self.db.write_with(|c| {
            bump(c)?;
            if let Some(why) = conflicts(c, OwnerKind::Role, &role.role_id)? {
                return Ok(Err(IamError::DeleteConflict(why.into())));
            }
            c.execute("DELETE FROM iam_roles WHERE role_id = $1", &[&role.role_id])?;
            Ok(Ok(()))
        })?
    }

    pub fn set_trust_policy(&self, account: &AccountId, name: &str, doc: &str) -> IamResult<()> {
        let role = self.role(account, name)?;
        self.db.write_with(|c| {
            bump(c)?;
            c.execute(
                "UPDATE iam_roles SET trust_policy = $2 WHERE role_id = $1",
                &[&role.role_id, &doc],
            )
        })?;
        Ok(())
    }

    /// Not an IAM change callers cache (like the embedded store, it leaves the generation).
    pub fn note_password_used(&self, user_id: &str, now_ms: i64) -> IamResult<()> {
        self.db.write_with(|c| {
            c.execute(
                "UPDATE iam_users SET password_last_used_ms = $2 WHERE user_id = $1",
                &[&user_id, &now_ms],
            )
        })?;
        Ok(())
    }

    pub fn note_role_used(&self, role_id: &str, now_ms: i64, region: &str) -> IamResult<()> {
        self.db.write_with(|c| {
            c.execute(
                "UPDATE iam_roles SET last_used_ms = $2, last_used_region = $3 WHERE role_id = $1",
                &[&role_id, &now_ms, &region],
            )
        })?;
        Ok(())
    }
}
