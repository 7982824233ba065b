//! What a principal's identity policies are: the documents that decide its calls.

use super::error::IamResult;
use super::{IdentityStore, Owner, OwnerKind, Role, User};

/// A principal's identity policies: inline documents, and the ARNs of attached managed
/// policies (customer managed ones resolved to their default version's document here; AWS
/// managed ones left for the caller's catalogue).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grants {
    pub documents: Vec<String>,
    pub aws_managed: Vec<String>,
}

impl IdentityStore {
    fn add_owner(&self, g: &mut Grants, owner: Owner<'_>) -> IamResult<()> {
        for name in self.inline_policy_names(owner)? {
            g.documents.push(self.inline_policy(owner, &name)?);
        }
        for arn in self.attached_policies(owner)? {
            match self.policy_document(&arn)? {
                Some(doc) => g.documents.push(doc),
                None => g.aws_managed.push(arn),
            }
        }
        Ok(())
    }

    /// A user's policies, with those of its groups.
    pub fn user_grants(&self, user: &User) -> IamResult<Grants> {
        let mut g = Grants::default();
        self.add_owner(
            &mut g,
            Owner {
                kind: OwnerKind::User,
                id: &user.user_id,
                name: &user.name,
            },
        )?;
        for group in self.groups_of(user)? {
            self.add_owner(
                &mut g,
                Owner {
                    kind: OwnerKind::Group,
                    id: &group.group_id,
                    name: &group.name,
                },
            )?;
        }
        Ok(g)
    }

    /// A role's permission policies.
    pub fn role_grants(&self, role: &Role) -> IamResult<Grants> {
        let mut g = Grants::default();
        self.add_owner(
            &mut g,
            Owner {
                kind: OwnerKind::Role,
                id: &role.role_id,
                name: &role.name,
            },
        )?;
        Ok(g)
    }
}
