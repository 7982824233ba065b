//! Inline policies of users, groups and roles; customer managed policies with versions; and
//! the attachments of managed policies (customer or AWS managed) to users, groups and roles.

use cairn_model::{AccountId, ids};
use rusqlite::{OptionalExtension, Row, params};

use super::SqliteIdentity;
use super::entities::{tags_from_json, tags_to_json};
use crate::identity::model::*;
use crate::identity::{IamError, IamResult};

const POLICY_COLUMNS: &str = "p.policy_id, p.account, p.arn, p.name, p.path, p.description, p.default_version, p.tags, p.created_ms, p.updated_ms,
     (SELECT count(*) FROM iam_attachments a WHERE a.policy_arn = p.arn)";

fn policy_row(r: &Row<'_>) -> rusqlite::Result<ManagedPolicy> {
    let account: String = r.get(1)?;
    Ok(ManagedPolicy {
        policy_id: r.get(0)?,
        account: AccountId::parse(&account).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
        })?,
        arn: r.get(2)?,
        name: r.get(3)?,
        path: r.get(4)?,
        description: r.get(5)?,
        default_version: r.get(6)?,
        tags: tags_from_json(&r.get::<_, String>(7)?),
        created_ms: r.get(8)?,
        updated_ms: r.get(9)?,
        attachment_count: r.get(10)?,
    })
}

fn no_policy(arn: &str) -> IamError {
    IamError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable."))
}

impl SqliteIdentity {
    // ---- inline policies ----

    pub fn put_inline_policy(&self, owner: Owner<'_>, name: &str, document: &str) -> IamResult<()> {
        self.db.write()?.execute(
            "INSERT INTO iam_inline_policies (owner_kind, owner_id, name, document) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (owner_kind, owner_id, name) DO UPDATE SET document = excluded.document",
            params![owner.kind.as_str(), owner.id, name, document],
        )?;
        self.changed();
        Ok(())
    }

    pub fn inline_policy(&self, owner: Owner<'_>, name: &str) -> IamResult<String> {
        self.db.read()
            .query_row(
                "SELECT document FROM iam_inline_policies WHERE owner_kind = ?1 AND owner_id = ?2 AND name = ?3",
                params![owner.kind.as_str(), owner.id, name],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| {
                IamError::NoSuchEntity(format!(
                    "The {} policy with name {name} cannot be found.",
                    owner.kind.as_str()
                ))
            })
    }

