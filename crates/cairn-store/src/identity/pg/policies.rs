//! Inline policies of users, groups and roles; customer managed policies with versions; and
//! the attachments of managed policies (customer or AWS managed) to users, groups and roles,
//! on PostgreSQL.

use cairn_model::{AccountId, ids};
use postgres::Row;

use super::{PgIdentity, account_id, bump};
use crate::error::StoreError;
use crate::identity::model::*;
use crate::identity::sqlite::entities::{tags_from_json, tags_to_json};
use crate::identity::{IamError, IamResult};
use crate::pg::backend;

const POLICY_COLUMNS: &str = "p.policy_id, p.account, p.arn, p.name, p.path, p.description, p.default_version, p.tags, p.created_ms, p.updated_ms,
     (SELECT count(*) FROM iam_attachments a WHERE a.policy_arn = p.arn)";

fn policy_of(r: &Row) -> Result<ManagedPolicy, StoreError> {
    let tags: String = r.get(7);
    Ok(ManagedPolicy {
        policy_id: r.get(0),
        account: account_id(r.get(1))?,
        arn: r.get(2),
        name: r.get(3),
        path: r.get(4),
        description: r.get(5),
        default_version: r.get(6),
        tags: tags_from_json(&tags),
        created_ms: r.get(8),
        updated_ms: r.get(9),
        attachment_count: r.get(10),
    })
}

fn no_policy(arn: &str) -> IamError {
    IamError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable."))
}

fn no_inline(owner: Owner<'_>, name: &str) -> IamError {
    IamError::NoSuchEntity(format!(
        "The {} policy with name {name} cannot be found.",
        owner.kind.as_str()
    ))
}