    /// Names of an owner's inline policies, sorted.
    pub fn inline_policy_names(&self, owner: Owner<'_>) -> IamResult<Vec<String>> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT name FROM iam_inline_policies WHERE owner_kind = ?1 AND owner_id = ?2 ORDER BY name",
        )?;
        Ok(st
            .query_map(params![owner.kind.as_str(), owner.id], |r| r.get(0))?
            .collect::<Result<_, _>>()?)
    }

    pub fn delete_inline_policy(&self, owner: Owner<'_>, name: &str) -> IamResult<()> {
        let n = self.db.write()?.execute(
            "DELETE FROM iam_inline_policies WHERE owner_kind = ?1 AND owner_id = ?2 AND name = ?3",
            params![owner.kind.as_str(), owner.id, name],
        )?;
        if n == 0 {
            return Err(IamError::NoSuchEntity(format!(
                "The {} policy with name {name} cannot be found.",
                owner.kind.as_str()
            )));
        }
        self.changed();
        Ok(())
    }

    // ---- managed policies ----

    pub fn create_policy(
        &self,
        account: &AccountId,
        new: NewPolicy<'_>,
        now_ms: i64,
    ) -> IamResult<ManagedPolicy> {
        let arn = format!("arn:aws:iam::{account}:policy{}{}", new.path, new.name);
        let policy_id = ids::new_unique_id("ANPA");
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        let r = tx.execute(
            "INSERT INTO iam_policies (policy_id, account, arn, name, name_lower, path, description, default_version, next_version, tags, created_ms, updated_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'v1', 2, ?8, ?9, ?9)",
            params![
                policy_id,
                account.as_str(),
                arn,
                new.name,
                new.name.to_lowercase(),
                new.path,
                new.description,
                tags_to_json(new.tags),
                now_ms
            ],
        );
        match r {
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(IamError::EntityAlreadyExists(format!(
                    "A policy called {} already exists. Duplicate names are not allowed.",
                    new.name
                )));
            }
            r => r?,
        };
        tx.execute(
            "INSERT INTO iam_policy_versions (policy_id, version_id, document, created_ms) VALUES (?1, 'v1', ?2, ?3)",
            params![policy_id, new.document, now_ms],
        )?;
        tx.commit()?;
        drop(c);
        self.changed();
        self.policy(&arn)
    }

    /// A customer managed policy by ARN.
    pub fn policy(&self, arn: &str) -> IamResult<ManagedPolicy> {
        self.db
            .read()
            .query_row(
                &format!("SELECT {POLICY_COLUMNS} FROM iam_policies p WHERE p.arn = ?1"),
                [arn],
                policy_row,
            )
            .optional()?
            .ok_or_else(|| no_policy(arn))
    }

    /// The account's customer managed policies under a path, by name.
    pub fn policies(
        &self,
        account: &AccountId,
        path_prefix: &str,
    ) -> IamResult<Vec<ManagedPolicy>> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {POLICY_COLUMNS} FROM iam_policies p WHERE p.account = ?1 AND substr(p.path, 1, length(?2)) = ?2 ORDER BY p.name_lower"
        ))?;
        Ok(st
            .query_map(params![account.as_str(), path_prefix], policy_row)?
            .collect::<Result<_, _>>()?)
    }

    pub fn delete_policy(&self, arn: &str) -> IamResult<()> {
        let p = self.policy(arn)?;
        if p.attachment_count > 0 {
            return Err(IamError::DeleteConflict(
                "Cannot delete a policy attached to entities.".into(),
            ));
        }
        let c = self.db.write()?;
        let versions: i64 = c.query_row(
            "SELECT count(*) FROM iam_policy_versions WHERE policy_id = ?1",
            [&p.policy_id],
            |r| r.get(0),
        )?;
        if versions > 1 {
            return Err(IamError::DeleteConflict(
                "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.".into(),
            ));
        }
        c.execute(
            "DELETE FROM iam_policy_versions WHERE policy_id = ?1",
            [&p.policy_id],
        )?;
        c.execute(
            "DELETE FROM iam_policies WHERE policy_id = ?1",
            [&p.policy_id],
        )?;
        drop(c);
        self.changed();
        Ok(())
    }

    pub fn create_policy_version(
        &self,
        arn: &str,
        document: &str,
        set_default: bool,
        now_ms: i64,
    ) -> IamResult<PolicyVersion> {
        let p = self.policy(arn)?;
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        let count: i64 = tx.query_row(
            "SELECT count(*) FROM iam_policy_versions WHERE policy_id = ?1",
            [&p.policy_id],
            |r| r.get(0),
        )?;
        if count as usize >= VERSIONS_PER_POLICY {
            return Err(IamError::LimitExceeded(format!(
                "A managed policy can have up to {VERSIONS_PER_POLICY} versions. Before you create a new version, you must delete an existing version."
            )));
        }
        let next: i64 = tx.query_row(
            "SELECT next_version FROM iam_policies WHERE policy_id = ?1",
            [&p.policy_id],
            |r| r.get(0),
        )?;
        let version_id = format!("v{next}");
        tx.execute(
            "INSERT INTO iam_policy_versions (policy_id, version_id, document, created_ms) VALUES (?1, ?2, ?3, ?4)",
            params![p.policy_id, version_id, document, now_ms],
        )?;
        tx.execute(
            "UPDATE iam_policies SET next_version = next_version + 1, updated_ms = ?2 WHERE policy_id = ?1",
            params![p.policy_id, now_ms],
        )?;
        if set_default {
            tx.execute(
                "UPDATE iam_policies SET default_version = ?2 WHERE policy_id = ?1",
                params![p.policy_id, version_id],
            )?;
        }
        tx.commit()?;
        drop(c);
        self.changed();
        Ok(PolicyVersion {
            version_id,
            document: document.into(),
            created_ms: now_ms,
            is_default: set_default,
        })
    }

    pub fn policy_versions(&self, arn: &str) -> IamResult<Vec<PolicyVersion>> {
        let p = self.policy(arn)?;
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT version_id, document, created_ms FROM iam_policy_versions WHERE policy_id = ?1 ORDER BY CAST(substr(version_id, 2) AS INTEGER) DESC",
        )?;
        Ok(st
            .query_map([&p.policy_id], |r| {
                let version_id: String = r.get(0)?;
                Ok(PolicyVersion {
                    is_default: version_id == p.default_version,
                    version_id,
                    document: r.get(1)?,
                    created_ms: r.get(2)?,
                })
            })?
            .collect::<Result<_, _>>()?)
    }

    pub fn policy_version(&self, arn: &str, version_id: &str) -> IamResult<PolicyVersion> {
        self.policy_versions(arn)?
            .into_iter()
            .find(|v| v.version_id == version_id)
            .ok_or_else(|| {
                IamError::NoSuchEntity(format!(
                    "Policy {arn} version {version_id} does not exist or is not attachable."
                ))
            })
    }

    pub fn delete_policy_version(&self, arn: &str, version_id: &str) -> IamResult<()> {
        let p = self.policy(arn)?;
        let v = self.policy_version(arn, version_id)?;
        if v.is_default {
            return Err(IamError::DeleteConflict(
                "Cannot delete the default version of a policy.".into(),
            ));
        }
        self.db.write()?.execute(
            "DELETE FROM iam_policy_versions WHERE policy_id = ?1 AND version_id = ?2",
            params![p.policy_id, version_id],
        )?;
        self.changed();
        Ok(())
    }

    pub fn set_default_policy_version(
        &self,
        arn: &str,
        version_id: &str,
        now_ms: i64,
    ) -> IamResult<()> {
        let p = self.policy(arn)?;
        self.policy_version(arn, version_id)?;
        self.db.write()?.execute(
            "UPDATE iam_policies SET default_version = ?2, updated_ms = ?3 WHERE policy_id = ?1",
            params![p.policy_id, version_id, now_ms],
        )?;
        self.changed();
        Ok(())
    }

    // ---- attachments ----

    /// Attaches a managed policy by ARN; whether the ARN names a policy is the caller's check.
    pub fn attach_policy(&self, account: &AccountId, owner: Owner<'_>, arn: &str) -> IamResult<()> {
        let c = self.db.write()?;
        let count: i64 = c.query_row(
            "SELECT count(*) FROM iam_attachments WHERE owner_kind = ?1 AND owner_id = ?2 AND policy_arn != ?3",
            params![owner.kind.as_str(), owner.id, arn],
            |r| r.get(0),
        )?;
        if count as usize >= ATTACHED_PER_ENTITY {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for {}: {ATTACHED_PER_ENTITY}",
                owner.kind.quota_name()
            )));
        }
        c.execute(
            "INSERT OR IGNORE INTO iam_attachments (account, policy_arn, owner_kind, owner_id) VALUES (?1, ?2, ?3, ?4)",
            params![account.as_str(), arn, owner.kind.as_str(), owner.id],
        )?;
        drop(c);
        self.changed();
        Ok(())
    }

    pub fn detach_policy(&self, owner: Owner<'_>, arn: &str) -> IamResult<()> {
        let n = self.db.write()?.execute(
            "DELETE FROM iam_attachments WHERE owner_kind = ?1 AND owner_id = ?2 AND policy_arn = ?3",
            params![owner.kind.as_str(), owner.id, arn],
        )?;
        if n == 0 {
            return Err(IamError::NoSuchEntity(format!(
                "Policy {arn} was not found."
            )));
        }
        self.changed();
        Ok(())
    }

    /// ARNs of the managed policies attached to an owner, sorted.
    pub fn attached_policies(&self, owner: Owner<'_>) -> IamResult<Vec<String>> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT policy_arn FROM iam_attachments WHERE owner_kind = ?1 AND owner_id = ?2 ORDER BY policy_arn",
        )?;
        Ok(st
            .query_map(params![owner.kind.as_str(), owner.id], |r| r.get(0))?
            .collect::<Result<_, _>>()?)
    }

    /// Who has a policy attached: (kind, id) pairs.
    pub fn policy_entities(
        &self,
        arn: &str,
        account: &AccountId,
    ) -> IamResult<Vec<(OwnerKind, String)>> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT owner_kind, owner_id FROM iam_attachments WHERE policy_arn = ?1 AND account = ?2 ORDER BY owner_kind, owner_id",
        )?;
        let rows: Vec<(String, String)> = st
            .query_map(params![arn, account.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(k, id)| Some((OwnerKind::parse(&k)?, id)))
            .collect())
    }

    /// How many owners in an account have an (AWS managed) policy attached.
    pub fn attachment_count(&self, arn: &str, account: &AccountId) -> IamResult<i64> {
        Ok(self.db.read().query_row(
            "SELECT count(*) FROM iam_attachments WHERE policy_arn = ?1 AND account = ?2",
            params![arn, account.as_str()],
            |r| r.get(0),
        )?)
    }

    /// The default version's document of a customer managed policy.
    pub fn policy_document(&self, arn: &str) -> IamResult<Option<String>> {
        Ok(self
            .db.read()
            .query_row(
                "SELECT v.document FROM iam_policies p JOIN iam_policy_versions v ON v.policy_id = p.policy_id AND v.version_id = p.default_version WHERE p.arn = ?1",
                [arn],
                |r| r.get(0),
            )
            .optional()?)
    }
}