impl PgIdentity {
    /// The strings in the first column of `sql`'s rows.
    fn strings(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> IamResult<Vec<String>> {
        Ok(self
            .db
            .read()
            .query(sql, params)
            .map_err(backend)?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    // ---- inline policies ----

    pub fn put_inline_policy(&self, owner: Owner<'_>, name: &str, document: &str) -> IamResult<()> {
        self.db.write_with(|c| {
            bump(c)?;
            c.execute(
                "INSERT INTO iam_inline_policies (owner_kind, owner_id, name, document) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (owner_kind, owner_id, name) DO UPDATE SET document = EXCLUDED.document",
                &[&owner.kind.as_str(), &owner.id, &name, &document],
            )
        })?;
        Ok(())
    }

    pub fn inline_policy(&self, owner: Owner<'_>, name: &str) -> IamResult<String> {
        self.db
            .read()
            .query_opt(
                "SELECT document FROM iam_inline_policies WHERE owner_kind = $1 AND owner_id = $2 AND name = $3",
                &[&owner.kind.as_str(), &owner.id, &name],
            )
            .map_err(backend)?
            .map(|r| r.get(0))
            .ok_or_else(|| no_inline(owner, name))
    }

    /// Names of an owner's inline policies, sorted.
    pub fn inline_policy_names(&self, owner: Owner<'_>) -> IamResult<Vec<String>> {
        self.strings(
            "SELECT name FROM iam_inline_policies WHERE owner_kind = $1 AND owner_id = $2 ORDER BY name",
            &[&owner.kind.as_str(), &owner.id],
        )
    }

    pub fn delete_inline_policy(&self, owner: Owner<'_>, name: &str) -> IamResult<()> {
        let n = self.db.write_with(|c| {
            bump(c)?;
            c.execute(
                "DELETE FROM iam_inline_policies WHERE owner_kind = $1 AND owner_id = $2 AND name = $3",
                &[&owner.kind.as_str(), &owner.id, &name],
            )
        })?;
        if n == 0 {
            return Err(no_inline(owner, name));
        }
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
        let created = self.db.write_with(|c| {
            bump(c)?;
            let n = c.execute(
                "INSERT INTO iam_policies (policy_id, account, arn, name, name_lower, path, description, default_version, next_version, tags, created_ms, updated_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'v1', 2, $8, $9, $9) ON CONFLICT DO NOTHING",
                &[
                    &policy_id,
                    &account.as_str(),
                    &arn,
                    &new.name,
                    &new.name.to_lowercase(),
                    &new.path,
                    &new.description,
                    &tags_to_json(new.tags),
                    &now_ms,
                ],
            )?;
            if n == 0 {
                return Ok(false);
            }
            c.execute(
                "INSERT INTO iam_policy_versions (policy_id, version_id, document, created_ms) VALUES ($1, 'v1', $2, $3)",
                &[&policy_id, &new.document, &now_ms],
            )?;
            Ok(true)
        })?;
        if !created {
            return Err(IamError::EntityAlreadyExists(format!(
                "A policy called {} already exists. Duplicate names are not allowed.",
                new.name
            )));
        }
        self.policy(&arn)
    }

    /// A customer managed policy by ARN.
    pub fn policy(&self, arn: &str) -> IamResult<ManagedPolicy> {
        self.db
            .read()
            .query_opt(
                &format!("SELECT {POLICY_COLUMNS} FROM iam_policies p WHERE p.arn = $1"),
                &[&arn],
            )
            .map_err(backend)?
            .map(|r| policy_of(&r))
            .transpose()?
            .ok_or_else(|| no_policy(arn))
    }

    /// The account's customer managed policies under a path, by name.
    pub fn policies(
        &self,
        account: &AccountId,
        path_prefix: &str,
    ) -> IamResult<Vec<ManagedPolicy>> {
        let rows = self
            .db
            .read()
            .query(
                &format!(
                    "SELECT {POLICY_COLUMNS} FROM iam_policies p WHERE p.account = $1 AND starts_with(p.path, $2) ORDER BY p.name_lower"
                ),
                &[&account.as_str(), &path_prefix],
            )
            .map_err(backend)?;
        Ok(rows.iter().map(policy_of).collect::<Result<_, _>>()?)
    }

    pub fn delete_policy(&self, arn: &str) -> IamResult<()> {
        let p = self.policy(arn)?;
        if p.attachment_count > 0 {
            return Err(IamError::DeleteConflict(
                "Cannot delete a policy attached to entities.".into(),
            ));
        }
        self.db.write_with(|c| {
            bump(c)?;
            let versions: i64 = c
                .query_one(
                    "SELECT count(*) FROM iam_policy_versions WHERE policy_id = $1",
                    &[&p.policy_id],
                )?
                .get(0);
            if versions > 1 {
                return Ok(Err(IamError::DeleteConflict(
                    "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.".into(),
                )));
            }
            c.execute(
                "DELETE FROM iam_policy_versions WHERE policy_id = $1",
                &[&p.policy_id],
            )?;
            c.execute(
                "DELETE FROM iam_policies WHERE policy_id = $1",
                &[&p.policy_id],
            )?;
            Ok(Ok(()))
        })?
    }

    pub fn create_policy_version(
        &self,
        arn: &str,
        document: &str,
        set_default: bool,
        now_ms: i64,
    ) -> IamResult<PolicyVersion> {
        let p = self.policy(arn)?;
        let version_id = self.db.write_with(|c| {
            bump(c)?;
            let count: i64 = c
                .query_one(
                    "SELECT count(*) FROM iam_policy_versions WHERE policy_id = $1",
                    &[&p.policy_id],
                )?
                .get(0);
            if count as usize >= VERSIONS_PER_POLICY {
                return Ok(Err(IamError::LimitExceeded(format!(
                    "A managed policy can have up to {VERSIONS_PER_POLICY} versions. Before you create a new version, you must delete an existing version."
                ))));
            }
            let next: i64 = c
                .query_one(
                    "SELECT next_version FROM iam_policies WHERE policy_id = $1",
                    &[&p.policy_id],
                )?
                .get(0);
            let version_id = format!("v{next}");
            c.execute(
                "INSERT INTO iam_policy_versions (policy_id, version_id, document, created_ms) VALUES ($1, $2, $3, $4)",
                &[&p.policy_id, &version_id, &document, &now_ms],
            )?;
            c.execute(
                "UPDATE iam_policies SET next_version = next_version + 1, updated_ms = $2 WHERE policy_id = $1",
                &[&p.policy_id, &now_ms],
            )?;
            if set_default {
                c.execute(
                    "UPDATE iam_policies SET default_version = $2 WHERE policy_id = $1",
                    &[&p.policy_id, &version_id],
                )?;
            }
            Ok(Ok(version_id))
        })??;
        Ok(PolicyVersion {
            version_id,
            document: document.into(),
            created_ms: now_ms,
            is_default: set_default,
        })
    }

    pub fn policy_versions(&self, arn: &str) -> IamResult<Vec<PolicyVersion>> {
        let p = self.policy(arn)?;
        Ok(self
            .db
            .read()
            .query(
                "SELECT version_id, document, created_ms FROM iam_policy_versions WHERE policy_id = $1 ORDER BY CAST(substr(version_id, 2) AS BIGINT) DESC",
                &[&p.policy_id],
            )
            .map_err(backend)?
            .iter()
            .map(|r| {
                let version_id: String = r.get(0);
                PolicyVersion {
                    is_default: version_id == p.default_version,
                    version_id,
                    document: r.get(1),
                    created_ms: r.get(2),
                }
            })
            .collect())
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
        self.db.write_with(|c| {
            bump(c)?;
            c.execute(
                "DELETE FROM iam_policy_versions WHERE policy_id = $1 AND version_id = $2",
                &[&p.policy_id, &version_id],
            )
        })?;
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
        self.db.write_with(|c| {
            bump(c)?;
            c.execute(
                "UPDATE iam_policies SET default_version = $2, updated_ms = $3 WHERE policy_id = $1",
                &[&p.policy_id, &version_id, &now_ms],
            )
        })?;
        Ok(())
    }

    // ---- attachments ----

    /// Attaches a managed policy by ARN; whether the ARN names a policy is the caller's check.
    pub fn attach_policy(&self, account: &AccountId, owner: Owner<'_>, arn: &str) -> IamResult<()> {
        self.db.write_with(|c| {
            bump(c)?;
            let count: i64 = c
                .query_one(
                    "SELECT count(*) FROM iam_attachments WHERE owner_kind = $1 AND owner_id = $2 AND policy_arn != $3",
                    &[&owner.kind.as_str(), &owner.id, &arn],
                )?
                .get(0);
            if count as usize >= ATTACHED_PER_ENTITY {
                return Ok(Err(IamError::LimitExceeded(format!(
                    "Cannot exceed quota for {}: {ATTACHED_PER_ENTITY}",
                    owner.kind.quota_name()
                ))));
            }
            c.execute(
                "INSERT INTO iam_attachments (account, policy_arn, owner_kind, owner_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[&account.as_str(), &arn, &owner.kind.as_str(), &owner.id],
            )?;
            Ok(Ok(()))
        })?
    }

    pub fn detach_policy(&self, owner: Owner<'_>, arn: &str) -> IamResult<()> {
        let n = self.db.write_with(|c| {
            bump(c)?;
            c.execute(
                "DELETE FROM iam_attachments WHERE owner_kind = $1 AND owner_id = $2 AND policy_arn = $3",
                &[&owner.kind.as_str(), &owner.id, &arn],
            )
        })?;
        if n == 0 {
            return Err(IamError::NoSuchEntity(format!(
                "Policy {arn} was not found."
            )));
        }
        Ok(())
    }

    /// ARNs of the managed policies attached to an owner, sorted.
    pub fn attached_policies(&self, owner: Owner<'_>) -> IamResult<Vec<String>> {
        self.strings(
            "SELECT policy_arn FROM iam_attachments WHERE owner_kind = $1 AND owner_id = $2 ORDER BY policy_arn",
            &[&owner.kind.as_str(), &owner.id],
        )
    }

    /// Who has a policy attached: (kind, id) pairs.
    pub fn policy_entities(
        &self,
        arn: &str,
        account: &AccountId,
    ) -> IamResult<Vec<(OwnerKind, String)>> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT owner_kind, owner_id FROM iam_attachments WHERE policy_arn = $1 AND account = $2 ORDER BY owner_kind, owner_id",
                &[&arn, &account.as_str()],
            )
            .map_err(backend)?
            .iter()
            .filter_map(|r| Some((OwnerKind::parse(r.get(0))?, r.get(1))))
            .collect())
    }

    /// How many owners in an account have an (AWS managed) policy attached.
    pub fn attachment_count(&self, arn: &str, account: &AccountId) -> IamResult<i64> {
        Ok(self
            .db
            .read()
            .query_one(
                "SELECT count(*) FROM iam_attachments WHERE policy_arn = $1 AND account = $2",
                &[&arn, &account.as_str()],
            )
            .map_err(backend)?
            .get(0))
    }

    /// The default version's document of a customer managed policy.
    pub fn policy_document(&self, arn: &str) -> IamResult<Option<String>> {
        Ok(self
            .db
            .read()
            .query_opt(
                "SELECT v.document FROM iam_policies p JOIN iam_policy_versions v ON v.policy_id = p.policy_id AND v.version_id = p.default_version WHERE p.arn = $1",
                &[&arn],
            )
            .map_err(backend)?
            .map(|r| r.get(0)))
    }
}
